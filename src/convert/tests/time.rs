//! Timestamps, dates, times, epochs and time zones.

use super::*;

// -------------------------------------------------------- timestamps

fn tstz(c: &Converter, s: &str) -> DateTime<Utc> {
    match ok(c, text(s)) {
        Value::Timestamptz(u) => u,
        v => panic!("{v:?}"),
    }
}

#[test]
fn iso8601_and_sqlite_forms_all_parse() {
    let c = conv("timestamptz");
    let cases = [
        ("2024-03-05", "2024-03-05T00:00:00Z"),
        ("2024-03-05 10:11", "2024-03-05T10:11:00Z"),
        ("2024-03-05 10:11:12", "2024-03-05T10:11:12Z"),
        ("2024-03-05T10:11:12", "2024-03-05T10:11:12Z"),
        ("2024-03-05T10:11:12.5", "2024-03-05T10:11:12.5Z"),
        ("2024-03-05 10:11:12.123456", "2024-03-05T10:11:12.123456Z"),
        (
            "2024-03-05 10:11:12.123456000",
            "2024-03-05T10:11:12.123456Z",
        ),
        ("2024-03-05T10:11:12Z", "2024-03-05T10:11:12Z"),
        ("2024-03-05T10:11:12+02:00", "2024-03-05T08:11:12Z"),
        ("2024-03-05T10:11:12+0200", "2024-03-05T08:11:12Z"),
        ("2024-03-05T10:11:12+02", "2024-03-05T08:11:12Z"),
        ("2024-03-05 10:11:12.25-05:30", "2024-03-05T15:41:12.25Z"),
        ("2024-03-05 10:11:12 +01:00", "2024-03-05T09:11:12Z"),
        ("2024-03-05 10:11:12 UTC", "2024-03-05T10:11:12Z"),
        (" 2024-03-05 10:11:12 ", "2024-03-05T10:11:12Z"),
    ];
    for (t, want) in cases {
        assert_eq!(tstz(&c, t), utc(want), "{t}");
    }
}

#[test]
fn sub_microsecond_digits_are_rejected_not_truncated() {
    let r = rej(&conv("timestamptz"), text("2024-03-05 10:11:12.1234567"));
    assert!(r.contains("microseconds"), "{r}");
}

#[test]
fn invalid_timestamp_fields_are_rejected_with_the_field() {
    let c = conv("timestamptz");
    let r = rej(&c, text("2025-13-45 99:99:99"));
    assert!(r.contains("month 13"), "{r}");
    assert!(rej(&c, text("2023-02-29")).contains("day 29"));
    assert!(rej(&c, text("2024-01-01 24:00:00")).contains("hour 24"));
    assert!(rej(&c, text("2024-01-01 23:59:60")).contains("second 60"));
    assert!(rej(&c, text("yesterday")).contains("unparseable timestamp"));
    rej(&c, text("2024-01-01 10:00:00 +25:00"));
    rej(&c, text("2024-01-01 10:00:00 junk"));
    rej(&c, text(""));
    rej(&c, Cell::Blob(vec![1, 2]));
}

#[test]
fn naive_text_is_read_in_the_source_timezone() {
    let tz = |o: &mut ConvertOptions| o.timezone = chrono_tz::Europe::Paris;
    let c = conv_with("timestamptz", tz);
    assert_eq!(tstz(&c, "2024-01-15 12:00:00"), utc("2024-01-15T11:00:00Z"));
    assert_eq!(tstz(&c, "2024-07-15 12:00:00"), utc("2024-07-15T10:00:00Z"));
    // An explicit offset wins over the source zone.
    assert_eq!(
        tstz(&c, "2024-07-15 12:00:00Z"),
        utc("2024-07-15T12:00:00Z")
    );
    // Naive target: naive text stays as written; zoned text is shown
    // in the source zone.
    let c = conv_with("timestamp", tz);
    assert_eq!(
        ok(&c, text("2024-07-15 12:00:00")),
        Value::Timestamp(naive("2024-07-15 12:00:00"))
    );
    assert_eq!(
        ok(&c, text("2024-07-15T12:00:00Z")),
        Value::Timestamp(naive("2024-07-15 14:00:00"))
    );
}

