//! Organisations and professionals, through the HTTP API in-process: the first administrator
//! from the first start's link, enrolment links, passkey sign-in on a new phone, sessions,
//! deactivation, hand-over, the access log, rate limits, and the authorization matrix
//! ([`matrix`]). Passkeys are answered by `common::passkey::SoftPasskey`, which signs as a
//! browser's authenticator does; the server checks them with webauthn-rs as it would a phone's.

#[path = "../common/mod.rs"]
mod common;
mod matrix;

use std::sync::Arc;

use axum::body::Body;
use axum::http::{header, HeaderMap, Request, StatusCode};
use axum::Router;
use serde_json::{json, Value};
use tower::ServiceExt as _;

use common::passkey::SoftPasskey;
use koers_database::{Database, NewSession, SessionId};
use koers_database_sqlite::SqliteDatabase;
use koers_server::limits::LimitsConfig;
use koers_server::Site;

/// The origin of `Site::local()`, which in-process routers serve.
pub const ORIGIN: &str = "http://localhost:8080";

pub struct App {
    pub router: Router,
    pub db: SqliteDatabase,
    dist: Arc<common::Dist>,
    data: Arc<tempfile::TempDir>,
}

pub struct Reply {
    pub status: StatusCode,
    pub json: Value,
    pub headers: HeaderMap,
}

impl std::fmt::Debug for Reply {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}", self.status, self.json)
    }
}

impl Reply {
    #[track_caller]
    pub fn is(&self, status: StatusCode, code: &str) {
        assert_eq!(
            (self.status, self.json["error"].as_str().unwrap_or("")),
            (status, code),
            "{self:?}"
        );
    }
}

/// Limits that the tests of other things never reach.
fn roomy() -> LimitsConfig {
    LimitsConfig {
        attempts_per_address: 10_000,
        attempts_per_account: 10_000,
        ..LimitsConfig::default()
    }
}

impl Default for App {
    fn default() -> Self {
        App::new()
    }
}

impl App {
    pub fn new() -> App {
        App::with_limits(roomy())
    }

    pub fn with_limits(limits: LimitsConfig) -> App {
        let dist = Arc::new(common::make_dist());
        let data = Arc::new(tempfile::tempdir().unwrap());
        let db = SqliteDatabase::open(&data.path().join("koers.sqlite3")).unwrap();
        App::on(db, dist, data, limits)
    }

    fn on(
        db: SqliteDatabase,
        dist: Arc<common::Dist>,
        data: Arc<tempfile::TempDir>,
        limits: LimitsConfig,
    ) -> App {
        let router = koers_server::app_router_with_limits(
            dist.path(),
            &common::index_html(),
            Arc::new(db.clone()),
            limits,
        );
        App {
            router,
            db,
            dist,
            data,
        }
    }

    /// Another instance on the same database (nothing shared in memory).
    pub fn second_instance(&self) -> App {
        App::on(
            self.db.clone(),
            Arc::clone(&self.dist),
            Arc::clone(&self.data),
            roomy(),
        )
    }

    pub async fn call(
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
        }
        .unwrap();
        let response = self.router.clone().oneshot(request).await.unwrap();
        let status = response.status();
        let headers = response.headers().clone();
        let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
            .await
            .unwrap();
        let json = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        Reply {
            status,
            json,
            headers,
        }
    }

    /// The first start's link for the first administrator: its code.
    pub async fn first_link(&self) -> String {
        let link = koers_server::first_start(&self.db, &Site::local())
            .await
            .unwrap()
            .expect("a first start without accounts gives a link");
        assert!(
            link.starts_with("http://localhost:8080/inschrijven#"),
            "{link}"
        );
        link.split_once('#').unwrap().1.to_owned()
    }
}

/// A professional signed in on one phone.
pub struct Pro {
    pub token: String,
    pub account: String,
    pub passkey: SoftPasskey,
}

/// Enrols with `code`: starts, answers with a new passkey, finishes.
pub async fn try_enrol(app: &App, code: &str) -> Result<Pro, Reply> {
    let start = app
        .call(
            "POST",
            "/api/enrolments/start",
            None,
            Some(json!({ "code": code })),
        )
        .await;
    if start.status != StatusCode::OK {
        return Err(start);
    }
    let (passkey, credential) = SoftPasskey::register(&start.json["options"].to_string(), ORIGIN);
    let finish = app
        .call(
            "POST",
            "/api/enrolments/finish",
            None,
            Some(json!({ "ceremony": start.json["ceremony"], "credential": serde_json::from_str::<Value>(&credential).unwrap() })),
        )
        .await;
    if finish.status != StatusCode::CREATED {
        return Err(finish);
    }
    Ok(Pro {
        token: finish.json["session_token"].as_str().unwrap().to_owned(),
        account: finish.json["account"]["account"]
            .as_str()
            .unwrap()
            .to_owned(),
        passkey,
    })
}

