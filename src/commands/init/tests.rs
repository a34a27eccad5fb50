//! Unit tests of `init`: the pipeline inferred from a fixture, its
//! rendering, profiling details, and the command's file handling.

use super::choose::detect_epoch;
use super::infer::relative_source;
use super::*;
use crate::config::mapping::{EpochUnit, Pipeline};
use crate::sqlite::schema::model::SourceSchema;
use rusqlite::Connection;

const LONG: &str = "a_table_name_that_is_exactly_seventy_bytes_long_for_the_pg_limit_test_";

fn fixture(dir: &Path) -> PathBuf {
    assert_eq!(LONG.len(), 70);
    let path = dir.join("app.db");
    let c = Connection::open(&path).unwrap();
    c.execute_batch(&format!(
        r#"
            CREATE TABLE "User Accounts" (
              id INTEGER PRIMARY KEY AUTOINCREMENT,
              "Email" nvarchar(20) NOT NULL,
              "select" int(5) DEFAULT 0,
              big unsigned big int DEFAULT '30',
              ratio double,
              created datetime NOT NULL DEFAULT CURRENT_TIMESTAMP,
              seen datetime DEFAULT (datetime('now')),
              status TEXT DEFAULT 'pending' CHECK (status IN ('pending', 'done')),
              anything,
              active BOOLEAN NOT NULL DEFAULT 1 CHECK (active IN (0, 1)),
              "say ""hi""" text,
              deleted_at datetime,
              prefs JSON CHECK (json_valid(prefs)),
              UNIQUE ("Email")
            );
            CREATE INDEX ua_lower_email ON "User Accounts" (lower("Email"));
            CREATE INDEX ua_live ON "User Accounts" (status) WHERE deleted_at IS NULL;
            CREATE INDEX ua_glob ON "User Accounts" (status) WHERE status GLOB 'p*';
            CREATE TABLE "order" (
              id INTEGER PRIMARY KEY,
              account_id INTEGER NOT NULL REFERENCES "User Accounts"(id) ON DELETE CASCADE,
              total decimal(10,2) CHECK (total >= 0),
              fee decimal(4,2),
              tax decimal(6,2),
              note_amount decimal(6,2)
            );
            CREATE TABLE order_lines (
              order_id INTEGER REFERENCES "order"(id) ON DELETE CASCADE ON UPDATE RESTRICT,
              line int,
              sku "quoted""type",
              PRIMARY KEY (order_id, line)
            ) WITHOUT ROWID;
            CREATE TABLE line_notes (
              order_id int, line int, note text,
              FOREIGN KEY (order_id, line) REFERENCES order_lines ON DELETE CASCADE
            );
            CREATE TABLE "{LONG}" (x INTEGER PRIMARY KEY, "{LONG}col" text);
            CREATE INDEX "{LONG}_index" ON "{LONG}" ("{LONG}col");
            CREATE VIEW open_orders AS SELECT * FROM "order";
            CREATE TRIGGER order_touch AFTER UPDATE ON "order"
              BEGIN SELECT 1; END;
            INSERT INTO "User Accounts"("Email", created, anything) VALUES ('a@x', 1700000000, 1), ('b@x', 1700000001, 2);
            INSERT INTO "User Accounts"("Email", created) VALUES ('gone', 0);
            DELETE FROM "User Accounts" WHERE "Email" = 'gone';
            INSERT INTO "order"(account_id, total, fee, tax, note_amount) VALUES (1, 9.5, 1.234, 123, '12.50');
            INSERT INTO "order"(account_id, total, fee, tax, note_amount) VALUES (1, 0, 100, -12.25, '1234.5');
            "#
    ))
    .unwrap();
    path
}

fn built(dir: &Path) -> (SourceSchema, Profiles, Pipeline, Vec<String>) {
    let db = fixture(dir);
    let conn = source::open_checked(&db).unwrap();
    let schema = introspect(&conn).unwrap();
    let prof = profile(&db, &schema, None).unwrap();
    let (p, w) = build_pipeline(&schema, &prof, &db, dir);
    (schema, prof, p, w)
}

