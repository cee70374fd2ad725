//! How to reach a MySQL-family server: saved connection profiles (the guide's "Select Existing
//! Connection"), inline endpoints, password sources and TLS ("Encryption").

use super::error::{join, ConfigError, ConfigErrorKind, Problems};
use super::secret::{Secret, REDACTED};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::PathBuf;

/// The MySQL protocol's default port, used when `port` is not given.
pub const DEFAULT_PORT: u16 = 3306;

fn default_port() -> u16 {
    DEFAULT_PORT
}

/// The guide's "Encryption: Non-encrypted or SSL-encrypted", with the verification levels a
/// MySQL client offers.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TlsMode {
    /// Non-encrypted (the default).
    #[default]
    Disabled,
    /// SSL-encrypted, without checking the server's certificate.
    Required,
    /// SSL-encrypted, the server certificate must be signed by `ca_cert`.
    VerifyCa,
    /// As `verify_ca`, and the certificate must also name the host connected to.
    VerifyIdentity,
}

impl TlsMode {
    /// Whether the connection is encrypted at all.
    pub fn is_enabled(self) -> bool {
        self != TlsMode::Disabled
    }
}

/// TLS settings of one connection (`[source.tls]`, `[connections.NAME.tls]`, …). The guide:
/// "If the source database uses SSL-encrypted, you must also upload the CA Certificate and enter
/// the CA Key": here the CA certificate and an optional client certificate/key pair are file
/// paths.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TlsConfig {
    /// Whether and how strictly to encrypt; default `disabled`.
    pub mode: TlsMode,
    /// PEM file of the CA that signed the server certificate; required by `verify_ca` and
    /// `verify_identity`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ca_cert: Option<PathBuf>,
    /// PEM client certificate, for servers that require X.509 client authentication; needs
    /// `client_key`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_cert: Option<PathBuf>,
    /// PEM private key of `client_cert`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_key: Option<PathBuf>,
}

impl TlsConfig {
    pub(crate) fn validate(&self, prefix: &str, problems: &mut Problems) {
        let paths = [
            ("ca_cert", &self.ca_cert),
            ("client_cert", &self.client_cert),
            ("client_key", &self.client_key),
        ];
        for (field, path) in paths {
            let Some(path) = path else { continue };
            if !self.mode.is_enabled() {
                problems.push(
                    join(prefix, field),
                    "only used when tls.mode is required, verify_ca or verify_identity; \
                     tls.mode is disabled",
                );
            } else if path.as_os_str().is_empty() {
                problems.push(join(prefix, field), "must not be empty");
            }
        }
        if matches!(self.mode, TlsMode::VerifyCa | TlsMode::VerifyIdentity)
            && self.ca_cert.is_none()
        {
            problems.push(
                join(prefix, "ca_cert"),
                "is required when tls.mode verifies the server certificate (verify_ca, verify_identity)",
            );
        }
        if self.mode.is_enabled() {
            match (&self.client_cert, &self.client_key) {
                (Some(_), None) => problems.push(
                    join(prefix, "client_key"),
                    "is required when tls.client_cert is set",
                ),
                (None, Some(_)) => problems.push(
                    join(prefix, "client_cert"),
                    "is required when tls.client_key is set",
                ),
                _ => {}
            }
        }
    }
}

/// The guide's "Database Type" of a connection. Each endpoint has a sensible default, so this
/// only needs setting to tell MariaDB apart or to label a profile meant for AnalyticDB.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DatabaseType {
    /// MySQL 5.7 / 8.x (and compatible services such as RDS MySQL, PolarDB for MySQL).
    Mysql,
    /// MariaDB 10.x.
    Mariadb,
    /// AnalyticDB for MySQL 3.0 (destination only).
    Adb,
}

