//! The source side of the MySQL connector: [`MysqlSource`], the `dts_core::Source` of a
//! MySQL-family server, and what it is made of — the full-data reads ([`snapshot`]), binlog
//! capture ([`binlog`]) and DDL reading ([`ddl`]), the start position ([`start`], [`position`]),
//! foreign keys ([`foreign_keys`]), schema objects and accounts ([`schema_objects`]), the
//! precheck ([`precheck`], with the grants parser in `grants`), the migration assessment's
//! source checks ([`assessment`]) and the personal-data scan ([`scan`]). Tables are discovered
//! through [`crate::wire::catalog`], which verification shares.

pub(crate) mod assessment;
pub mod binlog;
pub mod ddl;
pub(crate) mod foreign_keys;
pub(crate) mod grants;
pub(crate) mod position;
pub mod precheck;
pub mod scan;
pub(crate) mod schema_objects;
pub(crate) mod snapshot;
pub(crate) mod start;

use crate::source::binlog::{BinlogOptions, BinlogReader};
use crate::source::position::read_position;
use crate::wire::catalog::{discover_other_objects, discover_tables, OtherObjects, Scope};
use crate::wire::conn::{MysqlEndpoint, ServerInfo};
use crate::wire::session::SESSION_SETUP;
use async_trait::async_trait;
use dts_core::{
    Chunk, ChunkRequest, ConsistentRead, Error, Position, Result, SchemaRef, Source, StreamEvent,
};
use futures::stream::BoxStream;
use mysql_async::{OptsBuilder, Pool};
use std::sync::Arc;

/// Options of a MySQL source.
#[derive(Clone, Debug)]
pub struct SourceOptions {
    /// Databases the source works on (empty: every non-system database).
    pub scope: Scope,
    /// Connections used by parallel snapshot reads.
    pub pool_size: usize,
    /// Binlog reader tuning.
    pub binlog: BinlogOptions,
    /// The database type the task file declares (`source.database_type`), compared at
    /// precheck with the flavour the connection detects; `None` when not declared.
    pub declared_type: Option<dts_core::config::DatabaseType>,
}

impl Default for SourceOptions {
    fn default() -> Self {
        Self {
            scope: Scope::default(),
            pool_size: 4,
            binlog: BinlogOptions::default(),
            declared_type: None,
        }
    }
}

/// A MySQL or MariaDB server as a change source.
pub struct MysqlSource {
    endpoint: MysqlEndpoint,
    server: ServerInfo,
    pool: Pool,
    options: SourceOptions,
}

impl MysqlSource {
    /// Connects, detects the server flavour, and prepares a snapshot connection pool.
    pub async fn connect(endpoint: MysqlEndpoint, mut options: SourceOptions) -> Result<Self> {
        let mut conn = endpoint.connect().await?;
        let server = ServerInfo::detect(&mut conn)
            .await
            .map_err(|e| endpoint.map_err("detect version", e))?;
        drop(conn);
        let opts = OptsBuilder::from_opts(endpoint.opts(options.pool_size))
            .setup(SESSION_SETUP.iter().map(|s| s.to_string()).collect());
        let pool = Pool::new(opts);
        if options.binlog.scope.databases.is_empty() {
            options.binlog.scope = options.scope.clone();
        }
        Ok(Self {
            endpoint,
            server,
            pool,
            options,
        })
    }

    /// The detected server flavour and version.
    pub fn server(&self) -> &ServerInfo {
        &self.server
    }

    /// The endpoint this source reads.
    pub fn endpoint(&self) -> &MysqlEndpoint {
        &self.endpoint
    }

    /// Views, triggers, events and routines in scope (for the optional migrations).
    pub async fn other_objects(&self) -> Result<OtherObjects> {
        let mut conn = self.endpoint.connect().await?;
        discover_other_objects(&mut conn, &self.options.scope).await
    }

    /// A binlog reader with this source's options.
    pub fn binlog_reader(&self) -> BinlogReader {
        BinlogReader::new(
            self.endpoint.clone(),
            self.server.clone(),
            self.options.binlog.clone(),
        )
    }
}

#[async_trait]
impl Source for MysqlSource {
    async fn assess(
        &self,
        tables: &[dts_core::assessment::AssessedTable],
    ) -> dts_core::assessment::AssessmentReport {
        let mut report = dts_core::assessment::AssessmentReport::default();
        crate::source::assessment::assess_source_objects(&self.endpoint, tables, &mut report).await;
        report
    }

