//! What the target database already has: tables, their columns and actual
//! types, constraints and sequences. Read before writing, so that loading
//! into an app-created schema converts to the real column types and every
//! `finalize` step can be repeated safely.

use crate::pg::types::PgType;
use anyhow::{anyhow, Result};
use tokio_postgres::GenericClient;

pub async fn table_exists(c: &impl GenericClient, schema: &str, table: &str) -> Result<bool> {
    let r = c
        .query_one(
            "SELECT EXISTS (SELECT 1 FROM pg_class k JOIN pg_namespace n ON n.oid = k.relnamespace \
             WHERE n.nspname = $1 AND k.relname = $2 AND k.relkind IN ('r', 'p'))",
            &[&schema, &table],
        )
        .await?;
    Ok(r.get(0))
}

pub async fn has_rows(c: &impl GenericClient, qualified: &str) -> Result<bool> {
    let r = c
        .query_one(&format!("SELECT EXISTS (SELECT 1 FROM {qualified})"), &[])
        .await?;
    Ok(r.get(0))
}

pub async fn row_count(c: &impl GenericClient, qualified: &str) -> Result<i64> {
    let r = c
        .query_one(&format!("SELECT count(*) FROM {qualified}"), &[])
        .await?;
    Ok(r.get(0))
}

/// A target column: name, type (or why it is one this tool cannot load),
/// NOT NULL.
pub type ColumnType = (String, Result<PgType, String>, bool);

/// The columns of a target table, in column order. A domain is read as
/// its base type (recursively; a NOT NULL domain makes the column NOT
/// NULL), an enum with its labels, an array with its element type.
pub async fn column_types(
    c: &impl GenericClient,
    schema: &str,
    table: &str,
) -> Result<Vec<ColumnType>> {
    let rows = c
        .query(
            "SELECT a.attname::text, a.atttypid, a.atttypmod, a.attnotnull \
             FROM pg_attribute a JOIN pg_class k ON k.oid = a.attrelid \
             JOIN pg_namespace n ON n.oid = k.relnamespace \
             WHERE n.nspname = $1 AND k.relname = $2 AND a.attnum > 0 AND NOT a.attisdropped \
             ORDER BY a.attnum",
            &[&schema, &table],
        )
        .await?;
    let mut out = Vec::with_capacity(rows.len());
    for r in &rows {
        let name: String = r.get(0);
        let (ty, domain_not_null) = resolve_type(c, r.get(1), r.get(2)).await?;
        out.push((name, ty, r.get::<_, bool>(3) || domain_not_null));
    }
    Ok(out)
}

