//! Reading the source: opened read-only and checked (`source`), identified
//! (`fingerprint`, over the hash of its `pages`) and guarded against changes while read (`guard`), its
//! rows read, converted and encoded in place (`reader`, `transform`), and
//! its foreign-key orphans counted (`fk_check`).

pub mod fingerprint;
pub mod fk_check;
pub mod guard;
pub mod pages;
pub mod reader;
pub mod source;
pub mod transform;
