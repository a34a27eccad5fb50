//! Integers, floats and exact decimals.

use super::*;

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
