//! The metrics the `dts` program publishes beside the engine's own, read from a task's status
//! and progress (`--metrics-addr`, Prometheus text format), so that the dashboard and the alert
//! rules of `examples/monitoring/` have every figure they chart:
//!
//! | metric | labels | what |
//! | --- | --- | --- |
//! | `dts_task_info` | `task`, `environment_tag`, `scene_label` | always 1: the task's labels (the guide's environment tag and scene label, empty when unset), for joining onto every other series (`* on (task) group_left (environment_tag, scene_label) dts_task_info`) |
//! | `dts_stage_status` | `task`, `stage` | 0 not started, 1 running, 2 paused, 3 finished, 4 failed, 5 skipped |
//! | `dts_task_failed` | `task` | 1 once a stage failed |
//! | `dts_errors_total` | `task` | errors seen (each new last error counts once) |
//! | `dts_table_rows_done` | `task`, `table` | rows copied by the full sync |
//! | `dts_table_rows_estimated` | `task`, `table` | the source's row estimate |
//! | `dts_table_finished` | `task`, `table` | 1 once the table is copied |
//! | `dts_full_eta_seconds` | `task` | time left of the whole copy (0 when unknown or done) |
//! | `dts_verification_inconsistent_rows` | `task` | inconsistent rows the last full verification found |
//! | `dts_verification_failed` | `task` | 1 when the last full verification did not complete |
//!
//! The engine's own (`dts-core`): `dts_full_rows_copied_total`, `dts_full_bytes_copied_total`,
//! `dts_incremental_rows_applied_total`, `dts_incremental_bytes_applied_total`,
//! `dts_incremental_transactions_applied_total`, `dts_incremental_latency_ms`,
//! `dts_retries_total`, `dts_retry_time_ms_total`, `dts_retrying` (`class`),
//! `dts_retry_time_left_ms`. [`TaskMetrics::new`] registers them at zero, so every series the
//! dashboard uses exists from the task's start, before its first retry.
//!
//! Without an installed recorder (no `--metrics-addr`) every call is a no-op.

use dts_core::verify::VerificationReport;
use dts_core::{Progress, Stage, StageStatus, TaskStatus};

/// The numeric code of a stage status in `dts_stage_status`.
pub fn stage_code(status: &StageStatus) -> f64 {
    match status {
        StageStatus::NotStarted => 0.0,
        StageStatus::Running => 1.0,
        StageStatus::Paused => 2.0,
        StageStatus::Finished => 3.0,
        StageStatus::Failed(_) => 4.0,
        StageStatus::Skipped => 5.0,
    }
}

/// The `stage` label of a stage: `full_data_sync`.
pub fn stage_label(stage: Stage) -> String {
    stage.to_string().to_lowercase().replace(' ', "_")
}

/// Publishes one task's metrics; call [`TaskMetrics::publish`] on every progress reading.
#[derive(Debug)]
pub struct TaskMetrics {
    task: String,
    last_error: Option<String>,
}

impl TaskMetrics {
    /// The metrics of task `task_id`, with the engine's series registered at zero.
    pub fn new(task_id: &str) -> Self {
        let task = task_id.to_string();
        for name in [
            "dts_full_rows_copied_total",
            "dts_full_bytes_copied_total",
            "dts_incremental_rows_applied_total",
            "dts_incremental_bytes_applied_total",
            "dts_incremental_transactions_applied_total",
            "dts_retries_total",
            "dts_retry_time_ms_total",
            "dts_errors_total",
        ] {
            metrics::counter!(name, "task" => task.clone()).increment(0);
        }
        // Adding 0 registers a gauge without overwriting what the engine set.
        for class in ["connection", "other"] {
            metrics::gauge!("dts_retrying", "task" => task.clone(), "class" => class)
                .increment(0.0);
        }
        for name in ["dts_retry_time_left_ms", "dts_incremental_latency_ms"] {
            metrics::gauge!(name, "task" => task.clone()).increment(0.0);
        }
        for name in [
            "dts_verification_inconsistent_rows",
            "dts_verification_failed",
        ] {
            metrics::gauge!(name, "task" => task.clone()).increment(0.0);
        }
        Self {
            task,
            last_error: None,
        }
    }

    /// Publishes the task's labels, stages, per-table progress, ETA and errors.
    pub fn publish(&mut self, status: &TaskStatus, progress: &Progress) {
        let task = &self.task;
        let label = |key: &str| progress.labels.get(key).cloned().unwrap_or_default();
        metrics::gauge!(
            "dts_task_info",
            "task" => task.clone(),
            "environment_tag" => label("environment_tag"),
            "scene_label" => label("scene_label")
        )
        .set(1.0);
        let mut failed = false;
        for stage in Stage::ALL {
            let s = &status.stage(stage).status;
            failed |= matches!(s, StageStatus::Failed(_));
            metrics::gauge!("dts_stage_status", "task" => task.clone(), "stage" => stage_label(stage))
                .set(stage_code(s));
        }
        metrics::gauge!("dts_task_failed", "task" => task.clone()).set(f64::from(u8::from(failed)));
        for (table, t) in &progress.tables {
            let labels = || [("task", task.clone()), ("table", table.clone())];
            metrics::gauge!("dts_table_rows_done", &labels()).set(t.rows_done as f64);
            metrics::gauge!("dts_table_rows_estimated", &labels()).set(t.rows_estimated as f64);
            metrics::gauge!("dts_table_finished", &labels()).set(f64::from(u8::from(t.finished)));
        }
        metrics::gauge!("dts_full_eta_seconds", "task" => task.clone())
            .set(progress.full_eta_s.unwrap_or(0) as f64);
        if progress.last_error.is_some() && progress.last_error != self.last_error {
            metrics::counter!("dts_errors_total", "task" => task.clone()).increment(1);
        }
        if progress.last_error.is_some() {
            self.last_error = progress.last_error.clone();
        }
    }

    /// Publishes the result of a full verification: its inconsistent rows, or that it failed.
    pub fn verification(task_id: &str, result: Result<&VerificationReport, ()>) {
        let task = task_id.to_string();
        match result {
            Ok(report) => {
                metrics::gauge!("dts_verification_inconsistent_rows", "task" => task.clone())
                    .set(report.inconsistent() as f64);
                metrics::gauge!("dts_verification_failed", "task" => task)
                    .set(f64::from(u8::from(report.partial)));
            }
            Err(()) => {
                metrics::gauge!("dts_verification_failed", "task" => task).set(1.0);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stage_labels_and_codes() {
        assert_eq!(stage_label(Stage::FullDataSync), "full_data_sync");
        assert_eq!(
            stage_label(Stage::IncrementalDataCollection),
            "incremental_data_collection"
        );
        assert_eq!(stage_code(&StageStatus::Failed("x".into())), 4.0);
        assert_eq!(stage_code(&StageStatus::Running), 1.0);
    }
}
