//! # dts-adb
//!
//! The AnalyticDB for MySQL 3.0 destination of **dts**: [`AdbSink`] implements
//! [`dts_core::Sink`] over the MySQL protocol (`mysql_async`).
//!
//! - **Schema sync in ADB's dialect** ([`ddl`]): `CREATE TABLE IF NOT EXISTS … DISTRIBUTED BY
//!   HASH(<primary key>)` with a documented type mapping; tables without a key get an added
//!   `__dts_auto_id` primary key (with a warning).
//! - **Batched writes** ([`mod@write`]): coalesced per key, `INSERT … ON DUPLICATE KEY UPDATE` or
//!   `REPLACE INTO` upserts and `DELETE … WHERE (keys) IN (…)`; buffers live across `apply`
//!   calls and are flushed by size ([`AdbOptions::batch_rows`], [`AdbOptions::batch_bytes`])
//!   or by time ([`AdbOptions::flush_interval`], also from a background timer when no further
//!   round arrives).
//! - **Checkpoint** ([`checkpoint`]): stored in `dts_meta.dts_adb_checkpoint` after each
//!   flushed batch, never before its changes are written: at-least-once delivery made
//!   convergent by idempotent upserts and deletes by key.
//! - **Task from a configuration** ([`factory`], [`AdbSinkFactory`]): `[destination] type = "adb"`, with data
//!   verification (`[validation]`) read on the ADB side by [`verify`].
//! - **TLS** ([`AdbOptions::tls`], `[destination.tls]`): every connection (pool, checkpoint,
//!   precheck, verification) is made through a [`dts_mysql::wire::MysqlEndpoint`], encrypted and
//!   verified exactly as for a MySQL destination (see [`dts_mysql::wire::tls`]); the precheck
//!   reports `destination.tls`.
//! - **Merged tables**: with [`AdbOptions::merge_tables`], every table gets a
//!   `__dts_data_source` column (`<task id>:<database>:<schema>:<table>` of the source table)
//!   that is part of the primary and distribution key.
//! - **Stream DDL**: only what ADB runs (DROP TABLE, TRUNCATE, CREATE/DROP DATABASE, ALTER
//!   TABLE ADD COLUMN of types ADB has, DROP COLUMN); CREATE TABLE is not replayed verbatim —
//!   the table is created in ADB's dialect from its schema at its first row. Anything else is
//!   an [`Error::Schema`] naming the statement, or skipped with a warning under
//!   [`AdbOptions::skip_unsupported_ddl`].
//!
//! ## Merged tables: where the source identity comes from
//!
//! The sink receives schemas and rows already mapped by the task's filter, so a destination
//! schema alone cannot say which shard a row came from. With merging, the task therefore routes
//! each shard to the sink **under its own (source) name**, and the sink performs the merge: a
//! table registered with [`AdbSink::merge_into`] is written to its destination table, every
//! other table into a table of its own name, and `__dts_data_source` is built from the name the
//! sink received (MySQL has no schema level below the database, so the database name fills both
//! the `<database>` and `<schema>` parts). Schema-changing DDL on merged tables is refused
//! (the guide: do not change the schema of merged sources), and so is DROP DATABASE while
//! merging; TRUNCATE of a shard deletes only that shard's rows.
//!
//! ## Testing without an ADB server
//!
//! [`AdbOptions::mariadb_compat`] omits only the ADB-only clauses (`DISTRIBUTED BY …`,
//! `PARTITION BY … LIFECYCLE n`, `CLUSTERED KEY …`) and
//! spells length-less `VARCHAR`/`VARBINARY` as `LONGTEXT`/`LONGBLOB`, so the whole write path
//! runs against MariaDB. The DDL generator's ADB output is checked by exact expected statements.
//!
//! ```no_run
//! use dts_adb::{AdbOptions, AdbSink};
//! use dts_core::{Sink, TableId};
//!
//! # async fn run(schema: dts_core::TableSchema) -> dts_core::Result<()> {
//! let mut options = AdbOptions::new("mysql://user:pass@adb-host:3306", "dts-task-1");
//! options.merge_tables = true;
//! let sink = AdbSink::new(options)?;
//! // Shards `shop.orders_0` … `shop.orders_2` all land in `dw.orders`.
//! for i in 0..3 {
//!     sink.merge_into(TableId::new("shop", format!("orders_{i}")), TableId::new("dw", "orders"));
//! }
//! sink.apply_schema(&schema).await?;
//! println!("{:?}", sink.read_checkpoint().await?);
//! # Ok(())
//! # }
//! ```
#![warn(missing_docs)]

pub mod assessment;
mod cascade;
pub mod checkpoint;
pub mod config;
pub mod ddl;
pub mod dropped;
pub mod factory;
pub mod ident;
pub mod names;
pub mod verify;
pub mod write;

