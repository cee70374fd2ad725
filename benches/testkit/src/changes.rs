//! A small table and the transactions, row changes and checkpoints sink tests build over it.

use dts_core::{
    Change, Checkpoint, Column, ColumnType, Fragment, Index, Position, Row, RowChange, RowOp,
    SchemaRef, TableId, TableSchema, Transaction, Value,
};
use std::sync::Arc;

/// A table `(id INT PRIMARY KEY, v VARCHAR(20))` of `database`, or the same without a key.
pub fn small_schema(database: &str, table: &str, keyed: bool) -> SchemaRef {
    let mut id = Column::new(
        "id",
        ColumnType::Integer {
            bytes: 4,
            unsigned: false,
        },
        "int(11)",
    );
    id.nullable = !keyed;
    Arc::new(TableSchema {
        id: TableId::new(database, table),
        columns: vec![
            id,
            Column::new("v", ColumnType::VarChar { length: 20 }, "varchar(20)"),
        ],
        primary_key: if keyed { vec!["id".into()] } else { vec![] },
        unique_keys: Vec::<Index>::new(),
        indexes: vec![],
        create_sql: None,
        constraints: Default::default(),
    })
}

/// A row of [`small_schema`].
pub fn small_row(id: i64, v: &str) -> Row {
    vec![Value::Int(id), Value::Text(v.into())]
}

/// A transaction at `bin.000001:offset` (it ends where the next at `offset + 100` begins), with
/// MariaDB GTID `0-1-<offset>`.
pub fn txn(offset: u64, changes: Vec<Change>) -> Transaction {
    Transaction {
        begin: Position::new("bin.000001", offset),
        end: Position::new("bin.000001", offset + 100),
        gtid: Some(format!("0-1-{offset}")),
        commit_time_ms: 1_700_000_000_000 + offset,
        changes,
        fragment: Fragment::WHOLE,
    }
}

/// The checkpoint after a transaction.
pub fn checkpoint_after(t: &Transaction) -> Checkpoint {
    Checkpoint {
        position: t.end.clone(),
        last_gtid: t.gtid.clone(),
        commit_time_ms: t.commit_time_ms,
        applied_in_transaction: 0,
    }
}

/// An insert of `row`.
pub fn insert(schema: &SchemaRef, row: Row) -> Change {
    Change::Row(RowChange {
        schema: schema.clone(),
        op: RowOp::Insert,
        before: None,
        after: Some(row),
    })
}

/// An update from `before` to `after`.
pub fn update(schema: &SchemaRef, before: Row, after: Row) -> Change {
    Change::Row(RowChange {
        schema: schema.clone(),
        op: RowOp::Update,
        before: Some(before),
        after: Some(after),
    })
}

/// A delete of `before`.
pub fn delete(schema: &SchemaRef, before: Row) -> Change {
    Change::Row(RowChange {
        schema: schema.clone(),
        op: RowOp::Delete,
        before: Some(before),
        after: None,
    })
}
