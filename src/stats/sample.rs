//! One container's numbers from one read cycle: what the CLI prints and the plugin dispatches.

use serde::{Deserialize, Serialize};

use crate::cgroup::stats::PressureStats;
use crate::libpod::health::HealthStatus;
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

/// The `net/dev` counters of non-loopback interfaces, summed; each `None` when unknown.
///
/// One type for a container's and a pod's traffic, flattened into their JSON as `net_rx_bytes`
/// ... `net_tx_dropped`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct NetCounters {
    /// Bytes received.
    #[serde(rename = "net_rx_bytes")]
    pub rx_bytes: Option<u64>,
    /// Bytes sent.
    #[serde(rename = "net_tx_bytes")]
    pub tx_bytes: Option<u64>,
    /// Packets received.
    #[serde(rename = "net_rx_packets")]
    pub rx_packets: Option<u64>,
    /// Packets sent.
    #[serde(rename = "net_tx_packets")]
    pub tx_packets: Option<u64>,
    /// Receive errors.
    #[serde(rename = "net_rx_errors")]
    pub rx_errors: Option<u64>,
    /// Transmit errors.
    #[serde(rename = "net_tx_errors")]
    pub tx_errors: Option<u64>,
    /// Received packets dropped.
    #[serde(rename = "net_rx_dropped")]
    pub rx_dropped: Option<u64>,
    /// Outgoing packets dropped.
    #[serde(rename = "net_tx_dropped")]
    pub tx_dropped: Option<u64>,
}

impl NetCounters {
    /// Every counter known and 0: the start of a sum.
    pub const ZERO: NetCounters = NetCounters {
        rx_bytes: Some(0),
        tx_bytes: Some(0),
        rx_packets: Some(0),
        tx_packets: Some(0),
        rx_errors: Some(0),
        tx_errors: Some(0),
        rx_dropped: Some(0),
        tx_dropped: Some(0),
    };

    /// Adds `other` counter by counter (saturating); a counter becomes `None` once either
    /// side lacks it, since a partial sum would look like a real, smaller number.
    pub fn add(&mut self, other: &NetCounters) {
        let sum = |a: Option<u64>, b: Option<u64>| Some(a?.saturating_add(b?));
        *self = NetCounters {
            rx_bytes: sum(self.rx_bytes, other.rx_bytes),
            tx_bytes: sum(self.tx_bytes, other.tx_bytes),
            rx_packets: sum(self.rx_packets, other.rx_packets),
            tx_packets: sum(self.tx_packets, other.tx_packets),
            rx_errors: sum(self.rx_errors, other.rx_errors),
            tx_errors: sum(self.tx_errors, other.tx_errors),
            rx_dropped: sum(self.rx_dropped, other.rx_dropped),
            tx_dropped: sum(self.tx_dropped, other.tx_dropped),
        };
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
    /// The health check's status, podman's string (`healthy`, `unhealthy`, `starting`,
    /// `stopped`, `reset`; `unknown` for anything else); `None` when the container has no
    /// health check or its health log cannot be read.
    pub health: Option<HealthStatus>,
    /// The same as a number an alert compares: 0 healthy, 1 unhealthy, 2 starting,
    /// 3 stopped, 4 reset, 5 unknown ([`HealthStatus::code`]).
    pub health_code: Option<u8>,
    /// Consecutive failed health checks (the log's `FailingStreak`).
    pub health_failing_streak: Option<u64>,
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
    /// Traffic counters of the container's own netns (JSON keys `net_rx_bytes` ...
    /// `net_tx_dropped`, flattened into the sample).
    #[serde(flatten)]
    pub net: NetCounters,
    /// The container's network namespace as the kernel names it (`net:[4026532281]`), when
    /// readable: pod members share one, so pod totals count its traffic once.
    pub net_namespace: Option<String>,
    /// OOM kills in the cgroup.
    pub oom_kills: Option<u64>,
    /// Pressure stall information of cpu, memory and io (v2, or a hybrid host's `unified`
    /// hierarchy); `None` when the kernel gives none for this cgroup.
    pub pressure: Option<PressureStats>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn net_counters_are_flat_json_keys_and_read_back() {
        let sample = Sample {
            net: NetCounters {
                rx_bytes: Some(1),
                tx_dropped: Some(8),
                ..NetCounters::default()
            },
            oom_kills: Some(0),
            ..Sample::default()
        };
        let json = serde_json::to_value(&sample).unwrap();
        assert_eq!(
            (
                json["net_rx_bytes"].as_u64(),
                json["net_tx_dropped"].as_u64()
            ),
            (Some(1), Some(8))
        );
        assert!(
            json["net_rx_packets"].is_null() && json.get("net").is_none(),
            "{json}"
        );
        let back: Sample = serde_json::from_value(json).unwrap();
        assert_eq!(back, sample);
    }

    #[test]
    fn a_sum_lacks_a_counter_once_either_side_does() {
        let mut sum = NetCounters::ZERO;
        sum.add(&NetCounters {
            rx_bytes: Some(u64::MAX),
            tx_bytes: Some(2),
            ..NetCounters::default()
        });
        sum.add(&NetCounters {
            rx_bytes: Some(1),
            ..NetCounters::ZERO
        });
        assert_eq!(
            (sum.rx_bytes, sum.tx_bytes, sum.rx_packets),
            (Some(u64::MAX), Some(2), None)
        );
    }
}
