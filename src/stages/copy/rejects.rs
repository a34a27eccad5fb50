//! Reject files: `rejects/<table>.jsonl` beside the mapping, one JSON
//! object per rejected row (table, row, column, value, storage class, rule,
//! reason), streamed from the state schema so memory stays flat however
//! many rows a messy table rejects.

use crate::convert::reject::RejectRecord;
use crate::state;
use anyhow::{Context as _, Result};
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};
use tokio_postgres::Client;

/// `rejects/<table>.jsonl` under `base_dir` (the mapping's directory).
pub fn reject_path(base_dir: &Path, source_table: &str) -> PathBuf {
    let safe: String = source_table
        .chars()
        .map(|c| {
            if c.is_alphanumeric() || c == '_' || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect();
    // Names that had to be changed get a short hash, so `a b` and `a_b`
    // never share a file.
    let name = if safe == source_table {
        safe
    } else {
        let h = Sha256::digest(source_table.as_bytes());
        format!("{safe}-{}", hex::encode(&h[..4]))
    };
    base_dir.join("rejects").join(format!("{name}.jsonl"))
}

/// Write a table's reject file: the committed rejects streamed from the
/// state table (unless `committed_too` is false), then `failing`, the
/// uncommitted ones of the transaction that broke the limit.
pub async fn write_rejects(
    client: &Client,
    run_id: i64,
    source: &str,
    failing: &[RejectRecord],
    committed_too: bool,
    path: &Path,
) -> Result<()> {
    use std::io::Write;
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    let ctx = || format!("writing reject file {}", path.display());
    let mut out = std::io::BufWriter::new(std::fs::File::create(path).with_context(ctx)?);
    if committed_too {
        state::stream_rejects(client, run_id, source, |line| {
            serde_json::to_writer(&mut out, &line)?;
            out.write_all(b"\n")?;
            Ok(())
        })
        .await
        .with_context(ctx)?;
    }
    for r in failing {
        serde_json::to_writer(&mut out, r).with_context(ctx)?;
        out.write_all(b"\n").with_context(ctx)?;
    }
    out.flush().with_context(ctx)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn changed_names_get_a_hash_so_they_never_share_a_file() {
        let p = Path::new("/x");
        assert_eq!(
            reject_path(p, "users"),
            PathBuf::from("/x/rejects/users.jsonl")
        );
        let a = reject_path(p, "a b");
        let b = reject_path(p, "a_b");
        assert_ne!(a, b);
        assert!(a.to_string_lossy().starts_with("/x/rejects/a_b-"));
    }
}
