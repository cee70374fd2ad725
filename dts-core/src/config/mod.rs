//! Task configuration: everything the reference guide lets a user choose, as TOML or code,
//! with the guide's defaults and rules.
//!
//! A task is described by a [`TaskConfig`]:
//!
//! ```toml
//! name = "orders to replica"            # free text, need not be unique
//! id = "orders-replica"                 # stable unique id: 1-64 of [A-Za-z0-9_-]
//! instance_class = "medium"             # optional incremental RPS ceiling
//! conflicting_tables = "precheck_and_report_errors"
//!
//! [connections.prod]                    # saved profiles ("Select Existing Connection")
//! host = "10.0.0.5"
//! user = "dts"
//! password_env = "DTS_PROD_PASSWORD"    # or password = "…" / password_file = "…"
//!
//! [connections.prod.tls]                # "Encryption" (also [source.tls], [destination.tls])
//! mode = "verify_ca"                    # disabled | required | verify_ca | verify_identity
//! ca_cert = "/etc/dts/ca.pem"           # + client_cert / client_key for REQUIRE X509
//!
//! [source]
//! connection = "prod"                   # or host/port/user/password… inline
//!
//! [destination]
//! type = "mysql"                        # "mysql" | "kafka" | "adb"
//! host = "10.0.0.6"
//! user = "dts"
//! password_file = "/run/secrets/dest"
//!
//! [[objects.databases]]
//! name = "shop"
//! ```
//!
//! Sections: `[connections.NAME]` ([`ConnectionSettings`]), `[source]` ([`Endpoint`]),
//! `[destination]` ([`DestinationConfig`]), `[sync_types]` ([`SyncTypes`]), `[topology]`
//! ([`TopologyConfig`]), `[migration]` ([`MigrationOptions`]), `[objects]`
//! ([`ObjectSelection`]), `[advanced]` ([`AdvancedConfig`]) and `[validation]`
//! ([`ValidationConfig`]). Unknown keys are rejected everywhere. Every problem is reported as
//! a [`ConfigError`] naming the key (`advanced.other_retry_minutes: …`).

mod advanced;
mod alerts;
mod connection;
mod data_validation;
mod destination;
mod error;
mod etl;
mod instance;
mod masking;
mod migration;
mod naming;
mod objects;
mod ops;
mod parse;
mod secret;
mod sync;
mod throttle;
mod validation;

pub use advanced::{
    AdvancedConfig, OnlineDdlMode, CONNECTION_RETRY_RANGE, DEFAULT_CONNECTION_RETRY_MINUTES,
    DEFAULT_GH_OST_SHADOW_REGEX, DEFAULT_GH_OST_USELESS_REGEX, DEFAULT_OTHER_RETRY_MINUTES,
    OTHER_RETRY_RANGE,
};
pub use alerts::{MonitoringConfig, ThresholdAlert};
pub use connection::{
    ConnectionSettings, DatabaseType, Endpoint, TlsConfig, TlsMode, DEFAULT_PORT,
};
pub use data_validation::{
    FullValidationAlert, FullVerificationMode, IncrementalValidationAlert, ValidationConfig,
    VerificationBaseline, SAMPLING_PERCENT_RANGE, TIMEOUT_HOURS_RANGE,
};
pub use destination::{ConnectorOptions, DestinationConfig, DestinationKind, DestinationSchema};
pub use error::{ConfigError, ConfigErrorKind};
pub use etl::EtlConfig;
pub use instance::InstanceClass;
pub use masking::{MaskingConfig, MaskingMethod, MaskingRule};
pub use migration::{Capitalization, MigrationOptions, TriggerMethod};
pub use objects::{
    DatabaseSelection, MappingLevel, MappingRule, NamePattern, ObjectSelection, PatternKind,
    PatternSelection, TableSelection,
};
pub use ops::{DdlOp, DdlOpSet, DmlOp, DmlOpSet};
pub use secret::{Secret, REDACTED};
pub use sync::{
    ConflictPolicyKind, ConflictingTablesMode, StartAt, SyncTypes, TopologyConfig, TopologyMode,
    TwoWayRole,
};

