//! Changes captured from the source: row images, DDL, and the transactions that group them.

use crate::cascade::DerivedChange;
use crate::position::Position;
use crate::schema::{SchemaRef, TableId};
use crate::value::Value;
use serde::{Deserialize, Serialize};

/// A row's values in the order of its table's columns.
pub type Row = Vec<Value>;

/// The kind of a row change.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RowOp {
    /// A new row (`after` is set).
    Insert,
    /// A changed row (`before` and `after` are set).
    Update,
    /// A removed row (`before` is set).
    Delete,
}

/// One row changed by the source, with full before/after images as the binlog carries them.
#[derive(Clone, Debug, PartialEq)]
pub struct RowChange {
    /// Schema the images are laid out by, as it was when the change was written.
    pub schema: SchemaRef,
    /// Insert, update or delete.
    pub op: RowOp,
    /// Row before the change (updates and deletes).
    pub before: Option<Row>,
    /// Row after the change (inserts and updates).
    pub after: Option<Row>,
}

impl RowChange {
    /// The table changed.
    pub fn table(&self) -> &TableId {
        &self.schema.id
    }

    /// The image that identifies the row at the destination before this change is applied
    /// (`before` for updates and deletes, `after` for inserts).
    pub fn key_image(&self) -> Option<&Row> {
        match self.op {
            RowOp::Insert => self.after.as_ref(),
            RowOp::Update | RowOp::Delete => self.before.as_ref(),
        }
    }

    /// Rough size in bytes of both images, for batching and throttling.
    pub fn approx_size(&self) -> usize {
        let size = |r: &Option<Row>| {
            r.as_ref()
                .map(|r| r.iter().map(Value::approx_size).sum())
                .unwrap_or(0)
        };
        size(&self.before) + size(&self.after)
    }
}

/// What a DDL statement does, as far as the parser could tell.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DdlKind {
    /// CREATE TABLE.
    CreateTable,
    /// ALTER TABLE.
    AlterTable,
    /// DROP TABLE.
    DropTable,
    /// RENAME TABLE (or ALTER TABLE … RENAME TO).
    RenameTable,
    /// TRUNCATE TABLE.
    TruncateTable,
    /// CREATE DATABASE / SCHEMA.
    CreateDatabase,
    /// DROP DATABASE / SCHEMA.
    DropDatabase,
    /// ALTER DATABASE / SCHEMA.
    AlterDatabase,
    /// CREATE INDEX.
    CreateIndex,
    /// DROP INDEX.
    DropIndex,
    /// CREATE / ALTER / DROP of a view, stored procedure or function, trigger or event. Its
    /// `tables` name the object (qualified; `DROP VIEW a, b` names each), then — for
    /// `CREATE TRIGGER` — the table the trigger is on.
    Object(crate::schema_object::ObjectKind),
    /// Grants, sequences and other statements that change no table data.
    Other,
    /// The parser could not read the statement; the raw text is all there is.
    Unparsed,
}

/// A DDL statement from the source's log.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Ddl {
    /// Default database of the session that ran the statement (unqualified names refer to it).
    pub database: Option<String>,
    /// The statement exactly as the source executed it.
    pub statement: String,
    /// What it does.
    pub kind: DdlKind,
    /// Tables it touches, qualified (for RENAME: old then new name of each pair).
    pub tables: Vec<TableId>,
    /// The `sql_mode` of the session that ran it, when the log says: a routine, trigger or
    /// event reads its body under the mode it was created with, so the destination creates it
    /// under the same one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sql_mode: Option<String>,
}

/// One change inside a transaction.
#[derive(Clone, Debug, PartialEq)]
pub enum Change {
    /// A row change.
    Row(RowChange),
    /// A schema change; it acts as a barrier for parallel apply.
    Ddl(Ddl),
    /// Child rows changed by a foreign key's referential action (not in the source's log;
    /// derived by the task from the parent change before it, see [`crate::cascade`]). Sinks
    /// apply it as a predicate change, in order with the changes around it.
    Derived(DerivedChange),
}

/// Where a transaction's changes sit when a large transaction is delivered in several pieces.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Fragment {
    /// Index of the first change of this piece within the whole transaction.
    pub first_change: u64,
    /// True for the piece that ends the transaction.
    pub last: bool,
}

impl Fragment {
    /// A transaction delivered in one piece.
    pub const WHOLE: Fragment = Fragment {
        first_change: 0,
        last: true,
    };
}

/// A committed source transaction, or a bounded piece of one.
///
/// Sources deliver transactions in commit order. A transaction too large to hold in memory is
/// delivered as several `Transaction` values sharing `begin` and `gtid`, with increasing
/// `fragment.first_change`; only the last has `fragment.last` set.
#[derive(Clone, Debug, PartialEq)]
pub struct Transaction {
    /// Position of the transaction's first event (resuming here replays the whole transaction).
    pub begin: Position,
    /// Position just after the commit: resuming here skips this transaction.
    pub end: Position,
    /// GTID of the transaction, in the source's text form, if the source has GTIDs.
    pub gtid: Option<String>,
    /// Commit time on the source, milliseconds since the Unix epoch.
    pub commit_time_ms: u64,
    /// The changes (or this piece of them), in log order.
    pub changes: Vec<Change>,
    /// Which piece of the transaction this is.
    pub fragment: Fragment,
}

impl Transaction {
    /// Number of row changes in this piece.
    pub fn row_count(&self) -> usize {
        self.changes
            .iter()
            .filter(|c| matches!(c, Change::Row(_)))
            .count()
    }

    /// True when this piece holds DDL.
    pub fn has_ddl(&self) -> bool {
        self.changes.iter().any(|c| matches!(c, Change::Ddl(_)))
    }

    /// True when this piece holds changes derived from foreign-key cascades.
    pub fn has_derived(&self) -> bool {
        self.changes.iter().any(|c| matches!(c, Change::Derived(_)))
    }
}

/// What a source's change stream yields.
#[derive(Clone, Debug, PartialEq)]
pub enum StreamEvent {
    /// A committed transaction (or a piece of a large one).
    Transaction(Transaction),
    /// The source is alive and nothing was committed up to `position` as of `time_ms`; lets the
    /// task measure latency and advance its checkpoint while the source is idle.
    Heartbeat {
        /// Position the stream has read up to.
        position: Position,
        /// Source clock, milliseconds since the Unix epoch.
        time_ms: u64,
    },
}
