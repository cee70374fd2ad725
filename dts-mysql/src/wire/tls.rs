//! TLS for every connection dts makes to a MySQL-family server (source discovery, snapshot and
//! binlog connections, destination pools, verification, precheck): the driver's [`SslOpts`]
//! built from a [`TlsConfig`], the `*.tls` precheck, and failure messages that say which TLS
//! setting to change.
//!
//! | `tls.mode` | encrypted | certificate signed by `ca_cert` | certificate names the host |
//! |---|---|---|---|
//! | `disabled` | no | — | — |
//! | `required` | yes | not checked | not checked |
//! | `verify_ca` | yes | checked | not checked |
//! | `verify_identity` | yes | checked | checked (DNS name or IP address in the SAN) |
//!
//! With a `ca_cert`, only that CA is trusted (the built-in web roots are not). A client
//! certificate (`client_cert` + `client_key`) is presented when configured, for accounts
//! created `REQUIRE X509`. Key material is only ever read by the driver from the configured
//! files; this module handles paths, never key bytes.
//!
//! `verify_ca` on the rustls driver: mysql_async 0.37's "skip the name check" switch no longer
//! recognises the name-mismatch error of current rustls versions, so a `verify_ca` connection to
//! a host its certificate does not name would be refused. `open` (below) works around it without
//! weakening the check: when the handshake fails *only* on the name (rustls checks the chain
//! against the CA first, so the chain was valid), it reconnects verifying the chain and one of
//! the names the certificate holds, learned from that error. The name is remembered for that
//! server and CA for the life of the process, so pools built after the first connection use it
//! directly.

use crate::wire::conn::MysqlEndpoint;
use dts_core::config::{TlsConfig, TlsMode};
use dts_core::CheckResult;
use mysql_async::prelude::Queryable;
use mysql_async::{ClientIdentity, Conn, SslOpts};
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Mutex, OnceLock};

/// Server (host, port) and CA file → a name the server's CA-verified certificate holds,
/// learned on a `verify_ca` connection (see the module documentation).
type LearnedNames = HashMap<(String, u16, Option<PathBuf>), String>;

fn learned_names() -> &'static Mutex<LearnedNames> {
    static NAMES: OnceLock<Mutex<LearnedNames>> = OnceLock::new();
    NAMES.get_or_init(Default::default)
}

fn name_key(endpoint: &MysqlEndpoint) -> (String, u16, Option<PathBuf>) {
    (
        endpoint.host.clone(),
        endpoint.port,
        endpoint.tls().ca_cert.clone(),
    )
}

/// The name to verify instead of the host for a `verify_ca` endpoint, once learned.
pub(crate) fn learned_name(endpoint: &MysqlEndpoint) -> Option<String> {
    if endpoint.tls().mode != TlsMode::VerifyCa {
        return None;
    }
    let names = learned_names().lock().ok()?;
    names.get(&name_key(endpoint)).cloned()
}

fn learn_name(endpoint: &MysqlEndpoint, name: String) {
    if let Ok(mut names) = learned_names().lock() {
        names.insert(name_key(endpoint), name);
    }
}

/// The driver's TLS options for `tls`, or `None` when TLS is disabled. `name_override` is the
/// name to verify instead of the host under `verify_ca` (see the module documentation).
pub(crate) fn ssl_opts(tls: &TlsConfig, name_override: Option<String>) -> Option<SslOpts> {
    if !tls.mode.is_enabled() {
        return None;
    }
    let mut ssl = SslOpts::default();
    if let Some(ca) = &tls.ca_cert {
        ssl = ssl
            .with_root_certs(vec![ca.clone().into()])
            .with_disable_built_in_roots(true);
    }
    if let (Some(cert), Some(key)) = (&tls.client_cert, &tls.client_key) {
        ssl = ssl.with_client_identity(Some(ClientIdentity::new(
            cert.clone().into(),
            key.clone().into(),
        )));
    }
    match tls.mode {
        TlsMode::Disabled | TlsMode::VerifyIdentity => {}
        TlsMode::Required => ssl = ssl.with_danger_accept_invalid_certs(true),
        TlsMode::VerifyCa => {
            ssl = ssl
                .with_danger_skip_domain_validation(true)
                .with_danger_tls_hostname_override(name_override);
        }
    }
    Some(ssl)
}

