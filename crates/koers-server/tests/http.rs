//! The router, exercised in-process.

mod common;

use std::sync::Arc;

use axum::body::Body;
use axum::http::{header, HeaderMap, Request, StatusCode};
use axum::Router;
use base64::Engine as _;
use common::*;
use koers_database::{
    AcceptOutcome, AccessEntry, AccountId, AccountRecord, Append, Appended, CeremonyId, Database,
    DatabaseError, DbFuture, DeviceId, DeviceRecord, Enrolling, EnrolmentId, EnrolmentOutcome,
    EnrolmentRecord, InviteId, InviteRecord, MemberId, MembershipRecord, NewDevice, NewEnrolment,
    NewInvite, NewSession, OpId, OpsPage, OrganisationId, OrganisationPlan, OrganisationRecord,
    PasskeyRecord, PlanId, PlanOwner, SecretHash, Seq, SessionId, SessionRecord, Timestamp,
};
use koers_server::{app_router, build_app, Config};
use sha2::Digest as _;
use tower::ServiceExt as _;

struct App {
    router: Router,
    dist: Dist,
    _data: tempfile::TempDir,
}

fn config(data_dir: std::path::PathBuf, dist_dir: std::path::PathBuf) -> Config {
    Config {
        addr: "127.0.0.1:0".parse().unwrap(),
        data_dir,
        dist_dir,
        database_url: None,
        behind_proxy: false,
        public_url: None,
    }
}

async fn app() -> App {
    let dist = make_dist();
    let data = tempfile::tempdir().unwrap();
    let config = config(data.path().join("nested/data"), dist.path().to_path_buf());
    let router = build_app(&config).await.unwrap();
    assert!(
        config.data_dir.join("koers.sqlite3").is_file(),
        "database file created"
    );
    App {
        router,
        dist,
        _data: data,
    }
}

struct Reply {
    status: StatusCode,
    headers: HeaderMap,
    body: Vec<u8>,
}

impl Reply {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).map(|v| v.to_str().unwrap())
    }
    fn decoded(&self) -> Vec<u8> {
        decode(self.header("content-encoding"), &self.body)
    }
}

async fn get(router: &Router, path: &str, accept_encoding: Option<&str>) -> Reply {
    let mut request = Request::builder().uri(path);
    if let Some(ae) = accept_encoding {
        request = request.header(header::ACCEPT_ENCODING, ae);
    }
    let response = router
        .clone()
        .oneshot(request.body(Body::empty()).unwrap())
        .await
        .unwrap();
    let status = response.status();
    let headers = response.headers().clone();
    let body = axum::body::to_bytes(response.into_body(), usize::MAX)
        .await
        .unwrap()
        .to_vec();
    Reply {
        status,
        headers,
        body,
    }
}

#[tokio::test]
async fn mime_types() {
    let app = app().await;
    for (path, expected) in [
        (WASM, "application/wasm"),
        (JS, "text/javascript"),
        (CSS, "text/css"),
        ("/sw.js", "text/javascript"),
        ("/manifest.webmanifest", "application/manifest+json"),
        ("/index.html", "text/html"),
        ("/", "text/html"),
        ("/icons/icon-192.png", "image/png"),
    ] {
        let reply = get(&app.router, path, Some("br, gzip")).await;
        assert_eq!(reply.status, StatusCode::OK, "{path}");
        let content_type = reply.header("content-type").unwrap();
        assert!(content_type.starts_with(expected), "{path}: {content_type}");
        assert_eq!(
            reply.header("x-content-type-options"),
            Some("nosniff"),
            "{path}"
        );
    }
}

