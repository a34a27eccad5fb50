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
mod tests;
