//! The ETL hook (the guide's "Configure ETL"): a user-supplied transform over each row change,
//! applied after selection and mapping and before any sink sees the change. It may modify a
//! change, drop it (return nothing) or split it (return several).

use crate::change::RowChange;

/// A transform over row changes. Full-sync rows pass through it as INSERT changes.
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
