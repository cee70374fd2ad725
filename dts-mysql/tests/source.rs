//! The MySQL source against the real source server: type fidelity between snapshot and binlog,
//! stream resume by position and GTID, DDL mid-stream, chunked snapshot resume, consistent reads
//! of key-less tables, and purged binlogs.

mod common;

use bytes::Bytes;
use common::*;
use dts_core::{Change, ChunkRequest, Error, Position, RowOp, Source, Time, Timestamp, Value};
use dts_mysql::{MysqlSource, SourceOptions};
use futures::StreamExt;
use mysql_async::prelude::Queryable;
use std::collections::BTreeSet;

async fn source_for(db: &str) -> MysqlSource {
    reader(source(), db).await
}

#[tokio::test]
async fn snapshot_and_binlog_values_are_identical_and_exact() {
    let db = unique_name("dts_types");
    let ep = source();
    let mut c = conn(&ep).await;
    exec_all(
        &mut c,
        &[
            &format!("CREATE DATABASE `{db}`"),
            &format!("USE `{db}`"),
            TYPES_TABLE,
        ],
    )
    .await;
    let src = source_for(&db).await;
    let start = src.current_position().await.unwrap();
    let mut stream = src.stream(start).await.unwrap();
    exec_all(
        &mut c,
        &[
            EXTREME_ROW,
            "INSERT INTO t (id) VALUES (2)",
            "INSERT INTO t (id, vc, bn, yr, tm) VALUES (3, '', x'', 2155, '00:00:00.5')",
        ],
    )
    .await;

    let txns = collect_until(&mut stream, &db, |t| rows(t).len() >= 3).await;
    let binlog: Vec<_> = rows(&txns)
        .iter()
        .map(|r| {
            assert_eq!(r.op, RowOp::Insert);
            r.after.clone().unwrap()
        })
        .collect();

    let schema = src
        .discover()
        .await
        .unwrap()
        .into_iter()
        .find(|s| s.id.table == "t")
        .unwrap();
    let chunk = src
        .read_chunk(&ChunkRequest {
            schema: schema.clone(),
            key_columns: vec!["id".into()],
            after: None,
            limit: 100,
            condition: None,
            columns: None,
        })
        .await
        .unwrap();
    assert_eq!(chunk.rows.len(), 3);
    for (i, (a, b)) in chunk.rows.iter().zip(&binlog).enumerate() {
        for (col, (x, y)) in schema.columns.iter().zip(a.iter().zip(b)) {
            assert_eq!(x, y, "row {i} column {}: snapshot vs binlog", col.name);
        }
    }

    let row = &chunk.rows[0];
    let v = |name: &str| row[schema.column_index(name).unwrap()].clone();
    assert_eq!(v("ti"), Value::Int(-128));
    assert_eq!(v("tiu"), Value::UInt(255));
    assert_eq!(v("mi"), Value::Int(-8_388_608));
    assert_eq!(v("miu"), Value::UInt(16_777_215));
    assert_eq!(v("iu"), Value::UInt(4_294_967_295));
    assert_eq!(v("bi"), Value::Int(i64::MIN));
    assert_eq!(v("biu"), Value::UInt(u64::MAX));
    assert_eq!(v("f"), Value::Float(1.5));
    assert_eq!(v("d"), Value::Double(-1.797_693_134_862_315_7e308));
    assert_eq!(
        v("dec1"),
        Value::Decimal(
            "-99999999999999999999999999999999999.999999999999999999999999999999".into()
        )
    );
    assert_eq!(v("dec2"), Value::Decimal("-12345678.90".into()));
    assert_eq!(v("b1"), Value::Bit(1));
    assert_eq!(v("b64"), Value::Bit(u64::MAX));
    assert_eq!(v("c"), Value::Text("ab".into()));
    assert_eq!(v("vc"), Value::Text("emoji 😀 ok".into()));
    assert_eq!(v("l1"), Value::Text("café".into()));
    assert_eq!(v("bn"), Value::Bytes(Bytes::from_static(&[1, 0, 0, 0])));
    assert_eq!(v("vb"), Value::Bytes(Bytes::from_static(&[0, 255, 0])));
    assert_eq!(v("bl"), Value::Bytes(Bytes::from_static(&[0, 1, 2])));
    assert_eq!(v("dt"), Value::Date(dts_core::Date::ZERO));
    assert_eq!(
        v("tm"),
        Value::Time(Time {
            negative: true,
            hours: 838,
            minutes: 59,
            seconds: 59,
            micros: 0
        })
    );
    assert_eq!(
        v("tm6"),
        Value::Time(Time {
            negative: false,
            hours: 838,
            minutes: 59,
            seconds: 59,
            micros: 999_999
        })
    );
    match v("dtm6") {
        Value::DateTime(dt) => assert_eq!(dt.to_string(), "9999-12-31 23:59:59.999999"),
        other => panic!("dtm6: {other:?}"),
    }
    match v("dtm") {
        Value::DateTime(dt) => assert_eq!(dt.to_string(), "0000-00-00 00:00:00"),
        other => panic!("dtm: {other:?}"),
    }
    assert_eq!(
        v("ts"),
        Value::Timestamp(Timestamp {
            seconds: 2_147_483_647,
            micros: 999_999
        })
    );
    assert_eq!(v("yr"), Value::Year(0));
    assert_eq!(v("e"), Value::Enum("c".into()));
    assert_eq!(v("s"), Value::Set(vec!["x".into(), "z".into()]));
    assert_eq!(
        v("j"),
        Value::Json("{\"k\": \"ünï\", \"n\": [1, 2.5, null]}".into())
    );
    match v("g") {
        Value::Geometry(b) => assert_eq!(b.len(), 4 + 21, "SRID + WKB point"),
        other => panic!("g: {other:?}"),
    }
    // Row 2: all NULL but the key.
    assert!(chunk.rows[1][1..].iter().all(Value::is_null));
    // Row 3: empty values and bounds.
    let r3 = &chunk.rows[2];
    assert_eq!(
        r3[schema.column_index("vc").unwrap()],
        Value::Text(String::new())
    );
    assert_eq!(
        r3[schema.column_index("bn").unwrap()],
        Value::Bytes(Bytes::from_static(&[0, 0, 0, 0]))
    );
    assert_eq!(r3[schema.column_index("yr").unwrap()], Value::Year(2155));
    exec_all(&mut c, &[&format!("DROP DATABASE `{db}`")]).await;
}

