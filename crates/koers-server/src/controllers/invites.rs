//! Invites: the foster-care worker creates, lists and revokes single-use codes
//! (`/api/plans/{plan}/invites`), and a new phone registers itself with one
//! (`POST /api/invites/accept`, rate limited by [`crate::limits::invite_rate_limit`]).

use std::collections::HashMap;
use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::{middleware, Json};
use utoipa_axum::router::{OpenApiRouter, UtoipaMethodRouterExt as _};
use utoipa_axum::routes;

use super::helpers::{device_name, path_param, PlanPath};
use crate::auth::professional::MaybeProfessional;
use crate::auth::{
    hash_secret, new_secret, require_manager, AuthDevice, INVITE_CODE_BYTES, TOKEN_BYTES,
};
use crate::error::{ApiError, ApiJson};
use crate::limits::{Attempt, ClientAddress, Limits};
use crate::wire::*;
use crate::AppState;
use koers_database::{
    time_text, AcceptOutcome, DeviceId, InviteId, InviteRecord, NewDevice, NewInvite, Timestamp,
};

/// Invites expire after this many days unless asked otherwise…
pub const DEFAULT_INVITE_DAYS: u32 = 14;
/// …and after at most this many.
pub const MAX_INVITE_DAYS: u32 = 60;
/// Longest `link_base` of an invite.
pub const MAX_LINK_BASE_CHARS: usize = 200;
/// Smallest width and height of an invite's QR code, in pixels.
pub const QR_MIN_PIXELS: u32 = 200;
/// Colours of an invite's QR code.
pub const QR_DARK: &str = "#1b2529";
pub const QR_LIGHT: &str = "#ffffff";

/// The routes of this module, each declared by its handler's `#[utoipa::path]`. Only accepting
/// an invite is rate limited (per address and per code prefix).
pub fn routes(limits: &Arc<Limits>) -> OpenApiRouter<AppState> {
    let rate_limit =
        middleware::from_fn_with_state(Arc::clone(limits), crate::limits::invite_rate_limit);
    OpenApiRouter::default()
        .routes(routes!(list_invites, create_invite))
        .routes(routes!(revoke_invite))
        .routes(routes!(accept_invite).map(|route| route.route_layer(rate_limit)))
}

/// Checks an invite's `link_base`: `http://` or `https://`, at most
/// [`MAX_LINK_BASE_CHARS`] characters, no spaces or control characters.
fn check_link_base(base: &str) -> Result<(), ApiError> {
    let scheme_ok = base.starts_with("https://") || base.starts_with("http://");
    let length_ok = base.chars().count() <= MAX_LINK_BASE_CHARS;
    let chars_ok = !base.chars().any(|c| c.is_whitespace() || c.is_control());
    if scheme_ok && length_ok && chars_ok {
        Ok(())
    } else {
        Err(ApiError::bad_request(
            "invalid_link_base",
            format!("The link base must start with http:// or https://, hold no spaces and be at most {MAX_LINK_BASE_CHARS} characters; send the address of the invite page."),
        ))
    }
}

/// An SVG document of a QR code for `text` (error correction M, at least
/// [`QR_MIN_PIXELS`] square, [`QR_DARK`] on [`QR_LIGHT`]).
pub fn qr_svg(text: &str) -> Result<String, qrcode::types::QrError> {
    use qrcode::render::svg;
    let code = qrcode::QrCode::with_error_correction_level(text.as_bytes(), qrcode::EcLevel::M)?;
    Ok(code
        .render::<svg::Color<'_>>()
        .min_dimensions(QR_MIN_PIXELS, QR_MIN_PIXELS)
        .dark_color(svg::Color(QR_DARK))
        .light_color(svg::Color(QR_LIGHT))
        .build())
}

fn invite_info(i: InviteRecord, now: Timestamp) -> InviteInfo {
    let status = if i.revoked_at.is_some() {
        "revoked"
    } else if i.used_at.is_some() {
        "used"
    } else if i.expires_at <= now {
        "expired"
    } else {
        "open"
    };
    InviteInfo {
        invite: i.invite.to_string(),
        member: i.member.to_string(),
        role: i.role.key().to_owned(),
        created_by: i.created_by.to_string(),
        created_at: time_text(i.created_at),
        expires_at: time_text(i.expires_at),
        status: status.to_owned(),
        used_at: i.used_at.map(time_text),
        revoked_at: i.revoked_at.map(time_text),
    }
}

