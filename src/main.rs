//! Entry point: parse arguments, set up logging and Ctrl-C, dispatch to the
//! library, and exit with the code of the report's class (or the error's):
//! [`ExitClass::code`] is the one place a class becomes a number.

use clap::Parser;
use sqlite2pg::cli::{self, Cli, Command};
use sqlite2pg::commands::run::{self, RunOptions};
use sqlite2pg::commands::{check, init, one_line, status, verify};
use sqlite2pg::config::mapping::NameCase;
use sqlite2pg::error::{self, ExitClass};
use sqlite2pg::shutdown::Shutdown;
use std::process::ExitCode;
use tracing_subscriber::EnvFilter;

/// glibc malloc gives every thread that allocates an arena of its own (up
/// to 8 per core) and keeps freed memory there. With extract and transform
/// threads per chunk that measured 209 MB peak RSS and 4.7 s of system time
/// at bench scale 1.0; two arenas measured 137 MB and 1.6 s (mimalloc was no
/// better: 220-258 MB). Set before any thread starts.
fn limit_malloc_arenas() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only adjusts allocator parameters; called once, first
    // thing in main, before other threads exist.
    unsafe {
        libc::mallopt(libc::M_ARENA_MAX, 2);
    }
}

/// A report line on stdout; a closed pipe ends the output quietly.
macro_rules! out {
    ($($t:tt)*) => { sqlite2pg::ui::out::write_line(format_args!($($t)*)) };
}

fn main() -> ExitCode {
    limit_malloc_arenas();
    let cli = Cli::parse();
    let level = if cli.quiet {
        "warn"
    } else {
        match cli.verbose {
            0 => "info",
            1 => "debug",
            _ => "trace",
        }
    };
    let color = cli.color.on_stderr();
    sqlite2pg::ui::progress::set_color(color);
    let no_progress = matches!(
        cli.command,
        Command::Run {
            no_progress: true,
            ..
        }
    );
    sqlite2pg::ui::progress::enable(!cli.quiet && !no_progress);
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| EnvFilter::new(format!("sqlite2pg={level},warn"))),
        )
        .with_writer(sqlite2pg::ui::progress::LogWriter::default)
        .with_ansi(color)
        .with_target(false)
        .init();

    let rt = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start runtime: {e}");
            return ExitCode::from(ExitClass::Failed.code());
        }
    };
    let result = rt.block_on(dispatch(cli));
    sqlite2pg::ui::out::flush();
    let class = result.unwrap_or_else(|e| {
        eprintln!("error: {e:#}");
        error::classify(&e)
    });
    ExitCode::from(class.code())
}

/// Each command run and its report printed; the report's class is the
/// exit code.
async fn dispatch(cli: Cli) -> anyhow::Result<ExitClass> {
    let shutdown = Shutdown::from_signals();
    match cli.command {
        Command::Init {
            sqlite_file,
            output,
            force,
            sample,
            declared_types,
            names,
        } => {
            // With --force the old mapping is replaced only once the new
            // one is complete.
            let written = init::run_init(
                &sqlite_file,
                output.as_deref(),
                sample,
                force,
                declared_types,
                names.map(|n| match n {
                    cli::Names::Lower => NameCase::Lower,
                    cli::Names::Keep => NameCase::Keep,
                }),
            )?;
            let report = init::InitReport { written };
            report.print();
            Ok(report.exit_class())
        }
        Command::Check {
            pipeline,
            json,
            allow_unmapped,
        } => {
            let report = check::check(&pipeline, allow_unmapped, &shutdown).await?;
            show(&report, json.then_some(Json::Line), check::print)?;
            Ok(report.exit_class())
        }
        Command::Run {
            pipeline,
            target,
            stage,
            table,
            fresh,
            force,
            truncate,
            allow_unmapped,
            snapshot,
            snapshot_dir,
            owner,
            no_progress,
        } => {
            if snapshot_dir.is_some() && snapshot != cli::Snapshot::Copy {
                return Err(error::usage(
                    "--snapshot-dir is where --snapshot copy puts its copy: give --snapshot copy too",
                ));
            }
            let opts = RunOptions {
                target,
                stages: stage,
                tables: table,
                fresh,
                force,
                truncate,
                allow_unmapped,
                snapshot: (snapshot == cli::Snapshot::Copy)
                    .then(|| snapshot_dir.unwrap_or_else(std::env::temp_dir)),
                owner,
                progress: !no_progress && !cli.quiet,
            };
            if one_line::is_sqlite_file(&pipeline) {
                return one_line::move_file(&pipeline, opts, &shutdown).await;
            }
            let outcome = run::run(&pipeline, opts, &shutdown).await?;
            outcome.print(&pipeline);
            Ok(outcome.exit_class())
        }
        Command::Status {
            pipeline,
            target,
            json,
        } => {
            let report = status::status(&pipeline, target.as_deref()).await?;
            show(&report, json.then_some(Json::Pretty), status::print)?;
            Ok(report.exit_class())
        }
        Command::Verify {
            pipeline,
            target,
            json,
        } => {
            let report = verify::verify(&pipeline, target.as_deref()).await?;
            show(&report, json.then_some(Json::Line), verify::print)?;
            Ok(report.exit_class())
        }
    }
}

/// A report's `--json` form: one line, or indented.
#[derive(Clone, Copy)]
enum Json {
    Line,
    Pretty,
}

/// `report` on stdout: as JSON with `--json`, else as text by `print`.
fn show<R: serde::Serialize>(report: &R, json: Option<Json>, print: fn(&R)) -> anyhow::Result<()> {
    match json {
        None => print(report),
        Some(Json::Line) => out!("{}", serde_json::to_string(report)?),
        Some(Json::Pretty) => out!("{}", serde_json::to_string_pretty(report)?),
    }
    Ok(())
}
