//! Exact decimal numbers for row conditions.
//!
//! MySQL compares and computes DECIMAL values exactly (up to 65 digits), so a condition such as
//! `amount > 12345678901234567890.05` must not go through `f64`, which keeps only about 17
//! significant digits. [`Decimal`] holds an arbitrary-length digit string with a scale and
//! implements the few operations a condition needs: parsing, comparison, `+ - * / %` and
//! integer division, with MySQL's rules for the scale of a quotient (four more digits than the
//! dividend, `div_precision_increment`'s default, rounded half away from zero).

use std::cmp::Ordering;
use std::fmt;

/// Extra digits MySQL gives a quotient (`div_precision_increment`, default 4).
pub const DIV_PRECISION_INCREMENT: u32 = 4;

/// An exact decimal: `(-1)^negative × magnitude × 10^-scale`.
#[derive(Clone, Debug)]
pub struct Decimal {
    negative: bool,
    /// Digits of the unscaled magnitude, least significant first, no high zeros (zero is empty).
    digits: Vec<u8>,
    scale: u32,
}

impl Decimal {
    /// Zero.
    pub fn zero() -> Self {
        Self {
            negative: false,
            digits: Vec::new(),
            scale: 0,
        }
    }

    /// Parses `[+-]digits[.digits]` (no exponent: MySQL reads a literal with an exponent as a
    /// DOUBLE). Leading and trailing whitespace is ignored.
    pub fn parse(text: &str) -> Option<Self> {
        let t = text.trim();
        let (negative, t) = match t.as_bytes().first()? {
            b'-' => (true, &t[1..]),
            b'+' => (false, &t[1..]),
            _ => (false, t),
        };
        let (int, frac) = match t.split_once('.') {
            Some((i, f)) => (i, f),
            None => (t, ""),
        };
        if int.is_empty() && frac.is_empty() {
            return None;
        }
        if !int.bytes().chain(frac.bytes()).all(|b| b.is_ascii_digit()) {
            return None;
        }
        let digits = int
            .bytes()
            .chain(frac.bytes())
            .rev()
            .map(|b| b - b'0')
            .collect();
        Some(Self::normalized(negative, digits, frac.len() as u32))
    }

    /// An exact integer.
    pub fn from_i128(v: i128) -> Self {
        let negative = v < 0;
        let mut m = v.unsigned_abs();
        let mut digits = Vec::new();
        while m > 0 {
            digits.push((m % 10) as u8);
            m /= 10;
        }
        Self::normalized(negative, digits, 0)
    }

    fn normalized(negative: bool, mut digits: Vec<u8>, scale: u32) -> Self {
        while digits.last() == Some(&0) {
            digits.pop();
        }
        Self {
            negative: negative && !digits.is_empty(),
            digits,
            scale,
        }
    }

    /// True for zero (of any scale).
    pub fn is_zero(&self) -> bool {
        self.digits.is_empty()
    }

    /// Digits after the point.
    pub fn scale(&self) -> u32 {
        self.scale
    }

    /// The value as an integer when it has no fractional part and fits.
    pub fn to_i128(&self) -> Option<i128> {
        let frac = self.scale as usize;
        if self.digits.iter().take(frac).any(|d| *d != 0) {
            return None;
        }
        let mut v: i128 = 0;
        for d in self.digits.iter().skip(frac).rev() {
            v = v.checked_mul(10)?.checked_add(i128::from(*d))?;
        }
        Some(if self.negative { -v } else { v })
    }

    /// The nearest `f64` (for comparisons with approximate values, as MySQL does).
    pub fn to_f64(&self) -> f64 {
        self.to_string().parse().unwrap_or(0.0)
    }

    /// The magnitude scaled up to `scale` digits after the point (`scale >= self.scale`).
    fn magnitude_at(&self, scale: u32) -> Vec<u8> {
        if self.digits.is_empty() {
            return Vec::new();
        }
        let mut out = vec![0; (scale - self.scale) as usize];
        out.extend_from_slice(&self.digits);
        out
    }

