//! The AnalyticDB for MySQL 3.0 connector's factory for [`dts_core::build::TaskBuilder`]:
//! [`AdbSinkFactory`] builds the [`AdbSink`] of a `[destination] type = "adb"` section and, with
//! `merge_tables`, the [`MergeFilter`] that lets the sink tell shards apart. The source, the
//! filter and the runner options are the builder's; the host registers a source connector.
//!
//! Keys of the destination section and where they go:
//!
//! | key | [`AdbOptions`] field |
//! |---|---|
//! | `host`, `port`, `user`, password keys, `connection` | `url` |
//! | `[destination.tls]` (or the saved connection's `tls`) | `tls` |
//! | `merge_tables` | `merge_tables` (+ [`MergeFilter`]) |
//! | `dml`, `ddl` | instance-level operation selection, applied by the task's filter |
//! | `skip_unsupported_ddl` | `skip_unsupported_ddl` |
//! | `batch_rows`, `batch_bytes` | `batch_rows`, `batch_bytes` |
//! | `flush_interval_ms` | `flush_interval` (default 1000 ms) |
//! | `mariadb_compat` | `mariadb_compat` (testing against MariaDB only) |
//! | `[destination.tables."db.table"]` | `tables` ([`TableClauses`]) |
//!
//! `migration.capitalization = "dts_default"` lower-cases database and table names when the
//! cluster folds them; the cluster is asked ([`crate::names`]).
//!
//! `[destination.tls]` encrypts every connection to the cluster — the sink's pool, the
//! precheck (which reports `destination.tls`) and the verification reader — exactly as for a
//! MySQL destination (`mode` disabled / required / verify_ca / verify_identity, `ca_cert`,
//! `client_cert`, `client_key`; see [`dts_mysql::wire::tls`]). Two-way topologies are refused (ADB
//! is a one-way destination).
//!
//! `[validation]` verifies with the source read in the portable encoding
//! ([`Encoding::Portable`]) and the destination with [`AdbVerifyReader`] (see [`crate::verify`]); with incremental
//! verification the task's sink is wrapped so applied batches are re-read. Verification of
//! merged tables is refused (key `validation`).

use crate::config::AdbDestination;
use crate::verify::AdbVerifyReader;
use crate::{AdbOptions, AdbSink, TableClauses};
use async_trait::async_trait;
use dts_core::build::{BuiltSink, SinkFactory, SinkRequest};
use dts_core::config::{
    ConfigError, ConnectionSettings, DestinationKind, TaskConfig, TopologyMode,
};
use dts_core::verify::Encoding;
use dts_core::{Ddl, Error, Filter, Row, TableId, TableRoute, TableSchema};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

/// Connections per side used by verification.
const VERIFY_POOL: usize = 4;

fn unsupported(key: &str, why: &str) -> Error {
    Error::Config(ConfigError::invalid(
        key,
        format!("not supported by this build: {why}"),
    ))
}

