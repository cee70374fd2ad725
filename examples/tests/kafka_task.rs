//! Whole MySQL → Kafka tasks on the real servers: the source's existing rows (full sync) and
//! its later changes (binlog) arrive as Canal JSON records, every change at least once and in
//! order per key, across a crash of the task and across a broker outage longer than the
//! producer's delivery timeout; a task built from a TOML configuration sends each table to the
//! topic its (renamed) name maps to.

use dts_core::{
    DatabaseFilter, FileCheckpointStore, Source, Stage, StageStatus, Task, TaskOptions,
};
use dts_kafka::{KafkaDataFormat, PartitionPolicy};
use dts_kafka::{KafkaSink, KafkaSinkOptions};
use dts_mysql::{MysqlEndpoint, MysqlSource, Scope, SourceOptions};
use mysql_async::prelude::Queryable;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::{ClientConfig, Message, Offset, TopicPartitionList};
use std::collections::BTreeMap;
use std::net::{Shutdown, TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use dts_testkit::env::var as env;

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
            acknowledged_warnings: vec![
                "destination.existing_tables".into(),
                "destination.message_size".into(),
            ],
            ..Default::default()
        },
    )
}

/// Every record of the topic's partitions: (partition, canal message).
fn consume(topic: &str, partitions: i32, expect_at_least: usize) -> Vec<(i32, serde_json::Value)> {
    consume_from(
        &env("DTS_TEST_KAFKA_BROKERS"),
        topic,
        partitions,
        expect_at_least,
    )
}

/// `records` without the schema-sync CREATE TABLE records, after checking there is exactly
/// one per table in `tables` (schema sync to Kafka emits them before any row).
fn rows_only(
    records: Vec<(i32, serde_json::Value)>,
    tables: &[&str],
) -> Vec<(i32, serde_json::Value)> {
    let (creates, rows): (Vec<_>, Vec<_>) = records
        .into_iter()
        .partition(|(_, m)| m["isDdl"] == true && m["type"] == "CREATE");
    let mut named: Vec<String> = creates
        .iter()
        .map(|(_, m)| m["table"].as_str().unwrap_or_default().to_string())
        .collect();
    named.sort();
    let mut want: Vec<String> = tables.iter().map(|t| t.to_string()).collect();
    want.sort();
    assert_eq!(named, want, "one CREATE TABLE record per synced table");
    rows
}