/// Opens one connection to `endpoint` with its TLS settings, keeping the driver's error (the
/// precheck classifies it itself). Under `verify_ca`, a handshake that failed only on the
/// certificate's name is retried once against a name the certificate holds.
pub(crate) async fn open(endpoint: &MysqlEndpoint) -> Result<Conn, mysql_async::Error> {
    match Conn::new(endpoint.opts(1)).await {
        Err(e) if endpoint.tls().mode == TlsMode::VerifyCa => {
            match certificate_names(&e).and_then(|names| names.into_iter().next()) {
                Some(name) => {
                    tracing::debug!(
                        endpoint = %endpoint.label,
                        certified_name = %name,
                        "verify_ca: the server certificate does not name the host; verifying it \
                         against a name it holds"
                    );
                    learn_name(endpoint, name);
                    Conn::new(endpoint.opts(1)).await
                }
                None => Err(e),
            }
        }
        other => other,
    }
}

/// The rustls error inside a driver error, if the failure was a TLS handshake.
fn rustls_error(e: &mysql_async::Error) -> Option<&rustls::Error> {
    match e {
        mysql_async::Error::Io(mysql_async::IoError::Io(io)) => {
            io.get_ref()?.downcast_ref::<rustls::Error>()
        }
        mysql_async::Error::Io(mysql_async::IoError::Tls(mysql_async::TlsError::Tls(t))) => Some(t),
        _ => None,
    }
}

/// Names usable as a TLS server name that a certificate holds, from a name-mismatch error (the
/// certificate's chain was verified before its names were compared). `None` for any other
/// error. Wildcard names yield a name they match.
fn certificate_names(e: &mysql_async::Error) -> Option<Vec<String>> {
    use rustls::CertificateError as C;
    let presented = match rustls_error(e)? {
        rustls::Error::InvalidCertificate(C::NotValidForNameContext { presented, .. }) => presented,
        _ => return None,
    };
    let names: Vec<String> = presented
        .iter()
        .filter_map(|p| parse_presented_name(p))
        .collect();
    (!names.is_empty()).then_some(names)
}

/// `DnsName("db.example")` → `db.example`, `IpAddress(10.0.0.1)` → `10.0.0.1` (rustls-webpki's
/// rendering of subject alternative names); wildcards become a name they match.
fn parse_presented_name(presented: &str) -> Option<String> {
    let name = if let Some(rest) = presented.strip_prefix("DnsName(\"") {
        rest.strip_suffix("\")")?.to_string()
    } else if let Some(rest) = presented.strip_prefix("IpAddress(") {
        rest.strip_suffix(')')?.to_string()
    } else {
        return None;
    };
    let name = match name.strip_prefix("*.") {
        Some(domain) => format!("dts-verify-ca.{domain}"),
        None => name,
    };
    rustls::pki_types::ServerName::try_from(name.as_str())
        .is_ok()
        .then_some(name)
}

/// When `e` is a TLS failure (or an access denial that TLS may explain), a message saying
/// what went wrong in TLS terms and which setting to change. Never contains key material or
/// the password.
pub(crate) fn describe_failure(endpoint: &MysqlEndpoint, e: &mysql_async::Error) -> Option<String> {
    if let Some(cause) = tls_cause(endpoint, e) {
        return Some(cause);
    }
    let (mysql_async::Error::Server(s), Some(advice)) = (e, access_hint(endpoint, e)) else {
        return None;
    };
    let over = if endpoint.tls().mode.is_enabled() {
        "over TLS without a client certificate"
    } else {
        "over an unencrypted connection"
    };
    Some(format!(
        "access denied for '{}' {over}; {advice} ({})",
        endpoint.user, s.message
    ))
}

/// For an access denial (error 1045), what TLS setting may be missing: an account created
/// `REQUIRE SSL` / `REQUIRE X509` refuses the right password without TLS or without a client
/// certificate, and the server does not say so. `None` for other errors.
pub(crate) fn access_hint(endpoint: &MysqlEndpoint, e: &mysql_async::Error) -> Option<String> {
    let mysql_async::Error::Server(s) = e else {
        return None;
    };
    let tls = endpoint.tls();
    if s.code != 1045 {
        None
    } else if !tls.mode.is_enabled() {
        Some(
            "if the account requires TLS (created REQUIRE SSL or REQUIRE X509), set tls.mode \
             (and tls.client_cert / tls.client_key for REQUIRE X509)"
                .to_string(),
        )
    } else if tls.client_cert.is_none() {
        Some(
            "if the account requires a client certificate (created REQUIRE X509, ISSUER or \
             SUBJECT), set tls.client_cert and tls.client_key"
                .to_string(),
        )
    } else {
        None
    }
}

