//! A small blocking HTTP/1.1 client for the tests that run the real `koers-server` binary, and
//! starting that binary. Keeps its connection open between requests, as a phone does.
#![allow(dead_code)]

use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::Value;

/// The server binary: the one Cargo built for these tests, or `KOERS_TEST_SERVER_BIN` (to run a
/// test against another build, such as the one before a fix).
pub fn server_bin() -> String {
    std::env::var("KOERS_TEST_SERVER_BIN")
        .ok()
        .filter(|b| !b.is_empty())
        .unwrap_or_else(|| env!("CARGO_BIN_EXE_koers-server").to_owned())
}

/// A started server; killed when dropped.
pub struct Server {
    pub child: Child,
    pub addr: String,
    pub data: tempfile::TempDir,
    pub dist: super::common::Dist,
    /// Every line the server printed on stdout (its log) so far.
    pub stdout: Arc<Mutex<Vec<String>>>,
    /// The first administrator's one-time link the server printed before it listened (a fresh
    /// server prints one).
    pub link: Option<String>,
    /// That administrator's session, once [`Server::session`] enrolled them.
    session: std::sync::OnceLock<String>,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Server {
    /// The session of the organisation's first administrator (a professional, who may found
    /// plans): enrolled with the printed link and a software passkey on the first call.
    pub fn session(&self) -> &str {
        self.session.get_or_init(|| {
            let link = self.link.as_deref().unwrap_or_else(|| {
                panic!(
                    "the server printed no link for the first account before it listened:\n{}",
                    self.stdout.lock().unwrap().join("\n")
                )
            });
            let mut conn = Conn::new(&self.addr);
            super::common::professional::enrol(link, |path, body| {
                let reply = conn.call("POST", path, None, Some(body));
                (reply.status, reply.json)
            })
            .session
        })
    }

    /// Stops the server with SIGTERM, waits for it, and returns everything it printed (stdout,
    /// then stderr).
    pub fn stop(mut self) -> String {
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        let deadline = std::time::Instant::now() + Duration::from_secs(20);
        while self.child.try_wait().unwrap().is_none() {
            assert!(
                std::time::Instant::now() < deadline,
                "the server did not stop"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        let mut stderr = String::new();
        if let Some(mut pipe) = self.child.stderr.take() {
            let _ = pipe.read_to_string(&mut stderr);
        }
        // The reader thread reaches the end of stdout once the process is gone.
        std::thread::sleep(Duration::from_millis(200));
        let stdout = self.stdout.lock().unwrap().join("\n");
        format!("{stdout}\n{stderr}")
    }
}

/// Starts the binary on a free loopback port with a fresh data folder; `log` is `KOERS_LOG`.
pub fn start_server(log: &str) -> Server {
    let dist = super::common::make_dist();
    let data = tempfile::tempdir().unwrap();
    let mut child = Command::new(server_bin())
        .env("KOERS_ADDR", "127.0.0.1:0")
        .env("KOERS_DATA", data.path())
        .env("KOERS_DIST", dist.path())
        .env("KOERS_LOG", log)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    const PREFIX: &str = "Koers is running: open http://";
    let stdout = child.stdout.take().expect("stdout is piped");
    let lines = Arc::new(Mutex::new(Vec::new()));
    let (tx, rx) = std::sync::mpsc::channel();
    {
        let lines = Arc::clone(&lines);
        std::thread::spawn(move || {
            let mut link = None;
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if let Some(found) = super::common::professional::link_in_line(&line) {
                    link = Some(found);
                }
                if let Some(rest) = line.strip_prefix(PREFIX) {
                    let addr = rest.split(' ').next().unwrap_or_default().to_owned();
                    let _ = tx.send((addr, link.take()));
                }
                lines.lock().unwrap().push(line);
            }
        });
    }
    let Ok((addr, link)) = rx.recv_timeout(Duration::from_secs(20)) else {
        let _ = child.kill();
        panic!("koers-server printed no startup line");
    };
    Server {
        child,
        addr,
        data,
        dist,
        stdout: lines,
        link,
        session: std::sync::OnceLock::new(),
    }
}

/// One keep-alive connection.
pub struct Conn {
    addr: String,
    stream: Option<BufReader<TcpStream>>,
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

impl Conn {
    pub fn new(addr: &str) -> Self {
        Conn {
            addr: addr.to_owned(),
            stream: None,
        }
    }

    fn connect(&self) -> std::io::Result<BufReader<TcpStream>> {
        let stream = TcpStream::connect(&self.addr)?;
        stream.set_nodelay(true)?;
        stream.set_read_timeout(Some(Duration::from_secs(30)))?;
        Ok(BufReader::new(stream))
    }

    /// Sends a request and reads the answer. A kept-open connection the server closed meanwhile
    /// is opened again once (every request the tests send is safe to repeat).
    pub fn call(
        &mut self,
        method: &str,
        path: &str,
        token: Option<&str>,
        body: Option<&Value>,
    ) -> Reply {
        let fresh = self.stream.is_none();
        match self.try_call(method, path, token, body) {
            Ok(reply) => reply,
            Err(_) if !fresh => {
                self.stream = None;
                self.try_call(method, path, token, body)
                    .unwrap_or_else(|e| panic!("{method} {path}: {e}"))
            }
            Err(e) => panic!("{method} {path}: {e}"),
        }
    }

    fn try_call(
        &mut self,
        method: &str,
        path: &str,
        token: Option<&str>,
        body: Option<&Value>,
    ) -> std::io::Result<Reply> {
        if self.stream.is_none() {
            self.stream = Some(self.connect()?);
        }
        let result = self.exchange(method, path, token, body);
        if result.is_err() {
            self.stream = None;
        }
        result
    }

    fn exchange(
        &mut self,
        method: &str,
        path: &str,
        token: Option<&str>,
        body: Option<&Value>,
    ) -> std::io::Result<Reply> {
        let addr = self.addr.clone();
        let stream = self.stream.as_mut().expect("connected");
        let body = body
            .map(|b| serde_json::to_vec(b).unwrap())
            .unwrap_or_default();
        let mut head = format!("{method} {path} HTTP/1.1\r\nHost: {addr}\r\n");
        if let Some(token) = token {
            head.push_str(&format!("Authorization: Bearer {token}\r\n"));
        }
        if !body.is_empty() || method == "POST" {
            head.push_str(&format!(
                "Content-Type: application/json\r\nContent-Length: {}\r\n",
                body.len()
            ));
        }
        head.push_str("\r\n");
        let mut request = head.into_bytes();
        request.extend_from_slice(&body);
        stream.get_mut().write_all(&request)?;

        let mut status_line = String::new();
        if stream.read_line(&mut status_line)? == 0 {
            return Err(std::io::Error::new(
                std::io::ErrorKind::UnexpectedEof,
                "connection closed",
            ));
        }
        let status: u16 = status_line
            .split_whitespace()
            .nth(1)
            .and_then(|s| s.parse().ok())
            .ok_or_else(|| std::io::Error::other(format!("bad status line {status_line:?}")))?;
        let mut headers = Vec::new();
        loop {
            let mut line = String::new();
            stream.read_line(&mut line)?;
            let line = line.trim_end();
            if line.is_empty() {
                break;
            }
            if let Some((name, value)) = line.split_once(':') {
                headers.push((name.trim().to_owned(), value.trim().to_owned()));
            }
        }
        let get = |name: &str| {
            headers
                .iter()
                .find(|(n, _): &&(String, String)| n.eq_ignore_ascii_case(name))
                .map(|(_, v)| v.clone())
        };
        let mut bytes = Vec::new();
        if let Some(length) = get("content-length").and_then(|l| l.parse::<usize>().ok()) {
            bytes.resize(length, 0);
            stream.read_exact(&mut bytes)?;
        } else if get("transfer-encoding").is_some_and(|t| t.eq_ignore_ascii_case("chunked")) {
            loop {
                let mut size = String::new();
                stream.read_line(&mut size)?;
                let size = usize::from_str_radix(size.trim(), 16)
                    .map_err(|_| std::io::Error::other("bad chunk size"))?;
                let mut chunk = vec![0; size + 2];
                stream.read_exact(&mut chunk)?;
                if size == 0 {
                    break;
                }
                bytes.extend_from_slice(&chunk[..size]);
            }
        }
        if get("connection").is_some_and(|c| c.eq_ignore_ascii_case("close")) {
            self.stream = None;
        }
        let json = if bytes.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&bytes).unwrap_or(Value::Null)
        };
        Ok(Reply {
            status,
            headers,
            json,
        })
    }
}
