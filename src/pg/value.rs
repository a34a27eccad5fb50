//! Typed values ready for binary COPY: one variant per target type the
//! transform produces. The transform guarantees the variant matches the
//! column's `PgType`, so encoding never has to guess.

use std::error::Error;
use std::net::IpAddr;

use bytes::{BufMut, BytesMut};
use chrono::{DateTime, NaiveDate, NaiveDateTime, NaiveTime, Utc};
use tokio_postgres::types::{to_sql_checked, IsNull, ToSql, Type};

#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Null,
    Bool(bool),
    Int2(i16),
    Int4(i32),
    Int8(i64),
    Float4(f32),
    Float8(f64),
    /// Exact decimal, canonical text form (`-123.4500`, no exponent);
    /// encoded to PostgreSQL's base-10000 binary numeric.
    Numeric(String),
    Text(String),
    Bytea(Vec<u8>),
    Date(NaiveDate),
    Time(NaiveTime),
    Timestamp(NaiveDateTime),
    Timestamptz(DateTime<Utc>),
    /// Validated JSON text; sent as `json` or as `jsonb` (version byte 1).
    Json(String),
    Uuid(uuid::Uuid),
    /// time with time zone: the time and its offset east of UTC, seconds.
    Timetz(NaiveTime, i32),
    Interval {
        months: i32,
        days: i32,
        micros: i64,
    },
    /// inet or cidr: address and netmask length.
    Inet {
        addr: IpAddr,
        bits: u8,
        cidr: bool,
    },
    Array(Box<ArrayValue>),
}

/// A one-dimensional array: its elements, encoded for `elem_type`, under
/// the element type's OID (`elem_oid`, which PostgreSQL checks).
#[derive(Debug, Clone, PartialEq)]
pub struct ArrayValue {
    pub elem_oid: u32,
    pub elem_type: Type,
    pub items: Vec<Value>,
}

type BoxError = Box<dyn Error + Sync + Send>;

impl ToSql for Value {
    fn to_sql(&self, ty: &Type, out: &mut BytesMut) -> Result<IsNull, BoxError> {
        match self {
            Value::Null => Ok(IsNull::Yes),
            Value::Bool(v) => v.to_sql(ty, out),
            Value::Int2(v) => v.to_sql(ty, out),
            Value::Int4(v) => v.to_sql(ty, out),
            Value::Int8(v) => v.to_sql(ty, out),
            Value::Float4(v) => v.to_sql(ty, out),
            Value::Float8(v) => v.to_sql(ty, out),
            Value::Numeric(s) => {
                encode_numeric(s, out)?;
                Ok(IsNull::No)
            }
            Value::Text(s) => s.as_str().to_sql(ty, out),
            Value::Bytea(b) => b.as_slice().to_sql(ty, out),
            Value::Date(v) => v.to_sql(ty, out),
            Value::Time(v) => v.to_sql(ty, out),
            Value::Timestamp(v) => v.to_sql(ty, out),
            Value::Timestamptz(v) => v.to_sql(ty, out),
            Value::Json(s) => {
                if *ty == Type::JSONB {
                    out.put_u8(1);
                }
                out.put_slice(s.as_bytes());
                Ok(IsNull::No)
            }
            Value::Uuid(v) => v.to_sql(ty, out),
            Value::Timetz(t, east) => {
                t.to_sql(&Type::TIME, out)?;
                // PostgreSQL stores the zone as seconds west of UTC.
                out.put_i32(-east);
                Ok(IsNull::No)
            }
            Value::Interval {
                months,
                days,
                micros,
            } => {
                out.put_i64(*micros);
                out.put_i32(*days);
                out.put_i32(*months);
                Ok(IsNull::No)
            }
            Value::Inet { addr, bits, cidr } => {
                encode_inet(addr, *bits, *cidr, out);
                Ok(IsNull::No)
            }
            Value::Array(a) => {
                encode_array(a, out)?;
                Ok(IsNull::No)
            }
        }
    }

    /// The transform guarantees the variant matches the column type.
    fn accepts(_: &Type) -> bool {
        true
    }

    to_sql_checked!();
}

/// PostgreSQL's `inet_send`: family (`PGSQL_AF_INET` 2, `PGSQL_AF_INET6`
/// 3), netmask bits, is-cidr flag, address length, address bytes.
fn encode_inet(addr: &IpAddr, bits: u8, cidr: bool, out: &mut BytesMut) {
    match addr {
        IpAddr::V4(a) => {
            out.put_slice(&[2, bits, u8::from(cidr), 4]);
            out.put_slice(&a.octets());
        }
        IpAddr::V6(a) => {
            out.put_slice(&[3, bits, u8::from(cidr), 16]);
            out.put_slice(&a.octets());
        }
    }
}

