//! Which value lists a sample becomes: types, type instances and data sources.
//!
//! The seed plugin's two lists come first and keep their exact shape (`pod_cpu` with
//! `percent` + `time`, `pod_memory` with one `value`), so existing dashboards keep working;
//! the `seed` group dispatches them and nothing else. collectd spends about 5 us on each
//! value list it is handed (its value cache, the write queue, each writer), whatever the
//! list holds, so the figures of one group that are read together travel together: one
//! list of several data sources (a type of `types.db.libpodstats`) rather than one list per
//! figure. A stock collectd type is used where one has exactly the right data sources. A
//! list is only emitted when its counters are known: absent data is never dispatched as
//! `0`. A gauge of a list that is not known is NaN, collectd's "no value" (`pod_cpu`'s
//! `percent` while no rate exists yet, the working set where the kernel has no
//! `memory.stat`).

use collectd_plugin::Value;

use libpod_stats::{MemoryEvents, NetCounters, PodSample, PressureStats, Psi, Sample};

use crate::config::{CpuPercent, MemoryUsage, MetricGroups, PluginConfig};

/// The plugin name of container lists.
pub const CONTAINER_PLUGIN: &str = "libpodstats";
/// The plugin name of pod aggregates: its own name, so a pod can never collide with a
/// container of the same name.
pub const POD_PLUGIN: &str = "libpodstats_pod";

/// One value list to dispatch, minus plugin and plugin instance (the caller knows them).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ValueList<'v> {
    /// The type (from collectd's types.db or ours).
    pub type_: &'static str,
    /// The type instance, when the type is used more than once per instance.
    pub type_instance: Option<&'static str>,
    /// The values, in the type's data source order.
    pub values: &'v [Value],
}

/// A gauge from a count of bytes or items (exact up to 2^53).
fn gauge(n: u64) -> Value {
    Value::Gauge(n as f64)
}

/// A derive from a monotonic counter. collectd's DERIVE is signed; a counter past `i64::MAX`
/// (292 years of cpu time) saturates rather than wraps.
fn derive(n: u64) -> Value {
    Value::Derive(i64::try_from(n).unwrap_or(i64::MAX))
}

/// The figures one entity's lists are made of: a container's, or a pod's totals with `None`
/// where a sum has no meaning, so both go through the same list code.
struct Figures {
    cpu_ns: Option<u64>,
    pids_limit: Option<u64>,
    cpu_percent: Option<f64>,
    cpu_percent_normalized: Option<f64>,
    cpu_user_ns: Option<u64>,
    cpu_system_ns: Option<u64>,
    memory_bytes: Option<u64>,
    memory_working_set_bytes: Option<u64>,
    memory_anon_bytes: Option<u64>,
    memory_limit_bytes: Option<u64>,
    memory_percent: Option<f64>,
    pids: Option<u64>,
    block_read_bytes: Option<u64>,
    block_write_bytes: Option<u64>,
    net: NetCounters,
    oom_kills: Option<u64>,
    cpu_periods: Option<u64>,
    cpu_throttled_periods: Option<u64>,
    cpu_throttled_ns: Option<u64>,
    cpu_limit_cores: Option<f64>,
    pressure: Option<PressureStats>,
    memory_swap_bytes: Option<u64>,
    memory_events: Option<MemoryEvents>,
    state_code: Option<u8>,
    exit_code: Option<i32>,
    restart_count: Option<u64>,
    health_code: Option<u8>,
    health_failing_streak: Option<u64>,
}

