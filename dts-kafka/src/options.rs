//! [`KafkaSinkOptions`]: everything a [`crate::KafkaSink`] needs, built in code or from the
//! task configuration's `[destination]` with `type = "kafka"`.

use crate::config::{
    topic_name_problem, KafkaAcks, KafkaCompression, KafkaDataFormat, KafkaDestination,
    PartitionPolicy,
};
use dts_core::{Error, Result, TableId};
use std::collections::BTreeMap;
use std::time::Duration;

/// Kafka's default `max.message.bytes` (1 MB): the largest record the sink produces unless told
/// otherwise.
pub const DEFAULT_MAX_MESSAGE_BYTES: usize = 1_000_000;

/// The compacted topic that holds every task's checkpoint by default (key = task id).
pub const DEFAULT_CHECKPOINT_TOPIC: &str = "__dts_checkpoints";

/// Which topic a table's records go to: the task's topic, or one mapped per database or table
/// (the guide's "use mapping to set the topic name in the destination Kafka instance").
///
/// Resolution order for table `db.t`: `routes["db.t"]`, then `routes["db"]`, then `template`,
/// then the task's `topic`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TopicMapping {
    /// Explicit topics by `database.table` or by `database`.
    pub routes: BTreeMap<String, String>,
    /// A topic name pattern with `{database}` and `{table}` placeholders, e.g.
    /// `"dts.{database}.{table}"`. Characters Kafka does not allow in topic names (anything but
    /// `A-Z a-z 0-9 . _ -`) are replaced by `_`, and the result is cut to 249 characters.
    pub template: Option<String>,
}

impl TopicMapping {
    /// Every table to the task's topic.
    pub fn single() -> Self {
        Self::default()
    }

    /// A mapping by pattern (see [`TopicMapping::template`]).
    pub fn template(template: impl Into<String>) -> Self {
        Self {
            routes: BTreeMap::new(),
            template: Some(template.into()),
        }
    }

    /// Adds an explicit route for `database` or `database.table`.
    pub fn route(mut self, object: impl Into<String>, topic: impl Into<String>) -> Self {
        self.routes.insert(object.into(), topic.into());
        self
    }

    /// The topic of a table, `default` when nothing maps it.
    pub fn topic_for_table(&self, table: &TableId, default: &str) -> String {
        if let Some(t) = self
            .routes
            .get(&format!("{}.{}", table.database, table.table))
        {
            return t.clone();
        }
        if let Some(t) = self.routes.get(&table.database) {
            return t.clone();
        }
        if let Some(template) = &self.template {
            let name = template
                .replace("{database}", &table.database)
                .replace("{table}", &table.table);
            return sanitize_topic(&name);
        }
        default.to_owned()
    }

    /// The topic of database-level records (DDL without a table), `default` when the database
    /// has no explicit route.
    pub fn topic_for_database(&self, database: &str, default: &str) -> String {
        self.routes
            .get(database)
            .cloned()
            .unwrap_or_else(|| default.to_owned())
    }
}

/// Replaces characters Kafka rejects in topic names by `_` and cuts to 249 characters.
fn sanitize_topic(name: &str) -> String {
    let s: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-') {
                c
            } else {
                '_'
            }
        })
        .take(249)
        .collect();
    match s.as_str() {
        "" => "_".into(),
        "." | ".." => s.replace('.', "_"),
        _ => s,
    }
}

/// Kafka's topic-name rule: 1-249 characters of `A-Z a-z 0-9 . _ -`, not `.` or `..`.
pub(crate) fn check_topic_name(what: &str, topic: &str) -> Result<()> {
    topic_name_problem(topic).map_err(|why| Error::definite(what, why))
}

