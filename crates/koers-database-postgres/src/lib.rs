//! Koers on PostgreSQL: [`PostgresDatabase`] implements [`koers_database::Database`] with sqlx,
//! and [`PostgresBus`] carries [`Notice`](koers_database::Notice)s between server instances with
//! `LISTEN/NOTIFY`.
//!
//! * The schema is the numbered `.sql` files in `migrations/`, embedded with `sqlx::migrate!` and
//!   run by sqlx's migrator on every [`PostgresDatabase::connect`]. The migrator holds a
//!   PostgreSQL advisory lock while it works, so instances starting together apply each
//!   migration once.
//! * Sequence numbers are per plan: `plans.head` is the seq of the plan's newest operation. An
//!   append locks the plan's row (`SELECT … FOR UPDATE`), checks the head it was authorized
//!   against, inserts its ops numbered head + 1, … and moves the head on, in one transaction.
//! * Errors are mapped in one place ([`map_error`]): a database that cannot be reached now is
//!   [`DatabaseError::Unavailable`] (the server answers 503); the pool reconnects by itself when
//!   PostgreSQL is back.

mod accounts;
mod bus;
#[cfg(feature = "testing")]
pub mod testing;

use std::borrow::Cow;
use std::collections::{HashMap, HashSet};
use std::str::FromStr as _;
use std::time::Duration;

use koers_database::{
    parse_role, same_body, AcceptOutcome, AccessEntry, AccountId, AccountRecord, Append, Appended,
    CeremonyId, Database, DatabaseError, DbFuture, DeviceId, DeviceRecord, Enrolling, EnrolmentId,
    EnrolmentOutcome, EnrolmentRecord, InviteId, InviteRecord, MemberId, MembershipRecord,
    NewDevice, NewEnrolment, NewInvite, NewOp, NewSession, OpId, OpsPage, OrganisationId,
    OrganisationPlan, OrganisationRecord, PasskeyRecord, PlanId, PlanOwner, SecretHash, Seq,
    SessionId, SessionRecord, StoredOp, Timestamp,
};
use sqlx::migrate::{MigrateError, Migrator};
use sqlx::postgres::{PgConnectOptions, PgConnection, PgPool, PgPoolOptions, PgRow};
use sqlx::Row as _;
use uuid::Uuid;

pub use bus::PostgresBus;

/// The migrations in `migrations/<version>_<description>.sql`, embedded at build time (build.rs
/// has Cargo rebuild the crate when a file is added there). The checksums are those the earlier
/// hand-embedded list gave, so databases it migrated are found up to date.
const MIGRATOR: &Migrator = &sqlx::migrate!("./migrations");

/// The newest schema version this build creates and understands: the highest migration version.
pub const SCHEMA_VERSION: i64 = {
    let Cow::Borrowed(migrations) = &MIGRATOR.migrations else {
        panic!("sqlx::migrate! embeds a borrowed list");
    };
    let mut newest = 0;
    let mut i = 0;
    while i < migrations.len() {
        if migrations[i].version > newest {
            newest = migrations[i].version;
        }
        i += 1;
    }
    newest
};

/// How the connection pool is sized and how long it waits.
#[derive(Debug, Clone)]
pub struct PoolConfig {
    /// Connections the pool may hold at once (each server instance holds its own pool: keep
    /// instances × this under PostgreSQL's `max_connections`).
    pub max_connections: u32,
    /// Connections kept open while idle.
    pub min_connections: u32,
    /// How long a query waits for a connection (including connecting) before it fails with
    /// [`DatabaseError::Unavailable`]: short, so that a dead database answers 503 quickly.
    pub acquire_timeout: Duration,
    /// An idle connection above `min_connections` is closed after this long.
    pub idle_timeout: Option<Duration>,
    /// Connections are replaced after this long (a failover or a configuration change reaches
    /// every connection eventually).
    pub max_lifetime: Option<Duration>,
    /// Shown in `pg_stat_activity`.
    pub application_name: String,
}

impl Default for PoolConfig {
    fn default() -> Self {
        PoolConfig {
            max_connections: 10,
            min_connections: 0,
            acquire_timeout: Duration::from_secs(3),
            idle_timeout: Some(Duration::from_secs(10 * 60)),
            max_lifetime: Some(Duration::from_secs(30 * 60)),
            application_name: "koers".to_owned(),
        }
    }
}

/// The Koers database on PostgreSQL: a connection pool. Cloning shares the pool.
#[derive(Debug, Clone)]
pub struct PostgresDatabase {
    pool: PgPool,
}

impl PostgresDatabase {
    /// Connects with the default [`PoolConfig`] and migrates the schema. `url` is a
    /// `postgres://user:password@host:port/database` URL (libpq's parameters, e.g.
    /// `?host=/run/postgresql` for a unix socket).
    pub async fn connect(url: &str) -> Result<Self, DatabaseError> {
        Self::connect_with(url, PoolConfig::default()).await
    }

