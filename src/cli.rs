//! Command-line arguments as the user typed them (clap). `main` turns them
//! into the library's option structs.

use crate::state::Stage;
use clap::{Parser, Subcommand};
use std::path::PathBuf;

/// design.md's exit codes, as `--help` states them.
const EXIT_CODES: &str = "Exit codes:
  0    success
  1    failed; rerunning the same command resumes
  2    bad arguments or an invalid mapping file
  3    finished, but with rejected rows or a verification mismatch
  4    failed, and a rerun will not help until what the message names changes
  130  stopped by Ctrl-C at a transaction boundary (a rerun resumes)
  143  stopped by SIGTERM at a transaction boundary (a rerun resumes)";

#[derive(Debug, Parser)]
#[command(
    name = "sqlite2pg",
    version,
    about = "Move a SQLite database into PostgreSQL: staged, resumable, verified, binary COPY",
    after_help = EXIT_CODES
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
    /// More log output (-v debug, -vv trace). RUST_LOG overrides.
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,
    /// Only warnings and errors on stderr.
    #[arg(short, long, global = true)]
    pub quiet: bool,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Introspect (and profile) a SQLite file and write a mapping file to review.
    Init {
        sqlite_file: PathBuf,
        /// Where to write the mapping file [default: pipelines/<stem>.toml].
        #[arg(short, long)]
        output: Option<PathBuf>,
        /// Overwrite the output file if it exists.
        #[arg(long)]
        force: bool,
        /// Profile only the first N rows of each table (default: all).
        #[arg(long, value_name = "N")]
        sample: Option<u64>,
        /// Keep every column's declared type (no typed upgrades of text
        /// columns, no widening to what the cells hold).
        #[arg(long)]
        declared_types: bool,
    },
    /// Full dry run: convert every row as `run` would, write nothing.
    Check {
        pipeline: PathBuf,
        /// One JSON object on stdout.
        #[arg(long)]
        json: bool,
    },
    /// Run the pipeline (or resume it): prepare, copy, finalize, verify.
    #[command(after_help = EXIT_CODES)]
    Run {
        pipeline: PathBuf,
        /// Target PostgreSQL URL (else target.url, else DATABASE_URL).
        #[arg(long)]
        target: Option<String>,
        /// Run only this stage (repeatable).
        #[arg(long, value_enum)]
        stage: Vec<Stage>,
        /// Only this source table (repeatable).
        #[arg(long)]
        table: Vec<String>,
        /// Start a new run even if the previous one finished or failed.
        #[arg(long)]
        fresh: bool,
        /// Resume even though the source file changed since the run started.
        #[arg(long)]
        force: bool,
        /// Empty target tables that already hold rows (TRUNCATE, never CASCADE).
        #[arg(long)]
        truncate: bool,
        /// No progress bars.
        #[arg(long)]
        no_progress: bool,
    },
    /// What is done, running, failed or pending: per stage, table and chunk.
    Status {
        pipeline: PathBuf,
        #[arg(long)]
        target: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// Compare source and target per table: counts and content checksums.
    Verify {
        pipeline: PathBuf,
        #[arg(long)]
        target: Option<String>,
        /// One JSON object on stdout.
        #[arg(long)]
        json: bool,
    },
}
