//! A source that changes under a run (issue "Safety I"): an application
//! writing during `run` in WAL and rollback-journal mode, a file replaced
//! mid-run, and `--snapshot copy` for rehearsing while the application
//! writes. A run either loads one consistent state of the file, or fails
//! (exit 4) saying that the source changed; never exit 0 with a torn mix.

use crate::common::*;
use rusqlite::Connection;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

pub(crate) const ROWS: i64 = 300_000;
/// The rows the writer keeps equal in every transaction: in the first, the
/// middle and the last chunk.
const WATCHED: [i64; 3] = [1, ROWS / 2, ROWS];

pub(crate) struct Fixture {
    pub(crate) dir: tempfile::TempDir,
    pub(crate) db: PathBuf,
    pub(crate) toml: PathBuf,
}

pub(crate) fn fixture(wal: bool) -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("app.db");
    let c = Connection::open(&db).unwrap();
    if wal {
        c.query_row("PRAGMA journal_mode = wal", [], |_| Ok(()))
            .unwrap();
    }
    c.execute_batch(&format!(
        "CREATE TABLE acct (id INTEGER PRIMARY KEY, v INTEGER NOT NULL, pad TEXT);
         WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {ROWS})
         INSERT INTO acct SELECT i, 0, printf('%080d', i) FROM n;"
    ))
    .unwrap();
    drop(c);
    let toml = dir.path().join("app.toml");
    Mapping::new("app.db")
        .default("chunk_size", 2000)
        .default("commit_every", "chunk")
        .default("workers", 2)
        .table("acct", &["id"])
        .column("id", "bigint")
        .not_null()
        .column("v", "bigint")
        .not_null()
        .column("pad", "text")
        .write(&toml);
    Fixture { dir, db, toml }
}

/// An application committing every 10 ms: each transaction sets the watched
/// rows to one new value, so a consistent read sees them equal.
struct Writer {
    stop: Arc<AtomicBool>,
    commits: Arc<AtomicI64>,
    handle: Option<std::thread::JoinHandle<()>>,
}

impl Writer {
    fn start(db: &Path) -> Writer {
        let stop = Arc::new(AtomicBool::new(false));
        let commits = Arc::new(AtomicI64::new(0));
        let (s, n, db) = (stop.clone(), commits.clone(), db.to_path_buf());
        let handle = std::thread::spawn(move || {
            let c = Connection::open(&db).unwrap();
            c.busy_timeout(Duration::from_secs(60)).unwrap();
            while !s.load(Ordering::SeqCst) {
                let v = n.load(Ordering::SeqCst) + 1;
                c.execute(
                    "UPDATE acct SET v = ?1 WHERE id IN (?2, ?3, ?4)",
                    (v, WATCHED[0], WATCHED[1], WATCHED[2]),
                )
                .unwrap();
                n.store(v, Ordering::SeqCst);
                std::thread::sleep(Duration::from_millis(10));
            }
        });
        Writer {
            stop,
            commits,
            handle: Some(handle),
        }
    }

    /// Wait (at most 10 s) until the writer's first transaction has
    /// committed.
    fn wait_for_its_first_commit(&self) {
        let t0 = Instant::now();
        while self.commits.load(Ordering::SeqCst) == 0 {
            assert!(
                t0.elapsed() < Duration::from_secs(10),
                "the writer committed nothing within 10 s"
            );
            std::thread::sleep(Duration::from_millis(5));
        }
    }

    fn stop(mut self) -> i64 {
        self.stop.store(true, Ordering::SeqCst);
        self.handle.take().unwrap().join().unwrap();
        self.commits.load(Ordering::SeqCst)
    }
}

impl Drop for Writer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
    }
}

