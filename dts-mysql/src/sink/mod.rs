//! [`MysqlSink`]: a MySQL or MariaDB destination, as a [`dts_core::Sink`].
//!
//! # Sessions
//!
//! Every connection of the sink runs with
//! - `time_zone = '+00:00'` and utf8mb4 for client and results ([`SESSION_SETUP`]), so TIMESTAMP
//!   parameters are UTC instants and text travels in one encoding;
//! - `sql_mode = '`[`SQL_MODE`]`'`: no strict mode and no `NO_ZERO_DATE`/`NO_ZERO_IN_DATE`, so
//!   zero dates, invalid-but-stored dates and ENUM's empty "error" member round-trip exactly as
//!   the source stored them; `NO_AUTO_VALUE_ON_ZERO` so an AUTO_INCREMENT value 0 stays 0; and
//!   never `NO_BACKSLASH_ESCAPES`, which the generated DDL's literals rely on. Because the mode
//!   is not strict, a value the destination must adjust (a narrower existing column, say) is
//!   stored adjusted with a warning rather than refused: the sink logs such warnings with the
//!   table (`tracing` target `dts_mysql::sink`);
//! - `foreign_key_checks = 0`: rows are applied by parallel workers and tables are copied in
//!   any order, so a child row may arrive before its parent; the source already enforced the
//!   constraints.
//!
//! `unique_checks` stays on: upserts, `INSERT IGNORE` and `REPLACE` depend on duplicate-key
//! detection, which InnoDB may skip for secondary unique indexes with `unique_checks = 0`.
//!
//! # Writing values
//!
//! Values are bound as binary-protocol parameters by [`crate::wire::encode::to_param`]. GEOMETRY
//! values are bound as MySQL's internal format (4-byte SRID + WKB) exactly as read: both
//! MariaDB and MySQL accept that format for a geometry column in `INSERT`, which keeps the SRID
//! without a `ST_GeomFromWKB(?, srid)` wrapper per column.
//!
//! # Schema and full sync
//!
//! [`Sink::apply_schema`] runs `CREATE DATABASE IF NOT EXISTS` and a `CREATE TABLE IF NOT
//! EXISTS` generated from the schema ([`create`] lists what is and is not reproduced).
//! [`Sink::apply_schema_for_copy`] creates a table a full copy will fill without its non-unique
//! secondary indexes, and [`Sink::finish_copy`] adds them once the copy is done ([`deferred`]).
//! [`Sink::write_rows`] writes multi-row statements of at most [`SinkOptions::batch_rows`] rows,
//! about [`SinkOptions::batch_bytes`] bytes and 65,535 placeholders, spread over the pool:
//! [`ExistingRows::Keep`] uses `INSERT IGNORE`; [`ExistingRows::Replace`] uses
//! `INSERT … ON DUPLICATE KEY UPDATE` of every non-key column for tables with an identity,
//! `REPLACE` when the table has unique keys besides it, and plain `INSERT` for tables without
//! any unique key. Generated columns are never written. [`Sink::reset_table`] is
//! `TRUNCATE TABLE`.
//!
//! # Incremental apply
//!
//! See [`apply`] for the exactly-once design: per-worker checkpoint rows committed with the
//! data, barriers for DDL and key-less tables, and how key-changing updates and fragments of
//! large transactions are handled.

pub(crate) mod apply;
pub mod assessment;
pub(crate) mod checkpoint;
mod compact;
pub(crate) mod config;
pub(crate) mod conflict;
pub(crate) mod create;
pub(crate) mod deferred;
pub(crate) mod load;
pub(crate) mod objects;
mod ops;
pub mod precheck;
pub(crate) mod sql;
mod statements;

