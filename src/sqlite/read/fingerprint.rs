//! The source's fingerprint: its identity (device, inode), size,
//! modification time, page count, a hash of its schema and its content
//! evidence: a hash of every page and SQLite's file change counter
//! ([`super::pages`]). A run records it at the start; a resume against a
//! source whose fingerprint differs is refused (unless forced), because the
//! committed chunks were read from the old file, and a finished run's rerun
//! says the target is stale.
//!
//! The content decides where both fingerprints hold it: the same pages are
//! the same source, whatever its inode or mtime (a fresh checkout of the
//! same bytes), and other pages are another, whatever its mtime says (an
//! UPDATE followed by `touch -d`). Metadata alone decides only against a
//! fingerprint recorded before the content was part of it.

use super::pages::PagesDigest;
use anyhow::Result;
use rusqlite::Connection;
use sha2::{Digest, Sha256};
use std::path::Path;

/// The fingerprint of the source at `path`, read through `conn`, with the
/// digest of its pages read when the command began to read it.
pub fn compute(conn: &Connection, path: &Path, pages: &PagesDigest) -> Result<serde_json::Value> {
    let meta = std::fs::metadata(path)?;
    // Whole nanoseconds, not float seconds: the fingerprint makes a round
    // trip through jsonb and serde_json, whose default float parser can come
    // back one ulp off (1795261899.8339021 reads back as 1795261899.833902),
    // which made a resume of an unchanged source fail as "source changed".
    // Integers round-trip exactly.
    let mtime_ns = meta
        .modified()
        .ok()
        .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
        .map(|d| d.as_nanos() as u64)
        .unwrap_or(0);
    let page_count: i64 = conn.query_row("PRAGMA page_count", [], |r| r.get(0))?;
    let data_version: i64 = conn.query_row("PRAGMA schema_version", [], |r| r.get(0))?;
    let mut stmt = conn.prepare(
        "SELECT type, name, tbl_name, coalesce(sql, '') FROM sqlite_schema ORDER BY type, name",
    )?;
    let mut h = Sha256::new();
    let mut rows = stmt.query([])?;
    while let Some(r) = rows.next()? {
        for i in 0..4 {
            h.update(r.get_ref(i)?.as_bytes().unwrap_or_default());
            h.update([0u8]);
        }
    }
    // In WAL mode commits land in `<db>-wal` and the main file changes only
    // at a checkpoint: the WAL's size and mtime are part of the fingerprint.
    let wal = {
        let mut p = path.as_os_str().to_owned();
        p.push("-wal");
        std::fs::metadata(std::path::PathBuf::from(p)).ok()
    };
    let wal_size = wal.as_ref().map(|m| m.len()).unwrap_or(0);
    let wal_mtime_ns = wal
        .and_then(|m| m.modified().ok())
        .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
        .map(|d| d.as_nanos() as u64)
        .unwrap_or(0);
    use std::os::unix::fs::MetadataExt;
    Ok(serde_json::json!({
        "device": meta.dev(),
        "inode": meta.ino(),
        "wal_size": wal_size,
        "wal_mtime_ns": wal_mtime_ns,
        "size": meta.len(),
        "mtime_ns": mtime_ns,
        "page_count": page_count,
        "schema_version": data_version,
        "schema_sha256": hex::encode(h.finalize()),
        "change_counter": pages.change_counter,
        "pages_xxh3": pages.hash,
    }))
}

/// Human description of what differs, or None when equal.
pub fn differences(old: &serde_json::Value, new: &serde_json::Value) -> Option<String> {
    let content = |fp: &serde_json::Value| fp.get("pages_xxh3").cloned();
    let content_changed = match (content(old), content(new)) {
        (Some(was), Some(now)) if was == now => return None,
        (Some(_), Some(_)) => true,
        _ => false,
    };
    let keys = [
        ("size", "size"),
        ("mtime_ns", "modified"),
        ("page_count", "pages"),
        ("schema_sha256", "schema"),
        ("wal_size", "WAL size"),
        ("wal_mtime_ns", "WAL modified"),
    ];
    // Identity was added later: compared only when both recorded it.
    let replaced = ["device", "inode"]
        .iter()
        .any(|k| old.get(*k).is_some() && old.get(*k) != new.get(*k));
    let diffs: Vec<String> = keys
        .iter()
        .filter(|(k, _)| old.get(*k) != new.get(*k))
        .map(|(k, label)| {
            let (was, now) = (old.get(*k), new.get(*k));
            match *k {
                "schema_sha256" => "the schema changed (tables, columns or indexes)".to_string(),
                "mtime_ns" | "wal_mtime_ns" => {
                    format!("{label} {} → {}", shown_time(was), shown_time(now))
                }
                "size" | "wal_size" => format!("{label} {} → {} bytes", shown(was), shown(now)),
                _ => format!("{label} {} → {}", shown(was), shown(now)),
            }
        })
        .collect();
    let diffs: Vec<String> = content_changed
        .then(|| content_change(old, new))
        .into_iter()
        .chain(replaced.then(|| {
            "it is another file (its device or inode changed: replaced or copied)".to_string()
        }))
        .chain(diffs)
        .collect();
    if diffs.is_empty() {
        None
    } else {
        Some(diffs.join("; "))
    }
}

