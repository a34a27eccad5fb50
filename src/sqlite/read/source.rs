//! Opening the SQLite source: read-only, and checked before anything touches
//! the target. The source file is never written. Also here: the name its
//! rowid is read under and each table's chunk plan (rowid ranges).

use crate::config::mapping::Pipeline;
use crate::config::plan::TablePlan;
use crate::error::blocked;
use crate::sqlite::sql::quote::sqlite_quote;
use anyhow::{Context, Result};
use rusqlite::{Connection, OpenFlags};
use std::collections::HashMap;
use std::path::{Path, PathBuf};

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
    // No file handle of our own here: closing one drops every POSIX lock
    // this process holds on the file, our other connections' included
    // (readers, the guard, the page hash beside quick_check). The header is
    // read only once SQLite has refused the file (`unreadable`).
    if meta.len() < 16 {
        return Err(not_sqlite(path));
    }
    let conn = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_ONLY
            | OpenFlags::SQLITE_OPEN_NO_MUTEX
            | OpenFlags::SQLITE_OPEN_URI,
    )
    .with_context(|| format!("cannot open SQLite source {}", path.display()))?;
    conn.busy_timeout(std::time::Duration::from_secs(30))?;
    // The first read opens the rollback journal or the WAL: a file SQLite
    // cannot read read-only is named here, with why and what to do, before
    // anything else reads it.
    conn.query_row("SELECT count(*) FROM sqlite_schema", [], |_| Ok(()))
        .map_err(|e| unreadable(path, "cannot be read", e))?;
    Ok(conn)
}

/// Why SQLite could not read `path`, in the operator's words. Not every
/// failure is corruption: a hot journal a read-only open cannot roll back,
/// a WAL file whose shared memory cannot be made on read-only storage.
fn unreadable(path: &Path, doing: &str, e: rusqlite::Error) -> anyhow::Error {
    use rusqlite::ErrorCode;
    let shown = path.display();
    let (code, extended) = match &e {
        rusqlite::Error::SqliteFailure(f, _) => (Some(f.code), f.extended_code),
        _ => (None, 0),
    };
    // SQLITE_READONLY_ROLLBACK: a hot journal read-only cannot roll back.
    const READONLY_ROLLBACK: i32 = 8 | (3 << 8);
    let journal = PathBuf::from(format!("{}-journal", path.display()));
    if extended == READONLY_ROLLBACK {
        return blocked(format!(
            "SQLite source {shown} has a hot journal ({}): a writer stopped in the middle of a \
             transaction, and SQLite must roll its changes back before the file can be read, which \
             a read-only open cannot do. Open it once read-write (`sqlite3 {shown} 'PRAGMA \
             quick_check'`, or start the application), then rerun. Do not delete the journal: \
             without it the file is corrupt. ({e})",
            journal.display()
        ));
    }
    if code == Some(ErrorCode::NotADatabase) && !has_sqlite_header(path) {
        return not_sqlite(path);
    }
    if code == Some(ErrorCode::DatabaseCorrupt) || code == Some(ErrorCode::NotADatabase) {
        return blocked(format!("SQLite source {shown} is corrupt: {e}"));
    }
    if in_wal_mode(path) && matches!(code, Some(ErrorCode::CannotOpen | ErrorCode::ReadOnly)) {
        return blocked(format!(
            "SQLite source {shown} is in WAL mode and SQLite cannot create its shared-memory file \
             ({shown}-shm) beside it (read-only storage or directory?). Copy it, with its -wal file \
             if there is one, to writable storage; or, where it is writable, switch it with \
             `sqlite3 {shown} 'PRAGMA journal_mode=DELETE'`. ({e})"
        ));
    }
    blocked(format!("SQLite source {shown} {doing}: {e}"))
}

fn not_sqlite(path: &Path) -> anyhow::Error {
    blocked(format!(
        "{} is not a SQLite database (no SQLite header)",
        path.display()
    ))
}

/// Whether the file starts with SQLite's header. Opens a handle of its
/// own: only for a file SQLite refused.
fn has_sqlite_header(path: &Path) -> bool {
    use std::io::Read;
    let mut head = [0u8; 16];
    std::fs::File::open(path)
        .and_then(|mut f| f.read_exact(&mut head))
        .is_ok_and(|()| &head == SQLITE_MAGIC)
}

