//! Column defaults: a SQLite `DEFAULT` (literal, `NULL`, or a "current
//! time" call) as a PostgreSQL default for the column's target type, or an
//! error when it cannot be carried over faithfully.

use super::{bytea_lit, lit};
use crate::pg::types::PgType;
use crate::sqlite::sql::lexer::{matching_paren, tokenize, Tok, Token};
use chrono::Datelike;

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
pub(super) enum Lit {
    Int(i64),
    /// The number and its text as written.
    Real(f64, String),
    Text(String),
    Blob(String),
    Bool(bool),
}

/// Translate a SQLite column default (the raw `dflt_value` text) into a
/// PostgreSQL default expression for a column of type `ty`, local time
/// taken as UTC. `Ok(None)` means no default (`NULL`); `Err` means it
/// cannot be translated faithfully.
pub fn translate_default(raw: &str, ty: &PgType) -> Result<Option<String>, String> {
    translate_default_in(raw, ty, "UTC").map(|t| t.default)
}

/// A translated default, and what the operator should know about it.
#[derive(Debug, Clone, PartialEq)]
pub struct Translated {
    pub default: Option<String>,
    /// Said beside the column: a meaning that depends on a setting (local
    /// time follows the pipeline's `timezone`).
    pub note: Option<String>,
}

/// [`translate_default`], SQLite's `localtime` being the wall-clock time of
/// `timezone` (the pipeline's, for naive source values): `datetime('now',
/// 'localtime')` becomes `(now() AT TIME ZONE '<timezone>')`, with a note.
pub fn translate_default_in(raw: &str, ty: &PgType, timezone: &str) -> Result<Translated, String> {
    let fail = || {
        let why = if zero_date(raw) {
            ": a zero date (MySQL's \"no date\") is no day PostgreSQL knows"
        } else {
            ""
        };
        format!(
            "cannot translate default `{}` for a {ty} column{why}",
            raw.trim()
        )
    };
    let toks = tokenize(raw).map_err(|_| fail())?;
    let default = default_toks(&toks, ty, timezone).ok_or_else(fail)?;
    let local = default.is_some() && now_is_local(&toks);
    Ok(Translated {
        note: local.then(|| {
            format!(
                "default `{}` is SQLite's local wall-clock time: translated as {}, the wall-clock time of \
                 the pipeline's timezone ({timezone}); if the application ran in another zone, set that \
                 zone as defaults.timezone and in this default",
                raw.trim(),
                default.as_deref().unwrap_or_default()
            )
        }),
        default,
    })
}

/// `0000-00-00…`: MySQL's zero date, which names no day.
fn zero_date(raw: &str) -> bool {
    raw.trim()
        .trim_start_matches(['(', '\'', '"'])
        .starts_with("0000-00-00")
}

/// Whether the default is a "now" call with the `localtime` modifier.
fn now_is_local(toks: &[Token]) -> bool {
    let mut toks = toks;
    while toks.len() > 2 && toks[0].is_op("(") && matching_paren(toks, 0) == Some(toks.len() - 1) {
        toks = &toks[1..toks.len() - 1];
    }
    matches!(
        now_kind(toks),
        Some(
            Now::Timestamp { local: true }
                | Now::Date { local: true }
                | Now::Time { local: true }
                | Now::Format { local: true, .. }
        )
    )
}

