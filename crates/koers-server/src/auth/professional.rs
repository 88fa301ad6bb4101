//! Signed-in professionals: the session token (`Authorization: Bearer <token>`) turned into an
//! account of an organisation ([`Professional`]), and the administrator's check
//! ([`Administrator`]). Like [`super::AuthDevice`], these are the access checks a handler makes
//! first, as extractors: a handler that takes one never runs for a request without it.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{header, StatusCode};

use super::{hash_secret, new_secret, TOKEN_BYTES};
use crate::error::ApiError;
use crate::AppState;
use koers_database::{AccountRecord, NewSession, SessionId, SessionRecord};

/// Session tokens start with this, so that a device token sent where a session is wanted (or
/// the other way round) gets an answer that says so.
pub const SESSION_PREFIX: &str = "ks.";

/// A signed-in professional: a live session of an active account.
#[derive(Debug, Clone)]
pub struct Professional {
    pub session: SessionRecord,
    pub account: AccountRecord,
}

/// A signed-in administrator of their organisation.
#[derive(Debug, Clone)]
pub struct Administrator(pub Professional);

/// A fresh session token and the session to store for it.
pub fn new_session(state: &AppState, account: koers_database::AccountId) -> (String, NewSession) {
    let token = format!("{SESSION_PREFIX}{}", new_secret(TOKEN_BYTES));
    let expires_at = koers_database::now()
        + chrono::Duration::from_std(state.site.session_time).unwrap_or(chrono::Duration::days(30));
    let session = NewSession {
        session: SessionId::new(),
        token: hash_secret(&token),
        account,
        expires_at,
    };
    (token, session)
}

/// The bearer token of a request, if it is a session token.
pub fn session_token(parts: &Parts) -> Option<&str> {
    let value = parts.headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    match value.split_once(' ') {
        Some((scheme, token)) if scheme.eq_ignore_ascii_case("bearer") => {
            Some(token.trim()).filter(|t| t.starts_with(SESSION_PREFIX))
        }
        _ => None,
    }
}

fn unauthorized(code: &'static str, message: &str) -> ApiError {
    ApiError::new(StatusCode::UNAUTHORIZED, code, message)
}

/// The one session check: known (401 `session_unknown`), not revoked (`session_revoked`), not
/// expired (`session_expired`), of an active account (`account_deactivated`).
pub async fn professional_for_token(
    state: &AppState,
    token: &str,
) -> Result<Professional, ApiError> {
    let now = koers_database::now();
    let session = state
        .db
        .session_by_token(&hash_secret(token), now)
        .await?
        .ok_or_else(|| {
            unauthorized(
                "session_unknown",
                "This sign-in is not known (any more); sign in again with your passkey.",
            )
        })?;
    let account = state.db.account(session.account).await?.ok_or_else(|| {
        unauthorized(
            "session_unknown",
            "This sign-in is not known (any more); sign in again with your passkey.",
        )
    })?;
    // Deactivation also revokes the sessions: say why, rather than "signed out".
    if account.deactivated_at.is_some() {
        return Err(account_deactivated());
    }
    if session.revoked_at.is_some() {
        return Err(unauthorized(
            "session_revoked",
            "You were signed out on this phone; sign in again with your passkey.",
        ));
    }
    if session.expires_at <= now {
        return Err(unauthorized(
            "session_expired",
            "Your sign-in has expired; sign in again with your passkey.",
        ));
    }
    Ok(Professional { session, account })
}

pub fn account_deactivated() -> ApiError {
    unauthorized(
        "account_deactivated",
        "Your account was deactivated by your organisation's administrator; ask them if that is a mistake.",
    )
}

impl FromRequestParts<AppState> for Professional {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        match session_token(parts) {
            Some(token) => professional_for_token(state, token).await,
            None => Err(unauthorized(
                "session_missing",
                "Sign in as a professional first (a passkey of your organisation), and send the session token as `Authorization: Bearer <token>`.",
            )),
        }
    }
}

/// A professional if the request carries a session token (checked like [`Professional`]: a
/// bad one is refused, not ignored), else `None`.
#[derive(Debug, Clone)]
pub struct MaybeProfessional(pub Option<Professional>);

impl FromRequestParts<AppState> for MaybeProfessional {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        match session_token(parts) {
            Some(token) => Ok(MaybeProfessional(Some(
                professional_for_token(state, token).await?,
            ))),
            None => Ok(MaybeProfessional(None)),
        }
    }
}

impl FromRequestParts<AppState> for Administrator {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let professional = Professional::from_request_parts(parts, state).await?;
        if !professional.account.admin {
            return Err(ApiError::forbidden(
                "not_an_administrator",
                "Only an administrator of your organisation may do this; ask them.",
            ));
        }
        Ok(Administrator(professional))
    }
}
