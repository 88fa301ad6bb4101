//! The sync API: creating a plan, pushing and pulling operations, invites, devices and the
//! event stream. Every write is authorized with [`koers_core::authorize`] against the plan as the
//! server holds it ([`crate::plans`]).

use std::collections::HashMap;
use std::convert::Infallible;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::extract::{FromRequestParts, Path, State};
use axum::http::request::Parts;
use axum::http::StatusCode;
use axum::response::sse::{Event, Sse};
use axum::Json;
use futures_util::{Stream, StreamExt as _};
use koers_core::{
    allowed, authorize, Action, Entity, Field, MemberId, Op, OpId, PlanId, Replica, Role,
};
use uuid::Uuid;

use crate::auth::{
    format_time, hash_secret, new_secret, now_text, AuthDevice, INVITE_CODE_BYTES, TOKEN_BYTES,
};
use crate::error::{ApiError, ApiJson, ApiQuery};
use crate::follow::{follow, keep_alive, Heard};
use crate::plans::{affects_authorization, LockedPlan, PlanEvent, PlanState};
use crate::store::{
    AcceptOutcome, Appended, DeviceRecord, InviteRecord, NewDevice, NewInvite, NewOp, StoreError,
};
use crate::wire::*;
use crate::AppState;

/// Most operations in one push or pull.
pub const MAX_BATCH: usize = 1000;
/// Invites expire after this many days unless asked otherwise…
pub const DEFAULT_INVITE_DAYS: u32 = 14;
/// …and after at most this many.
pub const MAX_INVITE_DAYS: u32 = 60;
/// Longest device name.
pub const MAX_DEVICE_NAME_CHARS: usize = 100;
/// Longest `link_base` of an invite.
pub const MAX_LINK_BASE_CHARS: usize = 200;
/// Smallest width and height of an invite's QR code, in pixels.
pub const QR_MIN_PIXELS: u32 = 200;
/// Colours of an invite's QR code.
pub const QR_DARK: &str = "#1b2529";
pub const QR_LIGHT: &str = "#ffffff";
/// Comment sent on an idle event stream, so that proxies keep it open.
pub const KEEP_ALIVE: Duration = Duration::from_secs(15);

fn now_millis() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

/// The `{plan}` of the path. A malformed id is 404: no such plan.
#[derive(Debug, Clone, Copy)]
pub struct PlanPath(pub PlanId);

impl<S: Send + Sync> FromRequestParts<S> for PlanPath {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        let unknown = || {
            ApiError::not_found(
                "plan_unknown",
                "There is no such plan; check the plan id in the address.",
            )
        };
        let Path(params) = Path::<HashMap<String, String>>::from_request_parts(parts, state)
            .await
            .map_err(|_| unknown())?;
        let id = params
            .get("plan")
            .and_then(|p| p.parse::<Uuid>().ok())
            .ok_or_else(unknown)?;
        Ok(PlanPath(PlanId(id)))
    }
}

/// The other `{…}` segment of the path (an invite or device id), as text.
fn path_param(params: &HashMap<String, String>, name: &str) -> String {
    params.get(name).cloned().unwrap_or_default()
}

fn device_name(name: Option<String>) -> Result<String, ApiError> {
    let name = name.unwrap_or_default().trim().to_owned();
    if name.chars().count() > MAX_DEVICE_NAME_CHARS {
        return Err(ApiError::bad_request(
            "invalid_device_name",
            format!("The device name is longer than {MAX_DEVICE_NAME_CHARS} characters; use a shorter name."),
        ));
    }
    Ok(name)
}

/// Checks an invite's `link_base`: `http://` or `https://`, at most
/// [`MAX_LINK_BASE_CHARS`] characters, no spaces or control characters.
fn check_link_base(base: &str) -> Result<(), ApiError> {
    let scheme_ok = base.starts_with("https://") || base.starts_with("http://");
    let length_ok = base.chars().count() <= MAX_LINK_BASE_CHARS;
    let chars_ok = !base.chars().any(|c| c.is_whitespace() || c.is_control());
    if scheme_ok && length_ok && chars_ok {
        Ok(())
    } else {
        Err(ApiError::bad_request(
            "invalid_link_base",
            format!("The link base must start with http:// or https://, hold no spaces and be at most {MAX_LINK_BASE_CHARS} characters; send the address of the invite page."),
        ))
    }
}

/// An SVG document of a QR code for `text` (error correction M, at least
/// [`QR_MIN_PIXELS`] square, [`QR_DARK`] on [`QR_LIGHT`]).
pub fn qr_svg(text: &str) -> Result<String, qrcode::types::QrError> {
    use qrcode::render::svg;
    let code = qrcode::QrCode::with_error_correction_level(text.as_bytes(), qrcode::EcLevel::M)?;
    Ok(code
        .render::<svg::Color<'_>>()
        .min_dimensions(QR_MIN_PIXELS, QR_MIN_PIXELS)
        .dark_color(svg::Color(QR_DARK))
        .light_color(svg::Color(QR_LIGHT))
        .build())
}

