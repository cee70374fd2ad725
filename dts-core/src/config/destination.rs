//! The destination (`[destination]`, tagged by `type`): which connector writes the data, how to
//! reach a database destination, and the selection rules the engine applies for it. Every
//! other key belongs to the connector: its crate defines the type, parses and validates it
//! ([`DestinationSchema`]); core carries those keys as [`ConnectorOptions`].

use super::connection::{ConnectionSettings, DatabaseType, Endpoint, EndpointRole, TlsConfig};
use super::error::{ConfigError, Problems};
use super::ops::{DdlOpSet, DmlOpSet};
use super::secret::Secret;
use serde::de::{self, DeserializeOwned, MapAccess, Visitor};
use serde::ser::SerializeMap;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::collections::BTreeMap;
use std::path::PathBuf;

/// Which kind of destination a [`DestinationConfig`] is (`type` in TOML): the connector that
/// writes it, and the rules that depend on it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DestinationKind {
    /// `type = "mysql"`: a MySQL-family server (MySQL, MariaDB, RDS MySQL, PolarDB for MySQL).
    Mysql,
    /// `type = "kafka"`: a Kafka cluster; changes become messages on topics.
    Kafka,
    /// `type = "adb"`: AnalyticDB for MySQL 3.0.
    Adb,
}

impl DestinationKind {
    /// The `type` value in TOML.
    pub fn as_str(self) -> &'static str {
        match self {
            DestinationKind::Mysql => "mysql",
            DestinationKind::Kafka => "kafka",
            DestinationKind::Adb => "adb",
        }
    }

    /// Whether the destination is a database reached through an [`Endpoint`] (`connection` or
    /// inline `host`, `port`, `user`, …), which core resolves and checks.
    pub fn is_database(self) -> bool {
        matches!(self, DestinationKind::Mysql | DestinationKind::Adb)
    }

    /// Whether the guide offers "Merge Tables" and the instance-level "DDL and DML Operations
    /// to Be Synchronized" (`merge_tables`, `dml`, `ddl`) for this destination: AnalyticDB.
    pub fn selects_operations(self) -> bool {
        self == DestinationKind::Adb
    }

    fn endpoint_role(self) -> Option<EndpointRole> {
        match self {
            DestinationKind::Mysql => Some(EndpointRole::MysqlDestination),
            DestinationKind::Adb => Some(EndpointRole::AdbDestination),
            DestinationKind::Kafka => None,
        }
    }
}

impl std::fmt::Display for DestinationKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Where the data goes: `[destination]` with `type = "mysql" | "kafka" | "adb"`.
///
/// Core reads what it acts on — the type, a database destination's endpoint, and (AnalyticDB)
/// `merge_tables`, `dml` and `ddl`, which the object filter applies — and hands every other
/// key to the destination's connector as [`ConnectorOptions`]. A program that links a
/// connector crate validates those keys when the file is loaded (the connector registers its
/// [`DestinationSchema`]); the connector's factory parses them again when it builds the sink.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DestinationConfig {
    /// The destination type.
    pub kind: DestinationKind,
    /// How to connect, for database destinations (`None` for Kafka).
    pub endpoint: Option<Endpoint>,
    /// The guide's "Merge Tables" (AnalyticDB): several source tables with identical schemas
    /// mapped to one destination table with `rename_to`; a `__dts_data_source` text column
    /// records each row's origin. Default `false`.
    pub merge_tables: bool,
    /// The guide's instance-level "DDL and DML Operations to Be Synchronized" (AnalyticDB),
    /// DML part. Default all.
    pub dml: DmlOpSet,
    /// DDL part of the instance-level operation selection. Default all.
    pub ddl: DdlOpSet,
    /// Every other key of `[destination]`, owned by the connector.
    pub options: ConnectorOptions,
}

