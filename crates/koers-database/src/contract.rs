//! The contract every [`Database`] backend keeps: one test suite, run against each backend by
//! its own crate with [`contract_tests!`](crate::contract_tests). Every test makes its own
//! random ids, so the backends may share one database between tests.

use std::sync::Arc;

use chrono::{TimeZone as _, Utc};
use uuid::Uuid;

use crate::*;

/// Generates one `#[tokio::test]` per contract test in the calling module. `$make` is an
/// expression giving a future of an `Arc<dyn Database>` (called afresh for every test).
#[macro_export]
macro_rules! contract_tests {
    ($make:expr) => {
        $crate::contract_tests!(@each $make;
            a_plan_is_created_once_with_its_ops_and_founder,
            ops_are_numbered_per_plan_from_one_without_gaps,
            a_resent_op_keeps_its_seq_and_nothing_is_duplicated,
            an_op_id_stored_with_other_content_is_refused_and_the_batch_rolled_back,
            an_op_id_of_another_plan_is_refused_and_the_batch_rolled_back,
            an_append_on_a_moved_head_or_an_unknown_plan_stores_nothing,
            a_page_holds_when_each_op_arrived_and_the_head_of_its_moment,
            writers_racing_on_one_plan_get_gapless_seqs_and_readers_miss_nothing,
            shutting_out_a_member_revokes_their_phones_and_open_invites_with_the_append,
            devices_are_found_by_token_touched_once_a_minute_and_revoked,
            invites_are_single_use_expire_and_can_be_revoked,
            op_bodies_and_the_daily_count_per_author_read_what_was_stored,
        );
    };
    (@each $make:expr; $($name:ident),* $(,)?) => {$(
        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn $name() {
            let db = $make.await;
            $crate::contract::$name(db).await;
        }
    )*};
}

pub fn t(seconds: i64) -> Timestamp {
    Utc.with_ymd_and_hms(2026, 1, 1, 10, 0, 0).unwrap() + chrono::Duration::seconds(seconds)
}

fn member() -> MemberId {
    MemberId(Uuid::new_v4())
}

/// An operation with a fresh id and a JSON body that names it.
pub fn op(author: MemberId, n: usize) -> NewOp {
    let id = OpId(Uuid::new_v4());
    NewOp {
        id,
        author,
        body: format!(r#"{{"id":"{id}","author":"{author}","n":{n}}}"#),
    }
}

pub fn device(plan: PlanId, member: MemberId, role: Role) -> NewDevice {
    NewDevice {
        device: DeviceId::new(),
        plan,
        member,
        role,
        token: SecretHash(Uuid::new_v4().simple().to_string()),
        name: "telefoon".into(),
    }
}

/// A plan founded by a worker with `n` ops: its id, the worker and the founder's device.
pub async fn founded(db: &dyn Database, n: usize) -> (PlanId, MemberId, NewDevice) {
    let plan = PlanId(Uuid::new_v4());
    let worker = member();
    let founder = device(plan, worker, Role::FosterCareWorker);
    let ops: Vec<NewOp> = (0..n).map(|i| op(worker, i)).collect();
    let seqs = db.create_plan(plan, &ops, &founder, t(0)).await.unwrap();
    assert_eq!(seqs, (1..=n as Seq).collect::<Vec<_>>());
    (plan, worker, founder)
}

/// Appends on top of the current head, shutting nobody out.
pub async fn append(
    db: &dyn Database,
    plan: PlanId,
    ops: &[NewOp],
) -> Result<Appended, DatabaseError> {
    let after_head = db.head(plan).await?;
    db.append_ops(Append {
        plan,
        after_head,
        ops,
        shut_out: &[],
        now: t(10),
    })
    .await
}

async fn bodies(db: &dyn Database, plan: PlanId) -> Vec<String> {
    let page = db.ops_page(plan, 0, 10_000).await.unwrap();
    page.ops.into_iter().map(|o| o.body).collect()
}

pub async fn a_plan_is_created_once_with_its_ops_and_founder(db: Arc<dyn Database>) {
    let db = db.as_ref();
    let (plan, worker, founder) = founded(db, 2).await;
    assert!(db.plan_exists(plan).await.unwrap());
    assert!(!db.plan_exists(PlanId(Uuid::new_v4())).await.unwrap());
    assert_eq!(db.head(plan).await.unwrap(), 2);
    assert_eq!(db.head(PlanId(Uuid::new_v4())).await.unwrap(), 0);
    let found = db
        .device_by_token(&founder.token, t(1))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (
            found.device,
            found.plan,
            found.member,
            found.role,
            found.name.as_str()
        ),
        (
            founder.device,
            plan,
            worker,
            Role::FosterCareWorker,
            "telefoon"
        )
    );
    assert_eq!(found.created_at, t(0));
    // A second founding of the same plan stores nothing of itself.
    let other = device(plan, member(), Role::FosterCareWorker);
    let err = db
        .create_plan(plan, &[op(worker, 9)], &other, t(2))
        .await
        .unwrap_err();
    assert_eq!(err, DatabaseError::PlanExists { plan });
    assert_eq!(bodies(db, plan).await.len(), 2);
    assert!(db
        .device_by_token(&other.token, t(2))
        .await
        .unwrap()
        .is_none());
    // An empty founding is a plan at head 0.
    let (empty, _, _) = founded(db, 0).await;
    assert!(db.plan_exists(empty).await.unwrap());
    assert_eq!(db.head(empty).await.unwrap(), 0);
}

