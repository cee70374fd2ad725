//! Alert thresholds: the guide's "Monitoring and Alerting" (`[advanced.monitoring]`) and the
//! threshold rules shared with data validation alerts.

use super::error::Problems;
use serde::{Deserialize, Serialize};

/// "Trigger alert when [a value] meets or exceeds the threshold for the specified number of
/// consecutive periods." Used for latency (threshold in seconds) and inconsistent-record
/// counts (threshold in rows).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ThresholdAlert {
    /// The value that triggers the alert when met or exceeded (seconds of latency, or number
    /// of inconsistent records, depending on where the rule sits). Must be > 0.
    pub threshold: u64,
    /// Length of one statistical period, in minutes. Must be > 0.
    pub period_minutes: u32,
    /// How many consecutive periods the threshold must be met before alerting. Must be > 0.
    pub periods: u32,
}

impl ThresholdAlert {
    pub(crate) fn validate(&self, prefix: &str, problems: &mut Problems) {
        for (field, value) in [
            ("threshold", self.threshold),
            ("period_minutes", u64::from(self.period_minutes)),
            ("periods", u64::from(self.periods)),
        ] {
            if value == 0 {
                problems.push(format!("{prefix}.{field}"), "must be greater than 0, got 0");
            }
        }
    }
}

/// `[advanced.monitoring]`: the guide's "Monitoring and Alerting" — "notify contacts if the
/// synchronization fails or if latency exceeds the specified threshold". Alerts are raised as
/// task events; `webhook_url` additionally receives them as HTTP POSTs.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MonitoringConfig {
    /// Alert when the task fails. Default `false`.
    pub alert_on_failure: bool,
    /// Alert when synchronization latency (seconds) stays at or above a threshold.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub latency: Option<ThresholdAlert>,
    /// Where to POST alerts (`http://` or `https://`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub webhook_url: Option<String>,
}

impl MonitoringConfig {
    /// Whether any alert is configured.
    pub fn is_enabled(&self) -> bool {
        self.alert_on_failure || self.latency.is_some()
    }

    pub(crate) fn validate(&self, problems: &mut Problems) {
        let prefix = "advanced.monitoring";
        if let Some(latency) = &self.latency {
            latency.validate(&format!("{prefix}.latency"), problems);
        }
        if let Some(url) = &self.webhook_url {
            check_url(&format!("{prefix}.webhook_url"), url, problems);
            if !self.is_enabled() {
                problems.push(
                    format!("{prefix}.webhook_url"),
                    "no alert is enabled; set alert_on_failure or latency",
                );
            }
        }
    }
}

/// An http(s) URL with a host.
pub(crate) fn check_url(key: &str, url: &str, problems: &mut Problems) {
    let rest = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"));
    match rest {
        Some(rest)
            if !rest.is_empty() && !rest.starts_with('/') && !url.contains(char::is_whitespace) => {
        }
        _ => problems.push(key, format!("`{url}` is not an http:// or https:// URL")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys(m: &MonitoringConfig) -> Vec<String> {
        let mut p = Problems::default();
        m.validate(&mut p);
        p.into_vec()
            .into_iter()
            .inspect(|e| assert!(e.to_string().starts_with(&e.key)))
            .map(|e| e.key)
            .collect()
    }

    #[test]
    fn defaults_are_off() {
        let m = MonitoringConfig::default();
        assert!(!m.is_enabled());
        assert!(keys(&m).is_empty());
    }

    #[test]
    fn zero_thresholds_rejected() {
        let m = MonitoringConfig {
            latency: Some(ThresholdAlert {
                threshold: 0,
                period_minutes: 0,
                periods: 0,
            }),
            ..Default::default()
        };
        assert_eq!(
            keys(&m),
            vec![
                "advanced.monitoring.latency.threshold",
                "advanced.monitoring.latency.period_minutes",
                "advanced.monitoring.latency.periods"
            ]
        );
    }

    #[test]
    fn webhook_rules() {
        let m = MonitoringConfig {
            alert_on_failure: true,
            webhook_url: Some("ftp://x".into()),
            ..Default::default()
        };
        assert_eq!(keys(&m), vec!["advanced.monitoring.webhook_url"]);
        let m = MonitoringConfig {
            webhook_url: Some("https://hooks.example.com/dts".into()),
            ..Default::default()
        };
        assert_eq!(keys(&m), vec!["advanced.monitoring.webhook_url"]);
        let m = MonitoringConfig {
            alert_on_failure: true,
            webhook_url: Some("https://hooks.example.com/dts".into()),
            ..Default::default()
        };
        assert!(keys(&m).is_empty());
    }
}
