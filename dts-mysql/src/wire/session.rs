//! Session setup shared by every connection that reads or writes rows: the settings a session
//! starts with, and the `sql_mode` a destination runs a statement under.

/// Session settings of every snapshot connection: UTC so TIMESTAMPs are instants, utf8mb4
/// results so text arrives in one encoding.
pub const SESSION_SETUP: [&str; 2] = [
    "SET time_zone = '+00:00'",
    "SET character_set_results = utf8mb4",
];

/// Modes MySQL 8 no longer has (MariaDB still does): left out of a `SET sql_mode` sent to a
/// MySQL destination.
pub const NOT_IN_MYSQL8: [&str; 11] = [
    "NO_AUTO_CREATE_USER",
    "POSTGRESQL",
    "ORACLE",
    "MSSQL",
    "DB2",
    "MAXDB",
    "NO_KEY_OPTIONS",
    "NO_TABLE_OPTIONS",
    "NO_FIELD_OPTIONS",
    "MYSQL323",
    "MYSQL40",
];

/// `mode` for the destination: unchanged for MariaDB, without [`NOT_IN_MYSQL8`] for MySQL.
pub fn for_destination(mode: &str, mariadb: bool) -> String {
    if mariadb {
        return mode.to_owned();
    }
    mode.split(',')
        .map(str::trim)
        .filter(|m| !m.is_empty() && !NOT_IN_MYSQL8.iter().any(|n| n.eq_ignore_ascii_case(m)))
        .collect::<Vec<_>>()
        .join(",")
}
