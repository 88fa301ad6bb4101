//! One request for all the plans on a phone (issue 11): `POST /api/sync` pushes and pulls many
//! plans at once; its event stream, `GET /api/events`, is in [`super::events`]. A worker with
//! twenty families syncs in one request, not twenty. Each entry is checked on its own token with
//! the same functions as the per-plan endpoints ([`crate::auth::device_for_token`],
//! [`super::ops::push`], [`super::ops::pull`]), and one plan's refusal is told in its own entry
//! only: it never fails the request or touches another plan.

use std::collections::HashSet;

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use koers_core::PlanId;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::helpers::MAX_PLANS;
use super::ops::{self, PushRefused};
use crate::auth::device_for_token;
use crate::error::{ApiError, ApiJson};
use crate::wire::*;
use crate::AppState;

/// The routes of this module, each declared by its handler's `#[utoipa::path]`.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::default().routes(routes!(sync_all))
}

/// `POST /api/sync`: for each entry, in order, the push of its `ops` (if any) and a pull after
/// `after`, as the per-plan endpoints do them.
#[utoipa::path(
    post,
    path = "/api/sync",
    tag = "sync",
    request_body = SyncRequest,
    responses(
        (status = 200, description = "One result per entry, in the request's order; a plan's refusal (`token_unknown`, `device_revoked`, `member_removed`, `wrong_plan`, or its push refused whole) is told in its own entry", body = SyncResponse),
        (status = 400, description = "Malformed body, no entries (`no_plans`), more than 100 (`too_many_plans`), a plan twice (`plan_twice`) or a `limit` outside 1 to 1000 (`invalid_limit`); nothing stored", body = ErrorBody),
        (status = 413, description = "Body larger than 2 MiB (the whole request counts); nothing stored", body = ErrorBody),
        (status = 415, description = "Body not sent as application/json", body = ErrorBody),
    )
)]
pub async fn sync_all(
    State(state): State<AppState>,
    ApiJson(body): ApiJson<SyncRequest>,
) -> Result<Json<SyncResponse>, ApiError> {
    check_entries(&body.plans)?;
    // One plan after the other: each push holds only its own plan's lock, so two phones syncing
    // overlapping plans in other orders never wait for each other in a circle.
    let mut plans = Vec::with_capacity(body.plans.len());
    for entry in &body.plans {
        plans.push(sync_one(&state, entry).await);
    }
    Ok(Json(SyncResponse { plans }))
}

/// The request as such: refused whole before any entry is handled, so that a malformed round
/// stores nothing at all.
fn check_entries(entries: &[SyncEntry]) -> Result<(), ApiError> {
    if entries.is_empty() {
        return Err(ApiError::bad_request(
            "no_plans",
            "The request names no plan; send one entry (plan, token, after) for each plan on this phone.",
        ));
    }
    if entries.len() > MAX_PLANS {
        return Err(ApiError::bad_request(
            "too_many_plans",
            format!(
                "One request syncs at most {MAX_PLANS} plans; send the others in a second request."
            ),
        ));
    }
    let mut seen = HashSet::with_capacity(entries.len());
    if let Some(twice) = entries.iter().find(|e| !seen.insert(e.plan)) {
        return Err(ApiError::bad_request(
            "plan_twice",
            format!(
                "Plan {} is named twice; send each plan once, with all its operations in one entry.",
                twice.plan
            ),
        ));
    }
    for entry in entries {
        ops::page_limit(entry.limit)?;
    }
    Ok(())
}

/// One entry: the token, then the push, then the pull. An access refusal at any step leaves
/// only `error`; a push refused whole is told in `push_error` and the pull still runs, so the
/// phone keeps its changes and still brings the others' in (as after a refused per-plan push).
async fn sync_one(state: &AppState, entry: &SyncEntry) -> SyncResult {
    let plan = entry.plan;
    let token = entry.token.trim();
    if token.is_empty() {
        return refused(
            plan,
            ApiError::new(
                StatusCode::UNAUTHORIZED,
                "token_missing",
                "This entry has no device token; send the token of this phone's device in this plan.",
            ),
        );
    }
    let device = match device_for_token(state, token).await {
        Ok(device) => device,
        Err(refusal) => return refused(plan, refusal.error),
    };
    let (mut push, mut push_error) = (None, None);
    if !entry.ops.is_empty() {
        match ops::push(state, &device, plan, &entry.ops).await {
            Ok(answer) => push = Some(answer),
            Err(PushRefused::Access(err)) => return refused(plan, err),
            Err(PushRefused::Batch(err)) => push_error = Some(entry_error(err)),
        }
    }
    match ops::pull(state, &device, plan, entry.after, entry.limit).await {
        Ok(page) => SyncResult {
            plan,
            error: None,
            push,
            push_error,
            ops: Some(page.ops),
            cursor: Some(page.cursor),
            last_seq: Some(page.last_seq),
            more: Some(page.more),
        },
        Err(err) => refused(plan, err),
    }
}

fn entry_error(err: ApiError) -> EntryError {
    EntryError {
        status: err.status.as_u16(),
        error: err.code.to_owned(),
        message: err.message,
    }
}

/// An entry whose plan this token may not reach: only the plan it named and why, nothing of
/// that plan or the token's own.
fn refused(plan: PlanId, err: ApiError) -> SyncResult {
    SyncResult {
        plan,
        error: Some(entry_error(err)),
        push: None,
        push_error: None,
        ops: None,
        cursor: None,
        last_seq: None,
        more: None,
    }
}
