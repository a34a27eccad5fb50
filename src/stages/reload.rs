//! A partial reload (docs/operations.md, "Redoing one table"): `--table X`
//! with `--stage copy` or `--fresh` takes along the pipeline's tables that
//! reference X, directly or not, since PostgreSQL empties a referenced
//! table only together with the tables that reference it. Before the copy
//! of such a reload, in one transaction: the foreign keys of the tables
//! this tool created are dropped (finalize adds them again), every table is
//! emptied by one TRUNCATE (never CASCADE), and their chunks are pending
//! again. Everything that can refuse is checked first, writing nothing.

use crate::config::plan::TablePlan;
use crate::error;
use crate::pg::catalog;
use crate::pg::ident::{qualified, quote};
use crate::state::{self, Stage};
use anyhow::{Context as _, Result};
use tokio_postgres::Client;

/// The pipeline's tables (source names, in mapping order) that reference
/// one of `named`, directly or not, and are not among them.
pub fn referencing_closure(plans: &[TablePlan], named: &[String]) -> Vec<String> {
    let mut chosen: Vec<&TablePlan> = plans.iter().filter(|p| named.contains(&p.source)).collect();
    let mut added = Vec::new();
    loop {
        let more: Vec<&TablePlan> = plans
            .iter()
            .filter(|p| !chosen.iter().any(|c| c.source == p.source))
            .filter(|p| {
                p.foreign_keys.iter().any(|fk| {
                    !fk.outside
                        && chosen
                            .iter()
                            .any(|c| c.target == fk.ref_table && c.schema == p.schema)
                })
            })
            .collect();
        if more.is_empty() {
            break;
        }
        added.extend(more.iter().map(|p| p.source.clone()));
        chosen.extend(more);
    }
    plans
        .iter()
        .filter(|p| added.contains(&p.source))
        .map(|p| p.source.clone())
        .collect()
}

/// `--table X` empties X, which PostgreSQL allows only together with the
/// tables whose foreign keys reference it: the pipeline's tables that do,
/// directly or not, are added to `tables`, and said.
pub fn take_along(plans: &[TablePlan], tables: &mut Vec<String>) {
    if tables.is_empty() {
        return;
    }
    let more = referencing_closure(plans, tables);
    if more.is_empty() {
        return;
    }
    tracing::info!(
        "--table {}: also reloading {} (they reference it, directly or not, and PostgreSQL \
         empties a referenced table only together with them)",
        tables.join(", "),
        more.join(", ")
    );
    tables.extend(more);
}

/// What a partial reload empties, found before anything is written.
pub struct Reload {
    /// Every table of the one TRUNCATE: the selected ones, and empty tables
    /// outside the pipeline that reference one of them.
    truncate: Vec<String>,
    /// Foreign keys dropped for finalize to add again, as (table, name).
    foreign_keys: Vec<(String, String)>,
    /// The selected tables (source names): their chunks pending again.
    sources: Vec<String>,
}

/// The reload of `selected` when `--stage copy` names one whose copy
/// run `run_id` completed (`None` when none is), or a refusal naming why,
/// with nothing written: a table someone changed since the run loaded it
/// (unless `truncate`), or a table outside the pipeline that holds rows and
/// references one of them.
pub async fn plan(
    client: &Client,
    run_id: i64,
    selected: &[&TablePlan],
    truncate: bool,
) -> Result<Option<Reload>> {
    let mut loaded = false;
    for t in selected {
        loaded |= state::stage_done(client, run_id, Stage::Copy, &t.source).await?
            && state::chunks(client, run_id, &t.source, false)
                .await?
                .is_empty();
    }
    if !loaded {
        return Ok(None);
    }
    let r = plan_tables(client, run_id, selected, truncate).await?;
    Ok((!r.truncate.is_empty()).then_some(r))
}

