//! The ETL hook (the guide's "Configure ETL"): a user-supplied transform over each row change,
//! applied after selection and mapping and before any sink sees the change. It may modify a
//! change, drop it (return nothing) or split it (return several).

use crate::change::RowChange;

/// A transform over row changes. Full-sync rows pass through it as INSERT changes; of what it
/// returns for such a row, only INSERTs into the same destination table are written (a full
/// sync copies one table at a time), while in incremental write every returned change is
/// written, whatever its table or kind.
///
/// This is the code-level ETL of the guide's "Configure ETL": the task file's
/// `[advanced.etl]` (the guide's script language) is refused at precheck by the builders in
/// `dts-mysql::from_config`; a host program installs a transform with
/// [`Task::with_etl`](crate::Task::with_etl) instead (see `examples/etl.rs`).
///
/// Implementations must be deterministic: a change replayed after a restart must transform the
/// same way, or the destination will not converge.
pub trait Etl: Send + Sync {
    /// The changes to write instead of `change` (empty: drop it).
    fn transform(&self, change: RowChange) -> Vec<RowChange>;
}

impl<F> Etl for F
where
    F: Fn(RowChange) -> Vec<RowChange> + Send + Sync,
{
    fn transform(&self, change: RowChange) -> Vec<RowChange> {
        self(change)
    }
}