use crate::wire::conn::{MysqlEndpoint, ServerInfo};
use crate::wire::ident::quote_table;
use crate::wire::session::SESSION_SETUP;
use async_trait::async_trait;
use checkpoint::{WorkerCheckpoint, CHECKPOINT_TABLE};
use dts_core::{
    Checkpoint, ConflictPolicy, ConflictingTables, Ddl, Error, ExistingRows, PrecheckReport,
    Result, Row, SchemaRef, Sink, TableId, TableSchema,
};
use futures::{StreamExt, TryStreamExt};
use mysql_async::prelude::Queryable;
use mysql_async::{Conn, OptsBuilder, Pool, PoolConstraints, PoolOpts};
use sql::{InsertKind, UpsertStyle};
use std::fmt;
use std::sync::Arc;

/// The `sql_mode` of every sink session (see the module documentation).
pub const SQL_MODE: &str = "NO_AUTO_VALUE_ON_ZERO,ALLOW_INVALID_DATES";

/// Most apply workers a sink may have.
pub const MAX_WORKERS: usize = 256;

/// Options of a MySQL destination.
#[derive(Clone)]
pub struct SinkOptions {
    /// Task the checkpoint rows belong to (1–64 characters).
    pub task_id: String,
    /// Parallel apply connections (incremental) and write connections (full sync).
    pub workers: usize,
    /// Most rows per multi-row statement.
    pub batch_rows: usize,
    /// About the most bytes of values per multi-row statement (also capped at half the
    /// destination's `max_allowed_packet`).
    pub batch_bytes: usize,
    /// Database holding the `dts_checkpoint` table.
    pub checkpoint_database: String,
    /// How conflicts are resolved (two-way synchronization); `None` applies the one-way rules:
    /// an update of a missing row inserts it, a delete of a missing row is ignored, a duplicate
    /// insert overwrites.
    pub conflict_policy: Option<Arc<dyn ConflictPolicy>>,
    /// With a conflict policy: a batch holding a transaction committed longer ago than this
    /// is in the "delay period" after a pause or restart and overwrites the destination
    /// without conflict detection (see [`conflict`]). `None` (the default here): never; the
    /// two-way task builder ([`crate::two_way`]) sets
    /// [`conflict::DEFAULT_DELAY_PERIOD`].
    pub overwrite_delayed_after: Option<std::time::Duration>,
    /// Full-sync rows go through `LOAD DATA LOCAL INFILE` (streamed from memory, see
    /// [`load`]) when the destination allows it (`local_infile = ON`), else through multi-row
    /// INSERTs. On by default: it is the destination's fastest ingestion path.
    pub load_data: bool,
    /// Whether full-sync writes go to the destination's binlog (the default). Off, the initial
    /// copy is written with `sql_log_bin = 0`: faster, and a two-way partner never sees it, but
    /// replicas of the destination do not get the copied rows — only for destinations nothing
    /// replicates from. Needs the privilege to set `sql_log_bin` (SUPER, or BINLOG ADMIN on
    /// MariaDB 10.5+); checked when the sink connects. Incremental writes are always logged.
    pub full_sync_binlog: bool,
    /// Whether a table created for a full copy gets its non-unique secondary indexes only
    /// after the copy (see [`deferred`]), which makes the copy faster. On by default.
    pub defer_secondary_indexes: bool,
    /// The database type the task file declares (`destination.database_type`), compared at
    /// precheck with the flavour the connection detects; `None` when not declared.
    pub declared_type: Option<dts_core::config::DatabaseType>,
}

impl Default for SinkOptions {
    fn default() -> Self {
        Self {
            task_id: String::new(),
            workers: 4,
            batch_rows: 5000,
            batch_bytes: 4 * 1024 * 1024,
            checkpoint_database: "dts_meta".into(),
            conflict_policy: None,
            overwrite_delayed_after: None,
            load_data: true,
            full_sync_binlog: true,
            defer_secondary_indexes: true,
            declared_type: None,
        }
    }
}

impl fmt::Debug for SinkOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SinkOptions")
            .field("task_id", &self.task_id)
            .field("workers", &self.workers)
            .field("batch_rows", &self.batch_rows)
            .field("batch_bytes", &self.batch_bytes)
            .field("checkpoint_database", &self.checkpoint_database)
            .field(
                "conflict_policy",
                &self.conflict_policy.as_ref().map(|_| "<policy>"),
            )
            .field("overwrite_delayed_after", &self.overwrite_delayed_after)
            .field("load_data", &self.load_data)
            .field("full_sync_binlog", &self.full_sync_binlog)
            .field("defer_secondary_indexes", &self.defer_secondary_indexes)
            .field("declared_type", &self.declared_type)
            .finish()
    }
}

