//! `sqlite2pg verify`: per table, source rows (after filter) against target
//! rows plus rejects, and a content checksum of the converted values on both
//! sides (see `checksum`); then every foreign key and every sequence. The
//! answer is a clear yes or no: exit 0 only when everything holds.

mod views;

use super::preflight::{self, GuardedSource};
use crate::config::plan::TablePlan;
use crate::pg::catalog;
use crate::pg::checksum::Checksum;
use crate::pg::ident::quote;
use crate::sqlite::read::reader;
use crate::sqlite::read::source;
use crate::sqlite::read::transform::{Refused, RefusedRows, TableTransform, REFUSED_RULE};
use crate::sqlite::sql::quote::sqlite_quote;
use crate::stages::content;
use crate::stages::load_context;
use crate::state::{self, RunRow};
use crate::ui::out::outln;
use crate::ui::progress::{StepGuard, Steps};
use anyhow::{anyhow, Context, Result};
use rusqlite::Connection;
use serde::Serialize;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use tokio_postgres::types::Type;
use tokio_postgres::Client;

#[derive(Debug, Serialize)]
pub struct TableReport {
    pub source_table: String,
    pub target_table: String,
    pub source_rows: u64,
    pub target_rows: u64,
    pub rejected_rows: u64,
    pub checksum_match: bool,
    pub source_checksum: String,
    pub target_checksum: String,
    pub ok: bool,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub problems: Vec<String>,
}

#[derive(Debug, Serialize)]
pub struct CheckReport {
    pub table: String,
    pub name: String,
    pub ok: bool,
    pub detail: String,
}

#[derive(Debug, Serialize)]
pub struct VerifyReport {
    pub ok: bool,
    /// A run of this pipeline held its lock while verify looked: tables it
    /// has not finished differ until it ends.
    pub run_in_progress: bool,
    pub tables: Vec<TableReport>,
    pub foreign_keys: Vec<CheckReport>,
    pub sequences: Vec<CheckReport>,
    /// Each view the mapping creates: its rows in SQLite against PostgreSQL.
    pub views: Vec<CheckReport>,
    /// Tables and columns the source holds that the mapping does not
    /// mention (added after it was written): the target does not hold
    /// them, so it does not match the source.
    pub unmapped: Vec<String>,
}

pub async fn verify(file: &Path, target: Option<&str>) -> Result<VerifyReport> {
    let ctx = load_context(file, target)?;
    let (target, plans) = (ctx.target.clone(), ctx.plans.clone());
    match verify_context(ctx).await {
        Ok(report) => Ok(report),
        // A lock an application holds on a table stopped the read-back:
        // name the session holding it.
        Err(e) => {
            let tables: Vec<&TablePlan> = plans.iter().collect();
            Err(preflight::with_lock_holders(&target, e, &tables).await)
        }
    }
}

async fn verify_context(mut ctx: crate::stages::Context) -> Result<VerifyReport> {
    let src_path = ctx.pipeline.source_path();
    // A verdict on a source that changed while it was read is no verdict.
    let GuardedSource { guard, conn } = GuardedSource::open(&src_path)?;
    let source_columns = columns_of_every_table(&conn, &ctx.plans, &src_path)?;
    let unmapped: Vec<String> = source::unmapped(&conn, &ctx.pipeline)?
        .iter()
        .map(source::Unmapped::shown)
        .collect();
    preflight::resolve_epochs(&conn, &mut ctx.plans)?;
    // Each side is read on connections of its own from here on.
    drop(conn);
    let target = TargetSide::open(&ctx).await?;
    let compare = Comparison {
        client: &target.client,
        run: target.run.as_ref(),
        src_path: &src_path,
        source_columns: &source_columns,
        batch_size: ctx.pipeline.defaults.batch_size,
    };
    let mut tables = Vec::new();
    let mut foreign_keys = Vec::new();
    let mut sequences = Vec::new();
    // One bar: tables checked of all, and the one being hashed.
    let steps = Steps::new("verify", ctx.plans.len() as u64);
    for t in &ctx.plans {
        let _step = StepGuard::new(&steps, &t.source);
        let rejected = compare.recorded_rejects(t).await?;
        if !catalog::table_exists(&target.client, &t.schema, &t.target).await? {
            tables.push(missing_table(&src_path, t, rejected)?);
            continue;
        }
        tables.push(compare.table(t, rejected).await?);
        foreign_keys.extend(check_foreign_keys(&target.client, t).await?);
        sequences.extend(check_sequences(&target.client, t).await?);
    }
    steps.finish();
    let views = views::check_views(
        &target.client,
        &src_path,
        &crate::config::plan::views(&ctx.pipeline),
        &ctx.pipeline.defaults,
    )
    .await?;
    guard.check("Its comparison is void")?;
    let mut report = VerifyReport::new(
        target.run_in_progress,
        tables,
        foreign_keys,
        sequences,
        views,
    );
    report.ok &= unmapped.is_empty();
    report.unmapped = unmapped;
    Ok(report)
}

