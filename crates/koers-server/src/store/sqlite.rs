//! The embedded SQLite store: one connection behind a mutex, used from `spawn_blocking`.

use std::path::Path;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use rusqlite::{params, Connection, TransactionBehavior};

use rusqlite::{OptionalExtension as _, Row, Transaction};

use super::{
    AcceptOutcome, Appended, DeviceRecord, InviteRecord, NewDevice, NewInvite, NewOp, OpsPage,
    Store, StoreError, StoreFuture, StoredOp,
};

/// The schema version this build creates and understands (`PRAGMA user_version`).
pub const SCHEMA_VERSION: i64 = 2;

/// SQLite implementation of [`Store`].
#[derive(Clone)]
pub struct SqliteStore {
    conn: Arc<Mutex<Connection>>,
}

impl std::fmt::Debug for SqliteStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteStore").finish_non_exhaustive()
    }
}

impl SqliteStore {
    /// Opens (or creates) the database file, switches it to WAL with `synchronous=FULL` and
    /// foreign keys on, and migrates the schema.
    pub fn open(path: &Path) -> Result<Self, StoreError> {
        let conn = Connection::open(path)?;
        let mode: String =
            conn.pragma_update_and_check(None, "journal_mode", "WAL", |row| row.get(0))?;
        if !mode.eq_ignore_ascii_case("wal") {
            return Err(StoreError::NoWal(mode));
        }
        Self::setup(conn)
    }

    /// A private in-memory database (tests, experiments).
    pub fn open_in_memory() -> Result<Self, StoreError> {
        Self::setup(Connection::open_in_memory()?)
    }

    fn setup(mut conn: Connection) -> Result<Self, StoreError> {
        conn.busy_timeout(Duration::from_secs(5))?;
        conn.pragma_update(None, "synchronous", "FULL")?;
        conn.pragma_update(None, "foreign_keys", "ON")?;
        migrate(&mut conn)?;
        Ok(Self {
            conn: Arc::new(Mutex::new(conn)),
        })
    }

    /// Runs `f` with the connection on tokio's blocking pool.
    fn with_conn<T, F>(&self, f: F) -> StoreFuture<'static, T>
    where
        T: Send + 'static,
        F: FnOnce(&mut Connection) -> Result<T, StoreError> + Send + 'static,
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
            .map_err(|e| StoreError::Task(e.to_string()))?
        })
    }
}

fn migrate(conn: &mut Connection) -> Result<(), StoreError> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let version: i64 = tx.query_row("PRAGMA user_version", [], |row| row.get(0))?;
    if version > SCHEMA_VERSION {
        return Err(StoreError::SchemaTooNew {
            found: version,
            supported: SCHEMA_VERSION,
        });
    }
    if version < 1 {
        tx.execute_batch(
            "CREATE TABLE IF NOT EXISTS ops (
                 seq INTEGER PRIMARY KEY AUTOINCREMENT,
                 plan_id TEXT NOT NULL,
                 op_id TEXT NOT NULL UNIQUE,
                 body TEXT NOT NULL,
                 received_at TEXT NOT NULL
             );
             CREATE INDEX IF NOT EXISTS ops_plan_seq ON ops (plan_id, seq);
             PRAGMA user_version = 1;",
        )?;
    }
    if version < 2 {
        // Plans, the devices that sync them and the invitations that register devices. Plans
        // that already have operations are recorded as created when their first op arrived.
        tx.execute_batch(
            "CREATE TABLE plans (
                 plan_id TEXT PRIMARY KEY,
                 created_at TEXT NOT NULL
             );
             INSERT OR IGNORE INTO plans (plan_id, created_at)
                 SELECT plan_id, min(received_at) FROM ops GROUP BY plan_id;
             CREATE TABLE devices (
                 device_id TEXT PRIMARY KEY,
                 plan_id TEXT NOT NULL REFERENCES plans (plan_id),
                 member_id TEXT NOT NULL,
                 role TEXT NOT NULL,
                 token_hash TEXT NOT NULL UNIQUE,
                 name TEXT NOT NULL,
                 created_at TEXT NOT NULL,
                 last_seen_at TEXT,
                 revoked_at TEXT
             );
             CREATE INDEX devices_plan ON devices (plan_id, created_at);
             CREATE TABLE invites (
                 invite_id TEXT PRIMARY KEY,
                 code_hash TEXT NOT NULL UNIQUE,
                 plan_id TEXT NOT NULL REFERENCES plans (plan_id),
                 member_id TEXT NOT NULL,
                 role TEXT NOT NULL,
                 created_by TEXT NOT NULL,
                 created_at TEXT NOT NULL,
                 expires_at TEXT NOT NULL,
                 used_at TEXT,
                 used_by_device TEXT,
                 revoked_at TEXT
             );
             CREATE INDEX invites_plan ON invites (plan_id, created_at);
             PRAGMA user_version = 2;",
        )?;
    }
    tx.commit()?;
    Ok(())
}

