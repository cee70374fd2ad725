//! Masking of sensitive columns (`[advanced.masking]`), applied to row images before they are
//! written, in the full sync and the incremental write alike.
//!
//! | method | text (CHAR/VARCHAR/TEXT) | binary | integer | DECIMAL |
//! | --- | --- | --- | --- | --- |
//! | `hash` | lower-case hex SHA-256 of the UTF-8 text | SHA-256 digest | first 8 digest bytes folded into the column's range | digest folded into the integer digits the column holds |
//! | `redact` | `******` | `******` | 0 | 0 |
//! | `partial` | first/last N characters kept, the rest `*` | same on bytes | — | — |
//! | `fixed` | the rule's `value` | its bytes | the value as a number | the value as a number |
//!
//! `hash` with `hash_key_env` is an HMAC-SHA-256 under the key read from that environment
//! variable when the filter is built (the key never appears in logs or `Debug` output).
//!
//! Results are cut to the column's declared length (CHAR/VARCHAR/BINARY/VARBINARY), so the
//! destination accepts them; equal inputs still give equal outputs, so joins on a hashed
//! column keep working. A `partial` rule whose kept characters would cover the whole value masks
//! all of it (a short value would otherwise be shown in full). JSON columns take `hash` and
//! `redact` as JSON strings. NULL stays NULL. Any other type or combination cannot be masked:
//! the precheck ([`super::ConfigFilter::check_tables`]) reports it, and should such a row still
//! arrive, the value is replaced by NULL rather than written unmasked.

use crate::config::{ConfigError, MaskingConfig, MaskingMethod};
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
    /// `fixed`: the value written.
    pub fixed: Option<String>,
    /// `hash`: the HMAC key, if any.
    pub hash_key: Option<HashKey>,
}

/// A secret HMAC key for `hash` masking; `Debug` never shows it.
#[derive(Clone)]
pub struct HashKey(Vec<u8>);

impl std::fmt::Debug for HashKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("HashKey(<redacted>)")
    }
}

/// HMAC-SHA-256 (RFC 2104) of `message` under `key`.
fn hmac_sha256(key: &[u8], message: &[u8]) -> [u8; 32] {
    const BLOCK: usize = 64;
    let mut k = [0u8; BLOCK];
    if key.len() > BLOCK {
        k[..32].copy_from_slice(&Sha256::digest(key));
    } else {
        k[..key.len()].copy_from_slice(key);
    }
    let pad = |byte: u8| k.iter().map(|b| b ^ byte).collect::<Vec<u8>>();
    let inner = Sha256::new()
        .chain_update(pad(0x36))
        .chain_update(message)
        .finalize();
    Sha256::new()
        .chain_update(pad(0x5c))
        .chain_update(inner)
        .finalize()
        .into()
}

/// Masking rules by source database and table.
#[derive(Clone, Debug, Default)]
pub struct Masking {
    by_table: HashMap<String, HashMap<String, Vec<MaskRule>>>,
}

impl Masking {
    /// The rules of `[advanced.masking]` (none when it is disabled). Fails when a rule's
    /// `hash_key_env` names an unset or empty variable.
    pub fn new(config: &MaskingConfig) -> Result<Masking, ConfigError> {
        let mut by_table: HashMap<String, HashMap<String, Vec<MaskRule>>> = HashMap::new();
        if config.enabled {
            for (i, r) in config.rules.iter().enumerate() {
                let hash_key = match &r.hash_key_env {
                    None => None,
                    Some(var) => match std::env::var(var) {
                        Ok(key) if !key.is_empty() => Some(HashKey(key.into_bytes())),
                        _ => {
                            return Err(ConfigError::invalid(
                                format!("advanced.masking.rules[{i}].hash_key_env"),
                                format!("environment variable `{var}` is not set or empty"),
                            ))
                        }
                    },
                };
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
                        fixed: r.value.clone(),
                        hash_key,
                    });
            }
        }
        Ok(Masking { by_table })
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

fn digest(value: &Value, key: Option<&HashKey>) -> Option<[u8; 32]> {
    let bytes: Vec<u8> = match value {
        Value::Text(s) | Value::Json(s) | Value::Decimal(s) => s.as_bytes().to_vec(),
        Value::Bytes(b) => b.to_vec(),
        Value::Int(i) => i.to_string().into_bytes(),
        Value::UInt(u) => u.to_string().into_bytes(),
        _ => return None,
    };
    Some(match key {
        Some(k) => hmac_sha256(&k.0, &bytes),
        None => Sha256::digest(&bytes).into(),
    })
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
        MaskingMethod::Hash | MaskingMethod::Redact | MaskingMethod::Fixed => {
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
        (MaskingMethod::Hash, Value::Text(_)) => Value::Text(cut_chars(
            hex(&digest(value, rule.hash_key.as_ref()).ok_or_else(mismatch)?),
            limit,
        )),
        (MaskingMethod::Hash, Value::Json(_)) => Value::Json(format!(
            "\"{}\"",
            hex(&digest(value, rule.hash_key.as_ref()).ok_or_else(mismatch)?)
        )),
        (MaskingMethod::Hash, Value::Bytes(_)) => Value::Bytes(Bytes::from(cut_bytes(
            digest(value, rule.hash_key.as_ref())
                .ok_or_else(mismatch)?
                .to_vec(),
            limit,
        ))),
        (MaskingMethod::Hash, Value::Int(_) | Value::UInt(_)) => {
            let d = digest(value, rule.hash_key.as_ref()).ok_or_else(mismatch)?;
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
            let d = digest(value, rule.hash_key.as_ref()).ok_or_else(mismatch)?;
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
        (MaskingMethod::Fixed, _) => {
            let fixed = rule.fixed.as_deref().unwrap_or_default();
            match value {
                Value::Text(_) => Value::Text(cut_chars(fixed.to_owned(), limit)),
                Value::Bytes(_) => {
                    Value::Bytes(Bytes::from(cut_bytes(fixed.as_bytes().to_vec(), limit)))
                }
                Value::Json(_) => Value::Json(json_string(fixed)),
                Value::Int(_) | Value::UInt(_) | Value::Decimal(_) => fixed_number(column, fixed)?,
                _ => return Err(mismatch()),
            }
        }
        _ => return Err(mismatch()),
    })
}

