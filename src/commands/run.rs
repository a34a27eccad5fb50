//! `sqlite2pg run`: the orchestrator. It checks the source before the
//! target is touched, finds or starts the run record, calls the stages in
//! order (`prepare` → `copy` → `finalize` → `verify_counts`, see
//! [`crate::stages`]) and turns their typed outcomes into the run's record
//! and its exit class. It does no stage's work itself.
//!
//! [`run`] is a short driver of named phases over a `RunSession` (what the
//! phases share); the stages end in one `RunEnd`, which `record` turns into
//! the run's status and the command's answer.

use super::preflight::{self, with_lock_holders, GuardedSource};
pub use super::run_outcome::{print_summary, RunOutcome};
use crate::config::mapping::IfNotEmpty;
use crate::config::plan::TablePlan;
use crate::error::{self, ExitClass, Failure};
use crate::pg::catalog;
use crate::shutdown::Shutdown;
use crate::sqlite::read::guard::SourceGuard;
use crate::sqlite::read::source::SnapshotCopy;
use crate::sqlite::{read::fingerprint, read::pages, read::source};
use crate::stages::copy::{self, TableSummary};
use crate::stages::finalize;
use crate::stages::reload::{self, Reload};
use crate::stages::{self, prepare, verify_counts, Context, Scope, SourceFacts};
use crate::state::{self, RunRow, Stage, Status};
use anyhow::{anyhow, Result};
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};
use std::time::Instant;
use tokio_postgres::Client;

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

/// The tables of this run: `--table`, else every table of the mapping.
fn select<'a>(plans: &'a [TablePlan], tables: &[String]) -> Vec<&'a TablePlan> {
    plans
        .iter()
        .filter(|t| tables.is_empty() || tables.contains(&t.source))
        .collect()
}

/// `--snapshot copy`'s directory, before anything is read: one that is
/// not there or not a directory is the command's mistake (exit 2); one the
/// tool cannot write (read-only, no permission) stays so on a rerun (4).
fn check_snapshot_dir(dir: &Path) -> Result<()> {
    let shown = dir.display();
    match std::fs::metadata(dir) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(error::usage(format!(
                "--snapshot-dir {shown} does not exist: create it, or name a directory with room \
                 for a copy of the source"
            )))
        }
        Ok(m) if !m.is_dir() => {
            return Err(error::usage(format!(
                "--snapshot-dir {shown} is not a directory: name a directory with room for a \
                 copy of the source"
            )))
        }
        _ => {}
    }
    tempfile::Builder::new()
        .prefix(".sqlite2pg-probe")
        .tempfile_in(dir)
        .map(drop)
        .map_err(|e| {
            error::blocked(format!(
                "--snapshot-dir {shown} cannot be written ({e}): --snapshot copy writes a copy of \
                 the source there; name a writable directory"
            ))
        })
}

fn mapping_hash(file: &Path) -> Result<String> {
    let bytes = std::fs::read(file)?;
    Ok(hex::encode(Sha256::digest(&bytes)))
}

/// `sqlite2pg run FILE`: what the run did when it finished (or found
/// nothing to do); an error with its exit class otherwise.
pub async fn run(file: &Path, opts: RunOptions, shutdown: &Shutdown) -> Result<RunOutcome> {
    let mut session = RunSession::new(file, opts, shutdown)?;
    // The mapping is checked against the source's schema (a cheap read),
    // then the target is connected (nothing is written to it): a wrong
    // mapping, host, database or password is reported at once, not after
    // the integrity check has read a multi-GB source.
    let source = session.preflight_source()?;
    let mut client = session.connect_target().await?;
    let source = session.snapshot(source)?;
    let (fingerprint, facts) = session.read_source(&source)?;
    session.check_owner(&client).await?;
    session.lock(&mut client).await?;
    let (run_id, emptying) = match session.resume_or_start(&client, &fingerprint).await? {
        Start::AlreadyDone(outcome) => return Ok(outcome),
        Start::Run {
            run_id,
            emptying,
            reload,
        } => {
            if let Some(reload) = reload {
                session.reload(&mut client, run_id, reload).await?;
            }
            (run_id, emptying)
        }
    };
    let selected = session.selected();
    let scope = session.scope(run_id, &selected, &source.guard);
    let end = run_stages(&scope, &mut client, &facts, emptying).await;
    session.record(&client, run_id, end, source.not_moved).await
}

