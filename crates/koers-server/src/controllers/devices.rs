//! Devices: every phone registered for a plan (`GET /api/plans/{plan}/devices`), and signing
//! one out (`DELETE /api/plans/{plan}/devices/{device}`), which also ends its event streams, and
//! a device's new token (`POST /api/plans/{plan}/devices/me/token`).

use std::collections::HashMap;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use koers_core::PlanId;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::helpers::{path_param, PlanPath};
use crate::auth::{hash_secret, new_secret, require_manager, AuthDevice, TOKEN_BYTES};
use crate::error::ApiError;
use crate::wire::*;
use crate::AppState;
use koers_database::{time_text, DatabaseError, DeviceId, DeviceRecord, Notice};

/// The routes of this module, each declared by its handler's `#[utoipa::path]`.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::default()
        .routes(routes!(list_devices))
        .routes(routes!(revoke_device))
        .routes(routes!(rotate_token))
}

fn device_info(d: DeviceRecord) -> DeviceInfo {
    DeviceInfo {
        device: d.device.to_string(),
        member: d.member.to_string(),
        role: d.role.key().to_owned(),
        name: d.name,
        created_at: time_text(d.created_at),
        last_seen_at: d.last_seen_at.map(time_text),
        revoked: d.revoked_at.is_some(),
        revoked_at: d.revoked_at.map(time_text),
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
    let devices = state.db.devices(plan_id).await?;
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
    let unknown = || {
        ApiError::not_found(
            "device_unknown",
            "The plan has no such device; list the devices to find its id.",
        )
    };
    let target = match path_param(&params, "device").as_str() {
        "me" => device.record.device,
        // The manager check comes before an unparsable id is told apart from an unknown one.
        other => other
            .parse::<DeviceId>()
            .ok()
            .unwrap_or(DeviceId(uuid::Uuid::nil())),
    };
    if target != device.record.device {
        require_manager(role)?;
    }
    if revoke(&state, plan_id, target).await? {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(unknown())
    }
}

/// Revokes a device's token and ends its event streams. False if the plan has no such device.
async fn revoke(
    state: &AppState,
    plan_id: PlanId,
    device: DeviceId,
) -> Result<bool, DatabaseError> {
    let revoked = (state.db)
        .revoke_device(plan_id, device, koers_database::now())
        .await?;
    if revoked {
        (state.publish(Notice::DeviceRevoked {
            plan: plan_id,
            device,
        }))
        .await;
    }
    Ok(revoked)
}

/// `POST /api/plans/{plan}/devices/me/token`: a new token for the calling device; the old one
/// stops working at once (a token that may have leaked, or a routine rotation).
#[utoipa::path(
    post,
    path = "/api/plans/{plan}/devices/me/token",
    tag = "devices",
    params(("plan" = String, Path, description = "Plan id")),
    security(("device_token" = [])),
    responses(
        (status = 200, description = "The new token, shown once", body = RotateTokenResponse),
        (status = 403, description = "Token of another plan", body = ErrorBody),
        (status = 401, description = "Missing, unknown or revoked token (`token_missing`, `token_unknown`, `device_revoked`), or the device's member was taken out of the plan (`member_removed`)", body = ErrorBody),
        (status = 404, description = "No such plan", body = ErrorBody),
    )
)]
pub async fn rotate_token(
    PlanPath(plan_id): PlanPath,
    State(state): State<AppState>,
    device: AuthDevice,
) -> Result<Json<RotateTokenResponse>, ApiError> {
    device.admit(&state, plan_id).await?;
    let token = new_secret(TOKEN_BYTES);
    if !(state.db)
        .rotate_device_token(device.record.device, &hash_secret(&token))
        .await?
    {
        // Revoked between the check and now.
        return Err(ApiError::new(
            StatusCode::UNAUTHORIZED,
            "device_revoked",
            "This device was removed from the plan; ask the foster-care worker for a new invite.",
        ));
    }
    Ok(Json(RotateTokenResponse {
        device_token: token,
    }))
}
