use super::*;
use crate::sqlite::sql::functions::{LOWER, UPPER};

fn col(source: &str, target: Option<&str>, ty: &str) -> Column {
    Column {
        source: source.into(),
        target: target.map(String::from),
        ty: Some(PgType::parse(ty).unwrap()),
    }
}

/// users(id bigint pk, name text, Email → email text, created timestamptz,
/// secret excluded, score double); orders(id, user_id, total double,
/// qty bigint); a view `big` (id, label).
fn cat() -> Catalog {
    Catalog {
        relations: vec![
            Relation {
                source: "users".into(),
                target: "people".into(),
                columns: vec![
                    col("id", Some("id"), "bigint"),
                    col("name", Some("name"), "text"),
                    col("Email", Some("email"), "text"),
                    col("created", Some("created"), "timestamptz"),
                    col("secret", None, "text"),
                    col("score", Some("score"), "double precision"),
                ],
                primary_key: vec!["id".into()],
                is_view: false,
            },
            Relation {
                source: "orders".into(),
                target: "orders".into(),
                columns: vec![
                    col("id", Some("id"), "bigint"),
                    col("user_id", Some("user_id"), "bigint"),
                    col("total", Some("total"), "double precision"),
                    col("qty", Some("qty"), "bigint"),
                ],
                primary_key: vec!["id".into()],
                is_view: false,
            },
            Relation {
                source: "big".into(),
                target: "big".into(),
                columns: ["id", "label"]
                    .iter()
                    .map(|c| Column {
                        source: c.to_string(),
                        target: Some(c.to_string()),
                        ty: None,
                    })
                    .collect(),
                primary_key: Vec::new(),
                is_view: true,
            },
        ],
        not_moved: vec!["audit".into()],
    }
}

fn tr(sql: &str, columns: &[&str]) -> R<Translated> {
    translate(
        &SourceView {
            name: "v".into(),
            sql: sql.into(),
            columns: columns.iter().map(|c| c.to_string()).collect(),
        },
        &cat(),
    )
}

fn ok(sql: &str, columns: &[&str]) -> String {
    tr(sql, columns)
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
        .sql
}

fn refused(sql: &str, columns: &[&str]) -> String {
    match tr(sql, columns) {
        Ok(t) => panic!("{sql} translated to {}", t.sql),
        Err(e) => e,
    }
}

#[test]
fn a_join_with_a_filter_uses_target_names_and_sqlite_column_names() {
    let s = ok(
        "CREATE VIEW v AS SELECT u.name, [o].\"total\", u.Email AS mail FROM users u \
         JOIN orders AS o ON o.user_id = u.id WHERE o.qty >= 2 AND u.name <> 'x'",
        &["name", "total", "mail"],
    );
    assert_eq!(
        s,
        "SELECT \"u\".\"name\" AS \"name\", \"o\".\"total\" AS \"total\", \"u\".\"email\" AS \"mail\"\n\
         FROM \"people\" AS \"u\" JOIN \"orders\" AS \"o\" ON \"o\".\"user_id\" = \"u\".\"id\"\n\
         WHERE \"o\".\"qty\" >= 2 AND \"u\".\"name\" <> 'x'"
    );
}

#[test]
fn star_expands_to_the_moved_columns_and_refuses_an_excluded_one() {
    let e = refused("CREATE VIEW v AS SELECT * FROM users", &["id", "name"]);
    assert!(e.contains("`users`.`secret`"), "{e}");
    let s = ok(
        "CREATE VIEW v AS SELECT o.* FROM orders o",
        &["id", "user_id", "total", "qty"],
    );
    assert!(
        s.starts_with("SELECT \"o\".\"id\" AS \"id\", \"o\".\"user_id\" AS \"user_id\""),
        "{s}"
    );
}

