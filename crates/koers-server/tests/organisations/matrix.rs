//! The authorization matrix: every documented API operation, tried by each kind of caller — an
//! administrator, the plan's worker (a professional, with their session or their phone's
//! device token), a family member's phone, an anonymous caller, and an administrator of another
//! organisation — on a plan of the first organisation. The operations come from the OpenAPI
//! document, so an operation added without a row here fails the test.
//!
//! Each cell runs in a world of its own (so a deactivation or a revoked device cannot change
//! the next cell's answer).

use axum::http::StatusCode;
use serde_json::{json, Value};

use super::*;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Caller {
    Admin,
    Worker,
    Family,
    Anonymous,
    OtherAdmin,
}

const CALLERS: [Caller; 5] = [
    Caller::Admin,
    Caller::Worker,
    Caller::Family,
    Caller::Anonymous,
    Caller::OtherAdmin,
];

/// What a caller gets: `Ok` (2xx), `Public` (neither 401 nor 403: the operation is open to
/// anyone, and the body the matrix sends is refused on its merits), or this status.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Expect {
    Ok,
    Public,
    Status(u16),
}

use Expect::{Ok as A, Public as P, Status as S};

/// Every documented operation: (method, path, the five callers' answers in [`CALLERS`] order).
const MATRIX: &[(&str, &str, [Expect; 5])] = &[
    // Plans and their sync: device tokens of the plan, and founding by professionals only.
    ("post", "/api/plans", [A, A, S(401), S(401), A]),
    (
        "get",
        "/api/plans/{plan}/ops",
        [S(401), A, A, S(401), S(403)],
    ),
    (
        "post",
        "/api/plans/{plan}/ops",
        [S(401), A, A, S(401), S(403)],
    ),
    (
        "get",
        "/api/plans/{plan}/events",
        [S(401), A, A, S(401), S(403)],
    ),
    // Many plans at once: each token is judged for its own plan (the other organisation's
    // administrator follows their own plan).
    ("get", "/api/events", [S(401), A, A, S(401), A]),
    ("post", "/api/sync", [S(401), A, A, S(401), S(403)]),
    (
        "post",
        "/api/plans/{plan}/invites",
        [S(401), A, S(403), S(401), S(403)],
    ),
    (
        "get",
        "/api/plans/{plan}/invites",
        [S(401), A, S(403), S(401), S(403)],
    ),
    (
        "delete",
        "/api/plans/{plan}/invites/{invite}",
        [S(401), A, S(403), S(401), S(403)],
    ),
    ("post", "/api/invites/accept", [A, A, A, A, A]),
    (
        "get",
        "/api/plans/{plan}/devices",
        [S(401), A, A, S(401), S(403)],
    ),
    (
        "delete",
        "/api/plans/{plan}/devices/{device}",
        [S(401), A, S(403), S(401), S(403)],
    ),
    (
        "post",
        "/api/plans/{plan}/devices/me/token",
        [S(401), A, A, S(401), S(403)],
    ),
    // Passkeys: open to anyone, the passkey is the check.
    ("post", "/api/enrolments/start", [A, A, A, A, A]),
    ("post", "/api/enrolments/finish", [P, P, P, P, P]),
    ("post", "/api/sessions/start", [A, A, A, A, A]),
    ("post", "/api/sessions/finish", [P, P, P, P, P]),
    // A professional's own.
    ("delete", "/api/sessions/me", [A, A, S(401), S(401), A]),
    ("get", "/api/me", [A, A, S(401), S(401), A]),
    (
        "post",
        "/api/me/plans/{plan}/devices",
        [S(403), A, S(401), S(401), S(403)],
    ),
    // The administrator's, of their own organisation only.
    ("get", "/api/organisation", [A, S(403), S(401), S(401), A]),
    (
        "post",
        "/api/organisation/enrolments",
        [A, S(403), S(401), S(401), A],
    ),
    (
        "delete",
        "/api/organisation/enrolments/{enrolment}",
        [A, S(403), S(401), S(401), S(404)],
    ),
    (
        "post",
        "/api/organisation/professionals/{account}/deactivate",
        [A, S(403), S(401), S(401), S(404)],
    ),
    (
        "post",
        "/api/organisation/plans/{plan}/hand-over",
        [A, S(403), S(401), S(401), S(404)],
    ),
    (
        "get",
        "/api/organisation/access-log",
        [A, S(403), S(401), S(401), A],
    ),
];

