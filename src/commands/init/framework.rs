//! The application framework that made the SQLite file, recognised from its
//! migrations bookkeeping table; the conventions `init` applies for it; and
//! the path it recommends (the app's migrations make the schema, `run
//! --truncate` loads the data into it).
//!
//! Each table and column name below is the one the framework's own code
//! creates (docs/conversions.md, "Framework conventions", cites the sources).

use super::choose::declared_length;
use super::profile::{ColumnProfile, Profiles};
use crate::config::mapping::{ColumnMap, Framework, Pipeline};
use crate::pg::types::PgType;
use crate::sqlite::schema::model::{SourceColumn, SourceSchema, SourceTable};
use crate::sqlite::sql::typemap::translate_default;
use std::path::Path;

/// A framework and the bookkeeping table(s) that named it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recognised {
    pub framework: Framework,
    /// E.g. "table `django_migrations`".
    pub evidence: String,
}

fn table<'a>(schema: &'a SourceSchema, name: &str) -> Option<&'a SourceTable> {
    schema
        .tables
        .iter()
        .find(|t| t.name.eq_ignore_ascii_case(name))
}

fn has_columns(t: &SourceTable, cols: &[&str]) -> bool {
    cols.iter()
        .all(|c| t.columns.iter().any(|sc| sc.name.eq_ignore_ascii_case(c)))
}

/// The framework whose bookkeeping table the file holds; `None` when there
/// is none (or a `migrations` table of neither Laravel's nor TypeORM's
/// shape). Laravel and TypeORM both name it `migrations`: Laravel's has
/// `migration` and `batch`, TypeORM's `timestamp` and `name`.
pub fn detect(schema: &SourceSchema) -> Option<Recognised> {
    let one = |f: Framework, name: &str| {
        table(schema, name).map(|t| Recognised {
            framework: f,
            evidence: format!("table `{}`", t.name),
        })
    };
    if let Some(r) = one(Framework::Django, "django_migrations") {
        return Some(r);
    }
    if let (Some(a), Some(b)) = (
        table(schema, "schema_migrations"),
        table(schema, "ar_internal_metadata"),
    ) {
        return Some(Recognised {
            framework: Framework::Rails,
            evidence: format!("tables `{}` and `{}`", a.name, b.name),
        });
    }
    let single = [
        (Framework::Prisma, "_prisma_migrations"),
        (Framework::Alembic, "alembic_version"),
        (Framework::Knex, "knex_migrations"),
        (Framework::Sequelize, "SequelizeMeta"),
    ];
    if let Some(r) = single.iter().find_map(|(f, n)| one(*f, n)) {
        return Some(r);
    }
    let m = table(schema, "migrations")?;
    let (framework, cols) = if has_columns(m, &["id", "migration", "batch"]) {
        (Framework::Laravel, "id, migration, batch")
    } else if has_columns(m, &["id", "timestamp", "name"]) {
        (Framework::Typeorm, "id, timestamp, name")
    } else {
        return None;
    };
    Some(Recognised {
        framework,
        evidence: format!("table `{}` ({cols})", m.name),
    })
}

/// The framework's name as people write it.
pub fn label(f: Framework) -> &'static str {
    match f {
        Framework::Django => "Django",
        Framework::Rails => "Rails",
        Framework::Prisma => "Prisma",
        Framework::Alembic => "Alembic (SQLAlchemy)",
        Framework::Knex => "Knex",
        Framework::Sequelize => "Sequelize",
        Framework::Laravel => "Laravel",
        Framework::Typeorm => "TypeORM",
    }
}

/// The command that makes the app's schema in PostgreSQL.
pub fn migrate_command(f: Framework) -> &'static str {
    match f {
        Framework::Django => "python manage.py migrate",
        Framework::Rails => "bin/rails db:schema:load",
        Framework::Prisma => "npx prisma migrate deploy",
        Framework::Alembic => "alembic upgrade head",
        Framework::Knex => "npx knex migrate:latest",
        Framework::Sequelize => "npx sequelize-cli db:migrate",
        Framework::Laravel => "php artisan migrate",
        Framework::Typeorm => "npx typeorm migration:run -d <your data source>",
    }
}

