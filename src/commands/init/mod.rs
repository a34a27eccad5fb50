//! `sqlite2pg init`: introspect and profile a SQLite file and write a
//! mapping file with every inferred rule spelled out, and the facts behind
//! them as comments, for the operator to review before the window.
//!
//! This file runs the command; `profile` reads the cells, `infer` proposes
//! the pipeline (the target names and types from `names`, then each table's
//! map from `table_map`), `render` writes it out.

mod checks;
mod choose;
mod collation;
mod epoch_origin;
mod extras;
mod framework;
mod infer;
mod key_groups;
mod names;
mod orphans;
mod profile;
mod render;
mod table_map;
#[cfg(test)]
mod tests;

pub use choose::{choose_type, Choice};
pub use framework::{detect as detect_framework, label as framework_label, Recognised};
pub use infer::{build_pipeline, build_pipeline_with};

pub use profile::{profile, ColumnProfile, Profiles, TableProfile, TextFormats};
pub use render::render;

use crate::config::mapping::NameCase;
use crate::sqlite::read::source;
use crate::sqlite::schema::introspect::introspect;
use anyhow::{Context, Result};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

/// `sqlite2pg init`: write a mapping file for `sqlite` to `out`, or to
/// `pipelines/<stem>.toml`. Refuses to overwrite an existing file unless
/// `force`; even then the old file is only replaced once the new one is
/// complete, so a failed init leaves it as it was.
/// `sample`: profile at most this many rows per table (the first ones).
/// `keep_declared`: every column keeps its declared type's mapping.
/// `names`: the case of the target names (`None`: [`names_for`] decides).
/// Every warning also goes to stderr, grouped by table, with a count.
pub fn run_init(
    sqlite: &Path,
    out: Option<&Path>,
    sample: Option<u64>,
    force: bool,
    keep_declared: bool,
    names: Option<NameCase>,
) -> Result<PathBuf> {
    let out: PathBuf = match out {
        Some(o) => o.to_path_buf(),
        None => default_output(sqlite),
    };
    if out.exists() && !force {
        // A rerun as it is would refuse again: a usage error (exit 2).
        return Err(crate::error::usage(format!(
            "{o} already exists; not overwriting it. Pass --force to replace it (only once the \
             new mapping is complete), or -o OTHER.toml to write another",
            o = out.display()
        )));
    }
    let conn = source::open_readonly(sqlite)?;
    source::prefetch(sqlite);
    let t0 = std::time::Instant::now();
    // No integrity check up front: `check` and `run` make it before they
    // read for real (`run` before it touches the target), and the profile
    // below reads every row anyway. When a damaged file fails here,
    // quick_check's verdict is the clearer error.
    let explain = |e: anyhow::Error| match source::quick_check(&conn, sqlite) {
        Err(verdict) => verdict,
        Ok(()) => e,
    };
    let schema = introspect(&conn).map_err(explain)?;
    tracing::info!(
        "read the schema of {} table(s) ({:.1}s)",
        schema.tables.len(),
        t0.elapsed().as_secs_f64()
    );
    let t0 = std::time::Instant::now();
    let profiles = profile(sqlite, &schema, sample).map_err(explain)?;
    tracing::info!(
        "profiled every column of {} ({:.1}s)",
        sqlite.display(),
        t0.elapsed().as_secs_f64()
    );
    let out_dir = out
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    std::fs::create_dir_all(out_dir)
        .with_context(|| format!("cannot create directory {}", out_dir.display()))?;
    // The app's framework, from its bookkeeping table: the case of the
    // names, its conventions (not with `keep_declared`, which keeps every
    // declared mapping) and the path to recommend.
    let recognised = framework::detect(&schema);
    let (case, why) = names_for(names, recognised.as_ref());
    let (mut p, mut warnings) =
        build_pipeline_with(&schema, &profiles, sqlite, out_dir, keep_declared, case);
    p.defaults.names = Some(case);
    if let Some(r) = &recognised {
        p.source.framework = Some(r.framework);
        if !keep_declared {
            framework::apply_conventions(r.framework, &mut p, &schema, &profiles, &mut warnings);
        }
    }
    // Views: translated over the target names, or named with the reason.
    let views = crate::sqlite::sql::views::propose(&conn, &p).map_err(explain)?;
    add_views(&mut p, &views, &mut warnings);
    // Each view that did not translate gets its columns typed from its
    // rows, so `materialize` is one word to change.
    let refused: Vec<&str> = views
        .iter()
        .filter(|v| v.result.is_err())
        .map(|v| v.name.as_str())
        .collect();
    let as_tables = views_as_tables(
        &conn,
        sqlite,
        &refused,
        &mut warnings,
        sample,
        out_dir,
        (keep_declared, case),
    )
    .map_err(explain)?;
    for (name, columns) in &as_tables {
        if let Some(v) = p.views.get_mut(name) {
            v.columns = columns.clone();
        }
    }
    // A view refused only for reading refused views: its SELECT over the
    // tables `materialize` would make of them, written for when they are.
    let over_materialized = over_materialized(&conn, &p, &views, &as_tables).map_err(explain)?;
    for (name, sql, _) in &over_materialized {
        if let Some(v) = p.views.get_mut(name) {
            v.sql = Some(format!("{sql}\n"));
        }
    }
    // Rows whose foreign key names no parent: counted per mapped key and
    // written into its entry (`orphans = N`) for the operator to
    // acknowledge.
    let t0 = std::time::Instant::now();
    orphans::acknowledge(&conn, &mut p, &mut warnings).map_err(explain)?;
    tracing::info!(
        "checked the foreign keys of {} ({:.1}s)",
        sqlite.display(),
        t0.elapsed().as_secs_f64()
    );
    let header_advice = recognised.as_ref().map(|r| {
        let name = out.file_name().map_or(out.as_path(), Path::new);
        framework::advice(r, name)
    });
    let text = render(&p, &schema, &profiles, &warnings, header_advice.as_deref())?;
    let text = render::with_views(&text, &views, &over_materialized)?;
    install(&out, out_dir, text.as_bytes(), force)?;
    eprint!("{}", warnings_report(&warnings, &out));
    eprintln!("init: {why}");
    if let Some(r) = &recognised {
        for l in framework::advice(r, &out).lines() {
            eprintln!("init: {l}");
        }
    }
    Ok(out)
}

