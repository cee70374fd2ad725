//! # dts-core
//!
//! The core of **dts**, an embeddable engine that keeps a MySQL-family database copied, live,
//! into another store: MySQL/MariaDB, Kafka or AnalyticDB for MySQL 3.0.
//!
//! This crate knows no SQL dialect and no wire protocol. It defines
//! - the data model: lossless column [`Value`]s, [`TableSchema`]s, [`RowChange`]s, [`Ddl`],
//!   [`Transaction`]s and serializable source [`Position`]s;
//! - the traits connectors implement: [`Source`], [`Sink`], [`Filter`], [`ConflictPolicy`];
//! - the [`StageMachine`] that runs a task's stages in the guide's order and publishes every
//!   transition;
//! - the task configuration ([`config::TaskConfig`]) with the guide's defaults and rules;
//! - checkpoints ([`CheckpointStore`], [`FileCheckpointStore`]).
//!
//! Connector crates (`dts-mysql`, `dts-kafka`, `dts-adb`) implement the traits; a host program
//! composes them.
//!
//! ```
//! use dts_core::{Stage, StageMachine, StageStatus};
//!
//! let machine = StageMachine::new();
//! let status = machine.subscribe();
//! machine.start(Stage::Precheck).unwrap();
//! machine.finish(Stage::Precheck).unwrap();
//! // Full data sync cannot start before the start position is recorded:
//! assert!(machine.start(Stage::FullDataSync).is_err());
//! assert_eq!(status.borrow().stage(Stage::Precheck).status, StageStatus::Finished);
//! ```
#![warn(missing_docs)]

pub mod assessment;
pub mod build;
pub mod cascade;
pub mod change;
pub mod checkpoint;
pub mod config;
pub mod conflict;
pub mod error;
pub mod filter;
pub mod objects;
pub mod position;
pub mod precheck;
pub mod row_plan;
pub mod scan;
pub mod schema;
pub mod schema_object;
pub mod sink;
pub mod source;
pub mod sql_idents;
pub mod stage;
pub mod task;
pub mod topology;
pub mod value;
pub mod verify;

pub use cascade::{
    CascadeCause, CascadeGraph, CascadeOp, DerivedChange, ForeignKey, ReferentialAction, RowMatch,
};
pub use change::{Change, Ddl, DdlKind, Fragment, Row, RowChange, RowOp, StreamEvent, Transaction};
pub use checkpoint::{Checkpoint, CheckpointStore, FileCheckpointStore, TableProgress, TaskState};
pub use conflict::{
    Conflict, ConflictKind, ConflictPolicy, IgnorePolicy, OverwritePolicy, Resolution,
    TaskFailedPolicy,
};
pub use error::{Cause, Error, ErrorClass, Result};
pub use filter::{DatabaseFilter, DmlOps, Filter, TableRoute, SYSTEM_DATABASES};
pub use position::{GtidFlavor, GtidSet, Position};
pub use precheck::{CheckLevel, CheckResult, PrecheckReport};
pub use schema::{
    CheckConstraint, Column, ColumnType, FixedSyntax, Index, SchemaRef, TableConstraints, TableId,
    TableSchema,
};
pub use schema_object::{
    Account, CutoverStep, Grant, GrantScope, ObjectKind, ObjectRoute, SchemaObject,
};
pub use sink::{ConflictingTables, ExistingRows, Sink};
pub use source::{Chunk, ChunkRequest, ConsistentRead, Source};
pub use stage::{Stage, StageMachine, StageRecord, StageStatus, TaskStatus, Transition};
pub use task::{
    Alert, AlertHook, Control, Etl, LatencyRule, LogAlertHook, Progress, Task, TaskHandle,
    TaskOptions, ThrottleSettings, FOREIGN_KEYS_CHECK,
};
pub use value::{Date, DateTime, Time, Timestamp, Value};

/// For [`register_destination!`]: connector crates register their schema through core's copy.
#[doc(hidden)]
pub use inventory;