fn check_batch_size(ops: &[Op]) -> Result<(), ApiError> {
    if ops.len() > MAX_BATCH {
        return Err(ApiError::bad_request(
            "too_many_ops",
            format!(
                "A batch holds at most {MAX_BATCH} operations; send the rest in another request."
            ),
        ));
    }
    Ok(())
}

fn op_body(op: &Op) -> NewOp {
    (
        op.id.to_string(),
        serde_json::to_string(op).expect("an op serializes"),
    )
}

fn op_id_taken(op_id: &str) -> ApiError {
    ApiError::new(
        StatusCode::CONFLICT,
        "op_id_taken",
        format!("Operation {op_id} already belongs to another plan; give the operation a new id."),
    )
}

fn op_id_reused(op_id: &str) -> ApiError {
    ApiError::new(
        StatusCode::CONFLICT,
        "op_id_reused",
        format!(
            "Operation {op_id} is sent with two different contents; give each change its own id."
        ),
    )
}

/// The per-op refusal of a re-sent id whose content differs from what is stored.
const OP_ID_REUSED_MESSAGE: &str = "The server holds another change with this operation id; keep this change, give it a new id and send it again.";

fn is_founder_op(op: &Op) -> bool {
    op.entity == Entity::Member(op.author)
        && op.field == Field::Role
        && op.value == serde_json::json!(Role::FosterCareWorker.key())
}

/// `POST /api/plans`: creates a plan from its first operations and registers the founder's
/// device.
#[utoipa::path(
    post,
    path = "/api/plans",
    tag = "sync",
    request_body = CreatePlanRequest,
    responses(
        (status = 201, description = "Plan created; the device token is shown once", body = CreatePlanResponse),
        (status = 400, description = "Not a valid founding batch", body = ErrorBody),
        (status = 409, description = "The plan exists (`plan_exists`), an operation id belongs to another plan (`op_id_taken`) or is sent with two contents (`op_id_reused`)", body = ErrorBody),
        (status = 422, description = "An operation was refused", body = ErrorBody),
        (status = 413, description = "Body larger than 2 MiB", body = ErrorBody),
        (status = 415, description = "Body not sent as application/json", body = ErrorBody),
    )
)]
pub async fn create_plan(
    State(state): State<AppState>,
    ApiJson(body): ApiJson<CreatePlanRequest>,
) -> Result<(StatusCode, Json<CreatePlanResponse>), ApiError> {
    check_batch_size(&body.ops)?;
    let name = device_name(body.device_name)?;
    let Some(first) = body.ops.first() else {
        return Err(ApiError::bad_request(
            "no_ops",
            "A new plan needs its first operations, including the founder's own member entity.",
        ));
    };
    let (plan_id, author) = (first.plan, first.author);
    if body
        .ops
        .iter()
        .any(|op| op.plan != plan_id || op.author != author)
    {
        return Err(ApiError::bad_request(
            "mixed_batch",
            "All operations that create a plan must have the same plan id and the same author.",
        ));
    }
    let Some(founder) = body.ops.iter().find(|op| is_founder_op(op)) else {
        return Err(ApiError::bad_request(
            "no_founder",
            "Include the founder's own member entity with role foster_care_worker (entity member:<author>, field role).",
        ));
    };
    let now = now_millis();
    if let Some(op) = body.ops.iter().find(|op| op.hlc.check_drift(now).is_err()) {
        return Err(ApiError::bad_request(
            "clock_ahead",
            format!("Operation {} is dated too far in the future; set this device's date and time correctly.", op.id),
        ));
    }
    if let Some(op) = body.ops.iter().find(|op| op.hlc.check_counter().is_err()) {
        return Err(ApiError::bad_request(
            "hlc_counter_limit",
            format!("Operation {} has a clock counter at its limit; give it a new timestamp and send the plan again.", op.id),
        ));
    }
    if state.store.plan_exists(&plan_id.to_string()).await? {
        return Err(plan_exists());
    }

    // Member ops first, so that the author exists before their other changes are checked.
    let mut ordered: Vec<&Op> = body
        .ops
        .iter()
        .filter(|op| matches!(op.entity, Entity::Member(_)))
        .collect();
    ordered.extend(
        body.ops
            .iter()
            .filter(|op| !matches!(op.entity, Entity::Member(_))),
    );
    let mut replica = Replica::new(plan_id);
    let _ = replica.apply(founder);
    let mut grown = PlanState::new(replica, 0);
    for op in &ordered {
        if let Err(refusal) = authorize(&grown.plan, op) {
            return Err(ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "refused",
                format!("Operation {} was refused ({refusal}); the plan was not created, fix that operation and try again.", op.id),
            ));
        }
        let _ = grown.replica.apply(op);
        if affects_authorization(op) {
            grown.project();
        }
    }

    let token = new_secret(TOKEN_BYTES);
    let device = NewDevice {
        device_id: Uuid::new_v4().to_string(),
        plan_id: plan_id.to_string(),
        member_id: author.to_string(),
        role: Role::FosterCareWorker.key().to_owned(),
        token_hash: hash_secret(&token),
        name,
    };
    let ops: Vec<NewOp> = ordered.iter().map(|op| op_body(op)).collect();
    let seqs = match state
        .store
        .create_plan(&device.plan_id, &ops, &device, &now_text())
        .await
    {
        Ok(seqs) => seqs,
        Err(StoreError::PlanExists { .. }) => return Err(plan_exists()),
        Err(StoreError::OpIdConflict { op_id }) => return Err(op_id_taken(&op_id)),
        Err(StoreError::OpIdReused { op_id }) => return Err(op_id_reused(&op_id)),
        Err(err) => return Err(err.into()),
    };
    let last_seq = seqs.iter().copied().max().unwrap_or(0);
    grown.last_seq = last_seq;
    // The founding batch dates the plan: nothing older is accepted later (`before_plan`).
    grown.founded_millis = body.ops.iter().map(|op| op.hlc.millis).min().unwrap_or(0);
    state.plans.insert(plan_id, grown).await;
    Ok((
        StatusCode::CREATED,
        Json(CreatePlanResponse {
            plan: plan_id,
            member: author,
            device: device.device_id,
            device_token: token,
            last_seq,
        }),
    ))
}

