//! Sync benchmark: three deployments of the Koers server side by side, in one run, driven over
//! HTTP/1.1 from this process:
//!
//! 1. SQLite, one instance (`KOERS_DATA`, a temporary folder);
//! 2. PostgreSQL, one instance (`KOERS_DATABASE_URL`);
//! 3. PostgreSQL, two instances behind nginx: every request goes through nginx, which sends them
//!    to the instances in turn (round robin, no sticky sessions), with the test config that
//!    tests/cluster/harness.rs makes from deploy/nginx/koers.conf.
//!
//! The instances are this program run with `--serve` (tests/cluster/harness.rs's `Instance`,
//! included below); PostgreSQL is one throwaway cluster (`TestCluster`, a database per
//! deployment), switched to production durability (`fsync`, `synchronous_commit` and
//! `full_page_writes` on, as SQLite's `synchronous=FULL`; `--pg-test-settings` keeps the test
//! cluster's settings, all three off).
//!
//! For each deployment:
//! (a) one device pushes 10,000 contact-moment operations in batches of 1000, another pulls them
//!     all (and applies them to its replica): time and operations per second;
//! (j) join: the generated year plan (`koers_core::year`, about 5,000 operations) is put on the
//!     server by its members' devices, then a new phone joins through an invite and pulls it all,
//!     page by page following the answer's `cursor`;
//! (b) 200 devices, (b2) 2,000 devices (plans of 10) sync at once for 30 s: push 1–5 operations,
//!     pull after their cursor, sleep 100–500 ms; requests/s, p50/p99/max latency, errors;
//! (c) event streams: as many `GET /api/plans/{plan}/events` as possible up to 10,000 (a device
//!     holds at most `STREAMS_PER_DEVICE`, so 2,500 devices), how many are held, and whether a
//!     push on a sample of plans is announced on every stream of those plans within 2 s;
//! (d) memory of each server instance (`VmRSS`, `VmHWM` from /proc).
//!
//! The devices are registered once per deployment (250 plans × 10 devices; setup time printed
//! apart) and reused by (b), (b2) and (c). A summary table has the deployments as columns. The
//! plans are founded by the deployment's first administrator, a professional enrolled with the
//! link an instance prints on its first start and a software passkey (tests/common/passkey.rs).
//!
//! The server runs with its limits (`koers_server::limits`) in place, as in production, except
//! the rate limits on invite acceptance: the benchmark registers thousands of devices from one
//! address. This process raises its open-files limit (`setrlimit`, inherited by the instances
//! and nginx) and nginx gets `worker_connections` and `worker_rlimit_nofile` to match.
//!
//! Run: `cargo run --profile server -p koers-server --example sync_bench`
//! (`-- --quick`: 5-second load phases and 1,000 streams; `-- --only=1,3`: some deployments).
//! `-- --baseline=<old koers-server> [--new=<koers-server>] [--quick]` runs something else: the
//! same pushes, pulls and sync rounds against an older server binary and this build's
//! (`target/server/koers-server` by default), in turns, to show what the access checks cost
//! (see [`access`]). Build the old one in a worktree, e.g. at b2b3a73, the build before
//! professionals: `git worktree add /tmp/koers-baseline b2b3a73 && cd /tmp/koers-baseline &&
//! CARGO_TARGET_DIR=/tmp/koers-baseline-target cargo build --profile server -p koers-server`.
//! Needs Debian's nginx and PostgreSQL (`scripts/setup.sh --test`) for deployments 2 and 3.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use http_body_util::{BodyExt as _, Full};
use hyper::body::Bytes;
use hyper::{Method, Request, StatusCode};
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use koers_core::*;
use serde_json::{json, Value};
use uuid::Uuid;

// The cluster harness of the tests, as is: instances, nginx from deploy/nginx/koers.conf, the
// throwaway PostgreSQL. Its `crate::client` is the small module below.
// (common/mod.rs allows its own dead code.)
#[path = "../tests/common/mod.rs"]
mod common;
#[allow(dead_code)]
#[path = "../tests/cluster/harness.rs"]
mod harness;
#[allow(dead_code)]
#[path = "../tests/cluster/http.rs"]
mod http;
#[allow(dead_code)]
#[path = "../tests/cluster/postgres.rs"]
mod postgres;

/// What tests/cluster/harness.rs and http.rs use of tests/client/mod.rs, which cannot be included
/// here: it names the server binary with `env!("CARGO_BIN_EXE_koers-server")`, which Cargo sets
/// for tests but not for examples. One request per connection is enough for `/healthz`.
#[allow(dead_code)]
mod client {
    use serde_json::Value;

    /// Not used by the benchmark: its instances run this program (`Instance::with_program`).
    pub fn server_bin() -> String {
        std::env::current_exe()
            .expect("this program's path")
            .to_string_lossy()
            .into_owned()
    }

    #[derive(Debug)]
    pub struct Reply {
        pub status: u16,
        pub headers: Vec<(String, String)>,
        pub json: Value,
    }

    impl Reply {
        pub fn header(&self, name: &str) -> Option<&str> {
            self.headers
                .iter()
                .find(|(n, _)| n.eq_ignore_ascii_case(name))
                .map(|(_, v)| v.as_str())
        }
    }

    pub struct Conn {
        addr: String,
    }

    impl Conn {
        pub fn new(addr: &str) -> Conn {
            Conn {
                addr: addr.to_owned(),
            }
        }

        /// One request on a new connection (panics on a network error, as the tests' `Conn`).
        pub fn call(
            &mut self,
            method: &str,
            path: &str,
            token: Option<&str>,
            body: Option<&Value>,
        ) -> Reply {
            let authorization = token.map(|t| format!("Bearer {t}"));
            let mut headers = Vec::new();
            if let Some(value) = &authorization {
                headers.push(("Authorization", value.as_str()));
            }
            let body = body
                .map(|b| serde_json::to_vec(b).unwrap())
                .unwrap_or_default();
            if !body.is_empty() {
                headers.push(("Content-Type", "application/json"));
            }
            let raw = crate::http::raw_request(&self.addr, method, path, &headers, &body);
            Reply {
                status: raw.status,
                json: serde_json::from_slice(&raw.body).unwrap_or(Value::Null),
                headers: raw.headers,
            }
        }
    }
}

use harness::{Capacity, Database, Instance, Nginx};

const BULK_OPS: usize = 10_000;
const BATCH: usize = 1000;
const DEVICES_PER_PLAN: usize = 10;
/// The devices of the load phases (b) and (b2).
const LOAD_DEVICES: [usize; 2] = [200, 2_000];
const LOAD_SECS: u64 = 30;
const QUICK_LOAD_SECS: u64 = 5;
const STREAMS: usize = 10_000;
const QUICK_STREAMS: usize = 1_000;
/// Event streams one device may hold (the server's limit, kept).
const STREAMS_PER_DEVICE: usize = koers_server::limits::STREAMS_PER_DEVICE;
/// Plans founded at once during setup.
const SETUP_CONCURRENCY: usize = 16;
/// Event streams being opened at once.
const OPEN_CONCURRENCY: usize = 100;
/// Plans whose streams are checked for the announcement of a push.
const SAMPLE_PLANS: usize = 25;
const ANNOUNCE_WITHIN: Duration = Duration::from_secs(2);
/// The budget: p99 at 2,000 devices on PostgreSQL, two instances, with zero errors.
const BUDGET_P99_MS: f64 = 100.0;
/// Open files wanted for this process (and, inherited, the instances and nginx).
const NOFILE: u64 = 65_536;

type HttpClient = Client<HttpConnector, Full<Bytes>>;

struct Options {
    quick: bool,
    load_secs: u64,
    streams: usize,
    deployments: Vec<Kind>,
    pg_test_settings: bool,
    /// nginx's size (deployment 3).
    nginx: Capacity,
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.get(1).map(String::as_str) == Some("--serve") {
        serve(args.iter().any(|a| a == "--direct"));
        return;
    }
    let quick = args.iter().any(|a| a == "--quick");
    if let Some(baseline) = args.iter().find_map(|a| a.strip_prefix("--baseline=")) {
        let new = args
            .iter()
            .find_map(|a| a.strip_prefix("--new="))
            .map(str::to_owned);
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()
            .expect("a tokio runtime");
        runtime.block_on(access::run(baseline.to_owned(), new, quick));
        return;
    }
    let deployments = match args.iter().find_map(|a| a.strip_prefix("--only=")) {
        Some(list) => list
            .split(',')
            .map(|n| match n.trim() {
                "1" => Kind::Sqlite,
                "2" => Kind::Postgres,
                "3" => Kind::PostgresPair,
                other => panic!("--only: no deployment {other:?} (1, 2 or 3)"),
            })
            .collect(),
        None => vec![Kind::Sqlite, Kind::Postgres, Kind::PostgresPair],
    };
    // Before any thread or child: the children inherit the limit.
    let nofile = raise_open_files(NOFILE);
    let options = Options {
        quick,
        load_secs: if quick { QUICK_LOAD_SECS } else { LOAD_SECS },
        streams: if quick { QUICK_STREAMS } else { STREAMS },
        deployments,
        pg_test_settings: args.iter().any(|a| a == "--pg-test-settings"),
        // One worker per core (Debian's `worker_processes auto`), each allowed as many open
        // files as this process got: a proxied stream takes two (phone and instance), and
        // without CAP_SYS_RESOURCE no process may hold more than the hard limit.
        nginx: Capacity {
            workers: std::thread::available_parallelism()
                .map_or(2, |n| n.get())
                .max(2),
            worker_connections: nofile.0.saturating_sub(500).max(1024) as usize,
            open_files: nofile.0,
        },
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime");
    runtime.block_on(bench(options, nofile));
}

// ---------------------------------------------------------------------------------------------
// The server (child process)

/// Runs the server as `koers-server` does (configuration from the environment: `KOERS_ADDR`,
/// `KOERS_DATA`, `KOERS_DATABASE_URL`, `KOERS_BEHIND_PROXY`, logs at `KOERS_LOG` on stdout, the
/// startup line the harness waits for), with the invite-acceptance rate limits raised.
/// `direct`: no proxy in front, whatever `KOERS_BEHIND_PROXY` says.
fn serve(direct: bool) {
    let level = std::env::var("KOERS_LOG")
        .ok()
        .and_then(|value| value.trim().parse::<tracing::Level>().ok())
        .unwrap_or(tracing::Level::WARN);
    let _ = tracing_subscriber::fmt()
        .with_max_level(level)
        .with_target(false)
        .with_ansi(false)
        .try_init();
    let mut config = koers_server::Config::from_env().expect("the configuration");
    if direct {
        config.behind_proxy = false;
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime");
    runtime.block_on(async {
        let limits = koers_server::limits::LimitsConfig {
            invite_accepts_per_address: 100_000,
            invite_accepts_per_prefix: 100_000,
            ..Default::default()
        };
        let header_read_timeout = limits.header_read_timeout;
        let app = koers_server::build_app_with_limits(&config, limits)
            .await
            .expect("the server starts");
        let listener = tokio::net::TcpListener::bind(config.addr).await.unwrap();
        let addr = listener.local_addr().unwrap();
        println!(
            "Koers is running: open {} (sync_bench --serve, listening on {addr})",
            config
                .public_url_at(config.addr.port())
                .as_str()
                .trim_end_matches('/')
        );
        koers_server::limits::serve(
            listener,
            app,
            header_read_timeout,
            koers_server::shutdown_signal(),
            koers_server::SHUTDOWN_GRACE,
        )
        .await
        .unwrap();
    });
}

// ---------------------------------------------------------------------------------------------
// The machine

/// `RLIMIT_NOFILE` of Linux, as `setrlimit(2)` takes it.
#[repr(C)]
struct RLimit {
    cur: u64,
    max: u64,
}

const RLIMIT_NOFILE: i32 = 7;

const SC_CLK_TCK: i32 = 2;

extern "C" {
    fn getrlimit(resource: i32, rlim: *mut RLimit) -> i32;
    fn setrlimit(resource: i32, rlim: *const RLimit) -> i32;
    fn sysconf(name: i32) -> i64;
}

/// Raises this process's open-files limit to `wanted` (soft and hard: root may raise the hard
/// limit), else the soft limit to the hard one. Returns (soft, hard) after.
fn raise_open_files(wanted: u64) -> (u64, u64) {
    let mut limit = RLimit { cur: 0, max: 0 };
    // SAFETY: getrlimit/setrlimit of libc with a valid pointer to a struct of the right layout
    // (rlim_t is 64 bits on Linux).
    unsafe {
        getrlimit(RLIMIT_NOFILE, &mut limit);
        if limit.cur < wanted {
            let raised = RLimit {
                cur: wanted,
                max: limit.max.max(wanted),
            };
            if setrlimit(RLIMIT_NOFILE, &raised) != 0 {
                let soft = RLimit {
                    cur: limit.max,
                    max: limit.max,
                };
                setrlimit(RLIMIT_NOFILE, &soft);
            }
        }
        getrlimit(RLIMIT_NOFILE, &mut limit);
    }
    (limit.cur, limit.max)
}

fn loadavg() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|l| l.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "?".to_owned())
}

