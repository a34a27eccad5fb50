//! Loading into a schema an application's migrations made, with the column
//! types apps use: native enums, domains (with CHECKs), citext, time with
//! time zone, intervals, inet/cidr, bounded varchar/char, and arrays of
//! these from JSON array text. Values are read back from PostgreSQL as text
//! and compared with PostgreSQL's own reading of the same input.

mod common;
use common::*;

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
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
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
    assert_eq!(o.status.code(), Some(0), "{}", stdout(&o));
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
    assert_eq!(o.status.code(), Some(3), "{}", stderr(&o));
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
    assert_eq!(o.status.code(), Some(0), "{}{}", stdout(&o), stderr(&o));
    assert!(stdout(&o).contains("match"), "{}", stdout(&o));
}