pub use config::{AdbDestination, AdbTableOptions, ADB_PARTITION_FORMATS};
pub use ddl::{
    adb_type, create_table_sql, create_table_sql_with, DdlOptions, KeySource, Partition,
    TableClauses, TableLayout, AUTO_ID_COLUMN, DATA_SOURCE_COLUMN, DATA_SOURCE_MAX_CHARS,
};
pub use factory::{AdbSinkFactory, MergeFilter};
pub use write::{Limits, UpsertStyle, WriteStats};

use async_trait::async_trait;
use dts_core::config::{TlsConfig, TlsMode};
use dts_core::{
    Change, CheckResult, Checkpoint, ConflictingTables, Ddl, DdlKind, Error, ExistingRows,
    PrecheckReport, Result, Row, SchemaRef, Sink, TableId, TableSchema, Transaction,
};
use dts_mysql::wire::MysqlEndpoint;
use ident::{quote_ident, quote_table};
use mysql_async::prelude::Queryable;
use mysql_async::{Conn, OptsBuilder, Params, Pool, Value as Raw};
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, RwLock, Weak};
use std::time::{Duration, Instant};
use write::{exec_chunked, Cause, Stats, TableBuffer, Writer};

/// Configuration of an [`AdbSink`]. Its `Debug` output hides the URL's password.
#[derive(Clone, PartialEq, Eq)]
pub struct AdbOptions {
    /// `mysql://user:password@host:port` of the ADB cluster (or of MariaDB in compat mode).
    /// Only host, port and account are read; TLS parameters in the URL are refused (use
    /// [`AdbOptions::tls`]).
    pub url: String,
    /// TLS of every connection to the cluster (default `disabled`): the same settings and
    /// checks as a MySQL destination's `[destination.tls]`, applied by
    /// [`dts_mysql::MysqlEndpoint`] (see [`dts_mysql::wire::tls`]).
    pub tls: TlsConfig,
    /// Task id: checkpoint row key and first part of `__dts_data_source`.
    pub task_id: String,
    /// Omit ADB-only clauses so MariaDB can run the statements (testing only).
    pub mariadb_compat: bool,
    /// Merge tables (task level): add `__dts_data_source` to every table.
    pub merge_tables: bool,
    /// Skip DDL that ADB cannot run (with a warning) instead of failing.
    pub skip_unsupported_ddl: bool,
    /// Upsert statement form.
    pub upsert: UpsertStyle,
    /// Rows per table buffer and statement (default 2 000): a buffer reaching it flushes the
    /// batch.
    pub batch_rows: usize,
    /// Approximate value bytes per table buffer and statement (default 4 MiB): a buffer
    /// reaching it flushes the batch.
    pub batch_bytes: usize,
    /// Longest time a change waits in the buffers before the batch is flushed and the
    /// checkpoint committed (default 1 s). `Duration::ZERO` flushes at the end of every
    /// `apply` call.
    pub flush_interval: Duration,
    /// ADB-only clauses (partition, clustered key) by destination table.
    pub tables: HashMap<TableId, TableClauses>,
    /// Database of the checkpoint table (default `dts_meta`).
    pub checkpoint_database: String,
    /// Largest connection pool size (default 4).
    pub pool_max: usize,
}

impl AdbOptions {
    /// Options with the defaults above.
    pub fn new(url: impl Into<String>, task_id: impl Into<String>) -> Self {
        Self {
            url: url.into(),
            tls: TlsConfig::default(),
            task_id: task_id.into(),
            mariadb_compat: false,
            merge_tables: false,
            skip_unsupported_ddl: false,
            upsert: UpsertStyle::default(),
            batch_rows: 2_000,
            batch_bytes: 4 << 20,
            flush_interval: Duration::from_secs(1),
            tables: HashMap::new(),
            checkpoint_database: "dts_meta".into(),
            pool_max: 4,
        }
    }

    fn ddl_options(&self) -> DdlOptions {
        DdlOptions {
            merged: self.merge_tables,
            mariadb_compat: self.mariadb_compat,
        }
    }

    fn limits(&self) -> Limits {
        Limits {
            rows: self.batch_rows.max(1),
            bytes: self.batch_bytes.max(1),
        }
    }
}

impl std::fmt::Debug for AdbOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AdbOptions")
            .field("url", &redact_url(&self.url))
            .field("tls", &self.tls)
            .field("task_id", &self.task_id)
            .field("mariadb_compat", &self.mariadb_compat)
            .field("merge_tables", &self.merge_tables)
            .field("skip_unsupported_ddl", &self.skip_unsupported_ddl)
            .field("upsert", &self.upsert)
            .field("batch_rows", &self.batch_rows)
            .field("batch_bytes", &self.batch_bytes)
            .field("flush_interval", &self.flush_interval)
            .field("tables", &self.tables)
            .field("checkpoint_database", &self.checkpoint_database)
            .field("pool_max", &self.pool_max)
            .finish()
    }
}

