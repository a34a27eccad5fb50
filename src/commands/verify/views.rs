//! A created view in verify: its rows in SQLite against PostgreSQL's, counted
//! and, where every column is a number, text or bytes, compared by content
//! like a table's (through the same reader and checksum); other columns are
//! named as not compared rather than claimed equal.

use super::{hash_source, CheckReport};
use crate::config::mapping::Defaults;
use crate::config::plan::{ColumnPlan, TablePlan, ViewPlan};
use crate::convert::Converter;
use crate::pg::catalog;
use crate::pg::types::PgType;
use crate::sqlite::read::source;
use crate::sqlite::read::transform::RefusedRows;
use crate::sqlite::sql::quote::sqlite_quote;
use crate::stages::content;
use anyhow::{Context, Result};
use std::path::Path;
use tokio_postgres::types::Type;
use tokio_postgres::Client;

/// Each created view's row count in SQLite and in PostgreSQL, and where
/// the counts agree, its rows compared as far as [`view_checksum`] can.
pub(super) async fn check_views(
    client: &Client,
    src_path: &Path,
    views: &[ViewPlan],
    defaults: &Defaults,
) -> Result<Vec<CheckReport>> {
    if views.is_empty() {
        return Ok(Vec::new());
    }
    let conn = source::open_readonly(src_path)?;
    let mut out = Vec::new();
    for v in views {
        let source: i64 = conn
            .query_row(
                &format!("SELECT count(*) FROM {}", sqlite_quote(&v.name)),
                [],
                |r| r.get(0),
            )
            .with_context(|| format!("counting the rows of source view {}", v.name))?;
        let exists: bool = client
            .query_one(
                "SELECT EXISTS (SELECT 1 FROM pg_views WHERE schemaname = $1 AND viewname = $2)",
                &[&v.schema, &v.name],
            )
            .await
            .with_context(|| format!("looking for view {}", v.qualified()))?
            .get(0);
        let (ok, detail) = if exists {
            let target: i64 = client
                .query_one(&format!("SELECT count(*) FROM {}", v.qualified()), &[])
                .await
                .with_context(|| format!("counting the rows of view {}", v.qualified()))?
                .get(0);
            let counts = format!("source {source} row(s), target {target}");
            if source != target {
                (false, counts)
            } else {
                match view_checksum(client, src_path, v, defaults).await? {
                    ViewContent::Equal => (true, format!("{counts}, content checksum match")),
                    ViewContent::Differs(why) => (false, format!("{counts}, {why}")),
                    ViewContent::NotCompared(why) => {
                        (true, format!("{counts} (rows not compared: {why})"))
                    }
                }
            }
        } else {
            (
                false,
                format!(
                    "not in the target (PostgreSQL refused it during the run, or finalize has not run); source {source} row(s)"
                ),
            )
        };
        out.push(CheckReport {
            table: v.name.clone(),
            name: v.name.clone(),
            ok,
            detail,
        });
    }
    Ok(out)
}

/// What the content of a view compared to.
enum ViewContent {
    Equal,
    Differs(String),
    /// A column whose values the two engines do not give alike (a date,
    /// a json, …): counts only.
    NotCompared(String),
}

/// A view's rows in SQLite and in PostgreSQL compared like a table's:
/// SQLite's cells converted to the PostgreSQL view's column types and
/// encoded by the copy stage's reader, PostgreSQL's read back with binary
/// COPY, each side summed order-independently. Only where every column is
/// a number, text or bytes, whose conversion takes no per-column option.
async fn view_checksum(
    client: &Client,
    src_path: &Path,
    v: &ViewPlan,
    defaults: &Defaults,
) -> Result<ViewContent> {
    let opts = crate::config::plan::convert_options(defaults, None).map_err(anyhow::Error::msg)?;
    let mut columns = Vec::new();
    for (name, ty, _) in catalog::column_types(client, &v.schema, &v.name).await? {
        let ty = match ty {
            Ok(
                ty @ (PgType::SmallInt
                | PgType::Integer
                | PgType::BigInt
                | PgType::Real
                | PgType::Double
                | PgType::Text
                | PgType::Varchar(_)
                | PgType::Char(_)
                | PgType::Citext
                | PgType::Bytea),
            ) => ty,
            Ok(ty) => return Ok(ViewContent::NotCompared(format!("column {name} is {ty}"))),
            Err(e) => return Ok(ViewContent::NotCompared(format!("column {name}: {e}"))),
        };
        columns.push(ColumnPlan {
            source: name.clone(),
            target: name,
            converter: Converter::new(ty.clone(), opts.clone()),
            ty,
            not_null: false,
            default: None,
            identity: false,
            sequence_floor: None,
            on_null: None,
            null_value: None,
            auto: false,
        });
    }
    let plan = TablePlan {
        source: v.name.clone(),
        target: v.name.clone(),
        schema: v.schema.clone(),
        columns,
        added: Vec::new(),
        generated: Vec::new(),
        filter: None,
        without_rowid: true,
        from_view: true,
        commit_every: Default::default(),
        primary_key: Vec::new(),
        pk_name: String::new(),
        indexes: Vec::new(),
        foreign_keys: Vec::new(),
        checks: Vec::new(),
        constants: Vec::new(),
    };
    let wire: Vec<Type> = plan.columns.iter().map(|c| c.ty.wire_type()).collect();
    let (src, bad) = hash_source(
        src_path.to_path_buf(),
        plan.clone(),
        None,
        wire.clone(),
        defaults.batch_size,
        RefusedRows::new(),
    )
    .await
    .with_context(|| format!("reading source view {}", v.name))?;
    if bad > 0 {
        return Ok(ViewContent::Differs(format!(
            "{bad} of SQLite's rows do not convert to the PostgreSQL view's column types"
        )));
    }
    let tgt = content::target_checksum(client, &plan, &wire).await?;
    Ok(if src == tgt {
        ViewContent::Equal
    } else {
        ViewContent::Differs("content checksum differs".into())
    })
}
