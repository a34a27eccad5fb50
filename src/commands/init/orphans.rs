//! `init`: foreign-key orphans of the source, counted per mapped key
//! (`sqlite::read::fk_check`) and written into that key's mapping entry as
//! `orphans = N`, with a warning, so the operator acknowledges them on
//! review.

use crate::config::mapping::{ColumnMap, ForeignKeyDef, OrderedMap, Pipeline};
use crate::sqlite::read::fk_check::{self, FkOrphans};
use anyhow::Result;
use rusqlite::Connection;

/// The comment `render` puts above an `orphans` line.
pub const COMMENT: &str =
    "# orphans: rows of the source whose key has no parent row (SQLite did not enforce it).\n\
# They all load and the key is added NOT VALID (PostgreSQL enforces it for new rows).\n\
# This line acknowledges them; more orphans than this at run time fail the run (exit 3).\n";

/// Count the orphans of every mapped foreign key; each key with orphans
/// gets `orphans = N` and a warning naming it.
pub fn acknowledge(conn: &Connection, p: &mut Pipeline, warnings: &mut Vec<String>) -> Result<()> {
    for (name, tm) in &mut p.table_maps {
        if !tm.include || tm.foreign_keys.is_empty() {
            continue;
        }
        let found = fk_check::orphans(conn, name)?;
        let columns = &tm.columns;
        for fk in &mut tm.foreign_keys {
            if fk.references_target.is_some() {
                continue;
            }
            let Some(cols) = source_columns(columns, fk) else {
                continue;
            };
            let Some(k) = found.iter().find(|k| k.is_key(&cols, &fk.references)) else {
                continue;
            };
            if k.count == 0 {
                continue;
            }
            fk.orphans = Some(k.count);
            warnings.push(warning(name, fk, k));
        }
    }
    Ok(())
}

/// The source column names of a key's (target) columns.
fn source_columns(columns: &OrderedMap<ColumnMap>, fk: &ForeignKeyDef) -> Option<Vec<String>> {
    fk.columns
        .iter()
        .map(|t| {
            columns
                .iter()
                .find(|(s, c)| c.target.as_deref().unwrap_or(s.as_str()) == t)
                .map(|(s, _)| s.clone())
        })
        .collect()
}

fn warning(table: &str, fk: &ForeignKeyDef, k: &FkOrphans) -> String {
    format!(
        "`{table}`: foreign key {} {}: {} row(s) reference no parent row (SQLite did not enforce it); \
         they all load and the key is added NOT VALID (PostgreSQL enforces it for new rows). \
         The mapping says `orphans = {}` to acknowledge them; fix or delete those rows in the source \
         and remove the line to have the key validated",
        fk.name.as_deref().unwrap_or("(unnamed)"),
        k.shown(table),
        k.count,
        k.count
    )
}
