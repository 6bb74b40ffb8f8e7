//! After warm-up, a collector read cycle makes no heap allocation at all: counted with a
//! counting global allocator over N containers (some in a pod, each in a network namespace
//! of its own), on synthesized snapshots of every layout and, where cgroupfs is writable, on
//! real cgroups of this machine.
//!
//! Also the descriptor budget: past `max_open_files` the collector reads by path (open,
//! read, close) and still reports the same numbers.

use libpod_stats_test_support::counting_alloc;
use libpod_stats_test_support::health;
use libpod_stats_test_support::live;
use libpod_stats_test_support::skip;

use counting_alloc::{allocations, Counting};
use libpod_stats::internals::stats::SLOW_FILES_EVERY;
use libpod_stats::{
    Collector, CollectorOptions, DiscoveryOptions, HostRoot, MetricGroups, Sample, Timestamp,
};
use libpod_stats_testing::{Built, ContainerSpec, HostBuilder, Layout, PodSpec};

#[global_allocator]
static GLOBAL: Counting = Counting;

const N: usize = 40;

fn options(max_open_files: Option<usize>) -> CollectorOptions {
    CollectorOptions {
        discovery: DiscoveryOptions {
            rootless_stores: false,
            ..DiscoveryOptions::default()
        },
        metrics: MetricGroups::ALL,
        max_open_files,
        ..CollectorOptions::default()
    }
}

/// Gives every container a network namespace of its own (`/proc/<pid>/ns/net` links that
/// differ from pid 1's), so the cycle reads `net/dev` too.
fn own_netns(built: &Built) {
    let link = |pid: u32, target: &str| {
        let dir = built.dir.join(format!("proc/{pid}/ns"));
        std::fs::create_dir_all(&dir).unwrap();
        std::os::unix::fs::symlink(target, dir.join("net")).unwrap();
    };
    link(1, "net:[4026531840]");
    for (i, c) in built.containers.iter().enumerate() {
        link(c.pid.unwrap(), &format!("net:[{}]", 4026532000 + i));
    }
}

/// `n` containers, every third in a pod (whose cgroup parent and totals are on the path too).
fn host(layout: Layout, n: usize) -> HostBuilder {
    let mut b = HostBuilder::new()
        .layout(layout)
        .pod(PodSpec::new("lpstest-pod"));
    for i in 0..n {
        let c = ContainerSpec::new(&format!("c{i:04}"))
            .with_counters(|c| c.cpu_ns = 1_000_000_000 + i as u64);
        b = b.container(if i % 3 == 0 { c.pod("lpstest-pod") } else { c });
    }
    b
}

/// Warms `collector` up (discovery, handles, buffers, one slow-file cycle), then returns
/// the allocations of `cycles` further cycles and the samples of the last.
fn steady_allocations(collector: &mut Collector, cycles: u64) -> (usize, Vec<Sample>) {
    let mut out = Vec::new();
    let mut ns = 1_000_000_000u64;
    for _ in 0..SLOW_FILES_EVERY + 2 {
        ns += 1_000_000_000;
        collector.collect(Timestamp::at(ns), &mut out).unwrap();
    }
    let n = allocations(|| {
        for _ in 0..cycles {
            ns += 1_000_000_000;
            let report = collector.collect(Timestamp::at(ns), &mut out).unwrap();
            assert!(!report.rediscovered);
            assert!(report.errors.is_empty() && report.vanished.is_empty());
        }
    });
    (n, out)
}