impl From<&Sample> for Figures {
    fn from(s: &Sample) -> Self {
        Figures {
            cpu_ns: s.cpu_ns,
            pids_limit: s.pids_limit,
            cpu_percent: s.cpu_percent,
            cpu_percent_normalized: s.cpu_percent_normalized,
            cpu_user_ns: s.cpu_user_ns,
            cpu_system_ns: s.cpu_system_ns,
            memory_bytes: s.memory_bytes,
            memory_working_set_bytes: s.memory_working_set_bytes,
            memory_anon_bytes: s.memory_anon_bytes,
            memory_limit_bytes: s.memory_limit_bytes,
            memory_percent: s.memory_percent,
            pids: s.pids,
            block_read_bytes: s.block_read_bytes,
            block_write_bytes: s.block_write_bytes,
            net: s.net,
            oom_kills: s.oom_kills,
            cpu_periods: s.cpu_periods,
            cpu_throttled_periods: s.cpu_throttled_periods,
            cpu_throttled_ns: s.cpu_throttled_ns,
            cpu_limit_cores: s.cpu_limit_cores,
            pressure: s.pressure,
            memory_swap_bytes: s.memory_swap_bytes,
            memory_events: s.memory_events,
            state_code: s.state_code,
            exit_code: s.exit_code,
            restart_count: s.restart_count,
            health_code: s.health_code,
            health_failing_streak: s.health_failing_streak,
        }
    }
}

impl From<&PodSample> for Figures {
    /// The user/system split has no meaningful sum over members; the limits and pressure are
    /// the pod's own cgroup's (`None` without one); a pod has no state of its own here.
    fn from(p: &PodSample) -> Self {
        Figures {
            cpu_ns: p.cpu_ns,
            pids_limit: p.pids_limit,
            cpu_percent: p.cpu_percent,
            cpu_percent_normalized: p.cpu_percent_normalized,
            cpu_user_ns: None,
            cpu_system_ns: None,
            memory_bytes: p.memory_bytes,
            memory_working_set_bytes: p.memory_working_set_bytes,
            memory_anon_bytes: p.memory_anon_bytes,
            memory_limit_bytes: p.memory_limit_bytes,
            memory_percent: p
                .memory_bytes
                .zip(p.memory_limit_bytes)
                .filter(|&(_, limit)| limit > 0)
                .map(|(usage, limit)| usage as f64 / limit as f64 * 100.0),
            pids: p.pids,
            block_read_bytes: p.block_read_bytes,
            block_write_bytes: p.block_write_bytes,
            net: p.net,
            oom_kills: p.oom_kills,
            cpu_periods: p.cpu_periods,
            cpu_throttled_periods: p.cpu_throttled_periods,
            cpu_throttled_ns: p.cpu_throttled_ns,
            cpu_limit_cores: p.cpu_limit_cores,
            pressure: p.pressure,
            memory_swap_bytes: p.memory_swap_bytes,
            memory_events: p.memory_events,
            state_code: None,
            exit_code: None,
            restart_count: None,
            health_code: None,
            health_failing_streak: None,
        }
    }
}