#[tokio::test]
async fn stream_resumes_from_position_and_from_gtid() {
    let db = unique_name("dts_resume");
    let ep = source();
    let mut c = conn(&ep).await;
    exec_all(
        &mut c,
        &[
            &format!("CREATE DATABASE `{db}`"),
            &format!("USE `{db}`"),
            "CREATE TABLE t (id INT PRIMARY KEY, v VARCHAR(10))",
        ],
    )
    .await;
    let src = source_for(&db).await;
    let start = src.current_position().await.unwrap();
    assert!(
        start.gtid_set.is_some(),
        "MariaDB always reports a GTID position"
    );
    let mut stream = src.stream(start.clone()).await.unwrap();
    for i in 1..=3 {
        exec_all(&mut c, &[&format!("INSERT INTO t VALUES ({i}, 'v{i}')")]).await;
    }
    let txns = collect_until(&mut stream, &db, |t| t.len() >= 3).await;
    drop(stream);
    let ids = |t: &dts_core::Transaction| -> Vec<Value> {
        rows(std::slice::from_ref(t))
            .iter()
            .map(|r| r.after.as_ref().unwrap()[0].clone())
            .collect()
    };
    assert_eq!(ids(&txns[0]), vec![Value::Int(1)]);
    assert!(txns[0].gtid.is_some());
    assert!(txns[0].end.coordinates_cmp(&txns[1].begin).is_le());

    // Resume after the first transaction by file/offset: the second comes next.
    let mut s = src.stream(txns[0].end.clone()).await.unwrap();
    let again = collect_until(&mut s, &db, |t| !t.is_empty()).await;
    assert_eq!(ids(&again[0]), vec![Value::Int(2)]);
    assert_eq!(again[0].gtid, txns[1].gtid);
    drop(s);

    // Resume by GTID alone (no file): the same.
    let by_gtid = Position {
        file: String::new(),
        offset: 0,
        gtid_set: txns[0].end.gtid_set.clone(),
    };
    let mut s = src.stream(by_gtid).await.unwrap();
    let again = collect_until(&mut s, &db, |t| !t.is_empty()).await;
    assert_eq!(ids(&again[0]), vec![Value::Int(2)]);
    assert_eq!(
        again[0].end, txns[1].end,
        "positions agree whichever way we resumed"
    );
    exec_all(&mut c, &[&format!("DROP DATABASE `{db}`")]).await;
}

