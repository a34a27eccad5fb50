//! The SQL the mapping puts into the target's statements (CHECKs, defaults,
//! generated expressions, an index's `where` and expression columns, a
//! view's `sql`), each with its key: checked as one expression or one query
//! by `validate` (PostgreSQL's lexical rules, `pg::fragment`) and by
//! `run` against the server (docs/mapping.md, "SQL in the mapping").

use super::issue::{MappingError, MappingIssue};
use super::locate::{key_seg, Locator};
use super::mapping::{Pipeline, ViewAction};
use crate::pg::fragment::{self, Kind};

/// One fragment of the mapping.
#[derive(Debug, Clone)]
pub struct Fragment<'a> {
    /// Its key in the file (`tables.orders.indexes.0.where`).
    pub key: String,
    /// The source table whose target it is evaluated over (`None`: a view).
    pub table: Option<&'a str>,
    pub kind: Kind,
    pub text: &'a str,
}

impl Pipeline {
    /// Every SQL fragment of the included tables and created views, in
    /// the file's order.
    pub fn fragments<'a>(&'a self) -> Vec<Fragment<'a>> {
        let mut out = Vec::new();
        for (source, t) in self.included_tables() {
            let table = Some(source);
            let key = t.key(source);
            let mut push = |key: String, kind: Kind, text: &'a String| {
                out.push(Fragment {
                    key,
                    table,
                    kind,
                    text,
                })
            };
            for (name, c) in t.columns.iter().filter(|(_, c)| c.include) {
                let at = format!("{key}.columns.{}", key_seg(name));
                if let Some(d) = &c.default {
                    push(format!("{at}.default"), Kind::Expression, d);
                }
                if let Some(g) = &c.generated {
                    push(format!("{at}.generated"), Kind::Expression, g);
                }
            }
            for (name, a) in &t.add_columns {
                if let Some(d) = &a.default {
                    let at = format!("{key}.add_columns.{}.default", key_seg(name));
                    push(at, Kind::Expression, d);
                }
            }
            for (i, c) in t.checks.iter().enumerate() {
                push(format!("{key}.checks.{i}"), Kind::Expression, c);
            }
            for (i, ix) in t.indexes.iter().enumerate() {
                for c in ix.columns.iter().filter(|c| c.starts_with('(')) {
                    push(format!("{key}.indexes.{i}.columns"), Kind::Parenthesized, c);
                }
                if let Some(w) = &ix.predicate {
                    push(format!("{key}.indexes.{i}.where"), Kind::Expression, w);
                }
            }
        }
        for (name, v) in &self.views {
            if let (ViewAction::Create, Some(sql)) = (v.action, &v.sql) {
                out.push(Fragment {
                    key: format!("views.{}.sql", key_seg(name)),
                    table: None,
                    kind: Kind::Query,
                    text: sql,
                });
            }
        }
        out
    }

    /// A mapping problem found after parsing (the server's check at run
    /// start), each at its line of the file, as parsing reports them.
    pub fn issues_error(&self, issues: Vec<MappingIssue>) -> MappingError {
        let text = std::fs::read_to_string(&self.file).unwrap_or_default();
        let locator = Locator::new(&text);
        let issues = issues
            .into_iter()
            .map(|mut i| {
                i.line = locator.line_of(&i.key);
                i
            })
            .collect();
        MappingError {
            file: self.file.clone(),
            issues,
        }
    }
}

/// The fragments that are not one expression (or one query), as issues.
pub(super) fn lexical_issues(p: &Pipeline) -> Vec<MappingIssue> {
    p.fragments()
        .into_iter()
        .filter_map(|f| {
            fragment::check(f.text, f.kind)
                .err()
                .map(|why| MappingIssue {
                    key: f.key,
                    line: None,
                    message: format!("not {}: {why}", kind_words(f.kind)),
                })
        })
        .collect()
}

/// What a fragment of `kind` must be, in words.
pub fn kind_words(kind: Kind) -> &'static str {
    match kind {
        Kind::Expression => "one SQL expression",
        Kind::Parenthesized => "one SQL expression in parentheses",
        Kind::Query => "one SQL query",
    }
}
