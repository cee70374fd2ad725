//! Source precheck: is a MySQL-family server ready to be the source of a synchronization task?
//!
//! [`check_source`] connects once and runs a fixed list of named checks, each ending in
//! [`CheckLevel::Pass`], [`CheckLevel::Warning`] or [`CheckLevel::Error`] with a message naming
//! what was found and, when it is not a pass, a `fix` holding the statement or setting to apply.
//! The check names are the constants of this module, listed in run order by [`SOURCE_CHECKS`]:
//!
//! | name | passes when | otherwise |
//! |---|---|---|
//! | [`CONNECTIVITY`] | the account can log in | error (the other checks are skipped) |
//! | [`TLS`] | the session is encrypted as `tls.mode` asks (reports `Ssl_cipher`; unencrypted is a pass with `tls.mode = disabled`) | error naming the endpoint and the TLS setting to change (also when the connection failed for a TLS reason: no TLS on the server, a certificate the CA did not sign or that does not name the host, an account that requires TLS) |
//! | [`VERSION`] | MySQL 5.7 / 8.x / 9.x, MariaDB 10.x+ | MySQL 5.6: warning; older: error |
//! | [`LOG_BIN`] | `log_bin` is `ON` | error |
//! | [`BINLOG_FORMAT`] | `binlog_format` is `ROW` | error |
//! | [`BINLOG_ROW_IMAGE`] | `binlog_row_image` is `FULL` | error |
//! | [`BINLOG_ROW_METADATA`] | `binlog_row_metadata` is `FULL` | warning (also when the server has no such variable) |
//! | [`SERVER_ID`] | `server_id` is not 0 | error |
//! | [`PRIVILEGES`] | `SELECT`, `REPLICATION SLAVE`, `REPLICATION CLIENT` (MariaDB 10.5+: or `BINLOG MONITOR`) | error listing what is missing |
//! | [`BINLOG_RETENTION`] | binlogs never expire, or are kept at least 7 days | warning |
//! | [`GTID`] | MySQL `gtid_mode = ON`; MariaDB always | warning (MySQL without GTIDs) |
//! | [`SELECTED_DATABASES`] | every selected database exists and is visible | error |
//! | [`TABLES_WITHOUT_PRIMARY_KEY`] | every selected base table has a primary key or a NOT NULL unique key | warning listing them |
//!
//! ```no_run
//! # async fn demo() -> Result<(), dts_core::Error> {
//! use dts_mysql::source::precheck::{check_source, BINLOG_FORMAT};
//! use dts_mysql::MysqlEndpoint;
//!
//! let endpoint = MysqlEndpoint::from_url("source", "mysql://root@127.0.0.1:33061")?;
//! let report = check_source(&endpoint, &["shop".to_string()]).await;
//! print!("{report}");
//! if !report.passes(&[]) {
//!     println!("binlog format: {:?}", report.get(BINLOG_FORMAT));
//! }
//! # Ok(()) }
//! ```

use crate::source::grants::Grants;
use crate::wire::conn::{MysqlEndpoint, ServerInfo};
use crate::wire::ident::quote_ident;
use crate::wire::precheck::CONNECT_TIMEOUT;
use dts_core::{CheckLevel, CheckResult, PrecheckReport, SYSTEM_DATABASES};
use mysql_async::prelude::Queryable;
use mysql_async::{Conn, Row, Value};
use std::collections::{BTreeSet, HashMap};

/// `source.connectivity`: the account can connect and log in.
pub const CONNECTIVITY: &str = "source.connectivity";
/// `source.tls`: the session is encrypted and verified as the endpoint's `tls.mode` asks.
pub const TLS: &str = "source.tls";
/// `source.version`: the server flavour and version are supported.
pub const VERSION: &str = "source.version";
/// `source.log_bin`: the binary log is enabled.
pub const LOG_BIN: &str = "source.log_bin";
/// `source.binlog_format`: `binlog_format = ROW`.
pub const BINLOG_FORMAT: &str = "source.binlog_format";
/// `source.binlog_row_image`: `binlog_row_image = FULL`.
pub const BINLOG_ROW_IMAGE: &str = "source.binlog_row_image";
/// `source.binlog_row_metadata`: `binlog_row_metadata = FULL`.
pub const BINLOG_ROW_METADATA: &str = "source.binlog_row_metadata";
/// `source.server_id`: `server_id` is not 0.
pub const SERVER_ID: &str = "source.server_id";
/// `source.privileges`: the account has `SELECT`, `REPLICATION SLAVE` and `REPLICATION CLIENT`.
pub const PRIVILEGES: &str = "source.privileges";
/// `source.binlog_retention`: binlogs are kept long enough (at least [`MIN_RETENTION_SECONDS`]).
pub const BINLOG_RETENTION: &str = "source.binlog_retention";
/// `source.gtid`: the server writes GTIDs, so a task can resume after a failover.
pub const GTID: &str = "source.gtid";
/// `source.selected_databases`: every selected database exists and is visible to the account.
pub const SELECTED_DATABASES: &str = "source.selected_databases";
/// `source.tables_without_primary_key`: selected base tables without a primary key or a
/// NOT NULL unique key.
pub const TABLES_WITHOUT_PRIMARY_KEY: &str = "source.tables_without_primary_key";
/// `source.pt_online_schema_change`: no selected table is being changed by
/// pt-online-schema-change (its `pt_osc_*` triggers), which the task does not support.
pub const PT_ONLINE_SCHEMA_CHANGE: &str = "source.pt_online_schema_change";

/// Every check [`check_source`] runs, in run order (all but [`CONNECTIVITY`] are skipped when
/// the connection fails).
pub const SOURCE_CHECKS: [&str; 14] = [
    CONNECTIVITY,
    TLS,
    VERSION,
    LOG_BIN,
    BINLOG_FORMAT,
    BINLOG_ROW_IMAGE,
    BINLOG_ROW_METADATA,
    SERVER_ID,
    PRIVILEGES,
    BINLOG_RETENTION,
    GTID,
    SELECTED_DATABASES,
    TABLES_WITHOUT_PRIMARY_KEY,
    PT_ONLINE_SCHEMA_CHANGE,
];

/// Binlogs kept for less than this (7 days) draw a [`BINLOG_RETENTION`] warning.
pub const MIN_RETENTION_SECONDS: u64 = 7 * 86_400;

/// How many keyless tables [`TABLES_WITHOUT_PRIMARY_KEY`] names before summarising the rest.
pub const MAX_LISTED_TABLES: usize = 20;

