//! `[advanced]`: the guide's "Advanced Settings" — Online DDL handling, retry windows,
//! throttling, heartbeat, labels, ETL, masking and monitoring.

use super::alerts::MonitoringConfig;
use super::error::Problems;
use super::etl::EtlConfig;
use super::masking::MaskingConfig;
use super::throttle::{FullSyncThrottle, IncrementalThrottle};
use serde::{Deserialize, Serialize};

/// The guide's default regular expression for gh-ost shadow tables.
pub const DEFAULT_GH_OST_SHADOW_REGEX: &str = "^_(.+)_(?:gho|new)$";
/// The guide's default regular expression for gh-ost useless (leftover) tables.
pub const DEFAULT_GH_OST_USELESS_REGEX: &str = "^_(.+)_(?:ghc|del|old)$";
/// Default of `connection_retry_minutes`: the task's ([`crate::task::defaults`]).
pub const DEFAULT_CONNECTION_RETRY_MINUTES: u32 = crate::task::defaults::CONNECTION_RETRY_MINUTES;
/// Default of `other_retry_minutes`: the task's ([`crate::task::defaults`]).
pub const DEFAULT_OTHER_RETRY_MINUTES: u32 = crate::task::defaults::OTHER_RETRY_MINUTES;
/// Allowed range of `connection_retry_minutes` ("10 to 1440 minutes").
pub const CONNECTION_RETRY_RANGE: std::ops::RangeInclusive<u32> = 10..=1440;
/// Allowed range of `other_retry_minutes` ("1 to 1440 minutes").
pub const OTHER_RETRY_RANGE: std::ops::RangeInclusive<u32> = 1..=1440;

/// The guide's "Copy the temporary table of the Online DDL tool that is generated in the source
/// table to the destination database". Tools such as pt-online-schema-change are not
/// supported whatever the mode.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OnlineDdlMode {
    /// "Yes": synchronize the data of the temporary tables Online DDL creates (may cause
    /// latency with large tables).
    Yes,
    /// "No, Adapt to DMS Online DDL": skip temporary table data, synchronize only the original
    /// DDL executed through DMS (locks the destination table while it applies).
    NoDms,
    /// "No, Adapt to gh-ost" (the default here, as the tool-neutral choice): skip the data of
    /// tables matching the shadow and useless table regular expressions and apply the
    /// original DDL (locks the destination table while it applies).
    #[default]
    NoGhOst,
}

/// `[advanced]`. "Keep the default settings unless you have specific requirements."
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AdvancedConfig {
    /// How temporary tables of Online DDL tools (DMS, gh-ost) are handled; default
    /// `no_gh_ost`.
    pub online_ddl: OnlineDdlMode,
    /// With `online_ddl = "no_gh_ost"`: regular expression for gh-ost shadow tables; unset
    /// means `^_(.+)_(?:gho|new)$`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub gh_ost_shadow_regex: Option<String>,
    /// With `online_ddl = "no_gh_ost"`: regular expression for gh-ost useless tables; unset
    /// means `^_(.+)_(?:ghc|del|old)$`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub gh_ost_useless_regex: Option<String>,
    /// The guide's "Retry Time for Failed Connections": how long to keep retrying a lost
    /// source or destination connection before the task fails. 10–1440 minutes, default 720
    /// (more than 30 recommended).
    pub connection_retry_minutes: u32,
    /// The guide's "Retry Time for Other Issues" (DDL or DML execution errors): 1–1440
    /// minutes, default 10, and less than `connection_retry_minutes`.
    pub other_retry_minutes: u32,
    /// The guide's "Enable Throttling for Full Data Synchronization"; default off.
    pub full_sync_throttle: FullSyncThrottle,
    /// The guide's "Enable Throttling for Incremental Data Synchronization"; default off.
    pub incremental_throttle: IncrementalThrottle,
    /// The guide's "Whether to delete SQL operations on heartbeat tables of forward and
    /// reverse tasks", inverted: `true` (the default, the guide's "No") writes heartbeat SQL
    /// to the source so latency stays measurable when the source is idle; `false` (the
    /// guide's "Yes") writes nothing, and an idle task may report latency.
    pub write_heartbeat: bool,
    /// The guide's "Environment Tag": a free label for the task (e.g. `production`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub environment_tag: Option<String>,
    /// The guide's "Scene Label": a free label for the task's scenario.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scene_label: Option<String>,
    /// The guide's "Configure ETL"; default off.
    pub etl: EtlConfig,
    /// The guide's "Sensitive Data Scanning and Masking"; default off.
    pub masking: MaskingConfig,
    /// The guide's "Monitoring and Alerting"; default no alerts.
    pub monitoring: MonitoringConfig,
}

