//! Two-way synchronization between two MySQL-family servers: the pieces a forward or reverse
//! task needs on top of a one-way task, and a builder for hosts that set tasks up in code.
//!
//! A two-way pair is two ordinary tasks (see [`dts_core::topology`] for the rules):
//! - each task's **binlog reader** gets a [`LoopGuard`] naming the partner task, so the
//!   transactions the partner applied to this task's source are dropped (no echo);
//! - each task's **sink** gets a [`ConflictPolicy`] (conflicts detected in the destination
//!   transaction, see [`crate::sink::conflict`]) and the delay period after which a backlog
//!   overwrites without detection;
//! - each task's **filter** is wrapped in [`dts_core::topology::TwoWayFilter`]: DDL only in a
//!   forward task that synchronizes DDL; key-less tables only with exactly-once write;
//! - the **reverse task** is incremental only and starts once the forward task runs its
//!   incremental write (the guide's order), so the forward task's full sync is never captured
//!   by it.
//!
//! ```no_run
//! # async fn demo() -> Result<(), dts_core::Error> {
//! use dts_core::config::TwoWayRole;
//! use dts_mysql::two_way::TwoWayTaskOptions;
//! use dts_mysql::MysqlEndpoint;
//!
//! let a = MysqlEndpoint::from_url("a", "mysql://root@127.0.0.1:33061")?;
//! let b = MysqlEndpoint::from_url("b", "mysql://root@127.0.0.1:33063")?;
//! let forward = TwoWayTaskOptions::new("fwd", "rev", TwoWayRole::Forward, ["shop"], "/tmp/fwd.json");
//! let reverse = TwoWayTaskOptions::new("rev", "fwd", TwoWayRole::Reverse, ["shop"], "/tmp/rev.json");
//! let (fwd, _, _) = forward.build(a.clone(), b.clone()).await?;
//! let (rev, _, _) = reverse.build(b, a).await?;
//! # Ok(()) }
//! ```

use crate::sink::conflict::DEFAULT_DELAY_PERIOD;
use crate::sink::{MysqlSink, SinkOptions};
use crate::source::binlog::LoopGuard;
use crate::source::{MysqlSource, SourceOptions};
use crate::wire::catalog::Scope;
use crate::wire::conn::MysqlEndpoint;
use dts_core::config::TwoWayRole;
#[cfg(test)]
use dts_core::topology::KEYLESS_WARNING;
use dts_core::topology::{two_way_task_options, TwoWaySettings};
use dts_core::{
    ConflictPolicy, DatabaseFilter, Error, FileCheckpointStore, Task, TaskFailedPolicy, TaskOptions,
};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

/// Sets up a source's binlog reader to drop what the partner applied. The partner's sink keeps
/// its checkpoint rows in `checkpoint_database` of this task's source.
pub fn guard_source(
    options: &mut SourceOptions,
    settings: &TwoWaySettings,
    checkpoint_database: &str,
) {
    options.binlog.loop_guard = Some(LoopGuard::new(
        checkpoint_database,
        settings.partner_task_id.clone(),
    ));
}

/// Sets up a sink for two-way apply: conflict detection with `policy`, and the delay period.
pub fn two_way_sink(options: &mut SinkOptions, policy: Arc<dyn ConflictPolicy>, delay: Duration) {
    options.conflict_policy = Some(policy);
    options.overwrite_delayed_after = Some(delay);
}

/// One task of a two-way pair, set up in code (whole databases, shared under their own names).
#[derive(Clone)]
pub struct TwoWayTaskOptions {
    /// This task's id (its checkpoint rows and loop marker carry it).
    pub task_id: String,
    /// The other task's id.
    pub partner_task_id: String,
    /// Forward or reverse.
    pub role: TwoWayRole,
    /// Databases synchronized both ways.
    pub databases: Vec<String>,
    /// How conflicts are resolved (default: TaskFailed).
    pub policy: Arc<dyn ConflictPolicy>,
    /// Allow tables without a key, written exactly once (default `false`).
    pub exactly_once_write: bool,
    /// Forward task only: do not synchronize DDL (default `false`; the reverse task always
    /// filters DDL).
    pub exclude_ddl: bool,
    /// Delay period threshold (default [`DEFAULT_DELAY_PERIOD`]).
    pub delay_period: Duration,
    /// Apply workers (default 4).
    pub workers: usize,
    /// Where the task's own progress is kept.
    pub state_file: PathBuf,
    /// Runner options to start from (task id, full sync and the acknowledgements are set by
    /// [`TwoWayTaskOptions::build`]).
    pub task_options: TaskOptions,
}

