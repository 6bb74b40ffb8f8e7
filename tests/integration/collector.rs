//! The collector over synthesized cgroup v2 snapshots: first samples, rates, restarts,
//! memory arithmetic, network namespaces, vanished containers, pods and buffer reuse.
//!
//! Each test writes a small host (podman's systemd layout on v2, a SQLite state) and runs
//! collector cycles over it, changing the counters between cycles.

use std::os::unix::fs::symlink;
use std::path::{Path, PathBuf};

use libpod_stats::internals::libpod::sqlite::write_sqlite_state;
use libpod_stats::{
    pod_samples, Collector, CollectorOptions, DiscoveryOptions, FirstCpuPercent, HostRoot,
    MetricGroups, RawContainer, RawPod, RawState, RuntimeConfig, Sample, SnapshotMeta, Timestamp,
};

const S: u64 = 1_000_000_000;
/// MemTotal of the synthesized host: 1000000 kB.
const MEM_TOTAL: u64 = 1_000_000 * 1024;
const STARTED_NS: u64 = 1_800_000_000 * S;

/// Counters of one container's cgroup.
#[derive(Clone)]
struct Counters {
    usage_usec: u64,
    memory_current: u64,
    memory_max: &'static str,
    inactive_file: u64,
    pids: u64,
    oom_kill: u64,
}

impl Default for Counters {
    fn default() -> Self {
        Counters {
            usage_usec: 1_000_000,
            memory_current: 50_000_000,
            memory_max: "max",
            inactive_file: 10_000_000,
            pids: 3,
            oom_kill: 0,
        }
    }
}

#[derive(Clone)]
struct Ctr {
    id: String,
    name: &'static str,
    pid: u32,
    state: i64,
    started: &'static str,
    pod: Option<String>,
    /// `ns/net` link text; `None` writes no link.
    netns: Option<&'static str>,
    /// Whether `net/dev` exists.
    net_dev: bool,
    counters: Counters,
}

fn id(c: char) -> String {
    std::iter::repeat_n(c, 64).collect()
}

impl Ctr {
    fn new(name: &'static str, idc: char, pid: u32) -> Self {
        Ctr {
            id: id(idc),
            name,
            pid,
            state: 3,
            started: "2027-01-15T08:00:00Z",
            pod: None,
            netns: Some("net:[4026532001]"),
            net_dev: true,
            counters: Counters::default(),
        }
    }

    fn cgroup(&self) -> String {
        match &self.pod {
            Some(pod) => format!(
                "/machine.slice/machine-libpod_pod_{pod}.slice/libpod-{}.scope",
                self.id
            ),
            None => format!("/machine.slice/libpod-{}.scope", self.id),
        }
    }
}

struct Host {
    _dir: tempfile::TempDir,
    root: PathBuf,
}

impl Host {
    fn new() -> Host {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().to_path_buf();
        let h = Host { _dir: dir, root };
        h.write(
            "/proc/self/mountinfo",
            "30 1 0:26 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime shared:4 - cgroup2 cgroup2 rw,nsdelegate\n",
        );
        h.write(
            "/proc/meminfo",
            "MemTotal:        1000000 kB\nMemFree:  1 kB\n",
        );
        h.write("/sys/fs/cgroup/cgroup.controllers", "cpu io memory pids\n");
        std::fs::create_dir_all(h.root.join("proc/1/ns")).unwrap();
        symlink("net:[4026531840]", h.root.join("proc/1/ns/net")).unwrap();
        h.at(0);
        h
    }

    fn write(&self, host_path: &str, text: &str) {
        let p = self.root.join(host_path.trim_start_matches('/'));
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    }

    fn at(&self, seconds: u64) -> Timestamp {
        let meta = SnapshotMeta {
            taken_at_ns: STARTED_NS + seconds * S,
            online_cpus: 4,
            hostname: "test".into(),
            kernel: "6.1.0".into(),
            extra_stores: Vec::new(),
            store_owners: Default::default(),
        };
        meta.write(&self.root).unwrap();
        Timestamp::at(meta.taken_at_ns)
    }