#[test]
fn limit_comma_offset_concat_and_order_by_follow_sqlite() {
    let s = ok(
        "CREATE VIEW v AS SELECT name || ' <' || Email || '>' FROM users ORDER BY name DESC, id LIMIT 5, 10",
        &["name || ' <' || Email || '>'"],
    );
    assert!(
        s.ends_with(
            "ORDER BY \"people\".\"name\" COLLATE \"C\" DESC NULLS LAST, \"people\".\"id\" ASC NULLS FIRST\n\
             LIMIT 10 OFFSET 5"
        ),
        "{s}"
    );
    assert!(
        s.contains("\"people\".\"name\" || ' <' || \"people\".\"email\" || '>' AS"),
        "{s}"
    );
    let s = ok(
        "CREATE VIEW v AS SELECT id FROM users LIMIT 3 OFFSET 1",
        &["id"],
    );
    assert!(s.ends_with("\nLIMIT 3 OFFSET 1"), "{s}");
    let s = ok("CREATE VIEW v AS SELECT id FROM users LIMIT -1", &["id"]);
    assert!(s.ends_with("LIMIT ALL"), "{s}");
}

#[test]
fn functions_on_the_whitelist_translate_exactly() {
    let s = ok(
        "CREATE VIEW v AS SELECT ifnull(name, '?'), lower(name), substr(name, 1, 2), length(name), \
         date('now') FROM users",
        &["a", "b", "c", "d", "e"],
    );
    assert!(s.contains("coalesce(\"people\".\"name\", '?')"), "{s}");
    assert!(
        s.contains("translate(\"people\".\"name\", 'ABCDEFGHIJKLMNOPQRSTUVWXYZ', 'abcdefghijklmnopqrstuvwxyz')"),
        "{s}"
    );
    assert!(s.contains("substr(\"people\".\"name\", 1, 2)"), "{s}");
    assert!(
        s.contains("to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD')"),
        "{s}"
    );
    let s = ok(
        "CREATE VIEW v AS SELECT CAST(id AS TEXT), CAST(qty AS INTEGER), total * 1.5 FROM orders",
        &["a", "b", "c"],
    );
    assert!(s.contains("CAST(\"orders\".\"id\" AS text)"), "{s}");
    assert!(s.contains("CAST(\"orders\".\"qty\" AS bigint)"), "{s}");
    assert!(s.contains("'1.5'::float8"), "{s}");
}

