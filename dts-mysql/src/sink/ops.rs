//! The MySQL sink's vocabulary of writes, shared by planning ([`super::apply`]), compaction
//! ([`super::compact`]) and conflict detection ([`super::conflict`]): the session a write goes
//! through, one planned write ([`Op`]), and the stable key hash that routes keyed writes to
//! workers.

use dts_core::{DerivedChange, Error, Result, Row, RowChange, SchemaRef, TableSchema, Value};
use mysql_async::prelude::Queryable;
use mysql_async::Conn;
use std::sync::Arc;

/// The (absent) row image of a derived change.
static NO_ROW: Row = Vec::new();

pub(super) fn same_schema(a: &SchemaRef, b: &SchemaRef) -> bool {
    Arc::ptr_eq(a, b) || **a == **b
}

/// A connection or transaction the sink writes through.
pub(super) trait Session: Queryable + Send {
    /// Warnings of the last statement.
    fn warnings(&self) -> u16;
    /// Rows affected by the last statement.
    fn affected(&self) -> u64;
}

impl Session for Conn {
    fn warnings(&self) -> u16 {
        self.get_warnings()
    }
    fn affected(&self) -> u64 {
        self.affected_rows()
    }
}

impl Session for mysql_async::Transaction<'_> {
    fn warnings(&self) -> u16 {
        self.get_warnings()
    }
    fn affected(&self) -> u64 {
        self.affected_rows()
    }
}

/// One write, before merging with its neighbours.
#[derive(Clone, Copy, Debug)]
pub(super) enum Op<'a> {
    /// Insert-or-replace the image of a keyed table.
    Upsert(&'a SchemaRef, &'a Row),
    /// Delete by the identity values of the image.
    DeleteKey(&'a SchemaRef, &'a Row),
    /// Exact insert (key-less table).
    Insert(&'a SchemaRef, &'a Row),
    /// Delete one row equal to the image (key-less table).
    DeleteExact(&'a SchemaRef, &'a Row),
    /// Update one row equal to the before image (key-less table).
    UpdateExact(&'a SchemaRef, &'a Row, &'a Row),
    /// Per-row path with conflict detection.
    Checked(&'a RowChange),
    /// A foreign-key cascade's predicate change (see [`crate::wire::predicate`]).
    Derived(&'a DerivedChange),
}

impl Op<'_> {
    pub(super) fn schema(&self) -> &SchemaRef {
        match self {
            Op::Upsert(s, _)
            | Op::DeleteKey(s, _)
            | Op::Insert(s, _)
            | Op::DeleteExact(s, _)
            | Op::UpdateExact(s, _, _) => s,
            Op::Checked(c) => &c.schema,
            Op::Derived(d) => &d.schema,
        }
    }

    pub(super) fn row(&self) -> &Row {
        match self {
            Op::Upsert(_, r) | Op::DeleteKey(_, r) | Op::Insert(_, r) | Op::DeleteExact(_, r) => r,
            Op::UpdateExact(_, _, a) => a,
            Op::Checked(c) => c
                .after
                .as_ref()
                .or(c.before.as_ref())
                .expect("checked image"),
            Op::Derived(_) => &NO_ROW,
        }
    }

    /// Whether `next` may share a multi-row statement with `self`.
    pub(super) fn merges_with(&self, next: &Op<'_>) -> bool {
        let same_kind = matches!(
            (self, next),
            (Op::Upsert(..), Op::Upsert(..))
                | (Op::DeleteKey(..), Op::DeleteKey(..))
                | (Op::Insert(..), Op::Insert(..))
                | (Op::Checked(..), Op::Checked(..))
        );
        same_kind && same_schema(self.schema(), next.schema())
    }
}

/// FNV-1a with a final mix, stable across runs and platforms.
pub(super) struct KeyHasher(u64);

impl KeyHasher {
    pub(super) fn new() -> Self {
        KeyHasher(0xcbf2_9ce4_8422_2325)
    }

    pub(super) fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 ^= u64::from(*b);
            self.0 = self.0.wrapping_mul(0x0000_0100_0000_01b3);
        }
    }

    pub(super) fn finish(&self) -> u64 {
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    pub(super) fn value(&mut self, v: &Value) {
        match v {
            Value::Null => self.write(&[0]),
            Value::Int(i) => {
                self.write(&[1]);
                self.write(&i.to_le_bytes());
            }
            Value::UInt(u) | Value::Bit(u) => {
                self.write(&[2]);
                self.write(&u.to_le_bytes());
            }
            // PAD SPACE collations ignore trailing spaces: hash what they compare.
            Value::Text(s) => {
                self.write(&[3]);
                self.write(s.trim_end_matches(' ').as_bytes());
            }
            Value::Decimal(s) | Value::Enum(s) | Value::Json(s) => {
                self.write(&[4]);
                self.write(s.as_bytes());
            }
            Value::Bytes(b) | Value::Geometry(b) => {
                self.write(&[5]);
                self.write(b);
            }
            other => {
                self.write(&[6]);
                self.write(format!("{other:?}").as_bytes());
            }
        }
        self.write(&[0xff]);
    }
}

/// Identity positions of a table, checked.
pub(super) fn key_indexes(schema: &TableSchema) -> Result<Option<Vec<usize>>> {
    let Some(cols) = schema.identity_columns() else {
        return Ok(None);
    };
    let idx = schema.identity_indexes().unwrap_or_default();
    if idx.len() != cols.len() {
        return Err(Error::Schema {
            table: schema.id.clone(),
            message: format!("identity columns {cols:?} are not all in the table"),
        });
    }
    Ok(Some(idx))
}
