//! The mapping file (`pipelines/*.toml`): a declarative description of what
//! moves where and how each value converts.
//!
//! This file holds the types serde reads the TOML into (unknown keys are
//! errors) and what the rest of the program asks of them. Loading them
//! (`parse.rs`) is two passes: serde, then [`Pipeline::validate`] (in
//! `validate.rs`), which checks meaning (types parse, referenced columns
//! exist, names do not collide); every problem is reported at once, each
//! with the line of the offending key (found by `locate.rs`).

use serde::{Deserialize, Serialize};
use std::path::PathBuf;

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
    /// SQLite views recreated in PostgreSQL after the tables are loaded,
    /// by name, in the order they are created (`init` writes each with its
    /// translated SQL, or `skip` with the reason it does not translate).
    #[serde(default, skip_serializing_if = "OrderedMap::is_empty")]
    pub views: OrderedMap<ViewMap>,
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
    /// The application framework whose bookkeeping table `init` found
    /// (informational: `init` chose the types with its conventions).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub framework: Option<Framework>,
}

/// An application framework, recognised by `init` from its migrations
/// bookkeeping table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Framework {
    Django,
    Rails,
    Prisma,
    Alembic,
    Knex,
    Sequelize,
    Laravel,
    Typeorm,
}

/// The case of the target names `init` wrote (docs/mapping.md, "Names"):
/// `lower` folds A–Z as PostgreSQL folds unquoted names (pgloader's
/// default), `keep` keeps them as the file spells them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum NameCase {
    Lower,
    Keep,
}

impl NameCase {
    /// `name` in this case: A–Z folded for `lower`, nothing else.
    pub fn apply(self, name: &str) -> String {
        match self {
            NameCase::Lower => name.to_ascii_lowercase(),
            NameCase::Keep => name.to_string(),
        }
    }
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
    /// The role that owns the tables (and their sequences) the tool
    /// creates, and the schema if the tool creates it; `--owner` overrides.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owner: Option<String>,
}