    /// Connects with `config` and migrates the schema ([`DatabaseError::SchemaTooNew`] if the
    /// database was migrated by a newer Koers). Fails with [`DatabaseError::Unavailable`] if
    /// PostgreSQL cannot be reached within `config.acquire_timeout`.
    pub async fn connect_with(url: &str, config: PoolConfig) -> Result<Self, DatabaseError> {
        if config.max_connections == 0 {
            return Err(DatabaseError::Failed(
                "the pool needs max_connections of at least 1".to_owned(),
            ));
        }
        let options = PgConnectOptions::from_str(url)
            .map_err(|err| DatabaseError::Failed(format!("database URL: {err}")))?
            .application_name(&config.application_name);
        migrate(&options, config.acquire_timeout).await?;
        let pool = PgPoolOptions::new()
            .max_connections(config.max_connections)
            .min_connections(config.min_connections)
            .acquire_timeout(config.acquire_timeout)
            .idle_timeout(config.idle_timeout)
            .max_lifetime(config.max_lifetime)
            // A connection that died while idle (PostgreSQL restarted) is found out and replaced
            // before it is handed out, so a restart costs no failed request once it is back.
            .test_before_acquire(true)
            .connect_with(options)
            .await
            .map_err(map_error)?;
        Ok(PostgresDatabase { pool })
    }

    /// The pool (for the bus, and for tests that look underneath).
    pub fn pool(&self) -> &PgPool {
        &self.pool
    }

    /// Closes every connection; queries after this fail with [`DatabaseError::Unavailable`].
    pub async fn close(&self) {
        self.pool.close().await;
    }
}

/// Runs the migrations on a connection of its own. sqlx's migrator takes a session advisory
/// lock (`pg_advisory_lock`) first, so instances starting together wait for each other and each
/// migration runs once. The connection is closed afterwards, whatever happened: a migrator that
/// fails half way does not release its lock, and a pooled connection would keep it.
///
/// The connection comes from a pool of one made for this and closed here. `Migrator::run` also
/// takes a `&mut PgConnection`, but that future is not `Send` for every lifetime ("implementation
/// of `Acquire` is not general enough", launchbadge/sqlx#2016), and [`PostgresDatabase::connect`]
/// is awaited inside spawned tasks. Like the main pool, it keeps trying to connect while
/// PostgreSQL refuses or is starting up, for at most `timeout`.
async fn migrate(options: &PgConnectOptions, timeout: Duration) -> Result<(), DatabaseError> {
    let pool = PgPoolOptions::new()
        .max_connections(1)
        .min_connections(0)
        .acquire_timeout(timeout)
        .idle_timeout(None)
        .max_lifetime(None)
        .connect_lazy_with(options.clone());
    let result = MIGRATOR.run(&pool).await;
    // Waits for the connection to come back from the migrator, then closes it.
    pool.close().await;
    result.map_err(|err| match err {
        MigrateError::Execute(sqlx::Error::PoolTimedOut) => {
            DatabaseError::Unavailable(format!("no connection within {timeout:?} to migrate"))
        }
        err => map_migrate_error(err),
    })
}

/// The one place where sqlx's errors become [`DatabaseError`]s: connection trouble (I/O errors,
/// no connection from the pool in time, a closed pool, SQLSTATE class 08, a server shutting down,
/// starting up or out of connections) is [`DatabaseError::Unavailable`]; values that do not
/// decode are [`DatabaseError::Unreadable`]; anything else is [`DatabaseError::Failed`].
pub fn map_error(err: sqlx::Error) -> DatabaseError {
    match &err {
        sqlx::Error::Io(_)
        | sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::WorkerCrashed => DatabaseError::Unavailable(err.to_string()),
        sqlx::Error::Database(db) if db.code().as_deref().is_some_and(is_unavailable_code) => {
            DatabaseError::Unavailable(err.to_string())
        }
        sqlx::Error::ColumnDecode { .. } | sqlx::Error::Decode(_) => {
            DatabaseError::Unreadable(err.to_string())
        }
        _ => DatabaseError::Failed(err.to_string()),
    }
}

/// True for the SQLSTATEs that mean "cannot be reached now, try again shortly": class 08
/// (connection exception), 57P01 admin_shutdown, 57P02 crash_shutdown, 57P03 cannot_connect_now
/// and 53300 too_many_connections.
pub fn is_unavailable_code(code: &str) -> bool {
    code.starts_with("08") || matches!(code, "57P01" | "57P02" | "57P03" | "53300")
}

fn map_migrate_error(err: MigrateError) -> DatabaseError {
    match err {
        // A version this build does not have was applied: a newer Koers migrated this database.
        MigrateError::VersionMissing(found) => DatabaseError::SchemaTooNew {
            found,
            supported: SCHEMA_VERSION,
        },
        MigrateError::Execute(err) => map_error(err),
        MigrateError::ExecuteMigration(err, version) => match map_error(err) {
            DatabaseError::Unavailable(msg) => {
                DatabaseError::Unavailable(format!("migration {version}: {msg}"))
            }
            other => DatabaseError::Failed(format!("migration {version}: {other}")),
        },
        other => DatabaseError::Failed(format!("migrations: {other}")),
    }
}

