//! Sensitive data scanning (the guide's "Sensitive Data Scanning"): which selected columns
//! likely hold personal data — e-mail addresses, phone numbers, national ID numbers, bank card
//! numbers, IP addresses — judged from the column name and a bounded sample of its values.
//!
//! Values are checked whole and with the checksum where the format has one: a Chinese resident
//! ID's ISO 7064 check character and birth date, a card number's Luhn digit. A column's
//! confidence is the share of its sampled (non-empty) values of the most frequent kind, raised
//! half-way to 1 when the column name also says so. Every finding renders as the one line that
//! masks the column under `[advanced.masking]` (see [`crate::config::MaskingRule`]).

use crate::config::{MaskingMethod, MaskingRule};
use crate::schema::TableId;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::net::{Ipv4Addr, Ipv6Addr};
use std::sync::OnceLock;

/// What kind of personal data a value looks like.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SensitiveKind {
    /// An e-mail address.
    Email,
    /// A phone number: international `+<country><number>`, a Chinese mobile number or a North
    /// American number.
    Phone,
    /// A national ID number: a Chinese resident ID (18 characters, valid birth date and check
    /// character).
    NationalId,
    /// A payment card number: 13–19 digits passing the Luhn check.
    BankCard,
    /// An IPv4 address.
    Ipv4,
    /// An IPv6 address.
    Ipv6,
}

impl SensitiveKind {
    /// Every kind, in report order.
    pub const ALL: [SensitiveKind; 6] = [
        SensitiveKind::Email,
        SensitiveKind::Phone,
        SensitiveKind::NationalId,
        SensitiveKind::BankCard,
        SensitiveKind::Ipv4,
        SensitiveKind::Ipv6,
    ];

    /// Snake-case name, as in reports.
    pub fn name(self) -> &'static str {
        match self {
            SensitiveKind::Email => "email",
            SensitiveKind::Phone => "phone",
            SensitiveKind::NationalId => "national_id",
            SensitiveKind::BankCard => "bank_card",
            SensitiveKind::Ipv4 => "ipv4",
            SensitiveKind::Ipv6 => "ipv6",
        }
    }

    /// Words in a column name that suggest this kind.
    fn name_words(self) -> &'static [&'static str] {
        match self {
            SensitiveKind::Email => &["email", "e_mail", "mail"],
            SensitiveKind::Phone => &["phone", "mobile", "tel", "cell", "msisdn"],
            SensitiveKind::NationalId => &[
                "id_card",
                "idcard",
                "id_no",
                "national_id",
                "ssn",
                "identity",
                "citizen",
            ],
            SensitiveKind::BankCard => &["card", "pan", "bank", "account_no", "acct"],
            SensitiveKind::Ipv4 | SensitiveKind::Ipv6 => &[
                "ip",
                "ip_addr",
                "ipaddr",
                "ip_address",
                "client_addr",
                "remote_addr",
            ],
        }
    }

    /// Whether the column name suggests this kind (whole `_`-separated words for short ones).
    pub fn named_by(self, column: &str) -> bool {
        let lower = column.to_ascii_lowercase();
        let words: Vec<&str> = lower.split(|c: char| !c.is_ascii_alphanumeric()).collect();
        self.name_words().iter().any(|w| {
            if w.contains('_') || w.len() > 4 {
                lower.contains(w)
            } else {
                words.contains(w)
            }
        })
    }

    /// The masking rule this kind gets by default: hashes for e-mail and IP addresses (equal
    /// values stay equal), the last 4 digits for phones, the first 6 and last 4 characters for
    /// ID and card numbers (as receipts show them).
    fn masking(self) -> (MaskingMethod, Option<u32>, Option<u32>) {
        match self {
            SensitiveKind::Email | SensitiveKind::Ipv4 | SensitiveKind::Ipv6 => {
                (MaskingMethod::Hash, None, None)
            }
            SensitiveKind::Phone => (MaskingMethod::Partial, None, Some(4)),
            SensitiveKind::NationalId | SensitiveKind::BankCard => {
                (MaskingMethod::Partial, Some(6), Some(4))
            }
        }
    }
}

impl fmt::Display for SensitiveKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

fn email_re() -> &'static regex::Regex {
    static RE: OnceLock<regex::Regex> = OnceLock::new();
    RE.get_or_init(|| {
        regex::Regex::new(
            r"^[A-Za-z0-9](?:[A-Za-z0-9._%+\-]{0,62}[A-Za-z0-9_%+\-])?@[A-Za-z0-9](?:[A-Za-z0-9\-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9\-]{0,61}[A-Za-z0-9])?)*\.[A-Za-z]{2,24}$",
        )
        .expect("valid e-mail pattern")
    })
}

/// Whether `value` is an e-mail address (no consecutive dots in the local part).
pub fn is_email(value: &str) -> bool {
    email_re().is_match(value) && !value.split('@').next().unwrap_or("").contains("..")
}

