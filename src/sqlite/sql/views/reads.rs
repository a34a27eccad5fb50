//! Which relations a view reads: the order views are created in, and the
//! mapping's views that would read a view it skips.

use super::{word_of, SourceView};
use crate::config::mapping::Pipeline;
use crate::sqlite::sql::lexer::tokenize;
use anyhow::Result;

/// The relations a SELECT reads: the names after FROM or JOIN, and after
/// a comma inside a FROM clause (not a column list), in order, once each.
/// SQLite's and PostgreSQL's SQL alike (both quote names with `"`).
pub fn relations_read(sql: &str) -> Vec<String> {
    let toks = tokenize(sql).unwrap_or_default();
    let mut out: Vec<String> = Vec::new();
    let mut in_from = false;
    let mut depth = 0i32;
    let mut from_depth = 0i32;
    for (k, t) in toks.iter().enumerate() {
        if t.is_op("(") {
            depth += 1;
            continue;
        }
        if t.is_op(")") {
            depth -= 1;
            if depth < from_depth {
                in_from = false;
            }
            continue;
        }
        if t.is_word("from") {
            in_from = true;
            from_depth = depth;
        } else if [
            "where",
            "group",
            "having",
            "order",
            "limit",
            "window",
            "union",
            "except",
            "intersect",
            "select",
        ]
        .iter()
        .any(|w| t.is_word(w))
            && depth == from_depth
        {
            in_from = false;
        }
        let Some(p) = k.checked_sub(1).map(|p| &toks[p]) else {
            continue;
        };
        let follows = p.is_word("from")
            || p.is_word("join")
            || (in_from && p.is_op(",") && depth == from_depth);
        if !follows {
            continue;
        }
        if let Some(name) = word_of(t) {
            if !out.iter().any(|o| o.eq_ignore_ascii_case(&name)) {
                out.push(name);
            }
        }
    }
    out
}

/// Refuse (exit 2) a mapping that creates a view over a view it skips:
/// PostgreSQL would refuse the view at the end of the run.
pub fn refuse_reads_of_skipped(p: &Pipeline) -> Result<()> {
    use crate::config::mapping::ViewAction;
    let mut problems = Vec::new();
    for (name, v) in p
        .views
        .iter()
        .filter(|(_, v)| v.action == ViewAction::Create)
    {
        for r in relations_read(v.sql.as_deref().unwrap_or_default()) {
            if p.views
                .get(&r)
                .is_some_and(|o| o.action == ViewAction::Skip)
            {
                problems.push(format!(
                    "view `{name}` reads view `{r}`, which the mapping skips: set `{r}` to \
                     \"materialize\" (or \"create\"), or skip `{name}` too"
                ));
            }
        }
    }
    if problems.is_empty() {
        return Ok(());
    }
    Err(crate::error::usage(format!(
        "the mapping {} creates a view PostgreSQL would refuse:\n  {}",
        p.file.display(),
        problems.join("\n  ")
    )))
}

/// The views `sql` reads, whether or not it translates: the order views
/// are created in.
pub(super) fn views_read(sql: &str, views: &[SourceView], own: &str) -> Vec<String> {
    relations_read(sql)
        .into_iter()
        .filter_map(|name| {
            views
                .iter()
                .find(|v| v.name.eq_ignore_ascii_case(&name) && !v.name.eq_ignore_ascii_case(own))
                .map(|v| v.name.clone())
        })
        .collect()
}
