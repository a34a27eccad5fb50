//! Transform: one source row, read in place from SQLite's row buffer, into
//! its binary COPY encoding for the target columns ([`TableTransform::encode_row`],
//! what the reader calls per row). A row with a cell that cannot convert —
//! or whose value cannot be encoded — is split off as a reject (row key,
//! column, raw value, storage class, rule, reason) and the rest goes on.
//! Plain functions, no runtime: the convert-then-encode path over owned
//! cells is kept as the tests' reference the in-place path is held to.

use crate::config::mapping::OnNull;
use crate::config::plan::TablePlan;
use crate::convert::cell::Cell;
use crate::convert::reject::Reject;
use crate::convert::{ConvertError, Converter};
use crate::pg::copy_in;
use crate::pg::value::Value;
use bytes::{BufMut, BytesMut};
use rusqlite::types::ValueRef;
use tokio_postgres::types::Type;

/// Rows of one batch as owned cells, row-major in one flat vector: the
/// input of the convert-then-encode reference path the in-place reader is
/// tested against.
#[cfg(test)]
#[derive(Debug, Default)]
pub struct RawBatch {
    /// rowid of each row (ordinal for WITHOUT ROWID tables).
    pub keys: Vec<i64>,
    pub cells: Vec<Cell>,
    pub width: usize,
}

#[cfg(test)]
impl RawBatch {
    pub fn len(&self) -> usize {
        self.keys.len()
    }
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }
    pub fn row(&self, i: usize) -> &[Cell] {
        &self.cells[i * self.width..(i + 1) * self.width]
    }
}

fn encode_error(reason: String) -> ConvertError {
    ConvertError { reason }
}

/// Converted rows, row-major: the output of [`TableTransform::apply`].
#[cfg(test)]
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

#[cfg(test)]
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

/// A row PostgreSQL itself refused during a COPY (a domain's or the
/// table's CHECK, a value it cannot store): the target column it named, if
/// any, and its message. The row is then read again as a reject.
#[derive(Debug, Clone)]
pub struct Refused {
    pub column: Option<String>,
    pub reason: String,
}

/// Refused rows of one chunk, by source key.
pub type RefusedRows = std::collections::HashMap<i64, Refused>;

/// The rule of a reject PostgreSQL refused.
pub const REFUSED_RULE: &str = "target column's constraints (checked by PostgreSQL)";

pub struct TableTransform {
    columns: Vec<(String, Converter)>,
    /// Target column names, as `columns`.
    targets: Vec<String>,
    /// NULL in a NOT NULL column (or one with `on_null = "reject"`) is a
    /// reject here, not a failed COPY.
    not_null: Vec<bool>,
    /// `on_null = "default"`: the value written for a NULL cell.
    null_values: Vec<Option<Value>>,
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
            targets: t.columns.iter().map(|c| c.target.clone()).collect(),
            not_null: t
                .columns
                .iter()
                .map(|c| c.not_null || c.identity || c.on_null == Some(OnNull::Reject))
                .collect(),
            null_values: t.columns.iter().map(|c| c.null_value.clone()).collect(),
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

    /// Column `i`'s value for one cell: its conversion rule, and NULL in a
    /// NOT NULL column refused here rather than by a failed COPY.
    fn value(&self, i: usize, cell: ValueRef<'_>) -> Result<Value, ConvertError> {
        match self.columns[i].1.convert_ref(cell) {
            Ok(Value::Null) => match &self.null_values[i] {
                Some(v) => Ok(v.clone()),
                None if self.not_null[i] => Err(ConvertError {
                    reason: "NULL in a NOT NULL column".into(),
                }),
                None => Ok(Value::Null),
            },
            other => other,
        }
    }

    fn reject(&self, i: usize, key: i64, row: &[Cell], e: ConvertError) -> Reject {
        let (name, conv) = &self.columns[i];
        Reject {
            row_key: self.row_key(key, row),
            column: name.clone(),
            raw: row[i].clone(),
            rule: conv.rule(),
            reason: e.reason,
        }
    }

