//! The target type of one column, for `init`: the cells decide, the
//! declared name guides. SQLite's affinity-by-substring says how a value was
//! stored, not what it is (`POINT` contains "INT"; `ENUM` gets NUMERIC
//! affinity), so a declared type is kept only when every non-NULL cell the
//! profile saw converts to it; otherwise the narrowest type that holds them
//! all is chosen (numeric, text, bytea), with a warning.
//!
//! Text-affinity columns (TEXT, CHAR/VARCHAR(n), CLOB, no type, names
//! SQLite does not know) whose every cell is one kind are upgraded when
//! every cell reads back equal: a UUID in PostgreSQL's form (lower-case,
//! dashed) → uuid, JSON object/array → jsonb, `true`/`false` → boolean, ISO date →
//! date, ISO date-time → timestamp (naive) or timestamptz (instants).
//!
//! The numbers of a date/time column are read in one unit for the column
//! (`detect_epoch`), which decides whether they are times at all.

use super::profile::ColumnProfile;
use crate::config::mapping::EpochUnit;
use crate::pg::types::PgType;
use crate::sqlite::sql::typemap::map_declared_type;

/// What `init` proposes for one column.
#[derive(Debug, Clone, PartialEq)]
pub struct Choice {
    pub ty: PgType,
    /// Why the type differs from the declared mapping (an upgrade or a
    /// widening), for the operator: shown on stderr and in the mapping.
    pub note: Option<String>,
    /// An upgrade `init` chose on its own (written `auto = true`).
    pub auto: bool,
}

/// `declared`: the declared type text; `keep_declared`: the operator's
/// switch (`--declared-types`): the declared mapping everywhere, as before
/// (only a `decimal(p,s)` too narrow for its cells is still widened).
pub fn choose_type(declared: &str, p: Option<&ColumnProfile>, keep_declared: bool) -> Choice {
    let mut c = choose(declared, p, keep_declared);
    if c.note.is_none() && matches!(c.ty, PgType::Text | PgType::Varchar(_)) {
        // UUIDs not in PostgreSQL's form stay text, and the operator is
        // told what `uuid` would change (docs/conversions.md, the lossless
        // rule); blobs becoming text are said too.
        c.note = p
            .filter(|_| !keep_declared)
            .and_then(uuid_kept_text)
            .or_else(|| p.and_then(blobs_as_text));
    }
    c
}

fn choose(declared: &str, p: Option<&ColumnProfile>, keep_declared: bool) -> Choice {
    let decl = declared.trim();
    let untyped = decl.is_empty() || decl.eq_ignore_ascii_case("any");
    let mapped = if untyped {
        None
    } else {
        Some(map_declared_type(decl))
    };
    let keep = |ty: PgType| Choice {
        auto: false,
        ty,
        note: None,
    };
    let Some(p) = p.filter(|p| p.values() > 0) else {
        // All-NULL or empty: the declared mapping (text when untyped).
        return keep(mapped.unwrap_or(PgType::Text));
    };
    // SQLite does not enforce a declared length; the declared mapping is
    // text, and init proposes varchar(n) when every cell fits.
    let mapped = match (mapped, declared_length(decl)) {
        (Some(PgType::Text), Some(n)) if !keep_declared => Some(PgType::Varchar(Some(n))),
        (m, _) => m,
    };
    let Some(mapped) = mapped else {
        // No declared type (or STRICT ANY): the cells alone.
        if !keep_declared {
            if let Some(c) = upgrade(p) {
                return c;
            }
        }
        return keep(narrowest(p));
    };
    if keep_declared {
        return keep(widen_scale(&mapped, p).unwrap_or(mapped));
    }
    let text_affinity = matches!(mapped, PgType::Text | PgType::Varchar(_) | PgType::Char(_))
        || (mapped == PgType::Numeric(None) && !is_numeric_name(decl));
    if text_affinity {
        if let Some(c) = upgrade(p) {
            return c;
        }
    }
    let ty = match mapped {
        // SQLite does not enforce lengths: varchar(n) when every cell fits.
        // char(n) becomes varchar(n): PostgreSQL's char pads and ignores
        // trailing blanks, which can break unique keys.
        PgType::Varchar(Some(n)) | PgType::Char(Some(n)) if fits_text(p) => {
            if p.max_chars <= n as u64 {
                return keep(PgType::Varchar(Some(n)));
            }
            return Choice {
                auto: false,
                ty: PgType::Text,
                note: Some(format!(
                    "a value is {} characters long, over the declared {n}: using text",
                    p.max_chars
                )),
            };
        }
        PgType::Date | PgType::Timestamp | PgType::Timestamptz => {
            if let Some(c) = by_time_cells(&mapped, p) {
                return c;
            }
            mapped
        }
        PgType::Jsonb if fits(&PgType::Jsonb, p) && p.text_formats.json_changed > 0 => {
            return Choice {
                auto: false,
                ty: PgType::Json,
                note: Some(format!(
                    "declared {decl}: json, not jsonb: {}",
                    json_kept(p)
                )),
            };
        }
        ref ty if fits(ty, p) => return keep(ty.clone()),
        PgType::Numeric(Some(_)) if fits(&PgType::Numeric(None), p) => {
            return Choice {
        auto: false,
                ty: PgType::Numeric(None),
                note: Some(format!(
                    "{} value(s) have more digits than {decl} allows (SQLite does not enforce it): using unconstrained numeric so nothing is rounded",
                    p.scale_loss
                )),
            };
        }
        ty => ty,
    };
    let to = narrowest(p);
    Choice {
        auto: false,
        note: Some(format!(
            "declared {decl} ({ty}) but its cells are {}: using {to}",
            classes(p)
        )),
        ty: to,
    }
}

