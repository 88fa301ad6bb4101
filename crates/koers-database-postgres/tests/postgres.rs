//! What the contract suite cannot say about PostgreSQL: migrations under concurrent starts, the
//! error mapping on real failures, surviving a restart of PostgreSQL (the pool and the bus), the
//! LISTEN/NOTIFY bus between instances, large pushes and the op id race between plans.

use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use koers_database::contract::{
    device, founded, founded_for, new_organisation, op, organisation_with_staff, t,
};
use koers_database::{
    AcceptOutcome, Append, Bus, Database, DatabaseError, DeviceId, InviteId, MemberId, NewInvite,
    NewOp, Notice, PlanId, Role, SecretHash, Seq,
};
use koers_database_postgres::testing::TestCluster;
use koers_database_postgres::{
    map_error, PoolConfig, PostgresBus, PostgresDatabase, SCHEMA_VERSION,
};
use sqlx::AssertSqlSafe;
use tokio::sync::broadcast;
use uuid::Uuid;

/// A short acquire timeout, so that the outage tests do not wait long for their `Unavailable`.
fn quick() -> PoolConfig {
    PoolConfig {
        acquire_timeout: Duration::from_secs(1),
        ..PoolConfig::default()
    }
}

/// A database of its own on the shared cluster.
async fn fresh_db() -> PostgresDatabase {
    let url = TestCluster::shared().fresh_database();
    PostgresDatabase::connect(&url).await.unwrap()
}

/// A new pool on the database that the tests that need no database of their own share (they
/// make their own random plans).
async fn shared_db() -> PostgresDatabase {
    static URL: OnceLock<String> = OnceLock::new();
    let url = URL.get_or_init(|| TestCluster::shared().create_database("shared"));
    PostgresDatabase::connect(url).await.unwrap()
}

async fn append_all(db: &dyn Database, plan: PlanId, ops: &[NewOp]) -> Vec<Seq> {
    let after_head = db.head(plan).await.unwrap();
    db.append_ops(Append {
        plan,
        after_head,
        ops,
        shut_out: &[],
        memberships: &[],
        access: None,
        now: t(5),
    })
    .await
    .unwrap()
    .seqs
}

/// The next notice, failing after `within`.
async fn next(rx: &mut broadcast::Receiver<Notice>, within: Duration) -> Notice {
    tokio::time::timeout(within, rx.recv())
        .await
        .unwrap_or_else(|_| panic!("no notice within {within:?}"))
        .expect("the bus is open")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn instances_starting_together_run_each_migration_once() {
    let url = TestCluster::shared().fresh_database();
    let starts: Vec<_> = (0..4)
        .map(|_| {
            let url = url.clone();
            tokio::spawn(async move { PostgresDatabase::connect(&url).await })
        })
        .collect();
    let mut dbs = Vec::new();
    for start in starts {
        dbs.push(start.await.unwrap().expect("every instance starts"));
    }
    let applied: Vec<(i64, i64, bool)> = sqlx::query_as(
        "SELECT version, count(*), bool_and(success) FROM _sqlx_migrations
         GROUP BY version ORDER BY version",
    )
    .fetch_all(dbs[0].pool())
    .await
    .unwrap();
    let expected: Vec<(i64, i64, bool)> = (1..=SCHEMA_VERSION).map(|v| (v, 1, true)).collect();
    assert_eq!(applied, expected);
    // Every instance works on the schema.
    for db in &dbs {
        founded(db, 1).await;
    }
    // And a later start finds nothing to do.
    PostgresDatabase::connect(&url).await.unwrap();
}

/// Instances starting at once on an empty database (each with its pool) settle on one first
/// organisation.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn instances_starting_together_make_one_first_organisation() {
    let url = TestCluster::shared().fresh_database();
    let starts: Vec<_> = (0..4)
        .map(|n| {
            let url = url.clone();
            tokio::spawn(async move {
                let db = PostgresDatabase::connect(&url).await.unwrap();
                let mine = new_organisation(&format!("instance {n}"), t(n));
                db.first_organisation(&mine).await.unwrap()
            })
        })
        .collect();
    let mut got = Vec::new();
    for start in starts {
        got.push(start.await.unwrap());
    }
    assert!(got.iter().all(|g| *g == got[0]), "{got:?}");
    let db = PostgresDatabase::connect(&url).await.unwrap();
    let count: i64 = sqlx::query_scalar("SELECT count(*) FROM organisations")
        .fetch_one(db.pool())
        .await
        .unwrap();
    assert_eq!(count, 1);
}

