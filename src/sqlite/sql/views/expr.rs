//! Expressions of a view (select items, WHERE, ON, HAVING, GROUP BY):
//! token by token, with column references resolved through the FROM
//! clause, a whitelist of functions, and the comparisons checked.

use super::{is_keyword, word_of, Class, Ctx, Tx, R, UTC_NOW};
use crate::sqlite::sql::functions::{self, Kind};
use crate::sqlite::sql::lexer::{matching_paren, split_commas, Tok, Token};

/// A simple operand just emitted: its class, and whether it is a literal.
#[derive(Clone, Copy)]
struct Operand {
    class: Class,
    literal: bool,
}

/// Why a LIKE is refused: SQLite's ignores case for ASCII letters only,
/// written out exactly for the one form translated.
fn like_refused(why: &str) -> String {
    format!(
        "LIKE {why}: SQLite's LIKE ignores case for ASCII letters only (PostgreSQL's ILIKE folds \
         every letter, its LIKE none); it is translated, with that folding written out, only as a \
         condition (WHERE, ON, HAVING) on a text column with a literal pattern"
    )
}

/// Whether what `parts` ends with lets the next operand be a condition of
/// its own: nothing, AND (not a BETWEEN's), OR, NOT, WHEN.
fn condition_before(parts: &[String], between_and: Option<usize>) -> bool {
    match parts.last().map(String::as_str) {
        None | Some("OR" | "NOT" | "WHEN") => true,
        Some("AND") => between_and != Some(parts.len() - 1),
        _ => false,
    }
}

/// Whether the token at `k` (the expression ends at `b`) ends a condition:
/// the end, AND, OR, THEN.
fn condition_after(toks: &[Token], k: usize, b: usize) -> bool {
    k >= b || ["and", "or", "then"].iter().any(|w| toks[k].is_word(w))
}

/// Whether a LIKE pattern ends with an escape character that escapes
/// nothing.
fn ends_with_escape(pattern: &str, escape: Option<char>) -> bool {
    let Some(e) = escape else { return false };
    let mut chars = pattern.chars();
    while let Some(c) = chars.next() {
        if c == e && chars.next().is_none() {
            return true;
        }
    }
    false
}

/// Operators that bind tighter than LIKE: an operand beside one is part of
/// a larger expression.
fn binds_tighter(part: &str) -> bool {
    matches!(
        part,
        "||" | "+" | "-" | "*" | "/" | "%" | "&" | "|" | "~" | "<<" | ">>"
    )
}

fn is_ordering(op: &str) -> bool {
    matches!(op, "<" | "<=" | ">" | ">=")
}

/// Whether `l op r` means the same in both engines; `Some(suffix)` to add
/// after the right operand (text compared bytewise).
fn compare(op: &str, l: Option<Operand>, r: Operand) -> R<&'static str> {
    let collate = " COLLATE \"C\"";
    let Some(l) = l else {
        return if is_ordering(op) && r.class == Class::Text {
            Ok(collate)
        } else if is_ordering(op) && r.class == Class::Unknown {
            Err(format!(
                "cannot tell what `{op}` compares (SQLite orders text bytewise)"
            ))
        } else {
            Ok("")
        };
    };
    use Class::*;
    let numeric = |c: Class| matches!(c, Int | Real);
    match (l.class, r.class) {
        (Unknown, Unknown) if is_ordering(op) => Err(format!(
            "cannot tell what `{op}` compares (SQLite orders text bytewise)"
        )),
        (Unknown, _) | (_, Unknown) => {
            Ok(if is_ordering(op) && (l.class == Text || r.class == Text) {
                collate
            } else {
                ""
            })
        }
        (a, b) if numeric(a) && numeric(b) => Ok(""),
        (Text, Text) => Ok(if is_ordering(op) { collate } else { "" }),
        (Blob, Blob) => Ok(""),
        (a, b) => {
            let what = |c: Class, lit: bool| {
                let kind = match c {
                    Int | Real => "number",
                    Text => "text",
                    Blob => "blob",
                    _ => "value",
                };
                if lit {
                    format!("a {kind} literal")
                } else {
                    format!("a {kind} column")
                }
            };
            Err(format!(
                "`{op}` compares {} with {}: SQLite's answer depends on the column's affinity, \
                 PostgreSQL's on its type",
                what(a, l.literal),
                what(b, r.literal)
            ))
        }
    }
}

