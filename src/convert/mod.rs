//! Transform: one source cell (any storage class) into the value its target
//! column needs, by the rules of the mapping file. Pure functions, no I/O.
//!
//! The rule everywhere: a value converts exactly or is rejected with a
//! reason; nothing is silently rounded, truncated, wrapped or re-zoned.
//! Decisions where more than one behaviour was defensible:
//!
//! * Fractions of a second beyond microseconds (PostgreSQL's resolution):
//!   accepted only if the extra digits are zeros, otherwise rejected.
//!   Numbers read as epochs are floats, so they are rounded to the nearest
//!   microsecond when the float cannot hold more precision than that at its
//!   magnitude, and rejected if it visibly does (`0.1234567` s). Julian days
//!   are rounded to the millisecond, exactly as SQLite itself reads them.
//! * Naive local times that fall in a DST gap (do not exist) or in a DST
//!   overlap (exist twice) in the source time zone are rejected; PostgreSQL
//!   would silently pick an offset.
//! * A date column takes a timestamp only if its time of day is midnight
//!   (in the source time zone for values carrying an offset or epochs).
//! * Numbers going into `bytea` are stored as their decimal text bytes, which
//!   is what SQLite's `CAST(x AS BLOB)` gives.
//! * `varchar(n)`/`char(n)`: more than n characters is rejected (PostgreSQL
//!   would silently drop trailing spaces).
//! * `numeric(p,s)`: more than s decimals is rejected unless the extra digits
//!   are zeros; shorter fractions are padded to s.

pub mod cell;

use std::borrow::Cow;

use chrono::{
    DateTime, Datelike, FixedOffset, LocalResult, NaiveDate, NaiveDateTime, NaiveTime, TimeZone,
    Utc,
};

use crate::convert::cell::Cell;
use crate::pg::types::PgType;
use crate::pg::value::Value;
use rusqlite::types::ValueRef;
use serde::{Deserialize, Serialize};

/// Everything a column's conversion depends on, resolved once from the
/// mapping by `config::plan` (column settings over `[defaults]`).
#[derive(Debug, Clone)]
pub struct ConvertOptions {
    pub epoch: Option<EpochUnit>,
    pub timezone: chrono_tz::Tz,
    pub timestamp_formats: Vec<String>,
    /// Lower-cased spellings.
    pub true_values: Vec<String>,
    pub false_values: Vec<String>,
    pub invalid_utf8: Utf8Policy,
    pub json_wrap: Option<String>,
}

/// Spellings of true and false read as booleans by default (compared
/// without regard to case).
pub const TRUE_WORDS: [&str; 6] = ["1", "t", "true", "y", "yes", "on"];
pub const FALSE_WORDS: [&str; 6] = ["0", "f", "false", "n", "no", "off"];

impl Default for ConvertOptions {
    /// The mapping's defaults: UTC, ISO-8601 only, the usual boolean words.
    fn default() -> Self {
        ConvertOptions {
            epoch: None,
            timezone: chrono_tz::UTC,
            timestamp_formats: Vec::new(),
            true_values: TRUE_WORDS.map(String::from).to_vec(),
            false_values: FALSE_WORDS.map(String::from).to_vec(),
            invalid_utf8: Utf8Policy::Reject,
            json_wrap: None,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Utf8Policy {
    #[default]
    Reject,
    Replace,
    /// Load the raw bytes; only valid when the target column is `bytea`.
    Bytea,
}

/// How a number in a timestamp column is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EpochUnit {
    /// Unix seconds (fraction allowed).
    S,
    /// Unix milliseconds.
    Ms,
    /// Unix microseconds.
    Us,
    /// Julian day number (fraction = time of day).
    JulianDay,
    /// Unit chosen per value by magnitude: |v| < 1e11 s, < 1e14 ms, else µs.
    Auto,
}

/// Why one cell could not convert.
#[derive(Debug, Clone, PartialEq)]
pub struct ConvertError {
    pub reason: String,
}

impl ConvertError {
    fn new(reason: impl Into<String>) -> ConvertError {
        ConvertError {
            reason: reason.into(),
        }
    }
}

impl std::fmt::Display for ConvertError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.reason)
    }
}

impl std::error::Error for ConvertError {}

fn fail<T>(reason: impl Into<String>) -> Result<T, ConvertError> {
    Err(ConvertError::new(reason))
}

/// Longest excerpt of a value quoted in a reason, in characters.
const QUOTE_MAX: usize = 60;

/// A value quoted for a reason: backticks, at most `QUOTE_MAX` characters,
/// control characters escaped (a reason is stored in a PostgreSQL text
/// column, which cannot hold NUL, and is printed to a terminal).
fn q(s: &str) -> String {
    let mut out = String::with_capacity(s.len().min(QUOTE_MAX * 4) + 4);
    out.push('`');
    for (n, c) in s.chars().enumerate() {
        if n == QUOTE_MAX {
            out.push('…');
            break;
        }
        if c.is_control() {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    out.push('`');
    out
}

fn qb(b: &[u8]) -> String {
    q(&String::from_utf8_lossy(b))
}

/// The conversion for one target column.
#[derive(Debug, Clone)]
pub struct Converter {
    pub ty: PgType,
    pub opts: ConvertOptions,
    /// `{"key": ` when `json_wrap` is set.
    wrap_prefix: Option<String>,
}

/// A number read as an epoch or Julian day.
#[derive(Debug, Clone, Copy)]
enum Num {
    I(i64),
    F(f64),
}

impl std::fmt::Display for Num {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Num::I(i) => write!(f, "{i}"),
            Num::F(x) => write!(f, "{x:?}"),
        }
    }
}

/// A parsed point in time, before it is fitted to the target column.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Stamp {
    Date(NaiveDate),
    /// Wall-clock time without zone: in `opts.timezone`.
    Naive(NaiveDateTime),
    /// An absolute instant (text with an offset, or an epoch).
    Instant(DateTime<Utc>),
}

/// Outcome of the ISO-8601 fast path.
#[derive(Debug, PartialEq)]
enum Iso {
    Ok(Stamp),
    /// The shape matched but a field is invalid (month 13, second 61...).
    Bad(String),
    /// Not this shape: try the configured formats.
    NoMatch,
}

/// PostgreSQL's earliest date/timestamp: Julian day 0, 4714-11-24 BC
/// (proleptic Gregorian, astronomical year -4713).
fn pg_min_date() -> NaiveDate {
    NaiveDate::from_ymd_opt(-4713, 11, 24).expect("valid date")
}

/// Latest year accepted: chrono stops at 262143 (PostgreSQL at 294276); one
/// year of margin keeps offset arithmetic away from chrono's edge.
const MAX_YEAR: i32 = 262_142;

/// Julian day of 1970-01-01T00:00:00Z, in milliseconds.
const JD_UNIX_EPOCH_MS: i64 = 210_866_760_000_000;

impl Converter {
    pub fn new(ty: PgType, opts: ConvertOptions) -> Converter {
        let wrap_prefix = opts.json_wrap.as_ref().map(|k| {
            format!(
                "{{{}: ",
                serde_json::to_string(k).expect("a string serializes")
            )
        });
        Converter {
            ty,
            opts,
            wrap_prefix,
        }
    }

    /// Short description of the rule, for reject records and `check`.
    pub fn rule(&self) -> String {
        let ty = &self.ty;
        if let Some(k) = &self.opts.json_wrap {
            return format!("json_wrap({k})→{ty}");
        }
        match ty {
            PgType::Boolean => "0/1 or true/false words→boolean".into(),
            PgType::SmallInt | PgType::Integer | PgType::BigInt => {
                format!("integer (range-checked)→{ty}")
            }
            PgType::Real => "number→real (float4, rounded to nearest)".into(),
            PgType::Double => "number→double precision (bit-exact)".into(),
            PgType::Numeric(_) => format!("exact decimal→{ty}"),
            PgType::Text | PgType::Varchar(_) | PgType::Char(_) => format!("text→{ty}"),
            PgType::Bytea => "blob bytes (text: raw bytes)→bytea".into(),
            PgType::Date | PgType::Timestamp | PgType::Timestamptz => {
                let mut s = String::new();
                if let Some(unit) = self.opts.epoch {
                    s.push_str(&format!("epoch {}→{ty}, ", epoch_name(unit)));
                }
                s.push_str(&format!("text→{ty} iso8601"));
                if !self.opts.timestamp_formats.is_empty() {
                    s.push_str(&format!(" or {}", self.opts.timestamp_formats.join(" or ")));
                }
                s.push_str(&format!(" (naive in {})", self.opts.timezone.name()));
                s
            }
            PgType::Time => "text hh:mm[:ss[.ffffff]]→time".into(),
            PgType::Json | PgType::Jsonb => format!("validated json text→{ty}"),
            PgType::Uuid => "uuid text or 16-byte blob→uuid".into(),
        }
    }

    pub fn convert(&self, cell: &Cell) -> Result<Value, ConvertError> {
        self.convert_ref(cell.as_ref())
    }

    /// [`Converter::convert`] on a cell borrowed from SQLite's row buffer:
    /// nothing is copied unless the value itself needs it.
    pub fn convert_ref(&self, cell: ValueRef<'_>) -> Result<Value, ConvertError> {
        if let Some(prefix) = &self.wrap_prefix {
            return self.wrap(prefix, cell);
        }
        match cell {
            ValueRef::Null => Ok(Value::Null),
            ValueRef::Integer(i) => self.integer_cell(i),
            ValueRef::Real(f) => self.real_cell(f),
            ValueRef::Text(b) => self.text_cell(b),
            ValueRef::Blob(b) => self.blob_cell(b),
        }
    }

