//! End-to-end tests of the write path against the real destination MariaDB of the test
//! environment (`DTS_TEST_DEST_URL`, from `eval "$(scripts/test-env.sh env)"`), with
//! `AdbOptions::mariadb_compat` set. Without the variable the tests fail, naming it.

use bytes::Bytes;
use dts_adb::{AdbOptions, AdbSink};
use dts_core::{
    Change, Checkpoint, Column, ColumnType, Ddl, DdlKind, Error, ExistingRows, Fragment,
    GtidFlavor, GtidSet, Position, RowChange, RowOp, SchemaRef, Sink, TableId, TableSchema,
    Timestamp, Transaction, Value,
};
use mysql_async::prelude::Queryable;
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

/// id, name, ts, amount, tags, blob, j, b as the destination returns them.
type TypedRow = (
    String,
    String,
    String,
    String,
    String,
    Vec<u8>,
    String,
    String,
);

fn url() -> Option<String> {
    let url = std::env::var("DTS_TEST_DEST_URL").unwrap_or_else(|_| {
        panic!("DTS_TEST_DEST_URL is not set: run `eval \"$(scripts/test-env.sh env)\"` after `scripts/test-env.sh up`")
    });
    Some(url)
}

/// Compat options that flush at the end of every `apply` call (the flush-by-time tests set
/// their own interval).
fn options(url: &str, task: &str) -> AdbOptions {
    let mut o = AdbOptions::new(url, task);
    o.mariadb_compat = true;
    o.flush_interval = Duration::ZERO;
    o
}

async fn reset_db(url: &str, db: &str) -> mysql_async::Conn {
    let mut conn = mysql_async::Conn::from_url(url).await.unwrap();
    conn.query_drop(format!("DROP DATABASE IF EXISTS `{db}`"))
        .await
        .unwrap();
    conn.query_drop("SET time_zone = '+00:00'").await.unwrap();
    conn
}

fn col(name: &str, t: ColumnType, nullable: bool) -> Column {
    let mut c = Column::new(name, t, "");
    c.nullable = nullable;
    c
}

fn kv_schema(db: &str, table: &str) -> SchemaRef {
    Arc::new(TableSchema {
        id: TableId::new(db, table),
        columns: vec![
            col(
                "id",
                ColumnType::Integer {
                    bytes: 4,
                    unsigned: false,
                },
                false,
            ),
            col("v", ColumnType::VarChar { length: 64 }, true),
        ],
        primary_key: vec!["id".into()],
        unique_keys: vec![],
        indexes: vec![],
        create_sql: None,
        constraints: Default::default(),
    })
}

fn row(
    schema: &SchemaRef,
    op: RowOp,
    before: Option<Vec<Value>>,
    after: Option<Vec<Value>>,
) -> Change {
    Change::Row(RowChange {
        schema: schema.clone(),
        op,
        before,
        after,
    })
}

fn kv(id: i64, v: &str) -> Vec<Value> {
    vec![Value::Int(id), Value::Text(v.into())]
}

fn txn(changes: Vec<Change>, offset: u64) -> Transaction {
    Transaction {
        begin: Position::new("bin.000001", offset),
        end: Position::new("bin.000001", offset + 1),
        gtid: None,
        commit_time_ms: 1_000 + offset,
        changes,
        fragment: Fragment::WHOLE,
    }
}

fn checkpoint(offset: u64) -> Checkpoint {
    Checkpoint {
        position: Position {
            file: "bin.000007".into(),
            offset,
            gtid_set: Some(GtidSet {
                flavor: GtidFlavor::Mariadb,
                text: "0-1-42,1-1-7".into(),
            }),
        },
        last_gtid: Some("1-1-7".into()),
        commit_time_ms: 1_700_000_000_123,
        applied_in_transaction: 3,
    }
}

async fn kv_rows(conn: &mut mysql_async::Conn, sql: &str) -> Vec<(i64, Option<String>)> {
    conn.query(sql).await.unwrap()
}

