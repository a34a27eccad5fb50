//! Typed values ready for binary COPY: one variant per target type the
//! transform produces. The transform guarantees the variant matches the
//! column's `PgType`, so encoding never has to guess.

use chrono::{DateTime, NaiveDate, NaiveDateTime, NaiveTime, Utc};

#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Null,
    Bool(bool),
    Int2(i16),
    Int4(i32),
    Int8(i64),
    Float4(f32),
    Float8(f64),
    /// Exact decimal, canonical text form (`-123.4500`, no exponent);
    /// encoded to PostgreSQL's base-10000 binary numeric.
    Numeric(String),
    Text(String),
    Bytea(Vec<u8>),
    Date(NaiveDate),
    Time(NaiveTime),
    Timestamp(NaiveDateTime),
    Timestamptz(DateTime<Utc>),
    /// Validated JSON text; sent as `json` or as `jsonb` (version byte 1).
    Json(String),
    Uuid(uuid::Uuid),
}
