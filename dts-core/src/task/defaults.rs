//! The defaults of a task, defined once: [`TaskOptions::default`](super::TaskOptions) and the
//! task configuration (`[advanced]`) both take them from here, so a task built in code and one
//! built from a task file behave alike.

use std::time::Duration;

/// Minutes a task retries a lost source or destination connection before it fails (the guide:
/// "The default retry duration is 720 minutes").
pub const CONNECTION_RETRY_MINUTES: u32 = 720;
/// Minutes a task retries other transient failures — deadlocks, lock waits, DDL or DML
/// execution errors — before it fails (the guide: "The default retry duration is 10 minutes").
pub const OTHER_RETRY_MINUTES: u32 = 10;
/// [`CONNECTION_RETRY_MINUTES`] as a duration.
pub const CONNECTION_RETRY: Duration = Duration::from_secs(CONNECTION_RETRY_MINUTES as u64 * 60);
/// [`OTHER_RETRY_MINUTES`] as a duration.
pub const OTHER_RETRY: Duration = Duration::from_secs(OTHER_RETRY_MINUTES as u64 * 60);
/// Whether incremental write writes a heartbeat row to the source every second, so latency is
/// measured while the source is idle (the guide's heartbeat option, on by default).
pub const WRITE_HEARTBEAT: bool = true;
