-- The log of plan operations. `IF NOT EXISTS`: databases from before schema versions were kept
-- already have it.
CREATE TABLE IF NOT EXISTS ops (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    plan_id TEXT NOT NULL,
    op_id TEXT NOT NULL UNIQUE,
    body TEXT NOT NULL,
    received_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS ops_plan_seq ON ops (plan_id, seq);
