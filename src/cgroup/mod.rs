//! Cgroups: the host's layout (v1, v2, hybrid) and typed reads of one container's cgroup.

pub mod stats;

pub use stats::CgroupStats;
