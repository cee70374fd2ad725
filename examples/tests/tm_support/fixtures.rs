//! The fixtures: each builds one scratch database with a table per declared type, runs a task
//! from a task file over the test servers, and compares every table.

use super::canon;
use super::cases;
use super::types::TypeCase;
use super::{Fixture, Outcome, Outcomes, Path};
use dts_core::config::TaskConfig;
use dts_core::{TableId, TaskHandle};
use dts_kafka::KafkaDataFormat;
use mysql_async::prelude::Queryable;
use mysql_async::Conn;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// A variable of `scripts/test-env.sh env`.
#[allow(unused_imports)] // not every test file uses every helper
pub use dts_testkit::env::var as env;

/// A root connection with zero dates allowed, in UTC.
#[allow(unused_imports)] // not every test file uses every helper
pub use dts_testkit::mysql::connect_utc as connect;

use dts_testkit::env::host_port;

/// The paths a fixture records outcomes for.
pub fn paths_of(fixture: Fixture) -> Vec<Path> {
    use KafkaDataFormat as F;
    match fixture {
        Fixture::SnapshotInsert => vec![Path::SnapshotInsert],
        Fixture::SnapshotLoadData => vec![Path::SnapshotLoadData],
        Fixture::Keyless => vec![Path::KeylessSnapshot],
        Fixture::Binlog => vec![
            Path::BinlogInsert,
            Path::BinlogUpdate,
            Path::BinlogKeyChange,
            Path::BinlogDelete,
        ],
        Fixture::TwoWay => vec![Path::TwoWayApply],
        Fixture::Verification => vec![Path::Verification],
        Fixture::Kafka(F::CanalJson) => vec![Path::KafkaCanalJson],
        Fixture::Kafka(F::ShareplexJson) => vec![Path::KafkaShareplexJson],
        Fixture::Kafka(F::DebeziumJson) => vec![Path::KafkaDebeziumJson],
        Fixture::Kafka(F::DtsAvro) => vec![Path::KafkaDtsAvro],
        Fixture::Adb => vec![Path::Adb],
        Fixture::Masking => vec![Path::Masking],
    }
}

tokio::task_local! {
    /// The scratch databases the running fixture created (dropped when it ends).
    static CREATED: std::cell::RefCell<Vec<String>>;
}

/// Runs one fixture, then drops every scratch database it created, on both sides.
pub async fn run(fixture: Fixture) -> Outcomes {
    CREATED
        .scope(Default::default(), async {
            let out = run_inner(fixture).await;
            for db in CREATED.with(|c| c.borrow().clone()) {
                drop_dbs(&db, &format!("{db}_d")).await;
            }
            out
        })
        .await
}

async fn run_inner(fixture: Fixture) -> Outcomes {
    match fixture {
        Fixture::SnapshotInsert => snapshot(Path::SnapshotInsert, true, "load_data = false").await,
        Fixture::SnapshotLoadData => {
            snapshot(Path::SnapshotLoadData, true, "load_data = true").await
        }
        Fixture::Keyless => snapshot(Path::KeylessSnapshot, false, "").await,
        Fixture::Binlog => binlog(false).await,
        Fixture::TwoWay => binlog(true).await,
        Fixture::Verification => verification().await,
        Fixture::Kafka(format) => super::kafka::run(format).await,
        Fixture::Adb => adb().await,
        Fixture::Masking => masking().await,
    }
}

/// A scratch database name: `tm_<what>_<pid>_<n>`.
pub fn unique(what: &str) -> String {
    use std::sync::atomic::{AtomicU32, Ordering};
    static N: AtomicU32 = AtomicU32::new(0);
    let name = format!(
        "tm_{what}_{}_{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    );
    let _ = CREATED.try_with(|c| c.borrow_mut().push(name.clone()));
    name
}

/// The key column of a fixture's tables.
pub fn key(keyed: bool) -> &'static str {
    if keyed {
        "id"
    } else {
        "n"
    }
}

