//! A source cell as SQLite stored it: the storage class of *this* cell, not
//! the column's declared type (SQLite columns are dynamically typed).

use std::fmt;

#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    Null,
    Integer(i64),
    Real(f64),
    /// Raw bytes: SQLite does not enforce UTF-8, so this may be invalid.
    Text(Vec<u8>),
    Blob(Vec<u8>),
}

impl Cell {
    pub fn from_ref(v: rusqlite::types::ValueRef<'_>) -> Cell {
        use rusqlite::types::ValueRef;
        match v {
            ValueRef::Null => Cell::Null,
            ValueRef::Integer(i) => Cell::Integer(i),
            ValueRef::Real(f) => Cell::Real(f),
            ValueRef::Text(t) => Cell::Text(t.to_vec()),
            ValueRef::Blob(b) => Cell::Blob(b.to_vec()),
        }
    }

    pub fn as_ref(&self) -> rusqlite::types::ValueRef<'_> {
        use rusqlite::types::ValueRef;
        match self {
            Cell::Null => ValueRef::Null,
            Cell::Integer(i) => ValueRef::Integer(*i),
            Cell::Real(f) => ValueRef::Real(*f),
            Cell::Text(t) => ValueRef::Text(t),
            Cell::Blob(b) => ValueRef::Blob(b),
        }
    }

    /// SQLite's name for the storage class, as `typeof()` reports it.
    pub fn storage_class(&self) -> &'static str {
        match self {
            Cell::Null => "null",
            Cell::Integer(_) => "integer",
            Cell::Real(_) => "real",
            Cell::Text(_) => "text",
            Cell::Blob(_) => "blob",
        }
    }

    /// The raw value as JSON, for reject files: text as a string (lossy if it
    /// is not UTF-8), blobs as hex, numbers as numbers.
    pub fn to_json(&self) -> serde_json::Value {
        match self {
            Cell::Null => serde_json::Value::Null,
            Cell::Integer(i) => serde_json::Value::from(*i),
            Cell::Real(f) => serde_json::Number::from_f64(*f)
                .map(serde_json::Value::Number)
                .unwrap_or_else(|| serde_json::Value::String(f.to_string())),
            Cell::Text(t) => serde_json::Value::String(String::from_utf8_lossy(t).into_owned()),
            Cell::Blob(b) => serde_json::Value::String(format!("x'{}'", hex::encode(b))),
        }
    }
}

impl fmt::Display for Cell {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Cell::Null => f.write_str("NULL"),
            Cell::Integer(i) => write!(f, "{i}"),
            Cell::Real(r) => write!(f, "{r:?}"),
            Cell::Text(t) => write!(f, "{:?}", String::from_utf8_lossy(t)),
            Cell::Blob(b) => write!(f, "x'{}'", hex::encode(b)),
        }
    }
}