/// `.db()?` on sqlx results.
trait MapDb<T> {
    fn db(self) -> Result<T, DatabaseError>;
}

impl<T> MapDb<T> for Result<T, sqlx::Error> {
    fn db(self) -> Result<T, DatabaseError> {
        self.map_err(map_error)
    }
}

/// The columns [`device_row`] reads, in its order. A macro rather than a `const` so that queries
/// are put together with `concat!` into the `&'static str` sqlx takes as safe SQL.
macro_rules! device_columns {
    () => {
        "device_id, plan_id, member_id, role, name, created_at, last_seen_at, revoked_at, \
         account_id"
    };
}

fn device_row(row: &PgRow) -> Result<DeviceRecord, DatabaseError> {
    let account: Option<Uuid> = row.try_get(8).db()?;
    Ok(DeviceRecord {
        device: DeviceId(row.try_get(0).db()?),
        plan: PlanId(row.try_get(1).db()?),
        member: MemberId(row.try_get(2).db()?),
        role: parse_role(row.try_get(3).db()?)?,
        name: row.try_get(4).db()?,
        account: account.map(AccountId),
        created_at: row.try_get(5).db()?,
        last_seen_at: row.try_get(6).db()?,
        revoked_at: row.try_get(7).db()?,
    })
}

/// The columns [`invite_row`] reads, in its order (a macro, as `device_columns!`).
macro_rules! invite_columns {
    () => {
        "invite_id, plan_id, member_id, role, created_by, created_at, expires_at, used_at, \
         revoked_at"
    };
}

fn invite_row(row: &PgRow) -> Result<InviteRecord, DatabaseError> {
    Ok(InviteRecord {
        invite: InviteId(row.try_get(0).db()?),
        plan: PlanId(row.try_get(1).db()?),
        member: MemberId(row.try_get(2).db()?),
        role: parse_role(row.try_get(3).db()?)?,
        created_by: MemberId(row.try_get(4).db()?),
        created_at: row.try_get(5).db()?,
        expires_at: row.try_get(6).db()?,
        used_at: row.try_get(7).db()?,
        revoked_at: row.try_get(8).db()?,
    })
}

/// Stores `ops` on top of `head` inside an open transaction that holds the plan's lock (or has
/// just created the plan): re-sent ops keep their seq, new ones are numbered head + 1, … and
/// inserted in one statement. Returns the seqs in the order given and the new head. On an error
/// the caller drops the transaction, which rolls the whole batch back.
async fn append_in(
    conn: &mut PgConnection,
    plan: PlanId,
    head: Seq,
    ops: &[NewOp],
    now: Timestamp,
) -> Result<(Vec<Seq>, Seq), DatabaseError> {
    if ops.is_empty() {
        return Ok((Vec::new(), head));
    }
    let ids: Vec<Uuid> = ops.iter().map(|op| op.id.0).collect();
    // Ops already stored anywhere under these ids. A concurrent append to this plan cannot add
    // any (it waits for our lock); one to another plan can, and is caught at the insert below.
    let rows = sqlx::query("SELECT op_id, plan_id, seq, body FROM ops WHERE op_id = ANY($1)")
        .bind(&ids)
        .fetch_all(&mut *conn)
        .await
        .db()?;
    let mut stored: HashMap<Uuid, (Uuid, Seq, String)> = HashMap::with_capacity(rows.len());
    for row in rows {
        stored.insert(
            row.try_get(0).db()?,
            (
                row.try_get(1).db()?,
                row.try_get(2).db()?,
                row.try_get(3).db()?,
            ),
        );
    }

    let mut seqs = Vec::with_capacity(ops.len());
    let mut in_batch: HashMap<Uuid, (Seq, &str)> = HashMap::new();
    let (mut new_seqs, mut new_ids, mut authors, mut bodies) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    let mut next = head;
    for op in ops {
        if let Some((owner, seq, body)) = stored.get(&op.id.0) {
            if *owner != plan.0 {
                return Err(DatabaseError::OpIdConflict { op_id: op.id });
            }
            // A re-send is acknowledged only if it says what was stored: acknowledging other
            // content would tell its sender that an edit is kept which is not.
            if !same_body(body, &op.body) {
                return Err(DatabaseError::OpIdReused { op_id: op.id });
            }
            seqs.push(*seq);
        } else if let Some((seq, body)) = in_batch.get(&op.id.0) {
            if !same_body(body, &op.body) {
                return Err(DatabaseError::OpIdReused { op_id: op.id });
            }
            seqs.push(*seq);
        } else {
            next += 1;
            in_batch.insert(op.id.0, (next, &op.body));
            new_seqs.push(next);
            new_ids.push(op.id.0);
            authors.push(op.author.0);
            bodies.push(op.body.as_str());
            seqs.push(next);
        }
    }

    if !new_ids.is_empty() {
        // One statement for the whole batch (a push can hold a thousand ops). An op id that
        // another plan's transaction inserted meanwhile is skipped by ON CONFLICT (after that
        // transaction committed) rather than failing with a bare unique violation.
        let inserted: Vec<Uuid> = sqlx::query_scalar(
            "INSERT INTO ops (plan_id, seq, op_id, author, body, received_at)
             SELECT $1, batch.seq, batch.op_id, batch.author, batch.body, $6
             FROM UNNEST($2::bigint[], $3::uuid[], $4::uuid[], $5::text[])
                  AS batch (seq, op_id, author, body)
             ON CONFLICT (op_id) DO NOTHING
             RETURNING op_id",
        )
        .bind(plan.0)
        .bind(&new_seqs)
        .bind(&new_ids)
        .bind(&authors)
        .bind(&bodies)
        .bind(now)
        .fetch_all(&mut *conn)
        .await
        .db()?;
        if inserted.len() != new_ids.len() {
            let inserted: HashSet<Uuid> = inserted.into_iter().collect();
            let taken = new_ids
                .iter()
                .find(|id| !inserted.contains(id))
                .copied()
                .unwrap_or_default();
            return Err(DatabaseError::OpIdConflict { op_id: OpId(taken) });
        }
        sqlx::query("UPDATE plans SET head = $2 WHERE plan_id = $1")
            .bind(plan.0)
            .bind(next)
            .execute(&mut *conn)
            .await
            .db()?;
    }
    Ok((seqs, next))
}