/// What the phases of one `run` share: the command as given, the mapping
/// with its tables and target, and when the run began.
struct RunSession<'a> {
    file: &'a Path,
    opts: RunOptions,
    shutdown: &'a Shutdown,
    ctx: Context,
    /// The source as the operator named it (a `--snapshot copy` run reads
    /// a copy, but is recorded and reported under this name).
    source_shown: String,
    /// The hash of the mapping file the run was started or resumed with.
    mapping_hash: String,
    started: Instant,
}

/// The SQLite source as this run reads it.
struct Source {
    /// The file read: the source, or its `--snapshot copy`.
    path: PathBuf,
    conn: rusqlite::Connection,
    /// Opened before the first read: every later read must see the file as
    /// it is now, or the run fails saying what changed.
    guard: SourceGuard,
    /// `--snapshot copy`: the copy (removed when dropped) and the source's
    /// fingerprint just before it was made, which identifies the run.
    snapshot: Option<(SnapshotCopy, serde_json::Value)>,
    /// What the source holds that the run does not move, one sentence each.
    not_moved: Vec<String>,
}

/// Where the run record stands before any stage runs.
enum Start {
    /// The last run finished from this very source: nothing to do.
    AlreadyDone(RunOutcome),
    /// Resumed or new; a new run carries what prepare will empty, found
    /// before the run was recorded.
    Run {
        run_id: i64,
        emptying: Option<prepare::Emptying>,
        /// `--stage copy` of tables loaded already: what is emptied
        /// before the copy loads them again (planned, nothing written).
        reload: Option<Reload>,
    },
}

