//! Delivery against the broker: compression codecs, acks levels, partition policies and per-key
//! order, the DDL topic, topic mapping, the checkpoint, a crash mid-stream, record size limits,
//! the reset marker and the precheck.

mod common;

use common::*;
use dts_core::{
    CheckLevel, Checkpoint, ConflictingTables, DdlKind, ErrorClass, ExistingRows, Position, Sink,
    Transaction,
};
use dts_kafka::{partition_for_key, KafkaDataFormat, KafkaSink, TopicMapping};
use dts_kafka::{KafkaAcks, KafkaCompression, PartitionPolicy};
use std::collections::{HashMap, HashSet};
use std::time::Duration;

fn data_v(c: &Consumed) -> (String, String) {
    let v = c.json();
    let row = &v["data"][0];
    (
        row["id"].as_str().unwrap().to_owned(),
        row["v"].as_str().unwrap_or_default().to_owned(),
    )
}

#[tokio::test(flavor = "multi_thread")]
async fn every_codec_round_trips() {
    let schema = small_schema("shop", "codec", true);
    for compression in [
        KafkaCompression::Lz4,
        KafkaCompression::Gzip,
        KafkaCompression::Snappy,
        KafkaCompression::Zstd,
    ] {
        let topic = unique(&format!("codec-{compression:?}").to_lowercase());
        let mut o = options(&topic, KafkaDataFormat::CanalJson);
        o.compression = compression;
        let sink = KafkaSink::connect(o).await.unwrap();
        let rows: Vec<_> = (0..300)
            .map(|i| small_row(i, &format!("value {i} ").repeat(2)))
            .collect();
        sink.write_rows(&schema, rows, ExistingRows::Replace)
            .await
            .unwrap_or_else(|e| panic!("{compression:?}: {e}"));
        let t = txn(
            500,
            vec![update(
                &schema,
                small_row(1, "x"),
                small_row(1, "compressed ✓"),
            )],
        );
        sink.apply(std::slice::from_ref(&t), &checkpoint_after(&t))
            .await
            .unwrap();
        let got = consume_all(&topic).await;
        assert_eq!(got.len(), 301, "{compression:?}");
        for (i, c) in got.iter().take(300).enumerate() {
            assert_eq!(
                data_v(c),
                (i.to_string(), format!("value {i} ").repeat(2)),
                "{compression:?} record {i}"
            );
        }
        assert_eq!(data_v(&got[300]).1, "compressed ✓", "{compression:?}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn every_acks_level_delivers() {
    let schema = small_schema("shop", "acks", true);
    for acks in [KafkaAcks::None, KafkaAcks::Leader, KafkaAcks::All] {
        let topic = unique("acks");
        let mut o = options(&topic, KafkaDataFormat::DebeziumJson);
        o.acks = acks;
        let sink = KafkaSink::connect(o).await.unwrap();
        let t = txn(
            100,
            (0..50)
                .map(|i| insert(&schema, small_row(i, &format!("{acks:?}"))))
                .collect(),
        );
        let cp = checkpoint_after(&t);
        sink.apply(std::slice::from_ref(&t), &cp).await.unwrap();
        assert_eq!(sink.read_checkpoint().await.unwrap(), Some(cp));
        let got = consume_all(&topic).await;
        assert_eq!(got.len(), 50, "{acks:?}");
        for (i, c) in got.iter().enumerate() {
            assert_eq!(c.json()["after"]["id"], i as i64, "{acks:?}");
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn all_to_partition_0_keeps_total_order() {
    let a = small_schema("shop", "a", true);
    let b = small_schema("crm", "b", true);
    let topic = unique("p0");
    let mut o = options(&topic, KafkaDataFormat::CanalJson);
    o.partitions = Some(3);
    let sink = KafkaSink::connect(o).await.unwrap();
    let mut txns = Vec::new();
    for i in 0..10 {
        let s = if i % 2 == 0 { &a } else { &b };
        txns.push(txn(
            1000 + i * 100,
            vec![insert(s, small_row(i as i64, "v"))],
        ));
    }
    txns.push(txn(
        3000,
        vec![ddl(
            "shop",
            Some("a"),
            "ALTER TABLE a ADD x INT",
            DdlKind::AlterTable,
        )],
    ));
    sink.apply(&txns, &checkpoint_after(txns.last().unwrap()))
        .await
        .unwrap();
    assert_eq!(partitions_of(&topic), 3);
    let got = consume_all(&topic).await;
    assert_eq!(got.len(), 11);
    assert!(got.iter().all(|c| c.partition == 0));
    let positions: Vec<&str> = got.iter().map(|c| c.header("dts.position")).collect();
    let want: Vec<String> = txns
        .iter()
        .map(|t| format!("{}:{}", t.begin.file, t.begin.offset))
        .collect();
    assert_eq!(positions, want, "source order across tables");
}

#[tokio::test(flavor = "multi_thread")]
async fn by_table_hash_sends_each_table_to_its_partition() {
    let tables = [
        small_schema("shop", "orders", true),
        small_schema("shop", "items", true),
        small_schema("crm", "people", false),
        small_schema("crm", "notes", true),
    ];
    let topic = unique("ptable");
    let mut o = options(&topic, KafkaDataFormat::ShareplexJson);
    o.partition_policy = PartitionPolicy::ByTableHash;
    o.partitions = Some(4);
    let sink = KafkaSink::connect(o).await.unwrap();
    let expected: HashMap<String, i32> = tables
        .iter()
        .map(|t| {
            let name = format!("{}.{}", t.id.database, t.id.table);
            let p = partition_for_key(&name, 4);
            (name, p)
        })
        .collect();
    let distinct: HashSet<i32> = expected.values().copied().collect();
    assert!(
        distinct.len() > 1,
        "the test tables should spread: {expected:?}"
    );

    let mut changes = Vec::new();
    for round in 0..5 {
        for t in &tables {
            changes.push(insert(t, small_row(round, &format!("r{round}"))));
        }
    }
    let t1 = txn(1000, changes);
    let t2 = txn(
        2000,
        vec![ddl(
            "crm",
            Some("notes"),
            "ALTER TABLE notes ADD y INT",
            DdlKind::AlterTable,
        )],
    );
    let t3 = txn(
        2100,
        vec![ddl(
            "crm",
            None,
            "CREATE DATABASE crm2",
            DdlKind::CreateDatabase,
        )],
    );
    sink.apply(&[t1, t2, t3.clone()], &checkpoint_after(&t3))
        .await
        .unwrap();
    let got = consume_all(&topic).await;
    assert_eq!(got.len(), 22);
    let mut rounds: HashMap<String, Vec<String>> = HashMap::new();
    for c in &got {
        let v = c.json();
        let op = c.header("dts.op");
        if op == "ddl" && !c.headers.contains_key("dts.table") {
            assert_eq!(c.partition, 0, "DDL without a table goes to partition 0");
            assert_eq!(v["data"]["sql"], "CREATE DATABASE crm2");
            continue;
        }
        let table = c.header("dts.table");
        assert_eq!(
            c.partition, expected[table],
            "{op} of {table} in partition {}",
            c.partition
        );
        if op == "insert" {
            rounds
                .entry(table.to_owned())
                .or_default()
                .push(v["data"]["v"].as_str().unwrap().to_owned());
        }
    }
    for (table, seen) in rounds {
        assert_eq!(seen, ["r0", "r1", "r2", "r3", "r4"], "order of {table}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn by_primary_key_hash_spreads_rows_and_keeps_per_key_order() {
    let s = small_schema("shop", "kv", true);
    let keyless = small_schema("shop", "log", false);
    let topic = unique("pkey");
    let mut o = options(&topic, KafkaDataFormat::CanalJson);
    o.partition_policy = PartitionPolicy::ByPrimaryKeyHash;
    o.partitions = Some(4);
    let sink = KafkaSink::connect(o).await.unwrap();

    // Ten keys, each inserted then updated four times, interleaved across transactions.
    let mut txns: Vec<Transaction> = Vec::new();
    let mut offset = 1000;
    let mut current: HashMap<i64, String> = HashMap::new();
    for version in 0..5 {
        let mut changes = Vec::new();
        for id in 0..10i64 {
            let v = format!("{id}-v{version}");
            match current.insert(id, v.clone()) {
                None => changes.push(insert(&s, small_row(id, &v))),
                Some(old) => changes.push(update(&s, small_row(id, &old), small_row(id, &v))),
            }
        }
        changes.push(insert(&keyless, small_row(version, "log")));
        txns.push(txn(offset, changes));
        offset += 100;
    }
    // Key 5 becomes key 105: DELETE in 5's partition, INSERT in 105's.
    txns.push(txn(
        offset,
        vec![update(&s, small_row(5, "5-v4"), small_row(105, "moved"))],
    ));
    sink.apply(&txns, &checkpoint_after(txns.last().unwrap()))
        .await
        .unwrap();

    let got = consume_all(&topic).await;
    assert_eq!(got.len(), 50 + 5 + 2);
    let mut per_key: HashMap<String, Vec<(i32, String, String)>> = HashMap::new();
    let log_partition = partition_for_key("shop.log", 4);
    for c in &got {
        let v = c.json();
        if v["table"] == "log" {
            assert_eq!(
                c.partition, log_partition,
                "keyless table falls back to the table hash"
            );
            continue;
        }
        let (id, val) = data_v(c);
        assert_eq!(
            c.partition,
            partition_for_key(&id, 4),
            "row {id} hashed by its key text"
        );
        assert_eq!(c.key_str(), Some(format!("shop.kv:{id}")));
        per_key.entry(id).or_default().push((
            c.partition,
            v["type"].as_str().unwrap().to_owned(),
            val,
        ));
    }
    let spread: HashSet<i32> = per_key.values().map(|v| v[0].0).collect();
    assert!(spread.len() > 1, "keys spread over partitions");
    for id in 0..10 {
        let seen = &per_key[&id.to_string()];
        let mut want: Vec<(String, String)> = (0..5)
            .map(|ver| {
                (
                    if ver == 0 { "INSERT" } else { "UPDATE" }.to_owned(),
                    format!("{id}-v{ver}"),
                )
            })
            .collect();
        if id == 5 {
            want.push(("DELETE".into(), "5-v4".into()));
        }
        let got: Vec<(String, String)> = seen
            .iter()
            .map(|(_, t, v)| (t.clone(), v.clone()))
            .collect();
        assert_eq!(got, want, "records of key {id} in order");
    }
    let moved = &per_key["105"];
    assert_eq!(moved.len(), 1);
    assert_eq!(moved[0].1, "INSERT");
    assert_eq!(moved[0].2, "moved");
    let split: Vec<&Consumed> = got
        .iter()
        .filter(|c| c.headers.contains_key("dts.split_update"))
        .collect();
    assert_eq!(split.len(), 2, "both halves of the key change are marked");

    // Named partition key columns.
    let topic2 = unique("pkey-named");
    let mut o = options(&topic2, KafkaDataFormat::CanalJson);
    o.partition_policy = PartitionPolicy::ByPrimaryKeyHash;
    o.partition_key_columns = Some(vec!["v".into()]);
    o.partitions = Some(4);
    let sink = KafkaSink::connect(o).await.unwrap();
    let rows: Vec<_> = (0..12)
        .map(|i| small_row(i, &format!("tenant-{}", i % 3)))
        .collect();
    sink.write_rows(&s, rows, ExistingRows::Replace)
        .await
        .unwrap();
    for c in consume_all(&topic2).await {
        let (_, v) = data_v(&c);
        assert_eq!(
            c.partition,
            partition_for_key(&v, 4),
            "hashed by column v ({v})"
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn ddl_topic_receives_the_ddl() {
    let s = small_schema("shop", "t", true);
    let topic = unique("data");
    let ddl_topic = unique("ddl");
    let mut o = options(&topic, KafkaDataFormat::DtsAvro);
    o.ddl_topic = Some(ddl_topic.clone());
    let sink = KafkaSink::connect(o).await.unwrap();
    sink.apply_schema(&s).await.unwrap();
    assert!(
        partitions_of(&ddl_topic) > 0,
        "apply_schema creates the DDL topic"
    );
    let t = txn(
        100,
        vec![
            insert(&s, small_row(1, "a")),
            ddl(
                "shop",
                Some("t"),
                "ALTER TABLE t ADD z INT",
                DdlKind::AlterTable,
            ),
            insert(&s, small_row(2, "b")),
            ddl(
                "shop",
                None,
                "CREATE DATABASE other",
                DdlKind::CreateDatabase,
            ),
        ],
    );
    sink.apply(std::slice::from_ref(&t), &checkpoint_after(&t))
        .await
        .unwrap();
    sink.apply_ddl(&dts_core::Ddl {
        database: Some("shop".into()),
        statement: "DROP TABLE t".into(),
        kind: DdlKind::DropTable,
        tables: vec![dts_core::TableId::new("shop", "t")],
        sql_mode: None,
    })
    .await
    .unwrap();
    let data = consume_all(&topic).await;
    assert_eq!(data.len(), 2);
    assert!(data.iter().all(|c| c.header("dts.op") == "insert"));
    let ddl = consume_all(&ddl_topic).await;
    let ops: Vec<&str> = ddl.iter().map(|c| c.header("dts.op")).collect();
    assert_eq!(ops, ["ddl", "ddl", "ddl", "ddl"]);
    let statements: Vec<String> = ddl
        .iter()
        .map(|c| {
            let v = apache_avro::from_avro_datum(
                dts_kafka::dts_record_schema(),
                &mut &c.value[..],
                None,
            )
            .unwrap();
            let apache_avro::types::Value::Record(f) = v else {
                panic!()
            };
            let (_, after) = f.iter().find(|(k, _)| k == "afterImages").unwrap();
            match after {
                apache_avro::types::Value::Union(1, s) => match s.as_ref() {
                    apache_avro::types::Value::String(s) => s.clone(),
                    other => panic!("{other:?}"),
                },
                other => panic!("{other:?}"),
            }
        })
        .collect();
    // Schema sync's CREATE TABLE record first, then the stream's DDL in order.
    assert!(
        statements[0].starts_with("CREATE TABLE `shop`.`t` ("),
        "{}",
        statements[0]
    );
    assert_eq!(
        statements[1..],
        [
            "ALTER TABLE t ADD z INT",
            "CREATE DATABASE other",
            "DROP TABLE t"
        ]
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn schema_objects_are_ddl_records() {
    let topic = unique("data");
    let ddl_topic = unique("ddl");
    let mut o = options(&topic, KafkaDataFormat::CanalJson);
    o.ddl_topic = Some(ddl_topic.clone());
    let sink = KafkaSink::connect(o).await.unwrap();
    assert!(sink.holds_objects(dts_core::ObjectKind::Trigger).is_ok());
    let view = dts_core::SchemaObject {
        kind: dts_core::ObjectKind::View,
        database: "shop".into(),
        name: "v".into(),
        table: None,
        definition: "CREATE VIEW `v` AS select 1 AS `one`".into(),
        definer: None,
        sql_mode: String::new(),
        character_set_client: None,
        collation_connection: None,
        time_zone: None,
        reads: Vec::new(),
        enabled: false,
    };
    sink.create_object(&view).await.unwrap();
    let procedure = dts_core::SchemaObject {
        kind: dts_core::ObjectKind::Procedure,
        name: "p".into(),
        definition: "CREATE PROCEDURE `p`() SELECT 1".into(),
        ..view.clone()
    };
    sink.create_object(&procedure).await.unwrap();
    let records = consume_all(&ddl_topic).await;
    let bodies: Vec<String> = records
        .iter()
        .map(|c| String::from_utf8_lossy(&c.value).into_owned())
        .collect();
    assert_eq!(bodies.len(), 2, "{bodies:?}");
    assert!(
        bodies[0].contains("CREATE VIEW `v` AS select 1 AS `one`"),
        "{}",
        bodies[0]
    );
    assert!(
        bodies[1].contains("CREATE PROCEDURE `p`() SELECT 1"),
        "{}",
        bodies[1]
    );
    assert!(
        bodies.iter().all(|b| b.contains("\"isDdl\":true")),
        "{bodies:?}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn topic_mapping_creates_a_topic_per_table() {
    let prefix = unique("map");
    let a = small_schema("shop", "a", true);
    let b = small_schema("shop", "b", true);
    let c = small_schema("crm", "c", true);
    let explicit = unique("crm-all");
    let mut o = options(&format!("{prefix}-default"), KafkaDataFormat::CanalJson);
    o.topic_mapping = TopicMapping::template(format!("{prefix}.{{database}}.{{table}}"))
        .route("crm", explicit.clone());
    o.partitions = Some(2);
    let sink = KafkaSink::connect(o).await.unwrap();
    for (s, id) in [(&a, 1), (&b, 2), (&c, 3)] {
        sink.write_rows(s, vec![small_row(id, "x")], ExistingRows::Replace)
            .await
            .unwrap();
    }
    for (topic, id) in [
        (format!("{prefix}.shop.a"), "1"),
        (format!("{prefix}.shop.b"), "2"),
        (explicit.clone(), "3"),
    ] {
        assert_eq!(
            partitions_of(&topic),
            2,
            "{topic} created with 2 partitions"
        );
        let got = consume_all(&topic).await;
        assert_eq!(got.len(), 1, "{topic}");
        assert_eq!(data_v(&got[0]).0, id);
    }
    assert_eq!(sink.topic_for_table(&a.id), format!("{prefix}.shop.a"));
}

fn cp(offset: u64) -> Checkpoint {
    Checkpoint {
        position: Position::new("bin.000007", offset),
        last_gtid: Some(format!("0-1-{offset}")),
        commit_time_ms: offset,
        applied_in_transaction: 0,
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn checkpoint_round_trips_and_the_latest_wins() {
    let topic = unique("cp");
    let o = options(&topic, KafkaDataFormat::CanalJson);
    let checkpoint_topic = o.checkpoint_topic.clone();
    let sink = KafkaSink::connect(o.clone()).await.unwrap();
    assert_eq!(sink.read_checkpoint().await.unwrap(), None);
    sink.apply(&[], &cp(100)).await.unwrap();
    assert_eq!(sink.read_checkpoint().await.unwrap(), Some(cp(100)));
    let mut mid = cp(200);
    mid.applied_in_transaction = 17;
    sink.apply(&[], &mid).await.unwrap();
    assert_eq!(sink.read_checkpoint().await.unwrap(), Some(mid.clone()));

    // Another task shares the checkpoint topic and writes far more often.
    let mut other = options(&topic, KafkaDataFormat::CanalJson);
    other.checkpoint_topic = checkpoint_topic.clone();
    let other_sink = KafkaSink::connect(other).await.unwrap();
    for i in 0..150 {
        other_sink.apply(&[], &cp(10_000 + i)).await.unwrap();
    }
    assert_eq!(
        other_sink.read_checkpoint().await.unwrap(),
        Some(cp(10_149))
    );
    // A new connection of the first task finds its own, older record.
    drop(sink);
    let again = KafkaSink::connect(o).await.unwrap();
    assert_eq!(again.read_checkpoint().await.unwrap(), Some(mid));
    // The checkpoint topic is compacted and separate from the data.
    let got = consume_all(&checkpoint_topic).await;
    assert!((2..=152).contains(&got.len()), "{}", got.len());
    assert!(got.iter().all(|c| c.key.is_some()));
    assert_eq!(
        partitions_of(&topic),
        0,
        "no data topic for checkpoint-only batches"
    );
}

/// Forty transactions of twenty-odd changes over five keys; the versions of each key in order.
fn workload(s: &dts_core::SchemaRef) -> (Vec<Transaction>, HashMap<String, Vec<String>>) {
    let mut txns = Vec::new();
    let mut current: HashMap<i64, String> = HashMap::new();
    let mut expected: HashMap<String, Vec<String>> = HashMap::new();
    let mut change = |id: i64, v: String, changes: &mut Vec<dts_core::Change>| {
        expected.entry(id.to_string()).or_default().push(v.clone());
        match current.insert(id, v.clone()) {
            None => changes.push(insert(s, small_row(id, &v))),
            Some(old) => changes.push(update(s, small_row(id, &old), small_row(id, &v))),
        }
    };
    for i in 0..40u64 {
        let mut changes = Vec::new();
        // Twenty changes per transaction, so that abandoning a batch can cut it midway.
        for j in 0..20u64 {
            change(((i + j) % 5) as i64, format!("t{i}.{j}"), &mut changes);
        }
        if i % 7 == 0 {
            change(((i + 2) % 5) as i64, format!("t{i}b"), &mut changes);
        }
        txns.push(txn(1000 + i * 100, changes));
    }
    (txns, expected)
}

#[tokio::test(flavor = "multi_thread")]
async fn crash_mid_stream_then_restart_loses_nothing() {
    let s = small_schema("shop", "kv", true);
    let (txns, expected) = workload(&s);
    let topic = unique("crash");
    let mut o = options(&topic, KafkaDataFormat::CanalJson);
    o.partition_policy = PartitionPolicy::ByPrimaryKeyHash;
    o.partitions = Some(3);

    // A small producer queue: enqueueing has to wait for deliveries, so abandoning the apply
    // below cuts the batch midway instead of after everything is queued.
    let mut small_queue = o.clone();
    small_queue
        .client_config
        .insert("queue.buffering.max.messages".into(), "20".into());
    let first = KafkaSink::connect(small_queue).await.unwrap();
    for chunk in txns[..12].chunks(3) {
        first
            .apply(chunk, &checkpoint_after(chunk.last().unwrap()))
            .await
            .unwrap();
    }
    // Crash after the records of 12..16 are delivered but before their checkpoint.
    first
        .apply(&txns[12..16], &checkpoint_after(&txns[11]))
        .await
        .unwrap();
    // Crash while 16..30 are being produced: the apply is abandoned midway.
    let cut = tokio::time::timeout(
        Duration::from_millis(20),
        first.apply(&txns[16..30], &checkpoint_after(&txns[29])),
    )
    .await;
    drop(first);

    let second = KafkaSink::connect(o).await.unwrap();
    let resume = second
        .read_checkpoint()
        .await
        .unwrap()
        .expect("a checkpoint");
    let from = txns
        .iter()
        .position(|t| t.begin == resume.position)
        .unwrap_or(txns.len());
    match cut {
        Err(_) => assert_eq!(
            from, 12,
            "the abandoned batch did not advance the checkpoint"
        ),
        Ok(r) => {
            r.unwrap();
            assert_eq!(from, 30)
        }
    }
    for chunk in txns[from..].chunks(4) {
        second
            .apply(chunk, &checkpoint_after(chunk.last().unwrap()))
            .await
            .unwrap();
    }

    let got = consume_all(&topic).await;
    // Every source change at least once…
    let all_changes: HashSet<(String, String)> = txns
        .iter()
        .flat_map(|t| {
            (0..t.changes.len()).map(move |i| {
                (
                    format!("{}:{}", t.begin.file, t.begin.offset),
                    i.to_string(),
                )
            })
        })
        .collect();
    let mut seen = HashSet::new();
    let mut per_key: HashMap<String, Vec<String>> = HashMap::new();
    let mut key_partition: HashMap<String, i32> = HashMap::new();
    let mut duplicates = 0;
    for c in &got {
        let id = (
            c.header("dts.position").to_owned(),
            c.header("dts.change_index").to_owned(),
        );
        let (key, v) = data_v(c);
        assert_eq!(
            *key_partition.entry(key.clone()).or_insert(c.partition),
            c.partition,
            "all records of key {key} in one partition"
        );
        // …and, dropping replays by (position, change index), in order per key.
        if seen.insert(id) {
            per_key.entry(key).or_default().push(v);
        } else {
            duplicates += 1;
        }
    }
    eprintln!(
        "crash test: resumed from txn {from}, {duplicates} duplicates, {} records",
        got.len()
    );
    assert_eq!(seen, all_changes, "every change present");
    assert_eq!(per_key, expected, "per-key order after dropping replays");
    assert!(
        duplicates >= 80,
        "the replay after the crash re-delivered records ({duplicates})"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn oversized_record_is_a_clear_definite_error() {
    let s = small_schema("shop", "big", true);
    let topic = unique("big");
    let mut o = options(&topic, KafkaDataFormat::CanalJson);
    o.max_message_bytes = 4096;
    let sink = KafkaSink::connect(o).await.unwrap();
    let ok = txn(100, vec![insert(&s, small_row(1, "small"))]);
    sink.apply(std::slice::from_ref(&ok), &checkpoint_after(&ok))
        .await
        .unwrap();
    let big = "x".repeat(10_000);
    let err = sink
        .write_rows(&s, vec![small_row(7, &big)], ExistingRows::Replace)
        .await
        .unwrap_err();
    let msg = err.to_string();
    assert!(msg.contains("shop.big"), "{msg}");
    assert!(msg.contains("id=7"), "{msg}");
    assert!(msg.contains("4096"), "{msg}");
    assert_eq!(err.class(), ErrorClass::Definite);

    let bad = txn(200, vec![insert(&s, small_row(8, &big))]);
    let err = sink
        .apply(std::slice::from_ref(&bad), &checkpoint_after(&bad))
        .await
        .unwrap_err();
    assert!(err.to_string().contains("id=8"), "{err}");
    assert_eq!(
        sink.read_checkpoint().await.unwrap(),
        Some(checkpoint_after(&ok)),
        "a failed batch leaves the checkpoint where it was"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn topic_limit_below_the_sinks_is_a_clear_definite_error() {
    use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
    use rdkafka::client::DefaultClientContext;
    // The topic exists with a small max.message.bytes; the sink keeps its default 1 MB limit.
    let topic = unique("kf-limit");
    let admin: AdminClient<DefaultClientContext> = rdkafka::ClientConfig::new()
        .set("bootstrap.servers", brokers())
        .create()
        .unwrap();
    let created = admin
        .create_topics(
            [&NewTopic::new(&topic, 1, TopicReplication::Fixed(-1))
                .set("max.message.bytes", "4096")],
            &AdminOptions::new(),
        )
        .await
        .unwrap();
    assert!(created.iter().all(Result::is_ok), "{created:?}");
    let s = small_schema("shop", "limited", true);
    let sink = KafkaSink::connect(options(&topic, KafkaDataFormat::CanalJson))
        .await
        .unwrap();
    let err = sink
        .write_rows(
            &s,
            vec![small_row(9, &"y".repeat(20_000))],
            ExistingRows::Replace,
        )
        .await
        .unwrap_err();
    let msg = err.to_string();
    assert!(
        msg.contains("shop.limited") && msg.contains("id=9"),
        "{msg}"
    );
    assert_eq!(err.class(), ErrorClass::Definite, "{msg}");
    sink.write_rows(&s, vec![small_row(10, "small")], ExistingRows::Replace)
        .await
        .unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn unreachable_brokers_are_a_connection_error() {
    let mut o = options("nowhere", KafkaDataFormat::CanalJson);
    o.brokers = vec!["127.0.0.1:1".into()];
    o.request_timeout = Duration::from_secs(3);
    let err = match KafkaSink::connect(o).await {
        Ok(_) => panic!("connected to 127.0.0.1:1?"),
        Err(e) => e,
    };
    assert_eq!(err.class(), ErrorClass::Connection, "{err}");
    assert!(err.to_string().contains("127.0.0.1:1"), "{err}");
}

#[tokio::test(flavor = "multi_thread")]
async fn reset_marker_precedes_the_new_copy() {
    let keyless = small_schema("shop", "log", false);
    let keyed = small_schema("shop", "kv", true);
    let topic = unique("reset");
    let mut o = options(&topic, KafkaDataFormat::CanalJson);
    o.partition_policy = PartitionPolicy::ByPrimaryKeyHash;
    o.partitions = Some(3);
    let sink = KafkaSink::connect(o).await.unwrap();
    sink.write_rows(&keyless, vec![small_row(1, "old")], ExistingRows::Replace)
        .await
        .unwrap();
    sink.reset_table(&keyless).await.unwrap();
    sink.write_rows(&keyless, vec![small_row(1, "new")], ExistingRows::Replace)
        .await
        .unwrap();
    sink.reset_table(&keyed).await.unwrap();
    let got = consume_all(&topic).await;
    let p = partition_for_key("shop.log", 3);
    let log: Vec<&Consumed> = got
        .iter()
        .filter(|c| c.header("dts.table") == "shop.log")
        .collect();
    let kinds: Vec<String> = log
        .iter()
        .map(|c| c.json()["type"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(kinds, ["INSERT", "TRUNCATE", "INSERT"]);
    assert!(log.iter().all(|c| c.partition == p));
    assert_eq!(log[1].header("dts.op"), "reset");
    assert_eq!(log[1].json()["sql"], "TRUNCATE TABLE `shop`.`log`");
    let kv: Vec<i32> = got
        .iter()
        .filter(|c| c.header("dts.table") == "shop.kv")
        .map(|c| c.partition)
        .collect();
    assert_eq!(
        kv,
        [0, 1, 2],
        "a keyed table's marker reaches every partition"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn precheck_reports_connectivity_topics_and_sizes() {
    let topic = unique("pre");
    let mut o = options(&topic, KafkaDataFormat::DtsAvro);
    o.partitions = Some(2);
    let sink = KafkaSink::connect(o).await.unwrap();
    let small = small_schema("shop", "small", true);
    let wide = every_type_schema("shop");
    let tables = vec![(*small).clone(), (*wide).clone()];
    let report = sink
        .precheck(&tables, ConflictingTables::PrecheckAndReportErrors)
        .await;
    let get = |r: &dts_core::PrecheckReport, n: &str| {
        r.get(n)
            .unwrap_or_else(|| panic!("{n} missing: {r}"))
            .clone()
    };
    assert_eq!(
        get(&report, "destination.connectivity").level,
        CheckLevel::Pass
    );
    let t = get(&report, "destination.topic");
    assert_eq!(t.level, CheckLevel::Pass, "{t}");
    assert!(t.message.contains(&topic), "{t}");
    let size = get(&report, "destination.message_size");
    assert_eq!(size.level, CheckLevel::Warning, "{size}");
    assert!(
        size.message.contains("shop.t"),
        "JSON/GEOMETRY columns can exceed 1 MB: {size}"
    );
    assert!(!size.message.contains("shop.small"), "{size}");
    assert_eq!(
        get(&report, "destination.existing_tables").level,
        CheckLevel::Pass
    );

    let only_small = sink
        .precheck(&tables[..1], ConflictingTables::PrecheckAndReportErrors)
        .await;
    assert_eq!(
        get(&only_small, "destination.message_size").level,
        CheckLevel::Pass
    );

    // Once the topic holds records, the conflicting-tables check fails, as for tables.
    sink.write_rows(&small, vec![small_row(1, "x")], ExistingRows::Replace)
        .await
        .unwrap();
    let again = sink
        .precheck(&tables[..1], ConflictingTables::PrecheckAndReportErrors)
        .await;
    let existing = get(&again, "destination.existing_tables");
    assert_eq!(existing.level, CheckLevel::Error, "{existing}");
    assert!(existing.message.contains(&topic) && existing.message.contains("shop.small"));
    assert!(!again.passes(&["destination.existing_tables".to_string()]));
    let ignore = sink
        .precheck(&tables[..1], ConflictingTables::IgnoreErrorsAndProceed)
        .await;
    assert!(ignore.get("destination.existing_tables").is_none());
    assert!(ignore.passes(&[]));
}

#[tokio::test(flavor = "multi_thread")]
async fn large_batches_wait_for_queue_room_and_every_report() {
    // More records than librdkafka queues at once by default is not needed to exercise the
    // path: a small queue forces QueueFull and the wait for older deliveries.
    let s = small_schema("shop", "bulk", true);
    let topic = unique("bulk");
    let mut o = options(&topic, KafkaDataFormat::CanalJson);
    o.client_config
        .insert("queue.buffering.max.messages".into(), "100".into());
    let sink = KafkaSink::connect(o).await.unwrap();
    let rows: Vec<_> = (0..2_000).map(|i| small_row(i, "bulk")).collect();
    sink.write_rows(&s, rows, ExistingRows::Replace)
        .await
        .unwrap();
    let got = consume_all(&topic).await;
    assert_eq!(got.len(), 2_000);
    for (i, c) in got.iter().enumerate() {
        assert_eq!(data_v(c).0, i.to_string());
    }
}