#[tokio::test]
async fn precompressed_wasm_is_negotiated() {
    let app = app().await;
    let original = app.dist.file(WASM);
    for (accept, expected) in [
        (Some("gzip, deflate, br, zstd"), Some("br")),
        (Some("br"), Some("br")),
        (Some("gzip"), Some("gzip")),
        (Some("gzip;q=1, br;q=0"), Some("gzip")),
        (None, None),
    ] {
        let reply = get(&app.router, WASM, accept).await;
        assert_eq!(reply.status, StatusCode::OK);
        assert_eq!(
            reply.header("content-encoding"),
            expected,
            "Accept-Encoding {accept:?}"
        );
        assert_eq!(reply.header("content-type"), Some("application/wasm"));
        assert_eq!(reply.decoded(), original, "Accept-Encoding {accept:?}");
        match expected {
            Some("br") => assert_eq!(
                reply.body,
                app.dist.file(&format!("{WASM}.br")),
                "the .br file itself"
            ),
            Some("gzip") => assert_eq!(
                reply.body,
                app.dist.file(&format!("{WASM}.gz")),
                "the .gz file itself"
            ),
            _ => {}
        }
        let vary: Vec<_> = reply.headers.get_all("vary").iter().collect();
        assert_eq!(vary.len(), 1, "one Vary header: {vary:?}");
        assert!(vary[0]
            .to_str()
            .unwrap()
            .to_ascii_lowercase()
            .contains("accept-encoding"));
    }
}

#[tokio::test]
async fn files_without_precompressed_sibling_are_compressed_on_the_fly() {
    let app = app().await;
    for path in [JS, CSS, "/sw.js", "/manifest.webmanifest", "/", "/plan"] {
        let original = app.dist.file(if path.starts_with("/plan") || path == "/" {
            "/index.html"
        } else {
            path
        });
        for (accept, expected) in [
            ("br", Some("br")),
            ("gzip", Some("gzip")),
            ("identity", None),
        ] {
            let reply = get(&app.router, path, Some(accept)).await;
            assert_eq!(reply.status, StatusCode::OK, "{path}");
            assert_eq!(
                reply.header("content-encoding"),
                expected,
                "{path} with {accept}"
            );
            assert_eq!(reply.decoded(), original, "{path} with {accept}");
            assert!(
                reply.header("vary").unwrap().contains("accept-encoding"),
                "{path}"
            );
            if expected.is_some() {
                assert!(reply.body.len() < original.len(), "{path} got smaller");
            }
        }
    }
}

#[tokio::test]
async fn api_json_is_compressed_and_never_stored() {
    let app = app().await;
    let reply = get(&app.router, "/healthz", Some("gzip")).await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(reply.header("cache-control"), Some("no-store"));
    assert!(reply.header("vary").unwrap().contains("accept-encoding"));
    // 59 bytes of JSON: above tower-http's 32-byte minimum, so it is compressed.
    assert_eq!(reply.header("content-encoding"), Some("gzip"));
    let json: serde_json::Value = serde_json::from_slice(&reply.decoded()).unwrap();
    let instance = json["instance"].as_str().unwrap_or_default();
    assert_eq!(instance.len(), 12, "{json}");
    assert_eq!(
        json,
        serde_json::json!({ "status": "ok", "version": env!("CARGO_PKG_VERSION"), "instance": instance })
    );
}

#[tokio::test]
async fn healthz_reports_ok() {
    let app = app().await;
    let reply = get(&app.router, "/healthz", None).await;
    assert_eq!(reply.status, StatusCode::OK);
    assert!(reply
        .header("content-type")
        .unwrap()
        .starts_with("application/json"));
    let json: serde_json::Value = serde_json::from_slice(&reply.body).unwrap();
    assert_eq!(json["status"], "ok");
    assert_eq!(json["version"], env!("CARGO_PKG_VERSION"));
}

/// A database that fails every call with `error`.
struct BrokenDatabase(DatabaseError);

impl BrokenDatabase {
    fn fail<T: Send + 'static>(&self) -> DbFuture<'_, T> {
        let error = self.0.clone();
        Box::pin(async move { Err(error) })
    }
}

