//! The type × path matrix: every declared column type (`tm_support/types.rs`) through every
//! path a value takes — keyed chunked snapshot (multi-row INSERT and LOAD DATA writes),
//! key-less consistent snapshot, binlog insert / update / key change / delete, two-way
//! checked apply, verification, each Kafka format decoded back, the AnalyticDB write path and
//! masking — on the real servers. Each (type, path) pair is its own test, `<path>::<type>`.

#[macro_use]
mod tm_support;

with_cases!(path_tests!(snapshot_insert, SnapshotInsert;));
with_cases!(path_tests!(snapshot_load_data, SnapshotLoadData;));
with_cases!(path_tests!(keyless_snapshot, KeylessSnapshot;));
with_cases!(path_tests!(binlog_insert, BinlogInsert;));
with_cases!(path_tests!(binlog_update, BinlogUpdate;));
with_cases!(path_tests!(binlog_key_change, BinlogKeyChange;));
with_cases!(path_tests!(binlog_delete, BinlogDelete;));
with_cases!(path_tests!(two_way_apply, TwoWayApply;));
with_cases!(path_tests!(verification, Verification;));
with_cases!(path_tests!(kafka_canal_json, KafkaCanalJson;));
with_cases!(path_tests!(kafka_shareplex_json, KafkaShareplexJson;));
with_cases!(path_tests!(kafka_debezium_json, KafkaDebeziumJson;));
with_cases!(path_tests!(kafka_dts_avro, KafkaDtsAvro;));
with_cases!(path_tests!(adb, Adb;));
with_cases!(path_tests!(masking, Masking;));
