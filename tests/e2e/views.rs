//! Views: `init` translates each SQLite view over the mapping's target
//! names (or names the one it refuses, with the reason), `run` creates them
//! after the tables in dependency order, PostgreSQL answers them with
//! SQLite's rows, and `verify` compares their row counts and, where every
//! column is a number, text or bytes, their content checksums.

use crate::common::*;
use std::path::Path;
use std::process::Command;

const FIXTURE: &str = r#"
CREATE TABLE customers (id INTEGER PRIMARY KEY, "Full Name" TEXT NOT NULL, xmin TEXT, city TEXT);
CREATE TABLE orders (
    id INTEGER PRIMARY KEY,
    customer_id INTEGER REFERENCES customers(id),
    total REAL,
    qty INTEGER,
    note TEXT
);
INSERT INTO customers VALUES
 (1, 'Ann', 'gold', 'Oslo'), (2, 'Bob', NULL, NULL), (3, 'Cé', 'silver', 'Paris'),
 (4, 'dan', 'gold', 'oslo'), (5, 'Émile', 'bronze', 'Zürich');
INSERT INTO orders VALUES
 (10, 1, 12.5, 2, 'a'), (11, 1, 0.25, 1, NULL), (12, 2, 99.5, 5, 'b'), (13, 3, 5, 0, 'c'),
 (14, NULL, 1, 1, 'd'), (15, 4, 7.75, 3, 'e'), (16, 5, 3, 2, 'f'), (17, 3, 2, 4, NULL);
-- a join with a filter
CREATE VIEW big_orders AS
  SELECT c."Full Name" AS name, o.id AS order_id, o.total, o.qty
  FROM orders o JOIN customers c ON c.id = o.customer_id
  WHERE o.qty >= 1 AND c.city IS NOT NULL;
-- a view over a view, with || and LIMIT offset, count
CREATE VIEW top_big AS
  SELECT name || ' #' || order_id || ' x' || qty AS label FROM big_orders
  ORDER BY qty DESC, order_id LIMIT 1, 3;
-- a column init renames (xmin is a PostgreSQL system column)
CREATE VIEW tiers AS SELECT id, [xmin] AS tier, upper(city) AS city FROM customers WHERE xmin IS NOT NULL;
-- an aggregate grouped by its column
CREATE VIEW per_customer AS
  SELECT customer_id, count(*) AS n, sum(qty) AS q FROM orders GROUP BY customer_id;
-- SQLite's LIKE ignores ASCII case only (Zürich is not ZÜRICH): written out
CREATE VIEW like_ascii AS SELECT id, city FROM customers WHERE city LIKE 'OSLO' OR city LIKE 'ZÜ%';
-- GLOB has no PostgreSQL equivalent: refused
CREATE VIEW oslo AS SELECT id FROM customers WHERE city GLOB '[oO]slo';
"#;

fn sqlite_rows(db: &Path, sql: &str) -> String {
    let o = Command::new("sqlite3")
        .arg(db)
        .arg(sql)
        .output()
        .expect("run sqlite3");
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    String::from_utf8(o.stdout).unwrap()
}

/// SQLite's shell prints a whole real as `3.0`, psql as `3`: the same
/// double, rendered by each client its way.
fn same_reals(rows: &str) -> String {
    rows.lines()
        .map(|l| {
            l.split('|')
                .map(|f| match f.strip_suffix(".0") {
                    Some(w) if f.parse::<f64>().is_ok() => w,
                    _ => f,
                })
                .collect::<Vec<_>>()
                .join("|")
                + "\n"
        })
        .collect()
}

fn psql_rows(url: &str, sql: &str) -> String {
    let o = Command::new("psql")
        .args([url, "-X", "-A", "-t", "-c", sql])
        .output()
        .expect("run psql");
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    String::from_utf8(o.stdout).unwrap()
}