/// When `e` is certainly a TLS failure (no TLS on the server, a rejected certificate, a failed
/// handshake, unreadable TLS files), what went wrong and which setting to change.
fn tls_cause(endpoint: &MysqlEndpoint, e: &mysql_async::Error) -> Option<String> {
    let tls = endpoint.tls();
    let ca = || {
        tls.ca_cert
            .as_ref()
            .map(|p| format!("`{}`", p.display()))
            .unwrap_or_else(|| "(none configured)".to_string())
    };
    if let mysql_async::Error::Driver(mysql_async::DriverError::NoClientSslFlagFromServer) = e {
        return Some(format!(
            "tls.mode is {} but the server at {} does not offer TLS; enable TLS on the server \
             (ssl_cert and ssl_key in its configuration) or set tls.mode = \"disabled\"",
            mode_name(tls.mode),
            endpoint.address()
        ));
    }
    if matches!(
        e,
        mysql_async::Error::Driver(mysql_async::DriverError::NoKeyFound)
    ) {
        return Some(format!(
            "tls.client_key {} holds no private key",
            tls.client_key
                .as_ref()
                .map(|p| format!("`{}`", p.display()))
                .unwrap_or_default()
        ));
    }
    if let mysql_async::Error::Io(mysql_async::IoError::Tls(t)) = e {
        return Some(format!(
            "TLS setup failed (tls.ca_cert {}, tls.client_cert/client_key): {t:?}",
            ca()
        ));
    }
    let rustls = rustls_error(e)?;
    use rustls::CertificateError as C;
    let what = match rustls {
        rustls::Error::InvalidCertificate(
            C::NotValidForName | C::NotValidForNameContext { .. },
        ) => {
            format!(
                "the server certificate (signed by the CA in tls.ca_cert) does not name host \
                 `{}`; connect by a name or address the certificate holds, or use tls.mode = \
                 \"verify_ca\" to check only the CA",
                endpoint.host
            )
        }
        rustls::Error::InvalidCertificate(C::UnknownIssuer | C::BadSignature) => format!(
            "the server certificate is not signed by the CA in tls.ca_cert {}",
            ca()
        ),
        rustls::Error::InvalidCertificate(C::Expired | C::ExpiredContext { .. }) => {
            "the server certificate has expired".to_string()
        }
        rustls::Error::InvalidCertificate(_) => format!(
            "the server certificate was rejected (tls.mode = {}, tls.ca_cert {})",
            mode_name(tls.mode),
            ca()
        ),
        rustls::Error::AlertReceived(_) => {
            "the server refused the TLS handshake (a client certificate it accepts may be \
             needed: tls.client_cert / tls.client_key)"
                .to_string()
        }
        _ => "the TLS handshake failed".to_string(),
    };
    Some(format!("{what}: {rustls}"))
}

fn mode_name(mode: TlsMode) -> &'static str {
    match mode {
        TlsMode::Disabled => "disabled",
        TlsMode::Required => "required",
        TlsMode::VerifyCa => "verify_ca",
        TlsMode::VerifyIdentity => "verify_identity",
    }
}

/// The precheck's TLS result for a connection that failed with `e`, if it certainly failed
/// in TLS: an error under the check `name` naming the endpoint and the setting to change.
/// (An access denial TLS may explain is left to the connectivity check, with
/// [`access_hint`] in its fix.)
pub(crate) fn failed_check(
    name: &str,
    endpoint: &MysqlEndpoint,
    e: &mysql_async::Error,
) -> Option<CheckResult> {
    let why = tls_cause(endpoint, e)?;
    Some(CheckResult::error(
        name,
        format!(
            "{} ({}) as user '{}': {why}",
            endpoint.label,
            endpoint.address(),
            endpoint.user
        ),
        "Fix the [*.tls] settings of this endpoint (mode, ca_cert, client_cert, client_key) or \
         the server's TLS setup (ssl_ca, ssl_cert, ssl_key), then rerun the precheck.",
    ))
}