#[test]
fn semantic_traps_are_refused_with_the_reason() {
    let cases = [
        ("SELECT name LIKE 'a%' FROM users", "LIKE as a value"),
        // Beside a comparison SQLite and PostgreSQL bind LIKE differently,
        // and its result is 0/1 in one, a boolean in the other.
        (
            "SELECT id FROM users WHERE name LIKE 'abc' = 't'",
            "LIKE as a value",
        ),
        (
            "SELECT id FROM users WHERE Email = name LIKE 'a'",
            "LIKE as a value",
        ),
        (
            "SELECT id FROM users WHERE (name LIKE 'a') = 1",
            "LIKE as a value",
        ),
        (
            "SELECT id FROM users WHERE CASE name LIKE 'a' WHEN 1 THEN 1 END = 1",
            "LIKE as a value",
        ),
        (
            "SELECT id FROM users WHERE coalesce(name LIKE 'a', 0)",
            "LIKE as a value",
        ),
        (
            "SELECT id FROM users WHERE name LIKE '%a%' NOT NULL",
            "LIKE as a value",
        ),
        (
            "SELECT id FROM orders WHERE qty BETWEEN 0 AND 'x' LIKE 'x'",
            "LIKE as a value",
        ),
        (
            "SELECT id FROM users WHERE id IN (name LIKE 'a')",
            "LIKE as a value",
        ),
        // PostgreSQL fails such a query; SQLite matches nothing.
        (
            "SELECT id FROM users WHERE name LIKE 'abc\\' ESCAPE '\\'",
            "ends with its escape",
        ),
        (
            "SELECT id FROM users WHERE name LIKE '%' ESCAPE '%'",
            "ends with its escape",
        ),
        (
            "SELECT id FROM orders WHERE qty LIKE '1%'",
            "LIKE on a value that is not text",
        ),
        (
            "SELECT id FROM users WHERE name || 'x' LIKE 'a%'",
            "LIKE on an expression",
        ),
        (
            "SELECT id FROM users WHERE name LIKE 'a' || '%'",
            "LIKE with a pattern that is an expression",
        ),
        (
            "SELECT id FROM users WHERE name LIKE Email",
            "LIKE with a pattern that is not a literal",
        ),
        ("SELECT id FROM users WHERE name GLOB 'a*'", "GLOB"),
        ("SELECT CAST(total AS INTEGER) FROM orders", "truncates"),
        ("SELECT CAST(name AS INTEGER) FROM users", "truncates"),
        ("SELECT name, count(*) FROM users", "beside an aggregate"),
        (
            "SELECT o.qty, count(*) FROM orders o GROUP BY o.user_id",
            "beside an aggregate",
        ),
        ("SELECT id FROM users WHERE name = 5", "affinity"),
        ("SELECT id FROM orders WHERE qty = '5'", "affinity"),
        (
            "SELECT id FROM users WHERE created > '2024-01-01'",
            "timestamptz",
        ),
        ("SELECT secret FROM users", "does not move"),
        ("SELECT id FROM audit", "does not move"),
        ("SELECT qty / user_id FROM orders", "division by zero"),
        ("SELECT avg(qty) FROM orders", "avg()"),
        ("SELECT max(qty, id) FROM orders", "NULL"),
        ("SELECT substr(name, -2) FROM users", "negative start"),
        (
            "SELECT datetime('now', 'localtime') FROM users",
            "modifiers",
        ),
        (
            "SELECT id FROM users WHERE id IN (SELECT user_id FROM orders)",
            "subquery",
        ),
        (
            "SELECT id FROM users UNION SELECT id FROM orders",
            "compound",
        ),
        ("SELECT total || 'x' FROM orders", "render"),
        ("SELECT printf('%d', id) FROM users", "printf()"),
        (
            "SELECT id FROM users ORDER BY lower(name) LIMIT 1",
            "how it sorts",
        ),
        ("SELECT rowid FROM users", "rowid"),
        ("SELECT name COLLATE NOCASE FROM users", "COLLATE"),
    ];
    for (sql, why) in cases {
        let e = refused(&format!("CREATE VIEW v AS {sql}"), &["x", "y"]);
        assert!(e.contains(why), "{sql}: {e}");
    }
}

#[test]
fn aggregates_grouped_by_a_column_or_the_key_translate() {
    let s = ok(
        "CREATE VIEW v AS SELECT user_id, count(*) AS n, sum(qty), max(total), min(u.name) \
         FROM orders JOIN users u ON u.id = orders.user_id GROUP BY user_id HAVING count(*) > 1",
        &["user_id", "n", "sum(qty)", "max(total)", "min(u.name)"],
    );
    assert!(
        s.contains("GROUP BY \"orders\".\"user_id\"\nHAVING count(*) > 1"),
        "{s}"
    );
    assert!(s.contains("min(\"u\".\"name\" COLLATE \"C\")"), "{s}");
    // Every column of users is single-valued per users.id.
    ok(
        "CREATE VIEW v AS SELECT u.id, u.name, count(o.id) FROM users u LEFT JOIN orders o \
         ON o.user_id = u.id GROUP BY u.id",
        &["id", "name", "count(o.id)"],
    );
}

#[test]
fn a_view_over_a_view_names_it_and_text_comparisons_sort_bytewise() {
    let t = tr(
        "CREATE VIEW v AS SELECT b.label FROM big b WHERE b.label < 'm'",
        &["label"],
    )
    .unwrap();
    assert_eq!(t.views_used, ["big"]);
    assert!(
        t.sql.ends_with("WHERE \"b\".\"label\" < 'm' COLLATE \"C\""),
        "{}",
        t.sql
    );
    let e = refused(
        "CREATE VIEW v AS SELECT label FROM big WHERE label < id",
        &["label"],
    );
    assert!(e.contains("cannot tell"), "{e}");
    let e = refused(
        "CREATE VIEW v AS SELECT label FROM big ORDER BY label LIMIT 2",
        &["label"],
    );
    assert!(e.contains("how it sorts"), "{e}");
}

