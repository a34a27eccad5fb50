//! Semantic checks of a parsed mapping file ([`Pipeline::validate`]): types
//! and time zones resolve, referenced columns and tables exist, names fit
//! PostgreSQL and do not collide. Every problem is reported, not just the
//! first; `Pipeline::parse` then gives each its line.

use super::issue::MappingIssue;
use super::mapping::{
    fk_action, key_seg, ColumnMap, Defaults, ForeignKeyDef, OnNull, Pipeline, TableMap,
    TargetConfig, Utf8Policy, ViewAction,
};
use super::plan::{convert_options, null_default_value};
use crate::convert::Converter;
use crate::pg::ident::MAX_COLUMNS;
use crate::pg::types::PgType;
use std::collections::{BTreeMap, HashSet};

/// A PostgreSQL memory setting (`64MB`, `1GB`, `65536` = kB) in kB, if it is
/// one `maintenance_work_mem` accepts (1MB to 2147483647kB), written in
/// decimal with no leading zero (which PostgreSQL would read as octal).
pub fn memory_kb(v: &str) -> Option<u64> {
    let v = v.trim();
    let digits = v.find(|c: char| !c.is_ascii_digit()).unwrap_or(v.len());
    // PostgreSQL reads a leading 0 as octal (`0512MB` is 330MB).
    if v.starts_with('0') {
        return None;
    }
    let n: u64 = v[..digits].parse().ok()?;
    let unit = match v[digits..].trim() {
        "" | "kB" => 1,
        "MB" => 1 << 10,
        "GB" => 1 << 20,
        "TB" => 1 << 30,
        _ => return None,
    };
    let kb = n.checked_mul(unit)?;
    (1024..=2_147_483_647).contains(&kb).then_some(kb)
}

/// The problems found so far, in the order found: `Pipeline::parse` sorts
/// them by line, and problems on one line keep this order.
#[derive(Default)]
struct Issues(Vec<MappingIssue>);

impl Issues {
    fn push(&mut self, key: impl Into<String>, message: impl Into<String>) {
        self.0.push(MappingIssue {
            key: key.into(),
            line: None,
            message: message.into(),
        });
    }
}

/// The names tables and indexes share in the target schema, across tables:
/// target table → its source; index → (its table, its key in the file).
#[derive(Default)]
struct SchemaNames {
    tables: BTreeMap<String, String>,
    indexes: BTreeMap<String, (String, String)>,
}

/// One table under check: its key path in the file, its target name, and
/// the target columns named so far (loaded, then added).
struct TableScope<'a> {
    key: String,
    name: &'a str,
    columns: HashSet<String>,
}

impl TableScope<'_> {
    fn knows(&self, column: &str) -> bool {
        self.columns.contains(column)
    }
}

fn too_long(name: &str) -> bool {
    !crate::pg::ident::fits(name)
}

impl Pipeline {
    /// Semantic checks; every problem, not just the first.
    pub fn validate(&self) -> Vec<MappingIssue> {
        let mut issues = Issues::default();
        check_defaults(&self.defaults, &mut issues);
        check_target(&self.target, &mut issues);
        let mut names = SchemaNames::default();
        for (source, table) in self.included_tables() {
            self.check_table(source, table, &mut names, &mut issues);
        }
        check_index_names(&names, &mut issues);
        self.check_views(&names.tables, &mut issues);
        issues.0.extend(super::fragments::lexical_issues(self));
        issues.0
    }

    fn check_table(
        &self,
        source: &str,
        table: &TableMap,
        names: &mut SchemaNames,
        issues: &mut Issues,
    ) {
        let mut scope = TableScope {
            key: table.key(source),
            name: table.target_name(source),
            columns: HashSet::new(),
        };
        check_table_name(source, table, &scope, names, issues);
        let loaded = check_columns(&self.defaults, table, &mut scope, issues);
        let added = check_added_columns(table, &mut scope, issues);
        check_width(table, loaded || added, &scope, issues);
        check_primary_key(table, &scope, issues);
        check_indexes(table, &scope, names, issues);
        for (i, fk) in table.foreign_keys.iter().enumerate() {
            self.check_foreign_key(i, fk, &scope, issues);
        }
    }

