//! Keys over the converted values: what `finalize` would find (primary
//! keys and unique indexes, with PostgreSQL's case folding where the key
//! has it), checked by `check` before anything is loaded.

use super::KeyProblem;
use crate::config::plan::TablePlan;
use crate::pg::types::PgType;
use crate::sqlite::introspect::sqlite_quote;
use crate::sqlite::source;
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
    let mut sets: Vec<(String, Vec<usize>, bool)> = Vec::new();
    let pos = |name: &str| t.columns.iter().position(|c| c.target == name);
    // Columns compared as PostgreSQL's lower() folds them: citext, and
    // those of a unique index on `(lower("column"))` (init's form of
    // SQLite's COLLATE NOCASE there), per key.
    let mut folded: Vec<Vec<usize>> = Vec::new();
    let citext: Vec<usize> = (0..t.columns.len())
        .filter(|&i| t.columns[i].ty == PgType::Citext)
        .collect();
    if !t.primary_key.is_empty() {
        let cols: Option<Vec<usize>> = t.primary_key.iter().map(|c| pos(c)).collect();
        // A single identity column is SQLite's rowid: unique, never NULL.
        let rowid_key = t.primary_key.len() == 1
            && cols
                .as_ref()
                .and_then(|c| c.first())
                .is_some_and(|&i| t.columns[i].identity);
        if let (Some(cols), false) = (cols, rowid_key) {
            sets.push((
                format!("primary key ({})", t.primary_key.join(", ")),
                cols,
                true,
            ));
            folded.push(citext.clone());
        }
    }
    for ix in t
        .indexes
        .iter()
        .filter(|i| i.unique && i.predicate.is_none())
    {
        let mut lowered = citext.clone();
        if let Some(cols) = ix
            .columns
            .iter()
            .map(|c| {
                let (name, lower) = index_column(c)?;
                let i = pos(&name)?;
                if lower {
                    lowered.push(i);
                }
                Some(i)
            })
            .collect::<Option<Vec<_>>>()
        {
            let name = format!("unique index {} ({})", ix.name, ix.columns.join(", "));
            sets.push((name, cols, false));
            folded.push(lowered);
        }
    }
    if sets.is_empty() {
        return Ok(Vec::new());
    }
    let mut used: Vec<usize> = sets.iter().flat_map(|s| s.1.clone()).collect();
    used.sort_unstable();
    used.dedup();
    let list: Vec<String> = used
        .iter()
        .map(|&i| sqlite_quote(&t.columns[i].source))
        .collect();
    let key_expr = rowid.map(str::to_string).unwrap_or_else(|| "NULL".into());
    let sql = format!(
        "SELECT {key_expr}, {} FROM {} WHERE 1 = 1{}",
        list.join(", "),
        sqlite_quote(&t.source),
        t.filter_clause("AND")
    );
    let conn = source::open_readonly(path)?;
    let mut stmt = conn.prepare(&sql)?;
    let mut rows = stmt.query([])?;
    let mut seen: Vec<HashMap<String, String>> = vec![HashMap::new(); sets.len()];
    // Keys with a citext column: their exact values too, to tell a true
    // duplicate from one PostgreSQL's case folding makes.
    let mut seen_exact: Vec<HashSet<String>> = vec![HashSet::new(); sets.len()];
    let mut problems: Vec<Option<KeyProblem>> = vec![None; sets.len() * 2];
    let mut n = 0u64;
    while let Some(r) = rows.next()? {
        n += 1;
        let row = match r.get_ref(0)? {
            rusqlite::types::ValueRef::Integer(i) => format!("rowid {i}"),
            _ => format!("row {n}"),
        };
        if rejected.contains(&row) {
            continue;
        }
        let mut vals: HashMap<usize, Option<String>> = HashMap::new();
        for (k, &i) in used.iter().enumerate() {
            let v = t.columns[i].converter.convert_ref(r.get_ref(k + 1)?);
            vals.insert(
                i,
                match v {
                    Ok(crate::pg::value::Value::Null) => None,
                    Ok(v) => Some(format!("{v:?}")),
                    Err(_) => None, // a reject: not loaded
                },
            );
        }
        for (s, (name, cols, is_pk)) in sets.iter().enumerate() {
            let parts: Vec<&Option<String>> = cols.iter().map(|i| &vals[i]).collect();
            let folds = cols.iter().any(|i| folded[s].contains(i));
            if parts.iter().any(|p| p.is_none()) {
                if *is_pk {
                    let p = problems[2 * s].get_or_insert_with(|| problem(name, "null"));
                    p.count += 1;
                    if p.examples.len() < EXAMPLES {
                        p.examples.push(row.clone());
                    }
                }
                continue; // NULLs never collide in a unique index
            }
            let key: Vec<String> = cols
                .iter()
                .zip(&parts)
                .map(|(&i, p)| {
                    let v = p.as_deref().unwrap_or("");
                    if folded[s].contains(&i) {
                        fold_case(v)
                    } else {
                        v.to_string()
                    }
                })
                .collect();
            let key = key.join("\u{1}");
            // For a key with a citext column, rows are named with their
            // values: they differ, and only PostgreSQL's case folding
            // makes them one key.
            let label = if folds {
                let shown: Vec<String> = cols
                    .iter()
                    .map(|&i| raw_text(r.get_ref(used.binary_search(&i).unwrap_or(0) + 1)))
                    .collect();
                format!("{row} ({})", shown.join(", "))
            } else {
                row.clone()
            };
            match seen[s].get(&key) {
                Some(first) => {
                    let kind = if folds && !seen_exact[s].contains(&parts_key(&parts)) {
                        "duplicate once case is folded"
                    } else {
                        "duplicate"
                    };
                    let p = problems[2 * s + 1].get_or_insert_with(|| problem(name, kind));
                    p.count += 1;
                    if p.examples.len() < EXAMPLES {
                        p.examples.push(if folds {
                            format!("{label} same as {first}")
                        } else {
                            format!("{row} (same as {first})")
                        });
                    }
                }
                None => {
                    seen[s].insert(key, label);
                }
            }
            if folds {
                seen_exact[s].insert(parts_key(&parts));
            }
        }
    }
    Ok(problems.into_iter().flatten().collect())
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

fn problem(key: &str, kind: &'static str) -> KeyProblem {
    KeyProblem {
        key: key.to_string(),
        kind,
        count: 0,
        examples: Vec::new(),
    }
}
