//! sqlite2pg: move a SQLite database into PostgreSQL.
//!
//! Stages: `prepare` (target schema) → `copy` (extract → transform → load in
//! rowid-range chunks, each chunk one transaction) → `finalize` (keys,
//! indexes, sequences, ANALYZE) → `verify`.

pub mod cell;
pub mod convert;
pub mod ident;
pub mod init;
pub mod introspect;
pub mod mapping;
pub mod pgtype;
pub mod source;
pub mod typemap;
pub mod value;