    fn check_foreign_key(
        &self,
        i: usize,
        fk: &ForeignKeyDef,
        scope: &TableScope,
        issues: &mut Issues,
    ) {
        let key = format!("{}.foreign_keys.{i}", scope.key);
        for c in &fk.columns {
            if !scope.knows(c) {
                issues.push(
                    format!("{key}.columns"),
                    format!("`{c}` is not a target column of `{}`", scope.name),
                );
            }
        }
        match &fk.references_target {
            Some(outside) => self.check_outside_reference(fk, outside, &key, issues),
            None if fk.references.is_empty() => issues.push(
                format!("{key}.references"),
                "missing: `references` (a source table of this mapping) or \
                 `references_target` (a target table outside the pipeline)",
            ),
            None => {}
        }
        if fk.if_exists && fk.references_target.is_none() {
            issues.push(
                format!("{key}.if_exists"),
                "only meaningful with references_target (a table of this pipeline always exists)",
            );
        }
        if !fk.references.is_empty() {
            self.check_source_reference(&fk.references, &key, issues);
            self.check_ref_columns(fk, &key, issues);
        }
        if !fk.ref_columns.is_empty() && fk.ref_columns.len() != fk.columns.len() {
            issues.push(
                format!("{key}.ref_columns"),
                "must have as many columns as `columns`",
            );
        }
        for (k, a) in [("on_delete", &fk.on_delete), ("on_update", &fk.on_update)] {
            if let Some(a) = a {
                if fk_action(a).is_none() {
                    issues.push(
                        format!("{key}.{k}"),
                        format!("`{a}` is not one of cascade, restrict, set null, set default, no action"),
                    );
                }
            }
        }
    }

    /// `references_target`: a table outside the pipeline, named alone and
    /// with the columns it references.
    fn check_outside_reference(
        &self,
        fk: &ForeignKeyDef,
        outside: &str,
        key: &str,
        issues: &mut Issues,
    ) {
        if !fk.references.is_empty() {
            issues.push(
                format!("{key}.references_target"),
                "give either `references` (a source table of this mapping) or \
                 `references_target` (a target table outside the pipeline), not both",
            );
        } else if outside.trim().is_empty() {
            issues.push(format!("{key}.references_target"), "must not be empty");
        } else if let Some((source, _)) = self
            .included_tables()
            .find(|(s, t)| t.target_name(s) == outside)
        {
            issues.push(
                format!("{key}.references_target"),
                format!(
                    "`{outside}` is a target table of this pipeline (source table `{source}`): \
                     write references = \"{source}\" instead"
                ),
            );
        } else if too_long(outside) {
            issues.push(
                format!("{key}.references_target"),
                format!("`{outside}` is longer than PostgreSQL's 63 bytes"),
            );
        }
        if fk.ref_columns.is_empty() {
            issues.push(
                format!("{key}.ref_columns"),
                format!(
                    "required with references_target: the columns of `{outside}` this key references"
                ),
            );
        }
    }

    /// `ref_columns` of a key to a table of this mapping: each a target
    /// column of that table (a column renamed there and not here is the
    /// mistake this catches before `finalize` would).
    fn check_ref_columns(&self, fk: &ForeignKeyDef, key: &str, issues: &mut Issues) {
        let Some(parent) = self.table(&fk.references).filter(|p| p.include) else {
            return;
        };
        let known = |c: &str| {
            parent
                .columns
                .iter()
                .any(|(s, m)| m.include && m.target_name(s) == c)
                || parent.add_columns.iter().any(|(n, _)| n == c)
        };
        for c in fk.ref_columns.iter().filter(|c| !known(c)) {
            issues.push(
                format!("{key}.ref_columns"),
                format!(
                    "`{c}` is not a target column of `{}` (the table `{}` maps)",
                    parent.target_name(&fk.references),
                    fk.references
                ),
            );
        }
    }

    /// `references`: a table of this mapping, and one that is loaded.
    fn check_source_reference(&self, references: &str, key: &str, issues: &mut Issues) {
        match self.table(references) {
            Some(parent) if !parent.include => issues.push(
                format!("{key}.references"),
                format!(
                    "`{references}` is excluded (include = false): drop this foreign key or include the table"
                ),
            ),
            Some(_) => {}
            None => issues.push(
                format!("{key}.references"),
                format!("`{references}` is not a table of this mapping"),
            ),
        }
    }