#[test]
fn builds_the_expected_pipeline() {
    let dir = tempfile::tempdir().unwrap();
    let (_, _, p, w) = built(dir.path());
    let names: Vec<_> = p.table_maps.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(
        names,
        ["User Accounts", LONG, "order", "order_lines", "line_notes"],
        "parents first"
    );
    let ua = &p.table_maps[0].1;
    assert_eq!(ua.primary_key, ["id"]);
    let col = |n: &str| &ua.columns[n];
    assert!(col("id").identity && col("id").pg_type == "bigint");
    assert_eq!(
        col("Email").pg_type,
        "varchar(20)",
        "every cell fits nvarchar(20)"
    );
    assert!(col("Email").not_null);
    assert_eq!(col("select").pg_type, "bigint");
    assert_eq!(col("select").default.as_deref(), Some("0"));
    assert_eq!(col("big").default.as_deref(), Some("30"));
    assert_eq!(col("ratio").pg_type, "double precision");
    assert_eq!(col("created").pg_type, "timestamptz");
    assert_eq!(col("created").default.as_deref(), Some("CURRENT_TIMESTAMP"));
    assert_eq!(col("created").epoch, Some(EpochUnit::S));
    assert_eq!(
        col("seen").default.as_deref(),
        Some("(now() AT TIME ZONE 'UTC')"),
        "all-NULL DATETIME: the declared mapping, naive timestamp"
    );
    assert_eq!(col("status").default.as_deref(), Some("'pending'"));
    assert_eq!(col("anything").pg_type, "bigint", "untyped, profiled");
    assert_eq!(col("active").pg_type, "boolean");
    assert_eq!(col("active").default.as_deref(), Some("true"));
    assert_eq!(
        ua.checks,
        ["\"status\" IN ('pending', 'done')"],
        "boolean IN (0,1) is implied"
    );
    let ix: Vec<_> = ua.indexes.iter().map(|i| i.name.as_str()).collect();
    assert_eq!(ix, ["User Accounts_Email_key", "ua_live", "ua_lower_email"]);
    assert!(ua.indexes[0].unique);
    assert_eq!(ua.indexes[0].columns, ["Email"]);
    assert_eq!(
        ua.indexes[1].predicate.as_deref(),
        Some("\"deleted_at\" IS NULL")
    );
    assert_eq!(
        ua.indexes[2].columns,
        ["(translate(\"Email\", 'ABCDEFGHIJKLMNOPQRSTUVWXYZ', 'abcdefghijklmnopqrstuvwxyz'))"]
    );
    assert!(w.iter().any(|w| w.contains("ua_glob")), "{w:?}");
    assert!(!w.iter().any(|w| w.contains("json_valid")), "{w:?}");
    assert_eq!(col("prefs").pg_type, "jsonb");

    let long = &p.table_maps[1].1;
    let t = long.target.as_deref().unwrap();
    assert!(t.len() <= 63 && t.starts_with("a_table_name"));
    let lc = &long.columns[&format!("{LONG}col")];
    assert!(lc.target.as_ref().unwrap().len() <= 63);
    assert!(long.indexes[0].name.len() <= 63);
    assert_ne!(long.indexes[0].name, t);

    let order = &p.table_maps[2].1;
    assert_eq!(order.columns["total"].pg_type, "numeric(10,2)");
    assert_eq!(
        order.columns["fee"].pg_type, "numeric",
        "1.234 and 100 do not fit (4,2)"
    );
    assert_eq!(order.columns["tax"].pg_type, "numeric(6,2)");
    assert_eq!(order.columns["note_amount"].pg_type, "numeric(6,2)");
    assert!(w.iter().any(|w| w.contains("`order`.`fee`")), "{w:?}");
    // AUTOINCREMENT handed out ids up to 3 but the largest left is 2:
    // the identity must restart above 3.
    assert!(
        p.table_maps
            .iter()
            .flat_map(|(_, t)| t.columns.values())
            .any(|c| c.identity && c.sequence_floor == Some(3)),
        "{:?}",
        p.table_maps
    );
    assert_eq!(order.checks, ["\"total\" >= 0"]);
    let fk = &order.foreign_keys[0];
    assert_eq!(fk.references, "User Accounts");
    assert_eq!(fk.columns, ["account_id"]);
    assert_eq!(fk.ref_columns, ["id"]);
    assert_eq!(fk.on_delete.as_deref(), Some("cascade"));
    assert_eq!(fk.on_update, None);

    let ol = &p.table_maps[3].1;
    assert!(ol.without_rowid);
    assert_eq!(ol.primary_key, ["order_id", "line"]);
    assert_eq!(ol.columns["sku"].pg_type, "numeric");
    assert_eq!(ol.foreign_keys[0].on_update.as_deref(), Some("restrict"));

    let ln = &p.table_maps[4].1;
    assert_eq!(ln.foreign_keys[0].references, "order_lines");
    assert_eq!(ln.foreign_keys[0].ref_columns, ["order_id", "line"]);
    assert_eq!(p.source.path, dir.path().join("app.db"));
}

