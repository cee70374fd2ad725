//! [`TaskConfig::validate`]: every rule of the guide that one section cannot check alone, and
//! the order in which sections are checked.

use super::connection::{validate_profiles, EndpointRole};
use super::data_validation::ValidationContext;
use super::destination::DestinationKind;
use super::error::{ConfigError, Problems};
use super::objects::ObjectRules;
use super::sync::TopologyMode;
use super::TaskConfig;

/// Whether `s` is 1–64 characters of `[A-Za-z0-9_-]` (task ids, connection profile names).
pub(crate) fn is_identifier(s: &str) -> bool {
    (1..=64).contains(&s.len())
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}

impl TaskConfig {
    /// Checks every rule of the guide and reports the first problem found; see
    /// [`TaskConfig::validate_all`] for the full list. A config that passes can be run.
    pub fn validate(&self) -> Result<(), ConfigError> {
        match self.validate_all().into_iter().next() {
            Some(first) => Err(first),
            None => Ok(()),
        }
    }

    /// Checks every rule and returns all problems (empty when valid), each naming its key:
    /// ranges (retry windows, sampling percentage, verification timeout), `other_retry_minutes`
    /// below `connection_retry_minutes`, positive throttles and thresholds, two-way-only options
    /// under one-way topology, schema-sync-only options without schema synchronization,
    /// incremental synchronization always on, destination-specific options, existing and
    /// unambiguous connection profiles, one password source, the task id format and a
    /// non-empty object selection.
    pub fn validate_all(&self) -> Vec<ConfigError> {
        let mut problems = Problems::default();
        if let Some(name) = &self.name {
            if name.trim().is_empty() {
                problems.push("name", "must not be empty when set");
            }
        }
        if let Some(id) = &self.id {
            if !is_identifier(id) {
                problems.push(
                    "id",
                    format!("`{id}` must be 1-64 characters of A-Z, a-z, 0-9, `_` or `-`"),
                );
            }
        }
        validate_profiles(&self.connections, &mut problems);
        self.source.validate(
            "source",
            EndpointRole::Source,
            &self.connections,
            &mut problems,
        );
        self.destination.validate(&self.connections, &mut problems);
        let destination = self.destination.kind();

        self.sync_types.validate(&mut problems);
        self.topology.validate(&mut problems);
        if self.topology.mode == TopologyMode::TwoWay && destination != DestinationKind::Mysql {
            problems.push(
                "topology.mode",
                format!(
                    "two-way synchronization needs a mysql destination; the destination is {destination}"
                ),
            );
        }
        self.migration
            .validate(self.sync_types.schema, destination, &mut problems);
        let allow_merge = self.destination.merge_tables;
        self.objects
            .validate(&ObjectRules { allow_merge }, &mut problems);
        self.advanced
            .validate(self.sync_types.full_data, &mut problems);
        self.validation.validate(
            &ValidationContext {
                destination,
                schema_sync: self.sync_types.schema,
                full_data_sync: self.sync_types.full_data,
                objects: &self.objects,
            },
            &mut problems,
        );
        problems.into_vec()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::connection::{ConnectionSettings, Endpoint};
    use crate::config::destination::{DestinationConfig, DestinationKind};
    use crate::config::objects::{DatabaseSelection, ObjectSelection, TableSelection};
    use crate::config::secret::Secret;
    use crate::config::sync::{ConflictPolicyKind, TopologyMode};

    /// A minimal valid MySQL-to-MySQL task.
    pub(crate) fn base() -> TaskConfig {
        TaskConfig::new(
            Endpoint {
                host: Some("127.0.0.1".into()),
                user: Some("dts".into()),
                ..Endpoint::default()
            },
            DestinationConfig::mysql(Endpoint {
                host: Some("127.0.0.2".into()),
                user: Some("dts".into()),
                ..Endpoint::default()
            }),
            ObjectSelection {
                databases: vec![DatabaseSelection {
                    name: "shop".into(),
                    tables: vec![TableSelection::new("orders")],
                    ..DatabaseSelection::default()
                }],
                ..ObjectSelection::default()
            },
        )
    }

    /// Asserts that `config` is invalid with an error at `key` whose message names the key.
    #[track_caller]
    fn assert_invalid(config: &TaskConfig, key: &str) {
        let errors = config.validate_all();
        assert!(
            errors
                .iter()
                .any(|e| e.key == key && e.to_string().starts_with(&format!("{key}: "))),
            "expected an error at {key}, got {errors:?}"
        );
        assert!(config.validate().is_err());
    }

    fn kafka() -> DestinationConfig {
        DestinationConfig::new(DestinationKind::Kafka)
    }

    #[test]
    fn base_is_valid() {
        assert_eq!(base().validate_all(), vec![]);
        assert!(base().validate().is_ok());
    }

    #[test]
    fn identifier_rule() {
        assert!(is_identifier("task_01-a"));
        assert!(is_identifier(&"a".repeat(64)));
        assert!(!is_identifier(&"a".repeat(65)));
        assert!(!is_identifier(""));
        assert!(!is_identifier("a b"));
        assert!(!is_identifier("é"));
    }

    #[test]
    fn bad_id() {
        for id in ["", "has space", "dots.not.allowed", &"x".repeat(65)] {
            let mut c = base();
            c.id = Some(id.to_owned());
            assert_invalid(&c, "id");
        }
        let mut c = base();
        c.id = Some("orders-sync_1".into());
        assert!(c.validate().is_ok());
    }

    #[test]
    fn empty_name() {
        let mut c = base();
        c.name = Some("  ".into());
        assert_invalid(&c, "name");
    }

    #[test]
    fn empty_objects() {
        let mut c = base();
        c.objects = ObjectSelection::default();
        let e = c.validate().unwrap_err();
        assert_eq!(e.key, "objects");
        assert!(e
            .to_string()
            .starts_with("objects: at least one object must be selected"));
    }

    #[test]
    fn incremental_must_stay_on() {
        let mut c = base();
        c.sync_types.incremental = false;
        assert_invalid(&c, "sync_types.incremental");
    }

    #[test]
    fn two_way_options_in_one_way() {
        let mut c = base();
        c.topology.conflict_policy = Some(ConflictPolicyKind::Ignore);
        assert_invalid(&c, "topology.conflict_policy");
        c.topology.mode = TopologyMode::TwoWay;
        assert_invalid(&c, "topology.partner_task_id");
        c.topology.partner_task_id = Some("reverse-task".into());
        assert!(c.validate().is_ok());
    }

    #[test]
    fn two_way_needs_mysql_destination() {
        let mut c = base();
        c.topology.mode = TopologyMode::TwoWay;
        c.destination = kafka();
        assert_invalid(&c, "topology.mode");
    }

    #[test]
    fn schema_only_option_without_schema_sync() {
        let mut c = base();
        c.sync_types.schema = false;
        c.migration.migration_assessment = true;
        assert_invalid(&c, "migration.migration_assessment");
    }

    #[test]
    fn referenced_connection_must_exist() {
        let mut c = base();
        c.source = Endpoint::saved("prod");
        assert_invalid(&c, "source.connection");
        c.connections
            .insert("prod".into(), ConnectionSettings::new("db", 3306, "dts"));
        assert!(c.validate().is_ok());
        c.destination.endpoint = Some(Endpoint::saved("missing"));
        assert_invalid(&c, "destination.connection");
    }

    #[test]
    fn password_sources_exclusive_in_profiles() {
        let mut c = base();
        let mut p = ConnectionSettings::new("db", 3306, "dts");
        p.password = Some(Secret::new("hunter2"));
        p.password_file = Some("/run/secrets/pw".into());
        c.connections.insert("prod".into(), p);
        assert_invalid(&c, "connections.prod.password_file");
        assert!(!format!("{:?}", c.validate_all()).contains("hunter2"));
    }

    #[test]
    fn merge_needs_adb_merge_tables() {
        let mut c = base();
        let mut t = TableSelection::new("orders_2024");
        t.rename_to = Some("orders".into());
        c.objects.databases[0].tables.push(t);
        assert_invalid(&c, "objects.databases[0].tables[1].rename_to");
        c.destination = DestinationConfig {
            endpoint: Some(Endpoint {
                host: Some("adb".into()),
                user: Some("dts".into()),
                ..Endpoint::default()
            }),
            merge_tables: true,
            ..DestinationConfig::new(DestinationKind::Adb)
        };
        assert!(c.validate().is_ok(), "{:?}", c.validate_all());
    }

    #[test]
    fn full_throttle_without_full_sync() {
        let mut c = base();
        c.sync_types.full_data = false;
        c.advanced.full_sync_throttle.rps = Some(100);
        assert_invalid(&c, "advanced.full_sync_throttle");
    }

    #[test]
    fn all_problems_are_listed() {
        let mut c = base();
        c.id = Some("bad id".into());
        c.advanced.other_retry_minutes = 720;
        c.sync_types.incremental = false;
        let keys: Vec<_> = c.validate_all().into_iter().map(|e| e.key).collect();
        assert_eq!(
            keys,
            vec![
                "id",
                "sync_types.incremental",
                "advanced.other_retry_minutes"
            ]
        );
    }
}
