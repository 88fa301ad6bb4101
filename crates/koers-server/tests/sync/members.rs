//! A member taken out of the plan: their phones, open invites and event streams stop working,
//! in the same transaction as the removal, and (issue 10) whatever state the revocation is in.

use super::*;

#[tokio::test]
async fn a_member_taken_out_of_the_plan_loses_their_phones_and_open_invites() {
    let app = test_app();
    let mut world = create_world(&app).await;
    let parent = join(&app, &world, Role::Parent).await;
    let foster = join(&app, &world, Role::FosterParent).await;
    let reply = invite(&app, &world.worker, parent.member, None).await;
    let second_code = reply.json["code"].as_str().unwrap().to_owned();

    // Taking oneself out is refused; taking the parent out is not.
    let me = world.worker.member;
    let own = world
        .worker
        .op(Entity::Member(me), Field::Deleted, json!(true));
    let reply = push(&app, &world.worker, &[own]).await;
    assert_eq!(
        reply.json["refused"].as_array().unwrap().len(),
        1,
        "{}",
        reply.json
    );
    let out = world
        .worker
        .op(Entity::Member(parent.member), Field::Deleted, json!(true));
    let reply = push(&app, &world.worker, &[out]).await;
    assert_eq!(
        reply.json["accepted"].as_array().unwrap().len(),
        1,
        "{}",
        reply.json
    );

    assert_error(
        &pull(&app, &parent, 0, 10).await,
        StatusCode::UNAUTHORIZED,
        "device_revoked",
    );
    // The invite was revoked with the removal; what the phone is told is why.
    assert_error(
        &accept(&app, &second_code).await,
        StatusCode::GONE,
        "invite_revoked",
    );
    // Everyone else carries on.
    assert_eq!(pull(&app, &foster, 0, 10).await.status, StatusCode::OK);
}

/// Runs SQL on the test database (triggers that make the server's own updates fail or do
/// nothing, to show what happens when a revocation goes wrong).
fn sql(app: &TestApp, statements: &str) {
    app.db.execute_batch_for_tests(statements).unwrap();
}

/// The device id of `device` in the plan's device list.
async fn device_id(app: &TestApp, world: &World, device: &Device) -> String {
    let reply = app
        .call(
            "GET",
            &format!("/api/plans/{}/devices", world.plan),
            Some(&world.worker.token),
            None,
        )
        .await;
    reply.json["devices"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["member"] == json!(device.member))
        .unwrap()["device"]
        .as_str()
        .unwrap()
        .to_owned()
}

