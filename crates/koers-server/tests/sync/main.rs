//! Plan sharing and sync, exercised in-process (router + SQLite in a temp folder), one module per
//! resource of the API as in `src/controllers/`, plus one test that kills the real binary and
//! checks that acknowledged operations survive ([`durability`]).
//!
//! This file holds what the modules share: the server under test ([`TestApp`]), devices and the
//! plan they write in ([`Device`], [`World`]), the operations that found a plan
//! ([`founding_ops`]) and the requests a phone makes. Every request of the in-process tests goes
//! through one function, [`TestApp::respond`], so that the journeys can be pointed at a real
//! server over HTTP by changing that function alone.

#[path = "../common/mod.rs"]
mod common;

mod api;
mod devices;
mod durability;
mod events;
mod invites;
mod members;
mod ops;
mod plans;

use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use axum::response::Response;
use axum::Router;
use futures_util::StreamExt as _;
use koers_core::hlc::MAX_DRIFT_MILLIS;
use koers_core::permission::action_of;
use koers_core::*;
use koers_database::{Database as _, NewInvite};
use koers_database_sqlite::SqliteDatabase;
use koers_server::auth::hash_secret;
use serde_json::{json, Value};
use tower::ServiceExt as _;
use uuid::Uuid;

// ---------------------------------------------------------------------------------------------
// Helpers

/// The server under test: the app's router on a SQLite database in a temp folder, and that
/// database, for the checks that look at what was stored.
struct TestApp {
    router: Router,
    db: SqliteDatabase,
    dist: Arc<common::Dist>,
    data: Arc<tempfile::TempDir>,
    /// The signed-in professional's session ([`TestApp::session`]), shared by the servers of
    /// one database.
    session: Arc<tokio::sync::OnceCell<String>>,
}

fn test_app() -> TestApp {
    let dist = Arc::new(common::make_dist());
    let data = Arc::new(tempfile::tempdir().unwrap());
    let db = SqliteDatabase::open(&data.path().join("koers.sqlite3")).unwrap();
    TestApp::on(db, dist, data, Arc::default())
}

impl TestApp {
    fn on(
        db: SqliteDatabase,
        dist: Arc<common::Dist>,
        data: Arc<tempfile::TempDir>,
        session: Arc<tokio::sync::OnceCell<String>>,
    ) -> TestApp {
        let router =
            koers_server::app_router(dist.path(), &common::index_html(), Arc::new(db.clone()));
        TestApp {
            router,
            db,
            dist,
            data,
            session,
        }
    }

    /// A second server on the same database: it starts with no plan in memory (as after a
    /// restart) and must load each plan from the stored operations. The first keeps serving,
    /// as a second instance behind a load balancer would (without a bus between the two: what
    /// one stores, the other finds only through the database).
    fn second_server(&self) -> TestApp {
        TestApp::on(
            self.db.clone(),
            Arc::clone(&self.dist),
            Arc::clone(&self.data),
            Arc::clone(&self.session),
        )
    }

    /// The session token of a signed-in professional (the organisation's first administrator),
    /// who founds the plans: on the first call, the first start makes the administrator's link
    /// and the professional enrols with it through the API, with a software passkey.
    /// `POST /api/plans` with `body`, as this app's signed-in professional.
    async fn found(&self, body: Value) -> Reply {
        let session = self.session().await;
        self.call("POST", "/api/plans", Some(session), Some(body))
            .await
    }

    async fn session(&self) -> &str {
        self.session
            .get_or_init(|| async {
                let link = common::professional::first_link(&self.db).await;
                common::professional::enrol_async(&link, move |path, body| async move {
                    let reply = self.call("POST", path, None, Some(body)).await;
                    (reply.status.as_u16(), reply.json)
                })
                .await
                .session
            })
            .await
    }

    /// The one way a request reaches the server: [`TestApp::send`], [`TestApp::call`] and the
    /// event streams all go through here. The answer's body is not read, so an event stream can
    /// be followed as it comes.
    async fn respond(&self, request: Request<Body>) -> Response {
        self.router.clone().oneshot(request).await.unwrap()
    }

