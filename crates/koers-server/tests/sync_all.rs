//! Sync for many plans in one request (issue 11), in-process (router + SQLite in a temp
//! folder): `POST /api/sync` pushes and pulls several plans as the per-plan endpoints do, checks
//! each entry on its own token and keeps one plan's refusal in its own entry; `GET /api/events`
//! follows several plans in one stream.

mod common;

use common::{Founding, Worker};
use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use axum::Router;
use futures_util::StreamExt as _;
use koers_core::*;
use koers_database::Database as _;
use koers_database_sqlite::SqliteDatabase;
use koers_server::limits::LimitsConfig;
use serde_json::{json, Value};
use tower::ServiceExt as _;
use uuid::Uuid;

// ---------------------------------------------------------------------------------------------
// Helpers

struct App {
    router: Router,
    db: SqliteDatabase,
    _dist: common::Dist,
    _data: tempfile::TempDir,
    /// The signed-in professional's session ([`App::session`]).
    session: tokio::sync::OnceCell<String>,
}

fn app(limits: LimitsConfig) -> App {
    let dist = common::make_dist();
    let data = tempfile::tempdir().unwrap();
    let db = SqliteDatabase::open(&data.path().join("koers.sqlite3")).unwrap();
    let router = koers_server::app_router_with_limits(
        dist.path(),
        &common::index_html(),
        Arc::new(db.clone()),
        limits,
    );
    App {
        router,
        db,
        _dist: dist,
        _data: data,
        session: tokio::sync::OnceCell::new(),
    }
}

impl App {
    /// The session token of a signed-in professional (the organisation's first administrator),
    /// who founds the plans: enrolled on the first call, through the API with a software passkey.
    async fn session(&self) -> &str {
        self.session
            .get_or_init(|| async {
                let link = common::professional::first_link(&self.db).await;
                common::professional::enrol_async(&link, |path, body| async move {
                    let reply = call(&self.router, "POST", path, None, Some(&body)).await;
                    (reply.status.as_u16(), reply.json)
                })
                .await
                .session
            })
            .await
    }
}

fn test_app() -> App {
    app(LimitsConfig::default())
}

#[derive(Debug)]
struct Reply {
    status: StatusCode,
    json: Value,
}

async fn call(
    router: &Router,
    method: &str,
    path: &str,
    token: Option<&str>,
    body: Option<&Value>,
) -> Reply {
    let mut request = Request::builder().method(method).uri(path);
    if let Some(token) = token {
        request = request.header(header::AUTHORIZATION, format!("Bearer {token}"));
    }
    let request = match body {
        Some(body) => request
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(body.to_string())),
        None => request.body(Body::empty()),
    };
    let response = router.clone().oneshot(request.unwrap()).await.unwrap();
    let status = response.status();
    let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
        .await
        .unwrap();
    let json = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
    Reply { status, json }
}

/// `POST /api/sync` with these entries.
async fn sync_all(app: &App, entries: Vec<Value>) -> Reply {
    call(
        &app.router,
        "POST",
        "/api/sync",
        None,
        Some(&json!({ "plans": entries })),
    )
    .await
}

/// The results of a `POST /api/sync` that answered 200.
fn results(reply: &Reply) -> Vec<Value> {
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.json);
    reply.json["plans"].as_array().unwrap().clone()
}

/// Asserts the JSON error shape and code of a whole answer.
fn assert_error(reply: &Reply, status: StatusCode, code: &str) {
    assert_eq!(reply.status, status, "{}", reply.json);
    assert_eq!(reply.json["error"], code, "{}", reply.json);
    let message = reply.json["message"].as_str().unwrap();
    assert!(message.len() > 20 && message.ends_with('.'), "{message}");
}

/// Asserts that an entry was refused with `status` and `code`, and holds nothing else: no op,
/// seq or cursor of any plan.
fn assert_entry_refused(entry: &Value, plan: PlanId, status: u16, code: &str) {
    let fields: Vec<&String> = entry.as_object().unwrap().keys().collect();
    assert_eq!(fields.len(), 2, "only plan and error: {entry}");
    assert_eq!(entry["plan"], json!(plan), "{entry}");
    let error = &entry["error"];
    assert_eq!(error["status"], status, "{entry}");
    assert_eq!(error["error"], code, "{entry}");
    let message = error["message"].as_str().unwrap();
    assert!(message.len() > 20 && message.ends_with('.'), "{message}");
    assert_eq!(error.as_object().unwrap().len(), 3, "{entry}");
}

