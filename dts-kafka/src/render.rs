//! How column values are written as text and as typed JSON, shared by the JSON formats and by
//! partition hashing. The representations are listed in the crate documentation.

use base64::Engine as _;
use dts_core::{ColumnType, Date, DateTime, Time, Timestamp, Value};
use std::fmt::Write as _;

/// Standard base64 with padding (RFC 4648 §4), the encoding every JSON format uses for bytes.
pub(crate) fn base64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// Fractional-second precision of a temporal column type, if it has one.
pub(crate) fn fsp_of(column: Option<&ColumnType>) -> u8 {
    match column {
        Some(ColumnType::Time { fsp })
        | Some(ColumnType::DateTime { fsp })
        | Some(ColumnType::Timestamp { fsp }) => (*fsp).min(6),
        _ => 0,
    }
}

/// `.ffffff` with as many digits as the column's precision, or six when the value has digits
/// beyond it (never drops a digit); empty when there are none to write.
pub(crate) fn fraction(micros: u32, fsp: u8) -> String {
    let fsp = u32::from(fsp.min(6));
    let digits = if micros.is_multiple_of(10u32.pow(6 - fsp)) {
        fsp
    } else {
        6
    };
    if digits == 0 {
        return String::new();
    }
    let all = format!("{micros:06}");
    format!(".{}", &all[..digits as usize])
}

/// `YYYY-MM-DD`.
pub(crate) fn date_text(d: &Date) -> String {
    format!("{:04}-{:02}-{:02}", d.year, d.month, d.day)
}

/// `[-]HH:MM:SS[.f]` (hours have at least two digits, up to 838).
pub(crate) fn time_text(t: &Time, fsp: u8) -> String {
    format!(
        "{}{:02}:{:02}:{:02}{}",
        if t.negative { "-" } else { "" },
        t.hours,
        t.minutes,
        t.seconds,
        fraction(t.micros, fsp)
    )
}

/// A TIME as signed microseconds (Debezium's `MicroTime`).
pub(crate) fn time_micros(t: &Time) -> i64 {
    let abs = ((i64::from(t.hours) * 60 + i64::from(t.minutes)) * 60 + i64::from(t.seconds))
        * 1_000_000
        + i64::from(t.micros);
    if t.negative {
        -abs
    } else {
        abs
    }
}

/// `YYYY-MM-DD<sep>HH:MM:SS[.f]`.
pub(crate) fn datetime_text(dt: &DateTime, sep: char, fsp: u8) -> String {
    format!(
        "{}{sep}{:02}:{:02}:{:02}{}",
        date_text(&dt.date),
        dt.hour,
        dt.minute,
        dt.second,
        fraction(dt.micros, fsp)
    )
}

/// A TIMESTAMP as its UTC wall-clock text `YYYY-MM-DD HH:MM:SS[.f]` (the zero timestamp is
/// `0000-00-00 00:00:00`, as MySQL shows it).
pub(crate) fn timestamp_text(ts: &Timestamp, fsp: u8) -> String {
    datetime_text(&ts.to_utc_datetime(), ' ', fsp)
}

/// A TIMESTAMP as ISO-8601 UTC `YYYY-MM-DDTHH:MM:SS[.f]Z` (Debezium's `ZonedTimestamp`); the
/// zero timestamp is the epoch instant it is stored as, `1970-01-01T00:00:00Z`.
pub(crate) fn timestamp_iso(ts: &Timestamp, fsp: u8) -> String {
    let dt = if ts.is_zero() {
        DateTime {
            date: Date {
                year: 1970,
                month: 1,
                day: 1,
            },
            hour: 0,
            minute: 0,
            second: 0,
            micros: 0,
        }
    } else {
        ts.to_utc_datetime()
    };
    format!("{}Z", datetime_text(&dt, 'T', fsp))
}

