//! The resolved form of a mapping file: per table, the columns COPY loads (in
//! order, with target type and converter), the columns PostgreSQL fills from
//! defaults, and the keys, indexes and constraints `finalize` builds. The
//! rest of the program works from this, not from the raw TOML.

use crate::config::mapping::{
    fk_action, ColumnMap, CommitEvery, Defaults, ForeignKeyDef, IndexDef, OnNull, Pipeline,
    TableMap,
};
use crate::convert::cell::Cell;
use crate::convert::{ConvertOptions, Converter};
use crate::pg::ident;
use crate::pg::types::PgType;
use crate::pg::value::Value;
use anyhow::{anyhow, Result};
use std::collections::HashSet;

#[derive(Debug, Clone)]
pub struct ColumnPlan {
    pub source: String,
    pub target: String,
    pub ty: PgType,
    pub not_null: bool,
    pub default: Option<String>,
    pub identity: bool,
    pub sequence_floor: Option<i64>,
    pub converter: Converter,
    /// `on_null` of the mapping.
    pub on_null: Option<OnNull>,
    /// With `on_null = "default"`: the constant default, converted to the
    /// column's type, written for a NULL cell.
    pub null_value: Option<Value>,
    /// `init` chose the type on its own (`auto = true`): `check` proves
    /// every cell reads back the same.
    pub auto: bool,
}

#[derive(Debug, Clone)]
pub struct AddedColumn {
    pub name: String,
    pub ty: PgType,
    pub not_null: bool,
    pub default: Option<String>,
    /// Created right after this column (else after all others).
    pub after: Option<String>,
    /// `default` is a generation expression: `GENERATED ALWAYS AS
    /// (default) STORED`.
    pub generated: bool,
}

#[derive(Debug, Clone)]
pub struct ForeignKeyPlan {
    pub name: String,
    pub columns: Vec<String>,
    pub ref_table: String,
    pub ref_columns: Vec<String>,
    pub on_delete: Option<&'static str>,
    pub on_update: Option<&'static str>,
    /// `ref_table` is a table of the target outside the pipeline
    /// (`references_target`), not one this pipeline loads.
    pub outside: bool,
    /// An outside table that does not exist: the key is skipped (and the
    /// run says so) rather than failing finalize.
    pub if_exists: bool,
    pub deferrable: Option<crate::config::mapping::Deferrable>,
    /// Orphan rows the mapping acknowledges (`orphans = N`): the key stays
    /// NOT VALID. 0 when it says none.
    pub orphans: u64,
}

#[derive(Debug, Clone)]
pub struct TablePlan {
    pub source: String,
    pub target: String,
    pub schema: String,
    /// Loaded by COPY, in this order.
    pub columns: Vec<ColumnPlan>,
    /// Filled by PostgreSQL (defaults or NULL); also the generated columns
    /// (`generated`), created `GENERATED ALWAYS AS (…) STORED`.
    pub added: Vec<AddedColumn>,
    /// Columns PostgreSQL computes (the mapping's `generated`): never
    /// loaded, but `verify` hashes them with the loaded columns (SQLite's
    /// values against PostgreSQL's), in this order after them.
    pub generated: Vec<ColumnPlan>,
    pub filter: Option<String>,
    pub without_rowid: bool,
    /// The source is a view whose rows load into this table (`[views.NAME]
    /// action = "materialize"`).
    pub from_view: bool,
    /// The table's own setting, else the pipeline's default.
    pub commit_every: CommitEvery,
    /// Target names.
    pub primary_key: Vec<String>,
    pub pk_name: String,
    pub indexes: Vec<IndexDef>,
    pub foreign_keys: Vec<ForeignKeyPlan>,
    /// (constraint name, expression)
    pub checks: Vec<(String, String)>,
    /// Loading into an existing table: added columns filled with a constant
    /// (their `default` evaluated once), after the loaded columns.
    pub constants: Vec<(String, PgType, crate::pg::value::Value)>,
}

