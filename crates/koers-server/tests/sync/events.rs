//! The event stream of a plan (`GET /api/plans/{plan}/events`): new operations, keep-alive
//! comments, its end on revocation, and the token in the query.

use super::*;

#[tokio::test]
async fn the_event_stream_announces_new_operations() {
    let app = test_app();
    let world = create_world(&app).await;
    let mut foster = join(&app, &world, Role::FosterParent).await;
    let parent = join(&app, &world, Role::Parent).await;
    let response = app
        .respond(
            Request::builder()
                .uri(format!("/api/plans/{}/events", world.plan))
                .header(header::AUTHORIZATION, format!("Bearer {}", parent.token))
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(
        response.headers()[header::CONTENT_TYPE],
        "text/event-stream"
    );
    assert!(response.headers().get(header::CONTENT_ENCODING).is_none());
    let mut body = response.into_body().into_data_stream();
    let current = last_seq(&app, world.plan).await;
    assert_eq!(
        next_event(&mut body).await,
        format!("event: ops\ndata: {{\"last_seq\":{current}}}\n\n")
    );

    let op = foster.op(
        Entity::ContactMoment(ContactMomentId(new_id())),
        Field::At,
        json!("2026-03-01T14:00:00"),
    );
    let reply = push(&app, &foster, std::slice::from_ref(&op)).await;
    let seq = reply.json["last_seq"].as_i64().unwrap();
    assert!(seq > current);
    assert_eq!(
        next_event(&mut body).await,
        format!("event: ops\ndata: {{\"last_seq\":{seq}}}\n\n")
    );

    // A re-push stores nothing new and sends nothing; the next real push is announced.
    push(&app, &foster, std::slice::from_ref(&op)).await;
    let op2 = foster.op(
        Entity::ContactMoment(ContactMomentId(new_id())),
        Field::At,
        json!("2026-03-02T14:00:00"),
    );
    let seq2 = push(&app, &foster, &[op2]).await.json["last_seq"]
        .as_i64()
        .unwrap();
    assert_eq!(
        next_event(&mut body).await,
        format!("event: ops\ndata: {{\"last_seq\":{seq2}}}\n\n")
    );

    // Revoking the parent's device ends its stream.
    let devices = app
        .call(
            "GET",
            &format!("/api/plans/{}/devices", world.plan),
            Some(&parent.token),
            None,
        )
        .await;
    let parent_device = devices.json["devices"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["member"] == json!(parent.member))
        .unwrap()["device"]
        .as_str()
        .unwrap()
        .to_owned();
    let reply = app
        .call(
            "DELETE",
            &format!("/api/plans/{}/devices/{parent_device}", world.plan),
            Some(&world.worker.token),
            None,
        )
        .await;
    assert_eq!(reply.status, StatusCode::NO_CONTENT);
    let end = tokio::time::timeout(Duration::from_secs(10), body.next())
        .await
        .expect("the stream ends");
    assert!(end.is_none(), "{end:?}");

    // Another plan's device gets no stream.
    let other = create_world(&app).await;
    let reply = app
        .call(
            "GET",
            &format!("/api/plans/{}/events", world.plan),
            Some(&other.worker.token),
            None,
        )
        .await;
    assert_error(&reply, StatusCode::FORBIDDEN, "wrong_plan");
}

#[tokio::test(start_paused = true)]
async fn an_idle_event_stream_gets_keep_alive_comments() {
    let app = test_app();
    let world = create_world(&app).await;
    let response = app
        .respond(
            Request::builder()
                .uri(format!("/api/plans/{}/events", world.plan))
                .header(
                    header::AUTHORIZATION,
                    format!("Bearer {}", world.worker.token),
                )
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    let mut body = response.into_body().into_data_stream();
    assert!(next_event(&mut body).await.starts_with("event: ops\n"));
    // Time is paused: the runtime jumps to the next timer, the keep-alive.
    let start = tokio::time::Instant::now();
    assert_eq!(next_event(&mut body).await, ": keep-alive\n\n");
    let waited = start.elapsed();
    assert!(
        waited >= koers_server::controllers::events::KEEP_ALIVE && waited < Duration::from_secs(20),
        "{waited:?}"
    );
    assert_eq!(next_event(&mut body).await, ": keep-alive\n\n");
}

#[tokio::test]
async fn only_the_event_stream_takes_the_token_in_the_query() {
    let app = test_app();
    let world = create_world(&app).await;
    let parent = join(&app, &world, Role::Parent).await;
    let get = |uri: String| app.respond(Request::builder().uri(uri).body(Body::empty()).unwrap());
    let events = get(format!(
        "/api/plans/{}/events?access_token={}",
        world.plan, parent.token
    ))
    .await;
    assert_eq!(events.status(), StatusCode::OK);
    let ops = get(format!(
        "/api/plans/{}/ops?access_token={}",
        world.plan, parent.token
    ))
    .await;
    assert_eq!(ops.status(), StatusCode::UNAUTHORIZED);
    let wrong = get(format!(
        "/api/plans/{}/events?access_token=nope",
        world.plan
    ))
    .await;
    assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);
}
