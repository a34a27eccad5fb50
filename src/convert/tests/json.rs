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

/// What jsonb would give back otherwise (docs/conversions.md, "The lossless
/// rule"): exponents, negative zeros, duplicate keys; not key order,
/// spacing, escapes or long mantissas, which it keeps.
#[test]
fn jsonb_changes_names_what_jsonb_would_not_keep() {
    use crate::convert::jsonb_changes;
    for kept in [
        r#"{"b": 1, "a": [1.50, -2, 0, 0.0, "1e2", "-0"]}"#,
        r#"[3.14159265358979323846264338327950288419716939937510]"#,
        r#"{"a": {"a": 1}, "b": {"a": 2}, "\u00e9": 1, "x\"y": 2}"#,
        "[]",
        "\"x\"",
    ] {
        assert_eq!(jsonb_changes(kept), None, "{kept}");
    }
    for (changed, why) in [
        (
            "[1e2]",
            "the number 1e2, which jsonb writes without its exponent",
        ),
        ("{\"m\": 1.7976931348623157E308}", "exponent"),
        (
            "[-0.0]",
            "the number -0.0, which jsonb writes without its sign",
        ),
        ("{\"a\": -0}", "without its sign"),
        (
            r#"{"a": 1, "b": 2, "a": 3}"#,
            "the key \"a\" twice in one object",
        ),
        (r#"{"é": 1, "\u00e9": 2}"#, "twice in one object"),
        (r#"[{"k": [1, 2], "k": 3}]"#, "twice"),
    ] {
        let got = jsonb_changes(changed).unwrap_or_default();
        assert!(got.contains(why), "{changed}: {got}");
    }
}
