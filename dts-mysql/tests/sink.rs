//! The MySQL sink against the real destination server: schema creation fidelity, exact values,
//! full-sync write modes, parallel incremental apply from a real binlog, checkpoints through
//! crashes and replays, DDL replay, conflicts, precheck, and hostile identifiers.

mod common;

use common::*;
use dts_core::{
    Change, CheckLevel, Checkpoint, ChunkRequest, ConflictingTables, Ddl, DdlKind, Error,
    ExistingRows, Fragment, IgnorePolicy, OverwritePolicy, Position, Row, RowChange, RowOp,
    SchemaRef, Sink, Source, TableSchema, TaskFailedPolicy, Transaction, Value,
};
use dts_mysql::sink::precheck::{
    CHARSET, CONNECTIVITY, EXISTING_TABLES, PRIVILEGES, WRITE_PARALLELISM,
};
use dts_mysql::sink::{MysqlSink, SinkOptions};
use dts_mysql::MysqlEndpoint;
use mysql_async::prelude::Queryable;
use std::collections::BTreeMap;
use std::sync::Arc;

fn dest() -> MysqlEndpoint {
    endpoint("destination", "DTS_TEST_DEST_URL")
}

fn meta(db: &str) -> String {
    format!("{db}_meta")
}

async fn sink_for(db: &str, workers: usize) -> MysqlSink {
    MysqlSink::connect(
        dest(),
        SinkOptions {
            task_id: format!("task-{db}"),
            workers,
            checkpoint_database: meta(db),
            ..Default::default()
        },
    )
    .await
    .unwrap()
}

async fn schemas(ep: MysqlEndpoint, db: &str) -> BTreeMap<String, SchemaRef> {
    reader(ep, db)
        .await
        .discover()
        .await
        .unwrap()
        .into_iter()
        .map(|s| (s.id.table.clone(), s))
        .collect()
}

/// Every row of a table, ordered by its identity (or by every column).
async fn read_all(ep: MysqlEndpoint, schema: &SchemaRef) -> Vec<Row> {
    let keys: Vec<String> = schema
        .identity_columns()
        .map(|k| k.to_vec())
        .unwrap_or_else(|| schema.columns.iter().map(|c| c.name.clone()).collect());
    reader(ep, &schema.id.database)
        .await
        .read_chunk(&ChunkRequest {
            schema: schema.clone(),
            key_columns: keys,
            after: None,
            limit: 1_000_000,
            condition: None,
            columns: None,
        })
        .await
        .unwrap()
        .rows
}

async fn drop_dest(db: &str) {
    let mut c = conn(&dest()).await;
    let q = dts_mysql::wire::ident::quote_ident;
    exec_all(
        &mut c,
        &[
            &format!("DROP DATABASE IF EXISTS {}", q(db)),
            &format!("DROP DATABASE IF EXISTS {}", q(&meta(db))),
        ],
    )
    .await;
}

fn pos(offset: u64) -> Position {
    Position::new("dest-test-bin.000001", offset)
}

fn cp(offset: u64) -> Checkpoint {
    Checkpoint {
        position: pos(offset),
        last_gtid: Some(format!("0-1-{offset}")),
        commit_time_ms: offset,
        applied_in_transaction: 0,
    }
}

fn txn(offset: u64, changes: Vec<Change>) -> Transaction {
    Transaction {
        begin: pos(offset),
        end: pos(offset + 10),
        gtid: Some(format!("0-1-{offset}")),
        commit_time_ms: offset,
        changes,
        fragment: Fragment::WHOLE,
    }
}

fn change(s: &SchemaRef, op: RowOp, before: Option<Row>, after: Option<Row>) -> Change {
    Change::Row(RowChange {
        schema: s.clone(),
        op,
        before,
        after,
    })
}

fn ins(s: &SchemaRef, after: Row) -> Change {
    change(s, RowOp::Insert, None, Some(after))
}

fn upd(s: &SchemaRef, before: Row, after: Row) -> Change {
    change(s, RowOp::Update, Some(before), Some(after))
}

fn del(s: &SchemaRef, before: Row) -> Change {
    change(s, RowOp::Delete, Some(before), None)
}

fn ints(v: &[i64]) -> Row {
    v.iter().map(|i| Value::Int(*i)).collect()
}

const SHAPES_TABLE: &str = "CREATE TABLE `sh``apes` (
    id INT UNSIGNED NOT NULL AUTO_INCREMENT,
    `na me` VARCHAR(20) NOT NULL DEFAULT 'it''s \\\\ ok' COMMENT 'quo''te \\\\ back',
    l1 CHAR(3) CHARACTER SET latin1 COLLATE latin1_bin DEFAULT 'abc',
    d DECIMAL(10,2) NOT NULL DEFAULT -1.50,
    ts TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3) ON UPDATE CURRENT_TIMESTAMP(3),
    dt DATE DEFAULT '0000-00-00',
    e ENUM('a''b','c,d') DEFAULT 'c,d',
    bits BIT(5) DEFAULT b'10101',
    expr INT DEFAULT (1 + 1),
    gv VARCHAR(30) AS (CONCAT(`na me`, '!')) VIRTUAL,
    gs INT AS (CHAR_LENGTH(`na me`) * 2) STORED,
    j JSON,
    t TEXT,
    p POINT NOT NULL,
    PRIMARY KEY (id),
    UNIQUE KEY `u``k` (`na me`, d),
    KEY kt (t(10)),
    KEY kg (gs),
    FULLTEXT KEY ft (`na me`),
    SPATIAL KEY sp (p)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci COMMENT='shape''s table'";

async fn show_create(ep: &MysqlEndpoint, schema: &TableSchema) -> String {
    let mut c = conn(ep).await;
    let (_, sql): (String, String) = c
        .query_first(format!(
            "SHOW CREATE TABLE {}",
            dts_mysql::wire::ident::quote_table(&schema.id)
        ))
        .await
        .unwrap()
        .unwrap();
    // Drop the first line, which names the table.
    sql.split_once('\n').unwrap().1.to_string()
}

