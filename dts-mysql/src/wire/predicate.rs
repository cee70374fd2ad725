//! SQL text of [`DerivedChange`]s (foreign-key cascades, see [`dts_core::cascade`]): the
//! predicate statements a MySQL-protocol destination applies them as. Shared with the
//! AnalyticDB destination, which speaks the same SQL for these statements.
//!
//! - `CASCADE` delete: `DELETE FROM t WHERE c1 = ? AND c2 = ?`
//! - `SET NULL` / `CASCADE` update: `UPDATE t SET c1 = ?, … WHERE …`
//! - a deeper level selects its rows through the level above, read before that level is
//!   changed: `WHERE (c1, …) IN (SELECT /*+ NO_MERGE(k) */ k.r1, … FROM (SELECT r1, … FROM up
//!   WHERE …) AS k)`. The derived table lets a self-referencing table read itself in its own
//!   DELETE or UPDATE on MySQL (materialized, so no error 1093; MariaDB allows it anyway).
//!
//! Every identifier is quoted with [`quote_ident`]; every value is a bound parameter.

use crate::wire::ident::quote_ident;
use dts_core::{CascadeOp, DerivedChange, RowMatch, TableId, Value};

/// A statement with `?` placeholders and its parameters, in order.
#[derive(Clone, Debug, PartialEq)]
pub struct Statement {
    /// The SQL text.
    pub sql: String,
    /// The values bound to its placeholders.
    pub params: Vec<Value>,
}

/// How a destination names tables and which rows of a table the task owns.
pub trait Naming {
    /// The quoted name of a (destination) table.
    fn table(&self, table: &TableId) -> String;
    /// An extra `column = value` every statement on `table` must carry (e.g. the data-source
    /// column of a merged AnalyticDB table), if any.
    fn scope(&self, table: &TableId) -> Option<(String, Value)> {
        let _ = table;
        None
    }
}

/// Tables as `` `db`.`table` ``, no extra condition: a MySQL destination.
pub struct Plain;

impl Naming for Plain {
    fn table(&self, table: &TableId) -> String {
        crate::wire::ident::quote_table(table)
    }
}

/// The statement applying `change` at the destination.
pub fn derived_statement(change: &DerivedChange, naming: &dyn Naming) -> Statement {
    let mut params = Vec::new();
    let table = naming.table(change.table());
    let mut sql = match change.op {
        CascadeOp::Delete => format!("DELETE FROM {table}"),
        CascadeOp::SetNull | CascadeOp::Update => {
            let sets: Vec<String> = change
                .set
                .iter()
                .map(|(c, v)| {
                    params.push(v.clone());
                    format!("{} = ?", quote_ident(c))
                })
                .collect();
            format!("UPDATE {table} SET {}", sets.join(", "))
        }
    };
    sql.push_str(" WHERE ");
    let mut alias = 0;
    condition(
        &change.matching,
        change.table(),
        naming,
        &mut sql,
        &mut params,
        &mut alias,
    );
    Statement { sql, params }
}

fn condition(
    m: &RowMatch,
    table: &TableId,
    naming: &dyn Naming,
    sql: &mut String,
    params: &mut Vec<Value>,
    alias: &mut usize,
) {
    match m {
        RowMatch::Equals { columns, values } => {
            let parts: Vec<String> = columns
                .iter()
                .map(|c| format!("{} = ?", quote_ident(c)))
                .collect();
            sql.push_str(&parts.join(" AND "));
            params.extend(values.iter().cloned());
        }
        RowMatch::Referencing {
            columns,
            table: up,
            referenced,
            within,
        } => {
            *alias += 1;
            let k = quote_ident(&format!("dts_cascade_{alias}"));
            let list = |cols: &[String], prefix: &str| {
                cols.iter()
                    .map(|c| format!("{prefix}{}", quote_ident(c)))
                    .collect::<Vec<_>>()
                    .join(", ")
            };
            sql.push_str(&format!(
                "({}) IN (SELECT /*+ NO_MERGE({k}) */ {} FROM (SELECT {} FROM {} WHERE ",
                list(columns, ""),
                list(referenced, &format!("{k}.")),
                list(referenced, ""),
                naming.table(&up.id),
            ));
            condition(within, &up.id, naming, sql, params, alias);
            sql.push_str(&format!(") AS {k})"));
        }
    }
    if let Some((col, v)) = naming.scope(table) {
        sql.push_str(&format!(" AND {} = ?", quote_ident(&col)));
        params.push(v);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use dts_core::{CascadeCause, Column, ColumnType, RowOp, TableSchema};
    use std::sync::Arc;

    fn schema(name: &str) -> dts_core::SchemaRef {
        Arc::new(TableSchema {
            id: TableId::new("d", name),
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
        })
    }

    fn change(op: CascadeOp, matching: RowMatch, set: Vec<(String, Value)>) -> DerivedChange {
        DerivedChange {
            schema: schema("c`x"),
            constraint: "fk".into(),
            op,
            matching,
            set,
            cause: CascadeCause {
                table: TableId::new("d", "p"),
                op: RowOp::Delete,
                key: vec![],
            },
            depth: 1,
        }
    }

    #[test]
    fn levels_render_as_quoted_predicates() {
        let eq = RowMatch::Equals {
            columns: vec!["a".into(), "b`".into()],
            values: vec![Value::Int(1), Value::Int(2)],
        };
        let s = derived_statement(&change(CascadeOp::Delete, eq.clone(), vec![]), &Plain);
        assert_eq!(s.sql, "DELETE FROM `d`.`c``x` WHERE `a` = ? AND `b``` = ?");
        assert_eq!(s.params, vec![Value::Int(1), Value::Int(2)]);
        let nested = RowMatch::Referencing {
            columns: vec!["g".into()],
            table: schema("c"),
            referenced: vec!["id".into()],
            within: Box::new(eq),
        };
        let s = derived_statement(
            &change(CascadeOp::SetNull, nested, vec![("g".into(), Value::Null)]),
            &Plain,
        );
        assert_eq!(
            s.sql,
            "UPDATE `d`.`c``x` SET `g` = ? WHERE (`g`) IN (SELECT /*+ NO_MERGE(`dts_cascade_1`) */ \
             `dts_cascade_1`.`id` FROM (SELECT `id` FROM `d`.`c` WHERE `a` = ? AND `b``` = ?) AS \
             `dts_cascade_1`)"
        );
        assert_eq!(s.params, vec![Value::Null, Value::Int(1), Value::Int(2)]);
    }
}
