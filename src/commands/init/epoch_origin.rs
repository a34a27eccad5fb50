//! Where a file's epoch numbers count from, for `init`: Unix (1970-01-01)
//! unless the file's origin says otherwise, and only on evidence
//! (docs/conversions.md, "Epochs"):
//!
//! - a Core Data store (tables `Z_PRIMARYKEY` and `Z_METADATA`): its
//!   `TIMESTAMP` / `DATE` columns count from 2001-01-01, the unit by the
//!   numbers' magnitude;
//! - Apple Messages' `chat.db` (tables `message`, `chat`, `handle`,
//!   `chat_message_join`): `message.date`, `date_read`, `date_delivered`
//!   count from 2001-01-01 (nanoseconds in current macOS, seconds before);
//! - Chrome's `History` (tables `urls`, `visits`, `meta`):
//!   `visits.visit_time` and `urls.last_visit_time` are WebKit times,
//!   microseconds since 1601-01-01.

use crate::config::mapping::EpochUnit;
use crate::sqlite::schema::model::{SourceSchema, SourceTable};

/// A file whose epochs have another base.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Origin {
    CoreData,
    Messages,
    ChromeHistory,
}

/// What a column's numbers are, by the file's origin.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) struct Known {
    /// `YYYY-MM-DD`, as the mapping writes `epoch_base`.
    pub(super) base: &'static str,
    /// The unit the origin fixes; `None`: by the numbers' magnitude.
    pub(super) unit: Option<EpochUnit>,
    /// The column is an integer the origin says is a time: `init` types
    /// it `timestamptz` (Core Data declares its own `TIMESTAMP`).
    pub(super) retype: bool,
}

fn has(schema: &SourceSchema, name: &str) -> bool {
    schema.table(name).is_some()
}

impl Origin {
    /// The file's origin, where its tables show one.
    pub(super) fn of(schema: &SourceSchema) -> Option<Origin> {
        let all = |names: &[&str]| names.iter().all(|n| has(schema, n));
        if all(&["Z_PRIMARYKEY", "Z_METADATA"]) {
            Some(Origin::CoreData)
        } else if all(&["message", "chat", "handle", "chat_message_join"]) {
            Some(Origin::Messages)
        } else if all(&["urls", "visits", "meta"]) {
            Some(Origin::ChromeHistory)
        } else {
            None
        }
    }

    /// The sentence on the screen that says what was recognised.
    pub(super) fn said(self) -> &'static str {
        match self {
            Origin::CoreData => {
                "a Core Data store (tables Z_PRIMARYKEY and Z_METADATA): its numeric TIMESTAMP \
                 and DATE columns count from 2001-01-01 (Core Data's reference date), epoch_base = \
                 \"2001-01-01\", the unit by the numbers' magnitude"
            }
            Origin::Messages => {
                "Apple Messages' chat.db (tables message, chat, handle, chat_message_join): \
                 message.date, date_read and date_delivered count from 2001-01-01, epoch_base = \
                 \"2001-01-01\", the unit by the numbers' magnitude (nanoseconds since macOS 10.13)"
            }
            Origin::ChromeHistory => {
                "Chrome's History (tables urls, visits, meta): visits.visit_time and \
                 urls.last_visit_time are WebKit times, microseconds since 1601-01-01 \
                 (epoch = \"us\", epoch_base = \"1601-01-01\")"
            }
        }
    }

    /// What the origin says about one column's numbers.
    pub(super) fn column(self, t: &SourceTable, col: &str) -> Option<Known> {
        let c = t.column(col)?;
        let is = |table: &str, cols: &[&str]| {
            t.name.eq_ignore_ascii_case(table)
                && cols.iter().any(|x| c.name.eq_ignore_ascii_case(x))
        };
        match self {
            Origin::CoreData => {
                let d = c.declared_type.trim().to_ascii_uppercase();
                (d == "TIMESTAMP" || d == "DATE").then_some(Known {
                    base: "2001-01-01",
                    unit: None,
                    retype: false,
                })
            }
            Origin::Messages => {
                is("message", &["date", "date_read", "date_delivered"]).then_some(Known {
                    base: "2001-01-01",
                    unit: None,
                    retype: true,
                })
            }
            Origin::ChromeHistory => (is("visits", &["visit_time"])
                || is("urls", &["last_visit_time"]))
            .then_some(Known {
                base: "1601-01-01",
                unit: Some(EpochUnit::Us),
                retype: true,
            }),
        }
    }
}