fn plan_exists() -> ApiError {
    ApiError::new(
        StatusCode::CONFLICT,
        "plan_exists",
        "A plan with this id exists already; ask its foster-care worker for an invite instead.",
    )
}

/// `POST /api/plans/{plan}/ops`: checks and stores operations, in order.
#[utoipa::path(
    post,
    path = "/api/plans/{plan}/ops",
    tag = "sync",
    params(("plan" = String, Path, description = "Plan id")),
    request_body = PushRequest,
    security(("device_token" = [])),
    responses(
        (status = 200, description = "Each operation accepted (with its seq) or refused (with a reason)", body = PushResponse),
        (status = 400, description = "Malformed batch", body = ErrorBody),
        (status = 401, description = "Missing, unknown or revoked token (`token_missing`, `token_unknown`, `device_revoked`), or the device's member was taken out of the plan (`member_removed`)", body = ErrorBody),
        (status = 403, description = "Token of another plan", body = ErrorBody),
        (status = 404, description = "No such plan", body = ErrorBody),
        (status = 409, description = "An operation id belongs to another plan", body = ErrorBody),
        (status = 413, description = "Body larger than 2 MiB, or the plan would grow beyond the size the server keeps (`plan_too_large`); nothing stored", body = ErrorBody),
        (status = 415, description = "Body not sent as application/json", body = ErrorBody),
        (status = 422, description = "The plan would hold more items of one kind than allowed (`item_limit`); nothing stored", body = ErrorBody),
        (status = 429, description = "The member sent the most operations allowed in one day (`daily_limit`); nothing stored", body = ErrorBody),
    )
)]
pub async fn push_ops(
    PlanPath(plan_id): PlanPath,
    State(state): State<AppState>,
    device: AuthDevice,
    ApiJson(body): ApiJson<PushRequest>,
) -> Result<Json<PushResponse>, ApiError> {
    Ok(Json(push(&state, &device, plan_id, &body.ops).await?))
}

/// Why a push stored nothing. The two are told apart because `POST /api/sync` answers them
/// differently: without access nothing of that plan is pulled either, while a refused batch
/// still lets the pull run (the phone keeps its changes and brings the others' in).
#[derive(Debug, Clone)]
pub enum PushRefused {
    /// The device may not reach the plan (`wrong_plan`, `member_removed`), or the plan could
    /// not be read: nothing was tried.
    Access(ApiError),
    /// The batch was refused whole (too many ops, a limit, an op id of another plan) or could
    /// not be stored.
    Batch(ApiError),
}

impl From<PushRefused> for ApiError {
    fn from(refused: PushRefused) -> Self {
        match refused {
            PushRefused::Access(err) | PushRefused::Batch(err) => err,
        }
    }
}

/// Checks and stores `ops` from `device` in `plan_id`, in order: the push of
/// `POST /api/plans/{plan}/ops` and of each entry of `POST /api/sync`.
pub async fn push(
    state: &AppState,
    device: &AuthDevice,
    plan_id: PlanId,
    ops: &[Op],
) -> Result<PushResponse, PushRefused> {
    device.require_plan(plan_id).map_err(PushRefused::Access)?;
    let mut locked = (state.plans.lock(state.store.as_ref(), plan_id).await)
        .map_err(|err| PushRefused::Access(err.into()))?;
    // Access first (as `AuthDevice::admit`, under the lock this push holds anyway).
    device
        .role_in(locked.state())
        .map_err(PushRefused::Access)?;
    store_batch(state, device, plan_id, locked, ops)
        .await
        .map_err(PushRefused::Batch)
}

