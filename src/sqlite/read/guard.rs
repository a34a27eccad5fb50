//! The source guard: one read-only connection opened before a command's
//! first read of the source, asked before each commit whether the file is
//! still the one every reader has read.
//!
//! Each chunk is read in a read transaction of its own, so a source that an
//! application writes to during a run would otherwise give a load that mixes
//! moments. The guard notices any commit by another connection
//! (`PRAGMA data_version`, which changes on this connection when another one
//! committed, in WAL and rollback-journal mode alike) and a file replaced
//! under its name (device and inode of the path; in rollback-journal mode,
//! its size too). A chunk read before such a change was read from the
//! original state; the check runs *after* the read and *before* the commit,
//! so a chunk that may have seen the change is never committed.

use crate::error::blocked;
use crate::sqlite::read::source;
use anyhow::{Context, Result};
use rusqlite::Connection;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

/// What identifies the file at a path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Identity {
    dev: u64,
    ino: u64,
    /// Only compared in rollback-journal mode: in WAL mode a checkpoint
    /// changes the main file without changing the data.
    size: u64,
}

fn identity(path: &Path) -> std::io::Result<Identity> {
    let m = std::fs::metadata(path)?;
    Ok(Identity {
        dev: m.dev(),
        ino: m.ino(),
        size: m.len(),
    })
}

pub struct SourceGuard {
    path: PathBuf,
    conn: Mutex<Connection>,
    data_version: i64,
    identity: Identity,
    wal: bool,
}

impl SourceGuard {
    /// Open the guard on `path` (its own read-only connection) and take the
    /// file's state now as the one the command must see throughout.
    pub fn open(path: &Path) -> Result<SourceGuard> {
        let conn = source::open_readonly(path)?;
        let mode: String = conn
            .query_row("PRAGMA journal_mode", [], |r| r.get(0))
            .with_context(|| format!("reading the journal mode of {}", path.display()))?;
        let data_version = data_version(&conn, path)?;
        let identity = identity(path)
            .with_context(|| format!("cannot read the metadata of {}", path.display()))?;
        Ok(SourceGuard {
            path: path.to_path_buf(),
            conn: Mutex::new(conn),
            data_version,
            identity,
            wal: mode.eq_ignore_ascii_case("wal"),
        })
    }

    /// Whether the source is in WAL mode.
    pub fn wal(&self) -> bool {
        self.wal
    }

    /// What changed since the guard was opened, if anything.
    pub fn changed(&self) -> Result<Option<String>> {
        let now = match identity(&self.path) {
            Ok(i) => i,
            Err(e) => {
                return Ok(Some(format!(
                    "the file can no longer be read at its path ({e})"
                )))
            }
        };
        if (now.dev, now.ino) != (self.identity.dev, self.identity.ino) {
            return Ok(Some(
                "the file was replaced by another file (its inode changed)".into(),
            ));
        }
        let conn = self.conn.lock().unwrap_or_else(|p| p.into_inner());
        if data_version(&conn, &self.path)? != self.data_version {
            return Ok(Some("another connection committed a write to it".into()));
        }
        if !self.wal && now.size != self.identity.size {
            return Ok(Some(format!(
                "its size changed ({} → {} bytes)",
                self.identity.size, now.size
            )));
        }
        Ok(None)
    }

    /// Fail (exit class "rerun as it is cannot help") when the source
    /// changed; `what` says what the failure means for the work done so far.
    pub fn check(&self, what: &str) -> Result<()> {
        match self.changed()? {
            None => Ok(()),
            Some(change) => Err(blocked(format!(
                "the SQLite source {} changed while it was being read: {change}. {what}. \
                 Stop the application that writes to it and run again, or load from a \
                 consistent copy with --snapshot copy",
                self.path.display()
            ))),
        }
    }
}

fn data_version(conn: &Connection, path: &Path) -> Result<i64> {
    conn.query_row("PRAGMA data_version", [], |r| r.get(0))
        .with_context(|| format!("reading PRAGMA data_version of {}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn db(dir: &Path, wal: bool) -> (PathBuf, Connection) {
        let path = dir.join("s.db");
        let w = Connection::open(&path).unwrap();
        if wal {
            w.query_row("PRAGMA journal_mode = wal", [], |_| Ok(()))
                .unwrap();
        }
        w.execute_batch("CREATE TABLE t (x); INSERT INTO t VALUES (1)")
            .unwrap();
        (path, w)
    }

    #[test]
    fn a_commit_by_another_connection_is_seen_in_both_journal_modes() {
        for wal in [false, true] {
            let dir = tempfile::tempdir().unwrap();
            let (path, w) = db(dir.path(), wal);
            let g = SourceGuard::open(&path).unwrap();
            assert_eq!(g.wal(), wal);
            assert_eq!(g.changed().unwrap(), None);
            // Reading through other connections changes nothing.
            let r = source::open_readonly(&path).unwrap();
            let _: i64 = r
                .query_row("SELECT count(*) FROM t", [], |r| r.get(0))
                .unwrap();
            assert_eq!(g.changed().unwrap(), None, "wal={wal}");
            w.execute("UPDATE t SET x = 2", []).unwrap();
            let c = g.changed().unwrap().expect("change seen");
            assert!(c.contains("committed"), "wal={wal}: {c}");
            let e = g
                .check("tables already committed keep their rows")
                .unwrap_err();
            assert_eq!(crate::error::classify(&e).code(), 4);
            assert!(format!("{e}").contains("--snapshot copy"), "{e}");
        }
    }

    #[test]
    fn a_file_replaced_under_its_name_is_seen() {
        let dir = tempfile::tempdir().unwrap();
        let (path, w) = db(dir.path(), false);
        drop(w);
        let g = SourceGuard::open(&path).unwrap();
        let other = dir.path().join("new.db");
        std::fs::copy(&path, &other).unwrap();
        std::fs::rename(&other, &path).unwrap();
        let c = g.changed().unwrap().expect("change seen");
        assert!(c.contains("replaced"), "{c}");
    }
}
