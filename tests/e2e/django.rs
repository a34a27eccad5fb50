//! Issues 13 and 15's done-when, with a real Django from PyPI, in both
//! modes: (b) a schema made by `manage.py migrate`, then `run --truncate`;
//! (a) the schema `init` designs, made by `run`. Each time Django reads
//! every object back equal from both databases, and the app can insert a
//! new object of every model afterwards (every sequence past the loaded
//! ids).
//!
//! The Python environment (`target/pyenv`, Django 5 and psycopg 3) is made
//! by `tests/apps/setup_venv.sh` on first use, under a lock; without
//! `python3` the test fails, it never skips.

use crate::common::venv::*;
use crate::common::*;
use std::path::Path;
use std::process::Command;

/// `manage.py ARGS` against a SQLite file or a PostgreSQL URL; must succeed.
fn manage(py: &Path, db: (&str, &str), args: &[&str]) -> String {
    let o = Command::new(py)
        .arg(apps_dir().join("django_app/manage.py"))
        .args(args)
        .env_remove("S2P_DJANGO_SQLITE")
        .env_remove("S2P_DJANGO_PG")
        .env(db.0, db.1)
        .env("PYTHONDONTWRITEBYTECODE", "1")
        .output()
        .expect("run manage.py");
    succeeded(
        &format!("manage.py {} ({}={})", args.join(" "), db.0, db.1),
        o,
    )
}

#[test]
fn django_migrate_then_run_truncate_reads_back_equal_and_inserts_new_rows() {
    let py = python();
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("app.db");
    let sqlite = ("S2P_DJANGO_SQLITE", src.to_str().unwrap());
    manage(&py, sqlite, &["migrate", "-v", "0"]);
    assert_eq!(manage(&py, sqlite, &["populate"]).trim(), "populated");

    let db = TestDb::new();
    let pg = ("S2P_DJANGO_PG", db.url.as_str());
    manage(&py, pg, &["migrate", "-v", "0"]);
    // migrate filled these: the run must empty them (with what references
    // them, django_admin_log among it) and load the source's.
    assert_ne!(db.scalar("SELECT count(*) FROM django_content_type"), "0");

    let toml = dir.path().join("p.toml");
    let o = init_ok(&src, &toml);
    // A file Django made is recognised as such (issue 13).
    assert!(
        stderr(&o)
            .contains("init: framework: Django (recognised by its table `django_migrations`)"),
        "{}",
        stderr(&o)
    );
    let mapping = std::fs::read_to_string(&toml).unwrap();
    assert!(mapping.contains("\nframework = \"django\"\n"), "{mapping}");
    let o = run_pipeline(&toml, &db.url, &["--truncate"]);
    assert_exit(&o, 0, &["\"public\".\"django_admin_log\" ("]);

    let o = sqlite2pg(&["verify", toml.to_str().unwrap(), "--target", &db.url]);
    assert_exit(&o, 0, &[]);

    // Every object of every model, through the ORM, from both databases.
    let from_sqlite = manage(&py, sqlite, &["dump"]);
    let from_pg = manage(&py, pg, &["dump"]);
    assert!(from_sqlite.contains("\"shop.Book\""), "{from_sqlite}");
    assert!(
        from_sqlite == from_pg,
        "Django reads different objects back:\n{}",
        first_difference(&from_sqlite, &from_pg)
    );

    // The app goes on: a new object of every model (sequences past the
    // loaded ids; the author deleted in SQLite keeps its id retired).
    let made = manage(&py, pg, &["insert_new"]);
    assert!(made.contains("shop.Author 5\n"), "{made}");
    assert!(made.contains("admin.LogEntry 2\n"), "{made}");
}

