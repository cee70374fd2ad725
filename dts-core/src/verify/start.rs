//! When full data verification starts (the guide's rule): without incremental synchronization,
//! once full data sync is done; with it, at the first moment incremental latency reaches zero
//! (the task's [`IncrementalStatus::caught_up`](crate::task::IncrementalStatus::caught_up)).

use crate::error::{Error, Result};
use crate::stage::{Stage, StageStatus};
use crate::task::TaskHandle;

/// Waits until verification may start for the task behind `handle`; fails when the task fails
/// first.
pub async fn wait_for_start(handle: &TaskHandle, incremental: bool) -> Result<()> {
    let mut status = handle.watch_status();
    let mut progress = handle.watch_progress();
    loop {
        let failed = status.borrow().stages.iter().find_map(|r| match &r.status {
            StageStatus::Failed(reason) => Some(reason.clone()),
            _ => None,
        });
        if let Some(reason) = failed {
            return Err(Error::Other {
                object: "verification".into(),
                message: format!("the task failed before verification could start: {reason}"),
                cause: None,
            });
        }
        let full_done = status.borrow().stage(Stage::FullDataSync).status.is_done();
        if full_done && (!incremental || progress.borrow().incremental.caught_up) {
            return Ok(());
        }
        tokio::select! {
            r = status.changed() => if r.is_err() { return Err(Error::Stopped) },
            r = progress.changed() => if r.is_err() { return Err(Error::Stopped) },
        }
    }
}
