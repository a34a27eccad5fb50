//! Foreign keys the source's rows break (SQLite enforces them only with
//! `PRAGMA foreign_keys = ON`): `init` counts the orphans per key and
//! writes `orphans = N` into the key's mapping entry; `run` loads every row
//! and leaves such a key NOT VALID (exit 0 when acknowledged, 3 when not);
//! `check` and `verify` say the same. DEFERRABLE stays as declared.

use crate::common::*;
use std::path::Path;

const SQL: &str = r#"
PRAGMA foreign_keys = OFF;
CREATE TABLE authors (id INTEGER PRIMARY KEY, name TEXT NOT NULL);
CREATE TABLE books (
    id INTEGER PRIMARY KEY,
    author_id INTEGER REFERENCES authors(id) DEFERRABLE INITIALLY DEFERRED,
    title TEXT
);
CREATE TABLE reviews (
    id INTEGER PRIMARY KEY,
    book_id INTEGER REFERENCES books(id),
    stars INTEGER
);
INSERT INTO authors VALUES (1, 'Ann'), (2, 'Bo');
INSERT INTO books VALUES (10, 1, 'A'), (11, 2, 'B'), (12, NULL, 'anonymous');
INSERT INTO reviews VALUES (100, 10, 5), (101, 11, 4), (102, 99, 1), (103, 98, 2),
    (104, 99, 3), (105, NULL, 4);
"#;

const ORPHANS_LINE: &str = "orphans = 3\n";

fn fixture() -> (tempfile::TempDir, std::path::PathBuf) {
    let (dir, src) = sqlite_fixture(SQL);
    let toml = dir.path().join("p.toml");
    let o = init_ok(&src, &toml);
    // init names the key and the count on stderr.
    let err = stderr(&o);
    assert!(
        err.contains("reviews_book_id_fkey") && err.contains("3 row(s) reference no parent row"),
        "{err}"
    );
    (dir, toml)
}

fn mapping(toml: &Path) -> String {
    std::fs::read_to_string(toml).unwrap()
}

#[test]
fn init_writes_the_orphans_and_run_leaves_the_key_not_valid() {
    let (_dir, toml) = fixture();
    let text = mapping(&toml);
    // Exactly one key has orphans; its entry says how many, with a comment.
    assert_eq!(text.matches("\norphans = ").count(), 1, "{text}");
    let entry = &text[text.find("[[tables.reviews.foreign_keys]]").unwrap()..];
    assert!(entry.contains(ORPHANS_LINE), "{entry}");
    assert!(
        text.contains("# orphans: rows of the source whose key has no parent row"),
        "{text}"
    );

    let db = TestDb::new();
    let o = run_pipeline(&toml, &db.url, &[]);
    assert_exit(&o, 0, &["left NOT VALID: 3 orphan row(s)", "acknowledged"]);
    // Every row loaded.
    assert_eq!(db.scalar("SELECT count(*) FROM public.reviews"), "6");
    // NOT VALID, and enforced for new rows.
    assert_eq!(
        db.scalar("SELECT convalidated FROM pg_constraint WHERE conname = 'reviews_book_id_fkey'"),
        "f"
    );
    let refused = db.refusal("INSERT INTO public.reviews VALUES (200, 77, 1)");
    assert!(
        refused.contains("violates foreign key constraint"),
        "{refused}"
    );
    db.exec("INSERT INTO public.reviews VALUES (201, 10, 1)");
    // The DEFERRABLE key is kept as declared and validated.
    assert_eq!(
        db.query(
            "SELECT condeferrable, condeferred, convalidated FROM pg_constraint \
             WHERE conname = 'books_author_id_fkey'"
        ),
        vec![vec!["t".to_string(), "t".into(), "t".into()]]
    );
    db.exec("DELETE FROM public.reviews WHERE id = 201");

    // status names it too.
    let o = sqlite2pg(&["status", toml.to_str().unwrap(), "--target", &db.url]);
    assert_exit(
        &o,
        0,
        &["reviews_book_id_fkey", "left NOT VALID: 3 orphan row(s)"],
    );

    // verify: the acknowledged key is fine, and said so.
    let o = sqlite2pg(&["verify", toml.to_str().unwrap(), "--target", &db.url]);
    assert_exit(&o, 0, &["not validated, 3 orphan row(s) acknowledged"]);

    // check: the orphans reported, acknowledged: exit 0.
    let o = sqlite2pg(&["check", toml.to_str().unwrap()]);
    assert_exit(
        &o,
        0,
        &["reviews_book_id_fkey (book_id) → books: 3 orphan row(s)"],
    );
}

