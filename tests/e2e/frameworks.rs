//! Issue 13: `init` recognises the app's framework from its bookkeeping
//! table, says so on stderr and in the mapping (header and
//! `[source] framework`), and recommends the app's own migrations followed
//! by `run --truncate`; with Django, its naive UTC `datetime` columns load
//! as `timestamptz`, into the tool's schema or the one "migrate" made;
//! with Prisma and Rails, datetimes load as UTC wall time into `timestamp`.

use crate::common::*;

const APP_TABLE: &str = "CREATE TABLE items (id INTEGER PRIMARY KEY, name TEXT NOT NULL);
                         INSERT INTO items VALUES (1, 'one');";

/// (mapping value, name on stderr, migrate command, bookkeeping SQL):
/// the columns each framework's own code creates.
const FRAMEWORKS: &[(&str, &str, &str, &str)] = &[
    (
        "django",
        "Django",
        "python manage.py migrate",
        "CREATE TABLE django_migrations (id integer NOT NULL PRIMARY KEY AUTOINCREMENT,
           app varchar(255) NOT NULL, name varchar(255) NOT NULL, applied datetime NOT NULL);",
    ),
    (
        "rails",
        "Rails",
        "bin/rails db:schema:load",
        "CREATE TABLE schema_migrations (version varchar NOT NULL PRIMARY KEY);
         CREATE TABLE ar_internal_metadata (key varchar NOT NULL PRIMARY KEY, value varchar,
           created_at datetime(6) NOT NULL, updated_at datetime(6) NOT NULL);",
    ),
    (
        "prisma",
        "Prisma",
        "npx prisma migrate deploy",
        "CREATE TABLE _prisma_migrations (id TEXT PRIMARY KEY NOT NULL, checksum TEXT NOT NULL,
           finished_at DATETIME, migration_name TEXT NOT NULL, logs TEXT, rolled_back_at DATETIME,
           started_at DATETIME NOT NULL DEFAULT current_timestamp,
           applied_steps_count INTEGER UNSIGNED NOT NULL DEFAULT 0);",
    ),
    (
        "alembic",
        "Alembic",
        "alembic upgrade head",
        "CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL,
           CONSTRAINT alembic_version_pkc PRIMARY KEY (version_num));",
    ),
    (
        "knex",
        "Knex",
        "npx knex migrate:latest",
        "CREATE TABLE knex_migrations (id integer not null primary key autoincrement,
           name varchar(255), batch integer, migration_time datetime);",
    ),
    (
        "sequelize",
        "Sequelize",
        "npx sequelize-cli db:migrate",
        "CREATE TABLE SequelizeMeta (name VARCHAR(255) NOT NULL UNIQUE PRIMARY KEY);",
    ),
    (
        "laravel",
        "Laravel",
        "php artisan migrate",
        "CREATE TABLE migrations (id integer primary key autoincrement not null,
           migration varchar not null, batch integer not null);",
    ),
    (
        "typeorm",
        "TypeORM",
        "npx typeorm migration:run",
        "CREATE TABLE migrations (id integer PRIMARY KEY AUTOINCREMENT NOT NULL,
           timestamp bigint NOT NULL, name varchar NOT NULL);",
    ),
];

/// `init` on a file made of `sql`: (stderr, mapping text).
fn init(sql: &str) -> (String, String) {
    let (dir, src) = sqlite_fixture(sql);
    let toml = dir.path().join("app.toml");
    let o = init_ok(&src, &toml);
    (stderr(&o), std::fs::read_to_string(&toml).unwrap())
}

fn flat(s: &str) -> String {
    s.lines()
        .map(|l| l.trim_start_matches("init:").trim_start_matches('#'))
        .flat_map(str::split_whitespace)
        .collect::<Vec<_>>()
        .join(" ")
}