#[tokio::test]
async fn create_write_upsert_delete_round_trip() {
    let Some(url) = url() else { return };
    let db = "dts_adb_it_round_trip";
    let mut conn = reset_db(&url, db).await;
    let schema: SchemaRef = Arc::new(TableSchema {
        id: TableId::new(db, "typed"),
        columns: vec![
            col(
                "id",
                ColumnType::Integer {
                    bytes: 8,
                    unsigned: true,
                },
                false,
            ),
            col("name", ColumnType::VarChar { length: 20 }, true),
            col("ts", ColumnType::Timestamp { fsp: 6 }, true),
            col(
                "amount",
                ColumnType::Decimal {
                    precision: 65,
                    scale: 30,
                },
                true,
            ),
            col(
                "tags",
                ColumnType::Set {
                    members: vec!["a".into(), "b".into(), "c".into()],
                },
                true,
            ),
            col("blob", ColumnType::Blob { max_bytes: 65_535 }, true),
            col("j", ColumnType::Json, true),
            col("b", ColumnType::Bit { width: 64 }, true),
        ],
        primary_key: vec!["id".into()],
        unique_keys: vec![],
        indexes: vec![],
        create_sql: None,
        constraints: Default::default(),
    });
    let sink = AdbSink::new(options(&url, "it-round-trip")).unwrap();
    sink.apply_schema(&schema).await.unwrap();
    sink.apply_schema(&schema).await.unwrap(); // idempotent
    let big = "-99999999999999999999999999999999999.999999999999999999999999999999";
    let typed = |id: u64, name: &str| {
        vec![
            Value::UInt(id),
            Value::Text(name.into()),
            Value::Timestamp(Timestamp {
                seconds: 2_147_483_647,
                micros: 999_999,
            }),
            Value::Decimal(big.into()),
            Value::Set(vec!["a".into(), "c".into()]),
            Value::Bytes(Bytes::from_static(b"\0\xff\0")),
            Value::Json(r#"{"k": [1, 2]}"#.into()),
            Value::Bit(u64::MAX),
        ]
    };
    sink.write_rows(
        &schema,
        vec![typed(u64::MAX, "max"), typed(1, "one")],
        ExistingRows::Replace,
    )
    .await
    .unwrap();
    // Keep: an existing key is not overwritten.
    sink.write_rows(&schema, vec![typed(1, "other")], ExistingRows::Keep)
        .await
        .unwrap();
    let changes = vec![
        row(&schema, RowOp::Insert, None, Some(typed(2, "two"))),
        row(
            &schema,
            RowOp::Update,
            Some(typed(1, "one")),
            Some(typed(1, "uno")),
        ),
        // Key change: 2 becomes 3.
        row(
            &schema,
            RowOp::Update,
            Some(typed(2, "two")),
            Some(typed(3, "three")),
        ),
        row(&schema, RowOp::Delete, Some(typed(u64::MAX, "max")), None),
        // Replay of an insert that already exists converges.
        row(&schema, RowOp::Insert, None, Some(typed(3, "three"))),
    ];
    sink.apply(&[txn(changes, 10)], &checkpoint(11))
        .await
        .unwrap();
    let rows: Vec<TypedRow> = conn
        .query(format!(
            "SELECT CAST(id AS CHAR), name, CAST(ts AS CHAR), CAST(amount AS CHAR), tags, `blob`, j, \
             CAST(b AS CHAR) FROM `{db}`.typed ORDER BY id"
        ))
        .await
        .unwrap();
    assert_eq!(rows.len(), 2, "{rows:?}");
    assert_eq!(rows[0].0, "1");
    assert_eq!(rows[0].1, "uno");
    assert_eq!(rows[0].2, "2038-01-19 03:14:07.999999");
    assert_eq!(rows[0].3, big);
    assert_eq!(rows[0].4, "a,c");
    assert_eq!(rows[0].5, b"\0\xff\0");
    assert_eq!(rows[0].6, r#"{"k": [1, 2]}"#);
    assert_eq!(rows[0].7, u64::MAX.to_string());
    assert_eq!(rows[1].0, "3");
    assert_eq!(rows[1].1, "three");
    assert_eq!(sink.read_checkpoint().await.unwrap(), Some(checkpoint(11)));
    // Replaying the same batch converges to the same state.
    let before = rows.clone();
    sink.apply(
        &[txn(
            vec![
                row(
                    &schema,
                    RowOp::Update,
                    Some(typed(1, "one")),
                    Some(typed(1, "uno")),
                ),
                row(&schema, RowOp::Delete, Some(typed(u64::MAX, "max")), None),
            ],
            10,
        )],
        &checkpoint(11),
    )
    .await
    .unwrap();
    let again: Vec<TypedRow> = conn
        .query(format!(
            "SELECT CAST(id AS CHAR), name, CAST(ts AS CHAR), CAST(amount AS CHAR), tags, `blob`, j, \
             CAST(b AS CHAR) FROM `{db}`.typed ORDER BY id"
        ))
        .await
        .unwrap();
    assert_eq!(again, before);
}

#[tokio::test]
async fn checkpoint_round_trip() {
    let Some(url) = url() else { return };
    let task = format!("it-checkpoint-{}", std::process::id());
    let sink = AdbSink::new(options(&url, &task)).unwrap();
    assert_eq!(sink.read_checkpoint().await.unwrap(), None);
    sink.apply(&[], &checkpoint(5)).await.unwrap();
    assert_eq!(sink.read_checkpoint().await.unwrap(), Some(checkpoint(5)));
    let mut no_gtid = checkpoint(9);
    no_gtid.position.gtid_set = None;
    no_gtid.last_gtid = None;
    no_gtid.position.offset = u64::from(u32::MAX) * 4;
    sink.apply(&[], &no_gtid).await.unwrap();
    // A new sink (restart) reads what the old one stored.
    let restarted = AdbSink::new(options(&url, &task)).unwrap();
    assert_eq!(restarted.read_checkpoint().await.unwrap(), Some(no_gtid));
    let other = AdbSink::new(options(&url, &format!("{task}-other"))).unwrap();
    assert_eq!(other.read_checkpoint().await.unwrap(), None);
}

#[tokio::test]
async fn batches_flush_by_rows_and_by_bytes() {
    let Some(url) = url() else { return };
    let db = "dts_adb_it_batches";
    let mut conn = reset_db(&url, db).await;
    let schema = kv_schema(db, "t");
    let mut o = options(&url, "it-batches");
    o.batch_rows = 10;
    let sink = AdbSink::new(o).unwrap();
    sink.apply_schema(&schema).await.unwrap();
    let inserts: Vec<Change> = (0..25)
        .map(|i| row(&schema, RowOp::Insert, None, Some(kv(i, "x"))))
        .collect();
    sink.apply(&[txn(inserts, 1)], &checkpoint(2))
        .await
        .unwrap();
    let s = sink.stats();
    assert_eq!(s.upsert_statements, 3, "{s:?}");
    assert_eq!(
        s.flushes, 3,
        "two full buffers and the end-of-batch flush: {s:?}"
    );
    assert_eq!(s.rows_upserted, 25);
    // Deletes are batched too: 25 deletes in 3 statements.
    let deletes: Vec<Change> = (0..25)
        .map(|i| row(&schema, RowOp::Delete, Some(kv(i, "x")), None))
        .collect();
    sink.apply(&[txn(deletes, 3)], &checkpoint(4))
        .await
        .unwrap();
    let s = sink.stats();
    assert_eq!(s.delete_statements, 3, "{s:?}");
    assert_eq!(s.rows_deleted, 25);
    assert!(kv_rows(&mut conn, &format!("SELECT id, v FROM `{db}`.t"))
        .await
        .is_empty());

    // By bytes: rows of ~68 bytes (8 for the id, 60 for the text) and a 130-byte limit give
    // buffers of 2 rows.
    let mut o = options(&url, "it-batches-bytes");
    o.batch_bytes = 130;
    let sink = AdbSink::new(o).unwrap();
    let long = "y".repeat(60);
    let inserts: Vec<Change> = (0..6)
        .map(|i| row(&schema, RowOp::Insert, None, Some(kv(i, &long))))
        .collect();
    sink.apply(&[txn(inserts, 5)], &checkpoint(6))
        .await
        .unwrap();
    let s = sink.stats();
    assert_eq!(s.upsert_statements, 3, "{s:?}");
    assert_eq!(s.flushes, 3, "{s:?}");
    let rows = kv_rows(
        &mut conn,
        &format!("SELECT id, v FROM `{db}`.t ORDER BY id"),
    )
    .await;
    assert_eq!(rows.len(), 6);
    assert!(rows
        .iter()
        .all(|(_, v)| v.as_deref() == Some(long.as_str())));

    // Coalescing: many changes of one key within a batch become one row written.
    let sink = AdbSink::new(options(&url, "it-batches-coalesce")).unwrap();
    let mut changes = vec![row(&schema, RowOp::Insert, None, Some(kv(100, "v0")))];
    for i in 1..50 {
        changes.push(row(
            &schema,
            RowOp::Update,
            Some(kv(100, &format!("v{}", i - 1))),
            Some(kv(100, &format!("v{i}"))),
        ));
    }
    sink.apply(&[txn(changes, 7)], &checkpoint(8))
        .await
        .unwrap();
    assert_eq!(sink.stats().rows_upserted, 1);
    let rows = kv_rows(
        &mut conn,
        &format!("SELECT id, v FROM `{db}`.t WHERE id = 100"),
    )
    .await;
    assert_eq!(rows, vec![(100, Some("v49".to_string()))]);
}

#[tokio::test]
async fn merged_shards_with_overlapping_keys_under_concurrent_writes() {
    let Some(url) = url() else { return };
    let src_db = "dts_adb_it_shop";
    let db = "dts_adb_it_dw";
    let mut conn = reset_db(&url, db).await;
    reset_db(&url, src_db).await;
    let mut o = options(&url, "dts-merge-task");
    o.merge_tables = true;
    o.batch_rows = 7;
    let sink = Arc::new(AdbSink::new(o).unwrap());
    let dest = TableId::new(db, "orders");
    let shards: Vec<SchemaRef> = (0..3)
        .map(|i| kv_schema(src_db, &format!("orders_{i}")))
        .collect();
    for s in &shards {
        sink.merge_into(s.id.clone(), dest.clone());
    }
    for s in &shards {
        sink.apply_schema(s).await.unwrap();
    }
    // Concurrent writers, one per shard, same keys 1..=60 with shard-specific values.
    let mut handles = Vec::new();
    for (n, schema) in shards.iter().cloned().enumerate() {
        let sink = sink.clone();
        handles.push(tokio::spawn(async move {
            let mut expected: BTreeMap<i64, String> = BTreeMap::new();
            let mut offset = 100 * n as u64;
            for round in 0..6 {
                let mut changes = Vec::new();
                for id in 1..=60i64 {
                    let v = format!("s{n}-r{round}-{id}");
                    match (round + id + n as i64) % 4 {
                        0 if expected.contains_key(&id) => {
                            let old = expected.remove(&id).unwrap();
                            changes.push(row(&schema, RowOp::Delete, Some(kv(id, &old)), None));
                        }
                        _ => match expected.insert(id, v.clone()) {
                            Some(old) => changes.push(row(
                                &schema,
                                RowOp::Update,
                                Some(kv(id, &old)),
                                Some(kv(id, &v)),
                            )),
                            None => {
                                changes.push(row(&schema, RowOp::Insert, None, Some(kv(id, &v))))
                            }
                        },
                    }
                }
                offset += 1;
                sink.apply(&[txn(changes, offset)], &checkpoint(offset))
                    .await
                    .unwrap();
                tokio::task::yield_now().await;
            }
            expected
        }));
    }
    let mut expected = Vec::new();
    for h in handles {
        expected.push(h.await.unwrap());
    }
    for (n, exp) in expected.iter().enumerate() {
        let source = sink.data_source(&shards[n].id);
        assert_eq!(
            source,
            format!("dts-merge-task:{src_db}:{src_db}:orders_{n}")
        );
        let rows: Vec<(i64, String)> = conn
            .exec(
                format!("SELECT id, v FROM `{db}`.orders WHERE __dts_data_source = ? ORDER BY id"),
                (source,),
            )
            .await
            .unwrap();
        let exp: Vec<(i64, String)> = exp.iter().map(|(k, v)| (*k, v.clone())).collect();
        assert!(!exp.is_empty());
        assert_eq!(rows, exp, "shard {n}");
    }
    let total: Option<u64> = conn
        .query_first(format!("SELECT COUNT(*) FROM `{db}`.orders"))
        .await
        .unwrap();
    assert_eq!(total, Some(expected.iter().map(|e| e.len() as u64).sum()));

    // Schema-changing DDL on a merged shard is refused, naming the statement.
    let alter = Ddl {
        database: Some(src_db.into()),
        statement: "ALTER TABLE orders_1 ADD COLUMN extra INT".into(),
        kind: DdlKind::AlterTable,
        tables: vec![shards[1].id.clone()],
        sql_mode: None,
    };
    let err = sink.apply_ddl(&alter).await.unwrap_err();
    assert!(matches!(err, Error::Schema { .. }), "{err}");
    assert!(
        err.to_string()
            .contains("ALTER TABLE orders_1 ADD COLUMN extra INT"),
        "{err}"
    );
    // So is DROP DATABASE: the destination database holds every shard's rows.
    let drop_db = Ddl {
        database: Some(src_db.into()),
        statement: format!("DROP DATABASE {src_db}"),
        kind: DdlKind::DropDatabase,
        tables: vec![],
        sql_mode: None,
    };
    let err = sink.apply_ddl(&drop_db).await.unwrap_err();
    assert!(matches!(err, Error::Schema { .. }), "{err}");
    assert!(err.to_string().contains("DROP DATABASE"), "{err}");
    // TRUNCATE of one shard removes only that shard's rows.
    let truncate = Ddl {
        database: Some(src_db.into()),
        statement: "TRUNCATE TABLE orders_1".into(),
        kind: DdlKind::TruncateTable,
        tables: vec![shards[1].id.clone()],
        sql_mode: None,
    };
    sink.apply_ddl(&truncate).await.unwrap();
    let left: Vec<(String, u64)> = conn
        .query(format!(
            "SELECT __dts_data_source, COUNT(*) FROM `{db}`.orders GROUP BY 1 ORDER BY 1"
        ))
        .await
        .unwrap();
    assert_eq!(left.len(), 2, "{left:?}");
    assert!(left.iter().all(|(s, _)| !s.ends_with("orders_1")));
}

/// The longest tags there are (a 64-character task id, database and tables) fit whole: two
/// shards whose tags differ only in their last character stay apart, each tag read back as
/// written. A `VARCHAR(255)` column cut them to the same 255 characters.
#[tokio::test]
async fn merged_shards_with_the_longest_names_keep_whole_tags() {
    let Some(url) = url() else { return };
    let task = "t".repeat(64);
    let src_db = format!("dts_adb_it_long_{}", "s".repeat(48));
    let db = "dts_adb_it_long_dw";
    let mut conn = reset_db(&url, db).await;
    let mut o = options(&url, &task);
    o.merge_tables = true;
    let sink = AdbSink::new(o).unwrap();
    let dest = TableId::new(db, "orders");
    let shards: Vec<SchemaRef> = ["a", "b"]
        .iter()
        .map(|last| kv_schema(&src_db, &format!("{}{last}", "o".repeat(63))))
        .collect();
    for s in &shards {
        sink.merge_into(s.id.clone(), dest.clone());
        sink.apply_schema(s).await.unwrap();
    }
    let changes = shards
        .iter()
        .enumerate()
        .map(|(n, s)| row(s, RowOp::Insert, None, Some(kv(1, &format!("shard {n}")))))
        .collect();
    sink.apply(&[txn(changes, 1)], &checkpoint(1))
        .await
        .unwrap();
    let mut expected: Vec<(String, String)> = shards
        .iter()
        .enumerate()
        .map(|(n, s)| (sink.data_source(&s.id), format!("shard {n}")))
        .collect();
    expected.sort();
    assert!(expected
        .iter()
        .all(|(tag, _)| tag.chars().count() == dts_adb::DATA_SOURCE_MAX_CHARS));
    let rows: Vec<(String, String)> = conn
        .query(format!(
            "SELECT __dts_data_source, v FROM `{db}`.orders ORDER BY 1"
        ))
        .await
        .unwrap();
    assert_eq!(rows, expected);
}

/// The `dts_default` capitalization policy asks the destination how it stores names: the
/// test destination keeps their case (`lower_case_table_names = 0`, as on Linux by default).
/// A destination that cannot be reached is left to the precheck (`dts-adb/tests/tls.rs`).
#[tokio::test]
async fn the_destination_is_asked_whether_it_folds_names() {
    let Some(url) = url() else { return };
    let mut conn = mysql_async::Conn::from_url(url.as_str()).await.unwrap();
    let configured: u32 = conn
        .query_first("SELECT @@lower_case_table_names")
        .await
        .unwrap()
        .unwrap();
    let sink = AdbSink::new(options(&url, "dts-names")).unwrap();
    // The server's answer wins over either fallback.
    for fallback in [false, true] {
        let folds = dts_adb::names::folds_names_to_lower(sink.endpoint(), fallback)
            .await
            .unwrap();
        assert_eq!(folds, configured != 0);
    }
    // A destination that cannot be reached gets the mode's fallback (its precheck fails).
    let unreachable = AdbSink::new(options("mysql://root@127.0.0.1:1/", "dts-names")).unwrap();
    for fallback in [false, true] {
        let folds = dts_adb::names::folds_names_to_lower(unreachable.endpoint(), fallback)
            .await
            .unwrap();
        assert_eq!(folds, fallback);
    }
}

#[tokio::test]
async fn stream_ddl_is_run_refused_or_skipped() {
    let Some(url) = url() else { return };
    let db = "dts_adb_it_ddl";
    let mut conn = reset_db(&url, db).await;
    let schema = kv_schema(db, "t");
    let sink = AdbSink::new(options(&url, "it-ddl")).unwrap();
    sink.apply_schema(&schema).await.unwrap();
    let ddl = |kind, statement: &str| Ddl {
        database: Some(db.into()),
        statement: statement.into(),
        kind,
        tables: vec![schema.id.clone()],
        sql_mode: None,
    };
    // Supported DDL inside a batch runs between the rows around it.
    let mut widened = (*schema).clone();
    widened.columns.push(col(
        "extra",
        ColumnType::Integer {
            bytes: 4,
            unsigned: false,
        },
        true,
    ));
    let widened: SchemaRef = Arc::new(widened);
    sink.apply(
        &[
            txn(vec![row(&schema, RowOp::Insert, None, Some(kv(1, "a")))], 1),
            txn(
                vec![Change::Ddl(ddl(
                    DdlKind::AlterTable,
                    "ALTER TABLE t ADD COLUMN extra INT",
                ))],
                2,
            ),
            txn(
                vec![row(
                    &widened,
                    RowOp::Insert,
                    None,
                    Some(vec![Value::Int(2), Value::Text("b".into()), Value::Int(7)]),
                )],
                3,
            ),
        ],
        &checkpoint(4),
    )
    .await
    .unwrap();
    let rows: Vec<(i64, String, Option<i64>)> = conn
        .query(format!("SELECT id, v, extra FROM `{db}`.t ORDER BY id"))
        .await
        .unwrap();
    assert_eq!(rows, vec![(1, "a".into(), None), (2, "b".into(), Some(7))]);
    // A replayed ADD COLUMN (crash before the checkpoint) is tolerated.
    sink.apply_ddl(&ddl(
        DdlKind::AlterTable,
        "ALTER TABLE t ADD COLUMN extra INT",
    ))
    .await
    .unwrap();
    // Unsupported DDL fails with a Schema error naming the statement, and the checkpoint of
    // that batch is not stored.
    let modify = ddl(DdlKind::AlterTable, "ALTER TABLE t MODIFY v VARCHAR(10)");
    let err = sink
        .apply(&[txn(vec![Change::Ddl(modify.clone())], 5)], &checkpoint(6))
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Schema { .. }), "{err}");
    assert!(err.to_string().contains("MODIFY v VARCHAR(10)"), "{err}");
    assert_eq!(sink.read_checkpoint().await.unwrap(), Some(checkpoint(4)));
    // With skip_unsupported_ddl it is skipped and nothing changes.
    let mut o = options(&url, "it-ddl");
    o.skip_unsupported_ddl = true;
    let skipping = AdbSink::new(o).unwrap();
    skipping.apply_ddl(&modify).await.unwrap();
    let len: Option<u64> = conn
        .query_first(format!(
            "SELECT CHARACTER_MAXIMUM_LENGTH FROM information_schema.columns \
             WHERE table_schema = '{db}' AND table_name = 't' AND column_name = 'v'"
        ))
        .await
        .unwrap();
    assert_eq!(len, Some(64));
    // TRUNCATE and DROP TABLE run.
    sink.apply_ddl(&ddl(DdlKind::TruncateTable, "TRUNCATE TABLE t"))
        .await
        .unwrap();
    assert!(kv_rows(&mut conn, &format!("SELECT id, v FROM `{db}`.t"))
        .await
        .is_empty());
    sink.apply_ddl(&ddl(DdlKind::DropTable, "DROP TABLE t"))
        .await
        .unwrap();
    let n: Option<u64> = conn
        .query_first(format!(
            "SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = '{db}'"
        ))
        .await
        .unwrap();
    assert_eq!(n, Some(0));
}

