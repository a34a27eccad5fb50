//! Views: a SQLite view's SELECT translated to PostgreSQL token by token,
//! over the target names of the mapping, or refused with the reason. The
//! translation keeps a small whitelist (column references, literals,
//! comparisons, arithmetic, `||`, CASE, a few functions, joins, GROUP BY,
//! ORDER BY, LIMIT) and refuses what would silently answer differently in
//! PostgreSQL: SQLite's ASCII-only case-insensitive `LIKE`, `GLOB`, a CAST
//! that truncates where PostgreSQL rounds, bare columns beside aggregates,
//! comparisons across storage classes, columns whose values changed type.
//!
//! The PostgreSQL view gets SQLite's own column names (its
//! `pragma table_info`), so a view over a view and the application's
//! queries see the same names; `*` is expanded to the mapped columns.

use crate::config::mapping::Pipeline;
use crate::pg::ident::{self, quote};
use crate::pg::types::PgType;
use crate::sqlite::sql::functions::Returns;
use crate::sqlite::sql::lexer::{matching_paren, split_commas, tokenize, Tok, Token};
use anyhow::{Context, Result};
use rusqlite::Connection;

mod auto;
mod clauses;
mod expr;
mod reads;
use reads::views_read;
pub use reads::{refuse_reads_of_skipped, relations_read};

/// A column of a relation a view may read.
#[derive(Debug, Clone)]
pub struct Column {
    pub source: String,
    /// Target name; `None` when the mapping does not move the column.
    pub target: Option<String>,
    /// Target type (`None` for a view's column: not known).
    pub ty: Option<PgType>,
}

/// A table of the mapping or a view of the source.
#[derive(Debug, Clone)]
pub struct Relation {
    pub source: String,
    pub target: String,
    /// SQLite's column order (what `*` gives).
    pub columns: Vec<Column>,
    /// Target names of the primary key (GROUP BY it makes its other
    /// columns single-valued).
    pub primary_key: Vec<String>,
    pub is_view: bool,
}

/// What a view may read, by source name.
#[derive(Debug, Clone, Default)]
pub struct Catalog {
    pub relations: Vec<Relation>,
    /// Tables of the source the mapping does not move (named in refusals).
    pub not_moved: Vec<String>,
}

impl Catalog {
    fn find(&self, name: &str) -> Option<&Relation> {
        self.relations
            .iter()
            .find(|r| r.source.eq_ignore_ascii_case(name))
    }
}

/// A view of the source: its name, `CREATE VIEW` statement and column
/// names as SQLite reports them.
#[derive(Debug, Clone)]
pub struct SourceView {
    pub name: String,
    pub sql: String,
    pub columns: Vec<String>,
}

/// A translated view: the PostgreSQL SELECT and the views it reads.
#[derive(Debug, Clone, PartialEq)]
pub struct Translated {
    pub sql: String,
    pub views_used: Vec<String>,
    /// The target type of each output column that is a column as it is
    /// (a view over this view compares and sorts it by its type).
    pub types: Vec<Option<PgType>>,
}

/// The storage class a target type compares as.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Class {
    Int,
    Real,
    Text,
    Blob,
    /// A type SQLite did not have (timestamps, booleans, json, numeric…):
    /// SQLite compared and computed its stored text or number.
    Other,
    /// An expression or a view's column.
    Unknown,
}

impl From<Returns> for Class {
    fn from(r: Returns) -> Class {
        match r {
            Returns::Int => Class::Int,
            Returns::Text => Class::Text,
            Returns::Unknown => Class::Unknown,
        }
    }
}

fn class_of(ty: Option<&PgType>) -> Class {
    match ty {
        Some(PgType::SmallInt | PgType::Integer | PgType::BigInt) => Class::Int,
        Some(PgType::Double) => Class::Real,
        Some(PgType::Text | PgType::Varchar(_)) => Class::Text,
        Some(PgType::Bytea) => Class::Blob,
        Some(_) => Class::Other,
        None => Class::Unknown,
    }
}

const UTC_NOW: &str = "now() AT TIME ZONE 'UTC'";