/// What the framework's migrations leave in the tables besides the
/// schema, which `--truncate` replaces with the file's rows.
fn bookkeeping_rows(f: Framework) -> &'static str {
    match f {
        Framework::Django => {
            "`django_migrations`; `django_content_type` and `auth_permission`, \
             whose ids the file's `auth_permission`, `django_admin_log` and \
             generic relations refer to"
        }
        Framework::Rails => "`schema_migrations` and `ar_internal_metadata`",
        Framework::Prisma => "`_prisma_migrations`",
        Framework::Alembic => "`alembic_version`",
        Framework::Knex => "`knex_migrations` and `knex_migrations_lock`",
        Framework::Sequelize => "`SequelizeMeta`",
        Framework::Laravel | Framework::Typeorm => "`migrations`",
    }
}

/// The recommendation, as lines of at most about 76 characters (for stderr
/// and the mapping's header). `mapping` names the mapping file in the `run`
/// command.
pub fn advice(r: &Recognised, mapping: &Path) -> String {
    let f = r.framework;
    let mut paras = vec![
        format!(
            "framework: {} (recognised by its {}).",
            label(f),
            r.evidence
        ),
        "recommended: let the app's own migrations create the PostgreSQL schema, \
         then load only the data into it:"
            .to_string(),
        format!(
            "  1. with the app's code at the revision that wrote this file, pointed \
             at PostgreSQL: {}",
            migrate_command(f)
        ),
        format!(
            "  2. sqlite2pg run {} --target postgres://… --truncate",
            mapping.display()
        ),
        format!(
            "     `run` loads into the tables that exist, converting to their types. \
             --truncate first empties the pipeline's tables that hold rows, listing \
             each: here the rows the migrations wrote ({}), which the file's own rows \
             replace.",
            bookkeeping_rows(f)
        ),
    ];
    if f == Framework::Django {
        paras.push(
            "Django: DateTimeField columns (declared `datetime`) are `timestamptz` \
             here, as Django's PostgreSQL backend makes them: with USE_TZ = True \
             Django writes UTC, so their naive cells are read as UTC \
             (defaults.timezone). If the app ran with USE_TZ = False, set \
             defaults.timezone to its TIME_ZONE (or a column's type to \"timestamp\" \
             to keep wall time). UUIDField columns (`char(32)` of 32 hex digits) \
             are `uuid`; JSONField columns (text with Django's JSON_VALID CHECK) \
             `jsonb`, other text holding JSON stays text. DecimalField columns \
             (`decimal`) are `numeric`: the file does not hold their \
             max_digits and decimal_places; set them from the model to read \
             back the same scale."
                .to_string(),
        );
    }
    if matches!(f, Framework::Rails | Framework::Prisma) {
        let (name, ty, decl) = match f {
            Framework::Prisma => ("Prisma", "timestamp(3)", "`DATETIME`"),
            _ => ("Rails", "timestamp(6)", "`datetime`/`datetime(6)`"),
        };
        paras.push(format!(
            "{name}: its PostgreSQL DateTime is {ty} without time zone, holding UTC. \
             {decl} columns are `timestamp` here (microsecond precision), their \
             cells read as UTC: epoch numbers and ISO text with an offset become \
             UTC wall time."
        ));
    }
    if f == Framework::Alembic {
        paras.push(
            "SQLAlchemy: Uuid columns (`CHAR(32)` of 32 hex digits) are `uuid` here, \
             as its PostgreSQL dialect makes them, and JSON columns `json`; NUMERIC(p, s) \
             keeps its precision and scale. DATETIME columns stay `timestamp` (without time zone): \
             SQLAlchemy's SQLite dialect stores no offset, even for \
             DateTime(timezone=True), so the app reads them naive from this file. \
             For a timezone=True column, set its type to \"timestamptz\" (its cells \
             are read in defaults.timezone)."
                .to_string(),
        );
    }
    paras.iter().map(|p| wrap(p, 76)).collect()
}

