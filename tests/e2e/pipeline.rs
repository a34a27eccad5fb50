//! End-to-end tests of the core pipeline against a real PostgreSQL: the real
//! binary, a fresh database per test.

use crate::common::*;
use std::path::Path;

fn init_and_run(db: &TestDb, src: &Path, dir: &Path) -> std::process::Output {
    let toml = dir.join("p.toml");
    init_mapping(src, &toml);
    run_pipeline(toml.to_str().unwrap(), &db.url, &[])
}

/// [`FIXTURE_SQL`] through `init` and `run` into `db`, which must succeed
/// and leave the source byte for byte as it was; the directory holds the
/// source and `p.toml`.
fn full_fixture_loaded(db: &TestDb) -> tempfile::TempDir {
    let (dir, src) = sqlite_fixture(FIXTURE_SQL);
    let before = sha256_file(&src);
    let o = init_and_run(db, &src, dir.path());
    assert_exit(&o, 0, &[]);

    // Source untouched, byte for byte.
    assert_eq!(sha256_file(&src), before);
    dir
}

#[test]
fn full_fixture_moves_every_row_with_exact_values_and_leaves_the_source_untouched() {
    let db = TestDb::new();
    let _dir = full_fixture_loaded(&db);

    // Counts.
    for (t, n) in [
        ("\"User Accounts\"", "4"),
        ("\"order\"", "4"),
        ("order_items", "4"),
        ("empty_table", "0"),
        ("events", "100000"),
    ] {
        assert_eq!(
            db.scalar(&format!("SELECT count(*) FROM public.{t}")),
            n,
            "{t}"
        );
    }

    // Exact values: REAL whose 17th digit matters, big integers, unicode,
    // empty string vs NULL, empty blob vs NULL, quotes in text.
    let rows = db.query(
        "SELECT id, \"Email\", display_name, score::text, big::text, encode(avatar, 'hex'), notes, status \
         FROM \"User Accounts\" ORDER BY id",
    );
    assert_eq!(rows.len(), 4);
    assert_eq!(rows[0][3], "0.1");
    assert_eq!(rows[0][4], "9007199254740993");
    assert_eq!(rows[0][5], "00ff10");
    assert_eq!(rows[1][1], "bjørn@example.com");
    assert_eq!(rows[1][2], "Bjørn ünïcødé ✓");
    assert_eq!(rows[1][3], "0.30000000000000004");
    assert_eq!(rows[1][5], "NULL");
    assert_eq!(rows[1][6], "NULL");
    assert_eq!(
        rows[1][7], "NULL",
        "explicit NULL is not replaced by the default"
    );
    assert_eq!(rows[2][3], "1.7976931348623157e+308");
    assert_eq!(rows[2][4], "-5");
    assert_eq!(rows[2][5], "", "empty blob is not NULL");
    assert_eq!(rows[2][6], "tab\tand\nnewline");
    assert_eq!(rows[3][0], "7");
    assert_eq!(rows[3][1], "q\"uote@example.com");
    assert_eq!(rows[3][2], "O'Brien");
    assert_eq!(rows[3][3], "-2.2250738585072014e-308");
    assert_eq!(rows[3][6], "", "empty text is not NULL");
    assert_eq!(
        db.scalar("SELECT total::text FROM \"order\" WHERE id = 12"),
        "123456789.12345679"
    );
    assert_eq!(
        db.scalar("SELECT to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS') FROM \"User Accounts\" WHERE id = 1"),
        "2024-01-02 03:04:05"
    );
    assert_eq!(
        db.scalar(
            "SELECT string_agg(payload, ',' ORDER BY id) FROM events WHERE id IN (1, 10, 99999)"
        ),
        "payload 1,payload 99999"
    );
    assert_eq!(
        db.scalar("SELECT sum(amount)::numeric(20,1)::text FROM events"),
        "500005000.0"
    );
}