impl DatabaseType {
    /// The database types allowed where `role` is used, and the default when unset.
    fn allowed(role: EndpointRole) -> (&'static [DatabaseType], DatabaseType) {
        match role {
            EndpointRole::Source | EndpointRole::MysqlDestination => (
                &[DatabaseType::Mysql, DatabaseType::Mariadb],
                DatabaseType::Mysql,
            ),
            EndpointRole::AdbDestination => (&[DatabaseType::Adb], DatabaseType::Adb),
        }
    }

    fn name(self) -> &'static str {
        match self {
            DatabaseType::Mysql => "mysql",
            DatabaseType::Mariadb => "mariadb",
            DatabaseType::Adb => "adb",
        }
    }
}

/// Where an endpoint is used, which decides the database types it may have.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum EndpointRole {
    Source,
    MysqlDestination,
    AdbDestination,
}

impl EndpointRole {
    fn describe(self) -> &'static str {
        match self {
            EndpointRole::Source => "the source",
            EndpointRole::MysqlDestination => "a mysql destination",
            EndpointRole::AdbDestination => "an adb destination",
        }
    }

    /// The database type an endpoint in this role has when `database_type` is unset.
    pub(crate) fn default_database_type(self) -> DatabaseType {
        DatabaseType::allowed(self).1
    }
}

fn check_database_type(
    key: &str,
    value: Option<DatabaseType>,
    role: EndpointRole,
    problems: &mut Problems,
) {
    let Some(value) = value else { return };
    let (allowed, _) = DatabaseType::allowed(role);
    if !allowed.contains(&value) {
        let names: Vec<_> = allowed.iter().map(|t| t.name()).collect();
        problems.push(
            key,
            format!(
                "database type {} cannot be used for {}; expected one of: {}",
                value.name(),
                role.describe(),
                names.join(", ")
            ),
        );
    }
}

/// Full connection settings of one MySQL-family server: a saved profile in
/// `[connections.NAME]`, or an endpoint resolved with [`TaskConfig::source_settings`].
///
/// The password comes from exactly one of `password` (inline), `password_env` (an environment
/// variable) or `password_file` (a file whose content, minus one trailing newline, is the
/// password); none of them means an empty password.
///
/// [`TaskConfig::source_settings`]: super::TaskConfig::source_settings
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConnectionSettings {
    /// The guide's "Domain Name or IP".
    pub host: String,
    /// The guide's "Port Number"; default 3306.
    #[serde(default = "default_port")]
    pub port: u16,
    /// The guide's "Database Account".
    pub user: String,
    /// The guide's "Database Password", inline. Never printed (shown as `***`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password: Option<Secret>,
    /// Name of an environment variable holding the password.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password_env: Option<String>,
    /// Path of a file holding the password.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password_file: Option<PathBuf>,
    /// The guide's "Encryption"; default non-encrypted.
    #[serde(default)]
    pub tls: TlsConfig,
    /// The guide's "Database Type"; unset means the default for where the connection is used
    /// (`mysql` for the source and MySQL destinations, `adb` for AnalyticDB).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub database_type: Option<DatabaseType>,
}

impl ConnectionSettings {
    /// Settings for `host:port` as `user`, without password or TLS.
    pub fn new(host: impl Into<String>, port: u16, user: impl Into<String>) -> Self {
        Self {
            host: host.into(),
            port,
            user: user.into(),
            password: None,
            password_env: None,
            password_file: None,
            tls: TlsConfig::default(),
            database_type: None,
        }
    }

