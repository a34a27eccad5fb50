//! The SQLite source, by concern:
//! - `read`: opening it read-only and checked, its identity and the guard
//!   against changes, and the one reader of rows (convert + encode in place)
//!   shared by copy, check and verify;
//! - `schema`: what the file declares (tables, keys, indexes, virtual
//!   tables, generated columns, what is not moved), read into plain values;
//! - `sql`: SQLite's SQL itself: one lexer, identifier quoting, and the
//!   translations into PostgreSQL (declared types, defaults, expressions,
//!   views).

pub mod read;
pub mod schema;
pub mod sql;
