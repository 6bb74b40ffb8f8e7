//! One container's numbers from one read cycle: what the CLI prints and the plugin dispatches.

use serde::{Deserialize, Serialize};

use crate::cgroup::stats::PressureStats;
use crate::libpod::model::ContainerState;

/// Memory events of a cgroup: each a count since the cgroup was made, `None` where the
/// layout has no such counter (v1 has only `max` and `oom_kill`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct MemoryEvents {
    /// Reclaimed below `memory.low` (v2 `memory.events` `low`).
    pub low: Option<u64>,
    /// Throttled above `memory.high` (v2 `high`).
    pub high: Option<u64>,
    /// Usage reached the limit (v2 `max`, v1 `memory.failcnt`).
    pub max: Option<u64>,
    /// The OOM killer was invoked (v2 `oom`).
    pub oom: Option<u64>,
    /// Processes killed by the OOM killer (v2 `oom_kill`, v1 `memory.oom_control` `oom_kill`).
    pub oom_kill: Option<u64>,
}

impl MemoryEvents {
    /// True when no counter is known.
    pub fn is_empty(&self) -> bool {
        *self == MemoryEvents::default()
    }
}

/// One container's numbers at one moment. Absent data is `None` (JSON `null`), never `0`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Sample {
    /// 64-hex container id.
    pub id: String,
    /// Container name.
    pub name: String,
    /// Pod id, when in a pod.
    pub pod_id: Option<String>,
    /// Pod name, when in a pod.
    pub pod_name: Option<String>,
    /// Container state.
    pub state: Option<ContainerState>,
    /// The state as podman's number (`define.ContainerStatus`: 0 unknown, 1 created,
    /// 2 initialized, 3 running, 4 stopped, 5 paused, 6 exited, 7 removing, 8 stopping).
    pub state_code: Option<u8>,
    /// The last exit code podman recorded, for a container that has exited since its last
    /// start; `None` while it runs or when podman records none.
    pub exit_code: Option<i32>,
    /// How often podman restarted the container by its restart policy (`None` without a
    /// libpod record).
    pub restart_count: Option<u64>,
    /// Owner uid of the container's store (0 for root's; a rootless user's uid).
    pub uid: Option<u32>,
    /// The systemd unit that runs the container (the label `PODMAN_SYSTEMD_UNIT`, set by
    /// Quadlet and `podman generate systemd --new`); stable across the unit's restarts.
    pub systemd_unit: Option<String>,
    /// The cgroup read, relative to the controller root.
    pub cgroup: Option<String>,
    /// Total CPU time, ns.
    pub cpu_ns: Option<u64>,
    /// User CPU time, ns.
    pub cpu_user_ns: Option<u64>,
    /// System CPU time, ns.
    pub cpu_system_ns: Option<u64>,
    /// CPU use, 100 = one full core.
    pub cpu_percent: Option<f64>,
    /// CPU use divided by online CPUs (100 = the whole host).
    pub cpu_percent_normalized: Option<f64>,
    /// CFS enforcement periods elapsed (`cpu.stat` `nr_periods`; counts only under a quota).
    pub cpu_periods: Option<u64>,
    /// Periods in which the cgroup was throttled (`cpu.stat` `nr_throttled`).
    pub cpu_throttled_periods: Option<u64>,
    /// Time throttled, ns (v2 `throttled_usec` x 1000, v1 `throttled_time`).
    pub cpu_throttled_ns: Option<u64>,
    /// The CPU quota in cores (quota / period, `--cpus`); `None` when unlimited.
    pub cpu_limit_cores: Option<f64>,
    /// Memory usage as the kernel's limit sees it (v1 `memory.usage_in_bytes`, v2
    /// `memory.current`): page cache and tmpfs included.
    pub memory_bytes: Option<u64>,
    /// Usage minus inactive file cache, floored at 0 (podman 5.6+'s MemUsage on v2).
    pub memory_working_set_bytes: Option<u64>,
    /// Anonymous memory (v2 `memory.stat` `anon`, v1 `total_rss`; podman 4.x-5.5's MemUsage
    /// on v2); `None` when `memory.stat` lacks the key.
    pub memory_anon_bytes: Option<u64>,
    /// The memory limit, clamped to host MemTotal.
    pub memory_limit_bytes: Option<u64>,
    /// `memory_bytes / memory_limit_bytes x 100`.
    pub memory_percent: Option<f64>,
    /// Swap in use, bytes (v2 `memory.swap.current`, v1 `memory.stat` `total_swap`); `None`
    /// without swap accounting.
    pub memory_swap_bytes: Option<u64>,
    /// Memory events (`memory.events`; v1 `memory.failcnt` and `memory.oom_control`).
    pub memory_events: Option<MemoryEvents>,
    /// Processes in the cgroup.
    pub pids: Option<u64>,
    /// The process limit (`pids.max`); `None` when unlimited.
    pub pids_limit: Option<u64>,
    /// Bytes read from block devices.
    pub block_read_bytes: Option<u64>,
    /// Bytes written to block devices.
    pub block_write_bytes: Option<u64>,
    /// Bytes received on non-loopback interfaces of the container's own netns.
    pub net_rx_bytes: Option<u64>,
    /// Bytes sent on non-loopback interfaces of the container's own netns.
    pub net_tx_bytes: Option<u64>,
    /// Packets received (non-loopback, own netns).
    pub net_rx_packets: Option<u64>,
    /// Packets sent.
    pub net_tx_packets: Option<u64>,
    /// Receive errors.
    pub net_rx_errors: Option<u64>,
    /// Transmit errors.
    pub net_tx_errors: Option<u64>,
    /// Received packets dropped.
    pub net_rx_dropped: Option<u64>,
    /// Outgoing packets dropped.
    pub net_tx_dropped: Option<u64>,
    /// The container's network namespace as the kernel names it (`net:[4026532281]`), when
    /// readable: pod members share one, so pod totals count its traffic once.
    pub net_namespace: Option<String>,
    /// OOM kills in the cgroup.
    pub oom_kills: Option<u64>,
    /// Pressure stall information of cpu, memory and io (v2, or a hybrid host's `unified`
    /// hierarchy); `None` when the kernel gives none for this cgroup.
    pub pressure: Option<PressureStats>,
}
