//! Binlog capture: a replication connection that turns binlog events into committed
//! [`dts_core::Transaction`]s.

pub mod gtid;
pub mod guard;
pub mod loop_guard;
pub mod mariadb_events;
pub mod reader;
pub mod savepoint;
pub mod schema_cache;
pub mod sql_mode;
pub mod table_map;
pub mod versioning;
pub mod xa;

pub use loop_guard::LoopGuard;
pub use reader::{BinlogOptions, BinlogReader};
