//! `sqlite2pg check`: a full dry run. Validates the mapping, opens the source
//! read-only (integrity-checked), checks that the mapping matches it, then
//! reads and converts **every row of every included table** exactly as `run`
//! would — the same chunk query (with the table's filter) and the same
//! [`TableTransform`] — and writes nothing anywhere. It never connects to the
//! target, so it needs no target URL.
//!
//! It runs SQLite's foreign-key check and reports orphan rows per mapped
//! key against the mapping's `orphans` (more than acknowledged: exit 3),
//! and names literal defaults the column's type cannot hold.
//!
//! What it cannot see, because it does not look at the target: rows that
//! PostgreSQL itself would refuse (CHECKs, keys to outside tables), and
//! tables that already exist there with other column types (`run` converts to
//! the types it finds in the catalog; `check` uses the mapping's types).
//!
//! Rejects are counted per table and grouped by column, rule and the reason
//! with the offending value taken out, each group with a couple of example
//! rows. Memory stays flat: rows stream through bounded channels in batches
//! and only the groups (bounded in number) and their examples are kept.

mod keys;
mod lossless;

use super::preflight::{self, GuardedSource};
use crate::config::mapping::Pipeline;
use crate::config::plan::{self, TablePlan};
use crate::convert::cell::Cell;
use crate::convert::reject::Reject;
use crate::shutdown::Shutdown;
use crate::sqlite::read::reader;
use crate::sqlite::read::source::{rowid_name, table_columns};
use crate::sqlite::read::transform::TableTransform;
use crate::stages::ddl;
use crate::ui::out::outln;
use anyhow::{Context, Result};
use serde::Serialize;
use std::collections::HashSet;
use std::path::Path;
use std::sync::Arc;
use std::time::Instant;
use tokio_postgres::types::Type;

/// Example rows kept per reject group.
const EXAMPLES_PER_GROUP: usize = 2;
/// Distinct reject groups kept per table; the rest are counted together.
const MAX_GROUPS: usize = 100;
/// Longest raw value shown in an example, in characters.
const VALUE_MAX: usize = 80;

#[derive(Debug, Clone, Serialize)]
pub struct RejectExample {
    pub row: String,
    pub value: String,
    pub storage_class: &'static str,
    pub reason: String,
}

/// Rejects of one column that failed the same way.
#[derive(Debug, Clone, Serialize)]
pub struct RejectGroup {
    pub column: String,
    pub rule: String,
    /// The reason with the offending value replaced by `…`.
    pub reason: String,
    pub count: u64,
    pub examples: Vec<RejectExample>,
}

#[derive(Debug, Clone, Serialize)]
pub struct TableCheck {
    pub source_table: String,
    /// The source is a view the mapping materializes (`[views.NAME]`).
    #[serde(skip)]
    pub from_view: bool,
    pub target_table: String,
    pub rows_read: u64,
    pub rows_ok: u64,
    pub rows_rejected: u64,
    /// The table's `reject_limit`, else `defaults.reject_limit`.
    pub reject_limit: u64,
    /// `run` would fail this table: more rejects than its `reject_limit`.
    pub exceeds_reject_limit: bool,
    /// Most frequent first.
    pub reject_groups: Vec<RejectGroup>,
    /// Keys `finalize` could not build on the rows that would load: NULLs
    /// in the primary key, duplicates of the primary key or a unique index.
    pub key_problems: Vec<KeyProblem>,
    /// Column defaults the column's type cannot hold: `prepare` drops
    /// them (named) and creates the column without one.
    pub default_problems: Vec<String>,
    /// Foreign keys whose source rows name no parent row (SQLite's own
    /// foreign-key check), or that the mapping says have some.
    pub foreign_key_orphans: Vec<FkOrphans>,
    /// Columns whose type `init` chose on its own (`auto = true`) and some
    /// of whose cells would not read back the same (docs/conversions.md,
    /// "The lossless rule").
    pub lossy_upgrades: Vec<lossless::Lossy>,
    /// The statements `run` would execute for this table, in order.
    pub ddl: Vec<String>,
    pub seconds: f64,
}

