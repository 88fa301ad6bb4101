//! A phone of a plan as the app is one: it founds a plan or joins one with an invite, authors
//! operations with `koers_core` (through [`crate::common::Worker`]), pushes them and pulls the
//! plan's operations from where it stopped. Requests go over any [`Conn`]: nginx's, or one
//! instance's.

use std::time::{Duration, Instant};

use koers_core::{Author, Clock, Entity, Field, MemberId, NodeId, Op, OpId, PlanId, Replica};
use serde_json::{json, Value};
use uuid::Uuid;

use crate::client::{Conn, Reply};
use crate::common::{now_millis, Founding, Worker};
use crate::http::try_call;

pub struct Phone {
    /// The plan, this device's token, its member writing (`author`) and its replica of the plan.
    /// For every phone, `me.parent` is the plan's parent (Mirjam).
    pub me: Worker,
    /// This device's id (for the device list, revoking).
    pub device: String,
    /// Everything pulled, oldest first: `(seq, op)`.
    pub pulled: Vec<(i64, Op)>,
    /// Where the next pull starts (`after`).
    pub cursor: i64,
    /// A clock for [`Phone::raw_op`], apart from the author's.
    raw_clock: Clock,
}

impl Phone {
    /// A worker's phone founds a plan for `child`, with one parent (Mirjam), signed in as a
    /// professional (`session`).
    pub fn found(conn: &mut Conn, session: &str, child: &str) -> Phone {
        let founding = Founding::new(child);
        let reply = conn.call(
            "POST",
            "/api/plans",
            Some(session),
            Some(&json!({ "ops": founding.ops, "device_name": "werktelefoon" })),
        );
        assert_eq!(reply.status, 201, "{}", reply.json);
        let device = reply.json["device"].as_str().unwrap().to_owned();
        let me = founding.worker(reply.json["device_token"].as_str().unwrap());
        Phone::new(me, device)
    }

    /// A phone writing as `me`, whose device id is not known here.
    pub fn from_worker(me: Worker) -> Phone {
        Phone::new(me, String::new())
    }

    fn new(me: Worker, device: String) -> Phone {
        Phone {
            me,
            device,
            pulled: Vec::new(),
            cursor: 0,
            raw_clock: Clock::new(NodeId(Uuid::new_v4().as_u64_pair().0)),
        }
    }

    pub fn plan(&self) -> PlanId {
        self.me.plan
    }

    pub fn token(&self) -> &str {
        &self.me.token
    }

    pub fn member(&self) -> MemberId {
        self.me.author.member
    }

    /// This phone (a manager's) invites `member`; the new phone accepts: its own [`Phone`], with
    /// the plan pulled.
    pub fn invite(&self, conn: &mut Conn, member: MemberId) -> Phone {
        let reply = conn.call(
            "POST",
            &format!("/api/plans/{}/invites", self.plan()),
            Some(self.token()),
            Some(&json!({ "member": member })),
        );
        assert_eq!(reply.status, 201, "{}", reply.json);
        let code = reply.json["code"].as_str().unwrap().to_owned();
        let reply = conn.call(
            "POST",
            "/api/invites/accept",
            None,
            Some(&json!({ "code": code, "device_name": "telefoon" })),
        );
        assert_eq!(reply.status, 201, "{}", reply.json);
        assert_eq!(reply.json["member"], json!(member));
        let me = Worker {
            plan: self.plan(),
            token: reply.json["device_token"].as_str().unwrap().to_owned(),
            parent: self.me.parent,
            author: Author::new(member, NodeId(Uuid::new_v4().as_u64_pair().0)),
            replica: Replica::new(self.plan()),
        };
        let mut phone = Phone::new(me, reply.json["device"].as_str().unwrap().to_owned());
        phone.pull(conn);
        phone
    }

    /// An operation by this phone's member that the phone does not check (the server must).
    pub fn raw_op(&mut self, entity: Entity, field: Field, value: Value) -> Op {
        Op {
            id: OpId(Uuid::new_v4()),
            plan: self.plan(),
            hlc: self.raw_clock.tick(now_millis()),
            author: self.member(),
            entity,
            field,
            value,
            supersedes: None,
        }
    }

    /// `POST /api/plans/{plan}/ops`, whatever the answer.
    pub fn push(&self, conn: &mut Conn, ops: &[Op]) -> Reply {
        conn.call(
            "POST",
            &format!("/api/plans/{}/ops", self.plan()),
            Some(self.token()),
            Some(&json!({ "ops": ops })),
        )
    }

    /// Pushes `ops` and asserts that all were accepted; their seqs, in order.
    pub fn push_accepted(&self, conn: &mut Conn, ops: &[Op]) -> Vec<i64> {
        let reply = self.push(conn, ops);
        accepted_seqs(&reply, ops)
    }

