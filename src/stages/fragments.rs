//! The mapping's SQL fragments checked by the server before a run touches
//! the target: each expression as `EXPLAIN SELECT (<expr>) FROM <table>`
//! over a temporary table shaped like the table's plan (an index's
//! expression column as `ORDER BY <column>`, its order included), each view's query
//! as `EXPLAIN SELECT * FROM (<sql>)`, all in one transaction rolled back.
//! One PostgreSQL cannot parse as one expression (or one query) is a
//! mapping error, exit 2, naming the file, the table and the key; any
//! other refusal (an unknown column, a type) is left to the statement that
//! uses it, which names it as today (docs/mapping.md, "SQL in the
//! mapping").

use crate::config::fragments::kind_words;
use crate::config::issue::MappingIssue;
use crate::config::mapping::Pipeline;
use crate::config::plan::TablePlan;
use crate::error;
use crate::pg::fragment::Kind;
use crate::pg::ident::quote;
use anyhow::Result;
use tokio_postgres::error::SqlState;
use tokio_postgres::{Client, Transaction};

/// Every fragment of `p` parsed by the server as what it must be; nothing
/// is left in the target.
pub async fn check(client: &mut Client, p: &Pipeline, plans: &[TablePlan]) -> Result<()> {
    let fragments = p.fragments();
    if fragments.is_empty() {
        return Ok(());
    }
    let what = "checking the mapping's SQL on the target";
    let pg = |e: tokio_postgres::Error| error::from_postgres(&e, what.to_string());
    let tx = client.transaction().await.map_err(pg)?;
    for t in plans {
        temporary_table(&tx, t).await.map_err(pg)?;
    }
    let mut issues = Vec::new();
    for f in &fragments {
        let sql = match (
            f.kind,
            f.table.and_then(|s| plans.iter().find(|t| t.source == s)),
        ) {
            (Kind::Query, _) => format!(
                "EXPLAIN SELECT * FROM ({}\n) AS sqlite2pg_view",
                f.text.trim_end().trim_end_matches(';')
            ),
            // An index's expression column with its order, as ORDER BY
            // reads one.
            (Kind::Parenthesized, Some(t)) => format!(
                "EXPLAIN SELECT 1 FROM pg_temp.{} ORDER BY {}\n",
                quote(&t.target),
                f.text
            ),
            (_, Some(t)) => format!(
                "EXPLAIN SELECT ({}\n) FROM pg_temp.{}",
                f.text,
                quote(&t.target)
            ),
            (_, None) => continue,
        };
        tx.batch_execute("SAVEPOINT sqlite2pg_fragment")
            .await
            .map_err(pg)?;
        if let Err(e) = tx.execute(&sql, &[]).await {
            if e.code() != Some(&SqlState::SYNTAX_ERROR) {
                tracing::debug!("{}: {e} (left to the statement that uses it)", f.key);
            } else {
                let why = e
                    .as_db_error()
                    .map_or(e.to_string(), |d| d.message().into());
                issues.push(MappingIssue {
                    key: f.key.clone(),
                    line: None,
                    message: format!(
                        "not {}: PostgreSQL reads it as something else ({why})",
                        kind_words(f.kind)
                    ),
                });
            }
        }
        tx.batch_execute("ROLLBACK TO SAVEPOINT sqlite2pg_fragment")
            .await
            .map_err(pg)?;
    }
    tx.rollback().await.map_err(pg)?;
    if issues.is_empty() {
        return Ok(());
    }
    Err(error::usage(format!("{}", p.issues_error(issues))))
}

/// `pg_temp.<target>` with the plan's columns, in the types they will
/// have; a type the target does not have yet (an extension's, created by
/// `prepare`) is `text` here: only the parse is judged.
async fn temporary_table(tx: &Transaction<'_>, t: &TablePlan) -> Result<(), tokio_postgres::Error> {
    let columns = |typed: bool| -> String {
        t.create_order()
            .into_iter()
            .map(|(name, added, i)| {
                let ty = match (typed, added) {
                    (false, _) => "text".to_string(),
                    (true, true) => t.added[i].ty.to_string(),
                    (true, false) => t.columns[i].ty.to_string(),
                };
                format!("{} {ty}", quote(name))
            })
            .collect::<Vec<_>>()
            .join(", ")
    };
    tx.batch_execute("SAVEPOINT sqlite2pg_temp").await?;
    let create = |typed| {
        format!(
            "CREATE TEMPORARY TABLE {} ({})",
            quote(&t.target),
            columns(typed)
        )
    };
    if tx.execute(&create(true), &[]).await.is_ok() {
        return tx.batch_execute("RELEASE SAVEPOINT sqlite2pg_temp").await;
    }
    tx.batch_execute("ROLLBACK TO SAVEPOINT sqlite2pg_temp")
        .await?;
    tx.execute(&create(false), &[]).await.map(drop)
}
