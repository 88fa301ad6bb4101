//! Koers's embedded SQLite database: one connection behind a mutex, used from tokio's blocking
//! pool. The default for one machine (`KOERS_DATA`); PostgreSQL is the choice for several
//! server instances.
//!
//! Times are stored as RFC 3339 text in UTC with milliseconds ([`time_text`]), so that text
//! order is time order. The schema is the numbered files in `migrations/`, applied in order and
//! counted in `PRAGMA user_version`.

use std::path::Path;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

mod accounts;

use koers_database::{
    parse_role, parse_time, parse_uuid, same_body, time_text, AcceptOutcome, AccessEntry,
    AccountId, AccountRecord, Append, Appended, CeremonyId, Database, DatabaseError, DbFuture,
    DeviceId, DeviceRecord, Enrolling, EnrolmentId, EnrolmentOutcome, EnrolmentRecord, InviteId,
    InviteRecord, MemberId, MembershipRecord, NewDevice, NewEnrolment, NewInvite, NewOp,
    NewSession, OpId, OpsPage, OrganisationId, OrganisationPlan, OrganisationRecord, PasskeyRecord,
    PlanId, PlanOwner, SecretHash, Seq, SessionId, SessionRecord, StoredOp, Timestamp,
};
use rusqlite::{params, Connection, OptionalExtension as _, Row, Transaction, TransactionBehavior};
use uuid::Uuid;

/// The migrations, in order: version `n` is `MIGRATIONS[n - 1]`.
const MIGRATIONS: &[&str] = &[
    include_str!("../migrations/0001_ops.sql"),
    include_str!("../migrations/0002_plans_devices_invites.sql"),
    include_str!("../migrations/0003_per_plan_seq.sql"),
    include_str!("../migrations/0004_accounts.sql"),
];

/// The schema version this build creates and understands (`PRAGMA user_version`).
pub const SCHEMA_VERSION: i64 = MIGRATIONS.len() as i64;

/// The SQLite implementation of [`Database`].
#[derive(Clone)]
pub struct SqliteDatabase {
    conn: Arc<Mutex<Connection>>,
}

impl std::fmt::Debug for SqliteDatabase {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteDatabase").finish_non_exhaustive()
    }
}

/// Every rusqlite error is a failure of this one file: there is no connection to lose.
fn failed(err: rusqlite::Error) -> DatabaseError {
    DatabaseError::Failed(err.to_string())
}

/// `?` on rusqlite results inside this crate.
trait OrFailed<T> {
    fn or_failed(self) -> Result<T, DatabaseError>;
}

impl<T> OrFailed<T> for rusqlite::Result<T> {
    fn or_failed(self) -> Result<T, DatabaseError> {
        self.map_err(failed)
    }
}

impl SqliteDatabase {
    /// Opens (or creates) the database file, switches it to WAL with `synchronous=FULL` and
    /// foreign keys on, and migrates the schema.
    pub fn open(path: &Path) -> Result<Self, DatabaseError> {
        let conn = Connection::open(path).or_failed()?;
        let mode: String = conn
            .pragma_update_and_check(None, "journal_mode", "WAL", |row| row.get(0))
            .or_failed()?;
        if !mode.eq_ignore_ascii_case("wal") {
            return Err(DatabaseError::Failed(format!(
                "the database could not switch to WAL journal mode (it reported {mode:?})"
            )));
        }
        Self::setup(conn)
    }

    /// A private in-memory database (tests, experiments).
    pub fn open_in_memory() -> Result<Self, DatabaseError> {
        Self::setup(Connection::open_in_memory().or_failed()?)
    }

    fn setup(mut conn: Connection) -> Result<Self, DatabaseError> {
        conn.busy_timeout(Duration::from_secs(5)).or_failed()?;
        conn.pragma_update(None, "synchronous", "FULL")
            .or_failed()?;
        conn.pragma_update(None, "foreign_keys", "ON").or_failed()?;
        migrate(&mut conn)?;
        Ok(Self {
            conn: Arc::new(Mutex::new(conn)),
        })
    }

    /// Runs `f` with the connection on tokio's blocking pool.
    fn with_conn<T, F>(&self, f: F) -> DbFuture<'static, T>
    where
        T: Send + 'static,
        F: FnOnce(&mut Connection) -> Result<T, DatabaseError> + Send + 'static,
    {
        let conn = Arc::clone(&self.conn);
        Box::pin(async move {
            tokio::task::spawn_blocking(move || {
                // A panic while holding the lock cannot leave a transaction open (rusqlite rolls
                // back on drop), so a poisoned mutex still guards a usable connection.
                let mut guard = conn.lock().unwrap_or_else(PoisonError::into_inner);
                f(&mut guard)
            })
            .await
            .map_err(|e| DatabaseError::Failed(format!("the database task failed: {e}")))?
        })
    }