impl DestinationConfig {
    /// A destination of `kind` with every option at its default (a database destination gets
    /// an empty endpoint to fill in).
    pub fn new(kind: DestinationKind) -> Self {
        Self {
            kind,
            endpoint: kind.is_database().then(Endpoint::default),
            merge_tables: false,
            dml: DmlOpSet::default(),
            ddl: DdlOpSet::default(),
            options: ConnectorOptions::default(),
        }
    }

    /// A database destination of `kind` reached through `endpoint`.
    pub fn database(kind: DestinationKind, endpoint: Endpoint) -> Self {
        Self {
            endpoint: Some(endpoint),
            ..Self::new(kind)
        }
    }

    /// A MySQL-family destination reached through `endpoint`, with the default write options.
    pub fn mysql(endpoint: Endpoint) -> Self {
        Self::database(DestinationKind::Mysql, endpoint)
    }

    /// The same destination with the connector's options replaced by `options`.
    #[must_use]
    pub fn with_options(mut self, options: ConnectorOptions) -> Self {
        self.options = options;
        self
    }

    /// The destination type.
    pub fn kind(&self) -> DestinationKind {
        self.kind
    }

    /// The database endpoint, for MySQL and AnalyticDB destinations (`None` for Kafka).
    pub fn endpoint(&self) -> Option<&Endpoint> {
        self.endpoint.as_ref()
    }

    /// The endpoint and the role core checks it in, for database destinations.
    pub(crate) fn endpoint_and_role(&self) -> Option<(&Endpoint, EndpointRole)> {
        Some((self.endpoint.as_ref()?, self.kind.endpoint_role()?))
    }

    /// The connector's own options parsed into its type `T` (see [`ConnectorOptions::parse`]).
    pub fn connector_options<T: DeserializeOwned>(&self) -> Result<T, ConfigError> {
        self.options.parse("destination")
    }

    pub(crate) fn validate(
        &self,
        connections: &BTreeMap<String, ConnectionSettings>,
        problems: &mut Problems,
    ) {
        if let Some((endpoint, role)) = self.endpoint_and_role() {
            endpoint.validate("destination", role, connections, problems);
        }
        if let Some(schema) = DestinationSchema::of(self.kind) {
            if let Err(found) = (schema.check)(self) {
                for problem in found {
                    problems.push_error(problem);
                }
            }
        }
    }

    /// The connector's options as the connector writes them (every option, defaults
    /// included, secrets as `***`) when its schema is linked in and they are valid; else as
    /// written, secrets masked.
    fn options_to_write(&self) -> toml::Table {
        DestinationSchema::of(self.kind)
            .and_then(|schema| (schema.check)(self).ok())
            .unwrap_or_else(|| self.options.masked())
    }
}

/// A connector's `[destination]` options: the keys core does not read, as written in the
/// file. The connector parses them into its own type ([`ConnectorOptions::parse`]).
///
/// `Debug` and serialization write the value of any key whose name contains `password` or
/// `secret` as `***` — connectors name their inline secrets so.
#[derive(Clone, Default, PartialEq)]
pub struct ConnectorOptions(toml::Table);

impl Eq for ConnectorOptions {}

impl ConnectorOptions {
    /// No options: every one at the connector's default.
    pub fn new() -> Self {
        Self::default()
    }

    /// The options of `value`'s fields: how a connector's typed options become a
    /// [`DestinationConfig`]'s. Fails only for types TOML cannot hold.
    pub fn from_serialize<T: Serialize>(value: &T) -> Result<Self, ConfigError> {
        toml::Table::try_from(value)
            .map(Self)
            .map_err(|e| ConfigError::invalid("destination", e.to_string()))
    }

    /// The options as a TOML table.
    pub fn as_table(&self) -> &toml::Table {
        &self.0
    }

    /// Sets one option.
    pub fn insert(&mut self, key: impl Into<String>, value: impl Into<toml::Value>) {
        self.0.insert(key.into(), value.into());
    }