async fn found(app: &App, child: &str) -> Worker {
    let founding = Founding::new(child);
    let reply = call(
        &app.router,
        "POST",
        "/api/plans",
        Some(app.session().await),
        Some(&json!({ "ops": founding.ops, "device_name": "worker" })),
    )
    .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.json);
    founding.worker(reply.json["device_token"].as_str().unwrap())
}

/// A device of the plan's parent: its id and token.
struct ParentPhone {
    device: String,
    token: String,
}

impl Worker {
    /// A sync entry of this plan with this worker's token.
    fn entry(&self, after: i64, ops: &[Op]) -> Value {
        json!({ "plan": self.plan, "token": self.token, "after": after, "ops": ops })
    }

    async fn push(&self, app: &App, ops: &[Op]) -> Reply {
        call(
            &app.router,
            "POST",
            &format!("/api/plans/{}/ops", self.plan),
            Some(&self.token),
            Some(&json!({ "ops": ops })),
        )
        .await
    }

    async fn pull(&self, app: &App, after: i64, limit: u32) -> Reply {
        call(
            &app.router,
            "GET",
            &format!("/api/plans/{}/ops?after={after}&limit={limit}", self.plan),
            Some(&self.token),
            None,
        )
        .await
    }

    /// Registers a device for the plan's parent (invite, accept).
    async fn invite_parent(&self, app: &App) -> ParentPhone {
        let reply = call(
            &app.router,
            "POST",
            &format!("/api/plans/{}/invites", self.plan),
            Some(&self.token),
            Some(&json!({ "member": self.parent })),
        )
        .await;
        assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.json);
        let code = reply.json["code"].as_str().unwrap();
        let reply = call(
            &app.router,
            "POST",
            "/api/invites/accept",
            None,
            Some(&json!({ "code": code, "device_name": "parent" })),
        )
        .await;
        assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.json);
        ParentPhone {
            device: reply.json["device"].as_str().unwrap().to_owned(),
            token: reply.json["device_token"].as_str().unwrap().to_owned(),
        }
    }

    /// Revokes a device of the plan (`me`: this worker's own).
    async fn revoke(&self, app: &App, device: &str) {
        let reply = call(
            &app.router,
            "DELETE",
            &format!("/api/plans/{}/devices/{device}", self.plan),
            Some(&self.token),
            None,
        )
        .await;
        assert_eq!(reply.status, StatusCode::NO_CONTENT, "{}", reply.json);
    }

    /// Takes the parent out of the plan.
    async fn remove_parent(&mut self, app: &App) {
        let out = self.edit(Edit::new(Entity::Member(self.parent), Field::Deleted, true));
        let reply = self.push(app, &[out]).await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.json);
        assert_eq!(reply.json["refused"], json!([]), "{}", reply.json);
    }
}

async fn last_seq(app: &App, plan: PlanId) -> i64 {
    app.db.head(plan).await.unwrap()
}

/// The op ids of a pull's (or a sync entry's) `ops`, with the plan each op names.
fn pulled(answer: &Value) -> Vec<(PlanId, OpId)> {
    answer["ops"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| {
            let op: Op = serde_json::from_value(o["op"].clone()).unwrap();
            (op.plan, op.id)
        })
        .collect()
}

fn pull_fields(answer: &Value) -> Value {
    json!({
        "ops": answer["ops"],
        "cursor": answer["cursor"],
        "last_seq": answer["last_seq"],
        "more": answer["more"],
    })
}

// ---------------------------------------------------------------------------------------------
// POST /api/sync

