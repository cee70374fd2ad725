//! Task naming: the guide's "Task Name" is free text that "does not need to be unique", so
//! every task also has a stable unique id that names its checkpoint, its destination markers
//! and the `__dts_data_source` value. When neither is configured both are derived here.

use super::TaskConfig;
use sha2::{Digest, Sha256};

impl TaskConfig {
    /// The task's stable unique id: `id` when configured, else `dts-` and 12 hex digits of a
    /// hash of the source, destination and object selection, which stays the same across
    /// restarts of one configuration and differs between tasks that copy different things.
    /// Passwords do not enter the hash (they are written as `***`), so changing one keeps the
    /// id and the progress.
    pub fn task_id(&self) -> String {
        if let Some(id) = &self.id {
            return id.clone();
        }
        format!("dts-{}", self.fingerprint())
    }

    /// The task's descriptive name: `name` when configured, else
    /// `mysql-<database>-to-<destination kind>-<6 hex digits>` (`mysql-shop-to-kafka-3fa2c1`),
    /// naming the first selected database (or `multi` for patterns only). Names need not be
    /// unique; the short suffix only helps telling tasks apart in a list.
    pub fn display_name(&self) -> String {
        if let Some(name) = &self.name {
            return name.clone();
        }
        let source = match self.source_settings().ok().and_then(|s| s.database_type) {
            Some(super::DatabaseType::Mariadb) => "mariadb",
            _ => "mysql",
        };
        let db = self
            .objects
            .databases
            .first()
            .map(|d| d.name.as_str())
            .unwrap_or("multi");
        let db: String = db
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || c == '_' {
                    c
                } else {
                    '_'
                }
            })
            .collect();
        let short: String = self
            .task_id()
            .chars()
            .rev()
            .take(6)
            .collect::<Vec<_>>()
            .into_iter()
            .rev()
            .collect();
        format!("{source}-{db}-to-{}-{short}", self.destination.kind())
    }

    /// Hex digest of what identifies the task's work.
    fn fingerprint(&self) -> String {
        let mut hasher = Sha256::new();
        for part in [
            toml::to_string(&self.source_settings().ok()),
            toml::to_string(&self.destination),
            toml::to_string(&self.objects),
        ] {
            hasher.update(part.unwrap_or_default().as_bytes());
            hasher.update([0u8]);
        }
        hasher
            .finalize()
            .iter()
            .take(6)
            .map(|b| format!("{b:02x}"))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use crate::config::TaskConfig;

    const BASE: &str = r#"
[source]
host = "127.0.0.1"
user = "dts"
password = "one"

[destination]
type = "kafka"
brokers = ["127.0.0.1:9092"]
topic = "t"

[[objects.databases]]
name = "shop"
"#;

    #[test]
    fn generated_id_is_stable_and_distinguishes_tasks() {
        let a = TaskConfig::from_toml_str(BASE).unwrap();
        let id = a.task_id();
        assert!(id.starts_with("dts-") && id.len() == 16, "{id}");
        assert!(crate::config::TaskConfig {
            id: Some(id.clone()),
            ..a.clone()
        }
        .validate()
        .is_ok());
        // Same work, another password: same id.
        let b = TaskConfig::from_toml_str(&BASE.replace("\"one\"", "\"two\"")).unwrap();
        assert_eq!(b.task_id(), id);
        // Other objects: another id.
        let c = TaskConfig::from_toml_str(&BASE.replace("\"shop\"", "\"crm\"")).unwrap();
        assert_ne!(c.task_id(), id);
        let name = a.display_name();
        assert_eq!(name, format!("mysql-shop-to-kafka-{}", &id[id.len() - 6..]));
        let named = TaskConfig {
            name: Some("orders feed".into()),
            id: Some("orders-feed".into()),
            ..a
        };
        assert_eq!(named.display_name(), "orders feed");
        assert_eq!(named.task_id(), "orders-feed");
    }
}
