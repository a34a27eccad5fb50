//! The seed scenario of design.md ("Reshaping on the way"):
//! `workflow_processes` → `workflow_runs` with `pipelines/workflow_runs.toml`,
//! checked column by column in PostgreSQL.

mod common;
use common::*;

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

#[test]
fn workflow_processes_becomes_workflow_runs() {
    let db = TestDb::new();
    let (dir, toml) = setup();

    let o = sqlite2pg(&["check", &toml]);
    assert_eq!(o.status.code(), Some(0), "check: {}", stdout(&o));

    let o = run_pipeline(&toml, &db.url, &[]);
    assert_eq!(o.status.code(), Some(0), "run failed: {}", stderr(&o));
    assert!(!dir.path().join("rejects").exists());

    // Columns: names, order, types, NOT NULL, defaults.
    let cols = db.query(
        "SELECT a.attname, format_type(a.atttypid, a.atttypmod), a.attnotnull::text, \
                coalesce(pg_get_expr(d.adbin, d.adrelid), '') \
         FROM pg_attribute a LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum \
         WHERE a.attrelid = 'public.workflow_runs'::regclass AND a.attnum > 0 AND NOT a.attisdropped \
         ORDER BY a.attnum",
    );
    let got: Vec<(&str, &str)> = cols
        .iter()
        .map(|r| (r[0].as_str(), r[1].as_str()))
        .collect();
    assert_eq!(
        got,
        vec![
            ("run_id", "text"),
            ("workflow_type", "text"),
            ("description", "text"),
            ("max_turns", "bigint"),
            ("session_id", "text"),
            ("git_branch", "text"),
            ("repository_url", "text"),
            ("created_at", "timestamp without time zone"),
            ("updated_at", "timestamp without time zone"),
            ("status", "text"),
            ("result_data", "jsonb"),
            ("error_details", "jsonb"),
            ("execution_time_ms", "bigint"),
            ("total_cost", "numeric(10,4)"),
            ("started_at", "timestamp without time zone"),
            ("completed_at", "timestamp without time zone"),
            ("priority", "text"),
            ("tags", "jsonb"),
            ("metadata", "jsonb"),
            ("progress_data", "jsonb"),
            ("resource_usage", "jsonb"),
        ]
    );
    let col = |n: &str| cols.iter().find(|r| r[0] == n).unwrap().clone();
    assert_eq!(col("run_id")[2], "true");
    assert_eq!(col("workflow_type")[2], "true");
    assert_eq!(col("priority")[3], "'normal'::text");
    assert_eq!(col("tags")[3], "'[]'::jsonb");
    assert_eq!(col("resource_usage")[3], "'{}'::jsonb");

    // Primary key on run_id, the index, no leftovers of the old names.
    assert_eq!(
        db.scalar(
            "SELECT pg_get_constraintdef(oid) FROM pg_constraint \
             WHERE conrelid = 'public.workflow_runs'::regclass AND contype = 'p'"
        ),
        "PRIMARY KEY (run_id)"
    );
    assert_eq!(
        db.scalar("SELECT count(*) FROM pg_indexes WHERE indexname = 'idx_wr_status'"),
        "1"
    );
    assert_eq!(db.scalar("SELECT count(*) FROM workflow_runs"), "5");

    // Every column of known rows, as text in UTC.
    let row = |id: &str| -> Vec<String> {
        db.query(&format!(
            "SET TIME ZONE 'UTC'; SELECT run_id, workflow_type, description, max_turns::text, \
               session_id, git_branch, repository_url, created_at::text, updated_at::text, status, \
               result_data::text, error_details::text, execution_time_ms::text, total_cost::text, \
               started_at::text, completed_at::text, priority, tags::text, metadata::text, \
               progress_data::text, resource_usage::text \
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
    // JSON is real jsonb, queryable.
    assert_eq!(
        db.scalar("SELECT result_data->>'result' FROM workflow_runs WHERE run_id = 'run-004'"),
        "all good"
    );
    assert_eq!(
        db.scalar(
            "SELECT count(*) FROM workflow_runs WHERE result_data = '{}'::jsonb AND error_details = '{}'::jsonb"
        ),
        "2"
    );

    // verify: counts and content checksums agree.
    let o = sqlite2pg(&["verify", &toml, "--target", &db.url, "--json"]);
    assert_eq!(o.status.code(), Some(0), "{}", stdout(&o));
    let j: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(j["ok"], true, "{j}");
    let t = &j["tables"][0];
    assert_eq!(t["source_table"], "workflow_processes");
    assert_eq!(t["target_table"], "workflow_runs");
    assert_eq!(t["source_rows"], 5);
    assert_eq!(t["target_rows"], 5);
    assert_eq!(t["checksum_match"], true);

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
    assert_eq!(o.status.code(), Some(3));
    let j: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    let g = &j["tables"][0]["reject_groups"][0];
    assert_eq!(g["column"], "total_cost");
    assert_eq!(g["examples"][0]["row"], "rowid 4");
}