impl<'a> RunSession<'a> {
    /// The mapping loaded and resolved, `--table` names checked against it.
    fn new(file: &'a Path, opts: RunOptions, shutdown: &'a Shutdown) -> Result<RunSession<'a>> {
        let started = Instant::now();
        let ctx = stages::load_context(file, opts.target.as_deref())?;
        for t in &opts.tables {
            if !ctx.plans.iter().any(|pl| &pl.source == t) {
                return Err(error::usage(format!(
                    "--table {t}: no included table of that (source) name in {}",
                    file.display()
                )));
            }
        }
        if let Some(dir) = &opts.snapshot {
            check_snapshot_dir(dir)?;
        }
        let mut opts = opts;
        take_along_referencing(&ctx.plans, &mut opts);
        Ok(RunSession {
            source_shown: ctx.pipeline.source_path().display().to_string(),
            mapping_hash: mapping_hash(file)?,
            file,
            opts,
            shutdown,
            ctx,
            started,
        })
    }

    /// The tables of this run.
    fn selected(&self) -> Vec<&TablePlan> {
        select(&self.ctx.plans, &self.opts.tables)
    }

    /// The role that owns what the run creates: `--owner`, else
    /// `target.owner`.
    fn owner(&self) -> Option<&str> {
        let target = &self.ctx.pipeline.target;
        self.opts.owner.as_deref().or(target.owner.as_deref())
    }

    /// The source opened read-only, its schema checked against the
    /// mapping, and what it holds that the run will not move named (or
    /// refused, when the mapping does not mention it).
    fn preflight_source(&self) -> Result<Source> {
        let path = self.ctx.pipeline.source_path();
        let GuardedSource { guard, conn } = GuardedSource::open(&path)?;
        let not_moved = preflight::check_mapping(
            &conn,
            &self.ctx.pipeline,
            &self.ctx.plans,
            self.opts.allow_unmapped,
            &path,
            self.file,
        )?;
        Ok(Source {
            path,
            conn,
            guard,
            snapshot: None,
            not_moved,
        })
    }

    /// The target connected and checked (version, encoding, extensions the
    /// mapping's types need, the mapping's SQL parsed as what it must be);
    /// nothing is written to it.
    async fn connect_target(&self) -> Result<Client> {
        let mut client = self.ctx.target.connect().await?;
        let columns = self.ctx.plans.iter().flat_map(|t| {
            t.columns
                .iter()
                .map(move |c| (format!("{}.{}", t.target, c.target), &c.ty))
        });
        crate::pg::server::check_target(&client, columns).await?;
        stages::fragments::check(&mut client, &self.ctx.pipeline, &self.ctx.plans).await?;
        Ok(client)
    }

    /// `--snapshot copy`: the run is identified by the source as it was just
    /// before the copy (a write during the copy makes a resume refuse, as it
    /// should), then reads only the copy, which nothing else writes.
    fn snapshot(&mut self, source: Source) -> Result<Source> {
        let Some(dir) = &self.opts.snapshot else {
            return Ok(source);
        };
        // Read in one transaction: the application may be writing.
        let pages = pages::digest(&source.conn)?;
        let before = fingerprint::compute(&source.conn, &source.path, &pages)?;
        let copy = source::snapshot_copy(&source.conn, &source.path, dir)?;
        let GuardedSource { guard, conn } = GuardedSource::open(&copy.path)?;
        self.ctx.pipeline.source.path = copy.path.clone();
        Ok(Source {
            path: copy.path.clone(),
            conn,
            guard,
            snapshot: Some((copy, before)),
            not_moved: source.not_moved,
        })
    }

    /// The source checked before the target is touched (`PRAGMA
    /// quick_check`), its fingerprint, what the stages need of it, and
    /// `epoch = "auto"` resolved. The chunk plans `prepare` needs (a scan of
    /// each table's rowids) and the hash of every page (the fingerprint's
    /// content, which the guard holds the file to) are made meanwhile on
    /// connections of their own: the integrity check is single-threaded and
    /// reads more than they do, so they cost little time.
    fn read_source(&mut self, source: &Source) -> Result<(serde_json::Value, SourceFacts)> {
        let t0 = Instant::now();
        let path = &source.path;
        source::prefetch(path);
        let chunk_size = self.ctx.pipeline.defaults.chunk_size;
        let wants_prepare =
            self.opts.stages.is_empty() || self.opts.stages.contains(&Stage::Prepare);
        let selected = self.selected();
        let (checked, planned, pages) = std::thread::scope(|s| {
            let planner = wants_prepare
                .then(|| s.spawn(|| source::plan_source_chunks(path, &selected, chunk_size)));
            let guard = &source.guard;
            let pages = source
                .snapshot
                .is_none()
                .then(|| s.spawn(move || guard.pin_pages()));
            let checked = source::quick_check(&source.conn, path);
            let planned = planner.map(|h| h.join().expect("chunk planner panicked"));
            let pages = pages.map(|h| h.join().expect("page hash panicked"));
            (checked, planned, pages)
        });
        checked?;
        tracing::info!(
            "source {} passed PRAGMA quick_check ({:.1}s)",
            path.display(),
            t0.elapsed().as_secs_f64()
        );
        let fp = match &source.snapshot {
            Some((_, before)) => before.clone(),
            None => {
                let pages = pages.unwrap_or_else(|| source.guard.pin_pages())?;
                fingerprint::compute(&source.conn, path, &pages)?
            }
        };
        let facts = SourceFacts {
            columns: source::all_source_columns(&source.conn, &self.ctx.plans)?,
            chunks: planned.transpose()?.unwrap_or_default(),
        };
        if self.shutdown.is_requested() {
            // Stopped during the integrity check: nothing is written.
            return Err(self.shutdown.error("nothing was written to the target"));
        }
        preflight::resolve_epochs(&source.conn, &mut self.ctx.plans)?;
        source.guard.check("Nothing was written to the target")?;
        Ok((fp, facts))
    }

    /// The owner role is checked before anything is created, the state
    /// schema included.
    async fn check_owner(&self, client: &Client) -> Result<()> {
        let Some(role) = self.owner() else {
            return Ok(());
        };
        let Some(problem) = catalog::owner_problem(client, role).await? else {
            return Ok(());
        };
        Err(error::blocked(format!(
            "{} = {role:?}: {problem} on {}; nothing was created. {}",
            if self.opts.owner.is_some() {
                "--owner"
            } else {
                "target.owner"
            },
            self.ctx.target.shown,
            "Create the role (CREATE ROLE ...) or grant it to the user the tool connects as, \
             or name another role"
        )))
    }

    /// The state schema made or brought up to date, then the pipeline and
    /// its target schema locked for this run. Sessions a crashed run left
    /// are waited for; from here on every connection of this run holds the
    /// session key shared.
    async fn lock(&mut self, client: &mut Client) -> Result<()> {
        state::ensure(client).await?;
        let name = self.ctx.pipeline.pipeline_name();
        let schema = &self.ctx.pipeline.target.schema;
        if !state::try_lock_pipeline(client, &name, schema).await? {
            return Err(anyhow!("another sqlite2pg run of pipeline `{name}` into schema `{schema}` is in progress on {}", self.ctx.target.shown));
        }
        if !state::try_lock_schema(client, schema).await? {
            let other = state::running_pipeline(client, schema, &name)
                .await?
                .map(|p| format!("pipeline `{p}`"))
                .unwrap_or_else(|| "another pipeline".into());
            return Err(anyhow!(
                "{other} is loading schema `{schema}` on {} right now; two pipelines cannot load one schema at once. \
                 Rerun when it has finished, or give this pipeline its own target.schema",
                self.ctx.target.shown
            ));
        }
        let key = state::session_lock_key(client, &name, schema).await?;
        state::wait_for_leftover_sessions(client, key).await?;
        self.ctx.target.session_lock = Some(key);
        Ok(())
    }

    /// The run this invocation works on: nothing to do when the last run
    /// finished from this source (unless `--fresh`, `--stage` or `--table`
    /// ask for work), else the last run resumed, else a new run.
    async fn resume_or_start(&self, client: &Client, fp: &serde_json::Value) -> Result<Start> {
        let name = self.ctx.pipeline.pipeline_name();
        let explicit = !self.opts.stages.is_empty() || !self.opts.tables.is_empty();
        let latest = state::latest_run(client, &name, &self.ctx.pipeline.target.schema).await?;
        let finished = match &latest {
            Some(r) if r.status == Status::Done => {
                all_stages_done(client, r.run_id, &self.ctx.plans).await?
            }
            _ => false,
        };
        match &latest {
            Some(r) if finished && !self.opts.fresh && !explicit => {
                Ok(Start::AlreadyDone(self.already_done(client, r, fp).await?))
            }
            Some(r) if !self.opts.fresh => {
                let (run_id, reload) = self.resume(client, r, fp).await?;
                Ok(Start::Run {
                    run_id,
                    emptying: None,
                    reload,
                })
            }
            _ => self.start(client, fp).await,
        }
    }

    /// Done, but from this source? A target loaded from an older state of
    /// the file is stale, and saying "nothing to do" would hide it.
    async fn already_done(
        &self,
        client: &Client,
        r: &RunRow,
        fp: &serde_json::Value,
    ) -> Result<RunOutcome> {
        if let Some(d) = fingerprint::differences(&r.fingerprint, fp) {
            return Err(error::blocked(format!(
                "run {} finished, but the source {} changed since ({d}): the target holds the old data. \
                 Run with --fresh to load it again",
                r.run_id, self.source_shown
            )));
        }
        let mut rejected = 0;
        for t in &self.ctx.plans {
            rejected += state::chunk_totals(client, r.run_id, &t.source)
                .await?
                .rows_rejected as u64;
        }
        Ok(RunOutcome::AlreadyDone {
            run_id: r.run_id,
            rejected,
        })
    }

    /// The last run resumed: refused when the source changed since it
    /// started (unless `--force`), warned when the mapping did. A reload
    /// (`--stage copy` of tables loaded already) is planned before the
    /// run's record changes, so a refused one leaves it as it was.
    async fn resume(
        &self,
        client: &Client,
        r: &RunRow,
        fp: &serde_json::Value,
    ) -> Result<(i64, Option<Reload>)> {
        if let Some(d) = fingerprint::differences(&r.fingerprint, fp) {
            if !self.opts.force {
                return Err(error::blocked(format!(
                    "the source {} changed since run {} started ({d}); resuming would mix old and new data. \
                     Rerun with --fresh to start over, or --force to resume anyway",
                    self.source_shown, r.run_id
                )));
            }
            tracing::warn!(
                "source changed since run {} ({d}); resuming because of --force",
                r.run_id
            );
        }
        super::resume::refuse_changed_tables(client, r.run_id, &self.selected()).await?;
        if r.mapping_hash != self.mapping_hash {
            tracing::warn!(
                "mapping file {} changed since run {} started; tables already copied keep the old conversion (rerun them with --stage copy --table NAME)",
                self.file.display(),
                r.run_id
            );
        }
        let reload = self.plan_reload(client, r.run_id).await?;
        state::update_run_identity(client, r.run_id, fp, &self.mapping_hash).await?;
        state::set_run_status(client, r.run_id, Status::Running, None).await?;
        tracing::info!("resuming run {}", r.run_id);
        Ok((r.run_id, reload))
    }

    /// `--stage copy` names tables whose copy is complete: they are loaded
    /// again, emptied first in one TRUNCATE with the tables of this run
    /// that reference them ([`reload`]). `None` when nothing is reloaded.
    async fn plan_reload(&self, client: &Client, run_id: i64) -> Result<Option<Reload>> {
        if !self.opts.stages.contains(&Stage::Copy) {
            return Ok(None);
        }
        reload::plan(client, run_id, &self.selected(), self.opts.truncate).await
    }

    /// The reload applied. When it dropped foreign keys, finalize (which
    /// adds them again) and verify follow the copy in this invocation.
    async fn reload(&mut self, client: &mut Client, run_id: i64, r: Reload) -> Result<()> {
        r.apply(client, run_id).await?;
        if r.drops_keys() {
            for s in [Stage::Finalize, Stage::Verify] {
                if !self.opts.stages.contains(&s) {
                    self.opts.stages.push(s);
                }
            }
            tracing::info!(
                "--stage copy: finalize and verify follow, to add the reloaded tables' foreign keys again"
            );
        }
        Ok(())
    }

    /// A new run, which starts with prepare: a later stage alone has
    /// nothing to work on. A new run that prepare would refuse is refused
    /// before it is recorded, so the last run stays the latest.
    async fn start(&self, client: &Client, fp: &serde_json::Value) -> Result<Start> {
        let pipeline = &self.ctx.pipeline;
        let name = pipeline.pipeline_name();
        if !self.opts.stages.is_empty() && !self.opts.stages.contains(&Stage::Prepare) {
            return Err(error::usage(format!(
                "there is no run of pipeline `{name}` to continue{}: a new run starts with prepare. \
                 Run without --stage (or with --stage prepare first)",
                if self.opts.fresh {
                    " (--fresh starts a new one)"
                } else {
                    ""
                }
            )));
        }
        let truncate_ok =
            self.opts.truncate || pipeline.target.if_not_empty == IfNotEmpty::Truncate;
        let selected = self.selected();
        let emptying =
            prepare::refusals(client, &name, None, &selected, &self.ctx.plans, truncate_ok).await?;
        let run_id = state::new_run(
            client,
            &name,
            &pipeline.target.schema,
            &self.source_shown,
            fp,
            &self.mapping_hash,
        )
        .await?;
        tracing::info!(
            "starting run {run_id} of pipeline `{name}` into {}",
            self.ctx.target.shown
        );
        Ok(Start::Run {
            run_id,
            emptying: Some(emptying),
            reload: None,
        })
    }

    /// What every stage of run `run_id` works on.
    fn scope<'s>(
        &'s self,
        run_id: i64,
        selected: &'s [&'s TablePlan],
        guard: &'s SourceGuard,
    ) -> Scope<'s> {
        Scope {
            ctx: &self.ctx,
            run_id,
            selected,
            only: &self.opts.stages,
            truncate: self.opts.truncate,
            owner: self.owner(),
            progress: self.opts.progress,
            shutdown: self.shutdown,
            guard,
        }
    }

    /// The run's end recorded. A run that did not finish is recorded
    /// stopped or failed, its summary printed, and its error told with what
    /// to do.
    async fn record(
        &self,
        client: &Client,
        run_id: i64,
        end: RunEnd,
        not_moved: Vec<String>,
    ) -> Result<RunOutcome> {
        let (tables, error) = match end {
            RunEnd::Completed { tables } => {
                return self.finished(client, run_id, tables, not_moved).await;
            }
            RunEnd::Raised { error } => {
                let class = error::classify(&error);
                // The connection may be gone; the error is what matters, so
                // recording it is best effort.
                if !client.is_closed() {
                    let status = status_for(class);
                    let _ =
                        state::set_run_status(client, run_id, status, Some(&format!("{error:#}")))
                            .await;
                    let _ = state::close_stages(client, run_id, status).await;
                }
                let error = with_lock_holders(&self.ctx.target, error, &self.selected()).await;
                return Err(with_advice(error, class, run_id, &self.opts));
            }
            RunEnd::Stopped { tables, error } | RunEnd::Failed { tables, error } => (tables, error),
            RunEnd::Mismatch { tables, message } => (tables, error::mismatch(message)),
        };
        // A stage reported this end over a working connection: the state
        // must say it (a status left `running` would mislead `status` and
        // the next resume), so a failure to record it is the error told.
        let class = error::classify(&error);
        let status = status_for(class);
        state::set_run_status(client, run_id, status, Some(&format!("{error:#}"))).await?;
        state::close_stages(client, run_id, status).await?;
        print_summary(&tables);
        if class == ExitClass::Mismatch {
            // Loaded, but the counts disagree: rerunning as is would not
            // change that.
            return Err(error::mismatch(format!(
                "{error:#}\nrun {run_id}: the target does not match the source; see `sqlite2pg verify`"
            )));
        }
        let error = with_lock_holders(&self.ctx.target, error, &self.selected()).await;
        Err(with_advice(error, class, run_id, &self.opts))
    }

    /// Every stage asked for ran: the run is done once every stage is done
    /// for every table of the mapping.
    async fn finished(
        &self,
        client: &Client,
        run_id: i64,
        tables: Vec<TableSummary>,
        not_moved: Vec<String>,
    ) -> Result<RunOutcome> {
        let rejected: u64 = tables.iter().map(|t| t.rows_rejected as u64).sum();
        let status = if all_stages_done(client, run_id, &self.ctx.plans).await? {
            Status::Done
        } else {
            Status::Running
        };
        state::set_run_status(client, run_id, status, None).await?;
        Ok(RunOutcome::Finished {
            run_id,
            tables,
            rejected,
            seconds: self.started.elapsed().as_secs_f64(),
            not_moved,
            counts_checked: self.opts.stages.is_empty()
                || self.opts.stages.contains(&Stage::Verify),
        })
    }
}

