//! Expressions (CHECK constraints, partial-index predicates, index
//! expressions, generated columns): best-effort translation of SQLite SQL
//! to PostgreSQL, and the column uses in it, for `init` to judge. Functions
//! come from the table both translators share (`sql::functions`), scalar
//! ones only.

use super::defaults::{number, Lit};
use super::{bytea_lit, lit, map_declared_type};
use crate::pg::ident;
use crate::sqlite::sql::functions::{self, Kind};
use crate::sqlite::sql::lexer::{matching_paren, split_commas, tokenize, Tok, Token};

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
    let mut tx = ExprTx {
        sql,
        toks: &toks,
        resolve,
        out: Output::default(),
        uses: Vec::new(),
        parens: Vec::new(),
        prev_operand: false,
    };
    let mut i = 0;
    while i < toks.len() {
        i = tx.token(i)?;
    }
    tx.parens.is_empty().then_some((tx.out.text, tx.uses))
}

/// The translated text, token by token, spaced as PostgreSQL prints.
#[derive(Default)]
struct Output {
    text: String,
    /// The next token attaches without a space (after `(`, a unary sign).
    glue: bool,
}

impl Output {
    fn push(&mut self, s: &str) {
        if !self.text.is_empty() && !self.glue && s != ")" && s != "," {
            self.text.push(' ');
        }
        self.text.push_str(s);
        self.glue = s == "(";
    }
}

/// An open parenthesis.
enum Paren {
    /// A function call's, CAST's or IN's, with what its translation adds
    /// after the arguments (`translate()`'s letters for lower/upper).
    Call {
        after_args: String,
    },
    Group,
}

/// One expression being translated: the cursor state shared by the token
/// handlers, each of which returns where the next token is (`None`: the
/// expression has no faithful translation).
struct ExprTx<'a> {
    sql: &'a str,
    toks: &'a [Token],
    resolve: &'a mut dyn FnMut(&str) -> Option<String>,
    out: Output,
    uses: Vec<ColumnUse>,
    parens: Vec<Paren>,
    /// The last token ended an operand (so `-` next is binary).
    prev_operand: bool,
}

