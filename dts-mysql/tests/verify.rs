//! Data verification against the real servers: seeded differences (missing, extra, changed
//! rows, NULL vs '', a trailing space, a case-only change in a `_ci` column, a changed column
//! type) found exactly under row-count mode, full-field mode (100 % and sampled) and each
//! baseline, across mapping, a column subset, a masked column and a WHERE filter; the repair
//! SQL makes the destination clean; `pt-table-sync --print` agrees on the differing rows;
//! incremental verification, timeout, throttling and alerts.

mod common;

use common::{conn, exec_all, unique_name};
use dts_core::config::{FullValidationAlert, FullVerificationMode, VerificationBaseline};
use dts_core::verify::{
    chunk_sampled, DiffKind, FullOptions, IncrementalOptions, IncrementalVerifier, KeyRange,
    RepairDialect, TablePlan, Verifier, VerifyReader, VerifyTarget,
};
use dts_core::{
    Alert, AlertHook, Change, Ddl, DmlOps, Filter, Fragment, Position, Row, RowChange, RowOp,
    TableId, TableRoute, TableSchema, ThrottleSettings, Transaction, Value,
};
use dts_mysql::wire::verify::{MysqlRepairDialect, MysqlVerifyReader, ReaderOptions, SplitMethod};
use mysql_async::prelude::Queryable;
use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// The seeded pair: source `src`.`t` (with an unsynchronized column and `score`) routed to
/// destination `dst`.`t2` (`score` renamed `points` and widened to BIGINT, `secret` masked),
/// rows restricted by ``(`score` >= 0)``.
struct Pair {
    src: String,
    dst: String,
    source: Arc<MysqlVerifyReader>,
    destination: Arc<MysqlVerifyReader>,
}

const MISSING: [i64; 2] = [10, 150];
const EXTRA: [i64; 2] = [55, 1001];
/// 20: changed value; 30: NULL vs ''; 40: trailing space; 50: case-only in a `_ci` column.
const DIFFERENT: [i64; 4] = [20, 30, 40, 50];

async fn seed() -> Pair {
    let src = unique_name("vf_src");
    let dst = unique_name("vf_dst");
    let mut s = conn(&common::source()).await;
    let mut d = conn(&common::endpoint("destination", "DTS_TEST_DEST_URL")).await;
    exec_all(
        &mut s,
        &[
            &format!("CREATE DATABASE `{src}`"),
            &format!(
                "CREATE TABLE `{src}`.t (id INT PRIMARY KEY, \
                 name VARCHAR(40) CHARACTER SET utf8mb4 COLLATE utf8mb4_general_ci, \
                 note VARCHAR(40) NULL, score INT, secret VARCHAR(40), unsynced INT) \
                 DEFAULT CHARSET = utf8mb4"
            ),
        ],
    )
    .await;
    exec_all(
        &mut d,
        &[
            &format!("CREATE DATABASE `{dst}`"),
            &format!(
                "CREATE TABLE `{dst}`.t2 (id INT PRIMARY KEY, \
                 name VARCHAR(40) CHARACTER SET utf8mb4 COLLATE utf8mb4_general_ci, \
                 note VARCHAR(40) NULL, points BIGINT, secret VARCHAR(40)) \
                 DEFAULT CHARSET = utf8mb4"
            ),
        ],
    )
    .await;
    // Source: ids 1..=200 except 55, NULL notes on multiples of 30; id 600 fails the filter.
    let mut src_rows = Vec::new();
    let mut dst_rows = Vec::new();
    for i in 1..=200i64 {
        if i == 55 {
            continue;
        }
        let note = if i % 30 == 0 {
            "NULL".to_string()
        } else {
            format!("'x{i}'")
        };
        src_rows.push(format!("({i}, 'n{i}', {note}, {i}, 's{i}', {})", i * 7));
        dst_rows.push(format!("({i}, 'n{i}', {note}, {i}, '***')"));
    }
    src_rows.push("(600, 'n600', 'x600', -1, 's600', 0)".into());
    exec_all(
        &mut s,
        &[&format!(
            "INSERT INTO `{src}`.t VALUES {}",
            src_rows.join(", ")
        )],
    )
    .await;
    exec_all(
        &mut d,
        &[
            &format!("INSERT INTO `{dst}`.t2 VALUES {}", dst_rows.join(", ")),
            // Missing.
            &format!("DELETE FROM `{dst}`.t2 WHERE id IN (10, 150)"),
            // Extra (one inside the key range, one past the source's last key), and one the
            // filter excludes (not extra: both sides are restricted).
            &format!(
                "INSERT INTO `{dst}`.t2 VALUES (55, 'n55', 'x55', 55, '***'), \
                 (1001, 'n1001', NULL, 1001, '***'), (700, 'n700', NULL, -5, '***')"
            ),
            // Different.
            &format!("UPDATE `{dst}`.t2 SET points = 999 WHERE id = 20"),
            &format!("UPDATE `{dst}`.t2 SET note = '' WHERE id = 30"),
            &format!("UPDATE `{dst}`.t2 SET name = 'n40 ' WHERE id = 40"),
            &format!("UPDATE `{dst}`.t2 SET name = 'N50' WHERE id = 50"),
        ],
    )
    .await;
    // The case-only change really is invisible to the collation.
    let same: Option<i64> = d
        .query_first(format!(
            "SELECT COUNT(*) FROM `{dst}`.t2 WHERE id = 50 AND name = 'n50'"
        ))
        .await
        .unwrap();
    assert_eq!(same, Some(1));
    Pair {
        source: Arc::new(MysqlVerifyReader::new(common::source(), 4)),
        destination: Arc::new(MysqlVerifyReader::new(
            common::endpoint("destination", "DTS_TEST_DEST_URL"),
            4,
        )),
        src,
        dst,
    }
}

