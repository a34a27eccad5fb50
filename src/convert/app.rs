//! Rules for the types an application's own schema brings: native enums,
//! time with time zone, intervals, inet/cidr and arrays (a JSON array text
//! cell). Each value converts exactly or is rejected with a reason; the
//! server never gets a value it would refuse for its form.

use std::net::IpAddr;

use chrono::{Offset, TimeZone};
use rusqlite::types::ValueRef;

use super::time::parse_hms;
use super::{fail, q, ConvertError, Converter, EpochUnit};
use crate::pg::types::PgType;
use crate::pg::value::{ArrayValue, Value};

/// Labels listed in a reason, at most.
const LABELS_SHOWN: usize = 20;

/// A label of a native enum: exactly one of its labels (case matters, as
/// in PostgreSQL), else a reject listing them.
pub(super) fn enum_label(s: &str, name: &str, labels: &[String]) -> Result<Value, ConvertError> {
    if labels.iter().any(|l| l == s) {
        return Ok(Value::Text(s.to_string()));
    }
    let mut shown: Vec<String> = labels
        .iter()
        .take(LABELS_SHOWN)
        .map(|l| format!("'{l}'"))
        .collect();
    if labels.len() > LABELS_SHOWN {
        shown.push(format!("… ({} in all)", labels.len()));
    }
    fail(format!(
        "{} is not a label of enum {name} (allowed: {})",
        q(s),
        shown.join(", ")
    ))
}

/// `HH:MM[:SS[.ffffff]]` then an offset (`Z`, `+05`, `+0530`, `+05:30`,
/// `-08:00:00`). Without one, the source time zone's offset if it has only
/// one (UTC, a fixed zone); a zone with daylight saving has no single
/// offset for a time of day alone, so the value is rejected.
pub(super) fn timetz(t: &str, tz: chrono_tz::Tz) -> Result<Value, ConvertError> {
    let bad = |why: &str| {
        fail(format!(
            "text {} is not a valid time with time zone{why} (expected HH:MM[:SS[.ffffff]][+HH[:MM]])",
            q(t)
        ))
    };
    let (time, n) = match parse_hms(t.as_bytes()) {
        Ok(x) => x,
        Err(Some(why)) => return bad(&format!(": {why}")),
        Err(None) => return bad(""),
    };
    let rest = t[n..].trim_start();
    let east = if rest.is_empty() {
        let jan = tz
            .with_ymd_and_hms(2000, 1, 1, 12, 0, 0)
            .single()
            .map(|d| d.offset().fix().local_minus_utc());
        let jul = tz
            .with_ymd_and_hms(2000, 7, 1, 12, 0, 0)
            .single()
            .map(|d| d.offset().fix().local_minus_utc());
        match (jan, jul) {
            (Some(a), Some(b)) if a == b => a,
            _ => {
                return fail(format!(
                    "text {} has no UTC offset, and the source time zone {} has more than one \
                     (daylight saving), so the time with time zone is ambiguous",
                    q(t),
                    tz.name()
                ))
            }
        }
    } else if rest.eq_ignore_ascii_case("z") || rest.eq_ignore_ascii_case("utc") {
        0
    } else {
        match parse_offset(rest) {
            Some(s) => s,
            None => return bad(""),
        }
    };
    Ok(Value::Timetz(time, east))
}

/// `+HH`, `+HHMM`, `+HH:MM`, `+HH:MM:SS` (or `-`): seconds east of UTC,
/// within PostgreSQL's ±15:59:59.
fn parse_offset(s: &str) -> Option<i32> {
    let (sign, body) = match s.as_bytes().first()? {
        b'+' => (1, &s[1..]),
        b'-' => (-1, &s[1..]),
        _ => return None,
    };
    let parts: Vec<&str> = if body.contains(':') {
        body.split(':').collect()
    } else if body.len() == 4 {
        vec![&body[..2], &body[2..]]
    } else {
        vec![body]
    };
    if parts.is_empty()
        || parts.len() > 3
        || parts
            .iter()
            .any(|p| p.is_empty() || p.len() > 2 || !p.bytes().all(|b| b.is_ascii_digit()))
    {
        return None;
    }
    let n: Vec<i32> = parts.iter().map(|p| p.parse().unwrap_or(0)).collect();
    let (h, m, sec) = (n[0], *n.get(1).unwrap_or(&0), *n.get(2).unwrap_or(&0));
    if h > 15 || m > 59 || sec > 59 {
        return None;
    }
    Some(sign * (h * 3600 + m * 60 + sec))
}

