//! `finalize`: keys, indexes, constraints, sequences and statistics, built
//! after the data is in, in parallel over several connections:
//!
//! 1. every index build — each primary key's unique index included — at once
//!    (`CREATE INDEX` takes a SHARE lock, so builds on one table run
//!    side by side);
//! 2. per table: the primary key attached `USING INDEX` (metadata only) and
//!    the CHECK constraints;
//! 3. foreign keys added `NOT VALID`, one after another (each locks two
//!    tables briefly; in sequence they cannot deadlock);
//!    A key whose orphans the mapping acknowledges (`orphans = N`) is not
//!    validated; its orphans are counted after step 4 instead. A key whose
//!    validation finds orphan rows is not a failure either: it stays NOT
//!    VALID, its orphans are counted, and more than acknowledged leave the
//!    table's finalize failed, for the run to exit 3 naming the key;
//! 4. per table, tables in parallel: its foreign keys validated, sequences
//!    moved past the loaded maximum, ANALYZE. `VALIDATE CONSTRAINT` locks
//!    its own table against ANALYZE but the referenced table only against
//!    writes, so one table's validation (a single-threaded join) runs beside
//!    the other tables' statistics instead of before them.
//!
//! 5. the views (`views`), with `CREATE OR REPLACE VIEW`.
//!
//! Every step is skipped when its object exists, so finalize can be rerun
//! after a crash at any point.
//!
//! The driver [`finalize`] plans ([`plan`]: what the catalog holds is read,
//! the missing steps made from it), executes ([`builds`] runs the steps,
//! [`checks`] the CHECKs, [`orphans`] weighs the keys rows break), records
//! each table's result, then creates the views.

mod builds;
mod checks;
mod orphans;
mod plan;

pub use builds::{run_step, Builds, Step};
pub use orphans::count_orphans;
pub use plan::{key_steps, missing_outside_table};

use super::views::{self, ViewsOutcome};
use super::Scope;
use crate::config::plan::ViewPlan;
use crate::error;
use crate::state::{self, Stage, Status};
use crate::ui::progress::Steps;
use anyhow::{Context, Result};
use builds::{run_chains, run_parallel};
use plan::{FinalizePlan, Todo};
use std::collections::HashMap;
use std::time::Instant;
use tokio_postgres::Client;

/// What finalize leaves for the run to decide on.
#[derive(Debug, Default)]
pub struct FinalizeOutcome {
    /// Foreign keys left NOT VALID because loaded rows break them and the
    /// mapping does not acknowledge that many orphans, one sentence each
    /// (key, count, what to do): the run exits 3.
    pub unacknowledged: Vec<String>,
    /// What became of the mapping's views.
    pub views: ViewsOutcome,
}

pub async fn finalize(scope: &Scope<'_>, client: &mut Client) -> Result<FinalizeOutcome> {
    let t0 = Instant::now();
    let run_id = scope.run_id;
    state::set_stage(client, run_id, Stage::Finalize, "", Status::Running, None).await?;
    let tables = tables_to_finalize(scope, client).await?;
    let plan = FinalizePlan::read(client, &tables).await?;
    // One bar: steps done of all planned, and what is being built.
    let steps = Steps::new("finalize", plan.statements() as u64);
    let builds = Builds::new(&scope.ctx.target, &scope.ctx.pipeline.defaults)
        .stopping_on(scope.shutdown)
        .advancing(steps.clone());
    let found = execute(&builds, client, &tables, plan).await?;
    let unacknowledged = record_tables(client, run_id, &tables, &found).await?;
    // 5. The views, over the loaded tables.
    let views = views::create_views(client, &views_of(scope)).await?;
    let status = if unacknowledged.is_empty() {
        Status::Done
    } else {
        Status::Failed
    };
    state::set_stage(client, run_id, Stage::Finalize, "", status, None).await?;
    steps.finish();
    let (done, _) = steps.position();
    tracing::info!(
        "finalize done: {done} steps ({:.1}s)",
        t0.elapsed().as_secs_f64()
    );
    Ok(FinalizeOutcome {
        unacknowledged,
        views,
    })
}