fn append_ops_blocking(
    conn: &mut Connection,
    plan_id: &str,
    ops: &[NewOp],
    shut_out: &[String],
    now: &str,
) -> Result<Appended, StoreError> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let seqs = append_in(&tx, plan_id, ops)?;
    let mut revoked_devices = Vec::new();
    {
        // RETURNING names only the rows really changed, so a stream is told to end only for a
        // device that was revoked here (the membership check covers any other).
        let mut devices = tx.prepare_cached(
            "UPDATE devices SET revoked_at = ?3
             WHERE plan_id = ?1 AND member_id = ?2 AND revoked_at IS NULL
             RETURNING device_id",
        )?;
        let mut invites = tx.prepare_cached(
            "UPDATE invites SET revoked_at = ?3
             WHERE plan_id = ?1 AND member_id = ?2 AND revoked_at IS NULL AND used_at IS NULL",
        )?;
        for member in shut_out {
            let ids = devices.query_map(params![plan_id, member, now], |row| row.get(0))?;
            for id in ids {
                revoked_devices.push(id?);
            }
            invites.execute(params![plan_id, member, now])?;
        }
    }
    tx.commit()?;
    Ok(Appended {
        seqs,
        revoked_devices,
    })
}

/// True if two stored bodies say the same: equal as parsed JSON (key order and spacing do not
/// matter), or as text when either is not JSON.
fn same_body(a: &str, b: &str) -> bool {
    match (
        serde_json::from_str::<serde_json::Value>(a),
        serde_json::from_str::<serde_json::Value>(b),
    ) {
        (Ok(a), Ok(b)) => a == b,
        _ => a == b,
    }
}

/// Appends `ops` inside an open transaction (see [`Store::append_ops`]).
fn append_in(tx: &Transaction<'_>, plan_id: &str, ops: &[NewOp]) -> Result<Vec<i64>, StoreError> {
    let mut seqs = Vec::with_capacity(ops.len());
    {
        let mut insert = tx.prepare_cached(
            "INSERT INTO ops (plan_id, op_id, body, received_at)
             VALUES (?1, ?2, ?3, strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
             ON CONFLICT (op_id) DO NOTHING",
        )?;
        let mut existing =
            tx.prepare_cached("SELECT seq, plan_id, body FROM ops WHERE op_id = ?1")?;
        for (op_id, body) in ops {
            if insert.execute(params![plan_id, op_id, body])? == 1 {
                seqs.push(tx.last_insert_rowid());
            } else {
                let (seq, owner, stored): (i64, String, String) = existing
                    .query_row([op_id], |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)))?;
                // Dropping `tx` rolls the whole batch back.
                if owner != plan_id {
                    return Err(StoreError::OpIdConflict {
                        op_id: op_id.clone(),
                    });
                }
                // A re-send is acknowledged only if it says what was stored: acknowledging other
                // content would tell its sender that an edit is kept which is not.
                if !same_body(&stored, body) {
                    return Err(StoreError::OpIdReused {
                        op_id: op_id.clone(),
                    });
                }
                seqs.push(seq);
            }
        }
    }
    Ok(seqs)
}

const DEVICE_COLUMNS: &str =
    "device_id, plan_id, member_id, role, name, created_at, last_seen_at, revoked_at";

fn device_row(row: &Row<'_>) -> rusqlite::Result<DeviceRecord> {
    Ok(DeviceRecord {
        device_id: row.get(0)?,
        plan_id: row.get(1)?,
        member_id: row.get(2)?,
        role: row.get(3)?,
        name: row.get(4)?,
        created_at: row.get(5)?,
        last_seen_at: row.get(6)?,
        revoked_at: row.get(7)?,
    })
}

const INVITE_COLUMNS: &str =
    "invite_id, plan_id, member_id, role, created_by, created_at, expires_at, used_at, revoked_at";

fn invite_row(row: &Row<'_>) -> rusqlite::Result<InviteRecord> {
    Ok(InviteRecord {
        invite_id: row.get(0)?,
        plan_id: row.get(1)?,
        member_id: row.get(2)?,
        role: row.get(3)?,
        created_by: row.get(4)?,
        created_at: row.get(5)?,
        expires_at: row.get(6)?,
        used_at: row.get(7)?,
        revoked_at: row.get(8)?,
    })
}

fn insert_device(
    tx: &Transaction<'_>,
    d: &NewDevice,
    now: &str,
) -> Result<DeviceRecord, StoreError> {
    tx.execute(
        "INSERT INTO devices (device_id, plan_id, member_id, role, token_hash, name, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        params![
            d.device_id,
            d.plan_id,
            d.member_id,
            d.role,
            d.token_hash,
            d.name,
            now
        ],
    )?;
    Ok(DeviceRecord {
        device_id: d.device_id.clone(),
        plan_id: d.plan_id.clone(),
        member_id: d.member_id.clone(),
        role: d.role.clone(),
        name: d.name.clone(),
        created_at: now.to_owned(),
        last_seen_at: None,
        revoked_at: None,
    })
}

fn create_plan_blocking(
    conn: &mut Connection,
    plan_id: &str,
    ops: &[NewOp],
    device: &NewDevice,
    now: &str,
) -> Result<Vec<i64>, StoreError> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let exists: bool = tx.query_row(
        "SELECT EXISTS (SELECT 1 FROM plans WHERE plan_id = ?1)
             OR EXISTS (SELECT 1 FROM ops WHERE plan_id = ?1)",
        [plan_id],
        |row| row.get(0),
    )?;
    if exists {
        return Err(StoreError::PlanExists {
            plan_id: plan_id.to_owned(),
        });
    }
    tx.execute(
        "INSERT INTO plans (plan_id, created_at) VALUES (?1, ?2)",
        params![plan_id, now],
    )?;
    let seqs = append_in(&tx, plan_id, ops)?;
    insert_device(&tx, device, now)?;
    tx.commit()?;
    Ok(seqs)
}