/// Server variables the checks read, in one `SHOW GLOBAL VARIABLES`.
const VARIABLES: [&str; 15] = [
    "log_bin",
    "binlog_format",
    "binlog_row_image",
    "binlog_row_metadata",
    "server_id",
    "binlog_expire_logs_seconds",
    "expire_logs_days",
    "binlog_expire_logs_auto_purge",
    "max_binlog_total_size",
    "binlog_space_limit",
    "gtid_mode",
    "enforce_gtid_consistency",
    "gtid_strict_mode",
    "gtid_domain_id",
    "lower_case_table_names",
];

/// Runs every source check of [`SOURCE_CHECKS`] against `endpoint`.
///
/// `databases` are the databases the task selects: the account needs `SELECT` on each, and
/// their base tables are scanned for missing keys. Empty means every non-system database, which
/// needs `SELECT` on `*.*`.
///
/// Never fails: a connection failure is reported as an error-level [`CONNECTIVITY`] result (and
/// the other checks are skipped; a failure TLS explains adds an error-level [`TLS`] result),
/// and a query that fails turns its own check into an error. Messages and fixes never
/// contain the password.
pub async fn check_source(endpoint: &MysqlEndpoint, databases: &[String]) -> PrecheckReport {
    let mut report = PrecheckReport::default();
    let mut conn = match connect(endpoint).await {
        Ok(conn) => conn,
        Err(failed) => {
            report.checks.extend(failed);
            scrub_report(&mut report, endpoint);
            return report;
        }
    };
    report.checks.push(CheckResult::pass(
        CONNECTIVITY,
        format!(
            "connected to {} ({}) as user '{}'",
            endpoint.label,
            endpoint.address(),
            endpoint.user
        ),
    ));
    report
        .checks
        .push(crate::wire::tls::check_session(TLS, endpoint, &mut conn).await);
    run_checks(&mut conn, databases, &mut report).await;
    let _ = conn.disconnect().await;
    scrub_report(&mut report, endpoint);
    report
}

async fn run_checks(conn: &mut Conn, databases: &[String], report: &mut PrecheckReport) {
    let server = match ServerInfo::detect(conn).await {
        Ok(server) => server,
        Err(e) => {
            report
                .checks
                .push(query_failed(VERSION, "SELECT @@version", &e));
            // Without the version nothing else is meaningful; assume MySQL for the rest.
            ServerInfo::from_version("")
        }
    };
    if !server.version.is_empty() {
        report.checks.push(check_version(&server));
    }

    let vars = match read_variables(conn).await {
        Ok(vars) => Some(vars),
        Err(e) => {
            for name in [
                LOG_BIN,
                BINLOG_FORMAT,
                BINLOG_ROW_IMAGE,
                BINLOG_ROW_METADATA,
                SERVER_ID,
            ] {
                report
                    .checks
                    .push(query_failed(name, "SHOW GLOBAL VARIABLES", &e));
            }
            None
        }
    };
    if let Some(vars) = &vars {
        report.checks.push(check_log_bin(vars, &server));
        report.checks.push(check_binlog_format(vars, &server));
        report.checks.push(check_binlog_row_image(vars, &server));
        report.checks.push(check_binlog_row_metadata(vars, &server));
        report.checks.push(check_server_id(vars, &server));
    }

    let lower_case_names = vars
        .as_ref()
        .and_then(|v| v.number("lower_case_table_names"))
        .unwrap_or(0.0)
        != 0.0;
    report
        .checks
        .push(check_privileges(conn, &server, lower_case_names, databases).await);

    if let Some(vars) = &vars {
        report.checks.push(check_binlog_retention(vars, &server));
        report.checks.push(check_gtid(vars, &server));
    } else {
        for name in [BINLOG_RETENTION, GTID] {
            report.checks.push(CheckResult::error(
                name,
                "could not read the server variables (see the checks above)",
                "Make sure the account can run SHOW GLOBAL VARIABLES, then rerun the precheck.",
            ));
        }
    }

    report
        .checks
        .push(check_selected_databases(conn, databases).await);
    report
        .checks
        .push(check_keyless_tables(conn, databases).await);
    report
        .checks
        .push(check_pt_online_schema_change(conn, databases).await);
}

/// Tables with pt-online-schema-change triggers (`pt_osc_<db>_<table>_ins|upd|del`). The task
/// cannot follow that tool's copy-and-swap (the guide lists it as unsupported), so a run in
/// progress is an error.
async fn check_pt_online_schema_change(conn: &mut Conn, databases: &[String]) -> CheckResult {
    let (filter, params): (String, Vec<Value>) = if databases.is_empty() {
        (
            format!("NOT IN ({})", vec!["?"; SYSTEM_DATABASES.len()].join(", ")),
            SYSTEM_DATABASES.iter().map(|d| (*d).into()).collect(),
        )
    } else {
        (
            format!("IN ({})", vec!["?"; databases.len()].join(", ")),
            databases.iter().map(|d| d.as_str().into()).collect(),
        )
    };
    let sql = format!(
        "SELECT EVENT_OBJECT_SCHEMA, EVENT_OBJECT_TABLE, \
                GROUP_CONCAT(TRIGGER_NAME ORDER BY TRIGGER_NAME SEPARATOR ', ') \
         FROM information_schema.TRIGGERS \
         WHERE TRIGGER_NAME LIKE 'pt\\_osc\\_%' AND TRIGGER_SCHEMA {filter} \
         GROUP BY EVENT_OBJECT_SCHEMA, EVENT_OBJECT_TABLE ORDER BY 1, 2"
    );
    let rows: Vec<Row> = match conn.exec(sql, params).await {
        Ok(rows) => rows,
        Err(e) => {
            return query_failed(
                PT_ONLINE_SCHEMA_CHANGE,
                "SELECT on information_schema.TRIGGERS",
                &e,
            )
        }
    };
    let found: Vec<String> = rows
        .iter()
        .filter_map(|r| {
            let db = text(r, 0)?;
            let table = text(r, 1)?;
            Some(format!(
                "{}.{} (triggers {}, copy table {}.{})",
                quote_ident(&db),
                quote_ident(&table),
                text(r, 2).unwrap_or_default(),
                quote_ident(&db),
                quote_ident(&format!("_{table}_new"))
            ))
        })
        .collect();
    if found.is_empty() {
        return CheckResult::pass(
            PT_ONLINE_SCHEMA_CHANGE,
            "no selected table is being changed by pt-online-schema-change",
        );
    }
    CheckResult::error(
        PT_ONLINE_SCHEMA_CHANGE,
        format!(
            "pt-online-schema-change is running on {}; pt-online-schema-change is not supported \
             (its trigger-driven copy and table swap cannot be synchronized)",
            found.join("; ")
        ),
        "Let the pt-online-schema-change run finish (or abort it and drop its pt_osc_* \
         triggers and _<table>_new table), perform schema changes with plain ALTER TABLE or \
         gh-ost while the task runs, then rerun the precheck.",
    )
}

