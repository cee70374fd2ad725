//! Values while a row condition is evaluated, and MySQL's rules for comparing and combining
//! values of different types.
//!
//! Comparison follows the server's type conversion rules
//! (<https://dev.mysql.com/doc/refman/8.0/en/type-conversion.html>):
//! - NULL compared with anything is unknown;
//! - two strings compare under the stronger collation; a binary string makes it bytewise;
//! - integers and decimals compare exactly; a FLOAT/DOUBLE on either side makes it `f64`;
//! - a temporal value compared with a string parses the string as that temporal type (falling
//!   back to comparing text when it is not one); with a number it becomes `YYYYMMDD[hhmmss]`;
//! - a string compared with a number becomes a number (its numeric prefix, `'12abc'` → 12) and
//!   both are compared as `f64`, as the server does.

use super::collation::{Collation, Derivation};
use super::decimal::Decimal;
use super::temporal::{
    date_number, date_to_datetime, datetime_number, parse_datetime, parse_time, time_micros,
    time_number,
};
use crate::schema::{Column, ColumnType};
use crate::value::{Date, DateTime, Time, Value};
use std::cmp::Ordering;

/// A value during evaluation.
#[derive(Clone, Debug)]
pub enum Scalar {
    /// SQL NULL.
    Null,
    /// An exact integer (signed and unsigned columns, YEAR, BIT, integer literals).
    Int(i128),
    /// An exact decimal.
    Dec(Decimal),
    /// An approximate number (FLOAT, DOUBLE, literals with an exponent, strings in numeric
    /// context).
    Real(f64),
    /// A character string and its collation.
    Str(String, Collation),
    /// A binary string.
    Bin(Vec<u8>),
    /// An ENUM or SET value: its text in string context, its index (ENUM, 1-based) or bit
    /// mask (SET) in numeric context, as MySQL reads them.
    Member {
        /// The member text (SET: members joined by `,`).
        text: String,
        /// The column's collation.
        collation: Collation,
        /// Index or bit mask.
        number: i128,
    },
    /// A DATE.
    Date(Date),
    /// A DATETIME (TIMESTAMPs become their UTC date and time, matching the full-sync read,
    /// which runs with `time_zone = '+00:00'`).
    DateTime(DateTime),
    /// A TIME.
    Time(Time),
}

/// Why a value could not be evaluated.
pub type EvalResult<T> = Result<T, String>;

impl Scalar {
    /// The evaluation value of a stored column value.
    pub fn from_value(value: &Value, column: &Column) -> Scalar {
        let text_collation = || match &column.collation {
            Some(name) => Collation::from_name(name, Derivation::Column),
            None => Collation {
                derivation: Derivation::Column,
                ..Collation::LITERAL
            },
        };
        let binary = column.charset.as_deref() == Some("binary")
            || column.collation.as_deref() == Some("binary");
        match value {
            Value::Null => Scalar::Null,
            Value::Int(i) => Scalar::Int(i128::from(*i)),
            Value::UInt(u) => Scalar::Int(i128::from(*u)),
            Value::Bit(b) => Scalar::Int(i128::from(*b)),
            Value::Year(y) => Scalar::Int(i128::from(*y)),
            Value::Float(f) => Scalar::Real(f64::from(*f)),
            Value::Double(d) => Scalar::Real(*d),
            Value::Decimal(s) => match Decimal::parse(s) {
                Some(d) => Scalar::Dec(d),
                None => Scalar::Real(s.parse().unwrap_or(0.0)),
            },
            Value::Text(s) if binary => Scalar::Bin(s.as_bytes().to_vec()),
            Value::Text(s) => Scalar::Str(s.clone(), text_collation()),
            Value::Enum(s) => Scalar::Member {
                text: s.clone(),
                collation: text_collation(),
                number: match &column.column_type {
                    ColumnType::Enum { members } => members
                        .iter()
                        .position(|m| m == s)
                        .map_or(0, |i| i as i128 + 1),
                    _ => 0,
                },
            },
            Value::Set(items) => Scalar::Member {
                text: items.join(","),
                collation: text_collation(),
                number: match &column.column_type {
                    ColumnType::Set { members } => items
                        .iter()
                        .filter_map(|it| members.iter().position(|m| m == it))
                        .fold(0i128, |mask, i| mask | (1i128 << i.min(63))),
                    _ => 0,
                },
            },
            Value::Json(s) => Scalar::Str(
                s.clone(),
                Collation::from_name("utf8mb4_bin", Derivation::Column),
            ),
            Value::Bytes(b) | Value::Geometry(b) => Scalar::Bin(b.to_vec()),
            Value::Date(d) => Scalar::Date(*d),
            Value::DateTime(dt) => Scalar::DateTime(*dt),
            Value::Timestamp(ts) => Scalar::DateTime(ts.to_utc_datetime()),
            Value::Time(t) => Scalar::Time(*t),
        }
    }

