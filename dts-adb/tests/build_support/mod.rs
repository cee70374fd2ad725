//! Composing an ADB task from a configuration the way a host does: the MySQL source connector
//! and the ADB sink connector registered with the core task builder.

use dts_adb::{AdbSink, AdbSinkFactory};
use dts_core::build::{TaskBuilder, VerificationRun};
use dts_core::config::TaskConfig;
use dts_core::verify::VerificationJob;
use dts_core::{Error, Task};
use std::path::Path;
use std::sync::Arc;

/// A built ADB task with its typed sink.
#[allow(dead_code)]
pub struct AdbTask {
    pub task: Task,
    pub sink: Arc<AdbSink>,
    pub verification: Option<Arc<VerificationJob>>,
}

#[allow(dead_code)]
impl AdbTask {
    /// Starts the configured verification beside the task.
    pub fn spawn_verification(&self) -> Option<VerificationRun> {
        let job = self.verification.clone()?;
        Some(job.spawn(self.task.handle()))
    }
}

/// Builds `config`'s task, keeping progress under `state`.
pub async fn build_adb_task(config: &TaskConfig, state: &Path) -> Result<AdbTask, Error> {
    let sinks = AdbSinkFactory::default();
    let built = TaskBuilder::new(config, state)
        .source(dts_mysql::MysqlSourceFactory::default())
        .sink(sinks.clone())
        .build()
        .await?;
    let sink = sinks.built().expect("the ADB factory built the sink");
    Ok(AdbTask {
        task: built.task,
        sink,
        verification: built.verification,
    })
}
