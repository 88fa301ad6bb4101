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

    let common::Startup {
        line: running,
        addr,
        link,
    } = common::startup_line(&mut child);
    // The public URL (`KOERS_PUBLIC_URL`, by default localhost at the port listened on).
    assert!(
        running.starts_with("Koers is running: open http://localhost:"),
        "{running}"
    );
    let port = addr.strip_prefix("localhost:").unwrap();
    assert!(port.parse::<u16>().unwrap() > 0, "{running}");
    let expected_tail = format!(" in your browser (data in {})", data.display());
    assert!(running.ends_with(&expected_tail), "{running}");
    // On a first start, before that: the first administrator's one-time link, at that address.
    let link = link.expect("a first start prints the link for the first account");
    assert!(
        link.starts_with(&format!("http://localhost:{port}/inschrijven#")),
        "{link}"
    );

    let health = http_get(&addr, "/healthz");
    assert!(health.starts_with("HTTP/1.1 200"), "{health}");
    let version = format!("\"version\":\"{}\"", env!("CARGO_PKG_VERSION"));
    for part in ["\"status\":\"ok\"", &version, "\"instance\":\""] {
        assert!(health.contains(part), "{part} in {health}");
    }
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

// ---------------------------------------------------------------------------------------------
// Issue 10: slow clients are cut off, and the event stream's token never reaches the logs.

mod client;

/// A client that opens a connection and sends its headers slower than the header-read timeout
/// (10 s) is disconnected, instead of holding the connection (and a file descriptor) forever.
#[test]
fn a_client_sending_its_headers_too_slowly_is_disconnected() {
    let server = client::start_server("warn");
    let mut stream = TcpStream::connect(&server.addr).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(25)))
        .unwrap();
    let started = Instant::now();
    // Half a request line, then nothing.
    stream
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: ")
        .unwrap();
    let mut reply = Vec::new();
    let outcome = stream.read_to_end(&mut reply);
    let waited = started.elapsed();
    assert!(
        outcome.is_ok() || waited < Duration::from_secs(24),
        "the server still held the connection after {waited:?}: {outcome:?}"
    );
    assert!(
        waited >= Duration::from_secs(9) && waited < Duration::from_secs(20),
        "cut off after {waited:?}"
    );
    // The server itself serves on.
    let health = http_get(&server.addr, "/healthz");
    assert!(health.starts_with("HTTP/1.1 200"), "{health}");
}

/// Founds a plan over HTTP, as the server's first administrator (a professional); returns its
/// id and the worker's device token.
fn found_plan(server: &client::Server) -> (koers_core::PlanId, String) {
    use koers_core::founding::{plan_ops, NewPlan};
    let new = NewPlan {
        child_name: "Noa".into(),
        start_date: chrono::NaiveDate::from_ymd_opt(2026, 1, 5).unwrap(),
        founder_name: "Lotte".into(),
        members: vec![("Mirjam".into(), koers_core::Role::Parent)],
    };
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as u64;
    let mut clock = koers_core::Clock::new(koers_core::NodeId(7));
    let (plan, _, ops) = plan_ops(&new, &mut clock, now, uuid::Uuid::new_v4);
    let mut conn = client::Conn::new(&server.addr);
    let reply = conn.call(
        "POST",
        "/api/plans",
        Some(server.session()),
        Some(&serde_json::json!({ "ops": ops, "device_name": "worker" })),
    );
    assert_eq!(reply.status, 201, "{}", reply.json);
    (
        plan,
        reply.json["device_token"].as_str().unwrap().to_owned(),
    )
}

/// Reads from a raw connection until `needle` came by (or 10 s passed); returns what came.
fn read_until(stream: &mut TcpStream, needle: &str) -> String {
    stream
        .set_read_timeout(Some(Duration::from_millis(200)))
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut seen = Vec::new();
    let mut buf = [0u8; 4096];
    while Instant::now() < deadline && !String::from_utf8_lossy(&seen).contains(needle) {
        match stream.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => seen.extend_from_slice(&buf[..n]),
            Err(_) => continue,
        }
    }
    String::from_utf8_lossy(&seen).into_owned()
}

