//! One source table's map for `init`: its columns (type, identity or
//! default, epoch, generated expression), its primary key (a UNIQUE index
//! when it holds NULLs), indexes, foreign keys and CHECKs, each written
//! over the target names (`names`), with a warning for what is not carried
//! over.

use super::checks::adapt_check;
use super::choose::detect_epoch;
use super::collation::unique_nocase;
use super::epoch_origin::Origin;
use super::extras::{generated_def, nocase_warnings};
use super::names::TableNames;
use super::profile::ColumnProfile;
use crate::config::mapping::{
    ColumnMap, Defaults, Deferrable, EpochUnit, ForeignKeyDef, IndexDef, TableMap,
};
use crate::pg::types::PgType;
use crate::pg::{fk_types, ident};
use crate::sqlite::schema::model::{
    IndexPart, SourceColumn, SourceForeignKey, SourceIndex, SourceSchema, SourceTable,
};
use crate::sqlite::sql::lexer::{tokenize, Tok};
use crate::sqlite::sql::typemap::{translate_default_in, translate_expr_with};
use std::collections::{HashMap, HashSet};

/// What one table's map is built from, and what it adds to: the schema's
/// relation names (`taken`) and the warnings.
pub(super) struct TableMapBuilder<'a> {
    pub(super) schema: &'a SourceSchema,
    pub(super) names: &'a HashMap<String, TableNames>,
    pub(super) table: &'a SourceTable,
    pub(super) profile: Option<&'a HashMap<String, ColumnProfile>>,
    pub(super) taken: &'a mut HashSet<String>,
    pub(super) warnings: &'a mut Vec<String>,
    /// The file's origin, where it gives its epochs another base.
    pub(super) origin: Option<Origin>,
}