impl SinkOptions {
    fn validate(&self) -> Result<()> {
        let bad = |m: String| Err(Error::definite("sink options", m));
        if self.task_id.is_empty() || self.task_id.chars().count() > 64 {
            return bad(format!(
                "task_id must be 1-64 characters (got {:?})",
                self.task_id
            ));
        }
        if self.workers == 0 || self.workers > MAX_WORKERS {
            return bad(format!(
                "workers must be 1-{MAX_WORKERS} (got {})",
                self.workers
            ));
        }
        if self.batch_rows == 0 || self.batch_bytes == 0 {
            return bad("batch_rows and batch_bytes must be at least 1".into());
        }
        if self.checkpoint_database.is_empty() {
            return bad("checkpoint_database must not be empty".into());
        }
        Ok(())
    }
}

/// A MySQL or MariaDB server as a destination.
pub struct MysqlSink {
    endpoint: MysqlEndpoint,
    options: SinkOptions,
    server: ServerInfo,
    pool: Pool,
    style: UpsertStyle,
    checkpoint_table: TableId,
    batch_bytes: usize,
    /// Full-sync writes use `LOAD DATA LOCAL` (asked for and allowed by the destination).
    load_data: bool,
}

impl fmt::Debug for MysqlSink {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MysqlSink")
            .field("endpoint", &self.endpoint)
            .field("options", &self.options)
            .field("server", &self.server.version)
            .field("checkpoint_table", &self.checkpoint_table)
            .finish()
    }
}

/// The statements every sink session starts with.
pub fn session_statements() -> Vec<String> {
    let mut v: Vec<String> = SESSION_SETUP.iter().map(|s| s.to_string()).collect();
    v.push(format!(
        "SET NAMES utf8mb4, SESSION sql_mode = '{SQL_MODE}', SESSION foreign_key_checks = 0, \
         {} = 1",
        objects::TASK_WRITE_VARIABLE
    ));
    v
}