// ------------------------------------------------------------------------------ connecting

/// The connection, or the failed [`CONNECTIVITY`] result (and a [`TLS`] one when TLS explains
/// the failure).
async fn connect(endpoint: &MysqlEndpoint) -> Result<Conn, Vec<CheckResult>> {
    let who = format!(
        "{} ({}) as user '{}'",
        endpoint.label,
        endpoint.address(),
        endpoint.user
    );
    let attempt = tokio::time::timeout(CONNECT_TIMEOUT, crate::wire::tls::open(endpoint)).await;
    let e = match attempt {
        Ok(Ok(conn)) => return Ok(conn),
        Ok(Err(e)) => e,
        Err(_) => {
            return Err(vec![CheckResult::error(
                CONNECTIVITY,
                format!(
                    "cannot connect to {who}: no answer within {}s",
                    CONNECT_TIMEOUT.as_secs()
                ),
                format!(
                    "Check that the server is running and that {} is reachable from this host \
                     (firewall, security group, bind-address).",
                    endpoint.address()
                ),
            )])
        }
    };
    let tls_failure = crate::wire::tls::failed_check(TLS, endpoint, &e);
    let fix = match &e {
        mysql_async::Error::Server(s) if s.code == 1045 => format!(
            "Check the user name and password of '{user}'; if the account does not exist for \
             this client's host, create it: CREATE USER '{user}'@'<client host>' IDENTIFIED BY \
             '<password>'; GRANT SELECT, REPLICATION SLAVE, REPLICATION CLIENT ON *.* TO \
             '{user}'@'<client host>';",
            user = sql_escape(&endpoint.user)
        ),
        mysql_async::Error::Server(s) if s.code == 1130 => format!(
            "The server does not accept '{user}' from this client's host: create the account \
             for it, e.g. CREATE USER '{user}'@'%' IDENTIFIED BY '<password>'; GRANT SELECT, \
             REPLICATION SLAVE, REPLICATION CLIENT ON *.* TO '{user}'@'%';",
            user = sql_escape(&endpoint.user)
        ),
        mysql_async::Error::Server(s) if s.code == 1040 => {
            "The server has too many connections: raise max_connections (SET GLOBAL \
             max_connections = <n>) or close idle connections, then rerun the precheck."
                .to_string()
        }
        mysql_async::Error::Server(_) => format!(
            "Fix the server-side error above for '{}', then rerun the precheck.",
            sql_escape(&endpoint.user)
        ),
        _ => format!(
            "Check that the server is running and listening on {}, and that this host may \
             connect to it (firewall, security group, bind-address, skip-networking).",
            endpoint.address()
        ),
    };
    let message = scrub(
        &format!("cannot connect to {who}: {e}"),
        endpoint.opts(1).pass(),
    );
    let fix = match (&tls_failure, crate::wire::tls::access_hint(endpoint, &e)) {
        (Some(_), _) => format!("The connection failed for a TLS reason: see {TLS}."),
        (None, Some(hint)) => format!("{fix} Also: {hint}."),
        (None, None) => fix,
    };
    let mut failed = vec![CheckResult::error(CONNECTIVITY, message, fix)];
    failed.extend(tls_failure);
    Err(failed)
}

/// Removes the password from a text, should a driver or server message ever echo it.
fn scrub(text: &str, password: Option<&str>) -> String {
    match password {
        Some(p) if !p.is_empty() => text.replace(p, "***"),
        _ => text.to_string(),
    }
}

fn scrub_report(report: &mut PrecheckReport, endpoint: &MysqlEndpoint) {
    let opts = endpoint.opts(1);
    for c in &mut report.checks {
        c.message = scrub(&c.message, opts.pass());
        c.fix = scrub(&c.fix, opts.pass());
    }
}

/// A string for inside single quotes in a statement shown to the user.
fn sql_escape(s: &str) -> String {
    s.replace('\'', "''")
}

fn query_failed(name: &str, what: &str, e: &mysql_async::Error) -> CheckResult {
    CheckResult::error(
        name,
        format!("could not run {what}: {e}"),
        format!("Make sure the account can run {what}, then rerun the precheck."),
    )
}

// ------------------------------------------------------------------------------ variables

/// Global variables by lower-case name; a variable the server does not have is absent.
#[derive(Default)]
struct Variables(HashMap<String, String>);

impl Variables {
    fn get(&self, name: &str) -> Option<&str> {
        self.0.get(name).map(String::as_str)
    }

    /// The value as a number (`ON`/`OFF` as 1/0), if set and numeric.
    fn number(&self, name: &str) -> Option<f64> {
        let v = self.get(name)?.trim();
        match v.to_ascii_uppercase().as_str() {
            "ON" | "YES" | "TRUE" => Some(1.0),
            "OFF" | "NO" | "FALSE" => Some(0.0),
            _ => v.parse().ok(),
        }
    }

    fn is_on(&self, name: &str) -> Option<bool> {
        self.number(name).map(|n| n != 0.0)
    }

    fn upper(&self, name: &str) -> Option<String> {
        self.get(name).map(|v| v.trim().to_ascii_uppercase())
    }
}

async fn read_variables(conn: &mut Conn) -> Result<Variables, mysql_async::Error> {
    let names = VARIABLES
        .iter()
        .map(|v| format!("'{v}'"))
        .collect::<Vec<_>>()
        .join(", ");
    let rows: Vec<Row> = conn
        .query(format!(
            "SHOW GLOBAL VARIABLES WHERE Variable_name IN ({names})"
        ))
        .await?;
    let mut vars = HashMap::new();
    for row in rows {
        if let (Some(name), Some(value)) = (text(&row, 0), text(&row, 1)) {
            vars.insert(name.to_ascii_lowercase(), value);
        }
    }
    Ok(Variables(vars))
}

fn text(row: &Row, idx: usize) -> Option<String> {
    match row.as_ref(idx)? {
        Value::NULL => None,
        Value::Bytes(b) => Some(String::from_utf8_lossy(b).into_owned()),
        other => Some(other.as_sql(true).trim_matches('\'').to_string()),
    }
}

/// Where to make a setting permanent, for fixes.
fn persist_hint(server: &ServerInfo, setting: &str) -> String {
    if !server.is_mariadb() && server.version_number >= (8, 0, 0) {
        format!(
            "(SET PERSIST keeps it across restarts; or add `{setting}` under [mysqld] in my.cnf)"
        )
    } else {
        format!("and add `{setting}` under [mysqld] in my.cnf so that it survives a restart")
    }
}

