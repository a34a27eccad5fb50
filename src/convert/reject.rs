//! A row that did not convert: which row, which column, the raw cell, the
//! rule and the reason. [`RejectRecord`] is its one serialized form, the
//! same in the state table's rows and in the reject file's lines.

use crate::convert::cell::Cell;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone)]
pub struct Reject {
    pub row_key: String,
    pub column: String,
    pub raw: Cell,
    pub rule: String,
    pub reason: String,
}

/// One line of `rejects/<table>.jsonl`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RejectRecord {
    pub table: String,
    pub row: String,
    pub column: String,
    /// The raw cell as JSON (text, number, `{"blob": hex}`, null).
    pub value: serde_json::Value,
    pub storage_class: String,
    pub rule: String,
    pub reason: String,
}

impl Reject {
    pub fn record(&self, table: &str) -> RejectRecord {
        RejectRecord {
            table: table.to_string(),
            row: self.row_key.clone(),
            column: self.column.clone(),
            value: self.raw.to_json(),
            storage_class: self.raw.storage_class().to_string(),
            rule: self.rule.clone(),
            reason: self.reason.clone(),
        }
    }
}
