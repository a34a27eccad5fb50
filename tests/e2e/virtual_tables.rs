//! Virtual tables (issue 14, item 8): a standalone FTS table, whose rows
//! exist nowhere else, moves as a plain table with its rowid as a column;
//! external-content and contentless FTS tables and the shadow tables are
//! left out, each named on `init`'s stderr with where its data is.

use crate::common::*;
use std::path::Path;

const SOURCE: &str = "
    CREATE VIRTUAL TABLE notes USING fts5(title, body UNINDEXED, tokenize = 'unicode61 remove_diacritics 2', prefix = '2 3');
    INSERT INTO notes (rowid, title, body) VALUES
      (3, 'Grüße aus Köln', 'ünïcødé ✓ 日本語'),
      (7, 'plain', NULL),
      (1000, 'tab\tand\nnewline', 'O''Brien');
    CREATE TABLE docs (id INTEGER PRIMARY KEY, body TEXT);
    INSERT INTO docs VALUES (1, 'first doc'), (2, 'second doc');
    CREATE VIRTUAL TABLE docs_fts USING fts5(body, content = 'docs', content_rowid = 'id');
    INSERT INTO docs_fts (docs_fts) VALUES ('rebuild');
    CREATE VIRTUAL TABLE tags_idx USING fts5(tag, content = '');
    INSERT INTO tags_idx (rowid, tag) VALUES (1, 'alpha'), (2, 'beta');
";

fn init_stderr(src: &Path, toml: &Path) -> String {
    let o = sqlite2pg(&["init", src.to_str().unwrap(), "-o", toml.to_str().unwrap()]);
    assert_exit(&o, 0, &[]);
    stderr(&o)
}

fn verify(toml: &Path, url: &str) {
    let o = sqlite2pg(&["verify", toml.to_str().unwrap(), "--target", url]);
    assert_exit(&o, 0, &[]);
}

#[test]
fn standalone_fts_moves_with_its_rowids_and_the_others_are_named() {
    let db = TestDb::new();
    let (dir, src) = sqlite_fixture(SOURCE);
    let toml = dir.path().join("p.toml");
    let e = init_stderr(&src, &toml);

    // Where each left-out table's data is.
    assert!(
        e.contains("`notes`") && e.contains("moves as a plain table"),
        "{e}"
    );
    assert!(e.contains("tsvector"), "{e}");
    assert!(
        e.contains("virtual table `docs_fts` is not moved")
            && e.contains("its rows are table `docs`'s, by its `id`"),
        "{e}"
    );
    assert!(
        e.contains("virtual table `tags_idx` is not moved")
            && e.contains("holds no rows, only an index"),
        "{e}"
    );
    assert!(
        e.contains("`notes`'s shadow tables (its internal storage) are not moved: `notes_config`, `notes_content`, `notes_data`"),
        "{e}"
    );
    assert!(e.contains("`docs_fts`'s shadow tables"), "{e}");
    let mapping = std::fs::read_to_string(&toml).unwrap();
    assert!(mapping.contains("[tables.notes]"), "{mapping}");
    assert!(!mapping.contains("[tables.docs_fts"), "{mapping}");
    assert!(!mapping.contains("[tables.notes_"), "{mapping}");

    // `check` reads the FTS table as `run` will.
    // Both also list the virtual tables whose rows do not move.
    let o = sqlite2pg(&["check", toml.to_str().unwrap()]);
    assert_exit(&o, 0, &[]);
    for t in ["docs_fts", "tags_idx"] {
        let said = format!("virtual table `{t}` is not moved");
        assert!(stdout(&o).contains(&said), "check: {}", stdout(&o));
    }

    let o = run_pipeline(&toml, &db.url, &[]);
    assert_exit(&o, 0, &[]);
    for t in ["docs_fts", "tags_idx"] {
        let said = format!("virtual table `{t}` is not moved");
        assert!(stdout(&o).contains(&said), "run: {}", stdout(&o));
    }
    assert_eq!(
        db.query("SELECT rowid, title, coalesce(body, 'NULL') FROM notes ORDER BY rowid"),
        vec![
            vec!["3", "Grüße aus Köln", "ünïcødé ✓ 日本語"],
            vec!["7", "plain", "NULL"],
            vec!["1000", "tab\tand\nnewline", "O'Brien"],
        ]
    );
    // The rowid is the primary key, and PostgreSQL numbers new rows past it.
    assert_eq!(
        db.scalar(
            "SELECT string_agg(a.attname, ',') FROM pg_index i JOIN pg_attribute a \
             ON a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey) \
             WHERE i.indrelid = 'notes'::regclass AND i.indisprimary"
        ),
        "rowid"
    );
    db.exec("INSERT INTO notes (title) VALUES ('new')");
    assert_eq!(
        db.scalar("SELECT rowid FROM notes WHERE title = 'new'"),
        "1001"
    );
    db.exec("DELETE FROM notes WHERE title = 'new'");
    // Only the plain table and the moved FTS table exist.
    assert_eq!(
        db.scalar(
            "SELECT string_agg(tablename, ',' ORDER BY tablename) FROM pg_tables WHERE schemaname = 'public'"
        ),
        "docs,notes"
    );
    verify(&toml, &db.url);
}