/// Words that end or split an expression or are keywords in it.
const KEYWORDS: &[&str] = &[
    "SELECT",
    "FROM",
    "WHERE",
    "GROUP",
    "BY",
    "HAVING",
    "ORDER",
    "LIMIT",
    "OFFSET",
    "AS",
    "ON",
    "USING",
    "JOIN",
    "LEFT",
    "RIGHT",
    "FULL",
    "INNER",
    "OUTER",
    "CROSS",
    "NATURAL",
    "AND",
    "OR",
    "NOT",
    "IN",
    "IS",
    "NULL",
    "BETWEEN",
    "CASE",
    "WHEN",
    "THEN",
    "ELSE",
    "END",
    "DISTINCT",
    "ALL",
    "ASC",
    "DESC",
    "LIKE",
    "GLOB",
    "REGEXP",
    "MATCH",
    "ESCAPE",
    "COLLATE",
    "EXISTS",
    "UNION",
    "INTERSECT",
    "EXCEPT",
    "TRUE",
    "FALSE",
    "ISNULL",
    "NOTNULL",
    "CAST",
    "CURRENT_DATE",
    "CURRENT_TIME",
    "CURRENT_TIMESTAMP",
    "VALUES",
    "WITH",
];

/// `'text'` as a PostgreSQL literal.
fn literal(s: &str) -> String {
    ident::literal(s).trim_start().to_string()
}

fn is_keyword(w: &str) -> bool {
    KEYWORDS.contains(&w.to_ascii_uppercase().as_str())
}

/// One relation of the FROM clause.
struct Entry<'c> {
    rel: &'c Relation,
    /// The alias as written, if any.
    alias: Option<String>,
    /// What the translated SQL calls it.
    shown: String,
}

#[derive(Clone, Copy, PartialEq)]
enum Clause {
    Select,
    Where,
    GroupBy,
    Having,
    OrderBy,
}

/// A column reference seen, for the aggregate check.
struct Ref {
    clause: Clause,
    in_agg: bool,
    entry: usize,
    column: String,
}

struct Tx<'a, 'c> {
    toks: &'a [Token],
    sql: &'a str,
    scope: Vec<Entry<'c>>,
    /// Output aliases as written (for ORDER BY and GROUP BY).
    aliases: Vec<String>,
    refs: Vec<Ref>,
    aggregate: bool,
    views_used: Vec<String>,
}

/// Expression context.
#[derive(Clone, Copy)]
struct Ctx {
    clause: Clause,
    in_agg: bool,
    /// The expression is a condition as a whole (WHERE, ON, HAVING, or a
    /// part of one joined by AND/OR/NOT): its truth is all that counts,
    /// so SQLite's 0/1 and PostgreSQL's boolean answer alike.
    cond: bool,
}

type R<T> = std::result::Result<T, String>;

/// Translate `view` over `cat`, or say why not.
pub fn translate(view: &SourceView, cat: &Catalog) -> R<Translated> {
    let toks = tokenize(&view.sql).map_err(|e| format!("cannot read its SQL: {e}"))?;
    // CREATE [TEMP] VIEW [IF NOT EXISTS] name [(cols)] AS <select>
    let mut i = 0;
    while i < toks.len() && !toks[i].is_word("as") {
        if toks[i].is_op("(") {
            i = matching_paren(&toks, i).ok_or("unbalanced parentheses")?;
        }
        i += 1;
    }
    let body = toks.get(i + 1..).ok_or("no SELECT after AS")?;
    if body.is_empty() {
        return Err("no SELECT after AS".into());
    }
    if body[0].is_word("with") {
        return Err("a WITH clause (common table expression) is not translated".into());
    }
    if !body[0].is_word("select") {
        return Err("its body is not a plain SELECT".into());
    }
    for t in &body[1..] {
        if t.is_word("select") {
            return Err(
                "a subquery or compound SELECT (UNION, INTERSECT, EXCEPT) is not translated".into(),
            );
        }
        for w in ["over", "window", "filter"] {
            if t.is_word(w) {
                return Err("window functions and FILTER are not translated".into());
            }
        }
    }
    let mut tx = Tx {
        toks: body,
        sql: &view.sql,
        scope: Vec::new(),
        aliases: Vec::new(),
        refs: Vec::new(),
        aggregate: false,
        views_used: Vec::new(),
    };
    tx.select(view, cat).map(|(sql, types)| Translated {
        sql,
        views_used: tx.views_used.clone(),
        types,
    })
}

/// Positions of the top-level clause keywords of a SELECT.
#[derive(Default)]
struct Clauses {
    from: Option<usize>,
    where_: Option<usize>,
    group: Option<usize>,
    having: Option<usize>,
    order: Option<usize>,
    limit: Option<usize>,
}

