//! The server's limits (issue 10), in-process with small numbers: ops per member per day, items
//! per kind, the plan's size in bytes, event streams per device, invite acceptance per address
//! and per code prefix, and the request timeout. Each refusal is the whole request, with a
//! sentence, and nothing of it is stored.

mod common;

use common::{Founding, Worker};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{header, Request, StatusCode};
use axum::Router;
use futures_util::StreamExt as _;
use koers_core::*;
use koers_database_sqlite::SqliteDatabase;
use koers_server::limits::LimitsConfig;
use serde_json::{json, Value};
use tower::ServiceExt as _;

struct App {
    router: Router,
    dist: common::Dist,
    data: tempfile::TempDir,
    /// The signed-in professional's session ([`App::session`]); kept over a restart.
    session: tokio::sync::OnceCell<String>,
}

fn db(data: &tempfile::TempDir) -> Arc<SqliteDatabase> {
    Arc::new(SqliteDatabase::open(&data.path().join("koers.sqlite3")).unwrap())
}

fn app(limits: LimitsConfig) -> App {
    let dist = common::make_dist();
    let data = tempfile::tempdir().unwrap();
    let router =
        koers_server::app_router_with_limits(dist.path(), &common::index_html(), db(&data), limits);
    App {
        router,
        dist,
        data,
        session: tokio::sync::OnceCell::new(),
    }
}

impl App {
    /// The same data folder served by a new server process (nothing kept in memory).
    fn restart(self, limits: LimitsConfig) -> App {
        let router = koers_server::app_router_with_limits(
            self.dist.path(),
            &common::index_html(),
            db(&self.data),
            limits,
        );
        App { router, ..self }
    }

    /// The session token of a signed-in professional (the organisation's first administrator),
    /// who founds the plans: enrolled on the first call, through the API with a software passkey.
    async fn session(&self) -> &str {
        self.session
            .get_or_init(|| async {
                let link = common::professional::first_link(db(&self.data).as_ref()).await;
                common::professional::enrol_async(&link, |path, body| async move {
                    let reply = call(&self.router, "POST", path, None, Some(body)).await;
                    (reply.status.as_u16(), reply.json)
                })
                .await
                .session
            })
            .await
    }
}

#[derive(Debug)]
struct Reply {
    status: StatusCode,
    retry_after: Option<String>,
    json: Value,
}

async fn call_from(
    router: &Router,
    peer: SocketAddr,
    method: &str,
    path: &str,
    token: Option<&str>,
    body: Option<Value>,
) -> Reply {
    let mut request = Request::builder().method(method).uri(path);
    if let Some(token) = token {
        request = request.header(header::AUTHORIZATION, format!("Bearer {token}"));
    }
    let body = match body {
        Some(body) => {
            request = request.header(header::CONTENT_TYPE, "application/json");
            Body::from(serde_json::to_vec(&body).unwrap())
        }
        None => Body::empty(),
    };
    let mut request = request.body(body).unwrap();
    request.extensions_mut().insert(ConnectInfo(peer));
    let response = router.clone().oneshot(request).await.unwrap();
    let status = response.status();
    let retry_after = response
        .headers()
        .get(header::RETRY_AFTER)
        .map(|v| v.to_str().unwrap().to_owned());
    let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
        .await
        .unwrap();
    let json = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
    Reply {
        status,
        retry_after,
        json,
    }
}

const HOME: &str = "192.0.2.1:50000";

async fn call(
    router: &Router,
    method: &str,
    path: &str,
    token: Option<&str>,
    body: Option<Value>,
) -> Reply {
    call_from(router, HOME.parse().unwrap(), method, path, token, body).await
}

fn assert_refused(reply: &Reply, status: StatusCode, code: &str) {
    assert_eq!(reply.status, status, "{:?}", reply.json);
    assert_eq!(reply.json["error"], code, "{:?}", reply.json);
    let message = reply.json["message"].as_str().unwrap();
    assert!(message.ends_with('.') && message.len() > 40, "{message}");
}

async fn found(app: &App) -> Worker {
    let founding = Founding::new("Noa");
    let reply = call(
        &app.router,
        "POST",
        "/api/plans",
        Some(app.session().await),
        Some(json!({ "ops": founding.ops, "device_name": "worker" })),
    )
    .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{:?}", reply.json);
    founding.worker(reply.json["device_token"].as_str().unwrap())
}

