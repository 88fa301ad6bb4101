//! A throwaway PostgreSQL cluster for tests (feature `testing`): Debian's PostgreSQL binaries
//! `initdb` a cluster in a temporary folder (trust authentication, superuser `koers`) and run it on
//! a free TCP port of 127.0.0.1, with `fsync=off`.
//!
//! * The binaries: `$KOERS_PG_BIN` if set, else `pg_config --bindir`, else the newest
//!   `/usr/lib/postgresql/*/bin`. Missing binaries fail the test with a message that says how to
//!   install them; no test is skipped.
//! * PostgreSQL refuses to run as root. As root, the folder is given to the `postgres` user
//!   (which Debian's package creates) and `initdb`/`pg_ctl` run through `runuser -u postgres --`.
//! * Cleanup: a small watchdog process holds the other end of a pipe from the test process;
//!   when the test process ends — normally, by a panic or killed — the pipe closes and the
//!   watchdog stops the cluster (`pg_ctl stop -m immediate`) and removes the folder. That covers
//!   [`TestCluster::shared`], whose static is never dropped; [`Drop`] does the same at once.
//!
//! One cluster per test binary ([`TestCluster::shared`]) with a database per suite is the cheap
//! way (initdb takes a second or so); a test that stops or restarts PostgreSQL starts a cluster of
//! its own with [`TestCluster::start`].

use std::io::Write as _;
use std::net::TcpListener;
use std::os::unix::process::CommandExt as _;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Mutex, OnceLock};

/// Says what to do when there is no PostgreSQL to run.
pub const NOT_INSTALLED: &str =
    "PostgreSQL is not installed: run scripts/setup.sh --test (it installs Debian's postgresql)";

/// The superuser of a test cluster (trust authentication: no password).
pub const USER: &str = "koers";

/// A PostgreSQL cluster of its own, in a temporary folder, for as long as this value lives.
#[derive(Debug)]
pub struct TestCluster {
    bin: PathBuf,
    dir: PathBuf,
    port: u16,
    /// `runuser -u postgres --` when running as root, else nothing.
    run_as: Vec<String>,
    /// Its stdin is the pipe whose closing stops the cluster and removes `dir`.
    watchdog: Mutex<Option<Child>>,
}

