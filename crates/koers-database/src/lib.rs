//! The Koers server's storage contract, as Atuin's server splits it: this crate holds the
//! [`Database`] trait with typed ids and backend-neutral errors; each backend is a crate of its
//! own (`koers-database-sqlite`, `koers-database-postgres`) with numbered `.sql` migrations;
//! [`contract`] is the one test suite every backend runs.
//!
//! Also the [`Bus`]: how server instances tell each other's event streams that a plan moved on.
//!
//! Sequence numbers are per plan: a plan's head is the seq of its newest operation, and an
//! append is stored only on top of the head it was checked against ([`Append::after_head`]), so
//! that every server instance authorizes a change against the same plan.

pub mod bus;
#[cfg(feature = "contract")]
pub mod contract;

use std::future::Future;
use std::pin::Pin;

use chrono::{DateTime, Utc};
pub use koers_core::{MemberId, OpId, PlanId, Role};
use uuid::Uuid;

pub use bus::{Bus, LocalBus, Notice};

/// A moment as the database keeps it: UTC, to the millisecond.
pub type Timestamp = DateTime<Utc>;

/// The position of an operation in its plan's log: 1, 2, 3… per plan, gapless for what was
/// stored since per-plan numbering began (older databases keep their numbers, which only grow).
pub type Seq = i64;

macro_rules! id_type {
    ($($(#[$doc:meta])* $name:ident),* $(,)?) => {$(
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub struct $name(pub uuid::Uuid);

        impl $name {
            /// A new random id.
            pub fn new() -> Self {
                Self(uuid::Uuid::new_v4())
            }
        }

        impl Default for $name {
            fn default() -> Self {
                Self::new()
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                self.0.fmt(f)
            }
        }

        impl std::str::FromStr for $name {
            type Err = uuid::Error;
            fn from_str(text: &str) -> Result<Self, Self::Err> {
                text.parse().map(Self)
            }
        }
    )*};
}

mod accounts;
pub use accounts::*;

id_type!(
    /// A phone (or browser) registered to sync one plan as one member.
    DeviceId,
    /// An invitation for one member of one plan.
    InviteId,
);

/// The SHA-256 hex of a device token or an invite code: the secret itself is never stored.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct SecretHash(pub String);

/// The future every [`Database`] method returns (boxed, so that `dyn Database` works).
pub type DbFuture<'a, T> = Pin<Box<dyn Future<Output = Result<T, DatabaseError>> + Send + 'a>>;

/// What can go wrong, in words that do not depend on the backend.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DatabaseError {
    /// The database cannot be reached now (connection refused or lost, restarting, pool
    /// exhausted): worth trying again shortly. The server answers 503.
    #[error("the database cannot be reached: {0}")]
    Unavailable(String),
    /// Any other failure of the backend (a constraint, a full disk, a bug).
    #[error("database error: {0}")]
    Failed(String),
    /// A stored value is not what this build can read (an unknown role, a malformed id).
    #[error("the database holds a value this Koers cannot read: {0}")]
    Unreadable(String),
    #[error("the database has schema version {found}, newer than the {supported} this Koers understands")]
    SchemaTooNew { found: i64, supported: i64 },
    #[error("operation {op_id} already belongs to another plan")]
    OpIdConflict { op_id: OpId },
    #[error("operation {op_id} is stored with other content")]
    OpIdReused { op_id: OpId },
    #[error("plan {plan} already exists")]
    PlanExists { plan: PlanId },
    #[error("plan {plan} does not exist")]
    PlanUnknown { plan: PlanId },
    /// The append was checked against head `expected`, but the plan is at `head` now (another
    /// server instance stored something first). Nothing was stored: catch up and check again.
    #[error("plan {plan} moved on from seq {expected} to {head}")]
    HeadMoved {
        plan: PlanId,
        expected: Seq,
        head: Seq,
    },
}

/// One operation to store: its id, its author (for the daily limit) and its JSON body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewOp {
    pub id: OpId,
    pub author: MemberId,
    pub body: String,
}

/// A stored operation as read back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredOp {
    pub seq: Seq,
    pub body: String,
    /// When the server stored it.
    pub received_at: Timestamp,
}

/// One page of a plan's log with the plan's head, read in one snapshot, so that both describe
/// the same moment (a push in between cannot make `head` run ahead of what the page could hold).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct OpsPage {
    pub ops: Vec<StoredOp>,
    pub head: Seq,
}

