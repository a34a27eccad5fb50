//! From SQLite's schema language to PostgreSQL's: declared column types
//! (SQLite's affinity rules plus the names apps actually use), column
//! defaults, and CHECK / partial-index expressions (best effort: anything we
//! are not sure about is refused, and `init` leaves it out with a warning).

use crate::pg::ident;
use crate::pg::types::PgType;

// ---------------------------------------------------------------------------
// Tokenizer (SQLite lexical rules), shared with `introspect`.
// ---------------------------------------------------------------------------

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

/// `'text'` as a PostgreSQL literal (standard string, or `E'...'` when it has
/// backslashes).
fn lit(s: &str) -> String {
    ident::literal(s).trim_start().to_string()
}

fn bytea_lit(hex_digits: &str) -> String {
    format!("'\\x{}'::bytea", hex_digits.to_ascii_lowercase())
}

// ---------------------------------------------------------------------------
// Declared types
// ---------------------------------------------------------------------------

/// The PostgreSQL type for a SQLite declared column type.
///
/// Specific names first (`boolean`, `date`, `datetime`, `json`, `uuid`,
/// `decimal(p,s)`, ...), then SQLite's own affinity rules. Every integer
/// affinity becomes `bigint` (SQLite integers are 64-bit whatever the
/// declaration says), every floating one `double precision`, and character
/// types `text` (SQLite does not enforce `varchar(n)` limits).
pub fn map_declared_type(decl: &str) -> PgType {
    let norm = decl
        .trim()
        .to_ascii_lowercase()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    let (base, args) = match norm.find('(') {
        Some(i) => {
            let close = norm.rfind(')').filter(|&c| c > i).unwrap_or(norm.len());
            let args: Option<Vec<i64>> = norm[i + 1..close]
                .split(',')
                .map(|a| a.trim().parse::<i64>().ok())
                .collect();
            (norm[..i].trim().to_string(), args)
        }
        None => (norm.clone(), Some(Vec::new())),
    };
    match base.as_str() {
        "" => PgType::Text,
        "boolean" | "bool" => PgType::Boolean,
        "date" => PgType::Date,
        "datetime" | "timestamp" | "timestamptz" | "timestamp with time zone" => {
            PgType::Timestamptz
        }
        "timestamp without time zone" => PgType::Timestamp,
        "time" | "time without time zone" => PgType::Time,
        "json" | "jsonb" => PgType::Jsonb,
        "uuid" | "guid" | "uniqueidentifier" => PgType::Uuid,
        "numeric" | "decimal" => PgType::Numeric(match args.as_deref() {
            Some([p]) if (1..=1000).contains(p) => Some((*p as u32, 0)),
            Some([p, s]) if (1..=1000).contains(p) && (0..=*p).contains(s) => {
                Some((*p as u32, *s as u32))
            }
            _ => None,
        }),
        "real" | "float" | "double" | "double precision" | "float4" | "float8" => PgType::Double,
        "blob" | "bytea" => PgType::Bytea,
        _ => affinity_type(&norm),
    }
}

/// SQLite's affinity rules (section 3.1 of "Datatypes In SQLite"), in order.
fn affinity_type(norm: &str) -> PgType {
    if norm.contains("int") {
        PgType::BigInt
    } else if norm.contains("char") || norm.contains("clob") || norm.contains("text") {
        PgType::Text
    } else if norm.contains("blob") {
        PgType::Bytea
    } else if norm.contains("real") || norm.contains("floa") || norm.contains("doub") {
        PgType::Double
    } else {
        PgType::Numeric(None)
    }
}

// ---------------------------------------------------------------------------
// Defaults
// ---------------------------------------------------------------------------

/// What a "now" default produces in SQLite.
#[derive(Debug, Clone, PartialEq)]
enum Now {
    /// `YYYY-MM-DD HH:MM:SS` text (CURRENT_TIMESTAMP, datetime('now')).
    Timestamp {
        local: bool,
    },
    Date {
        local: bool,
    },
    Time {
        local: bool,
    },
    /// strftime with another format: its `to_char` pattern when it has one;
    /// `has_time` = it has a time-of-day part.
    Format {
        pattern: Option<String>,
        has_time: bool,
        local: bool,
    },
    /// Unix seconds (strftime('%s','now'), unixepoch()).
    Epoch,
    Julian,
}