/// `mysql://user:***@host:port/…` for a connection URL with a password.
fn redact_url(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_string();
    };
    let Some(at) = rest.rfind('@') else {
        return url.to_string();
    };
    match rest[..at].split_once(':') {
        Some((user, _)) => format!("{scheme}://{user}:***{}", &rest[at..]),
        None => url.to_string(),
    }
}

/// Server error codes that mean a replayed DDL already ran (table/database exists or is gone,
/// column exists or is gone).
const ALREADY_APPLIED_CODES: [u16; 6] = [1050, 1051, 1060, 1091, 1007, 1008];

/// Changes buffered across `apply` calls, and the checkpoint that covers them.
#[derive(Default)]
struct Pending {
    buffers: Vec<TableBuffer>,
    /// Checkpoint of the last round whose changes are (at least partly) in `buffers`.
    checkpoint: Option<Checkpoint>,
    /// When the oldest buffered change arrived.
    since: Option<Instant>,
    /// A failure of the background flush, reported by the next call.
    failed: Option<Error>,
}

/// What the sink and its background flusher share.
struct Core {
    options: AdbOptions,
    /// Where and how to connect (account, TLS).
    ep: MysqlEndpoint,
    /// `destination (host:port)`, for messages.
    endpoint: String,
    /// Built at the first connection (see [`Core::pool`]).
    pool: tokio::sync::OnceCell<Pool>,
    stats: Stats,
    checkpoint_ready: AtomicBool,
    /// Also serializes `apply` calls and flushes.
    pending: tokio::sync::Mutex<Pending>,
    /// Cheap check for "something is buffered" without taking the lock.
    buffered: AtomicBool,
}

/// The ADB destination. See the crate docs.
pub struct AdbSink {
    core: Arc<Core>,
    merges: RwLock<HashMap<TableId, TableId>>,
    /// Destination tables known to exist in ADB's dialect (created by schema sync or at the
    /// first row of a table created by stream DDL).
    ensured: std::sync::Mutex<std::collections::HashSet<TableId>>,
    flusher: std::sync::Mutex<Option<tokio::task::JoinHandle<()>>>,
}

impl std::fmt::Debug for AdbSink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AdbSink")
            .field("endpoint", &self.core.endpoint)
            .field("task_id", &self.core.options.task_id)
            .finish_non_exhaustive()
    }
}

impl Drop for AdbSink {
    fn drop(&mut self) {
        if let Some(handle) = self
            .flusher
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take()
        {
            handle.abort();
        }
    }
}

impl Core {
    fn err(&self, what: &str) -> impl Fn(mysql_async::Error) -> Error + '_ {
        let what = what.to_string();
        // Statements the destination executes: their errors are retried within the window
        // for other issues.
        move |e| self.ep.map_write_err(&what, e)
    }

    /// The connection pool, built at the first call. Under `tls.mode = verify_ca` one
    /// connection is opened first, so a certificate that does not name the host is verified
    /// against a name it holds (see [`dts_mysql::wire::tls`]).
    async fn pool(&self) -> Result<&Pool> {
        self.pool
            .get_or_try_init(|| async {
                if self.ep.tls().mode == TlsMode::VerifyCa {
                    let conn = self.ep.connect().await?;
                    let _ = conn.disconnect().await;
                }
                let opts = OptsBuilder::from_opts(self.ep.opts(self.options.pool_max))
                    .stmt_cache_size(64)
                    .setup(vec!["SET time_zone = '+00:00'", "SET NAMES utf8mb4"]);
                Ok(Pool::new(opts))
            })
            .await
    }

    async fn conn(&self) -> Result<Conn> {
        self.pool()
            .await?
            .get_conn()
            .await
            .map_err(|e| self.ep.map_err("connect", e))
    }

    async fn ensure_checkpoint_table(&self, conn: &mut Conn) -> Result<()> {
        if self.checkpoint_ready.load(Ordering::Acquire) {
            return Ok(());
        }
        conn.query_drop(ddl::create_database_sql(&self.options.checkpoint_database))
            .await
            .map_err(self.err("create checkpoint database"))?;
        conn.query_drop(checkpoint::create_table_sql(
            &self.options.checkpoint_database,
            self.options.mariadb_compat,
        ))
        .await
        .map_err(self.err("create checkpoint table"))?;
        self.checkpoint_ready.store(true, Ordering::Release);
        Ok(())
    }

    async fn store_checkpoint(&self, conn: &mut Conn, cp: &Checkpoint, cause: Cause) -> Result<()> {
        self.ensure_checkpoint_table(conn).await?;
        checkpoint::write(
            conn,
            &self.options.checkpoint_database,
            &self.options.task_id,
            cp,
        )
        .await
        .map_err(self.err("store checkpoint"))?;
        self.stats.add_commit(cause);
        Ok(())
    }

    /// Writes every buffered change, then commits the pending checkpoint. On failure the
    /// buffers are dropped: the task replays from the stored checkpoint.
    async fn flush_pending(&self, pending: &mut Pending, cause: Cause) -> Result<()> {
        if pending.checkpoint.is_none() && pending.buffers.iter().all(|b| b.is_empty()) {
            pending.buffers.clear();
            pending.since = None;
            self.buffered.store(false, Ordering::Release);
            return Ok(());
        }
        let result = async {
            let mut conn = self.conn().await?;
            let mut writer = Writer::new(
                &mut conn,
                self.options.limits(),
                self.options.upsert,
                &self.stats,
                &mut pending.buffers,
            );
            writer.flush().await.map_err(self.err("flush batch"))?;
            if let Some(cp) = &pending.checkpoint {
                self.store_checkpoint(&mut conn, cp, cause).await?;
            }
            Ok(())
        }
        .await;
        pending.buffers.clear();
        pending.checkpoint = None;
        pending.since = None;
        self.buffered.store(false, Ordering::Release);
        result
    }

    /// Flushes before a call that must see (or must not race with) buffered changes; reports
    /// a failure of the background flush.
    async fn settle(&self) -> Result<()> {
        if !self.buffered.load(Ordering::Acquire) {
            let mut pending = self.pending.lock().await;
            return match pending.failed.take() {
                Some(e) => Err(e),
                None => Ok(()),
            };
        }
        let mut pending = self.pending.lock().await;
        if let Some(e) = pending.failed.take() {
            return Err(e);
        }
        self.flush_pending(&mut pending, Cause::Other).await
    }
}

