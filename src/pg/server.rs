//! What the target server must offer before a run writes anything to it:
//! a supported version, a UTF8 database, and the features the mapping asks
//! for. Each refusal is exit class 4 (a rerun cannot help until something
//! changes) and says what to change.

use crate::error;
use crate::pg::types::PgType;
use anyhow::Result;
use tokio_postgres::GenericClient;

/// The oldest PostgreSQL this tool supports: 12 (stored generated columns,
/// `GENERATED ... AS IDENTITY`, nondeterministic ICU collations, COPY
/// FREEZE and `ON CONFLICT` are all there).
pub const MIN_SERVER_VERSION: i32 = 120_000;

/// Check the target before anything is created: its version, its database
/// encoding, and the types the mapping's columns (`"table.column"`,
/// type) need.
pub async fn check_target<'a>(
    c: &impl GenericClient,
    columns: impl IntoIterator<Item = (String, &'a PgType)>,
) -> Result<()> {
    let r = c
        .query_one(
            "SELECT current_setting('server_version_num')::int, current_setting('server_version'), \
             pg_encoding_to_char(d.encoding)::text, current_database()::text \
             FROM pg_database d WHERE d.datname = current_database()",
            &[],
        )
        .await?;
    let (num, version, encoding, db): (i32, String, String, String) =
        (r.get(0), r.get(1), r.get(2), r.get(3));
    if num < MIN_SERVER_VERSION {
        return Err(error::blocked(format!(
            "the target server runs PostgreSQL {version}; sqlite2pg needs PostgreSQL 12 or later \
             (it uses generated columns, identity columns and ICU collations); nothing was written"
        )));
    }
    if encoding != "UTF8" {
        return Err(error::blocked(format!(
            "target database {db} has encoding {encoding}; sqlite2pg loads only into UTF8 databases \
             (SQLite text is Unicode, and a character {encoding} cannot hold would fail the load \
             halfway). Create the database with ENCODING 'UTF8' (e.g. CREATE DATABASE ... ENCODING \
             'UTF8' TEMPLATE template0) and run again; nothing was written"
        )));
    }
    let mut need_citext = Vec::new();
    for (at, ty) in columns {
        let elem = match ty {
            PgType::Array { elem, .. } => elem,
            ty => ty,
        };
        if *elem == PgType::Citext {
            need_citext.push(at);
        }
    }
    if !need_citext.is_empty() {
        let r = c
            .query_one("SELECT to_regtype('citext') IS NOT NULL", &[])
            .await?;
        if !r.get::<_, bool>(0) {
            // citext is a trusted extension (PostgreSQL 13+): a user who
            // may create objects in the database may create it.
            match c
                .execute("CREATE EXTENSION IF NOT EXISTS citext", &[])
                .await
            {
                Ok(_) => tracing::info!(
                    "created extension citext in target database {db} (the mapping gives {} the type citext)",
                    need_citext.join(", ")
                ),
                Err(e) => {
                    let why = e
                        .as_db_error()
                        .map(|d| d.message().to_string())
                        .unwrap_or_else(|| e.to_string());
                    return Err(error::blocked(format!(
                        "the mapping gives {} the type citext, which target database {db} does not have, \
                         and CREATE EXTENSION citext failed ({why}); have a superuser or the database owner \
                         run CREATE EXTENSION citext there (it ships with PostgreSQL's contrib package) \
                         and run again, or change those columns' type to text (case-sensitive); \
                         nothing was written",
                        need_citext.join(", ")
                    )));
                }
            }
        }
    }
    Ok(())
}
