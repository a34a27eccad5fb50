//! Exit classes: every failure the tool reports belongs to one of the exit
//! codes of docs/cli.md, decided here and nowhere else.
//!
//! Code that knows *why* it fails (a mapping that does not match, a reject
//! limit, a source that changed) raises a [`Failure`] with its class. Other
//! errors are classified by what they carry: PostgreSQL's SQLSTATE (a
//! connection lost is worth a rerun; a duplicate key or a missing database
//! is not), SQLite's result code (a corrupt file will not heal). Whatever is
//! left is class 1, "rerun the same command", the safe default for a tool
//! whose every step is resumable.

use tokio_postgres::error::SqlState;

/// What the operator can do about a failure, as an exit code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExitClass {
    /// 1: failed; rerunning the same command resumes.
    Failed,
    /// 2: bad arguments or an invalid mapping file.
    Usage,
    /// 3: finished, but with rejected rows or a verification mismatch.
    Mismatch,
    /// 4: failed, and a rerun will not help until something changes (the
    /// message names it).
    Blocked,
    /// 130: stopped by Ctrl-C at a transaction boundary.
    Interrupted,
    /// 143: stopped by SIGTERM at a transaction boundary.
    Terminated,
}

impl ExitClass {
    pub fn code(self) -> u8 {
        match self {
            ExitClass::Failed => 1,
            ExitClass::Usage => 2,
            ExitClass::Mismatch => 3,
            ExitClass::Blocked => 4,
            ExitClass::Interrupted => 130,
            ExitClass::Terminated => 143,
        }
    }

    /// Whether running the same command again picks up where this left off
    /// (so a message may say so).
    pub fn rerun_resumes(self) -> bool {
        matches!(
            self,
            ExitClass::Failed | ExitClass::Interrupted | ExitClass::Terminated
        )
    }
}

/// A failure whose class the code raising it knows.
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub struct Failure {
    pub class: ExitClass,
    pub message: String,
}

impl Failure {
    /// The failure as an error to return.
    pub fn error(class: ExitClass, message: impl Into<String>) -> anyhow::Error {
        Failure {
            class,
            message: message.into(),
        }
        .into()
    }
}

/// Bad arguments or a mapping that does not fit: exit 2.
pub fn usage(message: impl Into<String>) -> anyhow::Error {
    Failure::error(ExitClass::Usage, message)
}

/// A rerun cannot help until the operator changes something: exit 4.
pub fn blocked(message: impl Into<String>) -> anyhow::Error {
    Failure::error(ExitClass::Blocked, message)
}

/// The target does not match the source: exit 3.
pub fn mismatch(message: impl Into<String>) -> anyhow::Error {
    Failure::error(ExitClass::Mismatch, message)
}

/// A PostgreSQL error told in the caller's words (`message` replaces the
/// driver's text), keeping the class its SQLSTATE gives.
pub fn from_postgres(e: &tokio_postgres::Error, message: impl Into<String>) -> anyhow::Error {
    let class = e.code().map(class_of_sqlstate).unwrap_or(ExitClass::Failed);
    Failure::error(class, message)
}

/// Several failures reported as one: every message under `head`, in the
/// class that says most about what to do (a stop the operator asked for,
/// then a mapping to fix, then something else to change, then a rerun).
pub fn combine(head: &str, errors: Vec<anyhow::Error>) -> anyhow::Error {
    let class = errors
        .iter()
        .map(classify)
        .min_by_key(|c| match c {
            ExitClass::Terminated | ExitClass::Interrupted => 0,
            ExitClass::Usage => 1,
            ExitClass::Blocked => 2,
            ExitClass::Mismatch => 3,
            ExitClass::Failed => 4,
        })
        .unwrap_or(ExitClass::Failed);
    let lines: Vec<String> = errors.iter().map(|e| format!("{e:#}")).collect();
    Failure::error(class, format!("{head}\n  {}", lines.join("\n  ")))
}

/// The class of any error: the first [`Failure`] in its chain, else what a
/// PostgreSQL or SQLite error in it says, else [`ExitClass::Failed`].
pub fn classify(e: &anyhow::Error) -> ExitClass {
    if let Some(f) = e.chain().find_map(|c| c.downcast_ref::<Failure>()) {
        return f.class;
    }
    for c in e.chain() {
        if let Some(pg) = c.downcast_ref::<tokio_postgres::Error>() {
            if let Some(state) = pg.code() {
                return class_of_sqlstate(state);
            }
        }
        if let Some(sq) = c.downcast_ref::<rusqlite::Error>() {
            if let Some(code) = sq.sqlite_error_code() {
                return class_of_sqlite(code);
            }
        }
    }
    ExitClass::Failed
}

