//! Binlog capture: a replication connection that turns binlog events into committed
//! [`dts_core::Transaction`]s.

pub(crate) mod gtid;
pub mod guard;
pub mod loop_guard;
pub(crate) mod mariadb_events;
pub(crate) mod reader;
pub(crate) mod savepoint;
pub(crate) mod schema_cache;
pub(crate) mod sql_mode;
pub mod table_map;
pub(crate) mod versioning;
pub(crate) mod xa;

pub use loop_guard::LoopGuard;
pub use reader::{BinlogOptions, BinlogReader};