/// A batch to append to a plan, checked against the plan at `after_head`.
#[derive(Debug, Clone, Copy)]
pub struct Append<'a> {
    pub plan: PlanId,
    /// The head the batch was authorized against. If the plan's head is another one when the
    /// transaction holds the plan's lock, nothing is stored ([`DatabaseError::HeadMoved`]).
    pub after_head: Seq,
    pub ops: &'a [NewOp],
    /// Members this batch takes out of the plan: their devices and open invites are revoked in
    /// the same transaction.
    pub shut_out: &'a [MemberId],
    /// Accounts that join or leave the plan with this batch (a hand-over), in the same
    /// transaction.
    pub memberships: &'a [MembershipChange],
    /// A line for the access log, written in the same transaction: the change is logged exactly
    /// when it is stored, without a second commit.
    pub access: Option<&'a AccessEntry>,
    pub now: Timestamp,
}

/// What an append stored, and whom it shut out.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Appended {
    /// The operations' sequence numbers, in the order given (a re-sent operation keeps its own).
    pub seqs: Vec<Seq>,
    /// The plan's head after the append.
    pub head: Seq,
    /// Devices revoked because their member was shut out (their event streams should end).
    pub revoked_devices: Vec<DeviceId>,
}

/// A device that may sync one plan as one member. The token itself is never stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceRecord {
    pub device: DeviceId,
    pub plan: PlanId,
    pub member: MemberId,
    /// The role the member had when the device was registered (the plan's current role wins
    /// for permission checks).
    pub role: Role,
    pub name: String,
    /// The professional's account that registered it (a family's phone has none).
    pub account: Option<AccountId>,
    pub created_at: Timestamp,
    pub last_seen_at: Option<Timestamp>,
    pub revoked_at: Option<Timestamp>,
}

/// A device to register.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewDevice {
    pub device: DeviceId,
    pub plan: PlanId,
    pub member: MemberId,
    pub role: Role,
    pub token: SecretHash,
    pub name: String,
    /// The signed-in professional's account, if any: accepting an invite with one makes the
    /// account a member of the plan (a guardian of another organisation, say).
    pub account: Option<AccountId>,
}

/// An invitation for one member of one plan. The code itself is never stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InviteRecord {
    pub invite: InviteId,
    pub plan: PlanId,
    pub member: MemberId,
    pub role: Role,
    pub created_by: MemberId,
    pub created_at: Timestamp,
    pub expires_at: Timestamp,
    pub used_at: Option<Timestamp>,
    pub revoked_at: Option<Timestamp>,
}

/// An invitation to create.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewInvite {
    pub invite: InviteId,
    pub code: SecretHash,
    pub plan: PlanId,
    pub member: MemberId,
    pub role: Role,
    pub expires_at: Timestamp,
    pub created_by: MemberId,
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