/// `VmHWM` (peak resident set) and `VmRSS` of a process, in MiB.
fn memory_mib(pid: u32) -> (f64, f64) {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|rest| rest.split_whitespace().next())
            .and_then(|kb| kb.parse::<f64>().ok())
            .map_or(f64::NAN, |kb| kb / 1024.0)
    };
    (field("VmHWM:"), field("VmRSS:"))
}

fn parent_of(pid: u32) -> Option<u32> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let after = &stat[stat.rfind(')')? + 2..];
    after.split_whitespace().nth(1)?.parse().ok()
}

/// The nginx processes started by this process (master) and their workers.
fn nginx_workers() -> Vec<u32> {
    let me = std::process::id();
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    entries
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse::<u32>().ok())
        .filter(|pid| {
            std::fs::read_to_string(format!("/proc/{pid}/comm")).is_ok_and(|c| c.trim() == "nginx")
        })
        .filter(|pid| parent_of(*pid).and_then(parent_of) == Some(me))
        .collect()
}

fn children_of(parent: u32) -> Vec<u32> {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    entries
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse::<u32>().ok())
        .filter(|pid| parent_of(*pid) == Some(parent))
        .collect()
}

fn clock_ticks() -> f64 {
    // SAFETY: sysconf of libc, no pointers.
    let ticks = unsafe { sysconf(SC_CLK_TCK) };
    if ticks > 0 {
        ticks as f64
    } else {
        100.0
    }
}

/// CPU time (user + system) a process used so far, in seconds.
fn cpu_seconds(pid: u32) -> f64 {
    let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
        return 0.0;
    };
    let Some(close) = stat.rfind(')') else {
        return 0.0;
    };
    let fields: Vec<&str> = stat[close + 2..].split_whitespace().collect();
    let field = |i: usize| {
        fields
            .get(i)
            .and_then(|f| f.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    (field(11) + field(12)) / clock_ticks()
}

/// CPU time the whole machine was busy so far (every process, ours and others'), in seconds.
fn machine_busy_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/stat").unwrap_or_default();
    let Some(line) = stat.lines().find(|l| l.starts_with("cpu ")) else {
        return 0.0;
    };
    let v: Vec<f64> = line
        .split_whitespace()
        .skip(1)
        .map(|f| f.parse().unwrap_or(0.0))
        .collect();
    let get = |i: usize| v.get(i).copied().unwrap_or(0.0);
    // user nice system idle iowait irq softirq steal
    (get(0) + get(1) + get(2) + get(5) + get(6) + get(7)) / clock_ticks()
}

/// CPU seconds used so far by each part of a deployment.
struct CpuMark {
    at: Instant,
    bench: f64,
    koers: f64,
    postgres: f64,
    nginx: f64,
    machine: f64,
}

/// Cores used on average between two marks.
#[derive(Clone, Copy, Default)]
struct CpuUse {
    bench: f64,
    koers: f64,
    postgres: f64,
    nginx: f64,
    /// Everything else on the machine (other users of the cores).
    others: f64,
    machine: f64,
}

impl CpuMark {
    fn take(deployment: &Deployment) -> CpuMark {
        let postgres = deployment.postmaster.map_or(0.0, |postmaster| {
            cpu_seconds(postmaster)
                + children_of(postmaster)
                    .into_iter()
                    .map(cpu_seconds)
                    .sum::<f64>()
        });
        let nginx = if deployment.nginx.is_some() {
            nginx_workers().into_iter().map(cpu_seconds).sum()
        } else {
            0.0
        };
        CpuMark {
            at: Instant::now(),
            bench: cpu_seconds(std::process::id()),
            koers: deployment.pids().into_iter().map(cpu_seconds).sum(),
            postgres,
            nginx,
            machine: machine_busy_seconds(),
        }
    }

    fn since(&self, before: &CpuMark) -> CpuUse {
        let secs = (self.at - before.at).as_secs_f64().max(1e-3);
        let bench = (self.bench - before.bench) / secs;
        let koers = (self.koers - before.koers) / secs;
        let postgres = (self.postgres - before.postgres) / secs;
        let nginx = (self.nginx - before.nginx) / secs;
        let machine = (self.machine - before.machine) / secs;
        CpuUse {
            bench,
            koers,
            postgres,
            nginx,
            others: (machine - bench - koers - postgres - nginx).max(0.0),
            machine,
        }
    }
}

impl CpuUse {
    fn print(&self) {
        println!(
            "     CPU, cores on average: load generator {:.2}, koers-server {:.2}, PostgreSQL {:.2}, nginx {:.2}, other processes {:.2}; machine busy {:.2} of {}",
            self.bench,
            self.koers,
            self.postgres,
            self.nginx,
            self.others,
            self.machine,
            std::thread::available_parallelism().map_or(0, |n| n.get())
        );
    }

    /// `bench / koers / database+nginx`, for the summary.
    fn parts(&self) -> String {
        format!(
            "{:.2}/{:.2}/{:.2}",
            self.bench,
            self.koers,
            self.postgres + self.nginx
        )
    }
}

/// The postmaster of the PostgreSQL cluster of `url` (from its data folder's postmaster.pid).
fn postmaster_of(url: &str) -> Option<u32> {
    let out = std::process::Command::new("psql")
        .args(["-X", "-q", "-tA", url, "-c", "SHOW data_directory"])
        .output()
        .ok()?;
    let dir = String::from_utf8_lossy(&out.stdout).trim().to_owned();
    let pid = std::fs::read_to_string(format!("{dir}/postmaster.pid")).ok()?;
    pid.lines().next()?.trim().parse().ok()
}

// ---------------------------------------------------------------------------------------------
// The deployments

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Kind {
    Sqlite,
    Postgres,
    PostgresPair,
}

impl Kind {
    fn title(self) -> &'static str {
        match self {
            Kind::Sqlite => "SQLite, one instance",
            Kind::Postgres => "PostgreSQL, one instance",
            Kind::PostgresPair => "PostgreSQL, two instances behind nginx",
        }
    }
    fn column(self) -> &'static str {
        match self {
            Kind::Sqlite => "SQLite x1",
            Kind::Postgres => "PostgreSQL x1",
            Kind::PostgresPair => "PostgreSQL x2+nginx",
        }
    }
}

/// Instances (and nginx) of one deployment; stopped when dropped.
struct Deployment {
    // Dropped first: nginx, then the instances.
    nginx: Option<Nginx>,
    instances: Vec<Instance>,
    /// Where the phones connect: nginx, or the one instance.
    addr: String,
    /// PostgreSQL's postmaster (its backends are its children), for CPU figures.
    postmaster: Option<u32>,
    _dist: common::Dist,
    _database: Database,
}

impl Deployment {
    fn start(kind: Kind, pg_url: Option<String>, capacity: &Capacity) -> Deployment {
        let dist = common::make_dist();
        let exe = client::server_bin();
        let postmaster = pg_url.as_deref().and_then(postmaster_of);
        let database = match kind {
            Kind::Sqlite => Database::Sqlite(Arc::new(tempfile::tempdir().unwrap())),
            _ => Database::Postgres(pg_url.expect("a PostgreSQL database")),
        };
        let (count, args) = match kind {
            Kind::PostgresPair => (2, vec!["--serve".to_owned()]),
            _ => (1, vec!["--serve".to_owned(), "--direct".to_owned()]),
        };
        // Behind nginx, phones reach Koers at nginx: the instances' public URL (a domain name, for
        // the passkeys), so nginx's port is chosen first.
        let nginx_port = harness::free_port();
        let mut instances: Vec<Instance> = ["a", "b"][..count]
            .iter()
            .map(|name| {
                let mut instance =
                    Instance::with_program(name, &database, &dist, exe.clone(), args.clone());
                if kind == Kind::PostgresPair {
                    instance.set_public_url(&format!("http://localhost:{nginx_port}"));
                }
                instance
            })
            .collect();
        for instance in &mut instances {
            // The first start: spawns it and waits until /healthz says 200.
            instance.restart();
        }
        let (nginx, addr) = if kind == Kind::PostgresPair {
            let upstreams: Vec<String> = instances.iter().map(|i| i.addr.clone()).collect();
            let nginx = Nginx::start_at(nginx_port, &upstreams, Some(capacity));
            // As Cluster::assert_round_robin: consecutive requests reach every instance.
            let mut seen = Vec::new();
            for _ in 0..4 {
                let reply = nginx.conn().call("GET", "/healthz", None, None);
                assert_eq!(reply.status, 200, "{}", reply.json);
                seen.push(harness::upstream_of(&reply).to_owned());
            }
            for upstream in &upstreams {
                assert!(
                    seen.contains(upstream),
                    "nginx sent nothing to {upstream}: {seen:?}"
                );
            }
            let addr = nginx.addr.clone();
            (Some(nginx), addr)
        } else {
            let addr = instances[0].addr.clone();
            (None, addr)
        };
        Deployment {
            nginx,
            instances,
            addr,
            postmaster,
            _dist: dist,
            _database: database,
        }
    }

    fn pids(&self) -> Vec<u32> {
        self.instances.iter().filter_map(Instance::pid).collect()
    }

    /// (VmHWM, VmRSS) of each instance.
    fn memory(&self) -> Vec<(f64, f64)> {
        self.pids().into_iter().map(memory_mib).collect()
    }

    /// Warning and error lines the instances logged, and those nginx logged.
    fn warnings(&self) -> (Vec<String>, Vec<String>) {
        let koers: Vec<String> = self
            .instances
            .iter()
            .flat_map(|i| {
                i.log()
                    .lines()
                    .filter(|l| l.contains(" WARN ") || l.contains(" ERROR "))
                    .map(str::to_owned)
                    .collect::<Vec<_>>()
            })
            .collect();
        let nginx = self.nginx.as_ref().map_or_else(Vec::new, |nginx| {
            nginx
                .errors()
                .lines()
                .filter(|l| {
                    ["[error]", "[crit]", "[alert]", "[emerg]", "[warn]"]
                        .iter()
                        .any(|level| l.contains(level))
                })
                .map(str::to_owned)
                .collect()
        });
        (koers, nginx)
    }
}

