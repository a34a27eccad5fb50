//! The seed scenario, `workflow_processes` → `workflow_runs` with
//! `pipelines/workflow_runs.toml` (the reshaping example of
//! docs/mapping.md), checked column by column in PostgreSQL.

use crate::common::*;
use std::path::Path;

/// `CREATE TABLE` exactly as in bench/gen_bench_db.py.
const SOURCE_SQL: &str = r#"
CREATE TABLE workflow_processes (
    id TEXT PRIMARY KEY,
    workflow_name TEXT NOT NULL,
    message TEXT NOT NULL,
    max_turns INTEGER DEFAULT 30,
    session_name TEXT,
    git_branch TEXT,
    repository_url TEXT,
    created_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP,
    updated_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP,
    status TEXT DEFAULT 'pending',
    result TEXT,
    error_message TEXT,
    execution_time INTEGER,
    total_cost REAL,
    started_at TIMESTAMP,
    completed_at TIMESTAMP
);
INSERT INTO workflow_processes VALUES
 ('run-001', 'code-review', 'Review PR #12', 30, 'sess-a', 'main', 'https://git.example.com/a.git',
  '2025-01-02 03:04:05', '2025-01-02 03:10:00', 'completed',
  '{"files": 3, "verdict": "approve"}', NULL, 5400, 1.2346,
  '2025-01-02 03:04:06', '2025-01-02 03:09:59'),
 ('run-002', 'test-gen', 'Generate tests for parser', 12, NULL, 'feature/x', NULL,
  '2025-02-03 04:05:06', '2025-02-03 04:06:00', 'failed',
  NULL, 'Timeout after 30s: "worker" died', 30000, 0.05,
  '2025-02-03 04:05:07', '2025-02-03 04:05:37'),
 ('run-003', 'refactor', 'Pending job', 30, 'sess-c', NULL, NULL,
  '2025-03-04 05:06:07', '2025-03-04 05:06:07', 'pending',
  NULL, NULL, NULL, NULL, NULL, NULL),
 ('run-004', 'doc-gen', 'Plain-text result ünïcødé', 5, 'sess-d', 'main', NULL,
  '2025-12-31 23:59:59', '2026-01-01 00:00:00', 'completed',
  'all good', NULL, 1, 0,
  '2025-12-31 23:59:59', '2026-01-01 00:00:00'),
 ('run-005', 'security-audit', 'Big one', 30, 'sess-e', 'release', 'https://git.example.com/e.git',
  '2025-06-15 12:00:00', '2025-06-15 12:30:00', 'running',
  NULL, NULL, 123456, 2.9999,
  '2025-06-15 12:00:01', NULL);
"#;

fn pipeline_text() -> String {
    std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/pipelines/workflow_runs.toml"
    ))
    .unwrap()
}

/// A temp dir with `workflow_runs.db` and the pipeline beside it.
fn setup() -> (tempfile::TempDir, String) {
    let dir = tempfile::tempdir().unwrap();
    let conn = rusqlite::Connection::open(dir.path().join("workflow_runs.db")).unwrap();
    conn.execute_batch(SOURCE_SQL).unwrap();
    drop(conn);
    let toml = dir.path().join("workflow_runs.toml");
    std::fs::write(&toml, pipeline_text()).unwrap();
    (dir, toml.to_str().unwrap().to_string())
}

/// The seed's source and pipeline run into `db`: it must succeed with no
/// reject.
fn loaded(db: &TestDb) -> (tempfile::TempDir, String) {
    let (dir, toml) = setup();
    let o = run_pipeline(&toml, &db.url, &[]);
    assert_exit(&o, 0, &[]);
    assert!(!dir.path().join("rejects").exists());
    (dir, toml)
}

#[test]
fn workflow_processes_becomes_workflow_runs_after_a_clean_check() {
    let db = TestDb::new();
    let (dir, toml) = setup();

    let o = sqlite2pg(&["check", &toml]);
    assert_exit(&o, 0, &[]);

    let o = run_pipeline(&toml, &db.url, &[]);
    assert_exit(&o, 0, &[]);
    assert!(!dir.path().join("rejects").exists());

    // The table is seed 001's DDL (see `table_matches_seed_001_ddl`); here
    // the rows. No `users` table in this target: the key is not added.
    assert_eq!(db.scalar("SELECT count(*) FROM workflow_runs"), "5");
}

