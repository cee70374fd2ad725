//! The schemas used to decode row images, kept in step with the binlog.
//!
//! The cache starts from the server's current schemas and is refreshed after every DDL the
//! stream passes. A row event's table map is checked against the cached schema (column count,
//! and names when `binlog_row_metadata=FULL`); on mismatch the table is re-read from the server,
//! so a schema never silently decodes images it does not describe.

use crate::wire::catalog::{discover_table, discover_tables, Scope};
use crate::wire::conn::ServerInfo;
use dts_core::{Error, SchemaRef, TableId};
use mysql_async::Conn;
use std::collections::HashMap;
use std::sync::Arc;

/// Table schemas by id, with a connection to re-read them.
pub struct SchemaCache {
    conn: Conn,
    server: ServerInfo,
    tables: HashMap<TableId, SchemaRef>,
}

impl SchemaCache {
    /// Loads every table in `scope`.
    pub async fn load(mut conn: Conn, server: ServerInfo, scope: &Scope) -> Result<Self, Error> {
        let tables = discover_tables(&mut conn, &server, scope)
            .await?
            .into_iter()
            .map(|s| (s.id.clone(), Arc::new(s)))
            .collect();
        Ok(Self {
            conn,
            server,
            tables,
        })
    }

    /// The cached schema of a table.
    pub fn get(&self, id: &TableId) -> Option<&SchemaRef> {
        self.tables.get(id)
    }

    /// Re-reads one table (after DDL, or when a table map disagrees with the cache).
    pub async fn refresh(&mut self, id: &TableId) -> Result<Option<SchemaRef>, Error> {
        match discover_table(&mut self.conn, &self.server, id).await? {
            Some(schema) => {
                let schema = Arc::new(schema);
                self.tables.insert(id.clone(), schema.clone());
                Ok(Some(schema))
            }
            None => {
                self.tables.remove(id);
                Ok(None)
            }
        }
    }

    /// Re-reads every table of a database (for DDL whose tables could not be determined).
    pub async fn refresh_database(&mut self, database: &str) -> Result<(), Error> {
        let scope = Scope {
            databases: vec![database.to_string()],
        };
        let fresh = discover_tables(&mut self.conn, &self.server, &scope).await?;
        self.tables.retain(|id, _| id.database != database);
        for s in fresh {
            self.tables.insert(s.id.clone(), Arc::new(s));
        }
        Ok(())
    }

    /// Forgets a table (dropped, or renamed away).
    pub fn forget(&mut self, id: &TableId) {
        self.tables.remove(id);
    }
}
