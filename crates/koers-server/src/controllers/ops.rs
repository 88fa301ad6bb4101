//! Operations: `POST /api/plans/{plan}/ops` pushes them, `GET /api/plans/{plan}/ops` pulls
//! them. Every write is authorized with [`koers_core::authorize`] against the plan as the server
//! holds it ([`crate::plans`]). [`push`] and [`pull`] are also the push and pull of each entry
//! of `POST /api/sync` ([`super::sync_all`]).

use std::collections::HashMap;

use axum::extract::State;
use axum::Json;
use koers_core::{authorize, MemberId, Op, OpId, PlanId};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::helpers::{
    check_batch_size, now_millis, op_body, op_id_reused, op_id_taken, PlanPath, MAX_BATCH,
};
use crate::access_log;
use crate::auth::AuthDevice;
use crate::error::{ApiError, ApiJson, ApiQuery};
use crate::plans::{affects_authorization, LockedPlan};
use crate::wire::*;
use crate::AppState;
use axum::http::StatusCode;
use koers_database::{Append, DatabaseError, NewOp, Notice};

/// The routes of this module, each declared by its handler's `#[utoipa::path]`.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::default().routes(routes!(pull_ops, push_ops))
}

/// How often a push is checked again when another server instance stored something in the same
/// plan between this one's check and its write. Each time the plan is read again, so a push
/// only fails this way if the plan is written through several instances many times a second.
const HEAD_MOVED_RETRIES: usize = 8;

/// The per-op refusal of a re-sent id whose content differs from what is stored.
const OP_ID_REUSED_MESSAGE: &str = "The server holds another change with this operation id; keep this change, give it a new id and send it again.";

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
    for _ in 0..=HEAD_MOVED_RETRIES {
        let access = |err: DatabaseError| PushRefused::Access(err.into());
        let mut locked = (state.plans.lock(state.db.as_ref(), plan_id).await).map_err(access)?;
        if state.shared_database {
            // What another instance stored since: read now, a few ops, rather than the whole
            // plan again after the write met a moved head.
            (locked.read_up_to_head(state.db.as_ref()).await).map_err(access)?;
        }
        // Access first (as `AuthDevice::admit`, under the lock this push holds anyway).
        if device.role_in(locked.state()).is_err() {
            locked
                .read_up_to_head(state.db.as_ref())
                .await
                .map_err(access)?;
            device
                .role_in(locked.state())
                .map_err(PushRefused::Access)?;
        }
        if let Some(response) = store_batch(state, device, plan_id, locked, ops)
            .await
            .map_err(PushRefused::Batch)?
        {
            return Ok(response);
        }
    }
    Err(PushRefused::Batch(ApiError::new(
        StatusCode::SERVICE_UNAVAILABLE,
        "plan_busy",
        "Others are changing this plan right now and your changes could not be checked against theirs; nothing was stored. Your changes stay on this phone; try again in a moment.",
    )))
}

