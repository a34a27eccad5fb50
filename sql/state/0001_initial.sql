-- sqlite2pg's own state, kept in the target database so that a crash
-- anywhere leaves a record that agrees with the data: a chunk's rows and its
-- `done` mark are committed in the same transaction.
-- Version 1 of the state schema (the one every target written before the
-- schema was versioned holds). Later changes are later files, applied in
-- order by `state::schema::ensure`; never edit an applied one.

CREATE SCHEMA IF NOT EXISTS sqlite2pg;

CREATE TABLE IF NOT EXISTS sqlite2pg.runs (
    run_id       bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    pipeline     text        NOT NULL,
    target_schema text       NOT NULL,
    source_path  text        NOT NULL,
    fingerprint  jsonb       NOT NULL,
    mapping_hash text        NOT NULL,
    status       text        NOT NULL DEFAULT 'running'
                 CHECK (status IN ('running', 'failed', 'done')),
    started_at   timestamptz NOT NULL DEFAULT now(),
    finished_at  timestamptz,
    last_error   text
);
CREATE INDEX IF NOT EXISTS runs_pipeline_idx
    ON sqlite2pg.runs (pipeline, target_schema, run_id DESC);

-- One row per (stage, table); table_name '' is the stage as a whole.
CREATE TABLE IF NOT EXISTS sqlite2pg.stages (
    run_id      bigint      NOT NULL REFERENCES sqlite2pg.runs ON DELETE CASCADE,
    stage       text        NOT NULL
                CHECK (stage IN ('prepare', 'copy', 'finalize', 'verify')),
    table_name  text        NOT NULL DEFAULT '',
    status      text        NOT NULL CHECK (status IN ('running', 'failed', 'done')),
    started_at  timestamptz NOT NULL DEFAULT now(),
    finished_at timestamptz,
    error       text,
    PRIMARY KEY (run_id, stage, table_name)
);

-- The tables of a run as `prepare` planned them.
CREATE TABLE IF NOT EXISTS sqlite2pg.tables (
    run_id       bigint  NOT NULL REFERENCES sqlite2pg.runs ON DELETE CASCADE,
    source_table text    NOT NULL,
    target_table text    NOT NULL,
    preexisting  boolean NOT NULL,
    source_rows  bigint  NOT NULL,
    chunks_total integer NOT NULL,
    PRIMARY KEY (run_id, source_table)
);

-- A chunk is a rowid range [lo, hi] of one source table.
CREATE TABLE IF NOT EXISTS sqlite2pg.chunks (
    run_id        bigint  NOT NULL REFERENCES sqlite2pg.runs ON DELETE CASCADE,
    source_table  text    NOT NULL,
    chunk_no      integer NOT NULL,
    lo            bigint  NOT NULL,
    hi            bigint  NOT NULL,
    planned_rows  bigint  NOT NULL,
    status        text    NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'done')),
    rows_read     bigint,
    rows_loaded   bigint,
    rows_rejected bigint,
    seconds       double precision,
    finished_at   timestamptz,
    PRIMARY KEY (run_id, source_table, chunk_no)
);

-- Rows that did not convert; written in the transaction of their chunk.
CREATE TABLE IF NOT EXISTS sqlite2pg.rejects (
    run_id        bigint  NOT NULL REFERENCES sqlite2pg.runs ON DELETE CASCADE,
    source_table  text    NOT NULL,
    chunk_no      integer NOT NULL,
    row_key       text    NOT NULL,
    column_name   text    NOT NULL,
    -- json, not jsonb: the raw value may hold \u0000, which jsonb refuses.
    raw_value     json,
    storage_class text    NOT NULL,
    rule          text    NOT NULL,
    reason        text    NOT NULL
);
CREATE INDEX IF NOT EXISTS rejects_chunk_idx
    ON sqlite2pg.rejects (run_id, source_table, chunk_no);
