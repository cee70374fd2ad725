//! A user-defined two-way conflict policy: the row with the newest `updated_at` wins.

use dts_core::{Conflict, ConflictKind, ConflictPolicy, Resolution, Row, Value};

/// Resolves a conflict by comparing a timestamp column of the incoming image and of the
/// destination's row: the incoming change overwrites only when it is strictly newer, so both
/// sides of a two-way pair keep the same winner and converge. A tie keeps the destination's
/// row on both sides, which can leave them different: give each side's writes distinct times
/// (microsecond `TIMESTAMP(6)` makes ties rare).
#[derive(Clone, Debug)]
pub struct NewestUpdatedAtWins {
    /// The column holding the last-change time (`TIMESTAMP` or `DATETIME`).
    pub column: String,
}

impl Default for NewestUpdatedAtWins {
    fn default() -> Self {
        Self {
            column: "updated_at".into(),
        }
    }
}

/// Whether `a` is strictly later than `b` (`None` when either is NULL or not a time).
fn later(a: &Value, b: &Value) -> Option<bool> {
    match (a, b) {
        (Value::Timestamp(x), Value::Timestamp(y)) => Some(x > y),
        (Value::DateTime(x), Value::DateTime(y)) => Some(x > y),
        _ => None,
    }
}

impl NewestUpdatedAtWins {
    fn value<'r>(&self, conflict: &Conflict<'_>, row: &'r Row) -> Option<&'r Value> {
        row.get(conflict.incoming.schema.column_index(&self.column)?)
    }
}

impl ConflictPolicy for NewestUpdatedAtWins {
    fn resolve(&self, conflict: &Conflict<'_>) -> Resolution {
        let Some(existing) = conflict.existing else {
            // Nothing to compare with (an update of a row the destination lacks): apply it.
            return Resolution::Overwrite;
        };
        if conflict.kind == ConflictKind::DeleteMissingRow {
            return Resolution::Ignore;
        }
        let incoming = conflict
            .incoming
            .after
            .as_ref()
            .and_then(|r| self.value(conflict, r));
        let current = self.value(conflict, existing);
        match (incoming, current) {
            (Some(a), Some(b)) if later(a, b) == Some(true) => Resolution::Overwrite,
            (Some(a), Some(Value::Null)) if !a.is_null() => Resolution::Overwrite,
            _ => Resolution::Ignore,
        }
    }
}
