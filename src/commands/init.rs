//! `sqlite2pg init`: introspect and profile a SQLite file and write a
//! mapping file with every inferred rule spelled out, and the facts behind
//! them as comments, for the operator to review before the window.

use crate::config::mapping::{
    ColumnMap, EpochUnit, ForeignKeyDef, IndexDef, Pipeline, SourceConfig, TableMap,
};
use crate::pg::ident;
use crate::pg::types::PgType;
use crate::sqlite::introspect::{
    introspect, sqlite_quote, IndexPart, SourceColumn, SourceSchema, SourceTable,
};
use crate::sqlite::lexer::{tokenize, Tok};
use crate::sqlite::source;
use crate::sqlite::typemap::{map_declared_type, translate_default, translate_expr_with};
use anyhow::{bail, Context, Result};
use rusqlite::Connection;
use std::collections::{HashMap, HashSet, VecDeque};
use std::path::{Component, Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;

/// What the cells of one column really hold (SQLite is dynamically typed).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ColumnProfile {
    pub integer: u64,
    pub real: u64,
    pub text: u64,
    pub blob: u64,
    pub null: u64,
    /// Smallest / largest numeric (integer or real) cell.
    pub min_number: Option<f64>,
    pub max_number: Option<f64>,
    /// For a declared `decimal(p,s)`: cells that `numeric(p,s)` would round
    /// or refuse (more than `s` decimals, or too large).
    pub scale_loss: u64,
    /// What the text cells look like (counts), to review the rule.
    pub text_formats: TextFormats,
}

/// Formats recognised in text cells.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TextFormats {
    pub iso_timestamp: u64,
    pub integer: u64,
    pub decimal: u64,
    pub boolean: u64,
    pub json: u64,
    pub uuid: u64,
}

impl TextFormats {
    fn add(&mut self, b: &[u8]) {
        let t = b.trim_ascii();
        if t.is_empty() {
            return;
        }
        let digits = |s: &[u8]| !s.is_empty() && s.iter().all(u8::is_ascii_digit);
        let unsigned = t
            .strip_prefix(b"-")
            .or_else(|| t.strip_prefix(b"+"))
            .unwrap_or(t);
        if t.len() >= 10
            && digits(&t[..4])
            && t[4] == b'-'
            && digits(&t[5..7])
            && t[7] == b'-'
            && digits(&t[8..10])
        {
            self.iso_timestamp += 1;
        } else if digits(unsigned) {
            self.integer += 1;
        } else if unsigned.len() > 1
            && unsigned.iter().all(|&c| c.is_ascii_digit() || c == b'.')
            && unsigned.iter().filter(|&&c| c == b'.').count() == 1
        {
            self.decimal += 1;
        } else if [
            &b"true"[..],
            b"false",
            b"t",
            b"f",
            b"yes",
            b"no",
            b"y",
            b"n",
            b"on",
            b"off",
        ]
        .iter()
        .any(|w| t.eq_ignore_ascii_case(w))
        {
            self.boolean += 1;
        } else if (t[0] == b'{' || t[0] == b'[')
            && serde_json::from_slice::<serde::de::IgnoredAny>(t).is_ok()
        {
            self.json += 1;
        } else if (32..=45).contains(&t.len()) // simple 32 … urn:uuid: 45
            && std::str::from_utf8(t)
                .ok()
                .and_then(|s| uuid::Uuid::try_parse(s).ok())
                .is_some()
        {
            self.uuid += 1;
        }
    }

    /// `"9812 ISO-8601, 12 JSON"` — only what was seen.
    fn describe(&self) -> Option<String> {
        let parts: Vec<String> = [
            (self.iso_timestamp, "ISO-8601 date/time"),
            (self.integer, "integer"),
            (self.decimal, "decimal"),
            (self.boolean, "boolean word"),
            (self.json, "JSON"),
            (self.uuid, "UUID"),
        ]
        .iter()
        .filter(|(n, _)| *n > 0)
        .map(|(n, w)| format!("{n} {w}"))
        .collect();
        (!parts.is_empty()).then(|| parts.join(", "))
    }
}

/// Profiles by table, then column (source names).
pub type Profiles = HashMap<String, TableProfile>;
/// One table's profiles by column.
pub type TableProfile = HashMap<String, ColumnProfile>;

/// Scan every table once and count storage classes per column. Each cell's
/// class is read from the row as SQLite hands it over (one pass, no SQL
/// expression per cell: at bench scale 1.0 an aggregate query per table took
/// 14 s, this pass a fraction of it).
///
/// Tables are profiled side by side: one read-only connection per thread, as
/// many threads as cores, the biggest tables first. On an error the other
/// threads stop and the first table that failed is reported. (Cutting big
/// tables into rowid ranges for a better balance was measured slower: bench
/// scale 1.0, 2 cores, 2.5 s against 2.1 s.)
pub fn profile(path: &Path, schema: &SourceSchema, sample: Option<u64>) -> Result<Profiles> {
    let cost = |t: &SourceTable| {
        let rows = sample.map_or(t.row_count, |n| n.min(t.row_count));
        rows * (t.columns.len() as u64 + 1)
    };
    let mut jobs: Vec<&SourceTable> = schema.tables.iter().collect();
    jobs.sort_by_key(|t| std::cmp::Reverse(cost(t)));
    let threads = std::thread::available_parallelism()
        .map_or(2, |n| n.get())
        .min(jobs.len())
        .max(1);
    let queue = Mutex::new(VecDeque::from(jobs));
    let stop = AtomicBool::new(false);
    let bars = indicatif::MultiProgress::new();
    let results: Mutex<Vec<(String, Result<TableProfile>)>> = Mutex::new(Vec::new());
    std::thread::scope(|s| {
        for _ in 0..threads {
            s.spawn(|| {
                let conn = match source::open_readonly(path) {
                    Ok(c) => c,
                    Err(e) => {
                        stop.store(true, Ordering::Relaxed);
                        results.lock().unwrap().push((String::new(), Err(e)));
                        return;
                    }
                };
                while !stop.load(Ordering::Relaxed) {
                    let Some(t) = queue.lock().unwrap().pop_front() else {
                        return;
                    };
                    let t0 = std::time::Instant::now();
                    let res = profile_table(&conn, t, sample, &bars, &stop);
                    tracing::debug!(
                        "profiled table `{}` ({:.1}s)",
                        t.name,
                        t0.elapsed().as_secs_f64()
                    );
                    if res.is_err() {
                        stop.store(true, Ordering::Relaxed);
                    }
                    results.lock().unwrap().push((t.name.clone(), res));
                }
            });
        }
    });
    let mut out = Profiles::new();
    let mut first_err = None;
    for (table, res) in results.into_inner().unwrap() {
        match res {
            Ok(p) => {
                out.insert(table, p);
            }
            Err(e) => {
                first_err.get_or_insert(e);
            }
        }
    }
    if let Some(e) = first_err {
        return Err(e);
    }
    // Stopped early only on an error, which returned above.
    debug_assert_eq!(out.len(), schema.tables.len());
    Ok(out)
}