#[test]
fn every_column_of_the_known_runs_arrives_as_text_in_utc() {
    let db = TestDb::new();
    let _loaded = loaded(&db);

    // Every column of known rows, as text in UTC.
    let row = |id: &str| -> Vec<String> {
        db.query(&format!(
            "SET TIME ZONE 'UTC'; SELECT run_id, workflow_type, description, max_turns::text, \
               session_id, git_branch, repository_url, created_at::text, updated_at::text, status, \
               result_data::text, error_details::text, execution_time_ms::text, total_cost::text, \
               started_at::text, completed_at::text, priority, tags::text, metadata::text, \
               progress_data::text, resource_usage::text, user_id \
             FROM workflow_runs WHERE run_id = '{id}'"
        ))
        .pop()
        .unwrap_or_else(|| panic!("no row {id}"))
    };
    assert_eq!(
        row("run-001"),
        [
            "run-001",
            "code-review",
            "Review PR #12",
            "30",
            "sess-a",
            "main",
            "https://git.example.com/a.git",
            "2025-01-02 03:04:05",
            "2025-01-02 03:10:00",
            "completed",
            // The text is wrapped as a JSON string, verbatim.
            r#"{"result": "{\"files\": 3, \"verdict\": \"approve\"}"}"#,
            "{}",
            "5400",
            "1.2346",
            "2025-01-02 03:04:06",
            "2025-01-02 03:09:59",
            "normal",
            "[]",
            "{}",
            "{}",
            "{}",
            "NULL",
        ]
    );
    assert_eq!(
        row("run-002"),
        [
            "run-002",
            "test-gen",
            "Generate tests for parser",
            "12",
            "NULL",
            "feature/x",
            "NULL",
            "2025-02-03 04:05:06",
            "2025-02-03 04:06:00",
            "failed",
            "{}",
            r#"{"error": "Timeout after 30s: \"worker\" died"}"#,
            "30000",
            "0.0500",
            "2025-02-03 04:05:07",
            "2025-02-03 04:05:37",
            "normal",
            "[]",
            "{}",
            "{}",
            "{}",
            "NULL",
        ]
    );
    assert_eq!(
        row("run-003"),
        [
            "run-003",
            "refactor",
            "Pending job",
            "30",
            "sess-c",
            "NULL",
            "NULL",
            "2025-03-04 05:06:07",
            "2025-03-04 05:06:07",
            "pending",
            "{}",
            "{}",
            "NULL",
            "NULL",
            "NULL",
            "NULL",
            "normal",
            "[]",
            "{}",
            "{}",
            "{}",
            "NULL",
        ]
    );
    let r4 = row("run-004");
    assert_eq!(r4[2], "Plain-text result ünïcødé");
    assert_eq!(r4[10], r#"{"result": "all good"}"#);
    assert_eq!(r4[13], "0.0000");
    assert_eq!(r4[7], "2025-12-31 23:59:59");
    assert_eq!(r4[15], "2026-01-01 00:00:00");
    let r5 = row("run-005");
    assert_eq!(r5[13], "2.9999");
    assert_eq!(r5[15], "NULL");
}

#[test]
fn text_results_and_error_messages_become_queryable_json() {
    let db = TestDb::new();
    let _loaded = loaded(&db);

    // JSON (json, as the DDL says), queryable.
    assert_eq!(
        db.scalar("SELECT result_data->>'result' FROM workflow_runs WHERE run_id = 'run-004'"),
        "all good"
    );
    assert_eq!(
        db.scalar(
            "SELECT count(*) FROM workflow_runs WHERE result_data::jsonb = '{}' AND error_details::jsonb = '{}'"
        ),
        "2"
    );
}

#[test]
fn verify_agrees_on_the_counts_and_checksums_of_the_reshaped_table() {
    let db = TestDb::new();
    let (_dir, toml) = loaded(&db);

    // verify: counts and content checksums agree.
    let o = sqlite2pg(&["verify", &toml, "--target", &db.url, "--json"]);
    assert_exit(&o, 0, &[]);
    let j: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(j["ok"], true, "{j}");
    let t = &j["tables"][0];
    assert_eq!(t["source_table"], "workflow_processes");
    assert_eq!(t["target_table"], "workflow_runs");
    assert_eq!(t["source_rows"], 5);
    assert_eq!(t["target_rows"], 5);
    assert_eq!(t["checksum_match"], true);
}

#[test]
fn the_app_inserts_new_runs_relying_on_the_new_columns_defaults() {
    let db = TestDb::new();
    let _loaded = loaded(&db);

    // The app can insert new runs relying on the new columns' defaults.
    db.exec(
        "INSERT INTO workflow_runs (run_id, workflow_type, description) VALUES ('run-new', 'x', 'y')",
    );
    assert_eq!(
        db.scalar("SELECT priority || ' ' || tags::text || ' ' || status || ' ' || max_turns FROM workflow_runs WHERE run_id = 'run-new'"),
        "normal [] pending 30"
    );
}

#[test]
fn seed_costs_with_more_than_four_decimals_are_rejected_not_rounded() {
    // numeric(10,4) never rounds: a REAL like 0.30000000000000004 is a
    // reject (named by check before the window), not a silent 0.3000.
    let (dir, toml) = setup();
    let conn = rusqlite::Connection::open(dir.path().join("workflow_runs.db")).unwrap();
    conn.execute(
        "UPDATE workflow_processes SET total_cost = 0.1 + 0.2 WHERE id = 'run-004'",
        [],
    )
    .unwrap();
    drop(conn);
    let o = sqlite2pg(&["check", &toml, "--json"]);
    assert_exit(&o, 3, &[]);
    let j: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    let g = &j["tables"][0]["reject_groups"][0];
    assert_eq!(g["column"], "total_cost");
    assert_eq!(g["examples"][0]["row"], "rowid 4");
}

/// Seed 001's target DDL, verbatim (tests/fixtures): the spec.
const SEED_001_DDL: &str = include_str!("../fixtures/seed_001_workflow_runs.sql");

/// The application's table the seed's foreign key references.
const USERS_DDL: &str = "CREATE TABLE users (id text PRIMARY KEY)";

/// `workflow_runs` as the catalog describes it, one line per column (in
/// order: name, type as `format_type` prints it, NOT NULL, default), per
/// index (name, `pg_get_indexdef`) and per constraint (name,
/// `pg_get_constraintdef`, which says NOT VALID for an unchecked key).
fn catalog(db: &TestDb) -> Vec<String> {
    let rel = "'public.workflow_runs'::regclass";
    let mut out: Vec<String> = db
        .query(&format!(
            "SELECT 'column ' || a.attname || ' ' || format_type(a.atttypid, a.atttypmod) \
                    || CASE WHEN a.attnotnull THEN ' NOT NULL' ELSE '' END \
                    || coalesce(' DEFAULT ' || pg_get_expr(d.adbin, d.adrelid), '') \
             FROM pg_attribute a LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum \
             WHERE a.attrelid = {rel} AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum"
        ))
        .into_iter()
        .map(|r| r[0].clone())
        .collect();
    for sql in [
        format!(
            "SELECT 'index ' || c.relname || ': ' || pg_get_indexdef(i.indexrelid) \
             FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid \
             WHERE i.indrelid = {rel} ORDER BY c.relname"
        ),
        format!(
            "SELECT 'constraint ' || conname || ': ' || pg_get_constraintdef(oid) \
             FROM pg_constraint WHERE conrelid = {rel} ORDER BY conname"
        ),
    ] {
        out.extend(db.query(&sql).into_iter().map(|r| r[0].clone()));
    }
    out
}

/// A scratch database holding what seed 001's DDL creates (after a `users`
/// table when `with_users`), and its catalog.
fn seed_catalog(with_users: bool) -> Vec<String> {
    let db = TestDb::new();
    // The DDL's foreign key needs `users`; without it, the table goes
    // again, taking only the key with it (CASCADE drops the constraint).
    db.exec(USERS_DDL);
    db.exec(SEED_001_DDL);
    if !with_users {
        db.exec("DROP TABLE users CASCADE");
    }
    catalog(&db)
}

#[test]
fn table_matches_seed_001_ddl() {
    let want = seed_catalog(true);
    // The spec has what the issue lists: 22 columns, the primary key, nine
    // indexes (two of them composite) and the foreign key to users.
    assert_eq!(want.iter().filter(|l| l.starts_with("column ")).count(), 22);
    assert_eq!(want.iter().filter(|l| l.starts_with("index ")).count(), 10);
    assert!(
        want.contains(
            &"constraint workflow_runs_user_id_fkey: FOREIGN KEY (user_id) REFERENCES users(id) ON DELETE SET NULL"
                .to_string()
        ),
        "{want:#?}"
    );

    let db = TestDb::new();
    db.exec(USERS_DDL);
    db.exec("INSERT INTO users VALUES ('u1')");
    let (_dir, toml) = setup();
    let o = run_pipeline(&toml, &db.url, &[]);
    assert_exit(&o, 0, &[]);
    assert!(!stdout(&o).contains("note:"), "{}", stdout(&o));
    assert_eq!(catalog(&db), want);

    // The key works as the DDL's does: ON DELETE SET NULL.
    db.exec("UPDATE workflow_runs SET user_id = 'u1' WHERE run_id = 'run-001'");
    db.exec("DELETE FROM users WHERE id = 'u1'");
    assert_eq!(
        db.scalar("SELECT count(*) FROM workflow_runs WHERE user_id IS NULL"),
        "5"
    );
    let o = sqlite2pg(&["verify", &toml, "--target", &db.url, "--json"]);
    assert_exit(&o, 0, &[]);
}

#[test]
fn without_a_users_table_the_foreign_key_is_not_added_and_the_run_says_so() {
    let db = TestDb::new();
    let (_dir, toml) = setup();
    let o = run_pipeline(&toml, &db.url, &[]);
    assert_exit(&o, 0, &[]);
    let said = "foreign key workflow_runs_user_id_fkey of \"public\".\"workflow_runs\" (user_id) \
                → \"public\".\"users\"(id) not added: the target has no table \"public\".\"users\"";
    assert!(stderr(&o).contains(said), "stderr: {}", stderr(&o));
    assert!(
        stdout(&o).contains(&format!("note: {said} (if_exists = true)")),
        "summary: {}",
        stdout(&o)
    );
    // Everything else is the DDL's.
    assert_eq!(catalog(&db), seed_catalog(false));

    // `status` keeps saying it; `verify` reports the key as not added.
    let o = sqlite2pg(&["status", &toml, "--target", &db.url]);
    assert_exit(&o, 0, &[&format!("note: {said}")]);
    assert!(!stdout(&o).contains("error:"), "{}", stdout(&o));
    let o = sqlite2pg(&["verify", &toml, "--target", &db.url, "--json"]);
    assert_exit(&o, 0, &[]);
    let j: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    let fk = &j["foreign_keys"][0];
    assert_eq!(fk["name"], "workflow_runs_user_id_fkey");
    assert_eq!(fk["ok"], true);
    assert!(fk["detail"].as_str().unwrap().contains("not added"), "{fk}");
}

#[test]
fn without_if_exists_a_missing_users_table_stops_the_run_before_it_loads() {
    let db = TestDb::new();
    let (_dir, toml) = setup();
    edit_mapping(Path::new(&toml), "if_exists = true\n", "");
    let o = run_pipeline(&toml, &db.url, &[]);
    assert_exit(
        &o,
        4,
        &[
            "not added: the target has no table \"public\".\"users\"",
            "set if_exists = true",
        ],
    );
    // Refused before anything was created.
    assert_eq!(
        db.scalar("SELECT count(*) FROM pg_class WHERE relname = 'workflow_runs'"),
        "0"
    );
    // With the table there, the same mapping loads and adds the key.
    db.exec(USERS_DDL);
    let o = run_pipeline(&toml, &db.url, &[]);
    assert_exit(&o, 0, &[]);
    assert_eq!(catalog(&db), seed_catalog(true));
}

/// The seed's source with run-003's status NULL.
fn setup_null_status() -> (tempfile::TempDir, String) {
    let (dir, toml) = setup();
    let conn = rusqlite::Connection::open(dir.path().join("workflow_runs.db")).unwrap();
    conn.execute(
        "UPDATE workflow_processes SET status = NULL WHERE id = 'run-003'",
        [],
    )
    .unwrap();
    (dir, toml)
}

#[test]
fn a_null_status_is_a_reject_unless_the_mapping_says_to_use_the_default() {
    // As shipped: NOT NULL without on_null, so the row is a reject.
    let db = TestDb::new();
    let (dir, toml) = setup_null_status();
    let o = sqlite2pg(&["check", &toml, "--json"]);
    assert_exit(&o, 3, &[]);
    let j: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    let g = &j["tables"][0]["reject_groups"][0];
    assert_eq!(g["column"], "status");
    assert_eq!(g["examples"][0]["row"], "rowid 3");
    // The shipped reject_limit (0) fails the table, naming the row.
    let o = run_pipeline(&toml, &db.url, &[]);
    assert_exit(
        &o,
        4,
        &["first: rowid 3, column status: NULL in a NOT NULL column"],
    );
    // Allowed one reject, the other rows load and the run ends with 3.
    let db = TestDb::new();
    edit_mapping(Path::new(&toml), "reject_limit = 0", "reject_limit = 1");
    let o = run_pipeline(&toml, &db.url, &[]);
    assert_exit(&o, 3, &[]);
    assert_eq!(db.scalar("SELECT count(*) FROM workflow_runs"), "4");
    assert_eq!(
        db.scalar("SELECT count(*) FROM workflow_runs WHERE run_id = 'run-003'"),
        "0"
    );
    let rejects = std::fs::read_dir(dir.path().join("rejects"))
        .unwrap()
        .map(|e| std::fs::read_to_string(e.unwrap().path()).unwrap())
        .collect::<String>();
    assert!(
        rejects.contains("run-003") || rejects.contains("rowid 3"),
        "{rejects}"
    );
    assert!(rejects.contains("NULL in a NOT NULL column"), "{rejects}");

    // With on_null = "default": the row loads with status 'pending'.
    let db = TestDb::new();
    let (_dir, toml) = setup_null_status();
    edit_mapping(
        Path::new(&toml),
        "default = \"'pending'\"\n",
        "default = \"'pending'\"\non_null = \"default\"\n",
    );
    let o = run_pipeline(&toml, &db.url, &[]);
    assert_exit(&o, 0, &[]);
    assert_eq!(
        db.scalar("SELECT status FROM workflow_runs WHERE run_id = 'run-003'"),
        "pending"
    );
    assert_eq!(db.scalar("SELECT count(*) FROM workflow_runs"), "5");
    // The table is the DDL's all the same.
    assert_eq!(catalog(&db), seed_catalog(false));
    let o = sqlite2pg(&["verify", &toml, "--target", &db.url, "--json"]);
    assert_exit(&o, 0, &[]);
}

#[test]
fn integers_outside_int4_are_rejected_not_wrapped() {
    // max_turns and execution_time_ms are INTEGER in the DDL: int4.
    let (dir, toml) = setup();
    let conn = rusqlite::Connection::open(dir.path().join("workflow_runs.db")).unwrap();
    conn.execute(
        "UPDATE workflow_processes SET max_turns = 2147483648 WHERE id = 'run-002'",
        [],
    )
    .unwrap();
    drop(conn);
    let o = sqlite2pg(&["check", &toml, "--json"]);
    assert_exit(&o, 3, &[]);
    let j: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    let g = &j["tables"][0]["reject_groups"][0];
    assert_eq!(g["column"], "max_turns");
    assert_eq!(g["examples"][0]["row"], "rowid 2");
}

#[test]
fn rows_breaking_an_outside_foreign_key_fail_finalize_and_a_rerun_validates_it() {
    // As for a pipeline's own keys: added NOT VALID, validation fails naming
    // the key, the key stays NOT VALID; fixed in the target, a rerun
    // validates it.
    let dir = tempfile::tempdir().unwrap();
    let conn = rusqlite::Connection::open(dir.path().join("app.db")).unwrap();
    conn.execute_batch(
        "CREATE TABLE runs (id TEXT PRIMARY KEY, owner TEXT);
         INSERT INTO runs VALUES ('r1', 'u1'), ('r2', 'u2'), ('r3', NULL);",
    )
    .unwrap();
    drop(conn);
    let toml = dir.path().join("runs.toml");
    Mapping::new("app.db")
        .table("runs", &["id"])
        .column("id", "text")
        .not_null()
        .column("owner", "text")
        .foreign_key(&["owner"])
        .set("references_target", "users")
        .set_list("ref_columns", &["id"])
        .set("on_delete", "set null")
        .write(&toml);
    let db = TestDb::new();
    db.exec("CREATE TABLE users (id text PRIMARY KEY); INSERT INTO users VALUES ('u1')");
    let o = run_pipeline(&toml, &db.url, &[]);
    assert_exit(
        &o,
        4,
        &[
            "foreign key runs_owner_fkey",
            "no row in that table of the target",
        ],
    );
    assert_eq!(db.scalar("SELECT count(*) FROM runs"), "3");
    let def =
        "SELECT pg_get_constraintdef(oid) FROM pg_constraint WHERE conname = 'runs_owner_fkey'";
    assert_eq!(
        db.scalar(def),
        "FOREIGN KEY (owner) REFERENCES users(id) ON DELETE SET NULL NOT VALID"
    );
    let o = sqlite2pg(&[
        "verify",
        toml.to_str().unwrap(),
        "--target",
        &db.url,
        "--json",
    ]);
    assert_exit(&o, 3, &[]);
    let j: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(j["foreign_keys"][0]["ok"], false, "{j}");

    db.exec("INSERT INTO users VALUES ('u2')");
    let o = run_pipeline(&toml, &db.url, &[]);
    assert_exit(&o, 0, &[]);
    assert_eq!(
        db.scalar(def),
        "FOREIGN KEY (owner) REFERENCES users(id) ON DELETE SET NULL"
    );
}