impl Pair {
    async fn target(&self) -> VerifyTarget {
        let schema = self
            .source
            .describe(&TableId::new(&self.src, "t"))
            .await
            .unwrap()
            .expect("source table");
        let route = TableRoute {
            destination: TableId::new(&self.dst, "t2"),
            columns: Some(vec![
                (0, "id".into()),
                (1, "name".into()),
                (2, "note".into()),
                (3, "points".into()),
                (4, "secret".into()),
            ]),
            condition: Some("(`score` >= 0)".into()),
            ..TableRoute::identity(&schema.id)
        };
        VerifyTarget {
            schema,
            route,
            masked: vec!["secret".into()],
        }
    }

    fn verifier(&self, options: FullOptions) -> Verifier {
        Verifier::new(self.source.clone(), self.destination.clone(), options)
    }

    async fn drop(self) {
        let mut s = conn(&common::source()).await;
        let mut d = conn(&common::endpoint("destination", "DTS_TEST_DEST_URL")).await;
        exec_all(&mut s, &[&format!("DROP DATABASE `{}`", self.src)]).await;
        exec_all(&mut d, &[&format!("DROP DATABASE `{}`", self.dst)]).await;
    }
}

fn ids(keys: Vec<Vec<Value>>) -> BTreeSet<i64> {
    keys.into_iter()
        .map(|k| match &k[0] {
            Value::Int(i) => *i,
            other => panic!("unexpected key {other:?}"),
        })
        .collect()
}

fn set(v: &[i64]) -> BTreeSet<i64> {
    v.iter().copied().collect()
}

fn sampled(percent: u32, chunk_rows: u64) -> FullOptions {
    FullOptions {
        mode: FullVerificationMode::Sampled,
        sampling_percent: percent,
        chunk_rows,
        ..Default::default()
    }
}

#[tokio::test]
async fn full_field_finds_exactly_the_seeded_differences_under_each_baseline() {
    let pair = seed().await;
    let target = pair.target().await;
    for (baseline, missing, extra) in [
        (VerificationBaseline::Union, set(&MISSING), set(&EXTRA)),
        (VerificationBaseline::Source, set(&MISSING), set(&[])),
        (VerificationBaseline::Destination, set(&[]), set(&EXTRA)),
    ] {
        let v = pair.verifier(FullOptions {
            baseline,
            ..sampled(100, 16)
        });
        let report = v.run(std::slice::from_ref(&target), false).await;
        assert!(report.errors.is_empty(), "{}", report.to_text());
        let t = &report.tables[0];
        assert!(t.complete && !report.partial);
        assert_eq!(
            ids(t.keys(DiffKind::Missing)),
            missing,
            "{baseline:?}\n{}",
            report.to_text()
        );
        assert_eq!(
            ids(t.keys(DiffKind::Extra)),
            extra,
            "{baseline:?}\n{}",
            report.to_text()
        );
        assert_eq!(
            ids(t.keys(DiffKind::Different)),
            set(&DIFFERENT),
            "{baseline:?}\n{}",
            report.to_text()
        );
        assert_eq!(
            (t.missing, t.extra, t.different),
            (missing.len() as u64, extra.len() as u64, 4)
        );
        assert_eq!(t.chunks, t.chunks_checked);
        // Checked rows: the baseline side's rows passing the filter.
        let expected_checked = match baseline {
            VerificationBaseline::Union => 199 + 2,
            VerificationBaseline::Source => 199,
            VerificationBaseline::Destination => 199,
        };
        assert_eq!(t.checked, expected_checked, "{baseline:?}");
        assert!(
            t.notes.iter().any(|n| n.contains("`secret` is masked")),
            "{:?}",
            t.notes
        );
        // JSON round-trips.
        let back: dts_core::verify::VerificationReport =
            serde_json::from_str(&report.to_json()).unwrap();
        assert_eq!(back, report);
        assert!(report.bytes_transferred > 0);
    }
    // The list of differing keys is bounded; the counts stay exact.
    let report = pair
        .verifier(FullOptions {
            max_listed: 3,
            ..sampled(100, 16)
        })
        .run(std::slice::from_ref(&target), false)
        .await;
    let t = &report.tables[0];
    assert_eq!(t.differences.len(), 3);
    assert!(t.differences_truncated);
    assert_eq!((t.missing, t.extra, t.different), (2, 2, 4));
    assert!(report.to_text().contains("more differing rows not listed"));
    // The same with one row per chunk, with one chunk for the whole table, and with the
    // whole-table chunk cut down recursively (4 pieces at a time, rows compared at <= 8).
    for (chunk_rows, leaf_rows) in [(1, 1_000), (100_000, 1_000), (100_000, 8)] {
        let report = pair
            .verifier(FullOptions {
                leaf_rows,
                split_ways: 4,
                ..sampled(100, chunk_rows)
            })
            .run(std::slice::from_ref(&target), false)
            .await;
        let t = &report.tables[0];
        assert_eq!(t.checked, 201, "{chunk_rows}/{leaf_rows}");
        assert_eq!(
            ids(t.keys(DiffKind::Missing)),
            set(&MISSING),
            "{chunk_rows}"
        );
        assert_eq!(ids(t.keys(DiffKind::Extra)), set(&EXTRA), "{chunk_rows}");
        assert_eq!(
            ids(t.keys(DiffKind::Different)),
            set(&DIFFERENT),
            "{chunk_rows}"
        );
    }
    pair.drop().await;
}

