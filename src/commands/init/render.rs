//! Rendering for `init`: the proposed pipeline as mapping-file TOML, with
//! the schema facts, the column profiles and the warnings written as
//! comments for the operator's review.

use super::profile::Profiles;
use crate::config::mapping::Pipeline;
use crate::sqlite::schema::model::SourceSchema;
use anyhow::{Context, Result};
use std::path::Path;

fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn comment_lines(text: &str) -> String {
    text.lines()
        .map(|l| {
            if l.is_empty() {
                "#\n".to_string()
            } else {
                format!("# {l}\n")
            }
        })
        .collect()
}

/// Render the mapping file: the pipeline as TOML, with the schema facts, the
/// column profiles and the warnings as comments. The result is checked to
/// parse back. `advice`: the recognised framework's recommended path, for
/// the header.
pub fn render(
    p: &Pipeline,
    schema: &SourceSchema,
    profiles: &Profiles,
    warnings: &[String],
    advice: Option<&str>,
) -> Result<String> {
    let text = p.to_toml().context("cannot serialize the mapping")?;
    let mut doc: toml_edit::DocumentMut = text.parse().context("cannot re-read the mapping")?;
    if let Some(tables) = doc.get_mut("tables").and_then(|t| t.as_table_mut()) {
        for (name, _) in &p.table_maps {
            let Some(st) = schema.tables.iter().find(|t| &t.name == name) else {
                continue;
            };
            let Some(tt) = tables.get_mut(name).and_then(|t| t.as_table_mut()) else {
                continue;
            };
            tt.set_implicit(false);
            let mut facts = vec![format!("rows: {}", st.row_count)];
            if st.without_rowid {
                facts.push("WITHOUT ROWID".into());
            }
            if st.autoincrement {
                facts.push(match st.sequence {
                    Some(n) => format!("AUTOINCREMENT (sqlite_sequence: {n})"),
                    None => "AUTOINCREMENT".into(),
                });
            }
            if let Some(m) = &st.virtual_module {
                facts.push(format!(
                    "virtual table ({m}) moved as a plain table, its rowid as a column; full-text search in PostgreSQL is a tsvector column with a GIN index (not created)"
                ));
            } else if let Some(a) = &st.rowid_alias {
                facts.push(format!("rowid alias: {a}"));
            }
            let mut head = format!(
                "\n# source table `{}` — {}\n",
                one_line(name),
                facts.join(", ")
            );
            for chk in &st.checks {
                head.push_str(&format!("# source CHECK ({})\n", one_line(chk)));
            }
            tt.decor_mut().set_prefix(head);
            if let Some(fks) = tt
                .get_mut("foreign_keys")
                .and_then(|f| f.as_array_of_tables_mut())
            {
                for fk in fks.iter_mut() {
                    if let Some(mut k) = fk.key_mut("orphans") {
                        k.leaf_decor_mut().set_prefix(super::orphans::COMMENT);
                    }
                }
            }
            let prof = profiles.get(name);
            if let Some(cols) = tt.get_mut("columns").and_then(|c| c.as_table_mut()) {
                for sc in &st.columns {
                    let Some(ct) = cols.get_mut(&sc.name).and_then(|c| c.as_table_mut()) else {
                        continue;
                    };
                    let mut d = vec![if sc.declared_type.trim().is_empty() {
                        "(no type)".to_string()
                    } else {
                        one_line(&sc.declared_type)
                    }];
                    if sc.pk_position > 0 {
                        d.push(format!("PRIMARY KEY #{}", sc.pk_position));
                    }
                    if sc.not_null {
                        d.push("NOT NULL".into());
                    }
                    if let Some(def) = &sc.default {
                        d.push(format!("default {}", one_line(def)));
                    }
                    if let Some(coll) = &sc.collation {
                        d.push(format!("COLLATE {}", one_line(coll)));
                    }
                    if sc.hidden >= 2 {
                        let kind = if sc.hidden == 3 { "STORED" } else { "VIRTUAL" };
                        d.push(match &sc.generated {
                            Some(e) => format!("GENERATED AS ({}) {kind}", one_line(e)),
                            None => format!("GENERATED {kind}"),
                        });
                    }
                    let mut line = format!("# declared: {}\n", d.join(", "));
                    if let Some(pr) = prof.and_then(|p| p.get(&sc.name)) {
                        let mut parts = Vec::new();
                        for (n, what) in [
                            (pr.integer, "integer"),
                            (pr.real, "real"),
                            (pr.text, "text"),
                            (pr.blob, "blob"),
                            (pr.null, "null"),
                        ] {
                            if n > 0 {
                                parts.push(format!("{n} {what}"));
                            }
                        }
                        if pr.scale_loss > 0 {
                            parts.push(format!("{} beyond the declared precision", pr.scale_loss));
                        }
                        if let Some(f) = pr.text_formats.describe() {
                            parts.push(format!("text as: {f}"));
                        }
                        if let (Some(lo), Some(hi)) = (pr.min_number, pr.max_number) {
                            parts.push(format!("numbers {}..{}", short_num(lo), short_num(hi)));
                        }
                        if !parts.is_empty() {
                            line.push_str(&format!("# cells: {}\n", parts.join(", ")));
                        }
                    }
                    // This column's decisions (an upgrade, a widening),
                    // beside it as well as in the list at the top.
                    let tag = format!("`{name}`.`{}`: ", sc.name);
                    for w in warnings.iter().filter_map(|w| w.strip_prefix(&tag)) {
                        line.push_str(&format!("# init: {}\n", one_line(w)));
                    }
                    ct.decor_mut().set_prefix(line);
                }
            }
        }
    }

    let mut header = String::new();
    header.push_str(&format!(
        "sqlite2pg mapping file, generated by `sqlite2pg init` on {}\n",
        chrono::Utc::now().format("%Y-%m-%d %H:%M UTC")
    ));
    header.push_str(&format!("source: {}\n", p.source.path.display()));
    let rows: u64 = schema.tables.iter().map(|t| t.row_count).sum();
    header.push_str(&format!(
        "{} tables, {rows} rows. Tables are listed parents first.\n",
        schema.tables.len()
    ));
    header.push_str(
        "Review every table before the migration window: target types, defaults,\n\
         renamed identifiers, and the warnings below. Keys are SOURCE names;\n\
         `target` renames.\n",
    );
    if let Some(a) = advice {
        header.push('\n');
        header.push_str(a);
    }
    if !warnings.is_empty() {
        header.push_str(&format!("\nwarnings ({}):\n", warnings.len()));
        for w in warnings {
            header.push_str(&format!("- {}\n", one_line(w)));
        }
    }
    let out = format!("{}\n{}", comment_lines(&header), doc);
    // Never hand the operator a file the tool itself would refuse.
    Pipeline::parse(&out, Path::new("pipeline.toml"))
        .map_err(|e| anyhow::anyhow!("internal error: generated mapping does not validate: {e}"))?;
    Ok(out)
}

