//! Koers server: serves the PWA (precompressed, cached, with a strict CSP) and holds the sync log
//! of plan operations, with devices, invites and an event stream per plan, or for all the plans
//! on a phone in one request. The database is a [`koers_database::Database`]: embedded SQLite by
//! default, or PostgreSQL (`KOERS_DATABASE_URL`), on which several instances can run behind a
//! load balancer: they share nothing but the database and its [`koers_database::Bus`]. The HTTP layer is in
//! [`controllers`], one module per resource; each API route is declared once, by its handler's
//! `#[utoipa::path]`, which also puts it in the OpenAPI document ([`openapi`]).
//!
//! `main.rs` only reads the configuration and calls [`run`]; tests build the router with
//! [`build_app`] or [`app_router`] and call it in-process.

pub mod access_log;
pub mod auth;
pub mod controllers;
pub mod error;
pub mod headers;
pub mod limits;
pub mod openapi;
pub mod passkeys;
pub mod plans;
pub mod static_files;
pub mod wire;

use std::ffi::OsString;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use axum::http::{header, HeaderName, HeaderValue, StatusCode};
use axum::routing::{any, get};
use axum::{middleware, Router};
use tower_http::compression::predicate::{DefaultPredicate, Predicate as _};
use tower_http::compression::CompressionLayer;
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::services::ServeDir;
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::trace::TraceLayer;

use koers_database::{Bus, Database, DatabaseError, LocalBus, Notice};
use koers_database_postgres::{PostgresBus, PostgresDatabase};
use koers_database_sqlite::SqliteDatabase;
pub use webauthn_rs::prelude::Url;

use crate::controllers::health;

pub const DEFAULT_ADDR: &str = "127.0.0.1:8080";
pub const DEFAULT_DATA: &str = "./data";
pub const DEFAULT_DIST: &str = "./dist";
/// The database file inside the data directory.
pub const DB_FILE: &str = "koers.sqlite3";
/// Largest request body accepted (sync batches included).
pub const MAX_REQUEST_BODY: usize = 2 * 1024 * 1024;

/// Where to listen, where the data lives and where the built app is.
#[derive(Clone, PartialEq, Eq)]
pub struct Config {
    pub addr: SocketAddr,
    /// The SQLite database's folder (unused with `database_url`).
    pub data_dir: PathBuf,
    pub dist_dir: PathBuf,
    /// A PostgreSQL URL: the database of every instance of an organisation's Koers.
    pub database_url: Option<String>,
    /// Requests come through a reverse proxy that sets `X-Forwarded-For` to the client's
    /// address (the rate limits then count that address, not the proxy's).
    pub behind_proxy: bool,
    /// The address people open Koers at (`KOERS_PUBLIC_URL`): passkeys are bound to it, and
    /// links are made with it. `None`: `http://localhost:<port>`, the port Koers listens on
    /// ([`Config::public_url_at`]).
    pub public_url: Option<Url>,
}

impl std::fmt::Debug for Config {
    // By hand: the database URL may hold a password.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Config")
            .field("addr", &self.addr)
            .field("data_dir", &self.data_dir)
            .field("dist_dir", &self.dist_dir)
            .field("database_url", &self.database_url.as_ref().map(|_| "…"))
            .field("behind_proxy", &self.behind_proxy)
            .field("public_url", &self.public_url.as_ref().map(Url::as_str))
            .finish()
    }
}

impl Config {
    /// Reads `KOERS_ADDR` (default `127.0.0.1:8080`), `KOERS_DATA` (default `./data`),
    /// `KOERS_DIST` (default `./dist`), `KOERS_DATABASE_URL` (default: none, SQLite in
    /// `KOERS_DATA`), `KOERS_BEHIND_PROXY` (`1` or `true`) and `KOERS_PUBLIC_URL` (default
    /// `http://localhost:<port>`). An empty variable counts as unset.
    pub fn from_env() -> Result<Self, StartupError> {
        Self::from_lookup(|name| std::env::var_os(name))
    }

