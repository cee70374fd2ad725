//! The sink conformance suite of `dts-testkit` against the Kafka sink on the test
//! environment's broker. A consumer reads the table's topic by explicit partition assignment,
//! drops replays by the records' identity and folds the rest in order into the table's rows.
//! The identity is the criterion of `delivery.rs`'s crash test (`dts.position`,
//! `dts.change_index`) plus the record's key: a key-changing update is one change delivered as
//! two records, a delete of the old key and an insert of the new one.

mod common;

use common::{consume_all, options, unique, Consumed};
use dts_core::{Position, SchemaRef};
use dts_kafka::PartitionPolicy;
use dts_kafka::{KafkaDataFormat, KafkaSink, KafkaSinkOptions};
use dts_testkit::conformance::{self, async_trait, Destination, Rows};
use std::collections::HashSet;

struct Kafka {
    options: KafkaSinkOptions,
}

/// A data record's identity: its transaction's begin position and its index in it.
fn identity(c: &Consumed) -> (Position, usize) {
    let (file, offset) = c
        .header("dts.position")
        .rsplit_once(':')
        .expect("dts.position is file:offset");
    let index = c.header("dts.change_index").parse().unwrap();
    (Position::new(file, offset.parse().unwrap()), index)
}

impl Kafka {
    /// The data records of the table's topic (the schema's CREATE TABLE record left out).
    async fn records(&self) -> Vec<Consumed> {
        consume_all(&self.options.topic)
            .await
            .into_iter()
            .filter(|c| c.json()["isDdl"] != serde_json::Value::Bool(true))
            .collect()
    }
}

#[async_trait]
impl Destination for Kafka {
    type Sink = KafkaSink;

    async fn connect(&self) -> KafkaSink {
        KafkaSink::connect(self.options.clone())
            .await
            .expect("the Kafka sink connects")
    }

    async fn rows(&self, _schema: &SchemaRef) -> Rows {
        // Each key's records are in one partition, in order: folding partition by partition
        // gives every key its last state.
        let mut seen = HashSet::new();
        let mut rows = Rows::new();
        for c in self.records().await {
            if !seen.insert((identity(&c), c.key.clone())) {
                continue;
            }
            let record = c.json();
            let row = &record["data"][0];
            let id: i64 = row["id"].as_str().unwrap().parse().unwrap();
            match record["type"].as_str().unwrap() {
                "DELETE" => {
                    rows.remove(&id);
                }
                "INSERT" | "UPDATE" => {
                    rows.insert(id, row["v"].as_str().unwrap().to_string());
                }
                other => panic!("record {}@{}: type {other}", c.partition, c.offset),
            }
        }
        rows
    }

    async fn change_log(&self, _schema: &SchemaRef) -> Option<Vec<(Position, usize)>> {
        Some(self.records().await.iter().map(identity).collect())
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn the_kafka_sink_passes_the_sink_conformance_suite() {
    let topic = unique("kit-conformance");
    let mut o = options(&topic, KafkaDataFormat::CanalJson);
    o.partition_policy = PartitionPolicy::ByPrimaryKeyHash;
    o.partitions = Some(3);
    conformance::run(&Kafka { options: o }, "shop", "kv").await;
}
