//! Storage behind one small trait, so that a PostgreSQL implementation can follow without
//! touching the HTTP handlers (the model is Atuin's server: one `Database` trait).
//!
//! Times are passed in and stored as RFC 3339 text in UTC with milliseconds
//! (`2026-11-23T20:00:00.000Z`), so that text order is time order.

pub mod sqlite;

use std::future::Future;
use std::pin::Pin;

pub use sqlite::SqliteStore;

/// The future returned by every [`Store`] method (boxed, so that `dyn Store` works).
pub type StoreFuture<'a, T> = Pin<Box<dyn Future<Output = Result<T, StoreError>> + Send + 'a>>;

/// One operation to append: `(op_id, body)`. `op_id` is globally unique (a UUID from the client).
pub type NewOp = (String, String);

/// A stored operation as read back: its sequence number, body and when the server stored it
/// (RFC 3339 UTC with milliseconds).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredOp {
    pub seq: i64,
    pub body: String,
    pub received_at: String,
}

/// One page of a plan's log and the plan's newest sequence number, read in one transaction, so
/// that both describe the same moment (a push in between cannot make `last_seq` run ahead of
/// what the page could have held).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct OpsPage {
    pub ops: Vec<StoredOp>,
    pub last_seq: i64,
}

/// What an append stored, and whom it shut out.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Appended {
    /// The operations' sequence numbers, in the order given.
    pub seqs: Vec<i64>,
    /// Devices revoked because their member was shut out (their event streams should end).
    pub revoked_devices: Vec<String>,
}

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
    #[error("operation {op_id} is stored with other content")]
    OpIdReused { op_id: String },
    #[error("plan {plan_id} already exists")]
    PlanExists { plan_id: String },
    #[error("the database task failed: {0}")]
    Task(String),
}

/// A device that may sync one plan as one member. The token itself is never stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceRecord {
    pub device_id: String,
    pub plan_id: String,
    pub member_id: String,
    /// The role the member had when the device was registered (the plan's current role wins
    /// for permission checks).
    pub role: String,
    pub name: String,
    pub created_at: String,
    pub last_seen_at: Option<String>,
    pub revoked_at: Option<String>,
}

/// A device to register: its id, owner and the SHA-256 hex of its token.
#[derive(Debug, Clone)]
pub struct NewDevice {
    pub device_id: String,
    pub plan_id: String,
    pub member_id: String,
    pub role: String,
    pub token_hash: String,
    pub name: String,
}

/// An invitation for one member of one plan. The code itself is never stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InviteRecord {
    pub invite_id: String,
    pub plan_id: String,
    pub member_id: String,
    pub role: String,
    pub created_by: String,
    pub created_at: String,
    pub expires_at: String,
    pub used_at: Option<String>,
    pub revoked_at: Option<String>,
}

/// An invitation to create: the SHA-256 hex of its code, and who made it.
#[derive(Debug, Clone)]
pub struct NewInvite {
    pub invite_id: String,
    pub code_hash: String,
    pub plan_id: String,
    pub member_id: String,
    pub role: String,
    pub expires_at: String,
    pub created_by: String,
}

/// What became of an attempt to accept an invitation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AcceptOutcome {
    /// The invite is now used and this device registered.
    Accepted(DeviceRecord),
    Unknown,
    Used,
    Expired,
    Revoked,
}

