//! The AnalyticDB destination's own `[destination]` options ([`AdbDestination`]): write
//! batching and the ADB-only table clauses, defined, parsed and validated here and registered
//! with core so any program linking this crate checks them when a task file is loaded. The
//! endpoint and the guide's `merge_tables`, `dml` and `ddl` are core's
//! ([`DestinationConfig`]): the engine's filter applies them.

use dts_core::config::{ConfigError, ConnectorOptions, DestinationConfig, DestinationKind};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The partition formats ADB 3.0 accepts in `PARTITION BY VALUE(DATE_FORMAT(…))`.
pub const ADB_PARTITION_FORMATS: [&str; 3] = ["%Y%m%d", "%Y%m", "%Y"];

/// The connector's options of an AnalyticDB for MySQL 3.0 destination.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AdbDestination {
    /// Skip DDL that ADB cannot run (with a warning) instead of stopping the task with an
    /// error naming the statement. Default `false`.
    #[serde(default)]
    pub skip_unsupported_ddl: bool,
    /// Rows a write batch holds before it is flushed (default 2000).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub batch_rows: Option<u32>,
    /// Approximate value bytes a write batch holds before it is flushed (default 4 MiB).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub batch_bytes: Option<u64>,
    /// Longest time, in milliseconds, a change may wait in a write batch before the batch is
    /// flushed and the checkpoint committed; `0` flushes at the end of every round the task
    /// applies. Default 1000.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub flush_interval_ms: Option<u64>,
    /// Testing only: omit the ADB-only clauses (`DISTRIBUTED BY`, partitions, clustered keys)
    /// so a MariaDB/MySQL server can stand in for ADB. Default `false`.
    #[serde(default)]
    pub mariadb_compat: bool,
    /// ADB table options by destination table (`[destination.tables."db.table"]`).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub tables: BTreeMap<String, AdbTableOptions>,
}

/// ADB-specific clauses of one destination table (`[destination.tables."db.table"]`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AdbTableOptions {
    /// `PARTITION BY VALUE(<column>)` (or `VALUE(DATE_FORMAT(<column>, <format>))`); the
    /// column must be part of the primary key, as ADB requires. Needs `lifecycle`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub partition_column: Option<String>,
    /// Date format of the partition value: `%Y%m%d`, `%Y%m` or `%Y`; unset partitions by the
    /// column's own value.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub partition_format: Option<String>,
    /// `LIFECYCLE n`: how many partitions ADB keeps (older ones are dropped).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lifecycle: Option<u32>,
    /// `CLUSTERED KEY (<columns>)`: the order rows are stored in.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub clustered_key: Vec<String>,
}

dts_core::register_destination!(DestinationKind::Adb, check_destination);

/// The registered check: parses and validates an AnalyticDB `[destination]`'s options, and
/// writes them back as this connector does.
fn check_destination(destination: &DestinationConfig) -> Result<toml::Table, Vec<ConfigError>> {
    let adb = AdbDestination::from_destination(destination).map_err(|e| vec![e])?;
    let problems = adb.problems("destination");
    if !problems.is_empty() {
        return Err(problems);
    }
    toml::Table::try_from(&adb)
        .map_err(|e| vec![ConfigError::invalid("destination", e.to_string())])
}

impl AdbDestination {
    /// The connector's options of a `type = "adb"` destination section; errors name the key.
    pub fn from_destination(destination: &DestinationConfig) -> Result<Self, ConfigError> {
        if destination.kind() != DestinationKind::Adb {
            return Err(ConfigError::invalid(
                "destination.type",
                format!(
                    "the AnalyticDB connector reads adb destinations, not {}",
                    destination.kind()
                ),
            ));
        }
        destination.connector_options()
    }

    /// These options in a `type = "adb"` destination section reached through `endpoint`.
    pub fn to_destination(&self, endpoint: dts_core::config::Endpoint) -> DestinationConfig {
        let options =
            ConnectorOptions::from_serialize(self).expect("ADB options are plain TOML values");
        DestinationConfig::database(DestinationKind::Adb, endpoint).with_options(options)
    }

