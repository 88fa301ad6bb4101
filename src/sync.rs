//! Talking to the Koers server: join a plan through an invite, push this device's pending
//! operations, pull everyone else's. The operation log stays the only state; a round can be cut
//! off anywhere (closed tab, dead network) and simply runs again: pushes are idempotent by
//! operation id and pulls resume from the last stored sequence number.

use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;

use koers_core::{Entity, MemberId, NodeId, Op, OpId, PlanId, Role};
use koers_store::{OpLog, StoreError};
use serde::{Deserialize, Serialize};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;

use crate::lazy_screens::ChunkUnavailable;

/// This device's membership of one plan.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Session {
    pub plan: PlanId,
    pub member: MemberId,
    pub role: Role,
    pub token: String,
}

#[derive(Clone, Debug, PartialEq)]
pub enum SyncError {
    /// No answer: offline, or the server is down. Try again later.
    Offline,
    /// The server answered with an error (`code` as in the API; `format::refusal` words it).
    Rejected {
        status: u16,
        code: String,
    },
    /// The answer could not be read.
    Malformed,
    Storage(StoreError),
}

impl From<StoreError> for SyncError {
    fn from(e: StoreError) -> Self {
        SyncError::Storage(e)
    }
}

/// What one sync round did.
#[derive(Default)]
pub struct Round {
    /// Operations from others, stored and to be applied.
    pub pulled: Vec<Op>,
    /// This device's operations the server refused; removed from the log.
    pub refused: Vec<OpId>,
    /// Some changes were refused only because this phone's clock runs ahead: they stay pending.
    pub clock_ahead: bool,
    /// Changes refused as made while the clock ran ahead, which it no longer does, got new
    /// timestamps (`koers_core::restamp`): the next round sends them.
    pub restamped: bool,
    /// The items (a goal, a visit, …) with changes still waiting for the server after this round.
    pub still_pending: Vec<Entity>,
}

/// Largest batch pushed at once (the server takes up to 1000).
const PUSH_BATCH: usize = 500;
const PULL_LIMIT: u32 = 1000;

#[derive(Deserialize)]
struct ErrorBody {
    error: String,
}

#[derive(Deserialize)]
struct Accepted {
    op: OpId,
}

#[derive(Deserialize)]
struct Refused {
    op: OpId,
    reason: String,
}

#[derive(Deserialize)]
struct PushResponse {
    accepted: Vec<Accepted>,
    refused: Vec<Refused>,
}

#[derive(Deserialize)]
struct Pulled {
    op: Op,
}

#[derive(Deserialize)]
struct PullResponse {
    ops: Vec<Pulled>,
    last_seq: i64,
    more: bool,
}

#[derive(Deserialize)]
struct Joined {
    plan: PlanId,
    member: MemberId,
    role: Role,
    device_token: String,
}

async fn call(
    method: &str,
    url: &str,
    token: Option<&str>,
    body: Option<String>,
) -> Result<String, SyncError> {
    let init = web_sys::RequestInit::new();
    init.set_method(method);
    let headers = web_sys::Headers::new().map_err(|_| SyncError::Malformed)?;
    if let Some(token) = token {
        let _ = headers.set("Authorization", &format!("Bearer {token}"));
    }
    if let Some(body) = body {
        let _ = headers.set("Content-Type", "application/json");
        init.set_body(&JsValue::from_str(&body));
    }
    init.set_headers(&headers);
    let request =
        web_sys::Request::new_with_str_and_init(url, &init).map_err(|_| SyncError::Malformed)?;
    let response: web_sys::Response =
        JsFuture::from(leptos::prelude::window().fetch_with_request(&request))
            .await
            .map_err(|_| SyncError::Offline)?
            .unchecked_into();
    let text = JsFuture::from(response.text().map_err(|_| SyncError::Malformed)?)
        .await
        .map_err(|_| SyncError::Offline)?
        .as_string()
        .unwrap_or_default();
    if response.ok() {
        return Ok(text);
    }
    let status = response.status();
    Err(match serde_json::from_str::<ErrorBody>(&text) {
        Ok(e) => SyncError::Rejected {
            status,
            code: e.error,
        },
        // Not our server's JSON (a proxy or captive portal): as good as offline.
        Err(_) => SyncError::Offline,
    })
}

fn parse<T: for<'de> Deserialize<'de>>(text: &str) -> Result<T, SyncError> {
    serde_json::from_str(text).map_err(|_| SyncError::Malformed)
}

