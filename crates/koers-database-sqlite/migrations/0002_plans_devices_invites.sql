-- Plans, the devices that sync them and the invitations that register devices. Plans that
-- already have operations are recorded as created when their first op arrived.
CREATE TABLE plans (
    plan_id TEXT PRIMARY KEY,
    created_at TEXT NOT NULL
);
INSERT OR IGNORE INTO plans (plan_id, created_at)
    SELECT plan_id, min(received_at) FROM ops GROUP BY plan_id;
CREATE TABLE devices (
    device_id TEXT PRIMARY KEY,
    plan_id TEXT NOT NULL REFERENCES plans (plan_id),
    member_id TEXT NOT NULL,
    role TEXT NOT NULL,
    token_hash TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    created_at TEXT NOT NULL,
    last_seen_at TEXT,
    revoked_at TEXT
);
CREATE INDEX devices_plan ON devices (plan_id, created_at);
CREATE TABLE invites (
    invite_id TEXT PRIMARY KEY,
    code_hash TEXT NOT NULL UNIQUE,
    plan_id TEXT NOT NULL REFERENCES plans (plan_id),
    member_id TEXT NOT NULL,
    role TEXT NOT NULL,
    created_by TEXT NOT NULL,
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL,
    used_at TEXT,
    used_by_device TEXT,
    revoked_at TEXT
);
CREATE INDEX invites_plan ON invites (plan_id, created_at);
