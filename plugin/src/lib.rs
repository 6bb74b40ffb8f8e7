//! # libpodstats: the collectd plugin
//!
//! collectd loads `libpodstats.so` (`LoadPlugin libpodstats`); every interval the plugin reads
//! each podman container's numbers with the `libpod-stats` library and dispatches them as
//! value lists. Data flows like this:
//!
//! ```text
//! collectd read callback (entry, via the collectd-plugin crate)
//!   -> reader::Reader::read_catching_panics      one interval, panics caught
//!        -> source::{Live, Replay}                the library's Collector: samples + problems
//!        -> config::PluginConfig::selects         Include / Exclude
//!        -> identifier::InstanceCache             valid, unique plugin instances
//!        -> metrics::{container_lists, pod_lists} types, type instances, values
//!        -> problems::ProblemLog                  each problem logged once
//!   -> dispatch::dispatch                         plugin_dispatch_values
//! ```
//!
//! - [`config`]: the `<Plugin libpodstats>` block, parsed and validated.
//! - [`dispatch`]: a value list built on the stack, without meta data, handed to collectd.
//! - [`identifier`]: plugin instances collectd accepts and no two containers share.
//! - [`metrics`]: which value lists a sample becomes.
//! - [`problems`]: what was already logged, so nothing is logged every interval.
//! - [`reader`]: one interval, apart from collectd's C interface (testable with closures).
//! - [`source`]: the live host or a replayed series, through the library's collector.
//!
//! The crate is named `podstats` so that its cdylib is `libpodstats.so`, the file name
//! `LoadPlugin libpodstats` looks for.
#![deny(missing_docs)]

pub mod config;
pub mod dispatch;
pub mod identifier;
pub mod metrics;
pub mod problems;
pub mod reader;
pub mod source;

mod entry;

pub use entry::LibpodStats;

/// The C symbols collectd looks up (`module_register` and the callbacks it registers).
#[allow(missing_docs)]
mod ffi {
    collectd_plugin::collectd_plugin!(super::LibpodStats);
}
