//! Order-independent content checksums: recorded per chunk when the copy
//! stage commits it (from the very bytes it sends), compared by `verify`,
//! and by `--fresh` / `--stage copy` before they empty a loaded table.
//!
//! Each row is hashed (xxh3-128) over its fields' binary encodings, and the
//! row hashes are summed modulo 2^128: the sum does not depend on row order,
//! and a changed, missing or duplicated row changes it. Both sides hash the
//! same representation: the source's values as the transform produced them,
//! encoded for the target column's type, and the target's values as
//! PostgreSQL sends them in binary COPY. Types whose stored form PostgreSQL
//! normalizes (char padding, numeric scale, jsonb key order) are normalized
//! on both sides first.

use bytes::{Buf, BytesMut};
use tokio_postgres::types::Type;
use xxhash_rust::xxh3::Xxh3;

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Checksum {
    pub rows: u64,
    pub sum: u128,
}

impl Checksum {
    pub fn add_row(&mut self, h: u128) {
        self.rows += 1;
        self.sum = self.sum.wrapping_add(h);
    }
    pub fn hex(&self) -> String {
        format!("{:032x}", self.sum)
    }
    /// The checksum of two sets of rows together.
    pub fn add(&mut self, other: Checksum) {
        self.rows += other.rows;
        self.sum = self.sum.wrapping_add(other.sum);
    }
    pub fn sum_from_hex(hex: &str) -> Option<u128> {
        u128::from_str_radix(hex, 16).ok()
    }
}

/// Whether rows of these column types hash as their bytes are: no type
/// whose stored form PostgreSQL normalizes (see [`RowHasher::field`]).
pub fn plain(wire: &[Type]) -> bool {
    wire.iter().all(|t| {
        ![Type::BPCHAR, Type::NUMERIC, Type::JSONB, Type::JSON].contains(t)
            && normalized_elements(t).is_none()
    })
}

/// Hash rows encoded for binary COPY (tuples only, no header), as the copy
/// stage's reader produces them, into `sum`. With `plain` (see [`plain`])
/// each row is hashed in one call over its field bytes: the same digest as
/// [`RowHasher`] field by field (a field's length word, then its bytes; a
/// NULL is the length word -1), computed faster.
pub fn hash_encoded_rows(
    mut data: &[u8],
    wire: &[Type],
    plain: bool,
    h: &mut RowHasher,
    sum: &mut Checksum,
) -> Result<(), String> {
    while !data.is_empty() {
        if data.len() < 2 {
            return Err("truncated row".into());
        }
        let n = i16::from_be_bytes([data[0], data[1]]);
        data = &data[2..];
        if n < 0 || n as usize != wire.len() {
            return Err(format!("a row of {n} fields, expected {}", wire.len()));
        }
        let row = data;
        for ty in wire {
            if data.len() < 4 {
                return Err("truncated field".into());
            }
            let len = i32::from_be_bytes([data[0], data[1], data[2], data[3]]);
            data = &data[4..];
            if len < 0 {
                if !plain {
                    h.field(ty, None);
                }
            } else {
                let len = len as usize;
                if data.len() < len {
                    return Err("truncated field".into());
                }
                if !plain {
                    h.field(ty, Some(&data[..len]));
                }
                data = &data[len..];
            }
        }
        if plain {
            let end = row.len() - data.len();
            sum.add_row(xxhash_rust::xxh3::xxh3_128(&row[..end]));
        } else {
            sum.add_row(h.finish());
        }
    }
    Ok(())
}

/// Hashes one row field by field.
pub struct RowHasher {
    h: Xxh3,
    scratch: Vec<u8>,
}

impl Default for RowHasher {
    fn default() -> Self {
        RowHasher {
            h: Xxh3::new(),
            scratch: Vec::new(),
        }
    }
}

impl RowHasher {
    pub fn field(&mut self, ty: &Type, value: Option<&[u8]>) {
        match value {
            None => self.h.update(&[0xff, 0xff, 0xff, 0xff]),
            Some(b) => {
                let b = normalize(ty, b, &mut self.scratch);
                self.h.update(&(b.len() as u32).to_be_bytes());
                self.h.update(b);
            }
        }
    }

    /// Finish the row and reset for the next one.
    pub fn finish(&mut self) -> u128 {
        let d = self.h.digest128();
        self.h.reset();
        d
    }
}