    /// Reads the password from wherever it is configured: the inline value, the environment
    /// variable named by `password_env`, or the file named by `password_file` (one trailing
    /// newline is removed). No source at all yields an empty password.
    ///
    /// Errors name the key relative to these settings (`password_env`); use
    /// [`ConfigError::prefixed`] or [`TaskConfig::source_password`] for a full path. The
    /// error never contains the password.
    ///
    /// [`TaskConfig::source_password`]: super::TaskConfig::source_password
    pub fn resolve_password(&self) -> Result<Secret, ConfigError> {
        let mut problems = Problems::default();
        check_password_sources(
            "",
            self.password.is_some(),
            self.password_env.is_some(),
            self.password_file.is_some(),
            &mut problems,
        );
        if let Some(first) = problems.into_vec().into_iter().next() {
            return Err(first);
        }
        if let Some(password) = &self.password {
            return Ok(password.clone());
        }
        if let Some(var) = &self.password_env {
            return match std::env::var(var) {
                Ok(value) => Ok(Secret::new(value)),
                Err(std::env::VarError::NotPresent) => Err(ConfigError::new(
                    ConfigErrorKind::Credential,
                    "password_env",
                    format!("environment variable `{var}` is not set"),
                )),
                Err(std::env::VarError::NotUnicode(_)) => Err(ConfigError::new(
                    ConfigErrorKind::Credential,
                    "password_env",
                    format!("environment variable `{var}` is not valid UTF-8"),
                )),
            };
        }
        if let Some(path) = &self.password_file {
            return match std::fs::read_to_string(path) {
                Ok(mut text) => {
                    if text.ends_with('\n') {
                        text.pop();
                        if text.ends_with('\r') {
                            text.pop();
                        }
                    }
                    Ok(Secret::new(text))
                }
                Err(e) => Err(ConfigError::new(
                    ConfigErrorKind::Credential,
                    "password_file",
                    format!("cannot read password file `{}`: {e}", path.display()),
                )),
            };
        }
        Ok(Secret::default())
    }

    pub(crate) fn validate(
        &self,
        prefix: &str,
        role: Option<EndpointRole>,
        problems: &mut Problems,
    ) {
        if self.host.trim().is_empty() {
            problems.push(join(prefix, "host"), "must not be empty");
        }
        if self.port == 0 {
            problems.push(join(prefix, "port"), "must be between 1 and 65535, got 0");
        }
        if self.user.trim().is_empty() {
            problems.push(join(prefix, "user"), "must not be empty");
        }
        check_password_sources(
            prefix,
            self.password.is_some(),
            self.password_env.is_some(),
            self.password_file.is_some(),
            problems,
        );
        check_password_values(
            prefix,
            self.password.as_ref(),
            self.password_env.as_deref(),
            self.password_file.as_ref(),
            problems,
        );
        self.tls.validate(&join(prefix, "tls"), problems);
        if let Some(role) = role {
            check_database_type(
                &join(prefix, "database_type"),
                self.database_type,
                role,
                problems,
            );
        }
    }
}

/// Rejects more than one password source, naming the second one set.
fn check_password_sources(
    prefix: &str,
    inline: bool,
    env: bool,
    file: bool,
    problems: &mut Problems,
) {
    let set: Vec<&str> = [
        ("password", inline),
        ("password_env", env),
        ("password_file", file),
    ]
    .into_iter()
    .filter_map(|(name, on)| on.then_some(name))
    .collect();
    if set.len() > 1 {
        problems.push(
            join(prefix, set[1]),
            format!(
                "cannot be combined with {}; set exactly one of password, password_env, password_file",
                join(prefix, set[0])
            ),
        );
    }
}

fn check_password_values(
    prefix: &str,
    inline: Option<&Secret>,
    env: Option<&str>,
    file: Option<&PathBuf>,
    problems: &mut Problems,
) {
    if inline.is_some_and(|p| p.expose() == REDACTED) {
        problems.push(
            join(prefix, "password"),
            "is the `***` placeholder written when a config is saved, not a password; \
             set the real password, or use password_env / password_file",
        );
    }
    if env.is_some_and(|v| v.is_empty() || v.contains('=') || v.contains('\0')) {
        problems.push(
            join(prefix, "password_env"),
            "must be a non-empty environment variable name without `=`",
        );
    }
    if file.is_some_and(|p| p.as_os_str().is_empty()) {
        problems.push(join(prefix, "password_file"), "must not be empty");
    }
}