#[tokio::test]
async fn one_request_pushes_and_pulls_several_plans_as_the_per_plan_endpoints_do() {
    let app = test_app();
    let mut a = found(&app, "Noa").await;
    let mut b = found(&app, "Sem").await;
    let c = found(&app, "Lina").await;
    let (ops_a, ops_b) = (a.moments(3), b.moments(2));
    let before_c = last_seq(&app, c.plan).await;

    let reply = sync_all(
        &app,
        vec![
            a.entry(0, &ops_a),
            b.entry(0, &ops_b),
            json!({ "plan": c.plan, "token": c.token }),
        ],
    )
    .await;
    let entries = results(&reply);
    assert_eq!(entries.len(), 3);
    for (entry, worker) in entries.iter().zip([&a, &b, &c]) {
        assert_eq!(entry["plan"], json!(worker.plan), "in the request's order");
        assert!(entry.get("error").is_none(), "{entry}");
        assert!(entry.get("push_error").is_none(), "{entry}");
        // The pull is the per-plan pull, field for field.
        let alone = worker.pull(&app, 0, 1000).await;
        assert_eq!(alone.status, StatusCode::OK);
        assert_eq!(pull_fields(entry), pull_fields(&alone.json));
    }
    // Pushed, with a seq each; a plan sent without ops has no push answer and stored nothing.
    for (entry, ops) in [(&entries[0], &ops_a), (&entries[1], &ops_b)] {
        let accepted = entry["push"]["accepted"].as_array().unwrap();
        assert_eq!(accepted.len(), ops.len(), "{entry}");
        assert_eq!(entry["push"]["refused"], json!([]));
        assert_eq!(entry["push"]["last_seq"], entry["last_seq"]);
        let held: Vec<OpId> = pulled(entry).into_iter().map(|(_, id)| id).collect();
        assert!(ops.iter().all(|op| held.contains(&op.id)));
    }
    assert!(entries[2].get("push").is_none());
    assert_eq!(last_seq(&app, c.plan).await, before_c);

    // Sent again, the same ops are acknowledged with the same seqs the per-plan push gives.
    let again = sync_all(&app, vec![a.entry(0, &ops_a)]).await;
    let alone = a.push(&app, &ops_a).await;
    assert_eq!(results(&again)[0]["push"], alone.json);

    // Paging as the per-plan pull pages: `limit`, `more`, `cursor`.
    let mut entry = a.entry(0, &[]);
    entry["limit"] = json!(2);
    let page = &results(&sync_all(&app, vec![entry]).await)[0];
    assert_eq!(page["more"], true);
    assert_eq!(
        pull_fields(page),
        pull_fields(&a.pull(&app, 0, 2).await.json)
    );
    let cursor = page["cursor"].as_i64().unwrap();
    let rest = &results(&sync_all(&app, vec![a.entry(cursor, &[])]).await)[0];
    assert_eq!(
        pull_fields(rest),
        pull_fields(&a.pull(&app, cursor, 1000).await.json)
    );
}

#[tokio::test]
async fn a_token_of_another_plan_is_refused_in_its_entry_and_leaks_nothing() {
    let app = test_app();
    let mut a = found(&app, "Noa").await;
    let b = found(&app, "Sem").await;
    let (seq_a, seq_b) = (last_seq(&app, a.plan).await, last_seq(&app, b.plan).await);
    let nowhere = PlanId(Uuid::new_v4());
    let op = a.moments(1);

    // A's token for plan B: with ops, without, and for a plan that does not exist.
    let reply = sync_all(
        &app,
        vec![
            json!({ "plan": b.plan, "token": a.token, "ops": op }),
            json!({ "plan": nowhere, "token": a.token }),
            a.entry(0, &[]),
        ],
    )
    .await;
    let entries = results(&reply);
    assert_entry_refused(&entries[0], b.plan, 403, "wrong_plan");
    assert_entry_refused(&entries[1], nowhere, 403, "wrong_plan");
    // Nothing of B (or A) in the refusals: no child's name, op, seq or member.
    let refusals = json!([entries[0], entries[1]]).to_string();
    for secret in ["Noa", "Sem", &a.parent.to_string(), &b.parent.to_string()] {
        assert!(!refusals.contains(secret), "{secret} in {refusals}");
    }
    // The entry with A's own token is served.
    assert_eq!(entries[2]["last_seq"], seq_a);
    // Nothing was stored in either plan.
    assert_eq!(last_seq(&app, a.plan).await, seq_a);
    assert_eq!(last_seq(&app, b.plan).await, seq_b);
}

