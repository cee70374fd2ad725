//! Turning the driver's values into lossless [`dts_core::Value`]s, for snapshot reads (binary
//! protocol, session in UTC with utf8mb4 results) and binlog row images alike, so that both
//! readings of the same row compare equal.

use bytes::Bytes;
use dts_core::{Column, ColumnType, Date, DateTime, Time, Timestamp, Value};
use mysql_async::Value as Raw;

/// Where a driver value came from; the two carry some types differently.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Origin {
    /// A `SELECT` over the binary protocol, session `time_zone='+00:00'`,
    /// `character_set_results=utf8mb4`.
    Snapshot,
    /// A binlog row image, decoded by `mysql_common`.
    Binlog,
}

/// Why a value could not be decoded (the caller adds table and column).
pub type DecodeError = String;

/// Converts one driver value of `column`.
pub fn decode(column: &Column, raw: Raw, origin: Origin) -> Result<Value, DecodeError> {
    if matches!(raw, Raw::NULL) {
        return Ok(Value::Null);
    }
    let bad = |raw: &Raw| format!("unexpected {raw:?} for type {}", column.type_text);
    if let (Some(syntax), Origin::Binlog) = (column.fixed_syntax_text(), origin) {
        let stored = bytes_of(raw, column)?;
        return syntax.render(&stored).map(Value::Text).ok_or_else(|| {
            format!(
                "{} bytes for a {} value of column {}",
                stored.len(),
                column.type_text,
                column.name
            )
        });
    }
    Ok(match &column.column_type {
        ColumnType::Integer { bytes, unsigned } => integer(raw, *bytes, *unsigned)?,
        ColumnType::Float => match raw {
            Raw::Float(f) => Value::Float(f),
            Raw::Double(d) => Value::Float(d as f32),
            other => return Err(bad(&other)),
        },
        ColumnType::Double => match raw {
            Raw::Double(d) => Value::Double(d),
            Raw::Float(f) => Value::Double(f64::from(f)),
            other => return Err(bad(&other)),
        },
        ColumnType::Decimal { .. } => Value::Decimal(utf8(bytes_of(raw, column)?)?),
        ColumnType::Bit { .. } => match raw {
            Raw::Bytes(b) => Value::Bit(
                b.iter()
                    .fold(0u64, |acc, byte| (acc << 8) | u64::from(*byte)),
            ),
            Raw::Int(i) => Value::Bit(i as u64),
            Raw::UInt(u) => Value::Bit(u),
            other => return Err(bad(&other)),
        },
        ColumnType::Char { .. } | ColumnType::VarChar { .. } | ColumnType::Text { .. } => {
            text(column, bytes_of(raw, column)?, origin)?
        }
        ColumnType::Binary { length } => {
            let mut b = bytes_of(raw, column)?;
            // The binlog drops BINARY(n)'s trailing 0x00 padding; SELECT returns it.
            if b.len() < *length as usize {
                b.resize(*length as usize, 0);
            }
            Value::Bytes(Bytes::from(b))
        }
        ColumnType::VarBinary { .. } | ColumnType::Blob { .. } => {
            Value::Bytes(Bytes::from(bytes_of(raw, column)?))
        }
        ColumnType::Date => match raw {
            Raw::Date(y, m, d, ..) => Value::Date(Date {
                year: y,
                month: m,
                day: d,
            }),
            other => return Err(bad(&other)),
        },
        ColumnType::Time { .. } => match raw {
            Raw::Time(negative, days, h, m, s, us) => Value::Time(Time {
                negative,
                hours: (days * 24 + u32::from(h)) as u16,
                minutes: m,
                seconds: s,
                micros: us,
            }),
            other => return Err(bad(&other)),
        },
        ColumnType::DateTime { .. } => match raw {
            Raw::Date(y, mo, d, h, mi, s, us) => Value::DateTime(datetime(y, mo, d, h, mi, s, us)),
            other => return Err(bad(&other)),
        },
        ColumnType::Timestamp { .. } => match raw {
            // Snapshot sessions run in UTC, so the wall-clock value is the UTC instant.
            Raw::Date(y, mo, d, h, mi, s, us) => {
                let dt = datetime(y, mo, d, h, mi, s, us);
                Value::Timestamp(
                    Timestamp::from_utc_datetime(&dt)
                        .ok_or_else(|| format!("invalid TIMESTAMP {dt}"))?,
                )
            }
            // The binlog carries `seconds[.micros]` since the epoch.
            Raw::Bytes(b) => {
                let s = utf8(b)?;
                let (secs, frac) = s.split_once('.').unwrap_or((&s, "0"));
                let seconds: i64 = secs.parse().map_err(|_| format!("bad TIMESTAMP {s}"))?;
                let micros: u32 = format!("{frac:0<6}")[..6]
                    .parse()
                    .map_err(|_| format!("bad TIMESTAMP {s}"))?;
                Value::Timestamp(Timestamp { seconds, micros })
            }
            Raw::Int(i) => Value::Timestamp(Timestamp {
                seconds: i,
                micros: 0,
            }),
            other => return Err(bad(&other)),
        },
        ColumnType::Year => match raw {
            Raw::Int(y) => Value::Year(y as u16),
            Raw::UInt(y) => Value::Year(y as u16),
            Raw::Bytes(b) => {
                let y: u16 = utf8(b)?.parse().map_err(|_| "bad YEAR".to_string())?;
                // The binlog stores YEAR as an offset from 1900, with 0 for the zero year.
                Value::Year(if y == 1900 { 0 } else { y })
            }
            other => return Err(bad(&other)),
        },
        ColumnType::Enum { members } => match raw {
            Raw::Bytes(b) => Value::Enum(utf8(b)?),
            Raw::Int(i) => Value::Enum(member(members, i as u64)?),
            Raw::UInt(u) => Value::Enum(member(members, u)?),
            other => return Err(bad(&other)),
        },
        ColumnType::Set { members } => match (raw, origin) {
            (Raw::Bytes(b), Origin::Snapshot) => {
                let s = utf8(b)?;
                Value::Set(if s.is_empty() {
                    vec![]
                } else {
                    s.split(',').map(str::to_string).collect()
                })
            }
            (Raw::Bytes(b), Origin::Binlog) => {
                let bits = b
                    .iter()
                    .rev()
                    .fold(0u64, |acc, byte| (acc << 8) | u64::from(*byte));
                Value::Set(
                    members
                        .iter()
                        .enumerate()
                        .filter(|(i, _)| bits & (1 << i) != 0)
                        .map(|(_, m)| m.clone())
                        .collect(),
                )
            }
            (other, _) => return Err(bad(&other)),
        },
        ColumnType::Json => {
            let s = utf8(bytes_of(raw, column)?)?;
            // MySQL's native JSON is rendered canonically from both readings; MariaDB's JSON is
            // text and stays exactly as stored.
            if column.type_text.eq_ignore_ascii_case("json") {
                Value::Json(canonical_json(&s)?)
            } else {
                Value::Json(s)
            }
        }
        ColumnType::Geometry { .. } => Value::Geometry(Bytes::from(bytes_of(raw, column)?)),
    })
}

