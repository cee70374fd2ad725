//! Data verification with an ADB destination, against the test environment's servers: the
//! source MariaDB (`DTS_TEST_SOURCE_URL`) and the destination MariaDB standing in for ADB in
//! `mariadb_compat` mode (`DTS_TEST_DEST_URL`); no ADB server was available.
//!
//! The destination table is created and filled by the ADB sink itself (its type mapping:
//! INT UNSIGNED → BIGINT, BIGINT UNSIGNED → DECIMAL(20,0), BIT → BIGINT, ENUM/SET → VARCHAR,
//! YEAR → INT, TEXT → LONGTEXT), then differences are seeded: missing, extra and changed rows,
//! NULL vs '', a trailing space, a case-only change in a `_ci` column, changed ENUM, BIT, SET
//! and millisecond values, and a change below the millisecond (which ADB cannot hold, so it is
//! not reported). Each mode and baseline finds exactly those; chunks cut down by `ROW_NUMBER()`
//! and by the keyset fallback agree; the repair SQL in ADB's dialect makes the destination
//! clean; schema verification under ADB's dialect is clean on the sink's table and reports a
//! changed column type; a task built from a configuration verifies (full and incremental)
//! instead of refusing.

mod build_support;

use dts_adb::verify::{source_reader, AdbRepairDialect, AdbVerifyReader};
use dts_adb::{AdbOptions, AdbSink};
use dts_core::config::{FullVerificationMode, TaskConfig, VerificationBaseline};
use dts_core::verify::{
    chunk_sampled, DiffKind, FullOptions, Verifier, VerifyReader, VerifyTarget,
};
use dts_core::{ExistingRows, Sink, TableId, TableRoute, Value};
use dts_mysql::wire::conn::MysqlEndpoint;
use dts_mysql::wire::verify::SplitMethod;
use mysql_async::prelude::Queryable;
use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

use dts_testkit::env::var as env;

fn source_ep() -> MysqlEndpoint {
    MysqlEndpoint::from_url("source", &env("DTS_TEST_SOURCE_URL")).unwrap()
}

fn dest_ep() -> MysqlEndpoint {
    MysqlEndpoint::from_url("destination", &env("DTS_TEST_DEST_URL")).unwrap()
}

async fn conn(var: &str) -> mysql_async::Conn {
    let mut c = mysql_async::Conn::from_url(env(var)).await.unwrap();
    c.query_drop("SET time_zone = '+00:00'").await.unwrap();
    c
}

async fn exec(c: &mut mysql_async::Conn, sql: &[String]) {
    for s in sql {
        c.query_drop(s).await.unwrap_or_else(|e| panic!("{s}: {e}"));
    }
}

const MISSING: [i64; 2] = [10, 100];
const EXTRA: [i64; 2] = [55, 1001];
/// 20 decimal, 30 NULL vs '', 40 trailing space, 50 case-only (`_ci`), 60 ENUM, 70 BIT,
/// 80 milliseconds, 90 SET.
const DIFFERENT: [i64; 8] = [20, 30, 40, 50, 60, 70, 80, 90];
/// Changed below the millisecond: invisible to an ADB destination, so not reported.
const SUB_MILLI: i64 = 85;
const ROWS: i64 = 120;

struct Pair {
    src: String,
    dst: String,
    source: Arc<dyn VerifyReader>,
    destination: Arc<dyn VerifyReader>,
}

fn names(tag: &str) -> (String, String) {
    let n = format!("ab_vf_{tag}_{}", std::process::id());
    (format!("{n}_s"), format!("{n}_d"))
}

