//! Shared test harness: a fresh PostgreSQL database per test (dropped
//! afterwards, so tests run in parallel and leave nothing behind), the real
//! `sqlite2pg` binary, and SQLite fixtures.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::atomic::{AtomicU32, Ordering};
use tokio_postgres::NoTls;

mod mapping;
mod poller;
pub mod venv;

pub use mapping::Mapping;
pub use poller::Pg;

pub fn server_url() -> String {
    std::env::var("SQLITE2PG_TEST_DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into())
}

fn with_db(url: &str, db: &str) -> String {
    let mut u =
        url::Url::parse(url).expect("SQLITE2PG_TEST_DATABASE_URL must be a postgres:// URL");
    u.set_path(&format!("/{db}"));
    u.to_string()
}

static COUNTER: AtomicU32 = AtomicU32::new(0);

/// A database created for one test and dropped when the value is dropped.
pub struct TestDb {
    pub name: String,
    pub url: String,
}

impl TestDb {
    pub fn new() -> TestDb {
        TestDb::with_options("")
    }

    /// A database created with these `CREATE DATABASE` options (e.g.
    /// `ENCODING 'LATIN1' ... TEMPLATE template0`).
    pub fn with_options(options: &str) -> TestDb {
        let name = format!(
            "s2p_test_{}_{}_{}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::SeqCst),
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .subsec_nanos()
        );
        admin(&format!("CREATE DATABASE \"{name}\" {options}"));
        let url = with_db(&server_url(), &name);
        TestDb { name, url }
    }

    /// Run one query synchronously and return rows as strings (NULL → "NULL").
    pub fn query(&self, sql: &str) -> Vec<Vec<String>> {
        let url = self.url.clone();
        let sql = sql.to_string();
        block_on(async move {
            let (c, conn) = tokio_postgres::connect(&url, NoTls).await.unwrap();
            tokio::spawn(conn);
            let rows = c
                .simple_query(&sql)
                .await
                .unwrap_or_else(|e| panic!("query failed: {sql}: {e}"));
            rows.into_iter()
                .filter_map(|m| match m {
                    tokio_postgres::SimpleQueryMessage::Row(r) => Some(
                        (0..r.len())
                            .map(|i| r.get(i).unwrap_or("NULL").to_string())
                            .collect(),
                    ),
                    _ => None,
                })
                .collect()
        })
    }

    pub fn scalar(&self, sql: &str) -> String {
        let rows = self.query(sql);
        assert_eq!(rows.len(), 1, "expected one row from {sql}, got {rows:?}");
        rows[0][0].clone()
    }

    pub fn exec(&self, sql: &str) {
        self.query(sql);
    }

    /// psql's stderr for a statement PostgreSQL must refuse (as an
    /// application would see it); panics if it succeeds.
    pub fn refusal(&self, sql: &str) -> String {
        let o = Command::new("psql")
            .args([self.url.as_str(), "-c", sql])
            .output()
            .expect("run psql");
        assert!(!o.status.success(), "PostgreSQL accepted: {sql}");
        String::from_utf8_lossy(&o.stderr).into_owned()
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        admin(&format!(
            "DROP DATABASE IF EXISTS \"{}\" WITH (FORCE)",
            self.name
        ));
    }
}

/// A role made for one test (roles are the server's, not a database's: the
/// name is unique) and dropped when the value is dropped. Declare it before
/// the `TestDb` whose objects it owns, so that database is dropped first.
pub struct TestRole {
    pub name: String,
}

impl TestRole {
    pub fn new() -> TestRole {
        let name = format!(
            "s2p_role_{}_{}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::SeqCst)
        );
        admin(&format!("CREATE ROLE \"{name}\" NOLOGIN"));
        TestRole { name }
    }
}

impl Drop for TestRole {
    fn drop(&mut self) {
        admin(&format!("DROP ROLE IF EXISTS \"{}\"", self.name));
    }
}

fn block_on<F: std::future::Future>(f: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(f)
}

fn admin(sql: &str) {
    let url = server_url();
    let sql = sql.to_string();
    // A thread of its own: Drop may run inside a runtime.
    std::thread::spawn(move || {
        block_on(async move {
            let (c, conn) = tokio_postgres::connect(&url, NoTls)
                .await
                .unwrap_or_else(|e| panic!("cannot reach test PostgreSQL at {url}: {e}"));
            tokio::spawn(conn);
            c.batch_execute(&sql)
                .await
                .unwrap_or_else(|e| panic!("{sql}: {e}"));
        })
    })
    .join()
    .unwrap();
}

/// The real binary.
pub fn sqlite2pg(args: &[&str]) -> Output {
    let out = Command::new(env!("CARGO_BIN_EXE_sqlite2pg"))
        .args(args)
        .env_remove("DATABASE_URL")
        .env("NO_COLOR", "1")
        .output()
        .expect("run sqlite2pg");
    eprintln!(
        "$ sqlite2pg {}\n--- stdout\n{}--- stderr\n{}--- exit {:?}",
        args.join(" "),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
        out.status.code()
    );
    out
}

/// The real binary, run in `dir` (for what it writes where `init` writes
/// by default: `pipelines/`).
pub fn sqlite2pg_in(dir: &Path, args: &[&str]) -> Output {
    let out = Command::new(env!("CARGO_BIN_EXE_sqlite2pg"))
        .args(args)
        .current_dir(dir)
        .env_remove("DATABASE_URL")
        .env("NO_COLOR", "1")
        .output()
        .expect("run sqlite2pg");
    eprintln!(
        "$ (in {}) sqlite2pg {}\n--- stdout\n{}--- stderr\n{}--- exit {:?}",
        dir.display(),
        args.join(" "),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
        out.status.code()
    );
    out
}

/// The shape of the Chinook sample database (tests/fixtures).
pub const CHINOOK_SQL: &str = include_str!("../../fixtures/chinook_shape.sql");

/// `sqlite2pg run TOML --target URL --no-progress EXTRA...`.
pub fn run_pipeline(toml: impl AsRef<Path>, url: &str, extra: &[&str]) -> Output {
    let toml = toml.as_ref().to_str().expect("UTF-8 path");
    let mut args = vec!["run", toml, "--target", url, "--no-progress"];
    args.extend_from_slice(extra);
    sqlite2pg(&args)
}

/// Replace `from` with `to` in a mapping file, which must contain `from`
/// (what `init` wrote, say).
pub fn edit_mapping(toml: &Path, from: &str, to: &str) {
    let text = std::fs::read_to_string(toml).unwrap();
    assert!(
        text.contains(from),
        "{} has no `{from}`:\n{text}",
        toml.display()
    );
    std::fs::write(toml, text.replace(from, to)).unwrap();
}

/// A SQLite source built from `sql` and the mapping `init` writes for it
/// (`p.toml` beside it); the directory lives as long as the returned guard.
pub fn mapped_fixture(sql: &str) -> (tempfile::TempDir, PathBuf) {
    let (dir, src) = sqlite_fixture(sql);
    let toml = dir.path().join("p.toml");
    init_mapping(&src, &toml);
    (dir, toml)
}

/// `sqlite2pg init SRC -o TOML`, which must succeed.
pub fn init_mapping(src: &Path, toml: &Path) {
    init_ok(src, toml);
}

/// `sqlite2pg init SRC -o TOML --names keep`, which must succeed; its
/// output (what it said on stderr) for the test to check. The names are
/// kept as the fixture spells them (the tests using this check other
/// things, in the fixture's names); `init`'s default case is tested in
/// `names`.
pub fn init_ok(src: &Path, toml: &Path) -> Output {
    let (s, t) = (src.to_str().unwrap(), toml.to_str().unwrap());
    let o = sqlite2pg(&["init", s, "-o", t, "--names", "keep"]);
    assert_exit(&o, 0, &[]);
    o
}

/// The process exited with `code` and printed each of `words` (on stdout
/// or on stderr); else a panic showing the exit code, the missing words and
/// both streams.
#[track_caller]
pub fn assert_exit(o: &Output, code: i32, words: &[&str]) {
    let (out, err) = (stdout(o), stderr(o));
    let missing: Vec<&str> = words
        .iter()
        .copied()
        .filter(|w| !out.contains(w) && !err.contains(w))
        .collect();
    assert!(
        o.status.code() == Some(code) && missing.is_empty(),
        "want exit {code} printing {words:?}\ngot exit {:?}, missing {missing:?}\n\
         --- stdout\n{out}--- stderr\n{err}---",
        o.status.code()
    );
}

pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}
pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