fn default_toks(toks: &[Token], ty: &PgType, timezone: &str) -> Option<Option<String>> {
    if toks.is_empty() {
        return None;
    }
    // (expr) → expr
    if toks[0].is_op("(") && matching_paren(toks, 0) == Some(toks.len() - 1) {
        return default_toks(&toks[1..toks.len() - 1], ty, timezone);
    }
    if toks.len() == 1 && toks[0].is_word("null") {
        return Some(None);
    }
    if let Some(now) = now_kind(toks) {
        return now_default(now, ty, timezone).map(Some);
    }
    if let Some(inner) = cast_of(toks, ty) {
        return default_toks(inner, ty, timezone);
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

pub(super) fn number(n: &str, neg: bool) -> Option<Lit> {
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
        PgType::Text | PgType::Varchar(_) | PgType::Char(_) | PgType::Citext => match v {
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
                .map(|d| lit(&pg_date(d))),
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
                    if t.year() > 0 {
                        return Some(lit(&t.to_rfc3339()));
                    }
                    // Year 0 and before: PostgreSQL counts years BC.
                    let text = pg_timestamp(t.naive_utc());
                    return Some(lit(&if *ty == PgType::Timestamptz {
                        text.replacen(" BC", "+00 BC", 1)
                    } else {
                        text
                    }));
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
                let text = pg_timestamp(naive);
                // Naive source values are UTC unless the mapping says
                // otherwise; `init` writes `timezone = "UTC"`.
                Some(if *ty == PgType::Timestamptz {
                    lit(&match text.strip_suffix(" BC") {
                        Some(t) => format!("{t}+00 BC"),
                        None => format!("{text}+00"),
                    })
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
        // Not chosen by `init`: a default for them is not translated.
        PgType::Timetz
        | PgType::Interval
        | PgType::Inet
        | PgType::Cidr
        | PgType::Enum { .. }
        | PgType::Array { .. } => None,
    }
}

/// A date as PostgreSQL reads it: ISO year 0 is 1 BC, year -1 is 2 BC
/// (SQLite's date functions count years the ISO way).
fn pg_date(d: chrono::NaiveDate) -> String {
    if d.year() > 0 {
        d.format("%Y-%m-%d").to_string()
    } else {
        format!("{:04}-{} BC", 1 - d.year(), d.format("%m-%d"))
    }
}

/// A timestamp as PostgreSQL reads it (years BC as in [`pg_date`]).
fn pg_timestamp(t: chrono::NaiveDateTime) -> String {
    let time = t.format("%H:%M:%S%.f");
    if t.year() > 0 {
        format!("{} {time}", t.format("%Y-%m-%d"))
    } else {
        format!("{} {time} BC", pg_date(t.date()).trim_end_matches(" BC"))
    }
}

/// `CAST(inner AS T)` where T gives what the column holds anyway (an
/// integer cast into an integer column, a text cast into a text column, a
/// number cast into a number column; a date/time column takes the time
/// itself): the inner expression, translated for the column. Another cast
/// changes the value and is not translated.
fn cast_of<'a>(toks: &'a [Token], ty: &PgType) -> Option<&'a [Token]> {
    if !toks.first()?.is_word("cast")
        || !toks.get(1)?.is_op("(")
        || matching_paren(toks, 1) != Some(toks.len() - 1)
    {
        return None;
    }
    let body = &toks[2..toks.len() - 1];
    // The last top-level AS: what follows is the type name.
    let mut depth = 0i32;
    let mut as_at = None;
    for (i, t) in body.iter().enumerate() {
        if t.is_op("(") {
            depth += 1;
        } else if t.is_op(")") {
            depth -= 1;
        } else if depth == 0 && t.is_word("as") {
            as_at = Some(i);
        }
    }
    let as_at = as_at.filter(|&i| i > 0 && i + 1 < body.len())?;
    let name: Vec<String> = body[as_at + 1..]
        .iter()
        .map(|t| match &t.tok {
            Tok::Word(w) => w.clone(),
            Tok::Num(n) => n.clone(),
            Tok::Op(o) => o.clone(),
            _ => String::new(),
        })
        .collect();
    let cast = super::map_declared_type(&name.join(" "));
    let number = |t: &PgType| matches!(t, PgType::Double | PgType::Real | PgType::Numeric(_));
    let text = |t: &PgType| matches!(t, PgType::Text | PgType::Varchar(_) | PgType::Char(_));
    let same = (cast.is_integer() && ty.is_integer())
        || (text(&cast) && text(ty))
        || (number(&cast) && number(ty))
        || (matches!(ty, PgType::Timestamp | PgType::Timestamptz | PgType::Date)
            && (cast.is_integer() || number(&cast) || text(&cast)));
    same.then_some(&body[..as_at])
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

fn now_default(now: Now, ty: &PgType, timezone: &str) -> Option<String> {
    let clock = |local: bool| {
        if local {
            format!("(now() AT TIME ZONE {})", lit(timezone))
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
            } else if (!has_time || *ty == PgType::Date) && local {
                // The local date, not the server session's.
                Some(format!("({})::date", clock(true)))
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
