//! Rerunning parts of a pipeline on purpose: `--stage`, `--table`, `--fresh`.

use crate::common::*;

fn loaded_fixture(db: &TestDb) -> (tempfile::TempDir, String) {
    let (dir, toml) = mapped_fixture(FIXTURE_SQL);
    let toml = toml.to_str().unwrap().to_string();
    let o = run_pipeline(&toml, &db.url, &[]);
    assert_exit(&o, 0, &[]);
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
    assert_exit(&o, 3, &[]);

    // The table no longer holds what was loaded (someone wrote to it): a
    // reload is refused unless the operator says to replace it anyway.
    let reload = [
        "run",
        &toml,
        "--target",
        &db.url,
        "--no-progress",
        "--stage",
        "copy",
        "--table",
        "events",
    ];
    let o = sqlite2pg(&reload);
    // Refused: a rerun as it is would be refused again (exit 4).
    assert_exit(&o, 4, &["changed since"]);
    assert_eq!(db.scalar("SELECT count(*) FROM events"), "50000");
    let mut forced = reload.to_vec();
    forced.push("--truncate");
    let o = sqlite2pg(&forced);
    assert_exit(&o, 0, &[]);
    assert_eq!(db.scalar("SELECT count(*) FROM events"), "100000");
    assert_eq!(
        db.scalar("SELECT count(*) - count(DISTINCT id) FROM events"),
        "0"
    );
    // The reload reopened finalize and verify for that table: a plain run
    // finishes them, and everything verifies.
    let o = run_pipeline(&toml, &db.url, &[]);
    assert_exit(&o, 0, &[]);
    assert!(!stdout(&o).contains("already completed"), "{}", stdout(&o));
    let o = sqlite2pg(&["verify", &toml, "--target", &db.url]);
    assert_exit(&o, 0, &[]);
}

/// A finished chinook-shape run: `--stage copy --table Artist` takes along
/// the tables that reference Artist, directly or not, empties them in one
/// TRUNCATE, loads them again and adds their foreign keys back; verify
/// passes. (Before: PostgreSQL's "cannot truncate a table referenced in a
/// foreign key constraint", exit 4, and the finished run marked failed.)
#[test]
fn reloading_a_referenced_parent_takes_along_the_tables_that_reference_it() {
    let db = TestDb::new();
    let (_dir, toml) = mapped_fixture(CHINOOK_SQL);
    let toml = toml.to_str().unwrap();
    let o = run_pipeline(toml, &db.url, &[]);
    assert_exit(&o, 0, &[]);
    let fks = "SELECT count(*) FROM pg_constraint WHERE contype = 'f' AND convalidated";
    let before = db.scalar(fks);
    let o = run_pipeline(toml, &db.url, &["--stage", "copy", "--table", "Artist"]);
    assert_exit(
        &o,
        0,
        &[
            "also reloading Album, Track, InvoiceLine, PlaylistTrack",
            "in one TRUNCATE",
            "count check passed",
        ],
    );
    for (table, rows) in [
        ("Artist", "4"),
        ("Album", "5"),
        ("Track", "6"),
        ("InvoiceLine", "5"),
        ("PlaylistTrack", "5"),
    ] {
        assert_eq!(
            db.scalar(&format!("SELECT count(*) FROM \"{table}\"")),
            rows
        );
    }
    assert_eq!(db.scalar(fks), before, "every foreign key back, validated");
    let o = sqlite2pg(&["status", toml, "--target", &db.url]);
    assert_exit(&o, 0, &["done"]);
    let o = sqlite2pg(&["verify", toml, "--target", &db.url]);
    assert_exit(&o, 0, &["OK"]);
}

/// A reload refused because a table that goes along changed since the run
/// loaded it changes nothing: the rows stay, and the finished run's record
/// stays finished.
#[test]
fn a_refused_reload_leaves_the_finished_run_finished() {
    let db = TestDb::new();
    let (_dir, toml) = mapped_fixture(CHINOOK_SQL);
    let toml = toml.to_str().unwrap();
    let o = run_pipeline(toml, &db.url, &[]);
    assert_exit(&o, 0, &[]);
    db.exec("UPDATE \"Track\" SET \"Name\" = 'edited by the app' WHERE \"TrackId\" = 1");
    let o = run_pipeline(toml, &db.url, &["--stage", "copy", "--table", "Artist"]);
    assert_exit(&o, 4, &["\"Track\"", "--truncate", "nothing was emptied"]);
    assert_eq!(
        db.scalar("SELECT status FROM sqlite2pg.runs ORDER BY run_id DESC LIMIT 1"),
        "done"
    );
    assert_eq!(
        db.scalar("SELECT \"Name\" FROM \"Track\" WHERE \"TrackId\" = 1"),
        "edited by the app"
    );
    let o = run_pipeline(toml, &db.url, &[]);
    assert_exit(&o, 0, &["already completed"]);
}

