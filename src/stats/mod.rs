//! Per-container samples: the numbers `podman stats` shows, and more.
//!
//! - [`collector`]: one read cycle over every container, with rates between cycles.
//! - [`clock`]: the live clocks and CPU count.
//! - [`metric_groups`]: which groups of metrics a cycle reads, and the files they need.
//! - [`metrics`]: the arithmetic of each derived number (percentages, limit clamp, working set).
//! - [`cpu_rate`]: CPU percent between two readings of one container instance.
//! - [`state_watch`]: has libpod's state changed since discovery (allocation-free).
//! - [`pod`]: pod totals over member samples; the pod's own cgroup gives its limits and
//!   pressure (`pod_cgroup`).
//! - [`problem`]: what went wrong with one container in a cycle.

pub(crate) mod clock;
pub(crate) mod collector;
pub(crate) mod cpu_rate;
pub(crate) mod metric_groups;
pub(crate) mod metrics;
pub(crate) mod pod;
pub(crate) mod pod_cgroup;
pub(crate) mod problem;
pub(crate) mod sample;
#[cfg_attr(not(feature = "internals"), allow(unreachable_pub, dead_code))]
pub mod state_watch;

pub use pod::PodSample;
pub use problem::{ContainerProblem, ProblemCause};
pub use sample::{MemoryEvents, NetCounters, Sample};
