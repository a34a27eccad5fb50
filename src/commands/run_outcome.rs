//! What a `run` that ended without an error answers: already done, or
//! finished with its tables' summary, what was not moved and the count
//! check; its exit class (rejected rows are exit 3: docs/cli.md).

use super::preflight::print_not_moved;
use crate::error::ExitClass;
use crate::stages::copy::TableSummary;
use crate::ui::out::outln;
use std::path::Path;

#[derive(Debug, Clone)]
pub enum RunOutcome {
    /// Nothing to do: the last run finished (with this many rows rejected).
    AlreadyDone { run_id: i64, rejected: u64 },
    Finished {
        run_id: i64,
        tables: Vec<TableSummary>,
        rejected: u64,
        seconds: f64,
        /// What the source holds and the run did not move, one sentence
        /// each: views, triggers, and with `--allow-unmapped` what the
        /// mapping does not mention.
        not_moved: Vec<String>,
        /// The verify stage ran: source rows = target rows + rejected rows.
        counts_checked: bool,
    },
}

pub fn print_summary(tables: &[TableSummary]) {
    if tables.is_empty() {
        return;
    }
    let w = crate::ui::name_width(tables.iter().map(|t| t.source_table.as_str()));
    outln!(
        "{:<w$}  {:>12}  {:>12}  {:>9}  {:>8}",
        "table",
        "rows read",
        "loaded",
        "rejected",
        "seconds"
    );
    for t in tables {
        outln!(
            "{:<w$}  {:>12}  {:>12}  {:>9}  {:>8.1}{}",
            t.source_table,
            t.rows_read,
            t.rows_loaded,
            t.rows_rejected,
            t.seconds,
            match (&t.error, &t.reject_file) {
                (Some(_), _) => "  FAILED".to_string(),
                (None, Some(f)) => format!("  rejects: {}", f.display()),
                _ => String::new(),
            }
        );
        for n in &t.notes {
            outln!("{:<w$}  note: {n}", "");
        }
    }
}

impl RunOutcome {
    /// Rejected rows are not in the target: exit 3, for the run that
    /// rejected them and for every rerun that finds it finished.
    pub fn exit_class(&self) -> ExitClass {
        let (RunOutcome::AlreadyDone { rejected, .. } | RunOutcome::Finished { rejected, .. }) =
            self;
        ExitClass::matched(*rejected == 0)
    }

    /// The report of a run that ended without an error (`file`: the
    /// mapping, as named on the command line).
    pub fn print(&self, file: &Path) {
        match self {
            RunOutcome::AlreadyDone { run_id, rejected } => {
                outln!(
                    "pipeline {} already completed (run {run_id}); nothing to do. Use --fresh to load again, or --stage/--table to redo a part.",
                    file.display()
                );
                if *rejected > 0 {
                    outln!("run {run_id} rejected {rejected} row(s); they are in the reject files beside the mapping (rejects/)");
                }
            }
            RunOutcome::Finished {
                run_id,
                tables,
                rejected,
                seconds,
                not_moved,
                counts_checked,
            } => {
                print_summary(tables);
                print_not_moved(not_moved);
                // A count mismatch ends the run with an error (exit 3): a
                // finished run whose verify stage ran has matched.
                if *counts_checked {
                    outln!("count check passed: source rows = target rows + rejected rows, every table");
                } else {
                    outln!("count check not run (--stage without verify): see `sqlite2pg verify`");
                }
                let rows: i64 = tables.iter().map(|t| t.rows_loaded).sum();
                outln!(
                    "run {run_id} finished in {seconds:.1}s: {rows} rows loaded, {rejected} rejected"
                );
            }
        }
    }
}
