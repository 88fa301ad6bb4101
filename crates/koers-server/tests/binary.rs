//! The real `koers-server` binary: startup errors and a clean run.

mod common;

use std::io::{Read as _, Write as _};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_koers-server");

fn command(addr: &str, data: &Path, dist: &Path) -> Command {
    let mut cmd = Command::new(BIN);
    cmd.env("KOERS_ADDR", addr)
        .env("KOERS_DATA", data)
        .env("KOERS_DIST", dist)
        .env("RUST_BACKTRACE", "1")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    cmd
}

fn wait_with_timeout(child: &mut Child, timeout: Duration) -> ExitStatus {
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("koers-server did not exit within {timeout:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Waits (up to 20 s) for the child to exit; returns how it exited and what it wrote to stderr.
fn exit_and_stderr(child: &mut Child) -> (ExitStatus, String) {
    let status = wait_with_timeout(child, Duration::from_secs(20));
    let mut stderr = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut stderr)
        .unwrap();
    (status, stderr)
}

/// Runs the binary, expects it to fail at startup; returns its stderr.
fn expect_startup_failure(mut cmd: Command) -> String {
    let mut child = cmd.spawn().unwrap();
    let (status, stderr) = exit_and_stderr(&mut child);
    assert_eq!(status.code(), Some(2), "exit code; stderr: {stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert!(!stderr.contains("backtrace"), "{stderr}");
    assert_eq!(stderr.trim().lines().count(), 1, "one clear line: {stderr}");
    stderr
}

#[test]
fn invalid_address() {
    let dist = common::make_dist();
    let data = tempfile::tempdir().unwrap();
    let stderr = expect_startup_failure(command("nonsense", data.path(), dist.path()));
    assert_eq!(
        stderr.trim(),
        "Koers cannot start: KOERS_ADDR \"nonsense\" is not an address like 127.0.0.1:8080. Set KOERS_ADDR to host:port."
    );
}

#[test]
fn address_in_use() {
    let dist = common::make_dist();
    let data = tempfile::tempdir().unwrap();
    let taken = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap().to_string();
    let stderr = expect_startup_failure(command(&addr, data.path(), dist.path()));
    assert!(stderr.starts_with("Koers cannot start: "), "{stderr}");
    assert!(
        stderr.contains(&format!("address {addr} is already in use")),
        "{stderr}"
    );
    assert!(stderr.contains("set KOERS_ADDR to a free port"), "{stderr}");
}

#[test]
fn unwritable_data_dir() {
    let dist = common::make_dist();
    let tmp = tempfile::tempdir().unwrap();
    // Tests run as root, so permissions would not stop us: use a path below a regular file.
    let file = tmp.path().join("plain-file");
    std::fs::write(&file, "x").unwrap();
    let data = file.join("data");
    let stderr = expect_startup_failure(command("127.0.0.1:0", &data, dist.path()));
    assert!(
        stderr.starts_with("Koers cannot start: the data folder "),
        "{stderr}"
    );
    assert!(stderr.contains(&data.display().to_string()), "{stderr}");
    assert!(
        stderr.contains("Set KOERS_DATA to a folder you can write to."),
        "{stderr}"
    );
}

#[test]
fn missing_dist() {
    let data = tempfile::tempdir().unwrap();
    let empty = tempfile::tempdir().unwrap();
    let stderr = expect_startup_failure(command(
        "127.0.0.1:0",
        data.path(),
        &empty.path().join("dist"),
    ));
    assert!(
        stderr.starts_with("Koers cannot start: the app files are missing"),
        "{stderr}"
    );
    assert!(stderr.contains("Run the build first"), "{stderr}");
}

fn http_get(addr: &str, path: &str) -> String {
    let mut stream = TcpStream::connect(addr).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut reply = String::new();
    stream.read_to_string(&mut reply).unwrap();
    reply
}

#[test]
fn runs_serves_and_stops_on_sigterm() {
    let dist = common::make_dist();
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let mut child = command("127.0.0.1:0", &data, dist.path()).spawn().unwrap();

    let (running, addr) = common::startup_line(&mut child);
    assert!(
        running.starts_with("Koers is running: open http://127.0.0.1:"),
        "{running}"
    );
    let expected_tail = format!(" in your browser (data in {})", data.display());
    assert!(running.ends_with(&expected_tail), "{running}");

    let health = http_get(&addr, "/healthz");
    assert!(health.starts_with("HTTP/1.1 200"), "{health}");
    assert!(
        health.contains(&format!(
            "{{\"status\":\"ok\",\"version\":\"{}\"}}",
            env!("CARGO_PKG_VERSION")
        )),
        "{health}"
    );
    let page = http_get(&addr, "/plan/42");
    assert!(page.starts_with("HTTP/1.1 200"), "{page}");
    assert!(
        page.to_ascii_lowercase()
            .contains("content-security-policy: default-src 'self'"),
        "{page}"
    );
    assert!(data.join("koers.sqlite3").is_file());

    let killed = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let (status, stderr) = exit_and_stderr(&mut child);
    assert!(
        status.success(),
        "graceful exit after SIGTERM: {status:?} {stderr}"
    );
    assert!(!stderr.contains("panicked"), "{stderr}");
}