/// Wrap one paragraph at `width`, continuation lines indented like its
/// first word (after a list number, under the text).
fn wrap(para: &str, width: usize) -> String {
    let lead = para.len() - para.trim_start().len();
    let first = para.trim_start();
    let hang = match first.split_once(' ') {
        Some((n, _))
            if n.ends_with('.') && n[..n.len() - 1].chars().all(|c| c.is_ascii_digit()) =>
        {
            lead + n.len() + 1
        }
        _ => lead,
    };
    let mut out = String::new();
    let mut line = " ".repeat(lead);
    let mut empty = true;
    for w in first.split_whitespace() {
        if !empty && line.chars().count() + 1 + w.chars().count() > width {
            out.push_str(line.trim_end());
            out.push('\n');
            line = " ".repeat(hang);
            empty = true;
        }
        if !empty {
            line.push(' ');
        }
        line.push_str(w);
        empty = false;
    }
    out.push_str(line.trim_end());
    out.push('\n');
    out
}

/// Apply the framework's PostgreSQL conventions where they differ from the
/// cell rules (the types the mapping gives the tables `run` creates). Each
/// kind of change is one warning naming its columns.
pub fn apply_conventions(
    f: Framework,
    p: &mut Pipeline,
    schema: &SourceSchema,
    profiles: &Profiles,
    warnings: &mut Vec<String>,
) {
    match f {
        Framework::Django => django(p, schema, profiles, warnings),
        Framework::Alembic => sqlalchemy(p, schema, profiles, warnings),
        Framework::Rails | Framework::Prisma => utc_wall_time(f, p, schema, warnings),
        _ => {}
    }
}

/// Rails and Prisma: their PostgreSQL DateTime is `timestamp` without time
/// zone holding UTC (Rails' PostgreSQL adapter, `datetime_type = :timestamp`,
/// `timestamp(6)` since Rails 7; Prisma's DateTime, `timestamp(3)`). Their
/// SQLite files declare `datetime` / `datetime(6)` (Rails) or `DATETIME`
/// (Prisma); where the cell rules chose `timestamptz` (cells with an offset,
/// or Prisma's epoch milliseconds), the column becomes `timestamp` and the
/// cells their UTC wall time (`defaults.timezone` is UTC). Naive cells are
/// `timestamp` already. The mapping's `timestamp` has PostgreSQL's default
/// precision (microseconds: timestamp(6)); Prisma's values carry
/// milliseconds at most, so its timestamp(3) would hold the same.
fn utc_wall_time(
    f: Framework,
    p: &mut Pipeline,
    schema: &SourceSchema,
    warnings: &mut Vec<String>,
) {
    let mut cols = Vec::new();
    for_each_column(p, schema, |st, sc, cm| {
        let tname = &st.name;
        let declared = sc.declared_type.trim().to_ascii_lowercase();
        if declared.starts_with("datetime") && cm.pg_type == PgType::Timestamptz.to_string() {
            cm.pg_type = PgType::Timestamp.to_string();
            if let Some(raw) = &sc.default {
                cm.default = translate_default(raw, &PgType::Timestamp).unwrap_or(None);
            }
            cols.push(format!("{tname}.{}", sc.name));
        }
    });
    if !cols.is_empty() {
        let (name, what) = match f {
            Framework::Prisma => (
                "Prisma",
                "DateTime column(s) (epoch milliseconds or ISO text with an offset)",
            ),
            _ => ("Rails", "datetime column(s) whose cells carry an offset"),
        };
        warnings.push(format!(
            "{name}: {} {what} → timestamp (without time zone), as its PostgreSQL \
             schema makes them, holding UTC wall time (defaults.timezone): {}",
            cols.len(),
            cols.join(", ")
        ));
    }
}

/// Call `f` with each mapped column of each source table: the table, the
/// source column and its mapping entry.
fn for_each_column(
    p: &mut Pipeline,
    schema: &SourceSchema,
    mut f: impl FnMut(&SourceTable, &SourceColumn, &mut ColumnMap),
) {
    for (tname, tm) in p.table_maps.iter_mut() {
        let Some(st) = schema.tables.iter().find(|t| &t.name == tname) else {
            continue;
        };
        for sc in &st.columns {
            if let Some(cm) = tm.columns.get_mut(&sc.name) {
                let before = cm.pg_type.clone();
                f(st, sc, cm);
                // The framework's rule decided it: no longer init's own
                // upgrade (the app reads it the framework's way).
                if cm.pg_type != before {
                    cm.auto = false;
                }
            }
        }
    }
}

