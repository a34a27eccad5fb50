//! Column defaults through real runs: each is translated exactly or
//! dropped with a warning naming the column, and `prepare` never fails on
//! one. Year 0 is 1 BC; SQLite's `localtime` is the pipeline's timezone.

use crate::common::*;

const SQL: &str = r#"
CREATE TABLE events (
    id INTEGER PRIMARY KEY,
    starts TEXT DEFAULT '0000-01-01T00:00:00.000Z',
    day DATE DEFAULT '0000-01-01',
    zero DATETIME DEFAULT '0000-00-00 00:00:00',
    local_at DATETIME DEFAULT (datetime('now','localtime')),
    utc_at DATETIME DEFAULT CURRENT_TIMESTAMP,
    n INTEGER DEFAULT 'abc',
    label TEXT DEFAULT 'x'
);
INSERT INTO events (id, starts, day, zero, local_at, utc_at, n, label) VALUES
    (1, '2024-01-02T03:04:05.000Z', '2024-01-02', '2024-01-02 03:04:05', '2024-01-02 03:04:05',
     '2024-01-02 03:04:05', 1, 'a');
"#;

#[test]
fn defaults_translate_or_are_dropped_by_name_and_prepare_never_fails() {
    let (dir, src) = sqlite_fixture(SQL);
    let toml = dir.path().join("p.toml");
    let o = init_ok(&src, &toml);
    let err = stderr(&o);
    // Dropped at init, each named with its column and why.
    assert!(
        err.contains("`events`.`zero`: cannot translate default `'0000-00-00 00:00:00'`")
            && err.contains("zero date"),
        "{err}"
    );
    assert!(
        err.contains("`events`.`n`: cannot translate default `'abc'` for a bigint column"),
        "{err}"
    );
    // Local time: said, with the zone it follows.
    assert!(
        err.contains("`events`.`local_at`: default `datetime('now','localtime')` is SQLite's local wall-clock time"),
        "{err}"
    );
    let text = std::fs::read_to_string(&toml).unwrap();
    assert!(
        text.contains("default = \"'0001-01-01 00:00:00+00 BC'\""),
        "{text}"
    );
    assert!(text.contains("default = \"'0001-01-01 BC'\""), "{text}");
    assert!(
        text.contains("default = \"(now() AT TIME ZONE 'UTC')\""),
        "{text}"
    );
    // The pipeline's local time is Tokyo's: its timezone, and the default
    // that follows it (as the note says).
    edit_mapping(&toml, "timezone = \"UTC\"", "timezone = \"Asia/Tokyo\"");
    let local = "[tables.events.columns.local_at]\ntype = \"timestamp\"\n";
    edit_mapping(
        &toml,
        local,
        &format!("{local}default = \"(now() AT TIME ZONE 'Asia/Tokyo')\"\n"),
    );
    let text = std::fs::read_to_string(&toml).unwrap();
    let text = text.replacen("default = \"(now() AT TIME ZONE 'UTC')\"\n", "", 1);
    std::fs::write(&toml, &text).unwrap();
    // A default the column's type cannot hold, written by hand: prepare
    // drops it, naming it, and the run goes on.
    let n = "[tables.events.columns.n]\ntype = \"bigint\"\n";
    edit_mapping(&toml, n, &format!("{n}default = \"'abc'\"\n"));

    // check (no target) finds it too, with the converter run uses.
    let o = sqlite2pg(&["check", toml.to_str().unwrap()]);
    assert_exit(&o, 0, &["prepare would drop a default: table events, column n: default 'abc' does not fit its type bigint"]);

    let db = TestDb::new();
    let o = run_pipeline(&toml, &db.url, &[]);
    assert_exit(&o, 0, &["table events, column n: default 'abc' dropped: PostgreSQL refuses it for a bigint column"]);
    assert_eq!(db.scalar("SELECT count(*) FROM public.events"), "1");

    // A row of defaults, as the application would insert it.
    db.exec("INSERT INTO public.events (id) VALUES (2)");
    let row = db.query(
        "SELECT starts::text, day::text, zero IS NULL, n IS NULL, label, \
         abs(extract(epoch from local_at - (now() AT TIME ZONE 'Asia/Tokyo'))) < 60, \
         abs(extract(epoch from utc_at - (now() AT TIME ZONE 'UTC'))) < 60 \
         FROM public.events WHERE id = 2",
    );
    assert_eq!(
        row,
        vec![vec![
            "0001-01-01 00:00:00+00 BC".to_string(),
            "0001-01-01 BC".into(),
            "t".into(),
            "t".into(),
            "x".into(),
            "t".into(),
            "t".into(),
        ]],
    );
}