/// The push of a device admitted to the plan it holds locked.
async fn store_batch(
    state: &AppState,
    device: &AuthDevice,
    plan_id: PlanId,
    mut locked: LockedPlan,
    ops: &[Op],
) -> Result<PushResponse, ApiError> {
    let now = now_millis();
    check_batch_size(ops)?;
    let plan = locked.state();
    // Issue 10, server limits (crate::limits): a batch that could cross one is refused whole,
    // before anything of it is applied.
    (state.limits)
        .check_push(state.store.as_ref(), plan, device.member, ops)
        .await?;
    let before = plan.last_seq;
    let members_before: Vec<MemberId> = plan.plan.members.iter().map(|m| m.id).collect();
    // What the store holds for the ids this batch sends again: a re-send is acknowledged only if
    // it says the same (compared as `Op` values, not as text).
    let resent: Vec<String> = ops
        .iter()
        .filter(|op| plan.replica.contains(op.id))
        .map(|op| op.id.to_string())
        .collect();
    let mut stored_ops: HashMap<OpId, Op> = HashMap::new();
    if !resent.is_empty() {
        for (_, text) in state.store.op_bodies(&plan_id.to_string(), &resent).await? {
            if let Ok(op) = serde_json::from_str::<Op>(&text) {
                stored_ops.insert(op.id, op);
            }
        }
    }
    // From here the replica runs ahead of the store until the batch is committed.
    locked.begin_write();
    let plan = locked.state();
    // Ops accepted earlier in this batch, for a second op with the same id further on.
    let mut in_batch: HashMap<OpId, &Op> = HashMap::new();
    let mut refused = Vec::new();
    let mut to_store: Vec<&Op> = Vec::new();
    let mut stale = false;
    for op in ops {
        let refuse = |reason: &str, message: String| RefusedOp {
            op: op.id,
            reason: reason.to_owned(),
            message,
        };
        if op.plan != plan_id {
            refused.push(refuse(
                "wrong_plan",
                "This operation belongs to another plan; push it to its own plan.".into(),
            ));
        } else if op.author != device.member {
            refused.push(refuse(
                "not_your_member",
                "A device writes only as its own member; set the author to this device's member."
                    .into(),
            ));
        } else if plan.replica.contains(op.id) {
            let held = stored_ops
                .get(&op.id)
                .or_else(|| in_batch.get(&op.id).copied());
            if held == Some(op) {
                // Already stored: acknowledged again with its seq.
                to_store.push(op);
            } else {
                // Acknowledging it would tell the phone this edit is kept; it is not.
                refused.push(refuse("op_id_reused", OP_ID_REUSED_MESSAGE.into()));
            }
        } else if let Err(err) = op.hlc.check_drift(now) {
            refused.push(refuse("clock_ahead", format!("{err}.")));
        } else if op.hlc.check_counter().is_err() {
            refused.push(refuse(
                "hlc_counter_limit",
                "This change's clock counter is at its limit; keep the change, give it a new timestamp and send it again.".into(),
            ));
        } else if op.hlc.millis < plan.founded_millis {
            // Dated before the plan existed: no device could have written it then. (Old is fine
            // otherwise: a phone may send a change written weeks ago while offline.)
            refused.push(refuse(
                "before_plan",
                "This change is dated before the plan was founded; keep the change, give it a new timestamp and send it again.".into(),
            ));
        } else {
            if stale {
                plan.project();
                stale = false;
            }
            match authorize(&plan.plan, op) {
                Ok(_) => {
                    let _ = plan.replica.apply(op);
                    stale |= affects_authorization(op);
                    in_batch.insert(op.id, op);
                    to_store.push(op);
                }
                Err(refusal) => refused.push(refuse("refused", format!("{refusal}."))),
            }
        }
    }
    if stale {
        plan.project();
    }
    // Members this batch took out of the plan: their phones and open invites stop working in
    // the same transaction that stores the batch.
    let removed: Vec<MemberId> = members_before
        .into_iter()
        .filter(|m| !plan.has_member(*m))
        .collect();
    let mut accepted = Vec::with_capacity(to_store.len());
    let mut revoked_devices = Vec::new();
    if !to_store.is_empty() {
        let bodies: Vec<NewOp> = to_store.iter().map(|op| op_body(op)).collect();
        let shut_out: Vec<String> = removed.iter().map(MemberId::to_string).collect();
        let appended = state
            .store
            .append_ops(&plan_id.to_string(), &bodies, &shut_out, &now_text())
            .await;
        let seqs = match appended {
            Ok(Appended {
                seqs,
                revoked_devices: revoked,
            }) => {
                revoked_devices = revoked;
                seqs
            }
            Err(err) => {
                // The replica already holds the batch: forget it, the store is the truth.
                locked.invalidate();
                return Err(match err {
                    StoreError::OpIdConflict { op_id } => op_id_taken(&op_id),
                    StoreError::OpIdReused { op_id } => op_id_reused(&op_id),
                    other => other.into(),
                });
            }
        };
        for (op, seq) in to_store.iter().zip(&seqs) {
            accepted.push(AcceptedOp {
                op: op.id,
                seq: *seq,
            });
        }
        let plan = locked.state();
        plan.last_seq = plan.last_seq.max(seqs.iter().copied().max().unwrap_or(0));
        // Issue 10, server limits: count what this batch newly stored (seqs above `before`).
        let stored = to_store.iter().zip(&seqs).filter(|(_, seq)| **seq > before);
        state.limits.record(plan, stored.map(|(op, _)| *op));
    }
    locked.write_done();
    let last_seq = locked.state().last_seq;
    drop(locked);
    // After the commit: end the streams of what was shut out. `MemberRemoved` ends them even for
    // a device whose row was not revoked.
    for device in revoked_devices {
        state
            .plans
            .notify(plan_id, PlanEvent::DeviceRevoked(device));
    }
    for member in removed {
        state
            .plans
            .notify(plan_id, PlanEvent::MemberRemoved(member));
    }
    if last_seq > before {
        state.plans.notify(plan_id, PlanEvent::Ops(last_seq));
    }
    Ok(PushResponse {
        accepted,
        refused,
        last_seq,
    })
}

