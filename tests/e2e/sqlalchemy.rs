//! Issue 13's done-when for SQLAlchemy 2 (a real SQLAlchemy and Alembic
//! from PyPI, `tests/apps/sqlalchemy_app`): a file the app made (its
//! schema by `alembic upgrade head`, so it holds `alembic_version`) moves
//! into PostgreSQL twice:
//! (a) into the schema `init` designs, made by `run`;
//! (b) into the schema the app's own migration made (`alembic upgrade
//!     head`, whose revision runs `metadata.create_all`), with `run
//!     --truncate` and the mapping `init` wrote.
//!
//! Each time SQLAlchemy reads every object back equal from both databases,
//! attribute by attribute with its Python type (UUID objects, Decimals
//! with their scale, floats bit for bit, naive datetimes naive, bytes,
//! JSON, enums), and inserts a new object of every model.

use crate::common::venv::*;
use crate::common::*;
use std::path::Path;
use std::process::Command;

/// `app.py DB COMMAND`: DB a SQLite path or a postgres:// URL.
fn app(py: &Path, db: &str, cmd: &str) -> String {
    let o = Command::new(py)
        .arg(apps_dir().join("sqlalchemy_app/app.py"))
        .args([db, cmd])
        .env("PYTHONDONTWRITEBYTECODE", "1")
        .output()
        .expect("run app.py");
    succeeded(&format!("app.py {db} {cmd}"), o)
}

/// The app's SQLite file, populated; `init`'s mapping for it, whose stderr
/// must say what it recognised and which conventions it applied.
fn source_and_mapping(py: &Path, dir: &Path) -> (String, std::path::PathBuf) {
    let src = dir.join("app.db");
    let src = src.to_str().unwrap().to_string();
    app(py, &src, "upgrade");
    assert_eq!(app(py, &src, "populate").trim(), "populated");
    let toml = dir.join("p.toml");
    let o = sqlite2pg(&["init", &src, "-o", toml.to_str().unwrap()]);
    let e = stderr(&o);
    assert_exit(&o, 0, &[]);
    for said in [
        "init: framework: Alembic (SQLAlchemy) (recognised by its table `alembic_version`)",
        "SQLAlchemy: 1 Uuid column(s) (CHAR(32), every cell 32 hex digits) → uuid, \
         as its PostgreSQL dialect makes them: books.uid",
        "init: SQLAlchemy: Uuid columns",
        "PostgreSQL: alembic upgrade head\n",
    ] {
        assert!(e.contains(said), "init does not say {said:?}:\n{e}");
    }
    let mapping = std::fs::read_to_string(&toml).unwrap();
    assert!(mapping.contains("\nframework = \"alembic\"\n"), "{mapping}");
    for (col, ty) in [
        ("books.columns.uid", "uuid"),
        ("books.columns.price", "numeric(10,4)"),
        ("books.columns.meta", "json"),
        ("books.columns.published", "timestamp"),
        ("authors.columns.last_seen", "timestamp"),
        ("authors.columns.active", "boolean"),
        ("books.columns.cover", "bytea"),
    ] {
        let want = format!("[tables.{col}]\ntype = \"{ty}\"\n");
        assert!(mapping.contains(&want), "no {want:?} in:\n{mapping}");
    }
    (src, toml)
}

/// Every object through the ORM from both databases: equal, and the
/// values typed as the app wrote them.
fn assert_reads_back_equal(py: &Path, src: &str, url: &str) {
    let from_sqlite = app(py, src, "dump");
    let from_pg = app(py, url, "dump");
    for typed in [
        "\"UUID\",\n    \"UUID('12345678-1234-5678-1234-567812345678')\"",
        "\"Decimal\",\n    \"Decimal('12.5000')\"",
        "\"Decimal\",\n    \"Decimal('-0.0001')\"",
        "\"float\",\n    \"0x1.5555555555555p-2\"",
        "\"float\",\n    \"0x0.0000000000001p-1022\"",
        "\"bytes\",\n    \"0001feff\"",
        "\"datetime\",\n    \"2024-02-29T23:59:59.999999\",\n    \"naive\"",
        "\"datetime (timezone=True)\",\n    \"2001-02-03T04:05:06.789012\"",
        "\"Kind\",\n    \"ebook\"",
        "\"Status\",\n    \"out_of_print\"",
        "\"list\",\n    \"[1, \\\"two\\\", 3.0]\"",
    ] {
        assert!(from_sqlite.contains(typed), "{typed} not in {from_sqlite}");
    }
    assert!(
        from_sqlite == from_pg,
        "SQLAlchemy reads different objects back:\n{}",
        first_difference(&from_sqlite, &from_pg)
    );
}

/// A new object of every model (sequences past the loaded ids), and its
/// association rows.
fn assert_inserts_new(py: &Path, url: &str) {
    let made = app(py, url, "insert_new");
    assert_eq!(made, "Author 4\nTag 5\nBook 5\nbook_tags 2\n");
}

#[test]
fn sqlalchemy_on_the_schema_init_designs_reads_back_equal_and_inserts_new_rows() {
    let py = python();
    let dir = tempfile::tempdir().unwrap();
    let (src, toml) = source_and_mapping(&py, dir.path());
    let db = TestDb::new();
    let o = run_pipeline(&toml, &db.url, &[]);
    assert_exit(&o, 0, &[]);
    assert_eq!(
        db.scalar("SELECT format_type(atttypid, atttypmod) FROM pg_attribute WHERE attrelid = 'books'::regclass AND attname = 'price'"),
        "numeric(10,4)"
    );
    assert_reads_back_equal(&py, &src, &db.url);
    assert_inserts_new(&py, &db.url);
}

#[test]
fn sqlalchemy_alembic_schema_then_run_truncate_reads_back_equal_and_inserts_new_rows() {
    let py = python();
    let dir = tempfile::tempdir().unwrap();
    let (src, toml) = source_and_mapping(&py, dir.path());
    let db = TestDb::new();
    app(&py, &db.url, "upgrade");
    // The app's own schema: its native enum type, timestamptz for
    // DateTime(timezone=True), json for JSON.
    assert_eq!(
        db.scalar("SELECT format_type(atttypid, atttypmod) FROM pg_attribute WHERE attrelid = 'books'::regclass AND attname = 'kind'"),
        "kind"
    );
    assert_eq!(
        db.scalar("SELECT format_type(atttypid, atttypmod) FROM pg_attribute WHERE attrelid = 'authors'::regclass AND attname = 'born'"),
        "timestamp with time zone"
    );
    let o = run_pipeline(&toml, &db.url, &["--truncate"]);
    // alembic upgrade wrote its version row; the file's replaces it.
    assert_exit(&o, 0, &["\"public\".\"alembic_version\" (holds rows"]);
    assert_eq!(db.scalar("SELECT version_num FROM alembic_version"), "0001");
    // Naive cells of a timezone=True column were read as UTC, as the app
    // wrote them.
    assert_eq!(
        db.scalar("SELECT born AT TIME ZONE 'UTC' FROM authors WHERE id = 2"),
        "2001-02-03 04:05:06.789012"
    );
    assert_reads_back_equal(&py, &src, &db.url);
    assert_inserts_new(&py, &db.url);
}