/// The push of a device admitted to the plan it holds locked. `None` if another server instance
/// stored something in the plan first: nothing was stored, and the plan is read again before the
/// batch is checked once more.
async fn store_batch(
    state: &AppState,
    device: &AuthDevice,
    plan_id: PlanId,
    mut locked: LockedPlan,
    ops: &[Op],
) -> Result<Option<PushResponse>, ApiError> {
    let now = now_millis();
    check_batch_size(ops)?;
    let plan = locked.state();
    // Issue 10, server limits (crate::limits): a batch that could cross one is refused whole,
    // before anything of it is applied.
    (state.limits)
        .check_push(state.db.as_ref(), plan, device.member, ops)
        .await?;
    let before = plan.last_seq;
    let members_before: Vec<MemberId> = plan.plan.members.iter().map(|m| m.id).collect();
    // What the database holds for the ids this batch sends again: a re-send is acknowledged only
    // if it says the same (compared as `Op` values, not as text).
    let resent: Vec<OpId> = ops
        .iter()
        .filter(|op| plan.replica.contains(op.id))
        .map(|op| op.id)
        .collect();
    let mut stored_ops: HashMap<OpId, Op> = HashMap::new();
    if !resent.is_empty() {
        for (_, text) in state.db.op_bodies(plan_id, &resent).await? {
            if let Ok(op) = serde_json::from_str::<Op>(&text) {
                stored_ops.insert(op.id, op);
            }
        }
    }
    // From here the replica runs ahead of the database until the batch is committed.
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
    // A refusal must come from the plan as it is: if another instance stored something since
    // this one read the plan (a goal given to this member, say), check the batch again.
    if refused.iter().any(|r| r.reason == "refused") && state.db.head(plan_id).await? != before {
        locked.invalidate();
        return Ok(None);
    }
    let plan = locked.state();
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
        // The access log's line goes into the append's own transaction.
        let detail = format!("{} wijzigingen", to_store.len());
        let access = access_log::change_entry(state, &device.record, &detail).await;
        // Stored only on top of the head this batch was checked against: were it checked
        // against an older plan than another instance holds, it might let through what the
        // newer one forbids (a member taken out meanwhile).
        let appended = state
            .db
            .append_ops(Append {
                plan: plan_id,
                after_head: before,
                ops: &bodies,
                shut_out: &removed,
                memberships: &[],
                access: access.as_ref(),
                now: koers_database::now(),
            })
            .await;
        let appended = match appended {
            Ok(appended) => appended,
            Err(err) => {
                // The replica already holds the batch: forget it, the database is the truth.
                locked.invalidate();
                return match err {
                    DatabaseError::HeadMoved { .. } => Ok(None),
                    DatabaseError::OpIdConflict { op_id } => Err(op_id_taken(op_id)),
                    DatabaseError::OpIdReused { op_id } => Err(op_id_reused(op_id)),
                    other => Err(other.into()),
                };
            }
        };
        revoked_devices = appended.revoked_devices;
        let seqs = appended.seqs;
        for (op, seq) in to_store.iter().zip(&seqs) {
            accepted.push(AcceptedOp {
                op: op.id,
                seq: *seq,
            });
        }
        let plan = locked.state();
        plan.last_seq = appended.head;
        // Issue 10, server limits: count what this batch newly stored (seqs above `before`).
        let stored = to_store.iter().zip(&seqs).filter(|(_, seq)| **seq > before);
        state.limits.record(plan, stored.map(|(op, _)| *op));
    }
    locked.write_done();
    let last_seq = locked.state().last_seq;
    drop(locked);
    // After the commit, on every instance: end the streams of what was shut out
    // (`MemberRemoved` ends them even for a device whose row was not revoked), then tell the
    // others' streams to pull.
    for device in revoked_devices {
        (state.publish(Notice::DeviceRevoked {
            plan: plan_id,
            device,
        }))
        .await;
    }
    for member in removed {
        (state.publish(Notice::MemberRemoved {
            plan: plan_id,
            member,
        }))
        .await;
    }
    if last_seq > before {
        (state.publish(Notice::Ops {
            plan: plan_id,
            head: last_seq,
        }))
        .await;
    }
    Ok(Some(PushResponse {
        accepted,
        refused,
        last_seq,
    }))
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
/// access (or the database), except `invalid_limit`.
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
    let page = state.db.ops_page(plan_id, after, limit + 1).await?;
    // Asked again after the read, of the plan at least as far as the page: a push that took
    // this member out (on any instance) may have committed between the first check and the
    // read, and the page would then hold what came after.
    device.admit_at(state, plan_id, page.head).await?;
    let mut rows = page.ops;
    let more = rows.len() > limit as usize;
    rows.truncate(limit as usize);
    // Where the reader goes on from: the last op of a page with more after it (a row skipped
    // below still counts, or the reader would ask for it forever), else the plan's last seq of
    // this same read. Never back before `after`.
    let cursor = if more {
        rows.last().map_or(after, |row| row.seq)
    } else {
        page.head.max(after)
    };
    let mut ops = Vec::with_capacity(rows.len());
    for row in rows {
        match serde_json::from_str::<Op>(&row.body) {
            Ok(op) => ops.push(SeqOp {
                seq: row.seq,
                op,
                received_at: koers_database::time_text(row.received_at),
            }),
            Err(err) => {
                tracing::warn!(plan = %plan_id, seq = row.seq, error = %err, "stored op does not parse; skipped")
            }
        }
    }
    access_log::log_read(state, &device.record).await;
    Ok(PullResponse {
        ops,
        last_seq: page.head,
        cursor,
        more,
    })
}