/// `GET /api/plans/{plan}/ops?after=&limit=`: operations in seq order.
#[utoipa::path(
    get,
    path = "/api/plans/{plan}/ops",
    tag = "sync",
    params(("plan" = String, Path, description = "Plan id"), PullQuery),
    security(("device_token" = [])),
    responses(
        (status = 200, description = "Operations after `after`, oldest first", body = PullResponse),
        (status = 400, description = "Invalid `after` or `limit`", body = ErrorBody),
        (status = 401, description = "Missing, unknown or revoked token (`token_missing`, `token_unknown`, `device_revoked`), or the device's member was taken out of the plan (`member_removed`)", body = ErrorBody),
        (status = 403, description = "Token of another plan", body = ErrorBody),
        (status = 404, description = "No such plan", body = ErrorBody),
    )
)]
pub async fn pull_ops(
    PlanPath(plan_id): PlanPath,
    State(state): State<AppState>,
    device: AuthDevice,
    ApiQuery(query): ApiQuery<PullQuery>,
) -> Result<Json<PullResponse>, ApiError> {
    Ok(Json(
        pull(&state, &device, plan_id, query.after, query.limit).await?,
    ))
}

/// The page size asked for: 1 to [`MAX_BATCH`], default [`MAX_BATCH`].
pub fn page_limit(limit: Option<u32>) -> Result<u32, ApiError> {
    let limit = limit.unwrap_or(MAX_BATCH as u32);
    if limit == 0 || limit as usize > MAX_BATCH {
        return Err(ApiError::bad_request(
            "invalid_limit",
            format!("The limit is 1 to {MAX_BATCH}; ask for fewer operations."),
        ));
    }
    Ok(limit)
}

/// One page of `plan_id`'s operations after `after` for `device`: the pull of
/// `GET /api/plans/{plan}/ops` and of each entry of `POST /api/sync`. Every error is about
/// access (or the store), except `invalid_limit`.
pub async fn pull(
    state: &AppState,
    device: &AuthDevice,
    plan_id: PlanId,
    after: Option<i64>,
    limit: Option<u32>,
) -> Result<PullResponse, ApiError> {
    device.admit(state, plan_id).await?;
    let after = after.unwrap_or(0).max(0);
    let limit = page_limit(limit)?;
    // The page and the plan's last seq from one read: a push landing in between cannot give a
    // cursor beyond ops the reader never saw.
    let page = state
        .store
        .ops_page(&plan_id.to_string(), after, limit + 1)
        .await?;
    // Asked again after the read: a push that took this member out may have committed between
    // the first check and the read, and the page would then hold what came after. (That push
    // holds the plan's lock until its commit, so this check sees it.)
    device.admit(state, plan_id).await?;
    let mut rows = page.ops;
    let more = rows.len() > limit as usize;
    rows.truncate(limit as usize);
    // Where the reader goes on from: the last op of a page with more after it (a row skipped
    // below still counts, or the reader would ask for it forever), else the plan's last seq of
    // this same read. Never back before `after`.
    let cursor = if more {
        rows.last().map_or(after, |row| row.seq)
    } else {
        page.last_seq.max(after)
    };
    let mut ops = Vec::with_capacity(rows.len());
    for row in rows {
        match serde_json::from_str::<Op>(&row.body) {
            Ok(op) => ops.push(SeqOp {
                seq: row.seq,
                op,
                received_at: row.received_at,
            }),
            Err(err) => {
                tracing::warn!(plan = %plan_id, seq = row.seq, error = %err, "stored op does not parse; skipped")
            }
        }
    }
    Ok(PullResponse {
        ops,
        last_seq: page.last_seq,
        cursor,
        more,
    })
}

/// 403 unless `role` (the member's current role, from [`AuthDevice::admit`]) manages members.
fn require_manager(role: Role) -> Result<(), ApiError> {
    if allowed(role, Action::ManageMembers) {
        Ok(())
    } else {
        Err(ApiError::forbidden(
            "not_allowed",
            "Only the foster-care worker manages invites and devices; ask them to do this.",
        ))
    }
}

fn invite_info(i: InviteRecord, now: &str) -> InviteInfo {
    let status = if i.revoked_at.is_some() {
        "revoked"
    } else if i.used_at.is_some() {
        "used"
    } else if i.expires_at.as_str() <= now {
        "expired"
    } else {
        "open"
    };
    InviteInfo {
        invite: i.invite_id,
        member: i.member_id,
        role: i.role,
        created_by: i.created_by,
        created_at: i.created_at,
        expires_at: i.expires_at,
        status: status.to_owned(),
        used_at: i.used_at,
        revoked_at: i.revoked_at,
    }
}

