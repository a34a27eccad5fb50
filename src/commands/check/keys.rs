//! Keys over the converted values: what `finalize` would find (primary
//! keys and unique indexes, with PostgreSQL's case folding where the key
//! has it), checked by `check` before anything is loaded.

use super::KeyProblem;
use crate::config::plan::TablePlan;
use crate::pg::types::PgType;
use crate::sqlite::read::source;
use crate::sqlite::sql::quote::sqlite_quote;
use anyhow::Result;
use std::collections::{HashMap, HashSet};
use std::path::Path;

const EXAMPLES: usize = 3;

/// NULLs in the primary key, duplicates of the primary key and of every
/// unique index over plain columns (expression and partial indexes are
/// left to PostgreSQL), among the rows that would load. Values are
/// compared as converted for the target (`1` and `'1'` into text are
/// one value). Keeps one entry per distinct key value in memory.
pub(super) fn check_keys(
    path: &Path,
    t: &TablePlan,
    rowid: Option<&str>,
    rejected: &HashSet<String>,
) -> Result<Vec<KeyProblem>> {
    let keys = keys_finalize_builds(t);
    if keys.is_empty() {
        return Ok(Vec::new());
    }
    let read = columns_read(&keys);
    let conn = source::open_readonly(path)?;
    let mut stmt = conn.prepare(&select_sql(t, rowid, &read))?;
    let mut rows = stmt.query([])?;
    let mut tallies: Vec<Tally> = keys.iter().map(|_| Tally::default()).collect();
    let mut position = 0u64;
    while let Some(sqlite_row) = rows.next()? {
        position += 1;
        let row = KeyRow::read(t, &read, sqlite_row, position)?;
        if rejected.contains(&row.name) {
            continue;
        }
        for (key, tally) in keys.iter().zip(&mut tallies) {
            tally.add(key, &row);
        }
    }
    Ok(tallies.into_iter().flat_map(Tally::into_problems).collect())
}

/// A key `finalize` builds, as this check compares it.
struct Key {
    /// `primary key (a, b)` or `unique index name (a, b)`.
    name: String,
    /// Positions of its columns in the table plan.
    columns: Vec<usize>,
    /// Per column: compared as PostgreSQL's lower() folds it (citext, or
    /// `(lower("column"))` in the index: init's form of SQLite's NOCASE).
    folded: Vec<bool>,
    /// A primary key allows no NULL; a unique index lets NULLs repeat.
    primary: bool,
}

impl Key {
    fn new(name: String, columns: Vec<usize>, folded_columns: &[usize], primary: bool) -> Key {
        let folded = columns.iter().map(|i| folded_columns.contains(i)).collect();
        Key {
            name,
            columns,
            folded,
            primary,
        }
    }

    /// Some column folds case: rows that differ may still be one key.
    fn folds(&self) -> bool {
        self.folded.iter().any(|&f| f)
    }
}

/// The primary key (unless it is SQLite's rowid) and the unique indexes
/// over plain columns: the keys whose values a source row decides.
fn keys_finalize_builds(t: &TablePlan) -> Vec<Key> {
    let position = |name: &str| t.columns.iter().position(|c| c.target == name);
    let citext: Vec<usize> = (0..t.columns.len())
        .filter(|&i| t.columns[i].ty == PgType::Citext)
        .collect();
    let mut keys = Vec::new();
    if !t.primary_key.is_empty() {
        let columns: Option<Vec<usize>> = t.primary_key.iter().map(|c| position(c)).collect();
        // A single identity column is SQLite's rowid: unique, never NULL.
        let is_rowid = t.primary_key.len() == 1
            && columns
                .as_ref()
                .and_then(|c| c.first())
                .is_some_and(|&i| t.columns[i].identity);
        if let (Some(columns), false) = (columns, is_rowid) {
            let name = format!("primary key ({})", t.primary_key.join(", "));
            keys.push(Key::new(name, columns, &citext, true));
        }
    }
    for index in t
        .indexes
        .iter()
        .filter(|i| i.unique && i.predicate.is_none())
    {
        let mut lowered = citext.clone();
        let columns = index
            .columns
            .iter()
            .map(|c| {
                let (name, lower) = index_column(c)?;
                let i = position(&name)?;
                if lower {
                    lowered.push(i);
                }
                Some(i)
            })
            .collect::<Option<Vec<_>>>();
        if let Some(columns) = columns {
            let name = format!("unique index {} ({})", index.name, index.columns.join(", "));
            keys.push(Key::new(name, columns, &lowered, false));
        }
    }
    keys
}

