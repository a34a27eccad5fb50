//! The copy stage: extract → transform → load, per table, in jobs.
//!
//! A job is one transaction: one chunk (`commit_every = "chunk"`, chunks of
//! one table on several workers at once), or every chunk of a table after a
//! `TRUNCATE` (`commit_every = "table"` for a table this tool created, whose
//! COPY then adds FREEZE; and reloads). Load workers, one PostgreSQL
//! connection each, take jobs from one queue ([`crate::pool`]); a child of
//! an application's foreign key waits for its parents ([`order`]). Each job
//! is [`load::run_job`]. When a table this tool created is fully loaded its
//! keys start building at once ([`keys`]). The stage records each table's
//! result and returns a [`CopyOutcome`]; the run command decides what next.

mod keys;
mod load;
mod order;
pub mod rejects;

pub use keys::KeyBuilder;

use super::{ddl, finalize::Builds, Scope};
use crate::config::mapping::{CommitEvery, Pipeline};
use crate::config::plan::TablePlan;
use crate::convert::reject::RejectRecord;
use crate::convert::Converter;
use crate::error::{self, ExitClass};
use crate::pg::catalog;
use crate::pg::types::PgType;
use crate::pg::value::Value;
use crate::pool::{self, Then};
use crate::sqlite::read::guard::SourceGuard;
use crate::sqlite::{read::reader, read::transform::TableTransform};
use crate::state::{self, ChunkRow, Stage, Status};
use crate::ui::progress::Progress;
use anyhow::{anyhow, Context as _, Result};
use load::JobError;
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio_postgres::types::Type;
use tokio_postgres::Client;

/// Per-table result for the summary.
#[derive(Debug, Clone, serde::Serialize)]
pub struct TableSummary {
    pub source_table: String,
    pub target_table: String,
    pub rows_read: i64,
    pub rows_loaded: i64,
    pub rows_rejected: i64,
    /// Loading time as its chunks recorded it.
    pub seconds: f64,
    pub error: Option<String>,
    pub reject_file: Option<PathBuf>,
    /// What a later stage recorded for the operator (a foreign key not
    /// added, say).
    pub notes: Vec<String>,
}

impl TableSummary {
    fn new(
        t: &TablePlan,
        totals: state::ChunkTotals,
        error: Option<String>,
        reject_file: Option<PathBuf>,
    ) -> TableSummary {
        TableSummary {
            source_table: t.source.clone(),
            target_table: t.target.clone(),
            rows_read: totals.rows_read,
            rows_loaded: totals.rows_loaded,
            rows_rejected: totals.rows_rejected,
            seconds: totals.seconds,
            error,
            reject_file,
            notes: Vec::new(),
        }
    }
}

/// What the copy stage did.
pub struct CopyOutcome {
    /// Every selected table, loaded now, earlier or not at all.
    pub tables: Vec<TableSummary>,
    /// Why some table is not fully loaded (each table's error, and where its
    /// rejects are); `None` when every selected table is.
    pub failure: Option<anyhow::Error>,
    /// The builder of loaded tables' keys, when finalize follows and the
    /// copy succeeded: wait for it ([`KeyBuilder::finish`]) before finalize.
    pub keys: Option<KeyBuilder>,
}

/// One table as its jobs see it: fixed before the first job starts.
pub struct CopyTable {
    pub plan: TablePlan,
    /// Index in the progress display and in the stage's tallies.
    pub idx: usize,
    pub transform: Arc<TableTransform>,
    pub select_sql: String,
    pub copy_sql: String,
    pub types: Vec<Type>,
    /// Rejects already committed by earlier runs of this table.
    pub rejects_before: u64,
    /// Rejects tolerated before the table fails (the table's own
    /// `reject_limit`, else the default's).
    pub reject_limit: u64,
    /// Tables (by index) that must be fully loaded first: the parents of
    /// an existing (application-created) table's foreign keys.
    deps: Vec<usize>,
    /// An existing table whose foreign key references itself: its chunks
    /// load one at a time in rowid order, so a parent row earlier in the
    /// table is committed before its children.
    serial: bool,
    /// A table this tool created: once loaded, its keys may be built.
    keys_early: bool,
    /// Loaded in one transaction after a TRUNCATE: fresh with
    /// `commit_every = "table"`, or reloaded.
    whole: bool,
    /// Already loaded: replaced as a whole (`--stage copy`).
    reload: bool,
}