/// The source, or a MySQL/AnalyticDB destination: either `connection = "NAME"` naming a
/// profile from `[connections]` (the guide's "Select Existing Connection"), or the connection
/// settings inline (the guide's "manually configure the database information").
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Endpoint {
    /// Name of a saved profile in `[connections]`; excludes every inline setting below.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub connection: Option<String>,
    /// The guide's "Domain Name or IP"; required without `connection`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub host: Option<String>,
    /// The guide's "Port Number"; default 3306.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub port: Option<u16>,
    /// The guide's "Database Account"; required without `connection`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
    /// The guide's "Database Password", inline (shown as `***`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub password: Option<Secret>,
    /// Name of an environment variable holding the password.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub password_env: Option<String>,
    /// Path of a file holding the password.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub password_file: Option<PathBuf>,
    /// The guide's "Encryption"; default non-encrypted.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tls: Option<TlsConfig>,
    /// The guide's "Database Type"; default `mysql` (`adb` for AnalyticDB destinations).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub database_type: Option<DatabaseType>,
}

impl Endpoint {
    /// An endpoint that uses the saved profile `name`.
    pub fn saved(name: impl Into<String>) -> Self {
        Self {
            connection: Some(name.into()),
            ..Self::default()
        }
    }

    /// An inline endpoint from full settings.
    pub fn inline(settings: ConnectionSettings) -> Self {
        Self {
            connection: None,
            host: Some(settings.host.clone()),
            port: Some(settings.port),
            user: Some(settings.user.clone()),
            password: settings.password.clone(),
            password_env: settings.password_env.clone(),
            password_file: settings.password_file.clone(),
            tls: Some(settings.tls.clone()),
            database_type: settings.database_type,
        }
    }

    /// The inline keys that are set, by name.
    fn inline_keys(&self) -> Vec<&'static str> {
        [
            ("host", self.host.is_some()),
            ("port", self.port.is_some()),
            ("user", self.user.is_some()),
            ("password", self.password.is_some()),
            ("password_env", self.password_env.is_some()),
            ("password_file", self.password_file.is_some()),
            ("tls", self.tls.is_some()),
            ("database_type", self.database_type.is_some()),
        ]
        .into_iter()
        .filter_map(|(k, on)| on.then_some(k))
        .collect()
    }

    /// The full settings, taken from the referenced profile or from the inline keys. `prefix`
    /// is where the endpoint sits (`source`, `destination`), for error keys.
    pub fn resolve(
        &self,
        prefix: &str,
        connections: &BTreeMap<String, ConnectionSettings>,
    ) -> Result<ConnectionSettings, ConfigError> {
        if let Some(name) = &self.connection {
            return connections.get(name).cloned().ok_or_else(|| {
                ConfigError::invalid(
                    join(prefix, "connection"),
                    format!("connection profile `{name}` is not defined in [connections]"),
                )
            });
        }
        let host = self.host.clone().ok_or_else(|| missing(prefix, "host"))?;
        let user = self.user.clone().ok_or_else(|| missing(prefix, "user"))?;
        Ok(ConnectionSettings {
            host,
            port: self.port.unwrap_or(DEFAULT_PORT),
            user,
            password: self.password.clone(),
            password_env: self.password_env.clone(),
            password_file: self.password_file.clone(),
            tls: self.tls.clone().unwrap_or_default(),
            database_type: self.database_type,
        })
    }

    /// The profile name in `[connections]` the full settings come from, if any, for error keys.
    pub(crate) fn settings_prefix(&self, prefix: &str) -> String {
        match &self.connection {
            Some(name) => format!("connections.{name}"),
            None => prefix.to_owned(),
        }
    }

    pub(crate) fn validate(
        &self,
        prefix: &str,
        role: EndpointRole,
        connections: &BTreeMap<String, ConnectionSettings>,
        problems: &mut Problems,
    ) {
        if let Some(name) = &self.connection {
            let profile = connections.get(name);
            if profile.is_none() {
                problems.push(
                    join(prefix, "connection"),
                    format!("connection profile `{name}` is not defined in [connections]"),
                );
            }
            for key in self.inline_keys() {
                problems.push(
                    join(prefix, key),
                    format!(
                        "cannot be set together with {}; the settings come from connection profile `{name}`",
                        join(prefix, "connection")
                    ),
                );
            }
            if let Some(profile) = profile {
                check_database_type(
                    &format!("connections.{name}.database_type"),
                    profile.database_type,
                    role,
                    problems,
                );
            }
            return;
        }
        if self.host.is_none() {
            problems.push_error(missing(prefix, "host"));
        }
        if self.user.is_none() {
            problems.push_error(missing(prefix, "user"));
        }
        if self.host.as_ref().is_some_and(|h| h.trim().is_empty()) {
            problems.push(join(prefix, "host"), "must not be empty");
        }
        if self.user.as_ref().is_some_and(|u| u.trim().is_empty()) {
            problems.push(join(prefix, "user"), "must not be empty");
        }
        if self.port == Some(0) {
            problems.push(join(prefix, "port"), "must be between 1 and 65535, got 0");
        }
        check_password_sources(
            prefix,
            self.password.is_some(),
            self.password_env.is_some(),
            self.password_file.is_some(),
            problems,
        );
        check_password_values(
            prefix,
            self.password.as_ref(),
            self.password_env.as_deref(),
            self.password_file.as_ref(),
            problems,
        );
        if let Some(tls) = &self.tls {
            tls.validate(&join(prefix, "tls"), problems);
        }
        check_database_type(
            &join(prefix, "database_type"),
            self.database_type,
            role,
            problems,
        );
    }
}

