//! What the source declares: `introspect` reads tables, keys, indexes and
//! foreign keys into the values of `model`; `columns` (generated columns),
//! `vtab` (virtual tables and their fates), `epoch` (the unit of epoch
//! integers) and `not_moved` (what stays behind, named) fill in the rest.

pub mod columns;
pub mod epoch;
pub mod introspect;
pub mod model;
pub mod not_moved;
pub mod vtab;
