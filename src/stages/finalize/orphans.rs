//! The orphans of a foreign key added NOT VALID: counted, then weighed
//! against what the mapping acknowledges (`orphans = N`). A key no row
//! breaks is validated; one with no more than acknowledged stays NOT VALID
//! with a note; one with more leaves its table's finalize failed, for the
//! run to exit 3 naming the key.

use super::plan::Todo;
use super::Notes;
use crate::config::plan::{ForeignKeyPlan, TablePlan};
use crate::error;
use crate::pg::ident::quote;
use crate::stages::ddl;
use anyhow::Result;
use tokio_postgres::Client;

/// Weigh the orphans of `keys` (source table, key name): a note for each
/// key whose orphans the mapping acknowledges, a sentence in
/// `unacknowledged` for each with more.
pub(super) async fn weigh(
    client: &Client,
    tables: &[Todo<'_>],
    keys: &[(String, String)],
    notes: &mut Notes,
    unacknowledged: &mut Notes,
) -> Result<()> {
    for (source, key) in keys {
        let found = tables
            .iter()
            .find(|t| &t.table.source == source)
            .and_then(|t| {
                let fk = t.table.foreign_keys.iter().find(|f| &f.name == key)?;
                Some((t.table, fk))
            });
        let Some((t, fk)) = found else { continue };
        match foreign_key_orphans(client, t, fk).await? {
            Orphans::Acknowledged(n) => notes.add(&t.source, n),
            Orphans::Unacknowledged(n) => unacknowledged.add(&t.source, n),
            Orphans::None => {}
        }
    }
    Ok(())
}

/// What the orphans of a foreign key added NOT VALID come to.
enum Orphans {
    /// None (any more): the key was validated.
    None,
    /// No more than the mapping acknowledges: the note for the summary.
    Acknowledged(String),
    /// More: the message naming the key, the count and the fix.
    Unacknowledged(String),
}

/// Count the loaded rows that break foreign key `fk` of `t` (added NOT
/// VALID) and weigh them against the mapping's `orphans`; a key no row
/// breaks is validated.
async fn foreign_key_orphans(
    client: &Client,
    t: &TablePlan,
    fk: &ForeignKeyPlan,
) -> Result<Orphans> {
    let n = count_orphans(client, t, fk).await?;
    let what = format!(
        "foreign key {} on {} ({}) → {}",
        fk.name,
        t.qualified(),
        fk.columns.join(", "),
        fk.ref_table
    );
    if n == 0 {
        client
            .execute(&ddl::validate_foreign_key(t, fk), &[])
            .await
            .map_err(|e| error::from_postgres(&e, format!("validating {what}")))?;
        return Ok(Orphans::None);
    }
    if n <= fk.orphans {
        return Ok(Orphans::Acknowledged(format!(
            "{what} left NOT VALID: {n} orphan row(s) (no parent row), acknowledged (orphans = {} \
             in the mapping); PostgreSQL enforces it for new rows",
            fk.orphans
        )));
    }
    Ok(Orphans::Unacknowledged(format!(
        "{what} left NOT VALID: {n} loaded row(s) reference no parent row, {} acknowledged by the \
         mapping; every row was loaded and PostgreSQL enforces the key for new rows. If these rows \
         are expected, set `orphans = {n}` in this key's [[tables.{}.foreign_keys]] entry of the \
         mapping and rerun; otherwise fix them in the source",
        fk.orphans, t.source
    )))
}

/// Rows of `t` whose key (every column non-NULL) has no row in the
/// referenced table: what `VALIDATE CONSTRAINT` would refuse.
pub async fn count_orphans(client: &Client, t: &TablePlan, fk: &ForeignKeyPlan) -> Result<u64> {
    let parent = crate::pg::ident::qualified(&t.schema, &fk.ref_table);
    let not_null: Vec<String> = fk
        .columns
        .iter()
        .map(|c| format!("c.{} IS NOT NULL", quote(c)))
        .collect();
    let join: Vec<String> = fk
        .columns
        .iter()
        .zip(&fk.ref_columns)
        .map(|(c, r)| format!("p.{} = c.{}", quote(r), quote(c)))
        .collect();
    let sql = format!(
        "SELECT count(*) FROM {} c WHERE {} AND NOT EXISTS (SELECT 1 FROM {parent} p WHERE {})",
        t.qualified(),
        not_null.join(" AND "),
        join.join(" AND ")
    );
    let n: i64 = client
        .query_one(&sql, &[])
        .await
        .map_err(|e| {
            error::from_postgres(
                &e,
                format!(
                    "counting the orphans of foreign key {} of {}",
                    fk.name,
                    t.qualified()
                ),
            )
        })?
        .get(0);
    Ok(n as u64)
}