/// `SET PERSIST` on MySQL 8+, `SET GLOBAL` elsewhere.
fn set_global(server: &ServerInfo) -> &'static str {
    if !server.is_mariadb() && server.version_number >= (8, 0, 0) {
        "SET PERSIST"
    } else {
        "SET GLOBAL"
    }
}

fn flavor_name(server: &ServerInfo) -> &'static str {
    if server.is_mariadb() {
        "MariaDB"
    } else {
        "MySQL"
    }
}

// ------------------------------------------------------------------------------ the checks

fn check_version(server: &ServerInfo) -> CheckResult {
    let (major, minor, patch) = server.version_number;
    let found = format!(
        "{} {major}.{minor}.{patch} (@@version = {})",
        flavor_name(server),
        server.version
    );
    if server.is_mariadb() {
        if major >= 10 {
            CheckResult::pass(VERSION, found)
        } else {
            CheckResult::error(
                VERSION,
                format!("{found} is not supported: MariaDB 10.0 or later is required"),
                "Upgrade the source to MariaDB 10.6 or later (10.0 is the minimum).",
            )
        }
    } else if (major, minor) >= (5, 7) {
        CheckResult::pass(VERSION, found)
    } else if (major, minor) == (5, 6) {
        CheckResult::warning(
            VERSION,
            format!(
                "{found} is end-of-life: it has no binlog_row_metadata and GTIDs can only be \
                 enabled with a restart; synchronization works but is less robust"
            ),
            "Upgrade the source to MySQL 5.7 or 8.0+ (or acknowledge this warning).",
        )
    } else {
        CheckResult::error(
            VERSION,
            format!("{found} is not supported: MySQL 5.6 or later is required"),
            "Upgrade the source to MySQL 5.7 or 8.0+.",
        )
    }
}

fn check_log_bin(vars: &Variables, server: &ServerInfo) -> CheckResult {
    match vars.is_on("log_bin") {
        Some(true) => CheckResult::pass(LOG_BIN, "the binary log is enabled (log_bin = ON)"),
        found => CheckResult::error(
            LOG_BIN,
            format!(
                "the binary log is disabled (log_bin = {}): changes cannot be captured",
                if found.is_some() {
                    "OFF"
                } else {
                    "not reported"
                }
            ),
            format!(
                "log_bin cannot be changed at runtime: add `log_bin = {}` and a unique non-zero \
                 `server_id` under [mysqld] in my.cnf, then restart the server.",
                if server.is_mariadb() {
                    "mariadb-bin"
                } else {
                    "mysql-bin"
                }
            ),
        ),
    }
}

fn check_binlog_format(vars: &Variables, server: &ServerInfo) -> CheckResult {
    match vars.upper("binlog_format") {
        Some(f) if f == "ROW" => CheckResult::pass(BINLOG_FORMAT, "binlog_format = ROW"),
        found => CheckResult::error(
            BINLOG_FORMAT,
            format!(
                "binlog_format = {}: changes logged as statements cannot be captured as rows; \
                 ROW is required",
                found.as_deref().unwrap_or("not reported")
            ),
            format!(
                "{} binlog_format = 'ROW'; {}; sessions opened before the change keep the old \
                 format, so reconnect the applications (or restart the server).",
                set_global(server),
                persist_hint(server, "binlog_format = ROW")
            ),
        ),
    }
}

fn check_binlog_row_image(vars: &Variables, server: &ServerInfo) -> CheckResult {
    match vars.upper("binlog_row_image") {
        Some(f) if f == "FULL" => CheckResult::pass(BINLOG_ROW_IMAGE, "binlog_row_image = FULL"),
        found => CheckResult::error(
            BINLOG_ROW_IMAGE,
            format!(
                "binlog_row_image = {}: row events would not carry every column of the \
                 before and after images, so updates and deletes cannot be replayed as whole \
                 rows; FULL is required",
                found.as_deref().unwrap_or("not reported")
            ),
            format!(
                "{} binlog_row_image = 'FULL'; {}; sessions opened before the change keep the \
                 old setting, so reconnect the applications (or restart the server).",
                set_global(server),
                persist_hint(server, "binlog_row_image = FULL")
            ),
        ),
    }
}

fn check_binlog_row_metadata(vars: &Variables, server: &ServerInfo) -> CheckResult {
    match vars.upper("binlog_row_metadata") {
        Some(f) if f == "FULL" => CheckResult::pass(
            BINLOG_ROW_METADATA,
            "binlog_row_metadata = FULL: row events carry column names",
        ),
        Some(found) => CheckResult::warning(
            BINLOG_ROW_METADATA,
            format!(
                "binlog_row_metadata = {found}: row events carry no column names, so decoding \
                 depends on re-reading the table schema from the source; DDL-heavy workloads \
                 (columns added or dropped while changes are in flight) risk mis-decoded rows"
            ),
            format!(
                "{} binlog_row_metadata = 'FULL'; {}.",
                set_global(server),
                persist_hint(server, "binlog_row_metadata = FULL")
            ),
        ),
        None => CheckResult::warning(
            BINLOG_ROW_METADATA,
            format!(
                "{} {} has no binlog_row_metadata (MySQL 8.0.1+ / MariaDB 10.5+): row events \
                 carry no column names, so decoding depends on re-reading the table schema \
                 from the source; DDL-heavy workloads risk mis-decoded rows",
                flavor_name(server),
                server.version
            ),
            "Upgrade the source to MySQL 8.0+ or MariaDB 10.5+ and set binlog_row_metadata = \
             FULL, or avoid schema changes on selected tables while the task runs.",
        ),
    }
}

fn check_server_id(vars: &Variables, server: &ServerInfo) -> CheckResult {
    match vars.number("server_id") {
        Some(id) if id != 0.0 => CheckResult::pass(SERVER_ID, format!("server_id = {id}")),
        found => CheckResult::error(
            SERVER_ID,
            format!(
                "server_id = {}: a server with server_id 0 refuses replication clients",
                if found.is_some() { "0" } else { "not reported" }
            ),
            format!(
                "{} server_id = <unique non-zero id>; {}.",
                set_global(server),
                persist_hint(server, "server_id = <unique non-zero id>")
            ),
        ),
    }
}

fn format_duration(seconds: u64) -> String {
    if seconds >= 86_400 && seconds.is_multiple_of(86_400) {
        format!("{} days", seconds / 86_400)
    } else if seconds >= 86_400 {
        format!("{:.1} days", seconds as f64 / 86_400.0)
    } else if seconds >= 3_600 {
        format!("{:.1} hours", seconds as f64 / 3_600.0)
    } else {
        format!("{seconds} seconds")
    }
}

