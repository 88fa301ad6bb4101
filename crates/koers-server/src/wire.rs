//! The JSON bodies of the sync API. Requests refuse unknown fields. Ids are UUID strings;
//! operations are [`koers_core::Op`] (described in the OpenAPI document by [`OpSchema`]).

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

// The OpenAPI description of [`koers_core::Op`] (named `Op` in the document); the handlers read
// and write `Op` itself, never this.
/// One change to a plan: `author` set `field` of `entity` to `value` at hybrid-logical time
/// `hlc`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = Op)]
pub struct OpSchema {
    #[schema(format = "uuid")]
    pub id: String,
    #[schema(format = "uuid")]
    pub plan: String,
    /// Milliseconds (18 digits), counter (7 digits) and node (16 hex digits).
    #[schema(
        pattern = "^[0-9]{18}-[0-9]{7}-[0-9a-f]{16}$",
        example = "000001763900000000-0000000-00000000000000a1"
    )]
    pub hlc: String,
    /// The author's member id.
    #[schema(format = "uuid")]
    pub author: String,
    /// `plan`, `decision`, `phase_dates:<phase>` or `<kind>:<uuid>`.
    #[schema(
        pattern = "^(plan|decision|phase_dates:[a-z_]+|(member|consent|goal|goal_comment|contact_moment|evaluation|intervention|network_person):[0-9a-fA-F-]{36})$",
        example = "member:6b6f6572-7300-4000-a000-000000000001"
    )]
    pub entity: String,
    /// A field of the entity, snake_case.
    #[schema(pattern = "^[a-z][a-z_]*$", example = "name")]
    pub field: String,
    /// The new value (its type depends on the field).
    pub value: serde_json::Value,
    /// The op id of the write the author saw when making this change.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(format = "uuid")]
    pub supersedes: Option<String>,
}

/// `POST /api/plans`: the plan's first operations, with the founder's own member entity as a
/// foster-care worker; all of one plan and one author.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreatePlanRequest {
    #[schema(value_type = Vec<OpSchema>)]
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
    #[schema(value_type = Vec<OpSchema>)]
    pub ops: Vec<Op>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AcceptedOp {
    #[schema(value_type = String)]
    pub op: OpId,
    pub seq: i64,
}

/// `reason` says what the sender should do with the op:
/// - `clock_ahead` (dated too far in the future), `before_plan` (dated before the plan was
///   founded) and `hlc_counter_limit` (clock counter at `koers_core::hlc::COUNTER_LIMIT`): keep
///   the change, give it a new timestamp and send it again;
/// - `op_id_reused` (the id is stored with other content): keep the change, give it a new id and
///   send it again;
/// - `wrong_plan`, `not_your_member`, `refused` (not allowed): the change is not kept.
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
    #[schema(value_type = OpSchema)]
    pub op: Op,
    /// When the server stored the op (RFC 3339, UTC, milliseconds). Beside the op's own `hlc`
    /// (when it was written) it shows a change that was sent long after it was made.
    #[schema(
        pattern = "^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\\.[0-9]{3}Z$",
        example = "2026-11-29T10:00:00.000Z"
    )]
    pub received_at: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PullResponse {
    /// Oldest first.
    pub ops: Vec<SeqOp>,
    /// The plan's newest sequence number, read together with `ops`. Not where to continue from:
    /// that is `cursor`.
    pub last_seq: i64,
    /// Where to continue from: send it as `after` in the next pull (while `more` is true), and
    /// store it as what this device holds. It is the seq of the last op of the page when `more`
    /// is true, else `last_seq` of this same read; never below `after`.
    pub cursor: i64,
    /// More ops follow: pull again with `after` = `cursor`.
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
    /// The start of the invite link, such as `https://host/uitnodiging#` (`http://` or
    /// `https://`, at most 200 characters, no spaces). When given, the response also holds the
    /// link (this + the code) and a QR code of it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(
        max_length = 200,
        pattern = "^https?://[^\\s\\u0000-\\u001f\\u007f-\\u009f]*$"
    )]
    pub link_base: Option<String>,
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
    /// `link_base` + `code`, when `link_base` was given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub link: Option<String>,
    /// An SVG document of a QR code for `link`, when `link_base` was given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub qr_svg: Option<String>,
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

/// One event of the `GET /api/plans/{plan}/events` stream as it travels: `event` is `ops` and
/// `data` is the JSON text of an [`OpsEvent`], such as `{"last_seq":7}`. (Keep-alive comments
/// are not events.)
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct OpsEventMessage {
    #[schema(pattern = "^ops$", example = "ops")]
    pub event: String,
    /// JSON text of an `OpsEvent`.
    #[schema(example = "{\"last_seq\":7}")]
    pub data: String,
}

/// `POST /api/sync`: one sync round for many plans (issue 11). Each entry carries its own
/// device token and is checked on its own, as the per-plan endpoints check theirs.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SyncRequest {
    /// 1 to 100 entries, each plan at most once.
    #[schema(min_items = 1, max_items = 100)]
    pub plans: Vec<SyncEntry>,
}

