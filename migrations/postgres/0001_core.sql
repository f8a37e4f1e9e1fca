-- Tuanji core schema (PostgreSQL). Keep in step with migrations/sqlite/0001_core.sql.
-- Dates are DATE (calendar dates in China Standard Time); ids are UUID v7.

CREATE TABLE organisations (
    id                  UUID PRIMARY KEY,
    code                TEXT NOT NULL UNIQUE,
    name                TEXT NOT NULL,
    kind                TEXT NOT NULL,
    parent_id           UUID REFERENCES organisations(id),
    -- '/CYLC/110000/110100/' : the codes from the root, for subtree queries (byte order: COLLATE "C")
    path                TEXT COLLATE "C" NOT NULL UNIQUE,
    depth               INTEGER NOT NULL,
    approves_admissions BOOLEAN NOT NULL,
    school_level        TEXT,
    graduating          BOOLEAN NOT NULL DEFAULT false,
    class_size          INTEGER CHECK (class_size IS NULL OR class_size > 0)
);
CREATE INDEX organisations_parent ON organisations(parent_id);

CREATE TABLE persons (
    id          UUID PRIMARY KEY,
    resident_id TEXT NOT NULL,
    name        TEXT NOT NULL,
    sex         TEXT NOT NULL,
    ethnicity   TEXT,
    birth_date  DATE NOT NULL,
    -- ID_UNIQUE: one record per person nationwide
    CONSTRAINT persons_resident_id_unique UNIQUE (resident_id)
);

-- Development-number series per year: the next serial not yet in any allocation or legacy number.
CREATE TABLE number_series (
    year        INTEGER PRIMARY KEY,
    next_serial BIGINT NOT NULL
);

CREATE TABLE quota_allocations (
    id             UUID PRIMARY KEY,
    org_id         UUID NOT NULL REFERENCES organisations(id),
    year           INTEGER NOT NULL,
    first_serial   BIGINT NOT NULL,
    count          BIGINT NOT NULL CHECK (count > 0),
    used           BIGINT NOT NULL DEFAULT 0,
    allocated_by   UUID NOT NULL REFERENCES organisations(id),
    effective_date DATE NOT NULL,
    CONSTRAINT quota_not_over_allocated CHECK (used >= 0 AND used <= count),
    UNIQUE (year, first_serial)
);
CREATE INDEX quota_allocations_org_year ON quota_allocations(org_id, year);

CREATE TABLE development_numbers (
    number        TEXT PRIMARY KEY,
    year          INTEGER NOT NULL,
    allocation_id UUID REFERENCES quota_allocations(id),
    person_id     UUID NOT NULL REFERENCES persons(id),
    instance_id   UUID,
    status        TEXT NOT NULL CHECK (status IN ('issued', 'voided', 'legacy')),
    issued_on     DATE NOT NULL,
    voided_on     DATE
);

CREATE TABLE instances (
    id                UUID PRIMARY KEY,
    workflow          TEXT NOT NULL,
    workflow_version  INTEGER NOT NULL,
    definition_sha256 TEXT NOT NULL,
    person_id         UUID NOT NULL REFERENCES persons(id),
    branch_id         UUID NOT NULL REFERENCES organisations(id),
    state             TEXT NOT NULL,
    version           BIGINT NOT NULL,
    data              TEXT NOT NULL,
    opened_on         DATE NOT NULL
);
CREATE INDEX instances_person ON instances(person_id);
CREATE INDEX instances_branch_state ON instances(branch_id, state);
-- at most one live admission per person
CREATE UNIQUE INDEX instances_one_live_per_person ON instances(person_id, workflow)
    WHERE state NOT IN ('rejected', 'withdrawn', 'annulled');

CREATE TABLE members (
    person_id             UUID PRIMARY KEY REFERENCES persons(id),
    branch_id             UUID NOT NULL REFERENCES organisations(id),
    membership_date       DATE NOT NULL,
    development_number    TEXT UNIQUE REFERENCES development_numbers(number),
    standing              TEXT NOT NULL CHECK (standing IN ('member', 'on_probation', 'annulled')),
    probation_until       DATE,
    source                TEXT NOT NULL CHECK (source IN ('admission', 'legacy')),
    admission_instance_id UUID REFERENCES instances(id),
    oath_date             DATE
);
CREATE INDEX members_branch ON members(branch_id, standing);

-- The append-only, hash-chained transition log (ARCHITECTURE.md "Audit"). payload is the exact JSON text hashed.
CREATE TABLE transition_log (
    seq               BIGINT PRIMARY KEY,
    entry_id          UUID NOT NULL UNIQUE,
    instance_id       UUID NOT NULL,
    person_id         UUID,
    org_id            UUID,
    workflow          TEXT NOT NULL,
    workflow_version  INTEGER NOT NULL,
    definition_sha256 TEXT NOT NULL,
    from_state        TEXT NOT NULL,
    to_state          TEXT NOT NULL,
    command           TEXT NOT NULL,
    actor             TEXT NOT NULL,
    role              TEXT NOT NULL,
    rule_codes        TEXT NOT NULL,
    payload           TEXT NOT NULL,
    effective_date    DATE NOT NULL,
    recorded_at       TIMESTAMPTZ NOT NULL,
    idempotency_key   TEXT,
    leaf_hash         BYTEA NOT NULL,
    chain_hash        BYTEA NOT NULL
);
CREATE INDEX transition_log_instance ON transition_log(instance_id);
CREATE INDEX transition_log_person ON transition_log(person_id);

CREATE FUNCTION transition_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'transition_log is append-only';
END;
$$;
CREATE TRIGGER transition_log_no_update BEFORE UPDATE OR DELETE ON transition_log
    FOR EACH ROW EXECUTE FUNCTION transition_log_append_only();
CREATE TRIGGER transition_log_no_truncate BEFORE TRUNCATE ON transition_log
    FOR EACH STATEMENT EXECUTE FUNCTION transition_log_append_only();

-- The head of the chain: last seq and its chain hash. One row. An append takes the next seq from it
-- (UPDATE … RETURNING, which also locks the row until commit, serialising appends) and the trigger below moves
-- its chain hash forward.
CREATE TABLE log_head (
    id         INTEGER PRIMARY KEY CHECK (id = 1),
    seq        BIGINT NOT NULL,
    chain_hash BYTEA NOT NULL
);
INSERT INTO log_head (id, seq, chain_hash) VALUES (1, 0, decode(repeat('00', 32), 'hex'));
CREATE FUNCTION transition_log_head() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE log_head SET chain_hash = NEW.chain_hash WHERE id = 1;
    RETURN NULL;
END;
$$;
CREATE TRIGGER transition_log_head AFTER INSERT ON transition_log
    FOR EACH ROW EXECUTE FUNCTION transition_log_head();
