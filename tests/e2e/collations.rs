//! SQLite collations: a `COLLATE NOCASE` column becomes `citext`, so
//! PostgreSQL keeps its case-insensitive uniqueness (and foreign keys to
//! it); `check` finds values citext would fold together although SQLite's
//! ASCII-only NOCASE kept them apart; `RTRIM` is named as not kept.

use crate::common::*;

const USERS: &str = "
CREATE TABLE users (
  id INTEGER PRIMARY KEY,
  email TEXT COLLATE NOCASE UNIQUE,
  name TEXT
);
CREATE TABLE logins (
  id INTEGER PRIMARY KEY,
  email TEXT REFERENCES users(email),
  at TEXT
);
CREATE TABLE tags (
  a TEXT COLLATE NOCASE,
  b INTEGER,
  PRIMARY KEY (a, b)
);
CREATE TABLE notes (id INTEGER PRIMARY KEY, title TEXT);
CREATE UNIQUE INDEX notes_title ON notes (title COLLATE NOCASE);
INSERT INTO users VALUES (1, 'User1@Example.com', 'one'), (2, 'user2@example.com', 'two');
INSERT INTO logins VALUES (1, 'USER1@EXAMPLE.COM', 'today'), (2, 'user2@example.com', 'then');
INSERT INTO tags VALUES ('Red', 1), ('Blue', 1);
INSERT INTO notes VALUES (1, 'Hello');
";

#[test]
fn a_nocase_unique_column_refuses_a_case_variant_duplicate_in_postgresql() {
    let db = TestDb::new();
    let (dir, src) = sqlite_fixture(USERS);
    let toml = dir.path().join("p.toml");
    let o = init_ok(&src, &toml);
    let warn = stderr(&o);
    assert!(
        warn.contains("`users`.`email`: COLLATE NOCASE → citext"),
        "{warn}"
    );
    // The child of the NOCASE key follows it (SQLite compares the key with
    // the parent's collation).
    assert!(
        warn.contains("`logins`.`email`: citext") && warn.contains("`users`.`email`"),
        "{warn}"
    );
    // A unique index's NOCASE on a text column is kept as a unique index
    // on lower(column), and said.
    assert!(
        warn.contains("index `notes_title` on `notes`: column `title` uses collation NOCASE: kept as a unique index on lower(title)"),
        "{warn}"
    );
    // The review happens in the mapping: the type and the reason beside it.
    let text = std::fs::read_to_string(&toml).unwrap();
    let at = text.find("[tables.users.columns.email]").expect(&text);
    let section = &text[at.saturating_sub(800)..at + 200];
    assert!(section.contains("COLLATE NOCASE"), "{section}");
    assert!(
        section.contains("# init: COLLATE NOCASE → citext"),
        "{section}"
    );
    assert!(text[at..].contains("type = \"citext\""), "{text}");

    let o = run_pipeline(&toml, &db.url, &[]);
    assert_exit(&o, 0, &[]);
    // verify compares citext values as SQLite's text.
    let o = sqlite2pg(&["verify", toml.to_str().unwrap(), "--target", &db.url]);
    assert_exit(&o, 0, &[]);
    assert_eq!(
        db.scalar(
            "SELECT format_type(atttypid, atttypmod) FROM pg_attribute \
             WHERE attrelid = 'users'::regclass AND attname = 'email'"
        ),
        "citext"
    );
    // Case-insensitive equality and uniqueness, as in SQLite.
    assert_eq!(
        db.scalar("SELECT id FROM users WHERE email = 'user1@example.COM'"),
        "1"
    );
    let e = db.refusal("INSERT INTO users (id, email) VALUES (3, 'USER1@example.com')");
    assert!(e.contains("duplicate key"), "{e}");
    // A multi-column primary key with a NOCASE column.
    let e = db.refusal("INSERT INTO tags VALUES ('RED', 1)");
    assert!(e.contains("duplicate key"), "{e}");
    db.exec("INSERT INTO tags VALUES ('RED', 2)");
    // The foreign key was kept and compares without case.
    assert_eq!(
        db.scalar("SELECT count(*) FROM pg_constraint WHERE conrelid = 'logins'::regclass AND contype = 'f'"),
        "1"
    );
    db.exec("INSERT INTO logins VALUES (3, 'USER2@EXAMPLE.COM', 'now')");
    let e = db.refusal("INSERT INTO logins VALUES (4, 'nobody@example.com', 'now')");
    assert!(e.contains("foreign key"), "{e}");
    // The unique NOCASE index refuses a case variant, and takes a new title.
    let e = db.refusal("INSERT INTO notes VALUES (2, 'HELLO')");
    assert!(
        e.contains("duplicate key") && e.contains("notes_title"),
        "{e}"
    );
    db.exec("INSERT INTO notes VALUES (2, 'Hello again')");
    // SQLite's NOCASE LIKE stays case-insensitive.
    assert_eq!(
        db.scalar("SELECT count(*) FROM users WHERE email LIKE 'USER%'"),
        "2"
    );
}

