//! sqlite2pg: move a SQLite database into PostgreSQL.
//!
//! Stages: `prepare` (target schema) → `copy` (extract → transform → load in
//! rowid-range chunks, each chunk one transaction) → `finalize` (keys,
//! indexes, sequences, ANALYZE) → `verify`.

pub mod catalog;
pub mod cell;
pub mod check;
pub mod checksum;
pub mod cli;
pub mod convert;
pub mod copy;
pub mod ddl;
pub mod encode;
pub mod extract;
pub mod finalize;
pub mod fingerprint;
pub mod ident;
pub mod init;
pub mod introspect;
pub mod mapping;
pub mod pgtype;
pub mod plan;
pub mod progress;
pub mod run;
pub mod source;
pub mod state;
pub mod status;
pub mod target;
pub mod transform;
pub mod typemap;
pub mod value;
pub mod verify;

/// Bad arguments or configuration: exit code 2.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct UsageError(pub String);
