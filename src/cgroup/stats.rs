//! What one read of a container's cgroup yields, independent of cgroup version.
//!
//! Every field is optional: a controller that is not mounted, or a file this kernel does not
//! have, gives `None`, never a made-up `0`.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// A limit that may be absent (`max` on v2, 9223372036854771712 on v1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Limit {
    /// No limit is set.
    Max,
    /// A limit in the file's unit (bytes for memory, a count for pids).
    Value(u64),
}

impl Limit {
    /// The limit's value, `None` when unlimited.
    pub fn value(self) -> Option<u64> {
        match self {
            Limit::Max => None,
            Limit::Value(v) => Some(v),
        }
    }
}

/// CPU time and throttling.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CpuStats {
    /// Total CPU time in ns (v2 `usage_usec` x 1000, v1 `cpuacct.usage`).
    pub usage_ns: Option<u64>,
    /// User CPU time in ns.
    pub user_ns: Option<u64>,
    /// System CPU time in ns.
    pub system_ns: Option<u64>,
    /// Enforcement periods elapsed (only with the cpu controller).
    pub nr_periods: Option<u64>,
    /// Periods in which the group was throttled.
    pub nr_throttled: Option<u64>,
    /// Time throttled, in ns.
    pub throttled_ns: Option<u64>,
    /// The CFS quota per period in microseconds (v2 `cpu.max`, v1 `cpu.cfs_quota_us`).
    pub quota_us: Option<Limit>,
    /// The CFS period in microseconds (v2 `cpu.max`, v1 `cpu.cfs_period_us`).
    pub period_us: Option<u64>,
}

impl CpuStats {
    /// The quota in cores (quota / period): `None` when unlimited or unknown.
    pub fn limit_cores(&self) -> Option<f64> {
        let quota = self.quota_us?.value()?;
        let period = self.period_us.filter(|p| *p > 0)?;
        Some(quota as f64 / period as f64)
    }
}

/// Memory usage, limit and the kernel's breakdown.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct MemoryStats {
    /// v1 `memory.usage_in_bytes`, v2 `memory.current`.
    pub usage_bytes: Option<u64>,
    /// v1 `memory.limit_in_bytes`, v2 `memory.max`.
    pub limit: Option<Limit>,
    /// The whole `memory.stat`, key by key, as the kernel wrote it.
    pub stat: BTreeMap<String, u64>,
    /// OOM kills (v2 `memory.events` `oom_kill`, v1 `memory.oom_control` `oom_kill`).
    pub oom_kills: Option<u64>,
    /// Times the usage hit the limit (v2 `memory.events` `max`, v1 `memory.failcnt`).
    pub limit_hits: Option<u64>,
    /// Times reclaim ran below the `memory.low` protection (v2 `memory.events` `low`).
    pub low_events: Option<u64>,
    /// Times the usage passed `memory.high` and was throttled (v2 `memory.events` `high`).
    pub high_events: Option<u64>,
    /// Times the usage was about to pass the limit with reclaim failing, i.e. the OOM
    /// killer was invoked (v2 `memory.events` `oom`).
    pub oom_events: Option<u64>,
    /// Swap in use, bytes (v2 `memory.swap.current`, v1 `memory.stat` `total_swap`; only
    /// with swap accounting).
    pub swap_bytes: Option<u64>,
}

impl PressureStats {
    /// True when no resource's pressure is known.
    pub fn is_empty(&self) -> bool {
        self.cpu.is_none() && self.memory.is_none() && self.io.is_none()
    }
}

impl MemoryStats {
    /// The inactive file cache (`inactive_file` on v2, `total_inactive_file` on v1).
    pub fn inactive_file(&self) -> Option<u64> {
        self.stat
            .get("total_inactive_file")
            .or_else(|| self.stat.get("inactive_file"))
            .copied()
    }

    /// Anonymous memory (v2 `anon`, v1 `total_rss`): what podman 4.x to 5.5 show on v2 as
    /// MemUsage; page cache and tmpfs are not in it.
    pub fn anon_bytes(&self) -> Option<u64> {
        self.stat
            .get("anon")
            .or_else(|| self.stat.get("total_rss"))
            .copied()
    }

    /// Usage minus inactive file cache, floored at 0 (podman 5.6+, docker, the kubelet).
    pub fn working_set_bytes(&self) -> Option<u64> {
        let usage = self.usage_bytes?;
        Some(usage.saturating_sub(self.inactive_file().unwrap_or(0)))
    }
}

/// Process counts.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PidsStats {
    /// `pids.current`.
    pub current: Option<u64>,
    /// `pids.max`.
    pub limit: Option<Limit>,
}

/// Block I/O summed over devices.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct IoStats {
    /// Bytes read (v2 `rbytes`, v1 `Read`).
    pub read_bytes: Option<u64>,
    /// Bytes written (v2 `wbytes`, v1 `Write`).
    pub write_bytes: Option<u64>,
    /// Read operations (v2 `rios`, v1 `blkio.throttle.io_serviced` `Read`).
    pub read_ops: Option<u64>,
    /// Write operations.
    pub write_ops: Option<u64>,
}

/// One PSI line (`some` or `full`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct PsiLine {
    /// Share of time stalled over 10 s, in percent.
    pub avg10: f64,
    /// Over 60 s.
    pub avg60: f64,
    /// Over 300 s.
    pub avg300: f64,
    /// Total stall time in microseconds.
    pub total_us: u64,
}

/// Pressure stall information of one resource.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct Psi {
    /// Some tasks stalled.
    pub some: PsiLine,
    /// All tasks stalled (absent for cpu on older kernels).
    pub full: Option<PsiLine>,
}

/// Pressure of cpu, memory and io, where the kernel provides it (v2, and the `unified`
/// hierarchy of a hybrid host).
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct PressureStats {
    /// `cpu.pressure`.
    pub cpu: Option<Psi>,
    /// `memory.pressure`.
    pub memory: Option<Psi>,
    /// `io.pressure`.
    pub io: Option<Psi>,
}

/// Everything one read of a container's cgroup yields.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct CgroupStats {
    /// CPU.
    pub cpu: CpuStats,
    /// Memory.
    pub memory: MemoryStats,
    /// Processes.
    pub pids: PidsStats,
    /// Block I/O.
    pub io: IoStats,
    /// Pressure stall information.
    pub pressure: PressureStats,
}
