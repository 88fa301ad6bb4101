//! What the server refuses to keep or serve, so that one family's runaway phone, a slow or
//! hostile client or a code-guessing script cannot take the server (or another family's plan)
//! down. Every refusal is a whole request: nothing of it is stored, and the answer is a 4xx with
//! one sentence saying what to do; the phone keeps its unsent changes.
//!
//! - Per plan ([`Limits::check_push`], counted in [`Usage`], kept in the plan's
//!   [`crate::plans::PlanState`]): operations per member per day (`429 daily_limit`), items of one
//!   kind (`422 item_limit`) and the plan's size in bytes (`413 plan_too_large`).
//! - Connections: a header-read timeout ([`serve`]), a request timeout ([`request_timeout`]; the
//!   event stream is not cut by it), event streams per device ([`Limits::open_stream`],
//!   `429 too_many_streams`) and a rate limit on invite acceptance per peer address and per code
//!   prefix ([`invite_rate_limit`], `429 rate_limited` with `Retry-After`).
//! - Logs: the request span records the path only, never the query, because the event stream
//!   carries the device token as `?access_token=` ([`request_span`]).
//!
//! The numbers are in the README ("Limits"); tests use smaller ones through [`LimitsConfig`].

use std::collections::{HashMap, HashSet};
use std::io::Write as _;
use std::net::{IpAddr, SocketAddr};
use std::num::NonZeroU32;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use axum::extract::{ConnectInfo, Request, State};
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use chrono::{NaiveDate, Utc};
use futures_util::{Stream, StreamExt as _};
use governor::clock::Clock as _;
use governor::{DefaultKeyedRateLimiter, Quota};
use koers_core::{Entity, MemberId, Op};

use crate::error::ApiError;
use crate::plans::PlanState;
use koers_database::{Database, DatabaseError, Timestamp};

/// Operations one member may store in one plan in one day (UTC). A busy day is a few hundred;
/// a whole year's plan is about 5,000.
pub const OPS_PER_MEMBER_PER_DAY: u32 = 20_000;
/// The plan's size in memory, estimated as the JSON size of its operations. A year's plan is
/// about 1.5 MB.
pub const PLAN_BYTES: usize = 16 * 1024 * 1024;
/// Event streams one device may hold open at once (a phone and a few tabs).
pub const STREAMS_PER_DEVICE: usize = 4;
/// Time for a client to send a request's headers.
pub const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(10);
/// Time for a whole request (body included) until the response starts. The event stream's
/// response starts at once, so it is not cut.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);
/// Invite codes one address may try: a burst of this many…
pub const INVITE_ACCEPTS_PER_ADDRESS: u32 = 20;
/// …and then one more every this long.
pub const INVITE_ACCEPT_ADDRESS_PERIOD: Duration = Duration::from_secs(3);
/// Invite codes with the same first [`CODE_PREFIX_CHARS`] characters that may be tried, from
/// anywhere: a burst of this many, then one more every [`INVITE_ACCEPT_PREFIX_PERIOD`].
pub const INVITE_ACCEPTS_PER_PREFIX: u32 = 10;
pub const INVITE_ACCEPT_PREFIX_PERIOD: Duration = Duration::from_secs(6);
/// Characters of an invite code that make its prefix: 2 base64url characters, 4,096 buckets, so
/// that the limiter's memory stays bounded whatever codes are sent.
pub const CODE_PREFIX_CHARS: usize = 2;

/// Passkey sign-ins, enrolments and invite acceptances with a session, each counted per
/// address and per account (or per enrolment link): a burst of this many…
pub const ATTEMPTS_PER_ADDRESS: u32 = 20;
/// …then one more every this long.
pub const ATTEMPT_ADDRESS_PERIOD: Duration = Duration::from_secs(3);
/// Per account (or link): a burst of this many, then one more every [`ATTEMPT_ACCOUNT_PERIOD`].
pub const ATTEMPTS_PER_ACCOUNT: u32 = 10;
pub const ATTEMPT_ACCOUNT_PERIOD: Duration = Duration::from_secs(6);

