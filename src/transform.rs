//! Transform: a batch of source rows into a batch of typed values for the
//! target columns. A row with a cell that cannot convert is split off as a
//! reject (row key, column, raw value, storage class, rule, reason) and the
//! rest of the batch goes on. A plain function over batches: no runtime,
//! easy to test.

use crate::cell::Cell;
use crate::convert::Converter;
use crate::extract::RawBatch;
use crate::plan::TablePlan;
use crate::value::Value;

#[derive(Debug, Clone)]
pub struct Reject {
    pub row_key: String,
    pub column: String,
    pub raw: Cell,
    pub rule: String,
    pub reason: String,
}

impl Reject {
    pub fn to_json(&self, table: &str) -> serde_json::Value {
        serde_json::json!({
            "table": table,
            "row": self.row_key,
            "column": self.column,
            "value": self.raw.to_json(),
            "storage_class": self.raw.storage_class(),
            "rule": self.rule,
            "reason": self.reason,
        })
    }
}

/// Converted rows, row-major, ready for COPY.
#[derive(Debug, Default)]
pub struct ValueBatch {
    pub values: Vec<Value>,
    /// Source key (rowid) of each converted row, for naming a row that
    /// PostgreSQL refuses.
    pub keys: Vec<i64>,
    pub width: usize,
    pub rows_read: usize,
    pub rejects: Vec<Reject>,
}

impl ValueBatch {
    pub fn rows(&self) -> impl Iterator<Item = &[Value]> {
        // width is never 0: a table needs at least one loaded column.
        self.values.chunks_exact(self.width.max(1))
    }
    pub fn len(&self) -> usize {
        self.values.len() / self.width.max(1)
    }
    pub fn is_empty(&self) -> bool {
        self.values.is_empty()
    }
}

pub struct TableTransform {
    columns: Vec<(String, Converter)>,
    /// NULL in a NOT NULL column is a reject here, not a failed COPY.
    not_null: Vec<bool>,
    pk_pos: Vec<usize>,
    rowid: bool,
    /// Appended to every row (see `TablePlan::constants`).
    constants: Vec<Value>,
}

impl TableTransform {
    pub fn new(t: &TablePlan) -> TableTransform {
        TableTransform {
            columns: t
                .columns
                .iter()
                .map(|c| (c.source.clone(), c.converter.clone()))
                .collect(),
            not_null: t.columns.iter().map(|c| c.not_null || c.identity).collect(),
            pk_pos: t.source_pk_positions(),
            rowid: !t.without_rowid,
            constants: t.constants.iter().map(|(_, _, v)| v.clone()).collect(),
        }
    }

    /// Source cells per row.
    pub fn width(&self) -> usize {
        self.columns.len()
    }

    /// Values per output row.
    pub fn out_width(&self) -> usize {
        self.columns.len() + self.constants.len()
    }

    pub fn apply(&self, raw: &RawBatch) -> ValueBatch {
        let width = self.out_width();
        let mut out = ValueBatch {
            values: Vec::with_capacity(raw.len() * width),
            keys: Vec::with_capacity(raw.len()),
            width,
            rows_read: raw.len(),
            rejects: Vec::new(),
        };
        'rows: for i in 0..raw.len() {
            let row = raw.row(i);
            let start = out.values.len();
            for ((cell, (name, conv)), &not_null) in
                row.iter().zip(&self.columns).zip(&self.not_null)
            {
                let converted = match conv.convert(cell) {
                    Ok(Value::Null) if not_null => Err(crate::convert::ConvertError {
                        reason: "NULL in a NOT NULL column".into(),
                    }),
                    other => other,
                };
                match converted {
                    Ok(v) => out.values.push(v),
                    Err(e) => {
                        out.values.truncate(start);
                        out.rejects.push(Reject {
                            row_key: self.row_key(raw.keys[i], row),
                            column: name.clone(),
                            raw: cell.clone(),
                            rule: conv.rule(),
                            reason: e.reason,
                        });
                        continue 'rows;
                    }
                }
            }
            out.values.extend(self.constants.iter().cloned());
            out.keys.push(raw.keys[i]);
        }
        out
    }

    fn row_key(&self, key: i64, row: &[Cell]) -> String {
        if self.rowid || self.pk_pos.is_empty() {
            return format!("rowid {key}");
        }
        let parts: Vec<String> = self.pk_pos.iter().map(|&i| row[i].to_string()).collect();
        format!("primary key ({})", parts.join(", "))
    }
}
