-- The Merkle frontier of each checkpoint (the roots of its perfect subtrees, 32 bytes each, largest first), so the
-- next checkpoint hashes only the entries after it. NULL for checkpoints taken before: the next one recomputes.
-- Keep in step with migrations/postgres/0008_checkpoint_frontier.sql.
ALTER TABLE checkpoints ADD COLUMN frontier BLOB;
