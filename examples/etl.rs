//! An ETL hook: every change to `shop.orders` gets its `email` column lower-cased, test orders
//! (`customer = 'test'`) are dropped, and the rest flows on unchanged.
//!
//! ```sh
//! scripts/test-env.sh up && eval "$(scripts/test-env.sh env)"
//! cargo run --example etl -- shop
//! ```
//!
//! A task file's `[advanced.etl]` (the guide's ETL script language) is refused when the task is
//! built; transforms are installed in code, as here, with `Task::with_etl`.

use dts_core::{DatabaseFilter, FileCheckpointStore, RowChange, Task, TaskOptions, Value};
use dts_mysql::sink::{MysqlSink, SinkOptions};
use dts_mysql::{MysqlEndpoint, MysqlSource, Scope, SourceOptions};
use std::sync::Arc;

/// The transform: modify, drop, or pass each change. (Returning several changes splits one.)
fn clean_orders(mut change: RowChange) -> Vec<RowChange> {
    if change.table().table != "orders" {
        return vec![change];
    }
    let column = |name: &str| change.schema.column_index(name);
    if let Some(i) = column("customer") {
        let image = change.after.as_ref().or(change.before.as_ref());
        if image.is_some_and(|r| r[i] == Value::Text("test".into())) {
            return vec![];
        }
    }
    if let (Some(i), Some(after)) = (column("email"), change.after.as_mut()) {
        if let Value::Text(email) = &after[i] {
            after[i] = Value::Text(email.to_lowercase());
        }
    }
    vec![change]
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let database = std::env::args().nth(1).unwrap_or_else(|| "shop".into());
    let url = |var: &str, default: &str| std::env::var(var).unwrap_or_else(|_| default.into());
    let source = MysqlSource::connect(
        MysqlEndpoint::from_url(
            "source",
            &url("DTS_TEST_SOURCE_URL", "mysql://root@127.0.0.1:33061"),
        )?,
        SourceOptions {
            scope: Scope {
                databases: vec![database.clone()],
            },
            ..Default::default()
        },
    )
    .await?;
    let task_id = format!("etl-{database}");
    let sink = MysqlSink::connect(
        MysqlEndpoint::from_url(
            "destination",
            &url("DTS_TEST_DEST_URL", "mysql://root@127.0.0.1:33062"),
        )?,
        SinkOptions {
            task_id: task_id.clone(),
            ..Default::default()
        },
    )
    .await?;
    let task = Task::new(
        Arc::new(source),
        Arc::new(sink),
        Arc::new(DatabaseFilter::new([database])),
        Arc::new(FileCheckpointStore::new(
            std::env::temp_dir().join(format!("{task_id}.json")),
        )),
        TaskOptions {
            task_id,
            conflicting_tables: dts_core::ConflictingTables::IgnoreErrorsAndProceed,
            ..Default::default()
        },
    )
    .with_etl(Arc::new(clean_orders));
    let stopper = task.handle();
    tokio::spawn(async move {
        let _ = tokio::signal::ctrl_c().await;
        stopper.stop();
    });
    task.run().await?;
    Ok(())
}
