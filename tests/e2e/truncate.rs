//! `--truncate` into a schema the application created: one TRUNCATE of the
//! selected tables plus every table a foreign key makes it take along,
//! listed before anything is emptied; a table outside the pipeline holding
//! rows stops the run (exit 4) with nothing emptied.

use crate::common::*;

const SOURCE: &str = "
    CREATE TABLE parent (id INTEGER PRIMARY KEY, name TEXT);
    CREATE TABLE child (id INTEGER PRIMARY KEY, parent_id INTEGER REFERENCES parent(id));
    CREATE TABLE log (id INTEGER PRIMARY KEY, child_id INTEGER REFERENCES child(id));
    INSERT INTO parent VALUES (1, 'new one'), (2, 'new two');
    INSERT INTO child VALUES (10, 1), (11, 2);";

/// The application's schema: `log` (empty, in the pipeline) references
/// `child`, which references `parent`, which holds rows the app made.
const APP: &str = "
    CREATE TABLE parent (id bigint PRIMARY KEY, name text);
    CREATE TABLE child (id bigint PRIMARY KEY, parent_id bigint REFERENCES parent(id));
    CREATE TABLE log (id bigint PRIMARY KEY, child_id bigint REFERENCES child(id));
    INSERT INTO parent VALUES (1, 'made by migrate');";

#[test]
fn pipeline_tables_referencing_each_other_are_emptied_in_one_statement() {
    let db = TestDb::new();
    db.exec(APP);
    let (_dir, toml) = mapped_fixture(SOURCE);
    let o = run_pipeline(&toml, &db.url, &["--truncate"]);
    let e = stderr(&o);
    assert_exit(&o, 0, &[]);
    // Listed before emptying: the table holding rows and the empty pipeline
    // tables its foreign keys take along.
    for t in ["parent", "child", "log"] {
        assert!(
            e.contains(&format!("\"public\".\"{t}\" (")),
            "{t} not listed: {e}"
        );
    }
    assert!(e.contains("in one TRUNCATE"), "{e}");
    assert_eq!(
        db.scalar("SELECT string_agg(name, ',' ORDER BY id) FROM parent"),
        "new one,new two"
    );
    assert_eq!(db.scalar("SELECT count(*) FROM child"), "2");
}

#[test]
fn an_outside_table_holding_rows_stops_the_run_before_anything_is_emptied() {
    let db = TestDb::new();
    db.exec(APP);
    db.exec(
        "CREATE TABLE audit (id bigint, parent_id bigint CONSTRAINT audit_parent_fk REFERENCES parent(id));
         INSERT INTO audit VALUES (1, 1);",
    );
    let (_dir, toml) = mapped_fixture(SOURCE);
    let o = run_pipeline(&toml, &db.url, &["--truncate"]);
    let e = stderr(&o);
    // A rerun cannot help (exit 4); it names the table and the foreign key,
    // and says what to do.
    assert_exit(
        &o,
        4,
        &[
            "\"public\".\"audit\"",
            "audit_parent_fk",
            "TRUNCATE \"public\".\"audit\"",
        ],
    );
    assert!(!e.contains("rerun the same command"), "{e}");
    // Nothing emptied, nothing recorded.
    assert_eq!(db.scalar("SELECT name FROM parent"), "made by migrate");
    assert_eq!(db.scalar("SELECT count(*) FROM audit"), "1");
    assert_eq!(db.scalar("SELECT count(*) FROM sqlite2pg.runs"), "0");

    // Once the operator empties it, the same command works.
    db.exec("DELETE FROM audit");
    let o = run_pipeline(&toml, &db.url, &["--truncate"]);
    assert_exit(&o, 0, &[]);
}

#[test]
fn an_empty_outside_table_is_included_and_said_so() {
    let db = TestDb::new();
    db.exec(APP);
    db.exec("CREATE TABLE audit (id bigint, parent_id bigint REFERENCES parent(id))");
    let (_dir, toml) = mapped_fixture(SOURCE);
    let o = run_pipeline(&toml, &db.url, &["--truncate"]);
    assert_exit(
        &o,
        0,
        &["\"public\".\"audit\" (empty; outside the pipeline, references \"public\".\"parent\""],
    );
    assert_eq!(db.scalar("SELECT count(*) FROM parent"), "2");
}

#[test]
fn an_unselected_pipeline_table_holding_rows_is_not_emptied_behind_the_operators_back() {
    let db = TestDb::new();
    db.exec(APP);
    db.exec("INSERT INTO child VALUES (99, 1)");
    let (_dir, toml) = mapped_fixture(SOURCE);
    let o = run_pipeline(&toml, &db.url, &["--truncate", "--table", "parent"]);
    assert_exit(&o, 4, &["--table child"]);
    assert_eq!(db.scalar("SELECT count(*) FROM child"), "1");
    // Selecting both empties and reloads both (log, empty, is taken along).
    let o = run_pipeline(
        &toml,
        &db.url,
        &["--truncate", "--table", "parent", "--table", "child"],
    );
    assert_exit(&o, 0, &[]);
    assert_eq!(db.scalar("SELECT count(*) FROM child"), "2");
}
