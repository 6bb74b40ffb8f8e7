//! Pod totals: the sums over a pod's containers, for people who watch pods, not members.
//!
//! Members of a pod share one network namespace, so their `net/dev` counters are the same
//! numbers read through each member: traffic is counted once per namespace, not once per
//! member. A total is `None` when any member's figure is absent, since a partial sum would
//! look like a real, smaller number.
//!
//! Only true counters and usages are summed. Limits (`cpu_limit_cores`, `pids_limit`, the
//! memory limit) and pressure are properties of one cgroup: a sum of the members' would be
//! no pod's figure. They come from the pod's own cgroup instead
//! ([`Collector::pod_samples`](crate::stats::collector::Collector::pod_samples)), and are
//! `None` in [`pod_samples`]' sums.

use serde::{Deserialize, Serialize};

use crate::cgroup::stats::PressureStats;
use crate::libpod::model::ContainerState;
use crate::stats::{MemoryEvents, NetCounters, Sample};

/// One pod's totals over its members in one read cycle.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct PodSample {
    /// The pod's id.
    pub pod_id: String,
    /// The pod's name, when known.
    pub pod_name: Option<String>,
    /// How many member samples the totals cover.
    pub containers: u32,
    /// Total CPU time of the members, ns.
    pub cpu_ns: Option<u64>,
    /// Sum of the members' CPU percent (100 = one core).
    pub cpu_percent: Option<f64>,
    /// Sum of the members' normalized CPU percent (100 = the whole host).
    pub cpu_percent_normalized: Option<f64>,
    /// Sum of the members' CFS periods (each member's own cgroup counts its own).
    pub cpu_periods: Option<u64>,
    /// Sum of the members' throttled periods.
    pub cpu_throttled_periods: Option<u64>,
    /// Sum of the members' throttled time, ns.
    pub cpu_throttled_ns: Option<u64>,
    /// The pod's own CPU quota in cores (its cgroup's `cpu.max` / `cpu.cfs_quota_us`,
    /// `podman pod create --cpus`); `None` when unlimited or the pod has no cgroup read.
    pub cpu_limit_cores: Option<f64>,
    /// Sum of the members' memory usage.
    pub memory_bytes: Option<u64>,
    /// Sum of the members' working sets.
    pub memory_working_set_bytes: Option<u64>,
    /// Sum of the members' anonymous memory.
    pub memory_anon_bytes: Option<u64>,
    /// The pod's own memory limit (its cgroup's, `--memory`), clamped to host MemTotal as a
    /// container's; `None` when the pod has no cgroup read.
    pub memory_limit_bytes: Option<u64>,
    /// Sum of the members' swap.
    pub memory_swap_bytes: Option<u64>,
    /// The members' memory events, each counter summed (`None` where any member lacks it).
    pub memory_events: Option<MemoryEvents>,
    /// Sum of the members' process counts.
    pub pids: Option<u64>,
    /// The pod's own process limit (its cgroup's `pids.max`); `None` when unlimited or the
    /// pod has no cgroup read.
    pub pids_limit: Option<u64>,
    /// Sum of the members' block reads.
    pub block_read_bytes: Option<u64>,
    /// Sum of the members' block writes.
    pub block_write_bytes: Option<u64>,
    /// Traffic, once per network namespace the members use (flattened: `net_rx_bytes` ...).
    #[serde(flatten)]
    pub net: NetCounters,
    /// Sum of the members' OOM kills.
    pub oom_kills: Option<u64>,
    /// Pressure stall information of the pod's own cgroup (all its members' stalls, each
    /// counted once); `None` without one or without pressure files.
    pub pressure: Option<PressureStats>,
}

/// A running total that turns `None` as soon as one member's figure is absent.
#[derive(Clone, Copy)]
struct Total<T>(Option<T>);

impl<T: std::ops::Add<Output = T> + Copy> Total<T> {
    fn add(&mut self, value: Option<T>) {
        self.0 = match (self.0, value) {
            (Some(a), Some(b)) => Some(a + b),
            _ => None,
        };
    }
}

