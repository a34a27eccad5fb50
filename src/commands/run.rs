//! `sqlite2pg run`: the stages in order — prepare, copy, finalize, verify —
//! each recorded in the target so that a rerun after any failure does only
//! what is not yet committed.

use crate::config::mapping::{CommitEvery, IfNotEmpty, Pipeline};
use crate::config::plan::{self, TablePlan};
use crate::pg::catalog;
use crate::pg::connect::{self, Target};
use crate::sqlite::fingerprint;
use crate::sqlite::reader;
use crate::sqlite::source;
use crate::sqlite::transform::TableTransform;
use crate::stages::copy::{self, CopySettings, CopyTable, Job};
use crate::stages::ddl;
use crate::state::{self, Stage, Status};
use crate::ui::progress::Progress;
use crate::UsageError;
use anyhow::{bail, Context, Result};
use futures::{StreamExt, TryStreamExt};
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicU64;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::watch;
use tokio_postgres::Client;

const VERIFY_FAILED: &str = "verification failed:";

/// Finished, but the target does not match the source: exit code 3.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct VerifyMismatch(pub String);

#[derive(Debug, Clone, Default)]
pub struct RunOptions {
    pub target: Option<String>,
    /// Only these stages (empty = all that are not done).
    pub stages: Vec<Stage>,
    /// Only these source tables (empty = all).
    pub tables: Vec<String>,
    /// Start a new run even if the last one finished or failed.
    pub fresh: bool,
    /// Resume even though the source changed.
    pub force: bool,
    /// Empty non-empty target tables (same as `target.if_not_empty = "truncate"`).
    pub truncate: bool,
    pub progress: bool,
}

/// Per-table result for the summary.
#[derive(Debug, Clone, serde::Serialize)]
pub struct TableSummary {
    pub source_table: String,
    pub target_table: String,
    pub rows_read: i64,
    pub rows_loaded: i64,
    pub rows_rejected: i64,
    pub seconds: f64,
    pub error: Option<String>,
    pub reject_file: Option<PathBuf>,
}

#[derive(Debug, Clone)]
pub enum RunOutcome {
    /// Nothing to do: the last run finished.
    AlreadyDone { run_id: i64 },
    Finished {
        run_id: i64,
        tables: Vec<TableSummary>,
        rejected: u64,
        seconds: f64,
    },
}

/// Everything about a pipeline that `run`, `status` and `verify` share.
pub struct PipelineContext {
    pub pipeline: Pipeline,
    pub plans: Vec<TablePlan>,
    pub target: Target,
}

pub fn load_context(file: &Path, target_flag: Option<&str>) -> Result<PipelineContext> {
    let pipeline = Pipeline::load(file)?;
    let plans = plan::plan(&pipeline)?;
    let url = connect::resolve_url(target_flag, pipeline.target.url.as_deref())?;
    let target = Target::parse(&url)?;
    Ok(PipelineContext {
        pipeline,
        plans,
        target,
    })
}

fn mapping_hash(file: &Path) -> Result<String> {
    let bytes = std::fs::read(file)?;
    Ok(hex::encode(Sha256::digest(&bytes)))
}