#[tokio::test]
async fn table_without_key_gets_auto_id_and_converges() {
    let Some(url) = url() else { return };
    let db = "dts_adb_it_nokey";
    let mut conn = reset_db(&url, db).await;
    let mut s = (*kv_schema(db, "log")).clone();
    s.primary_key.clear();
    s.columns[0].nullable = true;
    let schema: SchemaRef = Arc::new(s);
    let sink = AdbSink::new(options(&url, "it-nokey")).unwrap();
    sink.apply_schema(&schema).await.unwrap();
    sink.apply(
        &[txn(
            vec![
                row(&schema, RowOp::Insert, None, Some(kv(1, "a"))),
                row(&schema, RowOp::Insert, None, Some(kv(1, "a"))),
                row(
                    &schema,
                    RowOp::Insert,
                    None,
                    Some(vec![Value::Null, Value::Null]),
                ),
                row(&schema, RowOp::Update, Some(kv(1, "a")), Some(kv(1, "b"))),
                row(
                    &schema,
                    RowOp::Delete,
                    Some(vec![Value::Null, Value::Null]),
                    None,
                ),
            ],
            1,
        )],
        &checkpoint(2),
    )
    .await
    .unwrap();
    let rows = kv_rows(
        &mut conn,
        &format!("SELECT id, v FROM `{db}`.log ORDER BY v"),
    )
    .await;
    assert_eq!(rows, vec![(1, Some("a".into())), (1, Some("b".into()))]);
    let auto: Option<u64> = conn
        .query_first(format!(
            "SELECT COUNT(DISTINCT __dts_auto_id) FROM `{db}`.log"
        ))
        .await
        .unwrap();
    assert_eq!(auto, Some(2));
    // precheck: existing table reported under the default mode.
    let report = sink
        .precheck(
            &[(*schema).clone()],
            dts_core::ConflictingTables::PrecheckAndReportErrors,
        )
        .await;
    assert!(!report.passes(&[]), "{report}");
    assert!(report.get("destination.primary_key").is_some(), "{report}");
    sink.reset_table(&schema).await.unwrap();
    assert!(kv_rows(&mut conn, &format!("SELECT id, v FROM `{db}`.log"))
        .await
        .is_empty());
}