    /// Views share the schema's names with the tables.
    fn check_views(&self, tables: &BTreeMap<String, String>, issues: &mut Issues) {
        for (name, v) in &self.views {
            let key = format!("views.{}", key_seg(name));
            if too_long(name) {
                issues.push(
                    key.clone(),
                    format!("view `{name}` is longer than PostgreSQL's 63 bytes"),
                );
            }
            // A materialized view is a target table: checked as one above.
            if let Some(source) = tables
                .get(name)
                .filter(|_| v.action != ViewAction::Materialize)
            {
                issues.push(
                    key.clone(),
                    format!("view `{name}` has the name of the target table of `{source}`"),
                );
            }
            let empty = v.sql.as_deref().is_none_or(|s| s.trim().is_empty());
            if v.action == ViewAction::Create && empty {
                issues.push(
                    format!("{key}.action"),
                    "action = \"create\" needs the view's SELECT in `sql`",
                );
            }
        }
    }
}

fn check_defaults(defaults: &Defaults, issues: &mut Issues) {
    if defaults.chunk_size == 0 {
        issues.push("defaults.chunk_size", "must be at least 1");
    }
    if defaults.batch_size == 0 {
        issues.push("defaults.batch_size", "must be at least 1");
    }
    if defaults.workers == 0 || defaults.workers > 64 {
        issues.push("defaults.workers", "must be between 1 and 64");
    }
    if !duration_ok(&defaults.lock_timeout) {
        issues.push(
            "defaults.lock_timeout",
            format!(
                "`{}` is not a duration: a whole number with ms, s, min or h (e.g. `60s`, `500ms`); `0` waits forever",
                defaults.lock_timeout
            ),
        );
    }
    if memory_kb(&defaults.maintenance_work_mem).is_none() {
        issues.push(
            "defaults.maintenance_work_mem",
            format!(
                "`{}` is not a memory size PostgreSQL accepts here: a whole number with kB, MB, GB or TB, \
                 from 1MB to 2147483647kB (e.g. `512MB`, `2GB`)",
                defaults.maintenance_work_mem
            ),
        );
    }
    // The resolver `plan` uses; with no column it fails only on
    // `defaults.timezone` ("unknown time zone `…`").
    if let Err(e) = convert_options(defaults, None) {
        issues.push(
            "defaults.timezone",
            format!("{e} (use an IANA name such as `UTC` or `Europe/Berlin`)"),
        );
    }
    let true_words: HashSet<_> = defaults
        .true_values
        .iter()
        .map(|s| s.to_lowercase())
        .collect();
    for f in &defaults.false_values {
        if true_words.contains(&f.to_lowercase()) {
            issues.push(
                "defaults.false_values",
                format!("`{f}` is in both true_values and false_values"),
            );
        }
    }
}

fn check_target(target: &TargetConfig, issues: &mut Issues) {
    if target.schema.trim().is_empty() {
        issues.push("target.schema", "must not be empty");
    }
    if target.schema == "sqlite2pg" {
        issues.push(
            "target.schema",
            "`sqlite2pg` holds this tool's own state; load into another schema",
        );
    }
}

/// The table's target name fits and is no other table's.
fn check_table_name(
    source: &str,
    table: &TableMap,
    scope: &TableScope,
    names: &mut SchemaNames,
    issues: &mut Issues,
) {
    let (key, name) = (&scope.key, scope.name);
    if too_long(name) {
        issues.push(
            format!("{key}.target"),
            format!("`{name}` is longer than PostgreSQL's 63 bytes; shorten it"),
        );
    }
    // Every identifier is quoted, so names compare exactly.
    if let Some(prev) = names.tables.insert(name.to_string(), source.to_string()) {
        if table.from_view {
            issues.push(
                format!("{key}.action"),
                format!(
                    "materialized, view `{source}` would be table `{name}`, which is already \
                     the target of source table `{prev}` (rename that one with its `target`)"
                ),
            );
        } else {
            issues.push(
                format!("{key}.target"),
                format!("target table `{name}` is also the target of source table `{prev}`"),
            );
        }
    }
}

/// The loaded columns; whether there is any.
fn check_columns(
    defaults: &Defaults,
    table: &TableMap,
    scope: &mut TableScope,
    issues: &mut Issues,
) -> bool {
    let mut any = false;
    for (source_name, column) in table.columns.iter().filter(|(_, c)| c.include) {
        any = true;
        check_column(defaults, source_name, column, scope, issues);
    }
    any
}

