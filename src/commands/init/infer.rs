//! Inference for `init`: from the introspected schema and the column
//! profiles, the pipeline to propose: target names that fit PostgreSQL,
//! types, defaults, identities and epochs, and the keys, indexes and CHECKs
//! that can be carried over (with a warning for each one that cannot).

use super::choose::choose_type;
use super::extras::{
    citext_to_children, collation_choice, generated_def, is_plain_text, nocase_warnings,
};
use super::profile::{ColumnProfile, Profiles};
use crate::config::mapping::{
    ColumnMap, Deferrable, EpochUnit, ForeignKeyDef, IndexDef, Pipeline, SourceConfig, TableMap,
};
use crate::pg::ident;
use crate::pg::types::PgType;
use crate::sqlite::schema::model::{IndexPart, SourceSchema, SourceTable};
use crate::sqlite::sql::lexer::{tokenize, Tok};
use crate::sqlite::sql::typemap::{translate_default_in, translate_expr_with};
use std::collections::{HashMap, HashSet};
use std::path::{Component, Path, PathBuf};

/// The unit of the numbers in a date/time column, from their range.
pub(super) fn detect_epoch(p: &ColumnProfile) -> Option<EpochUnit> {
    if p.integer + p.real == 0 {
        return None;
    }
    let (lo, hi) = (p.min_number?, p.max_number?);
    // Julian day numbers of 1762..2501; as Unix seconds they would all be
    // in January 1970.
    if (2_365_000.0..=2_635_000.0).contains(&lo) && (2_365_000.0..=2_635_000.0).contains(&hi) {
        return Some(EpochUnit::JulianDay);
    }
    // One unit for the column, from where all of its numbers fall (never
    // per value: a seconds column's year-10000 sentinel is not "ms").
    p.epoch_bands.decide()
}

fn cp_max(prof: Option<&HashMap<String, ColumnProfile>>, col: &str) -> Option<f64> {
    prof.and_then(|p| p.get(col)).and_then(|p| p.max_number)
}

/// Source column name → (target name, target type, included).
pub(super) struct ColInfo {
    pub(super) target: String,
    pub(super) ty: PgType,
    pub(super) include: bool,
}

pub(super) struct TableNames {
    pub(super) target: String,
    pub(super) cols: Vec<(String, ColInfo)>,
}