/// Readers that cut differing chunks by keyset pagination, as on MySQL 5.7 (forced: the test
/// servers have `ROW_NUMBER()`).
fn keyset_readers() -> (Arc<MysqlVerifyReader>, Arc<MysqlVerifyReader>) {
    let keyset = ReaderOptions {
        split: SplitMethod::Keyset,
        ..Default::default()
    };
    (
        Arc::new(MysqlVerifyReader::with_options(common::source(), 4, keyset)),
        Arc::new(MysqlVerifyReader::with_options(
            common::endpoint("destination", "DTS_TEST_DEST_URL"),
            4,
            keyset,
        )),
    )
}

#[tokio::test]
async fn keyset_split_fallback_cuts_like_row_number_and_finds_the_same_rows() {
    let pair = seed().await;
    let target = pair.target().await;
    // The servers support ROW_NUMBER(), so Auto picks it.
    assert_eq!(
        pair.source.split_method().await.unwrap(),
        SplitMethod::RowNumber
    );
    let (ks_source, ks_dest) = keyset_readers();
    assert_eq!(ks_source.split_method().await.unwrap(), SplitMethod::Keyset);
    let (plans, errors) = pair
        .verifier(sampled(100, 16))
        .plan(std::slice::from_ref(&target))
        .await;
    assert!(errors.is_empty(), "{errors:?}");
    let side = &plans[0].source;
    // The same cut points, for open and bounded ranges, both sides of the filter.
    for (range, every) in [
        (KeyRange::default(), 7u64),
        (
            KeyRange {
                after: Some(vec![Value::Int(12)]),
                upto: Some(vec![Value::Int(90)]),
            },
            10,
        ),
        (
            KeyRange {
                after: None,
                upto: Some(vec![Value::Int(21)]),
            },
            3,
        ),
    ] {
        let rn = pair.source.split_points(side, &range, every).await.unwrap();
        let ks = ks_source.split_points(side, &range, every).await.unwrap();
        assert!(!rn.is_empty());
        assert_eq!(ks, rn, "{range:?} every {every}");
    }
    // A whole-table chunk cut down recursively through the fallback finds exactly the seeded
    // rows.
    let v = Verifier::new(
        ks_source.clone(),
        ks_dest.clone(),
        FullOptions {
            leaf_rows: 8,
            split_ways: 4,
            ..sampled(100, 100_000)
        },
    );
    let report = v.run(std::slice::from_ref(&target), false).await;
    assert!(report.errors.is_empty(), "{}", report.to_text());
    let t = &report.tables[0];
    assert_eq!(t.checked, 201);
    assert_eq!(ids(t.keys(DiffKind::Missing)), set(&MISSING));
    assert_eq!(ids(t.keys(DiffKind::Extra)), set(&EXTRA));
    assert_eq!(ids(t.keys(DiffKind::Different)), set(&DIFFERENT));
    pair.drop().await;
}

#[tokio::test]
async fn sampled_verification_finds_the_differences_of_the_sampled_chunks() {
    let pair = seed().await;
    let target = pair.target().await;
    let chunk_rows = 10u64;
    // The chunks are cut on the source's filtered keys: 1..=200 without 55.
    let source_keys: Vec<i64> = (1..=200).filter(|i| *i != 55).collect();
    let boundaries: Vec<i64> = source_keys
        .chunks(chunk_rows as usize)
        .filter(|c| c.len() == chunk_rows as usize)
        .map(|c| *c.last().unwrap())
        .collect();
    let chunk_of = |k: i64| boundaries.iter().filter(|b| **b < k).count() as u64;
    for percent in [10u32, 50] {
        let report = pair
            .verifier(sampled(percent, chunk_rows))
            .run(std::slice::from_ref(&target), false)
            .await;
        let t = &report.tables[0];
        let pick = |v: &[i64]| -> BTreeSet<i64> {
            v.iter()
                .copied()
                .filter(|k| chunk_sampled(chunk_of(*k), percent))
                .collect()
        };
        assert_eq!(t.chunks, boundaries.len() as u64 + 1);
        assert!(t.chunks_checked < t.chunks, "{percent}");
        assert_eq!(
            ids(t.keys(DiffKind::Missing)),
            pick(&MISSING),
            "{percent}\n{}",
            report.to_text()
        );
        assert_eq!(
            ids(t.keys(DiffKind::Extra)),
            pick(&EXTRA),
            "{percent}\n{}",
            report.to_text()
        );
        assert_eq!(
            ids(t.keys(DiffKind::Different)),
            pick(&DIFFERENT),
            "{percent}\n{}",
            report.to_text()
        );
        // Something is found at 50 %, so the test cannot pass by finding nothing.
        if percent == 50 {
            assert!(t.inconsistent() > 0);
        }
    }
    pair.drop().await;
}