#[test]
fn orphans_nobody_acknowledged_load_and_exit_3_naming_the_key() {
    let (_dir, toml) = fixture();
    edit_mapping(&toml, ORPHANS_LINE, "");

    // check: exit 3, the key and the count named, in JSON too.
    let o = sqlite2pg(&["check", toml.to_str().unwrap()]);
    assert_exit(
        &o,
        3,
        &[
            "run would exit 3: foreign key reviews_book_id_fkey",
            "set `orphans = 3`",
        ],
    );
    let o = sqlite2pg(&["check", toml.to_str().unwrap(), "--json"]);
    assert_exit(&o, 3, &[]);
    let j: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    let reviews = j["tables"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["source_table"] == "reviews")
        .unwrap();
    assert_eq!(reviews["foreign_key_orphans"][0]["orphans"], 3);
    assert_eq!(reviews["foreign_key_orphans"][0]["acknowledged"], 0);
    assert_eq!(j["ok"], false);

    let db = TestDb::new();
    let o = run_pipeline(&toml, &db.url, &[]);
    assert_exit(
        &o,
        3,
        &[
            "reviews_book_id_fkey",
            "3 loaded row(s) reference no parent row",
            "set `orphans = 3`",
        ],
    );
    // Every row is loaded, the key added NOT VALID.
    assert_eq!(db.scalar("SELECT count(*) FROM public.reviews"), "6");
    assert_eq!(
        db.scalar("SELECT convalidated FROM pg_constraint WHERE conname = 'reviews_book_id_fkey'"),
        "f"
    );
    // The other tables finished: sequences, statistics, the deferrable key.
    assert_eq!(
        db.scalar("SELECT convalidated FROM pg_constraint WHERE conname = 'books_author_id_fkey'"),
        "t"
    );
    // verify: not ok, the key named.
    let o = sqlite2pg(&["verify", toml.to_str().unwrap(), "--target", &db.url]);
    assert_exit(&o, 3, &["3 row(s) reference a missing parent row"]);

    // A rerun as it is fails the same way; acknowledged, it finishes.
    let o = run_pipeline(&toml, &db.url, &[]);
    assert_exit(&o, 3, &[]);
    let text = mapping(&toml);
    let at = text.find("[[tables.reviews.foreign_keys]]").unwrap();
    let mut edited = text.clone();
    edited.insert_str(at + "[[tables.reviews.foreign_keys]]\n".len(), ORPHANS_LINE);
    std::fs::write(&toml, edited).unwrap();
    let o = run_pipeline(&toml, &db.url, &[]);
    assert_exit(&o, 0, &[]);
    let o = sqlite2pg(&["verify", toml.to_str().unwrap(), "--target", &db.url]);
    assert_exit(&o, 0, &[]);
}

#[test]
fn fewer_acknowledged_than_found_is_exit_3() {
    let (_dir, toml) = fixture();
    edit_mapping(&toml, ORPHANS_LINE, "orphans = 2\n");
    let db = TestDb::new();
    let o = run_pipeline(&toml, &db.url, &[]);
    assert_exit(
        &o,
        3,
        &["3 loaded row(s) reference no parent row, 2 acknowledged"],
    );
}

#[test]
fn a_table_sqlite_cannot_check_is_counted_by_query() {
    // c.code references a parent column that is neither a primary key nor
    // unique: SQLite's foreign_key_check refuses the whole table ("foreign
    // key mismatch"), so init counts by query. That key cannot be carried
    // over (PostgreSQL needs a unique parent; init says so); the other is,
    // with its orphan.
    let sql = "PRAGMA foreign_keys = OFF;
        CREATE TABLE p (id INTEGER PRIMARY KEY, code TEXT);
        CREATE TABLE c (id INTEGER PRIMARY KEY, code TEXT REFERENCES p(code),
            p_id INTEGER REFERENCES p(id));
        INSERT INTO p VALUES (1, 'a');
        INSERT INTO c VALUES (1, 'a', 1), (2, 'zz', 5), (3, 'a', NULL);";
    let (dir, src) = sqlite_fixture(sql);
    let toml = dir.path().join("p.toml");
    init_mapping(&src, &toml);
    let text = mapping(&toml);
    let entries: Vec<&str> = text.split("[[tables.c.foreign_keys]]").skip(1).collect();
    assert_eq!(entries.len(), 1, "{text}");
    assert!(entries[0].contains("columns = [\"p_id\"]"), "{text}");
    assert!(entries[0].contains("orphans = 1\n"), "{text}");
    let db = TestDb::new();
    let o = run_pipeline(&toml, &db.url, &[]);
    assert_exit(&o, 0, &[]);
    assert_eq!(db.scalar("SELECT count(*) FROM public.c"), "3");
}