/// How the messages of a run that ended on a mismatch begin, as recorded
/// (`status` tells a mismatch from a failure by them).
pub const MISMATCH_HEADS: [&str; 2] = [
    "foreign key orphans the mapping does not acknowledge",
    "verification failed",
];

/// How the stages of this invocation ended: the one thing
/// [`run_stages`] returns, each end with the tables' summaries.
enum RunEnd {
    /// Every stage asked for ran.
    Completed { tables: Vec<TableSummary> },
    /// Stopped by a signal (between stages, or within one at a transaction
    /// boundary); committed work is kept.
    Stopped {
        tables: Vec<TableSummary>,
        error: anyhow::Error,
    },
    /// A stage failed.
    Failed {
        tables: Vec<TableSummary>,
        error: anyhow::Error,
    },
    /// A stage raised an error instead of reporting its end (the
    /// connection may be gone with it): no tables, and the run is recorded
    /// failed or stopped as far as the connection allows.
    Raised { error: anyhow::Error },
    /// Loaded, but the target does not match the source: foreign key
    /// orphans the mapping does not acknowledge, or counts that differ.
    Mismatch {
        tables: Vec<TableSummary>,
        message: String,
    },
}

impl RunEnd {
    /// A stage's failure, or a stop when that is what its error says.
    fn ended(tables: Vec<TableSummary>, error: anyhow::Error) -> RunEnd {
        match error::classify(&error) {
            ExitClass::Interrupted | ExitClass::Terminated => RunEnd::Stopped { tables, error },
            _ => RunEnd::Failed { tables, error },
        }
    }
}