fn normalize<'a>(ty: &Type, b: &'a [u8], scratch: &'a mut Vec<u8>) -> &'a [u8] {
    if *ty == Type::BPCHAR {
        let mut end = b.len();
        while end > 0 && b[end - 1] == b' ' {
            end -= 1;
        }
        &b[..end]
    } else if *ty == Type::NUMERIC {
        scratch.clear();
        scratch.extend_from_slice(numeric_text(b).as_bytes());
        scratch
    } else if *ty == Type::JSONB || *ty == Type::JSON {
        let text = if *ty == Type::JSONB && !b.is_empty() {
            &b[1..]
        } else {
            b
        };
        match serde_json::from_slice::<serde_json::Value>(text) {
            Ok(v) => {
                scratch.clear();
                canonical_json(&v, scratch);
                scratch
            }
            Err(_) => b,
        }
    } else if let Some(elem) = normalized_elements(ty) {
        // An array: each element normalized as its type is (jsonb inside
        // an array is stored normalized too).
        let mut out = Vec::with_capacity(b.len());
        if normalize_array(&elem, b, &mut out).is_none() {
            return b;
        }
        *scratch = out;
        scratch
    } else {
        b
    }
}

/// The element type of an array type whose elements are normalized.
fn normalized_elements(ty: &Type) -> Option<Type> {
    match ty.kind() {
        tokio_postgres::types::Kind::Array(e)
            if [Type::BPCHAR, Type::NUMERIC, Type::JSONB, Type::JSON].contains(e) =>
        {
            Some(e.clone())
        }
        _ => None,
    }
}

/// A binary array with its elements normalized (`None`: not well formed).
fn normalize_array(elem: &Type, b: &[u8], out: &mut Vec<u8>) -> Option<()> {
    let int = |at: usize| -> Option<i32> {
        Some(i32::from_be_bytes(b.get(at..at + 4)?.try_into().ok()?))
    };
    let ndim = usize::try_from(int(0)?).ok()?;
    let head = 12 + 8 * ndim;
    out.extend_from_slice(b.get(..head)?);
    let mut at = head;
    let mut scratch = Vec::new();
    while at < b.len() {
        let len = int(at)?;
        at += 4;
        if len < 0 {
            out.extend_from_slice(&len.to_be_bytes());
            continue;
        }
        let v = b.get(at..at + len as usize)?;
        at += len as usize;
        let v = normalize(elem, v, &mut scratch);
        out.extend_from_slice(&(v.len() as u32).to_be_bytes());
        out.extend_from_slice(v);
    }
    Some(())
}

/// Binary numeric → canonical decimal text (no trailing fractional zeros).
pub fn numeric_text(b: &[u8]) -> String {
    if b.len() < 8 {
        return String::from_utf8_lossy(b).into_owned();
    }
    let ndigits = i16::from_be_bytes([b[0], b[1]]) as usize;
    let weight = i16::from_be_bytes([b[2], b[3]]) as i32;
    let sign = u16::from_be_bytes([b[4], b[5]]);
    if sign == 0xC000 {
        return "NaN".into();
    }
    if sign == 0xD000 {
        return "Infinity".into();
    }
    if sign == 0xF000 {
        return "-Infinity".into();
    }
    let digits: Vec<i16> = (0..ndigits)
        .filter_map(|i| b.get(8 + 2 * i..10 + 2 * i))
        .map(|d| i16::from_be_bytes([d[0], d[1]]))
        .collect();
    // Integer part: groups with exponent weight..0; fraction: below 0.
    let mut int = String::new();
    let mut frac = String::new();
    for (i, d) in digits.iter().enumerate() {
        let w = weight - i as i32;
        if w >= 0 {
            int.push_str(&format!("{d:04}"));
        } else {
            // Leading zero groups of the fraction.
            while (frac.len() as i32) < (-w - 1) * 4 {
                frac.push_str("0000");
            }
            frac.push_str(&format!("{d:04}"));
        }
    }
    // Trailing zero groups of the integer part not stored.
    if weight >= 0 {
        let stored_int_groups = digits.len().min(weight as usize + 1);
        for _ in stored_int_groups..(weight as usize + 1) {
            int.push_str("0000");
        }
    }
    let int = int.trim_start_matches('0');
    let frac = frac.trim_end_matches('0');
    let mut s = String::new();
    if sign == 0x4000 && !(int.is_empty() && frac.is_empty()) {
        s.push('-');
    }
    s.push_str(if int.is_empty() { "0" } else { int });
    if !frac.is_empty() {
        s.push('.');
        s.push_str(frac);
    }
    s
}

