//! Task options with an AnalyticDB destination, against the test environment's destination
//! MariaDB in compatibility mode: without schema synchronization, the sink names the
//! destination tables that do not exist (merged shards under their merged table).

use dts_adb::{AdbOptions, AdbSink};
use dts_core::{Column, ColumnType, Sink, TableId, TableSchema};
use mysql_async::prelude::Queryable;

fn table(db: &str, name: &str) -> TableSchema {
    TableSchema {
        id: TableId::new(db, name),
        columns: vec![Column::new(
            "id",
            ColumnType::Integer {
                bytes: 4,
                unsigned: false,
            },
            "int(11)",
        )],
        primary_key: vec!["id".into()],
        unique_keys: vec![],
        indexes: vec![],
        create_sql: None,
        constraints: Default::default(),
    }
}

#[tokio::test]
async fn missing_destination_tables_are_named() {
    let url = std::env::var("DTS_TEST_DEST_URL").unwrap_or_else(|_| {
        panic!("DTS_TEST_DEST_URL is not set: run `eval \"$(scripts/test-env.sh env)\"`")
    });
    let db = format!("st_adb_missing_{}", std::process::id());
    let mut conn = mysql_async::Conn::from_url(url.as_str()).await.unwrap();
    for sql in [
        format!("DROP DATABASE IF EXISTS `{db}`"),
        format!("CREATE DATABASE `{db}`"),
        format!("CREATE TABLE `{db}`.present (id INT PRIMARY KEY)"),
        format!("CREATE TABLE `{db}`.merged (id INT PRIMARY KEY)"),
    ] {
        conn.query_drop(sql).await.unwrap();
    }
    let mut options = AdbOptions::new(url.as_str(), "st-adb");
    options.mariadb_compat = true;
    let sink = AdbSink::new(options).unwrap();
    // A shard merged into an existing table counts as present.
    sink.merge_into(TableId::new(&db, "shard_1"), TableId::new(&db, "merged"));
    let missing = sink
        .missing_tables(&[
            table(&db, "present"),
            table(&db, "absent"),
            table(&db, "shard_1"),
            table(&db, "PRESENT_NOT"),
        ])
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        missing,
        vec![
            TableId::new(&db, "absent"),
            TableId::new(&db, "PRESENT_NOT")
        ]
    );
    conn.query_drop(format!("DROP DATABASE `{db}`"))
        .await
        .unwrap();
}