/// Each view as `init` writes it: translated (`create`), refused for a
/// column's type only (`auto`, decided again by `check` and `run`), or
/// refused (`skip`), the refusal named in the warnings.
fn add_views(
    p: &mut crate::config::mapping::Pipeline,
    views: &[crate::sqlite::sql::views::Proposal],
    warnings: &mut Vec<String>,
) {
    for v in views {
        use crate::config::mapping::{ViewAction, ViewMap};
        let map = match &v.result {
            Ok(t) => ViewMap {
                action: ViewAction::Create,
                sql: Some(format!("{}\n", t.sql)),
                columns: toml::map::Map::new(),
                reject_limit: None,
            },
            Err(why) => {
                warnings.push(crate::sqlite::schema::not_moved::view_not_moved(
                    &v.name,
                    why,
                    &v.source_sql,
                ));
                // Refused only for a column's type: decided again by
                // `check` and `run` over the mapping as it is then.
                let auto = why.starts_with(crate::sqlite::sql::views::TYPE_REFUSED);
                ViewMap {
                    action: if auto {
                        ViewAction::Auto
                    } else {
                        ViewAction::Skip
                    },
                    sql: None,
                    columns: toml::map::Map::new(),
                    reject_limit: None,
                }
            }
        };
        p.views.insert(v.name.clone(), map);
    }
}

/// The case of the target names, and why, as said on the screen: as asked
/// (`--names`), else `keep` for a file of a recognised framework (every one
/// `init` recognises quotes the names in the queries it makes, so they must
/// stay as its models spell them), else `lower`, pgloader's default: an
/// app written against SQLite, which compares names without case, queries
/// them unquoted, and PostgreSQL folds unquoted names to lower case.
pub fn names_for(asked: Option<NameCase>, recognised: Option<&Recognised>) -> (NameCase, String) {
    match (asked, recognised) {
        (Some(NameCase::Lower), _) => (NameCase::Lower, "names: lower case (--names lower)".into()),
        (Some(NameCase::Keep), _) => (
            NameCase::Keep,
            "names: kept as the file spells them (--names keep)".into(),
        ),
        (None, Some(r)) => (
            NameCase::Keep,
            format!(
                "names: kept as the file spells them, since {}'s queries quote names \
                 (--names lower to fold them)",
                framework::label(r.framework)
            ),
        ),
        (None, None) => (
            NameCase::Lower,
            "names: lower case, as PostgreSQL folds unquoted names (pgloader's default; \
             no framework recognised whose queries quote names; --names keep to keep them)"
                .into(),
        ),
    }
}

