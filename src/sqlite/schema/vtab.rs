//! Virtual tables: the module a `CREATE VIRTUAL TABLE` names and, for the
//! full-text modules (FTS3, FTS4, FTS5), its columns and where its rows
//! live. A standalone FTS table holds rows that exist nowhere else, so it
//! moves as a plain table (its rowid kept as a column); an external-content
//! one indexes another table's rows and a contentless one holds none, so
//! those are left out, each with a warning saying where the data is.

use crate::sqlite::schema::model::{SourceColumn, SourceTable};
use crate::sqlite::sql::lexer::{matching_paren, tokenize, Tok, Token};
use crate::sqlite::sql::quote::sqlite_quote;
use anyhow::{Context, Result};
use rusqlite::Connection;

/// `CREATE VIRTUAL TABLE … USING module(args)`: the module and each
/// argument's text (split at top-level commas).
#[derive(Debug, Clone, PartialEq)]
pub struct VirtualDecl {
    pub module: String,
    pub args: Vec<String>,
}

/// Where an FTS table's rows are.
#[derive(Debug, Clone, PartialEq)]
pub enum FtsContent {
    /// In the FTS table itself (its `_content` shadow table).
    Own,
    /// `content=table`: another table's rows, indexed;
    /// `content_rowid` (FTS5) names that table's key.
    External {
        table: String,
        rowid: Option<String>,
    },
    /// `content=''`: none at all, only the index.
    Contentless,
}

