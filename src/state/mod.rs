//! The tool's own state in the target (`sqlite2pg` schema, DDL in
//! `sql/state/`, versioned): runs, stages, planned tables, chunks and
//! rejects. What is recorded here is what a rerun trusts, so every write that
//! marks work as done shares a transaction with that work.

mod chunks;
mod runs;
pub mod schema;

pub use chunks::*;
pub use runs::*;
pub use schema::{ensure, exists};

/// The stages of a run, in order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, clap::ValueEnum)]
pub enum Stage {
    Prepare,
    Copy,
    Finalize,
    Verify,
}

impl Stage {
    pub const ALL: [Stage; 4] = [Stage::Prepare, Stage::Copy, Stage::Finalize, Stage::Verify];

    /// The name stored in `sqlite2pg.stages.stage` and shown to people.
    pub fn name(self) -> &'static str {
        match self {
            Stage::Prepare => "prepare",
            Stage::Copy => "copy",
            Stage::Finalize => "finalize",
            Stage::Verify => "verify",
        }
    }
}

/// The status of a run, or of a stage of one table (`sqlite2pg.runs.status`,
/// `sqlite2pg.stages.status`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    Running,
    Failed,
    Done,
    /// Stopped by Ctrl-C or SIGTERM at a transaction boundary.
    Interrupted,
}

impl Status {
    pub fn name(self) -> &'static str {
        match self {
            Status::Running => "running",
            Status::Failed => "failed",
            Status::Done => "done",
            Status::Interrupted => "interrupted",
        }
    }

    pub fn parse(s: &str) -> anyhow::Result<Status> {
        Ok(match s {
            "running" => Status::Running,
            "failed" => Status::Failed,
            "done" => Status::Done,
            "interrupted" => Status::Interrupted,
            other => anyhow::bail!(
                "unknown status `{other}` in the sqlite2pg state schema (written by a newer sqlite2pg?)"
            ),
        })
    }
}

impl std::fmt::Display for Status {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_names_round_trip() {
        for s in [
            Status::Running,
            Status::Failed,
            Status::Done,
            Status::Interrupted,
        ] {
            assert_eq!(Status::parse(s.name()).unwrap(), s);
        }
        assert!(Status::parse("paused").is_err());
    }
}
