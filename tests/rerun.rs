//! Rerunning parts of a pipeline on purpose: `--stage`, `--table`, `--fresh`.

mod common;
use common::*;

fn loaded_fixture(db: &TestDb) -> (tempfile::TempDir, String) {
    let (dir, src) = sqlite_fixture(FIXTURE_SQL);
    let toml = dir.path().join("p.toml");
    let o = sqlite2pg(&["init", src.to_str().unwrap(), "-o", toml.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0));
    let toml = toml.to_str().unwrap().to_string();
    let o = sqlite2pg(&["run", &toml, "--target", &db.url, "--no-progress"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    (dir, toml)
}

#[test]
fn copy_stage_rerun_of_a_done_table_replaces_its_rows_atomically() {
    let db = TestDb::new();
    let (_dir, toml) = loaded_fixture(&db);
    // Damage the target: rows lost and one changed.
    db.exec(
        "DELETE FROM events WHERE id > 50000; UPDATE events SET kind = 'tampered' WHERE id = 7",
    );
    let o = sqlite2pg(&["verify", &toml, "--target", &db.url]);
    assert_eq!(o.status.code(), Some(3));

    let o = sqlite2pg(&[
        "run",
        &toml,
        "--target",
        &db.url,
        "--no-progress",
        "--stage",
        "copy",
        "--table",
        "events",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(db.scalar("SELECT count(*) FROM events"), "100000");
    assert_eq!(
        db.scalar("SELECT count(*) - count(DISTINCT id) FROM events"),
        "0"
    );
    // The reload reopened finalize and verify for that table: a plain run
    // finishes them, and everything verifies.
    let o = sqlite2pg(&["run", &toml, "--target", &db.url, "--no-progress"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(!stdout(&o).contains("already completed"), "{}", stdout(&o));
    let o = sqlite2pg(&["verify", &toml, "--target", &db.url]);
    assert_eq!(o.status.code(), Some(0), "{}", stdout(&o));
}

#[test]
fn reloading_a_referenced_parent_alone_is_refused_and_changes_nothing() {
    let db = TestDb::new();
    let (_dir, toml) = loaded_fixture(&db);
    let o = sqlite2pg(&[
        "run",
        &toml,
        "--target",
        &db.url,
        "--no-progress",
        "--stage",
        "copy",
        "--table",
        "User Accounts",
    ]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("cannot be truncated alone"),
        "{}",
        stderr(&o)
    );
    assert_eq!(db.scalar("SELECT count(*) FROM \"User Accounts\""), "4");
    assert_eq!(db.scalar("SELECT count(*) FROM \"order\""), "4");
}

#[test]
fn unknown_table_or_stage_is_a_usage_error() {
    let db = TestDb::new();
    let (_dir, toml) = loaded_fixture(&db);
    let o = sqlite2pg(&["run", &toml, "--target", &db.url, "--table", "nope"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("nope"));
    let o = sqlite2pg(&["run", &toml, "--target", &db.url, "--stage", "bogus"]);
    assert_eq!(o.status.code(), Some(2));
}

#[test]
fn fresh_reloads_everything_without_duplicates() {
    let db = TestDb::new();
    let (_dir, toml) = loaded_fixture(&db);
    let o = sqlite2pg(&[
        "run",
        &toml,
        "--target",
        &db.url,
        "--no-progress",
        "--fresh",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(db.scalar("SELECT count(*) FROM events"), "100000");
    assert_eq!(db.scalar("SELECT count(*) FROM sqlite2pg.runs"), "2");
    let o = sqlite2pg(&["verify", &toml, "--target", &db.url]);
    assert_eq!(o.status.code(), Some(0), "{}", stdout(&o));
}
