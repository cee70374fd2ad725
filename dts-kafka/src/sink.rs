//! [`KafkaSink`]: produces change records, waits for every delivery report, then stores the
//! checkpoint in a compacted topic.

use crate::config::{KafkaAcks, KafkaCompression};
use crate::error::{classify, code_of};
use crate::event::{all_columns, update_columns, Body, Event, Origin, Phase};
use crate::format::{encode, header_pairs, EncodeContext, Encoded};
use crate::hash::partition_for_key;
use crate::options::KafkaSinkOptions;
use crate::route::{Router, Target};
use dts_core::{
    Change, CheckResult, Checkpoint, ConflictingTables, Ddl, Error, ExistingRows, PrecheckReport,
    Result, Row, RowChange, RowOp, SchemaRef, Sink, TableSchema, Transaction,
};
use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, ResourceSpecifier, TopicReplication};
use rdkafka::client::DefaultClientContext;
use rdkafka::config::ClientConfig;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::error::{KafkaError, RDKafkaErrorCode};
use rdkafka::message::{Header, OwnedHeaders};
use rdkafka::producer::{DeliveryFuture, FutureProducer, FutureRecord, Producer};
use rdkafka::{Message, Offset, TopicPartitionList};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet, HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// What the sink knows of a topic.
#[derive(Clone, Copy, Debug)]
struct TopicInfo {
    partitions: i32,
    /// The topic's `max.message.bytes`, when the broker reports it.
    max_message_bytes: Option<usize>,
}

/// The checkpoint record's value (JSON), keyed by task id in the checkpoint topic.
#[derive(Debug, Serialize, Deserialize)]
struct CheckpointRecord {
    task_id: String,
    checkpoint: Checkpoint,
    written_at_ms: u64,
}

/// A produced record waiting for its delivery report; `index` lets the caller name the
/// record (table and key) only if it fails.
struct Pending {
    delivery: DeliveryFuture,
    index: usize,
}

/// Names the record at an index, for errors (computed only when one occurs).
type Describe<'d> = &'d (dyn Fn(usize) -> String + Sync);

/// A Kafka destination: change records in DTS Avro, Canal JSON, Shareplex JSON or Debezium
/// JSON, partitioned by the service's policies, delivered at least once.
///
/// See the crate documentation for the formats, the partitioning and the delivery guarantee.
pub struct KafkaSink {
    options: KafkaSinkOptions,
    ctx: EncodeContext,
    router: Router,
    /// `host:port,…` of the brokers, naming the endpoint in errors.
    endpoint: String,
    /// The data producer; replaced when librdkafka reports a fatal (idempotence) error.
    producer: Mutex<Arc<FutureProducer>>,
    /// `acks=all`, idempotent: checkpoints are durable whatever the data acks. Replaced, like
    /// the data producer, after a fatal error.
    checkpoint_producer: Mutex<Arc<FutureProducer>>,
    admin: AdminClient<DefaultClientContext>,
    topics: Mutex<HashMap<String, TopicInfo>>,
    /// Serializes topic creation.
    create_lock: tokio::sync::Mutex<()>,
}

