//! Pushing and pulling operations (`/api/plans/{plan}/ops`): the round trip, idempotent
//! re-sends, the permission table, clocks, concurrency, and (issue 10: nothing is lost) pulling
//! by the cursor from one snapshot, a reused op id with other content, and timestamps refused
//! only before the plan or at the counter limit.

use super::*;

#[tokio::test]
async fn create_invite_accept_then_push_and_pull_round_trip() {
    let app = test_app();
    let mut world = create_world(&app).await;
    let parent = join(&app, &world, Role::Parent).await;
    let foster = join(&app, &world, Role::FosterParent).await;

    // The parent pulls the whole plan, in seq order, and builds a replica with it.
    let reply = pull(&app, &parent, 0, 1000).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.json);
    let all = pulled_ops(&reply);
    assert!(all.windows(2).all(|w| w[0].0 < w[1].0), "seq order");
    assert_eq!(reply.json["last_seq"], all.last().unwrap().0);
    assert_eq!(reply.json["more"], false);
    let mut replica = Replica::new(world.plan);
    for (_, op) in &all {
        replica.apply(op).unwrap();
    }
    let plan = Plan::from_replica(&replica);
    assert_eq!(plan.child_name, "Noa");
    assert_eq!(plan.members.len(), Role::ALL.len());

    // The foster parent logs a contact moment, made and checked by koers_core::Author.
    let mut author = Author::new(foster.member, NodeId(7));
    let cm = Entity::ContactMoment(ContactMomentId(new_id()));
    let op1 = author
        .change(
            &replica,
            &plan,
            OpId(new_id()),
            now_millis(),
            Edit::new(cm, Field::At, "2026-03-01T14:00:00"),
        )
        .unwrap();
    replica.apply(&op1).unwrap();
    let op2 = author
        .change(
            &replica,
            &plan,
            OpId(new_id()),
            now_millis(),
            Edit::new(cm, Field::Note, "Went well"),
        )
        .unwrap();
    let reply = push(&app, &foster, &[op1.clone(), op2.clone()]).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.json);
    assert_eq!(reply.json["refused"], json!([]));
    let accepted = reply.json["accepted"].as_array().unwrap();
    assert_eq!(accepted.len(), 2);
    assert_eq!(accepted[0]["op"], json!(op1.id));
    assert_eq!(accepted[1]["op"], json!(op2.id));
    let (s1, s2) = (
        accepted[0]["seq"].as_i64().unwrap(),
        accepted[1]["seq"].as_i64().unwrap(),
    );
    assert!(all.last().unwrap().0 < s1 && s1 < s2);
    assert_eq!(reply.json["last_seq"], s2);

    // The parent pulls only what is new, and adds their view.
    let after = all.last().unwrap().0;
    let reply = pull(&app, &parent, after, 1000).await;
    let new = pulled_ops(&reply);
    assert_eq!(new, vec![(s1, op1.clone()), (s2, op2.clone())]);
    let mut parent_author = Author::new(parent.member, NodeId(8));
    replica.apply(&op2).unwrap();
    let plan = Plan::from_replica(&replica);
    let view = parent_author
        .change(
            &replica,
            &plan,
            OpId(new_id()),
            now_millis(),
            Edit::new(cm, Field::ParentView, "Fijn bezoek"),
        )
        .unwrap();
    let reply = push(&app, &parent, std::slice::from_ref(&view)).await;
    assert_eq!(
        reply.json["accepted"].as_array().unwrap().len(),
        1,
        "{}",
        reply.json
    );
    let s3 = reply.json["last_seq"].as_i64().unwrap();

    // Paging: one at a time, `more` until the end.
    let mut cursor = after;
    let mut seen = Vec::new();
    loop {
        let reply = pull(&app, &world.worker, cursor, 1).await;
        let page = pulled_ops(&reply);
        assert_eq!(reply.json["last_seq"], s3);
        if let Some((seq, op)) = page.last() {
            cursor = *seq;
            seen.push(op.id);
        }
        if reply.json["more"] == false {
            break;
        }
    }
    assert_eq!(seen, vec![op1.id, op2.id, view.id]);

    // The worker's own device keeps working too.
    let op = world
        .worker
        .op(Entity::Plan, Field::ChildName, json!("Noa B."));
    let reply = push(&app, &world.worker, &[op]).await;
    assert_eq!(
        reply.json["accepted"].as_array().unwrap().len(),
        1,
        "{}",
        reply.json
    );

    // Bad pull parameters are 400 JSON.
    for query in ["limit=0", "limit=1001", "after=x", "bogus=1"] {
        let reply = app
            .call(
                "GET",
                &format!("/api/plans/{}/ops?{query}", world.plan),
                Some(&parent.token),
                None,
            )
            .await;
        assert_eq!(
            reply.status,
            StatusCode::BAD_REQUEST,
            "{query}: {}",
            reply.json
        );
        assert!(reply.json["error"].is_string());
    }
}