pub async fn enrol(app: &App, code: &str) -> Pro {
    try_enrol(app, code).await.unwrap()
}

/// The first administrator, from the first start's link.
pub async fn first_admin(app: &App) -> Pro {
    let code = app.first_link().await;
    enrol(app, &code).await
}

/// An administrator's invitation: the code of the link.
pub async fn invite_professional(app: &App, admin: &Pro, name: &str, is_admin: bool) -> String {
    let reply = app
        .call(
            "POST",
            "/api/organisation/enrolments",
            Some(&admin.token),
            Some(json!({ "name": name, "admin": is_admin })),
        )
        .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{reply:?}");
    let link = reply.json["link"].as_str().unwrap();
    assert_eq!(
        link.split_once('#').unwrap().1,
        reply.json["code"].as_str().unwrap()
    );
    reply.json["code"].as_str().unwrap().to_owned()
}

/// Another organisation on the same server (`koers-server add-organisation`): its first
/// administrator, enrolled.
pub async fn other_organisation(app: &App, name: &str) -> Pro {
    let link = koers_server::add_organisation(&app.db, &Site::local(), name)
        .await
        .unwrap();
    enrol(app, link.split_once('#').unwrap().1).await
}

pub async fn professional(app: &App, admin: &Pro, name: &str) -> Pro {
    let code = invite_professional(app, admin, name, false).await;
    enrol(app, &code).await
}

/// Signs in with `passkey` (from `origin`): the reply of `/api/sessions/finish`.
pub async fn sign_in_from(app: &App, passkey: &mut SoftPasskey, origin: &str) -> Reply {
    let start = app
        .call("POST", "/api/sessions/start", None, Some(json!({})))
        .await;
    assert_eq!(start.status, StatusCode::OK, "{start:?}");
    let answer = passkey.sign_in_from(&start.json["options"].to_string(), origin);
    app.call(
        "POST",
        "/api/sessions/finish",
        None,
        Some(json!({ "ceremony": start.json["ceremony"], "credential": serde_json::from_str::<Value>(&answer).unwrap() })),
    )
    .await
}

pub async fn sign_in(app: &App, passkey: &mut SoftPasskey) -> Reply {
    sign_in_from(app, passkey, ORIGIN).await
}

/// A plan founded by `pro` on their phone: the worker's writing and the parent's member.
pub async fn found(app: &App, pro: &Pro, child: &str) -> common::Worker {
    let founding = common::Founding::new(child);
    let reply = app
        .call(
            "POST",
            "/api/plans",
            Some(&pro.token),
            Some(json!({ "ops": founding.ops, "device_name": "werktelefoon" })),
        )
        .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{reply:?}");
    founding.worker(reply.json["device_token"].as_str().unwrap())
}

/// A device for the parent of `worker`'s plan, through an invite.
pub async fn parent_phone(app: &App, worker: &common::Worker, session: Option<&str>) -> Reply {
    member_phone(app, worker, worker.parent, session).await
}

/// A device for `member` of `worker`'s plan: the worker invites, the phone accepts (signed in
/// with `session`, or not).
pub async fn member_phone(
    app: &App,
    worker: &common::Worker,
    member: koers_core::MemberId,
    session: Option<&str>,
) -> Reply {
    let invite = app
        .call(
            "POST",
            &format!("/api/plans/{}/invites", worker.plan),
            Some(&worker.token),
            Some(json!({ "member": member })),
        )
        .await;
    assert_eq!(invite.status, StatusCode::CREATED, "{invite:?}");
    app.call(
        "POST",
        "/api/invites/accept",
        session,
        Some(json!({ "code": invite.json["code"] })),
    )
    .await
}

async fn pull_status(app: &App, plan: koers_core::PlanId, token: &str) -> Reply {
    app.call("GET", &format!("/api/plans/{plan}/ops"), Some(token), None)
        .await
}

async fn plan_ops(app: &App, plan: koers_core::PlanId, token: &str) -> Vec<koers_core::Op> {
    let reply = pull_status(app, plan, token).await;
    assert_eq!(reply.status, StatusCode::OK, "{reply:?}");
    reply.json["ops"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| serde_json::from_value(o["op"].clone()).unwrap())
        .collect()
}

fn plan_of(plan: koers_core::PlanId, ops: &[koers_core::Op]) -> koers_core::Plan {
    koers_core::Plan::from_replica(&koers_core::Replica::from_ops(plan, ops))
}

// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn the_first_start_link_makes_the_first_administrator_once() {
    let app = App::new();
    let code = app.first_link().await;
    // A restart before anyone used it gives a new link; either works, but only one of them.
    let again = app.first_link().await;
    assert_ne!(code, again);
    let admin = enrol(&app, &code).await;
    let me = app.call("GET", "/api/me", Some(&admin.token), None).await;
    assert_eq!(me.status, StatusCode::OK, "{me:?}");
    assert_eq!(me.json["account"]["admin"], json!(true));
    assert_eq!(
        me.json["account"]["organisation"]["name"],
        json!("Mijn organisatie")
    );
    assert_eq!(me.json["plans"], json!([]));
    // The same link again, and the other first link: the organisation has its administrator.
    let used = try_enrol(&app, &code).await.err().unwrap();
    used.is(StatusCode::GONE, "enrolment_used");
    let other = try_enrol(&app, &again).await.err().unwrap();
    other.is(StatusCode::GONE, "enrolment_used");
    // And no new link on the next start.
    assert_eq!(
        koers_server::first_start(&app.db, &Site::local())
            .await
            .unwrap(),
        None
    );
    let unknown = try_enrol(&app, "not-a-code").await.err().unwrap();
    unknown.is(StatusCode::NOT_FOUND, "enrolment_unknown");
}

#[tokio::test]
async fn only_a_signed_in_professional_founds_a_plan_and_it_belongs_to_their_organisation() {
    let app = App::new();
    let founding = common::Founding::new("Sam");
    let body = json!({ "ops": founding.ops });
    app.call("POST", "/api/plans", None, Some(body.clone()))
        .await
        .is(StatusCode::UNAUTHORIZED, "session_missing");
    app.call("POST", "/api/plans", Some("ks.forged"), Some(body.clone()))
        .await
        .is(StatusCode::UNAUTHORIZED, "session_unknown");
    let admin = first_admin(&app).await;
    let lotte = professional(&app, &admin, "Lotte de Vries").await;
    let worker = found(&app, &lotte, "Noa").await;
    // A device token is not a session.
    let again = common::Founding::new("Sam");
    app.call(
        "POST",
        "/api/plans",
        Some(&worker.token),
        Some(json!({ "ops": again.ops })),
    )
    .await
    .is(StatusCode::UNAUTHORIZED, "session_missing");
    let organisation = app
        .call("GET", "/api/organisation", Some(&admin.token), None)
        .await;
    let plans = organisation.json["plans"].as_array().unwrap();
    assert_eq!(plans.len(), 1, "{organisation:?}");
    assert_eq!(plans[0]["child_name"], json!("Noa"));
    assert_eq!(plans[0]["worker"]["name"], json!("Lotte de Vries"));
    let professionals = organisation.json["professionals"].as_array().unwrap();
    let lotte_row = professionals
        .iter()
        .find(|p| p["name"] == json!("Lotte de Vries"))
        .unwrap();
    assert_eq!(lotte_row["plans"], json!(1));
}

#[tokio::test]
async fn signing_in_on_a_new_phone_brings_every_plan_of_the_account() {
    let app = App::new();
    let admin = first_admin(&app).await;
    let mut lotte = professional(&app, &admin, "Lotte").await;
    let mut plans = Vec::new();
    for child in ["Noa", "Sam", "Daan"] {
        let mut worker = found(&app, &lotte, child).await;
        let op = worker.moments(1);
        let pushed = app
            .call(
                "POST",
                &format!("/api/plans/{}/ops", worker.plan),
                Some(&worker.token),
                Some(json!({ "ops": op })),
            )
            .await;
        assert_eq!(pushed.status, StatusCode::OK, "{pushed:?}");
        plans.push(worker);
    }
    // Another phone: nothing on it but the passkey (synced by the phone's platform).
    let signed_in = sign_in(&app, &mut lotte.passkey).await;
    assert_eq!(signed_in.status, StatusCode::CREATED, "{signed_in:?}");
    let session = signed_in.json["session_token"].as_str().unwrap();
    assert_ne!(session, lotte.token, "a session per phone");
    let me = app.call("GET", "/api/me", Some(session), None).await;
    let listed: Vec<&str> = me.json["plans"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["plan"].as_str().unwrap())
        .collect();
    assert_eq!(listed.len(), 3, "{me:?}");
    for worker in &plans {
        assert!(listed.contains(&worker.plan.to_string().as_str()));
        let device = app
            .call(
                "POST",
                &format!("/api/me/plans/{}/devices", worker.plan),
                Some(session),
                Some(json!({ "device_name": "nieuwe telefoon" })),
            )
            .await;
        assert_eq!(device.status, StatusCode::CREATED, "{device:?}");
        assert_eq!(device.json["member"], json!(worker.author.member));
        let token = device.json["device_token"].as_str().unwrap();
        let ops = plan_ops(&app, worker.plan, token).await;
        assert_eq!(
            ops.len(),
            worker.replica.op_count(),
            "the whole plan on the new phone"
        );
    }
    // A plan the account takes no part in.
    let other = found(&app, &admin, "Fenna").await;
    app.call(
        "POST",
        &format!("/api/me/plans/{}/devices", other.plan),
        Some(session),
        Some(json!({})),
    )
    .await
    .is(StatusCode::FORBIDDEN, "not_a_member");
}