/// Switches the PostgreSQL cluster of `url` to production durability (the test cluster runs with
/// fsync, synchronous_commit and full_page_writes off) unless `keep`; returns the settings in force.
fn postgres_settings(url: &str, keep: bool) -> String {
    let psql = |args: &[&str]| {
        std::process::Command::new("psql")
            .args(["-X", "-q", "-tA", "-v", "ON_ERROR_STOP=1", url])
            .args(args)
            .output()
    };
    if !keep {
        let set = psql(&[
            "-c",
            "ALTER SYSTEM SET fsync = on",
            "-c",
            "ALTER SYSTEM SET synchronous_commit = on",
            "-c",
            "ALTER SYSTEM SET full_page_writes = on",
            "-c",
            "SELECT pg_reload_conf()",
        ]);
        match set {
            Ok(out) if out.status.success() => {}
            Ok(out) => println!(
                "warning: psql could not set production durability: {}",
                String::from_utf8_lossy(&out.stderr).trim()
            ),
            Err(e) => {
                println!("warning: psql did not run ({e}): PostgreSQL keeps its test settings")
            }
        }
        std::thread::sleep(Duration::from_millis(300));
    }
    match psql(&[
        "-c",
        "SHOW fsync",
        "-c",
        "SHOW synchronous_commit",
        "-c",
        "SHOW full_page_writes",
        "-c",
        "SHOW server_version",
    ]) {
        Ok(out) if out.status.success() => {
            let text = String::from_utf8_lossy(&out.stdout);
            let v: Vec<&str> = text.lines().collect();
            format!(
                "PostgreSQL {}: fsync={}, synchronous_commit={}, full_page_writes={}",
                v.get(3).unwrap_or(&"?"),
                v.first().unwrap_or(&"?"),
                v.get(1).unwrap_or(&"?"),
                v.get(2).unwrap_or(&"?")
            )
        }
        _ => "PostgreSQL settings unknown (psql failed)".to_owned(),
    }
}

// ---------------------------------------------------------------------------------------------
// HTTP

struct Api {
    client: HttpClient,
    base: String,
    /// A signed-in professional's session token ([`sign_in`]): plans are founded with it.
    session: String,
}

#[derive(Debug)]
struct Reply {
    status: StatusCode,
    json: Value,
}

/// A failed request: a short kind (to count alike failures) and the whole message.
#[derive(Debug, Clone)]
struct Failure {
    kind: String,
    detail: String,
}

impl Failure {
    fn network(what: &str, e: impl std::fmt::Display) -> Failure {
        let detail = format!("{what}: {e}");
        Failure {
            kind: detail.chars().take(70).collect(),
            detail,
        }
    }
    fn answer(what: &str, reply: &Reply) -> Failure {
        let code = reply.json["error"].as_str().unwrap_or("");
        Failure {
            kind: format!("{what}: {} {code}", reply.status.as_u16()),
            detail: format!("{what}: {} {}", reply.status, reply.json),
        }
    }
    fn other(what: &str, detail: String) -> Failure {
        Failure {
            kind: what.to_owned(),
            detail: format!("{what}: {detail}"),
        }
    }
}

impl Api {
    fn new(addr: &str, session: String) -> Api {
        let mut connector = HttpConnector::new();
        connector.set_nodelay(true);
        let client: HttpClient = Client::builder(TokioExecutor::new())
            // About one kept-open connection per device, as phones keep theirs.
            .pool_max_idle_per_host(4096)
            .build(connector);
        Api {
            client,
            base: format!("http://{addr}"),
            session,
        }
    }

    async fn call(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<&Value>,
    ) -> Result<Reply, String> {
        let mut request = Request::builder()
            .method(method)
            .uri(format!("{}{path}", self.base));
        if let Some(token) = token {
            request = request.header("authorization", format!("Bearer {token}"));
        }
        let body = match body {
            Some(body) => {
                request = request.header("content-type", "application/json");
                Full::new(Bytes::from(serde_json::to_vec(body).unwrap()))
            }
            None => Full::new(Bytes::new()),
        };
        let response = self
            .client
            .request(request.body(body).unwrap())
            .await
            .map_err(|e| format!("{e:?}"))?;
        let status = response.status();
        let bytes = response
            .into_body()
            .collect()
            .await
            .map_err(|e| e.to_string())?
            .to_bytes();
        let json = if bytes.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&bytes).unwrap_or_else(|_| {
                Value::String(String::from_utf8_lossy(&bytes).chars().take(200).collect())
            })
        };
        Ok(Reply { status, json })
    }

    /// A call that must answer `expected`.
    async fn expect(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<&Value>,
        expected: StatusCode,
    ) -> Value {
        let reply = self.call(method.clone(), path, token, body).await.unwrap();
        assert_eq!(reply.status, expected, "{method} {path}: {}", reply.json);
        reply.json
    }
}

// ---------------------------------------------------------------------------------------------
// Plans and devices

fn now_millis() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_millis() as u64
}

/// A small xorshift generator: enough for sleeps and op counts.
struct Rng(u64);

impl Rng {
    fn new() -> Self {
        Rng(Uuid::new_v4().as_u64_pair().0 | 1)
    }
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn between(&mut self, low: u64, high: u64) -> u64 {
        low + self.next() % (high - low + 1)
    }
}

/// A member writing on one registered device, with its own replica of the plan.
struct Device {
    plan: PlanId,
    token: String,
    author: Author,
    replica: Replica,
    view: Plan,
    cursor: i64,
    rng: Rng,
    /// The contact moment being logged and the fields of it still to write.
    moment: Option<(ContactMomentId, usize)>,
}

impl Device {
    fn new(plan: PlanId, member: MemberId, token: String) -> Self {
        let replica = Replica::new(plan);
        let view = Plan::from_replica(&replica);
        let mut rng = Rng::new();
        Device {
            plan,
            token,
            author: Author::new(member, NodeId(rng.next())),
            replica,
            view,
            cursor: 0,
            rng,
            moment: None,
        }
    }

    /// Pulls everything after the cursor into the replica; returns the number of requests.
    async fn pull(&mut self, api: &Api) -> Result<usize, Failure> {
        let mut requests = 0;
        loop {
            let path = format!("/api/plans/{}/ops?after={}", self.plan, self.cursor);
            let reply = api
                .call(Method::GET, &path, Some(&self.token), None)
                .await
                .map_err(|e| Failure::network("pull", e))?;
            requests += 1;
            if reply.status != StatusCode::OK {
                return Err(Failure::answer("pull", &reply));
            }
            for item in reply.json["ops"].as_array().into_iter().flatten() {
                let op: Op = serde_json::from_value(item["op"].clone())
                    .map_err(|e| Failure::other("pull: bad op", e.to_string()))?;
                let _ = self.replica.apply(&op);
            }
            // As the app does: continue from the answer's cursor, and keep it.
            self.cursor = reply.json["cursor"]
                .as_i64()
                .ok_or_else(|| Failure::other("pull: no cursor", reply.json.to_string()))?;
            if reply.json["more"] != json!(true) {
                return Ok(requests);
            }
        }
    }

    /// Rebuilds the plan as this device sees it (members and roles, for local checks).
    fn refresh_view(&mut self) {
        self.view = Plan::from_replica(&self.replica);
    }

    /// The next field of a contact moment, as a real device would log it: when, kind, status,
    /// place, attendees, duration, rating and a note; then the next moment.
    fn next_op(&mut self) -> Op {
        let (moment, step) = match self.moment {
            Some((m, step)) if step < 8 => (m, step),
            _ => (ContactMomentId(Uuid::new_v4()), 0),
        };
        self.moment = Some((moment, step + 1));
        let n = self.rng.between(0, 1000);
        let (field, value) = match step {
            0 => {
                let day = chrono::NaiveDate::from_ymd_opt(2026, 1, 1).unwrap()
                    + chrono::Days::new(n % 300);
                let at = day.and_hms_opt(9 + (n % 9) as u32, 0, 0).unwrap();
                (Field::At, json!(at))
            }
            1 => (Field::Kind, json!(ContactKind::ALL[(n % 5) as usize])),
            2 => (Field::Status, json!(ContactStatus::Happened)),
            3 => (Field::Place, json!(Some("Bij de pleeggezin thuis"))),
            4 => (
                Field::Attendees,
                json!([Role::Parent, Role::FosterParent, Role::Youth]),
            ),
            5 => (Field::DurationMinutes, json!(Some(30 + n % 120))),
            6 => (Field::Rating, json!(Rating::new(1 + (n % 5) as u8))),
            _ => (
                Field::Note,
                json!(Some(format!(
                    "Samen gegeten en een spelletje gedaan; afscheid ging goed (#{n})."
                ))),
            ),
        };
        let op = self
            .author
            .change(
                &self.replica,
                &self.view,
                OpId(Uuid::new_v4()),
                now_millis(),
                Edit::new(Entity::ContactMoment(moment), field, value),
            )
            .expect("a foster parent logs contact moments");
        let _ = self.replica.apply(&op);
        op
    }

    /// Pushes `ops`; every one must be accepted. Returns the highest seq given to them.
    async fn push(&mut self, api: &Api, ops: &[Op]) -> Result<i64, Failure> {
        let path = format!("/api/plans/{}/ops", self.plan);
        let reply = api
            .call(
                Method::POST,
                &path,
                Some(&self.token),
                Some(&json!({ "ops": ops })),
            )
            .await
            .map_err(|e| Failure::network("push", e))?;
        if reply.status != StatusCode::OK {
            return Err(Failure::answer("push", &reply));
        }
        let accepted = reply.json["accepted"]
            .as_array()
            .map_or(&[][..], Vec::as_slice);
        if accepted.len() != ops.len() {
            return Err(Failure::other(
                "push: refused",
                format!(
                    "{} of {} accepted: {}",
                    accepted.len(),
                    ops.len(),
                    reply.json["refused"]
                ),
            ));
        }
        Ok(accepted
            .iter()
            .filter_map(|a| a["seq"].as_i64())
            .max()
            .or_else(|| reply.json["last_seq"].as_i64())
            .unwrap_or(0))
    }
}

/// The session of the deployment's first administrator (a professional, who may found plans):
/// enrolled with the link an instance printed on its first start and a software passkey, through
/// the address the phones use.
async fn sign_in(deployment: &Deployment) -> String {
    let link = deployment
        .instances
        .iter()
        .find_map(Instance::enrolment_link)
        .expect("a first start prints the link for the first account");
    let api = Api::new(&deployment.addr, String::new());
    let api = &api;
    common::professional::enrol_async(&link, |path, body| async move {
        let reply = api
            .call(Method::POST, path, None, Some(&body))
            .await
            .unwrap_or_else(|e| panic!("POST {path}: {e}"));
        (reply.status.as_u16(), reply.json)
    })
    .await
    .session
}