/// One table's profile scan. Returns early (with what it has) once `stop`
/// is set: another thread failed and only its error will be reported.
fn profile_table(
    conn: &Connection,
    t: &SourceTable,
    sample: Option<u64>,
    bars: &indicatif::MultiProgress,
    stop: &AtomicBool,
) -> Result<TableProfile> {
    let cols: Vec<&SourceColumn> = t.columns.iter().filter(|c| c.hidden == 0).collect();
    let mut profs: Vec<ColumnProfile> = vec![ColumnProfile::default(); cols.len()];
    // (precision - scale, scale) of declared decimal(p,s) columns.
    let limits: Vec<Option<(u32, u32)>> = cols
        .iter()
        .map(|c| match map_declared_type(&c.declared_type) {
            PgType::Numeric(Some((p, sc))) => Some((p - sc, sc)),
            _ => None,
        })
        .collect();
    if t.row_count > 0 && !cols.is_empty() {
        let list: Vec<String> = cols.iter().map(|c| sqlite_quote(&c.name)).collect();
        let limit = sample.map(|n| format!(" LIMIT {n}")).unwrap_or_default();
        let sql = format!(
            "SELECT {} FROM {}{limit}",
            list.join(", "),
            sqlite_quote(&t.name)
        );
        let mut stmt = conn
            .prepare(&sql)
            .with_context(|| format!("cannot profile table `{}`", t.name))?;
        let total = sample.map_or(t.row_count, |n| n.min(t.row_count));
        let bar = bars.add(profile_bar(&t.name, total));
        let mut rows = stmt.query([])?;
        let mut n = 0u64;
        while let Some(r) = rows
            .next()
            .with_context(|| format!("cannot profile table `{}`", t.name))?
        {
            for (i, p) in profs.iter_mut().enumerate() {
                let v = r.get_ref(i)?;
                p.add(v, limits[i]);
            }
            n += 1;
            if n.is_multiple_of(65536) {
                bar.set_position(n);
                if stop.load(Ordering::Relaxed) {
                    break;
                }
            }
        }
        bar.finish_and_clear();
    }
    Ok(cols
        .iter()
        .zip(profs)
        .map(|(c, p)| (c.name.clone(), p))
        .collect())
}

/// A progress bar for one table's profile scan: drawn on a terminal only.
fn profile_bar(table: &str, rows: u64) -> indicatif::ProgressBar {
    use std::io::IsTerminal;
    if !std::io::stderr().is_terminal() || rows < 1_000_000 {
        return indicatif::ProgressBar::hidden();
    }
    let b = indicatif::ProgressBar::new(rows);
    b.set_style(
        indicatif::ProgressStyle::with_template(
            "profiling {prefix} [{bar:30}] {human_pos}/{human_len} rows, ETA {eta}",
        )
        .expect("static template")
        .progress_chars("=> "),
    );
    b.set_prefix(table.to_string());
    b
}

impl ColumnProfile {
    fn add(&mut self, v: rusqlite::types::ValueRef<'_>, limit: Option<(u32, u32)>) {
        use rusqlite::types::ValueRef;
        let num = |p: &mut ColumnProfile, x: f64| {
            p.min_number = Some(p.min_number.map_or(x, |m| m.min(x)));
            p.max_number = Some(p.max_number.map_or(x, |m| m.max(x)));
        };
        match v {
            ValueRef::Null => self.null += 1,
            ValueRef::Integer(i) => {
                self.integer += 1;
                num(self, i as f64);
                if let Some((mag, _)) = limit {
                    if (i as f64).abs() >= 10f64.powi(mag as i32) {
                        self.scale_loss += 1;
                    }
                }
            }
            ValueRef::Real(f) => {
                self.real += 1;
                num(self, f);
                if let Some((mag, sc)) = limit {
                    let scaled = f * 10f64.powi(sc as i32);
                    if f.abs() >= 10f64.powi(mag as i32) || scaled.round() != scaled {
                        self.scale_loss += 1;
                    }
                }
            }
            ValueRef::Text(b) => {
                self.text += 1;
                self.text_formats.add(b);
                if let Some((mag, sc)) = limit {
                    if !decimal_text_fits(b, mag, sc) {
                        self.scale_loss += 1;
                    }
                }
            }
            ValueRef::Blob(_) => self.blob += 1,
        }
    }
}

/// Whether decimal text fits numeric(p,s) without rounding: only digits
/// around one optional point (an optional sign and spaces), at most
/// `sc` decimals and `mag` integer digits (leading zeros aside).
fn decimal_text_fits(b: &[u8], mag: u32, sc: u32) -> bool {
    let t = b.trim_ascii();
    let t = t
        .strip_prefix(b"-")
        .or_else(|| t.strip_prefix(b"+"))
        .unwrap_or(t);
    let (int, frac) = match t.iter().position(|&c| c == b'.') {
        Some(i) => (&t[..i], &t[i + 1..]),
        None => (t, &t[..0]),
    };
    let digits = |s: &[u8]| s.iter().all(u8::is_ascii_digit);
    if t.is_empty() || !digits(int) || !digits(frac) {
        return false;
    }
    let int_digits = int.iter().skip_while(|&&c| c == b'0').count();
    frac.len() <= sc as usize && int_digits <= mag as usize
}

/// The unit of the numbers in a date/time column, from their range.
fn detect_epoch(p: &ColumnProfile) -> Option<EpochUnit> {
    if p.integer + p.real == 0 {
        return None;
    }
    let (lo, hi) = (p.min_number?, p.max_number?);
    // Julian day numbers of 1762..2501; as Unix seconds they would all be
    // in January 1970.
    if (2_365_000.0..=2_635_000.0).contains(&lo) && (2_365_000.0..=2_635_000.0).contains(&hi) {
        return Some(EpochUnit::JulianDay);
    }
    let unit = |v: f64| {
        let v = v.abs();
        if v < 1e11 {
            EpochUnit::S
        } else if v < 1e14 {
            EpochUnit::Ms
        } else {
            EpochUnit::Us
        }
    };
    let (a, b) = (unit(lo), unit(hi));
    // A zero or tiny value says nothing about the unit.
    if lo.abs() < 1e6 || a == b {
        Some(b)
    } else {
        Some(EpochUnit::Auto)
    }
}

fn cp_max(prof: Option<&HashMap<String, ColumnProfile>>, col: &str) -> Option<f64> {
    prof.and_then(|p| p.get(col)).and_then(|p| p.max_number)
}

/// Type for a column without a declared type, from what its cells hold.
fn untyped_from_profile(p: Option<&ColumnProfile>) -> PgType {
    let Some(p) = p else { return PgType::Text };
    let values = p.integer + p.real + p.text + p.blob;
    if values == 0 {
        PgType::Text
    } else if p.integer == values {
        PgType::BigInt
    } else if p.integer + p.real == values {
        PgType::Double
    } else if p.blob == values {
        PgType::Bytea
    } else {
        PgType::Text
    }
}