    /// Like [`Config::from_env`], with the variables looked up by `lookup`.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<OsString>) -> Result<Self, StartupError> {
        let var = |name: &str| lookup(name).filter(|value| !value.is_empty());
        let addr = match var("KOERS_ADDR") {
            Some(value) => parse_addr(&value.to_string_lossy())?,
            None => parse_addr(DEFAULT_ADDR)?,
        };
        let public_url = match var("KOERS_PUBLIC_URL") {
            Some(value) => Some(parse_public_url(&value.to_string_lossy())?),
            None => None,
        };
        Ok(Self {
            addr,
            public_url,
            data_dir: var("KOERS_DATA").map_or_else(|| PathBuf::from(DEFAULT_DATA), PathBuf::from),
            dist_dir: var("KOERS_DIST").map_or_else(|| PathBuf::from(DEFAULT_DIST), PathBuf::from),
            database_url: var("KOERS_DATABASE_URL").map(|url| url.to_string_lossy().into_owned()),
            behind_proxy: var("KOERS_BEHIND_PROXY").is_some_and(|value| {
                matches!(value.to_string_lossy().trim(), "1" | "true" | "yes")
            }),
        })
    }
}

/// Parses `host:port` where host is an IP address (`127.0.0.1`, `0.0.0.0`, `[::1]`) or
/// `localhost`. No DNS lookups.
pub fn parse_addr(value: &str) -> Result<SocketAddr, StartupError> {
    let trimmed = value.trim();
    if let Ok(addr) = trimmed.parse::<SocketAddr>() {
        return Ok(addr);
    }
    if let Some((host, port)) = trimmed.rsplit_once(':') {
        if host.eq_ignore_ascii_case("localhost") {
            if let Ok(port) = port.parse::<u16>() {
                return Ok(SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), port));
            }
        }
    }
    Err(StartupError::InvalidAddr {
        value: value.to_string(),
    })
}

impl Config {
    /// The public URL of a Koers listening on `port` (the one it bound, when `KOERS_ADDR` asked
    /// for any free port with `:0`).
    pub fn public_url_at(&self, port: u16) -> Url {
        self.public_url.clone().unwrap_or_else(|| {
            Url::parse(&format!("http://localhost:{port}")).expect("a localhost URL parses")
        })
    }
}

/// Reads `KOERS_PUBLIC_URL`: an http(s) URL with a domain name (passkeys cannot be bound to an
/// IP address), without a path.
pub fn parse_public_url(value: &str) -> Result<Url, StartupError> {
    let invalid = || StartupError::InvalidPublicUrl {
        value: value.to_string(),
    };
    let url = Url::parse(value.trim()).map_err(|_| invalid())?;
    let plain = matches!(url.scheme(), "http" | "https")
        && url.domain().is_some()
        && matches!(url.path(), "" | "/")
        && url.query().is_none();
    if plain {
        Ok(url)
    } else {
        Err(invalid())
    }
}

