//! Storage behind one small trait, so that a PostgreSQL implementation can follow without
//! touching the HTTP handlers (the model is Atuin's server: one `Database` trait).

pub mod sqlite;

use std::future::Future;
use std::pin::Pin;

pub use sqlite::SqliteStore;

/// The future returned by every [`Store`] method (boxed, so that `dyn Store` works).
pub type StoreFuture<'a, T> = Pin<Box<dyn Future<Output = Result<T, StoreError>> + Send + 'a>>;

/// One operation to append: `(op_id, body)`. `op_id` is globally unique (a UUID from the client).
pub type NewOp = (String, String);

/// What can go wrong in a store.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database error: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("the database has schema version {found}, newer than the {supported} this Koers understands")]
    SchemaTooNew { found: i64, supported: i64 },
    #[error("the database could not switch to WAL journal mode (it reported {0:?})")]
    NoWal(String),
    #[error("operation {op_id} already belongs to another plan")]
    OpIdConflict { op_id: String },
    #[error("the database task failed: {0}")]
    Task(String),
}

/// The server's storage. All methods are async; a synchronous backend (SQLite) runs its work in
/// `tokio::task::spawn_blocking`.
pub trait Store: Send + Sync + 'static {
    /// A trivial query that proves the database is usable.
    fn health(&self) -> StoreFuture<'_, ()>;

    /// Appends operations to a plan's log in one transaction and returns their sequence numbers,
    /// in the order given. Idempotent: an `op_id` that is already stored returns its existing
    /// sequence number and nothing is duplicated. An `op_id` stored for another plan is an error
    /// (and nothing of the batch is stored).
    fn append_ops<'a>(&'a self, plan_id: &'a str, ops: &'a [NewOp]) -> StoreFuture<'a, Vec<i64>>;

    /// The operations of one plan with a sequence number above `after_seq`, oldest first, at most
    /// `limit` of them: `(seq, body)`.
    fn ops_after<'a>(
        &'a self,
        plan_id: &'a str,
        after_seq: i64,
        limit: u32,
    ) -> StoreFuture<'a, Vec<(i64, String)>>;
}
