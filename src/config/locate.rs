//! Where a problem of a mapping file is: dotted key paths
//! (`tables.users.columns."Full Name".type`) and the line of such a key in
//! the original text, found through toml_edit's spans. Used by
//! `Pipeline::parse` to give every `MappingIssue` its line.

use super::issue::MappingIssue;

/// A key path segment, quoted when it is not a bare TOML key.
pub fn key_seg(k: &str) -> String {
    if !k.is_empty()
        && k.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
    {
        k.to_string()
    } else {
        format!("{k:?}")
    }
}

/// Line (1-based) of byte `offset` of `text`.
fn line_at(text: &str, offset: usize) -> usize {
    text[..offset.min(text.len())].matches('\n').count() + 1
}

/// The issue of a TOML (syntax or serde) error, at `prefix` (the whole file
/// when empty).
pub(super) fn issue_from_toml(e: &toml::de::Error, text: &str, prefix: &str) -> MappingIssue {
    let line = e.span().map(|s| line_at(text, s.start));
    MappingIssue {
        key: if prefix.is_empty() {
            "(file)".into()
        } else {
            prefix.into()
        },
        line,
        message: e.message().trim().to_string(),
    }
}

/// Finds the line of a dotted key path in the original text, through
/// toml_edit's spans.
pub(super) struct Locator {
    doc: Option<toml_edit::ImDocument<String>>,
    text: String,
}

impl Locator {
    pub(super) fn new(text: &str) -> Locator {
        Locator {
            doc: toml_edit::ImDocument::parse(text.to_string()).ok(),
            text: text.to_string(),
        }
    }

    /// Line (1-based) of the deepest existing key of `path`.
    pub(super) fn line_of(&self, path: &str) -> Option<usize> {
        let doc = self.doc.as_ref()?;
        let mut item: &toml_edit::Item = doc.as_item();
        let mut best: Option<std::ops::Range<usize>> = None;
        for seg in split_path(path) {
            let next = match item {
                toml_edit::Item::Table(t) => {
                    let kv = t.get_key_value(&seg);
                    if let Some((k, _)) = kv {
                        best = k.span().or(best);
                    }
                    kv.map(|(_, v)| v)
                }
                toml_edit::Item::Value(toml_edit::Value::InlineTable(t)) => {
                    let kv = t.get_key_value(&seg);
                    if let Some((k, _)) = kv {
                        best = k.span().or(best);
                    }
                    kv.map(|(_, v)| v)
                }
                _ => None,
            };
            match next {
                Some(n) => item = n,
                None => {
                    // Arrays of tables: descend by index.
                    if let toml_edit::Item::ArrayOfTables(a) = item {
                        if let Some(t) = seg.parse::<usize>().ok().and_then(|i| a.get(i)) {
                            best = t.span().or(best);
                            // Keep walking inside this table.
                            return self.line_of_in_table(t, path, best);
                        }
                    }
                    break;
                }
            }
        }
        best.map(|s| line_at(&self.text, s.start))
    }

    fn line_of_in_table(
        &self,
        t: &toml_edit::Table,
        path: &str,
        best: Option<std::ops::Range<usize>>,
    ) -> Option<usize> {
        // After an array index, the remaining segments are keys in `t`.
        let segs = split_path(path);
        let idx = segs.iter().position(|s| s.parse::<usize>().is_ok());
        let mut best = best;
        if let Some(i) = idx {
            if let Some(seg) = segs.get(i + 1) {
                if let Some((k, _)) = t.get_key_value(seg) {
                    best = k.span().or(best);
                }
            }
        }
        best.map(|s| line_at(&self.text, s.start))
    }
}

/// Split a dotted key path, honouring `"quoted.segments"`.
fn split_path(path: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut chars = path.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '"' => {
                while let Some(c) = chars.next() {
                    match c {
                        '\\' => {
                            if let Some(n) = chars.next() {
                                cur.push(n)
                            }
                        }
                        '"' => break,
                        _ => cur.push(c),
                    }
                }
            }
            '.' => out.push(std::mem::take(&mut cur)),
            _ => cur.push(c),
        }
    }
    out.push(cur);
    out
}