/// Why Koers could not start. Each message is one line: what is wrong, then what to do.
#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    #[error("Koers cannot start: KOERS_ADDR {value:?} is not an address like 127.0.0.1:8080. Set KOERS_ADDR to host:port.")]
    InvalidAddr { value: String },

    #[error("Koers cannot start: KOERS_PUBLIC_URL {value:?} is not an address like https://koers.example.org (http or https, a domain name rather than an IP address, no path). Set it to the address people open Koers at.")]
    InvalidPublicUrl { value: String },

    #[error("Koers cannot start: address {addr} is already in use (is Koers already running?). Stop the other program or set KOERS_ADDR to a free port, like 127.0.0.1:8081.")]
    AddrInUse { addr: SocketAddr },

    #[error("Koers cannot start: it cannot listen on {addr} ({source}). Set KOERS_ADDR to an address of this computer with a free port, like 127.0.0.1:8080.")]
    Bind {
        addr: SocketAddr,
        source: std::io::Error,
    },

    #[error("Koers cannot start: the app files are missing ({} was not found). Run the build first: `scripts/build.sh` in the project folder, or set KOERS_DIST to the folder that holds index.html.", path.display())]
    MissingDist { path: PathBuf },

    #[error("Koers cannot start: the app file {} cannot be read ({source}). Rebuild the app or set KOERS_DIST to a folder that holds a readable index.html.", path.display())]
    UnreadableDist {
        path: PathBuf,
        source: std::io::Error,
    },

    #[error("Koers cannot start: the data folder {} cannot be created or written ({source}). Set KOERS_DATA to a folder you can write to.", path.display())]
    DataDir {
        path: PathBuf,
        source: std::io::Error,
    },

    #[error("Koers cannot start: the database {} cannot be opened ({source}). Set KOERS_DATA to Koers's own data folder, with free disk space.", path.display())]
    Database {
        path: PathBuf,
        source: DatabaseError,
    },

    #[error("Koers cannot add an organisation without a name: run `koers-server add-organisation \"Name of the organisation\"`.")]
    OrganisationName,

    #[error("Koers cannot start: it could not prepare its organisation in the database ({source}). Check that the database is writable and start Koers again.")]
    FirstStart { source: DatabaseError },

    // Never the URL itself: it may hold a password.
    #[error("Koers cannot start: the PostgreSQL database of KOERS_DATABASE_URL cannot be used ({source}). Check that PostgreSQL runs and that the URL's host, port, user, password and database are right.")]
    Postgres { source: DatabaseError },

    #[error("Koers cannot start: the async runtime could not be created ({0}). Free some memory or threads and start Koers again.")]
    Runtime(std::io::Error),

    #[error("Koers stopped: the server failed ({0}). Start Koers again.")]
    Serve(std::io::Error),
}

impl StartupError {
    /// Process exit code: 2 for anything that prevents starting, 1 for a failure while running.
    pub fn exit_code(&self) -> u8 {
        match self {
            StartupError::Serve(_) => 1,
            _ => 2,
        }
    }
}

/// Where this Koers is reached and how long a professional stays signed in.
pub struct Site {
    pub public_url: Url,
    /// The relying party of the professionals' passkeys, at `public_url`.
    pub passkeys: passkeys::Passkeys,
    pub session_time: std::time::Duration,
    /// How long an enrolment link (an administrator's invitation) stays valid.
    pub enrolment_time: std::time::Duration,
}

/// How long a professional's session lasts: a working month, so that a phone is not signed out
/// in the middle of a visit, yet a lost phone's session ends by itself.
pub const SESSION_TIME: std::time::Duration = std::time::Duration::from_secs(30 * 24 * 3600);
/// How long an administrator's invitation link is valid.
pub const ENROLMENT_TIME: std::time::Duration = std::time::Duration::from_secs(7 * 24 * 3600);

impl Site {
    pub fn new(public_url: Url) -> Result<Site, StartupError> {
        let passkeys =
            passkeys::Passkeys::new(&public_url).map_err(|_| StartupError::InvalidPublicUrl {
                value: public_url.to_string(),
            })?;
        Ok(Site {
            public_url,
            passkeys,
            session_time: SESSION_TIME,
            enrolment_time: ENROLMENT_TIME,
        })
    }

    /// `http://localhost:8080`: what in-process tests use.
    pub fn local() -> Site {
        Site::new(Url::parse("http://localhost:8080").expect("parses"))
            .expect("localhost carries passkeys")
    }

    /// The link that opens a screen of the app (`path` with its `#fragment`).
    pub fn link(&self, path: &str) -> String {
        format!("{}{}", self.public_url.as_str().trim_end_matches('/'), path)
    }
}

