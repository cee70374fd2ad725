//! The tasks of one `dts serve` process: created from task files or posted configurations,
//! saved in the state directory, restored (and run again, if they were running) on start.

use super::error::{ApiError, ApiResult};
use super::managed::{now_ms, parse_config, ManagedTask};
use super::store::{Desired, Store, TaskRecord};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};
use std::time::Duration;

/// How a task's configuration is given.
#[derive(Clone, Debug)]
pub enum TaskSource {
    /// A task file, read now; its path is kept as the task's origin.
    File(PathBuf),
    /// TOML text.
    Toml(String),
    /// A JSON object with the TOML file's structure.
    Json(serde_json::Value),
}

/// The tasks of the API, by id.
pub struct Manager {
    state_dir: PathBuf,
    store: Store,
    tasks: RwLock<BTreeMap<String, Arc<ManagedTask>>>,
}

impl Manager {
    /// Opens the task list kept under `state_dir` (created when missing). Call
    /// [`Manager::resume_saved`] to start the tasks that were running.
    pub fn open(state_dir: impl Into<PathBuf>) -> std::io::Result<Arc<Self>> {
        let state_dir = state_dir.into();
        let store = Store::open(&state_dir)?;
        let mut tasks = BTreeMap::new();
        for record in store.load_all()? {
            let id = record.id.clone();
            match ManagedTask::new(record, state_dir.clone(), store.clone()) {
                Ok(task) => {
                    tasks.insert(id, task);
                }
                Err(e) => tracing::error!(task = %id, error = %e, "saved task not loaded"),
            }
        }
        Ok(Arc::new(Self {
            state_dir,
            store,
            tasks: RwLock::new(tasks),
        }))
    }

    /// The state directory.
    pub fn state_dir(&self) -> &Path {
        &self.state_dir
    }

    /// Starts again every saved task the operator had left running or paused.
    pub fn resume_saved(&self) {
        for task in self.list() {
            let paused = match task.desired() {
                Desired::Stopped => continue,
                Desired::Running => false,
                Desired::Paused => true,
            };
            match task.start(paused) {
                Ok(()) => tracing::info!(task = %task.id(), paused, "saved task started again"),
                Err(e) => tracing::error!(task = %task.id(), error = %e, "saved task not started"),
            }
        }
    }