#[tokio::test]
async fn a_ceremony_finishes_on_another_instance_once_and_only_for_this_origin() {
    let app = App::new();
    let other = app.second_instance();
    let code = app.first_link().await;
    let start = app
        .call(
            "POST",
            "/api/enrolments/start",
            None,
            Some(json!({ "code": code })),
        )
        .await;
    // A passkey made for another site (its client data names another origin) is refused.
    let (_, foreign) =
        SoftPasskey::register(&start.json["options"].to_string(), "http://localhost:9999");
    let body = |credential: &str| json!({ "ceremony": start.json["ceremony"], "credential": serde_json::from_str::<Value>(credential).unwrap() });
    other
        .call("POST", "/api/enrolments/finish", None, Some(body(&foreign)))
        .await
        .is(StatusCode::BAD_REQUEST, "passkey_refused");
    // A refused answer used the ceremony up: start again.
    let (_, good) = SoftPasskey::register(&start.json["options"].to_string(), ORIGIN);
    other
        .call("POST", "/api/enrolments/finish", None, Some(body(&good)))
        .await
        .is(StatusCode::GONE, "ceremony_expired");
    let start = app
        .call(
            "POST",
            "/api/enrolments/start",
            None,
            Some(json!({ "code": code })),
        )
        .await;
    let (mut passkey, good) = SoftPasskey::register(&start.json["options"].to_string(), ORIGIN);
    let body = json!({ "ceremony": start.json["ceremony"], "credential": serde_json::from_str::<Value>(&good).unwrap() });
    let finished = other
        .call("POST", "/api/enrolments/finish", None, Some(body.clone()))
        .await;
    assert_eq!(
        finished.status,
        StatusCode::CREATED,
        "finished on the other instance: {finished:?}"
    );
    // Answered once.
    app.call("POST", "/api/enrolments/finish", None, Some(body))
        .await
        .is(StatusCode::GONE, "ceremony_expired");
    // Sign-in: bound to the origin, and a key that is not the passkey's is refused.
    sign_in_from(&app, &mut passkey, "https://koers.example.org")
        .await
        .is(StatusCode::BAD_REQUEST, "passkey_refused");
    let mut forged = passkey.with_other_key();
    sign_in(&app, &mut forged)
        .await
        .is(StatusCode::BAD_REQUEST, "passkey_refused");
    assert_eq!(
        sign_in(&other, &mut passkey).await.status,
        StatusCode::CREATED
    );
}

#[tokio::test]
async fn sessions_end_when_signed_out_expired_or_deactivated() {
    let app = App::new();
    let admin = first_admin(&app).await;
    let mut lotte = professional(&app, &admin, "Lotte").await;
    let second = sign_in(&app, &mut lotte.passkey).await;
    let second = second.json["session_token"].as_str().unwrap().to_owned();
    assert_eq!(
        app.call("DELETE", "/api/sessions/me", Some(&second), None)
            .await
            .status,
        StatusCode::NO_CONTENT
    );
    app.call("GET", "/api/me", Some(&second), None)
        .await
        .is(StatusCode::UNAUTHORIZED, "session_revoked");
    // The first phone's session is its own.
    assert_eq!(
        app.call("GET", "/api/me", Some(&lotte.token), None)
            .await
            .status,
        StatusCode::OK
    );
    // An expired session (a month old).
    let account = lotte.account.parse().unwrap();
    let token = "ks.an-old-session";
    let now = koers_database::now();
    app.db
        .create_session(
            &NewSession {
                session: SessionId::new(),
                token: koers_server::auth::hash_secret(token),
                account,
                expires_at: now - chrono::Duration::seconds(1),
            },
            now - chrono::Duration::days(30),
        )
        .await
        .unwrap();
    app.call("GET", "/api/me", Some(token), None)
        .await
        .is(StatusCode::UNAUTHORIZED, "session_expired");
    // Deactivated: the session stops, and so does signing in.
    let deactivated = app
        .call(
            "POST",
            &format!(
                "/api/organisation/professionals/{}/deactivate",
                lotte.account
            ),
            Some(&admin.token),
            None,
        )
        .await;
    assert_eq!(deactivated.status, StatusCode::OK, "{deactivated:?}");
    app.call("GET", "/api/me", Some(&lotte.token), None)
        .await
        .is(StatusCode::UNAUTHORIZED, "account_deactivated");
    sign_in(&app, &mut lotte.passkey)
        .await
        .is(StatusCode::UNAUTHORIZED, "account_deactivated");
    // Administrators cannot lock themselves out.
    app.call(
        "POST",
        &format!(
            "/api/organisation/professionals/{}/deactivate",
            admin.account
        ),
        Some(&admin.token),
        None,
    )
    .await
    .is(StatusCode::FORBIDDEN, "not_yourself");
}