impl Database for BrokenDatabase {
    fn health(&self) -> DbFuture<'_, ()> {
        self.fail()
    }
    fn create_plan<'a>(
        &'a self,
        _: PlanId,
        _: &'a [koers_database::NewOp],
        _: &'a NewDevice,
        _: Option<PlanOwner>,
        _: Timestamp,
    ) -> DbFuture<'a, Vec<Seq>> {
        self.fail()
    }
    fn plan_exists(&self, _: PlanId) -> DbFuture<'_, bool> {
        self.fail()
    }
    fn append_ops<'a>(&'a self, _: Append<'a>) -> DbFuture<'a, Appended> {
        self.fail()
    }
    fn ops_page(&self, _: PlanId, _: Seq, _: u32) -> DbFuture<'_, OpsPage> {
        self.fail()
    }
    fn head(&self, _: PlanId) -> DbFuture<'_, Seq> {
        self.fail()
    }
    fn op_bodies<'a>(&'a self, _: PlanId, _: &'a [OpId]) -> DbFuture<'a, Vec<(OpId, String)>> {
        self.fail()
    }
    fn ops_per_author_since(&self, _: PlanId, _: Timestamp) -> DbFuture<'_, Vec<(MemberId, u32)>> {
        self.fail()
    }
    fn device_by_token<'a>(
        &'a self,
        _: &'a SecretHash,
        _: Timestamp,
    ) -> DbFuture<'a, Option<DeviceRecord>> {
        self.fail()
    }
    fn devices(&self, _: PlanId) -> DbFuture<'_, Vec<DeviceRecord>> {
        self.fail()
    }
    fn revoke_device(&self, _: PlanId, _: DeviceId, _: Timestamp) -> DbFuture<'_, bool> {
        self.fail()
    }
    fn create_invite<'a>(&'a self, _: &'a NewInvite, _: Timestamp) -> DbFuture<'a, InviteRecord> {
        self.fail()
    }
    fn invites(&self, _: PlanId) -> DbFuture<'_, Vec<InviteRecord>> {
        self.fail()
    }
    fn revoke_invite(&self, _: PlanId, _: InviteId, _: Timestamp) -> DbFuture<'_, bool> {
        self.fail()
    }
    fn invite_by_code<'a>(&'a self, _: &'a SecretHash) -> DbFuture<'a, Option<InviteRecord>> {
        self.fail()
    }
    fn accept_invite<'a>(
        &'a self,
        _: &'a SecretHash,
        _: &'a NewDevice,
        _: Timestamp,
    ) -> DbFuture<'a, AcceptOutcome> {
        self.fail()
    }
    fn add_device<'a>(&'a self, _: &'a NewDevice, _: Timestamp) -> DbFuture<'a, DeviceRecord> {
        self.fail()
    }
    fn rotate_device_token<'a>(&'a self, _: DeviceId, _: &'a SecretHash) -> DbFuture<'a, bool> {
        self.fail()
    }
    fn first_organisation<'a>(
        &'a self,
        _: &'a OrganisationRecord,
    ) -> DbFuture<'a, (OrganisationRecord, bool)> {
        self.fail()
    }
    fn create_organisation<'a>(&'a self, _: &'a OrganisationRecord) -> DbFuture<'a, ()> {
        self.fail()
    }
    fn organisation(&self, _: OrganisationId) -> DbFuture<'_, Option<OrganisationRecord>> {
        self.fail()
    }
    fn create_enrolment<'a>(
        &'a self,
        _: &'a NewEnrolment,
        _: Timestamp,
    ) -> DbFuture<'a, EnrolmentRecord> {
        self.fail()
    }
    fn enrolment_by_code<'a>(&'a self, _: &'a SecretHash) -> DbFuture<'a, Option<EnrolmentRecord>> {
        self.fail()
    }
    fn enrolments(&self, _: OrganisationId) -> DbFuture<'_, Vec<EnrolmentRecord>> {
        self.fail()
    }
    fn revoke_enrolment(
        &self,
        _: OrganisationId,
        _: EnrolmentId,
        _: Timestamp,
    ) -> DbFuture<'_, bool> {
        self.fail()
    }
    fn use_enrolment<'a>(
        &'a self,
        _: EnrolmentId,
        _: &'a Enrolling,
        _: Timestamp,
    ) -> DbFuture<'a, EnrolmentOutcome> {
        self.fail()
    }
    fn account(&self, _: AccountId) -> DbFuture<'_, Option<AccountRecord>> {
        self.fail()
    }
    fn accounts(&self, _: OrganisationId) -> DbFuture<'_, Vec<AccountRecord>> {
        self.fail()
    }
    fn deactivate_account(
        &self,
        _: AccountId,
        _: Timestamp,
    ) -> DbFuture<'_, Vec<(PlanId, DeviceId)>> {
        self.fail()
    }
    fn passkey<'a>(&'a self, _: &'a str) -> DbFuture<'a, Option<PasskeyRecord>> {
        self.fail()
    }
    fn update_passkey<'a>(&'a self, _: &'a str, _: &'a str, _: Timestamp) -> DbFuture<'a, ()> {
        self.fail()
    }
    fn put_ceremony<'a>(&'a self, _: CeremonyId, _: &'a str, _: Timestamp) -> DbFuture<'a, ()> {
        self.fail()
    }
    fn take_ceremony(&self, _: CeremonyId, _: Timestamp) -> DbFuture<'_, Option<String>> {
        self.fail()
    }
    fn create_session<'a>(
        &'a self,
        _: &'a NewSession,
        _: Timestamp,
    ) -> DbFuture<'a, SessionRecord> {
        self.fail()
    }
    fn session_by_token<'a>(
        &'a self,
        _: &'a SecretHash,
        _: Timestamp,
    ) -> DbFuture<'a, Option<SessionRecord>> {
        self.fail()
    }
    fn revoke_session(&self, _: SessionId, _: Timestamp) -> DbFuture<'_, bool> {
        self.fail()
    }
    fn memberships(&self, _: AccountId) -> DbFuture<'_, Vec<MembershipRecord>> {
        self.fail()
    }
    fn plan_organisation(&self, _: PlanId) -> DbFuture<'_, Option<OrganisationId>> {
        self.fail()
    }
    fn organisation_plans(&self, _: OrganisationId) -> DbFuture<'_, Vec<OrganisationPlan>> {
        self.fail()
    }
    fn log_access<'a>(&'a self, _: &'a [AccessEntry]) -> DbFuture<'a, ()> {
        self.fail()
    }
    fn access_log(
        &self,
        _: OrganisationId,
        _: Option<Timestamp>,
        _: u32,
    ) -> DbFuture<'_, Vec<AccessEntry>> {
        self.fail()
    }
}