#[test]
fn dst_gap_naive_time_is_rejected() {
    let c = conv_with("timestamptz", |o| o.timezone = chrono_tz::Europe::Paris);
    let r = rej(&c, text("2024-03-31 02:30:00"));
    assert!(r.contains("does not exist in Europe/Paris"), "{r}");
    // The naive target has no zone: the wall-clock time is kept.
    let c = conv_with("timestamp", |o| o.timezone = chrono_tz::Europe::Paris);
    assert_eq!(
        ok(&c, text("2024-03-31 02:30:00")),
        Value::Timestamp(naive("2024-03-31 02:30:00"))
    );
}

#[test]
fn dst_overlap_naive_time_is_rejected_not_guessed() {
    let c = conv_with("timestamptz", |o| o.timezone = chrono_tz::Europe::Paris);
    let r = rej(&c, text("2024-10-27 02:30:00"));
    assert!(
        r.contains("ambiguous") && r.contains("+02:00") && r.contains("+01:00"),
        "{r}"
    );
    assert_eq!(
        tstz(&c, "2024-10-27 02:30:00+01:00"),
        utc("2024-10-27T01:30:00Z")
    );
}

#[test]
fn date_column_rejects_a_time_of_day_instead_of_dropping_it() {
    let c = conv("date");
    assert_eq!(ok(&c, text("2024-03-05")), Value::Date(date("2024-03-05")));
    assert_eq!(
        ok(&c, text("2024-03-05 00:00:00")),
        Value::Date(date("2024-03-05"))
    );
    let r = rej(&c, text("2024-03-05 10:00:00"));
    assert!(r.contains("time of day"), "{r}");
    rej(&c, Cell::Integer(1_700_000_000));
}

#[test]
fn number_without_epoch_unit_is_rejected() {
    let r = rej(&conv("timestamptz"), Cell::Integer(1_700_000_000));
    assert!(r.contains("no `epoch` unit"), "{r}");
    rej(&conv("timestamp"), Cell::Real(1.7e9));
    rej(&conv("timestamptz"), text("1700000000"));
}

#[test]
fn epoch_ms_is_not_read_as_seconds() {
    let c = epoch("timestamptz", EpochUnit::Ms);
    assert_eq!(
        ok(&c, Cell::Integer(1_700_000_000_123)),
        Value::Timestamptz(utc("2023-11-14T22:13:20.123Z"))
    );
    let c = epoch("timestamptz", EpochUnit::S);
    assert_eq!(
        ok(&c, Cell::Integer(1_700_000_000)),
        Value::Timestamptz(utc("2023-11-14T22:13:20Z"))
    );
    let c = epoch("timestamptz", EpochUnit::Us);
    assert_eq!(
        ok(&c, Cell::Integer(1_700_000_000_123_456)),
        Value::Timestamptz(utc("2023-11-14T22:13:20.123456Z"))
    );
    // Numeric text counts as an epoch when a unit is declared.
    let c = epoch("timestamptz", EpochUnit::S);
    assert_eq!(
        ok(&c, text(" 1700000000 ")),
        Value::Timestamptz(utc("2023-11-14T22:13:20Z"))
    );
    assert_eq!(
        ok(&c, text("1700000000.5")),
        Value::Timestamptz(utc("2023-11-14T22:13:20.5Z"))
    );
    // ISO text still works in an epoch column.
    assert_eq!(
        ok(&c, text("2023-11-14 22:13:20")),
        Value::Timestamptz(utc("2023-11-14T22:13:20Z"))
    );
}