#[tokio::test]
async fn row_count_mode_compares_filtered_counts_under_each_baseline() {
    let pair = seed().await;
    let target = pair.target().await;
    let mut d = conn(&common::endpoint("destination", "DTS_TEST_DEST_URL")).await;
    let counts = |baseline| {
        let v = pair.verifier(FullOptions {
            mode: FullVerificationMode::RowCount,
            baseline,
            ..Default::default()
        });
        let target = target.clone();
        async move {
            let report = v.run(std::slice::from_ref(&target), false).await;
            assert!(report.errors.is_empty(), "{}", report.to_text());
            let t = report.tables[0].clone();
            assert!(t.differences.is_empty());
            assert_eq!(t.different, 0);
            (t.source_rows, t.destination_rows, t.missing, t.extra)
        }
    };
    // As seeded, 2 missing and 2 extra rows cancel out: 199 rows pass the filter on each side
    // (source 600 and destination 700 do not). Counts are all this mode sees.
    for b in [
        VerificationBaseline::Union,
        VerificationBaseline::Source,
        VerificationBaseline::Destination,
    ] {
        assert_eq!(counts(b).await, (Some(199), Some(199), 0, 0), "{b:?}");
    }
    // Without the two extra rows, 2 are missing (ignored under the destination baseline).
    exec_all(
        &mut d,
        &[&format!(
            "DELETE FROM `{}`.t2 WHERE id IN (55, 1001)",
            pair.dst
        )],
    )
    .await;
    assert_eq!(
        counts(VerificationBaseline::Union).await,
        (Some(199), Some(197), 2, 0)
    );
    assert_eq!(
        counts(VerificationBaseline::Source).await,
        (Some(199), Some(197), 2, 0)
    );
    assert_eq!(
        counts(VerificationBaseline::Destination).await,
        (Some(199), Some(197), 0, 0)
    );
    // Three rows more at the destination: one extra (ignored under the source baseline).
    exec_all(
        &mut d,
        &[&format!(
            "INSERT INTO `{}`.t2 VALUES (2001, 'a', NULL, 1, '*'), (2002, 'b', NULL, 1, '*'), \
             (2003, 'c', NULL, 1, '*')",
            pair.dst
        )],
    )
    .await;
    assert_eq!(
        counts(VerificationBaseline::Union).await,
        (Some(199), Some(200), 0, 1)
    );
    assert_eq!(
        counts(VerificationBaseline::Source).await,
        (Some(199), Some(200), 0, 0)
    );
    assert_eq!(
        counts(VerificationBaseline::Destination).await,
        (Some(199), Some(200), 0, 1)
    );
    pair.drop().await;
}

#[tokio::test]
async fn schema_verification_reports_the_changed_column_type() {
    let pair = seed().await;
    let target = pair.target().await;
    let report = pair
        .verifier(FullOptions {
            mode: FullVerificationMode::None,
            ..Default::default()
        })
        .run(std::slice::from_ref(&target), true)
        .await;
    let objects: Vec<(&str, String, String)> = report
        .schema
        .iter()
        .map(|s| {
            (
                s.object.as_str(),
                s.expected.to_lowercase(),
                s.actual.to_lowercase(),
            )
        })
        .collect();
    assert_eq!(objects.len(), 1, "{}", report.to_text());
    assert_eq!(objects[0].0, "column `points` type");
    assert!(objects[0].1.starts_with("int"), "{objects:?}");
    assert!(objects[0].2.starts_with("bigint"), "{objects:?}");
    assert!(!report.is_clean());
    pair.drop().await;
}

/// Masks `secret` (source column 4) as the task would.
struct MaskSecret;

impl Filter for MaskSecret {
    fn route(&self, _table: &TableSchema) -> Option<TableRoute> {
        None
    }
    fn transform_row(&self, _table: &TableSchema, row: &mut Row) {
        if let Some(v) = row.get_mut(4) {
            *v = Value::Text("***".into());
        }
    }
    fn route_ddl(&self, _ddl: &Ddl) -> Option<Ddl> {
        None
    }
}

#[tokio::test]
async fn repair_sql_makes_the_destination_match() {
    let pair = seed().await;
    let target = pair.target().await;
    let v = pair.verifier(sampled(100, 16));
    let (plans, errors) = v.plan(std::slice::from_ref(&target)).await;
    assert!(errors.is_empty(), "{errors:?}");
    let report = v.verify(&plans).await;
    assert_eq!(report.inconsistent(), 8, "{}", report.to_text());
    let sql = v
        .repair_sql(&plans, &report, &MysqlRepairDialect, Some(&MaskSecret))
        .await
        .unwrap();
    // Preamble + 2 missing + 4 different upserts + 2 deletes.
    assert_eq!(sql.len(), 1 + 2 + 4 + 2, "{sql:#?}");
    assert!(sql
        .iter()
        .any(|s| s.starts_with("DELETE") && s.contains("1001")));
    let mut d = conn(&common::endpoint("destination", "DTS_TEST_DEST_URL")).await;
    for s in &sql {
        d.query_drop(s).await.unwrap_or_else(|e| panic!("{s}: {e}"));
    }
    let after = v.verify(&plans).await;
    assert_eq!(after.inconsistent(), 0, "{}", after.to_text());
    assert!(after.errors.is_empty());
    // Masking held: repaired rows carry the masked value, and the rest of the row is exact.
    let row: Option<(String, Option<String>, i64, String)> = d
        .query_first(format!(
            "SELECT name, note, points, secret FROM `{}`.t2 WHERE id = 20",
            pair.dst
        ))
        .await
        .unwrap();
    assert_eq!(
        row,
        Some(("n20".into(), Some("x20".into()), 20, "***".into()))
    );
    let bytes: Option<Vec<u8>> = d
        .query_first(format!("SELECT name FROM `{}`.t2 WHERE id = 50", pair.dst))
        .await
        .unwrap();
    assert_eq!(bytes.as_deref(), Some(&b"n50"[..]));
    // A row-count report lists no keys, so it has nothing to repair.
    let counts = pair
        .verifier(FullOptions {
            mode: FullVerificationMode::RowCount,
            ..Default::default()
        })
        .verify(&plans)
        .await;
    assert!(v
        .repair_sql(&plans, &counts, &MysqlRepairDialect, None)
        .await
        .unwrap()
        .is_empty());
    let _ = MysqlRepairDialect.preamble();
    pair.drop().await;
}