/// `text` as a JSON string literal.
fn json_string(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// The `fixed` value for a numeric column, or why it does not fit the column.
pub fn fixed_number(column: &Column, fixed: &str) -> Result<Value, String> {
    let bad = |why: &str| {
        format!(
            "fixed value `{fixed}` cannot be written to column `{}` ({}): {why}",
            column.name, column.type_text
        )
    };
    match &column.column_type {
        ColumnType::Integer { bytes, unsigned } => {
            let v: i128 = fixed.trim().parse().map_err(|_| bad("not an integer"))?;
            let bits = u32::from((*bytes).clamp(1, 8)) * 8;
            let (lo, hi) = if *unsigned {
                (0i128, (1i128 << bits) - 1)
            } else {
                (-(1i128 << (bits - 1)), (1i128 << (bits - 1)) - 1)
            };
            if v < lo || v > hi {
                return Err(bad("out of the column's range"));
            }
            Ok(if *unsigned {
                Value::UInt(v as u64)
            } else {
                Value::Int(v as i64)
            })
        }
        ColumnType::Decimal { .. } => {
            let t = fixed.trim();
            let digits = t.strip_prefix('-').unwrap_or(t);
            let (int, frac) = digits.split_once('.').unwrap_or((digits, ""));
            let ok = !int.is_empty()
                && int.bytes().all(|b| b.is_ascii_digit())
                && frac.bytes().all(|b| b.is_ascii_digit());
            if !ok {
                return Err(bad("not a decimal number"));
            }
            Ok(Value::Decimal(t.to_owned()))
        }
        _ => Err(bad("not a numeric column")),
    }
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
            fixed: None,
            hash_key: None,
        }
    }

    #[test]
    fn fixed_values_and_keyed_hashes() {
        let vc = Column::new("c", ColumnType::VarChar { length: 4 }, "varchar(4)");
        let tiny = Column::new(
            "c",
            ColumnType::Integer {
                bytes: 1,
                unsigned: false,
            },
            "tinyint",
        );
        let mut fixed = rule(MaskingMethod::Fixed, 0, 0);
        fixed.fixed = Some("hidden".into());
        assert_eq!(
            mask(&fixed, &vc, &Value::Text("secret".into())).unwrap(),
            Value::Text("hidd".into())
        );
        assert_eq!(mask(&fixed, &vc, &Value::Null).unwrap(), Value::Null);
        fixed.fixed = Some("-7".into());
        assert_eq!(
            mask(&fixed, &tiny, &Value::Int(99)).unwrap(),
            Value::Int(-7)
        );
        fixed.fixed = Some("300".into());
        assert!(mask(&fixed, &tiny, &Value::Int(99)).is_err());
        assert!(fixed_number(&tiny, "x").is_err());
        let json = Column::new("c", ColumnType::Json, "json");
        fixed.fixed = Some("a\"b".into());
        assert_eq!(
            mask(&fixed, &json, &Value::Json("{}".into())).unwrap(),
            Value::Json("\"a\\\"b\"".into())
        );

        // RFC 4231 test case 2.
        assert_eq!(
            hex(&hmac_sha256(b"Jefe", b"what do ya want for nothing?")),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
        let text = Column::new("c", ColumnType::Text { max_bytes: 65535 }, "text");
        let plain = rule(MaskingMethod::Hash, 0, 0);
        let mut keyed = plain.clone();
        keyed.hash_key = Some(HashKey(b"Jefe".to_vec()));
        let v = Value::Text("what do ya want for nothing?".into());
        assert_eq!(
            mask(&keyed, &text, &v).unwrap(),
            Value::Text("5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843".into())
        );
        assert_ne!(
            mask(&plain, &text, &v).unwrap(),
            mask(&keyed, &text, &v).unwrap()
        );
        assert!(!format!("{keyed:?}").contains("Jefe"));
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
            value: None,
            hash_key_env: None,
        }];
        let off = Masking::new(&MaskingConfig {
            enabled: false,
            rules: rules.clone(),
        })
        .unwrap();
        assert!(off.is_empty());
        let on = Masking::new(&MaskingConfig {
            enabled: true,
            rules,
        })
        .unwrap();
        assert_eq!(on.rules("d", "t").len(), 1);
        assert!(on.rules("d", "x").is_empty());
    }
}