#[test]
fn views_are_recreated_and_answer_with_sqlites_rows() {
    let (dir, src) = sqlite_fixture(FIXTURE);
    let toml = dir.path().join("p.toml");
    let o = init_ok(&src, &toml);
    let err = stderr(&o);
    assert!(
        err.contains("view `oslo` is not moved (GLOB has no PostgreSQL equivalent"),
        "{err}"
    );
    assert!(!err.contains("view `big_orders`"), "{err}");
    let mapping = std::fs::read_to_string(&toml).unwrap();
    assert!(
        mapping.contains("[views.oslo]\naction = \"skip\""),
        "{mapping}"
    );
    for v in [
        "big_orders",
        "top_big",
        "tiers",
        "per_customer",
        "like_ascii",
    ] {
        assert!(
            mapping.contains(&format!("[views.{v}]\naction = \"create\"")),
            "{mapping}"
        );
    }
    // The renamed column is read under its target name.
    assert!(
        mapping.contains("\"customers\".\"xmin_\" AS \"tier\""),
        "{mapping}"
    );

    let o = sqlite2pg(&["check", toml.to_str().unwrap()]);
    assert_exit(&o, 0, &["not moved (1):", "view `oslo` is not moved (GLOB"]);

    let db = TestDb::new();
    let o = run_pipeline(&toml, &db.url, &[]);
    assert_exit(&o, 0, &[]);
    for (view, order) in [
        ("big_orders", "order_id"),
        ("top_big", "label"),
        ("tiers", "id"),
        ("per_customer", "customer_id"),
        ("like_ascii", "id"),
    ] {
        let want = same_reals(&sqlite_rows(
            &src,
            &format!("SELECT * FROM {view} ORDER BY {order}"),
        ));
        let got = psql_rows(
            &db.url,
            &format!("SELECT * FROM {view} ORDER BY {order} COLLATE \"C\" NULLS FIRST")
                .replace("order_id COLLATE \"C\"", "order_id")
                .replace("id COLLATE \"C\"", "id"),
        );
        assert!(!want.is_empty(), "{view}: SQLite answered no rows");
        assert_eq!(got, want, "{view}");
    }
    // 'ZÜ%' matches no Zürich in SQLite (Ü is not folded), so not here.
    assert_eq!(
        psql_rows(&db.url, "SELECT id FROM like_ascii ORDER BY id"),
        "1\n4\n"
    );
    // SQLite's upper() folds ASCII only: Zürich stays ZüRICH.
    assert_eq!(db.scalar("SELECT city FROM tiers WHERE id = 5"), "ZüRICH");
    assert_eq!(
        db.scalar("SELECT count(*) FROM pg_views WHERE viewname = 'oslo'"),
        "0"
    );

    let o = sqlite2pg(&["verify", toml.to_str().unwrap(), "--target", &db.url]);
    assert_exit(
        &o,
        0,
        &["view top_big: source 3 row(s), target 3, content checksum match"],
    );
    // A view that answers with other rows (the same number of them) is found.
    db.exec(
        "CREATE OR REPLACE VIEW tiers AS SELECT id, xmin_ AS tier, lower(city) AS city \
         FROM customers WHERE xmin_ IS NOT NULL",
    );
    let o = sqlite2pg(&["verify", toml.to_str().unwrap(), "--target", &db.url]);
    assert_exit(&o, 3, &["content checksum differs"]);
    // Rerun-safe: a fresh run drops and recreates its own views.
    let o = run_pipeline(&toml, &db.url, &["--fresh"]);
    assert_exit(&o, 0, &[]);
    assert_eq!(db.scalar("SELECT count(*) FROM top_big"), "3");
}

/// A view PostgreSQL refuses (the operator's edit) is named with
/// PostgreSQL's reason and left out; the run still exits 0, and verify
/// says the view is missing.
#[test]
fn a_view_postgresql_refuses_is_named_and_left_out() {
    let (dir, src) = sqlite_fixture(
        "CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT);
         INSERT INTO t VALUES (1, 'a'), (2, 'b');
         CREATE VIEW v AS SELECT name FROM t WHERE id > 1;
         CREATE VIEW w AS SELECT id FROM t;",
    );
    let toml = dir.path().join("p.toml");
    init_mapping(&src, &toml);
    edit_mapping(
        &toml,
        "SELECT \"t\".\"name\" AS \"name\"",
        "SELECT nosuch AS \"name\"",
    );
    let db = TestDb::new();
    let o = run_pipeline(&toml, &db.url, &[]);
    assert_exit(
        &o,
        0,
        &["view v not created: PostgreSQL refused it (column \"nosuch\" does not exist)"],
    );
    assert_eq!(db.scalar("SELECT count(*) FROM w"), "2");
    let o = sqlite2pg(&["verify", toml.to_str().unwrap(), "--target", &db.url]);
    assert_exit(&o, 3, &["view v: not in the target"]);
}