    /// True for NULL.
    pub fn is_null(&self) -> bool {
        matches!(self, Scalar::Null)
    }

    /// The value as a character string (numbers and dates in MySQL's text form), with its
    /// collation; binary strings stay bytes.
    pub fn to_text(&self) -> Option<Text> {
        Some(match self {
            Scalar::Null => return None,
            Scalar::Str(s, c)
            | Scalar::Member {
                text: s,
                collation: c,
                ..
            } => Text::Str(s.clone(), *c),
            Scalar::Bin(b) => Text::Bin(b.clone()),
            Scalar::Int(i) => Text::Str(i.to_string(), Collation::LITERAL),
            Scalar::Dec(d) => Text::Str(d.to_string(), Collation::LITERAL),
            Scalar::Real(f) => Text::Str(format_double(*f), Collation::LITERAL),
            Scalar::Date(d) => Text::Str(d.to_string(), Collation::LITERAL),
            Scalar::DateTime(dt) => Text::Str(dt.to_string(), Collation::LITERAL),
            Scalar::Time(t) => Text::Str(t.to_string(), Collation::LITERAL),
        })
    }

    /// The value in numeric context (`+`, `ABS`, comparisons with numbers).
    pub fn to_number(&self) -> Num {
        match self {
            Scalar::Null => Num::Null,
            Scalar::Int(i) => Num::Int(*i),
            Scalar::Dec(d) => Num::Dec(d.clone()),
            Scalar::Real(f) => Num::Real(*f),
            Scalar::Str(s, _) => Num::Real(string_to_f64(s)),
            Scalar::Member { number, .. } => Num::Int(*number),
            Scalar::Bin(b) => Num::Real(string_to_f64(&String::from_utf8_lossy(b))),
            Scalar::Date(d) => Num::Int(date_number(d)),
            Scalar::DateTime(dt) => with_micros(datetime_number(dt)),
            Scalar::Time(t) => with_micros(time_number(t)),
        }
    }

    /// MySQL truth: non-zero numbers are true, NULL is unknown.
    pub fn truth(&self) -> Option<bool> {
        match self.to_number() {
            Num::Null => None,
            Num::Int(i) => Some(i != 0),
            Num::Dec(d) => Some(!d.is_zero()),
            Num::Real(f) => Some(f != 0.0),
        }
    }

    /// A boolean result (1 / 0) or NULL.
    pub fn from_truth(t: Option<bool>) -> Scalar {
        match t {
            None => Scalar::Null,
            Some(b) => Scalar::Int(i128::from(b)),
        }
    }
}

/// A string operand: characters with a collation, or bytes.
#[derive(Clone, Debug)]
pub enum Text {
    /// Characters.
    Str(String, Collation),
    /// Bytes.
    Bin(Vec<u8>),
}

/// A number during arithmetic.
#[derive(Clone, Debug)]
pub enum Num {
    /// NULL.
    Null,
    /// Exact integer.
    Int(i128),
    /// Exact decimal.
    Dec(Decimal),
    /// Approximate.
    Real(f64),
}