#[test]
fn render_parses_back_to_the_same_tables() {
    let dir = tempfile::tempdir().unwrap();
    let (schema, prof, p, w) = built(dir.path());
    let text = render(&p, &schema, &prof, &w, None).unwrap();
    if std::env::var_os("SHOW_INIT").is_some() {
        println!("{text}");
    }
    assert!(text.starts_with("# sqlite2pg mapping file"), "{text}");
    // Triggers are named with their SQL, as not moved (views are
    // translated by `run_init` into `[views]`: tests/e2e/views.rs).
    assert!(!text.contains("view `open_orders`"), "{text}");
    assert!(
        text.contains(
            "trigger `order_touch` on table `order` is not moved (recreate it in PostgreSQL by hand): CREATE TRIGGER order_touch AFTER UPDATE ON \"order\" BEGIN SELECT 1; END"
        ),
        "{text}"
    );
    assert!(
        text.contains(
            "# source table `User Accounts` — rows: 2, AUTOINCREMENT (sqlite_sequence: 3)"
        ),
        "{text}"
    );
    assert!(
        text.contains("# declared: datetime, NOT NULL, default CURRENT_TIMESTAMP\n"),
        "{text}"
    );
    assert!(
        text.contains("# declared: (no type)\n# cells: 2 integer"),
        "{text}"
    );
    let q = Pipeline::parse(&text, &dir.path().join("app.toml")).unwrap();
    assert_eq!(q.table_maps.len(), p.table_maps.len());
    for ((a, x), (b, y)) in p.table_maps.iter().zip(&q.table_maps) {
        assert_eq!(a, b);
        assert_eq!(format!("{x:?}"), format!("{y:?}"), "table {a}");
    }
    assert_eq!(q.source_path(), dir.path().join("app.db"));
}

#[test]
fn run_init_writes_once() {
    let dir = tempfile::tempdir().unwrap();
    let db = fixture(dir.path());
    let out = dir.path().join("pipelines/app.toml");
    let written = run_init(&db, Some(&out), None, false, false, Some(NameCase::Keep)).unwrap();
    assert_eq!(written, out);
    let p = Pipeline::load(&out).unwrap();
    assert_eq!(p.table_maps.len(), 5);
    let e = run_init(&db, Some(&out), None, false, false, Some(NameCase::Keep))
        .unwrap_err()
        .to_string();
    assert!(e.contains("already exists"), "{e}");
}