    /// Whether no option is set.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The options parsed into the connector's type. Errors name the key under `prefix`
    /// (`destination.tables."dw.t".lifecycle`), as parse errors of the file do.
    pub fn parse<T: DeserializeOwned>(&self, prefix: &str) -> Result<T, ConfigError> {
        serde_path_to_error::deserialize(toml::Value::Table(self.0.clone())).map_err(|e| {
            let mut key = prefix.to_owned();
            for segment in e.path().iter() {
                use serde_path_to_error::Segment;
                match segment {
                    Segment::Seq { index } => key.push_str(&format!("[{index}]")),
                    Segment::Map { key: k } | Segment::Enum { variant: k } => {
                        key.push('.');
                        key.push_str(&quoted_key(k));
                    }
                    Segment::Unknown => {}
                }
            }
            // toml's own value errors end with "in `key`"; the key is named above already.
            let full = e.inner().to_string();
            let message = full
                .split("\nin `")
                .next()
                .unwrap_or(&full)
                .trim_end()
                .to_owned();
            // serde names an unknown or missing field at its table; name the field.
            for marker in ["unknown field `", "missing field `"] {
                if let Some(field) = message
                    .strip_prefix(marker)
                    .and_then(|r| r.split('`').next())
                {
                    let field = quoted_key(field);
                    if !key.ends_with(&format!(".{field}")) {
                        key.push('.');
                        key.push_str(&field);
                    }
                }
            }
            ConfigError::parse(key, message)
        })
    }

    /// The options with secrets written as `***`.
    fn masked(&self) -> toml::Table {
        fn mask(value: &toml::Value, secret: bool) -> toml::Value {
            match value {
                toml::Value::String(_) if secret => toml::Value::String("***".into()),
                toml::Value::Table(t) => toml::Value::Table(
                    t.iter()
                        .map(|(k, v)| (k.clone(), mask(v, is_secret_key(k))))
                        .collect(),
                ),
                toml::Value::Array(items) => {
                    toml::Value::Array(items.iter().map(|v| mask(v, secret)).collect())
                }
                other => other.clone(),
            }
        }
        match mask(&toml::Value::Table(self.0.clone()), false) {
            toml::Value::Table(t) => t,
            _ => toml::Table::new(),
        }
    }
}

impl std::fmt::Debug for ConnectorOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_map().entries(self.masked().iter()).finish()
    }
}

fn is_secret_key(key: &str) -> bool {
    let key = key.to_ascii_lowercase();
    key.contains("password") || key.contains("secret")
}

/// A key as written in a dotted path: bare when it is a bare TOML key, else quoted.
fn quoted_key(key: &str) -> String {
    let bare = !key.is_empty()
        && key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    if bare {
        key.to_owned()
    } else {
        format!("\"{key}\"")
    }
}

/// A connector's description of its `[destination]` options, registered by the connector crate
/// with [`register_destination!`](crate::register_destination) so that every program using
/// the crate validates them when a task file is loaded, and writes them (task ids, the
/// effective configuration) as the connector defines them.
///
/// Registration is link-time (the `inventory` crate): it is present in a program that uses
/// the connector's configuration module — its factory does, so every program that builds
/// tasks with it has it; [`TaskBuilder`](crate::build::TaskBuilder) refuses to build a task
/// whose destination's schema is missing rather than run under another task id.
pub struct DestinationSchema {
    /// The destination type the connector writes.
    pub kind: DestinationKind,
    /// Parses and validates the options of `destination`; on success, the options as the
    /// connector writes them: every option with its default filled in, in the connector's
    /// order, secrets as `***`. Problems name the full key (`destination.batch_rows`).
    pub check: fn(&DestinationConfig) -> Result<toml::Table, Vec<ConfigError>>,
}

inventory::collect!(DestinationSchema);

impl DestinationSchema {
    /// The registered schema of `kind`, when its connector is linked into the program.
    pub fn of(kind: DestinationKind) -> Option<&'static DestinationSchema> {
        inventory::iter::<DestinationSchema>
            .into_iter()
            .find(|schema| schema.kind == kind)
    }
}