#[tokio::test]
async fn re_pushing_is_idempotent() {
    let app = test_app();
    let world = create_world(&app).await;
    let mut foster = join(&app, &world, Role::FosterParent).await;
    let cm = Entity::ContactMoment(ContactMomentId(new_id()));
    let ops = vec![
        foster.op(cm, Field::At, json!("2026-03-01T14:00:00")),
        foster.op(cm, Field::Note, json!("Bezoek")),
    ];
    let first = push(&app, &foster, &ops).await;
    let before = last_seq(&app, world.plan).await;
    // The same batch again, and once more with a duplicate inside the batch.
    let again = push(&app, &foster, &ops).await;
    assert_eq!(again.json["accepted"], first.json["accepted"]);
    assert_eq!(again.json["refused"], json!([]));
    let doubled = push(&app, &foster, &[ops[1].clone(), ops[1].clone()]).await;
    let accepted = doubled.json["accepted"].as_array().unwrap();
    assert_eq!(accepted.len(), 2);
    assert_eq!(accepted[0], first.json["accepted"][1]);
    assert_eq!(accepted[1], first.json["accepted"][1]);
    assert_eq!(
        last_seq(&app, world.plan).await,
        before,
        "nothing stored twice"
    );
    let all = pull(&app, &foster, 0, 1000).await;
    let count = pulled_ops(&all)
        .iter()
        .filter(|(_, op)| ops.iter().any(|o| o.id == op.id))
        .count();
    assert_eq!(count, 2);
}

/// A representative operation of `action` by `device` (whose member has `role`).
fn op_for(world: &World, device: &mut Device, role: Role, action: Action) -> Op {
    let other_role = if role == Role::Parent {
        Role::FosterParent
    } else {
        Role::Parent
    };
    let (entity, field, value) = match action {
        Action::EditPlanDetails => (Entity::Plan, Field::ChildName, json!("Noa")),
        Action::ChangePhase => (
            Entity::PhaseDates(Phase::Goals),
            Field::PlannedStart,
            json!("2026-04-01"),
        ),
        Action::GiveOwnConsent => (
            Entity::Consent(device.member),
            Field::GivenAt,
            json!("2026-01-05T10:00:00"),
        ),
        Action::RecordConsentForOther => (
            Entity::Consent(world.member(other_role)),
            Field::GivenAt,
            json!("2026-01-05T10:00:00"),
        ),
        Action::ManageMembers => (
            Entity::Member(MemberId(new_id())),
            Field::Name,
            json!("Oma"),
        ),
        Action::ManageGoals => (
            Entity::Goal(GoalId(new_id())),
            Field::Title,
            json!("Nieuw doel"),
        ),
        Action::TickOwnGoal => (Entity::Goal(world.goal(role)), Field::Status, json!("done")),
        Action::TickOtherGoal => (
            Entity::Goal(world.goal(other_role)),
            Field::Status,
            json!("done"),
        ),
        Action::CommentOnGoal => (
            Entity::GoalComment(CommentId(new_id())),
            Field::Text,
            json!("Goed bezig"),
        ),
        Action::LogContactMoment => (
            Entity::ContactMoment(ContactMomentId(new_id())),
            Field::At,
            json!("2026-03-01T14:00:00"),
        ),
        Action::AddParentView => (
            Entity::ContactMoment(ContactMomentId(new_id())),
            Field::ParentView,
            json!("Fijn"),
        ),
        Action::AddYouthView => (
            Entity::ContactMoment(ContactMomentId(new_id())),
            Field::YouthView,
            json!("Leuk"),
        ),
        Action::RecordEvaluation => (
            Entity::Evaluation(EvaluationId(new_id())),
            Field::Date,
            json!("2026-03-01"),
        ),
        Action::RecordDecision => (Entity::Decision, Field::Outcome, json!("home")),
        Action::EditNetwork => (
            Entity::NetworkPerson(NetworkPersonId(new_id())),
            Field::Name,
            json!("Buurvrouw"),
        ),
        Action::EditIntervention => (
            Entity::Intervention(InterventionId(new_id())),
            Field::Kind,
            json!("vib"),
        ),
        Action::HideContribution => (
            Entity::ContactMoment(ContactMomentId(new_id())),
            Field::ParentViewHidden,
            json!(true),
        ),
    };
    device.op(entity, field, value)
}