impl TableMapBuilder<'_> {
    pub(super) fn build(mut self) -> TableMap {
        let (t, names) = (self.table, self.names);
        let table_names = &names[&t.name];
        let mut map = TableMap {
            target: (table_names.target != t.name).then(|| table_names.target.clone()),
            include: true,
            without_rowid: t.without_rowid,
            ..Default::default()
        };
        for c in t.columns.iter().filter(|c| c.hidden != 1) {
            let column = self.column_map(table_names, c);
            map.columns.insert(c.name.clone(), column);
        }
        map.primary_key = t
            .primary_key
            .iter()
            .filter_map(|p| table_names.col(p).map(|c| c.target.clone()))
            .collect();
        self.primary_key_with_nulls(table_names, &mut map);
        self.index_maps(table_names, &mut map);
        self.foreign_key_maps(table_names, &mut map);
        self.check_maps(table_names, &mut map);
        if !map.columns.values().any(|c| c.include) {
            map.include = false;
            self.warnings.push(format!(
                "table `{}` has no column that can be moved: excluded",
                t.name
            ));
        }
        map
    }

    /// The indexes that translate, and a warning for each collation they
    /// do not keep.
    fn index_maps(&mut self, table_names: &TableNames, map: &mut TableMap) {
        let t = self.table;
        for ix in &t.indexes {
            match index_def(table_names, ix, self.taken) {
                Ok(def) => map.indexes.push(def),
                Err(why) => self.warnings.push(format!(
                    "index `{}` on `{}` not carried over: {why}",
                    ix.name, t.name
                )),
            }
        }
        self.warnings.extend(nocase_warnings(t, table_names));
    }

    fn foreign_key_maps(&mut self, table_names: &TableNames, map: &mut TableMap) {
        let t = self.table;
        for fk in &t.foreign_keys {
            match self.foreign_key_map(table_names, fk) {
                Ok(def) => map.foreign_keys.push(def),
                Err(why) => self.warnings.push(format!(
                    "foreign key ({}) of `{}` → `{}` not carried over: {why}",
                    fk.columns.join(", "),
                    t.name,
                    fk.ref_table
                )),
            }
        }
    }

    /// The CHECKs, `length()`/`typeof()` adapted to the types chosen, then
    /// translated; those the target type implies are left out.
    fn check_maps(&mut self, table_names: &TableNames, map: &mut TableMap) {
        let t = self.table;
        for chk in &t.checks {
            let ty_of = |n: &str| {
                table_names
                    .col(n)
                    .filter(|c| c.include)
                    .map(|c| c.ty.clone())
            };
            match check_def(table_names, &adapt_check(chk, &ty_of)) {
                Ok(Some(c)) => map.checks.push(c),
                Ok(None) => {}
                Err(why) => self.warnings.push(format!(
                    "CHECK ({chk}) on `{}` not carried over: {why}",
                    t.name
                )),
            }
        }
    }

    fn column_map(&mut self, table_names: &TableNames, c: &SourceColumn) -> ColumnMap {
        let info = table_names.col(&c.name).expect("column info");
        let mut map = ColumnMap {
            target: (info.target != c.name).then(|| info.target.clone()),
            pg_type: info.ty.to_string(),
            include: info.include,
            not_null: c.not_null,
            auto: info.auto,
            ..Default::default()
        };
        if c.hidden >= 2 {
            map.generated = self.generated(table_names, c, &info.ty);
        }
        if self.is_identity(c) && info.ty.is_integer() {
            map.identity = true;
            map.sequence_floor = self.sequence_floor(c);
        } else if let Some(raw) = &c.default {
            map.default = self.default(c, raw, &info.ty);
        }
        if matches!(
            info.ty,
            PgType::Timestamptz | PgType::Timestamp | PgType::Date
        ) {
            (map.epoch, map.epoch_base) = self.epoch(c);
        }
        map
    }

    /// A SQLite generated column: PostgreSQL's `GENERATED ALWAYS AS (…)
    /// STORED` when its expression translates, else its values copied.
    fn generated(
        &mut self,
        table_names: &TableNames,
        c: &SourceColumn,
        ty: &PgType,
    ) -> Option<String> {
        let t = self.table;
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
        match generated_def(table_names, t, c, ty) {
            Ok(pg) => {
                self.warnings.push(format!(
                    "`{}`.`{}`: generated column{expr} {kind} → GENERATED ALWAYS AS ({pg}) STORED: computed by PostgreSQL for every row (not copied); `verify` compares its values with SQLite's",
                    t.name, c.name
                ));
                Some(pg)
            }
            Err(why) => {
                self.warnings.push(format!(
                    "`{}`.`{}`: generated column{expr} {kind}: loaded as a plain column, its values copied ({why}); PostgreSQL will not compute it for new rows (make it GENERATED ALWAYS AS (…) STORED by hand to have it computed)",
                    t.name, c.name
                ));
                None
            }
        }
    }

    /// The rowid alias, or the single AUTOINCREMENT key column.
    fn is_identity(&self, c: &SourceColumn) -> bool {
        let t = self.table;
        t.rowid_alias.as_deref() == Some(c.name.as_str())
            || (t.autoincrement && t.primary_key.len() == 1 && c.pk_position == 1)
    }

    /// Ids up to `sqlite_sequence` were handed out and some deleted: the
    /// identity must restart above them.
    fn sequence_floor(&self, c: &SourceColumn) -> Option<i64> {
        let t = self.table;
        let max = self
            .profile
            .and_then(|p| p.get(&c.name))
            .and_then(|p| p.max_number);
        match (t.sequence, t.autoincrement) {
            (Some(seq), true) if max.is_none_or(|m| (seq as f64) > m) => Some(seq),
            _ => None,
        }
    }

    fn default(&mut self, c: &SourceColumn, raw: &str, ty: &PgType) -> Option<String> {
        let t = self.table;
        // Local time is the pipeline's timezone (UTC as init writes it; the
        // note says to change it with it).
        let tz = Defaults::default().timezone;
        match translate_default_in(raw, ty, &tz) {
            Ok(d) => {
                if let Some(n) = d.note {
                    self.warnings
                        .push(format!("`{}`.`{}`: {n}", t.name, c.name));
                }
                d.default
            }
            Err(e) => {
                let not_null = if c.not_null {
                    " and stays NOT NULL: check refuses the mapping until you write a PostgreSQL \
                     `default` for it or set not_null = false"
                } else {
                    ""
                };
                self.warnings.push(format!(
                    "`{}`.`{}`: {e}; dropped, the column has no default{not_null}",
                    t.name, c.name
                ));
                None
            }
        }
    }

    /// The unit of a date/time column's numbers and the base they count
    /// from (the file's origin's, else Unix), said with one number as it
    /// will read, and where some of them read as another unit.
    fn epoch(&mut self, c: &SourceColumn) -> (Option<EpochUnit>, Option<String>) {
        let cells = self.profile.and_then(|p| p.get(&c.name));
        let known = self.origin.and_then(|o| o.column(self.table, &c.name));
        let unit = match known {
            Some(k) => k
                .unit
                .or_else(|| cells.and_then(|p| p.epoch_bands.decide())),
            None => cells.and_then(detect_epoch),
        };
        let (Some(unit), Some(p)) = (unit, cells) else {
            return (unit, None);
        };
        let base = known.map(|k| k.base);
        let at = format!("`{}`.`{}`: epoch", self.table.name, c.name);
        if let Some(said) = epoch_said(unit, base, p) {
            self.warnings.push(format!("{at}: {said}"));
        }
        if let Some(why) = p.epoch_bands.disagreement(unit) {
            self.warnings.push(format!("{at}: {why}"));
        }
        (Some(unit), base.map(String::from))
    }

    /// SQLite allows NULLs in a declared PRIMARY KEY (outside rowid
    /// aliases and WITHOUT ROWID); PostgreSQL does not. Every row is kept:
    /// the key becomes a UNIQUE index, which allows NULLs.
    fn primary_key_with_nulls(&mut self, table_names: &TableNames, map: &mut TableMap) {
        let t = self.table;
        let pk_nulls: Vec<(&String, u64)> = t
            .primary_key
            .iter()
            .filter_map(|c| {
                let n = self.profile.and_then(|p| p.get(c)).map_or(0, |p| p.null);
                (n > 0).then_some((c, n))
            })
            .collect();
        if pk_nulls.is_empty() || map.primary_key.is_empty() {
            return;
        }
        let mut parts: Vec<&str> = vec![table_names.target.as_str()];
        parts.extend(map.primary_key.iter().map(String::as_str));
        parts.push("key");
        let name = ident::derived(&parts, self.taken);
        self.warnings.push(format!(
            "`{}`: primary key ({}) holds NULLs ({}), which a PostgreSQL primary key cannot: every row is kept and the key becomes the UNIQUE index `{name}` (NULLs allowed)",
            t.name,
            t.primary_key.join(", "),
            pk_nulls
                .iter()
                .map(|(c, n)| format!("{n} in `{c}`"))
                .collect::<Vec<_>>()
                .join(", ")
        ));
        map.indexes.push(IndexDef {
            name,
            columns: std::mem::take(&mut map.primary_key),
            unique: true,
            predicate: None,
        });
    }

    /// A foreign key over moved columns of comparable types, referencing the
    /// parent's primary key or a unique index; else why not.
    fn foreign_key_map(
        &mut self,
        table_names: &TableNames,
        fk: &SourceForeignKey,
    ) -> Result<ForeignKeyDef, String> {
        let (schema, names) = (self.schema, self.names);
        let parent = schema
            .table(&fk.ref_table)
            .ok_or("no such table in the source")?;
        let ref_cols: Vec<String> = if fk.ref_columns.is_empty() {
            parent.primary_key.clone()
        } else {
            fk.ref_columns.clone()
        };
        if ref_cols.is_empty() || ref_cols.len() != fk.columns.len() {
            return Err(format!("`{}` has no primary key to reference", parent.name));
        }
        let (cols, pcols) = key_columns(
            table_names,
            &names[&parent.name],
            &parent.name,
            fk,
            &ref_cols,
        )?;
        if !is_unique_key(parent, &ref_cols) {
            return Err(format!(
                "({}) is neither the primary key nor a unique index of `{}` (PostgreSQL requires one)",
                ref_cols.join(", "),
                parent.name
            ));
        }
        let action = |a: &str| {
            let a = a.trim().to_ascii_lowercase();
            (a != "no action" && !a.is_empty()).then_some(a)
        };
        let mut parts: Vec<&str> = vec![table_names.target.as_str()];
        parts.extend(cols.iter().map(String::as_str));
        parts.push("fkey");
        Ok(ForeignKeyDef {
            name: Some(ident::derived(&parts, self.taken)),
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
        })
    }
}

