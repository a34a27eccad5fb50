//! Reading the SQLite schema: tables, columns, keys, indexes, foreign keys,
//! CHECK constraints and row counts, through the table-valued pragma
//! functions (bound parameters, so any table name works).

use crate::sqlite::schema::model::{
    IndexPart, SourceColumn, SourceForeignKey, SourceIndex, SourceSchema, SourceTable,
};
use crate::sqlite::schema::vtab::{self, VirtualFate};
use crate::sqlite::sql::lexer::{matching_paren, tokenize, Token};
use crate::sqlite::sql::quote::sqlite_quote;
use anyhow::{Context, Result};
use rusqlite::{params, Connection, OptionalExtension};
use std::collections::{BTreeMap, HashMap, HashSet};

/// Read the whole schema of the `main` database.
pub fn introspect(conn: &Connection) -> Result<SourceSchema> {
    let mut warnings = Vec::new();
    // pragma_table_list (SQLite 3.37+) tells shadow tables of virtual tables
    // apart; on older libraries we go without.
    let mut kinds: HashMap<String, String> = HashMap::new();
    if let Ok(mut st) =
        conn.prepare("SELECT name, type FROM pragma_table_list WHERE schema = 'main'")
    {
        let rows = st.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)));
        if let Ok(rows) = rows {
            for (n, k) in rows.flatten() {
                kinds.insert(n, k);
            }
        }
    }
    let mut st = conn
        .prepare(
            "SELECT type, name, coalesce(sql, '') FROM sqlite_schema \
             WHERE type IN ('table', 'view') ORDER BY name",
        )
        .context("cannot read sqlite_schema")?;
    let objects: Vec<(String, String, String)> = st
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
        .collect::<rusqlite::Result<_>>()
        .context("cannot read sqlite_schema")?;
    let mut views = Vec::new();
    let mut tables = Vec::new();
    // Virtual table → what its shadow tables' warning adds (where their
    // rows go when it moves; its own warning says it otherwise).
    let mut fates: HashMap<String, String> = HashMap::new();
    let mut shadows: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (kind, name, sql) in objects {
        if name.to_ascii_lowercase().starts_with("sqlite_") {
            continue;
        }
        if kind == "view" {
            views.push(name);
            continue;
        }
        let virtual_table = kinds.get(&name).is_some_and(|k| k == "virtual")
            || tokenize(&sql)
                .ok()
                .is_some_and(|t| t.get(1).is_some_and(|t| t.is_word("virtual")));
        if virtual_table {
            let exists = |t: &str| {
                kinds
                    .iter()
                    .any(|(n, k)| n.eq_ignore_ascii_case(t) && k != "shadow")
            };
            match vtab::fate(conn, &name, &sql, exists) {
                VirtualFate::Moves { decl, note, rowid } => {
                    let mut t = read_table(conn, &name, &sql)
                        .with_context(|| format!("cannot read virtual table `{name}`"))?;
                    match vtab::keep_rowid(&mut t, &decl.module, rowid) {
                        Ok(()) => {
                            tracing::warn!("{note}");
                            warnings.push(note);
                            fates.insert(
                                name.clone(),
                                format!("; their rows move as table `{name}`"),
                            );
                            tables.push(t);
                        }
                        Err(msg) => {
                            tracing::warn!("{msg}");
                            warnings.push(msg);
                            fates.insert(name.clone(), String::new());
                        }
                    }
                }
                VirtualFate::Skipped { warning } => {
                    tracing::warn!("{warning}");
                    warnings.push(warning);
                    fates.insert(name.clone(), String::new());
                }
            }
            continue;
        }
        if kinds.get(&name).is_some_and(|k| k == "shadow") {
            // Its virtual table's name is a prefix of it (so came first).
            let owner = fates
                .keys()
                .filter(|v| {
                    name.len() > v.len() + 1
                        && name.is_char_boundary(v.len())
                        && name[..v.len()].eq_ignore_ascii_case(v)
                        && name.as_bytes()[v.len()] == b'_'
                })
                .max_by_key(|v| v.len())
                .cloned()
                .unwrap_or_default();
            shadows.entry(owner).or_default().push(name);
            continue;
        }
        tables.push(
            read_table(conn, &name, &sql)
                .with_context(|| format!("cannot read the schema of table `{name}`"))?,
        );
    }
    // One warning per virtual table for its shadow tables: their data is
    // the virtual table's (its own warning says where that is).
    for (owner, names) in shadows {
        let list = names
            .iter()
            .map(|n| format!("`{n}`"))
            .collect::<Vec<_>>()
            .join(", ");
        let msg = match fates.get(&owner) {
            Some(fate) => format!(
                "`{owner}`'s shadow tables (its internal storage) are not moved: {list}{fate}"
            ),
            None => format!("shadow tables of a virtual table are not moved: {list}"),
        };
        tracing::warn!("{msg}");
        warnings.push(msg);
    }
    // Parent names as the tables spell them.
    let canon: HashMap<String, String> = tables
        .iter()
        .map(|t| (t.name.to_lowercase(), t.name.clone()))
        .collect();
    for t in &mut tables {
        for fk in &mut t.foreign_keys {
            if let Some(c) = canon.get(&fk.ref_table.to_lowercase()) {
                fk.ref_table = c.clone();
            }
        }
    }
    warnings.extend(crate::sqlite::schema::not_moved::triggers(conn)?);
    Ok(SourceSchema {
        tables: parents_first(tables),
        views,
        warnings,
    })
}

