//! Expressions (CHECK constraints, partial-index predicates, index
//! expressions): best-effort translation of SQLite SQL to PostgreSQL, and the
//! column uses in it, for `init` to judge.

use super::defaults::{number, Lit};
use super::{bytea_lit, lit, map_declared_type};
use crate::pg::ident;
use crate::sqlite::sql::lexer::{tokenize, Tok, Token};

/// Words that are keywords in an expression (a `(` after them is a group,
/// not a call).
const EXPR_KEYWORDS: &[&str] = &[
    "AND", "OR", "NOT", "IN", "BETWEEN", "ESCAPE", "CASE", "WHEN", "THEN", "ELSE", "END", "IS",
    "LIKE", "DISTINCT", "FROM", "NULL",
];

/// One column reference in a translated expression.
#[derive(Debug, Clone, PartialEq)]
pub struct ColumnUse {
    /// The name the resolver returned (target name).
    pub name: String,
    /// Only tested with `IS [NOT] NULL` (safe whatever the column type).
    pub null_test: bool,
    /// Used directly as a truth value (`CHECK (flag)`, `a AND flag`):
    /// only valid in PostgreSQL when the column is boolean.
    pub truth: bool,
}

/// Best-effort translation of a SQLite expression to PostgreSQL, with
/// identifiers written as in the source (and always quoted). `None` when the
/// expression uses something without a faithful PostgreSQL equivalent.
pub fn translate_expr(sql: &str) -> Option<String> {
    translate_expr_with(sql, &mut |n: &str| Some(n.to_string())).map(|(s, _)| s)
}

