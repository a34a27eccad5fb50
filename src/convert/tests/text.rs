//! Text, varchar/char, bytea and uuid targets.

use super::*;

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
    let want = Value::Uuid(uuid::Uuid::parse_str("67e55044-10b1-426f-9247-bb680e5fe0c8").unwrap());
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