/// A view as a table of its rows (no keys, no indexes): what `init`
/// profiles to type the columns of a view the mapping may materialize.
pub fn view_as_table(conn: &Connection, name: &str) -> Result<SourceTable> {
    let what = || format!("cannot read view `{name}`");
    let columns: Vec<SourceColumn> = conn
        .prepare("SELECT name, coalesce(type, '') FROM pragma_table_info(?1) ORDER BY cid")
        .and_then(|mut st| {
            st.query_map(params![name], |r| {
                Ok(SourceColumn {
                    name: r.get(0)?,
                    declared_type: r.get(1)?,
                    not_null: false,
                    default: None,
                    pk_position: 0,
                    hidden: 0,
                    generated: None,
                    collation: None,
                })
            })?
            .collect()
        })
        .with_context(what)?;
    let row_count = count_rows(conn, name).with_context(what)?;
    Ok(SourceTable {
        name: name.to_string(),
        columns,
        primary_key: Vec::new(),
        autoincrement: false,
        without_rowid: true,
        rowid_alias: None,
        indexes: Vec::new(),
        foreign_keys: Vec::new(),
        checks: Vec::new(),
        row_count,
        sql: String::new(),
        sequence: None,
        virtual_module: None,
    })
}

/// One table: its columns as the pragmas and its SQL give them, its keys,
/// indexes and foreign keys, and its row count. `name` is the table's own
/// spelling, `sql` its CREATE TABLE.
fn read_table(conn: &Connection, name: &str, sql: &str) -> Result<SourceTable> {
    let toks = tokenize(sql).unwrap_or_default();
    let columns = read_columns(conn, name, sql)?;
    let primary_key = primary_key_of(&columns);
    let autoincrement = toks.iter().any(|t| t.is_word("autoincrement"));
    let without_rowid = table_options(&toks)
        .windows(2)
        .any(|w| w[0].is_word("without") && w[1].is_word("rowid"));
    let rowid_alias = rowid_alias(&columns, &primary_key, without_rowid);
    let checks = check_constraints(sql, &toks);
    let indexes = read_indexes(conn, name)?;
    let foreign_keys = read_foreign_keys(conn, name, &toks)?;
    let row_count = count_rows(conn, name).context("cannot count rows")?;
    let sequence = if autoincrement {
        sequence_of(conn, name)
    } else {
        None
    };
    Ok(SourceTable {
        name: name.to_string(),
        columns,
        primary_key,
        autoincrement,
        without_rowid,
        rowid_alias,
        indexes,
        foreign_keys,
        checks,
        row_count,
        sql: sql.to_string(),
        sequence,
        virtual_module: None,
    })
}

