//! The Kafka destination's `[destination]` options ([`KafkaDestination`]): defined, parsed and
//! validated here, registered with core so any program linking this crate checks them when a
//! task file is loaded.

use dts_core::config::{ConfigError, DestinationConfig, DestinationKind};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

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

fn yes() -> bool {
    true
}

/// A Kafka destination: `[destination]` with `type = "kafka"`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KafkaDestination {
    /// Bootstrap brokers, `host:port`.
    pub brokers: Vec<String>,
    /// The topic receiving data.
    pub topic: String,
    /// The guide's "Topic That Stores DDL Information"; unset means the data topic
    /// ("If not selected, DDL information is stored in the topic receiving data by default").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ddl_topic: Option<String>,
    /// The guide's "Data Format in Kafka"; default `dts_avro`.
    #[serde(default)]
    pub data_format: KafkaDataFormat,
    /// The guide's "Synchronize all fields": an UPDATE message carries every column of the
    /// row, not only the changed ones. Default `true`.
    #[serde(default = "yes")]
    pub sync_all_fields: bool,
    /// The guide's "Kafka Data Compression Format"; default `lz4`.
    #[serde(default)]
    pub compression: KafkaCompression,
    /// The guide's "Policy for Shipping Data to Kafka Partitions"; default
    /// `all_to_partition_0`.
    #[serde(default)]
    pub partition_policy: PartitionPolicy,
    /// With `by_primary_key_hash`: hash these columns instead of the primary key (tables that
    /// lack one of them fall back to the primary key).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub partition_key_columns: Option<Vec<String>>,
    /// The guide's "Message acknowledgement mechanism"; default `all`.
    #[serde(default)]
    pub acks: KafkaAcks,
    /// Number of partitions of the topic (used when creating it and for hashing); unset means
    /// the topic's existing partition count.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub num_partitions: Option<u32>,
    /// The guide's "use mapping to set the topic name": a topic per table from a pattern with
    /// `{database}` and `{table}` placeholders (e.g. `"dts.{database}.{table}"`), over the
    /// names at the destination (after object name mapping). Unset: every table goes to
    /// `topic` unless `topic_routes` maps it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub topic_template: Option<String>,
    /// Explicit topics by destination `"database"` or `"database.table"`
    /// (`[destination.topic_routes]`); a table's own route wins over its database's, and both
    /// over `topic_template`.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub topic_routes: BTreeMap<String, String>,
    /// Largest record the task produces, in bytes; a larger one stops the task with an error
    /// naming its table and key. Unset: 1,000,000 (Kafka's default `max.message.bytes`); the
    /// topic's own `max.message.bytes` applies when smaller.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_message_bytes: Option<u32>,
}

dts_core::register_destination!(DestinationKind::Kafka, check_destination);

