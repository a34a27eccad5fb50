//! Unit tests of the mapping file: parsing, validation messages and their
//! lines, round trip through `to_toml`.

use super::*;
use crate::config::validate::memory_kb;
use std::path::Path;

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

/// Every check of `validate`, each message and line pinned.
const EVERY_PROBLEM: &str = r#"
[source]
path = "app.db"

[target]
schema = "sqlite2pg"

[defaults]
chunk_size = 0
batch_size = 0
workers = 65
maintenance_work_mem = "2 gigs"
timezone = "Mars/Base"
true_values = ["yes"]
false_values = ["YES", "no"]

[tables.a]
target = "x"
primary_key = ["nope"]
[tables.a.columns.id]
type = "bigintt"
identity = true
[tables.a.columns.t]
type = "text"
timezone = "Moon/Crater"
sequence_floor = 5
invalid_utf8 = "bytea"
json_wrap = "v"
[tables.a.columns.u]
target = "t"
type = "text"
timezone = "Europe/Berlin"
[tables.a.columns.w]
target = "wwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwww"
type = "text"
identity = true
[tables.a.add_columns.t]
type = "nope"
not_null = true
[[tables.a.indexes]]
name = "x"
columns = []
[[tables.a.indexes]]
name = "a_ix"
columns = ["zz", "(lower(t))"]
[[tables.a.foreign_keys]]
columns = ["zz"]
references = "c"
ref_columns = ["p", "q"]
on_delete = "explode"
on_update = "set  NULL"
[[tables.a.foreign_keys]]
columns = ["id"]
references = "nowhere"

[tables.b]
target = "x"
[tables.b.columns.id]
type = "bigint"
include = false
[[tables.b.indexes]]
name = "a_ix"
columns = ["id"]

[tables.c]
include = false
[tables.c.columns.id]
type = "bigint"

[tables.d]
bogus = 1

[tables.e]
target = "eeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee"
[tables.e.add_columns.at]
type = "timestamptz"
default = "now()"
"#;