impl Tx<'_, '_> {
    /// Translate the expression `toks[a..b]`.
    ///
    /// One pass over the tokens: a single `match` on the token, whose arms
    /// come in this order.
    /// 1. A word before `(` (not a keyword, or CAST): a function call,
    ///    through [`Tx::call`] and the shared table of `sql::functions`.
    /// 2. A keyword, one inner arm each: AND, OR, CASE, WHEN, THEN, ELSE
    ///    (an AND may end a BETWEEN's lower bound); NOT (`x NOT NULL`,
    ///    `x NOT LIKE`, plain NOT); END; NULL; TRUE/FALSE (SQLite's 1/0);
    ///    ISNULL/NOTNULL; IS [NOT] (NULL, DISTINCT FROM, or SQLite's `IS`
    ///    between any two values); IN (…) (each item compared with the left
    ///    operand); BETWEEN (numbers only); LIKE (through [`Tx::like`]);
    ///    then refusals: GLOB, REGEXP/MATCH, COLLATE, EXISTS;
    ///    CURRENT_TIMESTAMP/DATE/TIME (UTC text); any other keyword refused.
    /// 3. A name, quoted or not: a column of the FROM clause (`[q.]col`,
    ///    noting whether it is only tested for NULL), else a double-quoted
    ///    string as SQLite reads it, else refused (the rowid by name).
    /// 4. Literals: string, number (reals as float8), blob; a parameter is
    ///    refused.
    /// 5. Operators: `(` (a group, a condition only where it stands as
    ///    one), comparisons (they await their right operand), `||` (not of
    ///    a real or a blob), `/` and `%` (by a nonzero literal only), the
    ///    other arithmetic and bit operators; any other refused.
    ///
    /// After the match, an operand just read settles what waits for it:
    /// the comparison's check and suffix (`compare`), the `||` check. It
    /// then becomes `last`, the left operand of what follows.
    pub(super) fn expr(&mut self, a: usize, b: usize, ctx: Ctx) -> R<String> {
        if a >= b {
            return Err("an empty expression".into());
        }
        let toks = self.toks;
        let mut parts: Vec<String> = Vec::new();
        // The simple operand just emitted; the comparison waiting for its
        // right operand (with the left one); `||` waiting likewise.
        let mut last: Option<Operand> = None;
        let mut cmp: Option<(String, Option<Operand>)> = None;
        let mut concat = false;
        // `NOT` read just before `LIKE` (it negates the LIKE).
        let mut not_like = false;
        // The place in `parts` of the AND that ends a BETWEEN's lower
        // bound (not a condition's AND), and whether one is awaited.
        let mut between_and: Option<usize> = None;
        let mut in_between = false;
        let value = Ctx { cond: false, ..ctx };
        let mut i = a;
        while i < b {
            let t = &toks[i];
            let next_paren = i + 1 < b && toks[i + 1].is_op("(");
            let mut operand: Option<(String, Option<Operand>)> = None;
            match &t.tok {
                Tok::Word(w) if next_paren && (!is_keyword(w) || t.is_word("cast")) => {
                    let close = matching_paren(toks, i + 1)
                        .filter(|&c| c < b)
                        .ok_or("unbalanced parentheses")?;
                    let (s, class) = self.call(i, close, ctx)?;
                    operand = Some((
                        s,
                        Some(Operand {
                            class,
                            literal: false,
                        }),
                    ));
                    i = close + 1;
                }
                Tok::Word(w) if is_keyword(w) => {
                    let uw = w.to_ascii_uppercase();
                    let word = |k: usize, s: &str| k < b && toks[k].is_word(s);
                    match uw.as_str() {
                        "AND" | "OR" | "CASE" | "WHEN" | "THEN" | "ELSE" => {
                            if uw == "AND" && std::mem::take(&mut in_between) {
                                between_and = Some(parts.len());
                            }
                            parts.push(uw);
                            last = None;
                            i += 1;
                        }
                        "NOT" if last.is_some() && word(i + 1, "null") => {
                            parts.push("IS NOT NULL".into());
                            i += 2;
                        }
                        "NOT" if last.is_some() && word(i + 1, "like") => {
                            not_like = true;
                            i += 1;
                        }
                        "NOT" => {
                            parts.push(uw);
                            last = None;
                            i += 1;
                        }
                        "END" => {
                            parts.push(uw);
                            last = Some(Operand {
                                class: Class::Unknown,
                                literal: false,
                            });
                            i += 1;
                        }
                        "NULL" => {
                            operand = Some(("NULL".into(), None));
                            i += 1;
                        }
                        "TRUE" | "FALSE" => {
                            // SQLite's TRUE and FALSE are the integers 1 and 0.
                            let v = if uw == "TRUE" { "1" } else { "0" };
                            operand = Some((
                                v.into(),
                                Some(Operand {
                                    class: Class::Int,
                                    literal: true,
                                }),
                            ));
                            i += 1;
                        }
                        "ISNULL" | "NOTNULL" => {
                            parts.push(if uw == "ISNULL" { "IS NULL" } else { "IS NOT NULL" }.into());
                            i += 1;
                        }
                        "IS" => {
                            let not = word(i + 1, "not");
                            let k = if not { i + 2 } else { i + 1 };
                            if word(k, "null") {
                                parts.push(if not { "IS NOT NULL" } else { "IS NULL" }.into());
                                i = k + 1;
                            } else if word(k, "distinct") && word(k + 1, "from") {
                                parts.push(
                                    if not { "IS NOT DISTINCT FROM" } else { "IS DISTINCT FROM" }
                                        .into(),
                                );
                                cmp = Some(("=".into(), last));
                                last = None;
                                i = k + 2;
                            } else if word(k, "true") || word(k, "false") {
                                return Err("IS TRUE / IS FALSE is not translated".into());
                            } else {
                                // SQLite's `a IS b` compares any two values.
                                parts.push(
                                    if not { "IS DISTINCT FROM" } else { "IS NOT DISTINCT FROM" }
                                        .into(),
                                );
                                cmp = Some(("=".into(), last));
                                last = None;
                                i = k;
                            }
                        }
                        "IN" => {
                            if !next_paren {
                                return Err("IN over a table is not translated".into());
                            }
                            let close = matching_paren(toks, i + 1)
                                .filter(|&c| c < b)
                                .ok_or("unbalanced parentheses")?;
                            let left = last;
                            let mut items = Vec::new();
                            for (x, y) in split_commas(toks, i + 2, close) {
                                let (s, op) = self.simple_or_expr(x, y, value)?;
                                if let Some(op) = op {
                                    compare("=", left, op)?;
                                }
                                items.push(s);
                            }
                            parts.push(format!("IN ({})", items.join(", ")));
                            last = None;
                            i = close + 1;
                        }
                        "BETWEEN" => {
                            match last.map(|l| l.class) {
                                Some(Class::Int | Class::Real) => {}
                                _ => return Err(
                                    "BETWEEN over text or an expression is not translated \
                                     (SQLite orders text bytewise)"
                                        .into(),
                                ),
                            }
                            parts.push(uw);
                            in_between = true;
                            last = None;
                            i += 1;
                        }
                        "LIKE" => {
                            let not = std::mem::take(&mut not_like);
                            let cond = ctx.cond
                                && condition_before(
                                    &parts[..parts.len().saturating_sub(1)],
                                    between_and,
                                );
                            let (like, next) = self.like(i, b, cond, last, not, &mut parts)?;
                            parts.push(like);
                            last = None;
                            i = next;
                        }
                        "GLOB" => {
                            return Err("GLOB has no PostgreSQL equivalent (a case-sensitive pattern with * and ?)".into())
                        }
                        "REGEXP" | "MATCH" => {
                            return Err(format!("{uw} depends on an extension function of the application"))
                        }
                        "COLLATE" => {
                            return Err("COLLATE: SQLite's collations (NOCASE, RTRIM) have no exact PostgreSQL equivalent".into())
                        }
                        "EXISTS" => return Err("EXISTS (a subquery) is not translated".into()),
                        "CURRENT_TIMESTAMP" | "CURRENT_DATE" | "CURRENT_TIME" => {
                            let f = match uw.as_str() {
                                "CURRENT_TIMESTAMP" => "YYYY-MM-DD HH24:MI:SS",
                                "CURRENT_DATE" => "YYYY-MM-DD",
                                _ => "HH24:MI:SS",
                            };
                            operand = Some((
                                format!("to_char({UTC_NOW}, '{f}')"),
                                Some(Operand {
                                    class: Class::Text,
                                    literal: false,
                                }),
                            ));
                            i += 1;
                        }
                        _ => return Err(format!("`{w}` here is not translated")),
                    }
                }
                Tok::Word(_) | Tok::Quoted { .. } => {
                    let qualified = i + 2 < b && toks[i + 1].is_op(".");
                    let end = if qualified { i + 3 } else { i + 1 };
                    // A column only tested for NULL may be of any type.
                    let w = |k: usize, s: &str| k < b && toks[k].is_word(s);
                    let null_test = w(end, "isnull")
                        || w(end, "notnull")
                        || (w(end, "not") && w(end + 1, "null"))
                        || (w(end, "is") && w(end + 1, "null"))
                        || (w(end, "is") && w(end + 1, "not") && w(end + 2, "null"));
                    match self.column_at(i, end)? {
                        Some((e, col)) => {
                            let (s, class) = self.emit_column(e, &col, ctx, null_test)?;
                            operand = Some((
                                s,
                                Some(Operand {
                                    class,
                                    literal: false,
                                }),
                            ));
                        }
                        None => match &t.tok {
                            Tok::Quoted { name, dq: true } if !qualified => {
                                // SQLite reads an unknown "x" as a string.
                                operand = Some((
                                    super::literal(name),
                                    Some(Operand {
                                        class: Class::Text,
                                        literal: true,
                                    }),
                                ));
                            }
                            _ => {
                                let name = word_of(t).unwrap_or_default();
                                let rowid = ["rowid", "oid", "_rowid_"]
                                    .iter()
                                    .any(|r| name.eq_ignore_ascii_case(r));
                                return Err(if rowid {
                                    format!("it reads the rowid (`{name}`), which is not a column")
                                } else {
                                    format!(
                                        "`{}` is no column of its FROM clause",
                                        self.text(i, end)
                                    )
                                });
                            }
                        },
                    }
                    i = end;
                }
                Tok::Str(s) => {
                    operand = Some((
                        super::literal(s),
                        Some(Operand {
                            class: Class::Text,
                            literal: true,
                        }),
                    ));
                    i += 1;
                }
                Tok::Num(n) => {
                    let (s, class) = number(n)?;
                    operand = Some((
                        s,
                        Some(Operand {
                            class,
                            literal: true,
                        }),
                    ));
                    i += 1;
                }
                Tok::Blob(h) => {
                    operand = Some((
                        format!("'\\x{}'::bytea", h.to_ascii_lowercase()),
                        Some(Operand {
                            class: Class::Blob,
                            literal: true,
                        }),
                    ));
                    i += 1;
                }
                Tok::Param => return Err("a parameter in a view".into()),
                Tok::Op(o) => match o.as_str() {
                    "(" => {
                        let close = matching_paren(toks, i)
                            .filter(|&c| c < b)
                            .ok_or("unbalanced parentheses")?;
                        // A condition in parentheses stays one only where
                        // the parentheses stand as a condition themselves.
                        let cond = ctx.cond
                            && condition_before(&parts, between_and)
                            && condition_after(toks, close + 1, b);
                        let inner = self.expr(i + 1, close, Ctx { cond, ..ctx })?;
                        operand = Some((
                            format!("({inner})"),
                            Some(Operand {
                                class: Class::Unknown,
                                literal: false,
                            }),
                        ));
                        i = close + 1;
                    }
                    "=" | "==" | "!=" | "<>" | "<" | "<=" | ">" | ">=" => {
                        let op = if o == "==" { "=" } else { o.as_str() };
                        parts.push(op.into());
                        cmp = Some((op.into(), last));
                        last = None;
                        i += 1;
                    }
                    "||" => {
                        if last.is_some_and(|l| matches!(l.class, Class::Real | Class::Blob)) {
                            return Err(
                                "`||` of a real or a blob: SQLite and PostgreSQL render them differently"
                                    .into(),
                            );
                        }
                        parts.push("||".into());
                        concat = true;
                        last = None;
                        i += 1;
                    }
                    "/" | "%" => {
                        let nonzero = matches!(toks.get(i + 1).filter(|_| i + 1 < b).map(|t| &t.tok),
                            Some(Tok::Num(n)) if nonzero(n));
                        if !nonzero {
                            return Err(format!(
                                "`{o}` by something other than a nonzero number: SQLite gives NULL \
                                 for a division by zero, PostgreSQL fails the query"
                            ));
                        }
                        parts.push(o.clone());
                        last = None;
                        i += 1;
                    }
                    "+" | "-" | "*" | "&" | "|" | "~" => {
                        parts.push(o.clone());
                        last = None;
                        i += 1;
                    }
                    _ => return Err(format!("operator `{o}` is not translated")),
                },
            }
            if let Some((mut s, op)) = operand {
                if let (Some((c, left)), Some(r)) = (cmp.take(), op) {
                    s.push_str(compare(&c, left, r)?);
                }
                if std::mem::take(&mut concat)
                    && op.is_some_and(|r| matches!(r.class, Class::Real | Class::Blob))
                {
                    return Err(
                        "`||` of a real or a blob: SQLite and PostgreSQL render them differently"
                            .into(),
                    );
                }
                parts.push(s);
                last = op;
                cmp = None;
            }
        }
        Ok(parts.join(" "))
    }