impl Default for AdvancedConfig {
    fn default() -> Self {
        Self {
            online_ddl: OnlineDdlMode::default(),
            gh_ost_shadow_regex: None,
            gh_ost_useless_regex: None,
            connection_retry_minutes: DEFAULT_CONNECTION_RETRY_MINUTES,
            other_retry_minutes: DEFAULT_OTHER_RETRY_MINUTES,
            full_sync_throttle: FullSyncThrottle::default(),
            incremental_throttle: IncrementalThrottle::default(),
            write_heartbeat: crate::task::defaults::WRITE_HEARTBEAT,
            environment_tag: None,
            scene_label: None,
            etl: EtlConfig::default(),
            masking: MaskingConfig::default(),
            monitoring: MonitoringConfig::default(),
        }
    }
}

impl AdvancedConfig {
    /// The gh-ost shadow table regular expression in effect.
    pub fn gh_ost_shadow_regex(&self) -> &str {
        self.gh_ost_shadow_regex
            .as_deref()
            .unwrap_or(DEFAULT_GH_OST_SHADOW_REGEX)
    }

    /// The gh-ost useless table regular expression in effect.
    pub fn gh_ost_useless_regex(&self) -> &str {
        self.gh_ost_useless_regex
            .as_deref()
            .unwrap_or(DEFAULT_GH_OST_USELESS_REGEX)
    }

    /// The connection retry window.
    pub fn connection_retry(&self) -> std::time::Duration {
        std::time::Duration::from_secs(u64::from(self.connection_retry_minutes) * 60)
    }

    /// The retry window for other (non-connection) errors.
    pub fn other_retry(&self) -> std::time::Duration {
        std::time::Duration::from_secs(u64::from(self.other_retry_minutes) * 60)
    }

