-- A run or stage stopped by Ctrl-C or SIGTERM is recorded as 'interrupted'
-- (it stopped at a transaction boundary; a rerun resumes it), not 'failed'.

ALTER TABLE sqlite2pg.runs DROP CONSTRAINT IF EXISTS runs_status_check;
ALTER TABLE sqlite2pg.runs ADD CONSTRAINT runs_status_check
    CHECK (status IN ('running', 'failed', 'done', 'interrupted'));

ALTER TABLE sqlite2pg.stages DROP CONSTRAINT IF EXISTS stages_status_check;
ALTER TABLE sqlite2pg.stages ADD CONSTRAINT stages_status_check
    CHECK (status IN ('running', 'failed', 'done', 'interrupted'));