/// A `char(32)` column without a default whose every cell is 32 hex digits
/// (all-digit ones included), not yet `uuid`: Django's UUIDField and
/// SQLAlchemy's `Uuid` in SQLite (both store `uuid.hex`).
fn hex32_uuid(sc: &SourceColumn, cm: &ColumnMap, cells: Option<&ColumnProfile>) -> bool {
    let declared = sc.declared_type.split_whitespace().collect::<String>();
    declared.eq_ignore_ascii_case("char(32)")
        && sc.default.is_none()
        && cm.pg_type != PgType::Uuid.to_string()
        && cells.is_some_and(|c| {
            c.text > 0
                && c.integer + c.real + c.blob == 0
                && c.text_formats.hex32 == c.text
                && c.text_formats.padded == 0
        })
}

/// The cell rules' warning about column `table`.`col` containing `what`,
/// withdrawn: the framework's convention decided the column instead.
fn drop_column_warning(warnings: &mut Vec<String>, table: &str, col: &str, what: &str) {
    let prefix = format!("`{table}`.`{col}`: ");
    warnings.retain(|w| !(w.starts_with(&prefix) && w.contains(what)));
}

/// SQLAlchemy (a file with Alembic's `alembic_version`), its SQLite
/// dialect's DDL against its PostgreSQL dialect's:
/// - `Uuid` is `CHAR(32)` holding `uuid.hex` in SQLite, `UUID` in
///   PostgreSQL; the cell rules keep an all-digit hex string as text.
/// - `Numeric(p, s)` is `NUMERIC(p, s)` in both: kept by the cell rules.
/// - `DateTime` is `DATETIME` in SQLite whether `timezone=True` or not, and
///   its SQLite dialect stores no offset: the cells are naive, and the cell
///   rules keep them `timestamp` (naive), as the app reads them from the
///   file; the header says how to make a `timezone=True` column timestamptz.
fn sqlalchemy(
    p: &mut Pipeline,
    schema: &SourceSchema,
    profiles: &Profiles,
    warnings: &mut Vec<String>,
) {
    let mut uuids = Vec::new();
    let mut json = Vec::new();
    for_each_column(p, schema, |st, sc, cm| {
        let tname = &st.name;
        let cells = profiles.get(tname).and_then(|p| p.get(&sc.name));
        if hex32_uuid(sc, cm, cells) {
            cm.pg_type = PgType::Uuid.to_string();
            drop_column_warning(warnings, tname, &sc.name, "uuid would");
            uuids.push(format!("{tname}.{}", sc.name));
        } else if sc.declared_type.trim().eq_ignore_ascii_case("json")
            && cm.pg_type == PgType::Jsonb.to_string()
        {
            cm.pg_type = PgType::Json.to_string();
            json.push(format!("{tname}.{}", sc.name));
        }
    });
    if !json.is_empty() {
        warnings.push(format!(
            "SQLAlchemy: {} JSON column(s) → json (not jsonb), as its PostgreSQL dialect makes \
             them: the documents read back as written, numbers too: {}",
            json.len(),
            json.join(", ")
        ));
    }
    if !uuids.is_empty() {
        warnings.push(format!(
            "SQLAlchemy: {} Uuid column(s) (CHAR(32), every cell 32 hex digits) → uuid, \
             as its PostgreSQL dialect makes them: {}",
            uuids.len(),
            uuids.join(", ")
        ));
    }
}

/// Does the table carry Django's JSONField CHECK on `col`
/// (`JSON_VALID("col") OR "col" IS NULL`, its SQLite backend's
/// `data_type_check_constraints`)?
fn has_json_valid_check(t: &SourceTable, col: &str) -> bool {
    let quoted = format!("json_valid(\"{}\")", col.to_ascii_lowercase());
    let bare = format!("json_valid({})", col.to_ascii_lowercase());
    t.checks.iter().any(|c| {
        let c = c
            .split_whitespace()
            .collect::<String>()
            .to_ascii_lowercase();
        c.contains(&quoted) || c.contains(&bare)
    })
}

