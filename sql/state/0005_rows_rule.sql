-- What decides each table's rows when its plan was recorded (target name,
-- filter, columns with their types and conversion rules, added columns):
-- a resume of a table partly copied under another mapping is refused,
-- naming what changed. NULL for tables planned before this version.

ALTER TABLE sqlite2pg.tables ADD COLUMN IF NOT EXISTS rows_rule jsonb;
