//! Output that says what happened: `status` after a kill and by the run's
//! state, `init` over an existing mapping.

use crate::common::*;

/// A process killed mid-run leaves its run recorded `running` and its
/// stage `running` with every chunk committed: `status` says interrupted
/// (no process runs it), the copy "loaded" (not "partial 30/30"), and
/// exits 1; once a rerun finishes, it exits 0.
#[test]
fn status_after_a_kill_says_interrupted_and_exits_1() {
    let db = TestDb::new();
    let (_dir, toml) = mapped_fixture(CHINOOK_SQL);
    let toml = toml.to_str().unwrap();
    let o = run_pipeline(toml, &db.url, &[]);
    assert_exit(&o, 0, &[]);
    let o = sqlite2pg(&["status", toml, "--target", &db.url]);
    assert_exit(&o, 0, &["run 1 done"]);
    // What a kill during the copy leaves behind.
    db.exec(
        "UPDATE sqlite2pg.runs SET status = 'running', finished_at = NULL; \
         DELETE FROM sqlite2pg.stages WHERE stage IN ('finalize', 'verify'); \
         UPDATE sqlite2pg.stages SET status = 'running' WHERE stage = 'copy'",
    );
    let o = sqlite2pg(&["status", toml, "--target", &db.url]);
    assert_exit(
        &o,
        1,
        &[
            "run 1 interrupted",
            "no sqlite2pg process runs it",
            "loaded",
        ],
    );
    let out = stdout(&o);
    assert!(!out.contains("partial"), "{out}");
    assert!(!out.contains(" running "), "{out}");
    let o = run_pipeline(toml, &db.url, &[]);
    assert_exit(&o, 0, &[]);
    let o = sqlite2pg(&["status", toml, "--target", &db.url]);
    assert_exit(&o, 0, &["run 1 done"]);
}

/// `init` over an existing mapping: exit 2, naming `--force` and `-o`;
/// the file is left as it was.
#[test]
fn init_over_an_existing_mapping_exits_2_naming_force_and_o() {
    let (dir, src) = sqlite_fixture(CHINOOK_SQL);
    let toml = dir.path().join("p.toml");
    std::fs::write(&toml, "# mine\n").unwrap();
    let o = sqlite2pg(&["init", src.to_str().unwrap(), "-o", toml.to_str().unwrap()]);
    assert_exit(&o, 2, &["already exists", "--force", "-o OTHER.toml"]);
    assert_eq!(std::fs::read_to_string(&toml).unwrap(), "# mine\n");
}