/// Whether `value` is a phone number: only digits and `+ ( ) - . space`, and, with separators
/// removed, `+` and 8–15 digits (E.164), a Chinese mobile number (`1[3-9]` and 9 more digits,
/// optionally after `86`), or a North American number (10 digits, or 11 after `1`, whose area
/// code and exchange do not start with 0 or 1).
pub fn is_phone(value: &str) -> bool {
    if !value
        .chars()
        .all(|c| c.is_ascii_digit() || "+()-. ".contains(c))
    {
        return false;
    }
    let plus = value.trim_start().starts_with('+');
    let digits: Vec<u8> = value
        .bytes()
        .filter(u8::is_ascii_digit)
        .map(|b| b - b'0')
        .collect();
    if plus {
        return (8..=15).contains(&digits.len()) && digits[0] != 0;
    }
    let cn = |d: &[u8]| d.len() == 11 && d[0] == 1 && (3..=9).contains(&d[1]);
    if cn(&digits) || (digits.len() == 13 && digits[..2] == [8, 6] && cn(&digits[2..])) {
        return true;
    }
    let nanp = |d: &[u8]| d.len() == 10 && d[0] >= 2 && d[3] >= 2;
    // A bare 10-digit run is as likely an id as a phone: North American numbers need the
    // separators people write them with.
    let separated = value.contains(['-', '(', ' ', '.']);
    separated && (nanp(&digits) || (digits.len() == 11 && digits[0] == 1 && nanp(&digits[1..])))
}

/// Whether `value` is a Chinese resident ID number: 17 digits and a check character (`0-9` or
/// `X`), with a real birth date (1900–2099) at positions 7–14 and the ISO 7064 MOD 11-2 check.
pub fn is_national_id(value: &str) -> bool {
    let b = value.as_bytes();
    if b.len() != 18 || !b[..17].iter().all(u8::is_ascii_digit) {
        return false;
    }
    let d = |i: usize| u32::from(b[i] - b'0');
    let year = d(6) * 1000 + d(7) * 100 + d(8) * 10 + d(9);
    let month = d(10) * 10 + d(11);
    let day = d(12) * 10 + d(13);
    let leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0);
    let days = [
        31,
        if leap { 29 } else { 28 },
        31,
        30,
        31,
        30,
        31,
        31,
        30,
        31,
        30,
        31,
    ];
    if !(1900..=2099).contains(&year)
        || !(1..=12).contains(&month)
        || day == 0
        || day > days[month as usize - 1]
    {
        return false;
    }
    const WEIGHTS: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
    let sum: u32 = (0..17).map(|i| d(i) * WEIGHTS[i]).sum();
    let check = b"10X98765432"[(sum % 11) as usize];
    b[17].to_ascii_uppercase() == check
}

/// Whether the digits pass the Luhn check.
pub fn luhn_valid(digits: &[u8]) -> bool {
    let sum: u32 = digits
        .iter()
        .rev()
        .enumerate()
        .map(|(i, &d)| {
            let d = u32::from(d);
            if i % 2 == 1 {
                let x = d * 2;
                if x > 9 {
                    x - 9
                } else {
                    x
                }
            } else {
                d
            }
        })
        .sum();
    sum.is_multiple_of(10)
}

/// Whether `value` is a payment card number: 13–19 digits (spaces or dashes between groups
/// allowed), not one repeated digit, first digit 2–6 (the card networks' ranges), Luhn-valid.
pub fn is_bank_card(value: &str) -> bool {
    if !value
        .chars()
        .all(|c| c.is_ascii_digit() || c == ' ' || c == '-')
    {
        return false;
    }
    let digits: Vec<u8> = value
        .bytes()
        .filter(u8::is_ascii_digit)
        .map(|b| b - b'0')
        .collect();
    (13..=19).contains(&digits.len())
        && (2..=6).contains(&digits[0])
        && digits.iter().any(|&d| d != digits[0])
        && luhn_valid(&digits)
}

/// The kind `value` looks like, if any (checked most specific first).
pub fn classify(value: &str) -> Option<SensitiveKind> {
    let v = value.trim();
    if v.is_empty() || v.len() > 320 {
        return None;
    }
    if v.contains('@') {
        return is_email(v).then_some(SensitiveKind::Email);
    }
    if v.contains(':') {
        return v.parse::<Ipv6Addr>().is_ok().then_some(SensitiveKind::Ipv6);
    }
    if v.matches('.').count() == 3 && v.parse::<Ipv4Addr>().is_ok() {
        return Some(SensitiveKind::Ipv4);
    }
    if is_national_id(v) {
        return Some(SensitiveKind::NationalId);
    }
    if is_bank_card(v) {
        return Some(SensitiveKind::BankCard);
    }
    is_phone(v).then_some(SensitiveKind::Phone)
}