impl ExprTx<'_> {
    fn token(&mut self, i: usize) -> Option<usize> {
        let next_is_paren = self.toks.get(i + 1).is_some_and(|n| n.is_op("("));
        match &self.toks[i].tok {
            Tok::Word(w)
                if next_is_paren && !EXPR_KEYWORDS.contains(&w.to_ascii_uppercase().as_str()) =>
            {
                self.call(i, &w.to_ascii_lowercase())
            }
            Tok::Word(w) => self.word(i, w, next_is_paren),
            Tok::Quoted { name, dq } => {
                if next_is_paren || self.toks.get(i + 1).is_some_and(|n| n.is_op(".")) {
                    return None;
                }
                match (self.resolve)(name) {
                    Some(target) => self.column(i, target),
                    None if *dq => self.operand(&lit(name)),
                    None => return None,
                }
                Some(i + 1)
            }
            Tok::Str(s) => {
                self.operand(&lit(s));
                Some(i + 1)
            }
            Tok::Blob(h) => {
                self.operand(&bytea_lit(h));
                Some(i + 1)
            }
            Tok::Num(n) => {
                let text = match number(n, false)? {
                    Lit::Int(v) => v.to_string(),
                    Lit::Real(_, text) => text,
                    _ => return None,
                };
                self.operand(&text);
                Some(i + 1)
            }
            Tok::Param => None,
            Tok::Op(o) => {
                self.operator(o)?;
                Some(i + 1)
            }
        }
    }

    /// `name(` at `i`: a function of the shared table that is a scalar of
    /// its arguments (what a CHECK, an index or a generated column may
    /// hold), or CAST.
    fn call(&mut self, i: usize, name: &str) -> Option<usize> {
        let after_args = if name == "cast" {
            self.out.push("CAST");
            String::new()
        } else {
            let close = matching_paren(self.toks, i + 1)?;
            let args: Vec<&[Token]> = split_commas(self.toks, i + 2, close)
                .into_iter()
                .map(|(a, b)| &self.toks[a..b])
                .collect();
            let Kind::Scalar { render, .. } = functions::lookup(name, &args).ok()? else {
                return None;
            };
            self.out.push(render.name());
            render.after_args()
        };
        self.out.glue = true;
        self.open(Paren::Call { after_args });
        Some(i + 2)
    }

    /// A word that is not a function's name: a keyword, or a column.
    fn word(&mut self, i: usize, w: &str, next_is_paren: bool) -> Option<usize> {
        let uw = w.to_ascii_uppercase();
        let word_is = |k: usize, w: &str| self.toks.get(k).is_some_and(|t| t.is_word(w));
        match uw.as_str() {
            "IN" if next_is_paren => {
                self.out.push("IN");
                self.open(Paren::Call {
                    after_args: String::new(),
                });
                return Some(i + 2);
            }
            "NOT" if self.prev_operand && word_is(i + 1, "null") => {
                self.operand("IS NOT NULL");
                return Some(i + 2);
            }
            "AND" | "OR" | "NOT" | "IN" | "BETWEEN" | "ESCAPE" | "CASE" | "WHEN" | "THEN"
            | "ELSE" | "DISTINCT" | "FROM" => self.joiner(&uw),
            "END" | "NULL" | "TRUE" | "FALSE" => self.operand(&uw),
            // SQLite's LIKE ignores case.
            "LIKE" => self.joiner("ILIKE"),
            "ISNULL" => self.operand("IS NULL"),
            "NOTNULL" => self.operand("IS NOT NULL"),
            "IS" => return Some(self.is(i)),
            "AS" => return self.cast_type(i),
            // SQLite-only, or not something to carry over blindly.
            "GLOB" | "REGEXP" | "MATCH" | "COLLATE" | "SELECT" | "EXISTS" | "CURRENT_TIMESTAMP"
            | "CURRENT_DATE" | "CURRENT_TIME" | "RAISE" | "ROWID" | "OID" | "_ROWID_" => {
                return None
            }
            _ => {
                let name = (self.resolve)(w)?;
                self.column(i, name);
            }
        }
        Some(i + 1)
    }

    /// `IS [NOT]` at `i`: before NULL, TRUE, FALSE or DISTINCT as it is;
    /// otherwise SQLite's `a IS b`, which compares any two values.
    fn is(&mut self, i: usize) -> usize {
        let word_is = |k: usize, w: &str| self.toks.get(k).is_some_and(|t| t.is_word(w));
        let not = word_is(i + 1, "not");
        let k = if not { i + 2 } else { i + 1 };
        let special = ["null", "true", "false", "distinct"]
            .iter()
            .any(|w| word_is(k, w));
        self.joiner(match (special, not) {
            (true, false) => "IS",
            (true, true) => "IS NOT",
            (false, false) => "IS NOT DISTINCT FROM",
            (false, true) => "IS DISTINCT FROM",
        });
        k
    }

    /// `AS type` inside CAST(…) at `i`: the type runs to the closing paren.
    fn cast_type(&mut self, i: usize) -> Option<usize> {
        if !matches!(self.parens.last(), Some(Paren::Call { .. })) {
            return None;
        }
        let mut k = i + 1;
        let mut depth = 0;
        while k < self.toks.len() {
            if self.toks[k].is_op("(") {
                depth += 1;
            } else if self.toks[k].is_op(")") {
                if depth == 0 {
                    break;
                }
                depth -= 1;
            }
            k += 1;
        }
        if k >= self.toks.len() || k == i + 1 {
            return None;
        }
        let decl = &self.sql[self.toks[i + 1].start..self.toks[k - 1].end];
        self.out.push("AS");
        self.out.push(&map_declared_type(decl).to_string());
        Some(k)
    }

    /// An operator (a parenthesis included).
    fn operator(&mut self, o: &str) -> Option<()> {
        let o = match o {
            "==" => "=",
            "=" | "!=" | "<>" | "<" | "<=" | ">" | ">=" | "+" | "-" | "*" | "/" | "%" | "||"
            | "," | "&" | "|" | "<<" | ">>" | "~" => o,
            "(" => {
                self.parens.push(Paren::Group);
                "("
            }
            ")" => {
                if let Paren::Call { after_args } = self.parens.pop()? {
                    self.out.text.push_str(&after_args);
                }
                ")"
            }
            _ => return None,
        };
        let unary = (o == "-" || o == "+") && !self.prev_operand;
        self.out.push(o);
        // Unary minus/plus attaches to its operand: `-1`.
        self.out.glue |= unary || o == "~";
        self.prev_operand = o == ")";
        Some(())
    }

    fn open(&mut self, paren: Paren) {
        self.parens.push(paren);
        self.out.push("(");
        self.prev_operand = false;
    }

    /// A column reference at `i`, resolved to `name`.
    fn column(&mut self, i: usize, name: String) {
        let in_call = matches!(self.parens.last(), Some(Paren::Call { .. }));
        self.uses
            .push(column_use(self.toks, i, name.clone(), in_call));
        self.operand(&ident::quote(&name));
    }

    /// Text that ends an operand.
    fn operand(&mut self, s: &str) {
        self.out.push(s);
        self.prev_operand = true;
    }

    /// Text after which an operand follows.
    fn joiner(&mut self, s: &str) {
        self.out.push(s);
        self.prev_operand = false;
    }
}

/// How the column reference at `toks[i]` is used.
/// `in_call`: it is directly inside a call's (or IN's) parentheses.
fn column_use(toks: &[Token], i: usize, name: String, in_call: bool) -> ColumnUse {
    let w = |k: usize, s: &str| toks.get(k).is_some_and(|t| t.is_word(s));
    let null_test = w(i + 1, "isnull")
        || w(i + 1, "notnull")
        || (w(i + 1, "not") && w(i + 2, "null"))
        || (w(i + 1, "is") && w(i + 2, "null"))
        || (w(i + 1, "is") && w(i + 2, "not") && w(i + 3, "null"));
    let in_group = !in_call;
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
