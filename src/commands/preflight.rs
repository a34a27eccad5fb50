//! What every command checks and says before it touches the target: the
//! source opened read-only under its guard, the mapping held against it
//! (every table, column and filter it names is there; what it does not
//! mention is refused, or named as not moved), each `epoch = "auto"`
//! decided and said. And, when a lock wait stops a command on the target,
//! who holds the lock. `check`, `verify` and `run` share these, so that the
//! three commands refuse and say the same things the same way.

use crate::config::mapping::Pipeline;
use crate::config::plan::TablePlan;
use crate::pg::connect::Target;
use crate::sqlite::read::guard::SourceGuard;
use crate::sqlite::read::source;
use crate::sqlite::schema::epoch::{self, EpochDecision};
use crate::ui::out::outln;
use anyhow::Result;
use rusqlite::Connection;
use std::path::Path;

/// The source as a command reads it: a read-only connection, and the
/// guard that every later read is held to.
pub struct GuardedSource {
    /// Opened first, before anything is read: what the command reads must
    /// be the file as it was then, or the command fails saying what changed.
    pub guard: SourceGuard,
    pub conn: Connection,
}

impl GuardedSource {
    pub fn open(path: &Path) -> Result<GuardedSource> {
        GuardedSource::open_with(path, source::open_readonly)
    }

    /// Integrity-checked too (`PRAGMA quick_check`) before the command goes
    /// on: `check`, which reads every row anyway, says a damaged file first.
    pub fn open_checked(path: &Path) -> Result<GuardedSource> {
        GuardedSource::open_with(path, source::open_checked)
    }

    fn open_with(path: &Path, connect: fn(&Path) -> Result<Connection>) -> Result<GuardedSource> {
        let guard = SourceGuard::open(path)?;
        let conn = connect(path)?;
        Ok(GuardedSource { guard, conn })
    }
}

/// The mapping against the source, a cheap read made before any long one:
/// every table, column and filter it names must be there (exit 2 if not),
/// and what the source holds beyond it is refused (exit 2) unless
/// `allow_unmapped`. Returns what a run would not move.
pub fn check_mapping(
    conn: &Connection,
    pipeline: &Pipeline,
    plans: &[TablePlan],
    allow_unmapped: bool,
    src_path: &Path,
    file: &Path,
) -> Result<Vec<String>> {
    source::check_source_matches(conn, plans, src_path)?;
    not_moved(conn, pipeline, allow_unmapped, src_path, file)
}

/// Every `epoch = "auto"` of `plans` replaced by the unit its column's
/// numbers decide, and each decision said.
pub fn resolve_epochs(conn: &Connection, plans: &mut [TablePlan]) -> Result<()> {
    say_epochs(epoch::resolve_auto_epochs(conn, plans)?);
    Ok(())
}

/// What `epoch = "auto"` decided per column: a warning where the column's
/// numbers do not all agree with the unit.
pub fn say_epochs(decisions: Vec<EpochDecision>) {
    for d in decisions {
        if d.mixed {
            tracing::warn!("{}", d.said);
        } else {
            tracing::info!("{}", d.said);
        }
    }
}

/// What the source holds that a run will not move, one sentence each;
/// refuses (exit 2) what the mapping does not mention unless
/// `allow_unmapped`.
pub fn not_moved(
    conn: &Connection,
    pipeline: &Pipeline,
    allow_unmapped: bool,
    src_path: &Path,
    file: &Path,
) -> Result<Vec<String>> {
    let found = source::unmapped(conn, pipeline)?;
    source::refuse_unmapped(&found, allow_unmapped, src_path, file)?;
    crate::sqlite::sql::views::refuse_reads_of_skipped(pipeline)?;
    let mut out: Vec<String> = found
        .iter()
        .map(|u| format!("{}: not in the mapping (--allow-unmapped)", u.shown()))
        .collect();
    out.extend(crate::sqlite::schema::not_moved::not_moved(conn, pipeline)?);
    for w in &out {
        tracing::warn!("{w}");
    }
    Ok(out)
}

/// The summary's list of what was not moved (nothing when empty).
pub fn print_not_moved(not_moved: &[String]) {
    if not_moved.is_empty() {
        return;
    }
    outln!("not moved ({}):", not_moved.len());
    for w in not_moved {
        outln!("  - {w}");
    }
}

/// A lock wait that timed out, with the sessions holding locks on the
/// command's tables now (pid, application, state, query).
pub async fn with_lock_holders(
    target: &Target,
    e: anyhow::Error,
    tables: &[&TablePlan],
) -> anyhow::Error {
    let relations: Vec<String> = tables.iter().map(|t| t.qualified()).collect();
    match crate::pg::connect::lock_holders(target, &e, &relations).await {
        Some(holders) => e.context(format!("a lock wait timed out:\n{holders}")),
        None => e,
    }
}
