//! What `introspect` reads of the SQLite schema, as plain values: tables,
//! columns, keys, indexes and foreign keys. Every later step (init's
//! inference, the views, the virtual tables) works from these.

#[derive(Debug, Clone, PartialEq)]
pub struct SourceSchema {
    /// Parents before children where foreign keys allow (cycles fall back to
    /// name order).
    pub tables: Vec<SourceTable>,
    pub views: Vec<String>,
    /// Objects not moved: virtual tables and their shadow tables, views and
    /// triggers.
    pub warnings: Vec<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct SourceTable {
    pub name: String,
    pub columns: Vec<SourceColumn>,
    /// Primary key columns in key order.
    pub primary_key: Vec<String>,
    pub autoincrement: bool,
    pub without_rowid: bool,
    /// The `INTEGER PRIMARY KEY` column that is the rowid.
    pub rowid_alias: Option<String>,
    /// Indexes from `UNIQUE` constraints and `CREATE INDEX`; not the one
    /// implementing the primary key.
    pub indexes: Vec<SourceIndex>,
    pub foreign_keys: Vec<SourceForeignKey>,
    /// CHECK expressions as written (without the outer parentheses).
    pub checks: Vec<String>,
    pub row_count: u64,
    pub sql: String,
    /// AUTOINCREMENT high-water mark from `sqlite_sequence` (may be above
    /// the largest id still present: SQLite never reuses ids below it).
    pub sequence: Option<i64>,
    /// A virtual table moved as a plain table: its module (`fts5`, …).
    pub virtual_module: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct SourceColumn {
    pub name: String,
    pub declared_type: String,
    pub not_null: bool,
    /// Raw default text (`dflt_value`).
    pub default: Option<String>,
    /// 1-based position in the primary key; 0 = not part of it.
    pub pk_position: u32,
    /// `table_xinfo.hidden`: 0 normal, 1 hidden (virtual tables), 2 virtual
    /// generated, 3 stored generated.
    pub hidden: i32,
    /// A generated column's expression as written.
    pub generated: Option<String>,
    /// The column's `COLLATE` clause when it has one (`NOCASE`, `RTRIM`,
    /// as written); `None` is SQLite's default `BINARY`.
    pub collation: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct SourceIndex {
    pub name: String,
    pub unique: bool,
    /// `c` (CREATE INDEX) or `u` (UNIQUE constraint).
    pub origin: String,
    pub columns: Vec<IndexPart>,
    /// Text after `WHERE` in the CREATE INDEX statement.
    pub partial_where: Option<String>,
    /// The CREATE INDEX statement; `None` for constraint indexes.
    pub sql: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum IndexPart {
    Column {
        name: String,
        desc: bool,
        /// Collation when not the default `BINARY` (e.g. `NOCASE`).
        collation: Option<String>,
    },
    /// Expression text from the CREATE INDEX statement (direction and
    /// collation stripped into `desc`).
    Expression { sql: String, desc: bool },
}

#[derive(Debug, Clone, PartialEq)]
pub struct SourceForeignKey {
    pub columns: Vec<String>,
    /// Parent table; normalised to the parent's actual spelling when it
    /// exists (SQLite matches names case-insensitively).
    pub ref_table: String,
    /// Empty = the parent's primary key.
    pub ref_columns: Vec<String>,
    pub on_delete: String,
    pub on_update: String,
    /// `Some(true)`: `DEFERRABLE INITIALLY DEFERRED`; `Some(false)`:
    /// `DEFERRABLE` (initially immediate); `None`: not deferrable.
    pub deferrable: Option<bool>,
}

impl SourceTable {
    pub fn column(&self, name: &str) -> Option<&SourceColumn> {
        self.columns
            .iter()
            .find(|c| c.name.eq_ignore_ascii_case(name))
    }
}

impl SourceSchema {
    pub fn table(&self, name: &str) -> Option<&SourceTable> {
        self.tables
            .iter()
            .find(|t| t.name.eq_ignore_ascii_case(name))
    }
}
