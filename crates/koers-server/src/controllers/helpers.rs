//! What the controllers share: the `{plan}` of the path ([`PlanPath`]) and the other path
//! segments, the batch and device-name checks of founding a plan and pushing, how an operation
//! is handed to the database, and the limits on one request.

use std::collections::HashMap;
use std::time::{SystemTime, UNIX_EPOCH};

use axum::extract::{FromRequestParts, Path};
use axum::http::request::Parts;
use axum::http::StatusCode;
use koers_core::{Op, PlanId};
use uuid::Uuid;

use crate::error::ApiError;
use koers_database::NewOp;

/// Most operations in one push or pull.
pub const MAX_BATCH: usize = 1000;
/// Most plans in one `POST /api/sync` and tokens in one `GET /api/events`: more than any
/// caseload (a guardian carries about eighteen children), few enough that one request stays
/// short.
pub const MAX_PLANS: usize = 100;
/// Longest device name.
pub const MAX_DEVICE_NAME_CHARS: usize = 100;

pub(crate) fn now_millis() -> u64 {
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
pub(crate) fn path_param(params: &HashMap<String, String>, name: &str) -> String {
    params.get(name).cloned().unwrap_or_default()
}

pub(crate) fn device_name(name: Option<String>) -> Result<String, ApiError> {
    let name = name.unwrap_or_default().trim().to_owned();
    if name.chars().count() > MAX_DEVICE_NAME_CHARS {
        return Err(ApiError::bad_request(
            "invalid_device_name",
            format!("The device name is longer than {MAX_DEVICE_NAME_CHARS} characters; use a shorter name."),
        ));
    }
    Ok(name)
}

pub(crate) fn check_batch_size(ops: &[Op]) -> Result<(), ApiError> {
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

pub(crate) fn op_body(op: &Op) -> NewOp {
    NewOp {
        id: op.id,
        author: op.author,
        body: serde_json::to_string(op).expect("an op serializes"),
    }
}

pub(crate) fn op_id_taken(op_id: impl std::fmt::Display) -> ApiError {
    ApiError::new(
        StatusCode::CONFLICT,
        "op_id_taken",
        format!("Operation {op_id} already belongs to another plan; give the operation a new id."),
    )
}

pub(crate) fn op_id_reused(op_id: impl std::fmt::Display) -> ApiError {
    ApiError::new(
        StatusCode::CONFLICT,
        "op_id_reused",
        format!(
            "Operation {op_id} is sent with two different contents; give each change its own id."
        ),
    )
}

/// An account as the API shows it, with its organisation's name.
pub(crate) async fn account_info(
    state: &crate::AppState,
    account: &koers_database::AccountRecord,
) -> Result<crate::wire::AccountInfo, ApiError> {
    let name = state
        .db
        .organisation(account.organisation)
        .await?
        .map(|o| o.name)
        .unwrap_or_default();
    Ok(crate::wire::AccountInfo {
        account: account.account.0,
        name: account.name.clone(),
        admin: account.admin,
        organisation: crate::wire::OrganisationInfo {
            organisation: account.organisation.0,
            name,
        },
    })
}