#[tokio::test]
async fn authorization_matrix_follows_the_permission_table() {
    let app = test_app();
    let world = create_world(&app).await;
    // The worker writes through a second Device value for the same token.
    let mut devices = vec![(
        Role::FosterCareWorker,
        Device::new(world.plan, world.worker.member, world.worker.token.clone()),
    )];
    for role in Role::ALL {
        if role != Role::FosterCareWorker {
            devices.push((role, join(&app, &world, role).await));
        }
    }
    // A plan view to confirm each representative op really is that action.
    let mut replica = Replica::new(world.plan);
    for (_, op) in pulled_ops(&pull(&app, &world.worker, 0, 1000).await) {
        replica.apply(&op).unwrap();
    }
    let plan = Plan::from_replica(&replica);

    let mut checked = 0;
    for role in Role::ALL {
        for action in Action::ALL {
            let device = &mut devices.iter_mut().find(|(r, _)| *r == role).unwrap().1;
            let op = op_for(&world, device, role, action);
            assert_eq!(
                action_of(&plan, role, op.author, &op.entity, op.field),
                action,
                "{role:?} {action:?}"
            );
            let device = &devices.iter().find(|(r, _)| *r == role).unwrap().1;
            let before = last_seq(&app, world.plan).await;
            let reply = push(&app, device, std::slice::from_ref(&op)).await;
            assert_eq!(reply.status, StatusCode::OK, "{}", reply.json);
            let accepted = reply.json["accepted"].as_array().unwrap().len() == 1;
            assert_eq!(
                accepted,
                allowed(role, action),
                "{role:?} {action:?}: {}",
                reply.json
            );
            if accepted {
                assert!(last_seq(&app, world.plan).await > before);
            } else {
                assert_eq!(
                    reply.json["refused"][0]["reason"], "refused",
                    "{}",
                    reply.json
                );
                assert_eq!(reply.json["refused"][0]["op"], json!(op.id));
                assert!(reply.json["refused"][0]["message"]
                    .as_str()
                    .unwrap()
                    .contains("may not"));
                assert_eq!(
                    last_seq(&app, world.plan).await,
                    before,
                    "refused ops are not stored"
                );
            }
            checked += 1;
        }
    }
    assert_eq!(checked, Role::ALL.len() * Action::ALL.len());
}

