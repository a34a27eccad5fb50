//! Key column types: `init` keeps a foreign key whenever PostgreSQL accepts
//! its column types (docs/mapping.md, "Foreign keys and orphans"), and the
//! key exists in the target after `run`.

use crate::common::*;

/// The constraints of `table` in the target: (name, definition).
fn foreign_keys(db: &TestDb, table: &str) -> Vec<(String, String)> {
    db.query(&format!(
        "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint \
         WHERE contype = 'f' AND conrelid = 'public.{table}'::regclass ORDER BY conname"
    ))
    .into_iter()
    .map(|r| (r[0].clone(), r[1].clone()))
    .collect()
}

/// Issue 26's repro: an empty child whose varchar(10) column becomes text
/// (case a), and a varchar(20) child of a varchar(10) parent (case b).
/// PostgreSQL accepts both keys; init used to drop them as "cannot compare".
#[test]
fn keys_postgresql_accepts_are_kept_text_and_longer_varchar_children() {
    let (dir, src) = sqlite_fixture(
        "CREATE TABLE p(k varchar(10) PRIMARY KEY); INSERT INTO p VALUES('a');
         CREATE TABLE c(id INTEGER PRIMARY KEY, k varchar(10) REFERENCES p(k));
         CREATE TABLE d(id INTEGER PRIMARY KEY, k varchar(20) REFERENCES p(k));
         INSERT INTO d VALUES (1, 'a'), (2, NULL);",
    );
    let toml = dir.path().join("p.toml");
    let o = init_ok(&src, &toml);
    assert!(!stderr(&o).contains("not carried over"), "{}", stderr(&o));
    let db = TestDb::new();
    assert_exit(&run_pipeline(&toml, &db.url, &[]), 0, &[]);
    // The child types are what init chose from the cells, the keys exist.
    assert_eq!(
        db.scalar(
            "SELECT string_agg(format('%s.%s %s', c.relname, a.attname, \
             format_type(a.atttypid, a.atttypmod)), ', ' ORDER BY c.relname) \
             FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid \
             WHERE c.relname IN ('p', 'c', 'd') AND a.attname = 'k'"
        ),
        "c.k text, d.k character varying(20), p.k character varying(10)"
    );
    assert_eq!(
        foreign_keys(&db, "c"),
        vec![("c_k_fkey".into(), "FOREIGN KEY (k) REFERENCES p(k)".into())]
    );
    assert_eq!(
        foreign_keys(&db, "d"),
        vec![("d_k_fkey".into(), "FOREIGN KEY (k) REFERENCES p(k)".into())]
    );
    // Enforced: a row without a parent is refused.
    let refused = db.refusal("INSERT INTO public.c VALUES (9, 'zz')");
    assert!(
        refused.contains("violates foreign key constraint"),
        "{refused}"
    );
    let o = sqlite2pg(&["verify", toml.to_str().unwrap(), "--target", &db.url]);
    assert_exit(&o, 0, &["2 foreign key(s) checked"]);
}