#[derive(Debug, Clone, PartialEq)]
enum Lit {
    Int(i64),
    /// The number and its text as written.
    Real(f64, String),
    Text(String),
    Blob(String),
    Bool(bool),
}

/// Translate a SQLite column default (the raw `dflt_value` text) into a
/// PostgreSQL default expression for a column of type `ty`. `Ok(None)` means
/// no default (`NULL`); `Err` means it cannot be translated faithfully.
pub fn translate_default(raw: &str, ty: &PgType) -> Result<Option<String>, String> {
    let fail = || {
        format!(
            "cannot translate default `{}` for a {ty} column",
            raw.trim()
        )
    };
    let toks = tokenize(raw).map_err(|_| fail())?;
    default_toks(&toks, ty).ok_or_else(fail)
}

fn default_toks(toks: &[Token], ty: &PgType) -> Option<Option<String>> {
    if toks.is_empty() {
        return None;
    }
    // (expr) → expr
    if toks[0].is_op("(") && matching_paren(toks, 0) == Some(toks.len() - 1) {
        return default_toks(&toks[1..toks.len() - 1], ty);
    }
    if toks.len() == 1 && toks[0].is_word("null") {
        return Some(None);
    }
    if let Some(now) = now_kind(toks) {
        return now_default(now, ty).map(Some);
    }
    let lit = literal_of(toks)?;
    literal_default(&lit, ty).map(Some)
}

fn literal_of(toks: &[Token]) -> Option<Lit> {
    match toks {
        [t] => match &t.tok {
            Tok::Word(w) if w.eq_ignore_ascii_case("true") => Some(Lit::Bool(true)),
            Tok::Word(w) if w.eq_ignore_ascii_case("false") => Some(Lit::Bool(false)),
            Tok::Num(n) => number(n, false),
            Tok::Str(s) => Some(Lit::Text(s.clone())),
            Tok::Quoted { name, dq: true } => Some(Lit::Text(name.clone())),
            Tok::Blob(h) => Some(Lit::Blob(h.clone())),
            _ => None,
        },
        [sign, t] if sign.is_op("-") || sign.is_op("+") => match &t.tok {
            Tok::Num(n) => number(n, sign.is_op("-")),
            _ => None,
        },
        _ => None,
    }
}

fn number(n: &str, neg: bool) -> Option<Lit> {
    let sign = if neg { "-" } else { "" };
    if let Some(h) = n.strip_prefix("0x").or_else(|| n.strip_prefix("0X")) {
        // SQLite hex literals are 64-bit two's complement.
        let v = u64::from_str_radix(h, 16).ok()? as i64;
        return Some(Lit::Int(if neg { v.checked_neg()? } else { v }));
    }
    let text = format!("{sign}{n}");
    if let Ok(v) = text.parse::<i64>() {
        return Some(Lit::Int(v));
    }
    let v: f64 = text.parse().ok()?;
    v.is_finite().then_some(Lit::Real(v, text))
}

/// A text value as a number, the way SQLite's numeric affinity would read it.
fn text_number(s: &str) -> Option<Lit> {
    let t = s.trim();
    let (neg, body) = match t.strip_prefix('-') {
        Some(b) => (true, b),
        None => (false, t.strip_prefix('+').unwrap_or(t)),
    };
    if body.is_empty()
        || !body
            .chars()
            .all(|c| c.is_ascii_digit() || matches!(c, '.' | 'e' | 'E' | '+' | '-'))
    {
        return None;
    }
    number(body, neg)
}

