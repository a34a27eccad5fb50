//! Unit tests of the conversion rules, one file per family; here the
//! helpers, NULL and UTF-8 handling, booleans and reasons.

mod app;
mod json;
mod numeric;
mod text;
mod time;

use chrono::{DateTime, NaiveDate, NaiveDateTime, NaiveTime, Utc};

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

fn epoch(ty: &str, unit: EpochUnit) -> Converter {
    conv_with(ty, |o| o.epoch = Some(unit))
}

#[test]
fn reasons_never_carry_nul_or_control_characters() {
    let r = super::q("a\0b\nc");
    assert_eq!(r, "`a\\u{0}b\\nc`");
    assert!(!r.contains('\0'));
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
    // A blob rejected from a text column is not told "text→text".
    assert_eq!(
        conv("text").rule(),
        "text, numbers as text, blobs as UTF-8→text"
    );
}