impl Num {
    /// Back to a value.
    pub fn into_scalar(self) -> Scalar {
        match self {
            Num::Null => Scalar::Null,
            Num::Int(i) => Scalar::Int(i),
            Num::Dec(d) => Scalar::Dec(d),
            Num::Real(f) => Scalar::Real(f),
        }
    }

    fn to_f64(&self) -> f64 {
        match self {
            Num::Null => 0.0,
            Num::Int(i) => *i as f64,
            Num::Dec(d) => d.to_f64(),
            Num::Real(f) => *f,
        }
    }

    fn to_dec(&self) -> Option<Decimal> {
        match self {
            Num::Int(i) => Some(Decimal::from_i128(*i)),
            Num::Dec(d) => Some(d.clone()),
            _ => None,
        }
    }
}

fn with_micros((n, micros): (i128, u32)) -> Num {
    if micros == 0 {
        Num::Int(n)
    } else {
        let frac = Decimal::parse(&format!("0.{micros:06}")).unwrap_or_else(Decimal::zero);
        let base = Decimal::from_i128(n);
        Num::Dec(if n < 0 {
            base.sub(&frac)
        } else {
            base.add(&frac)
        })
    }
}

/// MySQL's reading of a string in numeric context: the longest numeric prefix after leading
/// whitespace (`' 12.5abc'` → 12.5, `'abc'` → 0).
pub fn string_to_f64(s: &str) -> f64 {
    let t = s.trim_start();
    let b = t.as_bytes();
    let mut end = 0;
    if end < b.len() && (b[end] == b'+' || b[end] == b'-') {
        end += 1;
    }
    let digits_start = end;
    while end < b.len() && b[end].is_ascii_digit() {
        end += 1;
    }
    if end < b.len() && b[end] == b'.' {
        end += 1;
        while end < b.len() && b[end].is_ascii_digit() {
            end += 1;
        }
    }
    if end == digits_start || (end == digits_start + 1 && b[digits_start] == b'.') {
        return 0.0;
    }
    let mut mantissa_end = end;
    if end < b.len() && (b[end] == b'e' || b[end] == b'E') {
        let mut e = end + 1;
        if e < b.len() && (b[e] == b'+' || b[e] == b'-') {
            e += 1;
        }
        let exp_digits = e;
        while e < b.len() && b[e].is_ascii_digit() {
            e += 1;
        }
        if e > exp_digits {
            mantissa_end = e;
        }
    }
    t[..mantissa_end].parse().unwrap_or(0.0)
}

/// A DOUBLE as text, close to the server's `%g`-like output.
pub fn format_double(f: f64) -> String {
    if f.fract() == 0.0 && f.abs() < 1e15 {
        format!("{}", f as i64)
    } else {
        format!("{f}")
    }
}

/// Compares two numbers: exactly when both are exact, as `f64` otherwise.
pub fn compare_numbers(a: &Num, b: &Num) -> Option<Ordering> {
    match (a, b) {
        (Num::Null, _) | (_, Num::Null) => None,
        (Num::Int(x), Num::Int(y)) => Some(x.cmp(y)),
        (Num::Real(_), _) | (_, Num::Real(_)) => a.to_f64().partial_cmp(&b.to_f64()),
        _ => Some(a.to_dec()?.cmp_exact(&b.to_dec()?)),
    }
}

fn compare_text(a: &Text, b: &Text) -> Ordering {
    match (a, b) {
        (Text::Str(x, cx), Text::Str(y, cy)) => Collation::resolve(*cx, *cy).compare(x, y),
        (Text::Bin(x), Text::Bin(y)) => x.cmp(y),
        (Text::Bin(x), Text::Str(y, _)) => x.as_slice().cmp(y.as_bytes()),
        (Text::Str(x, _), Text::Bin(y)) => x.as_bytes().cmp(y.as_slice()),
    }
}

