//! # libpodstats: the collectd plugin
//!
//! collectd loads `libpodstats.so` (`LoadPlugin libpodstats`); every interval the plugin reads
//! each podman container's numbers with the `libpod-stats` library and dispatches them as
//! value lists. The pieces:
//!
//! - [`config`]: the `<Plugin libpodstats>` block, parsed and validated.
//! - [`identifier`]: plugin instances collectd accepts and no two containers share.
//! - [`metrics`]: which value lists a sample becomes.
#![deny(missing_docs)]

pub mod config;
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
