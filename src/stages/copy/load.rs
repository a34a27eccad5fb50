//! One job of the copy stage, one transaction: a reader streams the rows of
//! each chunk (converted and encoded in place) into `COPY ... FROM STDIN
//! (FORMAT binary)`; in the same transaction the chunk's rejects are stored
//! and the chunk is marked done. A crash at any point therefore loses
//! nothing and duplicates nothing.

use super::{CopyTable, Job, Settings, Tally};
use crate::convert::reject::{Reject, RejectRecord};
use crate::error;
use crate::pg::checksum::Checksum;
use crate::pg::copy_in;
use crate::sqlite::read::reader::{self, ReadRequest};
use crate::sqlite::read::transform::{Refused, RefusedRows};
use crate::state::{self, ChunkRow};
use crate::ui::progress::Progress;
use anyhow::{anyhow, Context as _};
use bytes::Bytes;
use futures::{pin_mut, SinkExt};
use std::sync::atomic::Ordering;
use std::time::Instant;
use tokio_postgres::Client;

/// Why a job failed, with the rejects of a transaction that broke the
/// reject limit (rolled back, so the reject file must show them).
pub struct JobError {
    pub error: anyhow::Error,
    /// The failing transaction's rejects as reject-file lines.
    pub rejects: Vec<RejectRecord>,
    /// `rejects` are every reject of the table (a whole-table transaction
    /// failed): rejects committed by an earlier load are superseded.
    pub all_of_table: bool,
}

impl From<anyhow::Error> for JobError {
    fn from(error: anyhow::Error) -> Self {
        JobError {
            error,
            rejects: Vec::new(),
            all_of_table: false,
        }
    }
}

/// One job, one transaction: its rows and the chunks' done marks commit
/// together or not at all.
pub async fn run_job(
    client: &mut Client,
    job: &Job,
    table: &CopyTable,
    tally: &Tally,
    s: &Settings<'_>,
    progress: &Progress,
) -> Result<(), JobError> {
    let source = &table.plan.source;
    let tx = client
        .transaction()
        .await
        .with_context(|| format!("table {source}"))?;
    if job.replace {
        tx.execute(&format!("TRUNCATE {}", table.plan.qualified()), &[])
            .await
            .with_context(|| {
                format!(
                    "emptying {} before loading it whole (a table other tables reference cannot be truncated alone)",
                    table.plan.qualified()
                )
            })?;
        state::reset_chunks(&tx, s.run_id, source).await?;
        state::set_rows_rule(&tx, s.run_id, source, &table.rows_rule).await?;
    }
    for chunk in &job.chunks {
        if let Err(mut e) = load_chunk(&tx, table, tally, chunk, s, progress).await {
            if job.replace && !e.rejects.is_empty() {
                // The rejects of this transaction's earlier chunks roll back
                // with it; read them back (the transaction sees only its
                // own: the others were deleted above) so the reject file
                // shows every one. A read error leaves the file shorter; the
                // limit's error is the one to report.
                let mut earlier = Vec::new();
                let _ = state::stream_rejects(&tx, s.run_id, source, |v| {
                    earlier.push(v);
                    Ok(())
                })
                .await;
                e.rejects.splice(0..0, earlier);
                e.all_of_table = true;
            }
            return Err(e);
        }
    }
    // Read before a change to the source, or not committed at all.
    s.guard.check(&format!(
        "This transaction of table {source} was rolled back; work committed before it is kept"
    ))?;
    tx.commit()
        .await
        .with_context(|| format!("table {source}: commit"))?;
    Ok(())
}