fn literal_default(v: &Lit, ty: &PgType) -> Option<String> {
    let as_number = |lit: &Lit| -> Option<Lit> {
        match v {
            Lit::Int(_) | Lit::Real(..) => Some(lit.clone()),
            Lit::Bool(b) => Some(Lit::Int(*b as i64)),
            Lit::Text(s) => text_number(s),
            Lit::Blob(_) => None,
        }
    };
    match ty {
        PgType::Boolean => {
            let b = match v {
                Lit::Bool(b) => *b,
                Lit::Int(0) => false,
                Lit::Int(1) => true,
                Lit::Real(v, _) if *v == 0.0 => false,
                Lit::Real(v, _) if *v == 1.0 => true,
                Lit::Text(s) => match s.trim().to_ascii_lowercase().as_str() {
                    "1" | "t" | "true" | "y" | "yes" | "on" => true,
                    "0" | "f" | "false" | "n" | "no" | "off" => false,
                    _ => return None,
                },
                _ => return None,
            };
            Some(b.to_string())
        }
        PgType::SmallInt | PgType::Integer | PgType::BigInt => {
            let v = match as_number(v)? {
                Lit::Int(v) => v,
                Lit::Real(f, _) if f.fract() == 0.0 && f.abs() < 9.0e15 => f as i64,
                _ => return None,
            };
            let fits = match ty {
                PgType::SmallInt => i16::try_from(v).is_ok(),
                PgType::Integer => i32::try_from(v).is_ok(),
                _ => true,
            };
            fits.then(|| v.to_string())
        }
        PgType::Real | PgType::Double | PgType::Numeric(_) => match as_number(v)? {
            Lit::Int(v) => Some(v.to_string()),
            Lit::Real(_, text) => Some(text),
            _ => None,
        },
        PgType::Text | PgType::Varchar(_) | PgType::Char(_) => match v {
            Lit::Text(s) => Some(lit(s)),
            Lit::Int(v) => Some(lit(&v.to_string())),
            Lit::Real(_, text) => Some(lit(text)),
            Lit::Bool(b) => Some(lit(if *b { "1" } else { "0" })),
            Lit::Blob(_) => None,
        },
        PgType::Bytea => match v {
            Lit::Blob(h) => Some(bytea_lit(h)),
            Lit::Text(s) => Some(bytea_lit(&hex::encode(s.as_bytes()))),
            _ => None,
        },
        PgType::Date => match v {
            Lit::Text(s) => chrono::NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d")
                .ok()
                .map(|d| lit(&d.format("%Y-%m-%d").to_string())),
            _ => None,
        },
        PgType::Time => match v {
            Lit::Text(s) => ["%H:%M:%S%.f", "%H:%M"]
                .iter()
                .find_map(|f| chrono::NaiveTime::parse_from_str(s.trim(), f).ok())
                .map(|t| lit(&t.format("%H:%M:%S%.f").to_string())),
            _ => None,
        },
        PgType::Timestamp | PgType::Timestamptz => match v {
            Lit::Text(s) => {
                let s = s.trim();
                if let Ok(t) = chrono::DateTime::parse_from_rfc3339(&s.replacen(' ', "T", 1)) {
                    return Some(lit(&t.to_rfc3339()));
                }
                let naive = [
                    "%Y-%m-%d %H:%M:%S%.f",
                    "%Y-%m-%dT%H:%M:%S%.f",
                    "%Y-%m-%d %H:%M",
                ]
                .iter()
                .find_map(|f| chrono::NaiveDateTime::parse_from_str(s, f).ok())
                .or_else(|| {
                    chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d")
                        .ok()
                        .and_then(|d| d.and_hms_opt(0, 0, 0))
                })?;
                let text = naive.format("%Y-%m-%d %H:%M:%S%.f").to_string();
                // Naive source values are UTC unless the mapping says
                // otherwise; `init` writes `timezone = "UTC"`.
                Some(if *ty == PgType::Timestamptz {
                    lit(&format!("{text}+00"))
                } else {
                    lit(&text)
                })
            }
            _ => None,
        },
        PgType::Json | PgType::Jsonb => {
            let text = match v {
                Lit::Text(s) => s.clone(),
                Lit::Int(v) => v.to_string(),
                Lit::Real(_, t) => t.clone(),
                _ => return None,
            };
            serde_json::from_str::<serde_json::Value>(&text)
                .ok()
                .map(|_| lit(&text))
        }
        PgType::Uuid => match v {
            Lit::Text(s) => uuid::Uuid::parse_str(s.trim())
                .ok()
                .map(|u| lit(&u.hyphenated().to_string())),
            Lit::Blob(h) if h.len() == 32 => uuid::Uuid::try_parse(h)
                .ok()
                .map(|u| lit(&u.hyphenated().to_string())),
            _ => None,
        },
    }
}