#[tokio::test]
async fn a_database_migrated_by_a_newer_koers_is_refused() {
    let url = TestCluster::shared().fresh_database();
    let db = PostgresDatabase::connect(&url).await.unwrap();
    sqlx::query(
        "INSERT INTO _sqlx_migrations (version, description, success, checksum, execution_time)
         VALUES ($1, 'from the future', true, '\\x00', 0)",
    )
    .bind(SCHEMA_VERSION + 1)
    .execute(db.pool())
    .await
    .unwrap();
    let err = PostgresDatabase::connect(&url).await.unwrap_err();
    assert_eq!(
        err,
        DatabaseError::SchemaTooNew {
            found: SCHEMA_VERSION + 1,
            supported: SCHEMA_VERSION
        }
    );
}

#[tokio::test]
async fn a_stored_value_this_build_cannot_read_is_unreadable() {
    let db = shared_db().await;
    let (plan, _, founder) = founded(&db, 0).await;
    sqlx::query("UPDATE devices SET role = 'astronaut' WHERE device_id = $1")
        .bind(founder.device.0)
        .execute(db.pool())
        .await
        .unwrap();
    let err = db.devices(plan).await.unwrap_err();
    assert!(matches!(err, DatabaseError::Unreadable(_)), "{err}");
    let err = db.device_by_token(&founder.token, t(0)).await.unwrap_err();
    assert!(matches!(err, DatabaseError::Unreadable(_)), "{err}");
    let (org, _, worker) = organisation_with_staff(&db).await;
    let (plan, _, _) = founded_for(&db, org, worker.account, t(0)).await;
    sqlx::query("UPDATE account_memberships SET role = 'astronaut' WHERE plan_id = $1")
        .bind(plan.0)
        .execute(db.pool())
        .await
        .unwrap();
    let err = db.memberships(worker.account).await.unwrap_err();
    assert!(matches!(err, DatabaseError::Unreadable(_)), "{err}");
    let err = db.organisation_plans(org).await.unwrap_err();
    assert!(matches!(err, DatabaseError::Unreadable(_)), "{err}");
}

#[tokio::test]
async fn a_broken_constraint_is_failed_not_unavailable() {
    let db = shared_db().await;
    let (plan, worker, _) = founded(&db, 0).await;
    let invite = NewInvite {
        invite: InviteId::new(),
        code: SecretHash(format!("same-{plan}")),
        plan,
        member: MemberId(Uuid::new_v4()),
        role: Role::Parent,
        expires_at: t(60),
        created_by: worker,
    };
    db.create_invite(&invite, t(0)).await.unwrap();
    let again = NewInvite {
        invite: InviteId::new(),
        ..invite.clone()
    };
    let err = db.create_invite(&again, t(0)).await.unwrap_err();
    assert!(matches!(err, DatabaseError::Failed(_)), "{err}");
    // An invite for a plan that does not exist breaks the foreign key.
    let nowhere = NewInvite {
        invite: InviteId::new(),
        code: SecretHash(format!("other-{plan}")),
        plan: PlanId(Uuid::new_v4()),
        ..invite
    };
    let err = db.create_invite(&nowhere, t(0)).await.unwrap_err();
    assert!(matches!(err, DatabaseError::Failed(_)), "{err}");
    db.health().await.unwrap();
}

#[tokio::test]
async fn a_connection_ended_by_the_server_mid_transaction_is_unavailable_and_replaced() {
    let db = shared_db().await;
    let mut tx = db.pool().begin().await.unwrap();
    let pid: i32 = sqlx::query_scalar("SELECT pg_backend_pid()")
        .fetch_one(&mut *tx)
        .await
        .unwrap();
    let ended: bool = sqlx::query_scalar("SELECT pg_terminate_backend($1)")
        .bind(pid)
        .fetch_one(db.pool())
        .await
        .unwrap();
    assert!(ended);
    let err = sqlx::query("SELECT 1").execute(&mut *tx).await.unwrap_err();
    let mapped = map_error(err);
    assert!(matches!(mapped, DatabaseError::Unavailable(_)), "{mapped}");
    drop(tx);
    // The pool replaces the dead connection by itself.
    for _ in 0..5 {
        db.health().await.unwrap();
    }
}