/// A database that cannot be reached (PostgreSQL restarting) is a 503 that says nothing was
/// stored and to try again; any other failure a 500. Neither tells what went wrong inside.
#[tokio::test]
async fn a_database_that_cannot_be_reached_is_503_and_other_failures_500() {
    let dist = make_dist();
    for (error, status, code) in [
        (
            DatabaseError::Unavailable("connection refused".into()),
            StatusCode::SERVICE_UNAVAILABLE,
            "database_unavailable",
        ),
        (
            DatabaseError::Failed("disk on fire".into()),
            StatusCode::INTERNAL_SERVER_ERROR,
            "server_error",
        ),
    ] {
        let router = app_router(dist.path(), &index_html(), Arc::new(BrokenDatabase(error)));
        let path = format!("/api/plans/{}/ops", uuid::Uuid::new_v4());
        let request = Request::builder()
            .uri(path)
            .header(header::AUTHORIZATION, "Bearer some-token")
            .body(Body::empty())
            .unwrap();
        let response = router.oneshot(request).await.unwrap();
        assert_eq!(response.status(), status);
        let body = axum::body::to_bytes(response.into_body(), usize::MAX)
            .await
            .unwrap();
        let json: serde_json::Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(json["error"], code, "{json}");
        let text = String::from_utf8_lossy(&body);
        assert!(
            !text.contains("refused") && !text.contains("fire"),
            "{text}"
        );
    }
}

#[tokio::test]
async fn healthz_is_503_when_the_database_is_unusable() {
    let dist = make_dist();
    let broken = BrokenDatabase(DatabaseError::Failed("disk on fire".into()));
    let router = app_router(dist.path(), &index_html(), Arc::new(broken));
    let reply = get(&router, "/healthz", None).await;
    assert_eq!(reply.status, StatusCode::SERVICE_UNAVAILABLE);
    let json: serde_json::Value = serde_json::from_slice(&reply.body).unwrap();
    assert_eq!(json["status"], "unavailable");
    assert!(
        !String::from_utf8_lossy(&reply.body).contains("fire"),
        "no internals leaked"
    );
    assert_eq!(reply.header("cache-control"), Some("no-store"));
}