/// Recognise SQLite's "current time" defaults.
fn now_kind(toks: &[Token]) -> Option<Now> {
    if toks.len() == 1 {
        return match &toks[0].tok {
            Tok::Word(w) => match w.to_ascii_lowercase().as_str() {
                "current_timestamp" => Some(Now::Timestamp { local: false }),
                "current_date" => Some(Now::Date { local: false }),
                "current_time" => Some(Now::Time { local: false }),
                _ => None,
            },
            _ => None,
        };
    }
    // f(arg, ...) with string-literal arguments only.
    let Tok::Word(f) = &toks.first()?.tok else {
        return None;
    };
    if !toks.get(1)?.is_op("(") || matching_paren(toks, 1) != Some(toks.len() - 1) {
        return None;
    }
    let mut args = Vec::new();
    let inner = &toks[2..toks.len() - 1];
    for (k, t) in inner.iter().enumerate() {
        if k % 2 == 1 {
            if !t.is_op(",") {
                return None;
            }
            continue;
        }
        match &t.tok {
            Tok::Str(s) | Tok::Quoted { name: s, dq: true } => args.push(s.clone()),
            _ => return None,
        }
    }
    let f = f.to_ascii_lowercase();
    let (fmt, rest): (Option<&str>, &[String]) = if f == "strftime" {
        let (fmt, rest) = args.split_first()?;
        (Some(fmt.as_str()), rest)
    } else {
        (None, &args[..])
    };
    // 'now' first (or nothing for unixepoch()), then harmless modifiers.
    let mods: &[String] = match rest.split_first() {
        Some((n, mods)) if n.trim().eq_ignore_ascii_case("now") => mods,
        None if f == "unixepoch" => &[],
        _ => return None,
    };
    let mut local = false;
    for m in mods {
        match m.trim().to_ascii_lowercase().as_str() {
            "localtime" => local = true,
            "utc" | "subsec" | "subsecond" => {}
            _ => return None,
        }
    }
    match f.as_str() {
        "datetime" => Some(Now::Timestamp { local }),
        "date" => Some(Now::Date { local }),
        "time" => Some(Now::Time { local }),
        "julianday" => Some(Now::Julian),
        "unixepoch" => Some(Now::Epoch),
        "strftime" => match fmt? {
            "%s" => Some(Now::Epoch),
            "%J" => Some(Now::Julian),
            fmt => Some(Now::Format {
                pattern: strftime_to_char(fmt),
                has_time: ["%H", "%M", "%S", "%f", "%T", "%R", "%s"]
                    .iter()
                    .any(|d| fmt.contains(d)),
                local,
            }),
        },
        _ => None,
    }
}

/// A strftime format as a PostgreSQL `to_char` pattern, for the directives
/// both have.
fn strftime_to_char(fmt: &str) -> Option<String> {
    let mut out = String::new();
    let mut chars = fmt.chars();
    while let Some(c) = chars.next() {
        if c == '%' {
            out.push_str(match chars.next()? {
                'Y' => "YYYY",
                'm' => "MM",
                'd' => "DD",
                'H' => "HH24",
                'M' => "MI",
                'S' => "SS",
                'f' => "SS.MS",
                'j' => "DDD",
                'T' => "HH24:MI:SS",
                'R' => "HH24:MI",
                'F' => "YYYY-MM-DD",
                '%' => "%",
                _ => return None,
            });
        } else if c.is_alphabetic() {
            out.push('"');
            out.push(c);
            out.push('"');
        } else if c == '"' || c == '\\' {
            return None;
        } else {
            out.push(c);
        }
    }
    Some(out)
}

fn now_default(now: Now, ty: &PgType) -> Option<String> {
    let clock = |local: bool| {
        if local {
            "LOCALTIMESTAMP".to_string()
        } else {
            "(now() AT TIME ZONE 'UTC')".to_string()
        }
    };
    let to_char = |local: bool, pat: &str| format!("to_char({}, {})", clock(local), lit(pat));
    let epoch = "(extract(epoch from now()))::bigint";
    let has_time = match &now {
        Now::Timestamp { .. } | Now::Epoch | Now::Julian => true,
        Now::Format { has_time, .. } => *has_time,
        Now::Date { .. } | Now::Time { .. } => false,
    };
    let local = matches!(
        now,
        Now::Timestamp { local: true }
            | Now::Date { local: true }
            | Now::Time { local: true }
            | Now::Format { local: true, .. }
    );
    match ty {
        PgType::Timestamptz | PgType::Timestamp | PgType::Date => {
            if matches!(now, Now::Time { .. }) {
                None
            } else if !has_time || *ty == PgType::Date {
                Some("CURRENT_DATE".into())
            } else if *ty == PgType::Timestamptz {
                Some("CURRENT_TIMESTAMP".into())
            } else {
                Some(clock(local))
            }
        }
        PgType::Time => matches!(now, Now::Time { .. }).then(|| "CURRENT_TIME".into()),
        PgType::Text | PgType::Varchar(_) | PgType::Char(_) => match now {
            Now::Timestamp { local } => Some(to_char(local, "YYYY-MM-DD HH24:MI:SS")),
            Now::Date { local } => Some(to_char(local, "YYYY-MM-DD")),
            Now::Time { local } => Some(to_char(local, "HH24:MI:SS")),
            Now::Format {
                pattern: Some(p),
                local,
                ..
            } => Some(to_char(local, &p)),
            Now::Epoch => Some(format!("({epoch})::text")),
            _ => None,
        },
        t if t.is_integer() => (now == Now::Epoch).then(|| epoch.into()),
        PgType::Double | PgType::Real | PgType::Numeric(_) => match now {
            Now::Epoch => Some("extract(epoch from now())".into()),
            Now::Julian => Some("(extract(epoch from now()) / 86400.0 + 2440587.5)".into()),
            _ => None,
        },
        _ => None,
    }
}