#[tokio::test]
async fn no_connection_left_for_koers_is_unavailable() {
    let cluster = TestCluster::shared();
    let role = format!("limited_{}", Uuid::new_v4().simple());
    let admin = PostgresDatabase::connect(&cluster.url()).await.unwrap();
    // The name is made here (a UUID's hex digits), not read from anywhere.
    sqlx::query(AssertSqlSafe(format!(
        "CREATE ROLE {role} LOGIN CONNECTION LIMIT 1"
    )))
    .execute(admin.pool())
    .await
    .unwrap();
    sqlx::query(AssertSqlSafe(format!(
        "CREATE DATABASE {role} OWNER {role}"
    )))
    .execute(admin.pool())
    .await
    .unwrap();
    let url = format!("postgres://{role}@127.0.0.1:{}/{role}", cluster.port());
    let db = PostgresDatabase::connect_with(&url, quick()).await.unwrap();
    // Another instance holds the role's only connection.
    db.health().await.unwrap();
    let started = Instant::now();
    let err = PostgresDatabase::connect_with(&url, quick())
        .await
        .unwrap_err();
    assert!(matches!(err, DatabaseError::Unavailable(_)), "{err}");
    assert!(started.elapsed() < Duration::from_secs(5));
}

/// A refused connection is tried again until `acquire_timeout` (sqlx's pool does so, also for the
/// migrations' connection), then it is `Unavailable`: within a second here, not after a hang.
#[tokio::test]
async fn a_database_nobody_listens_for_is_unavailable_within_the_acquire_timeout() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let started = Instant::now();
    let err =
        PostgresDatabase::connect_with(&format!("postgres://koers@127.0.0.1:{port}/x"), quick())
            .await
            .unwrap_err();
    assert!(matches!(err, DatabaseError::Unavailable(_)), "{err}");
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "{:?}",
        started.elapsed()
    );
    let err = PostgresDatabase::connect("not a url").await.unwrap_err();
    assert!(matches!(err, DatabaseError::Failed(_)), "{err}");
}

/// The same `PostgresDatabase` value through a clean stop and a crash of PostgreSQL: while it is
/// down, queries fail fast with `Unavailable`; once it is back, they work again and nothing
/// committed is lost.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_pool_recovers_by_itself_after_postgresql_restarts() {
    let cluster = TestCluster::start();
    let url = cluster.create_database("koers");
    let db = PostgresDatabase::connect_with(&url, quick()).await.unwrap();
    let (plan, worker, founder) = founded(&db, 3).await;
    let before = db.ops_page(plan, 0, 100).await.unwrap();

    for (how, stop) in [
        ("stop", TestCluster::stop as fn(&TestCluster)),
        ("crash", TestCluster::kill_hard),
    ] {
        stop(&cluster);
        let started = Instant::now();
        let err = db.health().await.unwrap_err();
        assert!(matches!(err, DatabaseError::Unavailable(_)), "{how}: {err}");
        assert!(
            started.elapsed() < Duration::from_secs(3),
            "{how}: {:?}",
            started.elapsed()
        );
        let err = append_all_result(&db, plan, &[op(worker, 9)])
            .await
            .unwrap_err();
        assert!(matches!(err, DatabaseError::Unavailable(_)), "{how}: {err}");

        cluster.start_again();
        db.health().await.unwrap();
        let after = db.ops_page(plan, 0, 100).await.unwrap();
        assert_eq!(
            after.ops[..3],
            before.ops[..],
            "{how}: the data is all there"
        );
        let seqs = append_all(&db, plan, &[op(worker, 10)]).await;
        assert_eq!(seqs, [after.head + 1], "{how}");
        assert!(db
            .device_by_token(&founder.token, t(0))
            .await
            .unwrap()
            .is_some());
    }
}

