//! Data verification (the guide's "Configure Data Validation"): full verification by row count
//! or by sampled full-field compare, incremental verification of applied changes, schema
//! verification, with baselines, read limits, a timeout, alerts and repair SQL.
//!
//! The engine is generic over [`VerifyReader`], which a connector implements for its side:
//! server-side checksums of key-range chunks, key + digest listings inside a chunk that
//! differs, row counts and schema description. Unchanged data therefore costs one checksum
//! query per chunk and side, and only keys and digests of differing chunks are transferred.
//!
//! What is compared for each table (see [`plan`]): the synchronized columns under the route's
//! names, minus masked and generated columns, on the rows the task's WHERE filter selects, on
//! both sides. Values are compared exactly as each side stores them — connectors hash a
//! canonical byte encoding (the MySQL connector hashes the hex of each value's bytes, with
//! NULL distinct from the empty string), so a case-only change in a `_ci` column or a trailing
//! space is a difference even where the collation would call the values equal.
//!
//! Decisions worth knowing:
//! - **Sampling** picks whole chunks (exactly `sampling_percent` of them, evenly spread, see
//!   [`chunk_sampled`]), so unsampled data costs nothing, not even a scan.
//! - **Row-count mode** compares filtered `COUNT(*)`s per table: it reports the net
//!   difference as missing or extra rows and lists no keys (two missing and two extra rows
//!   cancel out), so it has nothing to repair.
//! - **Baselines** decide which kinds are reported (see [`full`]); the repair SQL follows the
//!   report, so a `source` baseline never deletes and a `destination` baseline never inserts.
//! - **Start rule**: [`start::wait_for_start`]; the task configuration keeps incremental
//!   synchronization always on, so in practice full verification starts when incremental
//!   latency first reaches zero after full data sync.
//! - **Incremental verification** only sees batches applied after it was given its table
//!   plans (from the end of full data sync on).
//!
//! ```text
//! Verifier::run(targets)            full (row count | sampled) + schema, alerts → VerificationReport
//! Verifier::repair_sql(report)      upserts / deletes in the destination's dialect
//! IncrementalVerifier + VerifyingSink   re-read applied keys after a settle delay, within a lag window
//! start::wait_for_start(handle)     the guide's start rule
//! ```

pub mod encoding;
pub mod full;
pub mod incremental;
pub mod job;
pub mod keys;
pub mod plan;
pub mod report;
pub mod schema_check;
pub mod side;
pub mod start;

pub use encoding::Encoding;
pub use full::{chunk_sampled, FullOptions, Verifier, VerifyTarget};
pub use incremental::{
    IncrementalInconsistency, IncrementalOptions, IncrementalReport, IncrementalVerifier,
    VerifyingSink,
};
pub use job::VerificationJob;
pub use plan::TablePlan;
pub use report::{DiffKind, Difference, SchemaDifference, TableReport, VerificationReport};
pub use side::{
    ChunkSum, KeyRange, ObjectOnSide, RepairDialect, RowDigest, SchemaView, SideTable, VerifyReader,
};
