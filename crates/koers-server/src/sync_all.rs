//! One request for all the plans on a phone (issue 11): `POST /api/sync` pushes and pulls many
//! plans at once, `GET /api/events` follows many plans in one event stream. A worker with twenty
//! families syncs in one request and holds one connection, not twenty (a browser allows six per
//! origin). Each entry is checked on its own token with the same functions as the per-plan
//! endpoints ([`crate::auth::device_for_token`], [`sync::push`], [`sync::pull`],
//! [`crate::follow::follow`]), and one plan's refusal is told in its own entry only: it never fails the
//! request or touches another plan.

use std::collections::HashSet;
use std::convert::Infallible;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::sse::{Event, Sse};
use axum::Json;
use futures_util::{stream, Stream, StreamExt as _};
use koers_core::PlanId;

use crate::auth::device_for_token;
use crate::error::{ApiError, ApiJson, ApiQuery};
use crate::follow::{follow, keep_alive, Heard};
use crate::sync::{self, PushRefused};
use crate::wire::*;
use crate::AppState;

/// Most plans in one `POST /api/sync` and tokens in one `GET /api/events`: more than any
/// caseload (a guardian carries about eighteen children), few enough that one request stays
/// short.
pub const MAX_PLANS: usize = 100;

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
        sync::page_limit(entry.limit)?;
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
        match sync::push(state, &device, plan, &entry.ops).await {
            Ok(answer) => push = Some(answer),
            Err(PushRefused::Access(err)) => return refused(plan, err),
            Err(PushRefused::Batch(err)) => push_error = Some(entry_error(err)),
        }
    }
    match sync::pull(state, &device, plan, entry.after, entry.limit).await {
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

/// `GET /api/events?tokens=<t1>,<t2>,…`: one event stream for the plans of all these tokens.
#[utoipa::path(
    get,
    path = "/api/events",
    tag = "sync",
    params(EventsQuery),
    responses(
        (status = 200, description = "text/event-stream: on connecting an `ops` event per plan followed and a `closed` event per token refused; then `ops` after each batch a plan stored, and `closed` when a plan's device is revoked or its member taken out (that plan is dropped, the others go on; the stream ends when none is left). Each event's data is the JSON of a PlanOpsEvent or a PlanClosedEvent", content_type = "text/event-stream", body = PlansEventMessage),
        (status = 400, description = "More than 100 tokens (`too_many_tokens`) or an invalid query", body = ErrorBody),
        (status = 401, description = "No token (`token_missing`), or no token admitted: the refusal of the first (`token_unknown`, `device_revoked`, `member_removed`)", body = ErrorBody),
        (status = 429, description = "No token admitted because each device holds the most event streams allowed (`too_many_streams`)", body = ErrorBody),
    )
)]
pub async fn events_all(
    State(state): State<AppState>,
    ApiQuery(query): ApiQuery<EventsQuery>,
) -> Result<Sse<impl Stream<Item = Result<Event, Infallible>>>, ApiError> {
    let tokens = event_tokens(&query)?;
    let mut closed = Vec::new();
    let mut followed = Vec::new();
    let mut first_refusal = None;
    for token in tokens {
        let (plan, err) = match device_for_token(&state, token).await {
            Ok(device) => match follow(&state, &device, device.plan).await {
                Ok(heard) => {
                    // Each plan's stream ends after its `closed` event, and with it gives back
                    // the device's stream place; `select_all` drops it and goes on with the
                    // others.
                    let plan = device.plan;
                    followed.push(Box::pin(heard.map(move |heard| plan_event(plan, heard))));
                    continue;
                }
                Err(err) => (Some(device.plan), err),
            },
            Err(refusal) => (refusal.plan, refusal.error),
        };
        closed.push(closed_event(plan, err.code));
        first_refusal.get_or_insert(err);
    }
    if followed.is_empty() {
        // Nothing to follow: the answer the per-plan stream gives for the first token.
        return Err(first_refusal.unwrap_or_else(no_tokens));
    }
    let stream = stream::iter(closed)
        .chain(stream::select_all(followed))
        .map(Ok);
    Ok(Sse::new(stream).keep_alive(keep_alive()))
}

/// The tokens of the query, each once, in order.
fn event_tokens(query: &EventsQuery) -> Result<Vec<&str>, ApiError> {
    let mut seen = HashSet::new();
    let tokens: Vec<&str> = (query.tokens.as_deref().unwrap_or(""))
        .split(',')
        .map(str::trim)
        .filter(|t| !t.is_empty() && seen.insert(*t))
        .collect();
    if tokens.is_empty() {
        return Err(no_tokens());
    }
    if tokens.len() > MAX_PLANS {
        return Err(ApiError::bad_request(
            "too_many_tokens",
            format!("One event stream follows at most {MAX_PLANS} plans; open a second stream for the others."),
        ));
    }
    Ok(tokens)
}

fn no_tokens() -> ApiError {
    ApiError::new(
        StatusCode::UNAUTHORIZED,
        "token_missing",
        "Send this phone's device tokens as `?tokens=<token>,<token>`; get one by creating a plan or accepting an invite.",
    )
}

fn plan_event(plan: PlanId, heard: Heard) -> Event {
    match heard {
        Heard::Ops(last_seq) => Event::default().event("ops").data(
            serde_json::to_string(&PlanOpsEvent { plan, last_seq }).expect("an event serializes"),
        ),
        Heard::Closed(code) => closed_event(Some(plan), code),
    }
}

fn closed_event(plan: Option<PlanId>, code: &str) -> Event {
    Event::default().event("closed").data(
        serde_json::to_string(&PlanClosedEvent {
            plan,
            error: code.to_owned(),
        })
        .expect("an event serializes"),
    )
}
