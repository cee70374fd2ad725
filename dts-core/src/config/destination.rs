//! The destination (`[destination]`, tagged by `type`): MySQL, Kafka, or AnalyticDB for MySQL
//! 3.0, each with the options the guide lists for that destination only.

use super::connection::{ConnectionSettings, DatabaseType, Endpoint, EndpointRole, TlsConfig};
use super::error::{join, Problems};
use super::ops::{DdlOpSet, DmlOpSet};
use super::secret::Secret;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::PathBuf;

/// Where the data goes. Written as `[destination]` with `type = "mysql" | "kafka" | "adb"`;
/// options of another destination type are rejected (for example `brokers` under
/// `type = "mysql"`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", try_from = "RawDestination")]
pub enum DestinationConfig {
    /// A MySQL-family server (MySQL, MariaDB, RDS MySQL, PolarDB for MySQL).
    Mysql(MysqlDestination),
    /// A Kafka cluster: changes become messages on a topic.
    Kafka(KafkaDestination),
    /// AnalyticDB for MySQL 3.0.
    Adb(AdbDestination),
}

/// Which kind of destination a [`DestinationConfig`] is, for rules that depend on it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum DestinationKind {
    /// `type = "mysql"`.
    Mysql,
    /// `type = "kafka"`.
    Kafka,
    /// `type = "adb"`.
    Adb,
}

impl DestinationKind {
    /// The `type` value in TOML.
    pub fn as_str(self) -> &'static str {
        match self {
            DestinationKind::Mysql => "mysql",
            DestinationKind::Kafka => "kafka",
            DestinationKind::Adb => "adb",
        }
    }
}

impl std::fmt::Display for DestinationKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl DestinationConfig {
    /// The destination type.
    pub fn kind(&self) -> DestinationKind {
        match self {
            DestinationConfig::Mysql(_) => DestinationKind::Mysql,
            DestinationConfig::Kafka(_) => DestinationKind::Kafka,
            DestinationConfig::Adb(_) => DestinationKind::Adb,
        }
    }

    /// The database endpoint, for MySQL and AnalyticDB destinations (`None` for Kafka).
    pub fn endpoint(&self) -> Option<&Endpoint> {
        match self {
            DestinationConfig::Mysql(m) => Some(&m.endpoint),
            DestinationConfig::Adb(a) => Some(&a.endpoint),
            DestinationConfig::Kafka(_) => None,
        }
    }

    pub(crate) fn validate(
        &self,
        connections: &BTreeMap<String, ConnectionSettings>,
        problems: &mut Problems,
    ) {
        match self {
            DestinationConfig::Mysql(m) => m.endpoint.validate(
                "destination",
                EndpointRole::MysqlDestination,
                connections,
                problems,
            ),
            DestinationConfig::Adb(a) => {
                a.endpoint.validate(
                    "destination",
                    EndpointRole::AdbDestination,
                    connections,
                    problems,
                );
                a.validate("destination", problems);
            }
            DestinationConfig::Kafka(k) => k.validate("destination", problems),
        }
    }
}

/// A MySQL-family destination: where it is (profile or inline settings) and how the full
/// copy is written.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct MysqlDestination {
    /// How to connect (`connection = "NAME"` or inline `host`, `port`, `user`, …).
    #[serde(flatten)]
    pub endpoint: Endpoint,
    /// Whether full-sync rows are written to the destination's binlog (default `true`).
    /// `false` keeps the initial copy out of it (`sql_log_bin = 0`): faster, but replicas of
    /// the destination do not receive the copied rows. Needs the privilege to set
    /// `sql_log_bin`; the task fails to start without it. Incremental writes are always logged.
    pub full_sync_binlog: bool,
    /// Whether tables created for the full copy get their non-unique secondary indexes after
    /// the copy rather than during it (default `true`; faster, and crash-safe).
    pub defer_secondary_indexes: bool,
    /// Whether full-sync rows go through `LOAD DATA LOCAL INFILE` when the destination allows
    /// it (`local_infile = ON`), else multi-row INSERTs (default `true`).
    pub load_data: bool,
}

impl MysqlDestination {
    /// A destination at `endpoint` with the default write options.
    pub fn new(endpoint: Endpoint) -> Self {
        Self {
            endpoint,
            full_sync_binlog: true,
            defer_secondary_indexes: true,
            load_data: true,
        }
    }
}

impl Default for MysqlDestination {
    fn default() -> Self {
        Self::new(Endpoint::default())
    }
}

