//! A column's SQLite collation, for `init`: `COLLATE NOCASE` on a text
//! column makes it `citext`, a unique NOCASE index on a column that stays
//! text becomes a unique index on `lower(column)`; `RTRIM` and
//! application-defined collations are named as not kept.

use crate::pg::types::PgType;
use crate::sqlite::schema::model::SourceColumn;

/// Text types that can become `citext` (a length limit is lost).
pub(super) fn is_plain_text(ty: &PgType) -> bool {
    matches!(ty, PgType::Text | PgType::Varchar(_) | PgType::Char(_))
}

/// A column's SQLite collation: `NOCASE` on a text column makes it
/// `citext` (case-insensitive equality, uniqueness and LIKE in
/// PostgreSQL, as SQLite had); `RTRIM` and other collations are not kept.
/// Returns the warning (also the column's `# init:` note in the mapping).
pub(super) fn collation_choice(table: &str, c: &SourceColumn, ty: &mut PgType) -> Option<String> {
    let coll = c.collation.as_deref()?;
    let at = format!("`{table}`.`{}`", c.name);
    if coll.eq_ignore_ascii_case("nocase") {
        if is_plain_text(ty) {
            let was = std::mem::replace(ty, PgType::Citext);
            return Some(format!(
                "{at}: COLLATE NOCASE → citext (was {was}): PostgreSQL compares it without regard to case, so its unique keys, foreign keys and LIKE stay case-insensitive; citext folds all of Unicode where NOCASE folds only ASCII ('É' = 'é' now), which `sqlite2pg check` reports as duplicate keys; needs the citext extension (run creates it when missing)"
            ));
        }
        return Some(format!(
            "{at}: COLLATE NOCASE not kept: the column becomes {ty}, not text; its text values compare exactly"
        ));
    }
    if coll.eq_ignore_ascii_case("rtrim") {
        return Some(format!(
            "{at}: COLLATE RTRIM not kept: PostgreSQL compares trailing spaces ('a ' <> 'a'), so values SQLite held equal become distinct (a unique key allows both)"
        ));
    }
    Some(format!(
        "{at}: COLLATE {coll} not kept (an application-defined collation): PostgreSQL compares the column by its default collation"
    ))
}

/// A unique index's `COLLATE NOCASE` on a column that stays plain text:
/// kept as a unique index on `lower(column)` (a NOCASE column that became
/// citext compares without regard to case already).
pub(super) fn unique_nocase(unique: bool, collation: Option<&str>, ty: &PgType) -> bool {
    unique
        && collation.is_some_and(|c| c.eq_ignore_ascii_case("nocase"))
        && matches!(ty, PgType::Text | PgType::Varchar(_))
}
