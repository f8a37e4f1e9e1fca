-- Audit (SQLite): signed checkpoints of the transition log and the public keys that sign them.
-- Keep in step with migrations/postgres/0003_audit.sql. See docs/audit-format.md.

-- Public keys (C2SP vkey text); the private key stays in a file outside the database.
CREATE TABLE audit_keys (
    name       TEXT PRIMARY KEY,
    vkey       TEXT NOT NULL,
    created_at TEXT NOT NULL
);

-- Checkpoints: log size, RFC 6962 Merkle root and chain head, signed (C2SP tlog-checkpoint text in `note`).
CREATE TABLE checkpoints (
    id         INTEGER PRIMARY KEY,
    size       INTEGER NOT NULL CHECK (size >= 0),
    root       BLOB NOT NULL,
    chain_head BLOB NOT NULL,
    key_name   TEXT NOT NULL REFERENCES audit_keys(name),
    note       TEXT NOT NULL,
    reason     TEXT NOT NULL,
    created_at TEXT NOT NULL
);

CREATE TRIGGER checkpoints_no_update BEFORE UPDATE ON checkpoints
BEGIN SELECT RAISE(ABORT, 'checkpoints are append-only'); END;
CREATE TRIGGER checkpoints_no_delete BEFORE DELETE ON checkpoints
BEGIN SELECT RAISE(ABORT, 'checkpoints are append-only'); END;
CREATE TRIGGER audit_keys_no_update BEFORE UPDATE ON audit_keys
BEGIN SELECT RAISE(ABORT, 'audit keys are append-only'); END;
CREATE TRIGGER audit_keys_no_delete BEFORE DELETE ON audit_keys
BEGIN SELECT RAISE(ABORT, 'audit keys are append-only'); END;

CREATE INDEX transition_log_org ON transition_log(org_id);
CREATE INDEX transition_log_effective ON transition_log(effective_date);
