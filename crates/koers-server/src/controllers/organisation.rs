//! The administrator's view of their organisation (`GET /api/organisation`), and what only they
//! may do: deactivate a professional, hand a plan over to another worker, read the access log.
//! Enrolment links are in [`super::enrolments`].

use std::collections::HashMap;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use koers_core::{Clock, Entity, Field, MemberId, NodeId, Op, OpId, PlanId, Role};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::helpers::{now_millis, op_body, path_param, PlanPath};
use crate::access_log;
use crate::auth::professional::Administrator;
use crate::error::{ApiError, ApiJson, ApiQuery};
use crate::plans::affects_authorization;
use crate::wire::*;
use crate::AppState;
use koers_database::{
    parse_time, time_text, AccountId, AccountRecord, Append, DatabaseError, MembershipChange,
    Notice, OrganisationId,
};

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::default()
        .routes(routes!(overview))
        .routes(routes!(deactivate))
        .routes(routes!(hand_over))
        .routes(routes!(access_log_page))
}

/// `GET /api/organisation`: the professionals, the open and used enrolment links, and the plans
/// with their worker.
#[utoipa::path(
    get,
    path = "/api/organisation",
    tag = "organisation",
    security(("session_token" = [])),
    responses(
        (status = 200, description = "The organisation", body = OrganisationResponse),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 403, description = "Not an administrator (`not_an_administrator`)", body = ErrorBody),
    )
)]
pub async fn overview(
    State(state): State<AppState>,
    Administrator(admin): Administrator,
) -> Result<Json<OrganisationResponse>, ApiError> {
    let organisation = admin.account.organisation;
    let db = state.db.as_ref();
    let accounts = db.accounts(organisation).await?;
    let names: HashMap<AccountId, &AccountRecord> =
        accounts.iter().map(|a| (a.account, a)).collect();
    let mut plans = Vec::new();
    let mut plan_counts: HashMap<AccountId, u32> = HashMap::new();
    for listed in db.organisation_plans(organisation).await? {
        let (child_name, contact) = {
            let mut locked = state.plans.lock(db, listed.plan).await?;
            let plan = &locked.state().plan;
            (plan.child_name.clone(), plan.contact_person)
        };
        let mut worker = None;
        let mut professionals = Vec::new();
        for m in &listed.memberships {
            *plan_counts.entry(m.account).or_default() += 1;
            let name = names
                .get(&m.account)
                .map(|a| a.name.clone())
                .unwrap_or_default();
            if Some(m.member) == contact {
                worker = Some(AccountName {
                    account: m.account.0,
                    name: name.clone(),
                });
            }
            professionals.push(PlanProfessional {
                account: m.account.0,
                name,
                role: m.role,
            });
        }
        plans.push(OrganisationPlanInfo {
            plan: listed.plan,
            child_name,
            created_at: time_text(listed.created_at),
            worker,
            professionals,
        });
    }
    let professionals = accounts
        .iter()
        .map(|a| ProfessionalInfo {
            account: a.account.0,
            name: a.name.clone(),
            admin: a.admin,
            created_at: time_text(a.created_at),
            deactivated_at: a.deactivated_at.map(time_text),
            plans: plan_counts.get(&a.account).copied().unwrap_or(0),
        })
        .collect();
    let enrolments = db
        .enrolments(organisation)
        .await?
        .into_iter()
        .map(|e| EnrolmentInfo {
            enrolment: e.enrolment.0,
            name: e.name,
            admin: e.admin,
            created_at: time_text(e.created_at),
            expires_at: time_text(e.expires_at),
            used_at: e.used_at.map(time_text),
            revoked_at: e.revoked_at.map(time_text),
        })
        .collect();
    let name = db
        .organisation(organisation)
        .await?
        .map(|o| o.name)
        .unwrap_or_default();
    Ok(Json(OrganisationResponse {
        organisation: OrganisationInfo {
            organisation: organisation.0,
            name,
        },
        professionals,
        enrolments,
        plans,
    }))
}

fn account_unknown() -> ApiError {
    ApiError::not_found(
        "account_unknown",
        "Your organisation has no such professional; check the list of professionals.",
    )
}

/// A professional of the administrator's own organisation (404 for anyone else's: another
/// organisation's accounts are not even named).
async fn own_account(
    state: &AppState,
    organisation: OrganisationId,
    id: &str,
) -> Result<AccountRecord, ApiError> {
    let id = id.parse::<AccountId>().map_err(|_| account_unknown())?;
    state
        .db
        .account(id)
        .await?
        .filter(|a| a.organisation == organisation)
        .ok_or_else(account_unknown)
}

