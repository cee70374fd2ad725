//! Row planning, written once for every sink that identifies destination rows by a key (the
//! MySQL and AnalyticDB sinks, the Kafka sink's per-key ordering):
//!
//! - an insert is an upsert of the after image;
//! - a delete is a delete by the before image's key;
//! - an update is an upsert of the after image — preceded by a delete of the before image's
//!   key when a key column changed (the row moved to another key);
//! - several changes of one key coalesce to their end state ([`KeyFate`]): deleted if any of
//!   them deleted it, then upserted with the last upsert after the last delete.
//!
//! ```
//! use dts_core::row_plan::{KeyFate, RowPlan};
//! use dts_core::{RowOp, Value};
//!
//! let before = vec![Value::Int(1), Value::Int(10)];
//! let after = vec![Value::Int(2), Value::Int(10)];
//! // The key (column 0) changed: delete key 1, then upsert the row under key 2.
//! let plan = RowPlan::of(RowOp::Update, Some(&before), Some(&after), &[0]);
//! assert_eq!(plan.delete, Some(&before));
//! assert_eq!(plan.upsert, Some(&after));
//!
//! let mut fate = KeyFate::default();
//! fate.upsert(&after);
//! fate.delete();
//! fate.upsert(&before);
//! assert!(fate.deleted);
//! assert_eq!(fate.last_upsert, Some(&before));
//! ```

use crate::{RowChange, RowOp, Value};

/// Whether any of the `key` columns differ between two images of a row.
pub fn key_changed(before: &[Value], after: &[Value], key: &[usize]) -> bool {
    key.iter().any(|&i| before.get(i) != after.get(i))
}

/// The writes of one row change to a destination that identifies rows by a key: first delete
/// the row with `delete`'s key (the before image), then upsert `upsert` (the after image).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RowPlan<'a, R: ?Sized = Vec<Value>> {
    /// The before image whose key is deleted, when the change removes that key.
    pub delete: Option<&'a R>,
    /// The after image to insert or replace, when the change leaves a row.
    pub upsert: Option<&'a R>,
}

impl<'a, R: AsRef<[Value]> + ?Sized> RowPlan<'a, R> {
    /// The plan of a change with operation `op` and the images given (see the module
    /// documentation); `key` holds the key column positions. An update without a before image
    /// is an upsert only.
    pub fn of(op: RowOp, before: Option<&'a R>, after: Option<&'a R>, key: &[usize]) -> Self {
        match op {
            RowOp::Insert => RowPlan {
                delete: None,
                upsert: after,
            },
            RowOp::Delete => RowPlan {
                delete: before,
                upsert: None,
            },
            RowOp::Update => RowPlan {
                delete: match (before, after) {
                    (Some(b), Some(a)) if key_changed(b.as_ref(), a.as_ref(), key) => Some(b),
                    (Some(b), None) => Some(b),
                    _ => None,
                },
                upsert: after,
            },
        }
    }

    /// True when the change moves a row from one key to another (a delete and an upsert of
    /// different keys).
    pub fn moves_key(&self) -> bool {
        self.delete.is_some() && self.upsert.is_some()
    }
}

impl<'a> RowPlan<'a> {
    /// The plan of `change` under the key columns `key`.
    pub fn of_change(change: &'a RowChange, key: &[usize]) -> Self {
        Self::of(
            change.op,
            change.before.as_ref(),
            change.after.as_ref(),
            key,
        )
    }
}

/// What a sequence of writes (in source order) leaves of one key.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct KeyFate<'a, R: ?Sized = Vec<Value>> {
    /// Some write deleted the key: delete it (before upserting, so columns the source does not
    /// write get their defaults as after a source delete + insert).
    pub deleted: bool,
    /// The last upsert after the last delete, if any: write it.
    pub last_upsert: Option<&'a R>,
}

impl<R: ?Sized> Default for KeyFate<'_, R> {
    fn default() -> Self {
        Self {
            deleted: false,
            last_upsert: None,
        }
    }
}

impl<'a, R: ?Sized> KeyFate<'a, R> {
    /// Records a delete of the key.
    pub fn delete(&mut self) {
        self.deleted = true;
        self.last_upsert = None;
    }

    /// Records an upsert of `row` under the key.
    pub fn upsert(&mut self, row: &'a R) {
        self.last_upsert = Some(row);
    }

    /// Records a delete of the key (`delete`) or an upsert of `row` under it.
    pub fn record(&mut self, delete: bool, row: &'a R) {
        if delete {
            self.delete();
        } else {
            self.upsert(row);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(k: i64, v: i64) -> Vec<Value> {
        vec![Value::Int(k), Value::Int(v)]
    }

    #[test]
    fn plans_by_operation() {
        let (b, a) = (row(1, 1), row(1, 2));
        let insert = RowPlan::of(RowOp::Insert, None, Some(&a), &[0]);
        assert_eq!((insert.delete, insert.upsert), (None, Some(&a)));
        let delete = RowPlan::of(RowOp::Delete, Some(&b), None, &[0]);
        assert_eq!((delete.delete, delete.upsert), (Some(&b), None));
        // Same key: an upsert of the after image only.
        let update = RowPlan::of(RowOp::Update, Some(&b), Some(&a), &[0]);
        assert_eq!((update.delete, update.upsert), (None, Some(&a)));
        assert!(!update.moves_key());
        // Key change: delete then upsert.
        let moved = row(2, 2);
        let update = RowPlan::of(RowOp::Update, Some(&b), Some(&moved), &[0]);
        assert_eq!((update.delete, update.upsert), (Some(&b), Some(&moved)));
        assert!(update.moves_key());
        // A change of a non-key column under a composite key does not move it.
        assert!(!key_changed(&b, &a, &[0]));
        assert!(key_changed(&b, &a, &[0, 1]));
        // Slices work as images too.
        let s: RowPlan<'_, [Value]> =
            RowPlan::of(RowOp::Update, Some(&b[..]), Some(&moved[..]), &[0]);
        assert!(s.moves_key());
    }

    #[test]
    fn fates_keep_the_end_state() {
        let (r1, r2) = (row(1, 1), row(1, 2));
        let mut f = KeyFate::default();
        f.upsert(&r1);
        f.upsert(&r2);
        assert_eq!(
            f,
            KeyFate {
                deleted: false,
                last_upsert: Some(&r2)
            }
        );
        f.delete();
        assert_eq!(
            f,
            KeyFate {
                deleted: true,
                last_upsert: None
            }
        );
        f.record(false, &r1);
        assert_eq!(
            f,
            KeyFate {
                deleted: true,
                last_upsert: Some(&r1)
            }
        );
    }
}