impl VerifyReport {
    fn new(
        run_in_progress: bool,
        tables: Vec<TableReport>,
        foreign_keys: Vec<CheckReport>,
        sequences: Vec<CheckReport>,
        views: Vec<CheckReport>,
    ) -> VerifyReport {
        let ok = tables.iter().all(|t| t.ok)
            && foreign_keys.iter().all(|f| f.ok)
            && sequences.iter().all(|s| s.ok)
            && views.iter().all(|v| v.ok);
        VerifyReport {
            ok,
            run_in_progress,
            tables,
            foreign_keys,
            sequences,
            views,
            unmapped: Vec::new(),
        }
    }
}

/// Every column (hidden ones too) of each mapped table, by source name:
/// what the rowid can be selected as. A table the source lacks fails here.
fn columns_of_every_table(
    conn: &Connection,
    plans: &[TablePlan],
    src_path: &Path,
) -> Result<HashMap<String, Vec<String>>> {
    let columns = source::all_source_columns(conn, plans)?;
    if let Some(t) = plans.iter().find(|t| columns[&t.source].is_empty()) {
        return Err(anyhow!(
            "source {} has no table {}",
            src_path.display(),
            t.source
        ));
    }
    Ok(columns)
}

/// The target as verify finds it: a session, whether a run of the
/// pipeline holds its lock now, and the latest run recorded (none before
/// the first, or before the state schema exists).
struct TargetSide {
    client: Client,
    run_in_progress: bool,
    run: Option<RunRow>,
}

impl TargetSide {
    async fn open(ctx: &crate::stages::Context) -> Result<TargetSide> {
        let client = ctx.target.connect().await?;
        let name = ctx.pipeline.pipeline_name();
        let schema = &ctx.pipeline.target.schema;
        let run_in_progress = state::pipeline_busy(&client, &name, schema).await?;
        if run_in_progress {
            tracing::warn!(
                "a run of pipeline `{name}` is in progress on {}: tables it has not finished will differ \
                 until it ends; verify again once it has",
                ctx.target.shown
            );
        }
        let run = if state::exists(&client).await? {
            state::latest_run(&client, &name, schema).await?
        } else {
            None
        };
        Ok(TargetSide {
            client,
            run_in_progress,
            run,
        })
    }
}

/// A table whose target is missing: what the source holds, and that the
/// pipeline has not created it.
fn missing_table(src_path: &Path, t: &TablePlan, rejected: u64) -> Result<TableReport> {
    Ok(TableReport {
        source_table: t.source.clone(),
        target_table: t.target.clone(),
        source_rows: source_rows(src_path, t)?,
        target_rows: 0,
        rejected_rows: rejected,
        checksum_match: false,
        source_checksum: String::new(),
        target_checksum: String::new(),
        ok: false,
        problems: vec![format!(
            "target table {} is missing (not created yet: run the pipeline)",
            t.qualified()
        )],
    })
}

/// What every table's comparison reads: the source file, the target
/// session, and the latest run's record of what it loaded and rejected.
struct Comparison<'a> {
    client: &'a Client,
    run: Option<&'a RunRow>,
    src_path: &'a Path,
    source_columns: &'a HashMap<String, Vec<String>>,
    batch_size: usize,
}

