//! The stage state machine: which stage of a task may do what, and when.
//!
//! A task runs the guide's stages in order — Precheck, Incremental Data Collection, Schema Sync,
//! Full Data Sync, Incremental Write, Verification — each with its own status. Transitions are
//! checked: an illegal one is an error and changes nothing. Every accepted transition publishes
//! a fresh [`TaskStatus`] snapshot on a `tokio::sync::watch` channel, with time stamps.

use crate::error::{Error, Result};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::time::{SystemTime, UNIX_EPOCH};
use tokio::sync::watch;

/// The stages of a synchronization task, in the order they start.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Stage {
    /// Checks of configuration, connectivity, privileges and server settings.
    Precheck,
    /// Records the source's log position before any row is copied, then keeps reading the log.
    IncrementalDataCollection,
    /// Creates databases and tables in the destination.
    SchemaSync,
    /// Copies existing rows.
    FullDataSync,
    /// Replays the log from the recorded position, continuously.
    IncrementalWrite,
    /// Compares source and destination.
    Verification,
}

impl Stage {
    /// Every stage in order.
    pub const ALL: [Stage; 6] = [
        Stage::Precheck,
        Stage::IncrementalDataCollection,
        Stage::SchemaSync,
        Stage::FullDataSync,
        Stage::IncrementalWrite,
        Stage::Verification,
    ];

    /// Whether the task may be configured without this stage (the guide: incremental is always
    /// on, schema and full sync are optional, verification is optional).
    pub fn is_optional(self) -> bool {
        matches!(
            self,
            Stage::SchemaSync | Stage::FullDataSync | Stage::Verification
        )
    }

    fn index(self) -> usize {
        self as usize
    }
}

impl fmt::Display for Stage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Stage::Precheck => "Precheck",
            Stage::IncrementalDataCollection => "Incremental Data Collection",
            Stage::SchemaSync => "Schema Sync",
            Stage::FullDataSync => "Full Data Sync",
            Stage::IncrementalWrite => "Incremental Write",
            Stage::Verification => "Verification",
        })
    }
}

/// The status of one stage.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "status", content = "reason", rename_all = "snake_case")]
pub enum StageStatus {
    /// Not started yet.
    NotStarted,
    /// Working.
    Running,
    /// Paused on request; resumes where it stopped.
    Paused,
    /// Stopped by an error; the reason names the object and the cause.
    Failed(String),
    /// Done.
    Finished,
    /// Not part of this task's configuration.
    Skipped,
}

impl StageStatus {
    /// Finished or skipped: later stages may rely on it.
    pub fn is_done(&self) -> bool {
        matches!(self, StageStatus::Finished | StageStatus::Skipped)
    }
}

/// One stage's status with its time stamps (milliseconds since the Unix epoch).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StageRecord {
    /// The stage.
    pub stage: Stage,
    /// Its status.
    pub status: StageStatus,
    /// When it first started running.
    pub started_ms: Option<u64>,
    /// When its status last changed.
    pub changed_ms: Option<u64>,
    /// When it finished or was skipped.
    pub finished_ms: Option<u64>,
}

/// A snapshot of every stage's status, published on each transition.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TaskStatus {
    /// One record per stage, in [`Stage::ALL`] order.
    pub stages: Vec<StageRecord>,
    /// Incremented on every transition, so observers can tell snapshots apart.
    pub version: u64,
}

impl TaskStatus {
    /// The record of one stage.
    pub fn stage(&self, stage: Stage) -> &StageRecord {
        &self.stages[stage.index()]
    }

    /// The latest stage that is running or paused, if any.
    pub fn current(&self) -> Option<Stage> {
        self.stages
            .iter()
            .rev()
            .find(|r| matches!(r.status, StageStatus::Running | StageStatus::Paused))
            .map(|r| r.stage)
    }

    /// The first failed stage and its reason.
    pub fn failure(&self) -> Option<(Stage, &str)> {
        self.stages.iter().find_map(|r| match &r.status {
            StageStatus::Failed(reason) => Some((r.stage, reason.as_str())),
            _ => None,
        })
    }
}

impl Default for TaskStatus {
    fn default() -> Self {
        Self {
            stages: Stage::ALL
                .iter()
                .map(|&stage| StageRecord {
                    stage,
                    status: StageStatus::NotStarted,
                    started_ms: None,
                    changed_ms: None,
                    finished_ms: None,
                })
                .collect(),
            version: 0,
        }
    }
}

/// The transitions a stage can be asked to make.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Transition {
    /// NotStarted or Failed → Running (a failed stage may be restarted).
    Start,
    /// Running → Paused.
    Pause,
    /// Paused → Running.
    Resume,
    /// Running or Paused → Failed.
    Fail(String),
    /// Running → Finished.
    Finish,
    /// NotStarted → Skipped, for optional stages only.
    Skip,
}

/// Owns the status of every stage and enforces the legal transitions.
#[derive(Debug)]
pub struct StageMachine {
    tx: watch::Sender<TaskStatus>,
}

impl Default for StageMachine {
    fn default() -> Self {
        Self::new()
    }
}

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