/// A number for a profile comment: plain when short, else scientific.
fn short_num(x: f64) -> String {
    if x == 0.0 || (x.abs() >= 1e-4 && x.abs() < 1e15) {
        format!("{x}")
    } else {
        format!("{x:e}")
    }
}

/// The comment above a view `init` did not translate: why, and what the
/// operator can do (with the SELECT `init` wrote over materialized views,
/// when it did).
fn refused_comment(
    name: &str,
    why: &str,
    over_materialized: &[(String, String, Vec<String>)],
) -> String {
    let mut head = format!("# init: not translated: {}\n", one_line(why));
    match over_materialized.iter().find(|(n, _, _)| n == name) {
        Some((_, _, reads)) => {
            let reads: Vec<String> = reads
                .iter()
                .map(|r| format!("`{}`", one_line(r)))
                .collect();
            head.push_str(&format!(
                "# its SELECT below reads {} as the table action = \"materialize\" makes of it:\n\
                 # set action = \"create\" here once that is materialized,\n",
                reads.join(", ")
            ));
        }
        None => head.push_str(
            "# recreate it in PostgreSQL by hand, write its SELECT in `sql` with action = \"create\",\n",
        ),
    }
    head.push_str(&format!(
        "# or set action = \"materialize\" to load its rows into a table `{}` with the columns below\n\
         # (its rows as the run reads them: the table does not follow later writes to the tables it reads)\n",
        one_line(name)
    ));
    head
}

/// The `[views.NAME]` sections of a rendered mapping with their comments:
/// SQLite's `CREATE VIEW` of each, and for one that did not translate, why
/// (with what the operator can do). Checked to parse back.
pub fn with_views(
    text: &str,
    views: &[crate::sqlite::sql::views::Proposal],
    over_materialized: &[(String, String, Vec<String>)],
) -> Result<String> {
    let mut doc: toml_edit::DocumentMut = text.parse().context("cannot re-read the mapping")?;
    if let Some(vt) = doc.get_mut("views").and_then(|t| t.as_table_mut()) {
        vt.set_implicit(true);
        for v in views {
            let Some(t) = vt.get_mut(&v.name).and_then(|t| t.as_table_mut()) else {
                continue;
            };
            let mut head = format!(
                "\n# source view `{}`: {}\n",
                one_line(&v.name),
                v.source_sql
            );
            match &v.result {
                Ok(_) => head.push_str(
                    "# init: translated to PostgreSQL below (review it); created after the tables are loaded\n",
                ),
                Err(why) => head.push_str(&refused_comment(&v.name, why, over_materialized)),
            }
            t.decor_mut().set_prefix(head);
        }
    }
    let out = doc.to_string();
    Pipeline::parse(&out, Path::new("pipeline.toml"))
        .map_err(|e| anyhow::anyhow!("internal error: generated mapping does not validate: {e}"))?;
    Ok(out)
}
