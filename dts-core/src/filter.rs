//! The `Filter` trait: which objects and rows a task synchronizes, and under which names.

use crate::change::{Ddl, DdlKind, Row, RowOp};
use crate::schema::{Index, TableId, TableSchema};
use crate::schema_object::{GrantScope, ObjectRoute, SchemaObject};
use std::collections::BTreeSet;

/// Which DML operations of a table are synchronized.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct DmlOps {
    /// INSERT.
    pub insert: bool,
    /// UPDATE.
    pub update: bool,
    /// DELETE.
    pub delete: bool,
}

impl DmlOps {
    /// Every DML operation (the default).
    pub const ALL: DmlOps = DmlOps {
        insert: true,
        update: true,
        delete: true,
    };

    /// Whether `op` is synchronized.
    pub fn allows(&self, op: RowOp) -> bool {
        match op {
            RowOp::Insert => self.insert,
            RowOp::Update => self.update,
            RowOp::Delete => self.delete,
        }
    }
}

impl Default for DmlOps {
    fn default() -> Self {
        Self::ALL
    }
}

/// How one selected source table reaches the destination.
#[derive(Clone, Debug, PartialEq)]
pub struct TableRoute {
    /// Destination database and table name.
    pub destination: TableId,
    /// Selected columns as (source column index, destination column name), in source order;
    /// `None` means every column under its own name.
    pub columns: Option<Vec<(usize, String)>>,
    /// DML operations synchronized.
    pub dml: DmlOps,
    /// DDL kinds synchronized (`None`: all).
    pub ddl: Option<BTreeSet<DdlKind>>,
    /// Row condition (the guide's WHERE filter), in the source's SQL, pushed into full-sync reads.
    pub condition: Option<String>,
}

impl TableRoute {
    /// The route that copies a table unchanged.
    pub fn identity(table: &TableId) -> Self {
        Self {
            destination: table.clone(),
            columns: None,
            dml: DmlOps::ALL,
            ddl: None,
            condition: None,
        }
    }

    /// The destination schema for a source schema: renamed table and columns, unselected columns
    /// dropped, and keys, indexes and CHECK constraints that lose a column dropped with them
    /// (a CHECK keeps its condition with the columns renamed). Foreign keys are left to the
    /// task, which knows the routes of both tables.
    pub fn destination_schema(&self, source: &TableSchema) -> TableSchema {
        let Some(columns) = &self.columns else {
            let mut s = source.clone();
            s.id = self.destination.clone();
            s.constraints.foreign_keys.clear();
            return s;
        };
        let rename = |name: &str| -> Option<String> {
            let idx = source.column_index(name)?;
            columns
                .iter()
                .find(|(i, _)| *i == idx)
                .map(|(_, n)| n.clone())
        };
        let map_all =
            |cols: &[String]| -> Option<Vec<String>> { cols.iter().map(|c| rename(c)).collect() };
        let map_index = |ix: &Index| {
            map_all(&ix.columns).map(|columns| Index {
                columns,
                ..ix.clone()
            })
        };
        TableSchema {
            id: self.destination.clone(),
            columns: columns
                .iter()
                .map(|(i, n)| {
                    let mut c = source.columns[*i].clone();
                    c.name = n.clone();
                    c
                })
                .collect(),
            primary_key: map_all(&source.primary_key).unwrap_or_default(),
            unique_keys: source.unique_keys.iter().filter_map(map_index).collect(),
            indexes: source.indexes.iter().filter_map(map_index).collect(),
            create_sql: source.create_sql.as_deref().and_then(|sql| {
                mapped_definition(sql, |name| match source.column_index(name) {
                    None => crate::sql_idents::Rename::Keep,
                    Some(_) => match rename(name) {
                        Some(n) => crate::sql_idents::Rename::To(n),
                        None => crate::sql_idents::Rename::Refuse,
                    },
                })
            }),
            constraints: crate::schema::TableConstraints {
                checks: source
                    .constraints
                    .checks
                    .iter()
                    .filter_map(|c| {
                        let expression = crate::sql_idents::rename_identifiers(
                            &c.expression,
                            |name| match source.column_index(name) {
                                None => crate::sql_idents::Rename::Keep,
                                Some(_) => match rename(name) {
                                    Some(n) => crate::sql_idents::Rename::To(n),
                                    None => crate::sql_idents::Rename::Refuse,
                                },
                            },
                        )?;
                        Some(crate::schema::CheckConstraint {
                            name: c.name.clone(),
                            expression,
                        })
                    })
                    .collect(),
                foreign_keys: Vec::new(),
            },
        }
    }