/// Like [`translate_expr`], resolving each column name through `resolve`
/// (SQLite compares names case-insensitively; the resolver returns the
/// exact target name, or `None` for an unknown name). A double-quoted name
/// that does not resolve is a string literal, as in SQLite. Returns the
/// expression and every column reference in it.
pub fn translate_expr_with(
    sql: &str,
    resolve: &mut dyn FnMut(&str) -> Option<String>,
) -> Option<(String, Vec<ColumnUse>)> {
    let toks = tokenize(sql).ok()?;
    if toks.is_empty() {
        return None;
    }
    let mut out = String::new();
    let mut uses = Vec::new();
    // Paren kinds: true = function call / CAST, false = grouping.
    let mut parens: Vec<bool> = Vec::new();
    let mut glue = false; // next token attaches without a space
    let mut prev_operand = false;
    let push = |out: &mut String, s: &str, glue: &mut bool| {
        if !out.is_empty() && !*glue && s != ")" && s != "," {
            out.push(' ');
        }
        out.push_str(s);
        *glue = s == "(";
    };
    let word_is = |k: usize, w: &str| toks.get(k).is_some_and(|t| t.is_word(w));
    let mut i = 0;
    while i < toks.len() {
        let t = &toks[i];
        let next_is_paren = toks.get(i + 1).is_some_and(|n| n.is_op("("));
        match &t.tok {
            Tok::Word(w)
                if next_is_paren && !EXPR_KEYWORDS.contains(&w.to_ascii_uppercase().as_str()) =>
            {
                let lw = w.to_ascii_lowercase();
                let name = match lw.as_str() {
                    "lower" | "upper" | "length" | "abs" | "coalesce" | "nullif" | "replace"
                    | "substr" | "ltrim" | "rtrim" => lw.as_str(),
                    "ifnull" => "coalesce",
                    "trim" => "btrim",
                    "min" => "least",
                    "max" => "greatest",
                    "cast" => "CAST",
                    _ => return None,
                };
                push(&mut out, name, &mut glue);
                glue = true;
                parens.push(true);
                push(&mut out, "(", &mut glue);
                prev_operand = false;
                i += 2;
                continue;
            }
            Tok::Word(w) => {
                let uw = w.to_ascii_uppercase();
                match uw.as_str() {
                    "IN" if next_is_paren => {
                        push(&mut out, "IN", &mut glue);
                        parens.push(true);
                        push(&mut out, "(", &mut glue);
                        prev_operand = false;
                        i += 2;
                        continue;
                    }
                    "AND" | "OR" | "NOT" | "IN" | "BETWEEN" | "ESCAPE" | "CASE" | "WHEN"
                    | "THEN" | "ELSE" => {
                        if uw == "NOT" && prev_operand && word_is(i + 1, "null") {
                            push(&mut out, "IS NOT NULL", &mut glue);
                            i += 2;
                            prev_operand = true;
                            continue;
                        }
                        push(&mut out, &uw, &mut glue);
                        prev_operand = false;
                    }
                    "END" | "NULL" | "TRUE" | "FALSE" => {
                        push(&mut out, &uw, &mut glue);
                        prev_operand = true;
                    }
                    "LIKE" => {
                        // SQLite's LIKE ignores ASCII case.
                        push(&mut out, "ILIKE", &mut glue);
                        prev_operand = false;
                    }
                    "ISNULL" => {
                        push(&mut out, "IS NULL", &mut glue);
                        prev_operand = true;
                    }
                    "NOTNULL" => {
                        push(&mut out, "IS NOT NULL", &mut glue);
                        prev_operand = true;
                    }
                    "IS" => {
                        let not = word_is(i + 1, "not");
                        let k = if not { i + 2 } else { i + 1 };
                        if ["null", "true", "false", "distinct"]
                            .iter()
                            .any(|w| word_is(k, w))
                        {
                            push(&mut out, if not { "IS NOT" } else { "IS" }, &mut glue);
                        } else {
                            // SQLite's `a IS b` compares any values.
                            push(
                                &mut out,
                                if not {
                                    "IS DISTINCT FROM"
                                } else {
                                    "IS NOT DISTINCT FROM"
                                },
                                &mut glue,
                            );
                        }
                        i = k;
                        prev_operand = false;
                        continue;
                    }
                    "DISTINCT" | "FROM" => {
                        push(&mut out, &uw, &mut glue);
                        prev_operand = false;
                    }
                    "AS" => {
                        // CAST(x AS type): the type runs to the closing paren.
                        if parens.last() != Some(&true) {
                            return None;
                        }
                        let mut k = i + 1;
                        let mut depth = 0;
                        while k < toks.len() {
                            if toks[k].is_op("(") {
                                depth += 1;
                            } else if toks[k].is_op(")") {
                                if depth == 0 {
                                    break;
                                }
                                depth -= 1;
                            }
                            k += 1;
                        }
                        if k >= toks.len() || k == i + 1 {
                            return None;
                        }
                        let decl = &sql[toks[i + 1].start..toks[k - 1].end];
                        push(&mut out, "AS", &mut glue);
                        push(&mut out, &map_declared_type(decl).to_string(), &mut glue);
                        i = k;
                        continue;
                    }
                    // SQLite-only, or not something to carry over blindly.
                    "GLOB" | "REGEXP" | "MATCH" | "COLLATE" | "SELECT" | "EXISTS"
                    | "CURRENT_TIMESTAMP" | "CURRENT_DATE" | "CURRENT_TIME" | "RAISE" | "ROWID"
                    | "OID" | "_ROWID_" => return None,
                    _ => {
                        let name = resolve(w)?;
                        uses.push(column_use(&toks, i, name.clone(), &parens));
                        push(&mut out, &ident::quote(&name), &mut glue);
                        prev_operand = true;
                    }
                }
            }
            Tok::Quoted { name, dq } => {
                if next_is_paren || toks.get(i + 1).is_some_and(|n| n.is_op(".")) {
                    return None;
                }
                match resolve(name) {
                    Some(target) => {
                        uses.push(column_use(&toks, i, target.clone(), &parens));
                        push(&mut out, &ident::quote(&target), &mut glue);
                    }
                    None if *dq => push(&mut out, &lit(name), &mut glue),
                    None => return None,
                }
                prev_operand = true;
            }
            Tok::Str(s) => {
                push(&mut out, &lit(s), &mut glue);
                prev_operand = true;
            }
            Tok::Blob(h) => {
                push(&mut out, &bytea_lit(h), &mut glue);
                prev_operand = true;
            }
            Tok::Num(n) => {
                let text = match number(n, false)? {
                    Lit::Int(v) => v.to_string(),
                    Lit::Real(_, text) => text,
                    _ => return None,
                };
                push(&mut out, &text, &mut glue);
                prev_operand = true;
            }
            Tok::Param => return None,
            Tok::Op(o) => {
                let o = match o.as_str() {
                    "==" => "=",
                    "=" | "!=" | "<>" | "<" | "<=" | ">" | ">=" | "+" | "-" | "*" | "/" | "%"
                    | "||" | "," | "&" | "|" | "<<" | ">>" | "~" => o.as_str(),
                    "(" => {
                        parens.push(false);
                        "("
                    }
                    ")" => {
                        parens.pop()?;
                        ")"
                    }
                    _ => return None,
                };
                let unary = (o == "-" || o == "+") && !prev_operand;
                push(&mut out, o, &mut glue);
                // Unary minus/plus attaches to its operand: `-1`.
                glue |= unary || o == "~";
                prev_operand = o == ")";
            }
        }
        i += 1;
    }
    if !parens.is_empty() {
        return None;
    }
    Some((out, uses))
}

/// How the column reference at `toks[i]` is used.
fn column_use(toks: &[Token], i: usize, name: String, parens: &[bool]) -> ColumnUse {
    let w = |k: usize, s: &str| toks.get(k).is_some_and(|t| t.is_word(s));
    let null_test = w(i + 1, "isnull")
        || w(i + 1, "notnull")
        || (w(i + 1, "not") && w(i + 2, "null"))
        || (w(i + 1, "is") && w(i + 2, "null"))
        || (w(i + 1, "is") && w(i + 2, "not") && w(i + 3, "null"));
    let in_group = parens.last() != Some(&true);
    let before_ok = match i.checked_sub(1).map(|k| &toks[k]) {
        None => true,
        Some(p) => {
            ["and", "or", "not", "when"].iter().any(|k| p.is_word(k)) || (p.is_op("(") && in_group)
        }
    };
    let after_ok = match toks.get(i + 1) {
        None => true,
        Some(n) => ["and", "or", "then"].iter().any(|k| n.is_word(k)) || (n.is_op(")") && in_group),
    };
    ColumnUse {
        name,
        null_test,
        truth: before_ok && after_ok && !null_test,
    }
}