pub async fn run(
    file: &Path,
    opts: RunOptions,
    cancel: watch::Receiver<bool>,
) -> Result<RunOutcome> {
    let t0 = Instant::now();
    let mut ctx = load_context(file, opts.target.as_deref())?;
    let p = &ctx.pipeline;
    for t in &opts.tables {
        if !ctx.plans.iter().any(|pl| &pl.source == t) {
            bail!(UsageError(format!(
                "--table {t}: no included table of that (source) name in {}",
                file.display()
            )));
        }
    }
    let selected: Vec<&TablePlan> = ctx
        .plans
        .iter()
        .filter(|t| opts.tables.is_empty() || opts.tables.contains(&t.source))
        .collect();

    // The source is checked before the target is touched. The chunk plans
    // `prepare` needs (a scan of each table's rowids) are made meanwhile on
    // a second connection: the integrity check is single-threaded and reads
    // more than they do, so they cost no time.
    let src_path = p.source_path();
    let wants_prepare = opts.stages.is_empty() || opts.stages.contains(&Stage::Prepare);
    let (fp, facts) = {
        let t0 = Instant::now();
        let conn = source::open_readonly(&src_path)?;
        source::prefetch(&src_path);
        let chunk_size = p.defaults.chunk_size;
        let (checked, planned) = std::thread::scope(|s| {
            let planner = wants_prepare
                .then(|| s.spawn(|| plan_source_chunks(&src_path, &selected, chunk_size)));
            let checked = source::quick_check(&conn, &src_path);
            let planned = planner.map(|h| h.join().expect("chunk planner panicked"));
            (checked, planned)
        });
        checked?;
        tracing::info!(
            "source {} passed PRAGMA quick_check ({:.1}s)",
            src_path.display(),
            t0.elapsed().as_secs_f64()
        );
        // A mapping that does not match is the clearer error than a plan
        // that failed because of it.
        check_source_matches(&conn, &ctx.plans, &src_path)?;
        let fp = fingerprint::compute(&conn, &src_path)?;
        let facts = SourceFacts {
            columns: all_source_columns(&conn, &ctx.plans)?,
            chunks: planned.transpose()?.unwrap_or_default(),
        };
        (fp, facts)
    };
    let mhash = mapping_hash(file)?;

    let mut client = ctx.target.connect().await?;
    state::ensure(&mut client).await?;
    let name = p.pipeline_name();
    let schema = &p.target.schema;
    if !state::try_lock_pipeline(&client, &name, schema).await? {
        bail!("another sqlite2pg run of pipeline `{name}` into schema `{schema}` is in progress on {}", ctx.target.shown);
    }
    let key = state::session_lock_key(&client, &name, schema).await?;
    state::wait_for_leftover_sessions(&client, key).await?;
    // From here on every connection of this run holds the key shared.
    ctx.target.session_lock = Some(key);
    let explicit = !opts.stages.is_empty() || !opts.tables.is_empty();
    let latest = state::latest_run(&client, &name, schema).await?;
    let src_str = src_path.display().to_string();
    let finished = match &latest {
        Some(r) if r.status == Status::Done => {
            all_stages_done(&client, r.run_id, &ctx.plans).await?
        }
        _ => false,
    };
    let run_id = match &latest {
        Some(r) if finished && !opts.fresh && !explicit => {
            return Ok(RunOutcome::AlreadyDone { run_id: r.run_id });
        }
        Some(r) if !opts.fresh => {
            if let Some(d) = fingerprint::differences(&r.fingerprint, &fp) {
                if !opts.force {
                    bail!(UsageError(format!(
                        "the source {} changed since run {} started ({d}); resuming would mix old and new data. \
                         Rerun with --fresh to start over, or --force to resume anyway",
                        src_str, r.run_id
                    )));
                }
                tracing::warn!(
                    "source changed since run {} ({d}); resuming because of --force",
                    r.run_id
                );
            }
            if r.mapping_hash != mhash {
                tracing::warn!(
                    "mapping file {} changed since run {} started; tables already copied keep the old conversion (rerun them with --stage copy --table NAME)",
                    file.display(),
                    r.run_id
                );
            }
            state::update_run_identity(&client, r.run_id, &fp, &mhash).await?;
            state::set_run_status(&client, r.run_id, Status::Running, None).await?;
            tracing::info!("resuming run {}", r.run_id);
            r.run_id
        }
        _ => {
            let id = state::new_run(&client, &name, schema, &src_str, &fp, &mhash).await?;
            tracing::info!(
                "starting run {id} of pipeline `{name}` into {}",
                ctx.target.shown
            );
            id
        }
    };

    let scope = Scope {
        ctx: &ctx,
        run_id,
        selected: &selected,
        opts: &opts,
    };
    let result = run_stages(scope, &mut client, &facts, cancel).await;
    match result {
        Ok((tables, failed)) => {
            let rejected: u64 = tables.iter().map(|t| t.rows_rejected as u64).sum();
            if let Some(msg) = failed {
                state::set_run_status(&client, run_id, Status::Failed, Some(&msg)).await?;
                print_summary(&tables);
                if msg.starts_with(VERIFY_FAILED) {
                    // Loaded, but the counts disagree: exit 3, and rerunning
                    // as is would not change that.
                    return Err(VerifyMismatch(format!(
                        "{msg}\nrun {run_id}: the target does not match the source; see `sqlite2pg verify`"
                    ))
                    .into());
                }
                bail!("{msg}\nrun {run_id} failed; {}", resume_hint(&opts));
            }
            let all_done = all_stages_done(&client, run_id, &ctx.plans).await?;
            state::set_run_status(
                &client,
                run_id,
                if all_done {
                    Status::Done
                } else {
                    Status::Running
                },
                None,
            )
            .await?;
            Ok(RunOutcome::Finished {
                run_id,
                tables,
                rejected,
                seconds: t0.elapsed().as_secs_f64(),
            })
        }
        Err(e) => {
            let msg = format!("{e:#}");
            // The connection may be gone; the error is what matters.
            if !client.is_closed() {
                let _ = state::set_run_status(&client, run_id, Status::Failed, Some(&msg)).await;
            }
            if e.chain().any(|c| c.is::<UsageError>()) {
                // Rerunning as is would not help: the operator must act.
                return Err(e);
            }
            Err(e.context(format!("run {run_id} failed; {}", resume_hint(&opts))))
        }
    }
}

/// A run is done when every stage is done for every table of the mapping,
/// not just for the tables one `--table` run selected (and a table added to
/// the mapping later makes it not done).
async fn all_stages_done(client: &Client, run_id: i64, plans: &[TablePlan]) -> Result<bool> {
    for t in plans {
        for s in Stage::ALL {
            if !state::stage_done(client, run_id, s, &t.source).await? {
                return Ok(false);
            }
        }
    }
    Ok(true)
}

/// Every table and column the mapping names must exist in the source, and
/// every filter must compile: found now, not halfway through the copy.
pub fn check_source_matches(
    conn: &rusqlite::Connection,
    plans: &[TablePlan],
    path: &Path,
) -> Result<()> {
    let mut problems = Vec::new();
    for t in plans {
        // Checked by name first: SQLite reads a double-quoted name that is
        // not a column as a string literal, so the query below would
        // prepare fine and load the column's name into every row.
        let present = source::table_columns(conn, &t.source)?;
        if !present.is_empty() {
            for c in &t.columns {
                if !present.iter().any(|p| p.eq_ignore_ascii_case(&c.source)) {
                    problems.push(format!("table {}: no such column: {}", t.source, c.source));
                }
            }
        }
        let cols: Vec<String> = t
            .columns
            .iter()
            .map(|c| reader::sqlite_quote(&c.source))
            .collect();
        let filter = t
            .filter
            .as_deref()
            .map(|f| format!(" WHERE ({f})"))
            .unwrap_or_default();
        let sql = format!(
            "SELECT {} FROM {}{filter} LIMIT 0",
            cols.join(", "),
            reader::sqlite_quote(&t.source)
        );
        if let Err(e) = conn.prepare(&sql) {
            problems.push(format!("table {}: {e}", t.source));
        }
    }
    if problems.is_empty() {
        Ok(())
    } else {
        bail!(UsageError(format!(
            "the mapping does not match the source {}:\n  {}",
            path.display(),
            problems.join("\n  ")
        )))
    }
}