    /// Sends `request` and reads the whole answer (JSON, or nothing).
    async fn send(&self, request: Request<Body>) -> Reply {
        let response = self.respond(request).await;
        let status = response.status();
        let content_type = response
            .headers()
            .get(header::CONTENT_TYPE)
            .map(|v| v.to_str().unwrap().to_owned())
            .unwrap_or_default();
        let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
            .await
            .unwrap();
        let json = if bytes.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&bytes)
                .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&bytes)))
        };
        Reply {
            status,
            content_type,
            json,
        }
    }

    /// `method path`, with `token` as the bearer token and `body` as JSON.
    async fn call(
        &self,
        method: &str,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
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
        self.send(request.unwrap()).await
    }
}

fn now_millis() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_millis() as u64
}

fn new_id() -> Uuid {
    Uuid::new_v4()
}

/// A member writing on one registered device.
struct Device {
    plan: PlanId,
    member: MemberId,
    token: String,
    clock: Clock,
}

impl Device {
    fn new(plan: PlanId, member: MemberId, token: String) -> Self {
        Device {
            plan,
            member,
            token,
            clock: Clock::new(NodeId(rand_node())),
        }
    }

    /// An operation by this device's member, not checked locally (the server must check it).
    fn op(&mut self, entity: Entity, field: Field, value: Value) -> Op {
        raw_op(
            self.plan,
            self.member,
            &mut self.clock,
            entity,
            field,
            value,
        )
    }
}

fn rand_node() -> u64 {
    new_id().as_u64_pair().0
}

fn raw_op(
    plan: PlanId,
    author: MemberId,
    clock: &mut Clock,
    entity: Entity,
    field: Field,
    value: Value,
) -> Op {
    Op {
        id: OpId(new_id()),
        plan,
        hlc: clock.tick(now_millis()),
        author,
        entity,
        field,
        value,
        supersedes: None,
    }
}

struct Reply {
    status: StatusCode,
    content_type: String,
    json: Value,
}

/// Asserts the JSON error shape and code.
fn assert_error(reply: &Reply, status: StatusCode, code: &str) {
    assert_eq!(reply.status, status, "{}", reply.json);
    assert!(
        reply.content_type.starts_with("application/json"),
        "{}",
        reply.content_type
    );
    assert_eq!(reply.json["error"], code, "{}", reply.json);
    let message = reply.json["message"].as_str().unwrap();
    assert!(message.len() > 10 && message.ends_with('.'), "{message}");
    assert_eq!(reply.json.as_object().unwrap().len(), 2, "{}", reply.json);
}

async fn push(app: &TestApp, device: &Device, ops: &[Op]) -> Reply {
    app.call(
        "POST",
        &format!("/api/plans/{}/ops", device.plan),
        Some(&device.token),
        Some(json!({ "ops": ops })),
    )
    .await
}

async fn pull(app: &TestApp, device: &Device, after: i64, limit: u32) -> Reply {
    app.call(
        "GET",
        &format!("/api/plans/{}/ops?after={after}&limit={limit}", device.plan),
        Some(&device.token),
        None,
    )
    .await
}

async fn last_seq(app: &TestApp, plan: PlanId) -> i64 {
    app.db.head(plan).await.unwrap()
}

/// A plan created by a foster-care worker, with one member (and one goal) for every role.
struct World {
    plan: PlanId,
    worker: Device,
    members: Vec<(Role, MemberId)>,
    goals: Vec<(Role, GoalId)>,
}

impl World {
    fn member(&self, role: Role) -> MemberId {
        self.members.iter().find(|(r, _)| *r == role).unwrap().1
    }
    fn goal(&self, owner: Role) -> GoalId {
        self.goals.iter().find(|(r, _)| *r == owner).unwrap().1
    }
}

/// The operations that found a plan, and the members and goals they make.
struct Founding {
    ops: Vec<Op>,
    members: Vec<(Role, MemberId)>,
    goals: Vec<(Role, GoalId)>,
}

