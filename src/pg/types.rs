//! Target PostgreSQL column types: parsed from the mapping file (or from the
//! catalog of an existing target table), rendered back into DDL, and mapped to
//! the wire `Type` that binary COPY needs.
//!
//! Only types the transform knows how to produce are accepted; anything else
//! is a mapping error rather than a surprise at load time. Types only an
//! existing (application-made) table can have — native enums, arrays, and
//! domains, which are read as their base type — come from the catalog
//! (`catalog::column_types`), never from a mapping file.

use std::fmt;
use tokio_postgres::types::Type;

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum PgType {
    Boolean,
    SmallInt,
    Integer,
    BigInt,
    /// float4: never chosen by `init` (it silently drops digits); accepted when
    /// an existing target schema has it.
    Real,
    Double,
    /// numeric(precision, scale); `None` = unconstrained numeric.
    Numeric(Option<(u32, u32)>),
    Text,
    Varchar(Option<u32>),
    Char(Option<u32>),
    Bytea,
    Date,
    Time,
    Timestamp,
    Timestamptz,
    Json,
    Jsonb,
    Uuid,
    /// time with time zone.
    Timetz,
    Interval,
    Inet,
    Cidr,
    /// The `citext` extension's type: sent as text (its binary form).
    Citext,
    /// A native enum (from the catalog): its name as `format_type` spells
    /// it, its OID (an array of it names it) and its labels in order.
    Enum {
        name: String,
        oid: u32,
        labels: Vec<String>,
    },
    /// A one-dimensional array (from the catalog); `elem_oid` is the
    /// element type's own OID (a domain's or an enum's), which the binary
    /// array format carries and PostgreSQL checks.
    Array {
        elem: Box<PgType>,
        elem_oid: u32,
    },
}

impl PgType {
    /// Parse a type as written in a mapping file or returned by
    /// `format_type()`. Case-insensitive; extra spaces ignored.
    pub fn parse(s: &str) -> Result<PgType, String> {
        let norm = s.trim().to_ascii_lowercase();
        let norm = norm.split_whitespace().collect::<Vec<_>>().join(" ");
        let (base, args) = match norm.find('(') {
            Some(i) => {
                let close = norm
                    .rfind(')')
                    .ok_or_else(|| format!("unbalanced parenthesis in type `{s}`"))?;
                if close < i {
                    return Err(format!("unbalanced parenthesis in type `{s}`"));
                }
                let args: Result<Vec<u32>, _> = norm[i + 1..close]
                    .split(',')
                    .map(|a| a.trim().parse::<u32>())
                    .collect();
                let args = args.map_err(|_| format!("bad type modifier in `{s}`"))?;
                let rest = norm[close + 1..].trim();
                let base = format!("{} {}", norm[..i].trim(), rest);
                (base.trim().to_string(), args)
            }
            None => (norm.clone(), Vec::new()),
        };
        let one = |args: &[u32]| -> Result<Option<u32>, String> {
            match args {
                [] => Ok(None),
                [n] if *n > 0 => Ok(Some(*n)),
                _ => Err(format!("bad length in type `{s}`")),
            }
        };
        let no_args = |t: PgType| -> Result<PgType, String> {
            if args.is_empty() {
                Ok(t)
            } else {
                Err(format!("type `{s}` takes no modifier"))
            }
        };
        match base.as_str() {
            "boolean" | "bool" => no_args(PgType::Boolean),
            "smallint" | "int2" => no_args(PgType::SmallInt),
            "integer" | "int" | "int4" => no_args(PgType::Integer),
            "bigint" | "int8" => no_args(PgType::BigInt),
            "real" | "float4" => no_args(PgType::Real),
            "double precision" | "float8" => no_args(PgType::Double),
            "numeric" | "decimal" => match args.as_slice() {
                [] => Ok(PgType::Numeric(None)),
                [p] if (1..=1000).contains(p) => Ok(PgType::Numeric(Some((*p, 0)))),
                [p, sc] if (1..=1000).contains(p) && sc <= p => {
                    Ok(PgType::Numeric(Some((*p, *sc))))
                }
                _ => Err(format!("bad precision/scale in type `{s}`")),
            },
            "text" => no_args(PgType::Text),
            "varchar" | "character varying" => Ok(PgType::Varchar(one(&args)?)),
            "char" | "character" | "bpchar" => Ok(PgType::Char(one(&args)?)),
            "bytea" => no_args(PgType::Bytea),
            "date" => no_args(PgType::Date),
            "time" | "time without time zone" => no_args(PgType::Time),
            "timestamp" | "timestamp without time zone" => no_args(PgType::Timestamp),
            "timestamptz" | "timestamp with time zone" => no_args(PgType::Timestamptz),
            "json" => no_args(PgType::Json),
            "jsonb" => no_args(PgType::Jsonb),
            "uuid" => no_args(PgType::Uuid),
            "timetz" | "time with time zone" => no_args(PgType::Timetz),
            "interval" => no_args(PgType::Interval),
            "inet" => no_args(PgType::Inet),
            "cidr" => no_args(PgType::Cidr),
            "citext" => no_args(PgType::Citext),
            _ => Err(format!(
                "unsupported target type `{s}` (supported: boolean, smallint, integer, bigint, \
                 real, double precision, numeric[(p[,s])], text, varchar[(n)], char[(n)], bytea, \
                 date, time, timetz, timestamp, timestamptz, interval, json, jsonb, uuid, inet, \
                 cidr, citext; in an existing table also native enums, domains over these and \
                 one-dimensional arrays of them)"
            )),
        }
    }

