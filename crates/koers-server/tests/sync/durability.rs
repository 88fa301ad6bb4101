//! Durability: the real binary, killed with SIGKILL.

use std::io::{Read as _, Write as _};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};

use super::*;

const BIN: &str = env!("CARGO_BIN_EXE_koers-server");

struct Server {
    child: Child,
    addr: String,
    /// The first administrator's link, printed while the organisation has no account.
    link: Option<String>,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start_server(data: &std::path::Path, dist: &std::path::Path) -> Server {
    let mut child = Command::new(BIN)
        .env("KOERS_ADDR", "127.0.0.1:0")
        .env("KOERS_DATA", data)
        .env("KOERS_DIST", dist)
        .env("KOERS_LOG", "warn")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let common::Startup { addr, link, .. } = common::startup_line(&mut child);
    Server { child, addr, link }
}

/// One HTTP/1.1 request over a fresh connection: (status, JSON body).
fn http(
    addr: &str,
    method: &str,
    path: &str,
    token: Option<&str>,
    body: Option<&Value>,
) -> (u16, Value) {
    let mut stream = TcpStream::connect(addr).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(20)))
        .unwrap();
    let body = body.map(|b| b.to_string()).unwrap_or_default();
    let mut head = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nContent-Length: {}\r\n",
        body.len()
    );
    if !body.is_empty() {
        head.push_str("Content-Type: application/json\r\n");
    }
    if let Some(token) = token {
        head.push_str(&format!("Authorization: Bearer {token}\r\n"));
    }
    head.push_str("\r\n");
    stream.write_all(head.as_bytes()).unwrap();
    stream.write_all(body.as_bytes()).unwrap();
    let mut reply = Vec::new();
    stream.read_to_end(&mut reply).unwrap();
    let split = reply.windows(4).position(|w| w == b"\r\n\r\n").unwrap();
    let head = String::from_utf8_lossy(&reply[..split]).to_ascii_lowercase();
    let mut payload = reply[split + 4..].to_vec();
    if head.contains("transfer-encoding: chunked") {
        let mut out = Vec::new();
        let mut rest = &payload[..];
        loop {
            let line_end = rest.windows(2).position(|w| w == b"\r\n").unwrap();
            let size =
                usize::from_str_radix(std::str::from_utf8(&rest[..line_end]).unwrap().trim(), 16)
                    .unwrap();
            if size == 0 {
                break;
            }
            out.extend_from_slice(&rest[line_end + 2..line_end + 2 + size]);
            rest = &rest[line_end + 2 + size + 2..];
        }
        payload = out;
    }
    let status: u16 = head.split(' ').nth(1).unwrap().parse().unwrap();
    let json = if payload.is_empty() {
        Value::Null
    } else {
        serde_json::from_slice(&payload).unwrap()
    };
    (status, json)
}

#[test]
fn acknowledged_operations_survive_sigkill() {
    let dist = common::make_dist();
    let data = tempfile::tempdir().unwrap();
    let server = start_server(data.path(), dist.path());
    let link = server
        .link
        .clone()
        .expect("a first start prints the first account's link");
    let professional = common::professional::enrol(&link, |path, body| {
        http(&server.addr, "POST", path, None, Some(body))
    });

    let plan = PlanId(new_id());
    let worker = MemberId(new_id());
    let mut clock = Clock::new(NodeId(11));
    let founding = founding_ops(plan, worker, &mut clock).ops;
    let (status, created) = http(
        &server.addr,
        "POST",
        "/api/plans",
        Some(&professional.session),
        Some(&json!({ "ops": founding })),
    );
    assert_eq!(status, 201, "{created}");
    let token = created["device_token"].as_str().unwrap().to_owned();
    let mut acknowledged: Vec<(OpId, i64)> = founding.iter().map(|op| (op.id, 0)).collect();
    let ops_path = format!("/api/plans/{plan}/ops");
    for i in 0..40 {
        let batch: Vec<Op> = (0..3)
            .map(|j| {
                raw_op(
                    plan,
                    worker,
                    &mut clock,
                    Entity::NetworkPerson(NetworkPersonId(new_id())),
                    Field::Name,
                    json!(format!("Persoon {i}.{j}")),
                )
            })
            .collect();
        let (status, reply) = http(
            &server.addr,
            "POST",
            &ops_path,
            Some(&token),
            Some(&json!({ "ops": batch })),
        );
        assert_eq!(status, 200, "{reply}");
        for a in reply["accepted"].as_array().unwrap() {
            acknowledged.push((
                serde_json::from_value(a["op"].clone()).unwrap(),
                a["seq"].as_i64().unwrap(),
            ));
        }
    }
    assert_eq!(acknowledged.len(), founding.len() + 120);

    // SIGKILL: no shutdown, no flush.
    drop(server);
    let server = start_server(data.path(), dist.path());
    assert_eq!(
        server.link, None,
        "no new link once the organisation has an account"
    );
    let mut stored = std::collections::HashMap::new();
    let mut after = 0;
    loop {
        let (status, reply) = http(
            &server.addr,
            "GET",
            &format!("{ops_path}?after={after}&limit=50"),
            Some(&token),
            None,
        );
        assert_eq!(status, 200, "{reply}");
        for o in reply["ops"].as_array().unwrap() {
            let op: Op = serde_json::from_value(o["op"].clone()).unwrap();
            after = o["seq"].as_i64().unwrap();
            stored.insert(op.id, after);
        }
        if reply["more"] == false {
            break;
        }
    }
    for (id, seq) in &acknowledged {
        let found = stored
            .get(id)
            .unwrap_or_else(|| panic!("acknowledged op {id} lost"));
        if *seq != 0 {
            assert_eq!(found, seq);
        }
    }
    // The restarted server rebuilds the plan and still authorizes.
    let op = raw_op(
        plan,
        worker,
        &mut clock,
        Entity::Plan,
        Field::ChildName,
        json!("Noa"),
    );
    let (status, reply) = http(
        &server.addr,
        "POST",
        &ops_path,
        Some(&token),
        Some(&json!({ "ops": [op] })),
    );
    assert_eq!(status, 200);
    assert_eq!(reply["accepted"].as_array().unwrap().len(), 1, "{reply}");
}