/// Registers a connector's [`DestinationSchema`]:
/// `dts_core::register_destination!(DestinationKind::Kafka, check_kafka);`
#[macro_export]
macro_rules! register_destination {
    ($kind:expr, $check:path) => {
        $crate::inventory::submit! {
            $crate::config::DestinationSchema { kind: $kind, check: $check }
        }
    };
}

impl Serialize for DestinationConfig {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(None)?;
        map.serialize_entry("type", &self.kind)?;
        if let Some(endpoint) = &self.endpoint {
            let table = toml::Table::try_from(endpoint).map_err(serde::ser::Error::custom)?;
            for (key, value) in &table {
                map.serialize_entry(key, value)?;
            }
        }
        if self.kind.selects_operations() {
            map.serialize_entry("merge_tables", &self.merge_tables)?;
            map.serialize_entry("dml", &self.dml)?;
            map.serialize_entry("ddl", &self.ddl)?;
        }
        for (key, value) in &self.options_to_write() {
            map.serialize_entry(key, value)?;
        }
        map.end()
    }
}

impl<'de> Deserialize<'de> for DestinationConfig {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_map(DestinationVisitor)
    }
}

/// Reads `[destination]` key by key, so toml keeps the position of every value core reads.
struct DestinationVisitor;

#[derive(Default)]
struct Collected {
    kind: Option<DestinationKind>,
    connection: Option<String>,
    host: Option<String>,
    port: Option<u16>,
    user: Option<String>,
    password: Option<Secret>,
    password_env: Option<String>,
    password_file: Option<PathBuf>,
    tls: Option<TlsConfig>,
    database_type: Option<DatabaseType>,
    merge_tables: Option<bool>,
    dml: Option<DmlOpSet>,
    ddl: Option<DdlOpSet>,
    rest: toml::Table,
}

impl<'de> Visitor<'de> for DestinationVisitor {
    type Value = DestinationConfig;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a destination table with `type = \"mysql\" | \"kafka\" | \"adb\"`")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut c = Collected::default();
        while let Some(key) = map.next_key::<String>()? {
            match key.as_str() {
                "type" => c.kind = Some(map.next_value()?),
                "connection" => c.connection = Some(map.next_value()?),
                "host" => c.host = Some(map.next_value()?),
                "port" => c.port = Some(map.next_value()?),
                "user" => c.user = Some(map.next_value()?),
                "password" => c.password = Some(map.next_value()?),
                "password_env" => c.password_env = Some(map.next_value()?),
                "password_file" => c.password_file = Some(map.next_value()?),
                "tls" => c.tls = Some(map.next_value()?),
                "database_type" => c.database_type = Some(map.next_value()?),
                "merge_tables" => c.merge_tables = Some(map.next_value()?),
                "dml" => c.dml = Some(map.next_value()?),
                "ddl" => c.ddl = Some(map.next_value()?),
                _ => {
                    let value: toml::Value = map.next_value()?;
                    c.rest.insert(key, value);
                }
            }
        }
        c.into_config().map_err(de::Error::custom)
    }
}

impl Collected {
    fn into_config(self) -> Result<DestinationConfig, String> {
        let kind = self
            .kind
            .ok_or("missing field `type`: one of \"mysql\", \"kafka\", \"adb\"")?;
        let mut rest = self.rest;
        let endpoint = if kind.is_database() {
            Some(Endpoint {
                connection: self.connection,
                host: self.host,
                port: self.port,
                user: self.user,
                password: self.password,
                password_env: self.password_env,
                password_file: self.password_file,
                tls: self.tls,
                database_type: self.database_type,
            })
        } else {
            // Not a database: these keys are the connector's, to use or to refuse.
            let mut back = Handback(&mut rest);
            back.put("connection", self.connection)?;
            back.put("host", self.host)?;
            back.put("port", self.port)?;
            back.put("user", self.user)?;
            back.put("password", self.password.map(|p| p.expose().to_owned()))?;
            back.put("password_env", self.password_env)?;
            back.put("password_file", self.password_file)?;
            back.put("tls", self.tls)?;
            back.put("database_type", self.database_type)?;
            None
        };
        let (merge_tables, dml, ddl) = if kind.selects_operations() {
            (
                self.merge_tables.unwrap_or(false),
                self.dml.unwrap_or_default(),
                self.ddl.unwrap_or_default(),
            )
        } else {
            let mut back = Handback(&mut rest);
            back.put("merge_tables", self.merge_tables)?;
            back.put("dml", self.dml)?;
            back.put("ddl", self.ddl)?;
            (false, DmlOpSet::default(), DdlOpSet::default())
        };
        Ok(DestinationConfig {
            kind,
            endpoint,
            merge_tables,
            dml,
            ddl,
            options: ConnectorOptions(rest),
        })
    }
}

