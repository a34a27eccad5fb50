//! Fidelity: `init` types every column by what its cells hold, so that
//! `run` with the mapping exactly as `init` wrote it loads every row, and
//! every value read back from PostgreSQL equals its SQLite cell (read here
//! cell by cell, not only through `verify`).

use crate::common::*;
use rusqlite::types::Value as Cell;
use std::path::Path;

/// Declared names that disagree with the cells (each trait from a real
/// file): ENUM of text, INTEGER_OR_TEXT with codes, POINT of blobs, an
/// `intege` holding 1 / 'toto' / 12.3, money in DECIMAL(5,2) and
/// Numeric(10,4), varchar(n) that fits and one that does not, a STRICT
/// table's ANY column with all four classes, a primary key holding NULLs.
const TRAITS_SQL: &str = r#"
CREATE TABLE items (
  id INTEGER PRIMARY KEY,
  kind ENUM,
  code INTEGER_OR_TEXT,
  geom POINT,
  odd intege,
  price DECIMAL(5,2),
  cost Numeric(10,4),
  name VARCHAR(10),
  short_name VARCHAR(3),
  flag CHAR(1),
  n INTEGER
);
INSERT INTO items VALUES
 (1, 'small', 'DM', x'0101000000000000000000f03f000000000000f03f', 1, 16.99, 1.2346, 'widget', 'abc', 'Y', 1),
 (2, 'large', 12, x'01010000009a9999999999f13f9a9999999999f13f', 'toto', 0.1, 0.05, 'gadget ü', 'abcdef', 'N', 2),
 (3, 'medium', 'US', x'ff00fe', 12.3, 999.99, 2.9999, NULL, NULL, NULL, NULL),
 (4, NULL, NULL, NULL, NULL, '12.50', 3, 'x', 'ab', 'Y', -5),
 (5, 'small', 7, x'00', 0, 3, '0.5', 'ten chars!', 'a', 'N', 9007199254740993);
CREATE TABLE anything (id INTEGER PRIMARY KEY, v ANY) STRICT;
INSERT INTO anything VALUES (1, 1), (2, 2.5), (3, 'text'), (4, x'00ff10'), (5, NULL);
CREATE TABLE memberships (org TEXT, member INTEGER, role TEXT, PRIMARY KEY (org, member));
INSERT INTO memberships VALUES ('a', 1, 'owner'), ('a', NULL, 'pending'), (NULL, 2, 'orphan'),
 (NULL, NULL, 'unknown'), ('b', 1, 'member');
"#;

/// A PostgreSQL column type (format_type) per table.column.
fn pg_types(db: &TestDb, table: &str) -> Vec<(String, String)> {
    db.query(&format!(
        "SELECT attname, format_type(atttypid, atttypmod) FROM pg_attribute \
         WHERE attrelid = 'public.{table}'::regclass AND attnum > 0 AND NOT attisdropped \
         ORDER BY attnum"
    ))
    .into_iter()
    .map(|r| (r[0].clone(), r[1].clone()))
    .collect()
}

/// The SQLite cells of `table`, rows by rowid, columns in order.
fn sqlite_rows(src: &Path, table: &str, cols: &[String]) -> Vec<Vec<Cell>> {
    let c = rusqlite::Connection::open(src).unwrap();
    let list: Vec<String> = cols.iter().map(|c| format!("\"{c}\"")).collect();
    let mut st = c
        .prepare(&format!(
            "SELECT {} FROM \"{table}\" ORDER BY rowid",
            list.join(", ")
        ))
        .unwrap();
    let n = cols.len();
    st.query_map([], |r| (0..n).map(|i| r.get::<_, Cell>(i)).collect())
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap()
}

fn trim_decimal(s: &str) -> String {
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        s.to_string()
    }
}

