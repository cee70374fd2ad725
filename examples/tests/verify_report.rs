//! The verification report as the `dts` program prints it (`dts run`, and the API's and the
//! console's verification text): a task built from a configuration with `[validation]` copies
//! two tables (one keyed by `id`, one by a composite key with a string), rows are then made to
//! differ at the destination, and the full verification's text names each key as a user
//! writes it (`id=208`, `(code='it''s', line=2)`), grouped per table and kind with counts, and
//! points to the repair SQL file, which makes the destination match when run there.

mod serve_support;

use dts_core::{Stage, StageStatus};
use dts_examples::runner::{compose_task, RepairReport};
use mysql_async::prelude::Queryable;
use serve_support::*;
use std::time::Duration;

const WAIT: Duration = Duration::from_secs(120);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_report_names_keys_per_table_and_points_to_a_repair_file_that_works() {
    let db = format!("ops_{}", unique("verify"));
    prepare(&db, 500).await;
    let mut src = connect("DTS_TEST_SOURCE_URL").await;
    exec_all(
        &mut src,
        &[
            format!(
                "CREATE TABLE `{db}`.lines (code VARCHAR(10), line INT, qty INT, PRIMARY KEY (code, line))"
            ),
            format!("INSERT INTO `{db}`.lines VALUES ('A-1', 1, 5), ('it''s', 2, 7), ('Z', 3, 9)"),
        ],
    )
    .await;
    let text = format!(
        "{}\n[validation]\nfull_mode = \"sampled\"\nsampling_percent = 100\n",
        task_toml(&db)
    );
    let config = dts_core::config::TaskConfig::from_toml_str(&text).unwrap();
    let state = tempfile::tempdir().unwrap();
    let composed = std::sync::Arc::new(compose_task(&config, state.path(), None).await.unwrap());

    // Copy, then stop once the full sync is done.
    let handle = composed.task.handle();
    let run = {
        let composed = composed.clone();
        tokio::spawn(async move { composed.task.run().await })
    };
    eventually(WAIT, "the full sync to finish", || async {
        let s = handle.status().stage(Stage::FullDataSync).status.clone();
        if let StageStatus::Failed(e) = &s {
            panic!("full sync failed: {e}");
        }
        (s == StageStatus::Finished).then_some(())
    })
    .await;
    handle.stop();
    run.await.unwrap().unwrap();

    // A missing, a different and an extra row in `t`, a missing row in `lines`.
    let mut dst = connect("DTS_TEST_DEST_URL").await;
    exec_all(
        &mut dst,
        &[
            format!("DELETE FROM `{db}`.t WHERE id = 208"),
            format!("UPDATE `{db}`.t SET v = 'changed' WHERE id = 7"),
            format!("INSERT INTO `{db}`.t VALUES (100000, 'extra', 'p')"),
            format!("DELETE FROM `{db}`.lines WHERE code = 'it''s'"),
        ],
    )
    .await;
    let job = composed
        .verification
        .clone()
        .expect("[validation] builds a job");
    let report = job.run_full().await.unwrap();
    assert_eq!(report.inconsistent(), 4, "{}", report.to_text());
    let shown = composed.report_text(&config, &report, state.path()).await;
    let text = shown.text;
    let repair = state.path().join(format!("{db}.repair.sql"));
    for expected in [
        format!("  {db}.t -> {db}.t: checked "),
        "missing       1: id=208\n".to_string(),
        "different     1: id=7\n".to_string(),
        "extra         1: id=100000\n".to_string(),
        "missing       1: (code='it''s', line=2)\n".to_string(),
        format!("  repair SQL: {}\n", repair.display()),
    ] {
        assert!(text.contains(&expected), "no {expected:?} in\n{text}");
    }
    assert!(!text.contains("Int("), "{text}");
    assert_eq!(shown.repair_sql_file.as_deref(), Some(repair.as_path()));

    // The repair file holds row values: the program's user alone reads it.
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&repair).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600, "{mode:o}");
    }
    // The repair file makes the destination match.
    let sql = std::fs::read_to_string(&repair).unwrap();
    let statements: Vec<&str> = sql
        .split(";\n")
        .map(str::trim)
        .filter(|s| !s.is_empty() && !s.starts_with("--"))
        .collect();
    assert!(statements.len() >= 4, "{sql}");
    for s in statements {
        dst.query_drop(s)
            .await
            .unwrap_or_else(|e| panic!("{s}: {e}"));
    }
    let again = job.run_full().await.unwrap();
    assert!(again.is_clean(), "{}", again.to_text());
    let clean = composed
        .report_text(&config, &again, state.path())
        .await
        .text;
    assert!(!clean.contains("repair SQL"), "{clean}");
    assert!(
        !repair.exists(),
        "the repair file of the earlier run is left"
    );
    cleanup(&db).await;
}

/// Through `dts serve`: a destination table that already holds a row the source lacks (the
/// task is told to proceed over existing tables), so the verification after the copy finds it;
/// the API's verification view (what the console shows) names the key, points to the repair
/// file and returns its statements.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_api_shows_the_keys_and_the_repair_sql() {
    let db = format!("ops_{}", unique("verify_api"));
    prepare(&db, 300).await;
    let mut dst = connect("DTS_TEST_DEST_URL").await;
    exec_all(
        &mut dst,
        &[
            format!("CREATE DATABASE `{db}`"),
            format!("CREATE TABLE `{db}`.t (id INT PRIMARY KEY, v VARCHAR(40), pad CHAR(100))"),
            format!("INSERT INTO `{db}`.t VALUES (90001, 'only here', 'p')"),
        ],
    )
    .await;
    let toml = task_toml(&db).replacen(
        &format!("id = \"{db}\"\n"),
        &format!("id = \"{db}\"\nconflicting_tables = \"ignore_errors_and_proceed\"\n"),
        1,
    ) + "\n[validation]\nfull_mode = \"sampled\"\nsampling_percent = 100\n";
    let state = tempfile::tempdir().unwrap();
    let server = Server::start(state.path(), &[]).await;
    server
        .expect(
            "POST",
            "/api/tasks",
            Some(serde_json::json!({ "toml": toml })),
            201,
        )
        .await;
    server
        .expect("POST", &format!("/api/tasks/{db}/start"), None, 200)
        .await;
    let v = eventually(WAIT, "the verification to finish", || async {
        // 404 until the run is composed and its verification is set up.
        let (status, v) = server
            .call("GET", &format!("/api/tasks/{db}/verification"), None)
            .await;
        if status == 404 {
            return None;
        }
        assert_eq!(status, 200, "{v}");
        if v["state"] == "failed" {
            panic!("verification failed: {v}");
        }
        (v["state"] == "finished").then_some(v)
    })
    .await;
    let text = v["text"].as_str().unwrap();
    assert!(text.contains("extra         1: id=90001\n"), "{text}");
    let file = state.path().join(format!("{db}.repair.sql"));
    assert_eq!(v["repair_sql_file"], file.display().to_string(), "{v}");
    assert!(
        text.contains(&format!("repair SQL: {}", file.display())),
        "{text}"
    );
    let sql = v["repair_sql"].as_str().unwrap();
    assert!(
        sql.contains(&format!("DELETE FROM `{db}`.`t` WHERE `id` = 90001")),
        "{sql}"
    );
    assert_eq!(sql, std::fs::read_to_string(&file).unwrap());
    drop(server);
    cleanup(&db).await;
}
