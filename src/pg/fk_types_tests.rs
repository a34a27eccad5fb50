use super::*;

fn t(s: &str) -> PgType {
    PgType::parse(s).unwrap()
}

const TYPES: &[&str] = &[
    "boolean",
    "smallint",
    "integer",
    "bigint",
    "real",
    "double precision",
    "numeric",
    "text",
    "varchar(10)",
    "char(3)",
    "bytea",
    "date",
    "time",
    "timestamp",
    "timestamptz",
    "json",
    "jsonb",
    "uuid",
    "timetz",
    "interval",
    "inet",
    "cidr",
    "citext",
];

/// The pairs of different types PostgreSQL 15 accepted, as (parent,
/// child), when every pair of `TYPES` was tried as a foreign key.
const ACCEPTED: &[(&str, &str)] = &[
    ("smallint", "integer"),
    ("smallint", "bigint"),
    ("integer", "smallint"),
    ("integer", "bigint"),
    ("bigint", "smallint"),
    ("bigint", "integer"),
    ("real", "smallint"),
    ("real", "integer"),
    ("real", "bigint"),
    ("real", "double precision"),
    ("real", "numeric"),
    ("double precision", "smallint"),
    ("double precision", "integer"),
    ("double precision", "bigint"),
    ("double precision", "real"),
    ("double precision", "numeric"),
    ("numeric", "smallint"),
    ("numeric", "integer"),
    ("numeric", "bigint"),
    ("text", "varchar(10)"),
    ("text", "char(3)"),
    ("text", "citext"),
    ("varchar(10)", "text"),
    ("varchar(10)", "char(3)"),
    ("varchar(10)", "citext"),
    ("char(3)", "text"),
    ("char(3)", "varchar(10)"),
    ("date", "timestamp"),
    ("date", "timestamptz"),
    ("timestamp", "date"),
    ("timestamp", "timestamptz"),
    ("timestamptz", "date"),
    ("timestamptz", "timestamp"),
    ("timetz", "time"),
    ("interval", "time"),
    ("inet", "cidr"),
    ("cidr", "inet"),
];

#[test]
fn every_pair_as_postgresql_decides_it() {
    for p in TYPES {
        for c in TYPES {
            let want = (p == c && *p != "json") || ACCEPTED.contains(&(*p, *c));
            assert_eq!(accepts(&t(p), &t(c)), want, "parent {p}, child {c}");
        }
    }
}

#[test]
fn modifiers_do_not_matter() {
    assert!(accepts(&t("varchar(10)"), &t("varchar(20)")));
    assert!(accepts(&t("numeric(5,2)"), &t("numeric(12,0)")));
    assert!(accepts(&t("char(2)"), &t("char(8)")));
    assert!(accepts(&t("numeric(10,0)"), &t("integer")));
    assert!(!accepts(&t("bigint"), &t("numeric(10,0)")));
}

#[test]
fn enums_and_arrays_only_with_themselves() {
    let e = |name: &str, oid| PgType::Enum {
        name: name.into(),
        oid,
        labels: vec!["a".into()],
    };
    assert!(accepts(&e("mood", 1), &e("mood", 1)));
    assert!(!accepts(&e("mood", 1), &e("color", 2)));
    assert!(!accepts(&t("text"), &e("mood", 1)));
    let arr = |elem: &str, oid| PgType::Array {
        elem: Box::new(t(elem)),
        elem_oid: oid,
    };
    assert!(accepts(&arr("integer", 23), &arr("integer", 23)));
    assert!(!accepts(&arr("integer", 23), &arr("bigint", 20)));
}

#[test]
fn the_reason_is_postgresqls() {
    let r = refusal("k", "id", &t("bigint"), &t("numeric"));
    assert_eq!(
        r,
        "PostgreSQL refuses it: key columns `k` and `id` are of incompatible types: numeric and bigint"
    );
    assert!(refusal("k", "doc", &t("json"), &t("json")).contains("no equality for json"));
}