#[tokio::test]
async fn schema_and_extreme_values_round_trip_exactly() {
    let db = unique_name("dts_sink_types");
    let src_ep = source();
    let mut c = conn(&src_ep).await;
    exec_all(
        &mut c,
        &[
            &format!("CREATE DATABASE `{db}`"),
            &format!("USE `{db}`"),
            TYPES_TABLE,
            SHAPES_TABLE,
            EXTREME_ROW,
            "INSERT INTO t (id) VALUES (2)",
            "SET SESSION sql_mode = 'ALLOW_INVALID_DATES'",
            "INSERT INTO t (id, vc, bn, yr, tm, f, e, dt) \
             VALUES (3, '', x'', 2155, '00:00:00.5', -0.0, '', '2020-02-31')",
            "SET SESSION sql_mode = 'NO_AUTO_VALUE_ON_ZERO'",
            "INSERT INTO `sh``apes` (id, `na me`, j, t, p) \
             VALUES (0, 'zero', '[1, {\"a\": null}]', 'x', ST_GeomFromText('POINT(3 4)'))",
            "INSERT INTO `sh``apes` (id, `na me`, d, l1, bits, p) \
             VALUES (7, 'seven', 12345678.99, 'é', b'11111', ST_GeomFromText('POINT(-1 -2)'))",
        ],
    )
    .await;
    let src = schemas(src_ep.clone(), &db).await;
    let sink = sink_for(&db, 4).await;
    for s in src.values() {
        sink.apply_schema(s).await.unwrap();
        sink.apply_schema(s).await.unwrap(); // idempotent
    }
    let dst = schemas(dest(), &db).await;
    assert_eq!(dst.len(), 2);
    for (name, s) in &src {
        let d = &dst[name];
        let strip = |t: &TableSchema| TableSchema {
            create_sql: None,
            constraints: Default::default(),
            ..t.clone()
        };
        assert_eq!(strip(d), strip(s), "discovered schema of {name}");
    }
    for (name, s) in &src {
        let rows = read_all(src_ep.clone(), s).await;
        assert!(!rows.is_empty());
        sink.write_rows(s, rows.clone(), ExistingRows::Replace)
            .await
            .unwrap();
        assert_eq!(read_all(dest(), &dst[name]).await, rows, "table {name}");
        // Writing again in either mode changes nothing and duplicates nothing.
        sink.write_rows(s, rows.clone(), ExistingRows::Keep)
            .await
            .unwrap();
        sink.write_rows(s, rows.clone(), ExistingRows::Replace)
            .await
            .unwrap();
        let back = read_all(dest(), &dst[name]).await;
        for (r, (a, b)) in back.iter().zip(&rows).enumerate() {
            for (col, (x, y)) in s.columns.iter().zip(a.iter().zip(b)) {
                assert_eq!(x, y, "{name} row {r} column {}", col.name);
            }
        }
        assert_eq!(back.len(), rows.len());
        // With the rows in (AUTO_INCREMENT counters agree), the tables read back the same.
        assert_eq!(
            show_create(&dest(), &dst[name]).await,
            show_create(&src_ep, s).await,
            "SHOW CREATE TABLE of {name}"
        );
    }
    // Spot checks that the extremes really were extreme.
    let t = &dst["t"];
    let row = &read_all(dest(), t).await[0];
    let v = |n: &str| row[t.column_index(n).unwrap()].clone();
    assert_eq!(v("biu"), Value::UInt(u64::MAX));
    assert_eq!(v("b64"), Value::Bit(u64::MAX));
    assert_eq!(v("dt"), Value::Date(dts_core::Date::ZERO));
    match v("g") {
        Value::Geometry(b) => assert_eq!(&b[..4], &4326u32.to_le_bytes(), "SRID kept"),
        other => panic!("g: {other:?}"),
    }
    let shapes = &dst["sh`apes"];
    let ids: Vec<Value> = read_all(dest(), shapes)
        .await
        .iter()
        .map(|r| r[0].clone())
        .collect();
    assert_eq!(
        ids,
        vec![Value::UInt(0), Value::UInt(7)],
        "AUTO_INCREMENT 0 kept"
    );
    exec_all(&mut c, &[&format!("DROP DATABASE `{db}`")]).await;
    drop_dest(&db).await;
}

