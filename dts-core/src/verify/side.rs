//! What a connector exposes so its tables can be verified: the [`VerifyReader`] trait (server-side
//! chunk checksums over key ranges, row digests inside differing chunks, row counts, schema
//! description) and the [`RepairDialect`] that renders repair statements for a destination.
//!
//! The engine never sees row contents during a compare: both sides hash a canonical encoding of
//! the compared columns on the server, and only digests and keys travel.

use crate::change::Row;
use crate::error::Result;
use crate::schema::{TableId, TableSchema};
use crate::value::Value;
use async_trait::async_trait;

/// One side's view of a compared table: the table as that side stores it, its key and the
/// compared columns under that side's names. The two sides of a plan list their compared
/// columns in the same order, so position `i` of one side is compared with position `i` of the
/// other.
#[derive(Clone, Debug, PartialEq)]
pub struct SideTable {
    /// The table as this side stores it (names and types used to build the canonical encoding).
    pub schema: TableSchema,
    /// Key columns (this side's names), in key order.
    pub key: Vec<String>,
    /// Compared non-key columns (this side's names), in canonical order.
    pub columns: Vec<String>,
    /// Row condition in this side's SQL (the task's WHERE filter), restricting every read.
    pub condition: Option<String>,
}

/// Rows whose key is greater than `after` (when set) and at most `upto` (when set), in key
/// order. Consecutive ranges built from chunk boundaries cover the whole key space.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct KeyRange {
    /// Exclusive lower bound.
    pub after: Option<Vec<Value>>,
    /// Inclusive upper bound.
    pub upto: Option<Vec<Value>>,
}

/// A chunk's checksum on one side: equal sums on both sides mean equal rows (up to the hash's
/// collision probability).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChunkSum {
    /// Rows in the range.
    pub rows: u64,
    /// Order-independent combination of the rows' digests (connector-defined text).
    pub checksum: String,
    /// Bytes the server read for it (an estimate), for MB/s limits.
    pub bytes: u64,
}

/// One row's key and the digest of its canonical encoding.
#[derive(Clone, Debug, PartialEq)]
pub struct RowDigest {
    /// Key values, in key order.
    pub key: Vec<Value>,
    /// Digest of the row's compared columns (connector-defined text).
    pub digest: String,
}

/// The reading side of verification, implemented by each connector that supports it. Both
/// sides of a compare must implement the same canonical encoding, so a row stored identically
/// gives the same digest whichever server computes it.
#[async_trait]
pub trait VerifyReader: Send + Sync {
    /// Label for messages (`source`, `destination`).
    fn label(&self) -> &str;

    /// The current schema of a table, or `None` when it does not exist.
    async fn describe(&self, table: &TableId) -> Result<Option<TableSchema>>;

    /// Rows of the table that pass its condition.
    async fn row_count(&self, table: &SideTable) -> Result<u64>;

    /// The key of the `rows`-th row after `after` (in key order, condition applied), or `None`
    /// when fewer rows remain: the end of the chunk that starts after `after`.
    async fn chunk_boundary(
        &self,
        table: &SideTable,
        after: Option<&[Value]>,
        rows: u64,
    ) -> Result<Option<Vec<Value>>>;

    /// Keys that cut `range` into pieces of `every` rows: the key of every `every`-th row of
    /// the range (in key order, condition applied), excluding the range's upper bound. Used to
    /// narrow a differing chunk down before rows are compared. The default asks
    /// [`VerifyReader::chunk_boundary`] once per piece.
    async fn split_points(
        &self,
        table: &SideTable,
        range: &KeyRange,
        every: u64,
    ) -> Result<Vec<Vec<Value>>> {
        let mut out = Vec::new();
        let mut after = range.after.clone();
        let upto = range.upto.as_ref().map(|k| super::keys::key_text(k));
        loop {
            let Some(b) = self.chunk_boundary(table, after.as_deref(), every).await? else {
                return Ok(out);
            };
            if let (Some(u), Some(limit)) = (&upto, &range.upto) {
                if super::keys::key_text(&b) == *u
                    || super::keys::cmp_keys(&b, limit) != std::cmp::Ordering::Less
                {
                    return Ok(out);
                }
            }
            out.push(b.clone());
            after = Some(b);
        }
    }

