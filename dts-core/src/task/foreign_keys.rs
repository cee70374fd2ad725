//! Foreign keys at the destination: the source's foreign keys between selected tables, with
//! the destination's names of both tables and their columns, created by schema sync (after the
//! full copy, see [`crate::Sink::apply_schema_for_copy`]). A foreign key whose parent table or
//! one of whose columns is not synchronized cannot be created: the precheck names it.

use super::mapping::Routed;
use crate::cascade::ForeignKey;
use crate::precheck::CheckResult;
use crate::schema::{SchemaRef, TableId, TableSchema};
use std::collections::HashMap;
use std::sync::Arc;

/// Name of the precheck finding about foreign keys that cannot be created at the destination.
pub const FOREIGN_KEYS_CHECK: &str = "objects.foreign_keys";

/// The source's foreign keys as the destination has them.
#[derive(Debug, Default)]
pub(crate) struct MappedKeys {
    /// By source child table: its foreign keys in destination names.
    pub by_child: HashMap<TableId, Vec<ForeignKey>>,
    /// One line per foreign key that is left out, naming table, key and why.
    pub skipped: Vec<String>,
}

/// The destination name of column `name` of `schema` under `routed`.
fn dest_column(schema: &TableSchema, routed: &Routed, name: &str) -> Option<String> {
    let idx = schema.column_index(name)?;
    match &routed.route.columns {
        None => routed.destination.columns.get(idx).map(|c| c.name.clone()),
        Some(cols) => cols.iter().find(|(i, _)| *i == idx).map(|(_, n)| n.clone()),
    }
}

/// Maps `fks` onto the routed `tables`; foreign keys of unselected children are not the task's.
pub(crate) fn map_foreign_keys(fks: &[ForeignKey], tables: &[(SchemaRef, Routed)]) -> MappedKeys {
    let find = |t: &TableId| tables.iter().find(|(s, _)| &s.id == t);
    let mut out = MappedKeys::default();
    for fk in fks {
        let Some((child, child_route)) = find(&fk.child) else {
            continue;
        };
        let Some((parent, parent_route)) = find(&fk.parent) else {
            out.skipped.push(format!(
                "table {}: foreign key `{}` references {}, which is not selected",
                fk.child, fk.name, fk.parent
            ));
            continue;
        };
        let child_columns: Option<Vec<String>> = fk
            .child_columns
            .iter()
            .map(|c| dest_column(child, child_route, c))
            .collect();
        let parent_columns: Option<Vec<String>> = fk
            .parent_columns
            .iter()
            .map(|c| dest_column(parent, parent_route, c))
            .collect();
        let (Some(child_columns), Some(parent_columns)) = (child_columns, parent_columns) else {
            out.skipped.push(format!(
                "table {}: foreign key `{}` (referencing {}) uses a column that is not \
                 synchronized",
                fk.child, fk.name, fk.parent
            ));
            continue;
        };
        out.by_child
            .entry(fk.child.clone())
            .or_default()
            .push(ForeignKey {
                name: fk.name.clone(),
                child: child_route.destination.id.clone(),
                child_columns,
                parent: parent_route.destination.id.clone(),
                parent_columns,
                on_update: fk.on_update,
                on_delete: fk.on_delete,
            });
    }
    out
}

impl MappedKeys {
    /// `tables` with each destination schema holding its foreign keys.
    pub(crate) fn attach(&self, tables: &mut [(SchemaRef, Routed)]) {
        for (source, routed) in tables.iter_mut() {
            let keys = self.by_child.get(&source.id).cloned().unwrap_or_default();
            if keys != routed.destination.constraints.foreign_keys {
                let mut destination = (*routed.destination).clone();
                destination.constraints.foreign_keys = keys;
                routed.destination = Arc::new(destination);
            }
        }
    }

