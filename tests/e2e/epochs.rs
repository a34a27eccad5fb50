//! Epoch bases (docs/conversions.md, "Epochs"): `init` reads a file's
//! numeric times from the base its origin uses — Core Data's 2001-01-01,
//! Apple Messages' nanoseconds since 2001, Chrome's microseconds since
//! 1601 — and says unit, base and one value as it will read. The dates
//! read back are checked against Python's `datetime`, computed here
//! independently of the tool.

use crate::common::*;
use std::process::Command;

/// `python3 -c CODE`'s stdout lines.
fn python(code: &str) -> Vec<String> {
    let o = Command::new("python3")
        .args(["-c", code])
        .output()
        .expect("run python3");
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    String::from_utf8_lossy(&o.stdout)
        .lines()
        .map(String::from)
        .collect()
}

/// Each row's time in UTC, as `YYYY-MM-DD HH:MM:SS.ffffff`, ordered by
/// `id` (table and column named case-insensitively: init chooses the case).
fn times(db: &TestDb, table: &str, id: &str, col: &str) -> Vec<String> {
    let name = |sql: String| db.scalar(&sql);
    let t = name(format!(
        "SELECT quote_ident(relname) FROM pg_class WHERE lower(relname) = '{table}' AND relkind = 'r'"
    ));
    let att = |c: &str| {
        name(format!(
            "SELECT quote_ident(attname) FROM pg_attribute WHERE attrelid = 'public.{t}'::regclass \
             AND lower(attname) = '{c}'"
        ))
    };
    let (i, c) = (att(id), att(col));
    assert_eq!(
        db.scalar(&format!(
            "SELECT format_type(atttypid, atttypmod) FROM pg_attribute \
             WHERE attrelid = 'public.{t}'::regclass AND attname = '{}'",
            c.trim_matches('"')
        )),
        "timestamp with time zone"
    );
    db.query(&format!(
        "SELECT to_char({c} AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS.US') FROM public.{t} ORDER BY {i}"
    ))
    .into_iter()
    .map(|r| r[0].clone())
    .collect()
}

/// Issue 26, Found 3: a Core Data store's TIMESTAMP seconds count from
/// 2001-01-01; the 565366977.5 is 2018-12-01, not 1987.
#[test]
fn core_data_dates_count_from_2001() {
    let secs = [
        "565366977.5",
        "0",
        "300000000.25",
        "-31622400",
        "86399.000001",
    ];
    let mut sql = String::from(
        "CREATE TABLE Z_PRIMARYKEY(Z_ENT INTEGER PRIMARY KEY, Z_NAME VARCHAR, Z_SUPER INTEGER, Z_MAX INTEGER);
         CREATE TABLE Z_METADATA(Z_VERSION INTEGER PRIMARY KEY, Z_UUID VARCHAR(255), Z_PLIST BLOB);
         INSERT INTO Z_PRIMARYKEY VALUES (1, 'Object', 0, 5);
         CREATE TABLE ZOBJECT(Z_PK INTEGER PRIMARY KEY, ZSTARTDATE TIMESTAMP);",
    );
    for (i, s) in secs.iter().enumerate() {
        sql.push_str(&format!("INSERT INTO ZOBJECT VALUES({}, {s});", i + 1));
    }
    let (dir, src) = sqlite_fixture(&sql);
    let toml = dir.path().join("p.toml");
    let o = init_ok(&src, &toml);
    let err = stderr(&o);
    assert!(
        err.contains("a Core Data store (tables Z_PRIMARYKEY and Z_METADATA)"),
        "{err}"
    );
    assert!(
        err.contains(
            "`ZOBJECT`.`ZSTARTDATE`: epoch: its numbers are read as seconds since 2001-01-01 \
             (epoch = \"s\", epoch_base = \"2001-01-01\"): 565366977.5 reads 2018-12-01 14:22:57.5+00"
        ),
        "{err}"
    );
    let text = std::fs::read_to_string(&toml).unwrap();
    assert!(text.contains("epoch_base = \"2001-01-01\""), "{text}");

    let db = TestDb::new();
    assert_exit(&run_pipeline(&toml, &db.url, &[]), 0, &[]);
    let want = python(&format!(
        "from datetime import datetime, timedelta, timezone\n\
         from decimal import Decimal\n\
         base = datetime(2001, 1, 1, tzinfo=timezone.utc)\n\
         for s in {secs:?}:\n\
         \x20   us = int((Decimal(s) * 1000000).to_integral_value())\n\
         \x20   print((base + timedelta(microseconds=us)).strftime('%Y-%m-%d %H:%M:%S.%f'))"
    ));
    assert_eq!(times(&db, "zobject", "z_pk", "zstartdate"), want);
    assert_eq!(want[0], "2018-12-01 14:22:57.500000");
    let o = sqlite2pg(&["verify", toml.to_str().unwrap(), "--target", &db.url]);
    assert_exit(&o, 0, &[]);
}

