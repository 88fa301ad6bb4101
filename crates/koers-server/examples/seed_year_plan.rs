//! Puts the generated year plan (`koers_core::year`, about 5,000 operations) on a running Koers
//! server as a shared plan, the way its members' phones would have sent it, and invites its first
//! parent. The end-to-end test tests/e2e/year-join.spec.ts joins that invite with a phone and
//! compares what the phone shows with the figures printed here.
//!
//! Run: `cargo run -p koers-server --example seed_year_plan -- <base-url> [<now>]`
//! - `<base-url>`: the server, e.g. `http://127.0.0.1:8091` (the invite link starts with it too);
//! - `<now>`: the tests' "now", RFC 3339 with its offset (default: `$KOERS_TEST_NOW`, else the
//!   real time). The year plan ends some days before it.
//!
//! A plan is founded by a signed-in professional: `KOERS_SESSION_TOKEN` is their session token
//! (`ks.…`); or else `KOERS_ENROLMENT_LINK` is an enrolment link (`…/inschrijven#<code>`, such as
//! the one the server prints on its first start), with which this program enrols a professional
//! with a software passkey (tests/common/passkey.rs) for the link's origin. The link works once:
//! the session made with it is printed (`session_token`), to run again with.
//!
//! Prints one JSON object on stdout: the plan, the invite link, the operation count, a token of
//! the founder's device (to read the plan from the server), the founder's session, and what a
//! phone must show. Progress goes to stderr.
//!
//! Every operation is sent by a device of its own author, as the server demands: the founder's
//! first operations create the plan (`POST /api/plans`), every other author gets a device through
//! an invite, and the rest go out in their original order, in runs of one author, at most 1,000
//! per request. Each run of the program makes a new plan (fresh plan and operation ids), so it can
//! run again against the same server.

use std::collections::{BTreeMap, HashMap};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use chrono::{DateTime, Days, FixedOffset};
use http_body_util::{BodyExt as _, Full};
use hyper::body::Bytes;
use hyper::{Method, Request, StatusCode};
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use koers_core::*;
use serde_json::{json, Value};
use uuid::Uuid;

// The tests' software passkey and enrolment (common/mod.rs allows its own dead code).
#[path = "../tests/common/mod.rs"]
mod common;

/// The server's largest batch.
const BATCH: usize = 1000;
/// How long before the tests' "now" the year starts: the year plan runs a little over 365 days,
/// so it ends about two weeks before "now", safely in the past of the phone's (pinned) clock and
/// of the server's real one.
const START_DAYS_BEFORE_NOW: u64 = 380;
/// Answers of 429 (a rate limit) are waited out this many times per request.
const RETRIES: u32 = 20;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some(base) = args.first().map(|b| b.trim_end_matches('/').to_owned()) else {
        eprintln!("usage: seed_year_plan <base-url> [<now, RFC 3339 with offset>]");
        std::process::exit(2);
    };
    let now_text = args.get(1).cloned().or_else(|| {
        std::env::var("KOERS_TEST_NOW")
            .ok()
            .filter(|s| !s.is_empty())
    });
    let now: DateTime<FixedOffset> = match &now_text {
        Some(text) => DateTime::parse_from_rfc3339(text).unwrap_or_else(|err| {
            eprintln!("seed_year_plan: {text} is not a date and time with offset ({err}); give e.g. 2026-10-31T23:40:00+01:00");
            std::process::exit(2);
        }),
        None => chrono::Utc::now().fixed_offset(),
    };
    let api = Api::new(base);
    let session = session(&api);
    let summary = seed(&api, &session, now);
    println!("{summary}");
}

/// The session of the professional who founds the plan: `KOERS_SESSION_TOKEN`, or a new one
/// made by enrolling with `KOERS_ENROLMENT_LINK`.
fn session(api: &Api) -> String {
    let var = |name: &str| std::env::var(name).ok().filter(|v| !v.trim().is_empty());
    if let Some(token) = var("KOERS_SESSION_TOKEN") {
        return token.trim().to_owned();
    }
    let Some(link) = var("KOERS_ENROLMENT_LINK") else {
        eprintln!("seed_year_plan: a plan is founded by a signed-in professional: set KOERS_SESSION_TOKEN to their session token, or KOERS_ENROLMENT_LINK to an enrolment link (…/inschrijven#<code>, such as the one the server prints on its first start)");
        std::process::exit(2);
    };
    let professional = common::professional::enrol(link.trim(), |path, body| {
        let reply = api.call(Method::POST, path, None, Some(body));
        (reply.status.as_u16(), reply.json)
    });
    eprintln!(
        "seed_year_plan: enrolled as {} with a software passkey",
        professional.account["name"]
    );
    professional.session
}