// ---------------------------------------------------------------------------
// Expressions (CHECK constraints, partial-index predicates, index expressions)
// ---------------------------------------------------------------------------

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

#[cfg(test)]
mod tests {
    use super::*;

    fn ty(s: &str) -> String {
        map_declared_type(s).to_string()
    }

    #[test]
    fn integer_affinity_is_bigint() {
        for d in [
            "INTEGER",
            "INT",
            "BIGINT",
            "int(5)",
            "unsigned big int",
            "short integer",
            "TINYINT",
            "SMALLINT",
            "MEDIUMINT",
            "INT2",
            "INT8",
            "integer unsigned",
        ] {
            assert_eq!(ty(d), "bigint", "{d}");
        }
    }

    #[test]
    fn floating_is_double_never_real() {
        for d in [
            "REAL",
            "FLOAT",
            "DOUBLE",
            "double precision",
            "Double Precision",
            "float(24)",
        ] {
            assert_eq!(ty(d), "double precision", "{d}");
        }
    }

    #[test]
    fn numeric_keeps_valid_precision() {
        assert_eq!(ty("NUMERIC"), "numeric");
        assert_eq!(ty("DECIMAL"), "numeric");
        assert_eq!(ty("decimal(10,2)"), "numeric(10,2)");
        assert_eq!(ty("decimal(10, 2)"), "numeric(10,2)");
        assert_eq!(ty("NUMERIC(7)"), "numeric(7,0)");
        assert_eq!(ty("decimal(2,5)"), "numeric");
        assert_eq!(ty("decimal(0)"), "numeric");
        assert_eq!(ty("decimal(a,b)"), "numeric");
        assert_eq!(ty("money"), "numeric");
    }

    #[test]
    fn character_types_are_text() {
        for d in [
            "TEXT",
            "CHAR",
            "CLOB",
            "VARCHAR(255)",
            "NVARCHAR(20)",
            "native character(70)",
            "varying character(255)",
            "character",
            "",
            "   ",
        ] {
            assert_eq!(ty(d), "text", "{d:?}");
        }
    }

    #[test]
    fn specific_names() {
        assert_eq!(ty("BLOB"), "bytea");
        assert_eq!(ty("BOOLEAN"), "boolean");
        assert_eq!(ty("bool"), "boolean");
        assert_eq!(ty("DATE"), "date");
        assert_eq!(ty("DATETIME"), "timestamptz");
        assert_eq!(ty("timestamp"), "timestamptz");
        assert_eq!(ty("TIME"), "time");
        assert_eq!(ty("JSON"), "jsonb");
        assert_eq!(ty("UUID"), "uuid");
        assert_eq!(ty("GUID"), "uuid");
        // Affinity fallbacks.
        assert_eq!(ty("point"), "bigint"); // contains INT, as in SQLite
        assert_eq!(ty("my_blob_t"), "bytea");
        assert_eq!(ty("floating point"), "bigint"); // INT wins over FLOA in SQLite
        assert_eq!(ty("doublish"), "double precision");
    }

    fn d(raw: &str, t: &str) -> Result<Option<String>, String> {
        translate_default(raw, &PgType::parse(t).unwrap())
    }
    fn ok(raw: &str, t: &str) -> String {
        d(raw, t).unwrap().unwrap()
    }