/// What is being tried, for the limits of [`Limits::attempt`]: each kind has its own buckets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Attempt {
    SignIn,
    Enrolment,
    InviteAcceptance,
}

/// Items of one kind one plan may hold, deleted ones included (they stay in the plan's
/// history). `None`: no limit, the kind holds at most a fixed number (the plan itself, its
/// decision, one date entity per phase).
pub fn item_limit(entity: &Entity) -> Option<usize> {
    match entity {
        Entity::Member(_) | Entity::Consent(_) => Some(100),
        Entity::Goal(_) => Some(500),
        Entity::GoalComment(_) => Some(10_000),
        Entity::ContactMoment(_) => Some(5_000),
        Entity::Evaluation(_) => Some(500),
        Entity::Intervention(_) => Some(1_000),
        Entity::NetworkPerson(_) => Some(500),
        Entity::Plan | Entity::PhaseDates(_) | Entity::Decision => None,
    }
}

/// The numbers the server keeps to; [`Default`] gives the constants above.
#[derive(Debug, Clone)]
pub struct LimitsConfig {
    pub ops_per_member_per_day: u32,
    pub plan_bytes: usize,
    /// Overrides [`item_limit`] for every kind that has one (tests).
    pub items_per_kind: Option<usize>,
    pub streams_per_device: usize,
    pub header_read_timeout: Duration,
    pub request_timeout: Duration,
    pub invite_accepts_per_address: u32,
    pub invite_accept_address_period: Duration,
    pub invite_accepts_per_prefix: u32,
    pub invite_accept_prefix_period: Duration,
    /// [`ATTEMPTS_PER_ADDRESS`] and the others, for [`Limits::attempt`].
    pub attempts_per_address: u32,
    pub attempt_address_period: Duration,
    pub attempts_per_account: u32,
    pub attempt_account_period: Duration,
    /// The peer is a reverse proxy that sets `X-Forwarded-For` to the client's address
    /// (`KOERS_BEHIND_PROXY`): the per-address limit counts that address. Off by default, as
    /// anyone could otherwise pick the address they are counted under.
    pub trust_forwarded_for: bool,
}

impl Default for LimitsConfig {
    fn default() -> Self {
        LimitsConfig {
            ops_per_member_per_day: OPS_PER_MEMBER_PER_DAY,
            plan_bytes: PLAN_BYTES,
            items_per_kind: None,
            streams_per_device: STREAMS_PER_DEVICE,
            header_read_timeout: HEADER_READ_TIMEOUT,
            request_timeout: REQUEST_TIMEOUT,
            invite_accepts_per_address: INVITE_ACCEPTS_PER_ADDRESS,
            invite_accept_address_period: INVITE_ACCEPT_ADDRESS_PERIOD,
            invite_accepts_per_prefix: INVITE_ACCEPTS_PER_PREFIX,
            invite_accept_prefix_period: INVITE_ACCEPT_PREFIX_PERIOD,
            attempts_per_address: ATTEMPTS_PER_ADDRESS,
            attempt_address_period: ATTEMPT_ADDRESS_PERIOD,
            attempts_per_account: ATTEMPTS_PER_ACCOUNT,
            attempt_account_period: ATTEMPT_ACCOUNT_PERIOD,
            trust_forwarded_for: false,
        }
    }
}

fn quota(burst: u32, period: Duration) -> Quota {
    let burst = NonZeroU32::new(burst.max(1)).expect("at least one");
    Quota::with_period(period.max(Duration::from_millis(1)))
        .expect("a period above zero")
        .allow_burst(burst)
}

/// The limits' shared state: open event streams per device and the invite limiters.
pub struct Limits {
    pub config: LimitsConfig,
    streams: Arc<Mutex<HashMap<String, usize>>>,
    by_address: DefaultKeyedRateLimiter<IpAddr>,
    by_prefix: DefaultKeyedRateLimiter<String>,
    attempts_by_address: DefaultKeyedRateLimiter<(Attempt, IpAddr)>,
    attempts_by_account: DefaultKeyedRateLimiter<(Attempt, String)>,
    /// Invite attempts seen, to forget idle limiter keys now and then.
    attempts: AtomicU64,
}

