//! Checks every MySQL-protocol destination shares (the MySQL sink, the AnalyticDB sink of
//! `dts-adb`): connecting with the configured TLS, and the declared database type.

use crate::wire::conn::{MysqlEndpoint, ServerInfo};
use dts_core::{CheckResult, PrecheckReport};
use mysql_async::prelude::Queryable;
use mysql_async::Conn;
use std::time::Duration;

/// `destination.connectivity`: the account can connect and log in.
pub const CONNECTIVITY: &str = "destination.connectivity";
/// `destination.tls`: the session is encrypted and verified as the endpoint's `tls.mode` asks.
pub const TLS: &str = "destination.tls";

/// How long the connectivity check waits.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(30);

/// Opens a precheck's connection to a destination and records [`CONNECTIVITY`] and [`TLS`]
/// in `report`: on success a pass naming the server and account, and the session's encryption
/// as `tls.mode` asks; on failure an error (the endpoint, and for a TLS reason an error under
/// [`TLS`] saying which setting to change) and `None`. Shared by every destination that speaks
/// the MySQL protocol (the MySQL sink, the AnalyticDB sink of `dts-adb`).
pub async fn connect_checked(
    endpoint: &MysqlEndpoint,
    report: &mut PrecheckReport,
) -> Option<Conn> {
    let mut conn = match tokio::time::timeout(CONNECT_TIMEOUT, crate::wire::tls::open(endpoint))
        .await
    {
        Ok(Ok(c)) => c,
        Ok(Err(e)) => {
            let tls_failure = crate::wire::tls::failed_check(TLS, endpoint, &e);
            report.checks.push(CheckResult::error(
                CONNECTIVITY,
                format!(
                    "cannot connect to the destination at {}: {e}",
                    endpoint.address()
                ),
                match (&tls_failure, crate::wire::tls::access_hint(endpoint, &e)) {
                    (Some(_), _) => format!("the connection failed for a TLS reason: see {TLS}"),
                    (None, hint) => format!(
                        "check host, port, account and password, and that the server accepts \
                         connections from this host{}",
                        hint.map(|h| format!("; {h}")).unwrap_or_default()
                    ),
                },
            ));
            report.checks.extend(tls_failure);
            return None;
        }
        Err(_) => {
            report.checks.push(CheckResult::error(
                CONNECTIVITY,
                format!(
                    "the destination at {} did not answer within {} s",
                    endpoint.address(),
                    CONNECT_TIMEOUT.as_secs()
                ),
                "check that the server is running and reachable (firewall, port)",
            ));
            return None;
        }
    };
    let version: String = conn
        .query_first("SELECT @@version")
        .await
        .ok()
        .flatten()
        .unwrap_or_default();
    report.checks.push(CheckResult::pass(
        CONNECTIVITY,
        format!(
            "connected to {} as {} (server {version})",
            endpoint.address(),
            endpoint.user
        ),
    ));
    report
        .checks
        .push(crate::wire::tls::check_session(TLS, endpoint, &mut conn).await);
    Some(conn)
}

/// `<role>.database_type`: the declared database type is the one the connection detects.
pub fn check_declared_type(
    role: &str,
    declared: Option<dts_core::config::DatabaseType>,
    server: &ServerInfo,
) -> CheckResult {
    use dts_core::config::DatabaseType;
    let name = format!("{role}.database_type");
    let label = |d: DatabaseType| match d {
        DatabaseType::Mysql => "mysql",
        DatabaseType::Mariadb => "mariadb",
        DatabaseType::Adb => "adb",
    };
    let detected = if server.is_mariadb() {
        DatabaseType::Mariadb
    } else {
        DatabaseType::Mysql
    };
    match declared {
        None => CheckResult::pass(
            name,
            format!("not declared; the server is {} ({})", label(detected), server.version),
        ),
        Some(d) if d == detected => CheckResult::pass(
            name,
            format!("declared {}, and the server is that ({})", label(d), server.version),
        ),
        Some(d) => CheckResult::error(
            name,
            format!(
                "the task file declares {role}.database_type = \"{}\", but the server is {} ({})",
                label(d),
                label(detected),
                server.version
            ),
            format!("set {role}.database_type to the server's type, or point the task at the intended server"),
        ),
    }
}