async fn insert_device(
    conn: &mut PgConnection,
    device: &NewDevice,
    plan: PlanId,
    member: MemberId,
    role: koers_database::Role,
    now: Timestamp,
) -> Result<DeviceRecord, DatabaseError> {
    sqlx::query(
        "INSERT INTO devices
             (device_id, plan_id, member_id, role, token_hash, name, created_at, account_id)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(device.device.0)
    .bind(plan.0)
    .bind(member.0)
    .bind(role.key())
    .bind(&device.token.0)
    .bind(&device.name)
    .bind(now)
    .bind(device.account.map(|a| a.0))
    .execute(&mut *conn)
    .await
    .db()?;
    Ok(DeviceRecord {
        device: device.device,
        plan,
        member,
        role,
        name: device.name.clone(),
        account: device.account,
        created_at: now,
        last_seen_at: None,
        revoked_at: None,
    })
}

impl Database for PostgresDatabase {
    fn health(&self) -> DbFuture<'_, ()> {
        Box::pin(async move {
            sqlx::query("SELECT 1").execute(&self.pool).await.db()?;
            Ok(())
        })
    }

    /// The founder's device is registered in `plan` (whatever `founder.plan` says).
    fn create_plan<'a>(
        &'a self,
        plan: PlanId,
        ops: &'a [NewOp],
        founder: &'a NewDevice,
        owner: Option<PlanOwner>,
        now: Timestamp,
    ) -> DbFuture<'a, Vec<Seq>> {
        Box::pin(async move {
            let mut tx = self.pool.begin().await.db()?;
            // A concurrent founding of the same plan waits here for the other to finish, and
            // then finds the plan.
            let created = sqlx::query(
                "INSERT INTO plans (plan_id, head, created_at, organisation_id)
                 VALUES ($1, 0, $2, $3)
                 ON CONFLICT (plan_id) DO NOTHING",
            )
            .bind(plan.0)
            .bind(now)
            .bind(owner.map(|o| o.organisation.0))
            .execute(&mut *tx)
            .await
            .db()?;
            if created.rows_affected() == 0 {
                return Err(DatabaseError::PlanExists { plan });
            }
            let (seqs, _) = append_in(&mut tx, plan, 0, ops, now).await?;
            insert_device(&mut tx, founder, plan, founder.member, founder.role, now).await?;
            if let Some(owner) = owner {
                accounts::join_plan(
                    &mut tx,
                    owner.account,
                    plan,
                    founder.member,
                    founder.role,
                    now,
                )
                .await?;
            }
            tx.commit().await.db()?;
            Ok(seqs)
        })
    }

    fn plan_exists(&self, plan: PlanId) -> DbFuture<'_, bool> {
        Box::pin(async move {
            sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM plans WHERE plan_id = $1)")
                .bind(plan.0)
                .fetch_one(&self.pool)
                .await
                .db()
        })
    }

    fn append_ops<'a>(&'a self, append: Append<'a>) -> DbFuture<'a, Appended> {
        Box::pin(async move {
            let plan = append.plan;
            let mut tx = self.pool.begin().await.db()?;
            // The plan's lock: appends to one plan (from any instance) take turns from here to
            // the commit, so each sees the head the previous one left.
            let head: Option<Seq> =
                sqlx::query_scalar("SELECT head FROM plans WHERE plan_id = $1 FOR UPDATE")
                    .bind(plan.0)
                    .fetch_optional(&mut *tx)
                    .await
                    .db()?;
            let Some(head) = head else {
                return Err(DatabaseError::PlanUnknown { plan });
            };
            if head != append.after_head {
                tx.rollback().await.db()?;
                return Err(DatabaseError::HeadMoved {
                    plan,
                    expected: append.after_head,
                    head,
                });
            }
            let (seqs, head) = append_in(&mut tx, plan, head, append.ops, append.now).await?;

            let mut revoked_devices = Vec::new();
            if !append.shut_out.is_empty() {
                let members: Vec<Uuid> = append.shut_out.iter().map(|m| m.0).collect();
                // Invites first: an acceptance of one of them running now holds its row (FOR
                // UPDATE), so this waits for it; the devices' update, a statement that starts
                // after, then sees the phone that acceptance registered and revokes it too.
                sqlx::query(
                    "UPDATE invites SET revoked_at = $3
                     WHERE plan_id = $1 AND member_id = ANY($2)
                       AND revoked_at IS NULL AND used_at IS NULL",
                )
                .bind(plan.0)
                .bind(&members)
                .bind(append.now)
                .execute(&mut *tx)
                .await
                .db()?;
                // RETURNING names only the rows really changed, so a stream is told to end only
                // for a device revoked here.
                let revoked: Vec<Uuid> = sqlx::query_scalar(
                    "UPDATE devices SET revoked_at = $3
                     WHERE plan_id = $1 AND member_id = ANY($2) AND revoked_at IS NULL
                     RETURNING device_id",
                )
                .bind(plan.0)
                .bind(&members)
                .bind(append.now)
                .fetch_all(&mut *tx)
                .await
                .db()?;
                revoked_devices = revoked.into_iter().map(DeviceId).collect();
            }
            accounts::apply_memberships(&mut tx, plan, append.memberships, append.now).await?;
            if let Some(entry) = append.access {
                accounts::log_access(&mut tx, std::slice::from_ref(entry)).await?;
            }
            tx.commit().await.db()?;
            Ok(Appended {
                seqs,
                head,
                revoked_devices,
            })
        })
    }

    fn ops_page(&self, plan: PlanId, after: Seq, limit: u32) -> DbFuture<'_, OpsPage> {
        Box::pin(async move {
            // One statement reads one snapshot: the page and the head are of the same moment
            // (a commit in between is in both or in neither). No row: the plan does not exist.
            let rows = sqlx::query(
                "SELECT plans.head, page.seq, page.body, page.received_at
                 FROM plans
                 LEFT JOIN LATERAL (
                     SELECT seq, body, received_at FROM ops
                     WHERE ops.plan_id = plans.plan_id AND ops.seq > $2
                     ORDER BY seq
                     LIMIT $3
                 ) AS page ON true
                 WHERE plans.plan_id = $1
                 ORDER BY page.seq",
            )
            .bind(plan.0)
            .bind(after)
            .bind(i64::from(limit))
            .fetch_all(&self.pool)
            .await
            .db()?;
            let mut page = OpsPage::default();
            for row in rows {
                page.head = row.try_get(0).db()?;
                let seq: Option<Seq> = row.try_get(1).db()?;
                if let Some(seq) = seq {
                    page.ops.push(StoredOp {
                        seq,
                        body: row.try_get(2).db()?,
                        received_at: row.try_get(3).db()?,
                    });
                }
            }
            Ok(page)
        })
    }

    fn head(&self, plan: PlanId) -> DbFuture<'_, Seq> {
        Box::pin(async move {
            let head: Option<Seq> = sqlx::query_scalar("SELECT head FROM plans WHERE plan_id = $1")
                .bind(plan.0)
                .fetch_optional(&self.pool)
                .await
                .db()?;
            Ok(head.unwrap_or(0))
        })
    }

    fn op_bodies<'a>(&'a self, plan: PlanId, ops: &'a [OpId]) -> DbFuture<'a, Vec<(OpId, String)>> {
        Box::pin(async move {
            let ids: Vec<Uuid> = ops.iter().map(|op| op.0).collect();
            let rows =
                sqlx::query("SELECT op_id, body FROM ops WHERE plan_id = $1 AND op_id = ANY($2)")
                    .bind(plan.0)
                    .bind(&ids)
                    .fetch_all(&self.pool)
                    .await
                    .db()?;
            rows.iter()
                .map(|row| Ok((OpId(row.try_get(0).db()?), row.try_get(1).db()?)))
                .collect()
        })
    }

    fn ops_per_author_since(
        &self,
        plan: PlanId,
        since: Timestamp,
    ) -> DbFuture<'_, Vec<(MemberId, u32)>> {
        Box::pin(async move {
            let rows = sqlx::query(
                "SELECT author, count(*) FROM ops
                 WHERE plan_id = $1 AND received_at >= $2
                 GROUP BY author",
            )
            .bind(plan.0)
            .bind(since)
            .fetch_all(&self.pool)
            .await
            .db()?;
            rows.iter()
                .map(|row| {
                    let count: i64 = row.try_get(1).db()?;
                    Ok((
                        MemberId(row.try_get(0).db()?),
                        u32::try_from(count).unwrap_or(u32::MAX),
                    ))
                })
                .collect()
        })
    }

    fn device_by_token<'a>(
        &'a self,
        token: &'a SecretHash,
        now: Timestamp,
    ) -> DbFuture<'a, Option<DeviceRecord>> {
        Box::pin(async move {
            // One statement: the device as it was, and its last use moved to `now` when that was
            // more than a minute ago (at most one write a minute per device). A revoked device is
            // never touched, also when the revocation commits while this waits for the row.
            let row = sqlx::query(
                "WITH found AS (
                     SELECT device_id, plan_id, member_id, role, name, created_at, last_seen_at,
                            revoked_at, account_id
                     FROM devices WHERE token_hash = $1
                 ), touched AS (
                     UPDATE devices SET last_seen_at = $2
                     WHERE token_hash = $1 AND revoked_at IS NULL
                       AND (last_seen_at IS NULL OR last_seen_at < $2 - interval '1 minute')
                     RETURNING device_id, last_seen_at
                 )
                 SELECT found.device_id, found.plan_id, found.member_id, found.role, found.name,
                        found.created_at, coalesce(touched.last_seen_at, found.last_seen_at),
                        found.revoked_at, found.account_id
                 FROM found LEFT JOIN touched USING (device_id)",
            )
            .bind(&token.0)
            .bind(now)
            .fetch_optional(&self.pool)
            .await
            .db()?;
            row.as_ref().map(device_row).transpose()
        })
    }

    fn devices(&self, plan: PlanId) -> DbFuture<'_, Vec<DeviceRecord>> {
        Box::pin(async move {
            let rows = sqlx::query(concat!(
                "SELECT ",
                device_columns!(),
                " FROM devices WHERE plan_id = $1 ORDER BY created_at, device_id"
            ))
            .bind(plan.0)
            .fetch_all(&self.pool)
            .await
            .db()?;
            rows.iter().map(device_row).collect()
        })
    }

    fn revoke_device(&self, plan: PlanId, device: DeviceId, now: Timestamp) -> DbFuture<'_, bool> {
        Box::pin(async move {
            // The first revocation counts; a second one finds the device and changes nothing.
            let done = sqlx::query(
                "UPDATE devices SET revoked_at = coalesce(revoked_at, $3)
                 WHERE plan_id = $1 AND device_id = $2",
            )
            .bind(plan.0)
            .bind(device.0)
            .bind(now)
            .execute(&self.pool)
            .await
            .db()?;
            Ok(done.rows_affected() > 0)
        })
    }

    fn create_invite<'a>(
        &'a self,
        invite: &'a NewInvite,
        now: Timestamp,
    ) -> DbFuture<'a, InviteRecord> {
        Box::pin(async move {
            sqlx::query(
                "INSERT INTO invites
                     (invite_id, code_hash, plan_id, member_id, role, created_by, created_at,
                      expires_at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
            )
            .bind(invite.invite.0)
            .bind(&invite.code.0)
            .bind(invite.plan.0)
            .bind(invite.member.0)
            .bind(invite.role.key())
            .bind(invite.created_by.0)
            .bind(now)
            .bind(invite.expires_at)
            .execute(&self.pool)
            .await
            .db()?;
            Ok(InviteRecord {
                invite: invite.invite,
                plan: invite.plan,
                member: invite.member,
                role: invite.role,
                created_by: invite.created_by,
                created_at: now,
                expires_at: invite.expires_at,
                used_at: None,
                revoked_at: None,
            })
        })
    }

    fn invites(&self, plan: PlanId) -> DbFuture<'_, Vec<InviteRecord>> {
        Box::pin(async move {
            let rows = sqlx::query(concat!(
                "SELECT ",
                invite_columns!(),
                " FROM invites WHERE plan_id = $1 ORDER BY created_at, invite_id"
            ))
            .bind(plan.0)
            .fetch_all(&self.pool)
            .await
            .db()?;
            rows.iter().map(invite_row).collect()
        })
    }

    fn revoke_invite(&self, plan: PlanId, invite: InviteId, now: Timestamp) -> DbFuture<'_, bool> {
        Box::pin(async move {
            // Only an open invite is revoked (a used one stays used), but either is found.
            let done = sqlx::query(
                "UPDATE invites
                 SET revoked_at = CASE WHEN revoked_at IS NULL AND used_at IS NULL THEN $3
                                       ELSE revoked_at END
                 WHERE plan_id = $1 AND invite_id = $2",
            )
            .bind(plan.0)
            .bind(invite.0)
            .bind(now)
            .execute(&self.pool)
            .await
            .db()?;
            Ok(done.rows_affected() > 0)
        })
    }

    fn invite_by_code<'a>(&'a self, code: &'a SecretHash) -> DbFuture<'a, Option<InviteRecord>> {
        Box::pin(async move {
            let row = sqlx::query(concat!(
                "SELECT ",
                invite_columns!(),
                " FROM invites WHERE code_hash = $1"
            ))
            .bind(&code.0)
            .fetch_optional(&self.pool)
            .await
            .db()?;
            row.as_ref().map(invite_row).transpose()
        })
    }

    fn accept_invite<'a>(
        &'a self,
        code: &'a SecretHash,
        device: &'a NewDevice,
        now: Timestamp,
    ) -> DbFuture<'a, AcceptOutcome> {
        Box::pin(async move {
            let mut tx = self.pool.begin().await.db()?;
            // FOR UPDATE: of two acceptances of one code, the second waits and then sees it used.
            let row = sqlx::query(concat!(
                "SELECT ",
                invite_columns!(),
                " FROM invites WHERE code_hash = $1 FOR UPDATE"
            ))
            .bind(&code.0)
            .fetch_optional(&mut *tx)
            .await
            .db()?;
            let Some(invite) = row.as_ref().map(invite_row).transpose()? else {
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
            let record = insert_device(
                &mut tx,
                device,
                invite.plan,
                invite.member,
                invite.role,
                now,
            )
            .await?;
            sqlx::query(
                "UPDATE invites SET used_at = $2, used_by_device = $3 WHERE invite_id = $1",
            )
            .bind(invite.invite.0)
            .bind(now)
            .bind(device.device.0)
            .execute(&mut *tx)
            .await
            .db()?;
            if let Some(account) = device.account {
                accounts::join_plan(
                    &mut tx,
                    account,
                    invite.plan,
                    invite.member,
                    invite.role,
                    now,
                )
                .await?;
            }
            tx.commit().await.db()?;
            Ok(AcceptOutcome::Accepted(record))
        })
    }

    fn add_device<'a>(
        &'a self,
        device: &'a NewDevice,
        now: Timestamp,
    ) -> DbFuture<'a, DeviceRecord> {
        Box::pin(async move {
            let mut conn = self.pool.acquire().await.db()?;
            insert_device(
                &mut conn,
                device,
                device.plan,
                device.member,
                device.role,
                now,
            )
            .await
        })
    }

    fn rotate_device_token<'a>(
        &'a self,
        device: DeviceId,
        token: &'a SecretHash,
    ) -> DbFuture<'a, bool> {
        Box::pin(async move {
            // A revocation committed meanwhile is seen (the update re-reads the row it waited
            // for), so a revoked device never gets a working token.
            let done = sqlx::query(
                "UPDATE devices SET token_hash = $2 WHERE device_id = $1 AND revoked_at IS NULL",
            )
            .bind(device.0)
            .bind(&token.0)
            .execute(&self.pool)
            .await
            .db()?;
            Ok(done.rows_affected() > 0)
        })
    }

    fn first_organisation<'a>(
        &'a self,
        first: &'a OrganisationRecord,
    ) -> DbFuture<'a, (OrganisationRecord, bool)> {
        Box::pin(accounts::first_organisation(&self.pool, first))
    }

    fn create_organisation<'a>(&'a self, organisation: &'a OrganisationRecord) -> DbFuture<'a, ()> {
        Box::pin(accounts::create_organisation(&self.pool, organisation))
    }

    fn organisation(
        &self,
        organisation: OrganisationId,
    ) -> DbFuture<'_, Option<OrganisationRecord>> {
        Box::pin(accounts::organisation(&self.pool, organisation))
    }

    fn create_enrolment<'a>(
        &'a self,
        enrolment: &'a NewEnrolment,
        now: Timestamp,
    ) -> DbFuture<'a, EnrolmentRecord> {
        Box::pin(accounts::create_enrolment(&self.pool, enrolment, now))
    }

    fn enrolment_by_code<'a>(
        &'a self,
        code: &'a SecretHash,
    ) -> DbFuture<'a, Option<EnrolmentRecord>> {
        Box::pin(accounts::enrolment_by_code(&self.pool, &code.0))
    }

    fn enrolments(&self, organisation: OrganisationId) -> DbFuture<'_, Vec<EnrolmentRecord>> {
        Box::pin(accounts::enrolments(&self.pool, organisation))
    }

    fn revoke_enrolment(
        &self,
        organisation: OrganisationId,
        enrolment: EnrolmentId,
        now: Timestamp,
    ) -> DbFuture<'_, bool> {
        Box::pin(accounts::revoke_enrolment(
            &self.pool,
            organisation,
            enrolment,
            now,
        ))
    }

    fn use_enrolment<'a>(
        &'a self,
        enrolment: EnrolmentId,
        enrolling: &'a Enrolling,
        now: Timestamp,
    ) -> DbFuture<'a, EnrolmentOutcome> {
        Box::pin(accounts::use_enrolment(
            &self.pool, enrolment, enrolling, now,
        ))
    }

    fn account(&self, account: AccountId) -> DbFuture<'_, Option<AccountRecord>> {
        Box::pin(accounts::account(&self.pool, account))
    }

    fn accounts(&self, organisation: OrganisationId) -> DbFuture<'_, Vec<AccountRecord>> {
        Box::pin(accounts::accounts(&self.pool, organisation))
    }

    fn deactivate_account(
        &self,
        account: AccountId,
        now: Timestamp,
    ) -> DbFuture<'_, Vec<(PlanId, DeviceId)>> {
        Box::pin(accounts::deactivate_account(&self.pool, account, now))
    }

    fn passkey<'a>(&'a self, credential: &'a str) -> DbFuture<'a, Option<PasskeyRecord>> {
        Box::pin(accounts::passkey(&self.pool, credential))
    }

    fn update_passkey<'a>(
        &'a self,
        credential: &'a str,
        passkey: &'a str,
        now: Timestamp,
    ) -> DbFuture<'a, ()> {
        Box::pin(accounts::update_passkey(
            &self.pool, credential, passkey, now,
        ))
    }

    fn put_ceremony<'a>(
        &'a self,
        ceremony: CeremonyId,
        state: &'a str,
        expires_at: Timestamp,
    ) -> DbFuture<'a, ()> {
        Box::pin(accounts::put_ceremony(
            &self.pool, ceremony, state, expires_at,
        ))
    }

    fn take_ceremony(&self, ceremony: CeremonyId, now: Timestamp) -> DbFuture<'_, Option<String>> {
        Box::pin(accounts::take_ceremony(&self.pool, ceremony, now))
    }

    fn create_session<'a>(
        &'a self,
        session: &'a NewSession,
        now: Timestamp,
    ) -> DbFuture<'a, SessionRecord> {
        Box::pin(accounts::create_session(&self.pool, session, now))
    }

    fn session_by_token<'a>(
        &'a self,
        token: &'a SecretHash,
        now: Timestamp,
    ) -> DbFuture<'a, Option<SessionRecord>> {
        Box::pin(accounts::session_by_token(&self.pool, &token.0, now))
    }

    fn revoke_session(&self, session: SessionId, now: Timestamp) -> DbFuture<'_, bool> {
        Box::pin(accounts::revoke_session(&self.pool, session, now))
    }

    fn memberships(&self, account: AccountId) -> DbFuture<'_, Vec<MembershipRecord>> {
        Box::pin(accounts::memberships(&self.pool, account))
    }

    fn plan_organisation(&self, plan: PlanId) -> DbFuture<'_, Option<OrganisationId>> {
        Box::pin(accounts::plan_organisation(&self.pool, plan))
    }

    fn organisation_plans(
        &self,
        organisation: OrganisationId,
    ) -> DbFuture<'_, Vec<OrganisationPlan>> {
        Box::pin(accounts::organisation_plans(&self.pool, organisation))
    }

    fn log_access<'a>(&'a self, entries: &'a [AccessEntry]) -> DbFuture<'a, ()> {
        Box::pin(async move {
            if entries.is_empty() {
                return Ok(());
            }
            let mut conn = self.pool.acquire().await.db()?;
            accounts::log_access(&mut conn, entries).await
        })
    }

    fn access_log(
        &self,
        organisation: OrganisationId,
        before: Option<Timestamp>,
        limit: u32,
    ) -> DbFuture<'_, Vec<AccessEntry>> {
        Box::pin(accounts::access_log(
            &self.pool,
            organisation,
            before,
            limit,
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_file_in_the_migrations_folder_is_embedded() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations");
        let mut files: Vec<i64> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|entry| {
                let name = entry.unwrap().file_name().into_string().unwrap();
                let stem = name.strip_suffix(".sql").expect("only .sql files");
                let (version, _) = stem.split_once('_').expect("<version>_<description>.sql");
                version.parse().expect("a numeric version")
            })
            .collect();
        files.sort_unstable();
        let embedded: Vec<i64> = MIGRATOR.iter().map(|m| m.version).collect();
        assert_eq!(
            embedded, files,
            "sqlx::migrate! left a file out, or build.rs is gone"
        );
        assert_eq!(SCHEMA_VERSION, *files.last().unwrap());
    }

    #[test]
    fn connection_trouble_is_unavailable_and_the_rest_failed() {
        for code in [
            "08000", "08006", "08001", "57P01", "57P02", "57P03", "53300",
        ] {
            assert!(is_unavailable_code(code), "{code}");
        }
        for code in ["23505", "40001", "40P01", "57014", "53100", "42P01"] {
            assert!(!is_unavailable_code(code), "{code}");
        }
        let refused = std::io::Error::from(std::io::ErrorKind::ConnectionRefused);
        for err in [
            sqlx::Error::Io(refused),
            sqlx::Error::PoolTimedOut,
            sqlx::Error::PoolClosed,
        ] {
            assert!(
                matches!(map_error(err), DatabaseError::Unavailable(_)),
                "unavailable"
            );
        }
        assert!(matches!(
            map_error(sqlx::Error::RowNotFound),
            DatabaseError::Failed(_)
        ));
        assert!(matches!(
            map_error(sqlx::Error::Decode("bad".into())),
            DatabaseError::Unreadable(_)
        ));
        assert_eq!(
            map_migrate_error(MigrateError::VersionMissing(7)),
            DatabaseError::SchemaTooNew {
                found: 7,
                supported: SCHEMA_VERSION
            }
        );
    }
}
