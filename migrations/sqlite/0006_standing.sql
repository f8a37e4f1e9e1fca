-- League standing (团籍) and dues (团费), issue 4 (SQLite). Keep in step with migrations/postgres/0006_standing.sql.

-- members.standing follows the standing machine's state (workflows/standing.v1.toml) besides `annulled`
-- (an annulled admission). SQLite cannot alter a CHECK constraint: the table is rebuilt with the same
-- columns, index and trigger. No table references members.
CREATE TABLE members_v6 (
    person_id             BLOB PRIMARY KEY REFERENCES persons(id),
    branch_id             BLOB NOT NULL REFERENCES organisations(id),
    membership_date       TEXT NOT NULL,
    development_number    TEXT UNIQUE REFERENCES development_numbers(number),
    standing              TEXT NOT NULL CHECK (standing IN ('member', 'on_probation', 'recommended_for_party',
                              'party_member', 'aged_out', 'withdrawn', 'removed', 'expelled', 'deceased', 'annulled')),
    probation_until       TEXT,
    source                TEXT NOT NULL CHECK (source IN ('admission', 'legacy')),
    admission_instance_id BLOB REFERENCES instances(id),
    oath_date             TEXT,
    deleted_on            TEXT,
    deletion_reason       TEXT,
    -- The effective date of the last change of standing (the membership date until then).
    standing_since        TEXT
);
INSERT INTO members_v6 (person_id, branch_id, membership_date, development_number, standing, probation_until,
                        source, admission_instance_id, oath_date, deleted_on, deletion_reason, standing_since)
    SELECT person_id, branch_id, membership_date, development_number, standing, probation_until,
           source, admission_instance_id, oath_date, deleted_on, deletion_reason, NULL
    FROM members;
DROP TABLE members;
ALTER TABLE members_v6 RENAME TO members;
CREATE INDEX members_branch ON members(branch_id, standing);
CREATE TRIGGER members_no_delete BEFORE DELETE ON members
BEGIN SELECT RAISE(ABORT, 'members are never deleted: record a tombstone (tuanji member delete)'); END;

-- League posts (团内职务) held and ended: a post holder is not aged out at 28 (STD_AGE_OUT). The standing
-- instance's data holds the same facts; this is the projection the registers read.
CREATE TABLE member_posts (
    person_id  BLOB NOT NULL REFERENCES persons(id),
    post       TEXT NOT NULL CHECK (post IN ('secretary', 'deputy_secretary', 'committee_member')),
    org_id     BLOB NOT NULL REFERENCES organisations(id),
    held_from  TEXT NOT NULL,
    held_until TEXT,
    PRIMARY KEY (person_id, post, org_id, held_from)
);
CREATE INDEX member_posts_held ON member_posts(person_id) WHERE held_until IS NULL;

-- Dues paid, one row per member and month (DUE_STUDENT); amounts in fen (分).
CREATE TABLE dues_payments (
    person_id  BLOB NOT NULL REFERENCES persons(id),
    month      TEXT NOT NULL CHECK (length(month) = 7),
    amount_fen INTEGER NOT NULL CHECK (amount_fen >= 0),
    paid_on    TEXT NOT NULL,
    category   TEXT NOT NULL CHECK (category IN ('reduced', 'salaried')),
    PRIMARY KEY (person_id, month)
);

-- The sweep reads the live standing instances in id order.
CREATE INDEX instances_standing_live ON instances(id)
    WHERE workflow = 'standing' AND state IN ('member', 'on_probation', 'recommended_for_party', 'party_member');