/// Both sides of one table, hashed alike.
struct Checksums {
    source: Checksum,
    /// Source rows that do not convert: rejects, found by reading.
    unconverted: u64,
    target: Checksum,
}

impl Comparison<'_> {
    /// The rows the latest run rejected from `t` (none without a run).
    async fn recorded_rejects(&self, t: &TablePlan) -> Result<u64> {
        Ok(match self.run {
            Some(r) => {
                state::chunk_totals(self.client, r.run_id, &t.source)
                    .await?
                    .rows_rejected as u64
            }
            None => 0,
        })
    }

    /// A created table: its rows counted and its content hashed on both
    /// sides, against the rejects the run recorded.
    async fn table(&self, t: &TablePlan, rejected: u64) -> Result<TableReport> {
        let mut plan = crate::stages::fitted_to_target(self.client, t).await?;
        // Generated columns are hashed too: SQLite's computed values on the
        // source side, PostgreSQL's stored ones on the target side.
        plan.columns.extend(t.generated.iter().cloned());
        let refused = self.refused_rows(t, rejected).await?;
        let sums = self.checksums(t, plan, refused).await?;
        Ok(table_report(t, rejected, sums))
    }

    /// Rows PostgreSQL refused during the load are rejects the source side
    /// would not find by itself.
    async fn refused_rows(&self, t: &TablePlan, rejected: u64) -> Result<RefusedRows> {
        let mut refused = RefusedRows::new();
        if let (Some(r), true) = (self.run, rejected > 0) {
            state::stream_rejects(self.client, r.run_id, &t.source, |rec| {
                if rec.rule == REFUSED_RULE {
                    if let Some(k) = rec.row.strip_prefix("rowid ").and_then(|k| k.parse().ok()) {
                        refused.insert(
                            k,
                            Refused {
                                column: None,
                                reason: rec.reason,
                            },
                        );
                    }
                }
                Ok(())
            })
            .await?;
        }
        Ok(refused)
    }

    async fn checksums(
        &self,
        t: &TablePlan,
        plan: TablePlan,
        refused: RefusedRows,
    ) -> Result<Checksums> {
        let wire: Vec<Type> = plan.columns.iter().map(|c| c.ty.wire_type()).collect();
        let rowid = source::rowid_name(&plan, &self.source_columns[&t.source]);
        let source_side = hash_source(
            self.src_path.to_path_buf(),
            plan.clone(),
            rowid,
            wire.clone(),
            self.batch_size,
            refused,
        );
        let target_side = content::target_checksum(self.client, &plan, &wire);
        // Small rows: both sides at once. Large rows (or not known): one
        // side after the other, so a table of 1 GB values holds one value
        // and its encoding at a time, not one on each side at once.
        let largest = match self.run {
            Some(r) => state::largest_row(self.client, r.run_id, &t.source).await?,
            None => None,
        };
        let (source, target) = if largest.is_some_and(|b| b < SIDE_BY_SIDE_ROW_BYTES) {
            tokio::join!(source_side, target_side)
        } else {
            let source = source_side.await;
            (source, target_side.await)
        };
        let (source, unconverted) = source?;
        Ok(Checksums {
            source,
            unconverted,
            target: target?,
        })
    }
}

/// A created table's verdict: rows, rejects and content, each named where
/// it differs.
fn table_report(t: &TablePlan, rejected: u64, sums: Checksums) -> TableReport {
    let source_rows = sums.source.rows + sums.unconverted;
    let checksum_match = sums.source == sums.target;
    let mut problems = Vec::new();
    if sums.target.rows + rejected != source_rows {
        problems.push(format!(
            "row count: source {source_rows}, target {}, rejected {rejected}",
            sums.target.rows
        ));
    }
    if sums.unconverted != rejected {
        problems.push(format!(
            "{} source rows do not convert, but the run recorded {rejected} rejects",
            sums.unconverted
        ));
    }
    if !checksum_match {
        problems.push("content checksum differs".into());
    }
    TableReport {
        source_table: t.source.clone(),
        target_table: t.target.clone(),
        source_rows,
        target_rows: sums.target.rows,
        rejected_rows: rejected,
        checksum_match,
        source_checksum: sums.source.hex(),
        target_checksum: sums.target.hex(),
        ok: problems.is_empty(),
        problems,
    }
}