/// `POST /api/plans/{plan}/invites`: a single-use code that registers a device for a member;
/// with `link_base`, also the invite link and its QR code (SVG).
#[utoipa::path(
    post,
    path = "/api/plans/{plan}/invites",
    tag = "invites",
    params(("plan" = String, Path, description = "Plan id")),
    request_body = CreateInviteRequest,
    security(("device_token" = [])),
    responses(
        (status = 201, description = "The code, shown once", body = CreateInviteResponse),
        (status = 400, description = "Invalid number of days or link base", body = ErrorBody),
        (status = 403, description = "Not the foster-care worker, or another plan", body = ErrorBody),
        (status = 404, description = "No such plan or member", body = ErrorBody),
        (status = 401, description = "Missing, unknown or revoked token (`token_missing`, `token_unknown`, `device_revoked`), or the device's member was taken out of the plan (`member_removed`)", body = ErrorBody),
        (status = 413, description = "Body larger than 2 MiB", body = ErrorBody),
        (status = 415, description = "Body not sent as application/json", body = ErrorBody),
    )
)]
pub async fn create_invite(
    PlanPath(plan_id): PlanPath,
    State(state): State<AppState>,
    device: AuthDevice,
    ApiJson(body): ApiJson<CreateInviteRequest>,
) -> Result<(StatusCode, Json<CreateInviteResponse>), ApiError> {
    require_manager(device.admit(&state, plan_id).await?)?;
    let days = body.days.unwrap_or(DEFAULT_INVITE_DAYS);
    if !(1..=MAX_INVITE_DAYS).contains(&days) {
        return Err(ApiError::bad_request(
            "invalid_days",
            format!("An invite is valid for 1 to {MAX_INVITE_DAYS} days; choose a number in that range."),
        ));
    }
    if let Some(base) = &body.link_base {
        check_link_base(base)?;
    }
    let role = {
        let mut locked = state.plans.lock(state.store.as_ref(), plan_id).await?;
        locked.state().plan.member(body.member).map(|m| m.role)
    };
    let Some(role) = role else {
        return Err(ApiError::not_found(
            "member_unknown",
            "The plan has no such member; add the member to the plan first, then invite them.",
        ));
    };
    let now = chrono::Utc::now();
    let code = new_secret(INVITE_CODE_BYTES);
    let invite = NewInvite {
        invite_id: Uuid::new_v4().to_string(),
        code_hash: hash_secret(&code),
        plan_id: plan_id.to_string(),
        member_id: body.member.to_string(),
        role: role.key().to_owned(),
        expires_at: format_time(now + chrono::Duration::days(i64::from(days))),
        created_by: device.member.to_string(),
    };
    let (link, qr) = match &body.link_base {
        Some(base) => {
            let link = format!("{base}{code}");
            let qr = qr_svg(&link).map_err(|err| {
                ApiError::bad_request(
                    "invalid_link_base",
                    format!("No QR code fits this link ({err}); send a shorter link base."),
                )
            })?;
            (Some(link), Some(qr))
        }
        None => (None, None),
    };
    let stored = state
        .store
        .create_invite(&invite, &format_time(now))
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(CreateInviteResponse {
            invite: stored.invite_id,
            code,
            expires_at: stored.expires_at,
            member: body.member,
            role,
            link,
            qr_svg: qr,
        }),
    ))
}

/// `GET /api/plans/{plan}/invites`: the plan's invites, without their codes.
#[utoipa::path(
    get,
    path = "/api/plans/{plan}/invites",
    tag = "invites",
    params(("plan" = String, Path, description = "Plan id")),
    security(("device_token" = [])),
    responses(
        (status = 200, body = InviteList),
        (status = 403, description = "Not the foster-care worker, or another plan", body = ErrorBody),
        (status = 401, description = "Missing, unknown or revoked token (`token_missing`, `token_unknown`, `device_revoked`), or the device's member was taken out of the plan (`member_removed`)", body = ErrorBody),
        (status = 404, description = "No such plan", body = ErrorBody),
    )
)]
pub async fn list_invites(
    PlanPath(plan_id): PlanPath,
    State(state): State<AppState>,
    device: AuthDevice,
) -> Result<Json<InviteList>, ApiError> {
    require_manager(device.admit(&state, plan_id).await?)?;
    let now = now_text();
    let invites = state.store.invites(&plan_id.to_string()).await?;
    Ok(Json(InviteList {
        invites: invites.into_iter().map(|i| invite_info(i, &now)).collect(),
    }))
}

