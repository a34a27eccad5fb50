//! The source's pages as SQLite sees them, read one by one through the
//! `sqlite_dbpage` virtual table (the bundled SQLite is built with
//! `SQLITE_ENABLE_DBPAGE_VTAB`, see `.cargo/config.toml`): in one read
//! transaction, so in WAL mode a page committed to the `-wal` and not yet
//! checkpointed is read as the database holds it, and a checkpoint, which
//! moves pages without changing them, changes nothing here.
//!
//! Their hash is the source's content evidence (docs/operations.md,
//! "Rerun and resume"): the fingerprint records it, and the guard compares
//! it when the main file was written outside SQLite during a run. A sample
//! of pages would miss a one-row UPDATE, so every page is read.

use anyhow::{Context, Result};
use rusqlite::Connection;
use xxhash_rust::xxh3::Xxh3;

/// What the pages of a database add up to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PagesDigest {
    /// xxh3-128 over every page in page-number order, as hex.
    pub hash: String,
    pub pages: u64,
    /// SQLite's file change counter (page 1, offset 24, big-endian): every
    /// commit in rollback-journal mode moves it; a WAL commit does not.
    pub change_counter: u32,
}

/// Call `each(page_number, bytes)` for every page of the main database, in
/// page-number order, in one read transaction of `conn`.
pub fn for_each_page(conn: &Connection, mut each: impl FnMut(u32, &[u8])) -> Result<()> {
    let tx = conn.unchecked_transaction()?;
    {
        let mut stmt = tx
            .prepare("SELECT pgno, data FROM sqlite_dbpage('main') ORDER BY pgno")
            .context("reading the source's pages (sqlite_dbpage)")?;
        let mut rows = stmt.query([])?;
        while let Some(r) = rows.next()? {
            let pgno: u32 = r.get(0)?;
            let data = r.get_ref(1)?.as_blob().unwrap_or_default();
            each(pgno, data);
        }
    }
    tx.finish()?;
    Ok(())
}

/// The hash of every page, its page count and the change counter, read in
/// one read transaction. About 0.4 s per GB once the file is in the page
/// cache (bench/README.md).
pub fn digest(conn: &Connection) -> Result<PagesDigest> {
    let mut h = Xxh3::new();
    let mut pages = 0u64;
    let mut change_counter = 0u32;
    for_each_page(conn, |pgno, data| {
        if pgno == 1 && data.len() >= 28 {
            change_counter = u32::from_be_bytes([data[24], data[25], data[26], data[27]]);
        }
        h.update(&pgno.to_le_bytes());
        h.update(data);
        pages += 1;
    })?;
    Ok(PagesDigest {
        hash: format!("{:032x}", h.digest128()),
        pages,
        change_counter,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn db(dir: &std::path::Path, wal: bool) -> (std::path::PathBuf, Connection) {
        let path = dir.join("s.db");
        let c = Connection::open(&path).unwrap();
        if wal {
            c.query_row("PRAGMA journal_mode = wal", [], |_| Ok(()))
                .unwrap();
        }
        c.execute_batch(
            "CREATE TABLE t (x TEXT);
             WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 2000)
             INSERT INTO t SELECT printf('%040d', i) FROM n;",
        )
        .unwrap();
        (path, c)
    }

    fn readonly(path: &std::path::Path) -> Connection {
        crate::sqlite::read::source::open_readonly(path).unwrap()
    }

    /// A one-row UPDATE of the same size changes the hash in both journal
    /// modes; in WAL mode the change counter stays, in rollback mode it moves.
    #[test]
    fn a_same_size_update_changes_the_hash_in_both_modes() {
        for wal in [false, true] {
            let dir = tempfile::tempdir().unwrap();
            let (path, w) = db(dir.path(), wal);
            let before = digest(&readonly(&path)).unwrap();
            w.execute("UPDATE t SET x = printf('%040d', 7) WHERE rowid = 1500", [])
                .unwrap();
            let after = digest(&readonly(&path)).unwrap();
            assert_ne!(before.hash, after.hash, "wal={wal}");
            assert_eq!(before.pages, after.pages, "wal={wal}");
            assert_eq!(
                before.change_counter == after.change_counter,
                wal,
                "wal={wal}: {before:?} {after:?}"
            );
        }
    }

    /// A checkpoint moves pages from the -wal into the file: the content,
    /// and so the hash, stays; an identical copy hashes the same.
    #[test]
    fn a_checkpoint_and_a_copy_change_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let (path, w) = db(dir.path(), true);
        w.execute("UPDATE t SET x = 'a' WHERE rowid = 3", [])
            .unwrap();
        let before = digest(&readonly(&path)).unwrap();
        w.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))
            .unwrap();
        assert_eq!(digest(&readonly(&path)).unwrap(), before);
        drop(w);
        let copy = dir.path().join("copy.db");
        std::fs::copy(&path, &copy).unwrap();
        assert_eq!(digest(&readonly(&copy)).unwrap(), before);
    }
}