#[tokio::test]
async fn a_device_cannot_read_or_write_another_plan() {
    let app = test_app();
    let a = create_world(&app).await;
    let mut b = create_world(&app).await;
    let plan_b = b.plan;
    for (method, path, body) in [
        ("GET", format!("/api/plans/{plan_b}/ops"), None),
        (
            "POST",
            format!("/api/plans/{plan_b}/ops"),
            Some(json!({ "ops": [] })),
        ),
        ("GET", format!("/api/plans/{plan_b}/events"), None),
        ("GET", format!("/api/plans/{plan_b}/devices"), None),
        ("GET", format!("/api/plans/{plan_b}/invites"), None),
        (
            "POST",
            format!("/api/plans/{plan_b}/invites"),
            Some(json!({ "member": b.worker.member })),
        ),
    ] {
        let reply = app.call(method, &path, Some(&a.worker.token), body).await;
        assert_error(&reply, StatusCode::FORBIDDEN, "wrong_plan");
    }
    // An op of plan B pushed through plan A's endpoint is refused on its own.
    let op_b = b.worker.op(Entity::Plan, Field::ChildName, json!("X"));
    let reply = push(&app, &a.worker, &[op_b]).await;
    assert_eq!(
        reply.json["refused"][0]["reason"], "wrong_plan",
        "{}",
        reply.json
    );
    // Nothing of A is visible to B and the other way round.
    let ops_a = pulled_ops(&pull(&app, &a.worker, 0, 1000).await);
    assert!(ops_a.iter().all(|(_, op)| op.plan == a.plan));
    // A malformed plan id is 404.
    let reply = app
        .call(
            "GET",
            "/api/plans/not-a-plan/ops",
            Some(&a.worker.token),
            None,
        )
        .await;
    assert_error(&reply, StatusCode::NOT_FOUND, "plan_unknown");
}

#[tokio::test]
async fn a_device_writes_only_as_its_own_member() {
    let app = test_app();
    let world = create_world(&app).await;
    let parent = join(&app, &world, Role::Parent).await;
    // The parent's device pretends to be the worker.
    let mut clock = Clock::new(NodeId(3));
    let op = raw_op(
        world.plan,
        world.worker.member,
        &mut clock,
        Entity::Plan,
        Field::ChildName,
        json!("X"),
    );
    let before = last_seq(&app, world.plan).await;
    let reply = push(&app, &parent, &[op]).await;
    assert_eq!(
        reply.json["refused"][0]["reason"], "not_your_member",
        "{}",
        reply.json
    );
    assert_eq!(last_seq(&app, world.plan).await, before);
}