/// Where `init` writes the mapping of `sqlite` when `-o` does not say:
/// `pipelines/<stem>.toml`.
pub fn default_output(sqlite: &Path) -> PathBuf {
    let stem = sqlite
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "pipeline".into());
    Path::new("pipelines").join(format!("{stem}.toml"))
}

/// The columns of each named view as `init` would map a table of its rows
/// (profiled the same way), by view name.
fn views_as_tables(
    conn: &rusqlite::Connection,
    sqlite: &Path,
    names: &[&str],
    warnings: &mut Vec<String>,
    sample: Option<u64>,
    out_dir: &Path,
    (keep_declared, case): (bool, NameCase),
) -> Result<Vec<(String, toml::map::Map<String, toml::Value>)>> {
    // A view SQLite cannot read (over a dropped table, a function failing
    // on its rows) is named and gets no columns: it cannot be
    // materialized either.
    let mut tables = Vec::new();
    for n in names {
        let read = crate::sqlite::schema::introspect::view_as_table(conn, n).and_then(|t| {
            let one = crate::sqlite::schema::model::SourceSchema {
                tables: vec![t],
                views: Vec::new(),
                warnings: Vec::new(),
            };
            let prof = profile(sqlite, &one, sample)?;
            Ok((one.tables, prof))
        });
        match read {
            Ok((t, prof)) => tables.push((t, prof)),
            Err(e) => warnings.push(format!(
                "view `{n}`: SQLite cannot read its rows ({}): it cannot be materialized either",
                // SQLite's own words, under our one line of context.
                e.chain().nth(1).unwrap_or(e.root_cause())
            )),
        }
    }
    if tables.is_empty() {
        return Ok(Vec::new());
    }
    let mut profiles = crate::commands::init::profile::Profiles::new();
    let tables = tables
        .into_iter()
        .flat_map(|(t, prof)| {
            profiles.extend(prof);
            t
        })
        .collect();
    let schema = crate::sqlite::schema::model::SourceSchema {
        tables,
        views: Vec::new(),
        warnings: Vec::new(),
    };
    // Its warnings are about tables; a view not moved needs none of them.
    let (vp, _) = build_pipeline_with(&schema, &profiles, sqlite, out_dir, keep_declared, case);
    vp.table_maps
        .into_iter()
        .map(|(name, t)| {
            let mut columns = toml::map::Map::new();
            for (c, m) in t.columns {
                columns.insert(c, toml::Value::try_from(m)?);
            }
            Ok((name, columns))
        })
        .collect()
}

/// Views refused because they read refused views, translated as if those
/// were materialized (tables with the columns `init` wrote for them):
/// `(view, its SELECT, the refused views it reads)`.
fn over_materialized(
    conn: &rusqlite::Connection,
    p: &crate::config::mapping::Pipeline,
    views: &[crate::sqlite::sql::views::Proposal],
    as_tables: &[(String, toml::map::Map<String, toml::Value>)],
) -> Result<Vec<(String, String, Vec<String>)>> {
    use crate::config::mapping::{TableMap, ViewAction};
    let mut trial = p.clone();
    for (name, columns) in as_tables {
        let Ok(columns) = toml::Value::Table(columns.clone()).try_into() else {
            continue;
        };
        let table = TableMap {
            columns,
            ..TableMap::default()
        };
        trial.table_maps.push((name.clone(), table.of_view()));
        if let Some(v) = trial.views.get_mut(name) {
            v.action = ViewAction::Materialize;
        }
    }
    let dependent = |v: &&crate::sqlite::sql::views::Proposal| {
        v.result
            .as_ref()
            .is_err_and(|why| why.starts_with(crate::sqlite::sql::views::READS_REFUSED))
    };
    if !views.iter().any(|v| dependent(&v)) {
        return Ok(Vec::new());
    }
    let again = crate::sqlite::sql::views::propose(conn, &trial)?;
    let mut out = Vec::new();
    for v in views.iter().filter(dependent) {
        if let Some(Ok(t)) = again.iter().find(|a| a.name == v.name).map(|a| &a.result) {
            let read = crate::sqlite::sql::views::relations_read(&t.sql);
            let reads: Vec<String> = as_tables
                .iter()
                .map(|(n, _)| n.clone())
                .filter(|n| read.contains(n))
                .collect();
            out.push((v.name.clone(), t.sql.clone(), reads));
        }
    }
    Ok(out)
}