/// Django (its SQLite backend's `data_types` and
/// `data_type_check_constraints` against its PostgreSQL backend's):
/// - DateTimeField is `datetime` in SQLite, `timestamp with time zone` in
///   PostgreSQL; with USE_TZ its SQLite backend writes naive UTC text,
///   which the cell rules alone would make `timestamp`.
/// - UUIDField is `char(32)` holding `uuid.hex`, `uuid` in PostgreSQL; the
///   cell rules keep an all-digit hex string as text.
/// - JSONField is `text` with `CHECK (JSON_VALID(col) OR col IS NULL)`,
///   `jsonb` in PostgreSQL, whatever JSON its cells hold (a bare string
///   too); a TextField holding JSON has no such CHECK and stays text (as
///   jsonb it would read back re-spaced and refuse the empty string).
/// - DecimalField is a bare `decimal`: max_digits and decimal_places are
///   only in the model, so the column stays `numeric` (every value kept)
///   and a warning asks for them.
fn django(
    p: &mut Pipeline,
    schema: &SourceSchema,
    profiles: &Profiles,
    warnings: &mut Vec<String>,
) {
    let mut times = Vec::new();
    let mut uuids = Vec::new();
    let mut json = Vec::new();
    let mut texts = Vec::new();
    let mut decimals = Vec::new();
    for_each_column(p, schema, |st, sc, cm| {
        let tname = &st.name;
        let declared = sc.declared_type.split_whitespace().collect::<String>();
        let cells = profiles.get(tname).and_then(|p| p.get(&sc.name));
        let only_text = cells.is_some_and(|c| c.integer + c.real + c.blob == 0);
        let jsonb = PgType::Jsonb.to_string();
        if declared.eq_ignore_ascii_case("datetime") && cm.pg_type == PgType::Timestamp.to_string()
        {
            cm.pg_type = PgType::Timestamptz.to_string();
            if let Some(raw) = &sc.default {
                cm.default = translate_default(raw, &PgType::Timestamptz).unwrap_or(None);
            }
            times.push(format!("{tname}.{}", sc.name));
        } else if hex32_uuid(sc, cm, cells) {
            cm.pg_type = PgType::Uuid.to_string();
            drop_column_warning(warnings, tname, &sc.name, "uuid would");
            uuids.push(format!("{tname}.{}", sc.name));
        } else if has_json_valid_check(st, &sc.name) {
            if cm.pg_type != jsonb && only_text && sc.default.is_none() {
                cm.pg_type = jsonb;
                drop_column_warning(warnings, tname, &sc.name, "jsonb");
                json.push(format!("{tname}.{}", sc.name));
            }
        } else if cm.pg_type == jsonb || cm.pg_type == PgType::Json.to_string() {
            // The cell rules' upgrade, undone: its warning goes too.
            let fits = |n: u32| cells.is_none_or(|c| c.max_chars <= u64::from(n));
            cm.pg_type = match declared_length(&sc.declared_type) {
                Some(n) if fits(n) => PgType::Varchar(Some(n)),
                _ => PgType::Text,
            }
            .to_string();
            drop_column_warning(warnings, tname, &sc.name, "jsonb");
            texts.push(format!("{tname}.{}", sc.name));
        } else if declared.eq_ignore_ascii_case("decimal")
            && cm.pg_type == PgType::Numeric(None).to_string()
        {
            decimals.push(format!("{tname}.{}", sc.name));
        }
    });
    let mut say = |cols: Vec<String>, what: &str| {
        if !cols.is_empty() {
            warnings.push(format!(
                "Django: {} {what}: {}",
                cols.len(),
                cols.join(", ")
            ));
        }
    };
    say(
        times,
        "DateTimeField column(s) → timestamptz, naive cells read as UTC \
         (USE_TZ = True stores UTC; see the header)",
    );
    say(
        uuids,
        "UUIDField column(s) (char(32), every cell 32 hex digits) → uuid, \
         as Django's PostgreSQL backend makes them",
    );
    say(
        json,
        "JSONField column(s) (text with Django's JSON_VALID CHECK) → jsonb, \
         as Django's PostgreSQL backend makes them",
    );
    say(
        texts,
        "column(s) holding JSON without Django's JSONField CHECK (TextField or \
         CharField) kept as text, not jsonb: the app reads them as strings",
    );
    say(
        decimals,
        "DecimalField column(s) (declared `decimal`: the file does not hold \
         max_digits and decimal_places) → numeric, which keeps every value but \
         not the scale Django shows (12.50 reads back as Decimal('12.5')); \
         set type = \"numeric(max_digits, decimal_places)\" from the model",
    );
}

#[cfg(test)]
#[path = "framework_tests.rs"]
mod tests;