impl MysqlSink {
    /// Connects, detects the server, creates the checkpoint database and table if needed,
    /// makes sure the task has one checkpoint row per worker, and opens a pool of
    /// `options.workers` connections.
    pub async fn connect(endpoint: MysqlEndpoint, options: SinkOptions) -> Result<Self> {
        options.validate()?;
        let mut conn = endpoint.connect().await?;
        let m = |what: &'static str| {
            let ep = endpoint.clone();
            move |e| ep.map_err(what, e)
        };
        let server = ServerInfo::detect(&mut conn)
            .await
            .map_err(m("detect version"))?;
        for s in session_statements() {
            conn.query_drop(s).await.map_err(m("session setup"))?;
        }
        let max_packet: Option<u64> = conn
            .query_first("SELECT @@max_allowed_packet")
            .await
            .map_err(m("read max_allowed_packet"))?;
        let batch_bytes = options
            .batch_bytes
            .min(max_packet.map(|p| (p / 2) as usize).unwrap_or(usize::MAX))
            .max(1);
        let local_infile: Option<i64> = conn
            .query_first("SELECT @@local_infile")
            .await
            .map_err(m("read local_infile"))?;
        let load_data = options.load_data && local_infile == Some(1);
        if options.load_data && !load_data {
            tracing::info!(
                target: "dts_mysql::sink",
                endpoint = %endpoint.label,
                "the destination has local_infile off: full sync writes multi-row INSERTs"
            );
        }
        if !options.full_sync_binlog {
            conn.query_drop("SET SESSION sql_log_bin = 0")
                .await
                .map_err(|e| {
                    Error::definite(
                        &endpoint.label,
                        format!(
                            "full_sync_binlog = false needs the privilege to set sql_log_bin \
                             (SUPER, or BINLOG ADMIN on MariaDB 10.5+): {e}"
                        ),
                    )
                })?;
            conn.query_drop("SET SESSION sql_log_bin = 1")
                .await
                .map_err(m("restore sql_log_bin"))?;
        }
        let style = if !server.is_mariadb() && server.version_number >= (8, 0, 19) {
            UpsertStyle::RowAlias
        } else {
            UpsertStyle::Values
        };
        let checkpoint_table = TableId::new(options.checkpoint_database.clone(), CHECKPOINT_TABLE);
        conn.query_drop(create::create_database_sql(&checkpoint_table.database))
            .await
            .map_err(|e| {
                endpoint.map_err(&format!("create database {}", checkpoint_table.database), e)
            })?;
        conn.query_drop(checkpoint::create_table_sql(&checkpoint_table))
            .await
            .map_err(|e| {
                endpoint.map_err(&format!("create checkpoint table {checkpoint_table}"), e)
            })?;
        let deferred_table = TableId::new(
            options.checkpoint_database.clone(),
            deferred::DEFERRED_TABLE,
        );
        conn.query_drop(deferred::create_table_sql(&deferred_table))
            .await
            .map_err(|e| {
                endpoint.map_err(&format!("create deferred-index table {deferred_table}"), e)
            })?;
        let deferred_keys = TableId::new(
            options.checkpoint_database.clone(),
            deferred::DEFERRED_FOREIGN_KEY_TABLE,
        );
        conn.query_drop(deferred::create_table_sql(&deferred_keys))
            .await
            .map_err(|e| {
                endpoint.map_err(
                    &format!("create deferred-foreign-key table {deferred_keys}"),
                    e,
                )
            })?;
        // Sinks of several tasks connecting at once can deadlock on the shared checkpoint
        // table (InnoDB gap locks); the transaction is rolled back, so retry it a few times.
        let mut attempts = 0u64;
        loop {
            match checkpoint::prepare_rows(
                &mut conn,
                &checkpoint_table,
                style,
                &options.task_id,
                options.workers as u32,
            )
            .await
            {
                Err(mysql_async::Error::Server(s)) if s.code == 1213 && attempts < 5 => {
                    attempts += 1;
                    tokio::time::sleep(std::time::Duration::from_millis(20 * attempts)).await;
                }
                other => {
                    other.map_err(|e| {
                        endpoint
                            .map_err(&format!("prepare checkpoint rows in {checkpoint_table}"), e)
                    })?;
                    break;
                }
            }
        }
        let _ = conn.disconnect().await;