/// The registered check: parses and validates a Kafka `[destination]`, and writes it back
/// with every default filled in.
fn check_destination(destination: &DestinationConfig) -> Result<toml::Table, Vec<ConfigError>> {
    let kafka = KafkaDestination::from_destination(destination).map_err(|e| vec![e])?;
    let problems = kafka.problems("destination");
    if !problems.is_empty() {
        return Err(problems);
    }
    toml::Table::try_from(&kafka)
        .map_err(|e| vec![ConfigError::invalid("destination", e.to_string())])
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

    /// The options of a `type = "kafka"` destination section; errors name the key.
    pub fn from_destination(destination: &DestinationConfig) -> Result<Self, ConfigError> {
        if destination.kind() != DestinationKind::Kafka {
            return Err(ConfigError::invalid(
                "destination.type",
                format!(
                    "the Kafka connector reads kafka destinations, not {}",
                    destination.kind()
                ),
            ));
        }
        destination.connector_options()
    }

    /// This destination as a task's `[destination]` section.
    pub fn to_destination(&self) -> DestinationConfig {
        let options = dts_core::config::ConnectorOptions::from_serialize(self)
            .expect("Kafka options are plain TOML values");
        DestinationConfig::new(DestinationKind::Kafka).with_options(options)
    }

    /// The topic DDL goes to: `ddl_topic`, or the data topic when unset.
    pub fn ddl_topic(&self) -> &str {
        self.ddl_topic.as_deref().unwrap_or(&self.topic)
    }

    /// Every rule violation, naming the key under `prefix`.
    pub fn problems(&self, prefix: &str) -> Vec<ConfigError> {
        let key = |k: &str| format!("{prefix}.{k}");
        let mut problems = Vec::new();
        let mut push = |k: String, m: String| problems.push(ConfigError::invalid(k, m));
        if self.brokers.is_empty() {
            push(key("brokers"), "must list at least one broker".into());
        }
        for (i, broker) in self.brokers.iter().enumerate() {
            if broker.trim().is_empty() || broker.contains(char::is_whitespace) {
                push(
                    format!("{}[{i}]", key("brokers")),
                    format!("`{broker}` is not a valid host:port"),
                );
            }
        }
        let mut topic = |k: String, t: &str| {
            if let Err(m) = topic_name_problem(t) {
                push(k, m);
            }
        };
        topic(key("topic"), &self.topic);
        if let Some(ddl) = &self.ddl_topic {
            topic(key("ddl_topic"), ddl);
        }
        for (object, t) in &self.topic_routes {
            let k = format!("{}.\"{object}\"", key("topic_routes"));
            let parts: Vec<&str> = object.split('.').collect();
            if parts.len() > 2 || parts.iter().any(|p| p.is_empty()) {
                push(
                    k.clone(),
                    format!("`{object}` must name a database or a database.table"),
                );
            }
            if let Err(m) = topic_name_problem(t) {
                push(k, m);
            }
        }
        if let Some(columns) = &self.partition_key_columns {
            let k = key("partition_key_columns");
            if self.partition_policy != PartitionPolicy::ByPrimaryKeyHash {
                push(
                    k.clone(),
                    "only used when partition_policy is by_primary_key_hash".into(),
                );
            }
            if columns.is_empty() {
                push(k.clone(), "must list at least one column when set".into());
            }
            if columns.iter().any(|c| c.trim().is_empty()) {
                push(k, "column names must not be empty".into());
            }
        }
        if self.num_partitions == Some(0) {
            push(
                key("num_partitions"),
                "must be greater than 0, got 0".into(),
            );
        }
        if let Some(template) = &self.topic_template {
            let k = key("topic_template");
            if template.is_empty() {
                push(k.clone(), "must not be empty when set".into());
            }
            let mut rest = template.as_str();
            while let Some(open) = rest.find('{') {
                let after = &rest[open + 1..];
                match after.find('}') {
                    Some(close) if matches!(&after[..close], "database" | "table") => {
                        rest = &after[close + 1..];
                    }
                    _ => {
                        push(
                            k,
                            format!("`{template}`: only the placeholders {{database}} and {{table}} are known"),
                        );
                        break;
                    }
                }
            }
        }
        if let Some(bytes) = self.max_message_bytes {
            if bytes < 1024 {
                push(
                    key("max_message_bytes"),
                    format!("{bytes} is too small (at least 1024)"),
                );
            }
        }
        problems
    }
}

