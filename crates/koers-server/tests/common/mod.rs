//! Shared by the integration tests: a fake build output (what scripts/build.sh writes to dist/)
//! in a temp folder, and a plan founded as a worker's phone founds it ([`Founding`], [`Worker`]).
#![allow(dead_code)]

use std::io::{Read as _, Write as _};
use std::path::{Path, PathBuf};

pub const WASM: &str = "/koers-app-0123456789abcdef_bg.wasm";
pub const JS: &str = "/koers-app-0123456789abcdef.js";
pub const CSS: &str = "/style-0123456789abcdef.css";

/// The exact text of the inline module script (what the CSP hash must cover).
pub const INLINE_SCRIPT: &str = "import init from \"/koers-app-0123456789abcdef.js\"; \
await init({ module_or_path: \"/koers-app-0123456789abcdef_bg.wasm\" });";

pub struct Dist {
    pub dir: tempfile::TempDir,
}

impl Dist {
    pub fn path(&self) -> &Path {
        self.dir.path()
    }
    pub fn file(&self, url_path: &str) -> Vec<u8> {
        std::fs::read(self.path().join(url_path.trim_start_matches('/'))).unwrap()
    }
}

pub fn index_html() -> String {
    format!(
        "<!DOCTYPE html>\n<html lang=\"nl\">\n<head>\n<meta charset=\"utf-8\">\n<title>Koers</title>\n\
<link rel=\"manifest\" href=\"/manifest.webmanifest\">\n\
<link rel=\"stylesheet\" href=\"{CSS}\">\n\
<link rel=\"modulepreload\" href=\"{JS}\" crossorigin=\"anonymous\">\n\
<link rel=\"preload\" href=\"{WASM}\" crossorigin=\"anonymous\" as=\"fetch\" type=\"application/wasm\">\n\
<script type=\"module\">{INLINE_SCRIPT}</script>\n\
</head>\n<body></body>\n</html>\n"
    )
}

fn repeat(text: &str, bytes: usize) -> Vec<u8> {
    text.as_bytes()
        .iter()
        .copied()
        .cycle()
        .take(bytes)
        .collect()
}

pub fn wasm_bytes() -> Vec<u8> {
    let mut bytes = b"\0asm\x01\0\0\0".to_vec();
    bytes.extend((0..8192u32).map(|i| (i % 251) as u8 & 0x3f));
    bytes
}

pub fn gzip(data: &[u8]) -> Vec<u8> {
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    enc.write_all(data).unwrap();
    enc.finish().unwrap()
}

pub fn brotli(data: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    {
        let mut w = brotli::CompressorWriter::new(&mut out, 4096, 11, 22);
        w.write_all(data).unwrap();
    }
    out
}

/// Decodes a body by its Content-Encoding (`None`: identity).
pub fn decode(encoding: Option<&str>, body: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    match encoding {
        None => out.extend_from_slice(body),
        Some("gzip") => {
            flate2::read::GzDecoder::new(body)
                .read_to_end(&mut out)
                .unwrap();
        }
        Some("br") => {
            brotli::Decompressor::new(body, 4096)
                .read_to_end(&mut out)
                .unwrap();
        }
        Some(other) => panic!("unexpected encoding {other}"),
    }
    out
}

/// Writes the fake dist: index.html, a hashed wasm with `.br` and `.gz` siblings, a hashed js
/// and css (no siblings), sw.js, manifest.webmanifest and an icon.
pub fn make_dist() -> Dist {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path();
    let write = |name: &str, data: &[u8]| {
        let path: PathBuf = p.join(name.trim_start_matches('/'));
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, data).unwrap();
    };
    write("index.html", index_html().as_bytes());
    let wasm = wasm_bytes();
    write(WASM, &wasm);
    write(&format!("{WASM}.br"), &brotli(&wasm));
    write(&format!("{WASM}.gz"), &gzip(&wasm));
    write(
        JS,
        &repeat("export function hello() { return 'hallo wereld'; }\n", 4000),
    );
    write(
        CSS,
        &repeat(
            "body { font-family: system-ui, sans-serif; margin: 0; }\n",
            2000,
        ),
    );
    write(
        "sw.js",
        &repeat("self.addEventListener('fetch', (event) => {});\n", 1500),
    );
    write(
        "manifest.webmanifest",
        br##"{"name":"Koers","short_name":"Koers","start_url":"/","display":"standalone","background_color":"#ffffff","theme_color":"#1d4ed8","icons":[{"src":"/icons/icon-192.png","sizes":"192x192","type":"image/png"}]}"##,
    );
    write(
        "icons/icon-192.png",
        b"\x89PNG\r\n\x1a\nnot really a png but fine for headers",
    );
    Dist { dir }
}

