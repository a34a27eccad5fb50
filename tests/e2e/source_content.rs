//! The source's content as evidence (issue "Safety III", silent losses 1
//! and 2): a source edited with its mtime put back is a changed source, for
//! a resume and for the rerun of a finished run; an identical copy is the
//! same source; a WAL-mode source overwritten in place during a run stops
//! it. Reuses the fixture of `source_changes` (300,000 rows, 2,000-row
//! chunks committed one by one).

use crate::common::*;
use crate::source_changes::{fixture, spawn_run, wait_for_first_commit, Fixture, ROWS};
use rusqlite::Connection;
use std::path::Path;
use std::time::SystemTime;

/// An UPDATE that keeps the file's size, with the file's mtime put back
/// afterwards (`touch -d`): only the content says it changed.
fn edit_and_put_the_mtime_back(db: &Path, v: i64) {
    let meta = std::fs::metadata(db).unwrap();
    let (size, mtime): (u64, SystemTime) = (meta.len(), meta.modified().unwrap());
    let c = Connection::open(db).unwrap();
    c.execute("UPDATE acct SET v = ?1 WHERE id = ?2", (v, ROWS))
        .unwrap();
    // The last connection closes: in WAL mode the -wal is checkpointed
    // into the file and removed.
    drop(c);
    std::fs::File::options()
        .write(true)
        .open(db)
        .unwrap()
        .set_modified(mtime)
        .unwrap();
    let now = std::fs::metadata(db).unwrap();
    assert_eq!((now.len(), now.modified().unwrap()), (size, mtime));
}

/// A copy of the same bytes put in its place: another inode, a new mtime.
fn replace_with_an_identical_copy(fx: &Fixture) {
    let copy = fx.dir.path().join("checkout.db");
    std::fs::copy(&fx.db, &copy).unwrap();
    std::fs::rename(&copy, &fx.db).unwrap();
}

fn edited_with_its_mtime_put_back_is_a_changed_source(wal: bool) {
    let fx = fixture(wal);
    let db = TestDb::new();
    // A run killed after its first chunks, then the source edited.
    let mut child = spawn_run(&fx, &db.url, &[]);
    wait_for_first_commit(&db, &mut child);
    child.kill().unwrap();
    child.wait().unwrap();
    edit_and_put_the_mtime_back(&fx.db, 1);
    let resume = run_pipeline(&fx.toml, &db.url, &[]);
    assert_exit(&resume, 4, &["its content changed", "--fresh"]);
    assert!(!stdout(&resume).contains("finished"), "{}", stdout(&resume));

    // Loaded as it is now; then edited again: the rerun says the target is
    // stale, never "already completed".
    assert_exit(&run_pipeline(&fx.toml, &db.url, &["--fresh"]), 0, &[]);
    edit_and_put_the_mtime_back(&fx.db, 0);
    let rerun = run_pipeline(&fx.toml, &db.url, &[]);
    assert_exit(
        &rerun,
        4,
        &["changed since", "its content changed", "--fresh"],
    );
    assert!(!stdout(&rerun).contains("already completed"));

    // The same bytes in a new file are the same source.
    assert_exit(&run_pipeline(&fx.toml, &db.url, &["--fresh"]), 0, &[]);
    replace_with_an_identical_copy(&fx);
    let same = run_pipeline(&fx.toml, &db.url, &[]);
    assert_exit(&same, 0, &["already completed"]);
    assert_eq!(
        db.scalar(&format!("SELECT v FROM acct WHERE id = {ROWS}")),
        "0"
    );
}

#[test]
fn edited_with_its_mtime_put_back_is_a_changed_source_in_rollback_mode() {
    edited_with_its_mtime_put_back_is_a_changed_source(false);
}

#[test]
fn edited_with_its_mtime_put_back_is_a_changed_source_in_wal_mode() {
    edited_with_its_mtime_put_back_is_a_changed_source(true);
}

