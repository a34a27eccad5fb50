//! What a person watching the terminal sees: progress bars and periodic log
//! lines.

pub mod out;
pub mod progress;

/// Width of the table-name column of a printed report.
pub fn name_width<'a>(names: impl Iterator<Item = &'a str>) -> usize {
    names.map(str::len).max().unwrap_or(0).max(5)
}
