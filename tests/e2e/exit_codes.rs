//! Exit codes that tell the truth: `verify` on a source holding what the
//! mapping does not mention, and the other cases of docs/cli.md's list
//! that once gave a code saying something else.

use crate::common::*;
use rusqlite::Connection;

/// After a finished run, a column (20,000 values) and a table are added to
/// the source: `verify` exits 3 naming both (before, it said OK), as `run`
/// and `check` refuse the same drift with 2.
#[test]
fn verify_with_a_column_and_a_table_the_mapping_does_not_mention_exits_3() {
    let (dir, src) = sqlite_fixture(
        "CREATE TABLE users (id INTEGER PRIMARY KEY, email TEXT);
         WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 20000)
         INSERT INTO users SELECT i, 'u' || i || '@example.com' FROM n;",
    );
    let toml = dir.path().join("app.toml");
    init_mapping(&src, &toml);
    let db = TestDb::new();
    assert_exit(&run_pipeline(&toml, &db.url, &[]), 0, &[]);
    let t = toml.to_str().unwrap();
    assert_exit(&sqlite2pg(&["verify", t, "--target", &db.url]), 0, &["OK"]);
    let c = Connection::open(&src).unwrap();
    c.execute_batch(
        "ALTER TABLE users ADD COLUMN nickname TEXT;
         UPDATE users SET nickname = 'n' || id;
         CREATE TABLE audit_log (at TEXT, what TEXT);
         INSERT INTO audit_log VALUES ('now', 'created');",
    )
    .unwrap();
    drop(c);
    let o = sqlite2pg(&["verify", t, "--target", &db.url]);
    assert_exit(
        &o,
        3,
        &[
            "table audit_log (1 rows): in the source, not in the mapping",
            "column users.nickname (TEXT): in the source, not in the mapping",
            "VERIFICATION FAILED",
        ],
    );
    let o = sqlite2pg(&["verify", t, "--target", &db.url, "--json"]);
    assert_eq!(o.status.code(), Some(3));
    let json: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(json["ok"], false);
    assert_eq!(json["unmapped"].as_array().map(Vec::len), Some(2), "{json}");
}
