//! The one reader of source rows, used by `copy`, `check` and `verify`
//! alike: [`spawn_reader`] reads a rowid range of a table on a blocking
//! thread with its own read-only connection, converts and encodes each row
//! in place for binary COPY, and sends batches over a bounded channel. When
//! the channel is full the reader waits, so the slowest consumer sets the
//! pace and memory stays flat. Also here: the chunk query (the chunk
//! plans it reads by are made in `source`).

use crate::config::plan::TablePlan;
use crate::convert::reject::Reject;
use crate::pg::checksum::{hash_encoded_rows, Checksum, RowHasher};
use crate::sqlite::read::transform::{RefusedRows, TableTransform};
use crate::sqlite::sql::quote::sqlite_quote;
use anyhow::{Context, Result};
use bytes::{Bytes, BytesMut};
use rusqlite::types::ValueRef;
use rusqlite::Connection;
use tokio::sync::mpsc;
use tokio_postgres::types::Type;

/// The chunk query: `?1`, `?2` bound to the inclusive rowid range (rowid
/// tables), ordered so that reruns read identical chunks.
pub fn select_sql(t: &TablePlan, rowid: Option<&str>) -> String {
    let cols: Vec<String> = t.columns.iter().map(|c| sqlite_quote(&c.source)).collect();
    let table = sqlite_quote(&t.source);
    let filter = t.filter_clause("AND");
    match rowid {
        Some(r) => format!(
            "SELECT {r}, {} FROM {table} WHERE {r} BETWEEN ?1 AND ?2{filter} ORDER BY {r}",
            cols.join(", ")
        ),
        None => {
            let order: Vec<String> = t
                .source_pk_positions()
                .iter()
                .map(|&i| sqlite_quote(&t.columns[i].source))
                .collect();
            let order = if order.is_empty() {
                String::new()
            } else {
                format!(" ORDER BY {}", order.join(", "))
            };
            format!(
                "SELECT NULL, {} FROM {table} WHERE ?1 <= ?2{filter}{order}",
                cols.join(", ")
            )
        }
    }
}

/// The key of each row a chunk query returns (its first column): the rowid,
/// or for WITHOUT ROWID tables (which select NULL there) the row's ordinal
/// within the chunk.
struct RowKeys {
    ordinal: i64,
}

impl RowKeys {
    fn new(lo: i64) -> RowKeys {
        RowKeys {
            ordinal: if lo == i64::MIN { 0 } else { lo },
        }
    }

    fn next(&mut self, row: &rusqlite::Row<'_>) -> rusqlite::Result<i64> {
        Ok(match row.get_ref(0)? {
            ValueRef::Integer(k) => k,
            _ => {
                self.ordinal += 1;
                self.ordinal
            }
        })
    }
}

/// Source rows converted and framed for binary COPY, ready to send.
#[derive(Debug, Default)]
pub struct EncodedBatch {
    pub data: Bytes,
    /// Source key of each encoded row, in order (names a row PostgreSQL
    /// refuses by its line number).
    pub keys: Vec<i64>,
    pub rows_read: usize,
    pub rejects: Vec<Reject>,
    /// Content checksum of the encoded rows (see [`crate::pg::checksum`]);
    /// zero unless the request asked for it.
    pub content: Checksum,
    /// Bytes of the largest encoded row: `verify` reads a table whose rows
    /// are small from both sides at once, one of large rows side by side.
    pub largest_row: u64,
}

/// Batches in flight on a reader's channel. With the default batch of 2000
/// rows (or 1 MiB) this bounds a reader's buffered rows to about 10k
/// whatever the table size.
pub const CHANNEL_BATCHES: usize = 4;

/// What one reader reads: the rows of `sql` (see [`select_sql`]) whose
/// rowid is in `range`, converted by `transform` and encoded for `types`.
pub struct ReadRequest {
    pub path: std::path::PathBuf,
    pub sql: String,
    pub range: std::ops::RangeInclusive<i64>,
    pub transform: std::sync::Arc<TableTransform>,
    pub types: Vec<Type>,
    pub batch_size: usize,
    /// Rows PostgreSQL refused in an earlier attempt at this range: read
    /// as rejects, not sent.
    pub refused: std::sync::Arc<RefusedRows>,
    /// Compute each batch's content checksum (the copy records it, verify
    /// compares it; check has no use for it and skips the work).
    pub hash: bool,
    /// Send the encoded rows. `check` and `verify` need only counts, rejects
    /// and checksums: each row's bytes are dropped once hashed, so a table
    /// of 1 GB values holds one value at a time, not a channel full.
    pub send_rows: bool,
}