/// What the workers find out about one table while the stage runs.
#[derive(Default)]
pub struct Tally {
    chunks_left: AtomicU64,
    in_flight: AtomicU64,
    /// Rejects of this stage so far (the limit counts them across chunks).
    rejects: AtomicU64,
    /// Rows read for this table by this stage, committed or rolled back
    /// (what its progress bar showed).
    read: AtomicU64,
    failure: Mutex<Option<JobError>>,
}

impl Tally {
    fn failed(&self) -> bool {
        self.failure.lock().unwrap().is_some()
    }
    /// The first failure is the one reported.
    fn fail(&self, e: JobError) {
        let mut f = self.failure.lock().unwrap();
        if f.is_none() {
            *f = Some(e);
        }
    }
}

/// Work for one transaction: one chunk, or with `replace` every chunk of the
/// table after a TRUNCATE.
pub struct Job {
    table: usize,
    chunks: Vec<ChunkRow>,
    replace: bool,
}

/// What every job needs to know about the run.
pub struct Settings<'a> {
    pub run_id: i64,
    pub guard: &'a SourceGuard,
    pub source_path: PathBuf,
    pub batch_size: usize,
}

pub async fn copy(
    scope: Scope<'_>,
    client: &mut Client,
    columns_by_table: &HashMap<String, Vec<String>>,
) -> Result<CopyOutcome> {
    let (run_id, p) = (scope.run_id, &scope.ctx.pipeline);
    state::set_stage(client, run_id, Stage::Copy, "", Status::Running, None).await?;
    let (tables, pending) = plan_tables(scope, client, columns_by_table).await?;
    let tallies: Vec<Tally> = pending
        .iter()
        .map(|c| Tally {
            chunks_left: AtomicU64::new(c.len() as u64),
            ..Tally::default()
        })
        .collect();
    let rows: Vec<u64> = pending
        .iter()
        .map(|c| c.iter().map(|c| c.planned_rows as u64).sum())
        .collect();
    let jobs = jobs(&tables, pending, &rows);
    let bars: Vec<(String, u64)> = tables
        .iter()
        .zip(&rows)
        .map(|(t, n)| (t.plan.source.clone(), *n))
        .collect();
    let progress = Progress::new(&bars, scope.progress);
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let logger = tokio::spawn(
        progress
            .clone()
            .log_periodically(Duration::from_secs(10), stop_rx),
    );
    // When finalize follows (and the mapping does not say otherwise), a
    // table's keys are built as soon as it is loaded.
    let (builder, announce) = if p.defaults.keys_during_copy && scope.wants(Stage::Finalize) {
        let b = Builds::new(&scope.ctx.target, &p.defaults).early();
        let (k, a) = KeyBuilder::start(b, scope.shutdown.clone());
        (Some(k), Some(a))
    } else {
        (None, None)
    };
    let settings = Settings {
        run_id,
        guard: scope.guard,
        source_path: p.source_path(),
        batch_size: p.defaults.batch_size,
    };
    // Chunks of one table load side by side with `commit_every = "chunk"`:
    // as many workers as jobs, up to the mapping's number.
    let workers = p.defaults.workers.min(jobs.len()).max(1);
    let queue = pool::Queue::of(jobs);
    let ready = |j: &Job| {
        let t = &tables[j.table];
        // Once a stop is requested every job is "ready": it is skipped at
        // once, and its table stays pending for the rerun.
        if scope.shutdown.is_requested() {
            return true;
        }
        let busy = t.serial && tallies[j.table].in_flight.load(Ordering::SeqCst) > 0;
        // A failed parent makes the job ready too: it then fails at once.
        !busy
            && t.deps
                .iter()
                .all(|&d| tallies[d].failed() || tallies[d].chunks_left.load(Ordering::SeqCst) == 0)
    };
    let work = async |client: &mut Client, job: Job| {
        let (t, tally) = (&tables[job.table], &tallies[job.table]);
        if scope.shutdown.is_requested() || tally.failed() {
            return Then::Continue;
        }
        if let Some(&d) = t.deps.iter().find(|&&d| tallies[d].failed()) {
            tally.fail(
                anyhow!(
                    "not loaded because parent table {} failed (its foreign key needs the parent rows first)",
                    tables[d].plan.source
                )
                .into(),
            );
            return Then::Continue;
        }
        tally.in_flight.fetch_add(1, Ordering::SeqCst);
        progress.start_table(t.idx);
        let mut stop = scope.shutdown.clone();
        let res = tokio::select! {
            r = load::run_job(client, &job, t, tally, &settings, &progress) => r,
            _ = stop.wait() => Err(scope.shutdown.error("its transaction in flight rolled back").into()),
        };
        tally.in_flight.fetch_sub(1, Ordering::SeqCst);
        match res {
            Ok(()) => {
                let n = job.chunks.len() as u64;
                if tally.chunks_left.fetch_sub(n, Ordering::SeqCst) == n {
                    progress.finish_table(t.idx);
                    if let Some(a) = announce.as_ref().filter(|_| t.keys_early) {
                        // Nobody listening any more is not an error.
                        let _ = a.send(t.plan.clone());
                    }
                }
                Then::Continue
            }
            Err(e) => {
                let lost = client.is_closed();
                let msg = format!("{:#}", e.error);
                tally.fail(e);
                if !lost {
                    return Then::Continue;
                }
                // The server went away: put nothing else at risk; every
                // table still queued fails too, and a rerun resumes.
                for j in queue.drain() {
                    tallies[j.table].fail(anyhow!("target connection lost: {msg}").into());
                }
                Then::Stop
            }
        }
    };
    let open = async || scope.ctx.target.connect_loader().await;
    // A worker waiting for a parent to load is woken by the stop too.
    let wake_on_stop = async {
        let mut stop = scope.shutdown.clone();
        stop.wait().await;
        queue.wake();
        std::future::pending::<()>().await
    };
    let not_connected = tokio::select! {
        r = pool::run_workers(workers, &queue, open, ready, work) => r,
        () = wake_on_stop => unreachable!("waits forever after waking"),
    };
    drop(announce);
    // Jobs never started because every worker failed to connect.
    let left = queue.drain();
    let mut stage_error = None;
    if let Some(e) = not_connected.into_iter().next() {
        for j in &left {
            tallies[j.table].fail(anyhow!("{e:#}").into());
        }
        if !left.is_empty() || workers == 1 {
            stage_error = Some(e);
        }
    }
    let _ = stop_tx.send(true);
    let _ = logger.await;
    progress.finish();
    // Make every asynchronously committed chunk durable before reporting.
    client.batch_execute("SET synchronous_commit = on").await?;
    let outcome = record(scope, client, &tables, tallies, stage_error).await?;
    // A failed or stopped copy starts no further key build (the run stops;
    // a rerun builds what is missing). Dropping the builder aborts it.
    let keys = builder.filter(|_| outcome.failure.is_none() && !scope.shutdown.is_requested());
    Ok(CopyOutcome { keys, ..outcome })
}

