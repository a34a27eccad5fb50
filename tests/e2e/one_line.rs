//! The one-line move: `sqlite2pg run APP.db --target URL` (docs/cli.md).

use crate::common::*;

/// A SQLite file (found by its header, whatever its name) where `run`
/// expects a mapping: init with defaults writes `pipelines/<stem>.toml` and
/// says so, run loads, verify proves; a rerun reuses the mapping and says
/// the move is done.
#[test]
fn run_on_a_sqlite_file_moves_it_and_a_rerun_says_it_is_done() {
    let (dir, src) = sqlite_fixture(CHINOOK_SQL);
    // Not a .db name: the header decides.
    let app = dir.path().join("chinook.data");
    std::fs::rename(&src, &app).unwrap();
    let db = TestDb::new();
    let args = ["run", "chinook.data", "--target", &db.url, "--no-progress"];
    let o = sqlite2pg_in(dir.path(), &args);
    assert_exit(
        &o,
        0,
        &[
            "wrote the mapping pipelines/chinook.toml",
            "count check passed",
            "OK",
            "moved and verified",
        ],
    );
    assert!(dir.path().join("pipelines/chinook.toml").exists());
    // Lower-case names (no framework): the app's unquoted queries read them.
    assert_eq!(db.scalar("select count(*) from playlisttrack"), "5");
    let again = sqlite2pg_in(dir.path(), &args);
    assert_exit(
        &again,
        0,
        &[
            "using the existing mapping pipelines/chinook.toml",
            "already completed",
            "the move of chinook.data is done",
            "moved and verified",
        ],
    );
    assert!(!stdout(&again).contains("wrote the mapping"));
}

/// A mapping at init's path for another file is not used for this one.
#[test]
fn run_on_a_sqlite_file_refuses_a_mapping_of_another_file() {
    let (dir, src) = sqlite_fixture(CHINOOK_SQL);
    let other = dir.path().join("other");
    std::fs::create_dir(&other).unwrap();
    std::fs::copy(&src, other.join("source.db")).unwrap();
    let o = sqlite2pg_in(dir.path(), &["init", "other/source.db"]);
    assert_exit(&o, 0, &[]);
    let o = sqlite2pg_in(
        dir.path(),
        &[
            "run",
            "source.db",
            "--target",
            "postgres://nobody@127.0.0.1:1/x",
        ],
    );
    assert_exit(&o, 2, &["pipelines/source.toml exists", "-o OTHER.toml"]);
}