/// `DELETE /api/plans/{plan}/invites/{invite}`: the code stops working.
#[utoipa::path(
    delete,
    path = "/api/plans/{plan}/invites/{invite}",
    tag = "invites",
    params(("plan" = String, Path, description = "Plan id"), ("invite" = String, Path, description = "Invite id")),
    security(("device_token" = [])),
    responses(
        (status = 204, description = "Revoked (or already used or revoked)"),
        (status = 403, description = "Not the foster-care worker, or another plan", body = ErrorBody),
        (status = 404, description = "No such plan or invite", body = ErrorBody),
        (status = 401, description = "Missing, unknown or revoked token (`token_missing`, `token_unknown`, `device_revoked`), or the device's member was taken out of the plan (`member_removed`)", body = ErrorBody),
    )
)]
pub async fn revoke_invite(
    PlanPath(plan_id): PlanPath,
    State(state): State<AppState>,
    device: AuthDevice,
    Path(params): Path<HashMap<String, String>>,
) -> Result<StatusCode, ApiError> {
    require_manager(device.admit(&state, plan_id).await?)?;
    let invite = path_param(&params, "invite");
    if state
        .store
        .revoke_invite(&plan_id.to_string(), &invite, &now_text())
        .await?
    {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(ApiError::not_found(
            "invite_unknown",
            "The plan has no such invite; list the invites to find its id.",
        ))
    }
}

/// `POST /api/invites/accept`: uses an invite code and registers this device.
#[utoipa::path(
    post,
    path = "/api/invites/accept",
    tag = "invites",
    request_body = AcceptInviteRequest,
    responses(
        (status = 201, description = "Device registered; the token is shown once", body = AcceptInviteResponse),
        (status = 404, description = "Unknown code", body = ErrorBody),
        (status = 410, description = "Code used, expired or revoked (also when its member was taken out of the plan)", body = ErrorBody),
        (status = 400, description = "Malformed body or device name too long", body = ErrorBody),
        (status = 413, description = "Body larger than 2 MiB", body = ErrorBody),
        (status = 415, description = "Body not sent as application/json", body = ErrorBody),
        (status = 429, description = "Too many codes tried from this address or with this code prefix (`rate_limited`); see `Retry-After`", body = ErrorBody),
    )
)]
pub async fn accept_invite(
    State(state): State<AppState>,
    ApiJson(body): ApiJson<AcceptInviteRequest>,
) -> Result<(StatusCode, Json<AcceptInviteResponse>), ApiError> {
    let name = device_name(body.device_name)?;
    let token = new_secret(TOKEN_BYTES);
    let device = NewDevice {
        device_id: Uuid::new_v4().to_string(),
        plan_id: String::new(),
        member_id: String::new(),
        role: String::new(),
        token_hash: hash_secret(&token),
        name,
    };
    let gone = |code, message: &str| ApiError::new(StatusCode::GONE, code, message);
    let code_hash = hash_secret(body.code.trim());
    // The invite's member must still be in the plan. The plan stays locked while the invite is
    // used: a push that takes the member out holds it too (and revokes their open invites in its
    // transaction), so it comes wholly before this acceptance or wholly after it.
    let mut held = None;
    if let Some(invite) = state.store.invite_by_code(&code_hash).await? {
        if let Ok(plan) = invite.plan_id.parse::<Uuid>() {
            let mut locked = state.plans.lock(state.store.as_ref(), PlanId(plan)).await?;
            let member = invite.member_id.parse::<Uuid>().ok().map(MemberId);
            if !member.is_some_and(|m| locked.state().has_member(m)) {
                // Their open invites were withdrawn with the removal; should one be left (a
                // store from before that), it is withdrawn all the same.
                return Err(gone(
                    "invite_revoked",
                    "The person this invite is for was taken out of the plan, so the invite was withdrawn; ask the foster-care worker for a new one if that was a mistake.",
                ));
            }
            held = Some(locked);
        }
    }
    let outcome = state
        .store
        .accept_invite(&code_hash, &device, &now_text())
        .await;
    drop(held);
    let record = match outcome? {
        AcceptOutcome::Accepted(record) => record,
        AcceptOutcome::Unknown => {
            return Err(ApiError::not_found(
                "invite_unknown",
                "This invite code is not known; check that it was typed exactly as given.",
            ))
        }
        AcceptOutcome::Used => {
            return Err(gone(
                "invite_used",
                "This invite code was used already; ask the foster-care worker for a new one.",
            ))
        }
        AcceptOutcome::Expired => {
            return Err(gone(
                "invite_expired",
                "This invite code has expired; ask the foster-care worker for a new one.",
            ))
        }
        AcceptOutcome::Revoked => {
            return Err(gone(
                "invite_revoked",
                "This invite code was withdrawn; ask the foster-care worker for a new one.",
            ))
        }
    };
    let ids = (
        record.plan_id.parse::<Uuid>(),
        record.member_id.parse::<Uuid>(),
        Role::from_key(&record.role),
    );
    let (Ok(plan), Ok(member), Some(role)) = ids else {
        return Err(ApiError::internal(&StoreError::Task(format!(
            "invite {} holds an invalid plan, member or role",
            record.device_id
        ))));
    };
    Ok((
        StatusCode::CREATED,
        Json(AcceptInviteResponse {
            plan: PlanId(plan),
            member: MemberId(member),
            role,
            device: record.device_id,
            device_token: token,
        }),
    ))
}

fn device_info(d: DeviceRecord) -> DeviceInfo {
    DeviceInfo {
        device: d.device_id,
        member: d.member_id,
        role: d.role,
        name: d.name,
        created_at: d.created_at,
        last_seen_at: d.last_seen_at,
        revoked: d.revoked_at.is_some(),
        revoked_at: d.revoked_at,
    }
}

