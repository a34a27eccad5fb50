//! A mapping file's problems all at once, each at its own line and key;
//! follow-on problems not reported as problems of their own; a SQLite file
//! given for a mapping says so; a table's own `reject_limit`.

use crate::common::*;

/// Three type errors and two unknown keys, two of them inside column
/// tables: all five, each at its line, and nothing else.
const FIVE_PROBLEMS: &str = r#"[source]
path = "source.db"

[defaults]
workers = "four"
chunk_sise = 10

[tables.users]
primary_key = ["id"]
[tables.users.columns.id]
type = "bigint"
not_null = "yes"
[tables.users.columns.name]
type = "text"
nul_null = true

[tables.posts]
primary_key = ["id"]
reject_limit = "many"
[tables.posts.columns.id]
type = "bigint"
[tables.posts.columns.user_id]
type = "bigint"
[[tables.posts.foreign_keys]]
columns = ["user_id"]
references = "users"
"#;

fn problems(stderr: &str) -> Vec<(usize, String)> {
    stderr
        .lines()
        .filter_map(|l| {
            let rest = l.trim().strip_prefix("p.toml:")?;
            let (line, rest) = rest.split_once(':')?;
            let key = rest.trim().strip_prefix('`')?.split('`').next()?;
            Some((line.parse().ok()?, key.to_string()))
        })
        .collect()
}

fn check_mapping(text: &str) -> (Option<i32>, String) {
    let dir = tempfile::tempdir().unwrap();
    let toml = dir.path().join("p.toml");
    std::fs::write(&toml, text).unwrap();
    let o = std::process::Command::new(env!("CARGO_BIN_EXE_sqlite2pg"))
        .current_dir(dir.path())
        .args(["check", "p.toml"])
        .output()
        .unwrap();
    (
        o.status.code(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

#[test]
fn three_type_errors_and_two_unknown_keys_are_all_reported_at_their_lines() {
    let (code, err) = check_mapping(FIVE_PROBLEMS);
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("(5 problems)"), "{err}");
    assert_eq!(
        problems(&err),
        vec![
            (5, "defaults.workers".to_string()),
            (6, "defaults.chunk_sise".to_string()),
            (12, "tables.users.columns.id.not_null".to_string()),
            (15, "tables.users.columns.name.nul_null".to_string()),
            (19, "tables.posts.reject_limit".to_string()),
        ],
        "{err}"
    );
    assert!(err.contains("expected a whole number"), "{err}");
}

#[test]
fn a_table_that_cannot_be_read_adds_no_follow_on_problems() {
    // `tags` is not a table at all, and a column's required `type` has the
    // wrong type: the foreign key to `tags`, and the type check of the
    // column, are not problems of their own.
    let text = r#"[source]
path = "source.db"

[tables]
tags = 5

[tables.users]
primary_key = ["id"]
[tables.users.columns.id]
type = "bigint"
identity = true
[tables.users.columns.name]
type = 5

[tables.posts]
[tables.posts.columns.id]
type = "bigint"
[[tables.posts.foreign_keys]]
columns = ["id"]
references = "tags"
"#;
    let (code, err) = check_mapping(text);
    assert_eq!(code, Some(2), "{err}");
    assert_eq!(
        problems(&err),
        vec![
            (5, "tables.tags".to_string()),
            (13, "tables.users.columns.name.type".to_string())
        ],
        "{err}"
    );
}

#[test]
fn a_sqlite_file_given_for_a_mapping_says_so() {
    let (_dir, src) = sqlite_fixture("CREATE TABLE t (id INTEGER PRIMARY KEY);");
    let o = sqlite2pg(&["check", src.to_str().unwrap()]);
    let err = stderr(&o);
    assert_exit(
        &o,
        2,
        &["is a SQLite database, not a mapping file", "sqlite2pg init"],
    );
    assert!(!err.contains("UTF-8"), "{err}");
}

#[test]
fn a_table_s_own_reject_limit_overrides_the_default() {
    let db = TestDb::new();
    let (dir, src) = sqlite_fixture(
        "CREATE TABLE a (id INTEGER PRIMARY KEY, n INTEGER);
         INSERT INTO a VALUES (1, 1), (2, 'x'), (3, 'y');
         CREATE TABLE b (id INTEGER PRIMARY KEY, n INTEGER);
         INSERT INTO b VALUES (1, 1), (2, 'x');",
    );
    // init types `n` from its cells (text); keep the declared integer so
    // 'x' rejects.
    let toml = dir.path().join("p.toml");
    init_mapping_declared(&src, &toml);
    let text = std::fs::read_to_string(&toml).unwrap();
    assert!(text.contains("[tables.a]"), "{text}");
    edit_mapping(&toml, "[tables.a]\n", "[tables.a]\nreject_limit = 2\n");
    let o = sqlite2pg(&["check", toml.to_str().unwrap(), "--json"]);
    let report: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let t = |n: &str| {
        report["tables"]
            .as_array()
            .unwrap()
            .iter()
            .find(|t| t["source_table"] == n)
            .unwrap()
            .clone()
    };
    if t("a")["rows_rejected"] == 0 {
        // init chose a type that takes text: nothing to reject here.
        panic!("fixture does not reject: {report}");
    }
    assert_eq!(t("a")["reject_limit"], 2);
    assert_eq!(t("a")["exceeds_reject_limit"], false);
    assert_eq!(t("b")["reject_limit"], 0);
    assert_eq!(t("b")["exceeds_reject_limit"], true);
    // check names the target table plainly, as status and verify do.
    assert_eq!(t("a")["target_table"], "a");
    let o = run_pipeline(&toml, &db.url, &[]);
    let err = stderr(&o);
    assert_exit(&o, 4, &["table b exceed reject_limit 0"]);
    assert!(!err.contains("table a exceed"), "{err}");
}
