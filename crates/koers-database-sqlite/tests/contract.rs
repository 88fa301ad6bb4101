//! The storage contract (koers_database::contract) on SQLite: each test on a fresh in-memory
//! database.

use std::sync::Arc;

use koers_database::Database;
use koers_database_sqlite::SqliteDatabase;

async fn fresh() -> Arc<dyn Database> {
    Arc::new(SqliteDatabase::open_in_memory().unwrap())
}

koers_database::contract_tests!(fresh());
