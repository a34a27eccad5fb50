//! The terminal as a person sees it: a load of several seconds in a
//! pseudo-terminal (160×40), its output fed through a terminal emulator
//! (vt100), and the final screen and the scrollback read back: no bar left
//! behind, no log line cut by a bar, the summary present.

use crate::common::*;
use std::io::Read;
use std::num::NonZeroU16;
use std::os::fd::{FromRawFd, OwnedFd};
use std::process::{Command, Stdio};

const ROWS: u16 = 40;
const COLS: u16 = 160;

/// A pseudo-terminal of ROWS×COLS: (master, slave).
fn openpty() -> (OwnedFd, OwnedFd) {
    let (mut master, mut slave) = (0, 0);
    let ws = libc::winsize {
        ws_row: ROWS,
        ws_col: COLS,
        ws_xpixel: 0,
        ws_ypixel: 0,
    };
    // SAFETY: openpty writes two fds it opened into the given integers.
    let rc = unsafe {
        libc::openpty(
            &mut master,
            &mut slave,
            std::ptr::null_mut(),
            std::ptr::null(),
            &ws,
        )
    };
    assert_eq!(rc, 0, "openpty: {}", std::io::Error::last_os_error());
    // SAFETY: both fds were just opened and are owned by nobody else.
    unsafe { (OwnedFd::from_raw_fd(master), OwnedFd::from_raw_fd(slave)) }
}

/// Run sqlite2pg with stdout and stderr on a terminal; everything the
/// terminal received, and the exit code.
fn run_in_pty(args: &[&str], env: &[(&str, &str)]) -> (Vec<u8>, Option<i32>) {
    let (master, slave) = openpty();
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_sqlite2pg"));
    cmd.args(args)
        .env_remove("DATABASE_URL")
        .env_remove("NO_COLOR")
        .env_remove("RUST_LOG")
        .env("TERM", "xterm-256color")
        .stdin(Stdio::null())
        .stdout(Stdio::from(slave.try_clone().unwrap()))
        .stderr(Stdio::from(slave));
    for (k, v) in env {
        cmd.env(k, v);
    }
    let mut child = cmd.spawn().expect("spawn sqlite2pg");
    // The parent's copies of the slave end are gone with `cmd`.
    drop(cmd);
    let reader = std::thread::spawn(move || {
        let mut f = std::fs::File::from(master);
        let mut out = Vec::new();
        let mut buf = [0u8; 65536];
        loop {
            match f.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => out.extend_from_slice(&buf[..n]),
                // EIO: every slave end is closed.
                Err(_) => break,
            }
        }
        out
    });
    let status = child.wait().unwrap();
    (reader.join().unwrap(), status.code())
}

/// Every line a person can scroll through: the scrollback, then the screen.
fn all_lines(bytes: &[u8]) -> (Vec<String>, Vec<String>) {
    let mut p = vt100::Parser::new(
        NonZeroU16::new(ROWS).unwrap(),
        NonZeroU16::new(COLS).unwrap(),
        100_000,
    );
    // A terminal turns a bare LF into CR LF (onlcr): do the same.
    let mut cooked = Vec::with_capacity(bytes.len());
    for &b in bytes {
        cooked.push(b);
    }
    p.process(&cooked);
    let screen: Vec<String> = p.screen().rows(0, COLS).collect();
    p.screen_mut().set_scrollback(usize::MAX);
    let back = p.screen().scrollback();
    let mut lines = Vec::new();
    for off in (1..=back).rev() {
        p.screen_mut().set_scrollback(off);
        lines.push(p.screen().rows(0, COLS).next().unwrap());
    }
    p.screen_mut().set_scrollback(0);
    lines.extend(screen.iter().cloned());
    while lines.last().is_some_and(|l| l.trim().is_empty()) {
        lines.pop();
    }
    (lines, screen)
}

/// Five tables, two of them large enough for a load of several seconds.
fn fixture() -> (tempfile::TempDir, std::path::PathBuf) {
    let rows = |n: u64, name: &str| {
        format!(
            "CREATE TABLE {name} (id INTEGER PRIMARY KEY, parent INTEGER, label TEXT NOT NULL, \
             amount REAL, created TEXT);
             WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < {n})
             INSERT INTO {name} SELECT x, CASE WHEN x > 1 THEN x - 1 END, 'label number ' || x,
             x * 1.25, '2024-01-' || printf('%02d', x % 28 + 1) || ' 12:00:00' FROM c;
             CREATE INDEX {name}_label ON {name}(label);"
        )
    };
    let sql = [
        rows(5_000_000, "events"),
        rows(2_000_000, "orders"),
        rows(500_000, "customers"),
        rows(5_000, "products"),
        rows(10, "settings"),
    ]
    .join("\n");
    let (dir, toml) = mapped_fixture(&sql);
    // Small chunks: many jobs, bars that move for a while.
    edit_mapping(&toml, "chunk_size = 100000", "chunk_size = 50000");
    (dir, toml)
}

