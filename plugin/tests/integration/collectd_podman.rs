//! The plugin inside the real collectd reading real podman 4.3 containers (runc, cgroupfs
//! manager, a store of the test's own, found through `Store`): a cpu burner, an idle
//! container, and a pod with one member. collectd's CSV must carry their numbers: growing cpu
//! time, a busy percent for the burner, the kernel's own memory usage, the pids limit podman
//! set (`pids.max`), and the pod's totals under `libpodstats_pod`.

use crate::support;

use libpod_stats_test_support::podman;

use std::time::Duration;

use podman::PodmanHarness;
use support::{collectd_available, Daemon};

#[test]
fn real_podman_containers_reach_collectd_csv() {
    if !collectd_available() {
        return;
    }
    let Some(h) = PodmanHarness::new() else {
        return;
    };
    h.run_detached("lpstest-plg-burner", &[], &["sh", "-c", "yes > /dev/null"]);
    let idle_id = h.run_detached("lpstest-plg-idle", &[], &["sleep", "1000"]);
    let pod_id = h.pod_create("lpstest-plg-pod");
    h.run_detached(
        "lpstest-plg-member",
        &["--pod", "lpstest-plg-pod"],
        &["sleep", "1000"],
    );
    let infra = format!("{}-infra", &pod_id[..12]);

    // Only this test's containers: other stores on the host may hold others.
    let block = format!(
        "  Store \"{}\"\n  RootlessStores false\n  Include \"^lpstest-plg-\" \"^{infra}$\"",
        h.graphroot().display()
    );
    let mut d = Daemon::new(Some(&block));
    d.start();
    let enough = d.wait_for(Duration::from_secs(40), |d| {
        d.csv("libpodstats-lpstest-plg-burner", "pod_cpu").len() >= 4
    });
    d.stop();
    let log = d.log();
    assert!(enough, "too few rows; dirs {:?}\n{log}", d.csv_dirs());
    assert!(!log.contains("read failed"), "{log}");

    let burner = d.csv("libpodstats-lpstest-plg-burner", "pod_cpu");
    eprintln!("burner pod_cpu rows (epoch, [percent, time ns]): {burner:?}");
    let times: Vec<f64> = burner.iter().map(|(_, v)| v[1].parse().unwrap()).collect();
    assert!(times.windows(2).all(|w| w[1] > w[0]), "{times:?}");
    let percents: Vec<f64> = burner
        .iter()
        .map(|(_, v)| v[0].parse().unwrap_or(f64::NAN))
        .collect();
    assert!(percents[0].is_nan(), "{percents:?}");
    assert!(percents[1..].iter().all(|p| *p > 5.0), "{percents:?}");

    // The idle container: its cpu time is flat, memory is what the kernel says.
    let idle = d.csv("libpodstats-lpstest-plg-idle", "pod_memory");
    let last_mem: f64 = idle.last().expect("idle pod_memory rows").1[0]
        .parse()
        .unwrap();
    let cgroup = h.cgroup_path("lpstest-plg-idle");
    let usage_file = format!("/sys/fs/cgroup/memory{cgroup}/memory.usage_in_bytes");
    let kernel: f64 = std::fs::read_to_string(&usage_file)
        .unwrap_or_else(|e| panic!("{usage_file}: {e}"))
        .trim()
        .parse()
        .unwrap();
    assert!(
        (last_mem - kernel).abs() <= kernel * 0.05,
        "pod_memory {last_mem} vs {usage_file} {kernel}"
    );
    assert!(idle_id.len() == 64);
    let pids = d.csv("libpodstats-lpstest-plg-idle", "pod_pids");
    assert!(pids.iter().all(|(_, v)| v[0] == "1.000000"), "{pids:?}");
    let detail = d.csv("libpodstats-lpstest-plg-idle", "pod_memory_detail");
    assert!(
        detail.iter().any(|(_, v)| v.len() == 4 && v[2] != "nan"),
        "memory limit in pod_memory_detail: {detail:?}; dirs {:?}",
        d.csv_dirs()
    );
    // The pids limit podman set (pids.max), or no list at all when unlimited.
    let max_file = format!("/sys/fs/cgroup/pids{cgroup}/pids.max");
    let max = std::fs::read_to_string(&max_file)
        .unwrap_or_else(|e| panic!("{max_file}: {e}"))
        .trim()
        .to_string();
    let pids_limit = d.csv("libpodstats-lpstest-plg-idle", "pod_pids_limit");
    if max == "max" {
        assert!(pids_limit.is_empty(), "unlimited, yet {pids_limit:?}");
    } else {
        let want = format!("{max}.000000");
        assert!(
            !pids_limit.is_empty() && pids_limit.iter().all(|(_, v)| v[0] == want),
            "pod_pids_limit {pids_limit:?} vs {max_file} {max}"
        );
    }

    // The pod: infra + member, under its own plugin.
    let count = d.csv("libpodstats_pod-lpstest-plg-pod", "count-containers");
    assert!(
        !count.is_empty() && count.iter().all(|(_, v)| v[0] == "2.000000"),
        "{count:?}; dirs {:?}",
        d.csv_dirs()
    );
    let pod_cpu = d.csv("libpodstats_pod-lpstest-plg-pod", "pod_cpu");
    assert!(!pod_cpu.is_empty(), "{:?}", d.csv_dirs());
    // The pod's own cgroup (`/libpod_parent/<pod id>`) is read for its memory limit (host
    // MemTotal here: the pod has none of its own); a sum of members would have none.
    let pod_memory = d.csv("libpodstats_pod-lpstest-plg-pod", "pod_memory_detail");
    assert!(
        pod_memory
            .iter()
            .any(|(_, v)| v.len() == 4 && v[2] != "nan"),
        "pod memory limit: {pod_memory:?}\n{}",
        d.log()
    );
}