fn check_binlog_retention(vars: &Variables, server: &ServerInfo) -> CheckResult {
    let seconds_var = vars.number("binlog_expire_logs_seconds").unwrap_or(0.0);
    let days_var = vars.number("expire_logs_days").unwrap_or(0.0);
    let size_limit = vars
        .number("max_binlog_total_size")
        .or_else(|| vars.number("binlog_space_limit"))
        .unwrap_or(0.0);

    // The statement that raises retention to the minimum on this server.
    let has_seconds_var = vars.get("binlog_expire_logs_seconds").is_some();
    let fix = if has_seconds_var {
        format!(
            "{} binlog_expire_logs_seconds = {MIN_RETENTION_SECONDS}; {} (0 keeps binlogs until \
             purged by hand).",
            set_global(server),
            persist_hint(
                server,
                &format!("binlog_expire_logs_seconds = {MIN_RETENTION_SECONDS}")
            )
        )
    } else {
        format!(
            "SET GLOBAL expire_logs_days = {}; and add `expire_logs_days = {}` under [mysqld] \
             in my.cnf (0 keeps binlogs until purged by hand).",
            MIN_RETENTION_SECONDS / 86_400,
            MIN_RETENTION_SECONDS / 86_400
        )
    };
    let consequence = "if the task stops for longer than that, or falls that far behind, the \
                       binlogs it needs are purged and it must restart from a full copy; keep \
                       binlogs at least 7 days, longer than any expected task interruption";

    if size_limit > 0.0 {
        let name = if vars.get("max_binlog_total_size").is_some() {
            "max_binlog_total_size"
        } else {
            "binlog_space_limit"
        };
        return CheckResult::warning(
            BINLOG_RETENTION,
            format!(
                "{name} = {size_limit}: binlogs are purged once their total size exceeds it, \
                 whatever their age; {consequence}"
            ),
            format!(
                "SET GLOBAL {name} = 0; and remove {name} from my.cnf (or size it to hold at \
                 least 7 days of binlogs)."
            ),
        );
    }
    if vars.is_on("binlog_expire_logs_auto_purge") == Some(false) {
        return CheckResult::pass(
            BINLOG_RETENTION,
            "binlog_expire_logs_auto_purge = OFF: binlogs are never purged automatically",
        );
    }
    let (seconds, setting) = if seconds_var > 0.0 {
        (
            seconds_var as u64,
            format!("binlog_expire_logs_seconds = {seconds_var}"),
        )
    } else if days_var > 0.0 {
        (
            (days_var * 86_400.0).round() as u64,
            format!("expire_logs_days = {days_var}"),
        )
    } else {
        return CheckResult::pass(
            BINLOG_RETENTION,
            "binlogs never expire (binlog_expire_logs_seconds and expire_logs_days are 0): \
             they are kept until purged by hand",
        );
    };
    if seconds < MIN_RETENTION_SECONDS {
        CheckResult::warning(
            BINLOG_RETENTION,
            format!(
                "binlogs expire after {} ({setting}); {consequence}",
                format_duration(seconds)
            ),
            fix,
        )
    } else {
        CheckResult::pass(
            BINLOG_RETENTION,
            format!("binlogs are kept {} ({setting})", format_duration(seconds)),
        )
    }
}

fn check_gtid(vars: &Variables, server: &ServerInfo) -> CheckResult {
    if server.is_mariadb() {
        let strict = match vars.is_on("gtid_strict_mode") {
            Some(true) => "ON",
            Some(false) => "OFF",
            None => "not reported",
        };
        let domain = vars.get("gtid_domain_id").unwrap_or("not reported");
        return CheckResult::pass(
            GTID,
            format!(
                "MariaDB always writes GTIDs (gtid_domain_id = {domain}, gtid_strict_mode = \
                 {strict}); the task can resume from a GTID position"
            ),
        );
    }
    match vars.upper("gtid_mode") {
        Some(mode) if mode == "ON" => CheckResult::pass(
            GTID,
            "gtid_mode = ON: the task can resume from a GTID set, also after a failover",
        ),
        found => {
            let fix = if server.version_number >= (5, 7, 6) {
                format!(
                    "Enable GTIDs online, one step at a time: {s} enforce_gtid_consistency = \
                     ON; {s} gtid_mode = OFF_PERMISSIVE; {s} gtid_mode = ON_PERMISSIVE; wait \
                     until SHOW STATUS LIKE 'Ongoing_anonymous_transaction_count' is 0; {s} \
                     gtid_mode = ON; (on MySQL 5.7 also put `gtid_mode = ON` and \
                     `enforce_gtid_consistency = ON` under [mysqld] in my.cnf).",
                    s = set_global(server)
                )
            } else {
                "Add `gtid_mode = ON`, `enforce_gtid_consistency = ON` and `log_slave_updates = \
                 ON` under [mysqld] in my.cnf and restart the server."
                    .to_string()
            };
            CheckResult::warning(
                GTID,
                format!(
                    "gtid_mode = {}: the task can resume only from a binlog file and position, \
                     which does not survive a failover to another server",
                    found.as_deref().unwrap_or("not available")
                ),
                fix,
            )
        }
    }
}

async fn check_selected_databases(conn: &mut Conn, databases: &[String]) -> CheckResult {
    let rows: Result<Vec<Row>, _> = conn
        .query("SELECT SCHEMA_NAME FROM information_schema.SCHEMATA")
        .await;
    let existing: BTreeSet<String> = match rows {
        Ok(rows) => rows.iter().filter_map(|r| text(r, 0)).collect(),
        Err(e) => return query_failed(SELECTED_DATABASES, "information_schema.SCHEMATA", &e),
    };
    if databases.is_empty() {
        let n = existing
            .iter()
            .filter(|d| !SYSTEM_DATABASES.contains(&d.as_str()))
            .count();
        return CheckResult::pass(
            SELECTED_DATABASES,
            format!("all non-system databases selected ({n} visible to the account)"),
        );
    }
    let missing: Vec<&String> = databases
        .iter()
        .filter(|d| !existing.contains(d.as_str()))
        .collect();
    if missing.is_empty() {
        CheckResult::pass(
            SELECTED_DATABASES,
            format!("all {} selected databases exist", databases.len()),
        )
    } else {
        let names = missing
            .iter()
            .map(|d| quote_ident(d))
            .collect::<Vec<_>>()
            .join(", ");
        CheckResult::error(
            SELECTED_DATABASES,
            format!(
                "selected database(s) {names} do not exist on the source or are not visible \
                 to the account"
            ),
            format!(
                "Correct the database names in the task's selection, or grant the account \
                 SELECT on them (GRANT SELECT ON <db>.* TO <account>;). Missing: {names}."
            ),
        )
    }
}

