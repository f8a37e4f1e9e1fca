-- Tuanji core schema (SQLite). Keep in step with migrations/postgres/0001_core.sql.
-- Dates are TEXT 'YYYY-MM-DD' (calendar dates in China Standard Time); ids are UUID v7 as 16-byte BLOBs.

CREATE TABLE organisations (
    id                  BLOB PRIMARY KEY,
    code                TEXT NOT NULL UNIQUE,
    name                TEXT NOT NULL,
    kind                TEXT NOT NULL,
    parent_id           BLOB REFERENCES organisations(id),
    -- '/CYLC/110000/110100/' : the codes from the root, for subtree queries
    path                TEXT NOT NULL UNIQUE,
    depth               INTEGER NOT NULL,
    approves_admissions BOOLEAN NOT NULL,
    school_level        TEXT,
    graduating          BOOLEAN NOT NULL DEFAULT 0,
    class_size          INTEGER CHECK (class_size IS NULL OR class_size > 0)
);
CREATE INDEX organisations_parent ON organisations(parent_id);

CREATE TABLE persons (
    id          BLOB PRIMARY KEY,
    resident_id TEXT NOT NULL,
    name        TEXT NOT NULL,
    sex         TEXT NOT NULL,
    ethnicity   TEXT,
    birth_date  TEXT NOT NULL,
    -- ID_UNIQUE: one record per person nationwide
    CONSTRAINT persons_resident_id_unique UNIQUE (resident_id)
);

-- Development-number series per year: the next serial not yet in any allocation or legacy number.
CREATE TABLE number_series (
    year        INTEGER PRIMARY KEY,
    next_serial INTEGER NOT NULL
);

CREATE TABLE quota_allocations (
    id             BLOB PRIMARY KEY,
    org_id         BLOB NOT NULL REFERENCES organisations(id),
    year           INTEGER NOT NULL,
    first_serial   INTEGER NOT NULL,
    count          INTEGER NOT NULL CHECK (count > 0),
    used           INTEGER NOT NULL DEFAULT 0,
    allocated_by   BLOB NOT NULL REFERENCES organisations(id),
    effective_date TEXT NOT NULL,
    CONSTRAINT quota_not_over_allocated CHECK (used >= 0 AND used <= count),
    UNIQUE (year, first_serial)
);
CREATE INDEX quota_allocations_org_year ON quota_allocations(org_id, year);

CREATE TABLE development_numbers (
    number        TEXT PRIMARY KEY,
    year          INTEGER NOT NULL,
    allocation_id BLOB REFERENCES quota_allocations(id),
    person_id     BLOB NOT NULL REFERENCES persons(id),
    instance_id   BLOB,
    status        TEXT NOT NULL CHECK (status IN ('issued', 'voided', 'legacy')),
    issued_on     TEXT NOT NULL,
    voided_on     TEXT
);

CREATE TABLE instances (
    id                BLOB PRIMARY KEY,
    workflow          TEXT NOT NULL,
    workflow_version  INTEGER NOT NULL,
    definition_sha256 TEXT NOT NULL,
    person_id         BLOB NOT NULL REFERENCES persons(id),
    branch_id         BLOB NOT NULL REFERENCES organisations(id),
    state             TEXT NOT NULL,
    version           INTEGER NOT NULL,
    data              TEXT NOT NULL,
    opened_on         TEXT NOT NULL
);
CREATE INDEX instances_person ON instances(person_id);
CREATE INDEX instances_branch_state ON instances(branch_id, state);
-- at most one live admission per person
CREATE UNIQUE INDEX instances_one_live_per_person ON instances(person_id, workflow)
    WHERE state NOT IN ('rejected', 'withdrawn', 'annulled');

CREATE TABLE members (
    person_id             BLOB PRIMARY KEY REFERENCES persons(id),
    branch_id             BLOB NOT NULL REFERENCES organisations(id),
    membership_date       TEXT NOT NULL,
    development_number    TEXT UNIQUE REFERENCES development_numbers(number),
    standing              TEXT NOT NULL CHECK (standing IN ('member', 'on_probation', 'annulled')),
    probation_until       TEXT,
    source                TEXT NOT NULL CHECK (source IN ('admission', 'legacy')),
    admission_instance_id BLOB REFERENCES instances(id),
    oath_date             TEXT
);
CREATE INDEX members_branch ON members(branch_id, standing);

-- The append-only, hash-chained transition log (ARCHITECTURE.md "Audit"). payload is the exact JSON text hashed.
CREATE TABLE transition_log (
    seq               INTEGER PRIMARY KEY,
    entry_id          BLOB NOT NULL UNIQUE,
    instance_id       BLOB NOT NULL,
    person_id         BLOB,
    org_id            BLOB,
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
    effective_date    TEXT NOT NULL,
    recorded_at       TEXT NOT NULL,
    idempotency_key   TEXT,
    leaf_hash         BLOB NOT NULL,
    chain_hash        BLOB NOT NULL
);
CREATE INDEX transition_log_instance ON transition_log(instance_id);
CREATE INDEX transition_log_person ON transition_log(person_id);

CREATE TRIGGER transition_log_no_update BEFORE UPDATE ON transition_log
BEGIN SELECT RAISE(ABORT, 'transition_log is append-only'); END;
CREATE TRIGGER transition_log_no_delete BEFORE DELETE ON transition_log
BEGIN SELECT RAISE(ABORT, 'transition_log is append-only'); END;

-- The head of the chain: last seq and its chain hash. One row. An append takes the next seq from it
-- (UPDATE … RETURNING, which also serialises appends) and the trigger below moves its chain hash forward.
CREATE TABLE log_head (
    id         INTEGER PRIMARY KEY CHECK (id = 1),
    seq        INTEGER NOT NULL,
    chain_hash BLOB NOT NULL
);
INSERT INTO log_head (id, seq, chain_hash) VALUES (1, 0, zeroblob(32));
CREATE TRIGGER transition_log_head AFTER INSERT ON transition_log
BEGIN UPDATE log_head SET chain_hash = NEW.chain_hash WHERE id = 1; END;
