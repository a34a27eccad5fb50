//! Unit tests of `typemap`: declared types, defaults and expressions.

use super::*;

fn ty(s: &str) -> String {
    map_declared_type(s).to_string()
}

#[test]
fn integer_affinity_is_bigint() {
    for d in [
        "INTEGER",
        "INT",
        "BIGINT",
        "int(5)",
        "unsigned big int",
        "short integer",
        "TINYINT",
        "SMALLINT",
        "MEDIUMINT",
        "INT2",
        "INT8",
        "integer unsigned",
    ] {
        assert_eq!(ty(d), "bigint", "{d}");
    }
}

#[test]
fn floating_is_double_never_real() {
    for d in [
        "REAL",
        "FLOAT",
        "DOUBLE",
        "double precision",
        "Double Precision",
        "float(24)",
    ] {
        assert_eq!(ty(d), "double precision", "{d}");
    }
}

#[test]
fn numeric_keeps_valid_precision() {
    assert_eq!(ty("NUMERIC"), "numeric");
    assert_eq!(ty("DECIMAL"), "numeric");
    assert_eq!(ty("decimal(10,2)"), "numeric(10,2)");
    assert_eq!(ty("decimal(10, 2)"), "numeric(10,2)");
    assert_eq!(ty("NUMERIC(7)"), "numeric(7,0)");
    assert_eq!(ty("decimal(2,5)"), "numeric");
    assert_eq!(ty("decimal(0)"), "numeric");
    assert_eq!(ty("decimal(a,b)"), "numeric");
    assert_eq!(ty("money"), "numeric");
}

#[test]
fn character_types_are_text() {
    for d in [
        "TEXT",
        "CHAR",
        "CLOB",
        "VARCHAR(255)",
        "NVARCHAR(20)",
        "native character(70)",
        "varying character(255)",
        "character",
        "",
        "   ",
    ] {
        assert_eq!(ty(d), "text", "{d:?}");
    }
}

#[test]
fn specific_names() {
    assert_eq!(ty("BLOB"), "bytea");
    assert_eq!(ty("BOOLEAN"), "boolean");
    assert_eq!(ty("bool"), "boolean");
    assert_eq!(ty("DATE"), "date");
    assert_eq!(ty("DATETIME"), "timestamp");
    assert_eq!(ty("timestamp"), "timestamp");
    assert_eq!(ty("TIME"), "time");
    assert_eq!(ty("JSON"), "jsonb");
    assert_eq!(ty("UUID"), "uuid");
    assert_eq!(ty("GUID"), "uuid");
    // Affinity fallbacks.
    assert_eq!(ty("point"), "bigint"); // contains INT, as in SQLite
    assert_eq!(ty("my_blob_t"), "bytea");
    assert_eq!(ty("floating point"), "bigint"); // INT wins over FLOA in SQLite
    assert_eq!(ty("doublish"), "double precision");
}

fn d(raw: &str, t: &str) -> Result<Option<String>, String> {
    translate_default(raw, &PgType::parse(t).unwrap())
}
fn ok(raw: &str, t: &str) -> String {
    d(raw, t).unwrap().unwrap()
}

#[test]
fn now_defaults() {
    assert_eq!(ok("CURRENT_TIMESTAMP", "timestamptz"), "CURRENT_TIMESTAMP");
    assert_eq!(ok("datetime('now')", "timestamptz"), "CURRENT_TIMESTAMP");
    assert_eq!(ok("(datetime('now'))", "timestamptz"), "CURRENT_TIMESTAMP");
    assert_eq!(
        ok("datetime('now','localtime')", "timestamptz"),
        "CURRENT_TIMESTAMP"
    );
    assert_eq!(
        ok("DATETIME( 'now' , 'utc' )", "timestamptz"),
        "CURRENT_TIMESTAMP"
    );
    assert_eq!(ok("CURRENT_DATE", "date"), "CURRENT_DATE");
    assert_eq!(ok("date('now')", "date"), "CURRENT_DATE");
    assert_eq!(ok("CURRENT_TIME", "time"), "CURRENT_TIME");
    assert_eq!(
        ok("strftime('%s','now')", "bigint"),
        "(extract(epoch from now()))::bigint"
    );
    assert_eq!(
        ok("unixepoch()", "bigint"),
        "(extract(epoch from now()))::bigint"
    );
    assert_eq!(
        ok("strftime('%Y-%m-%d %H:%M:%f','now')", "timestamptz"),
        "CURRENT_TIMESTAMP"
    );
    assert_eq!(
        ok("(strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))", "text"),
        "to_char((now() AT TIME ZONE 'UTC'), 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"')"
    );
    assert_eq!(
        ok("CURRENT_TIMESTAMP", "text"),
        "to_char((now() AT TIME ZONE 'UTC'), 'YYYY-MM-DD HH24:MI:SS')"
    );
    assert!(d("strftime('%Y-%m-%d %H:%M:%f','now')", "bigint").is_err());
    assert!(d("CURRENT_TIMESTAMP", "bigint").is_err());
    assert!(d("datetime('now', '+1 day')", "timestamptz").is_err());
    assert!(d("strftime('%w','now')", "text").is_err());
}

