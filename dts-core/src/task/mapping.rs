//! Applying the task's [`Filter`] to captured changes: selection, names, column subsets, DML
//! choice, row conditions (an UPDATE that moves into the condition becomes an INSERT, one that
//! moves out a DELETE), and transforms. Shared by every destination.

use crate::cascade::{CascadeGraph, DerivedChange, RowMatch};
use crate::change::{Change, Ddl, Row, RowChange, RowOp, Transaction};
use crate::error::{Error, Result};
use crate::filter::{Filter, TableRoute};
use crate::schema::{SchemaRef, TableId, TableSchema};
use std::collections::HashMap;
use std::sync::Arc;

/// The destination name of column `name` of `schema` under `routed`, or an error naming the
/// constraint when the column is not synchronized.
fn dest_column(
    schema: &TableSchema,
    routed: &Routed,
    name: &str,
    constraint: &str,
) -> Result<String> {
    let missing = || Error::Schema {
        table: schema.id.clone(),
        message: format!(
            "column `{name}` of foreign key `{constraint}` is not synchronized, so the rows \
             its cascade changes cannot be found at the destination; include the column in \
             the column selection"
        ),
    };
    let idx = schema.column_index(name).ok_or_else(missing)?;
    match &routed.route.columns {
        None => Ok(routed.destination.columns[idx].name.clone()),
        Some(cols) => cols
            .iter()
            .find(|(i, _)| *i == idx)
            .map(|(_, n)| n.clone())
            .ok_or_else(missing),
    }
}

/// A source schema's destination: its route and the destination schema.
#[derive(Clone, Debug)]
pub struct Routed {
    /// How the table is synchronized.
    pub route: Arc<TableRoute>,
    /// The table at the destination.
    pub destination: SchemaRef,
}

/// Caches routes per source schema version (a DDL yields a new `SchemaRef`).
pub struct Mapper {
    filter: Arc<dyn Filter>,
    etl: Option<Arc<dyn super::Etl>>,
    cascades: Option<Arc<CascadeGraph>>,
    cache: HashMap<usize, (SchemaRef, Option<Routed>)>,
}

impl Mapper {
    /// A mapper applying `filter`.
    pub fn new(filter: Arc<dyn Filter>) -> Self {
        Self {
            filter,
            etl: None,
            cascades: None,
            cache: HashMap::new(),
        }
    }

    /// Derives foreign-key cascades of the source's row changes with `graph` (`None`: none).
    pub fn set_cascades(&mut self, graph: Option<Arc<CascadeGraph>>) {
        self.cascades = graph.filter(|g| !g.is_empty());
    }

    /// Also runs mapped row changes through an ETL transform.
    pub fn with_etl(mut self, etl: Option<Arc<dyn super::Etl>>) -> Self {
        self.etl = etl;
        self
    }

    /// The route of a source schema, if selected.
    pub fn route(&mut self, schema: &SchemaRef) -> Option<Routed> {
        let key = Arc::as_ptr(schema) as usize;
        if let Some((_, routed)) = self.cache.get(&key) {
            return routed.clone();
        }
        if self.cache.len() > 10_000 {
            self.cache.clear();
        }
        let routed = self.filter.route(schema).map(|route| Routed {
            destination: Arc::new(route.destination_schema(schema)),
            route: Arc::new(route),
        });
        self.cache.insert(key, (schema.clone(), routed.clone()));
        routed
    }

    fn image(&self, schema: &TableSchema, routed: &Routed, row: Row) -> Row {
        let mut out = routed.route.project_row(row);
        self.filter.transform_row(schema, &mut out);
        out
    }

    /// Maps one row change, or drops it.
    pub fn map_row(&mut self, change: RowChange) -> Option<RowChange> {
        let routed = self.route(&change.schema)?;
        let accept = |row: &Option<Row>| {
            row.as_ref()
                .is_some_and(|r| self.filter.accept_row(&change.schema, r))
        };
        let op = match change.op {
            RowOp::Update => match (accept(&change.before), accept(&change.after)) {
                (true, true) => RowOp::Update,
                (false, true) => RowOp::Insert,
                (true, false) => RowOp::Delete,
                (false, false) => return None,
            },
            RowOp::Insert if !accept(&change.after) => return None,
            RowOp::Delete if !accept(&change.before) => return None,
            op => op,
        };
        if !routed.route.dml.allows(op) {
            return None;
        }
        let (before, after) = match op {
            RowOp::Insert => (None, change.after),
            RowOp::Delete => (change.before, None),
            RowOp::Update => (change.before, change.after),
        };
        let schema = change.schema.clone();
        Some(RowChange {
            schema: routed.destination.clone(),
            op,
            before: before.map(|r| self.image(&schema, &routed, r)),
            after: after.map(|r| self.image(&schema, &routed, r)),
        })
    }