/// Source column name → (target name, target type, included).
struct ColInfo {
    target: String,
    ty: PgType,
    include: bool,
}

struct TableNames {
    target: String,
    cols: Vec<(String, ColInfo)>,
}

impl TableNames {
    fn col(&self, name: &str) -> Option<&ColInfo> {
        self.cols
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, c)| c)
    }
}

/// Build the pipeline: one table map per source table, parents first.
/// Returns it with the warnings about everything not carried over.
pub fn build_pipeline(
    schema: &SourceSchema,
    profiles: &Profiles,
    source_path: &Path,
    out_dir: &Path,
) -> (Pipeline, Vec<String>) {
    let mut warnings: Vec<String> = schema.warnings.clone();
    // Tables, indexes and constraints share PostgreSQL's schema namespace
    // (indexes and key constraints are relations).
    let mut taken: HashSet<String> = HashSet::new();
    for t in &schema.tables {
        if t.name.len() <= ident::MAX_IDENT_BYTES {
            taken.insert(t.name.clone());
        }
    }
    let mut names: HashMap<String, TableNames> = HashMap::new();
    for t in &schema.tables {
        let target = if t.name.len() <= ident::MAX_IDENT_BYTES {
            t.name.clone()
        } else {
            let f = ident::fit(&t.name, &mut taken);
            warnings.push(format!(
                "table `{}` is longer than 63 bytes: renamed to `{f}`",
                t.name
            ));
            f
        };
        let mut col_taken: HashSet<String> = t
            .columns
            .iter()
            .filter(|c| c.name.len() <= ident::MAX_IDENT_BYTES)
            .map(|c| c.name.clone())
            .collect();
        let prof = profiles.get(&t.name);
        let mut cols = Vec::new();
        for c in t.columns.iter().filter(|c| c.hidden != 1) {
            let ctarget = if c.name.len() <= ident::MAX_IDENT_BYTES {
                c.name.clone()
            } else {
                let f = ident::fit(&c.name, &mut col_taken);
                warnings.push(format!(
                    "column `{}`.`{}` is longer than 63 bytes: renamed to `{f}`",
                    t.name, c.name
                ));
                f
            };
            // No declared type (or STRICT's ANY): the cells decide.
            let decl = c.declared_type.trim();
            let cp = prof.and_then(|p| p.get(&c.name));
            let mut ty = if decl.is_empty() || decl.eq_ignore_ascii_case("any") {
                untyped_from_profile(cp)
            } else {
                map_declared_type(&c.declared_type)
            };
            if let (PgType::Numeric(Some(_)), Some(cp)) = (&ty, cp) {
                if cp.scale_loss > 0 {
                    warnings.push(format!(
                        "`{}`.`{}` is declared {} but {} value(s) have more digits (SQLite does not enforce it): using unconstrained numeric so nothing is rounded",
                        t.name, c.name, c.declared_type, cp.scale_loss
                    ));
                    ty = PgType::Numeric(None);
                }
            }
            cols.push((
                c.name.clone(),
                ColInfo {
                    target: ctarget,
                    ty,
                    include: c.hidden == 0,
                },
            ));
        }
        names.insert(t.name.clone(), TableNames { target, cols });
    }
    // Reserve the primary-key constraint names `prepare` will use, and the
    // names of CREATE INDEX indexes that fit, before deriving new names.
    for t in &schema.tables {
        let tn = &names[&t.name].target;
        if !t.primary_key.is_empty() {
            let pk = format!("{tn}_pkey");
            if pk.len() <= ident::MAX_IDENT_BYTES {
                taken.insert(pk);
            }
        }
        for ix in &t.indexes {
            if ix.origin == "c" && ix.name.len() <= ident::MAX_IDENT_BYTES {
                taken.insert(ix.name.clone());
            }
        }
    }

    let mut table_maps = Vec::new();
    for t in &schema.tables {
        let tn = &names[&t.name];
        let prof = profiles.get(&t.name);
        let mut tm = TableMap {
            target: (tn.target != t.name).then(|| tn.target.clone()),
            include: true,
            without_rowid: t.without_rowid,
            ..Default::default()
        };
        for c in t.columns.iter().filter(|c| c.hidden != 1) {
            let info = tn.col(&c.name).expect("column info");
            let mut cm = ColumnMap {
                target: (info.target != c.name).then(|| info.target.clone()),
                pg_type: info.ty.to_string(),
                include: info.include,
                not_null: c.not_null,
                ..Default::default()
            };
            if !info.include {
                warnings.push(format!(
                    "`{}`.`{}` is a generated column: not moved (add it to the target by hand if needed)",
                    t.name, c.name
                ));
            }
            let identity = t.rowid_alias.as_deref() == Some(c.name.as_str())
                || (t.autoincrement && t.primary_key.len() == 1 && c.pk_position == 1);
            if identity && info.ty.is_integer() {
                cm.identity = true;
                let max = cp_max(prof, &c.name);
                if let (Some(seq), true) = (t.sequence, t.autoincrement) {
                    if max.is_none_or(|m| (seq as f64) > m) {
                        // Ids up to `seq` were handed out and some deleted:
                        // the identity must restart above them.
                        cm.sequence_floor = Some(seq);
                    }
                }
            } else if let Some(raw) = &c.default {
                match translate_default(raw, &info.ty) {
                    Ok(d) => cm.default = d,
                    Err(e) => warnings.push(format!("`{}`.`{}`: {e}; no default", t.name, c.name)),
                }
            }
            if matches!(
                info.ty,
                PgType::Timestamptz | PgType::Timestamp | PgType::Date
            ) {
                cm.epoch = prof.and_then(|p| p.get(&c.name)).and_then(detect_epoch);
            }
            tm.columns.insert(c.name.clone(), cm);
        }
        tm.primary_key = t
            .primary_key
            .iter()
            .filter_map(|p| tn.col(p).map(|c| c.target.clone()))
            .collect();

        // Indexes.
        for ix in &t.indexes {
            match index_def(tn, ix, &mut taken) {
                Ok(def) => tm.indexes.push(def),
                Err(why) => warnings.push(format!(
                    "index `{}` on `{}` not carried over: {why}",
                    ix.name, t.name
                )),
            }
        }
        for w in nocase_warnings(t) {
            warnings.push(w);
        }

        // Foreign keys.
        for fk in &t.foreign_keys {
            let fail = |why: String| {
                format!(
                    "foreign key ({}) of `{}` → `{}` not carried over: {why}",
                    fk.columns.join(", "),
                    t.name,
                    fk.ref_table
                )
            };
            let Some(parent) = schema.table(&fk.ref_table) else {
                warnings.push(fail("no such table in the source".into()));
                continue;
            };
            let pn = &names[&parent.name];
            let ref_cols: Vec<String> = if fk.ref_columns.is_empty() {
                parent.primary_key.clone()
            } else {
                fk.ref_columns.clone()
            };
            if ref_cols.is_empty() || ref_cols.len() != fk.columns.len() {
                warnings.push(fail(format!(
                    "`{}` has no primary key to reference",
                    parent.name
                )));
                continue;
            }
            let mut cols = Vec::new();
            let mut pcols = Vec::new();
            let mut problem = None;
            for (c, p) in fk.columns.iter().zip(&ref_cols) {
                let ci = tn.col(c).filter(|x| x.include);
                let pi = pn.col(p).filter(|x| x.include);
                match (ci, pi) {
                    (Some(ci), Some(pi)) => {
                        let same = ci.ty == pi.ty || (ci.ty.is_integer() && pi.ty.is_integer());
                        if !same {
                            problem = Some(format!(
                                "`{c}` is {} but `{}`.`{p}` is {} (PostgreSQL cannot compare them)",
                                ci.ty, parent.name, pi.ty
                            ));
                        }
                        cols.push(ci.target.clone());
                        pcols.push(pi.target.clone());
                    }
                    (None, _) => problem = Some(format!("no moved column `{c}`")),
                    (_, None) => {
                        problem = Some(format!("`{}` has no moved column `{p}`", parent.name))
                    }
                }
            }
            if problem.is_none() && !is_unique_key(parent, &ref_cols) {
                problem = Some(format!(
                    "({}) is neither the primary key nor a unique index of `{}` (PostgreSQL requires one)",
                    ref_cols.join(", "),
                    parent.name
                ));
            }
            if let Some(p) = problem {
                warnings.push(fail(p));
                continue;
            }
            let action = |a: &str| {
                let a = a.trim().to_ascii_lowercase();
                (a != "no action" && !a.is_empty()).then_some(a)
            };
            let mut parts: Vec<&str> = vec![tn.target.as_str()];
            parts.extend(cols.iter().map(String::as_str));
            parts.push("fkey");
            tm.foreign_keys.push(ForeignKeyDef {
                name: Some(ident::derived(&parts, &mut taken)),
                columns: cols,
                references: parent.name.clone(),
                ref_columns: pcols,
                on_delete: action(&fk.on_delete),
                on_update: action(&fk.on_update),
            });
        }

        // CHECK constraints.
        for chk in &t.checks {
            match check_def(tn, chk) {
                Ok(Some(c)) => tm.checks.push(c),
                Ok(None) => {}
                Err(why) => warnings.push(format!(
                    "CHECK ({chk}) on `{}` not carried over: {why}",
                    t.name
                )),
            }
        }
        if !tm.columns.values().any(|c| c.include) {
            tm.include = false;
            warnings.push(format!(
                "table `{}` has no column that can be moved: excluded",
                t.name
            ));
        }
        table_maps.push((t.name.clone(), tm));
    }

    let pipeline = Pipeline {
        name: None,
        source: SourceConfig {
            path: relative_source(source_path, out_dir),
        },
        target: Default::default(),
        defaults: Default::default(),
        tables: Default::default(),
        table_maps,
        base_dir: out_dir.to_path_buf(),
        file: PathBuf::new(),
    };
    (pipeline, warnings)
}