/// CAST around a translatable default, where the cast gives what the
/// column holds anyway (issue 26's repro, and its TEXT form).
#[test]
fn cast_defaults() {
    let epoch = "(extract(epoch from now()))::bigint";
    assert_eq!(
        ok("(CAST(strftime('%s','now') AS INTEGER))", "bigint"),
        epoch
    );
    assert_eq!(ok("cast( unixepoch() as int )", "integer"), epoch);
    assert_eq!(
        ok("CAST(CURRENT_TIMESTAMP AS TEXT)", "text"),
        "to_char((now() AT TIME ZONE 'UTC'), 'YYYY-MM-DD HH24:MI:SS')"
    );
    assert_eq!(ok("CAST(0 AS TEXT)", "text"), "'0'");
    assert_eq!(
        ok("CAST(strftime('%s','now') AS INTEGER)", "timestamptz"),
        "CURRENT_TIMESTAMP"
    );
    assert_eq!(
        ok("CAST(julianday('now') AS REAL)", "double precision"),
        "(extract(epoch from now()) / 86400.0 + 2440587.5)"
    );
    // A cast that changes the value is not carried over.
    assert!(d("CAST(julianday('now') AS INTEGER)", "bigint").is_err());
    assert!(d("CAST(strftime('%s','now') AS TEXT)", "bigint").is_err());
    assert!(d("CAST('abc' AS INTEGER)", "bigint").is_err());
    assert!(d("CAST(x AS)", "bigint").is_err());
}

#[test]
fn literal_defaults() {
    assert_eq!(ok("0", "bigint"), "0");
    assert_eq!(ok("-1", "bigint"), "-1");
    assert_eq!(ok("'30'", "bigint"), "30");
    assert_eq!(ok("0.0", "double precision"), "0.0");
    assert_eq!(ok("'2.5'", "numeric(10,2)"), "2.5");
    assert_eq!(ok("0x10", "bigint"), "16");
    assert_eq!(ok("1.0", "bigint"), "1");
    assert!(d("1.5", "bigint").is_err());
    assert!(d("''", "bigint").is_err());
    assert!(d("70000", "smallint").is_err());
    assert_eq!(ok("0", "text"), "'0'");
    assert_eq!(ok("'pending'", "text"), "'pending'");
    assert_eq!(ok("'it''s'", "text"), "'it''s'");
    assert_eq!(ok("'a\\b'", "text"), "E'a\\\\b'");
    assert_eq!(ok("\"legacy\"", "text"), "'legacy'");
    assert_eq!(d("NULL", "text"), Ok(None));
    assert_eq!(d("(NULL)", "bigint"), Ok(None));
    assert_eq!(ok("X'ABCD'", "bytea"), "'\\xabcd'::bytea");
    assert!(d("X'ABCD'", "text").is_err());
    assert!(d("lower('X')", "text").is_err());
    assert!(d("1 + 1", "bigint").is_err());
}

#[test]
fn boolean_defaults() {
    for (raw, want) in [
        ("0", "false"),
        ("1", "true"),
        ("'t'", "true"),
        ("'f'", "false"),
        ("TRUE", "true"),
        ("FALSE", "false"),
        ("'yes'", "true"),
    ] {
        assert_eq!(ok(raw, "boolean"), want, "{raw}");
    }
    assert!(d("2", "boolean").is_err());
    assert_eq!(ok("TRUE", "bigint"), "1");
}

#[test]
fn typed_literal_defaults() {
    assert_eq!(ok("'{}'", "jsonb"), "'{}'");
    assert_eq!(ok("'[]'", "jsonb"), "'[]'");
    assert!(d("'pending'", "jsonb").is_err());
    assert_eq!(ok("'1970-01-01'", "date"), "'1970-01-01'");
    assert_eq!(
        ok("'1970-01-01 00:00:00'", "timestamptz"),
        "'1970-01-01 00:00:00+00'"
    );
    assert!(d("'soon'", "timestamptz").is_err());
    assert!(d("0", "timestamptz").is_err());
    assert_eq!(
        ok("'A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11'", "uuid"),
        "'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'"
    );
}

