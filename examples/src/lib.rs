//! Shared helpers for the example programs.

pub mod two_way_policy;