#[tokio::test]
async fn no_data_mixes_between_plans() {
    let app = test_app();
    let mut a = found(&app, "Noa").await;
    let mut b = found(&app, "Sem").await;
    let (ops_a, ops_b) = (a.moments(4), b.moments(4));
    // An op of plan B sent in A's entry is refused there, as the per-plan push refuses it.
    let stray = b.moments(1);
    let mut in_a = ops_a.clone();
    in_a.extend(stray.clone());
    let entries = results(&sync_all(&app, vec![a.entry(0, &in_a), b.entry(0, &ops_b)]).await);
    let refused = entries[0]["push"]["refused"].as_array().unwrap();
    assert_eq!(refused.len(), 1, "{}", entries[0]);
    assert_eq!(refused[0]["op"], json!(stray[0].id));
    assert_eq!(refused[0]["reason"], "wrong_plan");

    for (entry, worker) in [(&entries[0], &a), (&entries[1], &b)] {
        let held = pulled(entry);
        assert!(held.iter().all(|(plan, _)| *plan == worker.plan), "{entry}");
        let alone = pulled(&worker.pull(&app, 0, 1000).await.json);
        assert_eq!(held, alone);
    }
    let ids_a: Vec<OpId> = pulled(&entries[0]).into_iter().map(|(_, id)| id).collect();
    let ids_b: Vec<OpId> = pulled(&entries[1]).into_iter().map(|(_, id)| id).collect();
    assert!(ids_a.iter().all(|id| !ids_b.contains(id)));
    assert!(!ids_a.contains(&stray[0].id) && !ids_b.contains(&stray[0].id));
    assert!(ops_b.iter().all(|op| ids_b.contains(&op.id)));
    assert!(ops_a.iter().all(|op| ids_a.contains(&op.id)));
}

#[tokio::test]
async fn a_revoked_device_a_removed_member_or_an_unknown_token_touch_only_their_entry() {
    let app = test_app();
    let mut a = found(&app, "Noa").await;
    let b = found(&app, "Sem").await;
    let mut c = found(&app, "Lina").await;
    let revoked = b.invite_parent(&app).await;
    b.revoke(&app, &revoked.device).await;
    let removed = c.invite_parent(&app).await;
    // The member is taken out but their phone's revocation goes wrong without saying so: the
    // plan, not the device row, shuts them out (`member_removed`).
    app.db.execute_batch_for_tests(
        "CREATE TRIGGER keep_devices BEFORE UPDATE OF revoked_at ON devices BEGIN SELECT RAISE(IGNORE); END;",
    )
    .unwrap();
    c.remove_parent(&app).await;
    let (unknown, blank) = (PlanId(Uuid::new_v4()), PlanId(Uuid::new_v4()));
    let ops = a.moments(2);

    let reply = sync_all(
        &app,
        vec![
            json!({ "plan": b.plan, "token": revoked.token }),
            json!({ "plan": c.plan, "token": removed.token }),
            json!({ "plan": unknown, "token": "no-such-token" }),
            json!({ "plan": blank, "token": "  " }),
            a.entry(0, &ops),
        ],
    )
    .await;
    let entries = results(&reply);
    assert_entry_refused(&entries[0], b.plan, 401, "device_revoked");
    assert_entry_refused(&entries[1], c.plan, 401, "member_removed");
    assert_entry_refused(&entries[2], unknown, 401, "token_unknown");
    assert_entry_refused(&entries[3], blank, 401, "token_missing");
    // The last entry, after all those refusals, is pushed and pulled in full.
    let served = &entries[4];
    assert_eq!(served["push"]["accepted"].as_array().unwrap().len(), 2);
    assert_eq!(
        pull_fields(served),
        pull_fields(&a.pull(&app, 0, 1000).await.json)
    );

    // The removed member's push (through the batch) stores nothing either.
    let seq_c = last_seq(&app, c.plan).await;
    let op = json!(c.moments(1));
    let reply = sync_all(
        &app,
        vec![json!({ "plan": c.plan, "token": removed.token, "ops": op })],
    )
    .await;
    assert_entry_refused(&results(&reply)[0], c.plan, 401, "member_removed");
    assert_eq!(last_seq(&app, c.plan).await, seq_c);
}