/// How a column's numbers will read: the unit, the base, and its largest
/// number as PostgreSQL will print it (`None` without numbers).
fn epoch_said(unit: EpochUnit, base: Option<&str>, p: &ColumnProfile) -> Option<String> {
    use crate::convert::{ConvertOptions, Converter};
    let sample = p.max_number?;
    let base_us = match base {
        Some(b) => crate::convert::epoch::base_micros(b, Some(unit)).ok()?,
        None => 0,
    };
    let conv = Converter::new(
        PgType::Timestamptz,
        ConvertOptions {
            epoch: Some(unit),
            epoch_base_us: base_us,
            ..ConvertOptions::default()
        },
    );
    let reads = conv
        .epoch_reading(sample)
        .unwrap_or_else(|| "out of range".into());
    let what = match unit {
        EpochUnit::JulianDay => "Julian day numbers".to_string(),
        u => format!(
            "{} since {} (epoch = \"{}\"{})",
            crate::convert::epoch::range_name(u),
            base.unwrap_or("1970-01-01"),
            crate::convert::epoch::unit_name(u),
            base.map(|b| format!(", epoch_base = \"{b}\""))
                .unwrap_or_default()
        ),
    };
    Some(format!(
        "its numbers are read as {what}: {sample} reads {reads}; change `epoch` or `epoch_base` if that is not the date meant"
    ))
}

