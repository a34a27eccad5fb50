//! `prepare`: before any row moves, create the target schema and every
//! missing table (no keys yet: `finalize` builds those after the data),
//! check that tables the application created fit the mapping, empty what
//! may be emptied, and record each table's chunk plan — one transaction per
//! table, so a crash leaves each table prepared or not.

use super::content;
use super::{ddl, Scope, SourceFacts};
use crate::config::mapping::IfNotEmpty;
use crate::config::plan::TablePlan;
use crate::error;
use crate::pg::catalog;
use crate::pg::ident::quote;
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
    scope: &Scope<'_>,
    client: &mut Client,
    facts: &SourceFacts,
    emptying: Option<Emptying>,
) -> Result<PrepareOutcome> {
    let (run_id, selected) = (scope.run_id, scope.selected);
    let p = &scope.ctx.pipeline;
    let schema = &p.target.schema;
    let truncate_ok = scope.truncate || p.target.if_not_empty == IfNotEmpty::Truncate;
    client
        .execute(&ddl::create_schema(schema, scope.owner), &[])
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
    let prepared = todo.iter().map(|t| t.source.clone()).collect();
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
                &scope.ctx.plans,
                truncate_ok,
            )
            .await?
        }
    };
    if !emptying.drop.is_empty() {
        // The pipeline's own views read the tables dropped next; finalize
        // creates them again.
        crate::stages::views::drop_views(client, &crate::config::plan::views(p)).await?;
    }
    emptying.apply(client).await?;
    for (t, chunks) in todo.into_iter().zip(plans) {
        let total: u64 = chunks.iter().map(|c| c.2).sum();
        // A default PostgreSQL refuses is dropped, named, rather than
        // failing CREATE TABLE.
        let without_refused = super::defaults::checked(&*client, t).await?;
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
                tx.execute(&format!("TRUNCATE {}", t.qualified()), &[])
                    .await
                    .with_context(|| {
                        format!(
                            "emptying target table {} (a table other tables reference cannot be truncated alone)",
                            t.qualified()
                        )
                    })?;
            }
        } else {
            tx.execute(
                &ddl::create_table(without_refused.as_ref().unwrap_or(t)),
                &[],
            )
            .await
            .with_context(|| format!("creating target table {}", t.qualified()))?;
            if let Some(role) = scope.owner {
                // Its identity and serial sequences follow the table.
                tx.execute(&ddl::owner_to(t, role), &[])
                    .await
                    .with_context(|| format!("giving {} to role {role}", t.qualified()))?;
            }
        }
        let row = state::TableRow {
            source_table: t.source.clone(),
            target_table: t.target.clone(),
            preexisting,
            source_rows: total as i64,
            chunks_total: chunks.len() as i32,
        };
        state::record_plan(&tx, run_id, &row, &chunks).await?;
        let rule = crate::config::rows_rule::rows_rule(t);
        state::set_rows_rule(&tx, run_id, &t.source, &rule).await?;
        state::reset_stage(&tx, run_id, Stage::Copy, Some(&t.source)).await?;
        state::reset_stage(&tx, run_id, Stage::Finalize, Some(&t.source)).await?;
        state::set_stage(&tx, run_id, Stage::Prepare, &t.source, Status::Done, None).await?;
        tx.commit().await?;
    }
    state::set_stage(client, run_id, Stage::Prepare, "", Status::Done, None).await?;
    tracing::info!("prepare done ({:.1}s)", t_prepare.elapsed().as_secs_f64());
    Ok(PrepareOutcome { prepared })
}

/// What `prepare` did.
#[derive(Debug, Default)]
pub struct PrepareOutcome {
    /// The tables prepared by this invocation (source names); the others
    /// selected were prepared earlier in the run.
    pub prepared: Vec<String>,
}

/// What `prepare` will empty before it loads: tables that an earlier run
/// of this pipeline created are dropped (all in one statement, never
/// CASCADE) so they are recreated without the old keys, indexes and foreign
/// keys; other tables holding rows are emptied only with permission, in one
/// TRUNCATE (never CASCADE) that also names every table a foreign key makes
/// it take along (see [`refusals`]), each listed with why before anything
/// is emptied.
pub struct Emptying {
    drop: Vec<String>,
    truncate: Vec<Emptied>,
}

/// One table of the TRUNCATE, and why it is in it.
struct Emptied {
    table: String,
    why: String,
}

