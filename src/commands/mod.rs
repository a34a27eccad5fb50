//! One module per subcommand: each parses nothing (that is `cli`), runs the
//! stages or readers it needs, and returns a report or an outcome.

pub mod check;
pub mod init;
pub mod one_line;
pub mod preflight;
mod resume;
pub mod run;
pub mod run_outcome;
pub mod status;
pub mod verify;