/// The target names of a key's columns and of the parent columns they
/// reference, pair by pair; the last pair's problem when PostgreSQL would
/// refuse a pair.
fn key_columns(
    table_names: &TableNames,
    parent_names: &TableNames,
    parent: &str,
    fk: &SourceForeignKey,
    ref_cols: &[String],
) -> Result<(Vec<String>, Vec<String>), String> {
    let mut cols = Vec::new();
    let mut pcols = Vec::new();
    let mut problem = None;
    for (c, p) in fk.columns.iter().zip(ref_cols) {
        let ci = table_names.col(c).filter(|x| x.include);
        let pi = parent_names.col(p).filter(|x| x.include);
        match (ci, pi) {
            (Some(ci), Some(pi)) => {
                // PostgreSQL's own rule (a citext child of a text parent
                // compares as text, as SQLite compares with the parent's
                // collation).
                if !fk_types::accepts(&pi.ty, &ci.ty) {
                    problem = Some(fk_types::refusal(c, p, &pi.ty, &ci.ty));
                }
                cols.push(ci.target.clone());
                pcols.push(pi.target.clone());
            }
            (None, _) => problem = Some(format!("no moved column `{c}`")),
            (_, None) => problem = Some(format!("`{parent}` has no moved column `{p}`")),
        }
    }
    match problem {
        Some(p) => Err(p),
        None => Ok((cols, pcols)),
    }
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

/// Translate an expression of a table to PostgreSQL over its target names,
/// refusing column uses whose meaning depends on SQLite's storage.
fn expr(table_names: &TableNames, sql: &str) -> Result<String, String> {
    let mut unknown = None;
    let mut resolve = |n: &str| match table_names.col(n) {
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
        let ty = table_names
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
fn check_def(table_names: &TableNames, chk: &str) -> Result<Option<String>, String> {
    if let Ok(toks) = tokenize(chk) {
        let col = toks.first().and_then(|t| match &t.tok {
            Tok::Word(n) | Tok::Quoted { name: n, .. } => table_names.col(n),
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
                Tok::Word(n) | Tok::Quoted { name: n, .. } => table_names.col(n),
                _ => None,
            };
            if col.is_some_and(|c| matches!(c.ty, PgType::Jsonb | PgType::Json)) {
                return Ok(None);
            }
        }
    }
    expr(table_names, chk).map(Some)
}

fn index_def(
    table_names: &TableNames,
    ix: &SourceIndex,
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
                let c = table_names
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
                let e =
                    expr(table_names, sql).map_err(|why| format!("expression `{sql}` {why}"))?;
                columns.push(format!("({e}){}", if *desc { " DESC" } else { "" }));
            }
        }
    }
    if columns.is_empty() {
        return Err("no indexed columns found".into());
    }
    let predicate = match &ix.partial_where {
        Some(w) => Some(expr(table_names, w).map_err(|why| format!("WHERE `{w}` {why}"))?),
        None => None,
    };
    let name = if ix.origin == "c" && ix.name.len() <= ident::MAX_IDENT_BYTES {
        ix.name.clone() // reserved in `taken` already
    } else if ix.origin == "c" {
        ident::fit(&ix.name, taken)
    } else {
        // UNIQUE constraint: PostgreSQL's naming, `<table>_<cols>_key`.
        let mut parts: Vec<String> = vec![table_names.target.clone()];
        for p in &ix.columns {
            if let IndexPart::Column { name, .. } = p {
                parts.push(
                    table_names
                        .col(name)
                        .map(|c| c.target.clone())
                        .unwrap_or_default(),
                );
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
