//! Two-way synchronization between two MariaDB/MySQL servers, with a user-defined conflict
//! policy: when both sides changed the same row, the image with the newest `updated_at` wins
//! ([`dts_examples::two_way_policy::NewestUpdatedAtWins`]), so both sides converge.
//!
//! The forward task (A → B) creates and copies the database's tables, then the reverse task
//! (B → A) starts, incremental only, as the guide orders it. Each task's reader drops what its
//! partner applied, so nothing echoes. Tables should carry an `updated_at TIMESTAMP(6)` column
//! that applications set on every change.
//!
//! ```sh
//! scripts/test-env.sh up && eval "$(scripts/test-env.sh env)"
//! cargo run --example two_way -- shop      # A = DTS_TEST_SOURCE_URL, B = DTS_TEST_PEER_URL
//! ```

use dts_core::config::TwoWayRole;
use dts_core::{Stage, StageStatus};
use dts_examples::two_way_policy::NewestUpdatedAtWins;
use dts_mysql::two_way::TwoWayTaskOptions;
use dts_mysql::MysqlEndpoint;
use std::sync::Arc;
use std::time::Duration;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    tracing_subscriber::fmt().with_target(false).init();
    let database = std::env::args().nth(1).unwrap_or_else(|| "shop".into());
    let url = |var: &str, default: &str| std::env::var(var).unwrap_or_else(|_| default.into());
    let a = MysqlEndpoint::from_url(
        "A",
        &url("DTS_TEST_SOURCE_URL", "mysql://root@127.0.0.1:33061"),
    )?;
    let b = MysqlEndpoint::from_url(
        "B",
        &url("DTS_TEST_PEER_URL", "mysql://root@127.0.0.1:33063"),
    )?;
    let state = std::env::temp_dir();
    let (forward_id, reverse_id) = (format!("fwd-{database}"), format!("rev-{database}"));
    let options = |id: &str, partner: &str, role| {
        let mut o = TwoWayTaskOptions::new(
            id,
            partner,
            role,
            [database.clone()],
            state.join(format!("{id}.json")),
        );
        o.policy = Arc::new(NewestUpdatedAtWins::default());
        o.task_options.conflicting_tables = dts_core::ConflictingTables::IgnoreErrorsAndProceed;
        o
    };
    let (forward, _, _) = options(&forward_id, &reverse_id, TwoWayRole::Forward)
        .build(a.clone(), b.clone())
        .await?;
    let forward_handle = forward.handle();
    let forward_run = tokio::spawn(async move { forward.run().await });
    // The reverse task starts once the forward task is in incremental write.
    while forward_handle
        .status()
        .stage(Stage::IncrementalWrite)
        .status
        != StageStatus::Running
    {
        if let Some((stage, message)) = forward_handle.status().failure() {
            return Err(format!("forward task failed in {stage}: {message}").into());
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let (reverse, _, _) = options(&reverse_id, &forward_id, TwoWayRole::Reverse)
        .build(b, a)
        .await?;
    let reverse_handle = reverse.handle();
    let reverse_run = tokio::spawn(async move { reverse.run().await });
    println!("two-way synchronization of `{database}` running; Ctrl-C stops both tasks");
    tokio::signal::ctrl_c().await?;
    forward_handle.stop();
    reverse_handle.stop();
    forward_run.await??;
    reverse_run.await??;
    Ok(())
}