impl<'a, 'c> Tx<'a, 'c> {
    fn text(&self, a: usize, b: usize) -> &'a str {
        &self.sql[self.toks[a].start..self.toks[b - 1].end]
    }

    fn clauses(&self) -> R<Clauses> {
        let mut c = Clauses::default();
        let mut depth = 0i32;
        for (k, t) in self.toks.iter().enumerate() {
            if t.is_op("(") {
                depth += 1;
            } else if t.is_op(")") {
                depth -= 1;
            }
            if depth != 0 {
                continue;
            }
            let slot = if t.is_word("from") {
                &mut c.from
            } else if t.is_word("where") {
                &mut c.where_
            } else if t.is_word("group") {
                &mut c.group
            } else if t.is_word("having") {
                &mut c.having
            } else if t.is_word("order") {
                &mut c.order
            } else if t.is_word("limit") {
                &mut c.limit
            } else {
                continue;
            };
            if slot.is_some() {
                return Err(format!("`{}` appears twice", self.text(k, k + 1)));
            }
            *slot = Some(k);
        }
        if depth != 0 {
            return Err("unbalanced parentheses".into());
        }
        let order = [c.from, c.where_, c.group, c.having, c.order, c.limit];
        let seen: Vec<usize> = order.iter().flatten().copied().collect();
        if seen.windows(2).any(|w| w[0] > w[1]) {
            return Err("its clauses are not in an order the translator knows".into());
        }
        Ok(c)
    }

    fn select(&mut self, view: &SourceView, cat: &'c Catalog) -> R<(String, Vec<Option<PgType>>)> {
        let c = self.clauses()?;
        let n = self.toks.len();
        let ends: Vec<usize> = [c.where_, c.group, c.having, c.order, c.limit]
            .iter()
            .flatten()
            .copied()
            .chain([n])
            .collect();
        let next_after = |k: usize| ends.iter().copied().find(|&e| e > k).unwrap_or(n);
        let from = c.from.ok_or("a SELECT without FROM is not translated")?;
        let from_sql = self.from(from + 1, next_after(from), cat)?;
        // The select list.
        let mut start = 1;
        let mut head = "SELECT".to_string();
        if self.toks[1].is_word("distinct") {
            head.push_str(" DISTINCT");
            start = 2;
        } else if self.toks[1].is_word("all") {
            start = 2;
        }
        let items = split_commas(self.toks, start, from);
        // Aliases first: ORDER BY may name them.
        for &(a, b) in &items {
            if let Some((_, name)) = self.alias_of(a, b) {
                self.aliases.push(name);
            }
        }
        let mut out_items = Vec::new();
        for &(a, b) in &items {
            out_items.extend(self.select_item(a, b)?);
        }
        let mut sql = String::new();
        if let Some(w) = c.where_ {
            let ctx = Ctx {
                clause: Clause::Where,
                in_agg: false,
                cond: true,
            };
            sql.push_str(&format!(
                "\nWHERE {}",
                self.expr(w + 1, next_after(w), ctx)?
            ));
        }
        if let Some(g) = c.group {
            if !self.toks.get(g + 1).is_some_and(|t| t.is_word("by")) {
                return Err("GROUP without BY".into());
            }
            self.aggregate = true;
            let ctx = Ctx {
                clause: Clause::GroupBy,
                in_agg: false,
                cond: false,
            };
            let mut parts = Vec::new();
            for (a, b) in split_commas(self.toks, g + 2, next_after(g)) {
                parts.push(self.order_term(a, b, ctx, false)?);
            }
            sql.push_str(&format!("\nGROUP BY {}", parts.join(", ")));
        }
        if let Some(h) = c.having {
            let ctx = Ctx {
                clause: Clause::Having,
                in_agg: false,
                cond: true,
            };
            sql.push_str(&format!(
                "\nHAVING {}",
                self.expr(h + 1, next_after(h), ctx)?
            ));
        }
        if let Some(o) = c.order {
            if !self.toks.get(o + 1).is_some_and(|t| t.is_word("by")) {
                return Err("ORDER without BY".into());
            }
            let mut parts = Vec::new();
            for (a, b) in split_commas(self.toks, o + 2, next_after(o)) {
                parts.push(self.order_item(a, b, c.limit.is_some())?);
            }
            sql.push_str(&format!("\nORDER BY {}", parts.join(", ")));
        }
        if let Some(l) = c.limit {
            sql.push('\n');
            sql.push_str(self.limit(l + 1, n)?.trim_start());
        }
        self.check_bare_columns()?;
        if out_items.len() != view.columns.len() {
            return Err(format!(
                "its select list gives {} column(s) where SQLite reports {}",
                out_items.len(),
                view.columns.len()
            ));
        }
        let mut list = Vec::new();
        for ((expr, _), name) in out_items.iter().zip(&view.columns) {
            if name.len() > ident::MAX_IDENT_BYTES {
                return Err(format!(
                    "its column `{name}` is longer than PostgreSQL's 63 bytes (give it a shorter alias)"
                ));
            }
            list.push(format!("{expr} AS {}", quote(name)));
        }
        let types = out_items.into_iter().map(|(_, t)| t).collect();
        Ok((
            format!("{head} {}\nFROM {from_sql}{sql}", list.join(", ")),
            types,
        ))
    }

    /// `expr [AS] alias` → (end of the expression, alias).
    fn alias_of(&self, a: usize, b: usize) -> Option<(usize, String)> {
        if b < a + 2 {
            return None;
        }
        let last = &self.toks[b - 1];
        let name = word_of(last)?;
        if matches!(&last.tok, Tok::Word(w) if is_keyword(w)) {
            return None;
        }
        let prev = &self.toks[b - 2];
        if prev.is_word("as") {
            return Some((b - 2, name));
        }
        let operand_end = matches!(
            &prev.tok,
            Tok::Word(_) | Tok::Quoted { .. } | Tok::Str(_) | Tok::Num(_) | Tok::Blob(_)
        ) || prev.is_op(")");
        let keyword = matches!(&prev.tok, Tok::Word(w) if is_keyword(w) && !prev.is_word("end") && !prev.is_word("null"));
        (operand_end && !keyword).then_some((b - 1, name))
    }

    /// One select-list item: its translated expression(s) (`*` expands).
    fn select_item(&mut self, a: usize, b: usize) -> R<Vec<(String, Option<PgType>)>> {
        if a >= b {
            return Err("an empty select-list item".into());
        }
        if b == a + 1 && self.toks[a].is_op("*") {
            if self.scope_has_using() {
                return Err("`*` over a join with USING is not translated".into());
            }
            let mut out = Vec::new();
            for e in 0..self.scope.len() {
                out.extend(self.star(e)?);
            }
            return Ok(out);
        }
        if b == a + 3 && self.toks[a + 1].is_op(".") && self.toks[a + 2].is_op("*") {
            let q = word_of(&self.toks[a]).ok_or("a malformed `x.*`")?;
            let e = self.entry(&q)?;
            return self.star(e);
        }
        let end = self.alias_of(a, b).map(|(e, _)| e).unwrap_or(b);
        let ctx = Ctx {
            clause: Clause::Select,
            in_agg: false,
            cond: false,
        };
        // A column alone: any type may be selected as it is.
        if let Some((e, col)) = self.column_at(a, end)? {
            let s = self.emit_column(e, &col, ctx, true)?.0;
            return Ok(vec![(s, self.type_of(e, &col))]);
        }
        Ok(vec![(self.expr(a, end, ctx)?, None)])
    }

    fn scope_has_using(&self) -> bool {
        self.toks.iter().any(|t| t.is_word("using"))
    }

    /// `entry.*`: every column of that relation, in SQLite's order.
    fn star(&mut self, e: usize) -> R<Vec<(String, Option<PgType>)>> {
        let ctx = Ctx {
            clause: Clause::Select,
            in_agg: false,
            cond: false,
        };
        let cols: Vec<String> = self.scope[e]
            .rel
            .columns
            .iter()
            .map(|c| c.source.clone())
            .collect();
        cols.iter()
            .map(|c| Ok((self.emit_column(e, c, ctx, true)?.0, self.type_of(e, c))))
            .collect()
    }

    /// The target type of `col` of entry `e`, if known.
    fn type_of(&self, e: usize, col: &str) -> Option<PgType> {
        self.scope[e]
            .rel
            .columns
            .iter()
            .find(|c| c.source.eq_ignore_ascii_case(col))
            .and_then(|c| c.ty.clone())
    }

    /// The FROM entry a qualifier names.
    fn entry(&self, q: &str) -> R<usize> {
        self.scope
            .iter()
            .position(|e| match &e.alias {
                Some(a) => a.eq_ignore_ascii_case(q),
                None => e.rel.source.eq_ignore_ascii_case(q),
            })
            .ok_or_else(|| format!("`{q}` names no table of its FROM clause"))
    }

    /// `[q.]col` exactly spanning `a..b`: its entry and column.
    fn column_at(&self, a: usize, b: usize) -> R<Option<(usize, String)>> {
        let word = |k: usize| self.toks.get(k).and_then(word_of);
        let plain = |k: usize| !matches!(&self.toks[k].tok, Tok::Word(w) if is_keyword(w));
        if b == a + 1 && plain(a) {
            let Some(name) = word(a) else { return Ok(None) };
            return Ok(self.unqualified(&name).map(|e| (e, name)));
        }
        if b == a + 3 && self.toks[a + 1].is_op(".") {
            if let (Some(q), Some(c)) = (word(a), word(a + 2)) {
                return Ok(Some((self.entry(&q)?, c)));
            }
        }
        Ok(None)
    }

    /// The entry holding an unqualified column, if exactly one does.
    fn unqualified(&self, name: &str) -> Option<usize> {
        let hits: Vec<usize> = (0..self.scope.len())
            .filter(|&e| {
                self.scope[e]
                    .rel
                    .columns
                    .iter()
                    .any(|c| c.source.eq_ignore_ascii_case(name))
            })
            .collect();
        hits.first().copied()
    }

    /// The translated reference to `col` of entry `e`, and its class.
    /// `whole`: it is a select item by itself (any type may be).
    fn emit_column(&mut self, e: usize, col: &str, ctx: Ctx, whole: bool) -> R<(String, Class)> {
        let entry = &self.scope[e];
        let c = entry
            .rel
            .columns
            .iter()
            .find(|c| c.source.eq_ignore_ascii_case(col))
            .ok_or_else(|| format!("`{}` has no column `{col}`", entry.rel.source))?;
        let target = c.target.as_ref().ok_or_else(|| {
            format!(
                "it reads column `{}`.`{}`, which the mapping does not move",
                entry.rel.source, c.source
            )
        })?;
        let class = class_of(c.ty.as_ref());
        if class == Class::Other && !whole {
            return Err(format!(
                "{TYPE_REFUSED}`{}`.`{}`, which becomes {} in PostgreSQL \
                 where SQLite compared its stored text or number",
                entry.rel.source,
                c.source,
                c.ty.as_ref().map(|t| t.to_string()).unwrap_or_default()
            ));
        }
        self.refs.push(Ref {
            clause: ctx.clause,
            in_agg: ctx.in_agg,
            entry: e,
            column: target.clone(),
        });
        Ok((format!("{}.{}", quote(&entry.shown), quote(target)), class))
    }
}