/// The stored checkpoint offset of a task, read straight from the checkpoint table (not through
/// `read_checkpoint`, which flushes the buffers first).
async fn stored_offset(conn: &mut mysql_async::Conn, task: &str) -> Option<u64> {
    conn.exec_first(
        "SELECT `offset` FROM dts_meta.dts_adb_checkpoint WHERE task_id = ?",
        (task,),
    )
    .await
    .unwrap()
}

async fn count(conn: &mut mysql_async::Conn, db: &str) -> u64 {
    conn.query_first(format!("SELECT COUNT(*) FROM `{db}`.t"))
        .await
        .unwrap()
        .unwrap()
}

#[tokio::test]
async fn batches_flush_by_size_across_rounds_then_by_time() {
    let Some(url) = url() else { return };
    let db = "ab_it_flush";
    let mut conn = reset_db(&url, db).await;
    let schema = kv_schema(db, "t");
    let task = format!("ab-it-flush-{}", std::process::id());

    // By size: rounds of 4 rows stay buffered (an hour-long interval never fires) until a
    // buffer holds 10 rows; then everything is written and the last round's checkpoint
    // committed.
    let mut o = options(&url, &task);
    o.batch_rows = 10;
    o.flush_interval = Duration::from_secs(3600);
    let sink = AdbSink::new(o).unwrap();
    sink.apply_schema(&schema).await.unwrap();
    let round = |from: i64, offset: u64| {
        let changes = (from..from + 4)
            .map(|i| row(&schema, RowOp::Insert, None, Some(kv(i, "s"))))
            .collect();
        txn(changes, offset)
    };
    sink.apply(&[round(0, 1)], &checkpoint(2)).await.unwrap();
    sink.apply(&[round(4, 3)], &checkpoint(4)).await.unwrap();
    assert_eq!(count(&mut conn, db).await, 0, "8 rows stay buffered");
    assert_eq!(stored_offset(&mut conn, &task).await, None);
    assert_eq!(sink.stats().commits_by_size, 0);
    // The third round fills the buffer at 10 rows: written, the rest of the round too, and
    // checkpoint(6) committed.
    sink.apply(&[round(8, 5)], &checkpoint(6)).await.unwrap();
    assert_eq!(count(&mut conn, db).await, 12);
    assert_eq!(stored_offset(&mut conn, &task).await, Some(6));
    let s = sink.stats();
    assert_eq!((s.commits_by_size, s.commits_by_time), (1, 0), "{s:?}");
    // An explicit flush writes a buffered round and commits its checkpoint.
    sink.apply(&[round(12, 7)], &checkpoint(8)).await.unwrap();
    assert_eq!(stored_offset(&mut conn, &task).await, Some(6));
    sink.flush().await.unwrap();
    assert_eq!(count(&mut conn, db).await, 16);
    assert_eq!(stored_offset(&mut conn, &task).await, Some(8));
    drop(sink);

    // By time: a round below the size limit is written by the background timer once its
    // oldest change has waited the interval, with no further call.
    let mut o = options(&url, &task);
    o.batch_rows = 1_000;
    o.flush_interval = Duration::from_millis(300);
    let sink = AdbSink::new(o).unwrap();
    // Taken before the call, so it is no later than the buffering of the round.
    let applied = std::time::Instant::now();
    sink.apply(&[round(100, 9)], &checkpoint(10)).await.unwrap();
    let shared = tokio::sync::Mutex::new(conn);
    // Every 20 ms: the flush is timed against the interval.
    dts_testkit::try_eventually_every(
        Duration::from_millis(20),
        Duration::from_secs(30),
        "the flush by time (stored offset 10)",
        || async {
            match stored_offset(&mut *shared.lock().await, &task).await {
                Some(10) => Ok(()),
                other => Err(other),
            }
        },
    )
    .await
    .unwrap_or_else(|e| panic!("{e}"));
    let mut conn = shared.into_inner();
    assert!(
        applied.elapsed() >= Duration::from_millis(300),
        "flushed before the interval passed"
    );
    assert_eq!(count(&mut conn, db).await, 20);
    let s = sink.stats();
    assert_eq!((s.commits_by_size, s.commits_by_time), (0, 1), "{s:?}");
    // A round arriving after the interval has passed flushes at once (by time) too.
    sink.apply(&[round(200, 11)], &checkpoint(12))
        .await
        .unwrap();
    // Deliberately lets time pass, not a synchronization: the flush interval passes before the next
    // round
    // arrives (the flush by time is under test).
    tokio::time::sleep(Duration::from_millis(350)).await;
    sink.apply(&[], &checkpoint(13)).await.unwrap();
    assert_eq!(count(&mut conn, db).await, 24);
    assert_eq!(stored_offset(&mut conn, &task).await, Some(13));
    // read_checkpoint writes what is buffered first, so a resume does not replay it.
    sink.apply(&[round(300, 14)], &checkpoint(15))
        .await
        .unwrap();
    assert_eq!(
        sink.read_checkpoint()
            .await
            .unwrap()
            .map(|c| c.position.offset),
        Some(15)
    );
    assert_eq!(count(&mut conn, db).await, 28);
}

