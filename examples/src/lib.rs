//! The `dts` program's library: task composition from a configuration ([`runner`]), the
//! management API a host can mount ([`api`]), the web console served beside it ([`console`]),
//! where the program keeps its state ([`state_dir`]), and helpers of the example programs.

pub mod api;
pub mod console;
pub mod runner;
pub mod state_dir;
pub mod two_way_policy;
