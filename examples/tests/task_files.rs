//! The task files shipped under `examples/tasks/`: every one parses, validates and uses no
//! option a builder refuses; those whose accounts the test servers have are built the way the
//! runner builds them and prechecked against the servers. A declared `database_type` that is
//! not the server's flavour is a precheck error naming both.

use dts_core::config::{DestinationConfig, TaskConfig};
use dts_core::{CheckLevel, PrecheckReport};
use std::path::{Path, PathBuf};

fn task_files() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tasks");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .collect();
    files.sort();
    assert!(
        files.len() >= 5,
        "task files in {}: {files:?}",
        dir.display()
    );
    files
}

#[test]
fn every_shipped_task_file_parses_and_uses_only_supported_options() {
    for file in task_files() {
        let config =
            TaskConfig::from_toml_file(&file).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
        config
            .validate()
            .unwrap_or_else(|e| panic!("{}: {e}", file.display()));
        let refused = dts_mysql::from_config::unsupported_options(&config);
        assert!(
            refused.is_empty(),
            "{}: refused {refused:?}",
            file.display()
        );
    }
}

async fn precheck(config: &TaskConfig) -> PrecheckReport {
    let state = tempfile::tempdir().unwrap();
    let task = match &config.destination {
        DestinationConfig::Mysql(_) => {
            dts_mysql::from_config::build_mysql_task(config, state.path(), None)
                .await
                .unwrap()
                .task
        }
        DestinationConfig::Adb(_) => {
            dts_adb::from_config::build_adb_task(config, state.path(), None)
                .await
                .unwrap()
                .task
        }
        DestinationConfig::Kafka(kafka) => {
            let parts = dts_mysql::from_config::build_parts(config, state.path(), false)
                .await
                .unwrap();
            let options = dts_kafka::KafkaSinkOptions::from_config(kafka, parts.task_id.clone());
            let sink = std::sync::Arc::new(dts_kafka::KafkaSink::connect(options).await.unwrap());
            parts.into_task(config, sink, None).unwrap()
        }
    };
    task.precheck().await.unwrap()
}

/// The files whose accounts (root without a password) the test servers have.
const RUNNABLE: [&str; 3] = [
    "quickstart.toml",
    "mysql_to_adb.toml",
    "mysql_to_kafka.toml",
];

#[tokio::test]
async fn shipped_task_files_build_and_precheck_against_the_test_servers() {
    for file in task_files() {
        let name = file.file_name().unwrap().to_string_lossy().to_string();
        if !RUNNABLE.contains(&name.as_str()) {
            continue;
        }
        let config = TaskConfig::from_toml_file(&file).unwrap();
        let report = precheck(&config).await;
        let declared = report
            .get("source.database_type")
            .unwrap_or_else(|| panic!("{name}: no source.database_type check"));
        assert_eq!(declared.level, CheckLevel::Pass, "{name}: {declared:?}");
        // The runner reaches every check; a failed one names what to fix.
        assert!(report.checks.len() > 5, "{name}: {:?}", report.checks);
        for c in report
            .checks
            .iter()
            .filter(|c| c.level == CheckLevel::Error)
        {
            assert!(!c.fix.is_empty(), "{name}: {c:?} has no fix");
        }
    }
}

#[tokio::test]
async fn a_declared_database_type_that_is_not_the_servers_is_a_precheck_error() {
    let file = Path::new(env!("CARGO_MANIFEST_DIR")).join("tasks/quickstart.toml");
    let text = std::fs::read_to_string(file).unwrap().replacen(
        "database_type = \"mariadb\"",
        "database_type = \"mysql\"",
        1,
    );
    let config = TaskConfig::from_toml_str(&text).unwrap();
    let report = precheck(&config).await;
    let c = report.get("source.database_type").unwrap();
    assert_eq!(c.level, CheckLevel::Error, "{c:?}");
    assert!(
        c.message.contains("\"mysql\"") && c.message.contains("mariadb"),
        "names both: {}",
        c.message
    );
}