/// The declared mapping, or unconstrained numeric when a `decimal(p,s)`
/// is too narrow for its cells.
fn widen_scale(ty: &PgType, p: &ColumnProfile) -> Option<PgType> {
    (matches!(ty, PgType::Numeric(Some(_))) && p.scale_loss > 0).then_some(PgType::Numeric(None))
}

/// `n` of `VARCHAR(n)`, `CHAR(n)`, `NVARCHAR(n)`, `CHARACTER VARYING(n)`…
pub(super) fn declared_length(decl: &str) -> Option<u32> {
    let d = decl.to_ascii_lowercase();
    let open = d.find('(')?;
    let base = d[..open].trim();
    if !base.contains("char") {
        return None;
    }
    let close = d[open..].find(')')? + open;
    d[open + 1..close]
        .trim()
        .parse::<u32>()
        .ok()
        .filter(|n| (1..=10_485_760).contains(n))
}

fn is_numeric_name(decl: &str) -> bool {
    let d = decl.to_ascii_lowercase();
    d.starts_with("numeric") || d.starts_with("decimal")
}

/// "12 integer, 3 text": the storage classes seen.
pub fn classes(p: &ColumnProfile) -> String {
    let parts: Vec<String> = [
        (p.integer, "integer"),
        (p.real, "real"),
        (p.text, "text"),
        (p.blob, "blob"),
    ]
    .iter()
    .filter(|(n, _)| *n > 0)
    .map(|(n, w)| format!("{n} {w}"))
    .collect();
    parts.join(", ")
}

/// A typed upgrade when every non-NULL cell is text of one kind.
fn upgrade(p: &ColumnProfile) -> Option<Choice> {
    let f = &p.text_formats;
    let n = p.text;
    if n == 0 || n != p.values() || f.padded > 0 || p.text_not_pg > 0 {
        return None;
    }
    // uuid only when every cell reads back identical: lower-case and
    // dashed already. 32 hex digits alone are no UUID (hash digests, tile
    // ids); a framework that stores `uuid.hex` says so (`framework`).
    let (ty, what) = if f.uuid_canonical == n {
        (PgType::Uuid, "UUIDs")
    } else if f.json == n && f.json_changed > 0 {
        return Some(Choice {
            auto: true,
            ty: PgType::Json,
            note: Some(format!(
                "every cell is text holding JSON objects or arrays: upgraded to json, not jsonb: {}",
                json_kept(p)
            )),
        });
    } else if f.json == n {
        (PgType::Jsonb, "JSON objects or arrays")
    } else if f.true_false == n {
        (PgType::Boolean, "the words true/false")
    } else if f.iso_date == n {
        (PgType::Date, "ISO dates")
    } else if f.iso_date + f.iso_naive + f.iso_offset == n {
        if f.iso_naive + f.iso_date > 0 {
            (PgType::Timestamp, "ISO date-times without a zone")
        } else {
            (PgType::Timestamptz, "ISO date-times with an offset")
        }
    } else {
        return None;
    };
    Some(Choice {
        auto: true,
        ty: ty.clone(),
        note: Some(format!(
            "every cell is text holding {what}: upgraded to {ty} (set type = \"text\" to keep text)"
        )),
    })
}