#[test]
fn every_validation_message_and_line_is_pinned() {
    let e = Pipeline::parse(EVERY_PROBLEM, Path::new("p.toml")).unwrap_err();
    let want = r#"
invalid mapping file p.toml (35 problems):
  p.toml:6: `target.schema`: `sqlite2pg` holds this tool's own state; load into another schema
  p.toml:9: `defaults.chunk_size`: must be at least 1
  p.toml:10: `defaults.batch_size`: must be at least 1
  p.toml:11: `defaults.workers`: must be between 1 and 64
  p.toml:12: `defaults.maintenance_work_mem`: `2 gigs` is not a memory size PostgreSQL accepts here: a whole number with kB, MB, GB or TB, from 1MB to 2147483647kB (e.g. `512MB`, `2GB`)
  p.toml:13: `defaults.timezone`: unknown time zone `Mars/Base` (use an IANA name such as `UTC` or `Europe/Berlin`)
  p.toml:15: `defaults.false_values`: `YES` is in both true_values and false_values
  p.toml:19: `tables.a.primary_key`: `nope` is not a target column of `x`
  p.toml:21: `tables.a.columns.id.type`: unsupported target type `bigintt` (supported: boolean, smallint, integer, bigint, real, double precision, numeric[(p[,s])], text, varchar[(n)], char[(n)], bytea, date, time, timetz, timestamp, timestamptz, interval, json, jsonb, uuid, inet, cidr, citext; in an existing table also native enums, domains over these and one-dimensional arrays of them)
  p.toml:22: `tables.a.columns.id.identity`: identity needs an integer type (smallint, integer, bigint)
  p.toml:25: `tables.a.columns.t.timezone`: unknown time zone `Moon/Crater`
  p.toml:26: `tables.a.columns.t.sequence_floor`: only meaningful with identity = true
  p.toml:27: `tables.a.columns.t.invalid_utf8`: `bytea` needs the column type to be bytea
  p.toml:28: `tables.a.columns.t.json_wrap`: json_wrap needs the column type to be json or jsonb
  p.toml:30: `tables.a.columns.u.target`: target column `t` appears twice in table `x`
  p.toml:34: `tables.a.columns.w.target`: `wwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwww` is longer than PostgreSQL's 63 bytes; shorten it
  p.toml:36: `tables.a.columns.w.identity`: identity needs an integer type (smallint, integer, bigint)
  p.toml:37: `tables.a.add_columns.t`: target column `t` appears twice in table `x`
  p.toml:37: `tables.a.add_columns.t.default`: a NOT NULL added column needs a default
  p.toml:38: `tables.a.add_columns.t.type`: unsupported target type `nope` (supported: boolean, smallint, integer, bigint, real, double precision, numeric[(p[,s])], text, varchar[(n)], char[(n)], bytea, date, time, timetz, timestamp, timestamptz, interval, json, jsonb, uuid, inet, cidr, citext; in an existing table also native enums, domains over these and one-dimensional arrays of them)
  p.toml:41: `tables.a.indexes.0.name`: index `x` of `x` has the name of a target table (tables and indexes share a schema's names)
  p.toml:42: `tables.a.indexes.0.columns`: empty
  p.toml:45: `tables.a.indexes.1.columns`: `zz` is not a target column of `x` (write an expression in parentheses)
  p.toml:47: `tables.a.foreign_keys.0.columns`: `zz` is not a target column of `x`
  p.toml:48: `tables.a.foreign_keys.0.references`: `c` is excluded (include = false): drop this foreign key or include the table
  p.toml:49: `tables.a.foreign_keys.0.ref_columns`: must have as many columns as `columns`
  p.toml:50: `tables.a.foreign_keys.0.on_delete`: `explode` is not one of cascade, restrict, set null, set default, no action
  p.toml:54: `tables.a.foreign_keys.1.references`: `nowhere` is not a table of this mapping
  p.toml:57: `tables.b.target`: target table `x` is also the target of source table `a`
  p.toml:58: `tables.b.columns`: no included column
  p.toml:62: `tables.b.indexes.0.name`: index `a_ix` is also the name of an index of `x` (index names are per schema)
  p.toml:63: `tables.b.indexes.0.columns`: `id` is not a target column of `x` (write an expression in parentheses)
  p.toml:70: `tables.d.columns`: no included column
  p.toml:71: `tables.d.bogus`: unknown field `bogus`, expected one of `target`, `include`, `filter`, `without_rowid`, `reject_limit`, `commit_every`, `primary_key`, `columns`, `add_columns`, `indexes`, `foreign_keys`, `checks`
  p.toml:74: `tables.e.target`: `eeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee` is longer than PostgreSQL's 63 bytes; shorten it
"#;
    assert_eq!(e.to_string(), &want[1..]);
}

/// The keys of the seed pipeline's features: `on_null`, `after`, foreign
/// keys to a target table outside the pipeline. Each wrong use is named.
const OUTSIDE_AND_ON_NULL_PROBLEMS: &str = r#"
[source]
path = "app.db"

[tables.runs]
[tables.runs.columns.id]
type = "text"
[tables.runs.columns.status]
type = "text"
not_null = true
on_null = "default"
[tables.runs.columns.created]
type = "timestamp"
default = "CURRENT_TIMESTAMP"
on_null = "default"
[tables.runs.columns.n]
type = "integer"
default = "'1.5'"
on_null = "default"
[tables.runs.columns.j]
type = "json"
json_wrap = "r"
default = "'{}'"
on_null = "default"
[tables.runs.columns.k]
type = "integer"
default = "'7'::bigint"
on_null = "default"
[tables.runs.add_columns.user_id]
type = "text"
after = "nowhere"
[tables.runs.add_columns.p]
type = "text"
after = "q"
[tables.runs.add_columns.q]
type = "text"
[[tables.runs.foreign_keys]]
columns = ["user_id"]
references_target = "users"
[[tables.runs.foreign_keys]]
columns = ["user_id"]
references = "runs"
references_target = "users"
ref_columns = ["id"]
[[tables.runs.foreign_keys]]
columns = ["user_id"]
[[tables.runs.foreign_keys]]
columns = ["id"]
references = "runs"
if_exists = true
[[tables.runs.foreign_keys]]
columns = ["id"]
references_target = "runs"
ref_columns = ["id"]
"#;

#[test]
fn on_null_after_and_outside_foreign_keys_are_validated() {
    let e = Pipeline::parse(OUTSIDE_AND_ON_NULL_PROBLEMS, Path::new("p.toml")).unwrap_err();
    let want = r#"
invalid mapping file p.toml (12 problems):
  p.toml:11: `tables.runs.columns.status.on_null`: on_null = "default" needs the column's `default` (a constant) to write for a NULL cell
  p.toml:15: `tables.runs.columns.created.on_null`: the default `CURRENT_TIMESTAMP` is not a constant (a quoted literal, a number, true or false); binary COPY cannot ask PostgreSQL to evaluate a default per row, so only a constant can replace a NULL. Write the constant, or drop on_null to reject such rows
  p.toml:19: `tables.runs.columns.n.on_null`: the default `'1.5'` does not convert to integer: text `1.5` is not a valid integer
  p.toml:24: `tables.runs.columns.j.on_null`: json_wrap already writes {} for a NULL cell; drop on_null
  p.toml:28: `tables.runs.columns.k.on_null`: the default `'7'::bigint` is cast to `bigint`, not to the column's type integer; write the constant without a cast or cast to integer
  p.toml:31: `tables.runs.add_columns.user_id.after`: `nowhere` is not a target column of `runs` listed before this one (a loaded column, or an added column earlier in the file)
  p.toml:34: `tables.runs.add_columns.p.after`: `q` is not a target column of `runs` listed before this one (a loaded column, or an added column earlier in the file)
  p.toml:37: `tables.runs.foreign_keys.0.ref_columns`: required with references_target: the columns of `users` this key references
  p.toml:43: `tables.runs.foreign_keys.1.references_target`: give either `references` (a source table of this mapping) or `references_target` (a target table outside the pipeline), not both
  p.toml:45: `tables.runs.foreign_keys.2.references`: missing: `references` (a source table of this mapping) or `references_target` (a target table outside the pipeline)
  p.toml:50: `tables.runs.foreign_keys.3.if_exists`: only meaningful with references_target (a table of this pipeline always exists)
  p.toml:53: `tables.runs.foreign_keys.4.references_target`: `runs` is a target table of this pipeline (source table `runs`): write references = "runs" instead
"#;
    assert_eq!(e.to_string(), &want[1..]);
}

#[test]
fn constant_defaults_are_read_as_postgresql_reads_them() {
    use crate::config::plan::constant_literal;
    let lit = |e: &str| constant_literal(e).map(|(l, c)| (l, c.map(str::to_string)));
    assert_eq!(lit("'pending'"), Some(("pending".into(), None)));
    assert_eq!(lit(" 'it''s' "), Some(("it's".into(), None)));
    assert_eq!(lit("'[]'::json"), Some(("[]".into(), Some("json".into()))));
    assert_eq!(lit("30"), Some(("30".into(), None)));
    assert_eq!(lit("-1.5"), Some(("-1.5".into(), None)));
    assert_eq!(lit("TRUE"), Some(("true".into(), None)));
    assert_eq!(lit("'x' || 'y'"), None);
    assert_eq!(lit("CURRENT_TIMESTAMP"), None);
    assert_eq!(lit("now()"), None);
    assert_eq!(lit("NULL"), None);
    assert_eq!(lit("'open"), None);
    assert_eq!(lit("1 + 1"), None);
}

#[test]
fn on_null_default_plans_the_converted_constant_and_added_columns_go_after() {
    let toml = r#"
[source]
path = "app.db"
[tables.runs]
[tables.runs.columns.id]
type = "text"
[tables.runs.columns.status]
type = "text"
not_null = true
default = "'pending'"
on_null = "default"
[tables.runs.columns.turns]
type = "integer"
default = "30"
on_null = "default"
[tables.runs.columns.tags]
type = "jsonb"
default = "'[]'::jsonb"
on_null = "default"
[tables.runs.add_columns.z]
type = "text"
[tables.runs.add_columns.user_id]
type = "text"
after = "id"
[tables.runs.add_columns.priority]
type = "text"
after = "status"
[tables.runs.add_columns.user2]
type = "text"
after = "id"
"#;
    let p = Pipeline::parse(toml, Path::new("x.toml")).unwrap();
    let t = crate::config::plan::plan(&p).unwrap().remove(0);
    use crate::pg::value::Value;
    let nv: Vec<_> = t.columns.iter().map(|c| c.null_value.clone()).collect();
    assert_eq!(
        format!("{nv:?}"),
        format!(
            "{:?}",
            [
                None,
                Some(Value::Text("pending".into())),
                Some(Value::Int4(30)),
                Some(Value::Json("[]".into())),
            ]
        )
    );
    let order: Vec<&str> = t.create_order().into_iter().map(|(n, _, _)| n).collect();
    assert_eq!(
        order,
        ["id", "user_id", "user2", "status", "priority", "turns", "tags", "z"]
    );
}

/// More columns than PostgreSQL allows in a table, and a system column's
/// name, are mapping errors with their keys, found before any run.
#[test]
fn too_many_columns_and_system_column_names_are_refused() {
    let mut wide = String::from("[source]\npath = \"a.db\"\n[tables.w]\n");
    for i in 0..1601 {
        wide.push_str(&format!("[tables.w.columns.c{i}]\ntype = \"text\"\n"));
    }
    let e = Pipeline::parse(&wide, Path::new("x.toml"))
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("`w` would have 1601 columns; PostgreSQL allows 1600"),
        "{e}"
    );
    let sys = "[source]\npath = \"a.db\"\n[tables.t.columns.xmin]\ntype = \"bigint\"\n";
    let e = Pipeline::parse(sys, Path::new("x.toml"))
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("`xmin` is the name of a PostgreSQL system column"),
        "{e}"
    );
}

#[test]
fn a_generated_column_takes_no_default_or_identity() {
    let toml = r#"
[source]
path = "x.db"
[tables.t.columns]
a = { type = "bigint" }
b = { type = "bigint", generated = '"a" * 2', identity = true }
c = { type = "bigint", generated = '"a" * 3' }
"#;
    let e = Pipeline::parse(toml, Path::new("p.toml"))
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("tables.t.columns.b.generated") && e.contains("takes no identity"),
        "{e}"
    );
    assert!(!e.contains("columns.c"), "{e}");
}
