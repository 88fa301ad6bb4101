//! Property test of sync against the real `koers-server` binary (issue 10): in every run a
//! fresh plan, several writers push random batches at once while several readers follow the
//! app's pull algorithm (`after = cursor`, store `cursor`, go on while `more`) with random page
//! sizes; in the end every reader holds exactly the server's set of operations.
//!
//! One server process serves all runs. `KOERS_SYNC_RUNS` sets the number of runs (200 by
//! default; `scripts/soak.sh` runs many more), `KOERS_SYNC_SEED` the seed (printed on failure).
//! `KOERS_SYNC_FOLLOW=last_seq` follows the answer's `last_seq` instead of its `cursor`, as the
//! app did before issue 10: that loses operations, and this test says so.

mod client;
mod common;

use std::collections::BTreeSet;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use client::{start_server, Conn};
use koers_core::founding::{plan_ops, NewPlan};
use koers_core::*;
use serde_json::json;
use uuid::Uuid;

/// A seeded xorshift generator: the same seed gives the same sizes and choices.
#[derive(Clone)]
struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Self {
        // splitmix64, so that neighbouring seeds give unrelated streams.
        let mut z = seed.wrapping_add(0x9e37_79b9_7f4a_7c15);
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        Rng((z ^ (z >> 31)) | 1)
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
    fn uuid(&mut self) -> Uuid {
        Uuid::from_u64_pair(self.next(), self.next())
    }
}

fn now_millis() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_millis() as u64
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Follow {
    Cursor,
    LastSeq,
}

/// A fresh plan, founded with a professional's `session`: its id, the founder (the worker), the
/// device token and the founding op ids.
fn found_plan(
    conn: &mut Conn,
    session: &str,
    rng: &mut Rng,
) -> (PlanId, MemberId, String, Vec<Op>) {
    let new = NewPlan {
        child_name: "Noa".into(),
        start_date: chrono::NaiveDate::from_ymd_opt(2026, 1, 5).unwrap(),
        founder_name: "Lotte".into(),
        members: vec![
            ("Mirjam".into(), Role::Parent),
            ("Anouk".into(), Role::FosterParent),
        ],
    };
    let mut clock = Clock::new(NodeId(rng.next()));
    let (plan, founder, ops) = plan_ops(&new, &mut clock, now_millis(), Uuid::new_v4);
    let reply = conn.call(
        "POST",
        "/api/plans",
        Some(session),
        Some(&json!({ "ops": ops, "device_name": "property test" })),
    );
    assert_eq!(reply.status, 201, "create plan: {}", reply.json);
    let token = reply.json["device_token"].as_str().unwrap().to_owned();
    (plan, founder, token, ops)
}

/// One writer: the founder on another node (a second phone of the worker), logging contact
/// moments field by field. Pushes `batches` random batches; returns the ids the server
/// accepted.
fn writer(
    addr: String,
    plan: PlanId,
    founder: MemberId,
    token: String,
    founding: Vec<Op>,
    mut rng: Rng,
) -> Vec<OpId> {
    let mut conn = Conn::new(&addr);
    let mut replica = Replica::from_ops(plan, &founding);
    let view = Plan::from_replica(&replica);
    let mut author = Author::new(founder, NodeId(rng.next()));
    let mut accepted = Vec::new();
    let batches = rng.between(1, 4);
    let mut moment = ContactMomentId(rng.uuid());
    for _ in 0..batches {
        let size = rng.between(1, 6);
        let mut ops = Vec::new();
        for _ in 0..size {
            if rng.between(0, 3) == 0 {
                moment = ContactMomentId(rng.uuid());
            }
            let n = rng.between(0, 1000);
            let edit = match n % 3 {
                0 => Edit::new(
                    Entity::ContactMoment(moment),
                    Field::Kind,
                    ContactKind::ALL[(n % 5) as usize],
                ),
                1 => Edit::new(
                    Entity::ContactMoment(moment),
                    Field::Status,
                    ContactStatus::Happened,
                ),
                _ => Edit::new(
                    Entity::ContactMoment(moment),
                    Field::Note,
                    Some(format!("Notitie {n}")),
                ),
            };
            let op = author
                .change(&replica, &view, OpId(rng.uuid()), now_millis(), edit)
                .expect("the worker logs contact moments");
            let _ = replica.apply(&op);
            ops.push(op);
        }
        let reply = conn.call(
            "POST",
            &format!("/api/plans/{plan}/ops"),
            Some(&token),
            Some(&json!({ "ops": ops })),
        );
        assert_eq!(reply.status, 200, "push: {}", reply.json);
        let refused = reply.json["refused"].as_array().map_or(0, Vec::len);
        assert_eq!(refused, 0, "push refused: {}", reply.json);
        for item in reply.json["accepted"].as_array().unwrap() {
            accepted.push(serde_json::from_value(item["op"].clone()).unwrap());
        }
        if rng.between(0, 1) == 0 {
            std::thread::sleep(Duration::from_millis(rng.between(0, 3)));
        }
    }
    accepted
}