/// Shortest text that reads back to the same `f32`, in exponent form for very large or small
/// magnitudes.
pub(crate) fn f32_text(v: f32) -> String {
    let a = v.abs();
    if a != 0.0 && a.is_finite() && !(1e-5..1e16).contains(&a) {
        format!("{v:e}")
    } else {
        format!("{v}")
    }
}

/// Shortest text that reads back to the same `f64`, in exponent form for very large or small
/// magnitudes.
pub(crate) fn f64_text(v: f64) -> String {
    let a = v.abs();
    if a != 0.0 && a.is_finite() && !(1e-5..1e16).contains(&a) {
        format!("{v:e}")
    } else {
        format!("{v}")
    }
}

/// The text form of a value (`None` for NULL), as Canal JSON and Shareplex JSON write it and
/// as partition keys hash it.
pub(crate) fn text(value: &Value, column: Option<&ColumnType>) -> Option<String> {
    let fsp = fsp_of(column);
    Some(match value {
        Value::Null => return None,
        Value::Int(v) => v.to_string(),
        Value::UInt(v) => v.to_string(),
        Value::Float(v) => f32_text(*v),
        Value::Double(v) => f64_text(*v),
        Value::Decimal(s) | Value::Text(s) | Value::Enum(s) | Value::Json(s) => s.clone(),
        Value::Bit(v) => v.to_string(),
        Value::Bytes(b) | Value::Geometry(b) => base64(b),
        Value::Date(d) => date_text(d),
        Value::Time(t) => time_text(t, fsp),
        Value::DateTime(dt) => datetime_text(dt, ' ', fsp),
        Value::Timestamp(ts) => timestamp_text(ts, fsp),
        Value::Year(y) => format!("{y:04}"),
        Value::Set(items) => items.join(","),
    })
}

/// Writes JSON text into a byte buffer, fields in insertion order (so columns keep their table
/// order, which `serde_json::Map` would sort).
pub(crate) struct Json {
    out: Vec<u8>,
    /// One flag per open object/array: true until its first member is written.
    first: Vec<bool>,
}

impl Json {
    pub(crate) fn new() -> Self {
        Self {
            out: Vec::with_capacity(512),
            first: Vec::new(),
        }
    }

    pub(crate) fn finish(self) -> Vec<u8> {
        self.out
    }

    fn comma(&mut self) {
        if let Some(first) = self.first.last_mut() {
            if *first {
                *first = false;
            } else {
                self.out.push(b',');
            }
        }
    }

    /// Starts an object (as a value: call [`Json::key`] first inside an object).
    pub(crate) fn begin_object(&mut self) {
        self.out.push(b'{');
        self.first.push(true);
    }

    pub(crate) fn end_object(&mut self) {
        self.out.push(b'}');
        self.first.pop();
    }

    pub(crate) fn begin_array(&mut self) {
        self.out.push(b'[');
        self.first.push(true);
    }

    /// Separator before an array element.
    pub(crate) fn element(&mut self) {
        self.comma();
    }

    pub(crate) fn end_array(&mut self) {
        self.out.push(b']');
        self.first.pop();
    }

    /// Writes `"name":`; the value follows.
    pub(crate) fn key(&mut self, name: &str) {
        self.comma();
        self.raw_string(name);
        self.out.push(b':');
    }

    fn raw_string(&mut self, s: &str) {
        // Serializing a &str into a Vec cannot fail.
        let _ = serde_json::to_writer(&mut self.out, s);
    }

    pub(crate) fn string(&mut self, s: &str) {
        self.raw_string(s);
    }

    pub(crate) fn null(&mut self) {
        self.out.extend_from_slice(b"null");
    }

    pub(crate) fn bool(&mut self, v: bool) {
        self.out
            .extend_from_slice(if v { b"true" } else { b"false" });
    }

    pub(crate) fn i64(&mut self, v: i64) {
        let _ = write!(Utf8Vec(&mut self.out), "{v}");
    }

