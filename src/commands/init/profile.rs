//! Profiling for `init`: one pass over every table counting, per column,
//! the storage classes its cells really hold (SQLite is dynamically typed),
//! their numeric range, the text formats seen, and the values a declared
//! `decimal(p,s)` would round.

use crate::pg::types::PgType;
use crate::pool::{self, Then};
use crate::sqlite::read::source;
use crate::sqlite::schema::model::{SourceColumn, SourceSchema, SourceTable};
use crate::sqlite::sql::quote::sqlite_quote;
use crate::sqlite::sql::typemap::map_declared_type;
use anyhow::{Context, Result};
use rusqlite::Connection;
use std::collections::HashMap;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;

/// What the cells of one column really hold (SQLite is dynamically typed).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ColumnProfile {
    pub integer: u64,
    pub real: u64,
    pub text: u64,
    pub blob: u64,
    pub null: u64,
    /// Smallest / largest numeric (integer or real) cell.
    pub min_number: Option<f64>,
    pub max_number: Option<f64>,
    /// Where the numeric cells fall by epoch unit: one unit is decided for
    /// the whole column from all of them.
    pub epoch_bands: crate::convert::epoch::EpochBands,
    /// For a declared `decimal(p,s)`: cells that `numeric(p,s)` would round
    /// or refuse (more than `s` decimals, or too large).
    pub scale_loss: u64,
    /// What the text cells look like (counts), to review the rule.
    pub text_formats: TextFormats,
    /// Longest text (characters) of a text cell or an integer / real cell
    /// written as text: what `varchar(n)` must hold.
    pub max_chars: u64,
    /// Real cells with a fractional part (no integer type holds them).
    pub real_fraction: u64,
    /// Integer cells beyond ±2^53 (double precision would round them).
    pub beyond_double: u64,
    /// Blob cells that are not valid UTF-8 (no text type holds them).
    pub blob_not_utf8: u64,
    /// Blob cells of exactly 16 bytes (a uuid).
    pub blob16: u64,
    /// Text cells that PostgreSQL text cannot hold: invalid UTF-8 or a NUL.
    pub text_not_pg: u64,
}

/// Formats recognised in text cells.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TextFormats {
    /// Cells starting `YYYY-MM-DD` (of which the next four are the ones
    /// that parse).
    pub iso_timestamp: u64,
    /// `YYYY-MM-DD` alone.
    pub iso_date: u64,
    /// A date and time without a zone (wall-clock time).
    pub iso_naive: u64,
    /// A date and time with `Z` or an offset (an instant).
    pub iso_offset: u64,
    /// `true` / `false` (any case): the words a boolean upgrade accepts.
    pub true_false: u64,
    /// Text `0` / `1`.
    pub zero_one: u64,
    /// Cells with blanks around them (an upgrade would drop those).
    pub padded: u64,
    pub integer: u64,
    pub decimal: u64,
    pub boolean: u64,
    pub json: u64,
    /// Any JSON document (objects and arrays, and scalars: `null`,
    /// `"a string"`, numbers, `true`/`false`) that jsonb takes: what a
    /// column declared JSON may hold.
    pub json_any: u64,
    /// JSON documents jsonb would give back otherwise (an exponent, a
    /// negative zero, a duplicate key): such a column is `json`.
    pub json_changed: u64,
    /// What jsonb would change in the first of them.
    pub json_change: Option<String>,
    pub uuid: u64,
    /// UUIDs already in PostgreSQL's own text form (lower-case, dashed
    /// 8-4-4-4-12): the only ones a `uuid` column reads back identical.
    pub uuid_canonical: u64,
    /// The first UUID cell not in that form, to show what `uuid` would
    /// make of it.
    pub uuid_sample: Option<String>,
    /// Exactly 32 hex digits (also counted above as what else they are):
    /// the form Django's UUIDField stores in SQLite (`uuid.hex`), digits
    /// only included.
    pub hex32: u64,
}