    /// A text cell bound for a text, varchar or char column, borrowed and
    /// checked exactly as [`Converter::convert_ref`] checks it: the encoder
    /// then copies it once, straight into the COPY buffer. `None` when the
    /// cell or the column takes another path.
    pub fn text_passthrough<'a>(
        &self,
        cell: ValueRef<'a>,
    ) -> Option<Result<Cow<'a, str>, ConvertError>> {
        match (cell, &self.ty) {
            (ValueRef::Text(b), PgType::Text | PgType::Varchar(_) | PgType::Char(_))
                if self.wrap_prefix.is_none() =>
            {
                Some(self.decode(b).and_then(|s| {
                    self.check_text(&s)?;
                    Ok(s)
                }))
            }
            _ => None,
        }
    }

    // ---------------------------------------------------------------- cells

    fn integer_cell(&self, i: i64) -> Result<Value, ConvertError> {
        let ty = &self.ty;
        match ty {
            PgType::Boolean => match i {
                0 => Ok(Value::Bool(false)),
                1 => Ok(Value::Bool(true)),
                _ => fail(format!("integer {i} is not a boolean (only 0 and 1 are)")),
            },
            PgType::SmallInt | PgType::Integer | PgType::BigInt => {
                int_to_target(i, ty, || format!("integer {i}"))
            }
            PgType::Real => Ok(Value::Float4(i as f32)),
            PgType::Double => {
                let f = i as f64;
                // 2^63 as f64 saturates back to i64::MAX: compare in f64 first.
                if f >= 9_223_372_036_854_775_808.0 || f as i64 != i {
                    return fail(format!(
                        "integer {i} loses precision as double precision (nearest is {f:?})"
                    ));
                }
                Ok(Value::Float8(f))
            }
            PgType::Numeric(tm) => {
                let (neg, digits) = match i.checked_abs() {
                    Some(a) => (i < 0, a.to_string()),
                    None => (true, i.to_string()[1..].to_string()),
                };
                finish_decimal(neg, &digits, "", *tm)
                    .map(Value::Numeric)
                    .map_err(|e| ConvertError::new(format!("integer {i} {e}")))
            }
            PgType::Text | PgType::Varchar(_) | PgType::Char(_) => {
                self.text_value(Cow::Owned(i.to_string()))
            }
            PgType::Bytea => Ok(Value::Bytea(i.to_string().into_bytes())),
            PgType::Json | PgType::Jsonb => Ok(Value::Json(i.to_string())),
            PgType::Uuid => fail(format!("integer {i} cannot convert to uuid")),
            PgType::Date | PgType::Timestamp | PgType::Timestamptz => {
                let u = self.epoch_instant(Num::I(i))?;
                self.fit_stamp(Stamp::Instant(u), &i)
            }
            PgType::Time => fail(format!("integer {i} cannot convert to time")),
        }
    }

    fn real_cell(&self, f: f64) -> Result<Value, ConvertError> {
        let ty = &self.ty;
        match ty {
            PgType::Boolean => {
                if f == 0.0 {
                    Ok(Value::Bool(false))
                } else if f == 1.0 {
                    Ok(Value::Bool(true))
                } else {
                    fail(format!("real {f:?} is not a boolean (only 0 and 1 are)"))
                }
            }
            PgType::SmallInt | PgType::Integer | PgType::BigInt => {
                if f.fract() != 0.0 {
                    return fail(format!("real {f:?} is not an integer"));
                }
                if !(-9_223_372_036_854_775_808.0..9_223_372_036_854_775_808.0).contains(&f) {
                    return fail(format!("real {f:?} is out of range for {ty}"));
                }
                int_to_target(f as i64, ty, || format!("real {f:?}"))
            }
            PgType::Real => f64_to_f32(f).map(Value::Float4),
            PgType::Double => Ok(Value::Float8(f)),
            PgType::Numeric(tm) => {
                if !f.is_finite() {
                    return fail(format!("real {f:?} cannot be stored in numeric"));
                }
                // Display prints the shortest text that reads back as the
                // same double, and never uses an exponent.
                let text = format!("{f}");
                let (neg, int, frac) = parse_decimal(&text)
                    .map_err(|e| ConvertError::new(format!("real {f:?} {e}")))?;
                finish_decimal(neg, &int, &frac, *tm)
                    .map(Value::Numeric)
                    .map_err(|e| ConvertError::new(format!("real {f:?} {e}")))
            }
            PgType::Text | PgType::Varchar(_) | PgType::Char(_) => {
                self.text_value(Cow::Owned(real_text(f)))
            }
            PgType::Bytea => Ok(Value::Bytea(real_text(f).into_bytes())),
            PgType::Json | PgType::Jsonb => json_number(f).map(Value::Json),
            PgType::Uuid => fail(format!("real {f:?} cannot convert to uuid")),
            PgType::Date | PgType::Timestamp | PgType::Timestamptz => {
                let u = self.epoch_instant(Num::F(f))?;
                self.fit_stamp(Stamp::Instant(u), &Num::F(f))
            }
            PgType::Time => fail(format!("real {f:?} cannot convert to time")),
        }
    }

    fn text_cell(&self, raw: &[u8]) -> Result<Value, ConvertError> {
        let ty = &self.ty;
        if *ty == PgType::Bytea {
            return Ok(Value::Bytea(raw.to_vec()));
        }
        let s = self.decode(raw)?;
        match ty {
            PgType::Text | PgType::Varchar(_) | PgType::Char(_) => self.text_value(s),
            PgType::Json | PgType::Jsonb => {
                if let Some(i) = s.bytes().position(|b| b == 0) {
                    return fail(format!(
                        "text {} contains a NUL byte at byte {i}, which PostgreSQL cannot store",
                        q(&s)
                    ));
                }
                if let Err(e) = serde_json::from_str::<serde::de::IgnoredAny>(&s) {
                    return fail(format!("text {} is not valid JSON: {e}", q(&s)));
                }
                if *ty == PgType::Jsonb {
                    check_jsonb_escapes(&s)
                        .map_err(|e| ConvertError::new(format!("text {}: {e}", q(&s))))?;
                }
                Ok(Value::Json(s.into_owned()))
            }
            PgType::Boolean => self.text_to_bool(&s),
            PgType::SmallInt | PgType::Integer | PgType::BigInt => {
                let t = s.trim();
                if t.is_empty() {
                    return fail(format!("empty text is not a valid {ty}"));
                }
                match t.parse::<i64>() {
                    Ok(i) => int_to_target(i, ty, || format!("text {}", q(t))),
                    Err(e)
                        if matches!(
                            e.kind(),
                            std::num::IntErrorKind::PosOverflow
                                | std::num::IntErrorKind::NegOverflow
                        ) =>
                    {
                        fail(format!("text {} is out of range for {ty}", q(t)))
                    }
                    Err(_) => fail(format!("text {} is not a valid integer", q(t))),
                }
            }
            PgType::Real => {
                let f = parse_float_text(s.trim())?;
                f64_to_f32(f).map(Value::Float4)
            }
            PgType::Double => parse_float_text(s.trim()).map(Value::Float8),
            PgType::Numeric(tm) => {
                let t = s.trim();
                let (neg, int, frac) = parse_decimal(t)
                    .map_err(|e| ConvertError::new(format!("text {} {e}", q(t))))?;
                finish_decimal(neg, &int, &frac, *tm)
                    .map(Value::Numeric)
                    .map_err(|e| ConvertError::new(format!("text {} {e}", q(t))))
            }
            PgType::Uuid => {
                let t = s.trim();
                uuid::Uuid::parse_str(t)
                    .map(Value::Uuid)
                    .map_err(|_| ConvertError::new(format!("text {} is not a valid uuid", q(t))))
            }
            PgType::Date | PgType::Timestamp | PgType::Timestamptz => {
                let t = s.trim();
                let stamp = self.text_to_stamp(t)?;
                self.fit_stamp(stamp, &t)
            }
            PgType::Time => {
                let t = s.trim();
                match parse_hms(t.as_bytes()) {
                    Ok((time, n)) if n == t.len() => Ok(Value::Time(time)),
                    Ok(_) | Err(None) => fail(format!(
                        "text {} is not a valid time (expected HH:MM[:SS[.ffffff]])",
                        q(t)
                    )),
                    Err(Some(why)) => fail(format!("text {} is not a valid time: {why}", q(t))),
                }
            }
            PgType::Bytea => unreachable!("handled above"),
        }
    }

    fn blob_cell(&self, b: &[u8]) -> Result<Value, ConvertError> {
        match &self.ty {
            PgType::Bytea => Ok(Value::Bytea(b.to_vec())),
            PgType::Text | PgType::Varchar(_) | PgType::Char(_) => {
                let s = match std::str::from_utf8(b) {
                    Ok(s) => Cow::Borrowed(s),
                    Err(_) if self.opts.invalid_utf8 == Utf8Policy::Replace => {
                        String::from_utf8_lossy(b)
                    }
                    Err(e) => {
                        return fail(format!(
                            "blob {} is not valid UTF-8 text (invalid byte at {})",
                            qb(b),
                            e.valid_up_to()
                        ))
                    }
                };
                self.text_value(s)
            }
            PgType::Uuid => match uuid::Uuid::from_slice(b) {
                Ok(u) => Ok(Value::Uuid(u)),
                Err(_) => fail(format!(
                    "blob of {} bytes is not a uuid (needs exactly 16)",
                    b.len()
                )),
            },
            ty => fail(format!("blob {} cannot convert to {ty}", qb(b))),
        }
    }

    // ------------------------------------------------------------- helpers

    /// Decode text per `invalid_utf8` (`bytea` targets never get here).
    fn decode<'a>(&self, raw: &'a [u8]) -> Result<Cow<'a, str>, ConvertError> {
        match std::str::from_utf8(raw) {
            Ok(s) => Ok(Cow::Borrowed(s)),
            Err(_) if self.opts.invalid_utf8 == Utf8Policy::Replace => {
                Ok(String::from_utf8_lossy(raw))
            }
            Err(e) => fail(format!(
                "invalid UTF-8 at byte {} in text {}",
                e.valid_up_to(),
                qb(raw)
            )),
        }
    }

    /// Text for text/varchar/char: no NUL, length limit in characters.
    fn text_value(&self, s: Cow<'_, str>) -> Result<Value, ConvertError> {
        self.check_text(&s)?;
        Ok(Value::Text(s.into_owned()))
    }

    fn check_text(&self, s: &str) -> Result<(), ConvertError> {
        // `contains` on bytes is a memchr: this runs for every text cell.
        if s.as_bytes().contains(&0) {
            let i = s.bytes().position(|b| b == 0).unwrap_or_default();
            return fail(format!(
                "text {} contains a NUL byte at byte {i}, which PostgreSQL text cannot store",
                q(s)
            ));
        }
        if let PgType::Varchar(Some(n)) | PgType::Char(Some(n)) = self.ty {
            let n = n as usize;
            // Bytes >= characters: only count when it could matter.
            if s.len() > n {
                let chars = s.chars().count();
                if chars > n {
                    return fail(format!(
                        "text {} is {chars} characters, {} allows {n}",
                        q(s),
                        self.ty
                    ));
                }
            }
        }
        Ok(())
    }

    fn text_to_bool(&self, s: &str) -> Result<Value, ConvertError> {
        let t = s.trim();
        let matches =
            |v: &String| v.eq_ignore_ascii_case(t) || (!t.is_ascii() && t.to_lowercase() == *v);
        if self.opts.true_values.iter().any(matches) {
            Ok(Value::Bool(true))
        } else if self.opts.false_values.iter().any(matches) {
            Ok(Value::Bool(false))
        } else {
            fail(format!(
                "text {} is not a boolean (true: {}; false: {})",
                q(t),
                self.opts.true_values.join("/"),
                self.opts.false_values.join("/")
            ))
        }
    }

    fn wrap(&self, prefix: &str, cell: ValueRef<'_>) -> Result<Value, ConvertError> {
        if !matches!(self.ty, PgType::Json | PgType::Jsonb) {
            return fail(format!(
                "json_wrap needs a json or jsonb column, not {}",
                self.ty
            ));
        }
        let inner = match cell {
            ValueRef::Null => return Ok(Value::Json("{}".into())),
            ValueRef::Integer(i) => i.to_string(),
            ValueRef::Real(f) => json_number(f)?,
            ValueRef::Text(b) => {
                let s = self.decode(b)?;
                self.json_string(&s)?
            }
            ValueRef::Blob(b) => match std::str::from_utf8(b) {
                Ok(s) => self.json_string(s)?,
                Err(e) => {
                    return fail(format!(
                        "blob {} is not valid UTF-8 text (invalid byte at {}) and cannot be wrapped in JSON",
                        qb(b),
                        e.valid_up_to()
                    ))
                }
            },
        };
        let mut out = String::with_capacity(prefix.len() + inner.len() + 1);
        out.push_str(prefix);
        out.push_str(&inner);
        out.push('}');
        Ok(Value::Json(out))
    }

    fn json_string(&self, s: &str) -> Result<String, ConvertError> {
        if self.ty == PgType::Jsonb {
            if let Some(i) = s.bytes().position(|b| b == 0) {
                return fail(format!(
                    "text {} contains a NUL byte at byte {i}, which jsonb cannot store",
                    q(s)
                ));
            }
        }
        Ok(serde_json::to_string(s).expect("a string serializes"))
    }

    // ---------------------------------------------------------- timestamps

    fn text_to_stamp(&self, t: &str) -> Result<Stamp, ConvertError> {
        let bad = match parse_iso(t.as_bytes()) {
            Iso::Ok(stamp) => return Ok(stamp),
            Iso::Bad(why) => Some(why),
            Iso::NoMatch => None,
        };
        if bad.is_none() && self.opts.epoch.is_some() {
            if let Ok(i) = t.parse::<i64>() {
                return Ok(Stamp::Instant(self.epoch_instant(Num::I(i))?));
            }
            if t.bytes().any(|b| b.is_ascii_digit()) {
                if let Ok(f) = t.parse::<f64>() {
                    return Ok(Stamp::Instant(self.epoch_instant(Num::F(f))?));
                }
            }
        }
        for fmt in &self.opts.timestamp_formats {
            if let Ok(dt) = DateTime::parse_from_str(t, fmt) {
                return Ok(Stamp::Instant(dt.with_timezone(&Utc)));
            }
            if let Ok(n) = NaiveDateTime::parse_from_str(t, fmt) {
                return Ok(Stamp::Naive(n));
            }
            if let Ok(d) = NaiveDate::parse_from_str(t, fmt) {
                return Ok(Stamp::Date(d));
            }
        }
        match bad {
            Some(why) => fail(format!("text {} is not a valid timestamp: {why}", q(t))),
            None if t.is_empty() => fail(format!("empty text is not a valid {}", self.ty)),
            None => fail(format!("unparseable timestamp {}", q(t))),
        }
    }

    /// A number in a date/timestamp column, by the declared epoch unit.
    fn epoch_instant(&self, n: Num) -> Result<DateTime<Utc>, ConvertError> {
        let Some(mut unit) = self.opts.epoch else {
            return fail(format!(
                "number {n} in a {} column and no `epoch` unit declared for it",
                self.ty
            ));
        };
        if unit == EpochUnit::Auto {
            let mag = match n {
                Num::I(i) => i.unsigned_abs() as f64,
                Num::F(f) => f.abs(),
            };
            unit = if mag < 1e11 {
                EpochUnit::S
            } else if mag < 1e14 {
                EpochUnit::Ms
            } else {
                EpochUnit::Us
            };
        }
        let range = || {
            ConvertError::new(format!(
                "epoch {} {n} is out of the supported timestamp range",
                epoch_name(unit)
            ))
        };
        let micros = match unit {
            EpochUnit::JulianDay => {
                // SQLite keeps Julian days as integer milliseconds, rounded.
                let ms = match n {
                    Num::I(d) => d.checked_mul(86_400_000).ok_or_else(range)?,
                    Num::F(f) => {
                        let ms = (f * 86_400_000.0).round();
                        if !(-9.2e18..9.2e18).contains(&ms) {
                            return Err(range());
                        }
                        ms as i64
                    }
                };
                ms.checked_sub(JD_UNIX_EPOCH_MS)
                    .and_then(|ms| ms.checked_mul(1000))
                    .ok_or_else(range)?
            }
            _ => {
                let factor: i64 = match unit {
                    EpochUnit::S => 1_000_000,
                    EpochUnit::Ms => 1_000,
                    _ => 1,
                };
                match n {
                    Num::I(i) => i.checked_mul(factor).ok_or_else(range)?,
                    Num::F(f) => {
                        if !f.is_finite() {
                            return fail(format!("epoch {f:?} is not a finite number"));
                        }
                        let x = f * factor as f64;
                        let r = x.round();
                        // Sub-µs digits the float really holds are data; the
                        // noise of a float that cannot hold them is not.
                        let tol = 2.0 * (ulp(f) * factor as f64 + ulp(x));
                        if (x - r).abs() > tol {
                            return fail(format!(
                                "epoch {} {f:?} has sub-microsecond precision",
                                epoch_name(unit)
                            ));
                        }
                        if !(-9.2e18..9.2e18).contains(&r) {
                            return Err(range());
                        }
                        r as i64
                    }
                }
            }
        };
        DateTime::<Utc>::from_timestamp_micros(micros).ok_or_else(range)
    }

    /// Fit a parsed time to the target column.
    fn fit_stamp(
        &self,
        stamp: Stamp,
        shown: &dyn std::fmt::Display,
    ) -> Result<Value, ConvertError> {
        let year = match stamp {
            Stamp::Date(d) => d.year(),
            Stamp::Naive(n) => n.date().year(),
            Stamp::Instant(u) => u.date_naive().year(),
        };
        if year > MAX_YEAR {
            return fail(format!(
                "{} is after year {MAX_YEAR}, out of the supported range",
                q(&shown.to_string())
            ));
        }
        let tz = self.opts.timezone;
        let too_early = || {
            ConvertError::new(format!(
                "{} is before 4714-11-24 BC, the earliest PostgreSQL {}",
                q(&shown.to_string()),
                self.ty
            ))
        };
        let min = pg_min_date().and_time(NaiveTime::MIN);
        match self.ty {
            PgType::Timestamptz => {
                let u = match stamp {
                    Stamp::Date(d) => self.localize(d.and_time(NaiveTime::MIN), shown)?,
                    Stamp::Naive(n) => self.localize(n, shown)?,
                    Stamp::Instant(u) => u,
                };
                if u.naive_utc() < min {
                    return Err(too_early());
                }
                Ok(Value::Timestamptz(u))
            }
            PgType::Timestamp => {
                let n = match stamp {
                    Stamp::Date(d) => d.and_time(NaiveTime::MIN),
                    Stamp::Naive(n) => n,
                    Stamp::Instant(u) => u.with_timezone(&tz).naive_local(),
                };
                if n < min {
                    return Err(too_early());
                }
                Ok(Value::Timestamp(n))
            }
            PgType::Date => {
                let (n, zoned) = match stamp {
                    Stamp::Date(d) => (d.and_time(NaiveTime::MIN), false),
                    Stamp::Naive(n) => (n, false),
                    Stamp::Instant(u) => (u.with_timezone(&tz).naive_local(), true),
                };
                if n.time() != NaiveTime::MIN {
                    let local = if zoned {
                        format!(" ({} in {})", n.format("%Y-%m-%d %H:%M:%S%.f"), tz.name())
                    } else {
                        String::new()
                    };
                    return fail(format!(
                        "{}{local} has a time of day; a date column would drop it",
                        q(&shown.to_string())
                    ));
                }
                if n < min {
                    return Err(too_early());
                }
                Ok(Value::Date(n.date()))
            }
            ref ty => fail(format!("{} cannot convert to {ty}", q(&shown.to_string()))),
        }
    }

    /// A naive wall-clock time in `opts.timezone` → UTC; DST gaps and
    /// overlaps are rejected rather than guessed.
    fn localize(
        &self,
        n: NaiveDateTime,
        shown: &dyn std::fmt::Display,
    ) -> Result<DateTime<Utc>, ConvertError> {
        let tz = self.opts.timezone;
        if tz == chrono_tz::UTC {
            return Ok(n.and_utc());
        }
        match tz.from_local_datetime(&n) {
            LocalResult::Single(dt) => Ok(dt.with_timezone(&Utc)),
            LocalResult::Ambiguous(a, b) => fail(format!(
                "{} is ambiguous in {} (a DST change repeats it: {} or {}); give it an explicit offset",
                q(&shown.to_string()),
                tz.name(),
                a.format("%H:%M:%S%:z"),
                b.format("%H:%M:%S%:z")
            )),
            LocalResult::None => fail(format!(
                "{} does not exist in {} (skipped by a DST change)",
                q(&shown.to_string()),
                tz.name()
            )),
        }
    }
}