    /// The precheck finding: a warning naming every foreign key left out, else a pass.
    pub(crate) fn check(&self, created: usize) -> CheckResult {
        if self.skipped.is_empty() {
            return CheckResult::pass(
                FOREIGN_KEYS_CHECK,
                format!(
                    "{created} foreign key(s) between selected tables, created at the \
                     destination after the full copy"
                ),
            );
        }
        CheckResult::warning(
            FOREIGN_KEYS_CHECK,
            format!(
                "{} foreign key(s) cannot be created at the destination: {}",
                self.skipped.len(),
                self.skipped.join("; ")
            ),
            format!(
                "Select the referenced tables and columns too, or acknowledge this warning \
                 (acknowledge_warnings = [\"{FOREIGN_KEYS_CHECK}\"]) to synchronize the tables \
                 without those foreign keys."
            ),
        )
    }

    /// How many foreign keys the destination gets.
    pub(crate) fn count(&self) -> usize {
        self.by_child.values().map(Vec::len).sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cascade::ReferentialAction;
    use crate::filter::TableRoute;
    use crate::schema::{Column, ColumnType};

    fn table(db: &str, name: &str, cols: &[&str]) -> SchemaRef {
        Arc::new(TableSchema {
            id: TableId::new(db, name),
            columns: cols
                .iter()
                .map(|c| Column::new(*c, ColumnType::Double, "double"))
                .collect(),
            primary_key: vec![cols[0].to_string()],
            unique_keys: vec![],
            indexes: vec![],
            create_sql: None,
            constraints: Default::default(),
        })
    }

    fn routed(s: &SchemaRef, dest: TableId, columns: Option<Vec<(usize, String)>>) -> Routed {
        let route = TableRoute {
            columns,
            ..TableRoute::identity(&dest)
        };
        Routed {
            destination: Arc::new(route.destination_schema(s)),
            route: Arc::new(route),
        }
    }

    fn fk(child: &str, parent: &str) -> ForeignKey {
        ForeignKey {
            name: format!("fk_{child}"),
            child: TableId::new("s", child),
            child_columns: vec!["parent_id".into()],
            parent: TableId::new("s", parent),
            parent_columns: vec!["id".into()],
            on_update: ReferentialAction::Cascade,
            on_delete: ReferentialAction::SetNull,
        }
    }

    #[test]
    fn maps_both_tables_and_columns_and_names_what_is_left_out() {
        let parent = table("s", "p", &["id"]);
        let child = table("s", "c", &["id", "parent_id"]);
        let other = table("s", "o", &["id", "parent_id"]);
        let tables = vec![
            (
                parent.clone(),
                routed(&parent, TableId::new("d", "parents"), None),
            ),
            (
                child.clone(),
                routed(
                    &child,
                    TableId::new("d", "children"),
                    Some(vec![(0, "id".into()), (1, "pid".into())]),
                ),
            ),
            (
                other.clone(),
                routed(&other, TableId::new("d", "o"), Some(vec![(0, "id".into())])),
            ),
        ];
        let m = map_foreign_keys(
            &[
                fk("c", "p"),
                fk("o", "p"),
                fk("c", "unselected"),
                fk("x", "p"),
            ],
            &tables,
        );
        let keys = &m.by_child[&TableId::new("s", "c")];
        assert_eq!(keys.len(), 1);
        assert_eq!(keys[0].child, TableId::new("d", "children"));
        assert_eq!(keys[0].child_columns, ["pid"]);
        assert_eq!(keys[0].parent, TableId::new("d", "parents"));
        assert_eq!(keys[0].on_delete, ReferentialAction::SetNull);
        assert_eq!(m.skipped.len(), 2, "{:?}", m.skipped);
        assert!(m.skipped[0].contains("s.o") && m.skipped[0].contains("not synchronized"));
        assert!(
            m.skipped[1].contains("table s.c: foreign key `fk_c` references s.unselected"),
            "{:?}",
            m.skipped
        );
        let check = m.check(m.count());
        assert_eq!(check.level, crate::precheck::CheckLevel::Warning);
        let mut tables = tables;
        m.attach(&mut tables);
        assert_eq!(tables[1].1.destination.constraints.foreign_keys, *keys);
        assert!(tables[0].1.destination.constraints.foreign_keys.is_empty());
    }
}