/// Warn about indexes whose collation PostgreSQL will not reproduce.
fn nocase_warnings(t: &SourceTable) -> Vec<String> {
    let mut out = Vec::new();
    for ix in &t.indexes {
        for p in &ix.columns {
            if let IndexPart::Column {
                name,
                collation: Some(coll),
                ..
            } = p
            {
                out.push(format!(
                    "index `{}` on `{}`: column `{name}` uses collation {coll}; the PostgreSQL index compares exactly{}",
                    ix.name,
                    t.name,
                    if ix.unique { " (values differing only in case become allowed)" } else { "" }
                ));
            }
        }
    }
    out
}

/// Are `cols` (source names) the primary key or a full unique index of `t`?
fn is_unique_key(t: &SourceTable, cols: &[String]) -> bool {
    let want: HashSet<String> = cols.iter().map(|c| c.to_lowercase()).collect();
    let set = |v: &[String]| -> HashSet<String> { v.iter().map(|c| c.to_lowercase()).collect() };
    if !t.primary_key.is_empty() && set(&t.primary_key) == want {
        return true;
    }
    t.indexes.iter().any(|ix| {
        ix.unique
            && ix.partial_where.is_none()
            && ix.columns.len() == want.len()
            && ix.columns.iter().all(|p| match p {
                IndexPart::Column { name, .. } => want.contains(&name.to_lowercase()),
                IndexPart::Expression { .. } => false,
            })
    })
}

/// Translate an expression of table `tn` to PostgreSQL over target names,
/// refusing column uses whose meaning depends on SQLite's storage.
fn expr(tn: &TableNames, sql: &str) -> Result<String, String> {
    let mut unknown = None;
    let mut resolve = |n: &str| match tn.col(n) {
        Some(c) if c.include => Some(c.target.clone()),
        _ => {
            unknown.get_or_insert_with(|| n.to_string());
            None
        }
    };
    let Some((out, uses)) = translate_expr_with(sql, &mut resolve) else {
        return Err(match unknown {
            Some(n) => format!("`{n}` is not a column (or uses something PostgreSQL lacks)"),
            None => "uses SQL without a faithful PostgreSQL equivalent".into(),
        });
    };
    for u in &uses {
        let ty = tn
            .cols
            .iter()
            .find(|(_, c)| c.target == u.name)
            .map(|(_, c)| c.ty.clone())
            .unwrap_or(PgType::Text);
        let plain = matches!(
            ty,
            PgType::SmallInt
                | PgType::Integer
                | PgType::BigInt
                | PgType::Real
                | PgType::Double
                | PgType::Numeric(_)
                | PgType::Text
                | PgType::Varchar(_)
                | PgType::Char(_)
        );
        if u.null_test || (u.truth && ty == PgType::Boolean) || (!u.truth && plain) {
            continue;
        }
        return Err(if u.truth {
            format!("uses `{}` ({ty}) as a truth value", u.name)
        } else {
            format!(
                "uses `{}`, which becomes {ty} (SQLite compared the stored values)",
                u.name
            )
        });
    }
    Ok(out)
}

