//! `[advanced.etl]`: the guide's "Configure ETL" — transform rows on their way to the
//! destination.

use super::error::Problems;
use serde::{Deserialize, Serialize};

/// `[advanced.etl]`: whether rows pass through an ETL step, and which. Default off.
///
/// The step is given either as `script` (the ETL script text, run by the ETL engine) or as
/// `name` (a transform the host program registers under that name); exactly one is needed when
/// enabled.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct EtlConfig {
    /// Whether the ETL step runs. Default `false`.
    pub enabled: bool,
    /// The ETL script text.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub script: Option<String>,
    /// Name of a transform registered by the host program.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}

impl EtlConfig {
    pub(crate) fn validate(&self, problems: &mut Problems) {
        let prefix = "advanced.etl";
        let given: Vec<(&str, &String)> = [("script", &self.script), ("name", &self.name)]
            .into_iter()
            .filter_map(|(k, v)| v.as_ref().map(|v| (k, v)))
            .collect();
        if !self.enabled {
            if let Some((key, _)) = given.first() {
                problems.push(
                    format!("{prefix}.{key}"),
                    "only used when advanced.etl.enabled is true",
                );
            }
            return;
        }
        match given.as_slice() {
            [] => problems.push(
                format!("{prefix}.script"),
                "ETL is enabled: set script (the ETL script) or name (a registered transform)",
            ),
            [(key, value)] if value.trim().is_empty() => {
                problems.push(format!("{prefix}.{key}"), "must not be empty");
            }
            [_] => {}
            _ => problems.push(
                format!("{prefix}.name"),
                "cannot be combined with advanced.etl.script; set exactly one",
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys(e: &EtlConfig) -> Vec<String> {
        let mut p = Problems::default();
        e.validate(&mut p);
        p.into_vec()
            .into_iter()
            .inspect(|e| assert!(e.to_string().starts_with(&e.key)))
            .map(|e| e.key)
            .collect()
    }

    #[test]
    fn default_off() {
        assert!(!EtlConfig::default().enabled);
        assert!(keys(&EtlConfig::default()).is_empty());
    }

    #[test]
    fn rules() {
        let on = |script: Option<&str>, name: Option<&str>| EtlConfig {
            enabled: true,
            script: script.map(Into::into),
            name: name.map(Into::into),
        };
        assert!(keys(&on(Some("e_set(`x`, 1)"), None)).is_empty());
        assert!(keys(&on(None, Some("mask_pii"))).is_empty());
        assert_eq!(keys(&on(None, None)), vec!["advanced.etl.script"]);
        assert_eq!(keys(&on(Some(" "), None)), vec!["advanced.etl.script"]);
        assert_eq!(keys(&on(Some("x"), Some("y"))), vec!["advanced.etl.name"]);
        let off = EtlConfig {
            enabled: false,
            script: None,
            name: Some("y".into()),
        };
        assert_eq!(keys(&off), vec!["advanced.etl.name"]);
    }
}
