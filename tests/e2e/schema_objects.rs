//! Issue 14's done-when, as one fixture: every kind of SQLite schema object
//! either arrives in PostgreSQL or is named on the operator's screen, with
//! `init` + `run` on the mapping exactly as `init` wrote it, exit 0, and
//! `verify` exit 0.

use crate::common::*;

const FIXTURE: &str = r#"
PRAGMA foreign_keys = OFF;
CREATE TABLE customers (id INTEGER PRIMARY KEY, email TEXT COLLATE NOCASE UNIQUE, name TEXT, active INTEGER);
CREATE TABLE orders (
  id INTEGER PRIMARY KEY,
  customer_id INTEGER REFERENCES customers (id) DEFERRABLE INITIALLY DEFERRED,
  code INTEGER CHECK (length(code) >= 1),
  placed_at DATETIME DEFAULT '0000-01-01T00:00:00.000Z',
  qty INTEGER,
  price REAL,
  total REAL GENERATED ALWAYS AS (qty * price) STORED,
  doubled INTEGER GENERATED ALWAYS AS (qty * 2) VIRTUAL
);
CREATE TABLE notes (id INTEGER PRIMARY KEY, order_id INTEGER REFERENCES orders (id), body TEXT);
CREATE VIEW active_orders AS
  SELECT o.id, c.email, o.qty FROM orders o JOIN customers c ON c.id = o.customer_id WHERE c.active = 1;
CREATE VIRTUAL TABLE search USING fts5(title, body);
CREATE VIRTUAL TABLE notes_fts USING fts5(body, content='notes', content_rowid='id');
INSERT INTO customers VALUES (1, 'User1@Example.com', 'a', 1), (2, 'b@x.org', 'b', 0);
INSERT INTO orders (id, customer_id, code, placed_at, qty, price) VALUES
  (1, 1, 100, '2024-01-02 03:04:05', 2, 2.5), (2, 2, 200, '2024-02-03 04:05:06', 3, 1.5),
  (3, 1, 300, '2024-03-04 05:06:07', 1, 4.0);
INSERT INTO notes VALUES (1, 1, 'n1'), (2, 99, 'orphan'), (3, 98, 'orphan too');
INSERT INTO search VALUES ('t1', 'hello world'), ('t2', 'bye');
INSERT INTO notes_fts (notes_fts) VALUES ('rebuild');
CREATE TRIGGER orders_ai AFTER INSERT ON orders BEGIN
  UPDATE customers SET active = 1 WHERE id = NEW.customer_id;
END;
"#;

#[test]
fn every_schema_object_arrives_or_is_named() {
    let (dir, src) = sqlite_fixture(FIXTURE);
    let toml = dir.path().join("objects.toml");
    let o = init_ok(&src, &toml);
    let err = stderr(&o);
    // The trigger is named with its SQL; the external-content FTS table
    // says where its rows are.
    assert!(
        err.contains("trigger `orders_ai` on table `orders` is not moved")
            && err.contains("UPDATE customers SET active = 1"),
        "{err}"
    );
    assert!(
        err.contains("virtual table `notes_fts` is not moved"),
        "{err}"
    );
    // The review happens in one file: the orphans to acknowledge, the
    // collation's type, the generated expressions, the view's SQL, the FK
    // options.
    let mapping = std::fs::read_to_string(&toml).unwrap();
    for needle in [
        "orphans = 2",
        "type = \"citext\"",
        "generated = '\"qty\" * \"price\"'",
        "[views.active_orders]",
        "deferrable = \"initially deferred\"",
    ] {
        assert!(mapping.contains(needle), "no {needle} in:\n{mapping}");
    }

    let db = TestDb::new();
    let o = run_pipeline(&toml, &db.url, &[]);
    assert_exit(&o, 0, &[]);
    let o = sqlite2pg(&["verify", toml.to_str().unwrap(), "--target", &db.url]);
    assert_exit(
        &o,
        0,
        &["view active_orders: source 2 row(s), target 2, content checksum match"],
    );

    // The view answers with SQLite's rows.
    let sqlite = rusqlite::Connection::open(&src).unwrap();
    let want: Vec<Vec<String>> = sqlite
        .prepare("SELECT id, email, qty FROM active_orders ORDER BY id")
        .unwrap()
        .query_map([], |r| {
            Ok(vec![
                r.get::<_, i64>(0)?.to_string(),
                r.get::<_, String>(1)?,
                r.get::<_, i64>(2)?.to_string(),
            ])
        })
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(want.len(), 2);
    assert_eq!(
        db.query("SELECT id, email, qty FROM active_orders ORDER BY id"),
        want
    );
    // A case-variant duplicate of a NOCASE unique value is refused.
    let refused = db.refusal("INSERT INTO customers (id, email) VALUES (3, 'user1@example.COM')");
    assert!(refused.contains("duplicate key"), "{refused}");
    // The generated columns are computed for a new row; the year-0 default
    // is 1 BC; the CHECK on length(code) of an integer column holds.
    db.exec("INSERT INTO orders (id, customer_id, code, qty, price) VALUES (10, 1, 1000, 4, 2.5)");
    assert_eq!(
        db.query("SELECT total, doubled, placed_at FROM orders WHERE id = 10"),
        vec![vec![
            "10".to_string(),
            "8".into(),
            "0001-01-01 00:00:00 BC".into()
        ]]
    );
    assert_eq!(
        db.scalar(
            "SELECT pg_get_constraintdef(oid) || ' ' || convalidated FROM pg_constraint \
             WHERE conrelid = 'orders'::regclass AND contype = 'c'"
        ),
        "CHECK ((length((code)::text) >= 1)) true"
    );
    // The standalone FTS table's rows are there.
    assert_eq!(
        db.query("SELECT title, body FROM search ORDER BY title"),
        vec![
            vec!["t1".to_string(), "hello world".into()],
            vec!["t2".to_string(), "bye".into()]
        ]
    );
    // Foreign keys: the deferrable one stays so; the one with acknowledged
    // orphans is NOT VALID and enforced for new rows.
    assert_eq!(
        db.query(
            "SELECT conrelid::regclass::text, condeferrable, condeferred, convalidated \
             FROM pg_constraint WHERE contype = 'f' AND connamespace = 'public'::regnamespace \
             ORDER BY 1"
        ),
        vec![
            vec!["notes".to_string(), "f".into(), "f".into(), "f".into()],
            vec!["orders".to_string(), "t".into(), "t".into(), "t".into()],
        ]
    );
    let refused = db.refusal("INSERT INTO notes VALUES (4, 97, 'new orphan')");
    assert!(
        refused.contains("violates foreign key constraint"),
        "{refused}"
    );
}