#[tokio::test]
async fn far_future_clocks_are_refused() {
    let app = test_app();
    let world = create_world(&app).await;
    let mut foster = join(&app, &world, Role::FosterParent).await;
    let mut op = foster.op(
        Entity::ContactMoment(ContactMomentId(new_id())),
        Field::At,
        json!("2026-03-01T14:00:00"),
    );
    op.hlc.millis = now_millis() + MAX_DRIFT_MILLIS + 60_000;
    let ok = foster.op(
        Entity::ContactMoment(ContactMomentId(new_id())),
        Field::At,
        json!("2026-03-01T15:00:00"),
    );
    let reply = push(&app, &foster, &[op.clone(), ok.clone()]).await;
    assert_eq!(
        reply.json["refused"][0]["reason"], "clock_ahead",
        "{}",
        reply.json
    );
    assert_eq!(reply.json["refused"][0]["op"], json!(op.id));
    assert_eq!(reply.json["accepted"][0]["op"], json!(ok.id));

    // Also when founding a plan.
    let mut clock = Clock::new(NodeId(9));
    let mut ops = founding_ops(PlanId(new_id()), MemberId(new_id()), &mut clock).ops;
    ops[2].hlc.millis = now_millis() + MAX_DRIFT_MILLIS + 60_000;
    let reply = app.found(json!({ "ops": ops })).await;
    assert_error(&reply, StatusCode::BAD_REQUEST, "clock_ahead");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_pushes_to_one_plan_all_land_once() {
    let app = test_app();
    let world = create_world(&app).await;
    let mut foster = join(&app, &world, Role::FosterParent).await;
    let mut guardian = join(&app, &world, Role::Guardian).await;
    let mut batches = Vec::new();
    for i in 0..10 {
        let device = if i % 2 == 0 {
            &mut foster
        } else {
            &mut guardian
        };
        let ops: Vec<Op> = (0..5)
            .map(|_| {
                device.op(
                    Entity::ContactMoment(ContactMomentId(new_id())),
                    Field::At,
                    json!("2026-03-01T14:00:00"),
                )
            })
            .collect();
        batches.push((i % 2 == 0, ops));
    }
    let replies = futures_util::future::join_all(batches.iter().map(|(is_foster, ops)| {
        let device = if *is_foster { &foster } else { &guardian };
        push(&app, device, ops)
    }))
    .await;
    let mut seqs: Vec<i64> = replies
        .iter()
        .flat_map(|r| {
            assert_eq!(r.json["refused"], json!([]), "{}", r.json);
            r.json["accepted"]
                .as_array()
                .unwrap()
                .iter()
                .map(|a| a["seq"].as_i64().unwrap())
                .collect::<Vec<_>>()
        })
        .collect();
    assert_eq!(seqs.len(), 50);
    seqs.sort_unstable();
    seqs.dedup();
    assert_eq!(seqs.len(), 50, "every op got its own seq");
    let all = pulled_ops(&pull(&app, &foster, 0, 1000).await);
    let ids: std::collections::HashSet<OpId> = all.iter().map(|(_, op)| op.id).collect();
    assert!(batches
        .iter()
        .flat_map(|(_, ops)| ops)
        .all(|op| ids.contains(&op.id)));
}

/// What a phone does: pages through the plan from `after`, continuing with `after = cursor`, and
/// returns the ops it got and the cursor it would store. Checks the cursor rules on every page.
async fn pull_all(
    app: &TestApp,
    device: &Device,
    mut after: i64,
    limit: u32,
) -> (Vec<(i64, Op)>, i64) {
    let mut got = Vec::new();
    loop {
        let reply = pull(app, device, after, limit).await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.json);
        let page = pulled_ops(&reply);
        let cursor = reply.json["cursor"]
            .as_i64()
            .unwrap_or_else(|| panic!("the answer holds a cursor: {}", reply.json));
        let more = reply.json["more"].as_bool().unwrap();
        let last_seq = reply.json["last_seq"].as_i64().unwrap();
        assert!(
            cursor >= after,
            "the cursor never goes back: {cursor} < {after}"
        );
        if more {
            assert_eq!(
                page.len(),
                limit as usize,
                "a page with more after it is full"
            );
            assert_eq!(
                cursor,
                page.last().unwrap().0,
                "cursor = the last op returned"
            );
        } else {
            assert_eq!(
                cursor,
                last_seq.max(after),
                "cursor = last_seq of the same read"
            );
            if let Some((seq, _)) = page.last() {
                assert_eq!(*seq, last_seq, "the last page ends at the plan's last seq");
            }
        }
        got.extend(page);
        after = cursor;
        if !more {
            return (got, cursor);
        }
    }
}

/// `n` new contact moments by `device`, in batches of at most 1000.
async fn push_many(app: &TestApp, device: &mut Device, n: usize) -> Vec<Op> {
    let ops: Vec<Op> = (0..n)
        .map(|i| {
            device.op(
                Entity::ContactMoment(ContactMomentId(new_id())),
                Field::Note,
                json!(format!("bezoek {i}")),
            )
        })
        .collect();
    for batch in ops.chunks(1000) {
        let reply = push(app, device, batch).await;
        assert_eq!(reply.json["refused"], json!([]), "{}", reply.json);
        assert_eq!(
            reply.json["accepted"].as_array().unwrap().len(),
            batch.len()
        );
    }
    ops
}