fn check_column(
    defaults: &Defaults,
    source_name: &str,
    column: &ColumnMap,
    scope: &mut TableScope,
    issues: &mut Issues,
) {
    let key = format!("{}.columns.{}", scope.key, key_seg(source_name));
    // `PgType::parse`, as in `plan`: one parser for a type.
    let ty = match PgType::parse(&column.pg_type) {
        Ok(ty) => Some(ty),
        Err(e) => {
            issues.push(format!("{key}.type"), e);
            None
        }
    };
    check_column_name(column.target_name(source_name), &key, scope, issues);
    // The column's own time zone, resolved as `plan` resolves it; without
    // one it is the default's, reported with the defaults.
    if column.timezone.is_some() || column.epoch_base.is_some() {
        if let Err(e) = convert_options(defaults, Some(column)) {
            let what = if e.starts_with("epoch_base") {
                "epoch_base"
            } else {
                "timezone"
            };
            issues.push(format!("{key}.{what}"), e);
        }
    }
    check_generated(column, &key, issues);
    check_type_settings(column, ty.as_ref(), &key, issues);
    check_on_null(defaults, column, ty.as_ref(), &key, issues);
}

/// A target column name fits, is new in its table and is no system column's.
fn check_column_name(target: &str, key: &str, scope: &mut TableScope, issues: &mut Issues) {
    if too_long(target) {
        issues.push(
            format!("{key}.target"),
            format!("`{target}` is longer than PostgreSQL's 63 bytes; shorten it"),
        );
    }
    if !scope.columns.insert(target.to_string()) {
        issues.push(
            format!("{key}.target"),
            format!(
                "target column `{target}` appears twice in table `{}`",
                scope.name
            ),
        );
    }
    if crate::pg::ident::SYSTEM_COLUMNS.contains(&target) {
        issues.push(
            format!("{key}.target"),
            format!(
                "`{target}` is the name of a PostgreSQL system column; \
                 rename it (e.g. target = \"{target}_\")"
            ),
        );
    }
}

/// A generated column has an expression, and nothing that loads a value.
fn check_generated(column: &ColumnMap, key: &str, issues: &mut Issues) {
    let Some(expr) = &column.generated else {
        return;
    };
    let clash = [
        (column.identity, "identity"),
        (column.default.is_some(), "default"),
        (column.on_null.is_some(), "on_null"),
        (column.json_wrap.is_some(), "json_wrap"),
    ]
    .into_iter()
    .filter(|(on, _)| *on)
    .map(|(_, k)| k)
    .collect::<Vec<_>>();
    if expr.trim().is_empty() {
        issues.push(
            format!("{key}.generated"),
            "an empty generation expression; remove `generated` to load the column's values",
        );
    } else if !clash.is_empty() {
        issues.push(
            format!("{key}.generated"),
            format!(
                "a generated column is computed by PostgreSQL, so it takes no {}",
                clash.join(", ")
            ),
        );
    }
}

/// Settings that need a type (or another setting) to mean anything.
fn check_type_settings(column: &ColumnMap, ty: Option<&PgType>, key: &str, issues: &mut Issues) {
    if column.sequence_floor.is_some() && !column.identity {
        issues.push(
            format!("{key}.sequence_floor"),
            "only meaningful with identity = true",
        );
    }
    if column.identity && !ty.is_some_and(PgType::is_integer) {
        issues.push(
            format!("{key}.identity"),
            "identity needs an integer type (smallint, integer, bigint)",
        );
    }
    if column.invalid_utf8 == Some(Utf8Policy::Bytea) && ty != Some(&PgType::Bytea) {
        issues.push(
            format!("{key}.invalid_utf8"),
            "`bytea` needs the column type to be bytea",
        );
    }
    if column.json_wrap.is_some() && !matches!(ty, Some(PgType::Json | PgType::Jsonb) | None) {
        issues.push(
            format!("{key}.json_wrap"),
            "json_wrap needs the column type to be json or jsonb",
        );
    }
}

/// `on_null = "default"` has a constant default of the column's type to write.
fn check_on_null(
    defaults: &Defaults,
    column: &ColumnMap,
    ty: Option<&PgType>,
    key: &str,
    issues: &mut Issues,
) {
    if column.on_null != Some(OnNull::Default) {
        return;
    }
    let key = format!("{key}.on_null");
    if column.json_wrap.is_some() {
        issues.push(
            key,
            "json_wrap already writes {} for a NULL cell; drop on_null",
        );
    } else if column.identity {
        issues.push(
            key,
            "an identity column has no constant default to write; drop on_null",
        );
    } else if let Some(default) = &column.default {
        if let (Some(ty), Ok(opts)) = (ty, convert_options(defaults, Some(column))) {
            if let Err(e) = null_default_value(&Converter::new(ty.clone(), opts), default) {
                issues.push(key, e);
            }
        }
    } else {
        issues.push(
            key,
            "on_null = \"default\" needs the column's `default` (a constant) to write for a NULL cell",
        );
    }
}

