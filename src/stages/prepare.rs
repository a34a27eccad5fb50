//! `prepare`: before any row moves, create the target schema and every
//! missing table (no keys yet: `finalize` builds those after the data),
//! check that tables the application created fit the mapping, empty what
//! may be emptied, and record each table's chunk plan — one transaction per
//! table, so a crash leaves each table prepared or not.

use super::{ddl, Scope, SourceFacts};
use crate::config::mapping::IfNotEmpty;
use crate::config::plan::TablePlan;
use crate::error;
use crate::pg::catalog;
use crate::state::{self, Stage, Status};
use anyhow::{Context as _, Result};
use std::time::Instant;
use tokio_postgres::Client;

/// `prepare`: create missing target tables (no keys yet), check that existing
/// ones are safe to load, and record each table's chunk plan — all in one
/// transaction per table.
/// `emptying`: what [`refusals`] already found for a new run (whose tables
/// are all still to prepare), else it is found here.
pub async fn prepare(
    scope: Scope<'_>,
    client: &mut Client,
    facts: &SourceFacts,
    emptying: Option<Emptying>,
) -> Result<()> {
    let (run_id, selected) = (scope.run_id, scope.selected);
    let p = &scope.ctx.pipeline;
    let schema = &p.target.schema;
    let truncate_ok = scope.truncate || p.target.if_not_empty == IfNotEmpty::Truncate;
    client
        .batch_execute(&ddl::create_schema(schema))
        .await
        .with_context(|| format!("creating target schema {schema}"))?;
    state::set_stage(client, run_id, Stage::Prepare, "", Status::Running, None).await?;
    let explicit = scope.named(Stage::Prepare);
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
    }
    let emptying = match emptying {
        Some(e) => e,
        None => {
            refusals(
                &*client,
                &p.pipeline_name(),
                Some(run_id),
                &todo,
                truncate_ok,
            )
            .await?
        }
    };
    emptying.apply(client).await?;
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

/// What `prepare` will empty before it loads: tables that an earlier run
/// of this pipeline created are dropped (all in one statement, never
/// CASCADE) so they are recreated without the old keys, indexes and foreign
/// keys; other tables holding rows are emptied only with permission (all in
/// one TRUNCATE, never CASCADE).
pub struct Emptying {
    drop: Vec<String>,
    truncate: Vec<String>,
}

/// Everything in the target that makes `prepare` refuse, found without
/// writing anything: an application's table that does not fit the mapping,
/// or a table holding rows that may not be emptied. The run command asks
/// before it records a new run, so a refused run leaves no record behind;
/// `run_id` is `None` then.
pub async fn refusals(
    client: &Client,
    pipeline: &str,
    run_id: Option<i64>,
    todo: &[&TablePlan],
    truncate_ok: bool,
) -> Result<Emptying> {
    // No run has id 0: "not this run" then excludes nothing.
    let id = run_id.unwrap_or(0);
    let mut drop = Vec::new();
    let mut truncate = Vec::new();
    let mut refused = Vec::new();
    for t in todo {
        if !catalog::table_exists(client, &t.schema, &t.target).await? {
            continue;
        }
        if state::table_row(client, id, &t.source).await?.is_some() {
            continue; // this run's own table: handled per table
        }
        if let Some(loaded) =
            state::created_by_earlier_run(client, pipeline, id, &t.schema, &t.target).await?
        {
            // Ours — unless someone wrote to it since: then it is not ours
            // to drop.
            let now = catalog::row_count(client, &t.qualified()).await?;
            if now != loaded && !truncate_ok {
                refused.push(format!(
                    "{} (an earlier run loaded {loaded} rows, it now has {now})",
                    t.qualified()
                ));
                continue;
            }
            drop.push(t.qualified());
        } else {
            check_existing_columns(client, t).await?;
            if catalog::has_rows(client, &t.qualified()).await? {
                if truncate_ok {
                    truncate.push(t.qualified());
                } else {
                    refused.push(t.qualified());
                }
            }
        }
    }
    if !refused.is_empty() {
        let (what, verb, them) = if refused.len() == 1 {
            ("table", "holds", "it")
        } else {
            ("tables", "hold", "them")
        };
        return Err(error::blocked(format!(
            "target {what} {} already {verb} rows that this pipeline did not load (or that changed since it did); refusing to overwrite {them}. \
             Set target.if_not_empty = \"truncate\" or pass --truncate to empty {them} first",
            refused.join(", ")
        )));
    }
    Ok(Emptying { drop, truncate })
}

impl Emptying {
    async fn apply(self, client: &mut Client) -> Result<()> {
        let Emptying { drop, truncate } = self;
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
    // A type with no encoder yet (money, macaddr, a range, a composite …):
    // said before anything is written, never found halfway through a load.
    let unloadable: Vec<String> = t
        .columns
        .iter()
        .filter_map(|col| {
            let (_, ty, _) = actual.iter().find(|(n, _, _)| n == &col.target)?;
            ty.as_ref()
                .err()
                .map(|e| format!("{} (source {}): {e}", col.target, col.source))
        })
        .collect();
    if !unloadable.is_empty() {
        problems.push(format!(
            "column(s) of a type this tool cannot load: {} — set `include = false` for them and fill them afterwards, \
             or change the column's type",
            unloadable.join("; ")
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
        Err(error::usage(format!(
            "target table {} exists (created by the application?) but does not match the mapping:\n  {}",
            t.qualified(),
            problems.join("\n  ")
        )))
    }
}