fn missing(prefix: &str, field: &str) -> ConfigError {
    ConfigError::invalid(
        join(prefix, field),
        format!(
            "is required unless {} names a saved connection profile",
            join(prefix, "connection")
        ),
    )
}

/// Checks the profile names in `[connections]` and each profile's own settings.
pub(crate) fn validate_profiles(
    connections: &BTreeMap<String, ConnectionSettings>,
    problems: &mut Problems,
) {
    for (name, profile) in connections {
        let prefix = format!("connections.{name}");
        if !super::validation::is_identifier(name) {
            problems.push(
                prefix.clone(),
                "connection profile names must be 1-64 characters of A-Z, a-z, 0-9, `_` or `-`",
            );
        }
        profile.validate(&prefix, None, problems);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn errors_of(
        endpoint: &Endpoint,
        connections: &BTreeMap<String, ConnectionSettings>,
    ) -> Vec<ConfigError> {
        let mut p = Problems::default();
        endpoint.validate("source", EndpointRole::Source, connections, &mut p);
        p.into_vec()
    }

    fn has_key(errors: &[ConfigError], key: &str) -> bool {
        errors
            .iter()
            .any(|e| e.key == key && e.to_string().starts_with(key))
    }

    fn inline() -> Endpoint {
        Endpoint {
            host: Some("127.0.0.1".into()),
            user: Some("dts".into()),
            ..Endpoint::default()
        }
    }

    #[test]
    fn inline_endpoint_resolves_with_default_port() {
        let s = inline().resolve("source", &BTreeMap::new()).unwrap();
        assert_eq!(s.port, 3306);
        assert_eq!(s.tls.mode, TlsMode::Disabled);
        assert!(errors_of(&inline(), &BTreeMap::new()).is_empty());
    }

    #[test]
    fn saved_profile_resolves() {
        let mut c = BTreeMap::new();
        c.insert(
            "prod".to_owned(),
            ConnectionSettings::new("db1", 3307, "dts"),
        );
        let s = Endpoint::saved("prod").resolve("source", &c).unwrap();
        assert_eq!((s.host.as_str(), s.port), ("db1", 3307));
        assert!(errors_of(&Endpoint::saved("prod"), &c).is_empty());
    }

    #[test]
    fn unknown_profile_is_named() {
        let e = Endpoint::saved("nope")
            .resolve("source", &BTreeMap::new())
            .unwrap_err();
        assert_eq!(e.key, "source.connection");
        assert!(e.message.contains("nope"));
        assert!(has_key(
            &errors_of(&Endpoint::saved("nope"), &BTreeMap::new()),
            "source.connection"
        ));
    }

    #[test]
    fn profile_plus_inline_rejected() {
        let mut c = BTreeMap::new();
        c.insert(
            "prod".to_owned(),
            ConnectionSettings::new("db1", 3307, "dts"),
        );
        let mut e = Endpoint::saved("prod");
        e.host = Some("x".into());
        assert!(has_key(&errors_of(&e, &c), "source.host"));
    }

    #[test]
    fn missing_host_and_user() {
        let errors = errors_of(&Endpoint::default(), &BTreeMap::new());
        assert!(has_key(&errors, "source.host"));
        assert!(has_key(&errors, "source.user"));
        let e = Endpoint::default()
            .resolve("source", &BTreeMap::new())
            .unwrap_err();
        assert_eq!(e.key, "source.host");
    }

    #[test]
    fn empty_host_user_and_zero_port() {
        let mut e = inline();
        e.host = Some(" ".into());
        e.user = Some(String::new());
        e.port = Some(0);
        let errors = errors_of(&e, &BTreeMap::new());
        assert!(has_key(&errors, "source.host"));
        assert!(has_key(&errors, "source.user"));
        assert!(has_key(&errors, "source.port"));
    }

    #[test]
    fn password_sources_are_exclusive() {
        let mut e = inline();
        e.password = Some(Secret::new("hunter2"));
        e.password_env = Some("X".into());
        let errors = errors_of(&e, &BTreeMap::new());
        assert!(has_key(&errors, "source.password_env"), "{errors:?}");
        assert!(!format!("{errors:?}").contains("hunter2"));
        let mut e = inline();
        e.password_env = Some("X".into());
        e.password_file = Some("/x".into());
        assert!(has_key(
            &errors_of(&e, &BTreeMap::new()),
            "source.password_file"
        ));
        let mut s = ConnectionSettings::new("h", 1, "u");
        s.password = Some(Secret::new("hunter2"));
        s.password_file = Some("/x".into());
        let err = s.resolve_password().unwrap_err();
        assert_eq!(err.key, "password_file");
        assert!(!err.to_string().contains("hunter2"));
    }

    #[test]
    fn redacted_placeholder_is_not_a_password() {
        let mut e = inline();
        e.password = Some(Secret::new(REDACTED));
        assert!(has_key(&errors_of(&e, &BTreeMap::new()), "source.password"));
    }

    #[test]
    fn bad_password_env_name() {
        let mut e = inline();
        e.password_env = Some(String::new());
        assert!(has_key(
            &errors_of(&e, &BTreeMap::new()),
            "source.password_env"
        ));
        let mut e = inline();
        e.password_file = Some(PathBuf::new());
        assert!(has_key(
            &errors_of(&e, &BTreeMap::new()),
            "source.password_file"
        ));
    }

    #[test]
    fn inline_password_resolves() {
        let mut s = ConnectionSettings::new("h", 1, "u");
        assert!(s.resolve_password().unwrap().is_empty());
        s.password = Some(Secret::new("pw"));
        assert_eq!(s.resolve_password().unwrap().expose(), "pw");
    }

    #[test]
    fn password_env_resolves() {
        let var = "DTS_CONFIG_TEST_PASSWORD_ENV_RESOLVES";
        // The variable name is unique to this test, so parallel tests do not interfere.
        std::env::set_var(var, "from-env");
        let mut s = ConnectionSettings::new("h", 1, "u");
        s.password_env = Some(var.into());
        assert_eq!(s.resolve_password().unwrap().expose(), "from-env");
        std::env::remove_var(var);
        let e = s.resolve_password().unwrap_err();
        assert_eq!(e.key, "password_env");
        assert_eq!(e.kind, ConfigErrorKind::Credential);
        assert!(e.message.contains(var));
        assert_eq!(e.prefixed("source").key, "source.password_env");
    }

    #[test]
    fn password_file_resolves_and_trims_one_newline() {
        let mut f = tempfile::NamedTempFile::new().unwrap();
        write!(f, "s3cret \r\n").unwrap();
        let mut s = ConnectionSettings::new("h", 1, "u");
        s.password_file = Some(f.path().to_path_buf());
        assert_eq!(s.resolve_password().unwrap().expose(), "s3cret ");
        let dir = tempfile::tempdir().unwrap();
        s.password_file = Some(dir.path().join("missing"));
        let e = s.resolve_password().unwrap_err();
        assert_eq!(e.key, "password_file");
        assert!(e.message.contains("missing"));
    }

    #[test]
    fn tls_rules() {
        let check = |tls: TlsConfig, key: &str| {
            let mut p = Problems::default();
            tls.validate("source.tls", &mut p);
            let errors = p.into_vec();
            assert!(has_key(&errors, key), "{key}: {errors:?}");
        };
        check(
            TlsConfig {
                ca_cert: Some("/ca.pem".into()),
                ..TlsConfig::default()
            },
            "source.tls.ca_cert",
        );
        check(
            TlsConfig {
                mode: TlsMode::VerifyCa,
                ..TlsConfig::default()
            },
            "source.tls.ca_cert",
        );
        check(
            TlsConfig {
                mode: TlsMode::Required,
                client_cert: Some("/c.pem".into()),
                ..TlsConfig::default()
            },
            "source.tls.client_key",
        );
        check(
            TlsConfig {
                mode: TlsMode::Required,
                client_key: Some("/k.pem".into()),
                ..TlsConfig::default()
            },
            "source.tls.client_cert",
        );
        check(
            TlsConfig {
                mode: TlsMode::Required,
                ca_cert: Some(PathBuf::new()),
                ..TlsConfig::default()
            },
            "source.tls.ca_cert",
        );
        let mut p = Problems::default();
        TlsConfig {
            mode: TlsMode::VerifyIdentity,
            ca_cert: Some("/ca.pem".into()),
            client_cert: Some("/c.pem".into()),
            client_key: Some("/k.pem".into()),
        }
        .validate("source.tls", &mut p);
        assert!(p.into_vec().is_empty());
    }

    #[test]
    fn database_type_must_fit_the_role() {
        let mut e = inline();
        e.database_type = Some(DatabaseType::Adb);
        assert!(has_key(
            &errors_of(&e, &BTreeMap::new()),
            "source.database_type"
        ));
        e.database_type = Some(DatabaseType::Mariadb);
        assert!(errors_of(&e, &BTreeMap::new()).is_empty());
        let mut c = BTreeMap::new();
        let mut profile = ConnectionSettings::new("db1", 3307, "dts");
        profile.database_type = Some(DatabaseType::Adb);
        c.insert("warehouse".to_owned(), profile);
        assert!(has_key(
            &errors_of(&Endpoint::saved("warehouse"), &c),
            "connections.warehouse.database_type"
        ));
        assert_eq!(
            EndpointRole::AdbDestination.default_database_type(),
            DatabaseType::Adb
        );
    }

    #[test]
    fn profile_names_and_settings_checked() {
        let mut c = BTreeMap::new();
        c.insert("bad name".to_owned(), ConnectionSettings::new("", 0, "u"));
        let mut p = Problems::default();
        validate_profiles(&c, &mut p);
        let errors = p.into_vec();
        assert!(has_key(&errors, "connections.bad name"));
        assert!(has_key(&errors, "connections.bad name.host"));
        assert!(has_key(&errors, "connections.bad name.port"));
    }
}