/// The warnings for stderr: grouped by the table each names first (in the
/// order first seen), then a closing count. Empty when there are none.
pub fn warnings_report(warnings: &[String], out: &Path) -> String {
    if warnings.is_empty() {
        return String::new();
    }
    let mut groups: Vec<(String, Vec<&str>)> = Vec::new();
    for w in warnings {
        let key = table_of(w).unwrap_or_else(|| "general".into());
        match groups.iter_mut().find(|(k, _)| *k == key) {
            Some((_, v)) => v.push(w),
            None => groups.push((key, vec![w])),
        }
    }
    let mut s = String::new();
    for (k, ws) in &groups {
        s.push_str(&format!("warning: {k}:\n"));
        for w in ws {
            s.push_str(&format!(
                "  - {}\n",
                w.split_whitespace().collect::<Vec<_>>().join(" ")
            ));
        }
    }
    s.push_str(&format!(
        "init: {} warning(s) in {} group(s); they are also at the top of {}\n",
        warnings.len(),
        groups.len(),
        out.display()
    ));
    s
}

/// The first backquoted name of a warning (its table, mostly).
fn table_of(w: &str) -> Option<String> {
    let start = w.find('`')? + 1;
    let end = start + w[start..].find('`')?;
    Some(format!("`{}`", &w[start..end]))
}

/// Put `text` at `out` (in `dir`) in one step: it is written to a temporary
/// file beside `out`, then renamed into place, so a failure leaves neither a
/// partial mapping nor a missing one. With `replace` the rename goes over an
/// existing `out`; without, `out` is claimed first with `create_new`.
fn install(out: &Path, dir: &Path, text: &[u8], replace: bool) -> Result<()> {
    use std::io::Write;
    static SEQ: AtomicU64 = AtomicU64::new(0);
    let name = out.file_name().unwrap_or(out.as_os_str()).to_string_lossy();
    let tmp = dir.join(format!(
        ".{name}.{}-{}.tmp",
        std::process::id(),
        SEQ.fetch_add(1, Ordering::Relaxed)
    ));
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&tmp)
        .with_context(|| format!("cannot create {} (via {})", out.display(), tmp.display()))?;
    // From here on the temporary file is ours: removed on any failure.
    let written = f.write_all(text).and_then(|()| f.sync_all());
    drop(f);
    if let Err(e) = written {
        let _ = std::fs::remove_file(&tmp);
        return Err(e).with_context(|| format!("cannot write {}", out.display()));
    }
    if !replace {
        // create_new: never clobber a file that appeared meanwhile.
        let claimed = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(out);
        if let Err(e) = claimed {
            let _ = std::fs::remove_file(&tmp);
            return Err(e).with_context(|| format!("cannot create {}", out.display()));
        }
    }
    if let Err(e) = std::fs::rename(&tmp, out) {
        let _ = std::fs::remove_file(&tmp);
        if !replace {
            let _ = std::fs::remove_file(out); // the empty file claimed above
        }
        return Err(e).with_context(|| format!("cannot write {}", out.display()));
    }
    Ok(())
}

/// What `init` reports: the mapping it wrote, and what to run next.
pub struct InitReport {
    pub written: PathBuf,
}

impl InitReport {
    pub fn print(&self) {
        crate::ui::out::outln!(
            "wrote {w} — review it, then:\n  sqlite2pg check {w}\n  sqlite2pg run {w} --target postgres://USER@HOST/DB   (or set DATABASE_URL)",
            w = self.written.display()
        );
    }

    pub fn exit_class(&self) -> crate::error::ExitClass {
        crate::error::ExitClass::Success
    }
}