#[tokio::test]
async fn failed_flush_drops_the_buffers_and_reports_to_the_next_call() {
    let Some(url) = url() else { return };
    let db = "ab_it_flush_fail";
    let mut conn = reset_db(&url, db).await;
    let schema = kv_schema(db, "t");
    let task = format!("ab-it-flush-fail-{}", std::process::id());
    let mut o = options(&url, &task);
    o.flush_interval = Duration::from_millis(100);
    let sink = AdbSink::new(o).unwrap();
    sink.apply_schema(&schema).await.unwrap();
    sink.apply(&[], &checkpoint(1)).await.unwrap();
    // The table disappears under the buffered round: the background flush fails.
    sink.apply(
        &[txn(
            vec![row(&schema, RowOp::Insert, None, Some(kv(1, "x")))],
            2,
        )],
        &checkpoint(3),
    )
    .await
    .unwrap();
    conn.query_drop(format!("DROP TABLE `{db}`.t"))
        .await
        .unwrap();
    // Deliberately lets time pass, not a synchronization: the flush interval passes, so the failure
    // is the
    // background flush's (the flush by time is under test).
    tokio::time::sleep(Duration::from_millis(600)).await;
    let err = sink.apply(&[], &checkpoint(4)).await.unwrap_err();
    assert!(err.to_string().contains("flush batch"), "{err}");
    // Nothing past the last good checkpoint was committed; the task replays from it.
    assert_eq!(stored_offset(&mut conn, &task).await, Some(1));
    assert_eq!(
        sink.read_checkpoint()
            .await
            .unwrap()
            .map(|c| c.position.offset),
        Some(1)
    );
}

