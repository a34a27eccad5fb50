//! `init`'s decisions on what surrounds a column's data that need the other
//! columns' target names and types (`TableNames`): a `citext` (NOCASE)
//! parent column carried to the foreign keys that reference it, the index
//! collations PostgreSQL will not reproduce, and a generated column's
//! expression (`GENERATED ALWAYS AS (…) STORED` when it translates). A
//! column's own collation is `collation`'s.

use super::collation::{is_plain_text, unique_nocase};
use super::names::TableNames;
use crate::pg::types::PgType;
use crate::sqlite::schema::model::{IndexPart, SourceColumn, SourceSchema, SourceTable};
use crate::sqlite::sql::lexer::tokenize;
use crate::sqlite::sql::typemap::translate_expr_with;
use std::collections::HashMap;

/// A SQLite generated column's expression for PostgreSQL's `GENERATED
/// ALWAYS AS (…) STORED`, or why not: it must translate (to the
/// translator's functions, all immutable), reference no other generated
/// column (PostgreSQL refuses that) and give a number or text (no
/// casts to date/time types, no `||` with a non-text column: those are
/// not immutable in PostgreSQL).
pub(super) fn generated_def(
    table_names: &TableNames,
    t: &SourceTable,
    c: &SourceColumn,
    ty: &PgType,
) -> Result<String, String> {
    let sql = c
        .generated
        .as_deref()
        .ok_or("its expression was not read")?;
    let numeric = |ty: &PgType| {
        ty.is_integer() || matches!(ty, PgType::Real | PgType::Double | PgType::Numeric(_))
    };
    if !(numeric(ty) || is_plain_text(ty)) {
        return Err(format!("its type is {ty}, not a number or text"));
    }
    let mut unknown = None;
    let mut uses: Vec<String> = Vec::new();
    let mut resolve = |n: &str| match t.column(n) {
        Some(sc) if sc.hidden >= 2 => {
            unknown.get_or_insert_with(|| format!("it uses generated column `{}`", sc.name));
            None
        }
        Some(sc) => match table_names.col(&sc.name) {
            Some(ci) if ci.include => {
                uses.push(ci.target.clone());
                Some(ci.target.clone())
            }
            _ => None,
        },
        None => {
            unknown.get_or_insert_with(|| format!("`{n}` is not a column"));
            None
        }
    };
    let translated = translate_expr_with(sql, &mut resolve);
    let Some((pg, _)) = translated else {
        return Err(
            unknown.unwrap_or_else(|| "its SQL has no faithful PostgreSQL equivalent here".into())
        );
    };
    let col_ty = |name: &str| {
        table_names
            .cols
            .iter()
            .find(|(_, ci)| ci.target == name)
            .map(|(_, ci)| ci.ty.clone())
    };
    for u in &uses {
        match col_ty(u) {
            Some(ty) if numeric(&ty) || is_plain_text(&ty) || ty == PgType::Citext => {}
            Some(ty) => return Err(format!("it uses `{u}`, which becomes {ty}")),
            None => return Err(format!("it uses `{u}`, which is not moved")),
        }
    }
    let toks = tokenize(&pg).unwrap_or_default();
    if toks.iter().any(|t| t.is_op("||"))
        && uses
            .iter()
            .any(|u| col_ty(u).is_some_and(|ty| !is_plain_text(&ty) && ty != PgType::Citext))
    {
        return Err("`||` with a non-text column is not immutable in PostgreSQL".into());
    }
    if toks.iter().any(|t| t.is_word("cast"))
        && toks.iter().any(|t| {
            [
                "date",
                "time",
                "timestamp",
                "timestamptz",
                "interval",
                "timetz",
            ]
            .iter()
            .any(|w| t.is_word(w))
        })
    {
        return Err("a cast to a date/time type is not immutable in PostgreSQL".into());
    }
    Ok(pg)
}

/// Foreign-key columns referencing a `citext` (NOCASE) parent column
/// become `citext` too: SQLite compares them with the parent's collation,
/// and PostgreSQL can compare text with citext only that way round.
/// Repeated for chains of keys.
pub(super) fn citext_to_children(
    schema: &SourceSchema,
    names: &mut HashMap<String, TableNames>,
) -> Vec<String> {
    let mut warnings = Vec::new();
    loop {
        let mut changed = false;
        for t in &schema.tables {
            for fk in &t.foreign_keys {
                let Some(parent) = schema.table(&fk.ref_table) else {
                    continue;
                };
                let ref_cols: &[String] = if fk.ref_columns.is_empty() {
                    &parent.primary_key
                } else {
                    &fk.ref_columns
                };
                for (c, p) in fk.columns.iter().zip(ref_cols) {
                    let parent_citext = names
                        .get(&parent.name)
                        .and_then(|n| n.col(p))
                        .is_some_and(|x| x.ty == PgType::Citext);
                    if !parent_citext {
                        continue;
                    }
                    let Some(child) = names.get_mut(&t.name).and_then(|n| {
                        n.cols
                            .iter_mut()
                            .find(|(n, _)| n.eq_ignore_ascii_case(c))
                            .map(|(_, x)| x)
                    }) else {
                        continue;
                    };
                    if is_plain_text(&child.ty) {
                        let was = std::mem::replace(&mut child.ty, PgType::Citext);
                        warnings.push(format!(
                            "`{}`.`{c}`: citext (was {was}): it references `{}`.`{p}`, which is COLLATE NOCASE (citext), and SQLite compares the key without regard to case",
                            t.name, parent.name
                        ));
                        changed = true;
                    }
                }
            }
        }
        if !changed {
            return warnings;
        }
    }
}

/// Warn about indexes whose collation PostgreSQL will not reproduce (a
/// NOCASE column that became citext keeps it).
pub(super) fn nocase_warnings(t: &SourceTable, table_names: &TableNames) -> Vec<String> {
    let mut out = Vec::new();
    for ix in &t.indexes {
        for p in &ix.columns {
            if let IndexPart::Column {
                name,
                collation: Some(coll),
                ..
            } = p
            {
                let ty = table_names.col(name).map(|c| &c.ty);
                let nocase = coll.eq_ignore_ascii_case("nocase");
                if nocase && ty == Some(&PgType::Citext) {
                    continue;
                }
                // A UNIQUE constraint's index has SQLite's internal name.
                let what = if ix.origin == "u" {
                    format!("the UNIQUE constraint of `{}`", t.name)
                } else {
                    format!("index `{}` on `{}`", ix.name, t.name)
                };
                if ty.is_some_and(|ty| unique_nocase(ix.unique, Some(coll), ty)) {
                    out.push(format!(
                        "{what}: column `{name}` uses collation NOCASE: kept as a unique index on \
                         lower({name}), so values differing only in case stay refused; PostgreSQL's lower() \
                         folds all of Unicode under a UTF-8 locale where NOCASE folds only A-Z ('É' and 'é' \
                         now collide), which `sqlite2pg check` reports as duplicate keys"
                    ));
                    continue;
                }
                out.push(format!(
                    "{what}: column `{name}` uses collation {coll}; the PostgreSQL index compares exactly{}",
                    if ix.unique { " (values differing only in case become allowed)" } else { "" }
                ));
            }
        }
    }
    out
}