/// Shared state of the handlers.
#[derive(Clone)]
pub struct AppState {
    pub db: Arc<dyn Database>,
    /// Tells every instance's event streams what happened to a plan.
    pub bus: Arc<dyn Bus>,
    pub files: ServeDir,
    /// Plans in memory, for authorization and event streams.
    pub plans: Arc<plans::Plans>,
    /// What the server refuses to keep or serve ([`limits`]).
    pub limits: Arc<limits::Limits>,
    /// This process among the instances of one database (random, reported by `/healthz`).
    pub instance: Arc<str>,
    /// Other instances may write to the same database (PostgreSQL): a push first asks the
    /// database for the plan's head and reads what it missed, so that its write rarely meets a
    /// moved head (which costs reading the whole plan again).
    pub shared_database: bool,
    pub site: Arc<Site>,
    pub access_log: Arc<access_log::AccessLog>,
}

impl AppState {
    /// Tells every instance (this one included) about a committed change. A notice that cannot
    /// be sent is logged and lost: phones still find the change on their next round.
    pub async fn publish(&self, notice: Notice) {
        if let Err(err) = self.bus.publish(notice).await {
            tracing::warn!(error = %err, "a notice to the other instances was lost");
        }
    }
}

/// The database and the bus of a configuration: PostgreSQL with `LISTEN/NOTIFY` when
/// `database_url` is set, else SQLite in the data folder with a bus inside this process.
pub async fn open_database(
    config: &Config,
) -> Result<(Arc<dyn Database>, Arc<dyn Bus>), StartupError> {
    if let Some(url) = &config.database_url {
        let postgres = |source| StartupError::Postgres { source };
        let db = PostgresDatabase::connect(url).await.map_err(postgres)?;
        let bus = PostgresBus::start(&db).await.map_err(postgres)?;
        return Ok((Arc::new(db), Arc::new(bus)));
    }
    prepare_data_dir(&config.data_dir)?;
    let path = config.data_dir.join(DB_FILE);
    let db = SqliteDatabase::open(&path).map_err(|source| StartupError::Database {
        path: path.clone(),
        source,
    })?;
    Ok((Arc::new(db), Arc::new(LocalBus::default())))
}

/// Checks the built app, opens the database, and builds the router.
pub async fn build_app(config: &Config) -> Result<Router, StartupError> {
    build_app_with_limits(config, limits::LimitsConfig::default()).await
}

/// [`build_app`] with other limits than the defaults (benchmarks, tests).
pub async fn build_app_with_limits(
    config: &Config,
    limits: limits::LimitsConfig,
) -> Result<Router, StartupError> {
    build_app_at(config, limits, config.public_url_at(config.addr.port())).await
}

/// [`build_app_with_limits`] for a Koers reached at `public_url`.
async fn build_app_at(
    config: &Config,
    mut limits: limits::LimitsConfig,
    public_url: Url,
) -> Result<Router, StartupError> {
    let index_html = read_index_html(&config.dist_dir)?;
    let site = Site::new(public_url)?;
    let (db, bus) = open_database(config).await?;
    if let Some(link) = first_start(db.as_ref(), &site)
        .await
        .map_err(|source| StartupError::FirstStart { source })?
    {
        println!("Open {link} to set up the first account (an administrator's; the link works once, for 7 days).");
    }
    limits.trust_forwarded_for |= config.behind_proxy;
    let shared = config.database_url.is_some();
    Ok(app_router_at(
        &config.dist_dir,
        &index_html,
        Backend { db, bus, shared },
        limits,
        site,
    ))
}

/// The first start of an organisation's Koers: makes its organisation if there is none, and
/// while it has no account yet, a new one-time link for its first administrator (on every start
/// until one is used: the link of an earlier start may be lost, and only its hash was kept).
/// Returns that link.
pub async fn first_start(db: &dyn Database, site: &Site) -> Result<Option<String>, DatabaseError> {
    let first = koers_database::OrganisationRecord {
        organisation: koers_database::OrganisationId::new(),
        name: std::env::var("KOERS_ORGANISATION")
            .ok()
            .filter(|name| !name.trim().is_empty())
            .unwrap_or_else(|| "Mijn organisatie".into()),
        created_at: koers_database::now(),
    };
    let (organisation, has_accounts) = db.first_organisation(&first).await?;
    if has_accounts {
        return Ok(None);
    }
    first_admin_link(db, site, organisation.organisation)
        .await
        .map(Some)
}

