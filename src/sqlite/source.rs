//! Opening the SQLite source: read-only, and checked before anything touches
//! the target. The source file is never written.

use anyhow::{bail, Context, Result};
use rusqlite::{Connection, OpenFlags};
use std::path::Path;

const SQLITE_MAGIC: &[u8; 16] = b"SQLite format 3\0";

/// Open `path` read-only. Fails with a message naming the file when it does
/// not exist or is not a SQLite database.
pub fn open_readonly(path: &Path) -> Result<Connection> {
    let meta = std::fs::metadata(path)
        .with_context(|| format!("cannot open SQLite source {}", path.display()))?;
    if !meta.is_file() {
        bail!("SQLite source {} is not a file", path.display());
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
            bail!(
                "{} is not a SQLite database (no SQLite header)",
                path.display()
            );
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
    let mut stmt = conn
        .prepare("PRAGMA quick_check")
        .with_context(|| format!("SQLite source {} is corrupt", path.display()))?;
    let rows: Vec<String> = stmt
        .query_map([], |r| r.get::<_, String>(0))
        .and_then(|it| it.collect())
        .with_context(|| format!("SQLite source {} is corrupt", path.display()))?;
    if rows.len() == 1 && rows[0] == "ok" {
        return Ok(());
    }
    let shown: Vec<_> = rows.iter().take(5).cloned().collect();
    bail!(
        "SQLite source {} failed PRAGMA quick_check: {}",
        path.display(),
        shown.join("; ")
    )
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
