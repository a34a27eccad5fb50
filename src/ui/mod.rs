//! What a person watching the terminal sees: progress bars and periodic log
//! lines.

pub mod progress;
