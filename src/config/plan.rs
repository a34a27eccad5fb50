//! The resolved form of a mapping file: per table, the columns COPY loads (in
//! order, with target type and converter), the columns PostgreSQL fills from
//! defaults, and the keys, indexes and constraints `finalize` builds. The
//! rest of the program works from this, not from the raw TOML.

use crate::config::mapping::{fk_action, ColumnMap, CommitEvery, Defaults, IndexDef, Pipeline};
use crate::convert::{ConvertOptions, Converter};
use crate::pg::ident;
use crate::pg::types::PgType;
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
}

#[derive(Debug, Clone)]
pub struct AddedColumn {
    pub name: String,
    pub ty: PgType,
    pub not_null: bool,
    pub default: Option<String>,
}

#[derive(Debug, Clone)]
pub struct ForeignKeyPlan {
    pub name: String,
    pub columns: Vec<String>,
    pub ref_table: String,
    pub ref_columns: Vec<String>,
    pub on_delete: Option<&'static str>,
    pub on_update: Option<&'static str>,
}

#[derive(Debug, Clone)]
pub struct TablePlan {
    pub source: String,
    pub target: String,
    pub schema: String,
    /// Loaded by COPY, in this order.
    pub columns: Vec<ColumnPlan>,
    /// Filled by PostgreSQL (defaults or NULL).
    pub added: Vec<AddedColumn>,
    pub filter: Option<String>,
    pub without_rowid: bool,
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
    pub fn retype(&mut self, actual: &[(String, PgType)]) {
        for c in &mut self.columns {
            if let Some((_, ty)) = actual.iter().find(|(n, _)| n == &c.target) {
                if &c.ty != ty {
                    c.ty = ty.clone();
                    c.converter = Converter::new(ty.clone(), c.converter.opts.clone());
                }
            }
        }
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
    Ok(ConvertOptions {
        epoch: col.and_then(|c| c.epoch),
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

/// Resolve every included table of the pipeline.
pub fn plan(p: &Pipeline) -> Result<Vec<TablePlan>> {
    let schema = p.target.schema.clone();
    // Constraint and index names share the schema's namespace.
    let mut taken: HashSet<String> = HashSet::new();
    for (src, t) in p.included_tables() {
        taken.insert(t.target_name(src).to_string());
        for ix in &t.indexes {
            taken.insert(ix.name.clone());
        }
    }
    let mut out = Vec::new();
    for (src, t) in p.included_tables() {
        let target = t.target_name(src).to_string();
        let mut columns = Vec::new();
        for (cname, c) in &t.columns {
            if !c.include {
                continue;
            }
            let ty = PgType::parse(&c.pg_type)
                .map_err(|e| anyhow!("table {src}, column {cname}: {e}"))?;
            let opts = convert_options(&p.defaults, Some(c))
                .map_err(|e| anyhow!("table {src}, column {cname}: {e}"))?;
            columns.push(ColumnPlan {
                source: cname.clone(),
                target: c.target_name(cname).to_string(),
                converter: Converter::new(ty.clone(), opts),
                ty,
                not_null: c.not_null,
                default: c.default.clone(),
                identity: c.identity,
                sequence_floor: c.sequence_floor,
            });
        }
        let added = t
            .add_columns
            .iter()
            .map(|(n, c)| {
                Ok(AddedColumn {
                    name: n.clone(),
                    ty: PgType::parse(&c.pg_type)
                        .map_err(|e| anyhow!("table {src}, added column {n}: {e}"))?,
                    not_null: c.not_null,
                    default: c.default.clone(),
                })
            })
            .collect::<Result<Vec<_>>>()?;
        let pk_name = ident::derived(&[&target, "pkey"], &mut taken);
        let mut foreign_keys = Vec::new();
        for fk in &t.foreign_keys {
            let parent = p.table(&fk.references).ok_or_else(|| {
                anyhow!(
                    "table {src}: foreign key references unknown table {}",
                    fk.references
                )
            })?;
            let ref_columns = if fk.ref_columns.is_empty() {
                parent.primary_key.clone()
            } else {
                fk.ref_columns.clone()
            };
            let name = match &fk.name {
                Some(n) => n.clone(),
                None => {
                    let mut parts = vec![target.as_str()];
                    parts.extend(fk.columns.iter().map(String::as_str));
                    parts.push("fkey");
                    ident::derived(&parts, &mut taken)
                }
            };
            foreign_keys.push(ForeignKeyPlan {
                name,
                columns: fk.columns.clone(),
                ref_table: parent.target_name(&fk.references).to_string(),
                ref_columns,
                on_delete: fk.on_delete.as_deref().and_then(fk_action),
                on_update: fk.on_update.as_deref().and_then(fk_action),
            });
        }
        let checks = t
            .checks
            .iter()
            .enumerate()
            .map(|(i, c)| {
                (
                    ident::derived(&[&target, &format!("check{}", i + 1)], &mut taken),
                    c.clone(),
                )
            })
            .collect();
        out.push(TablePlan {
            source: src.to_string(),
            target,
            schema: schema.clone(),
            columns,
            added,
            filter: t.filter.clone(),
            without_rowid: t.without_rowid,
            commit_every: t.commit_every.unwrap_or(p.defaults.commit_every),
            primary_key: t.primary_key.clone(),
            pk_name,
            indexes: t.indexes.clone(),
            foreign_keys,
            checks,
            constants: Vec::new(),
        });
    }
    Ok(out)
}
