//! Rendering for `init`: the proposed pipeline as mapping-file TOML, with
//! the schema facts, the column profiles and the warnings written as
//! comments for the operator's review.

use super::profile::{ColumnProfile, Profiles, TableProfile};
use crate::config::mapping::Pipeline;
use crate::sqlite::schema::model::{SourceColumn, SourceSchema, SourceTable};
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
            let Some(source) = schema.tables.iter().find(|t| &t.name == name) else {
                continue;
            };
            let Some(table) = tables.get_mut(name).and_then(|t| t.as_table_mut()) else {
                continue;
            };
            annotate_table(table, source, profiles.get(name), warnings);
        }
    }
    let header = header(p, schema, warnings, advice);
    parses_back(format!("{}\n{}", comment_lines(&header), doc))
}

/// A table's section: the source table's facts above it, the orphans note
/// beside each acknowledged count, each column's declaration, cells and
/// decisions above the column.
fn annotate_table(
    table: &mut toml_edit::Table,
    source: &SourceTable,
    profile: Option<&TableProfile>,
    warnings: &[String],
) {
    table.set_implicit(false);
    table.decor_mut().set_prefix(table_comment(source));
    if let Some(fks) = table
        .get_mut("foreign_keys")
        .and_then(|f| f.as_array_of_tables_mut())
    {
        for fk in fks.iter_mut() {
            if let Some(mut k) = fk.key_mut("orphans") {
                k.leaf_decor_mut().set_prefix(super::orphans::COMMENT);
            }
        }
    }
    let Some(columns) = table.get_mut("columns").and_then(|c| c.as_table_mut()) else {
        return;
    };
    for column in &source.columns {
        let Some(entry) = columns.get_mut(&column.name).and_then(|c| c.as_table_mut()) else {
            continue;
        };
        let cells = profile.and_then(|p| p.get(&column.name));
        let comment = column_comment(&source.name, column, cells, warnings);
        entry.decor_mut().set_prefix(comment);
    }
}

/// `# source table `NAME` — rows: N, …` and its CHECKs as SQLite wrote them.
fn table_comment(source: &SourceTable) -> String {
    let mut facts = vec![format!("rows: {}", source.row_count)];
    if source.without_rowid {
        facts.push("WITHOUT ROWID".into());
    }
    if source.autoincrement {
        facts.push(match source.sequence {
            Some(n) => format!("AUTOINCREMENT (sqlite_sequence: {n})"),
            None => "AUTOINCREMENT".into(),
        });
    }
    if let Some(m) = &source.virtual_module {
        facts.push(format!(
            "virtual table ({m}) moved as a plain table, its rowid as a column; full-text search in PostgreSQL is a tsvector column with a GIN index (not created)"
        ));
    } else if let Some(a) = &source.rowid_alias {
        facts.push(format!("rowid alias: {a}"));
    }
    let mut head = format!(
        "\n# source table `{}` — {}\n",
        one_line(&source.name),
        facts.join(", ")
    );
    for chk in &source.checks {
        head.push_str(&format!("# source CHECK ({})\n", one_line(chk)));
    }
    head
}

/// `# declared: …`, `# cells: …` and the column's `# init:` decisions.
fn column_comment(
    table: &str,
    column: &SourceColumn,
    cells: Option<&ColumnProfile>,
    warnings: &[String],
) -> String {
    let mut comment = format!("# declared: {}\n", declared(column));
    if let Some(cells) = cells.and_then(cells_seen) {
        comment.push_str(&format!("# cells: {cells}\n"));
    }
    // This column's decisions (an upgrade, a widening), beside it as well
    // as in the list at the top.
    let tag = format!("`{table}`.`{}`: ", column.name);
    for w in warnings.iter().filter_map(|w| w.strip_prefix(&tag)) {
        comment.push_str(&format!("# init: {}\n", one_line(w)));
    }
    comment
}

/// The column as SQLite declares it: type, key position, NOT NULL,
/// default, collation, generation.
fn declared(column: &SourceColumn) -> String {
    let mut parts = vec![if column.declared_type.trim().is_empty() {
        "(no type)".to_string()
    } else {
        one_line(&column.declared_type)
    }];
    if column.pk_position > 0 {
        parts.push(format!("PRIMARY KEY #{}", column.pk_position));
    }
    if column.not_null {
        parts.push("NOT NULL".into());
    }
    if let Some(def) = &column.default {
        parts.push(format!("default {}", one_line(def)));
    }
    if let Some(coll) = &column.collation {
        parts.push(format!("COLLATE {}", one_line(coll)));
    }
    if column.hidden >= 2 {
        let kind = if column.hidden == 3 {
            "STORED"
        } else {
            "VIRTUAL"
        };
        parts.push(match &column.generated {
            Some(e) => format!("GENERATED AS ({}) {kind}", one_line(e)),
            None => format!("GENERATED {kind}"),
        });
    }
    parts.join(", ")
}

/// What the profile saw in the column's cells, when it saw anything.
fn cells_seen(cells: &ColumnProfile) -> Option<String> {
    let mut parts = Vec::new();
    for (n, what) in [
        (cells.integer, "integer"),
        (cells.real, "real"),
        (cells.text, "text"),
        (cells.blob, "blob"),
        (cells.null, "null"),
    ] {
        if n > 0 {
            parts.push(format!("{n} {what}"));
        }
    }
    if cells.scale_loss > 0 {
        parts.push(format!(
            "{} beyond the declared precision",
            cells.scale_loss
        ));
    }
    if let Some(f) = cells.text_formats.describe() {
        parts.push(format!("text as: {f}"));
    }
    if let (Some(lo), Some(hi)) = (cells.min_number, cells.max_number) {
        parts.push(format!("numbers {}..{}", short_num(lo), short_num(hi)));
    }
    (!parts.is_empty()).then(|| parts.join(", "))
}

/// The comment at the top: what generated the file from what, what to
/// review, the framework's advice and every warning.
fn header(
    p: &Pipeline,
    schema: &SourceSchema,
    warnings: &[String],
    advice: Option<&str>,
) -> String {
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
    header
}

/// `out`, once it parses back: never hand the operator a file the tool
/// itself would refuse.
fn parses_back(out: String) -> Result<String> {
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
    if why.starts_with(crate::sqlite::sql::views::TYPE_REFUSED) {
        head.push_str(
            "# action = \"auto\": refused only for a column's type, which init chose; check and run\n\
             # translate it again over the mapping as it is then (set that column's type back to\n\
             # \"text\" to have it created); any other action is kept as you write it,\n",
        );
    }
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
    parses_back(doc.to_string())
}