/// Regression: `run --table X` marked the whole run done, so the next plain
/// `run` said "already completed" with the other tables never loaded.
#[test]
fn a_partial_table_run_does_not_complete_the_pipeline() {
    let db = TestDb::new();
    let (_dir, toml) = mapped_fixture(FIXTURE_SQL);
    let toml = toml.to_str().unwrap();
    let o = run_pipeline(toml, &db.url, &["--table", "empty_table"]);
    assert_exit(&o, 0, &[]);
    assert_eq!(
        db.scalar("SELECT count(*) FROM pg_tables WHERE tablename = 'events'"),
        "0"
    );
    let o = run_pipeline(toml, &db.url, &[]);
    assert_exit(&o, 0, &[]);
    assert!(!stdout(&o).contains("already completed"), "{}", stdout(&o));
    assert_eq!(db.scalar("SELECT count(*) FROM events"), "100000");
    let o = sqlite2pg(&["verify", toml, "--target", &db.url]);
    assert_exit(&o, 0, &[]);
}

#[test]
fn unknown_table_or_stage_is_a_usage_error() {
    let db = TestDb::new();
    let (_dir, toml) = loaded_fixture(&db);
    let o = sqlite2pg(&["run", &toml, "--target", &db.url, "--table", "nope"]);
    assert_exit(&o, 2, &["nope"]);
    let o = sqlite2pg(&["run", &toml, "--target", &db.url, "--stage", "bogus"]);
    assert_exit(&o, 2, &[]);
}

/// The application updated 100 rows after the load: the row count is
/// unchanged, but the rows are not the ones the run loaded. Neither
/// `--stage copy` nor `--fresh` destroys them without `--truncate`; each
/// names the table and the checksum that differs.
#[test]
fn app_edits_that_keep_the_row_count_are_not_destroyed_by_a_reload() {
    let db = TestDb::new();
    let (_dir, toml) = loaded_fixture(&db);
    db.exec("UPDATE events SET kind = 'edited by the app' WHERE id <= 100");
    let copy_again = [
        "run",
        &toml,
        "--target",
        &db.url,
        "--no-progress",
        "--stage",
        "copy",
        "--table",
        "events",
    ];
    let o = sqlite2pg(&copy_again);
    assert_exit(&o, 4, &["are not the ones run", "--truncate"]);
    let o = run_pipeline(&toml, &db.url, &["--fresh"]);
    assert_exit(&o, 4, &["events", "are not the ones run"]);
    // Refused before a run was recorded; the app's rows are all there.
    assert_eq!(db.scalar("SELECT count(*) FROM sqlite2pg.runs"), "1");
    assert_eq!(
        db.scalar("SELECT count(*) FROM events WHERE kind = 'edited by the app'"),
        "100"
    );
    // Unedited, the same reloads go ahead.
    let o = run_pipeline(&toml, &db.url, &["--fresh", "--truncate"]);
    assert_exit(&o, 0, &[]);
    assert_eq!(
        db.scalar("SELECT count(*) FROM events WHERE kind = 'edited by the app'"),
        "0"
    );
    let o = sqlite2pg(&copy_again);
    assert_exit(&o, 0, &[]);
    let o = run_pipeline(&toml, &db.url, &["--fresh"]);
    assert_exit(&o, 0, &[]);
}

#[test]
fn fresh_reloads_everything_without_duplicates() {
    let db = TestDb::new();
    let (_dir, toml) = loaded_fixture(&db);
    let o = run_pipeline(&toml, &db.url, &["--fresh"]);
    assert_exit(&o, 0, &[]);
    assert_eq!(db.scalar("SELECT count(*) FROM events"), "100000");
    assert_eq!(db.scalar("SELECT count(*) FROM sqlite2pg.runs"), "2");
    let o = sqlite2pg(&["verify", &toml, "--target", &db.url]);
    assert_exit(&o, 0, &[]);
}

#[test]
fn verify_stage_rerun_after_tampering_exits_3_not_1() {
    let db = TestDb::new();
    let (_dir, toml) = loaded_fixture(&db);
    db.exec("DELETE FROM order_items WHERE line_no = 2");
    let o = run_pipeline(&toml, &db.url, &["--stage", "verify"]);
    assert_exit(&o, 3, &["order_items"]);
    assert!(
        !stderr(&o).contains("resume"),
        "rerunning would not help: {}",
        stderr(&o)
    );
}