#[test]
fn init_names_each_framework_and_recommends_its_migrations_then_run_truncate() {
    for (key, name, command, bookkeeping) in FRAMEWORKS {
        let (e, mapping) = init(&format!("{bookkeeping}\n{APP_TABLE}"));
        assert!(e.contains(&format!("init: framework: {name}")), "{e}");
        assert!(
            mapping.contains(&format!("# framework: {name}")),
            "{mapping}"
        );
        assert!(
            mapping.contains(&format!("\nframework = \"{key}\"\n")),
            "{mapping}"
        );
        for text in [flat(&e), flat(&mapping)] {
            assert!(text.contains(command), "{name}: {text}");
            assert!(
                text.contains("sqlite2pg run") && text.contains("--truncate"),
                "{name}: {text}"
            );
        }
    }
}

#[test]
fn a_migrations_table_of_laravel_or_typeorm_is_told_apart_by_its_columns() {
    let (e, m) = init(&format!("{}\n{APP_TABLE}", FRAMEWORKS[6].3));
    assert!(
        e.contains("framework: Laravel") && !e.contains("TypeORM"),
        "{e}"
    );
    assert!(m.contains("framework = \"laravel\""), "{m}");
    let (e, m) = init(&format!("{}\n{APP_TABLE}", FRAMEWORKS[7].3));
    assert!(
        e.contains("framework: TypeORM") && !e.contains("Laravel"),
        "{e}"
    );
    assert!(m.contains("framework = \"typeorm\""), "{m}");
    // Neither shape: nothing claimed.
    let (e, m) = init(&format!(
        "CREATE TABLE migrations (id integer primary key, version text);\n{APP_TABLE}"
    ));
    assert!(!e.contains("framework"), "{e}");
    assert!(!m.contains("framework"), "{m}");
}

#[test]
fn without_a_bookkeeping_table_nothing_is_claimed() {
    let (e, m) = init(APP_TABLE);
    assert!(
        !e.contains("framework") && !e.contains("recommended"),
        "{e}"
    );
    assert!(!m.contains("framework") && !m.contains("--truncate"), "{m}");
}

const DJANGO: &str = "
    CREATE TABLE django_migrations (id integer NOT NULL PRIMARY KEY AUTOINCREMENT,
      app varchar(255) NOT NULL, name varchar(255) NOT NULL, applied datetime NOT NULL);
    CREATE TABLE shop_book (id integer NOT NULL PRIMARY KEY AUTOINCREMENT,
      title varchar(100) NOT NULL, published datetime NULL, uid char(32) NOT NULL);
    INSERT INTO django_migrations (app, name, applied)
      VALUES ('shop', '0001_initial', '2024-05-01 08:00:00.5');
    INSERT INTO shop_book (title, published, uid)
      VALUES ('naive UTC', '2024-05-01 10:00:00.123456', '12345678123456781234567812345678'),
             ('never', NULL, '909c83892fdf40fcb4d95fe980764c1d');";

fn utc(db: &TestDb, sql: &str) -> String {
    db.scalar(&format!("SELECT (({sql}) AT TIME ZONE 'UTC')::text"))
}

/// The schema `init` designs: Django's naive cells are UTC instants, its
/// char(32) UUIDs are `uuid`.
#[test]
fn django_datetimes_and_uuids_load_with_its_postgresql_types_into_the_tools_schema() {
    let db = TestDb::new();
    let (dir, src) = sqlite_fixture(DJANGO);
    let toml = dir.path().join("p.toml");
    init_mapping(&src, &toml);
    let o = run_pipeline(&toml, &db.url, &[]);
    assert_exit(&o, 0, &[]);
    assert_eq!(
        db.scalar(
            "SELECT data_type FROM information_schema.columns
             WHERE table_name = 'shop_book' AND column_name = 'published'"
        ),
        "timestamp with time zone"
    );
    // UUIDField's char(32) hex, all-digit ones included: uuid.
    assert_eq!(
        db.scalar(
            "SELECT string_agg(uid::text || ':' || pg_typeof(uid), ',' ORDER BY id) FROM shop_book"
        ),
        "12345678-1234-5678-1234-567812345678:uuid,909c8389-2fdf-40fc-b4d9-5fe980764c1d:uuid"
    );
    assert_eq!(
        utc(&db, "SELECT published FROM shop_book WHERE id = 1"),
        "2024-05-01 10:00:00.123456"
    );
}