    #[test]
    fn now_defaults() {
        assert_eq!(ok("CURRENT_TIMESTAMP", "timestamptz"), "CURRENT_TIMESTAMP");
        assert_eq!(ok("datetime('now')", "timestamptz"), "CURRENT_TIMESTAMP");
        assert_eq!(ok("(datetime('now'))", "timestamptz"), "CURRENT_TIMESTAMP");
        assert_eq!(
            ok("datetime('now','localtime')", "timestamptz"),
            "CURRENT_TIMESTAMP"
        );
        assert_eq!(
            ok("DATETIME( 'now' , 'utc' )", "timestamptz"),
            "CURRENT_TIMESTAMP"
        );
        assert_eq!(ok("CURRENT_DATE", "date"), "CURRENT_DATE");
        assert_eq!(ok("date('now')", "date"), "CURRENT_DATE");
        assert_eq!(ok("CURRENT_TIME", "time"), "CURRENT_TIME");
        assert_eq!(
            ok("strftime('%s','now')", "bigint"),
            "(extract(epoch from now()))::bigint"
        );
        assert_eq!(
            ok("unixepoch()", "bigint"),
            "(extract(epoch from now()))::bigint"
        );
        assert_eq!(
            ok("strftime('%Y-%m-%d %H:%M:%f','now')", "timestamptz"),
            "CURRENT_TIMESTAMP"
        );
        assert_eq!(
            ok("(strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))", "text"),
            "to_char((now() AT TIME ZONE 'UTC'), 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"')"
        );
        assert_eq!(
            ok("CURRENT_TIMESTAMP", "text"),
            "to_char((now() AT TIME ZONE 'UTC'), 'YYYY-MM-DD HH24:MI:SS')"
        );
        assert!(d("strftime('%Y-%m-%d %H:%M:%f','now')", "bigint").is_err());
        assert!(d("CURRENT_TIMESTAMP", "bigint").is_err());
        assert!(d("datetime('now', '+1 day')", "timestamptz").is_err());
        assert!(d("strftime('%w','now')", "text").is_err());
    }

    #[test]
    fn literal_defaults() {
        assert_eq!(ok("0", "bigint"), "0");
        assert_eq!(ok("-1", "bigint"), "-1");
        assert_eq!(ok("'30'", "bigint"), "30");
        assert_eq!(ok("0.0", "double precision"), "0.0");
        assert_eq!(ok("'2.5'", "numeric(10,2)"), "2.5");
        assert_eq!(ok("0x10", "bigint"), "16");
        assert_eq!(ok("1.0", "bigint"), "1");
        assert!(d("1.5", "bigint").is_err());
        assert!(d("''", "bigint").is_err());
        assert!(d("70000", "smallint").is_err());
        assert_eq!(ok("0", "text"), "'0'");
        assert_eq!(ok("'pending'", "text"), "'pending'");
        assert_eq!(ok("'it''s'", "text"), "'it''s'");
        assert_eq!(ok("'a\\b'", "text"), "E'a\\\\b'");
        assert_eq!(ok("\"legacy\"", "text"), "'legacy'");
        assert_eq!(d("NULL", "text"), Ok(None));
        assert_eq!(d("(NULL)", "bigint"), Ok(None));
        assert_eq!(ok("X'ABCD'", "bytea"), "'\\xabcd'::bytea");
        assert!(d("X'ABCD'", "text").is_err());
        assert!(d("lower('X')", "text").is_err());
        assert!(d("1 + 1", "bigint").is_err());
    }

    #[test]
    fn boolean_defaults() {
        for (raw, want) in [
            ("0", "false"),
            ("1", "true"),
            ("'t'", "true"),
            ("'f'", "false"),
            ("TRUE", "true"),
            ("FALSE", "false"),
            ("'yes'", "true"),
        ] {
            assert_eq!(ok(raw, "boolean"), want, "{raw}");
        }
        assert!(d("2", "boolean").is_err());
        assert_eq!(ok("TRUE", "bigint"), "1");
    }

    #[test]
    fn typed_literal_defaults() {
        assert_eq!(ok("'{}'", "jsonb"), "'{}'");
        assert_eq!(ok("'[]'", "jsonb"), "'[]'");
        assert!(d("'pending'", "jsonb").is_err());
        assert_eq!(ok("'1970-01-01'", "date"), "'1970-01-01'");
        assert_eq!(
            ok("'1970-01-01 00:00:00'", "timestamptz"),
            "'1970-01-01 00:00:00+00'"
        );
        assert!(d("'soon'", "timestamptz").is_err());
        assert!(d("0", "timestamptz").is_err());
        assert_eq!(
            ok("'A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11'", "uuid"),
            "'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'"
        );
    }

