//! A whole MySQL → Kafka task on the real servers: the source's existing rows (full sync) and
//! its later changes (binlog) arrive as Canal JSON records, every change at least once and in
//! order per key, across a crash of the task.

use dts_core::config::{KafkaDataFormat, PartitionPolicy};
use dts_core::{
    DatabaseFilter, FileCheckpointStore, Source, Stage, StageStatus, Task, TaskOptions,
};
use dts_kafka::{KafkaSink, KafkaSinkOptions};
use dts_mysql::{MysqlEndpoint, MysqlSource, Scope, SourceOptions};
use mysql_async::prelude::Queryable;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::{ClientConfig, Message, Offset, TopicPartitionList};
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

fn env(var: &str) -> String {
    std::env::var(var).unwrap_or_else(|_| panic!("{var} is not set: run scripts/test-env.sh up"))
}

async fn task(db: &str, topic: &str, task_id: &str, state: &std::path::Path) -> Task {
    let source = MysqlSource::connect(
        MysqlEndpoint::from_url("source", &env("DTS_TEST_SOURCE_URL")).unwrap(),
        SourceOptions {
            scope: Scope {
                databases: vec![db.into()],
            },
            ..Default::default()
        },
    )
    .await
    .unwrap();
    let mut options = KafkaSinkOptions::new(vec![env("DTS_TEST_KAFKA_BROKERS")], topic, task_id);
    options.format = KafkaDataFormat::CanalJson;
    options.partition_policy = PartitionPolicy::ByPrimaryKeyHash;
    options.partitions = Some(3);
    let sink = KafkaSink::connect(options).await.unwrap();
    Task::new(
        Arc::new(source),
        Arc::new(sink),
        Arc::new(DatabaseFilter::new([db.to_string()])),
        Arc::new(FileCheckpointStore::new(state.join("state.json"))),
        TaskOptions {
            task_id: task_id.into(),
            chunk_rows: 100,
            acknowledged_warnings: vec!["destination.existing_tables".into()],
            ..Default::default()
        },
    )
}

