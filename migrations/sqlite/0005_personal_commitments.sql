-- canonical_v2 (docs/audit-format.md): personal fields of a payload are stored beside it and enter the leaf hash
-- only as salted commitments. Rows written before this migration keep salt NULL and are canonical_v1.
-- Keep in step with migrations/postgres/0005_personal_commitments.sql.
ALTER TABLE transition_log ADD COLUMN salt BLOB CHECK (salt IS NULL OR length(salt) = 32);
ALTER TABLE transition_log ADD COLUMN personal TEXT;
