//! How response headers are decided: Content-Security-Policy (with hashes of the inline scripts
//! of `index.html`), Cache-Control per path, Content-Type fixes and `Vary`.

use axum::extract::Request;
use axum::http::header::{HeaderValue, VARY};
use axum::middleware::Next;
use axum::response::Response;
use base64::Engine as _;
use sha2::{Digest, Sha256};

/// Hashed build output: cache for a year, never revalidate.
pub const CACHE_IMMUTABLE: &str = "public, max-age=31536000, immutable";
/// Files under `/icons/`: not hashed, but rarely change.
pub const CACHE_ICONS: &str = "public, max-age=604800";
/// The app shell, the service worker and the manifest: always revalidate.
pub const CACHE_REVALIDATE: &str = "no-cache";
/// API answers and errors: never store.
pub const CACHE_NONE: &str = "no-store";

/// The security headers sent on every response, apart from the CSP.
pub const SECURITY_HEADERS: [(&str, &str); 5] = [
    ("x-content-type-options", "nosniff"),
    ("referrer-policy", "no-referrer"),
    ("x-frame-options", "DENY"),
    (
        "permissions-policy",
        "camera=(), microphone=(), geolocation=()",
    ),
    ("cross-origin-opener-policy", "same-origin"),
];

/// `sha256-<base64>` of a script or style text, as CSP expects it.
pub fn csp_hash(text: &str) -> String {
    // The HTML parser normalises CR LF and lone CR to LF before the browser hashes the text.
    let normalised = text.replace("\r\n", "\n").replace('\r', "\n");
    let digest = Sha256::digest(normalised.as_bytes());
    format!(
        "sha256-{}",
        base64::engine::general_purpose::STANDARD.encode(digest)
    )
}

/// The CSP hashes of every inline (no `src`) executable `<script>` of an HTML document, in
/// document order, without duplicates.
pub fn inline_script_hashes(html: &str) -> Vec<String> {
    inline_element_hashes(html, "script")
}

/// The CSP hashes of every inline `<style>` element of an HTML document.
pub fn inline_style_hashes(html: &str) -> Vec<String> {
    inline_element_hashes(html, "style")
}

/// The Content-Security-Policy for the app whose `index.html` is `index_html`.
pub fn content_security_policy(index_html: &str) -> String {
    let mut script_src = String::from("'self' 'wasm-unsafe-eval'");
    for hash in inline_script_hashes(index_html) {
        script_src.push_str(&format!(" '{hash}'"));
    }
    let mut style_src = String::from("'self'");
    for hash in inline_style_hashes(index_html) {
        style_src.push_str(&format!(" '{hash}'"));
    }
    format!(
        "default-src 'self'; script-src {script_src}; style-src {style_src}; \
         img-src 'self' data:; connect-src 'self'; manifest-src 'self'; worker-src 'self'; \
         object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
    )
}

/// Script `type`s whose inline content the browser executes (and so checks against the CSP).
const EXECUTABLE_SCRIPT_TYPES: [&str; 8] = [
    "",
    "module",
    "importmap",
    "speculationrules",
    "text/javascript",
    "application/javascript",
    "text/ecmascript",
    "application/ecmascript",
];

fn inline_element_hashes(html: &str, element: &str) -> Vec<String> {
    // ASCII lowercasing keeps byte offsets, so positions found in `lower` index `html` too.
    let lower = html.to_ascii_lowercase();
    let open = format!("<{element}");
    let close = format!("</{element}");
    let mut hashes = Vec::new();
    let mut pos = 0;
    while pos < lower.len() {
        let next_tag = lower[pos..].find(&open).map(|i| pos + i);
        let next_comment = lower[pos..].find("<!--").map(|i| pos + i);
        let start = match (next_tag, next_comment) {
            (None, _) => break,
            (Some(tag), Some(comment)) if comment < tag => {
                pos = lower[comment + 4..]
                    .find("-->")
                    .map_or(lower.len(), |i| comment + 4 + i + 3);
                continue;
            }
            (Some(tag), _) => tag,
        };
        let after_name = start + open.len();
        // `<scripts>` or `<script-x>` are other elements.
        if !matches!(lower.as_bytes().get(after_name), Some(b) if b.is_ascii_whitespace() || *b == b'>' || *b == b'/')
        {
            pos = after_name;
            continue;
        }
        let Some(tag_end) = end_of_start_tag(html, after_name) else {
            break;
        };
        let attrs = parse_attributes(&html[after_name..tag_end]);
        let content_start = tag_end + 1;
        let content_end = lower[content_start..]
            .find(&close)
            .map_or(lower.len(), |i| content_start + i);
        pos = content_end;

        let has_src = attrs.iter().any(|(name, _)| name == "src");
        let executable = element != "script"
            || attrs
                .iter()
                .find(|(name, _)| name == "type")
                .is_none_or(|(_, value)| {
                    let value = value.as_deref().unwrap_or("").trim().to_ascii_lowercase();
                    EXECUTABLE_SCRIPT_TYPES.contains(&value.as_str())
                });
        if !has_src && executable {
            let hash = csp_hash(&html[content_start..content_end]);
            if !hashes.contains(&hash) {
                hashes.push(hash);
            }
        }
    }
    hashes
}