    /// `left [NOT] LIKE 'pattern' [ESCAPE 'c']` at `toks[i]` (the LIKE),
    /// `left` being the last of `parts` (taken from it): SQLite's ASCII-only
    /// case folding written out, both sides through `translate()` of A-Z
    /// (PostgreSQL's lower() and ILIKE fold every letter), and no escape
    /// character unless SQLite's has one. Returns the text and the token
    /// after it.
    fn like(
        &mut self,
        i: usize,
        b: usize,
        cond: bool,
        left: Option<Operand>,
        not: bool,
        parts: &mut Vec<String>,
    ) -> R<(String, usize)> {
        let toks = self.toks;
        // As a value SQLite's LIKE is 0 or 1, PostgreSQL's a boolean, and
        // the two bind differently beside comparisons: only a whole
        // condition, or one joined by AND/OR/NOT, is translated.
        let value = || like_refused("as a value (0 or 1 in SQLite, a boolean in PostgreSQL)");
        if left.is_none_or(|l| l.class != Class::Text) {
            return Err(like_refused("on a value that is not text"));
        }
        let n = parts.len();
        if n >= 2 && binds_tighter(&parts[n - 2]) {
            return Err(like_refused("on an expression"));
        }
        if !cond {
            return Err(value());
        }
        let left = parts.pop().unwrap_or_default();
        let Some(Tok::Str(pattern)) = toks.get(i + 1).filter(|_| i + 1 < b).map(|t| &t.tok) else {
            return Err(like_refused("with a pattern that is not a literal"));
        };
        let word = |k: usize, w: &str| k < b && toks[k].is_word(w);
        let (escape, escape_char, next) = if word(i + 2, "escape") {
            match toks.get(i + 3).filter(|_| i + 3 < b).map(|t| &t.tok) {
                Some(Tok::Str(e))
                    if e.chars().count() == 1 && !e.chars().all(|c| c.is_ascii_alphabetic()) =>
                {
                    (super::literal(e), e.chars().next(), i + 4)
                }
                _ => {
                    return Err(like_refused(
                        "with an ESCAPE that is not one literal non-letter character",
                    ))
                }
            }
        } else {
            // PostgreSQL's LIKE escapes with `\` unless told otherwise.
            ("''".to_string(), None, i + 2)
        };
        if next < b && matches!(&toks[next].tok, Tok::Op(o) if binds_tighter(o)) {
            return Err(like_refused("with a pattern that is an expression"));
        }
        if !condition_after(toks, next, b) {
            return Err(value());
        }
        if ends_with_escape(pattern, escape_char) {
            // PostgreSQL fails the query; SQLite matches nothing.
            return Err(like_refused(
                "with a pattern that ends with its escape character",
            ));
        }
        let not = if not { "NOT " } else { "" };
        Ok((
            format!(
                "{} {not}LIKE {} ESCAPE {escape}",
                functions::ascii_lower(&left),
                super::literal(&pattern.to_ascii_lowercase())
            ),
            next,
        ))
    }