#[tokio::test]
async fn write_rows_keep_replace_reset_and_statement_splitting() {
    let db = unique_name("dts_sink_write");
    let mut c = conn(&dest()).await;
    exec_all(
        &mut c,
        &[
            &format!("CREATE DATABASE `{db}`"),
            &format!("USE `{db}`"),
            "CREATE TABLE u (id INT PRIMARY KEY, email VARCHAR(20) NOT NULL UNIQUE, v INT)",
            "CREATE TABLE k (id INT PRIMARY KEY, v INT)",
            "CREATE TABLE nk (v INT, w VARCHAR(200))",
        ],
    )
    .await;
    let s = schemas(dest(), &db).await;
    let sink = sink_for(&db, 3).await;
    let row = |id: i64, email: &str, v: i64| {
        vec![Value::Int(id), Value::Text(email.into()), Value::Int(v)]
    };
    let u = &s["u"];
    sink.write_rows(
        u,
        vec![row(1, "a", 1), row(2, "b", 2)],
        ExistingRows::Replace,
    )
    .await
    .unwrap();
    sink.write_rows(u, vec![row(1, "a", 10), row(3, "c", 3)], ExistingRows::Keep)
        .await
        .unwrap();
    assert_eq!(
        read_all(dest(), u).await,
        vec![row(1, "a", 1), row(2, "b", 2), row(3, "c", 3)],
        "Keep keeps existing rows"
    );
    // Replace on a table with another unique key: the row holding "b" gives way.
    sink.write_rows(u, vec![row(1, "b", 100)], ExistingRows::Replace)
        .await
        .unwrap();
    assert_eq!(
        read_all(dest(), u).await,
        vec![row(1, "b", 100), row(3, "c", 3)]
    );
    let k = &s["k"];
    sink.write_rows(k, vec![ints(&[1, 1])], ExistingRows::Replace)
        .await
        .unwrap();
    sink.write_rows(k, vec![ints(&[1, 2])], ExistingRows::Replace)
        .await
        .unwrap();
    assert_eq!(read_all(dest(), k).await, vec![ints(&[1, 2])]);

    // Key-less: plain inserts; reset_table empties it for a re-copy.
    let nk = &s["nk"];
    let nk_row = |v: i64| vec![Value::Int(v), Value::Text("w".repeat(150))];
    sink.write_rows(nk, vec![nk_row(1), nk_row(1)], ExistingRows::Replace)
        .await
        .unwrap();
    assert_eq!(read_all(dest(), nk).await.len(), 2);
    sink.reset_table(nk).await.unwrap();
    assert!(read_all(dest(), nk).await.is_empty());

    // Small limits: 1000 rows split by rows and by bytes, all written once.
    let small = MysqlSink::connect(
        dest(),
        SinkOptions {
            task_id: format!("small-{db}"),
            workers: 2,
            batch_rows: 7,
            batch_bytes: 2_000,
            checkpoint_database: meta(&db),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    let many: Vec<Row> = (0..1000).map(nk_row).collect();
    small
        .write_rows(nk, many.clone(), ExistingRows::Replace)
        .await
        .unwrap();
    let back = read_all(dest(), nk).await;
    assert_eq!(back, many);
    // A row of the wrong width is refused with the table named.
    let err = sink
        .write_rows(k, vec![ints(&[1])], ExistingRows::Keep)
        .await
        .unwrap_err();
    assert!(err.to_string().contains(&format!("{db}.k")), "{err}");
    drop_dest(&db).await;
}

/// Applies transactions in batches the way the runner does: the checkpoint of each batch is
/// the end of its last transaction.
async fn apply_in_batches(sink: &MysqlSink, txns: &[Transaction], size: usize, check: bool) {
    for batch in txns.chunks(size) {
        let last = batch.last().unwrap();
        let checkpoint = Checkpoint {
            position: last.end.clone(),
            last_gtid: last.gtid.clone(),
            commit_time_ms: last.commit_time_ms,
            applied_in_transaction: 0,
        };
        sink.apply(batch, &checkpoint).await.unwrap();
        if check {
            assert_eq!(sink.read_checkpoint().await.unwrap(), Some(checkpoint));
        }
    }
}

#[tokio::test]
async fn parallel_apply_of_a_real_binlog_reaches_the_source_state() {
    let db = unique_name("dts_sink_apply");
    let src_ep = source();
    let mut c = conn(&src_ep).await;
    exec_all(
        &mut c,
        &[
            &format!("CREATE DATABASE `{db}`"),
            &format!("USE `{db}`"),
            "CREATE TABLE a (id INT PRIMARY KEY, v VARCHAR(20), n INT)",
            "CREATE TABLE c (k1 INT, k2 VARCHAR(10) COLLATE utf8mb4_bin, v INT, PRIMARY KEY (k1, k2))",
            "CREATE TABLE u (id INT PRIMARY KEY, email VARCHAR(50) NOT NULL, UNIQUE KEY (email))",
            "CREATE TABLE s (code VARCHAR(20) PRIMARY KEY, v INT)",
            "CREATE TABLE nk (v INT, w VARCHAR(10))",
        ],
    )
    .await;
    let src = reader(src_ep.clone(), &db).await;
    let sink = sink_for(&db, 4).await;
    for s in src.discover().await.unwrap() {
        sink.apply_schema(&s).await.unwrap();
    }
    let start = src.current_position().await.unwrap();
    let mut stream = src.stream(start).await.unwrap();
    let workload = [
        "INSERT INTO a SELECT seq, CONCAT('v', seq), seq FROM seq_1_to_200",
        "UPDATE a SET n = n + 1000 WHERE id % 3 = 0",
        "DELETE FROM a WHERE id % 5 = 0",
        "UPDATE a SET id = id + 1000 WHERE id % 7 = 0",
        "INSERT INTO a VALUES (7, 'again', 1)",
        "UPDATE a SET id = id - 1000 WHERE id > 1000 AND id % 2 = 0",
        "START TRANSACTION",
        "UPDATE a SET v = 'in-txn' WHERE id < 20",
        "UPDATE a SET id = 5000 WHERE id = 1",
        "INSERT INTO a VALUES (1, 'reborn', 0)",
        "COMMIT",
        "INSERT INTO c SELECT seq DIV 10, CONCAT('k', seq MOD 10), seq FROM seq_0_to_99",
        "UPDATE c SET k2 = CONCAT(k2, 'x') WHERE v % 4 = 0",
        "DELETE FROM c WHERE v % 9 = 0",
        "INSERT INTO u VALUES (1, 'a@x'), (2, 'b@x'), (3, 'c@x')",
        "START TRANSACTION",
        "UPDATE u SET email = 'tmp' WHERE id = 1",
        "UPDATE u SET email = 'a@x' WHERE id = 2",
        "UPDATE u SET email = 'b@x' WHERE id = 1",
        "COMMIT",
        "UPDATE u SET id = 10 WHERE id = 3",
        "INSERT INTO s VALUES ('abc', 1), ('XyZ', 2), ('q', 3)",
        "UPDATE s SET code = 'ABC' WHERE code = 'abc'",
        "DELETE FROM s WHERE code = 'xyz'",
        "INSERT INTO s VALUES ('xyz', 4)",
        "INSERT INTO nk VALUES (1, 'a'), (1, 'a'), (2, 'b'), (NULL, NULL)",
        "DELETE FROM nk WHERE v = 1 LIMIT 1",
        "UPDATE nk SET w = 'c' WHERE v = 2",
        "UPDATE nk SET v = 3 WHERE v IS NULL",
        "INSERT INTO a VALUES (9999, 'last', 0)",
    ];
    exec_all(&mut c, &workload).await;
    let txns = collect_until(&mut stream, &db, last_insert_seen).await;
    drop(stream);
    assert!(txns.len() >= 15, "{} transactions", txns.len());
    apply_in_batches(&sink, &txns, 3, true).await;

    let dst = schemas(dest(), &db).await;
    for s in src.discover().await.unwrap() {
        let want = read_all(src_ep.clone(), &s).await;
        let mut got = read_all(dest(), &dst[&s.id.table]).await;
        let mut want = want;
        if s.identity_columns().is_none() {
            want.sort_by_key(|r| format!("{r:?}"));
            got.sort_by_key(|r| format!("{r:?}"));
        }
        assert_eq!(got, want, "table {}", s.id.table);
    }
    // Every worker row holds the final checkpoint.
    let rows = sink.worker_checkpoints().await.unwrap();
    assert_eq!(rows.len(), 4);
    let last = txns.last().unwrap();
    assert!(rows
        .iter()
        .all(|r| r.checkpoint.as_ref().unwrap().position == last.end && r.pending_ddl.is_none()));
    // Replaying everything is a no-op: same data, no duplicated key-less rows.
    apply_in_batches(&sink, &txns, 5, false).await;
    assert_eq!(
        sink.read_checkpoint().await.unwrap().unwrap().position,
        last.end,
        "a replay never moves the checkpoint back"
    );
    for s in src.discover().await.unwrap() {
        let mut want = read_all(src_ep.clone(), &s).await;
        let mut got = read_all(dest(), &dst[&s.id.table]).await;
        want.sort_by_key(|r| format!("{r:?}"));
        got.sort_by_key(|r| format!("{r:?}"));
        assert_eq!(got, want, "table {} after replay", s.id.table);
    }
    exec_all(&mut c, &[&format!("DROP DATABASE `{db}`")]).await;
    drop_dest(&db).await;
}

/// True once the workload's final insert (`a` id 9999) is among the transactions.
fn last_insert_seen(t: &[Transaction]) -> bool {
    rows(t).iter().any(|r| {
        r.table().table == "a"
            && r.op == RowOp::Insert
            && r.after.as_ref().map(|a| a[0] == Value::Int(9999)) == Some(true)
    })
}

#[tokio::test]
async fn crash_mid_batch_resumes_from_the_slowest_worker_without_duplicates() {
    let db = unique_name("dts_sink_crash");
    let mut c = conn(&dest()).await;
    exec_all(
        &mut c,
        &[
            &format!("CREATE DATABASE `{db}`"),
            &format!("USE `{db}`"),
            "CREATE TABLE k (id INT PRIMARY KEY, v INT)",
            "CREATE TABLE nk (v INT)",
            "CREATE TABLE gone (id INT PRIMARY KEY, v INT)",
        ],
    )
    .await;
    let s = schemas(dest(), &db).await;
    let (k, nk, gone) = (&s["k"], &s["nk"], &s["gone"]);
    exec_all(&mut c, &["DROP TABLE gone"]).await;
    let sink = sink_for(&db, 4).await;
    assert_eq!(sink.read_checkpoint().await.unwrap(), None, "fresh task");

    let t1 = txn(100, (1..=20).map(|i| ins(k, ints(&[i, i]))).collect());
    let t2 = txn(
        110,
        vec![
            ins(nk, ints(&[1])),
            ins(nk, ints(&[1])),
            ins(nk, ints(&[2])),
        ],
    );
    let t3 = txn(
        120,
        vec![
            upd(k, ints(&[1, 1]), ints(&[1, 100])),
            del(k, ints(&[2, 2])),
            upd(k, ints(&[3, 3]), ints(&[300, 3])),
        ],
    );
    // The destination lacks this table: the worker it routes to fails, the others commit.
    let t4 = txn(130, vec![ins(gone, ints(&[1, 1]))]);
    let batch = vec![t1, t2, t3, t4];
    let err = sink.apply(&batch, &cp(140)).await.unwrap_err();
    assert!(err.to_string().contains("gone"), "{err}");
    let resume = sink.read_checkpoint().await.unwrap().unwrap();
    assert_eq!(
        resume.position,
        pos(120),
        "the failing worker is still at the barrier's end"
    );
    let ahead = sink
        .worker_checkpoints()
        .await
        .unwrap()
        .iter()
        .filter(|r| r.checkpoint.as_ref().unwrap().position == pos(140))
        .count();
    assert_eq!(ahead, 3, "the other workers committed");

    // Fix the cause and resume as the runner does: transactions ending after the checkpoint.
    exec_all(&mut c, &["CREATE TABLE gone (id INT PRIMARY KEY, v INT)"]).await;
    let rest: Vec<Transaction> = batch
        .iter()
        .filter(|t| t.end.coordinates_cmp(&resume.position).is_gt())
        .cloned()
        .collect();
    assert_eq!(rest.len(), 2);
    sink.apply(&rest, &cp(140)).await.unwrap();
    let check = |label: &'static str| {
        let (k, nk, gone) = (k.clone(), nk.clone(), gone.clone());
        async move {
            let krows = read_all(dest(), &k).await;
            assert_eq!(krows.len(), 19, "{label}");
            assert_eq!(krows[0], ints(&[1, 100]), "{label}");
            assert!(krows.contains(&ints(&[300, 3])), "{label}");
            assert!(!krows.iter().any(|r| r[0] == Value::Int(2)), "{label}");
            assert_eq!(
                read_all(dest(), &nk).await,
                vec![ints(&[1]), ints(&[1]), ints(&[2])],
                "{label}: key-less rows exactly once"
            );
            assert_eq!(
                read_all(dest(), &gone).await,
                vec![ints(&[1, 1])],
                "{label}"
            );
        }
    };
    check("after resume").await;
    assert_eq!(sink.read_checkpoint().await.unwrap(), Some(cp(140)));

    // The whole batch delivered again (a runner that did not skip): a no-op.
    sink.apply(&batch, &cp(140)).await.unwrap();
    check("after replay").await;

    // A large key-less transaction in fragments: the checkpoint sits inside it.
    let f1 = Transaction {
        end: pos(205),
        fragment: Fragment {
            first_change: 0,
            last: false,
        },
        ..txn(200, (0..3).map(|_| ins(nk, ints(&[7]))).collect())
    };
    let f2 = Transaction {
        end: pos(250),
        fragment: Fragment {
            first_change: 3,
            last: true,
        },
        ..txn(200, (0..2).map(|_| ins(nk, ints(&[8]))).collect())
    };
    let inside = Checkpoint {
        position: pos(200),
        applied_in_transaction: 3,
        ..cp(200)
    };
    sink.apply(std::slice::from_ref(&f1), &inside)
        .await
        .unwrap();
    assert_eq!(sink.read_checkpoint().await.unwrap(), Some(inside.clone()));
    sink.apply(std::slice::from_ref(&f1), &inside)
        .await
        .unwrap(); // replayed: no-op
    sink.apply(std::slice::from_ref(&f2), &cp(250))
        .await
        .unwrap();
    let sevens = read_all(dest(), nk)
        .await
        .iter()
        .filter(|r| r[0] == Value::Int(7) || r[0] == Value::Int(8))
        .count();
    assert_eq!(sevens, 5);
    // Heartbeat: an empty batch moves the checkpoint, never backwards.
    sink.apply(&[], &cp(300)).await.unwrap();
    assert_eq!(sink.read_checkpoint().await.unwrap(), Some(cp(300)));
    sink.apply(&[], &cp(290)).await.unwrap();
    assert_eq!(sink.read_checkpoint().await.unwrap(), Some(cp(300)));

    // Restarted with another worker count: every new row starts at the slowest old one.
    c.exec_drop(
        format!(
            "UPDATE `{}`.dts_checkpoint SET `offset` = 250 WHERE task_id = ? AND worker = 3",
            meta(&db)
        ),
        (format!("task-{db}"),),
    )
    .await
    .unwrap();
    drop(sink);
    for workers in [2, 6] {
        let again = sink_for(&db, workers).await;
        let rows = again.worker_checkpoints().await.unwrap();
        assert_eq!(rows.len(), workers);
        assert!(rows
            .iter()
            .all(|r| r.checkpoint.as_ref().unwrap().position == pos(250)));
    }
    drop_dest(&db).await;
}

#[tokio::test]
async fn ddl_replay_after_a_crash_is_tolerated_and_real_failures_are_not() {
    let db = unique_name("dts_sink_ddl");
    let mut c = conn(&dest()).await;
    exec_all(
        &mut c,
        &[
            &format!("CREATE DATABASE `{db}`"),
            &format!("USE `{db}`"),
            "CREATE TABLE t (id INT PRIMARY KEY)",
            "CREATE TABLE nk (v INT)",
        ],
    )
    .await;
    let s = schemas(dest(), &db).await;
    let nk = &s["nk"];
    let sink = sink_for(&db, 3).await;
    sink.apply(&[], &cp(490)).await.unwrap();
    let ddl = |stmt: &str, kind| {
        Change::Ddl(Ddl {
            database: Some(db.clone()),
            statement: stmt.to_string(),
            kind,
            tables: vec![],
            sql_mode: None,
        })
    };
    // Simulated crash: the DDL ran and its marker was written, but not the checkpoint after it.
    exec_all(&mut c, &["ALTER TABLE t ADD COLUMN c INT"]).await;
    c.exec_drop(
        format!(
            "UPDATE `{}`.dts_checkpoint SET pending_ddl = ? WHERE task_id = ?",
            meta(&db)
        ),
        (format!("{}:500", pos(500).file), format!("task-{db}")),
    )
    .await
    .unwrap();
    let d = txn(
        500,
        vec![ddl("ALTER TABLE t ADD COLUMN c INT", DdlKind::AlterTable)],
    );
    // A DDL followed by rows in one transaction, with a key-less row before it.
    let d2 = txn(
        520,
        vec![
            ins(nk, ints(&[1])),
            ddl("CREATE TABLE t2 (id INT PRIMARY KEY)", DdlKind::CreateTable),
            ins(nk, ints(&[2])),
        ],
    );
    sink.apply(&[d, d2.clone()], &cp(530)).await.unwrap();
    assert_eq!(sink.read_checkpoint().await.unwrap(), Some(cp(530)));
    let rows = sink.worker_checkpoints().await.unwrap();
    assert!(rows.iter().all(|r| r.pending_ddl.is_none()), "{rows:?}");
    assert_eq!(read_all(dest(), nk).await, vec![ints(&[1]), ints(&[2])]);

    // Crash between the CREATE TABLE and the rows after it: replaying the transaction applies
    // neither the row before the DDL again nor the DDL, but the row after it.
    exec_all(&mut c, &["DELETE FROM nk WHERE v = 2"]).await;
    c.exec_drop(
        format!(
            "UPDATE `{}`.dts_checkpoint SET file = ?, `offset` = 520, pending_ddl = ? \
             WHERE task_id = ?",
            meta(&db)
        ),
        (
            pos(520).file,
            format!("{}:520#1", pos(520).file),
            format!("task-{db}"),
        ),
    )
    .await
    .unwrap();
    sink.apply(std::slice::from_ref(&d2), &cp(530))
        .await
        .unwrap();
    assert_eq!(read_all(dest(), nk).await, vec![ints(&[1]), ints(&[2])]);

    // Without a pending marker the same error is a real failure, named, and stays one.
    let again = txn(
        600,
        vec![ddl("ALTER TABLE t ADD COLUMN c INT", DdlKind::AlterTable)],
    );
    for attempt in 0..2 {
        let err = sink
            .apply(std::slice::from_ref(&again), &cp(610))
            .await
            .unwrap_err();
        let msg = err.to_string();
        assert!(
            msg.contains("ALTER TABLE t ADD COLUMN c INT") && msg.contains("Duplicate column"),
            "attempt {attempt}: {msg}"
        );
        assert_eq!(sink.read_checkpoint().await.unwrap(), Some(cp(530)));
        let rows = sink.worker_checkpoints().await.unwrap();
        assert!(rows
            .iter()
            .all(|r| r.pending_ddl.as_deref() == Some(&*format!("{}:600 failed", pos(600).file))));
    }
    // apply_ddl runs a statement in its database.
    sink.apply_ddl(&Ddl {
        database: Some(db.clone()),
        statement: "CREATE TABLE t3 (id INT)".into(),
        kind: DdlKind::CreateTable,
        tables: vec![],
        sql_mode: None,
    })
    .await
    .unwrap();
    assert!(schemas(dest(), &db).await.contains_key("t3"));
    drop_dest(&db).await;
}

#[tokio::test]
async fn conflict_policies_on_the_per_row_path() {
    let db = unique_name("dts_sink_conflict");
    let mut c = conn(&dest()).await;
    exec_all(
        &mut c,
        &[
            &format!("CREATE DATABASE `{db}`"),
            &format!("USE `{db}`"),
            "CREATE TABLE k (id INT PRIMARY KEY, v VARCHAR(10))",
            "INSERT INTO k VALUES (1, 'dest')",
        ],
    )
    .await;
    let k = schemas(dest(), &db).await["k"].clone();
    let row = |id: i64, v: &str| vec![Value::Int(id), Value::Text(v.into())];
    let with = |policy: Arc<dyn dts_core::ConflictPolicy>, task: &str| {
        let db = db.clone();
        let task = task.to_string();
        async move {
            MysqlSink::connect(
                dest(),
                SinkOptions {
                    task_id: task,
                    workers: 2,
                    checkpoint_database: meta(&db),
                    conflict_policy: Some(policy),
                    ..Default::default()
                },
            )
            .await
            .unwrap()
        }
    };
    let failing = with(Arc::new(TaskFailedPolicy), "fail").await;
    let err = failing
        .apply(&[txn(100, vec![ins(&k, row(1, "src"))])], &cp(110))
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Conflict { .. }), "{err:?}");
    let msg = err.to_string();
    assert!(
        msg.contains(&format!("{db}.k"))
            && msg.contains("id=")
            && msg.contains("dest")
            && msg.contains("src"),
        "{msg}"
    );

    let ignoring = with(Arc::new(IgnorePolicy), "ignore").await;
    let batch = vec![txn(
        100,
        vec![
            ins(&k, row(1, "src")),
            upd(&k, row(5, "old"), row(5, "new")),
            del(&k, row(6, "gone")),
            ins(&k, row(2, "two")),
        ],
    )];
    ignoring.apply(&batch, &cp(110)).await.unwrap();
    assert_eq!(
        read_all(dest(), &k).await,
        vec![row(1, "dest"), row(2, "two")]
    );

    let overwriting = with(Arc::new(OverwritePolicy), "overwrite").await;
    overwriting.apply(&batch, &cp(110)).await.unwrap();
    assert_eq!(
        read_all(dest(), &k).await,
        vec![row(1, "src"), row(2, "two"), row(5, "new")]
    );
    // A key-changing update onto an existing key: UpdateKeyCollision, overwritten.
    overwriting
        .apply(
            &[txn(200, vec![upd(&k, row(5, "new"), row(1, "moved"))])],
            &cp(210),
        )
        .await
        .unwrap();
    assert_eq!(
        read_all(dest(), &k).await,
        vec![row(1, "moved"), row(2, "two")]
    );
    drop_dest(&db).await;
}