    /// Pushes `ops` as a phone does when the network or the server fails: the same batch (the
    /// same op ids) again after a network error or a 502/503/504, until it is answered 200
    /// (within `limit`). The answer, and how many attempts failed.
    pub fn push_until_answered(
        &self,
        conn: &mut Conn,
        ops: &[Op],
        limit: Duration,
    ) -> (Reply, u32) {
        let started = Instant::now();
        let mut failed = 0;
        loop {
            let path = format!("/api/plans/{}/ops", self.plan());
            let body = json!({ "ops": ops });
            let last = match try_call(conn, "POST", &path, Some(self.token()), Some(&body)) {
                Ok(reply) if reply.status == 200 => return (reply, failed),
                Ok(reply) if matches!(reply.status, 502..=504) => {
                    format!("{} {}", reply.status, reply.json)
                }
                Ok(reply) => panic!(
                    "a push was answered {} (not 200, nor 502-504 to retry): {}",
                    reply.status, reply.json
                ),
                Err(err) => err,
            };
            failed += 1;
            assert!(
                started.elapsed() < limit,
                "a push was not answered 200 within {limit:?} ({failed} attempts, last: {last})"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Pulls what is new since the last pull (all pages), applies it to the replica and keeps
    /// it in [`Phone::pulled`]; answers the new `(seq, op)`s.
    pub fn pull(&mut self, conn: &mut Conn) -> Vec<(i64, Op)> {
        let mut new = Vec::new();
        loop {
            let reply = self.pull_page(conn, self.cursor, 1000);
            assert_eq!(reply.status, 200, "{}", reply.json);
            let page = pulled_ops(&reply);
            for (seq, op) in &page {
                self.me.replica.apply(op).unwrap();
                assert!(
                    self.pulled.last().is_none_or(|(last, _)| last < seq),
                    "seq {seq} after {:?}",
                    self.pulled.last().map(|(s, _)| s)
                );
                self.pulled.push((*seq, op.clone()));
            }
            new.extend(page);
            let cursor = reply.json["cursor"].as_i64().unwrap();
            assert!(
                cursor >= self.cursor,
                "the cursor went back: {}",
                reply.json
            );
            self.cursor = cursor;
            if reply.json["more"] == false {
                return new;
            }
        }
    }

    /// One `GET /api/plans/{plan}/ops?after=&limit=`.
    pub fn pull_page(&self, conn: &mut Conn, after: i64, limit: u32) -> Reply {
        conn.call(
            "GET",
            &format!("/api/plans/{}/ops?after={after}&limit={limit}", self.plan()),
            Some(self.token()),
            None,
        )
    }

    /// The plan's operations as the server holds them, from the start (not kept).
    pub fn pull_everything(&self, conn: &mut Conn) -> Vec<(i64, Op)> {
        let mut all = Vec::new();
        let mut after = 0;
        loop {
            let reply = self.pull_page(conn, after, 1000);
            assert_eq!(reply.status, 200, "{}", reply.json);
            all.extend(pulled_ops(&reply));
            after = reply.json["cursor"].as_i64().unwrap();
            if reply.json["more"] == false {
                return all;
            }
        }
    }
}

/// The `(seq, op)`s of a pull's answer.
pub fn pulled_ops(reply: &Reply) -> Vec<(i64, Op)> {
    reply.json["ops"]
        .as_array()
        .unwrap_or_else(|| panic!("no ops: {}", reply.json))
        .iter()
        .map(|o| {
            (
                o["seq"].as_i64().unwrap(),
                serde_json::from_value(o["op"].clone()).unwrap(),
            )
        })
        .collect()
}

/// Asserts a push's answer accepted exactly `ops`, in order; their seqs.
pub fn accepted_seqs(reply: &Reply, ops: &[Op]) -> Vec<i64> {
    assert_eq!(reply.status, 200, "{}", reply.json);
    assert_eq!(reply.json["refused"], json!([]), "{}", reply.json);
    let accepted = reply.json["accepted"].as_array().unwrap();
    assert_eq!(accepted.len(), ops.len(), "{}", reply.json);
    accepted
        .iter()
        .zip(ops)
        .map(|(a, op)| {
            assert_eq!(a["op"], json!(op.id), "{}", reply.json);
            a["seq"].as_i64().unwrap()
        })
        .collect()
}

/// Asserts the JSON error of an answer: its status and code.
pub fn assert_error(reply: &Reply, status: u16, code: &str) {
    assert_eq!(reply.status, status, "{}", reply.json);
    assert_eq!(reply.json["error"], code, "{}", reply.json);
}

/// Asserts that `seqs` are exactly 1..=n.
pub fn assert_gapless(seqs: &[i64]) {
    let expected: Vec<i64> = (1..=seqs.len() as i64).collect();
    if seqs != expected.as_slice() {
        let missing: Vec<i64> = expected
            .iter()
            .filter(|s| !seqs.contains(s))
            .copied()
            .collect();
        panic!(
            "the seqs are not 1..={} without gaps: missing {missing:?}, got {seqs:?}",
            seqs.len()
        );
    }
}