impl Worker {
    async fn push(&self, router: &Router, ops: &[Op]) -> Reply {
        call(
            router,
            "POST",
            &format!("/api/plans/{}/ops", self.plan),
            Some(&self.token),
            Some(json!({ "ops": ops })),
        )
        .await
    }

    /// Every op id the server holds for the plan.
    async fn stored(&self, router: &Router) -> Vec<OpId> {
        let reply = call(
            router,
            "GET",
            &format!("/api/plans/{}/ops?after=0&limit=1000", self.plan),
            Some(&self.token),
            None,
        )
        .await;
        assert_eq!(reply.status, StatusCode::OK);
        reply.json["ops"]
            .as_array()
            .unwrap()
            .iter()
            .map(|o| serde_json::from_value(o["op"]["id"].clone()).unwrap())
            .collect()
    }
}

fn accepted(reply: &Reply) -> usize {
    assert_eq!(reply.status, StatusCode::OK, "{:?}", reply.json);
    assert_eq!(reply.json["refused"], json!([]), "{:?}", reply.json);
    reply.json["accepted"].as_array().unwrap().len()
}

// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn a_member_past_the_daily_limit_is_refused_whole_and_re_sends_stay_free() {
    let limits = LimitsConfig {
        ops_per_member_per_day: 40,
        ..LimitsConfig::default()
    };
    let app = app(limits);
    let mut worker = found(&app).await;
    let founding = worker.stored(&app.router).await.len();
    // The founding ops count too: fill the day up to the limit exactly.
    let first = worker.moments(40 - founding);
    assert_eq!(
        accepted(&worker.push(&app.router, &first).await),
        first.len()
    );

    let over = worker.moments(3);
    let reply = worker.push(&app.router, &over).await;
    assert_refused(&reply, StatusCode::TOO_MANY_REQUESTS, "daily_limit");
    assert!(reply.json["message"].as_str().unwrap().contains("40"));
    let stored = worker.stored(&app.router).await;
    assert_eq!(stored.len(), 40, "nothing of the refused batch is stored");
    assert!(over.iter().all(|op| !stored.contains(&op.id)));

    // Sending what the server already holds again costs nothing.
    assert_eq!(
        accepted(&worker.push(&app.router, &first).await),
        first.len()
    );
}

#[tokio::test]
async fn the_daily_count_survives_a_restart() {
    let limits = LimitsConfig {
        ops_per_member_per_day: 40,
        ..LimitsConfig::default()
    };
    let app = app(limits.clone());
    let mut worker = found(&app).await;
    let founding = worker.stored(&app.router).await.len();
    let first = worker.moments(38 - founding);
    accepted(&worker.push(&app.router, &first).await);

    // A new process over the same database: it counts today's ops from what was received.
    let app = app.restart(limits);
    let three = worker.moments(3);
    let reply = worker.push(&app.router, &three).await;
    assert_refused(&reply, StatusCode::TOO_MANY_REQUESTS, "daily_limit");
    let two = worker.moments(2);
    assert_eq!(accepted(&worker.push(&app.router, &two).await), 2);
}

#[tokio::test]
async fn a_plan_holds_a_limited_number_of_items_of_one_kind() {
    let limits = LimitsConfig {
        items_per_kind: Some(5),
        ..LimitsConfig::default()
    };
    let app = app(limits);
    let mut worker = found(&app).await;
    let four = worker.moments(4);
    accepted(&worker.push(&app.router, &four).await);

    // Two more moments would make six: the whole batch is refused, the fifth too.
    let two = worker.moments(2);
    let reply = worker.push(&app.router, &two).await;
    assert_refused(&reply, StatusCode::UNPROCESSABLE_ENTITY, "item_limit");
    assert!(reply.json["message"]
        .as_str()
        .unwrap()
        .contains("contact_moment"));
    let stored = worker.stored(&app.router).await;
    assert!(two.iter().all(|op| !stored.contains(&op.id)));

    // One more fits; changing an existing one is always fine; then no sixth.
    accepted(&worker.push(&app.router, &two[..1]).await);
    let Entity::ContactMoment(existing) = four[0].entity else {
        unreachable!()
    };
    let note = worker.edit(Edit::new(
        Entity::ContactMoment(existing),
        Field::Note,
        Some("Ging goed."),
    ));
    accepted(&worker.push(&app.router, &[note]).await);
    let sixth = worker.moments(1);
    let reply = worker.push(&app.router, &sixth).await;
    assert_refused(&reply, StatusCode::UNPROCESSABLE_ENTITY, "item_limit");
}