/// Another state of the file written over it in place while `run` reads
/// it (`dd conv=notrunc`: same inode, same size, no commit SQLite sees).
/// In WAL mode `data_version` does not move; the run must still stop
/// (exit 4, naming the file) before it commits a row of the new bytes.
#[test]
fn a_wal_source_overwritten_in_place_during_the_run_stops_it() {
    let fx = fixture(true);
    let other = fx.dir.path().join("other.db");
    std::fs::copy(&fx.db, &other).unwrap();
    // 0 → 1 keeps every record's size (both are stored in no bytes).
    Connection::open(&other)
        .unwrap()
        .execute("UPDATE acct SET v = 1", [])
        .unwrap();
    let bytes = std::fs::read(&other).unwrap();
    assert_eq!(bytes.len() as u64, std::fs::metadata(&fx.db).unwrap().len());
    let db = TestDb::new();
    let mut child = spawn_run(&fx, &db.url, &[]);
    wait_for_first_commit(&db, &mut child);
    let f = std::fs::File::options().write(true).open(&fx.db).unwrap();
    std::io::Write::write_all(&mut &f, &bytes).unwrap();
    drop(f);
    let out = child.wait_with_output().unwrap();
    assert_exit(
        &out,
        4,
        &[
            &format!("the SQLite source {} changed", fx.db.display()),
            "overwritten in place",
        ],
    );
    assert_eq!(db.scalar("SELECT count(*) FROM acct WHERE v = 1"), "0");
    let loaded: i64 = db.scalar("SELECT count(*) FROM acct").parse().unwrap();
    assert!(loaded < ROWS, "all {loaded} rows loaded");
}

/// 300,000 rows in ten chunks loaded one at a time; `json_wrap` set on
/// `doc` and the target table named as given.
fn ten_chunk_mapping(fx: &Fixture, json_wrap: Option<&str>, target: &str) {
    let m = Mapping::new("app.db")
        .default("chunk_size", ROWS / 10)
        .default("commit_every", "chunk")
        .default("workers", 1)
        .table("acct", &["id"])
        .set("target", target)
        .column("id", "bigint")
        .not_null()
        .column("v", "bigint")
        .column("pad", "jsonb");
    match json_wrap {
        Some(key) => m.set("json_wrap", key),
        None => m,
    }
    .write(&fx.toml);
}

/// A run killed after some of a table's chunks committed, then the mapping
/// changed: the resume would load the other chunks under another rule (or
/// into a table that is not there). Refused, exit 4, naming the table,
/// what changed and `--fresh`; with the mapping put back it resumes.
#[test]
fn a_mapping_changed_between_a_killed_run_and_its_resume_is_refused() {
    let fx = fixture(false);
    // `pad` as JSON text, so that it loads into jsonb with or without a wrap.
    Connection::open(&fx.db)
        .unwrap()
        .execute("UPDATE acct SET pad = json_quote(pad)", [])
        .unwrap();
    ten_chunk_mapping(&fx, None, "acct");
    let db = TestDb::new();
    let pg = Pg::connect(&db.url);
    let mut child = spawn_run(&fx, &db.url, &[]);
    let t0 = std::time::Instant::now();
    while pg.done_chunks() < 4 {
        assert!(child.try_wait().unwrap().is_none(), "the run ended first");
        assert!(
            t0.elapsed().as_secs() < 120,
            "4 chunks not committed in 120 s"
        );
        std::thread::sleep(std::time::Duration::from_millis(2));
    }
    child.kill().unwrap();
    child.wait().unwrap();
    let done = pg.done_chunks();
    assert!((4..10).contains(&done), "{done} chunks committed");

    ten_chunk_mapping(&fx, Some("data"), "acct");
    let wrapped = run_pipeline(&fx.toml, &db.url, &[]);
    let copied = format!("table acct ({done} of 10 chunks copied)");
    assert_exit(
        &wrapped,
        4,
        &[
            &copied,
            "column \"pad\": json_wrap null → \"data\"",
            "--fresh",
        ],
    );
    ten_chunk_mapping(&fx, None, "accounts");
    let renamed = run_pipeline(&fx.toml, &db.url, &[]);
    assert_exit(
        &renamed,
        4,
        &[
            &copied,
            "its target table \"acct\" → \"accounts\"",
            "--fresh",
        ],
    );
    assert!(!stderr(&renamed).contains("has no column"));
    // Nothing was loaded by the refused resumes.
    assert_eq!(pg.done_chunks(), done);

    ten_chunk_mapping(&fx, None, "acct");
    assert_exit(&run_pipeline(&fx.toml, &db.url, &[]), 0, &[]);
    assert_eq!(db.scalar("SELECT count(*) FROM acct"), ROWS.to_string());
    assert_eq!(
        db.scalar("SELECT count(*) FROM acct WHERE pad ? 'data'"),
        "0"
    );
}
