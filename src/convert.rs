//! Transform: one source cell (any storage class) into the value its target
//! column needs, by the rules of the mapping file. Pure functions, no I/O.
//! (interface stub: implementation in progress)

use crate::cell::Cell;
use crate::mapping::{ColumnMap, Defaults, EpochUnit, Utf8Policy};
use crate::pgtype::PgType;
use crate::value::Value;

/// Everything a column's conversion depends on, resolved from the mapping
/// (column settings over `[defaults]`).
#[derive(Debug, Clone)]
pub struct ConvertOptions {
    pub epoch: Option<EpochUnit>,
    pub timezone: chrono_tz::Tz,
    pub timestamp_formats: Vec<String>,
    /// Lower-cased spellings.
    pub true_values: Vec<String>,
    pub false_values: Vec<String>,
    pub invalid_utf8: Utf8Policy,
    pub json_wrap: Option<String>,
}

impl ConvertOptions {
    pub fn resolve(defaults: &Defaults, col: Option<&ColumnMap>) -> Result<ConvertOptions, String> {
        let tz_name = col
            .and_then(|c| c.timezone.as_deref())
            .unwrap_or(&defaults.timezone);
        let timezone = tz_name
            .parse::<chrono_tz::Tz>()
            .map_err(|_| format!("unknown time zone `{tz_name}`"))?;
        Ok(ConvertOptions {
            epoch: col.and_then(|c| c.epoch),
            timezone,
            timestamp_formats: defaults.timestamp_formats.clone(),
            true_values: defaults.true_values.iter().map(|s| s.to_lowercase()).collect(),
            false_values: defaults.false_values.iter().map(|s| s.to_lowercase()).collect(),
            invalid_utf8: col
                .and_then(|c| c.invalid_utf8)
                .unwrap_or(defaults.invalid_utf8),
            json_wrap: col.and_then(|c| c.json_wrap.clone()),
        })
    }
}

/// Why one cell could not convert.
#[derive(Debug, Clone, PartialEq)]
pub struct ConvertError {
    pub reason: String,
}

/// The conversion for one target column.
#[derive(Debug, Clone)]
pub struct Converter {
    pub ty: PgType,
    pub opts: ConvertOptions,
}

impl Converter {
    pub fn new(ty: PgType, opts: ConvertOptions) -> Converter {
        Converter { ty, opts }
    }

    /// Short description of the rule, for reject records and `check`.
    pub fn rule(&self) -> String {
        format!("to {}", self.ty)
    }

    pub fn convert(&self, cell: &Cell) -> Result<Value, ConvertError> {
        let _ = cell;
        Err(ConvertError {
            reason: "not implemented".into(),
        })
    }
}
