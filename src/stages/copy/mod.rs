//! The copy stage: load workers, each with its own PostgreSQL connection,
//! take jobs from a shared queue. For each chunk a reader thread reads,
//! converts and encodes rows in place from SQLite's row buffer and feeds the
//! worker through a bounded channel; the worker streams rows into
//! `COPY ... FROM STDIN (FORMAT binary)` and, in the same transaction,
//! stores the chunk's rejects and marks it done. A crash at any point
//! therefore loses nothing and duplicates nothing.
//!
//! A job is one transaction: one chunk (`commit_every = "chunk"`, chunks of
//! one table on several workers at once), or every chunk of a table after a
//! `TRUNCATE` (`commit_every = "table"` for a table this tool created, whose
//! COPY then adds FREEZE; and reloads).

use crate::config::plan::TablePlan;
use crate::pg::connect::Target;
use crate::pg::copy_in;
use crate::sqlite::reader::{extract_encoded, EncodedBatch};
use crate::sqlite::source;
use crate::sqlite::transform::{Reject, TableTransform};
use crate::state::{self, ChunkRow};
use crate::ui::progress::Progress;
use anyhow::{anyhow, bail, Context, Result};
use bytes::Bytes;
use futures::pin_mut;
use futures::SinkExt;
use std::collections::VecDeque;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;
use tokio::sync::{mpsc, watch};
use tokio_postgres::types::Type;
use tokio_postgres::Client;

/// Batches in flight on a chunk's channel (reader → load worker). With the
/// default batch of 2000 rows (or 1 MiB) this bounds a chunk's buffered rows
/// to about 10k whatever the table size.
pub const CHANNEL_BATCHES: usize = 4;

/// One table as the copy stage sees it.
pub struct CopyTable {
    pub plan: TablePlan,
    /// Index in the progress display.
    pub idx: usize,
    pub transform: Arc<TableTransform>,
    pub select_sql: String,
    pub copy_sql: String,
    pub types: Vec<Type>,
    /// Rejects already committed by earlier runs of this table.
    pub rejects_before: u64,
    pub rejects: AtomicU64,
    pub error: Mutex<Option<String>>,
    /// Rejects (as reject-file lines) of the transaction that broke the
    /// reject limit — the failing chunk's, and in a whole-table transaction
    /// its earlier chunks' too — rolled back, so the reject file shows them.
    pub failing_rejects: Mutex<Vec<serde_json::Value>>,
    /// `failing_rejects` are every reject of the table's failed
    /// whole-table transaction: the committed ones of an earlier load are
    /// superseded, not shown beside them.
    pub failing_is_all: AtomicBool,
    pub chunks_left: AtomicU64,
    /// Tables that must be fully loaded first: the parents of an existing
    /// (application-created) table's foreign keys. Tables this tool creates
    /// get their foreign keys in `finalize`, so they have none.
    pub deps: std::sync::OnceLock<Vec<Arc<CopyTable>>>,
    /// An existing table whose foreign key references itself: its chunks
    /// load one at a time in rowid order, so a parent row earlier in the
    /// table is committed before its children.
    pub serial: bool,
    /// Jobs of this table being loaded right now.
    pub in_flight: AtomicU64,
    /// A table this tool created: once loaded, it is announced on
    /// `CopySettings::loaded` so its keys can be built while others copy.
    pub keys_early: bool,
}

impl CopyTable {
    pub fn failed(&self) -> bool {
        self.error.lock().unwrap().is_some()
    }

    /// Whether this table's chunks may start: every parent loaded. A failed
    /// parent fails this table too (its jobs are then skipped).
    fn ready(&self) -> bool {
        if self.serial && self.in_flight.load(Ordering::SeqCst) > 0 {
            return false;
        }
        for d in self.deps.get().map(Vec::as_slice).unwrap_or_default() {
            if d.failed() {
                self.fail(format!(
                    "not loaded because parent table {} failed (its foreign key needs the parent rows first)",
                    d.plan.source
                ));
                return true;
            }
            if d.chunks_left.load(Ordering::SeqCst) > 0 {
                return false;
            }
        }
        true
    }
    fn fail(&self, msg: String) {
        let mut e = self.error.lock().unwrap();
        if e.is_none() {
            *e = Some(msg);
        }
    }
}

/// Work for one transaction: one chunk, or with `replace` every chunk of the
/// table after a TRUNCATE — a table loaded whole (`commit_every = "table"`,
/// whose COPY can then FREEZE the rows), or an already loaded table swapped
/// for a fresh copy atomically.
pub struct Job {
    pub table: Arc<CopyTable>,
    pub chunks: Vec<ChunkRow>,
    pub replace: bool,
}