/// The columns of `pragma_table_xinfo` (hidden and generated ones too),
/// with what only the CREATE TABLE says: collations and generation
/// expressions.
fn read_columns(conn: &Connection, name: &str, sql: &str) -> Result<Vec<SourceColumn>> {
    let mut st = conn.prepare(
        "SELECT name, coalesce(type, ''), \"notnull\", dflt_value, pk, hidden \
         FROM pragma_table_xinfo(?1) ORDER BY cid",
    )?;
    let mut columns: Vec<SourceColumn> = st
        .query_map(params![name], |r| {
            Ok(SourceColumn {
                name: r.get(0)?,
                declared_type: r.get(1)?,
                not_null: r.get::<_, i64>(2)? != 0,
                default: r.get(3)?,
                pk_position: r.get::<_, i64>(4)? as u32,
                hidden: r.get::<_, i64>(5)? as i32,
                generated: None,
                collation: None,
            })
        })?
        .collect::<rusqlite::Result<_>>()?;
    for (name, coll) in crate::sqlite::schema::columns::column_collations(sql) {
        if let Some(c) = columns
            .iter_mut()
            .find(|c| c.name.eq_ignore_ascii_case(&name))
        {
            c.collation = (!coll.eq_ignore_ascii_case("binary")).then_some(coll);
        }
    }
    for g in crate::sqlite::schema::columns::generated_columns(sql) {
        if let Some(c) = columns
            .iter_mut()
            .find(|c| c.hidden >= 2 && c.name.eq_ignore_ascii_case(&g.column))
        {
            c.generated = Some(g.expr);
        }
    }
    Ok(columns)
}

/// The primary key's columns in key order.
fn primary_key_of(columns: &[SourceColumn]) -> Vec<String> {
    let mut pk: Vec<&SourceColumn> = columns.iter().filter(|c| c.pk_position > 0).collect();
    pk.sort_by_key(|c| c.pk_position);
    pk.iter().map(|c| c.name.clone()).collect()
}

/// The column that is the rowid under another name: a one-column primary
/// key declared exactly `INTEGER`, in a table that has a rowid.
fn rowid_alias(
    columns: &[SourceColumn],
    primary_key: &[String],
    without_rowid: bool,
) -> Option<String> {
    let [pk] = primary_key else { return None };
    let declared = columns.iter().find(|c| &c.name == pk)?.declared_type.trim();
    (!without_rowid && declared.eq_ignore_ascii_case("integer")).then(|| pk.clone())
}

/// Every index but the primary key's, by name.
fn read_indexes(conn: &Connection, name: &str) -> Result<Vec<SourceIndex>> {
    let mut st = conn.prepare(
        "SELECT name, \"unique\", origin FROM pragma_index_list(?1) \
         WHERE origin <> 'pk' ORDER BY name",
    )?;
    let list: Vec<(String, bool, String)> = st
        .query_map(params![name], |r| {
            Ok((r.get(0)?, r.get::<_, i64>(1)? != 0, r.get(2)?))
        })?
        .collect::<rusqlite::Result<_>>()?;
    list.into_iter()
        .map(|(iname, unique, origin)| read_index(conn, iname, unique, origin))
        .collect()
}

/// The foreign keys in declaration order, with the deferrability only the
/// SQL (`toks`) tells.
fn read_foreign_keys(
    conn: &Connection,
    name: &str,
    toks: &[Token],
) -> Result<Vec<SourceForeignKey>> {
    let mut st = conn.prepare(
        "SELECT id, \"table\", \"from\", \"to\", on_update, on_delete \
         FROM pragma_foreign_key_list(?1) ORDER BY id, seq",
    )?;
    type FkRow = (i64, String, String, Option<String>, String, String);
    let rows: Vec<FkRow> = st
        .query_map(params![name], |r| {
            Ok((
                r.get(0)?,
                r.get(1)?,
                r.get(2)?,
                r.get(3)?,
                r.get(4)?,
                r.get(5)?,
            ))
        })?
        .collect::<rusqlite::Result<_>>()?;
    let mut fks: BTreeMap<i64, SourceForeignKey> = BTreeMap::new();
    for (id, parent, from, to, on_update, on_delete) in rows {
        let fk = fks.entry(id).or_insert_with(|| SourceForeignKey {
            columns: Vec::new(),
            ref_table: parent,
            ref_columns: Vec::new(),
            on_delete,
            on_update,
            deferrable: None,
        });
        fk.columns.push(from);
        if let Some(to) = to {
            fk.ref_columns.push(to);
        }
    }
    // SQLite numbers foreign keys last-declared first.
    let mut foreign_keys: Vec<SourceForeignKey> = fks.into_values().rev().collect();
    for fk in &mut foreign_keys {
        // Partly named parent columns cannot happen in valid SQL; be safe.
        if fk.ref_columns.len() != fk.columns.len() {
            fk.ref_columns.clear();
        }
    }
    // The pragma does not tell DEFERRABLE: one clause per foreign key in
    // declaration order (if the counts disagree, nothing is assumed).
    let deferrable = fk_deferrability(toks);
    if deferrable.len() == foreign_keys.len() {
        for (fk, d) in foreign_keys.iter_mut().zip(deferrable) {
            fk.deferrable = d;
        }
    }
    Ok(foreign_keys)
}

