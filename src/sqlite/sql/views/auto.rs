//! Views `init` refused only for a column's type (`action = "auto"`),
//! decided again over the mapping as it is now: an operator who sets the
//! column back to `text` gets the view back (docs/mapping.md, "Decisions
//! init made on its own"). An explicit `create`, `skip` or `materialize`
//! is never touched.

use super::propose;
use crate::config::mapping::{Pipeline, ViewAction};
use anyhow::Result;
use rusqlite::Connection;

/// Each `auto` view of `p` becomes `create` with its translation when it
/// translates, else `skip`; each decision said on stderr.
pub fn resolve_auto_views(conn: &Connection, p: &mut Pipeline) -> Result<()> {
    if !p.views.values().any(|v| v.action == ViewAction::Auto) {
        return Ok(());
    }
    let proposals = propose(conn, p)?;
    for (name, v) in p.views.iter_mut() {
        if v.action != ViewAction::Auto {
            continue;
        }
        match proposals
            .iter()
            .find(|x| &x.name == name)
            .map(|x| &x.result)
        {
            Some(Ok(t)) => {
                v.action = ViewAction::Create;
                v.sql = Some(format!("{}\n", t.sql));
                tracing::info!(
                    "view `{name}` (action = \"auto\"): translates over the mapping as it is now: created"
                );
            }
            Some(Err(why)) => {
                v.action = ViewAction::Skip;
                tracing::warn!("view `{name}` (action = \"auto\"): not created: {why}");
            }
            None => {
                v.action = ViewAction::Skip;
                tracing::warn!("view `{name}` (action = \"auto\"): no such view in the source");
            }
        }
    }
    Ok(())
}