/// Everything in the target that makes `prepare` refuse, found without
/// writing anything: an application's table that does not fit the mapping,
/// or a table holding rows that may not be emptied. The run command asks
/// before it records a new run, so a refused run leaves no record behind;
/// `run_id` is `None` then.
///
/// With permission to empty (`truncate_ok`), PostgreSQL truncates a table
/// only together with every table whose foreign key references it, so the
/// TRUNCATE takes along, transitively: the pipeline's tables that
/// reference one (`all` is the whole mapping); an empty table outside the
/// pipeline (emptying it loses nothing, and it is listed). A table that
/// holds rows and references one — outside the pipeline, or not selected
/// by `--table` — refuses the run (exit 4) before anything is emptied,
/// naming it, its foreign key and what to do.
pub async fn refusals(
    client: &Client,
    pipeline: &str,
    run_id: Option<i64>,
    todo: &[&TablePlan],
    all: &[TablePlan],
    truncate_ok: bool,
) -> Result<Emptying> {
    // A foreign key to an outside table that must exist (no if_exists):
    // said before any row moves, not after the copy.
    let mut missing = Vec::new();
    for t in todo {
        for fk in t.foreign_keys.iter().filter(|f| f.outside && !f.if_exists) {
            missing.extend(super::finalize::missing_outside_table(client, t, fk).await?);
        }
    }
    if !missing.is_empty() {
        return Err(error::blocked(format!(
            "{}. Create the table first (the application's migrations?), or set if_exists = true \
             on the foreign key to load without it",
            missing.join("; ")
        )));
    }
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
        if let Some((earlier, loaded_from)) =
            state::created_by_earlier_run(client, pipeline, id, &t.schema, &t.target).await?
        {
            // Ours — unless someone wrote to it since (its rows are not
            // exactly the ones that run loaded): then it is not ours to
            // drop.
            if !truncate_ok {
                if let Some(how) =
                    content::changed_since_load(client, earlier, &loaded_from, t).await?
                {
                    refused.push(format!("{} ({how})", t.qualified()));
                    continue;
                }
            }
            drop.push(t.qualified());
        } else {
            check_existing_columns(client, t).await?;
            if catalog::has_rows(client, &t.qualified()).await? {
                if truncate_ok {
                    truncate.push(Emptied {
                        table: t.qualified(),
                        why: "holds rows; selected".into(),
                    });
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
    if !truncate.is_empty() {
        take_along_referencing(client, todo, all, &drop, &mut truncate).await?;
    }
    Ok(Emptying { drop, truncate })
}

/// Adds to `truncate`, transitively, every table whose foreign key
/// references one in it (PostgreSQL refuses a TRUNCATE that leaves one
/// out), or refuses when such a table holds rows the operator did not ask
/// to empty.
async fn take_along_referencing(
    client: &Client,
    todo: &[&TablePlan],
    all: &[TablePlan],
    drop: &[String],
    truncate: &mut Vec<Emptied>,
) -> Result<()> {
    let mut blocked = Vec::new();
    let mut i = 0;
    while i < truncate.len() {
        let parent = truncate[i].table.clone();
        i += 1;
        for (schema, table, fk) in catalog::referencing(client, &parent).await? {
            let q = crate::pg::ident::qualified(&schema, &table);
            if truncate.iter().any(|e| e.table == q) || drop.contains(&q) {
                continue;
            }
            let plan = all.iter().find(|p| p.schema == schema && p.target == table);
            let selected = todo.iter().any(|p| p.schema == schema && p.target == table);
            let rows = catalog::has_rows(client, &q).await?;
            let via = format!("references {parent} (foreign key {})", quote(&fk));
            match (plan, rows) {
                (Some(_), _) if selected => truncate.push(Emptied {
                    table: q,
                    why: format!("{}; selected, {via}", if rows { "holds rows" } else { "empty" }),
                }),
                (Some(_), false) => truncate.push(Emptied {
                    table: q,
                    why: format!("empty; a pipeline table not selected, {via}"),
                }),
                (Some(p), true) => blocked.push(format!(
                    "{q} {via} and holds rows, but --table did not select it: select it too (--table {}) \
                     so it is emptied and reloaded, or run without --table",
                    p.source
                )),
                (None, false) => truncate.push(Emptied {
                    table: q,
                    why: format!("empty; outside the pipeline, {via}"),
                }),
                (None, true) => blocked.push(format!(
                    "{q} is not in the pipeline, holds rows, and {via}: a TRUNCATE must empty it too, \
                     and this tool empties no table outside the pipeline that holds rows. \
                     Empty it yourself if its rows can go (TRUNCATE {q}), or drop that foreign key \
                     (ALTER TABLE {q} DROP CONSTRAINT {}), or leave {parent} out of the pipeline (include = false)",
                    quote(&fk)
                )),
            }
        }
    }
    if blocked.is_empty() {
        return Ok(());
    }
    Err(error::blocked(format!(
        "--truncate would empty {}, but nothing was emptied:\n  {}",
        truncate
            .iter()
            .map(|e| e.table.as_str())
            .collect::<Vec<_>>()
            .join(", "),
        blocked.join("\n  ")
    )))
}

impl Emptying {
    async fn apply(self, client: &mut Client) -> Result<()> {
        let Emptying { drop, truncate } = self;
        let tx = client.transaction().await?;
        if !drop.is_empty() {
            tx.execute(&format!("DROP TABLE {}", drop.join(", ")), &[])
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
            let names: Vec<&str> = truncate.iter().map(|e| e.table.as_str()).collect();
            let lines: Vec<String> = truncate
                .iter()
                .map(|e| format!("{} ({})", e.table, e.why))
                .collect();
            tracing::warn!(
                "--truncate: emptying {} table(s) in one TRUNCATE:\n  {}",
                truncate.len(),
                lines.join("\n  ")
            );
            tx.execute(&format!("TRUNCATE {}", names.join(", ")), &[])
                .await
                .with_context(|| format!("emptying {}", names.join(", ")))?;
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