    /// Writes the state database and every container's files.
    fn containers(&self, ctrs: &[Ctr]) {
        let mut pods: Vec<String> = ctrs.iter().filter_map(|c| c.pod.clone()).collect();
        pods.sort();
        pods.dedup();
        let raw = RawState {
            containers: ctrs
                .iter()
                .map(|c| RawContainer {
                    id: c.id.clone(),
                    name: Some(c.name.into()),
                    pod_id: c.pod.clone(),
                    config_json: serde_json::to_vec(&serde_json::json!({
                        "id": c.id, "name": c.name, "pod": c.pod,
                        "cgroupManager": "systemd", "cgroupParent": "machine.slice",
                        "createdTime": "2027-01-15T07:59:00Z",
                    }))
                    .unwrap(),
                    state_json: serde_json::to_vec(&serde_json::json!({
                        "state": c.state, "pid": c.pid, "startedTime": c.started,
                    }))
                    .unwrap(),
                })
                .collect(),
            pods: pods
                .iter()
                .map(|p| RawPod {
                    id: p.clone(),
                    name: Some(format!("pod-{}", &p[..4])),
                    config_json: serde_json::to_vec(&serde_json::json!({
                        "id": p, "name": format!("pod-{}", &p[..4]),
                        "cgroupParent": "machine.slice",
                    }))
                    .unwrap(),
                    state_json: serde_json::to_vec(&serde_json::json!({
                        "cgroupPath": format!("/machine.slice/machine-libpod_pod_{p}.slice"),
                    }))
                    .unwrap(),
                })
                .collect(),
            runtime: RuntimeConfig::root_defaults(),
        };
        let db = self.root.join("var/lib/containers/storage/db.sql");
        std::fs::create_dir_all(db.parent().unwrap()).unwrap();
        let _ = std::fs::remove_file(&db);
        write_sqlite_state(&raw, &db).unwrap();
        for c in ctrs {
            self.counters(c);
        }
    }

    /// Rewrites one container's proc and cgroup files (the state database stays).
    fn counters(&self, c: &Ctr) {
        let proc_dir = self.root.join(format!("proc/{}", c.pid));
        let _ = std::fs::remove_dir_all(&proc_dir);
        if c.state != 3 {
            return;
        }
        let cg = c.cgroup();
        self.write(&format!("/proc/{}/cgroup", c.pid), &format!("0::{cg}\n"));
        if c.net_dev {
            self.write(
                &format!("/proc/{}/net/dev", c.pid),
                "Inter-|   Receive                                                |  Transmit\n \
                 face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed\n    \
                 lo:    5000      50    0    0    0     0          0         0     5000      50    0    0    0     0       0          0\n  \
                 eth0:    1000      10    0    0    0     0          0         0     2000      20    0    0    0     0       0          0\n  \
                 eth1:     100       1    0    0    0     0          0         0      200       2    0    0    0     0       0          0\n",
            );
        }
        if let Some(ns) = c.netns {
            std::fs::create_dir_all(proc_dir.join("ns")).unwrap();
            symlink(ns, proc_dir.join("ns/net")).unwrap();
        }
        let k = &c.counters;
        let base = format!("/sys/fs/cgroup{cg}");
        self.write(
            &format!("{base}/cpu.stat"),
            &format!(
                "usage_usec {}\nuser_usec {}\nsystem_usec {}\n",
                k.usage_usec,
                k.usage_usec * 3 / 4,
                k.usage_usec / 4
            ),
        );
        self.write(
            &format!("{base}/memory.current"),
            &format!("{}\n", k.memory_current),
        );
        self.write(
            &format!("{base}/memory.max"),
            &format!("{}\n", k.memory_max),
        );
        self.write(
            &format!("{base}/memory.stat"),
            &format!("anon 1000\nfile 2000\ninactive_file {}\n", k.inactive_file),
        );
        self.write(
            &format!("{base}/memory.events"),
            &format!("low 0\nhigh 0\nmax 0\noom 0\noom_kill {}\n", k.oom_kill),
        );
        self.write(&format!("{base}/pids.current"), &format!("{}\n", k.pids));
        self.write(
            &format!("{base}/io.stat"),
            "8:0 rbytes=4096 wbytes=8192 rios=1 wios=2 dbytes=0 dios=0\n",
        );
    }