/// PostgreSQL's `array_send` for one dimension: ndim, has-nulls flag,
/// element OID, then (length, lower bound 1) and each element with its
/// length (-1 for NULL). An empty array has no dimensions.
fn encode_array(a: &ArrayValue, out: &mut BytesMut) -> Result<(), BoxError> {
    let has_null = a.items.contains(&Value::Null);
    out.put_i32(i32::from(!a.items.is_empty()));
    out.put_i32(i32::from(has_null));
    out.put_u32(a.elem_oid);
    if a.items.is_empty() {
        return Ok(());
    }
    out.put_i32(i32::try_from(a.items.len()).map_err(|_| "array too long")?);
    out.put_i32(1);
    for v in &a.items {
        let at = out.len();
        out.put_i32(0);
        match v.to_sql(&a.elem_type, out)? {
            IsNull::Yes => {
                out.truncate(at);
                out.put_i32(-1);
            }
            IsNull::No => {
                let len =
                    i32::try_from(out.len() - at - 4).map_err(|_| "value larger than 2 GB")?;
                out[at..at + 4].copy_from_slice(&len.to_be_bytes());
            }
        }
    }
    Ok(())
}

/// PostgreSQL's limits for `numeric` (see `numeric.c`): digits before and
/// after the decimal point.
pub const NUMERIC_MAX_INT_DIGITS: usize = 131_072;
pub const NUMERIC_MAX_SCALE: usize = 16_383;

const NUMERIC_POS: u16 = 0x0000;
const NUMERIC_NEG: u16 = 0x4000;

/// Encode a canonical decimal (`-123.4500`, `0`, `0.001`: optional `-`,
/// digits, optional `.digits`, no exponent) as PostgreSQL binary `numeric`:
/// ndigits, weight, sign, dscale (each 16 bits), then ndigits base-10000
/// digits. The displayed scale (`dscale`) is the number of fraction digits as
/// written; leading and trailing zero digit groups are not sent.
pub fn encode_numeric(s: &str, out: &mut BytesMut) -> Result<(), BoxError> {
    let bad = || -> BoxError { format!("not a canonical decimal: `{s}`").into() };
    let (neg, body) = match s.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, s),
    };
    let (int, frac) = match body.split_once('.') {
        Some((i, f)) => (i.as_bytes(), f.as_bytes()),
        None => (body.as_bytes(), &b""[..]),
    };
    if (int.is_empty() && frac.is_empty())
        || !int.iter().all(u8::is_ascii_digit)
        || !frac.iter().all(u8::is_ascii_digit)
    {
        return Err(bad());
    }
    let lead = int.iter().take_while(|&&b| b == b'0').count();
    let int = &int[lead..];
    if int.len() > NUMERIC_MAX_INT_DIGITS {
        return Err(
            format!("numeric `{s}` has more than {NUMERIC_MAX_INT_DIGITS} integer digits").into(),
        );
    }
    if frac.len() > NUMERIC_MAX_SCALE {
        return Err(
            format!("numeric `{s}` has more than {NUMERIC_MAX_SCALE} decimal places").into(),
        );
    }

    let int_groups = int.len().div_ceil(4);
    let mut digits: Vec<u16> = Vec::with_capacity(int_groups + frac.len().div_ceil(4));
    // Integer part: the first group takes the leftover (1..=4) digits.
    let first = int.len() - 4 * int_groups.saturating_sub(1);
    let mut rest = int;
    if !rest.is_empty() {
        let (head, tail) = rest.split_at(first);
        digits.push(group(head, false));
        rest = tail;
    }
    for chunk in rest.chunks(4) {
        digits.push(group(chunk, false));
    }
    // Fraction part: the last group is padded with zeros on the right.
    for chunk in frac.chunks(4) {
        digits.push(group(chunk, true));
    }
    let mut weight = int_groups as i32 - 1;
    let zeros = digits.iter().take_while(|&&d| d == 0).count();
    if zeros == digits.len() {
        // Zero: no digits, positive, keeps its displayed scale.
        out.put_u16(0);
        out.put_i16(0);
        out.put_u16(NUMERIC_POS);
        out.put_u16(frac.len() as u16);
        return Ok(());
    }
    weight -= zeros as i32;
    let trailing = digits.iter().rev().take_while(|&&d| d == 0).count();
    let digits = &digits[zeros..digits.len() - trailing];

    out.reserve(8 + 2 * digits.len());
    out.put_u16(digits.len() as u16);
    out.put_i16(i16::try_from(weight).map_err(|_| bad())?);
    out.put_u16(if neg { NUMERIC_NEG } else { NUMERIC_POS });
    out.put_u16(frac.len() as u16);
    for d in digits {
        out.put_u16(*d);
    }
    Ok(())
}

