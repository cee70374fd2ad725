//! `[advanced.full_sync_throttle]` and `[advanced.incremental_throttle]`: the guide's "Enable
//! Throttling for Full Data Synchronization" and "… for Incremental Data Synchronization", which
//! limit the load the task puts on the source and destination.

use super::error::Problems;
use serde::{Deserialize, Serialize};

/// Limits on full data synchronization; each unset limit is off. "During full
/// synchronization, DTS consumes read and write resources from the source and destination
/// databases, which can increase the database load."
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct FullSyncThrottle {
    /// "Queries per second (QPS) to the source database".
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source_qps: Option<u64>,
    /// "RPS of Full Data Migration": rows written per second.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rps: Option<u64>,
    /// "Data migration speed for full migration (MB/s)".
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mbps: Option<u64>,
}

impl FullSyncThrottle {
    /// Whether any limit is set.
    pub fn is_enabled(&self) -> bool {
        self.source_qps.is_some() || self.rps.is_some() || self.mbps.is_some()
    }

    pub(crate) fn validate(&self, full_data: bool, problems: &mut Problems) {
        let prefix = "advanced.full_sync_throttle";
        positive(prefix, "source_qps", self.source_qps, problems);
        positive(prefix, "rps", self.rps, problems);
        positive(prefix, "mbps", self.mbps, problems);
        if self.is_enabled() && !full_data {
            problems.push(
                prefix,
                "full data synchronization throttling is only available when sync_types.full_data is true",
            );
        }
    }
}

/// Limits on incremental synchronization; each unset limit is off.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct IncrementalThrottle {
    /// "RPS of Incremental Data Synchronization": rows written per second.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rps: Option<u64>,
    /// "Data synchronization speed for incremental synchronization (MB/s)".
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mbps: Option<u64>,
}

impl IncrementalThrottle {
    /// Whether any limit is set.
    pub fn is_enabled(&self) -> bool {
        self.rps.is_some() || self.mbps.is_some()
    }

    pub(crate) fn validate(&self, problems: &mut Problems) {
        let prefix = "advanced.incremental_throttle";
        positive(prefix, "rps", self.rps, problems);
        positive(prefix, "mbps", self.mbps, problems);
    }
}

fn positive(prefix: &str, field: &str, value: Option<u64>, problems: &mut Problems) {
    if value == Some(0) {
        problems.push(
            format!("{prefix}.{field}"),
            "must be greater than 0 when set (omit it for no limit), got 0",
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys(f: impl FnOnce(&mut Problems)) -> Vec<String> {
        let mut p = Problems::default();
        f(&mut p);
        p.into_vec()
            .into_iter()
            .inspect(|e| assert!(e.to_string().starts_with(&e.key)))
            .map(|e| e.key)
            .collect()
    }

    #[test]
    fn defaults_are_unthrottled() {
        assert!(!FullSyncThrottle::default().is_enabled());
        assert!(!IncrementalThrottle::default().is_enabled());
    }

    #[test]
    fn zero_limits_rejected() {
        let full = FullSyncThrottle {
            source_qps: Some(0),
            rps: Some(0),
            mbps: Some(0),
        };
        assert_eq!(
            keys(|p| full.validate(true, p)),
            vec![
                "advanced.full_sync_throttle.source_qps",
                "advanced.full_sync_throttle.rps",
                "advanced.full_sync_throttle.mbps"
            ]
        );
        let inc = IncrementalThrottle {
            rps: Some(0),
            mbps: Some(0),
        };
        assert_eq!(
            keys(|p| inc.validate(p)),
            vec![
                "advanced.incremental_throttle.rps",
                "advanced.incremental_throttle.mbps"
            ]
        );
    }

    #[test]
    fn full_throttle_needs_full_sync() {
        let full = FullSyncThrottle {
            rps: Some(1000),
            ..Default::default()
        };
        assert!(keys(|p| full.validate(true, p)).is_empty());
        assert_eq!(
            keys(|p| full.validate(false, p)),
            vec!["advanced.full_sync_throttle"]
        );
    }
}
