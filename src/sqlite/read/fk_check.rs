//! Foreign-key orphans of the source: rows whose key names no parent row.
//! SQLite enforces foreign keys only with `PRAGMA foreign_keys = ON`, so a
//! file may hold them; PostgreSQL would refuse to validate such a key after
//! the load. `init` and `check` count them per key, with SQLite's own
//! `foreign_key_check`; where SQLite cannot check a key (its parent columns
//! are neither the primary key nor a unique index: "foreign key mismatch")
//! the rows are counted with a `NOT EXISTS` query instead.

use crate::sqlite::sql::quote::sqlite_quote;
use anyhow::{Context, Result};
use rusqlite::{params, Connection};
use std::collections::BTreeMap;

/// One foreign key of a source table and its orphan rows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FkOrphans {
    /// Child columns (source names).
    pub columns: Vec<String>,
    /// Parent table as declared.
    pub ref_table: String,
    /// Parent columns as declared (empty = the parent's primary key).
    pub ref_columns: Vec<String>,
    /// Rows whose key (no column NULL) matches no parent row.
    pub count: u64,
}

impl FkOrphans {
    /// Whether this is the key from `columns` to `ref_table` (names as
    /// SQLite matches them, without regard to case).
    pub fn is_key(&self, columns: &[String], ref_table: &str) -> bool {
        self.ref_table.eq_ignore_ascii_case(ref_table)
            && self.columns.len() == columns.len()
            && self
                .columns
                .iter()
                .zip(columns)
                .all(|(a, b)| a.eq_ignore_ascii_case(b))
    }

    /// `child (a, b) → parent (x, y)` for messages.
    pub fn shown(&self, table: &str) -> String {
        format!(
            "{table} ({}) → {}{}",
            self.columns.join(", "),
            self.ref_table,
            if self.ref_columns.is_empty() {
                String::new()
            } else {
                format!(" ({})", self.ref_columns.join(", "))
            }
        )
    }
}

/// Every foreign key of `table` with its orphan count (0 included), in
/// SQLite's key order.
pub fn orphans(conn: &Connection, table: &str) -> Result<Vec<FkOrphans>> {
    let mut st = conn.prepare(
        "SELECT id, \"table\", \"from\", \"to\" FROM pragma_foreign_key_list(?1) ORDER BY id, seq",
    )?;
    let rows: Vec<(i64, String, String, Option<String>)> = st
        .query_map(params![table], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
        })?
        .collect::<rusqlite::Result<_>>()
        .with_context(|| format!("reading the foreign keys of source table {table}"))?;
    let mut keys: BTreeMap<i64, FkOrphans> = BTreeMap::new();
    for (id, parent, from, to) in rows {
        let k = keys.entry(id).or_insert_with(|| FkOrphans {
            columns: Vec::new(),
            ref_table: parent,
            ref_columns: Vec::new(),
            count: 0,
        });
        k.columns.push(from);
        if let Some(to) = to {
            k.ref_columns.push(to);
        }
    }
    if keys.is_empty() {
        return Ok(Vec::new());
    }
    for k in keys.values_mut() {
        if k.ref_columns.len() != k.columns.len() {
            k.ref_columns.clear();
        }
    }
    match pragma_counts(conn, table) {
        Ok(counts) => {
            for (id, n) in counts {
                if let Some(k) = keys.get_mut(&id) {
                    k.count = n;
                }
            }
        }
        Err(e) if e.to_string().contains("foreign key mismatch") => {
            // One key SQLite cannot check fails the whole pragma: count
            // every key of the table by query.
            tracing::debug!("PRAGMA foreign_key_check({table}): {e}; counting by query");
            for k in keys.values_mut() {
                k.count = count_by_query(conn, table, k).with_context(|| {
                    format!("counting the orphan rows of foreign key {}", k.shown(table))
                })?;
            }
        }
        Err(e) => {
            return Err(e).with_context(|| format!("PRAGMA foreign_key_check({table})"));
        }
    }
    Ok(keys.into_values().collect())
}

/// Orphan rows per key id, by SQLite's own check.
fn pragma_counts(conn: &Connection, table: &str) -> rusqlite::Result<Vec<(i64, u64)>> {
    let mut st = conn.prepare(
        "SELECT fkid, count(*) FROM pragma_foreign_key_check(?1) GROUP BY fkid ORDER BY fkid",
    )?;
    let rows = st
        .query_map(params![table], |r| {
            Ok((r.get::<_, i64>(0)?, r.get::<_, i64>(1)? as u64))
        })?
        .collect();
    rows
}

