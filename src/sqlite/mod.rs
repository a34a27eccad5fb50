//! The SQLite source: opened read-only and integrity-checked, its schema
//! introspected (its SQL read by one lexer and translated), its identity
//! fingerprinted, and its rows read by one reader (convert + encode in
//! place) shared by copy, check and verify.

pub mod columns;
pub mod epoch;
pub mod fingerprint;
pub mod fk_check;
pub mod guard;
pub mod introspect;
pub mod lexer;
pub mod not_moved;
pub mod reader;
pub mod source;
pub mod transform;
pub mod typemap;
pub mod views;
pub mod vtab;