#[test]
fn the_column_count_must_match_sqlites() {
    let e = refused("CREATE VIEW v AS SELECT id, name FROM users", &["id"]);
    assert!(e.contains("SQLite reports 1"), "{e}");
}

#[test]
fn propose_orders_views_after_the_views_they_read() {
    let conn = Connection::open_in_memory().unwrap();
    conn.execute_batch(
        "CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT);
         CREATE VIEW outer_v AS SELECT name FROM inner_v ORDER BY name LIMIT 1;
         CREATE VIEW inner_v AS SELECT id, name FROM t WHERE id > 1;
         CREATE VIEW bad AS SELECT name FROM t WHERE name GLOB 'a*';
         CREATE VIEW over_bad AS SELECT name FROM bad;",
    )
    .unwrap();
    let text = "[source]\npath = \"x.db\"\n[tables.t]\nprimary_key = [\"id\"]\n\
                [tables.t.columns.id]\ntype = \"bigint\"\n[tables.t.columns.name]\ntype = \"text\"\n";
    let p = Pipeline::parse(text, std::path::Path::new("p.toml")).unwrap();
    let got = propose(&conn, &p).unwrap();
    let names: Vec<&str> = got.iter().map(|v| v.name.as_str()).collect();
    assert_eq!(names, ["inner_v", "bad", "over_bad", "outer_v"]);
    // The outer view knows the inner one's column types.
    assert_eq!(
        got[0].result.as_ref().unwrap().types,
        [Some(PgType::BigInt), Some(PgType::Text)]
    );
    assert!(got[3].result.is_ok(), "{:?}", got[3].result);
    assert!(got[1].result.as_ref().unwrap_err().contains("GLOB"));
    assert!(got[2].result.as_ref().unwrap_err().contains("view `bad`"));
}

#[test]
fn the_mapping_refuses_a_created_view_without_sql_or_with_a_tables_name() {
    let text = "[source]\npath = \"x.db\"\n[tables.t.columns.id]\ntype = \"bigint\"\n\
                [views.t]\naction = \"create\"\nsql = \"SELECT 1\"\n\
                [views.empty]\naction = \"create\"\n";
    let parse = |t: &str| {
        Pipeline::parse(t, std::path::Path::new("p.toml"))
            .unwrap_err()
            .to_string()
    };
    let e = parse(text);
    assert!(
        e.contains("view `t` has the name of the target table of `t`"),
        "{e}"
    );
    assert!(
        e.contains("`views.empty.action`: action = \"create\" needs"),
        "{e}"
    );
    let e = parse("[source]\npath = \"x.db\"\n[views.v]\naction = \"copy\"\n");
    assert!(
        e.contains("expected one of `create`, `materialize`, `skip`"),
        "{e}"
    );
}