/// An AnalyticDB for MySQL 3.0 destination.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct AdbDestination {
    /// How to connect (`connection = "NAME"` or inline `host`, `port`, `user`, …).
    #[serde(flatten)]
    pub endpoint: Endpoint,
    /// The guide's "Merge Tables": synchronize several source tables with identical schemas
    /// into one destination table (map them to the same name with `rename_to`); a
    /// `__dts_data_source` text column records each row's origin. Default `false`.
    pub merge_tables: bool,
    /// The guide's "DDL and DML Operations to Be Synchronized" at instance level: DML part.
    /// Default all.
    pub dml: DmlOpSet,
    /// DDL part of the instance-level operation selection. Default all.
    pub ddl: DdlOpSet,
    /// Skip DDL that ADB cannot run (with a warning) instead of stopping the task with an
    /// error naming the statement. Default `false`.
    pub skip_unsupported_ddl: bool,
    /// Rows a write batch holds before it is flushed (default 2000).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub batch_rows: Option<u32>,
    /// Approximate value bytes a write batch holds before it is flushed (default 4 MiB).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub batch_bytes: Option<u64>,
    /// Longest time, in milliseconds, a change may wait in a write batch before the batch is
    /// flushed and the checkpoint committed; `0` flushes at the end of every round the task
    /// applies. Default 1000.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub flush_interval_ms: Option<u64>,
    /// Testing only: omit the ADB-only clauses (`DISTRIBUTED BY`, partitions, clustered keys)
    /// so a MariaDB/MySQL server can stand in for ADB. Default `false`.
    pub mariadb_compat: bool,
    /// ADB table options by destination table (`[destination.tables."db.table"]`).
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub tables: BTreeMap<String, AdbTableOptions>,
}

/// ADB-specific clauses of one destination table (`[destination.tables."db.table"]`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AdbTableOptions {
    /// `PARTITION BY VALUE(<column>)` (or `VALUE(DATE_FORMAT(<column>, <format>))`); the
    /// column must be part of the primary key, as ADB requires. Needs `lifecycle`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub partition_column: Option<String>,
    /// Date format of the partition value: `%Y%m%d`, `%Y%m` or `%Y`; unset partitions by the
    /// column's own value.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub partition_format: Option<String>,
    /// `LIFECYCLE n`: how many partitions ADB keeps (older ones are dropped).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lifecycle: Option<u32>,
    /// `CLUSTERED KEY (<columns>)`: the order rows are stored in.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub clustered_key: Vec<String>,
}

/// The partition formats ADB 3.0 accepts in `PARTITION BY VALUE(DATE_FORMAT(…))`.
pub const ADB_PARTITION_FORMATS: [&str; 3] = ["%Y%m%d", "%Y%m", "%Y"];

impl AdbDestination {
    pub(crate) fn validate(&self, prefix: &str, problems: &mut Problems) {
        if self.batch_rows == Some(0) {
            problems.push(join(prefix, "batch_rows"), "must be greater than 0, got 0");
        }
        if let Some(bytes) = self.batch_bytes {
            if bytes < 1024 {
                problems.push(
                    join(prefix, "batch_bytes"),
                    format!("{bytes} is too small (at least 1024)"),
                );
            }
        }
        for (table, t) in &self.tables {
            let key = format!("{}.\"{table}\"", join(prefix, "tables"));
            let parts: Vec<&str> = table.split('.').collect();
            if parts.len() != 2 || parts.iter().any(|p| p.is_empty()) {
                problems.push(key.clone(), format!("`{table}` must name a database.table"));
            }
            match (&t.partition_column, t.lifecycle) {
                (Some(c), _) if c.trim().is_empty() => {
                    problems.push(join(&key, "partition_column"), "must not be empty")
                }
                (Some(_), None) => problems.push(
                    join(&key, "lifecycle"),
                    "is required with partition_column (ADB's PARTITION BY needs LIFECYCLE)",
                ),
                (Some(_), Some(0)) => {
                    problems.push(join(&key, "lifecycle"), "must be greater than 0, got 0")
                }
                (None, Some(_)) => {
                    problems.push(join(&key, "lifecycle"), "only used with partition_column")
                }
                _ => {}
            }
            if let Some(format) = &t.partition_format {
                if t.partition_column.is_none() {
                    problems.push(
                        join(&key, "partition_format"),
                        "only used with partition_column",
                    );
                } else if !ADB_PARTITION_FORMATS.contains(&format.as_str()) {
                    problems.push(
                        join(&key, "partition_format"),
                        format!(
                            "`{format}` is not one of {}",
                            ADB_PARTITION_FORMATS.join(", ")
                        ),
                    );
                }
            }
            if t.clustered_key.iter().any(|c| c.trim().is_empty()) {
                problems.push(
                    join(&key, "clustered_key"),
                    "column names must not be empty",
                );
            }
        }
    }
}

