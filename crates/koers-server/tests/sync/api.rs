//! The API as a whole: JSON errors for bad requests, and the OpenAPI document, which lists
//! exactly the operations the router serves.

use super::*;

#[tokio::test]
async fn bad_requests_get_json_errors_store_nothing_and_the_server_keeps_serving() {
    let app = test_app();
    let world = create_world(&app).await;
    let mut foster = join(&app, &world, Role::FosterParent).await;
    let path = format!("/api/plans/{}/ops", world.plan);
    let before = last_seq(&app, world.plan).await;
    let good = foster.op(
        Entity::ContactMoment(ContactMomentId(new_id())),
        Field::At,
        json!("2026-03-01T14:00:00"),
    );
    let mut op_with_extra = serde_json::to_value(&good).unwrap();
    op_with_extra["extra"] = json!(1);

    let too_many: Vec<Op> = (0..1001)
        .map(|_| {
            foster.op(
                Entity::ContactMoment(ContactMomentId(new_id())),
                Field::Note,
                json!("x"),
            )
        })
        .collect();
    let token = foster.token.clone();
    let request = |content_type: Option<&str>, body: Body| {
        let mut r = Request::builder()
            .method("POST")
            .uri(&path)
            .header(header::AUTHORIZATION, format!("Bearer {token}"));
        if let Some(ct) = content_type {
            r = r.header(header::CONTENT_TYPE, ct);
        }
        r.body(body).unwrap()
    };
    let json_ct = Some("application/json");
    let huge = format!(
        "{{\"ops\": [], \"pad\": \"{}\"}}",
        "x".repeat(koers_server::MAX_REQUEST_BODY)
    );
    let cases: Vec<(&str, Request<Body>, StatusCode, &str)> = vec![
        (
            "malformed",
            request(json_ct, Body::from("{\"ops\": [")),
            StatusCode::BAD_REQUEST,
            "malformed_json",
        ),
        (
            "not json",
            request(json_ct, Body::from("ops=1")),
            StatusCode::BAD_REQUEST,
            "malformed_json",
        ),
        (
            "unknown top-level field",
            request(
                json_ct,
                Body::from(json!({ "ops": [good], "extra": true }).to_string()),
            ),
            StatusCode::BAD_REQUEST,
            "invalid_body",
        ),
        (
            "unknown op field",
            request(
                json_ct,
                Body::from(json!({ "ops": [op_with_extra] }).to_string()),
            ),
            StatusCode::BAD_REQUEST,
            "invalid_body",
        ),
        (
            "missing ops",
            request(json_ct, Body::from("{}")),
            StatusCode::BAD_REQUEST,
            "invalid_body",
        ),
        (
            "wrong content type",
            request(
                Some("text/plain"),
                Body::from(json!({ "ops": [good] }).to_string()),
            ),
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "wrong_content_type",
        ),
        (
            "no content type",
            request(None, Body::from(json!({ "ops": [good] }).to_string())),
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "wrong_content_type",
        ),
        (
            "oversized, with Content-Length",
            {
                let mut r = request(json_ct, Body::from(huge.clone()));
                r.headers_mut()
                    .insert(header::CONTENT_LENGTH, huge.len().into());
                r
            },
            StatusCode::PAYLOAD_TOO_LARGE,
            "body_too_large",
        ),
        (
            "oversized",
            request(json_ct, Body::from(huge.clone())),
            StatusCode::PAYLOAD_TOO_LARGE,
            "body_too_large",
        ),
        (
            "oversized, streamed without length",
            request(
                json_ct,
                Body::from_stream(futures_util::stream::iter(
                    huge.clone()
                        .into_bytes()
                        .chunks(64 * 1024)
                        .map(|c| Ok::<_, std::io::Error>(c.to_vec()))
                        .collect::<Vec<_>>(),
                )),
            ),
            StatusCode::PAYLOAD_TOO_LARGE,
            "body_too_large",
        ),
        (
            "too many ops",
            request(json_ct, Body::from(json!({ "ops": too_many }).to_string())),
            StatusCode::BAD_REQUEST,
            "too_many_ops",
        ),
        (
            "wrong method",
            Request::builder()
                .method("PUT")
                .uri(&path)
                .body(Body::empty())
                .unwrap(),
            StatusCode::METHOD_NOT_ALLOWED,
            "method_not_allowed",
        ),
    ];
    for (name, req, status, code) in cases {
        let reply = app.send(req).await;
        assert_eq!(reply.status, status, "{name}: {}", reply.json);
        assert_error(&reply, status, code);
        assert_eq!(
            last_seq(&app, world.plan).await,
            before,
            "{name}: nothing stored"
        );
        let health = app.call("GET", "/healthz", None, None).await;
        assert_eq!(health.status, StatusCode::OK, "{name}: still serving");
    }
    // Plan creation (by a signed-in professional) and invite acceptance reject the same way.
    let session = app.session().await.to_owned();
    let reply = app
        .send(
            Request::builder()
                .method("POST")
                .uri("/api/invites/accept")
                .header(header::CONTENT_TYPE, "application/json")
                .body(Body::from(
                    json!({ "code": "x", "admin": true }).to_string(),
                ))
                .unwrap(),
        )
        .await;
    assert_error(&reply, StatusCode::BAD_REQUEST, "invalid_body");
    let reply = app
        .send(
            Request::builder()
                .method("POST")
                .uri("/api/plans")
                .header(header::AUTHORIZATION, format!("Bearer {session}"))
                .body(Body::from("{}"))
                .unwrap(),
        )
        .await;
    assert_error(
        &reply,
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        "wrong_content_type",
    );
    let reply = app.call("GET", "/api/nothing-here", None, None).await;
    assert_error(&reply, StatusCode::NOT_FOUND, "not_found");

    // And a good push still goes through.
    let reply = push(&app, &foster, &[good]).await;
    assert_eq!(
        reply.json["accepted"].as_array().unwrap().len(),
        1,
        "{}",
        reply.json
    );
}