    #[test]
    fn expressions_translate() {
        let t = |s: &str| translate_expr(s);
        assert_eq!(
            t("status IN ('a', 'b')").as_deref(),
            Some("\"status\" IN ('a', 'b')")
        );
        assert_eq!(t("price >= 0").as_deref(), Some("\"price\" >= 0"));
        assert_eq!(t("a == b").as_deref(), Some("\"a\" = \"b\""));
        assert_eq!(
            t("length(name) > 0 AND name IS NOT NULL").as_deref(),
            Some("length(\"name\") > 0 AND \"name\" IS NOT NULL")
        );
        assert_eq!(
            t("ifnull(x, 0) <> 1").as_deref(),
            Some("coalesce(\"x\", 0) <> 1")
        );
        assert_eq!(
            t("`Mixed Col` || [other] != 'x'").as_deref(),
            Some("\"Mixed Col\" || \"other\" != 'x'")
        );
        assert_eq!(
            t("lower(email) LIKE '%@x.org'").as_deref(),
            Some("lower(\"email\") ILIKE '%@x.org'")
        );
        assert_eq!(
            t("deleted_at ISNULL").as_deref(),
            Some("\"deleted_at\" IS NULL")
        );
        assert_eq!(
            t("deleted_at NOT NULL").as_deref(),
            Some("\"deleted_at\" IS NOT NULL")
        );
        assert_eq!(
            t("a IS b").as_deref(),
            Some("\"a\" IS NOT DISTINCT FROM \"b\"")
        );
        assert_eq!(
            t("NOT (a > 1 OR b < 2)").as_deref(),
            Some("NOT (\"a\" > 1 OR \"b\" < 2)")
        );
        assert_eq!(
            t("CAST(x AS INTEGER) > 0").as_deref(),
            Some("CAST(\"x\" AS bigint) > 0")
        );
        assert_eq!(
            t("CASE WHEN a > 0 THEN 1 ELSE 0 END = 1").as_deref(),
            Some("CASE WHEN \"a\" > 0 THEN 1 ELSE 0 END = 1")
        );
        assert_eq!(t("\"select\" > 0").as_deref(), Some("\"select\" > 0"));
        assert_eq!(
            t("x > -1 AND y - 2 < 0").as_deref(),
            Some("\"x\" > -1 AND \"y\" - 2 < 0")
        );
        assert_eq!(t("\"a\"\"b\" > 0").as_deref(), Some("\"a\"\"b\" > 0"));
    }

    #[test]
    fn expressions_rejected() {
        for s in [
            "datetime(created_at) > '2020'",
            "strftime('%Y', d) = '2020'",
            "julianday(a) > 0",
            "name GLOB '[a-z]*'",
            "typeof(x) = 'integer'",
            "x = ?",
            "t.x > 0",
            "name COLLATE NOCASE = 'a'",
            "x IN (SELECT 1)",
            "(a > 1",
            "json_valid(body)",
            "a -> '$.x'",
        ] {
            assert_eq!(translate_expr(s), None, "{s}");
        }
    }

    #[test]
    fn column_uses_are_reported() {
        let mut res = |n: &str| Some(n.to_ascii_lowercase());
        let (sql, uses) = translate_expr_with("Active AND deleted IS NULL", &mut res).unwrap();
        assert_eq!(sql, "\"active\" AND \"deleted\" IS NULL");
        assert!(uses[0].truth && !uses[0].null_test);
        assert!(uses[1].null_test && !uses[1].truth);
        let (_, uses) = translate_expr_with("lower(x) = 'a'", &mut res).unwrap();
        assert!(!uses[0].truth);
        let (_, uses) = translate_expr_with("x IN (0, 1)", &mut res).unwrap();
        assert!(!uses[0].truth);
        // Unknown bare names are refused; unknown "quoted" ones are strings.
        let mut none = |_: &str| None;
        assert_eq!(translate_expr_with("x > 0", &mut none), None);
        assert_eq!(
            translate_expr_with("1 = \"a\"", &mut none).unwrap().0,
            "1 = 'a'"
        );
    }

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