impl std::fmt::Debug for KafkaSink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KafkaSink")
            .field("brokers", &self.endpoint)
            .field("topic", &self.options.topic)
            .field("format", &self.options.format)
            .field("task_id", &self.options.task_id)
            .finish_non_exhaustive()
    }
}

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    // A panic while holding these locks cannot leave their maps half-updated; keep going.
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl KafkaSink {
    /// Produces one DDL record (schema sync's `CREATE`s in phase full, the stream's DDL in
    /// phase incremental) outside any transaction.
    async fn produce_ddl(&self, ddl: &Ddl, phase: Phase) -> Result<()> {
        let now = now_ms();
        let ev = Event {
            origin: Origin {
                phase,
                position: None,
                gtid: None,
                commit_time_ms: now,
                change_index: 0,
                txn_size: 1,
                now_ms: now,
                part: 0,
            },
            body: Body::Ddl(ddl),
        };
        self.produce(vec![ev]).await.map(|_| ())
    }

    /// Builds the producers and the admin client and checks the brokers answer (a metadata
    /// request). Topics are created later, when first written (or by
    /// [`Sink::apply_schema`]), with `options.partitions` partitions.
    pub async fn connect(options: KafkaSinkOptions) -> Result<Self> {
        options.validate()?;
        let endpoint = options.bootstrap();
        let producer = Self::data_producer(&options)?;
        let checkpoint_producer = Self::new_producer(&options, KafkaAcks::All, None)?;
        let admin: AdminClient<DefaultClientContext> = Self::base_config(&options)
            .create()
            .map_err(|e| Error::definite("kafka admin client", format!("cannot create: {e}")))?;
        let sink = Self {
            ctx: EncodeContext {
                format: options.format,
                task_id: options.task_id.clone(),
                source_version: options.source_version.clone(),
            },
            router: Router::new(&options),
            endpoint,
            producer: Mutex::new(Arc::new(producer)),
            checkpoint_producer: Mutex::new(Arc::new(checkpoint_producer)),
            admin,
            topics: Mutex::new(HashMap::new()),
            create_lock: tokio::sync::Mutex::new(()),
            options,
        };
        sink.broker_count().await?;
        Ok(sink)
    }

    /// The options the sink was built with.
    pub fn options(&self) -> &KafkaSinkOptions {
        &self.options
    }

    /// The topic the records of a table go to (after the topic mapping).
    pub fn topic_for_table(&self, table: &dts_core::TableId) -> String {
        self.router.table_topic(table)
    }

    fn base_config(o: &KafkaSinkOptions) -> ClientConfig {
        let mut c = ClientConfig::new();
        c.set("bootstrap.servers", o.bootstrap())
            .set("client.id", format!("dts-kafka-{}", o.task_id))
            .set(
                "socket.timeout.ms",
                o.request_timeout.as_millis().max(10).to_string(),
            );
        c
    }

    fn apply_overrides(o: &KafkaSinkOptions, c: &mut ClientConfig) {
        for (k, v) in &o.client_config {
            c.set(k, v);
        }
    }

    fn data_producer(o: &KafkaSinkOptions) -> Result<FutureProducer> {
        Self::new_producer(o, o.acks, Some(o.compression))
    }

    fn new_producer(
        o: &KafkaSinkOptions,
        acks: KafkaAcks,
        compression: Option<KafkaCompression>,
    ) -> Result<FutureProducer> {
        Self::producer_config(o, acks, compression)
            .create()
            .map_err(|e| {
                Error::definite(
                    "kafka producer",
                    format!("cannot create with the given settings: {e}"),
                )
            })
    }

    /// librdkafka settings of a producer: acks (idempotent with `all`), codec, timeouts.
    fn producer_config(
        o: &KafkaSinkOptions,
        acks: KafkaAcks,
        compression: Option<KafkaCompression>,
    ) -> ClientConfig {
        let mut c = Self::base_config(o);
        let (acks_text, idempotent) = match acks {
            KafkaAcks::All => ("all", true),
            KafkaAcks::Leader => ("1", false),
            KafkaAcks::None => ("0", false),
        };
        c.set("acks", acks_text)
            .set("enable.idempotence", idempotent.to_string())
            .set(
                "compression.type",
                match compression {
                    None => "none",
                    Some(KafkaCompression::Lz4) => "lz4",
                    Some(KafkaCompression::Gzip) => "gzip",
                    Some(KafkaCompression::Snappy) => "snappy",
                    Some(KafkaCompression::Zstd) => "zstd",
                },
            )
            .set(
                "message.timeout.ms",
                o.delivery_timeout.as_millis().max(1).to_string(),
            )
            .set(
                "message.max.bytes",
                (o.max_message_bytes.max(1_000_000) + 65_536)
                    .min(1_000_000_000)
                    .to_string(),
            )
            // Topics are created by the sink with the configured partition count, never by a
            // broker's auto-creation on a metadata request.
            .set("allow.auto.create.topics", "false")
            .set("linger.ms", "5");
        if acks == KafkaAcks::Leader {
            // Without idempotence a retried batch could overtake a later one: keep one request
            // in flight so per-key order holds.
            c.set("max.in.flight.requests.per.connection", "1");
        }
        Self::apply_overrides(o, &mut c);
        c
    }

    fn producer(&self) -> Arc<FutureProducer> {
        lock(&self.producer).clone()
    }

    /// After a failure: if librdkafka declared the producer unusable (a fatal idempotence
    /// error), replace it (the data or the checkpoint producer, whichever `p` is) and say why.
    fn replace_if_fatal(&self, p: &FutureProducer) -> Option<String> {
        let (code, reason) = p.client().fatal_error()?;
        self.replace_producer(p);
        Some(format!("fatal producer error {code:?}: {reason}"))
    }

    /// Replaces `p` (the data or the checkpoint producer) by a fresh one, with a new producer
    /// id and empty sequence state.
    fn replace_producer(&self, p: &FutureProducer) {
        let is_checkpoint = std::ptr::eq(p, &**lock(&self.checkpoint_producer));
        let (slot, fresh) = if is_checkpoint {
            (
                &self.checkpoint_producer,
                Self::new_producer(&self.options, KafkaAcks::All, None),
            )
        } else {
            (&self.producer, Self::data_producer(&self.options))
        };
        match fresh {
            Ok(fresh) => *lock(slot) = Arc::new(fresh),
            Err(e) => tracing::warn!("cannot re-create the kafka producer: {e}"),
        }
    }

    fn connection(&self, message: impl Into<String>) -> Error {
        Error::Connection {
            endpoint: self.endpoint.clone(),
            message: message.into(),
            cause: None,
        }
    }

    /// Number of brokers in the cluster metadata; a connection error if none answers.
    async fn broker_count(&self) -> Result<usize> {
        let producer = self.producer();
        let timeout = self.options.request_timeout;
        let md = tokio::task::spawn_blocking(move || {
            producer
                .client()
                .fetch_metadata(None, timeout)
                .map(|m| m.brokers().len())
        })
        .await
        .map_err(|e| self.connection(format!("metadata request aborted: {e}")))?;
        md.map_err(|e| self.connection(format!("cannot fetch cluster metadata: {e}")))
    }

    /// Partition count of a topic from the cluster metadata; `None` when it does not exist.
    async fn partitions_of(&self, topic: &str) -> Result<Option<i32>> {
        let producer = self.producer();
        let timeout = self.options.request_timeout;
        let name = topic.to_owned();
        let md = tokio::task::spawn_blocking(move || {
            producer
                .client()
                .fetch_metadata(Some(&name), timeout)
                .map(|m| {
                    m.topics()
                        .iter()
                        .find(|t| t.name() == name)
                        .map(|t| (t.partitions().len() as i32, t.error()))
                })
        })
        .await
        .map_err(|e| self.connection(format!("metadata request aborted: {e}")))?
        .map_err(|e| classify(&self.endpoint, &format!("metadata of topic {topic}"), &e))?;
        match md {
            None => Ok(None),
            Some((n, None)) if n > 0 => Ok(Some(n)),
            Some((_, None)) => Ok(None),
            Some((_, Some(err))) => {
                let code = RDKafkaErrorCode::from(err);
                if code == RDKafkaErrorCode::UnknownTopicOrPartition {
                    Ok(None)
                } else {
                    Err(classify(
                        &self.endpoint,
                        &format!("topic {topic}"),
                        &KafkaError::MetadataFetch(code),
                    ))
                }
            }
        }
    }

    /// The topic's `max.message.bytes`, if the broker reports it.
    async fn topic_limit(&self, topic: &str) -> Option<usize> {
        let opts = AdminOptions::new().request_timeout(Some(self.options.request_timeout));
        let res = self
            .admin
            .describe_configs([&ResourceSpecifier::Topic(topic)], &opts)
            .await
            .ok()?;
        res.into_iter().find_map(|r| {
            r.ok()?
                .entries
                .into_iter()
                .find(|e| e.name == "max.message.bytes")
                .and_then(|e| e.value)
                .and_then(|v| v.parse().ok())
        })
    }

    /// The topic's partition count and limit, creating it when missing.
    async fn ensure_topic(&self, topic: &str, compacted: bool) -> Result<TopicInfo> {
        if let Some(info) = lock(&self.topics).get(topic) {
            return Ok(*info);
        }
        let _guard = self.create_lock.lock().await;
        if let Some(info) = lock(&self.topics).get(topic) {
            return Ok(*info);
        }
        let partitions = match self.partitions_of(topic).await? {
            Some(n) => n,
            None => self.create_topic(topic, compacted).await?,
        };
        let info = TopicInfo {
            partitions,
            max_message_bytes: self.topic_limit(topic).await,
        };
        lock(&self.topics).insert(topic.to_owned(), info);
        Ok(info)
    }

    fn new_topic<'a>(&self, topic: &'a str, partitions: i32, compacted: bool) -> NewTopic<'a> {
        let replication = TopicReplication::Fixed(self.options.replication_factor.unwrap_or(-1));
        let t = NewTopic::new(topic, partitions, replication);
        if compacted {
            t.set("cleanup.policy", "compact")
        } else {
            t
        }
    }

    /// Creates a topic (tolerating a concurrent creation) and waits until its partitions show
    /// in the metadata.
    async fn create_topic(&self, topic: &str, compacted: bool) -> Result<i32> {
        let partitions = if compacted {
            1
        } else {
            self.options.partitions.unwrap_or(1) as i32
        };
        let opts = AdminOptions::new()
            .request_timeout(Some(self.options.request_timeout))
            .operation_timeout(Some(self.options.request_timeout));
        let what = format!("creating topic {topic}");
        let results = self
            .admin
            .create_topics([&self.new_topic(topic, partitions, compacted)], &opts)
            .await
            .map_err(|e| classify(&self.endpoint, &what, &e))?;
        for r in results {
            if let Err((_, code)) = r {
                if code != RDKafkaErrorCode::TopicAlreadyExists {
                    return Err(classify(&self.endpoint, &what, &KafkaError::AdminOp(code)));
                }
            }
        }
        let deadline = Instant::now() + self.options.request_timeout;
        loop {
            if let Some(n) = self.partitions_of(topic).await? {
                tracing::info!(topic, partitions = n, "created kafka topic");
                return Ok(n);
            }
            if Instant::now() >= deadline {
                return Err(self.connection(format!(
                    "topic {topic} was created but its partitions did not show in the metadata within {:?}",
                    self.options.request_timeout
                )));
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// The error for a record larger than the limit.
    fn too_large(&self, what: &str, size: usize, limit: usize) -> Error {
        Error::definite(
            what,
            format!(
                "encoded record is {size} bytes, larger than the {limit}-byte message limit \
                 (max_message_bytes, or the topic's max.message.bytes); raise both the topic's \
                 max.message.bytes and the sink's max_message_bytes, or exclude the large columns"
            ),
        )
    }

    /// The dts error for a failed produce or delivery of `what`.
    fn delivery_error(&self, p: &FutureProducer, what: &str, e: &KafkaError) -> Error {
        if let Some(reason) = self.replace_if_fatal(p) {
            return self.connection(format!("delivering {what}: {reason}"));
        }
        if code_of(e).is_some_and(lost_producer_state) {
            // After records timed out (a broker outage longer than the delivery timeout) the
            // idempotent producer bumps its epoch, and some brokers then fence it. Its state
            // is worthless: a fresh producer resends the batch (replayed from the checkpoint).
            self.replace_producer(p);
            return self.connection(format!(
                "delivering {what}: the broker rejected the producer's idempotence state ({e}); \
                 the producer was re-created"
            ));
        }
        match code_of(e) {
            Some(
                RDKafkaErrorCode::MessageSizeTooLarge
                | RDKafkaErrorCode::InvalidMessageSize
                | RDKafkaErrorCode::MessageBatchTooLarge,
            ) => Error::definite(
                what,
                format!(
                    "the broker rejected the record as too large ({e}); raise the topic's \
                     max.message.bytes or exclude the large columns"
                ),
            ),
            _ => classify(&self.endpoint, &format!("delivering {what}"), e),
        }
    }

    /// Waits for one delivery report.
    async fn settle(
        &self,
        p: &FutureProducer,
        pending: Pending,
        describe: Describe<'_>,
    ) -> Result<()> {
        match pending.delivery.await {
            Ok(Ok(_)) => Ok(()),
            Ok(Err((e, _))) => Err(self.delivery_error(p, &describe(pending.index), &e)),
            Err(_) => Err(self.connection(format!(
                "the producer closed before reporting the delivery of {}",
                describe(pending.index)
            ))),
        }
    }

    /// Hands one encoded record to librdkafka (waiting for room when its queue is full).
    #[allow(clippy::too_many_arguments)]
    async fn enqueue(
        &self,
        p: &FutureProducer,
        pending: &mut VecDeque<Pending>,
        topic: &str,
        partition: i32,
        encoded: &Encoded,
        headers: &[(&'static str, String)],
        limit: usize,
        index: usize,
        describe: Describe<'_>,
    ) -> Result<()> {
        let size = encoded.value.len()
            + encoded.key.as_ref().map_or(0, Vec::len)
            + headers
                .iter()
                .map(|(k, v)| k.len() + v.len())
                .sum::<usize>();
        if size > limit {
            return Err(self.too_large(&describe(index), size, limit));
        }
        loop {
            let mut h = OwnedHeaders::new_with_capacity(headers.len());
            for (k, v) in headers {
                h = h.insert(Header {
                    key: k,
                    value: Some(v.as_bytes()),
                });
            }
            let mut record = FutureRecord::to(topic)
                .partition(partition)
                .payload(&encoded.value)
                .headers(h);
            if let Some(k) = &encoded.key {
                record = record.key(k);
            }
            match p.send_result(record) {
                Ok(delivery) => {
                    pending.push_back(Pending { delivery, index });
                    return Ok(());
                }
                Err((KafkaError::MessageProduction(RDKafkaErrorCode::QueueFull), _)) => {
                    match pending.pop_front() {
                        Some(oldest) => self.settle(p, oldest, describe).await?,
                        None => tokio::time::sleep(Duration::from_millis(5)).await,
                    }
                }
                Err((e, _)) => return Err(self.delivery_error(p, &describe(index), &e)),
            }
        }
    }

    /// Encodes, routes and produces `events` in order, then waits for every delivery report.
    async fn produce(&self, events: Vec<Event<'_>>) -> Result<u64> {
        let p = self.producer();
        let describe = |i: usize| events.get(i).map(Event::describe).unwrap_or_default();
        let mut pending = VecDeque::new();
        let mut count = 0u64;
        for (index, ev) in events.iter().enumerate() {
            let topic = self.router.topic(ev);
            let info = self.ensure_topic(&topic, false).await?;
            let limit = info
                .max_message_bytes
                .map_or(self.options.max_message_bytes, |l| {
                    l.min(self.options.max_message_bytes)
                });
            let encoded = encode(ev, &self.ctx)?;
            let headers = header_pairs(ev, &self.ctx);
            let (first, last) = match self.router.target(ev, info.partitions) {
                Target::Partition(n) => (n, n),
                Target::Every => (0, info.partitions - 1),
            };
            for partition in first..=last {
                self.enqueue(
                    &p,
                    &mut pending,
                    &topic,
                    partition,
                    &encoded,
                    &headers,
                    limit,
                    index,
                    &describe,
                )
                .await?;
                count += 1;
            }
        }
        while let Some(next) = pending.pop_front() {
            self.settle(&p, next, &describe).await?;
        }
        Ok(count)
    }

    /// The records of one row change: one, or two when an UPDATE moves the row to another key
    /// under the primary-key policy (DELETE of the old row, INSERT of the new one).
    fn row_events<'a>(&self, rc: &'a RowChange, origin: Origin<'a>, out: &mut Vec<Event<'a>>) {
        let schema: &TableSchema = &rc.schema;
        let all = all_columns(schema.columns.len());
        let before = rc.before.as_deref();
        let after = rc.after.as_deref();
        match (rc.op, before, after) {
            (RowOp::Update, Some(b), Some(a)) if self.router.splits_update(schema, b, a) => {
                out.push(Event {
                    origin: Origin { part: 2, ..origin },
                    body: Body::Row {
                        schema,
                        op: RowOp::Delete,
                        before: Some(b),
                        after: None,
                        columns: all.clone(),
                    },
                });
                out.push(Event {
                    origin: Origin { part: 1, ..origin },
                    body: Body::Row {
                        schema,
                        op: RowOp::Insert,
                        before: None,
                        after: Some(a),
                        columns: all,
                    },
                });
            }
            (RowOp::Update, Some(b), Some(a)) => out.push(Event {
                origin,
                body: Body::Row {
                    schema,
                    op: RowOp::Update,
                    before: Some(b),
                    after: Some(a),
                    columns: update_columns(schema, b, a, self.options.sync_all_fields),
                },
            }),
            (op, before, after) => out.push(Event {
                origin,
                body: Body::Row {
                    schema,
                    op,
                    before,
                    after,
                    columns: all,
                },
            }),
        }
    }

    /// The records of a batch of transactions, in order.
    fn batch_events<'a>(&self, batch: &'a [Transaction]) -> Vec<Event<'a>> {
        let now = now_ms();
        let mut out = Vec::new();
        for txn in batch {
            let size = txn.fragment.first_change + txn.changes.len() as u64;
            for (i, change) in txn.changes.iter().enumerate() {
                let origin = Origin {
                    phase: Phase::Incremental,
                    position: Some(&txn.begin),
                    gtid: txn.gtid.as_deref(),
                    commit_time_ms: txn.commit_time_ms,
                    change_index: txn.fragment.first_change + i as u64,
                    txn_size: size,
                    now_ms: now,
                    part: 0,
                };
                match change {
                    Change::Row(rc) => self.row_events(rc, origin, &mut out),
                    Change::Ddl(ddl) => out.push(Event {
                        origin,
                        body: Body::Ddl(ddl),
                    }),
                    Change::Derived(d) => out.push(Event {
                        origin,
                        body: Body::Derived(d),
                    }),
                }
            }
        }
        out
    }

    /// Stores the checkpoint (after the data it covers is acknowledged).
    async fn write_checkpoint(&self, checkpoint: &Checkpoint) -> Result<()> {
        let topic = &self.options.checkpoint_topic;
        let info = self.ensure_topic(topic, true).await?;
        let record = CheckpointRecord {
            task_id: self.options.task_id.clone(),
            checkpoint: checkpoint.clone(),
            written_at_ms: now_ms(),
        };
        let value = serde_json::to_vec(&record).map_err(|e| Error::Checkpoint {
            path: format!("kafka topic {topic}"),
            message: format!("cannot serialize: {e}"),
        })?;
        let partition = partition_for_key(&self.options.task_id, info.partitions);
        let what = format!(
            "checkpoint of task {} (topic {topic} partition {partition})",
            self.options.task_id
        );
        let describe = |_: usize| what.clone();
        let mut pending = VecDeque::new();
        let encoded = Encoded {
            key: Some(self.options.task_id.clone().into_bytes()),
            value,
        };
        let p = lock(&self.checkpoint_producer).clone();
        let p = &*p;
        self.enqueue(
            p,
            &mut pending,
            topic,
            partition,
            &encoded,
            &[("dts.task_id", self.options.task_id.clone())],
            usize::MAX,
            0,
            &describe,
        )
        .await?;
        while let Some(next) = pending.pop_front() {
            self.settle(p, next, &describe).await?;
        }
        Ok(())
    }

    fn checkpoint_consumer(&self) -> Result<BaseConsumer> {
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0);
        let mut c = Self::base_config(&self.options);
        // librdkafka wants a group.id even for assign(); this one is unique, never joined and
        // never committed to.
        c.set(
            "group.id",
            format!(
                "dts-checkpoint-reader-{}-{}-{nanos}",
                self.options.task_id,
                std::process::id()
            ),
        )
        .set("enable.auto.commit", "false")
        .set("enable.auto.offset.store", "false")
        .set("enable.partition.eof", "true")
        .set("auto.offset.reset", "earliest")
        .set("allow.auto.create.topics", "false");
        Self::apply_overrides(&self.options, &mut c);
        c.create()
            .map_err(|e| Error::definite("kafka checkpoint reader", format!("cannot create: {e}")))
    }

    /// High minus low watermark of every partition of a topic (records it holds).
    async fn topic_record_count(&self, topic: &str, partitions: i32) -> Result<i64> {
        let consumer = self.checkpoint_consumer()?;
        let timeout = self.options.request_timeout;
        let name = topic.to_owned();
        tokio::task::spawn_blocking(move || {
            let mut total = 0;
            for p in 0..partitions {
                let (low, high) = consumer.fetch_watermarks(&name, p, timeout)?;
                total += (high - low).max(0);
            }
            Ok::<_, KafkaError>(total)
        })
        .await
        .map_err(|e| self.connection(format!("watermark request aborted: {e}")))?
        .map_err(|e| classify(&self.endpoint, &format!("watermarks of topic {topic}"), &e))
    }
}