/// Each mapped foreign key of `t`, as the target holds it.
async fn check_foreign_keys(client: &Client, t: &TablePlan) -> Result<Vec<CheckReport>> {
    let mut out = Vec::new();
    for fk in &t.foreign_keys {
        // A key to an outside table the target does not have: not
        // added, as the mapping allows with if_exists (else a failure).
        if let Some(why) = crate::stages::finalize::missing_outside_table(client, t, fk).await? {
            out.push(CheckReport {
                table: t.target.clone(),
                name: fk.name.clone(),
                ok: fk.if_exists,
                detail: if fk.if_exists {
                    format!("{why} (if_exists = true)")
                } else {
                    why
                },
            });
            continue;
        }
        out.push(check_fk(client, t, fk).await?);
    }
    Ok(out)
}

/// Each sequence of `t`'s columns: its next value above the column's max.
async fn check_sequences(client: &Client, t: &TablePlan) -> Result<Vec<CheckReport>> {
    let mut out = Vec::new();
    for (col, seq) in catalog::sequences(client, &t.qualified()).await? {
        out.push(check_sequence(client, t, &col, &seq).await?);
    }
    Ok(out)
}

/// A table whose largest loaded row is below this is read from the source
/// and the target at once (at most a few such rows are in memory on each
/// side); one with larger rows, one side after the other.
const SIDE_BY_SIDE_ROW_BYTES: i64 = 16 << 20;

/// Source rows of a table (after its filter), for a table whose target is
/// missing: what the report says the target should hold.
fn source_rows(path: &Path, t: &TablePlan) -> Result<u64> {
    let conn = source::open_readonly(path)?;
    let n: i64 = conn
        .query_row(
            &format!(
                "SELECT count(*) FROM {}{}",
                sqlite_quote(&t.source),
                t.filter_clause("WHERE")
            ),
            [],
            |r| r.get(0),
        )
        .with_context(|| format!("counting source table {}", t.source))?;
    Ok(n as u64)
}

/// Stream the whole source table through the copy stage's own reader —
/// converted and encoded in place, the very bytes a load sends — and hash
/// each encoded row as the target side hashes PostgreSQL's. Returns the
/// checksum and the number of rows that did not convert.
async fn hash_source(
    path: PathBuf,
    plan: TablePlan,
    rowid: Option<&'static str>,
    wire: Vec<Type>,
    batch_size: usize,
    refused: RefusedRows,
) -> Result<(Checksum, u64)> {
    let reader::Reader { mut batches, done } = reader::spawn_reader(reader::ReadRequest {
        path,
        sql: reader::select_sql(&plan, rowid),
        range: i64::MIN..=i64::MAX,
        transform: std::sync::Arc::new(TableTransform::new(&plan)),
        types: wire,
        batch_size,
        refused: std::sync::Arc::new(refused),
        hash: true,
        send_rows: false,
    });
    let mut sum = Checksum::default();
    let mut rejects = 0u64;
    while let Some(b) = batches.recv().await {
        rejects += b.rejects.len() as u64;
        sum.add(b.content);
    }
    done.wait()
        .await
        .with_context(|| format!("reading source table {}", plan.source))?;
    Ok((sum, rejects))
}