/// A CHECK for the target, `Ok(None)` when the target type already implies
/// it (`flag IN (0, 1)` on a boolean column, `json_valid(doc)` on jsonb).
fn check_def(tn: &TableNames, chk: &str) -> Result<Option<String>, String> {
    if let Ok(toks) = tokenize(chk) {
        let col = toks.first().and_then(|t| match &t.tok {
            Tok::Word(n) | Tok::Quoted { name: n, .. } => tn.col(n),
            _ => None,
        });
        let shape: Vec<String> = toks
            .iter()
            .skip(1)
            .map(|t| match &t.tok {
                Tok::Word(w) => w.to_ascii_uppercase(),
                Tok::Num(n) => n.clone(),
                Tok::Op(o) => o.clone(),
                _ => "?".into(),
            })
            .collect();
        if col.is_some_and(|c| c.ty == PgType::Boolean)
            && (shape == ["IN", "(", "0", ",", "1", ")"]
                || shape == ["IN", "(", "1", ",", "0", ")"])
        {
            return Ok(None);
        }
        // json_valid(col) [= 1]: jsonb only holds valid JSON.
        if toks.first().is_some_and(|t| t.is_word("json_valid"))
            && toks.get(1).is_some_and(|t| t.is_op("("))
            && toks.get(3).is_some_and(|t| t.is_op(")"))
            && (toks.len() == 4
                || (toks.len() == 6 && toks[4].is_op("=") && toks[5].tok == Tok::Num("1".into())))
        {
            let col = match &toks[2].tok {
                Tok::Word(n) | Tok::Quoted { name: n, .. } => tn.col(n),
                _ => None,
            };
            if col.is_some_and(|c| matches!(c.ty, PgType::Jsonb | PgType::Json)) {
                return Ok(None);
            }
        }
    }
    expr(tn, chk).map(Some)
}

fn index_def(
    tn: &TableNames,
    ix: &crate::sqlite::introspect::SourceIndex,
    taken: &mut HashSet<String>,
) -> Result<IndexDef, String> {
    let mut columns = Vec::new();
    for p in &ix.columns {
        match p {
            IndexPart::Column { name, desc, .. } => {
                let c = tn
                    .col(name)
                    .filter(|c| c.include)
                    .ok_or_else(|| format!("column `{name}` is not moved"))?;
                columns.push(if *desc {
                    format!("({}) DESC", ident::quote(&c.target))
                } else {
                    c.target.clone()
                });
            }
            IndexPart::Expression { sql, desc } => {
                let e = expr(tn, sql).map_err(|why| format!("expression `{sql}` {why}"))?;
                columns.push(format!("({e}){}", if *desc { " DESC" } else { "" }));
            }
        }
    }
    if columns.is_empty() {
        return Err("no indexed columns found".into());
    }
    let predicate = match &ix.partial_where {
        Some(w) => Some(expr(tn, w).map_err(|why| format!("WHERE `{w}` {why}"))?),
        None => None,
    };
    let name = if ix.origin == "c" && ix.name.len() <= ident::MAX_IDENT_BYTES {
        ix.name.clone() // reserved in `taken` already
    } else if ix.origin == "c" {
        ident::fit(&ix.name, taken)
    } else {
        // UNIQUE constraint: PostgreSQL's naming, `<table>_<cols>_key`.
        let mut parts: Vec<String> = vec![tn.target.clone()];
        for p in &ix.columns {
            if let IndexPart::Column { name, .. } = p {
                parts.push(tn.col(name).map(|c| c.target.clone()).unwrap_or_default());
            }
        }
        parts.push("key".into());
        let refs: Vec<&str> = parts.iter().map(String::as_str).collect();
        ident::derived(&refs, taken)
    };
    Ok(IndexDef {
        name,
        columns,
        unique: ix.unique,
        predicate,
    })
}

/// The source path as the mapping file should store it: absolute stays
/// absolute; relative becomes relative to `out_dir` when both resolve,
/// otherwise absolute.
fn relative_source(source: &Path, out_dir: &Path) -> PathBuf {
    if source.is_absolute() {
        return source.to_path_buf();
    }
    let Ok(src) = source.canonicalize() else {
        return std::path::absolute(source).unwrap_or_else(|_| source.to_path_buf());
    };
    let Ok(dir) = out_dir.canonicalize() else {
        return src;
    };
    let s: Vec<Component> = src.components().collect();
    let d: Vec<Component> = dir.components().collect();
    let common = s.iter().zip(&d).take_while(|(a, b)| a == b).count();
    if common == 0 {
        return src;
    }
    let mut rel = PathBuf::new();
    for _ in common..d.len() {
        rel.push("..");
    }
    for c in &s[common..] {
        rel.push(c.as_os_str());
    }
    rel
}

fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn comment_lines(text: &str) -> String {
    text.lines()
        .map(|l| {
            if l.is_empty() {
                "#\n".to_string()
            } else {
                format!("# {l}\n")
            }
        })
        .collect()
}