/// The guide's "Data Format in Kafka".
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum KafkaDataFormat {
    /// DTS Avro (the default): Avro records with the DTS schema.
    #[default]
    DtsAvro,
    /// Canal JSON.
    CanalJson,
    /// SharePlex JSON.
    ShareplexJson,
    /// Debezium-compatible JSON envelopes.
    DebeziumJson,
}

/// The guide's "Kafka Data Compression Format".
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum KafkaCompression {
    /// LZ4 (the default): low compression ratio, high speed.
    #[default]
    Lz4,
    /// GZip: high ratio, low speed, more CPU.
    Gzip,
    /// Snappy: medium ratio and speed.
    Snappy,
    /// Zstandard: high ratio at good speed (not in the guide; Kafka supports it).
    Zstd,
}

/// The guide's "Policy for Shipping Data to Kafka Partitions".
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PartitionPolicy {
    /// Ship all data to partition 0 (the default): total order across all tables.
    #[default]
    AllToPartition0,
    /// Partition by a hash of database and table name: per-table order.
    ByTableHash,
    /// Partition by a hash of the primary key (or of `partition_key_columns`): per-row
    /// order, highest parallelism.
    ByPrimaryKeyHash,
}

/// The guide's "Message acknowledgement mechanism": how many broker acknowledgements a write
/// waits for (Kafka's `acks`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum KafkaAcks {
    /// `acks=all` (the default): every in-sync replica has the message; no loss if the leader
    /// fails. Required for the checkpoint guarantee.
    #[default]
    All,
    /// `acks=1`: the partition leader has the message.
    Leader,
    /// `acks=0`: fire and forget; messages may be lost.
    None,
}

/// A Kafka destination.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct KafkaDestination {
    /// Bootstrap brokers, `host:port`.
    pub brokers: Vec<String>,
    /// The topic receiving data.
    pub topic: String,
    /// The guide's "Topic That Stores DDL Information"; unset means the data topic
    /// ("If not selected, DDL information is stored in the topic receiving data by default").
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ddl_topic: Option<String>,
    /// The guide's "Data Format in Kafka"; default `dts_avro`.
    pub data_format: KafkaDataFormat,
    /// The guide's "Synchronize all fields": an UPDATE message carries every column of the
    /// row, not only the changed ones. Default `true`.
    pub sync_all_fields: bool,
    /// The guide's "Kafka Data Compression Format"; default `lz4`.
    pub compression: KafkaCompression,
    /// The guide's "Policy for Shipping Data to Kafka Partitions"; default
    /// `all_to_partition_0`.
    pub partition_policy: PartitionPolicy,
    /// With `by_primary_key_hash`: hash these columns instead of the primary key (tables that
    /// lack one of them fall back to the primary key).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub partition_key_columns: Option<Vec<String>>,
    /// The guide's "Message acknowledgement mechanism"; default `all`.
    pub acks: KafkaAcks,
    /// Number of partitions of the topic (used when creating it and for hashing); unset means
    /// the topic's existing partition count.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub num_partitions: Option<u32>,
    /// The guide's "use mapping to set the topic name": a topic per table from a pattern with
    /// `{database}` and `{table}` placeholders (e.g. `"dts.{database}.{table}"`), over the
    /// names at the destination (after object name mapping). Unset: every table goes to
    /// `topic` unless `topic_routes` maps it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub topic_template: Option<String>,
    /// Explicit topics by destination `"database"` or `"database.table"`
    /// (`[destination.topic_routes]`); a table's own route wins over its database's, and both
    /// over `topic_template`.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub topic_routes: BTreeMap<String, String>,
    /// Largest record the task produces, in bytes; a larger one stops the task with an error
    /// naming its table and key. Unset: 1,000,000 (Kafka's default `max.message.bytes`); the
    /// topic's own `max.message.bytes` applies when smaller.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_message_bytes: Option<u32>,
}

impl KafkaDestination {
    /// A Kafka destination with the guide's defaults.
    pub fn new(brokers: Vec<String>, topic: impl Into<String>) -> Self {
        Self {
            brokers,
            topic: topic.into(),
            ddl_topic: None,
            data_format: KafkaDataFormat::default(),
            sync_all_fields: true,
            compression: KafkaCompression::default(),
            partition_policy: PartitionPolicy::default(),
            partition_key_columns: None,
            acks: KafkaAcks::default(),
            num_partitions: None,
            topic_template: None,
            topic_routes: BTreeMap::new(),
            max_message_bytes: None,
        }
    }