#[tokio::test]
async fn a_plan_is_bounded_in_bytes_not_only_in_count() {
    let limits = LimitsConfig {
        plan_bytes: 40_000,
        ..LimitsConfig::default()
    };
    let app = app(limits);
    let mut worker = found(&app).await;
    let Entity::ContactMoment(moment) = worker.moments(1)[0].entity else {
        unreachable!()
    };
    // Few operations, but long notes: 3,000 characters each.
    let long = |w: &mut Worker, n: usize| -> Vec<Op> {
        (0..n)
            .map(|i| {
                let text = format!("{i} {}", "Een lange notitie over het bezoek. ".repeat(85));
                w.edit(Edit::new(
                    Entity::ContactMoment(moment),
                    Field::Note,
                    Some(text),
                ))
            })
            .collect()
    };
    let fits = long(&mut worker, 8);
    accepted(&worker.push(&app.router, &fits).await);
    let before = worker.stored(&app.router).await.len();
    let too_much = long(&mut worker, 5);
    let reply = worker.push(&app.router, &too_much).await;
    assert_refused(&reply, StatusCode::PAYLOAD_TOO_LARGE, "plan_too_large");
    assert_eq!(worker.stored(&app.router).await.len(), before);

    // Counted from the replica after a restart too.
    let app = app.restart(LimitsConfig {
        plan_bytes: 40_000,
        ..LimitsConfig::default()
    });
    let reply = worker.push(&app.router, &too_much).await;
    assert_refused(&reply, StatusCode::PAYLOAD_TOO_LARGE, "plan_too_large");
}

async fn open_stream(router: &Router, worker: &Worker) -> axum::response::Response {
    let mut request = Request::builder()
        .uri(format!(
            "/api/plans/{}/events?access_token={}",
            worker.plan, worker.token
        ))
        .body(Body::empty())
        .unwrap();
    request
        .extensions_mut()
        .insert(ConnectInfo(HOME.parse::<SocketAddr>().unwrap()));
    router.clone().oneshot(request).await.unwrap()
}

#[tokio::test]
async fn a_device_holds_a_few_event_streams_and_gets_a_place_back_when_one_closes() {
    let app = app(LimitsConfig {
        streams_per_device: 2,
        ..LimitsConfig::default()
    });
    let worker = found(&app).await;
    let first = open_stream(&app.router, &worker).await;
    let second = open_stream(&app.router, &worker).await;
    assert_eq!(first.status(), StatusCode::OK);
    assert_eq!(second.status(), StatusCode::OK);

    let third = open_stream(&app.router, &worker).await;
    assert_eq!(third.status(), StatusCode::TOO_MANY_REQUESTS);
    let bytes = axum::body::to_bytes(third.into_body(), usize::MAX)
        .await
        .unwrap();
    let body: Value = serde_json::from_slice(&bytes).unwrap();
    assert_eq!(body["error"], "too_many_streams", "{body}");

    // The phone closes one (the client hangs up: the body is dropped): a place is free again.
    drop(first);
    let again = open_stream(&app.router, &worker).await;
    assert_eq!(again.status(), StatusCode::OK);
    // The streams that are open still work.
    let mut events = second.into_body().into_data_stream();
    let first_event = tokio::time::timeout(Duration::from_secs(5), events.next())
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    assert!(String::from_utf8_lossy(&first_event).starts_with("event: ops"));
}

async fn accept(router: &Router, peer: &str, code: &str) -> Reply {
    call_from(
        router,
        peer.parse().unwrap(),
        "POST",
        "/api/invites/accept",
        None,
        Some(json!({ "code": code, "device_name": "phone" })),
    )
    .await
}

fn assert_rate_limited(reply: &Reply) {
    assert_refused(reply, StatusCode::TOO_MANY_REQUESTS, "rate_limited");
    let seconds: u64 = reply
        .retry_after
        .as_deref()
        .expect("Retry-After")
        .parse()
        .unwrap();
    assert!((1..=120).contains(&seconds), "{seconds}");
}