#[test]
fn full_fixture_columns_keep_their_types_and_not_null() {
    let db = TestDb::new();
    let _dir = full_fixture_loaded(&db);

    // Column types, NOT NULL.
    let cols = db.query(
        "SELECT column_name, format_type(a.atttypid, a.atttypmod), a.attnotnull::text \
         FROM information_schema.columns c JOIN pg_attribute a \
           ON a.attrelid = '\"User Accounts\"'::regclass AND a.attname = c.column_name \
         WHERE c.table_name = 'User Accounts' ORDER BY c.ordinal_position",
    );
    let ty = |name: &str| {
        cols.iter()
            .find(|r| r[0] == name)
            .unwrap_or_else(|| panic!("no column {name} in {cols:?}"))
            .clone()
    };
    assert_eq!(ty("id")[1], "bigint");
    assert_eq!(ty("Email")[1], "text");
    assert_eq!(ty("Email")[2], "true", "NOT NULL kept");
    assert_eq!(
        ty("score")[1],
        "double precision",
        "REAL/double must never become float4"
    );
    assert_eq!(ty("retries")[1], "bigint", "int(5)");
    assert_eq!(ty("big")[1], "bigint", "unsigned big int");
    assert_eq!(
        ty("display_name")[1],
        "character varying(20)",
        "nvarchar(20), every cell fits"
    );
    assert_eq!(ty("avatar")[1], "bytea");
    assert_eq!(ty("notes")[1], "text", "no declared type");
    assert!(
        ty("created_at")[1].starts_with("timestamp"),
        "{:?}",
        ty("created_at")
    );
    assert_eq!(
        db.scalar("SELECT format_type(atttypid, atttypmod) FROM pg_attribute WHERE attrelid = '\"order\"'::regclass AND attname = 'total'"),
        "double precision"
    );
}

#[test]
fn full_fixture_gets_its_primary_keys_foreign_keys_and_indexes() {
    let db = TestDb::new();
    let _dir = full_fixture_loaded(&db);

    // Primary keys, including the composite one.
    let pk = |t: &str| {
        db.scalar(&format!(
            "SELECT string_agg(a.attname, ',' ORDER BY k.ord) FROM pg_constraint c \
             CROSS JOIN LATERAL unnest(c.conkey) WITH ORDINALITY AS k(attnum, ord) \
             JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.attnum \
             WHERE c.conrelid = '{t}'::regclass AND c.contype = 'p'"
        ))
    };
    assert_eq!(pk("\"User Accounts\""), "id");
    assert_eq!(pk("\"order\""), "id");
    assert_eq!(pk("order_items"), "order_id,line_no");
    assert_eq!(pk("empty_table"), "id");

    // Foreign keys with their actions.
    let fks = db.query(
        "SELECT conrelid::regclass::text, confrelid::regclass::text, confdeltype::text FROM pg_constraint \
         WHERE contype = 'f' ORDER BY 1",
    );
    assert!(
        fks.contains(&vec![
            "\"order\"".into(),
            "\"User Accounts\"".into(),
            "c".into()
        ]),
        "{fks:?}"
    );
    assert!(
        fks.contains(&vec!["order_items".into(), "\"order\"".into(), "a".into()]),
        "{fks:?}"
    );

    // Indexes: unique on Email, plain, partial.
    let idx = db
        .query("SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = 'public' ORDER BY 1");
    let def = |n: &str| {
        idx.iter()
            .find(|r| r[0] == n)
            .map(|r| r[1].clone())
            .unwrap_or_else(|| panic!("no index {n} in {idx:?}"))
    };
    assert!(def("order_user_idx").contains("(user_id)"));
    assert!(
        def("order_open_idx").contains("WHERE"),
        "{}",
        def("order_open_idx")
    );
    assert!(
        idx.iter()
            .any(|r| r[1].starts_with("CREATE UNIQUE INDEX") && r[1].contains("(\"Email\")")),
        "{idx:?}"
    );
    // The unique index is enforced.
    let dup =
        db.query("SELECT count(*) FROM \"User Accounts\" GROUP BY \"Email\" HAVING count(*) > 1");
    assert!(dup.is_empty());
}

