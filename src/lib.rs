//! # libpod-stats
//!
//! Resource usage of podman (libpod) containers, read straight from cgroupfs with no podman
//! process or API in the loop. The same library is behind three front ends: the
//! `libpod-stats` command (`ps`, `stats`, `capture`, `replay`), the collectd plugin
//! `libpodstats.so` (the `plugin/` crate of this workspace), and the `libpod-stats-testing` crate, for people who
//! test container-metrics code against captured hosts instead of real ones.
//!
//! ## How data flows
//!
//! ```text
//!  HostRoot ("/" live, or a snapshot dir)          every file is read through it
//!     |
//!     |-- libpod::discover ----> Vec<Container>     who runs, where its cgroup is
//!     |     (libpod's BoltDB/SQLite state, containers.json, /proc/<pid>/cgroup)
//!     |
//!     |-- cgroup::CgroupReader -> CgroupStats       one cgroup's counters, any layout
//!     |     (mountinfo -> CgroupLayout v1 / v2 / hybrid; parse:: turns bytes into numbers)
//!     |
//!     '-- stats::collector::Collector               discovery (cached) + reads + rates
//!           -> Vec<Sample> per cycle, pod::PodSample totals
//!                 -> CLI table / JSON, collectd value lists, insta snapshots
//! ```
//!
//! - [`host`]: every host path is opened through one [`host::HostRoot`], `/` on a live host or a
//!   captured snapshot directory, so the same code reads both and nothing escapes the root.
//! - [`parse`]: zero-copy parsers (nom) of every file format read: cgroup files,
//!   `/proc/self/mountinfo`, `/proc/<pid>/cgroup`, `/proc/meminfo`, `/proc/<pid>/net/dev`.
//! - [`libpod`]: container discovery from what podman itself records: its stores, its
//!   database (BoltDB read by our own reader, or SQLite), containers/storage's lists, each
//!   running container's real cgroup.
//! - [`cgroup`]: the cgroup layout of a host and typed reads of a container's cgroup
//!   ([`cgroup::CgroupReader`]), or its files held open for cheap re-reads.
//! - [`stats`]: the [`stats::collector::Collector`] (one read cycle per call, CPU percent
//!   between cycles, allocation-free in a steady state), the [`stats::Sample`] it fills, pod
//!   totals.
//! - [`snapshot`], [`capture`] and [`replay`]: the on-disk layout of a captured host
//!   (`snapshot.json`, a series `000/`, `001/`, ...), recording one (redacted, allow-listed
//!   files only) and running the collector over a series.
//!
//! Absent data is `None` (JSON `null`), never a made-up 0; errors name the file and the
//! cause.
//!
//! ## Quick start
//!
//! One read cycle over a snapshot bundled with the repository (captured from real podman
//! 4.3.1); on a live host use [`host::HostRoot::live`] and
//! [`stats::collector::Timestamp::now`]:
//!
//! ```
//! use libpod_stats::host::HostRoot;
//! use libpod_stats::stats::collector::{Collector, CollectorOptions, Timestamp};
//!
//! let root = HostRoot::new(concat!(
//!     env!("CARGO_MANIFEST_DIR"),
//!     "/fixtures/cgroupv1/series-podman/002"
//! ))?;
//! let at = Timestamp::at(root.snapshot_meta()?.unwrap().taken_at_ns);
//! let mut collector = Collector::new(root, CollectorOptions::default())?;
//! let mut samples = Vec::new();
//! collector.collect(at, &mut samples)?;
//! for s in &samples {
//!     println!("{} {:?} ns cpu, {:?} bytes", s.name, s.cpu_ns, s.memory_bytes);
//! }
//! assert_eq!(samples.len(), 2);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! For tests over captured hosts, start at the `libpod-stats-testing` crate.
#![deny(missing_docs)]

pub mod capture;
pub mod cgroup;
pub mod host;
pub mod libpod;
pub mod parse;
pub mod replay;
pub mod snapshot;
pub mod stats;
