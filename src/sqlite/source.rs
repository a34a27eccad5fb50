//! Opening the SQLite source: read-only, and checked before anything touches
//! the target. The source file is never written.

use crate::config::plan::TablePlan;
use crate::error::blocked;
use crate::sqlite::reader;
use anyhow::{Context, Result};
use rusqlite::{Connection, OpenFlags};
use std::collections::HashMap;
use std::path::Path;

const SQLITE_MAGIC: &[u8; 16] = b"SQLite format 3\0";

/// Open `path` read-only. Fails with a message naming the file when it does
/// not exist or is not a SQLite database.
pub fn open_readonly(path: &Path) -> Result<Connection> {
    let meta = std::fs::metadata(path)
        .map_err(|e| blocked(format!("cannot open SQLite source {}: {e}", path.display())))?;
    if !meta.is_file() {
        return Err(blocked(format!(
            "SQLite source {} is not a file",
            path.display()
        )));
    }
    let mut head = [0u8; 16];
    {
        use std::io::Read;
        let mut f = std::fs::File::open(path)
            .with_context(|| format!("cannot open SQLite source {}", path.display()))?;
        let n = f
            .read(&mut head)
            .with_context(|| format!("cannot read SQLite source {}", path.display()))?;
        if n < 16 || &head != SQLITE_MAGIC {
            return Err(blocked(format!(
                "{} is not a SQLite database (no SQLite header)",
                path.display()
            )));
        }
    }
    let conn = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_ONLY
            | OpenFlags::SQLITE_OPEN_NO_MUTEX
            | OpenFlags::SQLITE_OPEN_URI,
    )
    .with_context(|| format!("cannot open SQLite source {}", path.display()))?;
    conn.busy_timeout(std::time::Duration::from_secs(30))?;
    Ok(conn)
}

/// Ask the kernel to read the whole file into the page cache, in the
/// background (`posix_fadvise(WILLNEED)` returns at once). `quick_check`
/// walks b-trees in tree order, which on a cold file is random I/O:
/// measured on the 3 GB bench scale 4.0 file after dropping the page cache,
/// `PRAGMA quick_check` took 104 s alone and 50 s with this readahead
/// running (the disk's sequential rate). Skipped for a file larger than
/// half the memory available, where it would only evict itself.
pub fn prefetch(path: &Path) {
    #[cfg(target_os = "linux")]
    {
        use std::os::fd::AsRawFd;
        let Ok(f) = std::fs::File::open(path) else {
            return;
        };
        let Ok(len) = f.metadata().map(|m| m.len()) else {
            return;
        };
        let available = std::fs::read_to_string("/proc/meminfo")
            .ok()
            .and_then(|m| {
                m.lines()
                    .find_map(|l| l.strip_prefix("MemAvailable:"))
                    .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
            })
            .map(|kb| kb * 1024);
        if available.is_some_and(|a| len <= a / 2) {
            // SAFETY: a valid open descriptor; the call only gives advice.
            unsafe {
                libc::posix_fadvise(f.as_raw_fd(), 0, 0, libc::POSIX_FADV_WILLNEED);
            }
        }
    }
    #[cfg(not(target_os = "linux"))]
    let _ = path;
}

