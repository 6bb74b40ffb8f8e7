//! A pod's limits and pressure come from the pod's own cgroup, against real podman (4.3
//! here, cgroupfs: `/libpod_parent/<podid>`): a pod made with `--cpus 0.5 --memory 64m` and
//! two members, one of them with a smaller limit of its own. The pod totals'
//! `cpu_limit_cores`, `memory_limit_bytes`, `pids_limit` and `pressure` are the pod
//! cgroup's files (not a sum of the members'), live and through a capture replayed; the
//! counters stay sums of the members.
//!
//! Runs under the podman lock; the harness removes its pods and containers, also on failure;
//! with `CI=true` it fails when podman cannot be used.

use crate::support;

use std::path::{Path, PathBuf};

use libpod_stats::{
    Collector, CollectorOptions, DiscoveryOptions, HostRoot, PodSample, PressureStats, Timestamp,
};
use libpod_stats_test_support::podman::PodmanHarness;
use support::cli::{cli, stdout_of};

/// The pod's cgroup directory in hierarchy `ctrl` (`""` on a v2-only host).
fn dir(ctrl: &str, cgroup: &str) -> PathBuf {
    let unified_only = Path::new("/sys/fs/cgroup/cgroup.controllers").is_file();
    let ctrl = if unified_only { "" } else { ctrl };
    Path::new("/sys/fs/cgroup")
        .join(ctrl)
        .join(cgroup.trim_start_matches('/'))
}

fn read(path: PathBuf) -> Option<String> {
    std::fs::read_to_string(path)
        .ok()
        .map(|s| s.trim().to_string())
}

/// The kernel's cpu quota of `cgroup` in cores, `None` when unlimited.
fn kernel_cores(cgroup: &str) -> Option<f64> {
    if let Some(max) = read(dir("", cgroup).join("cpu.max")) {
        let (quota, period) = max.split_once(' ')?;
        return Some(quota.parse::<f64>().ok()? / period.parse::<f64>().ok()?);
    }
    let quota: i64 = read(dir("cpu", cgroup).join("cpu.cfs_quota_us"))?
        .parse()
        .ok()?;
    let period: f64 = read(dir("cpu", cgroup).join("cpu.cfs_period_us"))?
        .parse()
        .ok()?;
    (quota > 0).then(|| quota as f64 / period)
}

fn kernel_memory_limit(cgroup: &str) -> Option<u64> {
    read(dir("", cgroup).join("memory.max"))
        .or_else(|| read(dir("memory", cgroup).join("memory.limit_in_bytes")))?
        .parse()
        .ok()
}

fn kernel_pids_limit(cgroup: &str) -> Option<u64> {
    read(dir("pids", cgroup).join("pids.max"))?.parse().ok()
}

/// The pressure file of the pod's cgroup where the host has one (`unified` on a hybrid
/// host): its `some` `total=`.
fn kernel_cpu_pressure_total(cgroup: &str) -> Option<u64> {
    let hybrid = Path::new("/sys/fs/cgroup/unified").is_dir();
    let d = if hybrid {
        dir("unified", cgroup)
    } else {
        dir("", cgroup)
    };
    let text = read(d.join("cpu.pressure"))?;
    let some = text.lines().find(|l| l.starts_with("some "))?;
    some.split_whitespace()
        .find_map(|f| f.strip_prefix("total="))?
        .parse()
        .ok()
}

fn pod_of<'a>(pods: &'a [PodSample], name: &str) -> &'a PodSample {
    pods.iter()
        .find(|p| p.pod_name.as_deref() == Some(name))
        .unwrap_or_else(|| panic!("no pod {name}: {pods:#?}"))
}

