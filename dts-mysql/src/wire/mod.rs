//! The MySQL wire layer: what every connector speaking the MySQL protocol shares, whichever
//! side it is on. Connections and server flavour ([`conn`]), TLS ([`tls`]), identifier quoting
//! ([`ident`]), value encoding and decoding ([`encode`], [`decode`], [`rows`]), session setup
//! ([`session`]), catalog reads ([`catalog`]), the connectivity check ([`precheck`]), key
//! predicates in SQL ([`predicate`]) and the verification reader ([`verify`]).
//!
//! This module is the only part of `dts-mysql` another connector uses: the AnalyticDB
//! connector (`dts-adb`) speaks the same protocol and dialect, so it connects, quotes, binds and
//! reads through these pieces and builds nothing of its own from the MySQL source or sink.

pub mod catalog;
pub mod conn;
pub mod decode;
pub mod encode;
pub mod ident;
pub mod precheck;
pub mod predicate;
pub mod rows;
pub mod session;
pub mod tls;
pub mod verify;

pub use conn::{MysqlEndpoint, ServerInfo};