impl TextFormats {
    pub(super) fn add(&mut self, b: &[u8]) {
        let t = b.trim_ascii();
        if t.is_empty() {
            return;
        }
        if t.len() != b.len() {
            self.padded += 1;
        }
        if t.len() == 32 && t.iter().all(u8::is_ascii_hexdigit) {
            self.hex32 += 1;
        }
        if matches!(t[0], b'{' | b'[' | b'"' | b'n' | b't' | b'f' | b'-' | b'0'..=b'9')
            && serde_json::from_slice::<serde::de::IgnoredAny>(b).is_ok()
            // jsonb refuses \u0000.
            && !t.windows(6).any(|w| w == b"\\u0000")
        {
            self.json_any += 1;
            if let Some(why) = std::str::from_utf8(b)
                .ok()
                .and_then(crate::convert::jsonb_changes)
            {
                self.json_changed += 1;
                self.json_change.get_or_insert(why);
            }
        }
        let digits = |s: &[u8]| !s.is_empty() && s.iter().all(u8::is_ascii_digit);
        let unsigned = t
            .strip_prefix(b"-")
            .or_else(|| t.strip_prefix(b"+"))
            .unwrap_or(t);
        if t.len() >= 10
            && digits(&t[..4])
            && t[4] == b'-'
            && digits(&t[5..7])
            && t[7] == b'-'
            && digits(&t[8..10])
        {
            self.iso_timestamp += 1;
            match iso_kind(t) {
                Some(IsoKind::Date) => self.iso_date += 1,
                Some(IsoKind::Naive) => self.iso_naive += 1,
                Some(IsoKind::Offset) => self.iso_offset += 1,
                None => {}
            }
        } else if digits(unsigned) {
            if t == b"0" || t == b"1" {
                self.zero_one += 1;
            }
            self.integer += 1;
        } else if unsigned.len() > 1
            && unsigned.iter().all(|&c| c.is_ascii_digit() || c == b'.')
            && unsigned.iter().filter(|&&c| c == b'.').count() == 1
        {
            self.decimal += 1;
        } else if [
            &b"true"[..],
            b"false",
            b"t",
            b"f",
            b"yes",
            b"no",
            b"y",
            b"n",
            b"on",
            b"off",
        ]
        .iter()
        .any(|w| t.eq_ignore_ascii_case(w))
        {
            self.boolean += 1;
            if t.eq_ignore_ascii_case(b"true") || t.eq_ignore_ascii_case(b"false") {
                self.true_false += 1;
            }
        } else if (t[0] == b'{' || t[0] == b'[')
            && serde_json::from_slice::<serde::de::IgnoredAny>(t).is_ok()
            // jsonb refuses \u0000: such a document is no jsonb upgrade.
            && !t.windows(6).any(|w| w == b"\\u0000")
        {
            self.json += 1;
        } else if let Some(s) = std::str::from_utf8(t)
            .ok()
            // simple 32 … urn:uuid: 45
            .filter(|s| (32..=45).contains(&s.len()) && uuid::Uuid::try_parse(s).is_ok())
        {
            self.uuid += 1;
            if is_canonical_uuid(t) {
                self.uuid_canonical += 1;
            } else if self.uuid_sample.is_none() {
                self.uuid_sample = Some(s.to_string());
            }
        }
    }

    /// Another column's counts added.
    fn absorb(&mut self, o: &TextFormats) {
        let TextFormats {
            iso_timestamp,
            iso_date,
            iso_naive,
            iso_offset,
            true_false,
            zero_one,
            padded,
            integer,
            decimal,
            boolean,
            json,
            json_any,
            uuid,
            hex32,
            json_changed,
            json_change,
            uuid_canonical,
            uuid_sample,
        } = o;
        self.iso_timestamp += iso_timestamp;
        self.iso_date += iso_date;
        self.iso_naive += iso_naive;
        self.iso_offset += iso_offset;
        self.true_false += true_false;
        self.zero_one += zero_one;
        self.padded += padded;
        self.integer += integer;
        self.decimal += decimal;
        self.boolean += boolean;
        self.json += json;
        self.json_any += json_any;
        self.uuid += uuid;
        self.hex32 += hex32;
        self.json_changed += json_changed;
        self.uuid_canonical += uuid_canonical;
        if self.json_change.is_none() {
            self.json_change.clone_from(json_change);
        }
        if self.uuid_sample.is_none() {
            self.uuid_sample.clone_from(uuid_sample);
        }
    }

