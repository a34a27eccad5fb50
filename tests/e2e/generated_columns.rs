//! Generated columns (issue 14, item 7): a VIRTUAL or STORED generated
//! column whose expression translates to immutable PostgreSQL is created
//! `GENERATED ALWAYS AS (…) STORED`, left out of COPY and computed by
//! PostgreSQL, and `verify` compares its values with SQLite's; one that
//! does not translate loads as a plain column with its values copied,
//! named on `init`'s stderr with its expression.

use crate::common::*;
use std::path::Path;

/// `sqlite2pg verify` of the mapping against `db`, which must exit `code`.
fn verify_exits(toml: &Path, db: &TestDb, code: i32) -> std::process::Output {
    let o = sqlite2pg(&["verify", toml.to_str().unwrap(), "--target", &db.url]);
    assert_exit(&o, code, &[]);
    o
}

#[test]
fn translatable_generated_columns_are_computed_by_postgresql() {
    let db = TestDb::new();
    let (dir, src) = sqlite_fixture(
        "CREATE TABLE item (
           id INTEGER PRIMARY KEY,
           name TEXT NOT NULL,
           price REAL NOT NULL,
           a INTEGER NOT NULL,
           total REAL GENERATED ALWAYS AS (price * a) STORED,
           twice INTEGER AS (a * 2) VIRTUAL,
           low TEXT GENERATED ALWAYS AS (lower(name)) VIRTUAL,
           label TEXT AS (upper(substr('ä' || id, 1, 3))) VIRTUAL,
           again INTEGER AS (twice + 1) STORED
         );
         INSERT INTO item (id, name, price, a) VALUES (1, 'Bolt', 2.5, 4), (2, 'NUT', 0.1, 3);",
    );
    let toml = dir.path().join("p.toml");
    let o = init_ok(&src, &toml);
    let e = stderr(&o);
    for (col, what) in [
        (
            "total",
            "AS (price * a) STORED → GENERATED ALWAYS AS (\"price\" * \"a\") STORED",
        ),
        (
            "twice",
            "AS (a * 2) VIRTUAL → GENERATED ALWAYS AS (\"a\" * 2) STORED",
        ),
        (
            "low",
            "AS (lower(name)) VIRTUAL → GENERATED ALWAYS AS (translate(\"name\", \
             'ABCDEFGHIJKLMNOPQRSTUVWXYZ', 'abcdefghijklmnopqrstuvwxyz')) STORED",
        ),
    ] {
        assert!(
            e.contains(&format!("`item`.`{col}`: generated column {what}")),
            "{col}: {e}"
        );
    }
    // Not translatable: `||` with an integer (not immutable in
    // PostgreSQL), and a reference to another generated column.
    assert!(
        e.contains("`item`.`label`: generated column AS (upper(substr('ä' || id, 1, 3))) VIRTUAL: loaded as a plain column"),
        "{e}"
    );
    assert!(
        e.contains(
            "`item`.`again`: generated column AS (twice + 1) STORED: loaded as a plain column"
        ) && e.contains("it uses generated column `twice`"),
        "{e}"
    );
    let text = std::fs::read_to_string(&toml).unwrap();
    assert!(
        text.contains(
            "generated = \"\"\"translate(\"name\", 'ABCDEFGHIJKLMNOPQRSTUVWXYZ', \
             'abcdefghijklmnopqrstuvwxyz')\"\"\""
        ),
        "{text}"
    );

    let o = run_pipeline(&toml, &db.url, &[]);
    assert_exit(&o, 0, &[]);
    assert_eq!(
        db.query(
            "SELECT attname, attgenerated FROM pg_attribute WHERE attrelid = 'item'::regclass \
             AND attnum > 0 AND NOT attisdropped ORDER BY attnum"
        ),
        [
            ["id", ""],
            ["name", ""],
            ["price", ""],
            ["a", ""],
            ["total", "s"],
            ["twice", "s"],
            ["low", "s"],
            ["label", ""],
            ["again", ""],
        ]
        .map(|r| r.map(str::to_string).to_vec())
        .to_vec()
    );
    // SQLite's values where copied (its upper() folds ASCII only), and
    // PostgreSQL's computed ones equal to SQLite's.
    assert_eq!(
        db.query("SELECT id, total, twice, low, label, again FROM item ORDER BY id"),
        vec![
            vec!["1", "10", "8", "bolt", "ä1", "9"],
            vec!["2", "0.30000000000000004", "6", "nut", "ä2", "7"]
        ]
    );
    verify_exits(&toml, &db, 0);

    // A new row: PostgreSQL computes the generated columns (psql).
    let o = std::process::Command::new("psql")
        .args([
            db.url.as_str(),
            "-v",
            "ON_ERROR_STOP=1",
            "-Atc",
            "INSERT INTO item (name, price, a, label, again) VALUES ('Washer', 1.5, 10, 'x', 0) \
             RETURNING total, twice, low",
        ])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(stdout(&o).lines().next(), Some("15|20|washer"));
    // A generated column cannot be written.
    let e = db.refusal("INSERT INTO item (name, price, a, twice) VALUES ('x', 1, 1, 5)");
    assert!(e.contains("generated"), "{e}");
}