fn is_textual(s: &Scalar) -> bool {
    matches!(s, Scalar::Str(..) | Scalar::Bin(_) | Scalar::Member { .. })
}

fn is_temporal(s: &Scalar) -> bool {
    matches!(s, Scalar::Date(_) | Scalar::DateTime(_) | Scalar::Time(_))
}

fn text_of(s: &Scalar) -> String {
    match s {
        Scalar::Str(s, _) | Scalar::Member { text: s, .. } => s.clone(),
        Scalar::Bin(b) => String::from_utf8_lossy(b).into_owned(),
        _ => String::new(),
    }
}

/// A temporal value compared with a string: the string read as the same kind of value.
fn temporal_vs_text(t: &Scalar, text: &Scalar) -> Option<Ordering> {
    let s = text_of(text);
    match t {
        Scalar::Date(d) => parse_datetime(&s).map(|p| {
            if p.has_time {
                date_to_datetime(*d).cmp(&p.value)
            } else {
                d.cmp(&p.value.date)
            }
        }),
        Scalar::DateTime(dt) => parse_datetime(&s).map(|p| dt.cmp(&p.value)),
        Scalar::Time(tm) => parse_time(&s).map(|p| time_micros(tm).cmp(&time_micros(&p))),
        _ => None,
    }
}

/// Compares two values under MySQL's conversion rules; `None` when either is NULL (unknown).
pub fn compare(a: &Scalar, b: &Scalar) -> Option<Ordering> {
    if a.is_null() || b.is_null() {
        return None;
    }
    if is_textual(a) && is_textual(b) {
        return Some(compare_text(&a.to_text()?, &b.to_text()?));
    }
    match (a, b) {
        (Scalar::Date(x), Scalar::Date(y)) => return Some(x.cmp(y)),
        (Scalar::DateTime(x), Scalar::DateTime(y)) => return Some(x.cmp(y)),
        (Scalar::Date(x), Scalar::DateTime(y)) => return Some(date_to_datetime(*x).cmp(y)),
        (Scalar::DateTime(x), Scalar::Date(y)) => return Some(x.cmp(&date_to_datetime(*y))),
        (Scalar::Time(x), Scalar::Time(y)) => return Some(time_micros(x).cmp(&time_micros(y))),
        _ => {}
    }
    if is_temporal(a) && is_textual(b) {
        if let Some(o) = temporal_vs_text(a, b) {
            return Some(o);
        }
        return Some(compare_text(&a.to_text()?, &b.to_text()?));
    }
    if is_textual(a) && is_temporal(b) {
        return compare(b, a).map(Ordering::reverse);
    }
    if is_temporal(a) && is_temporal(b) {
        // DATE or DATETIME against TIME: compare their text, rare and server-version dependent.
        return Some(compare_text(&a.to_text()?, &b.to_text()?));
    }
    compare_numbers(&a.to_number(), &b.to_number())
}

/// Arithmetic operators.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Arith {
    /// `+`.
    Add,
    /// `-`.
    Sub,
    /// `*`.
    Mul,
    /// `/`.
    Div,
    /// `DIV`.
    IntDiv,
    /// `%`.
    Mod,
}

const INT_MIN: i128 = i64::MIN as i128;
const INT_MAX: i128 = u64::MAX as i128;

fn int_result(v: Option<i128>, op: Arith) -> EvalResult<Num> {
    match v {
        Some(v) if (INT_MIN..=INT_MAX).contains(&v) => Ok(Num::Int(v)),
        _ => Err(format!("BIGINT value is out of range in `{op:?}`")),
    }
}