/// The write-parallelism note names the AUTO_INCREMENT tables whose copy the destination's
/// AUTO-INC lock mode serializes, and never blocks.
#[tokio::test]
async fn precheck_says_when_auto_increment_tables_are_written_one_statement_at_a_time() {
    let db = unique_name("dts_sink_par");
    let mut c = conn(&dest()).await;
    exec_all(
        &mut c,
        &[
            &format!("CREATE DATABASE `{db}`"),
            &format!("USE `{db}`"),
            "CREATE TABLE `counted` (id INT AUTO_INCREMENT PRIMARY KEY, v INT)",
            "CREATE TABLE `keyed` (id INT PRIMARY KEY, v INT)",
        ],
    )
    .await;
    let s = schemas(dest(), &db).await;
    let (counted, keyed) = ((*s["counted"]).clone(), (*s["keyed"]).clone());
    // The copies are checked under other names: the tables need not exist there.
    let check = |ep: MysqlEndpoint, tables: Vec<dts_core::TableSchema>| async move {
        let report = dts_mysql::sink::precheck::check_destination(
            &ep,
            "dts_meta",
            &tables,
            ConflictingTables::IgnoreErrorsAndProceed,
        )
        .await;
        report.get(WRITE_PARALLELISM).cloned().expect("reported")
    };

    let serial = check(dest(), vec![counted.clone(), keyed.clone()]).await;
    assert_eq!(serial.level, CheckLevel::Pass, "{serial}");
    assert!(
        serial.message.contains("innodb_autoinc_lock_mode = 1")
            && serial.message.contains(&format!("`{db}`.`counted`"))
            && !serial.message.contains("`keyed`")
            && serial.message.contains("one session"),
        "{serial}"
    );
    let none = check(dest(), vec![keyed.clone()]).await;
    assert!(
        none.message.contains("no table has an AUTO_INCREMENT"),
        "{none}"
    );
    let interleaved = endpoint("interleaved", "DTS_TEST_INTERLEAVED_URL");
    let parallel = check(interleaved, vec![counted]).await;
    assert_eq!(parallel.level, CheckLevel::Pass, "{parallel}");
    assert!(
        parallel.message.contains("innodb_autoinc_lock_mode = 2")
            && parallel.message.contains("run in parallel"),
        "{parallel}"
    );
    drop_dest(&db).await;
}

