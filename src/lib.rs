//! # libpod-stats
//!
//! Resource usage of podman (libpod) containers, read straight from cgroupfs with no podman
//! process or API in the loop. The same library is behind three front ends, each a crate of
//! its own: the `libpod-stats` command (crate `libpod-stats-cli`: `ps`, `stats`, `capture`,
//! `replay`), the collectd plugin `libpodstats.so`, and `libpod-stats-testing`, for people who
//! test container-metrics code against captured hosts instead of real ones.
//!
//! ## How data flows
//!
//! ```text
//!  HostRoot ("/" live, or a snapshot dir)          every file is read through it
//!     |
//!     |-- discover ------------> DiscoveryReport   who runs (Container), where its cgroup is
//!     |     (libpod's BoltDB/SQLite state, containers.json, /proc/<pid>/cgroup)
//!     |
//!     |-- CgroupReader --------> CgroupStats       one cgroup's counters, any layout
//!     |     (mountinfo -> CgroupLayout v1 / v2 / hybrid; zero-copy parsers of every file)
//!     |
//!     '-- Collector -----------> Vec<Sample>       discovery (cached) + reads + rates,
//!           + CycleReport, pod_samples -> PodSample    one cycle per call
//!                 -> CLI table / JSON, collectd value lists, insta snapshots
//! ```
//!
//! Everything a user needs is a name at this crate's root; the modules behind it are
//! private:
//!
//! - The host: [`HostRoot`] opens every host path, `/` on a live host or a captured snapshot
//!   directory, so the same code reads both and nothing escapes the root ([`HostError`]).
//! - Cgroups: [`CgroupReader`] reads one container's cgroup on any layout into
//!   [`CgroupStats`] (pressure as [`PressureStats`]/[`Psi`]/[`PsiLine`]), or holds its files
//!   open ([`OpenCgroup`]) for cheap re-reads; [`CgroupError`].
//! - Discovery: [`discover`] finds containers from what podman itself records (its stores,
//!   its database, containers/storage's lists, each running container's real cgroup):
//!   [`DiscoveryOptions`] in, [`DiscoveryReport`] out, with each [`Container`]
//!   ([`ContainerId`], [`ContainerState`], [`Source`], [`CgroupPath`], [`CgroupManager`]);
//!   [`fill_health`] adds each one's [`HealthStatus`] from podman's health log
//!   ([`HealthLogError`]); [`ContainerFilter`] is `podman ps --filter`; [`DiscoveryError`],
//!   [`StateError`], [`RecordError`], [`InvalidId`], [`InvalidCgroupPath`].
//! - The collector: [`Collector`] runs one read cycle per call over every container
//!   ([`CollectorOptions`], [`MetricGroups`], [`FirstCpuPercent`], at a [`Timestamp`]), CPU
//!   percent between cycles, allocation-free in a steady state; it fills [`Sample`]s
//!   ([`NetCounters`], [`MemoryEvents`]) and returns a [`CycleReport`] whose problems are
//!   [`ContainerProblem`]s ([`ProblemCause`]); [`CollectError`]. [`pod_samples`] gives the
//!   [`PodSample`] totals; [`memory_percent`] is MEM % (usage over the limit).
//! - Capture and replay: [`capture_snapshot`] and [`capture_series`] record a host
//!   (redacted, allow-listed files only; [`CaptureOptions`], [`CaptureSummary`],
//!   [`CaptureError`]) in the layout of [`SnapshotMeta`] (`snapshot.json`; a series `000/`,
//!   `001/`, ... named by [`series_step_name`], listed by [`replay_steps`]); [`replay`] runs
//!   the collector over a series ([`ReplayStep`], [`ReplayError`], [`SnapshotError`]).
//! - Podman's own records, for synthetic hosts: [`RawState`] ([`RawContainer`], [`RawPod`],
//!   [`RuntimeConfig`]) written by [`write_state`] as podman writes its database
//!   ([`StateFormat`]).
//!
//! Absent data is `None` (JSON `null`), never a made-up 0; errors name the file and the
//! cause.
//!
//! ## Quick start
//!
//! One read cycle over a snapshot bundled with the repository (captured from real podman
//! 4.3.1); on a live host use [`HostRoot::live`] and [`Timestamp::now`]:
//!
//! ```
//! use libpod_stats::{Collector, CollectorOptions, HostRoot, Timestamp};
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
//!
//! ## Internals
//!
//! The non-default feature `internals` adds a module `internals` (hidden from these docs) for
//! this workspace's fuzz targets, benches and integration tests, which exercise the parsers,
//! the BoltDB reader and writer and podman's record formats directly. It is not API: nothing
//! in it is stable, and no published crate enables it. The modules it opens allow
//! `unreachable_pub` and `dead_code` in a build without it (their `pub` items are reachable
//! with it); everywhere else a `pub` item is reachable from this root.
#![deny(missing_docs)]
#![warn(unreachable_pub)]

mod capture;
mod cgroup;
mod host;
mod libpod;
#[cfg_attr(not(feature = "internals"), allow(unreachable_pub, dead_code))]
mod parse;
mod replay;
#[cfg_attr(not(feature = "internals"), allow(unreachable_pub, dead_code))]
mod snapshot;
mod stats;

#[cfg(feature = "internals")]
#[doc(hidden)]
pub mod internals;

// The host.
pub use host::{HostError, HostRoot};

// Cgroups.
pub use cgroup::stats::{PressureStats, Psi, PsiLine};
pub use cgroup::{
    CgroupError, CgroupPath, CgroupReader, CgroupStats, InvalidCgroupPath, OpenCgroup,
};

// Discovery.
pub use libpod::discover::{discover, DiscoveryError, DiscoveryOptions, DiscoveryReport};
pub use libpod::filter::{parse_label, ContainerFilter};
pub use libpod::health::fill as fill_health;
pub use libpod::health::{HealthLogError, HealthStatus};
pub use libpod::interpret::RecordError;
pub use libpod::model::CgroupManager;
pub use libpod::{Container, ContainerId, ContainerState, InvalidId, Source, StateError};

// The collector and its samples.
pub use stats::clock::Timestamp;
pub use stats::collector::{
    CollectError, Collector, CollectorOptions, CycleReport, FirstCpuPercent,
};
pub use stats::metric_groups::MetricGroups;
pub use stats::metrics::memory_percent;
pub use stats::pod::pod_samples;
pub use stats::{ContainerProblem, MemoryEvents, NetCounters, PodSample, ProblemCause, Sample};

// Capture and replay.
pub use capture::{capture_series, capture_snapshot, CaptureError, CaptureOptions, CaptureSummary};
pub use replay::{replay, replay_steps, ReplayError, ReplayStep};
pub use snapshot::{series_step_name, SnapshotError, SnapshotMeta};

// Podman's own records, written as podman writes them (synthetic hosts).
pub use libpod::raw::{RawContainer, RawPod, RawState, RuntimeConfig};
pub use libpod::state_file::write_state;
pub use libpod::stores::StateFormat;