#[test]
fn full_fixture_sequences_move_past_the_loaded_maximum_and_a_rerun_does_nothing() {
    let db = TestDb::new();
    let dir = full_fixture_loaded(&db);

    // Sequences moved past the loaded maximum: the app can insert.
    assert_eq!(
        db.scalar(
            "INSERT INTO \"User Accounts\" (\"Email\") VALUES ('new@example.com') RETURNING id"
        ),
        "8"
    );
    assert_eq!(
        db.scalar("INSERT INTO events (kind) VALUES ('new') RETURNING id"),
        "100001"
    );
    assert_eq!(
        db.scalar("INSERT INTO \"order\" (user_id) VALUES (1) RETURNING id"),
        "14"
    );

    // A rerun of a finished pipeline does nothing and says so.
    let toml = dir.path().join("p.toml");
    let o = run_pipeline(toml.to_str().unwrap(), &db.url, &[]);
    assert_exit(&o, 0, &["already completed"]);
    assert_eq!(db.scalar("SELECT count(*) FROM events"), "100001");

    // verify after the app inserted rows: events has one more row → mismatch.
    let o = sqlite2pg(&[
        "verify",
        toml.to_str().unwrap(),
        "--target",
        &db.url,
        "--json",
    ]);
    assert_exit(&o, 3, &[]);
}

/// `maintenance_work_mem` from the mapping reaches every building session:
/// a value far below the default still builds every key (the sorts spill
/// to disk), so the setting is well-formed SQL whatever its value.
#[test]
fn maintenance_work_mem_from_the_mapping_is_used_by_the_key_builds() {
    let db = TestDb::new();
    let (_dir, toml) = mapped_fixture(FIXTURE_SQL);
    // init writes the default out, for the operator to see and change.
    edit_mapping(
        &toml,
        "maintenance_work_mem = \"512MB\"",
        "maintenance_work_mem = \"1MB\"",
    );
    let o = run_pipeline(toml.to_str().unwrap(), &db.url, &[]);
    assert_exit(&o, 0, &[]);
    assert_eq!(
        db.scalar("SELECT count(*) FROM pg_constraint WHERE conrelid = 'events'::regclass AND contype = 'p'"),
        "1"
    );
    let o = sqlite2pg(&["verify", toml.to_str().unwrap(), "--target", &db.url]);
    assert_exit(&o, 0, &[]);
}

/// `keys_during_copy` (default on): a table's keys are built in the copy
/// stage, as soon as it is loaded; `false` leaves every key to finalize.
/// Both end with the same keys.
#[test]
fn keys_are_built_during_the_copy_unless_the_mapping_says_otherwise() {
    let events_pk = "primary key index of \"public\".\"events\"";
    for during in [true, false] {
        let db = TestDb::new();
        let (_dir, toml) = mapped_fixture(FIXTURE_SQL);
        // init writes the default out; switched off here for the second run.
        let setting = format!("keys_during_copy = {during}");
        edit_mapping(&toml, "keys_during_copy = true", &setting);
        // Each build statement is logged at -v (debug).
        let o = run_pipeline(toml.to_str().unwrap(), &db.url, &["-v"]);
        assert_exit(&o, 0, &[]);
        let err = stderr(&o);
        assert_eq!(
            err.contains(&format!("keys built during the copy: {events_pk}")),
            during,
            "{err}"
        );
        assert_eq!(
            err.contains(&format!("finalize: {events_pk}")),
            !during,
            "{err}"
        );
        assert_eq!(
            db.scalar(
                "SELECT count(*) FROM pg_constraint WHERE conrelid = 'events'::regclass AND contype = 'p'"
            ),
            "1"
        );
    }
}

#[test]
fn verify_passes_after_a_clean_load() {
    let db = TestDb::new();
    let (dir, src) = sqlite_fixture(FIXTURE_SQL);
    let o = init_and_run(&db, &src, dir.path());
    assert_exit(&o, 0, &[]);
    let toml = dir.path().join("p.toml");
    let o = sqlite2pg(&[
        "verify",
        toml.to_str().unwrap(),
        "--target",
        &db.url,
        "--json",
    ]);
    assert_exit(&o, 0, &[]);
    let v: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(v["ok"], true);
    assert_eq!(v["tables"].as_array().unwrap().len(), 5);
    for t in v["tables"].as_array().unwrap() {
        assert_eq!(t["checksum_match"], true, "{t}");
        assert_eq!(t["source_rows"], t["target_rows"], "{t}");
    }
}

