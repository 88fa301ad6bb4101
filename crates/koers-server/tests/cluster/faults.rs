//! Faults: an instance killed while a phone pushes through nginx; PostgreSQL stopped under both
//! instances and started again.

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use koers_core::OpId;

use crate::client::{Conn, Reply};
use crate::events::{EventStream, Item};
use crate::harness::{require_postgres, wait_for, Cluster, Database};
use crate::phone::{accepted_seqs, assert_gapless, Phone};
use crate::postgres::OwnCluster;

/// 300 operations pushed in batches of 10 through nginx while one instance is killed (SIGKILL)
/// and later started again; a batch that fails with a network error or 502-504 is sent again,
/// the same op ids, as a phone does. Every acknowledged op is stored once, with the seq it was
/// acknowledged with; the seqs are 1..N without gaps; a second phone pulls the same list.
#[test]
fn an_instance_killed_while_a_phone_pushes_loses_nothing() {
    let mut cluster = Cluster::start(2);
    let mut conn = cluster.conn();
    let mut worker = Phone::found(&mut conn, cluster.session(), "Noa");
    let parent_member = worker.me.parent;
    let mut parent = worker.invite(&mut conn, parent_member);
    worker.pull(&mut conn);
    let founding = worker.pulled.len();
    let ops = worker.me.moments(300);

    let batches_done = Arc::new(AtomicUsize::new(0));
    let pusher = {
        let nginx = cluster.nginx.addr.clone();
        let done = Arc::clone(&batches_done);
        std::thread::spawn(move || {
            let mut conn = Conn::new(&nginx);
            let mut acknowledged = Vec::new();
            let mut failed_attempts = 0;
            for batch in ops.chunks(10) {
                let (reply, failed) =
                    worker.push_until_answered(&mut conn, batch, Duration::from_secs(30));
                failed_attempts += failed;
                let seqs = accepted_seqs(&reply, batch);
                acknowledged.extend(batch.iter().map(|op| op.id).zip(seqs));
                done.fetch_add(1, Ordering::SeqCst);
            }
            (worker, acknowledged, failed_attempts)
        })
    };

    // Kill instance a a third of the way in, start it again two thirds of the way.
    wait_for(Duration::from_secs(60), "10 batches acknowledged", || {
        (batches_done.load(Ordering::SeqCst) >= 10).then_some(())
    });
    let started = Instant::now();
    cluster.instances[0].kill_hard();
    let killed_at = batches_done.load(Ordering::SeqCst);
    wait_for(Duration::from_secs(60), "20 batches acknowledged", || {
        (batches_done.load(Ordering::SeqCst) >= 20 || pusher.is_finished()).then_some(())
    });
    cluster.instances[0].restart();
    let restarted_at = batches_done.load(Ordering::SeqCst);
    let (worker, acknowledged, failed_attempts) = pusher.join().expect("the pusher finished");
    println!(
        "killed after {killed_at} batches, back after {restarted_at} ({:?}); {failed_attempts} pushes failed and were sent again",
        started.elapsed()
    );

    // Each op acknowledged once, with one seq.
    assert_eq!(acknowledged.len(), 300);
    let by_op: HashMap<OpId, i64> = acknowledged.iter().copied().collect();
    assert_eq!(by_op.len(), 300, "300 different ops");
    let seqs: HashSet<i64> = by_op.values().copied().collect();
    assert_eq!(seqs.len(), 300, "300 different seqs");

    // Everything, pulled through nginx: 1..N without gaps, every acknowledged op with its seq.
    let everything = worker.pull_everything(&mut cluster.conn());
    let all_seqs: Vec<i64> = everything.iter().map(|(seq, _)| *seq).collect();
    assert_gapless(&all_seqs);
    let stored: HashMap<OpId, i64> = everything.iter().map(|(seq, op)| (op.id, *seq)).collect();
    assert_eq!(stored.len(), everything.len(), "no op stored twice");
    for (op, seq) in &by_op {
        assert_eq!(
            stored.get(op),
            Some(seq),
            "op {op:?} acknowledged with seq {seq}"
        );
    }
    assert_eq!(everything.len(), founding + 300, "founding + 300");

    // The second phone pulls the same list.
    parent.pull(&mut cluster.conn());
    let ids = |list: &[(i64, koers_core::Op)]| -> Vec<(i64, OpId)> {
        list.iter().map(|(seq, op)| (*seq, op.id)).collect()
    };
    assert_eq!(ids(&parent.pulled), ids(&everything));

    // Both instances serve again, and nginx takes the restarted one back (after its
    // fail_timeout, 10 s by default, counted from the failure it saw).
    for instance in &cluster.instances {
        instance.wait_health(200, Duration::from_secs(5));
    }
    let waited = cluster.wait_round_robin(Duration::from_secs(15));
    println!("nginx sent requests to the restarted instance again after another {waited:?}");
}