    /// Every rule violation, naming the key under `prefix`.
    pub fn problems(&self, prefix: &str) -> Vec<ConfigError> {
        let join = |k: &str| format!("{prefix}.{k}");
        let mut problems = Vec::new();
        let mut push = |k: String, m: String| problems.push(ConfigError::invalid(k, m));
        if self.batch_rows == Some(0) {
            push(join("batch_rows"), "must be greater than 0, got 0".into());
        }
        if let Some(bytes) = self.batch_bytes {
            if bytes < 1024 {
                push(
                    join("batch_bytes"),
                    format!("{bytes} is too small (at least 1024)"),
                );
            }
        }
        for (table, t) in &self.tables {
            let key = format!("{}.\"{table}\"", join("tables"));
            let at = |k: &str| format!("{key}.{k}");
            let parts: Vec<&str> = table.split('.').collect();
            if parts.len() != 2 || parts.iter().any(|p| p.is_empty()) {
                push(key.clone(), format!("`{table}` must name a database.table"));
            }
            match (&t.partition_column, t.lifecycle) {
                (Some(c), _) if c.trim().is_empty() => {
                    push(at("partition_column"), "must not be empty".into())
                }
                (Some(_), None) => push(
                    at("lifecycle"),
                    "is required with partition_column (ADB's PARTITION BY needs LIFECYCLE)".into(),
                ),
                (Some(_), Some(0)) => push(at("lifecycle"), "must be greater than 0, got 0".into()),
                (None, Some(_)) => push(at("lifecycle"), "only used with partition_column".into()),
                _ => {}
            }
            if let Some(format) = &t.partition_format {
                if t.partition_column.is_none() {
                    push(
                        at("partition_format"),
                        "only used with partition_column".into(),
                    );
                } else if !ADB_PARTITION_FORMATS.contains(&format.as_str()) {
                    push(
                        at("partition_format"),
                        format!(
                            "`{format}` is not one of {}",
                            ADB_PARTITION_FORMATS.join(", ")
                        ),
                    );
                }
            }
            if t.clustered_key.iter().any(|c| c.trim().is_empty()) {
                push(at("clustered_key"), "column names must not be empty".into());
            }
        }
        problems
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use dts_core::config::TaskConfig;

    fn task(destination: &str) -> Result<TaskConfig, ConfigError> {
        TaskConfig::from_toml_str(&format!(
            "[source]\nhost = \"h\"\nuser = \"u\"\n\n[destination]\ntype = \"adb\"\nhost = \"a\"\nuser = \"u\"\n{destination}\n\n[[objects.databases]]\nname = \"shop\"\n"
        ))
    }

    #[test]
    fn defaults_follow_the_guide() {
        let config = task("").unwrap();
        let d = &config.destination;
        assert!(!d.merge_tables && d.dml.is_all() && d.ddl.is_all());
        assert_eq!(
            AdbDestination::from_destination(d).unwrap(),
            AdbDestination::default()
        );
    }

    #[test]
    fn the_loaded_file_is_checked_by_this_connector() {
        let e = task("batch_rows = 0").unwrap_err();
        assert_eq!(e.key, "destination.batch_rows", "{e}");
        let e = task("load_data = true").unwrap_err();
        assert_eq!(e.key, "destination.load_data", "{e}");
        assert!(e.message.contains("unknown field `load_data`"), "{e}");
        let e = task("[destination.tables.\"dw.t\"]\npartition_column = \"d\"\npartition_format = \"%d\"\nlifecycle = 3").unwrap_err();
        assert_eq!(e.key, "destination.tables.\"dw.t\".partition_format", "{e}");
    }

    #[test]
    fn every_option_round_trips_through_the_task_file() {
        let config = task("merge_tables = true\ndml = [\"insert\"]\nddl = []\nskip_unsupported_ddl = true\nbatch_rows = 500\nbatch_bytes = 65536\nflush_interval_ms = 250\nmariadb_compat = true\n[destination.tables.\"dw.orders\"]\npartition_column = \"day\"\npartition_format = \"%Y%m%d\"\nlifecycle = 30\nclustered_key = [\"customer\"]").unwrap();
        let adb = AdbDestination::from_destination(&config.destination).unwrap();
        assert_eq!(adb.batch_rows, Some(500));
        assert_eq!(adb.tables["dw.orders"].lifecycle, Some(30));
        let again = TaskConfig::from_toml_str(&config.to_toml_string().unwrap()).unwrap();
        assert_eq!(again.destination, config.destination);
    }

    #[test]
    fn rules() {
        let check = |edit: &dyn Fn(&mut AdbDestination), key: &str| {
            let mut a = AdbDestination::default();
            edit(&mut a);
            let problems = a.problems("destination");
            assert!(
                problems
                    .iter()
                    .any(|e| e.key == key && e.to_string().starts_with(key)),
                "{key}: {problems:?}"
            );
        };
        let part =
            |column: Option<&str>, format: Option<&str>, lifecycle: Option<u32>| AdbTableOptions {
                partition_column: column.map(Into::into),
                partition_format: format.map(Into::into),
                lifecycle,
                clustered_key: vec![],
            };
        check(&|a| a.batch_rows = Some(0), "destination.batch_rows");
        check(&|a| a.batch_bytes = Some(10), "destination.batch_bytes");
        check(
            &|a| {
                a.tables.insert("orders".into(), AdbTableOptions::default());
            },
            "destination.tables.\"orders\"",
        );
        check(
            &|a| {
                a.tables.insert("dw.t".into(), part(Some("d"), None, None));
            },
            "destination.tables.\"dw.t\".lifecycle",
        );
        check(
            &|a| {
                a.tables.insert("dw.t".into(), part(None, None, Some(3)));
            },
            "destination.tables.\"dw.t\".lifecycle",
        );
        check(
            &|a| {
                a.tables
                    .insert("dw.t".into(), part(Some("d"), Some("%d"), Some(3)));
            },
            "destination.tables.\"dw.t\".partition_format",
        );
        let mut ok = AdbDestination::default();
        ok.tables
            .insert("dw.t".into(), part(Some("d"), Some("%Y%m"), Some(3)));
        assert!(ok.problems("destination").is_empty());
    }
}