#[test]
fn a_materialized_view_is_planned_as_a_table_of_its_rows_and_checked_as_one() {
    let parse = |t: &str| Pipeline::parse(t, std::path::Path::new("p.toml"));
    let head = "[source]\npath = \"x.db\"\n[tables.t.columns.id]\ntype = \"bigint\"\n";
    // Without columns there is nothing to create the table from.
    let e = parse(&format!("{head}[views.v]\naction = \"materialize\"\n"))
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("p.toml:6: `views.v.action`: action = \"materialize\" needs the view's columns"),
        "{e}"
    );
    // Its columns are checked as a table's, named by their place in the file.
    let e = parse(&format!(
        "{head}[views.v]\naction = \"materialize\"\n[views.v.columns.n]\ntype = \"bignum\"\n"
    ))
    .unwrap_err()
    .to_string();
    assert!(e.contains("p.toml:8: `views.v.columns.n.type`"), "{e}");
    // A table already takes the name.
    let e = parse(&format!(
        "{head}[tables.u]\ntarget = \"v\"\n[tables.u.columns.id]\ntype = \"bigint\"\n\
         [views.v]\naction = \"materialize\"\n[views.v.columns.n]\ntype = \"bigint\"\n"
    ))
    .unwrap_err()
    .to_string();
    assert!(
        e.contains("p.toml:10: `views.v.action`: materialized, view `v` would be table `v`, which is already the target of source table `u`"),
        "{e}"
    );
    // Every column excluded is said as for a table.
    let e = parse(&format!(
        "{head}[views.v]\naction = \"materialize\"\n[views.v.columns.n]\ntype = \"bigint\"\ninclude = false\n"
    ))
    .unwrap_err()
    .to_string();
    assert!(e.contains("`views.v.columns`: no included column"), "{e}");

    let text = format!(
        "{head}[views.v]\naction = \"materialize\"\n[views.v.columns.n]\ntype = \"bigint\"\n\
         [views.v.columns.label]\ntype = \"text\"\ntarget = \"name\"\n\
         [views.w]\naction = \"skip\"\n[views.w.columns.x]\ntype = \"text\"\n"
    );
    let p = parse(&text).unwrap();
    let plans = crate::config::plan::plan(&p).unwrap();
    let names: Vec<&str> = plans.iter().map(|t| t.source.as_str()).collect();
    assert_eq!(names, ["t", "v"], "a skipped view loads nothing");
    let v = &plans[1];
    assert!(v.from_view && v.without_rowid && v.primary_key.is_empty());
    let cols: Vec<(&str, &str)> = v
        .columns
        .iter()
        .map(|c| (c.source.as_str(), c.target.as_str()))
        .collect();
    assert_eq!(cols, [("n", "n"), ("label", "name")]);
    assert!(crate::config::plan::views(&p).is_empty());
    // Written back by `init` under `[views]`, not as a table.
    let back = p.to_toml().unwrap();
    assert!(!back.contains("[tables.v"), "{back}");
    assert!(back.contains("[views.v.columns.label]"), "{back}");
}

#[test]
fn the_relations_a_select_reads_are_the_names_in_its_from_clause() {
    assert_eq!(
        relations_read("SELECT x.id, x.y, y FROM x JOIN \"z w\" ON 1, v WHERE y > 0"),
        ["x", "z w", "v"]
    );
    // A column with a view's name is not a relation; nor is a select list
    // after a comma.
    assert_eq!(relations_read("SELECT a, y FROM x"), ["x"]);
    assert_eq!(
        relations_read("SELECT a FROM x WHERE a IN (SELECT b FROM y) ORDER BY a, c"),
        ["x", "y"]
    );
}

#[test]
fn like_folds_ascii_letters_only_as_sqlite_does() {
    let s = ok(
        "CREATE VIEW v AS SELECT id FROM users WHERE name LIKE 'Ab%' AND name NOT LIKE 'a!_%' ESCAPE '!'",
        &["id"],
    );
    let fold = format!("translate(\"people\".\"name\", '{UPPER}', '{LOWER}')");
    assert!(s.contains(&format!("{fold} LIKE 'ab%' ESCAPE ''")), "{s}");
    assert!(
        s.contains(&format!("{fold} NOT LIKE 'a!_%' ESCAPE '!'")),
        "{s}"
    );
    // Conditions joined by AND/OR/NOT, in parentheses, in CASE WHEN.
    let s = ok(
        "CREATE VIEW v AS SELECT id FROM users WHERE (name LIKE 'a%' OR NOT name LIKE 'b%') \
         AND CASE WHEN name LIKE 'c%' THEN 1 ELSE 0 END = 1 AND name LIKE '%!%' ESCAPE '!'",
        &["id"],
    );
    assert!(
        s.contains(&format!(
            "({fold} LIKE 'a%' ESCAPE '' OR NOT {fold} LIKE 'b%' ESCAPE '')"
        )),
        "{s}"
    );
    assert!(
        s.contains(&format!("WHEN {fold} LIKE 'c%' ESCAPE '' THEN")),
        "{s}"
    );
}
