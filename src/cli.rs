//! Command-line arguments as the user typed them (clap). `main` turns them
//! into the library's option structs.

use crate::state::Stage;
use clap::{Parser, Subcommand};
use std::path::PathBuf;

/// The exit codes of docs/cli.md, as `--help` states them (a macro: `concat!`
/// takes only literals).
macro_rules! exit_codes {
    () => {
        "Exit codes:
  0    success
  1    failed; rerunning the same command resumes
  2    bad arguments or an invalid mapping file
  3    finished, but with rejected rows or a verification mismatch
  4    failed, and a rerun will not help until what the message names changes
  130  stopped by Ctrl-C at a transaction boundary (a rerun resumes)
  143  stopped by SIGTERM at a transaction boundary (a rerun resumes)"
    };
}

/// Where the target comes from, as `--help` states it.
const TARGET_HELP: &str = "Target PostgreSQL: --target, else target.url in the mapping (may say ${VAR}), \
else DATABASE_URL, else libpq's environment (PGHOST, PGPORT, PGUSER, PGDATABASE, PGPASSWORD, \
PGSSLMODE, ...) and ~/.pgpass. A postgres:// URL or a key=value string; the password is never printed.";

const TOP_HELP: &str = concat!(
    "Environment:
  DATABASE_URL   the target when neither --target nor target.url says one
  PGHOST, PGPORT, PGUSER, PGDATABASE, PGPASSWORD, PGSSLMODE, ...
                 libpq's variables, used for what the URL leaves out (and ~/.pgpass)
  NO_COLOR       no colour on stderr (as --color never)
  RUST_LOG       log filter, overrides -v/-q (e.g. RUST_LOG=sqlite2pg=debug)

Typical session:
  sqlite2pg init app.db                       # writes pipelines/app.toml to review
  sqlite2pg check pipelines/app.toml          # dry run: what would be rejected, and why
  sqlite2pg run pipelines/app.toml --target postgres://user@host/db
  sqlite2pg verify pipelines/app.toml --target postgres://user@host/db
  sqlite2pg run app.db --target postgres://user@host/db   # all of it in one line

",
    exit_codes!()
);

const INIT_EXAMPLES: &str = "Examples:
  sqlite2pg init app.db                        # writes pipelines/app.toml
  sqlite2pg init app.db -o move.toml --sample 10000 --force
  sqlite2pg init app.db --names keep             # target names as the file spells them";

const CHECK_EXAMPLES: &str = "Examples:
  sqlite2pg check pipelines/app.toml
  sqlite2pg check pipelines/app.toml --json | jq '.tables[] | select(.rows_rejected > 0)'

Exit codes: 0 nothing would be rejected; 2 invalid mapping, or the source has tables/columns the mapping does not mention; 3 some rows would be rejected, or a foreign key has orphan rows the mapping does not acknowledge (orphans = N); 4 the source file is corrupt or changed while it was read.";

const RUN_EXAMPLES: &str = concat!(
    "Examples:
  sqlite2pg run pipelines/app.toml --target postgres://user@host/db
  sqlite2pg run pipelines/app.toml                     # a rerun: only the missing work
  sqlite2pg run pipelines/app.toml --stage copy --table users --truncate
  sqlite2pg run app.db --target postgres://user@host/db  # init, run, verify at once (the mapping is kept)

",
    exit_codes!()
);

const STATUS_EXAMPLES: &str = "Examples:
  sqlite2pg status pipelines/app.toml --target postgres://user@host/db
  sqlite2pg status pipelines/app.toml --json | jq '.tables[] | select(.copy != \"done\")'";

const VERIFY_EXAMPLES: &str = "Examples:
  sqlite2pg verify pipelines/app.toml --target postgres://user@host/db
  sqlite2pg verify pipelines/app.toml --json | jq .ok

Exit codes: 0 every table matches; 1 could not finish (rerun); 2 invalid mapping;
3 a count, checksum, foreign key or sequence differs; 4 could not finish, and a rerun
will not help until something changes (the source changed while it was read, or a
query PostgreSQL refuses: the message names it).";

