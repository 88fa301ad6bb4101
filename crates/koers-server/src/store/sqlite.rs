//! The embedded SQLite store: one connection behind a mutex, used from `spawn_blocking`.

use std::path::Path;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use rusqlite::{params, Connection, TransactionBehavior};

use super::{NewOp, Store, StoreError, StoreFuture};

/// The schema version this build creates and understands (`PRAGMA user_version`).
pub const SCHEMA_VERSION: i64 = 1;

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
    tx.commit()?;
    Ok(())
}

fn append_ops_blocking(
    conn: &mut Connection,
    plan_id: &str,
    ops: &[NewOp],
) -> Result<Vec<i64>, StoreError> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let mut seqs = Vec::with_capacity(ops.len());
    {
        let mut insert = tx.prepare_cached(
            "INSERT INTO ops (plan_id, op_id, body, received_at)
             VALUES (?1, ?2, ?3, strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
             ON CONFLICT (op_id) DO NOTHING",
        )?;
        let mut existing = tx.prepare_cached("SELECT seq, plan_id FROM ops WHERE op_id = ?1")?;
        for (op_id, body) in ops {
            if insert.execute(params![plan_id, op_id, body])? == 1 {
                seqs.push(tx.last_insert_rowid());
            } else {
                let (seq, owner): (i64, String) =
                    existing.query_row([op_id], |row| Ok((row.get(0)?, row.get(1)?)))?;
                if owner != plan_id {
                    // Dropping `tx` rolls the whole batch back.
                    return Err(StoreError::OpIdConflict {
                        op_id: op_id.clone(),
                    });
                }
                seqs.push(seq);
            }
        }
    }
    tx.commit()?;
    Ok(seqs)
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

impl Store for SqliteStore {
    fn health(&self) -> StoreFuture<'_, ()> {
        self.with_conn(|conn| {
            conn.query_row("SELECT count(*) FROM sqlite_master", [], |row| {
                row.get::<_, i64>(0)
            })?;
            Ok(())
        })
    }

    fn append_ops<'a>(&'a self, plan_id: &'a str, ops: &'a [NewOp]) -> StoreFuture<'a, Vec<i64>> {
        let plan_id = plan_id.to_owned();
        let ops = ops.to_vec();
        self.with_conn(move |conn| append_ops_blocking(conn, &plan_id, &ops))
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
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ops(items: &[(&str, &str)]) -> Vec<NewOp> {
        items
            .iter()
            .map(|(id, body)| (id.to_string(), body.to_string()))
            .collect()
    }

    #[tokio::test]
    async fn append_returns_increasing_seqs_and_reads_back_in_order() {
        let store = SqliteStore::open_in_memory().unwrap();
        let seqs = store
            .append_ops("p1", &ops(&[("a", "A"), ("b", "B"), ("c", "C")]))
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
        let first = store
            .append_ops("p1", &ops(&[("a", "A"), ("b", "B")]))
            .await
            .unwrap();
        // The same batch again, plus one new op and a duplicate inside the batch.
        let again = store
            .append_ops(
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
    async fn plans_are_isolated() {
        let store = SqliteStore::open_in_memory().unwrap();
        store.append_ops("p1", &ops(&[("a", "A1")])).await.unwrap();
        store.append_ops("p2", &ops(&[("b", "B2")])).await.unwrap();
        store.append_ops("p1", &ops(&[("c", "C1")])).await.unwrap();
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
        store.append_ops("p1", &ops(&[("a", "A")])).await.unwrap();
        let err = store
            .append_ops("p2", &ops(&[("new", "N"), ("a", "A")]))
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
            store.append_ops("p", &ops(&[("x", "X")])).await.unwrap();
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
