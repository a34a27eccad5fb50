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

/// `PRAGMA quick_check`: structural integrity of the whole file. Run once,
/// before the target is touched.
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