/// Applies an arithmetic operator with MySQL's result types: integers stay exact integers
/// (out-of-range results are errors, as on the server), integers and decimals give exact
/// decimals, anything approximate gives `f64`; `/` of exact numbers is a decimal with four more
/// digits; division and modulo by zero give NULL.
pub fn arith(op: Arith, a: &Scalar, b: &Scalar) -> EvalResult<Scalar> {
    let (x, y) = (a.to_number(), b.to_number());
    if matches!(x, Num::Null) || matches!(y, Num::Null) {
        return Ok(Scalar::Null);
    }
    let approximate = matches!(x, Num::Real(_)) || matches!(y, Num::Real(_));
    if approximate {
        let (p, q) = (x.to_f64(), y.to_f64());
        let r = match op {
            Arith::Add => p + q,
            Arith::Sub => p - q,
            Arith::Mul => p * q,
            Arith::Div | Arith::Mod | Arith::IntDiv if q == 0.0 => return Ok(Scalar::Null),
            Arith::Div => p / q,
            Arith::Mod => p % q,
            Arith::IntDiv => {
                return int_result(Some((p / q).trunc() as i128), op).map(Num::into_scalar)
            }
        };
        return Ok(if r.is_finite() {
            Scalar::Real(r)
        } else {
            Scalar::Null
        });
    }
    if let (Num::Int(p), Num::Int(q)) = (&x, &y) {
        let (p, q) = (*p, *q);
        let r = match op {
            Arith::Add => int_result(p.checked_add(q), op)?,
            Arith::Sub => int_result(p.checked_sub(q), op)?,
            Arith::Mul => int_result(p.checked_mul(q), op)?,
            Arith::Mod | Arith::IntDiv if q == 0 => Num::Null,
            Arith::Mod => Num::Int(p % q),
            Arith::IntDiv => int_result(p.checked_div(q), op)?,
            Arith::Div => match Decimal::from_i128(p).div(&Decimal::from_i128(q)) {
                Some(d) => Num::Dec(d),
                None => Num::Null,
            },
        };
        return Ok(r.into_scalar());
    }
    let (p, q) = (
        x.to_dec().unwrap_or_else(Decimal::zero),
        y.to_dec().unwrap_or_else(Decimal::zero),
    );
    Ok(match op {
        Arith::Add => Scalar::Dec(p.add(&q)),
        Arith::Sub => Scalar::Dec(p.sub(&q)),
        Arith::Mul => Scalar::Dec(p.mul(&q)),
        Arith::Div => p.div(&q).map_or(Scalar::Null, Scalar::Dec),
        Arith::Mod => p.rem(&q).map_or(Scalar::Null, Scalar::Dec),
        Arith::IntDiv => match p.div_trunc(&q) {
            None => Scalar::Null,
            Some(d) => int_result(d.to_i128(), op)?.into_scalar(),
        },
    })
}