#[tokio::test]
async fn precheck_reports_existing_tables_by_mode_privileges_and_charsets() {
    let db = unique_name("dts_sink_pre");
    let mut c = conn(&dest()).await;
    exec_all(
        &mut c,
        &[
            &format!("CREATE DATABASE `{db}`"),
            &format!("USE `{db}`"),
            "CREATE TABLE `exi``sts` (id INT PRIMARY KEY)",
            "CREATE TABLE fresh (id INT PRIMARY KEY, v VARCHAR(5))",
        ],
    )
    .await;
    let s = schemas(dest(), &db).await;
    let existing = (*s["exi`sts"]).clone();
    let mut fresh = (*s["fresh"]).clone();
    exec_all(&mut c, &["DROP TABLE fresh"]).await;
    let sink = sink_for(&db, 2).await;

    let report = sink
        .precheck(
            &[existing.clone(), fresh.clone()],
            ConflictingTables::PrecheckAndReportErrors,
        )
        .await;
    assert_eq!(report.get(CONNECTIVITY).unwrap().level, CheckLevel::Pass);
    assert_eq!(
        report.get(PRIVILEGES).unwrap().level,
        CheckLevel::Pass,
        "{report}"
    );
    assert_eq!(
        report.get(CHARSET).unwrap().level,
        CheckLevel::Pass,
        "{report}"
    );
    let ex = report.get(EXISTING_TABLES).unwrap();
    assert_eq!(ex.level, CheckLevel::Error);
    assert!(ex.message.contains(&format!("`{db}`.`exi``sts`")), "{ex}");
    assert!(!ex.message.contains("fresh"), "{ex}");

    let report = sink
        .precheck(
            &[existing.clone(), fresh.clone()],
            ConflictingTables::IgnoreErrorsAndProceed,
        )
        .await;
    let ex = report.get(EXISTING_TABLES).unwrap();
    assert_eq!(ex.level, CheckLevel::Warning);
    assert!(ex.message.contains("exi``sts"), "{ex}");

    let report = sink
        .precheck(&[fresh.clone()], ConflictingTables::PrecheckAndReportErrors)
        .await;
    assert_eq!(report.get(EXISTING_TABLES).unwrap().level, CheckLevel::Pass);

    // A collation the destination does not have.
    fresh.columns[1].collation = Some("utf8mb4_nosuch_ci".into());
    let report = sink
        .precheck(&[fresh.clone()], ConflictingTables::PrecheckAndReportErrors)
        .await;
    let cs = report.get(CHARSET).unwrap();
    assert_eq!(cs.level, CheckLevel::Warning);
    assert!(
        cs.message.contains("utf8mb4_nosuch_ci") && cs.message.contains("`v`"),
        "{cs}"
    );

    // An account without write privileges.
    let user = format!("dts_ro_{}", std::process::id());
    exec_all(
        &mut c,
        &[
            &format!("DROP USER IF EXISTS '{user}'@'%'"),
            &format!("CREATE USER '{user}'@'%' IDENTIFIED BY 'ro-secret'"),
            &format!("GRANT SELECT, INSERT ON `{db}`.* TO '{user}'@'%'"),
        ],
    )
    .await;
    let ro_ep = dest().with_user(user.clone(), Some("ro-secret".into()));
    let report = dts_mysql::sink::precheck::check_destination(
        &ro_ep,
        &meta(&db),
        &[fresh.clone()],
        ConflictingTables::PrecheckAndReportErrors,
    )
    .await;
    let p = report.get(PRIVILEGES).unwrap();
    assert_eq!(p.level, CheckLevel::Error, "{report}");
    assert!(
        p.message.contains("UPDATE") && p.message.contains(&format!("`{}`", meta(&db))),
        "{p}"
    );
    assert!(p.fix.starts_with("GRANT "), "{p}");
    assert!(!format!("{ro_ep:?}{report}").contains("ro-secret"));
    // A server nobody listens on.
    let nowhere = MysqlEndpoint::new("destination", "127.0.0.1", 1, "root", None);
    let report = dts_mysql::sink::precheck::check_destination(
        &nowhere,
        "x",
        &[],
        ConflictingTables::PrecheckAndReportErrors,
    )
    .await;
    assert_eq!(report.checks.len(), 1);
    assert_eq!(report.checks[0].level, CheckLevel::Error);
    exec_all(&mut c, &[&format!("DROP USER '{user}'@'%'")]).await;
    drop_dest(&db).await;
}