impl Default for TargetConfig {
    fn default() -> Self {
        TargetConfig {
            url: None,
            schema: default_schema(),
            if_not_empty: IfNotEmpty::Fail,
            owner: None,
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
    /// How long a statement waits for a lock held by another session (an
    /// application's open transaction) before the run stops naming that
    /// session: PostgreSQL's `lock_timeout` (`60s`, `500ms`, `5min`).
    #[serde(default = "d_lock_timeout")]
    pub lock_timeout: String,
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
    /// The case `init` wrote the target names in (a record of its choice:
    /// the names below are used as written).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub names: Option<NameCase>,
}

impl Default for Defaults {
    fn default() -> Self {
        Defaults {
            chunk_size: d_chunk_size(),
            commit_every: CommitEvery::default(),
            batch_size: d_batch_size(),
            workers: d_workers(),
            lock_timeout: d_lock_timeout(),
            reject_limit: 0,
            timezone: d_timezone(),
            timestamp_formats: Vec::new(),
            true_values: d_true(),
            false_values: d_false(),
            invalid_utf8: Utf8Policy::Reject,
            keys_during_copy: true,
            maintenance_work_mem: d_maintenance_work_mem(),
            names: None,
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
fn d_lock_timeout() -> String {
    crate::pg::connect::DEFAULT_LOCK_TIMEOUT.to_string()
}
fn d_true_bool() -> bool {
    true
}
fn d_maintenance_work_mem() -> String {
    "512MB".into()
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
    /// Overrides `defaults.reject_limit` for this table.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reject_limit: Option<u64>,
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
    /// The source is a view (`[views.NAME] action = "materialize"`): its
    /// rows load into a table of its name. Set by parsing, never written.
    #[serde(skip)]
    pub from_view: bool,
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
    /// The date (UTC midnight, `YYYY-MM-DD`) the epoch's numbers count
    /// from; unset: 1970-01-01 (Unix). Core Data: `2001-01-01`; WebKit
    /// and Windows FILETIME: `1601-01-01`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub epoch_base: Option<String>,
    /// Time zone of naive values in this column (overrides defaults).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timezone: Option<String>,
    /// Wrap the value into a JSON object under this key (`{}` when NULL).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub json_wrap: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub invalid_utf8: Option<Utf8Policy>,
    /// What a NULL cell becomes: `default` writes the column's `default`
    /// (a constant, evaluated once when the mapping is loaded: binary COPY
    /// cannot ask for DEFAULT per cell); `reject` makes the row a reject.
    /// Unset: NULL is loaded as NULL, and is a reject in a NOT NULL column.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub on_null: Option<OnNull>,
    /// A PostgreSQL expression (over target column names): the column is
    /// created `GENERATED ALWAYS AS (expr) STORED`, left out of COPY and
    /// computed by PostgreSQL; `verify` compares its values with SQLite's.
    /// `init` writes it for a SQLite generated column whose expression
    /// translates.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub generated: Option<String>,
    /// `init` chose this type on its own, an upgrade of the declared
    /// mapping (docs/mapping.md, "Decisions init made on its own"):
    /// `check` proves every cell reads back the same.
    #[serde(default, skip_serializing_if = "is_false")]
    pub auto: bool,
}

/// A column's `on_null`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OnNull {
    /// The column's (constant) default is written instead.
    Default,
    /// The row is rejected.
    Reject,
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
    /// Place the column right after this target column when the tool
    /// creates the table (default: after every other column).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub after: Option<String>,
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
    /// Referenced *source* table (its key in `[tables]`). Either this or
    /// `references_target`.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub references: String,
    /// Referenced table of the *target* that is not part of this pipeline
    /// (in `target.schema`), e.g. the application's `users`; needs
    /// `ref_columns`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub references_target: Option<String>,
    /// With `references_target`: when that table does not exist, the key is
    /// not added (and the run says so) instead of failing the run.
    #[serde(default, skip_serializing_if = "is_false")]
    pub if_exists: bool,
    /// Referenced target columns; empty = the referenced primary key
    /// (required with `references_target`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ref_columns: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub on_delete: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub on_update: Option<String>,
    /// `DEFERRABLE`, checked at commit (`initially deferred`) or at each
    /// statement unless deferred with SET CONSTRAINTS (`initially
    /// immediate`), as the source declared it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deferrable: Option<Deferrable>,
    /// Rows of the source whose key has no parent row (SQLite enforces
    /// foreign keys only with `PRAGMA foreign_keys = ON`), as `init` counted
    /// them: acknowledged, they all load and the key is added NOT VALID
    /// (PostgreSQL enforces it for new rows) without validating it. More
    /// orphans than this fail the run with exit 3.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub orphans: Option<u64>,
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
pub enum Deferrable {
    #[serde(rename = "initially deferred")]
    InitiallyDeferred,
    #[serde(rename = "initially immediate")]
    InitiallyImmediate,
}

impl Deferrable {
    pub fn sql(self) -> &'static str {
        match self {
            Deferrable::InitiallyDeferred => "DEFERRABLE INITIALLY DEFERRED",
            Deferrable::InitiallyImmediate => "DEFERRABLE INITIALLY IMMEDIATE",
        }
    }
}

/// A view of the source (`[views.NAME]`).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ViewMap {
    pub action: ViewAction,
    /// The view's SELECT in PostgreSQL syntax over target names (`create`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sql: Option<String>,
    /// The view's columns as a table's (`materialize`), keyed by the names
    /// SQLite gives them; `init` writes them for a view it cannot
    /// translate, so materializing it is one word to change.
    #[serde(default, skip_serializing_if = "toml::map::Map::is_empty")]
    pub columns: toml::map::Map<String, toml::Value>,
    /// Overrides `defaults.reject_limit` for a materialized view.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reject_limit: Option<u64>,
}

/// What becomes of a view: created with `CREATE OR REPLACE VIEW` in
/// finalize, its rows loaded into a table of its name (a snapshot taken
/// by the run, pgloader's approach), or not moved (named by `check` and
/// `run`).
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum ViewAction {
    Create,
    Materialize,
    Skip,
    /// `init` refused it only for a column's type: `check` and `run`
    /// translate it again over the mapping as it is now, and create it
    /// when it translates (docs/mapping.md, "Decisions init made on its
    /// own").
    Auto,
}

impl Pipeline {
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

    /// Rejected rows tolerated in `source` before it fails: the table's
    /// own `reject_limit`, else `defaults.reject_limit`.
    pub fn reject_limit(&self, source: &str) -> u64 {
        self.table(source)
            .and_then(|t| t.reject_limit)
            .unwrap_or(self.defaults.reject_limit)
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
        for (n, t) in self.table_maps.iter().filter(|(_, t)| !t.from_view) {
            p.tables.insert(n.clone(), toml::Value::try_from(t)?);
        }
        toml::to_string_pretty(&p)
    }
}

impl TableMap {
    /// This map as a materialized view's: its source has no rowid (one
    /// chunk, rows keyed by their place) and its key path is `views.NAME`.
    pub fn of_view(self) -> TableMap {
        TableMap {
            without_rowid: true,
            from_view: true,
            ..self
        }
    }

    /// Its key path in the file: `tables.NAME`, or `views.NAME` for a
    /// materialized view.
    pub fn key(&self, source: &str) -> String {
        let section = if self.from_view { "views" } else { "tables" };
        format!("{section}.{}", key_seg(source))
    }

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