#[derive(Default)]
struct Collect(Mutex<Vec<Alert>>);

#[async_trait::async_trait]
impl AlertHook for Collect {
    async fn fire(&self, alert: &Alert) {
        self.0.lock().unwrap().push(alert.clone());
    }
}

#[tokio::test]
async fn alerts_timeout_and_throttle() {
    let pair = seed().await;
    let target = pair.target().await;
    let hook = Arc::new(Collect::default());
    let report = pair
        .verifier(sampled(100, 16))
        .with_alerts(
            hook.clone(),
            "vf-task",
            FullValidationAlert {
                on_failure: true,
                inconsistency_threshold: Some(8),
            },
        )
        .run(std::slice::from_ref(&target), false)
        .await;
    assert_eq!(report.inconsistent(), 8);
    assert_eq!(
        hook.0.lock().unwrap().clone(),
        vec![Alert::VerificationInconsistent {
            task_id: "vf-task".into(),
            inconsistent: 8,
            threshold: 8
        }]
    );
    // A failure alert when the destination table is gone.
    let mut gone = target.clone();
    gone.route.destination = TableId::new(&pair.dst, "no_such_table");
    let hook = Arc::new(Collect::default());
    let report = pair
        .verifier(sampled(100, 16))
        .with_alerts(
            hook.clone(),
            "vf-task",
            FullValidationAlert {
                on_failure: true,
                inconsistency_threshold: None,
            },
        )
        .run(&[gone], false)
        .await;
    assert!(
        report.partial && !report.errors.is_empty(),
        "{}",
        report.to_text()
    );
    assert!(matches!(
        hook.0.lock().unwrap().as_slice(),
        [Alert::VerificationFailed { .. }]
    ));
    // 100 rows/s over ~400 rows on both sides cannot finish within 300 ms: partial report.
    let report = pair
        .verifier(FullOptions {
            throttle: ThrottleSettings {
                rows_per_s: Some(100),
                ..Default::default()
            },
            timeout: Some(Duration::from_millis(300)),
            ..sampled(100, 16)
        })
        .run(std::slice::from_ref(&target), false)
        .await;
    assert!(report.timed_out && report.partial, "{}", report.to_text());
    let t = &report.tables[0];
    assert!(!t.complete && t.chunks_checked < 13, "{}", report.to_text());
    pair.drop().await;
}

fn txn(changes: Vec<RowChange>) -> Transaction {
    Transaction {
        begin: Position::new("f", 4),
        end: Position::new("f", 5),
        gtid: None,
        commit_time_ms: 0,
        changes: changes.into_iter().map(Change::Row).collect(),
        fragment: Fragment::WHOLE,
    }
}

#[tokio::test]
async fn incremental_verification_rereads_applied_keys_within_a_lag_window() {
    let pair = seed().await;
    let target = pair.target().await;
    let v = pair.verifier(sampled(100, 16));
    let (plans, _) = v.plan(std::slice::from_ref(&target)).await;
    let plan: &TablePlan = &plans[0];
    let dest_schema = Arc::new(plan.destination.as_ref().unwrap().schema.clone());
    let change = |op: RowOp, id: i64| {
        let row: Row = vec![
            Value::Int(id),
            Value::Null,
            Value::Null,
            Value::Null,
            Value::Null,
        ];
        RowChange {
            schema: dest_schema.clone(),
            op,
            before: (op != RowOp::Insert).then(|| row.clone()),
            after: (op != RowOp::Delete).then_some(row),
        }
    };
    let verifier = Arc::new(IncrementalVerifier::new(
        pair.source.clone(),
        pair.destination.clone(),
        plans.clone(),
        IncrementalOptions {
            ops: DmlOps {
                delete: false,
                ..DmlOps::ALL
            },
            settle: Duration::from_millis(100),
            window: Duration::from_millis(1500),
            tick: Duration::from_millis(100),
            ..Default::default()
        },
    ));
    // 60: applied identically (consistent). 20: still differs (inconsistent once the window
    // ends). 61: in flight — the destination catches up inside the window (consistent).
    // 10: a DELETE, not a chosen operation (not verified although it differs).
    let mut s = conn(&common::source()).await;
    let mut d = conn(&common::endpoint("destination", "DTS_TEST_DEST_URL")).await;
    exec_all(
        &mut s,
        &[&format!(
            "UPDATE `{}`.t SET score = 6000, name = 'u' WHERE id IN (60, 61)",
            pair.src
        )],
    )
    .await;
    exec_all(
        &mut d,
        &[&format!(
            "UPDATE `{}`.t2 SET points = 6000, name = 'u' WHERE id = 60",
            pair.dst
        )],
    )
    .await;
    verifier.observe(&[txn(vec![
        change(RowOp::Update, 60),
        change(RowOp::Update, 20),
        change(RowOp::Update, 61),
        change(RowOp::Delete, 10),
    ])]);
    assert_eq!(verifier.pending(), 3);
    let handle = verifier.clone().spawn();
    // Deliberately lets time pass, not a synchronization: row 61 reaches the destination late,
    // but inside the 1.5 s window, after the verifier has seen it differ.
    tokio::time::sleep(Duration::from_millis(500)).await;
    exec_all(
        &mut d,
        &[&format!(
            "UPDATE `{}`.t2 SET points = 6000, name = 'u' WHERE id = 61",
            pair.dst
        )],
    )
    .await;
    verifier.drain(Duration::from_secs(10)).await.unwrap();
    handle.abort();
    let r = verifier.report();
    assert_eq!(r.pending, 0);
    assert_eq!(
        (r.checked, r.consistent, r.inconsistent),
        (3, 2, 1),
        "{r:#?}"
    );
    assert_eq!(r.inconsistencies.len(), 1);
    assert_eq!(r.inconsistencies[0].key, vec![Value::Int(20)]);
    assert_eq!(r.inconsistencies[0].table, TableId::new(&pair.dst, "t2"));
    pair.drop().await;
}