#[tokio::test]
async fn a_push_refused_for_a_limit_leaves_the_pull_and_the_other_plans() {
    let app = app(LimitsConfig {
        ops_per_member_per_day: 40,
        ..LimitsConfig::default()
    });
    let mut a = found(&app, "Noa").await;
    let mut b = found(&app, "Sem").await;
    // A's worker fills the day up to the limit exactly (the founding ops count too).
    let founding = pulled(&a.pull(&app, 0, 1000).await.json).len();
    let fill = a.moments(40 - founding);
    assert_eq!(a.push(&app, &fill).await.status, StatusCode::OK);
    let seq_a = last_seq(&app, a.plan).await;

    let over = a.moments(3);
    let fine = b.moments(3);
    let mut c = found(&app, "Lina").await;
    let too_many = c.moments(1001);
    let entries = results(
        &sync_all(
            &app,
            vec![
                a.entry(0, &over),
                b.entry(0, &fine),
                json!({ "plan": c.plan, "token": c.token, "ops": too_many }),
            ],
        )
        .await,
    );
    let refused = &entries[0];
    assert!(refused.get("error").is_none() && refused.get("push").is_none());
    assert_eq!(refused["push_error"]["status"], 429, "{refused}");
    assert_eq!(refused["push_error"]["error"], "daily_limit");
    assert!(refused["push_error"]["message"]
        .as_str()
        .unwrap()
        .contains("40"));
    // Nothing of the refused push stored; the pull still ran and brought the plan.
    assert_eq!(last_seq(&app, a.plan).await, seq_a);
    assert_eq!(refused["last_seq"], seq_a);
    assert_eq!(
        pull_fields(refused),
        pull_fields(&a.pull(&app, 0, 1000).await.json)
    );
    // The other plan's push in the same request: stored.
    assert_eq!(entries[1]["push"]["accepted"].as_array().unwrap().len(), 3);
    // The batch size is per entry, as in push.
    assert_eq!(entries[2]["push_error"]["status"], 400, "{}", entries[2]);
    assert_eq!(entries[2]["push_error"]["error"], "too_many_ops");
    assert!(entries[2]["ops"].is_array());
}

#[tokio::test]
async fn the_whole_request_counts_once_for_the_per_request_limits() {
    let app = test_app();
    let mut a = found(&app, "Noa").await;
    let mut b = found(&app, "Sem").await;
    let (seq_a, seq_b) = (last_seq(&app, a.plan).await, last_seq(&app, b.plan).await);
    // Each entry alone is well under the 2 MiB a request may carry; the two together are not.
    // The limit is the request's, so the whole round is refused and nothing of it stored.
    let padding = "x".repeat(koers_server::MAX_REQUEST_BODY / 2 + 1024);
    let (ops_a, ops_b) = (a.moments(2), b.moments(2));
    let mut entry_a = a.entry(0, &ops_a);
    let mut entry_b = b.entry(0, &ops_b);
    entry_a["token"] = json!(padding);
    entry_b["token"] = json!(padding);
    let reply = sync_all(&app, vec![entry_a, entry_b]).await;
    assert_error(&reply, StatusCode::PAYLOAD_TOO_LARGE, "body_too_large");
    assert_eq!(last_seq(&app, a.plan).await, seq_a);
    assert_eq!(last_seq(&app, b.plan).await, seq_b);
}