/// Sampled values of one column.
#[derive(Clone, Debug)]
pub struct ColumnSample {
    /// The source table.
    pub table: TableId,
    /// The column.
    pub column: String,
    /// Values as text (NULLs left out).
    pub values: Vec<String>,
}

/// One column that likely holds personal data.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ScanFinding {
    /// The source table.
    pub table: TableId,
    /// The column.
    pub column: String,
    /// What it holds.
    pub kind: SensitiveKind,
    /// 0–1: share of sampled values of this kind, raised when the name agrees.
    pub confidence: f64,
    /// Sampled non-empty values of this kind.
    pub matched: usize,
    /// Sampled non-empty values.
    pub sampled: usize,
    /// Whether the column name suggests the kind.
    pub name_hint: bool,
}

impl ScanFinding {
    /// The masking rule that protects this column.
    pub fn masking_rule(&self) -> MaskingRule {
        let (method, keep_first, keep_last) = self.kind.masking();
        MaskingRule {
            database: self.table.database.clone(),
            table: self.table.table.clone(),
            column: self.column.clone(),
            method,
            keep_first,
            keep_last,
            value: None,
            hash_key_env: None,
        }
    }

    /// The rule as one line of `rules = [ … ]` under `[advanced.masking]`:
    /// `{ database = "shop", table = "users", column = "email", method = "hash" },`.
    pub fn config_line(&self) -> String {
        let r = self.masking_rule();
        let method = match r.method {
            MaskingMethod::Hash => "hash",
            MaskingMethod::Redact => "redact",
            MaskingMethod::Partial => "partial",
            MaskingMethod::Fixed => "fixed",
        };
        let mut line = format!(
            "{{ database = {}, table = {}, column = {}, method = \"{method}\"",
            toml_string(&r.database),
            toml_string(&r.table),
            toml_string(&r.column)
        );
        if let Some(n) = r.keep_first {
            line.push_str(&format!(", keep_first = {n}"));
        }
        if let Some(n) = r.keep_last {
            line.push_str(&format!(", keep_last = {n}"));
        }
        line.push_str(" },");
        line
    }
}

/// A TOML basic string.
fn toml_string(s: &str) -> String {
    toml::Value::String(s.to_string()).to_string()
}

/// How sure a column must look to be reported.
#[derive(Clone, Copy, Debug)]
pub struct ScanOptions {
    /// Lowest confidence reported (default 0.5).
    pub min_confidence: f64,
}

impl Default for ScanOptions {
    fn default() -> Self {
        Self {
            min_confidence: 0.5,
        }
    }
}

/// The finding for one column's sample, if it is confident enough. A column whose sample is
/// empty is judged by its name alone (confidence 0.5 when the name says so).
pub fn scan_column(sample: &ColumnSample, options: &ScanOptions) -> Option<ScanFinding> {
    let values: Vec<&str> = sample
        .values
        .iter()
        .map(|v| v.trim())
        .filter(|v| !v.is_empty())
        .collect();
    let mut counts = [0usize; SensitiveKind::ALL.len()];
    for v in &values {
        if let Some(k) = classify(v) {
            counts[SensitiveKind::ALL.iter().position(|x| *x == k).unwrap_or(0)] += 1;
        }
    }
    let best = (0..counts.len()).max_by_key(|&i| (counts[i], std::cmp::Reverse(i)))?;
    let (kind, matched) = if counts[best] > 0 {
        (SensitiveKind::ALL[best], counts[best])
    } else {
        // No value matched: only a name-only judgement for an empty sample.
        let kind = SensitiveKind::ALL
            .into_iter()
            .find(|k| k.named_by(&sample.column))?;
        if !values.is_empty() {
            return None;
        }
        (kind, 0)
    };
    let name_hint = kind.named_by(&sample.column)
        || (kind == SensitiveKind::Ipv6 && SensitiveKind::Ipv4.named_by(&sample.column));
    let share = if values.is_empty() {
        0.0
    } else {
        matched as f64 / values.len() as f64
    };
    let confidence = if name_hint {
        share + (1.0 - share) / 2.0
    } else {
        share
    };
    (confidence >= options.min_confidence).then(|| ScanFinding {
        table: sample.table.clone(),
        column: sample.column.clone(),
        kind,
        confidence: (confidence * 100.0).round() / 100.0,
        matched,
        sampled: values.len(),
        name_hint,
    })
}

/// Everything a scan found.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ScanReport {
    /// Findings, by table and column.
    pub findings: Vec<ScanFinding>,
}

impl ScanReport {
    /// The finding for a column, if any.
    pub fn get(&self, database: &str, table: &str, column: &str) -> Option<&ScanFinding> {
        self.findings
            .iter()
            .find(|f| f.table.database == database && f.table.table == table && f.column == column)
    }

