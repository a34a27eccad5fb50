//! A mapping's SQL fragments (a CHECK, a default, a generated expression,
//! an index's `where` or expression column, a view's query) read with
//! PostgreSQL's lexical rules, so that each is one expression (or one
//! query) before it is put inside a statement: no `;` outside a literal or
//! comment, no parenthesis closed that the fragment did not open, no comma
//! between two top-level expressions. The server checks the same again at
//! run start (docs/mapping.md, "SQL in the mapping").
//!
//! PostgreSQL's lexical rules followed here: `'…'` with `''` (and `E'…'`
//! with backslash escapes), `"…"` identifiers with `""`, dollar quotes
//! `$tag$…$tag$`, `--` comments to the end of a line and nested `/* */`.

/// What the fragment must be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// One expression (CHECK, default, generated, index `where`).
    Expression,
    /// One expression wrapped in one pair of parentheses, then words only
    /// (an index's expression column: `(lower(name)) DESC`).
    Parenthesized,
    /// One query (a view's `sql`); a trailing `;` is allowed.
    Query,
}

/// `Ok` when `text` is one fragment of `kind` by the lexical rules, else
/// why it is not, in the operator's words.
pub fn check(text: &str, kind: Kind) -> Result<(), String> {
    let tokens = scan(text)?;
    if tokens.is_empty() {
        return Err("empty".into());
    }
    let mut depth = 0usize;
    // The depth-0 closing parenthesis of the first group, by token index.
    let mut first_group_end = None;
    for (i, t) in tokens.iter().enumerate() {
        match t {
            Tok::Open => depth += 1,
            Tok::Close => {
                if depth == 0 {
                    return Err(
                        "a `)` or `]` closes a parenthesis the fragment did not open".into(),
                    );
                }
                depth -= 1;
                if depth == 0 && first_group_end.is_none() {
                    first_group_end = Some(i);
                }
            }
            Tok::Semicolon => {
                let last = tokens[i + 1..].is_empty();
                if !(kind == Kind::Query && depth == 0 && last) {
                    return Err(
                        "a `;` ends the statement: write one expression, not several \
                                statements"
                            .into(),
                    );
                }
            }
            Tok::Comma if depth == 0 && kind != Kind::Query => {
                return Err("a `,` outside parentheses: write one expression".into());
            }
            Tok::Comma | Tok::Other => {}
        }
    }
    if depth > 0 {
        return Err("a `(` or `[` is never closed".into());
    }
    // `(expr)`, then words only (`DESC`, `NULLS LAST`, a collation).
    let words_after = |end: usize| tokens[end + 1..].iter().all(|t| *t == Tok::Other);
    if kind == Kind::Parenthesized
        && (tokens[0] != Tok::Open || !first_group_end.is_some_and(words_after))
    {
        return Err(
            "an expression column is one expression in parentheses, then its order:              `(…)`, `(…) DESC`"
                .into(),
        );
    }
    Ok(())
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Tok {
    Open,
    Close,
    Semicolon,
    Comma,
    Other,
}

/// The tokens that matter for the shape; literals, identifiers and
/// comments are skipped (an unterminated one is an error).
fn scan(text: &str) -> Result<Vec<Tok>, String> {
    let b = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        match c {
            b'(' | b'[' => out.push(Tok::Open),
            b')' | b']' => out.push(Tok::Close),
            b';' => out.push(Tok::Semicolon),
            b',' => out.push(Tok::Comma),
            b'-' if b.get(i + 1) == Some(&b'-') => {
                match b[i..].iter().position(|&x| x == b'\n') {
                    Some(n) => i += n,
                    // Inside a statement it would hide what follows.
                    None => return Err(
                        "a `--` comment runs to the end: it would hide the rest of the statement"
                            .into(),
                    ),
                }
            }
            b'/' if b.get(i + 1) == Some(&b'*') => i = block_comment(b, i)?,
            b'\'' => {
                // `E'…'`'s `E` was pushed as a word already.
                if !escapes_before(b, i) {
                    out.push(Tok::Other);
                }
                i = string(b, i, escapes_before(b, i))?;
            }
            b'"' => {
                out.push(Tok::Other);
                i = quoted(b, i, b'"', "a quoted identifier")?;
            }
            b'$' => i = dollar(b, i, &mut out)?,
            c if c.is_ascii_whitespace() => {}
            _ => {
                out.push(Tok::Other);
                // A word or number in one step, so `E'` and `$` inside
                // identifiers (`a$b`) are read as PostgreSQL reads them.
                if is_ident(c) {
                    while i + 1 < b.len() && (is_ident(b[i + 1]) || b[i + 1] == b'$') {
                        i += 1;
                    }
                }
            }
        }
        i += 1;
    }
    Ok(out)
}

fn is_ident(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'_' || c >= 0x80
}

/// Whether the `'` at `i` opens an escape string: `E'…'` (the `E` a word of
/// its own).
fn escapes_before(b: &[u8], i: usize) -> bool {
    i >= 1
        && matches!(b[i - 1], b'e' | b'E')
        && (i < 2 || !(is_ident(b[i - 2]) || b[i - 2] == b'$'))
}

