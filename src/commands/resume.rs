//! What a resume refuses before any stage runs: a table the run prepared
//! or began to copy under a mapping that decided its rows otherwise (its
//! target, filter, columns, types or rules). Resuming would put rows of two
//! rules in one table, or load into a table that is not there
//! (docs/operations.md, "Rerun and resume"). A table copied whole keeps
//! one rule; it is named, and `--stage copy --table` reloads it.

use crate::config::plan::TablePlan;
use crate::config::rows_rule;
use crate::error;
use crate::state::{self, Stage};
use anyhow::Result;
use tokio_postgres::Client;

/// Refuse (exit 4) when a selected table of run `run_id` was prepared or
/// partly copied under another rule, or copied under another target name;
/// warn for a table copied whole under another rule.
pub async fn refuse_changed_tables(
    client: &Client,
    run_id: i64,
    tables: &[&TablePlan],
) -> Result<()> {
    let mut refused = Vec::new();
    for t in tables {
        let Some(old) = state::rows_rule(client, run_id, &t.source).await? else {
            continue;
        };
        let new = rows_rule::rows_rule(t);
        let changes = rows_rule::changes(&old, &new);
        if changes.is_empty() {
            continue;
        }
        let what = changes.join("; ");
        let copied = state::stage_done(client, run_id, Stage::Copy, &t.source).await?;
        if copied && old["target"] == new["target"] {
            tracing::warn!(
                "table {}: the mapping changed since run {run_id} copied it ({what}); its rows \
                 keep the old rule until it is reloaded (--stage copy --table {})",
                t.source,
                t.source
            );
            continue;
        }
        let total = state::table_row(client, run_id, &t.source)
            .await?
            .map_or(0, |r| r.chunks_total as usize);
        let pending = state::chunks(client, run_id, &t.source, false).await?.len();
        refused.push(format!(
            "table {} ({} of {total} chunks copied): {what}",
            t.source,
            total.saturating_sub(pending)
        ));
    }
    if refused.is_empty() {
        return Ok(());
    }
    Err(error::blocked(format!(
        "the mapping changed since run {run_id} began these tables: {}. Resuming would load the \
         rest of their rows under the new mapping beside those loaded under the old one. Run with \
         --fresh to load them again under this mapping, or put the mapping back as it was",
        refused.join("; ")
    )))
}
