//! Connecting to a MySQL-family server, and telling MySQL from MariaDB.

use dts_core::config::TlsConfig;
use dts_core::{Error, GtidFlavor};
use mysql_async::prelude::Queryable;
use mysql_async::{Conn, Opts, OptsBuilder, Pool, PoolConstraints, PoolOpts};
use std::fmt;

/// Where and how to connect. The password is kept out of `Debug` output and error messages;
/// TLS settings are file paths only (key material is read by the driver, never held here).
#[derive(Clone)]
pub struct MysqlEndpoint {
    /// A label for messages: `source`, `destination`, …
    pub label: String,
    /// Host name or address.
    pub host: String,
    /// TCP port.
    pub port: u16,
    /// Account.
    pub user: String,
    password: Option<String>,
    tls: TlsConfig,
}

impl fmt::Debug for MysqlEndpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MysqlEndpoint")
            .field("label", &self.label)
            .field("host", &self.host)
            .field("port", &self.port)
            .field("user", &self.user)
            .field("password", &self.password.as_ref().map(|_| "***"))
            .field("tls", &self.tls)
            .finish()
    }
}

impl MysqlEndpoint {
    /// An endpoint from its parts.
    pub fn new(
        label: impl Into<String>,
        host: impl Into<String>,
        port: u16,
        user: impl Into<String>,
        password: Option<String>,
    ) -> Self {
        Self {
            label: label.into(),
            host: host.into(),
            port,
            user: user.into(),
            password,
            tls: TlsConfig::default(),
        }
    }

    /// An endpoint from a `mysql://user:password@host:port` URL (the test environment's form).
    pub fn from_url(label: impl Into<String>, url: &str) -> Result<Self, Error> {
        let label = label.into();
        let opts = Opts::from_url(url).map_err(|e| Error::Other {
            object: label.clone(),
            message: format!("bad connection URL: {e}"),
            cause: None,
        })?;
        // Only host, port and account are taken from the URL: refuse TLS parameters rather
        // than connect without the encryption they ask for.
        if opts.ssl_opts().is_some() {
            return Err(Error::Other {
                object: label,
                message: "TLS parameters in the connection URL (require_ssl, verify_ca, …) are \
                          not read; pass the TLS settings with MysqlEndpoint::with_tls"
                    .into(),
                cause: None,
            });
        }
        Ok(Self {
            label,
            host: opts.ip_or_hostname().to_string(),
            port: opts.tcp_port(),
            user: opts.user().unwrap_or("root").to_string(),
            password: opts.pass().map(str::to_string),
            tls: TlsConfig::default(),
        })
    }

    /// The endpoint a task file's connection settings describe (`label` names it in errors);
    /// the password is resolved from the settings' source (inline, environment or file).
    pub fn from_settings(
        label: &str,
        settings: &dts_core::config::ConnectionSettings,
    ) -> Result<Self, Error> {
        let password = settings.resolve_password()?;
        let password = (!password.expose().is_empty()).then(|| password.expose().to_string());
        Ok(Self::new(
            label,
            settings.host.clone(),
            settings.port,
            settings.user.clone(),
            password,
        )
        .with_tls(settings.tls.clone()))
    }

    /// The same endpoint with TLS settings (`[source.tls]`, `[destination.tls]`, …): every
    /// connection made through it — pools, the binlog connection, the precheck — is then
    /// encrypted and verified as `tls.mode` says (see [`crate::wire::tls`]).
    pub fn with_tls(mut self, tls: TlsConfig) -> Self {
        self.tls = tls;
        self
    }

    /// The TLS settings connections use.
    pub fn tls(&self) -> &TlsConfig {
        &self.tls
    }

    /// The same server under another label, or another account.
    pub fn with_user(mut self, user: impl Into<String>, password: Option<String>) -> Self {
        self.user = user.into();
        self.password = password;
        self
    }

    /// `host:port` for messages.
    pub fn address(&self) -> String {
        format!("{}:{}", self.host, self.port)
    }