#[tokio::test]
async fn cache_control_per_file() {
    let app = app().await;
    let immutable = "public, max-age=31536000, immutable";
    for (path, expected) in [
        (WASM, immutable),
        (JS, immutable),
        (CSS, immutable),
        ("/index.html", "no-cache"),
        ("/", "no-cache"),
        ("/plan", "no-cache"),
        ("/sw.js", "no-cache"),
        ("/manifest.webmanifest", "no-cache"),
        ("/icons/icon-192.png", "public, max-age=604800"),
        ("/healthz", "no-store"),
        ("/api/ops", "no-store"),
        ("/missing.js", "no-store"),
        ("/koers-app-fedcba9876543210_bg.wasm", "no-store"),
    ] {
        for accept in [None, Some("br")] {
            let reply = get(&app.router, path, accept).await;
            assert_eq!(
                reply.header("cache-control"),
                Some(expected),
                "{path} {accept:?}"
            );
        }
    }
}

#[tokio::test]
async fn not_modified_keeps_cache_headers() {
    let app = app().await;
    let first = get(&app.router, WASM, Some("br")).await;
    let last_modified = first
        .header("last-modified")
        .expect("last-modified")
        .to_string();
    let request = Request::builder()
        .uri(WASM)
        .header(header::ACCEPT_ENCODING, "br")
        .header(header::IF_MODIFIED_SINCE, last_modified)
        .body(Body::empty())
        .unwrap();
    let response = app.router.clone().oneshot(request).await.unwrap();
    assert_eq!(response.status(), StatusCode::NOT_MODIFIED);
    assert_eq!(
        response.headers()["cache-control"],
        "public, max-age=31536000, immutable"
    );
    assert!(response.headers().get("content-encoding").is_none());
}

fn expected_hash() -> String {
    let digest = sha2::Sha256::digest(INLINE_SCRIPT.as_bytes());
    format!(
        "'sha256-{}'",
        base64::engine::general_purpose::STANDARD.encode(digest)
    )
}

#[tokio::test]
async fn security_headers_on_html() {
    let app = app().await;
    for path in ["/", "/index.html", "/plan/123"] {
        let reply = get(&app.router, path, Some("gzip")).await;
        assert_eq!(reply.status, StatusCode::OK);
        assert_eq!(reply.header("x-content-type-options"), Some("nosniff"));
        assert_eq!(reply.header("referrer-policy"), Some("no-referrer"));
        assert_eq!(reply.header("x-frame-options"), Some("DENY"));
        assert_eq!(
            reply.header("permissions-policy"),
            Some("camera=(), microphone=(), geolocation=()")
        );
        assert_eq!(
            reply.header("cross-origin-opener-policy"),
            Some("same-origin")
        );
        let csp = reply.header("content-security-policy").unwrap();
        assert!(
            csp.contains(&format!(
                "script-src 'self' 'wasm-unsafe-eval' {};",
                expected_hash()
            )),
            "{csp}"
        );
        assert_eq!(
            csp.matches("'sha256-").count(),
            1,
            "one inline script, one hash: {csp}"
        );
        for directive in [
            "default-src 'self'",
            "style-src 'self';",
            "img-src 'self' data:",
            "connect-src 'self'",
            "manifest-src 'self'",
            "worker-src 'self'",
            "object-src 'none'",
            "base-uri 'none'",
            "form-action 'self'",
            "frame-ancestors 'none'",
        ] {
            assert!(csp.contains(directive), "{directive} missing from {csp}");
        }
        assert!(!csp.contains("unsafe-inline"), "{csp}");
        assert!(!csp.contains("'unsafe-eval'"), "{csp}");
    }
    // ... and on everything else too.
    for path in [WASM, "/healthz", "/missing.js", "/api/x"] {
        let reply = get(&app.router, path, None).await;
        assert!(reply.header("content-security-policy").is_some(), "{path}");
        assert_eq!(reply.header("x-frame-options"), Some("DENY"), "{path}");
    }
}