    /// The topic DDL goes to: `ddl_topic`, or the data topic when unset.
    pub fn ddl_topic(&self) -> &str {
        self.ddl_topic.as_deref().unwrap_or(&self.topic)
    }

    pub(crate) fn validate(&self, prefix: &str, problems: &mut Problems) {
        if self.brokers.is_empty() {
            problems.push(join(prefix, "brokers"), "must list at least one broker");
        }
        for (i, broker) in self.brokers.iter().enumerate() {
            if broker.trim().is_empty() || broker.contains(char::is_whitespace) {
                problems.push(
                    format!("{}[{i}]", join(prefix, "brokers")),
                    format!("`{broker}` is not a valid host:port"),
                );
            }
        }
        check_topic(&join(prefix, "topic"), &self.topic, problems);
        if let Some(ddl) = &self.ddl_topic {
            check_topic(&join(prefix, "ddl_topic"), ddl, problems);
        }
        if let Some(columns) = &self.partition_key_columns {
            let key = join(prefix, "partition_key_columns");
            if self.partition_policy != PartitionPolicy::ByPrimaryKeyHash {
                problems.push(
                    key.clone(),
                    "only used when partition_policy is by_primary_key_hash",
                );
            }
            if columns.is_empty() {
                problems.push(key.clone(), "must list at least one column when set");
            }
            if columns.iter().any(|c| c.trim().is_empty()) {
                problems.push(key, "column names must not be empty");
            }
        }
        if self.num_partitions == Some(0) {
            problems.push(
                join(prefix, "num_partitions"),
                "must be greater than 0, got 0",
            );
        }
        if let Some(template) = &self.topic_template {
            let key = join(prefix, "topic_template");
            let mut rest = template.as_str();
            while let Some(open) = rest.find('{') {
                let after = &rest[open + 1..];
                match after.find('}') {
                    Some(close) if matches!(&after[..close], "database" | "table") => {
                        rest = &after[close + 1..];
                    }
                    _ => {
                        problems.push(
                            key.clone(),
                            format!("`{template}`: only the placeholders {{database}} and {{table}} are known"),
                        );
                        break;
                    }
                }
            }
            if template.is_empty() {
                problems.push(key, "must not be empty when set");
            }
        }
        for (object, topic) in &self.topic_routes {
            let key = format!("{}.\"{object}\"", join(prefix, "topic_routes"));
            let parts: Vec<&str> = object.split('.').collect();
            if parts.len() > 2 || parts.iter().any(|p| p.is_empty()) {
                problems.push(
                    key.clone(),
                    format!("`{object}` must name a database or a database.table"),
                );
            }
            check_topic(&key, topic, problems);
        }
        if let Some(bytes) = self.max_message_bytes {
            if bytes < 1024 {
                problems.push(
                    join(prefix, "max_message_bytes"),
                    format!("{bytes} is too small (at least 1024)"),
                );
            }
        }
    }
}

/// Kafka's topic name rules: 1-249 characters of `[A-Za-z0-9._-]`, and not `.` or `..`.
fn check_topic(key: &str, topic: &str, problems: &mut Problems) {
    let valid = !topic.is_empty()
        && topic.len() <= 249
        && topic != "."
        && topic != ".."
        && topic
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'));
    if !valid {
        problems.push(
            key,
            format!("`{topic}` is not a valid Kafka topic name (1-249 characters of A-Z, a-z, 0-9, `.`, `_`, `-`)"),
        );
    }
}

/// The destination types, as read from `type`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
enum RawKind {
    Mysql,
    Kafka,
    Adb,
}

/// Every key any destination type accepts; the conversion rejects the ones that do not belong
/// to the chosen `type`, naming them. Parsing through one flat struct (rather than serde's
/// internally-tagged enums) keeps toml's position information for every value.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawDestination {
    #[serde(rename = "type")]
    kind: RawKind,
    // Endpoint (mysql, adb).
    connection: Option<String>,
    host: Option<String>,
    port: Option<u16>,
    user: Option<String>,
    password: Option<Secret>,
    password_env: Option<String>,
    password_file: Option<PathBuf>,
    tls: Option<TlsConfig>,
    database_type: Option<DatabaseType>,
    // Kafka.
    brokers: Option<Vec<String>>,
    topic: Option<String>,
    ddl_topic: Option<String>,
    data_format: Option<KafkaDataFormat>,
    sync_all_fields: Option<bool>,
    compression: Option<KafkaCompression>,
    partition_policy: Option<PartitionPolicy>,
    partition_key_columns: Option<Vec<String>>,
    acks: Option<KafkaAcks>,
    num_partitions: Option<u32>,
    topic_template: Option<String>,
    topic_routes: Option<BTreeMap<String, String>>,
    max_message_bytes: Option<u32>,
    // AnalyticDB.
    merge_tables: Option<bool>,
    dml: Option<DmlOpSet>,
    ddl: Option<DdlOpSet>,
    skip_unsupported_ddl: Option<bool>,
    batch_rows: Option<u32>,
    batch_bytes: Option<u64>,
    flush_interval_ms: Option<u64>,
    mariadb_compat: Option<bool>,
    tables: Option<BTreeMap<String, AdbTableOptions>>,
    // MySQL.
    full_sync_binlog: Option<bool>,
    defer_secondary_indexes: Option<bool>,
    load_data: Option<bool>,
}