#[tokio::test]
async fn a_malformed_round_is_refused_whole_and_stores_nothing() {
    let app = test_app();
    let mut a = found(&app, "Noa").await;
    let seq_a = last_seq(&app, a.plan).await;
    let ops = a.moments(2);

    assert_error(
        &sync_all(&app, vec![]).await,
        StatusCode::BAD_REQUEST,
        "no_plans",
    );
    // The plan twice: its first entry (with ops) is not handled either.
    let reply = sync_all(&app, vec![a.entry(0, &ops), a.entry(0, &[])]).await;
    assert_error(&reply, StatusCode::BAD_REQUEST, "plan_twice");
    // 101 plans, the first a real one with ops.
    let mut entries = vec![a.entry(0, &ops)];
    entries.extend((0..100).map(|_| json!({ "plan": PlanId(Uuid::new_v4()), "token": "unknown" })));
    assert_error(
        &sync_all(&app, entries).await,
        StatusCode::BAD_REQUEST,
        "too_many_plans",
    );
    let mut bad_limit = a.entry(0, &ops);
    bad_limit["limit"] = json!(0);
    assert_error(
        &sync_all(&app, vec![bad_limit]).await,
        StatusCode::BAD_REQUEST,
        "invalid_limit",
    );
    for body in [
        json!({}),
        json!({ "plans": [{ "plan": "not-a-uuid", "token": a.token }] }),
        json!({ "plans": [{ "plan": a.plan, "token": a.token, "extra": 1 }] }),
        json!({ "plans": [a.entry(0, &ops)], "extra": 1 }),
    ] {
        let reply = call(&app.router, "POST", "/api/sync", None, Some(&body)).await;
        assert_error(&reply, StatusCode::BAD_REQUEST, "invalid_body");
    }
    assert_eq!(last_seq(&app, a.plan).await, seq_a, "nothing stored");
    // 100 plans are fine.
    let mut entries = vec![a.entry(0, &ops)];
    entries.extend((0..99).map(|_| json!({ "plan": PlanId(Uuid::new_v4()), "token": "x" })));
    let answered = results(&sync_all(&app, entries).await);
    assert_eq!(answered.len(), 100);
    assert_eq!(answered[0]["push"]["accepted"].as_array().unwrap().len(), 2);
}

// ---------------------------------------------------------------------------------------------
// GET /api/events

/// Reads server-sent events, whatever chunks they come in.
struct Events {
    body: axum::body::BodyDataStream,
    buffer: String,
}

impl Events {
    /// The next event (keep-alive comments skipped) as its name and data, or `None` when the
    /// stream ended.
    async fn next(&mut self) -> Option<(String, Value)> {
        loop {
            if let Some(end) = self.buffer.find("\n\n") {
                let block: String = self.buffer.drain(..end + 2).collect();
                if block.starts_with(':') {
                    continue;
                }
                let field = |name: &str| {
                    block
                        .lines()
                        .find_map(|l| l.strip_prefix(name))
                        .unwrap_or_else(|| panic!("no {name} in {block:?}"))
                        .to_owned()
                };
                let data = serde_json::from_str(&field("data: ")).unwrap();
                return Some((field("event: "), data));
            }
            let chunk = tokio::time::timeout(Duration::from_secs(20), self.body.next())
                .await
                .expect("an event or the end within 20 s")?;
            self.buffer
                .push_str(std::str::from_utf8(&chunk.unwrap()).unwrap());
        }
    }

    async fn expect(&mut self) -> (String, Value) {
        self.next().await.expect("the stream goes on")
    }
}

async fn open_all(app: &App, tokens: &[&str]) -> axum::response::Response {
    let uri = format!("/api/events?tokens={}", tokens.join(","));
    let request = Request::builder().uri(uri).body(Body::empty()).unwrap();
    app.router.clone().oneshot(request).await.unwrap()
}

async fn events_all(app: &App, tokens: &[&str]) -> Events {
    let response = open_all(app, tokens).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(
        response.headers()[header::CONTENT_TYPE],
        "text/event-stream"
    );
    Events {
        body: response.into_body().into_data_stream(),
        buffer: String::new(),
    }
}

async fn refused_stream(app: &App, tokens: &[&str]) -> Reply {
    let response = open_all(app, tokens).await;
    let status = response.status();
    let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
        .await
        .unwrap();
    Reply {
        status,
        json: serde_json::from_slice(&bytes).unwrap(),
    }
}

fn ops_event(plan: PlanId, last_seq: i64) -> (String, Value) {
    ("ops".into(), json!({ "plan": plan, "last_seq": last_seq }))
}

fn closed_event(plan: Option<PlanId>, error: &str) -> (String, Value) {
    ("closed".into(), json!({ "plan": plan, "error": error }))
}

