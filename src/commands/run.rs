//! `sqlite2pg run`: the orchestrator. It checks the source before the
//! target is touched, finds or starts the run record, calls the stages in
//! order (`prepare` → `copy` → `finalize` → `verify_counts`, see
//! [`crate::stages`]) and turns their typed outcomes into the run's record
//! and its exit class. It does no stage's work itself.

use super::preflight::{not_moved, say_epochs, with_lock_holders};
use crate::config::mapping::IfNotEmpty;
use crate::config::plan::TablePlan;
use crate::error::{self, ExitClass, Failure};
use crate::pg::catalog;
use crate::shutdown::Shutdown;
use crate::sqlite::read::guard::SourceGuard;
use crate::sqlite::{read::fingerprint, read::source};
use crate::stages::copy::{self, TableSummary};
use crate::stages::finalize::{self, Builds};
use crate::stages::{self, prepare, verify_counts, Scope, SourceFacts};
use crate::state::{self, Stage, Status};
use crate::ui::out::outln;
use anyhow::{anyhow, Result};
use sha2::{Digest, Sha256};
use std::path::Path;
use std::time::Instant;
use tokio_postgres::Client;

// Until `main` says `preflight::print_not_moved` itself.
pub use super::preflight::print_not_moved;

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
    /// Go on when the source holds tables or columns the mapping does not
    /// mention (they are named, not moved).
    pub allow_unmapped: bool,
    /// `--snapshot copy`: load from a consistent private copy of the
    /// source, made in this directory.
    pub snapshot: Option<std::path::PathBuf>,
    /// The role that owns what the tool creates (overrides `target.owner`).
    pub owner: Option<String>,
    pub progress: bool,
}

#[derive(Debug, Clone)]
pub enum RunOutcome {
    /// Nothing to do: the last run finished (with this many rows rejected).
    AlreadyDone { run_id: i64, rejected: u64 },
    Finished {
        run_id: i64,
        tables: Vec<TableSummary>,
        rejected: u64,
        seconds: f64,
        /// What the source holds and the run did not move, one sentence
        /// each: views, triggers, and with `--allow-unmapped` what the
        /// mapping does not mention.
        not_moved: Vec<String>,
    },
}

/// The tables of this run: `--table`, else every table of the mapping.
fn select<'a>(plans: &'a [TablePlan], tables: &[String]) -> Vec<&'a TablePlan> {
    plans
        .iter()
        .filter(|t| tables.is_empty() || tables.contains(&t.source))
        .collect()
}

fn mapping_hash(file: &Path) -> Result<String> {
    let bytes = std::fs::read(file)?;
    Ok(hex::encode(Sha256::digest(&bytes)))
}