async fn check_fk(
    client: &Client,
    t: &TablePlan,
    fk: &crate::config::plan::ForeignKeyPlan,
) -> Result<CheckReport> {
    let parent = crate::pg::ident::qualified(&t.schema, &fk.ref_table);
    let orphans = crate::stages::finalize::count_orphans(client, t, fk).await?;
    let mut name = fk.name.clone();
    let mut validated =
        catalog::constraint_validated(client, &t.schema, &t.target, &fk.name).await?;
    if validated.is_none() {
        // An application's schema keeps its own foreign keys, under its own
        // names: the same columns to the same parent columns count.
        if let Some((own, v)) = catalog::equivalent_foreign_key(
            client,
            &t.qualified(),
            &fk.columns,
            &parent,
            &fk.ref_columns,
        )
        .await?
        {
            name = format!("{} (the target's {own})", fk.name);
            validated = Some(v);
        }
    }
    // Orphans the mapping acknowledges (`orphans = N`): the key is NOT
    // VALID on purpose, and that is what the operator accepted.
    let acknowledged = orphans > 0 && orphans == fk.orphans && validated == Some(false);
    let ok = (orphans == 0 && validated == Some(true)) || acknowledged;
    Ok(CheckReport {
        table: t.target.clone(),
        name,
        ok,
        detail: match (orphans, validated) {
            _ if acknowledged => format!(
                "not validated, {orphans} orphan row(s) acknowledged (orphans = {} in the mapping)",
                fk.orphans
            ),
            (0, Some(true)) => "valid".into(),
            (0, Some(false)) => "constraint not validated yet (run finalize)".into(),
            (0, None) => "constraint not created (run finalize)".into(),
            (n, Some(false)) => format!(
                "not validated, {n} row(s) reference a missing parent row ({} acknowledged by the mapping's orphans)",
                fk.orphans
            ),
            (n, _) => format!("{n} row(s) reference a missing parent row"),
        },
    })
}

async fn check_sequence(
    client: &Client,
    t: &TablePlan,
    col: &str,
    seq: &str,
) -> Result<CheckReport> {
    let sql = format!(
        "SELECT (SELECT CASE WHEN is_called THEN last_value + 1 ELSE last_value END FROM {seq}), \
         (SELECT max({c})::bigint FROM {t})",
        c = quote(col),
        t = t.qualified()
    );
    let r = client
        .query_one(&sql, &[])
        .await
        .with_context(|| format!("checking sequence {seq}"))?;
    let next: i64 = r.get(0);
    let max: Option<i64> = r.get(1);
    let ok = max.is_none_or(|m| next > m);
    Ok(CheckReport {
        table: t.target.clone(),
        name: format!("{col} ({seq})"),
        ok,
        detail: format!(
            "next value {next}, column max {}",
            max.map(|m| m.to_string()).unwrap_or_else(|| "none".into())
        ),
    })
}

pub fn print(r: &VerifyReport) {
    let w = crate::ui::name_width(r.tables.iter().map(|t| t.source_table.as_str()));
    outln!(
        "{:<w$}  {:>12} {:>12} {:>9}  {:<8} result",
        "table",
        "source rows",
        "target rows",
        "rejected",
        "checksum"
    );
    for t in &r.tables {
        outln!(
            "{:<w$}  {:>12} {:>12} {:>9}  {:<8} {}",
            t.source_table,
            t.source_rows,
            t.target_rows,
            t.rejected_rows,
            if t.checksum_match { "match" } else { "DIFFERS" },
            if t.ok {
                "ok".to_string()
            } else {
                format!("MISMATCH: {}", t.problems.join("; "))
            }
        );
    }
    for f in &r.foreign_keys {
        // Failures, and keys left NOT VALID on purpose (acknowledged).
        if !f.ok || f.detail != "valid" {
            outln!("foreign key {} on {}: {}", f.name, f.table, f.detail);
        }
    }
    for s in &r.sequences {
        if !s.ok {
            outln!("sequence {} on {}: {}", s.name, s.table, s.detail);
        }
    }
    for v in &r.views {
        outln!(
            "view {}: {}{}",
            v.name,
            v.detail,
            if v.ok { "" } else { "  MISMATCH" }
        );
    }
    for u in &r.unmapped {
        outln!(
            "{u}: in the source, not in the mapping: the target does not hold it \
             (map it, or set include = false, and run again)"
        );
    }
    outln!(
        "{} foreign key(s) checked, {} sequence(s) checked, {} view(s) checked: {}",
        r.foreign_keys.len(),
        r.sequences.len(),
        r.views.len(),
        if r.ok { "OK" } else { "VERIFICATION FAILED" }
    );
}

impl VerifyReport {
    /// Exit 3 unless the target matches the source.
    pub fn exit_class(&self) -> crate::error::ExitClass {
        crate::error::ExitClass::matched(self.ok)
    }
}