/// `POST /api/organisation/professionals/{account}/deactivate`: the professional can no longer
/// sign in, and every phone of theirs stops within seconds (their sessions and devices are
/// revoked, and their event streams told to end on every instance). What they wrote keeps
/// their name; their plans stay theirs until handed over.
#[utoipa::path(
    post,
    path = "/api/organisation/professionals/{account}/deactivate",
    tag = "organisation",
    params(("account" = String, Path, description = "The professional's account id")),
    security(("session_token" = [])),
    responses(
        (status = 200, description = "Deactivated (or it was already)", body = DeactivateResponse),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 403, description = "Not an administrator, or deactivating oneself (`not_yourself`)", body = ErrorBody),
        (status = 404, description = "No such professional in this organisation (`account_unknown`)", body = ErrorBody),
    )
)]
pub async fn deactivate(
    State(state): State<AppState>,
    Administrator(admin): Administrator,
    Path(params): Path<HashMap<String, String>>,
) -> Result<Json<DeactivateResponse>, ApiError> {
    let account = own_account(
        &state,
        admin.account.organisation,
        &path_param(&params, "account"),
    )
    .await?;
    if account.account == admin.account.account {
        return Err(ApiError::forbidden(
            "not_yourself",
            "You cannot deactivate your own account; ask another administrator.",
        ));
    }
    let revoked = state
        .db
        .deactivate_account(account.account, koers_database::now())
        .await?;
    for (plan, device) in &revoked {
        state
            .publish(Notice::DeviceRevoked {
                plan: *plan,
                device: *device,
            })
            .await;
    }
    access_log::log_account(&state, &admin.account, None, "deactivated", &account.name).await;
    Ok(Json(DeactivateResponse {
        devices_revoked: revoked.len() as u32,
    }))
}

fn plan_unknown() -> ApiError {
    ApiError::not_found(
        "plan_unknown",
        "Your organisation has no such plan; check the list of plans.",
    )
}

/// How many times a hand-over is tried again when another instance wrote to the plan between
/// reading and storing it.
const HAND_OVER_TRIES: usize = 5;

/// `POST /api/organisation/plans/{plan}/hand-over`: another worker of the organisation takes
/// the plan over.
#[utoipa::path(
    post,
    path = "/api/organisation/plans/{plan}/hand-over",
    tag = "organisation",
    params(("plan" = String, Path, description = "The plan's id")),
    request_body = HandOverRequest,
    security(("session_token" = [])),
    responses(
        (status = 200, description = "Handed over: the new worker is the plan's member and contact person, the old one taken out", body = HandOverResponse),
        (status = 400, description = "Malformed body", body = ErrorBody),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 403, description = "Not an administrator (`not_an_administrator`)", body = ErrorBody),
        (status = 404, description = "No such plan or professional in this organisation (`plan_unknown`, `account_unknown`)", body = ErrorBody),
        (status = 409, description = "The professional is deactivated (`account_deactivated`) or the plan's worker already (`already_worker`)", body = ErrorBody),
        (status = 413, description = "Body larger than 2 MiB", body = ErrorBody),
        (status = 415, description = "Body not sent as application/json", body = ErrorBody),
        (status = 503, description = "The plan kept changing meanwhile (`plan_busy`): try again", body = ErrorBody),
    )
)]
pub async fn hand_over(
    State(state): State<AppState>,
    PlanPath(plan): PlanPath,
    Administrator(admin): Administrator,
    ApiJson(body): ApiJson<HandOverRequest>,
) -> Result<Json<HandOverResponse>, ApiError> {
    let organisation = admin.account.organisation;
    if state.db.plan_organisation(plan).await? != Some(organisation) {
        return Err(plan_unknown());
    }
    let to = own_account(&state, organisation, &body.to.to_string()).await?;
    if to.deactivated_at.is_some() {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "account_deactivated",
            "This professional is deactivated; choose an active one.",
        ));
    }
    for _ in 0..HAND_OVER_TRIES {
        if let Some(member) = try_hand_over(&state, plan, &to).await? {
            let detail = format!("aan {}", to.name);
            access_log::log_account(&state, &admin.account, Some(plan), "handed_over", &detail)
                .await;
            return Ok(Json(HandOverResponse { member }));
        }
    }
    Err(ApiError::new(
        StatusCode::SERVICE_UNAVAILABLE,
        "plan_busy",
        "The plan kept changing while it was handed over; try again in a moment.",
    ))
}