#[test]
fn expressions_translate() {
    let t = |s: &str| translate_expr(s);
    assert_eq!(
        t("status IN ('a', 'b')").as_deref(),
        Some("\"status\" IN ('a', 'b')")
    );
    assert_eq!(t("price >= 0").as_deref(), Some("\"price\" >= 0"));
    assert_eq!(t("a == b").as_deref(), Some("\"a\" = \"b\""));
    assert_eq!(
        t("length(name) > 0 AND name IS NOT NULL").as_deref(),
        Some("length(\"name\") > 0 AND \"name\" IS NOT NULL")
    );
    assert_eq!(
        t("ifnull(x, 0) <> 1").as_deref(),
        Some("coalesce(\"x\", 0) <> 1")
    );
    assert_eq!(
        t("`Mixed Col` || [other] != 'x'").as_deref(),
        Some("\"Mixed Col\" || \"other\" != 'x'")
    );
    assert_eq!(
        t("lower(email) LIKE '%@x.org'").as_deref(),
        Some(
            "translate(\"email\", 'ABCDEFGHIJKLMNOPQRSTUVWXYZ', 'abcdefghijklmnopqrstuvwxyz') \
             ILIKE '%@x.org'"
        )
    );
    assert_eq!(
        t("deleted_at ISNULL").as_deref(),
        Some("\"deleted_at\" IS NULL")
    );
    assert_eq!(
        t("deleted_at NOT NULL").as_deref(),
        Some("\"deleted_at\" IS NOT NULL")
    );
    assert_eq!(
        t("a IS b").as_deref(),
        Some("\"a\" IS NOT DISTINCT FROM \"b\"")
    );
    assert_eq!(
        t("NOT (a > 1 OR b < 2)").as_deref(),
        Some("NOT (\"a\" > 1 OR \"b\" < 2)")
    );
    assert_eq!(
        t("CAST(x AS INTEGER) > 0").as_deref(),
        Some("CAST(\"x\" AS bigint) > 0")
    );
    assert_eq!(
        t("CASE WHEN a > 0 THEN 1 ELSE 0 END = 1").as_deref(),
        Some("CASE WHEN \"a\" > 0 THEN 1 ELSE 0 END = 1")
    );
    assert_eq!(t("\"select\" > 0").as_deref(), Some("\"select\" > 0"));
    assert_eq!(
        t("x > -1 AND y - 2 < 0").as_deref(),
        Some("\"x\" > -1 AND \"y\" - 2 < 0")
    );
    assert_eq!(t("\"a\"\"b\" > 0").as_deref(), Some("\"a\"\"b\" > 0"));
}

#[test]
fn expressions_rejected() {
    for s in [
        "datetime(created_at) > '2020'",
        "strftime('%Y', d) = '2020'",
        "julianday(a) > 0",
        "name GLOB '[a-z]*'",
        "typeof(x) = 'integer'",
        "x = ?",
        "t.x > 0",
        "name COLLATE NOCASE = 'a'",
        "x IN (SELECT 1)",
        "(a > 1",
        "json_valid(body)",
        "a -> '$.x'",
    ] {
        assert_eq!(translate_expr(s), None, "{s}");
    }
}

#[test]
fn functions_follow_the_table_the_view_translator_uses() {
    let t = |s: &str| translate_expr(s);
    // SQLite's lower()/upper() fold A-Z only: written out, immutable.
    assert_eq!(
        t("upper(code) = 'X'").as_deref(),
        Some(
            "translate(\"code\", 'abcdefghijklmnopqrstuvwxyz', 'ABCDEFGHIJKLMNOPQRSTUVWXYZ') = 'X'"
        )
    );
    assert_eq!(
        t("length(trim(a, 'x')) > 0").as_deref(),
        Some("length(btrim(\"a\", 'x')) > 0")
    );
    assert_eq!(
        t("substring(a, 2, 3) <> ''").as_deref(),
        Some("substr(\"a\", 2, 3) <> ''")
    );
    for s in [
        // Another number of arguments than SQLite's own.
        "lower(a, b) = 'x'",
        "coalesce(a) > 0",
        // least()/greatest() skip NULLs where SQLite's min()/max() give NULL.
        "max(a, b) < 10",
        // An aggregate, or the current time: no value of one row.
        "max(a) < 10",
        "date('now') > d",
        // SQLite counts a negative start from the end.
        "substr(a, -2) = 'xy'",
    ] {
        assert_eq!(translate_expr(s), None, "{s}");
    }
}