#[tokio::test]
async fn one_event_stream_follows_many_plans_until_none_is_left() {
    let app = test_app();
    let mut a = found(&app, "Noa").await;
    let b = found(&app, "Sem").await;
    let mut c = found(&app, "Lina").await;
    let parent_a = a.invite_parent(&app).await;
    let parent_c = c.invite_parent(&app).await;
    let mut events = events_all(
        &app,
        &[&parent_a.token, &b.token, "no-such-token", &parent_c.token],
    )
    .await;

    // On connecting: the refused token, then each plan's newest seq.
    assert_eq!(events.expect().await, closed_event(None, "token_unknown"));
    let mut first = vec![
        events.expect().await,
        events.expect().await,
        events.expect().await,
    ];
    first.sort_by_key(|(_, data)| data["plan"].to_string());
    let mut expected = Vec::new();
    for plan in [a.plan, b.plan, c.plan] {
        expected.push(ops_event(plan, last_seq(&app, plan).await));
    }
    expected.sort_by_key(|(_, data)| data["plan"].to_string());
    assert_eq!(first, expected);

    // A push to one plan names that plan.
    let op = a.moments(1);
    let seq = a.push(&app, &op).await.json["last_seq"].as_i64().unwrap();
    assert_eq!(events.expect().await, ops_event(a.plan, seq));

    // The parent's phone of plan A is revoked: A is dropped, the others go on.
    a.revoke(&app, &parent_a.device).await;
    assert_eq!(
        events.expect().await,
        closed_event(Some(a.plan), "device_revoked")
    );
    let op = a.moments(1);
    a.push(&app, &op).await;
    let op = c.moments(1);
    let seq = c.push(&app, &op).await.json["last_seq"].as_i64().unwrap();
    assert_eq!(
        events.expect().await,
        ops_event(c.plan, seq),
        "nothing more of plan A"
    );

    // B's worker signs this phone out of B; C's parent is taken out of C.
    b.revoke(&app, "me").await;
    assert_eq!(
        events.expect().await,
        closed_event(Some(b.plan), "device_revoked")
    );
    c.remove_parent(&app).await;
    let (event, data) = events.expect().await;
    assert_eq!(event, "closed");
    assert_eq!(data["plan"], json!(c.plan));
    // Both say the phone is out: its device was revoked with the removal.
    assert!(
        ["device_revoked", "member_removed"].contains(&data["error"].as_str().unwrap()),
        "{data}"
    );
    // No plan is left: the stream ends.
    assert_eq!(events.next().await, None);
}

#[tokio::test]
async fn the_event_stream_for_many_plans_refuses_as_the_per_plan_one_does() {
    let app = test_app();
    let a = found(&app, "Noa").await;
    let b = found(&app, "Sem").await;
    let revoked = b.invite_parent(&app).await;
    b.revoke(&app, &revoked.device).await;

    // None admitted: the refusal of the first, as a plain JSON error.
    assert_error(
        &refused_stream(&app, &["unknown-1", &revoked.token]).await,
        StatusCode::UNAUTHORIZED,
        "token_unknown",
    );
    assert_error(
        &refused_stream(&app, &[&revoked.token, "unknown-1"]).await,
        StatusCode::UNAUTHORIZED,
        "device_revoked",
    );
    assert_error(
        &refused_stream(&app, &[]).await,
        StatusCode::UNAUTHORIZED,
        "token_missing",
    );
    let reply = call(&app.router, "GET", "/api/events", None, None).await;
    assert_error(&reply, StatusCode::UNAUTHORIZED, "token_missing");
    let many: Vec<String> = (0..101).map(|i| format!("token-{i}")).collect();
    let many: Vec<&str> = many.iter().map(String::as_str).collect();
    assert_error(
        &refused_stream(&app, &many).await,
        StatusCode::BAD_REQUEST,
        "too_many_tokens",
    );
    // A revoked device is named by its plan; the admitted plan is followed.
    let mut events = events_all(&app, &[&revoked.token, &a.token]).await;
    assert_eq!(
        events.expect().await,
        closed_event(Some(b.plan), "device_revoked")
    );
    assert_eq!(
        events.expect().await,
        ops_event(a.plan, last_seq(&app, a.plan).await)
    );
    // The per-plan stream still sends its own data, without the plan.
    let response = app
        .router
        .clone()
        .oneshot(
            Request::builder()
                .uri(format!(
                    "/api/plans/{}/events?access_token={}",
                    a.plan, a.token
                ))
                .body(Body::empty())
                .unwrap(),
        )
        .await
        .unwrap();
    let mut per_plan = Events {
        body: response.into_body().into_data_stream(),
        buffer: String::new(),
    };
    assert_eq!(
        per_plan.expect().await,
        (
            "ops".into(),
            json!({ "last_seq": last_seq(&app, a.plan).await })
        )
    );
}