/// The background flusher: flushes the buffers once their oldest change has waited the flush
/// interval, even when no further `apply` call comes. Ends with the sink.
async fn flush_by_time(core: Weak<Core>, interval: Duration) {
    let tick = (interval / 4).clamp(Duration::from_millis(5), Duration::from_millis(250));
    loop {
        tokio::time::sleep(tick).await;
        let Some(core) = core.upgrade() else { return };
        let mut pending = core.pending.lock().await;
        let due = pending.since.is_some_and(|t| t.elapsed() >= interval);
        if due && pending.failed.is_none() {
            if let Err(e) = core.flush_pending(&mut pending, Cause::Time).await {
                tracing::warn!(error = %e, "ADB background flush failed; the task replays from the stored checkpoint");
                pending.failed = Some(e);
            }
        }
    }
}

impl AdbSink {
    /// A sink for `options` (connects lazily). Every connection is made through the
    /// [`MysqlEndpoint`] of [`AdbSink::endpoint`], encrypted as [`AdbOptions::tls`] says.
    pub fn new(options: AdbOptions) -> Result<Self> {
        let ep =
            MysqlEndpoint::from_url("destination", &options.url)?.with_tls(options.tls.clone());
        let endpoint = format!("{} ({})", ep.label, ep.address());
        Ok(Self {
            core: Arc::new(Core {
                pool: tokio::sync::OnceCell::new(),
                ep,
                endpoint,
                options,
                stats: Stats::default(),
                checkpoint_ready: AtomicBool::new(false),
                pending: tokio::sync::Mutex::new(Pending::default()),
                buffered: AtomicBool::new(false),
            }),
            merges: RwLock::new(HashMap::new()),
            ensured: std::sync::Mutex::new(std::collections::HashSet::new()),
            flusher: std::sync::Mutex::new(None),
        })
    }

    /// The options the sink was built with.
    pub fn options(&self) -> &AdbOptions {
        &self.core.options
    }

    /// The endpoint every connection of the sink is made through (host, port, account and
    /// TLS from [`AdbOptions`]); the ADB verification reader connects through it too.
    pub fn endpoint(&self) -> &MysqlEndpoint {
        &self.core.ep
    }

    /// Registers a shard: rows and schemas of table `source` go to `destination` (requires
    /// [`AdbOptions::merge_tables`] to tag rows by source; without it shards would collide).
    pub fn merge_into(&self, source: TableId, destination: TableId) {
        self.merges
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .insert(source, destination);
    }

    /// The destination table of a table the sink receives.
    pub fn destination_of(&self, table: &TableId) -> TableId {
        self.merges
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .get(table)
            .cloned()
            .unwrap_or_else(|| table.clone())
    }

    /// `__dts_data_source` of a source table: `<task id>:<database>:<schema>:<table>`.
    pub fn data_source(&self, table: &TableId) -> String {
        format!(
            "{}:{}:{}:{}",
            self.core.options.task_id, table.database, table.database, table.table
        )
    }

    /// Counters of the statements run so far.
    pub fn stats(&self) -> WriteStats {
        self.core.stats.snapshot()
    }

    /// Flushes what is buffered and closes the connection pool.
    pub async fn disconnect(self) -> Result<()> {
        let flushed = Sink::flush(&self).await;
        let ep = self.core.ep.clone();
        let pool = self.core.pool.get().cloned();
        drop(self);
        let closed = match pool {
            Some(pool) => pool
                .disconnect()
                .await
                .map_err(|e| ep.map_err("disconnect", e)),
            None => Ok(()),
        };
        flushed.and(closed)
    }