/// Renders JSON text canonically (compact, keys sorted) so MySQL's binary JSON from the binlog
/// and its text from a SELECT compare equal.
pub fn canonical_json(text: &str) -> Result<String, DecodeError> {
    let v: serde_json::Value =
        serde_json::from_str(text).map_err(|e| format!("invalid JSON: {e}"))?;
    Ok(v.to_string())
}

fn datetime(y: u16, mo: u8, d: u8, h: u8, mi: u8, s: u8, us: u32) -> DateTime {
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

fn member(members: &[String], index: u64) -> Result<String, DecodeError> {
    if index == 0 {
        return Ok(String::new()); // MySQL's "invalid value" member
    }
    members.get(index as usize - 1).cloned().ok_or_else(|| {
        format!(
            "ENUM index {index} out of range ({} members)",
            members.len()
        )
    })
}

fn integer(raw: Raw, bytes: u8, unsigned: bool) -> Result<Value, DecodeError> {
    let bits = u32::from(bytes) * 8;
    let mask = if bits >= 64 {
        u64::MAX
    } else {
        (1u64 << bits) - 1
    };
    match (raw, unsigned) {
        (Raw::UInt(u), true) => Ok(Value::UInt(u)),
        // Without signedness metadata the binlog decoder reads every integer as signed.
        (Raw::Int(i), true) => Ok(Value::UInt(i as u64 & mask)),
        (Raw::Int(i), false) if bits < 64 => {
            // Sign-extend from the column width (the 3-byte MEDIUMINT comes back unextended).
            let shift = 64 - bits;
            Ok(Value::Int(((i as u64 & mask) << shift) as i64 >> shift))
        }
        (Raw::Int(i), false) => Ok(Value::Int(i)),
        (Raw::UInt(u), false) => i64::try_from(u)
            .map(Value::Int)
            .map_err(|_| format!("signed integer out of range: {u}")),
        (Raw::Bytes(b), _) => {
            let s = utf8(b)?;
            if unsigned {
                s.parse().map(Value::UInt).map_err(|e| e.to_string())
            } else {
                s.parse().map(Value::Int).map_err(|e| e.to_string())
            }
        }
        (other, _) => Err(format!("unexpected {other:?} for an integer")),
    }
}

fn bytes_of(raw: Raw, column: &Column) -> Result<Vec<u8>, DecodeError> {
    match raw {
        Raw::Bytes(b) => Ok(b),
        other => Err(format!(
            "unexpected {other:?} for type {}",
            column.type_text
        )),
    }
}

fn utf8(b: Vec<u8>) -> Result<String, DecodeError> {
    String::from_utf8(b).map_err(|e| format!("invalid UTF-8: {e}"))
}

/// Decodes a textual column's bytes. Snapshot reads arrive in utf8mb4 already; binlog images
/// are in the column's own character set.
fn text(column: &Column, b: Vec<u8>, origin: Origin) -> Result<Value, DecodeError> {
    let charset = column.charset.as_deref().unwrap_or("utf8mb4");
    if charset == "binary" {
        return Ok(Value::Bytes(Bytes::from(b)));
    }
    if origin == Origin::Snapshot {
        return utf8(b).map(Value::Text);
    }
    match charset {
        "utf8mb4" | "utf8mb3" | "utf8" | "ascii" => utf8(b).map(Value::Text),
        "latin1" => Ok(Value::Text(b.iter().map(|&c| cp1252(c)).collect())),
        other => Err(format!(
            "character set {other} is not supported in binlog images (column charset of {})",
            column.name
        )),
    }
}

/// MySQL's `latin1` is Windows-1252 with the five undefined bytes mapped to C1 controls.
fn cp1252(b: u8) -> char {
    const HIGH: [char; 32] = [
        '\u{20AC}', '\u{81}', '\u{201A}', '\u{192}', '\u{201E}', '\u{2026}', '\u{2020}',
        '\u{2021}', '\u{2C6}', '\u{2030}', '\u{160}', '\u{2039}', '\u{152}', '\u{8D}', '\u{17D}',
        '\u{8F}', '\u{90}', '\u{2018}', '\u{2019}', '\u{201C}', '\u{201D}', '\u{2022}', '\u{2013}',
        '\u{2014}', '\u{2DC}', '\u{2122}', '\u{161}', '\u{203A}', '\u{153}', '\u{9D}', '\u{17E}',
        '\u{178}',
    ];
    match b {
        0x80..=0x9F => HIGH[(b - 0x80) as usize],
        _ => char::from(b),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn col(ct: ColumnType, text: &str) -> Column {
        Column::new("c", ct, text)
    }

    #[test]
    fn unsigned_from_signed_binlog_read() {
        let c = col(
            ColumnType::Integer {
                bytes: 8,
                unsigned: true,
            },
            "bigint unsigned",
        );
        assert_eq!(
            decode(&c, Raw::Int(-1), Origin::Binlog).unwrap(),
            Value::UInt(u64::MAX)
        );
        let c = col(
            ColumnType::Integer {
                bytes: 1,
                unsigned: true,
            },
            "tinyint unsigned",
        );
        assert_eq!(
            decode(&c, Raw::Int(-1), Origin::Binlog).unwrap(),
            Value::UInt(255)
        );
    }

    #[test]
    fn signed_integers_are_sign_extended() {
        let c = col(
            ColumnType::Integer {
                bytes: 3,
                unsigned: false,
            },
            "mediumint",
        );
        assert_eq!(
            decode(&c, Raw::Int(8_388_608), Origin::Binlog).unwrap(),
            Value::Int(-8_388_608)
        );
        assert_eq!(
            decode(&c, Raw::Int(-5), Origin::Snapshot).unwrap(),
            Value::Int(-5)
        );
    }

    #[test]
    fn timestamps_from_both_origins_agree() {
        let c = col(ColumnType::Timestamp { fsp: 6 }, "timestamp(6)");
        let a = decode(
            &c,
            Raw::Bytes(b"1700000000.000123".to_vec()),
            Origin::Binlog,
        )
        .unwrap();
        let b = decode(
            &c,
            Raw::Date(2023, 11, 14, 22, 13, 20, 123),
            Origin::Snapshot,
        )
        .unwrap();
        assert_eq!(a, b);
        let zero = decode(&c, Raw::Bytes(b"0".to_vec()), Origin::Binlog).unwrap();
        let zero2 = decode(&c, Raw::Date(0, 0, 0, 0, 0, 0, 0), Origin::Snapshot).unwrap();
        assert_eq!(zero, zero2);
    }

    #[test]
    fn set_and_enum_from_both_origins_agree() {
        let members = vec!["a".to_string(), "b".into(), "c".into()];
        let s = col(
            ColumnType::Set {
                members: members.clone(),
            },
            "set('a','b','c')",
        );
        assert_eq!(
            decode(&s, Raw::Bytes(vec![0b101]), Origin::Binlog).unwrap(),
            decode(&s, Raw::Bytes(b"a,c".to_vec()), Origin::Snapshot).unwrap()
        );
        let e = col(ColumnType::Enum { members }, "enum('a','b','c')");
        assert_eq!(
            decode(&e, Raw::Int(2), Origin::Binlog).unwrap(),
            Value::Enum("b".into())
        );
    }

    #[test]
    fn binary_padding_and_year_zero() {
        let b = col(ColumnType::Binary { length: 4 }, "binary(4)");
        assert_eq!(
            decode(&b, Raw::Bytes(vec![1]), Origin::Binlog).unwrap(),
            Value::Bytes(Bytes::from_static(&[1, 0, 0, 0]))
        );
        let y = col(ColumnType::Year, "year(4)");
        assert_eq!(
            decode(&y, Raw::Bytes(b"1900".to_vec()), Origin::Binlog).unwrap(),
            Value::Year(0)
        );
        assert_eq!(
            decode(&y, Raw::Int(0), Origin::Snapshot).unwrap(),
            Value::Year(0)
        );
    }

    #[test]
    fn latin1_is_cp1252() {
        let mut c = col(ColumnType::VarChar { length: 10 }, "varchar(10)");
        c.charset = Some("latin1".into());
        assert_eq!(
            decode(&c, Raw::Bytes(vec![0x80, b'a', 0xE9]), Origin::Binlog).unwrap(),
            Value::Text("€aé".into())
        );
    }

    #[test]
    fn bad_utf8_is_an_error() {
        let c = col(ColumnType::VarChar { length: 10 }, "varchar(10)");
        assert!(decode(&c, Raw::Bytes(vec![0xff]), Origin::Binlog).is_err());
    }
}
