//! `target.owner` / `--owner`: the tables the tool creates, and the
//! identity sequences that go with them, belong to the application's role;
//! a role that does not exist stops the run before anything is created.

use crate::common::*;

const SOURCE: &str = "
    CREATE TABLE items (id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT);
    CREATE TABLE notes (id INTEGER PRIMARY KEY, item_id INTEGER REFERENCES items(id), body TEXT);
    INSERT INTO items (name) VALUES ('a'), ('b');
    INSERT INTO notes VALUES (1, 1, 'x');
    CREATE VIEW item_notes AS SELECT i.name, n.body FROM items i JOIN notes n ON n.item_id = i.id;";

/// (relation, kind, owner) of every table, sequence and view in `schema`.
fn owners(db: &TestDb, schema: &str) -> Vec<Vec<String>> {
    db.query(&format!(
        "SELECT c.relname, c.relkind, pg_get_userbyid(c.relowner) FROM pg_class c \
         JOIN pg_namespace n ON n.oid = c.relnamespace \
         WHERE n.nspname = '{schema}' AND c.relkind IN ('r', 'S', 'v') ORDER BY 1"
    ))
}

#[test]
fn tables_and_their_identity_sequences_belong_to_the_owner() {
    let role = TestRole::new();
    let db = TestDb::new();
    let (_dir, toml) = mapped_fixture(SOURCE);
    edit_mapping(
        &toml,
        "[target]\n",
        &format!("[target]\nowner = \"{}\"\n", role.name),
    );
    edit_mapping(&toml, "schema = \"public\"", "schema = \"app\"");
    let o = run_pipeline(&toml, &db.url, &[]);
    assert_exit(&o, 0, &[]);
    let got = owners(&db, "app");
    let tables = got.iter().filter(|r| r[1] == "r").count();
    let sequences = got.iter().filter(|r| r[1] == "S").count();
    assert_eq!(tables, 2, "{got:?}");
    assert_eq!(got.iter().filter(|r| r[1] == "v").count(), 1, "{got:?}");
    assert!(sequences >= 1, "an identity sequence: {got:?}");
    for r in &got {
        assert_eq!(r[2], role.name, "{} ({}) owned by {}", r[0], r[1], r[2]);
    }
    // The schema the tool created is the role's too; the tool's own state
    // is not.
    assert_eq!(
        db.scalar("SELECT pg_get_userbyid(nspowner) FROM pg_namespace WHERE nspname = 'app'"),
        role.name
    );
    assert_eq!(
        db.scalar("SELECT pg_get_userbyid(nspowner) FROM pg_namespace WHERE nspname = 'sqlite2pg'"),
        "postgres"
    );
    // Loaded, and the app (as that role) can write and alter its tables.
    db.exec(&format!(
        "SET ROLE \"{}\"; INSERT INTO app.items (name) VALUES ('c'); ALTER TABLE app.items ADD COLUMN extra int",
        role.name
    ));
    assert_eq!(db.scalar("SELECT max(id) FROM app.items"), "3");
}

#[test]
fn the_owner_flag_overrides_the_mapping_and_a_missing_role_creates_nothing() {
    let role = TestRole::new();
    let db = TestDb::new();
    let (_dir, toml) = mapped_fixture(SOURCE);
    edit_mapping(
        &toml,
        "[target]\n",
        "[target]\nowner = \"no_such_role_s2p\"\n",
    );
    let o = run_pipeline(&toml, &db.url, &[]);
    let e = stderr(&o);
    assert_exit(
        &o,
        4,
        &["target.owner", "\"no_such_role_s2p\" does not exist"],
    );
    assert!(!e.contains("rerun the same command"), "{e}");
    assert_eq!(
        db.scalar(
            "SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
             WHERE n.nspname IN ('public', 'sqlite2pg') AND c.relkind = 'r'"
        ),
        "0",
        "nothing created"
    );
    let o = run_pipeline(&toml, &db.url, &["--owner", &role.name]);
    assert_exit(&o, 0, &[]);
    for r in owners(&db, "public") {
        assert_eq!(r[2], role.name, "{r:?}");
    }
}