#[tokio::test]
async fn deactivation_stops_every_phone_of_the_professional_and_keeps_what_they_wrote() {
    let app = App::new();
    let admin = first_admin(&app).await;
    let mut lotte = professional(&app, &admin, "Lotte").await;
    let worker = found(&app, &lotte, "Noa").await;
    let parent = parent_phone(&app, &worker, None).await;
    let parent_token = parent.json["device_token"].as_str().unwrap().to_owned();
    // Lotte's second phone.
    let session = sign_in(&app, &mut lotte.passkey).await;
    let session = session.json["session_token"].as_str().unwrap().to_owned();
    let second = app
        .call(
            "POST",
            &format!("/api/me/plans/{}/devices", worker.plan),
            Some(&session),
            Some(json!({})),
        )
        .await;
    let second_token = second.json["device_token"].as_str().unwrap().to_owned();
    // Her phone follows the plan's event stream.
    let events = app
        .router
        .clone()
        .oneshot(
            Request::get(format!("/api/plans/{}/events", worker.plan))
                .header(header::AUTHORIZATION, format!("Bearer {second_token}"))
                .body(Body::empty())
                .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(events.status(), StatusCode::OK);
    let mut stream = events.into_body().into_data_stream();
    let deactivated = app
        .call(
            "POST",
            &format!(
                "/api/organisation/professionals/{}/deactivate",
                lotte.account
            ),
            Some(&admin.token),
            None,
        )
        .await;
    assert_eq!(
        deactivated.json["devices_revoked"],
        json!(2),
        "{deactivated:?}"
    );
    for token in [&worker.token, &second_token] {
        pull_status(&app, worker.plan, token)
            .await
            .is(StatusCode::UNAUTHORIZED, "device_revoked");
    }
    // The stream ends within seconds.
    let ended = tokio::time::timeout(std::time::Duration::from_secs(5), async {
        use futures_util::StreamExt as _;
        while let Some(chunk) = stream.next().await {
            if chunk.is_err() {
                break;
            }
        }
    })
    .await;
    assert!(
        ended.is_ok(),
        "the event stream of a deactivated professional's phone ended"
    );
    // The family's phone goes on, and the plan still names Lotte as who wrote it.
    let ops = plan_ops(&app, worker.plan, &parent_token).await;
    let plan = plan_of(worker.plan, &ops);
    assert_eq!(plan.member(worker.author.member).unwrap().name, "Lotte");
}

#[tokio::test]
async fn a_hand_over_makes_the_new_worker_the_contact_and_shuts_the_old_one_out() {
    let app = App::new();
    let admin = first_admin(&app).await;
    let lotte = professional(&app, &admin, "Lotte de Vries").await;
    let mut sanne = professional(&app, &admin, "Sanne Jansen").await;
    let worker = found(&app, &lotte, "Noa").await;
    let parent = parent_phone(&app, &worker, None).await;
    let parent_token = parent.json["device_token"].as_str().unwrap().to_owned();
    let handed = app
        .call(
            "POST",
            &format!("/api/organisation/plans/{}/hand-over", worker.plan),
            Some(&admin.token),
            Some(json!({ "to": sanne.account })),
        )
        .await;
    assert_eq!(handed.status, StatusCode::OK, "{handed:?}");
    let sanne_member: koers_core::MemberId =
        serde_json::from_value(handed.json["member"].clone()).unwrap();
    // The family sees the new contact person; Lotte's words keep her name.
    let ops = plan_ops(&app, worker.plan, &parent_token).await;
    let plan = plan_of(worker.plan, &ops);
    let contact = plan.contact_person().unwrap();
    assert_eq!(
        (contact.id, contact.name.as_str(), contact.role),
        (
            sanne_member,
            "Sanne Jansen",
            koers_core::Role::FosterCareWorker
        )
    );
    assert!(
        plan.member(worker.author.member).is_none(),
        "Lotte is taken out"
    );
    assert_eq!(
        plan.member_or_former(worker.author.member).unwrap().name,
        "Lotte"
    );
    // The plan's history says who handed it to whom: the contact person's field went from
    // Lotte to Sanne, written by Sanne.
    let replica = koers_core::Replica::from_ops(worker.plan, &ops);
    let history: Vec<_> = replica
        .history_of(koers_core::Entity::Plan)
        .into_iter()
        .filter(|(field, _)| *field == koers_core::Field::ContactPerson)
        .map(|(_, write)| (write.author, write.value.clone()))
        .collect();
    assert_eq!(
        history,
        [
            (worker.author.member, json!(worker.author.member)),
            (sanne_member, json!(sanne_member)),
        ]
    );
    // Lotte's phone is out; Sanne finds the plan on her phones.
    pull_status(&app, worker.plan, &worker.token)
        .await
        .is(StatusCode::UNAUTHORIZED, "device_revoked");
    let lotte_me = app.call("GET", "/api/me", Some(&lotte.token), None).await;
    assert_eq!(lotte_me.json["plans"], json!([]));
    let session = sign_in(&app, &mut sanne.passkey).await;
    let session = session.json["session_token"].as_str().unwrap().to_owned();
    let device = app
        .call(
            "POST",
            &format!("/api/me/plans/{}/devices", worker.plan),
            Some(&session),
            Some(json!({})),
        )
        .await;
    assert_eq!(device.status, StatusCode::CREATED, "{device:?}");
    assert_eq!(device.json["member"], json!(sanne_member));
    assert_eq!(device.json["role"], json!("foster_care_worker"));
    // The administrator's list shows the new worker.
    let organisation = app
        .call("GET", "/api/organisation", Some(&admin.token), None)
        .await;
    assert_eq!(
        organisation.json["plans"][0]["worker"]["name"],
        json!("Sanne Jansen")
    );
    // Handing it to her again is refused.
    app.call(
        "POST",
        &format!("/api/organisation/plans/{}/hand-over", worker.plan),
        Some(&admin.token),
        Some(json!({ "to": sanne.account })),
    )
    .await
    .is(StatusCode::CONFLICT, "already_worker");
}

#[tokio::test]
async fn a_guardian_takes_part_by_invite_or_with_an_account_of_their_own_organisation() {
    let app = App::new();
    let admin = first_admin(&app).await;
    let lotte = professional(&app, &admin, "Lotte").await;
    let worker = found(&app, &lotte, "Noa").await;
    // The guardian's institution has its own organisation on the same server.
    let mut ahmed = other_organisation(&app, "Jeugdbescherming Regio").await;
    // Lotte invites him as the plan's guardian (a member she adds), and he accepts signed in.
    let guardian = koers_core::MemberId(uuid::Uuid::new_v4());
    let mut worker = worker;
    let add = vec![
        worker.edit(koers_core::Edit::new(
            koers_core::Entity::Member(guardian),
            koers_core::Field::Name,
            "Ahmed",
        )),
        worker.edit(koers_core::Edit::new(
            koers_core::Entity::Member(guardian),
            koers_core::Field::Role,
            koers_core::Role::Guardian.key(),
        )),
    ];
    let pushed = app
        .call(
            "POST",
            &format!("/api/plans/{}/ops", worker.plan),
            Some(&worker.token),
            Some(json!({ "ops": add })),
        )
        .await;
    assert_eq!(pushed.status, StatusCode::OK, "{pushed:?}");
    let accepted = member_phone(&app, &worker, guardian, Some(&ahmed.token)).await;
    assert_eq!(accepted.status, StatusCode::CREATED, "{accepted:?}");
    assert_eq!(accepted.json["role"], json!("guardian"));
    // On his other phone, signed in, the plan is there.
    let session = sign_in(&app, &mut ahmed.passkey).await;
    let me = app
        .call(
            "GET",
            "/api/me",
            Some(session.json["session_token"].as_str().unwrap()),
            None,
        )
        .await;
    assert_eq!(
        me.json["account"]["organisation"]["name"],
        json!("Jeugdbescherming Regio")
    );
    assert_eq!(
        me.json["plans"],
        json!([{ "plan": worker.plan, "member": guardian, "role": "guardian" }])
    );
    // His administrator does not see the foster-care organisation's plan, nor hand it over.
    let theirs = app
        .call("GET", "/api/organisation", Some(&ahmed.token), None)
        .await;
    assert_eq!(theirs.json["plans"], json!([]));
    // The plan's organisation's log names him when his phone reads the plan.
    let token = accepted.json["device_token"].as_str().unwrap();
    plan_ops(&app, worker.plan, token).await;
    let log = app
        .call(
            "GET",
            "/api/organisation/access-log",
            Some(&admin.token),
            None,
        )
        .await;
    let read = log.json["entries"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["action"] == json!("read") && e["account"]["account"] == json!(ahmed.account))
        .cloned();
    assert_eq!(
        read.map(|e| e["account"]["name"].clone()),
        Some(json!("Beheerder")),
        "{log:?}"
    );
    app.call(
        "POST",
        &format!("/api/organisation/plans/{}/hand-over", worker.plan),
        Some(&ahmed.token),
        Some(json!({ "to": ahmed.account })),
    )
    .await
    .is(StatusCode::NOT_FOUND, "plan_unknown");
    // A guardian without an account joins like a family member: the plan is that phone's only.
    let plain = member_phone(&app, &worker, guardian, None).await;
    assert_eq!(plain.status, StatusCode::CREATED, "{plain:?}");
}

#[tokio::test]
async fn enrolment_links_are_single_use_expire_and_can_be_withdrawn() {
    let app = App::new();
    let admin = first_admin(&app).await;
    let code = invite_professional(&app, &admin, "Lotte", false).await;
    enrol(&app, &code).await;
    try_enrol(&app, &code)
        .await
        .err()
        .unwrap()
        .is(StatusCode::GONE, "enrolment_used");
    let withdrawn = app
        .call(
            "POST",
            "/api/organisation/enrolments",
            Some(&admin.token),
            Some(json!({ "name": "Sanne" })),
        )
        .await;
    let id = withdrawn.json["enrolment"].as_str().unwrap();
    assert_eq!(
        app.call(
            "DELETE",
            &format!("/api/organisation/enrolments/{id}"),
            Some(&admin.token),
            None
        )
        .await
        .status,
        StatusCode::NO_CONTENT
    );
    try_enrol(&app, withdrawn.json["code"].as_str().unwrap())
        .await
        .err()
        .unwrap()
        .is(StatusCode::GONE, "enrolment_revoked");
    // An expired one (made a week ago).
    let organisation = app
        .call("GET", "/api/me", Some(&admin.token), None)
        .await
        .json["account"]["organisation"]["organisation"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    let old = "an-expired-link";
    app.db
        .create_enrolment(
            &koers_database::NewEnrolment {
                enrolment: koers_database::EnrolmentId::new(),
                code: koers_server::auth::hash_secret(old),
                organisation,
                name: "Bram".into(),
                admin: false,
                created_by: Some(admin.account.parse().unwrap()),
                expires_at: koers_database::now() - chrono::Duration::seconds(1),
            },
            koers_database::now() - chrono::Duration::days(7),
        )
        .await
        .unwrap();
    try_enrol(&app, old)
        .await
        .err()
        .unwrap()
        .is(StatusCode::GONE, "enrolment_expired");
    // The administrator's list shows each link's state.
    let listed = app
        .call("GET", "/api/organisation", Some(&admin.token), None)
        .await;
    let enrolments = listed.json["enrolments"].as_array().unwrap();
    assert_eq!(enrolments.len(), 4, "{listed:?}");
}

#[tokio::test]
async fn a_device_token_can_be_rotated_and_the_old_one_stops() {
    let app = App::new();
    let admin = first_admin(&app).await;
    let worker = found(&app, &admin, "Noa").await;
    let rotated = app
        .call(
            "POST",
            &format!("/api/plans/{}/devices/me/token", worker.plan),
            Some(&worker.token),
            None,
        )
        .await;
    assert_eq!(rotated.status, StatusCode::OK, "{rotated:?}");
    let new = rotated.json["device_token"].as_str().unwrap();
    assert_ne!(new, worker.token);
    pull_status(&app, worker.plan, &worker.token)
        .await
        .is(StatusCode::UNAUTHORIZED, "token_unknown");
    assert_eq!(
        pull_status(&app, worker.plan, new).await.status,
        StatusCode::OK
    );
}

#[tokio::test]
async fn the_access_log_says_who_read_or_changed_which_plan_in_this_organisation_only() {
    let app = App::new();
    let admin = first_admin(&app).await;
    let lotte = professional(&app, &admin, "Lotte").await;
    let mut worker = found(&app, &lotte, "Noa").await;
    let ops = worker.moments(2);
    app.call(
        "POST",
        &format!("/api/plans/{}/ops", worker.plan),
        Some(&worker.token),
        Some(json!({ "ops": ops })),
    )
    .await;
    let parent = parent_phone(&app, &worker, None).await;
    let parent_token = parent.json["device_token"].as_str().unwrap();
    plan_ops(&app, worker.plan, parent_token).await;
    plan_ops(&app, worker.plan, parent_token).await;
    let log = app
        .call(
            "GET",
            "/api/organisation/access-log",
            Some(&admin.token),
            None,
        )
        .await;
    assert_eq!(log.status, StatusCode::OK, "{log:?}");
    let lines: Vec<(String, String, String)> = log.json["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["action"].as_str().unwrap().to_owned(),
                e["account"]["name"].as_str().unwrap_or("").to_owned(),
                e["plan"].as_str().unwrap_or("").to_owned(),
            )
        })
        .collect();
    let plan = worker.plan.to_string();
    let has = |action: &str, who: &str, on: &str| {
        lines
            .iter()
            .any(|l| l == &(action.into(), who.into(), on.into()))
    };
    assert!(has("founded", "Lotte", &plan), "{lines:?}");
    assert!(has("changed", "Lotte", &plan), "{lines:?}");
    // The parent's phone read the plan twice: one line.
    assert_eq!(
        lines
            .iter()
            .filter(|l| l.0 == "read" && l.1.is_empty())
            .count(),
        1,
        "{lines:?}"
    );
    assert!(has("enrolled", "Lotte", ""), "{lines:?}");
    // Newest first, and paged with `before`.
    let first = &log.json["entries"][0]["at"];
    let page = app
        .call(
            "GET",
            &format!(
                "/api/organisation/access-log?limit=1&before={}",
                first.as_str().unwrap()
            ),
            Some(&admin.token),
            None,
        )
        .await;
    assert_eq!(page.json["entries"].as_array().unwrap().len(), 1);
    assert!(page.json["entries"][0]["at"].as_str().unwrap() < first.as_str().unwrap());
    // Not for professionals who are not administrators.
    app.call(
        "GET",
        "/api/organisation/access-log",
        Some(&lotte.token),
        None,
    )
    .await
    .is(StatusCode::FORBIDDEN, "not_an_administrator");
}

