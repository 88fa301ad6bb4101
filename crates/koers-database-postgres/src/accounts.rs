//! Organisations, accounts, passkeys, enrolment links, ceremonies, sessions, memberships and
//! the access log on PostgreSQL: the bodies of the [`Database`](koers_database::Database)
//! methods of `accounts.rs` in `koers-database`.

use koers_database::{
    parse_role, AccessEntry, AccountId, AccountRecord, CeremonyId, DatabaseError, DeviceId,
    Enrolling, EnrolmentId, EnrolmentOutcome, EnrolmentRecord, MemberId, MembershipChange,
    MembershipRecord, NewEnrolment, NewSession, OrganisationId, OrganisationPlan,
    OrganisationRecord, PasskeyRecord, PlanId, Role, SessionId, SessionRecord, Timestamp,
};
use sqlx::postgres::{PgConnection, PgPool, PgRow};
use sqlx::Row as _;
use uuid::Uuid;

use crate::MapDb as _;

/// The key of the transaction-level advisory lock that [`first_organisation`] holds, so that
/// instances starting at once on one database create one organisation between them ("koers_or"
/// in ASCII; sqlx's migrator derives its own key from the database name).
const FIRST_ORGANISATION_LOCK: i64 = 0x6b6f_6572_735f_6f72;

// Organisations.

macro_rules! organisation_columns {
    () => {
        "organisation_id, name, created_at"
    };
}

fn organisation_row(row: &PgRow) -> Result<OrganisationRecord, DatabaseError> {
    Ok(OrganisationRecord {
        organisation: OrganisationId(row.try_get(0).db()?),
        name: row.try_get(1).db()?,
        created_at: row.try_get(2).db()?,
    })
}

async fn insert_organisation(
    conn: &mut PgConnection,
    organisation: &OrganisationRecord,
) -> Result<(), DatabaseError> {
    sqlx::query(
        "INSERT INTO organisations (organisation_id, name, created_at) VALUES ($1, $2, $3)",
    )
    .bind(organisation.organisation.0)
    .bind(&organisation.name)
    .bind(organisation.created_at)
    .execute(&mut *conn)
    .await
    .db()?;
    Ok(())
}

pub(crate) async fn create_organisation(
    pool: &PgPool,
    organisation: &OrganisationRecord,
) -> Result<(), DatabaseError> {
    let mut conn = pool.acquire().await.db()?;
    insert_organisation(&mut conn, organisation).await
}

pub(crate) async fn organisation(
    pool: &PgPool,
    organisation: OrganisationId,
) -> Result<Option<OrganisationRecord>, DatabaseError> {
    let row = sqlx::query(concat!(
        "SELECT ",
        organisation_columns!(),
        " FROM organisations WHERE organisation_id = $1"
    ))
    .bind(organisation.0)
    .fetch_optional(pool)
    .await
    .db()?;
    row.as_ref().map(organisation_row).transpose()
}

async fn has_account(
    conn: &mut PgConnection,
    organisation: OrganisationId,
) -> Result<bool, DatabaseError> {
    sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM accounts WHERE organisation_id = $1)")
        .bind(organisation.0)
        .fetch_one(&mut *conn)
        .await
        .db()
}

pub(crate) async fn first_organisation(
    pool: &PgPool,
    first: &OrganisationRecord,
) -> Result<(OrganisationRecord, bool), DatabaseError> {
    let mut tx = pool.begin().await.db()?;
    // Instances starting at once take turns from here to the commit; each statement after the
    // lock reads what the one before committed, so the second finds the first's organisation.
    sqlx::query("SELECT pg_advisory_xact_lock($1)")
        .bind(FIRST_ORGANISATION_LOCK)
        .execute(&mut *tx)
        .await
        .db()?;
    let oldest = sqlx::query(concat!(
        "SELECT ",
        organisation_columns!(),
        " FROM organisations ORDER BY created_at, organisation_id LIMIT 1"
    ))
    .fetch_optional(&mut *tx)
    .await
    .db()?;
    let organisation = match oldest.as_ref().map(organisation_row).transpose()? {
        Some(oldest) => oldest,
        None => {
            insert_organisation(&mut tx, first).await?;
            first.clone()
        }
    };
    let has_account = has_account(&mut tx, organisation.organisation).await?;
    tx.commit().await.db()?;
    Ok((organisation, has_account))
}

