//! Canonical text of one compared value, so that what the source server prints (text protocol,
//! UTC session) can be compared with what a destination or a record format carries for it:
//! integers and decimals as digits, floats at their type's precision, bits as an unsigned
//! number, bytes as hex, times with a trimmed fraction, the zero TIMESTAMP as epoch zero's
//! MySQL spelling. NULL is `None`.

use super::types::Family;
use base64::Engine;

/// The canonical text of a value the source (or a MySQL destination) printed.
pub fn of_server_text(family: Family, raw: Option<&[u8]>) -> Option<String> {
    let raw = raw?;
    let text = || String::from_utf8_lossy(raw).into_owned();
    Some(match family {
        Family::Bit => {
            let mut v: u64 = 0;
            for b in raw {
                v = (v << 8) | u64::from(*b);
            }
            v.to_string()
        }
        Family::Binary | Family::Geometry => hex(raw),
        _ => of_text(family, &text()),
    })
}

/// The canonical text of a value a destination holds in another type than the source's (the
/// AnalyticDB mapping: BIT as a number, YEAR as INT, ENUM/SET as VARCHAR).
pub fn of_mapped_text(family: Family, raw: Option<&[u8]>) -> Option<String> {
    match family {
        Family::Bit => raw.map(|r| of_text(Family::Int, &String::from_utf8_lossy(r))),
        _ => of_server_text(family, raw),
    }
}

/// The canonical text of a value given as text (a record format's string, or a server's text
/// of a non-binary family). Binary families are given as base64, as the record formats do.
pub fn of_text(family: Family, text: &str) -> String {
    match family {
        Family::Float => format!("{:.5e}", text.parse::<f32>().unwrap_or(f32::NAN)),
        Family::Double => format!("{:e}", text.parse::<f64>().unwrap_or(f64::NAN)),
        Family::Year => text
            .parse::<u16>()
            .map(|y| y.to_string())
            .unwrap_or_else(|_| text.to_string()),
        Family::Time => trim_fraction(text),
        Family::DateTime => trim_fraction(&text.replace('T', " ")),
        Family::Timestamp => {
            let t = trim_fraction(text.trim_end_matches('Z').replace('T', " ").as_str());
            if t == "1970-01-01 00:00:00" {
                "0000-00-00 00:00:00".into()
            } else {
                t
            }
        }
        Family::Binary | Family::Geometry => {
            match base64::engine::general_purpose::STANDARD.decode(text) {
                Ok(b) => hex(&b),
                Err(e) => format!("<not base64: {e}: {text}>"),
            }
        }
        _ => text.to_string(),
    }
}

/// The canonical text of a TIME given as signed microseconds (Debezium's `MicroTime`).
pub fn of_time_micros(us: i64) -> String {
    let sign = if us < 0 { "-" } else { "" };
    let a = us.unsigned_abs();
    let (s, frac) = (a / 1_000_000, a % 1_000_000);
    trim_fraction(&format!(
        "{sign}{:02}:{:02}:{:02}.{frac:06}",
        s / 3600,
        s / 60 % 60,
        s % 60
    ))
}

/// The canonical text of a TIMESTAMP given as seconds and microseconds since the epoch.
pub fn of_epoch(seconds: i64, micros: u32) -> String {
    let days = seconds.div_euclid(86_400);
    let secs = seconds.rem_euclid(86_400);
    let (y, m, d) = civil_from_days(days);
    of_text(
        Family::Timestamp,
        &format!(
            "{y:04}-{m:02}-{d:02} {:02}:{:02}:{:02}.{micros:06}",
            secs / 3600,
            secs / 60 % 60,
            secs % 60
        ),
    )
}

/// Bytes as lower-case hex (lengths and padding stay visible).
pub fn hex(b: &[u8]) -> String {
    use std::fmt::Write;
    let mut s = String::with_capacity(b.len() * 2 + 8);
    let _ = write!(s, "{}:", b.len());
    for x in b {
        let _ = write!(s, "{x:02x}");
    }
    s
}

/// `12:00:00.500000` → `12:00:00.5`; `…:00.000000` → `…:00`.
fn trim_fraction(t: &str) -> String {
    match t.split_once('.') {
        Some((whole, frac)) => {
            let frac = frac.trim_end_matches('0');
            if frac.is_empty() {
                whole.to_string()
            } else {
                format!("{whole}.{frac}")
            }
        }
        None => t.to_string(),
    }
}

/// Days since 1970-01-01 to (year, month, day) in the proleptic Gregorian calendar.
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

#[test]
fn canonical_forms_meet() {
    assert_eq!(
        of_epoch(2_147_483_647, 999_999),
        "2038-01-19 03:14:07.999999"
    );
    assert_eq!(of_epoch(0, 0), "0000-00-00 00:00:00");
    assert_eq!(of_time_micros(-3_020_399_000_000), "-838:59:59");
    assert_eq!(of_time_micros(-1), "-00:00:00.000001");
    assert_eq!(
        of_text(Family::Float, "-3.4028235e38"),
        of_text(Family::Float, "-3.40282e38")
    );
    assert_eq!(of_server_text(Family::Bit, Some(&[1, 0])).unwrap(), "256");
    assert_eq!(of_text(Family::Binary, "AP8A"), hex(&[0, 255, 0]));
}
