//! Enrolment links: an administrator invites a professional of their organisation
//! (`POST /api/organisation/enrolments`), who opens the one-time link and makes a passkey
//! (`POST /api/enrolments/start`, then `/finish`). The first administrator's link is printed by
//! the server on its first start ([`crate::first_start`]).

use std::collections::HashMap;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::helpers::account_info;
use super::helpers::path_param;
use crate::access_log;
use crate::auth::professional::{new_session, Administrator};
use crate::auth::{hash_secret, new_secret, INVITE_CODE_BYTES};
use crate::error::{ApiError, ApiJson};
use crate::limits::{Attempt, ClientAddress};
use crate::passkeys::{self, Ceremony};
use crate::wire::*;
use crate::AppState;
use koers_database::{
    time_text, AccountId, Enrolling, EnrolmentId, EnrolmentOutcome, EnrolmentRecord, NewEnrolment,
};

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::default()
        .routes(routes!(start_enrolment))
        .routes(routes!(finish_enrolment))
        .routes(routes!(create_enrolment))
        .routes(routes!(revoke_enrolment))
}

fn gone(code: &'static str, message: &str) -> ApiError {
    ApiError::new(StatusCode::GONE, code, message)
}

fn used() -> ApiError {
    gone(
        "enrolment_used",
        "This link was used already; sign in with your passkey, or ask your administrator for a new link.",
    )
}

fn expired() -> ApiError {
    gone(
        "enrolment_expired",
        "This link has expired; ask your organisation's administrator for a new one.",
    )
}

fn revoked() -> ApiError {
    gone(
        "enrolment_revoked",
        "This link was withdrawn by your organisation's administrator; ask them for a new one.",
    )
}

/// Why an enrolment cannot be used (`None`: it can). The database checks again when it is used.
fn unusable(record: &EnrolmentRecord) -> Option<ApiError> {
    if record.revoked_at.is_some() {
        Some(revoked())
    } else if record.used_at.is_some() {
        Some(used())
    } else if record.expires_at <= koers_database::now() {
        Some(expired())
    } else {
        None
    }
}

fn unknown() -> ApiError {
    ApiError::not_found(
        "enrolment_unknown",
        "This link is not known; check that it was copied whole, or ask your administrator for a new one.",
    )
}

/// `POST /api/enrolments/start`: the passkey options for an enrolment link.
#[utoipa::path(
    post,
    path = "/api/enrolments/start",
    tag = "professionals",
    request_body = StartEnrolmentRequest,
    responses(
        (status = 200, description = "The options for `navigator.credentials.create`, and what the link is for", body = EnrolmentOptions),
        (status = 400, description = "Malformed body", body = ErrorBody),
        (status = 404, description = "Unknown link (`enrolment_unknown`)", body = ErrorBody),
        (status = 410, description = "Link used, expired or withdrawn", body = ErrorBody),
        (status = 413, description = "Body larger than 2 MiB", body = ErrorBody),
        (status = 415, description = "Body not sent as application/json", body = ErrorBody),
        (status = 429, description = "Too many links tried from this address (`too_many_attempts`); see `Retry-After`", body = ErrorBody),
    )
)]
pub async fn start_enrolment(
    State(state): State<AppState>,
    address: ClientAddress,
    ApiJson(body): ApiJson<StartEnrolmentRequest>,
) -> Result<Json<EnrolmentOptions>, ApiError> {
    let code = hash_secret(body.code.trim());
    state
        .limits
        .attempt(Attempt::Enrolment, address.0, Some(&code.0))?;
    let record = state
        .db
        .enrolment_by_code(&code)
        .await?
        .ok_or_else(unknown)?;
    if let Some(err) = unusable(&record) {
        return Err(err);
    }
    let organisation = state
        .db
        .organisation(record.organisation)
        .await?
        .map(|o| o.name)
        .unwrap_or_default();
    let account = AccountId::new();
    let (options, ceremony) =
        state
            .site
            .passkeys
            .start_enrolment(record.enrolment, account, &record.name)?;
    let ceremony = passkeys::keep(&state, &ceremony).await?;
    Ok(Json(EnrolmentOptions {
        ceremony: ceremony.0,
        options,
        organisation,
        name: record.name,
        admin: record.admin,
    }))
}