pub(crate) fn spawn_run(fx: &Fixture, url: &str, extra: &[&str]) -> Child {
    Command::new(env!("CARGO_BIN_EXE_sqlite2pg"))
        .args([
            "run",
            fx.toml.to_str().unwrap(),
            "--target",
            url,
            "--no-progress",
        ])
        .args(extra)
        .env_remove("DATABASE_URL")
        .env("NO_COLOR", "1")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

/// Wait until the run has committed at least one chunk (it must not end
/// first).
pub(crate) fn wait_for_first_commit(db: &TestDb, child: &mut Child) {
    let pg = Pg::connect(&db.url);
    let t0 = Instant::now();
    while pg.done_chunks() == 0 {
        if child.try_wait().unwrap().is_some() {
            panic!("the run ended before its first chunk was seen committed");
        }
        assert!(
            t0.elapsed() < Duration::from_secs(120),
            "no chunk committed within 120 s"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// The watched rows present in the target hold one value: what was
/// committed was read from one state of the file.
fn assert_not_torn(db: &TestDb) -> Vec<String> {
    let vals: Vec<String> = db
        .query(&format!(
            "SELECT v FROM acct WHERE id IN ({}, {}, {}) ORDER BY id",
            WATCHED[0], WATCHED[1], WATCHED[2]
        ))
        .into_iter()
        .map(|r| r[0].clone())
        .collect();
    assert!(
        vals.windows(2).all(|w| w[0] == w[1]),
        "a torn load: watched rows hold {vals:?}"
    );
    vals
}

fn writer_during_run_fails_naming_the_change_then_fresh_loads(wal: bool) {
    let fx = fixture(wal);
    let db = TestDb::new();
    let mut child = spawn_run(&fx, &db.url, &[]);
    wait_for_first_commit(&db, &mut child);
    let writer = Writer::start(&fx.db);
    let out = child.wait_with_output().unwrap();
    let commits = writer.stop();
    assert!(commits > 0, "the writer never committed");
    assert_exit(
        &out,
        4,
        &[
            "changed while it was being read",
            "another connection committed a write",
            "--snapshot copy",
        ],
    );
    assert_not_torn(&db);
    // The run's rows are not all there: it did not pretend to finish.
    let loaded: i64 = db.scalar("SELECT count(*) FROM acct").parse().unwrap();
    assert!(loaded < ROWS, "wal={wal}: all {loaded} rows loaded");

    // A resume would mix the old and the new file: refused, naming --fresh.
    let again = run_pipeline(&fx.toml, &db.url, &[]);
    assert_exit(&again, 4, &["--fresh"]);

    // With the application stopped, --fresh loads the file as it is now.
    let fresh = run_pipeline(&fx.toml, &db.url, &["--fresh"]);
    assert_exit(&fresh, 0, &[]);
    assert_eq!(db.scalar("SELECT count(*) FROM acct"), ROWS.to_string());
    assert_eq!(assert_not_torn(&db), vec![commits.to_string(); 3]);
    let v = sqlite2pg(&["verify", fx.toml.to_str().unwrap(), "--target", &db.url]);
    assert_exit(&v, 0, &[]);
}

#[test]
fn a_writer_during_the_run_in_wal_mode_fails_it_then_fresh_loads() {
    writer_during_run_fails_naming_the_change_then_fresh_loads(true);
}

#[test]
fn a_writer_during_the_run_in_rollback_mode_fails_it_then_fresh_loads() {
    writer_during_run_fails_naming_the_change_then_fresh_loads(false);
}

fn snapshot_copy_loads_one_state_while_the_app_writes(wal: bool) {
    let fx = fixture(wal);
    let db = TestDb::new();
    let snapdir = fx.dir.path().join("snap");
    std::fs::create_dir(&snapdir).unwrap();
    let writer = Writer::start(&fx.db);
    writer.wait_for_its_first_commit();
    let out = run_pipeline(
        &fx.toml,
        &db.url,
        &[
            "--snapshot",
            "copy",
            "--snapshot-dir",
            snapdir.to_str().unwrap(),
        ],
    );
    let commits = writer.stop();
    assert_exit(&out, 0, &[]);
    assert_eq!(db.scalar("SELECT count(*) FROM acct"), ROWS.to_string());
    let vals = assert_not_torn(&db);
    assert_eq!(vals.len(), 3);
    let v: i64 = vals[0].parse().unwrap();
    assert!(
        v > 0 && v <= commits,
        "snapshot value {v} of {commits} commits"
    );
    // The copy is gone once the run has ended.
    assert_eq!(std::fs::read_dir(&snapdir).unwrap().count(), 0);
    // The app has moved on since: a rerun says the target is stale.
    let again = run_pipeline(&fx.toml, &db.url, &[]);
    assert_exit(&again, 4, &["changed since"]);
}

#[test]
fn snapshot_copy_loads_one_state_while_the_app_writes_in_wal_mode() {
    snapshot_copy_loads_one_state_while_the_app_writes(true);
}

#[test]
fn snapshot_copy_loads_one_state_while_the_app_writes_in_rollback_mode() {
    snapshot_copy_loads_one_state_while_the_app_writes(false);
}

#[test]
fn a_source_file_replaced_mid_run_fails_it() {
    let fx = fixture(false);
    // The new file: same schema, other values.
    let new = fx.dir.path().join("new.db");
    std::fs::copy(&fx.db, &new).unwrap();
    Connection::open(&new)
        .unwrap()
        .execute("UPDATE acct SET v = 7", [])
        .unwrap();
    let db = TestDb::new();
    let mut child = spawn_run(&fx, &db.url, &[]);
    wait_for_first_commit(&db, &mut child);
    std::fs::rename(&new, &fx.db).unwrap();
    let out = child.wait_with_output().unwrap();
    assert_exit(&out, 4, &["replaced by another file"]);
    // Nothing of the new file was committed.
    assert_eq!(db.scalar("SELECT count(*) FROM acct WHERE v = 7"), "0");
}

#[test]
fn snapshot_dir_without_snapshot_copy_is_a_usage_error() {
    let fx = fixture(false);
    let out = run_pipeline(
        &fx.toml,
        "postgres://nobody@127.0.0.1:1/x",
        &["--snapshot-dir", "/tmp"],
    );
    assert_exit(&out, 2, &["--snapshot copy"]);
}

/// A column and a table added to the source after `init` stop `check` and
/// `run` (exit 2) with their names and the mapping lines to add, before the
/// target is touched; `--allow-unmapped` goes on and names them.
#[test]
fn a_column_or_table_added_after_init_stops_check_and_run() {
    let (dir, db_path) = sqlite_fixture(
        "CREATE TABLE users (id INTEGER PRIMARY KEY, email TEXT);
         INSERT INTO users VALUES (1, 'a@example.com'), (2, 'b@example.com');",
    );
    let toml = dir.path().join("app.toml");
    init_mapping(&db_path, &toml);
    let c = Connection::open(&db_path).unwrap();
    c.execute_batch(
        "ALTER TABLE users ADD COLUMN nickname VARCHAR(40);
         UPDATE users SET nickname = 'x';
         CREATE TABLE audit_log (at TEXT, what TEXT);
         INSERT INTO audit_log VALUES ('now', 'created');",
    )
    .unwrap();
    drop(c);
    let db = TestDb::new();
    let t = toml.to_str().unwrap();
    for out in [sqlite2pg(&["check", t]), run_pipeline(&toml, &db.url, &[])] {
        assert_exit(
            &out,
            2,
            &[
                "table audit_log (1 rows)",
                "column users.nickname (VARCHAR(40))",
                "[tables.users.columns.nickname]",
                "[tables.audit_log]\ninclude = false",
                "--allow-unmapped",
            ],
        );
    }
    // Refused before the target was touched.
    assert_eq!(
        db.scalar("SELECT count(*) FROM pg_namespace WHERE nspname = 'sqlite2pg'"),
        "0"
    );
    let out = run_pipeline(&toml, &db.url, &["--allow-unmapped"]);
    assert_exit(&out, 0, &["not moved (2):\n  - table audit_log (1 rows): not in the mapping (--allow-unmapped)\n  \
             - column users.nickname (VARCHAR(40)): not in the mapping (--allow-unmapped)"]);
    assert_eq!(db.scalar("SELECT count(*) FROM users"), "2");
    // Excluding them in the mapping is the other way to go on.
    let mut text = std::fs::read_to_string(&toml).unwrap();
    text.push_str(
        "\n[tables.audit_log]\ninclude = false\n\n[tables.users.columns.nickname]\ntype = \"text\"\ninclude = false\n",
    );
    std::fs::write(&toml, text).unwrap();
    let out = sqlite2pg(&["check", t]);
    assert_exit(&out, 0, &[]);
}