/// A new organisation on this server (a guardian's certified institution, say), with the
/// one-time link for its first administrator: `koers-server add-organisation <name>`.
pub async fn add_organisation(
    db: &dyn Database,
    site: &Site,
    name: &str,
) -> Result<String, DatabaseError> {
    let organisation = koers_database::OrganisationRecord {
        organisation: koers_database::OrganisationId::new(),
        name: name.trim().to_owned(),
        created_at: koers_database::now(),
    };
    db.create_organisation(&organisation).await?;
    first_admin_link(db, site, organisation.organisation).await
}

/// [`add_organisation`] on the database of `config`.
pub async fn add_organisation_from(config: &Config, name: &str) -> Result<String, StartupError> {
    if name.trim().is_empty() {
        return Err(StartupError::OrganisationName);
    }
    let site = Site::new(config.public_url_at(config.addr.port()))?;
    let (db, _) = open_database(config).await?;
    add_organisation(db.as_ref(), &site, name)
        .await
        .map_err(|source| StartupError::FirstStart { source })
}

/// A one-time link for an organisation's first administrator (valid while it has no account).
async fn first_admin_link(
    db: &dyn Database,
    site: &Site,
    organisation: koers_database::OrganisationId,
) -> Result<String, DatabaseError> {
    let code = auth::new_secret(auth::INVITE_CODE_BYTES);
    let now = koers_database::now();
    let enrolment = koers_database::NewEnrolment {
        enrolment: koers_database::EnrolmentId::new(),
        code: auth::hash_secret(&code),
        organisation,
        name: "Beheerder".into(),
        admin: true,
        created_by: None,
        expires_at: now
            + chrono::Duration::from_std(site.enrolment_time).unwrap_or(chrono::Duration::days(7)),
    };
    db.create_enrolment(&enrolment, now).await?;
    Ok(site.link(&format!("/inschrijven#{code}")))
}

/// Reads `dist/index.html` (needed for the CSP hashes).
pub fn read_index_html(dist_dir: &Path) -> Result<String, StartupError> {
    let path = dist_dir.join("index.html");
    std::fs::read_to_string(&path).map_err(|source| {
        if source.kind() == std::io::ErrorKind::NotFound
            || source.kind() == std::io::ErrorKind::NotADirectory
        {
            StartupError::MissingDist { path }
        } else {
            StartupError::UnreadableDist { path, source }
        }
    })
}

/// Creates the data folder if needed and proves it is writable.
pub fn prepare_data_dir(data_dir: &Path) -> Result<(), StartupError> {
    let error = |source| StartupError::DataDir {
        path: data_dir.to_path_buf(),
        source,
    };
    std::fs::create_dir_all(data_dir).map_err(error)?;
    // Named after this process: instances starting at once on one folder must not remove each
    // other's probe.
    let probe = data_dir.join(format!(".koers-write-check-{}", std::process::id()));
    std::fs::write(&probe, b"ok").map_err(error)?;
    std::fs::remove_file(&probe).map_err(error)?;
    Ok(())
}

/// The whole HTTP app for a dist folder, its `index.html` text and a database of this process
/// alone (its event streams hear only this process's writes).
///
/// Layers, outermost first: tracing; `Vary: accept-encoding` on every response; security
/// headers (CSP with the hashes of `index_html`'s inline scripts); compression (gzip/br, skipped
/// when a precompressed file was served, never for event streams); `Cache-Control: no-store`
/// where no handler chose one; JSON error bodies for `/api/…`; request body limit.
pub fn app_router(dist_dir: &Path, index_html: &str, db: Arc<dyn Database>) -> Router {
    app_router_with_limits(dist_dir, index_html, db, limits::LimitsConfig::default())
}