/// The operations that found a plan: the worker's own member first, everyone else, a goal per
/// role.
fn founding_ops(plan: PlanId, worker: MemberId, clock: &mut Clock) -> Founding {
    let mut ops = Vec::new();
    let mut set =
        |entity, field, value| ops.push(raw_op(plan, worker, clock, entity, field, value));
    set(
        Entity::Member(worker),
        Field::Role,
        json!("foster_care_worker"),
    );
    set(Entity::Member(worker), Field::Name, json!("Lotte"));
    set(Entity::Plan, Field::ChildName, json!("Noa"));
    let mut members = vec![(Role::FosterCareWorker, worker)];
    let mut goals = Vec::new();
    for role in Role::ALL {
        if role != Role::FosterCareWorker {
            let m = MemberId(new_id());
            set(Entity::Member(m), Field::Name, json!(format!("{role:?}")));
            set(Entity::Member(m), Field::Role, json!(role.key()));
            members.push((role, m));
        }
        let g = GoalId(new_id());
        set(
            Entity::Goal(g),
            Field::Title,
            json!(format!("Goal of {role:?}")),
        );
        set(Entity::Goal(g), Field::Owner, json!(role.key()));
        goals.push((role, g));
    }
    Founding {
        ops,
        members,
        goals,
    }
}

async fn create_world(app: &TestApp) -> World {
    let plan = PlanId(new_id());
    let worker_id = MemberId(new_id());
    let mut clock = Clock::new(NodeId(rand_node()));
    let Founding {
        ops,
        members,
        goals,
    } = founding_ops(plan, worker_id, &mut clock);
    let reply = app
        .found(json!({ "ops": ops, "device_name": "Lotte's laptop" }))
        .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.json);
    assert_eq!(reply.json["plan"], json!(plan));
    assert_eq!(reply.json["member"], json!(worker_id));
    assert!(reply.json["last_seq"].as_i64().unwrap() > 0);
    let token = reply.json["device_token"].as_str().unwrap().to_owned();
    assert!(token.len() >= 22, "at least 128 bits: {token}");
    let mut worker = Device::new(plan, worker_id, token);
    worker.clock = clock;
    World {
        plan,
        worker,
        members,
        goals,
    }
}

async fn invite(app: &TestApp, by: &Device, member: MemberId, days: Option<u32>) -> Reply {
    let body = match days {
        Some(days) => json!({ "member": member, "days": days }),
        None => json!({ "member": member }),
    };
    app.call(
        "POST",
        &format!("/api/plans/{}/invites", by.plan),
        Some(&by.token),
        Some(body),
    )
    .await
}

async fn accept(app: &TestApp, code: &str) -> Reply {
    app.call(
        "POST",
        "/api/invites/accept",
        None,
        Some(json!({ "code": code, "device_name": "phone" })),
    )
    .await
}

/// Invites `member` and accepts the invite: the member's new device.
async fn join(app: &TestApp, world: &World, role: Role) -> Device {
    let member = world.member(role);
    let reply = invite(app, &world.worker, member, None).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.json);
    assert_eq!(reply.json["role"], role.key());
    let code = reply.json["code"].as_str().unwrap().to_owned();
    assert!(code.len() >= 22, "at least 128 bits: {code}");
    let reply = accept(app, &code).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.json);
    assert_eq!(reply.json["plan"], json!(world.plan));
    assert_eq!(reply.json["member"], json!(member));
    assert_eq!(reply.json["role"], role.key());
    Device::new(
        world.plan,
        member,
        reply.json["device_token"].as_str().unwrap().to_owned(),
    )
}

fn pulled_ops(reply: &Reply) -> Vec<(i64, Op)> {
    reply.json["ops"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| {
            (
                o["seq"].as_i64().unwrap(),
                serde_json::from_value(o["op"].clone()).unwrap(),
            )
        })
        .collect()
}

/// Reads one server-sent event (up to its blank line).
async fn next_event(body: &mut axum::body::BodyDataStream) -> String {
    let mut text = String::new();
    while !text.ends_with("\n\n") {
        let chunk = tokio::time::timeout(Duration::from_secs(60), body.next())
            .await
            .expect("an event within 60 s")
            .expect("the stream stays open")
            .unwrap();
        text.push_str(std::str::from_utf8(&chunk).unwrap());
    }
    text
}