#[derive(Debug, Clone, PartialEq)]
pub struct FtsColumn {
    pub name: String,
    /// FTS5 `UNINDEXED`: stored, not searchable.
    pub unindexed: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub struct FtsDecl {
    /// `fts3`, `fts4` or `fts5` (lower case).
    pub module: String,
    pub columns: Vec<FtsColumn>,
    pub content: FtsContent,
    /// Every `key=value` option (keys lower case, values unquoted), e.g.
    /// `tokenize`, `prefix`, `content`.
    pub options: Vec<(String, String)>,
}

fn word_text(t: &Token) -> Option<String> {
    match &t.tok {
        Tok::Word(w) | Tok::Num(w) => Some(w.clone()),
        Tok::Quoted { name, .. } | Tok::Str(name) => Some(name.clone()),
        _ => None,
    }
}

/// The module and arguments of a `CREATE VIRTUAL TABLE` statement; `None`
/// for any other statement.
pub fn parse_virtual(sql: &str) -> Option<VirtualDecl> {
    let toks = tokenize(sql).ok()?;
    if !(toks.first()?.is_word("create") && toks.get(1)?.is_word("virtual")) {
        return None;
    }
    let using = toks.iter().position(|t| t.is_word("using"))?;
    let module = word_text(toks.get(using + 1)?)?;
    let mut args = Vec::new();
    if let Some(open) = toks.get(using + 2).filter(|t| t.is_op("(")) {
        let _ = open;
        let close = matching_paren(&toks, using + 2)?;
        let mut depth = 0;
        let mut start = using + 3;
        for k in using + 3..=close {
            let t = &toks[k];
            if t.is_op("(") {
                depth += 1;
            } else if t.is_op(")") && k != close {
                depth -= 1;
            } else if (t.is_op(",") && depth == 0) || k == close {
                if k > start {
                    args.push(sql[toks[start].start..toks[k - 1].end].to_string());
                }
                start = k + 1;
            }
        }
    }
    Some(VirtualDecl { module, args })
}

/// The declaration of an FTS3/FTS4/FTS5 table: columns (FTS5 `UNINDEXED`
/// noted; FTS4 type names ignored) and options, `content=` read into where
/// the rows are. `None` for other modules.
pub fn parse_fts(sql: &str) -> Option<FtsDecl> {
    let decl = parse_virtual(sql)?;
    let module = decl.module.to_ascii_lowercase();
    if !matches!(module.as_str(), "fts3" | "fts4" | "fts5") {
        return None;
    }
    let mut columns = Vec::new();
    let mut options = Vec::new();
    for arg in &decl.args {
        let toks = tokenize(arg).ok()?;
        let Some(first) = toks.first() else { continue };
        let key = match &first.tok {
            Tok::Word(w) => Some(w.to_ascii_lowercase()),
            _ => None,
        };
        if let (Some(key), Some(eq)) = (&key, toks.get(1).filter(|t| t.is_op("="))) {
            let value = match &toks[2..] {
                [one] => word_text(one).unwrap_or_else(|| arg[one.start..one.end].to_string()),
                [] => String::new(),
                _ => arg[eq.end..].trim().to_string(),
            };
            options.push((key.clone(), value));
            continue;
        }
        // FTS3/4 also take `tokenize porter` without `=`.
        if module != "fts5" && key.as_deref() == Some("tokenize") {
            options.push(("tokenize".into(), arg[first.end..].trim().to_string()));
            continue;
        }
        if let Some(name) = word_text(first) {
            let unindexed = module == "fts5" && toks[1..].iter().any(|t| t.is_word("unindexed"));
            columns.push(FtsColumn { name, unindexed });
        }
    }
    let opt = |k: &str| options.iter().find(|(o, _)| o == k).map(|(_, v)| v.clone());
    let content = match opt("content") {
        None => FtsContent::Own,
        Some(v) if v.is_empty() => FtsContent::Contentless,
        Some(table) => FtsContent::External {
            table,
            rowid: opt("content_rowid"),
        },
    };
    Some(FtsDecl {
        module,
        columns,
        content,
        options,
    })
}

/// What becomes of a virtual table.
#[derive(Debug, Clone, PartialEq)]
pub enum VirtualFate {
    /// A standalone FTS table: moves as a plain table; the note (for
    /// stderr and the mapping) says how and what to build in PostgreSQL.
    Moves {
        decl: FtsDecl,
        note: String,
        /// The column its rowid becomes.
        rowid: &'static str,
    },
    /// Left out; the warning says where its data is.
    Skipped { warning: String },
}

/// Every virtual table of the source with what becomes of it, by name.
pub fn fates(conn: &Connection) -> Result<Vec<(String, VirtualFate)>> {
    let mut st = conn
        .prepare(
            "SELECT l.name, coalesce(s.sql, '') FROM pragma_table_list l \
             JOIN sqlite_schema s ON s.name = l.name \
             WHERE l.schema = 'main' AND l.type = 'virtual' ORDER BY l.name",
        )
        .context("cannot read sqlite_schema")?;
    let virtuals: Vec<(String, String)> = st
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<rusqlite::Result<_>>()
        .context("cannot read sqlite_schema")?;
    let tables: Vec<String> = conn
        .prepare("SELECT name FROM pragma_table_list WHERE schema = 'main' AND type = 'table'")?
        .query_map([], |r| r.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    let exists = |t: &str| tables.iter().any(|n| n.eq_ignore_ascii_case(t));
    Ok(virtuals
        .into_iter()
        .map(|(name, sql)| {
            let fate = fate(conn, &name, &sql, exists);
            (name, fate)
        })
        .collect())
}

/// Decide a virtual table's fate. `table_exists` tells whether the source
/// has a table of that name (for an external content table).
pub fn fate(
    conn: &Connection,
    name: &str,
    sql: &str,
    table_exists: impl Fn(&str) -> bool,
) -> VirtualFate {
    let skipped = |data: String, why: &str| VirtualFate::Skipped {
        warning: format!("virtual table `{name}` is not moved ({why}): {data}"),
    };
    let module = parse_virtual(sql)
        .map(|d| d.module)
        .unwrap_or_else(|| "?".into());
    // A module this SQLite lacks cannot even be read.
    let readable = conn.prepare(&format!("SELECT count(*) FROM {}", sqlite_quote(name)));
    if let Err(e) = readable {
        return skipped(
            format!(
                "its rows are in the module's own storage, readable only with module `{module}` loaded ({e})"
            ),
            "module not available in the bundled SQLite",
        );
    }
    let Some(decl) = parse_fts(sql) else {
        return skipped(
            format!("its rows are readable only through it (`SELECT * FROM {}`); recreate it in PostgreSQL by hand", sqlite_quote(name)),
            &format!("module `{module}`: only FTS3/4/5 tables move"),
        );
    };
    match &decl.content {
        FtsContent::External { table, rowid } => {
            let key = rowid
                .as_deref()
                .map(|r| format!(", by its `{r}`"))
                .unwrap_or_default();
            let present = if table_exists(table) {
                String::new()
            } else {
                " (no such table in this file)".into()
            };
            skipped(
                format!("its rows are table `{table}`'s{key}{present}; it is only a full-text index over them — in PostgreSQL, a `tsvector` column with a GIN index on `{table}`"),
                &format!("{} external-content table", decl.module),
            )
        }
        FtsContent::Contentless => skipped(
            "it holds no rows, only an index (contentless, `content=''`); its text was never stored".into(),
            &format!("{} contentless table", decl.module),
        ),
        FtsContent::Own => {
            let Some(rowid) = ROWID_NAMES
                .into_iter()
                .find(|r| !decl.columns.iter().any(|c| c.name.eq_ignore_ascii_case(r)))
            else {
                return skipped(
                    "its columns take every name its rowid could be read by (rowid, _rowid_, oid); copy it by hand".into(),
                    "no name left for its rowid",
                );
            };
            let cols: Vec<String> = decl.columns.iter().map(|c| c.name.clone()).collect();
            let searched: Vec<String> = decl
                .columns
                .iter()
                .filter(|c| !c.unindexed)
                .map(|c| format!("coalesce({}, '')", crate::pg::ident::quote(&c.name)))
                .collect();
            let unindexed: Vec<&str> = decl
                .columns
                .iter()
                .filter(|c| c.unindexed)
                .map(|c| c.name.as_str())
                .collect();
            let mut note = format!(
                "virtual table `{name}` ({} standalone full-text table) moves as a plain table: its columns ({}) and its rowid as column `{}` (primary key); its full-text index is not rebuilt. Full-text search in PostgreSQL is a `tsvector`: e.g. a column GENERATED ALWAYS AS (to_tsvector('simple', {})) STORED with a GIN index on it, added by hand",
                decl.module,
                cols.join(", "),
                rowid,
                searched.join(" || ' ' || ")
            );
            if !unindexed.is_empty() {
                note.push_str(&format!(
                    " (leave out the UNINDEXED {})",
                    unindexed.join(", ")
                ));
            }
            if let Some((_, t)) = decl.options.iter().find(|(k, _)| k == "tokenize") {
                note.push_str(&format!("; SQLite tokenized it with `{t}`"));
            }
            VirtualFate::Moves { decl, note, rowid }
        }
    }
}

/// The names a moved FTS table's rowid can become, the first its columns
/// leave free (FTS5 reserves `rowid`; FTS4 allows a column of that name).
/// PostgreSQL accepts them: none is one of its system columns. Selected by
/// that name, SQLite returns the rowid (`source::rowid_name` picks the same
/// first free one for the chunk ranges).
pub const ROWID_NAMES: [&str; 3] = ["rowid", "_rowid_", "oid"];

/// Make a standalone FTS table's rowid the column `rowid`: first, the
/// primary key, the rowid alias (an identity in PostgreSQL, as SQLite
/// numbers new rows). Errs when a column already has that name.
pub fn keep_rowid(t: &mut SourceTable, module: &str, rowid: &str) -> Result<(), String> {
    if t.column(rowid).is_some() {
        return Err(format!(
            "virtual table `{}` is not moved: it has a column named `{rowid}`, the name its rowid would take; copy it by hand",
            t.name
        ));
    }
    for c in &mut t.columns {
        c.pk_position = 0;
    }
    t.columns.insert(
        0,
        SourceColumn {
            name: rowid.into(),
            declared_type: "INTEGER".into(),
            not_null: true,
            default: None,
            pk_position: 1,
            hidden: 0,
            generated: None,
            collation: None,
        },
    );
    t.primary_key = vec![rowid.into()];
    t.rowid_alias = Some(rowid.into());
    t.virtual_module = Some(module.to_string());
    Ok(())
}

#[cfg(test)]
#[path = "vtab_tests.rs"]
mod tests;
