//! Views: created at the end of `finalize`, once their tables are loaded,
//! with `CREATE OR REPLACE VIEW` (a rerun replaces them). The mapping's
//! order is tried first; a view over a view not created yet is tried again
//! after the others. One PostgreSQL refuses is named with PostgreSQL's
//! reason and left out: it never fails the run.

use crate::config::plan::ViewPlan;
use crate::error;
use crate::pg::ident::quote;
use crate::stages::refused::refused_by_postgres;
use anyhow::Result;
use tokio_postgres::error::SqlState;
use tokio_postgres::Client;

/// What became of the mapping's views.
#[derive(Debug, Default)]
pub struct ViewsOutcome {
    pub created: Vec<String>,
    /// (view, PostgreSQL's reason)
    pub refused: Vec<(String, String)>,
}

/// Create (or replace) every view of `views`; each refusal is logged.
pub async fn create_views(client: &mut Client, views: &[ViewPlan]) -> Result<ViewsOutcome> {
    let mut out = ViewsOutcome::default();
    let mut pending: Vec<&ViewPlan> = views.iter().collect();
    loop {
        let mut retry = Vec::new();
        let mut progress = false;
        for v in pending {
            match create(client, v).await? {
                None => {
                    tracing::info!("view {} created", v.qualified());
                    out.created.push(v.name.clone());
                    progress = true;
                }
                // It may read a view created later in this round.
                Some((code, why)) if code == SqlState::UNDEFINED_TABLE => retry.push((v, why)),
                Some((_, why)) => out.refused.push((v.name.clone(), why)),
            }
        }
        if !progress || retry.is_empty() {
            out.refused
                .extend(retry.into_iter().map(|(v, why)| (v.name.clone(), why)));
            break;
        }
        pending = retry.into_iter().map(|(v, _)| v).collect();
    }
    for (name, why) in &out.refused {
        tracing::warn!(
            "view {name} not created: PostgreSQL refused it ({why}); fix its `sql` in the mapping \
             and rerun with --stage finalize, or set action = \"skip\""
        );
    }
    Ok(out)
}

/// One view in its own transaction, its names resolved in the target
/// schema: `Some((code, reason))` when PostgreSQL refuses it.
async fn create(client: &mut Client, v: &ViewPlan) -> Result<Option<(SqlState, String)>> {
    let what = format!("creating view {}", v.qualified());
    let tx = client
        .transaction()
        .await
        .map_err(|e| error::from_postgres(&e, what.clone()))?;
    tx.execute(
        &format!("SET LOCAL search_path TO {}", quote(&v.schema)),
        &[],
    )
    .await
    .map_err(|e| error::from_postgres(&e, what.clone()))?;
    let sql = format!("CREATE OR REPLACE VIEW {} AS\n{}", v.qualified(), v.sql);
    tracing::debug!("{sql}");
    match tx.execute(&sql, &[]).await {
        Ok(_) => {
            if let Some(role) = &v.owner {
                tx.execute(
                    &format!("ALTER VIEW {} OWNER TO {}", v.qualified(), quote(role)),
                    &[],
                )
                .await
                .map_err(|e| error::from_postgres(&e, what.clone()))?;
            }
            tx.commit()
                .await
                .map_err(|e| error::from_postgres(&e, what))?;
            Ok(None)
        }
        Err(e) => match refused_by_postgres(&e) {
            Some(why) => Ok(Some((
                e.code().cloned().unwrap_or(SqlState::SYNTAX_ERROR),
                why,
            ))),
            None => Err(error::from_postgres(&e, what)),
        },
    }
}

/// Drop the pipeline's views (before `prepare` drops the tables they read
/// to load them afresh; finalize creates them again).
pub async fn drop_views(client: &Client, views: &[ViewPlan]) -> Result<()> {
    if views.is_empty() {
        return Ok(());
    }
    let names: Vec<String> = views.iter().map(ViewPlan::qualified).collect();
    client
        .execute(&format!("DROP VIEW IF EXISTS {}", names.join(", ")), &[])
        .await
        .map_err(|e| error::from_postgres(&e, format!("dropping views {}", names.join(", "))))?;
    Ok(())
}
