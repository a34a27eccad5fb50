//! The mapping file: parsed and validated once (every problem reported at
//! once), then resolved into per-table plans the rest of the program uses.

mod locate;
pub mod mapping;
pub mod plan;
mod validate;