/// `count(*)` of a table or view.
fn count_rows(conn: &Connection, name: &str) -> rusqlite::Result<u64> {
    let n: i64 = conn.query_row(
        &format!("SELECT count(*) FROM {}", sqlite_quote(name)),
        [],
        |r| r.get(0),
    )?;
    Ok(n as u64)
}

/// An AUTOINCREMENT table's last rowid handed out, from `sqlite_sequence`
/// (which does not exist before the first such row).
fn sequence_of(conn: &Connection, name: &str) -> Option<i64> {
    conn.query_row(
        "SELECT seq FROM sqlite_sequence WHERE name = ?1",
        params![name],
        |r| r.get(0),
    )
    .optional()
    .unwrap_or(None)
}

/// Tokens after the column-definition list of a CREATE TABLE
/// (`WITHOUT ROWID`, `STRICT`).
fn table_options(toks: &[Token]) -> &[Token] {
    toks.iter()
        .position(|t| t.is_op("("))
        .and_then(|open| matching_paren(toks, open))
        .map(|close| &toks[close + 1..])
        .unwrap_or(&[])
}

/// For each `REFERENCES` clause of a CREATE TABLE, in order: whether it is
/// `DEFERRABLE INITIALLY DEFERRED` (`Some(true)`), `DEFERRABLE` otherwise
/// (`Some(false)`), or not deferrable (`None`). The clause ends at the next
/// comma or closing parenthesis at its own depth.
fn fk_deferrability(toks: &[Token]) -> Vec<Option<bool>> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < toks.len() {
        if !toks[i].is_word("references") {
            i += 1;
            continue;
        }
        let mut depth = 0i32;
        let mut j = i + 1;
        let mut found = None;
        while j < toks.len() {
            let t = &toks[j];
            if t.is_op("(") {
                depth += 1;
            } else if t.is_op(")") {
                if depth == 0 {
                    break;
                }
                depth -= 1;
            } else if depth == 0 && (t.is_op(",") || t.is_word("references")) {
                break;
            } else if depth == 0 && t.is_word("deferrable") {
                let negated = j > 0 && toks[j - 1].is_word("not");
                let deferred = toks.get(j + 1).is_some_and(|t| t.is_word("initially"))
                    && toks.get(j + 2).is_some_and(|t| t.is_word("deferred"));
                found = (!negated).then_some(deferred);
            }
            j += 1;
        }
        out.push(found);
        i = j;
    }
    out
}

/// CHECK expressions of a CREATE TABLE, column and table constraints alike.
fn check_constraints(sql: &str, toks: &[Token]) -> Vec<String> {
    let mut out = Vec::new();
    for (i, t) in toks.iter().enumerate() {
        if t.is_word("check") && toks.get(i + 1).is_some_and(|n| n.is_op("(")) {
            if let Some(close) = matching_paren(toks, i + 1) {
                if close > i + 2 {
                    out.push(sql[toks[i + 2].start..toks[close - 1].end].to_string());
                }
            }
        }
    }
    out
}

