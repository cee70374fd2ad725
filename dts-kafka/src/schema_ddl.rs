//! The DDL record schema sync emits for a table: Kafka has no tables to create, so consumers
//! learn a table's structure (under its destination names) from a `CREATE TABLE` record before
//! its first row, as the service's schema synchronization does for Kafka destinations.

use dts_core::objects::condition::quote_ident;
use dts_core::{Ddl, DdlKind, TableSchema};

/// `CREATE TABLE` for `schema` in MySQL's dialect: columns with their source type text and
/// nullability, the primary key, unique keys and indexes, under the destination names.
pub(crate) fn create_table_statement(schema: &TableSchema) -> String {
    let list = |cols: &[String]| {
        cols.iter()
            .map(|c| quote_ident(c))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let mut parts: Vec<String> = schema
        .columns
        .iter()
        .map(|c| {
            format!(
                "{} {}{}",
                quote_ident(&c.name),
                c.type_text,
                if c.nullable { "" } else { " NOT NULL" }
            )
        })
        .collect();
    if !schema.primary_key.is_empty() {
        parts.push(format!("PRIMARY KEY ({})", list(&schema.primary_key)));
    }
    for k in &schema.unique_keys {
        parts.push(format!(
            "UNIQUE KEY {} ({})",
            quote_ident(&k.name),
            list(&k.columns)
        ));
    }
    for k in &schema.indexes {
        parts.push(format!(
            "KEY {} ({})",
            quote_ident(&k.name),
            list(&k.columns)
        ));
    }
    format!(
        "CREATE TABLE {}.{} ({})",
        quote_ident(&schema.id.database),
        quote_ident(&schema.id.table),
        parts.join(", ")
    )
}

/// The schema-sync DDL of `schema`.
pub(crate) fn create_table_ddl(schema: &TableSchema) -> Ddl {
    Ddl {
        database: Some(schema.id.database.clone()),
        statement: create_table_statement(schema),
        kind: DdlKind::CreateTable,
        tables: vec![schema.id.clone()],
        sql_mode: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use dts_core::{Column, ColumnType, Index, TableId};

    #[test]
    fn statement_names_destination_columns_keys_and_quotes() {
        let mut id = Column::new("id", ColumnType::Double, "bigint unsigned");
        id.nullable = false;
        let schema = TableSchema {
            id: TableId::new("d`b", "t"),
            columns: vec![id, Column::new("na me", ColumnType::Double, "varchar(20)")],
            primary_key: vec!["id".into()],
            unique_keys: vec![Index {
                name: "u".into(),
                columns: vec!["na me".into()],
                unique: true,
            }],
            indexes: vec![],
            create_sql: None,
            constraints: Default::default(),
        };
        assert_eq!(
            create_table_statement(&schema),
            "CREATE TABLE `d``b`.`t` (`id` bigint unsigned NOT NULL, `na me` varchar(20), \
             PRIMARY KEY (`id`), UNIQUE KEY `u` (`na me`))"
        );
        let ddl = create_table_ddl(&schema);
        assert_eq!(ddl.kind, DdlKind::CreateTable);
        assert_eq!(ddl.tables, vec![schema.id.clone()]);
    }
}