/// The content evidence that differs, said first: it is what decides.
fn content_change(old: &serde_json::Value, new: &serde_json::Value) -> String {
    let (was, now) = (old.get("change_counter"), new.get("change_counter"));
    if was.is_some() && was != now {
        format!(
            "its content changed (SQLite's change counter {} → {}: written since)",
            shown(was),
            shown(now)
        )
    } else {
        "its content changed (the hash of its pages differs)".to_string()
    }
}

fn shown(v: Option<&serde_json::Value>) -> String {
    match v {
        Some(serde_json::Value::Null) | None => "none".into(),
        Some(v) => v.to_string(),
    }
}

/// A modification time (ns since the epoch) as RFC 3339 in UTC.
fn shown_time(v: Option<&serde_json::Value>) -> String {
    v.and_then(serde_json::Value::as_i64)
        .and_then(|ns| {
            chrono::DateTime::from_timestamp(
                ns.div_euclid(1_000_000_000),
                ns.rem_euclid(1_000_000_000) as u32,
            )
        })
        .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true))
        .unwrap_or_else(|| shown(v))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A fingerprint read back from the state table equals the one computed
    /// now; before mtime was an integer this failed for some mtimes.
    #[test]
    fn fingerprint_survives_a_round_trip_through_json_text() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.db");
        let conn = Connection::open(&path).unwrap();
        conn.execute_batch("CREATE TABLE t (x)").unwrap();
        // The mtime of the failure seen in tests/e2e/crash.rs.
        let mtime = std::time::UNIX_EPOCH + std::time::Duration::new(1_795_261_899, 833_902_100);
        std::fs::File::options()
            .write(true)
            .open(&path)
            .unwrap()
            .set_modified(mtime)
            .unwrap();
        let fp = compute(&conn, &path, &super::super::pages::digest(&conn).unwrap()).unwrap();
        let back: serde_json::Value = serde_json::from_str(&fp.to_string()).unwrap();
        assert_eq!(differences(&back, &fp), None);
        assert_eq!(back["mtime_ns"], 1_795_261_899_833_902_100u64);
    }

    #[test]
    fn differences_read_as_a_person_would_say_them() {
        let old = serde_json::json!({"size": 4096, "mtime_ns": 1_795_261_899_833_902_100u64, "page_count": 1, "schema_sha256": "a"});
        let new = serde_json::json!({"size": 8192, "mtime_ns": 1_795_261_999_000_000_000u64, "page_count": 2, "schema_sha256": "b"});
        let d = differences(&old, &new).unwrap();
        assert!(d.contains("size 4096 → 8192 bytes"), "{d}");
        assert!(
            d.contains("modified 2026-11-21T11:51:39.833Z → 2026-11-21T11:53:19.000Z"),
            "{d}"
        );
        assert!(d.contains("the schema changed"), "{d}");
        assert!(
            !d.contains("mtime_ns") && !d.contains("1795261899833902100"),
            "{d}"
        );
    }

    fn without(fp: &serde_json::Value, keys: &[&str]) -> serde_json::Value {
        let mut fp = fp.clone();
        for k in keys {
            fp.as_object_mut().unwrap().remove(*k);
        }
        fp
    }

    /// A file replaced under its name is named as such when no content was
    /// recorded; a fingerprint recorded before identity was part of it does
    /// not count as changed.
    #[test]
    fn another_file_at_the_same_path_is_named_and_old_records_still_match() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.db");
        let conn = Connection::open(&path).unwrap();
        conn.execute_batch("CREATE TABLE t (x)").unwrap();
        let digest = super::super::pages::digest(&conn).unwrap();
        let fp = without(&compute(&conn, &path, &digest).unwrap(), &["pages_xxh3"]);
        let old = without(&fp, &["inode", "device"]);
        assert_eq!(differences(&old, &fp), None);
        let mut other = fp.clone();
        other["inode"] = serde_json::json!(fp["inode"].as_u64().unwrap() + 1);
        let d = differences(&other, &fp).unwrap();
        assert!(d.contains("it is another file"), "{d}");
    }

    /// Where both hold the hash of the pages, it decides: another inode and
    /// mtime with the same pages is the same source; the same metadata with
    /// other pages is not, said by the change counter when it moved.
    #[test]
    fn the_pages_decide_over_the_metadata() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.db");
        let conn = Connection::open(&path).unwrap();
        conn.execute_batch("CREATE TABLE t (x); INSERT INTO t VALUES (1)")
            .unwrap();
        let fp = compute(&conn, &path, &super::super::pages::digest(&conn).unwrap()).unwrap();
        let mut copied = fp.clone();
        copied["inode"] = serde_json::json!(fp["inode"].as_u64().unwrap() + 1);
        copied["mtime_ns"] = serde_json::json!(1u64);
        assert_eq!(differences(&fp, &copied), None);
        let mut edited = fp.clone();
        edited["pages_xxh3"] = serde_json::json!("0");
        let d = differences(&fp, &edited).unwrap();
        assert_eq!(d, "its content changed (the hash of its pages differs)");
        edited["change_counter"] = serde_json::json!(fp["change_counter"].as_u64().unwrap() + 1);
        let d = differences(&fp, &edited).unwrap();
        assert!(d.contains("change counter"), "{d}");
        // An old record without content: metadata as before.
        assert_eq!(differences(&without(&fp, &["pages_xxh3"]), &edited), None);
    }
}