pub fn sha256_file(p: &Path) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(std::fs::read(p).unwrap()))
}

/// A temp dir holding a SQLite file built from `sql`.
pub fn sqlite_fixture(sql: &str) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("source.db");
    let conn = rusqlite::Connection::open(&path).unwrap();
    conn.execute_batch(sql).unwrap();
    drop(conn);
    (dir, path)
}

/// The feature-rich fixture of the core issue: composite primary key, a
/// foreign-key chain, unique and partial indexes, AUTOINCREMENT,
/// reserved-word and mixed-case names, NULLs, non-ASCII text, BLOBs, REAL
/// values whose 17th digit matters, a 0-row table and a 100k-row table.
pub const FIXTURE_SQL: &str = r#"
CREATE TABLE "User Accounts" (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    "Email" TEXT NOT NULL UNIQUE,
    display_name nvarchar(20),
    score double,
    created_at DATETIME DEFAULT CURRENT_TIMESTAMP,
    status TEXT DEFAULT 'active',
    retries int(5) DEFAULT 0,
    big unsigned big int,
    avatar BLOB,
    notes
);
CREATE TABLE "order" (
    id INTEGER PRIMARY KEY,
    user_id INTEGER NOT NULL REFERENCES "User Accounts"(id) ON DELETE CASCADE,
    "select" TEXT,
    total REAL NOT NULL DEFAULT 0.0,
    placed_at datetime DEFAULT (datetime('now'))
);
CREATE INDEX order_user_idx ON "order"(user_id);
CREATE INDEX order_open_idx ON "order"(placed_at) WHERE "select" IS NOT NULL;
CREATE TABLE order_items (
    order_id INTEGER NOT NULL REFERENCES "order"(id),
    line_no INTEGER NOT NULL,
    sku TEXT NOT NULL,
    qty INTEGER NOT NULL DEFAULT 1,
    PRIMARY KEY (order_id, line_no)
);
CREATE TABLE empty_table (id INTEGER PRIMARY KEY, v TEXT);
CREATE TABLE events (id INTEGER PRIMARY KEY AUTOINCREMENT, kind TEXT NOT NULL, payload TEXT, amount REAL);
CREATE VIEW active_users AS SELECT * FROM "User Accounts" WHERE status = 'active';