    /// Exact three-way comparison.
    pub fn cmp_exact(&self, other: &Decimal) -> Ordering {
        match (self.negative, other.negative) {
            (false, true) => return Ordering::Greater,
            (true, false) => return Ordering::Less,
            _ => {}
        }
        let scale = self.scale.max(other.scale);
        let ord = mag_cmp(&self.magnitude_at(scale), &other.magnitude_at(scale));
        if self.negative {
            ord.reverse()
        } else {
            ord
        }
    }

    /// Negation.
    pub fn neg(&self) -> Decimal {
        Self::normalized(!self.negative, self.digits.clone(), self.scale)
    }

    /// Absolute value.
    pub fn abs(&self) -> Decimal {
        Self::normalized(false, self.digits.clone(), self.scale)
    }

    /// Exact sum.
    pub fn add(&self, other: &Decimal) -> Decimal {
        let scale = self.scale.max(other.scale);
        let (a, b) = (self.magnitude_at(scale), other.magnitude_at(scale));
        if self.negative == other.negative {
            return Self::normalized(self.negative, mag_add(&a, &b), scale);
        }
        match mag_cmp(&a, &b) {
            Ordering::Equal => Self::zero_with_scale(scale),
            Ordering::Greater => Self::normalized(self.negative, mag_sub(&a, &b), scale),
            Ordering::Less => Self::normalized(other.negative, mag_sub(&b, &a), scale),
        }
    }

    fn zero_with_scale(scale: u32) -> Decimal {
        Decimal {
            scale,
            ..Decimal::zero()
        }
    }

    /// Exact difference.
    pub fn sub(&self, other: &Decimal) -> Decimal {
        self.add(&other.neg())
    }

    /// Exact product (scale is the sum of the scales, as in MySQL).
    pub fn mul(&self, other: &Decimal) -> Decimal {
        Self::normalized(
            self.negative != other.negative,
            mag_mul(&self.digits, &other.digits),
            self.scale + other.scale,
        )
    }

    /// Quotient with `self.scale + 4` digits after the point, rounded half away from zero;
    /// `None` when dividing by zero (MySQL yields NULL).
    pub fn div(&self, other: &Decimal) -> Option<Decimal> {
        if other.is_zero() {
            return None;
        }
        let target = self.scale + DIV_PRECISION_INCREMENT;
        // self/other = (A / 10^sa) / (B / 10^sb); result R = A * 10^(sb + target - sa) / B.
        let shift = (other.scale + target - self.scale) as usize;
        let mut numerator = vec![0; shift];
        numerator.extend_from_slice(&self.digits);
        let (mut q, r) = mag_divmod(&numerator, &other.digits);
        // Round half away from zero: 2r >= B.
        if mag_cmp(&mag_add(&r, &r), &other.digits) != Ordering::Less {
            q = mag_add(&q, &[1]);
        }
        Some(Self::normalized(self.negative != other.negative, q, target))
    }

    /// Remainder with the sign of the dividend (MySQL's `MOD`); `None` for a zero divisor.
    pub fn rem(&self, other: &Decimal) -> Option<Decimal> {
        if other.is_zero() {
            return None;
        }
        let scale = self.scale.max(other.scale);
        let (_, r) = mag_divmod(&self.magnitude_at(scale), &other.magnitude_at(scale));
        Some(Self::normalized(self.negative, r, scale))
    }

    /// Quotient truncated toward zero (MySQL's `DIV`); `None` for a zero divisor.
    pub fn div_trunc(&self, other: &Decimal) -> Option<Decimal> {
        if other.is_zero() {
            return None;
        }
        let scale = self.scale.max(other.scale);
        let (q, _) = mag_divmod(&self.magnitude_at(scale), &other.magnitude_at(scale));
        Some(Self::normalized(self.negative != other.negative, q, 0))
    }