/// `POST /api/enrolments/finish`: makes the account with its passkey and signs this phone in.
#[utoipa::path(
    post,
    path = "/api/enrolments/finish",
    tag = "professionals",
    request_body = FinishCeremonyRequest,
    responses(
        (status = 201, description = "The account exists; the session token is shown once", body = SessionResponse),
        (status = 400, description = "Malformed body or answer (`invalid_credential`), or a passkey refused (`passkey_refused`)", body = ErrorBody),
        (status = 410, description = "The ceremony is unknown, answered or too old (`ceremony_expired`), or the link was used, expired or withdrawn meanwhile", body = ErrorBody),
        (status = 413, description = "Body larger than 2 MiB", body = ErrorBody),
        (status = 415, description = "Body not sent as application/json", body = ErrorBody),
        (status = 429, description = "Too many attempts from this address (`too_many_attempts`)", body = ErrorBody),
    )
)]
pub async fn finish_enrolment(
    State(state): State<AppState>,
    address: ClientAddress,
    ApiJson(body): ApiJson<FinishCeremonyRequest>,
) -> Result<(StatusCode, Json<SessionResponse>), ApiError> {
    state.limits.attempt(Attempt::Enrolment, address.0, None)?;
    let Ceremony::Enrolment {
        enrolment,
        account,
        name,
        state: registration,
    } = passkeys::take(&state, koers_database::CeremonyId(body.ceremony)).await?
    else {
        return Err(wrong_ceremony());
    };
    let passkey = state
        .site
        .passkeys
        .finish_enrolment(&registration, body.credential)?;
    let account = AccountId(account);
    let (token, session) = new_session(&state, account);
    let enrolling = Enrolling {
        account,
        name,
        credential: passkey.credential,
        passkey: passkey.passkey,
        session,
    };
    let now = koers_database::now();
    let record = match state
        .db
        .use_enrolment(EnrolmentId(enrolment), &enrolling, now)
        .await?
    {
        EnrolmentOutcome::Enrolled(record) => record,
        EnrolmentOutcome::Unknown => return Err(unknown()),
        EnrolmentOutcome::Used => return Err(used()),
        EnrolmentOutcome::Expired => return Err(expired()),
        EnrolmentOutcome::Revoked => return Err(revoked()),
    };
    access_log::log_account(&state, &record, None, "enrolled", "").await;
    Ok((
        StatusCode::CREATED,
        Json(SessionResponse {
            session_token: token,
            account: account_info(&state, &record).await?,
        }),
    ))
}

pub(crate) fn wrong_ceremony() -> ApiError {
    ApiError::bad_request(
        "wrong_ceremony",
        "This passkey request belongs to another step (signing in rather than enrolling, or the other way round); start again.",
    )
}

/// `POST /api/organisation/enrolments`: a one-time link for a new professional.
#[utoipa::path(
    post,
    path = "/api/organisation/enrolments",
    tag = "organisation",
    request_body = CreateEnrolmentRequest,
    security(("session_token" = [])),
    responses(
        (status = 201, description = "The link; its code is shown once", body = CreateEnrolmentResponse),
        (status = 400, description = "No name, or a name longer than 100 characters (`invalid_name`)", body = ErrorBody),
        (status = 401, description = "Not signed in (`session_missing`, `session_unknown`, `session_expired`, `session_revoked`, `account_deactivated`)", body = ErrorBody),
        (status = 403, description = "Not an administrator (`not_an_administrator`)", body = ErrorBody),
        (status = 413, description = "Body larger than 2 MiB", body = ErrorBody),
        (status = 415, description = "Body not sent as application/json", body = ErrorBody),
    )
)]
pub async fn create_enrolment(
    State(state): State<AppState>,
    Administrator(admin): Administrator,
    ApiJson(body): ApiJson<CreateEnrolmentRequest>,
) -> Result<(StatusCode, Json<CreateEnrolmentResponse>), ApiError> {
    let name = body.name.trim().to_owned();
    if name.is_empty() || name.chars().count() > 100 {
        return Err(ApiError::bad_request(
            "invalid_name",
            "Give the professional's name (at most 100 characters).",
        ));
    }
    let code = new_secret(INVITE_CODE_BYTES);
    let now = koers_database::now();
    let enrolment = NewEnrolment {
        enrolment: EnrolmentId::new(),
        code: hash_secret(&code),
        organisation: admin.account.organisation,
        name: name.clone(),
        admin: body.admin,
        created_by: Some(admin.account.account),
        expires_at: now
            + chrono::Duration::from_std(state.site.enrolment_time)
                .unwrap_or(chrono::Duration::days(7)),
    };
    let record = state.db.create_enrolment(&enrolment, now).await?;
    let detail = format!("{name}{}", if body.admin { " (beheerder)" } else { "" });
    access_log::log_account(
        &state,
        &admin.account,
        None,
        "invited_professional",
        &detail,
    )
    .await;
    Ok((
        StatusCode::CREATED,
        Json(CreateEnrolmentResponse {
            enrolment: record.enrolment.0,
            link: state.site.link(&format!("/inschrijven#{code}")),
            code,
            expires_at: time_text(record.expires_at),
        }),
    ))
}

/// `DELETE /api/organisation/enrolments/{enrolment}`: withdraws an unused link.
#[utoipa::path(
    delete,
    path = "/api/organisation/enrolments/{enrolment}",
    tag = "organisation",
    params(("enrolment" = String, Path, description = "The enrolment's id")),
    security(("session_token" = [])),
    responses(
        (status = 204, description = "Withdrawn (or it was already)"),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 403, description = "Not an administrator (`not_an_administrator`)", body = ErrorBody),
        (status = 404, description = "No such link in this organisation (`enrolment_unknown`)", body = ErrorBody),
    )
)]
pub async fn revoke_enrolment(
    State(state): State<AppState>,
    Administrator(admin): Administrator,
    Path(params): Path<HashMap<String, String>>,
) -> Result<StatusCode, ApiError> {
    let id = path_param(&params, "enrolment")
        .parse::<EnrolmentId>()
        .map_err(|_| unknown())?;
    let revoked = state
        .db
        .revoke_enrolment(admin.account.organisation, id, koers_database::now())
        .await?;
    if !revoked {
        return Err(unknown());
    }
    access_log::log_account(&state, &admin.account, None, "withdrew_enrolment", "").await;
    Ok(StatusCode::NO_CONTENT)
}
