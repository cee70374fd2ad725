//! Generated task ids (`dts-` and a hash of what the task copies, when the file sets no `id`)
//! name a task's checkpoints, its destination markers and `__dts_data_source`: a release that
//! changed them would orphan every running task's progress. These ids were recorded before the
//! destinations' options moved into their connector crates, and must never change.

use dts_core::config::TaskConfig;
use std::path::Path;

const SOURCE: &str =
    "[source]\nhost = \"10.0.0.1\"\nport = 3306\nuser = \"dts\"\npassword = \"x\"\n";
const OBJECTS: &str = "[[objects.databases]]\nname = \"shop\"\n";

/// A program registers a connector's `[destination]` schema by using the connector crate (as
/// the `dts` program does through the factories); this test uses the three.
fn link_connectors() {
    let _ = (
        dts_mysql::MysqlDestination::default(),
        dts_kafka::KafkaDestination::new(Vec::new(), "t"),
        dts_adb::AdbDestination::default(),
    );
}

fn id_of(destination: &str) -> String {
    link_connectors();
    TaskConfig::from_toml_str(&format!(
        "{SOURCE}\n[destination]\n{destination}\n\n{OBJECTS}"
    ))
    .unwrap_or_else(|e| panic!("{destination}: {e}"))
    .task_id()
}

/// Inline destinations covering every connector's options, set and unset, with the ids they
/// had (recorded with the code of 2026-12-07, commit 87ec1ca).
const RECORDED: &[(&str, &str)] = &[
    ("type = \"mysql\"\nhost = \"10.0.0.2\"\nuser = \"w\"", "dts-85ec068826f8"),
    ("type = \"mysql\"\nhost = \"10.0.0.2\"\nuser = \"w\"\nfull_sync_binlog = false\nload_data = false\ndefer_secondary_indexes = false", "dts-32beea068ca1"),
    ("type = \"kafka\"\nbrokers = [\"k1:9092\", \"k2:9092\"]\ntopic = \"cdc\"", "dts-fb74ead5b9ae"),
    ("type = \"kafka\"\nbrokers = [\"k1:9092\"]\ntopic = \"cdc\"\nddl_topic = \"ddl\"\ndata_format = \"canal_json\"\ncompression = \"zstd\"\npartition_policy = \"by_primary_key_hash\"\npartition_key_columns = [\"id\"]\nacks = \"leader\"\nnum_partitions = 6\nsync_all_fields = false\ntopic_template = \"cdc.{database}.{table}\"\nmax_message_bytes = 2000000\n[destination.topic_routes]\n\"shop.orders\" = \"orders\"", "dts-b139431ef338"),
    ("type = \"adb\"\nhost = \"adb.example\"\nuser = \"w\"", "dts-b747ec3cf7b0"),
    ("type = \"adb\"\nhost = \"adb.example\"\nuser = \"w\"\nmerge_tables = true\ndml = [\"insert\", \"update\"]\nskip_unsupported_ddl = true\nbatch_rows = 500\nbatch_bytes = 65536\nflush_interval_ms = 250\nmariadb_compat = true\n[destination.tables.\"shop.orders\"]\npartition_column = \"day\"\npartition_format = \"%Y%m%d\"\nlifecycle = 30\nclustered_key = [\"customer\"]", "dts-e42cbfdfcdfe"),
];

#[test]
fn generated_ids_never_change() {
    for (destination, id) in RECORDED {
        assert_eq!(&id_of(destination), id, "{destination}");
    }
}

#[test]
fn writing_a_default_explicitly_keeps_the_id() {
    // The connector writes every option with its default, so spelling one out is the same task.
    assert_eq!(
        id_of("type = \"mysql\"\nhost = \"10.0.0.2\"\nuser = \"w\"\nload_data = true"),
        RECORDED[0].1
    );
    assert_eq!(
        id_of("type = \"kafka\"\nbrokers = [\"k1:9092\", \"k2:9092\"]\ntopic = \"cdc\"\nacks = \"all\""),
        RECORDED[2].1
    );
}

#[test]
fn shipped_task_files_keep_their_ids() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tasks");
    for (file, id) in [
        ("mysql_to_adb.toml", "ab-shop-to-adb"),
        ("mysql_to_kafka.toml", "sbtest-to-kafka"),
        ("mysql_to_mysql.toml", "shop-local-replica"),
        ("mysql_to_mysql_tls.toml", "shop-over-tls"),
        ("quickstart.toml", "quickstart"),
    ] {
        let config = TaskConfig::from_toml_file(dir.join(file)).unwrap();
        assert_eq!(config.task_id(), id, "{file}");
    }
}