pub async fn run(file: &Path, opts: RunOptions, shutdown: &Shutdown) -> Result<RunOutcome> {
    let t0 = Instant::now();
    let mut ctx = stages::load_context(file, opts.target.as_deref())?;
    let p = &ctx.pipeline;
    for t in &opts.tables {
        if !ctx.plans.iter().any(|pl| &pl.source == t) {
            return Err(error::usage(format!(
                "--table {t}: no included table of that (source) name in {}",
                file.display()
            )));
        }
    }
    let selected = select(&ctx.plans, &opts.tables);

    let src_path = p.source_path();
    let src_str = src_path.display().to_string();
    let wants_prepare = opts.stages.is_empty() || opts.stages.contains(&Stage::Prepare);
    // The mapping is checked against the source's schema (a cheap read),
    // then the target is connected (nothing is written to it): a wrong
    // mapping, host, database or password is reported at once, not after
    // the integrity check has read a multi-GB source.
    let conn = source::open_readonly(&src_path)?;
    // Opened before the first read: every later read must see the file as
    // it is now, or the run fails saying what changed.
    let guard = SourceGuard::open(&src_path)?;
    source::check_source_matches(&conn, &ctx.plans, &src_path)?;
    let not_moved = not_moved(&conn, &ctx.pipeline, opts.allow_unmapped, &src_path, file)?;
    let mut client = ctx.target.connect().await?;
    crate::pg::server::check_target(
        &client,
        ctx.plans.iter().flat_map(|t| {
            t.columns
                .iter()
                .map(move |c| (format!("{}.{}", t.target, c.target), &c.ty))
        }),
    )
    .await?;
    // `--snapshot copy`: the run is identified by the source as it was just
    // before the copy (a write during the copy makes a resume refuse, as it
    // should), then reads only the copy, which nothing else writes.
    let (conn, guard, snapshot, copied_fp) = match &opts.snapshot {
        None => (conn, guard, None, None),
        Some(dir) => {
            let fp = fingerprint::compute(&conn, &src_path)?;
            let copy = source::snapshot_copy(&conn, &src_path, dir)?;
            let conn = source::open_readonly(&copy.path)?;
            let guard = SourceGuard::open(&copy.path)?;
            (conn, guard, Some(copy), Some(fp))
        }
    };
    let src_path = match &snapshot {
        Some(copy) => {
            ctx.pipeline.source.path = copy.path.clone();
            copy.path.clone()
        }
        None => src_path,
    };
    let p = &ctx.pipeline;

    // The source is checked before the target is touched. The chunk plans
    // `prepare` needs (a scan of each table's rowids) are made meanwhile on
    // a second connection: the integrity check is single-threaded and reads
    // more than they do, so they cost no time.
    let (fp, facts) = {
        let t0 = Instant::now();
        source::prefetch(&src_path);
        let chunk_size = p.defaults.chunk_size;
        let (checked, planned) = std::thread::scope(|s| {
            let planner = wants_prepare
                .then(|| s.spawn(|| source::plan_source_chunks(&src_path, &selected, chunk_size)));
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
        let fp = match copied_fp {
            Some(fp) => fp,
            None => fingerprint::compute(&conn, &src_path)?,
        };
        let facts = SourceFacts {
            columns: source::all_source_columns(&conn, &ctx.plans)?,
            chunks: planned.transpose()?.unwrap_or_default(),
        };
        (fp, facts)
    };
    if shutdown.is_requested() {
        // Stopped during the integrity check: nothing is written.
        return Err(shutdown.error("nothing was written to the target"));
    }
    say_epochs(crate::sqlite::schema::epoch::resolve_auto_epochs(
        &conn,
        &mut ctx.plans,
    )?);
    let selected = select(&ctx.plans, &opts.tables);
    guard.check("Nothing was written to the target")?;
    let mhash = mapping_hash(file)?;

    // The owner role is checked before anything is created, the state
    // schema included.
    let owner = opts.owner.as_deref().or(p.target.owner.as_deref());
    if let Some(role) = owner {
        if let Some(problem) = catalog::owner_problem(&client, role).await? {
            return Err(error::blocked(format!(
                "{} = {role:?}: {problem} on {}; nothing was created. {}",
                if opts.owner.is_some() {
                    "--owner"
                } else {
                    "target.owner"
                },
                ctx.target.shown,
                "Create the role (CREATE ROLE ...) or grant it to the user the tool connects as, \
                 or name another role"
            )));
        }
    }
    state::ensure(&mut client).await?;
    let name = p.pipeline_name();
    let schema = &p.target.schema;
    if !state::try_lock_pipeline(&client, &name, schema).await? {
        return Err(anyhow!("another sqlite2pg run of pipeline `{name}` into schema `{schema}` is in progress on {}", ctx.target.shown));
    }
    if !state::try_lock_schema(&client, schema).await? {
        let other = state::running_pipeline(&client, schema, &name)
            .await?
            .map(|p| format!("pipeline `{p}`"))
            .unwrap_or_else(|| "another pipeline".into());
        return Err(anyhow!(
            "{other} is loading schema `{schema}` on {} right now; two pipelines cannot load one schema at once. \
             Rerun when it has finished, or give this pipeline its own target.schema",
            ctx.target.shown
        ));
    }
    let key = state::session_lock_key(&client, &name, schema).await?;
    state::wait_for_leftover_sessions(&client, key).await?;
    // From here on every connection of this run holds the key shared.
    ctx.target.session_lock = Some(key);
    let explicit = !opts.stages.is_empty() || !opts.tables.is_empty();
    let latest = state::latest_run(&client, &name, schema).await?;
    let finished = match &latest {
        Some(r) if r.status == Status::Done => {
            all_stages_done(&client, r.run_id, &ctx.plans).await?
        }
        _ => false,
    };
    // For a new run: what prepare will empty, found before the run is
    // recorded and handed to prepare (not counted twice).
    let mut emptying = None;
    let run_id = match &latest {
        Some(r) if finished && !opts.fresh && !explicit => {
            // Done, but from this source? A target loaded from an older
            // state of the file is stale, and saying "nothing to do" would
            // hide it.
            if let Some(d) = fingerprint::differences(&r.fingerprint, &fp) {
                return Err(error::blocked(format!(
                    "run {} finished, but the source {src_str} changed since ({d}): the target holds the old data. \
                     Run with --fresh to load it again",
                    r.run_id
                )));
            }
            let mut rejected = 0;
            for t in &ctx.plans {
                rejected += state::chunk_totals(&client, r.run_id, &t.source)
                    .await?
                    .rows_rejected as u64;
            }
            return Ok(RunOutcome::AlreadyDone {
                run_id: r.run_id,
                rejected,
            });
        }
        Some(r) if !opts.fresh => {
            if let Some(d) = fingerprint::differences(&r.fingerprint, &fp) {
                if !opts.force {
                    return Err(error::blocked(format!(
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
            // A new run starts with prepare: a later stage alone has nothing
            // to work on. Refused before anything is recorded.
            if !opts.stages.is_empty() && !opts.stages.contains(&Stage::Prepare) {
                return Err(error::usage(format!(
                    "there is no run of pipeline `{name}` to continue{}: a new run starts with prepare. \
                     Run without --stage (or with --stage prepare first)",
                    if opts.fresh { " (--fresh starts a new one)" } else { "" }
                )));
            }
            // A new run that prepare would refuse is refused before it is
            // recorded: the last run stays the latest.
            let truncate_ok = opts.truncate || p.target.if_not_empty == IfNotEmpty::Truncate;
            emptying = Some(
                prepare::refusals(&client, &name, None, &selected, &ctx.plans, truncate_ok).await?,
            );
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
        only: &opts.stages,
        truncate: opts.truncate,
        owner,
        progress: opts.progress,
        shutdown,
        guard: &guard,
    };
    let (tables, failure) = match run_stages(scope, &mut client, &facts, emptying).await {
        Ok(done) => done,
        Err(e) => {
            let class = error::classify(&e);
            // The connection may be gone; the error is what matters.
            if !client.is_closed() {
                let status = status_for(class);
                let _ =
                    state::set_run_status(&client, run_id, status, Some(&format!("{e:#}"))).await;
                let _ = state::close_stages(&client, run_id, status).await;
            }
            let e = with_lock_holders(&ctx.target, e, &selected).await;
            return Err(with_advice(e, class, run_id, &opts));
        }
    };
    if let Some(e) = failure {
        let class = error::classify(&e);
        let msg = format!("{e:#}");
        state::set_run_status(&client, run_id, status_for(class), Some(&msg)).await?;
        state::close_stages(&client, run_id, status_for(class)).await?;
        print_summary(&tables);
        if class == ExitClass::Mismatch {
            // Loaded, but the counts disagree: rerunning as is would not
            // change that.
            return Err(error::mismatch(format!(
                "{msg}\nrun {run_id}: the target does not match the source; see `sqlite2pg verify`"
            )));
        }
        let e = with_lock_holders(&ctx.target, e, &selected).await;
        return Err(with_advice(e, class, run_id, &opts));
    }
    let rejected: u64 = tables.iter().map(|t| t.rows_rejected as u64).sum();
    let all_done = all_stages_done(&client, run_id, &ctx.plans).await?;
    let status = if all_done {
        Status::Done
    } else {
        Status::Running
    };
    state::set_run_status(&client, run_id, status, None).await?;
    Ok(RunOutcome::Finished {
        run_id,
        tables,
        rejected,
        seconds: t0.elapsed().as_secs_f64(),
        not_moved,
    })
}

/// How a run that stopped with this class is recorded.
fn status_for(class: ExitClass) -> Status {
    match class {
        ExitClass::Interrupted | ExitClass::Terminated => Status::Interrupted,
        _ => Status::Failed,
    }
}

/// The failure as the operator reads it: what went wrong, then what to do.
/// "Rerun" is advised only where a rerun resumes; otherwise the message
/// already names what must change.
fn with_advice(
    e: anyhow::Error,
    class: ExitClass,
    run_id: i64,
    opts: &RunOptions,
) -> anyhow::Error {
    let advice = if class.rerun_resumes() {
        format!("run {run_id} stopped; {}", resume_hint(opts))
    } else if class == ExitClass::Usage {
        return e;
    } else {
        format!(
            "run {run_id} failed; a rerun as it is would fail the same way: fix what is named above first \
             (committed work is kept)"
        )
    };
    Failure::error(class, format!("{e:#}\n{advice}"))
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

/// The stages this invocation runs, in order. `Ok((tables, Some(e)))`: a
/// stage recorded its failure (or the run was stopped) and the later ones
/// did not run.
async fn run_stages(
    scope: Scope<'_>,
    client: &mut Client,
    facts: &SourceFacts,
    emptying: Option<prepare::Emptying>,
) -> Result<(Vec<TableSummary>, Option<anyhow::Error>)> {
    let stopped = |what: &str| scope.shutdown.error(what);
    if scope.wants(Stage::Prepare) {
        prepare::prepare(scope, client, facts, emptying).await?;
    }
    let mut tables = Vec::new();
    if scope.wants(Stage::Copy) {
        if scope.shutdown.is_requested() {
            return Ok((tables, Some(stopped("prepared tables are kept"))));
        }
        let out = copy::copy(scope, client, &facts.columns).await?;
        tables = out.tables;
        if let Some(e) = out.failure {
            // Dropping the key builder aborts it.
            return Ok((tables, Some(e)));
        }
        if let Some(keys) = out.keys {
            if !keys.finish(scope.shutdown.clone()).await {
                return Ok((
                    tables,
                    Some(stopped(
                        "stopped while building keys after the copy; committed work is kept",
                    )),
                ));
            }
        }
    } else {
        let base = &scope.ctx.pipeline.base_dir;
        for t in scope.selected {
            tables.push(copy::summary_from_state(client, scope.run_id, t, base).await?);
        }
    }
    if scope.wants(Stage::Finalize) {
        if scope.shutdown.is_requested() {
            return Ok((tables, Some(stopped("committed work is kept"))));
        }
        let builds = Builds::new(&scope.ctx.target, &scope.ctx.pipeline.defaults)
            .stopping_on(scope.shutdown);
        let mut views = crate::config::plan::views(&scope.ctx.pipeline);
        for v in &mut views {
            v.owner = scope.owner.map(str::to_string);
        }
        let done =
            finalize::finalize(&builds, client, scope.run_id, scope.selected, &views).await?;
        // Foreign keys that loaded rows break beyond what the mapping
        // acknowledges: left NOT VALID, their tables' finalize not done (a
        // rerun counts again), and the run exits 3.
        if !done.unacknowledged.is_empty() {
            return Ok((
                tables,
                Some(error::mismatch(format!(
                    "foreign key orphans the mapping does not acknowledge:\n  {}",
                    done.unacknowledged.join("\n  ")
                ))),
            ));
        }
    }
    for t in &mut tables {
        let note = state::stage_note(&*client, scope.run_id, Stage::Finalize, &t.source_table);
        t.notes.extend(note.await?);
    }
    if scope.wants(Stage::Verify) {
        if scope.shutdown.is_requested() {
            return Ok((tables, Some(stopped("committed work is kept"))));
        }
        let counts = verify_counts::verify_counts(scope, client).await?;
        if !counts.mismatches.is_empty() {
            return Ok((
                tables,
                Some(error::mismatch(format!(
                    "verification failed:\n  {}",
                    counts.mismatches.join("\n  ")
                ))),
            ));
        }
    }
    Ok((tables, None))
}

pub fn print_summary(tables: &[TableSummary]) {
    if tables.is_empty() {
        return;
    }
    let w = crate::ui::name_width(tables.iter().map(|t| t.source_table.as_str()));
    outln!(
        "{:<w$}  {:>12}  {:>12}  {:>9}  {:>8}",
        "table",
        "rows read",
        "loaded",
        "rejected",
        "seconds"
    );
    for t in tables {
        outln!(
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
        for n in &t.notes {
            outln!("{:<w$}  note: {n}", "");
        }
    }
}
