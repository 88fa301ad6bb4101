//! An event stream (`text/event-stream`) held open on its own connection, read by a thread as it
//! comes: events arrive on a channel, and the end of the stream (the last chunk, or the
//! connection closing) is an item of its own.

use std::io::{BufReader, Write as _};
use std::net::{Shutdown, TcpStream};
use std::sync::mpsc::{channel, Receiver, RecvTimeoutError};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::harness::UPSTREAM_HEADER;
use crate::http::{read_chunk, read_head};

/// What the stream delivered next.
#[derive(Debug, Clone, PartialEq)]
pub enum Item {
    /// One event: its name (`message` when unnamed) and its data.
    Event(String, String),
    /// The server ended the stream (nginx sent the last chunk, or closed the connection).
    End,
    /// The connection failed.
    Failed(String),
}

pub struct EventStream {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    /// The answer's body when it was not a stream (an error).
    pub error: Value,
    items: Option<Receiver<Item>>,
    stream: TcpStream,
}

impl EventStream {
    /// `GET path` with the bearer `token` (if any) on a new connection to `addr`; reads the
    /// answer's head, then follows the body on a thread.
    pub fn open(addr: &str, path: &str, token: Option<&str>) -> EventStream {
        let mut stream = TcpStream::connect(addr).unwrap();
        stream.set_nodelay(true).unwrap();
        let mut head = format!(
            "GET {path} HTTP/1.1\r\nHost: {addr}\r\nAccept: text/event-stream\r\nAccept-Encoding: gzip, br\r\n"
        );
        if let Some(token) = token {
            head.push_str(&format!("Authorization: Bearer {token}\r\n"));
        }
        head.push_str("\r\n");
        stream.write_all(head.as_bytes()).unwrap();
        stream
            .set_read_timeout(Some(Duration::from_secs(10)))
            .unwrap();
        let mut reader = BufReader::new(stream.try_clone().unwrap());
        let (status, headers) = read_head(&mut reader).expect("the answer's head within 10 s");
        let header = |name: &str| {
            headers
                .iter()
                .find(|(n, _): &&(String, String)| n.eq_ignore_ascii_case(name))
                .map(|(_, v)| v.to_ascii_lowercase())
        };
        let chunked = header("transfer-encoding").is_some_and(|t| t == "chunked");
        if status != 200 {
            let mut body = Vec::new();
            if chunked {
                while let Ok(Some(chunk)) = read_chunk(&mut reader) {
                    body.extend_from_slice(&chunk);
                }
            } else if let Some(length) = header("content-length").and_then(|l| l.parse().ok()) {
                body.resize(length, 0);
                let _ = std::io::Read::read_exact(&mut reader, &mut body);
            }
            return EventStream {
                status,
                headers,
                error: serde_json::from_slice(&body).unwrap_or(Value::Null),
                items: None,
                stream,
            };
        }
        // No read timeout from here: the stream may stay quiet; dropping it shuts it down.
        stream.set_read_timeout(None).unwrap();
        let (tx, rx) = channel();
        std::thread::spawn(move || {
            let mut text = String::new();
            let end = loop {
                let bytes = if chunked {
                    match read_chunk(&mut reader) {
                        Ok(Some(chunk)) => chunk,
                        Ok(None) => break Item::End,
                        Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => break Item::End,
                        Err(e) => break Item::Failed(e.to_string()),
                    }
                } else {
                    let mut buf = vec![0; 4096];
                    match std::io::Read::read(&mut reader, &mut buf) {
                        Ok(0) => break Item::End,
                        Ok(n) => buf[..n].to_vec(),
                        Err(e) => break Item::Failed(e.to_string()),
                    }
                };
                text.push_str(&String::from_utf8_lossy(&bytes));
                // Events end with a blank line (CR LF, CR or LF line ends).
                let normalised = text.replace("\r\n", "\n");
                text = normalised;
                while let Some(at) = text.find("\n\n") {
                    let block: String = text.drain(..at + 2).collect();
                    if let Some(event) = parse_event(&block) {
                        if tx.send(event).is_err() {
                            return;
                        }
                    }
                }
            };
            let _ = tx.send(end);
        });
        EventStream {
            status,
            headers,
            error: Value::Null,
            items: Some(rx),
            stream,
        }
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The instance that answered, when opened through the test nginx.
    pub fn upstream(&self) -> &str {
        self.header(UPSTREAM_HEADER)
            .and_then(|tried| tried.rsplit(", ").next())
            .unwrap_or_else(|| panic!("no {UPSTREAM_HEADER} header: {:?}", self.headers))
    }

    /// The next item, or `None` if nothing came within `limit`.
    pub fn next(&self, limit: Duration) -> Option<Item> {
        let items = self.items.as_ref().expect("the stream was opened (200)");
        match items.recv_timeout(limit) {
            Ok(item) => Some(item),
            Err(RecvTimeoutError::Timeout) => None,
            // The reader sent End or Failed before it stopped; nothing more comes.
            Err(RecvTimeoutError::Disconnected) => Some(Item::End),
        }
    }

    /// The next event; panics on the end of the stream or after `limit`.
    pub fn next_event(&self, limit: Duration) -> (String, Value) {
        match self.next(limit) {
            Some(Item::Event(name, data)) => {
                let data = serde_json::from_str(&data)
                    .unwrap_or_else(|e| panic!("event {name}: data is not JSON ({e}): {data}"));
                (name, data)
            }
            other => panic!("expected an event within {limit:?}, got {other:?}"),
        }
    }

    /// Waits for an `ops` event whose `last_seq` is at least `seq` (skipping older ones); panics
    /// after `limit` or on the end of the stream. Answers how long it took.
    pub fn wait_ops(&self, seq: i64, limit: Duration) -> Duration {
        let started = Instant::now();
        loop {
            let left = limit.saturating_sub(started.elapsed());
            match self.next(left) {
                Some(Item::Event(name, data)) if name == "ops" => {
                    let data: Value = serde_json::from_str(&data).unwrap();
                    if data["last_seq"].as_i64().unwrap_or(0) >= seq {
                        return started.elapsed();
                    }
                }
                Some(Item::Event(..)) => {}
                other => panic!(
                    "no ops event with last_seq >= {seq} within {limit:?}: got {other:?} after {:?}",
                    started.elapsed()
                ),
            }
        }
    }
}

impl Drop for EventStream {
    fn drop(&mut self) {
        let _ = self.stream.shutdown(Shutdown::Both);
    }
}

/// An event from its text block; `None` for comments only (keep-alives).
fn parse_event(block: &str) -> Option<Item> {
    let mut name = None;
    let mut data: Vec<&str> = Vec::new();
    for line in block.lines() {
        if line.is_empty() || line.starts_with(':') {
            continue;
        }
        let (field, value) = line.split_once(':').unwrap_or((line, ""));
        let value = value.strip_prefix(' ').unwrap_or(value);
        match field {
            "event" => name = Some(value.to_owned()),
            "data" => data.push(value),
            _ => {}
        }
    }
    if name.is_none() && data.is_empty() {
        return None;
    }
    Some(Item::Event(
        name.unwrap_or_else(|| "message".to_owned()),
        data.join("\n"),
    ))
}
