//! `POST /api/plans`: founding a plan, its rules, and a plan that a second server loads from
//! the store.

use super::*;

#[tokio::test]
async fn founding_a_plan_has_rules() {
    let app = test_app();
    let world = create_world(&app).await;
    let mut clock = Clock::new(NodeId(5));

    // The same plan id again.
    let mut ops = founding_ops(world.plan, MemberId(new_id()), &mut clock).ops;
    let reply = app.found(json!({ "ops": ops })).await;
    assert_error(&reply, StatusCode::CONFLICT, "plan_exists");

    // No founder member with role foster_care_worker.
    let plan = PlanId(new_id());
    let founding = founding_ops(plan, MemberId(new_id()), &mut clock).ops;
    let reply = app.found(json!({ "ops": founding[1..] })).await;
    assert_error(&reply, StatusCode::BAD_REQUEST, "no_founder");
    ops = founding.clone();
    ops[0].value = json!("parent");
    let reply = app.found(json!({ "ops": ops })).await;
    assert_error(&reply, StatusCode::BAD_REQUEST, "no_founder");

    // Two authors.
    ops = founding.clone();
    ops[2].author = MemberId(new_id());
    let reply = app.found(json!({ "ops": ops })).await;
    assert_error(&reply, StatusCode::BAD_REQUEST, "mixed_batch");

    // An invalid op refuses the whole plan, and nothing is stored.
    ops = founding.clone();
    ops.push(raw_op(
        plan,
        ops[0].author,
        &mut clock,
        Entity::Goal(GoalId(new_id())),
        Field::Status,
        json!("finished"),
    ));
    let reply = app.found(json!({ "ops": ops })).await;
    assert_error(&reply, StatusCode::UNPROCESSABLE_ENTITY, "refused");
    assert_eq!(last_seq(&app, plan).await, 0);
    assert!(!app.db.plan_exists(plan).await.unwrap());

    // Empty.
    let reply = app.found(json!({ "ops": [] })).await;
    assert_error(&reply, StatusCode::BAD_REQUEST, "no_ops");

    // The valid batch still works afterwards (members first, whatever the order sent).
    let mut reordered = founding.clone();
    reordered.reverse();
    let reply = app.found(json!({ "ops": reordered })).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.json);
}

#[tokio::test]
async fn a_founding_batch_with_one_id_for_two_bodies_is_refused() {
    let app = test_app();
    let plan = PlanId(new_id());
    let mut clock = Clock::new(NodeId(rand_node()));
    let mut ops = founding_ops(plan, MemberId(new_id()), &mut clock).ops;
    let mut twin = ops[2].clone();
    twin.value = json!("Sam");
    ops.push(twin);
    let reply = app.found(json!({ "ops": ops })).await;
    assert_error(&reply, StatusCode::CONFLICT, "op_id_reused");
    assert!(!app.db.plan_exists(plan).await.unwrap());
}

#[tokio::test]
async fn the_plan_state_is_rebuilt_from_the_store() {
    // A second router on the same database starts with an empty cache: authorization must load
    // the plan from the stored ops.
    let app = test_app();
    let world = create_world(&app).await;
    let mut foster = join(&app, &world, Role::FosterParent).await;
    let fresh = app.second_server();
    let ok = foster.op(
        Entity::ContactMoment(ContactMomentId(new_id())),
        Field::At,
        json!("2026-03-01T14:00:00"),
    );
    let not_allowed = foster.op(Entity::Decision, Field::Outcome, json!("home"));
    let reply = fresh
        .call(
            "POST",
            &format!("/api/plans/{}/ops", world.plan),
            Some(&foster.token),
            Some(json!({ "ops": [ok, not_allowed] })),
        )
        .await;
    assert_eq!(
        reply.json["accepted"][0]["op"],
        json!(ok.id),
        "{}",
        reply.json
    );
    assert_eq!(
        reply.json["refused"][0]["op"],
        json!(not_allowed.id),
        "{}",
        reply.json
    );
}
