-- Sequence numbers per plan instead of one counter for all plans: a plan's `head` is the seq of
-- its newest op, and a write numbers its ops head + 1, head + 2, … under the database's lock
-- (as PostgreSQL does with `SELECT … FOR UPDATE`). Existing ops keep their numbers, so the
-- cursors phones hold stay right; they only grow, and from now on without gaps.
-- `author` is kept beside the body for the daily limit (NULL if the body names none).
CREATE TABLE ops_per_plan (
    plan_id TEXT NOT NULL,
    seq INTEGER NOT NULL,
    op_id TEXT NOT NULL UNIQUE,
    author TEXT,
    body TEXT NOT NULL,
    received_at TEXT NOT NULL,
    PRIMARY KEY (plan_id, seq)
);
INSERT INTO ops_per_plan (plan_id, seq, op_id, author, body, received_at)
    SELECT plan_id, seq, op_id,
           CASE WHEN json_valid(body) THEN json_extract(body, '$.author') END,
           body, received_at
    FROM ops;
DROP TABLE ops;
ALTER TABLE ops_per_plan RENAME TO ops;
CREATE INDEX ops_plan_received ON ops (plan_id, received_at);
INSERT OR IGNORE INTO plans (plan_id, created_at)
    SELECT plan_id, min(received_at) FROM ops GROUP BY plan_id;
ALTER TABLE plans ADD COLUMN head INTEGER NOT NULL DEFAULT 0;
UPDATE plans SET head = coalesce((SELECT max(seq) FROM ops WHERE ops.plan_id = plans.plan_id), 0);
