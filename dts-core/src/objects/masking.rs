//! Masking of sensitive columns (`[advanced.masking]`), applied to row images before they are
//! written, in the full sync and the incremental write alike.
//!
//! | method | text (CHAR/VARCHAR/TEXT) | binary | integer | DECIMAL |
//! | --- | --- | --- | --- | --- |
//! | `hash` | lower-case hex SHA-256 of the UTF-8 text | SHA-256 digest | first 8 digest bytes folded into the column's range | digest folded into the integer digits the column holds |
//! | `redact` | `******` | `******` | 0 | 0 |
//! | `partial` | first/last N characters kept, the rest `*` | same on bytes | — | — |
//!
//! Results are cut to the column's declared length (CHAR/VARCHAR/BINARY/VARBINARY), so the
//! destination accepts them; equal inputs still give equal outputs, so joins on a hashed
//! column keep working. A `partial` rule whose kept characters would cover the whole value masks
//! all of it (a short value would otherwise be shown in full). JSON columns take `hash` and
//! `redact` as JSON strings. NULL stays NULL. Any other type or combination cannot be masked:
//! the precheck ([`super::ConfigFilter::check_tables`]) reports it, and should such a row still
//! arrive, the value is replaced by NULL rather than written unmasked.

use crate::config::{MaskingConfig, MaskingMethod};
use crate::schema::{Column, ColumnType};
use crate::value::Value;
use bytes::Bytes;
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::fmt::Write as _;

/// The fixed text of `redact`.
pub const REDACTED: &str = "******";

/// One masked column.
#[derive(Clone, Debug)]
pub struct MaskRule {
    /// Config key of the rule (`advanced.masking.rules[0]`).
    pub key: String,
    /// Source column name.
    pub column: String,
    /// Method.
    pub method: MaskingMethod,
    /// `partial`: leading characters kept.
    pub keep_first: usize,
    /// `partial`: trailing characters kept.
    pub keep_last: usize,
}

/// Masking rules by source database and table.
#[derive(Clone, Debug, Default)]
pub struct Masking {
    by_table: HashMap<String, HashMap<String, Vec<MaskRule>>>,
}

impl Masking {
    /// The rules of `[advanced.masking]` (none when it is disabled).
    pub fn new(config: &MaskingConfig) -> Masking {
        let mut by_table: HashMap<String, HashMap<String, Vec<MaskRule>>> = HashMap::new();
        if config.enabled {
            for (i, r) in config.rules.iter().enumerate() {
                by_table
                    .entry(r.database.clone())
                    .or_default()
                    .entry(r.table.clone())
                    .or_default()
                    .push(MaskRule {
                        key: format!("advanced.masking.rules[{i}]"),
                        column: r.column.clone(),
                        method: r.method,
                        keep_first: r.keep_first.unwrap_or(0) as usize,
                        keep_last: r.keep_last.unwrap_or(0) as usize,
                    });
            }
        }
        Masking { by_table }
    }

    /// The rules of one source table.
    pub fn rules(&self, database: &str, table: &str) -> &[MaskRule] {
        self.by_table
            .get(database)
            .and_then(|t| t.get(table))
            .map_or(&[], Vec::as_slice)
    }

    /// Whether no column is masked.
    pub fn is_empty(&self) -> bool {
        self.by_table.is_empty()
    }
}

fn digest(value: &Value) -> Option<[u8; 32]> {
    let bytes: Vec<u8> = match value {
        Value::Text(s) | Value::Json(s) | Value::Decimal(s) => s.as_bytes().to_vec(),
        Value::Bytes(b) => b.to_vec(),
        Value::Int(i) => i.to_string().into_bytes(),
        Value::UInt(u) => u.to_string().into_bytes(),
        _ => return None,
    };
    Some(Sha256::digest(&bytes).into())
}

fn hex(bytes: &[u8]) -> String {
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        let _ = write!(s, "{b:02x}");
    }
    s
}