    /// An expression, and its operand facts when it is a single column or
    /// literal.
    fn simple_or_expr(&mut self, a: usize, b: usize, ctx: Ctx) -> R<(String, Option<Operand>)> {
        if b == a + 1 {
            let lit = match &self.toks[a].tok {
                Tok::Str(s) => Some((super::literal(s), Class::Text)),
                Tok::Num(n) => Some(number(n)?),
                _ => None,
            };
            if let Some((s, class)) = lit {
                return Ok((
                    s,
                    Some(Operand {
                        class,
                        literal: true,
                    }),
                ));
            }
        }
        if let Some((e, col)) = self.column_at(a, b)? {
            let (s, class) = self.emit_column(e, &col, ctx, false)?;
            return Ok((
                s,
                Some(Operand {
                    class,
                    literal: false,
                }),
            ));
        }
        Ok((self.expr(a, b, ctx)?, None))
    }

    /// A function call `toks[i]` `(` … `)` at `close`: its translation and
    /// the class of its value, as the shared function table says.
    fn call(&mut self, i: usize, close: usize, ctx: Ctx) -> R<(String, Class)> {
        // A function's arguments are values, not conditions.
        let ctx = Ctx { cond: false, ..ctx };
        let toks = self.toks;
        let name = word_of(&toks[i]).unwrap_or_default().to_ascii_lowercase();
        if name == "cast" {
            return self.cast(i, close, ctx);
        }
        let args = split_commas(toks, i + 2, close);
        let arg_toks: Vec<&[Token]> = args.iter().map(|&(x, y)| &toks[x..y]).collect();
        match functions::lookup(&name, &arg_toks)? {
            Kind::Scalar { render, returns } => {
                let translated = args
                    .iter()
                    .map(|&(x, y)| self.expr(x, y, ctx))
                    .collect::<R<Vec<String>>>()?;
                Ok((render.call(&translated), returns.into()))
            }
            Kind::Count => self.count(args[0], ctx),
            Kind::OfColumn => self.of_column(&name, args[0], ctx),
            Kind::Now(format) => Ok((format!("to_char({UTC_NOW}, '{format}')"), Class::Text)),
        }
    }

