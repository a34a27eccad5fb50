//! What `init` upgrades on its own reads back the same (docs/conversions.md,
//! "The lossless rule"): the repros of issue 26 loaded with the mapping as
//! `init` wrote it, values read back through psql and compared with
//! SQLite's, and every change the operator should know of on the screen.

use crate::common::*;
use std::path::Path;
use std::process::Command;

/// `init` then `run` with the mapping as written, both exit 0; `init`'s
/// stderr and the mapping's text.
fn init_and_run(db: &TestDb, src: &Path, dir: &Path) -> (String, String) {
    let toml = dir.join("p.toml");
    let o = init_ok(src, &toml);
    let r = run_pipeline(&toml, &db.url, &[]);
    assert_exit(&r, 0, &[]);
    (stderr(&o), std::fs::read_to_string(&toml).unwrap())
}

/// `sqlite3 SRC SQL`, its rows as the shell prints them.
fn sqlite_rows(src: &Path, sql: &str) -> String {
    let o = Command::new("sqlite3")
        .arg(src)
        .arg(sql)
        .output()
        .expect("run sqlite3");
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    String::from_utf8(o.stdout).unwrap()
}

/// psql's rows of `sql`, `|`-separated as sqlite3 prints them.
fn pg_rows(db: &TestDb, sql: &str) -> String {
    db.query(sql)
        .into_iter()
        .map(|r| r.join("|") + "\n")
        .collect()
}

fn pg_type(db: &TestDb, table: &str, col: &str) -> String {
    db.scalar(&format!(
        "SELECT format_type(atttypid, atttypmod) FROM pg_attribute \
         WHERE attrelid = 'public.{table}'::regclass AND attname = '{col}'"
    ))
}

/// MBTiles: the tile id is a hash digest of 32 hex digits, the join key
/// of the `tiles` view every map reader queries. It stays text, the view
/// is created and answers with SQLite's rows.
#[test]
fn hash_digest_join_key_stays_text_and_the_mbtiles_view_is_kept() {
    let db = TestDb::new();
    let (dir, src) = sqlite_fixture(
        "CREATE TABLE images(tile_data blob, tile_id text);
         CREATE TABLE map(z int, x int, y int, tile_id text);
         INSERT INTO images VALUES(x'00','711949c1e6cbed7e915627dd1122fe84');
         INSERT INTO map VALUES(0,0,0,'711949c1e6cbed7e915627dd1122fe84');
         CREATE VIEW tiles AS SELECT map.z, images.tile_data FROM map
           JOIN images ON images.tile_id = map.tile_id;",
    );
    let (err, mapping) = init_and_run(&db, &src, dir.path());
    assert_eq!(pg_type(&db, "images", "tile_id"), "text");
    assert_eq!(pg_type(&db, "map", "tile_id"), "text");
    assert!(!mapping.contains("action = \"skip\""), "{mapping}");
    assert!(err.contains("kept as text"), "{err}");
    assert_eq!(
        db.scalar("SELECT tile_id FROM images"),
        "711949c1e6cbed7e915627dd1122fe84"
    );
    let want = sqlite_rows(&src, "SELECT z, hex(tile_data) FROM tiles");
    let got = pg_rows(&db, "SELECT z, upper(encode(tile_data, 'hex')) FROM tiles");
    assert_eq!(got, want);
}

/// Upper-case GUIDs (Apple's message GUIDs) read back identical; the
/// warning says why they are not `uuid` and what it would change. A
/// column of lower-case dashed UUIDs is still `uuid`.
#[test]
fn upper_case_uuids_read_back_identical() {
    let db = TestDb::new();
    let (dir, src) = sqlite_fixture(
        "CREATE TABLE m(g TEXT, ok TEXT);
         INSERT INTO m VALUES('211C37F9-0128-4CE3-8DC3-DB2F713655F1',
                              '67e55044-10b1-426f-9247-bb680e5fe0c8');",
    );
    let (err, _) = init_and_run(&db, &src, dir.path());
    assert_eq!(pg_type(&db, "m", "g"), "text");
    assert_eq!(pg_type(&db, "m", "ok"), "uuid");
    assert_eq!(
        db.scalar("SELECT g FROM m"),
        "211C37F9-0128-4CE3-8DC3-DB2F713655F1"
    );
    assert_eq!(
        db.scalar("SELECT ok FROM m"),
        "67e55044-10b1-426f-9247-bb680e5fe0c8"
    );
    for needle in [
        "`m`.`g`: every cell is a UUID",
        "lower-case and dashed",
        "`211C37F9-0128-4CE3-8DC3-DB2F713655F1` → `211c37f9-0128-4ce3-8dc3-db2f713655f1`",
    ] {
        assert!(err.contains(needle), "no `{needle}` in:\n{err}");
    }
}

