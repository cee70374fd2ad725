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
//! ```text
//! Verifier::run(targets)            full (row count | sampled) + schema, alerts → VerificationReport
//! Verifier::repair_sql(report)      upserts / deletes in the destination's dialect
//! IncrementalVerifier + VerifyingSink   re-read applied keys after a settle delay, within a lag window
//! start::wait_for_start(handle)     the guide's start rule
//! ```

pub mod full;
pub mod incremental;
pub mod keys;
pub mod plan;
pub mod report;
pub mod schema_check;
pub mod side;
pub mod start;

pub use full::{chunk_sampled, FullOptions, Verifier, VerifyTarget};
pub use incremental::{
    IncrementalInconsistency, IncrementalOptions, IncrementalReport, IncrementalVerifier,
    VerifyingSink,
};
pub use plan::TablePlan;
pub use report::{DiffKind, Difference, SchemaDifference, TableReport, VerificationReport};
pub use side::{ChunkSum, KeyRange, RepairDialect, RowDigest, SideTable, VerifyReader};