    /// Rounded to an integer, half away from zero (how MySQL turns a decimal position
    /// argument into an integer).
    pub fn round_to_i128(&self) -> Option<i128> {
        let frac = self.scale as usize;
        let mut int: Vec<u8> = self.digits.iter().skip(frac).copied().collect();
        let first_dropped = if frac == 0 {
            0
        } else {
            self.digits.get(frac - 1).copied().unwrap_or(0)
        };
        if first_dropped >= 5 {
            int = mag_add(&int, &[1]);
        }
        Self::normalized(self.negative, int, 0).to_i128()
    }
}

impl fmt::Display for Decimal {
    /// Plain notation with exactly `scale` digits after the point (`-0.50`, `12`).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let scale = self.scale as usize;
        let mut digits: Vec<u8> = self.digits.clone();
        if digits.len() <= scale {
            digits.resize(scale + 1, 0);
        }
        let mut s = String::with_capacity(digits.len() + 2);
        if self.negative {
            s.push('-');
        }
        for (i, d) in digits.iter().enumerate().rev() {
            s.push(char::from(b'0' + d));
            if i == scale && scale > 0 {
                s.push('.');
            }
        }
        f.write_str(&s)
    }
}

fn trimmed(a: &[u8]) -> &[u8] {
    let mut end = a.len();
    while end > 0 && a[end - 1] == 0 {
        end -= 1;
    }
    &a[..end]
}

fn mag_cmp(a: &[u8], b: &[u8]) -> Ordering {
    let (a, b) = (trimmed(a), trimmed(b));
    a.len()
        .cmp(&b.len())
        .then_with(|| a.iter().rev().cmp(b.iter().rev()))
}

fn mag_add(a: &[u8], b: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(a.len().max(b.len()) + 1);
    let mut carry = 0;
    for i in 0..a.len().max(b.len()) {
        let s = a.get(i).copied().unwrap_or(0) + b.get(i).copied().unwrap_or(0) + carry;
        out.push(s % 10);
        carry = s / 10;
    }
    if carry > 0 {
        out.push(carry);
    }
    out
}

/// `a - b` for `a >= b`.
fn mag_sub(a: &[u8], b: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(a.len());
    let mut borrow = 0i8;
    for (i, da) in a.iter().enumerate() {
        let mut d = *da as i8 - b.get(i).copied().unwrap_or(0) as i8 - borrow;
        borrow = 0;
        if d < 0 {
            d += 10;
            borrow = 1;
        }
        out.push(d as u8);
    }
    while out.last() == Some(&0) {
        out.pop();
    }
    out
}

fn mag_mul(a: &[u8], b: &[u8]) -> Vec<u8> {
    if a.is_empty() || b.is_empty() {
        return Vec::new();
    }
    let mut acc = vec![0u32; a.len() + b.len()];
    for (i, da) in a.iter().enumerate() {
        for (j, db) in b.iter().enumerate() {
            acc[i + j] += u32::from(*da) * u32::from(*db);
        }
    }
    let mut out = Vec::with_capacity(acc.len());
    let mut carry = 0u32;
    for v in acc {
        let s = v + carry;
        out.push((s % 10) as u8);
        carry = s / 10;
    }
    while carry > 0 {
        out.push((carry % 10) as u8);
        carry /= 10;
    }
    while out.last() == Some(&0) {
        out.pop();
    }
    out
}