/// The index of the closing `'` of the string opening at `i`.
fn string(b: &[u8], i: usize, backslash: bool) -> Result<usize, String> {
    let mut j = i + 1;
    while j < b.len() {
        match b[j] {
            b'\\' if backslash => j += 1,
            b'\'' if b.get(j + 1) == Some(&b'\'') => j += 1,
            b'\'' => return Ok(j),
            _ => {}
        }
        j += 1;
    }
    Err("a string literal is never closed".into())
}

fn quoted(b: &[u8], i: usize, q: u8, what: &str) -> Result<usize, String> {
    let mut j = i + 1;
    while j < b.len() {
        if b[j] == q {
            if b.get(j + 1) == Some(&q) {
                j += 2;
                continue;
            }
            return Ok(j);
        }
        j += 1;
    }
    Err(format!("{what} is never closed"))
}

/// The index of the `/` ending the (nested) comment opening at `i`.
fn block_comment(b: &[u8], i: usize) -> Result<usize, String> {
    let (mut depth, mut j) = (0usize, i);
    while j + 1 < b.len() {
        if b[j] == b'/' && b[j + 1] == b'*' {
            depth += 1;
            j += 2;
        } else if b[j] == b'*' && b[j + 1] == b'/' {
            depth -= 1;
            j += 2;
            if depth == 0 {
                return Ok(j - 1);
            }
        } else {
            j += 1;
        }
    }
    Err("a `/*` comment is never closed".into())
}

/// A `$`: a parameter (`$1`), or a dollar-quoted string `$tag$…$tag$`
/// (skipped to its end).
fn dollar(b: &[u8], i: usize, out: &mut Vec<Tok>) -> Result<usize, String> {
    if b.get(i + 1).is_some_and(u8::is_ascii_digit) {
        out.push(Tok::Other);
        let mut j = i + 1;
        while j + 1 < b.len() && b[j + 1].is_ascii_digit() {
            j += 1;
        }
        return Ok(j);
    }
    let mut j = i + 1;
    while j < b.len() && is_ident(b[j]) {
        j += 1;
    }
    if b.get(j) != Some(&b'$') {
        // Not a dollar quote: an operator character PostgreSQL refuses.
        out.push(Tok::Other);
        return Ok(i);
    }
    let tag = &b[i..=j];
    out.push(Tok::Other);
    let body = j + 1;
    match b[body..].windows(tag.len()).position(|w| w == tag) {
        Some(n) => Ok(body + n + tag.len() - 1),
        None => Err("a dollar-quoted string is never closed".into()),
    }
}

#[cfg(test)]
mod tests {
    use super::{check, Kind};

    fn expr(s: &str) -> Result<(), String> {
        check(s, Kind::Expression)
    }

    #[test]
    fn one_expression_passes_whatever_its_literals_hold() {
        for ok in [
            "price > 0",
            "status IN ('a', 'b')",
            "note <> 'a; DROP TABLE x; --'",
            "note <> E'it\\'s; ) ,'",
            "note <> 'it''s; )'",
            "\"we;ird\" > 0",
            "body <> $$; ) , $$",
            "body <> $t$ $$ ; $t$",
            "x /* a ; /* nested ) */ , */ > 1",
            "x > 1 -- a comment\n",
            "ARRAY[1, 2] @> tags",
            "coalesce(a, b) > $1",
            "a$b > 0",
            "'new;, )'",
            "\"col\"",
            "$$x$$",
        ] {
            assert_eq!(expr(ok), Ok(()), "{ok}");
        }
    }

    #[test]
    fn a_second_statement_or_an_escape_is_refused() {
        for bad in [
            "true; DROP TABLE \"app_orders\"; SELECT 1",
            "true), DROP COLUMN b, ADD CONSTRAINT d CHECK (true",
            "0, evil text",
            "(x > 1",
            "x > 1 --",
            "'open",
            "/* open",
            "$q$ open",
            "",
            "/* only a comment */",
            "E'\\'; DROP TABLE t; --",
        ] {
            assert!(expr(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn an_expression_column_is_one_group_and_a_query_may_end_with_a_semicolon() {
        assert_eq!(check("(lower(name))", Kind::Parenthesized), Ok(()));
        assert!(check("(a), (b)", Kind::Parenthesized).is_err());
        assert!(check("(a) + (b)", Kind::Parenthesized).is_err());
        assert_eq!(
            check("(\"it's\") DESC NULLS LAST", Kind::Parenthesized),
            Ok(())
        );
        assert!(check("(a) DESC, (b)", Kind::Parenthesized).is_err());
        assert_eq!(check("SELECT a, b FROM t;", Kind::Query), Ok(()));
        assert!(check("SELECT 1; DROP TABLE t", Kind::Query).is_err());
        assert!(check("SELECT 1;;", Kind::Query).is_err());
    }
}
