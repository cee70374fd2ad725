//! [`Secret`]: a password that never shows up in logs, debug output, saved configs or errors.

use serde::de::{self, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;

/// What a [`Secret`] looks like wherever it is printed or serialized.
pub const REDACTED: &str = "***";

/// A database password (the guide's "Database Password").
///
/// `Debug`, `Display` and `Serialize` all print [`REDACTED`] (`***`), so a config can be logged
/// or saved without leaking credentials; call [`Secret::expose`] only where the password is
/// actually sent to a server. A config saved with [`TaskConfig::to_toml_string`] therefore holds
/// `***` in place of an inline password: prefer `password_env` or `password_file` for configs
/// that are written back.
///
/// Deserialization accepts only a string, and its error messages never echo the value given.
/// The buffer is overwritten with zeros (best effort) when the secret is dropped.
///
/// [`TaskConfig::to_toml_string`]: super::TaskConfig::to_toml_string
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Wraps a password.
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    /// The password itself, for handing to a driver. Never log the result.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// Whether the password is empty (MySQL accounts may have no password).
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl From<String> for Secret {
    fn from(value: String) -> Self {
        Self(value)
    }
}

impl From<&str> for Secret {
    fn from(value: &str) -> Self {
        Self(value.to_owned())
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(REDACTED)
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(REDACTED)
    }
}

impl Drop for Secret {
    fn drop(&mut self) {
        let mut bytes = std::mem::take(&mut self.0).into_bytes();
        bytes.fill(0);
        std::hint::black_box(&bytes);
    }
}

impl Serialize for Secret {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(REDACTED)
    }
}

impl<'de> Deserialize<'de> for Secret {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_string(SecretVisitor)
    }
}

/// Accepts strings only; every other type is refused without echoing the value (serde's
/// default "invalid type: integer `1234`" would print a numeric password).
struct SecretVisitor;

const NOT_A_STRING: &str = "a password must be a string (value not shown)";

impl<'de> Visitor<'de> for SecretVisitor {
    type Value = Secret;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a password string")
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Secret, E> {
        Ok(Secret::new(v))
    }

    fn visit_string<E: de::Error>(self, v: String) -> Result<Secret, E> {
        Ok(Secret(v))
    }

    fn visit_bool<E: de::Error>(self, _: bool) -> Result<Secret, E> {
        Err(E::custom(NOT_A_STRING))
    }

    fn visit_i64<E: de::Error>(self, _: i64) -> Result<Secret, E> {
        Err(E::custom(NOT_A_STRING))
    }

    fn visit_u64<E: de::Error>(self, _: u64) -> Result<Secret, E> {
        Err(E::custom(NOT_A_STRING))
    }

    fn visit_i128<E: de::Error>(self, _: i128) -> Result<Secret, E> {
        Err(E::custom(NOT_A_STRING))
    }

    fn visit_u128<E: de::Error>(self, _: u128) -> Result<Secret, E> {
        Err(E::custom(NOT_A_STRING))
    }

    fn visit_f64<E: de::Error>(self, _: f64) -> Result<Secret, E> {
        Err(E::custom(NOT_A_STRING))
    }

    fn visit_bytes<E: de::Error>(self, _: &[u8]) -> Result<Secret, E> {
        Err(E::custom(NOT_A_STRING))
    }

    fn visit_map<A: de::MapAccess<'de>>(self, _: A) -> Result<Secret, A::Error> {
        Err(de::Error::custom(NOT_A_STRING))
    }

    fn visit_seq<A: de::SeqAccess<'de>>(self, _: A) -> Result<Secret, A::Error> {
        Err(de::Error::custom(NOT_A_STRING))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, Deserialize, Serialize)]
    struct Holder {
        password: Secret,
    }

    #[test]
    fn never_shown() {
        let s = Secret::new("hunter2");
        assert_eq!(format!("{s}"), "***");
        assert_eq!(format!("{s:?}"), "***");
        assert_eq!(format!("{:?}", Some(&s)), "Some(***)");
        assert_eq!(serde_json::to_string(&s).unwrap(), "\"***\"");
        let toml = toml::to_string(&Holder {
            password: s.clone(),
        })
        .unwrap();
        assert!(!toml.contains("hunter2"), "{toml}");
        assert!(toml.contains("***"));
        assert_eq!(s.expose(), "hunter2");
        assert!(!s.is_empty());
    }

    #[test]
    fn deserializes_strings_only_without_echoing() {
        let h: Holder = toml::from_str("password = \"hunter2\"").unwrap();
        assert_eq!(h.password.expose(), "hunter2");
        let e = toml::from_str::<Holder>("password = 918273").unwrap_err();
        assert!(!e.message().contains("918273"), "{}", e.message());
        assert!(e.message().contains("must be a string"));
    }
}
