use super::*;

fn col(name: &str, unindexed: bool) -> FtsColumn {
    FtsColumn {
        name: name.into(),
        unindexed,
    }
}

#[test]
fn fts5_columns_unindexed_and_options() {
    let d = parse_fts(
        "CREATE VIRTUAL TABLE \"Notes\" USING fts5(title, \"body text\" UNINDEXED, [tag], \
         tokenize = 'porter unicode61 remove_diacritics 1', prefix='2 3', detail=full)",
    )
    .unwrap();
    assert_eq!(d.module, "fts5");
    assert_eq!(
        d.columns,
        [
            col("title", false),
            col("body text", true),
            col("tag", false)
        ]
    );
    assert_eq!(d.content, FtsContent::Own);
    assert_eq!(
        d.options,
        [
            (
                "tokenize".to_string(),
                "porter unicode61 remove_diacritics 1".to_string()
            ),
            ("prefix".into(), "2 3".into()),
            ("detail".into(), "full".into()),
        ]
    );
}

#[test]
fn content_options_tell_where_rows_are() {
    let ext =
        parse_fts("create virtual table fx using FTS5(t, content='docs', content_rowid='id')")
            .unwrap();
    assert_eq!(ext.module, "fts5");
    assert_eq!(
        ext.content,
        FtsContent::External {
            table: "docs".into(),
            rowid: Some("id".into())
        }
    );
    assert_eq!(ext.columns, [col("t", false)]);

    let bare = parse_fts("CREATE VIRTUAL TABLE fx USING fts5(t, content=docs)").unwrap();
    assert!(
        matches!(bare.content, FtsContent::External { ref table, rowid: None } if table == "docs")
    );

    let none = parse_fts("CREATE VIRTUAL TABLE fc USING fts5(t, content='')").unwrap();
    assert_eq!(none.content, FtsContent::Contentless);
    // FTS4 spells it with double quotes.
    let none4 = parse_fts("CREATE VIRTUAL TABLE fc USING fts4(content=\"\", a, b)").unwrap();
    assert_eq!(none4.content, FtsContent::Contentless);
    assert_eq!(none4.columns, [col("a", false), col("b", false)]);
}

#[test]
fn fts4_types_and_tokenize_without_equals() {
    let d = parse_fts(
        "CREATE VIRTUAL TABLE IF NOT EXISTS main.f4 USING fts4(a TEXT, \"b\" VARCHAR(10), tokenize porter, content=\"docs\", languageid=\"lid\")",
    )
    .unwrap();
    assert_eq!(d.module, "fts4");
    assert_eq!(d.columns, [col("a", false), col("b", false)]);
    assert_eq!(
        d.content,
        FtsContent::External {
            table: "docs".into(),
            rowid: None
        }
    );
    assert!(d.options.contains(&("tokenize".into(), "porter".into())));
    assert!(d.options.contains(&("languageid".into(), "lid".into())));
    // fts3 with no arguments at all.
    let d3 = parse_fts("CREATE VIRTUAL TABLE x USING fts3").unwrap();
    assert!(d3.columns.is_empty() && d3.content == FtsContent::Own);
}

#[test]
fn other_modules_and_statements() {
    assert!(parse_fts("CREATE VIRTUAL TABLE r USING rtree(id, x0, x1)").is_none());
    assert_eq!(
        parse_virtual("CREATE VIRTUAL TABLE r USING rtree(id, x0, x1)"),
        Some(VirtualDecl {
            module: "rtree".into(),
            args: vec!["id".into(), "x0".into(), "x1".into()]
        })
    );
    assert!(parse_virtual("CREATE TABLE t (a)").is_none());
    // A comma inside parentheses or quotes does not split an argument.
    let v = parse_virtual("CREATE VIRTUAL TABLE v USING m(a(1, 2), 'x,y', b)").unwrap();
    assert_eq!(v.args, ["a(1, 2)", "'x,y'", "b"]);
}

fn fate_of(setup: &str, name: &str) -> VirtualFate {
    let conn = Connection::open_in_memory().unwrap();
    conn.execute_batch(setup).unwrap();
    let sql: String = conn
        .query_row(
            "SELECT sql FROM sqlite_schema WHERE name = ?1",
            [name],
            |r| r.get(0),
        )
        .unwrap();
    fate(&conn, name, &sql, |t| t.eq_ignore_ascii_case("docs"))
}

#[test]
fn fates_say_where_the_data_is() {
    let setup = "CREATE TABLE docs (id INTEGER PRIMARY KEY, t TEXT);
         CREATE VIRTUAL TABLE ft USING fts5(title, body UNINDEXED, tokenize='porter');
         CREATE VIRTUAL TABLE fx USING fts5(t, content='docs', content_rowid='id');
         CREATE VIRTUAL TABLE fy USING fts5(t, content='gone');
         CREATE VIRTUAL TABLE fc USING fts5(t, content='');
         CREATE VIRTUAL TABLE f4 USING fts4(rowid, x);
         CREATE VIRTUAL TABLE r USING rtree(id, x0, x1);";
    match fate_of(setup, "ft") {
        VirtualFate::Moves { decl, note, rowid } => {
            assert_eq!(rowid, "rowid");
            assert_eq!(decl.columns, [col("title", false), col("body", true)]);
            assert!(note.contains("tsvector"), "{note}");
            assert!(note.contains("coalesce(\"title\", '')"), "{note}");
            assert!(note.contains("UNINDEXED body"), "{note}");
        }
        f => panic!("{f:?}"),
    }
    let warning = |n: &str| match fate_of(setup, n) {
        VirtualFate::Skipped { warning, .. } => warning,
        f => panic!("{f:?}"),
    };
    let w = warning("fx");
    assert!(
        w.contains("its rows are table `docs`'s, by its `id`"),
        "{w}"
    );
    assert!(warning("fy").contains("(no such table in this file)"));
    assert!(warning("fc").contains("holds no rows, only an index"));
    assert!(warning("r").contains("module `rtree`"));
    // FTS4 lets a column be named rowid: the rowid takes the next name.
    match fate_of(setup, "f4") {
        VirtualFate::Moves { rowid, .. } => assert_eq!(rowid, "_rowid_"),
        f => panic!("{f:?}"),
    }
}

#[test]
fn a_module_sqlite_lacks_is_skipped() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("x.db");
    let conn = Connection::open(&path).unwrap();
    conn.execute_batch(
        "CREATE TABLE t (a);
         PRAGMA writable_schema = ON;
         INSERT INTO sqlite_schema VALUES ('table', 'vv', 'vv', 0, 'CREATE VIRTUAL TABLE vv USING nosuch(a)');",
    )
    .unwrap();
    drop(conn);
    let conn = Connection::open(&path).unwrap();
    let w = match fate(
        &conn,
        "vv",
        "CREATE VIRTUAL TABLE vv USING nosuch(a)",
        |_| false,
    ) {
        VirtualFate::Skipped { warning, .. } => warning,
        f => panic!("{f:?}"),
    };
    assert!(w.contains("module `nosuch`"), "{w}");
    assert!(w.contains("no such module"), "{w}");
}