#[tokio::test]
async fn stream_create_table_is_created_in_adb_dialect_at_its_first_row() {
    let Some(url) = url() else { return };
    let db = "ab_it_stream_create";
    let mut conn = reset_db(&url, db).await;
    let schema: SchemaRef = Arc::new(TableSchema {
        id: TableId::new(db, "t2"),
        columns: vec![
            col(
                "id",
                ColumnType::Integer {
                    bytes: 4,
                    unsigned: true,
                },
                false,
            ),
            col(
                "e",
                ColumnType::Enum {
                    members: vec!["small".into(), "large".into()],
                },
                true,
            ),
        ],
        primary_key: vec!["id".into()],
        unique_keys: vec![],
        indexes: vec![],
        create_sql: None,
        constraints: Default::default(),
    });
    let sink = AdbSink::new(options(&url, "ab-it-stream-create")).unwrap();
    // The source's statement, in MySQL's dialect: run verbatim it would make an ENUM column.
    let create = Ddl {
        database: Some(db.into()),
        statement: "CREATE TABLE t2 (id INT UNSIGNED PRIMARY KEY, e ENUM('small','large')) \
                    ENGINE=InnoDB"
            .into(),
        kind: DdlKind::CreateTable,
        tables: vec![schema.id.clone()],
        sql_mode: None,
    };
    sink.apply(
        &[
            txn(vec![Change::Ddl(create)], 1),
            txn(
                vec![row(
                    &schema,
                    RowOp::Insert,
                    None,
                    Some(vec![
                        Value::UInt(u64::from(u32::MAX)),
                        Value::Enum("large".into()),
                    ]),
                )],
                2,
            ),
        ],
        &checkpoint(3),
    )
    .await
    .unwrap();
    let types: Vec<(String, String)> = conn
        .query(format!(
            "SELECT column_name, column_type FROM information_schema.columns \
             WHERE table_schema = '{db}' AND table_name = 't2' ORDER BY ordinal_position"
        ))
        .await
        .unwrap();
    assert_eq!(
        types,
        vec![
            ("id".to_string(), "bigint(20)".to_string()),
            ("e".to_string(), "varchar(5)".to_string())
        ]
    );
    let rows: Vec<(u64, String)> = conn
        .query(format!("SELECT id, e FROM `{db}`.t2"))
        .await
        .unwrap();
    assert_eq!(rows, vec![(u64::from(u32::MAX), "large".to_string())]);
    // Dropped and created again by the stream: created anew at its next row.
    let drop = Ddl {
        database: Some(db.into()),
        statement: "DROP TABLE t2".into(),
        kind: DdlKind::DropTable,
        tables: vec![schema.id.clone()],
        sql_mode: None,
    };
    sink.apply(
        &[
            txn(vec![Change::Ddl(drop)], 4),
            txn(
                vec![row(
                    &schema,
                    RowOp::Insert,
                    None,
                    Some(vec![Value::UInt(7), Value::Enum("small".into())]),
                )],
                5,
            ),
        ],
        &checkpoint(6),
    )
    .await
    .unwrap();
    let rows: Vec<(u64, String)> = conn
        .query(format!("SELECT id, e FROM `{db}`.t2"))
        .await
        .unwrap();
    assert_eq!(rows, vec![(7, "small".to_string())]);
}

