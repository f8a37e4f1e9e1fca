-- Keep in step with migrations/postgres/0004_log_head_per_statement.sql. SQLite updates rows in place, so its
-- per-row log_head trigger stays; only the index is shared.

-- Latest instance of a workflow per person without depending on planner statistics after bulk work.
CREATE INDEX instances_person_workflow ON instances(person_id, workflow, id);