#[tokio::test]
async fn ddl_mid_stream_decodes_rows_before_and_after() {
    let db = unique_name("dts_ddl");
    let ep = source();
    let mut c = conn(&ep).await;
    exec_all(
        &mut c,
        &[
            &format!("CREATE DATABASE `{db}`"),
            &format!("USE `{db}`"),
            "CREATE TABLE t (id INT PRIMARY KEY, a VARCHAR(10))",
        ],
    )
    .await;
    let src = source_for(&db).await;
    let start = src.current_position().await.unwrap();
    // Everything happens before the stream is read: the reader catches up through schema
    // changes it learns about only from the binlog.
    exec_all(
        &mut c,
        &[
            "INSERT INTO t VALUES (1, 'one')",
            "ALTER TABLE t ADD COLUMN b INT UNSIGNED",
            "INSERT INTO t VALUES (2, 'two', 4000000000)",
            "ALTER TABLE t MODIFY COLUMN a VARCHAR(20) CHARACTER SET latin1",
            "INSERT INTO t VALUES (3, 'thrée', 3)",
            "ALTER TABLE t DROP COLUMN b",
            "INSERT INTO t VALUES (4, 'four')",
            "RENAME TABLE t TO t2",
            "INSERT INTO t2 VALUES (5, 'five')",
        ],
    )
    .await;
    let mut stream = src.stream(start).await.unwrap();
    let txns = collect_until(&mut stream, &db, |t| rows(t).len() >= 5).await;
    let mut seen = Vec::new();
    for t in &txns {
        for ch in &t.changes {
            match ch {
                Change::Ddl(d) => seen.push(format!("ddl:{:?}", d.kind)),
                Change::Derived(d) => panic!("a source yields no derived change: {d}"),
                Change::Row(r) => seen.push(format!(
                    "{}:{:?}",
                    r.table().table,
                    r.after.as_ref().unwrap()
                )),
            }
        }
    }
    let expected = vec![
        r#"t:[Int(1), Text("one")]"#.to_string(),
        "ddl:AlterTable".into(),
        r#"t:[Int(2), Text("two"), UInt(4000000000)]"#.into(),
        "ddl:AlterTable".into(),
        r#"t:[Int(3), Text("thrée"), UInt(3)]"#.into(),
        "ddl:AlterTable".into(),
        r#"t:[Int(4), Text("four")]"#.into(),
        "ddl:RenameTable".into(),
        r#"t2:[Int(5), Text("five")]"#.into(),
    ];
    assert_eq!(seen, expected);
    exec_all(&mut c, &[&format!("DROP DATABASE `{db}`")]).await;
}