#[test]
fn not_a_sqlite_file_is_refused_before_touching_the_target() {
    let db = TestDb::new();
    let dir = tempfile::tempdir().unwrap();
    let bogus = dir.path().join("notes.db");
    std::fs::write(&bogus, "this is not a database, just text\n".repeat(100)).unwrap();
    let o = sqlite2pg(&[
        "init",
        bogus.to_str().unwrap(),
        "-o",
        dir.path().join("p.toml").to_str().unwrap(),
    ]);
    assert_ne!(o.status.code(), Some(0));
    assert!(
        stderr(&o).contains("not a SQLite database"),
        "{}",
        stderr(&o)
    );
    assert!(stderr(&o).contains("notes.db"));

    // A mapping pointing at it: run fails, target untouched.
    let toml = dir.path().join("m.toml");
    std::fs::write(
        &toml,
        "[source]\npath = \"notes.db\"\n[tables.t.columns.a]\ntype = \"text\"\n",
    )
    .unwrap();
    let o = sqlite2pg(&["run", toml.to_str().unwrap(), "--target", &db.url]);
    // Not a SQLite file: a rerun cannot help (exit 4).
    assert_exit(&o, 4, &["not a SQLite database"]);
    assert_eq!(
        db.scalar("SELECT count(*) FROM pg_namespace WHERE nspname = 'sqlite2pg'"),
        "0"
    );
}

#[test]
fn missing_source_file_names_it() {
    let dir = tempfile::tempdir().unwrap();
    let o = sqlite2pg(&["init", dir.path().join("nope.db").to_str().unwrap()]);
    assert_ne!(o.status.code(), Some(0));
    assert!(stderr(&o).contains("nope.db"), "{}", stderr(&o));
}

#[test]
fn corrupt_sqlite_file_fails_quick_check_and_target_is_untouched() {
    let db = TestDb::new();
    let (dir, src) = sqlite_fixture(FIXTURE_SQL);
    let toml = dir.path().join("p.toml");
    init_mapping(&src, &toml);
    // Scribble over the middle of the file (b-tree pages), keep the header.
    let mut bytes = std::fs::read(&src).unwrap();
    let len = bytes.len();
    for b in &mut bytes[len / 2..len / 2 + 8192] {
        *b = 0x5a;
    }
    std::fs::write(&src, &bytes).unwrap();
    // init refuses it too, naming the file, and writes no mapping.
    let again = dir.path().join("again.toml");
    let o = sqlite2pg(&["init", src.to_str().unwrap(), "-o", again.to_str().unwrap()]);
    assert_exit(&o, 4, &[]);
    let e = stderr(&o);
    assert!(
        e.contains("source.db") && (e.contains("corrupt") || e.contains("quick_check")),
        "{e}"
    );
    assert!(!again.exists());
    let o = sqlite2pg(&["run", toml.to_str().unwrap(), "--target", &db.url]);
    let e = stderr(&o);
    // Corrupt: a rerun cannot help (exit 4).
    assert_exit(&o, 4, &["source.db"]);
    assert!(
        e.contains("corrupt") || e.contains("quick_check") || e.contains("malformed"),
        "{e}"
    );
    assert_eq!(
        db.scalar("SELECT count(*) FROM pg_namespace WHERE nspname = 'sqlite2pg'"),
        "0"
    );
    assert_eq!(
        db.scalar("SELECT count(*) FROM pg_tables WHERE schemaname = 'public'"),
        "0"
    );
}

#[test]
fn unreachable_server_fails_cleanly_and_never_shows_the_password() {
    let (dir, src) = sqlite_fixture("CREATE TABLE t (a INTEGER); INSERT INTO t VALUES (1);");
    let toml = dir.path().join("p.toml");
    init_mapping(&src, &toml);
    let o = sqlite2pg(&[
        "run",
        toml.to_str().unwrap(),
        "--target",
        "postgres://bob:hunter2secret@127.0.0.1:1/nowhere?connect_timeout=3",
    ]);
    assert_exit(&o, 1, &["cannot connect", "127.0.0.1:1"]);
    let all = format!("{}{}", stdout(&o), stderr(&o));
    assert!(!all.contains("hunter2secret"), "password leaked: {all}");
}