#[tokio::test]
async fn hostile_identifiers_round_trip() {
    let db = format!("dts_h`'\" .ü_{}", std::process::id() % 100_000);
    let db = format!("{db}{}", unique_name("").replace('_', ""));
    let db: String = db.chars().take(58).collect();
    drop_dest(&db).await;
    let table = "t`a'b\"c d.e_é";
    let mut c = conn(&dest()).await;
    let q = dts_mysql::wire::ident::quote_ident;
    exec_all(
        &mut c,
        &[
            &format!("CREATE DATABASE {}", q(&db)),
            &format!("USE {}", q(&db)),
            &format!(
                "CREATE TABLE {} ({} INT PRIMARY KEY, {} VARCHAR(20), KEY {} ({}))",
                q(table),
                q("i`d"),
                q("v a.l'\"ü"),
                q("k`ey"),
                q("v a.l'\"ü")
            ),
            &format!(
                "CREATE TABLE {} ({} INT, {} VARCHAR(20))",
                q("no key`"),
                q("x`"),
                q("y'")
            ),
        ],
    )
    .await;
    let s = schemas(dest(), &db).await;
    let (t, nk) = (s[table].clone(), s["no key`"].clone());
    // Recreate from the discovered schemas through the sink.
    exec_all(&mut c, &[&format!("DROP DATABASE {}", q(&db))]).await;
    let sink = sink_for(&db, 3).await;
    sink.apply_schema(&t).await.unwrap();
    sink.apply_schema(&nk).await.unwrap();
    let s2 = schemas(dest(), &db).await;
    let strip = |x: &TableSchema| TableSchema {
        create_sql: None,
        constraints: Default::default(),
        ..x.clone()
    };
    assert_eq!(strip(&s2[table]), strip(&t));
    assert_eq!(strip(&s2["no key`"]), strip(&nk));

    let row = |i: i64, v: &str| vec![Value::Int(i), Value::Text(v.into())];
    sink.write_rows(
        &t,
        vec![row(1, "a`'\""), row(2, "b")],
        ExistingRows::Replace,
    )
    .await
    .unwrap();
    sink.apply(
        &[
            txn(
                100,
                vec![
                    upd(&t, row(1, "a`'\""), row(10, "moved ü")),
                    del(&t, row(2, "b")),
                    ins(&t, row(3, "c")),
                    ins(&nk, row(1, "x")),
                    ins(&nk, row(1, "x")),
                ],
            ),
            txn(
                110,
                vec![del(&nk, row(1, "x")), upd(&nk, row(1, "x"), row(2, "y"))],
            ),
        ],
        &cp(120),
    )
    .await
    .unwrap();
    assert_eq!(
        read_all(dest(), &t).await,
        vec![row(3, "c"), row(10, "moved ü")]
    );
    assert_eq!(read_all(dest(), &nk).await, vec![row(2, "y")]);
    // DDL with the hostile database as default.
    sink.apply(
        &[txn(
            200,
            vec![Change::Ddl(Ddl {
                database: Some(db.clone()),
                statement: format!("ALTER TABLE {} ADD COLUMN {} INT", q(table), q("n`ew")),
                kind: DdlKind::AlterTable,
                tables: vec![],
                sql_mode: None,
            })],
        )],
        &cp(210),
    )
    .await
    .unwrap();
    assert!(schemas(dest(), &db).await[table].column("n`ew").is_some());
    sink.reset_table(&nk).await.unwrap();
    assert!(read_all(dest(), &nk).await.is_empty());
    let report = sink
        .precheck(&[(*t).clone()], ConflictingTables::PrecheckAndReportErrors)
        .await;
    assert!(
        report
            .get(EXISTING_TABLES)
            .unwrap()
            .message
            .contains(&dts_mysql::wire::ident::quote_table(&t.id)),
        "{report}"
    );
    drop_dest(&db).await;
}