/// [`app_router`] with other limits than the defaults (tests use small ones).
pub fn app_router_with_limits(
    dist_dir: &Path,
    index_html: &str,
    db: Arc<dyn Database>,
    limits: limits::LimitsConfig,
) -> Router {
    let bus = Arc::new(LocalBus::default());
    let backend = Backend {
        db,
        bus,
        shared: false,
    };
    app_router_on(dist_dir, index_html, backend, limits)
}

/// The database an app stores in, the bus of its instances, and whether other instances share
/// that database.
pub struct Backend {
    pub db: Arc<dyn Database>,
    pub bus: Arc<dyn Bus>,
    pub shared: bool,
}

/// The whole HTTP app on a database and the bus of its instances. Starts the task that relays
/// the bus's notices to this instance's event streams (so it must be called inside a tokio
/// runtime); the task ends when the router is dropped.
pub fn app_router_on(
    dist_dir: &Path,
    index_html: &str,
    backend: Backend,
    limits: limits::LimitsConfig,
) -> Router {
    app_router_at(dist_dir, index_html, backend, limits, Site::local())
}

/// [`app_router_on`] for a site other than `http://localhost:8080`.
pub fn app_router_at(
    dist_dir: &Path,
    index_html: &str,
    backend: Backend,
    limits: limits::LimitsConfig,
    site: Site,
) -> Router {
    let Backend { db, bus, shared } = backend;
    let limits = Arc::new(limits::Limits::new(limits));
    let plans: Arc<plans::Plans> = Arc::default();
    relay_notices(bus.as_ref(), Arc::downgrade(&plans));
    let state = AppState {
        db,
        bus,
        files: static_files::serve_dir(dist_dir),
        plans,
        limits: Arc::clone(&limits),
        instance: uuid::Uuid::new_v4().simple().to_string()[..12].into(),
        shared_database: shared,
        site: Arc::new(site),
        access_log: Arc::default(),
    };
    let csp = HeaderValue::from_str(&headers::content_security_policy(index_html))
        .unwrap_or_else(|_| HeaderValue::from_static("default-src 'self'; object-src 'none'"));

    let compress_ok_only =
        |status: StatusCode,
         _: axum::http::Version,
         _: &axum::http::HeaderMap,
         _: &axum::http::Extensions| status == StatusCode::OK;

    // The API routes and their OpenAPI document, both from the handlers' `#[utoipa::path]`.
    let (api, doc) = controllers::api_router(&limits).split_for_parts();
    let doc = Arc::new(doc);
    let mut router = Router::new()
        .route("/healthz", get(health::healthz))
        .route(
            "/api/openapi.json",
            get(move || openapi::openapi_json(Arc::clone(&doc))),
        )
        .merge(api)
        .route("/api", any(health::not_found))
        .route("/api/{*rest}", any(health::not_found))
        .fallback(static_files::handler)
        .with_state(state)
        .layer(RequestBodyLimitLayer::new(MAX_REQUEST_BODY))
        .layer(middleware::from_fn(error::json_errors_for_api))
        .layer(middleware::from_fn(default_cache_control))
        .layer(
            CompressionLayer::new()
                .no_deflate()
                .no_zstd()
                .compress_when(DefaultPredicate::new().and(compress_ok_only)),
        )
        .layer(SetResponseHeaderLayer::overriding(
            header::CONTENT_SECURITY_POLICY,
            csp,
        ));
    for (name, value) in headers::SECURITY_HEADERS {
        router = router.layer(SetResponseHeaderLayer::overriding(
            HeaderName::from_static(name),
            HeaderValue::from_static(value),
        ));
    }
    router
        .layer(middleware::from_fn(headers::vary_accept_encoding))
        .layer(middleware::from_fn_with_state(
            limits,
            limits::request_timeout,
        ))
        // The span names the path, never the query: the event stream's `?access_token=` must
        // not reach the logs at any level.
        .layer(TraceLayer::new_for_http().make_span_with(limits::request_span))
}

