//! `sqlite2pg status`: what the latest run of a pipeline has done, per
//! stage and table, from the state tables in the target. Read-only.

use crate::stages::load_context;
use crate::state::{self, Stage};
use crate::ui::out::outln;
use anyhow::Result;
use serde::Serialize;
use std::path::Path;

#[derive(Debug, Serialize)]
pub struct StatusReport {
    pub pipeline: String,
    pub run_id: Option<i64>,
    pub run_status: Option<String>,
    /// RFC 3339, UTC (`2026-11-29T20:54:51Z`).
    pub started_at: Option<String>,
    pub finished_at: Option<String>,
    pub last_error: Option<String>,
    /// What happened, as `run` told it: `done`, `running` (a process
    /// holds the pipeline now), `interrupted` (recorded running, but no
    /// process runs it: killed), `mismatch` (loaded, but the target does
    /// not match the source: run exited 3), `failed`; `none` before a run.
    pub outcome: String,
    pub stages: Vec<StageStatus>,
    pub tables: Vec<TableStatus>,
}

#[derive(Debug, Serialize)]
pub struct StageStatus {
    pub stage: String,
    pub status: String,
    pub error: Option<String>,
}

#[derive(Debug, Serialize)]
pub struct TableStatus {
    pub source_table: String,
    pub target_table: String,
    /// stage → done | running | failed | pending
    pub prepare: String,
    pub copy: String,
    pub finalize: String,
    pub verify: String,
    pub chunks_done: i64,
    pub chunks_total: i64,
    pub rows_loaded: i64,
    pub rows_rejected: i64,
    pub source_rows: i64,
    pub copy_seconds: f64,
    pub last_error: Option<String>,
    /// What finished stages recorded for the operator (a foreign key to an
    /// outside table not added, say).
    pub notes: Vec<String>,
}

pub async fn status(file: &Path, target: Option<&str>) -> Result<StatusReport> {
    let ctx = load_context(file, target)?;
    let client = ctx.target.connect().await?;
    let name = ctx.pipeline.pipeline_name();
    let mut report = StatusReport {
        pipeline: name.clone(),
        run_id: None,
        run_status: None,
        started_at: None,
        finished_at: None,
        last_error: None,
        outcome: "none".into(),
        stages: Vec::new(),
        tables: Vec::new(),
    };
    let run = if state::exists(&client).await? {
        state::latest_run(&client, &name, &ctx.pipeline.target.schema).await?
    } else {
        None
    };
    let Some(run) = run else {
        for t in &ctx.plans {
            report.tables.push(TableStatus {
                source_table: t.source.clone(),
                target_table: t.target.clone(),
                prepare: "pending".into(),
                copy: "pending".into(),
                finalize: "pending".into(),
                verify: "pending".into(),
                chunks_done: 0,
                chunks_total: 0,
                rows_loaded: 0,
                rows_rejected: 0,
                source_rows: 0,
                copy_seconds: 0.0,
                last_error: None,
                notes: Vec::new(),
            });
        }
        return Ok(report);
    };
    let r = client
        .query_one(
            "SELECT status, \
             to_char(started_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'), \
             to_char(finished_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'), \
             last_error FROM sqlite2pg.runs WHERE run_id = $1",
            &[&run.run_id],
        )
        .await?;
    report.run_id = Some(run.run_id);
    report.run_status = Some(r.get(0));
    report.started_at = r.get(1);
    report.finished_at = r.get(2);
    report.last_error = r.get(3);
    let recorded: String = r.get(0);
    let schema = &ctx.pipeline.target.schema;
    // Recorded running but no process holds the pipeline: it was killed.
    let dead = recorded == "running" && !state::pipeline_busy(&client, &name, schema).await?;
    report.outcome = outcome(&recorded, dead, report.last_error.as_deref());
    let stage_rows = client
        .query(
            "SELECT stage, table_name, status, error FROM sqlite2pg.stages WHERE run_id = $1",
            &[&run.run_id],
        )
        .await?;
    let lookup = |stage: &str, table: &str| -> (String, Option<String>) {
        stage_rows
            .iter()
            .find(|r| r.get::<_, &str>(0) == stage && r.get::<_, &str>(1) == table)
            .map(|r| (r.get::<_, String>(2), r.get::<_, Option<String>>(3)))
            .unwrap_or_else(|| ("pending".into(), None))
    };
    for s in Stage::ALL {
        let (status, error) = lookup(s.name(), "");
        report.stages.push(StageStatus {
            stage: s.name().into(),
            status,
            error,
        });
    }
    for t in &ctx.plans {
        let c = client
            .query_one(
                "SELECT count(*) FILTER (WHERE status = 'done'), count(*), \
                 coalesce(sum(rows_loaded), 0)::bigint, coalesce(sum(rows_rejected), 0)::bigint, \
                 coalesce(sum(planned_rows), 0)::bigint, coalesce(sum(seconds), 0)::float8 \
                 FROM sqlite2pg.chunks WHERE run_id = $1 AND source_table = $2",
                &[&run.run_id, &t.source],
            )
            .await?;
        let stages: Vec<(String, Option<String>)> = Stage::ALL
            .iter()
            .map(|s| lookup(s.name(), &t.source))
            .collect();
        // A done stage's text is a note, not an error.
        let last_error = stages
            .iter()
            .rev()
            .filter(|(s, _)| s != "done")
            .find_map(|(_, e)| e.clone());
        let notes = stages
            .iter()
            .filter(|(s, _)| s == "done")
            .filter_map(|(_, e)| e.clone())
            .collect();
        let shown = |s: &str| {
            if dead && s == "running" {
                "stopped".to_string()
            } else {
                s.to_string()
            }
        };
        let (done, total): (i64, i64) = (c.get(0), c.get(1));
        let mut copy = shown(&stages[1].0);
        if copy != "done" && done > 0 {
            // Every chunk committed, the stage's end not recorded (a
            // rerun records it): loaded, not "partial N/N".
            copy = if done == total { "loaded" } else { "partial" }.into();
        }
        report.tables.push(TableStatus {
            source_table: t.source.clone(),
            target_table: t.target.clone(),
            prepare: shown(&stages[0].0),
            copy,
            finalize: shown(&stages[2].0),
            verify: shown(&stages[3].0),
            chunks_done: done,
            chunks_total: total,
            rows_loaded: c.get(2),
            rows_rejected: c.get(3),
            source_rows: c.get(4),
            copy_seconds: c.get(5),
            last_error,
            notes,
        });
    }
    Ok(report)
}