/// Percent-encodes a URL user-info part (everything but unreserved characters).
fn encode_userinfo(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// The sink options of an ADB destination section (`merge_tables` from core's part of it, the
/// rest from the connector's `adb`) reached through `settings`.
pub fn options_from_config(
    merge_tables: bool,
    adb: &AdbDestination,
    settings: &ConnectionSettings,
    task_id: &str,
) -> Result<AdbOptions, Error> {
    let password = settings.resolve_password()?;
    let user = encode_userinfo(&settings.user);
    let auth = if password.expose().is_empty() {
        user
    } else {
        format!("{user}:{}", encode_userinfo(password.expose()))
    };
    let host = if settings.host.contains(':') {
        format!("[{}]", settings.host)
    } else {
        settings.host.clone()
    };
    let mut options = AdbOptions::new(format!("mysql://{auth}@{host}:{}", settings.port), task_id);
    options.tls = settings.tls.clone();
    options.merge_tables = merge_tables;
    options.mariadb_compat = adb.mariadb_compat;
    options.skip_unsupported_ddl = adb.skip_unsupported_ddl;
    if let Some(rows) = adb.batch_rows {
        options.batch_rows = rows as usize;
    }
    if let Some(bytes) = adb.batch_bytes {
        options.batch_bytes = usize::try_from(bytes).unwrap_or(usize::MAX);
    }
    if let Some(ms) = adb.flush_interval_ms {
        options.flush_interval = Duration::from_millis(ms);
    }
    for (name, table) in &adb.tables {
        let Some((database, table_name)) = name.split_once('.') else {
            return Err(Error::Config(ConfigError::invalid(
                format!("destination.tables.\"{name}\""),
                format!("`{name}` must name a database.table"),
            )));
        };
        options.tables.insert(
            TableId::new(database, table_name),
            TableClauses::from_config(table),
        );
    }
    Ok(options)
}

/// Builds the [`AdbSink`] of a `[destination] type = "adb"` section for
/// [`dts_core::build::TaskBuilder`]: the sink, the [`MergeFilter`] when `merge_tables`, the
/// verification reader and the migration assessment. Keeps the sink it built, for hosts that
/// want the typed handle ([`AdbSinkFactory::built`]).
#[derive(Clone, Default)]
pub struct AdbSinkFactory {
    built: Arc<OnceLock<Arc<AdbSink>>>,
}

impl AdbSinkFactory {
    /// The sink this factory built, once it has.
    pub fn built(&self) -> Option<Arc<AdbSink>> {
        self.built.get().cloned()
    }
}

fn adb_section(config: &TaskConfig) -> Result<AdbDestination, Error> {
    Ok(AdbDestination::from_destination(&config.destination)?)
}

/// The sink options of `config`'s destination section, for task `task_id`.
fn sink_options(
    config: &TaskConfig,
    adb: &AdbDestination,
    task_id: &str,
) -> Result<AdbOptions, Error> {
    let settings = config
        .destination_settings()?
        .ok_or_else(|| unsupported("destination", "no connection settings"))?;
    options_from_config(config.destination.merge_tables, adb, &settings, task_id)
}

#[async_trait]
impl SinkFactory for AdbSinkFactory {
    fn kind(&self) -> DestinationKind {
        DestinationKind::Adb
    }

    fn check(&self, config: &TaskConfig) -> Result<(), Error> {
        adb_section(config)?;
        if config.topology.mode == TopologyMode::TwoWay {
            return Err(unsupported(
                "topology.mode",
                "two-way synchronization with an AnalyticDB destination (one-way only)",
            ));
        }
        if config.validation.is_enabled() && config.destination.merge_tables {
            return Err(unsupported(
                "validation",
                "data verification of merged tables (merge_tables = true)",
            ));
        }
        Ok(())
    }

    async fn folds_names_to_lower(&self, config: &TaskConfig) -> Result<bool, Error> {
        let options = sink_options(config, &adb_section(config)?, &config.task_id())?;
        let fallback = !options.mariadb_compat;
        crate::names::folds_names_to_lower(AdbSink::new(options)?.endpoint(), fallback).await
    }

    async fn build(&self, request: SinkRequest<'_>) -> Result<BuiltSink, Error> {
        let config = request.config;
        let adb = adb_section(config)?;
        let merge_tables = config.destination.merge_tables;
        let options = sink_options(config, &adb, request.task_id)?;
        let sink = Arc::new(AdbSink::new(options)?);
        let filter: Arc<dyn Filter> = if merge_tables {
            Arc::new(MergeFilter::new(request.filter, sink.clone()))
        } else {
            request.filter
        };
        // Buffered batches are confirmed by incremental verification once flushed, within the
        // verifier's lag window.
        let reader = AdbVerifyReader::new(
            sink.endpoint().clone(),
            VERIFY_POOL,
            sink.options().mariadb_compat,
        );
        let ddl = crate::ddl::DdlOptions {
            merged: merge_tables,
            mariadb_compat: sink.options().mariadb_compat,
        };
        let _ = self.built.set(sink.clone());
        Ok(BuiltSink {
            sink,
            filter,
            verify_reader: Some((Arc::new(reader), Encoding::Portable)),
            repair_dialect: Some(Arc::new(crate::verify::AdbRepairDialect {
                mariadb_compat: adb.mariadb_compat,
            })),
            assessor: Some(Arc::new(crate::assessment::AdbAssessor::new(ddl))),
        })
    }
}

/// The task filter of a merging task. The sink receives schemas and rows under destination
/// names, which for merged shards are all the same; this wrapper keeps every table under its
/// **source** name on the way to the sink and registers the table's real destination with
/// [`AdbSink::merge_into`], so the sink writes each shard's rows into the merged table with
/// the shard's own `__dts_data_source`. Everything else (selection, columns, operations,
/// conditions, masking, DDL routing) is the wrapped filter's.
pub struct MergeFilter {
    inner: Arc<dyn Filter>,
    sink: Arc<AdbSink>,
}

impl MergeFilter {
    /// Wraps `inner`, registering destinations with `sink`.
    pub fn new(inner: Arc<dyn Filter>, sink: Arc<AdbSink>) -> Self {
        Self { inner, sink }
    }
}

impl Filter for MergeFilter {
    fn route(&self, table: &TableSchema) -> Option<TableRoute> {
        let mut route = self.inner.route(table)?;
        self.sink
            .merge_into(table.id.clone(), route.destination.clone());
        route.destination = table.id.clone();
        Some(route)
    }

    fn accept_row(&self, table: &TableSchema, row: &Row) -> bool {
        self.inner.accept_row(table, row)
    }

    fn transform_row(&self, table: &TableSchema, row: &mut Row) {
        self.inner.transform_row(table, row)
    }

    /// The wrapped filter decides whether and how the statement runs; the tables it names
    /// stay the source tables, which the sink maps (TRUNCATE of a shard deletes that shard's
    /// rows; schema-changing DDL on merged tables is refused by the sink).
    fn route_ddl(&self, ddl: &Ddl) -> Option<Ddl> {
        let mut routed = self.inner.route_ddl(ddl)?;
        routed.tables = ddl
            .tables
            .iter()
            .filter(|t| self.inner.selects_table(t))
            .cloned()
            .collect();
        Some(routed)
    }

    fn selects_table(&self, table: &TableId) -> bool {
        self.inner.selects_table(table)
    }

    fn ddl_problem(&self, ddl: &Ddl) -> Option<String> {
        self.inner.ddl_problem(ddl)
    }

    fn check(&self, tables: &[TableSchema]) -> Vec<String> {
        self.inner.check(tables)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    fn adb_config(destination: &str) -> TaskConfig {
        TaskConfig::from_toml_str(&format!(
            "[source]\nhost = \"127.0.0.1\"\nuser = \"dts\"\n\n[destination]\ntype = \"adb\"\n\
             {destination}\n\n[[objects.databases]]\nname = \"shop\"\n"
        ))
        .unwrap()
    }

    fn options_of(config: &TaskConfig) -> Result<AdbOptions, Error> {
        let adb = AdbDestination::from_destination(&config.destination).unwrap();
        let settings = config.destination_settings().unwrap().unwrap();
        options_from_config(config.destination.merge_tables, &adb, &settings, "task-1")
    }

    #[test]
    fn every_destination_key_reaches_the_sink_options() {
        let config = adb_config(
            "host = \"adb.example\"\nport = 3307\nuser = \"u@x\"\npassword = \"p:w/d\"\n\
             merge_tables = true\nskip_unsupported_ddl = true\nbatch_rows = 10\n\
             batch_bytes = 4096\nflush_interval_ms = 250\nmariadb_compat = true\n\
             [destination.tables.\"dw.orders\"]\npartition_column = \"day\"\n\
             partition_format = \"%Y%m\"\nlifecycle = 12\nclustered_key = [\"c\"]",
        );
        let o = options_of(&config).unwrap();
        assert_eq!(o.url, "mysql://u%40x:p%3Aw%2Fd@adb.example:3307");
        assert_eq!(o.task_id, "task-1");
        assert!(o.merge_tables && o.skip_unsupported_ddl && o.mariadb_compat);
        assert_eq!((o.batch_rows, o.batch_bytes), (10, 4096));
        assert_eq!(o.flush_interval, Duration::from_millis(250));
        assert_eq!(
            o.tables[&TableId::new("dw", "orders")],
            TableClauses {
                partition: Some(crate::Partition {
                    column: "day".into(),
                    format: Some("%Y%m".into()),
                    lifecycle: 12,
                }),
                clustered_key: vec!["c".into()],
            }
        );
        // The URL the sink parses names the same endpoint, and Debug hides the password.
        let sink = AdbSink::new(o.clone()).unwrap();
        assert!(format!("{sink:?}").contains("adb.example:3307"));
        assert!(!format!("{o:?}").contains("p%3Aw"));
    }

    #[test]
    fn defaults_and_tls() {
        let o = options_of(&adb_config("host = \"h\"\nuser = \"u\"")).unwrap();
        assert_eq!(o.url, "mysql://u@h:3306");
        assert_eq!(o.flush_interval, Duration::from_secs(1));
        assert_eq!((o.batch_rows, o.batch_bytes), (2_000, 4 << 20));
        assert!(!o.merge_tables && !o.mariadb_compat && o.tables.is_empty());
        assert_eq!(o.tls.mode, dts_core::config::TlsMode::Disabled);
        let tls = adb_config(
            "host = \"h\"\nuser = \"u\"\n\
             tls = { mode = \"verify_identity\", ca_cert = \"/etc/dts/ca.pem\" }",
        );
        let o = options_of(&tls).unwrap();
        assert_eq!(o.tls.mode, dts_core::config::TlsMode::VerifyIdentity);
        assert_eq!(o.tls.ca_cert.as_deref(), Some(Path::new("/etc/dts/ca.pem")));
        // The sink's endpoint carries the settings to every connection it makes.
        let sink = AdbSink::new(o).unwrap();
        assert_eq!(sink.endpoint().tls(), &tls_settings(&tls));
        assert_eq!(sink.endpoint().address(), "h:3306");
    }

    fn tls_settings(config: &TaskConfig) -> dts_core::config::TlsConfig {
        config.destination_settings().unwrap().unwrap().tls
    }

    #[test]
    fn userinfo_is_percent_encoded() {
        assert_eq!(encode_userinfo("root"), "root");
        assert_eq!(encode_userinfo("p@ss:w/rd%"), "p%40ss%3Aw%2Frd%25");
    }
}