/// Reading an FTS5 table by rowid ranges: chunks of 2 rows, each its own
/// transaction, give every row once.
#[test]
fn standalone_fts_reads_in_rowid_chunks() {
    let db = TestDb::new();
    let mut sql = String::from("CREATE VIRTUAL TABLE t USING fts5(a, b);");
    for i in 0..25 {
        sql.push_str(&format!(
            "INSERT INTO t (rowid, a, b) VALUES ({}, 'row {i} ä', 'x{i}');",
            i * 3 + 1
        ));
    }
    sql.push_str("CREATE VIRTUAL TABLE old USING fts4(x, y TEXT, tokenize=porter); INSERT INTO old (docid, x, y) VALUES (5, 'five', 'v'), (9, 'nine', NULL);");
    let (dir, src) = sqlite_fixture(&sql);
    let toml = dir.path().join("p.toml");
    init_stderr(&src, &toml);
    let text = std::fs::read_to_string(&toml).unwrap();
    let line = text
        .lines()
        .find(|l| l.starts_with("chunk_size"))
        .expect("chunk_size in the mapping")
        .to_string();
    edit_mapping(&toml, &line, "chunk_size = 2\ncommit_every = \"chunk\"");
    edit_mapping(&toml, "commit_every = \"table\"\n", "");
    let o = run_pipeline(&toml, &db.url, &[]);
    assert_exit(&o, 0, &[]);
    assert_eq!(db.scalar("SELECT count(*) FROM t"), "25");
    assert_eq!(
        db.scalar("SELECT count(DISTINCT rowid) || ' ' || min(rowid) || ' ' || max(rowid) FROM t"),
        "25 1 73"
    );
    assert_eq!(db.scalar("SELECT a FROM t WHERE rowid = 73"), "row 24 ä");
    assert_eq!(
        db.query("SELECT rowid, x, coalesce(y, 'NULL') FROM old ORDER BY rowid"),
        vec![vec!["5", "five", "v"], vec!["9", "nine", "NULL"]]
    );
    verify(&toml, &db.url);
}

/// A standalone FTS table added to the source after `init` would be left
/// behind: `check` (and `run`) name it with the lines to add, as they do a
/// plain table; an external-content one (its rows are another table's)
/// is not asked for.
#[test]
fn a_standalone_fts_table_added_after_init_is_named_by_the_drift_check() {
    let (dir, src) = sqlite_fixture(SOURCE);
    let toml = dir.path().join("p.toml");
    init_stderr(&src, &toml);
    let o = sqlite2pg(&["check", toml.to_str().unwrap()]);
    assert_exit(&o, 0, &[]);
    let conn = rusqlite::Connection::open(&src).unwrap();
    conn.execute_batch(
        "CREATE VIRTUAL TABLE later USING fts5(words);
         INSERT INTO later (words) VALUES ('only here');
         CREATE VIRTUAL TABLE docs_fts2 USING fts5(body, content = 'docs', content_rowid = 'id');",
    )
    .unwrap();
    drop(conn);
    let o = sqlite2pg(&["check", toml.to_str().unwrap()]);
    let e = stderr(&o);
    assert_exit(&o, 2, &["table later (1 rows)", "[tables.later]"]);
    assert!(!e.contains("docs_fts2"), "{e}");
}