/// The precheck's TLS result for an open connection: whether the session is encrypted
/// (`SHOW SESSION STATUS` `Ssl_cipher` / `Ssl_version`) and how the server was verified.
pub(crate) async fn check_session(
    name: &str,
    endpoint: &MysqlEndpoint,
    conn: &mut Conn,
) -> CheckResult {
    let who = format!("{} ({})", endpoint.label, endpoint.address());
    let rows: Vec<(String, String)> = match conn
        .query("SHOW SESSION STATUS WHERE Variable_name IN ('Ssl_cipher', 'Ssl_version')")
        .await
    {
        Ok(rows) => rows,
        Err(e) => {
            return CheckResult::error(
                name,
                format!("{who}: could not read Ssl_cipher (SHOW SESSION STATUS): {e}"),
                "Make sure the account can run SHOW SESSION STATUS, then rerun the precheck.",
            )
        }
    };
    let get = |n: &str| {
        rows.iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(n))
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    };
    let (cipher, version) = (get("Ssl_cipher"), get("Ssl_version"));
    let tls = endpoint.tls();
    match (tls.mode.is_enabled(), cipher.is_empty()) {
        (false, true) => {
            CheckResult::pass(name, format!("{who}: not encrypted (tls.mode = disabled)"))
        }
        (false, false) => {
            CheckResult::pass(name, format!("{who}: encrypted with {version} {cipher}"))
        }
        (true, true) => CheckResult::error(
            name,
            format!(
                "{who}: tls.mode is {} but the session is not encrypted (Ssl_cipher is empty)",
                mode_name(tls.mode)
            ),
            "Enable TLS on the server (ssl_cert, ssl_key) and connect over TCP, then rerun the \
             precheck.",
        ),
        (true, false) => {
            let verified = match tls.mode {
                TlsMode::Required => "server certificate not verified".to_string(),
                TlsMode::VerifyCa => match learned_name(endpoint) {
                    Some(n) => format!(
                        "server certificate signed by the CA in tls.ca_cert (it names `{n}`, not \
                         the host; not required under verify_ca)"
                    ),
                    None => "server certificate signed by the CA in tls.ca_cert".to_string(),
                },
                _ => format!(
                    "server certificate signed by the CA in tls.ca_cert and naming `{}`",
                    endpoint.host
                ),
            };
            let client = if tls.client_cert.is_some() {
                ", client certificate presented"
            } else {
                ""
            };
            CheckResult::pass(
                name,
                format!(
                    "{who}: encrypted with {version} {cipher} (tls.mode = {}: {verified}{client})",
                    mode_name(tls.mode)
                ),
            )
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn presented_names() {
        assert_eq!(
            parse_presented_name("DnsName(\"localhost\")").as_deref(),
            Some("localhost")
        );
        assert_eq!(
            parse_presented_name("IpAddress(127.0.0.1)").as_deref(),
            Some("127.0.0.1")
        );
        assert_eq!(
            parse_presented_name("DnsName(\"*.db.example\")").as_deref(),
            Some("dts-verify-ca.db.example")
        );
        assert_eq!(parse_presented_name("DirectoryName"), None);
        assert_eq!(parse_presented_name("DnsName(\"not a name\")"), None);
    }

    #[test]
    fn modes_map_to_driver_options() {
        assert!(ssl_opts(&TlsConfig::default(), None).is_none());
        let required = ssl_opts(
            &TlsConfig {
                mode: TlsMode::Required,
                ..TlsConfig::default()
            },
            None,
        )
        .unwrap();
        assert!(required.accept_invalid_certs());
        let ca = TlsConfig {
            mode: TlsMode::VerifyCa,
            ca_cert: Some("/ca.pem".into()),
            ..TlsConfig::default()
        };
        let verify_ca = ssl_opts(&ca, None).unwrap();
        assert!(!verify_ca.accept_invalid_certs());
        assert!(verify_ca.skip_domain_validation());
        assert!(verify_ca.disable_built_in_roots());
        assert_eq!(verify_ca.root_certs().len(), 1);
        assert_eq!(verify_ca.tls_hostname_override(), None);
        assert_eq!(
            ssl_opts(&ca, Some("localhost".into()))
                .unwrap()
                .tls_hostname_override(),
            Some("localhost")
        );
        let identity = ssl_opts(
            &TlsConfig {
                mode: TlsMode::VerifyIdentity,
                ca_cert: Some("/ca.pem".into()),
                client_cert: Some("/c.pem".into()),
                client_key: Some("/k.pem".into()),
            },
            Some("localhost".into()),
        )
        .unwrap();
        assert!(!identity.accept_invalid_certs());
        assert!(!identity.skip_domain_validation());
        assert_eq!(identity.tls_hostname_override(), None);
        assert!(identity.client_identity().is_some());
    }
}
