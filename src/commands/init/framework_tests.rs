//! Unit tests of framework recognition and its conventions: a SQLite file
//! per framework, with its bookkeeping table (the columns the framework's
//! own code creates) and one app table.

use super::*;
use crate::commands::init::{build_pipeline, profile};
use crate::config::mapping::Framework;
use crate::sqlite::{read::source, schema::introspect::introspect};
use rusqlite::Connection;

const APP: &str = "CREATE TABLE items (id INTEGER PRIMARY KEY, name TEXT NOT NULL);";

fn schema_of(sql: &str) -> SourceSchema {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("app.db");
    Connection::open(&path)
        .unwrap()
        .execute_batch(&format!("{sql}\n{APP}"))
        .unwrap();
    let conn = source::open_checked(&path).unwrap();
    introspect(&conn).unwrap()
}

fn detected(sql: &str) -> Option<Framework> {
    detect(&schema_of(sql)).map(|r| r.framework)
}

#[test]
fn each_framework_is_recognised_by_its_bookkeeping_table() {
    let cases = [
        (
            Framework::Django,
            "CREATE TABLE django_migrations (id integer NOT NULL PRIMARY KEY AUTOINCREMENT, \
             app varchar(255) NOT NULL, name varchar(255) NOT NULL, applied datetime NOT NULL);",
        ),
        (
            Framework::Rails,
            "CREATE TABLE schema_migrations (version varchar NOT NULL PRIMARY KEY);
             CREATE TABLE ar_internal_metadata (key varchar NOT NULL PRIMARY KEY, value varchar, \
             created_at datetime(6) NOT NULL, updated_at datetime(6) NOT NULL);",
        ),
        (
            Framework::Prisma,
            "CREATE TABLE _prisma_migrations (id TEXT PRIMARY KEY NOT NULL, checksum TEXT NOT NULL, \
             finished_at DATETIME, migration_name TEXT NOT NULL, logs TEXT, rolled_back_at DATETIME, \
             started_at DATETIME NOT NULL DEFAULT current_timestamp, \
             applied_steps_count INTEGER UNSIGNED NOT NULL DEFAULT 0);",
        ),
        (
            Framework::Alembic,
            "CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL, \
             CONSTRAINT alembic_version_pkc PRIMARY KEY (version_num));",
        ),
        (
            Framework::Knex,
            "CREATE TABLE knex_migrations (id integer not null primary key autoincrement, \
             name varchar(255), batch integer, migration_time datetime);
             CREATE TABLE knex_migrations_lock (`index` integer not null primary key autoincrement, \
             is_locked integer);",
        ),
        (
            Framework::Sequelize,
            "CREATE TABLE SequelizeMeta (name VARCHAR(255) NOT NULL UNIQUE PRIMARY KEY);",
        ),
        (
            Framework::Laravel,
            "CREATE TABLE migrations (id integer primary key autoincrement not null, \
             migration varchar not null, batch integer not null);",
        ),
        (
            Framework::Typeorm,
            "CREATE TABLE migrations (id integer PRIMARY KEY AUTOINCREMENT NOT NULL, \
             timestamp bigint NOT NULL, name varchar NOT NULL);",
        ),
    ];
    for (want, sql) in cases {
        assert_eq!(detected(sql), Some(want), "{sql}");
    }
}

#[test]
fn a_migrations_table_is_told_apart_by_its_columns() {
    let laravel =
        "CREATE TABLE migrations (id integer primary key, migration varchar, batch integer);";
    let typeorm =
        "CREATE TABLE migrations (id integer primary key, timestamp bigint, name varchar);";
    let other = "CREATE TABLE migrations (id integer primary key, version text);";
    assert_eq!(detected(laravel), Some(Framework::Laravel));
    assert_eq!(detected(typeorm), Some(Framework::Typeorm));
    assert_eq!(detected(other), None);
    let r = detect(&schema_of(typeorm)).unwrap();
    assert_eq!(r.evidence, "table `migrations` (id, timestamp, name)");
}

#[test]
fn nothing_is_claimed_without_a_bookkeeping_table() {
    assert_eq!(detected(""), None);
    // Rails needs both of its tables: `schema_migrations` alone is common.
    assert_eq!(
        detected("CREATE TABLE schema_migrations (version varchar primary key);"),
        None
    );
}

