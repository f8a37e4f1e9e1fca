-- Organisation relations and transfers (PostgreSQL). Keep in step with migrations/sqlite/0002_relation.sql.

-- A graduating branch's graduation date (set by `tuanji org mark-graduating`), and the school's
-- mobile-member branch (流动团员团支部) that keeps unemployed graduates (TRF_RETENTION).
ALTER TABLE organisations ADD COLUMN graduation_date DATE;
ALTER TABLE organisations ADD COLUMN mobile_members BOOLEAN NOT NULL DEFAULT false;

-- One live instance per person and workflow; a relation instance ends `transferred` or `deleted`
-- and the next stay starts a new one.
DROP INDEX instances_one_live_per_person;
CREATE UNIQUE INDEX instances_one_live_per_person ON instances(person_id, workflow)
    WHERE state NOT IN ('rejected', 'withdrawn', 'annulled', 'transferred', 'deleted');

-- Deletion is a tombstone (TRF_NO_DELETE): the row stays, with the date and the reason.
ALTER TABLE members ADD COLUMN deleted_on DATE;
ALTER TABLE members ADD COLUMN deletion_reason TEXT;
CREATE FUNCTION register_no_delete() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% rows are never deleted: record a tombstone (tuanji member delete)', TG_TABLE_NAME;
END;
$$;
CREATE TRIGGER members_no_delete BEFORE DELETE ON members
    FOR EACH ROW EXECUTE FUNCTION register_no_delete();
CREATE TRIGGER members_no_truncate BEFORE TRUNCATE ON members
    FOR EACH STATEMENT EXECUTE FUNCTION register_no_delete();
CREATE TRIGGER persons_no_delete BEFORE DELETE ON persons
    FOR EACH ROW EXECUTE FUNCTION register_no_delete();

-- Every transfer, open and closed: the projection `tuanji transfer list` reads. The relation
-- instance's data (and the log) hold the same facts.
CREATE TABLE transfers (
    id              UUID PRIMARY KEY,
    person_id       UUID NOT NULL REFERENCES persons(id),
    instance_id     UUID NOT NULL REFERENCES instances(id),
    initiator       TEXT NOT NULL CHECK (initiator IN ('member', 'outgoing', 'incoming')),
    destination     TEXT NOT NULL,
    from_branch_id  UUID NOT NULL REFERENCES organisations(id),
    to_org_id       UUID NOT NULL REFERENCES organisations(id),
    to_branch_id    UUID REFERENCES organisations(id),
    state           TEXT NOT NULL CHECK (state IN ('open', 'completed', 'rejected', 'cancelled')),
    -- who has to act next, e.g. 'incoming 110108' or 'branch assignment by 110108'
    waiting_on      TEXT,
    requested_on DATE NOT NULL,
    last_action_on DATE NOT NULL,
    due_on DATE NOT NULL,
    overdue_on DATE,
    escalated_to_id UUID REFERENCES organisations(id),
    closed_on DATE
);
-- TRF_ONE_OPEN
CREATE UNIQUE INDEX transfers_one_open ON transfers(person_id) WHERE state = 'open';
CREATE INDEX transfers_from ON transfers(from_branch_id, state);
CREATE INDEX transfers_to ON transfers(to_org_id, state);
CREATE INDEX transfers_due ON transfers(state, due_on);
CREATE INDEX instances_workflow_state ON instances(workflow, state);