impl TablePlan {
    /// `"schema"."table"`.
    pub fn qualified(&self) -> String {
        ident::qualified(&self.schema, &self.target)
    }

    /// The row filter as SQLite SQL after `keyword` (`WHERE`, `AND`), or
    /// nothing when the table has none.
    pub fn filter_clause(&self, keyword: &str) -> String {
        self.filter
            .as_deref()
            .map(|f| format!(" {keyword} ({f})"))
            .unwrap_or_default()
    }

    /// Source columns of the primary key (for ordering WITHOUT ROWID tables
    /// and naming rejected rows).
    pub fn source_pk_positions(&self) -> Vec<usize> {
        self.primary_key
            .iter()
            .filter_map(|pk| self.columns.iter().position(|c| &c.target == pk))
            .collect()
    }

    /// Re-type the loaded columns from an existing target table's catalog
    /// (`target name → type`), keeping each column's conversion options.
    /// An `on_null = "default"` constant is converted to the actual type
    /// again; one that does not fit it is an error naming the column.
    pub fn retype(&mut self, actual: &[(String, PgType)]) -> Result<(), String> {
        for c in &mut self.columns {
            if let Some((_, ty)) = actual.iter().find(|(n, _)| n == &c.target) {
                if &c.ty != ty {
                    c.ty = ty.clone();
                    c.converter = Converter::new(ty.clone(), c.converter.opts.clone());
                    if c.null_value.is_some() {
                        let d = c.default.as_deref().unwrap_or_default();
                        c.null_value = Some(null_default_value(&c.converter, d).map_err(|e| {
                            format!(
                                "table {}, column {}: on_null = \"default\": {e}",
                                self.source, c.source
                            )
                        })?);
                    }
                }
            }
        }
        Ok(())
    }

    /// Column definitions in the order `CREATE TABLE` gives them: loaded
    /// columns in mapping order, each added column right after its `after`
    /// column (and the added columns already placed there), the others at
    /// the end. Each entry: (name, added column or not, index in its list).
    pub fn create_order(&self) -> Vec<(&str, bool, usize)> {
        let mut out: Vec<(&str, bool, usize, bool)> = self
            .columns
            .iter()
            .enumerate()
            .map(|(i, c)| (c.target.as_str(), false, i, false))
            .collect();
        for (i, a) in self.added.iter().enumerate() {
            let at = a
                .after
                .as_deref()
                .and_then(|after| out.iter().position(|e| e.0 == after))
                .map(|p| {
                    let mut at = p + 1;
                    while at < out.len() && out[at].3 {
                        at += 1;
                    }
                    at
                });
            match at {
                Some(at) => out.insert(at, (a.name.as_str(), true, i, true)),
                None => out.push((a.name.as_str(), true, i, false)),
            }
        }
        out.into_iter().map(|(n, a, i, _)| (n, a, i)).collect()
    }
}

/// The text of a constant default (`'pending'`, `'[]'::json`, `30`,
/// `-1.5`, `true`): the literal PostgreSQL would read, with its cast type
/// if it has one. `None` for anything PostgreSQL evaluates (a function,
/// an operator, `CURRENT_TIMESTAMP`).
pub fn constant_literal(expr: &str) -> Option<(String, Option<&str>)> {
    let e = expr.trim();
    let (lit, rest) = if let Some(body) = e.strip_prefix('\'') {
        let mut text = String::new();
        let mut chars = body.char_indices().peekable();
        let mut end = None;
        while let Some((i, ch)) = chars.next() {
            if ch == '\'' {
                if matches!(chars.peek(), Some((_, '\''))) {
                    chars.next();
                    text.push('\'');
                } else {
                    end = Some(i + 1);
                    break;
                }
            } else {
                text.push(ch);
            }
        }
        (text, &body[end?..])
    } else {
        let n = e
            .find(|ch: char| !(ch.is_ascii_alphanumeric() || "+-.".contains(ch)))
            .unwrap_or(e.len());
        let word = &e[..n];
        let numeric = {
            let d = word.strip_prefix(['-', '+']).unwrap_or(word);
            !d.is_empty()
                && d.chars().all(|ch| ch.is_ascii_digit() || ch == '.')
                && d.chars().filter(|&ch| ch == '.').count() <= 1
                && d != "."
        };
        if numeric {
            (word.to_string(), &e[n..])
        } else if word.eq_ignore_ascii_case("true") || word.eq_ignore_ascii_case("false") {
            (word.to_ascii_lowercase(), &e[n..])
        } else {
            return None;
        }
    };
    let rest = rest.trim();
    if rest.is_empty() {
        return Some((lit, None));
    }
    let cast = rest.strip_prefix("::")?.trim();
    (!cast.is_empty() && !cast.contains(['\'', ':'])).then_some((lit, Some(cast)))
}