/// A child row whose parent is missing in the source (SQLite does not
/// enforce foreign keys unless asked) that the mapping does not acknowledge
/// (`orphans`): every row loads, the run exits 3 naming the foreign key; the
/// constraint is left `NOT VALID` (it guards new writes but is not claimed
/// valid) and `verify` says so. Once the operator removes the orphan
/// from the target, a plain rerun validates it, and the count check then
/// says, truthfully, that the target holds one row fewer than the source.
#[test]
fn orphan_row_fails_finalize_and_a_rerun_validates_the_foreign_key() {
    let db = TestDb::new();
    let sql = format!(
        "PRAGMA foreign_keys = OFF;\n{FIXTURE_SQL}\nINSERT INTO order_items VALUES (999, 1, 'ORPHAN', 1);"
    );
    let (_dir, toml) = mapped_fixture(&sql);
    // init counted the orphan; here nobody acknowledges it.
    edit_mapping(&toml, "orphans = 1\n", "");
    let o = run_pipeline(&toml, &db.url, &[]);
    // Every row loaded, the key left NOT VALID: exit 3, and a rerun as it
    // is cannot help.
    assert_exit(
        &o,
        3,
        &["order_items", "1 loaded row(s) reference no parent row"],
    );
    let err = stderr(&o);
    assert!(!err.contains("rerun the same command to resume"), "{err}");
    let fk_state = "SELECT string_agg(conname || '=' || convalidated, ',') FROM pg_constraint \
                    WHERE conrelid = 'order_items'::regclass AND contype = 'f'";
    assert!(
        db.scalar(fk_state).ends_with("=false"),
        "{}",
        db.scalar(fk_state)
    );
    let o = sqlite2pg(&["verify", toml.to_str().unwrap(), "--target", &db.url]);
    assert_exit(&o, 3, &["missing parent row"]);

    db.exec("DELETE FROM order_items WHERE order_id = 999");
    let o = run_pipeline(&toml, &db.url, &[]);
    assert_exit(&o, 3, &[]);
    assert!(
        db.scalar(fk_state).ends_with("=true"),
        "{}",
        db.scalar(fk_state)
    );
    assert!(
        stderr(&o).contains("source has 5 rows, target 4, rejected 0"),
        "{}",
        stderr(&o)
    );
}

/// A row written into a prepared, still unloaded table (by someone else,
/// between `--stage prepare` and the copy) is never truncated away by a
/// whole-table load: the table loads per chunk, the row survives, and the
/// run's count check reports the extra row.
#[test]
fn a_row_written_after_prepare_is_not_truncated_by_a_whole_table_load() {
    let db = TestDb::new();
    let (_dir, toml) = mapped_fixture(FIXTURE_SQL);
    let toml = toml.to_str().unwrap();
    let o = run_pipeline(toml, &db.url, &["--stage", "prepare"]);
    assert_exit(&o, 0, &[]);
    db.exec("INSERT INTO empty_table (id, v) VALUES (42, 'written by the application')");
    let o = run_pipeline(toml, &db.url, &[]);
    assert_exit(&o, 3, &["loading it per chunk"]);
    assert_eq!(
        db.scalar("SELECT v FROM empty_table WHERE id = 42"),
        "written by the application"
    );
    assert_eq!(db.scalar("SELECT count(*) FROM events"), "100000");
}

/// A unique index PostgreSQL refuses — values SQLite kept apart by storage
/// class (integer 1, text '1') are equal once both are text — fails when it
/// is built beside the copy of the other tables; that is only logged, and
/// finalize retries it and fails the run naming the index, every row kept.
#[test]
fn a_unique_index_refused_while_copying_is_retried_and_reported_by_finalize() {
    let db = TestDb::new();
    let sql = format!(
        "{FIXTURE_SQL}\nCREATE TABLE codes (id INTEGER PRIMARY KEY, code UNIQUE);\n\
         INSERT INTO codes VALUES (1, 1), (2, '1');"
    );
    let (_dir, toml) = mapped_fixture(&sql);
    let o = run_pipeline(&toml, &db.url, &[]);
    // Duplicate values in the source: a rerun alone cannot help (exit 4).
    assert_exit(
        &o,
        4,
        &[
            "building the keys of \"public\".\"codes\" early failed; finalize retries",
            "finalize failed",
            "duplicate values in the source?",
        ],
    );
    assert_eq!(db.scalar("SELECT count(*) FROM codes"), "2");
    assert_eq!(db.scalar("SELECT count(*) FROM events"), "100000");
}

/// A view in the target schema with the name of one of the pipeline's
/// indexes: `CREATE INDEX IF NOT EXISTS` would skip the index in silence;
/// instead the run fails naming the index, the view and what to do, and
/// the data stays loaded.
#[test]
fn an_index_whose_name_is_taken_by_another_relation_fails_clearly() {
    let db = TestDb::new();
    db.exec("CREATE VIEW order_user_idx AS SELECT 1 AS one");
    let (_dir, toml) = mapped_fixture(FIXTURE_SQL);
    let o = run_pipeline(&toml, &db.url, &[]);
    assert_exit(&o, 2, &["index order_user_idx of \"public\".\"order\" cannot be created: a view of that name exists", "rename the index in the mapping"]);
    assert_eq!(db.scalar("SELECT count(*) FROM events"), "100000");
}
