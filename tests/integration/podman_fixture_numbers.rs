//! Our numbers against podman's own, over every fixture that recorded `podman stats` right
//! after its files were read (`expected/stats-raw.jsonl`): the same containers, the same
//! memory limit, pids and block I/O, the same CPU time and memory usage for containers that
//! hold still, and podman's `AvgCPU` from our formula at podman's own moment. Fixtures that
//! hold only a state database (no cgroupfs) are left out.
//!
//! Podman 4.3 swaps network input and output (fixed in 4.4), so our `net_rx_bytes` is its
//! `NetOutput` and our `net_tx_bytes` its `NetInput`.

use std::path::{Path, PathBuf};

use libpod_stats::{
    Collector, CollectorOptions, DiscoveryOptions, FirstCpuPercent, HostRoot, MetricGroups, Sample,
    Timestamp,
};
use serde_json::Value;

fn fixtures_with_podman_stats() -> Vec<PathBuf> {
    let base = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures");
    let mut out = Vec::new();
    for set in ["cgroupv1", "cgroupv2", "libpod-state"] {
        let Ok(entries) = std::fs::read_dir(base.join(set)) else {
            continue;
        };
        for e in entries.flatten() {
            // State-only fixtures (no cgroupfs captured) have nothing to compare.
            if e.path().join("expected/stats-raw.jsonl").is_file()
                && e.path().join("sys/fs/cgroup").is_dir()
            {
                out.push(e.path());
            }
        }
    }
    out.sort();
    out
}

fn collect(dir: &Path, at_ns: u64) -> Vec<Sample> {
    let mut c = Collector::new(
        HostRoot::new(dir).unwrap(),
        CollectorOptions {
            discovery: DiscoveryOptions::default(),
            all: false,
            metrics: MetricGroups::ALL,
            first_cpu_percent: FirstCpuPercent::SinceStart,
            max_open_files: None,
            filter: Default::default(),
        },
    )
    .unwrap();
    let mut out = Vec::new();
    c.collect(Timestamp::at(at_ns), &mut out).unwrap();
    out
}

#[test]
fn numbers_match_podman_stats_recorded_with_each_fixture() {
    let fixtures = fixtures_with_podman_stats();
    let mut checked = 0;
    for dir in &fixtures {
        let text = std::fs::read_to_string(dir.join("expected/stats-raw.jsonl")).unwrap();
        let all: Vec<Value> = text
            .lines()
            .filter(|l| !l.trim().is_empty())
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        // Podman 4.3 also lists created and exited containers, all zeros; we leave them out.
        let (podman, zeros): (Vec<Value>, Vec<Value>) = all
            .into_iter()
            .partition(|p| p["CPUNano"].as_u64() != Some(0));
        assert!(zeros.iter().all(|p| p["MemUsage"] == 0 && p["PIDs"] == 0));
        let meta = libpod_stats::SnapshotMeta::read(dir).unwrap();
        let ours = collect(dir, meta.taken_at_ns);
        let mut our_ids: Vec<&str> = ours.iter().map(|s| s.id.as_str()).collect();
        let mut their_ids: Vec<&str> = podman
            .iter()
            .map(|p| p["ContainerID"].as_str().unwrap())
            .collect();
        our_ids.sort();
        their_ids.sort();
        assert_eq!(
            our_ids, their_ids,
            "{dir:?}: the running and paused containers"
        );
        for p in &podman {
            let id = p["ContainerID"].as_str().unwrap();
            let s = ours.iter().find(|s| s.id == id).unwrap();
            let what = format!("{dir:?} {}", s.name);
            assert_eq!(s.memory_limit_bytes, p["MemLimit"].as_u64(), "{what}");
            assert_eq!(s.pids, p["PIDs"].as_u64(), "{what}");
            assert_eq!(s.block_read_bytes, p["BlockInput"].as_u64(), "{what}");
            assert_eq!(s.block_write_bytes, p["BlockOutput"].as_u64(), "{what}");
            let cpu_nano = p["CPUNano"].as_u64().unwrap();
            let cpu = s.cpu_ns.unwrap();
            assert!(cpu <= cpu_nano, "{what}: files were read before podman ran");
            if cpu != cpu_nano {
                // A busy container moved on between the two reads; nothing else to compare.
                continue;
            }
            assert_eq!(s.memory_bytes, p["MemUsage"].as_u64(), "{what}");
            assert_eq!(s.net.rx_bytes, p["NetOutput"].as_u64(), "{what}");
            assert_eq!(s.net.tx_bytes, p["NetInput"].as_u64(), "{what}");
            // podman's average since start, at podman's own moment.
            let at = p["SystemNano"].as_u64().unwrap();
            let again = collect(dir, at);
            let ours_avg = again
                .iter()
                .find(|s| s.id == id)
                .unwrap()
                .cpu_percent
                .unwrap();
            let theirs = p["AvgCPU"].as_f64().unwrap();
            assert!(
                (ours_avg - theirs).abs() <= theirs.abs() * 1e-6,
                "{what}: AvgCPU {theirs} vs ours {ours_avg}"
            );
            checked += 1;
        }
    }
    eprintln!(
        "{checked} containers of {} fixtures matched podman exactly",
        fixtures.len()
    );
    if fixtures.is_empty() {
        eprintln!("note: no fixture records podman stats yet");
    } else {
        assert!(checked > 0, "no container held still in any fixture");
    }
}

/// A pod whose infra container and member share one network namespace (the `podman-net`
/// fixture: real podman on its default bridge) counts that namespace's traffic once.
#[test]
fn pod_traffic_is_counted_once_per_namespace() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/cgroupv1/podman-net");
    if !dir.is_dir() {
        eprintln!("note: no podman-net fixture");
        return;
    }
    let meta = libpod_stats::SnapshotMeta::read(&dir).unwrap();
    let samples = collect(&dir, meta.taken_at_ns);
    let members: Vec<&Sample> = samples.iter().filter(|s| s.pod_id.is_some()).collect();
    assert_eq!(members.len(), 2, "{samples:#?}");
    assert_eq!(members[0].net_namespace, members[1].net_namespace);
    assert!(members[0].net.rx_bytes.is_some_and(|b| b > 0));
    let pods = libpod_stats::pod_samples(&samples);
    assert_eq!(pods.len(), 1);
    assert_eq!(pods[0].net.rx_bytes, members[0].net.rx_bytes);
    assert_eq!(pods[0].net.tx_bytes, members[0].net.tx_bytes);
    assert_eq!(
        pods[0].memory_bytes,
        Some(members.iter().map(|s| s.memory_bytes.unwrap()).sum())
    );
}
