//! `verify` within `run`: per table, target rows = source rows (after the
//! filter) − rejects. The full check with content checksums is the `verify`
//! command.

use super::Scope;
use crate::pg::connect::Target;
use crate::pool;
use crate::sqlite::read::source;
use crate::sqlite::sql::quote::sqlite_quote;
use crate::state::{self, Stage, Status};
use anyhow::{Context as _, Result};
use tokio_postgres::Client;

/// What the count check found: one line per table whose counts disagree.
#[derive(Debug, Default)]
pub struct CountsOutcome {
    pub mismatches: Vec<String>,
}

pub async fn verify_counts(scope: Scope<'_>, client: &mut Client) -> Result<CountsOutcome> {
    let (run_id, selected) = (scope.run_id, scope.selected);
    state::set_stage(client, run_id, Stage::Verify, "", Status::Running, None).await?;
    let conn = source::open_readonly(&scope.ctx.pipeline.source_path())?;
    let mut sources = Vec::with_capacity(selected.len());
    for t in selected {
        let src: i64 = conn
            .query_row(
                &format!(
                    "SELECT count(*) FROM {}{}",
                    sqlite_quote(&t.source),
                    t.filter_clause("WHERE")
                ),
                [],
                |r| r.get(0),
            )
            .with_context(|| format!("counting source table {}", t.source))?;
        sources.push(src);
    }
    scope
        .guard
        .check("The counts were not compared; the loaded tables are kept")?;
    // Target tables counted side by side, one connection each.
    let target: &Target = &scope.ctx.target;
    let counts = selected.iter().map(|t| async move {
        let c = target.connect().await?;
        let n: i64 = c
            .query_one(&format!("SELECT count(*) FROM {}", t.qualified()), &[])
            .await
            .with_context(|| format!("counting target table {}", t.qualified()))?
            .get(0);
        anyhow::Ok(n)
    });
    let targets = pool::try_limited(scope.ctx.pipeline.defaults.workers, counts).await?;
    let mut bad = Vec::new();
    for ((t, src), tgt) in selected.iter().zip(sources).zip(targets) {
        let rejected = state::chunk_totals(client, run_id, &t.source)
            .await?
            .rows_rejected;
        if tgt + rejected != src {
            let msg = format!(
                "table {} → {}: source has {src} rows, target {tgt}, rejected {rejected}",
                t.source,
                t.qualified()
            );
            state::set_stage(
                client,
                run_id,
                Stage::Verify,
                &t.source,
                Status::Failed,
                Some(&msg),
            )
            .await?;
            bad.push(msg);
        } else {
            state::set_stage(client, run_id, Stage::Verify, &t.source, Status::Done, None).await?;
        }
    }
    let (status, error) = if bad.is_empty() {
        (Status::Done, None)
    } else {
        (Status::Failed, Some(bad.join("; ")))
    };
    state::set_stage(client, run_id, Stage::Verify, "", status, error.as_deref()).await?;
    Ok(CountsOutcome { mismatches: bad })
}