    /// The destination row for a source row (selected columns only).
    pub fn project_row(&self, row: Row) -> Row {
        match &self.columns {
            None => row,
            Some(cols) => cols.iter().map(|(i, _)| row[*i].clone()).collect(),
        }
    }
}

/// What a destination schema with mapped columns keeps of its source's `SHOW CREATE TABLE`
/// text: the table options (engine, character set, row format, …) and the partitioning clause
/// with its columns renamed by `rename` (`Rename::Refuse` for a column that is not
/// synchronized drops the clause), without the column and index lines, which name source
/// columns. Only the `PARTITION BY` / `SUBPARTITION BY` lines name columns; partition
/// definitions name partitions and values.
fn mapped_definition(
    create_sql: &str,
    mut rename: impl FnMut(&str) -> crate::sql_idents::Rename,
) -> Option<String> {
    let (head, rest) = create_sql.rsplit_once("\n)")?;
    let first = head.lines().next()?;
    let mut lines = rest.lines();
    let options = lines.next().unwrap_or("");
    let mut partitioning = String::new();
    for line in lines {
        let by = line
            .trim_start()
            .trim_start_matches("/*!50100")
            .trim_start()
            .trim_start_matches("SUB");
        let line = if by.starts_with("PARTITION BY") {
            match crate::sql_idents::rename_identifiers(line, &mut rename) {
                Some(l) => l,
                None => {
                    partitioning.clear();
                    break;
                }
            }
        } else {
            line.to_string()
        };
        partitioning.push('\n');
        partitioning.push_str(&line);
    }
    Some(format!("{first}\n){options}{partitioning}"))
}

/// Decides which objects and rows are synchronized and how they are named at the destination.
/// Applied identically by schema sync, full sync and incremental write.
pub trait Filter: Send + Sync {
    /// The route of a source table, or `None` when it is not selected.
    fn route(&self, table: &TableSchema) -> Option<TableRoute>;

    /// Whether a row image passes the table's row condition (evaluated on incremental changes;
    /// the full sync pushes [`TableRoute::condition`] into the read instead).
    fn accept_row(&self, _table: &TableSchema, _row: &Row) -> bool {
        true
    }

    /// Rewrites a row's values in place before it is written (masking, ETL).
    fn transform_row(&self, _table: &TableSchema, _row: &mut Row) {}

    /// The DDL statement to run at the destination for a source DDL, or `None` when it is not
    /// synchronized (no selected object, or its kind is not selected).
    fn route_ddl(&self, ddl: &Ddl) -> Option<Ddl>;

    /// Whether source table `table` is selected, by name alone (used where no schema is at
    /// hand, e.g. to refuse an unsupported online schema change tool on a selected table). The
    /// default answers `true`, the conservative choice for such refusals.
    fn selects_table(&self, _table: &TableId) -> bool {
        true
    }

    /// Why a DDL statement met during incremental write cannot be followed, when it cannot
    /// (e.g. it creates a table whose destination table already belongs to another table); the
    /// task fails with this message. The default accepts every statement.
    fn ddl_problem(&self, _ddl: &Ddl) -> Option<String> {
        None
    }

    /// Problems the selection has with the source's actual tables (a listed table or column
    /// that does not exist, a column subset without the key, …), each naming the object; the
    /// precheck reports them as errors.
    fn check(&self, _tables: &[TableSchema]) -> Vec<String> {
        Vec::new()
    }

    /// What becomes of a source view, routine, trigger or event: created under destination
    /// names (its body mapped too), left for the cutover, refused with a reason, or skipped.
    /// The default synchronizes tables only.
    fn route_object(&self, _object: &SchemaObject) -> ObjectRoute {
        ObjectRoute::Skip
    }

    /// The destination scope of an account's grant, or `None` when it covers nothing selected
    /// (accounts are created with their grants on selected objects only). The default keeps
    /// none.
    fn route_grant(&self, _scope: &GrantScope) -> Option<GrantScope> {
        None
    }
}

/// Database names that hold the server's own tables and are never synchronized.
pub const SYSTEM_DATABASES: [&str; 4] =
    ["mysql", "information_schema", "performance_schema", "sys"];

