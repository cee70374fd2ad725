//! The smallest useful composition: copy the `shop` database from one MariaDB/MySQL server to
//! another and keep it in step, printing progress until Ctrl-C.
//!
//! ```sh
//! scripts/test-env.sh up && eval "$(scripts/test-env.sh env)"
//! cargo run --example mysql_to_mysql -- shop
//! ```

use dts_core::{DatabaseFilter, FileCheckpointStore, Task, TaskOptions};
use dts_mysql::sink::{MysqlSink, SinkOptions};
use dts_mysql::{MysqlEndpoint, MysqlSource, Scope, SourceOptions};
use std::sync::Arc;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let database = std::env::args().nth(1).unwrap_or_else(|| "shop".into());
    let url = |var: &str, default: &str| std::env::var(var).unwrap_or_else(|_| default.into());
    let source_ep = MysqlEndpoint::from_url(
        "source",
        &url("DTS_TEST_SOURCE_URL", "mysql://root@127.0.0.1:33061"),
    )?;
    let dest_ep = MysqlEndpoint::from_url(
        "destination",
        &url("DTS_TEST_DEST_URL", "mysql://root@127.0.0.1:33062"),
    )?;

    let scope = Scope {
        databases: vec![database.clone()],
    };
    let source = MysqlSource::connect(
        source_ep,
        SourceOptions {
            scope,
            ..Default::default()
        },
    )
    .await?;
    let task_id = format!("example-{database}");
    let sink = MysqlSink::connect(
        dest_ep,
        SinkOptions {
            task_id: task_id.clone(),
            ..Default::default()
        },
    )
    .await?;
    let store = FileCheckpointStore::new(std::env::temp_dir().join(format!("{task_id}.json")));
    let options = TaskOptions {
        task_id,
        // Re-running the example reuses the tables it created.
        conflicting_tables: dts_core::ConflictingTables::IgnoreErrorsAndProceed,
        ..Default::default()
    };
    let task = Task::new(
        Arc::new(source),
        Arc::new(sink),
        Arc::new(DatabaseFilter::new([database])),
        Arc::new(store),
        options,
    );

    let handle = task.handle();
    tokio::spawn(async move {
        let mut ticker = tokio::time::interval(std::time::Duration::from_secs(1));
        loop {
            ticker.tick().await;
            let stage = handle.status().current();
            let p = handle.progress();
            println!(
                "{:<28} copied {:>9} rows | latency {:>6} ms | {:>8.0} rows/s",
                stage.map(|s| s.to_string()).unwrap_or_default(),
                p.tables.values().map(|t| t.rows_done).sum::<u64>(),
                p.incremental.latency_ms,
                p.incremental.rows_per_s,
            );
        }
    });
    let stopper = task.handle();
    tokio::spawn(async move {
        let _ = tokio::signal::ctrl_c().await;
        stopper.stop();
    });
    task.run().await?;
    println!("stopped; checkpoints saved");
    Ok(())
}
