//! Unit tests of `check`: reject reasons grouped without their values, and
//! index columns read as `init` writes them.

use super::*;

#[test]
fn index_columns_are_read_as_init_writes_them() {
    let got = |c: &str| keys::index_column(c);
    assert_eq!(got("email"), Some(("email".into(), false)));
    assert_eq!(got("Full Name"), Some(("Full Name".into(), false)));
    assert_eq!(got("(\"code\") DESC"), Some(("code".into(), false)));
    assert_eq!(got("(lower(\"code\"))"), Some(("code".into(), true)));
    assert_eq!(
        got("(lower(\"co\"\"de\")) DESC"),
        Some(("co\"de".into(), true))
    );
    assert_eq!(got("(lower(code))"), Some(("code".into(), true)));
    assert_eq!(got("(a + b)"), None);
    assert_eq!(got("(lower(a || b))"), None);
}

fn rej(raw: Cell, reason: &str) -> Reject {
    Reject {
        row_key: "rowid 1".into(),
        column: "c".into(),
        raw,
        rule: "r".into(),
        reason: reason.into(),
    }
}

#[test]
fn pattern_drops_the_value() {
    assert_eq!(
        reason_pattern(&rej(
            Cell::Text(b"abc".to_vec()),
            "text `abc` is not a valid integer"
        )),
        "text `…` is not a valid integer"
    );
    assert_eq!(
        reason_pattern(&rej(
            Cell::Integer(5),
            "integer 5 is not a boolean (only 0 and 1 are)"
        )),
        "integer … is not a boolean (only 0 and 1 are)"
    );
    assert_eq!(
        reason_pattern(&rej(Cell::Real(0.5), "real 0.5 is not an integer")),
        "real … is not an integer"
    );
}

#[test]
fn groups_count_and_keep_few_examples() {
    let mut g = Groups::default();
    for v in ["a", "b", "c"] {
        g.add(&rej(
            Cell::Text(v.as_bytes().to_vec()),
            &format!("text `{v}` is not a valid integer"),
        ));
    }
    g.add(&rej(Cell::Null, "NULL in a NOT NULL column"));
    assert_eq!(g.total, 4);
    let v = g.into_sorted();
    assert_eq!(v.len(), 2);
    assert_eq!(v[0].count, 3);
    assert_eq!(v[0].examples.len(), EXAMPLES_PER_GROUP);
    assert_eq!(v[1].reason, "NULL in a NOT NULL column");
}