/// The totals of every pod that has running (or paused) members in `samples`, sorted by pod
/// name (then id).
///
/// Samples of containers outside any pod are ignored, and so are members that do not run
/// (listed with `--all` or for their state): they have no figures to add.
pub fn pod_samples(samples: &[Sample]) -> Vec<PodSample> {
    let running: Vec<&Sample> = samples
        .iter()
        .filter(|s| s.state.is_none_or(ContainerState::has_cgroup))
        .collect();
    let samples = running.as_slice();
    let mut pod_ids: Vec<&str> = samples.iter().filter_map(|s| s.pod_id.as_deref()).collect();
    pod_ids.sort_unstable();
    pod_ids.dedup();
    let mut pods: Vec<PodSample> = pod_ids
        .into_iter()
        .map(|pod_id| {
            let members = samples
                .iter()
                .copied()
                .filter(|s| s.pod_id.as_deref() == Some(pod_id));
            aggregate(pod_id, members)
        })
        .collect();
    pods.sort_by(|a, b| (&a.pod_name, &a.pod_id).cmp(&(&b.pod_name, &b.pod_id)));
    pods
}

/// The totals of one pod over the given member samples.
pub(crate) fn aggregate<'a>(
    pod_id: &str,
    members: impl IntoIterator<Item = &'a Sample>,
) -> PodSample {
    let mut pod_name = None;
    let mut count = 0u32;
    let mut cpu_ns = Total(Some(0u64));
    let mut cpu_percent = Total(Some(0f64));
    let mut cpu_percent_normalized = Total(Some(0f64));
    let mut memory_bytes = Total(Some(0u64));
    let mut working_set = Total(Some(0u64));
    let mut anon = Total(Some(0u64));
    let mut pids = Total(Some(0u64));
    let mut block_read = Total(Some(0u64));
    let mut block_write = Total(Some(0u64));
    let mut oom_kills = Total(Some(0u64));
    let mut cpu_periods = Total(Some(0u64));
    let mut cpu_throttled_periods = Total(Some(0u64));
    let mut cpu_throttled_ns = Total(Some(0u64));
    let mut swap = Total(Some(0u64));
    let mut events = [Total(Some(0u64)); 5];
    let mut any_events = false;
    let mut net = NetCounters::ZERO;
    let mut namespaces_seen: Vec<&str> = Vec::new();
    for s in members {
        count += 1;
        if pod_name.is_none() {
            pod_name.clone_from(&s.pod_name);
        }
        cpu_ns.add(s.cpu_ns);
        cpu_percent.add(s.cpu_percent);
        cpu_percent_normalized.add(s.cpu_percent_normalized);
        memory_bytes.add(s.memory_bytes);
        working_set.add(s.memory_working_set_bytes);
        anon.add(s.memory_anon_bytes);
        pids.add(s.pids);
        block_read.add(s.block_read_bytes);
        block_write.add(s.block_write_bytes);
        oom_kills.add(s.oom_kills);
        cpu_periods.add(s.cpu_periods);
        cpu_throttled_periods.add(s.cpu_throttled_periods);
        cpu_throttled_ns.add(s.cpu_throttled_ns);
        swap.add(s.memory_swap_bytes);
        let e = s.memory_events.unwrap_or_default();
        any_events |= s.memory_events.is_some();
        for (total, v) in events
            .iter_mut()
            .zip([e.low, e.high, e.max, e.oom, e.oom_kill])
        {
            total.add(v);
        }
        match s.net_namespace.as_deref() {
            Some(ns) if namespaces_seen.contains(&ns) => {}
            Some(ns) => {
                namespaces_seen.push(ns);
                net.add(&s.net);
            }
            // Without a namespace name the traffic cannot be attributed to anything.
            None => net = NetCounters::default(),
        }
    }
    let none_if_empty = |t: Option<u64>| if count == 0 { None } else { t };
    let [low, high, max, oom, oom_kill] = events.map(|t| none_if_empty(t.0));
    let memory_events = MemoryEvents {
        low,
        high,
        max,
        oom,
        oom_kill,
    };
    if count == 0 {
        net = NetCounters::default();
    }
    PodSample {
        pod_id: pod_id.to_string(),
        pod_name,
        containers: count,
        cpu_ns: none_if_empty(cpu_ns.0),
        cpu_percent: cpu_percent.0.filter(|_| count > 0),
        cpu_percent_normalized: cpu_percent_normalized.0.filter(|_| count > 0),
        cpu_periods: none_if_empty(cpu_periods.0),
        cpu_throttled_periods: none_if_empty(cpu_throttled_periods.0),
        cpu_throttled_ns: none_if_empty(cpu_throttled_ns.0),
        cpu_limit_cores: None,
        memory_bytes: none_if_empty(memory_bytes.0),
        memory_working_set_bytes: none_if_empty(working_set.0),
        memory_anon_bytes: none_if_empty(anon.0),
        memory_limit_bytes: None,
        memory_swap_bytes: none_if_empty(swap.0),
        memory_events: Some(memory_events).filter(|e| any_events && !e.is_empty()),
        pids: none_if_empty(pids.0),
        pids_limit: None,
        block_read_bytes: none_if_empty(block_read.0),
        block_write_bytes: none_if_empty(block_write.0),
        net,
        oom_kills: none_if_empty(oom_kills.0),
        pressure: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn member(name: &str, pod: Option<&str>, ns: Option<&str>, rx: Option<u64>) -> Sample {
        Sample {
            id: format!("{name}-id"),
            name: name.to_string(),
            pod_id: pod.map(str::to_string),
            pod_name: pod.map(|p| format!("{p}-name")),
            cpu_ns: Some(100),
            cpu_percent: Some(12.5),
            cpu_percent_normalized: Some(6.25),
            memory_bytes: Some(1000),
            memory_working_set_bytes: Some(800),
            memory_anon_bytes: Some(600),
            pids: Some(2),
            block_read_bytes: Some(10),
            block_write_bytes: Some(20),
            net: NetCounters {
                rx_bytes: rx,
                tx_bytes: rx.map(|r| r * 2),
                rx_packets: rx.map(|r| r / 100),
                ..NetCounters::default()
            },
            net_namespace: ns.map(str::to_string),
            oom_kills: Some(0),
            cpu_throttled_ns: Some(7),
            memory_events: Some(MemoryEvents {
                max: Some(3),
                oom_kill: Some(1),
                ..MemoryEvents::default()
            }),
            ..Sample::default()
        }
    }

    #[test]
    fn sums_members_and_counts_a_shared_netns_once() {
        let samples = vec![
            member("a", Some("p1"), Some("net:[1]"), Some(500)),
            member("b", Some("p1"), Some("net:[1]"), Some(500)),
            member("c", None, Some("net:[2]"), Some(7)),
            member("d", Some("p2"), Some("net:[3]"), Some(9)),
        ];
        let pods = pod_samples(&samples);
        assert_eq!(pods.len(), 2);
        let p1 = &pods[0];
        assert_eq!(p1.pod_id, "p1");
        assert_eq!(p1.pod_name.as_deref(), Some("p1-name"));
        assert_eq!(p1.containers, 2);
        assert_eq!(p1.cpu_ns, Some(200));
        assert_eq!(p1.cpu_percent, Some(25.0));
        assert_eq!(p1.memory_bytes, Some(2000));
        assert_eq!(p1.memory_working_set_bytes, Some(1600));
        assert_eq!(p1.memory_anon_bytes, Some(1200));
        assert_eq!(p1.pids, Some(4));
        assert_eq!(p1.net.rx_bytes, Some(500));
        assert_eq!(p1.net.tx_bytes, Some(1000));
        assert_eq!(p1.net.rx_packets, Some(5), "once per namespace");
        assert_eq!(p1.cpu_throttled_ns, Some(14));
        assert_eq!(p1.cpu_periods, None, "a member without the figure");
        let events = p1.memory_events.unwrap();
        assert_eq!(
            (events.max, events.oom_kill, events.low),
            (Some(6), Some(2), None)
        );
        assert_eq!(pods[1].net.rx_bytes, Some(9));
    }

    #[test]
    fn one_absent_figure_makes_the_total_absent() {
        let mut b = member("b", Some("p"), Some("net:[2]"), None);
        b.cpu_percent = None;
        let samples = vec![member("a", Some("p"), Some("net:[1]"), Some(5)), b];
        let pod = &pod_samples(&samples)[0];
        assert_eq!(pod.cpu_percent, None);
        assert_eq!(pod.net.rx_bytes, None);
        assert_eq!(pod.cpu_ns, Some(200));
    }

    #[test]
    fn members_that_do_not_run_are_left_out() {
        let mut exited = member("b", Some("p"), Some("net:[2]"), None);
        exited.state = Some(ContainerState::Exited);
        exited.cpu_ns = None;
        let mut running = member("a", Some("p"), Some("net:[1]"), Some(5));
        running.state = Some(ContainerState::Running);
        let pods = pod_samples(&[running, exited]);
        assert_eq!((pods[0].containers, pods[0].cpu_ns), (1, Some(100)));
    }

    #[test]
    fn members_without_a_namespace_name_make_net_absent() {
        let samples = vec![member("a", Some("p"), None, Some(5))];
        assert_eq!(pod_samples(&samples)[0].net.rx_bytes, None);
    }

    #[test]
    fn empty_pod_has_no_figures() {
        let pod = aggregate("p", []);
        assert_eq!(pod.containers, 0);
        assert_eq!(pod.cpu_ns, None);
        assert_eq!(pod.cpu_percent, None);
    }
}
