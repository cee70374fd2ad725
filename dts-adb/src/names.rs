//! How the cluster stores database and table names, which the `dts_default` capitalization
//! policy (`migration.capitalization`) follows: names are lower-cased when the destination
//! folds them. The destination is asked (`@@lower_case_table_names`), as for a MySQL
//! destination, so a MariaDB server standing in for ADB (`mariadb_compat`) is followed as it is
//! configured. A cluster that does not know the variable is taken to fold names: AnalyticDB
//! for MySQL 3.0 treats database and table names case-insensitively and stores them in lower
//! case.
//!
//! The question is asked while the task is composed, before its precheck. A destination that
//! cannot be reached then is not an error here: the precheck reports it (`destination.tls`,
//! `destination.connectivity`) with what to change, and the task does not run. The answer
//! used meanwhile is the server's own behaviour for the mode (`fallback`): ADB folds names, and
//! a MariaDB server that folds them does so whatever name it is sent.

use dts_core::Error;
use dts_mysql::wire::conn::MysqlEndpoint;
use mysql_async::prelude::Queryable;

/// MySQL's ER_UNKNOWN_SYSTEM_VARIABLE: the server has no such variable.
const UNKNOWN_SYSTEM_VARIABLE: u16 = 1193;

/// Whether the destination at `endpoint` stores database and table names in lower case;
/// `fallback` when it cannot be reached (see the module docs).
pub async fn folds_names_to_lower(endpoint: &MysqlEndpoint, fallback: bool) -> Result<bool, Error> {
    let mut conn = match endpoint.connect().await {
        Ok(conn) => conn,
        Err(e) => {
            tracing::warn!(
                error = %e,
                "cannot ask the destination how it stores names; the precheck reports why"
            );
            return Ok(fallback);
        }
    };
    let answer = conn
        .query_first::<u32, _>("SELECT @@lower_case_table_names")
        .await;
    decide(answer).map_err(|e| endpoint.map_err("read lower_case_table_names", e))
}

/// The decision from the server's answer (see the module docs).
fn decide(answer: Result<Option<u32>, mysql_async::Error>) -> Result<bool, mysql_async::Error> {
    match answer {
        Ok(value) => Ok(value.unwrap_or(0) != 0),
        Err(mysql_async::Error::Server(e)) if e.code == UNKNOWN_SYSTEM_VARIABLE => Ok(true),
        Err(e) => Err(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn server_error(code: u16) -> mysql_async::Error {
        mysql_async::Error::Server(mysql_async::ServerError {
            code,
            message: "m".into(),
            state: "HY000".into(),
        })
    }

    #[test]
    fn the_variable_decides_and_a_cluster_without_it_folds() {
        assert!(!decide(Ok(Some(0))).unwrap());
        assert!(decide(Ok(Some(1))).unwrap());
        assert!(decide(Ok(Some(2))).unwrap());
        assert!(!decide(Ok(None)).unwrap());
        assert!(decide(Err(server_error(UNKNOWN_SYSTEM_VARIABLE))).unwrap());
        // Any other failure is the task's error, not a guess.
        assert!(decide(Err(server_error(1045))).is_err());
    }
}