/// Orphan rows of one key by a `NOT EXISTS` query: rows whose key columns
/// are all non-NULL and match no row of the parent (every row, when the
/// parent table does not exist).
fn count_by_query(conn: &Connection, table: &str, k: &FkOrphans) -> Result<u64> {
    let child = sqlite_quote(table);
    let not_null: Vec<String> = k
        .columns
        .iter()
        .map(|c| format!("c.{} IS NOT NULL", sqlite_quote(c)))
        .collect();
    let parent_exists: bool = conn.query_row(
        "SELECT count(*) > 0 FROM sqlite_schema WHERE type = 'table' AND name = ?1 COLLATE NOCASE",
        params![k.ref_table],
        |r| r.get(0),
    )?;
    let sql = if !parent_exists {
        format!(
            "SELECT count(*) FROM {child} c WHERE {}",
            not_null.join(" AND ")
        )
    } else {
        let ref_columns = if k.ref_columns.is_empty() {
            let mut st =
                conn.prepare("SELECT name FROM pragma_table_info(?1) WHERE pk > 0 ORDER BY pk")?;
            let pk: Vec<String> = st
                .query_map(params![k.ref_table], |r| r.get(0))?
                .collect::<rusqlite::Result<_>>()?;
            if pk.len() == k.columns.len() {
                pk
            } else {
                vec!["rowid".to_string()]
            }
        } else {
            k.ref_columns.clone()
        };
        let join: Vec<String> = k
            .columns
            .iter()
            .zip(&ref_columns)
            .map(|(c, r)| format!("p.{} = c.{}", sqlite_quote(r), sqlite_quote(c)))
            .collect();
        format!(
            "SELECT count(*) FROM {child} c WHERE {} AND NOT EXISTS \
             (SELECT 1 FROM {} p WHERE {})",
            not_null.join(" AND "),
            sqlite_quote(&k.ref_table),
            join.join(" AND ")
        )
    };
    let n: i64 = conn.query_row(&sql, [], |r| r.get(0))?;
    Ok(n as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn db(sql: &str) -> Connection {
        let c = Connection::open_in_memory().unwrap();
        c.execute_batch(sql).unwrap();
        c
    }

    #[test]
    fn counts_orphans_per_key_with_sqlites_own_check() {
        let c = db("PRAGMA foreign_keys = OFF;
             CREATE TABLE p (id INTEGER PRIMARY KEY, code TEXT UNIQUE);
             CREATE TABLE c (id INTEGER PRIMARY KEY,
                 p_id INTEGER REFERENCES p(id),
                 p_code TEXT REFERENCES p(code) DEFERRABLE INITIALLY DEFERRED);
             INSERT INTO p VALUES (1, 'a'), (2, 'b');
             INSERT INTO c VALUES (1, 1, 'a'), (2, 7, 'a'), (3, 8, 'zz'), (4, NULL, NULL), (5, 9, 'b');");
        let o = orphans(&c, "c").unwrap();
        assert_eq!(o.len(), 2);
        let by_id = o.iter().find(|k| k.is_key(&["P_ID".into()], "P")).unwrap();
        assert_eq!(by_id.count, 3);
        let by_code = o
            .iter()
            .find(|k| k.is_key(&["p_code".into()], "p"))
            .unwrap();
        assert_eq!(by_code.count, 1);
        assert!(orphans(&c, "p").unwrap().is_empty());
        assert_eq!(by_id.shown("c"), "c (p_id) → p (id)");
    }

    #[test]
    fn a_key_sqlite_cannot_check_is_counted_by_query() {
        // p.code is not unique: foreign_key_check reports a mismatch.
        let c = db("PRAGMA foreign_keys = OFF;
             CREATE TABLE p (id INTEGER PRIMARY KEY, code TEXT);
             CREATE TABLE c (id INTEGER PRIMARY KEY, p_code TEXT REFERENCES p(code),
                 p_id INTEGER REFERENCES p, gone INTEGER REFERENCES nowhere(id));
             INSERT INTO p VALUES (1, 'a');
             INSERT INTO c VALUES (1, 'a', 1, NULL), (2, 'x', 2, 5), (3, NULL, 3, 6);");
        let o = orphans(&c, "c").unwrap();
        let n = |cols: &str, t: &str| {
            o.iter()
                .find(|k| k.is_key(&[cols.to_string()], t))
                .unwrap()
                .count
        };
        assert_eq!(n("p_code", "p"), 1);
        assert_eq!(n("p_id", "p"), 2);
        assert_eq!(n("gone", "nowhere"), 2);
    }
}