/// Name of a word or quoted-identifier token.
fn word_of(t: &Token) -> Option<String> {
    match &t.tok {
        Tok::Word(w) => Some(w.clone()),
        Tok::Quoted { name, .. } => Some(name.clone()),
        _ => None,
    }
}

/// The views of the source, in `sqlite_schema` order, each with the column
/// names SQLite gives it.
pub fn source_views(conn: &Connection) -> Result<Vec<SourceView>> {
    let mut st = conn
        .prepare(
            "SELECT name, coalesce(sql, '') FROM sqlite_schema WHERE type = 'view' ORDER BY rowid",
        )
        .context("cannot read sqlite_schema")?;
    let rows: Vec<(String, String)> = st
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<rusqlite::Result<_>>()
        .context("cannot read sqlite_schema")?;
    let mut out = Vec::new();
    for (name, sql) in rows {
        // A view SQLite itself cannot prepare (a dropped table) has no columns.
        let columns = table_columns(conn, &name).unwrap_or_default();
        out.push(SourceView { name, sql, columns });
    }
    Ok(out)
}

fn table_columns(conn: &Connection, name: &str) -> rusqlite::Result<Vec<String>> {
    conn.prepare("SELECT name FROM pragma_table_info(?1) ORDER BY cid")?
        .query_map([name], |r| r.get(0))?
        .collect()
}