#[test]
fn malformed_mapping_reports_file_line_and_key_with_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    let toml = dir.path().join("bad.toml");
    std::fs::write(
        &toml,
        "[source]\npath = \"x.db\"\n\n[tables.users.columns.id]\ntype = \"bigint\"\nidentiy = true\n",
    )
    .unwrap();
    let o = sqlite2pg(&[
        "run",
        toml.to_str().unwrap(),
        "--target",
        "postgres://postgres@127.0.0.1/postgres",
    ]);
    assert_exit(&o, 2, &["bad.toml", "identiy", "tables.users"]);

    // Syntax error: line number.
    std::fs::write(&toml, "[source]\npath = \"x.db\"\n[tables.t\n").unwrap();
    let o = sqlite2pg(&["check", toml.to_str().unwrap()]);
    assert_exit(&o, 2, &["bad.toml:3"]);
}

#[test]
fn a_value_that_cannot_convert_names_table_rowid_and_column() {
    let db = TestDb::new();
    let (dir, src) = sqlite_fixture(
        "CREATE TABLE items (id INTEGER PRIMARY KEY, qty INTEGER, note TEXT);
         INSERT INTO items VALUES (1, 5, 'ok'), (2, 'five', 'bad'), (3, 7, 'ok');",
    );
    let toml = dir.path().join("p.toml");
    init_mapping_declared(&src, &toml);
    let o = run_pipeline(toml.to_str().unwrap(), &db.url, &[]);
    let e = stderr(&o);
    // Reject limit 0: the table fails, and a rerun as it is would too.
    assert_exit(&o, 4, &["items", "rowid 2", "qty"]);
    assert!(
        !e.contains("rerun the same command to resume"),
        "a rerun cannot help here, so it is not advised: {e}"
    );
    assert!(
        e.contains("rejects/items.jsonl"),
        "the error names the reject file: {e}"
    );
    // Nothing half-written: the failed chunk rolled back.
    assert_eq!(db.scalar("SELECT count(*) FROM items"), "0");
    let rejects = std::fs::read_to_string(dir.path().join("rejects/items.jsonl")).unwrap();
    let r: serde_json::Value = serde_json::from_str(rejects.lines().next().unwrap()).unwrap();
    assert_eq!(r["column"], "qty");
    assert_eq!(r["value"], "five");
    assert_eq!(r["storage_class"], "text");
}

#[test]
fn a_target_table_with_rows_is_never_overwritten_without_permission() {
    let db = TestDb::new();
    let (dir, src) = sqlite_fixture(
        "CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT); INSERT INTO t VALUES (1, 'new');",
    );
    db.exec("CREATE TABLE t (id bigint, v text); INSERT INTO t VALUES (99, 'precious');");
    let toml = dir.path().join("p.toml");
    assert_eq!(
        sqlite2pg(&["init", src.to_str().unwrap(), "-o", toml.to_str().unwrap()])
            .status
            .code(),
        Some(0)
    );
    let o = run_pipeline(toml.to_str().unwrap(), &db.url, &[]);
    assert_exit(&o, 4, &["already holds rows"]);
    assert_eq!(db.scalar("SELECT v FROM t"), "precious");

    // With --truncate it is emptied (TRUNCATE, not DROP) and loaded.
    let o = run_pipeline(toml.to_str().unwrap(), &db.url, &["--truncate", "--fresh"]);
    assert_exit(&o, 0, &[]);
    assert_eq!(
        db.scalar("SELECT string_agg(id || '=' || v, ',') FROM t"),
        "1=new"
    );
}

