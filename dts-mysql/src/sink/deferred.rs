//! Secondary indexes built after a table's full copy instead of row by row during it.
//!
//! InnoDB maintains every secondary index on each inserted row; building the index once over
//! the finished table (a sort, then a bulk build) costs far less. So a table the sink creates
//! for a full copy gets its primary key and unique keys only (the copy's idempotence relies on
//! them), and its non-unique indexes are added by one `ALTER TABLE` when the copy is done.
//!
//! Which indexes are still owed is recorded in the destination, in
//! `<checkpoint_database>.dts_deferred_index`, *before* the table is created, and removed
//! only after the `ALTER TABLE` succeeded:
//!
//! ```sql
//! CREATE TABLE `<checkpoint_database>`.`dts_deferred_index` (
//!   task_id VARCHAR(64), db_name VARCHAR(64), table_name VARCHAR(64),
//!   index_name VARCHAR(64), definition TEXT,
//!   PRIMARY KEY (task_id, db_name, table_name, index_name))
//! ```
//!
//! A task killed anywhere in between therefore resumes correctly: a record without its table
//! is written again with the table; a record whose index already exists (the `ALTER` ran, the
//! `DELETE` did not) is simply removed. Tables that already existed at the destination are
//! never touched: nothing is recorded for them, so no index a user chose not to have is added.
//!
//! Foreign keys take the same path through `<checkpoint_database>.dts_deferred_foreign_key`
//! (same columns, `index_name` holding the constraint name: a foreign key and an index often
//! share a name), whatever `defer_secondary_indexes` says: a table created for a full copy gets
//! its foreign keys by a second `ALTER TABLE` after its indexes, once its rows are in. The
//! sink's sessions run with `foreign_key_checks = 0`, so the `ALTER` neither checks the copied
//! rows nor waits for the parent's copy, and the destination's own cascades stay off: the
//! changes InnoDB derives at the source arrive as derived changes ([`dts_core::cascade`]).

use super::MysqlSink;
use crate::sink::create;
use crate::wire::ident::quote_table;
use dts_core::{Result, TableId, TableSchema};
use mysql_async::prelude::Queryable;
use mysql_async::{Conn, TxOpts};
use std::collections::BTreeSet;

/// Name of the table of owed indexes inside the checkpoint database.
pub const DEFERRED_TABLE: &str = "dts_deferred_index";

/// Name of the table of owed foreign keys inside the checkpoint database.
pub const DEFERRED_FOREIGN_KEY_TABLE: &str = "dts_deferred_foreign_key";

/// `CREATE TABLE IF NOT EXISTS` of a table of owed indexes or foreign keys.
pub fn create_table_sql(table: &TableId) -> String {
    format!(
        "CREATE TABLE IF NOT EXISTS {} (\n  \
         `task_id` VARCHAR(64) NOT NULL,\n  \
         `db_name` VARCHAR(64) NOT NULL,\n  \
         `table_name` VARCHAR(64) NOT NULL,\n  \
         `index_name` VARCHAR(64) NOT NULL,\n  \
         `definition` TEXT NOT NULL,\n  \
         PRIMARY KEY (`task_id`, `db_name`, `table_name`, `index_name`)\n\
         ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin",
        quote_table(table)
    )
}

/// The `ALTER TABLE` adding `definitions` (from [`create::secondary_index_definitions`] or
/// [`create::foreign_key_definitions`]) in one pass over the table.
pub fn add_indexes_sql(table: &TableId, definitions: &[String]) -> String {
    let adds: Vec<String> = definitions.iter().map(|d| format!("ADD {d}")).collect();
    format!("ALTER TABLE {} {}", quote_table(table), adds.join(", "))
}

/// What a table owes after its copy: indexes, then foreign keys.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Owed {
    Indexes,
    ForeignKeys,
}

