//! Organisations and their professionals: who may found a plan, sign in with a passkey on any
//! phone and find all their plans there. Families never have an account: they join a plan by
//! invite, and their phones are devices of that plan only.
//!
//! An *account* is one professional of one organisation. Their *memberships* tie the account to
//! a member of each plan they work on, so that a new phone, once signed in, can register a
//! device for every one of them. Secrets (enrolment codes, session tokens) are stored only as
//! [`SecretHash`]es, like device tokens and invite codes.

use crate::{DeviceId, MemberId, PlanId, Role, SecretHash, Timestamp};

id_type!(
    /// An organisation (a foster-care organisation, or a certified institution whose guardians
    /// take part in plans).
    OrganisationId,
    /// A professional of an organisation.
    AccountId,
    /// A one-time link to enrol a professional (the first administrator's included).
    EnrolmentId,
    /// A professional's signed-in session on one phone.
    SessionId,
    /// A passkey ceremony in progress (its challenge and state, kept server-side so that the
    /// answer may reach another server instance).
    CeremonyId,
);

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrganisationRecord {
    pub organisation: OrganisationId,
    pub name: String,
    pub created_at: Timestamp,
}

/// A professional. Deactivated accounts keep their record (everything they wrote keeps their
/// name) but can no longer sign in, and their sessions and devices are revoked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccountRecord {
    pub account: AccountId,
    pub organisation: OrganisationId,
    pub name: String,
    /// May invite professionals, hand plans over, deactivate accounts and read the access log.
    pub admin: bool,
    pub created_at: Timestamp,
    pub deactivated_at: Option<Timestamp>,
}

/// A one-time, expiring link for one new professional of an organisation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewEnrolment {
    pub enrolment: EnrolmentId,
    pub code: SecretHash,
    pub organisation: OrganisationId,
    /// The name the administrator gave (the professional's own passkey carries it too).
    pub name: String,
    pub admin: bool,
    /// The administrator who made it; `None` for the first administrator's link, which the
    /// server prints on a first start. Such a link is refused once the organisation has any
    /// account (whichever link was used first wins).
    pub created_by: Option<AccountId>,
    pub expires_at: Timestamp,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnrolmentRecord {
    pub enrolment: EnrolmentId,
    pub organisation: OrganisationId,
    pub name: String,
    pub admin: bool,
    pub created_by: Option<AccountId>,
    pub created_at: Timestamp,
    pub expires_at: Timestamp,
    pub used_at: Option<Timestamp>,
    /// The account the link created.
    pub used_by: Option<AccountId>,
    pub revoked_at: Option<Timestamp>,
}

/// A passkey as webauthn-rs keeps it (its JSON), under the credential id the browser names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PasskeyRecord {
    /// The credential id, base64url without padding.
    pub credential: String,
    pub account: AccountId,
    /// The server crate's serialised passkey (public key, sign count): updated after each use.
    pub passkey: String,
    pub created_at: Timestamp,
    pub last_used_at: Option<Timestamp>,
}

/// A session to open for an account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewSession {
    pub session: SessionId,
    pub token: SecretHash,
    pub account: AccountId,
    pub expires_at: Timestamp,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionRecord {
    pub session: SessionId,
    pub account: AccountId,
    pub created_at: Timestamp,
    pub expires_at: Timestamp,
    pub last_seen_at: Option<Timestamp>,
    pub revoked_at: Option<Timestamp>,
}

/// What became of an attempt to use an enrolment link.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EnrolmentOutcome {
    /// The link is now used; the account, its passkey and its first session exist.
    Enrolled(AccountRecord),
    Unknown,
    /// Used before (or, for a first administrator's link, the organisation has an account).
    Used,
    Expired,
    Revoked,
}

/// An account's place in one plan: the member it speaks for there.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MembershipRecord {
    pub account: AccountId,
    pub plan: PlanId,
    pub member: MemberId,
    pub role: Role,
    pub since: Timestamp,
}

/// The organisation and account that found a plan: the plan belongs to the organisation, and
/// the founder's member to the account.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PlanOwner {
    pub organisation: OrganisationId,
    pub account: AccountId,
}

/// A plan of an organisation, with the accounts that take part in it now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrganisationPlan {
    pub plan: PlanId,
    pub created_at: Timestamp,
    pub memberships: Vec<MembershipRecord>,
}

/// A change of who works on a plan, made with an append ([`crate::Append::memberships`]) so
/// that the plan's operations and the accounts' memberships never disagree.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MembershipChange {
    /// The account speaks for `member` in the plan from now on.
    Join {
        account: AccountId,
        member: MemberId,
        role: Role,
    },
    /// The account no longer takes part in the plan (its devices for the plan are revoked
    /// through [`crate::Append::shut_out`], by member).
    Leave { account: AccountId },
}

/// One line of the access log: which account or device read or changed which plan, when.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccessEntry {
    pub at: Timestamp,
    /// The organisation whose log holds the line: the plan's, else the account's.
    pub organisation: Option<OrganisationId>,
    pub account: Option<AccountId>,
    pub device: Option<DeviceId>,
    pub plan: Option<PlanId>,
    /// What was done, a stable key: `read`, `changed`, `founded`, `signed_in`, `enrolled`,
    /// `invited`, `handed_over`, `deactivated`, `device_registered`, …
    pub action: String,
    /// A short human-readable detail (`12 operations`, `to Sanne Jansen`), never a secret.
    pub detail: String,
}

/// A new passkey with the account it belongs to, for [`crate::Database::use_enrolment`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Enrolling {
    pub account: AccountId,
    pub name: String,
    pub credential: String,
    pub passkey: String,
    pub session: NewSession,
}
