//! Reading and parsing a mapping file: deserialize it with every problem
//! collected (`lenient`), each table and materialized view on its own,
//! validate the result (`validate`), and give every problem its line
//! (`locate`).

use super::issue::{MappingError, MappingIssue};
use super::lenient;
use super::locate::{issue_from_toml, key_seg, Locator};
use super::mapping::{Pipeline, TableMap, ViewAction};
use std::path::{Path, PathBuf};

impl Pipeline {
    /// Read, parse and validate a mapping file.
    pub fn load(file: &Path) -> Result<Pipeline, anyhow::Error> {
        let bytes = std::fs::read(file)
            .map_err(|e| anyhow::anyhow!("cannot read mapping file {}: {e}", file.display()))?;
        if bytes.starts_with(b"SQLite format 3\0") {
            anyhow::bail!(
                "{f} is a SQLite database, not a mapping file. Write a mapping to review with \
                 `sqlite2pg init {f}` (then `sqlite2pg check pipelines/<name>.toml`), or move it \
                 in one step with `sqlite2pg run {f} --target postgres://…`",
                f = file.display()
            );
        }
        let text = String::from_utf8(bytes).map_err(|_| {
            anyhow::anyhow!(
                "{} is not a mapping file: a mapping is TOML text (UTF-8); `sqlite2pg init <SQLITE_FILE>` writes one",
                file.display()
            )
        })?;
        Ok(Pipeline::parse(&text, file)?)
    }

    /// Parse and validate mapping text; `file` is used for messages and to
    /// resolve relative paths.
    pub fn parse(text: &str, file: &Path) -> Result<Pipeline, MappingError> {
        let err = |issues| MappingError {
            file: file.to_path_buf(),
            issues,
        };
        let locator = Locator::new(text);
        let value: toml::Value = match toml::from_str(text) {
            Ok(v) => v,
            Err(e) => return Err(err(vec![issue_from_toml(&e, text, "")])),
        };
        // Every serde problem, each at its key; a key set aside for one
        // problem does not add follow-on problems.
        let mut found = lenient::Collected::default();
        let Some(mut p) = lenient::deserialize::<Pipeline>(value, "", &mut found) else {
            return Err(err(with_lines(found.issues, &locator)));
        };
        p.file = file.to_path_buf();
        p.base_dir = file
            .parent()
            .map(Path::to_path_buf)
            .filter(|d| !d.as_os_str().is_empty())
            .unwrap_or_else(|| PathBuf::from("."));
        // Each table on its own, so one table's problems leave the others
        // (and the table itself, where it can be read at all) in place.
        let mut unreadable = Vec::new();
        for (name, v) in &p.tables {
            let prefix = format!("tables.{}", key_seg(name));
            match lenient::deserialize::<TableMap>(v.clone(), &prefix, &mut found) {
                Some(t) => p.table_maps.push((name.clone(), t)),
                None => unreadable.push(name.clone()),
            }
        }
        // A materialized view loads like a table with no rowid: its
        // columns are read as a table's, under `views.NAME`.
        for (name, v) in &p.views {
            if v.action != ViewAction::Materialize {
                continue;
            }
            let prefix = format!("views.{}", key_seg(name));
            let mut table = toml::map::Map::new();
            table.insert("columns".into(), toml::Value::Table(v.columns.clone()));
            if let Some(n) = v.reject_limit {
                table.insert("reject_limit".into(), toml::Value::Integer(n as i64));
            }
            if let Some(t) =
                lenient::deserialize::<TableMap>(toml::Value::Table(table), &prefix, &mut found)
            {
                p.table_maps.push((name.clone(), t.of_view()));
            }
        }
        let mut issues = found.issues.clone();
        issues.extend(p.validate().into_iter().filter(|i| {
            // A foreign key to a table that could not be read is its
            // follow-on too.
            let to_unreadable = i.key.ends_with(".references")
                && unreadable
                    .iter()
                    .any(|t| i.message.starts_with(&format!("`{t}`")));
            !found.is_follow_on(&i.key) && !to_unreadable
        }));
        let issues = with_lines(issues, &locator);
        if issues.is_empty() {
            Ok(p)
        } else {
            Err(err(issues))
        }
    }
}

/// Give each issue the line of its key, and sort them by line.
fn with_lines(mut issues: Vec<MappingIssue>, locator: &Locator) -> Vec<MappingIssue> {
    for i in issues.iter_mut() {
        if i.line.is_none() {
            i.line = locator.line_of(&i.key);
        }
    }
    issues.sort_by_key(|i| i.line.unwrap_or(0));
    issues
}