/// Calls `emit` once per value list `sample` gives under `cfg`, in a fixed order.
pub fn container_lists(sample: &Sample, cfg: &PluginConfig, emit: impl FnMut(ValueList<'_>)) {
    figure_lists(&Figures::from(sample), cfg, cfg.metrics, emit);
}

/// True when `groups` give pod totals: any group but `seed` (the seed plugin had no pods)
/// and `state` (a pod has no state of its own here).
pub fn has_pod_lists(groups: MetricGroups) -> bool {
    let MetricGroups {
        seed: _,
        cpu,
        memory,
        pids,
        blkio,
        net,
        oom,
        throttle,
        pressure,
        memevents,
        netdetail,
        state: _,
    } = groups;
    cpu || memory || pids || blkio || net || oom || throttle || pressure || memevents || netdetail
}

/// Calls `emit` once per value list of a pod's totals under `cfg`. The same types as a
/// container's, under [`POD_PLUGIN`], minus the user/system split (no meaningful sum) and the
/// state lists, plus `count`-`containers`: how many members the totals cover. Limits and
/// pressure are the pod's own cgroup's, when it has one.
/// Nothing when the groups give no pod totals ([`has_pod_lists`]).
pub fn pod_lists(pod: &PodSample, cfg: &PluginConfig, mut emit: impl FnMut(ValueList<'_>)) {
    if !has_pod_lists(cfg.metrics) {
        return;
    }
    emit(ValueList {
        type_: "count",
        type_instance: Some("containers"),
        values: &[gauge(u64::from(pod.containers))],
    });
    let groups = MetricGroups {
        seed: false,
        ..cfg.metrics
    };
    figure_lists(&Figures::from(pod), cfg, groups, emit);
}

/// A gauge, NaN when not known.
fn maybe(v: Option<f64>) -> Value {
    Value::Gauge(v.unwrap_or(f64::NAN))
}

/// A gauge of bytes or items, NaN when not known.
fn maybe_count(n: Option<u64>) -> Value {
    maybe(n.map(|n| n as f64))
}

/// The lists of one entity's figures under `groups`, in a fixed order; a list whose counters
/// are not all known is left out.
fn figure_lists(
    f: &Figures,
    cfg: &PluginConfig,
    groups: MetricGroups,
    mut emit: impl FnMut(ValueList<'_>),
) {
    let mut list = |type_: &'static str, type_instance: Option<&'static str>, values: &[Value]| {
        emit(ValueList {
            type_,
            type_instance,
            values,
        })
    };
    if groups.cpu || groups.seed {
        if let Some(ns) = f.cpu_ns {
            let percent = match cfg.cpu_percent {
                CpuPercent::Podman => f.cpu_percent,
                CpuPercent::Normalized => f.cpu_percent_normalized,
            };
            list("pod_cpu", None, &[maybe(percent), derive(ns)]);
        }
    }
    if groups.memory || groups.seed {
        let seed = match cfg.memory_usage {
            MemoryUsage::Raw => f.memory_bytes,
            MemoryUsage::WorkingSet => f.memory_working_set_bytes,
            MemoryUsage::Anon => f.memory_anon_bytes,
        };
        if let Some(b) = seed {
            list("pod_memory", None, &[gauge(b)]);
        }
    }
    if groups.cpu {
        if let (Some(user), Some(system)) = (f.cpu_user_ns, f.cpu_system_ns) {
            list("pod_cpu_split", None, &[derive(user), derive(system)]);
        }
    }
    if groups.memory && f.memory_bytes.is_some() {
        list(
            "pod_memory_detail",
            None,
            &[
                maybe_count(f.memory_bytes),
                maybe_count(f.memory_working_set_bytes),
                maybe_count(f.memory_limit_bytes),
                maybe(f.memory_percent),
            ],
        );
    }
    if groups.pids {
        if let Some(n) = f.pids {
            list("pod_pids", None, &[gauge(n)]);
        }
        // `None` is also "no limit": nothing is dispatched then.
        if let Some(n) = f.pids_limit {
            list("pod_pids_limit", None, &[gauge(n)]);
        }
    }
    if groups.blkio {
        if let (Some(r), Some(w)) = (f.block_read_bytes, f.block_write_bytes) {
            list("disk_octets", None, &[derive(r), derive(w)]);
        }
    }
    if groups.net {
        if let (Some(rx), Some(tx)) = (f.net.rx_bytes, f.net.tx_bytes) {
            list("if_octets", None, &[derive(rx), derive(tx)]);
        }
    }
    if groups.oom {
        if let Some(n) = f.oom_kills {
            list("pod_oom_kills", None, &[derive(n)]);
        }
    }
    if groups.throttle {
        if let (Some(periods), Some(throttled)) = (f.cpu_periods, f.cpu_throttled_periods) {
            list(
                "pod_cpu_throttle",
                None,
                &[derive(periods), derive(throttled)],
            );
        }
        if let Some(ns) = f.cpu_throttled_ns {
            list("pod_cpu_throttled_time", None, &[derive(ns)]);
        }
        if let Some(cores) = f.cpu_limit_cores {
            list("pod_cpu_limit", None, &[Value::Gauge(cores)]);
        }
    }
    if groups.pressure {
        let p = f.pressure.unwrap_or_default();
        let resources: [(Option<Psi>, &'static str, &'static str); 3] = [
            (p.cpu, "cpu-some", "cpu-full"),
            (p.memory, "memory-some", "memory-full"),
            (p.io, "io-some", "io-full"),
        ];
        for (psi, some, full) in resources {
            let Some(psi) = psi else { continue };
            for (line, instance) in [(Some(psi.some), some), (psi.full, full)] {
                if let Some(l) = line {
                    list(
                        "pod_pressure",
                        Some(instance),
                        &[
                            Value::Gauge(l.avg10),
                            Value::Gauge(l.avg60),
                            Value::Gauge(l.avg300),
                            derive(l.total_us),
                        ],
                    );
                }
            }
        }
    }
    if groups.memevents {
        if let Some(b) = f.memory_swap_bytes {
            list("memory", Some("swap"), &[gauge(b)]);
        }
        let e = f.memory_events.unwrap_or_default();
        for (count, instance) in [
            (e.low, "low"),
            (e.high, "high"),
            (e.max, "max"),
            (e.oom, "oom"),
            (e.oom_kill, "oom_kill"),
        ] {
            if let Some(n) = count {
                list("pod_memory_events", Some(instance), &[derive(n)]);
            }
        }
    }
    if groups.netdetail {
        let n = f.net;
        for ((rx, tx), type_) in [
            ((n.rx_packets, n.tx_packets), "if_packets"),
            ((n.rx_errors, n.tx_errors), "if_errors"),
            ((n.rx_dropped, n.tx_dropped), "if_dropped"),
        ] {
            if let (Some(rx), Some(tx)) = (rx, tx) {
                list(type_, None, &[derive(rx), derive(tx)]);
            }
        }
    }
    if groups.state {
        if let Some(n) = f.state_code {
            list("pod_state", None, &[gauge(u64::from(n))]);
        }
        if let Some(code) = f.exit_code {
            list("pod_exit_code", None, &[Value::Gauge(f64::from(code))]);
        }
        if let Some(n) = f.restart_count {
            list("pod_restarts", None, &[derive(n)]);
        }
        // Only a container with a health check has a status.
        if let Some(code) = f.health_code {
            list(
                "pod_health",
                None,
                &[gauge(u64::from(code)), maybe_count(f.health_failing_streak)],
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A list as text: `type[-instance] v1 v2`, NaN as `nan`.
    fn render(sample: &Sample, cfg: &PluginConfig) -> Vec<String> {
        let mut out = Vec::new();
        container_lists(sample, cfg, |l| out.push(line(l)));
        out
    }

    fn line(l: ValueList<'_>) -> String {
        {
            let mut line = l.type_.to_string();
            if let Some(ti) = l.type_instance {
                line.push('-');
                line.push_str(ti);
            }
            for v in l.values {
                line.push(' ');
                line.push_str(&match v {
                    Value::Gauge(g) if g.is_nan() => "nan".to_string(),
                    other => other.to_string(),
                });
            }
            line
        }
    }

    fn full() -> Sample {
        Sample {
            id: "a".repeat(64),
            name: "web".into(),
            cpu_ns: Some(5_000_000_000),
            cpu_user_ns: Some(3_000_000_000),
            cpu_system_ns: Some(2_000_000_000),
            cpu_percent: Some(150.0),
            cpu_percent_normalized: Some(75.0),
            memory_bytes: Some(1000),
            memory_working_set_bytes: Some(600),
            memory_anon_bytes: Some(400),
            memory_limit_bytes: Some(4000),
            memory_percent: Some(25.0),
            pids: Some(3),
            pids_limit: Some(2048),
            block_read_bytes: Some(10),
            block_write_bytes: Some(20),
            net: NetCounters {
                rx_bytes: Some(30),
                tx_bytes: Some(40),
                ..NetCounters::default()
            },
            oom_kills: Some(0),
            ..Sample::default()
        }
    }

    #[test]
    fn a_full_sample_gives_every_list() {
        assert_eq!(
            render(&full(), &PluginConfig::default()),
            vec![
                "pod_cpu 150 5000000000",
                "pod_memory 1000",
                "pod_cpu_split 3000000000 2000000000",
                "pod_memory_detail 1000 600 4000 25",
                "pod_pids 3",
                "pod_pids_limit 2048",
                "disk_octets 10 20",
                "if_octets 30 40",
                "pod_oom_kills 0",
            ]
        );
    }

    #[test]
    fn the_seed_group_gives_the_seed_lists_alone() {
        let cfg = PluginConfig {
            metrics: MetricGroups {
                seed: true,
                ..MetricGroups::NONE
            },
            ..PluginConfig::default()
        };
        assert_eq!(
            render(&full(), &cfg),
            vec!["pod_cpu 150 5000000000", "pod_memory 1000"]
        );
        // Beside cpu and memory they are not dispatched twice.
        let both = PluginConfig {
            metrics: MetricGroups {
                cpu: true,
                memory: true,
                ..cfg.metrics
            },
            ..cfg
        };
        assert_eq!(render(&full(), &both).len(), 4);
        assert!(!has_pod_lists(cfg.metrics));
        assert!(has_pod_lists(both.metrics));
    }

    #[test]
    fn modes_pick_what_the_seed_lists_carry() {
        let cfg = PluginConfig {
            cpu_percent: CpuPercent::Normalized,
            memory_usage: MemoryUsage::WorkingSet,
            metrics: MetricGroups {
                cpu: true,
                memory: true,
                ..MetricGroups::NONE
            },
            ..PluginConfig::default()
        };
        let got = render(&full(), &cfg);
        assert_eq!(got[0], "pod_cpu 75 5000000000");
        assert_eq!(got[1], "pod_memory 600");
        assert_eq!(got.len(), 4);
        let anon = PluginConfig {
            memory_usage: MemoryUsage::Anon,
            ..PluginConfig::default()
        };
        assert_eq!(render(&full(), &anon)[1], "pod_memory 400");
    }

    #[test]
    fn absent_data_is_never_dispatched() {
        let mut s = full();
        s.cpu_percent = None;
        s.memory_working_set_bytes = None;
        s.net.rx_bytes = None;
        s.pids = None;
        s.pids_limit = None;
        s.oom_kills = None;
        s.cpu_system_ns = None;
        let got = render(&s, &PluginConfig::default());
        assert_eq!(got[0], "pod_cpu nan 5000000000");
        assert!(got.contains(&"pod_memory_detail 1000 nan 4000 25".to_string()));
        assert!(!got.iter().any(|l| l.starts_with("pod_cpu_split")));
        assert!(!got.iter().any(|l| l.starts_with("if_octets")));
        assert!(!got.iter().any(|l| l.starts_with("pod_pids")));
        assert!(!got.iter().any(|l| l.starts_with("pod_oom_kills")));
        let empty = Sample::default();
        assert!(render(&empty, &PluginConfig::default()).is_empty());
    }

    #[test]
    fn pod_totals_give_their_lists() {
        let pod = PodSample {
            pod_id: "p".repeat(64),
            pod_name: Some("shop".into()),
            containers: 2,
            cpu_ns: Some(7),
            cpu_percent: Some(12.5),
            cpu_percent_normalized: Some(6.25),
            memory_bytes: Some(2000),
            memory_working_set_bytes: Some(1500),
            memory_anon_bytes: Some(1000),
            pids: Some(4),
            block_read_bytes: Some(1),
            block_write_bytes: Some(2),
            net: NetCounters {
                rx_bytes: Some(3),
                ..NetCounters::default()
            },
            oom_kills: Some(0),
            ..PodSample::default()
        };
        let mut got = Vec::new();
        pod_lists(&pod, &PluginConfig::default(), |l| got.push(line(l)));
        assert_eq!(
            got,
            vec![
                "count-containers 2",
                "pod_cpu 12.5 7",
                "pod_memory 2000",
                "pod_memory_detail 2000 1500 nan nan",
                "pod_pids 4",
                "disk_octets 1 2",
                "pod_oom_kills 0",
            ]
        );
        let seed = PluginConfig {
            metrics: MetricGroups {
                seed: true,
                ..MetricGroups::NONE
            },
            ..PluginConfig::default()
        };
        pod_lists(&pod, &seed, |l| {
            panic!("a pod list for the seed group: {l:?}")
        });

        // With the pod's own cgroup read: its limits, the percent of its limit, its pressure.
        let own = PodSample {
            memory_limit_bytes: Some(8000),
            pids_limit: Some(100),
            cpu_limit_cores: Some(0.5),
            pressure: Some(PressureStats {
                cpu: Some(Psi {
                    some: libpod_stats::PsiLine {
                        avg10: 1.5,
                        avg60: 1.0,
                        avg300: 0.5,
                        total_us: 70,
                    },
                    full: None,
                }),
                ..PressureStats::default()
            }),
            ..pod
        };
        let cfg = PluginConfig {
            metrics: MetricGroups {
                throttle: true,
                pressure: true,
                ..MetricGroups::BASIC
            },
            ..PluginConfig::default()
        };
        let mut got = Vec::new();
        pod_lists(&own, &cfg, |l| got.push(line(l)));
        for want in [
            "pod_memory_detail 2000 1500 8000 25",
            "pod_pids_limit 100",
            "pod_cpu_limit 0.5",
            "pod_pressure-cpu-some 1.5 1 0.5 70",
        ] {
            assert!(got.contains(&want.to_string()), "{want} in {got:?}");
        }
    }

    #[test]
    fn the_newer_groups_give_their_lists() {
        use libpod_stats::PsiLine;
        let line = |avg10, total_us| PsiLine {
            avg10,
            avg60: 1.0,
            avg300: 0.5,
            total_us,
        };
        let s = Sample {
            cpu_periods: Some(400),
            cpu_throttled_periods: Some(320),
            cpu_throttled_ns: Some(9_000),
            cpu_limit_cores: Some(0.2),
            pressure: Some(PressureStats {
                cpu: Some(Psi {
                    some: line(61.5, 1000),
                    full: Some(line(12.0, 300)),
                }),
                memory: None,
                io: Some(Psi {
                    some: line(0.0, 7),
                    full: None,
                }),
            }),
            memory_swap_bytes: Some(4096),
            memory_events: Some(MemoryEvents {
                max: Some(18),
                oom_kill: Some(1),
                ..MemoryEvents::default()
            }),
            net: NetCounters {
                rx_packets: Some(5),
                tx_packets: Some(6),
                rx_errors: Some(0),
                tx_errors: Some(1),
                rx_dropped: Some(2),
                tx_dropped: None,
                ..full().net
            },
            state_code: Some(6),
            exit_code: Some(137),
            restart_count: Some(3),
            health_code: Some(1),
            health_failing_streak: Some(2),
            ..full()
        };
        let cfg = PluginConfig {
            metrics: MetricGroups {
                throttle: true,
                pressure: true,
                memevents: true,
                netdetail: true,
                state: true,
                ..MetricGroups::NONE
            },
            ..PluginConfig::default()
        };
        assert_eq!(
            render(&s, &cfg),
            vec![
                "pod_cpu_throttle 400 320",
                "pod_cpu_throttled_time 9000",
                "pod_cpu_limit 0.2",
                "pod_pressure-cpu-some 61.5 1 0.5 1000",
                "pod_pressure-cpu-full 12 1 0.5 300",
                "pod_pressure-io-some 0 1 0.5 7",
                "memory-swap 4096",
                "pod_memory_events-max 18",
                "pod_memory_events-oom_kill 1",
                "if_packets 5 6",
                "if_errors 0 1",
                "pod_state 6",
                "pod_exit_code 137",
                "pod_restarts 3",
                "pod_health 1 2",
            ]
        );
        // None of it by default.
        assert_eq!(render(&s, &PluginConfig::default()).len(), 9);
    }

    #[test]
    fn huge_counters_saturate() {
        assert_eq!(derive(u64::MAX), Value::Derive(i64::MAX));
    }
}
