-- League standing (团籍) and dues (团费), issue 4 (PostgreSQL). Keep in step with migrations/sqlite/0006_standing.sql.

-- members.standing follows the standing machine's state (workflows/standing.v1.toml) besides `annulled`
-- (an annulled admission).
ALTER TABLE members DROP CONSTRAINT members_standing_check;
ALTER TABLE members ADD CONSTRAINT members_standing_check CHECK (standing IN ('member', 'on_probation',
    'recommended_for_party', 'party_member', 'aged_out', 'withdrawn', 'removed', 'expelled', 'deceased', 'annulled'));
-- The effective date of the last change of standing (the membership date until then).
ALTER TABLE members ADD COLUMN standing_since DATE;

-- League posts (团内职务) held and ended: a post holder is not aged out at 28 (STD_AGE_OUT). The standing
-- instance's data holds the same facts; this is the projection the registers read.
CREATE TABLE member_posts (
    person_id  UUID NOT NULL REFERENCES persons(id),
    post       TEXT NOT NULL CHECK (post IN ('secretary', 'deputy_secretary', 'committee_member')),
    org_id     UUID NOT NULL REFERENCES organisations(id),
    held_from  DATE NOT NULL,
    held_until DATE,
    PRIMARY KEY (person_id, post, org_id, held_from)
);
CREATE INDEX member_posts_held ON member_posts(person_id) WHERE held_until IS NULL;

-- Dues paid, one row per member and month (DUE_STUDENT); amounts in fen (分).
CREATE TABLE dues_payments (
    person_id  UUID NOT NULL REFERENCES persons(id),
    month      TEXT NOT NULL CHECK (length(month) = 7),
    amount_fen BIGINT NOT NULL CHECK (amount_fen >= 0),
    paid_on    DATE NOT NULL,
    category   TEXT NOT NULL CHECK (category IN ('reduced', 'salaried')),
    PRIMARY KEY (person_id, month)
);

-- The sweep reads the live standing instances in id order.
CREATE INDEX instances_standing_live ON instances(id)
    WHERE workflow = 'standing' AND state IN ('member', 'on_probation', 'recommended_for_party', 'party_member');