fn read_index(
    conn: &Connection,
    name: String,
    unique: bool,
    origin: String,
) -> Result<SourceIndex> {
    let sql: Option<String> = conn
        .query_row(
            "SELECT sql FROM sqlite_schema WHERE type = 'index' AND name = ?1",
            params![name],
            |r| r.get(0),
        )
        .optional()?
        .flatten();
    let mut st = conn.prepare(
        "SELECT cid, name, \"desc\", coalesce(coll, 'BINARY') FROM pragma_index_xinfo(?1) \
         WHERE key = 1 ORDER BY seqno",
    )?;
    let parts: Vec<(i64, Option<String>, bool, String)> = st
        .query_map(params![name], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get::<_, i64>(2)? != 0, r.get(3)?))
        })?
        .collect::<rusqlite::Result<_>>()?;
    let (items, partial_where) = match &sql {
        Some(s) => parse_create_index(s),
        None => (Vec::new(), None),
    };
    let mut columns = Vec::new();
    for (k, (cid, cname, desc, coll)) in parts.into_iter().enumerate() {
        let part = match (cid, cname) {
            (c, Some(n)) if c >= 0 => IndexPart::Column {
                name: n,
                desc,
                collation: (!coll.eq_ignore_ascii_case("binary")).then_some(coll),
            },
            // -1: the rowid; -2: an expression (its text is only in the SQL).
            (-1, _) => IndexPart::Expression {
                sql: "rowid".into(),
                desc,
            },
            _ => IndexPart::Expression {
                sql: items.get(k).cloned().unwrap_or_default(),
                desc,
            },
        };
        columns.push(part);
    }
    Ok(SourceIndex {
        name,
        unique,
        origin,
        columns,
        partial_where,
        sql,
    })
}

/// The indexed items (text, without ASC/DESC) and the WHERE text of a
/// CREATE INDEX statement.
fn parse_create_index(sql: &str) -> (Vec<String>, Option<String>) {
    let Ok(toks) = tokenize(sql) else {
        return (Vec::new(), None);
    };
    let Some(on) = toks.iter().position(|t| t.is_word("on")) else {
        return (Vec::new(), None);
    };
    let Some(open) = toks
        .iter()
        .skip(on)
        .position(|t| t.is_op("("))
        .map(|p| p + on)
    else {
        return (Vec::new(), None);
    };
    let Some(close) = matching_paren(&toks, open) else {
        return (Vec::new(), None);
    };
    let mut items = Vec::new();
    let mut depth = 0;
    let mut item_start = open + 1;
    for k in open + 1..=close {
        let t = &toks[k];
        if t.is_op("(") {
            depth += 1;
        } else if t.is_op(")") && depth > 0 {
            depth -= 1;
        } else if (t.is_op(",") && depth == 0) || k == close {
            let mut end = k;
            while end > item_start
                && (toks[end - 1].is_word("asc") || toks[end - 1].is_word("desc"))
            {
                end -= 1;
            }
            if end > item_start {
                items.push(sql[toks[item_start].start..toks[end - 1].end].to_string());
            } else {
                items.push(String::new());
            }
            item_start = k + 1;
        }
    }
    let partial = toks
        .get(close + 1)
        .filter(|t| t.is_word("where"))
        .map(|t| sql[t.end..].trim().trim_end_matches(';').trim().to_string())
        .filter(|s| !s.is_empty());
    (items, partial)
}

/// Order tables so that every foreign-key parent comes before its children;
/// within that, by name. Tables in a cycle go in name order.
fn parents_first(mut tables: Vec<SourceTable>) -> Vec<SourceTable> {
    tables.sort_by(|a, b| a.name.cmp(&b.name));
    let names: HashSet<String> = tables.iter().map(|t| t.name.to_lowercase()).collect();
    let parents: Vec<HashSet<String>> = tables
        .iter()
        .map(|t| {
            t.foreign_keys
                .iter()
                .map(|fk| fk.ref_table.to_lowercase())
                .filter(|p| *p != t.name.to_lowercase() && names.contains(p))
                .collect()
        })
        .collect();
    let mut placed: HashSet<String> = HashSet::new();
    let mut order: Vec<usize> = Vec::new();
    let mut remaining: Vec<usize> = (0..tables.len()).collect();
    while !remaining.is_empty() {
        let pick = remaining
            .iter()
            .position(|&i| parents[i].iter().all(|p| placed.contains(p)))
            .unwrap_or(0); // a cycle: the first by name breaks it
        let i = remaining.remove(pick);
        placed.insert(tables[i].name.to_lowercase());
        order.push(i);
    }
    let mut slots: Vec<Option<SourceTable>> = tables.into_iter().map(Some).collect();
    order.into_iter().filter_map(|i| slots[i].take()).collect()
}

#[cfg(test)]
mod tests {