/// One plan of a [`SyncRequest`]: push `ops` (if any), then pull after `after`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SyncEntry {
    #[schema(value_type = String, format = "uuid")]
    pub plan: PlanId,
    /// The token of this phone's device in this plan.
    pub token: String,
    /// Pull only operations with a higher seq (default 0: from the start): the `cursor` of the
    /// previous pull.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub after: Option<i64>,
    /// Pull at most this many (1 to 1000, default 1000).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(minimum = 1, maximum = 1000)]
    pub limit: Option<u32>,
    /// Operations to push first, as `POST /api/plans/{plan}/ops` takes them (at most 1000).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schema(value_type = Vec<OpSchema>)]
    pub ops: Vec<Op>,
}

/// A refusal inside a [`SyncResult`]: the status and the body the per-plan endpoint would have
/// answered.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EntryError {
    /// The HTTP status the per-plan endpoint would have answered.
    #[schema(minimum = 400, maximum = 599)]
    pub status: u16,
    pub error: String,
    pub message: String,
}

/// `POST /api/sync`: one result per entry, in the request's order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SyncResponse {
    pub plans: Vec<SyncResult>,
}

/// One plan's answer. With `error` (the token, the device or its member may not reach the plan:
/// 401, 403; or 500 when the server could not read it) nothing was pushed or pulled and only
/// `plan` and `error` are present. Otherwise the pull's fields are present, and `push` or
/// `push_error` when ops were sent.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SyncResult {
    #[schema(value_type = String, format = "uuid")]
    pub plan: PlanId,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<EntryError>,
    /// The push's answer, as `POST /api/plans/{plan}/ops` gives it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub push: Option<PushResponse>,
    /// The whole push was refused (`daily_limit`, `item_limit`, `plan_too_large`,
    /// `too_many_ops`, `op_id_taken`, …): nothing of it stored; the pull still ran.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub push_error: Option<EntryError>,
    /// As in `PullResponse`: oldest first.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ops: Option<Vec<SeqOp>>,
    /// As in `PullResponse`: where to continue from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cursor: Option<i64>,
    /// As in `PullResponse`: the plan's newest sequence number.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_seq: Option<i64>,
    /// As in `PullResponse`: more ops follow.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub more: Option<bool>,
}

/// `GET /api/events?tokens=`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct EventsQuery {
    /// This phone's device tokens, one per plan, separated by commas (at most 100).
    pub tokens: Option<String>,
}

/// The data of an `ops` event of `GET /api/events`: which plan has new operations, and its
/// newest sequence number.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PlanOpsEvent {
    #[schema(value_type = String, format = "uuid")]
    pub plan: PlanId,
    pub last_seq: i64,
}

/// The data of a `closed` event of `GET /api/events`: the stream no longer follows this plan
/// (`plan` is null for a token the server does not know), and why: an error code as the
/// per-plan endpoints give it (`token_unknown`, `device_revoked`, `member_removed`,
/// `too_many_streams`, `server_error`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PlanClosedEvent {
    #[schema(value_type = Option<String>, format = "uuid")]
    pub plan: Option<PlanId>,
    pub error: String,
}

/// One event of the `GET /api/events` stream as it travels: `event` is `ops` (data: the JSON
/// text of a `PlanOpsEvent`, such as `{"plan":"…","last_seq":7}`) or `closed` (data: the JSON
/// text of a `PlanClosedEvent`). (Keep-alive comments are not events.)
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct PlansEventMessage {
    #[schema(pattern = "^(ops|closed)$", example = "ops")]
    pub event: String,
    /// JSON text of a `PlanOpsEvent` or a `PlanClosedEvent`.
    #[schema(example = "{\"plan\":\"6b6f6572-7300-4000-a000-000000000001\",\"last_seq\":7}")]
    pub data: String,
}

// Organisations and professionals (docs/professionals.md).

/// `POST /api/enrolments/start`: the code of an enrolment link (the part after `#`).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StartEnrolmentRequest {
    pub code: String,
}

/// A passkey ceremony's options for the browser, under the id to answer it with.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct CeremonyOptions {
    #[schema(value_type = String, format = "uuid")]
    pub ceremony: uuid::Uuid,
    /// `{"publicKey": …}` in the WebAuthn JSON form (for `parseCreationOptionsFromJSON` or
    /// `parseRequestOptionsFromJSON`).
    #[schema(value_type = Object)]
    pub options: serde_json::Value,
}

/// The options of an enrolment, with what the link is for.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct EnrolmentOptions {
    #[schema(value_type = String, format = "uuid")]
    pub ceremony: uuid::Uuid,
    #[schema(value_type = Object)]
    pub options: serde_json::Value,
    /// The organisation's name.
    pub organisation: String,
    /// The name the administrator gave.
    pub name: String,
    pub admin: bool,
}

/// `POST /api/sessions/start`: nothing to send (a discoverable passkey says whose it is).
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StartSignInRequest {}