/// `init` then `run` of `sql`; the mapping, init's stderr and the target.
fn moved(sql: &str) -> (tempfile::TempDir, std::path::PathBuf, String, TestDb) {
    let (dir, src) = sqlite_fixture(sql);
    let toml = dir.path().join("p.toml");
    let err = stderr(&init_ok(&src, &toml));
    let db = TestDb::new();
    assert_exit(&run_pipeline(&toml, &db.url, &[]), 0, &[]);
    let o = sqlite2pg(&["verify", toml.to_str().unwrap(), "--target", &db.url]);
    assert_exit(&o, 0, &[]);
    (dir, toml, err, db)
}

/// Apple Messages' chat.db: `message.date` in nanoseconds since 2001 (the
/// unit by the numbers' magnitude), rounded to PostgreSQL's microseconds.
#[test]
fn messages_dates_are_nanoseconds_since_2001() {
    let ns = ["565366977500000000", "700000000123456789", "0"];
    let mut sql = String::from(
        "CREATE TABLE message(ROWID INTEGER PRIMARY KEY AUTOINCREMENT, guid TEXT UNIQUE NOT NULL, date INTEGER);
         CREATE TABLE chat(ROWID INTEGER PRIMARY KEY AUTOINCREMENT, guid TEXT);
         CREATE TABLE handle(ROWID INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT);
         CREATE TABLE chat_message_join(chat_id INTEGER, message_id INTEGER, PRIMARY KEY (chat_id, message_id));",
    );
    for (i, n) in ns.iter().enumerate() {
        sql.push_str(&format!(
            "INSERT INTO message VALUES({}, 'g{i}', {n});",
            i + 1
        ));
    }
    let (_dir, _toml, err, db) = moved(&sql);
    assert!(err.contains("Apple Messages' chat.db"), "{err}");
    assert!(
        err.contains(
            "`message`.`date`: epoch: its numbers are read as nanoseconds since 2001-01-01"
        ),
        "{err}"
    );
    let want = python(&format!(
        "from datetime import datetime, timedelta, timezone\n\
         base = datetime(2001, 1, 1, tzinfo=timezone.utc)\n\
         for n in {ns:?}:\n\
         \x20   us = (int(n) + 500) // 1000\n\
         \x20   print((base + timedelta(microseconds=us)).strftime('%Y-%m-%d %H:%M:%S.%f'))"
    ));
    assert_eq!(times(&db, "message", "rowid", "date"), want);
    assert_eq!(want[1], "2023-03-08 20:26:40.123457");
}

/// Chrome's History: `visits.visit_time` and `urls.last_visit_time` are
/// WebKit times, microseconds since 1601-01-01.
#[test]
fn chrome_history_times_are_webkit_microseconds() {
    let webkit = ["13200000000000000", "11644473600000000"];
    let mut sql = String::from(
        "CREATE TABLE urls(id INTEGER PRIMARY KEY AUTOINCREMENT, url LONGVARCHAR, last_visit_time INTEGER NOT NULL);
         CREATE TABLE visits(id INTEGER PRIMARY KEY, url INTEGER NOT NULL, visit_time INTEGER NOT NULL);
         CREATE TABLE meta(key LONGVARCHAR NOT NULL UNIQUE PRIMARY KEY, value LONGVARCHAR);",
    );
    for (i, w) in webkit.iter().enumerate() {
        sql.push_str(&format!(
            "INSERT INTO urls VALUES({0}, 'https://example.com/{0}', {w}); INSERT INTO visits VALUES({0}, {0}, {w});",
            i + 1
        ));
    }
    let (_dir, _toml, err, db) = moved(&sql);
    assert!(err.contains("Chrome's History"), "{err}");
    let want = python(&format!(
        "from datetime import datetime, timedelta, timezone\n\
         base = datetime(1601, 1, 1, tzinfo=timezone.utc)\n\
         for w in {webkit:?}:\n\
         \x20   print((base + timedelta(microseconds=int(w))).strftime('%Y-%m-%d %H:%M:%S.%f'))"
    ));
    assert_eq!(times(&db, "visits", "id", "visit_time"), want);
    assert_eq!(times(&db, "urls", "id", "last_visit_time"), want);
    assert_eq!(want[1], "1970-01-01 00:00:00.000000");
}
