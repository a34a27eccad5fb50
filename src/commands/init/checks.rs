//! A CHECK written for SQLite's cells, adapted to the column types the
//! target chose, before it is translated to PostgreSQL: SQLite's functions
//! that look at how a value is stored mean something else (or nothing) in
//! PostgreSQL once the column has a type.
//!
//! - `length(col)` on a column that became an integer type: SQLite counts
//!   the characters of the integer's decimal text; PostgreSQL has no
//!   `length(bigint)`. It becomes `length(CAST(col AS TEXT))`, the same
//!   count. (Reals, booleans, uuids, dates render differently in the two
//!   engines: left as they are, so PostgreSQL refuses them by name.)
//! - `typeof(col)` on a column of a fixed type: in PostgreSQL every
//!   non-NULL value of the column has that type, so it is the constant
//!   SQLite's `typeof` gave for the cells it held (`'integer'`, `'real'`,
//!   `'text'`, `'blob'`), `'null'` for NULL.
//!
//! Anything else is left for the translator, which refuses what has no
//! faithful PostgreSQL equivalent (`glob`, …): such a CHECK is named as not
//! carried over.

use crate::pg::types::PgType;
use crate::sqlite::sql::lexer::{tokenize, Tok, Token};

/// `chk` with `length(col)` and `typeof(col)` rewritten for the target
/// types `ty_of` gives (`None`: not a column of the table).
pub(super) fn adapt_check(chk: &str, ty_of: &dyn Fn(&str) -> Option<PgType>) -> String {
    let Ok(toks) = tokenize(chk) else {
        return chk.to_string();
    };
    let mut out = String::new();
    let mut copied = 0; // byte offset of `chk` copied so far
    let mut i = 0;
    while i < toks.len() {
        if let Some((k, ty)) = single_column_call(&toks, i, ty_of) {
            // The column as the CHECK wrote it (quotes and all).
            let col = &chk[toks[k].start..toks[k].end];
            let func = match &toks[i].tok {
                Tok::Word(w) => w.to_ascii_lowercase(),
                _ => unreachable!("single_column_call matched a word"),
            };
            let replacement = match func.as_str() {
                "length" if ty.is_integer() => Some(format!("length(CAST({col} AS TEXT))")),
                "typeof" => storage_class(&ty).map(|class| {
                    format!("(CASE WHEN {col} IS NULL THEN 'null' ELSE '{class}' END)")
                }),
                _ => None,
            };
            if let Some(r) = replacement {
                out.push_str(&chk[copied..toks[i].start]);
                out.push_str(&r);
                copied = toks[i + 3].end;
                i += 4;
                continue;
            }
        }
        i += 1;
    }
    out.push_str(&chk[copied..]);
    out
}

/// `f(col)` at `i` (f = length or typeof, col a column of the table): the
/// column's token and its target type.
fn single_column_call(
    toks: &[Token],
    i: usize,
    ty_of: &dyn Fn(&str) -> Option<PgType>,
) -> Option<(usize, PgType)> {
    let f = &toks[i];
    if !(f.is_word("length") || f.is_word("typeof")) {
        return None;
    }
    if !toks.get(i + 1)?.is_op("(") || !toks.get(i + 3)?.is_op(")") {
        return None;
    }
    // A function name is not a column reference: `t.length(…)` is not this.
    if i > 0 && toks[i - 1].is_op(".") {
        return None;
    }
    let name = match &toks.get(i + 2)?.tok {
        Tok::Word(n) => n.as_str(),
        Tok::Quoted { name, .. } => name.as_str(),
        _ => return None,
    };
    Some((i + 2, ty_of(name)?))
}

/// What SQLite's `typeof` said of the cells a column of this target type
/// was loaded from; `None` where it could have been several.
fn storage_class(ty: &PgType) -> Option<&'static str> {
    match ty {
        PgType::SmallInt | PgType::Integer | PgType::BigInt | PgType::Boolean => Some("integer"),
        PgType::Real | PgType::Double => Some("real"),
        PgType::Text | PgType::Varchar(_) | PgType::Char(_) | PgType::Citext => Some("text"),
        PgType::Bytea => Some("blob"),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ty(name: &str) -> Option<PgType> {
        match name.to_ascii_lowercase().as_str() {
            "code" | "n" => Some(PgType::BigInt),
            "price" => Some(PgType::Double),
            "name" => Some(PgType::Text),
            "data" => Some(PgType::Bytea),
            _ => None,
        }
    }

    #[test]
    fn length_of_an_integer_column_counts_its_decimal_text() {
        assert_eq!(
            adapt_check("length(code) >= 1", &ty),
            "length(CAST(code AS TEXT)) >= 1"
        );
        assert_eq!(
            adapt_check("LENGTH(\"code\") BETWEEN 1 AND 5", &ty),
            "length(CAST(\"code\" AS TEXT)) BETWEEN 1 AND 5"
        );
        // Text keeps its own length; reals are not rewritten (their text
        // differs between the engines).
        assert_eq!(adapt_check("length(name) > 0", &ty), "length(name) > 0");
        assert_eq!(adapt_check("length(price) < 9", &ty), "length(price) < 9");
        assert_eq!(adapt_check("length(other) < 9", &ty), "length(other) < 9");
    }

    #[test]
    fn typeof_of_a_typed_column_is_its_storage_class() {
        assert_eq!(
            adapt_check(
                "typeof(n) = 'integer' AND typeof(data) IN ('blob', 'null')",
                &ty
            ),
            "(CASE WHEN n IS NULL THEN 'null' ELSE 'integer' END) = 'integer' AND \
             (CASE WHEN data IS NULL THEN 'null' ELSE 'blob' END) IN ('blob', 'null')"
        );
    }
}
