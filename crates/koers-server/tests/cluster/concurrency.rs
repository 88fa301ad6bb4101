//! Many writers and readers of one plan at once through nginx, and instances that start at the
//! same moment.

use std::collections::HashSet;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Barrier};
use std::time::{Duration, Instant};

use koers_core::{Author, NodeId, OpId};
use uuid::Uuid;

use crate::client::Conn;
use crate::common::Worker;
use crate::harness::{Cluster, Database};
use crate::phone::{accepted_seqs, assert_gapless, pulled_ops, Phone};

const WRITERS: usize = 4;
const OPS_PER_WRITER: usize = 50;
const READERS: usize = 2;

/// 4 writers push 50 operations each, one per request, to one plan through nginx at once, while
/// 2 readers follow the plan with `GET /api/plans/{plan}/ops?after=<cursor>`. All 200 are
/// acknowledged with distinct seqs that, with the founding's, are 1..N; each reader ends with
/// every op exactly once, in seq order (a seq given out before an earlier one is visible would
/// make a reader skip it).
#[test]
fn writers_and_readers_of_one_plan_at_once() {
    let cluster = Cluster::start(2);
    let mut conn = cluster.conn();
    let mut worker = Phone::found(&mut conn, cluster.session(), "Noa");
    worker.pull(&mut conn);
    let founding = worker.pulled.len();
    let (plan, token) = (worker.plan(), worker.token().to_owned());

    let start = Arc::new(Barrier::new(WRITERS + READERS));
    let final_seq = Arc::new(AtomicI64::new(i64::MAX));
    let writers: Vec<_> = (0..WRITERS)
        .map(|_| {
            // The same member on four devices of their own (own clocks), each from the founding.
            let mut author = Worker {
                plan,
                token: token.clone(),
                parent: worker.me.parent,
                author: Author::new(worker.member(), NodeId(Uuid::new_v4().as_u64_pair().0)),
                replica: worker.me.replica.clone(),
            };
            let ops = author.moments(OPS_PER_WRITER);
            let nginx = cluster.nginx.addr.clone();
            let start = Arc::clone(&start);
            std::thread::spawn(move || {
                let mut conn = Conn::new(&nginx);
                let phone = Phone::from_worker(author);
                start.wait();
                ops.iter()
                    .map(|op| {
                        let reply = phone.push(&mut conn, std::slice::from_ref(op));
                        (op.id, accepted_seqs(&reply, std::slice::from_ref(op))[0])
                    })
                    .collect::<Vec<(OpId, i64)>>()
            })
        })
        .collect();
    let readers: Vec<_> = (0..READERS)
        .map(|_| {
            let nginx = cluster.nginx.addr.clone();
            let start = Arc::clone(&start);
            let final_seq = Arc::clone(&final_seq);
            let phone = Phone::from_worker(Worker {
                plan,
                token: token.clone(),
                parent: worker.me.parent,
                author: worker.me.author.clone(),
                replica: koers_core::Replica::new(plan),
            });
            std::thread::spawn(move || {
                let mut conn = Conn::new(&nginx);
                let mut seen: Vec<(i64, OpId)> = Vec::new();
                let mut cursor = 0;
                let mut pulls = 0;
                let deadline = Instant::now() + Duration::from_secs(60);
                start.wait();
                while cursor < final_seq.load(Ordering::SeqCst) {
                    assert!(
                        Instant::now() < deadline,
                        "a reader did not reach the end in 60 s"
                    );
                    // Small pages, so that a page often ends at the newest op.
                    let reply = phone.pull_page(&mut conn, cursor, 25);
                    assert_eq!(reply.status, 200, "{}", reply.json);
                    pulls += 1;
                    let page = pulled_ops(&reply);
                    for (seq, op) in &page {
                        assert!(*seq > cursor, "seq {seq} after cursor {cursor}");
                        seen.push((*seq, op.id));
                    }
                    cursor = reply.json["cursor"].as_i64().unwrap();
                    if page.is_empty() {
                        std::thread::sleep(Duration::from_millis(5));
                    }
                }
                (seen, pulls)
            })
        })
        .collect();

    let results: Vec<_> = writers.into_iter().map(|w| w.join()).collect();
    if results.iter().any(Result::is_err) {
        final_seq.store(i64::MIN, Ordering::SeqCst); // the readers stop
        panic!("a writer failed");
    }
    let acknowledged: Vec<(OpId, i64)> = results.into_iter().flat_map(Result::unwrap).collect();
    assert_eq!(acknowledged.len(), WRITERS * OPS_PER_WRITER);
    let seqs: HashSet<i64> = acknowledged.iter().map(|(_, seq)| *seq).collect();
    assert_eq!(seqs.len(), acknowledged.len(), "distinct seqs");
    let mut all: Vec<i64> = (1..=founding as i64).chain(seqs.iter().copied()).collect();
    all.sort_unstable();
    assert_gapless(&all);
    final_seq.store(*all.last().unwrap(), Ordering::SeqCst);

    let mut expected: Vec<(i64, OpId)> = worker
        .pulled
        .iter()
        .map(|(seq, op)| (*seq, op.id))
        .chain(acknowledged.iter().map(|(op, seq)| (*seq, *op)))
        .collect();
    expected.sort_unstable();
    for reader in readers {
        let (seen, pulls) = reader.join().expect("a reader failed");
        let missing: Vec<&(i64, OpId)> = expected.iter().filter(|e| !seen.contains(e)).collect();
        assert!(missing.is_empty(), "a reader missed {missing:?}");
        assert_eq!(seen, expected, "every op exactly once, in seq order");
        println!("a reader followed {} ops in {pulls} pulls", seen.len());
    }
}

/// Two instances started at the same moment on a fresh database both come up healthy (the
/// migrations run once, under a lock) and serve the same plans; twice, each on a new database.
/// Both make the one organisation and print a link for its first account; the first used works,
/// the other no longer does.
#[test]
fn instances_started_at_once_on_a_fresh_database() {
    for _ in 0..2 {
        let cluster = Cluster::start_on(Database::fresh(), 2, true);
        let links: Vec<String> = cluster
            .instances
            .iter()
            .map(|i| {
                i.enrolment_link()
                    .unwrap_or_else(|| panic!("{} printed no link:\n{}", i.name, i.log()))
            })
            .collect();
        assert_ne!(links[0], links[1], "a link of its own each");
        let mut conn = cluster.conn();
        let mut worker = Phone::found(&mut conn, cluster.session(), "Noa");
        let refused = crate::common::professional::try_enrol(&links[1], |path, body| {
            let reply = conn.call("POST", path, None, Some(body));
            (reply.status, reply.json)
        });
        let Err((_, status, json)) = refused else {
            panic!("the second link for the first account worked too");
        };
        assert_eq!(
            (status, json["error"].as_str()),
            (410, Some("enrolment_used")),
            "{json}"
        );
        worker.pull(&mut conn);
        for instance in &cluster.instances {
            let everything = worker.pull_everything(&mut instance.conn());
            assert_eq!(everything.len(), worker.pulled.len(), "{}", instance.name);
        }
    }
}
