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
//!
//! Layout: here the options, the error and [`Converter`] with its dispatch
//! by storage class × target type; the rules of each family in `numeric`,
//! `time` and `json`; the source cell in `cell`; unit tests in `tests/`.

mod app;
pub mod cell;
pub mod epoch;
mod json;
mod numeric;
pub mod reject;
mod time;

use std::borrow::Cow;

use crate::convert::cell::Cell;
use crate::pg::types::PgType;
use crate::pg::value::Value;
pub use json::jsonb_changes;
use json::{check_jsonb_escapes, json_number};
use numeric::{
    f64_to_f32, finish_decimal, int_to_target, parse_decimal, parse_float_text, real_text,
};
use rusqlite::types::ValueRef;
use serde::{Deserialize, Serialize};
use time::{epoch_name, parse_hms, Num, Stamp};

/// Everything a column's conversion depends on, resolved once from the
/// mapping by `config::plan` (column settings over `[defaults]`).
#[derive(Debug, Clone)]
pub struct ConvertOptions {
    pub epoch: Option<EpochUnit>,
    /// Where the epoch's numbers count from, in microseconds after
    /// 1970-01-01 UTC (0: Unix; Core Data's 2001-01-01 is 978307200000000).
    pub epoch_base_us: i64,
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
            epoch_base_us: 0,
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
    /// Nanoseconds (Apple Messages' dates since 2001): PostgreSQL keeps
    /// microseconds, the finer digits are rounded.
    Ns,
    /// Units of 100 ns (Windows FILETIME, since 1601): rounded to the
    /// microsecond like `ns`.
    #[serde(rename = "100ns")]
    Ns100,
    /// Julian day number (fraction = time of day).
    JulianDay,
    /// One unit for the whole column, decided from where its numbers fall
    /// (`epoch::EpochBands`) before the column is read: never per value.
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
    /// An array column's element rule.
    elem: Option<Box<Converter>>,
}

impl Converter {
    pub fn new(ty: PgType, opts: ConvertOptions) -> Converter {
        let wrap_prefix = opts.json_wrap.as_ref().map(|k| {
            format!(
                "{{{}: ",
                serde_json::to_string(k).expect("a string serializes")
            )
        });
        let elem = match &ty {
            PgType::Array { elem, .. } => Some(Box::new(Converter::new(
                (**elem).clone(),
                ConvertOptions {
                    json_wrap: None,
                    ..opts.clone()
                },
            ))),
            _ => None,
        };
        Converter {
            ty,
            opts,
            wrap_prefix,
            elem,
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
            PgType::Text | PgType::Varchar(_) | PgType::Char(_) | PgType::Citext => {
                format!("text, numbers as text, blobs as UTF-8→{ty}")
            }
            PgType::Enum { .. } => format!("text, one of the labels→enum {ty}"),
            PgType::Timetz => "text hh:mm[:ss[.ffffff]][+hh[:mm]]→timetz".into(),
            PgType::Interval => match self.opts.epoch {
                Some(u) => format!("number of {}, or interval text→interval", epoch_name(u)),
                None => "interval text (PostgreSQL or ISO 8601)→interval".into(),
            },
            PgType::Inet | PgType::Cidr => format!("address[/bits] text→{ty}"),
            PgType::Array { .. } => format!("JSON array text→{ty}"),
            PgType::Bytea => "blob bytes (text: raw bytes)→bytea".into(),
            PgType::Date | PgType::Timestamp | PgType::Timestamptz => {
                let mut s = String::new();
                if let Some(unit) = self.opts.epoch {
                    s.push_str(&format!("epoch {}", epoch_name(unit)));
                    if self.opts.epoch_base_us != 0 {
                        let base = chrono::DateTime::from_timestamp_micros(self.opts.epoch_base_us)
                            .map_or_else(String::new, |b| b.format("%Y-%m-%d").to_string());
                        s.push_str(&format!(" since {base}"));
                    }
                    s.push_str(&format!("→{ty}, "));
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

    /// A cell whose COPY bytes are its own bytes, borrowed: a text cell
    /// bound for a text, varchar or char column (checked exactly as
    /// [`Converter::convert_ref`] checks it), or a blob or text cell bound
    /// for bytea. The encoder then copies it once, straight into the COPY
    /// buffer: a 1 GB value is not copied twice. `None` when the cell or
    /// the column takes another path.
    pub fn passthrough<'a>(
        &self,
        cell: ValueRef<'a>,
    ) -> Option<Result<Cow<'a, [u8]>, ConvertError>> {
        match (cell, &self.ty) {
            (ValueRef::Blob(b) | ValueRef::Text(b), PgType::Bytea) => Some(Ok(Cow::Borrowed(b))),
            (ValueRef::Text(b), ty) if ty.is_text() && self.wrap_prefix.is_none() => {
                Some(self.decode(b).and_then(|s| {
                    self.check_text(&s)?;
                    Ok(match s {
                        Cow::Borrowed(s) => Cow::Borrowed(s.as_bytes()),
                        Cow::Owned(s) => Cow::Owned(s.into_bytes()),
                    })
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
            PgType::Citext => self.text_value(Cow::Owned(i.to_string())),
            PgType::Enum { name, labels, .. } => app::enum_label(&i.to_string(), name, labels),
            PgType::Interval => app::number_interval(i as f64, self.opts.epoch),
            PgType::Time | PgType::Timetz | PgType::Inet | PgType::Cidr | PgType::Array { .. } => {
                fail(format!("integer {i} cannot convert to {ty}"))
            }
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
            PgType::Citext => self.text_value(Cow::Owned(real_text(f))),
            PgType::Enum { name, labels, .. } => app::enum_label(&real_text(f), name, labels),
            PgType::Interval => app::number_interval(f, self.opts.epoch),
            PgType::Time | PgType::Timetz | PgType::Inet | PgType::Cidr | PgType::Array { .. } => {
                fail(format!("real {f:?} cannot convert to {ty}"))
            }
        }
    }

    fn text_cell(&self, raw: &[u8]) -> Result<Value, ConvertError> {
        let ty = &self.ty;
        if *ty == PgType::Bytea {
            return Ok(Value::Bytea(raw.to_vec()));
        }
        let s = self.decode(raw)?;
        match ty {
            PgType::Text | PgType::Varchar(_) | PgType::Char(_) | PgType::Citext => {
                self.text_value(s)
            }
            PgType::Enum { name, labels, .. } => app::enum_label(&s, name, labels),
            PgType::Timetz => app::timetz(s.trim(), self.opts.timezone),
            PgType::Interval => app::interval(s.trim()),
            PgType::Inet => app::inet(s.trim(), false),
            PgType::Cidr => app::inet(s.trim(), true),
            PgType::Array { .. } => match &self.elem {
                Some(elem) => self.array(&s, elem),
                None => fail("internal error: array without an element rule"),
            },
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
            PgType::Text | PgType::Varchar(_) | PgType::Char(_) | PgType::Citext => {
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
}

#[cfg(test)]
mod tests;
