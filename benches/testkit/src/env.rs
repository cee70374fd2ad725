//! The endpoints of the test environment, as `scripts/test-env.sh env` exports them.
//!
//! Each accessor panics, naming the variable and the command that sets it, when the variable
//! is missing: the suites run against real servers and never skip silently.

use std::path::PathBuf;

/// The value of a variable of `scripts/test-env.sh env`; panics with how to set it when it is
/// missing or empty.
pub fn var(name: &str) -> String {
    match std::env::var(name) {
        Ok(v) if !v.is_empty() => v,
        _ => panic!(
            "{name} is not set: these tests need the real test environment; run \
             `eval \"$(scripts/test-env.sh env)\"` after `scripts/test-env.sh up` \
             (or the whole suite with `scripts/test.sh`)"
        ),
    }
}

/// `mysql://root@host:port` of the source server (`DTS_TEST_SOURCE_URL`).
pub fn source_url() -> String {
    var("DTS_TEST_SOURCE_URL")
}

/// `mysql://root@host:port` of the destination server (`DTS_TEST_DEST_URL`).
pub fn dest_url() -> String {
    var("DTS_TEST_DEST_URL")
}

/// The spare server, for tests that disturb its binlog or restart it (`DTS_TEST_PEER_URL`).
pub fn peer_url() -> String {
    var("DTS_TEST_PEER_URL")
}

/// The server with MIXED / MINIMAL binlog settings (`DTS_TEST_MISCONFIGURED_URL`).
pub fn misconfigured_url() -> String {
    var("DTS_TEST_MISCONFIGURED_URL")
}

/// The TLS server (`DTS_TEST_TLS_URL`).
pub fn tls_url() -> String {
    var("DTS_TEST_TLS_URL")
}

/// The server with `innodb_autoinc_lock_mode=2` (`DTS_TEST_INTERLEAVED_URL`).
pub fn interleaved_url() -> String {
    var("DTS_TEST_INTERLEAVED_URL")
}

/// The Kafka-protocol broker list (`DTS_TEST_KAFKA_BROKERS`).
pub fn kafka_brokers() -> String {
    var("DTS_TEST_KAFKA_BROKERS")
}

/// The directory of the test environment's state (`DTS_TEST_ENV_DIR`).
pub fn env_dir() -> PathBuf {
    PathBuf::from(var("DTS_TEST_ENV_DIR"))
}

/// The directory of the TLS server's certificates (`DTS_TEST_TLS_CERT_DIR`).
pub fn tls_cert_dir() -> PathBuf {
    PathBuf::from(var("DTS_TEST_TLS_CERT_DIR"))
}

/// Host and port of a `mysql://` URL.
pub fn host_port(url: &str) -> (String, u16) {
    let opts = mysql_async::Opts::from_url(url).unwrap_or_else(|e| panic!("{url}: {e}"));
    (opts.ip_or_hostname().to_string(), opts.tcp_port())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_port_reads_the_url() {
        assert_eq!(
            host_port("mysql://root@127.0.0.1:33061"),
            ("127.0.0.1".to_string(), 33061)
        );
    }

    #[test]
    #[should_panic(expected = "DTS_TEST_KIT_NEVER_SET is not set")]
    fn a_missing_variable_names_itself() {
        var("DTS_TEST_KIT_NEVER_SET");
    }
}