/// Puts keys core read typed back among the connector's options.
struct Handback<'a>(&'a mut toml::Table);

impl Handback<'_> {
    fn put<T: Serialize>(&mut self, key: &str, value: Option<T>) -> Result<(), String> {
        if let Some(value) = value {
            let value = toml::Value::try_from(value).map_err(|e| format!("{key}: {e}"))?;
            self.0.insert(key.to_owned(), value);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, Deserialize, Serialize, PartialEq)]
    #[serde(deny_unknown_fields)]
    struct Holder {
        destination: DestinationConfig,
    }

    fn parse(s: &str) -> Result<DestinationConfig, toml::de::Error> {
        toml::from_str::<Holder>(s).map(|h| h.destination)
    }

    #[derive(Debug, Deserialize, PartialEq)]
    #[serde(deny_unknown_fields)]
    struct Options {
        #[serde(default)]
        batch: u32,
        #[serde(default)]
        tables: BTreeMap<String, TableOptions>,
    }

    #[derive(Debug, Deserialize, PartialEq)]
    #[serde(deny_unknown_fields)]
    struct TableOptions {
        lifecycle: u32,
    }

    #[test]
    fn database_destinations_have_an_endpoint_and_the_rest_goes_to_the_connector() {
        let d =
            parse("[destination]\ntype = \"mysql\"\nhost = \"h\"\nuser = \"u\"\nload_data = false")
                .unwrap();
        assert_eq!(d.kind(), DestinationKind::Mysql);
        assert_eq!(d.endpoint().unwrap().host.as_deref(), Some("h"));
        assert_eq!(
            d.options.as_table()["load_data"],
            toml::Value::Boolean(false)
        );
        assert!(!d.merge_tables && d.dml.is_all() && d.ddl.is_all());
        // `type` need not come first.
        let d = parse("[destination]\nhost = \"h\"\nbatch = 3\ntype = \"adb\"\nmerge_tables = true\ndml = [\"insert\"]").unwrap();
        assert_eq!(d.kind(), DestinationKind::Adb);
        assert!(d.merge_tables && !d.dml.is_all());
        assert_eq!(d.options.as_table().len(), 1);
    }

    #[test]
    fn kafka_has_no_endpoint_and_keeps_every_key_for_its_connector() {
        let d = parse("[destination]\ntype = \"kafka\"\nbrokers = [\"k:9092\"]\nhost = \"h\"\nmerge_tables = true\n[destination.tls]\nmode = \"required\"").unwrap();
        assert!(d.endpoint().is_none());
        let keys: Vec<_> = d.options.as_table().keys().cloned().collect();
        assert_eq!(keys, ["brokers", "host", "tls", "merge_tables"]);
        assert!(!d.merge_tables);
    }

    #[test]
    fn core_keys_keep_their_types_and_type_is_required() {
        let e = parse("[destination]\ntype = \"mysql\"\nport = \"x\"").unwrap_err();
        assert!(e.message().contains("invalid type"), "{}", e.message());
        let e = parse("[destination]\nhost = \"h\"").unwrap_err();
        assert!(
            e.message().contains("missing field `type`"),
            "{}",
            e.message()
        );
        let e = parse("[destination]\ntype = \"oracle\"").unwrap_err();
        assert!(e.message().contains("unknown variant"), "{}", e.message());
    }

    #[test]
    fn connector_options_parse_with_key_paths() {
        let d = parse("[destination]\ntype = \"adb\"\nbatch = 3\n[destination.tables.\"dw.t\"]\nlifecycle = 2").unwrap();
        let o: Options = d.connector_options().unwrap();
        assert_eq!(o.batch, 3);
        assert_eq!(o.tables["dw.t"].lifecycle, 2);
        let d = parse(
            "[destination]\ntype = \"adb\"\n[destination.tables.\"dw.t\"]\nlifecycle = \"x\"",
        )
        .unwrap();
        let e = d.connector_options::<Options>().unwrap_err();
        assert_eq!(e.key, "destination.tables.\"dw.t\".lifecycle", "{e}");
        let d = parse("[destination]\ntype = \"adb\"\nbatchh = 1").unwrap();
        let e = d.connector_options::<Options>().unwrap_err();
        assert_eq!(e.key, "destination.batchh", "{e}");
        assert!(e.message.contains("expected `batch` or `tables`"), "{e}");
        let d = parse("[destination]\ntype = \"adb\"\n[destination.tables.\"dw.t\"]").unwrap();
        let e = d.connector_options::<Options>().unwrap_err();
        assert_eq!(e.key, "destination.tables.\"dw.t\".lifecycle", "{e}");
    }

    #[test]
    fn secrets_of_connector_options_are_masked_when_printed_or_written() {
        let d = parse("[destination]\ntype = \"kafka\"\nsasl_password = \"hunter2\"\n[destination.client]\n\"ssl.key.password\" = \"hunter3\"\nx = \"visible\"").unwrap();
        let shown = format!("{d:?}");
        assert!(
            !shown.contains("hunter") && shown.contains("visible"),
            "{shown}"
        );
        let written = toml::to_string(&Holder {
            destination: d.clone(),
        })
        .unwrap();
        assert!(
            !written.contains("hunter") && written.contains("visible"),
            "{written}"
        );
        // The options themselves keep the value for the connector.
        assert_eq!(
            d.options.as_table()["sasl_password"].as_str(),
            Some("hunter2")
        );
    }

    #[test]
    fn round_trips_without_a_linked_connector() {
        for src in [
            "[destination]\ntype = \"mysql\"\nconnection = \"dst\"\nload_data = false",
            "[destination]\ntype = \"adb\"\nhost = \"a\"\nport = 3306\nuser = \"u\"\nmerge_tables = true\ndml = [\"insert\"]\nddl = []\nbatch = 5",
            "[destination]\ntype = \"kafka\"\nbrokers = [\"k:9092\"]\ntopic = \"t\"\n[destination.topic_routes]\ncrm = \"c\"",
        ] {
            let d = parse(src).unwrap();
            let text = toml::to_string(&Holder { destination: d.clone() }).unwrap();
            assert_eq!(parse(&text).unwrap(), d, "{text}");
        }
    }

    #[test]
    fn endpoint_rules_apply_to_database_destinations() {
        let check = |d: &DestinationConfig| {
            let mut p = Problems::default();
            d.validate(&BTreeMap::new(), &mut p);
            p.into_vec()
        };
        let d = DestinationConfig::new(DestinationKind::Mysql);
        assert!(check(&d).iter().any(|e| e.key == "destination.host"));
        let mut a = DestinationConfig::new(DestinationKind::Adb);
        a.endpoint = Some(Endpoint {
            host: Some("h".into()),
            user: Some("u".into()),
            database_type: Some(DatabaseType::Mysql),
            ..Endpoint::default()
        });
        assert!(check(&a)
            .iter()
            .any(|e| e.key == "destination.database_type"));
        assert!(check(&DestinationConfig::new(DestinationKind::Kafka)).is_empty());
    }
}