#[tokio::test]
async fn the_openapi_document_lists_the_endpoints() {
    let app = test_app();
    let reply = app.call("GET", "/api/openapi.json", None, None).await;
    assert_eq!(reply.status, StatusCode::OK);
    let doc = reply.json;
    assert!(
        doc["openapi"].as_str().unwrap().starts_with("3."),
        "{}",
        doc["openapi"]
    );
    let paths = doc["paths"].as_object().unwrap();
    for (path, methods) in [
        ("/api/plans", &["post"][..]),
        ("/api/plans/{plan}/ops", &["get", "post"][..]),
        ("/api/plans/{plan}/events", &["get"][..]),
        ("/api/plans/{plan}/invites", &["get", "post"][..]),
        ("/api/plans/{plan}/invites/{invite}", &["delete"][..]),
        ("/api/invites/accept", &["post"][..]),
        ("/api/plans/{plan}/devices", &["get"][..]),
        ("/api/plans/{plan}/devices/{device}", &["delete"][..]),
    ] {
        for method in methods {
            assert!(paths[path].get(*method).is_some(), "{method} {path}");
        }
    }
    assert!(doc["components"]["schemas"]["PushResponse"].is_object());
    let schemas = &doc["components"]["schemas"];
    let link_base = &schemas["CreateInviteRequest"]["properties"]["link_base"];
    assert_eq!(link_base["maxLength"], 200, "{link_base}");
    // Operations and stream events are described, not left as free-form objects.
    assert_eq!(
        schemas["PushRequest"]["properties"]["ops"]["items"]["$ref"],
        "#/components/schemas/Op"
    );
    assert!(schemas["Op"]["properties"]["hlc"]["pattern"].is_string());
    // Pull answers where to continue (`cursor`) and when each op arrived.
    let pull = &schemas["PullResponse"];
    for field in ["ops", "last_seq", "cursor", "more"] {
        assert!(
            pull["required"].as_array().unwrap().contains(&json!(field)),
            "{pull}"
        );
    }
    assert!(pull["properties"]["cursor"]["description"]
        .as_str()
        .unwrap()
        .contains("after"));
    let seq_op = &schemas["SeqOp"];
    assert!(
        seq_op["required"]
            .as_array()
            .unwrap()
            .contains(&json!("received_at")),
        "{seq_op}"
    );
    assert!(seq_op["properties"]["received_at"]["pattern"].is_string());
    let reasons = schemas["RefusedOp"]["description"].as_str().unwrap();
    for reason in [
        "op_id_reused",
        "before_plan",
        "hlc_counter_limit",
        "clock_ahead",
    ] {
        assert!(reasons.contains(reason), "{reason}: {reasons}");
    }
    let stream = &paths["/api/plans/{plan}/events"]["get"]["responses"]["200"]["content"]
        ["text/event-stream"]["schema"]["$ref"];
    assert_eq!(stream, "#/components/schemas/OpsEventMessage");
    for field in ["link", "qr_svg"] {
        assert!(
            schemas["CreateInviteResponse"]["properties"][field].is_object(),
            "{field}"
        );
    }
    assert!(doc["components"]["securitySchemes"]["device_token"].is_object());
}