#[test]
fn column_uses_are_reported() {
    let mut res = |n: &str| Some(n.to_ascii_lowercase());
    let (sql, uses) = translate_expr_with("Active AND deleted IS NULL", &mut res).unwrap();
    assert_eq!(sql, "\"active\" AND \"deleted\" IS NULL");
    assert!(uses[0].truth && !uses[0].null_test);
    assert!(uses[1].null_test && !uses[1].truth);
    let (_, uses) = translate_expr_with("lower(x) = 'a'", &mut res).unwrap();
    assert!(!uses[0].truth);
    let (_, uses) = translate_expr_with("x IN (0, 1)", &mut res).unwrap();
    assert!(!uses[0].truth);
    // Unknown bare names are refused; unknown "quoted" ones are strings.
    let mut none = |_: &str| None;
    assert_eq!(translate_expr_with("x > 0", &mut none), None);
    assert_eq!(
        translate_expr_with("1 = \"a\"", &mut none).unwrap().0,
        "1 = 'a'"
    );
}

#[test]
fn year_zero_defaults_are_1_bc_and_zero_dates_are_refused_by_name() {
    // ISO year 0 is 1 BC: what SQLite's date functions mean by it.
    assert_eq!(
        ok("'0000-01-01T00:00:00.000Z'", "timestamptz"),
        "'0001-01-01 00:00:00+00 BC'"
    );
    assert_eq!(
        ok("'0000-01-01T00:00:00.000Z'", "timestamp"),
        "'0001-01-01 00:00:00 BC'"
    );
    assert_eq!(
        ok("'0000-03-04 05:06:07.5'", "timestamp"),
        "'0001-03-04 05:06:07.500 BC'"
    );
    assert_eq!(ok("'0000-01-01'", "date"), "'0001-01-01 BC'");
    assert_eq!(
        ok("'0000-01-01 00:00:00'", "timestamptz"),
        "'0001-01-01 00:00:00+00 BC'"
    );
    // Ordinary years are unchanged.
    assert_eq!(
        ok("'2024-01-02 03:04:05'", "timestamp"),
        "'2024-01-02 03:04:05'"
    );
    // MySQL's zero date names no day: refused, saying why.
    for t in ["timestamp", "timestamptz", "date"] {
        let e = d("'0000-00-00 00:00:00'", t).unwrap_err();
        assert!(e.contains("zero date"), "{e}");
    }
    assert!(d("'0000-00-00'", "date").unwrap_err().contains("zero date"));
}

#[test]
fn local_time_defaults_follow_the_pipeline_timezone_with_a_note() {
    let tr = |raw: &str, t: &str| {
        translate_default_in(raw, &PgType::parse(t).unwrap(), "America/New_York").unwrap()
    };
    let t = tr("datetime('now','localtime')", "timestamp");
    assert_eq!(
        t.default.as_deref(),
        Some("(now() AT TIME ZONE 'America/New_York')")
    );
    let note = t.note.unwrap();
    assert!(
        note.contains("America/New_York") && note.contains("localtime"),
        "{note}"
    );
    assert_eq!(
        tr("(date('now','localtime'))", "date").default.as_deref(),
        Some("((now() AT TIME ZONE 'America/New_York'))::date")
    );
    assert_eq!(
        tr("strftime('%Y-%m-%d %H:%M','now','localtime')", "text")
            .default
            .as_deref(),
        Some("to_char((now() AT TIME ZONE 'America/New_York'), 'YYYY-MM-DD HH24:MI')")
    );
    // An instant is the same instant in every zone.
    let t = tr("datetime('now','localtime')", "timestamptz");
    assert_eq!(t.default.as_deref(), Some("CURRENT_TIMESTAMP"));
    // Plain "now" is UTC, as before, with nothing to say.
    let t = tr("CURRENT_TIMESTAMP", "timestamp");
    assert_eq!(t.default.as_deref(), Some("(now() AT TIME ZONE 'UTC')"));
    assert_eq!(t.note, None);
}

#[test]
fn a_default_the_type_cannot_hold_is_refused() {
    assert!(d("'abc'", "bigint").is_err());
    assert!(d("'abc'", "boolean").is_err());
    assert!(d("'not json'", "jsonb").is_err());
    assert!(d("'2024-13-45'", "date").is_err());
}
