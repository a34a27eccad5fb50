//! Column definitions read from a CREATE TABLE statement where the pragmas
//! do not tell: the expression of each generated column, and each column's
//! collation (`COLLATE NOCASE`, `RTRIM`, …).

use crate::sqlite::sql::lexer::{matching_paren, tokenize, Tok, Token};

/// A generated column's expression as written, and whether it is STORED
/// (else VIRTUAL, SQLite's default).
#[derive(Debug, Clone, PartialEq)]
pub struct Generated {
    pub column: String,
    pub expr: String,
    pub stored: bool,
}

/// Every `[GENERATED ALWAYS] AS (expr) [STORED|VIRTUAL]` column of a
/// CREATE TABLE, in order.
pub fn generated_columns(sql: &str) -> Vec<Generated> {
    let Ok(toks) = tokenize(sql) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for (column, seg) in column_segments(&toks) {
        let mut k = seg.start + 1;
        while k < seg.end {
            let t = &toks[k];
            if t.is_op("(") {
                // Skip nested parentheses (type arguments, CHECK, DEFAULT).
                let Some(c) = matching_paren(&toks, k) else {
                    break;
                };
                if k > 0 && toks[k - 1].is_word("as") && c > k + 1 {
                    let stored = toks.get(c + 1).is_some_and(|t| t.is_word("stored"));
                    out.push(Generated {
                        column: column.clone(),
                        expr: sql[toks[k + 1].start..toks[c - 1].end].to_string(),
                        stored,
                    });
                    break;
                }
                k = c + 1;
                continue;
            }
            k += 1;
        }
    }
    out
}

/// Each column's `COLLATE name` clause (outside parentheses, so not one
/// inside a CHECK or a generated expression), as written: (column,
/// collation). Columns without one (SQLite's `BINARY`) are not listed.
pub fn column_collations(sql: &str) -> Vec<(String, String)> {
    let Ok(toks) = tokenize(sql) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for (column, seg) in column_segments(&toks) {
        let mut k = seg.start + 1;
        while k < seg.end {
            let t = &toks[k];
            if t.is_op("(") {
                let Some(c) = matching_paren(&toks, k) else {
                    break;
                };
                k = c + 1;
                continue;
            }
            if t.is_word("collate") && k + 1 < seg.end {
                let name = match &toks[k + 1].tok {
                    Tok::Word(w) => Some(w.clone()),
                    Tok::Quoted { name, .. } | Tok::Str(name) => Some(name.clone()),
                    _ => None,
                };
                if let Some(name) = name {
                    out.push((column.clone(), name));
                }
                break;
            }
            k += 1;
        }
    }
    out
}

/// The column definitions of a CREATE TABLE (not its table constraints):
/// each column's name and the token range of its definition.
fn column_segments(toks: &[Token]) -> Vec<(String, std::ops::Range<usize>)> {
    let Some(open) = toks.iter().position(|t| t.is_op("(")) else {
        return Vec::new();
    };
    let Some(close) = matching_paren(toks, open) else {
        return Vec::new();
    };
    // Column definitions and table constraints: split at top-level commas.
    let mut segments = Vec::new();
    let mut depth = 0;
    let mut start = open + 1;
    for (k, t) in toks.iter().enumerate().take(close + 1).skip(open + 1) {
        if t.is_op("(") {
            depth += 1;
        } else if t.is_op(")") && k != close {
            depth -= 1;
        } else if (t.is_op(",") && depth == 0) || k == close {
            segments.push(start..k);
            start = k + 1;
        }
    }
    let mut out = Vec::new();
    for seg in segments {
        let Some(first) = toks.get(seg.start).filter(|_| !seg.is_empty()) else {
            continue;
        };
        let column = match &first.tok {
            Tok::Word(w) => w.clone(),
            Tok::Quoted { name, .. } | Tok::Str(name) => name.clone(),
            _ => continue,
        };
        // Table constraints start with a keyword, not a column name.
        if matches!(&first.tok, Tok::Word(_))
            && ["constraint", "primary", "unique", "check", "foreign"]
                .iter()
                .any(|k| first.is_word(k))
        {
            continue;
        }
        out.push((column, seg));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_expressions_by_column() {
        let g = generated_columns(
            r#"CREATE TABLE t (
                 a INTEGER CHECK (CAST(a AS TEXT) <> ''),
                 "b c" TEXT GENERATED ALWAYS AS (upper(a || 'x, y')) STORED,
                 d numeric(10, 2) AS (a * 2),
                 e TEXT DEFAULT ('as'),
                 CONSTRAINT k CHECK (a > 0)
               )"#,
        );
        assert_eq!(
            g,
            [
                Generated {
                    column: "b c".into(),
                    expr: "upper(a || 'x, y')".into(),
                    stored: true
                },
                Generated {
                    column: "d".into(),
                    expr: "a * 2".into(),
                    stored: false
                },
            ]
        );
    }

    #[test]
    fn collations_by_column() {
        let c = column_collations(
            r#"CREATE TABLE t (
                 id INTEGER PRIMARY KEY,
                 email TEXT COLLATE NOCASE UNIQUE,
                 "code x" varchar(10) NOT NULL COLLATE "rtrim",
                 n TEXT CHECK (n COLLATE NOCASE <> 'a'),
                 g TEXT AS (lower(email) COLLATE nocase),
                 UNIQUE (n COLLATE NOCASE)
               )"#,
        );
        assert_eq!(
            c,
            [
                ("email".to_string(), "NOCASE".to_string()),
                ("code x".to_string(), "rtrim".to_string()),
            ]
        );
    }
}