/// The index of the `>` closing a start tag whose attributes begin at `from` (quotes respected).
fn end_of_start_tag(html: &str, from: usize) -> Option<usize> {
    let mut quote: Option<u8> = None;
    for (i, &b) in html.as_bytes()[from..].iter().enumerate() {
        match quote {
            Some(q) if b == q => quote = None,
            Some(_) => {}
            None if b == b'"' || b == b'\'' => quote = Some(b),
            None if b == b'>' => return Some(from + i),
            None => {}
        }
    }
    None
}

/// Attribute names (lowercased) and values of a start tag's inside.
fn parse_attributes(s: &str) -> Vec<(String, Option<String>)> {
    let b = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        while i < b.len() && (b[i].is_ascii_whitespace() || b[i] == b'/') {
            i += 1;
        }
        let name_start = i;
        while i < b.len() && !b[i].is_ascii_whitespace() && b[i] != b'=' && b[i] != b'/' {
            i += 1;
        }
        if name_start == i {
            break;
        }
        let name = s[name_start..i].to_ascii_lowercase();
        while i < b.len() && b[i].is_ascii_whitespace() {
            i += 1;
        }
        let mut value = None;
        if i < b.len() && b[i] == b'=' {
            i += 1;
            while i < b.len() && b[i].is_ascii_whitespace() {
                i += 1;
            }
            if i < b.len() && (b[i] == b'"' || b[i] == b'\'') {
                let q = b[i];
                let v_start = i + 1;
                i = v_start;
                while i < b.len() && b[i] != q {
                    i += 1;
                }
                value = Some(s[v_start..i.min(b.len())].to_string());
                i += 1;
            } else {
                let v_start = i;
                while i < b.len() && !b[i].is_ascii_whitespace() {
                    i += 1;
                }
                value = Some(s[v_start..i].to_string());
            }
        }
        out.push((name, value));
    }
    out
}

/// The last path segment of a URL path.
fn file_name(path: &str) -> &str {
    path.rsplit('/').next().unwrap_or("")
}

/// Whether a URL path ends in a file name with an extension (`/app.js`), as opposed to an app
/// route (`/plan`, `/plan/42`, `/`).
pub fn has_extension(path: &str) -> bool {
    let name = file_name(path);
    matches!(name.rfind('.'), Some(i) if i > 0 && i + 1 < name.len())
}

/// Whether a file name carries a content hash (Trunk's, or scripts/build-wasm.mjs's): `-` followed by 12–16 lowercase hex digits
/// and then `.` or `_` (`koers-app-4f1c2a9b0d3e5f67_bg.wasm`, `style-0123456789abcdef.css`).
/// Trunk prints the 64-bit hash without leading zeros, hence fewer than 16 digits now and then.
pub fn is_hashed_file_name(name: &str) -> bool {
    let b = name.as_bytes();
    b.iter()
        .enumerate()
        .filter(|(_, &c)| c == b'-')
        .any(|(dash, _)| {
            let digits = b[dash + 1..]
                .iter()
                .take_while(|c| matches!(c, b'0'..=b'9' | b'a'..=b'f'))
                .count();
            (12..=16).contains(&digits)
                && matches!(b.get(dash + 1 + digits), Some(b'.') | Some(b'_'))
        })
}

/// Cache-Control for a response of the static file service.
///
/// `path` is the requested URL path, `spa_fallback` whether `index.html` was served for it.
pub fn static_cache_control(path: &str, status: u16, spa_fallback: bool) -> &'static str {
    match status {
        200..=299 | 304 => {}
        300..=399 => return CACHE_REVALIDATE,
        _ => return CACHE_NONE,
    }
    let name = file_name(path);
    if spa_fallback
        || path.ends_with('/')
        || matches!(name, "index.html" | "sw.js" | "manifest.webmanifest")
    {
        CACHE_REVALIDATE
    } else if is_hashed_file_name(name) {
        CACHE_IMMUTABLE
    } else if path.starts_with("/icons/") {
        CACHE_ICONS
    } else {
        CACHE_REVALIDATE
    }
}

/// The Content-Type for a file extension, where we want to be sure rather than rely on the MIME
/// guess table (`None`: keep what the file service chose).
pub fn content_type_for(path: &str) -> Option<&'static str> {
    if !has_extension(path) {
        return None;
    }
    let ext = file_name(path).rsplit('.').next()?.to_ascii_lowercase();
    Some(match ext.as_str() {
        "wasm" => "application/wasm",
        "js" | "mjs" => "text/javascript; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        "html" => "text/html; charset=utf-8",
        "webmanifest" => "application/manifest+json",
        "json" | "map" => "application/json",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "ico" => "image/x-icon",
        "txt" => "text/plain; charset=utf-8",
        _ => return None,
    })
}

