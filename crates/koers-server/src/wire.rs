//! The JSON bodies of the sync API. Requests refuse unknown fields. Ids are UUID strings;
//! operations are [`koers_core::Op`] (described as a generic object in the OpenAPI document).

use koers_core::{MemberId, Op, OpId, PlanId, Role};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

/// Every error: a stable code and one sentence saying what to do.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ErrorBody {
    pub error: String,
    pub message: String,
}

/// `POST /api/plans`: the plan's first operations, with the founder's own member entity as a
/// foster-care worker; all of one plan and one author.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreatePlanRequest {
    #[schema(value_type = Vec<Object>)]
    pub ops: Vec<Op>,
    /// A name for the founder's device, shown in the device list.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub device_name: Option<String>,
}

/// A device registration: the token to send as `Authorization: Bearer <token>`. Shown once.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreatePlanResponse {
    #[schema(value_type = String)]
    pub plan: PlanId,
    #[schema(value_type = String)]
    pub member: MemberId,
    /// The device's id (for the device list).
    pub device: String,
    pub device_token: String,
    pub last_seq: i64,
}

/// `POST /api/plans/{plan}/ops`: at most 1000 operations, applied in order.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PushRequest {
    #[schema(value_type = Vec<Object>)]
    pub ops: Vec<Op>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AcceptedOp {
    #[schema(value_type = String)]
    pub op: OpId,
    pub seq: i64,
}

/// `reason` is `wrong_plan`, `not_your_member`, `clock_ahead` or `refused`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RefusedOp {
    #[schema(value_type = String)]
    pub op: OpId,
    pub reason: String,
    pub message: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PushResponse {
    /// Stored now, or already stored before (with their existing seq).
    pub accepted: Vec<AcceptedOp>,
    pub refused: Vec<RefusedOp>,
    /// The plan's newest sequence number.
    pub last_seq: i64,
}

/// `GET /api/plans/{plan}/ops?after=&limit=`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct PullQuery {
    /// Only operations with a higher seq (default 0: from the start).
    pub after: Option<i64>,
    /// At most this many (1 to 1000, default 1000).
    pub limit: Option<u32>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SeqOp {
    pub seq: i64,
    #[schema(value_type = Object)]
    pub op: Op,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PullResponse {
    /// Oldest first; continue with `after` = the last one's seq while `more` is true.
    pub ops: Vec<SeqOp>,
    /// The plan's newest sequence number.
    pub last_seq: i64,
    pub more: bool,
}

/// `POST /api/plans/{plan}/invites`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateInviteRequest {
    /// An existing member of the plan; the invite registers a device for them.
    #[schema(value_type = String)]
    pub member: MemberId,
    /// Days until the invite expires: 1 to 60, default 14.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub days: Option<u32>,
}

/// The code is shown once; only its hash is stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateInviteResponse {
    pub invite: String,
    pub code: String,
    pub expires_at: String,
    #[schema(value_type = String)]
    pub member: MemberId,
    #[schema(value_type = String)]
    pub role: Role,
}

/// An invite without its code. `status` is `open`, `used`, `expired` or `revoked`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct InviteInfo {
    pub invite: String,
    pub member: String,
    pub role: String,
    pub created_by: String,
    pub created_at: String,
    pub expires_at: String,
    pub status: String,
    pub used_at: Option<String>,
    pub revoked_at: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct InviteList {
    pub invites: Vec<InviteInfo>,
}

/// `POST /api/invites/accept` (no token needed).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AcceptInviteRequest {
    pub code: String,
    /// A name for this device, shown in the device list (at most 100 characters).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub device_name: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AcceptInviteResponse {
    #[schema(value_type = String)]
    pub plan: PlanId,
    #[schema(value_type = String)]
    pub member: MemberId,
    #[schema(value_type = String)]
    pub role: Role,
    pub device: String,
    pub device_token: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DeviceInfo {
    pub device: String,
    pub member: String,
    pub role: String,
    pub name: String,
    pub created_at: String,
    pub last_seen_at: Option<String>,
    pub revoked: bool,
    pub revoked_at: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DeviceList {
    pub devices: Vec<DeviceInfo>,
}

/// The data of a server-sent `ops` event: the plan's newest sequence number.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OpsEvent {
    pub last_seq: i64,
}