#[tokio::test]
async fn chunked_snapshot_resumes_without_rereading_or_skipping() {
    let db = unique_name("dts_chunks");
    let ep = source();
    let mut c = conn(&ep).await;
    exec_all(
        &mut c,
        &[
            &format!("CREATE DATABASE `{db}`"),
            &format!("USE `{db}`"),
            "CREATE TABLE t (a INT, b VARCHAR(8), v INT, PRIMARY KEY (a, b))",
            "INSERT INTO t SELECT seq DIV 7, CONCAT('k', seq MOD 7), seq FROM seq_0_to_999",
        ],
    )
    .await;
    let src = source_for(&db).await;
    let schema = src.discover().await.unwrap().remove(0);
    let keys = vec!["a".to_string(), "b".to_string()];
    let mut request = ChunkRequest {
        schema: schema.clone(),
        key_columns: keys.clone(),
        after: None,
        limit: 64,
        condition: None,
        columns: None,
    };
    let mut seen = Vec::new();
    // Read three chunks, then "crash": only the cursor survives.
    for _ in 0..3 {
        let chunk = src.read_chunk(&request).await.unwrap();
        seen.extend(chunk.rows.iter().map(|r| r[2].clone()));
        request.after = chunk.last_key.clone();
    }
    let saved = request.after.clone();
    drop(src);
    let src = source_for(&db).await;
    let mut request = ChunkRequest {
        after: saved,
        ..request
    };
    loop {
        let chunk = src.read_chunk(&request).await.unwrap();
        let last = chunk.is_last(request.limit);
        seen.extend(chunk.rows.iter().map(|r| r[2].clone()));
        request.after = chunk.last_key.clone();
        if last {
            break;
        }
    }
    assert_eq!(seen.len(), 1000, "every row exactly once");
    let distinct: BTreeSet<String> = seen.iter().map(|v| format!("{v:?}")).collect();
    assert_eq!(distinct.len(), 1000, "no row read twice");

    // A pushed-down condition narrows the read.
    let filtered = src
        .read_chunk(&ChunkRequest {
            schema,
            key_columns: keys,
            after: None,
            limit: 10_000,
            condition: Some("`v` < 10".into()),
            columns: None,
        })
        .await
        .unwrap();
    assert_eq!(filtered.rows.len(), 10);

    // A pushed-down column subset: only the key is read; other positions hold NULL.
    let keys_only = src
        .read_chunk(&ChunkRequest {
            schema: src.discover().await.unwrap().remove(0),
            key_columns: vec!["a".into(), "b".into()],
            after: None,
            limit: 5,
            condition: None,
            columns: Some(vec![]),
        })
        .await
        .unwrap();
    assert_eq!(keys_only.rows.len(), 5);
    assert!(keys_only
        .rows
        .iter()
        .all(|r| !r[0].is_null() && r[2].is_null()));
    exec_all(&mut c, &[&format!("DROP DATABASE `{db}`")]).await;
}

#[tokio::test]
async fn consistent_read_of_keyless_table_matches_its_position() {
    let db = unique_name("dts_keyless");
    let ep = source();
    let mut c = conn(&ep).await;
    exec_all(
        &mut c,
        &[
            &format!("CREATE DATABASE `{db}`"),
            &format!("USE `{db}`"),
            "CREATE TABLE t (v INT, w VARCHAR(5))",
            "INSERT INTO t SELECT seq, 'x' FROM seq_1_to_500",
        ],
    )
    .await;
    let src = source_for(&db).await;
    let schema = src.discover().await.unwrap().remove(0);
    assert!(schema.identity_columns().is_none());
    let mut read = src.read_consistent(schema, None, None, 100).await.unwrap();
    // Committed after the snapshot started: not in the read, but in the stream from its position.
    exec_all(&mut c, &["INSERT INTO t VALUES (501, 'late')"]).await;
    let mut total = 0;
    while let Some(batch) = read.rows.next().await {
        let batch = batch.unwrap();
        assert!(batch.len() <= 100);
        total += batch.len();
    }
    assert_eq!(total, 500);
    let mut stream = src.stream(read.position.clone()).await.unwrap();
    let txns = collect_until(&mut stream, &db, |t| !rows(t).is_empty()).await;
    let first = rows(&txns)[0];
    assert_eq!(first.after.as_ref().unwrap()[0], Value::Int(501));
    exec_all(&mut c, &[&format!("DROP DATABASE `{db}`")]).await;
}

#[tokio::test]
async fn missing_binlog_file_is_a_definite_error_naming_it() {
    let src = MysqlSource::connect(source(), SourceOptions::default())
        .await
        .unwrap();
    let mut pos = src.current_position().await.unwrap();
    pos.file = "source-bin.999999".into();
    let err = src.stream(pos).await.err().expect("must fail");
    assert!(matches!(err, Error::BinlogPurged { .. }), "{err:?}");
    assert!(err.to_string().contains("source-bin.999999"), "{err}");
    assert!(!err.is_retryable());
}

