//! `sqlite2pg check`: the full dry run. It converts every row as `run` would,
//! reports what would be rejected and why, exits 3 when anything would be,
//! and never touches (or even needs) the target.

use crate::common::*;
use std::path::Path;

const MESSY_SQL: &str = r#"
CREATE TABLE messy (id INTEGER PRIMARY KEY, n INTEGER, happened_at DATETIME, flag BOOLEAN, note TEXT);
INSERT INTO messy VALUES
 (1, 10, '2025-01-02 03:04:05', 1, 'ok'),
 (2, 'abc', '2025-01-02 03:04:05', 0, 'bad integer'),
 (3, 11, '2025-13-45 99:99:99', 'yes', 'bad timestamp'),
 (4, 12, 1700000000, 'no', 'epoch seconds'),
 (5, 13, 1700000000123, 'TRUE', 'epoch milliseconds'),
 (6, 14, '2025-02-03T04:05:06Z', 'maybe', 'bad boolean'),
 (7, 'xyz', '2025-03-04 05:06:07', 'yes', 'bad integer again'),
 (8, '42', '2025-03-04 05:06:07.25', 'off', 'integer as text');
CREATE TABLE clean (id INTEGER PRIMARY KEY, v TEXT);
INSERT INTO clean VALUES (1, 'a'), (2, 'b');
"#;

/// The mapping with the declared types kept (`--declared-types`): a plain
/// `init` types each column by what its cells hold, so nothing here would
/// be rejected; these tests are about what `check` reports when cells do
/// not fit the mapping.
fn init(src: &Path, dir: &Path) -> String {
    let toml = dir.join("p.toml");
    init_mapping_declared(src, &toml);
    toml.to_str().unwrap().to_string()
}

#[test]
fn messy_source_reports_every_reject_with_reasons_and_exits_3() {
    let (dir, src) = sqlite_fixture(MESSY_SQL);
    let before = sha256_file(&src);
    let toml = init(&src, dir.path());
    // The harness removes DATABASE_URL; the mapping from init has no
    // target.url: check must not need a target.
    assert!(!std::fs::read_to_string(&toml).unwrap().contains("url"));
    let o = sqlite2pg(&["check", &toml]);
    assert_exit(&o, 3, &[]);
    let out = stdout(&o);
    // Per-table counts: 8 read, 4 rejected (rows 2, 3, 6, 7), 4 would load.
    let messy = &out[out.find("table messy").expect("messy section")..];
    let line = |label: &str| {
        messy
            .lines()
            .find(|l| l.trim_start().starts_with(label))
            .unwrap_or_else(|| panic!("no `{label}` line in {messy}"))
            .split_whitespace()
            .last()
            .unwrap()
            .to_string()
    };
    assert_eq!(line("rows read"), "8");
    assert_eq!(line("would load"), "4");
    assert_eq!(line("would be rejected"), "4");
    // Reasons grouped per column with the value taken out, and examples.
    assert!(
        messy.contains("2 × column n") && messy.contains("is not a valid integer"),
        "{messy}"
    );
    assert!(
        messy.contains("rowid 2") && messy.contains("\"abc\""),
        "{messy}"
    );
    assert!(
        messy.contains("rowid 7") && messy.contains("\"xyz\""),
        "{messy}"
    );
    assert!(
        messy.contains("1 × column happened_at") && messy.contains("month 13"),
        "{messy}"
    );
    assert!(
        messy.contains("1 × column flag") && messy.contains("`maybe`"),
        "{messy}"
    );
    assert!(messy.contains("rowid 6"), "{messy}");
    assert!(
        messy.contains("exceed defaults.reject_limit = 0"),
        "{messy}"
    );
    // The DDL run would execute.
    assert!(out.contains("CREATE TABLE \"public\".\"messy\""), "{out}");
    assert!(out.contains("\"happened_at\" timestamp"), "{out}");
    assert!(
        out.contains("ADD CONSTRAINT \"messy_pkey\" PRIMARY KEY (\"id\")"),
        "{out}"
    );
    // The clean table in the same source is reported clean.
    let clean = &out[out.find("table clean").unwrap()..out.find("table messy").unwrap()];
    assert!(clean.contains("would be rejected             0"), "{clean}");
    // Nothing written: the source is unchanged and no reject file appears.
    assert_eq!(sha256_file(&src), before);
    assert!(!dir.path().join("rejects").exists());

    // --json carries the same facts for scripts.
    let o = sqlite2pg(&["check", &toml, "--json"]);
    assert_exit(&o, 3, &[]);
    let j: serde_json::Value = serde_json::from_str(&stdout(&o)).expect("one JSON object");
    assert_eq!(j["ok"], false);
    assert_eq!(j["rows_rejected"], 4);
    let t = j["tables"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["source_table"] == "messy")
        .unwrap();
    assert_eq!(t["rows_read"], 8);
    assert_eq!(t["rows_ok"], 4);
    assert_eq!(t["rows_rejected"], 4);
    let groups = t["reject_groups"].as_array().unwrap();
    let mut cols: Vec<(String, u64)> = groups
        .iter()
        .map(|g| {
            (
                g["column"].as_str().unwrap().to_string(),
                g["count"].as_u64().unwrap(),
            )
        })
        .collect();
    cols.sort();
    assert_eq!(
        cols,
        vec![
            ("flag".into(), 1),
            ("happened_at".into(), 1),
            ("n".into(), 2)
        ]
    );
    let ex_rows: Vec<&str> = groups
        .iter()
        .flat_map(|g| g["examples"].as_array().unwrap())
        .map(|e| e["row"].as_str().unwrap())
        .collect();
    for r in ["rowid 2", "rowid 3", "rowid 6", "rowid 7"] {
        assert!(ex_rows.contains(&r), "{ex_rows:?}");
    }
}