/// One base-10000 digit from up to four decimal digits; `pad_right` pads a
/// short fraction group with zeros (`"5"` → 5000).
fn group(chunk: &[u8], pad_right: bool) -> u16 {
    let mut v = chunk
        .iter()
        .fold(0u16, |acc, b| acc * 10 + u16::from(b - b'0'));
    if pad_right {
        for _ in chunk.len()..4 {
            v *= 10;
        }
    }
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Build the expected wire bytes from the header fields and digits.
    fn wire(ndigits: u16, weight: i16, sign: u16, dscale: u16, digits: &[u16]) -> Vec<u8> {
        let mut v = Vec::new();
        v.extend_from_slice(&ndigits.to_be_bytes());
        v.extend_from_slice(&weight.to_be_bytes());
        v.extend_from_slice(&sign.to_be_bytes());
        v.extend_from_slice(&dscale.to_be_bytes());
        for d in digits {
            v.extend_from_slice(&d.to_be_bytes());
        }
        v
    }

    fn enc(s: &str) -> Vec<u8> {
        let mut b = BytesMut::new();
        encode_numeric(s, &mut b).unwrap();
        b.to_vec()
    }

    #[test]
    fn numeric_one_matches_postgres_wire_format() {
        assert_eq!(enc("1"), vec![0, 1, 0, 0, 0, 0, 0, 0, 0, 1]);
    }

    #[test]
    fn numeric_fraction_groups_are_padded_on_the_right() {
        assert_eq!(enc("12345.678"), wire(3, 1, 0, 3, &[1, 2345, 6780]));
    }

    #[test]
    fn numeric_small_negative_has_negative_weight() {
        assert_eq!(enc("-0.0001"), wire(1, -1, 0x4000, 4, &[1]));
        assert_eq!(enc("0.00000001"), wire(1, -2, 0, 8, &[1]));
        assert_eq!(enc("0.001"), wire(1, -1, 0, 3, &[10]));
    }

    #[test]
    fn numeric_trailing_zero_groups_are_stripped_but_scale_kept() {
        assert_eq!(enc("10000"), wire(1, 1, 0, 0, &[1]));
        assert_eq!(enc("-123.4500"), wire(2, 0, 0x4000, 4, &[123, 4500]));
        assert_eq!(enc("100000000.0000"), wire(1, 2, 0, 4, &[1]));
    }

    #[test]
    fn numeric_zero_keeps_scale_and_is_never_negative() {
        assert_eq!(enc("0"), wire(0, 0, 0, 0, &[]));
        assert_eq!(enc("0.000"), wire(0, 0, 0, 3, &[]));
        assert_eq!(enc("-0.00"), wire(0, 0, 0, 2, &[]));
    }

    #[test]
    fn numeric_beyond_28_digits_is_exact() {
        assert_eq!(
            enc("12345678901234567890.123"),
            wire(6, 4, 0, 3, &[1234, 5678, 9012, 3456, 7890, 1230])
        );
        let big = "9".repeat(40) + "." + &"9".repeat(20);
        let mut b = BytesMut::new();
        encode_numeric(&big, &mut b).unwrap();
        assert_eq!(&b[..8], &wire(15, 9, 0, 20, &[])[..]);
        assert!(b[8..].chunks(2).all(|c| c == 9999u16.to_be_bytes()));
    }

    /// Expected bytes are PostgreSQL's own `numeric_send()` output.
    #[test]
    fn numeric_matches_postgres_numeric_send() {
        for (text, hex) in [
            ("1", "00010000000000000001"),
            ("12345.678", "0003000100000003000109291a7c"),
            ("-0.0001", "0001ffff400000040001"),
            ("10000", "00010001000000000001"),
            ("0", "0000000000000000"),
            ("0.000", "0000000000000003"),
            ("-123.4500", "0002000040000004007b1194"),
            (
                "12345678901234567890.123",
                "000600040000000304d2162e23340d801ed204ce",
            ),
            ("0.001", "0001ffff00000003000a"),
            ("100000000.0000", "00010002000000040001"),
            ("0.00000001", "0001fffe000000080001"),
        ] {
            assert_eq!(hex::encode(enc(text)), hex, "{text}");
        }
    }

    #[test]
    fn numeric_rejects_non_canonical_text() {
        let mut b = BytesMut::new();
        for s in ["", "-", ".", "1e5", "+1", "1.2.3", " 1", "NaN", "1,5"] {
            assert!(encode_numeric(s, &mut b).is_err(), "{s:?}");
        }
    }

    #[test]
    fn jsonb_gets_version_byte_json_does_not() {
        let v = Value::Json(r#"{"a":1}"#.into());
        let mut b = BytesMut::new();
        v.to_sql(&Type::JSONB, &mut b).unwrap();
        assert_eq!(&b[..], b"\x01{\"a\":1}");
        let mut b = BytesMut::new();
        v.to_sql(&Type::JSON, &mut b).unwrap();
        assert_eq!(&b[..], b"{\"a\":1}");
    }

    fn bytes(v: &Value, ty: &Type) -> Vec<u8> {
        let mut b = BytesMut::new();
        v.to_sql(ty, &mut b).unwrap();
        b.to_vec()
    }

    /// Expected bytes are PostgreSQL's own `*_send()` output
    /// (`SELECT <type>_send('<text>')`).
    #[test]
    fn app_types_match_postgres_send() {
        let t = |h, m, s, us| NaiveTime::from_hms_micro_opt(h, m, s, us).unwrap();
        for (v, ty, hex) in [
            // timetz_send('01:02:03.5+05:30')
            (
                Value::Timetz(t(1, 2, 3, 500_000), 19_800),
                Type::TIMETZ,
                "00000000ddf019e0ffffb2a8",
            ),
            // interval_send('1 year 2 mons 3 days 00:00:04.000005')
            (
                Value::Interval {
                    months: 14,
                    days: 3,
                    micros: 4_000_005,
                },
                Type::INTERVAL,
                "00000000003d0905000000030000000e",
            ),
            // inet_send('192.168.0.1/24')
            (
                Value::Inet {
                    addr: "192.168.0.1".parse().unwrap(),
                    bits: 24,
                    cidr: false,
                },
                Type::INET,
                "02180004c0a80001",
            ),
            // cidr_send('10.0.0.0/8')
            (
                Value::Inet {
                    addr: "10.0.0.0".parse().unwrap(),
                    bits: 8,
                    cidr: true,
                },
                Type::CIDR,
                "020801040a000000",
            ),
            // inet_send('::1')
            (
                Value::Inet {
                    addr: "::1".parse().unwrap(),
                    bits: 128,
                    cidr: false,
                },
                Type::INET,
                "0380001000000000000000000000000000000001",
            ),
            // array_send('{a,NULL}'::text[])
            (
                Value::Array(Box::new(ArrayValue {
                    elem_oid: 25,
                    elem_type: Type::TEXT,
                    items: vec![Value::Text("a".into()), Value::Null],
                })),
                Type::TEXT_ARRAY,
                "00000001000000010000001900000002000000010000000161ffffffff",
            ),
            // array_send('{}'::int4[])
            (
                Value::Array(Box::new(ArrayValue {
                    elem_oid: 23,
                    elem_type: Type::INT4,
                    items: vec![],
                })),
                Type::INT4_ARRAY,
                "000000000000000000000017",
            ),
        ] {
            assert_eq!(hex::encode(bytes(&v, &ty)), hex, "{v:?}");
        }
    }

    #[test]
    fn null_is_sql_null() {
        let mut b = BytesMut::new();
        assert!(matches!(
            Value::Null.to_sql(&Type::INT4, &mut b).unwrap(),
            IsNull::Yes
        ));
        assert!(b.is_empty());
    }

    #[test]
    fn scalars_delegate_to_postgres_types() {
        let mut b = BytesMut::new();
        Value::Int2(-2).to_sql(&Type::INT2, &mut b).unwrap();
        Value::Int4(7).to_sql(&Type::INT4, &mut b).unwrap();
        Value::Float8(0.1).to_sql(&Type::FLOAT8, &mut b).unwrap();
        Value::Bool(true).to_sql(&Type::BOOL, &mut b).unwrap();
        Value::Text("é".into()).to_sql(&Type::TEXT, &mut b).unwrap();
        let mut want = Vec::new();
        want.extend_from_slice(&(-2i16).to_be_bytes());
        want.extend_from_slice(&7i32.to_be_bytes());
        want.extend_from_slice(&0.1f64.to_bits().to_be_bytes());
        want.push(1);
        want.extend_from_slice("é".as_bytes());
        assert_eq!(&b[..], &want[..]);

        // Timestamps are microseconds since 2000-01-01.
        let mut b = BytesMut::new();
        let ts = NaiveDate::from_ymd_opt(2000, 1, 1)
            .unwrap()
            .and_hms_micro_opt(0, 0, 1, 5)
            .unwrap();
        Value::Timestamp(ts)
            .to_sql(&Type::TIMESTAMP, &mut b)
            .unwrap();
        assert_eq!(&b[..], &1_000_005i64.to_be_bytes());
    }
}