/// PostgreSQL's error classes: what goes away by itself (a lost connection,
/// a server restarting, a lock or a deadlock, a cancelled statement) is
/// worth a rerun; data that breaks a constraint, a missing database or
/// role, a refused password, a full disk or a missing privilege is not.
fn class_of_sqlstate(s: &SqlState) -> ExitClass {
    let code = s.code();
    let transient = code.starts_with("08") // connection exception
        || code.starts_with("57") // operator intervention: shutdown, cancel
        || code.starts_with("40") // serialization failure, deadlock
        || code == SqlState::LOCK_NOT_AVAILABLE.code()
        || code == SqlState::TOO_MANY_CONNECTIONS.code()
        || code.starts_with("XX"); // internal error
    if transient {
        ExitClass::Failed
    } else {
        // 22 data, 23 constraints, 28 authorization, 3D database, 42 names
        // and privileges, 53 disk full / out of memory, 54 limits.
        ExitClass::Blocked
    }
}

/// SQLite: a busy or locked file is worth a rerun; a corrupt, unreadable or
/// non-database file is not.
fn class_of_sqlite(code: rusqlite::ErrorCode) -> ExitClass {
    use rusqlite::ErrorCode as C;
    match code {
        C::DatabaseBusy | C::DatabaseLocked | C::SystemIoFailure | C::OutOfMemory => {
            ExitClass::Failed
        }
        C::DatabaseCorrupt | C::NotADatabase | C::CannotOpen | C::PermissionDenied => {
            ExitClass::Blocked
        }
        _ => ExitClass::Failed,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use anyhow::Context;

    #[test]
    fn a_failure_keeps_its_class_under_context() {
        let e = Err::<(), _>(blocked("reject limit"))
            .context("table t")
            .unwrap_err();
        assert_eq!(classify(&e), ExitClass::Blocked);
        assert_eq!(classify(&usage("x")), ExitClass::Usage);
        assert_eq!(classify(&mismatch("x")), ExitClass::Mismatch);
        assert_eq!(classify(&anyhow::anyhow!("plain")), ExitClass::Failed);
    }

    #[test]
    fn combined_failures_take_the_class_that_asks_for_action() {
        let e = combine(
            "copy failed:",
            vec![anyhow::anyhow!("connection lost"), blocked("reject limit")],
        );
        assert_eq!(classify(&e), ExitClass::Blocked);
        assert!(e.to_string().contains("connection lost"));
        let e = combine("x", vec![anyhow::anyhow!("a"), anyhow::anyhow!("b")]);
        assert_eq!(classify(&e), ExitClass::Failed);
    }

    #[test]
    fn sqlstates_split_transient_from_permanent() {
        for (s, class) in [
            (SqlState::CONNECTION_FAILURE, ExitClass::Failed),
            (SqlState::ADMIN_SHUTDOWN, ExitClass::Failed),
            (SqlState::QUERY_CANCELED, ExitClass::Failed),
            (SqlState::T_R_DEADLOCK_DETECTED, ExitClass::Failed),
            (SqlState::LOCK_NOT_AVAILABLE, ExitClass::Failed),
            (SqlState::UNIQUE_VIOLATION, ExitClass::Blocked),
            (SqlState::NUMERIC_VALUE_OUT_OF_RANGE, ExitClass::Blocked),
            (SqlState::INVALID_CATALOG_NAME, ExitClass::Blocked),
            (SqlState::INVALID_PASSWORD, ExitClass::Blocked),
            (SqlState::DISK_FULL, ExitClass::Blocked),
        ] {
            assert_eq!(class_of_sqlstate(&s), class, "{}", s.code());
        }
    }

    #[test]
    fn codes_are_docs_clis() {
        let all = [
            ExitClass::Failed,
            ExitClass::Usage,
            ExitClass::Mismatch,
            ExitClass::Blocked,
            ExitClass::Interrupted,
            ExitClass::Terminated,
        ];
        let codes: Vec<u8> = all.iter().map(|c| c.code()).collect();
        assert_eq!(codes, [1, 2, 3, 4, 130, 143]);
    }
}
