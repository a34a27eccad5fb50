//! The names `init` gives the target: every table and column under
//! PostgreSQL's 63-byte limit and clear of its system columns, each column
//! with the type chosen for it (`choose`, then its collation), and the
//! columns past PostgreSQL's 1600 per table excluded. Everything later
//! (keys, indexes, CHECKs, expressions) is written over these names.

use super::choose::choose_type;
use super::collation::collation_choice;
use super::profile::{ColumnProfile, Profiles};
use crate::config::mapping::NameCase;
use crate::pg::ident;
use crate::pg::types::PgType;
use crate::sqlite::schema::model::{SourceColumn, SourceSchema, SourceTable};
use std::collections::{HashMap, HashSet};

/// Source column name → (target name, target type, included).
pub(super) struct ColInfo {
    pub(super) target: String,
    pub(super) ty: PgType,
    pub(super) include: bool,
    /// The type is an upgrade `init` chose on its own (`auto = true`).
    pub(super) auto: bool,
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

    pub(super) fn col_mut(&mut self, name: &str) -> Option<&mut ColInfo> {
        self.cols
            .iter_mut()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, c)| c)
    }
}

/// Every source table's target names and column types, by source name,
/// and the relation names they take in the target schema (the tables' own,
/// or the shortened ones).
pub(super) fn fit_names(
    schema: &SourceSchema,
    profiles: &Profiles,
    keep_declared: bool,
    case: NameCase,
    warnings: &mut Vec<String>,
) -> (HashMap<String, TableNames>, HashSet<String>) {
    let mut taken = kept(schema.tables.iter().map(|t| case.apply(&t.name)));
    let mut names = HashMap::new();
    for t in &schema.tables {
        let target = fit_table_name(t, case, &mut taken, warnings);
        let cols = fit_columns(t, profiles.get(&t.name), keep_declared, case, warnings);
        names.insert(t.name.clone(), TableNames { target, cols });
    }
    (names, taken)
}

/// The names that fit: they are kept, so a shortened one must avoid them
/// all.
fn kept(names: impl Iterator<Item = String>) -> HashSet<String> {
    names.filter(|n| ident::fits(n)).collect()
}

/// A table's target name: its name in `case` (A–Z folded or not, which
/// keeps its length), shortened if it does not fit.
fn fit_table_name(
    t: &SourceTable,
    case: NameCase,
    taken: &mut HashSet<String>,
    warnings: &mut Vec<String>,
) -> String {
    let name = case.apply(&t.name);
    if ident::fits(&name) {
        return name;
    }
    let fitted = ident::fit(&name, taken);
    warnings.push(format!(
        "table `{}` is longer than 63 bytes: renamed to `{fitted}`",
        t.name
    ));
    fitted
}

/// The table's visible columns, named and typed, the ones past PostgreSQL's
/// limit excluded.
fn fit_columns(
    t: &SourceTable,
    profile: Option<&HashMap<String, ColumnProfile>>,
    keep_declared: bool,
    case: NameCase,
    warnings: &mut Vec<String>,
) -> Vec<(String, ColInfo)> {
    let mut taken = kept(t.columns.iter().map(|c| case.apply(&c.name)));
    let mut cols = Vec::new();
    for c in t.columns.iter().filter(|c| c.hidden != 1) {
        let target = fit_column_name(&t.name, &case.apply(&c.name), &mut taken, warnings);
        let (ty, auto) = column_type(&t.name, c, profile, keep_declared, warnings);
        cols.push((
            c.name.clone(),
            ColInfo {
                target,
                ty,
                // Generated columns load as plain columns, their values
                // copied (a warning says so when the map is built).
                include: true,
                auto,
            },
        ));
    }
    exclude_past_column_limit(&t.name, &mut cols, warnings);
    cols
}

/// A column's target name from `name`, its name in the chosen case.
fn fit_column_name(
    table: &str,
    name: &str,
    taken: &mut HashSet<String>,
    warnings: &mut Vec<String>,
) -> String {
    if ident::SYSTEM_COLUMNS.contains(&name) {
        let mut fitted = format!("{name}_");
        while taken.contains(&fitted) {
            fitted.push('_');
        }
        taken.insert(fitted.clone());
        warnings.push(format!(
            "column `{table}`.`{name}` has the name of a PostgreSQL system column: renamed to `{fitted}`"
        ));
        fitted
    } else if ident::fits(name) {
        name.to_string()
    } else {
        let fitted = ident::fit(name, taken);
        warnings.push(format!(
            "column `{table}`.`{name}` is longer than 63 bytes: renamed to `{fitted}`"
        ));
        fitted
    }
}

/// The cells decide, the declared name guides (see `choose`); then the
/// collation may make text `citext`.
fn column_type(
    table: &str,
    c: &SourceColumn,
    profile: Option<&HashMap<String, ColumnProfile>>,
    keep_declared: bool,
    warnings: &mut Vec<String>,
) -> (PgType, bool) {
    let cells = profile.and_then(|p| p.get(&c.name));
    let choice = choose_type(&c.declared_type, cells, keep_declared);
    if let Some(note) = &choice.note {
        warnings.push(format!("`{table}`.`{}`: {note}", c.name));
    }
    let mut ty = choice.ty;
    if let Some(w) = collation_choice(table, c, &mut ty) {
        warnings.push(w);
    }
    (ty, choice.auto)
}

/// The columns past PostgreSQL's limit stay in the mapping, excluded and
/// named, for the operator to choose which to keep.
fn exclude_past_column_limit(
    table: &str,
    cols: &mut [(String, ColInfo)],
    warnings: &mut Vec<String>,
) {
    let past: Vec<String> = cols
        .iter_mut()
        .filter(|(_, c)| c.include)
        .skip(ident::MAX_COLUMNS)
        .map(|(name, c)| {
            c.include = false;
            name.clone()
        })
        .collect();
    if !past.is_empty() {
        warnings.push(format!(
            "table `{table}` has {} columns; PostgreSQL allows 1600 per table: the last {} are excluded \
             (include = false), from `{}` to `{}`; choose which to keep, or split the table",
            ident::MAX_COLUMNS + past.len(),
            past.len(),
            past[0],
            past[past.len() - 1]
        ));
    }
}
