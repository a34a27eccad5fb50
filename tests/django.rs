//! Issue 15's done-when, with a real Django from PyPI: a schema made by
//! `manage.py migrate`, then `run --truncate` exits 0, Django reads every
//! object back equal from both databases, and the app can insert a new
//! object of every model afterwards (every sequence past the loaded ids).
//!
//! The Python environment (`target/pyenv`, Django 5 and psycopg 3) is made
//! by `tests/apps/setup_venv.sh` on first use, under a lock; without
//! `python3` the test fails, it never skips.

mod common;
use common::*;
use std::path::{Path, PathBuf};
use std::process::Command;

fn apps_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/apps")
}

/// The venv's python, made if missing.
fn python() -> PathBuf {
    let o = Command::new(apps_dir().join("setup_venv.sh"))
        .output()
        .expect("run tests/apps/setup_venv.sh (needs bash)");
    assert!(
        o.status.success(),
        "tests/apps/setup_venv.sh failed (python3 with venv and PyPI are required):\n{}",
        stderr(&o)
    );
    PathBuf::from(stdout(&o).trim())
}

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
    assert!(
        o.status.success(),
        "manage.py {} ({}={}) failed:\n{}{}",
        args.join(" "),
        db.0,
        db.1,
        stdout(&o),
        stderr(&o)
    );
    stdout(&o)
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
    let o = sqlite2pg(&["init", src.to_str().unwrap(), "-o", toml.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
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
    let e = stderr(&o);
    assert_eq!(o.status.code(), Some(0), "{e}");
    assert!(e.contains("\"public\".\"django_admin_log\" ("), "{e}");

    let o = sqlite2pg(&["verify", toml.to_str().unwrap(), "--target", &db.url]);
    assert_eq!(o.status.code(), Some(0), "verify: {}", stdout(&o));

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

fn first_difference(a: &str, b: &str) -> String {
    for (i, (x, y)) in a.lines().zip(b.lines()).enumerate() {
        if x != y {
            return format!("line {}: sqlite {x:?} / postgres {y:?}", i + 1);
        }
    }
    format!(
        "one is a prefix of the other ({} vs {} lines)",
        a.lines().count(),
        b.lines().count()
    )
}