/// Errors after which the producer's id, epoch or sequence numbers are no longer accepted.
fn lost_producer_state(code: RDKafkaErrorCode) -> bool {
    matches!(
        code,
        RDKafkaErrorCode::ProducerFenced
            | RDKafkaErrorCode::InvalidProducerEpoch
            | RDKafkaErrorCode::UnknownProducerId
            | RDKafkaErrorCode::OutOfOrderSequenceNumber
            | RDKafkaErrorCode::InvalidProducerIdMapping
    )
}

/// Reads the last checkpoint record of `task_id` in one partition, scanning back from the end
/// in growing windows (with one task per topic the first window holds it). The newest window
/// is read to the end of the partition rather than to the high watermark, which some brokers
/// (tansu 0.6) report as the last batch's base offset + 1.
fn read_last_checkpoint(
    consumer: &BaseConsumer,
    topic: &str,
    partition: i32,
    task_id: &str,
    timeout: Duration,
) -> std::result::Result<Option<(i64, Vec<u8>)>, String> {
    let (low, high) = consumer
        .fetch_watermarks(topic, partition, timeout)
        .map_err(|e| format!("cannot read the offsets of partition {partition}: {e}"))?;
    // `None`: read to the end of the partition.
    let mut end: Option<i64> = None;
    let mut start = high;
    let mut window = 64i64;
    loop {
        let upper = end.unwrap_or(high);
        start = (upper - window).max(low).min(start);
        let mut tpl = TopicPartitionList::new();
        tpl.add_partition_offset(topic, partition, Offset::Offset(start))
            .map_err(|e| e.to_string())?;
        consumer
            .assign(&tpl)
            .map_err(|e| format!("cannot assign partition {partition}: {e}"))?;
        let deadline = Instant::now() + timeout;
        let mut found: Option<(i64, Vec<u8>)> = None;
        loop {
            if Instant::now() >= deadline {
                return Err(format!(
                    "timed out after {timeout:?} reading partition {partition} from offset {start}"
                ));
            }
            match consumer.poll(Duration::from_millis(200)) {
                None => continue,
                Some(Err(KafkaError::PartitionEOF(_))) => break,
                Some(Err(e)) => return Err(format!("cannot read partition {partition}: {e}")),
                Some(Ok(m)) => {
                    if end.is_some_and(|e| m.offset() >= e) {
                        break;
                    }
                    if m.key() == Some(task_id.as_bytes()) {
                        found = Some((m.offset(), m.payload().unwrap_or_default().to_vec()));
                    }
                }
            }
        }
        if found.is_some() || start <= low {
            return Ok(found);
        }
        end = Some(start);
        window = window.saturating_mul(4);
    }
}