/// The tables this copy loads, with their pending chunks: tables already
/// copied are reloaded only when asked (`--stage copy`), and then replaced
/// atomically.
async fn plan_tables(
    scope: Scope<'_>,
    client: &mut Client,
    columns_by_table: &HashMap<String, Vec<String>>,
) -> Result<(Vec<CopyTable>, Vec<Vec<ChunkRow>>)> {
    let run_id = scope.run_id;
    let mut tables = Vec::new();
    let mut pending_by_table = Vec::new();
    // (index in `tables`, FK parents) of existing tables.
    let mut parents: Vec<(usize, Vec<(String, String)>)> = Vec::new();
    for t in scope.selected {
        let done = state::stage_done(client, run_id, Stage::Copy, &t.source).await?;
        if !state::stage_done(client, run_id, Stage::Prepare, &t.source).await? {
            return Err(error::usage(format!(
                "table {} has not been prepared; run without --stage, or with --stage prepare first",
                t.source
            )));
        }
        let pending_now = state::chunks(client, run_id, &t.source, false).await?;
        // `--stage copy` on a table whose chunks are all committed reloads
        // it — also after a failed reload, which rolled back and left every
        // chunk done.
        let reload = scope.named(Stage::Copy) && pending_now.is_empty();
        if done && !reload {
            continue;
        }
        if reload && !scope.truncate {
            if let Some(how) =
                super::content::changed_since_load(client, run_id, &t.source, t).await?
            {
                return Err(error::blocked(format!(
                    "target table {} changed since this run loaded it: {how}. \
                     Refusing to reload it; pass --truncate to replace it anyway",
                    t.qualified()
                )));
            }
        }
        let all_chunks = state::chunks(client, run_id, &t.source, true).await?;
        let preexisting = state::table_row(client, run_id, &t.source)
            .await?
            .is_some_and(|r| r.preexisting);
        // A table this tool created with none of it committed yet loads in
        // one transaction when so configured: TRUNCATE, then COPY FREEZE.
        // Not if that TRUNCATE could destroy rows someone else wrote since
        // prepare, or would be refused (another table's foreign key points
        // at it, say after `--table child` ran finalize): then per chunk.
        let mut fresh_whole = !preexisting
            && t.commit_every == CommitEvery::Table
            && pending_now.len() == all_chunks.len();
        if fresh_whole
            && (catalog::has_rows(&*client, &t.qualified()).await?
                || catalog::is_referenced(&*client, &t.qualified()).await?)
        {
            tracing::warn!(
                "table {}: holds rows or is referenced by a foreign key already; loading it per chunk, without FREEZE",
                t.qualified()
            );
            fresh_whole = false;
        }
        let whole = reload || fresh_whole;
        let pending = if whole { all_chunks } else { pending_now };
        let rejects_before = if whole {
            0
        } else {
            state::chunk_totals(client, run_id, &t.source)
                .await?
                .rows_rejected as u64
        };
        let mut plan = super::fitted_to_target(&*client, t).await?;
        let mut serial = false;
        if preexisting {
            plan.constants = constants_for(client, &plan, &scope.ctx.pipeline).await?;
            parents.push((
                tables.len(),
                catalog::fk_parents(client, &plan.qualified()).await?,
            ));
            serial = catalog::self_referencing(client, &plan.qualified()).await?;
        }
        let rowid = crate::sqlite::read::source::rowid_name(&plan, &columns_by_table[&t.source]);
        tables.push(CopyTable {
            idx: tables.len(),
            transform: Arc::new(TableTransform::new(&plan)),
            select_sql: reader::select_sql(&plan, rowid),
            // Rows may be frozen in the transaction that truncates the table;
            // an application's table keeps ordinary visibility.
            copy_sql: ddl::copy_in(&plan, whole && !preexisting),
            types: plan
                .columns
                .iter()
                .map(|c| &c.ty)
                .chain(plan.constants.iter().map(|(_, ty, _)| ty))
                .map(PgType::wire_type)
                .collect(),
            rejects_before,
            reject_limit: scope.ctx.pipeline.reject_limit(&t.source),
            deps: Vec::new(),
            serial,
            keys_early: !preexisting,
            whole,
            reload,
            plan,
        });
        pending_by_table.push(pending);
    }
    // An application's foreign keys are enforced during the load: parents
    // are loaded before their children.
    let mut parent_idx = vec![Vec::new(); tables.len()];
    for (i, ps) in &parents {
        parent_idx[*i] = ps
            .iter()
            .filter_map(|(s, n)| {
                tables
                    .iter()
                    .position(|t| &t.plan.schema == s && &t.plan.target == n)
            })
            .collect();
    }
    let (deps, cyclic) = order::dependencies(&parent_idx);
    for i in cyclic {
        tracing::warn!(
            "table {}: its foreign keys form a cycle with other tables; loading them in parallel \
             (make the constraints DEFERRABLE or load with --table in a working order if rows are refused)",
            tables[i].plan.source
        );
    }
    for (t, d) in tables.iter_mut().zip(deps) {
        t.deps = d;
    }
    Ok((tables, pending_by_table))
}