/// Mode (a): no `migrate` first: the schema is the one `init` designs
/// (with Django's conventions, each named on stderr), `run` makes it and
/// loads the file; Django then reads every object back equal (types too:
/// UUID objects, Decimals with their scale, floats bit for bit, aware
/// datetimes, bytes, JSON), finds nothing to migrate (its bookkeeping
/// tables came along), and inserts a new object of every model.
#[test]
fn django_on_the_schema_init_designs_reads_back_equal_and_inserts_new_rows() {
    let py = python();
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("app.db");
    let sqlite = ("S2P_DJANGO_SQLITE", src.to_str().unwrap());
    manage(&py, sqlite, &["migrate", "-v", "0"]);
    assert_eq!(manage(&py, sqlite, &["populate"]).trim(), "populated");

    let toml = dir.path().join("p.toml");
    let o = sqlite2pg(&["init", src.to_str().unwrap(), "-o", toml.to_str().unwrap()]);
    let e = stderr(&o);
    assert_exit(&o, 0, &[]);
    for said in [
        "init: framework: Django (recognised by its table `django_migrations`)",
        "Django: 7 DateTimeField column(s) → timestamptz",
        "Django: 1 UUIDField column(s) (char(32), every cell 32 hex digits) → uuid, \
         as Django's PostgreSQL backend makes them: shop_book.uid",
        "Django: 1 JSONField column(s) (text with Django's JSON_VALID CHECK) → jsonb, \
         as Django's PostgreSQL backend makes them: shop_book.meta",
        "kept as text, not jsonb: the app reads them as strings: \
         django_admin_log.change_message",
        "Django: 1 DecimalField column(s)",
    ] {
        assert!(e.contains(said), "init does not say {said:?}:\n{e}");
    }
    // The cell rules' jsonb for the TextField is undone, warning included.
    assert!(
        !e.contains("`change_message`: every cell is text holding JSON"),
        "{e}"
    );
    // DecimalField's scale is only in the model: the operator sets it, as
    // the warning asks (without it every value is kept, 12.50 reads 12.5).
    edit_mapping(
        &toml,
        "[tables.shop_book.columns.price]\ntype = \"numeric\"",
        "[tables.shop_book.columns.price]\ntype = \"numeric(10, 2)\"",
    );

    let db = TestDb::new();
    let o = run_pipeline(&toml, &db.url, &[]);
    assert_exit(&o, 0, &[]);
    let types = db.query(
        "SELECT column_name, format_type(atttypid, atttypmod) FROM information_schema.columns c \
         JOIN pg_attribute a ON a.attrelid = 'shop_book'::regclass AND a.attname = c.column_name \
         WHERE c.table_name = 'shop_book' ORDER BY c.ordinal_position",
    );
    let ty = |c: &str| {
        types
            .iter()
            .find(|r| r[0] == c)
            .unwrap_or_else(|| panic!("no column {c}: {types:?}"))[1]
            .clone()
    };
    assert_eq!(ty("uid"), "uuid");
    assert_eq!(ty("published"), "timestamp with time zone");
    assert_eq!(ty("meta"), "jsonb");
    assert_eq!(ty("price"), "numeric(10,2)");
    assert_eq!(ty("rating"), "double precision");
    assert_eq!(ty("cover"), "bytea");

    let pg = ("S2P_DJANGO_PG", db.url.as_str());
    let from_sqlite = manage(&py, sqlite, &["dump"]);
    let from_pg = manage(&py, pg, &["dump"]);
    for typed in [
        "\"UUID\",\n    \"UUID('12345678-1234-5678-1234-567812345678')\"",
        "\"Decimal\",\n    \"Decimal('12.50')\"",
        "\"float\",\n    \"0x1.5555555555555p-2\"",
        "\"bytes\",\n    \"0001feff\"",
        "\"datetime\",\n    \"2001-02-02T22:35:06.789012+00:00\"",
    ] {
        assert!(from_sqlite.contains(typed), "{typed} not in {from_sqlite}");
    }
    assert!(
        from_sqlite == from_pg,
        "Django reads different objects back:\n{}",
        first_difference(&from_sqlite, &from_pg)
    );

    // Django's own tables came along: nothing to apply.
    manage(&py, pg, &["migrate", "--check"]);
    let shown = manage(&py, pg, &["showmigrations"]);
    assert!(
        shown.contains("[X] 0002_book_rating_cover_status"),
        "{shown}"
    );
    assert!(!shown.contains("[ ]"), "{shown}");

    let made = manage(&py, pg, &["insert_new"]);
    assert!(made.contains("shop.Author 5\n"), "{made}");
    assert!(made.contains("shop.Book 5\n"), "{made}");
    assert!(made.contains("admin.LogEntry 2\n"), "{made}");
}
