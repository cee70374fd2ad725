//! Checkpoints: where a task is, saved so that a restart resumes instead of starting over.

use crate::error::{Error, Result};
use crate::position::Position;
use crate::value::Value;
use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// The incremental checkpoint: the source position of the last applied transaction. Sinks that
/// can (a MySQL destination) commit it atomically with the data it covers.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Checkpoint {
    /// Resume point: the stream continues with the first transaction after it.
    pub position: Position,
    /// GTID of the last applied transaction, if any.
    pub last_gtid: Option<String>,
    /// When the last applied transaction committed on the source (ms since epoch).
    pub commit_time_ms: u64,
    /// Set while a large transaction is applied piece by piece: the changes of the transaction
    /// starting at `position` that are already applied.
    pub applied_in_transaction: u64,
}

/// Full-sync progress of one table.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct TableProgress {
    /// Key of the last row written by a finished chunk (`None`: nothing written yet).
    pub last_key: Option<Vec<Value>>,
    /// Rows written so far.
    pub rows_done: u64,
    /// True when the whole table is copied.
    pub finished: bool,
    /// For tables copied through a consistent snapshot: the position of that snapshot.
    pub snapshot_position: Option<Position>,
}

/// Everything a task persists outside the destination: its start position and the progress of
/// each stage, so a restart continues mid-full-sync at the chunk.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct TaskState {
    /// Task id the state belongs to.
    pub task_id: String,
    /// Position recorded by Incremental Data Collection before any row was read.
    pub start_position: Option<Position>,
    /// True once schema sync has finished.
    pub schema_done: bool,
    /// Full-sync progress per table, keyed by `db.table` of the source.
    pub tables: BTreeMap<String, TableProgress>,
    /// True once full data sync has finished.
    pub full_done: bool,
    /// Latest incremental checkpoint (the destination's copy wins when it has one).
    pub incremental: Option<Checkpoint>,
}

/// Durable storage for a task's [`TaskState`].
///
/// Implementations must make `save` atomic: after a crash at any moment, `load` returns either
/// the previous state or the new one, never a mix or a torn file.
#[async_trait]
pub trait CheckpointStore: Send + Sync {
    /// The last saved state, if any.
    async fn load(&self) -> Result<Option<TaskState>>;
    /// Replace the saved state.
    async fn save(&self, state: &TaskState) -> Result<()>;
}

/// A [`CheckpointStore`] in a JSON file, replaced atomically (write to a temporary file, fsync,
/// rename, fsync the directory).
#[derive(Clone, Debug)]
pub struct FileCheckpointStore {
    path: PathBuf,
}

impl FileCheckpointStore {
    /// A store at `path`; its directory must exist.
    pub fn new(path: impl Into<PathBuf>) -> Self {
        Self { path: path.into() }
    }

    /// Where the state is stored.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn error(&self, message: impl ToString) -> Error {
        Error::Checkpoint {
            path: self.path.display().to_string(),
            message: message.to_string(),
        }
    }

    fn save_blocking(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
        use std::io::Write;
        let dir = path
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        let tmp = path.with_extension("tmp");
        {
            let mut f = std::fs::File::create(&tmp)?;
            f.write_all(bytes)?;
            f.sync_all()?;
        }
        std::fs::rename(&tmp, path)?;
        std::fs::File::open(dir)?.sync_all()
    }
}

#[async_trait]
impl CheckpointStore for FileCheckpointStore {
    async fn load(&self) -> Result<Option<TaskState>> {
        match tokio::fs::read(&self.path).await {
            Ok(bytes) => serde_json::from_slice(&bytes)
                .map(Some)
                .map_err(|e| self.error(format!("unreadable checkpoint: {e}"))),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(self.error(e)),
        }
    }

    async fn save(&self, state: &TaskState) -> Result<()> {
        let bytes = serde_json::to_vec_pretty(state).map_err(|e| self.error(e))?;
        let path = self.path.clone();
        tokio::task::spawn_blocking(move || Self::save_blocking(&path, &bytes))
            .await
            .map_err(|e| self.error(e))?
            .map_err(|e| self.error(e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> TaskState {
        let mut s = TaskState {
            task_id: "t1".into(),
            start_position: Some(Position::new("bin.000001", 4)),
            ..Default::default()
        };
        s.tables.insert(
            "db.t".into(),
            TableProgress {
                last_key: Some(vec![Value::UInt(u64::MAX)]),
                rows_done: 10,
                finished: false,
                snapshot_position: None,
            },
        );
        s
    }

    #[tokio::test]
    async fn missing_file_is_none_and_save_load_round_trips() {
        let dir = tempfile::tempdir().unwrap();
        let store = FileCheckpointStore::new(dir.path().join("state.json"));
        assert_eq!(store.load().await.unwrap(), None);
        let s = sample();
        store.save(&s).await.unwrap();
        assert_eq!(store.load().await.unwrap(), Some(s.clone()));
        let mut s2 = s;
        s2.full_done = true;
        store.save(&s2).await.unwrap();
        assert_eq!(store.load().await.unwrap(), Some(s2));
        assert!(!dir.path().join("state.tmp").exists());
    }

    #[tokio::test]
    async fn corrupt_file_is_a_clear_error() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("state.json");
        std::fs::write(&path, b"{not json").unwrap();
        let err = FileCheckpointStore::new(&path).load().await.unwrap_err();
        assert!(err.to_string().contains("state.json"), "{err}");
        assert!(err.to_string().contains("unreadable"), "{err}");
    }
}