async fn check_keyless_tables(conn: &mut Conn, databases: &[String]) -> CheckResult {
    let (filter, mut params): (String, Vec<Value>) = if databases.is_empty() {
        (
            format!("NOT IN ({})", vec!["?"; SYSTEM_DATABASES.len()].join(", ")),
            SYSTEM_DATABASES.iter().map(|d| (*d).into()).collect(),
        )
    } else {
        (
            format!("IN ({})", vec!["?"; databases.len()].join(", ")),
            databases.iter().map(|d| d.as_str().into()).collect(),
        )
    };
    // A table is keyed if one of its unique indexes (the primary key included) has only
    // NOT NULL columns.
    let sql = format!(
        "SELECT t.TABLE_SCHEMA, t.TABLE_NAME \
         FROM information_schema.TABLES t \
         LEFT JOIN ( \
             SELECT TABLE_SCHEMA, TABLE_NAME \
             FROM information_schema.STATISTICS \
             WHERE NON_UNIQUE = 0 AND TABLE_SCHEMA {filter} \
             GROUP BY TABLE_SCHEMA, TABLE_NAME, INDEX_NAME \
             HAVING SUM(CASE WHEN NULLABLE = 'YES' THEN 1 ELSE 0 END) = 0 \
         ) k ON k.TABLE_SCHEMA = t.TABLE_SCHEMA AND k.TABLE_NAME = t.TABLE_NAME \
         WHERE t.TABLE_TYPE IN ('BASE TABLE', 'SYSTEM VERSIONED') \
           AND t.TABLE_SCHEMA {filter} \
           AND k.TABLE_NAME IS NULL \
         ORDER BY t.TABLE_SCHEMA, t.TABLE_NAME"
    );
    params.extend(params.clone());
    let rows: Vec<Row> = match conn.exec(sql, params).await {
        Ok(rows) => rows,
        Err(e) => {
            return query_failed(
                TABLES_WITHOUT_PRIMARY_KEY,
                "SELECT on information_schema.TABLES and STATISTICS",
                &e,
            )
        }
    };
    let tables: Vec<String> = rows
        .iter()
        .filter_map(|r| {
            Some(format!(
                "{}.{}",
                quote_ident(&text(r, 0)?),
                quote_ident(&text(r, 1)?)
            ))
        })
        .collect();
    keyless_result(&tables)
}

fn keyless_result(tables: &[String]) -> CheckResult {
    if tables.is_empty() {
        return CheckResult::pass(
            TABLES_WITHOUT_PRIMARY_KEY,
            "every selected table has a primary key or a NOT NULL unique key",
        );
    }
    let mut listed = tables
        .iter()
        .take(MAX_LISTED_TABLES)
        .cloned()
        .collect::<Vec<_>>()
        .join(", ");
    if tables.len() > MAX_LISTED_TABLES {
        listed.push_str(&format!(" and {} more", tables.len() - MAX_LISTED_TABLES));
    }
    CheckResult::warning(
        TABLES_WITHOUT_PRIMARY_KEY,
        format!(
            "{} table(s) without a primary key or NOT NULL unique key: {listed}; without a key \
             their changes cannot be matched to destination rows, so a retried or repeated \
             write can duplicate rows",
            tables.len()
        ),
        format!(
            "Add a primary key (or a UNIQUE key over NOT NULL columns) to each, e.g. ALTER \
             TABLE {} ADD PRIMARY KEY (<columns>); or accept key-less copying by listing \
             \"{TABLES_WITHOUT_PRIMARY_KEY}\" in acknowledge_warnings.",
            tables[0]
        ),
    )
}

// ------------------------------------------------------------------------------ privileges

async fn check_privileges(
    conn: &mut Conn,
    server: &ServerInfo,
    case_insensitive: bool,
    databases: &[String],
) -> CheckResult {
    let account: String = match conn.query_first("SELECT CURRENT_USER()").await {
        Ok(Some(a)) => a,
        Ok(None) => String::new(),
        Err(e) => return query_failed(PRIVILEGES, "SELECT CURRENT_USER()", &e),
    };
    let mut lines: Vec<String> = match conn.query("SHOW GRANTS FOR CURRENT_USER()").await {
        Ok(lines) => lines,
        Err(e) => return query_failed(PRIVILEGES, "SHOW GRANTS FOR CURRENT_USER()", &e),
    };
    // Privileges of active roles count too (best effort: a failure leaves them out).
    if let Ok(Some(Some(role))) = conn
        .query_first::<Option<String>, _>("SELECT CURRENT_ROLE()")
        .await
    {
        if !role.is_empty() && !role.eq_ignore_ascii_case("NONE") {
            let sql = if server.is_mariadb() {
                "SHOW GRANTS FOR CURRENT_ROLE".to_string()
            } else {
                format!("SHOW GRANTS FOR CURRENT_USER() USING {role}")
            };
            if let Ok(more) = conn.query::<String, _>(sql).await {
                lines.extend(more);
            }
        }
    }
    let grants = Grants::parse(&lines);
    privileges_result(&grants, server, &account, databases, case_insensitive)
}

/// `'user'@'host'` from `CURRENT_USER()`'s `user@host`.
fn quote_account(account: &str) -> String {
    match account.rsplit_once('@') {
        Some((user, host)) => format!("'{}'@'{}'", sql_escape(user), sql_escape(host)),
        None => format!("'{}'", sql_escape(account)),
    }
}