/// `--table X` with `--stage copy` or `--fresh` takes along the tables
/// that reference X ([`reload::take_along`]).
fn take_along_referencing(plans: &[TablePlan], opts: &mut RunOptions) {
    if opts.fresh || opts.stages.contains(&Stage::Copy) {
        reload::take_along(plans, &mut opts.tables);
    }
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

/// The stages this invocation runs, in order, and how they ended. A stage
/// that raises an error reports no tables ([`RunEnd::Raised`]): the error
/// alone is told.
async fn run_stages(
    scope: &Scope<'_>,
    client: &mut Client,
    facts: &SourceFacts,
    emptying: Option<prepare::Emptying>,
) -> RunEnd {
    stages_in_order(scope, client, facts, emptying)
        .await
        .unwrap_or_else(|error| RunEnd::Raised { error })
}

async fn stages_in_order(
    scope: &Scope<'_>,
    client: &mut Client,
    facts: &SourceFacts,
    emptying: Option<prepare::Emptying>,
) -> Result<RunEnd> {
    let stopped = |tables, what: &str| RunEnd::Stopped {
        tables,
        error: scope.shutdown.error(what),
    };
    if scope.wants(Stage::Prepare) {
        prepare::prepare(scope, client, facts, emptying).await?;
    }
    let mut tables = Vec::new();
    if scope.wants(Stage::Copy) {
        if scope.shutdown.is_requested() {
            return Ok(stopped(tables, "prepared tables are kept"));
        }
        let out = copy::copy(scope, client, &facts.columns).await?;
        tables = out.tables;
        if let Some(e) = out.failure {
            // Dropping the key builder aborts it.
            return Ok(RunEnd::ended(tables, e));
        }
        if let Some(keys) = out.keys {
            if !keys.finish(scope.shutdown.clone()).await {
                return Ok(stopped(
                    tables,
                    "stopped while building keys after the copy; committed work is kept",
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
            return Ok(stopped(tables, "committed work is kept"));
        }
        let done = finalize::finalize(scope, client).await?;
        // Foreign keys that loaded rows break beyond what the mapping
        // acknowledges: left NOT VALID, their tables' finalize not done (a
        // rerun counts again), and the run exits 3.
        if !done.unacknowledged.is_empty() {
            let message = format!(
                "{}:\n  {}",
                MISMATCH_HEADS[0],
                done.unacknowledged.join("\n  ")
            );
            return Ok(RunEnd::Mismatch { tables, message });
        }
    }
    for t in &mut tables {
        let note = state::stage_note(&*client, scope.run_id, Stage::Finalize, &t.source_table);
        t.notes.extend(note.await?);
    }
    if scope.wants(Stage::Verify) {
        if scope.shutdown.is_requested() {
            return Ok(stopped(tables, "committed work is kept"));
        }
        let counts = verify_counts::verify_counts(scope, client).await?;
        if !counts.mismatches.is_empty() {
            let message = format!(
                "{}:\n  {}",
                MISMATCH_HEADS[1],
                counts.mismatches.join("\n  ")
            );
            return Ok(RunEnd::Mismatch { tables, message });
        }
    }
    Ok(RunEnd::Completed { tables })
}