pub fn print(r: &StatusReport) {
    match (r.run_id, &r.run_status) {
        (Some(id), Some(s)) => {
            let s = match r.outcome.as_str() {
                "interrupted" if s == "running" => {
                    "interrupted (recorded running, but no sqlite2pg process runs it: killed?; \
                     a rerun resumes)"
                        .to_string()
                }
                "mismatch" => "finished loading, but the target does not match the source \
                     (exit 3; see `sqlite2pg verify`)"
                    .to_string(),
                _ => s.clone(),
            };
            outln!(
                "pipeline {}: run {id} {s} (started {}{})",
                r.pipeline,
                r.started_at.as_deref().unwrap_or("?"),
                r.finished_at
                    .as_deref()
                    .map(|f| format!(", ended {f}"))
                    .unwrap_or_default()
            );
            if let Some(e) = &r.last_error {
                outln!("last error: {e}");
            }
        }
        _ => outln!("pipeline {}: no run yet", r.pipeline),
    }
    let stages: Vec<String> = r
        .stages
        .iter()
        .map(|s| format!("{} {}", s.stage, s.status))
        .collect();
    if !stages.is_empty() {
        outln!("stages: {}", stages.join(", "));
    }
    let w = crate::ui::name_width(r.tables.iter().map(|t| t.source_table.as_str()));
    outln!(
        "{:<w$}  {:<8} {:<8} {:<8} {:<8} {:>13} {:>12} {:>9} {:>8}",
        "table",
        "prepare",
        "copy",
        "finalize",
        "verify",
        "chunks",
        "rows",
        "rejected",
        "seconds"
    );
    for t in &r.tables {
        outln!(
            "{:<w$}  {:<8} {:<8} {:<8} {:<8} {:>13} {:>12} {:>9} {:>8.1}",
            t.source_table,
            t.prepare,
            t.copy,
            t.finalize,
            t.verify,
            format!("{}/{}", t.chunks_done, t.chunks_total),
            t.rows_loaded,
            t.rows_rejected,
            t.copy_seconds
        );
        if let Some(e) = &t.last_error {
            outln!("{:<w$}  error: {e}", "");
        }
        for n in &t.notes {
            outln!("{:<w$}  note: {n}", "");
        }
    }
}

/// What the run's record says happened (see [`StatusReport::outcome`]).
/// A run that ended on a mismatch is recorded failed with run's message
/// (`commands::run`'s MISMATCH_HEADS), so status and run say the same.
fn outcome(recorded: &str, dead: bool, last_error: Option<&str>) -> String {
    let mismatch = last_error.is_some_and(|e| {
        crate::commands::run::MISMATCH_HEADS
            .iter()
            .any(|h| e.starts_with(h))
    });
    match recorded {
        "running" if dead => "interrupted",
        "failed" if mismatch => "mismatch",
        other => other,
    }
    .to_string()
}

impl StatusReport {
    /// By the run's state (docs/cli.md, "status"): 0 done without rejects,
    /// 3 done with rejects or a mismatch, 1 failed, interrupted or not
    /// run yet; 0 while a run is in progress.
    pub fn exit_class(&self) -> crate::error::ExitClass {
        use crate::error::ExitClass;
        let rejected: i64 = self.tables.iter().map(|t| t.rows_rejected).sum();
        match self.outcome.as_str() {
            "done" => ExitClass::matched(rejected == 0),
            "running" => ExitClass::Success,
            "mismatch" => ExitClass::Mismatch,
            _ => ExitClass::Failed,
        }
    }
}
