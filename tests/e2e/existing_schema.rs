//! Loading into a schema the application created, and keys the app relies
//! on afterwards.

use crate::common::*;

#[test]
fn autoincrement_ids_deleted_in_sqlite_are_never_reissued() {
    let db = TestDb::new();
    let (dir, src) = sqlite_fixture(
        "CREATE TABLE a (id INTEGER PRIMARY KEY AUTOINCREMENT, v TEXT);
         INSERT INTO a (v) VALUES ('x'), ('y'), ('z');
         DELETE FROM a WHERE id = 3;",
    );
    let toml = dir.path().join("p.toml");
    init_mapping(&src, &toml);
    let text = std::fs::read_to_string(&toml).unwrap();
    assert!(text.contains("sequence_floor = 3"), "{text}");
    let o = run_pipeline(toml.to_str().unwrap(), &db.url, &[]);
    assert_exit(&o, 0, &[]);
    assert_eq!(
        db.scalar("INSERT INTO a (v) VALUES ('new') RETURNING id"),
        "4"
    );
}

#[test]
fn mismatched_app_schema_is_reported_whole_before_loading_anything() {
    let db = TestDb::new();
    let (dir, src) = sqlite_fixture(
        "CREATE TABLE people (id INTEGER PRIMARY KEY, name TEXT, legacy_flag INTEGER);
         INSERT INTO people VALUES (1, 'ann', 0);",
    );
    db.exec(
        "CREATE TABLE people (id integer PRIMARY KEY, name varchar(32) NOT NULL, \
         tenant_id integer NOT NULL, created_at timestamptz NOT NULL DEFAULT now())",
    );
    let toml = dir.path().join("p.toml");
    init_mapping(&src, &toml);
    let o = run_pipeline(toml.to_str().unwrap(), &db.url, &[]);
    let e = stderr(&o);
    // A source column without a target one, a NOT NULL target column
    // without a source one.
    assert_exit(&o, 2, &["legacy_flag", "tenant_id"]);
    assert!(
        !e.contains("created_at"),
        "a column with a default needs nothing: {e}"
    );
    assert_eq!(db.scalar("SELECT count(*) FROM people"), "0");

    // The operator says what to do: drop legacy_flag, give tenant_id a value.
    let text = std::fs::read_to_string(&toml).unwrap().replace(
        "[tables.people.columns.legacy_flag]\n",
        "[tables.people.columns.legacy_flag]\ninclude = false\n",
    );
    let text = format!(
        "{text}\n[tables.people.add_columns.tenant_id]\ntype = \"integer\"\ndefault = \"40 + 2\"\n"
    );
    std::fs::write(&toml, text).unwrap();
    let o = run_pipeline(toml.to_str().unwrap(), &db.url, &["--fresh"]);
    assert_exit(&o, 0, &[]);
    assert_eq!(
        db.scalar("SELECT id || ',' || name || ',' || tenant_id || ',' || (created_at IS NOT NULL) FROM people"),
        "1,ann,42,true"
    );
    // The app's schema keeps its own key; nothing duplicated by finalize.
    assert_eq!(
        db.scalar("SELECT count(*) FROM pg_constraint WHERE conrelid = 'people'::regclass AND contype = 'p'"),
        "1"
    );
    let o = sqlite2pg(&["verify", toml.to_str().unwrap(), "--target", &db.url]);
    assert_exit(&o, 0, &[]);
}

#[test]
fn app_foreign_keys_are_respected_by_loading_parents_first() {
    let db = TestDb::new();
    // The child is much larger, so a size-ordered queue would start it first.
    let (dir, src) = sqlite_fixture(
        "CREATE TABLE parent (id INTEGER PRIMARY KEY, name TEXT);
         CREATE TABLE child (id INTEGER PRIMARY KEY, parent_id INTEGER REFERENCES parent(id));
         WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 2000)
         INSERT INTO parent SELECT i, 'p' || i FROM n;
         WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 20000)
         INSERT INTO child SELECT i, 1 + i % 2000 FROM n;",
    );
    db.exec(
        "CREATE TABLE parent (id bigint PRIMARY KEY, name text);
         CREATE TABLE child (id bigint PRIMARY KEY, parent_id bigint NOT NULL REFERENCES parent(id));",
    );
    let toml = dir.path().join("p.toml");
    init_mapping(&src, &toml);
    let text = std::fs::read_to_string(&toml)
        .unwrap()
        .replace("chunk_size = 100000", "chunk_size = 500");
    std::fs::write(&toml, text).unwrap();
    let o = run_pipeline(toml.to_str().unwrap(), &db.url, &[]);
    assert_exit(&o, 0, &[]);
    assert_eq!(db.scalar("SELECT count(*) FROM child"), "20000");
    assert_eq!(db.scalar("SELECT count(*) FROM parent"), "2000");
}

/// Regression (review): with --truncate, tables were emptied before the
/// other tables' checks ran, so a mismatch in table 2 left table 1 empty.
#[test]
fn a_mismatch_anywhere_stops_the_run_before_any_table_is_emptied() {
    let db = TestDb::new();
    let (dir, src) = sqlite_fixture(
        "CREATE TABLE a (id INTEGER PRIMARY KEY, v TEXT); INSERT INTO a VALUES (1, 'new');
         CREATE TABLE b (id INTEGER PRIMARY KEY, w TEXT); INSERT INTO b VALUES (1, 'new');",
    );
    db.exec(
        "CREATE TABLE a (id bigint, v text); INSERT INTO a VALUES (7, 'keep me');
         CREATE TABLE b (id bigint, other text NOT NULL);",
    );
    let toml = dir.path().join("p.toml");
    init_mapping(&src, &toml);
    let o = run_pipeline(toml.to_str().unwrap(), &db.url, &["--truncate"]);
    assert_exit(&o, 2, &["other"]);
    assert_eq!(db.scalar("SELECT v FROM a"), "keep me");
}

/// Review finding: an app table whose foreign key references itself was
/// loaded in parallel chunks, so a child could be committed before its
/// parent in another chunk. Its chunks now load one at a time in order.
#[test]
fn self_referencing_app_table_loads_parents_before_children() {
    let db = TestDb::new();
    let (dir, src) = sqlite_fixture(
        "CREATE TABLE node (id INTEGER PRIMARY KEY, parent_id INTEGER REFERENCES node(id));
         WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 5000)
         INSERT INTO node SELECT i, CASE WHEN i > 1 THEN i - 1 END FROM n;",
    );
    db.exec("CREATE TABLE node (id bigint PRIMARY KEY, parent_id bigint REFERENCES node(id))");
    let toml = dir.path().join("p.toml");
    init_mapping(&src, &toml);
    let text = std::fs::read_to_string(&toml)
        .unwrap()
        .replace("chunk_size = 100000", "chunk_size = 100");
    std::fs::write(&toml, text).unwrap();
    let o = run_pipeline(toml.to_str().unwrap(), &db.url, &[]);
    assert_exit(&o, 0, &[]);
    assert_eq!(db.scalar("SELECT count(*) FROM node"), "5000");
}
