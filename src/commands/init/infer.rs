//! Inference for `init`: from the introspected schema and the column
//! profiles, the pipeline to propose: target names that fit PostgreSQL,
//! types, defaults, identities and epochs, and the keys, indexes and CHECKs
//! that can be carried over (with a warning for each one that cannot).

use super::epoch_origin::Origin;
use super::extras::citext_to_children;
use super::key_groups::KeyGroups;
use super::names::{fit_names, TableNames};
use super::profile::Profiles;
use super::table_map::TableMapBuilder;
use crate::config::mapping::{NameCase, Pipeline, SourceConfig, TableMap};
use crate::pg::ident;
use crate::pg::types::PgType;
use crate::sqlite::schema::model::SourceSchema;
use std::collections::{HashMap, HashSet};
use std::path::{Component, Path, PathBuf};

/// Build the pipeline: one table map per source table, parents first.
/// Returns it with the warnings about everything not carried over.
pub fn build_pipeline(
    schema: &SourceSchema,
    profiles: &Profiles,
    source_path: &Path,
    out_dir: &Path,
) -> (Pipeline, Vec<String>) {
    build_pipeline_with(
        schema,
        profiles,
        source_path,
        out_dir,
        false,
        NameCase::Keep,
    )
}

/// [`build_pipeline`]; with `keep_declared`, every column keeps its
/// declared type's mapping (no typed upgrades, no widening to what the
/// cells hold), for faithful text moves. `case`: the case of every target
/// name (tables, columns, the indexes the file names), so every reference
/// written over them is in it too.
pub fn build_pipeline_with(
    schema: &SourceSchema,
    profiles: &Profiles,
    source_path: &Path,
    out_dir: &Path,
    keep_declared: bool,
    case: NameCase,
) -> (Pipeline, Vec<String>) {
    let mut warnings: Vec<String> = schema.warnings.clone();
    // Tables, indexes and constraints share PostgreSQL's schema namespace
    // (indexes and key constraints are relations): `taken` holds them all.
    // Key columns are typed together (their cells as one), then held to
    // one type where PostgreSQL would refuse a key between them.
    let mut groups = KeyGroups::of(schema);
    let typing = groups.merged(schema, profiles);
    let (mut names, mut taken) = fit_names(schema, &typing, keep_declared, case, &mut warnings);
    warnings.extend(citext_to_children(schema, &mut names));
    groups.unify(schema, profiles, keep_declared, &mut names, &mut warnings);
    // A file whose epochs count from elsewhere (Core Data, chat.db, Chrome).
    let origin = Origin::of(schema);
    if let Some(o) = origin {
        warnings.push(o.said().to_string());
        if !keep_declared {
            retype_times(schema, o, &mut names, &mut warnings);
        }
    }
    reserve_constraint_names(schema, &names, case, &mut taken);
    let table_maps = schema
        .tables
        .iter()
        .map(|t| {
            let map = TableMapBuilder {
                schema,
                names: &names,
                table: t,
                profile: profiles.get(&t.name),
                taken: &mut taken,
                warnings: &mut warnings,
                origin,
            }
            .build();
            (t.name.clone(), index_names_in(case, map))
        })
        .collect();
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

/// The integer columns the file's origin says are times become
/// `timestamptz` (their numbers read in the origin's unit and base).
fn retype_times(
    schema: &SourceSchema,
    origin: Origin,
    names: &mut HashMap<String, TableNames>,
    warnings: &mut Vec<String>,
) {
    for t in &schema.tables {
        let Some(tn) = names.get_mut(&t.name) else {
            continue;
        };
        for (c, info) in tn.cols.iter_mut() {
            let numeric =
                info.ty.is_integer() || matches!(info.ty, PgType::Double | PgType::Numeric(_));
            if numeric && origin.column(t, c).is_some_and(|k| k.retype) {
                warnings.push(format!(
                    "`{}`.`{c}`: timestamptz (was {}): a time, by the file's origin (set type = \"{}\" to keep the numbers)",
                    t.name, info.ty, info.ty
                ));
                info.ty = PgType::Timestamptz;
            }
        }
    }
}

/// The names of the indexes the file names (`CREATE INDEX`), which the
/// table's map keeps, in `case` (the names derived from the target names
/// are in it already).
fn index_names_in(case: NameCase, mut map: TableMap) -> TableMap {
    for ix in &mut map.indexes {
        ix.name = case.apply(&ix.name);
    }
    map
}

/// The primary-key constraint names `prepare` will use, and the names of
/// CREATE INDEX indexes that fit: kept as they are, so the names derived
/// later avoid them.
fn reserve_constraint_names(
    schema: &SourceSchema,
    names: &HashMap<String, TableNames>,
    case: NameCase,
    taken: &mut HashSet<String>,
) {
    for t in &schema.tables {
        let target = &names[&t.name].target;
        if !t.primary_key.is_empty() {
            let pk = format!("{target}_pkey");
            if pk.len() <= ident::MAX_IDENT_BYTES {
                taken.insert(pk);
            }
        }
        for ix in &t.indexes {
            if ix.origin == "c" && ix.name.len() <= ident::MAX_IDENT_BYTES {
                taken.insert(case.apply(&ix.name));
            }
        }
    }
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