/// Founds a plan (worker + `others` foster parents) and registers a device for every member.
async fn make_plan(api: &Api, others: usize) -> Vec<Device> {
    let plan = PlanId(Uuid::new_v4());
    let worker = MemberId(Uuid::new_v4());
    let mut clock = Clock::new(NodeId(Rng::new().next()));
    let now = now_millis();
    let mut ops = Vec::new();
    let mut set = |entity, field, value: Value| {
        ops.push(Op {
            id: OpId(Uuid::new_v4()),
            plan,
            hlc: clock.tick(now),
            author: worker,
            entity,
            field,
            value,
            supersedes: None,
        })
    };
    set(Entity::Member(worker), Field::Name, json!("Lotte de Vries"));
    set(
        Entity::Member(worker),
        Field::Role,
        json!(Role::FosterCareWorker),
    );
    let members: Vec<MemberId> = (0..others).map(|_| MemberId(Uuid::new_v4())).collect();
    for (n, m) in members.iter().enumerate() {
        set(
            Entity::Member(*m),
            Field::Name,
            json!(format!("Pleegouder {n}")),
        );
        set(Entity::Member(*m), Field::Role, json!(Role::FosterParent));
    }
    set(Entity::Plan, Field::ChildName, json!("Noa"));
    let created = api
        .expect(
            Method::POST,
            "/api/plans",
            // None for a server from before professionals (`--baseline`).
            Some(api.session.as_str()).filter(|s| !s.is_empty()),
            Some(&json!({ "ops": ops, "device_name": "bench worker" })),
            StatusCode::CREATED,
        )
        .await;
    let worker_token = created["device_token"].as_str().unwrap().to_owned();
    let mut devices = vec![Device::new(plan, worker, worker_token.clone())];
    for m in members {
        let token = register(api, plan, &worker_token, m).await;
        devices.push(Device::new(plan, m, token));
    }
    for device in &mut devices {
        device.pull(api).await.unwrap();
        device.refresh_view();
    }
    devices
}

/// `plans` plans of [`DEVICES_PER_PLAN`] devices, founded [`SETUP_CONCURRENCY`] at a time; the
/// devices plan by plan.
async fn make_plans(api: &Arc<Api>, plans: usize) -> Vec<Device> {
    let next = Arc::new(AtomicUsize::new(0));
    let workers: Vec<_> = (0..SETUP_CONCURRENCY.min(plans))
        .map(|_| {
            let api = Arc::clone(api);
            let next = Arc::clone(&next);
            tokio::spawn(async move {
                let mut made = Vec::new();
                loop {
                    let index = next.fetch_add(1, Ordering::Relaxed);
                    if index >= plans {
                        return made;
                    }
                    made.push((index, make_plan(&api, DEVICES_PER_PLAN - 1).await));
                }
            })
        })
        .collect();
    let mut all = Vec::new();
    for worker in workers {
        all.extend(worker.await.expect("setup: a plan is founded"));
    }
    all.sort_by_key(|(index, _)| *index);
    all.into_iter().flat_map(|(_, devices)| devices).collect()
}

/// The year plan under a new plan id and new operation ids (so that it never collides with
/// another run), dated so that it ends before now.
fn fresh_year_plan() -> Vec<Op> {
    let start = chrono::Utc::now().date_naive() - chrono::Days::new(380);
    year::year_plan_with_ids(start, Uuid::new_v4)
}

/// A device for `member` of `plan`, through an invite by the worker.
async fn register(api: &Api, plan: PlanId, worker_token: &str, member: MemberId) -> String {
    let invite = api
        .expect(
            Method::POST,
            &format!("/api/plans/{plan}/invites"),
            Some(worker_token),
            Some(&json!({ "member": member })),
            StatusCode::CREATED,
        )
        .await;
    let accepted = api
        .expect(
            Method::POST,
            "/api/invites/accept",
            None,
            Some(&json!({ "code": invite["code"], "device_name": "bench" })),
            StatusCode::CREATED,
        )
        .await;
    accepted["device_token"].as_str().unwrap().to_owned()
}

// ---------------------------------------------------------------------------------------------
// (a) and (j)

struct Bulk {
    push: Duration,
    pull: Duration,
    pull_requests: usize,
}

/// One device pushes [`BULK_OPS`] operations in batches of [`BATCH`]; another pulls them.
async fn bulk(api: &Api) -> Bulk {
    let mut devices = make_plan(api, 1).await;
    // The foster parent logs, the worker reads.
    let mut writer = devices.pop().unwrap();
    let mut reader = devices.pop().unwrap();
    let ops: Vec<Op> = (0..BULK_OPS).map(|_| writer.next_op()).collect();
    let started = Instant::now();
    for batch in ops.chunks(BATCH) {
        writer.push(api, batch).await.expect("bulk push");
    }
    let push = started.elapsed();
    let before = reader.cursor;
    let started = Instant::now();
    let pull_requests = reader.pull(api).await.expect("bulk pull");
    let pull = started.elapsed();
    assert!(reader.cursor - before >= BULK_OPS as i64, "pulled every op");
    assert!(
        reader.replica.op_count() >= BULK_OPS,
        "the reader holds every op"
    );
    Bulk {
        push,
        pull,
        pull_requests,
    }
}

struct Join {
    ops: usize,
    time: Duration,
    requests: usize,
}

/// Puts the year plan on the server as its members' devices would have sent it (in order, in
/// runs of one author, at most 1000 per request), then times a new phone of a parent pulling
/// all of it.
async fn join_year_plan(api: &Api) -> Join {
    let ops = fresh_year_plan();
    let plan = ops[0].plan;
    let founder = ops[0].author;
    let founding = ops
        .iter()
        .take(BATCH)
        .take_while(|op| op.author == founder)
        .count();
    let created = api
        .expect(
            Method::POST,
            "/api/plans",
            Some(&api.session),
            Some(&json!({ "ops": &ops[..founding], "device_name": "bench worker" })),
            StatusCode::CREATED,
        )
        .await;
    let worker_token = created["device_token"].as_str().unwrap().to_owned();
    let mut tokens = HashMap::from([(founder, worker_token.clone())]);
    let mut rest = &ops[founding..];
    while !rest.is_empty() {
        let author = rest[0].author;
        let run = rest
            .iter()
            .take(BATCH)
            .take_while(|op| op.author == author)
            .count();
        let (batch, later) = rest.split_at(run);
        if let std::collections::hash_map::Entry::Vacant(entry) = tokens.entry(author) {
            entry.insert(register(api, plan, &worker_token, author).await);
        }
        let answer = api
            .expect(
                Method::POST,
                &format!("/api/plans/{plan}/ops"),
                Some(&tokens[&author]),
                Some(&json!({ "ops": batch })),
                StatusCode::OK,
            )
            .await;
        assert_eq!(
            answer["accepted"].as_array().map_or(0, Vec::len),
            batch.len(),
            "every year-plan operation is accepted: {}",
            answer["refused"]
        );
        rest = later;
    }
    let view = Plan::from_replica(&Replica::from_ops(plan, &ops));
    let parent = view
        .members
        .iter()
        .find(|m| m.role == Role::Parent)
        .expect("the year plan has parents")
        .id;
    let token = register(api, plan, &worker_token, parent).await;
    let mut phone = Device::new(plan, parent, token);
    let started = Instant::now();
    let requests = phone.pull(api).await.expect("the new phone pulls the plan");
    let time = started.elapsed();
    assert_eq!(
        phone.replica.op_count(),
        ops.len(),
        "the joining phone holds every operation"
    );
    Join {
        ops: ops.len(),
        time,
        requests,
    }
}

// ---------------------------------------------------------------------------------------------
// (b) load

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

#[derive(Default)]
struct LoadStats {
    push: Vec<Duration>,
    pull: Vec<Duration>,
    errors: usize,
    kinds: HashMap<String, usize>,
    first_error: Option<String>,
    pushed: usize,
}

impl LoadStats {
    fn error(&mut self, failure: Failure) {
        self.errors += 1;
        *self.kinds.entry(failure.kind).or_default() += 1;
        self.first_error.get_or_insert(failure.detail);
    }
    fn merge(&mut self, other: LoadStats) {
        self.push.extend(other.push);
        self.pull.extend(other.pull);
        self.errors += other.errors;
        for (kind, n) in other.kinds {
            *self.kinds.entry(kind).or_default() += n;
        }
        if self.first_error.is_none() {
            self.first_error = other.first_error;
        }
        self.pushed += other.pushed;
    }
}

/// One device's load loop until `deadline`; gives the device back.
async fn device_loop(api: Arc<Api>, mut device: Device, deadline: Instant) -> (Device, LoadStats) {
    let mut stats = LoadStats::default();
    // Start at different moments, as real devices do.
    let offset = device.rng.between(0, 500);
    tokio::time::sleep(Duration::from_millis(offset)).await;
    while Instant::now() < deadline {
        let count = device.rng.between(1, 5) as usize;
        let ops: Vec<Op> = (0..count).map(|_| device.next_op()).collect();
        let started = Instant::now();
        match device.push(&api, &ops).await {
            Ok(_) => stats.pushed += count,
            Err(e) => stats.error(e),
        }
        stats.push.push(started.elapsed());
        let started = Instant::now();
        match device.pull(&api).await {
            Ok(requests) => {
                let each = started.elapsed() / requests.max(1) as u32;
                stats.pull.extend(std::iter::repeat_n(each, requests));
            }
            Err(e) => {
                stats.pull.push(started.elapsed());
                stats.error(e);
            }
        }
        let pause = device.rng.between(100, 500);
        tokio::time::sleep(Duration::from_millis(pause)).await;
    }
    (device, stats)
}

struct Load {
    devices: usize,
    elapsed: Duration,
    requests: usize,
    pushed: usize,
    p50: Duration,
    p99: Duration,
    max: Duration,
    push_p50: Duration,
    push_p99: Duration,
    pull_p50: Duration,
    pull_p99: Duration,
    errors: usize,
    kinds: Vec<(String, usize)>,
    first_error: Option<String>,
    cpu: CpuUse,
}

/// The first `count` devices sync at once for `secs`.
async fn load(
    api: &Arc<Api>,
    deployment: &Deployment,
    devices: &mut Vec<Device>,
    count: usize,
    secs: u64,
) -> Load {
    let rest = devices.split_off(count.min(devices.len()));
    let mark = CpuMark::take(deployment);
    let started = Instant::now();
    let deadline = started + Duration::from_secs(secs);
    let handles: Vec<_> = std::mem::take(devices)
        .into_iter()
        .map(|device| tokio::spawn(device_loop(Arc::clone(api), device, deadline)))
        .collect();
    let mut stats = LoadStats::default();
    for handle in handles {
        let (device, one) = handle.await.expect("a device loop finishes");
        devices.push(device);
        stats.merge(one);
    }
    let elapsed = started.elapsed();
    let cpu = CpuMark::take(deployment).since(&mark);
    devices.extend(rest);
    let mut all: Vec<Duration> = stats.push.iter().chain(&stats.pull).copied().collect();
    all.sort();
    stats.push.sort();
    stats.pull.sort();
    let mut kinds: Vec<(String, usize)> = stats.kinds.into_iter().collect();
    kinds.sort_by_key(|kind| std::cmp::Reverse(kind.1));
    Load {
        devices: count,
        elapsed,
        requests: all.len(),
        pushed: stats.pushed,
        p50: percentile(&all, 50.0),
        p99: percentile(&all, 99.0),
        max: all.last().copied().unwrap_or_default(),
        push_p50: percentile(&stats.push, 50.0),
        push_p99: percentile(&stats.push, 99.0),
        pull_p50: percentile(&stats.pull, 50.0),
        pull_p99: percentile(&stats.pull, 99.0),
        errors: stats.errors,
        kinds,
        first_error: stats.first_error,
        cpu,
    }
}

impl Load {
    fn rate(&self) -> f64 {
        self.requests as f64 / self.elapsed.as_secs_f64()
    }

