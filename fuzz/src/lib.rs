//! Fuzz entry points for libpod-stats and its collectd plugin.
//!
//! [`entries`] drives the library's readers (in the workspace's test-support crate, shared
//! with the core's `fuzz_regressions` tests);
//! [`plugin_config`] drives the plugin's `<Plugin libpodstats>` parser. The binaries in
//! `fuzz_targets/` are one line each: they hand libFuzzer's bytes to one entry point.
#![deny(missing_docs)]

pub use libpod_stats_test_support::fuzz_entries as entries;
pub mod plugin_config;
