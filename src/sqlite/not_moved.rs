//! What the source holds that no run moves, one sentence each with where
//! its data or logic is: views and triggers (with their SQL), and virtual
//! tables whose rows live elsewhere or nowhere. `init` writes them into the
//! mapping's warnings; `check` and `run` list them as not moved.

use crate::sqlite::vtab::{self, VirtualFate};
use anyhow::{Context, Result};
use rusqlite::Connection;

/// Views and triggers of the source, each with its SQL on one line: they
/// are not moved, and `init`, `check` and `run` say so by name (a trigger
/// left behind takes the table's own logic with it).
pub fn not_moved(conn: &Connection) -> Result<Vec<String>> {
    let mut out = skipped_virtual_tables(conn)?;
    out.extend(views_and_triggers(conn)?);
    Ok(out)
}

/// Virtual tables whose rows do not move (external content, contentless,
/// modules this build lacks), each with where its data is.
fn skipped_virtual_tables(conn: &Connection) -> Result<Vec<String>> {
    let mut st = conn
        .prepare(
            "SELECT l.name, coalesce(s.sql, '') FROM pragma_table_list l \
             JOIN sqlite_schema s ON s.name = l.name \
             WHERE l.schema = 'main' AND l.type = 'virtual' ORDER BY l.name",
        )
        .context("cannot read sqlite_schema")?;
    let virtuals: Vec<(String, String)> = st
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<rusqlite::Result<_>>()
        .context("cannot read sqlite_schema")?;
    let tables: Vec<String> = conn
        .prepare("SELECT name FROM pragma_table_list WHERE schema = 'main' AND type = 'table'")?
        .query_map([], |r| r.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    let exists = |t: &str| tables.iter().any(|n| n.eq_ignore_ascii_case(t));
    Ok(virtuals
        .into_iter()
        .filter_map(|(name, sql)| match vtab::fate(conn, &name, &sql, exists) {
            VirtualFate::Skipped { warning } => Some(warning),
            VirtualFate::Moves { .. } => None,
        })
        .collect())
}

pub(crate) fn views_and_triggers(conn: &Connection) -> Result<Vec<String>> {
    let mut st = conn
        .prepare(
            "SELECT type, name, tbl_name, coalesce(sql, '') FROM sqlite_schema \
             WHERE type IN ('view', 'trigger') ORDER BY type DESC, tbl_name, name",
        )
        .context("cannot read sqlite_schema")?;
    let rows = st
        .query_map([], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, String>(3)?,
            ))
        })?
        .collect::<rusqlite::Result<Vec<_>>>()
        .context("cannot read sqlite_schema")?;
    Ok(rows
        .into_iter()
        .map(|(kind, name, table, sql)| {
            let sql = sql.split_whitespace().collect::<Vec<_>>().join(" ");
            if kind == "trigger" {
                format!(
                    "trigger `{name}` on table `{table}` is not moved (recreate it in PostgreSQL by hand): {sql}"
                )
            } else {
                format!("view `{name}` is not moved (recreate it in PostgreSQL by hand): {sql}")
            }
        })
        .collect())
}