impl TestCluster {
    /// The cluster shared by every test of this test binary, started on first use.
    pub fn shared() -> &'static TestCluster {
        static SHARED: OnceLock<TestCluster> = OnceLock::new();
        SHARED.get_or_init(TestCluster::start)
    }

    /// Creates and starts a new cluster. Panics with a clear message when PostgreSQL is not
    /// installed or does not start.
    pub fn start() -> TestCluster {
        let bin = find_bin();
        let run_as = if is_root() {
            check_postgres_user();
            vec![
                "runuser".into(),
                "-u".into(),
                "postgres".into(),
                "--".into(),
            ]
        } else {
            Vec::new()
        };
        let dir = make_dir();
        if !run_as.is_empty() {
            run(Command::new("chown").arg("postgres:postgres").arg(&dir));
        }
        // The watchdog first: from here on, the folder goes away whatever happens.
        let watchdog = spawn_watchdog(&bin, &dir, &run_as);
        let mut cluster = TestCluster {
            bin,
            dir,
            port: 0,
            run_as,
            watchdog: Mutex::new(Some(watchdog)),
        };
        let data = cluster.data_dir();
        run(cluster
            .pg_command("initdb")
            .arg("-D")
            .arg(&data)
            .args(["-U", USER, "--auth=trust", "--encoding=UTF8", "--locale=C"])
            .arg("--no-sync"));
        // A port that was free a moment ago may be taken by the time PostgreSQL binds it.
        let mut last_error = String::new();
        for _ in 0..5 {
            cluster.port = free_port();
            cluster.write_settings();
            match cluster.try_start() {
                Ok(()) => return cluster,
                Err(err) => last_error = err,
            }
        }
        panic!("PostgreSQL did not start: {last_error}");
    }

    /// The port PostgreSQL listens on (127.0.0.1).
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The URL of the `postgres` database.
    pub fn url(&self) -> String {
        self.database_url("postgres")
    }

    /// The URL of database `name` (created or not).
    pub fn database_url(&self, name: &str) -> String {
        format!("postgres://{USER}@127.0.0.1:{}/{name}", self.port)
    }

    /// Creates database `name` and returns its URL. Panics if it exists.
    pub fn create_database(&self, name: &str) -> String {
        run(Command::new(self.bin.join("createdb"))
            .args(["-h", "127.0.0.1", "-p", &self.port.to_string(), "-U", USER])
            .arg(name)
            .current_dir(&self.dir));
        self.database_url(name)
    }

    /// Creates a database with a new random name and returns its URL.
    pub fn fresh_database(&self) -> String {
        self.create_database(&format!("t_{}", uuid::Uuid::new_v4().simple()))
    }

    /// Stops PostgreSQL (fast shutdown: sessions are ended, data kept). Start it again with
    /// [`TestCluster::start_again`].
    pub fn stop(&self) {
        self.pg_ctl_stop("fast");
    }

    /// Stops PostgreSQL as a crash would (immediate shutdown: no checkpoint; recovery runs at the
    /// next start).
    pub fn kill_hard(&self) {
        self.pg_ctl_stop("immediate");
    }

    /// Starts PostgreSQL again after [`TestCluster::stop`]: same port, same data.
    pub fn start_again(&self) {
        if let Err(err) = self.try_start() {
            panic!("PostgreSQL did not start again: {err}");
        }
    }

    fn data_dir(&self) -> PathBuf {
        self.dir.join("data")
    }

    fn log_file(&self) -> PathBuf {
        self.dir.join("postgres.log")
    }

    /// A command for one of the PostgreSQL binaries, as the `postgres` user when root.
    fn pg_command(&self, program: &str) -> Command {
        let program = self.bin.join(program);
        let mut command = match self.run_as.split_first() {
            Some((runner, args)) => {
                let mut command = Command::new(runner);
                command.args(args).arg(program);
                command
            }
            None => Command::new(program),
        };
        // The postgres user may not be allowed into the test's working directory.
        command.current_dir(&self.dir);
        command
    }

    /// Appends the server settings to postgresql.conf (the last of a repeated setting counts).
    fn write_settings(&self) {
        let settings = format!(
            "\n# koers test cluster\nlisten_addresses = '127.0.0.1'\nport = {}\n\
             unix_socket_directories = '{}'\nmax_connections = 300\nfsync = off\n\
             synchronous_commit = off\nfull_page_writes = off\n",
            self.port,
            self.dir.display(),
        );
        let conf = self.data_dir().join("postgresql.conf");
        let mut file = std::fs::OpenOptions::new()
            .append(true)
            .open(&conf)
            .unwrap_or_else(|err| panic!("{}: {err}", conf.display()));
        file.write_all(settings.as_bytes())
            .unwrap_or_else(|err| panic!("{}: {err}", conf.display()));
    }

    fn try_start(&self) -> Result<(), String> {
        let output = self
            .pg_command("pg_ctl")
            .arg("start")
            .arg("-D")
            .arg(self.data_dir())
            .arg("-l")
            .arg(self.log_file())
            .args(["-w", "-t", "60"])
            .stdin(Stdio::null())
            .output()
            .map_err(|err| format!("pg_ctl: {err}"))?;
        if output.status.success() {
            Ok(())
        } else {
            let log = std::fs::read_to_string(self.log_file()).unwrap_or_default();
            let tail: Vec<&str> = log.lines().rev().take(20).collect();
            let tail: Vec<&str> = tail.into_iter().rev().collect();
            Err(format!(
                "{}\n{}\nlog:\n{}",
                String::from_utf8_lossy(&output.stdout),
                String::from_utf8_lossy(&output.stderr),
                tail.join("\n")
            ))
        }
    }

    fn pg_ctl_stop(&self, mode: &str) {
        run(self
            .pg_command("pg_ctl")
            .arg("stop")
            .arg("-D")
            .arg(self.data_dir())
            .args(["-m", mode, "-w", "-t", "60"]));
    }
}

