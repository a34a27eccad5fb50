//! Crash tests: exactly-once resume under SIGKILL and lost connections, and
//! `verify` catching a tampered target. The real binary against a real
//! PostgreSQL, a fresh database per test.
//!
//! The kill moments are chosen by watching the tool's own state tables in the
//! target (and `pg_stat_activity`), not by sleeping alone, so each kill lands
//! in the stage it is meant to hit however fast or slow the machine is. After
//! every kill the test checks the invariant the design promises — the rows in
//! each target table are exactly the rows of the chunks recorded as done —
//! and the next `run` resumes the same run.

use crate::common::*;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const BIG_ROWS: i64 = 1_000_000;
const PARENT_ROWS: i64 = 200;
const CHILD_ROWS: i64 = 20_000;
/// 50 chunks of `big`, so there are many chunk boundaries to kill at.
const CHUNK_SIZE: i64 = 20_000;
/// Longest any single `run` or wait may take before the test calls it a hang.
const HANG: Duration = Duration::from_secs(60);

/// A 1,000,000-row table with an integer primary key, text, real, a
/// timestamp as text and nullable integers; a small parent table and a child
/// with a foreign key to it, so `finalize` has keys and a foreign key to
/// build.
const BIG_SOURCE_SQL: &str = "
CREATE TABLE big (
    id INTEGER PRIMARY KEY,
    v  TEXT NOT NULL,
    r  REAL,
    ts TEXT,
    n  INTEGER,
    m  INTEGER
);
WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < 1000000)
INSERT INTO big (id, v, r, ts, n, m)
SELECT i,
       'row ' || i || CASE WHEN i % 3 = 0 THEN ' ünïcødé' ELSE '' END,
       i * 0.1 + 1.0 / 3,
       strftime('%Y-%m-%d %H:%M:%S', 1600000000 + i * 37, 'unixepoch'),
       CASE WHEN i % 7 = 0 THEN NULL ELSE i % 1000 END,
       CASE WHEN i % 2 = 0 THEN NULL ELSE -i END
FROM s;
CREATE TABLE parent (id INTEGER PRIMARY KEY, name TEXT NOT NULL);
WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < 200)
INSERT INTO parent SELECT i, 'parent ' || i FROM s;
CREATE TABLE child (
    id INTEGER PRIMARY KEY,
    parent_id INTEGER NOT NULL REFERENCES parent(id),
    note TEXT
);
WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < 20000)
INSERT INTO child SELECT i, 1 + i % 200, CASE WHEN i % 5 = 0 THEN NULL ELSE 'note ' || i END FROM s;
";

/// The mapping for [`BIG_SOURCE_SQL`], written by hand; every chunk commits
/// on its own, so there are many commit points to kill around.
fn big_mapping(source: &Path) -> Mapping {
    big_mapping_committing(source, "chunk")
}

/// [`big_mapping`] with `commit_every` set to `commit`.
fn big_mapping_committing(source: &Path, commit: &str) -> Mapping {
    Mapping::new(source)
        .default("chunk_size", CHUNK_SIZE)
        .default("commit_every", commit)
        .default("workers", 2)
        .table("big", &["id"])
        .column("id", "bigint")
        .identity()
        .column("v", "text")
        .not_null()
        .column("r", "double precision")
        .column("ts", "timestamp")
        .column("n", "bigint")
        .column("m", "bigint")
        .index("big_n_idx", &["n"])
        .table("parent", &["id"])
        .column("id", "bigint")
        .column("name", "text")
        .not_null()
        .table("child", &["id"])
        .column("id", "bigint")
        .column("parent_id", "bigint")
        .not_null()
        .column("note", "text")
        .foreign_key(&["parent_id"])
        .set("references", "parent")
}

/// A source, its mapping file and a place for the run logs.
struct Fixture {
    dir: tempfile::TempDir,
    source: PathBuf,
    toml: PathBuf,
    source_sha256: String,
}

fn fixture(sql: &str, mapping: impl Fn(&Path) -> Mapping) -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let source = dir.path().join("source.db");
    let conn = rusqlite::Connection::open(&source).unwrap();
    conn.execute_batch(sql).unwrap();
    drop(conn);
    let toml = dir.path().join("pipeline.toml");
    mapping(&source).write(&toml);
    let source_sha256 = sha256_file(&source);
    Fixture {
        dir,
        source,
        toml,
        source_sha256,
    }
}

/// The invariant of these crash tests, on the tables of [`BIG_SOURCE_SQL`].
impl Pg {
    /// The exactly-once invariant: every target table holds exactly the rows
    /// of its chunks marked done — no row of an uncommitted chunk, none
    /// twice. Holds at any instant (rows and marks commit together), so it
    /// needs no quiet moment; one statement reads one snapshot.
    fn assert_rows_match_done_chunks(&self, moment: &str) {
        for t in ["big", "parent", "child"] {
            let exists = self
                .try_scalar(&format!("SELECT to_regclass('public.{t}') IS NOT NULL"))
                .as_deref()
                == Some("t");
            if !exists {
                continue;
            }
            let both = self
                .try_scalar(&format!(
                    "SELECT (SELECT count(*) FROM public.{t})::text || ' ' || \
                     (SELECT coalesce(sum(rows_loaded), 0) FROM sqlite2pg.chunks \
                      WHERE source_table = '{t}' AND status = 'done')::text"
                ))
                .unwrap_or_else(|| panic!("cannot count {t}"));
            let (rows, recorded) = both.split_once(' ').unwrap();
            assert_eq!(
                rows, recorded,
                "after kill `{moment}`: table {t} holds {rows} rows but its done chunks record {recorded}"
            );
        }
    }
}

