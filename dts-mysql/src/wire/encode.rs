//! Turning [`dts_core::Value`]s back into driver parameters, for key cursors and writes.
//! Sessions that use these parameters run with `time_zone='+00:00'`, so TIMESTAMPs travel as
//! their UTC wall-clock time.

use dts_core::{Time, Value};
use mysql_async::Value as Raw;

/// The driver parameter for a value.
pub fn to_param(value: &Value) -> Raw {
    match value {
        Value::Null => Raw::NULL,
        Value::Int(i) => Raw::Int(*i),
        Value::UInt(u) => Raw::UInt(*u),
        Value::Float(f) => Raw::Float(*f),
        Value::Double(d) => Raw::Double(*d),
        Value::Decimal(s) | Value::Text(s) | Value::Enum(s) | Value::Json(s) => {
            Raw::Bytes(s.as_bytes().to_vec())
        }
        Value::Bit(b) => Raw::UInt(*b),
        Value::Bytes(b) | Value::Geometry(b) => Raw::Bytes(b.to_vec()),
        Value::Date(d) => Raw::Date(d.year, d.month, d.day, 0, 0, 0, 0),
        Value::Time(t) => time(t),
        Value::DateTime(dt) => Raw::Date(
            dt.date.year,
            dt.date.month,
            dt.date.day,
            dt.hour,
            dt.minute,
            dt.second,
            dt.micros,
        ),
        Value::Timestamp(ts) => {
            let dt = ts.to_utc_datetime();
            Raw::Date(
                dt.date.year,
                dt.date.month,
                dt.date.day,
                dt.hour,
                dt.minute,
                dt.second,
                dt.micros,
            )
        }
        Value::Year(y) => Raw::UInt(u64::from(*y)),
        Value::Set(members) => Raw::Bytes(members.join(",").into_bytes()),
    }
}

fn time(t: &Time) -> Raw {
    let days = u32::from(t.hours) / 24;
    Raw::Time(
        t.negative,
        days,
        (t.hours % 24) as u8,
        t.minutes,
        t.seconds,
        t.micros,
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::decode::{decode, Origin};
    use dts_core::{Column, ColumnType, Timestamp};

    #[test]
    fn round_trips_through_decode() {
        let cases = vec![
            (
                ColumnType::Time { fsp: 6 },
                Value::Time(Time {
                    negative: true,
                    hours: 838,
                    minutes: 59,
                    seconds: 59,
                    micros: 1,
                }),
            ),
            (
                ColumnType::Timestamp { fsp: 0 },
                Value::Timestamp(Timestamp {
                    seconds: 1_000_000_000,
                    micros: 0,
                }),
            ),
            (
                ColumnType::Integer {
                    bytes: 8,
                    unsigned: true,
                },
                Value::UInt(u64::MAX),
            ),
        ];
        for (ct, v) in cases {
            let col = Column::new("c", ct, "t");
            assert_eq!(decode(&col, to_param(&v), Origin::Snapshot).unwrap(), v);
        }
    }
}