#[tokio::test]
async fn invite_codes_tried_from_one_address_are_rate_limited() {
    let app = app(LimitsConfig {
        invite_accepts_per_address: 3,
        invite_accept_address_period: Duration::from_secs(60),
        ..LimitsConfig::default()
    });
    let guesser = "198.51.100.7:40000";
    for n in 0..3 {
        let reply = accept(&app.router, guesser, &format!("{n}aaaaaaaaaaaaaaaaaaaaa")).await;
        assert_eq!(reply.status, StatusCode::NOT_FOUND, "{:?}", reply.json);
    }
    let reply = accept(&app.router, guesser, "9zzzzzzzzzzzzzzzzzzzzz").await;
    assert_rate_limited(&reply);
    // Another address is not held up by the guesser.
    let reply = accept(&app.router, "203.0.113.9:1234", "8bbbbbbbbbbbbbbbbbbbbb").await;
    assert_eq!(reply.status, StatusCode::NOT_FOUND, "{:?}", reply.json);
}

#[tokio::test]
async fn invite_codes_with_one_prefix_are_rate_limited_from_any_address() {
    let app = app(LimitsConfig {
        invite_accepts_per_prefix: 3,
        invite_accept_prefix_period: Duration::from_secs(60),
        ..LimitsConfig::default()
    });
    // A guesser spread over many addresses, trying codes that start alike.
    for n in 0..3 {
        let reply = accept(
            &app.router,
            &format!("198.51.100.{n}:40000"),
            &format!("Qx{n}aaaaaaaaaaaaaaaaaaa"),
        )
        .await;
        assert_eq!(reply.status, StatusCode::NOT_FOUND, "{:?}", reply.json);
    }
    let reply = accept(&app.router, "198.51.100.50:40000", "Qx9zzzzzzzzzzzzzzzzzzz").await;
    assert_rate_limited(&reply);
    // Other codes are not held up.
    let reply = accept(&app.router, "198.51.100.51:40000", "Pyaaaaaaaaaaaaaaaaaaaa").await;
    assert_eq!(reply.status, StatusCode::NOT_FOUND, "{:?}", reply.json);
}

#[tokio::test]
async fn a_slowly_sent_request_is_cut_off_but_the_event_stream_runs_on() {
    let app = app(LimitsConfig {
        request_timeout: Duration::from_millis(500),
        ..LimitsConfig::default()
    });
    let mut worker = found(&app).await;

    // The event stream lives longer than the request timeout and still hears new ops.
    let stream = open_stream(&app.router, &worker).await;
    assert_eq!(stream.status(), StatusCode::OK);
    let mut events = stream.into_body().into_data_stream();
    let _first = events.next().await.unwrap().unwrap();
    tokio::time::sleep(Duration::from_millis(900)).await;
    let ops = worker.moments(1);
    accepted(&worker.push(&app.router, &ops).await);
    let event = tokio::time::timeout(Duration::from_secs(5), events.next())
        .await
        .expect("the stream is still open")
        .unwrap()
        .unwrap();
    assert!(String::from_utf8_lossy(&event).starts_with("event: ops"));

    // A body that trickles in slower than the timeout: 408, nothing stored.
    let op = worker.moments(1).remove(0);
    let body = serde_json::to_vec(&json!({ "ops": [op] })).unwrap();
    let (head, tail) = body.split_at(10);
    let (head, tail) = (head.to_vec(), tail.to_vec());
    let chunks = futures_util::stream::iter([head, tail]).then(|chunk| async move {
        tokio::time::sleep(Duration::from_millis(800)).await;
        Ok::<_, std::io::Error>(chunk)
    });
    let mut request = Request::builder()
        .method("POST")
        .uri(format!("/api/plans/{}/ops", worker.plan))
        .header(header::AUTHORIZATION, format!("Bearer {}", worker.token))
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from_stream(chunks))
        .unwrap();
    request
        .extensions_mut()
        .insert(ConnectInfo(HOME.parse::<SocketAddr>().unwrap()));
    let response = app.router.clone().oneshot(request).await.unwrap();
    assert_eq!(response.status(), StatusCode::REQUEST_TIMEOUT);
    let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
        .await
        .unwrap();
    let body: Value = serde_json::from_slice(&bytes).unwrap();
    assert_eq!(body["error"], "request_timeout", "{body}");
    assert!(!worker.stored(&app.router).await.contains(&op.id));
}