fn device_by_token_blocking(
    conn: &mut Connection,
    token_hash: &str,
    now: &str,
) -> Result<Option<DeviceRecord>, StoreError> {
    let device = conn
        .query_row(
            &format!("SELECT {DEVICE_COLUMNS} FROM devices WHERE token_hash = ?1"),
            [token_hash],
            device_row,
        )
        .optional()?;
    let Some(mut device) = device else {
        return Ok(None);
    };
    if device.revoked_at.is_none() {
        // At most one write a minute per device: every request would otherwise cost an fsync.
        let changed = conn.execute(
            "UPDATE devices SET last_seen_at = ?2
             WHERE device_id = ?1
               AND (last_seen_at IS NULL
                    OR last_seen_at < strftime('%Y-%m-%dT%H:%M:%fZ', ?2, '-60 seconds'))",
            params![device.device_id, now],
        )?;
        if changed == 1 {
            device.last_seen_at = Some(now.to_owned());
        }
    }
    Ok(Some(device))
}

fn accept_invite_blocking(
    conn: &mut Connection,
    code_hash: &str,
    device: &NewDevice,
    now: &str,
) -> Result<AcceptOutcome, StoreError> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let invite = tx
        .query_row(
            &format!("SELECT {INVITE_COLUMNS} FROM invites WHERE code_hash = ?1"),
            [code_hash],
            invite_row,
        )
        .optional()?;
    let Some(invite) = invite else {
        return Ok(AcceptOutcome::Unknown);
    };
    if invite.revoked_at.is_some() {
        return Ok(AcceptOutcome::Revoked);
    }
    if invite.used_at.is_some() {
        return Ok(AcceptOutcome::Used);
    }
    if invite.expires_at.as_str() <= now {
        return Ok(AcceptOutcome::Expired);
    }
    let device = NewDevice {
        plan_id: invite.plan_id,
        member_id: invite.member_id,
        role: invite.role,
        ..device.clone()
    };
    let record = insert_device(&tx, &device, now)?;
    tx.execute(
        "UPDATE invites SET used_at = ?2, used_by_device = ?3 WHERE invite_id = ?1",
        params![invite.invite_id, now, device.device_id],
    )?;
    tx.commit()?;
    Ok(AcceptOutcome::Accepted(record))
}