    async fn conn(&self) -> Result<Conn> {
        self.core.conn().await
    }

    fn err(&self, what: &str) -> impl Fn(mysql_async::Error) -> Error + '_ {
        self.core.err(what)
    }

    fn tag(&self, table: &TableId) -> Option<String> {
        self.core
            .options
            .merge_tables
            .then(|| self.data_source(table))
    }

    fn layout(&self, schema: &TableSchema) -> Result<TableLayout> {
        TableLayout::new(schema, self.core.options.merge_tables).map_err(|message| Error::Schema {
            table: schema.id.clone(),
            message,
        })
    }

    /// Starts the background flusher once (needs a running Tokio runtime, which `apply` has).
    fn ensure_flusher(&self) {
        let interval = self.core.options.flush_interval;
        if interval.is_zero() {
            return;
        }
        let mut flusher = self.flusher.lock().unwrap_or_else(|e| e.into_inner());
        if flusher.is_none() {
            flusher.replace(tokio::spawn(flush_by_time(
                Arc::downgrade(&self.core),
                interval,
            )));
        }
    }

    /// Runs one stream DDL statement under the ADB rules (see the crate docs).
    async fn run_ddl(&self, conn: &mut Conn, ddl: &Ddl) -> Result<()> {
        let table = ddl
            .tables
            .first()
            .cloned()
            .unwrap_or_else(|| TableId::new(ddl.database.clone().unwrap_or_default(), ""));
        let refuse = |message: String| -> Result<()> {
            if self.core.options.skip_unsupported_ddl {
                tracing::warn!(statement = %ddl.statement, "skipping DDL: {message}");
                Ok(())
            } else {
                Err(Error::Schema {
                    table: table.clone(),
                    message: format!("{message}: `{}`", ddl.statement),
                })
            }
        };
        if self.core.options.merge_tables && ddl.kind == DdlKind::DropDatabase {
            // The destination database holds merged tables that other sources feed too.
            return refuse(
                "DROP DATABASE while merging tables is not supported (the destination \
                 database holds merged tables that other source tables also write)"
                    .into(),
            );
        }
        if self.core.options.merge_tables && !ddl.tables.is_empty() {
            if ddl.kind == DdlKind::TruncateTable {
                for t in &ddl.tables {
                    let sql = format!(
                        "DELETE FROM {} WHERE {} = ?",
                        quote_table(&self.destination_of(t)),
                        quote_ident(DATA_SOURCE_COLUMN)
                    );
                    conn.exec_drop(sql, (self.data_source(t),))
                        .await
                        .map_err(self.err("truncate merged shard"))?;
                }
                return Ok(());
            }
            if !matches!(ddl.kind, DdlKind::CreateDatabase | DdlKind::DropDatabase) {
                return refuse(
                    "schema-changing DDL on merged tables is not supported (the merged \
                     destination's schema must stay identical for every shard)"
                        .into(),
                );
            }
        }
        if let Err(reason) = ddl::check_stream_ddl(ddl) {
            return refuse(reason);
        }
        match ddl.kind {
            // The statement is MySQL's (UNSIGNED, ENUM, ENGINE=…, no distribution key): the
            // table is created in ADB's dialect from its schema when its first row arrives.
            DdlKind::CreateTable => {
                tracing::info!(statement = %ddl.statement, "CREATE TABLE: the table is created in ADB's dialect from its schema at its first row");
                for t in &ddl.tables {
                    self.ensured_tables().remove(&self.destination_of(t));
                }
                return Ok(());
            }
            DdlKind::DropTable => {
                for t in &ddl.tables {
                    self.ensured_tables().remove(&self.destination_of(t));
                }
            }
            DdlKind::DropDatabase => self.ensured_tables().clear(),
            _ => {}
        }
        if let Some(db) = &ddl.database {
            conn.query_drop(format!("USE {}", quote_ident(db)))
                .await
                .map_err(self.err("select DDL database"))?;
        }
        match conn.query_drop(&ddl.statement).await {
            Ok(()) => Ok(()),
            Err(mysql_async::Error::Server(s)) if ALREADY_APPLIED_CODES.contains(&s.code) => {
                tracing::warn!(statement = %ddl.statement, "DDL already applied (replay): {}", s.message);
                Ok(())
            }
            Err(e) => Err(self
                .core
                .ep
                .map_write_err(&format!("DDL `{}`", ddl.statement), e)),
        }
    }

    /// Buffers (and, when due, writes) the changes of one `apply` call; returns whether the
    /// batch must be flushed now and why.
    async fn buffer_batch(
        &self,
        conn: &mut Conn,
        pending: &mut Pending,
        batch: &[Transaction],
    ) -> Result<Option<Cause>> {
        let options = &self.core.options;
        let mut layouts: HashMap<usize, Arc<TableLayout>> = HashMap::new();
        let mut ddl_seen = false;
        let mut writer = Writer::new(
            conn,
            options.limits(),
            options.upsert,
            &self.core.stats,
            &mut pending.buffers,
        );
        for txn in batch {
            for change in &txn.changes {
                match change {
                    Change::Row(rc) => {
                        let key = Arc::as_ptr(&rc.schema) as usize;
                        let layout = match layouts.get(&key) {
                            Some(l) => l.clone(),
                            None => {
                                let l = Arc::new(self.layout(&rc.schema)?);
                                layouts.insert(key, l.clone());
                                l
                            }
                        };
                        let dest = self.destination_of(rc.table());
                        let tag = self.tag(rc.table());
                        if !self.ensured_tables().contains(&dest) {
                            self.ensure_table(writer.conn(), &rc.schema).await?;
                        }
                        writer
                            .push(rc, &dest, &layout, &tag)
                            .await
                            .map_err(self.err(&format!("write {dest}")))?;
                        if pending.since.is_none() {
                            pending.since = Some(Instant::now());
                        }
                    }
                    Change::Derived(d) => {
                        // Everything before it is written first: the predicate must see it.
                        writer
                            .flush()
                            .await
                            .map_err(self.err("flush before a foreign-key cascade"))?;
                        let st = cascade::statement(self, d);
                        let params: Vec<Raw> = st.params.iter().map(write::to_param).collect();
                        let what = format!(
                            "cascade {} (constraint `{}`) on {}",
                            d.op.name(),
                            d.constraint,
                            self.destination_of(d.table())
                        );
                        writer
                            .conn()
                            .exec_drop(st.sql, params)
                            .await
                            .map_err(self.err(&what))?;
                    }
                    Change::Ddl(ddl) => {
                        writer.flush().await.map_err(self.err("flush before DDL"))?;
                        self.run_ddl(writer.conn(), ddl).await?;
                        ddl_seen = true;
                    }
                }
            }
        }
        let size = writer.size_flushed();
        Ok(if size {
            Some(Cause::Size)
        } else if options.flush_interval.is_zero() || ddl_seen {
            Some(Cause::Other)
        } else if pending
            .since
            .is_some_and(|t| t.elapsed() >= options.flush_interval)
        {
            Some(Cause::Time)
        } else {
            None
        })
    }
}