#[tokio::test]
async fn table_clauses_are_checked_at_precheck_and_schema_sync() {
    let Some(url) = url() else { return };
    let db = "ab_it_clauses";
    let mut conn = reset_db(&url, db).await;
    let schema = kv_schema(db, "t");
    let mut o = options(&url, "ab-it-clauses");
    // `v` is not in the primary key: ADB cannot partition by it.
    o.tables.insert(
        schema.id.clone(),
        dts_adb::TableClauses {
            partition: Some(dts_adb::Partition {
                column: "v".into(),
                format: None,
                lifecycle: 3,
            }),
            clustered_key: vec![],
        },
    );
    o.tables
        .insert(TableId::new(db, "ghost"), dts_adb::TableClauses::default());
    let sink = AdbSink::new(o).unwrap();
    let report = sink
        .precheck(
            &[(*schema).clone()],
            dts_core::ConflictingTables::PrecheckAndReportErrors,
        )
        .await;
    let check = report.get("destination.table_options").unwrap();
    assert_eq!(check.level, dts_core::CheckLevel::Error, "{report}");
    assert!(
        check.message.contains("`v`") && check.message.contains("primary key"),
        "{report}"
    );
    assert!(check.message.contains("ghost"), "{report}");
    assert!(!report.passes(&[]));
    let err = sink.apply_schema(&schema).await.unwrap_err();
    assert!(matches!(err, Error::Schema { .. }), "{err}");
    let n: Option<u64> = conn
        .query_first(format!(
            "SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = '{db}'"
        ))
        .await
        .unwrap();
    assert_eq!(
        n,
        Some(0),
        "no table is created with a clause that does not fit"
    );

    // Clauses that fit: the compat table is created (the clauses themselves are ADB-only).
    let mut o = options(&url, "ab-it-clauses");
    o.tables.insert(
        schema.id.clone(),
        dts_adb::TableClauses {
            partition: Some(dts_adb::Partition {
                column: "id".into(),
                format: None,
                lifecycle: 3,
            }),
            clustered_key: vec!["v".into()],
        },
    );
    let sink = AdbSink::new(o).unwrap();
    let report = sink
        .precheck(
            &[(*schema).clone()],
            dts_core::ConflictingTables::PrecheckAndReportErrors,
        )
        .await;
    assert!(report.passes(&[]), "{report}");
    sink.apply_schema(&schema).await.unwrap();
    assert!(kv_rows(&mut conn, &format!("SELECT id, v FROM `{db}`.t"))
        .await
        .is_empty());
}

#[tokio::test]
async fn selected_sequences_are_refused_at_precheck() {
    let Some(url) = url() else { return };
    let db = "ab_it_sequences";
    let _conn = reset_db(&url, db).await;
    let mut sequence = (*kv_schema(db, "seq")).clone();
    sequence.create_sql =
        Some("CREATE TABLE `seq` (\n  `next_not_cached_value` bigint(21) NOT NULL\n) ENGINE=InnoDB SEQUENCE=1".into());
    let sink = AdbSink::new(options(&url, "ab-it-sequences")).unwrap();
    let report = sink
        .precheck(
            &[(*kv_schema(db, "t")).clone(), sequence],
            dts_core::ConflictingTables::PrecheckAndReportErrors,
        )
        .await;
    let check = report.get("destination.sequences").unwrap();
    assert_eq!(check.level, dts_core::CheckLevel::Error, "{report}");
    assert!(
        check.message.contains("ab_it_sequences") && check.message.contains("seq"),
        "{report}"
    );
    assert!(
        !check.message.contains(".t,") && !check.message.ends_with(".t"),
        "only the sequence is named: {report}"
    );
}
