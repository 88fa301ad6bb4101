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

use crate::chunk::ChunkUnavailable;

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
    /// Changes refused for a reason this phone can mend got a new timestamp (stamped before the
    /// plan was founded, or a clock counter at its limit) or a new id (the server holds another
    /// change under theirs): kept, and the next round sends them.
    pub mended: bool,
    /// The server refused the whole push with this code (one of its limits, say): every change
    /// stays pending, and what others sent was still pulled.
    pub push_refused: Option<String>,
    /// Operations the server received more than a day after they were written (see
    /// [`BACKDATED_AFTER`]): op id and when it was received (ms since the epoch).
    pub backdated: Vec<(OpId, u64)>,
    /// The items (a goal, a visit, …) with changes still waiting for the server after this round.
    pub still_pending: Vec<Entity>,
    /// More changes wait than one request takes: another round follows at once.
    pub more_to_send: bool,
    /// Where the plan was pulled up to.
    pub cursor: i64,
}

/// A change the server received this much later than it was written is shown in history with
/// both times, so that backdating is visible. Only such (rare) changes have their time of
/// receipt kept on the phone.
pub const BACKDATED_AFTER: u64 = 24 * 3600 * 1000;

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
    seq: i64,
    op: Op,
    /// When the server stored it (RFC 3339).
    #[serde(default)]
    received_at: Option<String>,
}

/// A page of the plan's operations. Its `last_seq` (the plan's newest) is deliberately not read:
/// a page that does not hold everything ends before it, and a loop that went on from there
/// would skip the rest for good.
#[derive(Deserialize)]
struct PullResponse {
    ops: Vec<Pulled>,
    /// Where the next page starts: the last operation on this page, or the plan's newest when
    /// the page holds everything (same snapshot).
    #[serde(default)]
    cursor: Option<i64>,
    /// The plan's newest seq: only read to notice a server that holds less than this phone
    /// already pulled (its database restored from a backup).
    #[serde(default)]
    last_seq: Option<i64>,
    more: bool,
}

/// A device registered for this phone in a plan: an invite accepted, or a signed-in
/// professional's phone added to one of their plans (`accounts::register_device`).
#[derive(Deserialize)]
pub(crate) struct Joined {
    plan: PlanId,
    member: MemberId,
    role: Role,
    device_token: String,
}

impl From<Joined> for Session {
    fn from(joined: Joined) -> Session {
        Session {
            plan: joined.plan,
            member: joined.member,
            role: joined.role,
            token: joined.device_token,
        }
    }
}