#[tokio::test]
async fn spa_fallback_for_routes_but_404_for_missing_files() {
    let app = app().await;
    let index = app.dist.file("/index.html");
    for path in ["/plan", "/plan/123", "/plan/123/", "/instellingen?tab=2"] {
        let reply = get(&app.router, path, None).await;
        assert_eq!(reply.status, StatusCode::OK, "{path}");
        assert!(
            reply
                .header("content-type")
                .unwrap()
                .starts_with("text/html"),
            "{path}"
        );
        assert_eq!(reply.body, index, "{path}");
    }
    for path in [
        "/missing.js",
        "/plan/missing.css",
        "/koers-app-fedcba9876543210_bg.wasm",
    ] {
        let reply = get(&app.router, path, None).await;
        assert_eq!(reply.status, StatusCode::NOT_FOUND, "{path}");
        assert!(
            !reply
                .header("content-type")
                .unwrap()
                .starts_with("text/html"),
            "{path}"
        );
    }
    for path in ["/api", "/api/ops", "/api/plans/1/ops"] {
        let reply = get(&app.router, path, None).await;
        assert_eq!(reply.status, StatusCode::NOT_FOUND, "{path}");
        assert!(
            reply
                .header("content-type")
                .unwrap()
                .starts_with("application/json"),
            "{path}"
        );
    }
    // No path traversal out of dist.
    let reply = get(&app.router, "/../Cargo.toml", None).await;
    assert_ne!(reply.status, StatusCode::OK);
}

#[tokio::test]
async fn startup_checks_in_process() {
    let data = tempfile::tempdir().unwrap();
    let empty_dist = tempfile::tempdir().unwrap();
    let config = config(data.path().to_path_buf(), empty_dist.path().to_path_buf());
    let err = build_app(&config).await.unwrap_err().to_string();
    assert!(err.contains("Run the build first"), "{err}");
    assert!(err.contains("index.html"), "{err}");

    let dist = make_dist();
    let file = data.path().join("a-file");
    std::fs::write(&file, "x").unwrap();
    let config = Config {
        data_dir: file.join("data"),
        dist_dir: dist.path().to_path_buf(),
        ..config
    };
    let err = build_app(&config).await.unwrap_err().to_string();
    assert!(err.contains("KOERS_DATA"), "{err}");
    // A PostgreSQL that cannot be reached: one line naming the variable, never the URL (it may
    // hold a password).
    let config = Config {
        database_url: Some("postgres://koers:geheim@127.0.0.1:1/koers".into()),
        ..config
    };
    let err = build_app(&config).await.unwrap_err().to_string();
    assert!(err.contains("KOERS_DATABASE_URL"), "{err}");
    assert!(!err.contains("geheim"), "{err}");
}

#[test]
fn config_from_variables() {
    let lookup = |pairs: &'static [(&'static str, &'static str)]| {
        move |name: &str| {
            pairs
                .iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| v.into())
        }
    };
    let config = Config::from_lookup(lookup(&[])).unwrap();
    assert_eq!(config.addr, "127.0.0.1:8080".parse().unwrap());
    assert_eq!(config.data_dir, std::path::PathBuf::from("./data"));
    assert_eq!(config.dist_dir, std::path::PathBuf::from("./dist"));
    assert_eq!((config.database_url, config.behind_proxy), (None, false));
    let config = Config::from_lookup(lookup(&[
        ("KOERS_ADDR", "localhost:9000"),
        ("KOERS_DATA", "/srv/koers"),
        ("KOERS_DATABASE_URL", "postgres://koers:geheim@db/koers"),
        ("KOERS_BEHIND_PROXY", "1"),
    ]))
    .unwrap();
    assert_eq!(
        config.database_url.as_deref(),
        Some("postgres://koers:geheim@db/koers")
    );
    assert!(config.behind_proxy);
    assert!(!format!("{config:?}").contains("geheim"), "{config:?}");
    assert_eq!(config.addr, "127.0.0.1:9000".parse().unwrap());
    assert_eq!(config.data_dir, std::path::PathBuf::from("/srv/koers"));
    assert_eq!(
        Config::from_lookup(lookup(&[("KOERS_ADDR", "[::1]:80")]))
            .unwrap()
            .addr
            .port(),
        80
    );
    for bad in ["nonsense", "127.0.0.1", "127.0.0.1:99999", "example.org:80"] {
        let err =
            Config::from_lookup(|name| (name == "KOERS_ADDR").then(|| bad.into())).unwrap_err();
        assert!(
            err.to_string().contains("Set KOERS_ADDR to host:port."),
            "{bad}: {err}"
        );
    }
}