/// Largest size a row of the table can have, roughly (bytes of every column at its maximum),
/// and the column responsible for most of it.
fn max_row_bytes(schema: &TableSchema) -> (u64, Option<&str>) {
    use dts_core::ColumnType as T;
    let mut total = 0u64;
    let mut largest: (u64, Option<&str>) = (0, None);
    for c in &schema.columns {
        let n = match &c.column_type {
            T::Char { length } | T::VarChar { length } => u64::from(*length) * 4,
            T::Binary { length } | T::VarBinary { length } => u64::from(*length),
            T::Text { max_bytes } | T::Blob { max_bytes } => *max_bytes,
            // JSON and geometry values are stored like LONGBLOB.
            T::Json | T::Geometry { .. } => u64::from(u32::MAX),
            T::Decimal { .. } => 67,
            T::Enum { members } | T::Set { members } => {
                members.iter().map(|m| m.len() as u64 + 1).sum::<u64>() * 4
            }
            _ => 30,
        } * 2 // the encoded name/value overhead and both images of an UPDATE
            + c.name.len() as u64;
        total = total.saturating_add(n);
        if n > largest.0 {
            largest = (n, Some(c.name.as_str()));
        }
    }
    (total, largest.1)
}

#[async_trait::async_trait]
impl Sink for KafkaSink {
    /// `destination.connectivity` (a metadata request), `destination.topic` (each topic the
    /// task writes exists, or could be created: a validate-only CreateTopics), and
    /// `destination.message_size` (a warning naming the tables whose rows can exceed the
    /// message limit). Under "Precheck and Report Errors", `destination.existing_tables` fails
    /// on data topics that already hold records, as it does on existing tables for a database
    /// destination: consumers reading from the beginning would take those records for this
    /// task's. A topic whose records cannot be counted fails it too, naming the cause. (The task
    /// skips the check when it resumes, when schema sync is off and under "Ignore Errors and
    /// Proceed".)
    async fn precheck(&self, tables: &[TableSchema], mode: ConflictingTables) -> PrecheckReport {
        let mut report = PrecheckReport::default();
        match self.broker_count().await {
            Ok(n) => report.checks.push(CheckResult::pass(
                "destination.connectivity",
                format!("{n} kafka broker(s) reached through {}", self.endpoint),
            )),
            Err(e) => {
                report.checks.push(CheckResult::error(
                    "destination.connectivity",
                    format!("cannot reach the kafka brokers {}: {e}", self.endpoint),
                    "check the broker addresses, the network path and the listeners the brokers advertise",
                ));
                return report;
            }
        }

        // Every topic the task writes to.
        let mut data_topics: BTreeMap<String, Vec<String>> = BTreeMap::new();
        if tables.is_empty() {
            data_topics.insert(self.options.topic.clone(), vec![]);
        }
        for t in tables {
            data_topics
                .entry(self.router.table_topic(&t.id))
                .or_default()
                .push(t.id.to_string());
        }
        let mut all: BTreeSet<(String, bool)> =
            data_topics.keys().map(|t| (t.clone(), false)).collect();
        if let Some(d) = &self.options.ddl_topic {
            all.insert((d.clone(), false));
        }
        all.insert((self.options.checkpoint_topic.clone(), true));
        let mut problems = Vec::new();
        let mut notes = Vec::new();
        let mut limits: HashMap<String, usize> = HashMap::new();
        for (topic, compacted) in &all {
            match self.partitions_of(topic).await {
                Ok(Some(n)) => {
                    let limit = self
                        .topic_limit(topic)
                        .await
                        .map_or(self.options.max_message_bytes, |l| {
                            l.min(self.options.max_message_bytes)
                        });
                    limits.insert(topic.clone(), limit);
                    match self.options.partitions {
                        Some(want) if !compacted && want as i32 != n => notes.push(format!(
                            "{topic} exists with {n} partitions (not the configured {want}; records are hashed over {n})"
                        )),
                        _ => notes.push(format!("{topic} exists with {n} partitions")),
                    }
                }
                Ok(None) => {
                    let partitions = if *compacted {
                        1
                    } else {
                        self.options.partitions.unwrap_or(1) as i32
                    };
                    let opts = AdminOptions::new()
                        .request_timeout(Some(self.options.request_timeout))
                        .validate_only(true);
                    let res = self
                        .admin
                        .create_topics([&self.new_topic(topic, partitions, *compacted)], &opts)
                        .await;
                    match res.as_deref() {
                        Ok([Ok(_)]) | Ok([Err((_, RDKafkaErrorCode::TopicAlreadyExists))]) => notes
                            .push(format!(
                                "{topic} will be created with {partitions} partition(s)"
                            )),
                        Ok(results) => problems.push(format!(
                            "{topic} does not exist and cannot be created: {:?}",
                            results
                                .iter()
                                .filter_map(|r| r.as_ref().err())
                                .collect::<Vec<_>>()
                        )),
                        Err(e) => problems
                            .push(format!("{topic} does not exist and cannot be created: {e}")),
                    }
                }
                Err(e) => problems.push(format!("{topic}: {e}")),
            }
        }
        report.checks.push(if problems.is_empty() {
            CheckResult::pass("destination.topic", notes.join("; "))
        } else {
            CheckResult::error(
                "destination.topic",
                problems.join("; "),
                "create the topics, or grant the task's user the right to create topics \
                 (CreateTopics on the cluster)",
            )
        });

        // Rows that can outgrow the message limit.
        let mut oversized = Vec::new();
        for t in tables {
            let topic = self.router.table_topic(&t.id);
            let limit = limits
                .get(&topic)
                .copied()
                .unwrap_or(self.options.max_message_bytes);
            let (bytes, column) = max_row_bytes(t);
            if bytes > limit as u64 {
                oversized.push(format!(
                    "{} (up to ~{bytes} bytes, mostly column `{}`; limit {limit} on {topic})",
                    t.id,
                    column.unwrap_or("?")
                ));
            }
        }
        report.checks.push(if oversized.is_empty() {
            CheckResult::pass(
                "destination.message_size",
                format!(
                    "every selected table's rows fit in {} bytes",
                    self.options.max_message_bytes
                ),
            )
        } else {
            CheckResult::warning(
                "destination.message_size",
                format!(
                    "rows of these tables can be larger than the message limit, and such a row \
                     stops the task with an error naming it: {}",
                    oversized.join("; ")
                ),
                "raise the topics' max.message.bytes and the sink's max_message_bytes, or \
                 leave the large columns out; acknowledge this warning if the rows stay small",
            )
        });

        if mode == ConflictingTables::PrecheckAndReportErrors {
            let mut used = Vec::new();
            for (topic, tables) in &data_topics {
                let tables = tables.join(", ");
                let count = match self.partitions_of(topic).await {
                    Ok(Some(n)) => self.topic_record_count(topic, n).await,
                    Ok(None) => Ok(0),
                    Err(e) => Err(e),
                };
                match count {
                    Ok(0) => {}
                    Ok(count) => used.push(format!(
                        "{topic} already holds {count} record(s) (tables {tables})"
                    )),
                    Err(e) => used.push(format!(
                        "{topic} (tables {tables}): its records cannot be counted: {e}"
                    )),
                }
            }
            report.checks.push(if used.is_empty() {
                CheckResult::pass(
                    "destination.existing_tables",
                    "the data topics hold no records",
                )
            } else {
                CheckResult::error(
                    "destination.existing_tables",
                    format!(
                        "{}: consumers reading from the beginning would take those records for \
                         this task's",
                        used.join("; ")
                    ),
                    "write to empty topics (topic, topic_template, topic_routes), delete the \
                     records, or set conflicting_tables = \"ignore_errors_and_proceed\"",
                )
            });
        }
        report
    }