    /// Driver options; `pool_max` bounds the pool size.
    pub fn opts(&self, pool_max: usize) -> Opts {
        let constraints = PoolConstraints::new(1, pool_max.max(1)).expect("1 <= max");
        OptsBuilder::default()
            .ip_or_hostname(self.host.clone())
            .tcp_port(self.port)
            .user(Some(self.user.clone()))
            .pass(self.password.clone())
            .prefer_socket(false)
            .stmt_cache_size(256)
            .pool_opts(PoolOpts::default().with_constraints(constraints))
            .ssl_opts(crate::wire::tls::ssl_opts(
                &self.tls,
                crate::wire::tls::learned_name(self),
            ))
            .into()
    }

    /// A connection pool. Under `tls.mode = verify_ca` to a host the certificate does not
    /// name, build it after a first [`MysqlEndpoint::connect`] to that server (as the source and
    /// sink do), which learns the name to verify (see [`crate::wire::tls`]).
    pub fn pool(&self, pool_max: usize) -> Pool {
        Pool::new(self.opts(pool_max))
    }

    /// One new connection (encrypted as the TLS settings say).
    pub async fn connect(&self) -> Result<Conn, Error> {
        crate::wire::tls::open(self)
            .await
            .map_err(|e| self.map_err("connect", e))
    }

    /// Maps a driver error to a dts error naming this endpoint, classified by what a retry can
    /// fix. TLS failures (no TLS on the server, a certificate the CA did not sign or that does
    /// not name the host, an account that requires TLS) are definite and say which setting to
    /// change.
    pub fn map_err(&self, what: &str, e: mysql_async::Error) -> Error {
        let endpoint = format!("{} ({})", self.label, self.address());
        if let Some(why) = crate::wire::tls::describe_failure(self, &e) {
            return Error::definite(endpoint, format!("{what}: {why}")).caused_by(e);
        }
        classify(&endpoint, what, e)
    }

    /// [`MysqlEndpoint::map_err`] for a statement a destination executes (DDL, DML, its
    /// checkpoint): the guide's "DDL or DML execution errors" are retried within the window
    /// for other issues, so any error the server answers with is
    /// [`dts_core::Error::Transient`] — a narrowed column, a dropped table or a missing
    /// privilege may be put right while the task retries. Connection and TLS failures and
    /// access denials at login keep their classes.
    pub fn map_write_err(&self, what: &str, e: mysql_async::Error) -> Error {
        let execution = matches!(
            &e,
            mysql_async::Error::Server(s) if !LOGIN_DENIED_CODES.contains(&s.code)
        );
        match self.map_err(what, e) {
            Error::Other {
                object,
                message,
                cause,
            } if execution => Error::Transient {
                object,
                message,
                cause,
            },
            mapped => mapped,
        }
    }
}

/// Access denials at login (wrong account or password, no access to the database): a
/// configuration problem, definite.
const LOGIN_DENIED_CODES: [u16; 2] = [1044, 1045];

/// Server error codes a retry may fix.
const TRANSIENT_CODES: [u16; 6] = [
    1205, // ER_LOCK_WAIT_TIMEOUT
    1213, // ER_LOCK_DEADLOCK
    1040, // ER_CON_COUNT_ERROR
    1053, // ER_SERVER_SHUTDOWN
    1927, // ER_CONNECTION_KILLED (MariaDB)
    3024, // ER_QUERY_TIMEOUT
];