    /// The checksum of the rows in `range`, computed by the server.
    async fn checksum(&self, table: &SideTable, range: &KeyRange) -> Result<ChunkSum>;

    /// The checksums of the pieces `points` cut `range` into (`points.len() + 1` pieces:
    /// up to and including the first point, …, after the last point), in order. The default
    /// asks [`VerifyReader::checksum`] once per piece; connectors may compute them in one
    /// query.
    async fn piece_checksums(
        &self,
        table: &SideTable,
        range: &KeyRange,
        points: &[Vec<Value>],
    ) -> Result<Vec<ChunkSum>> {
        let mut out = Vec::with_capacity(points.len() + 1);
        for piece in pieces(range, points) {
            out.push(self.checksum(table, &piece).await?);
        }
        Ok(out)
    }

    /// Key and digest of every row in `range`.
    async fn row_digests(&self, table: &SideTable, range: &KeyRange) -> Result<Vec<RowDigest>>;

    /// Key and digest of the rows with these keys that exist and pass the condition.
    async fn digests_for_keys(
        &self,
        table: &SideTable,
        keys: &[Vec<Value>],
    ) -> Result<Vec<RowDigest>>;

    /// Full rows (every column of `schema`, in order) with these values of `key`.
    async fn fetch_rows(
        &self,
        schema: &TableSchema,
        key: &[String],
        keys: &[Vec<Value>],
    ) -> Result<Vec<Row>>;

    /// Bytes sent and received for verification so far (queries and results).
    fn bytes_transferred(&self) -> u64;

    /// How this side's schema is compared with the schema the source and the route imply
    /// (`expected`, in the source's dialect) when this side is the destination. The default
    /// compares as is: right for a destination of the source's own family. A destination with
    /// its own dialect maps `expected` into it, normalizes `actual` the same way, and names
    /// what it leaves out of the compare (for example what it never carries over).
    fn schema_view(&self, expected: TableSchema, actual: Option<TableSchema>) -> SchemaView {
        SchemaView {
            expected,
            actual,
            not_compared: Vec::new(),
        }
    }

    /// The views, routines, triggers and events of `database` on this side, for schema
    /// verification of the objects the task created; `None` when this side holds tables only
    /// (the default), so objects are not compared.
    async fn schema_objects(&self, _database: &str) -> Result<Option<Vec<ObjectOnSide>>> {
        Ok(None)
    }
}

/// A view, routine, trigger or event as one side of a verification holds it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ObjectOnSide {
    /// Its kind.
    pub kind: crate::schema_object::ObjectKind,
    /// Its name.
    pub name: String,
    /// For a trigger: its table.
    pub table: Option<String>,
    /// For an event: whether it is enabled.
    pub enabled: bool,
}

/// The two schemas schema verification compares for one table, both in the destination's
/// dialect, and what the compare leaves out (see [`VerifyReader::schema_view`]).
#[derive(Clone, Debug, PartialEq)]
pub struct SchemaView {
    /// What the destination should hold.
    pub expected: TableSchema,
    /// What it holds (`None`: the table is missing).
    pub actual: Option<TableSchema>,
    /// Aspects not compared, with the reason, for the report.
    pub not_compared: Vec<String>,
}

/// Renders the statements that make a destination row match the source, in the destination's
/// dialect.
pub trait RepairDialect: Send + Sync {
    /// Session statements that must precede the repair statements (e.g. the time zone the
    /// literals are written in).
    fn preamble(&self) -> Vec<String>;

    /// Insert `row` (one value per column of `table`), or overwrite the row with its key.
    fn upsert(&self, table: &TableSchema, row: &Row) -> String;

    /// Delete the row whose `key` columns hold `values`.
    fn delete(&self, table: &TableId, key: &[String], values: &[Value]) -> String;
}

/// The ranges `points` (ascending, inside `range`) cut `range` into.
pub fn pieces(range: &KeyRange, points: &[Vec<Value>]) -> Vec<KeyRange> {
    let mut out = Vec::with_capacity(points.len() + 1);
    let mut after = range.after.clone();
    for upto in points.iter().cloned().map(Some).chain([range.upto.clone()]) {
        out.push(KeyRange {
            after: after.take(),
            upto: upto.clone(),
        });
        after = upto;
    }
    out
}