    /// Convert a batch of owned rows cell by cell: the reference path that
    /// [`TableTransform::encode_row`] (what `run`, `check` and `verify`
    /// use) is held to, byte for byte, by the tests below.
    #[cfg(test)]
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
            for (c, cell) in row.iter().enumerate() {
                match self.value(c, cell.as_ref()) {
                    Ok(v) => out.values.push(v),
                    Err(e) => {
                        out.values.truncate(start);
                        out.rejects.push(self.reject(c, raw.keys[i], row, e));
                        continue 'rows;
                    }
                }
            }
            out.values.extend(self.constants.iter().cloned());
            out.keys.push(raw.keys[i]);
        }
        out
    }

    /// Convert one source row and append it to `buf` in binary COPY format,
    /// reading each cell in place from SQLite's row (`cell(i)`, i from 0):
    /// the same rules as [`TableTransform::apply`] followed by
    /// [`copy_in::encode_row`], without an owned copy of the row. A row that
    /// cannot convert or encode leaves `buf` as it was and comes back as a
    /// reject.
    pub fn encode_row<'r>(
        &self,
        key: i64,
        cell: impl Fn(usize) -> rusqlite::Result<ValueRef<'r>>,
        types: &[Type],
        buf: &mut BytesMut,
    ) -> Result<Result<(), Reject>, rusqlite::Error> {
        let start = buf.len();
        // Only on the rare failing row: the row's cells, owned, to name it.
        let owned_row = || {
            (0..self.width())
                .map(|c| cell(c).map(Cell::from_ref))
                .collect::<rusqlite::Result<Vec<Cell>>>()
        };
        buf.put_i16(self.out_width() as i16);
        for (i, (_, conv)) in self.columns.iter().enumerate() {
            let v = cell(i)?;
            let put = match conv.passthrough(v) {
                Some(Ok(b)) => copy_in::put_bytes(&b, buf).map_err(encode_error),
                Some(Err(e)) => Err(e),
                None => match self.value(i, v) {
                    Ok(Value::Null) => {
                        copy_in::put_null(buf);
                        Ok(())
                    }
                    Ok(value) => copy_in::put_value(&value, &types[i], buf).map_err(encode_error),
                    Err(e) => Err(e),
                },
            };
            if let Err(e) = put {
                buf.truncate(start);
                return Ok(Err(self.reject(i, key, &owned_row()?, e)));
            }
        }
        for (value, ty) in self.constants.iter().zip(&types[self.width()..]) {
            if let Err(reason) = copy_in::put_value(value, ty, buf) {
                buf.truncate(start);
                return Ok(Err(Reject {
                    row_key: self.row_key(key, &owned_row()?),
                    column: "(constant)".into(),
                    raw: Cell::Null,
                    rule: "binary COPY encoding".into(),
                    reason,
                }));
            }
        }
        Ok(Ok(()))
    }

    /// The reject for a row PostgreSQL refused: its source column (by the
    /// target column PostgreSQL named) and raw cell, and PostgreSQL's reason.
    pub fn refused<'r>(
        &self,
        key: i64,
        cell: impl Fn(usize) -> rusqlite::Result<ValueRef<'r>>,
        why: &Refused,
    ) -> rusqlite::Result<Reject> {
        let row = (0..self.width())
            .map(|c| cell(c).map(Cell::from_ref))
            .collect::<rusqlite::Result<Vec<Cell>>>()?;
        let at = why
            .column
            .as_ref()
            .and_then(|c| self.targets.iter().position(|t| t == c));
        Ok(Reject {
            row_key: self.row_key(key, &row),
            column: match (at, &why.column) {
                (Some(i), _) => self.columns[i].0.clone(),
                (None, Some(c)) => c.clone(),
                (None, None) => "(row)".into(),
            },
            raw: at.map(|i| row[i].clone()).unwrap_or(Cell::Null),
            rule: REFUSED_RULE.into(),
            reason: why.reason.clone(),
        })
    }

    fn row_key(&self, key: i64, row: &[Cell]) -> String {
        if self.rowid {
            return format!("rowid {key}");
        }
        // No rowid and no key: a materialized view, whose rows are named
        // by their place in its one chunk (as `check` names them).
        if self.pk_pos.is_empty() {
            return format!("row {key}");
        }
        let parts: Vec<String> = self.pk_pos.iter().map(|&i| row[i].to_string()).collect();
        format!("primary key ({})", parts.join(", "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::mapping::Pipeline;
    use std::path::Path;

    /// One table with a column of every kind of rule, plus a constant.
    fn table() -> TablePlan {
        let toml = r#"
[source]
path = "x.db"
[target]
url = "postgres://localhost/x"
[tables.t]
[tables.t.columns]
a = { type = "text" }
b = { type = "varchar(3)" }
c = { type = "bigint", not_null = true }
d = { type = "smallint" }
e = { type = "double precision" }
f = { type = "numeric(6,2)" }
g = { type = "timestamptz", epoch = "s" }
h = { type = "boolean" }
i = { type = "bytea" }
j = { type = "jsonb" }
k = { type = "uuid" }
l = { type = "char(2)" }
"#;
        let p = Pipeline::parse(toml, Path::new("t.toml")).unwrap();
        let mut t = crate::config::plan::plan(&p).unwrap().remove(0);
        // An existing table's added column: a default evaluated once.
        let ty = crate::pg::types::PgType::Text;
        t.constants
            .push(("origin".into(), ty, Value::Text("legacy".into())));
        t
    }

    /// The copy stage's in-place encoder writes exactly what `apply` +
    /// `encode_row` write, and rejects exactly the same rows with the same
    /// reasons, for every cell of every storage class in every column.
    #[test]
    fn in_place_encoding_matches_convert_then_encode() {
        let t = table();
        let tf = TableTransform::new(&t);
        let types: Vec<Type> = t
            .columns
            .iter()
            .map(|c| c.ty.wire_type())
            .chain(t.constants.iter().map(|(_, ty, _)| ty.wire_type()))
            .collect();
        let cells = [
            Cell::Null,
            Cell::Integer(0),
            Cell::Integer(1),
            Cell::Integer(70_000),
            Cell::Integer(1_700_000_000),
            Cell::Real(2.5),
            Cell::Real(1e300),
            Cell::Text(b"ab".to_vec()),
            Cell::Text(b"abcd".to_vec()),
            Cell::Text("h\u{e9}!".as_bytes().to_vec()),
            Cell::Text(b"a\0b".to_vec()),
            Cell::Text(b"bad \xff utf8".to_vec()),
            Cell::Text(b"12.345".to_vec()),
            Cell::Text(b"2024-02-29 12:00:00".to_vec()),
            Cell::Text(b"{\"k\": [1, 2]}".to_vec()),
            Cell::Text(b"true".to_vec()),
            Cell::Text(b"6f1c1b1e-8a1d-4d8e-9a53-0a0b0c0d0e0f".to_vec()),
            Cell::Blob(vec![0xde, 0xad]),
            Cell::Blob(vec![7; 16]),
        ];
        let base = [
            Cell::Text(b"x".to_vec()),
            Cell::Null,
            Cell::Integer(9),
            Cell::Null,
            Cell::Null,
            Cell::Null,
            Cell::Null,
            Cell::Null,
            Cell::Null,
            Cell::Null,
            Cell::Null,
            Cell::Null,
        ];
        assert_eq!(base.len(), tf.width());
        let (mut rows, mut keys) = (Vec::new(), Vec::new());
        for col in 0..tf.width() {
            for cell in &cells {
                let mut row = base.to_vec();
                row[col] = cell.clone();
                keys.push(rows.len() as i64 + 1);
                rows.push(row);
            }
        }
        let raw = RawBatch {
            keys: keys.clone(),
            cells: rows.concat(),
            width: tf.width(),
        };
        let vb = tf.apply(&raw);
        let mut expected = BytesMut::new();
        for row in vb.rows() {
            copy_in::encode_row(row, &types, &mut expected).unwrap();
        }

        let mut got = BytesMut::new();
        let (mut got_keys, mut got_rejects) = (Vec::new(), Vec::new());
        for (row, &key) in rows.iter().zip(&keys) {
            match tf
                .encode_row(key, |i| Ok(row[i].as_ref()), &types, &mut got)
                .unwrap()
            {
                Ok(()) => got_keys.push(key),
                Err(r) => got_rejects.push(r),
            }
        }
        assert!(!vb.rejects.is_empty() && !vb.keys.is_empty());
        assert_eq!(got_keys, vb.keys);
        assert_eq!(&got[..], &expected[..]);
        let summary = |r: &[Reject]| -> Vec<(String, String, String, Cell)> {
            r.iter()
                .map(|r| {
                    (
                        r.row_key.clone(),
                        r.column.clone(),
                        r.reason.clone(),
                        r.raw.clone(),
                    )
                })
                .collect()
        };
        assert_eq!(summary(&got_rejects), summary(&vb.rejects));
    }
}