/// The value written for a NULL cell under `on_null = "default"`: the
/// column's default, which must be a constant of the column's type,
/// converted by the column's own rules (without `json_wrap`).
pub fn null_default_value(conv: &Converter, default: &str) -> Result<Value, String> {
    let (lit, cast) = constant_literal(default).ok_or_else(|| {
        format!(
            "the default `{default}` is not a constant (a quoted literal, a number, true or false); \
             binary COPY cannot ask PostgreSQL to evaluate a default per row, so only a constant \
             can replace a NULL. Write the constant, or drop on_null to reject such rows"
        )
    })?;
    if let Some(cast) = cast {
        if PgType::parse(cast).ok().as_ref() != Some(&conv.ty) {
            return Err(format!(
                "the default `{default}` is cast to `{cast}`, not to the column's type {}; \
                 write the constant without a cast or cast to {}",
                conv.ty, conv.ty
            ));
        }
    }
    let mut opts = conv.opts.clone();
    opts.json_wrap = None;
    match Converter::new(conv.ty.clone(), opts).convert(&Cell::Text(lit.into_bytes())) {
        Ok(v) => Ok(v),
        Err(e) => Err(format!(
            "the default `{default}` does not convert to {}: {}",
            conv.ty, e.reason
        )),
    }
}

/// A column's conversion options: its own settings over `[defaults]`.
pub fn convert_options(
    defaults: &Defaults,
    col: Option<&ColumnMap>,
) -> Result<ConvertOptions, String> {
    let tz_name = col
        .and_then(|c| c.timezone.as_deref())
        .unwrap_or(&defaults.timezone);
    let timezone = tz_name
        .parse::<chrono_tz::Tz>()
        .map_err(|_| format!("unknown time zone `{tz_name}`"))?;
    let epoch = col.and_then(|c| c.epoch);
    let epoch_base_us = match col.and_then(|c| c.epoch_base.as_deref()) {
        None => 0,
        Some(b) => crate::convert::epoch::base_micros(b, epoch)?,
    };
    Ok(ConvertOptions {
        epoch,
        epoch_base_us,
        timezone,
        timestamp_formats: defaults.timestamp_formats.clone(),
        true_values: defaults
            .true_values
            .iter()
            .map(|s| s.to_lowercase())
            .collect(),
        false_values: defaults
            .false_values
            .iter()
            .map(|s| s.to_lowercase())
            .collect(),
        invalid_utf8: col
            .and_then(|c| c.invalid_utf8)
            .unwrap_or(defaults.invalid_utf8),
        json_wrap: col.and_then(|c| c.json_wrap.clone()),
    })
}

/// A view `finalize` creates (`action = "create"`), in mapping order.
#[derive(Debug, Clone)]
pub struct ViewPlan {
    pub name: String,
    pub schema: String,
    /// Its SELECT, in PostgreSQL syntax over target names.
    pub sql: String,
    /// The role that owns it (`--owner`, else `target.owner`), as the
    /// tables do.
    pub owner: Option<String>,
}

impl ViewPlan {
    pub fn qualified(&self) -> String {
        ident::qualified(&self.schema, &self.name)
    }
}

