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
    /// Without full data sync only: start incremental synchronization at these binlog
    /// coordinates, written `FILE:OFFSET` (`mysql-bin.000003:4`). Unset (and no other start
    /// key) means the source's current position when the task first starts.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub start_position: Option<String>,
    /// Without full data sync only: start after this GTID set, in the source's own form
    /// (`0-1-42` on MariaDB, `uuid:1-100` on MySQL).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub start_gtid: Option<String>,
    /// Without full data sync only: start at the first transaction committed at or after
    /// this UTC time, `YYYY-MM-DD HH:MM:SS` (a `T` between date and time and a trailing `Z`
    /// are accepted).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub start_time: Option<String>,
}

/// Where incremental synchronization starts, from `[sync_types]` (see [`SyncTypes::start`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum StartAt {
    /// The source's current position when the task first starts (the default).
    Current,
    /// Binlog coordinates.
    Position {
        /// Binlog file name.
        file: String,
        /// Byte offset of the first event to read.
        offset: u64,
    },
    /// After a GTID set, in the source's text form.
    Gtid(String),
    /// The first transaction committed at or after this time, in seconds since the Unix
    /// epoch (UTC).
    Time(u64),
}

impl Default for SyncTypes {
    fn default() -> Self {
        Self {
            schema: true,
            full_data: true,
            incremental: true,
            start_position: None,
            start_gtid: None,
            start_time: None,
        }
    }
}

impl SyncTypes {
    /// Where incremental synchronization starts. Errors name the key (as
    /// [`super::TaskConfig::validate`] reports them).
    pub fn start(&self) -> Result<StartAt, super::ConfigError> {
        let mut problems = Problems::default();
        let start = self.check_start(&mut problems);
        match problems.into_vec().into_iter().next() {
            Some(e) => Err(e),
            None => Ok(start),
        }
    }

    fn check_start(&self, problems: &mut Problems) -> StartAt {
        let set: Vec<&str> = [
            ("start_position", self.start_position.is_some()),
            ("start_gtid", self.start_gtid.is_some()),
            ("start_time", self.start_time.is_some()),
        ]
        .into_iter()
        .filter_map(|(k, on)| on.then_some(k))
        .collect();
        if set.is_empty() {
            return StartAt::Current;
        }
        if self.full_data {
            problems.push(
                format!("sync_types.{}", set[0]),
                "only available when sync_types.full_data is false: with full data \
                 synchronization, incremental synchronization starts where the copy began",
            );
            return StartAt::Current;
        }
        if set.len() > 1 {
            problems.push(
                format!("sync_types.{}", set[1]),
                format!(
                    "cannot be combined with sync_types.{}; set one start",
                    set[0]
                ),
            );
            return StartAt::Current;
        }
        if let Some(p) = &self.start_position {
            let parsed = p
                .rsplit_once(':')
                .and_then(|(f, o)| Some((f.trim(), o.trim().parse::<u64>().ok()?)))
                .filter(|(f, o)| !f.is_empty() && *o >= 4);
            return match parsed {
                Some((file, offset)) => StartAt::Position {
                    file: file.to_string(),
                    offset,
                },
                None => {
                    problems.push(
                        "sync_types.start_position",
                        format!("`{p}` is not FILE:OFFSET with an offset of at least 4 (e.g. mysql-bin.000003:4)"),
                    );
                    StartAt::Current
                }
            };
        }
        if let Some(g) = &self.start_gtid {
            if g.trim().is_empty() {
                problems.push("sync_types.start_gtid", "must not be empty");
                return StartAt::Current;
            }
            return StartAt::Gtid(g.split_whitespace().collect());
        }
        let t = self.start_time.as_deref().unwrap_or_default();
        match parse_utc(t) {
            Some(secs) => StartAt::Time(secs),
            None => {
                problems.push(
                    "sync_types.start_time",
                    format!("`{t}` is not a UTC time YYYY-MM-DD HH:MM:SS"),
                );
                StartAt::Current
            }
        }
    }