    fn print(&self, label: &str) {
        println!(
            "{label} {} devices, {:.1} s: {} requests ({:.0}/s), {} ops pushed; latency p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms \
             (push p50/p99 {:.1}/{:.1} ms, pull p50/p99 {:.1}/{:.1} ms); errors {}",
            self.devices,
            self.elapsed.as_secs_f64(),
            self.requests,
            self.rate(),
            self.pushed,
            ms(self.p50),
            ms(self.p99),
            ms(self.max),
            ms(self.push_p50),
            ms(self.push_p99),
            ms(self.pull_p50),
            ms(self.pull_p99),
            self.errors
        );
        for (kind, n) in self.kinds.iter().take(5) {
            println!("     {n} × {kind}");
        }
        if let Some(e) = &self.first_error {
            println!(
                "     first error: {}",
                e.chars().take(300).collect::<String>()
            );
        }
        self.cpu.print();
    }
}

// ---------------------------------------------------------------------------------------------
// (c) event streams

/// What one held event stream heard last.
#[derive(Default)]
struct Slot {
    last_seq: AtomicI64,
    /// When the last `ops` event came, in µs after the benchmark's epoch.
    seen_us: AtomicU64,
    open: AtomicBool,
}

/// Reads `text/event-stream` lines out of a (chunked) HTTP/1.1 body.
struct SseReader {
    chunked: bool,
    state: ChunkState,
    size: Vec<u8>,
    line: Vec<u8>,
}

enum ChunkState {
    Size,
    Data(usize),
    Crlf(usize),
    Done,
}

impl SseReader {
    fn feed(&mut self, mut bytes: &[u8], on_line: &mut impl FnMut(&[u8])) {
        if !self.chunked {
            self.lines(bytes, on_line);
            return;
        }
        while !bytes.is_empty() {
            match self.state {
                ChunkState::Size => match bytes.iter().position(|&b| b == b'\n') {
                    Some(end) => {
                        self.size.extend_from_slice(&bytes[..end]);
                        bytes = &bytes[end + 1..];
                        let text = String::from_utf8_lossy(&self.size).into_owned();
                        let hex = text.trim().split(';').next().unwrap_or("").trim();
                        let size = usize::from_str_radix(hex, 16).unwrap_or(0);
                        self.size.clear();
                        self.state = if size == 0 {
                            ChunkState::Done
                        } else {
                            ChunkState::Data(size)
                        };
                    }
                    None => {
                        self.size.extend_from_slice(bytes);
                        bytes = &[];
                    }
                },
                ChunkState::Data(left) => {
                    let take = left.min(bytes.len());
                    self.lines(&bytes[..take], on_line);
                    bytes = &bytes[take..];
                    self.state = if take == left {
                        ChunkState::Crlf(2)
                    } else {
                        ChunkState::Data(left - take)
                    };
                }
                ChunkState::Crlf(left) => {
                    let take = left.min(bytes.len());
                    bytes = &bytes[take..];
                    self.state = if take == left {
                        ChunkState::Size
                    } else {
                        ChunkState::Crlf(left - take)
                    };
                }
                ChunkState::Done => return,
            }
        }
    }

    fn lines(&mut self, bytes: &[u8], on_line: &mut impl FnMut(&[u8])) {
        for &b in bytes {
            if b == b'\n' {
                on_line(&self.line);
                self.line.clear();
            } else {
                self.line.push(b);
            }
        }
    }
}

