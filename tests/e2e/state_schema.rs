//! The state schema is versioned: a target whose state was written before
//! versioning (by the releases up to 3b51e22) is upgraded in place, its
//! runs kept and resumable; a state schema newer than the binary knows is
//! refused with a clear message, by `run` and by the read-only commands.

use crate::common::*;

/// The state DDL exactly as the binary before versioning created it.
const STATE_BEFORE_VERSIONING: &str = include_str!("../fixtures/state_before_versioning.sql");

#[test]
fn a_state_schema_written_before_versioning_is_upgraded_in_place() {
    let db = TestDb::new();
    db.exec(STATE_BEFORE_VERSIONING);
    // A finished run of another pipeline, recorded the old way, survives.
    db.exec(
        "INSERT INTO sqlite2pg.runs (pipeline, target_schema, source_path, fingerprint, mapping_hash, status) \
         VALUES ('older', 'public', 'x.db', '{}', 'h', 'done')",
    );
    let (_dir, toml) = mapped_fixture(
        "CREATE TABLE t (id INTEGER PRIMARY KEY, a TEXT); INSERT INTO t VALUES (1, 'x');",
    );
    let o = run_pipeline(&toml, &db.url, &[]);
    assert_exit(
        &o,
        0,
        &["upgraded the sqlite2pg state schema in the target from version 1 to 5"],
    );
    assert_eq!(
        db.scalar(
            "SELECT string_agg(version::text, ',' ORDER BY version) FROM sqlite2pg.schema_version"
        ),
        "1,2,3,4,5"
    );
    assert_eq!(
        db.scalar(
            "SELECT string_agg(pipeline || ':' || status, ',' ORDER BY run_id) FROM sqlite2pg.runs"
        ),
        "older:done,p:done"
    );
    // Version 2's change is in force: a run may be recorded as interrupted.
    db.exec("UPDATE sqlite2pg.runs SET status = 'interrupted' WHERE pipeline = 'older'");
    // Version 3's: each committed chunk has its content checksum.
    assert_eq!(
        db.scalar(
            "SELECT count(*) FROM sqlite2pg.chunks WHERE content_sum IS NULL AND status = 'done'"
        ),
        "0"
    );
    // A second run finds the schema current and changes nothing.
    let o = run_pipeline(&toml, &db.url, &[]);
    assert_exit(&o, 0, &[]);
    assert!(!stderr(&o).contains("upgraded"), "{}", stderr(&o));
    assert_eq!(
        db.scalar("SELECT count(*) FROM sqlite2pg.schema_version"),
        "5"
    );
}

#[test]
fn a_state_schema_newer_than_the_binary_is_refused() {
    let db = TestDb::new();
    let (_dir, toml) =
        mapped_fixture("CREATE TABLE t (id INTEGER PRIMARY KEY); INSERT INTO t VALUES (1);");
    let o = run_pipeline(&toml, &db.url, &[]);
    assert_exit(&o, 0, &[]);
    db.exec("INSERT INTO sqlite2pg.schema_version (version, description) VALUES (99, 'from the future')");
    let toml = toml.to_str().unwrap();
    for args in [
        vec!["run", toml, "--target", &db.url, "--fresh"],
        vec!["status", toml, "--target", &db.url],
        vec!["verify", toml, "--target", &db.url],
    ] {
        let o = sqlite2pg(&args);
        assert_exit(
            &o,
            4,
            &["state schema is version 99", "knows versions up to 5"],
        );
    }
    // Nothing was written by the refused run.
    assert_eq!(db.scalar("SELECT count(*) FROM sqlite2pg.runs"), "1");
}

/// A target loaded by an earlier version (state schema 3: no
/// `largest_row`, no `rows_rule`): `verify` and `status`, which never
/// upgrade it, read it.
#[test]
fn verify_and_status_read_a_state_schema_of_the_previous_version() {
    let db = TestDb::new();
    let (_dir, toml) = mapped_fixture(
        "CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT); INSERT INTO t VALUES (1, 'a');",
    );
    let o = run_pipeline(&toml, &db.url, &[]);
    assert_exit(&o, 0, &[]);
    db.exec(
        "ALTER TABLE sqlite2pg.chunks DROP COLUMN largest_row; \
         ALTER TABLE sqlite2pg.tables DROP COLUMN rows_rule; \
         DELETE FROM sqlite2pg.schema_version WHERE version IN (4, 5)",
    );
    let toml = toml.to_str().unwrap();
    for args in [
        vec!["verify", toml, "--target", &db.url],
        vec!["status", toml, "--target", &db.url],
    ] {
        let o = sqlite2pg(&args);
        assert_exit(&o, 0, &[]);
    }
}
