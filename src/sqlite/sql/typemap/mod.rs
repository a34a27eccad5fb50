//! From SQLite's schema language to PostgreSQL's: declared column types
//! (SQLite's affinity rules plus the names apps actually use), column
//! defaults, and CHECK / partial-index expressions (best effort: anything we
//! are not sure about is refused, and `init` leaves it out with a warning).
//!
//! Here: declared types. Defaults live in `defaults`, expressions in `expr`;
//! both read SQL through the `lexer`.

use crate::pg::ident;
use crate::pg::types::PgType;

mod defaults;
mod expr;
#[cfg(test)]
mod tests;

pub use defaults::{translate_default, translate_default_in, Translated};
pub use expr::{translate_expr, translate_expr_with, ColumnUse};

/// `'text'` as a PostgreSQL literal (standard string, or `E'...'` when it has
/// backslashes).
fn lit(s: &str) -> String {
    ident::literal(s).trim_start().to_string()
}

fn bytea_lit(hex_digits: &str) -> String {
    format!("'\\x{}'::bytea", hex_digits.to_ascii_lowercase())
}

// ---------------------------------------------------------------------------
// Declared types
// ---------------------------------------------------------------------------

/// The PostgreSQL type for a SQLite declared column type.
///
/// Specific names first (`boolean`, `date`, `datetime`, `json`, `uuid`,
/// `decimal(p,s)`, ...), then SQLite's own affinity rules. Every integer
/// affinity becomes `bigint` (SQLite integers are 64-bit whatever the
/// declaration says), every floating one `double precision`, and character
/// types `text` (SQLite does not enforce `varchar(n)` limits).
pub fn map_declared_type(decl: &str) -> PgType {
    let norm = decl
        .trim()
        .to_ascii_lowercase()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    let (base, args) = match norm.find('(') {
        Some(i) => {
            let close = norm.rfind(')').filter(|&c| c > i).unwrap_or(norm.len());
            let args: Option<Vec<i64>> = norm[i + 1..close]
                .split(',')
                .map(|a| a.trim().parse::<i64>().ok())
                .collect();
            (norm[..i].trim().to_string(), args)
        }
        None => (norm.clone(), Some(Vec::new())),
    };
    match base.as_str() {
        "" => PgType::Text,
        "boolean" | "bool" => PgType::Boolean,
        "date" => PgType::Date,
        // SQLite's own CURRENT_TIMESTAMP and most apps write naive
        // wall-clock text: `timestamp` unless the name says with time zone
        // (init then follows the cells: instants make it timestamptz).
        "datetime" | "timestamp" | "timestamp without time zone" => PgType::Timestamp,
        "timestamptz" | "timestamp with time zone" => PgType::Timestamptz,
        "time" | "time without time zone" => PgType::Time,
        "json" | "jsonb" => PgType::Jsonb,
        "uuid" | "guid" | "uniqueidentifier" => PgType::Uuid,
        "numeric" | "decimal" => PgType::Numeric(match args.as_deref() {
            Some([p]) if (1..=1000).contains(p) => Some((*p as u32, 0)),
            Some([p, s]) if (1..=1000).contains(p) && (0..=*p).contains(s) => {
                Some((*p as u32, *s as u32))
            }
            _ => None,
        }),
        "real" | "float" | "double" | "double precision" | "float4" | "float8" => PgType::Double,
        "blob" | "bytea" => PgType::Bytea,
        _ => affinity_type(&norm),
    }
}

/// SQLite's affinity rules (section 3.1 of "Datatypes In SQLite"), in order.
fn affinity_type(norm: &str) -> PgType {
    if norm.contains("int") {
        PgType::BigInt
    } else if norm.contains("char") || norm.contains("clob") || norm.contains("text") {
        PgType::Text
    } else if norm.contains("blob") {
        PgType::Bytea
    } else if norm.contains("real") || norm.contains("floa") || norm.contains("doub") {
        PgType::Double
    } else {
        PgType::Numeric(None)
    }
}
