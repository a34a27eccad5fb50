//! SQLite's SQL: one lexer, identifier quoting, and the translations into
//! PostgreSQL: declared types, defaults and generated expressions
//! (`typemap`), and views (`views`).

pub mod lexer;
pub mod quote;
pub mod typemap;
pub mod views;