    /// `count(*)`, `count(x)`, `count(DISTINCT x)` over `toks[x..y]`.
    fn count(&mut self, (x, y): (usize, usize), ctx: Ctx) -> R<(String, Class)> {
        self.aggregate = true;
        let toks = self.toks;
        if y == x + 1 && toks[x].is_op("*") {
            return Ok(("count(*)".into(), Class::Int));
        }
        let distinct = toks[x].is_word("distinct");
        let x = if distinct { x + 1 } else { x };
        let agg = in_aggregate(ctx);
        let inner = match self.column_at(x, y)? {
            Some((e, col)) => self.emit_column(e, &col, agg, true)?.0,
            None => self.expr(x, y, agg)?,
        };
        let d = if distinct { "DISTINCT " } else { "" };
        Ok((format!("count({d}{inner})"), Class::Int))
    }

    /// `sum()`, `min()` or `max()` of the column `toks[x..y]`: only where
    /// both engines answer alike for its type.
    fn of_column(&mut self, name: &str, (x, y): (usize, usize), ctx: Ctx) -> R<(String, Class)> {
        self.aggregate = true;
        let (e, col) = self.column_at(x, y)?.ok_or_else(|| {
            format!("{name}() of an expression is not translated (only of a column)")
        })?;
        let (s, class) = self.emit_column(e, &col, in_aggregate(ctx), false)?;
        match (name, class) {
            ("sum", Class::Int) => Ok((format!("sum({s})"), Class::Unknown)),
            ("min" | "max", Class::Int | Class::Real) => Ok((format!("{name}({s})"), class)),
            ("min" | "max", Class::Text) => Ok((format!("{name}({s} COLLATE \"C\")"), Class::Text)),
            _ => Err(format!(
                "{name}() of column `{col}`: only sum() of integers and min()/max() of numbers \
                 and text answer alike"
            )),
        }
    }

