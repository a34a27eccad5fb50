//! Identifier quoting for the statements the tool runs on SQLite.

/// Identifier quoting for SQLite statements.
pub fn sqlite_quote(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}