impl std::fmt::Debug for Limits {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Limits")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl Default for Limits {
    fn default() -> Self {
        Limits::new(LimitsConfig::default())
    }
}

/// What a plan has used of its limits. Filled on the first push after the plan was loaded
/// (from the replica and the database), then kept up to date as batches are stored.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Usage {
    ready: bool,
    /// The UTC day `per_member` counts.
    day: Option<NaiveDate>,
    per_member: HashMap<MemberId, u32>,
    /// Estimated size of the plan's operations, in bytes ([`op_bytes`]).
    bytes: usize,
    /// Items the plan holds, by kind ([`Entity::kind_name`]).
    items: HashMap<&'static str, usize>,
    /// Items the push being checked would add: counted in `items` once stored.
    pending: HashSet<Entity>,
}

/// Bytes an operation takes besides its value (ids, clock, entity and field as JSON): its JSON
/// is about this plus the value's.
const OP_FIXED_BYTES: usize = 250;

/// Counts bytes written, so a value's JSON size is known without keeping the text.
struct Counter(usize);

impl std::io::Write for Counter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0 += buf.len();
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn value_bytes(value: &serde_json::Value) -> usize {
    let mut counter = Counter(0);
    let _ = serde_json::to_writer(&mut counter, value);
    let _ = counter.flush();
    counter.0
}

/// The estimated size of one operation: cheap (no text kept), the same for a pushed op and for
/// one counted from the replica.
pub fn op_bytes(op: &Op) -> usize {
    OP_FIXED_BYTES + value_bytes(&op.value)
}

fn start_of_day(day: NaiveDate) -> Timestamp {
    day.and_hms_opt(0, 0, 0).expect("midnight").and_utc()
}

impl Limits {
    pub fn new(config: LimitsConfig) -> Self {
        let by_address = DefaultKeyedRateLimiter::keyed(quota(
            config.invite_accepts_per_address,
            config.invite_accept_address_period,
        ));
        let by_prefix = DefaultKeyedRateLimiter::keyed(quota(
            config.invite_accepts_per_prefix,
            config.invite_accept_prefix_period,
        ));
        let attempts_by_address = DefaultKeyedRateLimiter::keyed(quota(
            config.attempts_per_address,
            config.attempt_address_period,
        ));
        let attempts_by_account = DefaultKeyedRateLimiter::keyed(quota(
            config.attempts_per_account,
            config.attempt_account_period,
        ));
        Limits {
            config,
            streams: Arc::default(),
            by_address,
            by_prefix,
            attempts_by_address,
            attempts_by_account,
            attempts: AtomicU64::new(0),
        }
    }

    fn items_allowed(&self, entity: &Entity) -> Option<usize> {
        item_limit(entity).map(|limit| self.config.items_per_kind.unwrap_or(limit))
    }

    /// Fills `usage` after the plan was loaded, and recounts the day's operations from the
    /// database once a new day began: the counts come from what the database received (author
    /// and `received_at`), so they survive a restart and count every server instance.
    async fn refresh(&self, db: &dyn Database, plan: &mut PlanState) -> Result<(), DatabaseError> {
        let today = Utc::now().date_naive();
        if plan.usage.ready && plan.usage.day == Some(today) {
            return Ok(());
        }
        if !plan.usage.ready {
            plan.usage.bytes = plan
                .replica
                .registers()
                .flat_map(|(_, _, register)| register.writes())
                .map(|write| OP_FIXED_BYTES + value_bytes(&write.value))
                .sum();
            plan.usage.items = items_by_kind(plan);
        }
        let counts = db
            .ops_per_author_since(plan.replica.plan_id(), start_of_day(today))
            .await?;
        plan.usage.per_member = counts.into_iter().collect();
        plan.usage.day = Some(today);
        plan.usage.ready = true;
        Ok(())
    }