/// The declared length limit of a column, in characters or bytes.
fn length_limit(t: &ColumnType) -> Option<usize> {
    match t {
        ColumnType::Char { length }
        | ColumnType::VarChar { length }
        | ColumnType::Binary { length }
        | ColumnType::VarBinary { length } => Some(*length as usize),
        _ => None,
    }
}

fn cut_chars(s: String, limit: Option<usize>) -> String {
    match limit {
        Some(n) if s.chars().count() > n => s.chars().take(n).collect(),
        _ => s,
    }
}

fn cut_bytes(mut b: Vec<u8>, limit: Option<usize>) -> Vec<u8> {
    if let Some(n) = limit {
        b.truncate(n);
    }
    b
}

fn partial<T: Clone>(items: &[T], first: usize, last: usize, star: T) -> Vec<T> {
    let n = items.len();
    if first + last >= n {
        return vec![star; n];
    }
    let mut out = Vec::with_capacity(n);
    out.extend_from_slice(&items[..first]);
    out.extend(std::iter::repeat_n(star, n - first - last));
    out.extend_from_slice(&items[n - last..]);
    out
}

/// Whether `method` can mask a column of this type.
pub fn supported(method: MaskingMethod, t: &ColumnType) -> bool {
    let textual = matches!(
        t,
        ColumnType::Char { .. } | ColumnType::VarChar { .. } | ColumnType::Text { .. }
    );
    let binary = matches!(
        t,
        ColumnType::Binary { .. } | ColumnType::VarBinary { .. } | ColumnType::Blob { .. }
    );
    let numeric = matches!(t, ColumnType::Integer { .. } | ColumnType::Decimal { .. });
    match method {
        MaskingMethod::Partial => textual || binary,
        MaskingMethod::Hash | MaskingMethod::Redact => {
            textual || binary || numeric || *t == ColumnType::Json
        }
    }
}

fn fold_integer(h: u64, bytes: u8, unsigned: bool) -> (i128, bool) {
    let bits = u32::from(bytes.clamp(1, 8)) * 8;
    let span: u128 = 1u128 << bits;
    let v = u128::from(h) % span;
    if unsigned {
        (v as i128, true)
    } else {
        (v as i128 - (span / 2) as i128, false)
    }
}