    /// `"9812 ISO-8601, 12 JSON"` — only what was seen.
    pub(super) fn describe(&self) -> Option<String> {
        let bad = self.iso_timestamp - self.iso_date - self.iso_naive - self.iso_offset;
        let parts: Vec<String> = [
            (self.iso_date, "ISO date"),
            (self.iso_naive, "ISO date-time without zone"),
            (self.iso_offset, "ISO date-time with offset"),
            (bad, "invalid date/time"),
            (self.integer, "integer"),
            (self.decimal, "decimal"),
            (self.boolean, "boolean word"),
            (self.json, "JSON"),
            (self.uuid, "UUID"),
        ]
        .iter()
        .filter(|(n, _)| *n > 0)
        .map(|(n, w)| format!("{n} {w}"))
        .collect();
        (!parts.is_empty()).then(|| parts.join(", "))
    }
}

/// `t` is a UUID exactly as PostgreSQL writes one: lower-case hex digits,
/// dashed 8-4-4-4-12 (docs/conversions.md, "How init chooses a type").
pub(crate) fn is_canonical_uuid(t: &[u8]) -> bool {
    t.len() == 36
        && t.iter().enumerate().all(|(i, &c)| match i {
            8 | 13 | 18 | 23 => c == b'-',
            _ => c.is_ascii_digit() || (b'a'..=b'f').contains(&c),
        })
}

/// What an ISO-8601 text holds, when it parses.
#[derive(Debug, Clone, Copy, PartialEq)]
enum IsoKind {
    Date,
    Naive,
    Offset,
}

/// `Some` when `t` (starting `YYYY-MM-DD`) converts as `run` would convert
/// it: a date alone, a naive date-time, or one with `Z` / an offset.
fn iso_kind(t: &[u8]) -> Option<IsoKind> {
    use crate::convert::{ConvertOptions, Converter};
    use rusqlite::types::ValueRef;
    let rest = &t[10..];
    let (kind, ty) = if rest.is_empty() {
        (IsoKind::Date, PgType::Date)
    } else if rest.ends_with(b"Z")
        || rest.ends_with(b"z")
        || rest.iter().any(|&c| c == b'+' || c == b'-')
    {
        (IsoKind::Offset, PgType::Timestamptz)
    } else {
        (IsoKind::Naive, PgType::Timestamp)
    };
    thread_local! {
        static CONV: [Converter; 3] = [PgType::Date, PgType::Timestamptz, PgType::Timestamp]
            .map(|ty| Converter::new(ty, ConvertOptions::default()));
    }
    let i = match ty {
        PgType::Date => 0,
        PgType::Timestamptz => 1,
        _ => 2,
    };
    CONV.with(|c| c[i].convert_ref(ValueRef::Text(t)).ok())
        .map(|_| kind)
}

/// Profiles by table, then column (source names).
pub type Profiles = HashMap<String, TableProfile>;
/// One table's profiles by column.
pub type TableProfile = HashMap<String, ColumnProfile>;

/// Scan every table once and count storage classes per column. Each cell's
/// class is read from the row as SQLite hands it over (one pass, no SQL
/// expression per cell: at bench scale 1.0 an aggregate query per table took
/// 14 s, this pass a fraction of it).
///
/// Tables are profiled side by side: one read-only connection per thread, as
/// many threads as cores, the biggest tables first. On an error the other
/// threads stop and the first table that failed is reported. (Cutting big
/// tables into rowid ranges for a better balance was measured slower: bench
/// scale 1.0, 2 cores, 2.5 s against 2.1 s.)
pub fn profile(path: &Path, schema: &SourceSchema, sample: Option<u64>) -> Result<Profiles> {
    let cost = |t: &SourceTable| {
        let rows = sample.map_or(t.row_count, |n| n.min(t.row_count));
        rows * (t.columns.len() as u64 + 1)
    };
    let mut jobs: Vec<&SourceTable> = schema.tables.iter().collect();
    jobs.sort_by_key(|t| std::cmp::Reverse(cost(t)));
    let threads = std::thread::available_parallelism()
        .map_or(2, |n| n.get())
        .min(jobs.len())
        .max(1);
    let stop = AtomicBool::new(false);
    let bars = indicatif::MultiProgress::new();
    let results: Mutex<Vec<(String, Result<TableProfile>)>> = Mutex::new(Vec::new());
    let not_opened = pool::run_threads(
        threads,
        jobs,
        || source::open_readonly(path),
        |conn, t| {
            if stop.load(Ordering::Relaxed) {
                return Then::Stop;
            }
            let t0 = std::time::Instant::now();
            let res = profile_table(conn, t, sample, &bars, &stop);
            tracing::debug!(
                "profiled table `{}` ({:.1}s)",
                t.name,
                t0.elapsed().as_secs_f64()
            );
            let failed = res.is_err();
            results.lock().unwrap().push((t.name.clone(), res));
            if failed {
                stop.store(true, Ordering::Relaxed);
                Then::Stop
            } else {
                Then::Continue
            }
        },
    );
    if let Some(e) = not_opened.into_iter().next() {
        return Err(e);
    }
    let mut out = Profiles::new();
    let mut first_err = None;
    for (table, res) in results.into_inner().unwrap() {
        match res {
            Ok(p) => {
                out.insert(table, p);
            }
            Err(e) => {
                first_err.get_or_insert(e);
            }
        }
    }
    if let Some(e) = first_err {
        return Err(e);
    }
    // Stopped early only on an error, which returned above.
    debug_assert_eq!(out.len(), schema.tables.len());
    Ok(out)
}