/// What PostgreSQL must hold for a SQLite `cell` in a column of `ty`, in
/// the form `canon_pg` gives the value read back.
fn expected(ty: &str, cell: &Cell) -> String {
    let as_text = |c: &Cell| -> Vec<u8> {
        match c {
            Cell::Integer(i) => i.to_string().into_bytes(),
            Cell::Real(f) => format!("{f}").into_bytes(),
            Cell::Text(t) => t.clone().into_bytes(),
            Cell::Blob(b) => b.clone(),
            Cell::Null => unreachable!(),
        }
    };
    if *cell == Cell::Null {
        return "NULL".into();
    }
    match ty {
        "bytea" => format!("\\x{}", hex::encode(as_text(cell))),
        "double precision" => {
            let f = match cell {
                Cell::Integer(i) => *i as f64,
                Cell::Real(f) => *f,
                Cell::Text(t) => t.trim().parse().unwrap(),
                _ => panic!("blob in {ty}"),
            };
            format!("{f:?}")
        }
        t if t.starts_with("numeric") => {
            trim_decimal(std::str::from_utf8(&as_text(cell)).unwrap().trim())
        }
        "uuid" => uuid::Uuid::parse_str(match cell {
            Cell::Text(t) => t,
            _ => panic!("uuid of {cell:?}"),
        })
        .unwrap()
        .to_string(),
        "jsonb" => sorted_json(serde_json::from_slice(&as_text(cell)).unwrap()),
        "boolean" => match String::from_utf8(as_text(cell))
            .unwrap()
            .to_lowercase()
            .as_str()
        {
            "true" | "1" => "true".into(),
            "false" | "0" => "false".into(),
            other => panic!("boolean {other}"),
        },
        _ => String::from_utf8(as_text(cell)).unwrap(),
    }
}

/// JSON text with object keys sorted (jsonb stores its own key order).
fn sorted_json(v: serde_json::Value) -> String {
    fn sort(v: serde_json::Value) -> serde_json::Value {
        use serde_json::Value as J;
        match v {
            J::Object(m) => {
                let mut kv: Vec<(String, J)> = m.into_iter().collect();
                kv.sort_by(|a, b| a.0.cmp(&b.0));
                J::Object(kv.into_iter().map(|(k, v)| (k, sort(v))).collect())
            }
            J::Array(a) => J::Array(a.into_iter().map(sort).collect()),
            other => other,
        }
    }
    sort(v).to_string()
}

/// A value read back from PostgreSQL (as text) in comparable form.
fn canon_pg(ty: &str, v: &str) -> String {
    if v == "NULL" {
        return v.into();
    }
    match ty {
        "double precision" => format!("{:?}", v.parse::<f64>().unwrap()),
        t if t.starts_with("numeric") => trim_decimal(v),
        "jsonb" => sorted_json(serde_json::from_str(v).unwrap()),
        _ => v.into(),
    }
}

/// Every value of `table` read back equals its SQLite cell, except the
/// columns in `skip` (checked by the caller).
fn assert_same_values(db: &TestDb, src: &Path, table: &str, skip: &[&str]) -> usize {
    let types: Vec<(String, String)> = pg_types(db, table)
        .into_iter()
        .filter(|(c, _)| !skip.contains(&c.as_str()))
        .collect();
    let cols: Vec<String> = types.iter().map(|(c, _)| c.clone()).collect();
    let cells = sqlite_rows(src, table, &cols);
    let list: Vec<String> = cols.iter().map(|c| format!("\"{c}\"::text")).collect();
    // Rows in the source's rowid order: the copy keeps it, but do not
    // rely on that — match on the whole row set, ordered the same way.
    let back = db.query(&format!(
        "SELECT {} FROM \"{table}\" ORDER BY ctid",
        list.join(", ")
    ));
    assert_eq!(back.len(), cells.len(), "{table}: row count");
    let mut want: Vec<Vec<String>> = cells
        .iter()
        .map(|r| {
            r.iter()
                .zip(&types)
                .map(|(c, (_, t))| expected(t, c))
                .collect()
        })
        .collect();
    let mut got: Vec<Vec<String>> = back
        .iter()
        .map(|r| {
            r.iter()
                .zip(&types)
                .map(|(v, (_, t))| canon_pg(t, v))
                .collect()
        })
        .collect();
    want.sort();
    got.sort();
    for (w, g) in want.iter().zip(&got) {
        assert_eq!(w, g, "{table} ({cols:?}, types {types:?})");
    }
    cells.len() * cols.len()
}