/// Parses `pt-table-sync --print` output into (kind, id) pairs: INSERT = missing at the
/// destination, DELETE = extra, UPDATE/REPLACE = different.
fn parse_pt_sync(out: &str) -> BTreeSet<(DiffKind, i64)> {
    let mut found = BTreeSet::new();
    for line in out.lines().map(str::trim).filter(|l| !l.is_empty()) {
        let id_after = |marker: &str| -> i64 {
            let rest = &line[line
                .find(marker)
                .unwrap_or_else(|| panic!("{marker} in {line}"))
                + marker.len()..];
            let digits: String = rest.chars().take_while(|c| c.is_ascii_digit()).collect();
            digits.parse().unwrap_or_else(|_| panic!("id in {line}"))
        };
        if line.starts_with("INSERT") {
            found.insert((DiffKind::Missing, id_after("VALUES ('")));
        } else if line.starts_with("DELETE") {
            found.insert((DiffKind::Extra, id_after("WHERE `id`='")));
        } else if line.starts_with("UPDATE") {
            found.insert((DiffKind::Different, id_after("WHERE `id`='")));
        } else if line.starts_with("REPLACE") {
            found.insert((DiffKind::Different, id_after("VALUES ('")));
        } else {
            panic!("unexpected pt-table-sync output line: {line}");
        }
    }
    found
}