/// One attempt at a hand-over on the plan as it is now; `None` if another instance stored
/// something first (nothing was stored: try again).
async fn try_hand_over(
    state: &AppState,
    plan_id: PlanId,
    to: &AccountRecord,
) -> Result<Option<MemberId>, ApiError> {
    let db = state.db.as_ref();
    let current = db
        .organisation_plans(to.organisation)
        .await?
        .into_iter()
        .find(|p| p.plan == plan_id)
        .map(|p| p.memberships)
        .unwrap_or_default();
    let mut locked = state.plans.lock(db, plan_id).await?;
    locked.read_up_to_head(db).await?;
    let before = locked.state().last_seq;
    let plan = &locked.state().plan;
    let old = plan
        .contact_person()
        .filter(|m| m.role == Role::FosterCareWorker)
        .map(|m| m.id);
    // The new worker keeps their member if they already take part (a care worker who becomes
    // the worker, say); else they join as a new member.
    let new = current
        .iter()
        .find(|m| m.account == to.account && plan.member(m.member).is_some())
        .map_or_else(|| MemberId(uuid::Uuid::new_v4()), |m| m.member);
    if old == Some(new) {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "already_worker",
            "This professional is the plan's worker already.",
        ));
    }
    // Written by the new worker, stamped after everything the plan holds, so that their role
    // and the contact person win over any earlier write.
    let mut clock = Clock::new(NodeId(u64::from_be_bytes(
        new.0.as_bytes()[..8].try_into().expect("8 bytes"),
    )));
    let now = now_millis();
    let _ = clock.observe(locked.state().replica.latest(), now);
    let mut op = |entity, field, value: serde_json::Value| Op {
        id: OpId(uuid::Uuid::new_v4()),
        plan: plan_id,
        hlc: clock.tick(now),
        author: new,
        entity,
        field,
        value,
        supersedes: None,
    };
    let mut ops = vec![
        op(Entity::Member(new), Field::Name, to.name.clone().into()),
        op(
            Entity::Member(new),
            Field::Role,
            Role::FosterCareWorker.key().into(),
        ),
        op(Entity::Plan, Field::ContactPerson, serde_json::json!(new)),
    ];
    let mut shut_out = Vec::new();
    let mut memberships = vec![MembershipChange::Join {
        account: to.account,
        member: new,
        role: Role::FosterCareWorker,
    }];
    if let Some(old) = old {
        ops.push(op(Entity::Member(old), Field::Deleted, true.into()));
        shut_out.push(old);
        memberships.extend(
            current
                .iter()
                .filter(|m| m.member == old)
                .map(|m| MembershipChange::Leave { account: m.account }),
        );
    }
    locked.begin_write();
    let state_now = locked.state();
    for op in &ops {
        let _ = state_now.replica.apply(op);
    }
    if ops.iter().any(affects_authorization) {
        state_now.project();
    }
    let bodies: Vec<_> = ops.iter().map(op_body).collect();
    let appended = db
        .append_ops(Append {
            plan: plan_id,
            after_head: before,
            ops: &bodies,
            shut_out: &shut_out,
            memberships: &memberships,
            access: None,
            now: koers_database::now(),
        })
        .await;
    let appended = match appended {
        Ok(appended) => appended,
        Err(err) => {
            locked.invalidate();
            return match err {
                DatabaseError::HeadMoved { .. } => Ok(None),
                other => Err(other.into()),
            };
        }
    };
    locked.state().last_seq = appended.head;
    locked.write_done();
    drop(locked);
    for device in appended.revoked_devices {
        state
            .publish(Notice::DeviceRevoked {
                plan: plan_id,
                device,
            })
            .await;
    }
    for member in shut_out {
        state
            .publish(Notice::MemberRemoved {
                plan: plan_id,
                member,
            })
            .await;
    }
    state
        .publish(Notice::Ops {
            plan: plan_id,
            head: appended.head,
        })
        .await;
    Ok(Some(new))
}

/// `GET /api/organisation/access-log`: who read or changed which plan, newest first.
#[utoipa::path(
    get,
    path = "/api/organisation/access-log",
    tag = "organisation",
    params(AccessLogQuery),
    security(("session_token" = [])),
    responses(
        (status = 200, description = "Lines of the log, newest first", body = AccessLogResponse),
        (status = 400, description = "`before` is not an RFC 3339 time, or `limit` is not 1–500 (`invalid_query`)", body = ErrorBody),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 403, description = "Not an administrator (`not_an_administrator`)", body = ErrorBody),
    )
)]
pub async fn access_log_page(
    State(state): State<AppState>,
    Administrator(admin): Administrator,
    ApiQuery(query): ApiQuery<AccessLogQuery>,
) -> Result<Json<AccessLogResponse>, ApiError> {
    let invalid = |message: &str| ApiError::bad_request("invalid_query", message);
    let before = match &query.before {
        Some(text) => Some(parse_time(text).map_err(|_| {
            invalid("`before` is a time like 2026-11-29T20:00:00.000Z (the `at` of the last line shown).")
        })?),
        None => None,
    };
    let limit = query.limit.unwrap_or(100);
    if !(1..=500).contains(&limit) {
        return Err(invalid("`limit` is between 1 and 500."));
    }
    let organisation = admin.account.organisation;
    let lines = state.db.access_log(organisation, before, limit).await?;
    let mut names: HashMap<AccountId, String> = state
        .db
        .accounts(organisation)
        .await?
        .into_iter()
        .map(|a| (a.account, a.name))
        .collect();
    // A guardian of another organisation who works on one of this organisation's plans is
    // named too: what they read or changed is this organisation's business.
    for account in lines.iter().filter_map(|line| line.account) {
        if let std::collections::hash_map::Entry::Vacant(entry) = names.entry(account) {
            let name = state.db.account(account).await?.map(|a| a.name);
            entry.insert(name.unwrap_or_default());
        }
    }
    let entries = lines
        .into_iter()
        .map(|line| AccessLogEntry {
            at: time_text(line.at),
            account: line.account.map(|account| AccountName {
                account: account.0,
                name: names.get(&account).cloned().unwrap_or_default(),
            }),
            device: line.device.map(|d| d.to_string()),
            plan: line.plan,
            action: line.action,
            detail: line.detail,
        })
        .collect();
    Ok(Json(AccessLogResponse { entries }))
}