/// Creates `db` with one table per case; with `rows`, writes every case's rows (ids 1…).
pub async fn create(db: &str, keyed: bool, rows: bool) {
    let mut c = connect(&env("DTS_TEST_SOURCE_URL")).await;
    exec(&mut c, &format!("DROP DATABASE IF EXISTS `{db}`")).await;
    exec(
        &mut c,
        &format!("CREATE DATABASE `{db}` DEFAULT CHARSET utf8mb4"),
    )
    .await;
    for case in cases() {
        let k = if keyed { "id INT PRIMARY KEY" } else { "n INT" };
        exec(
            &mut c,
            &format!(
                "CREATE TABLE `{db}`.`{}` ({k}, {})",
                case.table(),
                case.columns
            ),
        )
        .await;
        if rows {
            insert(&mut c, db, case, key(keyed), 0).await;
        }
    }
}

/// One multi-row INSERT of every row of `case`, keys `offset + 1…`.
pub async fn insert(c: &mut Conn, db: &str, case: &TypeCase, key: &str, offset: usize) {
    let values: Vec<String> = case
        .all_rows()
        .iter()
        .enumerate()
        .map(|(i, r)| format!("({}, {r})", offset + i + 1))
        .collect();
    exec(
        c,
        &format!(
            "INSERT INTO `{db}`.`{}` (`{key}`, {}) VALUES {}",
            case.table(),
            case.insert,
            values.join(", ")
        ),
    )
    .await;
}

/// Every row of `case` takes the next declared row's values, in one statement (an UPDATE
/// event of many rows).
pub async fn rotate(c: &mut Conn, db: &str, case: &TypeCase) {
    let rows = case.all_rows();
    let values: Vec<String> = (0..rows.len())
        .map(|i| format!("({}, {})", i + 1, rows[(i + 1) % rows.len()]))
        .collect();
    let set: Vec<String> = case
        .insert
        .split(',')
        .map(|c| format!("`{0}` = VALUES(`{0}`)", c.trim()))
        .collect();
    exec(
        c,
        &format!(
            "INSERT INTO `{db}`.`{}` (id, {}) VALUES {} ON DUPLICATE KEY UPDATE {}",
            case.table(),
            case.insert,
            values.join(", "),
            set.join(", ")
        ),
    )
    .await;
}

pub async fn exec(c: &mut Conn, sql: &str) {
    c.query_drop(sql).await.unwrap_or_else(|e| {
        let shown: String = sql.chars().take(300).collect();
        panic!("{shown}: {e}")
    });
}

/// A table's rows as the server prints them (text protocol), ordered by key.
pub async fn rows_of(
    c: &mut Conn,
    db: &str,
    case: &TypeCase,
    key: &str,
) -> Result<Vec<Vec<Option<Vec<u8>>>>, String> {
    let sql = format!(
        "SELECT {} FROM `{db}`.`{}` ORDER BY `{key}`",
        case.select_list(key),
        case.table()
    );
    let rows: Vec<mysql_async::Row> = c.query(&sql).await.map_err(|e| format!("{sql}: {e}"))?;
    Ok(rows
        .into_iter()
        .map(|r| {
            r.unwrap()
                .into_iter()
                .map(|v| match v {
                    mysql_async::Value::NULL => None,
                    mysql_async::Value::Bytes(b) => Some(b),
                    other => Some(other.as_sql(true).into_bytes()),
                })
                .collect()
        })
        .collect())
}

/// Rows in canonical text (see `canon.rs`): the key, then the compared columns.
pub fn canonical(
    rows: &[Vec<Option<Vec<u8>>>],
    case: &TypeCase,
    mapped: bool,
) -> Vec<Vec<Option<String>>> {
    let families: Vec<_> = case.compared().into_iter().map(|(_, f)| f).collect();
    rows.iter()
        .map(|r| {
            let mut out = vec![r[0]
                .as_deref()
                .map(|k| String::from_utf8_lossy(k).into_owned())];
            for (v, f) in r[1..].iter().zip(&families) {
                out.push(if mapped {
                    canon::of_mapped_text(*f, v.as_deref())
                } else {
                    canon::of_server_text(*f, v.as_deref())
                });
            }
            out
        })
        .collect()
}

/// Describes how two row lists differ (first differing row, values shortened).
pub fn diff<T: std::fmt::Debug + PartialEq>(src: &[T], dst: &[T]) -> String {
    let short = |v: &T| {
        let s = format!("{v:?}");
        if s.len() > 300 {
            format!("{}…({} chars)", &s[..s.floor_char_boundary(300)], s.len())
        } else {
            s
        }
    };
    if src.len() != dst.len() {
        return format!(
            "source has {} rows, destination {}; source {:?}, destination {:?}",
            src.len(),
            dst.len(),
            src.iter().map(short).collect::<Vec<_>>(),
            dst.iter().map(short).collect::<Vec<_>>()
        );
    }
    for (a, b) in src.iter().zip(dst) {
        if a != b {
            return format!("source row {} ≠ destination row {}", short(a), short(b));
        }
    }
    "equal".into()
}