    pub(crate) fn validate(&self, full_data: bool, problems: &mut Problems) {
        for (key, value) in [
            ("gh_ost_shadow_regex", &self.gh_ost_shadow_regex),
            ("gh_ost_useless_regex", &self.gh_ost_useless_regex),
        ] {
            let Some(value) = value else { continue };
            let key = format!("advanced.{key}");
            if self.online_ddl != OnlineDdlMode::NoGhOst {
                problems.push(key, "only used when advanced.online_ddl is no_gh_ost");
            } else if value.is_empty() {
                problems.push(key, "must not be empty; omit it for the default");
            }
        }
        if !CONNECTION_RETRY_RANGE.contains(&self.connection_retry_minutes) {
            problems.push(
                "advanced.connection_retry_minutes",
                format!(
                    "must be between {} and {} minutes, got {}",
                    CONNECTION_RETRY_RANGE.start(),
                    CONNECTION_RETRY_RANGE.end(),
                    self.connection_retry_minutes
                ),
            );
        }
        if !OTHER_RETRY_RANGE.contains(&self.other_retry_minutes) {
            problems.push(
                "advanced.other_retry_minutes",
                format!(
                    "must be between {} and {} minutes, got {}",
                    OTHER_RETRY_RANGE.start(),
                    OTHER_RETRY_RANGE.end(),
                    self.other_retry_minutes
                ),
            );
        } else if self.other_retry_minutes >= self.connection_retry_minutes {
            problems.push(
                "advanced.other_retry_minutes",
                format!(
                    "must be less than advanced.connection_retry_minutes ({}), got {}",
                    self.connection_retry_minutes, self.other_retry_minutes
                ),
            );
        }
        self.full_sync_throttle.validate(full_data, problems);
        self.incremental_throttle.validate(problems);
        for (key, value) in [
            ("environment_tag", &self.environment_tag),
            ("scene_label", &self.scene_label),
        ] {
            if value.as_ref().is_some_and(|v| v.trim().is_empty()) {
                problems.push(format!("advanced.{key}"), "must not be empty when set");
            }
        }
        self.etl.validate(problems);
        self.masking.validate(problems);
        self.monitoring.validate(problems);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn errors(a: &AdvancedConfig) -> Vec<super::super::ConfigError> {
        let mut p = Problems::default();
        a.validate(true, &mut p);
        p.into_vec()
    }

    fn keys(a: &AdvancedConfig) -> Vec<String> {
        errors(a)
            .into_iter()
            .inspect(|e| assert!(e.to_string().starts_with(&e.key)))
            .map(|e| e.key)
            .collect()
    }

    #[test]
    fn defaults_follow_the_guide() {
        let a = AdvancedConfig::default();
        assert_eq!(a.connection_retry_minutes, 720);
        assert_eq!(a.other_retry_minutes, 10);
        assert_eq!(a.online_ddl, OnlineDdlMode::NoGhOst);
        assert_eq!(a.gh_ost_shadow_regex(), "^_(.+)_(?:gho|new)$");
        assert_eq!(a.gh_ost_useless_regex(), "^_(.+)_(?:ghc|del|old)$");
        assert!(a.write_heartbeat);
        assert_eq!(a.connection_retry().as_secs(), 720 * 60);
        assert_eq!(a.other_retry().as_secs(), 600);
        assert!(keys(&a).is_empty());
    }

    #[test]
    fn connection_retry_range() {
        for bad in [9, 1441] {
            let a = AdvancedConfig {
                connection_retry_minutes: bad,
                other_retry_minutes: 1,
                ..Default::default()
            };
            assert_eq!(keys(&a), vec!["advanced.connection_retry_minutes"]);
        }
        let a = AdvancedConfig {
            connection_retry_minutes: 10,
            other_retry_minutes: 9,
            ..Default::default()
        };
        assert!(keys(&a).is_empty());
    }

    #[test]
    fn other_retry_range() {
        for bad in [0, 1441] {
            let a = AdvancedConfig {
                other_retry_minutes: bad,
                ..Default::default()
            };
            assert_eq!(keys(&a), vec!["advanced.other_retry_minutes"]);
        }
    }

    #[test]
    fn other_retry_must_be_below_connection_retry() {
        let a = AdvancedConfig {
            other_retry_minutes: 720,
            ..Default::default()
        };
        let e = errors(&a);
        assert_eq!(e.len(), 1);
        assert_eq!(
            e[0].to_string(),
            "advanced.other_retry_minutes: must be less than advanced.connection_retry_minutes (720), got 720"
        );
    }

    #[test]
    fn gh_ost_regexes_only_with_no_gh_ost() {
        let a = AdvancedConfig {
            online_ddl: OnlineDdlMode::NoDms,
            gh_ost_shadow_regex: Some("^x$".into()),
            ..Default::default()
        };
        assert_eq!(keys(&a), vec!["advanced.gh_ost_shadow_regex"]);
        let a = AdvancedConfig {
            gh_ost_useless_regex: Some(String::new()),
            ..Default::default()
        };
        assert_eq!(keys(&a), vec!["advanced.gh_ost_useless_regex"]);
        let a = AdvancedConfig {
            gh_ost_shadow_regex: Some("^_(.+)_gho$".into()),
            ..Default::default()
        };
        assert_eq!(a.gh_ost_shadow_regex(), "^_(.+)_gho$");
        assert!(keys(&a).is_empty());
    }

    #[test]
    fn empty_labels_rejected() {
        let a = AdvancedConfig {
            environment_tag: Some(" ".into()),
            scene_label: Some(String::new()),
            ..Default::default()
        };
        assert_eq!(
            keys(&a),
            vec!["advanced.environment_tag", "advanced.scene_label"]
        );
    }
}