#[test]
fn advice_names_the_framework_its_migrate_command_and_run_truncate() {
    let r = Recognised {
        framework: Framework::Prisma,
        evidence: "table `_prisma_migrations`".into(),
    };
    let a = advice(&r, Path::new("app.toml"));
    assert!(a.contains("framework: Prisma"), "{a}");
    assert!(a.contains("npx prisma migrate deploy"), "{a}");
    assert!(
        a.contains("sqlite2pg run app.toml --target postgres://… --truncate"),
        "{a}"
    );
    assert!(!a.contains("USE_TZ"), "{a}");
    assert!(a.lines().all(|l| l.chars().count() <= 80), "{a}");
    for f in [
        Framework::Django,
        Framework::Rails,
        Framework::Alembic,
        Framework::Knex,
        Framework::Sequelize,
        Framework::Laravel,
        Framework::Typeorm,
    ] {
        let r = Recognised {
            framework: f,
            evidence: "x".into(),
        };
        let a = advice(&r, Path::new("m.toml"));
        // A command may be wrapped: compare without line breaks.
        let flat = a.split_whitespace().collect::<Vec<_>>().join(" ");
        assert!(flat.contains(migrate_command(f)), "{a}");
    }
}

/// Django's naive UTC `datetime` cells: `timestamptz`, and its char(32)
/// UUIDs: `uuid` (its PostgreSQL backend's types), only in a Django file.
#[test]
fn django_datetime_and_uuid_columns_take_its_postgresql_types() {
    let dir = tempfile::tempdir().unwrap();
    let build = |sql: &str, name: &str| {
        let path = dir.path().join(name);
        Connection::open(&path)
            .unwrap()
            .execute_batch(&format!(
                "{sql}
                 CREATE TABLE shop_book (id integer PRIMARY KEY AUTOINCREMENT,
                   published datetime NULL, added datetime NOT NULL DEFAULT CURRENT_TIMESTAMP,
                   day date NULL, uid char(32) NOT NULL, code char(32) NULL);
                 INSERT INTO shop_book (published, added, day, uid, code)
                   VALUES ('2024-05-01 10:00:00.123456', '2024-05-01 10:00:00', '2024-05-01',
                           '12345678123456781234567812345678', 'A-1'),
                          (NULL, '2024-05-02 10:00:00', NULL,
                           '909c83892fdf40fcb4d95fe980764c1d', NULL);"
            ))
            .unwrap();
        let conn = source::open_checked(&path).unwrap();
        let schema = introspect(&conn).unwrap();
        let prof = profile(&path, &schema, None).unwrap();
        let (mut p, mut w) = build_pipeline(&schema, &prof, &path, dir.path());
        if let Some(r) = detect(&schema) {
            apply_conventions(r.framework, &mut p, &schema, &prof, &mut w);
        }
        let t = p.table("shop_book").unwrap().clone();
        (t, w)
    };
    let (t, w) = build(
        "CREATE TABLE django_migrations (id integer PRIMARY KEY, app varchar(255), \
         name varchar(255), applied datetime);",
        "dj.db",
    );
    assert_eq!(t.columns["published"].pg_type, "timestamptz");
    assert_eq!(t.columns["added"].pg_type, "timestamptz");
    assert_eq!(t.columns["day"].pg_type, "date");
    // UUIDField: char(32) of `uuid.hex`, all-digit ones included.
    assert_eq!(t.columns["uid"].pg_type, "uuid");
    assert_eq!(t.columns["code"].pg_type, "varchar(32)");
    assert!(
        w.iter()
            .any(|w| w.contains("Django: 1 UUIDField") && w.contains("shop_book.uid")),
        "{w:?}"
    );
    assert!(t.columns["added"].default.is_some());
    assert!(
        w.iter()
            .any(|w| w.contains("Django: 3 DateTimeField") && w.contains("shop_book.added")),
        "{w:?}"
    );

    let (t, _) = build("", "plain.db");
    assert_eq!(t.columns["published"].pg_type, "timestamp");
    assert_eq!(t.columns["added"].pg_type, "timestamp");
    assert_eq!(t.columns["uid"].pg_type, "varchar(32)");
}