/// Whether the file's header says WAL mode (read and write versions 2).
fn in_wal_mode(path: &Path) -> bool {
    use std::io::Read;
    let mut head = [0u8; 20];
    std::fs::File::open(path)
        .and_then(|mut f| f.read_exact(&mut head))
        .is_ok_and(|_| head[18] == 2 && head[19] == 2)
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
    let unreadable = |e| unreadable(path, "cannot be read for its integrity check", e);
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
        let hint = if e.sqlite_error_code() == Some(rusqlite::ErrorCode::DiskFull) {
            " (it needs the source's size free there; choose another place with --snapshot-dir)"
        } else {
            ""
        };
        blocked(format!(
            "--snapshot copy: copying {} to {} failed: {e}{hint}",
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
    let kind = |t: &TablePlan| if t.from_view { "view" } else { "table" };
    for t in plans {
        // Checked by name first: SQLite reads a double-quoted name that is
        // not a column as a string literal, so the query below would
        // prepare fine and load the column's name into every row.
        let present = table_columns(conn, &t.source)?;
        if !present.is_empty() {
            for c in &t.columns {
                // A rowid table's rowid may be mapped as a column (a
                // standalone FTS table's is): selected by the free name.
                let rowid =
                    rowid_name(t, &present).is_some_and(|r| r.eq_ignore_ascii_case(&c.source));
                if !rowid && !present.iter().any(|p| p.eq_ignore_ascii_case(&c.source)) {
                    problems.push(format!(
                        "{} {}: no such column: {}",
                        kind(t),
                        t.source,
                        c.source
                    ));
                }
            }
        }
        let cols: Vec<String> = t.columns.iter().map(|c| sqlite_quote(&c.source)).collect();
        let filter = t.filter_clause("WHERE");
        let sql = format!(
            "SELECT {} FROM {}{filter} LIMIT 0",
            cols.join(", "),
            sqlite_quote(&t.source)
        );
        if let Err(e) = conn.prepare(&sql) {
            problems.push(format!("{} {}: {e}", kind(t), t.source));
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

/// What the source holds and the mapping does not mention (neither mapped
/// nor excluded with `include = false`): a table or column added after the
/// mapping was written would otherwise be left behind without a word.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Unmapped {
    Table {
        name: String,
        rows: i64,
    },
    Column {
        table: String,
        name: String,
        declared: String,
        /// `table` is a view the mapping materializes.
        view: bool,
    },
}

impl Unmapped {
    /// As the operator reads it.
    pub fn shown(&self) -> String {
        match self {
            Unmapped::Table { name, rows } => format!("table {name} ({rows} rows)"),
            Unmapped::Column {
                table,
                name,
                declared,
                view,
            } => {
                let d = if declared.is_empty() {
                    "no declared type"
                } else {
                    declared
                };
                let of = if *view { "of view " } else { "" };
                format!("column {of}{table}.{name} ({d})")
            }
        }
    }

    /// The mapping lines that would account for it.
    fn mapping_lines(&self) -> String {
        match self {
            Unmapped::Table { name, .. } => format!(
                "[tables.{}]\ninclude = false    # or map it: `sqlite2pg init` into a new file writes its section",
                toml_key(name)
            ),
            Unmapped::Column {
                table,
                name,
                declared,
                view,
            } => format!(
                "[{}.{}.columns.{}]\ntype = \"{}\"    # or include = false",
                if *view { "views" } else { "tables" },
                toml_key(table),
                toml_key(name),
                crate::sqlite::sql::typemap::map_declared_type(declared)
            ),
        }
    }
}

fn toml_key(name: &str) -> String {
    if !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
    {
        name.to_string()
    } else {
        format!("\"{}\"", name.replace('\\', "\\\\").replace('"', "\\\""))
    }
}

/// Ordinary tables of the source (not SQLite's own, not virtual tables and
/// their shadow tables, which `init` names as not moved) and columns of
/// mapped tables that the mapping does not mention.
pub fn unmapped(conn: &Connection, pipeline: &Pipeline) -> Result<Vec<Unmapped>> {
    let find = |name: &str| {
        pipeline
            .table_maps
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, t)| t)
    };
    let mut st = conn.prepare(
        "SELECT name FROM pragma_table_list WHERE schema = 'main' AND type = 'table' \
         AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' ORDER BY name",
    )?;
    let mut tables: Vec<String> = st
        .query_map([], |r| r.get(0))?
        .collect::<rusqlite::Result<_>>()
        .context("listing the source's tables")?;
    // A standalone FTS table moves as a table (its rows exist nowhere
    // else); other virtual tables are named as not moved elsewhere.
    for (name, fate) in crate::sqlite::schema::vtab::fates(conn)? {
        if matches!(fate, crate::sqlite::schema::vtab::VirtualFate::Moves { .. }) {
            tables.push(name);
        }
    }
    let mut out = Vec::new();
    // Materialized views after the tables: a column the view gained since
    // the mapping was written would not be loaded.
    let views = pipeline
        .included_tables()
        .filter(|(_, t)| t.from_view)
        .map(|(n, _)| n.to_string());
    for name in tables.into_iter().chain(views) {
        match find(&name) {
            None => {
                let rows = conn
                    .query_row(
                        &format!("SELECT count(*) FROM {}", sqlite_quote(&name)),
                        [],
                        |r| r.get(0),
                    )
                    .unwrap_or(-1);
                out.push(Unmapped::Table { name, rows });
            }
            Some(t) if t.include => {
                let mut st = conn.prepare_cached(
                    "SELECT name, coalesce(type, '') FROM pragma_table_xinfo(?1) WHERE hidden <> 1 ORDER BY cid",
                )?;
                let cols: Vec<(String, String)> = st
                    .query_map([&name], |r| Ok((r.get(0)?, r.get(1)?)))?
                    .collect::<rusqlite::Result<_>>()
                    .with_context(|| format!("reading the columns of source table {name}"))?;
                for (c, declared) in cols {
                    if !t.columns.keys().any(|k| k.eq_ignore_ascii_case(&c)) {
                        out.push(Unmapped::Column {
                            table: name.clone(),
                            name: c,
                            declared,
                            view: t.from_view,
                        });
                    }
                }
            }
            Some(_) => {}
        }
    }
    Ok(out)
}

/// Refuse (exit 2) when the source holds what the mapping does not mention,
/// unless `allow` (`--allow-unmapped`): then each is named as not moved.
pub fn refuse_unmapped(
    found: &[Unmapped],
    allow: bool,
    source: &Path,
    mapping: &Path,
) -> Result<()> {
    if found.is_empty() {
        return Ok(());
    }
    let names: Vec<String> = found.iter().map(Unmapped::shown).collect();
    if allow {
        tracing::warn!(
            "not moved (not in the mapping; --allow-unmapped): {}",
            names.join(", ")
        );
        return Ok(());
    }
    let lines: Vec<String> = found.iter().map(Unmapped::mapping_lines).collect();
    Err(crate::error::usage(format!(
        "the source {} holds what the mapping {} does not mention (added after it was written?); \
         it would not be moved:\n  {}\nAdd each to the mapping, for example:\n\n{}\n\n\
         or pass --allow-unmapped to go on without them",
        source.display(),
        mapping.display(),
        names.join("\n  "),
        lines.join("\n\n")
    )))
}

/// Each table's chunk plan, on a connection of its own.
pub fn plan_source_chunks(
    path: &Path,
    tables: &[&TablePlan],
    chunk_size: u64,
) -> Result<HashMap<String, ChunkPlan>> {
    let conn = open_readonly(path)?;
    let mut out = HashMap::new();
    for t in tables {
        let columns = table_columns(&conn, &t.source)?;
        let rowid = rowid_name(t, &columns);
        out.insert(t.source.clone(), plan_chunks(&conn, t, rowid, chunk_size)?);
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

/// The name under which the table's rowid can be selected: `rowid`, unless a
/// real column shadows it.
pub fn rowid_name(t: &TablePlan, all_source_columns: &[String]) -> Option<&'static str> {
    if t.without_rowid {
        return None;
    }
    ["rowid", "_rowid_", "oid"]
        .into_iter()
        .find(|n| !all_source_columns.iter().any(|c| c.eq_ignore_ascii_case(n)))
}

/// A table's chunks: inclusive rowid ranges `(lo, hi, rows)`.
pub type ChunkPlan = Vec<(i64, i64, u64)>;

/// Split a table into chunks of `chunk_size` rows by one scan of its rowids:
/// returns `(lo, hi, rows)` inclusive ranges. WITHOUT ROWID tables are one
/// chunk covering everything.
pub fn plan_chunks(
    conn: &Connection,
    t: &TablePlan,
    rowid: Option<&str>,
    chunk_size: u64,
) -> Result<ChunkPlan> {
    let table = sqlite_quote(&t.source);
    let filter = t.filter_clause("WHERE");
    let Some(r) = rowid else {
        let n: i64 = conn
            .query_row(
                &format!("SELECT count(*) FROM {table}{filter}"),
                [],
                |row| row.get(0),
            )
            .with_context(|| format!("counting rows of source table {}", t.source))?;
        return Ok(vec![(i64::MIN, i64::MAX, n as u64)]);
    };
    let mut stmt = conn
        .prepare(&format!("SELECT {r} FROM {table}{filter} ORDER BY {r}"))
        .with_context(|| format!("planning chunks of source table {}", t.source))?;
    let mut rows = stmt.query([])?;
    // Ranges tile [i64::MIN, i64::MAX] with no gap: each chunk ends at its
    // chunk_size-th rowid and the next starts right after it.
    let mut out = Vec::new();
    let mut lo = i64::MIN;
    let mut count = 0u64;
    while let Some(row) = rows.next()? {
        let id: i64 = row.get(0)?;
        count += 1;
        if count == chunk_size {
            out.push((lo, id, count));
            lo = id.saturating_add(1);
            count = 0;
        }
    }
    match out.last_mut() {
        Some(last) if count == 0 => last.1 = i64::MAX,
        _ => out.push((lo, i64::MAX, count)),
    }
    Ok(out)
}
