//! SQL the mapping supplies (an index's `where`, a CHECK, a default, a
//! view's `sql`) reaches PostgreSQL as exactly one expression or one
//! query: a second statement or a fragment escaping its parentheses is
//! refused by `check` and by `run` before the target is touched, and the
//! application's own tables stay as they were.

use crate::common::*;
use std::path::{Path, PathBuf};

/// A source of one table `orders` (id, status, b) and a mapping for it;
/// `edit` adds the fragment under test.
fn orders(edit: impl FnOnce(Mapping) -> Mapping) -> (tempfile::TempDir, PathBuf) {
    let (dir, src) = sqlite_fixture(
        "CREATE TABLE orders (id INTEGER PRIMARY KEY, status TEXT, b INTEGER);
         INSERT INTO orders VALUES (1, 'open', 10), (2, 'a;b', 20), (3, 'x', 30);",
    );
    let toml = dir.path().join("p.toml");
    let m = Mapping::new(&src)
        .table("orders", &["id"])
        .column("id", "bigint")
        .not_null()
        .column("status", "text")
        .column("b", "bigint");
    edit(m).write(&toml);
    (dir, toml)
}

/// A target holding the application's own table `app_orders` (2 rows).
fn app_target() -> TestDb {
    let db = TestDb::new();
    db.exec("CREATE TABLE app_orders (id int PRIMARY KEY); INSERT INTO app_orders VALUES (1), (2)");
    db
}

/// `check` and `run` both exit 2 naming the mapping file and `key`; the
/// target is as it was: the app's table there, nothing created.
#[track_caller]
fn refused_everywhere(toml: &Path, key: &str) {
    let o = sqlite2pg(&["check", toml.to_str().unwrap()]);
    assert_exit(&o, 2, &["p.toml:", key, "not one SQL"]);
    let db = app_target();
    let o = run_pipeline(toml, &db.url, &[]);
    assert_exit(&o, 2, &["p.toml:", key, "not one SQL"]);
    untouched(&db);
}

#[track_caller]
fn untouched(db: &TestDb) {
    assert_eq!(db.scalar("SELECT count(*) FROM app_orders"), "2");
    assert_eq!(
        db.scalar("SELECT count(*) FROM pg_namespace WHERE nspname = 'sqlite2pg'"),
        "0",
        "the run recorded nothing"
    );
    assert_eq!(db.scalar("SELECT to_regclass('orders') IS NULL"), "t");
}

/// An index `where` carrying a second statement: before, `check` passed
/// and `run` dropped the application's table.
#[test]
fn an_index_where_with_a_second_statement_is_refused_before_the_target_is_touched() {
    let (_dir, toml) = orders(|m| {
        m.index("orders_open", &["status"])
            .set("where", "true; DROP TABLE \"app_orders\"; SELECT 1")
    });
    refused_everywhere(&toml, "tables.orders.indexes.0.where");
}

/// A CHECK that closes its own parenthesis and goes on inside the same
/// ALTER TABLE (no `;`): before, it dropped column `b`.
#[test]
fn a_check_escaping_its_parentheses_is_refused_before_the_target_is_touched() {
    let (_dir, toml) = orders(|m| {
        m.table("orders", &["id"]).set_list(
            "checks",
            &["true), DROP COLUMN b, ADD CONSTRAINT d CHECK (true"],
        )
    });
    refused_everywhere(&toml, "tables.orders.checks.0");
}

/// A default that adds a column of its own after a comma, and a view
/// whose `sql` holds a second statement.
#[test]
fn a_default_with_a_comma_and_a_view_with_two_statements_are_refused() {
    let (_dir, toml) = orders(|m| m.column("b", "bigint").set("default", "0, evil text"));
    refused_everywhere(&toml, "tables.orders.columns.b.default");
    let (_dir, toml) = orders(|m| m);
    let mut text = std::fs::read_to_string(&toml).unwrap();
    text.push_str(
        "\n[views.v]\naction = \"create\"\nsql = 'SELECT 1 AS one; DROP TABLE \"app_orders\"'\n",
    );
    std::fs::write(&toml, text).unwrap();
    refused_everywhere(&toml, "views.v.sql");
}

/// What the lexical check cannot see, the server's parse at run start
/// does: a default of two words is no expression. `run` refuses it before
/// anything is created (`check` has no target: it passes).
#[test]
fn an_expression_postgresql_cannot_parse_is_refused_at_run_start() {
    let (_dir, toml) = orders(|m| m.column("b", "bigint").set("default", "1 2"));
    let db = app_target();
    let o = run_pipeline(&toml, &db.url, &[]);
    assert_exit(
        &o,
        2,
        &[
            "p.toml:",
            "tables.orders.columns.b.default",
            "not one SQL expression: PostgreSQL reads it as something else",
        ],
    );
    untouched(&db);
}

/// Honest expressions with `;`, `)` and `,` inside string literals, a
/// dollar quote and a comment load as written.
#[test]
fn an_honest_expression_with_a_semicolon_in_a_string_still_works() {
    let (_dir, toml) = orders(|m| {
        m.table("orders", &["id"])
            .set_list("checks", &["status <> 'x; DROP TABLE app_orders; )'"])
            .column("status", "text")
            .set("default", "'new;, )'")
            .index("orders_open", &["status", "(lower(status || ';')) DESC"])
            .set(
                "where",
                "status <> $$; DROP TABLE app_orders$$ /* a ; comment */",
            )
    });
    let o = sqlite2pg(&["check", toml.to_str().unwrap()]);
    assert_exit(&o, 0, &[]);
    let db = app_target();
    let o = run_pipeline(&toml, &db.url, &[]);
    assert_exit(&o, 0, &[]);
    assert_eq!(db.scalar("SELECT count(*) FROM app_orders"), "2");
    assert_eq!(db.scalar("SELECT count(*) FROM orders"), "3");
    assert_eq!(
        db.scalar("SELECT count(*) FROM pg_constraint WHERE conrelid = 'orders'::regclass AND contype = 'c'"),
        "1"
    );
    let def = db.scalar("SELECT indexdef FROM pg_indexes WHERE indexname = 'orders_open'");
    assert!(
        def.contains("WHERE (status <> '; DROP TABLE app_orders'::text)"),
        "{def}"
    );
    db.exec("INSERT INTO orders (id) VALUES (4)");
    assert_eq!(
        db.scalar("SELECT status FROM orders WHERE id = 4"),
        "new;, )"
    );
}