/// Django's JSONField (text with its JSON_VALID CHECK) is jsonb, whatever
/// JSON it holds; text holding JSON without the CHECK stays text; a bare
/// `decimal` stays numeric, with a warning asking for its scale.
#[test]
fn django_json_only_with_its_check_and_decimal_asks_for_its_scale() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("dj.db");
    Connection::open(&path)
        .unwrap()
        .execute_batch(
            "CREATE TABLE django_migrations (id integer PRIMARY KEY, app varchar(255), \
               name varchar(255), applied datetime);
             CREATE TABLE t (id integer PRIMARY KEY, meta text NOT NULL
               CHECK ((JSON_VALID(\"meta\") OR \"meta\" IS NULL)),
               msg text NOT NULL, code varchar(40) NULL, price decimal NOT NULL);
             INSERT INTO t (meta, msg, code, price) VALUES
               ('\"just a string\"', '{\"b\": 1, \"a\": 2}', '[1]', 12.5),
               ('[1, 2]', '[]', '{}', 0.01);",
        )
        .unwrap();
    let conn = source::open_checked(&path).unwrap();
    let schema = introspect(&conn).unwrap();
    let prof = profile(&path, &schema, None).unwrap();
    let (mut p, mut w) = build_pipeline(&schema, &prof, &path, dir.path());
    // The cell rules alone make both JSON-holding text columns jsonb.
    assert_eq!(p.table("t").unwrap().columns["msg"].pg_type, "jsonb");
    assert!(w.iter().any(|w| w.starts_with("`t`.`msg`: ")), "{w:?}");
    let r = detect(&schema).unwrap();
    apply_conventions(r.framework, &mut p, &schema, &prof, &mut w);
    let t = p.table("t").unwrap();
    assert_eq!(t.columns["meta"].pg_type, "jsonb");
    assert_eq!(t.columns["msg"].pg_type, "text");
    assert_eq!(t.columns["code"].pg_type, "varchar(40)");
    assert_eq!(t.columns["price"].pg_type, "numeric");
    assert!(!w.iter().any(|w| w.starts_with("`t`.`msg`: ")), "{w:?}");
    let has = |s: &str| w.iter().any(|w| w.contains(s));
    assert!(
        has("Django: 1 JSONField column(s)") && has(": t.meta"),
        "{w:?}"
    );
    assert!(
        has("Django: 2 column(s) holding JSON") && has("t.msg, t.code"),
        "{w:?}"
    );
    assert!(
        has("Django: 1 DecimalField column(s)") && has(": t.price"),
        "{w:?}"
    );
}

/// SQLAlchemy's `Uuid` (CHAR(32) of `uuid.hex`, all-digit ones included)
/// is `uuid` in a file with `alembic_version`; NUMERIC(p,s) and naive
/// DATETIME keep the cell rules' types.
#[test]
fn sqlalchemy_uuid_columns_take_its_postgresql_type() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("sa.db");
    Connection::open(&path)
        .unwrap()
        .execute_batch(
            "CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL PRIMARY KEY);
             CREATE TABLE books (id INTEGER NOT NULL PRIMARY KEY, uid CHAR(32) NOT NULL,
               price NUMERIC(10, 4) NOT NULL, at DATETIME);
             INSERT INTO books (uid, price, at) VALUES
               ('12345678123456781234567812345678', 12.5, '2024-01-01 10:00:00.000000'),
               ('909c83892fdf40fcb4d95fe980764c1d', 0.0001, NULL);",
        )
        .unwrap();
    let conn = source::open_checked(&path).unwrap();
    let schema = introspect(&conn).unwrap();
    let prof = profile(&path, &schema, None).unwrap();
    let (mut p, mut w) = build_pipeline(&schema, &prof, &path, dir.path());
    assert_eq!(
        p.table("books").unwrap().columns["uid"].pg_type,
        "varchar(32)"
    );
    let r = detect(&schema).unwrap();
    assert_eq!(r.framework, Framework::Alembic);
    apply_conventions(r.framework, &mut p, &schema, &prof, &mut w);
    let t = p.table("books").unwrap();
    assert_eq!(t.columns["uid"].pg_type, "uuid");
    assert_eq!(t.columns["price"].pg_type, "numeric(10,4)");
    assert_eq!(t.columns["at"].pg_type, "timestamp");
    assert!(
        w.iter()
            .any(|w| w.contains("SQLAlchemy: 1 Uuid column(s)") && w.ends_with(": books.uid")),
        "{w:?}"
    );
}

/// Rails' and Prisma's PostgreSQL DateTime is `timestamp` (UTC): their
/// `datetime` columns that the cell rules make `timestamptz` (offsets,
/// Prisma's epoch milliseconds) become `timestamp`; elsewhere they stay.
#[test]
fn rails_and_prisma_datetimes_are_timestamp_without_time_zone() {
    let dir = tempfile::tempdir().unwrap();
    let build = |bookkeeping: &str, name: &str| {
        let path = dir.path().join(name);
        Connection::open(&path)
            .unwrap()
            .execute_batch(&format!(
                "{bookkeeping}
                 CREATE TABLE posts (id INTEGER PRIMARY KEY, created DATETIME NOT NULL
                   DEFAULT CURRENT_TIMESTAMP, iso datetime(6), naive datetime(6));
                 INSERT INTO posts (created, iso, naive) VALUES
                   (1704103200123, '2024-01-01T10:00:00.123+00:00', '2024-01-01 10:00:00.123456'),
                   (1704103200000, '2024-01-01T10:00:00Z', NULL);"
            ))
            .unwrap();
        let conn = source::open_checked(&path).unwrap();
        let schema = introspect(&conn).unwrap();
        let prof = profile(&path, &schema, None).unwrap();
        let (mut p, mut w) = build_pipeline(&schema, &prof, &path, dir.path());
        if let Some(r) = detect(&schema) {
            apply_conventions(r.framework, &mut p, &schema, &prof, &mut w);
        }
        (p.table("posts").unwrap().clone(), w)
    };
    let (t, w) = build(
        "CREATE TABLE _prisma_migrations (id TEXT PRIMARY KEY NOT NULL, checksum TEXT NOT NULL);",
        "prisma.db",
    );
    assert_eq!(t.columns["created"].pg_type, "timestamp");
    assert!(
        t.columns["created"].epoch.is_some(),
        "{:?}",
        t.columns["created"]
    );
    assert!(t.columns["created"].default.is_some());
    assert_eq!(t.columns["iso"].pg_type, "timestamp");
    assert_eq!(t.columns["naive"].pg_type, "timestamp");
    assert!(
        w.iter()
            .any(|w| w.starts_with("Prisma: 2 DateTime column(s)")
                && w.ends_with("posts.created, posts.iso")),
        "{w:?}"
    );
    let (t, w) = build(
        "CREATE TABLE schema_migrations (version varchar NOT NULL PRIMARY KEY);
         CREATE TABLE ar_internal_metadata (key varchar NOT NULL PRIMARY KEY);",
        "rails.db",
    );
    assert_eq!(t.columns["iso"].pg_type, "timestamp");
    assert!(
        w.iter()
            .any(|w| w.starts_with("Rails: 2 datetime column(s)")),
        "{w:?}"
    );
    let (t, _) = build("", "plain.db");
    assert_eq!(t.columns["created"].pg_type, "timestamptz");
    assert_eq!(t.columns["iso"].pg_type, "timestamptz");
    assert_eq!(t.columns["naive"].pg_type, "timestamp");
}

#[test]
fn the_mapping_names_the_framework_and_refuses_an_unknown_one() {
    use crate::config::mapping::Pipeline;
    let ok = Pipeline::parse(
        "[source]\npath = \"a.db\"\nframework = \"typeorm\"\n",
        Path::new("p.toml"),
    )
    .unwrap();
    assert_eq!(ok.source.framework, Some(Framework::Typeorm));
    let none = Pipeline::parse("[source]\npath = \"a.db\"\n", Path::new("p.toml")).unwrap();
    assert_eq!(none.source.framework, None);
    let e = Pipeline::parse(
        "[source]\npath = \"a.db\"\nframework = \"rails4\"\n",
        Path::new("p.toml"),
    )
    .unwrap_err();
    assert_eq!(e.issues.len(), 1, "{e}");
    assert_eq!(e.issues[0].key, "source.framework", "{e}");
    assert_eq!(e.issues[0].line, Some(3), "{e}");
}
