//! The tool's own state in the target (`sqlite2pg` schema, DDL in
//! `sql/state.sql`): runs, stages, planned tables, chunks and rejects. What
//! is recorded here is what a rerun trusts, so every write that marks work as
//! done shares a transaction with that work.

use anyhow::{Context, Result};
use tokio_postgres::{Client, GenericClient};

pub const STATE_SQL: &str = include_str!("../../sql/state.sql");

/// Create or upgrade the state schema. Serialized with an advisory lock so
/// concurrent first runs do not race on `CREATE ... IF NOT EXISTS`.
pub async fn ensure(client: &mut Client) -> Result<()> {
    let tx = client.transaction().await?;
    tx.execute("SELECT pg_advisory_xact_lock(7349205611)", &[])
        .await?;
    tx.batch_execute(STATE_SQL)
        .await
        .context("creating the sqlite2pg state schema in the target")?;
    tx.commit().await?;
    Ok(())
}

/// Whether the state schema exists (read-only commands must not create it).
pub async fn exists(client: &Client) -> Result<bool> {
    let row = client
        .query_one("SELECT to_regclass('sqlite2pg.runs') IS NOT NULL", &[])
        .await?;
    Ok(row.get(0))
}

/// How long `try_lock_pipeline` waits for another session to let go.
pub const LOCK_PATIENCE: std::time::Duration = std::time::Duration::from_secs(5);