fn epoch_name(u: EpochUnit) -> &'static str {
    match u {
        EpochUnit::S => "s",
        EpochUnit::Ms => "ms",
        EpochUnit::Us => "us",
        EpochUnit::JulianDay => "julian day",
        EpochUnit::Auto => "auto",
    }
}

/// Distance from |f| to the next larger double.
fn ulp(f: f64) -> f64 {
    let a = f.abs();
    if !a.is_finite() {
        return f64::INFINITY;
    }
    f64::from_bits(a.to_bits() + 1) - a
}

fn int_to_target(i: i64, ty: &PgType, what: impl Fn() -> String) -> Result<Value, ConvertError> {
    let out = || ConvertError::new(format!("{} is out of range for {ty}", what()));
    match ty {
        PgType::SmallInt => i16::try_from(i).map(Value::Int2).map_err(|_| out()),
        PgType::Integer => i32::try_from(i).map(Value::Int4).map_err(|_| out()),
        _ => Ok(Value::Int8(i)),
    }
}

fn f64_to_f32(f: f64) -> Result<f32, ConvertError> {
    let r = f as f32;
    if f.is_finite() && r.is_infinite() {
        return fail(format!("{f:?} is out of range for real (float4 overflow)"));
    }
    if f != 0.0 && r == 0.0 {
        return fail(format!("{f:?} is out of range for real (float4 underflow)"));
    }
    Ok(r)
}