#[async_trait]
impl Sink for AdbSink {
    /// AnalyticDB for MySQL 3.0 holds the tables; the MySQL source's stored routines, triggers
    /// and events have no counterpart there, and its views are left out too (their bodies use
    /// MySQL functions the analytic engine does not all have).
    fn holds_objects(&self, kind: dts_core::ObjectKind) -> std::result::Result<(), String> {
        Err(format!(
            "AnalyticDB for MySQL 3.0 destinations hold tables only; a {kind} is not created"
        ))
    }

    async fn precheck(&self, tables: &[TableSchema], mode: ConflictingTables) -> PrecheckReport {
        let mut report = PrecheckReport::default();
        // `destination.connectivity` and `destination.tls`, as for a MySQL destination.
        let Some(mut conn) =
            dts_mysql::wire::precheck::connect_checked(&self.core.ep, &mut report).await
        else {
            return report;
        };
        let sequences: Vec<String> = tables
            .iter()
            .filter(|t| t.is_sequence())
            .map(|t| t.id.to_string())
            .collect();
        if !sequences.is_empty() {
            report.checks.push(CheckResult::error(
                "destination.sequences",
                format!(
                    "AnalyticDB for MySQL has no sequences; selected MariaDB sequences: {}",
                    sequences.join(", ")
                ),
                "leave the sequences out of the selection (for example with [[objects.exclude]])",
            ));
        }
        report.checks.push(dropped::check(tables));
        let mut existing = Vec::new();
        let mut seen = std::collections::BTreeSet::new();
        let mut bad_clauses = Vec::new();
        for t in tables {
            let dest = self.destination_of(&t.id);
            if !seen.insert(dest.clone()) {
                continue;
            }
            if let Some(w) = ddl::key_warning(t) {
                report.checks.push(CheckResult::warning(
                    "destination.primary_key",
                    w,
                    "add a primary key to the source table",
                ));
            }
            if let Err(e) = self.create_sql(t) {
                bad_clauses.push(e.to_string());
            }
            let found: std::result::Result<Option<u64>, _> = conn
                .exec_first(
                    "SELECT COUNT(*) FROM information_schema.tables \
                     WHERE table_schema = ? AND table_name = ?",
                    (dest.database.as_str(), dest.table.as_str()),
                )
                .await;
            match found {
                Ok(Some(n)) if n > 0 => existing.push(dest.to_string()),
                Ok(_) => {}
                Err(e) => {
                    report.checks.push(CheckResult::error(
                        "destination.existing_tables",
                        format!("cannot list tables on {}: {e}", self.core.endpoint),
                        "grant SELECT on information_schema",
                    ));
                    return report;
                }
            }
        }
        let unknown: Vec<String> = self
            .core
            .options
            .tables
            .keys()
            .filter(|t| !seen.contains(*t))
            .map(|t| t.to_string())
            .collect();
        if !unknown.is_empty() {
            bad_clauses.push(format!(
                "destination.tables names tables the task does not write: {}",
                unknown.join(", ")
            ));
        }
        report.checks.push(if bad_clauses.is_empty() {
            CheckResult::pass(
                "destination.table_options",
                "ADB table options fit their tables",
            )
        } else {
            CheckResult::error(
                "destination.table_options",
                bad_clauses.join("; "),
                "fix destination.tables (partition column in the primary key, existing columns)",
            )
        });
        let check = "destination.existing_tables";
        report.checks.push(match (existing.is_empty(), mode) {
            (true, _) => CheckResult::pass(check, "no destination table exists yet"),
            (false, ConflictingTables::PrecheckAndReportErrors) => CheckResult::error(
                check,
                format!("destination tables already exist: {}", existing.join(", ")),
                "drop or rename them, or choose Ignore Errors and Proceed",
            ),
            (false, ConflictingTables::IgnoreErrorsAndProceed) => CheckResult::warning(
                check,
                format!(
                    "destination tables already exist and will be written: {}",
                    existing.join(", ")
                ),
                "acknowledge to proceed",
            ),
        });
        let _ = conn.disconnect().await;
        report
    }

