//! A problem of a mapping file and the error that lists them all: what
//! parsing (`lenient`, `locate`) and validation report alike, so those
//! files share it without using the mapping's types.

use std::path::PathBuf;

/// One problem found in a mapping file.
#[derive(Debug, Clone, PartialEq)]
pub struct MappingIssue {
    /// Dotted key path, e.g. `tables.users.columns.id.type`.
    pub key: String,
    pub line: Option<usize>,
    pub message: String,
}

/// All problems of one mapping file; exit code 2.
#[derive(Debug, thiserror::Error)]
pub struct MappingError {
    pub file: PathBuf,
    pub issues: Vec<MappingIssue>,
}

impl std::fmt::Display for MappingError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        writeln!(
            f,
            "invalid mapping file {} ({} problem{}):",
            self.file.display(),
            self.issues.len(),
            if self.issues.len() == 1 { "" } else { "s" }
        )?;
        for i in &self.issues {
            match i.line {
                Some(l) => writeln!(
                    f,
                    "  {}:{}: `{}`: {}",
                    self.file.display(),
                    l,
                    i.key,
                    i.message
                )?,
                None => writeln!(f, "  {}: `{}`: {}", self.file.display(), i.key, i.message)?,
            }
        }
        Ok(())
    }
}