impl TableNames {
    pub(super) fn col(&self, name: &str) -> Option<&ColInfo> {
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
    build_pipeline_with(schema, profiles, source_path, out_dir, false)
}

/// [`build_pipeline`]; with `keep_declared`, every column keeps its
/// declared type's mapping (no typed upgrades, no widening to what the
/// cells hold), for faithful text moves.
pub fn build_pipeline_with(
    schema: &SourceSchema,
    profiles: &Profiles,
    source_path: &Path,
    out_dir: &Path,
    keep_declared: bool,
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
            let ctarget = if ident::SYSTEM_COLUMNS.contains(&c.name.as_str()) {
                let mut f = format!("{}_", c.name);
                while col_taken.contains(&f) {
                    f.push('_');
                }
                col_taken.insert(f.clone());
                warnings.push(format!(
                    "column `{}`.`{}` has the name of a PostgreSQL system column: renamed to `{f}`",
                    t.name, c.name
                ));
                f
            } else if c.name.len() <= ident::MAX_IDENT_BYTES {
                c.name.clone()
            } else {
                let f = ident::fit(&c.name, &mut col_taken);
                warnings.push(format!(
                    "column `{}`.`{}` is longer than 63 bytes: renamed to `{f}`",
                    t.name, c.name
                ));
                f
            };
            // The cells decide; the declared name guides (see `choose`).
            let cp = prof.and_then(|p| p.get(&c.name));
            let choice = choose_type(&c.declared_type, cp, keep_declared);
            if let Some(note) = &choice.note {
                warnings.push(format!("`{}`.`{}`: {note}", t.name, c.name));
            }
            let mut ty = choice.ty;
            if let Some(w) = collation_choice(&t.name, c, &mut ty) {
                warnings.push(w);
            }
            cols.push((
                c.name.clone(),
                ColInfo {
                    target: ctarget,
                    ty,
                    // Generated columns load as plain columns, their
                    // values copied (a warning says so below).
                    include: true,
                },
            ));
        }
        // PostgreSQL's limit of columns per table: those past it are
        // listed in the mapping, excluded, and named.
        let past: Vec<String> = cols
            .iter_mut()
            .filter(|(_, c)| c.include)
            .skip(1600)
            .map(|(name, c)| {
                c.include = false;
                name.clone()
            })
            .collect();
        if !past.is_empty() {
            warnings.push(format!(
                "table `{}` has {} columns; PostgreSQL allows 1600 per table: the last {} are excluded \
                 (include = false), from `{}` to `{}`; choose which to keep, or split the table",
                t.name,
                1600 + past.len(),
                past.len(),
                past[0],
                past[past.len() - 1]
            ));
        }
        names.insert(t.name.clone(), TableNames { target, cols });
    }
    warnings.extend(citext_to_children(schema, &mut names));
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
            if c.hidden >= 2 {
                let kind = if c.hidden == 3 { "STORED" } else { "VIRTUAL" };
                let expr = c
                    .generated
                    .as_deref()
                    .map(|e| {
                        format!(
                            " AS ({})",
                            e.split_whitespace().collect::<Vec<_>>().join(" ")
                        )
                    })
                    .unwrap_or_default();
                match generated_def(tn, t, c, &info.ty) {
                    Ok(pg) => {
                        warnings.push(format!(
                            "`{}`.`{}`: generated column{expr} {kind} → GENERATED ALWAYS AS ({pg}) STORED: computed by PostgreSQL for every row (not copied); `verify` compares its values with SQLite's",
                            t.name, c.name
                        ));
                        cm.generated = Some(pg);
                    }
                    Err(why) => warnings.push(format!(
                        "`{}`.`{}`: generated column{expr} {kind}: loaded as a plain column, its values copied ({why}); PostgreSQL will not compute it for new rows (make it GENERATED ALWAYS AS (…) STORED by hand to have it computed)",
                        t.name, c.name
                    )),
                }
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
                // Local time is the pipeline's timezone (UTC as init
                // writes it; the note says to change it with it).
                let tz = crate::config::mapping::Defaults::default().timezone;
                match translate_default_in(raw, &info.ty, &tz) {
                    Ok(d) => {
                        cm.default = d.default;
                        if let Some(n) = d.note {
                            warnings.push(format!("`{}`.`{}`: {n}", t.name, c.name));
                        }
                    }
                    Err(e) => warnings.push(format!(
                        "`{}`.`{}`: {e}; dropped, the column has no default",
                        t.name, c.name
                    )),
                }
            }
            if matches!(
                info.ty,
                PgType::Timestamptz | PgType::Timestamp | PgType::Date
            ) {
                let p = prof.and_then(|p| p.get(&c.name));
                cm.epoch = p.and_then(detect_epoch);
                if let Some(why) = p
                    .zip(cm.epoch)
                    .and_then(|(p, u)| p.epoch_bands.disagreement(u))
                {
                    warnings.push(format!("`{}`.`{}`: epoch: {why}", t.name, c.name));
                }
            }
            tm.columns.insert(c.name.clone(), cm);
        }
        tm.primary_key = t
            .primary_key
            .iter()
            .filter_map(|p| tn.col(p).map(|c| c.target.clone()))
            .collect();
        // SQLite allows NULLs in a declared PRIMARY KEY (outside rowid
        // aliases and WITHOUT ROWID); PostgreSQL does not. Keep every row:
        // the key becomes a UNIQUE constraint, which allows NULLs.
        let pk_nulls: Vec<(&String, u64)> = t
            .primary_key
            .iter()
            .filter_map(|c| {
                let n = prof.and_then(|p| p.get(c)).map_or(0, |p| p.null);
                (n > 0).then_some((c, n))
            })
            .collect();
        if !pk_nulls.is_empty() && !tm.primary_key.is_empty() {
            let mut parts: Vec<&str> = vec![tn.target.as_str()];
            parts.extend(tm.primary_key.iter().map(String::as_str));
            parts.push("key");
            let name = ident::derived(&parts, &mut taken);
            warnings.push(format!(
                "`{}`: primary key ({}) holds NULLs ({}), which a PostgreSQL primary key cannot: every row is kept and the key becomes the UNIQUE index `{name}` (NULLs allowed)",
                t.name,
                t.primary_key.join(", "),
                pk_nulls
                    .iter()
                    .map(|(c, n)| format!("{n} in `{c}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
            tm.indexes.push(IndexDef {
                name,
                columns: std::mem::take(&mut tm.primary_key),
                unique: true,
                predicate: None,
            });
        }

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
        for w in nocase_warnings(t, tn) {
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
                        // A citext child of a text parent compares as
                        // text (citext casts to text implicitly), as
                        // SQLite compares with the parent's collation.
                        let same = ci.ty == pi.ty
                            || (ci.ty.is_integer() && pi.ty.is_integer())
                            || (ci.ty == PgType::Citext && is_plain_text(&pi.ty));
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
                deferrable: fk.deferrable.map(|deferred| {
                    if deferred {
                        Deferrable::InitiallyDeferred
                    } else {
                        Deferrable::InitiallyImmediate
                    }
                }),
                ..Default::default()
            });
        }

        // CHECK constraints.
        for chk in &t.checks {
            // length()/typeof() adapted to the types chosen, then translated.
            let ty_of = |n: &str| tn.col(n).filter(|c| c.include).map(|c| c.ty.clone());
            match check_def(tn, &super::checks::adapt_check(chk, &ty_of)) {
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
            framework: None,
        },
        target: Default::default(),
        defaults: Default::default(),
        tables: Default::default(),
        views: Default::default(),
        table_maps,
        base_dir: out_dir.to_path_buf(),
        file: PathBuf::new(),
    };
    (pipeline, warnings)
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

/// A unique index's `COLLATE NOCASE` on a column that stays plain text:
/// kept as a unique index on `lower(column)` (a NOCASE column that became
/// citext compares without regard to case already).
pub(super) fn unique_nocase(unique: bool, collation: Option<&str>, ty: &PgType) -> bool {
    unique
        && collation.is_some_and(|c| c.eq_ignore_ascii_case("nocase"))
        && matches!(ty, PgType::Text | PgType::Varchar(_))
}

fn index_def(
    tn: &TableNames,
    ix: &crate::sqlite::schema::model::SourceIndex,
    taken: &mut HashSet<String>,
) -> Result<IndexDef, String> {
    let mut columns = Vec::new();
    for p in &ix.columns {
        match p {
            IndexPart::Column {
                name,
                desc,
                collation,
            } => {
                let c = tn
                    .col(name)
                    .filter(|c| c.include)
                    .ok_or_else(|| format!("column `{name}` is not moved"))?;
                let quoted = ident::quote(&c.target);
                columns.push(
                    match (*desc, unique_nocase(ix.unique, collation.as_deref(), &c.ty)) {
                        // Unique without regard to case, as in SQLite.
                        (d, true) => format!("(lower({quoted})){}", if d { " DESC" } else { "" }),
                        (true, false) => format!("({quoted}) DESC"),
                        (false, false) => c.target.clone(),
                    },
                );
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
pub(super) fn relative_source(source: &Path, out_dir: &Path) -> PathBuf {
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
