//! Reading date and time strings the way MySQL does when a string is compared with a DATE,
//! DATETIME, TIMESTAMP or TIME value (`created_at >= '2020-01-01'`).
//!
//! Accepted: `YYYY-MM-DD`, `YYYY-MM-DD hh:mm[:ss[.ffffff]]` (also with `T` between date and time,
//! one-digit parts and `/` or `.` as the date delimiter), and the compact `YYYYMMDD` /
//! `YYYYMMDDhhmmss[.ffffff]`. Zero dates (`0000-00-00`) are accepted, days are checked against
//! the month (so `2021-02-30` is not a date).

use crate::value::{Date, DateTime, Time};

/// A parsed date or date-time string.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ParsedDateTime {
    /// The value (time 00:00:00 when the string had none).
    pub value: DateTime,
    /// Whether the string had a time part.
    pub has_time: bool,
}

fn is_leap(year: u16) -> bool {
    (year.is_multiple_of(4) && !year.is_multiple_of(100)) || year.is_multiple_of(400)
}

fn valid_date(year: u16, month: u8, day: u8) -> bool {
    if year > 9999 || month > 12 || day > 31 {
        return false;
    }
    if month == 0 || day == 0 {
        // MySQL keeps zero and partial-zero dates.
        return true;
    }
    let max = match month {
        2 if is_leap(year) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    };
    day <= max
}

fn micros_of(frac: &str) -> Option<u32> {
    if frac.is_empty() || !frac.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let mut digits: String = frac.chars().take(6).collect();
    while digits.len() < 6 {
        digits.push('0');
    }
    digits.parse().ok()
}

fn num<T: std::str::FromStr>(s: &str, max_len: usize) -> Option<T> {
    if s.is_empty() || s.len() > max_len || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

/// Parses a date or date-time string; `None` when it is not one.
pub fn parse_datetime(text: &str) -> Option<ParsedDateTime> {
    let t = text.trim();
    if t.bytes().all(|b| b.is_ascii_digit() || b == b'.') && !t.is_empty() {
        return parse_compact(t);
    }
    let (date, time) = match t.find([' ', 'T']) {
        Some(i) => (&t[..i], Some(t[i + 1..].trim_start())),
        None => (t, None),
    };
    let parts: Vec<&str> = date.split(['-', '/', '.']).collect();
    let [y, m, d] = parts.as_slice() else {
        return None;
    };
    let (year, month, day) = (num::<u16>(y, 4)?, num::<u8>(m, 2)?, num::<u8>(d, 2)?);
    if !valid_date(year, month, day) {
        return None;
    }
    let date = Date { year, month, day };
    let Some(time) = time.filter(|t| !t.is_empty()) else {
        return Some(ParsedDateTime {
            value: DateTime {
                date,
                hour: 0,
                minute: 0,
                second: 0,
                micros: 0,
            },
            has_time: false,
        });
    };
    let (hms, frac) = match time.split_once('.') {
        Some((a, b)) => (a, Some(b)),
        None => (time, None),
    };
    let parts: Vec<&str> = hms.split(':').collect();
    let (hour, minute, second) = match parts.as_slice() {
        [h, m] => (num::<u8>(h, 2)?, num::<u8>(m, 2)?, 0),
        [h, m, s] => (num::<u8>(h, 2)?, num::<u8>(m, 2)?, num::<u8>(s, 2)?),
        _ => return None,
    };
    if hour > 23 || minute > 59 || second > 59 {
        return None;
    }
    let micros = match frac {
        Some(f) => micros_of(f)?,
        None => 0,
    };
    Some(ParsedDateTime {
        value: DateTime {
            date,
            hour,
            minute,
            second,
            micros,
        },
        has_time: true,
    })
}

fn parse_compact(t: &str) -> Option<ParsedDateTime> {
    let (digits, frac) = match t.split_once('.') {
        Some((a, b)) => (a, Some(b)),
        None => (t, None),
    };
    let at = |from: usize, len: usize| -> Option<u8> { digits.get(from..from + len)?.parse().ok() };
    let year: u16 = digits.get(0..4)?.parse().ok()?;
    let (month, day) = (at(4, 2)?, at(6, 2)?);
    if !valid_date(year, month, day) {
        return None;
    }
    let date = Date { year, month, day };
    match digits.len() {
        8 if frac.is_none() => Some(ParsedDateTime {
            value: DateTime {
                date,
                hour: 0,
                minute: 0,
                second: 0,
                micros: 0,
            },
            has_time: false,
        }),
        14 => {
            let (hour, minute, second) = (at(8, 2)?, at(10, 2)?, at(12, 2)?);
            if hour > 23 || minute > 59 || second > 59 {
                return None;
            }
            let micros = match frac {
                Some(f) => micros_of(f)?,
                None => 0,
            };
            Some(ParsedDateTime {
                value: DateTime {
                    date,
                    hour,
                    minute,
                    second,
                    micros,
                },
                has_time: true,
            })
        }
        _ => None,
    }
}

/// Parses a TIME string: `[-][D ]hh:mm[:ss[.ffffff]]`, `hh:mm` or compact `[-]hhmmss`.
pub fn parse_time(text: &str) -> Option<Time> {
    let t = text.trim();
    let (negative, t) = match t.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, t),
    };
    let (days, t) = match t.split_once(' ') {
        Some((d, rest)) => (num::<u16>(d, 2)?, rest),
        None => (0, t),
    };
    let (hms, frac) = match t.split_once('.') {
        Some((a, b)) => (a, Some(b)),
        None => (t, None),
    };
    let (hours, minutes, seconds) = if hms.contains(':') {
        let parts: Vec<&str> = hms.split(':').collect();
        match parts.as_slice() {
            [h, m] => (num::<u16>(h, 3)?, num::<u8>(m, 2)?, 0),
            [h, m, s] => (num::<u16>(h, 3)?, num::<u8>(m, 2)?, num::<u8>(s, 2)?),
            _ => return None,
        }
    } else {
        let n: u32 = num(hms, 7)?;
        (
            (n / 10_000) as u16,
            ((n / 100) % 100) as u8,
            (n % 100) as u8,
        )
    };
    let hours = hours + days * 24;
    if hours > 838 || minutes > 59 || seconds > 59 {
        return None;
    }
    let micros = match frac {
        Some(f) => micros_of(f)?,
        None => 0,
    };
    Some(Time {
        negative: negative && (hours, minutes, seconds, micros) != (0, 0, 0, 0),
        hours,
        minutes,
        seconds,
        micros,
    })
}