impl StageMachine {
    /// Every stage NotStarted.
    pub fn new() -> Self {
        Self {
            tx: watch::Sender::new(TaskStatus::default()),
        }
    }

    /// Watch the status: every accepted transition is published.
    pub fn subscribe(&self) -> watch::Receiver<TaskStatus> {
        self.tx.subscribe()
    }

    /// The current status.
    pub fn status(&self) -> TaskStatus {
        self.tx.borrow().clone()
    }

    /// Start `stage` (or restart it after a failure).
    pub fn start(&self, stage: Stage) -> Result<()> {
        self.apply(stage, Transition::Start)
    }

    /// Pause a running stage.
    pub fn pause(&self, stage: Stage) -> Result<()> {
        self.apply(stage, Transition::Pause)
    }

    /// Resume a paused stage.
    pub fn resume(&self, stage: Stage) -> Result<()> {
        self.apply(stage, Transition::Resume)
    }

    /// Mark a running or paused stage failed.
    pub fn fail(&self, stage: Stage, reason: impl Into<String>) -> Result<()> {
        self.apply(stage, Transition::Fail(reason.into()))
    }

    /// Mark a running stage finished.
    pub fn finish(&self, stage: Stage) -> Result<()> {
        self.apply(stage, Transition::Finish)
    }

    /// Skip an optional stage that has not started.
    pub fn skip(&self, stage: Stage) -> Result<()> {
        self.apply(stage, Transition::Skip)
    }

    /// Apply one transition, or explain why it is illegal (and change nothing).
    pub fn apply(&self, stage: Stage, transition: Transition) -> Result<()> {
        let mut outcome = Ok(());
        self.tx
            .send_if_modified(|status| match next_status(status, stage, &transition) {
                Ok(next) => {
                    let now = now_ms();
                    let record = &mut status.stages[stage.index()];
                    if next == StageStatus::Running && record.started_ms.is_none() {
                        record.started_ms = Some(now);
                    }
                    if next.is_done() {
                        record.finished_ms = Some(now);
                    }
                    record.changed_ms = Some(now);
                    record.status = next;
                    status.version += 1;
                    true
                }
                Err(e) => {
                    outcome = Err(e);
                    false
                }
            });
        outcome
    }
}

/// What must hold of the other stages before `stage` may start.
fn prerequisites_met(status: &TaskStatus, stage: Stage) -> Result<(), String> {
    let is = |s: Stage| &status.stage(s).status;
    let need_done = |s: Stage| {
        if is(s).is_done() {
            Ok(())
        } else {
            Err(format!("{s} must be finished or skipped first"))
        }
    };
    match stage {
        Stage::Precheck => Ok(()),
        Stage::IncrementalDataCollection => need_done(Stage::Precheck),
        Stage::SchemaSync => match is(Stage::IncrementalDataCollection) {
            StageStatus::Running | StageStatus::Finished => Ok(()),
            _ => Err(format!(
                "{} must be running first (the start position is recorded before any copy)",
                Stage::IncrementalDataCollection
            )),
        },
        Stage::FullDataSync => need_done(Stage::SchemaSync),
        Stage::IncrementalWrite => need_done(Stage::FullDataSync),
        Stage::Verification => need_done(Stage::FullDataSync),
    }
}

