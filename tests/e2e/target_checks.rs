//! Checks of the target before anything is created in it: a UTF8
//! database, a supported server version, the features the mapping needs.

use crate::common::*;

/// Relations and schemas a run could have created (tables of the mapping,
/// the tool's own state schema).
fn created(db: &TestDb) -> String {
    db.scalar(
        "SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
         WHERE n.nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast')",
    ) + "/"
        + &db.scalar("SELECT count(*) FROM pg_namespace WHERE nspname = 'sqlite2pg'")
}

#[test]
fn a_database_not_in_utf8_is_refused_before_anything_is_created() {
    let db =
        TestDb::with_options("ENCODING 'LATIN1' LC_COLLATE 'C' LC_CTYPE 'C' TEMPLATE template0");
    let (_dir, toml) = mapped_fixture(
        "CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT); INSERT INTO t VALUES (1, 'caf\u{e9}');",
    );
    let o = run_pipeline(&toml, &db.url, &[]);
    let e = stderr(&o);
    assert_exit(&o, 4, &["encoding LATIN1", "UTF8"]);
    assert_eq!(created(&db), "0/0", "nothing may be created: {e}");
}

#[test]
fn a_mapping_asking_for_citext_creates_the_extension_or_names_the_column() {
    // Declared before the database, so the database goes first.
    let role = TestRole::new();
    let db = TestDb::new();
    let (_dir, toml) = mapped_fixture(
        "CREATE TABLE users (id INTEGER PRIMARY KEY, email TEXT); INSERT INTO users VALUES (1, 'A@b.c');",
    );
    let text = std::fs::read_to_string(&toml).unwrap();
    let at = text.find("[tables.users.columns.email]").expect(&text);
    let type_at = at + text[at..].find("type = \"text\"").expect(&text);
    let text = format!(
        "{}type = \"citext\"{}",
        &text[..type_at],
        &text[type_at + "type = \"text\"".len()..]
    );
    std::fs::write(&toml, text).unwrap();
    // A user who may not create the extension: refused, the column named.
    db.exec(&format!("ALTER ROLE \"{}\" LOGIN", role.name));
    let mut weak = url::Url::parse(&db.url).unwrap();
    weak.set_username(&role.name).unwrap();
    weak.set_password(None).unwrap();
    let o = run_pipeline(&toml, weak.as_str(), &[]);
    let e = stderr(&o);
    assert_exit(&o, 4, &["users.email", "CREATE EXTENSION citext"]);
    assert_eq!(created(&db), "0/0", "nothing may be created: {e}");
    assert_eq!(
        db.scalar("SELECT count(*) FROM pg_extension WHERE extname = 'citext'"),
        "0"
    );

    // A user who may (here the superuser): the run creates the extension
    // and a citext column.
    let o = run_pipeline(&toml, &db.url, &[]);
    assert_exit(&o, 0, &[]);
    assert_eq!(
        db.scalar("SELECT count(*) FROM pg_extension WHERE extname = 'citext'"),
        "1"
    );
    assert_eq!(db.scalar("SELECT id FROM users WHERE email = 'a@B.C'"), "1");
}
