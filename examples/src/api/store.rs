//! The task list of `dts serve` on disk: one JSON file per task under `STATE_DIR/serve/tasks/`,
//! next to the tasks' checkpoint files (`STATE_DIR/<task id>.json`), so tasks and their state
//! survive a restart of the program.
//!
//! A record holds the task's configuration as it was given (TOML text; a posted JSON
//! configuration is stored as the TOML it was turned into), which may hold an inline password:
//! files are written with mode 0600 on Unix, atomically (a temporary file renamed over the
//! old one), and never served back — the API only returns the configuration masked.

use super::views::{FullThrottle, IncrementalThrottle};
use dts_core::precheck::CheckResult;
use dts_core::stage::TaskStatus;
use serde::{Deserialize, Serialize};
use std::io::Write;
use std::path::{Path, PathBuf};

/// What the operator last asked a task to be; restored when the program starts again.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Desired {
    /// Not running: created, stopped, or failed.
    Stopped,
    /// Running (started again when the program starts).
    Running,
    /// Running, held paused (started paused when the program starts).
    Paused,
}

/// The last precheck of a task.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PrecheckRecord {
    /// When it ran (ms since the epoch).
    pub at_ms: u64,
    /// Its checks, in the order they ran.
    pub checks: Vec<CheckResult>,
}

/// Throttles changed at run time, replacing the configuration's `[advanced.*_throttle]`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ThrottleOverride {
    /// Replaces `[advanced.full_sync_throttle]` when set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub full: Option<FullThrottle>,
    /// Replaces `[advanced.incremental_throttle]` when set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub incremental: Option<IncrementalThrottle>,
}

/// One task of `dts serve`, as saved.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct TaskRecord {
    /// The task id (the configuration's `id`, or the one generated from its name).
    pub id: String,
    /// Where the configuration came from: `file:PATH` or `posted`.
    pub origin: String,
    /// The configuration as TOML text.
    pub config_toml: String,
    /// When the task was created (ms since the epoch).
    pub created_ms: u64,
    /// What the operator last asked for.
    pub desired: Desired,
    /// Precheck warnings acknowledged through the API, by check name (added to the
    /// configuration's `acknowledge_warnings`).
    #[serde(default)]
    pub acknowledged: Vec<String>,
    /// The last precheck run through the API.
    #[serde(default)]
    pub precheck: Option<PrecheckRecord>,
    /// Throttles changed at run time.
    #[serde(default)]
    pub throttle: ThrottleOverride,
    /// The stages as they were when the task last returned.
    #[serde(default)]
    pub last_status: Option<TaskStatus>,
    /// The error the task last failed with.
    #[serde(default)]
    pub last_error: Option<String>,
}

/// The directory of task records.
#[derive(Clone, Debug)]
pub struct Store {
    dir: PathBuf,
}

impl Store {
    /// The store under `state_dir/serve/tasks` (created when missing).
    pub fn open(state_dir: &Path) -> std::io::Result<Self> {
        let dir = state_dir.join("serve").join("tasks");
        std::fs::create_dir_all(&dir)?;
        Ok(Self { dir })
    }

    fn path(&self, id: &str) -> PathBuf {
        self.dir.join(format!("{id}.json"))
    }

    /// Every saved record, ordered by creation time. A file that cannot be read is reported
    /// in the log and skipped (it stays on disk).
    pub fn load_all(&self) -> std::io::Result<Vec<TaskRecord>> {
        let mut records = Vec::new();
        for entry in std::fs::read_dir(&self.dir)? {
            let path = entry?.path();
            if path.extension().and_then(|e| e.to_str()) != Some("json") {
                continue;
            }
            let parsed = std::fs::read(&path)
                .map_err(|e| e.to_string())
                .and_then(|b| serde_json::from_slice::<TaskRecord>(&b).map_err(|e| e.to_string()));
            match parsed {
                Ok(r) => records.push(r),
                Err(e) => {
                    tracing::error!(file = %path.display(), error = %e, "task record skipped")
                }
            }
        }
        records.sort_by(|a, b| (a.created_ms, &a.id).cmp(&(b.created_ms, &b.id)));
        Ok(records)
    }

    /// Saves a record (atomically, mode 0600).
    pub fn save(&self, record: &TaskRecord) -> std::io::Result<()> {
        let bytes = serde_json::to_vec_pretty(record).map_err(std::io::Error::other)?;
        let final_path = self.path(&record.id);
        let tmp = self.dir.join(format!(".{}.json.tmp", record.id));
        {
            let mut options = std::fs::OpenOptions::new();
            options.write(true).create(true).truncate(true);
            #[cfg(unix)]
            {
                use std::os::unix::fs::OpenOptionsExt;
                options.mode(0o600);
            }
            let mut f = options.open(&tmp)?;
            f.write_all(&bytes)?;
            f.sync_all()?;
        }
        std::fs::rename(&tmp, &final_path)
    }

    /// Removes a record.
    pub fn remove(&self, id: &str) -> std::io::Result<()> {
        match std::fs::remove_file(self.path(id)) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(e),
            _ => Ok(()),
        }
    }
}