    pub(crate) fn u64(&mut self, v: u64) {
        let _ = write!(Utf8Vec(&mut self.out), "{v}");
    }

    fn f32(&mut self, v: f32) {
        let _ = serde_json::to_writer(&mut self.out, &v);
    }

    fn f64(&mut self, v: f64) {
        let _ = serde_json::to_writer(&mut self.out, &v);
    }

    pub(crate) fn opt_string(&mut self, s: Option<&str>) {
        match s {
            Some(s) => self.string(s),
            None => self.null(),
        }
    }

    /// A value in its text form (a JSON string, or null).
    pub(crate) fn text_value(&mut self, value: &Value, column: Option<&ColumnType>) {
        match text(value, column) {
            Some(s) => self.string(&s),
            None => self.null(),
        }
    }

    /// A value in its typed JSON form (Debezium-compatible; see the crate documentation).
    pub(crate) fn typed_value(&mut self, value: &Value, column: Option<&ColumnType>) {
        let fsp = fsp_of(column);
        match value {
            Value::Null => self.null(),
            Value::Int(v) => self.i64(*v),
            Value::UInt(v) | Value::Bit(v) => self.u64(*v),
            Value::Year(v) => self.u64(u64::from(*v)),
            Value::Float(v) => self.f32(*v),
            Value::Double(v) => self.f64(*v),
            Value::Decimal(s) | Value::Text(s) | Value::Enum(s) | Value::Json(s) => self.string(s),
            Value::Set(items) => self.string(&items.join(",")),
            Value::Bytes(b) => self.string(&base64(b)),
            Value::Geometry(b) => {
                // Debezium's io.debezium.data.geometry.Geometry: WKB and SRID apart.
                self.begin_object();
                if b.len() >= 4 {
                    self.key("wkb");
                    self.string(&base64(&b[4..]));
                    self.key("srid");
                    self.u64(u64::from(u32::from_le_bytes([b[0], b[1], b[2], b[3]])));
                } else {
                    self.key("wkb");
                    self.string(&base64(b));
                    self.key("srid");
                    self.null();
                }
                self.end_object();
            }
            Value::Date(d) => self.string(&date_text(d)),
            Value::Time(t) => self.i64(time_micros(t)),
            Value::DateTime(dt) => self.string(&datetime_text(dt, 'T', fsp)),
            Value::Timestamp(ts) => self.string(&timestamp_iso(ts, fsp)),
        }
    }
}

/// `fmt::Write` over a byte vector (integers are ASCII).
struct Utf8Vec<'a>(&'a mut Vec<u8>);