#[test]
fn pod_limits_and_pressure_are_the_pod_cgroups() {
    let Some(h) = PodmanHarness::new() else {
        return;
    };
    const POD: &str = "lpstest-pc-pod";
    h.run([
        "pod",
        "create",
        "--name",
        POD,
        "--network",
        "none",
        "--cpus",
        "0.5",
        "--memory",
        "64m",
    ]);
    h.run_detached("lpstest-pc-a", &["--pod", POD], &["sleep", "1000"]);
    h.run_detached(
        "lpstest-pc-b",
        &["--pod", POD, "--memory", "16m"],
        &["sh", "-c", "yes > /dev/null"],
    );
    let pod_cgroup = h
        .run(["pod", "inspect", "--format", "{{.CgroupPath}}", POD])
        .trim()
        .to_string();
    assert!(
        pod_cgroup.ends_with(
            &h.run(["pod", "inspect", "--format", "{{.Id}}", POD])
                .trim()
                .to_string()
        ),
        "{pod_cgroup}"
    );

    let opts = CollectorOptions {
        discovery: DiscoveryOptions {
            rootless_stores: false,
            extra_stores: vec![h.graphroot().to_path_buf()],
            ..DiscoveryOptions::default()
        },
        ..CollectorOptions::default()
    };
    let mut collector = Collector::new(HostRoot::live(), opts).unwrap();
    let mut samples = Vec::new();
    let mut totals = Vec::new();
    for _ in 0..2 {
        let before = kernel_cpu_pressure_total(&pod_cgroup);
        let mut report = collector.collect(Timestamp::now(), &mut samples).unwrap();
        let pods = collector.pod_samples(&samples, &mut report);
        let after = kernel_cpu_pressure_total(&pod_cgroup);
        assert!(report.errors.is_empty(), "{report:?}");
        let pod = pod_of(&pods, POD).clone();
        totals.push(pod.pressure.and_then(|p| p.cpu).map(|c| c.some.total_us));
        match (before, after, pod.pressure) {
            (Some(b), Some(a), Some(PressureStats { cpu: Some(cpu), .. })) => {
                assert!((b..=a).contains(&cpu.some.total_us), "{b} {cpu:?} {a}");
            }
            (None, None, None) => {}
            other => panic!("pressure file and figure disagree: {other:?}"),
        }
        std::thread::sleep(std::time::Duration::from_millis(500));
    }
    let pods = collector.pod_samples(&samples, &mut Default::default());
    let pod = pod_of(&pods, POD);
    assert_eq!(pod.containers, 3, "infra and two members: {pod:#?}");
    assert_eq!(pod.cpu_limit_cores, Some(0.5));
    assert_eq!(pod.cpu_limit_cores, kernel_cores(&pod_cgroup));
    assert_eq!(pod.memory_limit_bytes, Some(64 << 20));
    assert_eq!(pod.memory_limit_bytes, kernel_memory_limit(&pod_cgroup));
    assert_eq!(pod.pids_limit, kernel_pids_limit(&pod_cgroup));
    // Not the members' sum: one member has 16 MiB, the others none (MemTotal).
    let members: Vec<_> = samples
        .iter()
        .filter(|s| s.pod_name.as_deref() == Some(POD))
        .collect();
    let member_limits: Vec<Option<u64>> = members.iter().map(|s| s.memory_limit_bytes).collect();
    assert!(member_limits.contains(&Some(16 << 20)), "{member_limits:?}");
    // The counters stay sums of the members.
    let cpu: u64 = members.iter().map(|s| s.cpu_ns.unwrap()).sum();
    assert_eq!(pod.cpu_ns, Some(cpu));
    if let [Some(first), Some(second)] = totals[..] {
        assert!(
            second > first,
            "the busy member stalls on the pod's quota: {totals:?}"
        );
    }

    // A capture holds the pod's cgroup: its replay has the same limits.
    let tmp = tempfile::tempdir().unwrap();
    let snap = tmp.path().join("snap");
    stdout_of(
        cli()
            .args(["--no-rootless", "--store"])
            .arg(h.graphroot())
            .args(["capture", "--out"])
            .arg(&snap),
    );
    let replay: serde_json::Value = serde_json::from_slice(&stdout_of(
        cli().arg("replay").arg(&snap).args(["--format", "json"]),
    ))
    .unwrap();
    let replayed = replay[0]["pods"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["pod_name"] == POD)
        .unwrap_or_else(|| panic!("{replay:#}"));
    assert_eq!(replayed["cpu_limit_cores"], serde_json::json!(0.5));
    assert_eq!(
        replayed["memory_limit_bytes"],
        serde_json::json!(64u64 << 20)
    );
    assert_eq!(
        replayed["pressure"].is_null(),
        pod.pressure.is_none(),
        "{replayed:#}"
    );
}