/// What `run` reads from the source before it touches the target.
pub struct SourceFacts {
    /// Every column (hidden ones too) of each table of the mapping, by
    /// source name: what the rowid can be selected as.
    pub columns: HashMap<String, Vec<String>>,
    /// Chunk plans of the selected tables, by source name, when `prepare`
    /// is to run.
    pub chunks: HashMap<String, reader::ChunkPlan>,
}

/// Each table's chunk plan, on a connection of its own.
fn plan_source_chunks(
    path: &Path,
    tables: &[&TablePlan],
    chunk_size: u64,
) -> Result<HashMap<String, reader::ChunkPlan>> {
    let conn = source::open_readonly(path)?;
    let mut out = HashMap::new();
    for t in tables {
        let columns = source::table_columns(&conn, &t.source)?;
        let rowid = reader::rowid_name(t, &columns);
        out.insert(
            t.source.clone(),
            reader::plan_chunks(&conn, t, rowid, chunk_size)?,
        );
    }
    Ok(out)
}

pub fn all_source_columns(
    conn: &rusqlite::Connection,
    plans: &[TablePlan],
) -> Result<HashMap<String, Vec<String>>> {
    let mut out = HashMap::new();
    for t in plans {
        out.insert(t.source.clone(), source::table_columns(conn, &t.source)?);
    }
    Ok(out)
}

/// What every stage of one run works on.
#[derive(Clone, Copy)]
struct Scope<'a> {
    ctx: &'a PipelineContext,
    run_id: i64,
    selected: &'a [&'a TablePlan],
    opts: &'a RunOptions,
}

impl<'a> Scope<'a> {
    fn parts(
        self,
    ) -> (
        &'a PipelineContext,
        i64,
        &'a [&'a TablePlan],
        &'a RunOptions,
    ) {
        (self.ctx, self.run_id, self.selected, self.opts)
    }
}

async fn run_stages(
    scope: Scope<'_>,
    client: &mut Client,
    facts: &SourceFacts,
    cancel: watch::Receiver<bool>,
) -> Result<(Vec<TableSummary>, Option<String>)> {
    let (ctx, run_id, selected, opts) = scope.parts();
    let wants = |s: Stage| opts.stages.is_empty() || opts.stages.contains(&s);
    let p = &ctx.pipeline;
    if wants(Stage::Prepare) {
        prepare(scope, client, facts).await?;
    }
    let mut summaries = Vec::new();
    if wants(Stage::Copy) {
        let (s, failed, early_keys) = copy_stage(scope, client, &facts.columns, &cancel).await?;
        summaries = s;
        if failed.is_some() {
            // Dropping the builder aborts it.
            return Ok((summaries, failed));
        }
        if let Some(builder) = early_keys {
            if !finish_early_keys(builder, cancel).await {
                return Ok((
                    summaries,
                    Some(
                        "interrupted while building keys after the copy; committed work is kept"
                            .into(),
                    ),
                ));
            }
        }
    } else {
        for t in selected {
            summaries.push(summary_from_state(client, run_id, t, p).await?);
        }
    }
    if wants(Stage::Finalize) {
        let builds = crate::stages::finalize::Builds::new(&ctx.target, &p.defaults);
        crate::stages::finalize::finalize(&builds, client, run_id, selected).await?;
    }
    if wants(Stage::Verify) {
        let bad = verify_counts(ctx, client, run_id, selected).await?;
        if !bad.is_empty() {
            return Ok((
                summaries,
                Some(format!("{VERIFY_FAILED}\n  {}", bad.join("\n  "))),
            ));
        }
    }
    Ok((summaries, None))
}

async fn summary_from_state(
    client: &Client,
    run_id: i64,
    t: &TablePlan,
    p: &Pipeline,
) -> Result<TableSummary> {
    let (read, loaded, rejected) = state::chunk_totals(client, run_id, &t.source).await?;
    Ok(TableSummary {
        source_table: t.source.clone(),
        target_table: t.target.clone(),
        rows_read: read,
        rows_loaded: loaded,
        rows_rejected: rejected,
        seconds: 0.0,
        error: None,
        reject_file: (rejected > 0).then(|| reject_path(p, &t.source)),
    })
}