/// `PRAGMA quick_check`: structural integrity of the whole file. `check` and
/// `run` make it before they read for real (`run` before it touches the
/// target); `init` only to explain a file it could not read.
pub fn quick_check(conn: &Connection, path: &Path) -> Result<()> {
    // Not every failure to read is corruption (a hot journal on read-only
    // storage, a WAL file that cannot be opened): SQLite's own words say
    // which.
    let unreadable = |e: rusqlite::Error| {
        let corrupt = matches!(
            e.sqlite_error_code(),
            Some(rusqlite::ErrorCode::DatabaseCorrupt | rusqlite::ErrorCode::NotADatabase)
        );
        let what = if corrupt {
            "is corrupt"
        } else {
            "cannot be read for its integrity check"
        };
        blocked(format!("SQLite source {} {what}: {e}", path.display()))
    };
    let mut stmt = conn.prepare("PRAGMA quick_check").map_err(unreadable)?;
    let mut query = stmt.query([]).map_err(unreadable)?;
    // The check may report some problems, then stop on one it cannot step
    // over: keep what it said.
    let mut rows: Vec<String> = Vec::new();
    let mut stopped = None;
    loop {
        match query.next().and_then(|r| r.map(|r| r.get(0)).transpose()) {
            Ok(Some(line)) => rows.push(line),
            Ok(None) => break,
            Err(e) => {
                stopped = Some(e);
                break;
            }
        }
    }
    match stopped {
        None if rows.len() == 1 && rows[0] == "ok" => return Ok(()),
        Some(e) if rows.is_empty() => return Err(unreadable(e)),
        Some(e) => rows.push(format!("then: {e}")),
        None => {}
    }
    let shown: Vec<_> = rows.iter().take(5).cloned().collect();
    let damaged = damaged_objects(conn, &rows);
    let which = if damaged.is_empty() {
        String::new()
    } else {
        format!(" (damaged pages belong to: {})", damaged.join(", "))
    };
    Err(blocked(format!(
        "SQLite source {} is corrupt: PRAGMA quick_check found {}{which}",
        path.display(),
        shown.join("; ")
    )))
}

/// The tables and indexes the pages quick_check names belong to, as far as
/// SQLite's `dbstat` can still tell (best effort: a page it cannot place
/// is left out).
fn damaged_objects(conn: &Connection, report: &[String]) -> Vec<String> {
    let mut pages = Vec::new();
    for line in report.iter().take(20) {
        let mut rest = line.as_str();
        while let Some(i) = rest.find("page ").or_else(|| rest.find("Page ")) {
            rest = &rest[i + 5..];
            let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
            if let Ok(n) = digits.parse::<i64>() {
                pages.push(n);
            }
        }
    }
    let mut names: Vec<String> = Vec::new();
    for p in pages {
        let name: Option<String> = conn
            .query_row("SELECT name FROM dbstat WHERE pageno = ?1", [p], |r| {
                r.get(0)
            })
            .ok();
        if let Some(n) = name.filter(|n| !names.contains(n)) {
            names.push(n);
        }
    }
    names
}

/// A consistent private copy of the source (`run --snapshot copy`),
/// removed when dropped.
pub struct SnapshotCopy {
    pub path: std::path::PathBuf,
    _dir: tempfile::TempDir,
}

/// Copy the source page by page with SQLite's backup API, in one step: the
/// whole copy is read in one read transaction, so it is one committed state
/// of the file whatever the application writes meanwhile (in rollback-journal
/// mode its writers wait for the copy; in WAL mode they do not). Page for
/// page, so rowids, and the rows rejects name, are those of the source.
pub fn snapshot_copy(conn: &Connection, path: &Path, dir: &Path) -> Result<SnapshotCopy> {
    use rusqlite::backup::{Backup, StepResult};
    let t0 = std::time::Instant::now();
    let tmp = tempfile::Builder::new()
        .prefix("sqlite2pg-snapshot-")
        .tempdir_in(dir)
        .with_context(|| {
            format!(
                "--snapshot copy: cannot make a directory for the copy in {}",
                dir.display()
            )
        })?;
    let copy = tmp
        .path()
        .join(path.file_name().unwrap_or("source.db".as_ref()));
    let failed = |e: rusqlite::Error| {
        blocked(format!(
            "--snapshot copy: copying {} to {} failed: {e} (it needs the source's size free there; \
             choose another place with --snapshot-dir)",
            path.display(),
            copy.display()
        ))
    };
    let mut dst = Connection::open(&copy).map_err(failed)?;
    {
        let backup = Backup::new(conn, &mut dst).map_err(failed)?;
        let deadline = t0 + std::time::Duration::from_secs(60);
        loop {
            match backup.step(-1).map_err(failed)? {
                StepResult::Done => break,
                // A writer holds the file (rollback-journal mode): wait.
                _ if std::time::Instant::now() < deadline => {
                    std::thread::sleep(std::time::Duration::from_millis(50))
                }
                _ => {
                    return Err(blocked(format!(
                        "--snapshot copy: {} stayed locked by a writer for 60 s; no copy was made",
                        path.display()
                    )))
                }
            }
        }
    }
    drop(dst);
    let size = std::fs::metadata(&copy).map(|m| m.len()).unwrap_or(0);
    tracing::info!(
        "--snapshot copy: copied {} to {} ({:.1} MB in {:.1}s); the run reads the copy",
        path.display(),
        copy.display(),
        size as f64 / 1e6,
        t0.elapsed().as_secs_f64()
    );
    Ok(SnapshotCopy {
        path: copy,
        _dir: tmp,
    })
}