    fn verify_reader(
        &self,
        encoding: dts_core::verify::Encoding,
    ) -> Option<Arc<dyn dts_core::verify::VerifyReader>> {
        use crate::wire::verify::{MysqlVerifyReader, ReaderOptions};
        Some(Arc::new(MysqlVerifyReader::with_options(
            self.endpoint.clone(),
            crate::factory::VERIFY_POOL,
            ReaderOptions {
                encoding,
                ..Default::default()
            },
        )))
    }

    async fn precheck(&self) -> dts_core::PrecheckReport {
        let mut report =
            crate::source::precheck::check_source(&self.endpoint, &self.options.scope.databases)
                .await;
        report
            .checks
            .push(crate::wire::precheck::check_declared_type(
                "source",
                self.options.declared_type,
                &self.server,
            ));
        report
    }

    async fn discover(&self) -> Result<Vec<SchemaRef>> {
        let mut conn = self.endpoint.connect().await?;
        Ok(
            discover_tables(&mut conn, &self.server, &self.options.scope)
                .await?
                .into_iter()
                .map(Arc::new)
                .collect(),
        )
    }

    async fn foreign_keys(&self) -> Result<Vec<dts_core::ForeignKey>> {
        let mut conn = self.endpoint.connect().await?;
        crate::source::foreign_keys::read_foreign_keys(&mut conn, &self.options.scope).await
    }

    async fn schema_objects(&self) -> Result<Vec<dts_core::SchemaObject>> {
        let mut conn = self.endpoint.connect().await?;
        crate::wire::catalog::objects::read_schema_objects(&mut conn, &self.options.scope).await
    }

    async fn precheck_objects(
        &self,
        objects: &[dts_core::SchemaObject],
    ) -> dts_core::PrecheckReport {
        crate::source::schema_objects::check_definers(&self.endpoint, objects).await
    }

    async fn accounts(&self, names: &[String]) -> Result<Vec<dts_core::Account>> {
        let mut conn = self.endpoint.connect().await?;
        crate::source::schema_objects::read_accounts(&mut conn, names, self.server.is_mariadb())
            .await
    }

    async fn estimate_rows(&self, schema: &SchemaRef) -> Result<u64> {
        use mysql_async::prelude::Queryable;
        let mut conn = self
            .pool
            .get_conn()
            .await
            .map_err(|e| self.endpoint.map_err("estimate rows", e))?;
        let rows: Option<Option<u64>> = conn
            .exec_first(
                "SELECT TABLE_ROWS FROM information_schema.TABLES \
                 WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ?",
                (&schema.id.database, &schema.id.table),
            )
            .await
            .map_err(|e| self.endpoint.map_err("estimate rows", e))?;
        Ok(rows.flatten().unwrap_or(0))
    }

    async fn write_heartbeat(&self, task_id: &str) -> Result<()> {
        use mysql_async::prelude::Queryable;
        let m = |e| self.endpoint.map_err("write heartbeat", e);
        let mut conn = self.pool.get_conn().await.map_err(m)?;
        let sql = "REPLACE INTO `dts_meta`.`dts_heartbeat` (task_id, beat) VALUES (?, NOW(6))";
        if conn.exec_drop(sql, (task_id,)).await.is_err() {
            conn.query_drop("CREATE DATABASE IF NOT EXISTS `dts_meta`")
                .await
                .map_err(m)?;
            conn.query_drop(
                "CREATE TABLE IF NOT EXISTS `dts_meta`.`dts_heartbeat` \
                 (task_id VARCHAR(64) PRIMARY KEY, beat TIMESTAMP(6) NOT NULL)",
            )
            .await
            .map_err(m)?;
            conn.exec_drop(sql, (task_id,)).await.map_err(m)?;
        }
        Ok(())
    }

    async fn current_position(&self) -> Result<Position> {
        let mut conn = self.endpoint.connect().await?;
        read_position(&mut conn, &self.endpoint, &self.server).await
    }

    async fn read_chunk(&self, request: &ChunkRequest) -> Result<Chunk> {
        snapshot::read_chunk(&self.pool, &self.endpoint, request).await
    }

    async fn read_consistent(
        &self,
        schema: SchemaRef,
        condition: Option<String>,
        columns: Option<Vec<usize>>,
        batch_rows: usize,
    ) -> Result<ConsistentRead> {
        snapshot::read_consistent(
            &self.endpoint,
            &self.server,
            schema,
            condition,
            columns,
            batch_rows,
        )
        .await
    }

    async fn stream(
        &self,
        from: Position,
    ) -> Result<BoxStream<'static, Result<StreamEvent, Error>>> {
        self.binlog_reader().stream(from).await
    }
}