#[test]
fn verify_compares_generated_values_with_sqlite() {
    let db = TestDb::new();
    let (dir, src) = sqlite_fixture(
        "CREATE TABLE t (id INTEGER PRIMARY KEY, a INTEGER, d INTEGER AS (a * 2));
         INSERT INTO t (id, a) VALUES (1, 1), (2, 5);",
    );
    let toml = dir.path().join("p.toml");
    init_mapping(&src, &toml);
    let o = run_pipeline(&toml, &db.url, &[]);
    assert_exit(&o, 0, &[]);
    verify_exits(&toml, &db, 0);
    assert_eq!(
        db.scalar("SELECT attgenerated FROM pg_attribute WHERE attrelid = 't'::regclass AND attname = 'd'"),
        "s"
    );
    // A generation expression that differs from SQLite's: verify sees it.
    db.exec("ALTER TABLE t DROP COLUMN d");
    db.exec("ALTER TABLE t ADD COLUMN d bigint GENERATED ALWAYS AS (a * 3) STORED");
    let o = verify_exits(&toml, &db, 3);
    assert_exit(&o, 3, &["content checksum differs"]);
}

#[test]
fn a_generated_lower_or_upper_folds_ascii_letters_only_as_sqlites_does() {
    let db = TestDb::new();
    let (dir, src) = sqlite_fixture(
        "CREATE TABLE t (
           id INTEGER PRIMARY KEY,
           label TEXT NOT NULL,
           low TEXT GENERATED ALWAYS AS (lower(label)) VIRTUAL,
           up TEXT AS (upper(label)) STORED
         );
         INSERT INTO t (id, label) VALUES (1, 'ÀB'), (2, 'àb');",
    );
    let toml = dir.path().join("p.toml");
    init_mapping(&src, &toml);
    let o = run_pipeline(&toml, &db.url, &[]);
    assert_exit(&o, 0, &[]);
    // Still generated: translate() is immutable.
    assert_eq!(
        db.query(
            "SELECT attname, attgenerated FROM pg_attribute WHERE attrelid = 't'::regclass \
             AND attname IN ('low', 'up') ORDER BY attnum"
        ),
        [["low", "s"], ["up", "s"]]
            .map(|r| r.map(str::to_string).to_vec())
            .to_vec()
    );
    // SQLite's lower()/upper() leave À and à as they are; PostgreSQL's
    // would fold them under a UTF-8 locale.
    assert_eq!(
        db.query("SELECT id, low, up FROM t ORDER BY id"),
        vec![vec!["1", "Àb", "ÀB"], vec!["2", "àb", "àB"]]
    );
    let conn = rusqlite::Connection::open(&src).unwrap();
    let sqlite: Vec<(String, String)> = conn
        .prepare("SELECT low, up FROM t ORDER BY id")
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(
        sqlite,
        [("Àb", "ÀB"), ("àb", "àB")].map(|(l, u)| (l.to_string(), u.to_string()))
    );
    verify_exits(&toml, &db, 0);
    // A row PostgreSQL computes itself folds the same way.
    db.exec("INSERT INTO t (id, label) VALUES (3, 'Éa')");
    assert_eq!(
        db.query("SELECT low, up FROM t WHERE id = 3"),
        vec![vec!["Éa", "ÉA"]]
    );
}
