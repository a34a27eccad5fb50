//! Generated columns (issue 14, item 7, first part): VIRTUAL and STORED
//! generated columns load as plain columns with their values copied, each
//! named on `init`'s stderr with its expression; `verify` compares them.

mod common;
use common::*;

#[test]
fn generated_columns_load_their_values_with_a_warning() {
    let db = TestDb::new();
    let (dir, src) = sqlite_fixture(
        "CREATE TABLE item (
           id INTEGER PRIMARY KEY,
           price REAL NOT NULL,
           qty INTEGER NOT NULL,
           total REAL GENERATED ALWAYS AS (price * qty) STORED,
           label TEXT AS (upper(substr('ä' || id, 1, 3))) VIRTUAL
         );
         INSERT INTO item (id, price, qty) VALUES (1, 2.5, 4), (2, 0.1, 3);",
    );
    let toml = dir.path().join("p.toml");
    let o = sqlite2pg(&["init", src.to_str().unwrap(), "-o", toml.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let e = stderr(&o);
    assert!(
        e.contains(
            "`item`.`total`: generated column AS (price * qty) STORED: loaded as a plain column"
        ),
        "{e}"
    );
    assert!(
        e.contains("`item`.`label`: generated column AS (upper(substr('ä' || id, 1, 3))) VIRTUAL"),
        "{e}"
    );
    let o = run_pipeline(&toml, &db.url, &[]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    // SQLite's values, as SQLite computed them: its upper() folds ASCII
    // only (PostgreSQL's would give `Ä1`).
    assert_eq!(
        db.query("SELECT id, total, label FROM item ORDER BY id"),
        vec![
            vec!["1", "10", "ä1"],
            vec!["2", "0.30000000000000004", "ä2"]
        ]
    );
    let o = sqlite2pg(&["verify", toml.to_str().unwrap(), "--target", &db.url]);
    assert_eq!(o.status.code(), Some(0), "verify: {}", stderr(&o));
}