/// Every record of the topic's partitions on `brokers`, by explicit partition assignment.
fn consume_from(
    brokers: &str,
    topic: &str,
    partitions: i32,
    expect_at_least: usize,
) -> Vec<(i32, serde_json::Value)> {
    let consumer: BaseConsumer = ClientConfig::new()
        .set("bootstrap.servers", brokers)
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
    let db = format!("kf_task_{n}");
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
    dts_testkit::wait_incremental(&handle, Duration::from_secs(60)).await;
    for v in 1..=5 {
        c.query_drop(format!("UPDATE `{db}`.t SET v = {v} WHERE id <= 100"))
            .await
            .unwrap();
    }
    // Deliberately lets time pass, not a synchronization: some of the updates are in flight when
    // the task
    // is killed (a crash mid-stream).
    tokio::time::sleep(Duration::from_millis(300)).await;
    runner.abort();
    let _ = runner.await;

    // More changes while it is down, then a restart that catches up.
    for v in 6..=8 {
        c.query_drop(format!("UPDATE `{db}`.t SET v = {v} WHERE id <= 100"))
            .await
            .unwrap();
    }
    c.query_drop(format!("ALTER TABLE `{db}`.t ADD COLUMN w INT"))
        .await
        .unwrap();
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
    dts_testkit::wait_for(&handle, Duration::from_secs(60), "caught up", || async {
        let p = handle.progress();
        if p.incremental.position.starts_with(&target.file) {
            let off: u64 = p.incremental.position[target.file.len() + 1..]
                .split(' ')
                .next()
                .and_then(|o| o.parse().ok())
                .unwrap_or(0);
            if off >= target.offset {
                return Ok(());
            }
        }
        Err(p)
    })
    .await;
    handle.stop();
    runner.await.unwrap().unwrap();

    let records = consume(&topic, 3, 500 + 8 * 100 + 50);
    // Per key: the sequence of (type, v) in the order read from its partition.
    let mut per_key: BTreeMap<i64, Vec<(String, i64)>> = BTreeMap::new();
    let mut partition_of: BTreeMap<i64, i32> = BTreeMap::new();
    let mut ddl = Vec::new();
    for (partition, m) in &records {
        assert_eq!(m["database"], db.as_str());
        if m["isDdl"] == true {
            // DDL records go to partition 0 under the primary-key policy.
            assert_eq!(*partition, 0, "{m}");
            ddl.push(m["sql"].as_str().unwrap().to_string());
            continue;
        }
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
    assert!(
        ddl.iter().any(|s| s.contains("ADD COLUMN w INT")),
        "the ALTER TABLE arrives as a DDL record: {ddl:?}"
    );
    c.query_drop(format!("DROP DATABASE `{db}`")).await.unwrap();
}

/// A TCP relay from a local port to `upstream` that can be cut (every relayed connection
/// closed, new ones closed at once, as when a broker host drops off the network) and restored.
struct Relay {
    port: u16,
    up: Arc<AtomicBool>,
    streams: Arc<Mutex<Vec<TcpStream>>>,
}

impl Relay {
    fn start(upstream: u16) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let up = Arc::new(AtomicBool::new(true));
        let streams: Arc<Mutex<Vec<TcpStream>>> = Arc::default();
        let (up2, streams2) = (up.clone(), streams.clone());
        std::thread::spawn(move || {
            for inbound in listener.incoming() {
                let Ok(inbound) = inbound else { continue };
                if !up2.load(Ordering::SeqCst) {
                    let _ = inbound.shutdown(Shutdown::Both);
                    continue;
                }
                let Ok(outbound) = TcpStream::connect(("127.0.0.1", upstream)) else {
                    continue;
                };
                let mut list = streams2.lock().unwrap();
                list.push(inbound.try_clone().unwrap());
                list.push(outbound.try_clone().unwrap());
                for (mut from, mut to) in [
                    (inbound.try_clone().unwrap(), outbound.try_clone().unwrap()),
                    (outbound, inbound),
                ] {
                    std::thread::spawn(move || {
                        let _ = std::io::copy(&mut from, &mut to);
                        let _ = to.shutdown(Shutdown::Both);
                    });
                }
            }
        });
        Self { port, up, streams }
    }

    fn cut(&self) {
        self.up.store(false, Ordering::SeqCst);
        for s in self.streams.lock().unwrap().drain(..) {
            let _ = s.shutdown(Shutdown::Both);
        }
    }

    fn restore(&self) {
        self.up.store(true, Ordering::SeqCst);
    }
}

/// A broker of this test alone (tansu, in memory) that advertises the relay in front of it, so
/// every client connection goes through the relay; stopped when dropped.
struct PrivateBroker {
    child: Child,
    relay: Relay,
}

impl PrivateBroker {
    fn start() -> Self {
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let relay = Relay::start(port);
        let home = std::env::var("HOME").unwrap_or_default();
        let tansu = ["tansu".to_string(), format!("{home}/.cargo/bin/tansu")]
            .into_iter()
            .find(|t| {
                Command::new(t)
                    .arg("--help")
                    .stdout(Stdio::null())
                    .stderr(Stdio::null())
                    .status()
                    .is_ok()
            })
            .expect("tansu not found: run scripts/test-env.sh up");
        let child = Command::new(tansu)
            .args([
                "broker",
                "--cluster-id",
                &format!("kf-outage-{}", std::process::id()),
                "--storage-engine",
                "memory://tansu/",
                "--listener-url",
                &format!("tcp://127.0.0.1:{port}"),
                "--advertised-listener-url",
                &format!("tcp://127.0.0.1:{}", relay.port),
            ])
            .env("RUST_LOG", "error")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start tansu");
        let deadline = Instant::now() + Duration::from_secs(30);
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "private tansu did not start");
            // The poll interval of a blocking wait (no runtime here) for the private broker's port.
            std::thread::sleep(Duration::from_millis(100));
        }
        Self { child, relay }
    }

    fn bootstrap(&self) -> String {
        format!("127.0.0.1:{}", self.relay.port)
    }
}