/// A view that does not translate can be materialized, pgloader's way: a
/// table of its rows as the run reads them, with the column types `init`
/// wrote from the view's cells. It is checked, loaded, resumed and
/// verified as a table; a column the view gains later is named by `check`.
#[test]
fn a_view_that_does_not_translate_is_materialized_as_a_table_of_its_rows() {
    let fixture = format!(
        "{FIXTURE}\nCREATE VIEW oslo_orders AS SELECT o.id, o.total FROM orders o JOIN oslo ON oslo.id = o.customer_id;"
    );
    let (dir, src) = sqlite_fixture(&fixture);
    let toml = dir.path().join("p.toml");
    init_ok(&src, &toml);
    let mapping = std::fs::read_to_string(&toml).unwrap();
    assert!(
        mapping.contains(
            "set action = \"materialize\" to load its rows into a table `oslo` with the columns below"
        ),
        "{mapping}"
    );
    assert!(
        mapping.contains(
            "[views.oslo]\naction = \"skip\"\n\n[views.oslo.columns.id]\ntype = \"bigint\""
        ),
        "{mapping}"
    );
    // The view over it is refused too, its SELECT written over the table
    // materializing would make: one word to change once that is done.
    assert!(
        mapping.contains(
            "its SELECT below reads `oslo` as the table action = \"materialize\" makes of it"
        ),
        "{mapping}"
    );
    assert!(
        mapping.contains("[views.oslo_orders]\naction = \"skip\"\nsql = \"\"\""),
        "{mapping}"
    );
    edit_mapping(
        &toml,
        "[views.oslo_orders]\naction = \"skip\"",
        "[views.oslo_orders]\naction = \"create\"",
    );
    // Created over a view the mapping still skips: refused before the run.
    let o = sqlite2pg(&["check", toml.to_str().unwrap()]);
    assert_exit(
        &o,
        2,
        &["view `oslo_orders` reads view `oslo`, which the mapping skips"],
    );
    edit_mapping(
        &toml,
        "[views.oslo]\naction = \"skip\"",
        "[views.oslo]\naction = \"materialize\"",
    );
    let o = sqlite2pg(&["check", toml.to_str().unwrap()]);
    assert_exit(&o, 0, &[]);
    assert!(!stdout(&o).contains("not moved"), "{}", stdout(&o));
    assert!(
        stdout(&o).contains("CREATE TABLE \"public\".\"oslo\""),
        "{}",
        stdout(&o)
    );

    let db = TestDb::new();
    let o = run_pipeline(&toml, &db.url, &[]);
    assert_exit(&o, 0, &[]);
    let want = sqlite_rows(&src, "SELECT id FROM oslo ORDER BY id");
    assert_eq!(want, "1\n4\n", "SQLite's GLOB matched both cases");
    assert_eq!(psql_rows(&db.url, "SELECT id FROM oslo ORDER BY id"), want);
    assert_eq!(
        db.scalar("SELECT relkind FROM pg_class WHERE relname = 'oslo'"),
        "r"
    );
    let want_orders = same_reals(&sqlite_rows(&src, "SELECT * FROM oslo_orders ORDER BY id"));
    assert_eq!(want_orders.lines().count(), 3, "{want_orders}");
    assert_eq!(
        psql_rows(&db.url, "SELECT * FROM oslo_orders ORDER BY id"),
        want_orders
    );
    let o = sqlite2pg(&["verify", toml.to_str().unwrap(), "--target", &db.url]);
    assert_exit(&o, 0, &[]);
    assert!(
        stdout(&o)
            .lines()
            .any(|l| l.starts_with("oslo ") && l.contains("match")),
        "{}",
        stdout(&o)
    );
    assert!(
        stdout(&o).contains("view oslo_orders: source 3 row(s), target 3, content checksum match"),
        "{}",
        stdout(&o)
    );
    // A row that went missing from the table is found.
    db.exec("DELETE FROM oslo WHERE id = 4");
    let o = sqlite2pg(&["verify", toml.to_str().unwrap(), "--target", &db.url]);
    assert_exit(&o, 3, &[]);
    // Its rows are guarded as a table's: a fresh run does not overwrite a
    // table changed since it loaded it, unless told to; then it loads
    // exactly the view's rows, once.
    let o = run_pipeline(&toml, &db.url, &["--fresh"]);
    assert_ne!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("\"public\".\"oslo\" (run 1 loaded 2 rows, it now has 1)"),
        "{}",
        stderr(&o)
    );
    let o = run_pipeline(&toml, &db.url, &["--fresh", "--truncate"]);
    assert_exit(&o, 0, &[]);
    assert_eq!(psql_rows(&db.url, "SELECT id FROM oslo ORDER BY id"), want);

    // The view gains a column after init: named, with the line to add.
    let conn = rusqlite::Connection::open(&src).unwrap();
    conn.execute_batch(
        "DROP VIEW oslo_orders; DROP VIEW oslo; CREATE VIEW oslo AS SELECT id, city FROM customers WHERE city GLOB '[oO]slo';",
    )
    .unwrap();
    drop(conn);
    let o = sqlite2pg(&["check", toml.to_str().unwrap()]);
    assert_exit(
        &o,
        2,
        &[
            "column of view oslo.city (TEXT)",
            "[views.oslo.columns.city]",
        ],
    );
}

/// A view SQLite itself cannot read (over a table dropped since) does not
/// stop `init`: it is named as not moved, and as one that cannot be
/// materialized either.
#[test]
fn a_view_sqlite_cannot_read_is_named_and_init_goes_on() {
    let (dir, src) = sqlite_fixture(
        "CREATE TABLE t (id INTEGER PRIMARY KEY, x TEXT);
         INSERT INTO t VALUES (1, 'a');
         CREATE TABLE gone (id INTEGER);
         CREATE VIEW broken AS SELECT id FROM gone WHERE id LIKE 'a';
         DROP TABLE gone;",
    );
    let toml = dir.path().join("p.toml");
    let e = stderr(&init_ok(&src, &toml));
    assert!(
        e.contains("view `broken`: SQLite cannot read its rows (no such table: main.gone")
            && e.contains("it cannot be materialized either"),
        "{e}"
    );
    let mapping = std::fs::read_to_string(&toml).unwrap();
    assert!(
        mapping.contains("[views.broken]\naction = \"skip\""),
        "{mapping}"
    );
    assert!(!mapping.contains("[views.broken.columns"), "{mapping}");
}
