//! # libpod-stats
//!
//! Resource usage of podman (libpod) containers, read straight from cgroupfs with no podman
//! process or API in the loop.
//!
//! The pieces, in the order data flows through them:
//!
//! - [`host`]: every host path is opened through one [`host::HostRoot`], `/` on a live host or a
//!   captured snapshot directory, so the same code reads both.
//! - [`snapshot`]: the snapshot and series layout (`snapshot.json`, `000/`, `001/`, ...).
//! - [`libpod`]: container discovery from libpod's state and containers/storage.
//! - [`cgroup`]: the cgroup layout of a host and typed reads of a container's cgroup.
//! - [`stats`]: samples per container, the numbers `podman stats` shows and more.
//! - [`testing`]: synthetic hosts (snapshot directories) built from typed values, for tests
//!   and benchmarks.
//! - [`capture`] and [`replay`]: record a host in the snapshot layout, replay a series.
#![deny(missing_docs)]

pub mod capture;
pub mod cgroup;
pub mod host;
pub mod libpod;
pub mod parse;
pub mod replay;
pub mod snapshot;
pub mod stats;
pub mod testing;
