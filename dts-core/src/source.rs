//! The `Source` trait: what a task needs from the database it copies.

use crate::change::{Row, StreamEvent};
use crate::error::Result;
use crate::position::Position;
use crate::precheck::PrecheckReport;
use crate::schema::SchemaRef;
use crate::value::Value;
use async_trait::async_trait;
use futures::stream::BoxStream;

/// One keyset-paginated read of a table during full data sync.
#[derive(Clone, Debug)]
pub struct ChunkRequest {
    /// The table, as discovered.
    pub schema: SchemaRef,
    /// Key columns to page by (the identity columns of the table), in order.
    pub key_columns: Vec<String>,
    /// Read rows whose key is strictly greater than this (`None`: from the start).
    pub after: Option<Vec<Value>>,
    /// Maximum rows to return.
    pub limit: usize,
    /// Extra row condition pushed into the read (the task's WHERE filter), in the source's SQL.
    pub condition: Option<String>,
    /// Columns to read, by position (the task's column subset; key columns are always read).
    /// Rows keep every position; columns not read hold `Value::Null`. `None`: every column.
    pub columns: Option<Vec<usize>>,
}

/// The rows of one chunk and where the next chunk starts.
#[derive(Clone, Debug, Default)]
pub struct Chunk {
    /// Rows in key order, every column of the schema in column order.
    pub rows: Vec<Row>,
    /// Key of the last row read (the cursor of the next request); `None` when `rows` is empty.
    pub last_key: Option<Vec<Value>>,
}

impl Chunk {
    /// True when the table has no rows past the request's cursor (fewer than `limit` rows came
    /// back).
    pub fn is_last(&self, limit: usize) -> bool {
        self.rows.len() < limit
    }
}

/// A table read in one consistent snapshot whose exact log position is known: what tables
/// without a usable key need, since their rows cannot be upserted idempotently.
pub struct ConsistentRead {
    /// Log position the snapshot corresponds to: every change after it is not in `rows`, every
    /// change up to it is.
    pub position: Position,
    /// The rows, in bounded batches.
    pub rows: BoxStream<'static, Result<Vec<Row>>>,
}

/// A MySQL-family database (or anything shaped like one) that a task copies from.
///
/// Guarantees an implementation must give:
/// - `current_position` is a point in the log such that every transaction committed before the
///   call is at or before it; reading the stream from it misses nothing committed later.
/// - `read_chunk` returns rows in ascending key order, strictly after `after`, never more than
///   `limit`; reading chunk after chunk visits every row present throughout the reads exactly
///   once, without holding locks between chunks.
/// - `stream` yields committed transactions in commit order, each exactly once per call, starting
///   with the first transaction that commits after `from`; row images are decoded with the
///   schema the table had when the change was written, and DDL updates that schema.
/// - Errors say what retry can fix (`Error::class`); a purged position is
///   `Error::BinlogPurged` naming the file.
#[async_trait]
pub trait Source: Send + Sync {
    /// Source checks before a task starts (connectivity, log settings, privileges, …).
    async fn precheck(&self) -> PrecheckReport;

    /// Every user table of the source with its current schema (system schemas excluded).
    async fn discover(&self) -> Result<Vec<SchemaRef>>;

    /// The foreign keys of the source's tables (in scope), read from the catalog: what the task
    /// derives cascades from ([`crate::cascade`]). Called at the start of a task and again
    /// after DDL that may change them. The default — a source without foreign keys — returns
    /// none.
    async fn foreign_keys(&self) -> Result<Vec<crate::cascade::ForeignKey>> {
        Ok(Vec::new())
    }

    /// The views, stored procedures and functions, triggers and events of the source's
    /// databases (system schemas excluded), each with the `CREATE` statement the source prints
    /// and the session settings it was created under. Read at the start of a task with schema
    /// synchronization. The default — a source with tables only — returns none.
    async fn schema_objects(&self) -> Result<Vec<crate::schema_object::SchemaObject>> {
        Ok(Vec::new())
    }

    /// Source checks on the objects schema sync is about to create (as the source holds them):
    /// for example definers that do not exist at the source. The default checks nothing.
    async fn precheck_objects(
        &self,
        _objects: &[crate::schema_object::SchemaObject],
    ) -> PrecheckReport {
        PrecheckReport::default()
    }

    /// The source's accounts with their credentials and grants: those named in `names`
    /// (`user@host`), or every account when `names` is empty (the task keeps those with a grant
    /// on a selected object). The default — a source without accounts — returns none.
    async fn accounts(&self, _names: &[String]) -> Result<Vec<crate::schema_object::Account>> {
        Ok(Vec::new())
    }

    /// The source's part of the migration assessment of `tables` (the task runs it beside the
    /// destination's assessor): for example views or foreign keys that reach tables outside the
    /// selection. Problems reading are findings, never errors. The default finds nothing.
    async fn assess(
        &self,
        _tables: &[crate::assessment::AssessedTable],
    ) -> crate::assessment::AssessmentReport {
        crate::assessment::AssessmentReport::default()
    }

    /// A reader of this source for data verification, computing `encoding` (the destination's
    /// reader computes the same one). `None` when the source cannot be read for verification
    /// (the default).
    fn verify_reader(
        &self,
        _encoding: crate::verify::Encoding,
    ) -> Option<std::sync::Arc<dyn crate::verify::VerifyReader>> {
        None
    }

    /// Estimated row count of a table, for progress reporting (0 when unknown).
    async fn estimate_rows(&self, _schema: &SchemaRef) -> Result<u64> {
        Ok(0)
    }

    /// Writes one heartbeat for `task_id` into the source (a row in a small table), so the
    /// stream carries a fresh commit time even when the application is idle and latency stays
    /// measurable. Called about once a second when the task's `write_heartbeat` is on.
    async fn write_heartbeat(&self, task_id: &str) -> Result<()>;

    /// The log position as of now (binlog file/offset and GTID set).
    async fn current_position(&self) -> Result<Position>;

    /// One keyset-paginated chunk of a table.
    async fn read_chunk(&self, request: &ChunkRequest) -> Result<Chunk>;

    /// The whole table in one consistent snapshot at a known position.
    async fn read_consistent(
        &self,
        schema: SchemaRef,
        condition: Option<String>,
        columns: Option<Vec<usize>>,
        batch_rows: usize,
    ) -> Result<ConsistentRead>;

    /// Committed transactions after `from`, forever (until an error or the stream is dropped).
    async fn stream(&self, from: Position) -> Result<BoxStream<'static, Result<StreamEvent>>>;
}
