//! Waits on a running task: a stage reaching a status, or any condition, failing at once with
//! the task's own failure instead of running out the clock.

use crate::wait::{try_eventually, try_eventually_every, POLL_INTERVAL};
use dts_core::{Stage, StageStatus, TaskHandle};
use std::fmt::Debug;
use std::future::Future;
use std::time::Duration;

/// Panics when the task of `handle` has failed, naming the stage and the reason.
fn fail_fast(handle: &TaskHandle, what: &str) {
    if let Some((stage, reason)) = handle.status().failure() {
        panic!("waiting for {what}: task failed in {stage}: {reason}");
    }
}

/// Like [`crate::eventually`] over a task: probes until `probe` returns `Ok`, panicking at once
/// when the task fails, and after `timeout` with `what`, the last observation and the task's
/// progress.
pub async fn wait_for<T, O, F, Fut>(
    handle: &TaskHandle,
    timeout: Duration,
    what: &str,
    probe: F,
) -> T
where
    O: Debug,
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, O>>,
{
    wait_for_every(handle, POLL_INTERVAL, timeout, what, probe).await
}

/// [`wait_for`] probing every `interval`, for a test that must act within a few milliseconds
/// of the condition (e.g. kill the task at a given point of its stream).
pub async fn wait_for_every<T, O, F, Fut>(
    handle: &TaskHandle,
    interval: Duration,
    timeout: Duration,
    what: &str,
    mut probe: F,
) -> T
where
    O: Debug,
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, O>>,
{
    let waited = try_eventually_every(interval, timeout, what, || {
        let next = probe();
        async move {
            let result = next.await;
            if result.is_err() {
                fail_fast(handle, what);
            }
            result
        }
    })
    .await;
    match waited {
        Ok(v) => v,
        Err(message) => panic!("{message}; task progress: {:?}", handle.progress()),
    }
}

/// Waits until `stage` of the task has `status`; panics at once when the task fails (unless a
/// failure is what is awaited), and after `timeout` with the stage's last status and the
/// task's progress.
pub async fn wait_stage(handle: &TaskHandle, stage: Stage, status: StageStatus, timeout: Duration) {
    let what = format!("{stage} {status:?}");
    let failure_awaited = matches!(status, StageStatus::Failed(_));
    let waited = try_eventually(timeout, &what, || {
        let observed = handle.status().stage(stage).status.clone();
        let status = &status;
        let what = &what;
        async move {
            if observed == *status {
                return Ok(());
            }
            if !failure_awaited {
                fail_fast(handle, what);
            }
            Err(observed)
        }
    })
    .await;
    if let Err(message) = waited {
        panic!("{message}; task progress: {:?}", handle.progress());
    }
}

/// Waits until the task is in Incremental Write; panics at once with the task's failure, and
/// after `timeout` with its progress.
pub async fn wait_incremental(handle: &TaskHandle, timeout: Duration) {
    wait_stage(
        handle,
        Stage::IncrementalWrite,
        StageStatus::Running,
        timeout,
    )
    .await
}

/// [`wait_incremental`] for tests that record an outcome instead of panicking: `Err` names the
/// task's failure, or the task's progress after `timeout`.
pub async fn try_wait_incremental(handle: &TaskHandle, timeout: Duration) -> Result<(), String> {
    let what = "Incremental Write running";
    try_eventually(timeout, what, || async {
        let status = handle.status();
        if let Some((stage, reason)) = status.failure() {
            return Ok(Err(format!("task failed in {stage}: {reason}")));
        }
        match &status.stage(Stage::IncrementalWrite).status {
            StageStatus::Running => Ok(Ok(())),
            other => Err(other.clone()),
        }
    })
    .await
    .map_err(|message| format!("{message}; task progress: {:?}", handle.progress()))?
}

/// Waits until `sink`'s checkpoint reaches `target` (binlog coordinates), i.e. the task has
/// applied everything the source had committed at `target`; panics at once with the task's
/// failure, and after `timeout` with the last checkpoint read and the task's progress.
pub async fn wait_checkpoint(
    handle: &TaskHandle,
    sink: &dyn dts_core::Sink,
    target: &dts_core::Position,
    timeout: Duration,
) {
    let what = format!("the checkpoint at {}:{}", target.file, target.offset);
    wait_for(handle, timeout, &what, || async {
        match sink.read_checkpoint().await {
            Ok(Some(cp)) if cp.position.coordinates_cmp(target).is_ge() => Ok(()),
            Ok(cp) => Err(format!("{:?}", cp.map(|c| c.position))),
            Err(e) => Err(format!("reading the checkpoint: {e}")),
        }
    })
    .await
}