INSERT INTO "User Accounts" (id, "Email", display_name, score, created_at, status, retries, big, avatar, notes) VALUES
 (1, 'ann@example.com', 'Ann', 0.1, '2024-01-02 03:04:05', 'active', 3, 9007199254740993, x'00ff10', 'plain'),
 (2, 'bjørn@example.com', 'Bjørn ünïcødé ✓', 0.30000000000000004, '2024-02-03 04:05:06', NULL, 0, NULL, NULL, NULL),
 (3, 'zed@example.com', NULL, 1.7976931348623157e308, '2024-03-04 05:06:07', 'banned', NULL, -5, x'', 'tab	and
newline'),
 (7, 'q"uote@example.com', 'O''Brien', -2.2250738585072014e-308, NULL, 'active', 1, 0, NULL, '');
INSERT INTO "order" (id, user_id, "select", total, placed_at) VALUES
 (10, 1, 'yes', 12.5, '2024-05-01 10:00:00'),
 (11, 1, NULL, 0.1, '2024-05-02 11:00:00'),
 (12, 2, 'x', 123456789.12345679, '2024-05-03 12:00:00'),
 (13, 7, NULL, 0, '2024-05-04 13:00:00');
INSERT INTO order_items VALUES (10, 1, 'A-1', 2), (10, 2, 'B-2', 1), (12, 1, 'A-1', 5), (13, 1, 'C-3', 1);
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 100000)
INSERT INTO events (id, kind, payload, amount)
SELECT i, CASE i % 3 WHEN 0 THEN 'click' WHEN 1 THEN 'view' ELSE 'buy' END,
       CASE WHEN i % 10 = 0 THEN NULL ELSE 'payload ' || i END,
       i * 0.1
FROM n;
"#;

/// `sqlite2pg init SRC -o TOML --declared-types`, which must succeed: the
/// declared types kept, for tests of what happens when cells do not fit
/// them (a plain `init` types each column by what its cells hold).
pub fn init_mapping_declared(src: &Path, toml: &Path) {
    let o = sqlite2pg(&[
        "init",
        src.to_str().unwrap(),
        "-o",
        toml.to_str().unwrap(),
        "--declared-types",
        "--names",
        "keep",
    ]);
    assert_exit(&o, 0, &[]);
}

/// `assert_exit` itself: a word is found on either stream, and another exit
/// code or a word printed nowhere fails.
#[test]
fn assert_exit_fails_on_another_exit_code_or_a_word_printed_nowhere() {
    use std::os::unix::process::ExitStatusExt;
    let o = Output {
        status: std::process::ExitStatus::from_raw(3 << 8),
        stdout: b"said on stdout\n".to_vec(),
        stderr: b"said on stderr\n".to_vec(),
    };
    assert_exit(&o, 3, &["on stdout", "on stderr"]);
    let fails = |code: i32, words: &[&str]| {
        std::panic::catch_unwind(|| assert_exit(&o, code, words)).is_err()
    };
    assert!(fails(4, &[]));
    assert!(fails(3, &["on stdout", "elsewhere"]));
}
