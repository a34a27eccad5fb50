//! Application types: enums, timetz, interval, inet/cidr, arrays.

use super::*;
use crate::pg::value::ArrayValue;

fn enum_conv() -> Converter {
    Converter::new(
        PgType::Enum {
            name: "status".into(),
            oid: 99_999,
            labels: vec!["pending".into(), "done".into()],
        },
        opts(),
    )
}

#[test]
fn enum_takes_exactly_its_labels() {
    let c = enum_conv();
    assert_eq!(ok(&c, text("done")), Value::Text("done".into()));
    let why = rej(&c, text("Done"));
    assert!(
        why.contains("`Done`") && why.contains("'pending', 'done'") && why.contains("status"),
        "{why}"
    );
    rej(&c, Cell::Integer(1));
    assert_eq!(ok(&c, Cell::Null), Value::Null);
}

#[test]
fn timetz_reads_offsets_and_refuses_a_zone_with_dst() {
    let c = conv("timetz");
    let t = |h, m, s| NaiveTime::from_hms_opt(h, m, s).unwrap();
    assert_eq!(ok(&c, text("12:30+02")), Value::Timetz(t(12, 30, 0), 7200));
    assert_eq!(
        ok(&c, text("12:30:05-0830")),
        Value::Timetz(t(12, 30, 5), -30_600)
    );
    assert_eq!(ok(&c, text("12:30Z")), Value::Timetz(t(12, 30, 0), 0));
    // Naive in UTC: +00.
    assert_eq!(ok(&c, text("12:30")), Value::Timetz(t(12, 30, 0), 0));
    rej(&c, text("12:30+16"));
    rej(&c, text("12:30 +2x"));
    let berlin = conv_with("timetz", |o| o.timezone = chrono_tz::Europe::Berlin);
    assert!(rej(&berlin, text("12:30")).contains("daylight saving"));
    let tokyo = conv_with("timetz", |o| o.timezone = chrono_tz::Asia::Tokyo);
    assert_eq!(
        ok(&tokyo, text("12:30")),
        Value::Timetz(t(12, 30, 0), 9 * 3600)
    );
}

fn iv(months: i32, days: i32, micros: i64) -> Value {
    Value::Interval {
        months,
        days,
        micros,
    }
}

#[test]
fn interval_reads_postgres_and_iso_forms() {
    let c = conv("interval");
    let h = 3_600_000_000i64;
    for (s, want) in [
        (
            "1 year 2 mons 3 days 04:05:06.5",
            iv(14, 3, 4 * h + 306_500_000),
        ),
        ("3 hours", iv(0, 0, 3 * h)),
        ("-1 day +02:00:00", iv(0, -1, 2 * h)),
        ("1.5 days", iv(0, 1, 12 * h)),
        ("@ 2 hours ago", iv(0, 0, -2 * h)),
        ("01:30", iv(0, 0, h + h / 2)),
        ("P1Y2M3DT4H5M6S", iv(14, 3, 4 * h + 306_000_000)),
        ("P2W", iv(0, 14, 0)),
        ("PT0.5S", iv(0, 0, 500_000)),
        ("10 mins 5secs", iv(0, 0, 605_000_000)),
    ] {
        assert_eq!(ok(&c, text(s)), want, "{s}");
    }
    for s in [
        "1.5 months",
        "soon",
        "3",
        "P",
        "PT",
        "1 fortnight",
        "0.0000001 s",
    ] {
        rej(&c, text(s));
    }
    assert!(rej(&c, Cell::Integer(90)).contains("epoch"));
    let ms = conv_with("interval", |o| o.epoch = Some(EpochUnit::Ms));
    assert_eq!(ok(&ms, Cell::Integer(1500)), iv(0, 0, 1_500_000));
}

#[test]
fn inet_and_cidr() {
    let inet = conv("inet");
    assert_eq!(
        ok(&inet, text("192.168.1.5/24")),
        Value::Inet {
            addr: "192.168.1.5".parse().unwrap(),
            bits: 24,
            cidr: false
        }
    );
    assert_eq!(
        ok(&inet, text("::1")),
        Value::Inet {
            addr: "::1".parse().unwrap(),
            bits: 128,
            cidr: false
        }
    );
    rej(&inet, text("10.0.0.1/33"));
    rej(&inet, text("example.com"));
    let cidr = conv("cidr");
    assert!(matches!(
        ok(&cidr, text("10.0.0.0/8")),
        Value::Inet {
            cidr: true,
            bits: 8,
            ..
        }
    ));
    assert!(rej(&cidr, text("10.0.0.1/8")).contains("right of the /8 mask"));
    assert!(matches!(
        ok(&cidr, text("0.0.0.0/0")),
        Value::Inet { bits: 0, .. }
    ));
}

#[test]
fn arrays_from_json_array_text_convert_each_element() {
    let c = Converter::new(
        PgType::Array {
            elem: Box::new(PgType::Varchar(Some(2))),
            elem_oid: 1043,
        },
        opts(),
    );
    assert_eq!(
        ok(&c, text(r#"["ab", null, 7]"#)),
        Value::Array(Box::new(ArrayValue {
            elem_oid: 1043,
            elem_type: tokio_postgres::types::Type::VARCHAR,
            items: vec![
                Value::Text("ab".into()),
                Value::Null,
                Value::Text("7".into())
            ],
        }))
    );
    assert!(rej(&c, text(r#"["ab", "abc"]"#)).contains("element 2"));
    assert!(rej(&c, text("{ab}")).contains("not a JSON array"));
    assert!(rej(&c, text(r#"[["a"]]"#)).contains("one-dimensional"));
    let e = Converter::new(
        PgType::Array {
            elem: Box::new(enum_conv().ty),
            elem_oid: 99_999,
        },
        opts(),
    );
    assert!(rej(&e, text(r#"["pending", "lost"]"#)).contains("'pending', 'done'"));
}
