//! What nginx itself does with the directives of deploy/nginx/koers.conf: the headers it sets
//! and keeps, which requests it sends to another instance, compression, the body limit and its
//! log; and that the production example (TLS and all) is valid nginx.

use std::collections::HashMap;
use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::net::TcpListener;
use std::process::Command;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::{json, Value};
use uuid::Uuid;

use crate::common::{decode, JS, WASM};
use crate::events::EventStream;
use crate::harness::{free_port, nginx_bin, wait_for, Cluster, Nginx, ProductionConf, NGINX_CONF};
use crate::http::raw_request;
use crate::phone::Phone;

/// A request as an upstream received it: the number of its connection, its head and its body.
#[derive(Debug, Clone)]
struct Received {
    connection: usize,
    request_line: String,
    headers: Vec<(String, String)>,
    body: String,
}

impl Received {
    fn headers(&self, name: &str) -> Vec<&str> {
        self.headers
            .iter()
            .filter(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
            .collect()
    }
}

/// A stand-in for an instance: answers every request `200 {}` on a kept-open connection, or
/// (`hang_up`) reads each request and closes the connection without an answer, as an instance
/// killed mid-request does.
struct FakeUpstream {
    addr: String,
    received: Arc<Mutex<Vec<Received>>>,
}

impl FakeUpstream {
    fn start(hang_up: bool) -> FakeUpstream {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap().to_string();
        let received = Arc::new(Mutex::new(Vec::new()));
        let log = Arc::clone(&received);
        std::thread::spawn(move || {
            for (connection, stream) in listener.incoming().enumerate() {
                let Ok(mut stream) = stream else { return };
                let log = Arc::clone(&log);
                std::thread::spawn(move || {
                    let mut reader = BufReader::new(stream.try_clone().unwrap());
                    loop {
                        let mut request_line = String::new();
                        if reader.read_line(&mut request_line).unwrap_or(0) == 0 {
                            return;
                        }
                        let mut headers = Vec::new();
                        loop {
                            let mut line = String::new();
                            if reader.read_line(&mut line).unwrap_or(0) == 0 {
                                return;
                            }
                            let line = line.trim_end();
                            if line.is_empty() {
                                break;
                            }
                            let (name, value) = line.split_once(':').unwrap();
                            headers.push((name.trim().to_owned(), value.trim().to_owned()));
                        }
                        let length = headers
                            .iter()
                            .find(|(n, _)| n.eq_ignore_ascii_case("content-length"))
                            .map_or(0, |(_, v)| v.parse().unwrap());
                        let mut body = vec![0; length];
                        reader.read_exact(&mut body).unwrap();
                        log.lock().unwrap().push(Received {
                            connection,
                            request_line: request_line.trim_end().to_owned(),
                            headers,
                            body: String::from_utf8_lossy(&body).into_owned(),
                        });
                        if hang_up {
                            return;
                        }
                        let _ = stream.write_all(
                            b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}",
                        );
                    }
                });
            }
        });
        FakeUpstream { addr, received }
    }

    fn received(&self) -> Vec<Received> {
        self.received.lock().unwrap().clone()
    }
}

/// nginx sets X-Forwarded-For to the address it saw, whatever the client sent (so a client
/// cannot choose the address the invite limit counts), X-Forwarded-Proto and the client's Host;
/// passes Accept-Encoding on; and keeps its connections to the instances open.
#[test]
fn nginx_sets_the_forwarded_headers_and_keeps_upstream_connections_open() {
    let upstream = FakeUpstream::start(false);
    let nginx = Nginx::start(std::slice::from_ref(&upstream.addr));
    for _ in 0..2 {
        let reply = raw_request(
            &nginx.addr,
            "GET",
            "/api/plans/x/ops?after=3",
            &[
                ("Host", "koers.test"),
                ("X-Forwarded-For", "203.0.113.9"),
                ("X-Forwarded-Proto", "https"),
                ("Accept-Encoding", "br, gzip"),
            ],
            b"",
        );
        assert_eq!(reply.status, 200);
        assert_eq!(
            reply.header("x-koers-upstream"),
            Some(upstream.addr.as_str())
        );
    }
    let received = upstream.received();
    assert_eq!(received.len(), 2);
    for request in &received {
        assert_eq!(
            request.request_line,
            "GET /api/plans/x/ops?after=3 HTTP/1.1"
        );
        assert_eq!(
            request.headers("x-forwarded-for"),
            ["127.0.0.1"],
            "{request:?}"
        );
        assert_eq!(
            request.headers("x-forwarded-proto"),
            ["http"],
            "{request:?}"
        );
        assert_eq!(request.headers("host"), ["koers.test"], "{request:?}");
        assert_eq!(
            request.headers("accept-encoding"),
            ["br, gzip"],
            "{request:?}"
        );
        assert!(request.headers("connection").is_empty(), "{request:?}");
    }
    assert_eq!(
        received[0].connection, received[1].connection,
        "the second request reused nginx's connection to the instance"
    );
}