/// The views the pipeline creates.
pub fn views(p: &Pipeline) -> Vec<ViewPlan> {
    p.views
        .iter()
        .filter(|(_, v)| v.action == crate::config::mapping::ViewAction::Create)
        .map(|(name, v)| ViewPlan {
            name: name.clone(),
            schema: p.target.schema.clone(),
            sql: v.sql.clone().unwrap_or_default(),
            owner: p.target.owner.clone(),
        })
        .collect()
}

/// Resolve every included table of the pipeline.
pub fn plan(p: &Pipeline) -> Result<Vec<TablePlan>> {
    let mut taken = named_relations(p);
    p.included_tables()
        .map(|(source, table)| plan_table(p, source, table, &mut taken))
        .collect()
}

/// The tables and indexes the mapping names: constraint and index names
/// share the schema's namespace, so the names derived for keys avoid them.
fn named_relations(p: &Pipeline) -> HashSet<String> {
    let mut taken = HashSet::new();
    for (source, table) in p.included_tables() {
        taken.insert(table.target_name(source).to_string());
        for ix in &table.indexes {
            taken.insert(ix.name.clone());
        }
    }
    taken
}

fn plan_table(
    p: &Pipeline,
    source: &str,
    table: &TableMap,
    taken: &mut HashSet<String>,
) -> Result<TablePlan> {
    let target = table.target_name(source).to_string();
    let columns = SourceColumns::plan(&p.defaults, source, table)?;
    let added = added_columns(source, table, columns.generated_added)?;
    // Derived names in this order, each avoiding the ones before it.
    let pk_name = ident::derived(&[&target, "pkey"], taken);
    let foreign_keys = table
        .foreign_keys
        .iter()
        .map(|fk| plan_foreign_key(p, source, &target, fk, taken))
        .collect::<Result<Vec<_>>>()?;
    let checks = name_checks(&target, &table.checks, taken);
    Ok(TablePlan {
        source: source.to_string(),
        target,
        schema: p.target.schema.clone(),
        columns: columns.loaded,
        added,
        generated: columns.generated,
        filter: table.filter.clone(),
        without_rowid: table.without_rowid,
        from_view: table.from_view,
        commit_every: table.commit_every.unwrap_or(p.defaults.commit_every),
        primary_key: table.primary_key.clone(),
        pk_name,
        indexes: table.indexes.clone(),
        foreign_keys,
        checks,
        constants: Vec::new(),
    })
}

/// A table's included source columns: the ones COPY loads, and the ones
/// PostgreSQL generates, planned alike (`verify` hashes them) and also
/// created as added columns.
struct SourceColumns {
    loaded: Vec<ColumnPlan>,
    generated: Vec<ColumnPlan>,
    /// The generated columns to create, each after the column before it in
    /// the source (which may itself be generated: placed earlier here).
    generated_added: Vec<AddedColumn>,
}

impl SourceColumns {
    fn plan(defaults: &Defaults, source: &str, table: &TableMap) -> Result<SourceColumns> {
        let mut out = SourceColumns {
            loaded: Vec::new(),
            generated: Vec::new(),
            generated_added: Vec::new(),
        };
        let mut previous: Option<String> = None;
        for (name, column) in table.columns.iter().filter(|(_, c)| c.include) {
            let after = previous.replace(column.target_name(name).to_string());
            let plan = plan_column(defaults, source, name, column)?;
            match &column.generated {
                Some(expr) => {
                    out.generated_added.push(AddedColumn {
                        name: plan.target.clone(),
                        ty: plan.ty.clone(),
                        not_null: plan.not_null,
                        default: Some(expr.clone()),
                        after,
                        generated: true,
                    });
                    out.generated.push(plan);
                }
                None => out.loaded.push(plan),
            }
        }
        Ok(out)
    }
}