/// Hands every notice of the bus to this instance's plans and their event streams, until the
/// plans are dropped (the router is gone) or the bus closes. A relay that fell behind may have
/// missed some: it tells every stream to check its plan again.
fn relay_notices(bus: &dyn Bus, plans: std::sync::Weak<plans::Plans>) {
    use tokio::sync::broadcast::error::RecvError;
    let mut notices = bus.subscribe();
    tokio::spawn(async move {
        loop {
            let notice = match notices.recv().await {
                Ok(notice) => notice,
                Err(RecvError::Lagged(_)) => Notice::Resync,
                Err(RecvError::Closed) => return,
            };
            let Some(plans) = plans.upgrade() else { return };
            plans.relay(notice);
        }
    });
}

async fn default_cache_control(
    request: axum::extract::Request,
    next: middleware::Next,
) -> axum::response::Response {
    let mut response = next.run(request).await;
    response
        .headers_mut()
        .entry(header::CACHE_CONTROL)
        .or_insert(HeaderValue::from_static(headers::CACHE_NONE));
    response
}

/// The URL to show people for a listening address (`0.0.0.0` → `127.0.0.1`).
pub fn browser_url(addr: SocketAddr) -> String {
    let ip = match addr.ip() {
        IpAddr::V4(ip) if ip.is_unspecified() => IpAddr::V4(Ipv4Addr::LOCALHOST),
        IpAddr::V6(ip) if ip.is_unspecified() => IpAddr::V6(Ipv6Addr::LOCALHOST),
        ip => ip,
    };
    format!("http://{}", SocketAddr::new(ip, addr.port()))
}

/// Time open connections get to finish after SIGINT or SIGTERM (event streams never finish).
pub const SHUTDOWN_GRACE: std::time::Duration = std::time::Duration::from_secs(5);

/// Starts Koers and serves until SIGINT or SIGTERM.
pub async fn run(config: Config) -> Result<(), StartupError> {
    let limits = limits::LimitsConfig::default();
    let header_read_timeout = limits.header_read_timeout;
    // Bound first: with `KOERS_ADDR=…:0` the port (and so the default public URL and the
    // first-account link) is known only then.
    let listener = tokio::net::TcpListener::bind(config.addr)
        .await
        .map_err(|source| {
            if source.kind() == std::io::ErrorKind::AddrInUse {
                StartupError::AddrInUse { addr: config.addr }
            } else {
                StartupError::Bind {
                    addr: config.addr,
                    source,
                }
            }
        })?;
    let port = listener
        .local_addr()
        .map_or(config.addr.port(), |a| a.port());
    let public_url = config.public_url_at(port);
    let app = build_app_at(&config, limits, public_url.clone()).await?;
    let data = match &config.database_url {
        Some(_) => "PostgreSQL (KOERS_DATABASE_URL)".to_owned(),
        None => config.data_dir.display().to_string(),
    };
    let message = format!(
        "Koers is running: open {} in your browser (data in {data})",
        public_url.as_str().trim_end_matches('/'),
    );
    println!("{message}");
    tracing::info!("{message}");

    limits::serve(
        listener,
        app,
        header_read_timeout,
        shutdown_signal(),
        SHUTDOWN_GRACE,
    )
    .await
    .map_err(StartupError::Serve)?;
    tracing::info!("Koers stopped");
    Ok(())
}

/// Resolves on SIGINT (Ctrl-C) or, on Unix, SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        if let Err(err) = tokio::signal::ctrl_c().await {
            tracing::warn!(error = %err, "cannot listen for Ctrl-C");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(err) => {
                tracing::warn!(error = %err, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    tracing::info!("shutting down");
}