impl RawDestination {
    fn endpoint(&mut self) -> Endpoint {
        Endpoint {
            connection: self.connection.take(),
            host: self.host.take(),
            port: self.port.take(),
            user: self.user.take(),
            password: self.password.take(),
            password_env: self.password_env.take(),
            password_file: self.password_file.take(),
            tls: self.tls.take(),
            database_type: self.database_type.take(),
        }
    }

    /// Names of the keys that are still set (not consumed by the chosen type) and the type
    /// each belongs to.
    fn leftovers(&self) -> Vec<(&'static str, &'static str)> {
        let endpoint = "mysql or adb";
        [
            ("connection", self.connection.is_some(), endpoint),
            ("host", self.host.is_some(), endpoint),
            ("port", self.port.is_some(), endpoint),
            ("user", self.user.is_some(), endpoint),
            ("password", self.password.is_some(), endpoint),
            ("password_env", self.password_env.is_some(), endpoint),
            ("password_file", self.password_file.is_some(), endpoint),
            ("tls", self.tls.is_some(), endpoint),
            ("database_type", self.database_type.is_some(), endpoint),
            ("brokers", self.brokers.is_some(), "kafka"),
            ("topic", self.topic.is_some(), "kafka"),
            ("ddl_topic", self.ddl_topic.is_some(), "kafka"),
            ("data_format", self.data_format.is_some(), "kafka"),
            ("sync_all_fields", self.sync_all_fields.is_some(), "kafka"),
            ("compression", self.compression.is_some(), "kafka"),
            ("partition_policy", self.partition_policy.is_some(), "kafka"),
            (
                "partition_key_columns",
                self.partition_key_columns.is_some(),
                "kafka",
            ),
            ("acks", self.acks.is_some(), "kafka"),
            ("num_partitions", self.num_partitions.is_some(), "kafka"),
            ("topic_template", self.topic_template.is_some(), "kafka"),
            ("topic_routes", self.topic_routes.is_some(), "kafka"),
            (
                "max_message_bytes",
                self.max_message_bytes.is_some(),
                "kafka",
            ),
            ("merge_tables", self.merge_tables.is_some(), "adb"),
            ("dml", self.dml.is_some(), "adb"),
            ("ddl", self.ddl.is_some(), "adb"),
            (
                "skip_unsupported_ddl",
                self.skip_unsupported_ddl.is_some(),
                "adb",
            ),
            ("batch_rows", self.batch_rows.is_some(), "adb"),
            ("batch_bytes", self.batch_bytes.is_some(), "adb"),
            ("flush_interval_ms", self.flush_interval_ms.is_some(), "adb"),
            ("mariadb_compat", self.mariadb_compat.is_some(), "adb"),
            ("tables", self.tables.is_some(), "adb"),
            ("full_sync_binlog", self.full_sync_binlog.is_some(), "mysql"),
            (
                "defer_secondary_indexes",
                self.defer_secondary_indexes.is_some(),
                "mysql",
            ),
            ("load_data", self.load_data.is_some(), "mysql"),
        ]
        .into_iter()
        .filter_map(|(key, set, owner)| set.then_some((key, owner)))
        .collect()
    }
}

impl TryFrom<RawDestination> for DestinationConfig {
    type Error = String;

