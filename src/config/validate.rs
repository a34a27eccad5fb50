//! Semantic checks of a parsed mapping file ([`Pipeline::validate`]): types
//! and time zones resolve, referenced columns and tables exist, names fit
//! PostgreSQL and do not collide. Every problem is reported, not just the
//! first; `Pipeline::parse` then gives each its line.

use super::issue::MappingIssue;
use super::mapping::{fk_action, key_seg, OnNull, Pipeline, Utf8Policy, ViewAction};
use super::plan::{convert_options, null_default_value};
use crate::convert::Converter;
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

impl Pipeline {
    /// Semantic checks; every problem, not just the first.
    pub fn validate(&self) -> Vec<MappingIssue> {
        let mut out = Vec::new();
        let mut push = |key: String, message: String| {
            out.push(MappingIssue {
                key,
                line: None,
                message,
            })
        };
        let d = &self.defaults;
        if d.chunk_size == 0 {
            push("defaults.chunk_size".into(), "must be at least 1".into());
        }
        if d.batch_size == 0 {
            push("defaults.batch_size".into(), "must be at least 1".into());
        }
        if d.workers == 0 || d.workers > 64 {
            push("defaults.workers".into(), "must be between 1 and 64".into());
        }
        if !duration_ok(&d.lock_timeout) {
            push(
                "defaults.lock_timeout".into(),
                format!(
                    "`{}` is not a duration: a whole number with ms, s, min or h (e.g. `60s`, `500ms`); `0` waits forever",
                    d.lock_timeout
                ),
            );
        }
        if memory_kb(&d.maintenance_work_mem).is_none() {
            push(
                "defaults.maintenance_work_mem".into(),
                format!(
                    "`{}` is not a memory size PostgreSQL accepts here: a whole number with kB, MB, GB or TB, \
                     from 1MB to 2147483647kB (e.g. `512MB`, `2GB`)",
                    d.maintenance_work_mem
                ),
            );
        }
        // The resolver `plan` uses; with no column it fails only on
        // `defaults.timezone` ("unknown time zone `…`").
        if let Err(e) = convert_options(d, None) {
            push(
                "defaults.timezone".into(),
                format!("{e} (use an IANA name such as `UTC` or `Europe/Berlin`)"),
            );
        }
        let tv: HashSet<_> = d.true_values.iter().map(|s| s.to_lowercase()).collect();
        for f in &d.false_values {
            if tv.contains(&f.to_lowercase()) {
                push(
                    "defaults.false_values".into(),
                    format!("`{f}` is in both true_values and false_values"),
                );
            }
        }
        if self.target.schema.trim().is_empty() {
            push("target.schema".into(), "must not be empty".into());
        }
        if self.target.schema == "sqlite2pg" {
            push(
                "target.schema".into(),
                "`sqlite2pg` holds this tool's own state; load into another schema".into(),
            );
        }
        let too_long = |n: &str| n.len() > crate::pg::ident::MAX_IDENT_BYTES;
        let mut targets: BTreeMap<String, String> = BTreeMap::new();
        // Index name → (its table, its key in the file).
        let mut index_names: BTreeMap<String, (String, String)> = BTreeMap::new();
        let source_names: HashSet<&str> = self.table_maps.iter().map(|(n, _)| n.as_str()).collect();
        for (src, t) in self.included_tables() {
            let tp = t.key(src);
            let tname = t.target_name(src);
            if too_long(tname) {
                push(
                    format!("{tp}.target"),
                    format!("`{tname}` is longer than PostgreSQL's 63 bytes; shorten it"),
                );
            }
            // Every identifier is quoted, so names compare exactly.
            if let Some(prev) = targets.insert(tname.to_string(), src.to_string()) {
                if t.from_view {
                    push(
                        format!("{tp}.action"),
                        format!(
                            "materialized, view `{src}` would be table `{tname}`, which is already \
                             the target of source table `{prev}` (rename that one with its `target`)"
                        ),
                    );
                } else {
                    push(
                        format!("{tp}.target"),
                        format!(
                            "target table `{tname}` is also the target of source table `{prev}`"
                        ),
                    );
                }
            }
            let mut cols: HashSet<String> = HashSet::new();
            let mut any = false;
            for (cname, c) in t.columns.iter() {
                let cp = format!("{tp}.columns.{}", key_seg(cname));
                if !c.include {
                    continue;
                }
                any = true;
                // `PgType::parse`, as in `plan`: one parser for a type.
                let ty = match PgType::parse(&c.pg_type) {
                    Ok(ty) => Some(ty),
                    Err(e) => {
                        push(format!("{cp}.type"), e);
                        None
                    }
                };
                let target = c.target_name(cname);
                if too_long(target) {
                    push(
                        format!("{cp}.target"),
                        format!("`{target}` is longer than PostgreSQL's 63 bytes; shorten it"),
                    );
                }
                if !cols.insert(target.to_string()) {
                    push(
                        format!("{cp}.target"),
                        format!("target column `{target}` appears twice in table `{tname}`"),
                    );
                }
                if crate::pg::ident::SYSTEM_COLUMNS.contains(&target) {
                    push(
                        format!("{cp}.target"),
                        format!(
                            "`{target}` is the name of a PostgreSQL system column; \
                             rename it (e.g. target = \"{target}_\")"
                        ),
                    );
                }
                // The column's own time zone, resolved as `plan` resolves
                // it; without one it is the default's, reported above.
                if c.timezone.is_some() {
                    if let Err(e) = convert_options(d, Some(c)) {
                        push(format!("{cp}.timezone"), e);
                    }
                }
                if let Some(g) = &c.generated {
                    let clash = [
                        (c.identity, "identity"),
                        (c.default.is_some(), "default"),
                        (c.on_null.is_some(), "on_null"),
                        (c.json_wrap.is_some(), "json_wrap"),
                    ]
                    .into_iter()
                    .filter(|(on, _)| *on)
                    .map(|(_, k)| k)
                    .collect::<Vec<_>>();
                    if g.trim().is_empty() {
                        push(
                            format!("{cp}.generated"),
                            "an empty generation expression; remove `generated` to load the column's values".into(),
                        );
                    } else if !clash.is_empty() {
                        push(
                            format!("{cp}.generated"),
                            format!(
                                "a generated column is computed by PostgreSQL, so it takes no {}",
                                clash.join(", ")
                            ),
                        );
                    }
                }
                if c.sequence_floor.is_some() && !c.identity {
                    push(
                        format!("{cp}.sequence_floor"),
                        "only meaningful with identity = true".into(),
                    );
                }
                if c.identity && !ty.as_ref().is_some_and(PgType::is_integer) {
                    push(
                        format!("{cp}.identity"),
                        "identity needs an integer type (smallint, integer, bigint)".into(),
                    );
                }
                if c.invalid_utf8 == Some(Utf8Policy::Bytea) && ty != Some(PgType::Bytea) {
                    push(
                        format!("{cp}.invalid_utf8"),
                        "`bytea` needs the column type to be bytea".into(),
                    );
                }
                if c.json_wrap.is_some()
                    && !matches!(ty, Some(PgType::Json) | Some(PgType::Jsonb) | None)
                {
                    push(
                        format!("{cp}.json_wrap"),
                        "json_wrap needs the column type to be json or jsonb".into(),
                    );
                }
                match (c.on_null, &c.default) {
                    (Some(OnNull::Default), _) if c.json_wrap.is_some() => push(
                        format!("{cp}.on_null"),
                        "json_wrap already writes {} for a NULL cell; drop on_null".into(),
                    ),
                    (Some(OnNull::Default), _) if c.identity => push(
                        format!("{cp}.on_null"),
                        "an identity column has no constant default to write; drop on_null".into(),
                    ),
                    (Some(OnNull::Default), None) => push(
                        format!("{cp}.on_null"),
                        "on_null = \"default\" needs the column's `default` (a constant) to write for a NULL cell"
                            .into(),
                    ),
                    (Some(OnNull::Default), Some(dflt)) => {
                        if let (Some(ty), Ok(opts)) = (&ty, convert_options(d, Some(c))) {
                            if let Err(e) =
                                null_default_value(&Converter::new(ty.clone(), opts), dflt)
                            {
                                push(format!("{cp}.on_null"), e);
                            }
                        }
                    }
                    _ => {}
                }
            }
            for (cname, c) in t.add_columns.iter() {
                let cp = format!("{tp}.add_columns.{}", key_seg(cname));
                any = true;
                if let Err(e) = PgType::parse(&c.pg_type) {
                    push(format!("{cp}.type"), e);
                }
                if !cols.insert(cname.clone()) {
                    push(
                        cp.clone(),
                        format!("target column `{cname}` appears twice in table `{tname}`"),
                    );
                }
                if c.not_null && c.default.is_none() {
                    push(
                        format!("{cp}.default"),
                        "a NOT NULL added column needs a default".into(),
                    );
                }
                // Placed after a loaded column or an added one before it.
                if let Some(after) = &c.after {
                    if !cols.contains(after) || after == cname {
                        push(
                            format!("{cp}.after"),
                            format!(
                                "`{after}` is not a target column of `{tname}` listed before this one \
                                 (a loaded column, or an added column earlier in the file)"
                            ),
                        );
                    }
                }
            }
            if !any && t.from_view && t.columns.is_empty() {
                push(
                    format!("{tp}.action"),
                    format!(
                        "action = \"materialize\" needs the view's columns and their types \
                         ([{tp}.columns.NAME] type = \"…\"; `sqlite2pg init` writes them)"
                    ),
                );
            } else if !any {
                push(format!("{tp}.columns"), "no included column".into());
            }
            let width = cols.len() + t.add_columns.len();
            if width > MAX_COLUMNS {
                push(
                    format!("{tp}.columns"),
                    format!(
                        "`{tname}` would have {width} columns; PostgreSQL allows {MAX_COLUMNS} per table: \
                         exclude some (include = false) or split the table"
                    ),
                );
            }
            let known = |c: &str| cols.contains(c);
            for pk in &t.primary_key {
                if !known(pk) {
                    push(
                        format!("{tp}.primary_key"),
                        format!("`{pk}` is not a target column of `{tname}`"),
                    );
                }
            }
            for (i, ix) in t.indexes.iter().enumerate() {
                if ix.columns.is_empty() {
                    push(format!("{tp}.indexes.{i}.columns"), "empty".into());
                }
                let key = format!("{tp}.indexes.{i}.name");
                if let Some((other, _)) =
                    index_names.insert(ix.name.clone(), (tname.to_string(), key.clone()))
                {
                    push(
                        key,
                        format!(
                            "index `{}` is also the name of an index of `{other}` (index names are per schema)",
                            ix.name
                        ),
                    );
                }
                for c in &ix.columns {
                    if !c.starts_with('(') && !known(c) {
                        push(
                            format!("{tp}.indexes.{i}.columns"),
                            format!(
                                "`{c}` is not a target column of `{tname}` (write an expression in parentheses)"
                            ),
                        );
                    }
                }
            }
            for (i, fk) in t.foreign_keys.iter().enumerate() {
                let fp = format!("{tp}.foreign_keys.{i}");
                for c in &fk.columns {
                    if !known(c) {
                        push(
                            format!("{fp}.columns"),
                            format!("`{c}` is not a target column of `{tname}`"),
                        );
                    }
                }
                if let Some(outside) = &fk.references_target {
                    if !fk.references.is_empty() {
                        push(
                            format!("{fp}.references_target"),
                            "give either `references` (a source table of this mapping) or \
                             `references_target` (a target table outside the pipeline), not both"
                                .into(),
                        );
                    } else if outside.trim().is_empty() {
                        push(
                            format!("{fp}.references_target"),
                            "must not be empty".into(),
                        );
                    } else if let Some((src2, _)) = self
                        .included_tables()
                        .find(|(s2, t2)| t2.target_name(s2) == outside)
                    {
                        push(
                            format!("{fp}.references_target"),
                            format!(
                                "`{outside}` is a target table of this pipeline (source table `{src2}`): \
                                 write references = \"{src2}\" instead"
                            ),
                        );
                    } else if too_long(outside) {
                        push(
                            format!("{fp}.references_target"),
                            format!("`{outside}` is longer than PostgreSQL's 63 bytes"),
                        );
                    }
                    if fk.ref_columns.is_empty() {
                        push(
                            format!("{fp}.ref_columns"),
                            format!(
                                "required with references_target: the columns of `{outside}` this key references"
                            ),
                        );
                    }
                } else if fk.references.is_empty() {
                    push(
                        format!("{fp}.references"),
                        "missing: `references` (a source table of this mapping) or \
                         `references_target` (a target table outside the pipeline)"
                            .into(),
                    );
                }
                if fk.if_exists && fk.references_target.is_none() {
                    push(
                        format!("{fp}.if_exists"),
                        "only meaningful with references_target (a table of this pipeline always exists)"
                            .into(),
                    );
                }
                let source_ref = !fk.references.is_empty();
                if source_ref && self.table(&fk.references).is_some_and(|p| !p.include) {
                    push(
                        format!("{tp}.foreign_keys.{i}.references"),
                        format!(
                            "`{}` is excluded (include = false): drop this foreign key or include the table",
                            fk.references
                        ),
                    );
                }
                if source_ref && !source_names.contains(fk.references.as_str()) {
                    push(
                        format!("{tp}.foreign_keys.{i}.references"),
                        format!("`{}` is not a table of this mapping", fk.references),
                    );
                }
                if !fk.ref_columns.is_empty() && fk.ref_columns.len() != fk.columns.len() {
                    push(
                        format!("{tp}.foreign_keys.{i}.ref_columns"),
                        "must have as many columns as `columns`".into(),
                    );
                }
                for (k, a) in [("on_delete", &fk.on_delete), ("on_update", &fk.on_update)] {
                    if let Some(a) = a {
                        if fk_action(a).is_none() {
                            push(
                                format!("{tp}.foreign_keys.{i}.{k}"),
                                format!("`{a}` is not one of cascade, restrict, set null, set default, no action"),
                            );
                        }
                    }
                }
            }
        }
        for (name, (tname, key)) in index_names {
            if targets.contains_key(&name) {
                push(
                    key,
                    format!(
                        "index `{name}` of `{tname}` has the name of a target table (tables and indexes share a schema's names)"
                    ),
                );
            }
        }
        // Views share the schema's names with the tables.
        for (name, v) in &self.views {
            let vp = format!("views.{}", key_seg(name));
            if too_long(name) {
                push(
                    vp.clone(),
                    format!("view `{name}` is longer than PostgreSQL's 63 bytes"),
                );
            }
            // A materialized view is a target table: checked as one above.
            if let Some(src) = targets
                .get(name)
                .filter(|_| v.action != ViewAction::Materialize)
            {
                push(
                    vp.clone(),
                    format!("view `{name}` has the name of the target table of `{src}`"),
                );
            }
            let empty = v.sql.as_deref().is_none_or(|s| s.trim().is_empty());
            if v.action == ViewAction::Create && empty {
                push(
                    format!("{vp}.action"),
                    "action = \"create\" needs the view's SELECT in `sql`".into(),
                );
            }
        }
        out
    }
}

/// A `lock_timeout` PostgreSQL reads the same way: digits, then a unit.
fn duration_ok(v: &str) -> bool {
    let digits = v.chars().take_while(char::is_ascii_digit).count();
    digits > 0
        && ["", "ms", "s", "min", "h"].contains(&&v[digits..])
        && (digits < v.len() || v == "0")
}

/// PostgreSQL's limit of columns per table (`MaxHeapAttributeNumber`).
const MAX_COLUMNS: usize = 1600;