async fn plan_tables(
    client: &Client,
    run_id: i64,
    selected: &[&TablePlan],
    truncate: bool,
) -> Result<Reload> {
    let mut refused = Vec::new();
    let mut reload = Reload {
        truncate: Vec::new(),
        foreign_keys: Vec::new(),
        sources: Vec::new(),
    };
    for t in selected {
        let Some(row) = state::table_row(client, run_id, &t.source).await? else {
            continue; // not prepared by this run: nothing to empty
        };
        if !catalog::table_exists(client, &t.schema, &t.target).await? {
            continue;
        }
        if !truncate {
            if let Some(how) =
                super::content::changed_since_load(client, run_id, &t.source, t).await?
            {
                refused.push(format!(
                    "target table {} changed since run {run_id} loaded it: {how}; \
                     pass --truncate to replace it anyway",
                    t.qualified()
                ));
            }
        }
        reload.truncate.push(t.qualified());
        reload.sources.push(t.source.clone());
        if !row.preexisting {
            for fk in &t.foreign_keys {
                reload.foreign_keys.push((t.qualified(), fk.name.clone()));
            }
        }
    }
    let ours = reload.truncate.clone();
    for parent in &ours {
        for (schema, table, fk) in catalog::referencing(client, parent).await? {
            let q = qualified(&schema, &table);
            if reload.truncate.contains(&q) {
                continue;
            }
            if catalog::has_rows(client, &q).await? {
                refused.push(format!(
                    "{q} is not in the pipeline, holds rows, and references {parent} (foreign key {}): \
                     a TRUNCATE must empty it too, and this tool empties no table outside the pipeline \
                     that holds rows. Empty it yourself if its rows can go, or drop that foreign key",
                    quote(&fk)
                ));
            } else {
                reload.truncate.push(q);
            }
        }
    }
    if !refused.is_empty() {
        return Err(error::blocked(format!(
            "refusing the reload; nothing was emptied and the run's record is unchanged:\n  {}",
            refused.join("\n  ")
        )));
    }
    Ok(reload)
}

impl Reload {
    /// Whether it drops foreign keys (finalize must add them again).
    pub fn drops_keys(&self) -> bool {
        !self.foreign_keys.is_empty()
    }

    /// The foreign keys dropped, every table emptied in one TRUNCATE, their
    /// chunks pending and their copy and finalize not done: one transaction.
    pub async fn apply(&self, client: &mut Client, run_id: i64) -> Result<()> {
        let tx = client.transaction().await?;
        for (table, fk) in &self.foreign_keys {
            tx.batch_execute(&format!(
                "ALTER TABLE {table} DROP CONSTRAINT IF EXISTS {}",
                quote(fk)
            ))
            .await
            .with_context(|| format!("dropping foreign key {fk} of {table} for the reload"))?;
        }
        let names = self.truncate.join(", ");
        tx.batch_execute(&format!("TRUNCATE {names}"))
            .await
            .with_context(|| format!("emptying {names} for the reload"))?;
        for s in &self.sources {
            state::reset_chunks(&tx, run_id, s).await?;
            state::reset_stage(&tx, run_id, Stage::Copy, Some(s)).await?;
            state::reset_stage(&tx, run_id, Stage::Finalize, Some(s)).await?;
        }
        tx.commit().await?;
        tracing::info!(
            "reload: emptied {names} in one TRUNCATE{}; the copy loads them again and finalize adds their keys",
            if self.foreign_keys.is_empty() {
                String::new()
            } else {
                format!(" ({} foreign key(s) dropped first)", self.foreign_keys.len())
            }
        );
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::mapping::Pipeline;
    use std::path::Path;

    /// The pipeline's tables: each `(name, the tables it references)`.
    fn plans(tables: &[(&str, &[&str])]) -> Vec<TablePlan> {
        let mut toml =
            String::from("[source]\npath = \"x.db\"\n[target]\nurl = \"postgres://localhost/x\"\n");
        for (name, refs) in tables {
            toml.push_str(&format!(
                "[tables.{name}]\nprimary_key = [\"id\"]\n[tables.{name}.columns]\n\
                 id = {{ type = \"bigint\" }}\n"
            ));
            for r in *refs {
                toml.push_str(&format!("{r}_id = {{ type = \"bigint\" }}\n"));
            }
            for r in *refs {
                toml.push_str(&format!(
                    "[[tables.{name}.foreign_keys]]\ncolumns = [\"{r}_id\"]\nreferences = \"{r}\"\n"
                ));
            }
        }
        let p = Pipeline::parse(&toml, Path::new("t.toml")).unwrap();
        crate::config::plan::plan(&p).unwrap()
    }

    #[test]
    fn the_closure_takes_every_table_that_references_directly_or_not() {
        let plans = plans(&[
            ("Artist", &[]),
            ("Album", &["Artist"]),
            ("Genre", &[]),
            ("Track", &["Album", "Genre"]),
            ("InvoiceLine", &["Track"]),
            ("Playlist", &[]),
            ("PlaylistTrack", &["Track", "Playlist"]),
        ]);
        assert_eq!(
            referencing_closure(&plans, &["Artist".into()]),
            ["Album", "Track", "InvoiceLine", "PlaylistTrack"]
        );
        assert!(referencing_closure(&plans, &["InvoiceLine".into()]).is_empty());
    }
}