/// Selects whole databases by exact name, every table under its own name.
#[derive(Clone, Debug, Default)]
pub struct DatabaseFilter {
    databases: BTreeSet<String>,
}

impl DatabaseFilter {
    /// A filter selecting every table of the named databases.
    pub fn new<I, S>(databases: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        Self {
            databases: databases.into_iter().map(Into::into).collect(),
        }
    }
}

impl Filter for DatabaseFilter {
    fn selects_table(&self, table: &TableId) -> bool {
        self.databases.contains(&table.database)
    }

    /// Views, procedures and functions of the selected databases are created under their own
    /// names (a view only when everything it reads is selected); triggers are left to the
    /// cutover (the guide's default, `manual`); events are not synchronized (the guide's
    /// default).
    fn route_object(&self, object: &SchemaObject) -> ObjectRoute {
        use crate::schema_object::ObjectKind;
        if !self.databases.contains(&object.database) {
            return ObjectRoute::Skip;
        }
        match object.kind {
            ObjectKind::Event => ObjectRoute::Skip,
            ObjectKind::Trigger => ObjectRoute::Cutover(object.clone()),
            ObjectKind::View => {
                let reads = match crate::objects::read_body(
                    &object.definition,
                    &object.database,
                    None,
                    None,
                ) {
                    Ok((found, _)) => found.tables,
                    Err(e) => return ObjectRoute::Refused(format!("{}: {e}", object.label())),
                };
                let own = object.id();
                let reads: Vec<TableId> = reads.into_iter().filter(|t| t != &own).collect();
                if let Some(t) = reads.iter().find(|t| !self.databases.contains(&t.database)) {
                    return ObjectRoute::Refused(format!(
                        "{} reads {t}, which is not selected",
                        object.label()
                    ));
                }
                ObjectRoute::Create(SchemaObject {
                    reads,
                    ..object.clone()
                })
            }
            _ => ObjectRoute::Create(object.clone()),
        }
    }

    fn route(&self, table: &TableSchema) -> Option<TableRoute> {
        self.databases
            .contains(&table.id.database)
            .then(|| TableRoute::identity(&table.id))
    }

    /// Table DDL passes when every table it names is in a selected database; database DDL when
    /// its session database is selected; statements that touch no table (views, grants, …)
    /// are not synchronized by this filter.
    fn route_ddl(&self, ddl: &Ddl) -> Option<Ddl> {
        let selected = if ddl.tables.is_empty() {
            matches!(
                ddl.kind,
                DdlKind::CreateDatabase | DdlKind::DropDatabase | DdlKind::AlterDatabase
            ) && ddl_database_name(&ddl.statement).is_some_and(|d| self.databases.contains(&d))
        } else {
            ddl.tables
                .iter()
                .all(|t| self.databases.contains(&t.database))
        };
        selected.then(|| ddl.clone())
    }
}

