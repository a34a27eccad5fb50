//! What decides a table's rows, as a run records it: the target table, the
//! filter, each loaded column (source, target, type, conversion rule), the
//! columns filled by PostgreSQL or with a constant. A resume compares the
//! recorded one with the mapping's now, so that one table never holds rows
//! of two rules (docs/operations.md, "Rerun and resume").

use crate::config::plan::{ColumnPlan, TablePlan};
use serde_json::{json, Value};

/// The rule of `t`'s rows, as JSON (recorded in the state tables).
pub fn rows_rule(t: &TablePlan) -> Value {
    let column = |c: &ColumnPlan| {
        let o = &c.converter.opts;
        json!({
            "source": c.source,
            "target": c.target,
            "type": c.ty.to_string(),
            "not_null": c.not_null,
            "epoch": o.epoch,
            "timezone": o.timezone.name(),
            "timestamp_formats": o.timestamp_formats,
            "true_values": o.true_values,
            "false_values": o.false_values,
            "invalid_utf8": o.invalid_utf8,
            "json_wrap": o.json_wrap,
            "on_null": c.on_null,
            "default": c.null_value.as_ref().and(c.default.as_ref()),
        })
    };
    json!({
        "target": t.target,
        "filter": t.filter,
        "columns": t.columns.iter().map(column).collect::<Vec<_>>(),
        "generated": t.generated.iter().map(|c| json!([c.target, c.ty.to_string(), c.default])).collect::<Vec<_>>(),
        "added": t.added.iter().map(|a| json!([a.name, a.ty.to_string(), a.default, a.generated])).collect::<Vec<_>>(),
        "constants": t.constants.iter().map(|(n, ty, v)| json!([n, ty.to_string(), format!("{v:?}")])).collect::<Vec<_>>(),
    })
}

/// What differs between two rules, one phrase each, in the mapping's words
/// (empty when they are the same).
pub fn changes(old: &Value, new: &Value) -> Vec<String> {
    let mut out = Vec::new();
    if old["target"] != new["target"] {
        out.push(format!(
            "its target table {} → {}",
            old["target"], new["target"]
        ));
    }
    if old["filter"] != new["filter"] {
        out.push(format!("its filter {} → {}", old["filter"], new["filter"]));
    }
    let columns =
        |v: &Value| -> Vec<Value> { v["columns"].as_array().cloned().unwrap_or_default() };
    let (was, now) = (columns(old), columns(new));
    let find =
        |list: &[Value], c: &Value| list.iter().find(|x| x["source"] == c["source"]).cloned();
    for c in &was {
        match find(&now, c) {
            None => out.push(format!("column {} no longer loaded", c["source"])),
            Some(n) => {
                let fields = c.as_object().into_iter().flatten();
                for (k, v) in fields.filter(|(k, v)| n.get(*k) != Some(*v)) {
                    out.push(format!(
                        "column {}: {k} {v} → {}",
                        c["source"],
                        n.get(k).unwrap_or(&Value::Null)
                    ));
                }
            }
        }
    }
    for c in now.iter().filter(|c| find(&was, c).is_none()) {
        out.push(format!("column {} loaded now", c["source"]));
    }
    for key in ["generated", "added", "constants"] {
        if old[key] != new[key] {
            out.push(format!("its {key} columns {} → {}", old[key], new[key]));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(json_wrap: Option<&str>, target: &str) -> Value {
        json!({"target": target, "filter": null, "columns": [
            {"source": "id", "target": "id", "type": "bigint", "json_wrap": null},
            {"source": "v", "target": "v", "type": "jsonb", "json_wrap": json_wrap},
        ], "generated": [], "added": [], "constants": []})
    }

    #[test]
    fn each_change_is_named_in_the_mappings_words() {
        let old = rule(None, "acct");
        assert!(changes(&old, &old.clone()).is_empty());
        assert_eq!(
            changes(&old, &rule(Some("data"), "acct")),
            vec!["column \"v\": json_wrap null → \"data\"".to_string()]
        );
        assert_eq!(
            changes(&old, &rule(None, "accounts")),
            vec!["its target table \"acct\" → \"accounts\"".to_string()]
        );
        let mut fewer = old.clone();
        fewer["columns"].as_array_mut().unwrap().pop();
        assert_eq!(changes(&old, &fewer), vec!["column \"v\" no longer loaded"]);
        assert_eq!(changes(&fewer, &old), vec!["column \"v\" loaded now"]);
    }
}