/// `GET /api/plans/{plan}/devices`: every device registered for the plan.
#[utoipa::path(
    get,
    path = "/api/plans/{plan}/devices",
    tag = "devices",
    params(("plan" = String, Path, description = "Plan id")),
    security(("device_token" = [])),
    responses(
        (status = 200, body = DeviceList),
        (status = 403, description = "Token of another plan", body = ErrorBody),
        (status = 401, description = "Missing, unknown or revoked token (`token_missing`, `token_unknown`, `device_revoked`), or the device's member was taken out of the plan (`member_removed`)", body = ErrorBody),
        (status = 404, description = "No such plan", body = ErrorBody),
    )
)]
pub async fn list_devices(
    PlanPath(plan_id): PlanPath,
    State(state): State<AppState>,
    device: AuthDevice,
) -> Result<Json<DeviceList>, ApiError> {
    device.admit(&state, plan_id).await?;
    let devices = state.store.devices(&plan_id.to_string()).await?;
    Ok(Json(DeviceList {
        devices: devices.into_iter().map(device_info).collect(),
    }))
}

/// `DELETE /api/plans/{plan}/devices/{device}`: the device's token stops working. The worker
/// revokes any device; any device signs itself out with `me` (a phone wiping Koers).
#[utoipa::path(
    delete,
    path = "/api/plans/{plan}/devices/{device}",
    tag = "devices",
    params(("plan" = String, Path, description = "Plan id"), ("device" = String, Path, description = "Device id, or `me` for the calling device")),
    security(("device_token" = [])),
    responses(
        (status = 204, description = "Revoked"),
        (status = 403, description = "Not the foster-care worker, or another plan", body = ErrorBody),
        (status = 404, description = "No such plan or device", body = ErrorBody),
        (status = 401, description = "Missing, unknown or revoked token (`token_missing`, `token_unknown`, `device_revoked`), or the device's member was taken out of the plan (`member_removed`)", body = ErrorBody),
    )
)]
pub async fn revoke_device(
    PlanPath(plan_id): PlanPath,
    State(state): State<AppState>,
    device: AuthDevice,
    Path(params): Path<HashMap<String, String>>,
) -> Result<StatusCode, ApiError> {
    let role = device.admit(&state, plan_id).await?;
    let target = match path_param(&params, "device") {
        me if me == "me" => device.record.device_id.clone(),
        other => other,
    };
    if target != device.record.device_id {
        require_manager(role)?;
    }
    if revoke(&state, plan_id, target, &now_text()).await? {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(ApiError::not_found(
            "device_unknown",
            "The plan has no such device; list the devices to find its id.",
        ))
    }
}

/// Revokes a device's token and ends its event streams. False if the plan has no such device.
async fn revoke(
    state: &AppState,
    plan_id: PlanId,
    device: String,
    now: &str,
) -> Result<bool, StoreError> {
    let revoked = state
        .store
        .revoke_device(&plan_id.to_string(), &device, now)
        .await?;
    if revoked {
        state
            .plans
            .notify(plan_id, PlanEvent::DeviceRevoked(device));
    }
    Ok(revoked)
}

fn ops_event(last_seq: i64) -> Event {
    Event::default()
        .event("ops")
        .data(serde_json::to_string(&OpsEvent { last_seq }).expect("an event serializes"))
}

/// `GET /api/plans/{plan}/events`: server-sent events. `event: ops` with `{"last_seq": n}` on
/// connecting and after each batch that stored new operations; a keep-alive comment every 15 s.
#[utoipa::path(
    get,
    path = "/api/plans/{plan}/events",
    tag = "sync",
    params(("plan" = String, Path, description = "Plan id")),
    security(("device_token" = [])),
    responses(
        (status = 200, description = "text/event-stream of `ops` events (each described here) whose data is the JSON of an OpsEvent", content_type = "text/event-stream", body = OpsEventMessage),
        (status = 401, description = "Missing, unknown or revoked token (`token_missing`, `token_unknown`, `device_revoked`), or the device's member was taken out of the plan (`member_removed`)", body = ErrorBody),
        (status = 403, description = "Token of another plan", body = ErrorBody),
        (status = 404, description = "No such plan", body = ErrorBody),
        (status = 429, description = "The device holds the most event streams allowed (`too_many_streams`)", body = ErrorBody),
    )
)]
pub async fn events(
    PlanPath(plan_id): PlanPath,
    State(state): State<AppState>,
    device: AuthDevice,
) -> Result<Sse<impl Stream<Item = Result<Event, Infallible>>>, ApiError> {
    // The stream ends after what closes it (a revocation, a removal): this endpoint says no more.
    let stream = follow(&state, &device, plan_id).await?.filter_map(|heard| {
        std::future::ready(match heard {
            Heard::Ops(seq) => Some(Ok(ops_event(seq))),
            Heard::Closed(_) => None,
        })
    });
    Ok(Sse::new(stream).keep_alive(keep_alive()))
}