/// Blob cells loaded into a text column: their bytes read as UTF-8 text
/// (they are valid UTF-8), which the operator should know of.
fn blobs_as_text(p: &ColumnProfile) -> Option<String> {
    (p.blob > 0).then(|| {
        format!(
            "{} of its {} cell(s) are blobs, valid UTF-8: loaded as text (the same bytes, read as \
             UTF-8); set type = \"bytea\" to keep them bytes",
            p.blob,
            p.values()
        )
    })
}

/// Why a JSON column is `json`: what jsonb would change.
fn json_kept(p: &ColumnProfile) -> String {
    let f = &p.text_formats;
    format!(
        "{} document(s) would not read back the same from jsonb (e.g. {}); json keeps them as written",
        f.json_changed,
        f.json_change.as_deref().unwrap_or("a number")
    )
}

/// Why a column whose every cell parses as a UUID stays text: some are
/// upper-case, undashed or braced, and `uuid` would read them back
/// otherwise.
fn uuid_kept_text(p: &ColumnProfile) -> Option<String> {
    let f = &p.text_formats;
    if p.text == 0 || p.text != p.values() || f.uuid != p.text || f.uuid_canonical == p.text {
        return None;
    }
    let sample = f.uuid_sample.as_deref()?;
    let as_uuid = uuid::Uuid::try_parse(sample).ok()?.to_string();
    Some(if f.hex32 == p.text {
        format!(
            "every cell is 32 hex digits (a hash digest, or a UUID without dashes): kept as text; \
             uuid would read them back dashed (`{sample}` → `{as_uuid}`)"
        )
    } else {
        format!(
            "every cell is a UUID, {} of them not in PostgreSQL's form (upper-case, undashed or braced): \
             kept as text, which reads back identical; uuid would read them back lower-case and dashed \
             (`{sample}` → `{as_uuid}`), so an app comparing strings would no longer find them",
            p.text - f.uuid_canonical
        )
    })
}

/// Date/time columns by what their cells carry: naive wall-clock text →
/// `timestamp`; only instants (an offset, epoch numbers) → `timestamptz`; a
/// mix follows its naive cells (instants become wall time in the column's
/// timezone). `None` when some cell is no date/time at all.
fn by_time_cells(declared: &PgType, p: &ColumnProfile) -> Option<Choice> {
    let f = &p.text_formats;
    let iso = f.iso_date + f.iso_naive + f.iso_offset;
    if p.blob > 0 || iso != p.text || p.text_not_pg > 0 {
        return None;
    }
    let numbers = p.integer + p.real;
    if numbers > 0 && detect_epoch(p).is_none() {
        return None;
    }
    let ty = if *declared == PgType::Date && numbers == 0 && f.iso_date == p.text {
        PgType::Date
    } else if f.iso_naive + f.iso_date > 0 {
        PgType::Timestamp
    } else {
        PgType::Timestamptz
    };
    let note = (ty != *declared).then(|| {
        if ty == PgType::Timestamp {
            format!(
                "cells are wall-clock times without a zone ({} naive{}): {ty}",
                f.iso_naive + f.iso_date,
                if f.iso_offset + numbers > 0 {
                    format!(
                        ", {} instants converted to wall time in the column's timezone",
                        f.iso_offset + numbers
                    )
                } else {
                    String::new()
                }
            )
        } else {
            format!("cells are instants (offset or epoch): {ty}")
        }
    });
    Some(Choice {
        auto: false,
        ty,
        note,
    })
}

