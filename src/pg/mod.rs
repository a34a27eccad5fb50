//! The PostgreSQL side: connections, the catalog, identifiers, target types
//! and values, and the binary COPY format.

pub mod catalog;
pub mod checksum;
pub mod connect;
pub mod conninfo;
pub mod copy_in;
pub mod fk_types;
pub mod fragment;
pub mod ident;
pub mod pgpass;
pub mod server;
pub mod tls;
pub mod types;
pub mod value;
