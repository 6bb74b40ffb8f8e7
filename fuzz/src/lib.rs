//! Fuzz entry points for libpod-stats and its collectd plugin.
//!
//! [`entries`] drives the library's readers (shared with `tests/fuzz_regressions.rs`);
//! [`plugin_config`] drives the plugin's `<Plugin libpodstats>` parser. The binaries in
//! `fuzz_targets/` are one line each: they hand libFuzzer's bytes to one entry point.
#![deny(missing_docs)]

pub mod entries;
pub mod plugin_config;
