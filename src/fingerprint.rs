//! The source's fingerprint: size, modification time, page count and a hash
//! of its schema. A run records it at the start; a resume against a source
//! whose fingerprint differs is refused (unless forced), because the
//! committed chunks were read from the old file.

use anyhow::Result;
use rusqlite::Connection;
use sha2::{Digest, Sha256};
use std::path::Path;

pub fn compute(conn: &Connection, path: &Path) -> Result<serde_json::Value> {
    let meta = std::fs::metadata(path)?;
    // Integer nanoseconds: a float does not survive the trip through jsonb
    // exactly, and a resume would then see a "changed" source.
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
    Ok(serde_json::json!({
        "size": meta.len(),
        "mtime_ns": mtime_ns,
        "page_count": page_count,
        "schema_version": data_version,
        "schema_sha256": hex::encode(h.finalize()),
    }))
}

/// Human description of what differs, or None when equal.
pub fn differences(old: &serde_json::Value, new: &serde_json::Value) -> Option<String> {
    let keys = ["size", "mtime_ns", "page_count", "schema_sha256"];
    let diffs: Vec<String> = keys
        .iter()
        .filter(|k| old.get(**k) != new.get(**k))
        .map(|k| {
            format!(
                "{k}: was {}, now {}",
                old.get(*k).unwrap_or(&serde_json::Value::Null),
                new.get(*k).unwrap_or(&serde_json::Value::Null)
            )
        })
        .collect();
    if diffs.is_empty() {
        None
    } else {
        Some(diffs.join("; "))
    }
}