/// The jobs, largest table first: a table loaded whole (fresh with
/// `commit_every = "table"`, or reloaded) is one job, otherwise one job per
/// chunk.
fn jobs(tables: &[CopyTable], mut pending: Vec<Vec<ChunkRow>>, rows: &[u64]) -> Vec<Job> {
    let mut jobs = Vec::new();
    for i in order::largest_first(rows) {
        if tables[i].whole {
            jobs.push(Job {
                table: i,
                chunks: std::mem::take(&mut pending[i]),
                replace: true,
            });
        } else {
            jobs.extend(pending[i].drain(..).map(|c| Job {
                table: i,
                chunks: vec![c],
                replace: false,
            }));
        }
    }
    jobs
}

/// A table the stage did not finish: why, the rejects of its failed
/// transaction, and the rows it was read.
struct Unfinished {
    message: String,
    rejects: Vec<RejectRecord>,
    all_of_table: bool,
    read: u64,
}

/// Record each table's result in the state schema, write reject files, and
/// build the outcome.
async fn record(
    scope: Scope<'_>,
    client: &mut Client,
    tables: &[CopyTable],
    tallies: Vec<Tally>,
    stage_error: Option<anyhow::Error>,
) -> Result<CopyOutcome> {
    let run_id = scope.run_id;
    let p: &Pipeline = &scope.ctx.pipeline;
    let mut failures: Vec<anyhow::Error> = Vec::new();
    let mut errors: HashMap<&str, Unfinished> = HashMap::new();
    for (t, tally) in tables.iter().zip(tallies) {
        let source = t.plan.source.as_str();
        let left = tally.chunks_left.load(Ordering::SeqCst);
        let failure = tally.failure.into_inner().unwrap();
        // Done means every chunk committed — not merely "no error": after a
        // stop (or a worker that could not connect) some tables' chunks
        // never ran, and must stay pending for the rerun.
        let (status, error) = match (failure, left) {
            (Some(f), _) => {
                let msg = format!("{:#}", f.error);
                let status = match error::classify(&f.error) {
                    ExitClass::Interrupted | ExitClass::Terminated => Status::Interrupted,
                    _ => {
                        failures.push(f.error);
                        Status::Failed
                    }
                };
                let read = tally.read.load(Ordering::SeqCst);
                errors.insert(
                    source,
                    Unfinished {
                        message: msg.clone(),
                        rejects: f.rejects,
                        all_of_table: f.all_of_table,
                        read,
                    },
                );
                (status, Some(msg))
            }
            (None, 0) => (Status::Done, None),
            (None, n) => {
                let msg = format!("table {source}: {n} chunk(s) not loaded (stopped)");
                let read = tally.read.load(Ordering::SeqCst);
                errors.insert(
                    source,
                    Unfinished {
                        message: msg.clone(),
                        rejects: Vec::new(),
                        all_of_table: false,
                        read,
                    },
                );
                (Status::Interrupted, Some(msg))
            }
        };
        state::set_stage(
            client,
            run_id,
            Stage::Copy,
            source,
            status,
            error.as_deref(),
        )
        .await?;
        if status == Status::Done && t.reload {
            // Reloaded: its sequences, statistics and counts are due again.
            state::reset_stage(client, run_id, Stage::Finalize, Some(source)).await?;
            state::reset_stage(client, run_id, Stage::Verify, Some(source)).await?;
        }
    }
    let mut summaries = Vec::new();
    for t in scope.selected {
        let mut totals = state::chunk_totals(client, run_id, &t.source).await?;
        let (error, failing, all_of_table) = match errors.remove(t.source.as_str()) {
            Some(u) => {
                // A table that did not finish shows the rows it was read,
                // rolled back or not, not only what committed (0 for a
                // whole-table transaction).
                totals.rows_read = totals.rows_read.max(u.read as i64);
                (Some(u.message), u.rejects, u.all_of_table)
            }
            None => (None, Vec::new(), false),
        };
        let mut reject_file = None;
        if totals.rows_rejected > 0 || !failing.is_empty() {
            let path = rejects::reject_path(&p.base_dir, &t.source);
            rejects::write_rejects(client, run_id, &t.source, &failing, !all_of_table, &path)
                .await?;
            if !failing.is_empty() {
                // The table failed on its rejects: say where they are.
                failures.push(error::blocked(format!(
                    "table {}: the rejected rows are in {}",
                    t.source,
                    path.display()
                )));
            }
            reject_file = Some(path);
        }
        summaries.push(TableSummary::new(t, totals, error, reject_file));
    }
    failures.extend(stage_error);
    let interrupted = scope.shutdown.is_requested();
    let failure = if failures.is_empty() && !interrupted {
        state::set_stage(client, run_id, Stage::Copy, "", Status::Done, None).await?;
        None
    } else {
        // Stopped by a signal: that is what the run reports, with any real
        // failure of a table beside it.
        if interrupted {
            failures.insert(0, scope.shutdown.error("committed chunks are kept"));
        }
        let e = if failures.len() == 1 {
            failures.remove(0)
        } else {
            error::combine("copy failed:", failures)
        };
        let status = if interrupted {
            Status::Interrupted
        } else {
            Status::Failed
        };
        state::set_stage(
            client,
            run_id,
            Stage::Copy,
            "",
            status,
            Some(&format!("{e:#}")),
        )
        .await?;
        Some(e)
    };
    Ok(CopyOutcome {
        tables: summaries,
        failure,
        keys: None,
    })
}