/// Kafka's topic-name rule: 1-249 characters of `A-Z a-z 0-9 . _ -`, and not `.` or `..`.
pub(crate) fn topic_name_problem(topic: &str) -> Result<(), String> {
    let valid = !topic.is_empty()
        && topic.len() <= 249
        && topic != "."
        && topic != ".."
        && topic
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'));
    if valid {
        Ok(())
    } else {
        Err(format!(
            "`{topic}` is not a valid Kafka topic name (1-249 characters of A-Z, a-z, 0-9, `.`, `_`, `-`)"
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use dts_core::config::TaskConfig;

    fn task(destination: &str) -> Result<TaskConfig, ConfigError> {
        TaskConfig::from_toml_str(&format!(
            "[source]\nhost = \"h\"\nuser = \"u\"\n\n[destination]\ntype = \"kafka\"\n{destination}\n\n[[objects.databases]]\nname = \"shop\"\n"
        ))
    }

    fn parse(destination: &str) -> KafkaDestination {
        KafkaDestination::from_destination(&task(destination).unwrap().destination).unwrap()
    }

    #[test]
    fn defaults_follow_the_guide() {
        let k = parse("brokers = [\"k:9092\"]\ntopic = \"t\"");
        assert_eq!(k, KafkaDestination::new(vec!["k:9092".into()], "t"));
        assert_eq!(k.data_format, KafkaDataFormat::DtsAvro);
        assert!(k.sync_all_fields);
        assert_eq!(k.compression, KafkaCompression::Lz4);
        assert_eq!(k.partition_policy, PartitionPolicy::AllToPartition0);
        assert_eq!(k.acks, KafkaAcks::All);
        assert_eq!(k.ddl_topic(), "t");
    }

    #[test]
    fn the_loaded_file_is_checked_by_this_connector() {
        // The schema is registered: loading the file reports the connector's problems.
        let e = task("brokers = [\"k:9092\"]\ntopic = \"bad topic\"").unwrap_err();
        assert_eq!(e.key, "destination.topic", "{e}");
        let e = task("topic = \"t\"").unwrap_err();
        assert_eq!(e.key, "destination.brokers", "{e}");
        assert!(e.message.contains("missing field `brokers`"), "{e}");
        let e = task("brokers = [\"k\"]\ntopic = \"t\"\nhost = \"h\"").unwrap_err();
        assert_eq!(e.key, "destination.host", "{e}");
        assert!(e.message.contains("unknown field `host`"), "{e}");
        let e = task("brokers = [\"k\"]\ntopic = \"t\"\nacks = \"most\"").unwrap_err();
        assert_eq!(e.key, "destination.acks", "{e}");
        // The key is named once, not again at the end of the message.
        assert!(e.message.ends_with("`none`"), "{e}");
    }

    #[test]
    fn every_option_round_trips_through_the_task_file() {
        let src = "brokers = [\"k:9092\"]\ntopic = \"t\"\nddl_topic = \"d\"\ndata_format = \"canal_json\"\ncompression = \"zstd\"\npartition_policy = \"by_primary_key_hash\"\npartition_key_columns = [\"id\"]\nacks = \"leader\"\nnum_partitions = 12\nsync_all_fields = false\ntopic_template = \"cdc.{database}.{table}\"\nmax_message_bytes = 2000000\n[destination.topic_routes]\n\"shop.orders\" = \"orders\"\ncrm = \"crm-all\"";
        let config = task(src).unwrap();
        let k = KafkaDestination::from_destination(&config.destination).unwrap();
        assert_eq!(k.topic_routes["shop.orders"], "orders");
        let again = TaskConfig::from_toml_str(&config.to_toml_string().unwrap()).unwrap();
        assert_eq!(
            KafkaDestination::from_destination(&again.destination).unwrap(),
            k
        );
        assert_eq!(
            KafkaDestination::from_destination(&k.to_destination()).unwrap(),
            k
        );
    }

    #[test]
    fn rules() {
        let base = KafkaDestination::new(vec!["k:9092".into()], "t");
        let check = |edit: &dyn Fn(&mut KafkaDestination), key: &str| {
            let mut k = base.clone();
            edit(&mut k);
            let problems = k.problems("destination");
            assert!(
                problems
                    .iter()
                    .any(|e| e.key == key && e.to_string().starts_with(key)),
                "{key}: {problems:?}"
            );
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
        assert!(ok.problems("destination").is_empty());
    }
}