/// A column type by OID and typmod: domains are followed to their base
/// type, enums read with their labels, arrays with their element; anything
/// else is parsed from `format_type`. Also whether a domain on the way is
/// NOT NULL.
async fn resolve_type(
    c: &impl GenericClient,
    mut oid: u32,
    mut typmod: i32,
) -> Result<(Result<PgType, String>, bool)> {
    let mut not_null = false;
    let mut elem_of: Option<u32> = None;
    // Domains nest; an array's element may be a domain too. Bounded to
    // stay finite on a catalog this code does not expect.
    for _ in 0..32 {
        let r = c
            .query_one(
                "SELECT t.typtype::text, t.typbasetype, t.typtypmod, t.typelem, \
                 t.typcategory::text, t.typlen, t.typname::text, format_type(t.oid, $2), \
                 t.typnotnull, e.extname::text \
                 FROM pg_type t LEFT JOIN pg_depend d ON d.classid = 'pg_type'::regclass \
                 AND d.objid = t.oid AND d.deptype = 'e' \
                 LEFT JOIN pg_extension e ON e.oid = d.refobjid WHERE t.oid = $1",
                &[&oid, &typmod],
            )
            .await?;
        let typtype: String = r.get(0);
        let formatted: String = r.get(7);
        let extension: Option<String> = r.get(9);
        let ty = match typtype.as_str() {
            "d" => {
                // A domain: its base type, with the domain's typmod unless
                // the column has its own.
                if elem_of.is_none() {
                    not_null |= r.get::<_, bool>(8);
                }
                oid = r.get(1);
                let base_mod: i32 = r.get(2);
                if base_mod >= 0 {
                    typmod = base_mod;
                }
                continue;
            }
            "e" => {
                let labels = c
                    .query(
                        "SELECT enumlabel::text FROM pg_enum WHERE enumtypid = $1 \
                         ORDER BY enumsortorder",
                        &[&oid],
                    )
                    .await?
                    .iter()
                    .map(|r| r.get(0))
                    .collect();
                Ok(PgType::Enum {
                    name: formatted,
                    oid,
                    labels,
                })
            }
            "b" if r.get::<_, String>(4) == "A" && r.get::<_, i16>(5) == -1 => {
                if elem_of.is_some() {
                    Err(format!(
                        "unsupported target type `{formatted}` (an array of arrays)"
                    ))
                } else {
                    // The element type as the array names it (a domain's
                    // own OID, not its base's).
                    oid = r.get(3);
                    elem_of = Some(oid);
                    continue;
                }
            }
            "b" if r.get::<_, String>(6) == "citext" && extension.as_deref() == Some("citext") => {
                Ok(PgType::Citext)
            }
            _ => PgType::parse(&formatted),
        };
        let ty = match (elem_of, ty) {
            (Some(elem_oid), Ok(elem)) => Ok(PgType::Array {
                elem: Box::new(elem),
                elem_oid,
            }),
            (_, ty) => ty,
        };
        return Ok((ty, not_null));
    }
    Ok((
        Err(format!(
            "unsupported target type (oid {oid}): domains nest too deep"
        )),
        not_null,
    ))
}

pub async fn constraint_exists(
    c: &impl GenericClient,
    schema: &str,
    table: &str,
    name: &str,
) -> Result<bool> {
    Ok(constraint_validated(c, schema, table, name)
        .await?
        .is_some())
}

/// `None` when the table has no constraint of that name, else whether it is
/// validated (a foreign key added `NOT VALID` is not, until `VALIDATE`).
pub async fn constraint_validated(
    c: &impl GenericClient,
    schema: &str,
    table: &str,
    name: &str,
) -> Result<Option<bool>> {
    let r = c
        .query_opt(
            "SELECT x.convalidated FROM pg_constraint x JOIN pg_class k ON k.oid = x.conrelid \
             JOIN pg_namespace n ON n.oid = k.relnamespace \
             WHERE n.nspname = $1 AND k.relname = $2 AND x.conname = $3",
            &[&schema, &table, &name],
        )
        .await?;
    Ok(r.map(|r| r.get(0)))
}

/// The foreign keys (name, validated) and the indexes (name) a table has.
pub async fn keys_and_indexes(
    c: &impl GenericClient,
    schema: &str,
    table: &str,
) -> Result<(Vec<(String, bool)>, Vec<String>)> {
    let fks = c
        .query(
            "SELECT x.conname::text, x.convalidated FROM pg_constraint x \
             JOIN pg_class k ON k.oid = x.conrelid JOIN pg_namespace n ON n.oid = k.relnamespace \
             WHERE n.nspname = $1 AND k.relname = $2 AND x.contype = 'f' ORDER BY 1",
            &[&schema, &table],
        )
        .await?
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect();
    let indexes = c
        .query(
            "SELECT i.relname::text FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid \
             JOIN pg_class k ON k.oid = x.indrelid JOIN pg_namespace n ON n.oid = k.relnamespace \
             WHERE n.nspname = $1 AND k.relname = $2 ORDER BY 1",
            &[&schema, &table],
        )
        .await?
        .iter()
        .map(|r| r.get(0))
        .collect();
    Ok((fks, indexes))
}

pub async fn has_primary_key(c: &impl GenericClient, schema: &str, table: &str) -> Result<bool> {
    let r = c
        .query_one(
            "SELECT EXISTS (SELECT 1 FROM pg_constraint x JOIN pg_class k ON k.oid = x.conrelid \
             JOIN pg_namespace n ON n.oid = k.relnamespace \
             WHERE n.nspname = $1 AND k.relname = $2 AND x.contype = 'p')",
            &[&schema, &table],
        )
        .await?;
    Ok(r.get(0))
}

