//! Round trips through PostgreSQL, one conversion family per test: a SQLite
//! table with hand-written cells of every storage class, a hand-written
//! mapping with explicit types and options, `run`, then the values read back
//! from PostgreSQL compared with expected literals. Rows that must be
//! rejected are asserted exactly (row and column) in `rejects/<table>.jsonl`.
//!
//! Every family is a [`Case`] (fixture, mapping, exit code, expected rows,
//! expected rejects) run by [`run_case`]; a test adds code of its own only
//! for what no other family needs.

use crate::common::*;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// One conversion family: a source, a mapping, and what PostgreSQL and
/// `rejects/` must hold after `run`.
#[derive(Default)]
struct Case<'a> {
    /// SQL run in PostgreSQL before `run` (an application's own schema).
    setup: &'a str,
    /// SQL building `source.db`.
    sql: &'a str,
    /// `[tables.*]` TOML, written under `[source] path = "source.db"` and
    /// `[defaults] reject_limit = 1000`; `None`: the mapping `init` writes.
    tables: Option<&'a str>,
    /// Exit code of `run` (3: rows were rejected).
    exit: i32,
    /// Queries and the rows each must return, read in UTC with exact floats
    /// (NULL → "NULL").
    reads: &'a [Read<'a>],
    /// Per table, the exact `(row, column)` set of `rejects/<table>.jsonl`;
    /// an empty set: the file must not exist.
    rejects: &'a [(&'a str, &'a [(&'a str, &'a str)])],
    /// `(table, row, text)`: the reason of that reject contains `text`.
    reasons: &'a [(&'a str, &'a str, &'a str)],
}

struct Read<'a> {
    sql: &'a str,
    want: &'a [&'a [&'a str]],
}

/// What a case leaves behind, for checks of a test's own.
struct Ran {
    db: TestDb,
    toml: PathBuf,
    /// Holds the source, the mapping and `rejects/` until the test ends.
    _dir: tempfile::TempDir,
}

/// Build the source, write the mapping, run it into a fresh database, then
/// assert the exit code, every read, every reject set and every reason.
fn run_case(case: &Case) -> Ran {
    let db = TestDb::new();
    if !case.setup.is_empty() {
        db.exec(case.setup);
    }
    let (dir, src) = sqlite_fixture(case.sql);
    let toml = dir.path().join("p.toml");
    match case.tables {
        Some(tables) => {
            let text = format!(
                "[source]\npath = \"source.db\"\n\n[defaults]\nreject_limit = 1000\n\n{tables}"
            );
            std::fs::write(&toml, text).unwrap();
        }
        None => init_mapping(&src, &toml),
    }
    let o = run_pipeline(&toml, &db.url, &[]);
    assert_exit(&o, case.exit, &[]);
    for read in case.reads {
        assert_eq!(rows(&db, read.sql), read.want, "{}", read.sql);
    }
    for (table, want) in case.rejects {
        if want.is_empty() {
            let path = dir.path().join("rejects").join(format!("{table}.jsonl"));
            assert!(!path.exists(), "{} should not exist", path.display());
        } else {
            assert_eq!(rejects(dir.path(), table), set(want), "rejects of {table}");
        }
    }
    for (table, row, text) in case.reasons {
        let reason = reject_reason(dir.path(), table, row);
        assert!(reason.contains(text), "{table} {row}: {reason}");
    }
    Ran {
        db,
        toml,
        _dir: dir,
    }
}