fn spawn_run(fx: &Fixture, url: &str, log_name: &str) -> Child {
    let out = File::create(fx.dir.path().join(format!("{log_name}.out"))).unwrap();
    let err = File::create(fx.dir.path().join(format!("{log_name}.err"))).unwrap();
    Command::new(env!("CARGO_BIN_EXE_sqlite2pg"))
        .args([
            "run",
            fx.toml.to_str().unwrap(),
            "--target",
            url,
            "--no-progress",
        ])
        .env_remove("DATABASE_URL")
        .env("NO_COLOR", "1")
        .stdin(Stdio::null())
        .stdout(Stdio::from(out))
        .stderr(Stdio::from(err))
        .spawn()
        .expect("spawn sqlite2pg run")
}

fn log_of(fx: &Fixture, log_name: &str) -> (String, String) {
    let read = |ext: &str| {
        std::fs::read_to_string(fx.dir.path().join(format!("{log_name}.{ext}"))).unwrap_or_default()
    };
    (read("out"), read("err"))
}

/// Wait for a child with a deadline; a run that does not end is a hang.
fn wait_with_deadline(child: &mut Child, what: &str) -> Option<i32> {
    let t0 = Instant::now();
    loop {
        if let Some(st) = child.try_wait().unwrap() {
            return st.code();
        }
        if t0.elapsed() > HANG {
            let _ = child.kill();
            let _ = child.wait();
            panic!("{what} hung for {HANG:?}");
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// How one attempt ended.
#[derive(Debug)]
enum Ending {
    /// SIGKILLed while running, in the state described.
    Killed(String),
    /// The run ended on its own before the moment came.
    Exited(Option<i32>),
}

/// Start a run; poll until `moment` says the time has come, wait `delay`,
/// then SIGKILL it.
fn kill_at(
    fx: &Fixture,
    pg: &Pg,
    url: &str,
    label: &str,
    delay: Duration,
    moment: &dyn Fn(&Pg, &Baseline) -> bool,
) -> Ending {
    let base = Baseline {
        done: pg.done_chunks(),
        since: pg.try_scalar("SELECT now()::text").unwrap(),
    };
    let mut child = spawn_run(fx, url, label);
    let t0 = Instant::now();
    loop {
        if let Some(st) = child.try_wait().unwrap() {
            return Ending::Exited(st.code());
        }
        if moment(pg, &base) {
            break;
        }
        if t0.elapsed() > HANG {
            let _ = child.kill();
            panic!(
                "run never reached the moment `{label}`: {}; sessions: {}",
                pg.snapshot(),
                pg.activity()
            );
        }
        std::thread::sleep(Duration::from_millis(1));
    }
    std::thread::sleep(delay);
    if let Some(st) = child.try_wait().unwrap() {
        return Ending::Exited(st.code());
    }
    let seen = pg.snapshot();
    child.kill().unwrap(); // SIGKILL on Unix
    child.wait().unwrap();
    let orphans = pg
        .try_scalar(
            "SELECT string_agg(left(query, 50), ' | ') FROM pg_stat_activity \
             WHERE datname = current_database() AND application_name = 'sqlite2pg' AND state = 'active'",
        )
        .unwrap_or_default();
    Ending::Killed(format!(
        "{seen}; still active on the server after the kill: [{orphans}]"
    ))
}

const BLOCKED_MOMENT: &str = "finalize, parent's primary key queued behind another session's lock";

/// Finalize statements: building an index (primary keys are built as a
/// unique index first) or adding a constraint.
const FINALIZE_DDL: &str =
    "(query LIKE 'ALTER TABLE % ADD CONSTRAINT %' OR query LIKE 'CREATE %INDEX %')";

/// Sessions of the tool waiting for a table lock in finalize.
fn constraint_waiting_for_lock(pg: &Pg) -> i64 {
    pg.try_i64(&format!(
        "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() \
         AND application_name = 'sqlite2pg' AND wait_event_type = 'Lock' AND {FINALIZE_DDL}"
    ))
    .unwrap_or(0)
}

/// State when an attempt started, so moments can be relative to it.
struct Baseline {
    done: i64,
    /// The server's clock when the attempt started.
    since: String,
}

impl Baseline {
    /// Whether `stage` (the whole stage, `table_name = ''`) was set
    /// `running` by this attempt, not by an earlier, killed one.
    fn stage_started(&self, pg: &Pg, stage: &str) -> bool {
        pg.try_i64(&format!(
            "SELECT count(*) FROM sqlite2pg.stages WHERE stage = '{stage}' AND table_name = '' \
             AND status = 'running' AND started_at > '{}'",
            self.since
        ))
        .unwrap_or(0)
            > 0
    }
}

/// Wait until `n` chunks are committed, the run still going.
fn wait_for_done_chunks(pg: &Pg, child: &mut Child, n: i64) {
    let t0 = Instant::now();
    while pg.done_chunks() < n {
        assert!(
            child.try_wait().unwrap().is_none(),
            "run ended before the copy was under way"
        );
        assert!(t0.elapsed() < HANG, "copy never got going");
        std::thread::sleep(Duration::from_millis(1));
    }
}

/// Whether a session of the tool is running a statement `LIKE` `pattern`.
fn tool_running(pg: &Pg, pattern: &str) -> bool {
    pg.try_i64(&format!(
        "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() \
         AND application_name = 'sqlite2pg' AND state = 'active' AND query LIKE '{pattern}'"
    ))
    .unwrap_or(0)
        > 0
}

fn copy_in_flight(pg: &Pg) -> bool {
    tool_running(pg, "COPY %FROM STDIN%")
}

/// [`kill_at`] where the kill is the point: a run that ends by itself
/// before `moment` fails the test, with its log.
fn kill_when(
    fx: &Fixture,
    pg: &Pg,
    url: &str,
    label: &str,
    delay: Duration,
    moment: &dyn Fn(&Pg, &Baseline) -> bool,
) {
    match kill_at(fx, pg, url, label, delay, moment) {
        Ending::Killed(seen) => eprintln!("killed at `{label}`: {seen}"),
        Ending::Exited(code) => {
            let (out, err) = log_of(fx, label);
            panic!("run ended (exit {code:?}) before the moment `{label}`:\n{out}\n{err}");
        }
    }
}

fn verify_json(fx: &Fixture, url: &str) -> (Option<i32>, serde_json::Value) {
    let o = sqlite2pg(&[
        "verify",
        fx.toml.to_str().unwrap(),
        "--target",
        url,
        "--json",
    ]);
    let json: serde_json::Value = serde_json::from_str(stdout(&o).trim())
        .unwrap_or_else(|e| panic!("verify --json printed no JSON ({e}): {}", stdout(&o)));
    (o.status.code(), json)
}

fn table<'a>(report: &'a serde_json::Value, name: &str) -> &'a serde_json::Value {
    report["tables"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["source_table"] == name)
        .unwrap_or_else(|| panic!("no table {name} in {report}"))
}

/// The end state every crash scenario must reach: a clean run, then
/// `verify` with exact counts and matching checksums, no duplicate keys,
/// working keys and sequences, and an untouched source.
fn assert_complete_and_exact(fx: &Fixture, db: &TestDb) {
    let (code, report) = verify_json(fx, &db.url);
    assert_eq!(code, Some(0), "verify failed: {report}");
    assert_eq!(report["ok"], true, "{report}");
    for (name, rows) in [
        ("big", BIG_ROWS),
        ("parent", PARENT_ROWS),
        ("child", CHILD_ROWS),
    ] {
        let t = table(&report, name);
        assert_eq!(t["source_rows"], rows, "{name}: {t}");
        assert_eq!(t["target_rows"], rows, "{name}: {t}");
        assert_eq!(t["rejected_rows"], 0, "{name}: {t}");
        assert_eq!(t["checksum_match"], true, "{name}: {t}");
    }
    for name in ["big", "parent", "child"] {
        assert_eq!(
            db.scalar(&format!(
                "SELECT count(*) - count(DISTINCT id) FROM public.{name}"
            )),
            "0",
            "duplicate ids in {name}"
        );
    }
    assert_eq!(
        db.scalar("SELECT count(*) FROM public.big"),
        BIG_ROWS.to_string()
    );
    assert_eq!(
        db.scalar("SELECT min(id)::text || '-' || max(id)::text FROM public.big"),
        format!("1-{BIG_ROWS}")
    );
    // Keys, index and foreign key are in place; the identity moved on.
    assert_eq!(
        db.scalar(
            "SELECT count(*) FROM pg_constraint WHERE conrelid IN \
             ('public.big'::regclass, 'public.parent'::regclass, 'public.child'::regclass) \
             AND contype IN ('p', 'f')"
        ),
        "4"
    );
    assert_eq!(
        db.scalar("SELECT count(*) FROM pg_indexes WHERE indexname = 'big_n_idx'"),
        "1"
    );
    assert_eq!(
        db.scalar("INSERT INTO public.big (v) VALUES ('new') RETURNING id"),
        (BIG_ROWS + 1).to_string()
    );
    // One logical run from start to end: every rerun resumed it.
    assert_eq!(db.scalar("SELECT count(*) FROM sqlite2pg.runs"), "1");
    assert_eq!(db.scalar("SELECT status FROM sqlite2pg.runs"), "done");
    assert_eq!(
        sha256_file(&fx.source),
        fx.source_sha256,
        "the source was modified"
    );
}

/// SIGKILL a run at more than ten moments — before it touches the target,
/// in `prepare`, at and between chunk commits, mid-chunk at several offsets,
/// after the last chunk, and in `finalize` — each rerun resuming the one
/// run, and check that the end result is exact.
#[test]
fn sigkill_at_many_moments_then_resume_loads_every_row_exactly_once() {
    let db = TestDb::new();
    // Every key is left to finalize, whose moments are below (keys built
    // during the copy have a test of their own). Otherwise `big`'s keys may
    // be built when its last chunk commits: a kill then leaves the build
    // running on the server, which finishes it, and finalize has none of
    // big's to build.
    let fx = fixture(BIG_SOURCE_SQL, |s| {
        big_mapping(s).default("keys_during_copy", false)
    });
    assert!(std::fs::read_to_string(&fx.toml)
        .unwrap()
        .contains("keys_during_copy = false"));
    let pg = Pg::connect(&db.url);
    let total_chunks = BIG_ROWS / CHUNK_SIZE + 2; // big + parent + child
    let ms = Duration::from_millis;

    type Moment = Box<dyn Fn(&Pg, &Baseline) -> bool>;
    let moments: Vec<(&str, Duration, Moment)> = vec![
        // Before or while it opens the source and the target.
        ("at start", ms(0), Box::new(|_, _| true)),
        (
            "state schema and run row just created",
            ms(0),
            Box::new(|pg, _| {
                pg.try_i64("SELECT count(*) FROM sqlite2pg.runs")
                    .unwrap_or(0)
                    > 0
            }),
        ),
        (
            "in prepare (planning chunks of big)",
            ms(0),
            Box::new(|pg, b| b.stage_started(pg, "prepare")),
        ),
        (
            "prepare of big committed",
            ms(0),
            Box::new(|pg, _| pg.stage_status("prepare", "big").as_deref() == Some("done")),
        ),
        (
            "first COPY in flight, nothing committed",
            ms(5),
            Box::new(|pg, _| copy_in_flight(pg)),
        ),
        (
            "right at a chunk commit",
            ms(0),
            Box::new(|pg, b| pg.done_chunks() >= b.done + 3),
        ),
        (
            "mid-chunk, 7 ms after a commit",
            ms(7),
            Box::new(|pg, b| pg.done_chunks() >= b.done + 3),
        ),
        (
            "mid-chunk, 20 ms after a commit",
            ms(20),
            Box::new(|pg, b| pg.done_chunks() >= b.done + 4),
        ),
        (
            "mid-chunk, while a COPY is streaming",
            ms(0),
            Box::new(|pg, b| pg.done_chunks() >= b.done + 2 && copy_in_flight(pg)),
        ),
        (
            "between chunks, 2 ms after a commit",
            ms(2),
            Box::new(|pg, b| pg.done_chunks() >= b.done + 5),
        ),
        (
            "every chunk committed, copy stage not closed or finalize starting",
            ms(0),
            Box::new(move |pg, _| pg.done_chunks() >= total_chunks),
        ),
        (
            // Or already built, not attached: the previous attempt may have
            // been killed while finalize built it, and the server finished
            // that build without its client (it is shorter than
            // `client_connection_check_interval`); finalize then only
            // attaches it.
            "finalize, primary key of big being built (or built, not attached)",
            ms(0),
            Box::new(|pg, b| {
                b.stage_started(pg, "finalize")
                    && (tool_running(pg, "CREATE UNIQUE INDEX IF NOT EXISTS \"big_pkey\"%")
                        || pg
                            .try_i64(
                                "SELECT count(*) FROM pg_class WHERE relname = 'big_pkey' \
                                 AND NOT EXISTS (SELECT 1 FROM pg_constraint WHERE conname = 'big_pkey')",
                            )
                            .unwrap_or(0)
                            > 0)
            }),
        ),
        (
            "finalize, primary key of big in place",
            ms(0),
            Box::new(|pg, b| {
                b.stage_started(pg, "finalize")
                    && pg.try_i64(
                    "SELECT count(*) FROM pg_constraint WHERE conrelid = 'public.big'::regclass AND contype = 'p'",
                )
                .unwrap_or(0)
                    > 0
            }),
        ),
        (
            // Another session (an app's open transaction that wrote to
            // `parent`) holds a lock on it: finalize queues behind it, the operator
            // kills the run and reruns at once. The killed run's server
            // session is still queued for the lock, holding the pipeline
            // lock, and would stay so until the other session lets go.
            BLOCKED_MOMENT,
            ms(0),
            Box::new(|pg, b| {
                b.stage_started(pg, "finalize") && constraint_waiting_for_lock(pg) > 0
            }),
        ),
    ];

    let blocker = Pg::connect(&db.url);
    let mut orphan_pids = String::from("0");
    let mut kills = Vec::new();
    let mut last_done = 0;
    for (i, (label, delay, moment)) in moments.iter().enumerate() {
        if *label == BLOCKED_MOMENT {
            blocker.exec("BEGIN; LOCK TABLE public.parent IN ROW EXCLUSIVE MODE");
        }
        let ending = kill_at(
            &fx,
            &pg,
            &db.url,
            &format!("attempt{i}"),
            *delay,
            moment.as_ref(),
        );
        // No waiting here: the next attempt starts right after the kill, as
        // an operator's rerun would, while the killed run's server sessions
        // may still be finishing (or queued for a lock).
        if *label == BLOCKED_MOMENT {
            orphan_pids = pg
                .try_scalar(
                    "SELECT coalesce(string_agg(pid::text, ','), '0') FROM pg_stat_activity \
                     WHERE datname = current_database() AND application_name = 'sqlite2pg'",
                )
                .unwrap();
        }
        if *label == BLOCKED_MOMENT {
            // The killed run's session must not outlive it: queued for an
            // ACCESS EXCLUSIVE lock it blocks every reader of the table (the
            // app's SELECTs included) and holds the pipeline lock, so no
            // rerun could start, until the other transaction ends.
            let t0 = Instant::now();
            while pg.i64(&format!(
                "SELECT count(*) FROM pg_stat_activity WHERE pid IN ({orphan_pids})"
            )) > 0
            {
                if t0.elapsed() > Duration::from_secs(15) {
                    let sessions = pg.activity();
                    blocker.exec("ROLLBACK");
                    panic!(
                        "the killed run's server session is still queued for the lock 15 s later: {sessions}"
                    );
                }
                std::thread::sleep(Duration::from_millis(20));
            }
        }
        match ending {
            Ending::Killed(seen) => {
                eprintln!("killed at `{label}`: {seen}\n  after: {}", pg.snapshot());
                kills.push(*label);
            }
            Ending::Exited(code) => {
                let (out, err) = log_of(&fx, &format!("attempt{i}"));
                panic!(
                    "run ended by itself (exit {code:?}) before the moment `{label}`\n{out}\n{err}"
                );
            }
        }
        // Nothing committed is lost, nothing uncommitted is kept.
        pg.assert_rows_match_done_chunks(label);
        let done = pg.done_chunks();
        assert!(
            done >= last_done,
            "after kill `{label}`: committed chunks went from {last_done} to {done}"
        );
        last_done = done;
        // Never a second run: every rerun resumes the first one.
        assert!(
            pg.try_i64("SELECT count(*) FROM sqlite2pg.runs")
                .unwrap_or(0)
                <= 1
        );
    }
    assert!(
        kills.len() >= 10,
        "only {} kills landed: {kills:?}",
        kills.len()
    );

    // The final rerun starts at once, while the other session still holds
    // its lock: it must get the pipeline lock (the killed run's session
    // must not keep it) and queue for the table lock like any client; once
    // the other session lets go it completes the same run.
    let mut child = spawn_run(&fx, &db.url, "final");
    let t0 = Instant::now();
    loop {
        if child.try_wait().unwrap().is_some() {
            let (out, err) = log_of(&fx, "final");
            panic!("the rerun after the kill ended while the lock was still held:\n{out}\n{err}");
        }
        let orphans_alive = pg.i64(&format!(
            "SELECT count(*) FROM pg_stat_activity WHERE pid IN ({orphan_pids})"
        ));
        let rerun_queued = pg.i64(&format!(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() \
             AND application_name = 'sqlite2pg' AND wait_event_type = 'Lock' \
             AND {FINALIZE_DDL} AND pid NOT IN ({orphan_pids})"
        ));
        if orphans_alive == 0 && rerun_queued >= 1 {
            break; // only the rerun's own session is left, queued for the lock
        }
        assert!(
            t0.elapsed() < HANG,
            "rerun never got past the killed run's session"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
    blocker.exec("ROLLBACK");
    let code = wait_with_deadline(&mut child, "final run");
    let (out, err) = log_of(&fx, "final");
    assert_eq!(code, Some(0), "final run failed:\n{out}\n{err}");
    assert!(err.contains("resuming run 1"), "{err}");
    pg.assert_rows_match_done_chunks("final");

    // A further run has nothing to do.
    let o = run_pipeline(fx.toml.to_str().unwrap(), &db.url, &[]);
    assert_exit(&o, 0, &["already completed"]);

    assert_complete_and_exact(&fx, &db);
}

/// With `commit_every = "table"` (the default) a table commits once: a
/// SIGKILL while its chunks stream leaves none of its rows and none of its
/// chunks done, the rerun loads it whole and exactly, and the rows arrive
/// frozen (COPY FREEZE): every page all-visible without a VACUUM.
#[test]
fn whole_table_commit_kill_mid_table_leaves_nothing_and_rerun_loads_frozen_rows() {
    let db = TestDb::new();
    let fx = fixture(BIG_SOURCE_SQL, |s| big_mapping_committing(s, "table"));
    let pg = Pg::connect(&db.url);
    // The COPY of a later chunk of `big`, in a transaction that has been
    // streaming earlier chunks for a while: several chunks are in, none is
    // committed.
    let mid_table = |pg: &Pg, _: &Baseline| {
        pg.try_i64(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() \
             AND application_name = 'sqlite2pg' AND state = 'active' \
             AND query LIKE 'COPY \"public\".\"big\"%' \
             AND query_start - xact_start > interval '300 milliseconds'",
        )
        .unwrap_or(0)
            > 0
    };
    kill_when(&fx, &pg, &db.url, "mid-table", Duration::ZERO, &mid_table);
    pg.assert_rows_match_done_chunks("mid-table");
    assert_eq!(pg.i64("SELECT count(*) FROM public.big"), 0);
    assert_eq!(
        pg.i64(
            "SELECT count(*) FROM sqlite2pg.chunks WHERE source_table = 'big' AND status = 'done'"
        ),
        0
    );
    pg.wait_tool_backends_gone();

    let o = run_pipeline(fx.toml.to_str().unwrap(), &db.url, &[]);
    assert_exit(&o, 0, &["resuming run 1"]);
    pg.assert_rows_match_done_chunks("rerun");
    // ANALYZE in finalize recorded the visibility map: all pages all-visible.
    let (pages, visible) = pg
        .try_scalar("SELECT relpages || ' ' || relallvisible FROM pg_class WHERE oid = 'public.big'::regclass")
        .map(|s| {
            let (a, b) = s.split_once(' ').unwrap();
            (a.parse::<i64>().unwrap(), b.parse::<i64>().unwrap())
        })
        .unwrap();
    assert!(
        pages > 0 && visible == pages,
        "big: {visible} of {pages} pages all-visible"
    );
    assert_complete_and_exact(&fx, &db);
}

/// A small table's keys are built as soon as it is loaded, while the big
/// table is still streaming in its (uncommitted) whole-table transaction; a
/// SIGKILL at that moment loses nothing. The rerun loads `big` and is
/// killed while building `big`'s keys in the copy stage; the next run keeps
/// the keys built so far, builds the rest, and everything is exact.
#[test]
fn keys_of_a_loaded_table_are_built_while_another_copies_and_a_kill_then_resumes() {
    let db = TestDb::new();
    let fx = fixture(BIG_SOURCE_SQL, |s| big_mapping_committing(s, "table"));
    let pg = Pg::connect(&db.url);
    let parent_keyed_while_big_streams = |pg: &Pg, _: &Baseline| {
        pg.try_i64(
            "SELECT count(*) FROM pg_constraint WHERE conrelid = to_regclass('public.parent') \
             AND contype = 'p'",
        )
        .unwrap_or(0)
            > 0
            && copy_in_flight(pg)
            && pg
                .try_i64(
                    "SELECT count(*) FROM sqlite2pg.chunks WHERE source_table = 'big' \
                     AND status = 'done'",
                )
                .unwrap_or(1)
                == 0
    };
    kill_when(
        &fx,
        &pg,
        &db.url,
        "keys-while-copying",
        Duration::ZERO,
        &parent_keyed_while_big_streams,
    );
    pg.assert_rows_match_done_chunks("keys-while-copying");
    assert_eq!(pg.i64("SELECT count(*) FROM public.big"), 0);
    // Finalize proper never began: these keys came from the copy stage.
    assert_ne!(
        pg.stage_status("finalize", "").as_deref(),
        Some("running"),
        "finalize had started"
    );
    pg.wait_tool_backends_gone();

    // The rerun loads `big` whole, then builds its keys while the copy
    // stage is still open: a kill in the middle of that build.
    let big_key_build_in_copy = |pg: &Pg, b: &Baseline| {
        !b.stage_started(pg, "finalize")
            && pg.done_chunks() > 0
            && tool_running(pg, "CREATE %INDEX %\"public\".\"big\"%")
    };
    kill_when(
        &fx,
        &pg,
        &db.url,
        "big-keys-in-copy",
        Duration::from_millis(5),
        &big_key_build_in_copy,
    );
    pg.assert_rows_match_done_chunks("big-keys-in-copy");
    assert_eq!(pg.i64("SELECT count(*) FROM public.big"), BIG_ROWS);
    pg.wait_tool_backends_gone();

    let o = run_pipeline(fx.toml.to_str().unwrap(), &db.url, &[]);
    assert_exit(&o, 0, &["resuming run 1"]);
    assert_eq!(
        pg.i64(
            "SELECT count(*) FROM pg_constraint WHERE conrelid IN \
             ('public.big'::regclass, 'public.parent'::regclass, 'public.child'::regclass) \
             AND contype IN ('p', 'f')"
        ),
        4,
        "three primary keys and child's foreign key"
    );
    assert_complete_and_exact(&fx, &db);
}

/// The server kills the tool's connections mid-copy (a failover, an admin,
/// a network cut): the run must stop with exit 1 and say that a rerun
/// resumes — not hang, not panic, not claim success — and the rerun must
/// finish the load exactly.
#[test]
fn connections_terminated_mid_copy_fail_with_exit_1_and_rerun_completes_exactly() {
    let db = TestDb::new();
    let fx = fixture(BIG_SOURCE_SQL, big_mapping);
    let pg = Pg::connect(&db.url);
    let terminate = format!(
        "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity \
         WHERE datname = '{}' AND application_name = 'sqlite2pg' AND pid <> pg_backend_pid()",
        db.name
    );

    let mut child = spawn_run(&fx, &db.url, "terminated");
    wait_for_done_chunks(&pg, &mut child, 5);
    let mut terminated = 0;
    for _ in 0..3 {
        terminated += pg.i64(&terminate);
        std::thread::sleep(Duration::from_millis(15));
    }
    assert!(terminated > 0, "no sqlite2pg backend to terminate");
    let code = wait_with_deadline(&mut child, "run whose connections were terminated");
    let (out, err) = log_of(&fx, "terminated");
    eprintln!("terminated {terminated} backend(s); the run said:\n{out}{err}");
    assert_eq!(code, Some(1), "expected exit 1:\n{out}\n{err}");
    assert!(
        err.contains("rerun") && err.contains("resume"),
        "the error must tell the operator that a rerun resumes:\n{err}"
    );
    assert!(!err.contains("panicked"), "{err}");
    pg.wait_tool_backends_gone();
    pg.assert_rows_match_done_chunks("connections terminated");
    let done_after_failure = pg.done_chunks();
    assert!(
        done_after_failure >= 5,
        "committed chunks lost: {done_after_failure}"
    );

    let mut child = spawn_run(&fx, &db.url, "rerun");
    let code = wait_with_deadline(&mut child, "rerun");
    let (out, err) = log_of(&fx, "rerun");
    assert_eq!(code, Some(0), "rerun failed:\n{out}\n{err}");
    assert!(err.contains("resuming run 1"), "{err}");
    assert_complete_and_exact(&fx, &db);
}

const SMALL_SOURCE_SQL: &str = "
CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT, r REAL, n INTEGER);
WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < 10000)
INSERT INTO t SELECT i, 'value ' || i, i / 8.0, CASE WHEN i % 4 = 0 THEN NULL ELSE i END FROM s;
";

fn small_mapping(source: &Path) -> Mapping {
    Mapping::new(source)
        .default("chunk_size", 3000)
        .default("commit_every", "chunk")
        .table("t", &["id"])
        .column("id", "bigint")
        .column("v", "text")
        .column("r", "double precision")
        .column("n", "bigint")
}

/// `verify` must notice any change to the loaded data: a changed value, a
/// missing row, a duplicated row — and pass again once it is undone.
#[test]
fn verify_catches_a_changed_a_deleted_and_a_duplicated_row() {
    let db = TestDb::new();
    let fx = fixture(SMALL_SOURCE_SQL, small_mapping);
    let o = run_pipeline(fx.toml.to_str().unwrap(), &db.url, &[]);
    assert_exit(&o, 0, &[]);

    let assert_ok = |when: &str| {
        let (code, report) = verify_json(&fx, &db.url);
        assert_eq!(code, Some(0), "{when}: {report}");
        assert_eq!(report["ok"], true, "{when}: {report}");
        let t = table(&report, "t");
        assert_eq!(t["source_rows"], 10000, "{when}: {t}");
        assert_eq!(t["target_rows"], 10000, "{when}: {t}");
        assert_eq!(t["checksum_match"], true, "{when}: {t}");
    };
    let assert_caught = |case: &str, target_rows: i64| {
        let (code, report) = verify_json(&fx, &db.url);
        assert_eq!(code, Some(3), "{case}: verify must exit 3: {report}");
        assert_eq!(report["ok"], false, "{case}: {report}");
        let t = table(&report, "t");
        assert_eq!(t["checksum_match"], false, "{case}: {t}");
        assert_eq!(t["source_rows"], 10000, "{case}: {t}");
        assert_eq!(t["target_rows"], target_rows, "{case}: {t}");
    };
    assert_ok("clean load");

    // (a) One value changed: same count, different content.
    db.exec("UPDATE public.t SET v = 'x' WHERE id = 5");
    assert_caught("changed value", 10000);
    db.exec("UPDATE public.t SET v = 'value 5' WHERE id = 5");
    assert_ok("after restoring the value");

    // A change that keeps the text but not the number is caught too.
    db.exec("UPDATE public.t SET r = r + 1e-12 WHERE id = 6000");
    assert_caught("changed double in its last digits", 10000);
    db.exec("UPDATE public.t SET r = 750.0 WHERE id = 6000");
    assert_ok("after restoring the double");

    // (b) One row deleted.
    db.exec(
        "CREATE SCHEMA scratch; CREATE TABLE scratch.saved AS SELECT * FROM public.t WHERE id = 7",
    );
    db.exec("DELETE FROM public.t WHERE id = 7");
    assert_caught("deleted row", 9999);
    db.exec("INSERT INTO public.t SELECT * FROM scratch.saved");
    assert_ok("after putting the row back");

    // (c) One row duplicated (the primary key would refuse it, so drop it).
    let pk = db.scalar(
        "SELECT conname FROM pg_constraint WHERE conrelid = 'public.t'::regclass AND contype = 'p'",
    );
    db.exec(&format!("ALTER TABLE public.t DROP CONSTRAINT \"{pk}\""));
    db.exec("INSERT INTO public.t SELECT * FROM public.t WHERE id = 9");
    assert_caught("duplicated row", 10001);
    db.exec("DELETE FROM public.t WHERE ctid = (SELECT max(ctid) FROM public.t WHERE id = 9)");
    assert_ok("after removing the duplicate");

    assert_eq!(sha256_file(&fx.source), fx.source_sha256);
}

/// A signal mid-copy (Ctrl-C's SIGINT, or SIGTERM from a supervisor): the
/// workers stop at a transaction boundary — chunks in flight roll back,
/// committed ones stay — the run exits 130 or 143 saying a rerun resumes,
/// promptly, is recorded as interrupted, and the rerun completes exactly.
fn signal_mid_copy_stops_at_a_transaction_boundary(signal: i32, expected: i32, said: &str) {
    let db = TestDb::new();
    let fx = fixture(BIG_SOURCE_SQL, big_mapping);
    let pg = Pg::connect(&db.url);
    let mut child = spawn_run(&fx, &db.url, "interrupted");
    wait_for_done_chunks(&pg, &mut child, 5);
    // SAFETY: sends a signal to our own child process.
    let rc = unsafe { libc::kill(child.id() as i32, signal) };
    assert_eq!(rc, 0, "could not signal the run");
    let t_signal = Instant::now();
    let code = wait_with_deadline(&mut child, "interrupted run");
    let (out, err) = log_of(&fx, "interrupted");
    assert!(
        t_signal.elapsed() < Duration::from_secs(20),
        "took {:?} to stop after the signal",
        t_signal.elapsed()
    );
    assert_eq!(
        code,
        Some(expected),
        "expected exit {expected}:\n{out}\n{err}"
    );
    assert!(err.contains(said), "{err}");
    assert!(err.contains("resume"), "{err}");
    pg.wait_tool_backends_gone();
    pg.assert_rows_match_done_chunks("interrupted");
    assert!(pg.done_chunks() >= 5, "committed chunks lost");
    assert_eq!(
        db.scalar("SELECT status FROM sqlite2pg.runs ORDER BY run_id DESC LIMIT 1"),
        "interrupted"
    );

    let mut child = spawn_run(&fx, &db.url, "after-interrupt");
    let code = wait_with_deadline(&mut child, "rerun after the signal");
    let (out, err) = log_of(&fx, "after-interrupt");
    assert_eq!(code, Some(0), "rerun failed:\n{out}\n{err}");
    assert!(err.contains("resuming run 1"), "{err}");
    assert_complete_and_exact(&fx, &db);
}

#[test]
fn ctrl_c_mid_copy_exits_130_and_rerun_completes() {
    signal_mid_copy_stops_at_a_transaction_boundary(libc::SIGINT, 130, "interrupted (Ctrl-C)");
}

#[test]
fn sigterm_mid_copy_exits_143_and_rerun_completes() {
    signal_mid_copy_stops_at_a_transaction_boundary(libc::SIGTERM, 143, "terminated (SIGTERM)");
}

/// Two different pipelines loading one schema at once: the second is
/// refused at once, naming the first (before: a raw catalog error such as
/// `pg_type_typname_nsp_index`), and the first finishes exactly.
#[test]
fn pipelines_sharing_a_schema_are_refused_while_one_loads() {
    let db = TestDb::new();
    let fx = fixture(BIG_SOURCE_SQL, big_mapping);
    let pg = Pg::connect(&db.url);
    let mut child = spawn_run(&fx, &db.url, "first");
    wait_for_done_chunks(&pg, &mut child, 2);
    // Keep the first run going: its key builds on `parent` wait for this
    // lock (up to the tool's lock_timeout) until it is released below.
    let blocker = Pg::connect(&db.url);
    blocker.exec("BEGIN; LOCK TABLE public.parent IN ROW EXCLUSIVE MODE");
    // The same mapping under another name is another pipeline.
    let other = fx.dir.path().join("other.toml");
    std::fs::copy(&fx.toml, &other).unwrap();
    let o = run_pipeline(&other, &db.url, &[]);
    let err = stderr(&o);
    assert_exit(
        &o,
        1,
        &[
            "pipeline `pipeline` is loading schema `public`",
            "Rerun when it has finished",
        ],
    );
    assert!(!err.contains("pg_type"), "{err}");
    blocker.exec("ROLLBACK");
    let code = wait_with_deadline(&mut child, "first run");
    let (out, err) = log_of(&fx, "first");
    assert_eq!(code, Some(0), "{out}\n{err}");
    assert_complete_and_exact(&fx, &db);
    assert_eq!(
        db.scalar("SELECT count(*) FROM sqlite2pg.runs WHERE pipeline = 'other'"),
        "0"
    );
}

/// `verify` while a run of the pipeline is going says so (stderr and
/// `run_in_progress` in the JSON), so its mismatches are not mistaken for
/// a broken load.
#[test]
fn verify_during_a_run_says_a_run_is_in_progress() {
    let db = TestDb::new();
    let fx = fixture(BIG_SOURCE_SQL, big_mapping);
    let pg = Pg::connect(&db.url);
    let mut child = spawn_run(&fx, &db.url, "running");
    wait_for_done_chunks(&pg, &mut child, 2);
    let blocker = Pg::connect(&db.url);
    blocker.exec("BEGIN; LOCK TABLE public.parent IN ROW EXCLUSIVE MODE");
    let (code, json) = verify_json(&fx, &db.url);
    blocker.exec("ROLLBACK");
    assert_eq!(code, Some(3), "{json}");
    assert_eq!(json["run_in_progress"], true, "{json}");
    let code = wait_with_deadline(&mut child, "the run");
    assert_eq!(code, Some(0), "{:?}", log_of(&fx, "running"));
    let (code, json) = verify_json(&fx, &db.url);
    assert_eq!(code, Some(0), "{json}");
    assert_eq!(json["run_in_progress"], false, "{json}");
}

/// SIGTERM while an application's child table waits for its parent to load
/// (one worker, the big table in flight): the queued jobs are skipped — the
/// child's too, though its parent never loaded — so the run stops at once
/// with 143 instead of waiting forever for a parent nobody will load; the
/// rerun completes.
#[test]
fn sigterm_while_a_child_table_waits_for_its_parent_stops_promptly() {
    let db = TestDb::new();
    db.exec(
        "CREATE TABLE public.parent (id bigint PRIMARY KEY, name text NOT NULL);
         CREATE TABLE public.child (id bigint PRIMARY KEY,
             parent_id bigint NOT NULL REFERENCES public.parent (id), note text);",
    );
    let fx = fixture(BIG_SOURCE_SQL, |s| big_mapping(s).default("workers", 1));
    let pg = Pg::connect(&db.url);
    let mut child = spawn_run(&fx, &db.url, "stopped");
    wait_for_done_chunks(&pg, &mut child, 3);
    // SAFETY: sends a signal to our own child process.
    let rc = unsafe { libc::kill(child.id() as i32, libc::SIGTERM) };
    assert_eq!(rc, 0, "could not signal the run");
    let t_signal = Instant::now();
    let code = wait_with_deadline(&mut child, "run stopped by SIGTERM");
    let (out, err) = log_of(&fx, "stopped");
    assert!(
        t_signal.elapsed() < Duration::from_secs(20),
        "took {:?} to stop:\n{err}",
        t_signal.elapsed()
    );
    assert_eq!(code, Some(143), "{out}\n{err}");
    assert_eq!(
        db.scalar("SELECT status FROM sqlite2pg.runs ORDER BY run_id DESC LIMIT 1"),
        "interrupted"
    );
    pg.wait_tool_backends_gone();
    let mut child = spawn_run(&fx, &db.url, "rerun");
    let code = wait_with_deadline(&mut child, "rerun after SIGTERM");
    let (out, err) = log_of(&fx, "rerun");
    assert_eq!(code, Some(0), "{out}\n{err}");
    assert_eq!(db.scalar("SELECT count(*) FROM public.child"), "20000");
    assert_eq!(db.scalar("SELECT count(*) FROM public.parent"), "200");
    assert_eq!(db.scalar("SELECT count(*) FROM public.big"), "1000000");
}
