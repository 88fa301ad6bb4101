//! The event streams: `GET /api/plans/{plan}/events` follows one plan, `GET /api/events` the
//! plans of many tokens at once (a worker with twenty families holds one connection, not twenty:
//! a browser allows six per origin). Both follow a plan with [`super::follow::follow`], so that
//! they admit, count and end a device the same way; one plan's refusal or end never ends the
//! others' part of a stream of many.

use std::collections::HashSet;
use std::convert::Infallible;
use std::time::Duration;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::sse::{Event, KeepAlive, Sse};
use futures_util::{stream, Stream, StreamExt as _};
use koers_core::PlanId;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::follow::{follow, Heard};
use super::helpers::{PlanPath, MAX_PLANS};
use crate::auth::{device_for_token, AuthDevice};
use crate::error::{ApiError, ApiQuery};
use crate::wire::*;
use crate::AppState;

/// Comment sent on an idle event stream, so that proxies keep it open.
pub const KEEP_ALIVE: Duration = Duration::from_secs(15);

/// The keep-alive of every event stream.
pub fn keep_alive() -> KeepAlive {
    KeepAlive::new().interval(KEEP_ALIVE).text("keep-alive")
}

/// The routes of this module, each declared by its handler's `#[utoipa::path]`.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::default()
        .routes(routes!(events))
        .routes(routes!(events_all))
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