/// A running reader: its batches arrive on `batches`; [`Reader::finish`]
/// gives the number of rows it read, or why it stopped. Dropping `batches`
/// stops it at its next send.
pub struct Reader {
    pub batches: mpsc::Receiver<EncodedBatch>,
    /// The reader's end: moved out when `batches` go to another consumer.
    pub done: ReaderDone,
}

/// The reader thread's result.
pub struct ReaderDone(tokio::task::JoinHandle<Result<u64>>);

impl ReaderDone {
    /// Rows read, or why the reader stopped.
    pub async fn wait(self) -> Result<u64> {
        self.0
            .await
            .map_err(|e| anyhow::anyhow!("source reader panicked: {e}"))?
    }
}

impl Reader {
    /// Stop receiving (the reader stops at its next send) and wait for it.
    pub async fn finish(self) -> Result<u64> {
        drop(self.batches);
        self.done.wait().await
    }
}

/// Start a reader on a blocking thread (on the current runtime).
pub fn spawn_reader(req: ReadRequest) -> Reader {
    let (tx, batches) = mpsc::channel::<EncodedBatch>(CHANNEL_BATCHES);
    let handle = tokio::task::spawn_blocking(move || -> Result<u64> {
        let conn = crate::sqlite::read::source::open_readonly(&req.path)?;
        extract_encoded(&conn, req, &tx)
    });
    Reader {
        batches,
        done: ReaderDone(handle),
    }
}

/// A batch is sent when it has `batch_size` rows or this many bytes,
/// whichever comes first, so wide rows do not make batches huge.
const BATCH_BYTES: usize = 1 << 20;

/// Read the rows whose rowid is in `range` (WITHOUT ROWID tables: every
/// row, the query ignores it), convert and encode each one in place from SQLite's
/// row buffer (no owned copy of a cell on the way), and send them in
/// batches. The copy stage's reader: one thread does extract, transform and
/// encode, so the only copy of a text value is the one into the COPY buffer.
/// Returns the number of rows read; stops early (Ok) if the receiver has
/// gone away.
fn extract_encoded(
    conn: &Connection,
    req: ReadRequest,
    tx: &mpsc::Sender<EncodedBatch>,
) -> Result<u64> {
    let ReadRequest {
        sql,
        range,
        transform: tf,
        types,
        batch_size,
        refused,
        hash,
        send_rows,
        ..
    } = req;
    let (sql, types, tf) = (sql.as_str(), types.as_slice(), &*tf);
    let mut stmt = conn.prepare_cached(sql).context("preparing source query")?;
    let (lo, hi) = range.into_inner();
    let mut rows = stmt.query([lo, hi]).context("querying source")?;
    let mut batch = EncodedBatch::default();
    let mut buf = BytesMut::with_capacity(64 * 1024);
    let mut n = 0u64;
    let mut keys = RowKeys::new(lo);
    let mut hasher = RowHasher::default();
    let plain = crate::pg::checksum::plain(types);
    while let Some(row) = rows.next().context("reading source row")? {
        let key = keys.next(row)?;
        n += 1;
        batch.rows_read += 1;
        if let Some(why) = refused.get(&key) {
            batch.rejects.push(
                tf.refused(key, |i| row.get_ref(i + 1), why)
                    .context("reading source row")?,
            );
        } else {
            let start = buf.len();
            match tf
                .encode_row(key, |i| row.get_ref(i + 1), types, &mut buf)
                .context("reading source row")?
            {
                Ok(()) => {
                    batch.keys.push(key);
                    batch.largest_row = batch.largest_row.max((buf.len() - start) as u64);
                    if hash {
                        hash_encoded_rows(
                            &buf[start..],
                            types,
                            plain,
                            &mut hasher,
                            &mut batch.content,
                        )
                        .map_err(|e| anyhow::anyhow!("hashing an encoded row: {e}"))?;
                    }
                    if !send_rows {
                        buf.truncate(start);
                    }
                }
                Err(reject) => batch.rejects.push(reject),
            }
        }
        if batch.rows_read >= batch_size || buf.len() >= BATCH_BYTES {
            let next = BytesMut::with_capacity(buf.len() + buf.len() / 8);
            batch.data = std::mem::replace(&mut buf, next).freeze();
            if tx.blocking_send(std::mem::take(&mut batch)).is_err() {
                return Ok(n);
            }
        }
    }
    if batch.rows_read > 0 {
        batch.data = buf.freeze();
        if tx.blocking_send(batch).is_err() {
            return Ok(n);
        }
    }
    Ok(n)
}