/// Load one chunk inside the caller's transaction. Into an application's
/// table, a row PostgreSQL itself refuses (a domain's or the table's CHECK,
/// a value it cannot store) becomes a reject: the COPY is rolled back to a
/// savepoint and the chunk read again without that row, as long as the
/// reject limit allows. (A table this tool created has no such constraint
/// during the load, and its COPY FREEZE needs no savepoint before it.)
async fn load_chunk(
    tx: &tokio_postgres::Transaction<'_>,
    table: &CopyTable,
    tally: &Tally,
    chunk: &ChunkRow,
    s: &Settings<'_>,
    progress: &Progress,
) -> Result<(), JobError> {
    let t0 = Instant::now();
    let ctx = || format!("table {}, chunk {}", table.plan.source, chunk.chunk_no);
    let retry = !table.keys_early;
    let mut refused = RefusedRows::new();
    let mut shown = Shown {
        tally,
        progress,
        rows: 0,
    };
    let Copied {
        rejects,
        read,
        loaded,
        content,
        largest_row,
    } = loop {
        if retry {
            tx.batch_execute("SAVEPOINT sqlite2pg_chunk")
                .await
                .with_context(ctx)?;
        }
        match copy_chunk(tx, table, chunk, s, &refused, &mut shown).await? {
            Ok(done) => {
                if retry {
                    tx.batch_execute("RELEASE SAVEPOINT sqlite2pg_chunk")
                        .await
                        .with_context(ctx)?;
                }
                break done;
            }
            Err((e, sent)) => {
                let refusal = if retry { refusal(&e, &sent) } else { None };
                match refusal {
                    Some((key, why)) if (refused.len() as u64) <= table.reject_limit => {
                        tracing::info!(
                            "table {}: PostgreSQL refused the row with source key {key} ({}); \
                             loading chunk {} again without it",
                            table.plan.source,
                            why.reason,
                            chunk.chunk_no
                        );
                        refused.insert(key, why);
                        tx.batch_execute("ROLLBACK TO SAVEPOINT sqlite2pg_chunk")
                            .await
                            .with_context(ctx)?;
                    }
                    _ => return Err(explain_copy_error(e, &sent, table).context(ctx()).into()),
                }
            }
        }
    };
    let n_rej = rejects.len() as u64;
    if n_rej > 0 {
        let total = table.rejects_before + tally.rejects.fetch_add(n_rej, Ordering::SeqCst) + n_rej;
        if total > table.reject_limit {
            let first = &rejects[0];
            let source = &table.plan.source;
            return Err(JobError {
                error: error::blocked(format!(
                    "{total} rejected row(s) in table {source} exceed reject_limit {} (first: {}, column {}: {}); \
                     fix the source or the mapping, or raise reject_limit",
                    table.reject_limit, first.row_key, first.column, first.reason
                )),
                rejects: rejects.iter().map(|r| r.record(source)).collect(),
                all_of_table: false,
            });
        }
    }
    state::insert_rejects(tx, s.run_id, &table.plan.source, chunk.chunk_no, &rejects)
        .await
        .with_context(ctx)?;
    state::finish_chunk(
        tx,
        s.run_id,
        &table.plan.source,
        chunk.chunk_no,
        state::ChunkDone {
            rows_read: read as i64,
            rows_loaded: loaded as i64,
            rows_rejected: n_rej as i64,
            seconds: t0.elapsed().as_secs_f64(),
            content_sum: content.sum,
            largest_row: largest_row as i64,
        },
    )
    .await
    .with_context(ctx)?;
    Ok(())
}

/// One attempt at a chunk's COPY: the rejects, rows read and rows loaded,
/// or PostgreSQL's error with the keys of the rows sent (its line numbers).
async fn copy_chunk(
    tx: &tokio_postgres::Transaction<'_>,
    table: &CopyTable,
    chunk: &ChunkRow,
    s: &Settings<'_>,
    refused: &RefusedRows,
    shown: &mut Shown<'_>,
) -> Result<Result<Copied, (tokio_postgres::Error, Vec<i64>)>, JobError> {
    let ctx = || format!("table {}, chunk {}", table.plan.source, chunk.chunk_no);
    let mut reader = reader::spawn_reader(ReadRequest {
        path: s.source_path.clone(),
        sql: table.select_sql.clone(),
        range: chunk.lo..=chunk.hi,
        transform: table.transform.clone(),
        types: table.types.clone(),
        batch_size: s.batch_size,
        refused: std::sync::Arc::new(refused.clone()),
        hash: true,
        send_rows: true,
    });
    let sink = tx
        .copy_in::<_, Bytes>(&table.copy_sql)
        .await
        .with_context(ctx)?;
    pin_mut!(sink);
    let mut rejects: Vec<Reject> = Vec::new();
    let mut keys: Vec<i64> = Vec::new();
    let mut content = Checksum::default();
    let mut largest_row = 0u64;
    let (mut read, mut loaded) = (0u64, 0u64);
    let mut failed = sink.send(Bytes::from_static(copy_in::HEADER)).await.err();
    while failed.is_none() {
        let Some(batch) = reader.batches.recv().await else {
            break;
        };
        failed = sink.send(batch.data).await.err();
        read += batch.rows_read as u64;
        loaded += batch.keys.len() as u64;
        keys.extend_from_slice(&batch.keys);
        content.add(batch.content);
        largest_row = largest_row.max(batch.largest_row);
        rejects.extend(batch.rejects);
        shown.read_up_to(table.idx, read);
    }
    if failed.is_none() {
        failed = sink.send(Bytes::from_static(copy_in::TRAILER)).await.err();
    }
    if let Some(e) = failed {
        // The server's reason arrives with the end of the COPY.
        let e = match sink.finish().await {
            Err(server) => server,
            Ok(_) => e,
        };
        return Ok(Err((e, keys)));
    }
    let extracted = reader
        .finish()
        .await
        .with_context(|| format!("reading source table {}", table.plan.source))
        .with_context(ctx)?;
    let copied = match sink.finish().await {
        Ok(n) => n,
        Err(e) => return Ok(Err((e, keys))),
    };
    if extracted != read || copied != loaded {
        return Err(anyhow!(
            "{}: row count mismatch (read {extracted}, transformed {read}, sent {loaded}, COPY reported {copied})",
            ctx()
        )
        .into());
    }
    Ok(Ok(Copied {
        rejects,
        read,
        loaded,
        content,
        largest_row,
    }))
}