pub async fn ops_are_numbered_per_plan_from_one_without_gaps(db: Arc<dyn Database>) {
    let db = db.as_ref();
    let (noa, worker, _) = founded(db, 3).await;
    let (sam, _, _) = founded(db, 1).await;
    let more: Vec<NewOp> = (3..6).map(|i| op(worker, i)).collect();
    let appended = append(db, noa, &more).await.unwrap();
    assert_eq!(appended.seqs, [4, 5, 6]);
    assert_eq!(appended.head, 6);
    let other = append(db, sam, &[op(worker, 1)]).await.unwrap();
    assert_eq!(
        other.seqs,
        [2],
        "another plan's ops do not use up Noa's numbers"
    );
    let page = db.ops_page(noa, 0, 100).await.unwrap();
    assert_eq!(
        page.ops.iter().map(|o| o.seq).collect::<Vec<_>>(),
        [1, 2, 3, 4, 5, 6]
    );
    assert_eq!(page.head, 6);
    let bodies: Vec<&str> = page.ops[3..].iter().map(|o| o.body.as_str()).collect();
    let sent: Vec<&str> = more.iter().map(|o| o.body.as_str()).collect();
    assert_eq!(bodies, sent, "bodies come back byte for byte");
    // `after` and `limit`
    let tail = db.ops_page(noa, 4, 1).await.unwrap();
    assert_eq!((tail.ops.len(), tail.ops[0].seq, tail.head), (1, 5, 6));
    assert!(db.ops_page(noa, 6, 10).await.unwrap().ops.is_empty());
    assert_eq!(
        db.ops_page(PlanId(Uuid::new_v4()), 0, 10).await.unwrap(),
        OpsPage::default()
    );
}

pub async fn a_resent_op_keeps_its_seq_and_nothing_is_duplicated(db: Arc<dyn Database>) {
    let db = db.as_ref();
    let (plan, worker, _) = founded(db, 0).await;
    let (a, b, c) = (op(worker, 1), op(worker, 2), op(worker, 3));
    let first = append(db, plan, &[a.clone(), b.clone()]).await.unwrap();
    assert_eq!(first.seqs, [1, 2]);
    // The same ops again, one new, and the new one twice in the batch.
    let again = append(db, plan, &[b.clone(), a.clone(), c.clone(), c.clone()])
        .await
        .unwrap();
    assert_eq!(again.seqs, [2, 1, 3, 3]);
    assert_eq!(again.head, 3);
    assert_eq!(bodies(db, plan).await.len(), 3);
    // The same content written differently is the same op.
    let respaced = NewOp {
        body: a.body.replace(',', " , "),
        ..a.clone()
    };
    assert_eq!(append(db, plan, &[respaced]).await.unwrap().seqs, [1]);
}

