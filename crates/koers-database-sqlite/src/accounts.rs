//! Organisations, accounts, passkeys, enrolment links, ceremonies, sessions, memberships and
//! the access log on SQLite: the blocking halves of the [`Database`](koers_database::Database)
//! methods of `accounts.rs` in `koers-database`, run by `SqliteDatabase::with_conn`.

use koers_database::{
    parse_role, parse_time, parse_uuid, time_text, AccessEntry, AccountId, AccountRecord,
    CeremonyId, DatabaseError, DeviceId, Enrolling, EnrolmentId, EnrolmentOutcome, EnrolmentRecord,
    MemberId, MembershipChange, MembershipRecord, NewEnrolment, NewSession, OrganisationId,
    OrganisationPlan, OrganisationRecord, PasskeyRecord, PlanId, Role, SessionId, SessionRecord,
    Timestamp,
};
use rusqlite::{params, Connection, OptionalExtension as _, Params, Row, Transaction};

use crate::{begin, optional_time, optional_uuid, OrFailed as _};

/// Every row of `sql`, read with `read` and parsed with `parse` (rusqlite's row mapper cannot
/// return our error type, so text is parsed after the query).
fn all<P: Params, R, T>(
    conn: &Connection,
    sql: &str,
    params: P,
    read: fn(&Row<'_>) -> rusqlite::Result<R>,
    parse: fn(R) -> Result<T, DatabaseError>,
) -> Result<Vec<T>, DatabaseError> {
    let mut stmt = conn.prepare_cached(sql).or_failed()?;
    let rows = stmt.query_map(params, read).or_failed()?;
    rows.map(|row| parse(row.or_failed()?)).collect()
}

/// The one row of `sql`, if any (as [`all`]).
fn one<P: Params, R, T>(
    conn: &Connection,
    sql: &str,
    params: P,
    read: fn(&Row<'_>) -> rusqlite::Result<R>,
    parse: fn(R) -> Result<T, DatabaseError>,
) -> Result<Option<T>, DatabaseError> {
    let row = conn.query_row(sql, params, read).optional().or_failed()?;
    row.map(parse).transpose()
}

fn optional_text<T: ToString>(value: Option<T>) -> Option<String> {
    value.map(|v| v.to_string())
}

// Organisations.

const ORGANISATION_COLUMNS: &str = "organisation_id, name, created_at";

type OrganisationRow = (String, String, String);

fn organisation_row(row: &Row<'_>) -> rusqlite::Result<OrganisationRow> {
    Ok((row.get(0)?, row.get(1)?, row.get(2)?))
}

fn organisation_record(row: OrganisationRow) -> Result<OrganisationRecord, DatabaseError> {
    let (organisation, name, created_at) = row;
    Ok(OrganisationRecord {
        organisation: OrganisationId(parse_uuid(&organisation)?),
        name,
        created_at: parse_time(&created_at)?,
    })
}

fn insert_organisation(conn: &Connection, o: &OrganisationRecord) -> Result<(), DatabaseError> {
    conn.execute(
        "INSERT INTO organisations (organisation_id, name, created_at) VALUES (?1, ?2, ?3)",
        params![o.organisation.to_string(), o.name, time_text(o.created_at)],
    )
    .or_failed()?;
    Ok(())
}

pub(crate) fn create_organisation(
    conn: &mut Connection,
    organisation: &OrganisationRecord,
) -> Result<(), DatabaseError> {
    insert_organisation(conn, organisation)
}

pub(crate) fn organisation(
    conn: &mut Connection,
    organisation: OrganisationId,
) -> Result<Option<OrganisationRecord>, DatabaseError> {
    one(
        conn,
        &format!("SELECT {ORGANISATION_COLUMNS} FROM organisations WHERE organisation_id = ?1"),
        [organisation.to_string()],
        organisation_row,
        organisation_record,
    )
}

fn has_account(conn: &Connection, organisation: OrganisationId) -> Result<bool, DatabaseError> {
    conn.query_row(
        "SELECT EXISTS (SELECT 1 FROM accounts WHERE organisation_id = ?1)",
        [organisation.to_string()],
        |row| row.get(0),
    )
    .or_failed()
}

pub(crate) fn first_organisation(
    conn: &mut Connection,
    first: &OrganisationRecord,
) -> Result<(OrganisationRecord, bool), DatabaseError> {
    // IMMEDIATE: the write lock is held from the first read, so of two processes starting at
    // once on one file the second waits and then finds the first's organisation.
    let tx = begin(conn)?;
    let oldest = one(
        &tx,
        &format!(
            "SELECT {ORGANISATION_COLUMNS} FROM organisations
             ORDER BY created_at, organisation_id LIMIT 1"
        ),
        [],
        organisation_row,
        organisation_record,
    )?;
    let organisation = match oldest {
        Some(oldest) => oldest,
        None => {
            insert_organisation(&tx, first)?;
            first.clone()
        }
    };
    let has_account = has_account(&tx, organisation.organisation)?;
    tx.commit().or_failed()?;
    Ok((organisation, has_account))
}

// Accounts.

const ACCOUNT_COLUMNS: &str =
    "account_id, organisation_id, name, admin, created_at, deactivated_at";

type AccountRow = (String, String, String, bool, String, Option<String>);

fn account_row(row: &Row<'_>) -> rusqlite::Result<AccountRow> {
    Ok((
        row.get(0)?,
        row.get(1)?,
        row.get(2)?,
        row.get(3)?,
        row.get(4)?,
        row.get(5)?,
    ))
}

fn account_record(row: AccountRow) -> Result<AccountRecord, DatabaseError> {
    let (account, organisation, name, admin, created_at, deactivated_at) = row;
    Ok(AccountRecord {
        account: AccountId(parse_uuid(&account)?),
        organisation: OrganisationId(parse_uuid(&organisation)?),
        name,
        admin,
        created_at: parse_time(&created_at)?,
        deactivated_at: optional_time(deactivated_at)?,
    })
}

pub(crate) fn account(
    conn: &mut Connection,
    account: AccountId,
) -> Result<Option<AccountRecord>, DatabaseError> {
    one(
        conn,
        &format!("SELECT {ACCOUNT_COLUMNS} FROM accounts WHERE account_id = ?1"),
        [account.to_string()],
        account_row,
        account_record,
    )
}

pub(crate) fn accounts(
    conn: &mut Connection,
    organisation: OrganisationId,
) -> Result<Vec<AccountRecord>, DatabaseError> {
    all(
        conn,
        &format!(
            "SELECT {ACCOUNT_COLUMNS} FROM accounts WHERE organisation_id = ?1
             ORDER BY created_at, account_id"
        ),
        [organisation.to_string()],
        account_row,
        account_record,
    )
}

pub(crate) fn deactivate_account(
    conn: &mut Connection,
    account: AccountId,
    now: Timestamp,
) -> Result<Vec<(PlanId, DeviceId)>, DatabaseError> {
    let tx = begin(conn)?;
    let (account, now) = (account.to_string(), time_text(now));
    // The first deactivation counts (the access log and the administrator see that moment).
    tx.execute(
        "UPDATE accounts SET deactivated_at = coalesce(deactivated_at, ?2) WHERE account_id = ?1",
        params![account, now],
    )
    .or_failed()?;
    tx.execute(
        "UPDATE sessions SET revoked_at = ?2 WHERE account_id = ?1 AND revoked_at IS NULL",
        params![account, now],
    )
    .or_failed()?;
    // RETURNING names only the devices revoked here, whose event streams should end now.
    let revoked = all(
        &tx,
        "UPDATE devices SET revoked_at = ?2 WHERE account_id = ?1 AND revoked_at IS NULL
         RETURNING plan_id, device_id",
        params![account, now],
        |row| Ok((row.get::<_, String>(0)?, row.get::<_, String>(1)?)),
        |(plan, device)| Ok((PlanId(parse_uuid(&plan)?), DeviceId(parse_uuid(&device)?))),
    )?;
    tx.commit().or_failed()?;
    Ok(revoked)
}

// Enrolment links.

const ENROLMENT_COLUMNS: &str = "enrolment_id, organisation_id, name, admin, created_by, \
     created_at, expires_at, used_at, used_by, revoked_at";

type EnrolmentRow = (
    String,
    String,
    String,
    bool,
    Option<String>,
    String,
    String,
    Option<String>,
    Option<String>,
    Option<String>,
);

fn enrolment_row(row: &Row<'_>) -> rusqlite::Result<EnrolmentRow> {
    Ok((
        row.get(0)?,
        row.get(1)?,
        row.get(2)?,
        row.get(3)?,
        row.get(4)?,
        row.get(5)?,
        row.get(6)?,
        row.get(7)?,
        row.get(8)?,
        row.get(9)?,
    ))
}

fn enrolment_record(row: EnrolmentRow) -> Result<EnrolmentRecord, DatabaseError> {
    let (
        enrolment,
        organisation,
        name,
        admin,
        created_by,
        created_at,
        expires_at,
        used_at,
        used_by,
        revoked_at,
    ) = row;
    Ok(EnrolmentRecord {
        enrolment: EnrolmentId(parse_uuid(&enrolment)?),
        organisation: OrganisationId(parse_uuid(&organisation)?),
        name,
        admin,
        created_by: optional_uuid(created_by)?.map(AccountId),
        created_at: parse_time(&created_at)?,
        expires_at: parse_time(&expires_at)?,
        used_at: optional_time(used_at)?,
        used_by: optional_uuid(used_by)?.map(AccountId),
        revoked_at: optional_time(revoked_at)?,
    })
}

pub(crate) fn create_enrolment(
    conn: &mut Connection,
    e: &NewEnrolment,
    now: Timestamp,
) -> Result<EnrolmentRecord, DatabaseError> {
    conn.execute(
        "INSERT INTO enrolments
             (enrolment_id, code_hash, organisation_id, name, admin, created_by, created_at,
              expires_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
        params![
            e.enrolment.to_string(),
            e.code.0,
            e.organisation.to_string(),
            e.name,
            e.admin,
            optional_text(e.created_by),
            time_text(now),
            time_text(e.expires_at)
        ],
    )
    .or_failed()?;
    Ok(EnrolmentRecord {
        enrolment: e.enrolment,
        organisation: e.organisation,
        name: e.name.clone(),
        admin: e.admin,
        created_by: e.created_by,
        created_at: now,
        expires_at: e.expires_at,
        used_at: None,
        used_by: None,
        revoked_at: None,
    })
}

pub(crate) fn enrolment_by_code(
    conn: &mut Connection,
    code: &str,
) -> Result<Option<EnrolmentRecord>, DatabaseError> {
    one(
        conn,
        &format!("SELECT {ENROLMENT_COLUMNS} FROM enrolments WHERE code_hash = ?1"),
        [code],
        enrolment_row,
        enrolment_record,
    )
}

pub(crate) fn enrolments(
    conn: &mut Connection,
    organisation: OrganisationId,
) -> Result<Vec<EnrolmentRecord>, DatabaseError> {
    all(
        conn,
        &format!(
            "SELECT {ENROLMENT_COLUMNS} FROM enrolments WHERE organisation_id = ?1
             ORDER BY created_at, enrolment_id"
        ),
        [organisation.to_string()],
        enrolment_row,
        enrolment_record,
    )
}

pub(crate) fn use_enrolment(
    conn: &mut Connection,
    enrolment: EnrolmentId,
    enrolling: &Enrolling,
    now: Timestamp,
) -> Result<EnrolmentOutcome, DatabaseError> {
    // IMMEDIATE: nobody else uses a link (or creates an account) between the checks and the
    // writes. Returning early drops `tx`, which rolls back.
    let tx = begin(conn)?;
    let Some(link) = one(
        &tx,
        &format!("SELECT {ENROLMENT_COLUMNS} FROM enrolments WHERE enrolment_id = ?1"),
        [enrolment.to_string()],
        enrolment_row,
        enrolment_record,
    )?
    else {
        return Ok(EnrolmentOutcome::Unknown);
    };
    if link.revoked_at.is_some() {
        return Ok(EnrolmentOutcome::Revoked);
    }
    // A first administrator's link counts as used once the organisation has anyone: of two
    // such links (two first starts), the first one used wins.
    if link.used_at.is_some() || (link.created_by.is_none() && has_account(&tx, link.organisation)?)
    {
        return Ok(EnrolmentOutcome::Used);
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
    let now_text = time_text(now);
    tx.execute(
        "INSERT INTO accounts (account_id, organisation_id, name, admin, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5)",
        params![
            account.account.to_string(),
            account.organisation.to_string(),
            account.name,
            account.admin,
            now_text
        ],
    )
    .or_failed()?;
    tx.execute(
        "INSERT INTO passkeys (credential_id, account_id, passkey, created_at)
         VALUES (?1, ?2, ?3, ?4)",
        params![
            enrolling.credential,
            account.account.to_string(),
            enrolling.passkey,
            now_text
        ],
    )
    .or_failed()?;
    // The first session is the new account's, whatever `enrolling.session.account` says.
    insert_session(
        &tx,
        &NewSession {
            account: account.account,
            ..enrolling.session.clone()
        },
        now,
    )?;
    tx.execute(
        "UPDATE enrolments SET used_at = ?2, used_by = ?3 WHERE enrolment_id = ?1",
        params![
            link.enrolment.to_string(),
            now_text,
            account.account.to_string()
        ],
    )
    .or_failed()?;
    tx.commit().or_failed()?;
    Ok(EnrolmentOutcome::Enrolled(account))
}

// Passkeys and ceremonies.

pub(crate) fn passkey(
    conn: &mut Connection,
    credential: &str,
) -> Result<Option<PasskeyRecord>, DatabaseError> {
    one(
        conn,
        "SELECT credential_id, account_id, passkey, created_at, last_used_at
         FROM passkeys WHERE credential_id = ?1",
        [credential],
        |row| {
            Ok((
                row.get::<_, String>(0)?,
                row.get::<_, String>(1)?,
                row.get::<_, String>(2)?,
                row.get::<_, String>(3)?,
                row.get::<_, Option<String>>(4)?,
            ))
        },
        |(credential, account, passkey, created_at, last_used_at)| {
            Ok(PasskeyRecord {
                credential,
                account: AccountId(parse_uuid(&account)?),
                passkey,
                created_at: parse_time(&created_at)?,
                last_used_at: optional_time(last_used_at)?,
            })
        },
    )
}

pub(crate) fn update_passkey(
    conn: &mut Connection,
    credential: &str,
    passkey: &str,
    now: Timestamp,
) -> Result<(), DatabaseError> {
    conn.execute(
        "UPDATE passkeys SET passkey = ?2, last_used_at = ?3 WHERE credential_id = ?1",
        params![credential, passkey, time_text(now)],
    )
    .or_failed()?;
    Ok(())
}

pub(crate) fn put_ceremony(
    conn: &mut Connection,
    ceremony: CeremonyId,
    state: &str,
    expires_at: Timestamp,
) -> Result<(), DatabaseError> {
    conn.execute(
        "INSERT INTO ceremonies (ceremony_id, state, expires_at) VALUES (?1, ?2, ?3)",
        params![ceremony.to_string(), state, time_text(expires_at)],
    )
    .or_failed()?;
    Ok(())
}

pub(crate) fn take_ceremony(
    conn: &mut Connection,
    ceremony: CeremonyId,
    now: Timestamp,
) -> Result<Option<String>, DatabaseError> {
    let tx = begin(conn)?;
    // Deleted as it is read: a second take (from this process or another) finds nothing.
    let taken: Option<(String, String)> = tx
        .query_row(
            "DELETE FROM ceremonies WHERE ceremony_id = ?1 RETURNING state, expires_at",
            [ceremony.to_string()],
            |row| Ok((row.get(0)?, row.get(1)?)),
        )
        .optional()
        .or_failed()?;
    // Ceremonies nobody answered are swept along the way (text order is time order).
    tx.execute(
        "DELETE FROM ceremonies WHERE expires_at <= ?1",
        [time_text(now)],
    )
    .or_failed()?;
    tx.commit().or_failed()?;
    match taken {
        Some((state, expires_at)) if parse_time(&expires_at)? > now => Ok(Some(state)),
        _ => Ok(None),
    }
}

// Sessions.

const SESSION_COLUMNS: &str =
    "session_id, account_id, created_at, expires_at, last_seen_at, revoked_at";

type SessionRow = (
    String,
    String,
    String,
    String,
    Option<String>,
    Option<String>,
);

fn session_row(row: &Row<'_>) -> rusqlite::Result<SessionRow> {
    Ok((
        row.get(0)?,
        row.get(1)?,
        row.get(2)?,
        row.get(3)?,
        row.get(4)?,
        row.get(5)?,
    ))
}

fn session_record(row: SessionRow) -> Result<SessionRecord, DatabaseError> {
    let (session, account, created_at, expires_at, last_seen_at, revoked_at) = row;
    Ok(SessionRecord {
        session: SessionId(parse_uuid(&session)?),
        account: AccountId(parse_uuid(&account)?),
        created_at: parse_time(&created_at)?,
        expires_at: parse_time(&expires_at)?,
        last_seen_at: optional_time(last_seen_at)?,
        revoked_at: optional_time(revoked_at)?,
    })
}

fn insert_session(
    conn: &Connection,
    s: &NewSession,
    now: Timestamp,
) -> Result<SessionRecord, DatabaseError> {
    conn.execute(
        "INSERT INTO sessions (session_id, token_hash, account_id, created_at, expires_at)
         VALUES (?1, ?2, ?3, ?4, ?5)",
        params![
            s.session.to_string(),
            s.token.0,
            s.account.to_string(),
            time_text(now),
            time_text(s.expires_at)
        ],
    )
    .or_failed()?;
    Ok(SessionRecord {
        session: s.session,
        account: s.account,
        created_at: now,
        expires_at: s.expires_at,
        last_seen_at: None,
        revoked_at: None,
    })
}

pub(crate) fn create_session(
    conn: &mut Connection,
    session: &NewSession,
    now: Timestamp,
) -> Result<SessionRecord, DatabaseError> {
    insert_session(conn, session, now)
}

pub(crate) fn session_by_token(
    conn: &mut Connection,
    token: &str,
    now: Timestamp,
) -> Result<Option<SessionRecord>, DatabaseError> {
    let found = one(
        conn,
        &format!("SELECT {SESSION_COLUMNS} FROM sessions WHERE token_hash = ?1"),
        [token],
        session_row,
        session_record,
    )?;
    let Some(mut session) = found else {
        return Ok(None);
    };
    let stale = session
        .last_seen_at
        .is_none_or(|seen| now - seen >= chrono::Duration::seconds(60));
    // As for devices: at most one write a minute, and a session that can no longer be used
    // (revoked or expired) keeps the last time it was.
    if session.revoked_at.is_none() && session.expires_at > now && stale {
        conn.execute(
            "UPDATE sessions SET last_seen_at = ?2 WHERE session_id = ?1",
            params![session.session.to_string(), time_text(now)],
        )
        .or_failed()?;
        session.last_seen_at = Some(now);
    }
    Ok(Some(session))
}

pub(crate) fn revoke_session(
    conn: &mut Connection,
    session: SessionId,
    now: Timestamp,
) -> Result<bool, DatabaseError> {
    // The first revocation counts; a second one finds the session and changes nothing.
    let found = conn
        .execute(
            "UPDATE sessions SET revoked_at = coalesce(revoked_at, ?2) WHERE session_id = ?1",
            params![session.to_string(), time_text(now)],
        )
        .or_failed()?;
    Ok(found > 0)
}

// Memberships.

/// Makes `account` speak for `member` in `plan` from `now`, ending the membership it had there.
pub(crate) fn join_plan(
    tx: &Transaction<'_>,
    account: AccountId,
    plan: PlanId,
    member: MemberId,
    role: Role,
    now: &str,
) -> Result<(), DatabaseError> {
    leave_plan(tx, account, plan, now)?;
    tx.prepare_cached(
        "INSERT INTO account_memberships (account_id, plan_id, member_id, role, since)
         VALUES (?1, ?2, ?3, ?4, ?5)",
    )
    .or_failed()?
    .execute(params![
        account.to_string(),
        plan.to_string(),
        member.to_string(),
        role.key(),
        now
    ])
    .or_failed()?;
    Ok(())
}

/// Ends `account`'s current membership of `plan`, if it has one.
fn leave_plan(
    tx: &Transaction<'_>,
    account: AccountId,
    plan: PlanId,
    now: &str,
) -> Result<(), DatabaseError> {
    tx.prepare_cached(
        "UPDATE account_memberships SET ended_at = ?3
         WHERE account_id = ?1 AND plan_id = ?2 AND ended_at IS NULL",
    )
    .or_failed()?
    .execute(params![account.to_string(), plan.to_string(), now])
    .or_failed()?;
    Ok(())
}

/// Applies an append's membership changes, in order, inside its transaction.
pub(crate) fn apply_memberships(
    tx: &Transaction<'_>,
    plan: PlanId,
    changes: &[MembershipChange],
    now: &str,
) -> Result<(), DatabaseError> {
    for change in changes {
        match change {
            MembershipChange::Join {
                account,
                member,
                role,
            } => join_plan(tx, *account, plan, *member, *role, now)?,
            MembershipChange::Leave { account } => leave_plan(tx, *account, plan, now)?,
        }
    }
    Ok(())
}

type MembershipRow = (String, String, String, String, String);

fn membership_record(row: MembershipRow) -> Result<MembershipRecord, DatabaseError> {
    let (account, plan, member, role, since) = row;
    Ok(MembershipRecord {
        account: AccountId(parse_uuid(&account)?),
        plan: PlanId(parse_uuid(&plan)?),
        member: MemberId(parse_uuid(&member)?),
        role: parse_role(&role)?,
        since: parse_time(&since)?,
    })
}

pub(crate) fn memberships(
    conn: &mut Connection,
    account: AccountId,
) -> Result<Vec<MembershipRecord>, DatabaseError> {
    all(
        conn,
        "SELECT account_id, plan_id, member_id, role, since FROM account_memberships
         WHERE account_id = ?1 AND ended_at IS NULL
         ORDER BY since, plan_id",
        [account.to_string()],
        |row| {
            Ok((
                row.get(0)?,
                row.get(1)?,
                row.get(2)?,
                row.get(3)?,
                row.get(4)?,
            ))
        },
        membership_record,
    )
}

pub(crate) fn plan_organisation(
    conn: &mut Connection,
    plan: PlanId,
) -> Result<Option<OrganisationId>, DatabaseError> {
    let found: Option<Option<String>> = conn
        .query_row(
            "SELECT organisation_id FROM plans WHERE plan_id = ?1",
            [plan.to_string()],
            |row| row.get(0),
        )
        .optional()
        .or_failed()?;
    Ok(optional_uuid(found.flatten())?.map(OrganisationId))
}

pub(crate) fn organisation_plans(
    conn: &mut Connection,
    organisation: OrganisationId,
) -> Result<Vec<OrganisationPlan>, DatabaseError> {
    // One row per current membership (or one for a plan without any), in plan order: read in
    // one statement, so the plans and their memberships are of one moment.
    let rows = all(
        conn,
        "SELECT plans.plan_id, plans.created_at,
                m.account_id, m.plan_id, m.member_id, m.role, m.since
         FROM plans
         LEFT JOIN account_memberships AS m
                ON m.plan_id = plans.plan_id AND m.ended_at IS NULL
         WHERE plans.organisation_id = ?1
         ORDER BY plans.created_at, plans.plan_id, m.since, m.account_id",
        [organisation.to_string()],
        |row| {
            let membership: Option<MembershipRow> = match row.get::<_, Option<String>>(2)? {
                Some(account) => {
                    Some((account, row.get(3)?, row.get(4)?, row.get(5)?, row.get(6)?))
                }
                None => None,
            };
            Ok((
                row.get::<_, String>(0)?,
                row.get::<_, String>(1)?,
                membership,
            ))
        },
        |(plan, created_at, membership)| {
            Ok((
                PlanId(parse_uuid(&plan)?),
                parse_time(&created_at)?,
                membership.map(membership_record).transpose()?,
            ))
        },
    )?;
    let mut plans: Vec<OrganisationPlan> = Vec::new();
    for (plan, created_at, membership) in rows {
        if plans.last().is_none_or(|last| last.plan != plan) {
            plans.push(OrganisationPlan {
                plan,
                created_at,
                memberships: Vec::new(),
            });
        }
        if let (Some(last), Some(membership)) = (plans.last_mut(), membership) {
            last.memberships.push(membership);
        }
    }
    Ok(plans)
}

// The access log.

pub(crate) fn log_access(
    conn: &mut Connection,
    entries: &[AccessEntry],
) -> Result<(), DatabaseError> {
    let tx = begin(conn)?;
    for entry in entries {
        insert_access(&tx, entry)?;
    }
    tx.commit().or_failed()
}

/// One line of the access log, inside the caller's transaction.
pub(crate) fn insert_access(tx: &Transaction<'_>, e: &AccessEntry) -> Result<(), DatabaseError> {
    tx.prepare_cached(
        "INSERT INTO access_log
             (at, organisation_id, account_id, device_id, plan_id, action, detail)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    )
    .or_failed()?
    .execute(params![
        time_text(e.at),
        optional_text(e.organisation),
        optional_text(e.account),
        optional_text(e.device),
        optional_text(e.plan),
        e.action,
        e.detail
    ])
    .or_failed()?;
    Ok(())
}

type AccessRow = (
    String,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
    String,
    String,
);

pub(crate) fn access_log(
    conn: &mut Connection,
    organisation: OrganisationId,
    before: Option<Timestamp>,
    limit: u32,
) -> Result<Vec<AccessEntry>, DatabaseError> {
    all(
        conn,
        "SELECT at, organisation_id, account_id, device_id, plan_id, action, detail
         FROM access_log
         WHERE organisation_id = ?1 AND (?2 IS NULL OR at < ?2)
         ORDER BY at DESC, entry_id DESC
         LIMIT ?3",
        params![
            organisation.to_string(),
            before.map(time_text),
            i64::from(limit)
        ],
        |row| -> rusqlite::Result<AccessRow> {
            Ok((
                row.get(0)?,
                row.get(1)?,
                row.get(2)?,
                row.get(3)?,
                row.get(4)?,
                row.get(5)?,
                row.get(6)?,
            ))
        },
        |(at, organisation, account, device, plan, action, detail)| {
            Ok(AccessEntry {
                at: parse_time(&at)?,
                organisation: optional_uuid(organisation)?.map(OrganisationId),
                account: optional_uuid(account)?.map(AccountId),
                device: optional_uuid(device)?.map(DeviceId),
                plan: optional_uuid(plan)?.map(PlanId),
                action,
                detail,
            })
        },
    )
}
