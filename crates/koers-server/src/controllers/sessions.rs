//! Signing in with a passkey (`POST /api/sessions/start`, then `/finish`) and out
//! (`DELETE /api/sessions/me`). The sign-in is discoverable: the phone's passkey says whose it
//! is, so a professional types nothing, on any phone their passkey reaches.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::enrolments::wrong_ceremony;
use super::helpers::account_info;
use crate::access_log;
use crate::auth::professional::{account_deactivated, new_session, Professional};
use crate::error::{ApiError, ApiJson};
use crate::limits::{Attempt, ClientAddress};
use crate::passkeys::{self, Ceremony};
use crate::wire::*;
use crate::AppState;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::default()
        .routes(routes!(start_sign_in))
        .routes(routes!(finish_sign_in))
        .routes(routes!(sign_out))
}

/// `POST /api/sessions/start`: the options for `navigator.credentials.get`.
#[utoipa::path(
    post,
    path = "/api/sessions/start",
    tag = "professionals",
    request_body = StartSignInRequest,
    responses(
        (status = 200, description = "The options for `navigator.credentials.get`", body = CeremonyOptions),
        (status = 400, description = "Malformed body", body = ErrorBody),
        (status = 413, description = "Body larger than 2 MiB", body = ErrorBody),
        (status = 415, description = "Body not sent as application/json", body = ErrorBody),
        (status = 429, description = "Too many sign-ins from this address (`too_many_attempts`); see `Retry-After`", body = ErrorBody),
    )
)]
pub async fn start_sign_in(
    State(state): State<AppState>,
    address: ClientAddress,
    ApiJson(_): ApiJson<StartSignInRequest>,
) -> Result<Json<CeremonyOptions>, ApiError> {
    state.limits.attempt(Attempt::SignIn, address.0, None)?;
    let (options, ceremony) = state.site.passkeys.start_sign_in()?;
    let ceremony = passkeys::keep(&state, &ceremony).await?;
    Ok(Json(CeremonyOptions {
        ceremony: ceremony.0,
        options,
    }))
}

fn passkey_unknown() -> ApiError {
    ApiError::new(
        StatusCode::UNAUTHORIZED,
        "passkey_unknown",
        "This passkey is not known here (made for another Koers, or its account is gone); use your organisation's enrolment link first.",
    )
}

/// `POST /api/sessions/finish`: checks the passkey's answer and signs this phone in.
#[utoipa::path(
    post,
    path = "/api/sessions/finish",
    tag = "professionals",
    request_body = FinishCeremonyRequest,
    responses(
        (status = 201, description = "Signed in; the session token is shown once", body = SessionResponse),
        (status = 400, description = "Malformed body or answer (`invalid_credential`, `wrong_ceremony`), or a passkey refused (`passkey_refused`)", body = ErrorBody),
        (status = 401, description = "A passkey not known here (`passkey_unknown`), or of a deactivated account (`account_deactivated`)", body = ErrorBody),
        (status = 410, description = "The ceremony is unknown, answered or too old (`ceremony_expired`)", body = ErrorBody),
        (status = 413, description = "Body larger than 2 MiB", body = ErrorBody),
        (status = 415, description = "Body not sent as application/json", body = ErrorBody),
        (status = 429, description = "Too many sign-ins from this address or for this account (`too_many_attempts`)", body = ErrorBody),
    )
)]
pub async fn finish_sign_in(
    State(state): State<AppState>,
    address: ClientAddress,
    ApiJson(body): ApiJson<FinishCeremonyRequest>,
) -> Result<(StatusCode, Json<SessionResponse>), ApiError> {
    let passkeys = &state.site.passkeys;
    // Who the answer claims to be counts too: a passkey tried from many addresses is limited.
    let claim = passkeys.identify(body.credential)?;
    state
        .limits
        .attempt(Attempt::SignIn, address.0, Some(&claim.account.to_string()))?;
    let Ceremony::SignIn { state: challenge } =
        passkeys::take(&state, koers_database::CeremonyId(body.ceremony)).await?
    else {
        return Err(wrong_ceremony());
    };
    // The user handle is not signed: a passkey counts only for the account it was made for.
    let stored = state
        .db
        .passkey(&claim.credential)
        .await?
        .filter(|stored| stored.account == claim.account)
        .ok_or_else(passkey_unknown)?;
    let updated = passkeys.finish_sign_in(challenge, &claim.answer, &stored.passkey)?;
    let account = state
        .db
        .account(stored.account)
        .await?
        .ok_or_else(passkey_unknown)?;
    if account.deactivated_at.is_some() {
        return Err(account_deactivated());
    }
    let now = koers_database::now();
    state
        .db
        .update_passkey(&stored.credential, &updated, now)
        .await?;
    let (token, session) = new_session(&state, account.account);
    state.db.create_session(&session, now).await?;
    access_log::log_account(&state, &account, None, "signed_in", "").await;
    Ok((
        StatusCode::CREATED,
        Json(SessionResponse {
            session_token: token,
            account: account_info(&state, &account).await?,
        }),
    ))
}

/// `DELETE /api/sessions/me`: signs this phone out (the session token stops working; the
/// devices of the plans on the phone keep theirs).
#[utoipa::path(
    delete,
    path = "/api/sessions/me",
    tag = "professionals",
    security(("session_token" = [])),
    responses(
        (status = 204, description = "Signed out"),
        (status = 401, description = "Not signed in (`session_missing`, `session_unknown`, `session_expired`, `session_revoked`, `account_deactivated`)", body = ErrorBody),
    )
)]
pub async fn sign_out(
    State(state): State<AppState>,
    professional: Professional,
) -> Result<StatusCode, ApiError> {
    state
        .db
        .revoke_session(professional.session.session, koers_database::now())
        .await?;
    access_log::log_account(&state, &professional.account, None, "signed_out", "").await;
    Ok(StatusCode::NO_CONTENT)
}