/// The database a `CREATE/DROP/ALTER DATABASE|SCHEMA [IF [NOT] EXISTS] name` statement names.
pub fn ddl_database_name(statement: &str) -> Option<String> {
    let mut words = statement.split_whitespace();
    words.find(|w| w.eq_ignore_ascii_case("database") || w.eq_ignore_ascii_case("schema"))?;
    let name =
        words.find(|w| !["if", "not", "exists"].contains(&w.to_ascii_lowercase().as_str()))?;
    let name = name.trim_end_matches(';');
    Some(
        match name.strip_prefix('`').and_then(|n| n.strip_suffix('`')) {
            Some(inner) => inner.replace("``", "`"),
            None => name.to_string(),
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::{Column, ColumnType};
    use crate::value::Value;

    fn schema() -> TableSchema {
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
        TableSchema {
            id: TableId::new("src", "t"),
            columns: vec![int("id"), int("a"), int("b")],
            primary_key: vec!["id".into()],
            unique_keys: vec![Index {
                name: "ua".into(),
                columns: vec!["a".into()],
                unique: true,
            }],
            indexes: vec![Index {
                name: "ib".into(),
                columns: vec!["b".into()],
                unique: false,
            }],
            create_sql: Some("CREATE TABLE t".into()),
            constraints: Default::default(),
        }
    }

    #[test]
    fn column_subset_renames_and_drops_keys() {
        let route = TableRoute {
            destination: TableId::new("dst", "t2"),
            columns: Some(vec![(0, "ID".into()), (2, "B2".into())]),
            ..TableRoute::identity(&TableId::new("src", "t"))
        };
        let d = route.destination_schema(&schema());
        assert_eq!(d.id, TableId::new("dst", "t2"));
        assert_eq!(d.columns.len(), 2);
        assert_eq!(d.primary_key, vec!["ID"]);
        assert!(d.unique_keys.is_empty());
        assert_eq!(d.indexes[0].columns, vec!["B2"]);
        assert_eq!(
            route.project_row(vec![Value::Int(1), Value::Int(2), Value::Int(3)]),
            vec![Value::Int(1), Value::Int(3)]
        );
    }

    #[test]
    fn column_subset_maps_checks_and_keeps_table_options() {
        let mut source = schema();
        source.create_sql = Some(
            "CREATE TABLE `t` (\n  `a` int(11) NOT NULL,\n  `c` int(11)\n) ENGINE=InnoDB \
             ROW_FORMAT=COMPRESSED\n PARTITION BY HASH (`id`)\nPARTITIONS 2"
                .into(),
        );
        source.constraints.checks = vec![
            crate::schema::CheckConstraint {
                name: "positive".into(),
                expression: "`b` > 0 and `id` <> '`a`'".into(),
            },
            crate::schema::CheckConstraint {
                name: "on_a".into(),
                expression: "`a` < 10".into(),
            },
        ];
        let route = TableRoute {
            destination: TableId::new("dst", "t2"),
            columns: Some(vec![(0, "ID".into()), (2, "B2".into())]),
            ..TableRoute::identity(&TableId::new("src", "t"))
        };
        let d = route.destination_schema(&source);
        assert_eq!(
            d.constraints.checks.len(),
            1,
            "a check on an unselected column goes"
        );
        assert_eq!(
            d.constraints.checks[0].expression,
            "`B2` > 0 and `ID` <> '`a`'"
        );
        assert_eq!(
            d.create_sql.as_deref(),
            Some(
                "CREATE TABLE `t` (\n) ENGINE=InnoDB ROW_FORMAT=COMPRESSED\n PARTITION BY HASH \
                 (`ID`)\nPARTITIONS 2"
            )
        );
        // Partitioned by a column that is not synchronized: the clause goes.
        source.create_sql = Some(
            "CREATE TABLE `t` (\n  `a` int(11)\n) ENGINE=InnoDB\n PARTITION BY RANGE (`a`)\n\
             (PARTITION `p0` VALUES LESS THAN (10) ENGINE = InnoDB)"
                .into(),
        );
        let d = route.destination_schema(&source);
        assert_eq!(
            d.create_sql.as_deref(),
            Some("CREATE TABLE `t` (\n) ENGINE=InnoDB")
        );
    }

    #[test]
    fn database_filter_selects_by_name() {
        let f = DatabaseFilter::new(["src"]);
        assert!(f.route(&schema()).is_some());
        let mut other = schema();
        other.id.database = "other".into();
        assert!(f.route(&other).is_none());
    }

    #[test]
    fn database_filter_routes_ddl() {
        let f = DatabaseFilter::new(["src"]);
        let ddl = |kind, tables: Vec<TableId>, sql: &str| Ddl {
            database: Some("src".into()),
            statement: sql.into(),
            kind,
            tables,
            sql_mode: None,
        };
        assert!(f
            .route_ddl(&ddl(
                DdlKind::AlterTable,
                vec![TableId::new("src", "t")],
                "ALTER TABLE t ADD x INT"
            ))
            .is_some());
        assert!(f
            .route_ddl(&ddl(
                DdlKind::RenameTable,
                vec![TableId::new("src", "t"), TableId::new("other", "t")],
                "RENAME TABLE t TO other.t"
            ))
            .is_none());
        assert!(f
            .route_ddl(&ddl(
                DdlKind::CreateDatabase,
                vec![],
                "CREATE DATABASE IF NOT EXISTS `src`"
            ))
            .is_some());
        assert!(f
            .route_ddl(&ddl(DdlKind::DropDatabase, vec![], "DROP DATABASE other"))
            .is_none());
        assert_eq!(
            ddl_database_name("drop schema `a``b`;").as_deref(),
            Some("a`b")
        );
    }

    #[test]
    fn dml_ops() {
        let ops = DmlOps {
            delete: false,
            ..DmlOps::ALL
        };
        assert!(ops.allows(RowOp::Insert));
        assert!(!ops.allows(RowOp::Delete));
    }
}