const US_PER_DAY: f64 = 86_400_000_000.0;

/// An interval as PostgreSQL writes it (`1 year 2 mons 3 days 04:05:06.5`,
/// `-1 day +02:00:00`, `3 hours`, `@ 1 day ago`) or ISO 8601 (`P1Y2M3DT4H`,
/// `PT0.5S`, `P2W`), or a bare `[-]HH:MM[:SS[.f]]`. Fractions of years and
/// months are refused (PostgreSQL would turn them into days by its own
/// 30-day month); fractions of weeks and days become time (24-hour days).
pub(super) fn interval(t: &str) -> Result<Value, ConvertError> {
    let bad = |why: String| fail(format!("text {} is not a valid interval: {why}", q(t)));
    let mut acc = Acc::default();
    let r = if t.len() > 1 && (t.starts_with('P') || t.starts_with('p')) {
        iso_interval(&t[1..], &mut acc)
    } else {
        verbose_interval(t, &mut acc)
    };
    if let Err(why) = r {
        return bad(why);
    }
    match acc.finish() {
        Ok(v) => Ok(v),
        Err(why) => bad(why),
    }
}

/// Interval parts as they are read: whole months and days, and time in
/// microseconds (fractions of days land here).
#[derive(Default)]
struct Acc {
    months: i64,
    days: i64,
    micros: f64,
    any: bool,
}

impl Acc {
    fn add(&mut self, n: f64, unit: &str) -> Result<(), String> {
        let unit = unit.to_ascii_lowercase();
        let whole = |what: &str| -> Result<i64, String> {
            if n.fract() != 0.0 {
                Err(format!(
                    "a fraction of {what} has no exact length (write it in smaller units)"
                ))
            } else {
                Ok(n as i64)
            }
        };
        self.any = true;
        match unit.as_str() {
            "millennium" | "millennia" | "millenniums" => {
                self.months += whole("a millennium")? * 12_000
            }
            "century" | "centuries" => self.months += whole("a century")? * 1200,
            "decade" | "decades" => self.months += whole("a decade")? * 120,
            "y" | "year" | "years" | "yr" | "yrs" => self.months += whole("a year")? * 12,
            "mon" | "mons" | "month" | "months" => self.months += whole("a month")?,
            "w" | "week" | "weeks" => self.day_parts(n * 7.0),
            "d" | "day" | "days" => self.day_parts(n),
            "h" | "hour" | "hours" | "hr" | "hrs" => self.micros += n * 3_600_000_000.0,
            "m" | "min" | "mins" | "minute" | "minutes" => self.micros += n * 60_000_000.0,
            "s" | "sec" | "secs" | "second" | "seconds" => self.micros += n * 1_000_000.0,
            "ms" | "msec" | "msecs" | "millisecond" | "milliseconds" => self.micros += n * 1000.0,
            "us" | "usec" | "usecs" | "microsecond" | "microseconds" => self.micros += n,
            _ => return Err(format!("unknown unit `{unit}`")),
        }
        Ok(())
    }

    fn day_parts(&mut self, n: f64) {
        let whole = n.trunc();
        self.days += whole as i64;
        self.micros += (n - whole) * US_PER_DAY;
    }

    fn negate(&mut self) {
        self.months = -self.months;
        self.days = -self.days;
        self.micros = -self.micros;
    }

    fn finish(self) -> Result<Value, String> {
        if !self.any {
            return Err("no quantity".into());
        }
        let micros = self.micros.round();
        if (micros - self.micros).abs() > 1e-3 {
            return Err("finer than a microsecond".into());
        }
        if !(-9.2e18..9.2e18).contains(&micros) {
            return Err("out of range".into());
        }
        let months = i32::try_from(self.months).map_err(|_| "out of range".to_string())?;
        let days = i32::try_from(self.days).map_err(|_| "out of range".to_string())?;
        Ok(Value::Interval {
            months,
            days,
            micros: micros as i64,
        })
    }
}

