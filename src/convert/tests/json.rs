//! json and jsonb targets, `json_wrap`.

use super::*;

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