/// Middleware: every response carries exactly one `Vary` header that lists `accept-encoding`
/// (merging what the file service and the compression layer may have added).
pub async fn vary_accept_encoding(request: Request, next: Next) -> Response {
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    let mut tokens: Vec<String> = Vec::new();
    for value in headers.get_all(VARY) {
        for token in value.to_str().unwrap_or("").split(',') {
            let token = token.trim();
            if !token.is_empty() && !tokens.iter().any(|t| t.eq_ignore_ascii_case(token)) {
                tokens.push(token.to_string());
            }
        }
    }
    if !tokens
        .iter()
        .any(|t| t.eq_ignore_ascii_case("accept-encoding"))
    {
        tokens.push("accept-encoding".to_string());
    }
    if let Ok(value) = HeaderValue::from_str(&tokens.join(", ")) {
        headers.insert(VARY, value);
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_only_inline_executable_scripts() {
        let html = "<html><head>\
            <script src=\"/x.js\"></script>\
            <!-- <script>commented()</script> -->\
            <script type=\"application/json\">{\"a\":1}</script>\
            <SCRIPT type=module>import init from '/a.js';\r\ninit();</SCRIPT>\
            <script>one()</script><scripts>no</scripts>\
            <style>body{color:red}</style>\
            </head></html>";
        let hashes = inline_script_hashes(html);
        assert_eq!(
            hashes,
            vec![
                csp_hash("import init from '/a.js';\ninit();"),
                csp_hash("one()")
            ]
        );
        assert_eq!(inline_style_hashes(html), vec![csp_hash("body{color:red}")]);
        // Known value: sha256 of the empty string.
        assert_eq!(
            csp_hash(""),
            "sha256-47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU="
        );
    }

    #[test]
    fn csp_lists_hashes_and_nothing_unsafe() {
        let csp = content_security_policy("<script type=\"module\">go()</script>");
        assert!(csp.contains(&format!(
            "script-src 'self' 'wasm-unsafe-eval' '{}';",
            csp_hash("go()")
        )));
        assert!(csp.contains("style-src 'self';"));
        assert!(!csp.contains("unsafe-inline"));
        assert!(csp.ends_with("frame-ancestors 'none'"));
    }

    #[test]
    fn hashed_names() {
        for yes in [
            "koers-app-4f1c2a9b0d3e5f67_bg.wasm",
            "koers-app-4f1c2a9b0d3e5f67.js",
            "style-0123456789abcdef.css",
            "style-123456789abcdef.css",
            "koers-app-0123456789abcdef_bg.wasm.br",
            "split_koers_other_screens-0123456789abcdef.wasm",
            "__wasm_split-0123456789abcdef.js",
        ] {
            assert!(is_hashed_file_name(yes), "{yes}");
        }
        for no in [
            "sw.js",
            "index.html",
            "manifest.webmanifest",
            "style-abc.css",
            "my-decade.css",
            "icon-192.png",
        ] {
            assert!(!is_hashed_file_name(no), "{no}");
        }
    }

    #[test]
    fn cache_policy() {
        assert_eq!(
            static_cache_control("/koers-app-0123456789abcdef_bg.wasm", 200, false),
            CACHE_IMMUTABLE
        );
        assert_eq!(
            static_cache_control("/koers-app-0123456789abcdef_bg.wasm", 304, false),
            CACHE_IMMUTABLE
        );
        assert_eq!(
            static_cache_control("/koers-app-0123456789abcdef_bg.wasm", 404, false),
            CACHE_NONE
        );
        assert_eq!(static_cache_control("/sw.js", 200, false), CACHE_REVALIDATE);
        assert_eq!(
            static_cache_control("/manifest.webmanifest", 200, false),
            CACHE_REVALIDATE
        );
        assert_eq!(static_cache_control("/", 200, false), CACHE_REVALIDATE);
        assert_eq!(static_cache_control("/plan", 200, true), CACHE_REVALIDATE);
        assert_eq!(
            static_cache_control("/icons/icon-192.png", 200, false),
            CACHE_ICONS
        );
        assert_eq!(
            static_cache_control("/robots.txt", 200, false),
            CACHE_REVALIDATE
        );
    }

    #[test]
    fn extensions() {
        assert!(has_extension("/missing.js"));
        assert!(has_extension("/a/b.webmanifest"));
        assert!(!has_extension("/plan"));
        assert!(!has_extension("/"));
        assert!(!has_extension("/.well-known"));
        assert!(!has_extension("/plan/"));
    }
}
