//! The `Sink` trait: what a task needs from the store it writes to.

use crate::change::{Ddl, Row, Transaction};
use crate::checkpoint::Checkpoint;
use crate::error::Result;
use crate::precheck::PrecheckReport;
use crate::schema::{SchemaRef, TableId, TableSchema};
use crate::schema_object::{Account, ObjectKind, SchemaObject};
use async_trait::async_trait;

/// How full-sync rows meet rows already in the destination with the same key.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExistingRows {
    /// Keep the destination's row and skip the source's (the guide's "Ignore Errors and
    /// Proceed" during full sync).
    Keep,
    /// Replace the destination's row (re-copying a chunk after a restart converges this way).
    Replace,
}

/// The guide's "Processing Mode of Conflicting Tables".
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum ConflictingTables {
    /// A destination table with the same name fails the precheck.
    #[default]
    PrecheckAndReportErrors,
    /// Existing tables are used as they are: full sync keeps existing rows with the same key,
    /// incremental sync overwrites them.
    IgnoreErrorsAndProceed,
}

/// A destination a task writes to. Schemas and rows arrive already mapped to destination names.
///
/// Guarantees an implementation must give:
/// - `apply_schema` is idempotent: applying the same schema twice leaves one table.
/// - `write_rows` writes every row or fails; writing the same rows again does not duplicate them
///   for tables with a key.
/// - `apply` applies the transactions in order and records `checkpoint` so that
///   `read_checkpoint` returns it only if every change of the batch is applied. Sinks that can
///   (a transactional database) commit both atomically; others document their delivery
///   guarantee (e.g. at-least-once for Kafka, ordered per key).
/// - Replay is idempotent: inserts of existing rows, updates of missing rows and deletes of
///   missing rows converge to the source's state (or go through the conflict policy).
#[async_trait]
pub trait Sink: Send + Sync {
    /// Destination checks before the task starts: connectivity, privileges, and existing tables
    /// among `tables` (destination schemas) under the conflicting-tables mode.
    async fn precheck(&self, tables: &[TableSchema], mode: ConflictingTables) -> PrecheckReport;

    /// Create the table (and its database) if it does not exist.
    async fn apply_schema(&self, schema: &TableSchema) -> Result<()>;

    /// Create the table (and its database) for a full copy that is about to fill it. A sink
    /// may leave out what only slows the copy down — secondary indexes — provided
    /// [`Sink::finish_copy`] puts it back, also when the task is killed anywhere in between and
    /// restarted. A table that already exists is left as it is. Default: [`Sink::apply_schema`].
    async fn apply_schema_for_copy(&self, schema: &TableSchema) -> Result<()> {
        self.apply_schema(schema).await
    }

    /// Every row of the table's full copy is written: complete what
    /// [`Sink::apply_schema_for_copy`] left out. Called again for finished tables when a task
    /// resumes, so it must be idempotent; incremental writes start only after it returned for
    /// every table. Default: nothing to do.
    async fn finish_copy(&self, schema: &TableSchema) -> Result<()> {
        let _ = schema;
        Ok(())
    }

    /// Which of `tables` (destination schemas) do not exist at the destination. A task without
    /// schema synchronization needs every table to exist and fails its precheck naming the
    /// missing ones. `None` (the default) means the destination has no tables to check, as
    /// for a message queue.
    async fn missing_tables(&self, tables: &[TableSchema]) -> Result<Option<Vec<TableId>>> {
        let _ = tables;
        Ok(None)
    }

    /// Whether this sink applies [`crate::Change::Derived`] (foreign-key cascades): `Err` with
    /// the reason when it cannot, and the precheck then fails for every selected table with a
    /// cascading foreign key, naming table and constraint. The default refuses, so a sink that
    /// does not know derived changes never drops them silently.
    fn supports_derived_changes(&self) -> std::result::Result<(), String> {
        Err("this destination does not apply changes derived from foreign-key cascades".into())
    }

    /// Whether this destination creates the foreign keys of the tables it creates
    /// ([`crate::TableConstraints::foreign_keys`] of the schemas it is given, in destination
    /// names); the task's precheck then names those it cannot create. When it does not (the
    /// default), its own precheck says per table what it leaves out.
    fn holds_foreign_keys(&self) -> bool {
        false
    }

    /// Whether the destination can hold schema objects of `kind`; `Err` says why not (the
    /// precheck reports it and the task leaves such objects out). The default holds tables
    /// only.
    fn holds_objects(&self, _kind: ObjectKind) -> std::result::Result<(), String> {
        Err("this destination holds tables only".into())
    }

    /// Destination checks for the schema objects and accounts schema synchronization is about
    /// to create (in destination names): objects that already exist, definers, privileges,
    /// authentication plugins. The default checks nothing.
    async fn precheck_objects(
        &self,
        _objects: &[SchemaObject],
        _accounts: &[Account],
        _mode: ConflictingTables,
    ) -> PrecheckReport {
        PrecheckReport::default()
    }

    /// Creates (or replaces) a view, routine, trigger or event given in destination names.
    /// Idempotent. A trigger created so must not fire for rows the task itself writes; an
    /// event created so is disabled (see [`crate::schema_object`]).
    async fn create_object(&self, object: &SchemaObject) -> Result<()> {
        Err(crate::error::Error::Other {
            object: object.label(),
            message: "this destination holds tables only".into(),
            cause: None,
        })
    }

    /// The statements a user runs at the destination to create `object` by hand at cutover (a
    /// trigger left to the user), in the destination's dialect; and for an event the task
    /// created disabled, the statement that enables it (`enable_event`).
    fn cutover_statements(&self, object: &SchemaObject, enable_event: bool) -> Vec<String> {
        if enable_event {
            Vec::new()
        } else {
            vec![object.definition.clone()]
        }
    }

    /// Creates an account with its grants (already restricted to the selected objects, in
    /// destination names) when it does not exist, and adds its grants. The default refuses.
    async fn create_account(&self, account: &Account) -> Result<()> {
        Err(crate::error::Error::Other {
            object: account.label(),
            message: "this destination has no accounts to create".into(),
            cause: None,
        })
    }

    /// Write a batch of full-sync rows of one table.
    async fn write_rows(
        &self,
        schema: &SchemaRef,
        rows: Vec<Row>,
        existing: ExistingRows,
    ) -> Result<()>;

    /// Remove every row of a table, so a table without a key can be copied again from a new
    /// consistent snapshot after an interrupted copy.
    async fn reset_table(&self, schema: &TableSchema) -> Result<()>;

    /// Apply a DDL statement outside a transaction batch (schema changes during incremental
    /// write arrive inside transactions; this is for tools and tests).
    async fn apply_ddl(&self, ddl: &Ddl) -> Result<()>;

    /// Apply transactions in order and record the checkpoint with them.
    async fn apply(&self, batch: &[Transaction], checkpoint: &Checkpoint) -> Result<()>;

    /// The checkpoint this sink holds for the task, if any.
    async fn read_checkpoint(&self) -> Result<Option<Checkpoint>>;

    /// Writes what the sink still buffers and commits the checkpoint covering it; the host
    /// calls it once the task has returned, so the next start does not replay those changes.
    /// The default — a sink that writes each batch before `apply` returns — has nothing to do.
    async fn flush(&self) -> Result<()> {
        Ok(())
    }
}
