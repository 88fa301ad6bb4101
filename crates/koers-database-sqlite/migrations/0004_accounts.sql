-- Organisations and their professionals' accounts: passkeys to sign in with, one-time enrolment
-- links, passkey ceremonies in progress, sessions, the plans each account works on and the
-- access log. Plans and devices from before keep NULL in their new columns: a plan founded
-- before organisations belongs to none, a family's phone was never registered by an account.
CREATE TABLE organisations (
    organisation_id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    created_at TEXT NOT NULL
);
-- `admin` is 0 or 1. Accounts are never deleted: a deactivated one keeps its row, so that
-- everything it wrote keeps its name.
CREATE TABLE accounts (
    account_id TEXT PRIMARY KEY,
    organisation_id TEXT NOT NULL REFERENCES organisations (organisation_id),
    name TEXT NOT NULL,
    admin INTEGER NOT NULL,
    created_at TEXT NOT NULL,
    deactivated_at TEXT
);
CREATE INDEX accounts_organisation ON accounts (organisation_id, created_at);
-- The credential id (base64url) is the browser's name for the passkey, and how a sign-in finds
-- it. `passkey` is the server's serialised passkey (public key, sign count).
CREATE TABLE passkeys (
    credential_id TEXT PRIMARY KEY,
    account_id TEXT NOT NULL REFERENCES accounts (account_id),
    passkey TEXT NOT NULL,
    created_at TEXT NOT NULL,
    last_used_at TEXT
);
CREATE INDEX passkeys_account ON passkeys (account_id);
-- `code_hash` is the SHA-256 hex of the link's code (the code itself is never stored).
-- `created_by` is NULL for the first administrator's link; `used_by` is the account it created.
CREATE TABLE enrolments (
    enrolment_id TEXT PRIMARY KEY,
    code_hash TEXT NOT NULL UNIQUE,
    organisation_id TEXT NOT NULL REFERENCES organisations (organisation_id),
    name TEXT NOT NULL,
    admin INTEGER NOT NULL,
    created_by TEXT REFERENCES accounts (account_id),
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL,
    used_at TEXT,
    used_by TEXT REFERENCES accounts (account_id),
    revoked_at TEXT
);
CREATE INDEX enrolments_organisation ON enrolments (organisation_id, created_at);
-- A passkey ceremony's state between the challenge and the answer, kept here rather than in
-- memory so that the answer may reach another server instance. Taken (deleted) once; expired
-- rows are swept when a ceremony is taken.
CREATE TABLE ceremonies (
    ceremony_id TEXT PRIMARY KEY,
    state TEXT NOT NULL,
    expires_at TEXT NOT NULL
);
CREATE INDEX ceremonies_expires ON ceremonies (expires_at);
-- `token_hash` is the SHA-256 hex of the session token, as for devices.
CREATE TABLE sessions (
    session_id TEXT PRIMARY KEY,
    token_hash TEXT NOT NULL UNIQUE,
    account_id TEXT NOT NULL REFERENCES accounts (account_id),
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL,
    last_seen_at TEXT,
    revoked_at TEXT
);
CREATE INDEX sessions_account ON sessions (account_id);
-- Which member of which plan an account speaks for. A hand-over ends a row (`ended_at`) and
-- starts another, so the rows are the history; at most one is current per account and plan.
-- The two partial indexes serve "an account's current plans" (a new phone registers a device
-- for each) and "a plan's current accounts" (an organisation's overview).
CREATE TABLE account_memberships (
    membership_id INTEGER PRIMARY KEY,
    account_id TEXT NOT NULL REFERENCES accounts (account_id),
    plan_id TEXT NOT NULL REFERENCES plans (plan_id),
    member_id TEXT NOT NULL,
    role TEXT NOT NULL,
    since TEXT NOT NULL,
    ended_at TEXT
);
CREATE UNIQUE INDEX account_memberships_current
    ON account_memberships (account_id, plan_id) WHERE ended_at IS NULL;
CREATE INDEX account_memberships_plan_current
    ON account_memberships (plan_id) WHERE ended_at IS NULL;
-- Who read or changed what, when. No foreign keys: a line records what happened and must never
-- make the request it records fail; `entry_id` keeps lines of one moment in insertion order.
CREATE TABLE access_log (
    entry_id INTEGER PRIMARY KEY,
    at TEXT NOT NULL,
    organisation_id TEXT,
    account_id TEXT,
    device_id TEXT,
    plan_id TEXT,
    action TEXT NOT NULL,
    detail TEXT NOT NULL
);
CREATE INDEX access_log_organisation_at ON access_log (organisation_id, at);
-- A column added with REFERENCES must default to NULL (SQLite checks no existing row then).
ALTER TABLE plans ADD COLUMN organisation_id TEXT REFERENCES organisations (organisation_id);
CREATE INDEX plans_organisation ON plans (organisation_id, created_at);
ALTER TABLE devices ADD COLUMN account_id TEXT REFERENCES accounts (account_id);
-- Deactivating an account revokes every device it registered.
CREATE INDEX devices_account ON devices (account_id) WHERE account_id IS NOT NULL;