/// Open read-only and integrity-check.
pub fn open_checked(path: &Path) -> Result<Connection> {
    let conn = open_readonly(path)?;
    prefetch(path);
    quick_check(&conn, path)?;
    Ok(conn)
}

/// Column names of a source table (`pragma_table_xinfo`, so generated and
/// hidden columns too); empty when there is no such table.
pub fn table_columns(conn: &Connection, table: &str) -> Result<Vec<String>> {
    let mut stmt = conn.prepare_cached("SELECT name FROM pragma_table_xinfo(?1)")?;
    let cols = stmt
        .query_map([table], |r| r.get(0))?
        .collect::<rusqlite::Result<_>>()
        .with_context(|| format!("reading the columns of source table {table}"))?;
    Ok(cols)
}

/// Every table and column the mapping names must exist in the source, and
/// every filter must compile: found now, not halfway through the copy.
pub fn check_source_matches(
    conn: &rusqlite::Connection,
    plans: &[TablePlan],
    path: &Path,
) -> Result<()> {
    let mut problems = Vec::new();
    for t in plans {
        // Checked by name first: SQLite reads a double-quoted name that is
        // not a column as a string literal, so the query below would
        // prepare fine and load the column's name into every row.
        let present = table_columns(conn, &t.source)?;
        if !present.is_empty() {
            for c in &t.columns {
                if !present.iter().any(|p| p.eq_ignore_ascii_case(&c.source)) {
                    problems.push(format!("table {}: no such column: {}", t.source, c.source));
                }
            }
        }
        let cols: Vec<String> = t
            .columns
            .iter()
            .map(|c| reader::sqlite_quote(&c.source))
            .collect();
        let filter = t.filter_clause("WHERE");
        let sql = format!(
            "SELECT {} FROM {}{filter} LIMIT 0",
            cols.join(", "),
            reader::sqlite_quote(&t.source)
        );
        if let Err(e) = conn.prepare(&sql) {
            problems.push(format!("table {}: {e}", t.source));
        }
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(crate::error::usage(format!(
            "the mapping does not match the source {}:\n  {}",
            path.display(),
            problems.join("\n  ")
        )))
    }
}

/// Each table's chunk plan, on a connection of its own.
pub fn plan_source_chunks(
    path: &Path,
    tables: &[&TablePlan],
    chunk_size: u64,
) -> Result<HashMap<String, reader::ChunkPlan>> {
    let conn = open_readonly(path)?;
    let mut out = HashMap::new();
    for t in tables {
        let columns = table_columns(&conn, &t.source)?;
        let rowid = reader::rowid_name(t, &columns);
        out.insert(
            t.source.clone(),
            reader::plan_chunks(&conn, t, rowid, chunk_size)?,
        );
    }
    Ok(out)
}

pub fn all_source_columns(
    conn: &rusqlite::Connection,
    plans: &[TablePlan],
) -> Result<HashMap<String, Vec<String>>> {
    let mut out = HashMap::new();
    for t in plans {
        out.insert(t.source.clone(), table_columns(conn, &t.source)?);
    }
    Ok(out)
}
