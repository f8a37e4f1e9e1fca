-- Audit (PostgreSQL): signed checkpoints of the transition log and the public keys that sign them.
-- Keep in step with migrations/sqlite/0003_audit.sql. See docs/audit-format.md.

-- Public keys (C2SP vkey text); the private key stays in a file outside the database.
CREATE TABLE audit_keys (
    name       TEXT PRIMARY KEY,
    vkey       TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL
);

-- Checkpoints: log size, RFC 6962 Merkle root and chain head, signed (C2SP tlog-checkpoint text in `note`).
CREATE TABLE checkpoints (
    id         BIGINT PRIMARY KEY,
    size       BIGINT NOT NULL CHECK (size >= 0),
    root       BYTEA NOT NULL,
    chain_head BYTEA NOT NULL,
    key_name   TEXT NOT NULL REFERENCES audit_keys(name),
    note       TEXT NOT NULL,
    reason     TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL
);

CREATE FUNCTION audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% is append-only', TG_TABLE_NAME;
END;
$$;
CREATE TRIGGER checkpoints_no_update BEFORE UPDATE OR DELETE ON checkpoints
    FOR EACH ROW EXECUTE FUNCTION audit_append_only();
CREATE TRIGGER checkpoints_no_truncate BEFORE TRUNCATE ON checkpoints
    FOR EACH STATEMENT EXECUTE FUNCTION audit_append_only();
CREATE TRIGGER audit_keys_no_update BEFORE UPDATE OR DELETE ON audit_keys
    FOR EACH ROW EXECUTE FUNCTION audit_append_only();

CREATE INDEX transition_log_org ON transition_log(org_id);
CREATE INDEX transition_log_effective ON transition_log(effective_date);