/// Text to double, with PostgreSQL's spellings of the special values and its
/// refusal of overflow/underflow (Rust's parser would give ±inf or 0).
fn parse_float_text(t: &str) -> Result<f64, ConvertError> {
    if t.is_empty() {
        return fail("empty text is not a valid number");
    }
    let f = t
        .parse::<f64>()
        .map_err(|_| ConvertError::new(format!("text {} is not a valid number", q(t))))?;
    if f.is_infinite() {
        let word = t.trim_start_matches(['+', '-']);
        if !(word.eq_ignore_ascii_case("inf") || word.eq_ignore_ascii_case("infinity")) {
            return fail(format!(
                "text {} is out of range for double precision",
                q(t)
            ));
        }
    }
    if f == 0.0 {
        let mantissa = t.split(['e', 'E']).next().unwrap_or("");
        if mantissa.bytes().any(|b| (b'1'..=b'9').contains(&b)) {
            return fail(format!(
                "text {} is out of range for double precision (underflow)",
                q(t)
            ));
        }
    }
    Ok(f)
}

/// Shortest text that reads back as the same double; PostgreSQL spellings
/// for the special values.
fn real_text(f: f64) -> String {
    if f.is_nan() {
        "NaN".into()
    } else if f == f64::INFINITY {
        "Infinity".into()
    } else if f == f64::NEG_INFINITY {
        "-Infinity".into()
    } else {
        format!("{f}")
    }
}

fn json_number(f: f64) -> Result<String, ConvertError> {
    serde_json::Number::from_f64(f)
        .map(|n| n.to_string())
        .ok_or_else(|| ConvertError::new(format!("real {f:?} has no JSON representation")))
}

/// What PostgreSQL's jsonb input refuses and serde_json (ignoring values)
/// does not: unpaired UTF-16 surrogate escapes and `\u0000`. (Plain `json`
/// stores the text as is and accepts both.)
fn check_jsonb_escapes(s: &str) -> Result<(), String> {
    let b = s.as_bytes();
    let hex4 = |i: usize| -> Option<u32> {
        let h = std::str::from_utf8(b.get(i..i + 4)?).ok()?;
        u32::from_str_radix(h, 16).ok()
    };
    let mut i = 0;
    while let Some(off) = b.get(i..).and_then(|r| r.iter().position(|&c| c == b'\\')) {
        let j = i + off;
        if b.get(j + 1) != Some(&b'u') {
            i = j + 2;
            continue;
        }
        let cp = hex4(j + 2).ok_or("bad \\u escape in JSON")?;
        if cp == 0 {
            return Err("JSON contains \\u0000, which jsonb cannot store".into());
        }
        if (0xD800..0xDC00).contains(&cp) {
            let low = if b.get(j + 6) == Some(&b'\\') && b.get(j + 7) == Some(&b'u') {
                hex4(j + 8)
            } else {
                None
            };
            match low {
                Some(lo) if (0xDC00..0xE000).contains(&lo) => {
                    i = j + 12;
                    continue;
                }
                _ => {
                    return Err(format!(
                        "JSON has an unpaired UTF-16 high surrogate escape \\u{cp:04x}"
                    ))
                }
            }
        }
        if (0xDC00..0xE000).contains(&cp) {
            return Err(format!(
                "JSON has an unpaired UTF-16 low surrogate escape \\u{cp:04x}"
            ));
        }
        i = j + 6;
    }
    Ok(())
}

// ------------------------------------------------------------- decimals

/// Guard against absurd exponents before expanding them.
const MAX_DECIMAL_EXPONENT: i64 = 1_000_000;

/// Parse decimal syntax (`[+-]digits[.digits][e[+-]digits]`, at least one
/// digit) into sign, integer digits (no leading zeros) and fraction digits,
/// expanding the exponent exactly. The fraction keeps its written length
/// minus the exponent, as PostgreSQL does (`1.50e1` → `15.0`).
fn parse_decimal(t: &str) -> Result<(bool, String, String), String> {
    let b = t.as_bytes();
    if t.eq_ignore_ascii_case("nan")
        || t.trim_start_matches(['+', '-'])
            .eq_ignore_ascii_case("infinity")
        || t.trim_start_matches(['+', '-']).eq_ignore_ascii_case("inf")
    {
        return Err("is not a finite number; numeric columns take only finite values".into());
    }
    let invalid = || "is not a valid decimal number".to_string();
    let mut p = 0;
    let neg = match b.first() {
        Some(b'-') => {
            p = 1;
            true
        }
        Some(b'+') => {
            p = 1;
            false
        }
        _ => false,
    };
    let int_start = p;
    while p < b.len() && b[p].is_ascii_digit() {
        p += 1;
    }
    let int = &t[int_start..p];
    let mut frac = "";
    if p < b.len() && b[p] == b'.' {
        p += 1;
        let s = p;
        while p < b.len() && b[p].is_ascii_digit() {
            p += 1;
        }
        frac = &t[s..p];
    }
    if int.is_empty() && frac.is_empty() {
        return Err(invalid());
    }
    let mut exp: i64 = 0;
    if p < b.len() && (b[p] == b'e' || b[p] == b'E') {
        let e = &t[p + 1..];
        let digits = e.trim_start_matches(['+', '-']);
        if digits.is_empty()
            || e.len() - digits.len() > 1
            || !digits.bytes().all(|c| c.is_ascii_digit())
        {
            return Err(invalid());
        }
        exp = match e.parse::<i64>() {
            Ok(v) if v.abs() <= MAX_DECIMAL_EXPONENT => v,
            _ => return Err("has an exponent out of range for numeric".into()),
        };
        p = b.len();
    }
    if p != b.len() {
        return Err(invalid());
    }
    if exp == 0 {
        return Ok((
            neg,
            int.trim_start_matches('0').to_string(),
            frac.to_string(),
        ));
    }
    let all: String = [int, frac].concat();
    let point = int.len() as i64 + exp;
    let frac_len = (frac.len() as i64 - exp).max(0) as usize;
    let (new_int, new_frac) = if point <= 0 {
        let mut f = "0".repeat((-point) as usize);
        f.push_str(&all);
        (String::new(), f)
    } else if point as usize >= all.len() {
        let mut i = all.clone();
        i.push_str(&"0".repeat(point as usize - all.len()));
        (i, String::new())
    } else {
        let (i, f) = all.split_at(point as usize);
        (i.to_string(), f.to_string())
    };
    debug_assert_eq!(new_frac.len(), frac_len);
    Ok((neg, new_int.trim_start_matches('0').to_string(), new_frac))
}

/// Apply numeric(p,s) and produce the canonical text (`-123.4500`).
fn finish_decimal(
    neg: bool,
    int: &str,
    frac: &str,
    typmod: Option<(u32, u32)>,
) -> Result<String, String> {
    let int = int.trim_start_matches('0');
    let mut frac: Cow<str> = Cow::Borrowed(frac);
    match typmod {
        Some((p, s)) => {
            let (p, s) = (p as usize, s as usize);
            if frac.len() > s {
                let extra = &frac[s..];
                if extra.bytes().any(|c| c != b'0') {
                    return Err(format!(
                        "has {} decimal places, numeric({p},{s}) allows {s}",
                        frac.trim_end_matches('0').len()
                    ));
                }
                frac = Cow::Owned(frac[..s].to_string());
            }
            if int.len() > p - s {
                return Err(format!(
                    "overflows numeric({p},{s}): {} digits before the decimal point, at most {} allowed",
                    int.len(),
                    p - s
                ));
            }
            if frac.len() < s {
                let mut f = frac.into_owned();
                f.push_str(&"0".repeat(s - f.len()));
                frac = Cow::Owned(f);
            }
        }
        None => {
            if int.len() > crate::pg::value::NUMERIC_MAX_INT_DIGITS {
                return Err(format!(
                    "has {} digits before the decimal point, numeric allows {}",
                    int.len(),
                    crate::pg::value::NUMERIC_MAX_INT_DIGITS
                ));
            }
            if frac.len() > crate::pg::value::NUMERIC_MAX_SCALE {
                return Err(format!(
                    "has {} decimal places, numeric allows {}",
                    frac.len(),
                    crate::pg::value::NUMERIC_MAX_SCALE
                ));
            }
        }
    }
    let zero = int.is_empty() && frac.bytes().all(|c| c == b'0');
    let mut out = String::with_capacity(int.len() + frac.len() + 3);
    if neg && !zero {
        out.push('-');
    }
    out.push_str(if int.is_empty() { "0" } else { int });
    if !frac.is_empty() {
        out.push('.');
        out.push_str(&frac);
    }
    Ok(out)
}

// ------------------------------------------------------ ISO-8601 fast path

fn digits2(b: &[u8], i: usize) -> Option<u32> {
    match b.get(i..i + 2) {
        Some([x, y]) if x.is_ascii_digit() && y.is_ascii_digit() => {
            Some(u32::from(x - b'0') * 10 + u32::from(y - b'0'))
        }
        _ => None,
    }
}

