//! The stages of a run, in order: [`prepare`] → [`copy`] → [`finalize`] →
//! [`verify_counts`]. Each records its progress in the state schema (so a
//! rerun does only what is missing) and returns a typed outcome to the run
//! command, which alone decides what happens next and the exit code.

pub mod content;
pub mod copy;
pub mod ddl;
pub mod defaults;
pub mod finalize;
pub mod fragments;
pub mod prepare;
mod refused;
pub mod reload;
pub mod verify_counts;
pub mod views;

use crate::config::mapping::Pipeline;
use crate::config::plan::{self, TablePlan};
use crate::pg::catalog;
use crate::pg::connect::{self, Target};
use crate::shutdown::Shutdown;
use crate::sqlite::read::guard::SourceGuard;
use crate::sqlite::read::source::ChunkPlan;
use crate::state::Stage;
use anyhow::{anyhow, Result};
use std::collections::HashMap;
use std::path::Path;

/// Everything about a pipeline that `run`, `status` and `verify` share: the
/// validated mapping, its resolved tables, and the target.
pub struct Context {
    pub pipeline: Pipeline,
    pub plans: Vec<TablePlan>,
    pub target: Target,
}

pub fn load_context(file: &Path, target_flag: Option<&str>) -> Result<Context> {
    let mut pipeline = crate::config::load(file)?;
    plan::plan(&pipeline)?;
    resolve_auto_views(&mut pipeline)?;
    let plans = plan::plan(&pipeline)?;
    let url = connect::resolve_url(target_flag, pipeline.target.url.as_deref())?;
    let mut target = Target::parse(&url)?;
    target.lock_timeout = pipeline.defaults.lock_timeout.clone();
    Ok(Context {
        pipeline,
        plans,
        target,
    })
}

/// The views `init` refused only for a type (`action = "auto"`), decided
/// again over the mapping as it is now (docs/mapping.md, "Decisions init
/// made on its own"). A source that cannot be opened leaves them skipped
/// (`status` needs no source; `run` and `verify` then stop on it).
fn resolve_auto_views(p: &mut Pipeline) -> Result<()> {
    use crate::config::mapping::ViewAction;
    if !p.views.values().any(|v| v.action == ViewAction::Auto) {
        return Ok(());
    }
    match crate::sqlite::read::source::open_readonly(&p.source_path()) {
        Ok(conn) => crate::sqlite::sql::views::resolve_auto_views(&conn, p),
        Err(e) => {
            tracing::debug!("auto views left skipped: {e:#}");
            for v in p.views.values_mut() {
                if v.action == ViewAction::Auto {
                    v.action = ViewAction::Skip;
                }
            }
            Ok(())
        }
    }
}

/// What `run` reads from the source before it touches the target.
pub struct SourceFacts {
    /// Every column (hidden ones too) of each table of the mapping, by
    /// source name: what the rowid can be selected as.
    pub columns: HashMap<String, Vec<String>>,
    /// Chunk plans of the selected tables, by source name, when `prepare`
    /// is to run.
    pub chunks: HashMap<String, ChunkPlan>,
}

/// What every stage of one run works on.
#[derive(Clone, Copy)]
pub struct Scope<'a> {
    pub ctx: &'a Context,
    pub run_id: i64,
    /// The tables of this run (`--table`, else all of the mapping).
    pub selected: &'a [&'a TablePlan],
    /// The stages named with `--stage` (empty: every stage not yet done).
    pub only: &'a [Stage],
    /// Target tables holding rows may be emptied (`--truncate`).
    pub truncate: bool,
    /// The role that owns the tables the tool creates (`--owner`, else
    /// `target.owner`), checked to exist before the run starts.
    pub owner: Option<&'a str>,
    pub progress: bool,
    pub shutdown: &'a Shutdown,
    /// Asked before each commit whether the source is still the file the
    /// run started reading.
    pub guard: &'a SourceGuard,
}

impl Scope<'_> {
    /// Whether `stage` runs in this invocation.
    pub fn wants(&self, stage: Stage) -> bool {
        self.only.is_empty() || self.only.contains(&stage)
    }

    /// Whether `stage` was named explicitly (`--stage`): it is then redone
    /// even where it is recorded as done.
    pub fn named(&self, stage: Stage) -> bool {
        self.only.contains(&stage)
    }
}

/// The plan of `t` fitted to the target table as it is: its columns'
/// actual types (an application's table may differ from the mapping) and
/// NOT NULLs, so a NULL there is a reject of one row rather than a failed
/// COPY of a chunk. Used by the copy and by `verify`, so both encode alike.
pub async fn fitted_to_target(
    c: &impl tokio_postgres::GenericClient,
    t: &TablePlan,
) -> Result<TablePlan> {
    let mut plan = t.clone();
    fit_to_target(
        &mut plan,
        &catalog::column_types(c, &t.schema, &t.target).await?,
    )?;
    Ok(plan)
}

fn fit_to_target(plan: &mut TablePlan, actual: &[catalog::ColumnType]) -> Result<()> {
    let name = plan.qualified();
    let mut types = Vec::with_capacity(plan.columns.len());
    for col in &mut plan.columns {
        let (_, ty, not_null) = actual
            .iter()
            .find(|(n, _, _)| n == &col.target)
            .ok_or_else(|| anyhow!("target table {name} has no column {}", col.target))?;
        let ty = ty.clone().map_err(|e| {
            crate::error::blocked(format!("target column {name}.{}: {e}", col.target))
        })?;
        col.not_null |= *not_null;
        types.push((col.target.clone(), ty));
    }
    plan.retype(&types).map_err(crate::error::usage)
}
