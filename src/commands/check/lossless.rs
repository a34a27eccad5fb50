//! `check`'s proof of the upgrades `init` chose on its own (`auto = true`
//! columns; docs/conversions.md, "The lossless rule"): every cell,
//! converted by `run`'s own converter, must read back the same. A uuid's
//! PostgreSQL text must be the source text; a jsonb document must keep its
//! numbers and keys. Booleans, dates and times are equal by value whenever
//! they convert at all, and a cell that does not is a reject, counted by
//! the dry run already.

use super::shorten;
use crate::config::plan::TablePlan;
use crate::convert::jsonb_changes;
use crate::pg::types::PgType;
use crate::pg::value::Value;
use crate::sqlite::sql::quote::sqlite_quote;
use anyhow::{Context, Result};
use rusqlite::types::ValueRef;
use rusqlite::Connection;
use serde::Serialize;

/// An `auto` column some of whose cells would not read back the same.
#[derive(Debug, Clone, Serialize)]
pub struct Lossy {
    pub column: String,
    #[serde(rename = "type")]
    pub ty: String,
    /// Rows whose cell would read back otherwise.
    pub count: u64,
    /// The first of them: `rowid 3: `ABC…` reads back `abc…``.
    pub example: String,
}

/// The `auto` uuid and jsonb columns of `t` whose cells would not read
/// back the same; one read of each such column (no other column is read).
pub fn lossy_upgrades(conn: &Connection, t: &TablePlan, rowid: Option<&str>) -> Result<Vec<Lossy>> {
    let mut out = Vec::new();
    let auto = t
        .columns
        .iter()
        .filter(|c| c.auto && matches!(c.ty, PgType::Uuid | PgType::Jsonb));
    for c in auto {
        let col = sqlite_quote(&c.source);
        let sql = format!(
            "SELECT {}, {col} FROM {} WHERE {col} IS NOT NULL{}",
            rowid.unwrap_or("NULL"),
            sqlite_quote(&t.source),
            t.filter_clause("AND")
        );
        let context = || format!("checking column {} of source table {}", c.source, t.source);
        let mut st = conn.prepare(&sql).with_context(context)?;
        let mut rows = st.query([]).with_context(context)?;
        let (mut n, mut count, mut example) = (0u64, 0u64, None);
        while let Some(r) = rows.next().with_context(context)? {
            n += 1;
            let ValueRef::Text(b) = r.get_ref(1)? else {
                continue;
            };
            let Ok(text) = std::str::from_utf8(b) else {
                continue;
            };
            let changed = match c.converter.convert_ref(ValueRef::Text(b)) {
                Ok(Value::Uuid(u)) => {
                    let back = u.to_string();
                    (back != text).then(|| format!("reads back `{back}`"))
                }
                Ok(Value::Json(_)) => jsonb_changes(text).map(|why| format!("holds {why}")),
                _ => None,
            };
            let Some(how) = changed else {
                continue;
            };
            count += 1;
            if example.is_none() {
                let row = match r.get::<_, Option<i64>>(0)? {
                    Some(id) => format!("rowid {id}"),
                    None => format!("row {n}"),
                };
                example = Some(format!("{row}: `{}` {how}", shorten(text)));
            }
        }
        if let Some(example) = example {
            tracing::warn!(
                "table {}, column {}: init's upgrade to {} would not read back the same in {count} row(s), e.g. {example}",
                t.source,
                c.source,
                c.ty
            );
            out.push(Lossy {
                column: c.source.clone(),
                ty: c.ty.to_string(),
                count,
                example,
            });
        }
    }
    Ok(out)
}