    /// Runs SQL directly (tests that need to break the database on purpose).
    #[doc(hidden)]
    pub fn execute_batch_for_tests(&self, sql: &str) -> Result<(), DatabaseError> {
        let conn = self.conn.lock().unwrap_or_else(PoisonError::into_inner);
        conn.execute_batch(sql).or_failed()
    }
}

/// Applies the migrations the file has not had yet, in one transaction.
fn migrate(conn: &mut Connection) -> Result<(), DatabaseError> {
    let tx = conn
        .transaction_with_behavior(TransactionBehavior::Immediate)
        .or_failed()?;
    let version: i64 = tx
        .query_row("PRAGMA user_version", [], |row| row.get(0))
        .or_failed()?;
    if version > SCHEMA_VERSION {
        return Err(DatabaseError::SchemaTooNew {
            found: version,
            supported: SCHEMA_VERSION,
        });
    }
    for (number, sql) in MIGRATIONS.iter().enumerate().skip(version.max(0) as usize) {
        tx.execute_batch(sql).or_failed()?;
        tx.pragma_update(None, "user_version", number as i64 + 1)
            .or_failed()?;
    }
    tx.commit().or_failed()
}

fn begin(conn: &mut Connection) -> Result<Transaction<'_>, DatabaseError> {
    conn.transaction_with_behavior(TransactionBehavior::Immediate)
        .or_failed()
}

fn plan_head(tx: &Transaction<'_>, plan: PlanId) -> Result<Option<Seq>, DatabaseError> {
    tx.query_row(
        "SELECT head FROM plans WHERE plan_id = ?1",
        [plan.to_string()],
        |row| row.get(0),
    )
    .optional()
    .or_failed()
}

/// Stores `ops` on top of `head` inside an open transaction and moves the plan's head; the
/// seqs in the order given (see [`Database::append_ops`]).
fn append_in(
    tx: &Transaction<'_>,
    plan: PlanId,
    head: Seq,
    ops: &[NewOp],
    now: &str,
) -> Result<(Vec<Seq>, Seq), DatabaseError> {
    let plan_text = plan.to_string();
    let mut seqs = Vec::with_capacity(ops.len());
    let mut next = head;
    {
        let mut existing = tx
            .prepare_cached("SELECT seq, plan_id, body FROM ops WHERE op_id = ?1")
            .or_failed()?;
        let mut insert = tx
            .prepare_cached(
                "INSERT INTO ops (plan_id, seq, op_id, author, body, received_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            )
            .or_failed()?;
        for op in ops {
            let id = op.id.to_string();
            let stored: Option<(Seq, String, String)> = existing
                .query_row([&id], |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)))
                .optional()
                .or_failed()?;
            match stored {
                // Returning an error drops `tx`, which rolls the whole batch back.
                Some((_, owner, _)) if owner != plan_text => {
                    return Err(DatabaseError::OpIdConflict { op_id: op.id })
                }
                // A re-send is acknowledged only if it says what was stored: acknowledging
                // other content would tell its sender that an edit is kept which is not.
                Some((_, _, body)) if !same_body(&body, &op.body) => {
                    return Err(DatabaseError::OpIdReused { op_id: op.id })
                }
                Some((seq, _, _)) => seqs.push(seq),
                None => {
                    next += 1;
                    insert
                        .execute(params![
                            plan_text,
                            next,
                            id,
                            op.author.to_string(),
                            op.body,
                            now
                        ])
                        .or_failed()?;
                    seqs.push(next);
                }
            }
        }
    }
    if next != head {
        tx.execute(
            "UPDATE plans SET head = ?2 WHERE plan_id = ?1",
            params![plan_text, next],
        )
        .or_failed()?;
    }
    Ok((seqs, next))
}

