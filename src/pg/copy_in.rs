//! Binary COPY framing for whole batches.
//!
//! `tokio_postgres::binary_copy::BinaryCopyInWriter` encodes row by row on
//! the async loader and sends a CopyData message every 4 KB. Here the
//! transform thread encodes a whole batch into one buffer (tens of KB), so the
//! loader only forwards bytes: encoding leaves the loader's thread and the
//! number of messages and socket writes drops by an order of magnitude. Each
//! value is still encoded by its `ToSql` implementation; only the framing
//! (PostgreSQL's documented binary COPY format) is written here.

use crate::pg::value::Value;
use bytes::{BufMut, BytesMut};
use tokio_postgres::types::{IsNull, ToSql, Type};

/// Signature, flags (no OIDs), header extension length 0.
pub const HEADER: &[u8] = b"PGCOPY\n\xff\r\n\0\0\0\0\0\0\0\0\0";
/// End of data: a field count of -1.
pub const TRAILER: &[u8] = &[0xff, 0xff];

/// Append one row of owned values (the reference path of the tests). On
/// error `buf` is left as it was.
#[cfg(test)]
pub fn encode_row(values: &[Value], types: &[Type], buf: &mut BytesMut) -> Result<(), String> {
    debug_assert_eq!(values.len(), types.len());
    let start = buf.len();
    buf.put_i16(values.len() as i16);
    for (v, ty) in values.iter().zip(types) {
        if let Err(e) = put_value(v, ty, buf) {
            buf.truncate(start);
            return Err(e);
        }
    }
    Ok(())
}

/// Append one field: its length, then its binary encoding (or length -1 for
/// NULL). On error the buffer may hold a partial field; callers truncate to
/// the row's start.
pub fn put_value(v: &Value, ty: &Type, buf: &mut BytesMut) -> Result<(), String> {
    let len_at = buf.len();
    buf.put_i32(0);
    match v.to_sql_checked(ty, buf) {
        Ok(IsNull::Yes) => {
            buf.truncate(len_at);
            buf.put_i32(-1);
            Ok(())
        }
        Ok(IsNull::No) => {
            let len = buf.len() - len_at - 4;
            if len > i32::MAX as usize {
                return Err("value larger than 2 GB".into());
            }
            buf[len_at..len_at + 4].copy_from_slice(&(len as i32).to_be_bytes());
            Ok(())
        }
        Err(e) => Err(format!("cannot encode value for {ty}: {e}")),
    }
}

/// Append one field whose binary form is its bytes: text, varchar, bpchar
/// (their UTF-8, as `&str`'s `ToSql` sends them) and bytea.
pub fn put_bytes(b: &[u8], buf: &mut BytesMut) -> Result<(), String> {
    let len = i32::try_from(b.len()).map_err(|_| "value larger than 2 GB".to_string())?;
    buf.put_i32(len);
    buf.put_slice(b);
    Ok(())
}

/// Append the NULL field.
pub fn put_null(buf: &mut BytesMut) {
    buf.put_i32(-1);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_rows_like_postgres_expects() {
        let mut buf = BytesMut::new();
        encode_row(
            &[Value::Int4(7), Value::Null, Value::Text("ab".into())],
            &[Type::INT4, Type::TEXT, Type::TEXT],
            &mut buf,
        )
        .unwrap();
        assert_eq!(
            &buf[..],
            &[0, 3, 0, 0, 0, 4, 0, 0, 0, 7, 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 2, b'a', b'b']
        );
    }

    #[test]
    fn a_failed_row_leaves_the_buffer_unchanged() {
        let mut buf = BytesMut::new();
        encode_row(&[Value::Int4(1)], &[Type::INT4], &mut buf).unwrap();
        let before = buf.clone();
        // Not canonical numeric text: the encoder refuses it.
        let r = encode_row(
            &[Value::Int4(2), Value::Numeric("1e5".into())],
            &[Type::INT4, Type::NUMERIC],
            &mut buf,
        );
        assert!(r.is_err());
        assert_eq!(buf, before);
    }
}