    /// Checks a push by `member` against the plan's limits, before anything of it is applied or
    /// stored. Counts only operations the plan does not hold yet (re-sends are free), as if all
    /// were accepted: a batch that might cross a limit is refused whole.
    pub async fn check_push(
        &self,
        db: &dyn Database,
        plan: &mut PlanState,
        member: MemberId,
        ops: &[Op],
    ) -> Result<(), ApiError> {
        self.refresh(db, plan).await?;
        plan.usage.pending.clear();
        let plan_id = plan.replica.plan_id();
        let mut seen = HashSet::new();
        let new: Vec<&Op> = ops
            .iter()
            .filter(|op| op.plan == plan_id && op.author == member)
            .filter(|op| !plan.replica.contains(op.id) && seen.insert(op.id))
            .collect();
        if new.is_empty() {
            return Ok(());
        }

        let today = plan.usage.per_member.get(&member).copied().unwrap_or(0);
        let limit = self.config.ops_per_member_per_day;
        if u64::from(today) + new.len() as u64 > u64::from(limit) {
            return Err(ApiError::new(
                StatusCode::TOO_MANY_REQUESTS,
                "daily_limit",
                format!(
                    "You sent {today} changes to this plan today and one person may send at most {limit} a day; your changes stay on this phone and are sent after midnight (UTC)."
                ),
            ));
        }

        let bytes = plan.usage.bytes + new.iter().map(|op| op_bytes(op)).sum::<usize>();
        if bytes > self.config.plan_bytes {
            return Err(ApiError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "plan_too_large",
                format!(
                    "This plan has grown to the most the server keeps for one plan ({} MB); your changes stay on this phone: export the plan and ask the foster-care worker to start a new one.",
                    self.config.plan_bytes / (1024 * 1024)
                ),
            ));
        }