    fn try_from(mut raw: RawDestination) -> Result<Self, String> {
        let config = match raw.kind {
            RawKind::Mysql => DestinationConfig::Mysql(MysqlDestination {
                endpoint: raw.endpoint(),
                full_sync_binlog: raw.full_sync_binlog.take().unwrap_or(true),
                defer_secondary_indexes: raw.defer_secondary_indexes.take().unwrap_or(true),
                load_data: raw.load_data.take().unwrap_or(true),
            }),
            RawKind::Adb => DestinationConfig::Adb(AdbDestination {
                endpoint: raw.endpoint(),
                merge_tables: raw.merge_tables.take().unwrap_or(false),
                dml: raw.dml.take().unwrap_or_default(),
                ddl: raw.ddl.take().unwrap_or_default(),
                skip_unsupported_ddl: raw.skip_unsupported_ddl.take().unwrap_or(false),
                batch_rows: raw.batch_rows.take(),
                batch_bytes: raw.batch_bytes.take(),
                flush_interval_ms: raw.flush_interval_ms.take(),
                mariadb_compat: raw.mariadb_compat.take().unwrap_or(false),
                tables: raw.tables.take().unwrap_or_default(),
            }),
            RawKind::Kafka => {
                let brokers = raw
                    .brokers
                    .take()
                    .ok_or("missing field `brokers`: a kafka destination needs its brokers")?;
                let topic = raw
                    .topic
                    .take()
                    .ok_or("missing field `topic`: a kafka destination needs a topic")?;
                DestinationConfig::Kafka(KafkaDestination {
                    brokers,
                    topic,
                    ddl_topic: raw.ddl_topic.take(),
                    data_format: raw.data_format.take().unwrap_or_default(),
                    sync_all_fields: raw.sync_all_fields.take().unwrap_or(true),
                    compression: raw.compression.take().unwrap_or_default(),
                    partition_policy: raw.partition_policy.take().unwrap_or_default(),
                    partition_key_columns: raw.partition_key_columns.take(),
                    acks: raw.acks.take().unwrap_or_default(),
                    num_partitions: raw.num_partitions.take(),
                    topic_template: raw.topic_template.take(),
                    topic_routes: raw.topic_routes.take().unwrap_or_default(),
                    max_message_bytes: raw.max_message_bytes.take(),
                })
            }
        };
        if let Some((key, owner)) = raw.leftovers().first() {
            // Worded like serde's own message so the key finder can name `destination.<key>`.
            return Err(format!(
                "unknown field `{key}`: only valid when destination type is {owner}, not {}",
                config.kind()
            ));
        }
        Ok(config)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, Deserialize, Serialize, PartialEq)]
    #[serde(deny_unknown_fields)]
    struct Holder {
        destination: DestinationConfig,
    }

    fn parse(s: &str) -> Result<DestinationConfig, toml::de::Error> {
        toml::from_str::<Holder>(s).map(|h| h.destination)
    }

    fn errors_of(d: &DestinationConfig) -> Vec<super::super::ConfigError> {
        let mut p = Problems::default();
        d.validate(&BTreeMap::new(), &mut p);
        p.into_vec()
    }

    fn has_key(d: &DestinationConfig, key: &str) -> bool {
        errors_of(d)
            .iter()
            .any(|e| e.key == key && e.to_string().starts_with(key))
    }

    #[test]
    fn kafka_defaults_follow_the_guide() {
        let d = parse("[destination]\ntype = \"kafka\"\nbrokers = [\"k:9092\"]\ntopic = \"t\"")
            .unwrap();
        let DestinationConfig::Kafka(k) = &d else {
            panic!("{d:?}")
        };
        assert_eq!(k, &KafkaDestination::new(vec!["k:9092".into()], "t"));
        assert_eq!(k.data_format, KafkaDataFormat::DtsAvro);
        assert!(k.sync_all_fields);
        assert_eq!(k.compression, KafkaCompression::Lz4);
        assert_eq!(k.partition_policy, PartitionPolicy::AllToPartition0);
        assert_eq!(k.acks, KafkaAcks::All);
        assert_eq!(k.ddl_topic(), "t");
        assert!(d.endpoint().is_none());
        assert!(errors_of(&d).is_empty());
    }

    #[test]
    fn mysql_write_options_default_on_and_belong_to_mysql_only() {
        let d = parse("[destination]\ntype = \"mysql\"\nhost = \"h\"\nuser = \"u\"").unwrap();
        let DestinationConfig::Mysql(m) = &d else {
            panic!("{d:?}")
        };
        assert!(m.full_sync_binlog && m.defer_secondary_indexes && m.load_data);
        let d = parse(
            "[destination]\ntype = \"mysql\"\nhost = \"h\"\nuser = \"u\"\nfull_sync_binlog = false",
        )
        .unwrap();
        let DestinationConfig::Mysql(m) = &d else {
            panic!("{d:?}")
        };
        assert!(!m.full_sync_binlog && m.defer_secondary_indexes);
        let e =
            parse("[destination]\ntype = \"adb\"\nhost = \"a\"\nuser = \"u\"\nload_data = true")
                .unwrap_err();
        assert!(
            e.message().contains("unknown field `load_data`") && e.message().contains("mysql"),
            "{}",
            e.message()
        );
    }

    #[test]
    fn adb_defaults_follow_the_guide() {
        let d = parse("[destination]\ntype = \"adb\"\nhost = \"a\"\nuser = \"u\"").unwrap();
        let DestinationConfig::Adb(a) = &d else {
            panic!("{d:?}")
        };
        assert!(!a.merge_tables);
        assert!(a.dml.is_all() && a.ddl.is_all());
        assert_eq!(d.kind(), DestinationKind::Adb);
        assert!(errors_of(&d).is_empty());
    }

    #[test]
    fn every_variant_round_trips() {
        for src in [
            "[destination]\ntype = \"mysql\"\nconnection = \"dst\"",
            "[destination]\ntype = \"mysql\"\nconnection = \"dst\"\nfull_sync_binlog = false\ndefer_secondary_indexes = false\nload_data = false",
            "[destination]\ntype = \"adb\"\nhost = \"a\"\nport = 3306\nuser = \"u\"\nmerge_tables = true\ndml = [\"insert\"]\nddl = []",
            "[destination]\ntype = \"adb\"\nhost = \"a\"\nuser = \"u\"\nskip_unsupported_ddl = true\nbatch_rows = 500\nbatch_bytes = 65536\nflush_interval_ms = 250\nmariadb_compat = true\n[destination.tables.\"dw.orders\"]\npartition_column = \"day\"\npartition_format = \"%Y%m%d\"\nlifecycle = 30\nclustered_key = [\"customer\"]",
            "[destination]\ntype = \"kafka\"\nbrokers = [\"k:9092\"]\ntopic = \"t\"\nddl_topic = \"d\"\ndata_format = \"canal_json\"\ncompression = \"zstd\"\npartition_policy = \"by_primary_key_hash\"\npartition_key_columns = [\"id\"]\nacks = \"leader\"\nnum_partitions = 12\nsync_all_fields = false\ntopic_template = \"cdc.{database}.{table}\"\nmax_message_bytes = 2000000\n[destination.topic_routes]\n\"shop.orders\" = \"orders\"\ncrm = \"crm-all\"",
        ] {
            let d = parse(src).unwrap();
            let text = toml::to_string(&Holder { destination: d.clone() }).unwrap();
            assert_eq!(parse(&text).unwrap(), d, "{text}");
        }
    }

    #[test]
    fn options_of_another_destination_are_rejected() {
        let e =
            parse("[destination]\ntype = \"mysql\"\nhost = \"h\"\nuser = \"u\"\nbrokers = [\"k\"]")
                .unwrap_err();
        assert!(
            e.message().contains("unknown field `brokers`"),
            "{}",
            e.message()
        );
        assert!(e.message().contains("kafka"));
        let e = parse(
            "[destination]\ntype = \"kafka\"\nbrokers = [\"k\"]\ntopic = \"t\"\nhost = \"h\"",
        )
        .unwrap_err();
        assert!(
            e.message().contains("unknown field `host`"),
            "{}",
            e.message()
        );
        let e = parse("[destination]\ntype = \"mysql\"\nmerge_tables = true").unwrap_err();
        assert!(e.message().contains("unknown field `merge_tables`"));
    }

    #[test]
    fn kafka_needs_brokers_and_topic() {
        let e = parse("[destination]\ntype = \"kafka\"\ntopic = \"t\"").unwrap_err();
        assert!(e.message().contains("missing field `brokers`"));
        let e = parse("[destination]\ntype = \"kafka\"\nbrokers = [\"k\"]").unwrap_err();
        assert!(e.message().contains("missing field `topic`"));
    }

    #[test]
    fn kafka_rules() {
        let base = KafkaDestination::new(vec!["k:9092".into()], "t");
        let check = |edit: &dyn Fn(&mut KafkaDestination), key: &str| {
            let mut k = base.clone();
            edit(&mut k);
            let d = DestinationConfig::Kafka(k);
            assert!(has_key(&d, key), "{key}: {:?}", errors_of(&d));
        };
        check(&|k| k.brokers.clear(), "destination.brokers");
        check(&|k| k.brokers = vec![" ".into()], "destination.brokers[0]");
        check(&|k| k.topic = "bad topic".into(), "destination.topic");
        check(&|k| k.topic = String::new(), "destination.topic");
        check(
            &|k| k.ddl_topic = Some("..".into()),
            "destination.ddl_topic",
        );
        check(
            &|k| k.partition_key_columns = Some(vec!["id".into()]),
            "destination.partition_key_columns",
        );
        check(
            &|k| {
                k.partition_policy = PartitionPolicy::ByPrimaryKeyHash;
                k.partition_key_columns = Some(vec![]);
            },
            "destination.partition_key_columns",
        );
        check(
            &|k| k.num_partitions = Some(0),
            "destination.num_partitions",
        );
        check(
            &|k| k.topic_template = Some("cdc.{db}.{table}".into()),
            "destination.topic_template",
        );
        check(
            &|k| {
                k.topic_routes.insert("a.b.c".into(), "t".into());
            },
            "destination.topic_routes.\"a.b.c\"",
        );
        check(
            &|k| {
                k.topic_routes.insert("shop".into(), "no/slash".into());
            },
            "destination.topic_routes.\"shop\"",
        );
        check(
            &|k| k.max_message_bytes = Some(10),
            "destination.max_message_bytes",
        );
        let mut ok = base.clone();
        ok.topic_template = Some("cdc.{database}.{table}".into());
        ok.topic_routes
            .insert("shop.orders".into(), "orders".into());
        ok.max_message_bytes = Some(5_000_000);
        assert!(errors_of(&DestinationConfig::Kafka(ok)).is_empty());
    }

    #[test]
    fn kafka_topic_mapping_keys_parse() {
        let d = parse(
            "[destination]\ntype = \"kafka\"\nbrokers = [\"k:9092\"]\ntopic = \"t\"\ntopic_template = \"cdc.{database}.{table}\"\n[destination.topic_routes]\n\"shop.orders\" = \"orders\"\ncrm = \"crm-all\"",
        )
        .unwrap();
        let DestinationConfig::Kafka(k) = &d else {
            panic!("{d:?}")
        };
        assert_eq!(k.topic_template.as_deref(), Some("cdc.{database}.{table}"));
        assert_eq!(k.topic_routes["shop.orders"], "orders");
        assert_eq!(k.topic_routes["crm"], "crm-all");
        assert!(errors_of(&d).is_empty(), "{:?}", errors_of(&d));
        let e = parse("[destination]\ntype = \"mysql\"\nhost = \"h\"\ntopic_template = \"x\"")
            .unwrap_err();
        assert!(
            e.message().contains("unknown field `topic_template`"),
            "{}",
            e.message()
        );
    }

    #[test]
    fn adb_write_and_table_options_are_checked() {
        let base = || {
            let mut a = AdbDestination::default();
            a.endpoint.host = Some("h".into());
            a.endpoint.user = Some("u".into());
            a
        };
        let check = |edit: &dyn Fn(&mut AdbDestination), key: &str| {
            let mut a = base();
            edit(&mut a);
            let d = DestinationConfig::Adb(a);
            assert!(has_key(&d, key), "{key}: {:?}", errors_of(&d));
        };
        let part =
            |column: Option<&str>, format: Option<&str>, lifecycle: Option<u32>| AdbTableOptions {
                partition_column: column.map(Into::into),
                partition_format: format.map(Into::into),
                lifecycle,
                clustered_key: vec![],
            };
        check(&|a| a.batch_rows = Some(0), "destination.batch_rows");
        check(&|a| a.batch_bytes = Some(10), "destination.batch_bytes");
        check(
            &|a| {
                a.tables.insert("orders".into(), AdbTableOptions::default());
            },
            "destination.tables.\"orders\"",
        );
        check(
            &|a| {
                a.tables.insert("dw.t".into(), part(Some("d"), None, None));
            },
            "destination.tables.\"dw.t\".lifecycle",
        );
        check(
            &|a| {
                a.tables.insert("dw.t".into(), part(None, None, Some(3)));
            },
            "destination.tables.\"dw.t\".lifecycle",
        );
        check(
            &|a| {
                a.tables
                    .insert("dw.t".into(), part(Some("d"), Some("%d"), Some(3)));
            },
            "destination.tables.\"dw.t\".partition_format",
        );
        let mut ok = base();
        ok.tables
            .insert("dw.t".into(), part(Some("d"), Some("%Y%m"), Some(3)));
        assert!(errors_of(&DestinationConfig::Adb(ok)).is_empty());
        let e = parse("[destination]\ntype = \"mysql\"\nhost = \"h\"\nflush_interval_ms = 5")
            .unwrap_err();
        assert!(e.message().contains("unknown field `flush_interval_ms`"));
    }

    #[test]
    fn endpoint_rules_apply_to_database_destinations() {
        let d = DestinationConfig::Mysql(MysqlDestination::default());
        assert!(has_key(&d, "destination.host"));
        let mut a = AdbDestination::default();
        a.endpoint.host = Some("h".into());
        a.endpoint.user = Some("u".into());
        a.endpoint.database_type = Some(DatabaseType::Mysql);
        assert!(has_key(
            &DestinationConfig::Adb(a),
            "destination.database_type"
        ));
    }
}
