-- Koers on PostgreSQL: plans with their per-plan head, the log of operations, the devices that
-- sync a plan and the invitations that register devices. Mirrors the SQLite schema, with
-- PostgreSQL's own types: uuid ids, timestamptz times, roles as their text key.
--
-- Applied by sqlx's migrator (one transaction, under its advisory lock). Never edit a migration
-- that has shipped: its checksum is recorded in _sqlx_migrations; add 0002_….sql instead.

CREATE TABLE plans (
    plan_id uuid PRIMARY KEY,
    -- The seq of the plan's newest operation (0 before the first). Appends lock this row
    -- (SELECT … FOR UPDATE) and move it on in the same transaction as the ops they insert.
    head bigint NOT NULL DEFAULT 0 CHECK (head >= 0),
    created_at timestamptz NOT NULL
);

CREATE TABLE ops (
    plan_id uuid NOT NULL REFERENCES plans (plan_id),
    seq bigint NOT NULL CHECK (seq > 0),
    op_id uuid NOT NULL UNIQUE,
    -- The member who wrote it (the daily limit counts per author).
    author uuid NOT NULL,
    -- The operation's JSON exactly as received (text, not jsonb: it comes back byte for byte).
    body text NOT NULL,
    received_at timestamptz NOT NULL,
    PRIMARY KEY (plan_id, seq)
);

-- The daily count per author: a plan's ops since a moment.
CREATE INDEX ops_plan_received ON ops (plan_id, received_at);

CREATE TABLE devices (
    device_id uuid PRIMARY KEY,
    plan_id uuid NOT NULL REFERENCES plans (plan_id),
    member_id uuid NOT NULL,
    role text NOT NULL,
    -- SHA-256 hex of the device token: the token itself is never stored.
    token_hash text NOT NULL UNIQUE,
    name text NOT NULL,
    created_at timestamptz NOT NULL,
    last_seen_at timestamptz,
    revoked_at timestamptz
);

CREATE INDEX devices_plan ON devices (plan_id, created_at);
CREATE INDEX devices_plan_member ON devices (plan_id, member_id);

CREATE TABLE invites (
    invite_id uuid PRIMARY KEY,
    -- SHA-256 hex of the invite code: the code itself is never stored.
    code_hash text NOT NULL UNIQUE,
    plan_id uuid NOT NULL REFERENCES plans (plan_id),
    member_id uuid NOT NULL,
    role text NOT NULL,
    created_by uuid NOT NULL,
    created_at timestamptz NOT NULL,
    expires_at timestamptz NOT NULL,
    used_at timestamptz,
    used_by_device uuid REFERENCES devices (device_id),
    revoked_at timestamptz
);

CREATE INDEX invites_plan ON invites (plan_id, created_at);
CREATE INDEX invites_plan_member ON invites (plan_id, member_id);
