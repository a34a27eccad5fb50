//! The source guard: one read-only connection opened before a command's
//! first read of the source, asked before each commit whether the file is
//! still the one every reader has read.
//!
//! Each chunk is read in a read transaction of its own, so a source that an
//! application writes to during a run would otherwise give a load that mixes
//! moments. The guard notices any commit by another connection
//! (`PRAGMA data_version`, which changes on this connection when another one
//! committed, in WAL and rollback-journal mode alike), a file replaced
//! under its name (device and inode of the path; in rollback-journal mode,
//! its size too), and a main file written outside SQLite (`dd
//! conv=notrunc`, `rsync --inplace`: same inode, no commit SQLite could
//! see): its size, mtime or ctime moved. In WAL mode a checkpoint moves
//! them too without changing the data, so once [`SourceGuard::pin_pages`]
//! has recorded the hash of every page, a moved stamp is judged by the
//! pages: the same pages are a checkpoint, other pages a change. A chunk
//! read before such a change was read from the original state; the check
//! runs *after* the read and *before* the commit, so a chunk that may have
//! seen the change is never committed.

use crate::error::blocked;
use crate::sqlite::read::pages::{self, PagesDigest};
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
    /// Compared alone only in rollback-journal mode: in WAL mode a
    /// checkpoint changes the main file without changing the data.
    size: u64,
    /// Modification and status-change times (ns): `touch -d` can set the
    /// first back, nothing but the clock sets the second.
    mtime_ns: i128,
    ctime_ns: i128,
}

impl Identity {
    /// Whether the main file's bytes may have changed (other than through a
    /// commit, which `data_version` sees).
    fn stamp_moved(&self, now: &Identity) -> bool {
        (self.size, self.mtime_ns, self.ctime_ns) != (now.size, now.mtime_ns, now.ctime_ns)
    }
}

fn identity(path: &Path) -> std::io::Result<Identity> {
    let m = std::fs::metadata(path)?;
    let ns = |s: i64, n: i64| i128::from(s) * 1_000_000_000 + i128::from(n);
    Ok(Identity {
        dev: m.dev(),
        ino: m.ino(),
        size: m.len(),
        mtime_ns: ns(m.mtime(), m.mtime_nsec()),
        ctime_ns: ns(m.ctime(), m.ctime_nsec()),
    })
}

/// The main file as the guard last found it unchanged.
struct Baseline {
    identity: Identity,
    /// Every page's hash, once pinned.
    pages: Option<PagesDigest>,
}