/// `prepare`: create missing target tables (no keys yet), check that existing
/// ones are safe to load, and record each table's chunk plan — all in one
/// transaction per table.
async fn prepare(scope: Scope<'_>, client: &mut Client, facts: &SourceFacts) -> Result<()> {
    let (ctx, run_id, selected, opts) = scope.parts();
    let p = &ctx.pipeline;
    let schema = &p.target.schema;
    let truncate_ok = opts.truncate || p.target.if_not_empty == IfNotEmpty::Truncate;
    client
        .batch_execute(&ddl::create_schema(schema))
        .await
        .with_context(|| format!("creating target schema {schema}"))?;
    state::set_stage(client, run_id, Stage::Prepare, "", Status::Running, None).await?;
    let explicit = opts.stages.contains(&Stage::Prepare);
    let t_prepare = Instant::now();
    let mut todo = Vec::new();
    for t in selected {
        if explicit || !state::stage_done(client, run_id, Stage::Prepare, &t.source).await? {
            todo.push(*t);
        }
    }
    // Everything that can refuse is checked before anything is emptied:
    // chunk plans from the source (made beside the integrity check), and
    // existing tables against the mapping.
    let mut plans = Vec::with_capacity(todo.len());
    for t in &todo {
        let chunks = facts.chunks.get(&t.source).ok_or_else(|| {
            anyhow::anyhow!("internal error: no chunk plan for table {}", t.source)
        })?;
        plans.push(chunks.clone());
        if catalog::table_exists(&*client, schema, &t.target).await?
            && state::created_by_earlier_run(&*client, &p.pipeline_name(), run_id, t)
                .await?
                .is_none()
        {
            check_existing_columns(&*client, t).await?;
        }
    }
    empty_targets(client, run_id, &p.pipeline_name(), &todo, truncate_ok).await?;
    for (t, chunks) in todo.into_iter().zip(plans) {
        let total: u64 = chunks.iter().map(|c| c.2).sum();
        let tx = client.transaction().await?;
        let exists = catalog::table_exists(&tx, schema, &t.target).await?;
        let preexisting = if exists {
            // Still there after `empty_targets`: the application's table,
            // or ours from this same run.
            state::table_row(&tx, run_id, &t.source)
                .await?
                .map(|r| r.preexisting)
                .unwrap_or(true)
        } else {
            false
        };
        if exists {
            check_existing_columns(&tx, t).await?;
            if catalog::has_rows(&tx, &t.qualified()).await? {
                // Ours from this run (prepare rerun on purpose).
                tx.batch_execute(&format!("TRUNCATE {}", t.qualified()))
                    .await
                    .with_context(|| {
                        format!(
                            "emptying target table {} (a table other tables reference cannot be truncated alone)",
                            t.qualified()
                        )
                    })?;
            }
        } else {
            tx.batch_execute(&ddl::create_table(t))
                .await
                .with_context(|| format!("creating target table {}", t.qualified()))?;
        }
        let row = state::TableRow {
            source_table: t.source.clone(),
            target_table: t.target.clone(),
            preexisting,
            source_rows: total as i64,
            chunks_total: chunks.len() as i32,
        };
        state::record_plan(&tx, run_id, &row, &chunks).await?;
        state::reset_stage(&tx, run_id, Stage::Copy, Some(&t.source)).await?;
        state::reset_stage(&tx, run_id, Stage::Finalize, Some(&t.source)).await?;
        state::set_stage(&tx, run_id, Stage::Prepare, &t.source, Status::Done, None).await?;
        tx.commit().await?;
    }
    state::set_stage(client, run_id, Stage::Prepare, "", Status::Done, None).await?;
    tracing::info!("prepare done ({:.1}s)", t_prepare.elapsed().as_secs_f64());
    Ok(())
}

/// Before a run loads anything: tables that an earlier run of this
/// pipeline created are dropped (all in one statement, never CASCADE) so
/// they are recreated without the old keys, indexes and foreign keys; other
/// tables holding rows are emptied only with permission (all in one
/// TRUNCATE, never CASCADE), otherwise nothing is touched and the run stops.
async fn empty_targets(
    client: &mut Client,
    run_id: i64,
    pipeline: &str,
    todo: &[&TablePlan],
    truncate_ok: bool,
) -> Result<()> {
    let mut drop = Vec::new();
    let mut truncate = Vec::new();
    let mut refused = Vec::new();
    for t in todo {
        if !catalog::table_exists(&*client, &t.schema, &t.target).await? {
            continue;
        }
        if state::table_row(&*client, run_id, &t.source)
            .await?
            .is_some()
        {
            continue; // this run's own table: handled per table
        }
        if let Some(loaded) = state::created_by_earlier_run(&*client, pipeline, run_id, t).await? {
            // Ours — unless someone wrote to it since: then it is not ours
            // to drop.
            let now = catalog::row_count(&*client, &t.qualified()).await?;
            if now != loaded && !truncate_ok {
                refused.push(format!(
                    "{} (an earlier run loaded {loaded} rows, it now has {now})",
                    t.qualified()
                ));
                continue;
            }
            drop.push(t.qualified());
        } else if catalog::has_rows(&*client, &t.qualified()).await? {
            if truncate_ok {
                truncate.push(t.qualified());
            } else {
                refused.push(t.qualified());
            }
        }
    }
    if !refused.is_empty() {
        let (what, verb, them) = if refused.len() == 1 {
            ("table", "holds", "it")
        } else {
            ("tables", "hold", "them")
        };
        bail!(UsageError(format!(
            "target {what} {} already {verb} rows that this pipeline did not load (or that changed since it did); refusing to overwrite {them}. \
             Set target.if_not_empty = \"truncate\" or pass --truncate to empty {them} first",
            refused.join(", ")
        )));
    }
    let tx = client.transaction().await?;
    if !drop.is_empty() {
        tx.batch_execute(&format!("DROP TABLE {}", drop.join(", ")))
            .await
            .with_context(|| {
                format!(
                    "dropping {} (created by the previous run) to load them afresh; \
                     something outside this pipeline depends on them",
                    drop.join(", ")
                )
            })?;
        tracing::info!("dropped {} (created by the previous run)", drop.join(", "));
    }
    if !truncate.is_empty() {
        tx.batch_execute(&format!("TRUNCATE {}", truncate.join(", ")))
            .await
            .with_context(|| {
                format!(
                    "emptying {} (tables outside this pipeline reference them?)",
                    truncate.join(", ")
                )
            })?;
        tracing::info!("emptied {}", truncate.join(", "));
    }
    tx.commit().await?;
    Ok(())
}

