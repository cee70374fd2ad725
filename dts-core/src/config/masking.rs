//! `[advanced.masking]`: the guide's "Sensitive Data Scanning and Masking" (Open / Close),
//! with explicit per-column rules.

use super::error::Problems;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

/// How a masked column's values are rewritten before they reach the destination.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MaskingMethod {
    /// Replace the value with a stable hash (equal inputs stay equal, so joins still work).
    Hash,
    /// Replace the whole value with a fixed mask.
    Redact,
    /// Keep the first `keep_first` and last `keep_last` characters, mask the rest.
    Partial,
    /// Replace every value with the rule's `value` (a number for numeric columns).
    Fixed,
}

/// One masked column.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MaskingRule {
    /// Source database.
    pub database: String,
    /// Source table.
    pub table: String,
    /// Source column.
    pub column: String,
    /// How to mask.
    pub method: MaskingMethod,
    /// With `partial`: leading characters left visible.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub keep_first: Option<u32>,
    /// With `partial`: trailing characters left visible.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub keep_last: Option<u32>,
    /// With `fixed`: the value every row gets.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
    /// With `hash`: the environment variable holding a secret key; the hash becomes an
    /// HMAC-SHA-256 under that key, so values cannot be recovered by hashing guesses. Unset
    /// means a plain SHA-256.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hash_key_env: Option<String>,
}

/// `[advanced.masking]`: masking on or off ("Open" / "Close", default off) and its rules.
/// Masking enabled without rules is the guide's "Open" with nothing chosen yet: the task
/// builder scans the selected source tables for likely personal data
/// ([`crate::build::SourceFactory::scan`]) and refuses the task with the rules that would
/// protect what it found, or runs it when it found nothing.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MaskingConfig {
    /// Whether masking is applied. Default `false`.
    pub enabled: bool,
    /// The masked columns (`[[advanced.masking.rules]]`); required when enabled.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub rules: Vec<MaskingRule>,
}

