//! The work of the copy stage: each table's chunk plan, which chunks are
//! done (marked in the transaction that loaded them), and the rows each
//! chunk rejected.

use crate::convert::reject::RejectRecord;
use anyhow::Result;
use tokio_postgres::GenericClient;

/// If an earlier run of this pipeline (any, not just the last: a `--fresh`
/// run may itself have failed early) created this target table (`schema`,
/// `target_table`): the most recent such run, and the source table it
/// loaded into it.
pub async fn created_by_earlier_run(
    client: &impl GenericClient,
    pipeline: &str,
    run_id: i64,
    schema: &str,
    target_table: &str,
) -> Result<Option<(i64, String)>> {
    let row = client
        .query_opt(
            "SELECT t.run_id, t.source_table \
             FROM sqlite2pg.tables t JOIN sqlite2pg.runs r USING (run_id) \
             WHERE r.pipeline = $1 AND r.target_schema = $2 AND t.run_id <> $3 \
             AND t.target_table = $4 AND NOT t.preexisting ORDER BY t.run_id DESC LIMIT 1",
            &[&pipeline, &schema, &run_id, &target_table],
        )
        .await?;
    Ok(row.map(|r| (r.get(0), r.get(1))))
}

/// Bytes of the largest row run `run_id` loaded into a table, when every
/// done chunk recorded it (`None`: none done, or loaded by an older version;
/// a state schema before version 4 has no such column, and read-only
/// commands do not upgrade it).
pub async fn largest_row(
    client: &impl GenericClient,
    run_id: i64,
    source: &str,
) -> Result<Option<i64>> {
    if super::schema::current(client).await? < 4 {
        return Ok(None);
    }
    let row = client
        .query_one(
            "SELECT max(largest_row), count(*), count(largest_row) FROM sqlite2pg.chunks \
             WHERE run_id = $1 AND source_table = $2 AND status = 'done'",
            &[&run_id, &source],
        )
        .await?;
    let (max, all, known): (Option<i64>, i64, i64) = (row.get(0), row.get(1), row.get(2));
    Ok(max.filter(|_| all == known))
}

/// What a run committed into a table: rows, and their content checksum
/// (`None` when a chunk was loaded by a version that recorded none).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LoadedContent {
    pub rows: i64,
    pub sum: Option<u128>,
}

pub async fn loaded_content(
    client: &impl GenericClient,
    run_id: i64,
    source: &str,
) -> Result<LoadedContent> {
    let rows = client
        .query(
            "SELECT rows_loaded, content_sum FROM sqlite2pg.chunks \
             WHERE run_id = $1 AND source_table = $2 AND status = 'done'",
            &[&run_id, &source],
        )
        .await?;
    let mut out = LoadedContent {
        rows: 0,
        sum: Some(0),
    };
    for r in rows {
        out.rows += r.get::<_, Option<i64>>(0).unwrap_or(0);
        let sum = r
            .get::<_, Option<String>>(1)
            .and_then(|h| u128::from_str_radix(&h, 16).ok());
        out.sum = match (out.sum, sum) {
            (Some(a), Some(b)) => Some(a.wrapping_add(b)),
            _ => None,
        };
    }
    Ok(out)
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

/// What decided a table's rows when run `run_id` planned or last reloaded
/// it (`config::rows_rule`); `None` for a table planned by an older version.
pub async fn rows_rule(
    client: &impl GenericClient,
    run_id: i64,
    source: &str,
) -> Result<Option<serde_json::Value>> {
    let row = client
        .query_opt(
            "SELECT rows_rule FROM sqlite2pg.tables WHERE run_id = $1 AND source_table = $2",
            &[&run_id, &source],
        )
        .await?;
    Ok(row.and_then(|r| r.get(0)))
}

/// Record what decides a table's rows, in the transaction that plans or
/// empties it.
pub async fn set_rows_rule(
    client: &impl GenericClient,
    run_id: i64,
    source: &str,
    rule: &serde_json::Value,
) -> Result<()> {
    client
        .execute(
            "UPDATE sqlite2pg.tables SET rows_rule = $3 WHERE run_id = $1 AND source_table = $2",
            &[&run_id, &source, rule],
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

/// What the done chunks of a table add up to.
#[derive(Debug, Clone, Copy, Default)]
pub struct ChunkTotals {
    pub rows_read: i64,
    pub rows_loaded: i64,
    pub rows_rejected: i64,
    /// Time spent loading them, as each chunk recorded it.
    pub seconds: f64,
}

/// Totals over the done chunks of a table.
pub async fn chunk_totals(
    client: &impl GenericClient,
    run_id: i64,
    source: &str,
) -> Result<ChunkTotals> {
    let r = client
        .query_one(
            "SELECT coalesce(sum(rows_read), 0)::bigint, coalesce(sum(rows_loaded), 0)::bigint, \
             coalesce(sum(rows_rejected), 0)::bigint, coalesce(sum(seconds), 0)::float8 \
             FROM sqlite2pg.chunks WHERE run_id = $1 AND source_table = $2 AND status = 'done'",
            &[&run_id, &source],
        )
        .await?;
    Ok(ChunkTotals {
        rows_read: r.get(0),
        rows_loaded: r.get(1),
        rows_rejected: r.get(2),
        seconds: r.get(3),
    })
}

/// What a loaded chunk did.
#[derive(Debug, Clone, Copy)]
pub struct ChunkDone {
    pub rows_read: i64,
    pub rows_loaded: i64,
    pub rows_rejected: i64,
    pub seconds: f64,
    /// Content checksum of the rows loaded (see `pg::checksum`).
    pub content_sum: u128,
    /// Bytes of the largest row loaded, as encoded for COPY.
    pub largest_row: i64,
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
        content_sum,
        largest_row,
    } = done;
    let content_sum = format!("{content_sum:032x}");
    let n = tx
        .execute(
            "UPDATE sqlite2pg.chunks SET status = 'done', rows_read = $4, rows_loaded = $5, \
             rows_rejected = $6, seconds = $7, content_sum = $8, largest_row = $9, finished_at = now() \
             WHERE run_id = $1 AND source_table = $2 AND chunk_no = $3 AND status = 'pending'",
            &[
                &run_id,
                &source,
                &chunk_no,
                &rows_read,
                &rows_loaded,
                &rows_rejected,
                &seconds,
                &content_sum,
                &largest_row,
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
    rejects: &[crate::convert::reject::Reject],
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

/// Committed rejects of a table, one record at a time, streamed.
pub async fn stream_rejects(
    client: &impl GenericClient,
    run_id: i64,
    source: &str,
    mut each: impl FnMut(RejectRecord) -> std::io::Result<()>,
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
        each(RejectRecord {
            table: r.get(0),
            row: r.get(1),
            column: r.get(2),
            value,
            storage_class: r.get(4),
            rule: r.get(5),
            reason: r.get(6),
        })?;
    }
    Ok(())
}