/// Binlog events the destination wrote from `from` on that touch a table of `db`.
async fn binlogged_tables_of(db: &str, from: &(String, u64)) -> usize {
    let mut c = conn(&dest()).await;
    let events: Vec<mysql_async::Row> = c
        .query(format!(
            "SHOW BINLOG EVENTS IN '{}' FROM {}",
            from.0, from.1
        ))
        .await
        .unwrap();
    let needle = format!("({db}.");
    events
        .iter()
        .filter(|e| {
            e.get::<String, _>("Event_type").as_deref() == Some("Table_map")
                && e.get::<String, _>("Info")
                    .is_some_and(|i| i.contains(&needle))
        })
        .count()
}

async fn dest_binlog_end() -> (String, u64) {
    let mut c = conn(&dest()).await;
    let row: mysql_async::Row = c.query_first("SHOW MASTER STATUS").await.unwrap().unwrap();
    (row.get("File").unwrap(), row.get("Position").unwrap())
}

#[tokio::test]
async fn insert_path_and_unlogged_full_sync_are_exact() {
    let db = unique_name("dts_sink_nolog");
    let src_ep = source();
    let mut c = conn(&src_ep).await;
    exec_all(
        &mut c,
        &[
            &format!("CREATE DATABASE `{db}`"),
            &format!("USE `{db}`"),
            TYPES_TABLE,
            EXTREME_ROW,
            "INSERT INTO t (id) VALUES (2)",
        ],
    )
    .await;
    let src = schemas(src_ep.clone(), &db).await;
    let t = &src["t"];
    let rows = read_all(src_ep.clone(), t).await;
    // Multi-row INSERTs (LOAD DATA off), unlogged.
    let unlogged = MysqlSink::connect(
        dest(),
        SinkOptions {
            task_id: format!("task-{db}"),
            workers: 2,
            checkpoint_database: meta(&db),
            load_data: false,
            full_sync_binlog: false,
            ..Default::default()
        },
    )
    .await
    .unwrap();
    unlogged.apply_schema(t).await.unwrap();
    let from = dest_binlog_end().await;
    unlogged
        .write_rows(t, rows.clone(), ExistingRows::Replace)
        .await
        .unwrap();
    assert_eq!(read_all(dest(), t).await, rows, "INSERT path is exact");
    assert_eq!(
        binlogged_tables_of(&db, &from).await,
        0,
        "full sync unlogged"
    );
    // The same pool's sessions are logged again for everything else.
    let from = dest_binlog_end().await;
    let mut changed = rows[1].clone();
    changed[1] = rows[0][1].clone();
    let txn = Transaction {
        begin: Position::new("bin.000001", 4),
        end: Position::new("bin.000001", 100),
        gtid: None,
        commit_time_ms: 0,
        changes: vec![Change::Row(RowChange {
            schema: t.clone(),
            op: RowOp::Update,
            before: Some(rows[1].clone()),
            after: Some(changed),
        })],
        fragment: Fragment {
            first_change: 0,
            last: true,
        },
    };
    let cp = Checkpoint {
        position: txn.end.clone(),
        last_gtid: None,
        commit_time_ms: 0,
        applied_in_transaction: 0,
    };
    unlogged.apply(&[txn], &cp).await.unwrap();
    assert!(
        binlogged_tables_of(&db, &from).await > 0,
        "incremental logged"
    );
    // And a logged full sync is seen by the same check.
    let logged = sink_for(&db, 2).await;
    let from = dest_binlog_end().await;
    logged
        .write_rows(t, rows.clone(), ExistingRows::Replace)
        .await
        .unwrap();
    assert!(
        binlogged_tables_of(&db, &from).await > 0,
        "full sync logged"
    );
    exec_all(&mut c, &[&format!("DROP DATABASE `{db}`")]).await;
    drop_dest(&db).await;
}

/// Names of a destination table's indexes, in index order.
async fn index_names(db: &str, table: &str) -> Vec<String> {
    conn(&dest())
        .await
        .exec(
            "SELECT DISTINCT INDEX_NAME FROM information_schema.STATISTICS \
             WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ? ORDER BY INDEX_NAME",
            (db, table),
        )
        .await
        .unwrap()
}

