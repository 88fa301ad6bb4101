//! The storage contract of `koers-database`, on PostgreSQL: every test on one database of the
//! shared throwaway cluster (the contract tests make their own random ids), but for those about
//! the whole database, which get an empty database each.

use std::sync::{Arc, OnceLock};

use koers_database::Database;
use koers_database_postgres::testing::TestCluster;
use koers_database_postgres::PostgresDatabase;

/// A new pool (tests run on runtimes of their own, and a pool belongs to the runtime it was made
/// on) on the database shared by the contract tests.
async fn fresh() -> Arc<dyn Database> {
    static URL: OnceLock<String> = OnceLock::new();
    let url = URL.get_or_init(|| TestCluster::shared().create_database("contract"));
    Arc::new(PostgresDatabase::connect(url).await.unwrap())
}

/// A database of its own, empty but for the schema.
async fn empty() -> Arc<dyn Database> {
    let url = TestCluster::shared().fresh_database();
    Arc::new(PostgresDatabase::connect(&url).await.unwrap())
}

koers_database::contract_tests!(fresh(), empty: empty());