    /// Creates the table's data topic (and the DDL topic) when missing, with the configured
    /// partition count. No record is emitted: every record carries its table's column names
    /// and types (DTS Avro `fields`, Canal `mysqlType`/`sqlType`), and CREATE TABLE statements
    /// replayed from the binlog arrive as DDL records.
    fn supports_derived_changes(&self) -> std::result::Result<(), String> {
        crate::format::cascade::supports(self.options.format)
    }

    async fn apply_schema(&self, schema: &TableSchema) -> Result<()> {
        self.ensure_topic(&self.router.table_topic(&schema.id), false)
            .await?;
        if let Some(t) = &self.options.ddl_topic {
            self.ensure_topic(t, false).await?;
        }
        // Schema sync to Kafka is the table's CREATE TABLE record (see `schema_ddl`).
        let ddl = crate::schema_ddl::create_table_ddl(schema);
        self.produce_ddl(&ddl, Phase::Full).await
    }

    /// Produces every row as an INSERT record (Debezium `op` `r`, as its snapshot reads) and
    /// waits until all are acknowledged. `existing` cannot apply to Kafka: records are appended,
    /// so rows copied again after a restart appear again (at-least-once; consumers keep the
    /// last record per key).
    async fn write_rows(
        &self,
        schema: &SchemaRef,
        rows: Vec<Row>,
        _existing: ExistingRows,
    ) -> Result<()> {
        let now = now_ms();
        let all = all_columns(schema.columns.len());
        let schema: &TableSchema = schema;
        let mut events = Vec::with_capacity(rows.len());
        for (i, row) in rows.iter().enumerate() {
            events.push(Event {
                origin: Origin {
                    phase: Phase::Full,
                    position: None,
                    gtid: None,
                    commit_time_ms: now,
                    change_index: i as u64,
                    txn_size: rows.len() as u64,
                    now_ms: now,
                    part: 0,
                },
                body: Body::Row {
                    schema,
                    op: RowOp::Insert,
                    before: None,
                    after: Some(row.as_slice()),
                    columns: all.clone(),
                },
            });
        }
        self.produce(events).await.map(|_| ())
    }

