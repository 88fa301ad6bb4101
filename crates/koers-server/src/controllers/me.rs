//! The signed-in professional's own account and plans (`GET /api/me`), and a device for each
//! plan on a phone they sign in on (`POST /api/me/plans/{plan}/devices`): their memberships
//! belong to their account, so a new phone finds their whole caseload.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::helpers::{account_info, device_name, PlanPath};
use crate::access_log;
use crate::auth::professional::Professional;
use crate::auth::{hash_secret, new_secret, TOKEN_BYTES};
use crate::error::{ApiError, ApiJson};
use crate::wire::*;
use crate::AppState;
use koers_database::{DeviceId, NewDevice};

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::default()
        .routes(routes!(me))
        .routes(routes!(add_device))
}

/// `GET /api/me`: who is signed in, and the plans they take part in.
#[utoipa::path(
    get,
    path = "/api/me",
    tag = "professionals",
    security(("session_token" = [])),
    responses(
        (status = 200, description = "The account and its plans", body = MeResponse),
        (status = 401, description = "Not signed in (`session_missing`, `session_unknown`, `session_expired`, `session_revoked`, `account_deactivated`)", body = ErrorBody),
    )
)]
pub async fn me(
    State(state): State<AppState>,
    professional: Professional,
) -> Result<Json<MeResponse>, ApiError> {
    let plans = state
        .db
        .memberships(professional.account.account)
        .await?
        .into_iter()
        .map(|m| MembershipInfo {
            plan: m.plan,
            member: m.member,
            role: m.role,
        })
        .collect();
    Ok(Json(MeResponse {
        account: account_info(&state, &professional.account).await?,
        plans,
    }))
}

/// `POST /api/me/plans/{plan}/devices`: registers this phone for one of the professional's
/// plans, as their member there.
#[utoipa::path(
    post,
    path = "/api/me/plans/{plan}/devices",
    tag = "professionals",
    params(("plan" = String, Path, description = "The plan's id")),
    request_body = AddDeviceRequest,
    security(("session_token" = [])),
    responses(
        (status = 201, description = "Device registered; the token is shown once", body = AddDeviceResponse),
        (status = 400, description = "Malformed body or device name too long", body = ErrorBody),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 403, description = "The account takes no part in this plan (`not_a_member`)", body = ErrorBody),
        (status = 404, description = "Malformed plan id (`plan_unknown`)", body = ErrorBody),
        (status = 413, description = "Body larger than 2 MiB", body = ErrorBody),
        (status = 415, description = "Body not sent as application/json", body = ErrorBody),
    )
)]
pub async fn add_device(
    State(state): State<AppState>,
    PlanPath(plan): PlanPath,
    professional: Professional,
    ApiJson(body): ApiJson<AddDeviceRequest>,
) -> Result<(StatusCode, Json<AddDeviceResponse>), ApiError> {
    let name = device_name(body.device_name)?;
    let membership = state
        .db
        .memberships(professional.account.account)
        .await?
        .into_iter()
        .find(|m| m.plan == plan)
        .ok_or_else(|| {
            ApiError::forbidden(
                "not_a_member",
                "You take no part in this plan; ask its foster-care worker for an invite, or your administrator to hand it over to you.",
            )
        })?;
    let token = new_secret(TOKEN_BYTES);
    let device = NewDevice {
        device: DeviceId::new(),
        plan,
        member: membership.member,
        role: membership.role,
        token: hash_secret(&token),
        name,
        account: Some(professional.account.account),
    };
    let record = state.db.add_device(&device, koers_database::now()).await?;
    access_log::log_account(
        &state,
        &professional.account,
        Some(plan),
        "device_registered",
        &record.name,
    )
    .await;
    Ok((
        StatusCode::CREATED,
        Json(AddDeviceResponse {
            plan,
            member: record.member,
            role: record.role,
            device: record.device.to_string(),
            device_token: token,
        }),
    ))
}