    /// Destination tables (merged shards under their merged table) that do not exist, for
    /// tasks without schema synchronization.
    fn supports_derived_changes(&self) -> std::result::Result<(), String> {
        Ok(())
    }

    async fn missing_tables(&self, tables: &[TableSchema]) -> Result<Option<Vec<TableId>>> {
        let mapped: Vec<TableSchema> = tables
            .iter()
            .map(|t| TableSchema {
                id: self.destination_of(&t.id),
                ..t.clone()
            })
            .collect();
        let mut conn = self.conn().await?;
        dts_mysql::wire::catalog::missing_tables(&mut conn, &self.core.endpoint, &mapped)
            .await
            .map(Some)
    }

    async fn apply_schema(&self, schema: &TableSchema) -> Result<()> {
        self.core.settle().await?;
        let (dest, sql) = self.create_sql(schema)?;
        if let Some(w) = ddl::key_warning(schema) {
            tracing::warn!("{w}");
        }
        let mut conn = self.conn().await?;
        self.create_table(&mut conn, &dest, &sql).await
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
        self.core.settle().await?;
        let layout = self.layout(schema)?;
        let dest = self.destination_of(&schema.id);
        let tag = self.tag(&schema.id);
        let params: Vec<(Vec<Raw>, usize)> = rows
            .iter()
            .map(|row| {
                let mut size = 0;
                let mut p: Vec<Raw> = layout
                    .columns
                    .iter()
                    .map(|&i| {
                        size += row[i].approx_size();
                        write::to_param(&row[i])
                    })
                    .collect();
                if let Some(tag) = &tag {
                    p.push(Raw::Bytes(tag.as_bytes().to_vec()));
                }
                (p, size)
            })
            .collect();
        let n = params.len() as u64;
        let limits = self.core.options.limits();
        let style = self.core.options.upsert;
        let keyed = layout.key.is_some();
        let mut conn = self.conn().await?;
        let statements = exec_chunked(&mut conn, params, limits, |rows| match (existing, keyed) {
            (ExistingRows::Keep, _) => write::insert_sql(&dest, &layout.column_names, rows, true),
            (ExistingRows::Replace, true) => {
                write::upsert_sql(&dest, &layout.column_names, &layout.key_names, rows, style)
            }
            (ExistingRows::Replace, false) => {
                write::insert_sql(&dest, &layout.column_names, rows, false)
            }
        })
        .await
        .map_err(self.err(&format!("write rows of {dest}")))?;
        self.core.stats.add_upserts(statements, n);
        Ok(())
    }

    async fn reset_table(&self, schema: &TableSchema) -> Result<()> {
        self.core.settle().await?;
        let dest = self.destination_of(&schema.id);
        let mut conn = self.conn().await?;
        match self.tag(&schema.id) {
            Some(tag) => {
                conn.exec_drop(
                    format!(
                        "DELETE FROM {} WHERE {} = ?",
                        quote_table(&dest),
                        quote_ident(DATA_SOURCE_COLUMN)
                    ),
                    Params::Positional(vec![Raw::from(tag)]),
                )
                .await
            }
            None => {
                conn.query_drop(format!("TRUNCATE TABLE {}", quote_table(&dest)))
                    .await
            }
        }
        .map_err(self.err(&format!("reset {dest}")))
    }

    async fn apply_ddl(&self, ddl: &Ddl) -> Result<()> {
        self.core.settle().await?;
        let mut conn = self.conn().await?;
        self.run_ddl(&mut conn, ddl).await
    }