#[tokio::test]
async fn a_plan_larger_than_a_page_is_pulled_whole_by_following_the_cursor() {
    let app = test_app();
    let world = create_world(&app).await;
    let mut foster = join(&app, &world, Role::FosterParent).await;
    let pushed = push_many(&app, &mut foster, 2_500).await;
    let parent = join(&app, &world, Role::Parent).await;
    let (got, cursor) = pull_all(&app, &parent, 0, 1000).await;
    assert_eq!(cursor, last_seq(&app, world.plan).await);
    let ids: std::collections::HashSet<OpId> = got.iter().map(|(_, op)| op.id).collect();
    assert_eq!(ids.len(), got.len(), "no op twice");
    assert!(
        pushed.iter().all(|op| ids.contains(&op.id)),
        "every pushed op arrives"
    );
    assert!(got.windows(2).all(|w| w[0].0 < w[1].0), "in seq order");
    // The first page of a fresh phone says there is more, and where to go on from.
    let first = pull(&app, &parent, 0, 1000).await;
    assert_eq!(first.json["more"], true);
    assert_eq!(first.json["cursor"], first.json["ops"][999]["seq"]);
    assert!(first.json["cursor"].as_i64() < first.json["last_seq"].as_i64());
}

#[tokio::test]
async fn the_cursor_is_the_last_returned_seq_while_there_is_more_and_ops_say_when_they_arrived() {
    let app = test_app();
    let world = create_world(&app).await;
    let mut foster = join(&app, &world, Role::FosterParent).await;
    push_many(&app, &mut foster, 20).await;
    let total = last_seq(&app, world.plan).await;
    let reply = pull(&app, &foster, 3, 7).await;
    assert_eq!(reply.json["more"], true, "{}", reply.json);
    assert_eq!(reply.json["cursor"], reply.json["ops"][6]["seq"]);
    assert_eq!(reply.json["last_seq"], total);
    // Every op says when the server stored it: RFC 3339, UTC, milliseconds.
    let now = chrono::Utc::now();
    for o in reply.json["ops"].as_array().unwrap() {
        let at = o["received_at"].as_str().unwrap_or_else(|| panic!("{o}"));
        assert_eq!(at.len(), 24, "{at}");
        assert!(at.ends_with('Z') && at.as_bytes()[19] == b'.', "{at}");
        let at = chrono::DateTime::parse_from_rfc3339(at).unwrap();
        assert!(
            (now - at.with_timezone(&chrono::Utc)).num_seconds().abs() < 60,
            "{at}"
        );
    }
    // Small pages all the way: the same ops as one big pull.
    let (small, cursor) = pull_all(&app, &foster, 0, 3).await;
    let (big, _) = pull_all(&app, &foster, 0, 1000).await;
    assert_eq!(cursor, total);
    assert_eq!(
        small.iter().map(|(s, _)| *s).collect::<Vec<_>>(),
        big.iter().map(|(s, _)| *s).collect::<Vec<_>>()
    );
    // A phone that holds everything gets an empty page and keeps its cursor.
    let reply = pull(&app, &foster, total, 10).await;
    assert_eq!(reply.json["ops"], json!([]));
    assert_eq!(reply.json["more"], false);
    assert_eq!(reply.json["cursor"], total);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn readers_following_the_cursor_miss_nothing_while_others_push() {
    let app = Arc::new(test_app());
    let world = create_world(&app).await;
    let mut writers = [
        join(&app, &world, Role::FosterParent).await,
        join(&app, &world, Role::Guardian).await,
    ];
    let readers = vec![
        join(&app, &world, Role::Parent).await,
        join(&app, &world, Role::Youth).await,
        join(&app, &world, Role::CareWorker).await,
    ];
    let done = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let mut reading = Vec::new();
    for (n, reader) in readers.into_iter().enumerate() {
        let (app, done) = (Arc::clone(&app), Arc::clone(&done));
        reading.push(tokio::spawn(async move {
            let mut held = std::collections::BTreeMap::new();
            let mut after = 0;
            loop {
                let finished = done.load(std::sync::atomic::Ordering::SeqCst);
                let limit = (new_id().as_u128() % 7) as u32 + 1 + n as u32;
                let (page, cursor) = pull_all(&app, &reader, after, limit).await;
                for (seq, op) in page {
                    held.insert(seq, op.id);
                }
                after = cursor;
                if finished {
                    return held;
                }
                tokio::task::yield_now().await;
            }
        }));
    }
    for round in 0..30 {
        let device = &mut writers[round % 2];
        let n = (new_id().as_u128() % 5) as usize + 1;
        push_many(&app, device, n).await;
    }
    done.store(true, std::sync::atomic::Ordering::SeqCst);
    let (everything, _) = pull_all(&app, &writers[0], 0, 1000).await;
    let everything: std::collections::BTreeMap<i64, OpId> =
        everything.into_iter().map(|(s, op)| (s, op.id)).collect();
    for reader in reading {
        assert_eq!(
            reader.await.unwrap(),
            everything,
            "a reader holds exactly the server's set"
        );
    }
}

#[tokio::test]
async fn an_op_id_reused_with_other_content_is_refused_and_the_same_content_stays_idempotent() {
    let app = test_app();
    let world = create_world(&app).await;
    let mut foster = join(&app, &world, Role::FosterParent).await;
    let cm = Entity::ContactMoment(ContactMomentId(new_id()));
    let original = foster.op(cm, Field::Note, json!("Bezoek bij opa"));
    let first = push(&app, &foster, std::slice::from_ref(&original)).await;
    let seq = first.json["accepted"][0]["seq"].clone();
    let before = last_seq(&app, world.plan).await;

    // Same id, other content: refused per op, never acknowledged; the other op lands.
    let mut other = original.clone();
    other.value = json!("Bezoek bij oma");
    let fresh = foster.op(cm, Field::At, json!("2026-03-01T14:00:00"));
    let reply = push(&app, &foster, &[other.clone(), fresh.clone()]).await;
    assert_eq!(
        reply.json["refused"][0]["op"],
        json!(original.id),
        "{}",
        reply.json
    );
    assert_eq!(reply.json["refused"][0]["reason"], "op_id_reused");
    let message = reply.json["refused"][0]["message"].as_str().unwrap();
    assert!(
        message.ends_with('.') && message.contains("new id"),
        "{message}"
    );
    assert_eq!(
        reply.json["accepted"].as_array().unwrap().len(),
        1,
        "{}",
        reply.json
    );
    assert_eq!(reply.json["accepted"][0]["op"], json!(fresh.id));
    assert_eq!(last_seq(&app, world.plan).await, before + 1);

    // Same id, same content: an idempotent re-send with its seq, also after a reload.
    let again = push(&app, &foster, std::slice::from_ref(&original)).await;
    assert_eq!(again.json["accepted"][0]["seq"], seq, "{}", again.json);
    assert_eq!(again.json["refused"], json!([]));
    let fresh_router = app.second_server();
    let path = format!("/api/plans/{}/ops", world.plan);
    let token = Some(foster.token.as_str());
    let reply = fresh_router
        .call("POST", &path, token, Some(json!({ "ops": [original] })))
        .await;
    assert_eq!(reply.json["accepted"][0]["seq"], seq, "{}", reply.json);
    let reply = fresh_router
        .call("POST", &path, token, Some(json!({ "ops": [other] })))
        .await;
    assert_eq!(
        reply.json["refused"][0]["reason"], "op_id_reused",
        "{}",
        reply.json
    );

    // Within one batch: the first body wins, the second is refused.
    let a = foster.op(cm, Field::Place, json!("Thuis"));
    let mut b = a.clone();
    b.value = json!("School");
    let reply = push(&app, &foster, &[a.clone(), b]).await;
    assert_eq!(
        reply.json["accepted"][0]["op"],
        json!(a.id),
        "{}",
        reply.json
    );
    assert_eq!(
        reply.json["refused"][0]["reason"], "op_id_reused",
        "{}",
        reply.json
    );

    // What everyone pulls is the original.
    let (all, _) = pull_all(&app, &foster, 0, 1000).await;
    let stored: Vec<&Op> = all
        .iter()
        .map(|(_, op)| op)
        .filter(|op| op.id == original.id)
        .collect();
    assert_eq!(stored, [&original]);
    let stored: Vec<&Op> = all
        .iter()
        .map(|(_, op)| op)
        .filter(|op| op.id == a.id)
        .collect();
    assert_eq!(stored, [&a]);
}

#[tokio::test]
async fn old_ops_are_accepted_but_not_ops_from_before_the_plan_or_at_the_counter_limit() {
    const DAY: u64 = 24 * 60 * 60 * 1000;
    // The counter limit of koers_core::hlc (the text form has 7 counter digits).
    const COUNTER_LIMIT: u32 = 9_000_000;
    let app = test_app();
    // A plan founded 60 days ago.
    let plan = PlanId(new_id());
    let worker_id = MemberId(new_id());
    let mut clock = Clock::new(NodeId(rand_node()));
    let founded = now_millis() - 60 * DAY;
    let mut ops = founding_ops(plan, worker_id, &mut clock).ops;
    for (n, op) in ops.iter_mut().enumerate() {
        op.hlc.millis = founded + n as u64;
    }
    let reply = app.found(json!({ "ops": ops })).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.json);
    let mut worker = Device::new(
        plan,
        worker_id,
        reply.json["device_token"].as_str().unwrap().into(),
    );
    let dated = |worker: &mut Device, millis: u64, counter: u32| {
        let mut op = worker.op(
            Entity::ContactMoment(ContactMomentId(new_id())),
            Field::Note,
            json!("geschreven toen de telefoon offline was"),
        );
        op.hlc.millis = millis;
        op.hlc.counter = counter;
        op
    };
    let month_old = dated(&mut worker, now_millis() - 30 * DAY, 0);
    let at_founding = dated(&mut worker, founded, 0);
    let before_plan = dated(&mut worker, founded - DAY, 0);
    let at_limit = dated(&mut worker, now_millis(), COUNTER_LIMIT);
    let below_limit = dated(&mut worker, now_millis(), COUNTER_LIMIT - 1);
    let batch = [
        &month_old,
        &at_founding,
        &before_plan,
        &at_limit,
        &below_limit,
    ]
    .map(|o| o.clone());
    let reply = push(&app, &worker, &batch).await;
    let accepted: Vec<Value> = reply.json["accepted"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["op"].clone())
        .collect();
    assert_eq!(
        accepted,
        [
            json!(month_old.id),
            json!(at_founding.id),
            json!(below_limit.id)
        ],
        "{}",
        reply.json
    );
    let refused: Vec<(Value, Value)> = reply.json["refused"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r["op"].clone(), r["reason"].clone()))
        .collect();
    assert_eq!(
        refused,
        [
            (json!(before_plan.id), json!("before_plan")),
            (json!(at_limit.id), json!("hlc_counter_limit")),
        ],
        "{}",
        reply.json
    );
    for r in reply.json["refused"].as_array().unwrap() {
        let message = r["message"].as_str().unwrap();
        assert!(
            message.ends_with('.') && message.contains("new timestamp"),
            "{message}"
        );
    }
    // The founding is known after a restart too (from the stored ops).
    let fresh = app.second_server();
    let again = dated(&mut worker, founded - 1, 0);
    let reply = fresh
        .call(
            "POST",
            &format!("/api/plans/{plan}/ops"),
            Some(&worker.token),
            Some(json!({ "ops": [again] })),
        )
        .await;
    assert_eq!(
        reply.json["refused"][0]["reason"], "before_plan",
        "{}",
        reply.json
    );
    // A founding batch at the counter limit is refused as a whole.
    let mut clock = Clock::new(NodeId(rand_node()));
    let mut ops = founding_ops(PlanId(new_id()), MemberId(new_id()), &mut clock).ops;
    ops[1].hlc.counter = COUNTER_LIMIT;
    let reply = app.found(json!({ "ops": ops })).await;
    assert_error(&reply, StatusCode::BAD_REQUEST, "hlc_counter_limit");
}
