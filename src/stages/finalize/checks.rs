//! A table's CHECK constraints: each added NOT VALID, then validated. One
//! PostgreSQL refuses (its expression does not translate) is left out, one
//! the loaded rows break stays NOT VALID (enforced for new rows); each is
//! named in a note, none fails a run after its load.

use crate::config::plan::TablePlan;
use crate::error;
use crate::pg::catalog;
use crate::pg::ident::quote;
use crate::stages::ddl;
use crate::stages::refused::refused_by_postgres;
use anyhow::Result;
use tokio_postgres::Client;

/// Add each CHECK of `t` not there yet NOT VALID, then validate it; the
/// notes say which were left out (PostgreSQL refused the expression) or
/// left NOT VALID (rows break them, counted). A lost connection or another
/// failure a rerun may cure is an error, as anywhere.
pub(super) async fn add(client: &Client, t: &TablePlan) -> Result<Vec<String>> {
    let mut notes = Vec::new();
    for (name, expr) in &t.checks {
        let validated = catalog::constraint_validated(client, &t.schema, &t.target, name).await?;
        if validated == Some(true) {
            continue;
        }
        let what = format!("CHECK {name} ({expr}) on {}", t.qualified());
        if validated.is_none() {
            let add = format!("{} NOT VALID", ddl::check(t, name, expr));
            tracing::debug!("{add}");
            if let Err(e) = client.execute(&add, &[]).await {
                match refused_by_postgres(&e) {
                    Some(why) => {
                        notes.push(format!("{what} left out: PostgreSQL refused it ({why})"));
                        continue;
                    }
                    None => return Err(error::from_postgres(&e, format!("adding {what}"))),
                }
            }
        }
        let validate = format!(
            "ALTER TABLE {} VALIDATE CONSTRAINT {}",
            t.qualified(),
            quote(name)
        );
        if let Err(e) = client.execute(&validate, &[]).await {
            if e.code() != Some(&tokio_postgres::error::SqlState::CHECK_VIOLATION) {
                return Err(error::from_postgres(&e, format!("validating {what}")));
            }
            let broken: i64 = client
                .query_one(
                    &format!("SELECT count(*) FROM {} WHERE NOT ({expr})", t.qualified()),
                    &[],
                )
                .await
                .map(|r| r.get(0))
                .unwrap_or(-1);
            let rows = if broken >= 0 {
                format!("{broken} loaded row(s) break it")
            } else {
                "loaded rows break it".into()
            };
            notes.push(format!(
                "{what} left NOT VALID: {rows} (PostgreSQL enforces it for new rows; \
                 fix them, then ALTER TABLE ... VALIDATE CONSTRAINT {name})"
            ));
        }
    }
    Ok(notes)
}
