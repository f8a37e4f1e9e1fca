-- Annual evaluation and Party recommendation (PostgreSQL). Keep in step with
-- migrations/sqlite/0007_evaluation_party.sql.

-- 团员教育评议: one evaluation round per branch and year (evaluation.v1). The round is an instance of the
-- evaluation machine, kept apart from `instances` because it concerns a branch, not one person; its
-- data is rebuilt exactly by replaying the log (the log entries carry the round id as instance_id).
CREATE TABLE evaluation_rounds (
    id                UUID PRIMARY KEY,
    branch_id         UUID NOT NULL REFERENCES organisations(id),
    year              INTEGER NOT NULL,
    workflow_version  INTEGER NOT NULL,
    definition_sha256 TEXT NOT NULL,
    state             TEXT NOT NULL,
    version           BIGINT NOT NULL,
    data              TEXT NOT NULL,
    opened_on         DATE NOT NULL,
    CONSTRAINT evaluation_rounds_one_per_year UNIQUE (branch_id, year)
);
CREATE INDEX evaluation_rounds_state ON evaluation_rounds(state);

-- Which approved rounds grade a member: the index the Party recommendation's "last grade" reads (the
-- grade itself is read from the round's data).
CREATE TABLE evaluation_graded (
    person_id UUID NOT NULL REFERENCES persons(id),
    round_id  UUID NOT NULL REFERENCES evaluation_rounds(id),
    year      INTEGER NOT NULL,
    PRIMARY KEY (person_id, round_id)
);
CREATE INDEX evaluation_graded_person_year ON evaluation_graded(person_id, year);

-- 推优入党: a member may have several recommendations over time, one open at a time. Ended ones
-- (accepted_by_party, declined, expired, cancelled) leave the "one live instance per person" index.
DROP INDEX instances_one_live_per_person;
CREATE UNIQUE INDEX instances_one_live_per_person ON instances(person_id, workflow)
    WHERE state NOT IN ('rejected', 'withdrawn', 'annulled', 'transferred', 'deleted',
                        'accepted_by_party', 'declined', 'expired', 'cancelled');
CREATE INDEX instances_workflow_branch ON instances(workflow, branch_id);