impl TwoWayTaskOptions {
    /// The options with defaults.
    pub fn new<I, S>(
        task_id: &str,
        partner_task_id: &str,
        role: TwoWayRole,
        databases: I,
        state_file: impl Into<PathBuf>,
    ) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        Self {
            task_id: task_id.into(),
            partner_task_id: partner_task_id.into(),
            role,
            databases: databases.into_iter().map(Into::into).collect(),
            policy: Arc::new(TaskFailedPolicy),
            exactly_once_write: false,
            exclude_ddl: false,
            delay_period: DEFAULT_DELAY_PERIOD,
            workers: 4,
            state_file: state_file.into(),
            task_options: TaskOptions::default(),
        }
    }

    /// The resolved two-way settings.
    pub fn settings(&self) -> TwoWaySettings {
        TwoWaySettings {
            role: self.role,
            partner_task_id: self.partner_task_id.clone(),
            sync_ddl: self.role == TwoWayRole::Forward && !self.exclude_ddl,
            exactly_once_write: self.exactly_once_write,
        }
    }

    /// Connects to both servers and builds the task (`source` is this task's source: the
    /// forward task's source for the forward task, its destination for the reverse task).
    pub async fn build(
        self,
        source: MysqlEndpoint,
        destination: MysqlEndpoint,
    ) -> Result<(Task, Arc<MysqlSource>, Arc<MysqlSink>), Error> {
        if self.task_id == self.partner_task_id {
            return Err(Error::definite(
                "two-way task",
                format!("task {} names itself as its partner", self.task_id),
            ));
        }
        let settings = self.settings();
        let mut source_options = SourceOptions {
            scope: Scope {
                databases: self.databases.clone(),
            },
            ..Default::default()
        };
        let mut sink_options = SinkOptions {
            task_id: self.task_id.clone(),
            workers: self.workers,
            ..Default::default()
        };
        guard_source(
            &mut source_options,
            &settings,
            &sink_options.checkpoint_database,
        );
        two_way_sink(&mut sink_options, self.policy.clone(), self.delay_period);
        let source = Arc::new(MysqlSource::connect(source, source_options).await?);
        let sink = Arc::new(MysqlSink::connect(destination, sink_options).await?);
        let mut options = self.task_options;
        options.task_id = self.task_id.clone();
        two_way_task_options(&mut options, &settings);
        let filter = settings.filter(Arc::new(DatabaseFilter::new(self.databases.clone())));
        let task = Task::new(
            source.clone(),
            sink.clone(),
            filter,
            Arc::new(FileCheckpointStore::new(self.state_file)),
            options,
        );
        Ok((task, source, sink))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reverse_is_incremental_only_and_exactly_once_acknowledges() {
        let o = TwoWayTaskOptions::new("r", "f", TwoWayRole::Reverse, ["db"], "/tmp/x.json");
        let mut s = o.settings();
        assert!(!s.sync_ddl);
        s.exactly_once_write = true;
        let mut t = TaskOptions::default();
        two_way_task_options(&mut t, &s);
        assert!(!t.full_sync && !t.schema_sync);
        assert_eq!(t.acknowledged_warnings, vec![KEYLESS_WARNING.to_string()]);
        two_way_task_options(&mut t, &s);
        assert_eq!(t.acknowledged_warnings.len(), 1);
        let f = TwoWayTaskOptions::new("f", "r", TwoWayRole::Forward, ["db"], "/tmp/y.json");
        assert!(f.settings().sync_ddl);
    }
}