    #[test]
    fn foreign_keys_keep_deferrable_as_declared() {
        let conn = Connection::open_in_memory().unwrap();
        conn.execute_batch(
            "CREATE TABLE p (id INTEGER PRIMARY KEY);
             CREATE TABLE c (
               a INTEGER REFERENCES p (id) DEFERRABLE INITIALLY DEFERRED NOT NULL,
               b INTEGER REFERENCES p ON DELETE CASCADE,
               d INTEGER,
               e INTEGER,
               FOREIGN KEY (d) REFERENCES p (id) DEFERRABLE,
               FOREIGN KEY (e) REFERENCES p (id) NOT DEFERRABLE INITIALLY DEFERRED
             );",
        )
        .unwrap();
        let s = introspect(&conn).unwrap();
        let c = s.table("c").unwrap();
        let got: Vec<(String, Option<bool>)> = c
            .foreign_keys
            .iter()
            .map(|f| (f.columns[0].clone(), f.deferrable))
            .collect();
        assert_eq!(
            got,
            vec![
                ("a".to_string(), Some(true)),
                ("b".to_string(), None),
                ("d".to_string(), Some(false)),
                ("e".to_string(), None),
            ]
        );
    }
    use super::*;

    fn db(sql: &str) -> Connection {
        let c = Connection::open_in_memory().unwrap();
        c.execute_batch(sql).unwrap();
        c
    }

