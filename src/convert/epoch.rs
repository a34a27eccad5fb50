//! One epoch unit per column, decided from all of its numbers.
//!
//! A number in a date/time column is read in the column's unit (`epoch`).
//! When that unit is not known (`init` profiling a column, or a mapping
//! that says `epoch = "auto"`), it is decided once for the whole column by
//! where its numbers fall, never per value: per value, a seconds column's
//! "end of time" sentinel 253402300800 (year 10000) would be read as
//! milliseconds (1978).

use super::EpochUnit;

/// Below this magnitude a number is within 12 days of 1970 in seconds and
/// means nothing in the larger units: it does not vote.
const TINY: f64 = 1e6;
/// Seconds up to here (year 5138); milliseconds up to 1e14 (year 5138
/// again); microseconds up to 1e17 (year 5138); nanoseconds above (Apple
/// Messages' dates since 2001 are about 7e17).
const S_MAX: f64 = 1e11;
const MS_MAX: f64 = 1e14;
const US_MAX: f64 = 1e17;

/// How many of a column's numbers fall in each unit's range of magnitude.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct EpochBands {
    pub tiny: u64,
    pub s: u64,
    pub ms: u64,
    pub us: u64,
    pub ns: u64,
}

impl EpochBands {
    pub fn add(&mut self, v: f64) {
        let m = v.abs();
        if !m.is_finite() {
            return;
        }
        if m < TINY {
            self.tiny += 1;
        } else if m < S_MAX {
            self.s += 1;
        } else if m < MS_MAX {
            self.ms += 1;
        } else if m < US_MAX {
            self.us += 1;
        } else {
            self.ns += 1;
        }
    }

    /// Another column's counts added (columns typed together).
    pub fn absorb(&mut self, o: &EpochBands) {
        let EpochBands {
            tiny,
            s,
            ms,
            us,
            ns,
        } = *o;
        self.tiny += tiny;
        self.s += s;
        self.ms += ms;
        self.us += us;
        self.ns += ns;
    }

    pub fn numbers(&self) -> u64 {
        self.tiny + self.s + self.ms + self.us + self.ns
    }

    /// The column's unit: the range most of its numbers fall in (a tie goes
    /// to the smaller unit); only tiny numbers → seconds. `None` without
    /// numbers.
    pub fn decide(&self) -> Option<EpochUnit> {
        if self.numbers() == 0 {
            return None;
        }
        let mut best = (EpochUnit::S, self.s);
        for (u, n) in [
            (EpochUnit::Ms, self.ms),
            (EpochUnit::Us, self.us),
            (EpochUnit::Ns, self.ns),
        ] {
            if n > best.1 {
                best = (u, n);
            }
        }
        Some(best.0)
    }

    /// When the numbers do not all fall in `unit`'s range: how many, and
    /// what that means, for the operator to review (`None`: they agree).
    pub fn disagreement(&self, unit: EpochUnit) -> Option<String> {
        let own = match unit {
            EpochUnit::S => self.s,
            EpochUnit::Ms => self.ms,
            EpochUnit::Us => self.us,
            EpochUnit::Ns => self.ns,
            _ => return None,
        };
        let voting = self.s + self.ms + self.us + self.ns;
        if own == voting {
            return None;
        }
        let mut others = Vec::new();
        for (name, n, u) in [
            ("seconds", self.s, EpochUnit::S),
            ("milliseconds", self.ms, EpochUnit::Ms),
            ("microseconds", self.us, EpochUnit::Us),
            ("nanoseconds", self.ns, EpochUnit::Ns),
        ] {
            if n > 0 && u != unit {
                others.push(format!("{n} in the {name} range"));
            }
        }
        Some(format!(
            "{own} of {voting} numbers are in the {} range, {}; all are read as {} \
             (one unit per column; set `epoch` to change it)",
            range_name(unit),
            others.join(", "),
            unit_name(unit)
        ))
    }
}

/// `epoch_base`: a date, counted from at UTC midnight, in microseconds
/// after 1970-01-01; only with an epoch unit counted from a base.
pub fn base_micros(b: &str, epoch: Option<EpochUnit>) -> Result<i64, String> {
    let d = chrono::NaiveDate::parse_from_str(b.trim(), "%Y-%m-%d")
        .map_err(|_| format!("epoch_base `{b}` is not a date (YYYY-MM-DD, e.g. \"2001-01-01\")"))?;
    match epoch {
        None | Some(EpochUnit::JulianDay) => Err(format!(
            "epoch_base `{b}` needs an epoch unit counted from it (epoch = \"s\", \"ms\", \"us\", \"ns\", \"100ns\" or \"auto\")"
        )),
        _ => Ok(d
            .and_time(chrono::NaiveTime::MIN)
            .and_utc()
            .timestamp_micros()),
    }
}

/// The unit as the mapping spells it (`s`, `ms`, `us`).
pub fn unit_name(u: EpochUnit) -> &'static str {
    super::time::epoch_name(u)
}

/// The unit in words, plural (`seconds`, `nanoseconds`).
pub fn range_name(u: EpochUnit) -> &'static str {
    match u {
        EpochUnit::S => "seconds",
        EpochUnit::Ms => "milliseconds",
        EpochUnit::Us => "microseconds",
        EpochUnit::Ns => "nanoseconds",
        EpochUnit::Ns100 => "100-nanosecond units",
        EpochUnit::JulianDay => "julian day",
        EpochUnit::Auto => "auto",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bands(vals: &[f64]) -> EpochBands {
        let mut b = EpochBands::default();
        for v in vals {
            b.add(*v);
        }
        b
    }

    #[test]
    fn a_seconds_column_with_an_end_of_time_sentinel_stays_seconds() {
        // 253402300800 s is 10000-01-01; by magnitude alone it reads as ms.
        let b = bands(&[1.7e9, 1.6e9, 1.65e9, 253_402_300_800.0]);
        assert_eq!(b.decide(), Some(EpochUnit::S));
        let why = b.disagreement(EpochUnit::S).unwrap();
        assert!(
            why.contains("3 of 4 numbers are in the seconds range"),
            "{why}"
        );
        assert!(why.contains("1 in the milliseconds range"), "{why}");
    }

    #[test]
    fn each_unit_wins_its_own_column_and_ties_go_to_the_smaller() {
        assert_eq!(bands(&[1.7e12, 1.6e12]).decide(), Some(EpochUnit::Ms));
        assert_eq!(bands(&[1.7e15]).decide(), Some(EpochUnit::Us));
        assert_eq!(bands(&[1.7e9, 1.7e12]).decide(), Some(EpochUnit::S));
        assert_eq!(bands(&[0.0, 5.0]).decide(), Some(EpochUnit::S));
        assert_eq!(bands(&[0.0, 1.7e12]).decide(), Some(EpochUnit::Ms));
        assert_eq!(bands(&[]).decide(), None);
        assert_eq!(bands(&[1.7e12, 1.6e12]).disagreement(EpochUnit::Ms), None);
    }
}