/// One organisation's plan with everyone around it, and another organisation.
struct World {
    app: App,
    admin: Pro,
    worker: common::Worker,
    worker_pro: Pro,
    family_token: String,
    /// A second phone of the family, for the worker to sign out.
    family_second_device: String,
    /// Another professional of the first organisation (to deactivate, or hand the plan to).
    colleague: Pro,
    other_admin: Pro,
    other_worker_token: String,
    open_invite: String,
    invite_code: String,
    enrolment: String,
    enrolment_code: String,
}

async fn world() -> World {
    let app = App::new();
    let admin = first_admin(&app).await;
    let worker_pro = professional(&app, &admin, "Lotte").await;
    let colleague = professional(&app, &admin, "Sanne").await;
    let worker = found(&app, &worker_pro, "Noa").await;
    let family = parent_phone(&app, &worker, None).await;
    let family_token = family.json["device_token"].as_str().unwrap().to_owned();
    let second = parent_phone(&app, &worker, None).await;
    let family_second_device = second.json["device"].as_str().unwrap().to_owned();
    let invite_path = format!("/api/plans/{}/invites", worker.plan);
    let invite_body = json!({ "member": worker.parent });
    let open = app
        .call(
            "POST",
            &invite_path,
            Some(&worker.token),
            Some(invite_body.clone()),
        )
        .await;
    let fresh = app
        .call("POST", &invite_path, Some(&worker.token), Some(invite_body))
        .await;
    let enrolment = app
        .call(
            "POST",
            "/api/organisation/enrolments",
            Some(&admin.token),
            Some(json!({ "name": "Bram" })),
        )
        .await;
    // The other organisation, with its administrator and a plan of theirs.
    let other_admin = other_organisation(&app, "Andere organisatie").await;
    let other_plan = found(&app, &other_admin, "Fenna").await;
    World {
        admin,
        worker_pro,
        family_token,
        family_second_device,
        colleague,
        other_admin,
        other_worker_token: other_plan.token,
        open_invite: open.json["invite"].as_str().unwrap().to_owned(),
        invite_code: fresh.json["code"].as_str().unwrap().to_owned(),
        enrolment: enrolment.json["enrolment"].as_str().unwrap().to_owned(),
        enrolment_code: enrolment.json["code"].as_str().unwrap().to_owned(),
        worker,
        app,
    }
}

impl World {
    /// The caller's session token and device token (for this plan, or their own).
    fn tokens(&self, caller: Caller) -> (Option<&str>, Option<&str>) {
        match caller {
            Caller::Admin => (Some(&self.admin.token), None),
            Caller::Worker => (Some(&self.worker_pro.token), Some(&self.worker.token)),
            Caller::Family => (None, Some(&self.family_token)),
            Caller::Anonymous => (None, None),
            Caller::OtherAdmin => (
                Some(&self.other_admin.token),
                Some(&self.other_worker_token),
            ),
        }
    }

    fn path(&self, path: &str) -> String {
        path.replace("{plan}", &self.worker.plan.to_string())
            .replace("{invite}", &self.open_invite)
            .replace("{device}", &self.family_second_device)
            .replace("{enrolment}", &self.enrolment)
            .replace("{account}", &self.colleague.account)
    }

    fn body(&mut self, method: &str, path: &str, device: Option<&str>) -> Option<Value> {
        if method == "get" || method == "delete" {
            return None;
        }
        Some(match path {
            "/api/plans" => json!({ "ops": common::Founding::new("Sam").ops }),
            "/api/plans/{plan}/ops" => json!({ "ops": [] }),
            "/api/sync" => {
                json!({ "plans": [{ "plan": self.worker.plan, "token": device.unwrap_or("") }] })
            }
            "/api/plans/{plan}/invites" => json!({ "member": self.worker.parent }),
            "/api/invites/accept" => json!({ "code": self.invite_code }),
            "/api/enrolments/start" => json!({ "code": self.enrolment_code }),
            "/api/enrolments/finish" | "/api/sessions/finish" => {
                json!({ "ceremony": uuid::Uuid::new_v4(), "credential": {} })
            }
            "/api/organisation/enrolments" => json!({ "name": "Bram" }),
            "/api/organisation/plans/{plan}/hand-over" => json!({ "to": self.colleague.account }),
            _ => json!({}),
        })
    }
}

