//! Plan sharing and sync, exercised in-process (router + SQLite in a temp folder), plus one test
//! that kills the real binary and checks that acknowledged operations survive.

mod common;

use std::io::{Read as _, Write as _};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use axum::Router;
use futures_util::StreamExt as _;
use koers_core::hlc::MAX_DRIFT_MILLIS;
use koers_core::permission::action_of;
use koers_core::*;
use koers_server::auth::{format_time, hash_secret};
use koers_server::store::{NewInvite, SqliteStore, Store as _};
use serde_json::{json, Value};
use tower::ServiceExt as _;
use uuid::Uuid;

// ---------------------------------------------------------------------------------------------
// Helpers

struct TestApp {
    router: Router,
    store: SqliteStore,
    _dist: common::Dist,
    _data: tempfile::TempDir,
}

fn test_app() -> TestApp {
    let dist = common::make_dist();
    let data = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(&data.path().join("koers.sqlite3")).unwrap();
    let router =
        koers_server::app_router(dist.path(), &common::index_html(), Arc::new(store.clone()));
    TestApp {
        router,
        store,
        _dist: dist,
        _data: data,
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

async fn send(router: &Router, request: Request<Body>) -> Reply {
    let response = router.clone().oneshot(request).await.unwrap();
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

async fn call(
    router: &Router,
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
    send(router, request.unwrap()).await
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
    call(
        &app.router,
        "POST",
        &format!("/api/plans/{}/ops", device.plan),
        Some(&device.token),
        Some(json!({ "ops": ops })),
    )
    .await
}

async fn pull(app: &TestApp, device: &Device, after: i64, limit: u32) -> Reply {
    call(
        &app.router,
        "GET",
        &format!("/api/plans/{}/ops?after={after}&limit={limit}", device.plan),
        Some(&device.token),
        None,
    )
    .await
}

async fn last_seq(app: &TestApp, plan: PlanId) -> i64 {
    app.store.last_seq(&plan.to_string()).await.unwrap()
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
    let reply = call(
        &app.router,
        "POST",
        "/api/plans",
        None,
        Some(json!({ "ops": ops, "device_name": "Lotte's laptop" })),
    )
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
    call(
        &app.router,
        "POST",
        &format!("/api/plans/{}/invites", by.plan),
        Some(&by.token),
        Some(body),
    )
    .await
}

async fn accept(app: &TestApp, code: &str) -> Reply {
    call(
        &app.router,
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

// ---------------------------------------------------------------------------------------------
// Tests

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
        let reply = call(
            &app.router,
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
        let reply = call(&app.router, method, &path, Some(&a.worker.token), body).await;
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
    let reply = call(
        &app.router,
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
async fn revoked_and_unknown_tokens_get_401() {
    let app = test_app();
    let world = create_world(&app).await;
    let parent = join(&app, &world, Role::Parent).await;
    let foster = join(&app, &world, Role::FosterParent).await;
    let devices_path = format!("/api/plans/{}/devices", world.plan);

    let reply = call(&app.router, "GET", &devices_path, Some(&parent.token), None).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.json);
    let list = reply.json["devices"].as_array().unwrap().clone();
    assert_eq!(list.len(), 3);
    let parent_device = list
        .iter()
        .find(|d| d["member"] == json!(parent.member))
        .unwrap();
    assert_eq!(parent_device["role"], "parent");
    assert_eq!(parent_device["revoked"], false);
    assert!(parent_device["last_seen_at"].is_string(), "{parent_device}");
    let parent_device_id = parent_device["device"].as_str().unwrap().to_owned();

    // Only the worker may revoke.
    let path = format!("{devices_path}/{parent_device_id}");
    let reply = call(&app.router, "DELETE", &path, Some(&foster.token), None).await;
    assert_error(&reply, StatusCode::FORBIDDEN, "not_allowed");
    let reply = call(
        &app.router,
        "DELETE",
        &path,
        Some(&world.worker.token),
        None,
    )
    .await;
    assert_eq!(reply.status, StatusCode::NO_CONTENT);
    let reply = call(
        &app.router,
        "DELETE",
        &format!("{devices_path}/nope"),
        Some(&world.worker.token),
        None,
    )
    .await;
    assert_error(&reply, StatusCode::NOT_FOUND, "device_unknown");

    let reply = pull(&app, &parent, 0, 10).await;
    assert_error(&reply, StatusCode::UNAUTHORIZED, "device_revoked");
    let reply = push(&app, &parent, &[]).await;
    assert_error(&reply, StatusCode::UNAUTHORIZED, "device_revoked");
    let reply = call(
        &app.router,
        "GET",
        &devices_path,
        Some("made-up-token"),
        None,
    )
    .await;
    assert_error(&reply, StatusCode::UNAUTHORIZED, "token_unknown");
    let reply = call(&app.router, "GET", &devices_path, None, None).await;
    assert_error(&reply, StatusCode::UNAUTHORIZED, "token_missing");

    // The list shows the revocation; the others keep working.
    let reply = call(&app.router, "GET", &devices_path, Some(&foster.token), None).await;
    let revoked = reply.json["devices"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["device"] == json!(parent_device_id))
        .unwrap()
        .clone();
    assert_eq!(revoked["revoked"], true);
    assert!(revoked["revoked_at"].is_string());
    assert_eq!(pull(&app, &foster, 0, 10).await.status, StatusCode::OK);
}

#[tokio::test]
async fn any_phone_signs_itself_out_but_only_the_worker_signs_out_others() {
    let app = test_app();
    let world = create_world(&app).await;
    let parent = join(&app, &world, Role::Parent).await;
    let foster = join(&app, &world, Role::FosterParent).await;
    let devices_path = format!("/api/plans/{}/devices", world.plan);

    let reply = call(
        &app.router,
        "DELETE",
        &format!("{devices_path}/me"),
        Some(&parent.token),
        None,
    )
    .await;
    assert_eq!(reply.status, StatusCode::NO_CONTENT, "{}", reply.json);
    assert_error(
        &pull(&app, &parent, 0, 10).await,
        StatusCode::UNAUTHORIZED,
        "device_revoked",
    );
    // The foster parent's phone is untouched, and cannot sign out the worker's.
    assert_eq!(pull(&app, &foster, 0, 10).await.status, StatusCode::OK);
    let reply = call(&app.router, "GET", &devices_path, Some(&foster.token), None).await;
    let list = reply.json["devices"].as_array().unwrap().clone();
    let worker_device = list
        .iter()
        .find(|d| d["member"] == json!(world.worker.member))
        .unwrap();
    let path = format!(
        "{devices_path}/{}",
        worker_device["device"].as_str().unwrap()
    );
    let reply = call(&app.router, "DELETE", &path, Some(&foster.token), None).await;
    assert_error(&reply, StatusCode::FORBIDDEN, "not_allowed");
    let revoked: Vec<_> = list
        .iter()
        .filter(|d| d["revoked"] == true)
        .map(|d| d["member"].clone())
        .collect();
    assert_eq!(revoked, [json!(parent.member)]);
}

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

#[tokio::test]
async fn invites_are_single_use_expire_and_can_be_revoked() {
    let app = test_app();
    let world = create_world(&app).await;
    let parent_member = world.member(Role::Parent);
    let youth_member = world.member(Role::Youth);
    let invites_path = format!("/api/plans/{}/invites", world.plan);

    // Used.
    let code = invite(&app, &world.worker, parent_member, Some(1))
        .await
        .json["code"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(accept(&app, &code).await.status, StatusCode::CREATED);
    assert_error(&accept(&app, &code).await, StatusCode::GONE, "invite_used");

    // Revoked.
    let reply = invite(&app, &world.worker, youth_member, None).await;
    let (code, id) = (
        reply.json["code"].as_str().unwrap().to_owned(),
        reply.json["invite"].as_str().unwrap().to_owned(),
    );
    let reply = call(
        &app.router,
        "DELETE",
        &format!("{invites_path}/{id}"),
        Some(&world.worker.token),
        None,
    )
    .await;
    assert_eq!(reply.status, StatusCode::NO_CONTENT);
    assert_error(
        &accept(&app, &code).await,
        StatusCode::GONE,
        "invite_revoked",
    );
    let reply = call(
        &app.router,
        "DELETE",
        &format!("{invites_path}/nope"),
        Some(&world.worker.token),
        None,
    )
    .await;
    assert_error(&reply, StatusCode::NOT_FOUND, "invite_unknown");

    // Expired (written straight to the store, dated in the past).
    let expired_code = "expired-invite-code-0123456789";
    let past = format_time(chrono::Utc::now() - chrono::Duration::hours(1));
    app.store
        .create_invite(
            &NewInvite {
                invite_id: new_id().to_string(),
                code_hash: hash_secret(expired_code),
                plan_id: world.plan.to_string(),
                member_id: youth_member.to_string(),
                role: "youth".into(),
                expires_at: past.clone(),
                created_by: world.worker.member.to_string(),
            },
            &past,
        )
        .await
        .unwrap();
    assert_error(
        &accept(&app, expired_code).await,
        StatusCode::GONE,
        "invite_expired",
    );
    assert_error(
        &accept(&app, "no-such-code").await,
        StatusCode::NOT_FOUND,
        "invite_unknown",
    );

    // The list has no codes, and the statuses.
    let reply = call(
        &app.router,
        "GET",
        &invites_path,
        Some(&world.worker.token),
        None,
    )
    .await;
    assert_eq!(reply.status, StatusCode::OK);
    let statuses: Vec<&str> = reply.json["invites"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| {
            assert!(i.get("code").is_none(), "{i}");
            i["status"].as_str().unwrap()
        })
        .collect();
    assert_eq!(statuses.len(), 3);
    for status in ["used", "revoked", "expired"] {
        assert!(statuses.contains(&status), "{statuses:?}");
    }

    // Limits: days, unknown members, and only the worker invites.
    for days in [0, 61] {
        let reply = invite(&app, &world.worker, parent_member, Some(days)).await;
        assert_error(&reply, StatusCode::BAD_REQUEST, "invalid_days");
    }
    let reply = invite(&app, &world.worker, MemberId(new_id()), None).await;
    assert_error(&reply, StatusCode::NOT_FOUND, "member_unknown");
    let reply = invite(&app, &world.worker, parent_member, Some(60)).await;
    assert_eq!(reply.status, StatusCode::CREATED);
    let guardian = join(&app, &world, Role::Guardian).await;
    assert_error(
        &invite(&app, &guardian, parent_member, None).await,
        StatusCode::FORBIDDEN,
        "not_allowed",
    );
    let reply = call(
        &app.router,
        "GET",
        &invites_path,
        Some(&guardian.token),
        None,
    )
    .await;
    assert_error(&reply, StatusCode::FORBIDDEN, "not_allowed");
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
    let reply = call(
        &app.router,
        "POST",
        "/api/plans",
        None,
        Some(json!({ "ops": ops })),
    )
    .await;
    assert_error(&reply, StatusCode::BAD_REQUEST, "clock_ahead");
}

#[tokio::test]
async fn founding_a_plan_has_rules() {
    let app = test_app();
    let world = create_world(&app).await;
    let mut clock = Clock::new(NodeId(5));

    // The same plan id again.
    let mut ops = founding_ops(world.plan, MemberId(new_id()), &mut clock).ops;
    let reply = call(
        &app.router,
        "POST",
        "/api/plans",
        None,
        Some(json!({ "ops": ops })),
    )
    .await;
    assert_error(&reply, StatusCode::CONFLICT, "plan_exists");

    // No founder member with role foster_care_worker.
    let plan = PlanId(new_id());
    let founding = founding_ops(plan, MemberId(new_id()), &mut clock).ops;
    let reply = call(
        &app.router,
        "POST",
        "/api/plans",
        None,
        Some(json!({ "ops": founding[1..] })),
    )
    .await;
    assert_error(&reply, StatusCode::BAD_REQUEST, "no_founder");
    ops = founding.clone();
    ops[0].value = json!("parent");
    let reply = call(
        &app.router,
        "POST",
        "/api/plans",
        None,
        Some(json!({ "ops": ops })),
    )
    .await;
    assert_error(&reply, StatusCode::BAD_REQUEST, "no_founder");

    // Two authors.
    ops = founding.clone();
    ops[2].author = MemberId(new_id());
    let reply = call(
        &app.router,
        "POST",
        "/api/plans",
        None,
        Some(json!({ "ops": ops })),
    )
    .await;
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
    let reply = call(
        &app.router,
        "POST",
        "/api/plans",
        None,
        Some(json!({ "ops": ops })),
    )
    .await;
    assert_error(&reply, StatusCode::UNPROCESSABLE_ENTITY, "refused");
    assert_eq!(last_seq(&app, plan).await, 0);
    assert!(!app.store.plan_exists(&plan.to_string()).await.unwrap());

    // Empty.
    let reply = call(
        &app.router,
        "POST",
        "/api/plans",
        None,
        Some(json!({ "ops": [] })),
    )
    .await;
    assert_error(&reply, StatusCode::BAD_REQUEST, "no_ops");

    // The valid batch still works afterwards (members first, whatever the order sent).
    let mut reordered = founding.clone();
    reordered.reverse();
    let reply = call(
        &app.router,
        "POST",
        "/api/plans",
        None,
        Some(json!({ "ops": reordered })),
    )
    .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.json);
}

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
        let reply = send(&app.router, req).await;
        assert_eq!(reply.status, status, "{name}: {}", reply.json);
        assert_error(&reply, status, code);
        assert_eq!(
            last_seq(&app, world.plan).await,
            before,
            "{name}: nothing stored"
        );
        let health = call(&app.router, "GET", "/healthz", None, None).await;
        assert_eq!(health.status, StatusCode::OK, "{name}: still serving");
    }
    // Plan creation and invite acceptance reject the same way.
    let reply = send(
        &app.router,
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
    let reply = send(
        &app.router,
        Request::builder()
            .method("POST")
            .uri("/api/plans")
            .body(Body::from("{}"))
            .unwrap(),
    )
    .await;
    assert_error(
        &reply,
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        "wrong_content_type",
    );
    let reply = call(&app.router, "GET", "/api/nothing-here", None, None).await;
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

#[tokio::test]
async fn the_event_stream_announces_new_operations() {
    let app = test_app();
    let world = create_world(&app).await;
    let mut foster = join(&app, &world, Role::FosterParent).await;
    let parent = join(&app, &world, Role::Parent).await;
    let response = app
        .router
        .clone()
        .oneshot(
            Request::builder()
                .uri(format!("/api/plans/{}/events", world.plan))
                .header(header::AUTHORIZATION, format!("Bearer {}", parent.token))
                .body(Body::empty())
                .unwrap(),
        )
        .await
        .unwrap();
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
    let devices = call(
        &app.router,
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
    let reply = call(
        &app.router,
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
    let reply = call(
        &app.router,
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
        .router
        .clone()
        .oneshot(
            Request::builder()
                .uri(format!("/api/plans/{}/events", world.plan))
                .header(
                    header::AUTHORIZATION,
                    format!("Bearer {}", world.worker.token),
                )
                .body(Body::empty())
                .unwrap(),
        )
        .await
        .unwrap();
    let mut body = response.into_body().into_data_stream();
    assert!(next_event(&mut body).await.starts_with("event: ops\n"));
    // Time is paused: the runtime jumps to the next timer, the keep-alive.
    let start = tokio::time::Instant::now();
    assert_eq!(next_event(&mut body).await, ": keep-alive\n\n");
    let waited = start.elapsed();
    assert!(
        waited >= koers_server::sync::KEEP_ALIVE && waited < Duration::from_secs(20),
        "{waited:?}"
    );
    assert_eq!(next_event(&mut body).await, ": keep-alive\n\n");
}

#[tokio::test]
async fn the_openapi_document_lists_the_endpoints() {
    let app = test_app();
    let reply = call(&app.router, "GET", "/api/openapi.json", None, None).await;
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

#[tokio::test]
async fn the_plan_state_is_rebuilt_from_the_store() {
    // A second router on the same database starts with an empty cache: authorization must load
    // the plan from the stored ops.
    let app = test_app();
    let world = create_world(&app).await;
    let mut foster = join(&app, &world, Role::FosterParent).await;
    let fresh = koers_server::app_router(
        app._dist.path(),
        &common::index_html(),
        Arc::new(app.store.clone()),
    );
    let ok = foster.op(
        Entity::ContactMoment(ContactMomentId(new_id())),
        Field::At,
        json!("2026-03-01T14:00:00"),
    );
    let not_allowed = foster.op(Entity::Decision, Field::Outcome, json!("home"));
    let reply = call(
        &fresh,
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

// ---------------------------------------------------------------------------------------------
// Durability: the real binary, killed with SIGKILL.

const BIN: &str = env!("CARGO_BIN_EXE_koers-server");

struct Server {
    child: Child,
    addr: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start_server(data: &std::path::Path, dist: &std::path::Path) -> Server {
    let mut child = Command::new(BIN)
        .env("KOERS_ADDR", "127.0.0.1:0")
        .env("KOERS_DATA", data)
        .env("KOERS_DIST", dist)
        .env("KOERS_LOG", "warn")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let (_, addr) = common::startup_line(&mut child);
    Server { child, addr }
}

/// One HTTP/1.1 request over a fresh connection: (status, JSON body).
fn http(
    addr: &str,
    method: &str,
    path: &str,
    token: Option<&str>,
    body: Option<&Value>,
) -> (u16, Value) {
    let mut stream = TcpStream::connect(addr).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(20)))
        .unwrap();
    let body = body.map(|b| b.to_string()).unwrap_or_default();
    let mut head = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nContent-Length: {}\r\n",
        body.len()
    );
    if !body.is_empty() {
        head.push_str("Content-Type: application/json\r\n");
    }
    if let Some(token) = token {
        head.push_str(&format!("Authorization: Bearer {token}\r\n"));
    }
    head.push_str("\r\n");
    stream.write_all(head.as_bytes()).unwrap();
    stream.write_all(body.as_bytes()).unwrap();
    let mut reply = Vec::new();
    stream.read_to_end(&mut reply).unwrap();
    let split = reply.windows(4).position(|w| w == b"\r\n\r\n").unwrap();
    let head = String::from_utf8_lossy(&reply[..split]).to_ascii_lowercase();
    let mut payload = reply[split + 4..].to_vec();
    if head.contains("transfer-encoding: chunked") {
        let mut out = Vec::new();
        let mut rest = &payload[..];
        loop {
            let line_end = rest.windows(2).position(|w| w == b"\r\n").unwrap();
            let size =
                usize::from_str_radix(std::str::from_utf8(&rest[..line_end]).unwrap().trim(), 16)
                    .unwrap();
            if size == 0 {
                break;
            }
            out.extend_from_slice(&rest[line_end + 2..line_end + 2 + size]);
            rest = &rest[line_end + 2 + size + 2..];
        }
        payload = out;
    }
    let status: u16 = head.split(' ').nth(1).unwrap().parse().unwrap();
    let json = if payload.is_empty() {
        Value::Null
    } else {
        serde_json::from_slice(&payload).unwrap()
    };
    (status, json)
}

#[test]
fn acknowledged_operations_survive_sigkill() {
    let dist = common::make_dist();
    let data = tempfile::tempdir().unwrap();
    let server = start_server(data.path(), dist.path());

    let plan = PlanId(new_id());
    let worker = MemberId(new_id());
    let mut clock = Clock::new(NodeId(11));
    let founding = founding_ops(plan, worker, &mut clock).ops;
    let (status, created) = http(
        &server.addr,
        "POST",
        "/api/plans",
        None,
        Some(&json!({ "ops": founding })),
    );
    assert_eq!(status, 201, "{created}");
    let token = created["device_token"].as_str().unwrap().to_owned();
    let mut acknowledged: Vec<(OpId, i64)> = founding.iter().map(|op| (op.id, 0)).collect();
    let ops_path = format!("/api/plans/{plan}/ops");
    for i in 0..40 {
        let batch: Vec<Op> = (0..3)
            .map(|j| {
                raw_op(
                    plan,
                    worker,
                    &mut clock,
                    Entity::NetworkPerson(NetworkPersonId(new_id())),
                    Field::Name,
                    json!(format!("Persoon {i}.{j}")),
                )
            })
            .collect();
        let (status, reply) = http(
            &server.addr,
            "POST",
            &ops_path,
            Some(&token),
            Some(&json!({ "ops": batch })),
        );
        assert_eq!(status, 200, "{reply}");
        for a in reply["accepted"].as_array().unwrap() {
            acknowledged.push((
                serde_json::from_value(a["op"].clone()).unwrap(),
                a["seq"].as_i64().unwrap(),
            ));
        }
    }
    assert_eq!(acknowledged.len(), founding.len() + 120);

    // SIGKILL: no shutdown, no flush.
    drop(server);
    let server = start_server(data.path(), dist.path());
    let mut stored = std::collections::HashMap::new();
    let mut after = 0;
    loop {
        let (status, reply) = http(
            &server.addr,
            "GET",
            &format!("{ops_path}?after={after}&limit=50"),
            Some(&token),
            None,
        );
        assert_eq!(status, 200, "{reply}");
        for o in reply["ops"].as_array().unwrap() {
            let op: Op = serde_json::from_value(o["op"].clone()).unwrap();
            after = o["seq"].as_i64().unwrap();
            stored.insert(op.id, after);
        }
        if reply["more"] == false {
            break;
        }
    }
    for (id, seq) in &acknowledged {
        let found = stored
            .get(id)
            .unwrap_or_else(|| panic!("acknowledged op {id} lost"));
        if *seq != 0 {
            assert_eq!(found, seq);
        }
    }
    // The restarted server rebuilds the plan and still authorizes.
    let op = raw_op(
        plan,
        worker,
        &mut clock,
        Entity::Plan,
        Field::ChildName,
        json!("Noa"),
    );
    let (status, reply) = http(
        &server.addr,
        "POST",
        &ops_path,
        Some(&token),
        Some(&json!({ "ops": [op] })),
    );
    assert_eq!(status, 200);
    assert_eq!(reply["accepted"].as_array().unwrap().len(), 1, "{reply}");
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

#[tokio::test]
async fn only_the_event_stream_takes_the_token_in_the_query() {
    let app = test_app();
    let world = create_world(&app).await;
    let parent = join(&app, &world, Role::Parent).await;
    let get = |uri: String| {
        app.router
            .clone()
            .oneshot(Request::builder().uri(uri).body(Body::empty()).unwrap())
    };
    let events = get(format!(
        "/api/plans/{}/events?access_token={}",
        world.plan, parent.token
    ))
    .await
    .unwrap();
    assert_eq!(events.status(), StatusCode::OK);
    let ops = get(format!(
        "/api/plans/{}/ops?access_token={}",
        world.plan, parent.token
    ))
    .await
    .unwrap();
    assert_eq!(ops.status(), StatusCode::UNAUTHORIZED);
    let wrong = get(format!(
        "/api/plans/{}/events?access_token=nope",
        world.plan
    ))
    .await
    .unwrap();
    assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn an_invite_with_a_link_base_gets_a_link_and_a_qr_code() {
    let app = test_app();
    let world = create_world(&app).await;
    let member = world.member(Role::Parent);
    let path = format!("/api/plans/{}/invites", world.plan);
    let base = "https://koers.example/uitnodiging#";
    let reply = call(
        &app.router,
        "POST",
        &path,
        Some(&world.worker.token),
        Some(json!({ "member": member, "link_base": base })),
    )
    .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.json);
    let code = reply.json["code"].as_str().unwrap();
    assert_eq!(reply.json["link"], format!("{base}{code}"));
    let svg = reply.json["qr_svg"].as_str().unwrap();
    assert!(
        svg.starts_with("<?xml") || svg.starts_with("<svg"),
        "{}",
        &svg[..svg.len().min(80)]
    );
    assert!(svg.contains("<svg") && svg.trim_end().ends_with("</svg>"));
    assert!(svg.contains("#1b2529"), "dark colour");
    let width: u32 = svg
        .split("width=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .and_then(|w| w.parse().ok())
        .unwrap();
    assert!(width >= 200, "at least 200 px wide: {width}");
    // The code in the link works.
    let joined = accept(&app, code).await;
    assert_eq!(joined.status, StatusCode::CREATED, "{}", joined.json);

    // Without a link base: neither field.
    let reply = invite(&app, &world.worker, member, None).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.json);
    assert!(reply.json.get("link").is_none() && reply.json.get("qr_svg").is_none());

    // Bad link bases: 400 with a JSON error, and no invite stored.
    let listed = |reply: &Reply| reply.json["invites"].as_array().unwrap().len();
    let before = listed(&call(&app.router, "GET", &path, Some(&world.worker.token), None).await);
    let too_long = format!("https://koers.example/{}#", "a".repeat(200));
    for bad in [
        "ftp://koers.example/#",
        "koers.example/uitnodiging#",
        "javascript:alert(1)//",
        "https://koers.example/ uitnodiging#",
        "",
        too_long.as_str(),
    ] {
        let reply = call(
            &app.router,
            "POST",
            &path,
            Some(&world.worker.token),
            Some(json!({ "member": member, "link_base": bad })),
        )
        .await;
        assert_error(&reply, StatusCode::BAD_REQUEST, "invalid_link_base");
    }
    let after = listed(&call(&app.router, "GET", &path, Some(&world.worker.token), None).await);
    assert_eq!(before, after);
}

// ---------------------------------------------------------------------------------------------
// Issue 10: nothing is lost. Pull follows a cursor from one snapshot, a reused op id with other
// content is refused, a removed member is shut out whatever state the revocation is in, and
// timestamps are refused only before the plan or at the counter limit.

/// Runs SQL on the test database through a second connection (triggers that make the server's
/// own updates fail or do nothing, to show what happens when a revocation goes wrong).
fn sql(app: &TestApp, statements: &str) {
    let conn = rusqlite::Connection::open(app._data.path().join("koers.sqlite3")).unwrap();
    conn.execute_batch(statements).unwrap();
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
    let fresh_router = koers_server::app_router(
        app._dist.path(),
        &common::index_html(),
        Arc::new(app.store.clone()),
    );
    let path = format!("/api/plans/{}/ops", world.plan);
    let token = Some(foster.token.as_str());
    let reply = call(
        &fresh_router,
        "POST",
        &path,
        token,
        Some(json!({ "ops": [original] })),
    )
    .await;
    assert_eq!(reply.json["accepted"][0]["seq"], seq, "{}", reply.json);
    let reply = call(
        &fresh_router,
        "POST",
        &path,
        token,
        Some(json!({ "ops": [other] })),
    )
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
async fn a_founding_batch_with_one_id_for_two_bodies_is_refused() {
    let app = test_app();
    let plan = PlanId(new_id());
    let mut clock = Clock::new(NodeId(rand_node()));
    let mut ops = founding_ops(plan, MemberId(new_id()), &mut clock).ops;
    let mut twin = ops[2].clone();
    twin.value = json!("Sam");
    ops.push(twin);
    let reply = call(
        &app.router,
        "POST",
        "/api/plans",
        None,
        Some(json!({ "ops": ops })),
    )
    .await;
    assert_error(&reply, StatusCode::CONFLICT, "op_id_reused");
    assert!(!app.store.plan_exists(&plan.to_string()).await.unwrap());
}

/// The device id of `device` in the plan's device list.
async fn device_id(app: &TestApp, world: &World, device: &Device) -> String {
    let reply = call(
        &app.router,
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
        .router
        .clone()
        .oneshot(
            Request::builder()
                .uri(format!("/api/plans/{}/events", device.plan))
                .header(header::AUTHORIZATION, format!("Bearer {}", device.token))
                .body(Body::empty())
                .unwrap(),
        )
        .await
        .unwrap();
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
    let rows = app.store.devices(&world.plan.to_string()).await.unwrap();
    let row = rows.iter().find(|d| d.device_id == parent_device).unwrap();
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
        let reply = call(&app.router, method, &path, Some(&parent.token), None).await;
        assert_error(&reply, StatusCode::UNAUTHORIZED, "member_removed");
    }
    let reply = call(
        &app.router,
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
    let fresh = koers_server::app_router(
        app._dist.path(),
        &common::index_html(),
        Arc::new(app.store.clone()),
    );
    let reply = call(
        &fresh,
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
    let plan = world.plan.to_string();
    let devices = app.store.devices(&plan).await.unwrap();
    let parents: Vec<_> = devices
        .iter()
        .filter(|d| d.member_id == parent.member.to_string())
        .collect();
    assert!(!parents.is_empty() && parents.iter().all(|d| d.revoked_at.is_some()));
    let invites = app.store.invites(&plan).await.unwrap();
    assert!(invites
        .iter()
        .filter(|i| i.member_id == parent.member.to_string() && i.used_at.is_none())
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
    let reply = call(
        &app.router,
        "POST",
        "/api/plans",
        None,
        Some(json!({ "ops": ops })),
    )
    .await;
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
    let fresh = koers_server::app_router(
        app._dist.path(),
        &common::index_html(),
        Arc::new(app.store.clone()),
    );
    let again = dated(&mut worker, founded - 1, 0);
    let reply = call(
        &fresh,
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
    let reply = call(
        &app.router,
        "POST",
        "/api/plans",
        None,
        Some(json!({ "ops": ops })),
    )
    .await;
    assert_error(&reply, StatusCode::BAD_REQUEST, "hlc_counter_limit");
}