#[derive(Debug, Parser)]
#[command(
    name = "sqlite2pg",
    version,
    about = "Move a SQLite database into PostgreSQL: staged, resumable, verified, binary COPY",
    after_help = TOP_HELP
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
    /// More log output (-v debug, -vv trace). RUST_LOG overrides.
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,
    /// Only warnings and errors on stderr (no progress bars).
    #[arg(short, long, global = true)]
    pub quiet: bool,
    /// Colour on stderr: auto (a terminal, unless NO_COLOR is set), always
    /// or never.
    #[arg(long, global = true, value_enum, default_value_t = Color::Auto, value_name = "WHEN")]
    pub color: Color,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Snapshot {
    Live,
    Copy,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Names {
    Lower,
    Keep,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Color {
    Auto,
    Always,
    Never,
}

impl Color {
    /// Whether to colour stderr; `NO_COLOR` (any non-empty value) turns
    /// `auto` off, as no-color.org asks.
    pub fn on_stderr(self) -> bool {
        match self {
            Color::Always => true,
            Color::Never => false,
            Color::Auto => {
                std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
                    && std::io::IsTerminal::is_terminal(&std::io::stderr())
            }
        }
    }
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Introspect (and profile) a SQLite file and write a mapping file to review.
    #[command(after_help = INIT_EXAMPLES)]
    Init {
        /// The SQLite database to read (opened read-only).
        #[arg(value_name = "SQLITE_FILE")]
        sqlite_file: PathBuf,
        /// Where to write the mapping file [default: pipelines/<stem>.toml].
        #[arg(short, long, value_name = "PIPELINE.toml")]
        output: Option<PathBuf>,
        /// Overwrite the output file if it exists (only once the new one is complete).
        #[arg(long)]
        force: bool,
        /// Profile only the first N rows of each table (default: all).
        #[arg(long, value_name = "N")]
        sample: Option<u64>,
        /// Keep every column's declared type (no typed upgrades of text
        /// columns, no widening to what the cells hold).
        #[arg(long)]
        declared_types: bool,
        /// The case of the target names: `lower` folds A-Z, as PostgreSQL
        /// folds unquoted names (apps' unquoted queries find them); `keep`
        /// keeps them as the file spells them [default: lower, or keep for
        /// a file of a recognised framework, whose queries quote names].
        #[arg(long, value_enum, value_name = "CASE")]
        names: Option<Names>,
    },
    /// Full dry run: convert every row as `run` would, write nothing.
    #[command(after_help = CHECK_EXAMPLES)]
    Check {
        /// The mapping file (written by `init`).
        #[arg(value_name = "PIPELINE.toml")]
        pipeline: PathBuf,
        /// One JSON object on stdout (shape in docs/cli.md, "JSON outputs").
        #[arg(long)]
        json: bool,
        /// Go on when the source holds tables or columns the mapping does
        /// not mention (they are named as not moved).
        #[arg(long)]
        allow_unmapped: bool,
    },
    /// Run the pipeline (or resume it): prepare, copy, finalize, verify.
    #[command(after_help = RUN_EXAMPLES)]
    Run {
        /// The mapping file; or a SQLite file, for the one-line move (init
        /// with defaults, check, run, verify; the mapping is kept).
        #[arg(value_name = "PIPELINE.toml | SQLITE_FILE")]
        pipeline: PathBuf,
        #[arg(long, value_name = "URL", help = TARGET_HELP)]
        target: Option<String>,
        /// Run only this stage (repeatable).
        #[arg(long, value_enum)]
        stage: Vec<Stage>,
        /// Only this source table (repeatable).
        #[arg(long, value_name = "NAME")]
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
        /// Go on when the source holds tables or columns the mapping does
        /// not mention: they are not moved, and named in the summary.
        #[arg(long)]
        allow_unmapped: bool,
        /// How the source is read. `live`: in place; if anything writes to
        /// it during the run, the run stops (exit 4) before committing what
        /// it read after the change. `copy`: first a consistent private copy
        /// (SQLite's backup API, into --snapshot-dir), then the load from
        /// it: for rehearsing while the application still writes.
        #[arg(long, value_enum, default_value_t = Snapshot::Live, value_name = "HOW")]
        snapshot: Snapshot,
        /// Where `--snapshot copy` puts its copy (default: the system's
        /// temporary directory); it needs the source's size free, and is
        /// removed when the run ends.
        #[arg(long, value_name = "DIR")]
        snapshot_dir: Option<PathBuf>,
        /// The role that owns the tables (and their sequences) the tool
        /// creates (overrides target.owner).
        #[arg(long, value_name = "ROLE")]
        owner: Option<String>,
        /// No progress bars (log lines only).
        #[arg(long)]
        no_progress: bool,
    },
    /// What is done, running, failed or pending: per stage, table and chunk.
    #[command(after_help = STATUS_EXAMPLES)]
    Status {
        /// The mapping file.
        #[arg(value_name = "PIPELINE.toml")]
        pipeline: PathBuf,
        #[arg(long, value_name = "URL", help = TARGET_HELP)]
        target: Option<String>,
        /// One JSON object on stdout (shape in docs/cli.md, "JSON outputs").
        #[arg(long)]
        json: bool,
    },
    /// Compare source and target per table: counts and content checksums.
    #[command(after_help = VERIFY_EXAMPLES)]
    Verify {
        /// The mapping file.
        #[arg(value_name = "PIPELINE.toml")]
        pipeline: PathBuf,
        #[arg(long, value_name = "URL", help = TARGET_HELP)]
        target: Option<String>,
        /// One JSON object on stdout (shape in docs/cli.md, "JSON outputs").
        #[arg(long)]
        json: bool,
    },
}