    /// Emits a reset marker: a `TRUNCATE TABLE` record of the table (DTS Avro DDL, Canal
    /// `TRUNCATE`, Shareplex `truncate`, Debezium `op` `t`; header `dts.op` = `reset`), to the
    /// table's data topic and partition (to every partition when the table's rows are spread by
    /// key), so consumers drop what they hold of the table before the new copy arrives. Kafka
    /// cannot remove records; this is how a re-copy of a keyless table stays correct for them.
    async fn reset_table(&self, schema: &TableSchema) -> Result<()> {
        let now = now_ms();
        let ev = Event {
            origin: Origin {
                phase: Phase::Incremental,
                position: None,
                gtid: None,
                commit_time_ms: now,
                change_index: 0,
                txn_size: 1,
                now_ms: now,
                part: 0,
            },
            body: Body::Reset(schema),
        };
        self.produce(vec![ev]).await.map(|_| ())
    }

    /// Produces one DDL record (to the DDL topic when configured).
    /// Kafka records every kind of schema object as a DDL record.
    fn holds_objects(&self, _kind: dts_core::ObjectKind) -> std::result::Result<(), String> {
        Ok(())
    }

    /// Schema sync of a view, routine, trigger or event is its `CREATE` statement as a DDL
    /// record (phase full), as for tables.
    async fn create_object(&self, object: &dts_core::SchemaObject) -> Result<()> {
        let mut tables = vec![object.id()];
        if let Some(t) = &object.table {
            tables.push(dts_core::TableId::new(object.database.clone(), t.clone()));
        }
        let ddl = Ddl {
            database: Some(object.database.clone()),
            statement: object.definition.clone(),
            kind: dts_core::DdlKind::Object(object.kind),
            tables,
            sql_mode: None,
        };
        self.produce_ddl(&ddl, Phase::Full).await
    }