async fn append_all_result(
    db: &PostgresDatabase,
    plan: PlanId,
    ops: &[NewOp],
) -> Result<Vec<Seq>, DatabaseError> {
    db.append_ops(Append {
        plan,
        after_head: 3,
        ops,
        shut_out: &[],
        memberships: &[],
        access: None,
        now: t(5),
    })
    .await
    .map(|appended| appended.seqs)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn notices_published_by_one_instance_are_heard_by_every_instance() {
    let url = TestCluster::shared().fresh_database();
    let (db_a, db_b) = (
        PostgresDatabase::connect(&url).await.unwrap(),
        PostgresDatabase::connect(&url).await.unwrap(),
    );
    let (a, b) = (
        PostgresBus::start(&db_a).await.unwrap(),
        PostgresBus::start(&db_b).await.unwrap(),
    );
    let (mut heard_by_a, mut heard_by_b) = (a.subscribe(), b.subscribe());
    let plan = PlanId(Uuid::new_v4());
    let notices = [
        Notice::Ops { plan, head: 42 },
        Notice::DeviceRevoked {
            plan,
            device: DeviceId::new(),
        },
        Notice::MemberRemoved {
            plan,
            member: MemberId(Uuid::new_v4()),
        },
    ];
    for notice in &notices {
        b.publish(notice.clone()).await.unwrap();
    }
    // A notice this build cannot read (from a newer one) is passed over.
    sqlx::query("SELECT pg_notify('koers', 'z something new')")
        .execute(db_a.pool())
        .await
        .unwrap();
    a.publish(Notice::Ops { plan, head: 43 }).await.unwrap();
    for rx in [&mut heard_by_a, &mut heard_by_b] {
        for notice in &notices {
            assert_eq!(&next(rx, Duration::from_secs(5)).await, notice);
        }
        assert_eq!(
            next(rx, Duration::from_secs(5)).await,
            Notice::Ops { plan, head: 43 }
        );
    }
    // Another database's notices are not heard.
    let other_db = fresh_db().await;
    let other = PostgresBus::start(&other_db).await.unwrap();
    other.publish(Notice::Resync).await.unwrap();
    a.publish(Notice::Ops { plan, head: 44 }).await.unwrap();
    assert_eq!(
        next(&mut heard_by_a, Duration::from_secs(5)).await,
        Notice::Ops { plan, head: 44 }
    );
}

/// PostgreSQL restarts under two instances: the listening instance delivers `Resync` once it
/// listens again, and then hears new notices as before.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn after_postgresql_restarts_the_bus_delivers_resync_and_then_hears_again() {
    let cluster = TestCluster::start();
    let url = cluster.create_database("koers");
    let (db_a, db_b) = (
        PostgresDatabase::connect_with(&url, quick()).await.unwrap(),
        PostgresDatabase::connect_with(&url, quick()).await.unwrap(),
    );
    let a = PostgresBus::start(&db_a).await.unwrap();
    let b = PostgresBus::start(&db_b).await.unwrap();
    let mut heard = a.subscribe();
    let plan = PlanId(Uuid::new_v4());
    b.publish(Notice::Ops { plan, head: 1 }).await.unwrap();
    assert_eq!(
        next(&mut heard, Duration::from_secs(5)).await,
        Notice::Ops { plan, head: 1 }
    );

    cluster.stop();
    let err = b.publish(Notice::Ops { plan, head: 2 }).await.unwrap_err();
    assert!(matches!(err, DatabaseError::Unavailable(_)), "{err}");
    // Down for longer than one backoff step.
    tokio::time::sleep(Duration::from_millis(700)).await;
    cluster.start_again();
    let started = Instant::now();
    assert_eq!(
        next(&mut heard, Duration::from_secs(10)).await,
        Notice::Resync
    );
    let reconnected_in = started.elapsed();
    assert!(
        reconnected_in < Duration::from_secs(5),
        "{reconnected_in:?}"
    );

    b.publish(Notice::Ops { plan, head: 3 }).await.unwrap();
    assert_eq!(
        next(&mut heard, Duration::from_secs(5)).await,
        Notice::Ops { plan, head: 3 }
    );
    assert!(heard.try_recv().is_err(), "Resync once, nothing else");
}

/// A push can hold a thousand ops: they go in as one statement, numbered in order, and a
/// re-send of them all (with one new) keeps every seq.
#[tokio::test]
async fn a_push_of_a_thousand_ops_is_stored_in_one_append() {
    let db = shared_db().await;
    let (plan, worker, _) = founded(&db, 0).await;
    let ops: Vec<NewOp> = (0..1000).map(|n| op(worker, n)).collect();
    let started = Instant::now();
    let seqs = append_all(&db, plan, &ops).await;
    let took = started.elapsed();
    assert_eq!(seqs, (1..=1000).collect::<Vec<Seq>>());
    let mut again = ops.clone();
    again.push(op(worker, 1000));
    let seqs = append_all(&db, plan, &again).await;
    assert_eq!(seqs, (1..=1001).collect::<Vec<Seq>>());
    let page = db.ops_page(plan, 990, 5).await.unwrap();
    assert_eq!(
        page.ops.iter().map(|o| o.seq).collect::<Vec<_>>(),
        [991, 992, 993, 994, 995]
    );
    assert_eq!(page.head, 1001);
    assert_eq!(page.ops[0].body, ops[990].body);
    eprintln!("1,000 ops appended in {took:?}");
}