/// One source column: its type, its converter and, with `on_null =
/// "default"`, the value a NULL cell becomes.
fn plan_column(
    defaults: &Defaults,
    source: &str,
    name: &str,
    column: &ColumnMap,
) -> Result<ColumnPlan> {
    let at = |e: String| anyhow!("table {source}, column {name}: {e}");
    let ty = PgType::parse(&column.pg_type).map_err(at)?;
    let opts = convert_options(defaults, Some(column)).map_err(at)?;
    let converter = Converter::new(ty.clone(), opts);
    let null_value = match (column.on_null, &column.default) {
        (Some(OnNull::Default), Some(d)) => Some(
            null_default_value(&converter, d)
                .map_err(|e| anyhow!("table {source}, column {name}: on_null: {e}"))?,
        ),
        (Some(OnNull::Default), None) => {
            return Err(anyhow!(
                "table {source}, column {name}: on_null = \"default\" needs a default"
            ))
        }
        _ => None,
    };
    Ok(ColumnPlan {
        source: name.to_string(),
        target: column.target_name(name).to_string(),
        converter,
        on_null: column.on_null,
        null_value,
        ty,
        not_null: column.not_null,
        default: column.default.clone(),
        identity: column.identity,
        sequence_floor: column.sequence_floor,
        auto: column.auto,
    })
}

/// The generated columns first, then the mapping's `add_columns`.
fn added_columns(
    source: &str,
    table: &TableMap,
    generated: Vec<AddedColumn>,
) -> Result<Vec<AddedColumn>> {
    let added = table
        .add_columns
        .iter()
        .map(|(n, c)| {
            Ok(AddedColumn {
                name: n.clone(),
                ty: PgType::parse(&c.pg_type)
                    .map_err(|e| anyhow!("table {source}, added column {n}: {e}"))?,
                not_null: c.not_null,
                default: c.default.clone(),
                after: c.after.clone(),
                generated: false,
            })
        })
        .collect::<Result<Vec<_>>>()?;
    Ok(generated.into_iter().chain(added).collect())
}

/// A foreign key with its referenced table and columns resolved (a source
/// table's target name; its primary key when the mapping names no
/// columns) and a name.
fn plan_foreign_key(
    p: &Pipeline,
    source: &str,
    target: &str,
    fk: &ForeignKeyDef,
    taken: &mut HashSet<String>,
) -> Result<ForeignKeyPlan> {
    let (ref_table, ref_columns) = match &fk.references_target {
        Some(outside) => (outside.clone(), fk.ref_columns.clone()),
        None => {
            let parent = p.table(&fk.references).ok_or_else(|| {
                anyhow!(
                    "table {source}: foreign key references unknown table {}",
                    fk.references
                )
            })?;
            let ref_columns = if fk.ref_columns.is_empty() {
                parent.primary_key.clone()
            } else {
                fk.ref_columns.clone()
            };
            (parent.target_name(&fk.references).to_string(), ref_columns)
        }
    };
    let name = match &fk.name {
        Some(n) => n.clone(),
        None => {
            let mut parts = vec![target];
            parts.extend(fk.columns.iter().map(String::as_str));
            parts.push("fkey");
            ident::derived(&parts, taken)
        }
    };
    Ok(ForeignKeyPlan {
        name,
        columns: fk.columns.clone(),
        ref_table,
        ref_columns,
        on_delete: fk.on_delete.as_deref().and_then(fk_action),
        on_update: fk.on_update.as_deref().and_then(fk_action),
        outside: fk.references_target.is_some(),
        if_exists: fk.if_exists,
        deferrable: fk.deferrable,
        orphans: fk.orphans.unwrap_or(0),
    })
}

/// (constraint name, expression) of each CHECK: `<table>_check<N>`.
fn name_checks(
    target: &str,
    checks: &[String],
    taken: &mut HashSet<String>,
) -> Vec<(String, String)> {
    checks
        .iter()
        .enumerate()
        .map(|(i, c)| {
            (
                ident::derived(&[target, &format!("check{}", i + 1)], taken),
                c.clone(),
            )
        })
        .collect()
}
