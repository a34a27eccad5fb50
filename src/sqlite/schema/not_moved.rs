//! What the source holds that no run moves, one sentence each with where
//! its data or logic is: triggers and the views the mapping does not
//! create (with their SQL), and virtual tables whose rows live elsewhere or
//! nowhere. `init` writes them into the mapping's warnings; `check` and
//! `run` list them as not moved.

use crate::config::mapping::{Pipeline, ViewAction};
use crate::sqlite::schema::vtab::{self, VirtualFate};
use crate::sqlite::sql::views;
use anyhow::{Context, Result};
use rusqlite::Connection;

/// What a run of `p` leaves behind, one sentence each: virtual tables
/// whose rows live elsewhere, views the mapping does not create (with why),
/// and triggers with their SQL (a trigger left behind takes the table's own
/// logic with it).
pub fn not_moved(conn: &Connection, p: &Pipeline) -> Result<Vec<String>> {
    let mut out = skipped_virtual_tables(conn)?;
    out.extend(views_not_created(conn, p)?);
    out.extend(triggers(conn)?);
    Ok(out)
}

/// The sentence naming a view that is not moved, with the reason and its
/// SQL (on one line).
pub fn view_not_moved(name: &str, why: &str, sql: &str) -> String {
    let sql = sql.split_whitespace().collect::<Vec<_>>().join(" ");
    format!("view `{name}` is not moved ({why}; recreate it in PostgreSQL by hand): {sql}")
}

/// Views of the source the mapping does not create: skipped, or not in
/// `[views]` at all; each with the reason it was not translated.
fn views_not_created(conn: &Connection, p: &Pipeline) -> Result<Vec<String>> {
    let mut out = Vec::new();
    for v in views::propose(conn, p)? {
        let why = match (p.views.get(&v.name), &v.result) {
            (Some(m), _) if m.action != ViewAction::Skip => continue,
            (_, Err(why)) => why.clone(),
            (Some(_), Ok(_)) => "action = \"skip\" in the mapping".to_string(),
            (None, Ok(_)) => "the mapping has no [views] entry for it".to_string(),
        };
        out.push(view_not_moved(&v.name, &why, &v.source_sql));
    }
    Ok(out)
}

/// Virtual tables whose rows do not move (external content, contentless,
/// modules this build lacks), each with where its data is.
fn skipped_virtual_tables(conn: &Connection) -> Result<Vec<String>> {
    Ok(vtab::fates(conn)?
        .into_iter()
        .filter_map(|(_, fate)| match fate {
            VirtualFate::Skipped { warning } => Some(warning),
            VirtualFate::Moves { .. } => None,
        })
        .collect())
}

/// Triggers of the source, each with its SQL on one line: not moved, and
/// `init`, `check` and `run` say so by name.
pub(crate) fn triggers(conn: &Connection) -> Result<Vec<String>> {
    let mut st = conn
        .prepare(
            "SELECT name, tbl_name, coalesce(sql, '') FROM sqlite_schema \
             WHERE type = 'trigger' ORDER BY tbl_name, name",
        )
        .context("cannot read sqlite_schema")?;
    let rows = st
        .query_map([], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
            ))
        })?
        .collect::<rusqlite::Result<Vec<_>>>()
        .context("cannot read sqlite_schema")?;
    Ok(rows
        .into_iter()
        .map(|(name, table, sql)| {
            let sql = sql.split_whitespace().collect::<Vec<_>>().join(" ");
            format!(
                "trigger `{name}` on table `{table}` is not moved (recreate it in PostgreSQL by hand): {sql}"
            )
        })
        .collect())
}