fn ops_after_blocking(
    conn: &mut Connection,
    plan_id: &str,
    after_seq: i64,
    limit: u32,
) -> Result<Vec<(i64, String)>, StoreError> {
    let mut stmt = conn.prepare_cached(
        "SELECT seq, body FROM ops WHERE plan_id = ?1 AND seq > ?2 ORDER BY seq LIMIT ?3",
    )?;
    let rows = stmt.query_map(params![plan_id, after_seq, i64::from(limit)], |row| {
        Ok((row.get(0)?, row.get(1)?))
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

fn ops_page_blocking(
    conn: &mut Connection,
    plan_id: &str,
    after_seq: i64,
    limit: u32,
) -> Result<OpsPage, StoreError> {
    // One read transaction around both queries: in WAL mode they then read one snapshot, so a
    // write committed in between (by this process or another) is in both or in neither.
    let tx = conn.transaction_with_behavior(TransactionBehavior::Deferred)?;
    let ops = {
        let mut stmt = tx.prepare_cached(
            "SELECT seq, body, received_at FROM ops
             WHERE plan_id = ?1 AND seq > ?2 ORDER BY seq LIMIT ?3",
        )?;
        let rows = stmt.query_map(params![plan_id, after_seq, i64::from(limit)], |row| {
            Ok(StoredOp {
                seq: row.get(0)?,
                body: row.get(1)?,
                received_at: row.get(2)?,
            })
        })?;
        rows.collect::<Result<Vec<_>, _>>()?
    };
    let last_seq: i64 = tx.query_row(
        "SELECT coalesce(max(seq), 0) FROM ops WHERE plan_id = ?1",
        [plan_id],
        |row| row.get(0),
    )?;
    tx.commit()?;
    Ok(OpsPage { ops, last_seq })
}

impl Store for SqliteStore {
    fn health(&self) -> StoreFuture<'_, ()> {
        self.with_conn(|conn| {
            conn.query_row("SELECT count(*) FROM sqlite_master", [], |row| {
                row.get::<_, i64>(0)
            })?;
            Ok(())
        })
    }

    fn append_ops<'a>(
        &'a self,
        plan_id: &'a str,
        ops: &'a [NewOp],
        shut_out: &'a [String],
        now: &'a str,
    ) -> StoreFuture<'a, Appended> {
        let (plan_id, ops, shut_out, now) = (
            plan_id.to_owned(),
            ops.to_vec(),
            shut_out.to_vec(),
            now.to_owned(),
        );
        self.with_conn(move |conn| append_ops_blocking(conn, &plan_id, &ops, &shut_out, &now))
    }

    fn ops_page<'a>(
        &'a self,
        plan_id: &'a str,
        after_seq: i64,
        limit: u32,
    ) -> StoreFuture<'a, OpsPage> {
        let plan_id = plan_id.to_owned();
        self.with_conn(move |conn| ops_page_blocking(conn, &plan_id, after_seq, limit))
    }

    fn op_bodies<'a>(
        &'a self,
        plan_id: &'a str,
        op_ids: &'a [String],
    ) -> StoreFuture<'a, Vec<(String, String)>> {
        let (plan_id, op_ids) = (plan_id.to_owned(), op_ids.to_vec());
        self.with_conn(move |conn| {
            let mut stmt =
                conn.prepare_cached("SELECT body FROM ops WHERE plan_id = ?1 AND op_id = ?2")?;
            let mut found = Vec::new();
            for id in op_ids {
                if let Some(body) = stmt
                    .query_row(params![plan_id, id], |row| row.get::<_, String>(0))
                    .optional()?
                {
                    found.push((id, body));
                }
            }
            Ok(found)
        })
    }

    fn ops_after<'a>(
        &'a self,
        plan_id: &'a str,
        after_seq: i64,
        limit: u32,
    ) -> StoreFuture<'a, Vec<(i64, String)>> {
        let plan_id = plan_id.to_owned();
        self.with_conn(move |conn| ops_after_blocking(conn, &plan_id, after_seq, limit))
    }

    fn last_seq<'a>(&'a self, plan_id: &'a str) -> StoreFuture<'a, i64> {
        let plan_id = plan_id.to_owned();
        self.with_conn(move |conn| {
            Ok(conn.query_row(
                "SELECT coalesce(max(seq), 0) FROM ops WHERE plan_id = ?1",
                [plan_id],
                |row| row.get(0),
            )?)
        })
    }

    fn plan_exists<'a>(&'a self, plan_id: &'a str) -> StoreFuture<'a, bool> {
        let plan_id = plan_id.to_owned();
        self.with_conn(move |conn| {
            Ok(conn.query_row(
                "SELECT EXISTS (SELECT 1 FROM plans WHERE plan_id = ?1)",
                [plan_id],
                |row| row.get(0),
            )?)
        })
    }

    fn create_plan<'a>(
        &'a self,
        plan_id: &'a str,
        ops: &'a [NewOp],
        device: &'a NewDevice,
        now: &'a str,
    ) -> StoreFuture<'a, Vec<i64>> {
        let (plan_id, ops, device, now) = (
            plan_id.to_owned(),
            ops.to_vec(),
            device.clone(),
            now.to_owned(),
        );
        self.with_conn(move |conn| create_plan_blocking(conn, &plan_id, &ops, &device, &now))
    }

    fn device_by_token<'a>(
        &'a self,
        token_hash: &'a str,
        now: &'a str,
    ) -> StoreFuture<'a, Option<DeviceRecord>> {
        let (token_hash, now) = (token_hash.to_owned(), now.to_owned());
        self.with_conn(move |conn| device_by_token_blocking(conn, &token_hash, &now))
    }

    fn devices<'a>(&'a self, plan_id: &'a str) -> StoreFuture<'a, Vec<DeviceRecord>> {
        let plan_id = plan_id.to_owned();
        self.with_conn(move |conn| {
            let mut stmt = conn.prepare_cached(&format!(
                "SELECT {DEVICE_COLUMNS} FROM devices WHERE plan_id = ?1 ORDER BY created_at, device_id"
            ))?;
            let rows = stmt.query_map([plan_id], device_row)?;
            Ok(rows.collect::<Result<_, _>>()?)
        })
    }

    fn revoke_device<'a>(
        &'a self,
        plan_id: &'a str,
        device_id: &'a str,
        now: &'a str,
    ) -> StoreFuture<'a, bool> {
        let (plan_id, device_id, now) = (plan_id.to_owned(), device_id.to_owned(), now.to_owned());
        self.with_conn(move |conn| {
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let found: bool = tx.query_row(
                "SELECT EXISTS (SELECT 1 FROM devices WHERE plan_id = ?1 AND device_id = ?2)",
                params![plan_id, device_id],
                |row| row.get(0),
            )?;
            tx.execute(
                "UPDATE devices SET revoked_at = ?3
                 WHERE plan_id = ?1 AND device_id = ?2 AND revoked_at IS NULL",
                params![plan_id, device_id, now],
            )?;
            tx.commit()?;
            Ok(found)
        })
    }

    fn create_invite<'a>(
        &'a self,
        invite: &'a NewInvite,
        now: &'a str,
    ) -> StoreFuture<'a, InviteRecord> {
        let (i, now) = (invite.clone(), now.to_owned());
        self.with_conn(move |conn| {
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            tx.execute(
                "INSERT INTO invites
                     (invite_id, code_hash, plan_id, member_id, role, created_by, created_at, expires_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
                params![i.invite_id, i.code_hash, i.plan_id, i.member_id, i.role, i.created_by, now, i.expires_at],
            )?;
            tx.commit()?;
            Ok(InviteRecord {
                invite_id: i.invite_id,
                plan_id: i.plan_id,
                member_id: i.member_id,
                role: i.role,
                created_by: i.created_by,
                created_at: now,
                expires_at: i.expires_at,
                used_at: None,
                revoked_at: None,
            })
        })
    }

    fn invites<'a>(&'a self, plan_id: &'a str) -> StoreFuture<'a, Vec<InviteRecord>> {
        let plan_id = plan_id.to_owned();
        self.with_conn(move |conn| {
            let mut stmt = conn.prepare_cached(&format!(
                "SELECT {INVITE_COLUMNS} FROM invites WHERE plan_id = ?1 ORDER BY created_at, invite_id"
            ))?;
            let rows = stmt.query_map([plan_id], invite_row)?;
            Ok(rows.collect::<Result<_, _>>()?)
        })
    }

    fn revoke_invite<'a>(
        &'a self,
        plan_id: &'a str,
        invite_id: &'a str,
        now: &'a str,
    ) -> StoreFuture<'a, bool> {
        let (plan_id, invite_id, now) = (plan_id.to_owned(), invite_id.to_owned(), now.to_owned());
        self.with_conn(move |conn| {
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let found: bool = tx.query_row(
                "SELECT EXISTS (SELECT 1 FROM invites WHERE plan_id = ?1 AND invite_id = ?2)",
                params![plan_id, invite_id],
                |row| row.get(0),
            )?;
            tx.execute(
                "UPDATE invites SET revoked_at = ?3
                 WHERE plan_id = ?1 AND invite_id = ?2 AND revoked_at IS NULL AND used_at IS NULL",
                params![plan_id, invite_id, now],
            )?;
            tx.commit()?;
            Ok(found)
        })
    }

    fn invite_by_code<'a>(&'a self, code_hash: &'a str) -> StoreFuture<'a, Option<InviteRecord>> {
        let code_hash = code_hash.to_owned();
        self.with_conn(move |conn| {
            Ok(conn
                .query_row(
                    &format!("SELECT {INVITE_COLUMNS} FROM invites WHERE code_hash = ?1"),
                    [code_hash],
                    invite_row,
                )
                .optional()?)
        })
    }

    fn accept_invite<'a>(
        &'a self,
        code_hash: &'a str,
        device: &'a NewDevice,
        now: &'a str,
    ) -> StoreFuture<'a, AcceptOutcome> {
        let (code_hash, device, now) = (code_hash.to_owned(), device.clone(), now.to_owned());
        self.with_conn(move |conn| accept_invite_blocking(conn, &code_hash, &device, &now))
    }

    // Issue 10 (server limits): the daily count per member, from the stored ops.
    fn ops_per_author_since<'a>(
        &'a self,
        plan_id: &'a str,
        since: &'a str,
    ) -> StoreFuture<'a, Vec<(String, i64)>> {
        let (plan_id, since) = (plan_id.to_owned(), since.to_owned());
        self.with_conn(move |conn| {
            let mut stmt = conn.prepare_cached(
                "SELECT json_extract(body, '$.author'), count(*) FROM ops
                 WHERE plan_id = ?1 AND received_at >= ?2 GROUP BY 1",
            )?;
            let rows = stmt.query_map(params![plan_id, since], |row| {
                Ok((row.get::<_, Option<String>>(0)?, row.get::<_, i64>(1)?))
            })?;
            let mut counts = Vec::new();
            for row in rows {
                if let (Some(author), count) = row? {
                    counts.push((author, count));
                }
            }
            Ok(counts)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Appends without shutting anyone out; the sequence numbers.
    async fn append(
        store: &SqliteStore,
        plan: &str,
        ops: &[NewOp],
    ) -> Result<Vec<i64>, StoreError> {
        Ok(store.append_ops(plan, ops, &[], T0).await?.seqs)
    }

    fn ops(items: &[(&str, &str)]) -> Vec<NewOp> {
        items
            .iter()
            .map(|(id, body)| (id.to_string(), body.to_string()))
            .collect()
    }

    #[tokio::test]
    async fn append_returns_increasing_seqs_and_reads_back_in_order() {
        let store = SqliteStore::open_in_memory().unwrap();
        let seqs = append(&store, "p1", &ops(&[("a", "A"), ("b", "B"), ("c", "C")]))
            .await
            .unwrap();
        assert_eq!(seqs.len(), 3);
        assert!(seqs.windows(2).all(|w| w[0] < w[1]), "{seqs:?}");
        let all = store.ops_after("p1", 0, 100).await.unwrap();
        let bodies: Vec<_> = all.iter().map(|(_, b)| b.as_str()).collect();
        assert_eq!(bodies, ["A", "B", "C"]);
        assert_eq!(all.iter().map(|(s, _)| *s).collect::<Vec<_>>(), seqs);
        // after_seq and limit
        let tail = store.ops_after("p1", seqs[0], 1).await.unwrap();
        assert_eq!(tail, vec![(seqs[1], "B".to_string())]);
        assert!(store.ops_after("p1", seqs[2], 10).await.unwrap().is_empty());
    }

    #[tokio::test]
    async fn append_is_idempotent() {
        let store = SqliteStore::open_in_memory().unwrap();
        let first = append(&store, "p1", &ops(&[("a", "A"), ("b", "B")]))
            .await
            .unwrap();
        // The same batch again, plus one new op and a duplicate inside the batch.
        let again = append(
            &store,
            "p1",
            &ops(&[("b", "B"), ("a", "A"), ("c", "C"), ("c", "C")]),
        )
        .await
        .unwrap();
        assert_eq!(again[0], first[1]);
        assert_eq!(again[1], first[0]);
        assert!(again[2] > first[1]);
        assert_eq!(again[3], again[2]);
        assert_eq!(store.ops_after("p1", 0, 100).await.unwrap().len(), 3);
    }

    #[tokio::test]
    async fn an_op_id_stored_with_other_content_is_refused_and_the_batch_rolled_back() {
        let store = SqliteStore::open_in_memory().unwrap();
        let first = append(&store, "p1", &ops(&[("a", r#"{"v":1,"w":2}"#)]))
            .await
            .unwrap();
        // The same content, written differently: still the same op.
        let again = append(&store, "p1", &ops(&[("a", r#"{ "w": 2, "v": 1 }"#)]))
            .await
            .unwrap();
        assert_eq!(again, first);
        let err = append(
            &store,
            "p1",
            &ops(&[("new", r#"{"v":3}"#), ("a", r#"{"v":9,"w":2}"#)]),
        )
        .await
        .unwrap_err();
        assert!(
            matches!(err, StoreError::OpIdReused { ref op_id } if op_id == "a"),
            "{err}"
        );
        let page = store.ops_page("p1", 0, 10).await.unwrap();
        assert_eq!(page.ops.len(), 1, "batch must roll back");
        assert_eq!(page.ops[0].body, r#"{"v":1,"w":2}"#);
        // Within one batch too, and when founding a plan.
        let err = append(&store, "p1", &ops(&[("b", "B"), ("b", "B2")]))
            .await
            .unwrap_err();
        assert!(matches!(err, StoreError::OpIdReused { .. }), "{err}");
        let err = store
            .create_plan(
                "p9",
                &ops(&[("c", "C"), ("c", "C2")]),
                &device("d9", "p9", "h9"),
                T0,
            )
            .await
            .unwrap_err();
        assert!(matches!(err, StoreError::OpIdReused { .. }), "{err}");
        assert!(!store.plan_exists("p9").await.unwrap());
    }

    #[tokio::test]
    async fn a_page_holds_when_each_op_arrived_and_the_last_seq_of_its_moment() {
        let store = SqliteStore::open_in_memory().unwrap();
        let seqs = append(&store, "p1", &ops(&[("a", "A"), ("b", "B"), ("c", "C")]))
            .await
            .unwrap();
        append(&store, "p2", &ops(&[("x", "X")])).await.unwrap();
        let page = store.ops_page("p1", seqs[0], 1).await.unwrap();
        assert_eq!(page.last_seq, seqs[2]);
        assert_eq!(page.ops.len(), 1);
        assert_eq!((page.ops[0].seq, page.ops[0].body.as_str()), (seqs[1], "B"));
        let at = &page.ops[0].received_at;
        assert!(
            at.len() == 24 && at.ends_with('Z') && at.as_bytes()[19] == b'.',
            "{at}"
        );
        assert_eq!(
            store.ops_page("p3", 0, 10).await.unwrap(),
            OpsPage::default()
        );
    }

    /// A writer on its own connection appends one op at a time while a reader pages through the
    /// plan on another: every page and its `last_seq` must come from one moment. Were they two
    /// reads, a commit in between would give a `last_seq` beyond a page that is not full, and a
    /// phone storing that would skip the ops in the gap.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_page_and_its_last_seq_come_from_one_snapshot() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("koers.sqlite3");
        let reader = SqliteStore::open(&path).unwrap();
        let writer = SqliteStore::open(&path).unwrap();
        let writing = tokio::spawn(async move {
            for n in 0..400 {
                let id = format!("op{n}");
                append(&writer, "p", &[(id, "{}".to_owned())])
                    .await
                    .unwrap();
            }
        });
        let mut after = 0;
        let mut held = Vec::new();
        let mut pages = 0;
        loop {
            let finished = writing.is_finished();
            let page = reader.ops_page("p", after, 3).await.unwrap();
            pages += 1;
            assert!(page.ops.iter().all(|o| o.seq <= page.last_seq), "{page:?}");
            let end = page.ops.last().map_or(after, |o| o.seq);
            if page.ops.len() < 3 {
                // Not full: the page reached the end of the log of that moment.
                assert_eq!(page.last_seq, end, "after {after}: {page:?}");
            }
            held.extend(page.ops.iter().map(|o| o.seq));
            after = end;
            if finished && page.ops.len() < 3 {
                break;
            }
        }
        writing.await.unwrap();
        assert_eq!(held.len(), 400, "every op read once ({pages} pages)");
        assert!(held.windows(2).all(|w| w[0] < w[1]));
    }

    #[tokio::test]
    async fn shutting_out_a_member_revokes_their_phones_and_open_invites_with_the_append() {
        let store = SqliteStore::open_in_memory().unwrap();
        store
            .create_plan("p1", &[], &device("d1", "p1", "h1"), T0)
            .await
            .unwrap();
        let phone = |id: &str, member: &str, hash: &str| NewDevice {
            member_id: member.into(),
            ..device(id, "p1", hash)
        };
        let invite = |id: &str, member: &str, hash: &str| NewInvite {
            invite_id: id.into(),
            code_hash: hash.into(),
            plan_id: "p1".into(),
            member_id: member.into(),
            role: "parent".into(),
            expires_at: T2.into(),
            created_by: "m1".into(),
        };
        for (i, m, c) in [("i1", "m2", "c1"), ("i2", "m2", "c2"), ("i3", "m3", "c3")] {
            store.create_invite(&invite(i, m, c), T0).await.unwrap();
        }
        // m2 joined with invite i1 (its phone d2); i2 is still open. m3 is someone else.
        store
            .accept_invite("c1", &phone("d2", "", "h2"), T0)
            .await
            .unwrap();
        let conn = || store.conn.lock().unwrap();
        conn()
            .execute_batch(&format!(
                "INSERT INTO devices (device_id, plan_id, member_id, role, token_hash, name, created_at)
                 VALUES ('d3', 'p1', 'm3', 'parent', 'h3', 'phone', '{T0}')"
            ))
            .unwrap();

        // A failing revocation stores nothing: not the op, not any revocation.
        conn()
            .execute_batch(
                "CREATE TRIGGER fail_invites BEFORE UPDATE OF revoked_at ON invites
                 BEGIN SELECT RAISE(ABORT, 'disk on fire'); END;",
            )
            .unwrap();
        let out = ops(&[("out", "m2 deleted")]);
        let shut = ["m2".to_owned()];
        assert!(store.append_ops("p1", &out, &shut, T1).await.is_err());
        assert_eq!(store.last_seq("p1").await.unwrap(), 0, "the op rolled back");
        let devices = store.devices("p1").await.unwrap();
        assert!(
            devices.iter().all(|d| d.revoked_at.is_none()),
            "{devices:?}"
        );

        conn().execute_batch("DROP TRIGGER fail_invites;").unwrap();
        let appended = store.append_ops("p1", &out, &shut, T1).await.unwrap();
        assert_eq!(appended.seqs.len(), 1);
        assert_eq!(appended.revoked_devices, ["d2"]);
        let devices = store.devices("p1").await.unwrap();
        let revoked: Vec<_> = devices
            .iter()
            .filter(|d| d.revoked_at.as_deref() == Some(T1))
            .map(|d| d.device_id.as_str())
            .collect();
        assert_eq!(revoked, ["d2"]);
        let invites = store.invites("p1").await.unwrap();
        let states: Vec<_> = invites
            .iter()
            .map(|i| {
                (
                    i.invite_id.as_str(),
                    i.used_at.is_some(),
                    i.revoked_at.is_some(),
                )
            })
            .collect();
        assert_eq!(
            states,
            [
                ("i1", true, false),
                ("i2", false, true),
                ("i3", false, false)
            ]
        );
        // Shutting out again revokes nothing new.
        let again = store.append_ops("p1", &out, &shut, T2).await.unwrap();
        assert!(again.revoked_devices.is_empty());
    }

    #[tokio::test]
    async fn plans_are_isolated() {
        let store = SqliteStore::open_in_memory().unwrap();
        append(&store, "p1", &ops(&[("a", "A1")])).await.unwrap();
        append(&store, "p2", &ops(&[("b", "B2")])).await.unwrap();
        append(&store, "p1", &ops(&[("c", "C1")])).await.unwrap();
        let p1: Vec<_> = store
            .ops_after("p1", 0, 10)
            .await
            .unwrap()
            .into_iter()
            .map(|(_, b)| b)
            .collect();
        let p2: Vec<_> = store
            .ops_after("p2", 0, 10)
            .await
            .unwrap()
            .into_iter()
            .map(|(_, b)| b)
            .collect();
        assert_eq!(p1, ["A1", "C1"]);
        assert_eq!(p2, ["B2"]);
        assert!(store.ops_after("p3", 0, 10).await.unwrap().is_empty());
    }

    #[tokio::test]
    async fn an_op_id_of_another_plan_is_refused_and_the_batch_rolled_back() {
        let store = SqliteStore::open_in_memory().unwrap();
        append(&store, "p1", &ops(&[("a", "A")])).await.unwrap();
        let err = append(&store, "p2", &ops(&[("new", "N"), ("a", "A")]))
            .await
            .unwrap_err();
        assert!(
            matches!(err, StoreError::OpIdConflict { ref op_id } if op_id == "a"),
            "{err}"
        );
        assert!(
            store.ops_after("p2", 0, 10).await.unwrap().is_empty(),
            "batch must roll back"
        );
    }

    #[tokio::test]
    async fn file_database_uses_wal_and_survives_reopen() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("koers.sqlite3");
        {
            let store = SqliteStore::open(&path).unwrap();
            store.health().await.unwrap();
            append(&store, "p", &ops(&[("x", "X")])).await.unwrap();
        }
        let store = SqliteStore::open(&path).unwrap();
        assert_eq!(store.ops_after("p", 0, 10).await.unwrap().len(), 1);
        let conn = store.conn.lock().unwrap();
        let mode: String = conn
            .query_row("PRAGMA journal_mode", [], |r| r.get(0))
            .unwrap();
        let sync: i64 = conn
            .query_row("PRAGMA synchronous", [], |r| r.get(0))
            .unwrap();
        let fk: i64 = conn
            .query_row("PRAGMA foreign_keys", [], |r| r.get(0))
            .unwrap();
        let version: i64 = conn
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .unwrap();
        assert_eq!(
            (mode.as_str(), sync, fk, version),
            ("wal", 2, 1, SCHEMA_VERSION)
        );
    }

    fn device(id: &str, plan: &str, token_hash: &str) -> NewDevice {
        NewDevice {
            device_id: id.into(),
            plan_id: plan.into(),
            member_id: "m1".into(),
            role: "foster_care_worker".into(),
            token_hash: token_hash.into(),
            name: "laptop".into(),
        }
    }

    const T0: &str = "2026-01-01T10:00:00.000Z";
    const T1: &str = "2026-01-01T10:00:30.000Z";
    const T2: &str = "2026-01-01T10:02:00.000Z";

    #[tokio::test]
    async fn a_plan_is_created_once_with_its_ops_and_device() {
        let store = SqliteStore::open_in_memory().unwrap();
        let seqs = store
            .create_plan("p1", &ops(&[("a", "A")]), &device("d1", "p1", "h1"), T0)
            .await
            .unwrap();
        assert_eq!(seqs.len(), 1);
        assert!(store.plan_exists("p1").await.unwrap());
        assert_eq!(store.last_seq("p1").await.unwrap(), seqs[0]);
        assert_eq!(store.last_seq("p2").await.unwrap(), 0);
        let err = store
            .create_plan("p1", &ops(&[("b", "B")]), &device("d2", "p1", "h2"), T0)
            .await
            .unwrap_err();
        assert!(matches!(err, StoreError::PlanExists { .. }), "{err}");
        // Nothing of the refused creation was stored.
        assert_eq!(store.ops_after("p1", 0, 10).await.unwrap().len(), 1);
        assert!(store.device_by_token("h2", T0).await.unwrap().is_none());
    }

    #[tokio::test]
    async fn devices_are_found_by_token_hash_touched_and_revoked() {
        let store = SqliteStore::open_in_memory().unwrap();
        store
            .create_plan("p1", &[], &device("d1", "p1", "h1"), T0)
            .await
            .unwrap();
        let d = store.device_by_token("h1", T0).await.unwrap().unwrap();
        assert_eq!(d.last_seen_at.as_deref(), Some(T0));
        // Within a minute: not written again.
        let d = store.device_by_token("h1", T1).await.unwrap().unwrap();
        assert_eq!(d.last_seen_at.as_deref(), Some(T0));
        let d = store.device_by_token("h1", T2).await.unwrap().unwrap();
        assert_eq!(d.last_seen_at.as_deref(), Some(T2));
        assert!(store.revoke_device("p1", "d1", T2).await.unwrap());
        assert!(!store.revoke_device("p2", "d1", T2).await.unwrap());
        let d = store.device_by_token("h1", T2).await.unwrap().unwrap();
        assert_eq!(d.revoked_at.as_deref(), Some(T2));
        assert_eq!(store.devices("p1").await.unwrap().len(), 1);
    }

    #[tokio::test]
    async fn invites_are_single_use_expire_and_can_be_revoked() {
        let store = SqliteStore::open_in_memory().unwrap();
        store
            .create_plan("p1", &[], &device("d1", "p1", "h1"), T0)
            .await
            .unwrap();
        let invite = |id: &str, hash: &str, expires: &str| NewInvite {
            invite_id: id.into(),
            code_hash: hash.into(),
            plan_id: "p1".into(),
            member_id: "m2".into(),
            role: "parent".into(),
            expires_at: expires.into(),
            created_by: "m1".into(),
        };
        store
            .create_invite(&invite("i1", "c1", T2), T0)
            .await
            .unwrap();
        store
            .create_invite(&invite("i2", "c2", T1), T0)
            .await
            .unwrap();
        store
            .create_invite(&invite("i3", "c3", T2), T0)
            .await
            .unwrap();
        let AcceptOutcome::Accepted(d) = store
            .accept_invite("c1", &device("d2", "ignored", "h2"), T1)
            .await
            .unwrap()
        else {
            panic!("accepted")
        };
        assert_eq!(
            (d.plan_id.as_str(), d.member_id.as_str(), d.role.as_str()),
            ("p1", "m2", "parent")
        );
        let again = store
            .accept_invite("c1", &device("d3", "p1", "h3"), T1)
            .await
            .unwrap();
        assert_eq!(again, AcceptOutcome::Used);
        let late = store
            .accept_invite("c2", &device("d3", "p1", "h3"), T2)
            .await
            .unwrap();
        assert_eq!(late, AcceptOutcome::Expired);
        assert!(store.revoke_invite("p1", "i3", T1).await.unwrap());
        let revoked = store
            .accept_invite("c3", &device("d3", "p1", "h3"), T1)
            .await
            .unwrap();
        assert_eq!(revoked, AcceptOutcome::Revoked);
        let unknown = store
            .accept_invite("zz", &device("d3", "p1", "h3"), T1)
            .await
            .unwrap();
        assert_eq!(unknown, AcceptOutcome::Unknown);
        assert!(store.device_by_token("h3", T1).await.unwrap().is_none());
        let list = store.invites("p1").await.unwrap();
        assert_eq!(list.len(), 3);
        assert!(list[0].used_at.is_some() && list[2].revoked_at.is_some());
    }

    #[test]
    fn a_version_1_database_is_migrated_and_keeps_its_ops() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("koers.sqlite3");
        {
            let conn = Connection::open(&path).unwrap();
            conn.execute_batch(
                "CREATE TABLE ops (
                     seq INTEGER PRIMARY KEY AUTOINCREMENT,
                     plan_id TEXT NOT NULL,
                     op_id TEXT NOT NULL UNIQUE,
                     body TEXT NOT NULL,
                     received_at TEXT NOT NULL
                 );
                 CREATE INDEX ops_plan_seq ON ops (plan_id, seq);
                 INSERT INTO ops (plan_id, op_id, body, received_at) VALUES ('old', 'x', 'X', '2025-01-01T00:00:00.000Z');
                 PRAGMA user_version = 1;",
            )
            .unwrap();
        }
        let store = SqliteStore::open(&path).unwrap();
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        rt.block_on(async {
            assert!(store.plan_exists("old").await.unwrap());
            assert_eq!(store.ops_after("old", 0, 10).await.unwrap().len(), 1);
        });
    }

    #[test]
    fn a_newer_schema_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("koers.sqlite3");
        Connection::open(&path)
            .unwrap()
            .pragma_update(None, "user_version", 99)
            .unwrap();
        let err = SqliteStore::open(&path).unwrap_err();
        assert!(
            matches!(err, StoreError::SchemaTooNew { found: 99, .. }),
            "{err}"
        );
    }
}