    /// The wire type binary COPY encodes for this column.
    pub fn wire_type(&self) -> Type {
        match self {
            PgType::Boolean => Type::BOOL,
            PgType::SmallInt => Type::INT2,
            PgType::Integer => Type::INT4,
            PgType::BigInt => Type::INT8,
            PgType::Real => Type::FLOAT4,
            PgType::Double => Type::FLOAT8,
            PgType::Numeric(_) => Type::NUMERIC,
            PgType::Text => Type::TEXT,
            PgType::Varchar(_) => Type::VARCHAR,
            PgType::Char(_) => Type::BPCHAR,
            PgType::Bytea => Type::BYTEA,
            PgType::Date => Type::DATE,
            PgType::Time => Type::TIME,
            PgType::Timestamp => Type::TIMESTAMP,
            PgType::Timestamptz => Type::TIMESTAMPTZ,
            PgType::Json => Type::JSON,
            PgType::Jsonb => Type::JSONB,
            PgType::Uuid => Type::UUID,
            PgType::Timetz => Type::TIMETZ,
            PgType::Interval => Type::INTERVAL,
            PgType::Inet => Type::INET,
            PgType::Cidr => Type::CIDR,
            // Their binary forms are the text's bytes; the column's type on
            // the server decides how they are read.
            PgType::Citext | PgType::Enum { .. } => Type::TEXT,
            // The encoder ignores it; `verify` normalizes the elements of
            // the types PostgreSQL stores normalized.
            PgType::Array { elem, .. } => match elem.wire_type() {
                Type::BPCHAR => Type::BPCHAR_ARRAY,
                Type::NUMERIC => Type::NUMERIC_ARRAY,
                Type::JSONB => Type::JSONB_ARRAY,
                Type::JSON => Type::JSON_ARRAY,
                _ => Type::TEXT_ARRAY,
            },
        }
    }

    /// Whether a column of this type takes text as it is (text, varchar,
    /// char, citext): the length limit is the only check.
    pub fn is_text(&self) -> bool {
        matches!(
            self,
            PgType::Text | PgType::Varchar(_) | PgType::Char(_) | PgType::Citext
        )
    }

    pub fn is_integer(&self) -> bool {
        matches!(self, PgType::SmallInt | PgType::Integer | PgType::BigInt)
    }
}

impl fmt::Display for PgType {
    /// Canonical DDL spelling; `PgType::parse(&t.to_string()) == t`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PgType::Boolean => f.write_str("boolean"),
            PgType::SmallInt => f.write_str("smallint"),
            PgType::Integer => f.write_str("integer"),
            PgType::BigInt => f.write_str("bigint"),
            PgType::Real => f.write_str("real"),
            PgType::Double => f.write_str("double precision"),
            PgType::Numeric(None) => f.write_str("numeric"),
            PgType::Numeric(Some((p, s))) => write!(f, "numeric({p},{s})"),
            PgType::Text => f.write_str("text"),
            PgType::Varchar(None) => f.write_str("varchar"),
            PgType::Varchar(Some(n)) => write!(f, "varchar({n})"),
            PgType::Char(None) => f.write_str("char"),
            PgType::Char(Some(n)) => write!(f, "char({n})"),
            PgType::Bytea => f.write_str("bytea"),
            PgType::Date => f.write_str("date"),
            PgType::Time => f.write_str("time"),
            PgType::Timestamp => f.write_str("timestamp"),
            PgType::Timestamptz => f.write_str("timestamptz"),
            PgType::Json => f.write_str("json"),
            PgType::Jsonb => f.write_str("jsonb"),
            PgType::Uuid => f.write_str("uuid"),
            PgType::Timetz => f.write_str("timetz"),
            PgType::Interval => f.write_str("interval"),
            PgType::Inet => f.write_str("inet"),
            PgType::Cidr => f.write_str("cidr"),
            PgType::Citext => f.write_str("citext"),
            PgType::Enum { name, .. } => f.write_str(name),
            PgType::Array { elem, .. } => write!(f, "{elem}[]"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_catalog_and_mapping_spellings() {
        assert_eq!(PgType::parse("BIGINT").unwrap(), PgType::BigInt);
        assert_eq!(PgType::parse("double  precision").unwrap(), PgType::Double);
        assert_eq!(
            PgType::parse("numeric(10,4)").unwrap(),
            PgType::Numeric(Some((10, 4)))
        );
        assert_eq!(
            PgType::parse("character varying(32)").unwrap(),
            PgType::Varchar(Some(32))
        );
        assert_eq!(
            PgType::parse("timestamp with time zone").unwrap(),
            PgType::Timestamptz
        );
        assert!(PgType::parse("int(5)").is_err());
        assert!(PgType::parse("numeric(4,9)").is_err());
        assert!(PgType::parse("geometry").is_err());
        assert_eq!(
            PgType::parse("time with time zone").unwrap(),
            PgType::Timetz
        );
        assert_eq!(PgType::parse("CIDR").unwrap(), PgType::Cidr);
    }

    #[test]
    fn display_round_trips() {
        for s in [
            "boolean",
            "smallint",
            "integer",
            "bigint",
            "real",
            "double precision",
            "numeric",
            "numeric(12,3)",
            "text",
            "varchar(9)",
            "char(2)",
            "bytea",
            "date",
            "time",
            "timestamp",
            "timestamptz",
            "json",
            "jsonb",
            "uuid",
            "timetz",
            "interval",
            "inet",
            "cidr",
            "citext",
        ] {
            let t = PgType::parse(s).unwrap();
            assert_eq!(PgType::parse(&t.to_string()).unwrap(), t, "{s}");
        }
    }
}