fn real_now_millis() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("the clock is after 1970")
        .as_millis() as u64
}

fn seed(api: &Api, session: &str, now: DateTime<FixedOffset>) -> Value {
    let began = Instant::now();
    let start = now.date_naive() - Days::new(START_DAYS_BEFORE_NOW);
    let ops = year::year_plan_with_ids(start, Uuid::new_v4);
    let plan_id = ops[0].plan;
    // The server refuses what is dated ahead of its real clock, the phone's clock is the tests'
    // "now", and the app orders by these clocks: the whole year lies before both.
    let limit = (now.timestamp_millis().max(0) as u64).min(real_now_millis());
    if let Some(op) = ops.iter().find(|op| op.hlc.millis >= limit) {
        panic!(
            "operation {} is dated {} ms, not before now ({limit} ms); start the year earlier",
            op.id, op.hlc.millis
        );
    }

    // The founder's first operations, up to the first one by someone else, create the plan.
    let founder = ops[0].author;
    let founding = ops
        .iter()
        .take(BATCH)
        .take_while(|op| op.author == founder)
        .count();
    let created = api.expect(
        Method::POST,
        "/api/plans",
        Some(session),
        Some(&json!({ "ops": &ops[..founding], "device_name": "seed_year_plan" })),
        StatusCode::CREATED,
    );
    let founder_token = text(&created, "device_token");
    let mut tokens: HashMap<MemberId, String> = HashMap::from([(founder, founder_token.clone())]);
    let mut requests = 1usize;

    // The rest in order, in runs of one author; each author's phone is invited when first needed.
    let mut rest = &ops[founding..];
    while !rest.is_empty() {
        let author = rest[0].author;
        let run = rest
            .iter()
            .take(BATCH)
            .take_while(|op| op.author == author)
            .count();
        let (batch, later) = rest.split_at(run);
        if let std::collections::hash_map::Entry::Vacant(entry) = tokens.entry(author) {
            entry.insert(register_device(api, plan_id, &founder_token, author));
            requests += 2;
        }
        let answer = api.expect(
            Method::POST,
            &format!("/api/plans/{plan_id}/ops"),
            Some(&tokens[&author]),
            Some(&json!({ "ops": batch })),
            StatusCode::OK,
        );
        requests += 1;
        let refused = answer["refused"].as_array().map_or(0, Vec::len);
        let accepted = answer["accepted"].as_array().map_or(0, Vec::len);
        assert!(
            refused == 0 && accepted == batch.len(),
            "the server did not take every operation of a batch of {}: {answer}",
            batch.len()
        );
        rest = later;
    }

    // What a phone that joins must show: the plan as the operations make it.
    let mut replica = Replica::new(plan_id);
    for op in &ops {
        replica.apply(op).expect("every op belongs to the plan");
    }
    let plan = Plan::from_replica(&replica);
    let parent = plan
        .members
        .iter()
        .find(|m| m.role == Role::Parent)
        .expect("the year plan has parents");
    let invite = api.expect(
        Method::POST,
        &format!("/api/plans/{plan_id}/invites"),
        Some(&founder_token),
        Some(&json!({ "member": parent.id, "link_base": format!("{}/uitnodiging#", api.base) })),
        StatusCode::CREATED,
    );
    requests += 1;

    let mut per_author: BTreeMap<String, usize> = BTreeMap::new();
    for op in &ops {
        let name = plan
            .members
            .iter()
            .find(|m| m.id == op.author)
            .map_or_else(|| op.author.to_string(), |m| m.name.clone());
        *per_author.entry(name).or_default() += 1;
    }
    let count = |status: ContactStatus| {
        plan.contact_moments
            .iter()
            .filter(|c| c.status == status)
            .count()
    };
    eprintln!(
        "seed_year_plan: {} operations by {} authors in {requests} requests, {:.1} s",
        ops.len(),
        tokens.len(),
        began.elapsed().as_secs_f64()
    );
    json!({
        "plan": plan_id,
        "start": start,
        "ops": ops.len(),
        "requests": requests,
        "ops_per_author": per_author,
        "founder_token": founder_token,
        "session_token": session,
        "invite_link": text(&invite, "link"),
        "member": parent.id,
        "member_name": parent.name,
        "child_name": plan.child_name,
        "phase": plan.phase.key(),
        "goals": plan.goals.len(),
        "goals_done": plan.goals.iter().filter(|g| g.status == GoalStatus::Done).count(),
        "last_goal": plan.goals.last().map(|g| g.title.clone()),
        "contacts": plan.contact_moments.len(),
        "contacts_planned": count(ContactStatus::Planned),
        "contacts_happened": count(ContactStatus::Happened),
        "contact_months": plan.contacts_per_month().iter().map(|m| json!({
            "year": m.year, "month": m.month, "planned": m.planned, "happened": m.happened,
            "cancelled": m.cancelled, "no_show": m.no_show,
        })).collect::<Vec<_>>(),
        "evaluations": plan.evaluations.len(),
        "last_evaluation": plan.evaluations.last().map(|e| e.date),
        "network": plan.network.len(),
        "interventions": plan.interventions.len(),
    })
}