/// Classifies a driver error, keeping it as the error's source: I/O and connection errors are
/// `Connection`; deadlocks, lock waits, killed sessions and errors the driver does not classify
/// `Transient`; access denials and the server's other answers definite.
pub fn classify(endpoint: &str, what: &str, e: mysql_async::Error) -> Error {
    use mysql_async::Error as E;
    let error = match &e {
        E::Io(_) | E::Driver(_) => Error::connection(endpoint, format!("{what}: {e}")),
        E::Server(s) if TRANSIENT_CODES.contains(&s.code) => {
            Error::transient(endpoint, format!("{what}: {e}"))
        }
        E::Server(s) if LOGIN_DENIED_CODES.contains(&s.code) => {
            Error::definite(endpoint, format!("access denied ({what}): {}", s.message))
        }
        // Not classified by the driver: retried within the window for other issues rather
        // than failing the task at once.
        E::Other(_) => Error::transient(endpoint, format!("{what}: {e}")),
        E::Server(_) | E::Url(_) => Error::definite(endpoint, format!("{what}: {e}")),
    };
    error.caused_by(e)
}

/// The server family, which decides GTID handling and some SQL.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ServerInfo {
    /// MySQL or MariaDB.
    pub flavor: GtidFlavor,
    /// `@@version` text.
    pub version: String,
    /// Major, minor, patch.
    pub version_number: (u32, u32, u32),
}

impl ServerInfo {
    /// True for MariaDB.
    pub fn is_mariadb(&self) -> bool {
        self.flavor == GtidFlavor::Mariadb
    }

    /// Reads the flavor and version of the connected server.
    pub async fn detect(conn: &mut Conn) -> Result<Self, mysql_async::Error> {
        let version: String = conn
            .query_first("SELECT @@version")
            .await?
            .unwrap_or_default();
        Ok(Self::from_version(&version))
    }

    /// Parses a `@@version` string.
    pub fn from_version(version: &str) -> Self {
        let flavor = if version.to_ascii_lowercase().contains("mariadb") {
            GtidFlavor::Mariadb
        } else {
            GtidFlavor::Mysql
        };
        let mut parts = version
            .split(|c: char| !c.is_ascii_digit())
            .filter(|p| !p.is_empty())
            .map(|p| p.parse::<u32>().unwrap_or(0));
        let version_number = (
            parts.next().unwrap_or(0),
            parts.next().unwrap_or(0),
            parts.next().unwrap_or(0),
        );
        Self {
            flavor,
            version: version.to_string(),
            version_number,
        }
    }

    /// The statement that reports the current binlog file and position: MySQL 8.2+ renamed
    /// `SHOW MASTER STATUS` to `SHOW BINARY LOG STATUS`.
    pub fn binlog_status_sql(&self) -> &'static str {
        if !self.is_mariadb() && self.version_number >= (8, 2, 0) {
            "SHOW BINARY LOG STATUS"
        } else {
            "SHOW MASTER STATUS"
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flavor_and_version() {
        let m = ServerInfo::from_version("10.11.19-MariaDB-0+deb12u1-log");
        assert!(m.is_mariadb());
        assert_eq!(m.version_number, (10, 11, 19));
        assert_eq!(m.binlog_status_sql(), "SHOW MASTER STATUS");
        let my = ServerInfo::from_version("8.4.3");
        assert_eq!(my.flavor, GtidFlavor::Mysql);
        assert_eq!(my.binlog_status_sql(), "SHOW BINARY LOG STATUS");
        assert_eq!(
            ServerInfo::from_version("8.0.36").binlog_status_sql(),
            "SHOW MASTER STATUS"
        );
    }

    #[test]
    fn password_not_in_debug() {
        let e = MysqlEndpoint::new("source", "h", 1, "u", Some("hunter2".into()));
        assert!(!format!("{e:?}").contains("hunter2"));
        let e = MysqlEndpoint::from_url("s", "mysql://u:pw-secret@127.0.0.1:3307").unwrap();
        assert!(!format!("{e:?}").contains("pw-secret"));
        assert_eq!(e.port, 3307);
        let tls =
            MysqlEndpoint::from_url("s", "mysql://u:pw-secret@127.0.0.1:3307?require_ssl=true");
        let err = tls.unwrap_err().to_string();
        assert!(err.contains("with_tls"), "{err}");
        assert!(!err.contains("pw-secret"), "{err}");
    }
}