/// `HH:MM[:SS[.fraction]]` at the start of `b`: the time and the bytes used.
/// `Err(None)` = not this shape; `Err(Some(why))` = shape right, value not.
fn parse_hms(b: &[u8]) -> Result<(NaiveTime, usize), Option<String>> {
    let h = digits2(b, 0).ok_or(None)?;
    if b.get(2) != Some(&b':') {
        return Err(None);
    }
    let m = digits2(b, 3).ok_or(None)?;
    let mut p = 5;
    let mut sec = 0;
    let mut micros = 0;
    if b.get(p) == Some(&b':') {
        sec = digits2(b, p + 1).ok_or(None)?;
        p += 3;
        if b.get(p) == Some(&b'.') {
            let start = p + 1;
            let mut end = start;
            while end < b.len() && b[end].is_ascii_digit() {
                end += 1;
            }
            if end == start {
                return Err(None);
            }
            let frac = &b[start..end];
            for k in 0..6 {
                micros = micros * 10 + frac.get(k).map_or(0, |d| u32::from(d - b'0'));
            }
            if frac.len() > 6 && frac[6..].iter().any(|&d| d != b'0') {
                return Err(Some(format!(
                    "fraction .{} is finer than PostgreSQL's microseconds",
                    String::from_utf8_lossy(frac)
                )));
            }
            p = end;
        }
    }
    if h > 23 {
        return Err(Some(format!("hour {h}")));
    }
    if m > 59 {
        return Err(Some(format!("minute {m}")));
    }
    if sec > 59 {
        return Err(Some(format!("second {sec}")));
    }
    let t = NaiveTime::from_hms_micro_opt(h, m, sec, micros).ok_or(None)?;
    Ok((t, p))
}