#[test]
fn a_steady_cycle_allocates_nothing_on_snapshots() {
    for layout in [Layout::Hybrid, Layout::V1, Layout::V1CoMounted, Layout::V2] {
        let dir = tempfile::tempdir().unwrap();
        let built = host(layout, N).build(dir.path()).unwrap();
        own_netns(&built);
        // Every other container has a health check and its log: a `stat` per cycle.
        let checked: Vec<&str> = built
            .containers
            .iter()
            .step_by(2)
            .map(|c| c.id.as_str())
            .collect();
        health::give_health_check(dir.path(), &checked, serde_json::json!(["CMD", "true"]));
        for id in &checked {
            health::write_health_log(
                dir.path(),
                id,
                r#"{"Status":"healthy","FailingStreak":0,"Log":[]}"#,
            );
        }
        let mut collector =
            Collector::new(HostRoot::new(dir.path()).unwrap(), options(None)).unwrap();
        let (n, out) = steady_allocations(&mut collector, 2 * SLOW_FILES_EVERY);
        assert_eq!(out.len(), N, "{layout:?}");
        assert_eq!(
            out.iter().filter(|s| s.health_code == Some(0)).count(),
            checked.len(),
            "{layout:?}"
        );
        assert!(out
            .iter()
            .all(|s| s.cpu_ns.is_some() && s.memory_bytes.is_some()));
        assert!(out.iter().all(|s| s.net.rx_bytes.is_some()), "{layout:?}");
        assert!(out.iter().all(|s| s.cpu_percent.is_some()), "{layout:?}");
        assert_eq!(
            out.iter().filter(|s| s.pod_id.is_some()).count(),
            N.div_ceil(3),
            "{layout:?}"
        );
        assert_eq!(collector.held_containers(), N, "{layout:?}");
        assert_eq!(n, 0, "{layout:?}: {n} allocations in steady cycles");
    }
}

#[test]
fn past_the_descriptor_budget_files_are_read_by_path() {
    let dir = tempfile::tempdir().unwrap();
    own_netns(&host(Layout::Hybrid, 12).build(dir.path()).unwrap());
    let root = HostRoot::new(dir.path()).unwrap();
    let mut unbounded = Collector::new(root.clone(), options(None)).unwrap();
    // Room for about three containers' files (about 20 each with every group on hybrid).
    let mut bounded = Collector::new(root, options(Some(60))).unwrap();
    let (mut a, mut b) = (Vec::new(), Vec::new());
    for step in 1..=3 {
        let at = Timestamp::at(step * 1_000_000_000);
        unbounded.collect(at, &mut a).unwrap();
        bounded.collect(at, &mut b).unwrap();
        assert_eq!(a, b, "same numbers within and past the budget");
        assert!(bounded.open_files() <= 60, "{}", bounded.open_files());
        assert!(bounded.held_containers() >= 1 && bounded.held_containers() < 12);
    }
    assert_eq!(unbounded.held_containers(), 12);
    assert_eq!(a.len(), 12);

    // No budget at all: nothing held, everything still read.
    let mut none = Collector::new(HostRoot::new(dir.path()).unwrap(), options(Some(0))).unwrap();
    none.collect(Timestamp::at(1_000_000_000), &mut b).unwrap();
    assert_eq!((none.open_files(), none.held_containers()), (0, 0));
    assert_eq!(b.len(), 12);
    assert!(b
        .iter()
        .all(|s| s.cpu_ns.is_some() && s.net.rx_bytes.is_some()));
}

#[test]
fn a_steady_cycle_allocates_nothing_on_live_cgroups() {
    let live = match live::LiveHost::create("alloc", N) {
        Ok(live) => live,
        Err(note) => {
            skip::skip_or_fail(&format!("live cgroups: {note}"));
            return;
        }
    };
    let mut collector = Collector::new(live.root().clone(), options(None)).unwrap();
    // Live roots run on the live clocks.
    let mut out = Vec::new();
    for _ in 0..SLOW_FILES_EVERY + 2 {
        collector.collect(Timestamp::now(), &mut out).unwrap();
    }
    let n = allocations(|| {
        for _ in 0..2 * SLOW_FILES_EVERY {
            let report = collector.collect(Timestamp::now(), &mut out).unwrap();
            assert!(!report.rediscovered);
            assert!(report.errors.is_empty(), "{report:?}");
        }
    });
    assert_eq!(out.len(), N);
    assert!(out
        .iter()
        .all(|s| s.cpu_ns.is_some() && s.memory_bytes.is_some()));
    assert_eq!(n, 0, "{n} allocations in steady cycles on live cgroupfs");

    // A removed cgroup: the held files answer ENODEV, the container is reported vanished
    // and the next cycle re-discovers.
    live.remove_container_cgroup(0);
    let report = collector.collect(Timestamp::now(), &mut out).unwrap();
    assert_eq!(report.vanished.len(), 1, "{report:?}");
    assert_eq!(out.len(), N - 1);
    let report = collector.collect(Timestamp::now(), &mut out).unwrap();
    assert!(report.rediscovered);
}
