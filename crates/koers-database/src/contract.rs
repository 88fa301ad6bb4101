//! The contract every [`Database`] backend keeps: one test suite, run against each backend by
//! its own crate with [`contract_tests!`](crate::contract_tests). Every test makes its own
//! random ids, so the backends may share one database between tests.

use std::sync::Arc;

use chrono::{TimeZone as _, Utc};
use uuid::Uuid;

use crate::*;

/// Generates one `#[tokio::test]` per contract test in the calling module. `$make` is an
/// expression giving a future of an `Arc<dyn Database>` (called afresh for every test). The few
/// tests about the whole database (the first organisation) need an empty one: give
/// `empty: <expr>` when `$make` shares one database between tests.
#[macro_export]
macro_rules! contract_tests {
    ($make:expr) => {
        $crate::contract_tests!($make, empty: $make);
    };
    ($make:expr, empty: $empty:expr) => {
        $crate::contract_tests!(@each $empty;
            the_first_organisation_is_created_once_and_says_whether_anyone_enrolled,
        );
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
            an_enrolment_link_is_single_use_expires_and_can_be_revoked,
            a_first_administrators_link_is_refused_once_the_organisation_has_an_account,
            passkeys_are_found_by_credential_and_keep_their_state_after_a_sign_in,
            sessions_are_found_by_token_touched_once_a_minute_and_revoked,
            a_ceremony_is_answered_once_and_not_after_it_expired,
            deactivating_an_account_ends_its_sessions_and_devices_and_reports_the_devices,
            founding_a_plan_for_an_organisation_makes_the_founder_a_member,
            accepting_an_invite_signed_in_makes_the_account_a_member,
            a_hand_over_moves_memberships_with_the_append_and_not_without_it,
            an_organisation_lists_its_own_plans_with_their_current_members,
            the_access_log_is_per_organisation_newest_first_a_page_at_a_time,
            a_device_gets_a_new_token_and_the_old_one_stops_working,
            a_signed_in_professional_registers_a_phone_for_a_plan,
            an_appends_access_line_is_stored_with_it_and_only_with_it,
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

/// A fresh secret's hash (device tokens, invite and enrolment codes, session tokens).
pub fn secret() -> SecretHash {
    SecretHash(Uuid::new_v4().simple().to_string())
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
        token: secret(),
        name: "telefoon".into(),
        account: None,
    }
}

/// A plan founded by a worker with `n` ops: its id, the worker and the founder's device.
pub async fn founded(db: &dyn Database, n: usize) -> (PlanId, MemberId, NewDevice) {
    let plan = PlanId(Uuid::new_v4());
    let worker = member();
    let founder = device(plan, worker, Role::FosterCareWorker);
    let ops: Vec<NewOp> = (0..n).map(|i| op(worker, i)).collect();
    let seqs = db
        .create_plan(plan, &ops, &founder, None, t(0))
        .await
        .unwrap();
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
        memberships: &[],
        access: None,
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
        .create_plan(plan, &[op(worker, 9)], &other, None, t(2))
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
            None,
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
        memberships: &[],
        access: None,
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
        memberships: &[],
        access: None,
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
                    memberships: &[],
                    access: None,
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
            memberships: &[],
            access: None,
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
            memberships: &[],
            access: None,
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
            memberships: &[],
            access: None,
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

// Organisations and accounts.

/// An organisation record with a fresh id, created at `at`.
pub fn new_organisation(name: &str, at: Timestamp) -> OrganisationRecord {
    OrganisationRecord {
        organisation: OrganisationId::new(),
        name: name.into(),
        created_at: at,
    }
}

/// What a professional brings to an enrolment link: a fresh account id, a passkey and a first
/// session (valid for a day).
pub fn enrolling(name: &str) -> Enrolling {
    let account = AccountId::new();
    Enrolling {
        account,
        name: name.into(),
        credential: format!("credential-{}", Uuid::new_v4().simple()),
        passkey: format!(r#"{{"account":"{account}","counter":0}}"#),
        session: NewSession {
            session: SessionId::new(),
            token: secret(),
            account,
            expires_at: t(86_400),
        },
    }
}

/// An enrolment link for `organisation`, made by `created_by` (`None`: a first
/// administrator's link).
pub fn enrolment_link(
    organisation: OrganisationId,
    created_by: Option<AccountId>,
    admin: bool,
    expires_at: Timestamp,
) -> NewEnrolment {
    NewEnrolment {
        enrolment: EnrolmentId::new(),
        code: secret(),
        organisation,
        name: "Sanne Jansen".into(),
        admin,
        created_by,
        expires_at,
    }
}

/// Enrols a professional through a new link: their account and what they enrolled with.
pub async fn enrolled(
    db: &dyn Database,
    organisation: OrganisationId,
    created_by: Option<AccountId>,
    admin: bool,
    name: &str,
) -> (AccountRecord, Enrolling) {
    let link = enrolment_link(organisation, created_by, admin, t(3600));
    db.create_enrolment(&link, t(0)).await.unwrap();
    let who = enrolling(name);
    match db.use_enrolment(link.enrolment, &who, t(1)).await.unwrap() {
        EnrolmentOutcome::Enrolled(account) => (account, who),
        other => panic!("{name} could not enrol: {other:?}"),
    }
}

/// A new organisation with its first administrator and one foster-care worker.
pub async fn organisation_with_staff(
    db: &dyn Database,
) -> (OrganisationId, AccountRecord, AccountRecord) {
    let organisation = new_organisation("Pleegzorg Midden", t(0));
    db.create_organisation(&organisation).await.unwrap();
    let org = organisation.organisation;
    let (admin, _) = enrolled(db, org, None, true, "Anna de Boer").await;
    let (worker, _) = enrolled(db, org, Some(admin.account), false, "Wim Visser").await;
    (org, admin, worker)
}

/// A plan founded by `account` for `organisation` at `at`, with one op: the plan, the
/// founder's member and phone.
pub async fn founded_for(
    db: &dyn Database,
    organisation: OrganisationId,
    account: AccountId,
    at: Timestamp,
) -> (PlanId, MemberId, NewDevice) {
    let plan = PlanId(Uuid::new_v4());
    let worker = member();
    let founder = NewDevice {
        account: Some(account),
        ..device(plan, worker, Role::FosterCareWorker)
    };
    let owner = PlanOwner {
        organisation,
        account,
    };
    db.create_plan(plan, &[op(worker, 0)], &founder, Some(owner), at)
        .await
        .unwrap();
    (plan, worker, founder)
}

fn membership(
    account: AccountId,
    plan: PlanId,
    member: MemberId,
    role: Role,
    since: Timestamp,
) -> MembershipRecord {
    MembershipRecord {
        account,
        plan,
        member,
        role,
        since,
    }
}

/// Runs on an empty database. Instances starting at once settle on one organisation; a
/// restart finds the same one, also after more organisations were made, and says whether its
/// first administrator enrolled (the server prints a first administrator's link until then).
pub async fn the_first_organisation_is_created_once_and_says_whether_anyone_enrolled(
    db: Arc<dyn Database>,
) {
    let offered: Vec<OrganisationRecord> = (0..4)
        .map(|n| new_organisation(&format!("instance {n}"), t(n)))
        .collect();
    let starts: Vec<_> = offered
        .iter()
        .map(|mine| {
            let (db, mine) = (Arc::clone(&db), mine.clone());
            tokio::spawn(async move { db.first_organisation(&mine).await.unwrap() })
        })
        .collect();
    let mut results = Vec::new();
    for start in starts {
        results.push(start.await.unwrap());
    }
    let (first, anyone) = results[0].clone();
    assert!(!anyone, "nobody enrolled yet");
    assert!(
        results.iter().all(|r| *r == (first.clone(), false)),
        "every instance got the same organisation: {results:?}"
    );
    assert!(offered.contains(&first), "one of those offered");
    let mut stored = Vec::new();
    for mine in &offered {
        stored.extend(db.organisation(mine.organisation).await.unwrap());
    }
    assert_eq!(
        stored,
        std::slice::from_ref(&first),
        "only that one was stored"
    );

    // Another organisation made later does not take its place.
    let later = new_organisation("Jeugdbescherming Oost", t(100));
    db.create_organisation(&later).await.unwrap();
    let restart = new_organisation("restart", t(200));
    assert_eq!(
        db.first_organisation(&restart).await.unwrap(),
        (first.clone(), false)
    );
    assert_eq!(db.organisation(restart.organisation).await.unwrap(), None);
    assert_eq!(
        db.organisation(later.organisation).await.unwrap(),
        Some(later)
    );

    // Once its first administrator enrolled, a restart says so.
    enrolled(db.as_ref(), first.organisation, None, true, "Anna de Boer").await;
    assert_eq!(
        db.first_organisation(&restart).await.unwrap(),
        (first, true)
    );
}

pub async fn an_enrolment_link_is_single_use_expires_and_can_be_revoked(db: Arc<dyn Database>) {
    let db = db.as_ref();
    let organisation = new_organisation("Pleegzorg Midden", t(0));
    db.create_organisation(&organisation).await.unwrap();
    let org = organisation.organisation;
    assert_eq!(db.organisation(org).await.unwrap(), Some(organisation));
    assert_eq!(db.organisation(OrganisationId::new()).await.unwrap(), None);
    let (admin, _) = enrolled(db, org, None, true, "Anna de Boer").await;
    let by_admin =
        |admin_link, expires_at| enrolment_link(org, Some(admin.account), admin_link, expires_at);
    let (first, short, revoked) = (
        by_admin(false, t(3600)),
        by_admin(false, t(30)),
        by_admin(true, t(3600)),
    );
    for (link, at) in [(&first, t(10)), (&short, t(11)), (&revoked, t(12))] {
        let record = db.create_enrolment(link, at).await.unwrap();
        assert_eq!(
            record,
            EnrolmentRecord {
                enrolment: link.enrolment,
                organisation: org,
                name: "Sanne Jansen".into(),
                admin: link.admin,
                created_by: Some(admin.account),
                created_at: at,
                expires_at: link.expires_at,
                used_at: None,
                used_by: None,
                revoked_at: None,
            }
        );
    }

    // The professional enrols under the name they give (their passkey carries it too).
    let sanne = enrolling("Sanne Jansen-de Vries");
    let EnrolmentOutcome::Enrolled(account) = db
        .use_enrolment(first.enrolment, &sanne, t(20))
        .await
        .unwrap()
    else {
        panic!("the link works once")
    };
    let expected = AccountRecord {
        account: sanne.account,
        organisation: org,
        name: "Sanne Jansen-de Vries".into(),
        admin: false,
        created_at: t(20),
        deactivated_at: None,
    };
    assert_eq!(account, expected);
    assert_eq!(db.account(sanne.account).await.unwrap(), Some(expected));
    let passkey = db.passkey(&sanne.credential).await.unwrap().unwrap();
    assert_eq!(
        (passkey.account, passkey.passkey.as_str()),
        (sanne.account, sanne.passkey.as_str())
    );
    let session = db
        .session_by_token(&sanne.session.token, t(21))
        .await
        .unwrap()
        .expect("signed in on the phone that enrolled");
    assert_eq!(
        (session.session, session.account, session.expires_at),
        (sanne.session.session, sanne.account, t(86_400))
    );
    let used = db.enrolment_by_code(&first.code).await.unwrap().unwrap();
    assert_eq!(
        (used.used_at, used.used_by),
        (Some(t(20)), Some(sanne.account))
    );

    // A second use, an expired link, a revoked one and an unknown one create nobody.
    let again = enrolling("Someone Else");
    assert_eq!(
        db.use_enrolment(first.enrolment, &again, t(22))
            .await
            .unwrap(),
        EnrolmentOutcome::Used
    );
    assert_eq!(
        db.use_enrolment(short.enrolment, &again, t(30))
            .await
            .unwrap(),
        EnrolmentOutcome::Expired
    );
    assert!(db
        .revoke_enrolment(org, revoked.enrolment, t(23))
        .await
        .unwrap());
    assert!(
        !db.revoke_enrolment(OrganisationId::new(), revoked.enrolment, t(23))
            .await
            .unwrap(),
        "another organisation's link is not found"
    );
    assert!(!db
        .revoke_enrolment(org, EnrolmentId::new(), t(23))
        .await
        .unwrap());
    assert_eq!(
        db.use_enrolment(revoked.enrolment, &again, t(24))
            .await
            .unwrap(),
        EnrolmentOutcome::Revoked
    );
    assert_eq!(
        db.use_enrolment(EnrolmentId::new(), &again, t(24))
            .await
            .unwrap(),
        EnrolmentOutcome::Unknown
    );
    assert_eq!(db.account(again.account).await.unwrap(), None);
    assert_eq!(db.passkey(&again.credential).await.unwrap(), None);
    assert_eq!(
        db.session_by_token(&again.session.token, t(24))
            .await
            .unwrap(),
        None
    );

    // A used link stays used when revoked, but the call finds it.
    assert!(db
        .revoke_enrolment(org, first.enrolment, t(25))
        .await
        .unwrap());
    let listed = db.enrolments(org).await.unwrap();
    let states: Vec<_> = listed
        .iter()
        .map(|e| (e.enrolment, e.used_at, e.revoked_at))
        .collect();
    assert_eq!(
        states[1..],
        [
            (first.enrolment, Some(t(20)), None),
            (short.enrolment, None, None),
            (revoked.enrolment, None, Some(t(23))),
        ],
        "oldest first, after the first administrator's own link"
    );
    assert_eq!(listed.len(), 4);
    assert_eq!(
        db.enrolment_by_code(&SecretHash("unknown".into()))
            .await
            .unwrap(),
        None
    );
    let names: Vec<String> = db
        .accounts(org)
        .await
        .unwrap()
        .into_iter()
        .map(|a| a.name)
        .collect();
    assert_eq!(names, ["Anna de Boer", "Sanne Jansen-de Vries"]);
    assert!(db.accounts(OrganisationId::new()).await.unwrap().is_empty());
    assert_eq!(db.account(AccountId::new()).await.unwrap(), None);
}

/// The server prints a first administrator's link on each start until someone used one: the
/// first link used wins, and every other one (printed earlier or later, used one after the
/// other or at the same moment) is refused as used.
pub async fn a_first_administrators_link_is_refused_once_the_organisation_has_an_account(
    db: Arc<dyn Database>,
) {
    let organisation = new_organisation("Pleegzorg Midden", t(0));
    db.create_organisation(&organisation).await.unwrap();
    let org = organisation.organisation;
    let (printed_first, printed_second) = (
        enrolment_link(org, None, true, t(3600)),
        enrolment_link(org, None, true, t(3600)),
    );
    for link in [&printed_first, &printed_second] {
        db.create_enrolment(link, t(0)).await.unwrap();
    }
    let anna = enrolling("Anna de Boer");
    let EnrolmentOutcome::Enrolled(first_admin) = db
        .use_enrolment(printed_second.enrolment, &anna, t(5))
        .await
        .unwrap()
    else {
        panic!("the first administrator enrols")
    };
    assert!(first_admin.admin);
    let intruder = enrolling("Mallory");
    assert_eq!(
        db.use_enrolment(printed_first.enrolment, &intruder, t(6))
            .await
            .unwrap(),
        EnrolmentOutcome::Used
    );
    let printed_later = enrolment_link(org, None, true, t(3600));
    db.create_enrolment(&printed_later, t(7)).await.unwrap();
    assert_eq!(
        db.use_enrolment(printed_later.enrolment, &intruder, t(8))
            .await
            .unwrap(),
        EnrolmentOutcome::Used
    );
    assert_eq!(
        db.accounts(org).await.unwrap(),
        std::slice::from_ref(&first_admin)
    );
    assert_eq!(db.account(intruder.account).await.unwrap(), None);
    // The refused link was not marked used: nobody enrolled with it.
    let refused = db
        .enrolment_by_code(&printed_first.code)
        .await
        .unwrap()
        .unwrap();
    assert_eq!((refused.used_at, refused.used_by), (None, None));
    // An administrator's own links still work.
    enrolled(
        db.as_ref(),
        org,
        Some(first_admin.account),
        false,
        "Wim Visser",
    )
    .await;

    // Two first administrator's links of a new organisation used at the same moment.
    let other = new_organisation("Jeugdbescherming Oost", t(0));
    db.create_organisation(&other).await.unwrap();
    let links = [
        enrolment_link(other.organisation, None, true, t(3600)),
        enrolment_link(other.organisation, None, true, t(3600)),
    ];
    for link in &links {
        db.create_enrolment(link, t(0)).await.unwrap();
    }
    let uses: Vec<_> = links
        .iter()
        .map(|link| {
            let (db, enrolment) = (Arc::clone(&db), link.enrolment);
            tokio::spawn(async move {
                db.use_enrolment(enrolment, &enrolling("Racer"), t(10))
                    .await
                    .unwrap()
            })
        })
        .collect();
    let mut enrolled_now = 0;
    for one in uses {
        match one.await.unwrap() {
            EnrolmentOutcome::Enrolled(_) => enrolled_now += 1,
            EnrolmentOutcome::Used => {}
            other => panic!("{other:?}"),
        }
    }
    assert_eq!(enrolled_now, 1);
    assert_eq!(db.accounts(other.organisation).await.unwrap().len(), 1);
}

pub async fn passkeys_are_found_by_credential_and_keep_their_state_after_a_sign_in(
    db: Arc<dyn Database>,
) {
    let db = db.as_ref();
    let organisation = new_organisation("Pleegzorg Midden", t(0));
    db.create_organisation(&organisation).await.unwrap();
    let (admin, anna) = enrolled(db, organisation.organisation, None, true, "Anna").await;
    let stored = db.passkey(&anna.credential).await.unwrap();
    assert_eq!(
        stored,
        Some(PasskeyRecord {
            credential: anna.credential.clone(),
            account: admin.account,
            passkey: anna.passkey.clone(),
            created_at: t(1),
            last_used_at: None,
        })
    );
    let counted = r#"{"counter":7}"#;
    db.update_passkey(&anna.credential, counted, t(50))
        .await
        .unwrap();
    let after = db.passkey(&anna.credential).await.unwrap().unwrap();
    assert_eq!(
        (after.passkey.as_str(), after.last_used_at, after.created_at),
        (counted, Some(t(50)), t(1))
    );
    assert_eq!(db.passkey("no-such-credential").await.unwrap(), None);
}

pub async fn sessions_are_found_by_token_touched_once_a_minute_and_revoked(db: Arc<dyn Database>) {
    let db = db.as_ref();
    let (_, _, worker) = organisation_with_staff(db).await;
    let laptop = NewSession {
        session: SessionId::new(),
        token: secret(),
        account: worker.account,
        expires_at: t(3600),
    };
    let created = db.create_session(&laptop, t(0)).await.unwrap();
    assert_eq!(
        created,
        SessionRecord {
            session: laptop.session,
            account: worker.account,
            created_at: t(0),
            expires_at: t(3600),
            last_seen_at: None,
            revoked_at: None,
        }
    );
    let token = &laptop.token;
    let seen = |at| async move { db.session_by_token(token, at).await.unwrap().unwrap() };
    assert_eq!(seen(t(0)).await.last_seen_at, Some(t(0)));
    assert_eq!(
        seen(t(30)).await.last_seen_at,
        Some(t(0)),
        "within a minute: not written again"
    );
    assert_eq!(seen(t(120)).await.last_seen_at, Some(t(120)));
    // Expiry is the caller's to refuse: the record still comes back, showing when it expired,
    // and it is not recorded as used.
    let expired = seen(t(4000)).await;
    assert_eq!(
        (expired.expires_at, expired.last_seen_at, expired.revoked_at),
        (t(3600), Some(t(120)), None)
    );

    let phone = NewSession {
        session: SessionId::new(),
        token: secret(),
        account: worker.account,
        expires_at: t(86_400),
    };
    db.create_session(&phone, t(200)).await.unwrap();
    assert!(db.revoke_session(phone.session, t(300)).await.unwrap());
    assert!(
        db.revoke_session(phone.session, t(400)).await.unwrap(),
        "twice is fine"
    );
    assert!(!db.revoke_session(SessionId::new(), t(300)).await.unwrap());
    let revoked = db
        .session_by_token(&phone.token, t(500))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (revoked.revoked_at, revoked.last_seen_at),
        (Some(t(300)), None),
        "the first revocation counts, and a revoked session is not touched"
    );
    assert_eq!(db.session_by_token(&secret(), t(0)).await.unwrap(), None);
}

pub async fn a_ceremony_is_answered_once_and_not_after_it_expired(db: Arc<dyn Database>) {
    let (answered, late, forgotten) = (CeremonyId::new(), CeremonyId::new(), CeremonyId::new());
    db.put_ceremony(answered, r#"{"challenge":"a"}"#, t(60))
        .await
        .unwrap();
    db.put_ceremony(late, r#"{"challenge":"b"}"#, t(60))
        .await
        .unwrap();
    db.put_ceremony(forgotten, r#"{"challenge":"c"}"#, t(30))
        .await
        .unwrap();
    assert_eq!(
        db.take_ceremony(answered, t(10)).await.unwrap().as_deref(),
        Some(r#"{"challenge":"a"}"#)
    );
    assert_eq!(
        db.take_ceremony(answered, t(11)).await.unwrap(),
        None,
        "answered once"
    );
    assert_eq!(db.take_ceremony(late, t(60)).await.unwrap(), None);
    assert_eq!(
        db.take_ceremony(late, t(10)).await.unwrap(),
        None,
        "an expired ceremony is gone once seen"
    );
    // Taking any ceremony sweeps the expired ones nobody answered (`late`'s take at t(60)
    // swept `forgotten`), so it is gone for an answer that claims an earlier moment too.
    assert_eq!(db.take_ceremony(forgotten, t(12)).await.unwrap(), None);
    assert_eq!(
        db.take_ceremony(CeremonyId::new(), t(0)).await.unwrap(),
        None
    );

    // Answers reaching several instances at once: one of them gets the state.
    let raced = CeremonyId::new();
    db.put_ceremony(raced, "state", t(1_000_000)).await.unwrap();
    let takes: Vec<_> = (0..4)
        .map(|_| {
            let db = Arc::clone(&db);
            tokio::spawn(async move { db.take_ceremony(raced, t(100)).await.unwrap() })
        })
        .collect();
    let mut got = Vec::new();
    for take in takes {
        got.extend(take.await.unwrap());
    }
    assert_eq!(got, ["state"]);
}

pub async fn deactivating_an_account_ends_its_sessions_and_devices_and_reports_the_devices(
    db: Arc<dyn Database>,
) {
    let db = db.as_ref();
    let (org, admin, worker) = organisation_with_staff(db).await;
    let (noa, worker_in_noa, founder) = founded_for(db, org, worker.account, t(0)).await;
    // A parent's phone in the same plan, the worker's phone for another plan, and one of
    // their phones revoked before.
    let parent = device(noa, member(), Role::Parent);
    db.add_device(&parent, t(1)).await.unwrap();
    let (sam, _, _) = founded_for(db, org, admin.account, t(0)).await;
    let helper_member = member();
    let second_phone = NewDevice {
        account: Some(worker.account),
        ..device(sam, helper_member, Role::CareWorker)
    };
    db.add_device(&second_phone, t(2)).await.unwrap();
    let old_phone = NewDevice {
        account: Some(worker.account),
        ..device(noa, worker_in_noa, Role::FosterCareWorker)
    };
    db.add_device(&old_phone, t(2)).await.unwrap();
    db.revoke_device(noa, old_phone.device, t(3)).await.unwrap();
    let laptop = NewSession {
        session: SessionId::new(),
        token: secret(),
        account: worker.account,
        expires_at: t(86_400),
    };
    db.create_session(&laptop, t(4)).await.unwrap();
    let admins_laptop = NewSession {
        account: admin.account,
        session: SessionId::new(),
        token: secret(),
        ..laptop.clone()
    };
    db.create_session(&admins_laptop, t(4)).await.unwrap();

    let mut revoked = db.deactivate_account(worker.account, t(10)).await.unwrap();
    revoked.sort();
    let mut expected = vec![(noa, founder.device), (sam, second_phone.device)];
    expected.sort();
    assert_eq!(revoked, expected, "the phones whose streams should end now");
    assert_eq!(
        db.account(worker.account)
            .await
            .unwrap()
            .unwrap()
            .deactivated_at,
        Some(t(10))
    );
    for d in db.devices(noa).await.unwrap() {
        let expected = if d.device == founder.device {
            Some(t(10))
        } else if d.device == old_phone.device {
            Some(t(3))
        } else {
            None
        };
        assert_eq!(d.revoked_at, expected, "{}", d.name);
    }
    let session = |token| async move { db.session_by_token(token, t(11)).await.unwrap().unwrap() };
    assert_eq!(session(&laptop.token).await.revoked_at, Some(t(10)));
    assert_eq!(session(&admins_laptop.token).await.revoked_at, None);
    assert_eq!(
        db.memberships(worker.account).await.unwrap().len(),
        1,
        "memberships stay, for an administrator to hand the plans over"
    );

    // Twice is fine: nothing more to end, and the first moment counts.
    assert_eq!(
        db.deactivate_account(worker.account, t(20)).await.unwrap(),
        []
    );
    assert_eq!(
        db.account(worker.account)
            .await
            .unwrap()
            .unwrap()
            .deactivated_at,
        Some(t(10))
    );
    assert_eq!(
        db.account(admin.account)
            .await
            .unwrap()
            .unwrap()
            .deactivated_at,
        None
    );
    assert_eq!(
        db.deactivate_account(AccountId::new(), t(20))
            .await
            .unwrap(),
        []
    );
}

pub async fn founding_a_plan_for_an_organisation_makes_the_founder_a_member(db: Arc<dyn Database>) {
    let db = db.as_ref();
    let (org, admin, worker) = organisation_with_staff(db).await;
    let (plan, worker_member, founder) = founded_for(db, org, worker.account, t(5)).await;
    assert_eq!(db.plan_organisation(plan).await.unwrap(), Some(org));
    assert_eq!(
        db.memberships(worker.account).await.unwrap(),
        [membership(
            worker.account,
            plan,
            worker_member,
            Role::FosterCareWorker,
            t(5)
        )]
    );
    let phone = db
        .device_by_token(&founder.token, t(6))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(phone.account, Some(worker.account));
    // A plan founded without an organisation (as before organisations) belongs to none.
    let (older, _, older_founder) = founded(db, 1).await;
    assert_eq!(db.plan_organisation(older).await.unwrap(), None);
    let family_phone = db
        .device_by_token(&older_founder.token, t(6))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(family_phone.account, None);
    assert_eq!(
        db.plan_organisation(PlanId(Uuid::new_v4())).await.unwrap(),
        None
    );
    // A founding that fails (the plan exists) makes nobody a member.
    let (colleague, _) = enrolled(db, org, Some(admin.account), false, "Colleague").await;
    let again = NewDevice {
        account: Some(colleague.account),
        ..device(plan, member(), Role::FosterCareWorker)
    };
    let owner = PlanOwner {
        organisation: org,
        account: colleague.account,
    };
    let err = db
        .create_plan(plan, &[], &again, Some(owner), t(7))
        .await
        .unwrap_err();
    assert_eq!(err, DatabaseError::PlanExists { plan });
    assert!(db.memberships(colleague.account).await.unwrap().is_empty());
}

pub async fn accepting_an_invite_signed_in_makes_the_account_a_member(db: Arc<dyn Database>) {
    let db = db.as_ref();
    let (org, _, worker) = organisation_with_staff(db).await;
    let (plan, worker_member, _) = founded_for(db, org, worker.account, t(0)).await;
    // A guardian of another organisation, signed in on their phone.
    let (_, _, guardian) = organisation_with_staff(db).await;
    let invite = |member, role| NewInvite {
        invite: InviteId::new(),
        code: secret(),
        plan,
        member,
        role,
        expires_at: t(3600),
        created_by: worker_member,
    };
    let guardian_member = member();
    let for_guardian = invite(guardian_member, Role::Guardian);
    let for_parent = invite(member(), Role::Parent);
    for i in [&for_guardian, &for_parent] {
        db.create_invite(i, t(0)).await.unwrap();
    }
    let signed_in = NewDevice {
        account: Some(guardian.account),
        ..device(plan, member(), Role::Guardian)
    };
    let AcceptOutcome::Accepted(phone) = db
        .accept_invite(&for_guardian.code, &signed_in, t(5))
        .await
        .unwrap()
    else {
        panic!("accepted")
    };
    assert_eq!(phone.account, Some(guardian.account));
    let guardian_membership = membership(
        guardian.account,
        plan,
        guardian_member,
        Role::Guardian,
        t(5),
    );
    assert_eq!(
        db.memberships(guardian.account).await.unwrap(),
        [guardian_membership]
    );
    // A family's phone makes nobody a member; a refused invite neither.
    db.accept_invite(
        &for_parent.code,
        &device(plan, member(), Role::Parent),
        t(6),
    )
    .await
    .unwrap();
    let refused = NewDevice {
        account: Some(worker.account),
        ..device(plan, member(), Role::Parent)
    };
    assert_eq!(
        db.accept_invite(&for_parent.code, &refused, t(7))
            .await
            .unwrap(),
        AcceptOutcome::Used
    );
    let members: Vec<AccountId> = db.organisation_plans(org).await.unwrap()[0]
        .memberships
        .iter()
        .map(|m| m.account)
        .collect();
    assert_eq!(members, [worker.account, guardian.account]);

    // Accepting another invite of the plan: the account speaks for that member from now on.
    let other_member = member();
    let second = invite(other_member, Role::CareWorker);
    db.create_invite(&second, t(8)).await.unwrap();
    let another_phone = NewDevice {
        account: Some(guardian.account),
        ..device(plan, member(), Role::CareWorker)
    };
    db.accept_invite(&second.code, &another_phone, t(9))
        .await
        .unwrap();
    assert_eq!(
        db.memberships(guardian.account).await.unwrap(),
        [membership(
            guardian.account,
            plan,
            other_member,
            Role::CareWorker,
            t(9)
        )]
    );
}

/// A plan is handed over from one worker to another with the operations that say so: the
/// memberships move in the same transaction, and not at all when the append is refused.
pub async fn a_hand_over_moves_memberships_with_the_append_and_not_without_it(
    db: Arc<dyn Database>,
) {
    let db = db.as_ref();
    let (org, admin, leaving) = organisation_with_staff(db).await;
    let (taking_over, _) = enrolled(db, org, Some(admin.account), false, "Tess Bakker").await;
    let (plan, leaving_member, _) = founded_for(db, org, leaving.account, t(0)).await;
    let new_member = member();
    let hand_over = [
        MembershipChange::Leave {
            account: leaving.account,
        },
        MembershipChange::Join {
            account: taking_over.account,
            member: new_member,
            role: Role::FosterCareWorker,
        },
    ];
    let ops = [op(leaving_member, 1)];
    let write = |after_head, now| Append {
        plan,
        after_head,
        ops: &ops,
        shut_out: &[],
        memberships: &hand_over,
        access: None,
        now,
    };
    let err = db.append_ops(write(0, t(10))).await.unwrap_err();
    assert!(matches!(err, DatabaseError::HeadMoved { .. }), "{err}");
    assert_eq!(
        db.memberships(leaving.account).await.unwrap().len(),
        1,
        "the refused append moved nobody"
    );
    assert!(db
        .memberships(taking_over.account)
        .await
        .unwrap()
        .is_empty());

    let appended = db.append_ops(write(1, t(20))).await.unwrap();
    assert_eq!(appended.head, 2);
    assert!(db.memberships(leaving.account).await.unwrap().is_empty());
    let taken_over = membership(
        taking_over.account,
        plan,
        new_member,
        Role::FosterCareWorker,
        t(20),
    );
    assert_eq!(
        db.memberships(taking_over.account).await.unwrap(),
        std::slice::from_ref(&taken_over)
    );
    assert_eq!(
        db.organisation_plans(org).await.unwrap()[0].memberships,
        [taken_over]
    );

    // Joining again as another member replaces the membership rather than adding one.
    let later_member = member();
    let rejoin = [MembershipChange::Join {
        account: taking_over.account,
        member: later_member,
        role: Role::CareWorker,
    }];
    db.append_ops(Append {
        plan,
        after_head: 2,
        ops: &[op(new_member, 2)],
        shut_out: &[],
        memberships: &rejoin,
        access: None,
        now: t(30),
    })
    .await
    .unwrap();
    assert_eq!(
        db.memberships(taking_over.account).await.unwrap(),
        [membership(
            taking_over.account,
            plan,
            later_member,
            Role::CareWorker,
            t(30)
        )]
    );
    // Leaving a plan one is not in changes nothing.
    db.append_ops(Append {
        plan,
        after_head: 3,
        ops: &[],
        shut_out: &[],
        memberships: &[MembershipChange::Leave {
            account: leaving.account,
        }],
        access: None,
        now: t(40),
    })
    .await
    .unwrap();
    assert_eq!(db.memberships(taking_over.account).await.unwrap().len(), 1);
}

pub async fn an_organisation_lists_its_own_plans_with_their_current_members(db: Arc<dyn Database>) {
    let db = db.as_ref();
    let (org, admin, worker) = organisation_with_staff(db).await;
    let (first, first_member, _) = founded_for(db, org, worker.account, t(10)).await;
    let (second, _, _) = founded_for(db, org, admin.account, t(20)).await;
    // The worker joins the second plan too, then the administrator leaves it.
    let worker_member = member();
    db.append_ops(Append {
        plan: second,
        after_head: 1,
        ops: &[],
        shut_out: &[],
        memberships: &[
            MembershipChange::Join {
                account: worker.account,
                member: worker_member,
                role: Role::CareWorker,
            },
            MembershipChange::Leave {
                account: admin.account,
            },
        ],
        access: None,
        now: t(30),
    })
    .await
    .unwrap();
    // A third plan nobody works on any more, another organisation's plan, and one of none.
    let (third, _, _) = founded_for(db, org, admin.account, t(40)).await;
    db.append_ops(Append {
        plan: third,
        after_head: 1,
        ops: &[],
        shut_out: &[],
        memberships: &[MembershipChange::Leave {
            account: admin.account,
        }],
        access: None,
        now: t(41),
    })
    .await
    .unwrap();
    let (elsewhere, _, elsewhere_worker) = organisation_with_staff(db).await;
    let (theirs, _, _) = founded_for(db, elsewhere, elsewhere_worker.account, t(0)).await;
    founded(db, 0).await;

    let plans = db.organisation_plans(org).await.unwrap();
    assert_eq!(
        plans,
        [
            OrganisationPlan {
                plan: first,
                created_at: t(10),
                memberships: vec![membership(
                    worker.account,
                    first,
                    first_member,
                    Role::FosterCareWorker,
                    t(10)
                )],
            },
            OrganisationPlan {
                plan: second,
                created_at: t(20),
                memberships: vec![membership(
                    worker.account,
                    second,
                    worker_member,
                    Role::CareWorker,
                    t(30)
                )],
            },
            OrganisationPlan {
                plan: third,
                created_at: t(40),
                memberships: vec![],
            },
        ]
    );
    let theirs_listed: Vec<PlanId> = db
        .organisation_plans(elsewhere)
        .await
        .unwrap()
        .into_iter()
        .map(|p| p.plan)
        .collect();
    assert_eq!(theirs_listed, [theirs]);
    assert!(db
        .organisation_plans(OrganisationId::new())
        .await
        .unwrap()
        .is_empty());
    // The worker's own list: oldest first.
    let mine: Vec<PlanId> = db
        .memberships(worker.account)
        .await
        .unwrap()
        .into_iter()
        .map(|m| m.plan)
        .collect();
    assert_eq!(mine, [first, second]);
}

pub async fn the_access_log_is_per_organisation_newest_first_a_page_at_a_time(
    db: Arc<dyn Database>,
) {
    let db = db.as_ref();
    let (org, admin, worker) = organisation_with_staff(db).await;
    let (other, other_admin, _) = organisation_with_staff(db).await;
    let plan = PlanId(Uuid::new_v4());
    let line = |organisation, at, action: &str| AccessEntry {
        at,
        organisation: Some(organisation),
        account: Some(worker.account),
        device: Some(DeviceId::new()),
        plan: Some(plan),
        action: action.into(),
        detail: format!("{action} at {at}"),
    };
    let ours: Vec<AccessEntry> = (1..=5).map(|n| line(org, t(n), "read")).collect();
    let theirs = AccessEntry {
        account: Some(other_admin.account),
        ..line(other, t(3), "changed")
    };
    let nobodys = AccessEntry {
        organisation: None,
        account: None,
        device: None,
        plan: None,
        ..line(org, t(3), "signed_in")
    };
    // Two lines of one moment: the one logged last comes first.
    let same_moment = AccessEntry {
        account: Some(admin.account),
        device: None,
        ..line(org, t(5), "deactivated")
    };
    db.log_access(&ours[..3]).await.unwrap();
    db.log_access(&[theirs.clone(), nobodys]).await.unwrap();
    db.log_access(&ours[3..]).await.unwrap();
    db.log_access(std::slice::from_ref(&same_moment))
        .await
        .unwrap();
    db.log_access(&[]).await.unwrap();

    let all = db.access_log(org, None, 100).await.unwrap();
    let mut expected = vec![same_moment];
    expected.extend(ours.iter().rev().cloned());
    assert_eq!(all, expected, "every field comes back, newest first");
    let page = db.access_log(org, None, 2).await.unwrap();
    assert_eq!(page, expected[..2]);
    let older = db.access_log(org, Some(t(5)), 2).await.unwrap();
    assert_eq!(
        older.iter().map(|e| e.at).collect::<Vec<_>>(),
        [t(4), t(3)],
        "before a moment: strictly earlier lines"
    );
    assert!(db.access_log(org, Some(t(1)), 10).await.unwrap().is_empty());
    assert_eq!(db.access_log(other, None, 10).await.unwrap(), [theirs]);
    assert!(db
        .access_log(OrganisationId::new(), None, 10)
        .await
        .unwrap()
        .is_empty());
}

pub async fn a_device_gets_a_new_token_and_the_old_one_stops_working(db: Arc<dyn Database>) {
    let db = db.as_ref();
    let (plan, _, founder) = founded(db, 0).await;
    let fresh = secret();
    assert!(db
        .rotate_device_token(founder.device, &fresh)
        .await
        .unwrap());
    assert_eq!(
        db.device_by_token(&founder.token, t(1)).await.unwrap(),
        None
    );
    let found = db.device_by_token(&fresh, t(1)).await.unwrap().unwrap();
    assert_eq!(
        (found.device, found.plan, found.created_at),
        (founder.device, plan, t(0))
    );
    assert!(!db
        .rotate_device_token(DeviceId::new(), &secret())
        .await
        .unwrap());
    // A revoked device keeps its (useless) token: it gets no working one.
    db.revoke_device(plan, founder.device, t(2)).await.unwrap();
    let refused = secret();
    assert!(!db
        .rotate_device_token(founder.device, &refused)
        .await
        .unwrap());
    assert_eq!(db.device_by_token(&refused, t(3)).await.unwrap(), None);
    let still = db.device_by_token(&fresh, t(3)).await.unwrap().unwrap();
    assert_eq!(still.revoked_at, Some(t(2)));
}

pub async fn a_signed_in_professional_registers_a_phone_for_a_plan(db: Arc<dyn Database>) {
    let db = db.as_ref();
    let (org, _, worker) = organisation_with_staff(db).await;
    let (plan, worker_member, founder) = founded_for(db, org, worker.account, t(0)).await;
    let new_phone = NewDevice {
        name: "nieuwe telefoon".into(),
        account: Some(worker.account),
        ..device(plan, worker_member, Role::FosterCareWorker)
    };
    let record = db.add_device(&new_phone, t(50)).await.unwrap();
    let expected = DeviceRecord {
        device: new_phone.device,
        plan,
        member: worker_member,
        role: Role::FosterCareWorker,
        name: "nieuwe telefoon".into(),
        account: Some(worker.account),
        created_at: t(50),
        last_seen_at: None,
        revoked_at: None,
    };
    assert_eq!(record, expected);
    let devices = db.devices(plan).await.unwrap();
    assert_eq!(
        devices.iter().map(|d| d.device).collect::<Vec<_>>(),
        [founder.device, new_phone.device]
    );
    assert_eq!(devices[1], expected);
    let found = db
        .device_by_token(&new_phone.token, t(51))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (found.device, found.account, found.last_seen_at),
        (new_phone.device, Some(worker.account), Some(t(51)))
    );
}

pub async fn an_appends_access_line_is_stored_with_it_and_only_with_it(db: Arc<dyn Database>) {
    let db = db.as_ref();
    let (org, _, worker) = organisation_with_staff(db).await;
    let (plan, author, phone) = founded_for(db, org, worker.account, t(1)).await;
    let line = |detail: &str| AccessEntry {
        at: t(5),
        organisation: Some(org),
        account: Some(worker.account),
        device: Some(phone.device),
        plan: Some(plan),
        action: "changed".into(),
        detail: detail.into(),
    };
    let stored = line("1 wijzigingen");
    let appended = db
        .append_ops(Append {
            plan,
            after_head: 1,
            ops: &[op(author, 1)],
            shut_out: &[],
            memberships: &[],
            access: Some(&stored),
            now: t(5),
        })
        .await
        .unwrap();
    assert_eq!(appended.head, 2);
    // On a moved head nothing is stored: neither the op nor its line.
    let refused = line("refused");
    let err = db
        .append_ops(Append {
            plan,
            after_head: 1,
            ops: &[op(author, 2)],
            shut_out: &[],
            memberships: &[],
            access: Some(&refused),
            now: t(6),
        })
        .await
        .unwrap_err();
    assert!(matches!(err, DatabaseError::HeadMoved { .. }), "{err:?}");
    let log = db.access_log(org, None, 100).await.unwrap();
    let changed: Vec<&AccessEntry> = log.iter().filter(|e| e.action == "changed").collect();
    assert_eq!(changed, [&stored]);
}