#[test]
fn epoch_real_seconds_keep_microseconds() {
    let c = epoch("timestamptz", EpochUnit::S);
    assert_eq!(
        ok(&c, Cell::Real(1_700_000_000.123456)),
        Value::Timestamptz(utc("2023-11-14T22:13:20.123456Z"))
    );
    assert_eq!(
        ok(&c, Cell::Real(0.1)),
        Value::Timestamptz(utc("1970-01-01T00:00:00.1Z"))
    );
    assert_eq!(
        ok(&c, Cell::Real(-1.5)),
        Value::Timestamptz(utc("1969-12-31T23:59:58.5Z"))
    );
}

#[test]
fn epoch_sub_microsecond_precision_is_rejected_not_rounded() {
    let r = rej(&epoch("timestamptz", EpochUnit::Us), Cell::Real(1.5));
    assert!(r.contains("sub-microsecond"), "{r}");
    rej(&epoch("timestamptz", EpochUnit::S), Cell::Real(0.1234567));
    rej(&epoch("timestamptz", EpochUnit::S), Cell::Real(f64::NAN));
}

#[test]
fn epoch_auto_is_never_guessed_per_value() {
    // `auto` is decided per column before reading (convert::epoch); a
    // converter still holding it refuses rather than guess by magnitude.
    let c = epoch("timestamptz", EpochUnit::Auto);
    rej(&c, Cell::Integer(253_402_300_800));
}

#[test]
fn julian_day_reads_like_sqlite() {
    let c = epoch("timestamptz", EpochUnit::JulianDay);
    assert_eq!(
        ok(&c, Cell::Real(2_440_587.5)),
        Value::Timestamptz(utc("1970-01-01T00:00:00Z"))
    );
    assert_eq!(
        ok(&c, Cell::Real(2_460_000.75)),
        Value::Timestamptz(utc("2023-02-25T06:00:00Z"))
    );
    // Integer Julian days are noon UTC.
    assert_eq!(
        ok(&c, Cell::Integer(2_440_588)),
        Value::Timestamptz(utc("1970-01-01T12:00:00Z"))
    );
    // SQLite's julianday('2024-03-05 10:11:12.345') reads back to the ms.
    let jd = 2_460_374.924_448_437_5;
    assert_eq!(
        ok(&c, Cell::Real(jd)),
        Value::Timestamptz(utc("2024-03-05T10:11:12.345Z"))
    );
}

#[test]
fn epoch_into_naive_timestamp_and_date_uses_source_timezone() {
    let c = conv_with("timestamp", |o| {
        o.epoch = Some(EpochUnit::S);
        o.timezone = chrono_tz::America::New_York;
    });
    assert_eq!(
        ok(&c, Cell::Integer(1_700_000_000)),
        Value::Timestamp(naive("2023-11-14 17:13:20"))
    );
    let c = conv_with("date", |o| {
        o.epoch = Some(EpochUnit::S);
        o.timezone = chrono_tz::America::New_York;
    });
    // 2023-11-15T05:00:00Z is midnight in New York.
    assert_eq!(
        ok(&c, Cell::Integer(1_700_024_400)),
        Value::Date(date("2023-11-15"))
    );
    let r = rej(&c, Cell::Integer(1_700_000_000));
    assert!(
        r.contains("time of day") && r.contains("America/New_York"),
        "{r}"
    );
}

#[test]
fn timestamps_outside_postgres_or_chrono_range_are_rejected() {
    let c = epoch("timestamptz", EpochUnit::S);
    rej(&c, Cell::Integer(i64::MAX));
    rej(&c, Cell::Integer(-300_000_000_000)); // about 7500 BC
    rej(&c, Cell::Real(1e300));
    let c = epoch("timestamptz", EpochUnit::Us);
    assert_eq!(
        ok(&c, Cell::Integer(-200_000_000_000_000_000)), // about 4368 BC
        Value::Timestamptz(DateTime::from_timestamp_micros(-200_000_000_000_000_000).unwrap())
    );
    let r = rej(&c, Cell::Integer(i64::MIN / 2));
    assert!(r.contains("4714-11-24 BC"), "{r}");
    let r = rej(&c, Cell::Integer(i64::MIN));
    assert!(r.contains("4714-11-24 BC") || r.contains("range"), "{r}");
}