pub async fn an_op_id_stored_with_other_content_is_refused_and_the_batch_rolled_back(
    db: Arc<dyn Database>,
) {
    let db = db.as_ref();
    let (plan, worker, _) = founded(db, 0).await;
    let a = op(worker, 1);
    append(db, plan, std::slice::from_ref(&a)).await.unwrap();
    let changed = NewOp {
        body: a.body.replace("\"n\":1", "\"n\":9"),
        ..a.clone()
    };
    let err = append(db, plan, &[op(worker, 2), changed])
        .await
        .unwrap_err();
    assert_eq!(err, DatabaseError::OpIdReused { op_id: a.id });
    assert_eq!(
        bodies(db, plan).await,
        std::slice::from_ref(&a.body),
        "the batch rolled back"
    );
    assert_eq!(db.head(plan).await.unwrap(), 1);
    // Within one batch, and when founding a plan.
    let b = op(worker, 3);
    let b2 = NewOp {
        body: b.body.replace("\"n\":3", "\"n\":4"),
        ..b.clone()
    };
    let err = append(db, plan, &[b.clone(), b2.clone()])
        .await
        .unwrap_err();
    assert_eq!(err, DatabaseError::OpIdReused { op_id: b.id });
    let other = PlanId(Uuid::new_v4());
    let err = db
        .create_plan(
            other,
            &[b, b2],
            &device(other, worker, Role::FosterCareWorker),
            t(0),
        )
        .await
        .unwrap_err();
    assert!(matches!(err, DatabaseError::OpIdReused { .. }), "{err}");
    assert!(!db.plan_exists(other).await.unwrap());
}

pub async fn an_op_id_of_another_plan_is_refused_and_the_batch_rolled_back(db: Arc<dyn Database>) {
    let db = db.as_ref();
    let (noa, worker, _) = founded(db, 0).await;
    let (sam, _, _) = founded(db, 0).await;
    let a = op(worker, 1);
    append(db, noa, std::slice::from_ref(&a)).await.unwrap();
    let err = append(db, sam, &[op(worker, 2), a.clone()])
        .await
        .unwrap_err();
    assert_eq!(err, DatabaseError::OpIdConflict { op_id: a.id });
    assert!(bodies(db, sam).await.is_empty(), "the batch rolled back");
    assert_eq!(db.head(sam).await.unwrap(), 0);
}

pub async fn an_append_on_a_moved_head_or_an_unknown_plan_stores_nothing(db: Arc<dyn Database>) {
    let db = db.as_ref();
    let (plan, worker, _) = founded(db, 2).await;
    let write = |after_head, ops| Append {
        plan,
        after_head,
        ops,
        shut_out: &[],
        now: t(5),
    };
    let late = [op(worker, 7)];
    let err = db.append_ops(write(1, &late)).await.unwrap_err();
    assert_eq!(
        err,
        DatabaseError::HeadMoved {
            plan,
            expected: 1,
            head: 2
        }
    );
    assert_eq!(db.head(plan).await.unwrap(), 2);
    assert_eq!(bodies(db, plan).await.len(), 2);
    // Checked again on the right head, it goes in.
    assert_eq!(db.append_ops(write(2, &late)).await.unwrap().seqs, [3]);
    let nowhere = PlanId(Uuid::new_v4());
    let err = db
        .append_ops(Append {
            plan: nowhere,
            ..write(0, &[op(worker, 8)])
        })
        .await
        .unwrap_err();
    assert_eq!(err, DatabaseError::PlanUnknown { plan: nowhere });
    assert!(!db.plan_exists(nowhere).await.unwrap());
}