/// Seeds the source, copies it through the ADB sink (compat mode), then seeds the differences.
async fn seed(tag: &str, split: SplitMethod) -> Pair {
    let (src, dst) = names(tag);
    let mut s = conn("DTS_TEST_SOURCE_URL").await;
    let mut d = conn("DTS_TEST_DEST_URL").await;
    exec(
        &mut s,
        &[
            format!("DROP DATABASE IF EXISTS `{src}`"),
            format!("CREATE DATABASE `{src}`"),
            format!(
                "CREATE TABLE `{src}`.t (id INT UNSIGNED PRIMARY KEY, \
                 name VARCHAR(40) CHARACTER SET utf8mb4 COLLATE utf8mb4_general_ci NOT NULL, \
                 note TEXT NULL, big BIGINT UNSIGNED, flags BIT(5), e ENUM('a','bcd'), \
                 s SET('x','y'), ts DATETIME(6), amount DECIMAL(10,2), y YEAR, raw VARBINARY(8)) \
                 DEFAULT CHARSET = utf8mb4"
            ),
        ],
    )
    .await;
    exec(&mut d, &[format!("DROP DATABASE IF EXISTS `{dst}`")]).await;
    let mut rows = Vec::new();
    for i in 1..=ROWS {
        if i == 55 {
            continue;
        }
        let note = if i % 30 == 0 {
            "NULL".to_string()
        } else {
            format!("'x{i}'")
        };
        rows.push(format!(
            "({i}, 'n{i}', {note}, {}, b'{:05b}', '{}', '{}', \
             '2026-01-02 03:04:05.{:06}', {i}.25, {}, X'{:04X}')",
            u64::MAX - i as u64,
            i % 32,
            if i % 2 == 0 { "a" } else { "bcd" },
            if i % 3 == 0 { "x,y" } else { "y" },
            i * 1001,
            1990 + i,
            i
        ));
    }
    exec(
        &mut s,
        &[format!("INSERT INTO `{src}`.t VALUES {}", rows.join(", "))],
    )
    .await;

    let source = source_reader(source_ep(), 4, split);
    let schema = source
        .describe(&TableId::new(&src, "t"))
        .await
        .unwrap()
        .expect("source table");
    // Copy through the ADB sink, as full sync would.
    let mut options = AdbOptions::new(env("DTS_TEST_DEST_URL"), format!("vf-{tag}"));
    options.mariadb_compat = true;
    options.flush_interval = Duration::ZERO;
    let sink = AdbSink::new(options).unwrap();
    let route = TableRoute {
        destination: TableId::new(&dst, "t"),
        ..TableRoute::identity(&schema.id)
    };
    let dest_schema = Arc::new(route.destination_schema(&schema));
    sink.apply_schema(&dest_schema).await.unwrap();
    let keys: Vec<Vec<Value>> = (1..=ROWS)
        .filter(|i| *i != 55)
        .map(|i| vec![Value::Int(i)])
        .collect();
    let all = source
        .fetch_rows(&schema, &["id".to_string()], &keys)
        .await
        .unwrap();
    assert_eq!(all.len(), ROWS as usize - 1);
    sink.write_rows(&dest_schema, all, ExistingRows::Replace)
        .await
        .unwrap();
    exec(
        &mut d,
        &[
            format!("DELETE FROM `{dst}`.t WHERE id IN (10, 100)"),
            format!(
                "INSERT INTO `{dst}`.t (id, name, note) VALUES (55, 'n55', 'x55'), \
                 (1001, 'n1001', NULL)"
            ),
            format!("UPDATE `{dst}`.t SET amount = 999.99 WHERE id = 20"),
            format!("UPDATE `{dst}`.t SET note = '' WHERE id = 30"),
            format!("UPDATE `{dst}`.t SET name = 'n40 ' WHERE id = 40"),
            format!("UPDATE `{dst}`.t SET name = 'N50' WHERE id = 50"),
            format!("UPDATE `{dst}`.t SET e = 'bcd' WHERE id = 60"),
            format!("UPDATE `{dst}`.t SET flags = 31 WHERE id = 70"),
            format!("UPDATE `{dst}`.t SET ts = '2026-01-02 03:04:05.999999' WHERE id = 80"),
            format!("UPDATE `{dst}`.t SET ts = ts + INTERVAL 1 MICROSECOND WHERE id = {SUB_MILLI}"),
            format!("UPDATE `{dst}`.t SET s = 'x' WHERE id = 90"),
        ],
    )
    .await;
    // The destination really holds ADB's types, and the case-only change is invisible to the
    // collation.
    let types: Vec<(String, String)> = d
        .exec(
            "SELECT COLUMN_NAME, COLUMN_TYPE FROM information_schema.COLUMNS \
             WHERE TABLE_SCHEMA = ? AND TABLE_NAME = 't' ORDER BY ORDINAL_POSITION",
            (dst.clone(),),
        )
        .await
        .unwrap();
    let type_of = |c: &str| {
        types
            .iter()
            .find(|(n, _)| n == c)
            .map(|(_, t)| t.to_ascii_lowercase())
            .unwrap_or_default()
    };
    assert!(type_of("id").starts_with("bigint"), "{types:?}");
    assert_eq!(type_of("big"), "decimal(20,0)");
    assert!(type_of("flags").starts_with("bigint"), "{types:?}");
    assert!(type_of("e").starts_with("varchar"), "{types:?}");
    let same: Option<i64> = d
        .query_first(format!(
            "SELECT COUNT(*) FROM `{dst}`.t WHERE id = 50 AND name = 'n50'"
        ))
        .await
        .unwrap();
    assert_eq!(same, Some(1));
    Pair {
        source: Arc::new(source),
        destination: Arc::new(AdbVerifyReader::with_split(dest_ep(), 4, true, split)),
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
            .unwrap();
        VerifyTarget {
            route: TableRoute {
                destination: TableId::new(&self.dst, "t"),
                ..TableRoute::identity(&schema.id)
            },
            schema,
            masked: vec![],
        }
    }

    fn verifier(&self, options: FullOptions) -> Verifier {
        Verifier::new(self.source.clone(), self.destination.clone(), options)
    }

    async fn drop(self) {
        let mut s = conn("DTS_TEST_SOURCE_URL").await;
        let mut d = conn("DTS_TEST_DEST_URL").await;
        exec(&mut s, &[format!("DROP DATABASE IF EXISTS `{}`", self.src)]).await;
        exec(&mut d, &[format!("DROP DATABASE IF EXISTS `{}`", self.dst)]).await;
    }
}