fn privileges_result(
    grants: &Grants,
    server: &ServerInfo,
    account: &str,
    databases: &[String],
    case_insensitive: bool,
) -> CheckResult {
    let who = quote_account(account);
    let binlog_monitor = server.is_mariadb() && server.version_number >= (10, 5, 0);
    let client_name = if binlog_monitor {
        "BINLOG MONITOR"
    } else {
        "REPLICATION CLIENT"
    };

    let mut missing_global: Vec<&str> = Vec::new();
    let mut missing_dbs: Vec<&String> = Vec::new();
    if databases.is_empty() {
        if !grants.global("SELECT") {
            missing_global.push("SELECT");
        }
    } else {
        missing_dbs = databases
            .iter()
            .filter(|db| !grants.on_database(db, "SELECT", case_insensitive))
            .collect();
    }
    if !grants.global("REPLICATION SLAVE") {
        missing_global.push("REPLICATION SLAVE");
    }
    let client_ok =
        grants.global("REPLICATION CLIENT") || (binlog_monitor && grants.global("BINLOG MONITOR"));
    if !client_ok {
        missing_global.push(client_name);
    }

    if missing_global.is_empty() && missing_dbs.is_empty() {
        let select_scope = if databases.is_empty() || grants.global("SELECT") {
            "SELECT on *.*".to_string()
        } else {
            "SELECT on each selected database".to_string()
        };
        return CheckResult::pass(
            PRIVILEGES,
            format!("account {who} has {select_scope}, REPLICATION SLAVE and {client_name}"),
        );
    }

    let mut missing: Vec<String> = missing_global
        .iter()
        .map(|p| {
            if *p == "SELECT" {
                "SELECT on *.* (all databases are selected)".to_string()
            } else if *p == "BINLOG MONITOR" {
                "BINLOG MONITOR (REPLICATION CLIENT)".to_string()
            } else {
                (*p).to_string()
            }
        })
        .collect();
    missing.extend(
        missing_dbs
            .iter()
            .map(|db| format!("SELECT on {}.*", quote_ident(db))),
    );
    let mut fixes = Vec::new();
    if !missing_global.is_empty() {
        fixes.push(format!(
            "GRANT {} ON *.* TO {who};",
            missing_global.join(", ")
        ));
    }
    for db in &missing_dbs {
        fixes.push(format!("GRANT SELECT ON {}.* TO {who};", quote_ident(db)));
    }
    let mut reasons = Vec::new();
    if missing_global.contains(&"SELECT") || !missing_dbs.is_empty() {
        reasons.push("SELECT to copy the tables".to_string());
    }
    if missing_global.contains(&"REPLICATION SLAVE") {
        reasons.push("REPLICATION SLAVE to stream the binlog".to_string());
    }
    if missing_global.contains(&client_name) {
        reasons.push(format!("{client_name} to read the binlog position"));
    }
    CheckResult::error(
        PRIVILEGES,
        format!(
            "account {who} lacks {} (the task needs {})",
            missing.join(", "),
            reasons.join(", ")
        ),
        fixes.join(" "),
    )
}

/// Whether the report has a result for every check of [`SOURCE_CHECKS`] (false after a
/// connection failure, when only [`CONNECTIVITY`] ran).
pub fn is_complete(report: &PrecheckReport) -> bool {
    SOURCE_CHECKS.iter().all(|name| report.get(name).is_some())
}

