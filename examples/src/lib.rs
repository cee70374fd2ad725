//! The `dts` program's library: task composition from a configuration ([`runner`]), the
//! management API a host can mount ([`api`]), the web console served beside it ([`console`]),
//! where the program keeps its state ([`state_dir`]), the metrics it adds to the engine's
//! ([`task_metrics`]), what its progress display shows
//! ([`progress_view`]), and helpers of the example programs.

pub mod api;
pub mod console;
pub mod progress_view;
pub mod runner;
pub mod state_dir;
pub mod task_metrics;
pub mod two_way_policy;

/// The examples of the crate READMEs, compiled and run as doctests of this crate (which
/// depends on every crate of the workspace): `cargo test -p dts-examples --doc`.
#[cfg(doctest)]
pub mod readme_examples {
    #[doc = include_str!("../../dts-core/README.md")]
    pub struct DtsCore;
    #[doc = include_str!("../../dts-mysql/README.md")]
    pub struct DtsMysql;
    #[doc = include_str!("../../dts-kafka/README.md")]
    pub struct DtsKafka;
    #[doc = include_str!("../../dts-adb/README.md")]
    pub struct DtsAdb;
}