impl std::fmt::Write for Utf8Vec<'_> {
    fn write_str(&mut self, s: &str) -> std::fmt::Result {
        self.0.extend_from_slice(s.as_bytes());
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bytes::Bytes;

    fn dt(y: u16, mo: u8, d: u8, h: u8, mi: u8, s: u8, us: u32) -> DateTime {
        DateTime {
            date: Date {
                year: y,
                month: mo,
                day: d,
            },
            hour: h,
            minute: mi,
            second: s,
            micros: us,
        }
    }

    #[test]
    fn fractions_follow_the_column_precision_without_losing_digits() {
        assert_eq!(fraction(0, 0), "");
        assert_eq!(fraction(0, 6), ".000000");
        assert_eq!(fraction(500_000, 1), ".5");
        assert_eq!(fraction(999_999, 6), ".999999");
        // A value finer than its declared precision keeps all six digits.
        assert_eq!(fraction(123, 2), ".000123");
        assert_eq!(fraction(120_000, 2), ".12");
    }

    #[test]
    fn temporal_text_forms() {
        let t = Time {
            negative: true,
            hours: 838,
            minutes: 59,
            seconds: 59,
            micros: 0,
        };
        assert_eq!(time_text(&t, 0), "-838:59:59");
        assert_eq!(time_micros(&t), -3_020_399_000_000);
        let t6 = Time {
            negative: false,
            hours: 1,
            minutes: 2,
            seconds: 3,
            micros: 4,
        };
        assert_eq!(time_text(&t6, 6), "01:02:03.000004");
        assert_eq!(
            datetime_text(&dt(9999, 12, 31, 23, 59, 59, 999_999), ' ', 6),
            "9999-12-31 23:59:59.999999"
        );
        assert_eq!(
            datetime_text(&dt(0, 0, 0, 0, 0, 0, 0), 'T', 0),
            "0000-00-00T00:00:00"
        );
        let ts = Timestamp {
            seconds: 2_147_483_647,
            micros: 999_999,
        };
        assert_eq!(timestamp_text(&ts, 6), "2038-01-19 03:14:07.999999");
        assert_eq!(timestamp_iso(&ts, 6), "2038-01-19T03:14:07.999999Z");
        let zero = Timestamp {
            seconds: 0,
            micros: 0,
        };
        assert_eq!(timestamp_text(&zero, 0), "0000-00-00 00:00:00");
        assert_eq!(timestamp_iso(&zero, 0), "1970-01-01T00:00:00Z");
    }

    #[test]
    fn floats_are_shortest_round_trip() {
        assert_eq!(f32_text(1.5), "1.5");
        assert_eq!(f32_text(0.1), "0.1");
        assert_eq!(f32_text(f32::MAX), "3.4028235e38");
        assert_eq!(
            f64_text(-1.797_693_134_862_315_7e308),
            "-1.7976931348623157e308"
        );
        assert_eq!(f64_text(1e-7), "1e-7");
        assert_eq!(f64_text(123.25), "123.25");
        assert_eq!(f64_text(0.0), "0");
        for v in [0.1f32, 1.0 / 3.0, f32::MIN_POSITIVE, 16_777_217.0] {
            assert_eq!(f32_text(v).parse::<f32>().unwrap(), v);
        }
    }

    #[test]
    fn text_forms_of_every_variant() {
        let cases: Vec<(Value, Option<ColumnType>, Option<&str>)> = vec![
            (Value::Null, None, None),
            (Value::Int(i64::MIN), None, Some("-9223372036854775808")),
            (Value::UInt(u64::MAX), None, Some("18446744073709551615")),
            (Value::Decimal("-0.10".into()), None, Some("-0.10")),
            (Value::Bit(5), None, Some("5")),
            (
                Value::Bytes(Bytes::from_static(&[0, 255, 0])),
                None,
                Some("AP8A"),
            ),
            (Value::Year(0), None, Some("0000")),
            (Value::Year(2155), None, Some("2155")),
            (Value::Set(vec!["x".into(), "z".into()]), None, Some("x,z")),
            (Value::Date(Date::ZERO), None, Some("0000-00-00")),
            (
                Value::DateTime(dt(2024, 2, 29, 1, 2, 3, 0)),
                Some(ColumnType::DateTime { fsp: 3 }),
                Some("2024-02-29 01:02:03.000"),
            ),
        ];
        for (v, c, want) in cases {
            assert_eq!(text(&v, c.as_ref()).as_deref(), want, "{v:?}");
        }
    }

    #[test]
    fn json_writer_keeps_order_and_escapes() {
        let mut j = Json::new();
        j.begin_object();
        j.key("z");
        j.string("a\"b\n");
        j.key("a");
        j.begin_array();
        j.element();
        j.u64(u64::MAX);
        j.element();
        j.null();
        j.end_array();
        j.key("g");
        j.typed_value(
            &Value::Geometry(Bytes::from_static(&[1, 0, 0, 0, 9, 9])),
            None,
        );
        j.key("f");
        j.typed_value(&Value::Float(0.1), None);
        j.end_object();
        assert_eq!(
            String::from_utf8(j.finish()).unwrap(),
            r#"{"z":"a\"b\n","a":[18446744073709551615,null],"g":{"wkb":"CQk=","srid":1},"f":0.1}"#
        );
    }
}