fn append_blocking(conn: &mut Connection, append: Append<'_>) -> Result<Appended, DatabaseError> {
    let Append {
        plan,
        after_head,
        ops,
        shut_out,
        memberships,
        access,
        now,
    } = append;
    // IMMEDIATE: the write lock is taken before the head is read, so nobody moves it meanwhile.
    let tx = begin(conn)?;
    let head = plan_head(&tx, plan)?.ok_or(DatabaseError::PlanUnknown { plan })?;
    if head != after_head {
        return Err(DatabaseError::HeadMoved {
            plan,
            expected: after_head,
            head,
        });
    }
    let now = time_text(now);
    let (seqs, head) = append_in(&tx, plan, head, ops, &now)?;
    let mut revoked_devices = Vec::new();
    {
        // RETURNING names only the rows really changed, so a stream is told to end only for a
        // device that was revoked here (the membership check covers any other).
        let mut devices = tx
            .prepare_cached(
                "UPDATE devices SET revoked_at = ?3
                 WHERE plan_id = ?1 AND member_id = ?2 AND revoked_at IS NULL
                 RETURNING device_id",
            )
            .or_failed()?;
        let mut invites = tx
            .prepare_cached(
                "UPDATE invites SET revoked_at = ?3
                 WHERE plan_id = ?1 AND member_id = ?2 AND revoked_at IS NULL AND used_at IS NULL",
            )
            .or_failed()?;
        let plan_text = plan.to_string();
        for member in shut_out {
            let member = member.to_string();
            let ids = devices
                .query_map(params![plan_text, member, now], |row| {
                    row.get::<_, String>(0)
                })
                .or_failed()?;
            for id in ids {
                revoked_devices.push(DeviceId(parse_uuid(&id.or_failed()?)?));
            }
            invites
                .execute(params![plan_text, member, now])
                .or_failed()?;
        }
    }
    accounts::apply_memberships(&tx, plan, memberships, &now)?;
    if let Some(entry) = access {
        accounts::insert_access(&tx, entry)?;
    }
    tx.commit().or_failed()?;
    Ok(Appended {
        seqs,
        head,
        revoked_devices,
    })
}

const DEVICE_COLUMNS: &str =
    "device_id, plan_id, member_id, role, name, created_at, last_seen_at, revoked_at, account_id";

/// The text columns of a device row, parsed after the query (rusqlite's row mapper cannot
/// return our error type).
type DeviceRow = (
    String,
    String,
    String,
    String,
    String,
    String,
    Option<String>,
    Option<String>,
    Option<String>,
);

fn device_row(row: &Row<'_>) -> rusqlite::Result<DeviceRow> {
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
    ))
}

fn optional_time(text: Option<String>) -> Result<Option<Timestamp>, DatabaseError> {
    text.as_deref().map(parse_time).transpose()
}

fn optional_uuid(text: Option<String>) -> Result<Option<Uuid>, DatabaseError> {
    text.as_deref().map(parse_uuid).transpose()
}

fn device_record(row: DeviceRow) -> Result<DeviceRecord, DatabaseError> {
    let (device, plan, member, role, name, created_at, last_seen_at, revoked_at, account) = row;
    Ok(DeviceRecord {
        device: DeviceId(parse_uuid(&device)?),
        plan: PlanId(parse_uuid(&plan)?),
        member: MemberId(parse_uuid(&member)?),
        role: parse_role(&role)?,
        name,
        account: optional_uuid(account)?.map(AccountId),
        created_at: parse_time(&created_at)?,
        last_seen_at: optional_time(last_seen_at)?,
        revoked_at: optional_time(revoked_at)?,
    })
}

const INVITE_COLUMNS: &str =
    "invite_id, plan_id, member_id, role, created_by, created_at, expires_at, used_at, revoked_at";

type InviteRow = (
    String,
    String,
    String,
    String,
    String,
    String,
    String,
    Option<String>,
    Option<String>,
);

fn invite_row(row: &Row<'_>) -> rusqlite::Result<InviteRow> {
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
    ))
}

fn invite_record(row: InviteRow) -> Result<InviteRecord, DatabaseError> {
    let (invite, plan, member, role, created_by, created_at, expires_at, used_at, revoked_at) = row;
    Ok(InviteRecord {
        invite: InviteId(parse_uuid(&invite)?),
        plan: PlanId(parse_uuid(&plan)?),
        member: MemberId(parse_uuid(&member)?),
        role: parse_role(&role)?,
        created_by: MemberId(parse_uuid(&created_by)?),
        created_at: parse_time(&created_at)?,
        expires_at: parse_time(&expires_at)?,
        used_at: optional_time(used_at)?,
        revoked_at: optional_time(revoked_at)?,
    })
}