    fn remove_cgroup(&self, c: &Ctr) {
        let dir = self
            .root
            .join(format!("sys/fs/cgroup{}", c.cgroup()).trim_start_matches('/'));
        std::fs::remove_dir_all(dir).unwrap();
    }

    fn collector(&self, first: FirstCpuPercent, all: bool) -> Collector {
        Collector::new(
            HostRoot::new(&self.root).unwrap(),
            CollectorOptions {
                discovery: DiscoveryOptions {
                    rootless_stores: false,
                    extra_stores: Vec::new(),
                    external: false,
                },
                all,
                metrics: MetricGroups::ALL,
                first_cpu_percent: first,
                max_open_files: None,
                filter: Default::default(),
            },
        )
        .unwrap()
    }
}

fn one(samples: &[Sample], name: &str) -> Sample {
    samples
        .iter()
        .find(|s| s.name == name)
        .cloned()
        .unwrap_or_else(|| panic!("{name} not in {samples:#?}"))
}

#[test]
fn first_sample_has_no_rate_then_rates_follow() {
    let host = Host::new();
    let mut c = Ctr::new("web", 'a', 100);
    host.containers(std::slice::from_ref(&c));
    let mut collector = host.collector(FirstCpuPercent::Null, false);
    let mut out = Vec::new();
    let report = collector.collect(host.at(0), &mut out).unwrap();
    assert!(report.rediscovered);
    assert!(
        report.errors.is_empty() && report.discovery_errors.is_empty(),
        "{report:?}"
    );
    let s = one(&out, "web");
    assert_eq!(s.cpu_ns, Some(1_000_000_000));
    assert_eq!(s.cpu_user_ns, Some(750_000_000));
    assert_eq!(s.cpu_system_ns, Some(250_000_000));
    assert_eq!(s.cpu_percent, None);
    assert_eq!(s.cpu_percent_normalized, None);
    assert_eq!(s.state.map(|s| s.as_str()), Some("running"));
    assert_eq!(s.cgroup.as_deref(), Some(c.cgroup().as_str()));

    // Half a core over one second, then two cores over the next.
    c.counters.usage_usec += 500_000;
    host.counters(&c);
    let report = collector.collect(host.at(1), &mut out).unwrap();
    assert!(!report.rediscovered, "the state did not change");
    let s = one(&out, "web");
    assert_eq!(s.cpu_percent, Some(50.0));
    assert_eq!(s.cpu_percent_normalized, Some(12.5));
    c.counters.usage_usec += 2_000_000;
    host.counters(&c);
    collector.collect(host.at(2), &mut out).unwrap();
    assert_eq!(one(&out, "web").cpu_percent, Some(200.0));
}

/// A single cycle (`collect_once`, the one-shot CLI) gives the same samples as `collect`;
/// having stamped nothing, the collector discovers again on its next cycle.
#[test]
fn a_single_cycle_reads_the_same_and_watches_nothing() {
    let host = Host::new();
    let mut c = Ctr::new("web", 'a', 100);
    host.containers(std::slice::from_ref(&c));
    let (mut once, mut watched) = (Vec::new(), Vec::new());
    let mut single = host.collector(FirstCpuPercent::Null, false);
    let report = single.collect_once(host.at(0), &mut once).unwrap();
    assert!(
        report.rediscovered && report.errors.is_empty(),
        "{report:?}"
    );
    host.collector(FirstCpuPercent::Null, false)
        .collect(host.at(0), &mut watched)
        .unwrap();
    assert_eq!(once, watched);
    c.counters.usage_usec += 500_000;
    host.counters(&c);
    let report = single.collect(host.at(1), &mut once).unwrap();
    assert!(report.rediscovered, "nothing was stamped: discovered again");
    assert_eq!(
        one(&once, "web").cpu_percent,
        Some(50.0),
        "the rate carries over"
    );
}