/// Two plans append the same op id at once. The second transaction cannot see the first's row
/// when it checks, so the insert is where they meet: the loser gets `OpIdConflict` (not a bare
/// unique violation) and stores nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_op_id_taken_by_another_plan_meanwhile_is_a_conflict() {
    let db = Arc::new(fresh_db().await);
    let (noa, worker, _) = founded(db.as_ref(), 0).await;
    let (sam, _, _) = founded(db.as_ref(), 0).await;
    let shared = op(worker, 1);
    // Sam's transaction holds the op, not yet committed.
    let mut sam_tx = db.pool().begin().await.unwrap();
    sqlx::query(
        "INSERT INTO ops (plan_id, seq, op_id, author, body, received_at)
         VALUES ($1, 1, $2, $3, $4, now())",
    )
    .bind(sam.0)
    .bind(shared.id.0)
    .bind(worker.0)
    .bind(&shared.body)
    .execute(&mut *sam_tx)
    .await
    .unwrap();
    sqlx::query("UPDATE plans SET head = 1 WHERE plan_id = $1")
        .bind(sam.0)
        .execute(&mut *sam_tx)
        .await
        .unwrap();
    let noa_push = {
        let db = Arc::clone(&db);
        let ops = vec![op(worker, 2), shared.clone()];
        tokio::spawn(async move {
            db.append_ops(Append {
                plan: noa,
                after_head: 0,
                ops: &ops,
                shut_out: &[],
                memberships: &[],
                access: None,
                now: t(1),
            })
            .await
        })
    };
    // Wait until Noa's insert waits for Sam's transaction.
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let waiting: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM pg_stat_activity
             WHERE datname = current_database() AND wait_event_type = 'Lock'",
        )
        .fetch_one(db.pool())
        .await
        .unwrap();
        if waiting > 0 {
            break;
        }
        assert!(Instant::now() < deadline, "Noa's push never waited");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    sam_tx.commit().await.unwrap();
    let err = noa_push.await.unwrap().unwrap_err();
    assert_eq!(err, DatabaseError::OpIdConflict { op_id: shared.id });
    assert_eq!(
        db.head(noa).await.unwrap(),
        0,
        "nothing of the batch stored"
    );
    assert!(db.ops_page(noa, 0, 10).await.unwrap().ops.is_empty());
    assert_eq!(
        db.op_bodies(sam, &[shared.id]).await.unwrap(),
        [(shared.id, shared.body.clone())]
    );
}

/// Two acceptances of one invite at once: one device is registered, the other hears `Used`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_invite_accepted_twice_at_once_registers_one_device() {
    let db = Arc::new(shared_db().await);
    let (plan, worker, _) = founded(db.as_ref(), 0).await;
    let invite = NewInvite {
        invite: InviteId::new(),
        code: SecretHash(format!("code-{plan}")),
        plan,
        member: MemberId(Uuid::new_v4()),
        role: Role::Parent,
        expires_at: t(3600),
        created_by: worker,
    };
    db.create_invite(&invite, t(0)).await.unwrap();
    let accepts: Vec<_> = (0..4)
        .map(|_| {
            let (db, code) = (Arc::clone(&db), invite.code.clone());
            tokio::spawn(async move {
                let phone = device(plan, MemberId(Uuid::new_v4()), Role::Parent);
                db.accept_invite(&code, &phone, t(1)).await.unwrap()
            })
        })
        .collect();
    let mut accepted = 0;
    for accept in accepts {
        match accept.await.unwrap() {
            AcceptOutcome::Accepted(_) => accepted += 1,
            AcceptOutcome::Used => {}
            other => panic!("{other:?}"),
        }
    }
    assert_eq!(accepted, 1);
    assert_eq!(
        db.devices(plan).await.unwrap().len(),
        2,
        "the founder's and one more"
    );
}