/// JSON whose numbers jsonb would rewrite (an exponent, a negative zero)
/// or with a key twice is `json`, read back as written; other JSON is
/// still `jsonb`.
#[test]
fn json_with_numbers_jsonb_would_change_stays_json() {
    let db = TestDb::new();
    let doc = r#"{"big": 1.7976931348623157e308, "z": -0.0, "h": 1e2}"#;
    let dup = r#"{"a": 1, "a": 2}"#;
    let (dir, src) = sqlite_fixture(&format!(
        "CREATE TABLE d(id INTEGER PRIMARY KEY, doc TEXT, dup TEXT, plain TEXT);
         INSERT INTO d VALUES(1, '{doc}', '{dup}', '{{\"b\": 1.50, \"a\": [1, 2]}}');"
    ));
    let (err, _) = init_and_run(&db, &src, dir.path());
    assert_eq!(pg_type(&db, "d", "doc"), "json");
    assert_eq!(pg_type(&db, "d", "dup"), "json");
    assert_eq!(pg_type(&db, "d", "plain"), "jsonb");
    assert_eq!(db.scalar("SELECT doc::text FROM d"), doc);
    assert_eq!(db.scalar("SELECT dup::text FROM d"), dup);
    assert_eq!(
        db.scalar("SELECT plain::text FROM d"),
        r#"{"a": [1, 2], "b": 1.50}"#
    );
    for needle in [
        "`d`.`doc`: every cell is text holding JSON objects or arrays: upgraded to json, not jsonb",
        "which jsonb writes without its exponent",
        "the key \"a\" twice in one object",
    ] {
        assert!(err.contains(needle), "no `{needle}` in:\n{err}");
    }
}

/// A TEXT column whose cells are all blobs: valid UTF-8 ones become text
/// (said on the screen, the bytes unchanged), others bytea.
#[test]
fn blobs_in_a_text_column_are_said() {
    let db = TestDb::new();
    let (dir, src) = sqlite_fixture(
        "CREATE TABLE t(a TEXT, b TEXT); INSERT INTO t VALUES(x'490908014912', x'ff00');",
    );
    let (err, _) = init_and_run(&db, &src, dir.path());
    assert_eq!(pg_type(&db, "t", "a"), "text");
    assert_eq!(pg_type(&db, "t", "b"), "bytea");
    assert_eq!(
        db.scalar("SELECT encode(convert_to(a, 'UTF8'), 'hex') || ' ' || encode(b, 'hex') FROM t"),
        "490908014912 ff00"
    );
    for needle in [
        "`t`.`a`: 1 of its 1 cell(s) are blobs, valid UTF-8: loaded as text",
        "`t`.`b`: declared TEXT (text) but its cells are 1 blob: using bytea",
    ] {
        assert!(err.contains(needle), "no `{needle}` in:\n{err}");
    }
}

/// `check` proves init's own upgrades (`auto = true`): a cell that would
/// not read back the same (the source changed since `init`) fails it,
/// naming table, column and row.
#[test]
fn check_fails_an_auto_upgrade_that_would_change_a_value() {
    let (dir, src) = sqlite_fixture(
        r#"CREATE TABLE m(id INTEGER PRIMARY KEY, g TEXT, doc TEXT);
           INSERT INTO m VALUES(1, '67e55044-10b1-426f-9247-bb680e5fe0c8', '{"a": 1}');"#,
    );
    let toml = dir.path().join("p.toml");
    init_ok(&src, &toml);
    let mapping = std::fs::read_to_string(&toml).unwrap();
    for want in [
        "[tables.m.columns.g]\ntype = \"uuid\"\nauto = true\n",
        "[tables.m.columns.doc]\ntype = \"jsonb\"\nauto = true\n",
    ] {
        assert!(mapping.contains(want), "no {want:?} in:\n{mapping}");
    }
    let t = toml.to_str().unwrap();
    assert_exit(&sqlite2pg(&["check", t]), 0, &[]);
    rusqlite::Connection::open(&src)
        .unwrap()
        .execute_batch(
            r#"INSERT INTO m VALUES(2, 'F47AC10B-58CC-4372-A567-0E02B2C3D479', '{"a": 1e2}');"#,
        )
        .unwrap();
    assert_exit(
        &sqlite2pg(&["check", t]),
        3,
        &[
            "table m → m",
            "column g is uuid by init's own choice (auto = true), but 1 value(s) would not read back the same, \
             e.g. rowid 2: `F47AC10B-58CC-4372-A567-0E02B2C3D479` reads back `f47ac10b-58cc-4372-a567-0e02b2c3d479`",
            "column doc is jsonb by init's own choice (auto = true), but 1 value(s)",
            "e.g. rowid 2: `{\"a\": 1e2}` holds the number 1e2, which jsonb writes without its exponent",
            "2 column(s) init upgraded on its own would not read back the same",
        ],
    );
}