    /// Buffers the batch; flushes every buffer and commits `checkpoint` when a buffer reached
    /// the size limits, the oldest buffered change waited the flush interval, the interval
    /// is zero, or the batch held DDL. Otherwise `checkpoint` is committed by a later flush
    /// (the next round's, the background timer's, or `Sink::flush`). Any failure drops
    /// the buffers, so the task's replay from the stored checkpoint rewrites them.
    async fn apply(&self, batch: &[Transaction], checkpoint: &Checkpoint) -> Result<()> {
        let mut pending = self.core.pending.lock().await;
        if let Some(e) = pending.failed.take() {
            return Err(e);
        }
        let mut conn = match self.conn().await {
            Ok(c) => c,
            Err(e) => {
                *pending = Pending::default();
                self.core.buffered.store(false, Ordering::Release);
                return Err(e);
            }
        };
        let buffered = self.buffer_batch(&mut conn, &mut pending, batch).await;
        let cause = match buffered {
            Ok(c) => c,
            Err(e) => {
                *pending = Pending::default();
                self.core.buffered.store(false, Ordering::Release);
                return Err(e);
            }
        };
        let nothing_buffered = pending.buffers.iter().all(|b| b.is_empty());
        pending.checkpoint = Some(checkpoint.clone());
        if nothing_buffered || cause.is_some() {
            drop(conn);
            let cause = cause.unwrap_or(Cause::Other);
            return self.core.flush_pending(&mut pending, cause).await;
        }
        self.core.buffered.store(true, Ordering::Release);
        drop(pending);
        self.ensure_flusher();
        Ok(())
    }

    /// Writes every buffered change now and commits the checkpoint that covers them (call it
    /// before stopping, so the next start does not replay them). Reports a failure of an
    /// earlier background flush.
    async fn flush(&self) -> Result<()> {
        let mut pending = self.core.pending.lock().await;
        if let Some(e) = pending.failed.take() {
            return Err(e);
        }
        self.core.flush_pending(&mut pending, Cause::Other).await
    }

    async fn read_checkpoint(&self) -> Result<Option<Checkpoint>> {
        // Whatever is buffered is written (and its checkpoint committed) first, so a resume
        // does not replay it.
        {
            let mut pending = self.core.pending.lock().await;
            // A failed background flush dropped its buffers; the stored checkpoint is where
            // the replay starts.
            pending.failed = None;
            self.core.flush_pending(&mut pending, Cause::Other).await?;
        }
        let mut conn = self.conn().await?;
        self.core.ensure_checkpoint_table(&mut conn).await?;
        checkpoint::read(
            &mut conn,
            &self.core.options.checkpoint_database,
            &self.core.options.task_id,
        )
        .await
        .map_err(self.err("read checkpoint"))
    }
}

impl AdbSink {
    fn ensured_tables(&self) -> std::sync::MutexGuard<'_, std::collections::HashSet<TableId>> {
        self.ensured.lock().unwrap_or_else(|e| e.into_inner())
    }

    async fn create_table(&self, conn: &mut Conn, dest: &TableId, sql: &str) -> Result<()> {
        conn.query_drop(ddl::create_database_sql(&dest.database))
            .await
            .map_err(self.err("create database"))?;
        conn.query_drop(sql)
            .await
            .map_err(self.err(&format!("create table {dest}")))?;
        self.ensured_tables().insert(dest.clone());
        Ok(())
    }

    /// `CREATE TABLE IF NOT EXISTS` (ADB's dialect) of the destination table of a row's
    /// schema, once per table and sink.
    async fn ensure_table(&self, conn: &mut Conn, schema: &TableSchema) -> Result<()> {
        let (dest, sql) = self.create_sql(schema)?;
        if let Some(w) = ddl::key_warning(schema) {
            tracing::warn!("{w}");
        }
        self.create_table(conn, &dest, &sql).await
    }

    /// The destination table and `CREATE TABLE` of a schema the sink receives, with the
    /// table's configured clauses.
    fn create_sql(&self, schema: &TableSchema) -> Result<(TableId, String)> {
        let mut dest = schema.clone();
        dest.id = self.destination_of(&schema.id);
        let clauses = self
            .core
            .options
            .tables
            .get(&dest.id)
            .cloned()
            .unwrap_or_default();
        let sql = create_table_sql_with(&dest, self.core.options.ddl_options(), &clauses).map_err(
            |message| Error::Schema {
                table: dest.id.clone(),
                message,
            },
        )?;
        Ok((dest.id, sql))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_hides_the_password() {
        let o = AdbOptions::new("mysql://u:s3cret@h:3306", "t");
        let text = format!("{o:?}");
        assert!(!text.contains("s3cret"), "{text}");
        assert!(text.contains("mysql://u:***@h:3306"), "{text}");
        assert_eq!(redact_url("mysql://u@h"), "mysql://u@h");
    }
}