#[test]
fn counter_going_backwards_restarts_the_rate() {
    let host = Host::new();
    let mut c = Ctr::new("web", 'a', 100);
    c.counters.usage_usec = 10_000_000;
    host.containers(std::slice::from_ref(&c));
    let mut collector = host.collector(FirstCpuPercent::Null, false);
    let mut out = Vec::new();
    collector.collect(host.at(0), &mut out).unwrap();
    c.counters.usage_usec = 11_000_000;
    host.counters(&c);
    collector.collect(host.at(1), &mut out).unwrap();
    assert_eq!(one(&out, "web").cpu_percent, Some(100.0));
    // The cgroup was recreated under the same name: counters from zero.
    c.counters.usage_usec = 100_000;
    host.counters(&c);
    collector.collect(host.at(2), &mut out).unwrap();
    let s = one(&out, "web");
    assert_eq!(s.cpu_ns, Some(100_000_000));
    assert_eq!(s.cpu_percent, None, "never negative, never a spike");
    c.counters.usage_usec = 350_000;
    host.counters(&c);
    collector.collect(host.at(3), &mut out).unwrap();
    assert_eq!(one(&out, "web").cpu_percent, Some(25.0));
}

#[test]
fn a_new_instance_starts_over_even_with_a_higher_counter() {
    let host = Host::new();
    let mut c = Ctr::new("web", 'a', 100);
    host.containers(std::slice::from_ref(&c));
    let mut collector = host.collector(FirstCpuPercent::Null, false);
    let mut out = Vec::new();
    collector.collect(host.at(0), &mut out).unwrap();
    // Restarted: a new start time and pid, recorded in the state.
    c.started = "2027-01-15T08:00:01Z";
    c.pid = 101;
    c.counters.usage_usec = 5_000_000;
    let _ = std::fs::remove_dir_all(host.root.join("proc/100"));
    host.containers(std::slice::from_ref(&c));
    let report = collector.collect(host.at(1), &mut out).unwrap();
    assert!(report.rediscovered);
    assert_eq!(one(&out, "web").cpu_percent, None);
    c.counters.usage_usec = 6_000_000;
    host.counters(&c);
    collector.collect(host.at(2), &mut out).unwrap();
    assert_eq!(one(&out, "web").cpu_percent, Some(100.0));
}

#[test]
fn no_stream_reports_the_average_since_start() {
    let host = Host::new();
    let mut c = Ctr::new("web", 'a', 100);
    // Started 2027-01-15T08:00:00Z; 4 s of CPU over the 8 s until the snapshot.
    c.counters.usage_usec = 4_000_000;
    host.containers(std::slice::from_ref(&c));
    let started = 1_800_000_000 * S; // 2027-01-15T08:00:00Z
    let mut collector = host.collector(FirstCpuPercent::SinceStart, false);
    let mut out = Vec::new();
    let meta = SnapshotMeta {
        taken_at_ns: started + 8 * S,
        online_cpus: 2,
        hostname: "t".into(),
        kernel: "k".into(),
        extra_stores: Vec::new(),
        store_owners: Default::default(),
    };
    meta.write(&host.root).unwrap();
    let mut collector2 = host.collector(FirstCpuPercent::SinceStart, false);
    collector2
        .collect(Timestamp::at(meta.taken_at_ns), &mut out)
        .unwrap();
    let s = one(&out, "web");
    assert_eq!(s.cpu_percent, Some(50.0));
    assert_eq!(s.cpu_percent_normalized, Some(25.0));
    // A start time in the future of the snapshot has no average.
    collector
        .collect(Timestamp::at(started - S), &mut out)
        .unwrap();
    assert_eq!(one(&out, "web").cpu_percent, None);
}