impl Drop for TestCluster {
    fn drop(&mut self) {
        // Closing the watchdog's stdin is the signal: it stops the cluster and removes the
        // folder. Waiting for it leaves nothing behind when the drop returns.
        let watchdog = self
            .watchdog
            .get_mut()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .take();
        if let Some(mut watchdog) = watchdog {
            drop(watchdog.stdin.take());
            let _ = watchdog.wait();
        }
    }
}

/// The folder of PostgreSQL's binaries, or a panic saying how to install them.
fn find_bin() -> PathBuf {
    let has_initdb = |dir: &Path| dir.join("initdb").is_file() && dir.join("pg_ctl").is_file();
    if let Some(dir) = std::env::var_os("KOERS_PG_BIN") {
        let dir = PathBuf::from(dir);
        assert!(
            has_initdb(&dir),
            "KOERS_PG_BIN={} holds no initdb and pg_ctl. {NOT_INSTALLED}",
            dir.display()
        );
        return dir;
    }
    if let Ok(output) = Command::new("pg_config").arg("--bindir").output() {
        let dir = PathBuf::from(String::from_utf8_lossy(&output.stdout).trim());
        if output.status.success() && has_initdb(&dir) {
            return dir;
        }
    }
    // Debian: /usr/lib/postgresql/<major>/bin, the newest major first.
    let mut found: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|entry| {
            let major = entry.file_name().to_str()?.parse().ok()?;
            let bin = entry.path().join("bin");
            has_initdb(&bin).then_some((major, bin))
        })
        .collect();
    found.sort();
    match found.pop() {
        Some((_, bin)) => bin,
        None => panic!("{NOT_INSTALLED}"),
    }
}

fn is_root() -> bool {
    // SAFETY: geteuid has no preconditions and cannot fail.
    unsafe { libc::geteuid() == 0 }
}

fn check_postgres_user() {
    let known = Command::new("id")
        .args(["-u", "postgres"])
        .output()
        .is_ok_and(|output| output.status.success());
    assert!(
        known,
        "running as root, the test cluster runs as the `postgres` user, and there is none. \
         {NOT_INSTALLED}"
    );
}

/// A new empty folder under the system's temporary folder.
fn make_dir() -> PathBuf {
    static COUNT: AtomicU32 = AtomicU32::new(0);
    let name = format!(
        "koers-pg-{}-{}-{}",
        std::process::id(),
        COUNT.fetch_add(1, Ordering::Relaxed),
        uuid::Uuid::new_v4().simple()
    );
    let dir = std::env::temp_dir().join(name);
    std::fs::create_dir(&dir).unwrap_or_else(|err| panic!("{}: {err}", dir.display()));
    dir
}

/// A TCP port of 127.0.0.1 that nothing listens on now.
fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .map(|addr| addr.port())
        .expect("a free port on 127.0.0.1")
}

/// The cleanup process: waits for its stdin to close (the test process ended or dropped the
/// cluster), then stops the cluster and removes the folder. In a process group of its own, so
/// that a Ctrl-C to the tests does not take it down before it has cleaned up.
fn spawn_watchdog(bin: &Path, dir: &Path, run_as: &[String]) -> Child {
    const SCRIPT: &str = r#"cat >/dev/null
"$@" stop -D "$KOERS_PG_DIR/data" -m immediate -w -t 60 >/dev/null 2>&1
rm -rf "$KOERS_PG_DIR""#;
    Command::new("sh")
        .arg("-c")
        .arg(SCRIPT)
        .arg("koers-pg-watchdog")
        .args(run_as)
        .arg(bin.join("pg_ctl"))
        .env("KOERS_PG_DIR", dir)
        .current_dir("/")
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .process_group(0)
        .spawn()
        .expect("sh for the test cluster's watchdog")
}

/// Runs a command to its end; panics with its output if it fails.
fn run(command: &mut Command) -> Output {
    let output = command
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|err| panic!("{command:?}: {err}. {NOT_INSTALLED}"));
    assert!(
        output.status.success(),
        "{command:?} failed ({}):\n{}\n{}",
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    output
}