/// Rows of a chunk already shown on the progress bar and counted as read:
/// a chunk read again (after PostgreSQL refused a row) counts each row once.
struct Shown<'a> {
    tally: &'a Tally,
    progress: &'a Progress,
    rows: u64,
}

impl Shown<'_> {
    fn read_up_to(&mut self, table: usize, read: u64) {
        if read > self.rows {
            self.progress.inc(table, read - self.rows);
            self.tally
                .read
                .fetch_add(read - self.rows, Ordering::SeqCst);
            self.rows = read;
        }
    }
}

/// What one COPY of a chunk sent: its rejects, rows read and loaded, and
/// the content checksum of the rows loaded, and the largest row's bytes.
struct Copied {
    rejects: Vec<Reject>,
    read: u64,
    loaded: u64,
    content: Checksum,
    largest_row: u64,
}

/// The COPY line (1-based row of the COPY) PostgreSQL's error names.
fn copy_line(db: &tokio_postgres::error::DbError) -> Option<usize> {
    db.where_()
        .and_then(|w| w.split("line ").nth(1))
        .and_then(|rest| rest.split(|c: char| !c.is_ascii_digit()).next())
        .and_then(|n| n.parse::<usize>().ok())
}

/// A COPY error that is about one row's value — a CHECK (a domain's or the
/// table's) or a data exception (SQLSTATE class 22) on a line PostgreSQL
/// names — as that row's key and reason. Anything else (a unique or
/// foreign key violation, a lost connection) is not one row's fault.
fn refusal(e: &tokio_postgres::Error, sent: &[i64]) -> Option<(i64, Refused)> {
    let db = e.as_db_error()?;
    let code = db.code().code();
    if code != "23514" && !code.starts_with("22") {
        return None;
    }
    let key = *sent.get(copy_line(db)?.checked_sub(1)?)?;
    let column = db.column().map(str::to_string).or_else(|| {
        db.where_()
            .and_then(|w| w.split(", column ").nth(1))
            .map(|c| c.split(": ").next().unwrap_or(c).to_string())
    });
    let mut reason = format!("PostgreSQL refused it: {}", db.message());
    if let Some(d) = db.detail() {
        reason.push_str(&format!(" ({d})"));
    }
    Some((key, Refused { column, reason }))
}

/// A server-side COPY error, with the offending row named by its source key
/// when PostgreSQL tells which line (row) of the COPY failed. The
/// PostgreSQL error stays in the chain, so its SQLSTATE decides the class.
fn explain_copy_error(e: tokio_postgres::Error, sent: &[i64], table: &CopyTable) -> anyhow::Error {
    let Some(db) = e.as_db_error() else {
        return anyhow::Error::new(e).context("target connection failed during COPY");
    };
    let mut msg = format!("PostgreSQL rejected the data: {}", db.message());
    if let Some(d) = db.detail() {
        msg.push_str(&format!(" ({d})"));
    }
    if let Some(line) = copy_line(db) {
        if let Some(k) = sent.get(line.saturating_sub(1)) {
            if table.plan.without_rowid {
                msg.push_str(&format!(" at row {line} of the chunk"));
            } else {
                msg.push_str(&format!(" at source rowid {k}"));
            }
        }
    }
    if let Some(c) = db.column() {
        msg.push_str(&format!(", column {c}"));
    }
    error::from_postgres(&e, msg)
}