        // New items by kind: entities the plan does not hold yet.
        let mut new_items: HashMap<&'static str, HashSet<Entity>> = HashMap::new();
        for op in &new {
            if self.items_allowed(&op.entity).is_some()
                && plan.replica.fields_of(op.entity).next().is_none()
            {
                new_items
                    .entry(op.entity.kind_name())
                    .or_default()
                    .insert(op.entity);
            }
        }
        for (kind, items) in &new_items {
            let Some(entity) = items.iter().next() else {
                continue;
            };
            let allowed = self.items_allowed(entity).unwrap_or(usize::MAX);
            let now = plan.usage.items.get(kind).copied().unwrap_or(0);
            if now + items.len() > allowed {
                return Err(ApiError::new(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "item_limit",
                    format!(
                        "This plan holds {now} items of kind {kind} and may hold at most {allowed}; removed ones count too, so no more of this kind can be added; ask the foster-care worker. Your changes stay on this phone."
                    ),
                ));
            }
        }
        plan.usage.pending = new_items.into_values().flatten().collect();
        Ok(())
    }

    /// Counts operations a push newly stored (not re-sends) against the day, the size and the
    /// items.
    pub fn record<'a>(&self, plan: &mut PlanState, stored: impl IntoIterator<Item = &'a Op>) {
        let today = Utc::now().date_naive();
        let same_day = plan.usage.day == Some(today);
        for op in stored {
            plan.usage.bytes += op_bytes(op);
            if plan.usage.pending.remove(&op.entity) {
                *plan.usage.items.entry(op.entity.kind_name()).or_default() += 1;
            }
            if same_day {
                *plan.usage.per_member.entry(op.author).or_default() += 1;
            }
        }
        if !same_day {
            // A new day began during the push: recount from the database on the next one.
            plan.usage.day = None;
        }
    }

    /// Takes one of the device's event-stream places, or refuses with `429 too_many_streams`.
    /// The place is given back when the returned guard is dropped (the stream ends or the client
    /// hangs up).
    pub fn open_stream(&self, device: &str) -> Result<StreamGuard, ApiError> {
        let mut streams = self.streams.lock().unwrap_or_else(PoisonError::into_inner);
        let open = streams.entry(device.to_owned()).or_default();
        if *open >= self.config.streams_per_device {
            return Err(ApiError::new(
                StatusCode::TOO_MANY_REQUESTS,
                "too_many_streams",
                format!(
                    "This device already follows this plan in {} places, the most allowed; close other Koers tabs or windows and try again.",
                    self.config.streams_per_device
                ),
            ));
        }
        *open += 1;
        Ok(StreamGuard {
            streams: Arc::clone(&self.streams),
            device: device.to_owned(),
        })
    }

    /// Counts one attempt of `kind` from `address` and, when known, for `account` (an account
    /// id, or an enrolment link's hash): `429 too_many_attempts` with `Retry-After` beyond the
    /// limits. Several instances each count their own (the README says how to make nginx count
    /// for all).
    pub fn attempt(
        &self,
        kind: Attempt,
        address: IpAddr,
        account: Option<&str>,
    ) -> Result<(), ApiError> {
        if self.attempts.fetch_add(1, Ordering::Relaxed) % 1024 == 1023 {
            self.attempts_by_address.retain_recent();
            self.attempts_by_account.retain_recent();
        }
        let refuse = |not_until: governor::NotUntil<_>, what: &str| {
            let seconds = not_until
                .wait_time_from(governor::clock::DefaultClock::default().now())
                .as_secs()
                + 1;
            let mut error = ApiError::new(
                StatusCode::TOO_MANY_REQUESTS,
                "too_many_attempts",
                format!("Too many attempts {what} just now; wait {seconds} seconds and try again."),
            );
            error.retry_after = Some(seconds);
            error
        };
        self.attempts_by_address
            .check_key(&(kind, network_of(address)))
            .map_err(|n| refuse(n, "from this address"))?;
        if let Some(account) = account {
            self.attempts_by_account
                .check_key(&(kind, account.to_owned()))
                .map_err(|n| refuse(n, "for this account"))?;
        }
        Ok(())
    }

    /// Checks one attempt to accept an invite from `address` with `code`. `Err` holds the
    /// seconds to wait.
    fn check_invite(&self, address: IpAddr, code: Option<&str>) -> Result<(), (u64, &'static str)> {
        // Forget addresses and prefixes that have been quiet long enough to be full again.
        if self.attempts.fetch_add(1, Ordering::Relaxed) % 1024 == 1023 {
            self.by_address.retain_recent();
            self.by_prefix.retain_recent();
        }
        let wait = |not_until: governor::NotUntil<_>, clock: &governor::clock::DefaultClock| {
            not_until.wait_time_from(clock.now()).as_secs() + 1
        };
        if let Err(not_until) = self.by_address.check_key(&network_of(address)) {
            return Err((
                wait(not_until, self.by_address.clock()),
                "from this address",
            ));
        }
        if let Some(prefix) = code.map(code_prefix).filter(|p| !p.is_empty()) {
            if let Err(not_until) = self.by_prefix.check_key(&prefix) {
                return Err((
                    wait(not_until, self.by_prefix.clock()),
                    "for codes like this one",
                ));
            }
        }
        Ok(())
    }
}

/// The address the invite limit counts by: an IPv4 address itself, an IPv6 address by its /64
/// (one household or phone gets a whole /64, and would otherwise have 2^64 addresses to try from).
fn network_of(address: IpAddr) -> IpAddr {
    match address {
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => IpAddr::V6(std::net::Ipv6Addr::from(
                u128::from(v6) & !((1u128 << 64) - 1),
            )),
        },
        v4 => v4,
    }
}

/// The first [`CODE_PREFIX_CHARS`] characters of a code, as the server reads codes (trimmed).
fn code_prefix(code: &str) -> String {
    code.trim().chars().take(CODE_PREFIX_CHARS).collect()
}

/// Items of each kind the plan holds (entities of the replica, deleted ones included).
/// Counts operations another instance stored, read into `plan` by a catch-up
/// ([`crate::plans::catch_up`]), with when the database received each: the same counts a fresh
/// load would give, without asking the database again. A plan whose usage is not filled yet is
/// counted whole on its next push anyway.
pub fn count_caught_up<'a>(
    plan: &mut PlanState,
    ops: impl IntoIterator<Item = (&'a Op, Timestamp)>,
) {
    if !plan.usage.ready {
        return;
    }
    let day = plan.usage.day;
    for (op, received) in ops {
        plan.usage.bytes += op_bytes(op);
        if day == Some(received.date_naive()) {
            *plan.usage.per_member.entry(op.author).or_default() += 1;
        }
    }
    plan.usage.items = items_by_kind(plan);
}