#[test]
fn memory_working_set_is_floored_and_the_limit_clamped() {
    let host = Host::new();
    let mut a = Ctr::new("floored", 'a', 100);
    a.counters.memory_current = 1_000;
    a.counters.inactive_file = 5_000;
    let mut b = Ctr::new("limited", 'b', 101);
    b.counters.memory_max = "104857600";
    b.counters.memory_current = 52_428_800;
    b.counters.inactive_file = 2_428_800;
    let mut c = Ctr::new("huge-limit", 'c', 102);
    c.counters.memory_max = "9223372036854771712";
    let d = Ctr::new("unlimited", 'd', 103);
    host.containers(&[a, b, c, d]);
    let mut collector = host.collector(FirstCpuPercent::Null, false);
    let mut out = Vec::new();
    collector.collect(host.at(0), &mut out).unwrap();
    let s = one(&out, "floored");
    assert_eq!(s.memory_bytes, Some(1_000));
    assert_eq!(s.memory_working_set_bytes, Some(0));
    let s = one(&out, "limited");
    assert_eq!(s.memory_working_set_bytes, Some(50_000_000));
    assert_eq!(s.memory_limit_bytes, Some(104_857_600));
    assert_eq!(s.memory_percent, Some(50.0));
    assert_eq!(one(&out, "huge-limit").memory_limit_bytes, Some(MEM_TOTAL));
    let s = one(&out, "unlimited");
    assert_eq!(s.memory_limit_bytes, Some(MEM_TOTAL));
    assert_eq!(
        s.memory_percent,
        Some(50_000_000.0 / MEM_TOTAL as f64 * 100.0)
    );
    assert_eq!(s.pids, Some(3));
    assert_eq!(s.block_read_bytes, Some(4096));
    assert_eq!(s.block_write_bytes, Some(8192));
    assert_eq!(s.oom_kills, Some(0));
}

#[test]
fn network_is_the_containers_own_and_null_in_the_hosts_namespace() {
    let host = Host::new();
    let own = Ctr::new("own", 'a', 100);
    let mut hostnet = Ctr::new("hostnet", 'b', 101);
    hostnet.netns = Some("net:[4026531840]");
    let mut unreadable = Ctr::new("unreadable", 'c', 102);
    unreadable.net_dev = false;
    let mut unknown_ns = Ctr::new("unknown-ns", 'd', 103);
    unknown_ns.netns = None;
    host.containers(&[own, hostnet, unreadable, unknown_ns]);
    let mut collector = host.collector(FirstCpuPercent::Null, false);
    let mut out = Vec::new();
    collector.collect(host.at(0), &mut out).unwrap();
    let s = one(&out, "own");
    assert_eq!((s.net.rx_bytes, s.net.tx_bytes), (Some(1100), Some(2200)));
    assert_eq!(s.net_namespace.as_deref(), Some("net:[4026532001]"));
    let s = one(&out, "hostnet");
    assert_eq!((s.net.rx_bytes, s.net.tx_bytes), (None, None));
    let s = one(&out, "unreadable");
    assert_eq!((s.net.rx_bytes, s.net.tx_bytes), (None, None));
    // Neither the link nor a recorded netns path: whose counters they are is unknown.
    let s = one(&out, "unknown-ns");
    assert_eq!((s.net.rx_bytes, s.net.tx_bytes), (None, None));
}