#[test]
fn check_names_values_citext_folds_together_but_nocase_kept_apart() {
    let (dir, src) = sqlite_fixture(
        "CREATE TABLE people (id INTEGER PRIMARY KEY, email TEXT COLLATE NOCASE UNIQUE);
         INSERT INTO people VALUES (1, 'é@x'), (2, 'É@x'), (3, 'a@x');
         CREATE TABLE notes (id INTEGER PRIMARY KEY, title TEXT);
         CREATE UNIQUE INDEX notes_title ON notes (title COLLATE NOCASE);
         INSERT INTO notes VALUES (7, 'Éa'), (8, 'éa'), (9, 'b');
         CREATE TABLE codes (id INTEGER PRIMARY KEY, code TEXT);
         CREATE UNIQUE INDEX codes_desc ON codes (code COLLATE NOCASE DESC);
         INSERT INTO codes VALUES (11, 'Ü'), (12, 'ü');",
    );
    let toml = dir.path().join("p.toml");
    init_mapping(&src, &toml);
    let o = sqlite2pg(&["check", toml.to_str().unwrap()]);
    assert_exit(&o, 3, &[]);
    let out = stdout(&o);
    let line = out
        .lines()
        .find(|l| l.contains("e.g. rowid 2"))
        .unwrap_or_else(|| panic!("no example naming rowid 2: {out}"));
    assert!(
        line.contains("'É@x'") && line.contains("rowid 1 ('é@x')"),
        "{line}"
    );
    assert!(
        out.contains("unique index") && out.contains("(email)") && out.contains("another case"),
        "{out}"
    );
    // The same for a unique index on lower(title), init's form of a
    // NOCASE index.
    assert!(
        out.lines()
            .any(|l| l.contains("e.g. rowid 8 ('éa') same as rowid 7 ('Éa')")),
        "{out}"
    );
    assert!(out.contains("notes_title ((lower(\"title\")))"), "{out}");
    // Descending too.
    assert!(
        out.lines()
            .any(|l| l.contains("e.g. rowid 12 ('ü') same as rowid 11 ('Ü')")),
        "{out}"
    );
}

#[test]
fn an_rtrim_column_is_named_as_not_kept() {
    let (dir, src) = sqlite_fixture(
        "CREATE TABLE codes (id INTEGER PRIMARY KEY, code TEXT COLLATE RTRIM UNIQUE);
         INSERT INTO codes VALUES (1, 'a');",
    );
    let toml = dir.path().join("p.toml");
    let o = init_ok(&src, &toml);
    let e = stderr(&o);
    assert!(e.contains("`codes`.`code`: COLLATE RTRIM not kept"), "{e}");
    let text = std::fs::read_to_string(&toml).unwrap();
    assert!(text.contains("# init: COLLATE RTRIM not kept"), "{text}");
}
