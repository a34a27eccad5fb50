//! JSON targets: `json_wrap` (any cell as a string or number under one key),
//! numbers as JSON, and the escapes PostgreSQL's `jsonb` refuses that a JSON
//! parser accepts. Validating JSON text is in the dispatch (`text_cell`).

use rusqlite::types::ValueRef;

use super::{fail, q, qb, ConvertError, Converter};
use crate::pg::types::PgType;
use crate::pg::value::Value;

impl Converter {
    pub(super) fn wrap(&self, prefix: &str, cell: ValueRef<'_>) -> Result<Value, ConvertError> {
        if !matches!(self.ty, PgType::Json | PgType::Jsonb) {
            return fail(format!(
                "json_wrap needs a json or jsonb column, not {}",
                self.ty
            ));
        }
        let inner = match cell {
            ValueRef::Null => return Ok(Value::Json("{}".into())),
            ValueRef::Integer(i) => i.to_string(),
            ValueRef::Real(f) => json_number(f)?,
            ValueRef::Text(b) => {
                let s = self.decode(b)?;
                self.json_string(&s)?
            }
            ValueRef::Blob(b) => match std::str::from_utf8(b) {
                Ok(s) => self.json_string(s)?,
                Err(e) => {
                    return fail(format!(
                        "blob {} is not valid UTF-8 text (invalid byte at {}) and cannot be wrapped in JSON",
                        qb(b),
                        e.valid_up_to()
                    ))
                }
            },
        };
        let mut out = String::with_capacity(prefix.len() + inner.len() + 1);
        out.push_str(prefix);
        out.push_str(&inner);
        out.push('}');
        Ok(Value::Json(out))
    }

    fn json_string(&self, s: &str) -> Result<String, ConvertError> {
        if self.ty == PgType::Jsonb {
            if let Some(i) = s.bytes().position(|b| b == 0) {
                return fail(format!(
                    "text {} contains a NUL byte at byte {i}, which jsonb cannot store",
                    q(s)
                ));
            }
        }
        Ok(serde_json::to_string(s).expect("a string serializes"))
    }
}

pub(super) fn json_number(f: f64) -> Result<String, ConvertError> {
    serde_json::Number::from_f64(f)
        .map(|n| n.to_string())
        .ok_or_else(|| ConvertError::new(format!("real {f:?} has no JSON representation")))
}

/// What PostgreSQL's jsonb input refuses and serde_json (ignoring values)
/// does not: unpaired UTF-16 surrogate escapes and `\u0000`. (Plain `json`
/// stores the text as is and accepts both.)
pub(super) fn check_jsonb_escapes(s: &str) -> Result<(), String> {
    let b = s.as_bytes();
    let hex4 = |i: usize| -> Option<u32> {
        let h = std::str::from_utf8(b.get(i..i + 4)?).ok()?;
        u32::from_str_radix(h, 16).ok()
    };
    let mut i = 0;
    while let Some(off) = b.get(i..).and_then(|r| r.iter().position(|&c| c == b'\\')) {
        let j = i + off;
        if b.get(j + 1) != Some(&b'u') {
            i = j + 2;
            continue;
        }
        let cp = hex4(j + 2).ok_or("bad \\u escape in JSON")?;
        if cp == 0 {
            return Err("JSON contains \\u0000, which jsonb cannot store".into());
        }
        if (0xD800..0xDC00).contains(&cp) {
            let low = if b.get(j + 6) == Some(&b'\\') && b.get(j + 7) == Some(&b'u') {
                hex4(j + 8)
            } else {
                None
            };
            match low {
                Some(lo) if (0xDC00..0xE000).contains(&lo) => {
                    i = j + 12;
                    continue;
                }
                _ => {
                    return Err(format!(
                        "JSON has an unpaired UTF-16 high surrogate escape \\u{cp:04x}"
                    ))
                }
            }
        }
        if (0xDC00..0xE000).contains(&cp) {
            return Err(format!(
                "JSON has an unpaired UTF-16 low surrogate escape \\u{cp:04x}"
            ));
        }
        i = j + 6;
    }
    Ok(())
}

/// Why `jsonb` would not give `doc` (valid JSON text) back as the same
/// document, numbers exact (whitespace, key order and string escapes
/// aside): a number written with an exponent (`1e2` reads back `100`,
/// `1.7976931348623157e308` as 309 digits), a negative zero (`-0.0` reads
/// back `0.0`), or a key twice in one object (jsonb keeps the last).
/// `None` when jsonb keeps it; plain `json` keeps the text as it is
/// (docs/conversions.md, "The lossless rule").
pub fn jsonb_changes(doc: &str) -> Option<String> {
    use std::collections::HashSet;
    let b = doc.as_bytes();
    // Per open object: its keys so far, and whether a key comes next.
    let mut objects: Vec<Option<(HashSet<String>, bool)>> = Vec::new();
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'{' => objects.push(Some((HashSet::new(), true))),
            b'[' => objects.push(None),
            b'}' | b']' => {
                objects.pop();
            }
            b',' => {
                if let Some(Some((_, key_next))) = objects.last_mut() {
                    *key_next = true;
                }
            }
            b'"' => {
                let mut j = i + 1;
                while j < b.len() && b[j] != b'"' {
                    j += if b[j] == b'\\' { 2 } else { 1 };
                }
                let raw = doc.get(i..=j.min(b.len() - 1))?;
                if let Some(Some((keys, key_next @ true))) = objects.last_mut() {
                    *key_next = false;
                    let key: String = serde_json::from_str(raw).ok()?;
                    if !keys.insert(key) {
                        return Some(format!(
                            "the key {raw} twice in one object (jsonb keeps only the last)"
                        ));
                    }
                }
                i = j;
            }
            b'-' | b'0'..=b'9' => {
                let n = b[i..]
                    .iter()
                    .take_while(|c| matches!(c, b'0'..=b'9' | b'-' | b'+' | b'.' | b'e' | b'E'))
                    .count();
                let num = &doc[i..i + n];
                if num.contains(['e', 'E']) {
                    return Some(format!(
                        "the number {num}, which jsonb writes without its exponent"
                    ));
                }
                if num.starts_with('-') && num.bytes().all(|c| matches!(c, b'-' | b'0' | b'.')) {
                    return Some(format!(
                        "the number {num}, which jsonb writes without its sign"
                    ));
                }
                i += n - 1;
            }
            _ => {}
        }
        i += 1;
    }
    None
}