/// One round of the app's pull: from the stored cursor, pages of a random size, until the
/// server says there is no more. Returns the requests made.
fn pull_round(
    conn: &mut Conn,
    plan: PlanId,
    token: &str,
    follow: Follow,
    cursor: &mut i64,
    held: &mut BTreeSet<OpId>,
    rng: &mut Rng,
) -> usize {
    let mut requests = 0;
    loop {
        let limit = rng.between(1, 50);
        let reply = conn.call(
            "GET",
            &format!("/api/plans/{plan}/ops?after={cursor}&limit={limit}"),
            Some(token),
            None,
        );
        requests += 1;
        assert_eq!(reply.status, 200, "pull: {}", reply.json);
        for item in reply.json["ops"].as_array().unwrap() {
            held.insert(serde_json::from_value(item["op"]["id"].clone()).unwrap());
        }
        let next = match follow {
            // The contract: continue from `cursor` and store it; no fallback.
            Follow::Cursor => reply.json["cursor"]
                .as_i64()
                .unwrap_or_else(|| panic!("the pull answer has no cursor: {}", reply.json)),
            Follow::LastSeq => reply.json["last_seq"].as_i64().unwrap(),
        };
        assert!(
            next >= *cursor,
            "the cursor went back: {} → {next}",
            *cursor
        );
        *cursor = next;
        if reply.json["more"] != json!(true) {
            return requests;
        }
    }
}

/// The server's whole set, read independently of any cursor: pages of 1000 after the highest
/// seq seen.
fn server_set(conn: &mut Conn, plan: PlanId, token: &str) -> BTreeSet<OpId> {
    let mut set = BTreeSet::new();
    let mut after = 0;
    loop {
        let reply = conn.call(
            "GET",
            &format!("/api/plans/{plan}/ops?after={after}&limit=1000"),
            Some(token),
            None,
        );
        assert_eq!(reply.status, 200, "{}", reply.json);
        let ops = reply.json["ops"].as_array().unwrap();
        for item in ops {
            set.insert(serde_json::from_value(item["op"]["id"].clone()).unwrap());
            after = after.max(item["seq"].as_i64().unwrap());
        }
        if ops.is_empty() {
            return set;
        }
    }
}

/// One run: a fresh plan (founded with a professional's `session`), 2–4 writers and 2–3 readers
/// at once.
fn run(addr: &str, session: &str, seed: u64, follow: Follow) -> Result<usize, String> {
    let mut rng = Rng::new(seed);
    let mut conn = Conn::new(addr);
    let (plan, founder, token, founding) = found_plan(&mut conn, session, &mut rng);
    let writers: Vec<_> = (0..rng.between(2, 4))
        .map(|_| {
            let (addr, token, founding, rng) = (
                addr.to_owned(),
                token.clone(),
                founding.clone(),
                Rng::new(rng.next()),
            );
            std::thread::spawn(move || writer(addr, plan, founder, token, founding, rng))
        })
        .collect();
    let writing = Arc::new(AtomicBool::new(true));
    let readers: Vec<_> = (0..rng.between(2, 3))
        .map(|_| {
            let (addr, token, writing, mut rng) = (
                addr.to_owned(),
                token.clone(),
                Arc::clone(&writing),
                Rng::new(rng.next()),
            );
            std::thread::spawn(move || {
                let mut conn = Conn::new(&addr);
                let (mut cursor, mut held, mut requests) = (0, BTreeSet::new(), 0);
                // Rounds while the writers write, then one more round after they are done
                // (the event stream would have said there is something new).
                loop {
                    let last = !writing.load(Ordering::SeqCst);
                    requests += pull_round(
                        &mut conn,
                        plan,
                        &token,
                        follow,
                        &mut cursor,
                        &mut held,
                        &mut rng,
                    );
                    if last {
                        return (held, requests);
                    }
                    std::thread::sleep(Duration::from_millis(rng.between(0, 2)));
                }
            })
        })
        .collect();
    let mut expected: BTreeSet<OpId> = founding.iter().map(|op| op.id).collect();
    for w in writers {
        expected.extend(w.join().map_err(|_| "a writer failed".to_owned())?);
    }
    writing.store(false, Ordering::SeqCst);
    let on_server = server_set(&mut conn, plan, &token);
    if on_server != expected {
        return Err(format!(
            "the server holds {} operations, the writers were told {} were stored",
            on_server.len(),
            expected.len()
        ));
    }
    let mut requests = 0;
    for (n, r) in readers.into_iter().enumerate() {
        let (held, made) = r.join().map_err(|_| "a reader failed".to_owned())?;
        requests += made;
        if held != on_server {
            let missing = on_server.difference(&held).count();
            let extra = held.difference(&on_server).count();
            return Err(format!(
                "reader {n} holds {} operations, the server {}: {missing} missing, {extra} unknown to the server",
                held.len(),
                on_server.len()
            ));
        }
    }
    Ok(requests)
}

#[test]
fn every_reader_following_the_cursor_ends_with_exactly_the_servers_operations() {
    let runs: u64 = std::env::var("KOERS_SYNC_RUNS")
        .ok()
        .and_then(|r| r.parse().ok())
        .unwrap_or(200);
    let seed: u64 = std::env::var("KOERS_SYNC_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(now_millis);
    let follow = match std::env::var("KOERS_SYNC_FOLLOW").as_deref() {
        Ok("last_seq") => Follow::LastSeq,
        _ => Follow::Cursor,
    };
    let server = start_server("warn");
    let started = Instant::now();
    let mut requests = 0;
    for n in 0..runs {
        let run_seed = seed.wrapping_add(n);
        match run(&server.addr, server.session(), run_seed, follow) {
            Ok(made) => requests += made,
            Err(why) => panic!(
                "run {n} of {runs} failed ({follow:?}): {why}\n\
                 replay its sizes with KOERS_SYNC_SEED={run_seed} KOERS_SYNC_RUNS=1 (base seed {seed})"
            ),
        }
    }
    println!(
        "{runs} runs ({follow:?}, seed {seed}) in {:.1} s, {requests} pulls",
        started.elapsed().as_secs_f64()
    );
}