fn ids(keys: Vec<Vec<Value>>) -> BTreeSet<i64> {
    keys.into_iter()
        .map(|k| match &k[0] {
            Value::Int(i) => *i,
            Value::UInt(u) => *u as i64,
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
async fn full_field_row_count_schema_and_repair_against_compat_adb() {
    let pair = seed("full", SplitMethod::Auto).await;
    let target = pair.target().await;
    let t0 = std::time::Instant::now();
    // Full field, 100 %, each baseline.
    for (baseline, missing, extra) in [
        (VerificationBaseline::Union, set(&MISSING), set(&EXTRA)),
        (VerificationBaseline::Source, set(&MISSING), set(&[])),
        (VerificationBaseline::Destination, set(&[]), set(&EXTRA)),
    ] {
        let report = pair
            .verifier(FullOptions {
                baseline,
                ..sampled(100, 16)
            })
            .run(std::slice::from_ref(&target), false)
            .await;
        assert!(report.errors.is_empty(), "{}", report.to_text());
        let t = &report.tables[0];
        assert!(t.complete, "{}", report.to_text());
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
        assert!(!ids(t.keys(DiffKind::Different)).contains(&SUB_MILLI));
    }
    println!("adb verify: three baselines in {:?}", t0.elapsed());
    // Differing chunks cut down recursively (ROW_NUMBER() on these servers).
    let report = pair
        .verifier(FullOptions {
            leaf_rows: 8,
            split_ways: 4,
            ..sampled(100, 100_000)
        })
        .run(std::slice::from_ref(&target), false)
        .await;
    let t = &report.tables[0];
    assert_eq!(t.checked, ROWS as u64 - 1 + 2, "{}", report.to_text());
    assert_eq!(ids(t.keys(DiffKind::Different)), set(&DIFFERENT));
    assert_eq!(ids(t.keys(DiffKind::Missing)), set(&MISSING));
    // Sampled: only the differences of the sampled chunks (cut on the source's keys, 10 rows
    // each: 1..=10, 11..=20, …; 55 is absent so chunk 5 is 51..=61).
    let report = pair
        .verifier(sampled(50, 10))
        .run(std::slice::from_ref(&target), false)
        .await;
    let t = &report.tables[0];
    let source_ids: Vec<i64> = (1..=ROWS).filter(|i| *i != 55).collect();
    let chunk_of = |id: i64| -> u64 {
        let pos = source_ids
            .iter()
            .position(|x| *x >= id)
            .unwrap_or(source_ids.len());
        (pos / 10) as u64
    };
    let expect_diff: BTreeSet<i64> = DIFFERENT
        .iter()
        .copied()
        .filter(|id| chunk_sampled(chunk_of(*id), 50))
        .collect();
    assert_eq!(
        ids(t.keys(DiffKind::Different)),
        expect_diff,
        "{}",
        report.to_text()
    );
    assert!(t.chunks_checked < t.chunks);
    // Row count, each baseline: net differences only.
    for (baseline, missing, extra) in [
        (VerificationBaseline::Union, 0, 0),
        (VerificationBaseline::Source, 0, 0),
        (VerificationBaseline::Destination, 0, 0),
    ] {
        let report = pair
            .verifier(FullOptions {
                mode: FullVerificationMode::RowCount,
                baseline,
                ..Default::default()
            })
            .run(std::slice::from_ref(&target), false)
            .await;
        let t = &report.tables[0];
        // Two missing and two extra rows cancel out in the counts.
        assert_eq!((t.source_rows, t.destination_rows), (Some(119), Some(119)));
        assert_eq!((t.missing, t.extra), (missing, extra), "{baseline:?}");
    }
    let mut d = conn("DTS_TEST_DEST_URL").await;
    exec(
        &mut d,
        &[format!("DELETE FROM `{}`.t WHERE id = 1001", pair.dst)],
    )
    .await;
    let report = pair
        .verifier(FullOptions {
            mode: FullVerificationMode::RowCount,
            ..Default::default()
        })
        .run(std::slice::from_ref(&target), false)
        .await;
    assert_eq!((report.tables[0].missing, report.tables[0].extra), (1, 0));

    // Schema verification under ADB's dialect: clean on the sink's table, with what is not
    // compared named; a changed column type is reported.
    let report = pair
        .verifier(FullOptions {
            mode: FullVerificationMode::None,
            ..Default::default()
        })
        .run(std::slice::from_ref(&target), true)
        .await;
    assert!(report.schema.is_empty(), "{}", report.to_text());
    assert!(
        report
            .schema_notes
            .iter()
            .any(|n| n.contains("CLUSTERED KEY")),
        "{}",
        report.to_text()
    );
    exec(
        &mut d,
        &[format!(
            "ALTER TABLE `{}`.t MODIFY amount DECIMAL(12,2)",
            pair.dst
        )],
    )
    .await;
    let report = pair
        .verifier(FullOptions {
            mode: FullVerificationMode::None,
            ..Default::default()
        })
        .run(std::slice::from_ref(&target), true)
        .await;
    let objects: Vec<_> = report.schema.iter().map(|s| s.object.as_str()).collect();
    assert_eq!(
        objects,
        vec!["column `amount` type"],
        "{}",
        report.to_text()
    );
    exec(
        &mut d,
        &[format!(
            "ALTER TABLE `{}`.t MODIFY amount DECIMAL(10,2)",
            pair.dst
        )],
    )
    .await;

    // Repair SQL in ADB's dialect makes the destination match.
    let v = pair.verifier(sampled(100, 16));
    let (plans, errors) = v.plan(std::slice::from_ref(&target)).await;
    assert!(errors.is_empty());
    let report = v.verify(&plans).await;
    assert_eq!(report.inconsistent(), 2 + 1 + 8, "{}", report.to_text());
    let dialect = AdbRepairDialect {
        mariadb_compat: true,
    };
    let sql = v.repair_sql(&plans, &report, &dialect, None).await.unwrap();
    assert_eq!(sql.len(), 1 + 2 + 8 + 1, "{sql:#?}");
    assert!(sql.iter().all(|s| !s.contains("CONVERT(X'")), "{sql:#?}");
    exec(&mut d, &sql).await;
    let report = v.verify(&plans).await;
    assert!(report.is_clean(), "{}", report.to_text());
    pair.drop().await;
}

#[tokio::test]
async fn keyset_split_fallback_against_compat_adb() {
    let pair = seed("keyset", SplitMethod::Keyset).await;
    let target = pair.target().await;
    for baseline in [
        VerificationBaseline::Union,
        VerificationBaseline::Destination,
    ] {
        let report = pair
            .verifier(FullOptions {
                baseline,
                leaf_rows: 8,
                split_ways: 4,
                ..sampled(100, 100_000)
            })
            .run(std::slice::from_ref(&target), false)
            .await;
        assert!(report.errors.is_empty(), "{}", report.to_text());
        let t = &report.tables[0];
        assert_eq!(
            ids(t.keys(DiffKind::Different)),
            set(&DIFFERENT),
            "{}",
            report.to_text()
        );
        assert_eq!(ids(t.keys(DiffKind::Extra)), set(&EXTRA));
        let missing = if baseline == VerificationBaseline::Union {
            set(&MISSING)
        } else {
            set(&[])
        };
        assert_eq!(ids(t.keys(DiffKind::Missing)), missing);
    }
    pair.drop().await;
}

fn host_port(var: &str) -> (String, u16) {
    dts_testkit::env::host_port(&env(var))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn configured_task_with_an_adb_destination_verifies_instead_of_refusing() {
    let (src, dst) = names("cfg");
    let mut s = conn("DTS_TEST_SOURCE_URL").await;
    let mut d = conn("DTS_TEST_DEST_URL").await;
    let rows: Vec<String> = (1..=40).map(|i| format!("({i}, 'n{i}', {i}.5)")).collect();
    exec(
        &mut s,
        &[
            format!("DROP DATABASE IF EXISTS `{src}`"),
            format!("CREATE DATABASE `{src}`"),
            format!(
                "CREATE TABLE `{src}`.t (id INT PRIMARY KEY, name VARCHAR(40), v DOUBLE) \
                 DEFAULT CHARSET = utf8mb4"
            ),
            format!("INSERT INTO `{src}`.t VALUES {}", rows.join(", ")),
        ],
    )
    .await;
    exec(&mut d, &[format!("DROP DATABASE IF EXISTS `{dst}`")]).await;
    let (sh, sp) = host_port("DTS_TEST_SOURCE_URL");
    let (dh, dp) = host_port("DTS_TEST_DEST_URL");
    let text = |merge: bool| {
        format!(
            "id = \"{src}\"\n\
             [source]\nhost = \"{sh}\"\nport = {sp}\nuser = \"root\"\n\
             [destination]\ntype = \"adb\"\nhost = \"{dh}\"\nport = {dp}\nuser = \"root\"\n\
             mariadb_compat = true\nflush_interval_ms = 100\nmerge_tables = {merge}\n\
             [[objects.databases]]\nname = \"{src}\"\nrename_to = \"{dst}\"\n\
             [validation]\nfull_mode = \"sampled\"\nsampling_percent = 100\nschema = true\n\
             incremental = true\n"
        )
    };
    let config = TaskConfig::parse_toml_str(&text(false)).unwrap();
    assert!(dts_core::build::unsupported_options(&config).is_empty());
    let state = tempfile::tempdir().unwrap();
    // Merged tables are refused for verification, naming the key.
    let merged = TaskConfig::parse_toml_str(&text(true)).unwrap();
    let err = match build_support::build_adb_task(&merged, state.path()).await {
        Ok(_) => panic!("verification of merged tables accepted"),
        Err(e) => e.to_string(),
    };
    assert!(err.contains("validation"), "{err}");

    let built = build_support::build_adb_task(&config, state.path())
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
    let report = tokio::time::timeout(Duration::from_secs(120), verification)
        .await
        .expect("verification finished in time")
        .unwrap()
        .unwrap();
    assert!(report.errors.is_empty(), "{}", report.to_text());
    let t = &report.tables[0];
    assert_eq!(t.destination, Some(TableId::new(&dst, "t")));
    assert_eq!(
        (t.checked, t.inconsistent()),
        (40, 0),
        "{}",
        report.to_text()
    );
    assert!(report.schema.is_empty(), "{}", report.to_text());
    assert!(!report.schema_notes.is_empty());
    // Applied changes are re-read on both sides once the sink has flushed them.
    let inc = job.incremental().expect("incremental verification");
    exec(
        &mut s,
        &[
            format!("INSERT INTO `{src}`.t VALUES (41, 'n41', 0.25)"),
            format!("UPDATE `{src}`.t SET name = 'changed' WHERE id = 7"),
            format!("DELETE FROM `{src}`.t WHERE id = 8"),
        ],
    )
    .await;
    dts_testkit::eventually(Duration::from_secs(60), "3 consistent rows", || async {
        let report = inc.report();
        if report.consistent >= 3 {
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
    exec(&mut s, &[format!("DROP DATABASE IF EXISTS `{src}`")]).await;
    exec(&mut d, &[format!("DROP DATABASE IF EXISTS `{dst}`")]).await;
}