/// `proxy_next_upstream error timeout`: a GET whose instance hung up without answering is sent
/// to the next instance; a POST that reached an instance is not sent again (502 to the phone,
/// which sends it again itself if it is a push); a POST that could not reach an instance at all
/// (connection refused) goes to the next one.
#[test]
fn nginx_resends_only_what_it_could_not_deliver_or_may_repeat() {
    // A GET: answered by the other instance.
    let (dead, alive) = (FakeUpstream::start(true), FakeUpstream::start(false));
    let nginx = Nginx::start(&[dead.addr.clone(), alive.addr.clone()]);
    for _ in 0..2 {
        let reply = raw_request(&nginx.addr, "GET", "/api/plans/x/ops", &[], b"");
        assert_eq!(
            reply.status,
            200,
            "{}",
            String::from_utf8_lossy(&reply.body)
        );
    }
    assert_eq!(
        dead.received().len(),
        1,
        "one GET reached the instance that hung up"
    );
    assert_eq!(alive.received().len(), 2, "and was answered by the other");
    drop(nginx);

    // A POST: never sent twice.
    let (dead, alive) = (FakeUpstream::start(true), FakeUpstream::start(false));
    let nginx = Nginx::start(&[dead.addr.clone(), alive.addr.clone()]);
    let mut answers = HashMap::new();
    for n in 0..2 {
        let body = json!({ "n": n }).to_string();
        let reply = raw_request(
            &nginx.addr,
            "POST",
            "/api/invites/accept",
            &[],
            body.as_bytes(),
        );
        answers.insert(body, reply.status);
    }
    let failed: Vec<&String> = answers
        .iter()
        .filter(|(_, s)| **s == 502)
        .map(|(b, _)| b)
        .collect();
    assert_eq!(failed.len(), 1, "{answers:?}");
    assert!(dead.received().iter().any(|r| &r.body == failed[0]));
    assert!(
        alive.received().iter().all(|r| &r.body != failed[0]),
        "nginx sent a POST that had reached an instance to another"
    );
    drop(nginx);

    // A POST to an instance that is down (refused): the other answers.
    let alive = FakeUpstream::start(false);
    let nginx = Nginx::start(&[format!("127.0.0.1:{}", free_port()), alive.addr.clone()]);
    for n in 0..2 {
        let body = json!({ "n": n }).to_string();
        let reply = raw_request(
            &nginx.addr,
            "POST",
            "/api/invites/accept",
            &[],
            body.as_bytes(),
        );
        assert_eq!(reply.status, 200);
    }
    assert_eq!(alive.received().len(), 2);
}