    pub(crate) fn validate(&self, problems: &mut Problems) {
        self.check_start(problems);
        if !self.incremental {
            problems.push(
                "sync_types.incremental",
                "incremental data synchronization is always selected and cannot be turned off; \
                 remove the key or set it to true",
            );
        }
    }
}

/// Seconds since the Unix epoch of `YYYY-MM-DD HH:MM:SS` (or `…THH:MM:SS`, optional `Z`), UTC.
fn parse_utc(text: &str) -> Option<u64> {
    let t = text.trim().trim_end_matches('Z');
    let (date, time) = t.split_once([' ', 'T'])?;
    let num = |s: &str, len: usize| -> Option<i64> {
        (s.len() == len && s.bytes().all(|b| b.is_ascii_digit()))
            .then(|| s.parse().ok())
            .flatten()
    };
    let mut d = date.split('-');
    let (y, m, day) = (num(d.next()?, 4)?, num(d.next()?, 2)?, num(d.next()?, 2)?);
    let mut c = time.split(':');
    let (h, min, sec) = (num(c.next()?, 2)?, num(c.next()?, 2)?, num(c.next()?, 2)?);
    if d.next().is_some() || c.next().is_some() {
        return None;
    }
    let leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    let month_days = [
        31,
        if leap { 29 } else { 28 },
        31,
        30,
        31,
        30,
        31,
        31,
        30,
        31,
        30,
        31,
    ];
    if !(1970..=9999).contains(&y)
        || !(1..=12).contains(&m)
        || day < 1
        || h > 23
        || min > 59
        || sec > 59
    {
        return None;
    }
    if day > month_days[(m - 1) as usize] {
        return None;
    }
    // Days from 1970-01-01 to the first of the year, then of the month.
    let mut days: i64 = (1970..y)
        .map(|yr| {
            if (yr % 4 == 0 && yr % 100 != 0) || yr % 400 == 0 {
                366
            } else {
                365
            }
        })
        .sum();
    days += month_days[..(m - 1) as usize].iter().sum::<i64>() + day - 1;
    u64::try_from(days * 86_400 + h * 3_600 + min * 60 + sec).ok()
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
    fn start_needs_full_sync_off_and_one_form() {
        let off = SyncTypes {
            full_data: false,
            ..SyncTypes::default()
        };
        assert_eq!(off.start().unwrap(), StartAt::Current);
        let at = |f: fn(&mut SyncTypes)| {
            let mut s = off.clone();
            f(&mut s);
            s.start()
        };
        assert_eq!(
            at(|s| s.start_position = Some("mysql-bin.000003:154".into())).unwrap(),
            StartAt::Position {
                file: "mysql-bin.000003".into(),
                offset: 154
            }
        );
        assert_eq!(
            at(|s| s.start_gtid = Some("0-1-42".into())).unwrap(),
            StartAt::Gtid("0-1-42".into())
        );
        assert_eq!(
            at(|s| s.start_time = Some("2026-11-27T09:00:00Z".into())).unwrap(),
            StartAt::Time(1_795_770_000)
        );
        assert_eq!(
            at(|s| s.start_time = Some("1970-01-02 00:00:01".into())).unwrap(),
            StartAt::Time(86_401)
        );
        for (f, key) in [
            (
                (|s: &mut SyncTypes| s.start_position = Some("bin:2".into())) as fn(&mut SyncTypes),
                "sync_types.start_position",
            ),
            (
                |s| s.start_time = Some("2026-02-30 00:00:00".into()),
                "sync_types.start_time",
            ),
            (
                |s| {
                    s.start_gtid = Some("0-1-1".into());
                    s.start_time = Some("2026-01-01 00:00:00".into());
                },
                "sync_types.start_time",
            ),
            (
                |s| {
                    s.full_data = true;
                    s.start_gtid = Some("0-1-1".into());
                },
                "sync_types.start_gtid",
            ),
        ] {
            let e = at(f).unwrap_err();
            assert_eq!(e.key, key, "{e}");
        }
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