/// What the views may read: the mapping's included tables (columns in
/// SQLite's order, with their target names and types) and the views.
pub fn catalog(conn: &Connection, p: &Pipeline, views: &[SourceView]) -> Result<Catalog> {
    let mut cat = Catalog::default();
    for (src, t) in &p.table_maps {
        if !t.include {
            cat.not_moved.push(src.clone());
            continue;
        }
        let cols = table_columns(conn, src).with_context(|| format!("reading columns of {src}"))?;
        let columns = cols
            .into_iter()
            .map(|c| {
                let m = t.columns.get(&c).filter(|m| m.include);
                Column {
                    target: m.map(|m| m.target_name(&c).to_string()),
                    ty: m.and_then(|m| PgType::parse(&m.pg_type).ok()),
                    source: c,
                }
            })
            .collect();
        cat.relations.push(Relation {
            source: src.clone(),
            target: t.target_name(src).to_string(),
            columns,
            primary_key: t.primary_key.clone(),
            is_view: false,
        });
    }
    for v in views {
        cat.relations.push(Relation {
            source: v.name.clone(),
            target: v.name.clone(),
            columns: v
                .columns
                .iter()
                .map(|c| Column {
                    source: c.clone(),
                    target: Some(c.clone()),
                    ty: None,
                })
                .collect(),
            primary_key: Vec::new(),
            is_view: true,
        });
    }
    Ok(cat)
}