async fn write_all(stream: &tokio::net::TcpStream, mut bytes: &[u8]) -> std::io::Result<()> {
    while !bytes.is_empty() {
        stream.writable().await?;
        match stream.try_write(bytes) {
            Ok(n) => bytes = &bytes[n..],
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => continue,
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

async fn read_some(stream: &tokio::net::TcpStream, buf: &mut [u8]) -> std::io::Result<usize> {
    loop {
        stream.readable().await?;
        match stream.try_read(buf) {
            Ok(n) => return Ok(n),
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => continue,
            Err(e) => return Err(e),
        }
    }
}

/// Opens one event stream and holds it until the task is aborted or the server ends it:
/// `opened` is told once the first `ops` event came (or why not).
async fn hold_stream(
    addr: String,
    path: String,
    slot: Arc<Slot>,
    epoch: Instant,
    opened: tokio::sync::oneshot::Sender<Result<(), Failure>>,
) {
    let mut opened = Some(opened);
    let result = read_stream(&addr, &path, &slot, epoch, &mut opened).await;
    slot.open.store(false, Ordering::SeqCst);
    if let (Some(tx), Err(e)) = (opened.take(), result) {
        let _ = tx.send(Err(e));
    }
}

async fn read_stream(
    addr: &str,
    path: &str,
    slot: &Slot,
    epoch: Instant,
    opened: &mut Option<tokio::sync::oneshot::Sender<Result<(), Failure>>>,
) -> Result<(), Failure> {
    let stream = tokio::net::TcpStream::connect(addr)
        .await
        .map_err(|e| Failure::network("stream connect", e))?;
    let _ = stream.set_nodelay(true);
    let request =
        format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nAccept: text/event-stream\r\n\r\n");
    write_all(&stream, request.as_bytes())
        .await
        .map_err(|e| Failure::network("stream send", e))?;
    let mut buf = [0u8; 2048];
    let mut head = Vec::new();
    let body_start = loop {
        let n = read_some(&stream, &mut buf)
            .await
            .map_err(|e| Failure::network("stream read", e))?;
        if n == 0 {
            return Err(Failure::other("stream: closed", "before an answer".into()));
        }
        head.extend_from_slice(&buf[..n]);
        if let Some(i) = head.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
        if head.len() > 16_384 {
            return Err(Failure::other("stream: head too long", String::new()));
        }
    };
    let text = String::from_utf8_lossy(&head[..body_start]).to_ascii_lowercase();
    let status = text.split_whitespace().nth(1).unwrap_or("?").to_owned();
    if status != "200" {
        let body = String::from_utf8_lossy(&head[body_start..]);
        let code = body
            .find("\"error\":\"")
            .map(|i| body[i + 9..].split('"').next().unwrap_or("").to_owned())
            .unwrap_or_default();
        return Err(Failure {
            kind: format!("stream: {status} {code}"),
            detail: format!(
                "stream: {status} {}",
                body.chars().take(200).collect::<String>()
            ),
        });
    }
    slot.open.store(true, Ordering::SeqCst);
    let mut reader = SseReader {
        chunked: text.contains("transfer-encoding: chunked"),
        state: ChunkState::Size,
        size: Vec::new(),
        line: Vec::new(),
    };
    let mut on_line = |line: &[u8]| {
        let Some(data) = line.strip_prefix(b"data:") else {
            return;
        };
        let Some(seq) = serde_json::from_slice::<Value>(data.trim_ascii())
            .ok()
            .and_then(|v| v["last_seq"].as_i64())
        else {
            return;
        };
        slot.seen_us
            .store(epoch.elapsed().as_micros() as u64, Ordering::SeqCst);
        slot.last_seq.fetch_max(seq, Ordering::SeqCst);
        if let Some(tx) = opened.take() {
            let _ = tx.send(Ok(()));
        }
    };
    reader.feed(&head[body_start..], &mut on_line);
    loop {
        let n = read_some(&stream, &mut buf)
            .await
            .map_err(|e| Failure::network("stream read", e))?;
        if n == 0 {
            return Err(Failure::other("stream: closed", "by the server".into()));
        }
        reader.feed(&buf[..n], &mut on_line);
    }
}

struct Streams {
    tried: usize,
    opened: usize,
    open_time: Duration,
    failures: Vec<(String, usize)>,
    first_failure: Option<String>,
    /// Streams of the sampled plans, and how many heard the push within [`ANNOUNCE_WITHIN`].
    sampled: usize,
    announced: usize,
    sampled_plans: usize,
    /// Push sent to event heard: median and slowest, of the streams that heard it in time.
    announce_p50: Duration,
    announce_max: Duration,
    /// Still open after the check.
    held: usize,
    /// (VmHWM, VmRSS) of each instance with the streams open, and the nginx workers' RSS.
    memory: Vec<(f64, f64)>,
    nginx_rss: Option<f64>,
}

/// Opens `count` event streams ([`STREAMS_PER_DEVICE`] per device, devices in order), checks a
/// push on a sample of plans is announced on all their streams, then closes them.
async fn streams(
    api: &Arc<Api>,
    deployment: &Deployment,
    devices: &mut [Device],
    count: usize,
) -> Streams {
    let epoch = Instant::now();
    let count = count.min(devices.len() * STREAMS_PER_DEVICE);
    let semaphore = Arc::new(tokio::sync::Semaphore::new(OPEN_CONCURRENCY));
    let mut slots: Vec<(PlanId, Arc<Slot>)> = Vec::with_capacity(count);
    let mut tasks = Vec::with_capacity(count);
    let mut waits = Vec::with_capacity(count);
    let started = Instant::now();
    for i in 0..count {
        let device = &devices[i / STREAMS_PER_DEVICE];
        // As the app's EventSource does: the token in the query.
        let path = format!(
            "/api/plans/{}/events?access_token={}",
            device.plan, device.token
        );
        let slot = Arc::new(Slot::default());
        let (tx, rx) = tokio::sync::oneshot::channel();
        let permit = Arc::clone(&semaphore).acquire_owned().await.unwrap();
        tasks.push(tokio::spawn(hold_stream(
            deployment.addr.clone(),
            path,
            Arc::clone(&slot),
            epoch,
            tx,
        )));
        waits.push(tokio::spawn(async move {
            let result = tokio::time::timeout(Duration::from_secs(30), rx).await;
            drop(permit);
            match result {
                Ok(Ok(result)) => result,
                Ok(Err(_)) => Err(Failure::other("stream: task ended", String::new())),
                Err(_) => Err(Failure::other("stream: no event in 30 s", String::new())),
            }
        }));
        slots.push((device.plan, slot));
    }
    let mut opened = 0;
    let mut failures: HashMap<String, usize> = HashMap::new();
    let mut first_failure = None;
    for wait in waits {
        match wait.await.expect("a stream opener finishes") {
            Ok(()) => opened += 1,
            Err(f) => {
                *failures.entry(f.kind).or_default() += 1;
                first_failure.get_or_insert(f.detail);
            }
        }
    }
    let open_time = started.elapsed();

    // A push on a sample of the plans with streams, each announced on all their streams?
    let mut plans: Vec<PlanId> = Vec::new();
    for (plan, _) in &slots {
        if plans.last() != Some(plan) {
            plans.push(*plan);
        }
    }
    let step = (plans.len() / SAMPLE_PLANS).max(1);
    let sample: Vec<PlanId> = plans
        .iter()
        .step_by(step)
        .take(SAMPLE_PLANS)
        .copied()
        .collect();
    // (plan, seq of the push, µs after the epoch when it was sent)
    let mut pushes: Vec<(PlanId, i64, u64)> = Vec::new();
    for plan in &sample {
        let device = devices
            .iter_mut()
            .find(|d| d.plan == *plan)
            .expect("a device of the plan");
        let op = device.next_op();
        let sent = epoch.elapsed().as_micros() as u64;
        match device.push(api, &[op]).await {
            Ok(seq) => pushes.push((*plan, seq, sent)),
            Err(e) => println!("     sample push failed: {}", e.detail),
        }
    }
    let watched: Vec<(&Arc<Slot>, i64, u64)> = slots
        .iter()
        .filter_map(|(plan, slot)| {
            let (_, seq, sent) = pushes.iter().find(|(p, _, _)| p == plan)?;
            Some((slot, *seq, *sent))
        })
        .collect();
    let heard = |slot: &Slot, seq: i64, sent: u64| {
        slot.last_seq.load(Ordering::SeqCst) >= seq
            && slot.seen_us.load(Ordering::SeqCst) <= sent + ANNOUNCE_WITHIN.as_micros() as u64
    };
    let last_sent = pushes.iter().map(|p| p.2).max().unwrap_or(0);
    let give_up = last_sent + ANNOUNCE_WITHIN.as_micros() as u64 + 100_000;
    while (epoch.elapsed().as_micros() as u64) < give_up
        && !watched
            .iter()
            .all(|(slot, seq, sent)| heard(slot, *seq, *sent))
    {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let mut delays: Vec<Duration> = watched
        .iter()
        .filter(|(slot, seq, sent)| heard(slot, *seq, *sent))
        .map(|(slot, _, sent)| {
            Duration::from_micros(slot.seen_us.load(Ordering::SeqCst).saturating_sub(*sent))
        })
        .collect();
    delays.sort();
    let held = slots
        .iter()
        .filter(|(_, s)| s.open.load(Ordering::SeqCst))
        .count();
    let memory = deployment.memory();
    let nginx_rss = deployment.nginx.as_ref().map(|_| {
        nginx_workers()
            .into_iter()
            .map(|pid| memory_mib(pid).1)
            .sum::<f64>()
    });
    for task in &tasks {
        task.abort();
    }
    for task in tasks {
        let _ = task.await;
    }
    let mut failures: Vec<(String, usize)> = failures.into_iter().collect();
    failures.sort_by_key(|failure| std::cmp::Reverse(failure.1));
    Streams {
        tried: count,
        opened,
        open_time,
        failures,
        first_failure,
        sampled: watched.len(),
        announced: delays.len(),
        sampled_plans: pushes.len(),
        announce_p50: percentile(&delays, 50.0),
        announce_max: delays.last().copied().unwrap_or_default(),
        held,
        memory,
        nginx_rss,
    }
}

// ---------------------------------------------------------------------------------------------
// One deployment

struct Figures {
    kind: Kind,
    setup_devices: usize,
    setup_plans: usize,
    setup: Duration,
    bulk: Bulk,
    join: Join,
    loads: Vec<Load>,
    streams: Streams,
    /// (VmHWM, VmRSS) per instance after the load phases, and at the end.
    after_load: Vec<(f64, f64)>,
    at_end: Vec<(f64, f64)>,
    /// Warning and error lines of the instances, and of nginx.
    warnings: (Vec<String>, Vec<String>),
}

async fn run_deployment(
    kind: Kind,
    options: &Options,
    pg_url: Option<String>,
    index: usize,
) -> Figures {
    let started = Instant::now();
    let deployment = Deployment::start(kind, pg_url, &options.nginx);
    let pids = deployment.pids();
    println!();
    println!(
        "=== ({index}) {}: instance pid{} {} at {}, phones connect to {} (load average {})",
        kind.title(),
        if pids.len() > 1 { "s" } else { "" },
        pids.iter()
            .map(u32::to_string)
            .collect::<Vec<_>>()
            .join(", "),
        deployment
            .instances
            .iter()
            .map(|i| i.addr.as_str())
            .collect::<Vec<_>>()
            .join(", "),
        deployment.addr,
        loadavg()
    );
    let session = sign_in(&deployment).await;
    let api = Arc::new(Api::new(&deployment.addr, session.clone()));

    let bulk = bulk(&api).await;
    println!(
        "(a) push {BULK_OPS} ops in batches of {BATCH}: {:.3} s, {:.0} ops/s; pull them: {:.3} s, {:.0} ops/s ({} requests)",
        bulk.push.as_secs_f64(),
        BULK_OPS as f64 / bulk.push.as_secs_f64(),
        bulk.pull.as_secs_f64(),
        BULK_OPS as f64 / bulk.pull.as_secs_f64(),
        bulk.pull_requests
    );
    let join = join_year_plan(&api).await;
    println!(
        "(j) a new phone joins the year plan: {} ops in {} requests, {:.3} s ({:.0} ops/s)",
        join.ops,
        join.requests,
        join.time.as_secs_f64(),
        join.ops as f64 / join.time.as_secs_f64()
    );

    let wanted = LOAD_DEVICES
        .iter()
        .copied()
        .max()
        .unwrap()
        .max(options.streams.div_ceil(STREAMS_PER_DEVICE));
    let setup_plans = wanted.div_ceil(DEVICES_PER_PLAN);
    let setup_started = Instant::now();
    let mut devices = make_plans(&api, setup_plans).await;
    let setup = setup_started.elapsed();
    println!(
        "setup: {} devices in {setup_plans} plans registered in {:.1} s ({SETUP_CONCURRENCY} plans at a time)",
        devices.len(),
        setup.as_secs_f64()
    );

    let mut loads = Vec::new();
    for (n, count) in LOAD_DEVICES.iter().enumerate() {
        let result = load(&api, &deployment, &mut devices, *count, options.load_secs).await;
        result.print(if n == 0 { "(b) " } else { "(b2)" });
        loads.push(result);
    }
    let after_load = deployment.memory();

    // A new client: the load phases' kept-open connections (one per device) are closed, so that
    // the streams have the open files of nginx and the instances to themselves.
    drop(api);
    let api = Arc::new(Api::new(&deployment.addr, session));
    let streams = streams(&api, &deployment, &mut devices, options.streams).await;
    println!(
        "(c) event streams: {} of {} opened in {:.1} s, {} held after the check; a push on {} plans announced on {} of their {} streams within {} s (median {:.1} ms, slowest {:.1} ms)",
        streams.opened,
        streams.tried,
        streams.open_time.as_secs_f64(),
        streams.held,
        streams.sampled_plans,
        streams.announced,
        streams.sampled,
        ANNOUNCE_WITHIN.as_secs(),
        ms(streams.announce_p50),
        ms(streams.announce_max)
    );
    for (kind, n) in streams.failures.iter().take(5) {
        println!("     {n} × {kind}");
    }
    if let Some(f) = &streams.first_failure {
        println!("     first failure: {f}");
    }
    // Let the instances notice the closed streams before the last reading.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let at_end = deployment.memory();
    let names = ["a", "b"];
    for (i, ((hwm, _), (_, rss_load))) in at_end.iter().zip(&after_load).enumerate() {
        let (_, rss_streams) = streams
            .memory
            .get(i)
            .copied()
            .unwrap_or((f64::NAN, f64::NAN));
        println!(
            "(d) instance {}: RSS after (b2) {rss_load:.1} MiB, with the streams open {rss_streams:.1} MiB, peak (VmHWM) {hwm:.1} MiB",
            names[i]
        );
    }
    if let Some(rss) = streams.nginx_rss {
        println!("(d) nginx workers: RSS with the streams open {rss:.1} MiB");
    }
    let warnings = deployment.warnings();
    if !warnings.0.is_empty() {
        println!("koers-server warnings/errors logged: {}", warnings.0.len());
        for line in warnings.0.iter().take(3) {
            println!("     {}", line.chars().take(300).collect::<String>());
        }
    }
    if !warnings.1.is_empty() {
        // One line of each kind: the message without connection numbers, paths and details.
        let mut kinds: Vec<(String, usize, &String)> = Vec::new();
        for line in &warnings.1 {
            let level = ["[warn]", "[error]", "[crit]", "[alert]", "[emerg]"]
                .into_iter()
                .find(|l| line.contains(l))
                .unwrap_or("?");
            let message = line.split_once(": ").map_or(line.as_str(), |(_, m)| m);
            let message =
                message.trim_start_matches(|c: char| c == '*' || c.is_ascii_digit() || c == ' ');
            let words: Vec<&str> = message
                .split(',')
                .next()
                .unwrap_or("")
                .split_whitespace()
                .filter(|w| !w.starts_with('/') && !w.chars().any(|c| c.is_ascii_digit()))
                .collect();
            let kind = format!("{level} {}", words.join(" "));
            match kinds.iter_mut().find(|(k, _, _)| *k == kind) {
                Some(entry) => entry.1 += 1,
                None => kinds.push((kind, 1, line)),
            }
        }
        println!("nginx warnings/errors logged: {}", warnings.1.len());
        for (_, n, line) in &kinds {
            println!("     {n} × {}", line.chars().take(260).collect::<String>());
        }
    }
    println!(
        "deployment done in {:.1} s (load average {})",
        started.elapsed().as_secs_f64(),
        loadavg()
    );
    drop(api);
    drop(deployment);
    Figures {
        kind,
        setup_devices: devices.len(),
        setup_plans,
        setup,
        bulk,
        join,
        loads,
        streams,
        after_load,
        at_end,
        warnings,
    }
}

// ---------------------------------------------------------------------------------------------
// The benchmark

async fn bench(options: Options, nofile: (u64, u64)) {
    let started = Instant::now();
    println!(
        "Koers sync benchmark{}: {} s load phases, up to {} event streams",
        if options.quick { " (quick)" } else { "" },
        options.load_secs,
        options.streams
    );
    println!(
        "machine: {} CPUs shared by the load generator, the instances, PostgreSQL and nginx; load average at start {}",
        std::thread::available_parallelism().map_or(0, |n| n.get()),
        loadavg()
    );
    println!(
        "open files limit (this process, inherited by the instances and nginx): soft {}, hard {}",
        nofile.0, nofile.1
    );

    let mut pg_note = None;
    let mut figures = Vec::new();
    for kind in &options.deployments {
        let pg_url = match kind {
            Kind::Sqlite => None,
            _ => {
                let url = postgres::fresh_database();
                if pg_note.is_none() {
                    let note = postgres_settings(&url, options.pg_test_settings);
                    println!("{note}");
                    pg_note = Some(note);
                }
                Some(url)
            }
        };
        let index = match kind {
            Kind::Sqlite => 1,
            Kind::Postgres => 2,
            Kind::PostgresPair => 3,
        };
        figures.push(run_deployment(*kind, &options, pg_url, index).await);
    }

    summary(&figures, &options, pg_note.as_deref());
    println!();
    println!(
        "total run time {:.1} s; load average at end {}",
        started.elapsed().as_secs_f64(),
        loadavg()
    );
    let errors: usize = figures
        .iter()
        .flat_map(|f| &f.loads)
        .map(|l| l.errors)
        .sum();
    if errors > 0 {
        std::process::exit(1);
    }
}

fn per_instance(values: &[f64]) -> String {
    values
        .iter()
        .map(|v| format!("{v:.0}"))
        .collect::<Vec<_>>()
        .join(" / ")
}

fn summary(figures: &[Figures], options: &Options, pg_note: Option<&str>) {
    let mut rows: Vec<(String, Vec<String>)> = Vec::new();
    let mut row = |label: String, value: &dyn Fn(&Figures) -> String| {
        rows.push((label, figures.iter().map(value).collect()));
    };
    if let Some(f) = figures.first() {
        row(
            format!(
                "setup: {} devices, {} plans (s)",
                f.setup_devices, f.setup_plans
            ),
            &|f| format!("{:.1}", f.setup.as_secs_f64()),
        );
    }
    row(format!("(a) push {BULK_OPS} ops (s)"), &|f| {
        format!("{:.3}", f.bulk.push.as_secs_f64())
    });
    row("(a) push ops/s".into(), &|f| {
        format!("{:.0}", BULK_OPS as f64 / f.bulk.push.as_secs_f64())
    });
    row(format!("(a) pull {BULK_OPS} ops (s)"), &|f| {
        format!("{:.3}", f.bulk.pull.as_secs_f64())
    });
    row("(a) pull ops/s".into(), &|f| {
        format!("{:.0}", BULK_OPS as f64 / f.bulk.pull.as_secs_f64())
    });
    row("(j) join year plan (s)".into(), &|f| {
        format!("{:.3}", f.join.time.as_secs_f64())
    });
    for (n, devices) in LOAD_DEVICES.iter().enumerate() {
        let tag = if n == 0 { "(b) " } else { "(b2)" };
        row(format!("{tag} {devices} devices: requests/s"), &|f| {
            format!("{:.0}", f.loads[n].rate())
        });
        row(format!("{tag} latency p50 (ms)"), &|f| {
            format!("{:.1}", ms(f.loads[n].p50))
        });
        row(format!("{tag} latency p99 (ms)"), &|f| {
            format!("{:.1}", ms(f.loads[n].p99))
        });
        row(format!("{tag} p99 push / pull (ms)"), &|f| {
            format!(
                "{:.0} / {:.0}",
                ms(f.loads[n].push_p99),
                ms(f.loads[n].pull_p99)
            )
        });
        row(format!("{tag} latency max (ms)"), &|f| {
            format!("{:.1}", ms(f.loads[n].max))
        });
        row(format!("{tag} errors"), &|f| f.loads[n].errors.to_string());
        row(format!("{tag} CPU cores gen/koers/db+ngx"), &|f| {
            f.loads[n].cpu.parts()
        });
        row(format!("{tag} CPU cores others / busy"), &|f| {
            format!(
                "{:.2} / {:.2}",
                f.loads[n].cpu.others, f.loads[n].cpu.machine
            )
        });
    }
    row("(c) streams opened / tried".into(), &|f| {
        format!("{} / {}", f.streams.opened, f.streams.tried)
    });
    row("(c) streams held after check".into(), &|f| {
        f.streams.held.to_string()
    });
    row("(c) time to open them (s)".into(), &|f| {
        format!("{:.1}", f.streams.open_time.as_secs_f64())
    });
    row(
        format!(
            "(c) push heard <= {} s (sampled)",
            ANNOUNCE_WITHIN.as_secs()
        ),
        &|f| format!("{} / {}", f.streams.announced, f.streams.sampled),
    );
    row("(c) push to event, p50/max (ms)".into(), &|f| {
        format!(
            "{:.0} / {:.0}",
            ms(f.streams.announce_p50),
            ms(f.streams.announce_max)
        )
    });
    row("(d) RSS after (b2) (MiB)".into(), &|f| {
        per_instance(&f.after_load.iter().map(|m| m.1).collect::<Vec<_>>())
    });
    row("(d) RSS, streams open (MiB)".into(), &|f| {
        per_instance(&f.streams.memory.iter().map(|m| m.1).collect::<Vec<_>>())
    });
    row("(d) peak RSS, VmHWM (MiB)".into(), &|f| {
        per_instance(&f.at_end.iter().map(|m| m.0).collect::<Vec<_>>())
    });
    row("(d) nginx RSS, streams open (MiB)".into(), &|f| {
        f.streams
            .nginx_rss
            .map_or_else(|| "-".to_owned(), |r| format!("{r:.0}"))
    });
    row("warnings logged: koers / nginx".into(), &|f| {
        format!("{} / {}", f.warnings.0.len(), f.warnings.1.len())
    });

    let label_width = rows
        .iter()
        .map(|(l, _)| l.chars().count())
        .max()
        .unwrap_or(10);
    let width = 20;
    let line = format!(
        "+-{}-+{}",
        "-".repeat(label_width),
        figures
            .iter()
            .map(|_| format!("-{}-+", "-".repeat(width)))
            .collect::<String>()
    );
    println!();
    println!(
        "Summary ({} s load phases, {} streams wanted; instances per column: a / b)",
        options.load_secs, options.streams
    );
    println!("{line}");
    println!(
        "| {:<label_width$} |{}",
        "",
        figures
            .iter()
            .map(|f| format!(" {:>width$} |", f.kind.column()))
            .collect::<String>()
    );
    println!("{line}");
    for (label, values) in &rows {
        println!(
            "| {:<label_width$} |{}",
            label,
            values
                .iter()
                .map(|v| format!(" {v:>width$} |"))
                .collect::<String>()
        );
    }
    println!("{line}");
    if let Some(note) = pg_note {
        println!("{note}; SQLite: WAL, synchronous=FULL");
    }
    if let Some(pair) = figures.iter().find(|f| f.kind == Kind::PostgresPair) {
        let load = pair.loads.last().expect("the load phases ran");
        let met = ms(load.p99) < BUDGET_P99_MS && load.errors == 0;
        println!(
            "budget, PostgreSQL x2 at {} devices: p99 < {BUDGET_P99_MS:.0} ms with 0 errors: {} (p99 {:.1} ms, {} errors)",
            load.devices,
            if met { "MET" } else { "MISSED" },
            ms(load.p99),
            load.errors
        );
    }
}

// ---------------------------------------------------------------------------------------------
// --baseline: what the access checks cost, today's build against this one

/// `--baseline=<old koers-server>`: the same requests to two server binaries in one run, in
/// turns (old, new, old, new, …), so that the machine's other work falls on both alike. Each
/// binary runs as a child process on loopback with its own empty SQLite folder; one client sends
/// one request after the other (no queue: each time is one request's round trip). The plans of
/// the new binary are founded with the session of its first administrator (enrolled with the
/// link it prints on its first start and a software passkey), as `POST /api/plans` demands; the
/// old one founds them without. Every plan is founded by its worker's device, which also does
/// the pushing and pulling (a professional's phone).
///
/// Phases, each run in `rounds` turns per binary after a warm-up (the first read of a plan by a
/// device writes an access-log line, later ones within 15 minutes do not):
/// - push: 1 operation per request (`POST /api/plans/{plan}/ops`), one device, one plan;
/// - bulk push: 10,000 operations in 1,000-operation batches, a fresh plan each turn;
/// - pull, nothing new: `GET /api/plans/{plan}/ops?after=<head>` of the push phase's plan;
/// - full pull: the bulk plan of the same turn from the start, page after page (1,000 each);
/// - `POST /api/sync` of 20 plans with nothing new, the round a professional's phone makes.
///
/// Per binary: ms per request (median, p99), requests per second (1 / mean), and the server's
/// CPU time per request (user + system of the process, from /proc; what the checks cost,
/// whatever the other processes on the machine do).
mod access {
    use super::*;

    /// Turns per binary, and the requests of each phase in one turn.
    struct Sizes {
        rounds: usize,
        pushes: usize,
        pulls: usize,
        syncs: usize,
    }

    const FULL: Sizes = Sizes {
        rounds: 10,
        pushes: 200,
        pulls: 200,
        syncs: 100,
    };
    const QUICK: Sizes = Sizes {
        rounds: 2,
        pushes: 50,
        pulls: 50,
        syncs: 20,
    };
    /// Plans in the phone's round of `POST /api/sync`.
    const CASELOAD: usize = 20;
    /// Requests of each kind sent before the measured turns.
    const WARM_UP: usize = 50;

    #[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
    enum Phase {
        Push,
        Batch,
        Bulk,
        Pull,
        Page,
        Full,
        Sync,
    }

    /// One binary under test.
    struct Side {
        label: String,
        path: String,
        instance: Instance,
        api: Api,
        /// The device of the push and pull phases.
        small: Device,
        /// The worker's device in each of [`CASELOAD`] plans, at its plan's head.
        caseload: Vec<Device>,
        /// The bulk plan of the current turn (for the full pull).
        bulk: Option<Device>,
        times: HashMap<Phase, Vec<Duration>>,
        /// Server CPU seconds spent in each phase.
        cpu: HashMap<Phase, f64>,
        /// Requests sent in each phase (for the CPU per request).
        requests: HashMap<Phase, usize>,
        /// The SQLite folder (removed when dropped, after the instance).
        _database: Database,
    }

    impl Side {
        async fn start(name: &str, label: String, path: String, dist: &common::Dist) -> Side {
            let database = Database::Sqlite(Arc::new(tempfile::tempdir().unwrap()));
            let mut instance = Instance::with_program(name, &database, dist, path.clone(), vec![]);
            instance.restart();
            // The first administrator, where the binary has professionals.
            let session = match instance.enrolment_link() {
                Some(link) => {
                    let api = Api::new(&instance.addr, String::new());
                    let api = &api;
                    common::professional::enrol_async(&link, |path, body| async move {
                        let reply = api
                            .call(Method::POST, path, None, Some(&body))
                            .await
                            .unwrap_or_else(|e| panic!("POST {path}: {e}"));
                        (reply.status.as_u16(), reply.json)
                    })
                    .await
                    .session
                }
                None => String::new(),
            };
            let api = Api::new(&instance.addr, session);
            let small = make_plan(&api, 0).await.pop().unwrap();
            let mut caseload = Vec::with_capacity(CASELOAD);
            for _ in 0..CASELOAD {
                caseload.push(make_plan(&api, 0).await.pop().unwrap());
            }
            Side {
                label,
                path,
                instance,
                api,
                small,
                caseload,
                bulk: None,
                times: HashMap::new(),
                cpu: HashMap::new(),
                requests: HashMap::new(),
                _database: database,
            }
        }

        fn pid(&self) -> u32 {
            self.instance.pid().expect("the instance runs")
        }

        fn note(&mut self, phase: Phase, time: Duration) {
            self.times.entry(phase).or_default().push(time);
        }

        /// Server CPU used while `requests` requests of `phase` ran (from `cpu_before`).
        fn charge(&mut self, phase: Phase, cpu_before: f64, requests: usize) {
            *self.cpu.entry(phase).or_default() += cpu_seconds(self.pid()) - cpu_before;
            *self.requests.entry(phase).or_default() += requests;
        }

        async fn push_one(&mut self) -> Duration {
            let op = self.small.next_op();
            let started = Instant::now();
            self.small.push(&self.api, &[op]).await.expect("a push");
            started.elapsed()
        }

        async fn pushes(&mut self, n: usize, measured: bool) {
            let cpu = cpu_seconds(self.pid());
            for _ in 0..n {
                let time = self.push_one().await;
                if measured {
                    self.note(Phase::Push, time);
                }
            }
            if measured {
                self.charge(Phase::Push, cpu, n);
            }
        }

        /// One pull after the device's cursor that must bring nothing.
        async fn pull_nothing(&self) -> Duration {
            let path = format!(
                "/api/plans/{}/ops?after={}",
                self.small.plan, self.small.cursor
            );
            let started = Instant::now();
            let reply = self
                .api
                .call(Method::GET, &path, Some(&self.small.token), None)
                .await
                .expect("a pull");
            let time = started.elapsed();
            assert_eq!(reply.status, StatusCode::OK, "pull: {}", reply.json);
            assert_eq!(
                reply.json["ops"].as_array().map(Vec::len),
                Some(0),
                "nothing new"
            );
            time
        }

        async fn pulls(&mut self, n: usize, measured: bool) {
            // Up to the head the pushes left (not measured).
            self.small.pull(&self.api).await.expect("catching up");
            let cpu = cpu_seconds(self.pid());
            for _ in 0..n {
                let time = self.pull_nothing().await;
                if measured {
                    self.note(Phase::Pull, time);
                }
            }
            if measured {
                self.charge(Phase::Pull, cpu, n);
            }
        }

        /// A fresh plan gets [`BULK_OPS`] operations from its worker in batches of [`BATCH`].
        async fn bulk_push(&mut self) {
            let mut device = make_plan(&self.api, 0).await.pop().unwrap();
            let ops: Vec<Op> = (0..BULK_OPS).map(|_| device.next_op()).collect();
            let cpu = cpu_seconds(self.pid());
            let started = Instant::now();
            for batch in ops.chunks(BATCH) {
                let one = Instant::now();
                device.push(&self.api, batch).await.expect("a bulk push");
                self.note(Phase::Batch, one.elapsed());
            }
            self.note(Phase::Bulk, started.elapsed());
            self.charge(Phase::Batch, cpu, BULK_OPS.div_ceil(BATCH));
            self.bulk = Some(device);
        }

        /// The bulk plan from the start, page after page, as a new phone pulls it.
        async fn full_pull(&mut self) {
            let device = self.bulk.take().expect("the bulk plan of this turn");
            let cpu = cpu_seconds(self.pid());
            let started = Instant::now();
            let (mut after, mut pages, mut ops) = (0i64, 0usize, 0usize);
            loop {
                let path = format!("/api/plans/{}/ops?after={after}", device.plan);
                let one = Instant::now();
                let reply = self
                    .api
                    .call(Method::GET, &path, Some(&device.token), None)
                    .await
                    .expect("a pull");
                self.note(Phase::Page, one.elapsed());
                assert_eq!(reply.status, StatusCode::OK, "pull: {}", reply.json);
                pages += 1;
                ops += reply.json["ops"].as_array().map_or(0, Vec::len);
                after = reply.json["cursor"].as_i64().expect("a cursor");
                if reply.json["more"] != json!(true) {
                    break;
                }
            }
            self.note(Phase::Full, started.elapsed());
            self.charge(Phase::Page, cpu, pages);
            assert!(ops >= BULK_OPS, "the full pull brought {ops} operations");
        }

        /// The phone's round: every plan of the caseload after its head, nothing to push.
        async fn sync_round(&self) -> Duration {
            let entries: Vec<Value> = self
                .caseload
                .iter()
                .map(|d| json!({ "plan": d.plan, "token": d.token, "after": d.cursor, "limit": 1000 }))
                .collect();
            let body = json!({ "plans": entries });
            let started = Instant::now();
            let reply = self
                .api
                .call(Method::POST, "/api/sync", None, Some(&body))
                .await
                .expect("a sync round");
            let time = started.elapsed();
            assert_eq!(reply.status, StatusCode::OK, "sync: {}", reply.json);
            let plans = reply.json["plans"].as_array().expect("plans");
            assert_eq!(plans.len(), CASELOAD);
            for plan in plans {
                assert!(plan["error"].is_null(), "sync entry: {plan}");
                assert_eq!(plan["ops"].as_array().map(Vec::len), Some(0), "nothing new");
            }
            time
        }

        async fn syncs(&mut self, n: usize, measured: bool) {
            let cpu = cpu_seconds(self.pid());
            for _ in 0..n {
                let time = self.sync_round().await;
                if measured {
                    self.note(Phase::Sync, time);
                }
            }
            if measured {
                self.charge(Phase::Sync, cpu, n);
            }
        }

        fn sorted(&self, phase: Phase) -> Vec<Duration> {
            let mut times = self.times.get(&phase).cloned().unwrap_or_default();
            times.sort();
            times
        }

        fn median_ms(&self, phase: Phase) -> f64 {
            ms(percentile(&self.sorted(phase), 50.0))
        }

        fn p99_ms(&self, phase: Phase) -> f64 {
            ms(percentile(&self.sorted(phase), 99.0))
        }

        /// Requests per second of one client sending one after the other: 1 / mean.
        fn per_second(&self, phase: Phase) -> f64 {
            let times = self.sorted(phase);
            let total: f64 = times.iter().map(Duration::as_secs_f64).sum();
            times.len() as f64 / total.max(1e-9)
        }

        /// Server CPU milliseconds per request.
        fn cpu_ms(&self, phase: Phase) -> f64 {
            let requests = self.requests.get(&phase).copied().unwrap_or(0).max(1);
            self.cpu.get(&phase).copied().unwrap_or(0.0) * 1000.0 / requests as f64
        }
    }

    /// The binary the example sits next to: `<target>/<profile>/koers-server`.
    fn sibling_server() -> String {
        let exe = std::env::current_exe().expect("this program's path");
        let dir = exe
            .parent()
            .and_then(std::path::Path::parent)
            .expect("examples/ in a profile's folder");
        dir.join("koers-server").to_string_lossy().into_owned()
    }

    fn describe(path: &str) -> String {
        let modified = std::fs::metadata(path)
            .and_then(|m| m.modified())
            .ok()
            .map(|t| {
                let utc: chrono::DateTime<chrono::Utc> = t.into();
                utc.format("%Y-%m-%d %H:%M UTC").to_string()
            })
            .unwrap_or_else(|| "?".to_owned());
        format!("{path} (built {modified})")
    }

    pub async fn run(baseline: String, new: Option<String>, quick: bool) {
        let began = Instant::now();
        let sizes = if quick { QUICK } else { FULL };
        let new = new.unwrap_or_else(sibling_server);
        for path in [&baseline, &new] {
            assert!(
                std::path::Path::new(path).is_file(),
                "no server binary at {path} (build it: cargo build --profile server -p koers-server)"
            );
        }
        println!(
            "Koers access-check benchmark: today's build against this build, SQLite, one client on loopback, {} turns each, alternating",
            sizes.rounds
        );
        println!("  today's build: {}", describe(&baseline));
        println!("  this build:    {}", describe(&new));
        println!(
            "  machine: {} CPUs shared by the client and both servers; load average at start {}",
            std::thread::available_parallelism().map_or(0, |n| n.get()),
            loadavg()
        );
        let dist = common::make_dist();
        let mut sides = vec![
            Side::start("old", "today's build".to_owned(), baseline, &dist).await,
            Side::start("new", "this build".to_owned(), new, &dist).await,
        ];
        for side in &sides {
            println!(
                "  {}: {} at {}, plans founded {}",
                side.label,
                side.path,
                side.instance.addr,
                if side.api.session.is_empty() {
                    "without a session"
                } else {
                    "with the first administrator's session"
                }
            );
        }
        // Warm-up: connections, caches, and each device's first read (an access-log line).
        for side in &mut sides {
            side.pushes(WARM_UP, false).await;
            side.pulls(WARM_UP, false).await;
            side.syncs(WARM_UP, false).await;
        }
        let machine = machine_busy_seconds();
        let clock = Instant::now();
        for round in 0..sizes.rounds {
            for side in &mut sides {
                side.pushes(sizes.pushes, true).await;
            }
            for side in &mut sides {
                side.bulk_push().await;
            }
            for side in &mut sides {
                side.pulls(sizes.pulls, true).await;
            }
            for side in &mut sides {
                side.full_pull().await;
            }
            for side in &mut sides {
                side.syncs(sizes.syncs, true).await;
            }
            eprintln!("access: turn {}/{} done", round + 1, sizes.rounds);
        }
        let busy = (machine_busy_seconds() - machine) / clock.elapsed().as_secs_f64();
        summary(&sides, &sizes, busy);
        for side in &sides {
            let warnings: Vec<String> = side
                .instance
                .log()
                .lines()
                .filter(|l| l.contains(" WARN ") || l.contains(" ERROR "))
                .map(str::to_owned)
                .collect();
            if !warnings.is_empty() {
                println!(
                    "{} logged {} warnings; the first: {}",
                    side.label,
                    warnings.len(),
                    warnings[0]
                );
            }
        }
        println!(
            "total run time {:.1} s; load average at end {}",
            began.elapsed().as_secs_f64(),
            loadavg()
        );
    }

    fn summary(sides: &[Side], sizes: &Sizes, busy: f64) {
        let (old, new) = (&sides[0], &sides[1]);
        let n = |per_turn: usize| format!("{}", per_turn * sizes.rounds);
        let mut rows: Vec<[String; 4]> = Vec::new();
        let pct = |a: f64, b: f64| {
            if a > 0.0 {
                format!("{:+.0}%", (b - a) / a * 100.0)
            } else {
                "–".to_owned()
            }
        };
        // Median / p99 in ms, and the difference of both.
        let mut latency = |label: String, phase: Phase, unit: f64, decimals: usize| {
            let (om, op) = (old.median_ms(phase) / unit, old.p99_ms(phase) / unit);
            let (nm, np) = (new.median_ms(phase) / unit, new.p99_ms(phase) / unit);
            rows.push([
                label,
                format!("{om:.decimals$} / {op:.decimals$}"),
                format!("{nm:.decimals$} / {np:.decimals$}"),
                format!(
                    "{:+.decimals$} / {:+.decimals$} ({})",
                    nm - om,
                    np - op,
                    pct(om, nm)
                ),
            ]);
        };
        latency(
            format!("push, 1 op ({}): ms, median / p99", n(sizes.pushes)),
            Phase::Push,
            1.0,
            2,
        );
        latency(
            format!("push 10,000 ops in 1,000-op batches ({}): s", sizes.rounds),
            Phase::Bulk,
            1000.0,
            3,
        );
        latency("… one batch of 1,000: ms".to_owned(), Phase::Batch, 1.0, 1);
        latency(
            format!("pull, nothing new ({}): ms", n(sizes.pulls)),
            Phase::Pull,
            1.0,
            2,
        );
        latency(
            format!("full pull, 10,000 ops ({}): s", sizes.rounds),
            Phase::Full,
            1000.0,
            3,
        );
        latency("… one page of 1,000: ms".to_owned(), Phase::Page, 1.0, 1);
        latency(
            format!(
                "POST /api/sync, {CASELOAD} plans, nothing new ({}): ms",
                n(sizes.syncs)
            ),
            Phase::Sync,
            1.0,
            2,
        );
        for (label, phase) in [
            ("push, 1 op", Phase::Push),
            ("pull, nothing new", Phase::Pull),
            ("POST /api/sync, 20 plans", Phase::Sync),
        ] {
            let (a, b) = (old.per_second(phase), new.per_second(phase));
            rows.push([
                format!("{label}: requests/s, one client"),
                format!("{a:.0}"),
                format!("{b:.0}"),
                pct(a, b),
            ]);
        }
        for (label, phase) in [
            ("push, 1 op", Phase::Push),
            ("push, a batch of 1,000", Phase::Batch),
            ("pull, nothing new", Phase::Pull),
            ("full pull, a page of 1,000", Phase::Page),
            ("POST /api/sync, 20 plans", Phase::Sync),
        ] {
            let (a, b) = (old.cpu_ms(phase), new.cpu_ms(phase));
            rows.push([
                format!("{label}: server CPU ms per request"),
                format!("{a:.3}"),
                format!("{b:.3}"),
                format!("{:+.3} ({})", b - a, pct(a, b)),
            ]);
        }
        let head = [
            "".to_owned(),
            old.label.clone(),
            new.label.clone(),
            "difference".to_owned(),
        ];
        let widths: Vec<usize> = (0..4)
            .map(|i| {
                rows.iter()
                    .chain(std::iter::once(&head))
                    .map(|r| r[i].chars().count())
                    .max()
                    .unwrap_or(0)
            })
            .collect();
        let print = |r: &[String; 4]| {
            println!(
                "| {:<w0$} | {:>w1$} | {:>w2$} | {:>w3$} |",
                r[0],
                r[1],
                r[2],
                r[3],
                w0 = widths[0],
                w1 = widths[1],
                w2 = widths[2],
                w3 = widths[3]
            )
        };
        println!();
        print(&head);
        println!(
            "|{}|",
            widths
                .iter()
                .map(|w| "-".repeat(w + 2))
                .collect::<Vec<_>>()
                .join("|")
        );
        for row in &rows {
            print(row);
        }
        println!(
            "machine busy during the turns: {busy:.2} of {} CPUs (both servers, this client and everything else)",
            std::thread::available_parallelism().map_or(0, |n| n.get())
        );
    }
}