/// The browser's answer to a ceremony.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FinishCeremonyRequest {
    #[schema(value_type = String, format = "uuid")]
    pub ceremony: uuid::Uuid,
    /// `PublicKeyCredential.toJSON()`.
    #[schema(value_type = Object)]
    pub credential: serde_json::Value,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct OrganisationInfo {
    #[schema(value_type = String, format = "uuid")]
    pub organisation: uuid::Uuid,
    pub name: String,
}

/// A professional's account.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct AccountInfo {
    #[schema(value_type = String, format = "uuid")]
    pub account: uuid::Uuid,
    pub name: String,
    pub admin: bool,
    pub organisation: OrganisationInfo,
}

/// A new session: the token is shown once.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct SessionResponse {
    pub session_token: String,
    pub account: AccountInfo,
}

/// One plan a professional takes part in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct MembershipInfo {
    #[schema(value_type = String, format = "uuid")]
    pub plan: PlanId,
    #[schema(value_type = String, format = "uuid")]
    pub member: MemberId,
    #[schema(value_type = String)]
    pub role: Role,
}

/// `GET /api/me`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct MeResponse {
    pub account: AccountInfo,
    pub plans: Vec<MembershipInfo>,
}

/// `POST /api/me/plans/{plan}/devices`: this phone's name.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AddDeviceRequest {
    #[serde(default)]
    pub device_name: Option<String>,
}

/// A device registered for one of the professional's plans: the token is shown once.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct AddDeviceResponse {
    #[schema(value_type = String, format = "uuid")]
    pub plan: PlanId,
    #[schema(value_type = String, format = "uuid")]
    pub member: MemberId,
    #[schema(value_type = String)]
    pub role: Role,
    pub device: String,
    pub device_token: String,
}

/// `POST /api/plans/{plan}/devices/me/token`: the device's new token (the old one is dead).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct RotateTokenResponse {
    pub device_token: String,
}

/// `POST /api/organisation/enrolments`: whom to invite.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateEnrolmentRequest {
    pub name: String,
    #[serde(default)]
    pub admin: bool,
}

/// A new enrolment link: the code is shown once.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct CreateEnrolmentResponse {
    #[schema(value_type = String, format = "uuid")]
    pub enrolment: uuid::Uuid,
    pub code: String,
    /// The link to send the professional (`…/inschrijven#<code>`).
    pub link: String,
    pub expires_at: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct EnrolmentInfo {
    #[schema(value_type = String, format = "uuid")]
    pub enrolment: uuid::Uuid,
    pub name: String,
    pub admin: bool,
    pub created_at: String,
    pub expires_at: String,
    pub used_at: Option<String>,
    pub revoked_at: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ProfessionalInfo {
    #[schema(value_type = String, format = "uuid")]
    pub account: uuid::Uuid,
    pub name: String,
    pub admin: bool,
    pub created_at: String,
    pub deactivated_at: Option<String>,
    /// How many plans they take part in.
    pub plans: u32,
}

/// An account, named.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct AccountName {
    #[schema(value_type = String, format = "uuid")]
    pub account: uuid::Uuid,
    pub name: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct PlanProfessional {
    #[schema(value_type = String, format = "uuid")]
    pub account: uuid::Uuid,
    pub name: String,
    #[schema(value_type = String)]
    pub role: Role,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct OrganisationPlanInfo {
    #[schema(value_type = String, format = "uuid")]
    pub plan: PlanId,
    pub child_name: String,
    pub created_at: String,
    /// The account behind the plan's contact person (its foster-care worker).
    pub worker: Option<AccountName>,
    pub professionals: Vec<PlanProfessional>,
}

/// `GET /api/organisation`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct OrganisationResponse {
    pub organisation: OrganisationInfo,
    pub professionals: Vec<ProfessionalInfo>,
    pub enrolments: Vec<EnrolmentInfo>,
    pub plans: Vec<OrganisationPlanInfo>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct DeactivateResponse {
    pub devices_revoked: u32,
}

/// `POST /api/organisation/plans/{plan}/hand-over`: the account that takes the plan over.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct HandOverRequest {
    #[schema(value_type = String, format = "uuid")]
    pub to: uuid::Uuid,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct HandOverResponse {
    /// The new worker's member in the plan.
    #[schema(value_type = String, format = "uuid")]
    pub member: MemberId,
}

#[derive(Debug, Clone, Serialize, Deserialize, IntoParams, ToSchema)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct AccessLogQuery {
    /// Only lines from before this time (RFC 3339), for the next page.
    pub before: Option<String>,
    /// At most this many lines (1–500, default 100).
    pub limit: Option<u32>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct AccessLogEntry {
    pub at: String,
    pub account: Option<AccountName>,
    pub device: Option<String>,
    #[schema(value_type = Option<String>, format = "uuid")]
    pub plan: Option<PlanId>,
    pub action: String,
    pub detail: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct AccessLogResponse {
    pub entries: Vec<AccessLogEntry>,
}