    /// Maps a derived change to destination names, or drops it: the table (and every table its
    /// match reads through) must be selected, and the table's DML selection must allow the
    /// operation (deletes for CASCADE deletes, updates for SET NULL and CASCADE updates). Fails
    /// when the columns it compares or sets are not synchronized (the destination could not
    /// find the rows).
    pub fn map_derived(&mut self, change: DerivedChange) -> Result<Option<DerivedChange>> {
        let Some(routed) = self.route(&change.schema) else {
            return Ok(None);
        };
        if !routed.route.dml.allows(change.op.row_op()) {
            return Ok(None);
        }
        let Some(matching) =
            self.map_match(&change.schema, &routed, change.matching, &change.constraint)?
        else {
            return Ok(None);
        };
        let set = change
            .set
            .into_iter()
            .map(|(c, v)| {
                Ok((
                    dest_column(&change.schema, &routed, &c, &change.constraint)?,
                    v,
                ))
            })
            .collect::<Result<Vec<_>>>()?;
        let cause = change.cause;
        Ok(Some(DerivedChange {
            schema: routed.destination.clone(),
            constraint: change.constraint,
            op: change.op,
            matching,
            set,
            cause,
            depth: change.depth,
        }))
    }

    fn map_match(
        &mut self,
        schema: &SchemaRef,
        routed: &Routed,
        m: RowMatch,
        constraint: &str,
    ) -> Result<Option<RowMatch>> {
        let cols = |cols: Vec<String>| -> Result<Vec<String>> {
            cols.iter()
                .map(|c| dest_column(schema, routed, c, constraint))
                .collect()
        };
        Ok(Some(match m {
            RowMatch::Equals { columns, values } => RowMatch::Equals {
                columns: cols(columns)?,
                values,
            },
            RowMatch::Referencing {
                columns,
                table,
                referenced,
                within,
            } => {
                let columns = cols(columns)?;
                let Some(up) = self.route(&table) else {
                    return Ok(None);
                };
                let referenced = referenced
                    .iter()
                    .map(|c| dest_column(&table, &up, c, constraint))
                    .collect::<Result<Vec<_>>>()?;
                let Some(within) = self.map_match(&table, &up, *within, constraint)? else {
                    return Ok(None);
                };
                RowMatch::Referencing {
                    columns,
                    table: up.destination.clone(),
                    referenced,
                    within: Box::new(within),
                }
            }
        }))
    }

    /// Maps a transaction; `skip` drops individual source row changes (e.g. of a key-less table
    /// already contained in its snapshot). Returns `None` when nothing is left.
    ///
    /// Fails when pt-online-schema-change starts on a selected table (it creates its `pt_osc_*`
    /// triggers), which the task cannot follow.
    pub fn map_transaction(
        &mut self,
        txn: Transaction,
        skip: &dyn Fn(&TableId) -> bool,
    ) -> Result<Option<Transaction>> {
        let Transaction {
            begin,
            end,
            gtid,
            commit_time_ms,
            changes,
            fragment,
        } = txn;
        let mut mapped = Vec::with_capacity(changes.len());
        for change in changes {
            match change {
                Change::Row(r) => {
                    if skip(r.table()) {
                        continue;
                    }
                    // The children InnoDB changed for this row, in source names.
                    let mut derived = match &self.cascades {
                        Some(g) if r.op != RowOp::Insert => g.derive(&r)?,
                        _ => Vec::new(),
                    };
                    if !derived.is_empty() {
                        // Name the parent as the destination knows it, when it is selected.
                        if let Some(p) = self.route(&r.schema) {
                            for d in &mut derived {
                                d.cause.table = p.destination.id.clone();
                            }
                        }
                    }
                    if let Some(r) = self.map_row(r) {
                        match &self.etl {
                            Some(etl) => {
                                mapped.extend(etl.transform(r).into_iter().map(Change::Row))
                            }
                            None => mapped.push(Change::Row(r)),
                        }
                    }
                    for d in derived {
                        if skip(d.table()) {
                            continue;
                        }
                        if let Some(d) = self.map_derived(d)? {
                            mapped.push(Change::Derived(d));
                        }
                    }
                }
                // Sources never produce derived changes; pass one through as it is.
                Change::Derived(d) => mapped.push(Change::Derived(d)),
                Change::Ddl(d) => {
                    self.refuse_unsupported(&d)?;
                    if let Some(d) = self.filter.route_ddl(&d) {
                        mapped.push(Change::Ddl(d));
                    }
                }
            }
        }
        Ok(
            (!mapped.is_empty() || !fragment.last).then_some(Transaction {
                begin,
                end,
                gtid,
                commit_time_ms,
                changes: mapped,
                fragment,
            }),
        )
    }

