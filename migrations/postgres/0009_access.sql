-- Access (PostgreSQL): principals, their role bindings on the organisation tree, API tokens and idempotency keys
-- (ARCHITECTURE.md "Access", issue 6). Keep in step with migrations/sqlite/0009_access.sql.
-- Timestamps are TIMESTAMPTZ; dates are DATE (China Standard Time).

-- Who may call the HTTP API: a person or a system, named once.
CREATE TABLE principals (
    id          UUID PRIMARY KEY,
    name        TEXT NOT NULL UNIQUE CHECK (length(name) BETWEEN 1 AND 50),
    created_at  TIMESTAMPTZ NOT NULL,
    disabled_at TIMESTAMPTZ
);

-- A role held over an organisation's subtree, or (`member`) over one person's own record. A member binding
-- names the person, not the branch: it follows the member through transfers (the branch is read from
-- `members` when the binding is resolved).
CREATE TABLE role_bindings (
    principal_id UUID NOT NULL REFERENCES principals(id),
    role         TEXT NOT NULL CHECK (role IN
                     ('system_admin', 'committee_admin', 'branch_secretary', 'auditor', 'member')),
    org_id       UUID REFERENCES organisations(id),
    person_id    UUID REFERENCES persons(id),
    created_at   TIMESTAMPTZ NOT NULL,
    CONSTRAINT role_bindings_target CHECK (
        (role = 'member' AND person_id IS NOT NULL AND org_id IS NULL)
        OR (role <> 'member' AND person_id IS NULL AND org_id IS NOT NULL)),
    UNIQUE (principal_id, role, org_id, person_id)
);
-- NULLs are distinct in UNIQUE: these two make each binding unique in fact.
CREATE UNIQUE INDEX role_bindings_one_per_org ON role_bindings(principal_id, role, org_id)
    WHERE person_id IS NULL;
CREATE UNIQUE INDEX role_bindings_one_per_person ON role_bindings(principal_id, person_id)
    WHERE person_id IS NOT NULL;

-- Bearer tokens: the secret is stored only as an argon2id PHC string.
CREATE TABLE api_tokens (
    id           UUID PRIMARY KEY,
    principal_id UUID NOT NULL REFERENCES principals(id),
    label        TEXT NOT NULL CHECK (length(label) <= 100),
    secret_hash  TEXT NOT NULL CHECK (secret_hash LIKE '$argon2id$%'),
    created_at   TIMESTAMPTZ NOT NULL,
    revoked_at   TIMESTAMPTZ,
    last_used_on DATE
);
CREATE INDEX api_tokens_principal ON api_tokens(principal_id);

-- Idempotency-Key of the API's POSTs: the first request's hash and, once it completed, its response.
-- `status` is NULL while the first request is still running.
CREATE TABLE idempotency_keys (
    principal_id   UUID NOT NULL REFERENCES principals(id),
    key            TEXT NOT NULL CHECK (length(key) BETWEEN 1 AND 200),
    request_sha256 BYTEA NOT NULL CHECK (length(request_sha256) = 32),
    status         INTEGER CHECK (status IS NULL OR status BETWEEN 100 AND 599),
    response       TEXT,
    created_at     TIMESTAMPTZ NOT NULL,
    completed_at   TIMESTAMPTZ,
    PRIMARY KEY (principal_id, key)
);