pub struct CopySettings {
    pub run_id: i64,
    pub source_path: PathBuf,
    pub batch_size: usize,
    pub reject_limit: u64,
    pub workers: usize,
    /// Where each fully loaded table with `keys_early` is announced.
    pub loaded: Option<mpsc::UnboundedSender<Arc<CopyTable>>>,
}

/// Run all jobs with `settings.workers` workers. Per-table failures are
/// recorded on the table (`CopyTable::error`); the function itself fails
/// only if no worker could connect.
pub async fn run_jobs(
    target: &Target,
    jobs: Vec<Job>,
    settings: Arc<CopySettings>,
    progress: Arc<Progress>,
    cancel: watch::Receiver<bool>,
) -> Result<()> {
    let n_workers = settings.workers.min(jobs.len()).max(1);
    let queue = Arc::new(Mutex::new(VecDeque::from(jobs)));
    let mut handles = Vec::new();
    for _ in 0..n_workers {
        let queue = queue.clone();
        let settings = settings.clone();
        let progress = progress.clone();
        let mut cancel = cancel.clone();
        let target = target.clone();
        handles.push(tokio::spawn(async move {
            let mut client = target.connect_loader().await?;
            loop {
                if *cancel.borrow() {
                    return Ok(());
                }
                let job = {
                    let mut q = queue.lock().unwrap();
                    if q.is_empty() {
                        return Ok(());
                    }
                    let job = q
                        .iter()
                        .position(|j| j.table.ready())
                        .and_then(|i| q.remove(i));
                    if let Some(j) = &job {
                        j.table.in_flight.fetch_add(1, Ordering::SeqCst);
                        progress.start_table(j.table.idx);
                    }
                    job
                };
                let Some(job) = job else {
                    // Every queued table waits for a parent still loading.
                    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                    continue;
                };
                if job.table.failed() {
                    continue;
                }
                let table = job.table.clone();
                let res = tokio::select! {
                    r = run_job(&mut client, &job, &settings, &progress) => r,
                    _ = cancel.changed() => Err(anyhow!("interrupted")),
                };
                table.in_flight.fetch_sub(1, Ordering::SeqCst);
                match res {
                    Ok(()) => {
                        let n = job.chunks.len() as u64;
                        if table.chunks_left.fetch_sub(n, Ordering::SeqCst) == n {
                            progress.finish_table(table.idx);
                            if let Some(loaded) =
                                settings.loaded.as_ref().filter(|_| table.keys_early)
                            {
                                // Nobody listening any more is not an error.
                                let _ = loaded.send(table.clone());
                            }
                        }
                    }
                    Err(e) => {
                        table.fail(format!("{e:#}"));
                        if client.is_closed() {
                            // The server went away: put nothing else at risk,
                            // mark every other table of this worker's queue too.
                            for j in queue.lock().unwrap().iter() {
                                j.table.fail(format!("target connection lost: {e:#}"));
                            }
                            return Ok(());
                        }
                    }
                }
            }
        }));
    }
    let mut first_err = None;
    for h in handles {
        match h.await {
            Ok(Ok(())) => {}
            Ok(Err(e)) => {
                first_err.get_or_insert(e);
            }
            Err(e) => {
                first_err.get_or_insert(anyhow!("load worker panicked: {e}"));
            }
        }
    }
    // Jobs never started because every worker failed to connect.
    let left: Vec<Job> = queue.lock().unwrap().drain(..).collect();
    if let Some(e) = first_err {
        for j in &left {
            j.table.fail(format!("{e:#}"));
        }
        if !left.is_empty() || n_workers == 1 {
            return Err(e);
        }
    }
    Ok(())
}

/// One job, one transaction: its rows and the chunks' done marks commit
/// together or not at all.
async fn run_job(
    client: &mut Client,
    job: &Job,
    s: &CopySettings,
    progress: &Progress,
) -> Result<()> {
    let table = &job.table;
    let tx = client
        .transaction()
        .await
        .with_context(|| format!("table {}", table.plan.source))?;
    if job.replace {
        tx.batch_execute(&format!("TRUNCATE {}", table.plan.qualified()))
            .await
            .with_context(|| {
                format!(
                    "emptying {} before loading it whole (a table other tables reference cannot be truncated alone)",
                    table.plan.qualified()
                )
            })?;
        state::reset_chunks(&tx, s.run_id, &table.plan.source).await?;
    }
    for chunk in &job.chunks {
        if let Err(e) = load_chunk(&tx, table, chunk, s, progress).await {
            let broke_limit = !table.failing_rejects.lock().unwrap().is_empty();
            if job.replace && broke_limit {
                // The rejects of this transaction's earlier chunks roll back
                // with it; read them back (the transaction sees only its
                // own: the others were deleted above) so the reject file
                // shows every one. A read error leaves the file shorter; the
                // limit's error is the one to report.
                let mut earlier = Vec::new();
                let _ = state::stream_rejects(&tx, s.run_id, &table.plan.source, |v| {
                    earlier.push(v);
                    Ok(())
                })
                .await;
                table.failing_rejects.lock().unwrap().splice(0..0, earlier);
                table.failing_is_all.store(true, Ordering::SeqCst);
            }
            return Err(e);
        }
    }
    tx.commit()
        .await
        .with_context(|| format!("table {}: commit", table.plan.source))?;
    Ok(())
}