/// The summary of a table this invocation did not copy (from the state).
pub async fn summary_from_state(
    client: &Client,
    run_id: i64,
    t: &TablePlan,
    base_dir: &std::path::Path,
) -> Result<TableSummary> {
    let totals = state::chunk_totals(client, run_id, &t.source).await?;
    let reject_file = (totals.rows_rejected > 0).then(|| rejects::reject_path(base_dir, &t.source));
    Ok(TableSummary::new(t, totals, None, reject_file))
}

/// For a table the application created: each `add_columns` entry with a
/// default becomes a constant, evaluated once by PostgreSQL and converted to
/// the column's actual type.
async fn constants_for(
    client: &Client,
    t: &TablePlan,
    p: &Pipeline,
) -> Result<Vec<(String, PgType, Value)>> {
    let mut out = Vec::new();
    for a in t.added.iter().filter(|a| !a.generated) {
        let Some(expr) = &a.default else { continue };
        let ty = catalog::copy_types(client, &t.schema, &t.target, std::slice::from_ref(&a.name))
            .await?
            .remove(0);
        // Evaluated twice: a volatile default (clock_timestamp(),
        // gen_random_uuid(), nextval()) would give every row the same value,
        // so it is refused. now() is stable within a statement: allowed.
        let r = client
            .query_one(
                &format!("SELECT ({expr})::{ty}::text, ({expr})::{ty}::text"),
                &[],
            )
            .await
            .with_context(|| {
                format!("evaluating add_columns.{}.default `{expr}` as {ty}", a.name)
            })?;
        let text: Option<String> = r.get(0);
        let again: Option<String> = r.get(1);
        if text != again {
            return Err(error::usage(format!(
                "add_columns.{}.default `{expr}` gives a different value each time; loading into an existing \
                 table it would be evaluated once for all rows. Give the column that default in the table itself \
                 and remove it from add_columns",
                a.name
            )));
        }
        let cell = text
            .map(|s| crate::convert::cell::Cell::Text(s.into_bytes()))
            .unwrap_or(crate::convert::cell::Cell::Null);
        let opts =
            crate::config::plan::convert_options(&p.defaults, None).map_err(anyhow::Error::msg)?;
        let v = Converter::new(ty.clone(), opts)
            .convert(&cell)
            .map_err(|e| {
                error::usage(format!(
                    "add_columns.{}.default `{expr}`: {}",
                    a.name, e.reason
                ))
            })?;
        out.push((a.name.clone(), ty, v));
    }
    Ok(out)
}