/// `[-]HH:MM[:SS[.f]]` as microseconds.
fn clock(s: &str) -> Option<f64> {
    let (neg, body) = match s.strip_prefix('-') {
        Some(b) => (true, b),
        None => (false, s.strip_prefix('+').unwrap_or(s)),
    };
    let parts: Vec<&str> = body.split(':').collect();
    if !(2..=3).contains(&parts.len()) {
        return None;
    }
    let h: u64 = parts[0].parse().ok().filter(|_| !parts[0].is_empty())?;
    let m: u64 = parts[1].parse().ok().filter(|m| *m < 60)?;
    if parts[1].len() != 2 {
        return None;
    }
    let sec: f64 = match parts.get(2) {
        Some(p) => {
            if p.is_empty() || !p.bytes().all(|b| b.is_ascii_digit() || b == b'.') {
                return None;
            }
            p.parse().ok().filter(|s| *s < 60.0)?
        }
        None => 0.0,
    };
    let us = (h * 3600 + m * 60) as f64 * 1e6 + sec * 1e6;
    Some(if neg { -us } else { us })
}

fn verbose_interval(t: &str, acc: &mut Acc) -> Result<(), String> {
    let mut words: Vec<&str> = t.split_whitespace().collect();
    if words.first() == Some(&"@") {
        words.remove(0);
    }
    let ago = words.last().is_some_and(|w| w.eq_ignore_ascii_case("ago"));
    if ago {
        words.pop();
    }
    let mut i = 0;
    while i < words.len() {
        let w = words[i];
        if w.contains(':') {
            acc.micros += clock(w).ok_or_else(|| format!("`{w}` is not HH:MM[:SS]"))?;
            acc.any = true;
            i += 1;
            continue;
        }
        // `3 days` or `3days`
        let split = w
            .char_indices()
            .find(|(k, c)| c.is_ascii_alphabetic() && *k > 0)
            .map(|(k, _)| k);
        let (num, unit) = match split {
            Some(k) => (&w[..k], &w[k..]),
            None => {
                let unit = words
                    .get(i + 1)
                    .ok_or_else(|| format!("`{w}` has no unit"))?;
                i += 1;
                (w, *unit)
            }
        };
        let n: f64 = num
            .parse()
            .ok()
            .filter(|n: &f64| n.is_finite())
            .ok_or_else(|| format!("`{num}` is not a number"))?;
        acc.add(n, unit)?;
        i += 1;
    }
    if ago {
        acc.negate();
    }
    Ok(())
}

/// ISO 8601 after the `P`: `nYnMnWnD` then `T` `nHnMnS` (each optional,
/// numbers may be signed and fractional).
fn iso_interval(body: &str, acc: &mut Acc) -> Result<(), String> {
    let (date, time) = match body.split_once(['T', 't']) {
        Some((d, t)) => (d, Some(t)),
        None => (body, None),
    };
    let mut part = |s: &str, units: &[(char, &str)]| -> Result<(), String> {
        let mut num = String::new();
        for c in s.chars() {
            if c.is_ascii_digit() || c == '.' || c == '-' || c == '+' {
                num.push(c);
                continue;
            }
            let unit = units
                .iter()
                .find(|(u, _)| u.eq_ignore_ascii_case(&c))
                .ok_or_else(|| format!("unexpected `{c}`"))?
                .1;
            let n: f64 = num
                .parse()
                .map_err(|_| format!("`{num}` is not a number"))?;
            acc.add(n, unit)?;
            num.clear();
        }
        if num.is_empty() {
            Ok(())
        } else {
            Err(format!("`{num}` has no unit"))
        }
    };
    part(
        date,
        &[
            ('Y', "years"),
            ('M', "months"),
            ('W', "weeks"),
            ('D', "days"),
        ],
    )?;
    if let Some(t) = time {
        if t.is_empty() {
            return Err("nothing after T".into());
        }
        part(t, &[('H', "hours"), ('M', "minutes"), ('S', "seconds")])?;
    }
    Ok(())
}