/// The file names in `dir`, sorted (to see that no temporary file is left).
fn names_in(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

#[test]
fn failed_init_force_keeps_the_old_mapping() {
    let dir = tempfile::tempdir().unwrap();
    let db = fixture(dir.path());
    let out = dir.path().join("pipelines/app.toml");
    run_init(&db, Some(&out), None, false, false, Some(NameCase::Keep)).unwrap();
    // The operator reviewed it.
    let mut reviewed = std::fs::read(&out).unwrap();
    reviewed.extend_from_slice(b"# reviewed: ok for the window\n");
    std::fs::write(&out, &reviewed).unwrap();

    let bad = dir.path().join("not-sqlite.db");
    std::fs::write(&bad, "not a SQLite database\n".repeat(400)).unwrap();
    let e = format!(
        "{:#}",
        run_init(&bad, Some(&out), None, true, false, Some(NameCase::Keep)).unwrap_err()
    );
    assert!(
        e.contains("not a SQLite database"),
        "failed for another reason: {e}"
    );
    assert_eq!(
        std::fs::read(&out).unwrap(),
        reviewed,
        "the failed init --force ({e}) changed the mapping"
    );
    // Without --force it is refused, as before.
    let e = run_init(&db, Some(&out), None, false, false, Some(NameCase::Keep))
        .unwrap_err()
        .to_string();
    assert!(e.contains("already exists"), "{e}");
    assert_eq!(std::fs::read(&out).unwrap(), reviewed);
    assert_eq!(names_in(&dir.path().join("pipelines")), ["app.toml"]);
}

#[test]
fn init_force_replaces_the_old_mapping() {
    let dir = tempfile::tempdir().unwrap();
    let db = fixture(dir.path());
    let out = dir.path().join("app.toml");
    std::fs::write(&out, "# an old mapping\n").unwrap();
    let written = run_init(&db, Some(&out), None, true, false, Some(NameCase::Keep)).unwrap();
    assert_eq!(written, out);
    let p = Pipeline::load(&out).unwrap();
    assert_eq!(p.table_maps.len(), 5);
    assert_eq!(names_in(dir.path()), ["app.db", "app.toml"]);
}

#[test]
fn relative_source_paths() {
    let dir = tempfile::tempdir().unwrap();
    let base = dir.path().canonicalize().unwrap();
    std::fs::create_dir_all(base.join("data")).unwrap();
    std::fs::create_dir_all(base.join("pipelines")).unwrap();
    std::fs::write(base.join("data/x.db"), b"").unwrap();
    let cwd = std::env::current_dir().unwrap();
    // Relative to the current directory: express it from there.
    let rel_src = pathdiff_for_test(&base.join("data/x.db"), &cwd);
    let r = relative_source(&rel_src, &base.join("pipelines"));
    assert_eq!(r, PathBuf::from("../data/x.db"));
    assert_eq!(
        relative_source(&base.join("data/x.db"), Path::new("pipelines")),
        base.join("data/x.db")
    );
}

fn pathdiff_for_test(p: &Path, base: &Path) -> PathBuf {
    let s: Vec<_> = p.components().collect();
    let d: Vec<_> = base.components().collect();
    let common = s.iter().zip(&d).take_while(|(a, b)| a == b).count();
    let mut r = PathBuf::new();
    for _ in common..d.len() {
        r.push("..");
    }
    for c in &s[common..] {
        r.push(c.as_os_str());
    }
    r
}

#[test]
fn text_formats_are_counted() {
    let mut f = TextFormats::default();
    let cells: &[&str] = &[
        "2024-05-01 10:00:00",
        "2024-05-01",
        " 42 ",
        "-7",
        "3.25",
        "+.5",
        "1.2.3",
        ".",
        "Yes",
        "off",
        r#"{"a": [1, 2]}"#,
        "[1, 2",
        "67e55044-10b1-426f-9247-bb680e5fe0c8",
        "67e5504410b1426f9247bb680e5fe0c8",
        "{67e55044-10b1-426f-9247-bb680e5fe0c8}",
        "urn:uuid:67e55044-10b1-426f-9247-bb680e5fe0c8",
        "67e55044-10b1-426f-9247-bb680e5fe0c8 and more text after it",
        "a sentence. With one full stop",
        "",
    ];
    for c in cells {
        f.add(c.as_bytes());
    }
    let want = TextFormats {
        iso_timestamp: 2,
        iso_date: 1,
        iso_naive: 1,
        padded: 1,
        integer: 2,
        decimal: 2,
        boolean: 2,
        json: 1,
        // " 42 ", "-7", "3.25" and the object (not "+.5" nor "[1, 2").
        json_any: 4,
        uuid: 4,
        uuid_canonical: 1,
        uuid_sample: Some("67e5504410b1426f9247bb680e5fe0c8".into()),
        hex32: 1,
        ..Default::default()
    };
    assert_eq!(f, want);
}

#[test]
fn epoch_detection() {
    let p = |vals: &[f64], real: u64| {
        let mut pr = ColumnProfile {
            integer: vals.len() as u64 - real,
            real,
            min_number: vals.iter().copied().reduce(f64::min),
            max_number: vals.iter().copied().reduce(f64::max),
            ..Default::default()
        };
        for v in vals {
            pr.epoch_bands.add(*v);
        }
        pr
    };
    assert_eq!(detect_epoch(&p(&[0.0, 1.7e9], 0)), Some(EpochUnit::S));
    assert_eq!(detect_epoch(&p(&[1.6e12, 1.7e12], 0)), Some(EpochUnit::Ms));
    assert_eq!(detect_epoch(&p(&[1.6e15, 1.7e15], 0)), Some(EpochUnit::Us));
    // One unit per column, never `auto`: most numbers are seconds, so the
    // year-10000 sentinel (253402300800 s) is read as seconds too.
    assert_eq!(
        detect_epoch(&p(&[1.6e9, 1.7e9, 253_402_300_800.0], 0)),
        Some(EpochUnit::S)
    );
    assert_eq!(
        detect_epoch(&p(&[2_459_000.5, 2_460_000.25], 1)),
        Some(EpochUnit::JulianDay)
    );
    assert_eq!(detect_epoch(&ColumnProfile::default()), None);
}

#[test]
fn odd_names_round_trip() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("odd.db");
    let c = Connection::open(&path).unwrap();
    c.execute_batch(
        r#"
            CREATE TABLE "we""ird.na me" ("it's" TEXT, "new
line" INT, "ü" ANY, "Ä" REAL, [x y] BLOB DEFAULT X'00FF', "a.b" text DEFAULT 'x\y',
              "only gen" INT GENERATED ALWAYS AS (1) STORED);
            CREATE TABLE gen_only (g INT GENERATED ALWAYS AS (2) VIRTUAL, dummy);
            CREATE INDEX "idx ""q""" ON "we""ird.na me" ("it's" DESC, "ü");
            INSERT INTO "we""ird.na me" ("it's", "ü") VALUES ('a', x'01'), ('b', 'text');
            "#,
    )
    .unwrap();
    drop(c);
    let out = dir.path().join("odd.toml");
    run_init(&path, Some(&out), None, false, false, Some(NameCase::Keep)).unwrap();
    let text = std::fs::read_to_string(&out).unwrap();
    let p = Pipeline::parse(&text, &out).unwrap();
    let t = p.table("we\"ird.na me").unwrap();
    let names: Vec<_> = t.columns.keys().cloned().collect();
    assert_eq!(
        names,
        ["it's", "new\nline", "ü", "Ä", "x y", "a.b", "only gen"]
    );
    assert_eq!(t.columns["ü"].pg_type, "text", "ANY with mixed cells");
    assert_eq!(
        t.columns["x y"].default.as_deref(),
        Some("'\\x00ff'::bytea")
    );
    assert_eq!(t.columns["a.b"].default.as_deref(), Some("E'x\\\\y'"));
    // Generated columns load as plain columns, their values copied.
    assert!(t.columns["only gen"].include);
    assert!(
        text.contains("# declared: INT, GENERATED AS (1) STORED"),
        "{text}"
    );
    assert_eq!(t.indexes[0].name, "idx \"q\"");
    assert_eq!(t.indexes[0].columns, ["(\"it's\") DESC", "ü"]);
    assert!(
        p.table("gen_only").unwrap().include,
        "dummy is still movable"
    );
}