/// ISO-8601 / SQLite date-time text: `YYYY-MM-DD`, then optionally ` ` or
/// `T`, `HH:MM[:SS[.fraction]]`, then optionally a zone (`Z`, `UTC`, `GMT`,
/// `±HH`, `±HHMM`, `±HH:MM`, optionally after one space).
fn parse_iso(b: &[u8]) -> Iso {
    if b.len() < 10 || b[4] != b'-' || b[7] != b'-' || !b[..4].iter().all(u8::is_ascii_digit) {
        return Iso::NoMatch;
    }
    let (Some(mo), Some(d)) = (digits2(b, 5), digits2(b, 8)) else {
        return Iso::NoMatch;
    };
    let y = b[..4]
        .iter()
        .fold(0i32, |a, c| a * 10 + i32::from(c - b'0'));
    if !(1..=12).contains(&mo) {
        return Iso::Bad(format!("month {mo}"));
    }
    let Some(date) = NaiveDate::from_ymd_opt(y, mo, d) else {
        return Iso::Bad(format!("day {d} of {y:04}-{mo:02}"));
    };
    if b.len() == 10 {
        return Iso::Ok(Stamp::Date(date));
    }
    if !matches!(b[10], b' ' | b'T' | b't') {
        return Iso::NoMatch;
    }
    let rest = &b[11..];
    let (time, mut p) = match parse_hms(rest) {
        Ok(x) => x,
        Err(None) => return Iso::NoMatch,
        Err(Some(why)) => return Iso::Bad(why),
    };
    let naive = date.and_time(time);
    if p == rest.len() {
        return Iso::Ok(Stamp::Naive(naive));
    }
    if rest[p] == b' ' {
        p += 1;
    }
    let zone = &rest[p..];
    let secs: i32 = match zone {
        [b'Z' | b'z'] => 0,
        z if z.eq_ignore_ascii_case(b"utc") || z.eq_ignore_ascii_case(b"gmt") => 0,
        [sign @ (b'+' | b'-'), tail @ ..] => {
            let Some(hh) = digits2(tail, 0) else {
                return Iso::NoMatch;
            };
            let mm = match &tail[2..] {
                [] => Some(0),
                [b':', _, _] => digits2(tail, 3),
                [_, _] => digits2(tail, 2),
                _ => None,
            };
            let Some(mm) = mm else {
                return Iso::NoMatch;
            };
            if hh > 15 || mm > 59 {
                return Iso::Bad(format!(
                    "time zone offset {}",
                    String::from_utf8_lossy(zone)
                ));
            }
            let s = (hh * 3600 + mm * 60) as i32;
            if *sign == b'-' {
                -s
            } else {
                s
            }
        }
        _ => return Iso::NoMatch,
    };
    let Some(off) = FixedOffset::east_opt(secs) else {
        return Iso::NoMatch;
    };
    match off.from_local_datetime(&naive) {
        LocalResult::Single(dt) => Iso::Ok(Stamp::Instant(dt.with_timezone(&Utc))),
        _ => Iso::Bad("out of range".into()),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn reasons_never_carry_nul_or_control_characters() {
        let r = super::q("a\0b\nc");
        assert_eq!(r, "`a\\u{0}b\\nc`");
        assert!(!r.contains('\0'));
    }

    use super::*;

    fn opts() -> ConvertOptions {
        ConvertOptions::default()
    }

    fn conv(ty: &str) -> Converter {
        Converter::new(PgType::parse(ty).unwrap(), opts())
    }

    fn conv_with(ty: &str, f: impl FnOnce(&mut ConvertOptions)) -> Converter {
        let mut o = opts();
        f(&mut o);
        Converter::new(PgType::parse(ty).unwrap(), o)
    }

    fn text(s: &str) -> Cell {
        Cell::Text(s.as_bytes().to_vec())
    }

    fn ok(c: &Converter, cell: Cell) -> Value {
        c.convert(&cell)
            .unwrap_or_else(|e| panic!("{cell:?} → {}: {}", c.ty, e.reason))
    }

    fn rej(c: &Converter, cell: Cell) -> String {
        match c.convert(&cell) {
            Ok(v) => panic!("{cell:?} → {} should be rejected, got {v:?}", c.ty),
            Err(e) => e.reason,
        }
    }

    fn utc(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    fn naive(s: &str) -> NaiveDateTime {
        NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S%.f").unwrap()
    }

    fn date(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    // ------------------------------------------------------- null, utf-8

    #[test]
    fn null_stays_null_for_every_type() {
        for ty in [
            "boolean",
            "bigint",
            "numeric(5,2)",
            "text",
            "timestamptz",
            "jsonb",
            "uuid",
        ] {
            assert_eq!(ok(&conv(ty), Cell::Null), Value::Null, "{ty}");
        }
    }

    #[test]
    fn invalid_utf8_is_rejected_with_byte_offset() {
        let r = rej(&conv("text"), Cell::Text(b"ab\xffcd".to_vec()));
        assert!(r.contains("invalid UTF-8 at byte 2"), "{r}");
    }

    #[test]
    fn invalid_utf8_replace_policy_is_lossy_only_when_asked() {
        let c = conv_with("text", |o| o.invalid_utf8 = Utf8Policy::Replace);
        assert_eq!(
            ok(&c, Cell::Text(b"ab\xffcd".to_vec())),
            Value::Text("ab\u{fffd}cd".into())
        );
    }

    #[test]
    fn invalid_utf8_text_into_bytea_keeps_raw_bytes() {
        let c = conv_with("bytea", |o| o.invalid_utf8 = Utf8Policy::Bytea);
        assert_eq!(
            ok(&c, Cell::Text(b"ab\xffcd".to_vec())),
            Value::Bytea(b"ab\xffcd".to_vec())
        );
    }

    #[test]
    fn nul_in_text_is_rejected_not_stripped() {
        let r = rej(&conv("text"), text("a\0b"));
        assert!(r.contains("NUL byte at byte 1"), "{r}");
        rej(&conv("varchar(10)"), Cell::Blob(b"a\0b".to_vec()));
        rej(&conv("json"), text("\"a\0b\""));
    }

    // ----------------------------------------------------------- boolean

    #[test]
    fn integer_boolean_is_only_zero_or_one() {
        let c = conv("boolean");
        assert_eq!(ok(&c, Cell::Integer(0)), Value::Bool(false));
        assert_eq!(ok(&c, Cell::Integer(1)), Value::Bool(true));
        assert!(rej(&c, Cell::Integer(2)).contains("integer 2"));
        assert_eq!(ok(&c, Cell::Real(1.0)), Value::Bool(true));
        assert_eq!(ok(&c, Cell::Real(0.0)), Value::Bool(false));
        rej(&c, Cell::Real(0.5));
        rej(&c, Cell::Blob(vec![1]));
    }

    #[test]
    fn boolean_words_match_case_insensitively_and_trimmed() {
        let c = conv("boolean");
        for t in ["1", "t", "TRUE", " yes ", "Y", "on"] {
            assert_eq!(ok(&c, text(t)), Value::Bool(true), "{t}");
        }
        for t in ["0", "F", "false", "No", "n", "OFF"] {
            assert_eq!(ok(&c, text(t)), Value::Bool(false), "{t}");
        }
        for t in ["", "2", "maybe", "truth"] {
            rej(&c, text(t));
        }
        let c = conv_with("boolean", |o| {
            o.true_values = vec!["ja".into()];
            o.false_values = vec!["nein".into()];
        });
        assert_eq!(ok(&c, text("JA")), Value::Bool(true));
        assert_eq!(ok(&c, text("Nein")), Value::Bool(false));
        rej(&c, text("yes"));
    }

    // ----------------------------------------------------------- integers

    #[test]
    fn integer_overflow_is_rejected_not_wrapped() {
        let r = rej(&conv("smallint"), Cell::Integer(70_000));
        assert!(r.contains("out of range for smallint"), "{r}");
        assert_eq!(
            ok(&conv("smallint"), Cell::Integer(-32_768)),
            Value::Int2(-32_768)
        );
        rej(&conv("integer"), Cell::Integer(1 << 31));
        assert_eq!(
            ok(&conv("integer"), Cell::Integer(-(1 << 31))),
            Value::Int4(i32::MIN)
        );
        assert_eq!(
            ok(&conv("bigint"), Cell::Integer(i64::MIN)),
            Value::Int8(i64::MIN)
        );
        let r = rej(&conv("bigint"), text("9223372036854775808"));
        assert!(r.contains("out of range for bigint"), "{r}");
        rej(&conv("integer"), text("2147483648"));
    }

    #[test]
    fn real_to_integer_only_when_integral() {
        let c = conv("integer");
        assert_eq!(ok(&c, Cell::Real(3.0)), Value::Int4(3));
        assert_eq!(ok(&c, Cell::Real(-0.0)), Value::Int4(0));
        assert!(rej(&c, Cell::Real(3.5)).contains("not an integer"));
        rej(&c, Cell::Real(f64::NAN));
        rej(&c, Cell::Real(f64::INFINITY));
        rej(&c, Cell::Real(1e10));
        rej(&conv("bigint"), Cell::Real(9.3e18));
        assert_eq!(
            ok(&conv("bigint"), Cell::Real(-9_223_372_036_854_775_808.0)),
            Value::Int8(i64::MIN)
        );
    }

    #[test]
    fn integer_text_accepts_signs_and_rejects_fractions() {
        let c = conv("bigint");
        assert_eq!(ok(&c, text("42")), Value::Int8(42));
        assert_eq!(ok(&c, text(" +7 ")), Value::Int8(7));
        assert_eq!(ok(&c, text("-0")), Value::Int8(0));
        assert_eq!(ok(&c, text("007")), Value::Int8(7));
        for t in ["42.0", "4e2", "", "  ", "abc", "1 000", "0x10"] {
            rej(&c, text(t));
        }
        assert!(rej(&c, text("")).contains("empty"));
        assert!(rej(&c, text("42.0")).contains("not a valid integer"));
    }

    // ------------------------------------------------------------ floats

    #[test]
    fn real_to_double_is_bit_exact() {
        let c = conv("double precision");
        for f in [0.1, -0.0, 1e-310, f64::MAX, 1.0 / 3.0, f64::INFINITY] {
            match ok(&c, Cell::Real(f)) {
                Value::Float8(g) => assert_eq!(g.to_bits(), f.to_bits()),
                v => panic!("{v:?}"),
            }
        }
    }

    #[test]
    fn big_integer_to_double_that_loses_precision_is_rejected() {
        let c = conv("double precision");
        assert_eq!(
            ok(&c, Cell::Integer(1 << 53)),
            Value::Float8(9007199254740992.0)
        );
        assert_eq!(
            ok(&c, Cell::Integer(i64::MIN)),
            Value::Float8(-9.223_372_036_854_776e18)
        );
        let r = rej(&c, Cell::Integer((1 << 53) + 1));
        assert!(r.contains("loses precision"), "{r}");
        // i64::MAX → 2^63 saturates back to i64::MAX: must still be caught.
        rej(&c, Cell::Integer(i64::MAX));
    }

    #[test]
    fn double_text_accepts_postgres_special_spellings() {
        let c = conv("double precision");
        assert_eq!(ok(&c, text("Infinity")), Value::Float8(f64::INFINITY));
        assert_eq!(ok(&c, text("-infinity")), Value::Float8(f64::NEG_INFINITY));
        assert_eq!(ok(&c, text("inf")), Value::Float8(f64::INFINITY));
        match ok(&c, text("NaN")) {
            Value::Float8(f) => assert!(f.is_nan()),
            v => panic!("{v:?}"),
        }
        assert_eq!(ok(&c, text(" 1.5e3 ")), Value::Float8(1500.0));
        assert_eq!(ok(&c, text("0.1")), Value::Float8(0.1));
        assert_eq!(ok(&c, text("-0.0e5")), Value::Float8(-0.0));
    }

    #[test]
    fn double_text_overflow_and_underflow_are_rejected_not_saturated() {
        let c = conv("double precision");
        assert!(rej(&c, text("1e400")).contains("out of range"));
        assert!(rej(&c, text("1e-400")).contains("underflow"));
        rej(&c, text("abc"));
        rej(&c, text(""));
    }

    #[test]
    fn float4_overflow_is_rejected_not_infinite() {
        let c = conv("real");
        assert_eq!(ok(&c, Cell::Real(1.5)), Value::Float4(1.5));
        assert_eq!(ok(&c, Cell::Integer(3)), Value::Float4(3.0));
        assert_eq!(ok(&c, text("2.5")), Value::Float4(2.5));
        assert!(rej(&c, Cell::Real(1e300)).contains("overflow"));
        assert!(rej(&c, Cell::Real(1e-300)).contains("underflow"));
        assert_eq!(
            ok(&c, Cell::Real(f64::INFINITY)),
            Value::Float4(f32::INFINITY)
        );
    }

    // ----------------------------------------------------------- numeric

    fn num(c: &Converter, cell: Cell) -> String {
        match ok(c, cell) {
            Value::Numeric(s) => s,
            v => panic!("{v:?}"),
        }
    }

    #[test]
    fn numeric_text_never_goes_through_f64() {
        let c = conv("numeric");
        let s = "12345678901234567890.123456789012345678901234567890";
        assert_eq!(num(&c, text(s)), s);
        assert_eq!(num(&c, text("-123.4500")), "-123.4500");
        assert_eq!(num(&c, text("+0007.10")), "7.10");
        assert_eq!(num(&c, text(".5")), "0.5");
        assert_eq!(num(&c, text("5.")), "5");
        assert_eq!(num(&c, text("-0.000")), "0.000");
        assert_eq!(num(&c, Cell::Integer(i64::MIN)), "-9223372036854775808");
    }

    #[test]
    fn numeric_exponent_is_expanded_exactly() {
        let c = conv("numeric");
        assert_eq!(num(&c, text("1e-3")), "0.001");
        assert_eq!(num(&c, text("1.50e1")), "15.0");
        assert_eq!(num(&c, text("-2.5E+3")), "-2500");
        assert_eq!(num(&c, text("0.0001e4")), "1");
        assert_eq!(num(&c, text("123.456e-5")), "0.00123456");
        assert_eq!(num(&c, text("1e20")), "100000000000000000000");
        rej(&c, text("1e99999999"));
    }

    #[test]
    fn numeric_from_real_uses_shortest_round_trip_text() {
        let c = conv("numeric");
        assert_eq!(num(&c, Cell::Real(0.1)), "0.1");
        assert_eq!(num(&c, Cell::Real(1e-7)), "0.0000001");
        assert_eq!(num(&c, Cell::Real(1e21)), "1000000000000000000000");
        assert_eq!(num(&c, Cell::Real(-2.5)), "-2.5");
        assert_eq!(num(&c, Cell::Real(-0.0)), "0");
        assert_eq!(num(&c, Cell::Real(3.0)), "3");
        rej(&c, Cell::Real(f64::NAN));
        rej(&c, Cell::Real(f64::INFINITY));
    }

    #[test]
    fn numeric_scale_is_padded_and_excess_decimals_rejected_not_rounded() {
        let c = conv("numeric(10,4)");
        assert_eq!(num(&c, text("1.5")), "1.5000");
        assert_eq!(num(&c, Cell::Integer(-3)), "-3.0000");
        assert_eq!(num(&c, text("1.500000")), "1.5000");
        assert_eq!(num(&c, Cell::Real(0.25)), "0.2500");
        let r = rej(&c, text("1.23456"));
        assert!(
            r.contains("5 decimal places") && r.contains("allows 4"),
            "{r}"
        );
        rej(&c, Cell::Real(0.1 + 0.2)); // 0.30000000000000004
    }

    #[test]
    fn numeric_precision_overflow_is_rejected() {
        let c = conv("numeric(5,2)");
        assert_eq!(num(&c, text("999.99")), "999.99");
        assert_eq!(num(&c, text("-0.5")), "-0.50");
        let r = rej(&c, text("1000"));
        assert!(r.contains("overflows numeric(5,2)"), "{r}");
        rej(&c, Cell::Integer(123_456));
        let c = conv("numeric(3)");
        assert_eq!(num(&c, Cell::Integer(999)), "999");
        rej(&c, Cell::Integer(1000));
        rej(&c, text("1.5"));
    }

    #[test]
    fn numeric_rejects_nan_infinity_and_garbage() {
        let c = conv("numeric");
        for t in [
            "NaN", "Infinity", "-inf", "", "abc", "1.2.3", "1e", "--1", "1,5", "e5", ".",
        ] {
            rej(&c, text(t));
        }
        rej(&c, Cell::Blob(vec![1]));
    }

    // -------------------------------------------------------------- text

    #[test]
    fn varchar_length_counts_characters_not_bytes() {
        let c = conv("varchar(3)");
        assert_eq!(ok(&c, text("ééé")), Value::Text("ééé".into()));
        let r = rej(&c, text("abcd"));
        assert!(
            r.contains("4 characters") && r.contains("varchar(3)"),
            "{r}"
        );
        rej(&c, Cell::Integer(1234));
        rej(&conv("char(2)"), text("abc"));
    }

    #[test]
    fn text_is_kept_verbatim_including_spaces() {
        let c = conv("text");
        assert_eq!(ok(&c, text("  a b  ")), Value::Text("  a b  ".into()));
        assert_eq!(ok(&c, text("")), Value::Text(String::new()));
    }

    #[test]
    fn numbers_into_text_use_exact_shortest_forms() {
        let c = conv("text");
        assert_eq!(ok(&c, Cell::Integer(-42)), Value::Text("-42".into()));
        assert_eq!(ok(&c, Cell::Real(0.1)), Value::Text("0.1".into()));
        assert_eq!(ok(&c, Cell::Real(2.0)), Value::Text("2".into()));
        assert_eq!(
            ok(&c, Cell::Real(f64::INFINITY)),
            Value::Text("Infinity".into())
        );
        assert_eq!(
            ok(&c, Cell::Real(f64::NEG_INFINITY)),
            Value::Text("-Infinity".into())
        );
        assert_eq!(ok(&c, Cell::Real(f64::NAN)), Value::Text("NaN".into()));
    }

    #[test]
    fn blob_into_text_only_when_valid_utf8() {
        let c = conv("text");
        assert_eq!(ok(&c, Cell::Blob(b"hi".to_vec())), Value::Text("hi".into()));
        let r = rej(&c, Cell::Blob(vec![0xff, 0x00]));
        assert!(r.contains("not valid UTF-8"), "{r}");
        let c = conv_with("text", |o| o.invalid_utf8 = Utf8Policy::Replace);
        assert_eq!(
            ok(&c, Cell::Blob(vec![b'a', 0xff])),
            Value::Text("a\u{fffd}".into())
        );
    }

    #[test]
    fn bytea_takes_blobs_raw_text_and_number_text() {
        let c = conv("bytea");
        assert_eq!(
            ok(&c, Cell::Blob(vec![0, 1, 255])),
            Value::Bytea(vec![0, 1, 255])
        );
        assert_eq!(ok(&c, text("é")), Value::Bytea("é".as_bytes().to_vec()));
        assert_eq!(ok(&c, Cell::Integer(42)), Value::Bytea(b"42".to_vec()));
        assert_eq!(ok(&c, Cell::Real(1.5)), Value::Bytea(b"1.5".to_vec()));
    }

    // -------------------------------------------------------------- uuid

    #[test]
    fn uuid_accepts_dashed_simple_braced_any_case_and_16_byte_blobs() {
        let c = conv("uuid");
        let want =
            Value::Uuid(uuid::Uuid::parse_str("67e55044-10b1-426f-9247-bb680e5fe0c8").unwrap());
        for t in [
            "67e55044-10b1-426f-9247-bb680e5fe0c8",
            "67E55044-10B1-426F-9247-BB680E5FE0C8",
            "67e5504410b1426f9247bb680e5fe0c8",
            "{67e55044-10b1-426f-9247-bb680e5fe0c8}",
            " 67e55044-10b1-426f-9247-bb680e5fe0c8 ",
        ] {
            assert_eq!(ok(&c, text(t)), want, "{t}");
        }
        let bytes = hex::decode("67e5504410b1426f9247bb680e5fe0c8").unwrap();
        assert_eq!(ok(&c, Cell::Blob(bytes.clone())), want);
        assert!(rej(&c, Cell::Blob(bytes[..15].to_vec())).contains("15 bytes"));
        rej(&c, text("67e55044-10b1-426f-9247-bb680e5fe0c"));
        rej(&c, text("not-a-uuid"));
        rej(&c, Cell::Integer(1));
    }

    // -------------------------------------------------------------- json

    #[test]
    fn json_text_is_validated_and_kept_verbatim() {
        for ty in ["json", "jsonb"] {
            let c = conv(ty);
            let t = r#"{ "a" : [1, 2.50, "x"], "b": null }"#;
            assert_eq!(ok(&c, text(t)), Value::Json(t.into()));
            assert_eq!(ok(&c, text("1e400")), Value::Json("1e400".into()));
            let r = rej(&c, text("{'a': 1}"));
            assert!(r.contains("not valid JSON"), "{r}");
            rej(&c, text("[1,]"));
            rej(&c, text("{} x"));
            rej(&c, text(""));
            rej(&c, Cell::Blob(b"{}".to_vec()));
        }
    }

    #[test]
    fn jsonb_rejects_u0000_that_json_accepts() {
        let t = r#"{"a": "x\u0000y"}"#;
        let r = rej(&conv("jsonb"), text(t));
        assert!(r.contains("\\u0000"), "{r}");
        assert_eq!(ok(&conv("json"), text(t)), Value::Json(t.into()));
        // An escaped backslash followed by u0000 is not a NUL escape.
        let t = r#"{"a": "x\\u0000y"}"#;
        assert_eq!(ok(&conv("jsonb"), text(t)), Value::Json(t.into()));
    }

    #[test]
    fn jsonb_unpaired_surrogate_escapes_are_rejected_json_keeps_them() {
        let c = conv("jsonb");
        assert!(rej(&c, text(r#""\ud83d""#)).contains("high surrogate"));
        assert!(rej(&c, text(r#""\ude00x""#)).contains("low surrogate"));
        rej(&c, text(r#""\ud83d\u0041""#));
        let pair = r#""\ud83d\ude00""#;
        assert_eq!(ok(&c, text(pair)), Value::Json(pair.into()));
        // PostgreSQL's json type stores them as written.
        let lone = r#""\ud83d""#;
        assert_eq!(ok(&conv("json"), text(lone)), Value::Json(lone.into()));
    }

    #[test]
    fn json_numbers_from_numeric_cells() {
        let c = conv("jsonb");
        assert_eq!(ok(&c, Cell::Integer(-5)), Value::Json("-5".into()));
        assert_eq!(ok(&c, Cell::Real(0.1)), Value::Json("0.1".into()));
        rej(&c, Cell::Real(f64::NAN));
    }

    #[test]
    fn json_wrap_puts_value_under_key_and_null_becomes_empty_object() {
        let c = conv_with("jsonb", |o| o.json_wrap = Some("result".into()));
        assert_eq!(ok(&c, Cell::Null), Value::Json("{}".into()));
        let v = ok(&c, text("he said \"hi\"\n"));
        assert_eq!(v, Value::Json(r#"{"result": "he said \"hi\"\n"}"#.into()));
        assert_eq!(
            ok(&c, Cell::Integer(7)),
            Value::Json(r#"{"result": 7}"#.into())
        );
        assert_eq!(
            ok(&c, Cell::Real(2.5)),
            Value::Json(r#"{"result": 2.5}"#.into())
        );
        // Text that is itself JSON is still wrapped as a string, not parsed.
        let Value::Json(j) = ok(&c, text("{\"a\":1}")) else {
            panic!()
        };
        let back: serde_json::Value = serde_json::from_str(&j).unwrap();
        assert_eq!(
            back["result"],
            serde_json::Value::String("{\"a\":1}".into())
        );
        rej(&c, text("a\0b"));
        rej(&c, Cell::Text(b"\xff".to_vec()));
        assert_eq!(c.rule(), "json_wrap(result)→jsonb");
    }

    // -------------------------------------------------------- timestamps

    fn tstz(c: &Converter, s: &str) -> DateTime<Utc> {
        match ok(c, text(s)) {
            Value::Timestamptz(u) => u,
            v => panic!("{v:?}"),
        }
    }

    #[test]
    fn iso8601_and_sqlite_forms_all_parse() {
        let c = conv("timestamptz");
        let cases = [
            ("2024-03-05", "2024-03-05T00:00:00Z"),
            ("2024-03-05 10:11", "2024-03-05T10:11:00Z"),
            ("2024-03-05 10:11:12", "2024-03-05T10:11:12Z"),
            ("2024-03-05T10:11:12", "2024-03-05T10:11:12Z"),
            ("2024-03-05T10:11:12.5", "2024-03-05T10:11:12.5Z"),
            ("2024-03-05 10:11:12.123456", "2024-03-05T10:11:12.123456Z"),
            (
                "2024-03-05 10:11:12.123456000",
                "2024-03-05T10:11:12.123456Z",
            ),
            ("2024-03-05T10:11:12Z", "2024-03-05T10:11:12Z"),
            ("2024-03-05T10:11:12+02:00", "2024-03-05T08:11:12Z"),
            ("2024-03-05T10:11:12+0200", "2024-03-05T08:11:12Z"),
            ("2024-03-05T10:11:12+02", "2024-03-05T08:11:12Z"),
            ("2024-03-05 10:11:12.25-05:30", "2024-03-05T15:41:12.25Z"),
            ("2024-03-05 10:11:12 +01:00", "2024-03-05T09:11:12Z"),
            ("2024-03-05 10:11:12 UTC", "2024-03-05T10:11:12Z"),
            (" 2024-03-05 10:11:12 ", "2024-03-05T10:11:12Z"),
        ];
        for (t, want) in cases {
            assert_eq!(tstz(&c, t), utc(want), "{t}");
        }
    }

    #[test]
    fn sub_microsecond_digits_are_rejected_not_truncated() {
        let r = rej(&conv("timestamptz"), text("2024-03-05 10:11:12.1234567"));
        assert!(r.contains("microseconds"), "{r}");
    }

    #[test]
    fn invalid_timestamp_fields_are_rejected_with_the_field() {
        let c = conv("timestamptz");
        let r = rej(&c, text("2025-13-45 99:99:99"));
        assert!(r.contains("month 13"), "{r}");
        assert!(rej(&c, text("2023-02-29")).contains("day 29"));
        assert!(rej(&c, text("2024-01-01 24:00:00")).contains("hour 24"));
        assert!(rej(&c, text("2024-01-01 23:59:60")).contains("second 60"));
        assert!(rej(&c, text("yesterday")).contains("unparseable timestamp"));
        rej(&c, text("2024-01-01 10:00:00 +25:00"));
        rej(&c, text("2024-01-01 10:00:00 junk"));
        rej(&c, text(""));
        rej(&c, Cell::Blob(vec![1, 2]));
    }

    #[test]
    fn naive_text_is_read_in_the_source_timezone() {
        let tz = |o: &mut ConvertOptions| o.timezone = chrono_tz::Europe::Paris;
        let c = conv_with("timestamptz", tz);
        assert_eq!(tstz(&c, "2024-01-15 12:00:00"), utc("2024-01-15T11:00:00Z"));
        assert_eq!(tstz(&c, "2024-07-15 12:00:00"), utc("2024-07-15T10:00:00Z"));
        // An explicit offset wins over the source zone.
        assert_eq!(
            tstz(&c, "2024-07-15 12:00:00Z"),
            utc("2024-07-15T12:00:00Z")
        );
        // Naive target: naive text stays as written; zoned text is shown
        // in the source zone.
        let c = conv_with("timestamp", tz);
        assert_eq!(
            ok(&c, text("2024-07-15 12:00:00")),
            Value::Timestamp(naive("2024-07-15 12:00:00"))
        );
        assert_eq!(
            ok(&c, text("2024-07-15T12:00:00Z")),
            Value::Timestamp(naive("2024-07-15 14:00:00"))
        );
    }

    #[test]
    fn dst_gap_naive_time_is_rejected() {
        let c = conv_with("timestamptz", |o| o.timezone = chrono_tz::Europe::Paris);
        let r = rej(&c, text("2024-03-31 02:30:00"));
        assert!(r.contains("does not exist in Europe/Paris"), "{r}");
        // The naive target has no zone: the wall-clock time is kept.
        let c = conv_with("timestamp", |o| o.timezone = chrono_tz::Europe::Paris);
        assert_eq!(
            ok(&c, text("2024-03-31 02:30:00")),
            Value::Timestamp(naive("2024-03-31 02:30:00"))
        );
    }

    #[test]
    fn dst_overlap_naive_time_is_rejected_not_guessed() {
        let c = conv_with("timestamptz", |o| o.timezone = chrono_tz::Europe::Paris);
        let r = rej(&c, text("2024-10-27 02:30:00"));
        assert!(
            r.contains("ambiguous") && r.contains("+02:00") && r.contains("+01:00"),
            "{r}"
        );
        assert_eq!(
            tstz(&c, "2024-10-27 02:30:00+01:00"),
            utc("2024-10-27T01:30:00Z")
        );
    }

    #[test]
    fn date_column_rejects_a_time_of_day_instead_of_dropping_it() {
        let c = conv("date");
        assert_eq!(ok(&c, text("2024-03-05")), Value::Date(date("2024-03-05")));
        assert_eq!(
            ok(&c, text("2024-03-05 00:00:00")),
            Value::Date(date("2024-03-05"))
        );
        let r = rej(&c, text("2024-03-05 10:00:00"));
        assert!(r.contains("time of day"), "{r}");
        rej(&c, Cell::Integer(1_700_000_000));
    }

    #[test]
    fn number_without_epoch_unit_is_rejected() {
        let r = rej(&conv("timestamptz"), Cell::Integer(1_700_000_000));
        assert!(r.contains("no `epoch` unit"), "{r}");
        rej(&conv("timestamp"), Cell::Real(1.7e9));
        rej(&conv("timestamptz"), text("1700000000"));
    }

    fn epoch(ty: &str, unit: EpochUnit) -> Converter {
        conv_with(ty, |o| o.epoch = Some(unit))
    }

    #[test]
    fn epoch_ms_is_not_read_as_seconds() {
        let c = epoch("timestamptz", EpochUnit::Ms);
        assert_eq!(
            ok(&c, Cell::Integer(1_700_000_000_123)),
            Value::Timestamptz(utc("2023-11-14T22:13:20.123Z"))
        );
        let c = epoch("timestamptz", EpochUnit::S);
        assert_eq!(
            ok(&c, Cell::Integer(1_700_000_000)),
            Value::Timestamptz(utc("2023-11-14T22:13:20Z"))
        );
        let c = epoch("timestamptz", EpochUnit::Us);
        assert_eq!(
            ok(&c, Cell::Integer(1_700_000_000_123_456)),
            Value::Timestamptz(utc("2023-11-14T22:13:20.123456Z"))
        );
        // Numeric text counts as an epoch when a unit is declared.
        let c = epoch("timestamptz", EpochUnit::S);
        assert_eq!(
            ok(&c, text(" 1700000000 ")),
            Value::Timestamptz(utc("2023-11-14T22:13:20Z"))
        );
        assert_eq!(
            ok(&c, text("1700000000.5")),
            Value::Timestamptz(utc("2023-11-14T22:13:20.5Z"))
        );
        // ISO text still works in an epoch column.
        assert_eq!(
            ok(&c, text("2023-11-14 22:13:20")),
            Value::Timestamptz(utc("2023-11-14T22:13:20Z"))
        );
    }

    #[test]
    fn epoch_real_seconds_keep_microseconds() {
        let c = epoch("timestamptz", EpochUnit::S);
        assert_eq!(
            ok(&c, Cell::Real(1_700_000_000.123456)),
            Value::Timestamptz(utc("2023-11-14T22:13:20.123456Z"))
        );
        assert_eq!(
            ok(&c, Cell::Real(0.1)),
            Value::Timestamptz(utc("1970-01-01T00:00:00.1Z"))
        );
        assert_eq!(
            ok(&c, Cell::Real(-1.5)),
            Value::Timestamptz(utc("1969-12-31T23:59:58.5Z"))
        );
    }

    #[test]
    fn epoch_sub_microsecond_precision_is_rejected_not_rounded() {
        let r = rej(&epoch("timestamptz", EpochUnit::Us), Cell::Real(1.5));
        assert!(r.contains("sub-microsecond"), "{r}");
        rej(&epoch("timestamptz", EpochUnit::S), Cell::Real(0.1234567));
        rej(&epoch("timestamptz", EpochUnit::S), Cell::Real(f64::NAN));
    }

    #[test]
    fn epoch_auto_picks_unit_by_magnitude() {
        let c = epoch("timestamptz", EpochUnit::Auto);
        let want = Value::Timestamptz(utc("2023-11-14T22:13:20Z"));
        assert_eq!(ok(&c, Cell::Integer(1_700_000_000)), want);
        assert_eq!(ok(&c, Cell::Integer(1_700_000_000_000)), want);
        assert_eq!(ok(&c, Cell::Integer(1_700_000_000_000_000)), want);
        assert_eq!(ok(&c, Cell::Real(1_700_000_000.0)), want);
    }

    #[test]
    fn julian_day_reads_like_sqlite() {
        let c = epoch("timestamptz", EpochUnit::JulianDay);
        assert_eq!(
            ok(&c, Cell::Real(2_440_587.5)),
            Value::Timestamptz(utc("1970-01-01T00:00:00Z"))
        );
        assert_eq!(
            ok(&c, Cell::Real(2_460_000.75)),
            Value::Timestamptz(utc("2023-02-25T06:00:00Z"))
        );
        // Integer Julian days are noon UTC.
        assert_eq!(
            ok(&c, Cell::Integer(2_440_588)),
            Value::Timestamptz(utc("1970-01-01T12:00:00Z"))
        );
        // SQLite's julianday('2024-03-05 10:11:12.345') reads back to the ms.
        let jd = 2_460_374.924_448_437_5;
        assert_eq!(
            ok(&c, Cell::Real(jd)),
            Value::Timestamptz(utc("2024-03-05T10:11:12.345Z"))
        );
    }

    #[test]
    fn epoch_into_naive_timestamp_and_date_uses_source_timezone() {
        let c = conv_with("timestamp", |o| {
            o.epoch = Some(EpochUnit::S);
            o.timezone = chrono_tz::America::New_York;
        });
        assert_eq!(
            ok(&c, Cell::Integer(1_700_000_000)),
            Value::Timestamp(naive("2023-11-14 17:13:20"))
        );
        let c = conv_with("date", |o| {
            o.epoch = Some(EpochUnit::S);
            o.timezone = chrono_tz::America::New_York;
        });
        // 2023-11-15T05:00:00Z is midnight in New York.
        assert_eq!(
            ok(&c, Cell::Integer(1_700_024_400)),
            Value::Date(date("2023-11-15"))
        );
        let r = rej(&c, Cell::Integer(1_700_000_000));
        assert!(
            r.contains("time of day") && r.contains("America/New_York"),
            "{r}"
        );
    }

    #[test]
    fn timestamps_outside_postgres_or_chrono_range_are_rejected() {
        let c = epoch("timestamptz", EpochUnit::S);
        rej(&c, Cell::Integer(i64::MAX));
        rej(&c, Cell::Integer(-300_000_000_000)); // about 7500 BC
        rej(&c, Cell::Real(1e300));
        let c = epoch("timestamptz", EpochUnit::Us);
        assert_eq!(
            ok(&c, Cell::Integer(-200_000_000_000_000_000)), // about 4368 BC
            Value::Timestamptz(DateTime::from_timestamp_micros(-200_000_000_000_000_000).unwrap())
        );
        let r = rej(&c, Cell::Integer(i64::MIN / 2));
        assert!(r.contains("4714-11-24 BC"), "{r}");
        let r = rej(&c, Cell::Integer(i64::MIN));
        assert!(r.contains("4714-11-24 BC") || r.contains("range"), "{r}");
    }

    #[test]
    fn configured_formats_are_tried_after_iso() {
        let c = conv_with("timestamptz", |o| {
            o.timestamp_formats = vec![
                "%d/%m/%Y %H:%M".into(),
                "%d/%m/%Y".into(),
                "%Y%m%d %z".into(),
            ];
            o.timezone = chrono_tz::Europe::Paris;
        });
        assert_eq!(tstz(&c, "05/03/2024 10:11"), utc("2024-03-05T09:11:00Z"));
        assert_eq!(tstz(&c, "05/03/2024"), utc("2024-03-04T23:00:00Z"));
        assert_eq!(tstz(&c, "2024-03-05 10:11:12"), utc("2024-03-05T09:11:12Z"));
        rej(&c, text("2024/03/05"));
        assert!(c.rule().contains("%d/%m/%Y"), "{}", c.rule());
    }

    #[test]
    fn time_column_takes_clock_times_only() {
        let c = conv("time");
        assert_eq!(
            ok(&c, text("10:11:12.5")),
            Value::Time(NaiveTime::from_hms_micro_opt(10, 11, 12, 500_000).unwrap())
        );
        assert_eq!(
            ok(&c, text("23:59")),
            Value::Time(NaiveTime::from_hms_opt(23, 59, 0).unwrap())
        );
        assert!(rej(&c, text("25:00")).contains("hour 25"));
        rej(&c, text("10:11:12 x"));
        rej(&c, text("2024-01-01 10:11:12"));
        rej(&c, Cell::Integer(3600));
    }

    // --------------------------------------------------------------- misc

    #[test]
    fn reasons_quote_at_most_sixty_characters() {
        let long = "x".repeat(500);
        let r = rej(&conv("bigint"), text(&long));
        assert!(r.len() < 150, "{r}");
        assert!(r.contains('…'));
    }

    #[test]
    fn rules_describe_the_conversion() {
        assert_eq!(
            conv("timestamptz").rule(),
            "text→timestamptz iso8601 (naive in UTC)"
        );
        assert_eq!(
            epoch("timestamptz", EpochUnit::Ms).rule(),
            "epoch ms→timestamptz, text→timestamptz iso8601 (naive in UTC)"
        );
        assert_eq!(conv("numeric(10,4)").rule(), "exact decimal→numeric(10,4)");
    }

    #[test]
    fn numeric_values_encode_for_the_wire() {
        use bytes::BytesMut;
        use tokio_postgres::types::{ToSql, Type};
        let c = conv("numeric(12,3)");
        let v = ok(&c, text("12345.678"));
        let mut b = BytesMut::new();
        v.to_sql(&Type::NUMERIC, &mut b).unwrap();
        assert_eq!(
            &b[..],
            &[0, 3, 0, 1, 0, 0, 0, 3, 0, 1, 0x09, 0x29, 0x1a, 0x7c][..]
        );
    }
}