// Accounts.

macro_rules! account_columns {
    () => {
        "account_id, organisation_id, name, admin, created_at, deactivated_at"
    };
}

fn account_row(row: &PgRow) -> Result<AccountRecord, DatabaseError> {
    Ok(AccountRecord {
        account: AccountId(row.try_get(0).db()?),
        organisation: OrganisationId(row.try_get(1).db()?),
        name: row.try_get(2).db()?,
        admin: row.try_get(3).db()?,
        created_at: row.try_get(4).db()?,
        deactivated_at: row.try_get(5).db()?,
    })
}

pub(crate) async fn account(
    pool: &PgPool,
    account: AccountId,
) -> Result<Option<AccountRecord>, DatabaseError> {
    let row = sqlx::query(concat!(
        "SELECT ",
        account_columns!(),
        " FROM accounts WHERE account_id = $1"
    ))
    .bind(account.0)
    .fetch_optional(pool)
    .await
    .db()?;
    row.as_ref().map(account_row).transpose()
}

pub(crate) async fn accounts(
    pool: &PgPool,
    organisation: OrganisationId,
) -> Result<Vec<AccountRecord>, DatabaseError> {
    let rows = sqlx::query(concat!(
        "SELECT ",
        account_columns!(),
        " FROM accounts WHERE organisation_id = $1 ORDER BY created_at, account_id"
    ))
    .bind(organisation.0)
    .fetch_all(pool)
    .await
    .db()?;
    rows.iter().map(account_row).collect()
}

pub(crate) async fn deactivate_account(
    pool: &PgPool,
    account: AccountId,
    now: Timestamp,
) -> Result<Vec<(PlanId, DeviceId)>, DatabaseError> {
    let mut tx = pool.begin().await.db()?;
    // The first deactivation counts (the access log and the administrator see that moment).
    sqlx::query(
        "UPDATE accounts SET deactivated_at = coalesce(deactivated_at, $2) WHERE account_id = $1",
    )
    .bind(account.0)
    .bind(now)
    .execute(&mut *tx)
    .await
    .db()?;
    sqlx::query("UPDATE sessions SET revoked_at = $2 WHERE account_id = $1 AND revoked_at IS NULL")
        .bind(account.0)
        .bind(now)
        .execute(&mut *tx)
        .await
        .db()?;
    // RETURNING names only the devices revoked here, whose event streams should end now.
    let revoked: Vec<(Uuid, Uuid)> = sqlx::query_as(
        "UPDATE devices SET revoked_at = $2 WHERE account_id = $1 AND revoked_at IS NULL
         RETURNING plan_id, device_id",
    )
    .bind(account.0)
    .bind(now)
    .fetch_all(&mut *tx)
    .await
    .db()?;
    tx.commit().await.db()?;
    Ok(revoked
        .into_iter()
        .map(|(plan, device)| (PlanId(plan), DeviceId(device)))
        .collect())
}

// Enrolment links.

macro_rules! enrolment_columns {
    () => {
        "enrolment_id, organisation_id, name, admin, created_by, created_at, expires_at, \
         used_at, used_by, revoked_at"
    };
}

fn enrolment_row(row: &PgRow) -> Result<EnrolmentRecord, DatabaseError> {
    let created_by: Option<Uuid> = row.try_get(4).db()?;
    let used_by: Option<Uuid> = row.try_get(8).db()?;
    Ok(EnrolmentRecord {
        enrolment: EnrolmentId(row.try_get(0).db()?),
        organisation: OrganisationId(row.try_get(1).db()?),
        name: row.try_get(2).db()?,
        admin: row.try_get(3).db()?,
        created_by: created_by.map(AccountId),
        created_at: row.try_get(5).db()?,
        expires_at: row.try_get(6).db()?,
        used_at: row.try_get(7).db()?,
        used_by: used_by.map(AccountId),
        revoked_at: row.try_get(9).db()?,
    })
}