/// Compares one case's table on both sides: raw server text for MySQL destinations,
/// canonical text where the destination maps types (`mapped`).
pub async fn compare(
    s: &mut Conn,
    d: &mut Conn,
    src_db: &str,
    dst_db: &str,
    case: &TypeCase,
    key: &str,
    mapped: bool,
) -> Outcome {
    if mapped && case.generated() {
        // AnalyticDB holds no generated columns (its assessment says so): the other columns
        // arrive, `v` does not.
        let has_v: Option<u64> = d
            .exec_first(
                "SELECT COUNT(*) FROM information_schema.COLUMNS \
                 WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ? AND COLUMN_NAME = 'v'",
                (dst_db, case.table()),
            )
            .await
            .map_err(|e| e.to_string())?;
        if has_v != Some(0) {
            return Err("the generated column reached AnalyticDB".into());
        }
        let sql = |db: &str| {
            format!(
                "SELECT `{key}`, `base` FROM `{db}`.`{}` ORDER BY 1",
                case.table()
            )
        };
        let a: Vec<(Option<i64>, Option<i64>)> =
            s.query(sql(src_db)).await.map_err(|e| e.to_string())?;
        let b: Vec<(Option<i64>, Option<i64>)> =
            d.query(sql(dst_db)).await.map_err(|e| e.to_string())?;
        return if a == b { Ok(()) } else { Err(diff(&a, &b)) };
    }
    let a = rows_of(s, src_db, case, key).await?;
    let b = rows_of(d, dst_db, case, key).await?;
    if mapped {
        let (a, b) = (canonical(&a, case, false), canonical(&b, case, true));
        if a == b {
            return Ok(());
        }
        return Err(diff(&a, &b));
    }
    if a == b {
        Ok(())
    } else {
        Err(diff(
            &canonical(&a, case, false),
            &canonical(&b, case, false),
        ))
        .map_err(|e| format!("{e} (raw rows differ)"))
    }
}