/// Load one chunk inside the caller's transaction.
async fn load_chunk(
    tx: &tokio_postgres::Transaction<'_>,
    table: &CopyTable,
    chunk: &ChunkRow,
    s: &CopySettings,
    progress: &Progress,
) -> Result<()> {
    let t0 = Instant::now();
    let ctx = || format!("table {}, chunk {}", table.plan.source, chunk.chunk_no);
    let (val_tx, mut val_rx) = mpsc::channel::<EncodedBatch>(CHANNEL_BATCHES);

    let extractor = {
        let path = s.source_path.clone();
        let sql = table.select_sql.clone();
        let (lo, hi) = (chunk.lo, chunk.hi);
        let tf = table.transform.clone();
        let types = table.types.clone();
        let batch = s.batch_size;
        tokio::task::spawn_blocking(move || -> Result<u64> {
            let conn = source::open_readonly(&path)?;
            extract_encoded(&conn, &sql, lo..=hi, &tf, &types, batch, &val_tx)
        })
    };

    let sink = tx
        .copy_in::<_, Bytes>(&table.copy_sql)
        .await
        .with_context(ctx)?;
    pin_mut!(sink);
    let mut rejects: Vec<Reject> = Vec::new();
    let mut keys: Vec<i64> = Vec::new();
    let (mut read, mut loaded) = (0u64, 0u64);
    let mut failed = sink.send(Bytes::from_static(copy_in::HEADER)).await.err();
    while failed.is_none() {
        let Some(batch) = val_rx.recv().await else {
            break;
        };
        failed = sink.send(batch.data).await.err();
        read += batch.rows_read as u64;
        loaded += batch.keys.len() as u64;
        keys.extend_from_slice(&batch.keys);
        rejects.extend(batch.rejects);
        progress.inc(table.idx, batch.rows_read as u64);
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
        return Err(explain_copy_error(e, &keys, table)).with_context(ctx);
    }
    let extracted = extractor
        .await
        .map_err(|e| anyhow!("source reader panicked: {e}"))?
        .with_context(|| format!("reading source table {}", table.plan.source))
        .with_context(ctx)?;
    let copied = match sink.finish().await {
        Ok(n) => n,
        Err(e) => return Err(explain_copy_error(e, &keys, table)).with_context(ctx),
    };
    if extracted != read || copied != loaded {
        bail!(
            "{}: row count mismatch (read {extracted}, transformed {read}, sent {loaded}, COPY reported {copied})",
            ctx()
        );
    }
    let n_rej = rejects.len() as u64;
    if n_rej > 0 {
        let total = table.rejects_before + table.rejects.fetch_add(n_rej, Ordering::SeqCst) + n_rej;
        if total > s.reject_limit {
            let first = &rejects[0];
            let msg = format!(
                "{} rejected row(s) in table {} exceed reject_limit {} (first: {}, column {}: {})",
                total, table.plan.source, s.reject_limit, first.row_key, first.column, first.reason
            );
            let source = &table.plan.source;
            table
                .failing_rejects
                .lock()
                .unwrap()
                .extend(rejects.iter().map(|r| r.to_json(source)));
            bail!(msg);
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
        },
    )
    .await
    .with_context(ctx)?;
    Ok(())
}

/// A server-side COPY error, with the offending row named by its source key
/// when PostgreSQL tells which line (row) of the COPY failed.
fn explain_copy_error(e: tokio_postgres::Error, sent: &[i64], table: &CopyTable) -> anyhow::Error {
    let Some(db) = e.as_db_error() else {
        return anyhow::Error::new(e).context(
            "target connection failed during COPY (a rerun resumes from what was committed)",
        );
    };
    let mut msg = format!("PostgreSQL rejected the data: {}", db.message());
    if let Some(d) = db.detail() {
        msg.push_str(&format!(" ({d})"));
    }
    if let Some(line) = db
        .where_()
        .and_then(|w| w.split("line ").nth(1))
        .and_then(|rest| rest.split(|c: char| !c.is_ascii_digit()).next())
        .and_then(|n| n.parse::<usize>().ok())
    {
        let key = sent.get(line.saturating_sub(1));
        if let Some(k) = key {
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
    anyhow!(msg)
}