/// One table's profile scan. Returns early (with what it has) once `stop`
/// is set: another thread failed and only its error will be reported.
fn profile_table(
    conn: &Connection,
    t: &SourceTable,
    sample: Option<u64>,
    bars: &indicatif::MultiProgress,
    stop: &AtomicBool,
) -> Result<TableProfile> {
    // Generated columns too: they load as plain columns.
    let cols: Vec<&SourceColumn> = t.columns.iter().filter(|c| c.hidden != 1).collect();
    let mut profs: Vec<ColumnProfile> = vec![ColumnProfile::default(); cols.len()];
    // (precision - scale, scale) of declared decimal(p,s) columns.
    let limits: Vec<Option<(u32, u32)>> = cols
        .iter()
        .map(|c| match map_declared_type(&c.declared_type) {
            PgType::Numeric(Some((p, sc))) => Some((p - sc, sc)),
            _ => None,
        })
        .collect();
    if t.row_count > 0 && !cols.is_empty() {
        let list: Vec<String> = cols.iter().map(|c| sqlite_quote(&c.name)).collect();
        let limit = sample.map(|n| format!(" LIMIT {n}")).unwrap_or_default();
        let sql = format!(
            "SELECT {} FROM {}{limit}",
            list.join(", "),
            sqlite_quote(&t.name)
        );
        let mut stmt = conn
            .prepare(&sql)
            .with_context(|| format!("cannot profile table `{}`", t.name))?;
        let total = sample.map_or(t.row_count, |n| n.min(t.row_count));
        let bar = bars.add(profile_bar(&t.name, total));
        let mut rows = stmt.query([])?;
        let mut n = 0u64;
        while let Some(r) = rows
            .next()
            .with_context(|| format!("cannot profile table `{}`", t.name))?
        {
            for (i, p) in profs.iter_mut().enumerate() {
                let v = r.get_ref(i)?;
                p.add(v, limits[i]);
            }
            n += 1;
            if n.is_multiple_of(65536) {
                bar.set_position(n);
                if stop.load(Ordering::Relaxed) {
                    break;
                }
            }
        }
        bar.finish_and_clear();
    }
    Ok(cols
        .iter()
        .zip(profs)
        .map(|(c, p)| (c.name.clone(), p))
        .collect())
}

/// A progress bar for one table's profile scan: drawn on a terminal only.
fn profile_bar(table: &str, rows: u64) -> indicatif::ProgressBar {
    use std::io::IsTerminal;
    if !std::io::stderr().is_terminal() || rows < 1_000_000 {
        return indicatif::ProgressBar::hidden();
    }
    let b = indicatif::ProgressBar::new(rows);
    b.set_style(
        indicatif::ProgressStyle::with_template(
            "profiling {prefix} [{bar:30}] {human_pos}/{human_len} rows, ETA {eta}",
        )
        .expect("static template")
        .progress_chars("=> "),
    );
    b.set_prefix(table.to_string());
    b
}