/// A DATE as the number MySQL uses in numeric context (`YYYYMMDD`).
pub fn date_number(d: &Date) -> i128 {
    i128::from(d.year) * 10_000 + i128::from(d.month) * 100 + i128::from(d.day)
}

/// A DATETIME as `YYYYMMDDhhmmss` and its microseconds.
pub fn datetime_number(dt: &DateTime) -> (i128, u32) {
    (
        date_number(&dt.date) * 1_000_000
            + i128::from(dt.hour) * 10_000
            + i128::from(dt.minute) * 100
            + i128::from(dt.second),
        dt.micros,
    )
}

/// A TIME as signed `hhmmss` and its microseconds.
pub fn time_number(t: &Time) -> (i128, u32) {
    let v = i128::from(t.hours) * 10_000 + i128::from(t.minutes) * 100 + i128::from(t.seconds);
    (if t.negative { -v } else { v }, t.micros)
}

/// Signed microseconds of a TIME, for ordering.
pub fn time_micros(t: &Time) -> i64 {
    let v = ((i64::from(t.hours) * 60 + i64::from(t.minutes)) * 60 + i64::from(t.seconds))
        * 1_000_000
        + i64::from(t.micros);
    if t.negative {
        -v
    } else {
        v
    }
}

/// A DATE at midnight.
pub fn date_to_datetime(d: Date) -> DateTime {
    DateTime {
        date: d,
        hour: 0,
        minute: 0,
        second: 0,
        micros: 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_in_many_spellings() {
        let p = parse_datetime("2020-01-05").unwrap();
        assert!(!p.has_time);
        assert_eq!(p.value.to_string(), "2020-01-05 00:00:00");
        assert_eq!(parse_datetime("2020/1/5").unwrap().value, p.value);
        assert_eq!(parse_datetime("20200105").unwrap().value, p.value);
        let t = parse_datetime("2020-01-05T10:20:30.5").unwrap();
        assert!(t.has_time);
        assert_eq!(t.value.to_string(), "2020-01-05 10:20:30.500000");
        assert_eq!(
            parse_datetime("20200105102030").unwrap().value.to_string(),
            "2020-01-05 10:20:30"
        );
        assert_eq!(
            parse_datetime(" 2020-01-05 10:20 ")
                .unwrap()
                .value
                .to_string(),
            "2020-01-05 10:20:00"
        );
        assert!(parse_datetime("0000-00-00").is_some());
    }

    #[test]
    fn rejects_non_dates() {
        for bad in [
            "2021-02-29",
            "2020-13-01",
            "2020-01-32",
            "hello",
            "2020-01",
            "2020-01-01 24:00:00",
            "2020-01-01 10:00:00.x",
            "202001",
            "",
        ] {
            assert!(parse_datetime(bad).is_none(), "{bad}");
        }
        assert!(parse_datetime("2024-02-29").is_some());
    }

    #[test]
    fn times() {
        let t = parse_time("-1 02:03:04.5").unwrap();
        assert_eq!(t.to_string(), "-26:03:04.500000");
        assert_eq!(parse_time("102030").unwrap().to_string(), "10:20:30");
        assert_eq!(parse_time("838:59:59").unwrap().hours, 838);
        assert!(parse_time("839:00:00").is_none());
        assert!(parse_time("10:61").is_none());
        assert_eq!(time_micros(&parse_time("-00:00:01").unwrap()), -1_000_000);
    }

    #[test]
    fn numeric_forms() {
        let dt = parse_datetime("2020-01-05 10:20:30").unwrap().value;
        assert_eq!(date_number(&dt.date), 20200105);
        assert_eq!(datetime_number(&dt), (20200105102030, 0));
        assert_eq!(time_number(&parse_time("-10:20:30").unwrap()), (-102030, 0));
    }
}