/// The names of the checks at `level`, in run order.
pub fn names_at(report: &PrecheckReport, level: CheckLevel) -> Vec<&str> {
    report
        .checks
        .iter()
        .filter(|c| c.level == level)
        .map(|c| c.name.as_str())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars(pairs: &[(&str, &str)]) -> Variables {
        Variables(
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        )
    }

    fn lines(ls: &[&str]) -> Vec<String> {
        ls.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn privileges_all_on_star_covers_everything() {
        let g = Grants::parse(&lines(&[
            "GRANT ALL PRIVILEGES ON *.* TO `root`@`127.0.0.1` WITH GRANT OPTION",
        ]));
        let r = privileges_result(&g, &mariadb(), "root@127.0.0.1", &[], false);
        assert_eq!(r.level, CheckLevel::Pass, "{r}");
    }

    #[test]
    fn privileges_select_only_names_what_is_missing() {
        let g = Grants::parse(&lines(&["GRANT SELECT ON *.* TO `ro`@`%`"]));
        let r = privileges_result(&g, &mariadb(), "ro@%", &["shop".into()], false);
        assert_eq!(r.level, CheckLevel::Error);
        assert!(r.message.contains("REPLICATION SLAVE"), "{r}");
        assert!(r.message.contains("BINLOG MONITOR"), "{r}");
        assert!(!r.message.contains("SELECT on"), "{r}");
        assert_eq!(
            r.fix,
            "GRANT REPLICATION SLAVE, BINLOG MONITOR ON *.* TO 'ro'@'%';"
        );

        let r = privileges_result(&g, &mysql8(), "ro@%", &[], false);
        assert!(r.message.contains("REPLICATION CLIENT"), "{r}");
        assert!(!r.message.contains("BINLOG MONITOR"), "{r}");
    }

    #[test]
    fn privileges_per_database_select_and_binlog_monitor() {
        let g = Grants::parse(&lines(&[
            "GRANT REPLICATION SLAVE, BINLOG MONITOR ON *.* TO `cdc`@`%`",
            "GRANT SELECT ON `shop`.* TO `cdc`@`%`",
            "GRANT ALL PRIVILEGES ON `app\\_eu`.* TO `cdc`@`%`",
        ]));
        let dbs = vec!["shop".to_string(), "app_eu".to_string()];
        let r = privileges_result(&g, &mariadb(), "cdc@%", &dbs, false);
        assert_eq!(r.level, CheckLevel::Pass, "{r}");
        // BINLOG MONITOR does not stand in for REPLICATION CLIENT on MySQL.
        let r = privileges_result(&g, &mysql8(), "cdc@%", &dbs, false);
        assert_eq!(r.level, CheckLevel::Error, "{r}");
        assert!(r.message.contains("REPLICATION CLIENT"), "{r}");

        let dbs = vec!["shop".to_string(), "crm".to_string()];
        let r = privileges_result(&g, &mariadb(), "cdc@%", &dbs, false);
        assert_eq!(r.level, CheckLevel::Error);
        assert!(r.message.contains("SELECT on `crm`.*"), "{r}");
        assert_eq!(r.fix, "GRANT SELECT ON `crm`.* TO 'cdc'@'%';");
        // All databases selected needs global SELECT.
        let r = privileges_result(&g, &mariadb(), "cdc@%", &[], false);
        assert!(r.message.contains("SELECT on *.*"), "{r}");
    }

    #[test]
    fn privileges_partial_revoke() {
        let g = Grants::parse(&lines(&[
            "GRANT SELECT, REPLICATION SLAVE, REPLICATION CLIENT ON *.* TO `u`@`%`",
            "REVOKE SELECT ON `hr`.* FROM `u`@`%`",
        ]));
        let r = privileges_result(&g, &mysql8(), "u@%", &["hr".into()], false);
        assert_eq!(r.level, CheckLevel::Error, "{r}");
        let r = privileges_result(&g, &mysql8(), "u@%", &["shop".into()], false);
        assert_eq!(r.level, CheckLevel::Pass, "{r}");
    }

    #[test]
    fn versions() {
        let lvl = |v: &str| check_version(&ServerInfo::from_version(v)).level;
        assert_eq!(lvl("8.0.36"), CheckLevel::Pass);
        assert_eq!(lvl("5.7.44-log"), CheckLevel::Pass);
        assert_eq!(lvl("9.1.0"), CheckLevel::Pass);
        assert_eq!(lvl("5.6.51"), CheckLevel::Warning);
        assert_eq!(lvl("5.5.62"), CheckLevel::Error);
        assert_eq!(lvl("10.11.19-MariaDB"), CheckLevel::Pass);
        assert_eq!(lvl("5.5.68-MariaDB"), CheckLevel::Error);
    }

    #[test]
    fn binlog_settings() {
        let s = mysql8();
        let good = vars(&[
            ("log_bin", "ON"),
            ("binlog_format", "ROW"),
            ("binlog_row_image", "FULL"),
            ("binlog_row_metadata", "FULL"),
            ("server_id", "1"),
        ]);
        assert_eq!(check_log_bin(&good, &s).level, CheckLevel::Pass);
        assert_eq!(check_binlog_format(&good, &s).level, CheckLevel::Pass);
        assert_eq!(check_binlog_row_image(&good, &s).level, CheckLevel::Pass);
        assert_eq!(check_binlog_row_metadata(&good, &s).level, CheckLevel::Pass);
        assert_eq!(check_server_id(&good, &s).level, CheckLevel::Pass);

        let bad = vars(&[
            ("log_bin", "OFF"),
            ("binlog_format", "STATEMENT"),
            ("binlog_row_image", "NOBLOB"),
            ("server_id", "0"),
        ]);
        assert_eq!(check_log_bin(&bad, &s).level, CheckLevel::Error);
        let f = check_binlog_format(&bad, &s);
        assert_eq!(f.level, CheckLevel::Error);
        assert!(
            f.fix.starts_with("SET PERSIST binlog_format = 'ROW'"),
            "{f}"
        );
        let f = check_binlog_format(&bad, &mariadb());
        assert!(f.fix.starts_with("SET GLOBAL binlog_format = 'ROW'"), "{f}");
        assert_eq!(check_binlog_row_image(&bad, &s).level, CheckLevel::Error);
        let m = check_binlog_row_metadata(&bad, &ServerInfo::from_version("5.7.44"));
        assert_eq!(m.level, CheckLevel::Warning);
        assert!(m.message.contains("has no binlog_row_metadata"), "{m}");
        assert_eq!(check_server_id(&bad, &s).level, CheckLevel::Error);
    }

    #[test]
    fn retention() {
        let my = mysql8();
        let r = |pairs: &[(&str, &str)], s: &ServerInfo| check_binlog_retention(&vars(pairs), s);
        assert_eq!(
            r(&[("binlog_expire_logs_seconds", "2592000")], &my).level,
            CheckLevel::Pass
        );
        let w = r(&[("binlog_expire_logs_seconds", "86400")], &my);
        assert_eq!(w.level, CheckLevel::Warning);
        assert!(w.message.contains("1 days"), "{w}");
        assert!(
            w.fix
                .contains("SET PERSIST binlog_expire_logs_seconds = 604800"),
            "{w}"
        );
        // Both 0: never expire.
        assert_eq!(
            r(
                &[
                    ("binlog_expire_logs_seconds", "0"),
                    ("expire_logs_days", "0.000000")
                ],
                &mariadb()
            )
            .level,
            CheckLevel::Pass
        );
        // MySQL 5.7: only expire_logs_days.
        let w = r(
            &[("expire_logs_days", "3")],
            &ServerInfo::from_version("5.7.44"),
        );
        assert_eq!(w.level, CheckLevel::Warning);
        assert!(w.fix.contains("SET GLOBAL expire_logs_days = 7"), "{w}");
        assert_eq!(
            r(
                &[("expire_logs_days", "10")],
                &ServerInfo::from_version("5.7.44")
            )
            .level,
            CheckLevel::Pass
        );
        // Auto purge off.
        assert_eq!(
            r(
                &[
                    ("binlog_expire_logs_seconds", "3600"),
                    ("binlog_expire_logs_auto_purge", "OFF")
                ],
                &my
            )
            .level,
            CheckLevel::Pass
        );
        // Size-based purging.
        assert_eq!(
            r(&[("max_binlog_total_size", "1073741824")], &mariadb()).level,
            CheckLevel::Warning
        );
    }

    #[test]
    fn gtid() {
        let m = check_gtid(
            &vars(&[("gtid_strict_mode", "ON"), ("gtid_domain_id", "1")]),
            &mariadb(),
        );
        assert_eq!(m.level, CheckLevel::Pass);
        assert!(m.message.contains("gtid_strict_mode = ON"), "{m}");
        assert_eq!(
            check_gtid(&vars(&[("gtid_mode", "ON")]), &mysql8()).level,
            CheckLevel::Pass
        );
        let w = check_gtid(&vars(&[("gtid_mode", "OFF")]), &mysql8());
        assert_eq!(w.level, CheckLevel::Warning);
        assert!(w.fix.contains("gtid_mode = OFF_PERMISSIVE"), "{w}");
    }

    #[test]
    fn keyless_list_is_bounded() {
        let tables: Vec<String> = (0..25).map(|i| format!("`d`.`t{i}`")).collect();
        let r = keyless_result(&tables);
        assert_eq!(r.level, CheckLevel::Warning);
        assert!(r.message.starts_with("25 table(s)"), "{r}");
        assert!(r.message.contains("`d`.`t19`"), "{r}");
        assert!(!r.message.contains("`d`.`t20`"), "{r}");
        assert!(r.message.contains("and 5 more"), "{r}");
        assert_eq!(keyless_result(&[]).level, CheckLevel::Pass);
    }

    #[test]
    fn keyless_hint_suggests_only_options_every_task_accepts() {
        // A one-way task refuses `topology.exactly_once_write` (two-way tasks get their own
        // finding naming it, from the topology check).
        let r = keyless_result(&["`d`.`t`".to_string()]);
        assert!(!r.fix.contains("exactly_once_write"), "{r}");
        assert!(
            r.fix
                .contains("\"source.tables_without_primary_key\" in acknowledge_warnings"),
            "{r}"
        );
    }

    #[test]
    fn password_is_scrubbed() {
        assert_eq!(scrub("x hunter2 y", Some("hunter2")), "x *** y");
        assert_eq!(scrub("x", Some("")), "x");
    }

    fn mariadb() -> ServerInfo {
        ServerInfo::from_version("10.11.19-MariaDB-log")
    }

    fn mysql8() -> ServerInfo {
        ServerInfo::from_version("8.0.36")
    }
}
