//! Numbers: range-checked integers, floats (PostgreSQL's special spellings,
//! overflow and underflow refused, shortest round-trip text) and exact
//! decimals (`parse_decimal` expands exponents without going through f64,
//! `finish_decimal` applies numeric(p,s)).

use std::borrow::Cow;

use super::{fail, q, ConvertError};
use crate::pg::types::PgType;
use crate::pg::value::Value;

pub(super) fn int_to_target(
    i: i64,
    ty: &PgType,
    what: impl Fn() -> String,
) -> Result<Value, ConvertError> {
    let out = || ConvertError::new(format!("{} is out of range for {ty}", what()));
    match ty {
        PgType::SmallInt => i16::try_from(i).map(Value::Int2).map_err(|_| out()),
        PgType::Integer => i32::try_from(i).map(Value::Int4).map_err(|_| out()),
        _ => Ok(Value::Int8(i)),
    }
}

pub(super) fn f64_to_f32(f: f64) -> Result<f32, ConvertError> {
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
pub(super) fn parse_float_text(t: &str) -> Result<f64, ConvertError> {
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
pub(super) fn real_text(f: f64) -> String {
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

// ------------------------------------------------------------- decimals

/// Guard against absurd exponents before expanding them.
const MAX_DECIMAL_EXPONENT: i64 = 1_000_000;

/// Parse decimal syntax (`[+-]digits[.digits][e[+-]digits]`, at least one
/// digit) into sign, integer digits (no leading zeros) and fraction digits,
/// expanding the exponent exactly. The fraction keeps its written length
/// minus the exponent, as PostgreSQL does (`1.50e1` → `15.0`).
pub(super) fn parse_decimal(t: &str) -> Result<(bool, String, String), String> {
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
pub(super) fn finish_decimal(
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
