//! sqlite2pg: move a SQLite database into PostgreSQL.
//!
//! Stages: `prepare` (target schema) → `copy` (extract → transform → load in
//! rowid-range chunks; a table, or each chunk of it, one transaction) →
//! `finalize` (keys, indexes, sequences, ANALYZE) → `verify`.
//! ARCHITECTURE.md maps each concern to its module.

pub mod cli;
pub mod commands;
pub mod config;
pub mod convert;
pub mod error;
pub mod pg;
pub mod pool;
pub mod shutdown;
pub mod sqlite;
pub mod stages;
pub mod state;
pub mod ui;