#[test]
fn configured_formats_are_tried_after_iso() {
    let c = conv_with("timestamptz", |o| {
        o.timestamp_formats = vec![
            "%d/%m/%Y %H:%M".into(),
            "%d/%m/%Y".into(),
            "%Y%m%d %z".into(),
        ];
        o.timezone = chrono_tz::Europe::Paris;
    });
    assert_eq!(tstz(&c, "05/03/2024 10:11"), utc("2024-03-05T09:11:00Z"));
    assert_eq!(tstz(&c, "05/03/2024"), utc("2024-03-04T23:00:00Z"));
    assert_eq!(tstz(&c, "2024-03-05 10:11:12"), utc("2024-03-05T09:11:12Z"));
    rej(&c, text("2024/03/05"));
    assert!(c.rule().contains("%d/%m/%Y"), "{}", c.rule());
}

#[test]
fn time_column_takes_clock_times_only() {
    let c = conv("time");
    assert_eq!(
        ok(&c, text("10:11:12.5")),
        Value::Time(NaiveTime::from_hms_micro_opt(10, 11, 12, 500_000).unwrap())
    );
    assert_eq!(
        ok(&c, text("23:59")),
        Value::Time(NaiveTime::from_hms_opt(23, 59, 0).unwrap())
    );
    assert!(rej(&c, text("25:00")).contains("hour 25"));
    rej(&c, text("10:11:12 x"));
    rej(&c, text("2024-01-01 10:11:12"));
    rej(&c, Cell::Integer(3600));
}

#[test]
fn epoch_bases_and_units_finer_than_microseconds() {
    let based = |unit, base: &str| {
        let b = crate::convert::epoch::base_micros(base, Some(unit)).unwrap();
        conv_with("timestamptz", |o| {
            o.epoch = Some(unit);
            o.epoch_base_us = b;
        })
    };
    // Core Data: seconds since 2001-01-01 (issue 26's 565366977.5).
    let c = based(EpochUnit::S, "2001-01-01");
    assert_eq!(
        ok(&c, Cell::Real(565_366_977.5)),
        Value::Timestamptz(utc("2018-12-01T14:22:57.5Z"))
    );
    assert_eq!(
        c.epoch_reading(565_366_977.5).as_deref(),
        Some("2018-12-01 14:22:57.5+00")
    );
    // Messages: nanoseconds since 2001, rounded to the microsecond.
    let c = based(EpochUnit::Ns, "2001-01-01");
    assert_eq!(
        ok(&c, Cell::Integer(700_000_000_123_456_789)),
        Value::Timestamptz(utc("2023-03-08T20:26:40.123457Z"))
    );
    assert_eq!(
        ok(&c, Cell::Integer(-1_499)),
        Value::Timestamptz(utc("2000-12-31T23:59:59.999999Z"))
    );
    // WebKit: microseconds since 1601; FILETIME: 100 ns since 1601.
    let c = based(EpochUnit::Us, "1601-01-01");
    assert_eq!(
        ok(&c, Cell::Integer(11_644_473_600_000_000)),
        Value::Timestamptz(utc("1970-01-01T00:00:00Z"))
    );
    let c = based(EpochUnit::Ns100, "1601-01-01");
    assert_eq!(
        ok(&c, Cell::Integer(116_444_736_000_000_015)),
        Value::Timestamptz(utc("1970-01-01T00:00:00.000002Z"))
    );
    // A base needs a unit counted from it.
    assert!(crate::convert::epoch::base_micros("2001-01-01", None).is_err());
    assert!(crate::convert::epoch::base_micros("2001-13-01", Some(EpochUnit::S)).is_err());
}