fn insert_device(
    tx: &Transaction<'_>,
    d: &NewDevice,
    now: Timestamp,
) -> Result<DeviceRecord, DatabaseError> {
    tx.execute(
        "INSERT INTO devices
             (device_id, plan_id, member_id, role, token_hash, name, created_at, account_id)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
        params![
            d.device.to_string(),
            d.plan.to_string(),
            d.member.to_string(),
            d.role.key(),
            d.token.0,
            d.name,
            time_text(now),
            d.account.map(|a| a.to_string())
        ],
    )
    .or_failed()?;
    Ok(DeviceRecord {
        device: d.device,
        plan: d.plan,
        member: d.member,
        role: d.role,
        name: d.name.clone(),
        account: d.account,
        created_at: now,
        last_seen_at: None,
        revoked_at: None,
    })
}

fn create_plan_blocking(
    conn: &mut Connection,
    plan: PlanId,
    ops: &[NewOp],
    founder: &NewDevice,
    owner: Option<PlanOwner>,
    now: Timestamp,
) -> Result<Vec<Seq>, DatabaseError> {
    let tx = begin(conn)?;
    if plan_head(&tx, plan)?.is_some() {
        return Err(DatabaseError::PlanExists { plan });
    }
    let now_text = time_text(now);
    tx.execute(
        "INSERT INTO plans (plan_id, created_at, head, organisation_id) VALUES (?1, ?2, 0, ?3)",
        params![
            plan.to_string(),
            now_text,
            owner.map(|o| o.organisation.to_string())
        ],
    )
    .or_failed()?;
    let (seqs, _) = append_in(&tx, plan, 0, ops, &now_text)?;
    insert_device(
        &tx,
        &NewDevice {
            plan,
            ..founder.clone()
        },
        now,
    )?;
    if let Some(owner) = owner {
        accounts::join_plan(
            &tx,
            owner.account,
            plan,
            founder.member,
            founder.role,
            &now_text,
        )?;
    }
    tx.commit().or_failed()?;
    Ok(seqs)
}

fn device_by_token_blocking(
    conn: &mut Connection,
    token: &str,
    now: Timestamp,
) -> Result<Option<DeviceRecord>, DatabaseError> {
    let row = conn
        .query_row(
            &format!("SELECT {DEVICE_COLUMNS} FROM devices WHERE token_hash = ?1"),
            [token],
            device_row,
        )
        .optional()
        .or_failed()?;
    let Some(mut device) = row.map(device_record).transpose()? else {
        return Ok(None);
    };
    let stale = device
        .last_seen_at
        .is_none_or(|seen| now - seen >= chrono::Duration::seconds(60));
    if device.revoked_at.is_none() && stale {
        // At most one write a minute per device: every request would otherwise cost an fsync.
        conn.execute(
            "UPDATE devices SET last_seen_at = ?2 WHERE device_id = ?1",
            params![device.device.to_string(), time_text(now)],
        )
        .or_failed()?;
        device.last_seen_at = Some(now);
    }
    Ok(Some(device))
}

fn accept_invite_blocking(
    conn: &mut Connection,
    code: &str,
    device: &NewDevice,
    now: Timestamp,
) -> Result<AcceptOutcome, DatabaseError> {
    let tx = begin(conn)?;
    let row = tx
        .query_row(
            &format!("SELECT {INVITE_COLUMNS} FROM invites WHERE code_hash = ?1"),
            [code],
            invite_row,
        )
        .optional()
        .or_failed()?;
    let Some(invite) = row.map(invite_record).transpose()? else {
        return Ok(AcceptOutcome::Unknown);
    };
    if invite.revoked_at.is_some() {
        return Ok(AcceptOutcome::Revoked);
    }
    if invite.used_at.is_some() {
        return Ok(AcceptOutcome::Used);
    }
    if invite.expires_at <= now {
        return Ok(AcceptOutcome::Expired);
    }
    let device = NewDevice {
        plan: invite.plan,
        member: invite.member,
        role: invite.role,
        ..device.clone()
    };
    let record = insert_device(&tx, &device, now)?;
    let now = time_text(now);
    tx.execute(
        "UPDATE invites SET used_at = ?2, used_by_device = ?3 WHERE invite_id = ?1",
        params![invite.invite.to_string(), now, device.device.to_string()],
    )
    .or_failed()?;
    if let Some(account) = device.account {
        accounts::join_plan(&tx, account, invite.plan, invite.member, invite.role, &now)?;
    }
    tx.commit().or_failed()?;
    Ok(AcceptOutcome::Accepted(record))
}