/// Columns of the table that own a sequence (serial or identity), with the
/// sequence's qualified name.
pub async fn sequences(c: &impl GenericClient, qualified: &str) -> Result<Vec<(String, String)>> {
    let rows = c
        .query(
            "SELECT a.attname::text, pg_get_serial_sequence($1, a.attname) \
             FROM pg_attribute a WHERE a.attrelid = $1::regclass AND a.attnum > 0 \
             AND NOT a.attisdropped AND pg_get_serial_sequence($1, a.attname) IS NOT NULL",
            &[&qualified],
        )
        .await?;
    Ok(rows.iter().map(|r| (r.get(0), r.get(1))).collect())
}

/// Types for the COPY column list, read from the catalog: the table as it
/// really is wins over the mapping.
pub async fn copy_types(
    c: &impl GenericClient,
    schema: &str,
    table: &str,
    columns: &[String],
) -> Result<Vec<PgType>> {
    let actual = column_types(c, schema, table).await?;
    columns
        .iter()
        .map(|col| {
            let (_, ty, _) = actual
                .iter()
                .find(|(n, _, _)| n == col)
                .ok_or_else(|| anyhow!("target table {schema}.{table} has no column {col}"))?;
            ty.clone()
                .map_err(|e| anyhow!("target column {schema}.{table}.{col}: {e}"))
        })
        .collect()
}

/// Target columns that must get a value from the load: NOT NULL, without a
/// default, not an identity or generated column.
pub async fn required_columns(
    c: &impl GenericClient,
    schema: &str,
    table: &str,
) -> Result<Vec<String>> {
    let rows = c
        .query(
            "SELECT a.attname::text FROM pg_attribute a JOIN pg_class k ON k.oid = a.attrelid \
             JOIN pg_namespace n ON n.oid = k.relnamespace \
             WHERE n.nspname = $1 AND k.relname = $2 AND a.attnum > 0 AND NOT a.attisdropped \
             AND a.attnotnull AND NOT a.atthasdef AND a.attidentity = '' AND a.attgenerated = '' \
             ORDER BY a.attnum",
            &[&schema, &table],
        )
        .await?;
    Ok(rows.iter().map(|r| r.get(0)).collect())
}

/// Whether a foreign key of the table references the table itself.
pub async fn self_referencing(c: &impl GenericClient, qualified: &str) -> Result<bool> {
    let r = c
        .query_one(
            "SELECT EXISTS (SELECT 1 FROM pg_constraint WHERE contype = 'f' \
             AND conrelid = $1::text::regclass AND confrelid = conrelid)",
            &[&qualified],
        )
        .await?;
    Ok(r.get(0))
}

/// Whether another table's foreign key references this one (a TRUNCATE of
/// it alone would be refused).
pub async fn is_referenced(c: &impl GenericClient, qualified: &str) -> Result<bool> {
    let r = c
        .query_one(
            "SELECT EXISTS (SELECT 1 FROM pg_constraint WHERE contype = 'f' \
             AND confrelid = $1::text::regclass AND conrelid <> confrelid)",
            &[&qualified],
        )
        .await?;
    Ok(r.get(0))
}

/// The foreign keys of other tables that reference this one, as (schema,
/// table, constraint name), in a stable order.
pub async fn referencing(
    c: &impl GenericClient,
    qualified: &str,
) -> Result<Vec<(String, String, String)>> {
    let rows = c
        .query(
            "SELECT n.nspname::text, k.relname::text, x.conname::text FROM pg_constraint x \
             JOIN pg_class k ON k.oid = x.conrelid JOIN pg_namespace n ON n.oid = k.relnamespace \
             WHERE x.contype = 'f' AND x.confrelid = $1::text::regclass AND x.conrelid <> x.confrelid \
             ORDER BY 1, 2, 3",
            &[&qualified],
        )
        .await?;
    Ok(rows
        .iter()
        .map(|r| (r.get(0), r.get(1), r.get(2)))
        .collect())
}