pub use auto::resolve_auto_views;

/// How the refusal of a view for a column's type begins: `init` writes
/// such a view `action = "auto"`, decided again by `check` and `run`.
pub const TYPE_REFUSED: &str = "it computes with or compares column ";

/// How the refusal of a view that is refused only because it reads a
/// refused view begins (`init` translates such a view again over the
/// tables materializing would make).
pub const READS_REFUSED: &str = "it reads view ";

/// One view as `init` proposes it.
#[derive(Debug, Clone)]
pub struct Proposal {
    pub name: String,
    /// The `CREATE VIEW` statement, on one line.
    pub source_sql: String,
    pub result: std::result::Result<Translated, String>,
}

/// Every view of the source translated (or refused), views read by other
/// views first; a view over a refused view is refused too.
pub fn propose(conn: &Connection, p: &Pipeline) -> Result<Vec<Proposal>> {
    let views = source_views(conn)?;
    let cat = catalog(conn, p, &views)?;
    let mut pending: Vec<Proposal> = views
        .iter()
        .map(|v| Proposal {
            name: v.name.clone(),
            source_sql: v.sql.split_whitespace().collect::<Vec<_>>().join(" "),
            result: translate(v, &cat),
        })
        .collect();
    let mut cat = cat;
    let mut out: Vec<Proposal> = Vec::new();
    while !pending.is_empty() {
        let before = pending.len();
        let mut k = 0;
        while k < pending.len() {
            let deps = views_read(&pending[k].source_sql, &views, &pending[k].name);
            let unresolved = deps
                .iter()
                .any(|d| !out.iter().any(|o| o.name.eq_ignore_ascii_case(d)));
            if unresolved {
                k += 1;
                continue;
            }
            let mut v = pending.remove(k);
            // Again, with the column types of the views it reads.
            if let Some(src) = views.iter().find(|s| s.name == v.name) {
                v.result = translate(src, &cat);
            }
            if let (Ok(t), Some(rel)) = (
                &v.result,
                cat.relations
                    .iter_mut()
                    .find(|r| r.is_view && r.source == v.name),
            ) {
                for (c, ty) in rel.columns.iter_mut().zip(&t.types) {
                    c.ty = ty.clone();
                }
            }
            // A materialized view is a table of the target: readable.
            let materialized = |d: &str| {
                p.views.iter().any(|(n, m)| {
                    n.eq_ignore_ascii_case(d)
                        && m.action == crate::config::mapping::ViewAction::Materialize
                })
            };
            if let Some(bad) = deps.iter().find(|d| {
                out.iter().any(|o| {
                    o.name.eq_ignore_ascii_case(d) && o.result.is_err() && !materialized(d)
                })
            }) {
                v.result = Err(format!("{READS_REFUSED}`{bad}`, which is not created"));
            }
            out.push(v);
        }
        if pending.len() == before {
            // A cycle cannot exist in SQLite; anything left reads itself.
            for mut v in pending.drain(..) {
                v.result = Err("it reads views in a cycle".into());
                out.push(v);
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests;
