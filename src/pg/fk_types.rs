//! Which (parent, child) key types PostgreSQL accepts in a foreign key: its
//! own rule, as `ALTER TABLE … ADD FOREIGN KEY` applies it. The parent key's
//! default btree operator family must have `=` for (parent type, child
//! type), or the child type must cast implicitly to the type the parent's
//! operator class compares. So text → varchar(n), varchar(20) → varchar(10),
//! integer → numeric and cidr → inet are kept; numeric → bigint is not.
//! Type modifiers (lengths, precision) never matter. docs/mapping.md
//! ("Foreign keys") says what init does with a refused pair.

use super::types::PgType;

/// The default btree operator family of a key type; `None` when the type
/// has no btree equality at all (json), so it cannot be a key.
fn family(t: &PgType) -> Option<&'static str> {
    Some(match t {
        PgType::SmallInt | PgType::Integer | PgType::BigInt => "integer_ops",
        PgType::Real | PgType::Double => "float_ops",
        PgType::Date | PgType::Timestamp | PgType::Timestamptz => "datetime_ops",
        PgType::Numeric(_) => "numeric_ops",
        PgType::Text | PgType::Varchar(_) => "text_ops",
        PgType::Char(_) => "bpchar_ops",
        PgType::Citext => "citext_ops",
        PgType::Boolean => "bool_ops",
        PgType::Bytea => "bytea_ops",
        PgType::Time => "time_ops",
        PgType::Timetz => "timetz_ops",
        PgType::Interval => "interval_ops",
        PgType::Uuid => "uuid_ops",
        PgType::Jsonb => "jsonb_ops",
        PgType::Inet | PgType::Cidr => "network_ops",
        PgType::Enum { .. } => "enum_ops",
        PgType::Array { .. } => "array_ops",
        PgType::Json => return None,
    })
}

/// The families whose `=` is defined across all their member types
/// (`int2 = int8`, `float4 = float8`, `date = timestamptz`).
fn cross_type(family: &str) -> bool {
    matches!(family, "integer_ops" | "float_ops" | "datetime_ops")
}

/// A type without its modifiers: `varchar(10)` and `varchar(20)` are one type.
fn base(t: &PgType) -> PgType {
    match t {
        PgType::Numeric(_) => PgType::Numeric(None),
        PgType::Varchar(_) => PgType::Varchar(None),
        PgType::Char(_) => PgType::Char(None),
        other => other.clone(),
    }
}

/// The type the parent's default operator class compares (`opcintype`):
/// varchar uses text's class, cidr inet's.
fn class_input(parent: &PgType) -> PgType {
    match parent {
        PgType::Varchar(_) => PgType::Text,
        PgType::Cidr => PgType::Inet,
        other => base(other),
    }
}

/// Does `from` cast implicitly to `to` (pg_cast's implicit casts, the
/// citext extension's included)? Enums and arrays only to themselves: the
/// polymorphic classes need both sides to be the same type.
fn implicit_cast(from: &PgType, to: &PgType) -> bool {
    use PgType::*;
    let from = base(from);
    if from == *to {
        return true;
    }
    match to {
        SmallInt => false,
        Integer => from == SmallInt,
        BigInt => matches!(from, SmallInt | Integer),
        Real => from.is_integer() || from == Numeric(None),
        Double => from.is_integer() || matches!(from, Real | Numeric(None)),
        Numeric(_) => from.is_integer(),
        Text => matches!(from, Varchar(_) | Char(_) | Citext),
        Varchar(_) => matches!(from, Text | Char(_) | Citext),
        Char(_) => matches!(from, Text | Varchar(_)),
        Timestamp => from == Date,
        Timestamptz => matches!(from, Date | Timestamp),
        Timetz | Interval => from == Time,
        Inet => from == Cidr,
        _ => false,
    }
}

/// Does PostgreSQL accept a foreign key whose child column is `child` and
/// whose referenced column is `parent`?
pub fn accepts(parent: &PgType, child: &PgType) -> bool {
    let Some(fam) = family(parent) else {
        return false;
    };
    let input = class_input(parent);
    // `=` for (parent, child) and (child, child) in the parent's family.
    // The polymorphic families (enums, arrays) list only their pseudo-type.
    let polymorphic = matches!(input, PgType::Enum { .. } | PgType::Array { .. });
    let in_family =
        !polymorphic && family(child) == Some(fam) && (cross_type(fam) || base(child) == input);
    in_family || implicit_cast(child, &input)
}

/// Why PostgreSQL refuses a pair `accepts` refuses, in its words.
pub fn refusal(child_col: &str, parent_col: &str, parent: &PgType, child: &PgType) -> String {
    if family(parent).is_none() {
        return format!(
            "PostgreSQL has no equality for {parent}, so `{parent_col}` cannot be a key"
        );
    }
    format!(
        "PostgreSQL refuses it: key columns `{child_col}` and `{parent_col}` are of incompatible types: {child} and {parent}"
    )
}

#[cfg(test)]
#[path = "fk_types_tests.rs"]
mod tests;