/// Regression: a rejected value holding a NUL byte (or a reason quoting it)
/// made the chunk's transaction fail, because PostgreSQL text and jsonb
/// cannot store `\0`. Found by the benchmark's messy table.
#[test]
fn regression_rejected_values_with_nul_bytes_are_recorded_not_fatal() {
    let db = TestDb::new();
    let (dir, src) = sqlite_fixture(
        "CREATE TABLE m (id INTEGER PRIMARY KEY, n INTEGER, note TEXT);
         INSERT INTO m VALUES (1, 1, 'ok'), (2, CAST(x'41004243' AS TEXT), 'nul in int'),
                              (3, 3, CAST(x'610062' AS TEXT)), (4, x'0001', 'blob');",
    );
    let toml = dir.path().join("p.toml");
    init_mapping_declared(&src, &toml);
    let text = std::fs::read_to_string(&toml)
        .unwrap()
        .replace("reject_limit = 0", "reject_limit = 10");
    std::fs::write(&toml, text).unwrap();
    let o = run_pipeline(toml.to_str().unwrap(), &db.url, &[]);
    assert_exit(&o, 3, &[]);
    assert_eq!(
        db.scalar("SELECT string_agg(id::text, ',' ORDER BY id) FROM m"),
        "1"
    );
    let rejects = std::fs::read_to_string(dir.path().join("rejects/m.jsonl")).unwrap();
    assert_eq!(rejects.lines().count(), 3, "{rejects}");
    let first: serde_json::Value = serde_json::from_str(rejects.lines().next().unwrap()).unwrap();
    assert_eq!(
        first["value"], "A\u{0}BC",
        "the raw value keeps its NUL in the reject file"
    );
}

/// The reject limit broken in a later chunk: with `commit_every = "table"`
/// the whole table rolls back, and the reject file still lists the rejects
/// of its earlier chunks (rolled back with it); with `"chunk"` the earlier
/// chunks stay committed. Either way the file names every rejected row.
#[test]
fn reject_limit_broken_in_a_later_chunk_keeps_every_reject_in_the_file() {
    for (commit, kept) in [("table", "0"), ("chunk", "2,3,4")] {
        let db = TestDb::new();
        let (dir, src) = sqlite_fixture(
            "CREATE TABLE r (id INTEGER PRIMARY KEY, n INTEGER);
             INSERT INTO r VALUES (1, 'x'), (2, 2), (3, 3), (4, 4), (5, 'y'), (6, 6);",
        );
        let toml = dir.path().join("p.toml");
        init_mapping_declared(&src, &toml);
        let text = std::fs::read_to_string(&toml).unwrap();
        assert!(text.contains("commit_every = \"table\""), "{text}");
        assert!(text.contains("workers = 4"), "{text}");
        let text = text
            .replace("reject_limit = 0", "reject_limit = 1")
            .replace("chunk_size = 100000", "chunk_size = 2")
            .replace(
                "commit_every = \"table\"",
                &format!("commit_every = \"{commit}\""),
            )
            // One worker: chunks in order, so the third one breaks the limit.
            .replace("workers = 4", "workers = 1");
        std::fs::write(&toml, text).unwrap();
        let o = run_pipeline(toml.to_str().unwrap(), &db.url, &[]);
        assert_eq!(o.status.code(), Some(4), "{commit}: {}", stderr(&o));
        assert!(
            stderr(&o).contains("exceed reject_limit 1"),
            "{}",
            stderr(&o)
        );
        // The summary shows the rows read for the failed table (6), not
        // only what committed.
        let summary = stdout(&o);
        let line = summary
            .lines()
            .find(|l| l.starts_with("r "))
            .unwrap_or_else(|| panic!("{commit}: no summary line for r:\n{summary}"));
        let read: i64 = line.split_whitespace().nth(1).unwrap().parse().unwrap();
        assert_eq!(read, 6, "{commit}: {line}");
        assert_eq!(
            db.scalar("SELECT coalesce(string_agg(id::text, ',' ORDER BY id), '0') FROM r"),
            kept,
            "{commit}"
        );
        let rejects = std::fs::read_to_string(dir.path().join("rejects/r.jsonl")).unwrap();
        let mut rows: Vec<String> = rejects
            .lines()
            .map(|l| {
                let v: serde_json::Value = serde_json::from_str(l).unwrap();
                v["row"].as_str().unwrap().to_string()
            })
            .collect();
        rows.sort();
        assert_eq!(rows, ["rowid 1", "rowid 5"], "{commit}: {rejects}");
    }
}

/// Every exit code of docs/cli.md's table is in `run --help`.
#[test]
fn run_help_lists_the_exit_codes_of_docs_cli() {
    let o = sqlite2pg(&["run", "--help"]);
    assert_exit(&o, 0, &[]);
    let h = stdout(&o);
    for code in ["0 ", "1 ", "2 ", "3 ", "4 ", "130", "143"] {
        assert!(
            h.contains(&format!("  {code}")),
            "exit code {code} missing:\n{h}"
        );
    }
}