#[test]
fn vanished_cgroups_are_notes_and_stopped_containers_only_with_all() {
    let host = Host::new();
    let a = Ctr::new("a-running", 'a', 100);
    let b = Ctr::new("b-vanishing", 'b', 101);
    let mut c = Ctr::new("c-exited", 'c', 102);
    c.state = 6;
    host.containers(&[a, b.clone(), c]);
    host.remove_cgroup(&b);
    let mut collector = host.collector(FirstCpuPercent::Null, false);
    let mut out = vec![Sample::default(); 5];
    let report = collector.collect(host.at(0), &mut out).unwrap();
    assert!(report.errors.is_empty(), "{report:?}");
    assert_eq!(report.vanished.len(), 1, "{report:?}");
    assert_eq!(report.vanished[0].name, "b-vanishing");
    let names: Vec<&str> = out.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(
        names,
        ["a-running"],
        "the buffer is cut to this cycle's samples"
    );

    let mut all = host.collector(FirstCpuPercent::Null, true);
    all.collect(host.at(0), &mut out).unwrap();
    let names: Vec<&str> = out.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(names, ["a-running", "c-exited"]);
    let exited = one(&out, "c-exited");
    assert_eq!(exited.state.map(|s| s.as_str()), Some("exited"));
    assert_eq!(exited.cpu_ns, None);
    assert_eq!(exited.memory_bytes, None);
    assert_eq!(exited.net_namespace, None);
}

#[test]
fn metric_groups_left_out_are_null() {
    let host = Host::new();
    host.containers(&[Ctr::new("web", 'a', 100)]);
    let mut collector = Collector::new(
        HostRoot::new(&host.root).unwrap(),
        CollectorOptions {
            discovery: DiscoveryOptions {
                rootless_stores: false,
                ..DiscoveryOptions::default()
            },
            metrics: MetricGroups {
                cpu: true,
                ..MetricGroups::NONE
            },
            ..CollectorOptions::default()
        },
    )
    .unwrap();
    let mut out = Vec::new();
    collector.collect(host.at(0), &mut out).unwrap();
    let s = one(&out, "web");
    assert_eq!(s.cpu_ns, Some(1_000_000_000));
    assert_eq!(
        (
            s.memory_bytes,
            s.pids,
            s.block_read_bytes,
            s.net.rx_bytes,
            s.oom_kills
        ),
        (None, None, None, None, None)
    );
}

/// The seed plugin's two numbers alone: cpu time (with its rate) and the kernel's memory
/// usage, from one file each; nothing else is read.
#[test]
fn the_seed_group_reads_cpu_time_and_memory_usage_alone() {
    let host = Host::new();
    let mut web = Ctr::new("web", 'a', 100);
    host.containers(std::slice::from_ref(&web));
    let mut collector = Collector::new(
        HostRoot::new(&host.root).unwrap(),
        CollectorOptions {
            discovery: DiscoveryOptions {
                rootless_stores: false,
                ..DiscoveryOptions::default()
            },
            metrics: MetricGroups {
                seed: true,
                ..MetricGroups::NONE
            },
            ..CollectorOptions::default()
        },
    )
    .unwrap();
    let mut out = Vec::new();
    collector.collect(host.at(0), &mut out).unwrap();
    let s = one(&out, "web");
    assert_eq!(s.cpu_ns, Some(1_000_000_000));
    assert_eq!(s.memory_bytes, Some(50_000_000));
    assert_eq!(
        (
            s.cpu_user_ns,
            s.memory_working_set_bytes,
            s.memory_limit_bytes,
            s.pids,
            s.block_read_bytes,
            s.net.rx_bytes,
            s.oom_kills
        ),
        (None, None, None, None, None, None, None)
    );
    web.counters.usage_usec += 500_000;
    host.counters(&web);
    collector.collect(host.at(1), &mut out).unwrap();
    assert_eq!(one(&out, "web").cpu_percent, Some(50.0));
    let files = MetricGroups {
        seed: true,
        ..MetricGroups::NONE
    }
    .cgroup_files();
    assert_eq!(
        files.len(),
        4,
        "cpu.stat, cpuacct.usage, memory.current, usage_in_bytes"
    );
}

