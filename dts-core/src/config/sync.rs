//! What is synchronized and in which direction: the guide's "Synchronization Types",
//! "Synchronization Topology" (with its two-way-only options) and "Processing Mode of
//! Conflicting Tables".

use super::error::Problems;
use serde::{Deserialize, Serialize};

/// The guide's "Synchronization Types" (`[sync_types]`). "Incremental Data Synchronization is
/// always selected. By default, also select Schema Synchronization and Full Data
/// Synchronization."
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SyncTypes {
    /// Schema Synchronization: create the selected databases and tables at the destination
    /// before copying. Default `true`.
    pub schema: bool,
    /// Full Data Synchronization: copy the existing rows as the baseline for incremental
    /// synchronization. Default `true`.
    pub full_data: bool,
    /// Incremental Data Synchronization: always on; `false` is rejected.
    pub incremental: bool,
}

impl Default for SyncTypes {
    fn default() -> Self {
        Self {
            schema: true,
            full_data: true,
            incremental: true,
        }
    }
}

impl SyncTypes {
    pub(crate) fn validate(&self, problems: &mut Problems) {
        if !self.incremental {
            problems.push(
                "sync_types.incremental",
                "incremental data synchronization is always selected and cannot be turned off; \
                 remove the key or set it to true",
            );
        }
    }
}

/// The guide's "Synchronization Topology".
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TopologyMode {
    /// One-way synchronization, source to destination (the default).
    #[default]
    OneWay,
    /// Two-way synchronization: this task is the forward half; a reverse task (configured
    /// separately, source and destination swapped) carries changes back. MySQL destinations
    /// only.
    TwoWay,
}

/// Which half of a two-way pair a task is (see [`crate::topology`]).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TwoWayRole {
    /// Source to destination: the task configured first; may synchronize DDL.
    #[default]
    Forward,
    /// Destination back to source: its source is the forward task's destination; it always
    /// filters DDL.
    Reverse,
}

/// The guide's "Global Conflict Resolution Policy" for two-way synchronization.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ConflictPolicyKind {
    /// "TaskFailed": report an error and stop the task (the default here: nothing is lost
    /// silently; choose another policy deliberately).
    #[default]
    TaskFailed,
    /// "Overwrite": the conflicting destination record is overwritten.
    Overwrite,
    /// "Ignore": skip the incoming statement and keep the destination record.
    Ignore,
}

/// `[topology]`: direction of the task and the options that exist only in two-way
/// synchronization. Those options are `Option`s so that setting them under one-way topology
/// can be reported instead of silently ignored.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TopologyConfig {
    /// One-way (default) or two-way.
    pub mode: TopologyMode,
    /// The guide's "Enable Exactly-Once Write", for tables without a primary key or UNIQUE
    /// constraint. Two-way only; default `false`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub exactly_once_write: Option<bool>,
    /// The guide's "Exclude DDL Operations": do not synchronize DDL. Two-way only (the
    /// reverse task always filters DDL); default `false`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub exclude_ddl: Option<bool>,
    /// The guide's "Global Conflict Resolution Policy". Two-way only; default `task_failed`.
    /// "DELETE record does not exist" conflicts are always ignored whatever the policy.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub conflict_policy: Option<ConflictPolicyKind>,
    /// Two-way only: whether this task is the forward (default) or the reverse task.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub role: Option<TwoWayRole>,
    /// Two-way only, required there: the id of the other task of the pair. Changes that task
    /// applied are recognised in this task's source binlog and never sent back (loop
    /// prevention, see [`crate::topology`]).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub partner_task_id: Option<String>,
}

impl TopologyConfig {
    /// Whether exactly-once write is on (only ever true in two-way topology).
    pub fn exactly_once_write(&self) -> bool {
        self.exactly_once_write.unwrap_or(false)
    }

    /// Whether DDL is excluded (only ever true in two-way topology).
    pub fn exclude_ddl(&self) -> bool {
        self.exclude_ddl.unwrap_or(false)
    }

    /// The conflict resolution policy in effect (`task_failed` unless set).
    pub fn conflict_policy(&self) -> ConflictPolicyKind {
        self.conflict_policy.unwrap_or_default()
    }