/// Redeems an invite code: this device joins the invite's plan as its member.
pub async fn accept_invite(code: &str) -> Result<Session, SyncError> {
    let body = serde_json::json!({ "code": code, "device_name": device_name() }).to_string();
    let joined: Joined = parse(&call("POST", "/api/invites/accept", None, Some(body)).await?)?;
    Ok(Session {
        plan: joined.plan,
        member: joined.member,
        role: joined.role,
        token: joined.device_token,
    })
}

fn device_name() -> String {
    let agent = leptos::prelude::window()
        .navigator()
        .user_agent()
        .unwrap_or_default();
    let kind = ["Android", "iPhone", "iPad", "Windows", "Mac", "Linux"]
        .into_iter()
        .find(|k| agent.contains(k));
    kind.unwrap_or("Browser").to_string()
}

fn cursor_key(plan: PlanId) -> String {
    format!("cursor:{plan}")
}

/// One round: push what is pending, then pull what is new. The code for it comes in its own
/// chunk, fetched at the first round: a phone that only shows the example plan never needs it.
/// A chunk that cannot be fetched counts as offline; the next round tries again.
pub async fn round(log: Rc<OpLog>, session: Session) -> Result<Round, SyncError> {
    match round_in_chunk(log, session).await {
        Ok(round) => round.await,
        Err(ChunkUnavailable) => Err(SyncError::Offline),
    }
}

type RoundFuture = Pin<Box<dyn Future<Output = Result<Round, SyncError>>>>;

// Split functions cannot be async: this one hands back the round as a boxed future.
#[leptos::wasm_split::wasm_split(koers_sync, wasm_split_path = ::leptos::wasm_split, fallible)]
fn round_in_chunk(log: Rc<OpLog>, session: Session) -> Result<RoundFuture, ChunkUnavailable> {
    Ok(Box::pin(async move { sync_once(&log, &session).await }))
}

async fn sync_once(log: &OpLog, session: &Session) -> Result<Round, SyncError> {
    let mut round = Round::default();
    let loaded = log.load(session.plan).await?;
    let mut pending: Vec<Op> = loaded
        .ops
        .iter()
        .filter(|o| loaded.pending.contains(&o.id))
        .cloned()
        .collect();
    pending.sort_by_key(|o| (o.hlc, o.id));
    let push_url = format!("/api/plans/{}/ops", session.plan);
    let mut settled: Vec<OpId> = Vec::new();
    let mut early: Vec<OpId> = Vec::new();
    for batch in pending.chunks(PUSH_BATCH) {
        let body = serde_json::json!({ "ops": batch }).to_string();
        let answer: PushResponse =
            parse(&call("POST", &push_url, Some(&session.token), Some(body)).await?)?;
        let accepted: Vec<OpId> = answer.accepted.iter().map(|a| a.op).collect();
        log.mark_acknowledged(&accepted).await?;
        // A change dated in the future is not wrong, the phone's clock is: it stays and is sent
        // again. Anything else refused was never allowed and is rolled back.
        let (ahead, refused): (Vec<Refused>, Vec<Refused>) = answer
            .refused
            .into_iter()
            .partition(|r| r.reason == "clock_ahead");
        let refused: Vec<OpId> = refused.into_iter().map(|r| r.op).collect();
        log.remove_ops(&refused).await?;
        early.extend(ahead.into_iter().map(|r| r.op));
        settled.extend(accepted.into_iter().chain(refused.iter().copied()));
        round.refused.extend(refused);
    }
    if !early.is_empty() {
        let node = NodeId(log.meta("node").await?.unwrap_or_default());
        let restamped = koers_core::restamp(
            &loaded.ops,
            &loaded.pending,
            &early,
            node,
            js_sys::Date::now() as u64,
        );
        // Same ids: the new versions replace the old in one transaction.
        log.append_local(&restamped).await?;
        round.restamped = !restamped.is_empty();
        round.clock_ahead = restamped.len() < early.len();
    }
    round.still_pending = pending_items(pending.iter().filter(|o| !settled.contains(&o.id)));
    let mut cursor: i64 = log.meta(&cursor_key(session.plan)).await?.unwrap_or(0);
    loop {
        let url = format!(
            "/api/plans/{}/ops?after={cursor}&limit={PULL_LIMIT}",
            session.plan
        );
        let answer: PullResponse = parse(&call("GET", &url, Some(&session.token), None).await?)?;
        let ops: Vec<Op> = answer.ops.into_iter().map(|p| p.op).collect();
        log.append_remote(&ops).await?;
        cursor = answer.last_seq;
        log.set_meta(&cursor_key(session.plan), &cursor).await?;
        round.pulled.extend(ops);
        if !answer.more {
            break;
        }
    }
    Ok(round)
}