impl Owed {
    fn what(self) -> &'static str {
        match self {
            Owed::Indexes => "deferred indexes",
            Owed::ForeignKeys => "deferred foreign keys",
        }
    }

    /// Names already present on the table (index names, or foreign-key constraint names).
    fn present_sql(self) -> &'static str {
        match self {
            Owed::Indexes => {
                "SELECT DISTINCT `INDEX_NAME` FROM `information_schema`.`STATISTICS` \
                 WHERE `TABLE_SCHEMA` = ? AND `TABLE_NAME` = ?"
            }
            Owed::ForeignKeys => {
                "SELECT `CONSTRAINT_NAME` FROM `information_schema`.`TABLE_CONSTRAINTS` \
                 WHERE `TABLE_SCHEMA` = ? AND `TABLE_NAME` = ? \
                 AND `CONSTRAINT_TYPE` = 'FOREIGN KEY'"
            }
        }
    }
}

impl MysqlSink {
    fn record_table(&self, owed: Owed) -> TableId {
        TableId::new(
            self.checkpoint_table.database.clone(),
            match owed {
                Owed::Indexes => DEFERRED_TABLE,
                Owed::ForeignKeys => DEFERRED_FOREIGN_KEY_TABLE,
            },
        )
    }

    /// [`dts_core::Sink::apply_schema_for_copy`]: a table that does not exist yet is created
    /// without its non-unique secondary indexes (with `defer_secondary_indexes`) and without
    /// its foreign keys, which are recorded as owed first.
    pub(super) async fn create_for_copy(&self, schema: &TableSchema) -> Result<()> {
        let defer = self.options.defer_secondary_indexes;
        let indexes = if defer {
            create::secondary_index_definitions(schema)?
        } else {
            Vec::new()
        };
        let foreign_keys = create::foreign_key_definitions(schema)?;
        if indexes.is_empty() && foreign_keys.is_empty() {
            return self
                .create_table(schema, create::create_table_sql(schema)?)
                .await;
        }
        let create = create::create_table_sql_for_copy(schema, !defer)?;
        let mut conn = self.conn("schema").await?;
        if table_exists(&mut conn, &schema.id)
            .await
            .map_err(|e| self.err(&format!("look up table {}", schema.id), e))?
        {
            // Left as it is (ConflictingTables::IgnoreErrorsAndProceed, or a resumed task
            // whose record, if any, is settled by `finish_copy`).
            return Ok(());
        }
        let what = format!("record deferred indexes and foreign keys of {}", schema.id);
        let mut tx = conn
            .start_transaction(TxOpts::default())
            .await
            .map_err(|e| self.err(&what, e))?;
        for (owed, definitions) in [
            (Owed::Indexes, &indexes),
            (Owed::ForeignKeys, &foreign_keys),
        ] {
            let record = self.record_table(owed);
            tx.exec_drop(
                forget_sql(&record),
                (&self.options.task_id, &schema.id.database, &schema.id.table),
            )
            .await
            .map_err(|e| self.err(&what, e))?;
            if definitions.is_empty() {
                continue;
            }
            tx.exec_batch(
                format!(
                    "INSERT INTO {} (`task_id`, `db_name`, `table_name`, `index_name`, \
                     `definition`) VALUES (?, ?, ?, ?, ?)",
                    quote_table(&record)
                ),
                definitions.iter().map(|(name, definition)| {
                    (
                        &self.options.task_id,
                        &schema.id.database,
                        &schema.id.table,
                        name,
                        definition,
                    )
                }),
            )
            .await
            .map_err(|e| self.err(&what, e))?;
        }
        tx.commit().await.map_err(|e| self.err(&what, e))?;
        drop(conn);
        self.create_table(schema, create).await
    }

    /// [`dts_core::Sink::finish_copy`]: adds the indexes still owed for the table, in one
    /// `ALTER TABLE`, then its foreign keys, in another, forgetting each once added.
    pub(super) async fn add_deferred_indexes(&self, schema: &TableSchema) -> Result<()> {
        self.add_owed(schema, Owed::Indexes).await?;
        self.add_owed(schema, Owed::ForeignKeys).await
    }

