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

/// `--target ""` (an unset variable in `--target "$URL"`) with libpq's
/// variables set: refused (exit 2), where it loaded into whatever database
/// PGDATABASE (or the user's name) named.
#[test]
fn an_empty_target_with_pg_variables_set_is_refused() {
    let (dir, src) =
        sqlite_fixture("CREATE TABLE t (id INTEGER PRIMARY KEY); INSERT INTO t VALUES (1);");
    let toml = dir.path().join("p.toml");
    init_mapping(&src, &toml);
    let db = TestDb::new();
    let url = url::Url::parse(&db.url).unwrap();
    for command in ["run", "verify", "status"] {
        let o = std::process::Command::new(env!("CARGO_BIN_EXE_sqlite2pg"))
            .args([command, toml.to_str().unwrap(), "--target", ""])
            .env_remove("DATABASE_URL")
            .env("PGHOST", url.host_str().unwrap())
            .env("PGPORT", url.port().unwrap_or(5432).to_string())
            .env("PGUSER", url.username())
            .env("PGDATABASE", url.path().trim_start_matches('/'))
            .output()
            .unwrap();
        assert_exit(&o, 2, &["--target is empty"]);
    }
    assert_eq!(db.scalar("SELECT to_regclass('t') IS NULL"), "t");
}

/// `--snapshot-dir` missing or a regular file is the command's mistake
/// (2); a read-only one (a read-only bind mount, for real) stays so on a
/// rerun (4). Before, all three exited 1 ("rerun resumes").
#[test]
fn a_snapshot_dir_missing_a_file_or_read_only_exits_2_2_and_4() {
    let (dir, src) =
        sqlite_fixture("CREATE TABLE t (id INTEGER PRIMARY KEY); INSERT INTO t VALUES (1);");
    let toml = dir.path().join("p.toml");
    init_mapping(&src, &toml);
    let db = TestDb::new();
    let file = dir.path().join("a-file");
    std::fs::write(&file, "x").unwrap();
    for (at, words) in [
        (dir.path().join("missing"), "does not exist"),
        (file, "is not a directory"),
    ] {
        let o = run_pipeline(
            &toml,
            &db.url,
            &["--snapshot", "copy", "--snapshot-dir", at.to_str().unwrap()],
        );
        assert_exit(&o, 2, &["--snapshot-dir", words]);
    }
    let ro = dir.path().join("ro");
    std::fs::create_dir_all(&ro).unwrap();
    let script = format!(
        "mount --bind '{ro}' '{ro}' && mount -o remount,bind,ro '{ro}' && \
         ! touch '{ro}/x' 2>/dev/null && exec '{bin}' run '{toml}' --target '{url}' --no-progress \
         --snapshot copy --snapshot-dir '{ro}'",
        ro = ro.display(),
        bin = env!("CARGO_BIN_EXE_sqlite2pg"),
        toml = toml.display(),
        url = db.url,
    );
    let o = std::process::Command::new("unshare")
        .args(["-m", "sh", "-c", &script])
        .env("NO_COLOR", "1")
        .env_remove("DATABASE_URL")
        .output()
        .expect("unshare (util-linux)");
    assert_exit(&o, 4, &["--snapshot-dir", "cannot be written"]);
    assert_eq!(db.scalar("SELECT to_regclass('t') IS NULL"), "t");
}