#[tokio::test]
async fn purged_binlog_is_reported_not_hung() {
    // Uses the spare server: purging the source's logs would disturb concurrent tests. A
    // binlog a client is still reading is not purged, so wait until no other process streams
    // from the peer (those that restart it hold the same lock).
    let _peer = peer_file_lock().await;
    let ep = peer();
    let c = tokio::sync::Mutex::new(conn(&ep).await);
    dts_testkit::eventually(
        std::time::Duration::from_secs(30),
        "no binlog reader connected to the peer",
        || async {
            let readers: Vec<u64> = c
                .lock()
                .await
                .query(
                    "SELECT ID FROM information_schema.PROCESSLIST \
                     WHERE COMMAND LIKE 'Binlog Dump%'",
                )
                .await
                .unwrap();
            if readers.is_empty() {
                Ok(())
            } else {
                Err(readers)
            }
        },
    )
    .await;
    let mut c = c.into_inner();
    let src = MysqlSource::connect(ep.clone(), SourceOptions::default())
        .await
        .unwrap();
    let old = src.current_position().await.unwrap();
    exec_all(&mut c, &["FLUSH BINARY LOGS"]).await;
    let now = src.current_position().await.unwrap();
    assert_ne!(old.file, now.file);
    exec_all(&mut c, &[&format!("PURGE BINARY LOGS TO '{}'", now.file)]).await;
    let err = src.stream(old.clone()).await.err().expect("must fail");
    match &err {
        Error::BinlogPurged { file, .. } => assert_eq!(file, &old.file),
        other => panic!("expected BinlogPurged, got {other:?}"),
    }
}

/// The key-less consistent read decodes every type family as the keyed chunk read does (it
/// once read with the text protocol, which the decoder refused for FLOAT, DOUBLE and temporal
/// values: `unexpected Bytes("0") for type float`).
#[tokio::test]
async fn consistent_read_of_keyless_table_decodes_every_type_as_the_chunk_read() {
    let db = unique_name("dts_keyless_types");
    let ep = source();
    let mut c = conn(&ep).await;
    let keyed = TYPES_TABLE.replacen("CREATE TABLE t (", "CREATE TABLE k (", 1);
    let keyless = TYPES_TABLE.replacen("id INT PRIMARY KEY", "id INT", 1);
    exec_all(
        &mut c,
        &[
            &format!("CREATE DATABASE `{db}`"),
            &format!("USE `{db}`"),
            &keyed,
            &keyless,
            EXTREME_ROW,
            "INSERT INTO t (id) VALUES (2)",
            "INSERT INTO t (id, f, d, dt, tm, dtm, ts, yr) VALUES (3, 0, 0, '2024-02-29', '00:00:00.5', '1000-01-01 00:00:00', '1970-01-01 00:00:01', 1901)",
            "INSERT INTO k SELECT * FROM t",
        ],
    )
    .await;
    let src = source_for(&db).await;
    let schemas = src.discover().await.unwrap();
    let schema_of = |name: &str| schemas.iter().find(|s| s.id.table == name).unwrap().clone();
    let chunk = src
        .read_chunk(&ChunkRequest {
            schema: schema_of("k"),
            key_columns: vec!["id".into()],
            after: None,
            limit: 100,
            condition: None,
            columns: None,
        })
        .await
        .unwrap();
    let schema = schema_of("t");
    assert!(schema.identity_columns().is_none());
    let mut read = src
        .read_consistent(schema.clone(), None, None, 100)
        .await
        .unwrap();
    let mut consistent = Vec::new();
    while let Some(batch) = read.rows.next().await {
        consistent.extend(batch.unwrap());
    }
    consistent.sort_by(|a, b| format!("{:?}", a[0]).cmp(&format!("{:?}", b[0])));
    assert_eq!(consistent.len(), chunk.rows.len());
    for (i, (a, b)) in consistent.iter().zip(&chunk.rows).enumerate() {
        for (col, (x, y)) in schema.columns.iter().zip(a.iter().zip(b)) {
            assert_eq!(
                x, y,
                "row {i} column {}: consistent read vs chunk read",
                col.name
            );
        }
    }
    exec_all(&mut c, &[&format!("DROP DATABASE `{db}`")]).await;
}