/// The added columns (no source column); whether there is any.
fn check_added_columns(table: &TableMap, scope: &mut TableScope, issues: &mut Issues) -> bool {
    for (name, column) in table.add_columns.iter() {
        let key = format!("{}.add_columns.{}", scope.key, key_seg(name));
        if let Err(e) = PgType::parse(&column.pg_type) {
            issues.push(format!("{key}.type"), e);
        }
        if !scope.columns.insert(name.clone()) {
            issues.push(
                key.clone(),
                format!(
                    "target column `{name}` appears twice in table `{}`",
                    scope.name
                ),
            );
        }
        if column.not_null && column.default.is_none() {
            issues.push(
                format!("{key}.default"),
                "a NOT NULL added column needs a default",
            );
        }
        // Placed after a loaded column or an added one before it.
        if let Some(after) = &column.after {
            if !scope.knows(after) || after == name {
                issues.push(
                    format!("{key}.after"),
                    format!(
                        "`{after}` is not a target column of `{}` listed before this one \
                         (a loaded column, or an added column earlier in the file)",
                        scope.name
                    ),
                );
            }
        }
    }
    !table.add_columns.is_empty()
}

/// The table has a column, and no more than PostgreSQL allows.
fn check_width(table: &TableMap, any_column: bool, scope: &TableScope, issues: &mut Issues) {
    let (key, name) = (&scope.key, scope.name);
    if !any_column && table.from_view && table.columns.is_empty() {
        issues.push(
            format!("{key}.action"),
            format!(
                "action = \"materialize\" needs the view's columns and their types \
                 ([{key}.columns.NAME] type = \"…\"; `sqlite2pg init` writes them)"
            ),
        );
    } else if !any_column {
        issues.push(format!("{key}.columns"), "no included column");
    }
    let width = scope.columns.len() + table.add_columns.len();
    if width > MAX_COLUMNS {
        issues.push(
            format!("{key}.columns"),
            format!(
                "`{name}` would have {width} columns; PostgreSQL allows {MAX_COLUMNS} per table: \
                 exclude some (include = false) or split the table"
            ),
        );
    }
}

fn check_primary_key(table: &TableMap, scope: &TableScope, issues: &mut Issues) {
    for pk in &table.primary_key {
        if !scope.knows(pk) {
            issues.push(
                format!("{}.primary_key", scope.key),
                format!("`{pk}` is not a target column of `{}`", scope.name),
            );
        }
    }
}

/// Each index has columns of the table (or expressions) and a name no
/// other index has.
fn check_indexes(
    table: &TableMap,
    scope: &TableScope,
    names: &mut SchemaNames,
    issues: &mut Issues,
) {
    let (table_key, name) = (&scope.key, scope.name);
    for (i, ix) in table.indexes.iter().enumerate() {
        if ix.columns.is_empty() {
            issues.push(format!("{table_key}.indexes.{i}.columns"), "empty");
        }
        let key = format!("{table_key}.indexes.{i}.name");
        if let Some((other, _)) = names
            .indexes
            .insert(ix.name.clone(), (name.to_string(), key.clone()))
        {
            issues.push(
                key,
                format!(
                    "index `{}` is also the name of an index of `{other}` (index names are per schema)",
                    ix.name
                ),
            );
        }
        for c in &ix.columns {
            if !c.starts_with('(') && !scope.knows(c) {
                issues.push(
                    format!("{table_key}.indexes.{i}.columns"),
                    format!(
                        "`{c}` is not a target column of `{name}` (write an expression in parentheses)"
                    ),
                );
            }
        }
    }
}

/// Tables and indexes share a schema's names.
fn check_index_names(names: &SchemaNames, issues: &mut Issues) {
    for (name, (table, key)) in &names.indexes {
        if names.tables.contains_key(name) {
            issues.push(
                key.clone(),
                format!(
                    "index `{name}` of `{table}` has the name of a target table (tables and indexes share a schema's names)"
                ),
            );
        }
    }
}

/// A `lock_timeout` PostgreSQL reads the same way: digits, then a unit.
fn duration_ok(v: &str) -> bool {
    let digits = v.chars().take_while(char::is_ascii_digit).count();
    digits > 0
        && ["", "ms", "s", "min", "h"].contains(&&v[digits..])
        && (digits < v.len() || v == "0")
}
