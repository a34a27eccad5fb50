//! The copy stage: extract → transform → load, per table, in jobs.
//!
//! A job is one transaction: one chunk (`commit_every = "chunk"`, chunks of
//! one table on several workers at once), or every chunk of a table after a
//! `TRUNCATE` (`commit_every = "table"` for a table this tool created, whose
//! COPY then adds FREEZE; and reloads), decided per table by [`mode`]. Load
//! workers, one PostgreSQL connection each, take jobs from one queue
//! ([`workers`], over [`crate::pool`]); a child of an application's foreign
//! key waits for its parents ([`order`]). Each job is [`load::run_job`].
//! When a table this tool created is fully loaded its keys start building
//! at once ([`keys`]). The stage records each table's result and returns a
//! [`CopyOutcome`]; the run command decides what next.

mod keys;
mod load;
mod mode;
mod order;
pub mod rejects;
mod workers;

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
use crate::sqlite::read::guard::SourceGuard;
use crate::sqlite::{read::reader, read::transform::TableTransform};
use crate::state::{self, ChunkRow, Stage, Status};
use crate::ui::progress::Progress;
use anyhow::{Context as _, Result};
use load::JobError;
use mode::Facts;
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio_postgres::types::Type;
use tokio_postgres::Client;
use workers::Workers;

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
    /// What decides its rows, from the mapping as written (before it was
    /// fitted to the target): recorded when the table is emptied to load.
    pub rows_rule: serde_json::Value,
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
    scope: &Scope<'_>,
    client: &mut Client,
    columns_by_table: &HashMap<String, Vec<String>>,
) -> Result<CopyOutcome> {
    let (run_id, pipeline) = (scope.run_id, &scope.ctx.pipeline);
    state::set_stage(client, run_id, Stage::Copy, "", Status::Running, None).await?;
    let (tables, chunks) = plan_tables(scope, client, columns_by_table).await?;
    let tallies: Vec<Tally> = chunks
        .iter()
        .map(|c| Tally {
            chunks_left: AtomicU64::new(c.len() as u64),
            ..Tally::default()
        })
        .collect();
    let rows: Vec<u64> = chunks
        .iter()
        .map(|c| c.iter().map(|c| c.planned_rows as u64).sum())
        .collect();
    let jobs = jobs(&tables, chunks, &rows);
    let bars: Vec<(String, u64)> = tables
        .iter()
        .zip(&rows)
        .map(|(t, n)| (t.plan.source.clone(), *n))
        .collect();
    let progress = Progress::new(&bars, scope.progress);
    let (stop_logging, stop_rx) = tokio::sync::watch::channel(false);
    let logger = tokio::spawn(
        progress
            .clone()
            .log_periodically(Duration::from_secs(10), stop_rx),
    );
    let (builder, announce) = start_key_builder(scope).unzip();
    let settings = Settings {
        run_id,
        guard: scope.guard,
        source_path: pipeline.source_path(),
        batch_size: pipeline.defaults.batch_size,
    };
    // Chunks of one table load side by side with `commit_every = "chunk"`:
    // as many workers as jobs, up to the mapping's number.
    let count = pipeline.defaults.workers.min(jobs.len()).max(1);
    let workers = Workers {
        tables: &tables,
        tallies: &tallies,
        settings: &settings,
        progress: &progress,
        shutdown: scope.shutdown,
        target: &scope.ctx.target,
        announce,
    };
    let stage_error = workers.run(jobs, count).await;
    let _ = stop_logging.send(true);
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

/// When finalize follows (and the mapping does not say otherwise), a
/// table's keys are built as soon as it is loaded: the builder, and where
/// loaded tables are announced to it.
fn start_key_builder(scope: &Scope<'_>) -> Option<(KeyBuilder, keys::Announcer)> {
    let p = &scope.ctx.pipeline;
    if !(p.defaults.keys_during_copy && scope.wants(Stage::Finalize)) {
        return None;
    }
    let b = Builds::new(&scope.ctx.target, &p.defaults).early();
    Some(KeyBuilder::start(b, scope.shutdown.clone()))
}

/// The tables this copy loads, with their chunks to load: tables already
/// copied are reloaded only when asked (`--stage copy`), and then replaced
/// atomically. An application's foreign keys are enforced during the load:
/// parents are loaded before their children.
async fn plan_tables(
    scope: &Scope<'_>,
    client: &mut Client,
    columns_by_table: &HashMap<String, Vec<String>>,
) -> Result<(Vec<CopyTable>, Vec<Vec<ChunkRow>>)> {
    let mut tables = Vec::new();
    let mut chunks_by_table = Vec::new();
    // FK parents (schema, table) of each table, by index in `tables`.
    let mut parents = Vec::new();
    for t in scope.selected {
        let Some((facts, pending, all_chunks)) = read_facts(scope, client, t).await? else {
            continue;
        };
        let mode = mode::load_mode(&facts).expect("read_facts skips what is not loaded");
        let chunks = if mode.whole { all_chunks } else { pending };
        let mut plan = super::fitted_to_target(&*client, t).await?;
        let rejects_before = if mode.whole {
            0
        } else {
            state::chunk_totals(client, scope.run_id, &t.source)
                .await?
                .rows_rejected as u64
        };
        if facts.preexisting {
            plan.constants = constants_for(client, &plan, &scope.ctx.pipeline).await?;
            parents.push(catalog::fk_parents(client, &plan.qualified()).await?);
        } else {
            parents.push(Vec::new());
        }
        let rowid = crate::sqlite::read::source::rowid_name(&plan, &columns_by_table[&t.source]);
        tables.push(CopyTable {
            idx: tables.len(),
            transform: Arc::new(TableTransform::new(&plan)),
            select_sql: reader::select_sql(&plan, rowid),
            // Rows may be frozen in the transaction that truncates the table;
            // an application's table keeps ordinary visibility.
            copy_sql: ddl::copy_in(&plan, mode.whole && !facts.preexisting),
            types: plan
                .columns
                .iter()
                .map(|c| &c.ty)
                .chain(plan.constants.iter().map(|(_, ty, _)| ty))
                .map(PgType::wire_type)
                .collect(),
            rejects_before,
            reject_limit: scope.ctx.pipeline.reject_limit(&t.source),
            rows_rule: crate::config::rows_rule::rows_rule(t),
            deps: Vec::new(),
            serial: mode.serial,
            keys_early: !facts.preexisting,
            whole: mode.whole,
            reload: mode.reload,
            plan,
        });
        chunks_by_table.push(chunks);
    }
    wait_for_parents(&mut tables, &parents);
    Ok((tables, chunks_by_table))
}

/// What decides how `t` loads (see [`mode`]), with its chunks pending and
/// all its chunks; `None` when it is copied already and not named again.
/// Refuses a table not prepared, and a reload of a table someone changed
/// since this run loaded it (unless `--truncate`).
async fn read_facts(
    scope: &Scope<'_>,
    client: &Client,
    t: &TablePlan,
) -> Result<Option<(Facts, Vec<ChunkRow>, Vec<ChunkRow>)>> {
    let run_id = scope.run_id;
    let copied = state::stage_done(client, run_id, Stage::Copy, &t.source).await?;
    if !state::stage_done(client, run_id, Stage::Prepare, &t.source).await? {
        return Err(error::usage(format!(
            "table {} has not been prepared; run without --stage, or with --stage prepare first",
            t.source
        )));
    }
    let pending = state::chunks(client, run_id, &t.source, false).await?;
    let mut facts = Facts {
        named: scope.named(Stage::Copy),
        copied,
        pending: pending.len(),
        per_table: t.commit_every == CommitEvery::Table,
        ..Facts::default()
    };
    if facts.skipped() {
        return Ok(None);
    }
    if facts.reloads() && !scope.truncate {
        if let Some(how) = super::content::changed_since_load(client, run_id, &t.source, t).await? {
            return Err(error::blocked(format!(
                "target table {} changed since this run loaded it: {how}. \
                 Refusing to reload it; pass --truncate to replace it anyway",
                t.qualified()
            )));
        }
    }
    let all_chunks = state::chunks(client, run_id, &t.source, true).await?;
    facts.chunks = all_chunks.len();
    facts.preexisting = state::table_row(client, run_id, &t.source)
        .await?
        .is_some_and(|r| r.preexisting);
    if facts.wants_fresh_whole() {
        facts.occupied = catalog::has_rows(client, &t.qualified()).await?
            || catalog::is_referenced(client, &t.qualified()).await?;
        if facts.occupied {
            tracing::warn!(
                "table {}: holds rows or is referenced by a foreign key already; loading it per chunk, without FREEZE",
                t.qualified()
            );
        }
    }
    if facts.preexisting {
        facts.self_referencing = catalog::self_referencing(client, &t.qualified()).await?;
    }
    Ok(Some((facts, pending, all_chunks)))
}

/// Each table's `deps`: the tables of this copy among its FK parents
/// (`parents`, by index), less those in a cycle (the operator is told).
fn wait_for_parents(tables: &mut [CopyTable], parents: &[Vec<(String, String)>]) {
    let parent_idx: Vec<Vec<usize>> = parents
        .iter()
        .map(|ps| {
            ps.iter()
                .filter_map(|(s, n)| {
                    tables
                        .iter()
                        .position(|t| &t.plan.schema == s && &t.plan.target == n)
                })
                .collect()
        })
        .collect();
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
    scope: &Scope<'_>,
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