/// The items the given operations change: what the user counts as changes (one visit, not its
/// eight fields). A plain list: a set type would add its code to the first download.
pub fn pending_items<'a>(ops: impl IntoIterator<Item = &'a Op>) -> Vec<Entity> {
    let mut items = Vec::new();
    add_items(&mut items, ops);
    items
}

/// Adds the items `ops` change to `items`, each once.
pub fn add_items<'a>(items: &mut Vec<Entity>, ops: impl IntoIterator<Item = &'a Op>) {
    for op in ops {
        if !items.contains(&op.entity) {
            items.push(op.entity);
        }
    }
}

/// Signs this device out of its plan on the server: its token stops working.
pub async fn sign_out(session: &Session) -> Result<(), SyncError> {
    let url = format!("/api/plans/{}/devices/me", session.plan);
    call("DELETE", &url, Some(&session.token), None).await?;
    Ok(())
}

#[derive(Deserialize)]
struct Created {
    plan: PlanId,
    member: MemberId,
    device_token: String,
}

/// Registers a new plan (its founding operations) on the server; this device becomes the
/// founder's, a foster-care worker.
pub async fn create_plan(ops: &[Op]) -> Result<Session, SyncError> {
    let body = serde_json::json!({ "ops": ops, "device_name": device_name() }).to_string();
    let created: Created = parse(&call("POST", "/api/plans", None, Some(body)).await?)?;
    Ok(Session {
        plan: created.plan,
        member: created.member,
        role: Role::FosterCareWorker,
        token: created.device_token,
    })
}

/// A phone registered to a member of the plan.
#[derive(Clone, Debug, PartialEq, Deserialize)]
pub struct Device {
    pub device: String,
    pub member: MemberId,
    pub name: Option<String>,
    pub last_seen_at: Option<String>,
    pub revoked: bool,
}

#[derive(Deserialize)]
struct Devices {
    devices: Vec<Device>,
}

pub async fn devices(session: &Session) -> Result<Vec<Device>, SyncError> {
    let url = format!("/api/plans/{}/devices", session.plan);
    Ok(parse::<Devices>(&call("GET", &url, Some(&session.token), None).await?)?.devices)
}

pub async fn revoke_device(session: &Session, device: &str) -> Result<(), SyncError> {
    let url = format!("/api/plans/{}/devices/{device}", session.plan);
    call("DELETE", &url, Some(&session.token), None)
        .await
        .map(drop)
}

/// A fresh invite for one member: a link to open on their phone, and its QR code (SVG).
#[derive(Clone, Debug, PartialEq, Deserialize)]
pub struct Invite {
    pub invite: String,
    pub code: String,
    pub expires_at: String,
    pub link: Option<String>,
    pub qr_svg: Option<String>,
}

pub async fn invite(session: &Session, member: MemberId) -> Result<Invite, SyncError> {
    let origin = leptos::prelude::window()
        .location()
        .origin()
        .unwrap_or_default();
    let body =
        serde_json::json!({ "member": member, "link_base": format!("{origin}/uitnodiging#") })
            .to_string();
    let url = format!("/api/plans/{}/invites", session.plan);
    parse(&call("POST", &url, Some(&session.token), Some(body)).await?)
}

/// An invite as listed for the plan (without its code).
#[derive(Clone, Debug, PartialEq, Deserialize)]
pub struct InviteInfo {
    pub invite: String,
    pub member: MemberId,
    pub expires_at: String,
    /// `open`, `used`, `expired` or `revoked`.
    pub status: String,
}

#[derive(Deserialize)]
struct InviteList {
    invites: Vec<InviteInfo>,
}

pub async fn invites(session: &Session) -> Result<Vec<InviteInfo>, SyncError> {
    let url = format!("/api/plans/{}/invites", session.plan);
    Ok(parse::<InviteList>(&call("GET", &url, Some(&session.token), None).await?)?.invites)
}

pub async fn revoke_invite(session: &Session, invite: &str) -> Result<(), SyncError> {
    let url = format!("/api/plans/{}/invites/{invite}", session.plan);
    call("DELETE", &url, Some(&session.token), None)
        .await
        .map(drop)
}
