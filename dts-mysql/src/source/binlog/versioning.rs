//! MariaDB system-versioned tables (`WITH SYSTEM VERSIONING`) in the binlog.
//!
//! The table map of a versioned table carries two more columns than the table shows: the
//! implicit period columns `row_start` and `row_end`, after the visible ones. The server logs
//! every change of the current rows together with the history it keeps:
//!
//! | statement | rows events | current rows |
//! |---|---|---|
//! | INSERT | insert, `row_end` = the maximum | insert |
//! | UPDATE | update of the current row (new `row_start`), insert of a history row (`row_end` = now) | update |
//! | DELETE | update of the current row setting `row_end` = now (it becomes history) | delete |
//! | DELETE HISTORY | deletes of history rows | nothing |
//!
//! The destination table is created `WITH SYSTEM VERSIONING` too and keeps its own history of
//! the changes the task writes (the precheck says so): the reader therefore passes on the
//! changes of the *current* rows, with the visible columns only.

use dts_core::{Change, Column, ColumnType, RowChange, RowOp, SchemaRef, TableSchema, Value};
use mysql_async::binlog::events::TableMapEvent;

/// When the table map of `visible` (a system-versioned table's schema) has the two period
/// columns after its visible ones: the schema to decode its row images with (visible columns,
/// then the period columns).
pub fn with_period_columns(visible: &TableSchema, tme: &TableMapEvent<'_>) -> Option<TableSchema> {
    if !visible.is_system_versioned() || tme.columns_count() as usize != visible.columns.len() + 2 {
        return None;
    }
    let from_map = super::table_map::schema_from_table_map(tme, Some(visible))
        .filter(|s| s.columns[..visible.columns.len()] == visible.columns[..]);
    Some(from_map.unwrap_or_else(|| {
        let mut full = visible.clone();
        for name in ["row_start", "row_end"] {
            full.columns.push(Column::new(
                name,
                ColumnType::Timestamp { fsp: 6 },
                "timestamp(6)",
            ));
        }
        full
    }))
}

/// True when a `row_end` value marks a current row: the largest value of its type (TIMESTAMP(6)
/// `2038-01-19 03:14:07.999999`, or `2106-02-07 06:28:15.999999` on servers with the wider
/// range; `BIGINT UNSIGNED` for transaction-precise versioning).
fn is_current(row_end: Option<&Value>) -> bool {
    match row_end {
        Some(Value::Timestamp(t)) => t.seconds >= i64::from(i32::MAX) && t.micros == 999_999,
        Some(Value::UInt(u)) => *u == u64::MAX,
        _ => false,
    }
}

/// The changes of the current rows among `decoded` (images with the period columns), with the
/// visible columns of `visible` only; history rows are left out.
pub fn current_rows(decoded: Vec<Change>, visible: &SchemaRef, out: &mut Vec<Change>) {
    let n = visible.columns.len();
    let cut = |row: Option<Vec<Value>>| {
        row.map(|mut r| {
            r.truncate(n);
            r
        })
    };
    for change in decoded {
        let Change::Row(r) = change else {
            out.push(change);
            continue;
        };
        let before_current = is_current(r.before.as_ref().and_then(|b| b.get(n + 1)));
        let after_current = is_current(r.after.as_ref().and_then(|a| a.get(n + 1)));
        let (op, before, after) = match r.op {
            RowOp::Insert if after_current => (RowOp::Insert, None, cut(r.after)),
            RowOp::Update if before_current && after_current => {
                (RowOp::Update, cut(r.before), cut(r.after))
            }
            RowOp::Update if before_current => (RowOp::Delete, cut(r.before), None),
            // A history row becoming current again cannot happen through SQL; as a change of
            // the current rows it is an insert.
            RowOp::Update if after_current => (RowOp::Insert, None, cut(r.after)),
            RowOp::Delete if before_current => (RowOp::Delete, cut(r.before), None),
            _ => continue, // history kept by the source only
        };
        out.push(Change::Row(RowChange {
            schema: visible.clone(),
            op,
            before,
            after,
        }));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use dts_core::{TableId, Timestamp};
    use std::sync::Arc;

    fn ts(seconds: i64, micros: u32) -> Value {
        Value::Timestamp(Timestamp { seconds, micros })
    }

    #[test]
    fn only_current_rows_pass_with_visible_columns() {
        let mut schema = TableSchema {
            id: TableId::new("d", "t"),
            columns: vec![Column::new(
                "id",
                ColumnType::Integer {
                    bytes: 4,
                    unsigned: false,
                },
                "int",
            )],
            primary_key: vec!["id".into()],
            unique_keys: vec![],
            indexes: vec![],
            create_sql: None,
            constraints: Default::default(),
        };
        schema.create_sql =
            Some("CREATE TABLE `t` (\n  `id` int\n) ENGINE=InnoDB WITH SYSTEM VERSIONING".into());
        let visible: SchemaRef = Arc::new(schema);
        let max = ts(2_147_483_647, 999_999);
        let row =
            |id: i64, start: i64, end: &Value| vec![Value::Int(id), ts(start, 0), end.clone()];
        let change = |op, before: Option<Vec<Value>>, after: Option<Vec<Value>>| {
            Change::Row(RowChange {
                schema: visible.clone(),
                op,
                before,
                after,
            })
        };
        let decoded = vec![
            change(RowOp::Insert, None, Some(row(1, 10, &max))),
            // UPDATE: the current row changes, a history row is inserted.
            change(
                RowOp::Update,
                Some(row(1, 10, &max)),
                Some(row(1, 20, &max)),
            ),
            change(RowOp::Insert, None, Some(row(1, 10, &ts(20, 0)))),
            // DELETE: the current row becomes history.
            change(
                RowOp::Update,
                Some(row(1, 20, &max)),
                Some(row(1, 20, &ts(30, 0))),
            ),
            // DELETE HISTORY.
            change(RowOp::Delete, Some(row(1, 10, &ts(20, 0))), None),
        ];
        let mut out = Vec::new();
        current_rows(decoded, &visible, &mut out);
        let ops: Vec<_> = out
            .iter()
            .map(|c| match c {
                Change::Row(r) => (r.op, r.before.clone(), r.after.clone()),
                _ => unreachable!(),
            })
            .collect();
        let one = Some(vec![Value::Int(1)]);
        assert_eq!(
            ops,
            vec![
                (RowOp::Insert, None, one.clone()),
                (RowOp::Update, one.clone(), one.clone()),
                (RowOp::Delete, one, None),
            ]
        );
    }
}