#[tokio::test]
async fn a_stream_of_many_plans_takes_one_place_of_each_device() {
    let app = app(LimitsConfig {
        streams_per_device: 2,
        ..LimitsConfig::default()
    });
    let a = found(&app, "Noa").await;
    let b = found(&app, "Sem").await;
    let c = found(&app, "Lina").await;
    let first = events_all(&app, &[&a.token, &b.token]).await;
    let _second = events_all(&app, &[&a.token, &b.token]).await;

    // A and B have no place left: a third stream of both is refused, so is A's own stream…
    assert_error(
        &refused_stream(&app, &[&a.token, &b.token]).await,
        StatusCode::TOO_MANY_REQUESTS,
        "too_many_streams",
    );
    let reply = call(
        &app.router,
        "GET",
        &format!("/api/plans/{}/events", a.plan),
        Some(&a.token),
        None,
    )
    .await;
    assert_error(&reply, StatusCode::TOO_MANY_REQUESTS, "too_many_streams");
    // …while a stream with C still follows C and says why A is not followed.
    let mut events = events_all(&app, &[&a.token, &c.token]).await;
    assert_eq!(
        events.expect().await,
        closed_event(Some(a.plan), "too_many_streams")
    );
    assert_eq!(
        events.expect().await,
        ops_event(c.plan, last_seq(&app, c.plan).await)
    );

    // The phone hangs up one stream: A and B each get a place back.
    drop(first);
    let response = app
        .router
        .clone()
        .oneshot(
            Request::builder()
                .uri(format!("/api/plans/{}/events", a.plan))
                .header(header::AUTHORIZATION, format!("Bearer {}", a.token))
                .body(Body::empty())
                .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let mut again = events_all(&app, &[&b.token]).await;
    assert_eq!(
        again.expect().await,
        ops_event(b.plan, last_seq(&app, b.plan).await)
    );
}

#[tokio::test]
async fn the_openapi_document_describes_sync_for_many_plans() {
    let app = test_app();
    let doc = call(&app.router, "GET", "/api/openapi.json", None, None)
        .await
        .json;
    let paths = &doc["paths"];
    let sync = &paths["/api/sync"]["post"];
    assert_eq!(
        sync["requestBody"]["content"]["application/json"]["schema"]["$ref"],
        "#/components/schemas/SyncRequest"
    );
    for status in ["200", "400", "413", "415"] {
        assert!(sync["responses"][status].is_object(), "{status}");
    }
    let events = &paths["/api/events"]["get"];
    assert_eq!(
        events["responses"]["200"]["content"]["text/event-stream"]["schema"]["$ref"],
        "#/components/schemas/PlansEventMessage"
    );
    assert_eq!(events["parameters"][0]["name"], "tokens");
    let schemas = &doc["components"]["schemas"];
    assert_eq!(
        schemas["SyncEntry"]["properties"]["ops"]["items"]["$ref"],
        "#/components/schemas/Op"
    );
    assert_eq!(
        schemas["SyncRequest"]["properties"]["plans"]["maxItems"],
        100
    );
    for field in [
        "error",
        "push",
        "push_error",
        "ops",
        "cursor",
        "last_seq",
        "more",
    ] {
        assert!(
            schemas["SyncResult"]["properties"][field].is_object(),
            "{field}"
        );
    }
    assert_eq!(schemas["SyncResult"]["required"], json!(["plan"]));
    for name in ["PlanOpsEvent", "PlanClosedEvent", "EntryError"] {
        assert!(schemas[name].is_object(), "{name}");
    }
}
