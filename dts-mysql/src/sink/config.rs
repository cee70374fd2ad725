//! The MySQL destination's own `[destination]` options ([`MysqlDestination`]): how the full
//! copy is written. Defined, parsed and validated here and registered with core so any program
//! linking this crate checks them when a task file is loaded; the endpoint is core's
//! ([`DestinationConfig::endpoint`]).

use dts_core::config::{
    ConfigError, ConnectorOptions, DestinationConfig, DestinationKind, Endpoint,
};
use serde::{Deserialize, Serialize};

fn yes() -> bool {
    true
}

/// The write options of a MySQL-family destination (`type = "mysql"`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MysqlDestination {
    /// Whether full-sync rows are written to the destination's binlog (default `true`).
    /// `false` keeps the initial copy out of it (`sql_log_bin = 0`): faster, but replicas of
    /// the destination do not receive the copied rows. Needs the privilege to set
    /// `sql_log_bin`; the task fails to start without it. Incremental writes are always logged.
    #[serde(default = "yes")]
    pub full_sync_binlog: bool,
    /// Whether tables created for the full copy get their non-unique secondary indexes after
    /// the copy rather than during it (default `true`; faster, and crash-safe).
    #[serde(default = "yes")]
    pub defer_secondary_indexes: bool,
    /// Whether full-sync rows go through `LOAD DATA LOCAL INFILE` when the destination allows
    /// it (`local_infile = ON`), else multi-row INSERTs (default `true`).
    #[serde(default = "yes")]
    pub load_data: bool,
}

impl Default for MysqlDestination {
    fn default() -> Self {
        Self {
            full_sync_binlog: true,
            defer_secondary_indexes: true,
            load_data: true,
        }
    }
}

dts_core::register_destination!(DestinationKind::Mysql, check_destination);

/// The registered check: parses a MySQL `[destination]`'s options and writes them back with
/// every default filled in.
fn check_destination(destination: &DestinationConfig) -> Result<toml::Table, Vec<ConfigError>> {
    let mysql = MysqlDestination::from_destination(destination).map_err(|e| vec![e])?;
    toml::Table::try_from(&mysql)
        .map_err(|e| vec![ConfigError::invalid("destination", e.to_string())])
}

impl MysqlDestination {
    /// The options of a `type = "mysql"` destination section; errors name the key.
    pub fn from_destination(destination: &DestinationConfig) -> Result<Self, ConfigError> {
        if destination.kind() != DestinationKind::Mysql {
            return Err(ConfigError::invalid(
                "destination.type",
                format!(
                    "the MySQL connector reads mysql destinations, not {}",
                    destination.kind()
                ),
            ));
        }
        destination.connector_options()
    }

    /// These options in a `type = "mysql"` destination section reached through `endpoint`.
    pub fn to_destination(&self, endpoint: Endpoint) -> DestinationConfig {
        let options =
            ConnectorOptions::from_serialize(self).expect("MySQL options are plain TOML values");
        DestinationConfig::mysql(endpoint).with_options(options)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use dts_core::config::TaskConfig;

    fn task(destination: &str) -> Result<TaskConfig, ConfigError> {
        TaskConfig::from_toml_str(&format!(
            "[source]\nhost = \"h\"\nuser = \"u\"\n\n[destination]\ntype = \"mysql\"\nhost = \"d\"\nuser = \"u\"\n{destination}\n\n[[objects.databases]]\nname = \"shop\"\n"
        ))
    }

    #[test]
    fn write_options_default_on_and_belong_to_mysql_only() {
        let m = MysqlDestination::from_destination(&task("").unwrap().destination).unwrap();
        assert!(m.full_sync_binlog && m.defer_secondary_indexes && m.load_data);
        let m = MysqlDestination::from_destination(
            &task("full_sync_binlog = false").unwrap().destination,
        )
        .unwrap();
        assert!(!m.full_sync_binlog && m.defer_secondary_indexes);
        for other in [
            "brokers = [\"k\"]",
            "merge_tables = true",
            "flush_interval_ms = 5",
        ] {
            let e = task(other).unwrap_err();
            let key = other.split(' ').next().unwrap();
            assert_eq!(e.key, format!("destination.{key}"), "{e}");
            assert!(e.message.contains("unknown field"), "{e}");
        }
        let e = task("load_data = 1").unwrap_err();
        assert_eq!(e.key, "destination.load_data", "{e}");
    }

    #[test]
    fn options_round_trip() {
        let config =
            task("full_sync_binlog = false\ndefer_secondary_indexes = false\nload_data = false")
                .unwrap();
        let again = TaskConfig::from_toml_str(&config.to_toml_string().unwrap()).unwrap();
        assert_eq!(again.destination, config.destination);
        let m = MysqlDestination::from_destination(&config.destination).unwrap();
        let endpoint = config.destination.endpoint().unwrap().clone();
        assert_eq!(
            MysqlDestination::from_destination(&m.to_destination(endpoint)).unwrap(),
            m
        );
    }
}