fn items_by_kind(plan: &PlanState) -> HashMap<&'static str, usize> {
    let mut counts = HashMap::new();
    let mut last = None;
    // Registers are ordered by entity, so each entity's registers come together.
    for (entity, _, _) in plan.replica.registers() {
        if last != Some(*entity) {
            last = Some(*entity);
            *counts.entry(entity.kind_name()).or_default() += 1;
        }
    }
    counts
}

/// Holds one event-stream place of a device; gives it back when dropped.
#[derive(Debug)]
pub struct StreamGuard {
    streams: Arc<Mutex<HashMap<String, usize>>>,
    device: String,
}

impl Drop for StreamGuard {
    fn drop(&mut self) {
        let mut streams = self.streams.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(open) = streams.get_mut(&self.device) {
            *open = open.saturating_sub(1);
            if *open == 0 {
                streams.remove(&self.device);
            }
        }
    }
}

/// The event stream, holding `guard` for as long as it lives.
pub fn guarded<S, T>(stream: S, guard: StreamGuard) -> impl Stream<Item = T> + Send
where
    S: Stream<Item = T> + Send,
{
    stream.map(move |item| {
        let _held = &guard;
        item
    })
}

/// The client's address as the proxy in front wrote it: the last `X-Forwarded-For` entry (a
/// proxy that appends puts the address it saw last; ours overwrites the header).
/// The client's address, as the rate limits count it: the TCP peer's ([`ConnectInfo`]), or
/// behind a reverse proxy the one it forwards ([`LimitsConfig::trust_forwarded_for`]).
#[derive(Debug, Clone, Copy)]
pub struct ClientAddress(pub IpAddr);

impl ClientAddress {
    fn of(
        limits: &Limits,
        extensions: &axum::http::Extensions,
        headers: &axum::http::HeaderMap,
    ) -> Self {
        let peer = extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map_or(IpAddr::from([0, 0, 0, 0]), |ConnectInfo(addr)| addr.ip());
        ClientAddress(if limits.config.trust_forwarded_for {
            forwarded_for(headers).unwrap_or(peer)
        } else {
            peer
        })
    }
}

impl axum::extract::FromRequestParts<crate::AppState> for ClientAddress {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        state: &crate::AppState,
    ) -> Result<Self, Self::Rejection> {
        Ok(ClientAddress::of(
            &state.limits,
            &parts.extensions,
            &parts.headers,
        ))
    }
}

fn forwarded_for(headers: &axum::http::HeaderMap) -> Option<IpAddr> {
    let value = headers.get("x-forwarded-for")?.to_str().ok()?;
    value.rsplit(',').next()?.trim().parse().ok()
}

/// Middleware of `POST /api/invites/accept`: at most a few attempts per peer address and per
/// code prefix; beyond that `429 rate_limited` with `Retry-After`. The address is the TCP
/// peer's ([`ConnectInfo`]), or behind a reverse proxy the one it forwards
/// ([`LimitsConfig::trust_forwarded_for`]).
pub async fn invite_rate_limit(
    State(limits): State<Arc<Limits>>,
    request: Request,
    next: Next,
) -> Response {
    let ClientAddress(address) =
        ClientAddress::of(&limits, request.extensions(), request.headers());
    // The code is in the JSON body: read it (the body limit still applies), then hand the same
    // bytes on to the handler.
    let (parts, body) = request.into_parts();
    let bytes = match axum::body::to_bytes(body, crate::MAX_REQUEST_BODY).await {
        Ok(bytes) => bytes,
        Err(_) => return StatusCode::PAYLOAD_TOO_LARGE.into_response(),
    };
    let code = serde_json::from_slice::<serde_json::Value>(&bytes)
        .ok()
        .and_then(|body| body.get("code")?.as_str().map(str::to_owned));
    if let Err((seconds, what)) = limits.check_invite(address, code.as_deref()) {
        let mut error = ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            "rate_limited",
            format!("Too many invite codes were tried {what} just now; wait {seconds} seconds and try again."),
        );
        error.retry_after = Some(seconds);
        return error.into_response();
    }
    next.run(Request::from_parts(parts, axum::body::Body::from(bytes)))
        .await
}

