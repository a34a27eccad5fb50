//! SQLite's SQL: one lexer, identifier quoting, and the translations into
//! PostgreSQL: declared types, defaults and generated expressions
//! (`typemap`), and views (`views`); the functions both expression
//! translators take, in one table (`functions`).

pub mod functions;
pub mod lexer;
pub mod quote;
pub mod typemap;
pub mod views;