impl Drop for PrivateBroker {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Waits until the checkpoint the sink keeps in Kafka reaches `target`, failing the test if
/// the task fails.
async fn wait_kafka_checkpoint(
    sink: &KafkaSink,
    handle: &dts_core::TaskHandle,
    target: &dts_core::Position,
    timeout: Duration,
) {
    dts_testkit::wait_checkpoint(handle, sink, target, timeout).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn broker_outage_is_retried_within_the_connection_retry_window() {
    let broker = PrivateBroker::start();
    let n = std::process::id();
    let db = format!("kf_outage_{n}");
    let topic = format!("kf-outage-{n}");
    let task_id = format!("kf-outage-{n}");
    let src = MysqlEndpoint::from_url("source", &env("DTS_TEST_SOURCE_URL")).unwrap();
    let mut c = src.connect().await.unwrap();
    for s in [
        format!("DROP DATABASE IF EXISTS `{db}`"),
        format!("CREATE DATABASE `{db}`"),
        format!("USE `{db}`"),
        format!("CREATE TABLE `{db}`.t (id INT PRIMARY KEY, v INT)"),
        format!("INSERT INTO `{db}`.t SELECT seq, 0 FROM seq_1_to_200"),
    ] {
        c.query_drop(s).await.unwrap();
    }
    let dir = tempfile::tempdir().unwrap();
    let source = MysqlSource::connect(
        src.clone(),
        SourceOptions {
            scope: Scope {
                databases: vec![db.clone()],
            },
            ..Default::default()
        },
    )
    .await
    .unwrap();
    let mut options = KafkaSinkOptions::new(vec![broker.bootstrap()], &topic, &task_id);
    options.format = KafkaDataFormat::CanalJson;
    options.partition_policy = PartitionPolicy::ByPrimaryKeyHash;
    options.partitions = Some(2);
    // Shorter than the outage: librdkafka gives up on the records and the task must retry.
    options.delivery_timeout = Duration::from_secs(3);
    options.request_timeout = Duration::from_secs(3);
    let sink = Arc::new(KafkaSink::connect(options).await.unwrap());
    let t = Task::new(
        Arc::new(source),
        sink.clone(),
        Arc::new(DatabaseFilter::new([db.clone()])),
        Arc::new(FileCheckpointStore::new(dir.path().join("state.json"))),
        TaskOptions {
            task_id: task_id.clone(),
            connection_retry: Duration::from_secs(120),
            other_retry: Duration::from_secs(10),
            acknowledged_warnings: vec!["destination.existing_tables".into()],
            ..Default::default()
        },
    );
    let handle = t.handle();
    let runner = tokio::spawn(async move { t.run().await });
    dts_testkit::wait_incremental(&handle, Duration::from_secs(60)).await;
    let probe = MysqlSource::connect(src.clone(), SourceOptions::default())
        .await
        .unwrap();
    for v in 1..=2 {
        c.query_drop(format!("UPDATE `{db}`.t SET v = {v}"))
            .await
            .unwrap();
    }
    let before_outage = probe.current_position().await.unwrap();
    wait_kafka_checkpoint(&sink, &handle, &before_outage, Duration::from_secs(60)).await;
    assert!(
        handle.progress().last_error.is_none(),
        "{:?}",
        handle.progress()
    );

    // The broker becomes unreachable for longer than the delivery timeout, while the source
    // keeps changing.
    broker.relay.cut();
    for v in 3..=5 {
        c.query_drop(format!("UPDATE `{db}`.t SET v = {v}"))
            .await
            .unwrap();
    }
    c.query_drop(format!("DELETE FROM `{db}`.t WHERE id > 190"))
        .await
        .unwrap();
    let target = probe.current_position().await.unwrap();
    dts_testkit::wait_for(
        &handle,
        Duration::from_secs(60),
        "a failure seen during the outage",
        || async {
            let progress = handle.progress();
            match progress.last_error {
                Some(_) => Ok(()),
                None => Err(progress),
            }
        },
    )
    .await;
    // Deliberately lets time pass, not a synchronization: the outage goes on for 4 s.
    tokio::time::sleep(Duration::from_secs(4)).await;
    let during = handle.progress();
    assert!(handle.status().failure().is_none(), "{during:?}");
    let last_error = during.last_error.clone().unwrap();
    assert!(
        last_error.contains(&broker.bootstrap()),
        "a connection error naming the brokers: {last_error}"
    );

    // Back: the task resumes from its checkpoint in Kafka and catches up.
    broker.relay.restore();
    wait_kafka_checkpoint(&sink, &handle, &target, Duration::from_secs(90)).await;
    handle.stop();
    runner.await.unwrap().unwrap();

    let records = consume_from(&broker.bootstrap(), &topic, 2, 200 + 5 * 200 + 10 + 1);
    let records = rows_only(records, &["t"]);
    let mut per_key: BTreeMap<i64, Vec<(String, i64)>> = BTreeMap::new();
    for (_, m) in &records {
        let kind = m["type"].as_str().unwrap().to_string();
        for row in m["data"].as_array().unwrap() {
            let id: i64 = row["id"].as_str().unwrap().parse().unwrap();
            let v: i64 = row["v"].as_str().unwrap().parse().unwrap();
            per_key.entry(id).or_default().push((kind.clone(), v));
        }
    }
    for id in 1..=200i64 {
        let seq = per_key
            .get(&id)
            .unwrap_or_else(|| panic!("key {id} missing"));
        assert_eq!(seq[0], ("INSERT".to_string(), 0), "key {id}: {seq:?}");
        let mut updates: Vec<i64> = seq
            .iter()
            .filter(|(k, _)| k == "UPDATE")
            .map(|(_, v)| *v)
            .collect();
        // Replays repeat a suffix; what each key saw, first occurrences in order, is 1..=5.
        let mut seen = Vec::new();
        for v in updates.drain(..) {
            if !seen.contains(&v) {
                assert!(seen.last().is_none_or(|l| v > *l), "key {id}: {seq:?}");
                seen.push(v);
            }
        }
        assert_eq!(seen, (1..=5).collect::<Vec<_>>(), "key {id}: {seq:?}");
        if id > 190 {
            assert_eq!(seq.last().unwrap().0, "DELETE", "key {id}: {seq:?}");
        }
    }
    c.query_drop(format!("DROP DATABASE `{db}`")).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn config_topic_mapping_follows_object_name_mapping() {
    let n = std::process::id();
    let db = format!("kf_map_{n}");
    let renamed = format!("kf_map_dst_{n}");
    let prefix = format!("kf-map-{n}");
    let src = MysqlEndpoint::from_url("source", &env("DTS_TEST_SOURCE_URL")).unwrap();
    let mut c = src.connect().await.unwrap();
    for s in [
        format!("DROP DATABASE IF EXISTS `{db}`"),
        format!("CREATE DATABASE `{db}`"),
        format!("CREATE TABLE `{db}`.a (id INT PRIMARY KEY, v INT)"),
        format!("CREATE TABLE `{db}`.b (id INT PRIMARY KEY, v INT)"),
        format!("INSERT INTO `{db}`.a VALUES (1, 10), (2, 20)"),
        format!("INSERT INTO `{db}`.b VALUES (3, 30)"),
    ] {
        c.query_drop(s).await.unwrap();
    }
    let url = env("DTS_TEST_SOURCE_URL");
    let hostport = url.rsplit('@').next().unwrap();
    let (host, port) = hostport.split_once(':').unwrap();
    let toml = format!(
        r#"
id = "kf-map-{n}"
[source]
host = "{host}"
port = {port}
user = "root"
database_type = "mariadb"
[destination]
type = "kafka"
brokers = ["{brokers}"]
topic = "{prefix}-default"
data_format = "canal_json"
num_partitions = 2
topic_template = "{prefix}.{{database}}.{{table}}"
[destination.topic_routes]
"{renamed}.b" = "{prefix}-b"
[sync_types]
schema = true
full_data = true
[[objects.databases]]
name = "{db}"
rename_to = "{renamed}"
[[objects.databases.tables]]
name = "a"
rename_to = "a_renamed"
[[objects.databases.tables]]
name = "b"
"#,
        brokers = env("DTS_TEST_KAFKA_BROKERS"),
    );
    let config = dts_core::config::TaskConfig::from_toml_str(&toml).unwrap();
    assert_eq!(
        config.destination.kind(),
        dts_core::config::DestinationKind::Kafka
    );
    let dir = tempfile::tempdir().unwrap();
    // As the `dts` program (`dts_examples::runner`) composes a Kafka task.
    let task = dts_examples::runner::compose_task(&config, dir.path(), None)
        .await
        .unwrap()
        .task;
    let handle = task.handle();
    let runner = tokio::spawn(async move { task.run().await });
    dts_testkit::wait_stage(
        &handle,
        Stage::FullDataSync,
        StageStatus::Finished,
        Duration::from_secs(120),
    )
    .await;
    handle.stop();
    runner.await.unwrap().unwrap();

    let a = rows_only(
        consume(&format!("{prefix}.{renamed}.a_renamed"), 2, 3),
        &["a_renamed"],
    );
    let mut ids: Vec<(String, String, String)> = a
        .iter()
        .map(|(_, m)| {
            (
                m["database"].as_str().unwrap().to_string(),
                m["table"].as_str().unwrap().to_string(),
                m["data"][0]["id"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    ids.sort();
    assert_eq!(
        ids,
        [
            (renamed.clone(), "a_renamed".to_string(), "1".to_string()),
            (renamed.clone(), "a_renamed".to_string(), "2".to_string()),
        ]
    );
    let b = rows_only(consume(&format!("{prefix}-b"), 2, 2), &["b"]);
    assert_eq!(b.len(), 1, "{b:?}");
    assert_eq!(b[0].1["table"], "b");
    assert_eq!(b[0].1["data"][0]["v"], "30");
    c.query_drop(format!("DROP DATABASE `{db}`")).await.unwrap();
}

/// Every MySQL type family (the shared every-type table of the source tests), with extreme
/// values.
const TYPES_TABLE: &str = "CREATE TABLE t (
    id INT PRIMARY KEY,
    ti TINYINT, tiu TINYINT UNSIGNED, si SMALLINT, mi MEDIUMINT, miu MEDIUMINT UNSIGNED,
    i INT, iu INT UNSIGNED, bi BIGINT, biu BIGINT UNSIGNED,
    f FLOAT, d DOUBLE, dec1 DECIMAL(65,30), dec2 DECIMAL(10,2),
    b1 BIT(1), b64 BIT(64),
    c CHAR(10), vc VARCHAR(100), tx TEXT, l1 VARCHAR(20) CHARACTER SET latin1,
    bn BINARY(4), vb VARBINARY(20), bl BLOB,
    dt DATE, tm TIME, tm6 TIME(6), dtm DATETIME, dtm6 DATETIME(6), ts TIMESTAMP(6) NULL, yr YEAR,
    e ENUM('a','b','c'), s SET('x','y','z'), j JSON, g GEOMETRY
) DEFAULT CHARSET = utf8mb4";

/// The extreme row with id `id`.
fn extreme_row_sql(id: i64) -> String {
    format!(
        "INSERT INTO t VALUES ({id},
    -128, 255, -32768, -8388608, 16777215, -2147483648, 4294967295,
    -9223372036854775808, 18446744073709551615,
    1.5, -1.7976931348623157e308,
    '-99999999999999999999999999999999999.999999999999999999999999999999', '-12345678.90',
    b'1', b'1111111111111111111111111111111111111111111111111111111111111111',
    'ab', 'emoji 😀 ok', 'some text', 'café',
    x'0100', x'00ff00', x'000102',
    '0000-00-00', '-838:59:59', '838:59:59.999999', '0000-00-00 00:00:00',
    '9999-12-31 23:59:59.999999', '2038-01-19 03:14:07.999999', 0,
    'c', 'x,z', '{{\"k\": \"ünï\", \"n\": [1, 2.5, null]}}', ST_GeomFromText('POINT(1 2)', 4326))"
    )
}

/// The Canal JSON `data` object of the extreme row (the documented text forms).
fn canal_extreme_row(id: i64) -> serde_json::Value {
    serde_json::json!({
        "id": id.to_string(),
        "ti": "-128", "tiu": "255", "si": "-32768", "mi": "-8388608", "miu": "16777215",
        "i": "-2147483648", "iu": "4294967295",
        "bi": "-9223372036854775808", "biu": "18446744073709551615",
        "f": "1.5", "d": "-1.7976931348623157e308",
        "dec1": "-99999999999999999999999999999999999.999999999999999999999999999999",
        "dec2": "-12345678.90",
        "b1": "1", "b64": "18446744073709551615",
        "c": "ab", "vc": "emoji 😀 ok", "tx": "some text", "l1": "café",
        "bn": "AQAAAA==", "vb": "AP8A", "bl": "AAEC",
        "dt": "0000-00-00", "tm": "-838:59:59", "tm6": "838:59:59.999999",
        "dtm": "0000-00-00 00:00:00", "dtm6": "9999-12-31 23:59:59.999999",
        "ts": "2038-01-19 03:14:07.999999", "yr": "0000",
        "e": "c", "s": "x,z", "j": "{\"k\": \"ünï\", \"n\": [1, 2.5, null]}",
        // SRID 4326 (little endian) + WKB of POINT(1 2).
        "g": "5hAAAAEBAAAAAAAAAAAA8D8AAAAAAAAAQA==",
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn every_mysql_type_reaches_kafka_exactly_from_full_and_incremental() {
    let n = std::process::id();
    let db = format!("kf_types_{n}");
    let topic = format!("kf-types-{n}");
    let task_id = format!("kf-types-{n}");
    let src = MysqlEndpoint::from_url("source", &env("DTS_TEST_SOURCE_URL")).unwrap();
    let mut c = src.connect().await.unwrap();
    for s in [
        "SET SESSION time_zone = '+00:00', sql_mode = ''".to_string(),
        format!("DROP DATABASE IF EXISTS `{db}`"),
        format!("CREATE DATABASE `{db}`"),
        format!("USE `{db}`"),
        TYPES_TABLE.to_string(),
        extreme_row_sql(1),
        "INSERT INTO t (id) VALUES (3)".to_string(),
    ] {
        c.query_drop(s).await.unwrap();
    }
    let dir = tempfile::tempdir().unwrap();
    let t = task(&db, &topic, &task_id, dir.path()).await;
    let handle = t.handle();
    let runner = tokio::spawn(async move { t.run().await });
    dts_testkit::wait_incremental(&handle, Duration::from_secs(60)).await;
    c.query_drop(extreme_row_sql(2)).await.unwrap();
    let records = rows_only(consume(&topic, 3, 4), &["t"]);
    handle.stop();
    runner.await.unwrap().unwrap();

    let mut by_id: BTreeMap<String, &serde_json::Value> = BTreeMap::new();
    for (_, m) in &records {
        assert_eq!(m["type"], "INSERT", "{m}");
        let row = &m["data"][0];
        by_id.insert(row["id"].as_str().unwrap().to_string(), row);
    }
    assert_eq!(
        by_id.keys().collect::<Vec<_>>(),
        ["1", "2", "3"],
        "{records:?}"
    );
    assert_eq!(*by_id["1"], canal_extreme_row(1), "full sync");
    assert_eq!(*by_id["2"], canal_extreme_row(2), "binlog");
    let nulls = by_id["3"].as_object().unwrap();
    assert_eq!(nulls.len(), 34);
    assert!(
        nulls.iter().all(|(k, v)| k == "id" || v.is_null()),
        "{nulls:?}"
    );
    c.query_drop(format!("DROP DATABASE `{db}`")).await.unwrap();
}

#[test]
fn the_example_kafka_task_file_is_valid() {
    let config =
        dts_core::config::TaskConfig::from_toml_str(include_str!("../tasks/mysql_to_kafka.toml"))
            .unwrap();
    let kafka = dts_kafka::KafkaDestination::from_destination(&config.destination).unwrap();
    let options = KafkaSinkOptions::from_config(&kafka, "sbtest-to-kafka");
    assert_eq!(options.format, KafkaDataFormat::CanalJson);
    assert_eq!(options.partition_policy, PartitionPolicy::ByPrimaryKeyHash);
    assert_eq!(options.partitions, Some(6));
    assert_eq!(
        options
            .topic_mapping
            .topic_for_table(&dts_core::TableId::new("sbtest", "sbtest2"), &options.topic),
        "cdc.sbtest.sbtest2"
    );
    assert_eq!(
        options
            .topic_mapping
            .topic_for_table(&dts_core::TableId::new("sbtest", "sbtest1"), &options.topic),
        "sbtest1-changes"
    );
}
