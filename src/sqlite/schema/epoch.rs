//! `epoch = "auto"` in a mapping: one unit per column, decided from all of
//! the column's numbers before any of it is read (`convert::epoch`), the
//! same way by `check`, `run` and `verify`, and said on the screen.

use crate::config::plan::TablePlan;
use crate::convert::epoch::EpochBands;
use crate::convert::{ConvertOptions, Converter, EpochUnit};
use crate::sqlite::sql::quote::sqlite_quote;
use anyhow::{Context, Result};
use rusqlite::Connection;

/// What `auto` became for one column, in a sentence.
pub struct EpochDecision {
    pub said: String,
    /// Some of the column's numbers lie in another unit's range: the
    /// operator should look (a warning, not an info line).
    pub mixed: bool,
}

/// Replace every `auto` epoch of `plans` by the unit its column's numbers
/// decide; one decision per such column says what was decided and from what.
pub fn resolve_auto_epochs(
    conn: &Connection,
    plans: &mut [TablePlan],
) -> Result<Vec<EpochDecision>> {
    let mut said = Vec::new();
    for t in plans.iter_mut() {
        let filter = t.filter_clause("AND");
        for c in t.columns.iter_mut() {
            if c.converter.opts.epoch != Some(EpochUnit::Auto) {
                continue;
            }
            let col = sqlite_quote(&c.source);
            let sql = format!(
                "SELECT {col} FROM {} WHERE typeof({col}) IN ('integer', 'real'){filter}",
                sqlite_quote(&t.source)
            );
            let mut bands = EpochBands::default();
            let mut st = conn
                .prepare(&sql)
                .with_context(|| format!("reading the numbers of {}.{}", t.source, c.source))?;
            let mut rows = st.query([])?;
            while let Some(r) = rows.next()? {
                bands.add(r.get::<_, f64>(0)?);
            }
            // No numbers: any unit reads the column the same.
            let unit = bands.decide().unwrap_or(EpochUnit::S);
            let mut line = format!(
                "{}.{}: epoch = \"auto\" read as {} for the whole column ({} number(s))",
                t.source,
                c.source,
                crate::convert::epoch::unit_name(unit),
                bands.numbers()
            );
            let why = bands.disagreement(unit);
            if let Some(why) = &why {
                line.push_str(&format!(": {why}"));
            }
            said.push(EpochDecision {
                said: line,
                mixed: why.is_some(),
            });
            c.converter = Converter::new(
                c.ty.clone(),
                ConvertOptions {
                    epoch: Some(unit),
                    ..c.converter.opts.clone()
                },
            );
        }
    }
    Ok(said)
}