    #[test]
    fn reads_columns_keys_and_flags() {
        let c = db(r#"
            CREATE TABLE "User Accounts" (
              id INTEGER PRIMARY KEY AUTOINCREMENT,
              "select" text NOT NULL DEFAULT 'x',
              score int(5) DEFAULT 0 CHECK (score >= 0),
              "a""b" nvarchar(20),
              full_name TEXT GENERATED ALWAYS AS ("select" || '!') VIRTUAL,
              CHECK (length("select") > 0)
            );
            CREATE TABLE pairs (a INT, b TEXT, v, PRIMARY KEY (b, a)) WITHOUT ROWID;
            CREATE TABLE plain (id integer primary key desc, x);
            INSERT INTO "User Accounts"("select") VALUES ('a'), ('b'), ('c');
            DELETE FROM "User Accounts" WHERE id = 3;
        "#);
        let s = introspect(&c).unwrap();
        let u = s.table("user accounts").unwrap();
        assert_eq!(u.name, "User Accounts");
        assert!(u.autoincrement && !u.without_rowid);
        assert_eq!(u.rowid_alias.as_deref(), Some("id"));
        assert_eq!(u.row_count, 2);
        assert_eq!(u.sequence, Some(3));
        let names: Vec<_> = u.columns.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(names, ["id", "select", "score", "a\"b", "full_name"]);
        assert_eq!(u.columns[1].default.as_deref(), Some("'x'"));
        assert!(u.columns[1].not_null);
        assert_eq!(u.columns[2].declared_type, "int(5)");
        assert_eq!(u.columns[4].hidden, 2);
        assert_eq!(u.checks, ["score >= 0", "length(\"select\") > 0"]);

        let p = s.table("pairs").unwrap();
        assert!(p.without_rowid && p.rowid_alias.is_none() && !p.autoincrement);
        assert_eq!(p.primary_key, ["b", "a"]);
        assert!(p.indexes.is_empty(), "{:?}", p.indexes);
        assert_eq!(p.columns[2].declared_type, "");

        // `integer` (any case) aliases the rowid.
        let pl = s.table("plain").unwrap();
        assert_eq!(pl.rowid_alias.as_deref(), Some("id"));
    }

    #[test]
    fn reads_indexes() {
        let c = db(r#"
            CREATE TABLE t (id INTEGER PRIMARY KEY, email TEXT UNIQUE, a INT, b INT,
                            deleted_at DATETIME, UNIQUE (a, b));
            CREATE INDEX t_lower ON t (lower(email), a DESC);
            CREATE INDEX "t live" ON "t"(a) WHERE deleted_at IS NULL;
            CREATE INDEX t_nocase ON t (email COLLATE NOCASE);
        "#);
        let s = introspect(&c).unwrap();
        let t = s.table("t").unwrap();
        let by = |n: &str| t.indexes.iter().find(|i| i.name == n).unwrap();
        let uniq: Vec<_> = t.indexes.iter().filter(|i| i.origin == "u").collect();
        assert_eq!(uniq.len(), 2);
        assert!(uniq.iter().all(|i| i.unique && i.sql.is_none()));
        let l = by("t_lower");
        assert_eq!(
            l.columns,
            [
                IndexPart::Expression {
                    sql: "lower(email)".into(),
                    desc: false
                },
                IndexPart::Column {
                    name: "a".into(),
                    desc: true,
                    collation: None
                }
            ]
        );
        assert_eq!(
            by("t live").partial_where.as_deref(),
            Some("deleted_at IS NULL")
        );
        assert_eq!(
            by("t_nocase").columns,
            [IndexPart::Column {
                name: "email".into(),
                desc: false,
                collation: Some("NOCASE".into())
            }]
        );
    }

    #[test]
    fn foreign_keys_and_parent_first_order() {
        let c = db(r#"
            PRAGMA foreign_keys = OFF;
            CREATE TABLE c_items (id INTEGER PRIMARY KEY, order_id INT REFERENCES "ORDER"(id) ON DELETE CASCADE,
                                  ka INT, kb INT, FOREIGN KEY (ka, kb) REFERENCES b_pairs);
            CREATE TABLE "order" (id INTEGER PRIMARY KEY, customer INT REFERENCES a_customers);
            CREATE TABLE a_customers (id INTEGER PRIMARY KEY, best_order INT REFERENCES "order"(id));
            CREATE TABLE b_pairs (x INT, y INT, PRIMARY KEY (x, y));
            CREATE TABLE z_root (id INTEGER PRIMARY KEY, parent INT REFERENCES z_root(id));
            CREATE TABLE vt_src (x);
            CREATE VIRTUAL TABLE ft USING fts5(body);
            CREATE VIEW v AS SELECT * FROM b_pairs;
        "#);
        let s = introspect(&c).unwrap();
        assert_eq!(s.views, ["v"]);
        // A standalone FTS table moves, its rowid a column; its shadow
        // tables do not.
        assert!(
            s.warnings
                .iter()
                .any(|w| w.contains("virtual table `ft`") && w.contains("moves as a plain table")),
            "{:?}",
            s.warnings
        );
        assert!(
            s.warnings
                .iter()
                .any(|w| w.starts_with("`ft`'s shadow tables") && w.contains("`ft_data`")),
            "{:?}",
            s.warnings
        );
        let ft = s.table("ft").unwrap();
        let cols: Vec<_> = ft
            .columns
            .iter()
            .filter(|c| c.hidden == 0)
            .map(|c| c.name.as_str())
            .collect();
        assert_eq!(cols, ["rowid", "body"]);
        assert_eq!(ft.primary_key, ["rowid"]);
        assert_eq!(ft.virtual_module.as_deref(), Some("fts5"));
        let order: Vec<_> = s.tables.iter().map(|t| t.name.as_str()).collect();
        // Each step takes the first table (by name) whose parents are placed;
        // a_customers <-> order is a cycle, broken at a_customers.
        assert_eq!(
            order,
            [
                "b_pairs",
                "ft",
                "vt_src",
                "z_root",
                "a_customers",
                "order",
                "c_items"
            ]
        );
        let ci = s.table("c_items").unwrap();
        assert_eq!(ci.foreign_keys.len(), 2);
        let fk = &ci.foreign_keys[0];
        assert_eq!(fk.ref_table, "order");
        assert_eq!(fk.columns, ["order_id"]);
        assert_eq!(fk.ref_columns, ["id"]);
        assert_eq!(fk.on_delete, "CASCADE");
        assert_eq!(fk.on_update, "NO ACTION");
        let fk2 = &ci.foreign_keys[1];
        assert_eq!(fk2.columns, ["ka", "kb"]);
        assert!(fk2.ref_columns.is_empty());
    }

    #[test]
    fn create_index_parsing() {
        let (items, w) = parse_create_index(
            "CREATE UNIQUE INDEX i ON t(substr(a, 1, 2) DESC, \"b c\", [d]) WHERE (x > 1) AND y",
        );
        assert_eq!(items, ["substr(a, 1, 2)", "\"b c\"", "[d]"]);
        assert_eq!(w.as_deref(), Some("(x > 1) AND y"));
    }
}