/// A number as an interval, in the column's `epoch` unit (s, ms, us).
pub(super) fn number_interval(n: f64, unit: Option<EpochUnit>) -> Result<Value, ConvertError> {
    let per = match unit {
        Some(EpochUnit::S) => 1_000_000.0,
        Some(EpochUnit::Ms) => 1000.0,
        Some(EpochUnit::Us) => 1.0,
        _ => {
            return fail(format!(
                "number {n} has no unit as an interval; set the column's epoch = \"s\", \"ms\" or \"us\""
            ))
        }
    };
    let acc = Acc {
        micros: n * per,
        any: true,
        ..Acc::default()
    };
    acc.finish().map_err(|why| ConvertError {
        reason: format!("number {n} as an interval: {why}"),
    })
}

/// `addr` or `addr/bits`; a cidr must have no bits set right of its mask.
pub(super) fn inet(t: &str, cidr: bool) -> Result<Value, ConvertError> {
    let what = if cidr { "cidr" } else { "inet" };
    let (a, bits) = match t.split_once('/') {
        Some((a, b)) => (a, Some(b)),
        None => (t, None),
    };
    let addr: IpAddr = a
        .parse()
        .map_err(|_| ConvertError::new(format!("text {} is not a valid {what} address", q(t))))?;
    let max = if addr.is_ipv4() { 32 } else { 128 };
    let bits = match bits {
        None => max,
        Some(b) => match b.parse::<u8>() {
            Ok(n) if n <= max && !b.starts_with('+') => n,
            _ => return fail(format!("text {} has an invalid netmask length", q(t))),
        },
    };
    if cidr {
        let host_bits = match addr {
            IpAddr::V4(v) => u128::from(u32::from(v)) << 96,
            IpAddr::V6(v) => u128::from(v),
        };
        let mask = if bits == 0 {
            0
        } else {
            u128::MAX << (128 - bits)
        };
        if host_bits & !mask != 0 {
            return fail(format!(
                "text {} is not a valid cidr: bits are set to the right of the /{bits} mask",
                q(t)
            ));
        }
    }
    Ok(Value::Inet { addr, bits, cidr })
}

impl Converter {
    /// A JSON array text cell into a one-dimensional array: each element
    /// through the element type's own rule.
    pub(super) fn array(&self, s: &str, elem: &Converter) -> Result<Value, ConvertError> {
        let PgType::Array { elem_oid, .. } = &self.ty else {
            return fail("internal error: not an array column");
        };
        let items: Vec<serde_json::Value> = match serde_json::from_str(s) {
            Ok(serde_json::Value::Array(items)) => items,
            Ok(_) => return fail(format!("text {} is not a JSON array", q(s))),
            Err(e) => return fail(format!("text {} is not a JSON array: {e}", q(s))),
        };
        let mut out = Vec::with_capacity(items.len());
        for (i, item) in items.iter().enumerate() {
            let text;
            let cell = match item {
                serde_json::Value::Null => ValueRef::Null,
                serde_json::Value::Bool(b) if elem.ty == PgType::Boolean => {
                    ValueRef::Integer(i64::from(*b))
                }
                serde_json::Value::Bool(b) => ValueRef::Text(if *b { b"true" } else { b"false" }),
                serde_json::Value::Number(n) => match (n.as_i64(), n.as_f64()) {
                    (Some(v), _) => ValueRef::Integer(v),
                    (None, Some(f)) if !matches!(elem.ty, PgType::Numeric(_)) => {
                        ValueRef::Real(f)
                    }
                    _ => {
                        text = n.to_string();
                        ValueRef::Text(text.as_bytes())
                    }
                },
                serde_json::Value::String(v) => ValueRef::Text(v.as_bytes()),
                nested if matches!(elem.ty, PgType::Json | PgType::Jsonb) => {
                    text = nested.to_string();
                    ValueRef::Text(text.as_bytes())
                }
                _ => {
                    return fail(format!(
                        "element {} of {} is a nested array or object; only one-dimensional arrays load",
                        i + 1,
                        q(s)
                    ))
                }
            };
            let v = elem.convert_ref(cell).map_err(|e| {
                ConvertError::new(format!("element {} of {}: {}", i + 1, q(s), e.reason))
            })?;
            out.push(v);
        }
        Ok(Value::Array(Box::new(ArrayValue {
            elem_oid: *elem_oid,
            elem_type: elem.ty.wire_type(),
            items: out,
        })))
    }
}
