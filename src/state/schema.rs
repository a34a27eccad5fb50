//! The state schema's versions. Each change to the state tables is one file
//! in `sql/state/`, applied in order, each in the same transaction as the
//! row that records its version (as sqlx's `_sqlx_migrations` does), under
//! an advisory lock so two first runs cannot race. A target written before
//! versioning (tables, no version table) holds version 1. A binary that
//! finds a version newer than it knows refuses to touch the state.

use crate::error;
use anyhow::{Context, Result};
use tokio_postgres::{Client, GenericClient};

/// Every version, in order: (version, what it changes, SQL).
pub const MIGRATIONS: &[(i32, &str, &str)] = &[
    (
        1,
        "runs, stages, tables, chunks and rejects",
        include_str!("../../sql/state/0001_initial.sql"),
    ),
    (
        2,
        "'interrupted' status for runs and stages",
        include_str!("../../sql/state/0002_interrupted.sql"),
    ),
    (
        3,
        "content checksum of each committed chunk",
        include_str!("../../sql/state/0003_content.sql"),
    ),
    (
        4,
        "largest row of each committed chunk",
        include_str!("../../sql/state/0004_largest_row.sql"),
    ),
    (
        5,
        "what decides each table's rows",
        include_str!("../../sql/state/0005_rows_rule.sql"),
    ),
];

/// The version this binary writes.
pub fn latest() -> i32 {
    MIGRATIONS.last().map(|m| m.0).unwrap_or(0)
}

const VERSION_TABLE: &str = "CREATE TABLE IF NOT EXISTS sqlite2pg.schema_version (
    version     integer     PRIMARY KEY,
    description text        NOT NULL,
    applied_at  timestamptz NOT NULL DEFAULT now()
)";

/// The version the target holds: 0 for none, 1 for a state schema written
/// before versioning.
pub async fn current(client: &impl GenericClient) -> Result<i32> {
    let row = client
        .query_one(
            "SELECT to_regclass('sqlite2pg.schema_version') IS NOT NULL, \
                    to_regclass('sqlite2pg.runs') IS NOT NULL",
            &[],
        )
        .await?;
    let (versioned, tables): (bool, bool) = (row.get(0), row.get(1));
    if versioned {
        let v: Option<i32> = client
            .query_one("SELECT max(version) FROM sqlite2pg.schema_version", &[])
            .await?
            .get(0);
        return Ok(v.unwrap_or(if tables { 1 } else { 0 }));
    }
    Ok(if tables { 1 } else { 0 })
}

fn too_new(found: i32) -> anyhow::Error {
    error::blocked(format!(
        "the target's sqlite2pg state schema is version {found}, but this sqlite2pg knows versions up to {}: \
         it was written by a newer sqlite2pg. Use that version (or newer) with this target",
        latest()
    ))
}

/// Create the state schema, or upgrade it in place to [`latest`].
pub async fn ensure(client: &mut Client) -> Result<()> {
    let found = current(&*client).await?;
    if found == latest() {
        return Ok(());
    }
    if found > latest() {
        return Err(too_new(found));
    }
    let tx = client.transaction().await?;
    tx.execute(
        "SELECT pg_advisory_xact_lock(hashtextextended('sqlite2pg-state-schema', 0))",
        &[],
    )
    .await?;
    tx.batch_execute(&format!(
        "CREATE SCHEMA IF NOT EXISTS sqlite2pg; {VERSION_TABLE}"
    ))
    .await
    .context("creating the sqlite2pg state schema in the target")?;
    // Read again under the lock: another run may have upgraded meanwhile.
    let found = current(&tx).await?;
    if found > latest() {
        return Err(too_new(found));
    }
    let recorded: i64 = tx
        .query_one("SELECT count(*) FROM sqlite2pg.schema_version", &[])
        .await?
        .get(0);
    if found == 1 && recorded == 0 {
        // Written before versioning: its tables are version 1.
        tx.execute(
            "INSERT INTO sqlite2pg.schema_version (version, description) VALUES (1, $1)",
            &[&format!(
                "{} (found, written before versioning)",
                MIGRATIONS[0].1
            )],
        )
        .await?;
    }
    for (version, what, sql) in MIGRATIONS.iter().filter(|m| m.0 > found) {
        tx.batch_execute(sql).await.with_context(|| {
            format!("upgrading the sqlite2pg state schema to version {version} ({what})")
        })?;
        tx.execute(
            "INSERT INTO sqlite2pg.schema_version (version, description) VALUES ($1, $2)",
            &[version, what],
        )
        .await?;
        tracing::debug!("state schema: applied version {version} ({what})");
    }
    tx.commit().await?;
    if found > 0 {
        tracing::info!(
            "upgraded the sqlite2pg state schema in the target from version {found} to {}",
            latest()
        );
    }
    Ok(())
}

/// Whether the state schema exists, for read-only commands (which must not
/// create it). One newer than this binary knows is refused; an older one
/// reads the same (its changes only widened what may be stored).
pub async fn exists(client: &Client) -> Result<bool> {
    let found = current(client).await?;
    if found > latest() {
        return Err(too_new(found));
    }
    Ok(found > 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_are_consecutive_from_one() {
        for (i, m) in MIGRATIONS.iter().enumerate() {
            assert_eq!(m.0, i as i32 + 1);
        }
        assert_eq!(latest(), MIGRATIONS.len() as i32);
    }
}