fn ops_page_blocking(
    conn: &mut Connection,
    plan: PlanId,
    after: Seq,
    limit: u32,
) -> Result<OpsPage, DatabaseError> {
    // One read transaction around both queries: in WAL mode they then read one snapshot, so a
    // write committed in between (by this process or another) is in both or in neither.
    let tx = conn
        .transaction_with_behavior(TransactionBehavior::Deferred)
        .or_failed()?;
    let plan_text = plan.to_string();
    let rows: Vec<(Seq, String, String)> = {
        let mut stmt = tx
            .prepare_cached(
                "SELECT seq, body, received_at FROM ops
                 WHERE plan_id = ?1 AND seq > ?2 ORDER BY seq LIMIT ?3",
            )
            .or_failed()?;
        let rows = stmt
            .query_map(params![plan_text, after, i64::from(limit)], |row| {
                Ok((row.get(0)?, row.get(1)?, row.get(2)?))
            })
            .or_failed()?;
        rows.collect::<Result<_, _>>().or_failed()?
    };
    let head = plan_head(&tx, plan)?.unwrap_or(0);
    tx.commit().or_failed()?;
    let ops = rows
        .into_iter()
        .map(|(seq, body, received_at)| {
            Ok(StoredOp {
                seq,
                body,
                received_at: parse_time(&received_at)?,
            })
        })
        .collect::<Result<_, DatabaseError>>()?;
    Ok(OpsPage { ops, head })
}

/// Revokes what `update` names if `exists` finds it; true if found. `scope` is the plan (or the
/// organisation) the id must belong to.
fn revoke_blocking(
    conn: &mut Connection,
    exists: &str,
    update: &str,
    scope: String,
    id: String,
    now: Timestamp,
) -> Result<bool, DatabaseError> {
    let tx = begin(conn)?;
    let found: bool = tx
        .query_row(exists, params![scope, id], |row| row.get(0))
        .or_failed()?;
    tx.execute(update, params![scope, id, time_text(now)])
        .or_failed()?;
    tx.commit().or_failed()?;
    Ok(found)
}