        let constraints = PoolConstraints::new(0, options.workers).expect("0 <= workers");
        let opts = OptsBuilder::from_opts(endpoint.opts(options.workers))
            .setup(conflict::session_statements(
                session_statements(),
                options.conflict_policy.is_some(),
            ))
            .pool_opts(
                PoolOpts::default()
                    .with_constraints(constraints)
                    // Keep prepared statements across checkouts; sessions never change state
                    // (no USE, transactions always ended; the pool rolls back abandoned ones).
                    .with_reset_connection(false),
            );
        Ok(Self {
            endpoint,
            options,
            server,
            pool: Pool::new(opts),
            style,
            checkpoint_table,
            batch_bytes,
            load_data,
        })
    }

    /// The destination's flavour and version.
    pub fn server(&self) -> &ServerInfo {
        &self.server
    }

    /// The endpoint this sink writes to.
    pub fn endpoint(&self) -> &MysqlEndpoint {
        &self.endpoint
    }

    /// The options the sink was created with.
    pub fn options(&self) -> &SinkOptions {
        &self.options
    }

    /// The checkpoint table (`<checkpoint_database>.dts_checkpoint`).
    pub fn checkpoint_table(&self) -> &TableId {
        &self.checkpoint_table
    }

    /// Every checkpoint row of this task, by worker (for status pages and tests).
    pub async fn worker_checkpoints(&self) -> Result<Vec<WorkerCheckpoint>> {
        let mut conn = self.conn("read checkpoint").await?;
        checkpoint::read_rows(&mut conn, &self.checkpoint_table, &self.options.task_id)
            .await
            .map_err(|e| self.err(&format!("read {}", self.checkpoint_table), e))
    }

    /// Closes the pool's connections.
    pub async fn disconnect(self) -> Result<()> {
        self.pool
            .disconnect()
            .await
            .map_err(|e| self.endpoint.map_err("disconnect", e))
    }

    /// An error of a statement the sink ran: server errors are execution errors, retried
    /// within the window for other issues ([`MysqlEndpoint::map_write_err`]).
    fn err(&self, what: &str, e: mysql_async::Error) -> Error {
        self.endpoint.map_write_err(what, e)
    }

    async fn conn(&self, what: &str) -> Result<Conn> {
        self.pool
            .get_conn()
            .await
            .map_err(|e| self.err(&format!("connection for {what}"), e))
    }

    /// A new connection outside the pool, set up like the pool's (for DDL, which changes the
    /// session's default database).
    async fn dedicated_conn(&self) -> Result<Conn> {
        let mut conn = self.endpoint.connect().await?;
        for s in session_statements() {
            conn.query_drop(s)
                .await
                .map_err(|e| self.err("session setup", e))?;
        }
        Ok(conn)
    }

    /// Writes rows of one table with multi-row statements of `kind`, spread over the pool.
    async fn write_statements(
        &self,
        schema: &TableSchema,
        rows: &[Row],
        kind: InsertKind,
    ) -> Result<()> {
        let cols = sql::writable_columns(schema);
        if cols.is_empty() {
            return Err(Error::Schema {
                table: schema.id.clone(),
                message: "every column is generated: nothing to write".into(),
            });
        }
        for (i, r) in rows.iter().enumerate() {
            if r.len() != schema.columns.len() {
                return Err(Error::Schema {
                    table: schema.id.clone(),
                    message: format!(
                        "row {i} has {} values for {} columns",
                        r.len(),
                        schema.columns.len()
                    ),
                });
            }
        }
        let runs = sql::split_runs(
            rows,
            cols.len(),
            self.options.batch_rows,
            self.batch_bytes,
            |r| sql::row_bytes(r, &cols),
        );
        let cols = &cols;
        futures::stream::iter(runs)
            .map(|run| async move {
                let rows: Vec<&Row> = rows[run].iter().collect();
                let mut conn = self.conn("write rows").await?;
                let unlogged = !self.options.full_sync_binlog;
                if unlogged {
                    conn.query_drop("SET SESSION sql_log_bin = 0")
                        .await
                        .map_err(|e| self.err("turn the binlog off for full sync", e))?;
                }
                let written = if self.load_data && load::loads_exactly(schema, cols, &rows) {
                    statements::exec_load(self, &mut conn, schema, cols, &rows, kind).await
                } else {
                    statements::exec_insert(self, &mut conn, schema, cols, &rows, kind).await
                };
                if unlogged {
                    // Never hand an unlogged session back to the pool (incremental writes must
                    // be logged): on any failure it is closed instead.
                    let restored = match &written {
                        Ok(()) => conn.query_drop("SET SESSION sql_log_bin = 1").await,
                        Err(_) => Ok(()),
                    };
                    if written.is_err() || restored.is_err() {
                        let _ = conn.disconnect().await;
                        restored.map_err(|e| self.err("turn the binlog back on", e))?;
                    }
                }
                written
            })
            .buffer_unordered(self.options.workers)
            .try_collect::<Vec<()>>()
            .await?;
        Ok(())
    }
}

#[async_trait]
impl Sink for MysqlSink {
    async fn precheck(&self, tables: &[TableSchema], mode: ConflictingTables) -> PrecheckReport {
        let mut report = precheck::check_destination(
            &self.endpoint,
            &self.checkpoint_table.database,
            tables,
            mode,
        )
        .await;
        report
            .checks
            .push(crate::wire::precheck::check_declared_type(
                "destination",
                self.options.declared_type,
                &self.server,
            ));
        report
    }

    async fn apply_schema(&self, schema: &TableSchema) -> Result<()> {
        self.create_table(schema, create::create_table_sql(schema)?)
            .await
    }

