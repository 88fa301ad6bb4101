//! What only the SQLite backend has: a file in WAL mode, its migrations from older Koers
//! databases, and two connections to one file.

use std::sync::Arc;

use koers_database::contract::{append, founded, new_organisation, op, t};
use koers_database::{Append, Database, DatabaseError, MemberId, PlanId, Role};
use koers_database_sqlite::{SqliteDatabase, SCHEMA_VERSION};
use rusqlite::Connection;
use uuid::Uuid;

#[tokio::test]
async fn a_file_database_uses_wal_and_survives_reopening() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("koers.sqlite3");
    let plan = {
        let db = SqliteDatabase::open(&path).unwrap();
        db.health().await.unwrap();
        founded(&db, 3).await.0
    };
    let db = SqliteDatabase::open(&path).unwrap();
    assert_eq!(db.ops_page(plan, 0, 10).await.unwrap().ops.len(), 3);
    drop(db);
    let conn = Connection::open(&path).unwrap();
    let mode: String = conn
        .query_row("PRAGMA journal_mode", [], |r| r.get(0))
        .unwrap();
    let version: i64 = conn
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .unwrap();
    assert_eq!((mode.as_str(), version), ("wal", SCHEMA_VERSION));
}

/// A database of the Koers before per-plan numbering (schema 2, one counter for all plans):
/// its ops keep their numbers, so the cursor a phone holds stays right, and new ops continue
/// from each plan's own newest number.
#[tokio::test]
async fn an_older_database_keeps_its_numbers_and_each_plan_continues_from_its_own() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("koers.sqlite3");
    let (noa, sam) = (PlanId(Uuid::new_v4()), PlanId(Uuid::new_v4()));
    let author = MemberId(Uuid::new_v4());
    {
        let conn = Connection::open(&path).unwrap();
        for sql in [
            include_str!("../migrations/0001_ops.sql"),
            include_str!("../migrations/0002_plans_devices_invites.sql"),
        ] {
            conn.execute_batch(sql).unwrap();
        }
        let at = "2025-01-01T00:00:00.000Z";
        for (plan, op_id) in [(noa, "a"), (sam, "b"), (noa, "c")] {
            let body = format!(r#"{{"author":"{author}","x":"{op_id}"}}"#);
            conn.execute(
                "INSERT INTO ops (plan_id, op_id, body, received_at) VALUES (?1, ?2, ?3, ?4)",
                rusqlite::params![plan.to_string(), Uuid::new_v4().to_string(), body, at],
            )
            .unwrap();
        }
        // One op from before version 2, whose plan got its row from the migration.
        conn.execute_batch(
            "INSERT INTO ops (plan_id, op_id, body, received_at)
             VALUES ('not-a-plan-id', 'x', 'not json', '2025-01-01T00:00:00.000Z');
             PRAGMA user_version = 2;",
        )
        .unwrap();
    }
    let db = SqliteDatabase::open(&path).unwrap();
    let seqs = |page: koers_database::OpsPage| page.ops.iter().map(|o| o.seq).collect::<Vec<_>>();
    assert_eq!(seqs(db.ops_page(noa, 0, 10).await.unwrap()), [1, 3]);
    assert_eq!(db.head(noa).await.unwrap(), 3);
    assert_eq!(db.head(sam).await.unwrap(), 2);
    assert!(db.plan_exists(noa).await.unwrap());
    let next = append(&db, noa, &[op(author, 1)]).await.unwrap();
    assert_eq!(next.seqs, [4], "Noa continues from its own newest number");
    assert_eq!(append(&db, sam, &[op(author, 2)]).await.unwrap().seqs, [3]);
    // The author was taken from the stored bodies, for the daily limit.
    let counts = db.ops_per_author_since(noa, t(-40_000_000)).await.unwrap();
    assert_eq!(counts, [(author, 3)]);
    // Plans from before organisations belong to none.
    assert_eq!(db.plan_organisation(noa).await.unwrap(), None);
}