/// Loading into a table the application created: before anything is
/// loaded, every source column must have a target column, and every target
/// column that must get a value (NOT NULL, no default) must have a source.
/// All problems of the table are reported at once, with what to do.
async fn check_existing_columns(
    c: &impl tokio_postgres::GenericClient,
    t: &TablePlan,
) -> Result<()> {
    let actual = catalog::column_types(c, &t.schema, &t.target).await?;
    let mut problems = Vec::new();
    let missing: Vec<String> = t
        .columns
        .iter()
        .filter(|col| !actual.iter().any(|(n, _, _)| n == &col.target))
        .map(|col| format!("{} (target {})", col.source, col.target))
        .collect();
    if !missing.is_empty() {
        problems.push(format!(
            "source column(s) with no target column: {} — rename them with `target = \"...\"` or set `include = false`",
            missing.join(", ")
        ));
    }
    let filled = |n: &str| {
        t.columns.iter().any(|c| c.target == n)
            || t.added.iter().any(|a| a.name == n && a.default.is_some())
    };
    let required: Vec<String> = catalog::required_columns(c, &t.schema, &t.target)
        .await?
        .into_iter()
        .filter(|n| !filled(n))
        .collect();
    if !required.is_empty() {
        problems.push(format!(
            "target NOT NULL column(s) with no source and no default: {} — map a source column to them, \
             or give them a value with [tables.{}.add_columns.NAME] type = \"...\", default = \"<SQL expression>\"",
            required.join(", "),
            crate::config::mapping::key_seg(&t.source)
        ));
    }
    for a in &t.added {
        if !actual.iter().any(|(n, _, _)| n == &a.name) {
            problems.push(format!(
                "add_columns.{} does not exist in the existing table (this tool does not alter an application's tables)",
                a.name
            ));
        }
    }
    if problems.is_empty() {
        Ok(())
    } else {
        bail!(UsageError(format!(
            "target table {} exists (created by the application?) but does not match the mapping:\n  {}",
            t.qualified(),
            problems.join("\n  ")
        )))
    }
}

/// What to run to resume: the same command, less `--fresh` (which would
/// start over instead).
fn resume_hint(opts: &RunOptions) -> &'static str {
    if opts.fresh {
        "rerun the same command without --fresh to resume (committed work is kept)"
    } else {
        "rerun the same command to resume (committed work is kept)"
    }
}