/// `POST /api/plans/{plan}/invites`: a single-use code that registers a device for a member;
/// with `link_base`, also the invite link and its QR code (SVG).
#[utoipa::path(
    post,
    path = "/api/plans/{plan}/invites",
    tag = "invites",
    params(("plan" = String, Path, description = "Plan id")),
    request_body = CreateInviteRequest,
    security(("device_token" = [])),
    responses(
        (status = 201, description = "The code, shown once", body = CreateInviteResponse),
        (status = 400, description = "Invalid number of days or link base", body = ErrorBody),
        (status = 403, description = "Not the foster-care worker, or another plan", body = ErrorBody),
        (status = 404, description = "No such plan or member", body = ErrorBody),
        (status = 401, description = "Missing, unknown or revoked token (`token_missing`, `token_unknown`, `device_revoked`), or the device's member was taken out of the plan (`member_removed`)", body = ErrorBody),
        (status = 413, description = "Body larger than 2 MiB", body = ErrorBody),
        (status = 415, description = "Body not sent as application/json", body = ErrorBody),
    )
)]
pub async fn create_invite(
    PlanPath(plan_id): PlanPath,
    State(state): State<AppState>,
    device: AuthDevice,
    ApiJson(body): ApiJson<CreateInviteRequest>,
) -> Result<(StatusCode, Json<CreateInviteResponse>), ApiError> {
    require_manager(device.admit(&state, plan_id).await?)?;
    let days = body.days.unwrap_or(DEFAULT_INVITE_DAYS);
    if !(1..=MAX_INVITE_DAYS).contains(&days) {
        return Err(ApiError::bad_request(
            "invalid_days",
            format!("An invite is valid for 1 to {MAX_INVITE_DAYS} days; choose a number in that range."),
        ));
    }
    if let Some(base) = &body.link_base {
        check_link_base(base)?;
    }
    let role = {
        let db = state.db.as_ref();
        let mut locked = state.plans.lock(db, plan_id).await?;
        let role = |locked: &mut crate::plans::LockedPlan| {
            locked.state().plan.member(body.member).map(|m| m.role)
        };
        match role(&mut locked) {
            // A member added through another instance a moment ago.
            None if locked.read_up_to_head(db).await? => role(&mut locked),
            found => found,
        }
    };
    let Some(role) = role else {
        return Err(ApiError::not_found(
            "member_unknown",
            "The plan has no such member; add the member to the plan first, then invite them.",
        ));
    };
    let now = koers_database::now();
    let code = new_secret(INVITE_CODE_BYTES);
    let invite = NewInvite {
        invite: InviteId::new(),
        code: hash_secret(&code),
        plan: plan_id,
        member: body.member,
        role,
        expires_at: now + chrono::Duration::days(i64::from(days)),
        created_by: device.member,
    };
    let (link, qr) = match &body.link_base {
        Some(base) => {
            let link = format!("{base}{code}");
            let qr = qr_svg(&link).map_err(|err| {
                ApiError::bad_request(
                    "invalid_link_base",
                    format!("No QR code fits this link ({err}); send a shorter link base."),
                )
            })?;
            (Some(link), Some(qr))
        }
        None => (None, None),
    };
    let stored = state.db.create_invite(&invite, now).await?;
    Ok((
        StatusCode::CREATED,
        Json(CreateInviteResponse {
            invite: stored.invite.to_string(),
            code,
            expires_at: time_text(stored.expires_at),
            member: body.member,
            role,
            link,
            qr_svg: qr,
        }),
    ))
}

/// `GET /api/plans/{plan}/invites`: the plan's invites, without their codes.
#[utoipa::path(
    get,
    path = "/api/plans/{plan}/invites",
    tag = "invites",
    params(("plan" = String, Path, description = "Plan id")),
    security(("device_token" = [])),
    responses(
        (status = 200, body = InviteList),
        (status = 403, description = "Not the foster-care worker, or another plan", body = ErrorBody),
        (status = 401, description = "Missing, unknown or revoked token (`token_missing`, `token_unknown`, `device_revoked`), or the device's member was taken out of the plan (`member_removed`)", body = ErrorBody),
        (status = 404, description = "No such plan", body = ErrorBody),
    )
)]
pub async fn list_invites(
    PlanPath(plan_id): PlanPath,
    State(state): State<AppState>,
    device: AuthDevice,
) -> Result<Json<InviteList>, ApiError> {
    require_manager(device.admit(&state, plan_id).await?)?;
    let now = koers_database::now();
    let invites = state.db.invites(plan_id).await?;
    Ok(Json(InviteList {
        invites: invites.into_iter().map(|i| invite_info(i, now)).collect(),
    }))
}

/// `DELETE /api/plans/{plan}/invites/{invite}`: the code stops working.
#[utoipa::path(
    delete,
    path = "/api/plans/{plan}/invites/{invite}",
    tag = "invites",
    params(("plan" = String, Path, description = "Plan id"), ("invite" = String, Path, description = "Invite id")),
    security(("device_token" = [])),
    responses(
        (status = 204, description = "Revoked (or already used or revoked)"),
        (status = 403, description = "Not the foster-care worker, or another plan", body = ErrorBody),
        (status = 404, description = "No such plan or invite", body = ErrorBody),
        (status = 401, description = "Missing, unknown or revoked token (`token_missing`, `token_unknown`, `device_revoked`), or the device's member was taken out of the plan (`member_removed`)", body = ErrorBody),
    )
)]
pub async fn revoke_invite(
    PlanPath(plan_id): PlanPath,
    State(state): State<AppState>,
    device: AuthDevice,
    Path(params): Path<HashMap<String, String>>,
) -> Result<StatusCode, ApiError> {
    require_manager(device.admit(&state, plan_id).await?)?;
    // An id that is no uuid names no invite: the same 404 as an unknown one.
    let invite = path_param(&params, "invite")
        .parse()
        .unwrap_or(InviteId(uuid::Uuid::nil()));
    if (state.db)
        .revoke_invite(plan_id, invite, koers_database::now())
        .await?
    {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(ApiError::not_found(
            "invite_unknown",
            "The plan has no such invite; list the invites to find its id.",
        ))
    }
}