fn next_status(status: &TaskStatus, stage: Stage, transition: &Transition) -> Result<StageStatus> {
    let current = &status.stage(stage).status;
    let illegal = |why: &str| {
        Err(Error::IllegalTransition(format!(
            "{stage}: cannot {transition:?} from {current:?}{why}"
        )))
    };
    match (current, transition) {
        (StageStatus::NotStarted | StageStatus::Failed(_), Transition::Start) => {
            match prerequisites_met(status, stage) {
                Ok(()) => Ok(StageStatus::Running),
                Err(why) => illegal(&format!(": {why}")),
            }
        }
        (StageStatus::Running, Transition::Pause) => Ok(StageStatus::Paused),
        (StageStatus::Paused, Transition::Resume) => Ok(StageStatus::Running),
        (StageStatus::Running | StageStatus::Paused, Transition::Fail(reason)) => {
            Ok(StageStatus::Failed(reason.clone()))
        }
        (StageStatus::Running, Transition::Finish) => Ok(StageStatus::Finished),
        (StageStatus::NotStarted, Transition::Skip) if stage.is_optional() => {
            Ok(StageStatus::Skipped)
        }
        (StageStatus::NotStarted, Transition::Skip) => {
            illegal(": this stage is always part of a task")
        }
        _ => illegal(""),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Brings a machine to the point where `stage`'s prerequisites hold.
    fn ready_for(stage: Stage) -> StageMachine {
        let m = StageMachine::new();
        for s in Stage::ALL {
            if s >= stage {
                break;
            }
            m.start(s).unwrap();
            if s != Stage::IncrementalDataCollection {
                m.finish(s).unwrap();
            }
        }
        m
    }

    fn put_in(m: &StageMachine, stage: Stage, status: &StageStatus) {
        match status {
            StageStatus::NotStarted => {}
            StageStatus::Running => m.start(stage).unwrap(),
            StageStatus::Paused => {
                m.start(stage).unwrap();
                m.pause(stage).unwrap();
            }
            StageStatus::Failed(_) => {
                m.start(stage).unwrap();
                m.fail(stage, "boom").unwrap();
            }
            StageStatus::Finished => {
                m.start(stage).unwrap();
                m.finish(stage).unwrap();
            }
            StageStatus::Skipped => m.skip(stage).unwrap(),
        }
    }

    fn expected(stage: Stage, from: &StageStatus, t: &Transition) -> Option<StageStatus> {
        use StageStatus as S;
        match (from, t) {
            (S::NotStarted | S::Failed(_), Transition::Start) => Some(S::Running),
            (S::Running, Transition::Pause) => Some(S::Paused),
            (S::Paused, Transition::Resume) => Some(S::Running),
            (S::Running | S::Paused, Transition::Fail(r)) => Some(S::Failed(r.clone())),
            (S::Running, Transition::Finish) => Some(S::Finished),
            (S::NotStarted, Transition::Skip) if stage.is_optional() => Some(S::Skipped),
            _ => None,
        }
    }

    #[test]
    fn every_transition_from_every_status() {
        let statuses = [
            StageStatus::NotStarted,
            StageStatus::Running,
            StageStatus::Paused,
            StageStatus::Failed("x".into()),
            StageStatus::Finished,
            StageStatus::Skipped,
        ];
        let transitions = [
            Transition::Start,
            Transition::Pause,
            Transition::Resume,
            Transition::Fail("why".into()),
            Transition::Finish,
            Transition::Skip,
        ];
        for stage in Stage::ALL {
            for from in &statuses {
                if *from == StageStatus::Skipped && !stage.is_optional() {
                    continue; // unreachable state
                }
                for t in &transitions {
                    let m = ready_for(stage);
                    put_in(&m, stage, from);
                    let before = m.status();
                    let result = m.apply(stage, t.clone());
                    match expected(stage, from, t) {
                        Some(next) => {
                            result.unwrap_or_else(|e| panic!("{stage} {from:?} {t:?}: {e}"));
                            let after = m.status();
                            assert_eq!(after.stage(stage).status, next);
                            assert_eq!(after.version, before.version + 1);
                        }
                        None => {
                            let err = result.expect_err(&format!("{stage} {from:?} {t:?}"));
                            assert!(matches!(err, Error::IllegalTransition(_)));
                            assert_eq!(m.status(), before, "illegal transition changed state");
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn stages_start_only_in_order() {
        let m = StageMachine::new();
        for s in &Stage::ALL[1..] {
            let err = m.start(*s).unwrap_err();
            assert!(err.to_string().contains("first"), "{err}");
        }
        m.start(Stage::Precheck).unwrap();
        assert!(m.start(Stage::IncrementalDataCollection).is_err());
        m.finish(Stage::Precheck).unwrap();
        m.start(Stage::IncrementalDataCollection).unwrap();
        assert!(m.start(Stage::FullDataSync).is_err());
        m.skip(Stage::SchemaSync).unwrap();
        assert!(m.start(Stage::IncrementalWrite).is_err());
        m.start(Stage::FullDataSync).unwrap();
        assert!(m.start(Stage::IncrementalWrite).is_err());
        m.finish(Stage::FullDataSync).unwrap();
        m.start(Stage::IncrementalWrite).unwrap();
        m.start(Stage::Verification).unwrap();
        assert_eq!(m.status().current(), Some(Stage::Verification));
    }

    #[test]
    fn schema_sync_needs_collection_running() {
        let m = ready_for(Stage::IncrementalDataCollection);
        assert!(m.start(Stage::SchemaSync).is_err());
        m.start(Stage::IncrementalDataCollection).unwrap();
        m.pause(Stage::IncrementalDataCollection).unwrap();
        assert!(m.start(Stage::SchemaSync).is_err());
        m.resume(Stage::IncrementalDataCollection).unwrap();
        m.start(Stage::SchemaSync).unwrap();
    }

    #[tokio::test]
    async fn transitions_are_observable_with_time_stamps() {
        let m = StageMachine::new();
        let mut rx = m.subscribe();
        m.start(Stage::Precheck).unwrap();
        rx.changed().await.unwrap();
        let s = rx.borrow_and_update().clone();
        let r = s.stage(Stage::Precheck);
        assert_eq!(r.status, StageStatus::Running);
        assert!(r.started_ms.is_some() && r.changed_ms.is_some() && r.finished_ms.is_none());
        m.fail(Stage::Precheck, "source: binlog_format is MIXED")
            .unwrap();
        rx.changed().await.unwrap();
        let s = rx.borrow_and_update().clone();
        assert_eq!(
            s.failure(),
            Some((Stage::Precheck, "source: binlog_format is MIXED"))
        );
        // An illegal transition publishes nothing.
        assert!(m.finish(Stage::SchemaSync).is_err());
        assert!(!rx.has_changed().unwrap());
    }
}