/// Text of every cell is PostgreSQL text.
fn fits_text(p: &ColumnProfile) -> bool {
    p.blob_not_utf8 == 0 && p.text_not_pg == 0
}

/// Text cells that read as numbers.
fn numeric_text(p: &ColumnProfile) -> bool {
    p.text_formats.integer + p.text_formats.decimal == p.text && p.text_formats.padded == 0
}

/// Does every non-NULL cell the profile saw convert to `ty`?
fn fits(ty: &PgType, p: &ColumnProfile) -> bool {
    let f = &p.text_formats;
    match ty {
        PgType::SmallInt | PgType::Integer | PgType::BigInt => {
            p.blob == 0 && p.real_fraction == 0 && f.integer == p.text && f.padded == 0
        }
        PgType::Double | PgType::Real => p.blob == 0 && p.beyond_double == 0 && numeric_text(p),
        PgType::Numeric(None) => p.blob == 0 && p.real_fraction <= p.real && numeric_text(p),
        PgType::Numeric(Some(_)) => p.blob == 0 && numeric_text(p) && p.scale_loss == 0,
        PgType::Boolean => {
            let numbers_01 = p.integer + p.real == 0
                || (p.min_number.is_some_and(|m| m >= 0.0)
                    && p.max_number.is_some_and(|m| m <= 1.0)
                    && p.real_fraction == 0);
            p.blob == 0 && numbers_01 && f.boolean + f.zero_one == p.text && f.padded == 0
        }
        PgType::Text | PgType::Varchar(None) | PgType::Char(None) | PgType::Citext => fits_text(p),
        PgType::Varchar(Some(n)) | PgType::Char(Some(n)) => {
            fits_text(p) && p.max_chars <= *n as u64
        }
        PgType::Bytea => true,
        // Declared JSON: any JSON document, scalars too (SQLAlchemy's JSON
        // writes `null` for None).
        PgType::Json | PgType::Jsonb => p.blob == 0 && f.json_any == p.text,
        PgType::Uuid => p.integer + p.real == 0 && p.blob16 == p.blob && f.uuid == p.text,
        // Checked by `by_time_cells`; time of day: trusted as declared.
        PgType::Date | PgType::Timestamp | PgType::Timestamptz | PgType::Time => true,
        // Never chosen by `init`; trusted as declared in a mapping.
        PgType::Timetz
        | PgType::Interval
        | PgType::Inet
        | PgType::Cidr
        | PgType::Enum { .. }
        | PgType::Array { .. } => true,
    }
}

/// The narrowest type holding every cell: integers → bigint, numbers →
/// double precision (numeric when an integer would round), blobs → bytea,
/// anything else → text (bytea when a cell cannot be PostgreSQL text).
fn narrowest(p: &ColumnProfile) -> PgType {
    let values = p.values();
    if values == 0 {
        PgType::Text
    } else if p.integer == values {
        PgType::BigInt
    } else if p.integer + p.real == values {
        if p.beyond_double > 0 {
            PgType::Numeric(None)
        } else {
            PgType::Double
        }
    } else if p.blob == values || !fits_text(p) {
        PgType::Bytea
    } else {
        PgType::Text
    }
}

/// The unit of the numbers in a date/time column, from their range.
pub(super) fn detect_epoch(p: &ColumnProfile) -> Option<EpochUnit> {
    if p.integer + p.real == 0 {
        return None;
    }
    let (lo, hi) = (p.min_number?, p.max_number?);
    // Julian day numbers of 1762..2501; as Unix seconds they would all be
    // in January 1970.
    if (2_365_000.0..=2_635_000.0).contains(&lo) && (2_365_000.0..=2_635_000.0).contains(&hi) {
        return Some(EpochUnit::JulianDay);
    }
    // One unit for the column, from where all of its numbers fall (never
    // per value: a seconds column's year-10000 sentinel is not "ms").
    p.epoch_bands.decide()
}