/// JSON with sorted keys and every number as f64, so jsonb's normalization
/// (key order, `1e2` → `100`) compares equal to the source text.
fn canonical_json(v: &serde_json::Value, out: &mut Vec<u8>) {
    use serde_json::Value as J;
    match v {
        J::Null => out.extend_from_slice(b"null"),
        J::Bool(b) => out.extend_from_slice(if *b { b"true" } else { b"false" }),
        J::Number(n) => {
            out.extend_from_slice(format!("{:?}", n.as_f64().unwrap_or(f64::NAN)).as_bytes())
        }
        J::String(s) => {
            out.extend_from_slice(serde_json::to_string(s).unwrap_or_default().as_bytes())
        }
        J::Array(a) => {
            out.push(b'[');
            for (i, x) in a.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                canonical_json(x, out);
            }
            out.push(b']');
        }
        J::Object(m) => {
            let mut keys: Vec<&String> = m.keys().collect();
            keys.sort();
            out.push(b'{');
            for (i, k) in keys.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                out.extend_from_slice(serde_json::to_string(k).unwrap_or_default().as_bytes());
                out.push(b':');
                canonical_json(&m[*k], out);
            }
            out.push(b'}');
        }
    }
}

/// Incremental parser of a binary COPY TO stream: feed chunks, get rows.
pub struct CopyOutParser {
    buf: BytesMut,
    header_done: bool,
    pub finished: bool,
}

impl Default for CopyOutParser {
    fn default() -> Self {
        CopyOutParser {
            buf: BytesMut::new(),
            header_done: false,
            finished: false,
        }
    }
}

const MAGIC: &[u8] = b"PGCOPY\n\xff\r\n\0";

impl CopyOutParser {
    /// A parser of rows alone, as the copy stage's reader encodes them (no
    /// header before them, no trailer after).
    pub fn rows_only() -> CopyOutParser {
        CopyOutParser {
            header_done: true,
            ..CopyOutParser::default()
        }
    }

    /// Parse the complete rows of `chunk` (after what an earlier chunk left
    /// unfinished), calling `row` with each row's fields. PostgreSQL sends
    /// one message per row, so a chunk is usually whole rows and is parsed
    /// where it lies: a 1 GB value is not copied a second time. Returns an
    /// error for a malformed stream.
    pub fn feed_rows(
        &mut self,
        chunk: &[u8],
        row: impl FnMut(&[Option<&[u8]>]),
    ) -> Result<(), String> {
        if self.buf.is_empty() {
            let used = self.parse(chunk, row)?;
            self.buf.extend_from_slice(&chunk[used..]);
        } else {
            self.buf.extend_from_slice(chunk);
            let buf = std::mem::take(&mut self.buf);
            let used = self.parse(&buf, row);
            self.buf = buf;
            self.buf.advance(used?);
        }
        Ok(())
    }

    /// Parse the header (once) and the complete rows at the start of
    /// `data`; returns how many bytes they took.
    fn parse(
        &mut self,
        data: &[u8],
        mut row: impl FnMut(&[Option<&[u8]>]),
    ) -> Result<usize, String> {
        let mut at = 0usize;
        if !self.header_done {
            if data.len() < MAGIC.len() + 8 {
                return Ok(0);
            }
            if &data[..MAGIC.len()] != MAGIC {
                return Err("not a binary COPY stream".into());
            }
            let ext = u32::from_be_bytes(data[MAGIC.len() + 4..MAGIC.len() + 8].try_into().unwrap())
                as usize;
            if data.len() < MAGIC.len() + 8 + ext {
                return Ok(0);
            }
            at = MAGIC.len() + 8 + ext;
            self.header_done = true;
        }
        let mut fields: Vec<Option<(usize, usize)>> = Vec::new();
        loop {
            let rest = &data[at..];
            if self.finished || rest.len() < 2 {
                return Ok(at);
            }
            let n = i16::from_be_bytes([rest[0], rest[1]]);
            if n == -1 {
                self.finished = true;
                return Ok(at + 2);
            }
            // Find the whole tuple before consuming it.
            let mut pos = 2usize;
            fields.clear();
            for _ in 0..n {
                if rest.len() < pos + 4 {
                    return Ok(at);
                }
                let len = i32::from_be_bytes(rest[pos..pos + 4].try_into().unwrap());
                pos += 4;
                if len < 0 {
                    fields.push(None);
                } else {
                    let len = len as usize;
                    if rest.len() < pos + len {
                        return Ok(at);
                    }
                    fields.push(Some((pos, len)));
                    pos += len;
                }
            }
            let views: Vec<Option<&[u8]>> = fields
                .iter()
                .map(|f| f.map(|(p, l)| &rest[p..p + l]))
                .collect();
            row(&views);
            at += pos;
        }
    }
}