/// One request to the server: the answer's text, or why there is none. `token` goes as
/// `Authorization: Bearer` (a device's token, or a professional's session).
pub(crate) async fn call(
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

pub(crate) fn parse<T: for<'de> Deserialize<'de>>(text: &str) -> Result<T, SyncError> {
    serde_json::from_str(text).map_err(|_| SyncError::Malformed)
}

/// Redeems an invite code: this device joins the invite's plan as its member. With a signed-in
/// professional's `session`, the plan also becomes part of their account's caseload.
pub async fn accept_invite(code: &str, session: Option<&str>) -> Result<Session, SyncError> {
    let body = serde_json::json!({ "code": code, "device_name": device_name() }).to_string();
    let joined: Joined = parse(&call("POST", "/api/invites/accept", session, Some(body)).await?)?;
    Ok(joined.into())
}

/// How this phone is named in the lists of phones ("Android", "iPhone", …).
pub(crate) fn device_name() -> String {
    let agent = leptos::prelude::window()
        .navigator()
        .user_agent()
        .unwrap_or_default();
    let kind = ["Android", "iPhone", "iPad", "Windows", "Mac", "Linux"]
        .into_iter()
        .find(|k| agent.contains(k));
    kind.unwrap_or("Browser").to_string()
}

/// The device fact holding the seq up to which the plan was pulled.
pub fn cursor_key(plan: PlanId) -> String {
    format!("cursor:{plan}")
}

/// The device fact holding the plan's backdated operations (see [`Round::backdated`]).
pub fn received_key(plan: PlanId) -> String {
    format!("received:{plan}")
}

/// A plan to sync in a round, with whether it has changes waiting (only those are read from
/// the log: with twenty plans a round reads nothing it does not send).
#[derive(Clone, Debug)]
pub struct Wanted {
    pub session: Session,
    pub push: bool,
}

/// What a round did for each plan it was asked to sync (in the order asked), or why it did
/// nothing at all (offline, say).
pub type Rounds = Result<Vec<(PlanId, Result<Round, SyncError>)>, SyncError>;

/// One round for the given plans: one request pushes what is pending and pulls what is new for
/// all of them (`POST /api/sync`); a plan with more to pull goes on page by page. The code for
/// it comes in its own chunk, fetched at the first round: a phone that only shows the example
/// plan never needs it. A chunk that cannot be fetched counts as offline; the next round tries
/// again.
pub async fn round(log: Rc<OpLog>, wanted: Vec<Wanted>) -> Rounds {
    match round_in_chunk(log, wanted).await {
        Ok(round) => round.await,
        Err(ChunkUnavailable) => Err(SyncError::Offline),
    }
}

type RoundFuture = Pin<Box<dyn Future<Output = Rounds>>>;

// Split functions cannot be async: this one hands back the round as a boxed future.
#[leptos::wasm_split::wasm_split(koers_sync, wasm_split_path = ::leptos::wasm_split, fallible)]
fn round_in_chunk(log: Rc<OpLog>, wanted: Vec<Wanted>) -> Result<RoundFuture, ChunkUnavailable> {
    Ok(Box::pin(async move { sync_all(&log, wanted).await }))
}

#[derive(Deserialize)]
struct Problem {
    status: u16,
    error: String,
}

/// One plan's part of the answer to `POST /api/sync`.
#[derive(Deserialize)]
struct PlanAnswer {
    #[serde(default)]
    error: Option<Problem>,
    #[serde(default)]
    push: Option<PushResponse>,
    #[serde(default)]
    push_error: Option<Problem>,
    #[serde(flatten)]
    pull: Option<PullResponse>,
}

#[derive(Deserialize)]
struct SyncAnswer {
    plans: Vec<PlanAnswer>,
}

async fn sync_all(log: &OpLog, wanted: Vec<Wanted>) -> Rounds {
    let mut plans = Vec::with_capacity(wanted.len());
    for w in wanted {
        plans.push(PlanRound::read(log, w).await?);
    }
    let entries: Vec<serde_json::Value> = plans
        .iter()
        .map(|p| {
            let ops = &p.pending[..p.pending.len().min(PUSH_BATCH)];
            serde_json::json!({ "plan": p.session.plan, "token": p.session.token,
                "after": p.cursor, "limit": PULL_LIMIT, "ops": ops })
        })
        .collect();
    let body = serde_json::json!({ "plans": entries }).to_string();
    let answer: SyncAnswer = parse(&call("POST", "/api/sync", None, Some(body)).await?)?;
    if answer.plans.len() != plans.len() {
        return Err(SyncError::Malformed);
    }
    let mut done = Vec::with_capacity(plans.len());
    for (plan, answer) in plans.into_iter().zip(answer.plans) {
        let id = plan.session.plan;
        done.push((id, plan.finish(log, answer).await));
    }
    Ok(done)
}

/// One plan's part of a round.
struct PlanRound {
    session: Session,
    round: Round,
    cursor: i64,
    /// This phone's operations of the plan (read only when some wait to be sent) and the ids of
    /// those waiting.
    mine: Vec<Op>,
    unsettled: Vec<OpId>,
    /// The waiting operations, oldest first.
    pending: Vec<Op>,
}

impl PlanRound {
    async fn read(log: &OpLog, wanted: Wanted) -> Result<PlanRound, SyncError> {
        let cursor: i64 = log
            .meta(&cursor_key(wanted.session.plan))
            .await?
            .unwrap_or(0);
        let (mine, unsettled, mut pending) = if wanted.push {
            let loaded = log.load(wanted.session.plan).await?;
            let pending: Vec<Op> = loaded
                .ops
                .iter()
                .filter(|o| loaded.pending.contains(&o.id))
                .cloned()
                .collect();
            (loaded.ops, loaded.pending, pending)
        } else {
            (Vec::new(), Vec::new(), Vec::new())
        };
        pending.sort_by_key(|o| (o.hlc, o.id));
        Ok(PlanRound {
            session: wanted.session,
            round: Round::default(),
            cursor,
            mine,
            unsettled,
            pending,
        })
    }

    /// Takes the server's answer for this plan in: the push's, then the pull's first page, then
    /// the rest of the pull page by page.
    async fn finish(mut self, log: &OpLog, answer: PlanAnswer) -> Result<Round, SyncError> {
        if let Some(problem) = answer.error {
            return Err(SyncError::Rejected {
                status: problem.status,
                code: problem.error,
            });
        }
        let sent = self.pending.len().min(PUSH_BATCH);
        let mut settled: Vec<OpId> = Vec::new();
        if let Some(problem) = answer.push_error {
            // One of the server's limits (or another refusal of the whole push): nothing was
            // stored, so everything stays pending; what others sent is still pulled.
            self.round.push_refused = Some(problem.error);
        } else if let Some(push) = answer.push {
            self.pushed(log, push, &mut settled).await?;
        }
        self.round.more_to_send = self.round.push_refused.is_none() && self.pending.len() > sent;
        self.round.still_pending =
            pending_items(self.pending.iter().filter(|o| !settled.contains(&o.id)));
        self.unsettled.retain(|id| !settled.contains(id));
        let mut page = answer.pull.ok_or(SyncError::Malformed)?;
        let mut restarted = false;
        loop {
            // A server whose plan ends before this phone's cursor was restored from a backup:
            // the seqs it hands out from now on were this phone's once, so start again from the
            // first (pulling what is already here again changes nothing).
            if page.last_seq.is_some_and(|last| last < self.cursor) && !restarted {
                restarted = true;
                self.cursor = 0;
                log.set_meta(&cursor_key(self.session.plan), &self.cursor)
                    .await?;
            } else if !self.take_page(log, page).await? {
                break;
            }
            let url = format!(
                "/api/plans/{}/ops?after={}&limit={PULL_LIMIT}",
                self.session.plan, self.cursor
            );
            page = parse(&call("GET", &url, Some(&self.session.token), None).await?)?;
        }
        self.round.cursor = self.cursor;
        Ok(self.round)
    }

    /// The push's answer: acknowledged changes marked so; a change refused for its timestamp or
    /// its id is not wrong, and stays: it gets a new one and is sent again. Anything else
    /// refused was never allowed and is rolled back.
    async fn pushed(
        &mut self,
        log: &OpLog,
        answer: PushResponse,
        settled: &mut Vec<OpId>,
    ) -> Result<(), SyncError> {
        let accepted: Vec<OpId> = answer.accepted.iter().map(|a| a.op).collect();
        log.mark_acknowledged(&accepted).await?;
        let (mut early, mut stale, mut reused, mut refused) =
            (Vec::new(), Vec::new(), Vec::new(), Vec::new());
        for r in answer.refused {
            match r.reason.as_str() {
                "clock_ahead" => early.push(r.op),
                "before_plan" | "hlc_counter_limit" => stale.push(r.op),
                "op_id_reused" => reused.push(r.op),
                _ => refused.push(r.op),
            }
        }
        log.remove_ops(&refused).await?;
        settled.extend(accepted.into_iter().chain(refused.iter().copied()));
        self.round.refused.extend(refused);
        if early.is_empty() && stale.is_empty() && reused.is_empty() {
            return Ok(());
        }
        let unsettled: Vec<OpId> = self
            .unsettled
            .iter()
            .filter(|id| !settled.contains(id))
            .copied()
            .collect();
        let node = NodeId(log.meta("node").await?.unwrap_or_default());
        let now = js_sys::Date::now() as u64;
        // Both kinds of timestamp refusal in one go, so the changes keep the order they were
        // made in.
        let mut mended =
            koers_core::restamp_refused(&self.mine, &unsettled, &early, &stale, node, now);
        let early_restamped = mended.iter().filter(|o| early.contains(&o.id)).count();
        self.round.restamped = early_restamped > 0;
        self.round.clock_ahead = early_restamped < early.len();
        replace(&mut self.mine, &mended);
        let renewed = koers_core::renew_ids(&self.mine, &unsettled, &reused, uuid::Uuid::new_v4);
        // The old ids are gone from this phone: another device's change arriving under one of
        // them below is no clash, and must not renew the change a second time.
        take_renewed(&mut self.mine, &mut self.unsettled, &renewed, &reused);
        mended.extend(renewed);
        self.round.mended = !stale.is_empty() || !reused.is_empty();
        // Same ids replace the old versions. New ids are stored before the old ones go: a
        // closed tab in between leaves the change twice (the same content, harmless), never
        // not at all.
        log.append_local(&mended).await?;
        log.remove_ops(&reused).await?;
        Ok(())
    }

    /// Stores one page of the pull and moves the cursor on; whether another page follows.
    async fn take_page(&mut self, log: &OpLog, answer: PullResponse) -> Result<bool, SyncError> {
        // Without a cursor (a server from before it had one), the last operation on the page
        // is where the next page starts: never further.
        let next = answer
            .cursor
            .or_else(|| answer.ops.iter().map(|p| p.seq).max())
            .unwrap_or(self.cursor);
        let backdated = backdated(&answer.ops);
        let ops: Vec<Op> = answer.ops.into_iter().map(|p| p.op).collect();
        // Another change under the id of one of ours still waiting would overwrite it in the
        // log: ours gets a new id first (as for `op_id_reused`), and the other takes the old.
        let clash: Vec<OpId> = ops
            .iter()
            .filter(|o| self.unsettled.contains(&o.id))
            .filter(|o| self.mine.iter().any(|m| m.id == o.id && m != *o))
            .map(|o| o.id)
            .collect();
        if !clash.is_empty() {
            let renewed =
                koers_core::renew_ids(&self.mine, &self.unsettled, &clash, uuid::Uuid::new_v4);
            log.append_local(&renewed).await?;
            take_renewed(&mut self.mine, &mut self.unsettled, &renewed, &clash);
            self.round.mended = true;
        }
        // Also this phone's own changes, acknowledged now if the answer to their push was lost.
        log.append_remote(&ops).await?;
        if !backdated.is_empty() {
            // Before the cursor moves on: a round cut off here pulls the page again.
            let key = received_key(self.session.plan);
            let mut known: Vec<(OpId, u64)> = log.meta(&key).await?.unwrap_or_default();
            merge_backdated(&mut known, &backdated);
            log.set_meta(&key, &known).await?;
            self.round.backdated.extend(backdated);
        }
        self.round.pulled.extend(ops);
        // A cursor that does not move on would ask for the same page forever.
        let stuck = next <= self.cursor;
        if next > self.cursor {
            self.cursor = next;
            log.set_meta(&cursor_key(self.session.plan), &self.cursor)
                .await?;
        }
        Ok(answer.more && !stuck)
    }
}

/// The pulled operations the server received more than [`BACKDATED_AFTER`] after they were
/// written, with when it received them.
fn backdated(pulled: &[Pulled]) -> Vec<(OpId, u64)> {
    pulled
        .iter()
        .filter_map(|p| {
            let received = js_sys::Date::parse(p.received_at.as_deref()?);
            if !received.is_finite() {
                return None;
            }
            let received = received as u64;
            (received.saturating_sub(p.op.hlc.millis) > BACKDATED_AFTER)
                .then_some((p.op.id, received))
        })
        .collect()
}

/// Adds `new` to `known` (kept sorted by op id), each operation once. A plan imported with a
/// long past can have thousands: no pairwise search.
pub fn merge_backdated(known: &mut Vec<(OpId, u64)>, new: &[(OpId, u64)]) {
    known.extend_from_slice(new);
    known.sort_by_key(|(op, _)| *op);
    known.dedup_by_key(|(op, _)| *op);
}

/// `ops` with the operations in `new` put in place of those with the same id.
/// Takes changes given new ids (`koers_core::renew_ids`) into this round's view of the phone's
/// operations: the renewed ones in, waiting; the `old` ids out of both.
fn take_renewed(mine: &mut Vec<Op>, unsettled: &mut Vec<OpId>, renewed: &[Op], old: &[OpId]) {
    mine.retain(|o| !old.contains(&o.id));
    unsettled.retain(|id| !old.contains(id));
    replace(mine, renewed);
    for op in renewed {
        if !mine.iter().any(|o| o.id == op.id) {
            mine.push(op.clone());
            unsettled.push(op.id);
        }
    }
}

fn replace(ops: &mut [Op], new: &[Op]) {
    for op in ops.iter_mut() {
        if let Some(n) = new.iter().find(|n| n.id == op.id) {
            *op = n.clone();
        }
    }
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
/// founder's, a foster-care worker. Only a signed-in professional may (`session`, else the
/// server answers 401 `session_missing`): the plan belongs to their organisation.
pub async fn create_plan(ops: &[Op], session: Option<&str>) -> Result<Session, SyncError> {
    let body = serde_json::json!({ "ops": ops, "device_name": device_name() }).to_string();
    let created: Created = parse(&call("POST", "/api/plans", session, Some(body)).await?)?;
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