/// Opens the event stream of `device` and reads its first event.
async fn open_events(app: &TestApp, device: &Device) -> axum::body::BodyDataStream {
    let response = app
        .respond(
            Request::builder()
                .uri(format!("/api/plans/{}/events", device.plan))
                .header(header::AUTHORIZATION, format!("Bearer {}", device.token))
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    let mut body = response.into_body().into_data_stream();
    assert!(next_event(&mut body).await.starts_with("event: ops"));
    body
}

#[tokio::test]
async fn a_removed_member_is_refused_everywhere_even_if_their_phone_was_not_revoked() {
    let app = test_app();
    let mut world = create_world(&app).await;
    let mut parent = join(&app, &world, Role::Parent).await;
    let open = invite(&app, &world.worker, parent.member, None).await;
    let open_code = open.json["code"].as_str().unwrap().to_owned();
    let mut stream = open_events(&app, &parent).await;
    // The revocation goes wrong without saying so: the device and invite rows stay as they are.
    sql(
        &app,
        "CREATE TRIGGER keep_devices BEFORE UPDATE OF revoked_at ON devices BEGIN SELECT RAISE(IGNORE); END;
         CREATE TRIGGER keep_invites BEFORE UPDATE OF revoked_at ON invites BEGIN SELECT RAISE(IGNORE); END;",
    );
    let out = world
        .worker
        .op(Entity::Member(parent.member), Field::Deleted, json!(true));
    let reply = push(&app, &world.worker, &[out]).await;
    assert_eq!(
        reply.json["accepted"].as_array().unwrap().len(),
        1,
        "{}",
        reply.json
    );
    let parent_device = device_id(&app, &world, &parent).await;
    let rows = app.db.devices(world.plan).await.unwrap();
    let row = rows
        .iter()
        .find(|d| d.device.to_string() == parent_device)
        .unwrap();
    assert!(
        row.revoked_at.is_none(),
        "the trigger kept the device row as it was"
    );

    // The open event stream ends…
    let end = tokio::time::timeout(Duration::from_secs(10), async {
        loop {
            match stream.next().await {
                None => return,
                Some(chunk) => {
                    let text = String::from_utf8(chunk.unwrap().to_vec()).unwrap();
                    assert!(!text.contains("keep-alive"), "the stream should have ended");
                }
            }
        }
    })
    .await;
    assert!(end.is_ok(), "the removed member's event stream ends");
    // …and every plan endpoint refuses the phone, with the code that lets it wipe the plan.
    let plan = world.plan;
    assert_error(
        &pull(&app, &parent, 0, 10).await,
        StatusCode::UNAUTHORIZED,
        "member_removed",
    );
    let op = parent.op(Entity::Plan, Field::ChildName, json!("Noa"));
    assert_error(
        &push(&app, &parent, &[op]).await,
        StatusCode::UNAUTHORIZED,
        "member_removed",
    );
    for (method, path) in [
        ("GET", format!("/api/plans/{plan}/events")),
        ("GET", format!("/api/plans/{plan}/devices")),
        ("GET", format!("/api/plans/{plan}/invites")),
        ("DELETE", format!("/api/plans/{plan}/devices/me")),
    ] {
        let reply = app.call(method, &path, Some(&parent.token), None).await;
        assert_error(&reply, StatusCode::UNAUTHORIZED, "member_removed");
    }
    let reply = app
        .call(
            "POST",
            &format!("/api/plans/{plan}/invites"),
            Some(&parent.token),
            Some(json!({ "member": parent.member })),
        )
        .await;
    assert_error(&reply, StatusCode::UNAUTHORIZED, "member_removed");
    // The invite that was left open registers no phone.
    assert_error(
        &accept(&app, &open_code).await,
        StatusCode::GONE,
        "invite_revoked",
    );
    // Also a server that loads the plan afresh (after a restart).
    let fresh = app.second_server();
    let reply = fresh
        .call(
            "GET",
            &format!("/api/plans/{plan}/ops"),
            Some(&parent.token),
            None,
        )
        .await;
    assert_error(&reply, StatusCode::UNAUTHORIZED, "member_removed");
}

#[tokio::test]
async fn removing_a_member_and_shutting_out_their_phones_is_one_transaction() {
    let app = test_app();
    let mut world = create_world(&app).await;
    let parent = join(&app, &world, Role::Parent).await;
    let open = invite(&app, &world.worker, parent.member, None).await;
    let open_code = open.json["code"].as_str().unwrap().to_owned();
    let before = last_seq(&app, world.plan).await;
    // Revoking the parent's phone fails: the removal must not be stored either.
    sql(
        &app,
        "CREATE TRIGGER fail_devices BEFORE UPDATE OF revoked_at ON devices BEGIN SELECT RAISE(ABORT, 'disk on fire'); END;",
    );
    let out = world
        .worker
        .op(Entity::Member(parent.member), Field::Deleted, json!(true));
    let reply = push(&app, &world.worker, std::slice::from_ref(&out)).await;
    assert_error(&reply, StatusCode::INTERNAL_SERVER_ERROR, "server_error");
    assert_eq!(
        last_seq(&app, world.plan).await,
        before,
        "nothing of the batch is stored"
    );
    assert_eq!(
        pull(&app, &parent, 0, 10).await.status,
        StatusCode::OK,
        "still a member"
    );

    // Once it works, the op, the revoked phone and the revoked invite are there together.
    sql(&app, "DROP TRIGGER fail_devices;");
    let reply = push(&app, &world.worker, std::slice::from_ref(&out)).await;
    assert_eq!(
        reply.json["accepted"][0]["op"],
        json!(out.id),
        "{}",
        reply.json
    );
    let devices = app.db.devices(world.plan).await.unwrap();
    let parents: Vec<_> = devices
        .iter()
        .filter(|d| d.member == parent.member)
        .collect();
    assert!(!parents.is_empty() && parents.iter().all(|d| d.revoked_at.is_some()));
    let invites = app.db.invites(world.plan).await.unwrap();
    assert!(invites
        .iter()
        .filter(|i| i.member == parent.member && i.used_at.is_none())
        .all(|i| i.revoked_at.is_some()));
    assert_error(
        &pull(&app, &parent, 0, 10).await,
        StatusCode::UNAUTHORIZED,
        "device_revoked",
    );
    assert_error(
        &accept(&app, &open_code).await,
        StatusCode::GONE,
        "invite_revoked",
    );
}

/// Two server instances on one database, with no notice between them: the one that last read
/// the plan before the parent was taken out must not let the parent's change through. Its write
/// is refused by the database (the plan moved on), it reads the plan again, and then refuses the
/// parent — while a change of someone still in the plan goes in numbered after the removal.
#[tokio::test]
async fn an_instance_holding_an_older_plan_reads_it_again_before_storing() {
    let here = test_app();
    let there = here.second_server();
    let mut world = create_world(&here).await;
    let mut parent = join(&here, &world, Role::Parent).await;
    // "There" loads the plan with the parent in it.
    assert_eq!(pull(&there, &parent, 0, 10).await.status, StatusCode::OK);
    // As if revoking the parent's phone went wrong, so that only the plan shuts them out.
    sql(
        &here,
        "CREATE TRIGGER keep_devices BEFORE UPDATE OF revoked_at ON devices BEGIN SELECT RAISE(IGNORE); END;",
    );
    let out = world
        .worker
        .op(Entity::Member(parent.member), Field::Deleted, json!(true));
    let reply = push(&here, &world.worker, &[out]).await;
    assert_eq!(reply.json["refused"], json!([]), "{}", reply.json);
    let removed_at = reply.json["last_seq"].as_i64().unwrap();

    // A parent may add someone of the family's network: allowed, were they still in the plan.
    let grandmother = parent.op(
        Entity::NetworkPerson(NetworkPersonId(new_id())),
        Field::Name,
        json!("Oma Els"),
    );
    let reply = push(&there, &parent, &[grandmother]).await;
    assert_error(&reply, StatusCode::UNAUTHORIZED, "member_removed");
    let kept = world.worker.op(
        Entity::NetworkPerson(NetworkPersonId(new_id())),
        Field::Name,
        json!("Buurvrouw Ans"),
    );
    let reply = push(&there, &world.worker, std::slice::from_ref(&kept)).await;
    assert_eq!(reply.json["refused"], json!([]), "{}", reply.json);
    assert_eq!(reply.json["accepted"][0]["seq"], json!(removed_at + 1));
    let all = pulled_ops(&pull(&here, &world.worker, 0, 100).await);
    assert_eq!(all.last().map(|(_, op)| op.id), Some(kept.id));
    let seqs: Vec<i64> = all.iter().map(|(seq, _)| *seq).collect();
    assert_eq!(seqs, (1..=removed_at + 1).collect::<Vec<_>>(), "no gaps");
}

/// The other side of the same: an instance that has not read the plan since the worker gave the
/// parent a new goal must not refuse the parent's tick of it. A refusal is checked against the
/// database's head first.
#[tokio::test]
async fn an_instance_holding_an_older_plan_reads_it_again_before_refusing() {
    let here = test_app();
    let there = here.second_server();
    let mut world = create_world(&here).await;
    let mut parent = join(&here, &world, Role::Parent).await;
    assert_eq!(pull(&there, &parent, 0, 10).await.status, StatusCode::OK);
    let goal = GoalId(new_id());
    let new_goal = [
        world
            .worker
            .op(Entity::Goal(goal), Field::Title, json!("Elke week bellen")),
        world
            .worker
            .op(Entity::Goal(goal), Field::Owner, json!("parent")),
    ];
    let reply = push(&here, &world.worker, &new_goal).await;
    assert_eq!(reply.json["refused"], json!([]), "{}", reply.json);
    let tick = parent.op(Entity::Goal(goal), Field::Status, json!("done"));
    let reply = push(&there, &parent, std::slice::from_ref(&tick)).await;
    assert_eq!(reply.json["refused"], json!([]), "{}", reply.json);
    assert_eq!(reply.json["accepted"][0]["op"], json!(tick.id));
}