#[test]
fn pod_totals_count_a_shared_netns_once() {
    let host = Host::new();
    let pod = id('f');
    let mut infra = Ctr::new("pod-infra", 'a', 100);
    infra.pod = Some(pod.clone());
    let mut member = Ctr::new("pod-member", 'b', 101);
    member.pod = Some(pod.clone());
    member.counters.usage_usec = 3_000_000;
    let alone = Ctr::new("alone", 'c', 102);
    host.containers(&[infra.clone(), member.clone(), alone]);
    let mut collector = host.collector(FirstCpuPercent::Null, false);
    let mut out = Vec::new();
    let report = collector.collect(host.at(0), &mut out).unwrap();
    assert!(report.discovery_errors.is_empty(), "{report:?}");
    let pods = pod_samples(&out);
    assert_eq!(pods.len(), 1, "{pods:#?}");
    let p = &pods[0];
    assert_eq!(p.pod_id, pod);
    assert_eq!(p.containers, 2);
    assert_eq!(p.cpu_ns, Some(4_000_000_000));
    assert_eq!(p.memory_bytes, Some(100_000_000));
    assert_eq!(p.net.rx_bytes, Some(1100), "one netns, counted once");
    assert_eq!(p.cpu_percent, None, "first cycle");
    member.counters.usage_usec += 1_000_000;
    host.counters(&member);
    infra.counters.usage_usec += 500_000;
    host.counters(&infra);
    collector.collect(host.at(1), &mut out).unwrap();
    assert_eq!(pod_samples(&out)[0].cpu_percent, Some(150.0));
}

#[test]
fn replay_over_a_series_gives_rates_between_steps() {
    let tmp = tempfile::tempdir().unwrap();
    let mut c = Ctr::new("web", 'a', 100);
    for (step, usage) in [(0u64, 1_000_000u64), (1, 1_250_000), (2, 100_000)] {
        let host = Host::new();
        c.counters.usage_usec = usage;
        host.containers(std::slice::from_ref(&c));
        host.at(step * 2);
        let dest = tmp.path().join(format!("{step:03}"));
        copy_dir(&host.root, &dest);
    }
    let steps = libpod_stats::replay(
        tmp.path(),
        CollectorOptions {
            discovery: DiscoveryOptions {
                rootless_stores: false,
                ..DiscoveryOptions::default()
            },
            ..CollectorOptions::default()
        },
    )
    .unwrap();
    let rates: Vec<Option<f64>> = steps
        .iter()
        .map(|s| one(&s.samples, "web").cpu_percent)
        .collect();
    assert_eq!(rates, [None, Some(12.5), None]);
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let dest = to.join(entry.file_name());
        let ft = entry.file_type().unwrap();
        if ft.is_dir() {
            copy_dir(&entry.path(), &dest);
        } else if ft.is_symlink() {
            symlink(std::fs::read_link(entry.path()).unwrap(), dest).unwrap();
        } else {
            std::fs::copy(entry.path(), dest).unwrap();
        }
    }
}

#[test]
fn held_files_notice_a_removed_or_rewritten_snapshot_file() {
    let host = Host::new();
    let a = Ctr::new("a-stays", 'a', 100);
    let b = Ctr::new("b-goes", 'b', 101);
    host.containers(&[a.clone(), b.clone()]);
    let mut collector = host.collector(FirstCpuPercent::Null, false);
    let mut out = Vec::new();
    collector.collect(host.at(0), &mut out).unwrap();
    assert_eq!(out.len(), 2);
    assert_eq!(one(&out, "a-stays").net.rx_bytes, Some(1100));
    // b's cgroup is removed (a held file of a removed regular file would still read), and
    // a's net/dev is replaced by a new file with other counters.
    host.remove_cgroup(&b);
    let dev = host.root.join("proc/100/net/dev");
    let text = std::fs::read_to_string(&dev)
        .unwrap()
        .replace("eth0:    1000", "eth0:    5000");
    std::fs::remove_file(&dev).unwrap();
    std::fs::write(&dev, text).unwrap();
    let report = collector.collect(host.at(1), &mut out).unwrap();
    assert_eq!(report.vanished.len(), 1, "{report:?}");
    assert_eq!(report.vanished[0].name, "b-goes");
    let names: Vec<&str> = out.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(names, ["a-stays"]);
    assert_eq!(one(&out, "a-stays").net.rx_bytes, Some(5100));
}