#[test]
fn check_agrees_with_run_on_the_same_rows() {
    // What check says would be rejected is exactly what run rejects.
    let db = TestDb::new();
    let (dir, src) = sqlite_fixture(MESSY_SQL);
    let toml = init(&src, dir.path());
    let text = std::fs::read_to_string(&toml)
        .unwrap()
        .replace("reject_limit = 0", "reject_limit = 100");
    std::fs::write(&toml, text).unwrap();
    let c = sqlite2pg(&["check", &toml, "--json"]);
    assert_exit(&c, 3, &[]);
    let j: serde_json::Value = serde_json::from_str(&stdout(&c)).unwrap();
    let r = run_pipeline(&toml, &db.url, &[]);
    assert_exit(&r, 3, &[]);
    assert_eq!(db.scalar("SELECT count(*) FROM messy"), "4");
    let rejects = std::fs::read_to_string(dir.path().join("rejects/messy.jsonl")).unwrap();
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
    let mut check_rows: Vec<String> = j["tables"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|t| t["reject_groups"].as_array().unwrap().clone())
        .flat_map(|g| g["examples"].as_array().unwrap().clone())
        .map(|e| e["row"].as_str().unwrap().to_string())
        .collect();
    check_rows.sort();
    assert_eq!(run_rows, check_rows);
    // Loaded values of the rows check let through.
    assert_eq!(db.scalar("SELECT n FROM messy WHERE id = 8"), "42");
    assert_eq!(
        // A naive `timestamp` column: the epoch instant as wall time in UTC,
        // in the one unit init chose for the column (seconds: its numbers
        // are one in each range, and a tie goes to the smaller unit).
        db.scalar("SELECT happened_at FROM messy WHERE id = 4"),
        "2023-11-14 22:13:20"
    );
}

#[test]
fn clean_source_exits_0_without_any_target() {
    let (dir, src) = sqlite_fixture(
        "CREATE TABLE a (id INTEGER PRIMARY KEY, v TEXT, at DATETIME, ok BOOLEAN);
         INSERT INTO a VALUES (1, 'x', '2024-01-01 00:00:00', 1), (2, NULL, NULL, 'no');
         CREATE TABLE b (id INTEGER PRIMARY KEY, a_id INTEGER REFERENCES a(id));
         INSERT INTO b VALUES (1, 1), (2, 2);",
    );
    let toml = init(&src, dir.path());
    // Point the mapping at a target that does not exist: check must not try it.
    let text = std::fs::read_to_string(&toml).unwrap().replace(
        "[target]\n",
        "[target]\nurl = \"${SQLITE2PG_CHECK_NO_SUCH_VAR}\"\n",
    );
    std::fs::write(&toml, text).unwrap();
    let o = sqlite2pg(&["check", &toml]);
    assert_exit(
        &o,
        0,
        &[
            "ok: all 4 rows of 2 table(s) would load",
            "FOREIGN KEY (\"a_id\")",
        ],
    );
    let o = sqlite2pg(&["check", &toml, "--json"]);
    assert_exit(&o, 0, &[]);
    let j: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(j["ok"], true);
    assert_eq!(j["rows_read"], 4);
}

#[test]
fn invalid_mapping_exits_2_and_missing_column_is_reported() {
    let (dir, src) = sqlite_fixture("CREATE TABLE a (id INTEGER PRIMARY KEY, v TEXT);");
    let toml = init(&src, dir.path());
    let good = std::fs::read_to_string(&toml).unwrap();
    std::fs::write(&toml, good.replace("type = \"text\"", "type = \"txet\"")).unwrap();
    let o = sqlite2pg(&["check", &toml]);
    assert_exit(&o, 2, &["tables.a.columns.v.type"]);
    std::fs::write(
        &toml,
        good.replace("[tables.a.columns.v]", "[tables.a.columns.w]"),
    )
    .unwrap();
    let o = sqlite2pg(&["check", &toml]);
    assert_exit(&o, 2, &["does not match the source", "no such column: w"]);
    // run refuses it the same way, before it connects anywhere (SQLite would
    // otherwise read "w" as a string literal and load it into every row).
    let o = sqlite2pg(&[
        "run",
        &toml,
        "--target",
        "postgres://nobody@127.0.0.1:1/none",
    ]);
    assert_exit(&o, 2, &["no such column: w"]);
}

#[test]
fn filter_is_applied_like_run() {
    let (dir, src) = sqlite_fixture(
        "CREATE TABLE t (id INTEGER PRIMARY KEY, n INTEGER);
         INSERT INTO t VALUES (1, 1), (2, 'bad'), (3, 3);",
    );
    let toml = init(&src, dir.path());
    let text = std::fs::read_to_string(&toml)
        .unwrap()
        .replace("[tables.t]\n", "[tables.t]\nfilter = \"id <> 2\"\n");
    std::fs::write(&toml, text).unwrap();
    let o = sqlite2pg(&["check", &toml, "--json"]);
    assert_exit(&o, 0, &[]);
    let j: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(j["rows_read"], 2);
}