/// The server's storage. Every write is one transaction, committed before it returns.
pub trait Database: Send + Sync + 'static {
    /// A trivial query that proves the database is usable now.
    fn health(&self) -> DbFuture<'_, ()>;

    /// Creates a plan with its first operations (seqs 1, 2, …) and its founder's device
    /// (registered in `plan`, whatever `founder.plan` says), in one transaction. With an
    /// `owner` the plan belongs to its organisation and the founder's member to its account.
    /// [`DatabaseError::PlanExists`] if the plan exists; the op id errors as for
    /// [`Database::append_ops`].
    fn create_plan<'a>(
        &'a self,
        plan: PlanId,
        ops: &'a [NewOp],
        founder: &'a NewDevice,
        owner: Option<PlanOwner>,
        now: Timestamp,
    ) -> DbFuture<'a, Vec<Seq>>;

    /// True if the plan was created.
    fn plan_exists(&self, plan: PlanId) -> DbFuture<'_, bool>;

    /// Appends operations on top of `append.after_head`, under the plan's lock, numbering new
    /// ones head + 1, head + 2, … Idempotent: an op id already stored in this plan with the same
    /// content (compared as parsed JSON) returns its existing seq. An op id of another plan
    /// ([`DatabaseError::OpIdConflict`]) or with other content ([`DatabaseError::OpIdReused`]),
    /// an unknown plan or a moved head is an error, and nothing of the batch is stored.
    fn append_ops<'a>(&'a self, append: Append<'a>) -> DbFuture<'a, Appended>;

    /// One page of a plan's log (seq above `after`, oldest first, at most `limit`) with the
    /// plan's head, read in one snapshot. An unknown plan reads as empty.
    fn ops_page(&self, plan: PlanId, after: Seq, limit: u32) -> DbFuture<'_, OpsPage>;

    /// The plan's head: the seq of its newest operation (0 if it has none or does not exist).
    fn head(&self, plan: PlanId) -> DbFuture<'_, Seq>;

    /// The stored bodies of those of `ops` that the plan holds.
    fn op_bodies<'a>(&'a self, plan: PlanId, ops: &'a [OpId]) -> DbFuture<'a, Vec<(OpId, String)>>;

    /// How many operations each author stored in the plan since `since` (by when they were
    /// received): the daily limit survives a restart and counts every server instance.
    fn ops_per_author_since(
        &self,
        plan: PlanId,
        since: Timestamp,
    ) -> DbFuture<'_, Vec<(MemberId, u32)>>;

    /// The device whose token hashes to `token` (revoked or not). Records `now` as its last use
    /// when the last record is more than a minute old.
    fn device_by_token<'a>(
        &'a self,
        token: &'a SecretHash,
        now: Timestamp,
    ) -> DbFuture<'a, Option<DeviceRecord>>;

    /// Every device of a plan, oldest first.
    fn devices(&self, plan: PlanId) -> DbFuture<'_, Vec<DeviceRecord>>;

    /// Revokes a device of a plan. False if the plan has no such device; revoking twice is fine.
    fn revoke_device(&self, plan: PlanId, device: DeviceId, now: Timestamp) -> DbFuture<'_, bool>;

    fn create_invite<'a>(
        &'a self,
        invite: &'a NewInvite,
        now: Timestamp,
    ) -> DbFuture<'a, InviteRecord>;

    /// Every invite of a plan, oldest first.
    fn invites(&self, plan: PlanId) -> DbFuture<'_, Vec<InviteRecord>>;

    /// Revokes an unused invite. False if the plan has no such invite.
    fn revoke_invite(&self, plan: PlanId, invite: InviteId, now: Timestamp) -> DbFuture<'_, bool>;

    /// The invite whose code hashes to `code`, whatever its state.
    fn invite_by_code<'a>(&'a self, code: &'a SecretHash) -> DbFuture<'a, Option<InviteRecord>>;

    /// Uses the invite whose code hashes to `code` and registers `device` (whose plan, member
    /// and role are taken from the invite), in one transaction. With `device.account` the
    /// account becomes a member of the plan as the invite's member (ending any membership it
    /// had there).
    fn accept_invite<'a>(
        &'a self,
        code: &'a SecretHash,
        device: &'a NewDevice,
        now: Timestamp,
    ) -> DbFuture<'a, AcceptOutcome>;

    /// Registers a device for a member (a signed-in professional's new phone, for a plan their
    /// account is a member of). The caller checks the membership.
    fn add_device<'a>(
        &'a self,
        device: &'a NewDevice,
        now: Timestamp,
    ) -> DbFuture<'a, DeviceRecord>;

    /// Gives a device a new token (the old one stops working at once). False if the device is
    /// unknown or revoked.
    fn rotate_device_token<'a>(
        &'a self,
        device: DeviceId,
        token: &'a SecretHash,
    ) -> DbFuture<'a, bool>;

    // Organisations and accounts (see `accounts.rs`).

    /// The oldest organisation, after creating `first` if there is none, in one transaction
    /// (instances starting at once create one), and whether it has any account yet.
    fn first_organisation<'a>(
        &'a self,
        first: &'a OrganisationRecord,
    ) -> DbFuture<'a, (OrganisationRecord, bool)>;

    fn create_organisation<'a>(&'a self, organisation: &'a OrganisationRecord) -> DbFuture<'a, ()>;

    fn organisation(
        &self,
        organisation: OrganisationId,
    ) -> DbFuture<'_, Option<OrganisationRecord>>;

    fn create_enrolment<'a>(
        &'a self,
        enrolment: &'a NewEnrolment,
        now: Timestamp,
    ) -> DbFuture<'a, EnrolmentRecord>;

    /// The enrolment whose code hashes to `code`, whatever its state.
    fn enrolment_by_code<'a>(
        &'a self,
        code: &'a SecretHash,
    ) -> DbFuture<'a, Option<EnrolmentRecord>>;

    /// Every enrolment of an organisation, oldest first.
    fn enrolments(&self, organisation: OrganisationId) -> DbFuture<'_, Vec<EnrolmentRecord>>;

    /// Revokes an unused enrolment of the organisation. False if it has no such enrolment.
    fn revoke_enrolment(
        &self,
        organisation: OrganisationId,
        enrolment: EnrolmentId,
        now: Timestamp,
    ) -> DbFuture<'_, bool>;

    /// Uses an enrolment, in one transaction: checks it is unused, unexpired and unrevoked (and,
    /// for a first administrator's link, that the organisation has no account yet), marks it
    /// used and creates the account (named `enrolling.name`; admin and organisation from the
    /// enrolment), its passkey and its first session.
    fn use_enrolment<'a>(
        &'a self,
        enrolment: EnrolmentId,
        enrolling: &'a Enrolling,
        now: Timestamp,
    ) -> DbFuture<'a, EnrolmentOutcome>;

    fn account(&self, account: AccountId) -> DbFuture<'_, Option<AccountRecord>>;

    /// Every account of an organisation, oldest first.
    fn accounts(&self, organisation: OrganisationId) -> DbFuture<'_, Vec<AccountRecord>>;

    /// Deactivates an account, in one transaction: marks it, revokes its sessions and every
    /// device it registered. Returns the devices revoked now (their event streams should end).
    /// Its memberships stay (an administrator hands its plans over). Deactivating twice is fine.
    fn deactivate_account(
        &self,
        account: AccountId,
        now: Timestamp,
    ) -> DbFuture<'_, Vec<(PlanId, DeviceId)>>;

    /// The passkey with this credential id.
    fn passkey<'a>(&'a self, credential: &'a str) -> DbFuture<'a, Option<PasskeyRecord>>;

    /// Stores a passkey's new state after a sign-in (its counter) and the time of use.
    fn update_passkey<'a>(
        &'a self,
        credential: &'a str,
        passkey: &'a str,
        now: Timestamp,
    ) -> DbFuture<'a, ()>;

    /// Keeps a ceremony's state until `expires_at`.
    fn put_ceremony<'a>(
        &'a self,
        ceremony: CeremonyId,
        state: &'a str,
        expires_at: Timestamp,
    ) -> DbFuture<'a, ()>;

    /// Takes a ceremony's state: it is deleted, so a ceremony is answered once. `None` if it is
    /// unknown, taken before or expired at `now` (expired ones are deleted along the way).
    fn take_ceremony(&self, ceremony: CeremonyId, now: Timestamp) -> DbFuture<'_, Option<String>>;

    fn create_session<'a>(
        &'a self,
        session: &'a NewSession,
        now: Timestamp,
    ) -> DbFuture<'a, SessionRecord>;

    /// The session whose token hashes to `token` (expired or revoked too). Records `now` as its
    /// last use when the last record is more than a minute old.
    fn session_by_token<'a>(
        &'a self,
        token: &'a SecretHash,
        now: Timestamp,
    ) -> DbFuture<'a, Option<SessionRecord>>;

    /// Revokes a session. False if there is no such session; revoking twice is fine.
    fn revoke_session(&self, session: SessionId, now: Timestamp) -> DbFuture<'_, bool>;

    /// An account's current memberships, oldest first.
    fn memberships(&self, account: AccountId) -> DbFuture<'_, Vec<MembershipRecord>>;

    /// The organisation a plan belongs to (`None`: founded before organisations, or unknown).
    fn plan_organisation(&self, plan: PlanId) -> DbFuture<'_, Option<OrganisationId>>;

    /// An organisation's plans, oldest first, with their current memberships.
    fn organisation_plans(
        &self,
        organisation: OrganisationId,
    ) -> DbFuture<'_, Vec<OrganisationPlan>>;

    /// Adds lines to the access log.
    fn log_access<'a>(&'a self, entries: &'a [AccessEntry]) -> DbFuture<'a, ()>;

    /// An organisation's access log, newest first: at most `limit` lines from before `before`.
    fn access_log(
        &self,
        organisation: OrganisationId,
        before: Option<Timestamp>,
        limit: u32,
    ) -> DbFuture<'_, Vec<AccessEntry>>;
}