#[tokio::test]
async fn sign_ins_are_rate_limited_per_address_and_per_account() {
    // Per address: a sign-in is two attempts (its start and its finish).
    let app = App::with_limits(LimitsConfig {
        attempts_per_address: 6,
        attempts_per_account: 100,
        ..LimitsConfig::default()
    });
    let mut admin = first_admin(&app).await;
    for _ in 0..3 {
        assert_eq!(
            sign_in(&app, &mut admin.passkey).await.status,
            StatusCode::CREATED
        );
    }
    let limited = app
        .call("POST", "/api/sessions/start", None, Some(json!({})))
        .await;
    limited.is(StatusCode::TOO_MANY_REQUESTS, "too_many_attempts");
    let wait: u64 = limited.headers[header::RETRY_AFTER]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(wait >= 1, "{wait}");
    // Per account, from wherever: the fourth sign-in of one account in a row is refused.
    let app = App::with_limits(LimitsConfig {
        attempts_per_address: 100,
        attempts_per_account: 3,
        ..LimitsConfig::default()
    });
    let mut admin = first_admin(&app).await;
    for _ in 0..3 {
        assert_eq!(
            sign_in(&app, &mut admin.passkey).await.status,
            StatusCode::CREATED
        );
    }
    let reply = sign_in(&app, &mut admin.passkey).await;
    reply.is(StatusCode::TOO_MANY_REQUESTS, "too_many_attempts");
    assert!(
        reply.json["message"]
            .as_str()
            .unwrap()
            .contains("for this account"),
        "{reply:?}"
    );
}