/// `init` then `run` with the mapping exactly as written: exit 0, no
/// rejects. Returns init's stderr and the mapping text.
fn init_and_run(db: &TestDb, src: &Path, dir: &Path) -> (String, String) {
    let toml = dir.join("p.toml");
    let o = sqlite2pg(&["init", src.to_str().unwrap(), "-o", toml.to_str().unwrap()]);
    assert_exit(&o, 0, &[]);
    let r = run_pipeline(&toml, &db.url, &[]);
    assert_exit(&r, 0, &[]);
    assert!(!dir.join("rejects").exists(), "no reject file");
    assert_eq!(
        db.scalar("SELECT count(*) FROM sqlite2pg.rejects"),
        "0",
        "no rejects recorded"
    );
    (stderr(&o), std::fs::read_to_string(&toml).unwrap())
}

#[test]
fn declared_names_never_beat_the_cells() {
    let db = TestDb::new();
    let (dir, src) = sqlite_fixture(TRAITS_SQL);
    let (err, mapping) = init_and_run(&db, &src, dir.path());

    let ty = |t: &str, c: &str| {
        pg_types(&db, t)
            .into_iter()
            .find(|(n, _)| n == c)
            .unwrap_or_else(|| panic!("no {t}.{c}"))
            .1
    };
    assert_eq!(ty("items", "kind"), "text", "ENUM of text is text");
    assert_eq!(ty("items", "code"), "text", "INTEGER_OR_TEXT with codes");
    assert_eq!(ty("items", "geom"), "bytea", "POINT of blobs");
    assert_eq!(ty("items", "odd"), "text", "intege holding 1, 'toto', 12.3");
    assert_eq!(ty("items", "price"), "numeric(5,2)", "every price fits");
    assert_eq!(ty("items", "cost"), "numeric(10,4)");
    assert_eq!(ty("items", "name"), "character varying(10)");
    assert_eq!(ty("items", "short_name"), "text", "'abcdef' is over 3");
    assert_eq!(ty("items", "flag"), "character varying(1)", "char(1) fits");
    assert_eq!(ty("items", "n"), "bigint");
    assert_eq!(ty("anything", "v"), "bytea", "ANY with a non-UTF-8 blob");
    assert_eq!(ty("memberships", "member"), "bigint");

    let mut compared = 0;
    for t in ["items", "anything", "memberships"] {
        compared += assert_same_values(&db, &src, t, &[]);
    }
    assert_eq!(compared, 5 * 11 + 5 * 2 + 5 * 3);
    // Exact decimals, not through floats.
    assert_eq!(
        db.query("SELECT price::text, cost::text FROM items ORDER BY id"),
        [
            ["16.99", "1.2346"],
            ["0.10", "0.0500"],
            ["999.99", "2.9999"],
            ["12.50", "3.0000"],
            ["3.00", "0.5000"]
        ]
    );
    assert_eq!(
        db.scalar("SELECT n::text FROM items WHERE id = 5"),
        "9007199254740993"
    );

    // The primary key holding NULLs became a UNIQUE index; every row is in.
    assert_eq!(
        db.scalar(
            "SELECT count(*) FROM pg_constraint \
             WHERE conrelid = 'public.memberships'::regclass AND contype = 'p'"
        ),
        "0"
    );
    assert_eq!(
        db.scalar(
            "SELECT indexdef FROM pg_indexes WHERE tablename = 'memberships' AND indexdef LIKE '%UNIQUE%'"
        ),
        "CREATE UNIQUE INDEX memberships_org_member_key ON public.memberships USING btree (org, member)"
    );
    assert_eq!(db.scalar("SELECT count(*) FROM memberships"), "5");

    // Each decision is visible: in the mapping, and on stderr with a count.
    for needle in [
        "`items`.`kind`: declared ENUM",
        "`items`.`geom`: declared POINT",
        "`items`.`short_name`: a value is 6 characters long",
        "primary key (org, member) holds NULLs",
    ] {
        assert!(
            mapping.contains(needle),
            "mapping lacks {needle}:\n{mapping}"
        );
        assert!(err.contains(needle), "stderr lacks {needle}:\n{err}");
    }
    assert!(err.contains("warning: `items`:"), "{err}");
    assert!(err.contains(" warning(s) in "), "{err}");
}