/// Middleware: a request whose response has not started after the request timeout is answered
/// `408 request_timeout` (a client sending its body too slowly, a stuck handler). Once the
/// response started (the event stream at once), it runs on.
pub async fn request_timeout(
    State(limits): State<Arc<Limits>>,
    request: Request,
    next: Next,
) -> Response {
    let limit = limits.config.request_timeout;
    match tokio::time::timeout(limit, next.run(request)).await {
        Ok(response) => response,
        Err(_) => ApiError::new(
            StatusCode::REQUEST_TIMEOUT,
            "request_timeout",
            format!(
                "The request took longer than {} seconds; try again, with fewer changes at once on a slow connection.",
                limit.as_secs()
            ),
        )
        .into_response(),
    }
}

/// The tracing span of a request: method and path, never the query (the event stream takes
/// the device token as `?access_token=`).
pub fn request_span<B>(request: &axum::http::Request<B>) -> tracing::Span {
    tracing::debug_span!(
        "request",
        method = %request.method(),
        path = %request.uri().path(),
        version = ?request.version(),
    )
}

/// Serves `app` on `listener` until `shutdown` resolves: HTTP/1.1 with a header-read timeout (a
/// client that sends its headers too slowly is disconnected) and the peer address of each
/// connection for [`ConnectInfo`]. On shutdown, open connections get `grace` to finish (event
/// streams never do) before they are dropped.
pub async fn serve(
    listener: tokio::net::TcpListener,
    app: axum::Router,
    header_read_timeout: Duration,
    shutdown: impl std::future::Future<Output = ()>,
    grace: Duration,
) -> std::io::Result<()> {
    use hyper_util::rt::{TokioIo, TokioTimer};
    use tower::ServiceExt as _;

    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    let mut builder = hyper::server::conn::http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(header_read_timeout)
        .keep_alive(true);
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(err) => {
                    // Out of file descriptors and the like: wait a moment, keep serving.
                    tracing::warn!(error = %err, "cannot accept a connection");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let _ = stream.set_nodelay(true);
        let app = app.clone();
        let service = hyper::service::service_fn(
            move |mut request: hyper::Request<hyper::body::Incoming>| {
                request.extensions_mut().insert(ConnectInfo(peer));
                app.clone().oneshot(request.map(axum::body::Body::new))
            },
        );
        let connection = builder.serve_connection(TokioIo::new(stream), service);
        let watched = graceful.watch(connection);
        tokio::spawn(async move {
            if let Err(err) = watched.await {
                tracing::trace!(error = %err, "connection ended with an error");
            }
        });
    }
    drop(listener);
    if tokio::time::timeout(grace, graceful.shutdown())
        .await
        .is_err()
    {
        tracing::info!("connections still open after {grace:?} (event streams); closing them");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn invite_attempts_count_by_ipv4_address_and_by_ipv6_slash_64() {
        let a: IpAddr = "2001:db8:1:2:aaaa::1".parse().unwrap();
        let b: IpAddr = "2001:db8:1:2:bbbb::9".parse().unwrap();
        let other: IpAddr = "2001:db8:1:3::1".parse().unwrap();
        assert_eq!(network_of(a), network_of(b));
        assert_ne!(network_of(a), network_of(other));
        let v4: IpAddr = "192.0.2.7".parse().unwrap();
        let mapped: IpAddr = "::ffff:192.0.2.7".parse().unwrap();
        assert_eq!(network_of(v4), v4);
        assert_eq!(network_of(mapped), v4);
        assert_ne!(network_of(v4), network_of("192.0.2.8".parse().unwrap()));
    }
}