/// A view `init` refused only because a column it upgraded is no longer
/// text is `action = "auto"`: with the mapping as written it is not
/// created; once the operator sets the column back to text, `run` decides
/// again and creates it, answering with SQLite's rows.
#[test]
fn auto_view_comes_back_when_the_column_is_set_back_to_text() {
    let (dir, src) = sqlite_fixture(
        "CREATE TABLE s(id INTEGER PRIMARY KEY, done TEXT);
         INSERT INTO s VALUES (1, 'true'), (2, 'false'), (3, 'false');
         CREATE VIEW open AS SELECT id FROM s WHERE done = 'false';",
    );
    let toml = dir.path().join("p.toml");
    init_ok(&src, &toml);
    let mapping = std::fs::read_to_string(&toml).unwrap();
    assert!(
        mapping.contains("[views.open]\naction = \"auto\"\n"),
        "{mapping}"
    );
    let db = TestDb::new();
    let r = run_pipeline(&toml, &db.url, &[]);
    assert_exit(&r, 0, &["view `open`"]);
    assert_eq!(
        db.scalar("SELECT count(*) FROM pg_views WHERE viewname = 'open'"),
        "0"
    );
    edit_mapping(&toml, "type = \"boolean\"", "type = \"text\"");
    let db = TestDb::new();
    assert_exit(&sqlite2pg(&["check", toml.to_str().unwrap()]), 0, &[]);
    assert_exit(&run_pipeline(&toml, &db.url, &[]), 0, &[]);
    assert_eq!(
        pg_rows(&db, "SELECT id FROM open ORDER BY id"),
        sqlite_rows(&src, "SELECT id FROM open ORDER BY id")
    );
    // Verify still passes, the view compared with SQLite's.
    let v = sqlite2pg(&["verify", toml.to_str().unwrap(), "--target", &db.url]);
    assert_exit(&v, 0, &[]);
}

/// Defaults: SQLite's `CAST(strftime('%s','now') AS INTEGER)` translates
/// (PostgreSQL fills in the time for an insert that omits the column); a
/// NOT NULL column whose default is dropped stops `check` (exit 2) naming
/// it, until the mapping says what to do.
#[test]
fn cast_defaults_translate_and_a_dropped_not_null_default_stops_check() {
    let db = TestDb::new();
    let (dir, src) = sqlite_fixture(
        "CREATE TABLE t(id INTEGER PRIMARY KEY,
           a INTEGER NOT NULL DEFAULT (CAST(strftime('%s','now') AS INTEGER)),
           b TEXT NOT NULL DEFAULT (CAST(CURRENT_TIMESTAMP AS TEXT)),
           c TEXT NOT NULL DEFAULT (hex(randomblob(4))));
         INSERT INTO t(id) VALUES (1);",
    );
    let toml = dir.path().join("p.toml");
    let o = init_ok(&src, &toml);
    assert!(
        stderr(&o).contains("`t`.`c`: cannot translate default `hex(randomblob(4))`"),
        "{}",
        stderr(&o)
    );
    let t = toml.to_str().unwrap();
    assert_exit(
        &sqlite2pg(&["check", t]),
        2,
        &["table t, column c: NOT NULL, and its SQLite default `hex(randomblob(4))` is not carried over"],
    );
    edit_mapping(
        &toml,
        "[tables.t.columns.c]\ntype = \"text\"\nnot_null = true\n",
        "[tables.t.columns.c]\ntype = \"text\"\nnot_null = true\ndefault = \"upper(substr(md5(random()::text), 1, 8))\"\n",
    );
    assert_exit(&sqlite2pg(&["check", t]), 0, &[]);
    assert_exit(&run_pipeline(&toml, &db.url, &[]), 0, &[]);
    db.exec("INSERT INTO t(id) VALUES (2)");
    let row = db.query(
        "SELECT abs(a - extract(epoch from now())::bigint) < 60, \
           abs(extract(epoch from b - (now() AT TIME ZONE 'UTC'))) < 60, length(c) FROM t WHERE id = 2",
    );
    assert_eq!(row, [["t", "t", "8"]]);
}