pub fn reject_path(p: &Pipeline, source_table: &str) -> PathBuf {
    let safe: String = source_table
        .chars()
        .map(|c| {
            if c.is_alphanumeric() || c == '_' || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect();
    // Names that had to be changed get a short hash, so `a b` and `a_b`
    // never share a file.
    let name = if safe == source_table {
        safe
    } else {
        use sha2::Digest;
        let h = Sha256::digest(source_table.as_bytes());
        format!("{safe}-{}", hex::encode(&h[..4]))
    };
    p.base_dir.join("rejects").join(format!("{name}.jsonl"))
}

/// The copy stage's outcome: a summary per table, the failure if any, and
/// the task building loaded tables' keys (see [`finish_early_keys`]).
type CopyOutcome = (Vec<TableSummary>, Option<String>, Option<KeyBuilder>);

/// The task building loaded tables' keys during the copy; dropped unawaited
/// (an error on the way, a failed copy) it is aborted, not left running.
struct KeyBuilder(tokio::task::JoinHandle<()>);

impl Drop for KeyBuilder {
    fn drop(&mut self) {
        self.0.abort();
    }
}

async fn copy_stage(
    scope: Scope<'_>,
    client: &mut Client,
    columns_by_table: &HashMap<String, Vec<String>>,
    cancel: &watch::Receiver<bool>,
) -> Result<CopyOutcome> {
    let (ctx, run_id, selected, opts) = scope.parts();
    let p = &ctx.pipeline;
    state::set_stage(client, run_id, Stage::Copy, "", Status::Running, None).await?;
    let mut tables: Vec<Arc<CopyTable>> = Vec::new();
    let mut jobs_by_table: Vec<Vec<state::ChunkRow>> = Vec::new();
    let mut bars = Vec::new();
    // (index in `tables`, FK parents) of existing tables.
    let mut parents: Vec<(usize, Vec<(String, String)>)> = Vec::new();
    // Tables copied already are reloaded only when asked (`--stage copy`),
    // and then replaced atomically.
    let mut replace: Vec<bool> = Vec::new();
    // Loaded in one transaction: reloads, and `commit_every = "table"`.
    let mut whole_table: Vec<bool> = Vec::new();
    for t in selected {
        let done = state::stage_done(client, run_id, Stage::Copy, &t.source).await?;
        if !state::stage_done(client, run_id, Stage::Prepare, &t.source).await? {
            bail!("table {} has not been prepared; run without --stage, or with --stage prepare first", t.source);
        }
        let pending_now = state::chunks(client, run_id, &t.source, false).await?;
        // `--stage copy` on a table whose chunks are all committed reloads
        // it — also after a failed reload, which rolled back and left every
        // chunk done.
        let reload = opts.stages.contains(&Stage::Copy) && pending_now.is_empty();
        if done && !reload {
            continue;
        }
        if reload && !opts.truncate {
            let loaded = state::chunk_totals(client, run_id, &t.source).await?.1;
            let now = catalog::row_count(client, &t.qualified()).await?;
            if now != loaded {
                bail!(UsageError(format!(
                    "target table {} has {now} rows but this run loaded {loaded}: it changed since \
                     (the application wrote to it?). Refusing to reload it; pass --truncate to replace it anyway",
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
        let rejected_before = if whole {
            0
        } else {
            state::chunk_totals(client, run_id, &t.source).await?.2
        };
        replace.push(reload);
        whole_table.push(whole);
        let (mut plan, actual) = catalog::retyped(&*client, t).await?;
        let mut serial = false;
        if preexisting {
            plan.constants = constants_for(client, &plan, p).await?;
            parents.push((
                tables.len(),
                catalog::fk_parents(client, &plan.qualified()).await?,
            ));
            serial = catalog::self_referencing(client, &plan.qualified()).await?;
        }
        let rowid = reader::rowid_name(&plan, &columns_by_table[&t.source]);
        let planned: i64 = pending.iter().map(|c| c.planned_rows).sum();
        bars.push((t.source.clone(), planned as u64));
        tables.push(Arc::new(CopyTable {
            idx: tables.len(),
            transform: Arc::new(TableTransform::new(&plan)),
            select_sql: reader::select_sql(&plan, rowid),
            // Rows may be frozen in the transaction that truncates the table;
            // an application's table keeps ordinary visibility.
            copy_sql: ddl::copy_in(&plan, whole && !preexisting),
            types: actual
                .iter()
                .chain(plan.constants.iter().map(|(_, ty, _)| ty))
                .map(|t| t.wire_type())
                .collect(),
            rejects_before: rejected_before as u64,
            rejects: AtomicU64::new(0),
            error: Mutex::new(None),
            failing_rejects: Mutex::new(Vec::new()),
            failing_is_all: std::sync::atomic::AtomicBool::new(false),
            chunks_left: AtomicU64::new(pending.len() as u64),
            deps: std::sync::OnceLock::new(),
            serial,
            in_flight: AtomicU64::new(0),
            keys_early: !preexisting,
            plan,
        }));
        jobs_by_table.push(pending);
    }
    // An application's foreign keys are enforced during the load: parents
    // are loaded before their children. A cycle cannot be ordered: its
    // tables load in parallel and the operator is told.
    let dep_idx: Vec<(usize, Vec<usize>)> = parents
        .iter()
        .map(|(i, ps)| {
            let d = ps
                .iter()
                .filter_map(|(s, n)| {
                    tables
                        .iter()
                        .position(|t| &t.plan.schema == s && &t.plan.target == n)
                })
                .collect();
            (*i, d)
        })
        .collect();
    let edges = |i: usize| -> Vec<usize> {
        dep_idx
            .iter()
            .find(|(j, _)| *j == i)
            .map(|(_, d)| d.clone())
            .unwrap_or_default()
    };
    for (i, d) in &dep_idx {
        // Is `i` reachable from its own parents?
        let mut stack = d.clone();
        let mut seen = std::collections::HashSet::new();
        let mut cyclic = false;
        while let Some(n) = stack.pop() {
            if n == *i {
                cyclic = true;
                break;
            }
            if seen.insert(n) {
                stack.extend(edges(n));
            }
        }
        let deps = if cyclic {
            tracing::warn!(
                "table {}: its foreign keys form a cycle with other tables; loading them in parallel \
                 (make the constraints DEFERRABLE or load with --table in a working order if rows are refused)",
                tables[*i].plan.source
            );
            Vec::new()
        } else {
            d.iter().map(|&k| tables[k].clone()).collect()
        };
        let _ = tables[*i].deps.set(deps);
    }
    // Largest tables first so the long pole starts early; chunks of one
    // table stay together so its keys can be built as soon as it is done.
    let mut order: Vec<usize> = (0..tables.len()).collect();
    order.sort_by_key(|&i| std::cmp::Reverse(bars[i].1));
    let mut jobs = Vec::new();
    for i in order {
        if whole_table[i] {
            jobs.push(Job {
                table: tables[i].clone(),
                chunks: std::mem::take(&mut jobs_by_table[i]),
                replace: true,
            });
            continue;
        }
        for c in jobs_by_table[i].drain(..) {
            jobs.push(Job {
                table: tables[i].clone(),
                chunks: vec![c],
                replace: false,
            });
        }
    }
    let progress = Progress::new(&bars, opts.progress);
    let (stop_tx, stop_rx) = watch::channel(false);
    let logger = tokio::spawn(
        progress
            .clone()
            .log_periodically(Duration::from_secs(10), stop_rx),
    );
    // When finalize follows (and the mapping does not say otherwise), a
    // table's keys are built as soon as it is loaded, beside the copy of
    // the others.
    let keys_now = p.defaults.keys_during_copy
        && (opts.stages.is_empty() || opts.stages.contains(&Stage::Finalize));
    let (loaded, early_keys) = if keys_now {
        let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
        let builder = tokio::spawn(build_keys_as_loaded(
            crate::stages::finalize::Builds::new(&ctx.target, &p.defaults).early(),
            rx,
            cancel.clone(),
        ));
        (Some(tx), Some(KeyBuilder(builder)))
    } else {
        (None, None)
    };
    let settings = Arc::new(CopySettings {
        run_id,
        source_path: p.source_path(),
        batch_size: p.defaults.batch_size,
        reject_limit: p.defaults.reject_limit,
        workers: p.defaults.workers,
        loaded,
    });
    let started = Instant::now();
    let res = if jobs.is_empty() {
        // Nothing will announce a table: close the builder's channel.
        drop(settings);
        Ok(())
    } else {
        copy::run_jobs(
            &ctx.target,
            jobs,
            settings,
            progress.clone(),
            cancel.clone(),
        )
        .await
    };
    let _ = stop_tx.send(true);
    let _ = logger.await;
    progress.finish();
    let seconds = started.elapsed().as_secs_f64();
    // A failed or interrupted copy starts no further key build (the run
    // stops; a rerun builds what is missing).
    let copy_failed = res.is_err()
        || *cancel.borrow()
        || tables
            .iter()
            .any(|t| t.failed() || t.chunks_left.load(std::sync::atomic::Ordering::SeqCst) > 0);
    let early_keys = early_keys.filter(|_| !copy_failed);
    // Make every asynchronously committed chunk durable before reporting.
    client.batch_execute("SET synchronous_commit = on").await?;

    let mut failures = Vec::new();
    for t in &tables {
        let mut err = t.error.lock().unwrap().clone();
        // Done means every chunk committed — not merely "no error": after
        // Ctrl-C (or a worker that could not connect) some tables' chunks
        // never ran, and must stay pending for the rerun.
        let left = t.chunks_left.load(std::sync::atomic::Ordering::SeqCst);
        if err.is_none() && left > 0 {
            err = Some(format!(
                "table {}: {left} chunk(s) not loaded (interrupted)",
                t.plan.source
            ));
        }
        match &err {
            Some(e) => {
                state::set_stage(
                    client,
                    run_id,
                    Stage::Copy,
                    &t.plan.source,
                    Status::Failed,
                    Some(e),
                )
                .await?;
                // The error names its table (and chunk) already.
                failures.push(e.clone());
            }
            None => {
                state::set_stage(
                    client,
                    run_id,
                    Stage::Copy,
                    &t.plan.source,
                    Status::Done,
                    None,
                )
                .await?;
                if replace[t.idx] {
                    // Reloaded: its sequences, statistics and counts are due again.
                    state::reset_stage(client, run_id, Stage::Finalize, Some(&t.plan.source))
                        .await?;
                    state::reset_stage(client, run_id, Stage::Verify, Some(&t.plan.source)).await?;
                }
            }
        }
    }
    let mut summaries = Vec::new();
    for t in selected {
        let (read, loaded, rejected) = state::chunk_totals(client, run_id, &t.source).await?;
        let ct = tables.iter().find(|c| c.plan.source == t.source);
        let failing = ct
            .map(|c| c.failing_rejects.lock().unwrap().clone())
            .unwrap_or_default();
        let committed_too =
            !ct.is_some_and(|c| c.failing_is_all.load(std::sync::atomic::Ordering::SeqCst));
        let mut reject_file = None;
        if rejected > 0 || !failing.is_empty() {
            let path = reject_path(p, &t.source);
            write_rejects(client, run_id, &t.source, &failing, committed_too, &path).await?;
            if !failing.is_empty() {
                // The table failed on its rejects: say where they are.
                failures.push(format!(
                    "table {}: the rejected rows are in {}",
                    t.source,
                    path.display()
                ));
            }
            reject_file = Some(path);
        }
        summaries.push(TableSummary {
            source_table: t.source.clone(),
            target_table: t.target.clone(),
            rows_read: read,
            rows_loaded: loaded,
            rows_rejected: rejected,
            seconds: if ct.is_some() { seconds } else { 0.0 },
            error: ct.and_then(|c| c.error.lock().unwrap().clone()),
            reject_file,
        });
    }
    if let Err(e) = res {
        failures.push(format!("{e:#}"));
    }
    if *cancel.borrow() {
        failures.push("interrupted; committed chunks are kept".into());
    }
    if failures.is_empty() {
        state::set_stage(client, run_id, Stage::Copy, "", Status::Done, None).await?;
        Ok((summaries, None, early_keys))
    } else {
        let msg = failures.join("\n");
        state::set_stage(client, run_id, Stage::Copy, "", Status::Failed, Some(&msg)).await?;
        Ok((summaries, Some(msg), early_keys))
    }
}

/// After a successful copy stage: wait for the builds of the keys of the
/// tables it loaded (finalize must not race them). The copy's workers are
/// gone, and with them the channel's senders, so the builder finishes what
/// it has. False when the run was interrupted meanwhile: the builder is
/// then abandoned — nothing new starts; a statement in flight runs on until
/// this process exits and its connection closes (the server notices within
/// `client_connection_check_interval`, on PostgreSQL 14 and later) — and
/// the run must stop before finalize.
async fn finish_early_keys(mut builder: KeyBuilder, mut cancel: watch::Receiver<bool>) -> bool {
    !*cancel.borrow()
        && tokio::select! {
            _ = &mut builder.0 => true,
            Ok(()) = cancel.changed() => false,
        }
}

/// Build the keys of each table announced on `loaded` (fully copied), each
/// in its own task so tables announced together build side by side, at
/// most `workers` statements at a time. A failure is only logged:
/// `finalize` retries the step and reports it. Once the run is interrupted
/// no table's build starts; aborting this task starts no further statement.
async fn build_keys_as_loaded(
    b: crate::stages::finalize::Builds,
    mut loaded: tokio::sync::mpsc::UnboundedReceiver<Arc<CopyTable>>,
    cancel: watch::Receiver<bool>,
) {
    let slots = Arc::new(tokio::sync::Semaphore::new(b.workers().max(1)));
    let mut builds = tokio::task::JoinSet::new();
    while let Some(t) = loaded.recv().await {
        if *cancel.borrow() {
            break;
        }
        let b = b.clone();
        let slots = slots.clone();
        builds.spawn(async move {
            let t0 = Instant::now();
            match crate::stages::finalize::build_keys_early(&b, &t.plan, &slots).await {
                Ok(()) => tracing::info!(
                    "keys of {} built as soon as it was loaded ({:.1}s)",
                    t.plan.qualified(),
                    t0.elapsed().as_secs_f64()
                ),
                Err(e) => tracing::warn!(
                    "building the keys of {} early failed; finalize retries: {e:#}",
                    t.plan.qualified()
                ),
            }
        });
    }
    while builds.join_next().await.is_some() {}
}

/// For a table the application created: each `add_columns` entry with a
/// default becomes a constant, evaluated once by PostgreSQL and converted to
/// the column's actual type.
async fn constants_for(
    client: &Client,
    t: &TablePlan,
    p: &Pipeline,
) -> Result<Vec<(String, crate::pg::types::PgType, crate::pg::value::Value)>> {
    let mut out = Vec::new();
    for a in &t.added {
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
            bail!(UsageError(format!(
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
        let v = crate::convert::Converter::new(ty.clone(), opts)
            .convert(&cell)
            .map_err(|e| {
                anyhow::anyhow!("add_columns.{}.default `{expr}`: {}", a.name, e.reason)
            })?;
        out.push((a.name.clone(), ty, v));
    }
    Ok(out)
}

/// Write `rejects/<table>.jsonl`: the committed rejects streamed from the
/// state table into a buffered file (never all in memory: a messy table can
/// have millions) unless `committed_too` is false, then the uncommitted ones
/// of the transaction that broke the limit.
async fn write_rejects(
    client: &Client,
    run_id: i64,
    source: &str,
    failing: &[serde_json::Value],
    committed_too: bool,
    path: &Path,
) -> Result<()> {
    use std::io::Write;
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    let ctx = || format!("writing reject file {}", path.display());
    let mut out = std::io::BufWriter::new(std::fs::File::create(path).with_context(ctx)?);
    if committed_too {
        state::stream_rejects(client, run_id, source, |line| {
            out.write_all(line.to_string().as_bytes())?;
            out.write_all(b"\n")?;
            Ok(())
        })
        .await
        .with_context(ctx)?;
    }
    for r in failing {
        writeln!(out, "{r}").with_context(ctx)?;
    }
    out.flush().with_context(ctx)?;
    Ok(())
}

/// `verify` within `run`: target rows = source rows (after filter) − rejects.
/// The full check with content checksums is `sqlite2pg verify`.
async fn verify_counts(
    ctx: &PipelineContext,
    client: &mut Client,
    run_id: i64,
    selected: &[&TablePlan],
) -> Result<Vec<String>> {
    state::set_stage(client, run_id, Stage::Verify, "", Status::Running, None).await?;
    let conn = source::open_readonly(&ctx.pipeline.source_path())?;
    let mut sources = Vec::with_capacity(selected.len());
    for t in selected {
        let filter = t
            .filter
            .as_deref()
            .map(|f| format!(" WHERE ({f})"))
            .unwrap_or_default();
        let src: i64 = conn
            .query_row(
                &format!(
                    "SELECT count(*) FROM {}{filter}",
                    reader::sqlite_quote(&t.source)
                ),
                [],
                |r| r.get(0),
            )
            .with_context(|| format!("counting source table {}", t.source))?;
        sources.push(src);
    }
    // Target tables counted side by side, one connection each.
    let targets: Vec<i64> = futures::stream::iter(selected.iter().map(|t| async move {
        let c = ctx.target.connect().await?;
        let n: i64 = c
            .query_one(&format!("SELECT count(*) FROM {}", t.qualified()), &[])
            .await
            .with_context(|| format!("counting target table {}", t.qualified()))?
            .get(0);
        anyhow::Ok(n)
    }))
    .buffered(ctx.pipeline.defaults.workers.max(1))
    .try_collect()
    .await?;
    let mut bad = Vec::new();
    for ((t, src), tgt) in selected.iter().zip(sources).zip(targets) {
        let (_, _, rejected) = state::chunk_totals(client, run_id, &t.source).await?;
        if tgt + rejected != src {
            let msg = format!(
                "table {} → {}: source has {src} rows, target {tgt}, rejected {rejected}",
                t.source,
                t.qualified()
            );
            state::set_stage(
                client,
                run_id,
                Stage::Verify,
                &t.source,
                Status::Failed,
                Some(&msg),
            )
            .await?;
            bad.push(msg);
        } else {
            state::set_stage(client, run_id, Stage::Verify, &t.source, Status::Done, None).await?;
        }
    }
    if bad.is_empty() {
        state::set_stage(client, run_id, Stage::Verify, "", Status::Done, None).await?;
    } else {
        state::set_stage(
            client,
            run_id,
            Stage::Verify,
            "",
            Status::Failed,
            Some(&bad.join("; ")),
        )
        .await?;
    }
    Ok(bad)
}

pub fn print_summary(tables: &[TableSummary]) {
    if tables.is_empty() {
        return;
    }
    let w = name_width(tables.iter().map(|t| t.source_table.as_str()));
    println!(
        "{:<w$}  {:>12}  {:>12}  {:>9}  {:>8}",
        "table", "rows read", "loaded", "rejected", "seconds"
    );
    for t in tables {
        println!(
            "{:<w$}  {:>12}  {:>12}  {:>9}  {:>8.1}{}",
            t.source_table,
            t.rows_read,
            t.rows_loaded,
            t.rows_rejected,
            t.seconds,
            match (&t.error, &t.reject_file) {
                (Some(_), _) => "  FAILED".to_string(),
                (None, Some(f)) => format!("  rejects: {}", f.display()),
                _ => String::new(),
            }
        );
    }
}

/// Width of the table-name column of a printed report.
pub fn name_width<'a>(names: impl Iterator<Item = &'a str>) -> usize {
    names.map(str::len).max().unwrap_or(0).max(5)
}
