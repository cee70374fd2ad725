//! Conflict detection outcomes and the policies that resolve them (the guide's "Global Conflict
//! Resolution Policy").

use crate::change::{Row, RowChange};
use crate::schema::TableId;

/// The conflict types the guide names.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ConflictKind {
    /// An INSERT hit an existing row with the same primary or unique key.
    DuplicateKeyOnInsert,
    /// An UPDATE found no row to update at the destination.
    UpdateMissingRow,
    /// An UPDATE found its row, but the destination's row differs from the incoming before
    /// image: both sides changed it (the guide's "UPDATE records not fully matched").
    UpdateRowChanged,
    /// An UPDATE's new key collides with another existing row.
    UpdateKeyCollision,
    /// A DELETE found no row to delete (always ignored, whatever the policy).
    DeleteMissingRow,
}

/// One detected conflict, with both sides.
#[derive(Clone, Debug)]
pub struct Conflict<'a> {
    /// Destination table.
    pub table: &'a TableId,
    /// What kind of conflict.
    pub kind: ConflictKind,
    /// The incoming change from the source.
    pub incoming: &'a RowChange,
    /// The destination's row that conflicts, when it could be read.
    pub existing: Option<&'a Row>,
}

/// What to do about a conflict.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Resolution {
    /// Overwrite the destination's row with the incoming change.
    Overwrite,
    /// Keep the destination's row and skip the incoming change.
    Ignore,
    /// Stop the task with status Failed.
    Fail,
}

/// Decides how a conflict is resolved. Called by sinks that detect conflicts; must be cheap and
/// deterministic. A `DeleteMissingRow` conflict is ignored by sinks before any policy is asked.
pub trait ConflictPolicy: Send + Sync {
    /// The resolution for one conflict.
    fn resolve(&self, conflict: &Conflict<'_>) -> Resolution;
}

/// "Overwrite": the conflicting destination record is overwritten.
#[derive(Clone, Copy, Debug, Default)]
pub struct OverwritePolicy;

impl ConflictPolicy for OverwritePolicy {
    fn resolve(&self, _: &Conflict<'_>) -> Resolution {
        Resolution::Overwrite
    }
}

/// "TaskFailed": an error is reported and the task stops.
#[derive(Clone, Copy, Debug, Default)]
pub struct TaskFailedPolicy;

impl ConflictPolicy for TaskFailedPolicy {
    fn resolve(&self, _: &Conflict<'_>) -> Resolution {
        Resolution::Fail
    }
}

/// "Ignore": the destination record is kept and the incoming statement skipped.
#[derive(Clone, Copy, Debug, Default)]
pub struct IgnorePolicy;

impl ConflictPolicy for IgnorePolicy {
    fn resolve(&self, _: &Conflict<'_>) -> Resolution {
        Resolution::Ignore
    }
}
