//! `sqlite2pg run APP.db --target URL`: the one-line move (docs/cli.md,
//! "The one-line move"). A SQLite file where `run` expects a mapping is
//! recognised by its header, not its name. The move is `init` with its
//! defaults (the mapping written where `init` writes it, and kept; when it
//! exists already it is used as it is, so a rerun resumes or says it is
//! done), then `run` (which makes check's validation and pre-flight: the
//! mapping validated, the source integrity-checked and held to the mapping;
//! not check's dry run, since `run` converts every row itself), then
//! `verify`. The reviewed workflow stays the one to use for production.

use super::init;
use super::run::{self, RunOptions, RunOutcome};
use super::verify;
use crate::error::{self, ExitClass};
use crate::shutdown::Shutdown;
use crate::ui::out::outln;
use anyhow::Result;
use std::io::Read;
use std::path::{Path, PathBuf};

/// The first 16 bytes of every SQLite 3 database file.
const SQLITE_HEADER: &[u8; 16] = b"SQLite format 3\0";

/// Whether `path` is a SQLite database (by its header; a mapping, a
/// missing or unreadable file is not).
pub fn is_sqlite_file(path: &Path) -> bool {
    let mut head = [0u8; 16];
    std::fs::File::open(path)
        .and_then(|mut f| f.read_exact(&mut head))
        .is_ok_and(|()| &head == SQLITE_HEADER)
}

/// The one-line move of `sqlite`: the exit class of the worst of `run` and
/// `verify`; an error with its class when one of them fails.
pub async fn move_file(sqlite: &Path, opts: RunOptions, shutdown: &Shutdown) -> Result<ExitClass> {
    let mapping = mapping_for(sqlite)?;
    let target = opts.target.clone();
    let outcome = run::run(&mapping, opts, shutdown).await?;
    outcome.print(&mapping);
    if let RunOutcome::AlreadyDone { .. } = outcome {
        outln!(
            "the move of {} is done; verifying the target again",
            sqlite.display()
        );
    }
    let report = verify::verify(&mapping, target.as_deref()).await?;
    verify::print(&report);
    let class = worst(outcome.exit_class(), report.exit_class());
    outln!(
        "{}: mapping {} (edit it and rerun `sqlite2pg run {}` to change the move; \
         for production, review it first: init, check, run, verify in docs/operations.md)",
        if class == ExitClass::Success {
            "moved and verified"
        } else {
            "moved, with differences named above"
        },
        mapping.display(),
        mapping.display()
    );
    Ok(class)
}

/// The mapping of the move: `init`'s default path; written there with
/// `init`'s defaults when it does not exist, else used as it is, once it is
/// known to be the mapping of this very file.
fn mapping_for(sqlite: &Path) -> Result<PathBuf> {
    let mapping = init::default_output(sqlite);
    if !mapping.exists() {
        let written = init::run_init(sqlite, Some(&mapping), None, false, false, None)?;
        outln!(
            "init: wrote the mapping {} (init's defaults); the move uses it, and a rerun of this command reuses it",
            written.display()
        );
        return Ok(written);
    }
    let pipeline = crate::config::load(&mapping)?;
    let same = match (pipeline.source_path().canonicalize(), sqlite.canonicalize()) {
        (Ok(a), Ok(b)) => a == b,
        _ => false,
    };
    if !same {
        return Err(error::usage(format!(
            "{} exists and is the mapping of {}, not of {}: move it away, or write one with \
             `sqlite2pg init {} -o OTHER.toml` and run that",
            mapping.display(),
            pipeline.source_path().display(),
            sqlite.display(),
            sqlite.display()
        )));
    }
    outln!(
        "init: using the existing mapping {} (written earlier for this file; delete it to start from init's defaults)",
        mapping.display()
    );
    if let Some(f) = pipeline.source.framework {
        outln!(
            "init: framework {} (recorded in the mapping)",
            init::framework_label(f)
        );
    }
    Ok(mapping)
}

/// The class that says most: a mismatch over success.
fn worst(a: ExitClass, b: ExitClass) -> ExitClass {
    if a == ExitClass::Success {
        b
    } else {
        a
    }
}
