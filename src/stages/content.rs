//! What a loaded table holds, as a checksum: the copy stage records one
//! per chunk as it commits it (from the bytes it sent); `verify` compares
//! the source's with the target's, and `--fresh` / `--stage copy` empty a
//! table they loaded only while it still holds exactly those rows.

use crate::config::plan::TablePlan;
use crate::pg::checksum::{Checksum, CopyOutParser, RowHasher};
use crate::pg::ident::quote;
use crate::state;
use anyhow::{anyhow, Context as _, Result};
use futures::StreamExt;
use tokio_postgres::types::Type;
use tokio_postgres::Client;

/// The content checksum of a target table as it is now: its rows read
/// back with binary COPY and hashed as the copy stage hashed what it sent.
/// `t` is the plan fitted to the target ([`super::fitted_to_target`]),
/// `wire` its columns' wire types.
pub async fn target_checksum(client: &Client, t: &TablePlan, wire: &[Type]) -> Result<Checksum> {
    let cols: Vec<String> = t.columns.iter().map(|c| quote(&c.target)).collect();
    let sql = format!(
        "COPY (SELECT {} FROM {}) TO STDOUT (FORMAT binary)",
        cols.join(", "),
        t.qualified()
    );
    let stream = client
        .copy_out(&sql)
        .await
        .with_context(|| format!("reading back target table {}", t.qualified()))?;
    futures::pin_mut!(stream);
    let mut parser = CopyOutParser::default();
    let mut sum = Checksum::default();
    let mut h = RowHasher::default();
    let mut bad = None;
    while let Some(chunk) = stream.next().await {
        let chunk =
            chunk.with_context(|| format!("reading back target table {}", t.qualified()))?;
        parser
            .feed_rows(&chunk, |fields| {
                if fields.len() != wire.len() {
                    bad = Some(fields.len());
                    return;
                }
                for (f, ty) in fields.iter().zip(wire) {
                    h.field(ty, *f);
                }
                sum.add_row(h.finish());
            })
            .map_err(|e| anyhow!("reading back target table {}: {e}", t.qualified()))?;
    }
    if let Some(n) = bad {
        return Err(anyhow!(
            "target COPY returned {n} fields, expected {}",
            wire.len()
        ));
    }
    Ok(sum)
}

/// Whether target table `t` still holds exactly the rows run `run_id`
/// loaded into it: `Ok(None)` when it does, else what differs. A table
/// loaded by a version that recorded no checksums is compared by its row
/// count alone (and says so).
pub async fn changed_since_load(
    client: &Client,
    run_id: i64,
    loaded_from: &str,
    t: &TablePlan,
) -> Result<Option<String>> {
    let recorded = state::loaded_content(client, run_id, loaded_from).await?;
    let now_rows = crate::pg::catalog::row_count(client, &t.qualified()).await?;
    if now_rows != recorded.rows {
        return Ok(Some(format!(
            "run {run_id} loaded {} rows, it now has {now_rows}",
            recorded.rows
        )));
    }
    let Some(sum) = recorded.sum else {
        tracing::warn!(
            "table {}: run {run_id} recorded no content checksum (an older version loaded it); \
             only its row count ({now_rows}) was compared",
            t.qualified()
        );
        return Ok(None);
    };
    let plan = match super::fitted_to_target(client, t).await {
        Ok(p) => p,
        Err(e) => {
            // The mapping changed since that load: the columns it hashed
            // are not the ones the mapping names now.
            tracing::warn!(
                "table {}: its content cannot be compared with what run {run_id} loaded ({e:#}); \
                 only its row count ({now_rows}) was compared",
                t.qualified()
            );
            return Ok(None);
        }
    };
    let wire: Vec<Type> = plan.columns.iter().map(|c| c.ty.wire_type()).collect();
    let now = target_checksum(client, &plan, &wire).await?;
    Ok((now.sum != sum).then(|| {
        format!(
            "its {now_rows} rows are not the ones run {run_id} loaded (content checksum {} ≠ {:032x}): \
             the application changed some",
            now.hex(),
            sum
        )
    }))
}