/// `(row, column)` of every line of `rejects/<table>.jsonl`, checking that
/// each line names a rule and a reason.
fn rejects(dir: &Path, table: &str) -> BTreeSet<(String, String)> {
    let path = dir.join("rejects").join(format!("{table}.jsonl"));
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("reading {}: {e}", path.display()));
    text.lines()
        .map(|l| {
            let j: serde_json::Value = serde_json::from_str(l).unwrap();
            assert_eq!(j["table"], table, "{l}");
            assert!(!j["rule"].as_str().unwrap().is_empty(), "{l}");
            assert!(!j["reason"].as_str().unwrap().is_empty(), "{l}");
            (
                j["row"].as_str().unwrap().to_string(),
                j["column"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

fn set(items: &[(&str, &str)]) -> BTreeSet<(String, String)> {
    items
        .iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect()
}

/// Rows as strings, in UTC with exact floats.
fn rows(db: &TestDb, sql: &str) -> Vec<Vec<String>> {
    db.query(&format!(
        "SET TIME ZONE 'UTC'; SET extra_float_digits = 3; SET DateStyle = 'ISO, YMD'; {sql}"
    ))
}

fn reject_reason(dir: &Path, table: &str, row: &str) -> String {
    let text = std::fs::read_to_string(dir.join("rejects").join(format!("{table}.jsonl"))).unwrap();
    text.lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
        .find(|j| j["row"] == row)
        .map(|j| j["reason"].as_str().unwrap().to_string())
        .unwrap_or_else(|| panic!("no reject for {row}"))
}

#[test]
fn iso_text_timestamps_with_zones_and_source_timezone() {
    run_case(&Case {
        sql: "CREATE TABLE ts (id INTEGER PRIMARY KEY, utc TEXT, naive TEXT, berlin TEXT, berlin_naive TEXT);
        INSERT INTO ts (id, utc) VALUES
          (1, '2024-01-02 03:04:05'),
          (2, '2024-07-02T03:04:05'),
          (3, '2024-01-02 03:04:05.123456'),
          (4, '2024-01-02T03:04:05+02:00'),
          (5, '2024-01-02T03:04:05.5Z'),
          (6, '2024-01-02 03:04:05-05:30'),
          (7, '2024-01-02'),
          (8, '2024-02-30 00:00:00'),
          (9, 'not a date'),
          (10, '2024-03-31 02:30:00'),
          (11, '2024-10-27 02:30:00');
        UPDATE ts SET naive = utc, berlin = utc, berlin_naive = utc;",
        tables: Some(
            r#"
[tables.ts]
primary_key = ["id"]
[tables.ts.columns.id]
type = "bigint"
[tables.ts.columns.utc]
type = "timestamptz"
[tables.ts.columns.naive]
type = "timestamp"
[tables.ts.columns.berlin]
type = "timestamptz"
timezone = "Europe/Berlin"
[tables.ts.columns.berlin_naive]
type = "timestamp"
timezone = "Europe/Berlin"
"#,
        ),
        exit: 3,
        reads: &[Read {
            sql: "SELECT id::text, utc::text, naive::text, berlin::text, berlin_naive::text FROM ts ORDER BY id",
            want: &[
                &[
                    "1",
                    "2024-01-02 03:04:05+00",
                    "2024-01-02 03:04:05",
                    "2024-01-02 02:04:05+00",
                    "2024-01-02 03:04:05",
                ],
                &[
                    "2",
                    "2024-07-02 03:04:05+00",
                    "2024-07-02 03:04:05",
                    "2024-07-02 01:04:05+00",
                    "2024-07-02 03:04:05",
                ],
                &[
                    "3",
                    "2024-01-02 03:04:05.123456+00",
                    "2024-01-02 03:04:05.123456",
                    "2024-01-02 02:04:05.123456+00",
                    "2024-01-02 03:04:05.123456",
                ],
                // An explicit offset is an instant: the source time zone
                // does not apply; a `timestamp` column gets the wall clock
                // of the source zone.
                &[
                    "4",
                    "2024-01-02 01:04:05+00",
                    "2024-01-02 01:04:05",
                    "2024-01-02 01:04:05+00",
                    "2024-01-02 02:04:05",
                ],
                &[
                    "5",
                    "2024-01-02 03:04:05.5+00",
                    "2024-01-02 03:04:05.5",
                    "2024-01-02 03:04:05.5+00",
                    "2024-01-02 04:04:05.5",
                ],
                &[
                    "6",
                    "2024-01-02 08:34:05+00",
                    "2024-01-02 08:34:05",
                    "2024-01-02 08:34:05+00",
                    "2024-01-02 09:34:05",
                ],
                &[
                    "7",
                    "2024-01-02 00:00:00+00",
                    "2024-01-02 00:00:00",
                    "2024-01-01 23:00:00+00",
                    "2024-01-02 00:00:00",
                ],
            ],
        }],
        rejects: &[(
            "ts",
            &[
                ("rowid 8", "utc"),
                ("rowid 9", "utc"),
                // Europe/Berlin: 02:30 does not exist on 2024-03-31 and
                // exists twice on 2024-10-27; neither is guessed.
                ("rowid 10", "berlin"),
                ("rowid 11", "berlin"),
            ],
        )],
        ..Case::default()
    });
}

#[test]
fn epoch_units_julian_day_and_dates() {
    run_case(&Case {
        sql: "CREATE TABLE ep (id INTEGER PRIMARY KEY, s, ms, us, jd, s_naive, d);
        INSERT INTO ep VALUES
          (1, 1700000000, 1700000000123, 1700000000123456, 2460263.5, 1700000000, 1699920000),
          (2, 1700000000.5, -1000, 0, 2440587.5, 1700000000.5, 0),
          (3, 0, 0, 0, 2440587.5, 0, 1700000000),
          (4, '2024-01-02 03:04:05', 0, 0, 2440587.5, 0, '2024-01-02'),
          (5, 0, 0, 0, 2440587.5, 0, '2024-01-02 03:00:00');",
        tables: Some(
            r#"
[tables.ep]
[tables.ep.columns.id]
type = "bigint"
[tables.ep.columns.s]
type = "timestamptz"
epoch = "s"
[tables.ep.columns.ms]
type = "timestamptz"
epoch = "ms"
[tables.ep.columns.us]
type = "timestamptz"
epoch = "us"
[tables.ep.columns.jd]
type = "timestamptz"
epoch = "julian_day"
[tables.ep.columns.s_naive]
type = "timestamp"
epoch = "s"
timezone = "Europe/Berlin"
[tables.ep.columns.d]
type = "date"
epoch = "s"
"#,
        ),
        exit: 3,
        reads: &[Read {
            sql: "SELECT id::text, s::text, ms::text, us::text, jd::text, s_naive::text, d::text FROM ep ORDER BY id",
            want: &[
                &[
                    "1",
                    "2023-11-14 22:13:20+00",
                    "2023-11-14 22:13:20.123+00",
                    "2023-11-14 22:13:20.123456+00",
                    "2023-11-15 00:00:00+00",
                    "2023-11-14 23:13:20",
                    "2023-11-14",
                ],
                &[
                    "2",
                    "2023-11-14 22:13:20.5+00",
                    "1969-12-31 23:59:59+00",
                    "1970-01-01 00:00:00+00",
                    "1970-01-01 00:00:00+00",
                    "2023-11-14 23:13:20.5",
                    "1970-01-01",
                ],
                // ISO text still works in an epoch column.
                &[
                    "4",
                    "2024-01-02 03:04:05+00",
                    "1970-01-01 00:00:00+00",
                    "1970-01-01 00:00:00+00",
                    "1970-01-01 00:00:00+00",
                    "1970-01-01 01:00:00",
                    "2024-01-02",
                ],
            ],
        }],
        // A date column takes a time only at midnight.
        rejects: &[("ep", &[("rowid 3", "d"), ("rowid 5", "d")])],
        ..Case::default()
    });
}

#[test]
fn booleans_in_every_spelling() {
    run_case(&Case {
        sql: "CREATE TABLE b (id INTEGER PRIMARY KEY, v);
        INSERT INTO b VALUES
          (1, 0), (2, 1), (3, 't'), (4, 'f'), (5, 'true'), (6, 'false'), (7, 'yes'), (8, 'no'),
          (9, 'on'), (10, 'off'), (11, 'TRUE'), (12, 'Yes'), (13, 'OFF'), (14, '1'), (15, '0'),
          (16, 1.0), (17, NULL), (18, 'F'),
          (20, 2), (21, 'maybe'), (22, ''), (23, 0.5);",
        tables: Some(
            r#"
[tables.b]
[tables.b.columns.id]
type = "bigint"
[tables.b.columns.v]
type = "boolean"
"#,
        ),
        exit: 3,
        reads: &[Read {
            sql: "SELECT id || '=' || coalesce(v::text, 'NULL') FROM b ORDER BY id",
            want: &[
                &["1=false"],
                &["2=true"],
                &["3=true"],
                &["4=false"],
                &["5=true"],
                &["6=false"],
                &["7=true"],
                &["8=false"],
                &["9=true"],
                &["10=false"],
                &["11=true"],
                &["12=true"],
                &["13=false"],
                &["14=true"],
                &["15=false"],
                &["16=true"],
                &["17=NULL"],
                &["18=false"],
            ],
        }],
        rejects: &[(
            "b",
            &[
                ("rowid 20", "v"),
                ("rowid 21", "v"),
                ("rowid 22", "v"),
                ("rowid 23", "v"),
            ],
        )],
        ..Case::default()
    });
}

#[test]
fn json_text_to_jsonb_and_json() {
    run_case(&Case {
        sql: r#"CREATE TABLE j (id INTEGER PRIMARY KEY, doc, raw TEXT);
        INSERT INTO j VALUES
          (1, '{"a": 1, "b": [true, null, "ü"]}', '{"b":1,  "a":2}'),
          (2, '[1,2,3]', '[]'),
          (3, '"str"', 'null'),
          (4, '42', '1'),
          (5, 7, '2'),
          (6, NULL, NULL),
          (7, '{bad json}', '{}'),
          (8, '{''a'': 1}', '{}'),
          (9, '{"a": 1}', 'not json');"#,
        tables: Some(
            r#"
[tables.j]
[tables.j.columns.id]
type = "bigint"
[tables.j.columns.doc]
type = "jsonb"
[tables.j.columns.raw]
type = "json"
"#,
        ),
        exit: 3,
        reads: &[
            Read {
                sql: "SELECT id::text, doc::text, raw::text FROM j ORDER BY id",
                want: &[
                    &[
                        "1",
                        r#"{"a": 1, "b": [true, null, "ü"]}"#,
                        r#"{"b":1,  "a":2}"#,
                    ],
                    &["2", "[1, 2, 3]", "[]"],
                    &["3", r#""str""#, "null"],
                    &["4", "42", "1"],
                    &["5", "7", "2"],
                    &["6", "NULL", "NULL"],
                ],
            },
            Read {
                sql: "SELECT jsonb_typeof(doc) || ' ' || (doc->'b'->>2) FROM j WHERE id = 1",
                want: &[&["object ü"]],
            },
        ],
        rejects: &[(
            "j",
            &[("rowid 7", "doc"), ("rowid 8", "doc"), ("rowid 9", "raw")],
        )],
        reasons: &[("j", "rowid 7", "not valid JSON")],
        ..Case::default()
    });
}

#[test]
fn uuid_text_with_and_without_dashes_and_blobs() {
    run_case(&Case {
        sql: "CREATE TABLE u (id INTEGER PRIMARY KEY, v);
        INSERT INTO u VALUES
          (1, 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'),
          (2, 'A0EEBC999C0B4EF8BB6D6BB9BD380A12'),
          (3, x'a0eebc999c0b4ef8bb6d6bb9bd380a13'),
          (4, NULL),
          (5, 'not-a-uuid'),
          (6, x'a0eebc999c0b4ef8bb6d6bb9bd380a'),
          (7, 12345);",
        tables: Some(
            r#"
[tables.u]
[tables.u.columns.id]
type = "bigint"
[tables.u.columns.v]
type = "uuid"
"#,
        ),
        exit: 3,
        reads: &[Read {
            sql: "SELECT id::text, v::text FROM u ORDER BY id",
            want: &[
                &["1", "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11"],
                &["2", "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a12"],
                &["3", "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a13"],
                &["4", "NULL"],
            ],
        }],
        rejects: &[("u", &[("rowid 5", "v"), ("rowid 6", "v"), ("rowid 7", "v")])],
        ..Case::default()
    });
}

#[test]
fn numeric_exact_and_scale_checked() {
    run_case(&Case {
        sql: "CREATE TABLE n (id INTEGER PRIMARY KEY, v, w);
        INSERT INTO n VALUES
          (1, '12345678901234567890.123456789', '12.30'),
          (2, 1.5, 3),
          (3, 9223372036854775807, 0.25),
          (4, '-0.000000000000000000001', '-99999999.99'),
          (5, 0.1, '12.300'),
          (6, 'abc', 1),
          (7, 1, '1.234'),
          (8, 1, '123456789.00'),
          (9, 1, 0.30000000000000004);",
        tables: Some(
            r#"
[tables.n]
[tables.n.columns.id]
type = "bigint"
[tables.n.columns.v]
type = "numeric"
[tables.n.columns.w]
type = "numeric(10,2)"
"#,
        ),
        exit: 3,
        reads: &[Read {
            sql: "SELECT id::text, v::text, w::text FROM n ORDER BY id",
            want: &[
                &["1", "12345678901234567890.123456789", "12.30"],
                &["2", "1.5", "3.00"],
                &["3", "9223372036854775807", "0.25"],
                &["4", "-0.000000000000000000001", "-99999999.99"],
                // A REAL goes in as its shortest round-trip decimal.
                &["5", "0.1", "12.30"],
            ],
        }],
        // Never rounded, never truncated.
        rejects: &[(
            "n",
            &[
                ("rowid 6", "v"),
                ("rowid 7", "w"),
                ("rowid 8", "w"),
                ("rowid 9", "w"),
            ],
        )],
        ..Case::default()
    });
}

#[test]
fn real_to_double_precision_is_bit_exact() {
    let values: [f64; 8] = [
        0.1,
        0.30000000000000004,
        1.7976931348623157e308,
        -2.2250738585072014e-308,
        5e-324,
        123456789.12345679,
        -0.0,
        1.0 / 3.0,
    ];
    // `v` has no declared type: a REAL-affinity column would store -0.0 as
    // the integer 0 (SQLite's own storage optimisation), losing the sign
    // before the tool ever sees it.
    let mut sql = String::from("CREATE TABLE r (id INTEGER PRIMARY KEY, v, t TEXT);");
    for (i, v) in values.iter().enumerate() {
        sql.push_str(&format!(
            "INSERT INTO r VALUES ({}, {v:e}, '{v:?}');",
            i + 1
        ));
    }
    // Row i holds values[i]: its bits from the REAL cell, then from the text.
    let bits: Vec<String> = values
        .iter()
        .map(|v| format!("{:016x}", v.to_bits()))
        .collect();
    let want: Vec<[&str; 2]> = bits.iter().map(|b| [b.as_str(), b.as_str()]).collect();
    let want: Vec<&[&str]> = want.iter().map(|r| &r[..]).collect();
    run_case(&Case {
        sql: &sql,
        tables: Some(
            r#"
[tables.r]
[tables.r.columns.id]
type = "bigint"
[tables.r.columns.v]
type = "double precision"
[tables.r.columns.t]
type = "double precision"
"#,
        ),
        exit: 0,
        reads: &[
            Read {
                sql: "SELECT format_type(atttypid, atttypmod) FROM pg_attribute WHERE attrelid = 'r'::regclass AND attname = 'v'",
                want: &[&["double precision"]],
            },
            Read {
                sql: "SELECT encode(float8send(v), 'hex'), encode(float8send(t), 'hex') FROM r ORDER BY id",
                want: &want,
            },
        ],
        ..Case::default()
    });
}

#[test]
fn integers_range_checked_and_text_digits_accepted() {
    run_case(&Case {
        sql: "CREATE TABLE i (id INTEGER PRIMARY KEY, i INTEGER, s INTEGER, b INTEGER);
        INSERT INTO i VALUES
          (1, '42', 1, 1),
          (2, 2147483647, -32768, 9223372036854775807),
          (3, -2147483648, 32767, -9223372036854775808),
          (4, 3.0, ' 7 ', '-12'),
          (5, 2147483648, 0, 0),
          (6, -2147483649, 0, 0),
          (7, 0, 40000, 0),
          (8, 3.5, 0, 0),
          (9, 0, 0, '9223372036854775808'),
          (10, 'abc', 0, 0);",
        tables: Some(
            r#"
[tables.i]
[tables.i.columns.id]
type = "bigint"
[tables.i.columns.i]
type = "integer"
[tables.i.columns.s]
type = "smallint"
[tables.i.columns.b]
type = "bigint"
"#,
        ),
        exit: 3,
        reads: &[Read {
            sql: "SELECT id::text, i::text, s::text, b::text FROM i ORDER BY id",
            want: &[
                &["1", "42", "1", "1"],
                &["2", "2147483647", "-32768", "9223372036854775807"],
                &["3", "-2147483648", "32767", "-9223372036854775808"],
                &["4", "3", "7", "-12"],
            ],
        }],
        rejects: &[(
            "i",
            &[
                ("rowid 5", "i"),
                ("rowid 6", "i"),
                ("rowid 7", "s"),
                ("rowid 8", "i"),
                ("rowid 9", "b"),
                ("rowid 10", "i"),
            ],
        )],
        reasons: &[("i", "rowid 5", "out of range")],
        ..Case::default()
    });
}

#[test]
fn invalid_utf8_rejected_replaced_or_kept_as_bytea() {
    // Invalid UTF-8 stored as TEXT (SQLite does not check), the same rows
    // in three tables.
    let rows_sql = "(1, 'héllo'), (2, CAST(x'68ff6c6c6f' AS TEXT)), (3, NULL)";
    let sql = format!(
        "CREATE TABLE u_rej (id INTEGER PRIMARY KEY, t TEXT); INSERT INTO u_rej VALUES {rows_sql};
         CREATE TABLE u_rep (id INTEGER PRIMARY KEY, t TEXT); INSERT INTO u_rep VALUES {rows_sql};
         CREATE TABLE u_raw (id INTEGER PRIMARY KEY, t TEXT); INSERT INTO u_raw VALUES {rows_sql};"
    );
    run_case(&Case {
        sql: &sql,
        tables: Some(
            r#"
[tables.u_rej]
[tables.u_rej.columns.id]
type = "bigint"
[tables.u_rej.columns.t]
type = "text"

[tables.u_rep]
[tables.u_rep.columns.id]
type = "bigint"
[tables.u_rep.columns.t]
type = "text"
invalid_utf8 = "replace"

[tables.u_raw]
[tables.u_raw.columns.id]
type = "bigint"
[tables.u_raw.columns.t]
type = "bytea"
invalid_utf8 = "bytea"
"#,
        ),
        exit: 3,
        reads: &[
            Read {
                sql: "SELECT id::text, t FROM u_rej ORDER BY id",
                want: &[&["1", "héllo"], &["3", "NULL"]],
            },
            Read {
                sql: "SELECT id::text, t FROM u_rep ORDER BY id",
                want: &[&["1", "héllo"], &["2", "h\u{fffd}llo"], &["3", "NULL"]],
            },
            Read {
                sql: "SELECT id::text, encode(t, 'hex') FROM u_raw ORDER BY id",
                want: &[&["1", "68c3a96c6c6f"], &["2", "68ff6c6c6f"], &["3", "NULL"]],
            },
        ],
        rejects: &[
            ("u_rej", &[("rowid 2", "t")]),
            ("u_rep", &[]),
            ("u_raw", &[]),
        ],
        ..Case::default()
    });
}

#[test]
fn existing_schema_gets_values_converted_to_its_own_types() {
    let ran = run_case(&Case {
        setup: "CREATE TABLE t (id integer PRIMARY KEY, name varchar(32) NOT NULL, active boolean, \
         seen timestamptz, uid uuid, doc jsonb, price numeric(10,2))",
        sql: r#"CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT NOT NULL, active BOOLEAN,
             seen DATETIME, uid TEXT, doc TEXT, price REAL);
           INSERT INTO t VALUES
             (1, 'Ann', 1, '2024-01-02 03:04:05', 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', '{"k": [1, 2]}', 12.5),
             (2, 'Bob', 0, '2024-07-08T09:10:11Z', 'A0EEBC999C0B4EF8BB6D6BB9BD380A12', '[]', 0.1),
             (3, 'Cy', NULL, NULL, NULL, NULL, NULL),
             (4, 'Dee', 1, '2024-01-02 03:04:05.25', 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a14', '"s"', 99999999.99);"#,
        tables: None,
        exit: 0,
        reads: &[
            // The app's table is kept as it was: its types, its key.
            Read {
                sql: "SELECT string_agg(attname || ' ' || format_type(atttypid, atttypmod), ', ' ORDER BY attnum) \
                      FROM pg_attribute WHERE attrelid = 't'::regclass AND attnum > 0 AND NOT attisdropped",
                want: &[&["id integer, name character varying(32), active boolean, seen timestamp with time zone, \
                           uid uuid, doc jsonb, price numeric(10,2)"]],
            },
            Read {
                sql: "SELECT id::text, name, active::text, seen::text, uid::text, doc::text, price::text FROM t ORDER BY id",
                want: &[
                    &[
                        "1",
                        "Ann",
                        "true",
                        "2024-01-02 03:04:05+00",
                        "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11",
                        r#"{"k": [1, 2]}"#,
                        "12.50",
                    ],
                    &[
                        "2",
                        "Bob",
                        "false",
                        "2024-07-08 09:10:11+00",
                        "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a12",
                        "[]",
                        "0.10",
                    ],
                    &["3", "Cy", "NULL", "NULL", "NULL", "NULL", "NULL"],
                    &[
                        "4",
                        "Dee",
                        "true",
                        "2024-01-02 03:04:05.25+00",
                        "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a14",
                        r#""s""#,
                        "99999999.99",
                    ],
                ],
            },
        ],
        ..Case::default()
    });
    let o = sqlite2pg(&[
        "verify",
        ran.toml.to_str().unwrap(),
        "--target",
        &ran.db.url,
        "--json",
    ]);
    let j: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(j["tables"][0]["source_rows"], 4, "{j}");
    assert_eq!(j["tables"][0]["target_rows"], 4, "{j}");
    assert_exit(&o, 0, &[]);
}
