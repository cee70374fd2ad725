//! Key values as map keys and in order: the same key read from two servers may come back as
//! different integer variants (an INT source column, a BIGINT UNSIGNED destination column), so
//! keys are compared by value, not by variant.

use crate::value::Value;
use std::cmp::Ordering;

/// A text form of a key equal for equal key values whatever the integer variant.
pub fn key_text(key: &[Value]) -> String {
    let mut out = String::new();
    for (i, v) in key.iter().enumerate() {
        if i > 0 {
            out.push('\u{1f}');
        }
        match v {
            Value::Int(n) => out.push_str(&n.to_string()),
            Value::UInt(n) | Value::Bit(n) => out.push_str(&n.to_string()),
            Value::Year(n) => out.push_str(&n.to_string()),
            Value::Text(s) | Value::Enum(s) | Value::Decimal(s) | Value::Json(s) => out.push_str(s),
            Value::Bytes(b) | Value::Geometry(b) => {
                for byte in b.iter() {
                    out.push_str(&format!("{byte:02x}"));
                }
            }
            other => out.push_str(&format!("{other:?}")),
        }
    }
    out
}

fn as_i128(v: &Value) -> Option<i128> {
    match v {
        Value::Int(n) => Some(i128::from(*n)),
        Value::UInt(n) | Value::Bit(n) => Some(i128::from(*n)),
        Value::Year(n) => Some(i128::from(*n)),
        _ => None,
    }
}

/// Orders keys column by column: integers numerically, anything else by its text form.
pub fn cmp_keys(a: &[Value], b: &[Value]) -> Ordering {
    for (x, y) in a.iter().zip(b) {
        let o = match (as_i128(x), as_i128(y)) {
            (Some(x), Some(y)) => x.cmp(&y),
            _ => key_text(std::slice::from_ref(x)).cmp(&key_text(std::slice::from_ref(y))),
        };
        if o != Ordering::Equal {
            return o;
        }
    }
    a.len().cmp(&b.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integer_variants_are_one_key() {
        assert_eq!(key_text(&[Value::Int(5)]), key_text(&[Value::UInt(5)]));
        assert_eq!(
            cmp_keys(&[Value::Int(9)], &[Value::UInt(10)]),
            Ordering::Less
        );
        assert_ne!(
            key_text(&[Value::Text("a".into()), Value::Int(1)]),
            key_text(&[Value::Text("a1".into())])
        );
    }
}