/// Rows of the owed-index table for one destination table.
async fn owed(db: &str, table: &str) -> Vec<String> {
    conn(&dest())
        .await
        .exec(
            format!(
                "SELECT index_name FROM `{}`.`dts_deferred_index` \
                 WHERE db_name = ? AND table_name = ? ORDER BY 1",
                meta(db)
            ),
            (db, table),
        )
        .await
        .unwrap()
}

#[tokio::test]
async fn secondary_indexes_are_deferred_to_the_end_of_the_copy_across_restarts() {
    let db = unique_name("dts_sink_defer");
    let src_ep = source();
    let mut c = conn(&src_ep).await;
    exec_all(
        &mut c,
        &[
            &format!("CREATE DATABASE `{db}`"),
            &format!("USE `{db}`"),
            "CREATE TABLE t (id INT PRIMARY KEY, k INT, u INT, body TEXT, \
             UNIQUE KEY uq (u), KEY `k 1` (k), KEY kb (k, body(10)), FULLTEXT KEY ft (body)) \
             ENGINE=InnoDB",
            "INSERT INTO t SELECT seq, seq MOD 7, seq, CONCAT('word', seq) FROM seq_1_to_500",
            "CREATE TABLE pre (id INT PRIMARY KEY, k INT, KEY k (k))",
            "CREATE TABLE plain (id INT PRIMARY KEY, k INT, KEY k (k))",
        ],
    )
    .await;
    let src = schemas(src_ep.clone(), &db).await;
    let t = &src["t"];
    // `pre` already exists at the destination without its index: it must stay that way.
    let mut d = conn(&dest()).await;
    exec_all(
        &mut d,
        &[
            &format!("CREATE DATABASE `{db}`"),
            &format!("CREATE TABLE `{db}`.pre (id INT PRIMARY KEY, k INT)"),
        ],
    )
    .await;

    let sink = sink_for(&db, 2).await;
    sink.apply_schema_for_copy(t).await.unwrap();
    assert_eq!(index_names(&db, "t").await, ["PRIMARY", "uq"]);
    assert_eq!(owed(&db, "t").await, ["ft", "k 1", "kb"]);
    // Again (a resumed schema sync): the table exists, nothing changes.
    sink.apply_schema_for_copy(t).await.unwrap();
    assert_eq!(index_names(&db, "t").await, ["PRIMARY", "uq"]);
    sink.write_rows(t, read_all(src_ep.clone(), t).await, ExistingRows::Replace)
        .await
        .unwrap();
    sink.apply_schema_for_copy(&src["pre"]).await.unwrap();
    drop(sink);

    // A new sink, as after a crash: the owed indexes come from the destination's record.
    let sink = sink_for(&db, 2).await;
    sink.finish_copy(t).await.unwrap();
    assert_eq!(
        show_create(&dest(), t).await,
        show_create(&src_ep, t).await,
        "every index is back, in the source's order"
    );
    assert!(owed(&db, "t").await.is_empty());
    // Killed after the ALTER but before the record was removed: settled without an error.
    exec_all(
        &mut d,
        &[&format!(
            "INSERT INTO `{}`.dts_deferred_index VALUES ('task-{db}', '{db}', 't', 'k 1', 'KEY `k 1` (`k`)')",
            meta(&db)
        )],
    )
    .await;
    sink.finish_copy(t).await.unwrap();
    sink.finish_copy(t).await.unwrap();
    assert!(owed(&db, "t").await.is_empty());
    assert_eq!(read_all(dest(), t).await, read_all(src_ep.clone(), t).await);
    // The existing table is left without the index its user did not create.
    sink.finish_copy(&src["pre"]).await.unwrap();
    assert_eq!(index_names(&db, "pre").await, ["PRIMARY"]);
    drop(sink);

    // Switched off, the table is created whole.
    let sink = MysqlSink::connect(
        dest(),
        SinkOptions {
            task_id: format!("task-{db}"),
            checkpoint_database: meta(&db),
            defer_secondary_indexes: false,
            ..Default::default()
        },
    )
    .await
    .unwrap();
    sink.apply_schema_for_copy(&src["plain"]).await.unwrap();
    assert_eq!(index_names(&db, "plain").await, ["k", "PRIMARY"]);
    assert!(owed(&db, "plain").await.is_empty());

    exec_all(&mut c, &[&format!("DROP DATABASE `{db}`")]).await;
    drop_dest(&db).await;
}

/// Sequences and system-versioned tables discovered at the source are created as such at a
/// MariaDB destination; the precheck names them and what the destination keeps of a
/// versioned table's history.
#[tokio::test]
async fn sequences_and_versioned_tables_are_created_as_the_source_has_them() {
    let db = unique_name("dts_sink_mariadb_objects");
    let mut c = conn(&source()).await;
    exec_all(
        &mut c,
        &[
            &format!("CREATE DATABASE `{db}`"),
            &format!("USE `{db}`"),
            "CREATE SEQUENCE s START WITH 10 INCREMENT BY 2",
            "CREATE TABLE v (id INT PRIMARY KEY, x INT) WITH SYSTEM VERSIONING",
            "CREATE TABLE p (id INT PRIMARY KEY) PARTITION BY HASH (id) PARTITIONS 3",
        ],
    )
    .await;
    let s = schemas(source(), &db).await;
    assert!(s["s"].is_sequence() && !s["s"].is_system_versioned());
    assert!(s["v"].is_system_versioned() && !s["v"].is_sequence());
    assert!(!s["p"].is_sequence() && !s["p"].is_system_versioned());
    let sink = sink_for(&db, 2).await;
    let tables: Vec<_> = s.values().map(|t| (**t).clone()).collect();
    let report = sink
        .precheck(&tables, ConflictingTables::PrecheckAndReportErrors)
        .await;
    let check = report.get("destination.mariadb_objects").unwrap();
    assert_eq!(check.level, CheckLevel::Pass, "{report}");
    assert!(check.message.contains(&s["v"].id.to_string()), "{report}");
    assert!(check.message.contains("history"), "{report}");
    for t in &tables {
        sink.apply_schema(t).await.unwrap();
    }
    let mut d = conn(&dest()).await;
    let kinds: Vec<(String, String)> = d
        .exec(
            "SELECT TABLE_NAME, TABLE_TYPE FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? ORDER BY 1",
            (&db,),
        )
        .await
        .unwrap();
    assert_eq!(
        kinds,
        vec![
            ("p".into(), "BASE TABLE".into()),
            ("s".into(), "SEQUENCE".into()),
            ("v".into(), "SYSTEM VERSIONED".into()),
        ]
    );
    let partitions: Option<u64> = d
        .exec_first(
            "SELECT COUNT(*) FROM information_schema.PARTITIONS WHERE TABLE_SCHEMA = ? AND TABLE_NAME = 'p'",
            (&db,),
        )
        .await
        .unwrap();
    assert_eq!(partitions, Some(3));
    for ep in [source(), dest()] {
        exec_all(&mut conn(&ep).await, &[&format!("DROP DATABASE `{db}`")]).await;
    }
}