/// A foreign key with orphan rows in the source: `run` loads them all and
/// leaves the key NOT VALID; more than the mapping acknowledges
/// (`orphans = N`) make it exit 3.
#[derive(Debug, Clone, Serialize)]
pub struct FkOrphans {
    pub key: String,
    pub columns: Vec<String>,
    pub references: String,
    pub orphans: u64,
    /// The mapping's `orphans` (0 when it has none).
    pub acknowledged: u64,
}

impl FkOrphans {
    pub fn unacknowledged(&self) -> bool {
        self.orphans > self.acknowledged
    }
}

/// A key that would fail in `finalize`, after the whole load.
#[derive(Debug, Clone, Serialize)]
pub struct KeyProblem {
    /// `primary key (a, b)` or `unique index name (a, b)`.
    pub key: String,
    /// `null` (a primary-key column holds NULL) or `duplicate`.
    pub kind: &'static str,
    /// Rows affected (for duplicates: rows beyond the first of each value).
    pub count: u64,
    /// A few of them: `rowid 7 (same as rowid 3)`.
    pub examples: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct CheckReport {
    /// True when no row would be rejected, every key would build and
    /// every upgrade init chose on its own reads back the same.
    pub ok: bool,
    pub pipeline: String,
    pub source: String,
    pub reject_limit: u64,
    pub rows_read: u64,
    pub rows_rejected: u64,
    pub tables: Vec<TableCheck>,
    /// What a run would not move, one sentence each: views, triggers, and
    /// (only with `--allow-unmapped`; otherwise check stops on them) source
    /// tables and columns the mapping does not mention.
    pub not_moved: Vec<String>,
}

/// Run the dry run. `shutdown` is polled between batches.
pub async fn check(file: &Path, allow_unmapped: bool, shutdown: &Shutdown) -> Result<CheckReport> {
    let mut pipeline = crate::config::load(file)?;
    plan::plan(&pipeline)?;
    let src_path = pipeline.source_path();
    let source = GuardedSource::open_checked(&src_path)?;
    // Views init refused only for a type, decided again over the mapping
    // as it is now (docs/mapping.md, "Decisions init made on its own").
    crate::sqlite::sql::views::resolve_auto_views(&source.conn, &mut pipeline)?;
    let mut plans = plan::plan(&pipeline)?;
    dropped_not_null_defaults(&source.conn, &plans)?;
    let not_moved = preflight::check_mapping(
        &source.conn,
        &pipeline,
        &plans,
        allow_unmapped,
        &src_path,
        file,
    )?;
    preflight::resolve_epochs(&source.conn, &mut plans)?;
    let mut tables = Vec::new();
    for t in &plans {
        let all_cols = table_columns(&source.conn, &t.source)?;
        let mut table = check_table(&src_path, &pipeline, t, &all_cols, shutdown).await?;
        table.foreign_key_orphans = foreign_key_orphans(&source.conn, t, &plans)?;
        table.lossy_upgrades = lossless::lossy_upgrades(&source.conn, t, rowid_name(t, &all_cols))?;
        tables.push(table);
    }
    source
        .guard
        .check("What check counted may not hold for the file as it is now")?;
    Ok(CheckReport::new(
        file, &src_path, &pipeline, tables, not_moved,
    ))
}

impl CheckReport {
    fn new(
        file: &Path,
        src_path: &Path,
        pipeline: &Pipeline,
        tables: Vec<TableCheck>,
        not_moved: Vec<String>,
    ) -> CheckReport {
        let rows_read = tables.iter().map(|t| t.rows_read).sum();
        let rows_rejected = tables.iter().map(|t| t.rows_rejected).sum();
        let keys_ok = tables.iter().all(|t| {
            t.key_problems.is_empty()
                && t.lossy_upgrades.is_empty()
                && !t.foreign_key_orphans.iter().any(FkOrphans::unacknowledged)
        });
        CheckReport {
            ok: rows_rejected == 0 && keys_ok,
            pipeline: file.display().to_string(),
            source: src_path.display().to_string(),
            reject_limit: pipeline.defaults.reject_limit,
            rows_read,
            rows_rejected,
            tables,
            not_moved,
        }
    }
}

async fn check_table(
    src_path: &Path,
    p: &Pipeline,
    t: &TablePlan,
    all_cols: &[String],
    shutdown: &Shutdown,
) -> Result<TableCheck> {
    let started = Instant::now();
    tracing::info!("checking table {} → {}", t.source, t.qualified());
    let rowid = rowid_name(t, all_cols);
    let sql = reader::select_sql(t, rowid);
    let transform = TableTransform::new(t);
    // The column types as `prepare` creates them; each row is converted
    // and encoded for them by `run`'s own reader, so encoding failures
    // count as the rejects they would be.
    let types: Vec<Type> = t.columns.iter().map(|c| c.ty.wire_type()).collect();
    let mut reader = reader::spawn_reader(reader::ReadRequest {
        path: src_path.to_path_buf(),
        // One range covering every chunk `run` would plan: the same rows, in
        // the same order, through the same query.
        sql,
        range: i64::MIN..=i64::MAX,
        transform: Arc::new(transform),
        types,
        batch_size: p.defaults.batch_size,
        refused: Default::default(),
        hash: false,
        send_rows: false,
    });
    let mut groups = Groups::default();
    let mut rejected_rows: HashSet<String> = HashSet::new();
    let mut rows_read = 0u64;
    let mut rows_ok = 0u64;
    let mut last_log = Instant::now();
    let mut interrupted = false;
    while let Some(batch) = reader.batches.recv().await {
        rows_read += batch.rows_read as u64;
        rows_ok += batch.keys.len() as u64;
        for r in &batch.rejects {
            groups.add(r);
            rejected_rows.insert(r.row_key.clone());
        }
        if shutdown.is_requested() {
            interrupted = true;
            break;
        }
        if last_log.elapsed().as_secs() >= 10 {
            tracing::info!("table {}: {rows_read} rows checked", t.source);
            last_log = Instant::now();
        }
    }
    // Stops the reader at its next send when interrupted.
    let extracted = reader
        .finish()
        .await
        .with_context(|| format!("reading source table {}", t.source))?;
    if interrupted {
        return Err(shutdown.error("nothing was written"));
    }
    debug_assert_eq!(extracted, rows_read);
    let key_problems = keys::check_keys(src_path, t, rowid, &rejected_rows)
        .with_context(|| format!("checking the keys of source table {}", t.source))?;
    let rows_rejected = groups.total;
    Ok(TableCheck {
        source_table: t.source.clone(),
        from_view: t.from_view,
        target_table: t.target.clone(),
        rows_read,
        rows_ok,
        rows_rejected,
        reject_limit: p.reject_limit(&t.source),
        exceeds_reject_limit: rows_rejected > p.reject_limit(&t.source),
        reject_groups: groups.into_sorted(),
        key_problems,
        foreign_key_orphans: Vec::new(),
        lossy_upgrades: Vec::new(),
        default_problems: default_problems(t),
        ddl: ddl::describe(t),
        seconds: started.elapsed().as_secs_f64(),
    })
}

#[derive(Default)]
struct Groups {
    groups: Vec<RejectGroup>,
    index: std::collections::HashMap<(String, String, String), usize>,
    total: u64,
}

impl Groups {
    fn add(&mut self, r: &Reject) {
        self.total += 1;
        let mut key = (r.column.clone(), r.rule.clone(), reason_pattern(r));
        let idx = match self.index.get(&key) {
            Some(&i) => i,
            None if self.groups.len() < MAX_GROUPS => self.insert(key),
            None => {
                key.2 = "(other reasons: too many distinct kinds to list)".into();
                match self.index.get(&key) {
                    Some(&i) => i,
                    None => self.insert(key),
                }
            }
        };
        let g = &mut self.groups[idx];
        g.count += 1;
        if g.examples.len() < EXAMPLES_PER_GROUP {
            g.examples.push(RejectExample {
                row: r.row_key.clone(),
                value: shorten(&r.raw.to_string()),
                storage_class: r.raw.storage_class(),
                reason: r.reason.clone(),
            });
        }
    }

