//! `POST /api/plans`: founding a plan from its first operations. Every operation is authorized
//! with [`koers_core::authorize`] against the plan as it grows, before anything is stored.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use koers_core::{authorize, Entity, Field, Op, Replica, Role};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::helpers::{
    check_batch_size, device_name, now_millis, op_body, op_id_reused, op_id_taken,
};
use crate::access_log;
use crate::auth::professional::Professional;
use crate::auth::{hash_secret, new_secret, TOKEN_BYTES};
use crate::error::{ApiError, ApiJson};
use crate::plans::{affects_authorization, PlanState};
use crate::wire::*;
use crate::AppState;
use koers_database::{DatabaseError, DeviceId, NewDevice, NewOp, PlanOwner};

/// The routes of this module, each declared by its handler's `#[utoipa::path]`.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::default().routes(routes!(create_plan))
}

fn is_founder_op(op: &Op) -> bool {
    op.entity == Entity::Member(op.author)
        && op.field == Field::Role
        && op.value == serde_json::json!(Role::FosterCareWorker.key())
}

/// `POST /api/plans`: a signed-in professional creates a plan from its first operations; the
/// plan belongs to their organisation, its founder's member to their account, and this phone
/// is registered as the founder's device.
#[utoipa::path(
    post,
    path = "/api/plans",
    tag = "sync",
    request_body = CreatePlanRequest,
    security(("session_token" = [])),
    responses(
        (status = 201, description = "Plan created; the device token is shown once", body = CreatePlanResponse),
        (status = 400, description = "Not a valid founding batch", body = ErrorBody),
        (status = 401, description = "No signed-in professional (`session_missing`, `session_unknown`, `session_expired`, `session_revoked`, `account_deactivated`)", body = ErrorBody),
        (status = 409, description = "The plan exists (`plan_exists`), an operation id belongs to another plan (`op_id_taken`) or is sent with two contents (`op_id_reused`)", body = ErrorBody),
        (status = 422, description = "An operation was refused", body = ErrorBody),
        (status = 413, description = "Body larger than 2 MiB", body = ErrorBody),
        (status = 415, description = "Body not sent as application/json", body = ErrorBody),
    )
)]
pub async fn create_plan(
    State(state): State<AppState>,
    professional: Professional,
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
    if state.db.plan_exists(plan_id).await? {
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
        device: DeviceId::new(),
        plan: plan_id,
        member: author,
        role: Role::FosterCareWorker,
        token: hash_secret(&token),
        name,
        account: Some(professional.account.account),
    };
    let owner = PlanOwner {
        organisation: professional.account.organisation,
        account: professional.account.account,
    };
    let ops: Vec<NewOp> = ordered.iter().map(|op| op_body(op)).collect();
    let now = koers_database::now();
    let seqs = match state
        .db
        .create_plan(plan_id, &ops, &device, Some(owner), now)
        .await
    {
        Ok(seqs) => seqs,
        Err(DatabaseError::PlanExists { .. }) => return Err(plan_exists()),
        Err(DatabaseError::OpIdConflict { op_id }) => return Err(op_id_taken(op_id)),
        Err(DatabaseError::OpIdReused { op_id }) => return Err(op_id_reused(op_id)),
        Err(err) => return Err(err.into()),
    };
    let last_seq = seqs.iter().copied().max().unwrap_or(0);
    grown.last_seq = last_seq;
    // The founding batch dates the plan: nothing older is accepted later (`before_plan`).
    grown.founded_millis = body.ops.iter().map(|op| op.hlc.millis).min().unwrap_or(0);
    state.plans.insert(plan_id, grown).await;
    access_log::log_account(&state, &professional.account, Some(plan_id), "founded", "").await;
    Ok((
        StatusCode::CREATED,
        Json(CreatePlanResponse {
            plan: plan_id,
            member: author,
            device: device.device.to_string(),
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