pub async fn a_page_holds_when_each_op_arrived_and_the_head_of_its_moment(db: Arc<dyn Database>) {
    let db = db.as_ref();
    let (plan, worker, _) = founded(db, 1).await;
    db.append_ops(Append {
        plan,
        after_head: 1,
        ops: &[op(worker, 1), op(worker, 2)],
        shut_out: &[],
        now: t(42),
    })
    .await
    .unwrap();
    let page = db.ops_page(plan, 1, 1).await.unwrap();
    assert_eq!(page.head, 3);
    assert_eq!((page.ops[0].seq, page.ops[0].received_at), (2, t(42)));
    assert_eq!(
        db.ops_page(plan, 0, 1).await.unwrap().ops[0].received_at,
        t(0)
    );
}

/// Two writers push to one plan at once, each catching up and trying again when the other got
/// in first (as two server instances do), while a reader follows the cursor. Every seq is used
/// once, in order, and the reader sees every op; a page is never behind its own head.
pub async fn writers_racing_on_one_plan_get_gapless_seqs_and_readers_miss_nothing(
    db: Arc<dyn Database>,
) {
    const EACH: usize = 60;
    let (plan, worker, _) = founded(db.as_ref(), 0).await;
    let writer = |db: Arc<dyn Database>| async move {
        let mut seqs = Vec::new();
        for n in 0..EACH {
            let one = [op(worker, n)];
            loop {
                let head = db.head(plan).await.unwrap();
                let write = Append {
                    plan,
                    after_head: head,
                    ops: &one,
                    shut_out: &[],
                    now: t(1),
                };
                match db.append_ops(write).await {
                    Ok(appended) => {
                        assert_eq!(appended.seqs, [head + 1]);
                        seqs.push(head + 1);
                        break;
                    }
                    Err(DatabaseError::HeadMoved { .. }) => tokio::task::yield_now().await,
                    Err(err) => panic!("{err}"),
                }
            }
        }
        seqs
    };
    let first = tokio::spawn(writer(Arc::clone(&db)));
    let second = tokio::spawn(writer(Arc::clone(&db)));
    let mut after = 0;
    let mut read = Vec::new();
    loop {
        let done = first.is_finished() && second.is_finished();
        let page = db.ops_page(plan, after, 7).await.unwrap();
        assert!(page.ops.iter().all(|o| o.seq <= page.head), "{page:?}");
        if page.ops.len() < 7 {
            let end = page.ops.last().map_or(after, |o| o.seq);
            assert_eq!(page.head, end, "a page that is not full ends at its head");
        }
        read.extend(page.ops.iter().map(|o| o.seq));
        after = page.ops.last().map_or(after, |o| o.seq);
        if done && page.ops.is_empty() {
            break;
        }
        tokio::task::yield_now().await;
    }
    let mut written = first.await.unwrap();
    written.extend(second.await.unwrap());
    written.sort_unstable();
    let all: Vec<Seq> = (1..=2 * EACH as Seq).collect();
    assert_eq!(written, all, "each seq given once, no gaps");
    assert_eq!(read, all, "the reader got every op, in order");
}