/// Render the mapping file: the pipeline as TOML, with the schema facts, the
/// column profiles and the warnings as comments. The result is checked to
/// parse back.
pub fn render(
    p: &Pipeline,
    schema: &SourceSchema,
    profiles: &Profiles,
    warnings: &[String],
) -> Result<String> {
    let text = p.to_toml().context("cannot serialize the mapping")?;
    let mut doc: toml_edit::DocumentMut = text.parse().context("cannot re-read the mapping")?;
    if let Some(tables) = doc.get_mut("tables").and_then(|t| t.as_table_mut()) {
        for (name, _) in &p.table_maps {
            let Some(st) = schema.tables.iter().find(|t| &t.name == name) else {
                continue;
            };
            let Some(tt) = tables.get_mut(name).and_then(|t| t.as_table_mut()) else {
                continue;
            };
            tt.set_implicit(false);
            let mut facts = vec![format!("rows: {}", st.row_count)];
            if st.without_rowid {
                facts.push("WITHOUT ROWID".into());
            }
            if st.autoincrement {
                facts.push(match st.sequence {
                    Some(n) => format!("AUTOINCREMENT (sqlite_sequence: {n})"),
                    None => "AUTOINCREMENT".into(),
                });
            }
            if let Some(a) = &st.rowid_alias {
                facts.push(format!("rowid alias: {a}"));
            }
            let mut head = format!(
                "\n# source table `{}` — {}\n",
                one_line(name),
                facts.join(", ")
            );
            for chk in &st.checks {
                head.push_str(&format!("# source CHECK ({})\n", one_line(chk)));
            }
            tt.decor_mut().set_prefix(head);
            let prof = profiles.get(name);
            if let Some(cols) = tt.get_mut("columns").and_then(|c| c.as_table_mut()) {
                for sc in &st.columns {
                    let Some(ct) = cols.get_mut(&sc.name).and_then(|c| c.as_table_mut()) else {
                        continue;
                    };
                    let mut d = vec![if sc.declared_type.trim().is_empty() {
                        "(no type)".to_string()
                    } else {
                        one_line(&sc.declared_type)
                    }];
                    if sc.pk_position > 0 {
                        d.push(format!("PRIMARY KEY #{}", sc.pk_position));
                    }
                    if sc.not_null {
                        d.push("NOT NULL".into());
                    }
                    if let Some(def) = &sc.default {
                        d.push(format!("default {}", one_line(def)));
                    }
                    if sc.hidden >= 2 {
                        d.push("GENERATED".into());
                    }
                    let mut line = format!("# declared: {}\n", d.join(", "));
                    if let Some(pr) = prof.and_then(|p| p.get(&sc.name)) {
                        let mut parts = Vec::new();
                        for (n, what) in [
                            (pr.integer, "integer"),
                            (pr.real, "real"),
                            (pr.text, "text"),
                            (pr.blob, "blob"),
                            (pr.null, "null"),
                        ] {
                            if n > 0 {
                                parts.push(format!("{n} {what}"));
                            }
                        }
                        if pr.scale_loss > 0 {
                            parts.push(format!("{} beyond the declared precision", pr.scale_loss));
                        }
                        if let Some(f) = pr.text_formats.describe() {
                            parts.push(format!("text as: {f}"));
                        }
                        if let (Some(lo), Some(hi)) = (pr.min_number, pr.max_number) {
                            parts.push(format!("numbers {}..{}", short_num(lo), short_num(hi)));
                        }
                        if !parts.is_empty() {
                            line.push_str(&format!("# cells: {}\n", parts.join(", ")));
                        }
                    }
                    ct.decor_mut().set_prefix(line);
                }
            }
        }
    }

    let mut header = String::new();
    header.push_str(&format!(
        "sqlite2pg mapping file, generated by `sqlite2pg init` on {}\n",
        chrono::Utc::now().format("%Y-%m-%d %H:%M UTC")
    ));
    header.push_str(&format!("source: {}\n", p.source.path.display()));
    let rows: u64 = schema.tables.iter().map(|t| t.row_count).sum();
    header.push_str(&format!(
        "{} tables, {rows} rows. Tables are listed parents first.\n",
        schema.tables.len()
    ));
    header.push_str(
        "Review every table before the migration window: target types, defaults,\n\
         renamed identifiers, and the warnings below. Keys are SOURCE names;\n\
         `target` renames.\n",
    );
    if !schema.views.is_empty() {
        header.push_str(&format!(
            "\nviews are not moved: {}\n",
            schema
                .views
                .iter()
                .map(|v| format!("`{}`", one_line(v)))
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    if !warnings.is_empty() {
        header.push_str(&format!("\nwarnings ({}):\n", warnings.len()));
        for w in warnings {
            header.push_str(&format!("- {}\n", one_line(w)));
        }
    }
    let out = format!("{}\n{}", comment_lines(&header), doc);
    // Never hand the operator a file the tool itself would refuse.
    Pipeline::parse(&out, Path::new("pipeline.toml"))
        .map_err(|e| anyhow::anyhow!("internal error: generated mapping does not validate: {e}"))?;
    Ok(out)
}

/// `sqlite2pg init`: write a mapping file for `sqlite` to `out`, or to
/// `pipelines/<stem>.toml`. Refuses to overwrite an existing file.
/// `sample`: profile at most this many rows per table (the first ones).
pub fn run_init(sqlite: &Path, out: Option<&Path>, sample: Option<u64>) -> Result<PathBuf> {
    let out: PathBuf = match out {
        Some(o) => o.to_path_buf(),
        None => {
            let stem = sqlite
                .file_stem()
                .map(|s| s.to_string_lossy().into_owned())
                .unwrap_or_else(|| "pipeline".into());
            Path::new("pipelines").join(format!("{stem}.toml"))
        }
    };
    if out.exists() {
        bail!(
            "{} already exists; not overwriting it (move it away or pass -o)",
            out.display()
        );
    }
    let conn = source::open_readonly(sqlite)?;
    source::prefetch(sqlite);
    let t0 = std::time::Instant::now();
    // No integrity check up front: `check` and `run` make it before they
    // read for real (`run` before it touches the target), and the profile
    // below reads every row anyway. When a damaged file fails here,
    // quick_check's verdict is the clearer error.
    let explain = |e: anyhow::Error| match source::quick_check(&conn, sqlite) {
        Err(verdict) => verdict,
        Ok(()) => e,
    };
    let schema = introspect(&conn).map_err(explain)?;
    tracing::info!(
        "read the schema of {} table(s) ({:.1}s)",
        schema.tables.len(),
        t0.elapsed().as_secs_f64()
    );
    let t0 = std::time::Instant::now();
    let profiles = profile(sqlite, &schema, sample).map_err(explain)?;
    tracing::info!(
        "profiled every column of {} ({:.1}s)",
        sqlite.display(),
        t0.elapsed().as_secs_f64()
    );
    let out_dir = out
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    std::fs::create_dir_all(out_dir)
        .with_context(|| format!("cannot create directory {}", out_dir.display()))?;
    let (p, warnings) = build_pipeline(&schema, &profiles, sqlite, out_dir);
    let text = render(&p, &schema, &profiles, &warnings)?;
    // create_new: never clobber a file that appeared meanwhile.
    use std::io::Write;
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&out)
        .with_context(|| format!("cannot create {}", out.display()))?;
    f.write_all(text.as_bytes())
        .with_context(|| format!("cannot write {}", out.display()))?;
    Ok(out)
}

/// A number for a profile comment: plain when short, else scientific.
fn short_num(x: f64) -> String {
    if x == 0.0 || (x.abs() >= 1e-4 && x.abs() < 1e15) {
        format!("{x}")
    } else {
        format!("{x:e}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const LONG: &str = "a_table_name_that_is_exactly_seventy_bytes_long_for_the_pg_limit_test_";

    fn fixture(dir: &Path) -> PathBuf {
        assert_eq!(LONG.len(), 70);
        let path = dir.join("app.db");
        let c = Connection::open(&path).unwrap();
        c.execute_batch(&format!(
            r#"
            CREATE TABLE "User Accounts" (
              id INTEGER PRIMARY KEY AUTOINCREMENT,
              "Email" nvarchar(20) NOT NULL,
              "select" int(5) DEFAULT 0,
              big unsigned big int DEFAULT '30',
              ratio double,
              created datetime NOT NULL DEFAULT CURRENT_TIMESTAMP,
              seen datetime DEFAULT (datetime('now')),
              status TEXT DEFAULT 'pending' CHECK (status IN ('pending', 'done')),
              anything,
              active BOOLEAN NOT NULL DEFAULT 1 CHECK (active IN (0, 1)),
              "say ""hi""" text,
              deleted_at datetime,
              prefs JSON CHECK (json_valid(prefs)),
              UNIQUE ("Email")
            );
            CREATE INDEX ua_lower_email ON "User Accounts" (lower("Email"));
            CREATE INDEX ua_live ON "User Accounts" (status) WHERE deleted_at IS NULL;
            CREATE INDEX ua_glob ON "User Accounts" (status) WHERE status GLOB 'p*';
            CREATE TABLE "order" (
              id INTEGER PRIMARY KEY,
              account_id INTEGER NOT NULL REFERENCES "User Accounts"(id) ON DELETE CASCADE,
              total decimal(10,2) CHECK (total >= 0),
              fee decimal(4,2),
              tax decimal(6,2),
              note_amount decimal(6,2)
            );
            CREATE TABLE order_lines (
              order_id INTEGER REFERENCES "order"(id) ON DELETE CASCADE ON UPDATE RESTRICT,
              line int,
              sku "quoted""type",
              PRIMARY KEY (order_id, line)
            ) WITHOUT ROWID;
            CREATE TABLE line_notes (
              order_id int, line int, note text,
              FOREIGN KEY (order_id, line) REFERENCES order_lines ON DELETE CASCADE
            );
            CREATE TABLE "{LONG}" (x INTEGER PRIMARY KEY, "{LONG}col" text);
            CREATE INDEX "{LONG}_index" ON "{LONG}" ("{LONG}col");
            CREATE VIEW open_orders AS SELECT * FROM "order";
            INSERT INTO "User Accounts"("Email", created, anything) VALUES ('a@x', 1700000000, 1), ('b@x', 1700000001, 2);
            INSERT INTO "User Accounts"("Email", created) VALUES ('gone', 0);
            DELETE FROM "User Accounts" WHERE "Email" = 'gone';
            INSERT INTO "order"(account_id, total, fee, tax, note_amount) VALUES (1, 9.5, 1.234, 123, '12.50');
            INSERT INTO "order"(account_id, total, fee, tax, note_amount) VALUES (1, 0, 100, -12.25, '1234.5');
            "#
        ))
        .unwrap();
        path
    }

    fn built(dir: &Path) -> (SourceSchema, Profiles, Pipeline, Vec<String>) {
        let db = fixture(dir);
        let conn = source::open_checked(&db).unwrap();
        let schema = introspect(&conn).unwrap();
        let prof = profile(&db, &schema, None).unwrap();
        let (p, w) = build_pipeline(&schema, &prof, &db, dir);
        (schema, prof, p, w)
    }

    #[test]
    fn builds_the_expected_pipeline() {
        let dir = tempfile::tempdir().unwrap();
        let (_, _, p, w) = built(dir.path());
        let names: Vec<_> = p.table_maps.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(
            names,
            ["User Accounts", LONG, "order", "order_lines", "line_notes"],
            "parents first"
        );
        let ua = &p.table_maps[0].1;
        assert_eq!(ua.primary_key, ["id"]);
        let col = |n: &str| &ua.columns[n];
        assert!(col("id").identity && col("id").pg_type == "bigint");
        assert_eq!(col("Email").pg_type, "text");
        assert!(col("Email").not_null);
        assert_eq!(col("select").pg_type, "bigint");
        assert_eq!(col("select").default.as_deref(), Some("0"));
        assert_eq!(col("big").default.as_deref(), Some("30"));
        assert_eq!(col("ratio").pg_type, "double precision");
        assert_eq!(col("created").pg_type, "timestamptz");
        assert_eq!(col("created").default.as_deref(), Some("CURRENT_TIMESTAMP"));
        assert_eq!(col("created").epoch, Some(EpochUnit::S));
        assert_eq!(col("seen").default.as_deref(), Some("CURRENT_TIMESTAMP"));
        assert_eq!(col("status").default.as_deref(), Some("'pending'"));
        assert_eq!(col("anything").pg_type, "bigint", "untyped, profiled");
        assert_eq!(col("active").pg_type, "boolean");
        assert_eq!(col("active").default.as_deref(), Some("true"));
        assert_eq!(
            ua.checks,
            ["\"status\" IN ('pending', 'done')"],
            "boolean IN (0,1) is implied"
        );
        let ix: Vec<_> = ua.indexes.iter().map(|i| i.name.as_str()).collect();
        assert_eq!(ix, ["User Accounts_Email_key", "ua_live", "ua_lower_email"]);
        assert!(ua.indexes[0].unique);
        assert_eq!(ua.indexes[0].columns, ["Email"]);
        assert_eq!(
            ua.indexes[1].predicate.as_deref(),
            Some("\"deleted_at\" IS NULL")
        );
        assert_eq!(ua.indexes[2].columns, ["(lower(\"Email\"))"]);
        assert!(w.iter().any(|w| w.contains("ua_glob")), "{w:?}");
        assert!(!w.iter().any(|w| w.contains("json_valid")), "{w:?}");
        assert_eq!(col("prefs").pg_type, "jsonb");

        let long = &p.table_maps[1].1;
        let t = long.target.as_deref().unwrap();
        assert!(t.len() <= 63 && t.starts_with("a_table_name"));
        let lc = &long.columns[&format!("{LONG}col")];
        assert!(lc.target.as_ref().unwrap().len() <= 63);
        assert!(long.indexes[0].name.len() <= 63);
        assert_ne!(long.indexes[0].name, t);

        let order = &p.table_maps[2].1;
        assert_eq!(order.columns["total"].pg_type, "numeric(10,2)");
        assert_eq!(
            order.columns["fee"].pg_type, "numeric",
            "1.234 and 100 do not fit (4,2)"
        );
        assert_eq!(order.columns["tax"].pg_type, "numeric(6,2)");
        assert_eq!(order.columns["note_amount"].pg_type, "numeric(6,2)");
        assert!(w.iter().any(|w| w.contains("`order`.`fee`")), "{w:?}");
        // AUTOINCREMENT handed out ids up to 3 but the largest left is 2:
        // the identity must restart above 3.
        assert!(
            p.table_maps
                .iter()
                .flat_map(|(_, t)| t.columns.values())
                .any(|c| c.identity && c.sequence_floor == Some(3)),
            "{:?}",
            p.table_maps
        );
        assert_eq!(order.checks, ["\"total\" >= 0"]);
        let fk = &order.foreign_keys[0];
        assert_eq!(fk.references, "User Accounts");
        assert_eq!(fk.columns, ["account_id"]);
        assert_eq!(fk.ref_columns, ["id"]);
        assert_eq!(fk.on_delete.as_deref(), Some("cascade"));
        assert_eq!(fk.on_update, None);

        let ol = &p.table_maps[3].1;
        assert!(ol.without_rowid);
        assert_eq!(ol.primary_key, ["order_id", "line"]);
        assert_eq!(ol.columns["sku"].pg_type, "numeric");
        assert_eq!(ol.foreign_keys[0].on_update.as_deref(), Some("restrict"));

        let ln = &p.table_maps[4].1;
        assert_eq!(ln.foreign_keys[0].references, "order_lines");
        assert_eq!(ln.foreign_keys[0].ref_columns, ["order_id", "line"]);
        assert_eq!(p.source.path, dir.path().join("app.db"));
    }

    #[test]
    fn render_parses_back_to_the_same_tables() {
        let dir = tempfile::tempdir().unwrap();
        let (schema, prof, p, w) = built(dir.path());
        let text = render(&p, &schema, &prof, &w).unwrap();
        if std::env::var_os("SHOW_INIT").is_some() {
            println!("{text}");
        }
        assert!(text.starts_with("# sqlite2pg mapping file"), "{text}");
        assert!(
            text.contains("views are not moved: `open_orders`"),
            "{text}"
        );
        assert!(
            text.contains(
                "# source table `User Accounts` — rows: 2, AUTOINCREMENT (sqlite_sequence: 3)"
            ),
            "{text}"
        );
        assert!(
            text.contains("# declared: datetime, NOT NULL, default CURRENT_TIMESTAMP\n"),
            "{text}"
        );
        assert!(
            text.contains("# declared: (no type)\n# cells: 2 integer"),
            "{text}"
        );
        let q = Pipeline::parse(&text, &dir.path().join("app.toml")).unwrap();
        assert_eq!(q.table_maps.len(), p.table_maps.len());
        for ((a, x), (b, y)) in p.table_maps.iter().zip(&q.table_maps) {
            assert_eq!(a, b);
            assert_eq!(format!("{x:?}"), format!("{y:?}"), "table {a}");
        }
        assert_eq!(q.source_path(), dir.path().join("app.db"));
    }

    #[test]
    fn run_init_writes_once() {
        let dir = tempfile::tempdir().unwrap();
        let db = fixture(dir.path());
        let out = dir.path().join("pipelines/app.toml");
        let written = run_init(&db, Some(&out), None).unwrap();
        assert_eq!(written, out);
        let p = Pipeline::load(&out).unwrap();
        assert_eq!(p.table_maps.len(), 5);
        let e = run_init(&db, Some(&out), None).unwrap_err().to_string();
        assert!(e.contains("already exists"), "{e}");
    }

    #[test]
    fn relative_source_paths() {
        let dir = tempfile::tempdir().unwrap();
        let base = dir.path().canonicalize().unwrap();
        std::fs::create_dir_all(base.join("data")).unwrap();
        std::fs::create_dir_all(base.join("pipelines")).unwrap();
        std::fs::write(base.join("data/x.db"), b"").unwrap();
        let cwd = std::env::current_dir().unwrap();
        // Relative to the current directory: express it from there.
        let rel_src = pathdiff_for_test(&base.join("data/x.db"), &cwd);
        let r = relative_source(&rel_src, &base.join("pipelines"));
        assert_eq!(r, PathBuf::from("../data/x.db"));
        assert_eq!(
            relative_source(&base.join("data/x.db"), Path::new("pipelines")),
            base.join("data/x.db")
        );
    }

    fn pathdiff_for_test(p: &Path, base: &Path) -> PathBuf {
        let s: Vec<_> = p.components().collect();
        let d: Vec<_> = base.components().collect();
        let common = s.iter().zip(&d).take_while(|(a, b)| a == b).count();
        let mut r = PathBuf::new();
        for _ in common..d.len() {
            r.push("..");
        }
        for c in &s[common..] {
            r.push(c.as_os_str());
        }
        r
    }

    #[test]
    fn text_formats_are_counted() {
        let mut f = TextFormats::default();
        let cells: &[&str] = &[
            "2024-05-01 10:00:00",
            "2024-05-01",
            " 42 ",
            "-7",
            "3.25",
            "+.5",
            "1.2.3",
            ".",
            "Yes",
            "off",
            r#"{"a": [1, 2]}"#,
            "[1, 2",
            "67e55044-10b1-426f-9247-bb680e5fe0c8",
            "67e5504410b1426f9247bb680e5fe0c8",
            "{67e55044-10b1-426f-9247-bb680e5fe0c8}",
            "urn:uuid:67e55044-10b1-426f-9247-bb680e5fe0c8",
            "67e55044-10b1-426f-9247-bb680e5fe0c8 and more text after it",
            "a sentence. With one full stop",
            "",
        ];
        for c in cells {
            f.add(c.as_bytes());
        }
        let want = TextFormats {
            iso_timestamp: 2,
            integer: 2,
            decimal: 2,
            boolean: 2,
            json: 1,
            uuid: 4,
        };
        assert_eq!(f, want);
    }

    #[test]
    fn epoch_detection() {
        let p = |lo: f64, hi: f64, real: u64| ColumnProfile {
            integer: 1,
            real,
            min_number: Some(lo),
            max_number: Some(hi),
            ..Default::default()
        };
        assert_eq!(detect_epoch(&p(0.0, 1.7e9, 0)), Some(EpochUnit::S));
        assert_eq!(detect_epoch(&p(1.6e12, 1.7e12, 0)), Some(EpochUnit::Ms));
        assert_eq!(detect_epoch(&p(1.6e15, 1.7e15, 0)), Some(EpochUnit::Us));
        assert_eq!(detect_epoch(&p(1.6e9, 1.7e12, 0)), Some(EpochUnit::Auto));
        assert_eq!(
            detect_epoch(&p(2_459_000.5, 2_460_000.25, 1)),
            Some(EpochUnit::JulianDay)
        );
        assert_eq!(detect_epoch(&ColumnProfile::default()), None);
    }

    #[test]
    fn odd_names_round_trip() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("odd.db");
        let c = Connection::open(&path).unwrap();
        c.execute_batch(
            r#"
            CREATE TABLE "we""ird.na me" ("it's" TEXT, "new
line" INT, "ü" ANY, "Ä" REAL, [x y] BLOB DEFAULT X'00FF', "a.b" text DEFAULT 'x\y',
              "only gen" INT GENERATED ALWAYS AS (1) STORED);
            CREATE TABLE gen_only (g INT GENERATED ALWAYS AS (2) VIRTUAL, dummy);
            CREATE INDEX "idx ""q""" ON "we""ird.na me" ("it's" DESC, "ü");
            INSERT INTO "we""ird.na me" ("it's", "ü") VALUES ('a', x'01'), ('b', 'text');
            "#,
        )
        .unwrap();
        drop(c);
        let out = dir.path().join("odd.toml");
        run_init(&path, Some(&out), None).unwrap();
        let text = std::fs::read_to_string(&out).unwrap();
        let p = Pipeline::parse(&text, &out).unwrap();
        let t = p.table("we\"ird.na me").unwrap();
        let names: Vec<_> = t.columns.keys().cloned().collect();
        assert_eq!(
            names,
            ["it's", "new\nline", "ü", "Ä", "x y", "a.b", "only gen"]
        );
        assert_eq!(t.columns["ü"].pg_type, "text", "ANY with mixed cells");
        assert_eq!(
            t.columns["x y"].default.as_deref(),
            Some("'\\x00ff'::bytea")
        );
        assert_eq!(t.columns["a.b"].default.as_deref(), Some("E'x\\\\y'"));
        assert!(!t.columns["only gen"].include);
        assert_eq!(t.indexes[0].name, "idx \"q\"");
        assert_eq!(t.indexes[0].columns, ["(\"it's\") DESC", "ü"]);
        assert!(
            p.table("gen_only").unwrap().include,
            "dummy is still movable"
        );
    }
}
