//! Unit tests of the mapping file: parsing, validation messages and their
//! lines, round trip through `to_toml`.

use super::*;

const GOOD: &str = r#"
[source]
path = "app.db"

[target]
schema = "public"

[tables.users]
primary_key = ["id"]
[tables.users.columns.id]
type = "bigint"
identity = true
[tables.users.columns."Full Name"]
target = "full_name"
type = "text"
"#;

#[test]
fn parses_a_valid_file_in_order() {
    let p = Pipeline::parse(GOOD, Path::new("pipelines/x.toml")).unwrap();
    let t = p.table("users").unwrap();
    let names: Vec<_> = t.columns.keys().cloned().collect();
    assert_eq!(names, vec!["id", "Full Name"]);
    assert_eq!(p.source_path(), PathBuf::from("pipelines/app.db"));
    assert_eq!(p.pipeline_name(), "x");
}

#[test]
fn commit_every_defaults_to_table_and_a_table_can_override_it() {
    let two = format!(
        "{GOOD}\n[tables.events]\ncommit_every = \"chunk\"\n[tables.events.columns.id]\ntype = \"bigint\"\n"
    );
    let p = Pipeline::parse(&two, Path::new("x.toml")).unwrap();
    let plans = crate::config::plan::plan(&p).unwrap();
    let mode = |n: &str| plans.iter().find(|t| t.source == n).unwrap().commit_every;
    assert_eq!(mode("users"), CommitEvery::Table);
    assert_eq!(mode("events"), CommitEvery::Chunk);
    let all_chunk = two.replace(
        "[target]",
        "[defaults]\ncommit_every = \"chunk\"\n\n[target]",
    );
    let p = Pipeline::parse(&all_chunk, Path::new("x.toml")).unwrap();
    let plans = crate::config::plan::plan(&p).unwrap();
    assert!(plans.iter().all(|t| t.commit_every == CommitEvery::Chunk));
    let bad = two.replace("commit_every = \"chunk\"", "commit_every = \"rows\"");
    let e = Pipeline::parse(&bad, Path::new("x.toml")).unwrap_err();
    assert!(e.to_string().contains("commit_every"), "{e}");
    assert!(e.issues[0].line.is_some(), "{e}");
}

#[test]
fn maintenance_work_mem_takes_postgres_memory_units_within_its_range() {
    assert_eq!(memory_kb("512MB"), Some(512 * 1024));
    assert_eq!(memory_kb("2GB"), Some(2 * 1024 * 1024));
    assert_eq!(memory_kb("65536"), Some(65536));
    assert_eq!(memory_kb("1024kB"), Some(1024));
    for bad in [
        "", "512", "512mb", "1.5GB", "-1GB", "2TB", "1 parsec", "GB", "0512MB", "08MB", "0x10MB",
    ] {
        assert_eq!(memory_kb(bad), None, "{bad}");
    }
    let p = Pipeline::parse(GOOD, Path::new("x.toml")).unwrap();
    assert_eq!(p.defaults.maintenance_work_mem, "512MB");
    let set = GOOD.replace(
        "[target]",
        "[defaults]\nmaintenance_work_mem = \"2GB\"\n\n[target]",
    );
    let p = Pipeline::parse(&set, Path::new("x.toml")).unwrap();
    assert_eq!(p.defaults.maintenance_work_mem, "2GB");
    let bad = set.replace("\"2GB\"", "\"2 gigs\"");
    let e = Pipeline::parse(&bad, Path::new("x.toml")).unwrap_err();
    assert!(
        e.issues
            .iter()
            .any(|i| i.key == "defaults.maintenance_work_mem" && i.message.contains("2 gigs")),
        "{e}"
    );
}

#[test]
fn an_index_name_used_twice_or_taken_by_a_table_is_an_error() {
    let two = format!(
        "{GOOD}\n[[tables.users.indexes]]\nname = \"by_name\"\ncolumns = [\"full_name\"]\n\
         [tables.events.columns.id]\ntype = \"bigint\"\n\
         [[tables.events.indexes]]\nname = \"by_name\"\ncolumns = [\"id\"]\n\
         [[tables.events.indexes]]\nname = \"users\"\ncolumns = [\"id\"]\n"
    );
    let e = Pipeline::parse(&two, Path::new("x.toml")).unwrap_err();
    let keys: Vec<&str> = e.issues.iter().map(|i| i.key.as_str()).collect();
    assert_eq!(
        keys,
        [
            "tables.events.indexes.0.name",
            "tables.events.indexes.1.name"
        ],
        "{e}"
    );
    assert!(e.issues[0].message.contains("index of `users`"), "{e}");
    assert!(
        e.issues[1].message.contains("name of a target table"),
        "{e}"
    );
    let fine = two
        .replace("name = \"users\"", "name = \"events_id\"")
        .replacen(
            "name = \"by_name\"\ncolumns = [\"id\"]",
            "name = \"events_by_id\"\ncolumns = [\"id\"]",
            1,
        );
    Pipeline::parse(&fine, Path::new("x.toml")).unwrap();
}

#[test]
fn unknown_key_names_line_and_key() {
    let bad = GOOD.replace("identity = true", "identity = true\nidentiy = 1");
    let e = Pipeline::parse(&bad, Path::new("p.toml")).unwrap_err();
    assert_eq!(e.issues.len(), 1, "{e}");
    assert!(e.issues[0].message.contains("identiy"), "{e}");
    assert!(e.issues[0].line.is_some(), "{e}");
}

#[test]
fn reports_all_semantic_errors_with_lines() {
    let bad = GOOD
        .replace("type = \"bigint\"", "type = \"bigintt\"")
        .replace(
            "type = \"text\"",
            "type = \"text\"\ntimezone = \"Mars/Base\"",
        )
        .replace("primary_key = [\"id\"]", "primary_key = [\"nope\"]");
    let e = Pipeline::parse(&bad, Path::new("p.toml")).unwrap_err();
    let keys: Vec<_> = e.issues.iter().map(|i| i.key.as_str()).collect();
    assert!(keys.contains(&"tables.users.columns.id.type"), "{e}");
    assert!(
        keys.contains(&"tables.users.columns.\"Full Name\".timezone"),
        "{e}"
    );
    assert!(keys.contains(&"tables.users.primary_key"), "{e}");
    let ty = e
        .issues
        .iter()
        .find(|i| i.key.ends_with("id.type"))
        .unwrap();
    let line = bad
        .lines()
        .position(|l| l.contains("bigintt"))
        .map(|n| n + 1);
    assert_eq!(ty.line, line, "{e}");
}

#[test]
fn round_trips_through_to_toml() {
    let p = Pipeline::parse(GOOD, Path::new("x.toml")).unwrap();
    let text = p.to_toml().unwrap();
    let q = Pipeline::parse(&text, Path::new("x.toml")).unwrap();
    assert_eq!(q.table_maps.len(), 1);
    assert_eq!(
        q.table("users").unwrap().columns["Full Name"]
            .target
            .as_deref(),
        Some("full_name")
    );
}
