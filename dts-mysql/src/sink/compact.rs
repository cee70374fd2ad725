//! Compaction of one worker's share of a keyed step: the fewest statements with the same end
//! state.
//!
//! Within a keyed step every change of one key of a table that is routed by key lands on the
//! same worker, in source order, and is applied there inside one destination transaction. Rows
//! of different keys of such a table cannot interact (its key compares byte-exactly at the
//! destination and it has no other unique key), so only each key's own sequence matters — and
//! because upserts carry full after images and deletes go by key, that sequence's end state is
//! decided by its last delete and the upserts after it ([`dts_core::row_plan::KeyFate`]):
//!
//! - keys whose sequence contains a delete are deleted (one `DELETE … IN (…)` per table);
//! - keys whose sequence ends with an upsert are then upserted with their last image (one
//!   multi-row upsert per table).
//!
//! Deleting before re-inserting (rather than upserting over the old row) keeps the effect of a
//! source delete + insert exact for destination columns the source does not write (defaults).
//! A busy OLTP stream (sysbench's write-only transaction touches one row four times) therefore
//! costs two statements per table and worker per step instead of one per change, and rows
//! updated many times are written once.
//!
//! Tables routed by table (text keys under a case-insensitive collation, float keys, other
//! unique keys) keep their operations in source order, untouched; so does a table that
//! appears with two different schemas in one share (never expected inside a keyed step, which
//! DDL cuts).

use super::ops::{KeyHasher, Op};
use dts_core::row_plan::KeyFate;
use dts_core::{Row, SchemaRef, TableId};
use std::collections::HashMap;
use std::sync::Arc;

/// One key of the share and what the share leaves of it.
struct KeyEntry<'a> {
    /// The first image seen with the key (its key columns identify it).
    row: &'a Row,
    fate: KeyFate<'a>,
}

/// The compactable operations of one table, keys in first-appearance order.
struct TableOps<'a> {
    schema: &'a SchemaRef,
    fates: Vec<KeyEntry<'a>>,
    /// Key hash → indexes into `fates` with that hash.
    index: HashMap<u64, Vec<usize>>,
    /// Seen under a second schema: leave the table in source order.
    mixed: bool,
}

impl<'a> TableOps<'a> {
    fn new(schema: &'a SchemaRef) -> Self {
        Self {
            schema,
            fates: Vec::new(),
            index: HashMap::new(),
            mixed: false,
        }
    }

    fn record(&mut self, keys: &[usize], row: &'a Row, delete: bool) {
        let mut h = KeyHasher::new();
        for &i in keys {
            h.value(&row[i]);
        }
        let bucket = self.index.entry(h.finish()).or_default();
        let found = bucket
            .iter()
            .copied()
            .find(|&f| keys.iter().all(|&i| self.fates[f].row[i] == row[i]));
        let f = match found {
            Some(f) => f,
            None => {
                self.fates.push(KeyEntry {
                    row,
                    fate: KeyFate::default(),
                });
                bucket.push(self.fates.len() - 1);
                self.fates.len() - 1
            }
        };
        self.fates[f].fate.record(delete, row);
    }
}