/// A foreign key of `qualified` from these columns to these columns of
/// `parent`, whatever its name (an application's own, say), as (name,
/// validated).
pub async fn equivalent_foreign_key(
    c: &impl GenericClient,
    qualified: &str,
    columns: &[String],
    parent: &str,
    ref_columns: &[String],
) -> Result<Option<(String, bool)>> {
    let cols = |key: &str, rel: &str| {
        format!(
            "ARRAY(SELECT a.attname::text FROM unnest(x.{key}) WITH ORDINALITY k(n, i) \
             JOIN pg_attribute a ON a.attrelid = x.{rel} AND a.attnum = k.n ORDER BY k.i)"
        )
    };
    let row = c
        .query_opt(
            &format!(
                "SELECT x.conname::text, x.convalidated FROM pg_constraint x \
                 WHERE x.contype = 'f' AND x.conrelid = $1::text::regclass \
                 AND x.confrelid = $2::text::regclass AND {} = $3 AND {} = $4 \
                 ORDER BY x.convalidated DESC, x.conname LIMIT 1",
                cols("conkey", "conrelid"),
                cols("confkey", "confrelid")
            ),
            &[&qualified, &parent, &columns, &ref_columns],
        )
        .await?;
    Ok(row.map(|r| (r.get(0), r.get(1))))
}

/// Why the connected user cannot make `role` the owner of what it creates,
/// if it cannot: the role does not exist, or the user is not a member of
/// it (ALTER … OWNER TO needs that, unless a superuser).
pub async fn owner_problem(c: &impl GenericClient, role: &str) -> Result<Option<String>> {
    let row = c
        .query_one(
            "SELECT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = $1), current_user::text",
            &[&role],
        )
        .await?;
    let (exists, user): (bool, String) = (row.get(0), row.get(1));
    if !exists {
        return Ok(Some(format!("role {role:?} does not exist")));
    }
    let member: bool = c
        .query_one("SELECT pg_has_role($1, 'MEMBER')", &[&role])
        .await?
        .get(0);
    Ok((!member).then(|| {
        format!("the connected user {user:?} is not a member of role {role:?}, so cannot give it tables")
    }))
}

/// Tables referenced by the foreign keys of a table (excluding itself), as
/// (schema, table).
pub async fn fk_parents(c: &impl GenericClient, qualified: &str) -> Result<Vec<(String, String)>> {
    let rows = c
        .query(
            "SELECT DISTINCT n.nspname::text, k.relname::text FROM pg_constraint x \
             JOIN pg_class k ON k.oid = x.confrelid JOIN pg_namespace n ON n.oid = k.relnamespace \
             WHERE x.contype = 'f' AND x.conrelid = $1::text::regclass AND x.confrelid <> x.conrelid",
            &[&qualified],
        )
        .await?;
    Ok(rows.iter().map(|r| (r.get(0), r.get(1))).collect())
}

/// The table an index of this name belongs to in the schema, if any (index
/// names share the schema's namespace with tables).
pub async fn index_owner(
    c: &impl GenericClient,
    schema: &str,
    index: &str,
) -> Result<Option<String>> {
    let row = c
        .query_opt(
            "SELECT t.relname::text FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid \
             JOIN pg_class t ON t.oid = x.indrelid JOIN pg_namespace n ON n.oid = i.relnamespace \
             WHERE n.nspname = $1 AND i.relname = $2",
            &[&schema, &index],
        )
        .await?;
    Ok(row.map(|r| r.get(0)))
}

/// What the relation of that name in the schema is (table, view, sequence,
/// index …), if there is one.
pub async fn relation_kind(
    c: &impl GenericClient,
    schema: &str,
    name: &str,
) -> Result<Option<&'static str>> {
    let row = c
        .query_opt(
            "SELECT c.relkind::text FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
             WHERE n.nspname = $1 AND c.relname = $2",
            &[&schema, &name],
        )
        .await?;
    Ok(row.map(|r| match r.get::<_, String>(0).as_str() {
        "r" | "p" => "table",
        "v" => "view",
        "m" => "materialized view",
        "S" => "sequence",
        "i" | "I" => "index",
        "f" => "foreign table",
        "c" => "composite type",
        _ => "relation",
    }))
}