/// Long division of magnitudes: `(n / d, n % d)`; `d` must be non-zero.
fn mag_divmod(n: &[u8], d: &[u8]) -> (Vec<u8>, Vec<u8>) {
    let d = trimmed(d);
    let mut quotient = vec![0u8; n.len()];
    let mut rem: Vec<u8> = Vec::new();
    for i in (0..n.len()).rev() {
        // rem = rem * 10 + n[i]
        rem.insert(0, n[i]);
        let len = trimmed(&rem).len();
        rem.truncate(len);
        let mut q = 0;
        while mag_cmp(&rem, d) != Ordering::Less {
            rem = mag_sub(&rem, d);
            q += 1;
        }
        quotient[i] = q;
    }
    while quotient.last() == Some(&0) {
        quotient.pop();
    }
    (quotient, rem)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> Decimal {
        Decimal::parse(s).unwrap_or_else(|| panic!("{s}"))
    }

    #[test]
    fn parses_and_prints() {
        assert_eq!(d("12.50").to_string(), "12.50");
        assert_eq!(d("-0.5").to_string(), "-0.5");
        assert_eq!(d(".5").to_string(), "0.5");
        assert_eq!(d("7.").to_string(), "7");
        assert_eq!(d("-0.00").to_string(), "0.00");
        assert_eq!(d("+3").to_string(), "3");
        assert!(Decimal::parse("1e3").is_none());
        assert!(Decimal::parse("-").is_none());
        assert!(Decimal::parse("1.2.3").is_none());
        assert_eq!(Decimal::from_i128(-120).to_string(), "-120");
    }

    #[test]
    fn compares_exactly_beyond_f64() {
        let a = d("12345678901234567890.000000000000000000001");
        let b = d("12345678901234567890");
        assert_eq!(a.cmp_exact(&b), Ordering::Greater);
        // f64 cannot tell them apart.
        assert_eq!(a.to_f64(), b.to_f64());
        assert_eq!(d("1.50").cmp_exact(&d("1.5")), Ordering::Equal);
        assert_eq!(d("-2").cmp_exact(&d("-10")), Ordering::Greater);
        assert_eq!(d("-0").cmp_exact(&d("0.000")), Ordering::Equal);
        assert_eq!(d("0.1").cmp_exact(&d("-0.1")), Ordering::Greater);
    }

    #[test]
    fn arithmetic_is_exact() {
        assert_eq!(d("0.1").add(&d("0.2")).to_string(), "0.3");
        assert_eq!(d("1.05").sub(&d("2")).to_string(), "-0.95");
        assert_eq!(d("-1.5").add(&d("1.5")).to_string(), "0.0");
        assert_eq!(d("1.5").mul(&d("-0.02")).to_string(), "-0.030");
        assert_eq!(
            d("99999999999999999999")
                .mul(&d("99999999999999999999"))
                .to_string(),
            "9999999999999999999800000000000000000001"
        );
    }

    #[test]
    fn division_follows_mysql_scale_and_rounding() {
        // SELECT 1/3 → 0.3333 ; 2/3 → 0.6667 ; 1.00/8 → 0.125000
        assert_eq!(d("1").div(&d("3")).unwrap().to_string(), "0.3333");
        assert_eq!(d("2").div(&d("3")).unwrap().to_string(), "0.6667");
        assert_eq!(d("-2").div(&d("3")).unwrap().to_string(), "-0.6667");
        assert_eq!(d("1.00").div(&d("8")).unwrap().to_string(), "0.125000");
        assert_eq!(d("10").div(&d("0.5")).unwrap().to_string(), "20.0000");
        assert!(d("1").div(&d("0.000")).is_none());
    }

    #[test]
    fn remainder_and_integer_division() {
        assert_eq!(d("7").rem(&d("3")).unwrap().to_string(), "1");
        assert_eq!(d("-7").rem(&d("3")).unwrap().to_string(), "-1");
        assert_eq!(d("7.5").rem(&d("2")).unwrap().to_string(), "1.5");
        assert!(d("7").rem(&d("0")).is_none());
        assert_eq!(d("-7.9").div_trunc(&d("2")).unwrap().to_i128(), Some(-3));
        assert_eq!(d("2.5").round_to_i128(), Some(3));
        assert_eq!(d("-2.5").round_to_i128(), Some(-3));
        assert_eq!(d("2.49").round_to_i128(), Some(2));
        assert_eq!(d("1.5").to_i128(), None);
        assert_eq!(d("15.000").to_i128(), Some(15));
    }
}
