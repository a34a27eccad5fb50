//! Dates and times: the ISO-8601 / SQLite fast path, configured formats,
//! epochs and Julian days, the source time zone (DST gaps and overlaps
//! refused), and fitting a parsed time to a date, timestamp or timestamptz
//! column within PostgreSQL's range.

use chrono::{
    DateTime, Datelike, FixedOffset, LocalResult, NaiveDate, NaiveDateTime, NaiveTime, TimeZone,
    Utc,
};

use super::{fail, q, ConvertError, Converter, EpochUnit};
use crate::pg::types::PgType;
use crate::pg::value::Value;

/// A number read as an epoch or Julian day.
#[derive(Debug, Clone, Copy)]
pub(super) enum Num {
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
pub(super) enum Stamp {
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
    pub(super) fn text_to_stamp(&self, t: &str) -> Result<Stamp, ConvertError> {
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
    pub(super) fn epoch_instant(&self, n: Num) -> Result<DateTime<Utc>, ConvertError> {
        let Some(unit) = self.opts.epoch else {
            return fail(format!(
                "number {n} in a {} column and no `epoch` unit declared for it",
                self.ty
            ));
        };
        if unit == EpochUnit::Auto {
            // Commands decide `auto` per column (from all its numbers)
            // before reading; a per-value guess is never made.
            return fail(format!(
                "number {n} in a {} column whose `epoch = \"auto\"` was not decided",
                self.ty
            ));
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
                let since_base = self.epoch_micros(unit, n, &range)?;
                since_base
                    .checked_add(self.opts.epoch_base_us)
                    .ok_or_else(range)?
            }
        };
        DateTime::<Utc>::from_timestamp_micros(micros).ok_or_else(range)
    }

    /// Microseconds since the epoch's base of a number in `unit` (not a
    /// Julian day). Finer units (ns, 100 ns) round to the microsecond, which
    /// is all PostgreSQL keeps (docs/conversions.md, "Epochs").
    fn epoch_micros(
        &self,
        unit: EpochUnit,
        n: Num,
        range: &dyn Fn() -> ConvertError,
    ) -> Result<i64, ConvertError> {
        let (factor, div): (i64, i64) = match unit {
            EpochUnit::S => (1_000_000, 1),
            EpochUnit::Ms => (1_000, 1),
            EpochUnit::Ns => (1, 1_000),
            EpochUnit::Ns100 => (1, 10),
            _ => (1, 1),
        };
        match n {
            Num::I(i) if div == 1 => i.checked_mul(factor).ok_or_else(range),
            Num::I(i) => Ok(i.div_euclid(div) + i64::from(2 * i.rem_euclid(div) >= div)),
            Num::F(f) => {
                if !f.is_finite() {
                    return fail(format!("epoch {f:?} is not a finite number"));
                }
                let x = f * factor as f64 / div as f64;
                let r = x.round();
                // Sub-µs digits the float really holds are data; the
                // noise of a float that cannot hold them is not.
                let tol = 2.0 * (ulp(f) * factor as f64 + ulp(x));
                if div == 1 && (x - r).abs() > tol {
                    return fail(format!(
                        "epoch {} {f:?} has sub-microsecond precision",
                        epoch_name(unit)
                    ));
                }
                if !(-9.2e18..9.2e18).contains(&r) {
                    return Err(range());
                }
                Ok(r as i64)
            }
        }
    }

    /// How the number `x` reads in this column's epoch, as PostgreSQL
    /// prints a timestamptz in UTC (`2018-12-01 14:22:57.5+00`), for the
    /// operator to check a unit and base at a glance.
    pub fn epoch_reading(&self, x: f64) -> Option<String> {
        let n = if x.fract() == 0.0 && x.abs() < 9e18 {
            Num::I(x as i64)
        } else {
            Num::F(x)
        };
        let t = self.epoch_instant(n).ok()?;
        let mut s = t.format("%Y-%m-%d %H:%M:%S%.f").to_string();
        if s.contains('.') {
            s.truncate(s.trim_end_matches('0').trim_end_matches('.').len());
        }
        s.push_str("+00");
        Some(s)
    }

    /// Fit a parsed time to the target column.
    pub(super) fn fit_stamp(
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

pub(super) fn epoch_name(u: EpochUnit) -> &'static str {
    match u {
        EpochUnit::S => "s",
        EpochUnit::Ms => "ms",
        EpochUnit::Us => "us",
        EpochUnit::Ns => "ns",
        EpochUnit::Ns100 => "100ns",
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
pub(super) fn parse_hms(b: &[u8]) -> Result<(NaiveTime, usize), Option<String>> {
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