/// A device for `member`, through an invite made by the founder's device.
fn register_device(api: &Api, plan: PlanId, founder_token: &str, member: MemberId) -> String {
    let invite = api.expect(
        Method::POST,
        &format!("/api/plans/{plan}/invites"),
        Some(founder_token),
        Some(&json!({ "member": member, "days": 1 })),
        StatusCode::CREATED,
    );
    let accepted = api.expect(
        Method::POST,
        "/api/invites/accept",
        None,
        Some(&json!({ "code": text(&invite, "code"), "device_name": "seed_year_plan" })),
        StatusCode::CREATED,
    );
    text(&accepted, "device_token")
}

fn text(answer: &Value, key: &str) -> String {
    answer[key]
        .as_str()
        .unwrap_or_else(|| panic!("no {key} in {answer}"))
        .to_owned()
}

// ---------------------------------------------------------------------------------------------
// A blocking HTTP/1.1 client: hyper (already a dev-dependency, for sync_bench) on a one-thread
// runtime; enough for one request at a time.

struct Api {
    runtime: tokio::runtime::Runtime,
    client: Client<HttpConnector, Full<Bytes>>,
    base: String,
}

struct Reply {
    status: StatusCode,
    retry_after: Option<u64>,
    json: Value,
}

impl Api {
    fn new(base: String) -> Self {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("a tokio runtime");
        let client = runtime.block_on(async { Client::builder(TokioExecutor::new()).build_http() });
        Api {
            runtime,
            client,
            base,
        }
    }

    fn call(&self, method: Method, path: &str, token: Option<&str>, body: Option<&Value>) -> Reply {
        let mut request = Request::builder()
            .method(method.clone())
            .uri(format!("{}{path}", self.base));
        if let Some(token) = token {
            request = request.header("authorization", format!("Bearer {token}"));
        }
        let body = match body {
            Some(body) => {
                request = request.header("content-type", "application/json");
                Full::new(Bytes::from(
                    serde_json::to_vec(body).expect("json serializes"),
                ))
            }
            None => Full::new(Bytes::new()),
        };
        let request = request.body(body).expect("a valid request");
        self.runtime.block_on(async {
            let response = self.client.request(request).await.unwrap_or_else(|err| {
                panic!(
                    "{method} {}{path}: {err}; is the server running?",
                    self.base
                )
            });
            let status = response.status();
            let retry_after = response
                .headers()
                .get("retry-after")
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.trim().parse().ok());
            let bytes = response
                .into_body()
                .collect()
                .await
                .expect("the answer arrives")
                .to_bytes();
            let json = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
            Reply {
                status,
                retry_after,
                json,
            }
        })
    }

    /// A call that must answer `expected`; a rate limit (429 with Retry-After) is waited out.
    fn expect(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<&Value>,
        expected: StatusCode,
    ) -> Value {
        for _ in 0..RETRIES {
            let reply = self.call(method.clone(), path, token, body);
            if reply.status == expected {
                return reply.json;
            }
            match reply.retry_after {
                Some(secs) if reply.status == StatusCode::TOO_MANY_REQUESTS => {
                    eprintln!(
                        "seed_year_plan: {method} {path}: {}; waiting {secs} s",
                        reply.json
                    );
                    std::thread::sleep(Duration::from_secs(secs.max(1)));
                }
                _ => panic!("{method} {path}: {} {}", reply.status, reply.json),
            }
        }
        panic!("{method} {path}: still rate limited after {RETRIES} tries");
    }
}