    async fn apply_schema_for_copy(&self, schema: &TableSchema) -> Result<()> {
        self.create_for_copy(schema).await
    }

    async fn finish_copy(&self, schema: &TableSchema) -> Result<()> {
        self.add_deferred_indexes(schema).await
    }

    async fn missing_tables(
        &self,
        tables: &[TableSchema],
    ) -> Result<Option<Vec<dts_core::TableId>>> {
        let mut conn = self.conn("check destination tables").await?;
        let label = format!("{} ({})", self.endpoint.label, self.endpoint.address());
        crate::wire::catalog::missing_tables(&mut conn, &label, tables)
            .await
            .map(Some)
    }

    async fn write_rows(
        &self,
        schema: &SchemaRef,
        rows: Vec<Row>,
        existing: ExistingRows,
    ) -> Result<()> {
        if rows.is_empty() {
            return Ok(());
        }
        let kind = match existing {
            ExistingRows::Keep => InsertKind::Ignore,
            ExistingRows::Replace => sql::replace_kind(schema),
        };
        self.write_statements(schema, &rows, kind).await
    }

    async fn reset_table(&self, schema: &TableSchema) -> Result<()> {
        let mut conn = self.conn("reset table").await?;
        conn.query_drop(format!("TRUNCATE TABLE {}", quote_table(&schema.id)))
            .await
            .map_err(|e| self.err(&format!("truncate {}", schema.id), e))
    }

    fn holds_objects(&self, _kind: dts_core::ObjectKind) -> std::result::Result<(), String> {
        Ok(())
    }

    async fn precheck_objects(
        &self,
        objects: &[dts_core::SchemaObject],
        accounts: &[dts_core::Account],
        mode: ConflictingTables,
    ) -> PrecheckReport {
        self.check_objects(objects, accounts, mode).await
    }

    async fn create_object(&self, object: &dts_core::SchemaObject) -> Result<()> {
        self.create_schema_object(object).await
    }

    fn cutover_statements(
        &self,
        object: &dts_core::SchemaObject,
        enable_event: bool,
    ) -> Vec<String> {
        self.object_cutover(object, enable_event)
    }

    async fn create_account(&self, account: &dts_core::Account) -> Result<()> {
        self.create_db_account(account).await
    }

    async fn apply_ddl(&self, ddl: &Ddl) -> Result<()> {
        apply::run_ddl(self, ddl, false).await.map(|_| ())
    }

    fn holds_foreign_keys(&self) -> bool {
        true
    }

    fn supports_derived_changes(&self) -> std::result::Result<(), String> {
        Ok(())
    }

    async fn apply(&self, batch: &[dts_core::Transaction], checkpoint: &Checkpoint) -> Result<()> {
        apply::apply_batch(self, batch, checkpoint).await
    }

    async fn read_checkpoint(&self) -> Result<Option<Checkpoint>> {
        Ok(checkpoint::slowest(&self.worker_checkpoints().await?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use dts_core::OverwritePolicy;

    #[test]
    fn options_debug_and_validation() {
        let o = SinkOptions {
            task_id: "t1".into(),
            conflict_policy: Some(Arc::new(OverwritePolicy)),
            ..Default::default()
        };
        let d = format!("{o:?}");
        assert!(d.contains("workers: 4") && d.contains("<policy>"), "{d}");
        assert!(o.validate().is_ok());
        assert!(SinkOptions::default().validate().is_err(), "empty task id");
        let zero = SinkOptions {
            workers: 0,
            ..o.clone()
        };
        assert!(zero.validate().unwrap_err().to_string().contains("workers"));
    }

    #[test]
    fn sessions_are_utc_non_strict_without_fk_checks() {
        let s = session_statements().join("; ");
        assert!(s.contains("time_zone = '+00:00'"));
        assert!(s.contains("NO_AUTO_VALUE_ON_ZERO"));
        assert!(!s.contains("STRICT") && !s.contains("NO_BACKSLASH_ESCAPES"));
        assert!(s.contains("foreign_key_checks = 0"));
    }
}