#[cfg(test)]
mod tests {

    /// The one-call hash of a plain row is the field-by-field digest.
    #[test]
    fn plain_rows_hash_as_field_by_field() {
        let wire = [Type::INT8, Type::TEXT, Type::BYTEA];
        let mut row = Vec::new();
        row.extend_from_slice(&3i16.to_be_bytes());
        row.extend_from_slice(&8i32.to_be_bytes());
        row.extend_from_slice(&42i64.to_be_bytes());
        row.extend_from_slice(&(-1i32).to_be_bytes());
        row.extend_from_slice(&3i32.to_be_bytes());
        row.extend_from_slice(b"abc");
        let twice = [row.clone(), row].concat();
        let (mut fast, mut slow) = (Checksum::default(), Checksum::default());
        let mut h = RowHasher::default();
        assert!(plain(&wire));
        hash_encoded_rows(&twice, &wire, true, &mut h, &mut fast).unwrap();
        hash_encoded_rows(&twice, &wire, false, &mut h, &mut slow).unwrap();
        assert_eq!(fast, slow);
        assert_eq!(fast.rows, 2);
        assert!(!plain(&[Type::INT8, Type::NUMERIC]));
    }
    use super::*;

    #[test]
    fn numeric_text_ignores_scale_padding() {
        // 1.5000 with dscale 4: ndigits 2, weight 0, digits [1, 5000].
        let b = [0, 2, 0, 0, 0, 0, 0, 4, 0, 1, 0x13, 0x88];
        assert_eq!(numeric_text(&b), "1.5");
        // 10000: ndigits 1, weight 1, digits [1].
        assert_eq!(numeric_text(&[0, 1, 0, 1, 0, 0, 0, 0, 0, 1]), "10000");
        // -0.0001: weight -1, digits [1], negative.
        assert_eq!(
            numeric_text(&[0, 1, 0xff, 0xff, 0x40, 0, 0, 4, 0, 1]),
            "-0.0001"
        );
        // 0.00000001: weight -2, digits [1] → "0.00000001".
        assert_eq!(
            numeric_text(&[0, 1, 0xff, 0xfe, 0, 0, 0, 8, 0, 1]),
            "0.00000001"
        );
        assert_eq!(numeric_text(&[0, 0, 0, 0, 0, 0, 0, 2]), "0");
    }

    #[test]
    fn sum_is_order_independent_and_sees_duplicates() {
        let rows = [1u128, 2, 3];
        let mut a = Checksum::default();
        let mut b = Checksum::default();
        for r in rows {
            a.add_row(r);
        }
        for r in rows.iter().rev() {
            b.add_row(*r);
        }
        assert_eq!(a, b);
        b.add_row(2);
        assert_ne!(a.sum, b.sum);
    }

    #[test]
    fn jsonb_normalization_matches_key_order_and_number_forms() {
        let mut t = RowHasher::default();
        t.field(&Type::JSONB, Some(b"\x01{\"b\": 1e2, \"a\": [true]}"));
        let h1 = t.finish();
        t.field(&Type::JSONB, Some(b"\x01{\"a\": [true], \"b\": 100}"));
        let h2 = t.finish();
        assert_eq!(h1, h2);
    }

    #[test]
    fn parser_handles_split_chunks() {
        let mut data = Vec::new();
        data.extend_from_slice(MAGIC);
        data.extend_from_slice(&[0, 0, 0, 0, 0, 0, 0, 0]);
        // row: 2 fields: int4 7, NULL
        for _ in 0..2 {
            data.extend_from_slice(&[0, 2, 0, 0, 0, 4, 0, 0, 0, 7, 0xff, 0xff, 0xff, 0xff]);
        }
        data.extend_from_slice(&[0xff, 0xff]);
        for size in [1, 3, 5, data.len()] {
            let mut p = CopyOutParser::default();
            let mut rows = Vec::new();
            for chunk in data.chunks(size) {
                p.feed_rows(chunk, |r| {
                    rows.push(r.iter().map(|f| f.map(|b| b.to_vec())).collect::<Vec<_>>())
                })
                .unwrap();
            }
            assert!(p.finished, "chunks of {size}");
            assert_eq!(
                rows,
                vec![vec![Some(vec![0, 0, 0, 7]), None]; 2],
                "chunks of {size}"
            );
        }
    }
}
