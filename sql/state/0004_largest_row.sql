-- The bytes of the largest row each committed chunk loaded (as encoded
-- for binary COPY). `verify` reads a table of small rows from the source
-- and the target at once, and one with large rows (or loaded before this
-- version: NULL) one side after the other, so its memory stays within
-- twice the largest value.

ALTER TABLE sqlite2pg.chunks ADD COLUMN IF NOT EXISTS largest_row bigint;
