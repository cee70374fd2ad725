//! # dts-mysql
//!
//! The MySQL-family connector of dts: a [`dts_core::Source`] that discovers tables, copies them
//! in key-range chunks without long-held locks, and captures committed transactions from the
//! binlog (MariaDB and MySQL GTIDs), plus the source precheck.
//!
//! ```no_run
//! # async fn demo() -> Result<(), dts_core::Error> {
//! use dts_core::Source;
//! use dts_mysql::{MysqlEndpoint, MysqlSource};
//!
//! let endpoint = MysqlEndpoint::from_url("source", "mysql://root@127.0.0.1:33061")?;
//! let source = MysqlSource::connect(endpoint, Default::default()).await?;
//! let start = source.current_position().await?; // record the position before any copy
//! let tables = source.discover().await?;
//! println!("{} tables, log at {start}", tables.len());
//! # Ok(()) }
//! ```
//!
//! Tested against MariaDB 10.11 (the project's test environment). MySQL 5.7/8.x paths (GTID
//! events, `SHOW BINARY LOG STATUS` on 8.2+, native JSON) are implemented by flavour detection
//! but not exercised by the test suite, since no MySQL server is available there.
#![warn(missing_docs)]

pub mod factory;
pub mod sink;
pub mod source;
pub mod two_way;
pub mod wire;

pub use factory::{build_mysql_task, MysqlSinkFactory, MysqlSourceFactory};
pub use sink::config::MysqlDestination;
pub use sink::{MysqlSink, SinkOptions};
pub use source::{MysqlSource, SourceOptions};
pub use wire::catalog::Scope;
pub use wire::conn::{MysqlEndpoint, ServerInfo};