    async fn add_owed(&self, schema: &TableSchema, kind: Owed) -> Result<()> {
        let record = self.record_table(kind);
        let what = format!("{} of {}", kind.what(), schema.id);
        let mut conn = self.conn(&what).await?;
        let owed: Vec<(String, String)> = conn
            .exec(
                format!(
                    "SELECT `index_name`, `definition` FROM {} \
                     WHERE `task_id` = ? AND `db_name` = ? AND `table_name` = ? \
                     ORDER BY `index_name`",
                    quote_table(&record)
                ),
                (&self.options.task_id, &schema.id.database, &schema.id.table),
            )
            .await
            .map_err(|e| self.err(&format!("read {what}"), e))?;
        if owed.is_empty() {
            return Ok(());
        }
        let present: BTreeSet<String> = conn
            .exec::<String, _, _>(kind.present_sql(), (&schema.id.database, &schema.id.table))
            .await
            .map_err(|e| self.err(&format!("list {} of {}", kind.what(), schema.id), e))?
            .into_iter()
            .map(|n| n.to_lowercase())
            .collect();
        // Index and constraint names compare case-insensitively in MySQL.
        let missing: Vec<String> = owed
            .iter()
            .filter(|(name, _)| !present.contains(&name.to_lowercase()))
            .map(|(_, definition)| definition.clone())
            .collect();
        if !missing.is_empty() {
            tracing::info!(
                target: "dts_mysql::sink",
                table = %schema.id,
                owed = missing.len(),
                "full copy done; adding its {}",
                kind.what()
            );
            conn.query_drop(add_indexes_sql(&schema.id, &missing))
                .await
                .map_err(|e| self.err(&format!("add {what}"), e))?;
        }
        conn.exec_drop(
            forget_sql(&record),
            (&self.options.task_id, &schema.id.database, &schema.id.table),
        )
        .await
        .map_err(|e| self.err(&format!("forget {what}"), e))
    }

    /// `CREATE DATABASE IF NOT EXISTS` and the given `CREATE TABLE IF NOT EXISTS`.
    pub(super) async fn create_table(&self, schema: &TableSchema, create: String) -> Result<()> {
        let mut conn = self.conn("schema").await?;
        conn.query_drop(create::create_database_sql(&schema.id.database))
            .await
            .map_err(|e| self.err(&format!("create database {}", schema.id.database), e))?;
        conn.query_drop(create)
            .await
            .map_err(|e| self.err(&format!("create table {}", schema.id), e))
    }
}

/// Removes the records of one table (parameters: task id, database, table).
fn forget_sql(record: &TableId) -> String {
    format!(
        "DELETE FROM {} WHERE `task_id` = ? AND `db_name` = ? AND `table_name` = ?",
        quote_table(record)
    )
}

async fn table_exists(conn: &mut Conn, table: &TableId) -> mysql_async::Result<bool> {
    let found: Option<u8> = conn
        .exec_first(
            "SELECT 1 FROM `information_schema`.`TABLES` \
             WHERE `TABLE_SCHEMA` = ? AND `TABLE_NAME` = ?",
            (&table.database, &table.table),
        )
        .await?;
    Ok(found.is_some())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn alter_adds_every_owed_index_in_one_statement() {
        let sql = add_indexes_sql(
            &TableId::new("d`b", "t"),
            &[
                "KEY `k_1` (`k`)".into(),
                "FULLTEXT KEY `ft` (`body`)".into(),
            ],
        );
        assert_eq!(
            sql,
            "ALTER TABLE `d``b`.`t` ADD KEY `k_1` (`k`), ADD FULLTEXT KEY `ft` (`body`)"
        );
        assert!(create_table_sql(&TableId::new("dts_meta", DEFERRED_TABLE))
            .starts_with("CREATE TABLE IF NOT EXISTS `dts_meta`.`dts_deferred_index`"));
    }
}
