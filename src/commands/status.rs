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
        let mut copy = stages[1].0.clone();
        let (done, total): (i64, i64) = (c.get(0), c.get(1));
        if copy == "pending" && done > 0 {
            copy = "partial".into();
        }
        report.tables.push(TableStatus {
            source_table: t.source.clone(),
            target_table: t.target.clone(),
            prepare: stages[0].0.clone(),
            copy,
            finalize: stages[2].0.clone(),
            verify: stages[3].0.clone(),
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

impl StatusReport {
    /// Status only reports: it never fails the shell.
    pub fn exit_class(&self) -> crate::error::ExitClass {
        crate::error::ExitClass::Success
    }
}