/// True if two stored bodies say the same: equal as parsed JSON (key order and spacing do not
/// matter), or as text when either is not JSON. Every backend compares re-sends this way.
pub fn same_body(a: &str, b: &str) -> bool {
    match (
        serde_json::from_str::<serde_json::Value>(a),
        serde_json::from_str::<serde_json::Value>(b),
    ) {
        (Ok(a), Ok(b)) => a == b,
        _ => a == b,
    }
}

/// A time as text: RFC 3339, UTC, milliseconds (`2026-11-23T20:00:00.000Z`), so that text
/// order is time order (the SQLite backend keeps times this way).
pub fn time_text(t: Timestamp) -> String {
    t.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string()
}

/// Reads [`time_text`] back.
pub fn parse_time(text: &str) -> Result<Timestamp, DatabaseError> {
    DateTime::parse_from_rfc3339(text)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|err| DatabaseError::Unreadable(format!("time {text:?}: {err}")))
}

/// Now, to the millisecond (what every backend can store exactly).
pub fn now() -> Timestamp {
    use chrono::SubsecRound as _;
    Utc::now().trunc_subsecs(3)
}

/// Reads a role key back.
pub fn parse_role(key: &str) -> Result<Role, DatabaseError> {
    Role::from_key(key).ok_or_else(|| DatabaseError::Unreadable(format!("role {key:?}")))
}

/// Reads a uuid back.
pub fn parse_uuid(text: &str) -> Result<Uuid, DatabaseError> {
    text.parse()
        .map_err(|err| DatabaseError::Unreadable(format!("id {text:?}: {err}")))
}
