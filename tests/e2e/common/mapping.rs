//! A mapping file written by a test, built instead of spelled out: a
//! source, `[defaults]`, and tables with their columns, indexes and foreign
//! keys, in the order given (the order of columns is the target's).
//!
//! ```text
//! Mapping::new("app.db")
//!     .default("commit_every", "chunk")
//!     .table("acct", &["id"])
//!     .column("id", "bigint").not_null()
//!     .column("pad", "text")
//!     .write(&toml);
//! ```

use std::path::Path;
use toml_edit::{ArrayOfTables, DocumentMut, Item, Table, Value};

pub struct Mapping {
    doc: DocumentMut,
    /// The section `set` writes to.
    at: At,
}

enum At {
    Source,
    Table(String),
    Column(String, String),
    /// The last entry of `[[tables.<table>.<kind>]]`.
    Entry(String, &'static str),
}

impl Mapping {
    /// `[source] path = SOURCE` (relative to the mapping file, or absolute).
    pub fn new(source: impl AsRef<Path>) -> Mapping {
        Mapping {
            doc: DocumentMut::new(),
            at: At::Source,
        }
        .set("path", source.as_ref().to_str().expect("UTF-8 path"))
    }

    /// `KEY = VALUE` in `[defaults]`, wherever the builder is.
    pub fn default(mut self, key: &str, value: impl Into<Value>) -> Mapping {
        let defaults = sub(self.doc.as_table_mut(), "defaults", false);
        defaults.insert(key, Item::Value(value.into()));
        self
    }

    /// `[tables.NAME]` with its `primary_key`; the columns, indexes and
    /// foreign keys that follow are its.
    pub fn table(mut self, name: &str, primary_key: &[&str]) -> Mapping {
        self.at = At::Table(name.into());
        self.set_list("primary_key", primary_key)
    }

    /// `[tables.<table>.columns.NAME] type = TYPE`; `set`, `not_null` and
    /// `identity` then write to it.
    pub fn column(mut self, name: &str, ty: &str) -> Mapping {
        self.at = At::Column(self.table_name(), name.into());
        self.set("type", ty)
    }

    pub fn not_null(self) -> Mapping {
        self.set("not_null", true)
    }

    pub fn identity(self) -> Mapping {
        self.set("identity", true)
    }

    /// `[[tables.<table>.indexes]]` named NAME on COLUMNS.
    pub fn index(self, name: &str, columns: &[&str]) -> Mapping {
        self.entry("indexes")
            .set("name", name)
            .set_list("columns", columns)
    }

    /// `[[tables.<table>.foreign_keys]]` on COLUMNS; `set` adds what it
    /// references (`references`, or `references_target` and `ref_columns`)
    /// and its actions.
    pub fn foreign_key(self, columns: &[&str]) -> Mapping {
        self.entry("foreign_keys").set_list("columns", columns)
    }

    /// `KEY = VALUE` in the source, table, column, index or foreign key last
    /// named.
    pub fn set(mut self, key: &str, value: impl Into<Value>) -> Mapping {
        self.section().insert(key, Item::Value(value.into()));
        self
    }

    /// `KEY = [ITEMS]` there.
    pub fn set_list(self, key: &str, items: &[&str]) -> Mapping {
        let list: Value = items.iter().copied().collect();
        self.set(key, list)
    }

    pub fn write(&self, path: &Path) {
        std::fs::write(path, self.doc.to_string()).unwrap();
    }

    fn entry(mut self, kind: &'static str) -> Mapping {
        let table = self.table_name();
        let t = sub(sub(self.doc.as_table_mut(), "tables", true), &table, false);
        t.entry(kind)
            .or_insert_with(|| Item::ArrayOfTables(ArrayOfTables::new()))
            .as_array_of_tables_mut()
            .expect("an array of tables")
            .push(Table::new());
        self.at = At::Entry(table, kind);
        self
    }

    fn table_name(&self) -> String {
        match &self.at {
            At::Table(t) | At::Column(t, _) | At::Entry(t, _) => t.clone(),
            At::Source => panic!("name a table first"),
        }
    }

    fn section(&mut self) -> &mut Table {
        let root = self.doc.as_table_mut();
        match &self.at {
            At::Source => sub(root, "source", false),
            At::Table(t) => sub(sub(root, "tables", true), t, false),
            At::Column(t, c) => {
                let table = sub(sub(root, "tables", true), t, false);
                sub(sub(table, "columns", true), c, false)
            }
            At::Entry(t, kind) => sub(sub(root, "tables", true), t, false)[*kind]
                .as_array_of_tables_mut()
                .and_then(|a| a.iter_mut().last())
                .expect("an entry"),
        }
    }
}

/// The table at `key` in `parent`, made if missing (`implicit`: no header
/// of its own, as `[tables]` above `[tables.t]`).
fn sub<'a>(parent: &'a mut Table, key: &str, implicit: bool) -> &'a mut Table {
    parent
        .entry(key)
        .or_insert_with(|| {
            let mut t = Table::new();
            t.set_implicit(implicit);
            Item::Table(t)
        })
        .as_table_mut()
        .expect("a table")
}