pub(crate) async fn create_enrolment(
    pool: &PgPool,
    enrolment: &NewEnrolment,
    now: Timestamp,
) -> Result<EnrolmentRecord, DatabaseError> {
    sqlx::query(
        "INSERT INTO enrolments
             (enrolment_id, code_hash, organisation_id, name, admin, created_by, created_at,
              expires_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(enrolment.enrolment.0)
    .bind(&enrolment.code.0)
    .bind(enrolment.organisation.0)
    .bind(&enrolment.name)
    .bind(enrolment.admin)
    .bind(enrolment.created_by.map(|a| a.0))
    .bind(now)
    .bind(enrolment.expires_at)
    .execute(pool)
    .await
    .db()?;
    Ok(EnrolmentRecord {
        enrolment: enrolment.enrolment,
        organisation: enrolment.organisation,
        name: enrolment.name.clone(),
        admin: enrolment.admin,
        created_by: enrolment.created_by,
        created_at: now,
        expires_at: enrolment.expires_at,
        used_at: None,
        used_by: None,
        revoked_at: None,
    })
}

pub(crate) async fn enrolment_by_code(
    pool: &PgPool,
    code: &str,
) -> Result<Option<EnrolmentRecord>, DatabaseError> {
    let row = sqlx::query(concat!(
        "SELECT ",
        enrolment_columns!(),
        " FROM enrolments WHERE code_hash = $1"
    ))
    .bind(code)
    .fetch_optional(pool)
    .await
    .db()?;
    row.as_ref().map(enrolment_row).transpose()
}

pub(crate) async fn enrolments(
    pool: &PgPool,
    organisation: OrganisationId,
) -> Result<Vec<EnrolmentRecord>, DatabaseError> {
    let rows = sqlx::query(concat!(
        "SELECT ",
        enrolment_columns!(),
        " FROM enrolments WHERE organisation_id = $1 ORDER BY created_at, enrolment_id"
    ))
    .bind(organisation.0)
    .fetch_all(pool)
    .await
    .db()?;
    rows.iter().map(enrolment_row).collect()
}

pub(crate) async fn revoke_enrolment(
    pool: &PgPool,
    organisation: OrganisationId,
    enrolment: EnrolmentId,
    now: Timestamp,
) -> Result<bool, DatabaseError> {
    // Only an open link is revoked (a used one stays used), but either is found.
    let done = sqlx::query(
        "UPDATE enrolments
         SET revoked_at = CASE WHEN revoked_at IS NULL AND used_at IS NULL THEN $3
                               ELSE revoked_at END
         WHERE organisation_id = $1 AND enrolment_id = $2",
    )
    .bind(organisation.0)
    .bind(enrolment.0)
    .bind(now)
    .execute(pool)
    .await
    .db()?;
    Ok(done.rows_affected() > 0)
}

pub(crate) async fn use_enrolment(
    pool: &PgPool,
    enrolment: EnrolmentId,
    enrolling: &Enrolling,
    now: Timestamp,
) -> Result<EnrolmentOutcome, DatabaseError> {
    let mut tx = pool.begin().await.db()?;
    // FOR UPDATE: of two uses of one link, the second waits and then sees it used. Returning
    // early drops `tx`, which rolls back.
    let row = sqlx::query(concat!(
        "SELECT ",
        enrolment_columns!(),
        " FROM enrolments WHERE enrolment_id = $1 FOR UPDATE"
    ))
    .bind(enrolment.0)
    .fetch_optional(&mut *tx)
    .await
    .db()?;
    let Some(link) = row.as_ref().map(enrolment_row).transpose()? else {
        return Ok(EnrolmentOutcome::Unknown);
    };
    if link.revoked_at.is_some() {
        return Ok(EnrolmentOutcome::Revoked);
    }
    if link.used_at.is_some() {
        return Ok(EnrolmentOutcome::Used);
    }
    if link.created_by.is_none() {
        // Two first administrator's links (two first starts) are two rows: the organisation's
        // row is what their uses share. The second waits here for the first to commit, and its
        // next statement then sees the first's account.
        sqlx::query("SELECT 1 FROM organisations WHERE organisation_id = $1 FOR UPDATE")
            .bind(link.organisation.0)
            .execute(&mut *tx)
            .await
            .db()?;
        if has_account(&mut tx, link.organisation).await? {
            return Ok(EnrolmentOutcome::Used);
        }
    }
    if link.expires_at <= now {
        return Ok(EnrolmentOutcome::Expired);
    }
    let account = AccountRecord {
        account: enrolling.account,
        organisation: link.organisation,
        name: enrolling.name.clone(),
        admin: link.admin,
        created_at: now,
        deactivated_at: None,
    };
    sqlx::query(
        "INSERT INTO accounts (account_id, organisation_id, name, admin, created_at)
         VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(account.account.0)
    .bind(account.organisation.0)
    .bind(&account.name)
    .bind(account.admin)
    .bind(now)
    .execute(&mut *tx)
    .await
    .db()?;
    sqlx::query(
        "INSERT INTO passkeys (credential_id, account_id, passkey, created_at)
         VALUES ($1, $2, $3, $4)",
    )
    .bind(&enrolling.credential)
    .bind(account.account.0)
    .bind(&enrolling.passkey)
    .bind(now)
    .execute(&mut *tx)
    .await
    .db()?;
    // The first session is the new account's, whatever `enrolling.session.account` says.
    insert_session(
        &mut tx,
        &NewSession {
            account: account.account,
            ..enrolling.session.clone()
        },
        now,
    )
    .await?;
    sqlx::query("UPDATE enrolments SET used_at = $2, used_by = $3 WHERE enrolment_id = $1")
        .bind(link.enrolment.0)
        .bind(now)
        .bind(account.account.0)
        .execute(&mut *tx)
        .await
        .db()?;
    tx.commit().await.db()?;
    Ok(EnrolmentOutcome::Enrolled(account))
}

// Passkeys and ceremonies.

pub(crate) async fn passkey(
    pool: &PgPool,
    credential: &str,
) -> Result<Option<PasskeyRecord>, DatabaseError> {
    let row = sqlx::query(
        "SELECT credential_id, account_id, passkey, created_at, last_used_at
         FROM passkeys WHERE credential_id = $1",
    )
    .bind(credential)
    .fetch_optional(pool)
    .await
    .db()?;
    row.map(|row| {
        Ok(PasskeyRecord {
            credential: row.try_get(0).db()?,
            account: AccountId(row.try_get(1).db()?),
            passkey: row.try_get(2).db()?,
            created_at: row.try_get(3).db()?,
            last_used_at: row.try_get(4).db()?,
        })
    })
    .transpose()
}

pub(crate) async fn update_passkey(
    pool: &PgPool,
    credential: &str,
    passkey: &str,
    now: Timestamp,
) -> Result<(), DatabaseError> {
    sqlx::query("UPDATE passkeys SET passkey = $2, last_used_at = $3 WHERE credential_id = $1")
        .bind(credential)
        .bind(passkey)
        .bind(now)
        .execute(pool)
        .await
        .db()?;
    Ok(())
}

pub(crate) async fn put_ceremony(
    pool: &PgPool,
    ceremony: CeremonyId,
    state: &str,
    expires_at: Timestamp,
) -> Result<(), DatabaseError> {
    sqlx::query("INSERT INTO ceremonies (ceremony_id, state, expires_at) VALUES ($1, $2, $3)")
        .bind(ceremony.0)
        .bind(state)
        .bind(expires_at)
        .execute(pool)
        .await
        .db()?;
    Ok(())
}

pub(crate) async fn take_ceremony(
    pool: &PgPool,
    ceremony: CeremonyId,
    now: Timestamp,
) -> Result<Option<String>, DatabaseError> {
    // One statement. `taken` deletes the ceremony as it reads it: of two instances taking it at
    // once, the second waits for the first's delete and then finds no row. `swept` deletes the
    // expired ones nobody answered, skipping rows another sweep holds (never waiting, so two
    // sweeps cannot deadlock); it runs whether or not the outer query reads it.
    let row: Option<(String, Timestamp)> = sqlx::query_as(
        "WITH taken AS (
             DELETE FROM ceremonies WHERE ceremony_id = $1 RETURNING state, expires_at
         ), swept AS (
             DELETE FROM ceremonies WHERE ceremony_id IN (
                 SELECT ceremony_id FROM ceremonies
                 WHERE expires_at <= $2 AND ceremony_id <> $1
                 FOR UPDATE SKIP LOCKED
             )
         )
         SELECT state, expires_at FROM taken",
    )
    .bind(ceremony.0)
    .bind(now)
    .fetch_optional(pool)
    .await
    .db()?;
    Ok(row.and_then(|(state, expires_at)| (expires_at > now).then_some(state)))
}

// Sessions.

fn session_row(row: &PgRow) -> Result<SessionRecord, DatabaseError> {
    Ok(SessionRecord {
        session: SessionId(row.try_get(0).db()?),
        account: AccountId(row.try_get(1).db()?),
        created_at: row.try_get(2).db()?,
        expires_at: row.try_get(3).db()?,
        last_seen_at: row.try_get(4).db()?,
        revoked_at: row.try_get(5).db()?,
    })
}

async fn insert_session(
    conn: &mut PgConnection,
    session: &NewSession,
    now: Timestamp,
) -> Result<SessionRecord, DatabaseError> {
    sqlx::query(
        "INSERT INTO sessions (session_id, token_hash, account_id, created_at, expires_at)
         VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(session.session.0)
    .bind(&session.token.0)
    .bind(session.account.0)
    .bind(now)
    .bind(session.expires_at)
    .execute(&mut *conn)
    .await
    .db()?;
    Ok(SessionRecord {
        session: session.session,
        account: session.account,
        created_at: now,
        expires_at: session.expires_at,
        last_seen_at: None,
        revoked_at: None,
    })
}

pub(crate) async fn create_session(
    pool: &PgPool,
    session: &NewSession,
    now: Timestamp,
) -> Result<SessionRecord, DatabaseError> {
    let mut conn = pool.acquire().await.db()?;
    insert_session(&mut conn, session, now).await
}

pub(crate) async fn session_by_token(
    pool: &PgPool,
    token: &str,
    now: Timestamp,
) -> Result<Option<SessionRecord>, DatabaseError> {
    // As `device_by_token`: one statement, at most one write a minute, and a session that can
    // no longer be used (revoked or expired) keeps the last time it was.
    let row = sqlx::query(
        "WITH found AS (
             SELECT session_id, account_id, created_at, expires_at, last_seen_at, revoked_at
             FROM sessions WHERE token_hash = $1
         ), touched AS (
             UPDATE sessions SET last_seen_at = $2
             WHERE token_hash = $1 AND revoked_at IS NULL AND expires_at > $2
               AND (last_seen_at IS NULL OR last_seen_at < $2 - interval '1 minute')
             RETURNING session_id, last_seen_at
         )
         SELECT found.session_id, found.account_id, found.created_at, found.expires_at,
                coalesce(touched.last_seen_at, found.last_seen_at), found.revoked_at
         FROM found LEFT JOIN touched USING (session_id)",
    )
    .bind(token)
    .bind(now)
    .fetch_optional(pool)
    .await
    .db()?;
    row.as_ref().map(session_row).transpose()
}

pub(crate) async fn revoke_session(
    pool: &PgPool,
    session: SessionId,
    now: Timestamp,
) -> Result<bool, DatabaseError> {
    // The first revocation counts; a second one finds the session and changes nothing.
    let done = sqlx::query(
        "UPDATE sessions SET revoked_at = coalesce(revoked_at, $2) WHERE session_id = $1",
    )
    .bind(session.0)
    .bind(now)
    .execute(pool)
    .await
    .db()?;
    Ok(done.rows_affected() > 0)
}

// Memberships.

/// Makes `account` speak for `member` in `plan` from `now`, ending the membership it had there.
pub(crate) async fn join_plan(
    conn: &mut PgConnection,
    account: AccountId,
    plan: PlanId,
    member: MemberId,
    role: Role,
    now: Timestamp,
) -> Result<(), DatabaseError> {
    leave_plan(conn, account, plan, now).await?;
    sqlx::query(
        "INSERT INTO account_memberships (account_id, plan_id, member_id, role, since)
         VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(account.0)
    .bind(plan.0)
    .bind(member.0)
    .bind(role.key())
    .bind(now)
    .execute(&mut *conn)
    .await
    .db()?;
    Ok(())
}

/// Ends `account`'s current membership of `plan`, if it has one.
async fn leave_plan(
    conn: &mut PgConnection,
    account: AccountId,
    plan: PlanId,
    now: Timestamp,
) -> Result<(), DatabaseError> {
    sqlx::query(
        "UPDATE account_memberships SET ended_at = $3
         WHERE account_id = $1 AND plan_id = $2 AND ended_at IS NULL",
    )
    .bind(account.0)
    .bind(plan.0)
    .bind(now)
    .execute(&mut *conn)
    .await
    .db()?;
    Ok(())
}

/// Applies an append's membership changes, in order, inside its transaction (which holds the
/// plan's lock, so two hand-overs of one plan take turns).
pub(crate) async fn apply_memberships(
    conn: &mut PgConnection,
    plan: PlanId,
    changes: &[MembershipChange],
    now: Timestamp,
) -> Result<(), DatabaseError> {
    for change in changes {
        match change {
            MembershipChange::Join {
                account,
                member,
                role,
            } => join_plan(conn, *account, plan, *member, *role, now).await?,
            MembershipChange::Leave { account } => leave_plan(conn, *account, plan, now).await?,
        }
    }
    Ok(())
}

/// A membership from columns `at`, `at + 1`, … (account, plan, member, role, since).
fn membership_at(row: &PgRow, at: usize) -> Result<MembershipRecord, DatabaseError> {
    Ok(MembershipRecord {
        account: AccountId(row.try_get(at).db()?),
        plan: PlanId(row.try_get(at + 1).db()?),
        member: MemberId(row.try_get(at + 2).db()?),
        role: parse_role(row.try_get(at + 3).db()?)?,
        since: row.try_get(at + 4).db()?,
    })
}

pub(crate) async fn memberships(
    pool: &PgPool,
    account: AccountId,
) -> Result<Vec<MembershipRecord>, DatabaseError> {
    let rows = sqlx::query(
        "SELECT account_id, plan_id, member_id, role, since FROM account_memberships
         WHERE account_id = $1 AND ended_at IS NULL
         ORDER BY since, plan_id",
    )
    .bind(account.0)
    .fetch_all(pool)
    .await
    .db()?;
    rows.iter().map(|row| membership_at(row, 0)).collect()
}

pub(crate) async fn plan_organisation(
    pool: &PgPool,
    plan: PlanId,
) -> Result<Option<OrganisationId>, DatabaseError> {
    let found: Option<Option<Uuid>> =
        sqlx::query_scalar("SELECT organisation_id FROM plans WHERE plan_id = $1")
            .bind(plan.0)
            .fetch_optional(pool)
            .await
            .db()?;
    Ok(found.flatten().map(OrganisationId))
}

pub(crate) async fn organisation_plans(
    pool: &PgPool,
    organisation: OrganisationId,
) -> Result<Vec<OrganisationPlan>, DatabaseError> {
    // One row per current membership (or one for a plan without any), in plan order: one
    // statement, so the plans and their memberships are of one moment.
    let rows = sqlx::query(
        "SELECT plans.plan_id, plans.created_at,
                m.account_id, m.plan_id, m.member_id, m.role, m.since
         FROM plans
         LEFT JOIN account_memberships AS m
                ON m.plan_id = plans.plan_id AND m.ended_at IS NULL
         WHERE plans.organisation_id = $1
         ORDER BY plans.created_at, plans.plan_id, m.since, m.account_id",
    )
    .bind(organisation.0)
    .fetch_all(pool)
    .await
    .db()?;
    let mut plans: Vec<OrganisationPlan> = Vec::new();
    for row in &rows {
        let plan = PlanId(row.try_get(0).db()?);
        if plans.last().is_none_or(|last| last.plan != plan) {
            plans.push(OrganisationPlan {
                plan,
                created_at: row.try_get(1).db()?,
                memberships: Vec::new(),
            });
        }
        let account: Option<Uuid> = row.try_get(2).db()?;
        if let (Some(last), Some(_)) = (plans.last_mut(), account) {
            last.memberships.push(membership_at(row, 2)?);
        }
    }
    Ok(plans)
}

// The access log.

/// Lines of the access log, on `conn` (a pool's connection, or an append's transaction).
pub(crate) async fn log_access(
    conn: &mut PgConnection,
    entries: &[AccessEntry],
) -> Result<(), DatabaseError> {
    if entries.is_empty() {
        return Ok(());
    }
    // One statement for the batch; WITH ORDINALITY keeps the given order in `entry_id`.
    let ats: Vec<Timestamp> = entries.iter().map(|e| e.at).collect();
    let organisations: Vec<Option<Uuid>> = entries
        .iter()
        .map(|e| e.organisation.map(|o| o.0))
        .collect();
    let accounts: Vec<Option<Uuid>> = entries.iter().map(|e| e.account.map(|a| a.0)).collect();
    let devices: Vec<Option<Uuid>> = entries.iter().map(|e| e.device.map(|d| d.0)).collect();
    let plans: Vec<Option<Uuid>> = entries.iter().map(|e| e.plan.map(|p| p.0)).collect();
    let actions: Vec<&str> = entries.iter().map(|e| e.action.as_str()).collect();
    let details: Vec<&str> = entries.iter().map(|e| e.detail.as_str()).collect();
    sqlx::query(
        "INSERT INTO access_log
             (at, organisation_id, account_id, device_id, plan_id, action, detail)
         SELECT at, organisation_id, account_id, device_id, plan_id, action, detail
         FROM UNNEST($1::timestamptz[], $2::uuid[], $3::uuid[], $4::uuid[], $5::uuid[],
                     $6::text[], $7::text[])
              WITH ORDINALITY
              AS line (at, organisation_id, account_id, device_id, plan_id, action, detail, n)
         ORDER BY n",
    )
    .bind(&ats)
    .bind(&organisations)
    .bind(&accounts)
    .bind(&devices)
    .bind(&plans)
    .bind(&actions)
    .bind(&details)
    .execute(&mut *conn)
    .await
    .db()?;
    Ok(())
}

pub(crate) async fn access_log(
    pool: &PgPool,
    organisation: OrganisationId,
    before: Option<Timestamp>,
    limit: u32,
) -> Result<Vec<AccessEntry>, DatabaseError> {
    let rows = sqlx::query(
        "SELECT at, organisation_id, account_id, device_id, plan_id, action, detail
         FROM access_log
         WHERE organisation_id = $1 AND ($2::timestamptz IS NULL OR at < $2)
         ORDER BY at DESC, entry_id DESC
         LIMIT $3",
    )
    .bind(organisation.0)
    .bind(before)
    .bind(i64::from(limit))
    .fetch_all(pool)
    .await
    .db()?;
    rows.iter()
        .map(|row| {
            let organisation: Option<Uuid> = row.try_get(1).db()?;
            let account: Option<Uuid> = row.try_get(2).db()?;
            let device: Option<Uuid> = row.try_get(3).db()?;
            let plan: Option<Uuid> = row.try_get(4).db()?;
            Ok(AccessEntry {
                at: row.try_get(0).db()?,
                organisation: organisation.map(OrganisationId),
                account: account.map(AccountId),
                device: device.map(DeviceId),
                plan: plan.map(PlanId),
                action: row.try_get(5).db()?,
                detail: row.try_get(6).db()?,
            })
        })
        .collect()
}