pub async fn shutting_out_a_member_revokes_their_phones_and_open_invites_with_the_append(
    db: Arc<dyn Database>,
) {
    let db = db.as_ref();
    let (plan, worker, _) = founded(db, 0).await;
    let (parent, other) = (member(), member());
    let invite = |member, code: &str| NewInvite {
        invite: InviteId::new(),
        code: SecretHash(format!("{code}-{plan}")),
        plan,
        member,
        role: Role::Parent,
        expires_at: t(3600),
        created_by: worker,
    };
    let (used, open, others) = (
        invite(parent, "c1"),
        invite(parent, "c2"),
        invite(other, "c3"),
    );
    for i in [&used, &open, &others] {
        db.create_invite(i, t(0)).await.unwrap();
    }
    let phone = device(plan, member(), Role::Parent);
    let AcceptOutcome::Accepted(joined) = db.accept_invite(&used.code, &phone, t(1)).await.unwrap()
    else {
        panic!("the invite is accepted")
    };
    assert_eq!((joined.member, joined.role), (parent, Role::Parent));
    let out = [op(worker, 1)];
    let appended = db
        .append_ops(Append {
            plan,
            after_head: 0,
            ops: &out,
            shut_out: &[parent],
            now: t(30),
        })
        .await
        .unwrap();
    assert_eq!(appended.seqs, [1]);
    assert_eq!(appended.revoked_devices, [phone.device]);
    let devices = db.devices(plan).await.unwrap();
    let revoked: Vec<DeviceId> = devices
        .iter()
        .filter(|d| d.revoked_at == Some(t(30)))
        .map(|d| d.device)
        .collect();
    assert_eq!(revoked, [phone.device]);
    let states: Vec<_> = db
        .invites(plan)
        .await
        .unwrap()
        .into_iter()
        .map(|i| (i.invite, i.used_at.is_some(), i.revoked_at.is_some()))
        .collect();
    let mut expected = vec![
        (used.invite, true, false),
        (open.invite, false, true),
        (others.invite, false, false),
    ];
    let mut states = states;
    states.sort();
    expected.sort();
    assert_eq!(states, expected);
    // Shutting out again revokes nothing new.
    let again = db
        .append_ops(Append {
            plan,
            after_head: 1,
            ops: &out,
            shut_out: &[parent],
            now: t(60),
        })
        .await
        .unwrap();
    assert!(again.revoked_devices.is_empty());
}

pub async fn devices_are_found_by_token_touched_once_a_minute_and_revoked(db: Arc<dyn Database>) {
    let db = db.as_ref();
    let (plan, _, founder) = founded(db, 0).await;
    let token = &founder.token;
    let d = db.device_by_token(token, t(0)).await.unwrap().unwrap();
    assert_eq!(d.last_seen_at, Some(t(0)));
    // Within a minute: not written again.
    let d = db.device_by_token(token, t(30)).await.unwrap().unwrap();
    assert_eq!(d.last_seen_at, Some(t(0)));
    let d = db.device_by_token(token, t(120)).await.unwrap().unwrap();
    assert_eq!(d.last_seen_at, Some(t(120)));
    assert!(db
        .revoke_device(plan, founder.device, t(120))
        .await
        .unwrap());
    assert!(
        db.revoke_device(plan, founder.device, t(180))
            .await
            .unwrap(),
        "twice is fine"
    );
    let elsewhere = PlanId(Uuid::new_v4());
    assert!(!db
        .revoke_device(elsewhere, founder.device, t(120))
        .await
        .unwrap());
    assert!(!db
        .revoke_device(plan, DeviceId::new(), t(120))
        .await
        .unwrap());
    let d = db.device_by_token(token, t(240)).await.unwrap().unwrap();
    assert_eq!(d.revoked_at, Some(t(120)), "the first revocation counts");
    assert_eq!(
        d.last_seen_at,
        Some(t(120)),
        "a revoked device is not touched"
    );
    assert_eq!(db.devices(plan).await.unwrap().len(), 1);
    assert!(db
        .device_by_token(&SecretHash("unknown".into()), t(0))
        .await
        .unwrap()
        .is_none());
}

