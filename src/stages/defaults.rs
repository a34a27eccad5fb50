//! `prepare`'s test of column defaults before `CREATE TABLE`: a default the
//! column's type cannot hold (a hand-edited mapping, a type changed after
//! `init`, a date PostgreSQL has no day for) would fail the whole
//! statement. Each is evaluated once as `CAST((default) AS type)`; one
//! PostgreSQL refuses is dropped with a warning naming table, column and
//! the reason, and the table is created without it.

use crate::config::plan::TablePlan;
use crate::error;
use anyhow::Result;
use tokio_postgres::Client;

/// `t` without the defaults PostgreSQL refuses for their columns' types
/// (`None`: every default is fine, use `t` as it is). Each dropped one is
/// logged as a warning.
pub async fn checked(client: &Client, t: &TablePlan) -> Result<Option<TablePlan>> {
    let mut fixed: Option<TablePlan> = None;
    let loaded = t
        .columns
        .iter()
        .enumerate()
        .filter(|(_, c)| !c.identity)
        .filter_map(|(i, c)| Some((false, i, c.target.as_str(), &c.ty, c.default.as_deref()?)));
    // A generated column's expression is no default (it names columns).
    let added = t
        .added
        .iter()
        .enumerate()
        .filter(|(_, a)| !a.generated)
        .filter_map(|(i, a)| Some((true, i, a.name.as_str(), &a.ty, a.default.as_deref()?)));
    let all: Vec<_> = loaded.chain(added).collect();
    for (is_added, i, name, ty, default) in all {
        // Evaluating a sequence's next value would use one up.
        if default.to_ascii_lowercase().contains("nextval") {
            continue;
        }
        let sql = format!("SELECT CAST(({default}) AS {ty})");
        let Err(e) = client.query(&sql, &[]).await else {
            continue;
        };
        let Some(why) = refused(&e) else {
            return Err(error::from_postgres(
                &e,
                format!(
                    "testing the default of column {name} of {} ({default})",
                    t.qualified()
                ),
            ));
        };
        tracing::warn!(
            "table {}, column {name}: default {default} dropped: PostgreSQL refuses it for a {ty} \
             column ({why}); the column is created without a default (fix it in the mapping to keep one)",
            t.source
        );
        let f = fixed.get_or_insert_with(|| t.clone());
        if is_added {
            f.added[i].default = None;
        } else {
            f.columns[i].default = None;
        }
    }
    Ok(fixed)
}

/// PostgreSQL's refusal of the default itself (a value out of range or of
/// the wrong form, a type mismatch, an unknown function, a syntax error),
/// as opposed to a failure a rerun may cure or a type created later.
fn refused(e: &tokio_postgres::Error) -> Option<String> {
    let db = e.as_db_error()?;
    let code = db.code().code();
    (code.starts_with("22")
        || ["42804", "42883", "42601", "42703", "42846", "0A000"].contains(&code))
    .then(|| db.message().to_string())
}