impl ColumnProfile {
    fn add(&mut self, v: rusqlite::types::ValueRef<'_>, limit: Option<(u32, u32)>) {
        use rusqlite::types::ValueRef;
        let num = |p: &mut ColumnProfile, x: f64| {
            p.min_number = Some(p.min_number.map_or(x, |m| m.min(x)));
            p.max_number = Some(p.max_number.map_or(x, |m| m.max(x)));
            p.epoch_bands.add(x);
        };
        match v {
            ValueRef::Null => self.null += 1,
            ValueRef::Integer(i) => {
                self.integer += 1;
                num(self, i as f64);
                let text = i.to_string();
                self.max_chars = self.max_chars.max(text.len() as u64);
                if i.unsigned_abs() > 1 << 53 {
                    self.beyond_double += 1;
                }
                if let Some((mag, sc)) = limit {
                    if !decimal_text_fits(text.as_bytes(), mag, sc) {
                        self.scale_loss += 1;
                    }
                }
            }
            ValueRef::Real(f) => {
                self.real += 1;
                num(self, f);
                if f.fract() != 0.0 || !f.is_finite() {
                    self.real_fraction += 1;
                }
                // Display: the shortest decimal text that reads back as the
                // same double (what `run` converts), never an exponent. No
                // float arithmetic: 16.99 * 100 is 1698.9999999999998.
                let text = format!("{f}");
                self.max_chars = self.max_chars.max(text.chars().count() as u64);
                if let Some((mag, sc)) = limit {
                    if !f.is_finite() || !decimal_text_fits(text.as_bytes(), mag, sc) {
                        self.scale_loss += 1;
                    }
                }
            }
            ValueRef::Text(b) => {
                self.text += 1;
                self.text_formats.add(b);
                match std::str::from_utf8(b) {
                    Ok(s) if !b.contains(&0) => {
                        self.max_chars = self.max_chars.max(s.chars().count() as u64);
                    }
                    _ => self.text_not_pg += 1,
                }
                if let Some((mag, sc)) = limit {
                    if !decimal_text_fits(b, mag, sc) {
                        self.scale_loss += 1;
                    }
                }
            }
            ValueRef::Blob(b) => {
                self.blob += 1;
                if b.len() == 16 {
                    self.blob16 += 1;
                }
                match std::str::from_utf8(b) {
                    Ok(s) if !b.contains(&0) => {
                        self.max_chars = self.max_chars.max(s.chars().count() as u64);
                    }
                    _ => self.blob_not_utf8 += 1,
                }
            }
        }
    }

    /// Another column's cells counted in too: the profile of both columns'
    /// cells together (the columns of a foreign-key group are typed as one).
    /// Every field is named, so a new one cannot be forgotten here.
    pub(super) fn absorb(&mut self, o: &ColumnProfile) {
        let ColumnProfile {
            integer,
            real,
            text,
            blob,
            null,
            min_number,
            max_number,
            epoch_bands,
            scale_loss,
            text_formats,
            max_chars,
            real_fraction,
            beyond_double,
            blob_not_utf8,
            blob16,
            text_not_pg,
        } = o;
        self.integer += integer;
        self.real += real;
        self.text += text;
        self.blob += blob;
        self.null += null;
        let pick = |a: Option<f64>, b: Option<f64>, f: fn(f64, f64) -> f64| match (a, b) {
            (Some(x), Some(y)) => Some(f(x, y)),
            (x, y) => x.or(y),
        };
        self.min_number = pick(self.min_number, *min_number, f64::min);
        self.max_number = pick(self.max_number, *max_number, f64::max);
        self.epoch_bands.absorb(epoch_bands);
        self.scale_loss += scale_loss;
        self.text_formats.absorb(text_formats);
        self.max_chars = self.max_chars.max(*max_chars);
        self.real_fraction += real_fraction;
        self.beyond_double += beyond_double;
        self.blob_not_utf8 += blob_not_utf8;
        self.blob16 += blob16;
        self.text_not_pg += text_not_pg;
    }

    /// Non-NULL cells.
    pub fn values(&self) -> u64 {
        self.integer + self.real + self.text + self.blob
    }
}

/// Whether decimal text fits numeric(p,s) without rounding: only digits
/// around one optional point (an optional sign and spaces), at most
/// `sc` decimals and `mag` integer digits (leading zeros aside).
fn decimal_text_fits(b: &[u8], mag: u32, sc: u32) -> bool {
    let t = b.trim_ascii();
    let t = t
        .strip_prefix(b"-")
        .or_else(|| t.strip_prefix(b"+"))
        .unwrap_or(t);
    let (int, frac) = match t.iter().position(|&c| c == b'.') {
        Some(i) => (&t[..i], &t[i + 1..]),
        None => (t, &t[..0]),
    };
    let digits = |s: &[u8]| s.iter().all(u8::is_ascii_digit);
    if t.is_empty() || !digits(int) || !digits(frac) {
        return false;
    }
    let int_digits = int.iter().skip_while(|&&c| c == b'0').count();
    frac.len() <= sc as usize && int_digits <= mag as usize
}