    async fn apply_ddl(&self, ddl: &Ddl) -> Result<()> {
        self.produce_ddl(ddl, Phase::Incremental).await
    }

    /// Produces every record of the batch in order, waits for every delivery report, and only
    /// then writes `checkpoint` to the checkpoint topic. A failure anywhere leaves the previous
    /// checkpoint in place, so the task replays the batch: at-least-once, in order per key.
    async fn apply(&self, batch: &[Transaction], checkpoint: &Checkpoint) -> Result<()> {
        let events = self.batch_events(batch);
        self.produce(events).await?;
        self.write_checkpoint(checkpoint).await
    }

    /// The task's last checkpoint record in the checkpoint topic (read by explicit partition
    /// assignment, never through a consumer group); `None` when there is none.
    async fn read_checkpoint(&self) -> Result<Option<Checkpoint>> {
        let topic = self.options.checkpoint_topic.clone();
        let Some(partitions) = self.partitions_of(&topic).await? else {
            return Ok(None);
        };
        let partition = partition_for_key(&self.options.task_id, partitions);
        let consumer = self.checkpoint_consumer()?;
        let task_id = self.options.task_id.clone();
        let timeout = self.options.request_timeout;
        let t = topic.clone();
        let found = tokio::task::spawn_blocking(move || {
            read_last_checkpoint(&consumer, &t, partition, &task_id, timeout)
        })
        .await
        .map_err(|e| self.connection(format!("checkpoint read aborted: {e}")))?
        .map_err(|message| Error::Connection {
            endpoint: self.endpoint.clone(),
            message: format!("reading the checkpoint from topic {topic}: {message}"),
            cause: None,
        })?;
        let Some((offset, payload)) = found else {
            return Ok(None);
        };
        let record: CheckpointRecord =
            serde_json::from_slice(&payload).map_err(|e| Error::Checkpoint {
                path: format!("kafka topic {topic} partition {partition} offset {offset}"),
                message: format!("unreadable checkpoint record: {e}"),
            })?;
        Ok(Some(record.checkpoint))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn producer_settings_follow_acks_and_codec() {
        let o = KafkaSinkOptions::new(vec!["k:1".into()], "t", "task");
        let get = |acks, codec| {
            let c = KafkaSink::producer_config(&o, acks, codec);
            (
                c.get("acks").unwrap().to_owned(),
                c.get("enable.idempotence").unwrap().to_owned(),
                c.get("compression.type").unwrap().to_owned(),
                c.get("max.in.flight.requests.per.connection")
                    .map(str::to_owned),
            )
        };
        assert_eq!(
            get(KafkaAcks::All, Some(KafkaCompression::Lz4)),
            ("all".into(), "true".into(), "lz4".into(), None)
        );
        assert_eq!(
            get(KafkaAcks::Leader, Some(KafkaCompression::Gzip)),
            ("1".into(), "false".into(), "gzip".into(), Some("1".into()))
        );
        assert_eq!(
            get(KafkaAcks::None, Some(KafkaCompression::Snappy)),
            ("0".into(), "false".into(), "snappy".into(), None)
        );
        assert_eq!(get(KafkaAcks::All, Some(KafkaCompression::Zstd)).2, "zstd");
        // The checkpoint producer: uncompressed, always acks=all and idempotent.
        assert_eq!(
            get(KafkaAcks::All, None),
            ("all".into(), "true".into(), "none".into(), None)
        );
        let c = KafkaSink::producer_config(&o, KafkaAcks::All, None);
        assert_eq!(c.get("allow.auto.create.topics"), Some("false"));
        assert_eq!(c.get("message.timeout.ms"), Some("60000"));
    }
}
