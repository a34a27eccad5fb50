//! The mapping file (`pipelines/*.toml`): a declarative description of what
//! moves where and how each value converts.
//!
//! Loading is two passes: serde turns the TOML into these structs (unknown
//! keys are errors), then [`Pipeline::validate`] checks meaning (types parse,
//! referenced columns exist, names do not collide) and reports *every*
//! problem at once, each with the line of the offending key.

use super::locate::{issue_from_toml, Locator};
use crate::pg::types::PgType;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashSet};
use std::path::{Path, PathBuf};

/// Key paths of the mapping, as issues and state name them.
pub use super::locate::key_seg;
/// Conversion options the mapping names; defined where they are used.
pub use crate::convert::{EpochUnit, Utf8Policy};

/// Ordered map: tables and columns keep the order of the file.
pub type OrderedMap<V> = indexmap::IndexMap<String, V>;

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Pipeline {
    /// Name of this pipeline in the target's state tables; defaults to the
    /// file stem.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    pub source: SourceConfig,
    #[serde(default)]
    pub target: TargetConfig,
    #[serde(default)]
    pub defaults: Defaults,
    #[serde(default)]
    pub tables: toml::map::Map<String, toml::Value>,
    /// Parsed form of `tables` (kept separately so each table can be
    /// deserialized on its own and its errors collected).
    #[serde(skip)]
    pub table_maps: Vec<(String, TableMap)>,
    /// Directory of the mapping file: relative paths resolve against it.
    #[serde(skip)]
    pub base_dir: PathBuf,
    #[serde(skip)]
    pub file: PathBuf,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SourceConfig {
    /// SQLite file; relative to the mapping file's directory.
    pub path: PathBuf,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TargetConfig {
    /// PostgreSQL URL; may contain `${VAR}`. Overridden by `--target`;
    /// `DATABASE_URL` is used when both are absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    #[serde(default = "default_schema")]
    pub schema: String,
    /// What to do when a target table already holds rows that this pipeline
    /// did not load: `fail` (default) or `truncate`.
    #[serde(default)]
    pub if_not_empty: IfNotEmpty,
}

impl Default for TargetConfig {
    fn default() -> Self {
        TargetConfig {
            url: None,
            schema: default_schema(),
            if_not_empty: IfNotEmpty::Fail,
        }
    }
}

fn default_schema() -> String {
    "public".into()
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum IfNotEmpty {
    #[default]
    Fail,
    Truncate,
}

/// How often the copy of a table commits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CommitEvery {
    /// One transaction per table that sqlite2pg created: `TRUNCATE` and
    /// `COPY … FREEZE`, so the rows arrive frozen and all-visible (the index
    /// builds, foreign-key checks and first queries do not rewrite every
    /// page; index-only scans work at once). A crash reloads the table.
    #[default]
    Table,
    /// One transaction per chunk: a crash resumes mid-table, and chunks of
    /// one table load in parallel; rows are not frozen.
    Chunk,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Defaults {
    /// Rows per chunk: the unit of reading, and of resume with
    /// `commit_every = "chunk"`.
    #[serde(default = "d_chunk_size")]
    pub chunk_size: u64,
    /// Commit each table's copy once (`table`, with COPY FREEZE) or each
    /// chunk (`chunk`). Tables can override it.
    #[serde(default)]
    pub commit_every: CommitEvery,
    /// Rows per batch on the channel between a chunk's reader (extract,
    /// transform, encode) and its load worker.
    #[serde(default = "d_batch_size")]
    pub batch_size: usize,
    /// Parallel load workers (one PostgreSQL connection each).
    #[serde(default = "d_workers")]
    pub workers: usize,
    /// Rejected rows tolerated per table before the table fails.
    #[serde(default)]
    pub reject_limit: u64,
    /// IANA time zone of naive (zone-less) source timestamps.
    #[serde(default = "d_timezone")]
    pub timezone: String,
    /// Extra chrono `strftime` formats tried after ISO-8601.
    #[serde(default)]
    pub timestamp_formats: Vec<String>,
    #[serde(default = "d_true")]
    pub true_values: Vec<String>,
    #[serde(default = "d_false")]
    pub false_values: Vec<String>,
    /// Text that is not valid UTF-8: `reject` (default) or `replace` (U+FFFD).
    #[serde(default)]
    pub invalid_utf8: Utf8Policy,
    /// Build each table's indexes, primary key and CHECKs as soon as it is
    /// loaded, while other tables copy (when finalize follows); `false`
    /// leaves them all to finalize.
    #[serde(default = "d_true_bool")]
    pub keys_during_copy: bool,
    /// `maintenance_work_mem` of each connection that builds indexes and
    /// validates foreign keys, in PostgreSQL's units (`512MB`, `2GB`).
    #[serde(default = "d_maintenance_work_mem")]
    pub maintenance_work_mem: String,
}

impl Default for Defaults {
    fn default() -> Self {
        Defaults {
            chunk_size: d_chunk_size(),
            commit_every: CommitEvery::default(),
            batch_size: d_batch_size(),
            workers: d_workers(),
            reject_limit: 0,
            timezone: d_timezone(),
            timestamp_formats: Vec::new(),
            true_values: d_true(),
            false_values: d_false(),
            invalid_utf8: Utf8Policy::Reject,
            keys_during_copy: true,
            maintenance_work_mem: d_maintenance_work_mem(),
        }
    }
}

fn d_chunk_size() -> u64 {
    100_000
}
fn d_batch_size() -> usize {
    2_000
}
fn d_workers() -> usize {
    4
}
fn d_true_bool() -> bool {
    true
}
fn d_maintenance_work_mem() -> String {
    "512MB".into()
}

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

fn d_timezone() -> String {
    "UTC".into()
}
fn d_true() -> Vec<String> {
    crate::convert::TRUE_WORDS.map(String::from).to_vec()
}
fn d_false() -> Vec<String> {
    crate::convert::FALSE_WORDS.map(String::from).to_vec()
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TableMap {
    /// Target table name; defaults to the source name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target: Option<String>,
    #[serde(default = "yes", skip_serializing_if = "is_true")]
    pub include: bool,
    /// SQL `WHERE` clause evaluated by SQLite on the source.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub filter: Option<String>,
    /// Source is a WITHOUT ROWID table (chunks by primary key order).
    #[serde(default, skip_serializing_if = "is_false")]
    pub without_rowid: bool,
    /// Overrides `defaults.commit_every` for this table (e.g. `chunk` for
    /// one table too big to reload after a crash).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub commit_every: Option<CommitEvery>,
    /// Target primary key columns (target names).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub primary_key: Vec<String>,
    /// Source columns, keyed by source name, in target column order.
    #[serde(default)]
    pub columns: OrderedMap<ColumnMap>,
    /// Target columns with no source column.
    #[serde(default, skip_serializing_if = "OrderedMap::is_empty")]
    pub add_columns: OrderedMap<AddColumn>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub indexes: Vec<IndexDef>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub foreign_keys: Vec<ForeignKeyDef>,
    /// CHECK constraints, already in PostgreSQL syntax over target names.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub checks: Vec<String>,
}

fn yes() -> bool {
    true
}
fn is_true(b: &bool) -> bool {
    *b
}
fn is_false(b: &bool) -> bool {
    !*b
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ColumnMap {
    /// Target column name; defaults to the source name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target: Option<String>,
    /// Target PostgreSQL type (`bigint`, `numeric(10,4)`, `timestamptz`, ...).
    #[serde(rename = "type")]
    pub pg_type: String,
    #[serde(default = "yes", skip_serializing_if = "is_true")]
    pub include: bool,
    #[serde(default, skip_serializing_if = "is_false")]
    pub not_null: bool,
    /// Column default in the target DDL, as a PostgreSQL expression.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default: Option<String>,
    /// `GENERATED BY DEFAULT AS IDENTITY`; its sequence is moved past the
    /// loaded maximum in `finalize`.
    #[serde(default, skip_serializing_if = "is_false")]
    pub identity: bool,
    /// The highest id the source ever handed out (SQLite AUTOINCREMENT's
    /// `sqlite_sequence`): `finalize` moves the sequence past
    /// max(column, sequence_floor), so ids deleted in SQLite are never reused.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sequence_floor: Option<i64>,
    /// Numbers in a timestamp/date column: their unit.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub epoch: Option<EpochUnit>,
    /// Time zone of naive values in this column (overrides defaults).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timezone: Option<String>,
    /// Wrap the value into a JSON object under this key (`{}` when NULL).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub json_wrap: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub invalid_utf8: Option<Utf8Policy>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AddColumn {
    #[serde(rename = "type")]
    pub pg_type: String,
    #[serde(default, skip_serializing_if = "is_false")]
    pub not_null: bool,
    /// Column default in the target DDL (PostgreSQL expression). Rows loaded
    /// by this tool get it too.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default: Option<String>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct IndexDef {
    pub name: String,
    /// Target column names, or PostgreSQL expressions wrapped in parentheses.
    pub columns: Vec<String>,
    #[serde(default, skip_serializing_if = "is_false")]
    pub unique: bool,
    /// Partial index predicate (PostgreSQL syntax over target names).
    #[serde(default, rename = "where", skip_serializing_if = "Option::is_none")]
    pub predicate: Option<String>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ForeignKeyDef {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Target column names in this table.
    pub columns: Vec<String>,
    /// Referenced *source* table (its key in `[tables]`).
    pub references: String,
    /// Referenced target columns; empty = the referenced primary key.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ref_columns: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub on_delete: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub on_update: Option<String>,
}

/// One problem found in a mapping file.
#[derive(Debug, Clone, PartialEq)]
pub struct MappingIssue {
    /// Dotted key path, e.g. `tables.users.columns.id.type`.
    pub key: String,
    pub line: Option<usize>,
    pub message: String,
}

/// All problems of one mapping file; exit code 2.
#[derive(Debug, thiserror::Error)]
pub struct MappingError {
    pub file: PathBuf,
    pub issues: Vec<MappingIssue>,
}

impl std::fmt::Display for MappingError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        writeln!(
            f,
            "invalid mapping file {} ({} problem{}):",
            self.file.display(),
            self.issues.len(),
            if self.issues.len() == 1 { "" } else { "s" }
        )?;
        for i in &self.issues {
            match i.line {
                Some(l) => writeln!(
                    f,
                    "  {}:{}: `{}`: {}",
                    self.file.display(),
                    l,
                    i.key,
                    i.message
                )?,
                None => writeln!(f, "  {}: `{}`: {}", self.file.display(), i.key, i.message)?,
            }
        }
        Ok(())
    }
}

impl Pipeline {
    /// Read, parse and validate a mapping file.
    pub fn load(file: &Path) -> Result<Pipeline, anyhow::Error> {
        let text = std::fs::read_to_string(file)
            .map_err(|e| anyhow::anyhow!("cannot read mapping file {}: {e}", file.display()))?;
        Ok(Pipeline::parse(&text, file)?)
    }

    /// Parse and validate mapping text; `file` is used for messages and to
    /// resolve relative paths.
    pub fn parse(text: &str, file: &Path) -> Result<Pipeline, MappingError> {
        let err = |issues| MappingError {
            file: file.to_path_buf(),
            issues,
        };
        let locator = Locator::new(text);
        let mut p: Pipeline = match toml::from_str(text) {
            Ok(p) => p,
            Err(e) => return Err(err(vec![issue_from_toml(&e, text, "")])),
        };
        p.file = file.to_path_buf();
        p.base_dir = file
            .parent()
            .map(Path::to_path_buf)
            .filter(|d| !d.as_os_str().is_empty())
            .unwrap_or_else(|| PathBuf::from("."));
        let mut issues = Vec::new();
        for (name, v) in &p.tables {
            let prefix = format!("tables.{}", key_seg(name));
            // Re-serialize just this table so its own errors carry its path.
            match TableMap::deserialize(v.clone()) {
                Ok(t) => p.table_maps.push((name.clone(), t)),
                Err(e) => issues.push(MappingIssue {
                    line: locator.line_of(&prefix),
                    key: prefix,
                    message: e.to_string().trim().to_string(),
                }),
            }
        }
        issues.extend(p.validate());
        for i in issues.iter_mut() {
            if i.line.is_none() {
                i.line = locator.line_of(&i.key);
            }
        }
        if issues.is_empty() {
            Ok(p)
        } else {
            Err(err(issues))
        }
    }

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
        if d.timezone.parse::<chrono_tz::Tz>().is_err() {
            push(
                "defaults.timezone".into(),
                format!(
                    "unknown time zone `{}` (use an IANA name such as `UTC` or `Europe/Berlin`)",
                    d.timezone
                ),
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
            let tp = format!("tables.{}", key_seg(src));
            let tname = t.target_name(src);
            if too_long(tname) {
                push(
                    format!("{tp}.target"),
                    format!("`{tname}` is longer than PostgreSQL's 63 bytes; shorten it"),
                );
            }
            // Every identifier is quoted, so names compare exactly.
            if let Some(prev) = targets.insert(tname.to_string(), src.to_string()) {
                push(
                    format!("{tp}.target"),
                    format!("target table `{tname}` is also the target of source table `{prev}`"),
                );
            }
            let mut cols: HashSet<String> = HashSet::new();
            let mut any = false;
            for (cname, c) in t.columns.iter() {
                let cp = format!("{tp}.columns.{}", key_seg(cname));
                if !c.include {
                    continue;
                }
                any = true;
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
                if let Some(tz) = &c.timezone {
                    if tz.parse::<chrono_tz::Tz>().is_err() {
                        push(
                            format!("{cp}.timezone"),
                            format!("unknown time zone `{tz}`"),
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
            }
            if !any {
                push(format!("{tp}.columns"), "no included column".into());
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
                for c in &fk.columns {
                    if !known(c) {
                        push(
                            format!("{tp}.foreign_keys.{i}.columns"),
                            format!("`{c}` is not a target column of `{tname}`"),
                        );
                    }
                }
                if self.table(&fk.references).is_some_and(|p| !p.include) {
                    push(
                        format!("{tp}.foreign_keys.{i}.references"),
                        format!(
                            "`{}` is excluded (include = false): drop this foreign key or include the table",
                            fk.references
                        ),
                    );
                }
                if !source_names.contains(fk.references.as_str()) {
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
        out
    }

    pub fn included_tables(&self) -> impl Iterator<Item = (&str, &TableMap)> {
        self.table_maps
            .iter()
            .filter(|(_, t)| t.include)
            .map(|(n, t)| (n.as_str(), t))
    }

    pub fn table(&self, source: &str) -> Option<&TableMap> {
        self.table_maps
            .iter()
            .find(|(n, _)| n == source)
            .map(|(_, t)| t)
    }

    /// Absolute (or cwd-relative) path of the SQLite source.
    pub fn source_path(&self) -> PathBuf {
        if self.source.path.is_absolute() {
            self.source.path.clone()
        } else {
            self.base_dir.join(&self.source.path)
        }
    }

    /// The pipeline's name in the state tables.
    pub fn pipeline_name(&self) -> String {
        self.name.clone().unwrap_or_else(|| {
            self.file
                .file_stem()
                .map(|s| s.to_string_lossy().into_owned())
                .unwrap_or_else(|| "pipeline".into())
        })
    }

    /// Serialize back to TOML (used by `init`); `table_maps` are written
    /// under `[tables]`.
    pub fn to_toml(&self) -> Result<String, toml::ser::Error> {
        let mut p = self.clone();
        p.tables = toml::map::Map::new();
        for (n, t) in &self.table_maps {
            p.tables.insert(n.clone(), toml::Value::try_from(t)?);
        }
        toml::to_string_pretty(&p)
    }
}

impl TableMap {
    pub fn target_name<'a>(&'a self, source: &'a str) -> &'a str {
        self.target.as_deref().unwrap_or(source)
    }
}

impl ColumnMap {
    pub fn target_name<'a>(&'a self, source: &'a str) -> &'a str {
        self.target.as_deref().unwrap_or(source)
    }
}

/// Canonical SQL for an ON DELETE/UPDATE action, if valid.
pub fn fk_action(a: &str) -> Option<&'static str> {
    match a
        .to_ascii_lowercase()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .as_str()
    {
        "cascade" => Some("CASCADE"),
        "restrict" => Some("RESTRICT"),
        "set null" => Some("SET NULL"),
        "set default" => Some("SET DEFAULT"),
        "no action" => Some("NO ACTION"),
        _ => None,
    }
}

#[cfg(test)]
#[path = "mapping_tests.rs"]
mod tests;