/// `ops` (one worker's share, in source order) rewritten to the same end state with deletes
/// and upserts grouped per table. `keys_of` gives the identity positions of a table whose
/// changes are routed by key, `None` for tables that must stay in source order.
pub(super) fn compact<'a, 'k>(
    ops: Vec<Op<'a>>,
    keys_of: impl Fn(&SchemaRef) -> Option<&'k [usize]>,
) -> Vec<Op<'a>> {
    let mut tables: Vec<TableOps<'a>> = Vec::new();
    let mut by_id: HashMap<&'a TableId, usize> = HashMap::new();
    // Operations that stay in order, with the table group (if any) they would have joined.
    let mut kept: Vec<(Op<'a>, Option<usize>)> = Vec::new();
    for op in ops {
        let (schema, row, delete) = match op {
            Op::Upsert(s, r) => (s, r, false),
            Op::DeleteKey(s, r) => (s, r, true),
            other => {
                kept.push((other, None));
                continue;
            }
        };
        let Some(keys) = keys_of(schema) else {
            kept.push((op, None));
            continue;
        };
        let t = *by_id.entry(&schema.id).or_insert_with(|| {
            tables.push(TableOps::new(schema));
            tables.len() - 1
        });
        let group = &mut tables[t];
        if !Arc::ptr_eq(group.schema, schema) && **group.schema != **schema {
            group.mixed = true;
        }
        group.record(keys, row, delete);
        kept.push((op, Some(t)));
    }
    let mut out: Vec<Op<'a>> = kept
        .iter()
        .filter(|(_, group)| group.is_none_or(|t| tables[t].mixed))
        .map(|(op, _)| *op)
        .collect();
    for t in tables.iter().filter(|t| !t.mixed) {
        out.extend(
            t.fates
                .iter()
                .filter(|f| f.fate.deleted)
                .map(|f| Op::DeleteKey(t.schema, f.row)),
        );
        out.extend(
            t.fates
                .iter()
                .filter_map(|f| f.fate.last_upsert.map(|r| Op::Upsert(t.schema, r))),
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use dts_core::{Column, ColumnType, TableSchema, Value};

    fn schema(table: &str) -> SchemaRef {
        let int = ColumnType::Integer {
            bytes: 4,
            unsigned: false,
        };
        Arc::new(TableSchema {
            id: TableId::new("db", table),
            columns: vec![
                Column::new("id", int.clone(), "int"),
                Column::new("v", int, "int"),
            ],
            primary_key: vec!["id".into()],
            unique_keys: vec![],
            indexes: vec![],
            create_sql: None,
            constraints: Default::default(),
        })
    }

    fn row(id: i64, v: i64) -> Row {
        vec![Value::Int(id), Value::Int(v)]
    }

    fn describe(ops: &[Op<'_>]) -> Vec<String> {
        ops.iter()
            .map(|op| match op {
                Op::Upsert(s, r) => format!("{} up {:?}/{:?}", s.id.table, r[0], r[1]),
                Op::DeleteKey(s, r) => format!("{} del {:?}", s.id.table, r[0]),
                _ => "other".into(),
            })
            .collect()
    }

    const KEYS: &[usize] = &[0];

    #[test]
    fn each_key_ends_as_its_last_delete_and_upserts_say() {
        let t = schema("t");
        let rows = [
            row(1, 10),
            row(2, 20),
            row(1, 11),
            row(3, 30),
            row(2, 21),
            row(3, 31),
            row(1, 12),
        ];
        let ops = vec![
            Op::Upsert(&t, &rows[0]),    // 1 updated …
            Op::Upsert(&t, &rows[1]),    // 2 updated
            Op::Upsert(&t, &rows[2]),    // … 1 updated again: only the last image counts
            Op::DeleteKey(&t, &rows[3]), // 3 deleted
            Op::DeleteKey(&t, &rows[4]), // 2 deleted …
            Op::Upsert(&t, &rows[5]),    // 3 re-inserted
            Op::Upsert(&t, &rows[6]),    // 1 updated a third time
        ];
        let out = compact(ops, |_| Some(KEYS));
        assert_eq!(
            describe(&out),
            [
                "t del Int(2)",
                "t del Int(3)",
                "t up Int(1)/Int(12)",
                "t up Int(3)/Int(31)",
            ]
        );
    }

    #[test]
    fn tables_routed_by_table_keep_source_order() {
        let (t, u) = (schema("t"), schema("u"));
        let rows = [row(1, 1), row(1, 2), row(1, 3)];
        let ops = vec![
            Op::Upsert(&u, &rows[0]),
            Op::DeleteKey(&u, &rows[1]),
            Op::Upsert(&t, &rows[0]),
            Op::Upsert(&u, &rows[2]),
            Op::Upsert(&t, &rows[1]),
        ];
        let out = compact(ops, |s| (s.id.table == "t").then_some(KEYS));
        assert_eq!(
            describe(&out),
            [
                "u up Int(1)/Int(1)",
                "u del Int(1)",
                "u up Int(1)/Int(3)",
                "t up Int(1)/Int(2)",
            ]
        );
    }

    #[test]
    fn a_table_under_two_schemas_is_left_alone() {
        let t = schema("t");
        let mut other = (*schema("t")).clone();
        other.columns[1].name = "w".into();
        let t2 = Arc::new(other);
        let rows = [row(1, 1), row(1, 2)];
        let ops = vec![Op::Upsert(&t, &rows[0]), Op::Upsert(&t2, &rows[1])];
        let out = compact(ops, |_| Some(KEYS));
        assert_eq!(describe(&out), ["t up Int(1)/Int(1)", "t up Int(1)/Int(2)"]);
    }
}
