//! Device tokens and invite codes: random secrets shown once, stored only as SHA-256 hashes.
//! [`AuthDevice`] is the extractor that turns `Authorization: Bearer <token>` into a device;
//! [`AuthDevice::admit`] and [`require_manager`] are the access checks the controllers make first.
//! Professionals' sessions are in [`professional`].

pub mod professional;

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{header, StatusCode};
use base64::Engine as _;
use koers_core::{allowed, Action, MemberId, PlanId, Role};
use sha2::{Digest as _, Sha256};

use crate::error::ApiError;
use crate::plans::{catch_up, PlanState};
use crate::AppState;
use koers_database::{DeviceRecord, SecretHash, Seq};

/// Random bytes in a device token (256 bits).
pub const TOKEN_BYTES: usize = 32;
/// Random bytes in an invite code (128 bits, 22 characters).
pub const INVITE_CODE_BYTES: usize = 16;

/// A fresh random secret of `bytes` bytes, base64url without padding.
pub fn new_secret(bytes: usize) -> String {
    let mut buf = vec![0u8; bytes];
    getrandom::getrandom(&mut buf).expect("the operating system provides random bytes");
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(buf)
}

/// SHA-256 of a token or code, lowercase hex: what the database keeps.
pub fn hash_secret(secret: &str) -> SecretHash {
    SecretHash(
        Sha256::digest(secret.as_bytes())
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect(),
    )
}

/// The device that sent a request, checked against the database: known and not revoked.
#[derive(Debug, Clone)]
pub struct AuthDevice {
    pub record: DeviceRecord,
    pub plan: PlanId,
    pub member: MemberId,
}

impl AuthDevice {
    /// 403 unless the device belongs to `plan`.
    pub fn require_plan(&self, plan: PlanId) -> Result<(), ApiError> {
        if self.plan == plan {
            Ok(())
        } else {
            Err(ApiError::forbidden(
                "wrong_plan",
                "This device is registered for another plan; use the token of a device of this plan.",
            ))
        }
    }

    /// The role the device's member has in `plan` now, or 401 `member_removed` if they were
    /// taken out of it. Read from the plan as the server holds it, not from the device row: a
    /// removed member is shut out even if revoking their device went wrong.
    pub fn role_in(&self, plan: &PlanState) -> Result<Role, ApiError> {
        plan.plan
            .member(self.member)
            .map(|m| m.role)
            .ok_or_else(member_removed)
    }

    /// The access check every plan endpoint makes first: a device of this plan (403
    /// `wrong_plan`) whose member still belongs to it (401 `member_removed`). Returns the
    /// member's current role.
    pub async fn admit(&self, state: &AppState, plan: PlanId) -> Result<Role, ApiError> {
        self.admit_at(state, plan, 0).await
    }

    /// [`AuthDevice::admit`] against the plan as it was at `head` or later: another instance may
    /// have stored a change (such as taking this member out) that this one has not read yet.
    pub async fn admit_at(
        &self,
        state: &AppState,
        plan: PlanId,
        head: Seq,
    ) -> Result<Role, ApiError> {
        self.require_plan(plan)?;
        let db = state.db.as_ref();
        let mut locked = state.plans.lock(db, plan).await?;
        if locked.state().last_seq < head {
            catch_up(db, locked.state()).await?;
        }
        match self.role_in(locked.state()) {
            Err(_) if locked.read_up_to_head(db).await? => self.role_in(locked.state()),
            judged => judged,
        }
    }
}

/// 401 `member_removed`: the device's member is no longer in the plan. Like `device_revoked`,
/// it tells the phone to wipe the plan (after offering what it could not send).
pub fn member_removed() -> ApiError {
    unauthorized(
        "member_removed",
        "This device's member was taken out of the plan; ask the foster-care worker for a new invite if that was a mistake.",
    )
}

/// 403 unless `role` (the member's current role, from [`AuthDevice::admit`]) manages members.
pub fn require_manager(role: Role) -> Result<(), ApiError> {
    if allowed(role, Action::ManageMembers) {
        Ok(())
    } else {
        Err(ApiError::forbidden(
            "not_allowed",
            "Only the foster-care worker manages invites and devices; ask them to do this.",
        ))
    }
}

fn unauthorized(code: &'static str, message: &str) -> ApiError {
    ApiError::new(StatusCode::UNAUTHORIZED, code, message)
}

/// A token the server refused, and the plan of its device when the token is known (a revoked
/// device's plan): the multi-plan event stream names it in its `closed` event.
#[derive(Debug, Clone)]
pub struct TokenRefused {
    pub plan: Option<PlanId>,
    pub error: ApiError,
}

impl From<TokenRefused> for ApiError {
    fn from(refused: TokenRefused) -> Self {
        refused.error
    }
}

/// The device a token belongs to, checked against the database: known (401 `token_unknown`) and
/// not revoked (401 `device_revoked`). The one token check of the API, whether the token came in
/// the `Authorization` header, the event stream's query or an entry of `POST /api/sync`, so that
/// a token is never judged two ways.
pub async fn device_for_token(state: &AppState, token: &str) -> Result<AuthDevice, TokenRefused> {
    let refused = |plan, error| TokenRefused { plan, error };
    let device = state
        .db
        .device_by_token(&hash_secret(token), koers_database::now())
        .await
        .map_err(|err| refused(None, err.into()))?
        .ok_or_else(|| {
            refused(
                None,
                unauthorized(
                    "token_unknown",
                    "This device token is not known; accept a new invite to register this device.",
                ),
            )
        })?;
    if device.revoked_at.is_some() {
        return Err(refused(
            Some(device.plan),
            unauthorized(
                "device_revoked",
                "This device was removed from the plan; ask the foster-care worker for a new invite.",
            ),
        ));
    }
    Ok(AuthDevice {
        plan: device.plan,
        member: device.member,
        record: device,
    })
}

impl FromRequestParts<AppState> for AuthDevice {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let value = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        // A browser's EventSource cannot send headers: the event stream alone also takes
        // `?access_token=`.
        let from_query = parts
            .uri
            .path()
            .ends_with("/events")
            .then(|| parts.uri.query())
            .flatten()
            .and_then(|q| q.split('&').find_map(|kv| kv.strip_prefix("access_token=")))
            .filter(|t| !t.is_empty());
        let token = match value.split_once(' ') {
            Some((scheme, token)) if scheme.eq_ignore_ascii_case("bearer") && !token.trim().is_empty() => {
                token.trim()
            }
            _ if from_query.is_some() => from_query.unwrap_or_default(),
            _ => {
                return Err(unauthorized(
                    "token_missing",
                    "Send the device token as `Authorization: Bearer <token>`; get one by creating a plan or accepting an invite.",
                ))
            }
        };
        Ok(device_for_token(state, token).await?)
    }
}