#[tokio::test]
async fn same_differing_rows_as_pt_table_sync() {
    let Ok(pt) = which_pt_table_sync() else {
        println!(
            "SKIPPED: pt-table-sync is not installed (Debian package percona-toolkit); the peer check did not run"
        );
        return;
    };
    // pt-table-sync compares same-named columns, so this pair has no subset, mask or filter:
    // same seeded differences, and `score` widened to BIGINT at the destination.
    let src = unique_name("vf_pts");
    let dst = unique_name("vf_ptd");
    let source_ep = common::source();
    let dest_ep = common::endpoint("destination", "DTS_TEST_DEST_URL");
    let mut s = conn(&source_ep).await;
    let mut d = conn(&dest_ep).await;
    let table = |db: &str, name: &str, score: &str| {
        format!(
            "CREATE TABLE `{db}`.{name} (id INT PRIMARY KEY, \
             name VARCHAR(40) CHARACTER SET utf8mb4 COLLATE utf8mb4_general_ci, \
             note VARCHAR(40) NULL, score {score}) DEFAULT CHARSET = utf8mb4"
        )
    };
    let rows: Vec<String> = (1..=300i64)
        .filter(|i| *i != 55)
        .map(|i| {
            let note = if i % 30 == 0 {
                "NULL".into()
            } else {
                format!("'x{i}'")
            };
            format!("({i}, 'n{i}', {note}, {i})")
        })
        .collect();
    exec_all(
        &mut s,
        &[
            &format!("CREATE DATABASE `{src}`"),
            &table(&src, "t", "INT"),
            &format!("INSERT INTO `{src}`.t VALUES {}", rows.join(", ")),
        ],
    )
    .await;
    exec_all(
        &mut d,
        &[
            &format!("CREATE DATABASE `{dst}`"),
            &table(&dst, "t2", "BIGINT"),
            &format!("INSERT INTO `{dst}`.t2 VALUES {}", rows.join(", ")),
            &format!("DELETE FROM `{dst}`.t2 WHERE id IN (10, 150)"),
            &format!("INSERT INTO `{dst}`.t2 VALUES (55, 'n55', 'x55', 55), (1001, 'n', NULL, 1)"),
            &format!("UPDATE `{dst}`.t2 SET score = 999 WHERE id = 20"),
            &format!("UPDATE `{dst}`.t2 SET note = '' WHERE id = 30"),
            &format!("UPDATE `{dst}`.t2 SET name = 'n40 ' WHERE id = 40"),
            &format!("UPDATE `{dst}`.t2 SET name = 'N50' WHERE id = 50"),
            &format!("UPDATE `{dst}`.t2 SET note = NULL WHERE id = 61"),
        ],
    )
    .await;
    let source = Arc::new(MysqlVerifyReader::new(source_ep.clone(), 2));
    let destination = Arc::new(MysqlVerifyReader::new(dest_ep.clone(), 2));
    let schema = source
        .describe(&TableId::new(&src, "t"))
        .await
        .unwrap()
        .unwrap();
    let target = VerifyTarget {
        route: TableRoute {
            destination: TableId::new(&dst, "t2"),
            ..TableRoute::identity(&schema.id)
        },
        schema,
        masked: vec![],
    };
    let report = Verifier::new(source, destination, sampled(100, 64))
        .run(&[target], false)
        .await;
    let ours: BTreeSet<(DiffKind, i64)> = report.tables[0]
        .differences
        .iter()
        .map(|d| match d.key[0] {
            Value::Int(i) => (d.kind, i),
            ref other => panic!("{other:?}"),
        })
        .collect();
    let dsn = |ep: &dts_mysql::MysqlEndpoint, db: &str, t: &str| {
        format!("h={},P={},u={},D={db},t={t}", ep.host, ep.port, ep.user)
    };
    let out = std::process::Command::new(pt)
        .arg("--print")
        // Another test may have made the destination a replica; --print changes nothing.
        .arg("--no-check-slave")
        .arg(dsn(&source_ep, &src, "t"))
        .arg(dsn(&dest_ep, &dst, "t2"))
        .output()
        .expect("run pt-table-sync");
    // Exit status 2 means "at least one table differed".
    assert!(
        matches!(out.status.code(), Some(0 | 2)),
        "pt-table-sync failed ({:?}): {}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    let theirs = parse_pt_sync(&String::from_utf8_lossy(&out.stdout));
    println!("dts: {ours:?}\npt-table-sync: {theirs:?}");
    assert_eq!(ours, theirs, "{}", report.to_text());
    assert_eq!(ours.len(), 9);
    exec_all(&mut s, &[&format!("DROP DATABASE `{src}`")]).await;
    exec_all(&mut d, &[&format!("DROP DATABASE `{dst}`")]).await;
}

fn which_pt_table_sync() -> Result<std::path::PathBuf, ()> {
    std::env::var_os("PATH")
        .into_iter()
        .flat_map(|p| std::env::split_paths(&p).collect::<Vec<_>>())
        .map(|dir| dir.join("pt-table-sync"))
        .find(|p| p.is_file())
        .ok_or(())
}

/// `host`, `port` of a test server URL variable.
fn url_host_port(var: &str) -> (String, u16) {
    let url = std::env::var(var).unwrap_or_else(|_| panic!("{var} is not set"));
    let rest = url.rsplit('@').next().unwrap();
    let (host, port) = rest.trim_end_matches('/').split_once(':').unwrap();
    (host.to_string(), port.parse().unwrap())
}

#[tokio::test]
async fn configured_verification_follows_the_start_rule_and_checks_applied_changes() {
    let src = unique_name("vf_cfg");
    let dst = format!("{src}_copy");
    let mut s = conn(&common::source()).await;
    let rows: Vec<String> = (1..=50).map(|i| format!("({i}, 'n{i}', 's{i}')")).collect();
    exec_all(
        &mut s,
        &[
            &format!("CREATE DATABASE `{src}`"),
            &format!(
                "CREATE TABLE `{src}`.t (id INT PRIMARY KEY, name VARCHAR(40), secret VARCHAR(80)) \
                 DEFAULT CHARSET = utf8mb4"
            ),
            &format!("INSERT INTO `{src}`.t VALUES {}", rows.join(", ")),
        ],
    )
    .await;
    let (sh, sp) = url_host_port("DTS_TEST_SOURCE_URL");
    let (dh, dp) = url_host_port("DTS_TEST_DEST_URL");
    let text = format!(
        "id = \"{src}\"\n\
         [source]\nhost = \"{sh}\"\nport = {sp}\nuser = \"root\"\n\
         [destination]\ntype = \"mysql\"\nhost = \"{dh}\"\nport = {dp}\nuser = \"root\"\n\
         [[objects.databases]]\nname = \"{src}\"\nrename_to = \"{dst}\"\n\
         [advanced.masking]\nenabled = true\n\
         [[advanced.masking.rules]]\ndatabase = \"{src}\"\ntable = \"t\"\ncolumn = \"secret\"\nmethod = \"redact\"\n\
         [validation]\nfull_mode = \"sampled\"\nsampling_percent = 100\nschema = true\nincremental = true\n"
    );
    let config = dts_core::config::TaskConfig::parse_toml_str(&text)
        .unwrap_or_else(|e| panic!("{e}\n{text}"));
    assert!(dts_core::build::unsupported_options(&config).is_empty());
    let state = tempfile::tempdir().unwrap();
    let built = dts_mysql::build_mysql_task(&config, state.path(), None)
        .await
        .unwrap();
    let job = built.verification.clone().expect("verification configured");
    let verification = built.spawn_verification().expect("spawned");
    let handle = built.task.handle();
    let task = Arc::new(built.task);
    let runner = {
        let task = task.clone();
        tokio::spawn(async move { task.run().await })
    };
    let report = tokio::time::timeout(Duration::from_secs(90), verification)
        .await
        .expect("verification finished in time")
        .unwrap()
        .unwrap();
    // Started after full sync, once incremental write caught up.
    assert!(handle.progress().incremental.caught_up);
    assert!(report.errors.is_empty(), "{}", report.to_text());
    assert_eq!(report.tables.len(), 1, "{}", report.to_text());
    let t = &report.tables[0];
    assert_eq!(t.destination, Some(TableId::new(&dst, "t")));
    assert_eq!(
        (t.checked, t.inconsistent()),
        (50, 0),
        "{}",
        report.to_text()
    );
    assert!(t.notes.iter().any(|n| n.contains("`secret` is masked")));
    assert!(report.schema.is_empty(), "{}", report.to_text());
    // Applied changes are re-read on both sides.
    let inc = job.incremental().expect("incremental verification");
    exec_all(
        &mut s,
        &[
            &format!("INSERT INTO `{src}`.t VALUES (51, 'n51', 's51')"),
            &format!("UPDATE `{src}`.t SET name = 'changed' WHERE id = 7"),
        ],
    )
    .await;
    dts_testkit::eventually(Duration::from_secs(60), "2 consistent rows", || async {
        let report = inc.report();
        if report.consistent >= 2 {
            Ok(())
        } else {
            Err(report)
        }
    })
    .await;
    assert_eq!(inc.report().inconsistent, 0, "{:#?}", inc.report());
    handle.stop();
    let _ = tokio::time::timeout(Duration::from_secs(30), runner).await;
    job.stop();
    let mut d = conn(&common::endpoint("destination", "DTS_TEST_DEST_URL")).await;
    exec_all(&mut s, &[&format!("DROP DATABASE `{src}`")]).await;
    exec_all(&mut d, &[&format!("DROP DATABASE IF EXISTS `{dst}`")]).await;
}

#[tokio::test]
async fn configured_verification_is_shown_running_then_finished_in_the_status() {
    use dts_core::{Stage, StageStatus};
    let src = unique_name("tdef_vstage");
    let dst = format!("{src}_copy");
    let mut s = conn(&common::source()).await;
    exec_all(
        &mut s,
        &[
            &format!("CREATE DATABASE `{src}`"),
            &format!("CREATE TABLE `{src}`.t (id INT PRIMARY KEY, v INT)"),
            &format!("INSERT INTO `{src}`.t VALUES (1, 1), (2, 2), (3, 3)"),
        ],
    )
    .await;
    let (sh, sp) = url_host_port("DTS_TEST_SOURCE_URL");
    let (dh, dp) = url_host_port("DTS_TEST_DEST_URL");
    let text = format!(
        "id = \"{src}\"\n\
         [source]\nhost = \"{sh}\"\nport = {sp}\nuser = \"root\"\n\
         [destination]\ntype = \"mysql\"\nhost = \"{dh}\"\nport = {dp}\nuser = \"root\"\n\
         [[objects.databases]]\nname = \"{src}\"\nrename_to = \"{dst}\"\n\
         [validation]\nfull_mode = \"sampled\"\nsampling_percent = 100\nschema = true\n"
    );
    let config = dts_core::config::TaskConfig::parse_toml_str(&text).unwrap();
    let state = tempfile::tempdir().unwrap();
    let built = dts_mysql::build_mysql_task(&config, state.path(), None)
        .await
        .unwrap();
    let handle = built.task.handle();
    // Every status the Verification stage takes, in order.
    let seen = Arc::new(Mutex::new(Vec::<StageStatus>::new()));
    let mut watch = handle.watch_status();
    let recorder = {
        let seen = seen.clone();
        tokio::spawn(async move {
            loop {
                let now = watch
                    .borrow_and_update()
                    .stage(Stage::Verification)
                    .status
                    .clone();
                {
                    let mut seen = seen.lock().unwrap();
                    if seen.last() != Some(&now) {
                        seen.push(now);
                    }
                }
                if watch.changed().await.is_err() {
                    return;
                }
            }
        })
    };
    let verification = built.spawn_verification().expect("spawned");
    let task = Arc::new(built.task);
    let runner = {
        let task = task.clone();
        tokio::spawn(async move { task.run().await })
    };
    let report = tokio::time::timeout(Duration::from_secs(90), verification)
        .await
        .expect("verification finished in time")
        .unwrap()
        .unwrap();
    assert!(report.errors.is_empty(), "{}", report.to_text());
    assert_eq!(
        handle.status().stage(Stage::Verification).status,
        StageStatus::Finished
    );
    // Incremental write goes on beside it.
    assert_eq!(
        handle.status().stage(Stage::IncrementalWrite).status,
        StageStatus::Running
    );
    handle.stop();
    let _ = tokio::time::timeout(Duration::from_secs(30), runner).await;
    drop(task);
    let _ = tokio::time::timeout(Duration::from_secs(10), recorder).await;
    let seen = seen.lock().unwrap().clone();
    assert_eq!(
        seen,
        vec![
            StageStatus::NotStarted,
            StageStatus::Running,
            StageStatus::Finished
        ],
        "never skipped"
    );
    let mut d = conn(&common::endpoint("destination", "DTS_TEST_DEST_URL")).await;
    exec_all(&mut s, &[&format!("DROP DATABASE `{src}`")]).await;
    exec_all(&mut d, &[&format!("DROP DATABASE IF EXISTS `{dst}`")]).await;
}
