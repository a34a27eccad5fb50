//! The end-to-end tests, one crate (one link): the real `sqlite2pg` binary
//! against a real PostgreSQL, a fresh database per test (see `common`).
//! One module per area; `tests/architecture.rs` is a static check of the
//! source and stays a crate of its own.

mod common;

mod app_types;
mod check;
mod collations;
mod conversions;
mod crash;
mod defaults;
mod django;
mod epochs;
mod existing_schema;
mod exit_codes;
mod fidelity;
mod foreign_keys;
mod frameworks;
mod generated_columns;
mod help;
mod honest_output;
mod key_types;
mod lossless;
mod mapping_errors;
mod mapping_sql;
mod names;
mod one_line;
mod owner;
mod pipeline;
mod rerun;
mod safety;
mod schema_objects;
mod seed;
mod source_changes;
mod source_content;
mod sqlalchemy;
mod state_schema;
mod target_checks;
mod terminal;
mod tls;
mod truncate;
mod views;
mod virtual_tables;