    /// A `[advanced.masking]` section masking every finding, to paste into a task file.
    pub fn masking_section(&self) -> String {
        let mut s = String::from("[advanced.masking]\nenabled = true\nrules = [\n");
        for f in &self.findings {
            s.push_str(&format!(
                "  {}  # {}, confidence {:.2}\n",
                f.config_line(),
                f.kind,
                f.confidence
            ));
        }
        s.push_str("]\n");
        s
    }
}

impl fmt::Display for ScanReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for x in &self.findings {
            writeln!(
                f,
                "{}.{}: {} (confidence {:.2}, {}/{} sampled values{})\n    mask with: {}",
                x.table,
                x.column,
                x.kind,
                x.confidence,
                x.matched,
                x.sampled,
                if x.name_hint { ", name agrees" } else { "" },
                x.config_line()
            )?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detectors_accept_real_values_and_reject_look_alikes() {
        assert!(is_email("alice.smith+news@example.co.uk"));
        for v in [
            "alice@",
            "@example.com",
            "a..b@example.com",
            "alice@example",
            "not an email",
        ] {
            assert!(!is_email(v), "{v}");
        }
        for v in [
            "+86 138 0013 8000",
            "13800138000",
            "(415) 555-2671",
            "+44 20 7946 0958",
        ] {
            assert!(is_phone(v), "{v}");
        }
        for v in [
            "12800138000",
            "4155552671",
            "12-34",
            "2026-11-27",
            "555-0100",
        ] {
            assert!(!is_phone(v), "{v}");
        }
        assert!(is_national_id("11010519491231002X"));
        assert!(
            !is_national_id("110105194912310029"),
            "wrong check character"
        );
        assert!(!is_national_id("110105194913310021"), "month 13");
        assert!(is_bank_card("4111 1111 1111 1111"));
        assert!(is_bank_card("5500-0000-0000-0004"));
        assert!(!is_bank_card("4111 1111 1111 1112"), "Luhn fails");
        assert!(!is_bank_card("0000000000000000"));
        assert!(!is_bank_card("1234567812345670"), "starts with 1");
        assert_eq!(classify("192.168.1.20"), Some(SensitiveKind::Ipv4));
        assert_eq!(classify("256.1.1.1"), None);
        assert_eq!(classify("1.2.3"), None);
        assert_eq!(classify("2001:db8::1"), Some(SensitiveKind::Ipv6));
        assert_eq!(classify("12:30:00"), None);
        assert_eq!(classify("v1.2.3.4"), None);
    }

    fn sample(column: &str, values: &[&str]) -> ColumnSample {
        ColumnSample {
            table: TableId::new("shop", "users"),
            column: column.into(),
            values: values.iter().map(|v| v.to_string()).collect(),
        }
    }

    #[test]
    fn confidence_is_the_matching_share_raised_by_the_name() {
        let o = ScanOptions::default();
        let f = scan_column(
            &sample("contact", &["a@x.io", "b@y.org", "n/a", "c@z.com"]),
            &o,
        )
        .unwrap();
        assert_eq!((f.kind, f.matched, f.sampled), (SensitiveKind::Email, 3, 4));
        assert_eq!(f.confidence, 0.75);
        let f = scan_column(&sample("email", &["a@x.io", "none", "none", "none"]), &o).unwrap();
        assert_eq!(f.confidence, 0.63);
        assert!(scan_column(&sample("note", &["a@x.io", "x", "y", "z"]), &o).is_none());
        let f = scan_column(&sample("phone", &[]), &o).unwrap();
        assert_eq!((f.kind, f.confidence), (SensitiveKind::Phone, 0.5));
        assert!(scan_column(&sample("notes", &[]), &o).is_none());
    }

    #[test]
    fn findings_render_as_masking_rules_that_parse() {
        let o = ScanOptions::default();
        let report = ScanReport {
            findings: vec![
                scan_column(&sample("email", &["a@x.io"]), &o).unwrap(),
                scan_column(&sample("card \"no\"", &["4111111111111111"]), &o).unwrap(),
            ],
        };
        let line = report.findings[1].config_line();
        assert_eq!(
            line,
            r#"{ database = "shop", table = "users", column = 'card "no"', method = "partial", keep_first = 6, keep_last = 4 },"#
        );
        #[derive(serde::Deserialize)]
        struct Wrap {
            advanced: Adv,
        }
        #[derive(serde::Deserialize)]
        struct Adv {
            masking: crate::config::MaskingConfig,
        }
        let parsed: Wrap = toml::from_str(&report.masking_section()).unwrap();
        assert_eq!(
            parsed.advanced.masking.rules[0],
            report.findings[0].masking_rule()
        );
        assert_eq!(parsed.advanced.masking.rules[1].column, "card \"no\"");
    }
}