    /// The role in two-way topology (forward unless set).
    pub fn role(&self) -> TwoWayRole {
        self.role.unwrap_or_default()
    }

    pub(crate) fn validate(&self, problems: &mut Problems) {
        if self.mode == TopologyMode::TwoWay {
            match self.partner_task_id.as_deref() {
                None | Some("") => problems.push(
                    "topology.partner_task_id",
                    "two-way synchronization needs the id of the other task of the pair \
                     (its applied changes are not sent back)",
                ),
                Some(p) if p.chars().count() > 64 => problems.push(
                    "topology.partner_task_id",
                    "must be at most 64 characters (a task id)",
                ),
                Some(_) => {}
            }
            if self.role() == TwoWayRole::Reverse && self.exclude_ddl == Some(false) {
                problems.push(
                    "topology.exclude_ddl",
                    "the reverse task always filters DDL; only the forward task may synchronize \
                     DDL (remove the key or set it to true)",
                );
            }
            return;
        }
        let two_way_only = [
            ("exactly_once_write", self.exactly_once_write.is_some()),
            ("exclude_ddl", self.exclude_ddl.is_some()),
            ("conflict_policy", self.conflict_policy.is_some()),
            ("role", self.role.is_some()),
            ("partner_task_id", self.partner_task_id.is_some()),
        ];
        for (key, set) in two_way_only {
            if set {
                problems.push(
                    format!("topology.{key}"),
                    "only available when topology.mode is two_way; topology.mode is one_way",
                );
            }
        }
    }
}

/// The guide's "Processing Mode of Conflicting Tables": what to do when a selected table
/// already exists at the destination.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ConflictingTablesMode {
    /// "Precheck and Report Errors" (the default): the precheck fails if a table with the same
    /// name exists at the destination.
    #[default]
    PrecheckAndReportErrors,
    /// "Ignore Errors and Proceed": skip that check. During full sync an existing destination
    /// row with the same key is kept; during incremental sync it is overwritten.
    IgnoreErrorsAndProceed,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys(t: &TopologyConfig) -> Vec<String> {
        let mut p = Problems::default();
        t.validate(&mut p);
        p.into_vec().into_iter().map(|e| e.key).collect()
    }

    #[test]
    fn defaults_follow_the_guide() {
        let s = SyncTypes::default();
        assert!(s.schema && s.full_data && s.incremental);
        let t = TopologyConfig::default();
        assert_eq!(t.mode, TopologyMode::OneWay);
        assert!(!t.exactly_once_write() && !t.exclude_ddl());
        assert_eq!(t.conflict_policy(), ConflictPolicyKind::TaskFailed);
        assert_eq!(
            ConflictingTablesMode::default(),
            ConflictingTablesMode::PrecheckAndReportErrors
        );
    }

    #[test]
    fn incremental_cannot_be_off() {
        let mut p = Problems::default();
        SyncTypes {
            incremental: false,
            ..SyncTypes::default()
        }
        .validate(&mut p);
        let e = p.into_vec();
        assert_eq!(e[0].key, "sync_types.incremental");
        assert!(e[0].to_string().starts_with("sync_types.incremental: "));
    }

    #[test]
    fn two_way_options_rejected_in_one_way() {
        for (t, key) in [
            (
                TopologyConfig {
                    exactly_once_write: Some(true),
                    ..TopologyConfig::default()
                },
                "topology.exactly_once_write",
            ),
            (
                TopologyConfig {
                    exclude_ddl: Some(false),
                    ..TopologyConfig::default()
                },
                "topology.exclude_ddl",
            ),
            (
                TopologyConfig {
                    conflict_policy: Some(ConflictPolicyKind::Overwrite),
                    ..TopologyConfig::default()
                },
                "topology.conflict_policy",
            ),
        ] {
            assert_eq!(keys(&t), vec![key.to_owned()]);
            let two_way = TopologyConfig {
                mode: TopologyMode::TwoWay,
                partner_task_id: Some("reverse".into()),
                ..t
            };
            assert!(keys(&two_way).is_empty());
        }
    }
}
