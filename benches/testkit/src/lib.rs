//! The shared kit of the dts test suites.
//!
//! Every crate's integration tests take from here what they all need, instead of a copy each:
//!
//! - [`env`]: the endpoints of the test environment (`eval "$(scripts/test-env.sh env)"`), with
//!   a panic naming the missing variable and how to set it;
//! - [`scratch`]: names unique to a test ([`unique_name`], [`unique_topic`]) and scratch
//!   databases dropped when the test ends ([`ScratchDatabase`]);
//! - [`mysql`]: root connections to the test servers and statement runners;
//! - [`wait`]: [`eventually`], polling a condition until it holds, never a fixed sleep;
//! - [`stage`]: waits on a task's stages that fail at once with the task's failure
//!   ([`wait_stage`], [`wait_incremental`], [`wait_for`]);
//! - [`changes`]: a small keyed table and the transactions, row changes and checkpoints the
//!   sink tests build over it;
//! - [`conformance`]: one suite every [`dts_core::Sink`] passes (idempotent replay, the
//!   checkpoint committed with its batch, key-changing updates, a crash between a batch and its
//!   checkpoint), run by each connector crate against its own destination.
//!
//! The kit depends on `dts-core` alone among the dts crates, so a connector crate's tests use it
//! without a second copy of that connector's types.

pub mod changes;
pub mod conformance;
pub mod env;
pub mod mysql;
pub mod scratch;
pub mod stage;
pub mod wait;

pub use scratch::{unique_name, unique_topic, ScratchDatabase};
pub use stage::{
    try_wait_incremental, wait_checkpoint, wait_for, wait_for_every, wait_incremental, wait_stage,
};
pub use wait::{eventually, try_eventually, try_eventually_every, POLL_INTERVAL};