/// Options of a [`crate::KafkaSink`]. Start from [`KafkaSinkOptions::new`] or
/// [`KafkaSinkOptions::from_config`] and change fields as needed.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct KafkaSinkOptions {
    /// Bootstrap brokers, `host:port`.
    pub brokers: Vec<String>,
    /// The topic receiving data (and DDL when `ddl_topic` is unset).
    pub topic: String,
    /// The guide's "Topic That Stores DDL Information"; `None` sends DDL records to the data
    /// topic of the table they concern.
    pub ddl_topic: Option<String>,
    /// Per-database or per-table topics; default: everything to `topic`.
    pub topic_mapping: TopicMapping,
    /// Record format; default DTS Avro.
    pub format: KafkaDataFormat,
    /// Producer compression; default LZ4.
    pub compression: KafkaCompression,
    /// Partition policy; default all to partition 0.
    pub partition_policy: PartitionPolicy,
    /// With [`PartitionPolicy::ByPrimaryKeyHash`]: hash these columns instead of the primary
    /// key (tables lacking one of them use the primary key, then the first unique key, then the
    /// table hash).
    pub partition_key_columns: Option<Vec<String>>,
    /// Broker acknowledgements; default all (with the idempotent producer).
    pub acks: KafkaAcks,
    /// Partition count for topics the sink creates; `None` creates them with 1. Records are
    /// always hashed over a topic's actual partition count.
    pub partitions: Option<u32>,
    /// Replication factor for topics the sink creates; `None` uses the broker's default.
    pub replication_factor: Option<i32>,
    /// The task id: the checkpoint's key, the `dts.task_id` header, the Debezium `source.name`.
    pub task_id: String,
    /// The guide's "Synchronize all fields": UPDATE records carry every column (`true`) or only
    /// the changed columns plus the key.
    pub sync_all_fields: bool,
    /// Largest encoded record (value + key + headers) the sink produces; larger ones fail with
    /// an error naming table and key. Default 1,000,000 bytes (Kafka's default limit); the
    /// smaller of this and the topic's `max.message.bytes` applies when the broker reports it.
    pub max_message_bytes: usize,
    /// Compacted topic holding the checkpoint (key = task id); default `__dts_checkpoints`.
    pub checkpoint_topic: String,
    /// How long librdkafka keeps retrying one record before reporting it failed
    /// (`message.timeout.ms`); the task's connection retry window then retries the batch.
    pub delivery_timeout: Duration,
    /// Timeout for metadata, admin and checkpoint-read requests.
    pub request_timeout: Duration,
    /// Source server version written in DTS Avro `source.version` (the sink does not see the
    /// source; empty when not told).
    pub source_version: String,
    /// Extra librdkafka properties (e.g. `security.protocol`, `sasl.*`), applied to every client
    /// after the sink's own settings.
    pub client_config: BTreeMap<String, String>,
}

impl KafkaSinkOptions {
    /// Options with the guide's defaults for a task writing to `topic`.
    pub fn new(brokers: Vec<String>, topic: impl Into<String>, task_id: impl Into<String>) -> Self {
        Self {
            brokers,
            topic: topic.into(),
            ddl_topic: None,
            topic_mapping: TopicMapping::default(),
            format: KafkaDataFormat::default(),
            compression: KafkaCompression::default(),
            partition_policy: PartitionPolicy::default(),
            partition_key_columns: None,
            acks: KafkaAcks::default(),
            partitions: None,
            replication_factor: None,
            task_id: task_id.into(),
            sync_all_fields: true,
            max_message_bytes: DEFAULT_MAX_MESSAGE_BYTES,
            checkpoint_topic: DEFAULT_CHECKPOINT_TOPIC.to_owned(),
            delivery_timeout: Duration::from_secs(60),
            request_timeout: Duration::from_secs(30),
            source_version: String::new(),
            client_config: BTreeMap::new(),
        }
    }

    /// Options from the task configuration's Kafka destination.
    pub fn from_config(config: &KafkaDestination, task_id: impl Into<String>) -> Self {
        let mut o = Self::new(config.brokers.clone(), config.topic.clone(), task_id);
        o.ddl_topic = config.ddl_topic.clone();
        o.format = config.data_format;
        o.sync_all_fields = config.sync_all_fields;
        o.compression = config.compression;
        o.partition_policy = config.partition_policy;
        o.partition_key_columns = config.partition_key_columns.clone();
        o.acks = config.acks;
        o.partitions = config.num_partitions;
        o.topic_mapping = TopicMapping {
            routes: config.topic_routes.clone(),
            template: config.topic_template.clone(),
        };
        if let Some(bytes) = config.max_message_bytes {
            o.max_message_bytes = bytes as usize;
        }
        o
    }

    /// Checks what can be checked without a broker; errors name the option.
    pub(crate) fn validate(&self) -> Result<()> {
        if self.brokers.is_empty() || self.brokers.iter().any(|b| b.trim().is_empty()) {
            return Err(Error::definite(
                "kafka destination brokers",
                format!("must list at least one host:port, got {:?}", self.brokers),
            ));
        }
        check_topic_name("kafka destination topic", &self.topic)?;
        if let Some(t) = &self.ddl_topic {
            check_topic_name("kafka destination ddl_topic", t)?;
        }
        check_topic_name("kafka destination checkpoint_topic", &self.checkpoint_topic)?;
        for (object, topic) in &self.topic_mapping.routes {
            check_topic_name(&format!("kafka topic mapping for {object}"), topic)?;
        }
        if self.task_id.is_empty() {
            return Err(Error::definite(
                "kafka destination task_id",
                "must not be empty: it keys the checkpoint",
            ));
        }
        if self.partitions == Some(0) {
            return Err(Error::definite(
                "kafka destination partitions",
                "must be greater than 0",
            ));
        }
        if self.max_message_bytes < 1024 {
            return Err(Error::definite(
                "kafka destination max_message_bytes",
                format!("{} is too small (at least 1024)", self.max_message_bytes),
            ));
        }
        if let Some(cols) = &self.partition_key_columns {
            if cols.is_empty() || cols.iter().any(|c| c.is_empty()) {
                return Err(Error::definite(
                    "kafka destination partition_key_columns",
                    "must list at least one non-empty column name when set",
                ));
            }
        }
        Ok(())
    }