    /// `CAST(x AS type)`, only where both engines give the same value.
    fn cast(&mut self, i: usize, close: usize, ctx: Ctx) -> R<(String, Class)> {
        let ctx = Ctx { cond: false, ..ctx };
        let toks = self.toks;
        let mut depth = 0;
        let mut at = None;
        for (k, t) in toks.iter().enumerate().take(close).skip(i + 2) {
            if t.is_op("(") {
                depth += 1;
            } else if t.is_op(")") {
                depth -= 1;
            } else if depth == 0 && t.is_word("as") {
                at = Some(k);
            }
        }
        let at = at
            .filter(|&k| k + 1 < close)
            .ok_or("a CAST without AS type")?;
        let decl = self.text(at + 1, close).to_ascii_uppercase();
        // SQLite's affinity of the type name.
        let (affinity, pg) = if decl.contains("INT") {
            ("INTEGER", "bigint")
        } else if ["CHAR", "CLOB", "TEXT"].iter().any(|w| decl.contains(w)) {
            ("TEXT", "text")
        } else if ["REAL", "FLOA", "DOUB"].iter().any(|w| decl.contains(w)) {
            ("REAL", "double precision")
        } else {
            return Err(format!(
                "CAST to {decl} (SQLite's NUMERIC or BLOB affinity) is not translated"
            ));
        };
        let (x, y) = (i + 2, at);
        let (inner, class) = match self.column_at(x, y)? {
            Some((e, col)) => self.emit_column(e, &col, ctx, false)?,
            None => (self.expr(x, y, ctx)?, Class::Unknown),
        };
        let ok = match affinity {
            "INTEGER" => class == Class::Int,
            "TEXT" => matches!(class, Class::Int | Class::Text),
            _ => matches!(class, Class::Int | Class::Real),
        };
        if !ok {
            return Err(format!(
                "CAST(… AS {decl}) of {}: SQLite truncates or reads a prefix where PostgreSQL \
                 rounds or refuses",
                match class {
                    Class::Unknown => "an expression".to_string(),
                    Class::Real => "a real".to_string(),
                    Class::Text => "text".to_string(),
                    _ => "a value of another type".to_string(),
                }
            ));
        }
        let class = match affinity {
            "INTEGER" => Class::Int,
            "TEXT" => Class::Text,
            _ => Class::Real,
        };
        Ok((format!("CAST({inner} AS {pg})"), class))
    }
}

/// The context of an aggregate's argument: a value, inside the aggregate.
fn in_aggregate(ctx: Ctx) -> Ctx {
    Ctx {
        clause: ctx.clause,
        in_agg: true,
        cond: false,
    }
}

fn nonzero(n: &str) -> bool {
    match number(n) {
        Ok((s, Class::Int)) => s != "0",
        Ok(_) => n.parse::<f64>().is_ok_and(|v| v != 0.0),
        Err(_) => false,
    }
}

/// A numeric literal: integers as they are, reals as float8 (PostgreSQL
/// reads `1.5` as numeric).
fn number(n: &str) -> R<(String, Class)> {
    if let Some(h) = n.strip_prefix("0x").or_else(|| n.strip_prefix("0X")) {
        let v = u64::from_str_radix(h, 16).map_err(|_| format!("number `{n}`"))? as i64;
        return Ok((v.to_string(), Class::Int));
    }
    if let Ok(v) = n.parse::<i64>() {
        return Ok((v.to_string(), Class::Int));
    }
    let v: f64 = n.parse().map_err(|_| format!("number `{n}`"))?;
    if !v.is_finite() {
        return Err(format!("number `{n}` is out of range"));
    }
    Ok((format!("'{n}'::float8"), Class::Real))
}