impl MaskingConfig {
    pub(crate) fn validate(&self, problems: &mut Problems) {
        let prefix = "advanced.masking";
        if !self.enabled && !self.rules.is_empty() {
            problems.push(
                format!("{prefix}.enabled"),
                "masking rules are set but masking is disabled; set enabled = true or remove the rules",
            );
        }
        let mut seen = HashMap::new();
        for (i, rule) in self.rules.iter().enumerate() {
            let rprefix = format!("{prefix}.rules[{i}]");
            for (field, value) in [
                ("database", &rule.database),
                ("table", &rule.table),
                ("column", &rule.column),
            ] {
                if value.trim().is_empty() {
                    problems.push(format!("{rprefix}.{field}"), "must not be empty");
                }
            }
            let id = (&rule.database, &rule.table, &rule.column);
            if let Some(first) = seen.insert(id, i) {
                problems.push(
                    format!("{rprefix}.column"),
                    format!("column is already masked by {prefix}.rules[{first}]"),
                );
            }
            match (rule.method, &rule.value) {
                (MaskingMethod::Fixed, None) => problems.push(
                    format!("{rprefix}.value"),
                    "fixed masking needs the value to write",
                ),
                (MaskingMethod::Fixed, Some(_)) | (_, None) => {}
                (_, Some(_)) => problems.push(
                    format!("{rprefix}.value"),
                    "only used with method = \"fixed\"",
                ),
            }
            match (&rule.hash_key_env, rule.method) {
                (Some(var), MaskingMethod::Hash) if var.trim().is_empty() => {
                    problems.push(format!("{rprefix}.hash_key_env"), "must not be empty")
                }
                (Some(_), m) if m != MaskingMethod::Hash => problems.push(
                    format!("{rprefix}.hash_key_env"),
                    "only used with method = \"hash\"",
                ),
                _ => {}
            }
            let keeps = rule.keep_first.is_some() || rule.keep_last.is_some();
            match rule.method {
                MaskingMethod::Partial if !keeps => problems.push(
                    format!("{rprefix}.keep_first"),
                    "partial masking needs keep_first and/or keep_last",
                ),
                MaskingMethod::Hash | MaskingMethod::Redact | MaskingMethod::Fixed if keeps => {
                    let field = if rule.keep_first.is_some() {
                        "keep_first"
                    } else {
                        "keep_last"
                    };
                    problems.push(
                        format!("{rprefix}.{field}"),
                        "only used with method = \"partial\"",
                    );
                }
                _ => {}
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(method: MaskingMethod) -> MaskingRule {
        MaskingRule {
            database: "shop".into(),
            table: "users".into(),
            column: "email".into(),
            method,
            keep_first: None,
            keep_last: None,
            value: None,
            hash_key_env: None,
        }
    }

    fn keys(m: &MaskingConfig) -> Vec<String> {
        let mut p = Problems::default();
        m.validate(&mut p);
        p.into_vec()
            .into_iter()
            .inspect(|e| assert!(e.to_string().starts_with(&e.key)))
            .map(|e| e.key)
            .collect()
    }

    #[test]
    fn default_is_off_and_valid() {
        assert!(!MaskingConfig::default().enabled);
        assert!(keys(&MaskingConfig::default()).is_empty());
    }

    #[test]
    fn rules_need_enabled_and_enabled_alone_is_valid() {
        // Enabled without rules: the builder scans the source (see `build`).
        let m = MaskingConfig {
            enabled: true,
            rules: vec![],
        };
        assert!(keys(&m).is_empty());
        let m = MaskingConfig {
            enabled: false,
            rules: vec![rule(MaskingMethod::Hash)],
        };
        assert_eq!(keys(&m), vec!["advanced.masking.enabled"]);
    }

    #[test]
    fn rule_checks() {
        let mut partial = rule(MaskingMethod::Partial);
        partial.column = "phone".into();
        let mut keep_on_hash = rule(MaskingMethod::Hash);
        keep_on_hash.column = "ssn".into();
        keep_on_hash.keep_last = Some(4);
        let mut empty = rule(MaskingMethod::Redact);
        empty.table = String::new();
        let m = MaskingConfig {
            enabled: true,
            rules: vec![
                rule(MaskingMethod::Hash),
                rule(MaskingMethod::Redact),
                partial,
                keep_on_hash,
                empty,
            ],
        };
        assert_eq!(
            keys(&m),
            vec![
                "advanced.masking.rules[1].column",
                "advanced.masking.rules[2].keep_first",
                "advanced.masking.rules[3].keep_last",
                "advanced.masking.rules[4].table",
            ]
        );
    }

    #[test]
    fn fixed_value_and_hash_key_belong_to_their_methods() {
        let mut fixed = rule(MaskingMethod::Fixed);
        fixed.value = Some("n/a".into());
        let mut no_value = rule(MaskingMethod::Fixed);
        no_value.column = "b".into();
        let mut value_on_redact = rule(MaskingMethod::Redact);
        value_on_redact.column = "c".into();
        value_on_redact.value = Some("x".into());
        let mut keyed = rule(MaskingMethod::Hash);
        keyed.column = "d".into();
        keyed.hash_key_env = Some("DTS_MASK_KEY".into());
        let mut key_on_fixed = rule(MaskingMethod::Fixed);
        key_on_fixed.column = "e".into();
        key_on_fixed.value = Some("0".into());
        key_on_fixed.hash_key_env = Some("DTS_MASK_KEY".into());
        let m = MaskingConfig {
            enabled: true,
            rules: vec![fixed, no_value, value_on_redact, keyed, key_on_fixed],
        };
        assert_eq!(
            keys(&m),
            vec![
                "advanced.masking.rules[1].value",
                "advanced.masking.rules[2].value",
                "advanced.masking.rules[4].hash_key_env",
            ]
        );
    }
}