    /// Every task, by id.
    pub fn list(&self) -> Vec<Arc<ManagedTask>> {
        self.read().values().cloned().collect()
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, BTreeMap<String, Arc<ManagedTask>>> {
        self.tasks.read().unwrap_or_else(|p| p.into_inner())
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, BTreeMap<String, Arc<ManagedTask>>> {
        self.tasks.write().unwrap_or_else(|p| p.into_inner())
    }

    /// The task with this id.
    pub fn get(&self, id: &str) -> ApiResult<Arc<ManagedTask>> {
        self.read()
            .get(id)
            .cloned()
            .ok_or_else(|| ApiError::not_found(format!("no task {id}")))
    }

    /// Creates a task (not started). Its id is the configuration's `id` (or the one derived
    /// from it); an id already in use is refused.
    pub fn create(&self, source: TaskSource) -> ApiResult<Arc<ManagedTask>> {
        let (text, origin) = match source {
            TaskSource::File(path) => {
                if path.extension().and_then(|e| e.to_str()) != Some("toml") {
                    return Err(ApiError::bad_request(format!(
                        "{}: a task file must end in .toml",
                        path.display()
                    )));
                }
                let text = std::fs::read_to_string(&path).map_err(|e| {
                    ApiError::bad_request(format!("cannot read task file {}: {e}", path.display()))
                })?;
                let absolute = std::fs::canonicalize(&path).unwrap_or(path);
                (text, format!("file:{}", absolute.display()))
            }
            TaskSource::Toml(text) => (text, "posted".to_string()),
            TaskSource::Json(value) => (json_to_toml(&value)?, "posted".to_string()),
        };
        let config = parse_config(&text)?;
        let id = config.task_id();
        if id.is_empty()
            || !id
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        {
            return Err(ApiError::bad_request(format!(
                "id: `{id}` cannot name a task of the API (letters, digits, `-` and `_` only)"
            )));
        }
        let mut tasks = self.write();
        if tasks.contains_key(&id) {
            return Err(ApiError::conflict(format!("a task with id {id} exists")));
        }
        let record = TaskRecord {
            id: id.clone(),
            origin,
            config_toml: text,
            created_ms: now_ms(),
            desired: Desired::Stopped,
            acknowledged: Vec::new(),
            precheck: None,
            throttle: Default::default(),
            last_status: None,
            last_error: None,
        };
        let task = ManagedTask::new(record.clone(), self.state_dir.clone(), self.store.clone())?;
        self.store
            .save(&record)
            .map_err(|e| ApiError::internal(format!("cannot save the state of task {id}: {e}")))?;
        tasks.insert(id.clone(), task.clone());
        tracing::info!(target: "dts::audit", task = %id, origin = %record.origin, "task created");
        Ok(task)
    }

    /// Deletes a task that is not running, with its saved record and its local checkpoint
    /// file (the destination's checkpoint table keeps its row).
    pub fn delete(&self, id: &str) -> ApiResult<()> {
        let mut tasks = self.write();
        let task = tasks
            .get(id)
            .cloned()
            .ok_or_else(|| ApiError::not_found(format!("no task {id}")))?;
        task.ensure_deletable()?;
        self.store
            .remove(id)
            .map_err(|e| ApiError::internal(format!("cannot remove task {id}: {e}")))?;
        task.remove_local_state().map_err(|e| {
            ApiError::internal(format!("cannot remove the state of task {id}: {e}"))
        })?;
        tasks.remove(id);
        tracing::info!(target: "dts::audit", task = %id, "task deleted");
        Ok(())
    }

    /// Stops every run (checkpoints saved) without changing what the operator asked for, so
    /// the next start of the program runs the same tasks; waits up to `wait` for each.
    pub async fn shutdown(&self, wait: Duration) {
        // Every task is asked at once; each is then awaited.
        let stops: Vec<_> = self
            .list()
            .into_iter()
            .map(|t| tokio::spawn(async move { t.shutdown(wait).await }))
            .collect();
        for stop in stops {
            let _ = stop.await;
        }
    }
}

/// A JSON task as TOML text: the configuration parser reads TOML only, and the saved record
/// keeps one format. JSON `null`s are left out (TOML has none; every optional key is absent).
fn json_to_toml(value: &serde_json::Value) -> ApiResult<String> {
    fn strip_nulls(v: &serde_json::Value) -> serde_json::Value {
        match v {
            serde_json::Value::Object(m) => serde_json::Value::Object(
                m.iter()
                    .filter(|(_, v)| !v.is_null())
                    .map(|(k, v)| (k.clone(), strip_nulls(v)))
                    .collect(),
            ),
            serde_json::Value::Array(a) => {
                serde_json::Value::Array(a.iter().map(strip_nulls).collect())
            }
            other => other.clone(),
        }
    }
    if !value.is_object() {
        return Err(ApiError::bad_request(
            "config: a task is a JSON object with the task file's structure",
        ));
    }
    toml::to_string(&strip_nulls(value))
        .map_err(|e| ApiError::bad_request(format!("config: not expressible as a task file: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_becomes_toml() {
        let v = serde_json::json!({
            "id": "t1",
            "source": {"host": "127.0.0.1", "port": 3306, "user": "root", "password": null},
            "objects": {"databases": [{"name": "shop"}]},
        });
        let text = json_to_toml(&v).unwrap();
        assert!(text.contains("id = \"t1\""), "{text}");
        assert!(text.contains("[[objects.databases]]"), "{text}");
        assert!(!text.contains("password"), "{text}");
        assert!(json_to_toml(&serde_json::json!([1])).is_err());
    }
}