/// The status a caller got: for `POST /api/sync`, the plan entry's own.
async fn answer(
    world: &mut World,
    caller: Caller,
    method: &str,
    path: &str,
    security: &str,
) -> (u16, Value) {
    let (session, device) = world.tokens(caller);
    let (session, device) = (session.map(str::to_owned), device.map(str::to_owned));
    // The credential the operation asks for, else the other one the caller holds.
    let token = match security {
        "session_token" => session.clone().or(device.clone()),
        "device_token" => device.clone().or(session.clone()),
        // Open operations: a professional sends their session (accepting an invite with it).
        _ => session.clone(),
    };
    let body = world.body(method, path, device.as_deref());
    let mut uri = world.path(path);
    if path == "/api/events" {
        uri = format!(
            "{uri}?tokens={}",
            device.clone().or(session.clone()).unwrap_or_default()
        );
    }
    let token = if path == "/api/events" { None } else { token };
    if path.ends_with("/events") {
        // An event stream: only its status (its body never ends).
        let mut request = axum::http::Request::builder()
            .method(method.to_uppercase().as_str())
            .uri(&uri);
        if let Some(token) = &token {
            request = request.header(header::AUTHORIZATION, format!("Bearer {token}"));
        }
        let response = world
            .app
            .router
            .clone()
            .oneshot(request.body(Body::empty()).unwrap())
            .await
            .unwrap();
        return (response.status().as_u16(), Value::Null);
    }
    let reply = world
        .app
        .call(&method.to_uppercase(), &uri, token.as_deref(), body)
        .await;
    if path == "/api/sync" && reply.status == StatusCode::OK {
        let entry = &reply.json["plans"][0];
        let status = entry["error"]["status"].as_u64().unwrap_or(200) as u16;
        return (status, reply.json);
    }
    (reply.status.as_u16(), reply.json)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_operation_admits_exactly_the_callers_it_should() {
    // The document's operations and their security scheme.
    let probe = App::new();
    let doc = probe
        .call("GET", "/api/openapi.json", None, None)
        .await
        .json;
    let mut documented = Vec::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, operation) in item.as_object().unwrap() {
            let security = operation["security"][0]
                .as_object()
                .and_then(|s| s.keys().next().cloned())
                .unwrap_or_default();
            documented.push((method.clone(), path.clone(), security));
        }
    }
    let mut listed: Vec<(String, String)> = MATRIX
        .iter()
        .map(|(m, p, _)| (m.to_string(), p.to_string()))
        .collect();
    let mut in_doc: Vec<(String, String)> = documented
        .iter()
        .map(|(m, p, _)| (m.clone(), p.clone()))
        .collect();
    listed.sort();
    in_doc.sort();
    assert_eq!(
        listed, in_doc,
        "every documented operation has its row in the matrix, and no other"
    );

    let mut wrong = Vec::new();
    for (method, path, expected) in MATRIX {
        let security = documented
            .iter()
            .find(|(m, p, _)| m == method && p == path)
            .map(|(_, _, s)| s.clone())
            .unwrap();
        for (caller, expect) in CALLERS.iter().zip(expected) {
            let mut world = world().await;
            let (status, body) = answer(&mut world, *caller, method, path, &security).await;
            let fine = match expect {
                Expect::Ok => (200..300).contains(&status),
                Expect::Public => ![401, 403].contains(&status),
                Expect::Status(want) => status == *want,
            };
            if !fine {
                wrong.push(format!(
                    "{method} {path} by {caller:?}: {status} (expected {expect:?}) {body}"
                ));
            }
            // The other organisation's administrator sees nothing of the first's plan.
            if *caller == Caller::OtherAdmin
                && (*path == "/api/organisation" || *path == "/api/organisation/access-log")
            {
                let plan = world.worker.plan.to_string();
                assert!(
                    !body.to_string().contains(&plan),
                    "{path} shows another organisation's plan: {body}"
                );
            }
        }
    }
    assert!(
        wrong.is_empty(),
        "{} cells wrong:\n{}",
        wrong.len(),
        wrong.join("\n")
    );
}