/// Masks one value of `column` with `rule`. Errors (with the value to write instead, NULL)
/// when the method cannot mask this type.
pub fn mask(rule: &MaskRule, column: &Column, value: &Value) -> Result<Value, String> {
    if value.is_null() {
        return Ok(Value::Null);
    }
    let t = &column.column_type;
    if !supported(rule.method, t) {
        return Err(format!(
            "{}: method {:?} cannot mask column `{}` of type {}",
            rule.key, rule.method, column.name, column.type_text
        ));
    }
    let limit = length_limit(t);
    let mismatch = || {
        format!(
            "{}: column `{}` ({}) holds an unexpected value {value:?}",
            rule.key, column.name, column.type_text
        )
    };
    Ok(match (rule.method, value) {
        (MaskingMethod::Hash, Value::Text(_)) => {
            Value::Text(cut_chars(hex(&digest(value).ok_or_else(mismatch)?), limit))
        }
        (MaskingMethod::Hash, Value::Json(_)) => {
            Value::Json(format!("\"{}\"", hex(&digest(value).ok_or_else(mismatch)?)))
        }
        (MaskingMethod::Hash, Value::Bytes(_)) => Value::Bytes(Bytes::from(cut_bytes(
            digest(value).ok_or_else(mismatch)?.to_vec(),
            limit,
        ))),
        (MaskingMethod::Hash, Value::Int(_) | Value::UInt(_)) => {
            let d = digest(value).ok_or_else(mismatch)?;
            let h = u64::from_be_bytes(d[..8].try_into().expect("8 bytes"));
            let (bytes, unsigned) = match t {
                ColumnType::Integer { bytes, unsigned } => (*bytes, *unsigned),
                _ => (8, matches!(value, Value::UInt(_))),
            };
            match fold_integer(h, bytes, unsigned) {
                (v, true) => Value::UInt(v as u64),
                (v, false) => Value::Int(v as i64),
            }
        }
        (MaskingMethod::Hash, Value::Decimal(_)) => {
            let d = digest(value).ok_or_else(mismatch)?;
            let h = u64::from_be_bytes(d[..8].try_into().expect("8 bytes"));
            let (int_digits, scale) = match t {
                ColumnType::Decimal { precision, scale } => {
                    (precision.saturating_sub(*scale).min(18), *scale)
                }
                _ => (18, 0),
            };
            let v = h % 10u64.pow(u32::from(int_digits));
            Value::Decimal(if scale > 0 {
                format!("{v}.{}", "0".repeat(scale as usize))
            } else {
                v.to_string()
            })
        }
        (MaskingMethod::Redact, Value::Text(_)) => Value::Text(cut_chars(REDACTED.into(), limit)),
        (MaskingMethod::Redact, Value::Json(_)) => Value::Json(format!("\"{REDACTED}\"")),
        (MaskingMethod::Redact, Value::Bytes(_)) => {
            Value::Bytes(Bytes::from(cut_bytes(REDACTED.as_bytes().to_vec(), limit)))
        }
        (MaskingMethod::Redact, Value::Int(_)) => Value::Int(0),
        (MaskingMethod::Redact, Value::UInt(_)) => Value::UInt(0),
        (MaskingMethod::Redact, Value::Decimal(_)) => Value::Decimal(match t {
            ColumnType::Decimal { scale, .. } if *scale > 0 => {
                format!("0.{}", "0".repeat(*scale as usize))
            }
            _ => "0".into(),
        }),
        (MaskingMethod::Partial, Value::Text(s)) => {
            let chars: Vec<char> = s.chars().collect();
            Value::Text(
                partial(&chars, rule.keep_first, rule.keep_last, '*')
                    .into_iter()
                    .collect(),
            )
        }
        (MaskingMethod::Partial, Value::Bytes(b)) => Value::Bytes(Bytes::from(partial(
            b,
            rule.keep_first,
            rule.keep_last,
            b'*',
        ))),
        _ => return Err(mismatch()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(method: MaskingMethod, first: usize, last: usize) -> MaskRule {
        MaskRule {
            key: "advanced.masking.rules[0]".into(),
            column: "c".into(),
            method,
            keep_first: first,
            keep_last: last,
        }
    }

    fn col(t: ColumnType) -> Column {
        Column::new("c", t, "type")
    }

    #[test]
    fn hash_is_stable_hex_sha256_cut_to_the_column() {
        let text = col(ColumnType::Text { max_bytes: 65535 });
        let r = rule(MaskingMethod::Hash, 0, 0);
        let v = mask(&r, &text, &Value::Text("abc".into())).unwrap();
        assert_eq!(
            v,
            Value::Text("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad".into())
        );
        assert_eq!(mask(&r, &text, &Value::Text("abc".into())).unwrap(), v);
        let short = col(ColumnType::VarChar { length: 8 });
        assert_eq!(
            mask(&r, &short, &Value::Text("abc".into())).unwrap(),
            Value::Text("ba7816bf".into())
        );
        let bin = col(ColumnType::Binary { length: 4 });
        assert_eq!(
            mask(&r, &bin, &Value::Bytes(Bytes::from_static(b"abc"))).unwrap(),
            Value::Bytes(Bytes::from_static(&[0xba, 0x78, 0x16, 0xbf]))
        );
        assert_eq!(mask(&r, &text, &Value::Null).unwrap(), Value::Null);
    }

    #[test]
    fn hash_keeps_numbers_in_their_column_range() {
        let r = rule(MaskingMethod::Hash, 0, 0);
        let tiny = col(ColumnType::Integer {
            bytes: 1,
            unsigned: false,
        });
        for i in 0..50 {
            match mask(&r, &tiny, &Value::Int(i)).unwrap() {
                Value::Int(v) => assert!((-128..=127).contains(&v), "{v}"),
                other => panic!("{other:?}"),
            }
        }
        let ubig = col(ColumnType::Integer {
            bytes: 8,
            unsigned: true,
        });
        assert!(matches!(
            mask(&r, &ubig, &Value::UInt(7)).unwrap(),
            Value::UInt(_)
        ));
        let dec = col(ColumnType::Decimal {
            precision: 5,
            scale: 2,
        });
        match mask(&r, &dec, &Value::Decimal("123.45".into())).unwrap() {
            Value::Decimal(s) => {
                let (int, frac) = s.split_once('.').unwrap();
                assert!(int.len() <= 3 && frac == "00", "{s}");
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn redact() {
        let r = rule(MaskingMethod::Redact, 0, 0);
        assert_eq!(
            mask(
                &r,
                &col(ColumnType::VarChar { length: 3 }),
                &Value::Text("secret".into())
            )
            .unwrap(),
            Value::Text("***".into())
        );
        assert_eq!(
            mask(
                &r,
                &col(ColumnType::Text { max_bytes: 255 }),
                &Value::Text("s".into())
            )
            .unwrap(),
            Value::Text(REDACTED.into())
        );
        assert_eq!(
            mask(
                &r,
                &col(ColumnType::Integer {
                    bytes: 4,
                    unsigned: true
                }),
                &Value::UInt(9)
            )
            .unwrap(),
            Value::UInt(0)
        );
        assert_eq!(
            mask(&r, &col(ColumnType::Json), &Value::Json("{\"a\":1}".into())).unwrap(),
            Value::Json("\"******\"".into())
        );
    }

    #[test]
    fn partial_keeps_the_ends_and_never_reveals_short_values() {
        let r = rule(MaskingMethod::Partial, 3, 4);
        let c = col(ColumnType::VarChar { length: 20 });
        assert_eq!(
            mask(&r, &c, &Value::Text("13812345678".into())).unwrap(),
            Value::Text("138****5678".into())
        );
        assert_eq!(
            mask(&r, &c, &Value::Text("1234567".into())).unwrap(),
            Value::Text("*******".into())
        );
        assert_eq!(
            mask(
                &rule(MaskingMethod::Partial, 0, 2),
                &c,
                &Value::Text("héllo".into())
            )
            .unwrap(),
            Value::Text("***lo".into())
        );
        assert_eq!(
            mask(
                &rule(MaskingMethod::Partial, 1, 0),
                &col(ColumnType::VarBinary { length: 9 }),
                &Value::Bytes(Bytes::from_static(b"abc"))
            )
            .unwrap(),
            Value::Bytes(Bytes::from_static(b"a**"))
        );
    }

    #[test]
    fn unsupported_types_are_errors() {
        let e = mask(
            &rule(MaskingMethod::Partial, 1, 1),
            &col(ColumnType::Integer {
                bytes: 4,
                unsigned: false,
            }),
            &Value::Int(5),
        )
        .unwrap_err();
        assert!(
            e.contains("advanced.masking.rules[0]") && e.contains("`c`"),
            "{e}"
        );
        assert!(!supported(MaskingMethod::Hash, &ColumnType::Date));
        assert!(supported(MaskingMethod::Redact, &ColumnType::Json));
        assert!(!supported(MaskingMethod::Partial, &ColumnType::Json));
    }

    #[test]
    fn rules_only_when_enabled() {
        use crate::config::MaskingRule;
        let rules = vec![MaskingRule {
            database: "d".into(),
            table: "t".into(),
            column: "c".into(),
            method: MaskingMethod::Redact,
            keep_first: None,
            keep_last: None,
        }];
        let off = Masking::new(&MaskingConfig {
            enabled: false,
            rules: rules.clone(),
        });
        assert!(off.is_empty());
        let on = Masking::new(&MaskingConfig {
            enabled: true,
            rules,
        });
        assert_eq!(on.rules("d", "t").len(), 1);
        assert!(on.rules("d", "x").is_empty());
    }
}