/// Unary minus.
pub fn negate(a: &Scalar) -> EvalResult<Scalar> {
    Ok(match a.to_number() {
        Num::Null => Scalar::Null,
        Num::Int(i) => int_result(Some(-i), Arith::Sub)?.into_scalar(),
        Num::Dec(d) => Scalar::Dec(d.neg()),
        Num::Real(f) => Scalar::Real(-f),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(text: &str) -> Scalar {
        Scalar::Str(text.into(), Collation::LITERAL)
    }

    fn dec(text: &str) -> Scalar {
        Scalar::Dec(Decimal::parse(text).unwrap())
    }

    #[test]
    fn numeric_prefix_of_strings() {
        assert_eq!(string_to_f64(" 12.5abc"), 12.5);
        assert_eq!(string_to_f64("abc"), 0.0);
        assert_eq!(string_to_f64("-3e2x"), -300.0);
        assert_eq!(string_to_f64("1e"), 1.0);
        assert_eq!(string_to_f64("."), 0.0);
    }

    #[test]
    fn int_uint_decimal_compare_exactly() {
        let big = Scalar::Int(i128::from(u64::MAX));
        assert_eq!(
            compare(&big, &Scalar::Int(i128::from(i64::MAX))),
            Some(Ordering::Greater)
        );
        // u64::MAX vs u64::MAX - 1 as decimal: f64 could not distinguish them.
        assert_eq!(
            compare(&big, &dec("18446744073709551614.0")),
            Some(Ordering::Greater)
        );
        assert_eq!(
            compare(&Scalar::Int(3), &dec("3.000")),
            Some(Ordering::Equal)
        );
        assert_eq!(
            compare(&Scalar::Real(0.5), &dec("0.5")),
            Some(Ordering::Equal)
        );
        assert_eq!(compare(&Scalar::Null, &Scalar::Int(1)), None);
    }

    #[test]
    fn strings_against_numbers_compare_as_doubles() {
        assert_eq!(compare(&s("10"), &Scalar::Int(9)), Some(Ordering::Greater));
        assert_eq!(compare(&s("abc"), &Scalar::Int(0)), Some(Ordering::Equal));
        assert_eq!(compare(&s("1.0"), &Scalar::Int(1)), Some(Ordering::Equal));
    }

    #[test]
    fn temporal_against_strings_and_numbers() {
        let d = Scalar::Date(Date {
            year: 2020,
            month: 1,
            day: 5,
        });
        assert_eq!(compare(&d, &s("2020-01-05")), Some(Ordering::Equal));
        assert_eq!(compare(&d, &s("2020-01-05 00:00:01")), Some(Ordering::Less));
        assert_eq!(compare(&s("2020-1-4"), &d), Some(Ordering::Less));
        assert_eq!(compare(&d, &Scalar::Int(20200105)), Some(Ordering::Equal));
        // Not a date: text comparison.
        assert_eq!(compare(&d, &s("z")), Some(Ordering::Less));
        let t = Scalar::Time(parse_time("10:00:00").unwrap());
        assert_eq!(compare(&t, &s("9:59:59")), Some(Ordering::Greater));
    }

    #[test]
    fn string_collations_resolve_towards_the_column() {
        let col = Collation::from_name("utf8mb4_bin", Derivation::Column);
        assert_eq!(
            compare(&Scalar::Str("A".into(), col), &s("a")),
            Some(Ordering::Less)
        );
        let ci = Collation::from_name("utf8mb4_general_ci", Derivation::Column);
        assert_eq!(
            compare(&Scalar::Str("A ".into(), ci), &s("a")),
            Some(Ordering::Equal)
        );
        assert_eq!(
            compare(&Scalar::Bin(b"a".to_vec()), &s("A")),
            Some(Ordering::Greater)
        );
    }

    #[test]
    fn arithmetic_types() {
        let r = arith(Arith::Add, &Scalar::Int(1), &dec("0.25")).unwrap();
        assert!(matches!(r, Scalar::Dec(ref d) if d.to_string() == "1.25"));
        let r = arith(Arith::Div, &Scalar::Int(1), &Scalar::Int(3)).unwrap();
        assert!(matches!(r, Scalar::Dec(ref d) if d.to_string() == "0.3333"));
        assert!(arith(Arith::Div, &Scalar::Int(1), &Scalar::Int(0))
            .unwrap()
            .is_null());
        assert!(arith(Arith::Mod, &Scalar::Real(1.0), &Scalar::Int(0))
            .unwrap()
            .is_null());
        let r = arith(Arith::Mod, &Scalar::Int(-7), &Scalar::Int(3)).unwrap();
        assert!(matches!(r, Scalar::Int(-1)));
        let r = arith(Arith::IntDiv, &Scalar::Int(-7), &Scalar::Int(2)).unwrap();
        assert!(matches!(r, Scalar::Int(-3)));
        let r = arith(Arith::Mul, &s("2"), &Scalar::Int(3)).unwrap();
        assert!(matches!(r, Scalar::Real(f) if f == 6.0));
        assert!(arith(
            Arith::Add,
            &Scalar::Int(i128::from(u64::MAX)),
            &Scalar::Int(1)
        )
        .is_err());
        assert!(arith(Arith::Add, &Scalar::Null, &Scalar::Int(1))
            .unwrap()
            .is_null());
        assert!(matches!(negate(&Scalar::Int(5)).unwrap(), Scalar::Int(-5)));
    }
}
