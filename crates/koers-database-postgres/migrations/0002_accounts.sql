-- Organisations and their professionals' accounts: passkeys to sign in with, one-time enrolment
-- links, passkey ceremonies in progress, sessions, the plans each account works on and the
-- access log. Mirrors the SQLite schema's 0004_accounts.sql, with PostgreSQL's own types.
--
-- Plans and devices from before keep NULL in their new columns: a plan founded before
-- organisations belongs to none, a family's phone was never registered by an account.

CREATE TABLE organisations (
    organisation_id uuid PRIMARY KEY,
    name text NOT NULL,
    created_at timestamptz NOT NULL
);

-- Accounts are never deleted: a deactivated one keeps its row, so that everything it wrote
-- keeps its name.
CREATE TABLE accounts (
    account_id uuid PRIMARY KEY,
    organisation_id uuid NOT NULL REFERENCES organisations (organisation_id),
    name text NOT NULL,
    -- May invite professionals, hand plans over, deactivate accounts and read the access log.
    admin boolean NOT NULL,
    created_at timestamptz NOT NULL,
    deactivated_at timestamptz
);

CREATE INDEX accounts_organisation ON accounts (organisation_id, created_at);

CREATE TABLE passkeys (
    -- The browser's name for the passkey (base64url), and how a sign-in finds it.
    credential_id text PRIMARY KEY,
    account_id uuid NOT NULL REFERENCES accounts (account_id),
    -- The server's serialised passkey (public key, sign count), updated after each use.
    passkey text NOT NULL,
    created_at timestamptz NOT NULL,
    last_used_at timestamptz
);

CREATE INDEX passkeys_account ON passkeys (account_id);

CREATE TABLE enrolments (
    enrolment_id uuid PRIMARY KEY,
    -- SHA-256 hex of the link's code: the code itself is never stored.
    code_hash text NOT NULL UNIQUE,
    organisation_id uuid NOT NULL REFERENCES organisations (organisation_id),
    name text NOT NULL,
    admin boolean NOT NULL,
    -- NULL for the first administrator's link (printed by the server on a first start).
    created_by uuid REFERENCES accounts (account_id),
    created_at timestamptz NOT NULL,
    expires_at timestamptz NOT NULL,
    used_at timestamptz,
    -- The account the link created.
    used_by uuid REFERENCES accounts (account_id),
    revoked_at timestamptz
);

CREATE INDEX enrolments_organisation ON enrolments (organisation_id, created_at);

-- A passkey ceremony's state between the challenge and the answer, kept here rather than in
-- memory so that the answer may reach another server instance. Taken (deleted) once; expired
-- rows are swept when a ceremony is taken.
CREATE TABLE ceremonies (
    ceremony_id uuid PRIMARY KEY,
    state text NOT NULL,
    expires_at timestamptz NOT NULL
);

CREATE INDEX ceremonies_expires ON ceremonies (expires_at);

CREATE TABLE sessions (
    session_id uuid PRIMARY KEY,
    -- SHA-256 hex of the session token, as for devices.
    token_hash text NOT NULL UNIQUE,
    account_id uuid NOT NULL REFERENCES accounts (account_id),
    created_at timestamptz NOT NULL,
    expires_at timestamptz NOT NULL,
    last_seen_at timestamptz,
    revoked_at timestamptz
);

-- Deactivating an account revokes its sessions.
CREATE INDEX sessions_account ON sessions (account_id);

-- Which member of which plan an account speaks for. A hand-over ends a row (`ended_at`) and
-- starts another, so the rows are the history; at most one is current per account and plan.
CREATE TABLE account_memberships (
    membership_id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    account_id uuid NOT NULL REFERENCES accounts (account_id),
    plan_id uuid NOT NULL REFERENCES plans (plan_id),
    member_id uuid NOT NULL,
    role text NOT NULL,
    since timestamptz NOT NULL,
    ended_at timestamptz
);

-- "An account's current plans" (a new phone registers a device for each), and the rule that
-- an account is current in a plan once at most.
CREATE UNIQUE INDEX account_memberships_current
    ON account_memberships (account_id, plan_id) WHERE ended_at IS NULL;
-- "A plan's current accounts" (an organisation's overview of its plans).
CREATE INDEX account_memberships_plan_current
    ON account_memberships (plan_id) WHERE ended_at IS NULL;

-- Who read or changed what, when. No foreign keys: a line records what happened and must never
-- make the request it records fail. `entry_id` keeps lines of one moment in insertion order.
CREATE TABLE access_log (
    entry_id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at timestamptz NOT NULL,
    -- The organisation whose log holds the line: the plan's, else the account's.
    organisation_id uuid,
    account_id uuid,
    device_id uuid,
    plan_id uuid,
    action text NOT NULL,
    detail text NOT NULL
);

-- An organisation's log, newest first, a page at a time.
CREATE INDEX access_log_organisation_at ON access_log (organisation_id, at);

-- Nullable: plans founded before organisations belong to none.
ALTER TABLE plans ADD COLUMN organisation_id uuid REFERENCES organisations (organisation_id);
CREATE INDEX plans_organisation ON plans (organisation_id, created_at);

-- Nullable: a family's phone is registered by no account.
ALTER TABLE devices ADD COLUMN account_id uuid REFERENCES accounts (account_id);
-- Deactivating an account revokes every device it registered.
CREATE INDEX devices_account ON devices (account_id) WHERE account_id IS NOT NULL;
