//! The verification report as the `dts` program prints it (`dts run`, and the API's and the
//! console's verification text): a task built from a configuration with `[validation]` copies
//! two tables (one keyed by `id`, one by a composite key with a string), rows are then made to
//! differ at the destination, and the full verification's text names each key as a user
//! writes it (`id=208`, `(code='it''s', line=2)`), grouped per table and kind with counts, and
//! points to the repair SQL file, which makes the destination match when run there.

mod serve_support;

use dts_core::{Stage, StageStatus};
use dts_examples::runner::compose_task;
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
    let text = composed.report_text(&config, &report, state.path()).await;
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
    let clean = composed.report_text(&config, &again, state.path()).await;
    assert!(!clean.contains("repair SQL"), "{clean}");
    assert!(
        !repair.exists(),
        "the repair file of the earlier run is left"
    );
    cleanup(&db).await;
}