use connection::EndpointRole;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::Path;

/// One synchronization task: source, destination, what to copy and how. Build it from TOML
/// with [`TaskConfig::from_toml_str`] / [`TaskConfig::from_toml_file`] (parsed and validated),
/// or in code with [`TaskConfig::new`] and then [`TaskConfig::validate`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TaskConfig {
    /// The guide's "Task Name": a descriptive name; "does not need to be unique".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// A stable unique id (1–64 characters of `[A-Za-z0-9_-]`), used to name the task's
    /// checkpoint and state; set it so a renamed task keeps its progress.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// The guide's "Instance Class": ceiling on incremental synchronization RPS; unset means
    /// none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub instance_class: Option<InstanceClass>,
    /// The guide's "Processing Mode of Conflicting Tables"; default
    /// `precheck_and_report_errors`.
    #[serde(default)]
    pub conflicting_tables: ConflictingTablesMode,
    /// Saved connection profiles by name (the guide's "Select Existing Connection"), referenced
    /// by `connection = "NAME"` in `[source]` or `[destination]`.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub connections: BTreeMap<String, ConnectionSettings>,
    /// The source database (MySQL 5.7/8.x or MariaDB 10.x).
    pub source: Endpoint,
    /// The destination: MySQL, Kafka or AnalyticDB for MySQL 3.0.
    pub destination: DestinationConfig,
    /// The guide's "Synchronization Types"; default schema + full data + incremental.
    #[serde(default)]
    pub sync_types: SyncTypes,
    /// The guide's "Synchronization Topology" and its two-way-only options; default one-way.
    #[serde(default)]
    pub topology: TopologyConfig,
    /// Triggers, migration assessment, events, accounts and name capitalization.
    #[serde(default)]
    pub migration: MigrationOptions,
    /// The objects to synchronize; at least one must be selected.
    #[serde(default)]
    pub objects: ObjectSelection,
    /// The guide's "Advanced Settings".
    #[serde(default)]
    pub advanced: AdvancedConfig,
    /// The guide's "Configure Data Validation"; default off.
    #[serde(default)]
    pub validation: ValidationConfig,
    /// Precheck warnings acknowledged by check name (e.g.
    /// `source.tables_without_primary_key`): the task starts despite them. Errors cannot be
    /// acknowledged.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub acknowledge_warnings: Vec<String>,
}

impl TaskConfig {
    /// A task copying `objects` from `source` to `destination` with every other option at the
    /// guide's default.
    pub fn new(source: Endpoint, destination: DestinationConfig, objects: ObjectSelection) -> Self {
        Self {
            name: None,
            id: None,
            instance_class: None,
            conflicting_tables: ConflictingTablesMode::default(),
            connections: BTreeMap::new(),
            source,
            destination,
            sync_types: SyncTypes::default(),
            topology: TopologyConfig::default(),
            migration: MigrationOptions::default(),
            objects,
            advanced: AdvancedConfig::default(),
            validation: ValidationConfig::default(),
            acknowledge_warnings: Vec::new(),
        }
    }

    /// Parses a TOML task and validates it. Parse errors name the key (unknown keys, missing
    /// keys, wrong types) and carry toml's message with the line and column; rule violations
    /// are reported as by [`TaskConfig::validate`].
    pub fn from_toml_str(text: &str) -> Result<Self, ConfigError> {
        let config = Self::parse_toml_str(text)?;
        config.validate()?;
        Ok(config)
    }

    /// Parses a TOML task without validating it, for tools that inspect or edit configs, or
    /// that want every problem from [`TaskConfig::validate_all`].
    pub fn parse_toml_str(text: &str) -> Result<Self, ConfigError> {
        parse::parse(text, None)
    }

