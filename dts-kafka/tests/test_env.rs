//! Proves that the real test environment (`scripts/test-env.sh up`) has a
//! working Kafka-compatible broker: create a topic, produce with the settings
//! dts uses (idempotence, lz4), and read the record back.
//!
//! Needs `DTS_TEST_KAFKA_BROKERS`; `scripts/test.sh` sets it. The consumer uses
//! explicit partition assignment, not a consumer group.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
use rdkafka::client::DefaultClientContext;
use rdkafka::config::ClientConfig;
use rdkafka::consumer::{Consumer, StreamConsumer};
use rdkafka::message::{Header, Headers, OwnedHeaders};
use rdkafka::producer::{FutureProducer, FutureRecord, Producer};
use rdkafka::{Message, Offset, TopicPartitionList};

const TIMEOUT: Duration = Duration::from_secs(30);

fn brokers() -> String {
    match std::env::var("DTS_TEST_KAFKA_BROKERS") {
        Ok(b) if !b.is_empty() => b,
        _ => panic!(
            "DTS_TEST_KAFKA_BROKERS is not set. These tests need the real test environment: run \
             `scripts/test-env.sh up && eval \"$(scripts/test-env.sh env)\"` first, \
             or run everything with `scripts/test.sh`."
        ),
    }
}

fn unique_topic() -> String {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    format!(
        "dts-test-env-{}-{}",
        std::process::id(),
        nanos % 1_000_000_000_000
    )
}

async fn create_topic(brokers: &str, topic: &str) {
    let admin: AdminClient<DefaultClientContext> = ClientConfig::new()
        .set("bootstrap.servers", brokers)
        .set("socket.timeout.ms", "10000")
        .create()
        .expect("admin client");
    let new_topic = NewTopic::new(topic, 1, TopicReplication::Fixed(1));
    let opts = AdminOptions::new()
        .operation_timeout(Some(Duration::from_secs(10)))
        .request_timeout(Some(Duration::from_secs(10)));
    let results = tokio::time::timeout(TIMEOUT, admin.create_topics([&new_topic], &opts))
        .await
        .unwrap_or_else(|_| {
            panic!("create_topics({topic}) timed out; is `scripts/test-env.sh up` running?")
        })
        .unwrap_or_else(|e| {
            panic!("create_topics({topic}) failed: {e}; is `scripts/test-env.sh up` running?")
        });
    assert_eq!(results.len(), 1);
    match &results[0] {
        Ok(name) => assert_eq!(name, topic),
        Err((name, code)) => panic!("creating topic {name} failed: {code}"),
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn produce_then_consume_by_assignment() {
    let brokers = brokers();
    let topic = unique_topic();
    create_topic(&brokers, &topic).await;

    let producer: FutureProducer = ClientConfig::new()
        .set("bootstrap.servers", &brokers)
        .set("enable.idempotence", "true")
        .set("acks", "all")
        .set("compression.type", "lz4")
        .set("message.timeout.ms", "20000")
        .create()
        .expect("producer");

    let key = format!("key-{topic}");
    let payload = format!("{{\"test\":\"{topic}\",\"value\":\"héllo ✓\"}}").repeat(20);
    let record = FutureRecord::to(&topic)
        .partition(0)
        .key(&key)
        .payload(&payload)
        .headers(OwnedHeaders::new().insert(Header {
            key: "origin",
            value: Some("dts-test-env"),
        }));
    let delivery = tokio::time::timeout(TIMEOUT, producer.send(record, Duration::from_secs(20)))
        .await
        .expect("produce timed out")
        .unwrap_or_else(|(e, _)| panic!("produce to {topic} failed: {e}"));
    assert_eq!(delivery.partition, 0);
    assert!(delivery.offset >= 0, "bad offset {delivery:?}");
    producer.flush(Duration::from_secs(10)).expect("flush");

    let consumer: StreamConsumer = ClientConfig::new()
        .set("bootstrap.servers", &brokers)
        // librdkafka needs a group.id even for assign(); the group is never joined.
        .set("group.id", format!("{topic}-reader"))
        .set("enable.auto.commit", "false")
        .set("enable.partition.eof", "false")
        .create()
        .expect("consumer");
    let mut tpl = TopicPartitionList::new();
    tpl.add_partition_offset(&topic, 0, Offset::Beginning)
        .unwrap();
    consumer.assign(&tpl).expect("assign");

    let msg = match tokio::time::timeout(TIMEOUT, consumer.recv()).await {
        Err(_) => panic!("no message consumed from {topic} within {TIMEOUT:?}"),
        Ok(Err(e)) => panic!("consume from {topic} failed: {e}"),
        Ok(Ok(m)) => m.detach(),
    };
    assert_eq!(msg.topic(), topic);
    assert_eq!(msg.partition(), 0);
    assert_eq!(msg.offset(), delivery.offset);
    assert_eq!(msg.key(), Some(key.as_bytes()), "key differs");
    assert_eq!(msg.payload(), Some(payload.as_bytes()), "payload differs");
    let headers = msg.headers().expect("headers lost");
    let origin = headers
        .iter()
        .find(|h| h.key == "origin")
        .expect("header 'origin' lost");
    assert_eq!(origin.value, Some(&b"dts-test-env"[..]));
}

#[tokio::test(flavor = "multi_thread")]
async fn unknown_broker_port_fails() {
    // The check above must be able to fail: a client pointed at a port with no
    // broker gets an error rather than a silent success.
    let admin: AdminClient<DefaultClientContext> = ClientConfig::new()
        .set("bootstrap.servers", "127.0.0.1:1")
        .create()
        .expect("admin client");
    let topic = unique_topic();
    let new_topic = NewTopic::new(&topic, 1, TopicReplication::Fixed(1));
    let opts = AdminOptions::new().request_timeout(Some(Duration::from_secs(3)));
    let res = tokio::time::timeout(TIMEOUT, admin.create_topics([&new_topic], &opts))
        .await
        .expect("create_topics against a dead port did not return");
    let ok = matches!(res.as_deref(), Ok([Ok(_)]));
    assert!(!ok, "creating a topic on 127.0.0.1:1 succeeded?! {res:?}");
}