/// PostgreSQL stopped under both instances: `/healthz` says 503 within a few seconds, a push is
/// answered 503 (not 500) and stores nothing; PostgreSQL started again: `/healthz` is 200 within
/// 10 s without restarting the instances, the same push succeeds, nothing acknowledged before
/// is missing, and event streams announce new operations again.
#[test]
fn postgres_stopped_and_started_again() {
    require_postgres("it stops PostgreSQL");
    let mut pg = OwnCluster::start();
    let cluster = Cluster::start_on(Database::Postgres(pg.fresh_database()), 2, true);
    let mut conn = cluster.conn();
    let mut worker = Phone::found(&mut conn, cluster.session(), "Noa");
    let parent_member = worker.me.parent;
    let parent = worker.invite(&mut conn, parent_member);
    let before = worker.me.moments(20);
    let mut acknowledged: Vec<(OpId, i64)> = Vec::new();
    for batch in before.chunks(10) {
        let seqs = worker.push_accepted(&mut conn, batch);
        acknowledged.extend(batch.iter().map(|op| op.id).zip(seqs));
    }
    // A stream held on each instance through nginx.
    let path = format!("/api/plans/{}/events", parent.plan());
    let streams: Vec<EventStream> = (0..2)
        .map(|_| EventStream::open(&cluster.nginx.addr, &path, Some(parent.token())))
        .collect();
    assert_ne!(streams[0].upstream(), streams[1].upstream());
    for stream in &streams {
        assert_eq!(stream.status, 200, "{}", stream.error);
        stream.next_event(Duration::from_secs(2));
    }

    pg.stop();
    let stopped = Instant::now();
    all_health(&cluster, 503, Duration::from_secs(5));
    println!(
        "both /healthz said 503 {:?} after PostgreSQL stopped",
        stopped.elapsed()
    );

    // A push now: 503 through nginx and straight from each instance, never 500; a pull too.
    // Asked all at once, as each answer waits for the database as long as the server tries.
    let during = worker.me.moments(5);
    let asked = Instant::now();
    let answers: Vec<(String, Reply)> = std::thread::scope(|scope| {
        let worker = &worker;
        let during = &during;
        let mut asks = vec![scope.spawn(|| {
            let reply = worker.push(&mut cluster.conn(), during);
            ("a push through nginx".to_owned(), reply)
        })];
        for instance in &cluster.instances {
            asks.push(scope.spawn(move || {
                let reply = worker.push(&mut instance.conn(), during);
                (format!("a push on {}", instance.name), reply)
            }));
            asks.push(scope.spawn(move || {
                let reply = worker.pull_page(&mut instance.conn(), 0, 10);
                (format!("a pull on {}", instance.name), reply)
            }));
        }
        asks.into_iter().map(|ask| ask.join().unwrap()).collect()
    });
    for (what, reply) in &answers {
        assert_eq!(reply.status, 503, "{what}: {}", reply.json);
        assert!(reply.json["error"].is_string(), "{what}: {}", reply.json);
    }
    println!(
        "5 requests during the outage answered 503 in {:?}",
        asked.elapsed()
    );

    pg.start_again();
    let restarted = Instant::now();
    all_health(&cluster, 200, Duration::from_secs(10));
    println!(
        "both /healthz said 200 {:?} after PostgreSQL started again",
        restarted.elapsed()
    );

    // Nothing of the refused push was stored, nothing acknowledged is missing.
    let everything = worker.pull_everything(&mut conn);
    let stored: HashMap<OpId, i64> = everything.iter().map(|(seq, op)| (op.id, *seq)).collect();
    assert!(
        during.iter().all(|op| !stored.contains_key(&op.id)),
        "half-stored push"
    );
    for (op, seq) in &acknowledged {
        assert_eq!(stored.get(op), Some(seq));
    }
    // The same push again (a phone retries a 503 too).
    let (reply, failed) = worker.push_until_answered(&mut conn, &during, Duration::from_secs(10));
    let seqs = accepted_seqs(&reply, &during);
    println!("the push after recovery needed {failed} retries");
    let everything = worker.pull_everything(&mut conn);
    let all_seqs: Vec<i64> = everything.iter().map(|(seq, _)| *seq).collect();
    assert_gapless(&all_seqs);
    assert_eq!(*all_seqs.last().unwrap(), *seqs.last().unwrap());

    // A new op is announced: on the streams held through the outage, or, if the server ended
    // them (a phone then reconnects), on new ones. A stream that stays open and silent fails.
    let ops = worker.me.moments(1);
    let seq = worker.push_accepted(&mut cluster.instances[1].conn(), &ops)[0];
    let mut ended = 0;
    for stream in &streams {
        let asked = Instant::now();
        loop {
            let left = Duration::from_secs(2).saturating_sub(asked.elapsed());
            match stream.next(left) {
                Some(Item::Event(name, data)) if name == "ops" => {
                    let data: serde_json::Value = serde_json::from_str(&data).unwrap();
                    if data["last_seq"].as_i64().unwrap() >= seq {
                        break;
                    }
                }
                Some(Item::Event(..)) => {}
                Some(Item::End) => {
                    ended += 1;
                    break;
                }
                other => panic!(
                    "a stream held on {} through the outage neither announced seq {seq} nor ended within 2 s: {other:?}",
                    stream.upstream()
                ),
            }
        }
    }
    println!("{ended} of 2 streams held through the outage had ended");
    let fresh: Vec<EventStream> = (0..2)
        .map(|_| EventStream::open(&cluster.nginx.addr, &path, Some(parent.token())))
        .collect();
    for stream in &fresh {
        assert_eq!(stream.status, 200, "{}", stream.error);
        stream.next_event(Duration::from_secs(2));
    }
    let ops = worker.me.moments(1);
    let seq = worker.push_accepted(&mut cluster.instances[0].conn(), &ops)[0];
    for stream in &fresh {
        stream.wait_ops(seq, Duration::from_secs(2));
    }
}

/// Waits until every instance's `/healthz` answers `status`, asking them all at once (while the
/// database is down, each answer takes as long as the server tries to reach it).
fn all_health(cluster: &Cluster, status: u16, limit: Duration) {
    std::thread::scope(|scope| {
        for instance in &cluster.instances {
            scope.spawn(move || instance.wait_health(status, limit));
        }
    });
}