const TEXT_SQL: &str = r#"
CREATE TABLE docs (
  id INTEGER PRIMARY KEY,
  uid TEXT, hex_uid TEXT, doc TEXT, arr CLOB, ok TEXT, day TEXT, code TEXT, words TEXT,
  at_ms DATETIME, at_s DATETIME, at_iso DATETIME, at_mix DATETIME, at_naive TEXT,
  n_untyped
);
INSERT INTO docs VALUES
 (1, '67e55044-10b1-426f-9247-bb680e5fe0c8', '67e5504410b1426f9247bb680e5fe0c8',
  '{"a": 1, "b": [true, null]}', '[1, 2, 3]', 'true', '2024-05-01', '007', 'yes',
  1714557600123, 1714557600, '2024-05-01T10:00:00.123Z', '2024-05-01 10:00:00',
  '2024-05-01T10:00:00.5', 1),
 (2, 'F47AC10B-58CC-4372-A567-0E02B2C3D479', 'f47ac10b58cc4372a5670e02b2c3d479',
  '{"z": "ü", "y": {"x": 1.5}}', '[]', 'False', '1999-12-31', '+1', 'no',
  1714557600999, 0, '2024-05-01 12:00:00+02:00', 1714557600,
  '2024-05-01 10:00:00', 2),
 (3, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL);
"#;

#[test]
fn text_and_time_columns_land_typed_and_exact() {
    let db = TestDb::new();
    let (dir, src) = sqlite_fixture(TEXT_SQL);
    let (err, mapping) = init_and_run(&db, &src, dir.path());
    let types: Vec<(String, String)> = pg_types(&db, "docs");
    let ty = |c: &str| types.iter().find(|(n, _)| n == c).unwrap().1.clone();
    assert_eq!(
        ty("uid"),
        "text",
        "an upper-case UUID would read back lower-case"
    );
    assert_eq!(
        ty("hex_uid"),
        "text",
        "32 hex digits alone are no UUID (Django's are, by its convention)"
    );
    assert_eq!(ty("doc"), "jsonb");
    assert_eq!(ty("arr"), "jsonb");
    assert_eq!(ty("ok"), "boolean");
    assert_eq!(ty("day"), "date");
    assert_eq!(ty("code"), "text", "'007' and '+1' stay text");
    assert_eq!(ty("words"), "text", "yes/no are not upgraded");
    assert_eq!(ty("at_ms"), "timestamp with time zone", "epoch ms");
    assert_eq!(ty("at_s"), "timestamp with time zone", "epoch s");
    assert_eq!(ty("at_iso"), "timestamp with time zone", "offsets");
    assert_eq!(ty("at_mix"), "timestamp without time zone", "naive wins");
    assert_eq!(ty("at_naive"), "timestamp without time zone");
    assert_eq!(ty("n_untyped"), "bigint");
    assert!(mapping.contains("uuid would read them back"), "{mapping}");
    assert!(err.contains("upgraded to jsonb"), "{err}");

    let times = ["at_ms", "at_s", "at_iso", "at_mix", "at_naive"];
    assert_same_values(&db, &src, "docs", &times);
    let got = db.query(
        "SET TIME ZONE 'UTC'; SELECT to_char(at_ms, 'YYYY-MM-DD HH24:MI:SS.US'), \
           to_char(at_s, 'YYYY-MM-DD HH24:MI:SS.US'), to_char(at_iso, 'YYYY-MM-DD HH24:MI:SS.US'), \
           to_char(at_mix, 'YYYY-MM-DD HH24:MI:SS.US'), to_char(at_naive, 'YYYY-MM-DD HH24:MI:SS.US') \
         FROM docs ORDER BY id",
    );
    assert_eq!(
        got,
        [
            [
                "2024-05-01 10:00:00.123000",
                "2024-05-01 10:00:00.000000",
                "2024-05-01 10:00:00.123000",
                "2024-05-01 10:00:00.000000",
                "2024-05-01 10:00:00.500000"
            ],
            [
                "2024-05-01 10:00:00.999000",
                "1970-01-01 00:00:00.000000",
                "2024-05-01 10:00:00.000000",
                // epoch 1714557600 as wall time in the column's zone (UTC)
                "2024-05-01 10:00:00.000000",
                "2024-05-01 10:00:00.000000"
            ],
            ["NULL", "NULL", "NULL", "NULL", "NULL"]
        ]
    );
}