#[tokio::test]
async fn enrolment_links_are_rate_limited_per_address() {
    let app = App::with_limits(LimitsConfig {
        attempts_per_address: 5,
        ..LimitsConfig::default()
    });
    for _ in 0..5 {
        let reply = app
            .call(
                "POST",
                "/api/enrolments/start",
                None,
                Some(json!({ "code": "guessing" })),
            )
            .await;
        reply.is(StatusCode::NOT_FOUND, "enrolment_unknown");
    }
    app.call(
        "POST",
        "/api/enrolments/start",
        None,
        Some(json!({ "code": "guessing-more" })),
    )
    .await
    .is(StatusCode::TOO_MANY_REQUESTS, "too_many_attempts");
}

#[tokio::test]
async fn invite_acceptance_is_limited_per_signed_in_account() {
    let app = App::with_limits(LimitsConfig {
        attempts_per_address: 100,
        attempts_per_account: 2,
        ..LimitsConfig::default()
    });
    let admin = first_admin(&app).await;
    let guardian = professional(&app, &admin, "Ahmed").await;
    let worker = found(&app, &admin, "Noa").await;
    for _ in 0..2 {
        let reply = parent_phone(&app, &worker, Some(&guardian.token)).await;
        assert_eq!(reply.status, StatusCode::CREATED, "{reply:?}");
    }
    let third = parent_phone(&app, &worker, Some(&guardian.token)).await;
    third.is(StatusCode::TOO_MANY_REQUESTS, "too_many_attempts");
    assert!(third.headers.contains_key(header::RETRY_AFTER));
    // Someone else (a family's phone, no session) is not held up by that account.
    let family = parent_phone(&app, &worker, None).await;
    assert_eq!(family.status, StatusCode::CREATED, "{family:?}");
}
