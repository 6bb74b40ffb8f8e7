//! One container's numbers from one read cycle: what the CLI prints and the plugin dispatches.

use serde::{Deserialize, Serialize};

use crate::libpod::model::ContainerState;

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
    /// Processes in the cgroup.
    pub pids: Option<u64>,
    /// Bytes read from block devices.
    pub block_read_bytes: Option<u64>,
    /// Bytes written to block devices.
    pub block_write_bytes: Option<u64>,
    /// Bytes received on non-loopback interfaces of the container's own netns.
    pub net_rx_bytes: Option<u64>,
    /// Bytes sent on non-loopback interfaces of the container's own netns.
    pub net_tx_bytes: Option<u64>,
    /// The container's network namespace as the kernel names it (`net:[4026532281]`), when
    /// readable: pod members share one, so pod totals count its traffic once.
    pub net_namespace: Option<String>,
    /// OOM kills in the cgroup.
    pub oom_kills: Option<u64>,
}