/// Two server processes starting at once on one file: one organisation between them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_processes_starting_at_once_on_one_file_make_one_first_organisation() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("koers.sqlite3");
    let starts: Vec<_> = (0..2)
        .map(|n| {
            let path = path.clone();
            tokio::spawn(async move {
                let db = SqliteDatabase::open(&path).unwrap();
                let mine = new_organisation(&format!("process {n}"), t(n));
                db.first_organisation(&mine).await.unwrap()
            })
        })
        .collect();
    let mut got = Vec::new();
    for start in starts {
        got.push(start.await.unwrap());
    }
    assert_eq!(got[0], got[1]);
    let conn = Connection::open(&path).unwrap();
    let count: i64 = conn
        .query_row("SELECT count(*) FROM organisations", [], |r| r.get(0))
        .unwrap();
    assert_eq!(count, 1);
}

#[test]
fn a_newer_schema_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("koers.sqlite3");
    Connection::open(&path)
        .unwrap()
        .pragma_update(None, "user_version", 99)
        .unwrap();
    let err = SqliteDatabase::open(&path).unwrap_err();
    assert_eq!(
        err,
        DatabaseError::SchemaTooNew {
            found: 99,
            supported: SCHEMA_VERSION
        }
    );
}

/// The change that takes someone out and the end of their access are stored together or not
/// at all: a revocation that fails leaves the op unstored too.
#[tokio::test]
async fn a_failing_revocation_stores_nothing_of_the_append() {
    let db = SqliteDatabase::open_in_memory().unwrap();
    let (plan, worker, founder) = founded(&db, 0).await;
    db.execute_batch_for_tests(
        "CREATE TRIGGER fail_devices BEFORE UPDATE OF revoked_at ON devices
         BEGIN SELECT RAISE(ABORT, 'disk on fire'); END;",
    )
    .unwrap();
    let write = Append {
        plan,
        after_head: 0,
        ops: &[op(worker, 1)],
        shut_out: &[founder.member],
        memberships: &[],
        access: None,
        now: t(30),
    };
    assert!(matches!(
        db.append_ops(write).await,
        Err(DatabaseError::Failed(_))
    ));
    assert_eq!(db.head(plan).await.unwrap(), 0, "the op rolled back");
    let devices = db.devices(plan).await.unwrap();
    assert!(devices.iter().all(|d| d.revoked_at.is_none()));
    db.execute_batch_for_tests("DROP TRIGGER fail_devices;")
        .unwrap();
    let appended = db.append_ops(write).await.unwrap();
    assert_eq!(appended.revoked_devices, [founder.device]);
    assert_eq!(devices[0].role, Role::FosterCareWorker);
}

/// Two connections to one file (two processes, in effect): the contract's race, with the
/// writers and the reader each on a connection of their own.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_connections_to_one_file_keep_the_numbering_and_snapshots() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("koers.sqlite3");
    let first: Arc<dyn Database> = Arc::new(SqliteDatabase::open(&path).unwrap());
    let second: Arc<dyn Database> = Arc::new(SqliteDatabase::open(&path).unwrap());
    let (plan, worker, _) = founded(first.as_ref(), 0).await;
    let writer = |db: Arc<dyn Database>| async move {
        for n in 0..100 {
            let one = [op(worker, n)];
            loop {
                match append(db.as_ref(), plan, &one).await {
                    Ok(_) => break,
                    Err(DatabaseError::HeadMoved { .. }) => continue,
                    Err(err) => panic!("{err}"),
                }
            }
        }
    };
    let a = tokio::spawn(writer(Arc::clone(&first)));
    let b = tokio::spawn(writer(Arc::clone(&second)));
    let reader = SqliteDatabase::open(&path).unwrap();
    let mut after = 0;
    let mut read = Vec::new();
    loop {
        let done = a.is_finished() && b.is_finished();
        let page = reader.ops_page(plan, after, 3).await.unwrap();
        if page.ops.len() < 3 {
            assert_eq!(page.head, page.ops.last().map_or(after, |o| o.seq));
        }
        read.extend(page.ops.iter().map(|o| o.seq));
        after = page.ops.last().map_or(after, |o| o.seq);
        if done && page.ops.is_empty() {
            break;
        }
    }
    a.await.unwrap();
    b.await.unwrap();
    assert_eq!(read, (1..=200).collect::<Vec<_>>());
}