#[test]
fn a_load_in_a_terminal_leaves_a_clean_screen() {
    let db = TestDb::new();
    let (_dir, toml) = fixture();
    let started = std::time::Instant::now();
    let (bytes, code) = run_in_pty(&["run", toml.to_str().unwrap(), "--target", &db.url], &[]);
    let secs = started.elapsed().as_secs_f64();
    let (lines, screen) = all_lines(&bytes);
    let text = lines.join("\n");
    eprintln!("{secs:.1}s, {} bytes, final text:\n{text}", bytes.len());
    assert_eq!(code, Some(0), "{text}");
    assert!(
        bytes.windows(2).any(|w| w == b"\x1b["),
        "bars are drawn on a terminal"
    );
    // No bar left behind: bars are cleared when their stage ends.
    for l in &lines {
        assert!(
            !l.contains(" ETA "),
            "a bar left in the output: {l:?}\n{text}"
        );
        assert!(!l.contains("] "), "a bar left in the output: {l:?}\n{text}");
    }
    // No log line cut or overwritten: each starts with its timestamp and
    // level, and holds nothing of a bar.
    let logs: Vec<&String> = lines
        .iter()
        .filter(|l| l.contains(" INFO ") || l.contains(" WARN ") || l.contains(" ERROR "))
        .collect();
    for l in &logs {
        assert!(
            l.starts_with("20") && l.as_bytes().get(4) == Some(&b'-'),
            "a log line that does not start at its timestamp: {l:?}\n{text}"
        );
        assert!(!l.contains("=>"), "a bar inside a log line: {l:?}\n{text}");
    }
    // One line per stage and per table, not one per statement.
    assert!(
        logs.len() <= 4 + 5 + 2,
        "{} log lines for 5 tables:\n{text}",
        logs.len()
    );
    for want in ["prepare done", "finalize done"] {
        assert_eq!(
            logs.iter().filter(|l| l.contains(want)).count(),
            1,
            "`{want}` once:\n{text}"
        );
    }
    // The summary, on the final screen.
    let screen = screen.join("\n");
    for t in ["events", "orders", "customers", "products", "settings"] {
        assert!(
            screen.lines().any(|l| l.starts_with(t)),
            "summary row of {t}:\n{screen}"
        );
    }
    assert!(screen.contains("finished in"), "{screen}");
    assert!(screen.contains("count check passed"), "{screen}");
}

#[test]
fn no_color_and_never_keep_escape_codes_out_of_log_lines() {
    let db = TestDb::new();
    let (_dir, toml) =
        mapped_fixture("CREATE TABLE t (id INTEGER PRIMARY KEY); INSERT INTO t VALUES (1);");
    let args = [
        "run",
        toml.to_str().unwrap(),
        "--target",
        &db.url,
        "--no-progress",
    ];
    let (bytes, code) = run_in_pty(&args, &[("NO_COLOR", "1")]);
    assert_eq!(code, Some(0), "{}", String::from_utf8_lossy(&bytes));
    assert!(
        !bytes.windows(2).any(|w| w == b"\x1b["),
        "NO_COLOR: no escape codes:\n{}",
        String::from_utf8_lossy(&bytes)
    );
    let db2 = TestDb::new();
    let (_dir2, toml2) =
        mapped_fixture("CREATE TABLE t (id INTEGER PRIMARY KEY); INSERT INTO t VALUES (1);");
    let (bytes, _) = run_in_pty(
        &[
            "run",
            toml2.to_str().unwrap(),
            "--target",
            &db2.url,
            "--no-progress",
        ],
        &[],
    );
    assert!(
        bytes.windows(2).any(|w| w == b"\x1b["),
        "a terminal without NO_COLOR gets colour"
    );
    let db3 = TestDb::new();
    let (_dir3, toml3) =
        mapped_fixture("CREATE TABLE t (id INTEGER PRIMARY KEY); INSERT INTO t VALUES (1);");
    let (bytes, _) = run_in_pty(
        &[
            "--color",
            "never",
            "run",
            toml3.to_str().unwrap(),
            "--target",
            &db3.url,
            "--no-progress",
        ],
        &[],
    );
    assert!(
        !bytes.windows(2).any(|w| w == b"\x1b["),
        "--color never:\n{}",
        String::from_utf8_lossy(&bytes)
    );
}

#[test]
fn status_into_a_closed_pipe_ends_quietly() {
    let db = TestDb::new();
    let (_dir, toml) = mapped_fixture(
        "CREATE TABLE a (id INTEGER PRIMARY KEY); CREATE TABLE b (id INTEGER PRIMARY KEY);
         CREATE TABLE c (id INTEGER PRIMARY KEY);",
    );
    let o = run_pipeline(&toml, &db.url, &[]);
    assert_exit(&o, 0, &[]);
    for cmd in ["status", "verify"] {
        let script = format!(
            "set -o pipefail; {bin} {cmd} {toml} --target '{url}' | head -1",
            bin = env!("CARGO_BIN_EXE_sqlite2pg"),
            toml = toml.display(),
            url = db.url
        );
        let o = Command::new("bash").args(["-c", &script]).output().unwrap();
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(0), "{cmd} | head -1: {err}");
        assert!(!err.contains("panicked"), "{err}");
        assert_eq!(String::from_utf8_lossy(&o.stdout).lines().count(), 1);
    }
}
