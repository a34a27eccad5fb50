//! Loading into a schema an application's migrations made, with the column
//! types apps use: native enums, domains (with CHECKs), citext, time with
//! time zone, intervals, inet/cidr, bounded varchar/char, and arrays of
//! these from JSON array text. Values are read back from PostgreSQL as text
//! and compared with PostgreSQL's own reading of the same input.

use crate::common::*;

fn rejects(dir: &std::path::Path, table: &str) -> Vec<serde_json::Value> {
    let path = dir.join(format!("rejects/{table}.jsonl"));
    std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

const APP_SCHEMA: &str = "CREATE EXTENSION IF NOT EXISTS citext;
     CREATE TYPE status AS ENUM ('pending', 'running', 'done');
     CREATE DOMAIN positive_int AS integer CHECK (VALUE > 0);
     CREATE TABLE jobs (id bigint PRIMARY KEY, status status NOT NULL, \
       attempts positive_int, email citext);";

/// Issue 15's "done when": every row of an app-made schema with a native
/// ENUM, a domain with a CHECK and a citext column loads.
#[test]
fn enum_domain_and_citext_columns_load_every_row() {
    let db = TestDb::new();
    db.exec(APP_SCHEMA);
    let (dir, src) = sqlite_fixture(
        "CREATE TABLE jobs (id INTEGER PRIMARY KEY, status TEXT NOT NULL, attempts INTEGER, email TEXT);
         INSERT INTO jobs VALUES (1, 'pending', 1, 'Ann@Example.com'), (2, 'done', 3, NULL),
           (3, 'running', NULL, 'bob@x.org');",
    );
    let toml = dir.path().join("p.toml");
    init_mapping(&src, &toml);
    let o = run_pipeline(toml.to_str().unwrap(), &db.url, &[]);
    assert_exit(&o, 0, &[]);
    assert_eq!(
        db.query("SELECT id, status, attempts, email FROM jobs ORDER BY id"),
        [
            ["1", "pending", "1", "Ann@Example.com"],
            ["2", "done", "3", "NULL"],
            ["3", "running", "NULL", "bob@x.org"],
        ]
    );
    // citext compares without case, as the app expects.
    assert_eq!(
        db.scalar("SELECT id FROM jobs WHERE email = 'ann@example.COM'"),
        "1"
    );
    let o = sqlite2pg(&["verify", toml.to_str().unwrap(), "--target", &db.url]);
    assert_exit(&o, 0, &[]);
}

/// A label the enum does not have, and a value its domain's CHECK refuses,
/// are each a reject naming its row; every other row loads.
#[test]
fn bad_enum_label_and_domain_check_violation_are_rejects_with_their_rows() {
    let db = TestDb::new();
    db.exec(APP_SCHEMA);
    let (dir, src) = sqlite_fixture(
        "CREATE TABLE jobs (id INTEGER PRIMARY KEY, status TEXT NOT NULL, attempts INTEGER, email TEXT);
         WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 300)
         INSERT INTO jobs SELECT i, 'done', i, 'u' || i || '@x.org' FROM n;
         UPDATE jobs SET status = 'DONE' WHERE id = 7;
         UPDATE jobs SET attempts = 0 WHERE id = 150;
         UPDATE jobs SET attempts = -5 WHERE id = 151;",
    );
    let toml = dir.path().join("p.toml");
    init_mapping(&src, &toml);
    let text = std::fs::read_to_string(&toml)
        .unwrap()
        .replace("reject_limit = 0", "reject_limit = 10")
        .replace("chunk_size = 100000", "chunk_size = 100");
    std::fs::write(&toml, text).unwrap();
    let o = run_pipeline(toml.to_str().unwrap(), &db.url, &[]);
    assert_exit(&o, 3, &[]);
    assert_eq!(db.scalar("SELECT count(*) FROM jobs"), "297");
    assert_eq!(
        db.scalar("SELECT string_agg(id::text, ',' ORDER BY id) FROM (SELECT generate_series(1, 300) id EXCEPT SELECT id FROM jobs) x"),
        "7,150,151"
    );
    let mut r = rejects(dir.path(), "jobs");
    r.sort_by_key(|r| r["row"].as_str().unwrap_or_default().to_string());
    let rows: Vec<(String, String)> = r
        .iter()
        .map(|r| {
            (
                r["row"].as_str().unwrap().to_string(),
                r["column"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert_eq!(
        rows,
        [
            ("rowid 150".into(), "attempts".into()),
            ("rowid 151".into(), "attempts".into()),
            ("rowid 7".into(), "status".into()),
        ],
        "{r:?}"
    );
    let label = r[2]["reason"].as_str().unwrap();
    assert!(
        label.contains("`DONE`") && label.contains("'pending', 'running', 'done'"),
        "{label}"
    );
    let check = r[0]["reason"].as_str().unwrap();
    assert!(check.contains("positive_int_check"), "{check}");
    assert_eq!(r[0]["value"], 0);
    // verify counts the refused rows as rejects, not as missing rows.
    let o = sqlite2pg(&["verify", toml.to_str().unwrap(), "--target", &db.url]);
    assert_exit(&o, 0, &["match"]);
}

/// One cell into an application's column: the target type, the SQLite
/// cell (SQL literal), and the PostgreSQL literal it must equal (read back
/// as text, compared with PostgreSQL's own reading of that literal) or
/// `None` when it must be a reject.
struct Case(&'static str, &'static str, Option<&'static str>);

#[test]
fn app_column_types_load_as_postgres_reads_them() {
    let cases = [
        Case("time", "'12:34:56.789'", Some("12:34:56.789")),
        Case("time", "'25:00'", None),
        Case("timetz", "'12:34:56+05:30'", Some("12:34:56+05:30")),
        Case("timetz", "'12:34:00-08'", Some("12:34:00-08")),
        Case("timetz", "'23:59:59.5Z'", Some("23:59:59.5+00")),
        Case("timetz", "'12:34'", Some("12:34:00+00")),
        Case("timetz", "'12:34+99'", None),
        Case(
            "interval",
            "'1 year 2 mons 3 days 04:05:06.5'",
            Some("1 year 2 mons 3 days 04:05:06.5"),
        ),
        Case("interval", "'3 hours'", Some("3 hours")),
        Case("interval", "'P1Y2M3DT4H5M6S'", Some("P1Y2M3DT4H5M6S")),
        Case("interval", "'-1 day +02:00:00'", Some("-1 day +02:00:00")),
        Case("interval", "'1.5 days'", Some("1.5 days")),
        Case("interval", "'@ 2 hours ago'", Some("@ 2 hours ago")),
        Case("interval", "'01:30:00'", Some("01:30:00")),
        Case("interval", "'P2W'", Some("P2W")),
        Case("interval", "'PT0.5S'", Some("PT0.5S")),
        Case("interval", "'1.5 months'", None),
        Case("interval", "'soon'", None),
        Case("interval", "90", None),
        Case("inet", "'192.168.1.5/24'", Some("192.168.1.5/24")),
        Case("inet", "'10.0.0.1'", Some("10.0.0.1")),
        Case("inet", "'::1'", Some("::1")),
        Case("inet", "'2001:db8::1/64'", Some("2001:db8::1/64")),
        Case("inet", "'300.1.1.1'", None),
        Case("cidr", "'10.0.0.0/8'", Some("10.0.0.0/8")),
        Case("cidr", "'2001:db8::/32'", Some("2001:db8::/32")),
        Case("cidr", "'10.0.0.1/8'", None),
        Case("varchar(3)", "'abc'", Some("abc")),
        Case("varchar(3)", "'abcd'", None),
        Case("char(3)", "'ab'", Some("ab")),
        Case("char(3)", "'héé'", Some("héé")),
        Case("char(3)", "'abcd'", None),
        Case("citext", "'MiXeD'", Some("MiXeD")),
        Case(
            "text[]",
            r#"'["a", "b c", null, "{"]'"#,
            Some(r#"{a,"b c",NULL,"{"}"#),
        ),
        Case("text[]", "'[]'", Some("{}")),
        Case("integer[]", "'[1, 2, -3]'", Some("{1,2,-3}")),
        Case("integer[]", "'[1, 2.5]'", None),
        Case("integer[]", "'[[1, 2]]'", None),
        Case("integer[]", "'not json'", None),
        Case("integer[]", "7", None),
        Case(
            "status[]",
            r#"'["pending", "done"]'"#,
            Some("{pending,done}"),
        ),
        Case("status[]", r#"'["pending", "lost"]'"#, None),
        Case("positive_int[]", "'[1, 2]'", Some("{1,2}")),
        Case("positive_int[]", "'[1, 0]'", None),
        Case("citext[]", r#"'["A", "b"]'"#, Some("{A,b}")),
        Case("varchar(2)[]", r#"'["ab", "abc"]'"#, None),
        Case(
            "inet[]",
            r#"'["10.0.0.1", "::1/128"]'"#,
            Some("{10.0.0.1,::1/128}"),
        ),
        Case(
            "interval[]",
            r#"'["1 day", "PT1M"]'"#,
            Some(r#"{"1 day",00:01:00}"#),
        ),
        Case("timetz[]", r#"'["01:02:03+01"]'"#, Some(r#"{01:02:03+01}"#)),
        Case("numeric(6,2)[]", "'[1.5, 2]'", Some("{1.50,2.00}")),
        Case("boolean[]", "'[true, false, null]'", Some("{t,f,NULL}")),
        Case(
            "jsonb[]",
            r#"'[{"a": 1}, [2]]'"#,
            Some(r#"{"{\"a\": 1}","[2]"}"#),
        ),
        Case("date", "'2024-02-29'", Some("2024-02-29")),
    ];
    let db = TestDb::new();
    db.exec(APP_SCHEMA);
    let mut types: Vec<&str> = Vec::new();
    for c in &cases {
        if !types.contains(&c.0) {
            types.push(c.0);
        }
    }
    let mut pg = String::new();
    let mut sqlite = String::new();
    for (n, ty) in types.iter().enumerate() {
        pg.push_str(&format!(
            "CREATE TABLE t{n} (id integer PRIMARY KEY, v {ty});"
        ));
        sqlite.push_str(&format!("CREATE TABLE t{n} (id INTEGER PRIMARY KEY, v);"));
    }
    for (id, c) in cases.iter().enumerate() {
        let n = types.iter().position(|t| *t == c.0).unwrap();
        sqlite.push_str(&format!("INSERT INTO t{n} VALUES ({id}, {});", c.1));
    }
    db.exec(&pg);
    let (dir, src) = sqlite_fixture(&sqlite);
    let toml = dir.path().join("p.toml");
    init_mapping(&src, &toml);
    let text = std::fs::read_to_string(&toml)
        .unwrap()
        .replace("reject_limit = 0", "reject_limit = 1000");
    std::fs::write(&toml, text).unwrap();
    let o = run_pipeline(toml.to_str().unwrap(), &db.url, &[]);
    assert_exit(&o, 3, &[]);

    let mut failures = Vec::new();
    for (id, c) in cases.iter().enumerate() {
        let n = types.iter().position(|t| *t == c.0).unwrap();
        let got = db.query(&format!("SELECT v::text FROM t{n} WHERE id = {id}"));
        let file = dir.path().join(format!("rejects/t{n}.jsonl"));
        let all = if file.exists() {
            rejects(dir.path(), &format!("t{n}"))
        } else {
            Vec::new()
        };
        let rejected: Vec<serde_json::Value> = all
            .into_iter()
            .filter(|r| r["row"] == format!("rowid {id}"))
            .collect();
        match c.2 {
            Some(lit) => {
                let want = db.scalar(&format!(
                    "SELECT ('{}'::{})::text",
                    lit.replace('\'', "''"),
                    c.0
                ));
                if got != [[want.clone()]] {
                    failures.push(format!(
                        "{} {}: got {got:?}, PostgreSQL reads {lit:?} as {want:?}; rejects {rejected:?}",
                        c.0, c.1
                    ));
                }
            }
            None => {
                if !got.is_empty() || rejected.len() != 1 {
                    failures.push(format!(
                        "{} {}: must be a reject, got {got:?}, rejects {rejected:?}",
                        c.0, c.1
                    ));
                }
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    let o = sqlite2pg(&["verify", toml.to_str().unwrap(), "--target", &db.url]);
    assert_exit(&o, 0, &[]);
}

/// A column type with no encoder is named, with what to do, before
/// anything is written (not a failed COPY advising a rerun).
#[test]
fn a_column_type_without_an_encoder_is_named_before_anything_is_written() {
    let db = TestDb::new();
    db.exec("CREATE TABLE wallet (id bigint PRIMARY KEY, balance money, owner text)");
    let (dir, src) = sqlite_fixture(
        "CREATE TABLE wallet (id INTEGER PRIMARY KEY, balance TEXT, owner TEXT);
         INSERT INTO wallet VALUES (1, '$1.50', 'ann');",
    );
    let toml = dir.path().join("p.toml");
    init_mapping(&src, &toml);
    let o = run_pipeline(toml.to_str().unwrap(), &db.url, &[]);
    let e = stderr(&o);
    assert_exit(&o, 2, &["wallet", "balance", "money", "include = false"]);
    assert!(!e.contains("rerun the same command"), "{e}");
    assert_eq!(db.scalar("SELECT count(*) FROM wallet"), "0");
}