impl Database for SqliteDatabase {
    fn health(&self) -> DbFuture<'_, ()> {
        self.with_conn(|conn| {
            conn.query_row("SELECT count(*) FROM sqlite_master", [], |row| {
                row.get::<_, i64>(0)
            })
            .or_failed()?;
            Ok(())
        })
    }

    fn create_plan<'a>(
        &'a self,
        plan: PlanId,
        ops: &'a [NewOp],
        founder: &'a NewDevice,
        owner: Option<PlanOwner>,
        now: Timestamp,
    ) -> DbFuture<'a, Vec<Seq>> {
        let (ops, founder) = (ops.to_vec(), founder.clone());
        self.with_conn(move |conn| create_plan_blocking(conn, plan, &ops, &founder, owner, now))
    }

    fn plan_exists(&self, plan: PlanId) -> DbFuture<'_, bool> {
        self.with_conn(move |conn| {
            conn.query_row(
                "SELECT EXISTS (SELECT 1 FROM plans WHERE plan_id = ?1)",
                [plan.to_string()],
                |row| row.get(0),
            )
            .or_failed()
        })
    }

    fn append_ops<'a>(&'a self, append: Append<'a>) -> DbFuture<'a, Appended> {
        // Owned, for the blocking task; lent to `append_blocking` as an `Append` again.
        let (plan, after_head, now) = (append.plan, append.after_head, append.now);
        let (ops, shut_out, memberships, access) = (
            append.ops.to_vec(),
            append.shut_out.to_vec(),
            append.memberships.to_vec(),
            append.access.cloned(),
        );
        self.with_conn(move |conn| {
            append_blocking(
                conn,
                Append {
                    plan,
                    after_head,
                    ops: &ops,
                    shut_out: &shut_out,
                    memberships: &memberships,
                    access: access.as_ref(),
                    now,
                },
            )
        })
    }

    fn ops_page(&self, plan: PlanId, after: Seq, limit: u32) -> DbFuture<'_, OpsPage> {
        self.with_conn(move |conn| ops_page_blocking(conn, plan, after, limit))
    }

    fn head(&self, plan: PlanId) -> DbFuture<'_, Seq> {
        self.with_conn(move |conn| {
            let head: Option<Seq> = conn
                .query_row(
                    "SELECT head FROM plans WHERE plan_id = ?1",
                    [plan.to_string()],
                    |row| row.get(0),
                )
                .optional()
                .or_failed()?;
            Ok(head.unwrap_or(0))
        })
    }

    fn op_bodies<'a>(&'a self, plan: PlanId, ops: &'a [OpId]) -> DbFuture<'a, Vec<(OpId, String)>> {
        let ops = ops.to_vec();
        self.with_conn(move |conn| {
            let mut stmt = conn
                .prepare_cached("SELECT body FROM ops WHERE plan_id = ?1 AND op_id = ?2")
                .or_failed()?;
            let plan = plan.to_string();
            let mut found = Vec::new();
            for id in ops {
                let body: Option<String> = stmt
                    .query_row(params![plan, id.to_string()], |row| row.get(0))
                    .optional()
                    .or_failed()?;
                found.extend(body.map(|body| (id, body)));
            }
            Ok(found)
        })
    }

    fn ops_per_author_since(
        &self,
        plan: PlanId,
        since: Timestamp,
    ) -> DbFuture<'_, Vec<(MemberId, u32)>> {
        self.with_conn(move |conn| {
            let mut stmt = conn
                .prepare_cached(
                    "SELECT author, count(*) FROM ops
                     WHERE plan_id = ?1 AND received_at >= ?2 AND author IS NOT NULL
                     GROUP BY author",
                )
                .or_failed()?;
            let rows = stmt
                .query_map(params![plan.to_string(), time_text(since)], |row| {
                    Ok((row.get::<_, String>(0)?, row.get::<_, i64>(1)?))
                })
                .or_failed()?;
            let mut counts = Vec::new();
            for row in rows {
                let (author, count) = row.or_failed()?;
                let count = u32::try_from(count).unwrap_or(u32::MAX);
                counts.push((MemberId(parse_uuid(&author)?), count));
            }
            Ok(counts)
        })
    }

    fn device_by_token<'a>(
        &'a self,
        token: &'a SecretHash,
        now: Timestamp,
    ) -> DbFuture<'a, Option<DeviceRecord>> {
        let token = token.0.clone();
        self.with_conn(move |conn| device_by_token_blocking(conn, &token, now))
    }

    fn devices(&self, plan: PlanId) -> DbFuture<'_, Vec<DeviceRecord>> {
        self.with_conn(move |conn| {
            let mut stmt = conn
                .prepare_cached(&format!(
                    "SELECT {DEVICE_COLUMNS} FROM devices WHERE plan_id = ?1
                     ORDER BY created_at, device_id"
                ))
                .or_failed()?;
            let rows = stmt.query_map([plan.to_string()], device_row).or_failed()?;
            rows.map(|row| device_record(row.or_failed()?)).collect()
        })
    }

    fn revoke_device(&self, plan: PlanId, device: DeviceId, now: Timestamp) -> DbFuture<'_, bool> {
        self.with_conn(move |conn| {
            revoke_blocking(
                conn,
                "SELECT EXISTS (SELECT 1 FROM devices WHERE plan_id = ?1 AND device_id = ?2)",
                "UPDATE devices SET revoked_at = ?3
                 WHERE plan_id = ?1 AND device_id = ?2 AND revoked_at IS NULL",
                plan.to_string(),
                device.to_string(),
                now,
            )
        })
    }

    fn create_invite<'a>(
        &'a self,
        invite: &'a NewInvite,
        now: Timestamp,
    ) -> DbFuture<'a, InviteRecord> {
        let i = invite.clone();
        self.with_conn(move |conn| {
            conn.execute(
                "INSERT INTO invites
                     (invite_id, code_hash, plan_id, member_id, role, created_by, created_at, expires_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
                params![
                    i.invite.to_string(),
                    i.code.0,
                    i.plan.to_string(),
                    i.member.to_string(),
                    i.role.key(),
                    i.created_by.to_string(),
                    time_text(now),
                    time_text(i.expires_at)
                ],
            )
            .or_failed()?;
            Ok(InviteRecord {
                invite: i.invite,
                plan: i.plan,
                member: i.member,
                role: i.role,
                created_by: i.created_by,
                created_at: now,
                expires_at: i.expires_at,
                used_at: None,
                revoked_at: None,
            })
        })
    }

    fn invites(&self, plan: PlanId) -> DbFuture<'_, Vec<InviteRecord>> {
        self.with_conn(move |conn| {
            let mut stmt = conn
                .prepare_cached(&format!(
                    "SELECT {INVITE_COLUMNS} FROM invites WHERE plan_id = ?1
                     ORDER BY created_at, invite_id"
                ))
                .or_failed()?;
            let rows = stmt.query_map([plan.to_string()], invite_row).or_failed()?;
            rows.map(|row| invite_record(row.or_failed()?)).collect()
        })
    }

    fn revoke_invite(&self, plan: PlanId, invite: InviteId, now: Timestamp) -> DbFuture<'_, bool> {
        self.with_conn(move |conn| {
            revoke_blocking(
                conn,
                "SELECT EXISTS (SELECT 1 FROM invites WHERE plan_id = ?1 AND invite_id = ?2)",
                "UPDATE invites SET revoked_at = ?3
                 WHERE plan_id = ?1 AND invite_id = ?2 AND revoked_at IS NULL AND used_at IS NULL",
                plan.to_string(),
                invite.to_string(),
                now,
            )
        })
    }

    fn invite_by_code<'a>(&'a self, code: &'a SecretHash) -> DbFuture<'a, Option<InviteRecord>> {
        let code = code.0.clone();
        self.with_conn(move |conn| {
            let row = conn
                .query_row(
                    &format!("SELECT {INVITE_COLUMNS} FROM invites WHERE code_hash = ?1"),
                    [code],
                    invite_row,
                )
                .optional()
                .or_failed()?;
            row.map(invite_record).transpose()
        })
    }

    fn accept_invite<'a>(
        &'a self,
        code: &'a SecretHash,
        device: &'a NewDevice,
        now: Timestamp,
    ) -> DbFuture<'a, AcceptOutcome> {
        let (code, device) = (code.0.clone(), device.clone());
        self.with_conn(move |conn| accept_invite_blocking(conn, &code, &device, now))
    }

    fn add_device<'a>(
        &'a self,
        device: &'a NewDevice,
        now: Timestamp,
    ) -> DbFuture<'a, DeviceRecord> {
        let device = device.clone();
        self.with_conn(move |conn| {
            let tx = begin(conn)?;
            let record = insert_device(&tx, &device, now)?;
            tx.commit().or_failed()?;
            Ok(record)
        })
    }

    fn rotate_device_token<'a>(
        &'a self,
        device: DeviceId,
        token: &'a SecretHash,
    ) -> DbFuture<'a, bool> {
        let token = token.0.clone();
        self.with_conn(move |conn| {
            let changed = conn
                .execute(
                    "UPDATE devices SET token_hash = ?2 WHERE device_id = ?1 AND revoked_at IS NULL",
                    params![device.to_string(), token],
                )
                .or_failed()?;
            Ok(changed > 0)
        })
    }

    fn first_organisation<'a>(
        &'a self,
        first: &'a OrganisationRecord,
    ) -> DbFuture<'a, (OrganisationRecord, bool)> {
        let first = first.clone();
        self.with_conn(move |conn| accounts::first_organisation(conn, &first))
    }

    fn create_organisation<'a>(&'a self, organisation: &'a OrganisationRecord) -> DbFuture<'a, ()> {
        let organisation = organisation.clone();
        self.with_conn(move |conn| accounts::create_organisation(conn, &organisation))
    }

    fn organisation(
        &self,
        organisation: OrganisationId,
    ) -> DbFuture<'_, Option<OrganisationRecord>> {
        self.with_conn(move |conn| accounts::organisation(conn, organisation))
    }

    fn create_enrolment<'a>(
        &'a self,
        enrolment: &'a NewEnrolment,
        now: Timestamp,
    ) -> DbFuture<'a, EnrolmentRecord> {
        let enrolment = enrolment.clone();
        self.with_conn(move |conn| accounts::create_enrolment(conn, &enrolment, now))
    }

    fn enrolment_by_code<'a>(
        &'a self,
        code: &'a SecretHash,
    ) -> DbFuture<'a, Option<EnrolmentRecord>> {
        let code = code.0.clone();
        self.with_conn(move |conn| accounts::enrolment_by_code(conn, &code))
    }

    fn enrolments(&self, organisation: OrganisationId) -> DbFuture<'_, Vec<EnrolmentRecord>> {
        self.with_conn(move |conn| accounts::enrolments(conn, organisation))
    }

    fn revoke_enrolment(
        &self,
        organisation: OrganisationId,
        enrolment: EnrolmentId,
        now: Timestamp,
    ) -> DbFuture<'_, bool> {
        self.with_conn(move |conn| {
            revoke_blocking(
                conn,
                "SELECT EXISTS (SELECT 1 FROM enrolments
                                WHERE organisation_id = ?1 AND enrolment_id = ?2)",
                "UPDATE enrolments SET revoked_at = ?3
                 WHERE organisation_id = ?1 AND enrolment_id = ?2
                   AND revoked_at IS NULL AND used_at IS NULL",
                organisation.to_string(),
                enrolment.to_string(),
                now,
            )
        })
    }

    fn use_enrolment<'a>(
        &'a self,
        enrolment: EnrolmentId,
        enrolling: &'a Enrolling,
        now: Timestamp,
    ) -> DbFuture<'a, EnrolmentOutcome> {
        let enrolling = enrolling.clone();
        self.with_conn(move |conn| accounts::use_enrolment(conn, enrolment, &enrolling, now))
    }

    fn account(&self, account: AccountId) -> DbFuture<'_, Option<AccountRecord>> {
        self.with_conn(move |conn| accounts::account(conn, account))
    }

    fn accounts(&self, organisation: OrganisationId) -> DbFuture<'_, Vec<AccountRecord>> {
        self.with_conn(move |conn| accounts::accounts(conn, organisation))
    }

    fn deactivate_account(
        &self,
        account: AccountId,
        now: Timestamp,
    ) -> DbFuture<'_, Vec<(PlanId, DeviceId)>> {
        self.with_conn(move |conn| accounts::deactivate_account(conn, account, now))
    }

    fn passkey<'a>(&'a self, credential: &'a str) -> DbFuture<'a, Option<PasskeyRecord>> {
        let credential = credential.to_owned();
        self.with_conn(move |conn| accounts::passkey(conn, &credential))
    }

    fn update_passkey<'a>(
        &'a self,
        credential: &'a str,
        passkey: &'a str,
        now: Timestamp,
    ) -> DbFuture<'a, ()> {
        let (credential, passkey) = (credential.to_owned(), passkey.to_owned());
        self.with_conn(move |conn| accounts::update_passkey(conn, &credential, &passkey, now))
    }

    fn put_ceremony<'a>(
        &'a self,
        ceremony: CeremonyId,
        state: &'a str,
        expires_at: Timestamp,
    ) -> DbFuture<'a, ()> {
        let state = state.to_owned();
        self.with_conn(move |conn| accounts::put_ceremony(conn, ceremony, &state, expires_at))
    }

    fn take_ceremony(&self, ceremony: CeremonyId, now: Timestamp) -> DbFuture<'_, Option<String>> {
        self.with_conn(move |conn| accounts::take_ceremony(conn, ceremony, now))
    }

    fn create_session<'a>(
        &'a self,
        session: &'a NewSession,
        now: Timestamp,
    ) -> DbFuture<'a, SessionRecord> {
        let session = session.clone();
        self.with_conn(move |conn| accounts::create_session(conn, &session, now))
    }

    fn session_by_token<'a>(
        &'a self,
        token: &'a SecretHash,
        now: Timestamp,
    ) -> DbFuture<'a, Option<SessionRecord>> {
        let token = token.0.clone();
        self.with_conn(move |conn| accounts::session_by_token(conn, &token, now))
    }

    fn revoke_session(&self, session: SessionId, now: Timestamp) -> DbFuture<'_, bool> {
        self.with_conn(move |conn| accounts::revoke_session(conn, session, now))
    }

    fn memberships(&self, account: AccountId) -> DbFuture<'_, Vec<MembershipRecord>> {
        self.with_conn(move |conn| accounts::memberships(conn, account))
    }

    fn plan_organisation(&self, plan: PlanId) -> DbFuture<'_, Option<OrganisationId>> {
        self.with_conn(move |conn| accounts::plan_organisation(conn, plan))
    }

    fn organisation_plans(
        &self,
        organisation: OrganisationId,
    ) -> DbFuture<'_, Vec<OrganisationPlan>> {
        self.with_conn(move |conn| accounts::organisation_plans(conn, organisation))
    }

    fn log_access<'a>(&'a self, entries: &'a [AccessEntry]) -> DbFuture<'a, ()> {
        let entries = entries.to_vec();
        self.with_conn(move |conn| accounts::log_access(conn, &entries))
    }

    fn access_log(
        &self,
        organisation: OrganisationId,
        before: Option<Timestamp>,
        limit: u32,
    ) -> DbFuture<'_, Vec<AccessEntry>> {
        self.with_conn(move |conn| accounts::access_log(conn, organisation, before, limit))
    }
}