/// Every record of the topic's partitions: (partition, canal message).
fn consume(topic: &str, partitions: i32, expect_at_least: usize) -> Vec<(i32, serde_json::Value)> {
    let consumer: BaseConsumer = ClientConfig::new()
        .set("bootstrap.servers", env("DTS_TEST_KAFKA_BROKERS"))
        .set("group.id", format!("verify-{topic}"))
        .set("enable.auto.commit", "false")
        .create()
        .unwrap();
    let mut tpl = TopicPartitionList::new();
    for p in 0..partitions {
        tpl.add_partition_offset(topic, p, Offset::Beginning)
            .unwrap();
    }
    consumer.assign(&tpl).unwrap();
    let mut out = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut quiet_since = Instant::now();
    while Instant::now() < deadline {
        match consumer.poll(Duration::from_millis(200)) {
            Some(Ok(m)) => {
                let payload = m.payload().unwrap_or_default();
                out.push((m.partition(), serde_json::from_slice(payload).unwrap()));
                quiet_since = Instant::now();
            }
            Some(Err(e)) => panic!("consume: {e}"),
            None if out.len() >= expect_at_least
                && quiet_since.elapsed() > Duration::from_secs(2) =>
            {
                break
            }
            None => {}
        }
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn full_and_incremental_changes_reach_kafka_in_order_per_key() {
    let n = std::process::id();
    let db = format!("dts_kafka_task_{n}");
    let topic = format!("dts-task-{n}");
    let task_id = format!("kafka-task-{n}");
    let src = MysqlEndpoint::from_url("source", &env("DTS_TEST_SOURCE_URL")).unwrap();
    let mut c = src.connect().await.unwrap();
    for s in [
        format!("DROP DATABASE IF EXISTS `{db}`"),
        format!("CREATE DATABASE `{db}`"),
        format!("USE `{db}`"),
        format!("CREATE TABLE `{db}`.t (id INT PRIMARY KEY, v INT, s VARCHAR(20))"),
        format!("INSERT INTO `{db}`.t SELECT seq, 0, 'full' FROM seq_1_to_500"),
    ] {
        c.query_drop(s).await.unwrap();
    }
    let dir = tempfile::tempdir().unwrap();

    // First run: full sync, then some changes, then a crash (abort, no graceful stop).
    let t = task(&db, &topic, &task_id, dir.path()).await;
    let handle = t.handle();
    let runner = tokio::spawn(async move { t.run().await });
    let deadline = Instant::now() + Duration::from_secs(60);
    while handle.status().stage(Stage::IncrementalWrite).status != StageStatus::Running {
        if let Some(f) = handle.status().failure() {
            panic!("task failed in {}: {}", f.0, f.1);
        }
        assert!(Instant::now() < deadline, "{:?}", handle.progress());
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    for v in 1..=5 {
        c.query_drop(format!("UPDATE `{db}`.t SET v = {v} WHERE id <= 100"))
            .await
            .unwrap();
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    runner.abort();
    let _ = runner.await;

    // More changes while it is down, then a restart that catches up.
    for v in 6..=8 {
        c.query_drop(format!("UPDATE `{db}`.t SET v = {v} WHERE id <= 100"))
            .await
            .unwrap();
    }
    c.query_drop(format!("DELETE FROM `{db}`.t WHERE id > 450"))
        .await
        .unwrap();
    let t = task(&db, &topic, &task_id, dir.path()).await;
    let handle = t.handle();
    let probe = MysqlSource::connect(src.clone(), SourceOptions::default())
        .await
        .unwrap();
    let target = probe.current_position().await.unwrap();
    let runner = tokio::spawn(async move { t.run().await });
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let p = handle.progress();
        if p.incremental.position.starts_with(&target.file) {
            let off: u64 = p.incremental.position[target.file.len() + 1..]
                .split(' ')
                .next()
                .and_then(|o| o.parse().ok())
                .unwrap_or(0);
            if off >= target.offset {
                break;
            }
        }
        if let Some(f) = handle.status().failure() {
            panic!("task failed in {}: {}", f.0, f.1);
        }
        assert!(Instant::now() < deadline, "not caught up: {p:?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    handle.stop();
    runner.await.unwrap().unwrap();

    let records = consume(&topic, 3, 500 + 8 * 100 + 50);
    // Per key: the sequence of (type, v) in the order read from its partition.
    let mut per_key: BTreeMap<i64, Vec<(String, i64)>> = BTreeMap::new();
    let mut partition_of: BTreeMap<i64, i32> = BTreeMap::new();
    for (partition, m) in &records {
        assert_eq!(m["database"], db.as_str());
        let kind = m["type"].as_str().unwrap().to_string();
        for row in m["data"].as_array().unwrap() {
            let id: i64 = row["id"].as_str().unwrap().parse().unwrap();
            let v: i64 = row["v"].as_str().unwrap().parse().unwrap();
            per_key.entry(id).or_default().push((kind.clone(), v));
            let p = *partition_of.entry(id).or_insert(*partition);
            assert_eq!(p, *partition, "key {id} spread over partitions");
        }
    }
    for id in 1..=500i64 {
        let seq = per_key
            .get(&id)
            .unwrap_or_else(|| panic!("key {id} missing"));
        assert_eq!(seq[0].0, "INSERT", "key {id}: {seq:?}");
        if id <= 100 {
            // Every update 1..=8 present at least once, in order (replays may repeat).
            let vs: Vec<i64> = seq
                .iter()
                .filter(|(k, _)| k == "UPDATE")
                .map(|(_, v)| *v)
                .collect();
            let mut dedup = vs.clone();
            dedup.dedup();
            let mut expected: Vec<i64> = Vec::new();
            for v in dedup {
                if expected.last().is_none_or(|l| v > *l) {
                    expected.push(v);
                } else {
                    assert!(expected.contains(&v), "key {id}: out of order {vs:?}");
                }
            }
            assert_eq!(expected, (1..=8).collect::<Vec<_>>(), "key {id}: {vs:?}");
        }
        if id > 450 {
            assert_eq!(seq.last().unwrap().0, "DELETE", "key {id}: {seq:?}");
        }
    }
    c.query_drop(format!("DROP DATABASE `{db}`")).await.unwrap();
}