/// A profile of `cells` (as SQLite hands them over).
fn profile_of(cells: &[rusqlite::types::Value], decl: &str) -> ColumnProfile {
    let c = Connection::open_in_memory().unwrap();
    c.execute_batch(&format!("CREATE TABLE t (v {decl})"))
        .unwrap();
    for v in cells {
        c.execute("INSERT INTO t VALUES (?1)", [v]).unwrap();
    }
    drop(c);
    // Through the real profile scan (a file: profile opens read-only).
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("p.db");
    let c = Connection::open(&path).unwrap();
    c.execute_batch(&format!("CREATE TABLE t (v {decl})"))
        .unwrap();
    for v in cells {
        c.execute("INSERT INTO t VALUES (?1)", [v]).unwrap();
    }
    let schema = crate::sqlite::schema::introspect::introspect(&c).unwrap();
    drop(c);
    let mut p = profile(&path, &schema, None).unwrap();
    p.remove("t").unwrap().remove("v").unwrap()
}

#[test]
fn choose_follows_the_cells() {
    use rusqlite::types::Value::{Blob, Integer as I, Null, Real as R, Text as T};
    let t = |s: &str| T(s.into());
    let ty = |cells: &[rusqlite::types::Value], decl: &str| {
        let p = profile_of(cells, decl);
        choose_type(decl, Some(&p), false).ty.to_string()
    };
    assert_eq!(ty(&[t("a"), t("b")], "ENUM"), "text");
    assert_eq!(ty(&[t("DM"), I(12)], "INTEGER_OR_TEXT"), "text");
    assert_eq!(ty(&[Blob(vec![1, 0, 255])], "POINT"), "bytea");
    assert_eq!(ty(&[I(1), t("toto"), R(12.3)], "intege"), "text");
    assert_eq!(ty(&[I(1), R(2.5), t("x"), Blob(vec![0])], "ANY"), "bytea");
    // 16.99 * 100 = 1698.9999999999998 in floats; its digits fit.
    assert_eq!(
        ty(&[R(16.99), R(0.1), I(3)], "DECIMAL(5,2)"),
        "numeric(5,2)"
    );
    assert_eq!(ty(&[R(16.999)], "DECIMAL(5,2)"), "numeric");
    assert_eq!(ty(&[t("abc")], "VARCHAR(3)"), "varchar(3)");
    assert_eq!(ty(&[t("abcd")], "VARCHAR(3)"), "text");
    assert_eq!(ty(&[t("Y")], "CHAR(1)"), "varchar(1)");
    assert_eq!(ty(&[I(0), I(1)], "INTEGER"), "bigint", "0/1 stay integers");
    assert_eq!(ty(&[t("true"), t("FALSE")], "TEXT"), "boolean");
    assert_eq!(ty(&[t("yes"), t("no")], "TEXT"), "text");
    assert_eq!(ty(&[t("007"), t("+1")], "TEXT"), "text");
    assert_eq!(ty(&[t(" true")], "TEXT"), "text", "blanks would be lost");
    assert_eq!(
        ty(
            &[
                t("67e55044-10b1-426f-9247-bb680e5fe0c8"),
                t("f47ac10b-58cc-4372-a567-0e02b2c3d479")
            ],
            "TEXT"
        ),
        "uuid"
    );
    // Only the form uuid reads back identical (docs/conversions.md).
    let undashed = [
        t("67e55044-10b1-426f-9247-bb680e5fe0c8"),
        t("67e5504410b1426f9247bb680e5fe0c8"),
    ];
    assert_eq!(ty(&undashed, "TEXT"), "text");
    assert_eq!(
        ty(&[t("F47AC10B-58CC-4372-A567-0E02B2C3D479")], "TEXT"),
        "text"
    );
    assert_eq!(ty(&[t("711949c1e6cbed7e915627dd1122fe84")], "TEXT"), "text");
    assert_eq!(ty(&[t("{\"a\":1}"), t("[1]")], "TEXT"), "jsonb");
    // Declared JSON takes any JSON document (SQLAlchemy's JSON writes
    // `null` for None); undeclared text needs objects or arrays.
    let scalars = [t("{\"a\":1}"), t("null"), t("\"s\""), t("true")];
    assert_eq!(ty(&scalars, "JSON"), "jsonb");
    assert_eq!(ty(&scalars, "TEXT"), "text");
    assert_eq!(ty(&[t("{\"a\":1}"), t("nul")], "JSON"), "text");
    assert_eq!(ty(&[t("\"just a string\"")], "TEXT"), "text");
    assert_eq!(ty(&[t("2024-05-01")], "TEXT"), "date");
    assert_eq!(ty(&[t("2024-05-01 10:00:00")], ""), "timestamp");
    assert_eq!(ty(&[t("2024-05-01T10:00:00Z")], "TEXT"), "timestamptz");
    assert_eq!(ty(&[I(1_714_557_600_123)], "DATETIME"), "timestamptz");
    assert_eq!(
        ty(&[t("2024-05-01 10:00:00"), I(1_714_557_600)], "DATETIME"),
        "timestamp"
    );
    assert_eq!(
        ty(&[t("2024-13-45 10:00:00")], "DATETIME"),
        "text",
        "no such date"
    );
    assert_eq!(ty(&[Null], "DATETIME"), "timestamp", "all NULL: declared");
    assert_eq!(ty(&[], "VARCHAR(3)"), "text", "empty: declared");
    // The switch keeps the declared mapping.
    let p = profile_of(&[t("true")], "TEXT");
    assert_eq!(choose_type("TEXT", Some(&p), true).ty.to_string(), "text");
    let p = profile_of(&[t("a")], "ENUM");
    assert_eq!(
        choose_type("ENUM", Some(&p), true).ty.to_string(),
        "numeric"
    );
}
