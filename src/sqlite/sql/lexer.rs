//! The SQL lexer: splits SQLite SQL into tokens by SQLite's lexical rules
//! (quoted identifiers, string and blob literals, numbers, parameters,
//! comments), and the two walks over tokens every reader needs (a matching
//! parenthesis, the parts between top-level commas). Used by the
//! translators (`typemap`, `functions`, `views`) and the schema readers.

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Tok {
    /// Bare identifier or keyword, as written.
    Word(String),
    /// `"x"`, `` `x` `` or `[x]`, unescaped; `dq` = it was double-quoted
    /// (SQLite falls back to a string literal for those).
    Quoted {
        name: String,
        dq: bool,
    },
    /// `'x'`, unescaped.
    Str(String),
    /// `X'ABCD'`: the hex digits.
    Blob(String),
    Num(String),
    /// `?`, `?1`, `:name`, `@name`, `$name`.
    Param,
    Op(String),
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Token {
    pub tok: Tok,
    /// Byte range in the input.
    pub start: usize,
    pub end: usize,
}

impl Token {
    pub fn is_word(&self, w: &str) -> bool {
        matches!(&self.tok, Tok::Word(x) if x.eq_ignore_ascii_case(w))
    }
    pub fn is_op(&self, o: &str) -> bool {
        matches!(&self.tok, Tok::Op(x) if x == o)
    }
}

fn is_ident_char(c: char) -> bool {
    c.is_alphanumeric() || c == '_' || c == '$' || !c.is_ascii()
}

/// Split SQL into tokens, skipping whitespace and comments. Errors on an
/// unterminated string, identifier or comment.
pub(crate) fn tokenize(sql: &str) -> Result<Vec<Token>, String> {
    let b = sql.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    let quoted = |i: usize, close: u8, doubled: bool| -> Result<(String, usize), String> {
        let mut s = String::new();
        let mut j = i + 1;
        loop {
            if j >= b.len() {
                return Err(format!("unterminated quote in `{sql}`"));
            }
            if b[j] == close {
                if doubled && j + 1 < b.len() && b[j + 1] == close {
                    s.push(close as char);
                    j += 2;
                    continue;
                }
                return Ok((s, j + 1));
            }
            let ch = sql[j..].chars().next().unwrap();
            s.push(ch);
            j += ch.len_utf8();
        }
    };
    while i < b.len() {
        let c = sql[i..].chars().next().unwrap();
        let start = i;
        if c.is_whitespace() {
            i += c.len_utf8();
            continue;
        }
        if sql[i..].starts_with("--") {
            i = sql[i..].find('\n').map(|n| i + n + 1).unwrap_or(b.len());
            continue;
        }
        if sql[i..].starts_with("/*") {
            // SQLite accepts an unterminated block comment at end of input.
            i = sql[i + 2..]
                .find("*/")
                .map(|n| i + 2 + n + 2)
                .unwrap_or(b.len());
            continue;
        }
        let tok = match c {
            '\'' => {
                let (s, j) = quoted(i, b'\'', true)?;
                i = j;
                Tok::Str(s)
            }
            '"' | '`' => {
                let (s, j) = quoted(i, c as u8, true)?;
                i = j;
                Tok::Quoted {
                    name: s,
                    dq: c == '"',
                }
            }
            '[' => {
                let (s, j) = quoted(i, b']', false)?;
                i = j;
                Tok::Quoted { name: s, dq: false }
            }
            'x' | 'X' if b.get(i + 1) == Some(&b'\'') => {
                let (s, j) = quoted(i + 1, b'\'', false)?;
                i = j;
                if s.len() % 2 != 0 || !s.chars().all(|c| c.is_ascii_hexdigit()) {
                    return Err(format!("malformed blob literal in `{sql}`"));
                }
                Tok::Blob(s)
            }
            '0'..='9' | '.' if c != '.' || b.get(i + 1).is_some_and(u8::is_ascii_digit) => {
                let mut j = i;
                if sql[i..].len() > 2
                    && (sql[i..].starts_with("0x") || sql[i..].starts_with("0X"))
                    && b[i + 2].is_ascii_hexdigit()
                {
                    j += 2;
                    while j < b.len() && b[j].is_ascii_hexdigit() {
                        j += 1;
                    }
                } else {
                    while j < b.len() && (b[j].is_ascii_digit() || b[j] == b'.' || b[j] == b'_') {
                        j += 1;
                    }
                    if j < b.len() && (b[j] == b'e' || b[j] == b'E') {
                        let mut k = j + 1;
                        if k < b.len() && (b[k] == b'+' || b[k] == b'-') {
                            k += 1;
                        }
                        if k < b.len() && b[k].is_ascii_digit() {
                            j = k;
                            while j < b.len() && b[j].is_ascii_digit() {
                                j += 1;
                            }
                        }
                    }
                }
                i = j;
                Tok::Num(sql[start..j].replace('_', ""))
            }
            '?' | ':' | '@' | '$' => {
                i += 1;
                while i < b.len() {
                    let ch = sql[i..].chars().next().unwrap();
                    if !is_ident_char(ch) {
                        break;
                    }
                    i += ch.len_utf8();
                }
                Tok::Param
            }
            c if is_ident_char(c) => {
                while i < b.len() {
                    let ch = sql[i..].chars().next().unwrap();
                    if !is_ident_char(ch) {
                        break;
                    }
                    i += ch.len_utf8();
                }
                Tok::Word(sql[start..i].to_string())
            }
            _ => {
                let two = ["||", "==", "!=", "<>", "<=", ">=", "<<", ">>", "->"];
                if sql[i..].starts_with("->>") {
                    i += 3;
                } else if two.iter().any(|t| sql[i..].starts_with(t)) {
                    i += 2;
                } else {
                    i += c.len_utf8();
                }
                Tok::Op(sql[start..i].to_string())
            }
        };
        out.push(Token { tok, start, end: i });
    }
    Ok(out)
}

/// Index of the `)` matching the `(` at `open`.
pub(crate) fn matching_paren(toks: &[Token], open: usize) -> Option<usize> {
    let mut depth = 0usize;
    for (k, t) in toks.iter().enumerate().skip(open) {
        if t.is_op("(") {
            depth += 1;
        } else if t.is_op(")") {
            depth = depth.checked_sub(1)?;
            if depth == 0 {
                return Some(k);
            }
        }
    }
    None
}

/// `(start, end)` of each comma-separated part of `toks[a..b]` at depth 0.
pub(crate) fn split_commas(toks: &[Token], a: usize, b: usize) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    let mut depth = 0i32;
    let mut s = a;
    for (k, t) in toks.iter().enumerate().take(b).skip(a) {
        if t.is_op("(") {
            depth += 1;
        } else if t.is_op(")") {
            depth -= 1;
        } else if t.is_op(",") && depth == 0 {
            out.push((s, k));
            s = k + 1;
        }
    }
    if s < b {
        out.push((s, b));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokenizer_handles_quotes_and_comments() {
        let toks = tokenize("a /* c ) */ 'x''y' -- z\n \"q\"\"r\" [s t] X'00ff' 1.5e3 .5").unwrap();
        let kinds: Vec<_> = toks.iter().map(|t| t.tok.clone()).collect();
        assert_eq!(
            kinds,
            vec![
                Tok::Word("a".into()),
                Tok::Str("x'y".into()),
                Tok::Quoted {
                    name: "q\"r".into(),
                    dq: true
                },
                Tok::Quoted {
                    name: "s t".into(),
                    dq: false
                },
                Tok::Blob("00ff".into()),
                Tok::Num("1.5e3".into()),
                Tok::Num(".5".into()),
            ]
        );
        assert!(tokenize("'open").is_err());
    }
}