/// The router serves each `/api/…` operation of the document, and nothing else on those paths.
///
/// This holds by construction: the router is built from the handlers' `#[utoipa::path]`
/// (`utoipa_axum::routes!` in `src/controllers/`), and `/api/openapi.json` serves the document
/// that same router produced; the only other `/api` routes are the document itself and the JSON
/// 404. The test guards that construction: a route added by hand beside it, or a document
/// written apart from the router, shows up here.
#[tokio::test]
async fn the_router_serves_exactly_the_documented_operations() {
    let app = test_app();
    let doc = app.call("GET", "/api/openapi.json", None, None).await.json;
    let mut documented: Vec<(String, String)> = Vec::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        let uri = path
            .replace("{plan}", &new_id().to_string())
            .replace("{invite}", "some-invite")
            .replace("{device}", "some-device")
            .replace("{enrolment}", "some-enrolment")
            .replace("{account}", "some-account");
        for method in ["get", "post", "put", "patch", "delete"] {
            let reply = app.call(&method.to_uppercase(), &uri, None, None).await;
            if item.get(method).is_some() {
                // Served: refused for the missing token or body, never as unknown.
                assert_ne!(reply.json["error"], "not_found", "{method} {path}");
                assert_ne!(
                    reply.status,
                    StatusCode::METHOD_NOT_ALLOWED,
                    "{method} {path}"
                );
                documented.push((method.to_uppercase(), path.clone()));
            } else {
                assert_error(&reply, StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed");
            }
        }
    }
    documented.sort();
    let mut expected: Vec<(String, String)> = [
        ("POST", "/api/plans"),
        ("GET", "/api/plans/{plan}/ops"),
        ("POST", "/api/plans/{plan}/ops"),
        ("GET", "/api/plans/{plan}/events"),
        ("GET", "/api/plans/{plan}/invites"),
        ("POST", "/api/plans/{plan}/invites"),
        ("DELETE", "/api/plans/{plan}/invites/{invite}"),
        ("POST", "/api/invites/accept"),
        ("GET", "/api/plans/{plan}/devices"),
        ("DELETE", "/api/plans/{plan}/devices/{device}"),
        ("POST", "/api/sync"),
        ("GET", "/api/events"),
        // Professionals (docs/professionals.md).
        ("POST", "/api/enrolments/start"),
        ("POST", "/api/enrolments/finish"),
        ("POST", "/api/sessions/start"),
        ("POST", "/api/sessions/finish"),
        ("DELETE", "/api/sessions/me"),
        ("GET", "/api/me"),
        ("POST", "/api/me/plans/{plan}/devices"),
        ("POST", "/api/plans/{plan}/devices/me/token"),
        ("GET", "/api/organisation"),
        ("POST", "/api/organisation/enrolments"),
        ("DELETE", "/api/organisation/enrolments/{enrolment}"),
        (
            "POST",
            "/api/organisation/professionals/{account}/deactivate",
        ),
        ("POST", "/api/organisation/plans/{plan}/hand-over"),
        ("GET", "/api/organisation/access-log"),
    ]
    .map(|(method, path)| (method.to_owned(), path.to_owned()))
    .into();
    expected.sort();
    assert_eq!(documented, expected);
}