    /// The brokers as librdkafka's `bootstrap.servers`.
    pub(crate) fn bootstrap(&self) -> String {
        self.brokers.join(",")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn from_config_copies_every_option() {
        let mut k = KafkaDestination::new(vec!["k:9092".into()], "data");
        k.ddl_topic = Some("ddl".into());
        k.data_format = KafkaDataFormat::CanalJson;
        k.sync_all_fields = false;
        k.compression = KafkaCompression::Zstd;
        k.partition_policy = PartitionPolicy::ByPrimaryKeyHash;
        k.partition_key_columns = Some(vec!["id".into()]);
        k.acks = KafkaAcks::Leader;
        k.num_partitions = Some(6);
        k.topic_template = Some("cdc.{database}.{table}".into());
        k.topic_routes.insert("shop.orders".into(), "orders".into());
        k.max_message_bytes = Some(2_000_000);
        let o = KafkaSinkOptions::from_config(&k, "task-1");
        assert_eq!(o.brokers, vec!["k:9092".to_string()]);
        assert_eq!(o.topic, "data");
        assert_eq!(o.ddl_topic.as_deref(), Some("ddl"));
        assert_eq!(o.format, KafkaDataFormat::CanalJson);
        assert!(!o.sync_all_fields);
        assert_eq!(o.compression, KafkaCompression::Zstd);
        assert_eq!(o.partition_policy, PartitionPolicy::ByPrimaryKeyHash);
        assert_eq!(o.partition_key_columns, Some(vec!["id".to_string()]));
        assert_eq!(o.acks, KafkaAcks::Leader);
        assert_eq!(o.partitions, Some(6));
        assert_eq!(o.task_id, "task-1");
        assert_eq!(o.checkpoint_topic, DEFAULT_CHECKPOINT_TOPIC);
        assert_eq!(
            o.topic_mapping,
            TopicMapping::template("cdc.{database}.{table}").route("shop.orders", "orders")
        );
        assert_eq!(o.max_message_bytes, 2_000_000);
        assert!(o.validate().is_ok());
    }

    #[test]
    fn defaults_follow_the_guide() {
        let o = KafkaSinkOptions::new(vec!["k:1".into()], "t", "task");
        assert_eq!(o.format, KafkaDataFormat::DtsAvro);
        assert_eq!(o.compression, KafkaCompression::Lz4);
        assert_eq!(o.partition_policy, PartitionPolicy::AllToPartition0);
        assert_eq!(o.acks, KafkaAcks::All);
        assert!(o.sync_all_fields);
        assert_eq!(o.max_message_bytes, 1_000_000);
    }

    #[test]
    fn validation_names_the_option() {
        let base = KafkaSinkOptions::new(vec!["k:1".into()], "t", "task");
        let mut o = base.clone();
        o.topic = "bad topic".into();
        assert!(o.validate().unwrap_err().to_string().contains("topic"));
        let mut o = base.clone();
        o.brokers.clear();
        assert!(o.validate().unwrap_err().to_string().contains("brokers"));
        let mut o = base.clone();
        o.task_id.clear();
        assert!(o.validate().unwrap_err().to_string().contains("task_id"));
        let mut o = base.clone();
        o.topic_mapping = TopicMapping::single().route("db", "no/slash");
        let e = o.validate().unwrap_err().to_string();
        assert!(
            e.contains("mapping for db") && e.contains("no/slash"),
            "{e}"
        );
        let mut o = base;
        o.partitions = Some(0);
        assert!(o.validate().unwrap_err().to_string().contains("partitions"));
    }

    #[test]
    fn topic_mapping_resolution_order() {
        let m = TopicMapping::template("cdc.{database}.{table}")
            .route("shop.orders", "orders")
            .route("crm", "crm-all");
        let t = |d: &str, n: &str| m.topic_for_table(&TableId::new(d, n), "default");
        assert_eq!(t("shop", "orders"), "orders");
        assert_eq!(t("crm", "people"), "crm-all");
        assert_eq!(t("shop", "line items"), "cdc.shop.line_items");
        assert_eq!(t("日本", "t"), "cdc.__.t");
        assert_eq!(
            TopicMapping::single().topic_for_table(&TableId::new("a", "b"), "default"),
            "default"
        );
        assert_eq!(m.topic_for_database("crm", "default"), "crm-all");
        assert_eq!(m.topic_for_database("shop", "default"), "default");
        assert_eq!(sanitize_topic(".."), "__");
    }
}
