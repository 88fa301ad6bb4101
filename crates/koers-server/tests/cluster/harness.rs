//! The cluster under test: N `koers-server` processes on one database ([`Instance`]), nginx in
//! front of them ([`Nginx`]), started together by [`Cluster::start`].
//!
//! nginx runs a test config made from deploy/nginx/koers.conf itself: its `upstream koers` block
//! (with the instances' ports), its `log_format koers` and every line between its `BEGIN` and
//! `END` markers, in a plain-HTTP server on a free port. The test server adds one header,
//! `X-Koers-Upstream` (the instance that answered), so that the tests can see where a request
//! went without asking the server.

use std::io::{BufRead as _, BufReader};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::{channel, Receiver};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::client::{server_bin, Conn, Reply};
use crate::common::{make_dist, Dist};
use crate::http::try_call;

/// The line koers-server prints once it listens.
const STARTED: &str = "Koers is running: open http://";
/// Debian's nginx, or `KOERS_TEST_NGINX`.
const NGINX: &str = "/usr/sbin/nginx";
/// The production example the test config is made from.
pub const NGINX_CONF: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../deploy/nginx/koers.conf");
const BEGIN: &str = "# BEGIN koers proxy settings";
const END: &str = "# END koers proxy settings";
/// The header the test server adds: which instance answered (nginx's `$upstream_addr`).
pub const UPSTREAM_HEADER: &str = "x-koers-upstream";

