//! Column values: one variant per MySQL type family, lossless.
//!
//! A `Value` must carry exactly what the source stored, because the same row is read twice (once
//! by the snapshot, once from the binlog) and both readings must compare equal, and because every
//! destination needs the exact value back (a DECIMAL rounded through `f64`, or a `u64` squeezed
//! into `i64`, would silently change data).

use bytes::Bytes;
use serde::{Deserialize, Serialize};
use std::fmt;

/// One column value as stored by a MySQL-family server.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "t", content = "v", rename_all = "snake_case")]
pub enum Value {
    /// SQL NULL.
    Null,
    /// A signed integer column (TINYINT … BIGINT without UNSIGNED).
    Int(i64),
    /// An unsigned integer column; `u64::MAX` survives.
    UInt(u64),
    /// FLOAT (single precision), kept as `f32` so no digits are invented.
    Float(f32),
    /// DOUBLE / REAL.
    Double(f64),
    /// DECIMAL / NUMERIC as its exact decimal text (up to 65 digits, 30 after the point).
    Decimal(String),
    /// BIT(1..64), right-aligned in a `u64`.
    Bit(u64),
    /// CHAR / VARCHAR / TEXT decoded from the column's character set.
    Text(String),
    /// BINARY / VARBINARY / BLOB bytes, and text columns with the `binary` charset.
    Bytes(Bytes),
    /// DATE, zero dates included.
    Date(Date),
    /// TIME, negative and beyond 24 hours.
    Time(Time),
    /// DATETIME: wall-clock time, no time zone.
    DateTime(DateTime),
    /// TIMESTAMP: an instant, seconds and microseconds since the Unix epoch in UTC; `0.0` is the
    /// zero timestamp `0000-00-00 00:00:00`.
    Timestamp(Timestamp),
    /// YEAR (0 for the zero year, otherwise 1901–2155).
    Year(u16),
    /// ENUM member, by its text.
    Enum(String),
    /// SET members, in the column's definition order.
    Set(Vec<String>),
    /// JSON document as text (MySQL's binary JSON is rendered to its canonical text).
    Json(String),
    /// GEOMETRY in MySQL's internal format: a 4-byte little-endian SRID followed by WKB.
    Geometry(Bytes),
}

impl Value {
    /// True for SQL NULL.
    pub fn is_null(&self) -> bool {
        matches!(self, Value::Null)
    }

    /// Rough in-memory size in bytes, used for byte-based batching and throttling.
    pub fn approx_size(&self) -> usize {
        match self {
            Value::Null => 1,
            Value::Int(_) | Value::UInt(_) | Value::Double(_) | Value::Bit(_) => 8,
            Value::Float(_) => 4,
            Value::Year(_) => 2,
            Value::Date(_) => 4,
            Value::Time(_) | Value::DateTime(_) | Value::Timestamp(_) => 8,
            Value::Decimal(s) | Value::Text(s) | Value::Enum(s) | Value::Json(s) => s.len(),
            Value::Bytes(b) | Value::Geometry(b) => b.len(),
            Value::Set(items) => items.iter().map(|s| s.len() + 1).sum(),
        }
    }
}

/// A calendar date as MySQL stores it: year 0–9999, month 0–12, day 0–31 (zeros allowed so
/// `0000-00-00` and partial zero dates round-trip).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Date {
    /// Year, 0–9999.
    pub year: u16,
    /// Month, 0–12 (0 only in zero dates).
    pub month: u8,
    /// Day, 0–31 (0 only in zero dates).
    pub day: u8,
}

impl Date {
    /// The zero date `0000-00-00`.
    pub const ZERO: Date = Date {
        year: 0,
        month: 0,
        day: 0,
    };
}

impl fmt::Display for Date {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:02}-{:02}", self.year, self.month, self.day)
    }
}

/// A TIME value: a signed duration from −838:59:59.999999 to 838:59:59.999999.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Time {
    /// True for negative durations.
    pub negative: bool,
    /// Hours, 0–838.
    pub hours: u16,
    /// Minutes, 0–59.
    pub minutes: u8,
    /// Seconds, 0–59.
    pub seconds: u8,
    /// Microseconds, 0–999999.
    pub micros: u32,
}

impl fmt::Display for Time {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.negative {
            f.write_str("-")?;
        }
        write!(
            f,
            "{:02}:{:02}:{:02}",
            self.hours, self.minutes, self.seconds
        )?;
        if self.micros != 0 {
            write!(f, ".{:06}", self.micros)?;
        }
        Ok(())
    }
}