/// Waits until every case's table is the same on both sides (or `within` passes, or the task
/// fails), then gives each case's outcome.
pub async fn wait_equal(
    handle: Option<&TaskHandle>,
    src_db: &str,
    dst_db: &str,
    keyed: bool,
    mapped: bool,
    within: Duration,
) -> HashMap<&'static str, Outcome> {
    let mut s = connect(&env("DTS_TEST_SOURCE_URL")).await;
    let mut d = connect(&env("DTS_TEST_DEST_URL")).await;
    let deadline = Instant::now() + within;
    let mut pending: Vec<&'static TypeCase> = cases();
    let mut out = HashMap::new();
    loop {
        let mut still = Vec::new();
        for case in pending {
            match compare(&mut s, &mut d, src_db, dst_db, case, key(keyed), mapped).await {
                Ok(()) => {
                    out.insert(case.name, Ok(()));
                }
                Err(e) => {
                    out.insert(case.name, Err(e));
                    still.push(case);
                }
            }
        }
        pending = still;
        let failure = handle.and_then(|h| {
            h.status()
                .failure()
                .map(|(s, m)| format!("task failed in {s}: {m}"))
        });
        if pending.is_empty() || Instant::now() > deadline || failure.is_some() {
            for case in pending {
                let e = out
                    .remove(case.name)
                    .unwrap_or_else(|| Err(String::new()))
                    .unwrap_err();
                let why = match &failure {
                    Some(f) => format!("{f}{COMPARED}{}: {e}", case.table()),
                    None => format!("not equal after {within:?}: {e}"),
                };
                out.insert(case.name, Err(why));
            }
            return out;
        }
        // The poll interval of a wait that records an outcome per type instead of failing at
        // the first (`dts_testkit::eventually` fails the whole wait).
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

/// Separates a task's failure from the comparison of one case's table in an outcome.
pub const COMPARED: &str = " — compared table ";

/// A task file over the test servers: `src_db` copied to `dst_db` into `destination`. An ADB
/// destination's `destination.dropped_definitions` (an INVISIBLE column becomes an ordinary
/// one there) is acknowledged: the matrix compares values.
pub fn task_toml(id: &str, src_db: &str, dst_db: &str, destination: &str, rest: &str) -> String {
    let (sh, sp) = host_port(&env("DTS_TEST_SOURCE_URL"));
    format!(
        "id = \"{id}\"\n\
         acknowledge_warnings = [\"source.tables_without_primary_key\", \"destination.message_size\", \"destination.existing_tables\", \"destination.dropped_definitions\"]\n\
         [source]\nhost = \"{sh}\"\nport = {sp}\nuser = \"root\"\ndatabase_type = \"mariadb\"\n\n\
         [destination]\n{destination}\n\n\
         [[objects.databases]]\nname = \"{src_db}\"\nrename_to = \"{dst_db}\"\n\n{rest}\n"
    )
}

/// The `[destination]` keys of the test MySQL destination.
pub fn mysql_destination(extra: &str) -> String {
    let (dh, dp) = host_port(&env("DTS_TEST_DEST_URL"));
    format!("type = \"mysql\"\nhost = \"{dh}\"\nport = {dp}\nuser = \"root\"\n{extra}")
}

pub fn parse(toml: &str) -> TaskConfig {
    TaskConfig::from_toml_str(toml).unwrap_or_else(|e| panic!("{e}\n{toml}"))
}

/// Every case failing with the same reason.
pub fn all_failed(paths: &[Path], why: &str) -> Outcomes {
    let mut out = Outcomes::new();
    for p in paths {
        for c in cases() {
            out.insert((*p, c.name), Err(why.to_string()));
        }
    }
    out
}

/// Drops the scratch databases on both sides.
pub async fn drop_dbs(src_db: &str, dst_db: &str) {
    let mut s = connect(&env("DTS_TEST_SOURCE_URL")).await;
    let mut d = connect(&env("DTS_TEST_DEST_URL")).await;
    exec(&mut s, &format!("DROP DATABASE IF EXISTS `{src_db}`")).await;
    exec(&mut d, &format!("DROP DATABASE IF EXISTS `{dst_db}`")).await;
}

const WHOLE: &str = "[sync_types]\nschema = true\nfull_data = true\nincremental = true\n";

/// Full sync of tables that hold every row already; no incremental stage.
async fn snapshot(path: Path, keyed: bool, destination_extra: &str) -> Outcomes {
    let src = unique(if keyed { "snap" } else { "keyless" });
    let dst = format!("{src}_d");
    create(&src, keyed, true).await;
    let config = parse(&task_toml(
        &src,
        &src,
        &dst,
        &mysql_destination(destination_extra),
        WHOLE,
    ));
    let state = tempfile::tempdir().unwrap();
    let built = match dts_mysql::build_mysql_task(&config, state.path(), None).await {
        Ok(b) => b,
        Err(e) => return all_failed(&[path], &format!("task not built: {e}")),
    };
    // Small chunks, so each table is read in several.
    let task = Arc::new(built.task.with_chunk_rows(2));
    let handle = task.handle();
    let runner = {
        let task = task.clone();
        tokio::spawn(async move { task.run().await })
    };
    let out = match dts_testkit::try_wait_incremental(&handle, Duration::from_secs(300)).await {
        Err(e) => all_failed(&[path], &e),
        Ok(()) => wait_equal(Some(&handle), &src, &dst, keyed, false, Duration::ZERO)
            .await
            .into_iter()
            .map(|(c, o)| ((path, c), o))
            .collect(),
    };
    handle.stop();
    let _ = tokio::time::timeout(Duration::from_secs(30), runner).await;
    drop_dbs(&src, &dst).await;
    out
}

/// Incremental changes of every kind to tables the task copied empty.
async fn binlog(two_way: bool) -> Outcomes {
    let src = unique(if two_way { "twoway" } else { "binlog" });
    let dst = format!("{src}_d");
    create(&src, true, false).await;
    let topology = if two_way {
        format!(
            "[topology]\nmode = \"two_way\"\nconflict_policy = \"overwrite\"\nrole = \"forward\"\npartner_task_id = \"{src}-reverse\"\n"
        )
    } else {
        String::new()
    };
    let paths: Vec<Path> = if two_way {
        vec![Path::TwoWayApply]
    } else {
        paths_of(Fixture::Binlog)
    };
    let config = parse(&task_toml(
        &src,
        &src,
        &dst,
        &mysql_destination(""),
        &format!("{WHOLE}{topology}"),
    ));
    let state = tempfile::tempdir().unwrap();
    let built = match dts_mysql::build_mysql_task(&config, state.path(), None).await {
        Ok(b) => b,
        Err(e) => return all_failed(&paths, &format!("task not built: {e}")),
    };
    let handle = built.task.handle();
    let task = Arc::new(built.task);
    let runner = {
        let task = task.clone();
        tokio::spawn(async move { task.run().await })
    };
    let mut out = Outcomes::new();
    if let Err(e) = dts_testkit::try_wait_incremental(&handle, Duration::from_secs(120)).await {
        return all_failed(&paths, &e);
    }
    let mut s = connect(&env("DTS_TEST_SOURCE_URL")).await;
    type Step = fn(&'static TypeCase) -> String;
    let steps: [(Path, Step); 4] = [
        (Path::BinlogInsert, |_| String::new()),
        (Path::BinlogUpdate, |_| String::new()),
        (Path::BinlogKeyChange, |c| {
            format!("UPDATE `{{db}}`.`{}` SET id = id + 1000", c.table())
        }),
        (Path::BinlogDelete, |c| {
            format!("DELETE FROM `{{db}}`.`{}` WHERE id % 2 = 0", c.table())
        }),
    ];
    let mut two_way_result: HashMap<&'static str, Outcome> = HashMap::new();
    for (i, (path, step)) in steps.iter().enumerate() {
        for case in cases() {
            match i {
                0 => insert(&mut s, &src, case, "id", 0).await,
                1 => rotate(&mut s, &src, case).await,
                _ => exec(&mut s, &step(case).replace("{db}", &src)).await,
            }
        }
        let phase = wait_equal(
            Some(&handle),
            &src,
            &dst,
            true,
            false,
            Duration::from_secs(60),
        )
        .await;
        for (c, o) in phase {
            if two_way {
                let entry = two_way_result.entry(c).or_insert(Ok(()));
                if entry.is_ok() {
                    *entry = o.map_err(|e| format!("after {path:?}: {e}"));
                }
            } else {
                out.insert((*path, c), o);
            }
        }
    }
    for (c, o) in two_way_result {
        out.insert((Path::TwoWayApply, c), o);
    }
    handle.stop();
    let _ = tokio::time::timeout(Duration::from_secs(30), runner).await;
    drop_dbs(&src, &dst).await;
    out
}

/// Full data verification (every row compared) and schema verification after the copy.
async fn verification() -> Outcomes {
    let path = Path::Verification;
    let src = unique("verify");
    let dst = format!("{src}_d");
    create(&src, true, true).await;
    let config = parse(&task_toml(
        &src,
        &src,
        &dst,
        &mysql_destination(""),
        &format!(
            "{WHOLE}[validation]\nfull_mode = \"sampled\"\nsampling_percent = 100\nschema = true\n"
        ),
    ));
    let state = tempfile::tempdir().unwrap();
    let built = match dts_mysql::build_mysql_task(&config, state.path(), None).await {
        Ok(b) => b,
        Err(e) => return all_failed(&[path], &format!("task not built: {e}")),
    };
    let verification = built.spawn_verification().expect("verification configured");
    let handle = built.task.handle();
    let task = Arc::new(built.task);
    let runner = {
        let task = task.clone();
        tokio::spawn(async move { task.run().await })
    };
    let report = tokio::time::timeout(Duration::from_secs(240), verification).await;
    let mut out = Outcomes::new();
    match report {
        Err(_) => out = all_failed(&[path], "verification did not finish in 240 s"),
        Ok(Err(e)) => out = all_failed(&[path], &format!("verification panicked: {e}")),
        Ok(Ok(Err(e))) => out = all_failed(&[path], &format!("verification failed: {e}")),
        Ok(Ok(Ok(report))) => {
            for case in cases() {
                let table = case.table();
                let rows = case.all_rows().len() as u64;
                let o = match report.table(&TableId::new(&src, &table)) {
                    None => Err(format!("no report for {table}: {}", report.to_text())),
                    Some(t) if t.checked != rows || t.inconsistent() != 0 => Err(format!(
                        "{table}: checked {} of {rows} rows, {} inconsistent: {:?}",
                        t.checked,
                        t.inconsistent(),
                        t
                    )),
                    Some(_) => {
                        let schema: Vec<_> = report
                            .schema
                            .iter()
                            .filter(|d| d.table.table == table)
                            .collect();
                        let errors: Vec<_> = report
                            .errors
                            .iter()
                            .filter(|e| e.contains(&table))
                            .collect();
                        if schema.is_empty() && errors.is_empty() {
                            Ok(())
                        } else {
                            Err(format!(
                                "{table}: schema differences {schema:?}, errors {errors:?}"
                            ))
                        }
                    }
                };
                out.insert((path, case.name), o);
            }
        }
    }
    handle.stop();
    let _ = tokio::time::timeout(Duration::from_secs(30), runner).await;
    drop_dbs(&src, &dst).await;
    out
}

/// The AnalyticDB write path (a MariaDB server standing in): copy, then updates and deletes;
/// compared in canonical text, since ADB holds some types as others.
async fn adb() -> Outcomes {
    let path = Path::Adb;
    let src = unique("adb");
    let dst = format!("{src}_d");
    create(&src, true, true).await;
    let (dh, dp) = host_port(&env("DTS_TEST_DEST_URL"));
    let destination = format!(
        "type = \"adb\"\nhost = \"{dh}\"\nport = {dp}\nuser = \"root\"\nmariadb_compat = true\nflush_interval_ms = 200\n"
    );
    let config = parse(&task_toml(&src, &src, &dst, &destination, WHOLE));
    let state = tempfile::tempdir().unwrap();
    let built = match dts_examples::runner::compose_task(&config, state.path(), None).await {
        Ok(b) => b,
        Err(e) => return all_failed(&[path], &format!("task not built: {e}")),
    };
    let handle = built.task.handle();
    let task = Arc::new(built.task);
    let runner = {
        let task = task.clone();
        tokio::spawn(async move { task.run().await })
    };
    if let Err(e) = dts_testkit::try_wait_incremental(&handle, Duration::from_secs(120)).await {
        return all_failed(&[path], &e);
    }
    let mut s = connect(&env("DTS_TEST_SOURCE_URL")).await;
    for case in cases() {
        rotate(&mut s, &src, case).await;
        exec(
            &mut s,
            &format!("DELETE FROM `{src}`.`{}` WHERE id = 1", case.table()),
        )
        .await;
    }
    let out = wait_equal(
        Some(&handle),
        &src,
        &dst,
        true,
        true,
        Duration::from_secs(60),
    )
    .await
    .into_iter()
    .map(|(c, o)| ((path, c), o))
    .collect();
    handle.stop();
    let _ = tokio::time::timeout(Duration::from_secs(30), runner).await;
    drop_dbs(&src, &dst).await;
    out
}

/// Masking with `redact`: a maskable column arrives masked (NULL stays NULL, every other value
/// is the one mask, the key and other columns untouched); for any other the task is refused
/// before it copies anything, naming the column.
async fn masking() -> Outcomes {
    let path = Path::Masking;
    let src = unique("mask");
    let dst = format!("{src}_d");
    create(&src, true, true).await;
    let rule = |case: &TypeCase| {
        format!(
            "[[advanced.masking.rules]]\ndatabase = \"{src}\"\ntable = \"{}\"\ncolumn = \"v\"\nmethod = \"redact\"\n",
            case.table()
        )
    };
    let mut out = Outcomes::new();
    // Every column that cannot be masked is refused on its own.
    for case in cases().into_iter().filter(|c| !c.maskable) {
        let mut toml = task_toml(
            &format!("{src}-{}", case.name),
            &src,
            &dst,
            &mysql_destination(""),
            &format!("{WHOLE}[advanced.masking]\nenabled = true\n{}", rule(case)),
        );
        // Only the case's table is selected.
        toml = toml.replace(
            &format!("rename_to = \"{dst}\"\n"),
            &format!(
                "rename_to = \"{dst}\"\n[[objects.databases.tables]]\nname = \"{}\"\n",
                case.table()
            ),
        );
        let config = parse(&toml);
        let state = tempfile::tempdir().unwrap();
        let o = match dts_mysql::build_mysql_task(&config, state.path(), None).await {
            Err(e) => refused_naming(&e.to_string(), case),
            Ok(built) => match run_to_incremental(built.task).await {
                Ok(()) => {
                    Err("a column the engine cannot mask was copied without a refusal".into())
                }
                Err(e) => {
                    let mut d = connect(&env("DTS_TEST_DEST_URL")).await;
                    let copied: Option<u64> = d
                        .query_first(format!(
                            "SELECT COUNT(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA = '{dst}'"
                        ))
                        .await
                        .unwrap();
                    if copied.unwrap_or(0) > 0 {
                        Err(format!("refused only after creating tables: {e}"))
                    } else {
                        refused_naming(&e.to_string(), case)
                    }
                }
            },
        };
        out.insert((path, case.name), o);
    }
    // Every maskable column in one task.
    let rules: String = cases()
        .into_iter()
        .filter(|c| c.maskable)
        .map(rule)
        .collect();
    let config = parse(&task_toml(
        &src,
        &src,
        &dst,
        &mysql_destination(""),
        &format!("{WHOLE}[advanced.masking]\nenabled = true\n{rules}"),
    ));
    let state = tempfile::tempdir().unwrap();
    let run = match dts_mysql::build_mysql_task(&config, state.path(), None).await {
        Ok(b) => run_to_incremental(b.task).await,
        Err(e) => Err(format!("task not built: {e}")),
    };
    let mut s = connect(&env("DTS_TEST_SOURCE_URL")).await;
    let mut d = connect(&env("DTS_TEST_DEST_URL")).await;
    for case in cases().into_iter().filter(|c| c.maskable) {
        let o = match &run {
            Err(e) => Err(format!("masked copy failed: {e}")),
            Ok(()) => masked_correctly(&mut s, &mut d, &src, &dst, case).await,
        };
        out.insert((path, case.name), o);
    }
    drop_dbs(&src, &dst).await;
    out
}

fn refused_naming(message: &str, case: &TypeCase) -> Outcome {
    if message.contains(&case.table()) && message.contains("`v`") {
        Ok(())
    } else {
        Err(format!(
            "refused without naming table {} and column `v`: {message}",
            case.table()
        ))
    }
}

async fn masked_correctly(
    s: &mut Conn,
    d: &mut Conn,
    src: &str,
    dst: &str,
    case: &TypeCase,
) -> Outcome {
    let a = rows_of(s, src, case, "id").await?;
    let b = rows_of(d, dst, case, "id").await?;
    if a.len() != b.len() {
        return Err(diff(&a, &b));
    }
    let v = a[0].len() - 1;
    let mut mask: Option<&Option<Vec<u8>>> = None;
    for (x, y) in a.iter().zip(&b) {
        if x[..v] != y[..v] {
            return Err(format!("unmasked columns changed: {}", diff(&a, &b)));
        }
        match (&x[v], &y[v]) {
            (None, None) => {}
            (None, Some(_)) | (Some(_), None) => {
                return Err(format!("NULL not kept as NULL: {}", diff(&a, &b)))
            }
            (Some(_), masked) => match mask {
                None => mask = Some(masked),
                Some(m) if m == masked => {}
                Some(m) => return Err(format!("two different masks {m:?} and {masked:?}")),
            },
        }
    }
    // Some value must actually have changed (a declared value equal to the mask would not).
    if a.iter().zip(&b).all(|(x, y)| x[v] == y[v]) {
        return Err(format!("nothing was masked: {}", diff(&a, &b)));
    }
    Ok(())
}

/// Runs a task until its copy is done (incremental write running), then stops it; `Err` with
/// its failure.
async fn run_to_incremental(task: dts_core::Task) -> Result<(), String> {
    let task = Arc::new(task);
    let handle = task.handle();
    let runner = {
        let task = task.clone();
        tokio::spawn(async move { task.run().await })
    };
    let reached = dts_testkit::try_wait_incremental(&handle, Duration::from_secs(300)).await;
    handle.stop();
    let ended = tokio::time::timeout(Duration::from_secs(30), runner).await;
    match (reached, ended) {
        (Ok(()), _) => Ok(()),
        (Err(_), Ok(Ok(Err(e)))) => Err(e.to_string()),
        (Err(e), _) => Err(e),
    }
}