pub async fn invites_are_single_use_expire_and_can_be_revoked(db: Arc<dyn Database>) {
    let db = db.as_ref();
    let (plan, worker, _) = founded(db, 0).await;
    let parent = member();
    let invite = |code: &str, expires| NewInvite {
        invite: InviteId::new(),
        code: SecretHash(format!("{code}-{plan}")),
        plan,
        member: parent,
        role: Role::Parent,
        expires_at: expires,
        created_by: worker,
    };
    let (first, short, third) = (
        invite("c1", t(120)),
        invite("c2", t(30)),
        invite("c3", t(120)),
    );
    for i in [&first, &short, &third] {
        let record = db.create_invite(i, t(0)).await.unwrap();
        assert_eq!(
            (
                record.invite,
                record.member,
                record.role,
                record.created_by,
                record.expires_at
            ),
            (i.invite, parent, Role::Parent, worker, i.expires_at)
        );
    }
    // The device's own plan, member and role are replaced by the invite's.
    let phone = device(PlanId(Uuid::new_v4()), member(), Role::Guardian);
    let AcceptOutcome::Accepted(d) = db.accept_invite(&first.code, &phone, t(10)).await.unwrap()
    else {
        panic!("accepted")
    };
    assert_eq!((d.plan, d.member, d.role), (plan, parent, Role::Parent));
    let again = device(plan, parent, Role::Parent);
    assert_eq!(
        db.accept_invite(&first.code, &again, t(11)).await.unwrap(),
        AcceptOutcome::Used
    );
    assert_eq!(
        db.accept_invite(&short.code, &again, t(30)).await.unwrap(),
        AcceptOutcome::Expired
    );
    assert!(db.revoke_invite(plan, third.invite, t(12)).await.unwrap());
    assert!(!db
        .revoke_invite(plan, InviteId::new(), t(12))
        .await
        .unwrap());
    assert_eq!(
        db.accept_invite(&third.code, &again, t(13)).await.unwrap(),
        AcceptOutcome::Revoked
    );
    let unknown = SecretHash("zz".into());
    assert_eq!(
        db.accept_invite(&unknown, &again, t(13)).await.unwrap(),
        AcceptOutcome::Unknown
    );
    assert!(db
        .device_by_token(&again.token, t(13))
        .await
        .unwrap()
        .is_none());
    assert_eq!(
        db.invite_by_code(&third.code)
            .await
            .unwrap()
            .unwrap()
            .revoked_at,
        Some(t(12))
    );
    assert!(db.invite_by_code(&unknown).await.unwrap().is_none());
    let list = db.invites(plan).await.unwrap();
    assert_eq!(list.len(), 3);
    let used = list.iter().find(|i| i.invite == first.invite).unwrap();
    assert_eq!(used.used_at, Some(t(10)));
    // A used invite cannot be revoked any more, but the call still finds it.
    assert!(db.revoke_invite(plan, first.invite, t(14)).await.unwrap());
    assert_eq!(
        db.invite_by_code(&first.code)
            .await
            .unwrap()
            .unwrap()
            .revoked_at,
        None
    );
}

pub async fn op_bodies_and_the_daily_count_per_author_read_what_was_stored(db: Arc<dyn Database>) {
    let db = db.as_ref();
    let (plan, worker, _) = founded(db, 2).await;
    let parent = member();
    let (early, late) = ([op(parent, 1)], [op(parent, 2), op(worker, 3)]);
    for (ops, at) in [(&early[..], t(100)), (&late[..], t(200))] {
        let after_head = db.head(plan).await.unwrap();
        db.append_ops(Append {
            plan,
            after_head,
            ops,
            shut_out: &[],
            now: at,
        })
        .await
        .unwrap();
    }
    let mut counts = db.ops_per_author_since(plan, t(100)).await.unwrap();
    counts.sort();
    let mut expected = vec![(parent, 2), (worker, 1)];
    expected.sort();
    assert_eq!(counts, expected);
    assert_eq!(db.ops_per_author_since(plan, t(201)).await.unwrap(), []);
    let asked = [late[0].id, OpId(Uuid::new_v4()), early[0].id];
    let mut found = db.op_bodies(plan, &asked).await.unwrap();
    found.sort();
    let mut expected = vec![
        (late[0].id, late[0].body.clone()),
        (early[0].id, early[0].body.clone()),
    ];
    expected.sort();
    assert_eq!(found, expected);
    assert!(db
        .op_bodies(PlanId(Uuid::new_v4()), &asked)
        .await
        .unwrap()
        .is_empty());
}