/// What a started koers-server printed up to its "Koers is running: open http://ADDR …" line.
pub struct Startup {
    /// The whole "Koers is running" line.
    pub line: String,
    /// `ADDR` of that line: where the server is (its public URL's host and port).
    pub addr: String,
    /// The first administrator's one-time link, printed on the line before while the
    /// organisation has no account ([`professional::link_in_line`]).
    pub link: Option<String>,
}

/// Waits (up to 20 s) for a started koers-server's "Koers is running: open http://ADDR …" line on
/// its piped stdout, noting the first administrator's link printed before it. Kills the child if
/// the line never comes. The rest of stdout is read (and dropped) as long as the child runs.
#[allow(dead_code)] // not every test file starts the binary
pub fn startup_line(child: &mut std::process::Child) -> Startup {
    use std::io::{BufRead as _, BufReader};
    const PREFIX: &str = "Koers is running: open http://";
    let stdout = child.stdout.take().expect("stdout is piped");
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            // Once the startup line came nobody listens: the rest is read all the same, so that
            // the server never waits on a full pipe.
            let _ = tx.send(line);
        }
    });
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    let mut link = None;
    loop {
        let left = deadline.saturating_duration_since(std::time::Instant::now());
        match rx.recv_timeout(left) {
            Ok(line) if line.starts_with(PREFIX) => {
                let addr = line
                    .trim_start_matches(PREFIX)
                    .split(' ')
                    .next()
                    .unwrap_or_default()
                    .to_owned();
                return Startup { line, addr, link };
            }
            Ok(line) => {
                if let Some(found) = professional::link_in_line(&line) {
                    link = Some(found);
                }
            }
            Err(_) => {
                let _ = child.kill();
                panic!("koers-server printed no startup line");
            }
        }
    }
}

/// Milliseconds since the epoch, now: what a phone stamps its operations with.
pub fn now_millis() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as u64
}

/// A new plan as its worker's phone makes it: the operations to send with `POST /api/plans`,
/// and, given the device token the server answers with, the [`Worker`] who goes on writing.
pub struct Founding {
    pub ops: Vec<koers_core::Op>,
    plan: koers_core::PlanId,
    author: koers_core::Author,
}

impl Founding {
    /// A plan for `child` with its worker (Lotte) and one parent (Mirjam).
    pub fn new(child: &str) -> Founding {
        use koers_core::founding::{plan_ops, NewPlan};
        let new = NewPlan {
            child_name: child.into(),
            start_date: chrono::NaiveDate::from_ymd_opt(2026, 1, 5).unwrap(),
            founder_name: "Lotte".into(),
            members: vec![("Mirjam".into(), koers_core::Role::Parent)],
        };
        let node = koers_core::NodeId(uuid::Uuid::new_v4().as_u64_pair().0);
        let mut clock = koers_core::Clock::new(node);
        let (plan, founder, ops) = plan_ops(&new, &mut clock, now_millis(), uuid::Uuid::new_v4);
        Founding {
            plan,
            author: koers_core::Author::new(founder, node),
            ops,
        }
    }

    /// The worker, once the server has founded the plan and answered with `token`.
    pub fn worker(self, token: &str) -> Worker {
        let replica = koers_core::Replica::from_ops(self.plan, &self.ops);
        let parent = koers_core::Plan::from_replica(&replica)
            .members
            .iter()
            .find(|m| m.role == koers_core::Role::Parent)
            .unwrap()
            .id;
        Worker {
            plan: self.plan,
            token: token.to_owned(),
            parent,
            author: self.author,
            replica,
        }
    }
}

/// A plan founded through the API, its worker's device, and the worker writing.
pub struct Worker {
    pub plan: koers_core::PlanId,
    pub token: String,
    /// The plan's parent (Mirjam).
    pub parent: koers_core::MemberId,
    pub author: koers_core::Author,
    pub replica: koers_core::Replica,
}

impl Worker {
    /// One change by the worker, authored as a phone does and kept in the worker's replica.
    pub fn edit(&mut self, edit: koers_core::Edit) -> koers_core::Op {
        let view = koers_core::Plan::from_replica(&self.replica);
        let op = self
            .author
            .change(
                &self.replica,
                &view,
                koers_core::OpId(uuid::Uuid::new_v4()),
                now_millis(),
                edit,
            )
            .unwrap();
        let _ = self.replica.apply(&op);
        op
    }

    /// `n` new contact moments, one op each.
    pub fn moments(&mut self, n: usize) -> Vec<koers_core::Op> {
        use koers_core::{ContactMomentId, ContactStatus, Edit, Entity, Field};
        (0..n)
            .map(|_| {
                let moment = Entity::ContactMoment(ContactMomentId(uuid::Uuid::new_v4()));
                self.edit(Edit::new(moment, Field::Status, ContactStatus::Happened))
            })
            .collect()
    }
}

/// A software passkey (WebAuthn authenticator) for the sign-in tests.
pub mod passkey;

/// A professional signed in through the enrolment endpoints, to found plans with.
pub mod professional;