    /// Fails on a statement the filter cannot follow ([`Filter::ddl_problem`]) and on a
    /// pt-online-schema-change trigger created on a selected table.
    fn refuse_unsupported(&self, ddl: &Ddl) -> Result<()> {
        if let Some(problem) = self.filter.ddl_problem(ddl) {
            return Err(Error::Config(crate::config::ConfigError::invalid(
                "objects", problem,
            )));
        }
        let Some(trigger) = crate::objects::online_ddl::pt_osc_trigger(ddl) else {
            return Ok(());
        };
        match ddl.tables.iter().find(|t| self.filter.selects_table(t)) {
            Some(table) => Err(Error::Schema {
                table: table.clone(),
                message: format!(
                    "pt-online-schema-change started on this table (trigger `{trigger}`): \
                     pt-online-schema-change is not supported, its trigger-driven copy and table \
                     swap cannot be synchronized; abort it (drop its pt_osc_* triggers and \
                     _<table>_new table), make the change with ALTER TABLE or gh-ost, and \
                     restart the task"
                ),
            }),
            None => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::change::{Ddl, Fragment};
    use crate::filter::DmlOps;
    use crate::position::Position;
    use crate::schema::{Column, ColumnType};
    use crate::value::Value;

    /// Selects table `d.t`, renames it `d2.t2`, keeps rows with v >= 10, drops deletes.
    struct TestFilter;

    impl Filter for TestFilter {
        fn route(&self, table: &TableSchema) -> Option<TableRoute> {
            (table.id == TableId::new("d", "t")).then(|| TableRoute {
                destination: TableId::new("d2", "t2"),
                columns: None,
                dml: DmlOps {
                    delete: false,
                    ..DmlOps::ALL
                },
                ddl: None,
                condition: Some("v >= 10".into()),
            })
        }
        fn accept_row(&self, _: &TableSchema, row: &Row) -> bool {
            matches!(row[1], Value::Int(v) if v >= 10)
        }
        fn route_ddl(&self, _: &Ddl) -> Option<Ddl> {
            None
        }
    }

    fn schema(table: &str) -> SchemaRef {
        let int = |n: &str| {
            Column::new(
                n,
                ColumnType::Integer {
                    bytes: 4,
                    unsigned: false,
                },
                "int",
            )
        };
        Arc::new(TableSchema {
            id: TableId::new("d", table),
            columns: vec![int("id"), int("v")],
            primary_key: vec!["id".into()],
            unique_keys: vec![],
            indexes: vec![],
            create_sql: None,
            constraints: Default::default(),
        })
    }

    fn change(s: &SchemaRef, op: RowOp, before: Option<i64>, after: Option<i64>) -> RowChange {
        RowChange {
            schema: s.clone(),
            op,
            before: before.map(|v| vec![Value::Int(1), Value::Int(v)]),
            after: after.map(|v| vec![Value::Int(1), Value::Int(v)]),
        }
    }

    #[test]
    fn updates_crossing_the_condition_change_kind() {
        let s = schema("t");
        let mut m = Mapper::new(Arc::new(TestFilter));
        let into = m
            .map_row(change(&s, RowOp::Update, Some(1), Some(20)))
            .unwrap();
        assert_eq!(into.op, RowOp::Insert);
        assert!(into.before.is_none());
        assert_eq!(into.schema.id, TableId::new("d2", "t2"));
        let within = m
            .map_row(change(&s, RowOp::Update, Some(15), Some(20)))
            .unwrap();
        assert_eq!(within.op, RowOp::Update);
        // Moving out would be a delete, and deletes are not selected.
        assert!(m
            .map_row(change(&s, RowOp::Update, Some(15), Some(2)))
            .is_none());
        assert!(m
            .map_row(change(&s, RowOp::Insert, None, Some(2)))
            .is_none());
        // Unselected table.
        assert!(m
            .map_row(change(&schema("x"), RowOp::Insert, None, Some(50)))
            .is_none());
    }

    #[test]
    fn etl_can_modify_drop_and_split() {
        let s = schema("t");
        // Drops rows with v == 99, doubles v, and splits v == 50 into two rows.
        let etl = |mut c: RowChange| -> Vec<RowChange> {
            let v = match c.after.as_ref().map(|r| r[1].clone()) {
                Some(Value::Int(v)) => v,
                _ => return vec![c],
            };
            if v == 99 {
                return vec![];
            }
            c.after.as_mut().unwrap()[1] = Value::Int(v * 2);
            if v == 50 {
                let mut extra = c.clone();
                extra.after.as_mut().unwrap()[0] = Value::Int(1000);
                return vec![c, extra];
            }
            vec![c]
        };
        let mut m = Mapper::new(Arc::new(TestFilter)).with_etl(Some(Arc::new(etl)));
        let txn = Transaction {
            begin: Position::new("b.1", 4),
            end: Position::new("b.1", 100),
            gtid: None,
            commit_time_ms: 0,
            changes: vec![
                Change::Row(change(&s, RowOp::Insert, None, Some(50))),
                Change::Row(change(&s, RowOp::Insert, None, Some(99))),
                Change::Row(change(&s, RowOp::Insert, None, Some(20))),
            ],
            fragment: Fragment::WHOLE,
        };
        let out = m.map_transaction(txn, &|_| false).unwrap().unwrap();
        let values: Vec<_> = out
            .changes
            .iter()
            .map(|c| match c {
                Change::Row(r) => r.after.clone().unwrap(),
                _ => unreachable!(),
            })
            .collect();
        assert_eq!(
            values,
            vec![
                vec![Value::Int(1), Value::Int(100)],
                vec![Value::Int(1000), Value::Int(100)],
                vec![Value::Int(1), Value::Int(40)],
            ]
        );
    }

    #[test]
    fn transactions_lose_unselected_changes_and_skipped_tables() {
        let s = schema("t");
        let mut m = Mapper::new(Arc::new(TestFilter));
        let txn = Transaction {
            begin: Position::new("b.1", 4),
            end: Position::new("b.1", 100),
            gtid: None,
            commit_time_ms: 0,
            changes: vec![
                Change::Row(change(&s, RowOp::Insert, None, Some(50))),
                Change::Row(change(&schema("x"), RowOp::Insert, None, Some(50))),
            ],
            fragment: Fragment::WHOLE,
        };
        let out = m.map_transaction(txn.clone(), &|_| false).unwrap().unwrap();
        assert_eq!(out.changes.len(), 1);
        assert!(m
            .map_transaction(txn, &|t| t.table == "t")
            .unwrap()
            .is_none());
    }

    #[test]
    fn pt_online_schema_change_on_a_selected_table_fails() {
        let trigger = |table: &str| Transaction {
            begin: Position::new("b.1", 4),
            end: Position::new("b.1", 100),
            gtid: None,
            commit_time_ms: 0,
            changes: vec![Change::Ddl(Ddl {
                database: Some("d".into()),
                statement: format!(
                    "CREATE TRIGGER `pt_osc_d_{table}_ins` AFTER INSERT ON `d`.`{table}` FOR \
                     EACH ROW REPLACE INTO `d`.`_{table}_new` (`id`) VALUES (NEW.`id`)"
                ),
                kind: crate::change::DdlKind::Other,
                tables: vec![TableId::new("d", table)],
                sql_mode: None,
            })],
            fragment: Fragment::WHOLE,
        };
        // Selects database `d` only.
        let filter = crate::filter::DatabaseFilter::new(["d"]);
        let mut m = Mapper::new(Arc::new(filter));
        let e = m.map_transaction(trigger("t"), &|_| false).unwrap_err();
        let text = e.to_string();
        assert!(text.contains("d.t") || text.contains("`d`.`t`"), "{text}");
        assert!(
            text.contains("pt-online-schema-change is not supported"),
            "{text}"
        );
        assert!(!e.is_retryable());
        let mut other = trigger("t");
        if let Change::Ddl(d) = &mut other.changes[0] {
            d.tables = vec![TableId::new("elsewhere", "t")];
        }
        assert!(m.map_transaction(other, &|_| false).unwrap().is_none());
    }
}