/// The browser's EventSource sends the device token in the query (`?access_token=`): at the
/// most verbose log level, neither it nor a wrong one shows up anywhere in what the server
/// prints.
#[test]
fn the_event_stream_token_never_reaches_the_logs() {
    let server = client::start_server("trace");
    let (plan, token) = found_plan(&server);
    let session = server.session().to_owned();
    let wrong = "WrongTokenThatMustNotBeLoggedEither0123456789";

    let mut stream = TcpStream::connect(&server.addr).unwrap();
    write!(
        stream,
        "GET /api/plans/{plan}/events?access_token={token} HTTP/1.1\r\nHost: {}\r\n\r\n",
        server.addr
    )
    .unwrap();
    let seen = read_until(&mut stream, "event: ops");
    assert!(seen.starts_with("HTTP/1.1 200"), "{seen}");
    drop(stream);
    for path in [
        format!("/api/plans/{plan}/events?access_token={wrong}"),
        format!("/api/plans/{plan}/ops?access_token={token}"),
    ] {
        let reply = http_get(&server.addr, &path);
        assert!(reply.starts_with("HTTP/1.1 "), "{reply}");
    }

    let log = server.stop();
    assert!(
        log.contains(&format!("/api/plans/{plan}/events")),
        "the requests were logged (trace level): {log}"
    );
    for secret in [token.as_str(), session.as_str(), wrong] {
        assert!(
            !log.contains(secret),
            "the log holds a token: {}",
            log.lines().find(|l| l.contains(secret)).unwrap_or_default()
        );
    }
}

/// Opens the plan's event stream on a raw connection; returns it and the answer's status line.
fn open_events(addr: &str, plan: koers_core::PlanId, token: &str) -> (TcpStream, String) {
    let mut stream = TcpStream::connect(addr).unwrap();
    write!(
        stream,
        "GET /api/plans/{plan}/events HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {token}\r\n\r\n"
    )
    .unwrap();
    let seen = read_until(&mut stream, "\r\n\r\n");
    let status = seen.lines().next().unwrap_or_default().to_owned();
    (stream, status)
}

/// A device holds at most four event streams; when a phone hangs up, its place comes back (the
/// server notices the closed connection at once; this waits up to 25 s, past a keep-alive).
#[test]
fn a_device_gets_its_event_stream_place_back_when_it_hangs_up() {
    let server = client::start_server("warn");
    let (plan, token) = found_plan(&server);
    let mut open: Vec<TcpStream> = (0..4)
        .map(|_| {
            let (stream, status) = open_events(&server.addr, plan, &token);
            assert!(status.starts_with("HTTP/1.1 200"), "{status}");
            stream
        })
        .collect();
    let (_, status) = open_events(&server.addr, plan, &token);
    assert!(status.starts_with("HTTP/1.1 429"), "{status}");

    drop(open.pop());
    let started = Instant::now();
    loop {
        let (stream, status) = open_events(&server.addr, plan, &token);
        if status.starts_with("HTTP/1.1 200") {
            open.push(stream);
            break;
        }
        assert!(status.starts_with("HTTP/1.1 429"), "{status}");
        assert!(
            started.elapsed() < Duration::from_secs(25),
            "the place never came back"
        );
        std::thread::sleep(Duration::from_millis(500));
    }
    println!("place back after {:?}", started.elapsed());
}

// Issue 13: a guardian's institution as another organisation on the same server.
#[test]
fn add_organisation_prints_its_first_administrators_link() {
    let dist = common::make_dist();
    let data = tempfile::tempdir().unwrap();
    // Without a name: a clear refusal.
    let out = command("127.0.0.1:0", data.path(), dist.path())
        .arg("add-organisation")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("without a name"),
        "{out:?}"
    );
    // The port the server will listen on, so that the link is made for its address.
    let addr = {
        let probe = TcpListener::bind("127.0.0.1:0").unwrap();
        probe.local_addr().unwrap().to_string()
    };
    let port = addr.rsplit(':').next().unwrap();
    let out = command(&addr, data.path(), dist.path())
        .args(["add-organisation", "Jeugdbescherming", "Regio"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    let printed = String::from_utf8_lossy(&out.stdout);
    let expected = format!(
        "Organisation \"Jeugdbescherming Regio\" added. Open http://localhost:{port}/inschrijven#"
    );
    assert!(printed.starts_with(&expected), "{printed}");
    let link = common::professional::link_in_line(&printed).expect("a link");

    // The server on that data still prints its own organisation's first link; the
    // institution's link enrols the institution's administrator.
    let mut child = command(&addr, data.path(), dist.path()).spawn().unwrap();
    let startup = common::startup_line(&mut child);
    assert!(startup.link.is_some(), "{}", startup.line);
    assert_ne!(startup.link.as_deref(), Some(link.as_str()));
    let mut conn = client::Conn::new(&addr);
    let admin = common::professional::enrol(&link, |path, body| {
        let reply = conn.call("POST", path, None, Some(body));
        (reply.status, reply.json)
    });
    let me = conn.call("GET", "/api/me", Some(&admin.session), None);
    assert_eq!(me.status, 200, "{}", me.json);
    assert_eq!(
        (
            me.json["account"]["organisation"]["name"].as_str(),
            me.json["account"]["admin"].as_bool()
        ),
        (Some("Jeugdbescherming Regio"), Some(true))
    );
    let _ = child.kill();
    let _ = child.wait();
}
