//! The stages of a run, in order: `prepare` → `copy` → `finalize` →
//! `verify_counts`. Each records its progress in the state schema and
//! returns a typed outcome to the run command.

pub mod copy;
pub mod ddl;
pub mod finalize;