/// Polls `check` every 20 ms until it answers `Some`, or panics with `what` after `limit`.
pub fn wait_for<T>(limit: Duration, what: &str, mut check: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + limit;
    loop {
        if let Some(value) = check() {
            return value;
        }
        assert!(
            Instant::now() < deadline,
            "timed out after {limit:?}: {what}"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// A loopback port that was free a moment ago.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Where the instances keep their data.
#[derive(Clone)]
pub enum Database {
    /// A database of PostgreSQL (`KOERS_DATABASE_URL`).
    Postgres(String),
    /// One SQLite folder shared by the instances (`KOERS_DATA`): the development aid selected
    /// with `KOERS_CLUSTER_BACKEND=sqlite`.
    Sqlite(Arc<tempfile::TempDir>),
}

impl Database {
    /// A fresh database of the backend the tests run on (see the crate doc).
    pub fn fresh() -> Database {
        if sqlite_backend() {
            Database::Sqlite(Arc::new(tempfile::tempdir().unwrap()))
        } else {
            Database::Postgres(crate::postgres::fresh_database())
        }
    }
}

/// True when `KOERS_CLUSTER_BACKEND=sqlite`.
pub fn sqlite_backend() -> bool {
    std::env::var("KOERS_CLUSTER_BACKEND").is_ok_and(|b| b.eq_ignore_ascii_case("sqlite"))
}

/// Fails a test that needs PostgreSQL when the tests run on SQLite (never a silent skip).
pub fn require_postgres(why: &str) {
    assert!(
        !sqlite_backend(),
        "this test needs PostgreSQL ({why}); unset KOERS_CLUSTER_BACKEND=sqlite"
    );
}

/// One `koers-server` process, on a fixed port so that it can be restarted where nginx expects
/// it.
pub struct Instance {
    /// `a`, `b`, … in the order started.
    pub name: String,
    /// `127.0.0.1:<port>`.
    pub addr: String,
    env: Vec<(String, String)>,
    child: Option<Child>,
    /// Told when the current run printed its startup line (a Mutex only so that an
    /// `&Instance` can be shared between threads).
    started: Mutex<Option<Receiver<()>>>,
    /// Everything the process printed (stdout and stderr), all runs.
    log: Arc<Mutex<Vec<String>>>,
    _data: tempfile::TempDir,
    /// A program and arguments to run instead of [`server_bin`] ([`Instance::with_program`]).
    program: Option<(String, Vec<String>)>,
}

impl Instance {
    fn new(name: &str, database: &Database, dist: &Dist) -> Instance {
        let port = free_port();
        let own_data = tempfile::tempdir().unwrap();
        let mut env = vec![
            ("KOERS_ADDR".to_owned(), format!("127.0.0.1:{port}")),
            ("KOERS_DIST".to_owned(), path_text(dist.path())),
            ("KOERS_BEHIND_PROXY".to_owned(), "1".to_owned()),
            (
                "KOERS_LOG".to_owned(),
                std::env::var("KOERS_CLUSTER_LOG").unwrap_or_else(|_| "warn".to_owned()),
            ),
        ];
        match database {
            Database::Postgres(url) => {
                env.push(("KOERS_DATABASE_URL".to_owned(), url.clone()));
                // Not used with PostgreSQL; a folder of its own all the same.
                env.push(("KOERS_DATA".to_owned(), path_text(own_data.path())));
            }
            Database::Sqlite(dir) => env.push(("KOERS_DATA".to_owned(), path_text(dir.path()))),
        }
        Instance {
            name: name.to_owned(),
            addr: format!("127.0.0.1:{port}"),
            env,
            child: None,
            started: Mutex::new(None),
            log: Arc::default(),
            _data: own_data,
            program: None,
        }
    }

    /// An instance that runs `program` with `args` instead of the server binary, with the same
    /// environment (examples/sync_bench.rs runs itself with `--serve`); not started:
    /// [`Instance::restart`] starts it.
    #[allow(dead_code)] // examples/sync_bench.rs, which includes this file
    pub fn with_program(
        name: &str,
        database: &Database,
        dist: &Dist,
        program: String,
        args: Vec<String>,
    ) -> Instance {
        let mut instance = Instance::new(name, database, dist);
        instance.program = Some((program, args));
        instance
    }

    /// Sets `KOERS_PUBLIC_URL` for the next start: the address people open Koers at (the
    /// passkeys' origin), such as nginx's in front of the instances.
    pub fn set_public_url(&mut self, url: &str) {
        self.env.retain(|(name, _)| name != "KOERS_PUBLIC_URL");
        self.env
            .push(("KOERS_PUBLIC_URL".to_owned(), url.to_owned()));
    }

    /// The first administrator's one-time link this instance printed last (each start prints a
    /// new one while the organisation has no account).
    pub fn enrolment_link(&self) -> Option<String> {
        self.log
            .lock()
            .unwrap()
            .iter()
            .rev()
            .find_map(|line| crate::common::professional::link_in_line(line))
    }

    /// The running process's id.
    #[allow(dead_code)] // examples/sync_bench.rs
    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
    }

    /// Starts the process; [`Instance::wait_started`] waits for it to listen.
    fn spawn(&mut self) {
        assert!(self.child.is_none(), "instance {} is running", self.name);
        let mut command = match &self.program {
            Some((program, args)) => {
                let mut command = Command::new(program);
                command.args(args);
                command
            }
            None => Command::new(server_bin()),
        };
        command
            .env_remove("KOERS_DATABASE_URL")
            .env_remove("KOERS_DATA")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        for (name, value) in &self.env {
            command.env(name, value);
        }
        let mut child = command.spawn().expect("koers-server starts");
        let (tx, rx) = channel();
        let stdout = child.stdout.take().unwrap();
        let stderr = child.stderr.take().unwrap();
        let prefix = format!("[{} pid {}] ", self.name, child.id());
        for (pipe, tx) in [
            (Box::new(stdout) as Box<dyn std::io::Read + Send>, Some(tx)),
            (Box::new(stderr), None),
        ] {
            let log = Arc::clone(&self.log);
            let prefix = prefix.clone();
            std::thread::spawn(move || {
                for line in BufReader::new(pipe).lines() {
                    let Ok(line) = line else { break };
                    if line.starts_with(STARTED) {
                        if let Some(tx) = &tx {
                            let _ = tx.send(());
                        }
                    }
                    log.lock().unwrap().push(format!("{prefix}{line}"));
                }
            });
        }
        self.child = Some(child);
        self.started = Mutex::new(Some(rx));
    }

    /// Waits (up to 30 s) for the startup line; panics with the output if the process ends or
    /// says nothing.
    fn wait_started(&mut self) {
        let rx = self.started.get_mut().unwrap().take().expect("spawned");
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if rx.recv_timeout(Duration::from_millis(50)).is_ok() {
                return;
            }
            let child = self.child.as_mut().unwrap();
            if let Some(status) = child.try_wait().unwrap() {
                // Let the readers catch the last lines.
                std::thread::sleep(Duration::from_millis(100));
                panic!(
                    "instance {} exited ({status}) before it listened:\n{}",
                    self.name,
                    self.log()
                );
            }
            if Instant::now() > deadline {
                panic!(
                    "instance {} printed no startup line in 30 s:\n{}",
                    self.name,
                    self.log()
                );
            }
        }
    }

    /// Everything the instance printed so far.
    pub fn log(&self) -> String {
        self.log.lock().unwrap().join("\n")
    }

    /// A new keep-alive connection straight to this instance (bypassing nginx).
    pub fn conn(&self) -> Conn {
        Conn::new(&self.addr)
    }

    /// `GET /healthz` straight to this instance: its status, or `None` if nothing answers.
    pub fn health(&self) -> Option<(u16, Value)> {
        try_call(&mut self.conn(), "GET", "/healthz", None, None)
            .ok()
            .map(|r| (r.status, r.json))
    }

    /// Waits until `/healthz` answers `status` (up to `limit`).
    pub fn wait_health(&self, status: u16, limit: Duration) -> Value {
        let mut last;
        let mut conn = self.conn();
        let deadline = Instant::now() + limit;
        loop {
            match try_call(&mut conn, "GET", "/healthz", None, None) {
                Ok(reply) if reply.status == status => return reply.json,
                Ok(reply) => last = Some(format!("{} {}", reply.status, reply.json)),
                Err(err) => last = Some(err),
            }
            assert!(
                Instant::now() < deadline,
                "instance {} /healthz did not say {status} within {limit:?} (last: {last:?}):\n{}",
                self.name,
                self.log()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// SIGKILL: the process ends at once, mid-request if need be.
    pub fn kill_hard(&mut self) {
        let mut child = self.child.take().expect("instance is running");
        child.kill().unwrap();
        child.wait().unwrap();
    }

    /// Starts the process again on the same port and database, and waits until it is healthy.
    pub fn restart(&mut self) {
        self.spawn();
        self.wait_started();
        self.wait_health(200, Duration::from_secs(30));
    }
}

impl Drop for Instance {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

fn path_text(path: &Path) -> String {
    path.to_str().expect("a UTF-8 temp path").to_owned()
}

/// How many connections nginx can hold ([`Nginx::start_with_capacity`]).
#[allow(dead_code)] // examples/sync_bench.rs, which includes this file
pub struct Capacity {
    /// `worker_processes`; the listening socket gets `reuseport`, so that the kernel spreads the
    /// connections over them.
    pub workers: usize,
    /// `worker_connections`: per worker, a proxied request counts twice (client and upstream).
    pub worker_connections: usize,
    /// `worker_rlimit_nofile`.
    pub open_files: u64,
}

/// nginx in front of the instances, from the test config (see the module doc).
pub struct Nginx {
    child: Option<Child>,
    /// `127.0.0.1:<port>`.
    pub addr: String,
    dir: tempfile::TempDir,
}

/// The nginx binary, or a failure that says how to install it.
pub fn nginx_bin() -> String {
    let bin = std::env::var("KOERS_TEST_NGINX").unwrap_or_else(|_| NGINX.to_owned());
    assert!(
        Path::new(&bin).is_file(),
        "nginx is not installed: run scripts/setup.sh --test"
    );
    bin
}

/// True if this process runs as root (nginx's workers would then switch to `nobody`).
fn running_as_root() -> bool {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            status
                .lines()
                .find(|l| l.starts_with("Uid:"))
                .and_then(|l| l.split_whitespace().nth(2).map(|euid| euid == "0"))
        })
        .unwrap_or(false)
}

/// The parts of deploy/nginx/koers.conf the test server is made of: the `upstream koers` block,
/// the `log_format koers` statement and the lines between the markers.
pub struct ProductionConf {
    pub text: String,
}

impl ProductionConf {
    pub fn read() -> ProductionConf {
        ProductionConf {
            text: std::fs::read_to_string(NGINX_CONF)
                .unwrap_or_else(|e| panic!("{NGINX_CONF}: {e}")),
        }
    }

    /// The upstream block with `servers` in place of its `server` lines (the rest, such as
    /// `keepalive`, kept).
    pub fn upstream(&self, servers: &[String]) -> String {
        let start = self
            .text
            .find("upstream koers {")
            .expect("koers.conf has `upstream koers {`");
        let end = start
            + self.text[start..]
                .find("\n}")
                .expect("the upstream block ends")
            + 2;
        let mut block = String::new();
        for line in self.text[start..end].lines() {
            if line.trim_start().starts_with("server ") {
                continue;
            }
            block.push_str(line);
            block.push('\n');
            if line.starts_with("upstream koers {") {
                for server in servers {
                    block.push_str(&format!("    server {server};\n"));
                }
            }
        }
        block
    }

    /// The `log_format koers …;` statement.
    pub fn log_format(&self) -> String {
        let start = self
            .text
            .find("log_format koers ")
            .expect("koers.conf has `log_format koers`");
        let end = start + self.text[start..].find(';').unwrap() + 1;
        self.text[start..end].to_owned()
    }

    /// The lines between the BEGIN and END markers.
    pub fn proxy_settings(&self) -> String {
        let start = self
            .text
            .find(BEGIN)
            .expect("koers.conf has the BEGIN marker");
        let end = self.text.find(END).expect("koers.conf has the END marker");
        assert!(start < end, "BEGIN comes before END in koers.conf");
        self.text[start..end].to_owned()
    }
}

impl Nginx {
    /// Starts nginx in front of `upstreams` (`host:port` each) and waits until it accepts
    /// connections.
    pub fn start(upstreams: &[String]) -> Nginx {
        Nginx::start_with_capacity(upstreams, None)
    }

    /// [`Nginx::start`], sized by `capacity` when `Some` (examples/sync_bench.rs holds thousands
    /// of event streams); `None` is exactly [`Nginx::start`].
    pub fn start_with_capacity(upstreams: &[String], capacity: Option<&Capacity>) -> Nginx {
        Nginx::start_at(free_port(), upstreams, capacity)
    }

    /// [`Nginx::start_with_capacity`] on a loopback `port` chosen beforehand (the instances
    /// behind it are told it: their public URL is `http://localhost:<port>`).
    pub fn start_at(port: u16, upstreams: &[String], capacity: Option<&Capacity>) -> Nginx {
        let (workers, rlimit, connections, reuseport) = match capacity {
            Some(c) => (
                c.workers,
                format!("worker_rlimit_nofile {};\n", c.open_files),
                c.worker_connections,
                " reuseport",
            ),
            None => (1, String::new(), 1024, ""),
        };
        let bin = nginx_bin();
        let conf = ProductionConf::read();
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        let user = if running_as_root() {
            // As root the workers would switch to nobody, who cannot write the temp folders
            // (0700, root's) where nginx keeps request bodies and buffered responses.
            "user root;\n"
        } else {
            ""
        };
        let config = format!(
            "# Made by crates/koers-server/tests/cluster/harness.rs from {NGINX_CONF}.\n\
             {user}daemon off;\n\
             master_process on;\n\
             worker_processes {workers};\n\
             {rlimit}pid {d}/nginx.pid;\n\
             error_log {d}/error.log info;\n\
             events {{ worker_connections {connections}; }}\n\
             http {{\n\
             client_body_temp_path {d}/client_body;\n\
             proxy_temp_path {d}/proxy;\n\
             fastcgi_temp_path {d}/fastcgi;\n\
             uwsgi_temp_path {d}/uwsgi;\n\
             scgi_temp_path {d}/scgi;\n\
             {log_format}\n\
             {upstream}\n\
             server {{\n\
             listen 127.0.0.1:{port}{reuseport};\n\
             access_log {d}/access.log koers;\n\
             add_header X-Koers-Upstream $upstream_addr always;\n\
             {settings}\n\
             }}\n\
             }}\n",
            d = d.display(),
            log_format = conf.log_format(),
            upstream = conf.upstream(upstreams),
            settings = conf.proxy_settings(),
        );
        let conf_path = d.join("nginx.conf");
        std::fs::write(&conf_path, config).unwrap();
        let stderr = std::fs::File::create(d.join("stderr.log")).unwrap();
        let child = Command::new(&bin)
            .arg("-p")
            .arg(format!("{}/", d.display()))
            .arg("-e")
            .arg(d.join("error.log"))
            .arg("-c")
            .arg(&conf_path)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(stderr)
            .spawn()
            .expect("nginx starts");
        let mut nginx = Nginx {
            child: Some(child),
            addr: format!("127.0.0.1:{port}"),
            dir,
        };
        let started = Instant::now();
        loop {
            if TcpStream::connect(&nginx.addr).is_ok() {
                break;
            }
            if let Some(status) = nginx.child.as_mut().unwrap().try_wait().unwrap() {
                panic!("nginx exited ({status}):\n{}", nginx.errors());
            }
            assert!(
                started.elapsed() < Duration::from_secs(10),
                "nginx did not listen within 10 s:\n{}",
                nginx.errors()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        nginx
    }

    /// nginx's error log and stderr.
    pub fn errors(&self) -> String {
        let read =
            |name: &str| std::fs::read_to_string(self.dir.path().join(name)).unwrap_or_default();
        format!("{}{}", read("stderr.log"), read("error.log"))
    }

    /// nginx's access log so far (the production log format).
    pub fn access_log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("access.log")).unwrap_or_default()
    }

    /// A new keep-alive connection to nginx.
    pub fn conn(&self) -> Conn {
        Conn::new(&self.addr)
    }
}

impl Drop for Nginx {
    fn drop(&mut self) {
        let Some(mut child) = self.child.take() else {
            return;
        };
        // SIGTERM: the master stops its workers (a SIGKILL would leave them running).
        let _ = Command::new("kill")
            .args(["-TERM", &child.id().to_string()])
            .status();
        let deadline = Instant::now() + Duration::from_secs(10);
        while child.try_wait().ok().flatten().is_none() && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(20));
        }
        if child.try_wait().ok().flatten().is_none() {
            for worker in children_of(child.id()) {
                let _ = Command::new("kill")
                    .args(["-KILL", &worker.to_string()])
                    .status();
            }
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// The processes whose parent is `pid`.
fn children_of(pid: u32) -> Vec<u32> {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    entries
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse::<u32>().ok())
        .filter(|child| {
            std::fs::read_to_string(format!("/proc/{child}/stat"))
                .ok()
                .and_then(|stat| {
                    let after = &stat[stat.rfind(')')? + 2..];
                    after.split_whitespace().nth(1)?.parse::<u32>().ok()
                })
                == Some(pid)
        })
        .collect()
}

/// Instances on one database behind nginx.
pub struct Cluster {
    pub instances: Vec<Instance>,
    pub nginx: Nginx,
    pub dist: Dist,
    /// Kept for the SQLite folder's sake (removed when the cluster is dropped).
    _database: Database,
    /// The session of the organisation's first administrator ([`Cluster::session`]).
    session: std::sync::OnceLock<String>,
}

impl Cluster {
    /// `n` instances on a fresh database (see [`Database::fresh`]), behind nginx; checks that
    /// requests through nginx reach every instance.
    pub fn start(n: usize) -> Cluster {
        // On one SQLite folder the instances start one after another: the server's check that
        // the data folder is writable writes and removes one fixed file name
        // (`prepare_data_dir`'s .koers-write-check), so two starting at once can fail it.
        Cluster::start_on(Database::fresh(), n, !sqlite_backend())
    }

    /// `n` instances on `database` behind nginx; `at_once`: every instance is started before
    /// any is waited for.
    pub fn start_on(database: Database, n: usize, at_once: bool) -> Cluster {
        let dist = make_dist();
        let names = ["a", "b", "c", "d"];
        // Phones reach Koers at nginx: that is the instances' public URL (a domain name, for
        // the passkeys), so nginx's port is chosen first.
        let nginx_port = free_port();
        let mut instances: Vec<Instance> = (0..n)
            .map(|i| {
                let mut instance = Instance::new(names[i], &database, &dist);
                instance.set_public_url(&format!("http://localhost:{nginx_port}"));
                instance
            })
            .collect();
        if at_once {
            for instance in &mut instances {
                instance.spawn();
            }
            for instance in &mut instances {
                instance.wait_started();
            }
        } else {
            for instance in &mut instances {
                instance.spawn();
                instance.wait_started();
            }
        }
        for instance in &instances {
            instance.wait_health(200, Duration::from_secs(30));
        }
        let upstreams: Vec<String> = instances.iter().map(|i| i.addr.clone()).collect();
        let nginx = Nginx::start_at(nginx_port, &upstreams, None);
        let cluster = Cluster {
            instances,
            nginx,
            dist,
            _database: database,
            session: std::sync::OnceLock::new(),
        };
        cluster.assert_round_robin();
        cluster
    }

    /// A new keep-alive connection to nginx: what a phone talks to.
    pub fn conn(&self) -> Conn {
        self.nginx.conn()
    }

    /// The session of the organisation's first administrator (a professional, who may found
    /// plans): on the first call, enrolled through nginx with a software passkey and the link
    /// an instance printed on its first start (each printed one; whichever is used first works).
    pub fn session(&self) -> &str {
        self.session.get_or_init(|| {
            let link = self
                .instances
                .iter()
                .find_map(Instance::enrolment_link)
                .unwrap_or_else(|| {
                    panic!(
                        "no instance printed a link for the first account:\n{}",
                        self.instances
                            .iter()
                            .map(Instance::log)
                            .collect::<Vec<_>>()
                            .join("\n")
                    )
                });
            let mut conn = self.conn();
            crate::common::professional::enrol(&link, |path, body| {
                let reply = conn.call("POST", path, None, Some(body));
                (reply.status, reply.json)
            })
            .session
        })
    }

    /// Some instance other than the one at `addr`.
    pub fn other_than(&self, addr: &str) -> &Instance {
        self.instances
            .iter()
            .find(|i| i.addr != addr)
            .expect("two instances or more")
    }

    /// Waits (up to `limit`) until nginx sends requests to every instance again: after an
    /// instance failed, nginx leaves it out for `fail_timeout` (10 s by default).
    pub fn wait_round_robin(&self, limit: Duration) -> Duration {
        let started = Instant::now();
        let mut conn = self.conn();
        let mut seen = std::collections::HashSet::new();
        wait_for(limit, "nginx sends requests to every instance", || {
            let reply = conn.call("GET", "/healthz", None, None);
            assert_eq!(reply.status, 200, "{}", reply.json);
            seen.insert(upstream_of(&reply).to_owned());
            (seen.len() == self.instances.len()).then_some(())
        });
        started.elapsed()
    }

    /// Consecutive requests through nginx are answered by every instance in turn (as nginx
    /// names them; [`crate::journeys`] checks the same with the instances' own `/healthz` ids).
    pub fn assert_round_robin(&self) {
        let mut conn = self.conn();
        let mut seen = Vec::new();
        for _ in 0..2 * self.instances.len() {
            let reply = conn.call("GET", "/healthz", None, None);
            assert_eq!(reply.status, 200, "{}", reply.json);
            seen.push(upstream_of(&reply).to_owned());
        }
        for instance in &self.instances {
            assert!(
                seen.contains(&instance.addr),
                "nginx sent no request to {} in {seen:?}",
                instance.addr
            );
        }
    }
}

/// The instance that answered a request through nginx (from the test server's header; when
/// nginx tried several, the last one named answered).
pub fn upstream_of(reply: &Reply) -> &str {
    reply
        .header(UPSTREAM_HEADER)
        .and_then(|tried| tried.rsplit(", ").next())
        .unwrap_or_else(|| panic!("no {UPSTREAM_HEADER} header: {:?}", reply.headers))
}