/// A DATETIME value: a wall-clock date and time with microseconds, no time zone.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct DateTime {
    /// The date part (zero dates allowed).
    pub date: Date,
    /// Hour, 0–23.
    pub hour: u8,
    /// Minute, 0–59.
    pub minute: u8,
    /// Second, 0–59.
    pub second: u8,
    /// Microseconds, 0–999999.
    pub micros: u32,
}

impl fmt::Display for DateTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} {:02}:{:02}:{:02}",
            self.date, self.hour, self.minute, self.second
        )?;
        if self.micros != 0 {
            write!(f, ".{:06}", self.micros)?;
        }
        Ok(())
    }
}

/// A TIMESTAMP value: an instant in UTC; seconds 0 with micros 0 is the zero timestamp.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Timestamp {
    /// Seconds since 1970-01-01 00:00:00 UTC.
    pub seconds: i64,
    /// Microseconds, 0–999999.
    pub micros: u32,
}

impl Timestamp {
    /// True for MySQL's zero timestamp.
    pub fn is_zero(&self) -> bool {
        self.seconds == 0 && self.micros == 0
    }

    /// The UTC calendar date and time of this instant (the zero timestamp maps to the zero
    /// datetime, as MySQL shows it).
    pub fn to_utc_datetime(&self) -> DateTime {
        if self.is_zero() {
            return DateTime {
                date: Date::ZERO,
                hour: 0,
                minute: 0,
                second: 0,
                micros: 0,
            };
        }
        let days = self.seconds.div_euclid(86_400);
        let secs = self.seconds.rem_euclid(86_400);
        let (year, month, day) = civil_from_days(days);
        DateTime {
            date: Date {
                year: year as u16,
                month: month as u8,
                day: day as u8,
            },
            hour: (secs / 3600) as u8,
            minute: ((secs % 3600) / 60) as u8,
            second: (secs % 60) as u8,
            micros: self.micros,
        }
    }

    /// The instant of a UTC calendar date and time; `None` for zero or partial zero dates other
    /// than the zero datetime itself (which maps to the zero timestamp).
    pub fn from_utc_datetime(dt: &DateTime) -> Option<Timestamp> {
        if dt.date == Date::ZERO && dt.hour == 0 && dt.minute == 0 && dt.second == 0 {
            return Some(Timestamp {
                seconds: 0,
                micros: dt.micros,
            });
        }
        if dt.date.month == 0 || dt.date.day == 0 {
            return None;
        }
        let days = days_from_civil(
            i64::from(dt.date.year),
            u32::from(dt.date.month),
            u32::from(dt.date.day),
        );
        Some(Timestamp {
            seconds: days * 86_400
                + i64::from(dt.hour) * 3600
                + i64::from(dt.minute) * 60
                + i64::from(dt.second),
            micros: dt.micros,
        })
    }
}

/// Days since 1970-01-01 for a proleptic Gregorian date (Howard Hinnant's algorithm).
pub fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = i64::from(month);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(day) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The proleptic Gregorian date of a day count since 1970-01-01.
pub fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn civil_round_trip() {
        for days in [-719_468, -1, 0, 1, 11_016, 2_932_896] {
            let (y, m, d) = civil_from_days(days);
            assert_eq!(days_from_civil(y, m, d), days, "{y}-{m}-{d}");
        }
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(days_from_civil(2000, 3, 1), 11_017);
    }

    #[test]
    fn timestamp_to_datetime_and_back() {
        let ts = Timestamp {
            seconds: 2_147_483_647,
            micros: 999_999,
        };
        let dt = ts.to_utc_datetime();
        assert_eq!(dt.to_string(), "2038-01-19 03:14:07.999999");
        assert_eq!(Timestamp::from_utc_datetime(&dt), Some(ts));
        let zero = Timestamp {
            seconds: 0,
            micros: 0,
        };
        assert_eq!(zero.to_utc_datetime().to_string(), "0000-00-00 00:00:00");
    }

    #[test]
    fn display_forms() {
        let t = Time {
            negative: true,
            hours: 838,
            minutes: 59,
            seconds: 59,
            micros: 0,
        };
        assert_eq!(t.to_string(), "-838:59:59");
        assert_eq!(Date::ZERO.to_string(), "0000-00-00");
    }

    #[test]
    fn value_serde_keeps_extremes() {
        let values = vec![
            Value::UInt(u64::MAX),
            Value::Int(i64::MIN),
            Value::Decimal(
                "-99999999999999999999999999999999999.999999999999999999999999999999".into(),
            ),
            Value::Bytes(Bytes::from_static(b"\0\xff\0")),
            Value::Set(vec!["a".into(), "c".into()]),
        ];
        let json = serde_json::to_string(&values).unwrap();
        let back: Vec<Value> = serde_json::from_str(&json).unwrap();
        assert_eq!(back, values);
    }
}