/// Session-level lock so two runs of one pipeline cannot interleave.
/// Returns false when another session still holds it after
/// [`LOCK_PATIENCE`]. The wait is for a run killed a moment ago: its server
/// session ends only once the server notices the client is gone (within
/// `client_connection_check_interval`, see `Target::connect`), and an
/// immediate rerun should resume rather than be told another run is going.
pub async fn try_lock_pipeline(client: &Client, pipeline: &str, schema: &str) -> Result<bool> {
    let deadline = std::time::Instant::now() + LOCK_PATIENCE;
    loop {
        let row = client
            .query_one(
                "SELECT pg_try_advisory_lock(hashtextextended('sqlite2pg:' || $1 || ':' || $2, 0))",
                &[&pipeline, &schema],
            )
            .await?;
        let got: bool = row.get(0);
        if got || std::time::Instant::now() >= deadline {
            return Ok(got);
        }
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
}

/// The key every session of a run of this pipeline holds in shared mode.
pub async fn session_lock_key(client: &Client, pipeline: &str, schema: &str) -> Result<i64> {
    let row = client
        .query_one(
            "SELECT hashtextextended('sqlite2pg-sessions:' || $1 || ':' || $2, 0)",
            &[&pipeline, &schema],
        )
        .await?;
    Ok(row.get(0))
}

/// Wait until no session of an earlier run of this pipeline is left on the
/// server. A killed run's worker sessions can outlive it for a moment (until
/// the server notices the client is gone), still running a COPY or an index
/// build; a rerun must not work beside them. They hold the key in shared
/// mode, so taking it exclusively (and releasing it at once) waits them out.
pub async fn wait_for_leftover_sessions(client: &Client, key: i64) -> Result<()> {
    client.batch_execute("SET lock_timeout = '120s'").await?;
    let res = client.execute("SELECT pg_advisory_lock($1)", &[&key]).await;
    client
        .batch_execute(crate::pg::connect::LOCK_TIMEOUT)
        .await?;
    res.context(
        "sessions of an earlier run of this pipeline are still active on the server after 120 s \
         (see pg_stat_activity, application_name = 'sqlite2pg')",
    )?;
    client
        .execute("SELECT pg_advisory_unlock($1)", &[&key])
        .await?;
    Ok(())
}

#[derive(Debug, Clone)]
pub struct RunRow {
    pub run_id: i64,
    pub status: String,
    pub fingerprint: serde_json::Value,
    pub mapping_hash: String,
    pub source_path: String,
}

pub async fn latest_run(client: &Client, pipeline: &str, schema: &str) -> Result<Option<RunRow>> {
    let row = client
        .query_opt(
            "SELECT run_id, status, fingerprint, mapping_hash, source_path FROM sqlite2pg.runs \
             WHERE pipeline = $1 AND target_schema = $2 ORDER BY run_id DESC LIMIT 1",
            &[&pipeline, &schema],
        )
        .await?;
    Ok(row.map(|r| RunRow {
        run_id: r.get(0),
        status: r.get(1),
        fingerprint: r.get(2),
        mapping_hash: r.get(3),
        source_path: r.get(4),
    }))
}

pub async fn new_run(
    client: &Client,
    pipeline: &str,
    schema: &str,
    source_path: &str,
    fingerprint: &serde_json::Value,
    mapping_hash: &str,
) -> Result<i64> {
    let row = client
        .query_one(
            "INSERT INTO sqlite2pg.runs (pipeline, target_schema, source_path, fingerprint, mapping_hash) \
             VALUES ($1, $2, $3, $4, $5) RETURNING run_id",
            &[&pipeline, &schema, &source_path, fingerprint, &mapping_hash],
        )
        .await?;
    Ok(row.get(0))
}

pub async fn set_run_status(
    client: &Client,
    run_id: i64,
    status: &str,
    error: Option<&str>,
) -> Result<()> {
    client
        .execute(
            "UPDATE sqlite2pg.runs SET status = $2, last_error = $3, \
             finished_at = CASE WHEN $2 = 'running' THEN NULL ELSE now() END \
             WHERE run_id = $1",
            &[&run_id, &status, &error],
        )
        .await?;
    Ok(())
}

pub async fn update_run_identity(
    client: &Client,
    run_id: i64,
    fingerprint: &serde_json::Value,
    mapping_hash: &str,
) -> Result<()> {
    client
        .execute(
            "UPDATE sqlite2pg.runs SET fingerprint = $2, mapping_hash = $3 WHERE run_id = $1",
            &[&run_id, fingerprint, &mapping_hash],
        )
        .await?;
    Ok(())
}

pub async fn stage_status(
    client: &impl GenericClient,
    run_id: i64,
    stage: &str,
    table: &str,
) -> Result<Option<String>> {
    let row = client
        .query_opt(
            "SELECT status FROM sqlite2pg.stages WHERE run_id = $1 AND stage = $2 AND table_name = $3",
            &[&run_id, &stage, &table],
        )
        .await?;
    Ok(row.map(|r| r.get(0)))
}

pub async fn stage_done(
    client: &impl GenericClient,
    run_id: i64,
    stage: &str,
    table: &str,
) -> Result<bool> {
    Ok(stage_status(client, run_id, stage, table).await?.as_deref() == Some("done"))
}

pub async fn set_stage(
    client: &impl GenericClient,
    run_id: i64,
    stage: &str,
    table: &str,
    status: &str,
    error: Option<&str>,
) -> Result<()> {
    client
        .execute(
            "INSERT INTO sqlite2pg.stages (run_id, stage, table_name, status, error, finished_at) \
             VALUES ($1, $2, $3, $4, $5, CASE WHEN $4 = 'running' THEN NULL ELSE now() END) \
             ON CONFLICT (run_id, stage, table_name) DO UPDATE SET status = EXCLUDED.status, \
             error = EXCLUDED.error, finished_at = EXCLUDED.finished_at, \
             started_at = CASE WHEN EXCLUDED.status = 'running' THEN now() ELSE sqlite2pg.stages.started_at END",
            &[&run_id, &stage, &table, &status, &error],
        )
        .await?;
    Ok(())
}

/// Forget a stage's per-table records (used when a stage is rerun on purpose).
pub async fn reset_stage(
    client: &impl GenericClient,
    run_id: i64,
    stage: &str,
    table: Option<&str>,
) -> Result<()> {
    match table {
        Some(t) => client
            .execute(
                "DELETE FROM sqlite2pg.stages WHERE run_id = $1 AND stage = $2 AND table_name IN ($3, '')",
                &[&run_id, &stage, &t],
            )
            .await?,
        None => client
            .execute(
                "DELETE FROM sqlite2pg.stages WHERE run_id = $1 AND stage = $2",
                &[&run_id, &stage],
            )
            .await?,
    };
    Ok(())
}

/// If an earlier run of this pipeline (any, not just the last: a `--fresh`
/// run may itself have failed early) created this target table: the rows
/// the most recent such run loaded into it.
pub async fn created_by_earlier_run(
    client: &impl GenericClient,
    pipeline: &str,
    run_id: i64,
    t: &crate::config::plan::TablePlan,
) -> Result<Option<i64>> {
    let row = client
        .query_opt(
            "SELECT (SELECT coalesce(sum(c.rows_loaded), 0)::bigint FROM sqlite2pg.chunks c \
                     WHERE c.run_id = t.run_id AND c.source_table = t.source_table AND c.status = 'done') \
             FROM sqlite2pg.tables t JOIN sqlite2pg.runs r USING (run_id) \
             WHERE r.pipeline = $1 AND r.target_schema = $2 AND t.run_id <> $3 \
             AND t.target_table = $4 AND NOT t.preexisting ORDER BY t.run_id DESC LIMIT 1",
            &[&pipeline, &t.schema, &run_id, &t.target],
        )
        .await?;
    Ok(row.map(|r| r.get(0)))
}

#[derive(Debug, Clone)]
pub struct TableRow {
    pub source_table: String,
    pub target_table: String,
    pub preexisting: bool,
    pub source_rows: i64,
    pub chunks_total: i32,
}

pub async fn table_row(
    client: &impl GenericClient,
    run_id: i64,
    source: &str,
) -> Result<Option<TableRow>> {
    let row = client
        .query_opt(
            "SELECT source_table, target_table, preexisting, source_rows, chunks_total \
             FROM sqlite2pg.tables WHERE run_id = $1 AND source_table = $2",
            &[&run_id, &source],
        )
        .await?;
    Ok(row.map(|r| TableRow {
        source_table: r.get(0),
        target_table: r.get(1),
        preexisting: r.get(2),
        source_rows: r.get(3),
        chunks_total: r.get(4),
    }))
}

/// Record a table's chunk plan. Replaces any earlier plan of the same table
/// in this run (with its chunks and rejects) — callers do this only in the
/// transaction that also empties the target table.
pub async fn record_plan(
    client: &impl GenericClient,
    run_id: i64,
    t: &TableRow,
    chunks: &[(i64, i64, u64)],
) -> Result<()> {
    client
        .execute(
            "DELETE FROM sqlite2pg.chunks WHERE run_id = $1 AND source_table = $2",
            &[&run_id, &t.source_table],
        )
        .await?;
    client
        .execute(
            "DELETE FROM sqlite2pg.rejects WHERE run_id = $1 AND source_table = $2",
            &[&run_id, &t.source_table],
        )
        .await?;
    client
        .execute(
            "INSERT INTO sqlite2pg.tables (run_id, source_table, target_table, preexisting, source_rows, chunks_total) \
             VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (run_id, source_table) DO UPDATE SET \
             target_table = EXCLUDED.target_table, preexisting = EXCLUDED.preexisting, \
             source_rows = EXCLUDED.source_rows, chunks_total = EXCLUDED.chunks_total",
            &[&run_id, &t.source_table, &t.target_table, &t.preexisting, &t.source_rows, &t.chunks_total],
        )
        .await?;
    let los: Vec<i64> = chunks.iter().map(|c| c.0).collect();
    let his: Vec<i64> = chunks.iter().map(|c| c.1).collect();
    let ns: Vec<i64> = chunks.iter().map(|c| c.2 as i64).collect();
    client
        .execute(
            "INSERT INTO sqlite2pg.chunks (run_id, source_table, chunk_no, lo, hi, planned_rows) \
             SELECT $1, $2, (ord - 1)::int, lo, hi, n \
             FROM unnest($3::bigint[], $4::bigint[], $5::bigint[]) WITH ORDINALITY AS u(lo, hi, n, ord)",
            &[&run_id, &t.source_table, &los, &his, &ns],
        )
        .await?;
    Ok(())
}

#[derive(Debug, Clone)]
pub struct ChunkRow {
    pub chunk_no: i32,
    pub lo: i64,
    pub hi: i64,
    pub planned_rows: i64,
}

/// The chunks still to load (`all`: every chunk of the table).
pub async fn chunks(
    client: &impl GenericClient,
    run_id: i64,
    source: &str,
    all: bool,
) -> Result<Vec<ChunkRow>> {
    let rows = client
        .query(
            "SELECT chunk_no, lo, hi, planned_rows FROM sqlite2pg.chunks \
             WHERE run_id = $1 AND source_table = $2 AND ($3 OR status = 'pending') ORDER BY chunk_no",
            &[&run_id, &source, &all],
        )
        .await?;
    Ok(rows
        .iter()
        .map(|r| ChunkRow {
            chunk_no: r.get(0),
            lo: r.get(1),
            hi: r.get(2),
            planned_rows: r.get(3),
        })
        .collect())
}

/// Mark every chunk of a table pending again and forget its rejects; only
/// in the transaction that also empties the target table.
pub async fn reset_chunks(tx: &impl GenericClient, run_id: i64, source: &str) -> Result<()> {
    tx.execute(
        "UPDATE sqlite2pg.chunks SET status = 'pending', rows_read = NULL, rows_loaded = NULL, \
         rows_rejected = NULL, seconds = NULL, finished_at = NULL WHERE run_id = $1 AND source_table = $2",
        &[&run_id, &source],
    )
    .await?;
    tx.execute(
        "DELETE FROM sqlite2pg.rejects WHERE run_id = $1 AND source_table = $2",
        &[&run_id, &source],
    )
    .await?;
    Ok(())
}

/// Totals over the done chunks of a table: (rows_read, rows_loaded, rows_rejected).
pub async fn chunk_totals(
    client: &impl GenericClient,
    run_id: i64,
    source: &str,
) -> Result<(i64, i64, i64)> {
    let r = client
        .query_one(
            "SELECT coalesce(sum(rows_read), 0)::bigint, coalesce(sum(rows_loaded), 0)::bigint, \
             coalesce(sum(rows_rejected), 0)::bigint FROM sqlite2pg.chunks \
             WHERE run_id = $1 AND source_table = $2 AND status = 'done'",
            &[&run_id, &source],
        )
        .await?;
    Ok((r.get(0), r.get(1), r.get(2)))
}

/// What a loaded chunk did.
#[derive(Debug, Clone, Copy)]
pub struct ChunkDone {
    pub rows_read: i64,
    pub rows_loaded: i64,
    pub rows_rejected: i64,
    pub seconds: f64,
}

/// Mark a chunk done; must run in the chunk's load transaction.
pub async fn finish_chunk(
    tx: &impl GenericClient,
    run_id: i64,
    source: &str,
    chunk_no: i32,
    done: ChunkDone,
) -> Result<()> {
    let ChunkDone {
        rows_read,
        rows_loaded,
        rows_rejected,
        seconds,
    } = done;
    let n = tx
        .execute(
            "UPDATE sqlite2pg.chunks SET status = 'done', rows_read = $4, rows_loaded = $5, \
             rows_rejected = $6, seconds = $7, finished_at = now() \
             WHERE run_id = $1 AND source_table = $2 AND chunk_no = $3 AND status = 'pending'",
            &[
                &run_id,
                &source,
                &chunk_no,
                &rows_read,
                &rows_loaded,
                &rows_rejected,
                &seconds,
            ],
        )
        .await?;
    anyhow::ensure!(
        n == 1,
        "chunk {chunk_no} of table {source} was already marked done by another session"
    );
    Ok(())
}

/// Insert a chunk's rejects; must run in the chunk's load transaction.
pub async fn insert_rejects(
    tx: &impl GenericClient,
    run_id: i64,
    source: &str,
    chunk_no: i32,
    rejects: &[crate::sqlite::transform::Reject],
) -> Result<()> {
    if rejects.is_empty() {
        return Ok(());
    }
    // PostgreSQL text cannot hold NUL; raw values go in as json text.
    let clean = |s: &str| s.replace('\0', "\\0");
    let keys: Vec<String> = rejects.iter().map(|r| clean(&r.row_key)).collect();
    let cols: Vec<String> = rejects.iter().map(|r| clean(&r.column)).collect();
    let raws: Vec<String> = rejects
        .iter()
        .map(|r| r.raw.to_json().to_string())
        .collect();
    let classes: Vec<&str> = rejects.iter().map(|r| r.raw.storage_class()).collect();
    let rules: Vec<String> = rejects.iter().map(|r| clean(&r.rule)).collect();
    let reasons: Vec<String> = rejects.iter().map(|r| clean(&r.reason)).collect();
    tx.execute(
        "INSERT INTO sqlite2pg.rejects (run_id, source_table, chunk_no, row_key, column_name, raw_value, storage_class, rule, reason) \
         SELECT $1, $2, $3, k, c, r::json, s, u, e \
         FROM unnest($4::text[], $5::text[], $6::text[], $7::text[], $8::text[], $9::text[]) AS x(k, c, r, s, u, e)",
        &[&run_id, &source, &chunk_no, &keys, &cols, &raws, &classes, &rules, &reasons],
    )
    .await?;
    Ok(())
}

/// Committed rejects of a table, one JSON object at a time, streamed.
pub async fn stream_rejects(
    client: &impl GenericClient,
    run_id: i64,
    source: &str,
    mut each: impl FnMut(serde_json::Value) -> std::io::Result<()>,
) -> Result<()> {
    use futures::StreamExt;
    let rows = client
        .query_raw(
            "SELECT source_table, row_key, column_name, raw_value::text, storage_class, rule, reason \
             FROM sqlite2pg.rejects WHERE run_id = $1 AND source_table = $2 ORDER BY chunk_no",
            [&run_id as &(dyn tokio_postgres::types::ToSql + Sync), &source],
        )
        .await?;
    futures::pin_mut!(rows);
    while let Some(r) = rows.next().await {
        let r = r?;
        let raw: Option<String> = r.get(3);
        let value = match raw {
            Some(t) => serde_json::from_str(&t)?,
            None => serde_json::Value::Null,
        };
        each(serde_json::json!({
            "table": r.get::<_, String>(0),
            "row": r.get::<_, String>(1),
            "column": r.get::<_, String>(2),
            "value": value,
            "storage_class": r.get::<_, String>(4),
            "rule": r.get::<_, String>(5),
            "reason": r.get::<_, String>(6),
        }))?;
    }
    Ok(())
}