/// Through nginx, Koers's own compression arrives once (precompressed files as they are, JSON
/// and scripts compressed by Koers and not again); event streams are never compressed; bodies
/// up to the server's 2 MiB pass, larger ones are refused by nginx; nginx's log holds paths but
/// not the event stream's `?access_token=`.
#[test]
fn compression_body_limit_and_log_through_nginx() {
    let cluster = Cluster::start(2);
    let nginx = &cluster.nginx.addr;
    let dist = &cluster.dist;
    for (encoding, expected) in [
        (Some("br"), dist.file(&format!("{WASM}.br"))),
        (Some("gzip"), dist.file(&format!("{WASM}.gz"))),
        (None, dist.file(WASM)),
    ] {
        let headers: Vec<(&str, &str)> = encoding
            .map(|e| ("Accept-Encoding", e))
            .into_iter()
            .collect();
        let reply = raw_request(nginx, "GET", WASM, &headers, b"");
        assert_eq!(reply.status, 200);
        assert_eq!(reply.header("content-encoding"), encoding, "{encoding:?}");
        assert_eq!(
            reply.body, expected,
            "the precompressed file as it is ({encoding:?})"
        );
    }
    // Compressed on the fly by Koers: decoding once gives the file.
    let reply = raw_request(nginx, "GET", JS, &[("Accept-Encoding", "gzip")], b"");
    assert_eq!(reply.header("content-encoding"), Some("gzip"));
    assert_eq!(decode(Some("gzip"), &reply.body), dist.file(JS));

    // Bodies: exactly 2 MiB reaches Koers (its JSON answer is not about the size); more is 413.
    // Sent by a signed-in professional, so that Koers reads the body (a founding without a
    // session is refused before that).
    let bearer = format!("Bearer {}", cluster.session());
    let body_of = |size: usize| {
        let start = r#"{"ops":[],"device_name":""#;
        let mut body = start.as_bytes().to_vec();
        body.resize(size - 2, b'x');
        body.extend_from_slice(br#""}"#);
        body
    };
    let reply = raw_request(
        nginx,
        "POST",
        "/api/plans",
        &[
            ("Content-Type", "application/json"),
            ("Authorization", bearer.as_str()),
        ],
        &body_of(2 * 1024 * 1024),
    );
    let json: Value = serde_json::from_slice(&reply.body).unwrap_or(Value::Null);
    assert!(
        reply.status >= 400 && reply.status != 413,
        "{} {json}",
        reply.status
    );
    assert!(
        json["error"].is_string() && json["error"] != "body_too_large",
        "{json}"
    );
    let reply = raw_request(
        nginx,
        "POST",
        "/api/plans",
        &[
            ("Content-Type", "application/json"),
            ("Authorization", bearer.as_str()),
        ],
        &body_of(2 * 1024 * 1024 + 1),
    );
    assert_eq!(reply.status, 413);

    // The event stream with the token in the query (as a browser's EventSource sends it).
    let worker = Phone::found(&mut cluster.conn(), cluster.session(), "Noa");
    let path = format!(
        "/api/plans/{}/events?access_token={}",
        worker.plan(),
        worker.token()
    );
    let stream = EventStream::open(nginx, &path, None);
    assert_eq!(stream.status, 200, "{}", stream.error);
    assert_eq!(stream.header("content-encoding"), None, "never compressed");
    stream.next_event(Duration::from_secs(2));
    drop(stream);
    let log = wait_for(
        Duration::from_secs(5),
        "the stream in nginx's access log",
        || {
            let log = cluster.nginx.access_log();
            log.contains("/events ").then_some(log)
        },
    );
    assert!(
        log.contains(&format!("GET /api/plans/{}/events HTTP/1.1", worker.plan())),
        "{log}"
    );
    assert!(
        !log.contains(worker.token()),
        "the access log holds a token:\n{log}"
    );
}

/// With `KOERS_BEHIND_PROXY=1` the invite limit counts by the address nginx saw: through nginx
/// every attempt comes from 127.0.0.1, however the client fills in X-Forwarded-For, so the limit
/// (20 at once per address, per instance) stops a burst; straight to an instance, the
/// X-Forwarded-For addresses (the proxy's word) each get their own allowance.
#[test]
fn the_invite_limit_counts_the_address_nginx_saw() {
    let cluster = Cluster::start(2);
    let accept = |addr: &str, forwarded: &str| {
        let code = Uuid::new_v4().simple().to_string()[..22].to_owned();
        let body = json!({ "code": code, "device_name": "telefoon" }).to_string();
        raw_request(
            addr,
            "POST",
            "/api/invites/accept",
            &[
                ("Content-Type", "application/json"),
                ("X-Forwarded-For", forwarded),
            ],
            body.as_bytes(),
        )
        .status
    };
    let limited = (0..50)
        .filter(|i| accept(&cluster.nginx.addr, &format!("198.51.100.{i}")) == 429)
        .count();
    assert!(
        limited >= 5,
        "50 attempts through nginx with forged X-Forwarded-For: only {limited} limited"
    );
    let direct = &cluster.instances[0].addr;
    let limited = (0..30)
        .filter(|i| accept(direct, &format!("192.0.2.{i}")) == 429)
        .count();
    assert_eq!(
        limited, 0,
        "30 attempts from 30 forwarded addresses straight to an instance with KOERS_BEHIND_PROXY=1"
    );
}

/// deploy/nginx/koers.conf as a whole (TLS, redirect) passes `nginx -t`, with a throwaway
/// certificate in place of the placeholders; and it keeps the choices that matter.
#[test]
fn the_production_example_is_valid_nginx() {
    let conf = ProductionConf::read();
    for (needed, why) in [
        ("listen 443 ssl http2;", "TLS and HTTP/2"),
        (
            "return 301 https://$host$request_uri;",
            "the redirect to HTTPS",
        ),
        ("keepalive 32;", "kept-open connections to the instances"),
        (
            "proxy_set_header X-Forwarded-For $remote_addr;",
            "an address the client cannot forge",
        ),
        (
            "proxy_next_upstream error timeout;",
            "retries of what may be repeated",
        ),
        ("gzip off;", "no second compression"),
        ("client_max_body_size 2m;", "the server's body limit"),
    ] {
        assert!(
            conf.text.contains(needed),
            "{NGINX_CONF} lacks `{needed}` ({why})"
        );
    }
    for forbidden in [
        "non_idempotent",
        "$proxy_add_x_forwarded_for;",
        "ip_hash",
        "sticky",
    ] {
        let directives: String = conf
            .text
            .lines()
            .filter(|l| !l.trim_start().starts_with('#'))
            .collect();
        assert!(
            !directives.contains(forbidden),
            "{NGINX_CONF} uses {forbidden}"
        );
    }

    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let openssl = Command::new("openssl")
        .args([
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
        ])
        .args(["-nodes", "-days", "1", "-subj", "/CN=koers.example.org"])
        .arg("-keyout")
        .arg(d.join("key.pem"))
        .arg("-out")
        .arg(d.join("cert.pem"))
        .output()
        .expect("openssl is installed (Debian's openssl package) to make a test certificate");
    assert!(
        openssl.status.success(),
        "{}",
        String::from_utf8_lossy(&openssl.stderr)
    );
    let site = conf
        .text
        .replace(
            "/etc/letsencrypt/live/koers.example.org/fullchain.pem",
            &d.join("cert.pem").display().to_string(),
        )
        .replace(
            "/etc/letsencrypt/live/koers.example.org/privkey.pem",
            &d.join("key.pem").display().to_string(),
        )
        .replace(
            "/var/log/nginx/koers.access.log",
            &d.join("access.log").display().to_string(),
        );
    std::fs::write(d.join("koers.conf"), site).unwrap();
    let main = format!(
        "pid {d}/nginx.pid;\nerror_log {d}/error.log;\nevents {{ }}\nhttp {{\n\
         client_body_temp_path {d}/client_body;\nproxy_temp_path {d}/proxy;\n\
         fastcgi_temp_path {d}/fastcgi;\nuwsgi_temp_path {d}/uwsgi;\nscgi_temp_path {d}/scgi;\n\
         include {d}/koers.conf;\n}}\n",
        d = d.display()
    );
    std::fs::write(d.join("nginx.conf"), main).unwrap();
    let test = Command::new(nginx_bin())
        .arg("-t")
        .arg("-p")
        .arg(format!("{}/", d.display()))
        .arg("-e")
        .arg(d.join("error.log"))
        .arg("-c")
        .arg(d.join("nginx.conf"))
        .output()
        .unwrap();
    let said = String::from_utf8_lossy(&test.stderr);
    assert!(
        test.status.success() && said.contains("test is successful"),
        "nginx -t on {NGINX_CONF}:\n{said}"
    );
}