/// The server's storage. All methods are async; a synchronous backend (SQLite) runs its work in
/// `tokio::task::spawn_blocking`. Every write is one transaction, committed before it returns.
pub trait Store: Send + Sync + 'static {
    /// A trivial query that proves the database is usable.
    fn health(&self) -> StoreFuture<'_, ()>;

    /// Appends operations to a plan's log and returns their sequence numbers, in the order
    /// given. Idempotent: an `op_id` already stored with the same content (compared as parsed
    /// JSON) returns its existing sequence number and nothing is duplicated. An `op_id` stored
    /// for another plan ([`StoreError::OpIdConflict`]) or with other content
    /// ([`StoreError::OpIdReused`]) is an error, and nothing of the batch is stored.
    ///
    /// In the same transaction, every device and open invite of the members in `shut_out` (taken
    /// out of the plan by these operations) is revoked at `now`: the change that removes someone
    /// and the end of their access are stored together or not at all.
    fn append_ops<'a>(
        &'a self,
        plan_id: &'a str,
        ops: &'a [NewOp],
        shut_out: &'a [String],
        now: &'a str,
    ) -> StoreFuture<'a, Appended>;

    /// One page of a plan's log (seq above `after_seq`, oldest first, at most `limit`) with the
    /// plan's newest sequence number, read in one transaction.
    fn ops_page<'a>(
        &'a self,
        plan_id: &'a str,
        after_seq: i64,
        limit: u32,
    ) -> StoreFuture<'a, OpsPage>;

    /// The stored bodies of those of `op_ids` that the plan holds, as `(op_id, body)`.
    fn op_bodies<'a>(
        &'a self,
        plan_id: &'a str,
        op_ids: &'a [String],
    ) -> StoreFuture<'a, Vec<(String, String)>>;

    /// The operations of one plan with a sequence number above `after_seq`, oldest first, at most
    /// `limit` of them: `(seq, body)`.
    fn ops_after<'a>(
        &'a self,
        plan_id: &'a str,
        after_seq: i64,
        limit: u32,
    ) -> StoreFuture<'a, Vec<(i64, String)>>;

    /// The highest sequence number of a plan's operations (0 if it has none).
    fn last_seq<'a>(&'a self, plan_id: &'a str) -> StoreFuture<'a, i64>;

    /// True if the plan was created (or has operations from before plans were recorded).
    fn plan_exists<'a>(&'a self, plan_id: &'a str) -> StoreFuture<'a, bool>;

    /// Creates a plan with its first operations and its founder's device, in one transaction.
    /// [`StoreError::PlanExists`] if the plan exists; [`StoreError::OpIdConflict`] or
    /// [`StoreError::OpIdReused`] as for [`Store::append_ops`]. Returns the operations' sequence
    /// numbers.
    fn create_plan<'a>(
        &'a self,
        plan_id: &'a str,
        ops: &'a [NewOp],
        device: &'a NewDevice,
        now: &'a str,
    ) -> StoreFuture<'a, Vec<i64>>;

    /// The device whose token hashes to `token_hash` (revoked or not). Records `now` as its last
    /// use when the last record is more than a minute old.
    fn device_by_token<'a>(
        &'a self,
        token_hash: &'a str,
        now: &'a str,
    ) -> StoreFuture<'a, Option<DeviceRecord>>;

    /// Every device of a plan, oldest first.
    fn devices<'a>(&'a self, plan_id: &'a str) -> StoreFuture<'a, Vec<DeviceRecord>>;

    /// Revokes a device of a plan. False if the plan has no such device; revoking twice is fine.
    fn revoke_device<'a>(
        &'a self,
        plan_id: &'a str,
        device_id: &'a str,
        now: &'a str,
    ) -> StoreFuture<'a, bool>;

    fn create_invite<'a>(
        &'a self,
        invite: &'a NewInvite,
        now: &'a str,
    ) -> StoreFuture<'a, InviteRecord>;

    /// Every invite of a plan, oldest first.
    fn invites<'a>(&'a self, plan_id: &'a str) -> StoreFuture<'a, Vec<InviteRecord>>;

    /// Revokes an unused invite. False if the plan has no such invite.
    fn revoke_invite<'a>(
        &'a self,
        plan_id: &'a str,
        invite_id: &'a str,
        now: &'a str,
    ) -> StoreFuture<'a, bool>;

    /// The invite whose code hashes to `code_hash`, whatever its state.
    fn invite_by_code<'a>(&'a self, code_hash: &'a str) -> StoreFuture<'a, Option<InviteRecord>>;

    /// Uses the invite whose code hashes to `code_hash` and registers `device` (whose plan,
    /// member and role are taken from the invite), in one transaction.
    fn accept_invite<'a>(
        &'a self,
        code_hash: &'a str,
        device: &'a NewDevice,
        now: &'a str,
    ) -> StoreFuture<'a, AcceptOutcome>;

    /// Issue 10 (server limits, [`crate::limits`]): how many operations each author has stored
    /// in a plan since `since` (by `received_at`), as `(author member id, count)`. Counting from
    /// what was received makes the daily limit survive a restart. A store that cannot tell
    /// answers nothing (the day then counts from the first push after loading).
    fn ops_per_author_since<'a>(
        &'a self,
        plan_id: &'a str,
        since: &'a str,
    ) -> StoreFuture<'a, Vec<(String, i64)>> {
        let _ = (plan_id, since);
        Box::pin(async { Ok(Vec::new()) })
    }
}
