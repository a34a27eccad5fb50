//! The mapping file: parsed and validated once (every problem reported at
//! once), then resolved into per-table plans the rest of the program uses.

pub mod fragments;
pub mod issue;
mod lenient;
mod locate;
pub mod mapping;
mod parse;
pub mod plan;
pub mod rows_rule;
mod validate;

/// Read, parse and validate a mapping file: every problem at once, as a
/// usage error (exit 2), like a file that cannot be read.
pub fn load(file: &std::path::Path) -> anyhow::Result<mapping::Pipeline> {
    mapping::Pipeline::load(file).map_err(|e| crate::error::usage(format!("{e:#}")))
}
