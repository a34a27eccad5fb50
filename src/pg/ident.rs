//! PostgreSQL identifiers: quoting every name (mixed case, spaces, reserved
//! words, embedded quotes) and shortening names longer than PostgreSQL's
//! 63-byte limit without two of them colliding.

use sha2::{Digest, Sha256};
use std::collections::HashSet;

/// PostgreSQL's NAMEDATALEN - 1.
pub const MAX_IDENT_BYTES: usize = 63;

/// PostgreSQL's limit of columns per table (`MaxHeapAttributeNumber`).
pub const MAX_COLUMNS: usize = 1600;

/// Whether PostgreSQL keeps `name` as it is (longer ones it truncates).
pub fn fits(name: &str) -> bool {
    name.len() <= MAX_IDENT_BYTES
}

/// `"name"` with embedded quotes doubled.
pub fn quote(name: &str) -> String {
    postgres_protocol::escape::escape_identifier(name)
}

/// `"schema"."name"`.
pub fn qualified(schema: &str, name: &str) -> String {
    format!("{}.{}", quote(schema), quote(name))
}

/// `'text'` as a SQL string literal.
pub fn literal(s: &str) -> String {
    postgres_protocol::escape::escape_literal(s)
}

/// Truncate to at most 63 bytes on a character boundary.
fn truncate_bytes(name: &str, max: usize) -> &str {
    if name.len() <= max {
        return name;
    }
    let mut end = max;
    while !name.is_char_boundary(end) {
        end -= 1;
    }
    &name[..end]
}

/// Shorten `name` to fit PostgreSQL, keeping it distinct from every name in
/// `taken` (compared as PostgreSQL would: exactly, since we always quote).
/// Long names get a short hash of the full name, so the result is stable
/// across runs and two long names with a common prefix do not collide.
/// The returned name is inserted into `taken`.
pub fn fit(name: &str, taken: &mut HashSet<String>) -> String {
    let mut candidate = if name.len() <= MAX_IDENT_BYTES {
        name.to_string()
    } else {
        with_suffix(name, &short_hash(name))
    };
    let mut n = 1u32;
    while taken.contains(&candidate) {
        candidate = with_suffix(name, &format!("{}_{n}", short_hash(name)));
        n += 1;
    }
    taken.insert(candidate.clone());
    candidate
}

fn short_hash(name: &str) -> String {
    let d = Sha256::digest(name.as_bytes());
    hex::encode(&d[..4])
}

fn with_suffix(name: &str, suffix: &str) -> String {
    let keep = MAX_IDENT_BYTES - suffix.len() - 1;
    format!("{}_{}", truncate_bytes(name, keep), suffix)
}

/// A name derived from parts (`users_email_idx`), fitted to 63 bytes.
pub fn derived(parts: &[&str], taken: &mut HashSet<String>) -> String {
    fit(&parts.join("_"), taken)
}

/// Names PostgreSQL keeps for every table's system columns: a user column
/// cannot have one (`column name "ctid" conflicts with a system column
/// name`).
pub const SYSTEM_COLUMNS: [&str; 6] = ["tableoid", "xmin", "cmin", "xmax", "cmax", "ctid"];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quotes_reserved_mixed_and_embedded_quotes() {
        assert_eq!(quote("user"), "\"user\"");
        assert_eq!(quote("Mixed Case"), "\"Mixed Case\"");
        assert_eq!(quote("a\"b"), "\"a\"\"b\"");
        assert_eq!(qualified("public", "order"), "\"public\".\"order\"");
    }

    #[test]
    fn long_names_are_shortened_without_collision() {
        let mut taken = HashSet::new();
        let a = "a".repeat(70) + "_one";
        let b = "a".repeat(70) + "_two";
        let fa = fit(&a, &mut taken);
        let fb = fit(&b, &mut taken);
        assert!(fa.len() <= 63 && fb.len() <= 63);
        assert_ne!(fa, fb);
        // Stable: the same input gives the same name in a fresh set.
        assert_eq!(fit(&a, &mut HashSet::new()), fa);
    }

    #[test]
    fn multibyte_names_cut_on_char_boundary() {
        let mut taken = HashSet::new();
        let n = "ü".repeat(40); // 80 bytes
        let f = fit(&n, &mut taken);
        assert!(f.len() <= 63);
        assert!(f.starts_with("üü"));
    }

    #[test]
    fn short_duplicate_gets_suffix() {
        let mut taken = HashSet::new();
        assert_eq!(fit("x", &mut taken), "x");
        let second = fit("x", &mut taken);
        assert_ne!(second, "x");
        assert!(second.starts_with("x_"));
    }
}