/// The selected tables not finalized yet, each copied (or finalize refuses).
async fn tables_to_finalize<'a>(scope: &Scope<'a>, client: &Client) -> Result<Vec<Todo<'a>>> {
    let run_id = scope.run_id;
    let mut todo = Vec::new();
    for t in scope.selected {
        if state::stage_done(client, run_id, Stage::Finalize, &t.source).await? {
            continue;
        }
        if !state::stage_done(client, run_id, Stage::Copy, &t.source).await? {
            return Err(error::usage(format!(
                "table {} has not been copied yet; finalize needs every selected table copied \
                 (run without --stage, or with --stage copy first)",
                t.source
            )));
        }
        let preexisting = state::table_row(client, run_id, &t.source)
            .await?
            .map(|r| r.preexisting)
            .unwrap_or(true);
        todo.push(Todo {
            table: t,
            ours: !preexisting,
        });
    }
    Ok(todo)
}

/// What finalize says per table (by source name), in the order found.
#[derive(Default)]
struct Notes(HashMap<String, Vec<String>>);

impl Notes {
    fn add(&mut self, table: &str, note: String) {
        self.0.entry(table.to_string()).or_default().push(note);
    }

    fn of(&self, table: &str) -> Option<&[String]> {
        self.0.get(table).map(Vec::as_slice)
    }
}

/// What executing the plan found: what finalize did not do, per table
/// (CHECKs left out or NOT VALID, foreign keys to outside tables that are
/// not there, orphans acknowledged), and the keys whose orphans the mapping
/// does not acknowledge.
struct Found {
    notes: Notes,
    unacknowledged: Notes,
}

/// Steps 1-4 of the module's header, in order.
async fn execute(
    b: &Builds,
    client: &Client,
    tables: &[Todo<'_>],
    plan: FinalizePlan,
) -> Result<Found> {
    let workers = b.workers();
    // 1. Index builds, all in parallel.
    run_parallel(b, plan.builds, workers).await?;
    // 2. Primary keys attached, per table, tables in parallel; then the
    // CHECKs, table by table.
    run_parallel(b, plan.attach, workers).await?;
    let mut notes = Notes::default();
    for todo in tables.iter().filter(|t| t.ours) {
        for note in checks::add(client, todo.table).await? {
            tracing::warn!("{note}");
            notes.add(&todo.table.source, note);
        }
    }
    for (table, note) in plan.left_out {
        tracing::warn!("{note}");
        notes.add(&table, note);
    }
    // 3. Foreign keys added NOT VALID (catalog only), in sequence; 4. each
    // table's chain: validate its foreign keys, sequences, statistics.
    run_parallel(b, plan.foreign_keys, 1).await?;
    let mut with_orphans = run_chains(b, plan.chains, workers).await?;
    with_orphans.extend(plan.acknowledged);
    let mut unacknowledged = Notes::default();
    orphans::weigh(
        client,
        tables,
        &with_orphans,
        &mut notes,
        &mut unacknowledged,
    )
    .await?;
    Ok(Found {
        notes,
        unacknowledged,
    })
}

/// Each table's finalize recorded with its notes; the sentences of the keys
/// whose orphans the mapping does not acknowledge returned, in table order.
async fn record_tables(
    client: &Client,
    run_id: i64,
    tables: &[Todo<'_>],
    found: &Found,
) -> Result<Vec<String>> {
    let mut unacknowledged = Vec::new();
    for todo in tables {
        let source = &todo.table.source;
        let (status, note) = match found.unacknowledged.of(source) {
            // Not done: a rerun counts its orphans again (after the mapping
            // acknowledges them, it finishes).
            Some(u) => {
                unacknowledged.extend_from_slice(u);
                (Status::Failed, Some(u.join("; ")))
            }
            None => (Status::Done, found.notes.of(source).map(|n| n.join("; "))),
        };
        state::set_stage(
            client,
            run_id,
            Stage::Finalize,
            source,
            status,
            note.as_deref(),
        )
        .await
        .with_context(|| format!("recording finalize of {source}"))?;
    }
    Ok(unacknowledged)
}

/// The mapping's views, owned by the run's owner role.
fn views_of(scope: &Scope<'_>) -> Vec<ViewPlan> {
    let mut views = crate::config::plan::views(&scope.ctx.pipeline);
    for v in &mut views {
        v.owner = scope.owner.map(str::to_string);
    }
    views
}
