//! Binlog event groups beyond plain transactions, read from the real source: XA two-phase
//! transactions (committed later, rolled back, one phase, prepared before the stream began).

mod common;

use common::*;
use dts_core::{RowOp, Source, Value};
use dts_mysql::MysqlSource;

async fn source_for(db: &str) -> MysqlSource {
    reader(source(), db).await
}

/// The ids inserted into `xa1` by the collected transactions, in delivery order.
fn inserted_ids(txns: &[dts_core::Transaction]) -> Vec<i64> {
    rows(txns)
        .iter()
        .filter(|r| r.op == RowOp::Insert && r.table().table == "xa1")
        .map(|r| match &r.after.as_ref().unwrap()[0] {
            Value::Int(i) => *i,
            other => panic!("unexpected id {other:?}"),
        })
        .collect()
}

async fn xa_db() -> (String, mysql_async::Conn) {
    let db = unique_name("dts_xa");
    let mut c = conn(&source()).await;
    exec_all(
        &mut c,
        &[
            &format!("CREATE DATABASE `{db}`"),
            &format!("USE `{db}`"),
            "CREATE TABLE xa1 (id INT PRIMARY KEY, v INT)",
        ],
    )
    .await;
    (db, c)
}

/// A prepared XA transaction on its own connection (a prepared XA transaction survives its
/// session's disconnect on MariaDB 10.5+ and can then be decided from another session).
async fn prepare(db: &str, xid: &str, ids: &[i64]) {
    let mut c = conn(&source()).await;
    let mut statements = vec![format!("USE `{db}`"), format!("XA START '{xid}'")];
    for id in ids {
        statements.push(format!("INSERT INTO xa1 VALUES ({id}, {id})"));
    }
    statements.push(format!("XA END '{xid}'"));
    statements.push(format!("XA PREPARE '{xid}'"));
    let refs: Vec<&str> = statements.iter().map(String::as_str).collect();
    exec_all(&mut c, &refs).await;
    let mut probe = conn(&source()).await;
    dts_testkit::mysql::detach_prepared(c, &mut probe, &[xid]).await;
}

#[tokio::test]
async fn xa_commit_delivers_the_prepared_rows_at_the_commit_and_rollback_drops_them() {
    let (db, mut c) = xa_db().await;
    let src = source_for(&db).await;
    let start = src.current_position().await.unwrap();
    let mut stream = src.stream(start).await.unwrap();
    let xb = unique_name("b");
    let xc = unique_name("c");
    let xd = unique_name("d");
    prepare(&db, &xb, &[1, 2]).await;
    // Another transaction commits between the prepare and the commit.
    exec_all(&mut c, &["INSERT INTO xa1 VALUES (10, 10)"]).await;
    exec_all(&mut c, &[&format!("XA COMMIT '{xb}'")]).await;
    prepare(&db, &xc, &[3]).await;
    exec_all(&mut c, &[&format!("XA ROLLBACK '{xc}'")]).await;
    exec_all(
        &mut c,
        &[
            &format!("XA START '{xd}'"),
            "INSERT INTO xa1 VALUES (4, 4)",
            &format!("XA END '{xd}'"),
            &format!("XA COMMIT '{xd}' ONE PHASE"),
            "INSERT INTO xa1 VALUES (11, 11)",
        ],
    )
    .await;
    let txns = collect_until(&mut stream, &db, |t| inserted_ids(t).contains(&11)).await;
    // In commit order: 10, then the XA rows at their commit, never the rolled-back 3.
    assert_eq!(inserted_ids(&txns), vec![10, 1, 2, 4, 11]);
    // The committed XA transaction is delivered as one transaction with the commit's GTID.
    let xa = txns
        .iter()
        .find(|t| inserted_ids(std::slice::from_ref(t)) == vec![1, 2])
        .expect("the XA rows arrive together");
    assert!(xa.fragment.last && xa.gtid.is_some());
    assert!(
        xa.begin.coordinates_cmp(&txns[0].end).is_ge(),
        "delivered after the transaction that committed before it"
    );
}

#[tokio::test]
async fn xa_prepared_before_the_stream_began_is_found_again_at_its_commit() {
    let (db, mut c) = xa_db().await;
    let src = source_for(&db).await;
    let xe = unique_name("e");
    let xf = unique_name("f");
    prepare(&db, &xe, &[5, 6]).await;
    exec_all(&mut c, &["INSERT INTO xa1 VALUES (20, 20)"]).await;
    prepare(&db, &xf, &[7]).await;
    // Rotating puts the prepares in an earlier binlog file than the stream's start.
    exec_all(&mut c, &["FLUSH BINARY LOGS"]).await;
    exec_all(&mut c, &["INSERT INTO xa1 VALUES (21, 21)"]).await;
    // The stream begins after both prepares (as after a restart from a later checkpoint).
    let start = src.current_position().await.unwrap();
    let mut stream = src.stream(start).await.unwrap();
    exec_all(
        &mut c,
        &[
            "INSERT INTO xa1 VALUES (22, 22)",
            &format!("XA COMMIT '{xe}'"),
            &format!("XA ROLLBACK '{xf}'"),
            "INSERT INTO xa1 VALUES (23, 23)",
        ],
    )
    .await;
    let txns = collect_until(&mut stream, &db, |t| inserted_ids(t).contains(&23)).await;
    assert_eq!(inserted_ids(&txns), vec![22, 5, 6, 23]);
}

#[tokio::test]
async fn xa_transaction_larger_than_a_fragment_is_held_until_commit_then_delivered_in_pieces() {
    let (db, mut c) = xa_db().await;
    let src = MysqlSource::connect(
        source(),
        dts_mysql::SourceOptions {
            scope: dts_mysql::Scope {
                databases: vec![db.clone()],
            },
            binlog: dts_mysql::source::binlog::BinlogOptions {
                max_transaction_changes: 3,
                ..Default::default()
            },
            ..Default::default()
        },
    )
    .await
    .unwrap();
    let start = src.current_position().await.unwrap();
    let mut stream = src.stream(start).await.unwrap();
    let xg = unique_name("g");
    prepare(&db, &xg, &[31, 32, 33, 34, 35, 36, 37]).await;
    exec_all(&mut c, &["INSERT INTO xa1 VALUES (40, 40)"]).await;
    exec_all(&mut c, &[&format!("XA COMMIT '{xg}'")]).await;
    let txns = collect_until(&mut stream, &db, |t| inserted_ids(t).contains(&37)).await;
    assert_eq!(inserted_ids(&txns), vec![40, 31, 32, 33, 34, 35, 36, 37]);
    let pieces: Vec<_> = txns
        .iter()
        .skip(1)
        .map(|t| (t.fragment.first_change, t.fragment.last))
        .collect();
    assert_eq!(pieces, vec![(0, false), (3, false), (6, true)]);
}