    fn insert(&mut self, key: (String, String, String)) -> usize {
        let i = self.groups.len();
        self.groups.push(RejectGroup {
            column: key.0.clone(),
            rule: key.1.clone(),
            reason: key.2.clone(),
            count: 0,
            examples: Vec::new(),
        });
        self.index.insert(key, i);
        i
    }

    fn into_sorted(mut self) -> Vec<RejectGroup> {
        // Stable: equal counts keep the order they were first seen in.
        self.groups.sort_by_key(|g| std::cmp::Reverse(g.count));
        self.groups
    }
}

/// The reason without the offending value, so that rows failing the same way
/// group together: backquoted excerpts become `…`, and so does the number
/// after `integer `/`real ` that the converter names.
fn reason_pattern(r: &Reject) -> String {
    let mut s = r.reason.clone();
    let num = match &r.raw {
        Cell::Integer(i) => Some(format!("integer {i}")),
        Cell::Real(f) => Some(format!("real {f:?}")),
        _ => None,
    };
    if let Some(n) = num {
        if let Some(pos) = s.find(&n) {
            let word = n.split(' ').next().unwrap_or_default();
            s.replace_range(pos..pos + n.len(), &format!("{word} …"));
        }
    }
    let mut out = String::with_capacity(s.len());
    let mut rest = s.as_str();
    while let Some(a) = rest.find('`') {
        match rest[a + 1..].find('`') {
            Some(b) => {
                out.push_str(&rest[..a]);
                out.push_str("`…`");
                rest = &rest[a + 1 + b + 1..];
            }
            None => break,
        }
    }
    out.push_str(rest);
    out
}

fn shorten(s: &str) -> String {
    match s.char_indices().nth(VALUE_MAX) {
        Some((i, _)) => format!("{}…", &s[..i]),
        None => s.to_string(),
    }
}

/// The human-readable report on stdout.
pub fn print(r: &CheckReport) {
    outln!(
        "check of {} (source {}): dry run, nothing was written",
        r.pipeline,
        r.source
    );
    for t in &r.tables {
        print_table(r, t);
    }
    outln!();
    preflight::print_not_moved(&r.not_moved);
    print_totals(r);
}

fn print_table(r: &CheckReport, t: &TableCheck) {
    outln!();
    outln!("table {} → {}", t.source_table, t.target_table);
    outln!("  rows read          {:>12}", t.rows_read);
    outln!("  would load         {:>12}", t.rows_ok);
    outln!("  would be rejected  {:>12}", t.rows_rejected);
    if t.rows_rejected > 0 {
        print_rejects(r, t);
    }
    for k in &t.key_problems {
        print_key_problem(k);
    }
    for l in &t.lossy_upgrades {
        outln!(
            "  check FAILS: column {} is {} by init's own choice (auto = true), but {} value(s) would not \
             read back the same, e.g. {}; set its type to \"text\" to keep them as they are \
             (docs/conversions.md, \"The lossless rule\")",
            l.column,
            l.ty,
            l.count,
            l.example
        );
    }
    for d in &t.default_problems {
        outln!("  prepare would drop a default: {d}");
    }
    for o in &t.foreign_key_orphans {
        print_orphans(t, o);
    }
    outln!("  DDL run would execute (CREATE TABLE in prepare; keys, CHECKs, indexes and foreign keys in finalize, after the data):");
    for stmt in &t.ddl {
        for line in stmt.lines() {
            outln!("    {line}");
        }
        outln!("    ;");
    }
}

fn print_rejects(r: &CheckReport, t: &TableCheck) {
    if t.exceeds_reject_limit {
        outln!(
            "  run would FAIL this table: {} rejected rows exceed {} = {}",
            t.rows_rejected,
            if t.reject_limit == r.reject_limit {
                "defaults.reject_limit".to_string()
            } else {
                format!(
                    "{}.{}.reject_limit",
                    if t.from_view { "views" } else { "tables" },
                    t.source_table
                )
            },
            t.reject_limit
        );
    }
    outln!("  reject reasons (most frequent first):");
    for g in &t.reject_groups {
        outln!(
            "    {:>8} × column {} [{}]: {}",
            g.count,
            g.column,
            g.rule,
            g.reason
        );
        for e in &g.examples {
            outln!(
                "             e.g. {}: {} ({}) — {}",
                e.row,
                e.value,
                e.storage_class,
                e.reason
            );
        }
    }
}

fn print_key_problem(k: &KeyProblem) {
    outln!(
        "  finalize would FAIL: {} — {} row(s) with {}",
        k.key,
        k.count,
        if k.kind == "null" {
            "a NULL in a key column (a PostgreSQL primary key allows none; make it a unique index)"
        } else if k.kind == "duplicate once case is folded" {
            "a value another row holds in another case: the key compares without regard to \
             case (SQLite's COLLATE NOCASE, as citext or lower()), which folds all of Unicode \
             where NOCASE folds only A-Z; change one of them in the source, or make the key \
             case-sensitive (type text, or the index on the column itself)"
        } else {
            "a value already taken by another row"
        }
    );
    for e in &k.examples {
        outln!("             e.g. {e}");
    }
}

fn print_orphans(t: &TableCheck, o: &FkOrphans) {
    let key = format!(
        "foreign key {} ({}) → {}: {} orphan row(s) (no parent row)",
        o.key,
        o.columns.join(", "),
        o.references,
        o.orphans
    );
    if o.unacknowledged() {
        outln!(
            "  run would exit 3: {key}, {} acknowledged; every row loads and the key stays NOT VALID; \
             set `orphans = {}` in its [[tables.{}.foreign_keys]] entry to accept them",
            o.acknowledged,
            o.orphans,
            t.source_table
        );
    } else {
        outln!(
            "  {key}, acknowledged (orphans = {}): run loads them and leaves the key NOT VALID",
            o.acknowledged
        );
    }
}

/// The verdict over all tables, and what check cannot see.
fn print_totals(r: &CheckReport) {
    let n_tables = r.tables.iter().filter(|t| t.rows_rejected > 0).count();
    let n_keys: usize = r.tables.iter().map(|t| t.key_problems.len()).sum();
    let n_lossy: usize = r.tables.iter().map(|t| t.lossy_upgrades.len()).sum();
    if n_lossy > 0 {
        outln!(
            "{n_lossy} column(s) init upgraded on its own would not read back the same (see above)"
        );
    }
    if n_keys > 0 {
        outln!("{n_keys} key(s) would fail in finalize, after the load (see above)");
    }
    let n_orphans = r
        .tables
        .iter()
        .flat_map(|t| &t.foreign_key_orphans)
        .filter(|o| o.unacknowledged())
        .count();
    if n_orphans > 0 {
        outln!("{n_orphans} foreign key(s) have orphan rows the mapping does not acknowledge (see above)");
    }
    if r.ok {
        outln!(
            "ok: all {} rows of {} table(s) would load",
            r.rows_read,
            r.tables.len()
        );
    } else if r.rows_rejected > 0 {
        outln!(
            "{} of {} rows would be rejected, in {} table(s)",
            r.rows_rejected,
            r.rows_read,
            n_tables
        );
    }
    outln!(
        "note: check does not connect to the target; rows PostgreSQL itself refuses for CHECKs or for foreign keys \
         to tables outside the pipeline, and tables that already exist there with other types, are not covered \
         (orphans of the source's own foreign keys are, above)"
    );
}

/// A NOT NULL column whose SQLite default the mapping does not carry over
/// (init could not translate it): every app insert that omits the column
/// would fail in PostgreSQL where SQLite filled it in. An error (exit 2)
/// naming each such column, unless the mapping says what to do: a
/// PostgreSQL `default`, or `not_null = false` (docs/conversions.md,
/// "Defaults").
fn dropped_not_null_defaults(conn: &rusqlite::Connection, plans: &[TablePlan]) -> Result<()> {
    let mut found = Vec::new();
    for t in plans.iter().filter(|t| !t.from_view) {
        let mut st = conn.prepare(
            "SELECT name, dflt_value FROM pragma_table_info(?1) WHERE dflt_value IS NOT NULL",
        )?;
        let defaults: Vec<(String, String)> = st
            .query_map([&t.source], |r| Ok((r.get(0)?, r.get(1)?)))?
            .collect::<rusqlite::Result<_>>()
            .with_context(|| format!("reading the defaults of source table {}", t.source))?;
        for (col, raw) in defaults {
            if raw.trim().eq_ignore_ascii_case("null") {
                continue;
            }
            let dropped = t
                .columns
                .iter()
                .any(|c| c.source == col && c.not_null && c.default.is_none() && !c.identity);
            if dropped {
                found.push(format!(
                    "table {}, column {}: NOT NULL, and its SQLite default `{}` is not carried over, \
                     so an insert that omits it would fail in PostgreSQL; write a PostgreSQL `default` \
                     for it, or set not_null = false",
                    t.source,
                    col,
                    raw.trim()
                ));
            }
        }
    }
    if found.is_empty() {
        return Ok(());
    }
    Err(crate::error::usage(format!(
        "{} NOT NULL column(s) lose their default:\n  {}",
        found.len(),
        found.join("\n  ")
    )))
}

/// Defaults `prepare` would drop: a quoted literal the column's type cannot
/// hold, by the converter `run` uses for the column's cells (for the types
/// whose literals it reads as PostgreSQL does), each said on stderr too.
fn default_problems(t: &TablePlan) -> Vec<String> {
    use crate::pg::types::PgType;
    let mut out = Vec::new();
    for c in t.columns.iter().filter(|c| !c.identity) {
        let Some(d) = c.default.as_deref() else {
            continue;
        };
        let Some(text) = d
            .strip_prefix('\'')
            .and_then(|x| x.strip_suffix('\''))
            .filter(|x| !x.replace("''", "").contains('\''))
            .map(|x| x.replace("''", "'"))
        else {
            continue;
        };
        let checked = c.ty.is_integer()
            || matches!(
                c.ty,
                PgType::Numeric(_)
                    | PgType::Double
                    | PgType::Real
                    | PgType::Boolean
                    | PgType::Uuid
                    | PgType::Json
                    | PgType::Jsonb
            );
        if !checked {
            continue;
        }
        if let Err(e) = c.converter.convert(&Cell::Text(text.into_bytes())) {
            let p = format!(
                "table {}, column {}: default {d} does not fit its type {} ({e}); prepare drops it",
                t.source, c.source, c.ty
            );
            tracing::warn!("{p}");
            out.push(p);
        }
    }
    out
}

/// The mapped foreign keys of `t` with orphan rows in the source (or an
/// `orphans` in the mapping), each said on stderr too.
fn foreign_key_orphans(
    conn: &rusqlite::Connection,
    t: &TablePlan,
    plans: &[TablePlan],
) -> Result<Vec<FkOrphans>> {
    let inside: Vec<_> = t.foreign_keys.iter().filter(|f| !f.outside).collect();
    if inside.is_empty() {
        return Ok(Vec::new());
    }
    let found = crate::sqlite::read::fk_check::orphans(conn, &t.source)?;
    let mut out = Vec::new();
    for fk in inside {
        let cols: Option<Vec<String>> = fk
            .columns
            .iter()
            .map(|c| {
                t.columns
                    .iter()
                    .find(|p| &p.target == c)
                    .map(|p| p.source.clone())
            })
            .collect();
        let parent = plans.iter().find(|p| p.target == fk.ref_table);
        let orphans = match (cols, parent) {
            (Some(cols), Some(parent)) => found
                .iter()
                .find(|k| k.is_key(&cols, &parent.source))
                .map_or(0, |k| k.count),
            _ => 0,
        };
        if orphans == 0 && fk.orphans == 0 {
            continue;
        }
        let o = FkOrphans {
            key: fk.name.clone(),
            columns: fk.columns.clone(),
            references: fk.ref_table.clone(),
            orphans,
            acknowledged: fk.orphans,
        };
        if o.unacknowledged() {
            tracing::warn!(
                "table {}: foreign key {} → {}: {orphans} orphan row(s) (no parent row), {} acknowledged \
                 by the mapping (orphans = N); run would leave the key NOT VALID and exit 3",
                t.source,
                o.key,
                o.references,
                o.acknowledged
            );
        } else if orphans > 0 {
            tracing::info!(
                "table {}: foreign key {} → {}: {orphans} orphan row(s), acknowledged",
                t.source,
                o.key,
                o.references
            );
        }
        out.push(o);
    }
    Ok(out)
}

impl CheckReport {
    /// Exit 3 unless no row would be rejected and every key would build.
    pub fn exit_class(&self) -> crate::error::ExitClass {
        crate::error::ExitClass::matched(self.ok)
    }
}

#[cfg(test)]
mod tests;