#[test]
fn declared_types_switch_keeps_text_text() {
    let (dir, src) = sqlite_fixture(TEXT_SQL);
    let toml = dir.path().join("p.toml");
    let (s, t) = (src.to_str().unwrap(), toml.to_str().unwrap());
    let o = sqlite2pg(&["init", s, "-o", t, "--declared-types"]);
    assert_exit(&o, 0, &[]);
    let p = std::fs::read_to_string(&toml).unwrap();
    let col = |c: &str| {
        let i = p.find(&format!("[tables.docs.columns.{c}]")).unwrap();
        p[i..]
            .lines()
            .find(|l| l.starts_with("type"))
            .unwrap()
            .to_string()
    };
    assert_eq!(col("uid"), "type = \"text\"");
    assert_eq!(col("doc"), "type = \"text\"");
    assert_eq!(col("ok"), "type = \"text\"");
    assert_eq!(col("at_naive"), "type = \"text\"");
}

/// With `init --sample`, the profile misses later rows; whatever `run`
/// would reject, `check` lists first.
#[test]
fn sampled_init_check_lists_every_row_run_rejects() {
    let db = TestDb::new();
    let mut sql = String::from(
        "CREATE TABLE t (id INTEGER PRIMARY KEY, n INTEGER, price DECIMAL(5,2), name VARCHAR(4), at DATETIME);\n",
    );
    for i in 1..=50 {
        sql.push_str(&format!(
            "INSERT INTO t VALUES ({i}, {i}, 1.25, 'ab', '2024-01-01 00:00:00');\n"
        ));
    }
    sql.push_str(
        "INSERT INTO t VALUES (51, 'abc', 1.25, 'ab', '2024-01-01 00:00:00');
         INSERT INTO t VALUES (52, 52, 16.999, 'ab', '2024-01-01 00:00:00');
         INSERT INTO t VALUES (53, 53, 1.25, 'abcdef', '2024-01-01 00:00:00');
         INSERT INTO t VALUES (54, 54, 1.25, 'ab', '2024-13-45 00:00:00');",
    );
    let (dir, src) = sqlite_fixture(&sql);
    let toml = dir.path().join("p.toml");
    let (s, t) = (src.to_str().unwrap(), toml.to_str().unwrap());
    let o = sqlite2pg(&["init", s, "-o", t, "--sample", "10"]);
    assert_exit(&o, 0, &[]);
    edit_mapping(&toml, "reject_limit = 0", "reject_limit = 100");
    let c = sqlite2pg(&["check", t, "--json"]);
    assert_exit(&c, 3, &[]);
    let j: serde_json::Value = serde_json::from_str(&stdout(&c)).unwrap();
    let mut check_rows: Vec<String> = j["tables"][0]["reject_groups"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|g| g["examples"].as_array().unwrap().clone())
        .map(|e| e["row"].as_str().unwrap().to_string())
        .collect();
    check_rows.sort();
    let r = run_pipeline(&toml, &db.url, &[]);
    assert_exit(&r, 3, &[]);
    let rejects = std::fs::read_to_string(dir.path().join("rejects/t.jsonl")).unwrap();
    let mut run_rows: Vec<String> = rejects
        .lines()
        .map(|l| {
            serde_json::from_str::<serde_json::Value>(l).unwrap()["row"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect();
    run_rows.sort();
    assert_eq!(run_rows, ["rowid 51", "rowid 52", "rowid 53", "rowid 54"]);
    assert_eq!(run_rows, check_rows);
    assert_eq!(db.scalar("SELECT count(*) FROM t"), "50");
}

/// `check` names every key `finalize` would fail on, and exits 3: values
/// distinct in SQLite but equal once converted (1 and '1' into text; the
/// two spellings of one UUID), and NULLs in a primary key.
#[test]
fn check_names_keys_that_would_fail_in_finalize() {
    let db = TestDb::new();
    let (dir, src) = sqlite_fixture(
        "CREATE TABLE codes (code PRIMARY KEY, label TEXT);
         INSERT INTO codes VALUES (1, 'one'), ('1', 'one again'), ('2', 'two');
         CREATE TABLE tokens (id INTEGER PRIMARY KEY, tok TEXT UNIQUE);
         INSERT INTO tokens VALUES (1, '67e55044-10b1-426f-9247-bb680e5fe0c8'),
          (2, '67e5504410b1426f9247bb680e5fe0c8'), (3, NULL), (4, NULL);
         CREATE TABLE memberships (org TEXT, member INTEGER, PRIMARY KEY (org, member));
         INSERT INTO memberships VALUES ('a', 1), (NULL, 2);",
    );
    let toml = dir.path().join("p.toml");
    init_mapping(&src, &toml);
    edit_mapping(
        &toml,
        "[tables.memberships]\n",
        "[tables.memberships]\nprimary_key = [\"org\", \"member\"]\n",
    );
    // Two spellings of one UUID are two texts (init keeps them text:
    // docs/conversions.md, "The lossless rule"); as uuid they are one.
    edit_mapping(
        &toml,
        "[tables.tokens.columns.tok]\ntype = \"text\"",
        "[tables.tokens.columns.tok]\ntype = \"uuid\"",
    );
    let t = toml.to_str().unwrap();
    let o = sqlite2pg(&["check", t]);
    assert_exit(&o, 3, &[]);
    let out = stdout(&o);
    for needle in [
        "finalize would FAIL: primary key (code) — 1 row(s) with a value already taken",
        "e.g. rowid 2 (same as rowid 1)",
        "finalize would FAIL: unique index tokens_tok_key (tok) — 1 row(s)",
        "finalize would FAIL: primary key (org, member) — 1 row(s) with a NULL",
        "3 key(s) would fail in finalize",
    ] {
        assert!(out.contains(needle), "no `{needle}` in:\n{out}");
    }
    let j: serde_json::Value =
        serde_json::from_str(&stdout(&sqlite2pg(&["check", t, "--json"]))).unwrap();
    assert_eq!(j["ok"], false);
    assert_eq!(j["rows_rejected"], 0);
    // And run does fail there, after the load.
    let r = run_pipeline(&toml, &db.url, &[]);
    assert_ne!(r.status.code(), Some(0), "{}", stderr(&r));
}

/// Each decision sits beside its column in the mapping, with the profile.
#[test]
fn mapping_shows_each_upgrade_beside_its_column() {
    let (_dir, toml) = mapped_fixture(TEXT_SQL);
    let p = std::fs::read_to_string(&toml).unwrap();
    let i = p.find("[tables.docs.columns.ok]").unwrap();
    let head = &p[..i];
    let block = &head[head.rfind("# declared: TEXT").unwrap()..];
    assert!(block.contains("# cells: 2 text, 1 null"), "{block}");
    assert!(
        block.contains(
            "# init: every cell is text holding the words true/false: upgraded to boolean"
        ),
        "{block}"
    );
}

/// Triggers and views that do not translate (GLOB) are not moved, and
/// never silently: `init` names each with its SQL on stderr and in the
/// mapping, `check` and `run` list them.
#[test]
fn views_and_triggers_are_named_as_not_moved_by_init_check_and_run() {
    let (dir, db_path) = sqlite_fixture(
        "CREATE TABLE film (id INTEGER PRIMARY KEY, title TEXT, updated TEXT);
         INSERT INTO film VALUES (1, 'Alien', NULL);
         CREATE VIEW recent AS SELECT title FROM film WHERE title GLOB 'A*';
         CREATE TRIGGER film_touch AFTER UPDATE ON film
           BEGIN UPDATE film SET updated = datetime('now') WHERE id = new.id; END;",
    );
    let toml = dir.path().join("film.toml");
    let o = init_ok(&db_path, &toml);
    let trigger = "trigger `film_touch` on table `film` is not moved";
    let view = "view `recent` is not moved";
    let sql = "CREATE TRIGGER film_touch AFTER UPDATE ON film BEGIN UPDATE film SET updated = datetime('now') WHERE id = new.id; END";
    for text in [stderr(&o), std::fs::read_to_string(&toml).unwrap()] {
        assert!(text.contains(trigger) && text.contains(sql), "{text}");
        assert!(text.contains(view), "{text}");
    }
    let o = sqlite2pg(&["check", toml.to_str().unwrap()]);
    assert_exit(&o, 0, &["not moved (2):", trigger]);
    let db = TestDb::new();
    let o = run_pipeline(&toml, &db.url, &[]);
    assert_exit(&o, 0, &[trigger, view]);
}

/// A CHECK PostgreSQL refuses for the column's new type (`length()` of a
/// bigint) is left out, and one the loaded rows break stays NOT VALID:
/// each is named, and neither fails the run after the load.
#[test]
fn checks_that_do_not_translate_or_that_rows_break_never_fail_the_run() {
    let (dir, db_path) = sqlite_fixture(
        "PRAGMA ignore_check_constraints = ON;
         CREATE TABLE codes (
           id INTEGER PRIMARY KEY,
           code INTEGER CHECK (length(code) >= 1),
           n INTEGER CONSTRAINT n_positive CHECK (n > 0),
           kind TEXT CHECK (typeof(kind) = 'text'),
           price REAL CHECK (length(price) < 20)
         );
         INSERT INTO codes VALUES (1, 10, 5, 'a', 1.5), (2, 20, -1, 'b', 2.5), (3, 30, -2, 'c', 3.5);",
    );
    let toml = dir.path().join("codes.toml");
    init_mapping(&db_path, &toml);
    let db = TestDb::new();
    let o = run_pipeline(&toml, &db.url, &[]);
    let out = stdout(&o);
    assert_exit(&o, 0, &[]);
    assert_eq!(db.scalar("SELECT count(*) FROM codes"), "3");
    // length() of a column that became bigint counts its decimal text, as
    // SQLite did; typeof() of a typed column is its storage class. Only
    // length() of a real (whose text differs between the engines) is left
    // out, with PostgreSQL's reason.
    assert!(
        out.contains(
            "left out: PostgreSQL refused it (function length(double precision) does not exist)"
        ),
        "{out}"
    );
    assert!(
        out.contains("left NOT VALID: 2 loaded row(s) break it"),
        "{out}"
    );
    // The broken one is there, NOT VALID, and enforced for new rows.
    let checks = db.query(
        "SELECT pg_get_constraintdef(oid), convalidated FROM pg_constraint \
         WHERE conrelid = 'codes'::regclass AND contype = 'c'",
    );
    assert_eq!(checks.len(), 3, "{checks:?}");
    let def = |needle: &str| {
        checks
            .iter()
            .find(|c| c[0].contains(needle))
            .unwrap_or_else(|| panic!("no CHECK with {needle}: {checks:?}"))
            .clone()
    };
    assert_eq!(def("n > 0")[1], "f");
    assert_eq!(def("length((code)::text)")[1], "t");
    assert_eq!(def("'text'")[1], "t");
    let refused = db.refusal("INSERT INTO codes VALUES (4, 40, -5, 'd', 4.5)");
    assert!(refused.contains("violates check constraint"), "{refused}");
    let status = sqlite2pg(&["status", toml.to_str().unwrap(), "--target", &db.url]);
    assert!(
        stdout(&status).contains("left NOT VALID"),
        "{}",
        stdout(&status)
    );
}

/// A foreign key declared DEFERRABLE INITIALLY DEFERRED stays so.
#[test]
fn deferrable_foreign_keys_stay_deferrable() {
    let (dir, db_path) = sqlite_fixture(
        "CREATE TABLE parent (id INTEGER PRIMARY KEY);
         CREATE TABLE child (
           id INTEGER PRIMARY KEY,
           p INTEGER REFERENCES parent (id) DEFERRABLE INITIALLY DEFERRED,
           q INTEGER REFERENCES parent (id)
         );
         INSERT INTO parent VALUES (1);
         INSERT INTO child VALUES (1, 1, 1);",
    );
    let toml = dir.path().join("fk.toml");
    init_mapping(&db_path, &toml);
    assert!(std::fs::read_to_string(&toml)
        .unwrap()
        .contains("deferrable = \"initially deferred\""));
    let db = TestDb::new();
    let o = run_pipeline(&toml, &db.url, &[]);
    assert_exit(&o, 0, &[]);
    let fks = db.query(
        "SELECT a.attname, c.condeferrable, c.condeferred, c.convalidated FROM pg_constraint c \
         JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = c.conkey[1] \
         WHERE c.conrelid = 'child'::regclass AND c.contype = 'f' ORDER BY 1",
    );
    assert_eq!(
        fks,
        vec![
            vec!["p".to_string(), "t".into(), "t".into(), "t".into()],
            vec!["q".to_string(), "f".into(), "f".into(), "t".into()],
        ]
    );
}