/// `POST /api/invites/accept`: uses an invite code and registers this device; with a
/// professional's session, the plan becomes part of their account too.
#[utoipa::path(
    post,
    path = "/api/invites/accept",
    tag = "invites",
    request_body = AcceptInviteRequest,
    responses(
        (status = 201, description = "Device registered; the token is shown once", body = AcceptInviteResponse),
        (status = 404, description = "Unknown code", body = ErrorBody),
        (status = 410, description = "Code used, expired or revoked (also when its member was taken out of the plan)", body = ErrorBody),
        (status = 400, description = "Malformed body or device name too long", body = ErrorBody),
        (status = 413, description = "Body larger than 2 MiB", body = ErrorBody),
        (status = 415, description = "Body not sent as application/json", body = ErrorBody),
        (status = 401, description = "A session token that is not valid (`session_unknown`, `session_expired`, `session_revoked`, `account_deactivated`); without one the invite is accepted for this phone alone", body = ErrorBody),
        (status = 429, description = "Too many codes tried from this address or with this code prefix (`rate_limited`), or by this signed-in professional (`too_many_attempts`); see `Retry-After`", body = ErrorBody),
    )
)]
pub async fn accept_invite(
    State(state): State<AppState>,
    address: ClientAddress,
    MaybeProfessional(professional): MaybeProfessional,
    ApiJson(body): ApiJson<AcceptInviteRequest>,
) -> Result<(StatusCode, Json<AcceptInviteResponse>), ApiError> {
    let name = device_name(body.device_name)?;
    let account = professional.as_ref().map(|p| p.account.account);
    if let Some(account) = account {
        // A signed-in professional is counted as such too, wherever they try from.
        state.limits.attempt(
            Attempt::InviteAcceptance,
            address.0,
            Some(&account.to_string()),
        )?;
    }
    let token = new_secret(TOKEN_BYTES);
    // Its plan, member and role are the invite's (the database fills them in).
    let device = NewDevice {
        device: DeviceId::new(),
        plan: koers_core::PlanId(uuid::Uuid::nil()),
        member: koers_core::MemberId(uuid::Uuid::nil()),
        role: koers_core::Role::Parent,
        token: hash_secret(&token),
        name,
        // With a session the plan joins the professional's caseload (a guardian of another
        // organisation, say): their other phones find it after signing in.
        account,
    };
    let gone = |code, message: &str| ApiError::new(StatusCode::GONE, code, message);
    let code_hash = hash_secret(body.code.trim());
    // The invite's member must still be in the plan. The plan stays locked while the invite is
    // used: a push on this instance that takes the member out holds it too. (One on another
    // instance revokes their open invites in its transaction, which the database orders before
    // or after this acceptance as a whole.)
    let mut held = None;
    if let Some(invite) = state.db.invite_by_code(&code_hash).await? {
        let db = state.db.as_ref();
        let mut locked = state.plans.lock(db, invite.plan).await?;
        // A member added through another instance a moment ago counts too.
        let member = locked.state().has_member(invite.member)
            || (locked.read_up_to_head(db).await? && locked.state().has_member(invite.member));
        if !member {
            // Their open invites were withdrawn with the removal; should one be left (a
            // database from before that), it is withdrawn all the same.
            return Err(gone(
                "invite_revoked",
                "The person this invite is for was taken out of the plan, so the invite was withdrawn; ask the foster-care worker for a new one if that was a mistake.",
            ));
        }
        held = Some(locked);
    }
    let outcome = (state.db)
        .accept_invite(&code_hash, &device, koers_database::now())
        .await;
    drop(held);
    let record = match outcome? {
        AcceptOutcome::Accepted(record) => record,
        AcceptOutcome::Unknown => {
            return Err(ApiError::not_found(
                "invite_unknown",
                "This invite code is not known; check that it was typed exactly as given.",
            ))
        }
        AcceptOutcome::Used => {
            return Err(gone(
                "invite_used",
                "This invite code was used already; ask the foster-care worker for a new one.",
            ))
        }
        AcceptOutcome::Expired => {
            return Err(gone(
                "invite_expired",
                "This invite code has expired; ask the foster-care worker for a new one.",
            ))
        }
        AcceptOutcome::Revoked => {
            return Err(gone(
                "invite_revoked",
                "This invite code was withdrawn; ask the foster-care worker for a new one.",
            ))
        }
    };
    Ok((
        StatusCode::CREATED,
        Json(AcceptInviteResponse {
            plan: record.plan,
            member: record.member,
            role: record.role,
            device: record.device.to_string(),
            device_token: token,
        }),
    ))
}