/// The recommended path: a schema like `migrate` makes (its bookkeeping
/// row already there), then `run --truncate` lists and empties it and
/// loads the file's rows.
#[test]
fn django_recommended_path_migrate_schema_then_run_truncate() {
    let db = TestDb::new();
    db.exec(
        "CREATE TABLE django_migrations (id bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
           app varchar(255) NOT NULL, name varchar(255) NOT NULL, applied timestamptz NOT NULL);
         CREATE TABLE shop_book (id integer GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
           title varchar(100) NOT NULL, published timestamptz NULL, uid uuid NOT NULL);
         INSERT INTO django_migrations (app, name, applied)
           VALUES ('shop', '0001_initial', now()), ('auth', '0001_initial', now());",
    );
    let (dir, src) = sqlite_fixture(DJANGO);
    let toml = dir.path().join("p.toml");
    init_mapping(&src, &toml);
    let o = run_pipeline(&toml, &db.url, &["--truncate"]);
    assert_exit(&o, 0, &["\"public\".\"django_migrations\" ("]);
    assert_eq!(db.scalar("SELECT count(*) FROM django_migrations"), "1");
    assert_eq!(
        utc(&db, "SELECT applied FROM django_migrations"),
        "2024-05-01 08:00:00.5"
    );
    assert_eq!(
        utc(&db, "SELECT published FROM shop_book WHERE id = 1"),
        "2024-05-01 10:00:00.123456"
    );
    // The app goes on: its next id is past the loaded ones.
    assert_eq!(
        db.scalar(
            "INSERT INTO shop_book (title, uid) VALUES ('new', gen_random_uuid()) RETURNING id"
        ),
        "3"
    );
}

/// Prisma's and Rails' DateTime in PostgreSQL is `timestamp` holding UTC:
/// epoch milliseconds (Prisma's SQLite connector) and ISO text with an
/// offset (its driver adapters; Rails with a zone) load as UTC wall time
/// into `timestamp` columns; naive cells stay as written.
#[test]
fn prisma_and_rails_datetimes_load_as_utc_wall_time_into_timestamp() {
    for (bookkeeping, name, said) in [
        (FRAMEWORKS[2].3, "Prisma", "Prisma: 2 DateTime column(s)"),
        (FRAMEWORKS[1].3, "Rails", "Rails: 2 datetime column(s)"),
    ] {
        let sql = format!(
            "{bookkeeping}
             CREATE TABLE posts (id INTEGER PRIMARY KEY, created DATETIME NOT NULL,
               iso datetime(6), naive datetime(6));
             INSERT INTO posts VALUES
               (1, 1704103200123, '2024-01-01T12:00:00.123+02:00', '2024-01-01 10:00:00.123456'),
               (2, 0, '2024-01-01T10:00:00Z', NULL);"
        );
        let (dir, src) = sqlite_fixture(&sql);
        let toml = dir.path().join("p.toml");
        let o = sqlite2pg(&["init", src.to_str().unwrap(), "-o", toml.to_str().unwrap()]);
        let e = stderr(&o);
        assert_exit(&o, 0, &[said]);
        assert!(
            flat(&e).contains(&format!("{name}: its PostgreSQL DateTime is")),
            "{name}: {e}"
        );
        let db = TestDb::new();
        let o = run_pipeline(&toml, &db.url, &[]);
        assert_eq!(o.status.code(), Some(0), "{name}: {}", stderr(&o));
        assert_eq!(
            db.scalar(
                "SELECT string_agg(DISTINCT data_type, ',') FROM information_schema.columns
                 WHERE table_name = 'posts' AND column_name <> 'id'"
            ),
            "timestamp without time zone",
            "{name}"
        );
        assert_eq!(
            db.scalar("SELECT created || ' / ' || iso || ' / ' || naive FROM posts WHERE id = 1"),
            "2024-01-01 10:00:00.123 / 2024-01-01 10:00:00.123 / 2024-01-01 10:00:00.123456",
            "{name}"
        );
        assert_eq!(
            db.scalar("SELECT created || ' / ' || iso FROM posts WHERE id = 2"),
            "1970-01-01 00:00:00 / 2024-01-01 10:00:00",
            "{name}"
        );
    }
}