pub struct SourceGuard {
    path: PathBuf,
    conn: Mutex<Connection>,
    data_version: i64,
    baseline: Mutex<Baseline>,
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
            baseline: Mutex::new(Baseline {
                identity,
                pages: None,
            }),
            wal: mode.eq_ignore_ascii_case("wal"),
        })
    }

    /// Whether the source is in WAL mode.
    pub fn wal(&self) -> bool {
        self.wal
    }

    /// The hash of every page, read now and kept as the state every later
    /// check holds the file to. Refused (exit 4) when the file moved since
    /// the guard was opened: what was read before may be of another state.
    pub fn pin_pages(&self) -> Result<PagesDigest> {
        let digest = self.read_pages()?;
        if let Some(change) = self.changed()? {
            return Err(self.changed_error(&change, "Nothing was written to the target"));
        }
        let mut base = self.baseline.lock().unwrap_or_else(|p| p.into_inner());
        base.pages = Some(digest.clone());
        Ok(digest)
    }

    /// Every page's hash, read on a connection of its own: a connection
    /// that read before keeps pages in its cache, which in WAL mode it
    /// trusts as long as no commit was made, and would not see bytes
    /// written outside SQLite.
    fn read_pages(&self) -> Result<PagesDigest> {
        let conn = source::open_readonly(&self.path)?;
        pages::digest(&conn)
            .with_context(|| format!("reading the pages of {}", self.path.display()))
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
        let mut base = self.baseline.lock().unwrap_or_else(|p| p.into_inner());
        let was = base.identity;
        if (now.dev, now.ino) != (was.dev, was.ino) {
            return Ok(Some(
                "the file was replaced by another file (its inode changed)".into(),
            ));
        }
        let conn = self.conn.lock().unwrap_or_else(|p| p.into_inner());
        if data_version(&conn, &self.path)? != self.data_version {
            return Ok(Some("another connection committed a write to it".into()));
        }
        if !self.wal && now.size != was.size {
            return Ok(Some(format!(
                "its size changed ({} → {} bytes)",
                was.size, now.size
            )));
        }
        if !was.stamp_moved(&now) {
            return Ok(None);
        }
        let Some(pinned) = &base.pages else {
            return Ok(Some(format!(
                "its main file was written without a commit SQLite could see \
                 (same inode; modified or status-changed time moved{})",
                size_change(&was, &now)
            )));
        };
        drop(conn);
        let digest = self.read_pages()?;
        if digest.hash != pinned.hash {
            return Ok(Some(format!(
                "its main file was overwritten in place without a commit SQLite could see \
                 (same inode; its pages differ from those read at the start{})",
                size_change(&was, &now)
            )));
        }
        // The same pages: a checkpoint, or a touch.
        base.identity = now;
        Ok(None)
    }

    /// Fail (exit class "rerun as it is cannot help") when the source
    /// changed; `what` says what the failure means for the work done so far.
    pub fn check(&self, what: &str) -> Result<()> {
        match self.changed()? {
            None => Ok(()),
            Some(change) => Err(self.changed_error(&change, what)),
        }
    }

    fn changed_error(&self, change: &str, what: &str) -> anyhow::Error {
        blocked(format!(
            "the SQLite source {} changed while it was being read: {change}. {what}. \
             Stop the application that writes to it and run again, or load from a \
             consistent copy with --snapshot copy",
            self.path.display()
        ))
    }
}

fn size_change(was: &Identity, now: &Identity) -> String {
    if was.size == now.size {
        String::new()
    } else {
        format!("; size {} → {} bytes", was.size, now.size)
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

    /// File times move by the kernel's clock tick: wait past one.
    fn tick() {
        std::thread::sleep(std::time::Duration::from_millis(20));
    }

    /// In WAL mode a checkpoint writes the main file without a commit: the
    /// same pages, not a change. Bytes of another state written over the
    /// main file in place (`dd conv=notrunc`) are one, and so is a
    /// rewrite with the old mtime put back.
    #[test]
    fn a_wal_file_overwritten_in_place_is_seen_and_a_checkpoint_is_not() {
        let dir = tempfile::tempdir().unwrap();
        let (path, w) = db(dir.path(), true);
        drop(w);
        let other = dir.path().join("other.db");
        std::fs::copy(&path, &other).unwrap();
        Connection::open(&other)
            .unwrap()
            .execute("UPDATE t SET x = 2", [])
            .unwrap();
        let w = Connection::open(&path).unwrap();
        w.execute("UPDATE t SET x = 3", []).unwrap();
        let g = SourceGuard::open(&path).unwrap();
        g.pin_pages().unwrap();
        tick();
        let before = identity(&path).unwrap();
        // PASSIVE: a checkpoint that leaves the WAL as it is (one that
        // resets it is seen as a commit).
        let (busy, _, done): (i64, i64, i64) = w
            .query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?))
            })
            .unwrap();
        assert!(busy == 0 && done > 0, "checkpointed {done}");
        assert!(before.stamp_moved(&identity(&path).unwrap()));
        assert_eq!(g.changed().unwrap(), None);
        tick();
        let mtime = std::fs::metadata(&path).unwrap().modified().unwrap();
        let f = std::fs::OpenOptions::new().write(true).open(&path).unwrap();
        std::io::Write::write_all(&mut &f, &std::fs::read(&other).unwrap()).unwrap();
        f.set_modified(mtime).unwrap();
        drop(f);
        let c = g.changed().unwrap().expect("the overwrite is seen");
        assert!(c.contains("overwritten in place"), "{c}");
        let e = g.check("x").unwrap_err();
        assert_eq!(crate::error::classify(&e).code(), 4);
        assert!(format!("{e}").contains(&path.display().to_string()), "{e}");
    }
}