/// Every column some key uses, each once, in table order.
fn columns_read(keys: &[Key]) -> Vec<usize> {
    let mut read: Vec<usize> = keys.iter().flat_map(|k| k.columns.clone()).collect();
    read.sort_unstable();
    read.dedup();
    read
}

/// The rowid (NULL without one), then the key columns, of the rows the
/// table's filter keeps.
fn select_sql(t: &TablePlan, rowid: Option<&str>, read: &[usize]) -> String {
    let list: Vec<String> = read
        .iter()
        .map(|&i| sqlite_quote(&t.columns[i].source))
        .collect();
    format!(
        "SELECT {}, {} FROM {} WHERE 1 = 1{}",
        rowid.unwrap_or("NULL"),
        list.join(", "),
        sqlite_quote(&t.source),
        t.filter_clause("AND")
    )
}

/// One source row as the keys see it.
struct KeyRow<'a> {
    /// `rowid 7`, or `row 7` (its position) in a table without rowids: the
    /// name a reject of the row has.
    name: String,
    /// Each key column's value as converted for the target, by position in
    /// the plan; `None` for NULL and for a value the load would reject.
    converted: HashMap<usize, Option<String>>,
    sqlite: &'a rusqlite::Row<'a>,
    read: &'a [usize],
}

impl<'a> KeyRow<'a> {
    fn read(
        t: &TablePlan,
        read: &'a [usize],
        sqlite: &'a rusqlite::Row<'a>,
        position: u64,
    ) -> Result<KeyRow<'a>> {
        let name = match sqlite.get_ref(0)? {
            rusqlite::types::ValueRef::Integer(i) => format!("rowid {i}"),
            _ => format!("row {position}"),
        };
        let mut converted = HashMap::new();
        for (k, &i) in read.iter().enumerate() {
            let value = match t.columns[i].converter.convert_ref(sqlite.get_ref(k + 1)?) {
                Ok(crate::pg::value::Value::Null) => None,
                Ok(v) => Some(format!("{v:?}")),
                Err(_) => None, // a reject: not loaded
            };
            converted.insert(i, value);
        }
        Ok(KeyRow {
            name,
            converted,
            sqlite,
            read,
        })
    }

    /// The row named with its values of `key` as SQLite holds them: rows a
    /// folding key makes one differ there, so the name alone would not
    /// show why.
    fn named_with_values(&self, key: &Key) -> String {
        let shown: Vec<String> = key
            .columns
            .iter()
            .map(|i| {
                raw_text(
                    self.sqlite
                        .get_ref(self.read.binary_search(i).unwrap_or(0) + 1),
                )
            })
            .collect();
        format!("{} ({})", self.name, shown.join(", "))
    }
}

/// What one key has met so far.
#[derive(Default)]
struct Tally {
    /// Each key value (case-folded where the key folds) → the first row
    /// that holds it.
    first_holder: HashMap<String, String>,
    /// For a folding key: the values as they are, to tell a true duplicate
    /// from one PostgreSQL's case folding makes.
    exact: HashSet<String>,
    nulls: Option<KeyProblem>,
    duplicates: Option<KeyProblem>,
}

impl Tally {
    fn add(&mut self, key: &Key, row: &KeyRow<'_>) {
        let parts: Vec<&Option<String>> = key.columns.iter().map(|i| &row.converted[i]).collect();
        if parts.iter().any(|p| p.is_none()) {
            if key.primary {
                count(&mut self.nulls, &key.name, "null", || row.name.clone());
            }
            return; // NULLs never collide in a unique index
        }
        let folds = key.folds();
        let value = compared_value(key, &parts);
        let label = if folds {
            row.named_with_values(key)
        } else {
            row.name.clone()
        };
        match self.first_holder.get(&value) {
            Some(first) => {
                let kind = if folds && !self.exact.contains(&parts_key(&parts)) {
                    "duplicate once case is folded"
                } else {
                    "duplicate"
                };
                count(&mut self.duplicates, &key.name, kind, || {
                    if folds {
                        format!("{label} same as {first}")
                    } else {
                        format!("{} (same as {first})", row.name)
                    }
                });
            }
            None => {
                self.first_holder.insert(value, label);
            }
        }
        if folds {
            self.exact.insert(parts_key(&parts));
        }
    }