    /// Reads, parses and validates a TOML task file. Error messages carry `path:line:column`.
    pub fn from_toml_file(path: impl AsRef<Path>) -> Result<Self, ConfigError> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path).map_err(|e| {
            ConfigError::new(
                ConfigErrorKind::Io,
                "",
                format!("cannot read config file `{}`: {e}", path.display()),
            )
        })?;
        let config = parse::parse(&text, Some(path))?;
        config.validate()?;
        Ok(config)
    }

    /// The task as TOML. Inline passwords are written as `***` (see [`Secret`]), so a config
    /// meant to be saved and reloaded should use `password_env` or `password_file`.
    pub fn to_toml_string(&self) -> Result<String, ConfigError> {
        toml::to_string(self).map_err(|e| {
            ConfigError::new(
                ConfigErrorKind::Parse,
                "",
                format!("cannot write TOML: {e}"),
            )
        })
    }

    /// The source's full connection settings, from its profile or its inline keys, with
    /// `database_type` filled in (`mysql` unless set).
    pub fn source_settings(&self) -> Result<ConnectionSettings, ConfigError> {
        let mut settings = self.source.resolve("source", &self.connections)?;
        settings
            .database_type
            .get_or_insert(EndpointRole::Source.default_database_type());
        Ok(settings)
    }

    /// The destination's full connection settings (`None` for Kafka), with `database_type`
    /// filled in (`mysql` for a MySQL destination unless set, `adb` for AnalyticDB).
    pub fn destination_settings(&self) -> Result<Option<ConnectionSettings>, ConfigError> {
        let Some((endpoint, role)) = self.destination.endpoint_and_role() else {
            return Ok(None);
        };
        let mut settings = endpoint.resolve("destination", &self.connections)?;
        settings
            .database_type
            .get_or_insert(role.default_database_type());
        Ok(Some(settings))
    }

    /// The source password, read from wherever it is configured; errors name the full key
    /// (`source.password_env`, or `connections.NAME.password_file` for a profile).
    pub fn source_password(&self) -> Result<Secret, ConfigError> {
        self.source_settings()?
            .resolve_password()
            .map_err(|e| e.prefixed(&self.source.settings_prefix("source")))
    }

    /// The destination password (`None` for Kafka); errors name the full key.
    pub fn destination_password(&self) -> Result<Option<Secret>, ConfigError> {
        let Some(endpoint) = self.destination.endpoint() else {
            return Ok(None);
        };
        let settings = endpoint.resolve("destination", &self.connections)?;
        settings
            .resolve_password()
            .map(Some)
            .map_err(|e| e.prefixed(&endpoint.settings_prefix("destination")))
    }

    /// The incremental write ceiling in rows per second: `advanced.incremental_throttle.rps`
    /// when set (an explicit throttle overrides the preset), else the instance class's
    /// ceiling; `None` when neither is set.
    pub fn incremental_rps_limit(&self) -> Option<u64> {
        self.advanced
            .incremental_throttle
            .rps
            .or(self.instance_class.map(InstanceClass::rps_ceiling))
    }

    /// Writers applying changes at the same time: the instance class's parallelism, `None`
    /// (the runner's default) without a class.
    pub fn parallelism(&self) -> Option<usize> {
        self.instance_class.map(InstanceClass::parallelism)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    /// Every section and option, with non-default values where a rule allows.
    const FULL: &str = r#"
name = "orders two-way"
id = "orders-two-way_01"
instance_class = "large"
conflicting_tables = "ignore_errors_and_proceed"

[connections.src]
host = "10.0.0.5"
port = 3307
user = "dts"
password_env = "DTS_SRC_PASSWORD"
database_type = "mariadb"

[connections.src.tls]
mode = "verify_identity"
ca_cert = "/etc/dts/ca.pem"
client_cert = "/etc/dts/client.pem"
client_key = "/etc/dts/client.key"

[source]
connection = "src"

[destination]
type = "mysql"
host = "10.0.0.6"
port = 3306
user = "dts_writer"
password_file = "/run/secrets/dest"
database_type = "mysql"

[destination.tls]
mode = "required"

[sync_types]
schema = true
full_data = true
incremental = true

[topology]
mode = "two_way"
exactly_once_write = true
exclude_ddl = false
conflict_policy = "overwrite"
role = "forward"
partner_task_id = "orders-reverse"

[migration]
triggers = "auto"
migration_assessment = true
migrate_events = true
migrate_accounts = true
accounts = ["app@%", "report"]
capitalization = "same_as_source"

[[objects.databases]]
name = "shop"
rename_to = "shop_replica"
dml = ["insert", "update"]
ddl = ["create_table", "alter_table", "create_database"]

[[objects.databases.tables]]
name = "orders"
rename_to = "orders_v2"
columns = ["id", "amount", "note"]
rename_columns = { amount = "total" }
dml = ["insert", "update", "delete"]
ddl = ["alter_table", "truncate_table"]
filter = "id > 1000 AND note <> 'x;y'"

[[objects.databases.tables]]
name = "users"

[[objects.databases]]
name = "crm"

[[objects.patterns]]
pattern = "logs_*.events_*"
kind = "wildcard"
dml = ["insert"]

[[objects.exclude]]
pattern = '^crm\.tmp_.*$'
kind = "regex"

[[objects.mapping_rules]]
level = "table"
scope = "crm.*"
add_prefix = "crm_"

[[objects.mapping_rules]]
level = "column"
regex = "^c_(.*)$"
replacement = "$1"

[advanced]
online_ddl = "no_gh_ost"
gh_ost_shadow_regex = "^_(.+)_(?:gho|new|tmp)$"
gh_ost_useless_regex = "^_(.+)_(?:ghc|del|old)$"
connection_retry_minutes = 60
other_retry_minutes = 30
write_heartbeat = false
environment_tag = "production"
scene_label = "migration"

[advanced.full_sync_throttle]
source_qps = 500
rps = 20000
mbps = 40

[advanced.incremental_throttle]
rps = 5000
mbps = 10

[advanced.etl]
enabled = true
name = "strip_pii"

[advanced.masking]
enabled = true

[[advanced.masking.rules]]
database = "shop"
table = "users"
column = "phone"
method = "partial"
keep_last = 4

[advanced.monitoring]
alert_on_failure = true
latency = { threshold = 30, period_minutes = 5, periods = 3 }
webhook_url = "https://hooks.example.com/dts"

[validation]
full_mode = "sampled"
sampling_percent = 50
timeout_hours = 24
baseline = "source"
max_rps = 1000
max_mbps = 10
incremental = true
incremental_ops = ["insert", "update"]
schema = true
objects = ["shop.orders", "crm"]

[validation.full_alert]
on_failure = true
inconsistency_threshold = 10

[validation.incremental_alert]
on_failure = true
inconsistent_count = { threshold = 5, period_minutes = 10, periods = 2 }
latency = { threshold = 60, period_minutes = 5, periods = 3 }
"#;

    const MINIMAL: &str = r#"
[source]
host = "127.0.0.1"
user = "dts"

[destination]
type = "mysql"
host = "127.0.0.2"
user = "dts"

[[objects.databases]]
name = "shop"
"#;

    fn parse_err(text: &str) -> ConfigError {
        TaskConfig::from_toml_str(text).unwrap_err()
    }

    #[track_caller]
    fn assert_names_key(e: &ConfigError, key: &str) {
        assert_eq!(e.key, key, "{e}");
        assert!(e.to_string().starts_with(&format!("{key}: ")), "{e}");
    }

    #[test]
    fn acknowledged_warnings_parse_at_the_top_level() {
        let text =
            format!("acknowledge_warnings = [\"source.tables_without_primary_key\"]\n{MINIMAL}");
        let config = TaskConfig::from_toml_str(&text).unwrap();
        assert_eq!(
            config.acknowledge_warnings,
            vec!["source.tables_without_primary_key".to_string()]
        );
        assert!(TaskConfig::from_toml_str(MINIMAL)
            .unwrap()
            .acknowledge_warnings
            .is_empty());
    }

    #[test]
    fn full_example_parses_validates_and_round_trips() {
        let config = TaskConfig::from_toml_str(FULL).unwrap();
        assert_eq!(config.name.as_deref(), Some("orders two-way"));
        assert_eq!(
            config.topology.conflict_policy(),
            ConflictPolicyKind::Overwrite
        );
        let table = &config.objects.databases[0].tables[0];
        assert_eq!(table.rename_columns["amount"], "total");
        assert_eq!(config.advanced.masking.rules[0].keep_last, Some(4));
        assert_eq!(config.validation.sampling_percent, Some(50));
        assert_eq!(config.incremental_rps_limit(), Some(5000));
        let settings = config.source_settings().unwrap();
        assert_eq!((settings.host.as_str(), settings.port), ("10.0.0.5", 3307));
        assert_eq!(settings.tls.mode, TlsMode::VerifyIdentity);

        let text = config.to_toml_string().unwrap();
        let back = TaskConfig::from_toml_str(&text).unwrap();
        assert_eq!(back, config, "{text}");
        // And once more through JSON, for hosts that store configs that way.
        let json = serde_json::to_string(&config).unwrap();
        let back: TaskConfig = serde_json::from_str(&json).unwrap();
        assert_eq!(back, config);
    }

    #[test]
    fn kafka_and_adb_tasks_parse() {
        let kafka = MINIMAL.replace(
            "type = \"mysql\"\nhost = \"127.0.0.2\"\nuser = \"dts\"",
            "type = \"kafka\"\nbrokers = [\"127.0.0.1:9092\"]\ntopic = \"dts\"\ncompression = \"snappy\"",
        );
        let config = TaskConfig::from_toml_str(&kafka).unwrap();
        assert_eq!(config.destination.kind(), DestinationKind::Kafka);
        assert_eq!(config.destination_settings().unwrap(), None);
        assert_eq!(config.destination_password().unwrap(), None);
        assert_eq!(
            TaskConfig::from_toml_str(&config.to_toml_string().unwrap()).unwrap(),
            config
        );
        let adb = MINIMAL.replace("type = \"mysql\"", "type = \"adb\"\nmerge_tables = true");
        let config = TaskConfig::from_toml_str(&adb).unwrap();
        assert_eq!(config.destination.kind(), DestinationKind::Adb);
        let settings = config.destination_settings().unwrap().unwrap();
        assert_eq!(settings.database_type, Some(DatabaseType::Adb));
    }

    #[test]
    fn defaults_equal_the_guide() {
        let c = TaskConfig::from_toml_str(MINIMAL).unwrap();
        assert_eq!(c.name, None);
        assert_eq!(c.id, None);
        assert_eq!(c.instance_class, None);
        assert_eq!(c.incremental_rps_limit(), None);
        assert_eq!(
            c.conflicting_tables,
            ConflictingTablesMode::PrecheckAndReportErrors
        );
        let s = c.source_settings().unwrap();
        assert_eq!(s.port, 3306);
        assert_eq!(s.database_type, Some(DatabaseType::Mysql));
        assert_eq!(s.tls.mode, TlsMode::Disabled);
        assert!(c.source_password().unwrap().is_empty());
        assert!(c.sync_types.schema && c.sync_types.full_data && c.sync_types.incremental);
        assert_eq!(c.topology.mode, TopologyMode::OneWay);
        assert!(!c.topology.exactly_once_write());
        assert_eq!(c.migration.trigger_method(), TriggerMethod::Manual);
        assert!(!c.migration.migration_assessment);
        assert_eq!(c.migration.capitalization, Capitalization::DtsDefault);
        let a = &c.advanced;
        assert_eq!(a.online_ddl, OnlineDdlMode::NoGhOst);
        assert_eq!(a.gh_ost_shadow_regex(), "^_(.+)_(?:gho|new)$");
        assert_eq!(a.gh_ost_useless_regex(), "^_(.+)_(?:ghc|del|old)$");
        assert_eq!(
            (a.connection_retry_minutes, a.other_retry_minutes),
            (720, 10)
        );
        assert!(!a.full_sync_throttle.is_enabled() && !a.incremental_throttle.is_enabled());
        assert!(a.write_heartbeat);
        assert!(!a.etl.enabled && !a.masking.enabled && !a.monitoring.is_enabled());
        assert_eq!(c.validation, ValidationConfig::default());
        assert_eq!(c.validation.full_mode, FullVerificationMode::None);
        assert_eq!(c.validation.baseline, VerificationBaseline::Union);
        let d = &c.objects.databases[0];
        assert!(d.is_whole() && d.dml.is_none() && d.ddl.is_none());
        // What `TaskConfig::new` builds is what an empty TOML section means.
        let built = TaskConfig::new(c.source.clone(), c.destination.clone(), c.objects.clone());
        assert_eq!(built, c);
    }

    #[test]
    fn example_task_file_parses_and_validates() {
        let text = include_str!("../../../examples/tasks/mysql_to_mysql.toml");
        let config = TaskConfig::from_toml_str(text).unwrap();
        let s = config.source_settings().unwrap();
        assert_eq!(
            (s.host.as_str(), s.port, s.user.as_str()),
            ("127.0.0.1", 33061, "dts")
        );
        assert_eq!(s.password_env.as_deref(), Some("DTS_SOURCE_PASSWORD"));
        let d = config.destination_settings().unwrap().unwrap();
        assert_eq!(
            (d.host.as_str(), d.port, d.user.as_str()),
            ("127.0.0.1", 33062, "dts")
        );
        assert_eq!(d.password_env.as_deref(), Some("DTS_DEST_PASSWORD"));
    }

    #[test]
    fn unknown_keys_are_rejected_naming_them() {
        let e = parse_err(&format!("{MINIMAL}\n[advanced]\nretry_minutes = 5\n"));
        assert_names_key(&e, "advanced.retry_minutes");
        assert_eq!(e.kind, ConfigErrorKind::Parse);
        assert!(e.message.contains("unknown field `retry_minutes`"), "{e}");
        assert!(e.message.contains("line "), "{e}");

        let e = parse_err(&format!("colour = \"blue\"\n{MINIMAL}"));
        assert_names_key(&e, "colour");

        let e = parse_err(&MINIMAL.replace("name = \"shop\"", "name = \"shop\"\nwhere = \"x\""));
        assert_names_key(&e, "objects.databases[0].where");

        // A connector's own `[destination]` keys are checked by the connector when its crate
        // is linked (dts-mysql, dts-kafka and dts-adb test theirs).

        let e = parse_err(&format!(
            "{MINIMAL}\n[source.tls]\nmode = \"required\"\nca = \"x\"\n"
        ));
        assert_names_key(&e, "source.tls.ca");
    }

    #[test]
    fn wrong_types_and_missing_keys_name_the_key() {
        let e = parse_err(&format!(
            "{MINIMAL}\n[advanced]\nconnection_retry_minutes = \"long\"\n"
        ));
        assert_names_key(&e, "advanced.connection_retry_minutes");
        let e = parse_err(&MINIMAL.replace(
            "user = \"dts\"\n\n[destination]",
            "user = \"dts\"\nport = 70000\n\n[destination]",
        ));
        assert_names_key(&e, "source.port");
        let e = parse_err(&format!("{MINIMAL}\n[topology]\nmode = \"three_way\"\n"));
        assert_names_key(&e, "topology.mode");
        let e = parse_err(&MINIMAL.replace(
            "[[objects.databases]]\nname = \"shop\"",
            "[[objects.databases]]\nrename_to = \"x\"",
        ));
        assert_names_key(&e, "objects.databases[0].name");
        let e = parse_err(&MINIMAL.replace("type = \"mysql\"\n", ""));
        assert_names_key(&e, "destination.type");
        let e = parse_err("[source]\nhost = \"h\"\nuser = \"u\"\n");
        assert_names_key(&e, "destination");
        let e = parse_err(&format!(
            "{MINIMAL}\n[[advanced.masking.rules]]\ndatabase = \"d\"\n"
        ));
        assert_names_key(&e, "advanced.masking.rules[0].table");
        let e = parse_err(&format!(
            "{MINIMAL}\n[advanced.monitoring]\nlatency = {{ threshold = 1, period_minutes = 1 }}\n"
        ));
        assert_names_key(&e, "advanced.monitoring.latency.periods");
        let e = parse_err(
            &MINIMAL.replace("type = \"mysql\"", "type = \"adb\"\nmerge_tables = \"yes\""),
        );
        assert_names_key(&e, "destination.merge_tables");
    }

    #[test]
    fn syntax_errors_are_parse_errors() {
        let e = parse_err("[source\nhost = 1");
        assert_eq!(e.kind, ConfigErrorKind::Parse);
        assert!(e.message.contains("line 1"), "{e}");
    }

    #[test]
    fn rule_violations_from_toml_name_the_key() {
        let e = parse_err(&format!(
            "{MINIMAL}\n[advanced]\nother_retry_minutes = 720\n"
        ));
        assert_eq!(
            e.to_string(),
            "advanced.other_retry_minutes: must be less than advanced.connection_retry_minutes (720), got 720"
        );
        assert_eq!(e.kind, ConfigErrorKind::Invalid);
        let e = parse_err(&format!("{MINIMAL}\n[sync_types]\nincremental = false\n"));
        assert_names_key(&e, "sync_types.incremental");
        let e = parse_err(&format!("{MINIMAL}\n[topology]\nexclude_ddl = true\n"));
        assert_names_key(&e, "topology.exclude_ddl");
        let e = parse_err(&format!(
            "{MINIMAL}\n[sync_types]\nschema = false\n[migration]\ntriggers = \"auto\"\n"
        ));
        assert_names_key(&e, "migration.triggers");
        let e = parse_err(&format!(
            "{MINIMAL}\n[validation]\nfull_mode = \"sampled\"\nsampling_percent = 5\n"
        ));
        assert_names_key(&e, "validation.sampling_percent");
        let e = parse_err(&format!(
            "{MINIMAL}\n[validation]\nfull_mode = \"row_count\"\ntimeout_hours = 73\n"
        ));
        assert_names_key(&e, "validation.timeout_hours");
        let e = parse_err(&format!(
            "{MINIMAL}\n[advanced.incremental_throttle]\nmbps = 0\n"
        ));
        assert_names_key(&e, "advanced.incremental_throttle.mbps");
        let e = parse_err(&format!("id = \"no spaces please\"\n{MINIMAL}"));
        assert_names_key(&e, "id");
        let e = parse_err(&MINIMAL.replace("[[objects.databases]]\nname = \"shop\"", ""));
        assert_names_key(&e, "objects");
        let e = parse_err(&MINIMAL.replace("host = \"127.0.0.1\"", "connection = \"nope\""));
        assert_names_key(&e, "source.connection");
        let e = parse_err(&MINIMAL.replace(
            "user = \"dts\"\n\n[destination]",
            "user = \"dts\"\npassword = \"a\"\npassword_env = \"B\"\n\n[destination]",
        ));
        assert_names_key(&e, "source.password_env");
    }

    #[test]
    fn file_loading() {
        let mut f = tempfile::NamedTempFile::new().unwrap();
        f.write_all(MINIMAL.as_bytes()).unwrap();
        let config = TaskConfig::from_toml_file(f.path()).unwrap();
        assert_eq!(config.objects.databases[0].name, "shop");

        let mut bad = tempfile::NamedTempFile::new().unwrap();
        write!(bad, "{MINIMAL}\n[advanced]\nbogus = 1\n").unwrap();
        let e = TaskConfig::from_toml_file(bad.path()).unwrap_err();
        assert_names_key(&e, "advanced.bogus");
        assert!(e.message.contains(&bad.path().display().to_string()), "{e}");

        let dir = tempfile::tempdir().unwrap();
        let e = TaskConfig::from_toml_file(dir.path().join("missing.toml")).unwrap_err();
        assert_eq!(e.kind, ConfigErrorKind::Io);
        assert!(e.to_string().contains("missing.toml"));
    }

    #[test]
    fn secrets_never_show() {
        let text = MINIMAL.replace(
            "user = \"dts\"\n\n[destination]",
            "user = \"dts\"\npassword = \"hunter2-src\"\n\n[destination]",
        );
        let config = TaskConfig::from_toml_str(&text).unwrap();
        assert_eq!(config.source_password().unwrap().expose(), "hunter2-src");
        assert!(!format!("{config:?}").contains("hunter2"));
        assert!(!format!("{:?}", config.source_settings().unwrap()).contains("hunter2"));
        assert!(!format!("{}", config.source_password().unwrap()).contains("hunter2"));
        let saved = config.to_toml_string().unwrap();
        assert!(
            !saved.contains("hunter2") && saved.contains("***"),
            "{saved}"
        );
        assert!(!serde_json::to_string(&config).unwrap().contains("hunter2"));
        // Reloading a saved config does not silently use `***` as the password.
        assert_names_key(
            &TaskConfig::from_toml_str(&saved).unwrap_err(),
            "source.password",
        );

        // Errors about a config holding a password never carry it either.
        let mut broken = config.clone();
        broken.source.password_file = Some("/x".into());
        broken.advanced.other_retry_minutes = 0;
        for e in broken.validate_all() {
            assert!(!format!("{e} {e:?}").contains("hunter2"));
        }
        let e = TaskConfig::from_toml_str(&format!("{text}\n[advanced]\nbad = 1\n")).unwrap_err();
        assert!(!format!("{e} {e:?}").contains("hunter2"));
        // A password of the wrong type is not echoed back.
        let e = parse_err(&MINIMAL.replace(
            "user = \"dts\"\n\n[destination]",
            "user = \"dts\"\npassword = 8675309\n\n[destination]",
        ));
        assert_names_key(&e, "source.password");
        assert!(!format!("{e} {e:?}").contains("8675309"));
    }

    #[test]
    fn password_env_and_file_resolve_through_the_task() {
        let var = "DTS_CONFIG_TEST_TASK_SOURCE_PASSWORD";
        std::env::set_var(var, "from-env");
        let mut file = tempfile::NamedTempFile::new().unwrap();
        writeln!(file, "from-file").unwrap();
        let text = format!(
            "[connections.dst]\nhost = \"h\"\nuser = \"u\"\npassword_file = {:?}\n{}",
            file.path().display().to_string(),
            MINIMAL
                .replace(
                    "user = \"dts\"\n\n[destination]",
                    &format!("user = \"dts\"\npassword_env = \"{var}\"\n\n[destination]"),
                )
                .replace(
                    "host = \"127.0.0.2\"\nuser = \"dts\"",
                    "connection = \"dst\""
                ),
        );
        let config = TaskConfig::from_toml_str(&text).unwrap();
        assert_eq!(config.source_password().unwrap().expose(), "from-env");
        assert_eq!(
            config.destination_password().unwrap().unwrap().expose(),
            "from-file"
        );
        std::env::remove_var(var);
        let e = config.source_password().unwrap_err();
        assert_names_key(&e, "source.password_env");
        assert_eq!(e.kind, ConfigErrorKind::Credential);
        drop(file);
        let e = config.destination_password().unwrap_err();
        assert_names_key(&e, "connections.dst.password_file");
    }
}