    fn into_problems(self) -> impl Iterator<Item = KeyProblem> {
        self.nulls.into_iter().chain(self.duplicates)
    }
}

/// The key's value as PostgreSQL compares it: folded columns in lower case.
fn compared_value(key: &Key, parts: &[&Option<String>]) -> String {
    let values: Vec<String> = parts
        .iter()
        .zip(&key.folded)
        .map(|(p, &folded)| {
            let v = p.as_deref().unwrap_or("");
            if folded {
                fold_case(v)
            } else {
                v.to_string()
            }
        })
        .collect();
    values.join("\u{1}")
}

/// One more row against `problem` (made with `kind` at its first row),
/// the first few named.
fn count(
    problem: &mut Option<KeyProblem>,
    key: &str,
    kind: &'static str,
    example: impl FnOnce() -> String,
) {
    let p = problem.get_or_insert_with(|| KeyProblem {
        key: key.to_string(),
        kind,
        count: 0,
        examples: Vec::new(),
    });
    p.count += 1;
    if p.examples.len() < EXAMPLES {
        p.examples.push(example());
    }
}

/// The column an index column of the mapping names, and whether it is
/// compared as `lower(column)`: `x`, `("x") DESC`, `(lower("x"))`,
/// `(lower("x")) DESC` (how `init` writes them). `None` for other
/// expressions, which are left to PostgreSQL.
pub(super) fn index_column(c: &str) -> Option<(String, bool)> {
    let c = c.trim();
    let c = c
        .strip_suffix(" DESC")
        .or_else(|| c.strip_suffix(" ASC"))
        .unwrap_or(c)
        .trim();
    let Some(inner) = c.strip_prefix('(').and_then(|i| i.strip_suffix(')')) else {
        return Some((c.to_string(), false));
    };
    let inner = inner.trim();
    let (name, lower) = match inner
        .strip_prefix("lower(")
        .and_then(|i| i.strip_suffix(')'))
    {
        Some(arg) => (arg.trim(), true),
        None => (inner, false),
    };
    let unquoted = match name.strip_prefix('"').and_then(|n| n.strip_suffix('"')) {
        Some(q) if !q.replace("\"\"", "").contains('"') => q.replace("\"\"", "\""),
        Some(_) => return None,
        None if name.chars().all(|ch| ch.is_alphanumeric() || ch == '_') => name.to_string(),
        None => return None,
    };
    Some((unquoted, lower))
}

fn parts_key(parts: &[&Option<String>]) -> String {
    let v: Vec<&str> = parts.iter().map(|p| p.as_deref().unwrap_or("")).collect();
    v.join("\u{1}")
}

/// citext's rule (PostgreSQL's `lower()`): every character to its
/// lower case, all of Unicode (SQLite's NOCASE folds only A-Z).
pub(super) fn fold_case(s: &str) -> String {
    s.chars()
        .map(|c| c.to_lowercase().next().unwrap_or(c))
        .collect()
}

/// A source cell as shown in a report: text quoted, others as SQL.
fn raw_text(v: rusqlite::Result<rusqlite::types::ValueRef<'_>>) -> String {
    use rusqlite::types::ValueRef;
    match v {
        Ok(ValueRef::Text(b)) => format!("'{}'", String::from_utf8_lossy(b)),
        Ok(ValueRef::Integer(i)) => i.to_string(),
        Ok(ValueRef::Real(f)) => f.to_string(),
        Ok(ValueRef::Null) => "NULL".into(),
        Ok(ValueRef::Blob(b)) => format!("blob of {} bytes", b.len()),
        Err(e) => format!("({e})"),
    }
}
