//! Throttling, pressure and OOM kills against real podman containers and the kernel's own
//! files (issue 16):
//!
//! - a container with `--cpus 0.2` running a busy loop: between two samples its
//!   `cpu_throttled_periods`, `cpu_periods` and `cpu_throttled_ns` grow, each sample lies
//!   between the `cpu.stat` readings taken around it, `cpu_limit_cores` is 0.2, and the
//!   cpu pressure's `total_us` grows where the host gives the container a cgroup with
//!   `cpu.pressure` (on this hybrid host: its `unified` hierarchy; elsewhere it must be
//!   `null`);
//! - a container with `--memory 16m` whose child is OOM-killed while the container keeps
//!   running: `memory_events.oom_kill`, `oom_kills` and `memory_events.max` are 1 or more,
//!   equal to the kernel's counters.
//!
//! Runs under the podman lock; with `CI=true` it fails when podman cannot be used.

use crate::support;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use libpod_stats_test_support::podman::PodmanHarness;
use serde_json::Value;
use support::libpod_stats;

/// The cgroup directory of `cgroup` in hierarchy `ctrl` (`""` on a v2-only host).
fn dir(ctrl: &str, cgroup: &str) -> PathBuf {
    Path::new("/sys/fs/cgroup")
        .join(ctrl)
        .join(cgroup.trim_start_matches('/'))
}

/// True when this host mounts cgroup v2 alone at /sys/fs/cgroup.
fn unified_only() -> bool {
    Path::new("/sys/fs/cgroup/cgroup.controllers").is_file()
}

/// The hierarchy holding `cpu.stat` with throttling, and the one holding `memory.*`.
fn cpu_dir(cgroup: &str) -> PathBuf {
    dir(if unified_only() { "" } else { "cpu" }, cgroup)
}

fn memory_dir(cgroup: &str) -> PathBuf {
    dir(if unified_only() { "" } else { "memory" }, cgroup)
}

/// Where `cpu.pressure` of the container's cgroup would be.
fn cpu_pressure(cgroup: &str) -> PathBuf {
    dir(if unified_only() { "" } else { "unified" }, cgroup).join("cpu.pressure")
}

/// `key value` from a flat keyed file.
fn keyed(path: &Path, key: &str) -> u64 {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{path:?}: {e}"));
    text.lines()
        .find_map(|l| l.strip_prefix(key)?.strip_prefix(' ')?.trim().parse().ok())
        .unwrap_or_else(|| panic!("{path:?} has no {key}: {text}"))
}

/// Our sample of the container `name`.
fn sample(h: &PodmanHarness, name: &str) -> Value {
    let samples = libpod_stats(h, &["stats", "--no-stream", "--format", "json", name]);
    let list = samples.as_array().unwrap();
    assert_eq!(list.len(), 1, "{samples:#}");
    list[0].clone()
}

fn u(v: &Value, key: &str) -> u64 {
    v[key]
        .as_u64()
        .unwrap_or_else(|| panic!("{key} is not a number in {v:#}"))
}

#[test]
fn a_cpu_limited_busy_loop_is_throttled_and_under_pressure() {
    let Some(h) = PodmanHarness::new() else {
        return;
    };
    let name = "lpstest-th-busy";
    h.run_detached(
        name,
        &["--cpus", "0.2"],
        &["sh", "-c", "while :; do :; done"],
    );
    let cgroup = h.cgroup_path(name);
    let stat = cpu_dir(&cgroup).join("cpu.stat");
    let throttled_key = "nr_throttled";
    // Let the loop meet its quota a few times.
    std::thread::sleep(Duration::from_millis(500));

    let mut taken = Vec::new();
    for _ in 0..2 {
        let before = keyed(&stat, throttled_key);
        let s = sample(&h, name);
        let after = keyed(&stat, throttled_key);
        let ours = u(&s, "cpu_throttled_periods");
        assert!(
            (before..=after).contains(&ours),
            "cpu_throttled_periods {ours} not within the kernel's [{before}, {after}]"
        );
        taken.push(s);
        std::thread::sleep(Duration::from_millis(1500));
    }
    let (first, second) = (&taken[0], &taken[1]);
    for key in ["cpu_throttled_periods", "cpu_periods", "cpu_throttled_ns"] {
        assert!(
            u(second, key) > u(first, key),
            "{key} did not grow: {} then {}",
            first[key],
            second[key]
        );
    }
    let cores = first["cpu_limit_cores"].as_f64().expect("cpu_limit_cores");
    assert!((cores - 0.2).abs() < 1e-9, "cpu_limit_cores {cores}");

    let total = |s: &Value| s["pressure"]["cpu"]["some"]["total_us"].as_u64();
    if cpu_pressure(&cgroup).is_file() {
        let (a, b) = (total(first), total(second));
        eprintln!(
            "cpu pressure of {:?}: total_us {a:?} then {b:?}",
            cpu_pressure(&cgroup)
        );
        assert!(
            matches!((a, b), (Some(a), Some(b)) if b > a),
            "cpu pressure total_us did not grow: {a:?} then {b:?}"
        );
    } else {
        // No cgroup with PSI files for this container (a v1 host without a `unified`
        // hierarchy, or one where the runtime does not join it): no pressure at all.
        assert_eq!(first["pressure"], Value::Null, "{first:#}");
    }
}

#[test]
fn an_oom_killed_child_is_counted_while_the_container_runs() {
    let Some(h) = PodmanHarness::new() else {
        return;
    };
    // The kernel picks the OOM victim, and now and then it goes on to kill the container's
    // `sh` as well (its pid 1; root here lacks CAP_SYS_RESOURCE, so no process can be exempt):
    // the container is then gone, which says nothing about our counting. Such a run is
    // noted and made again, up to five times; every assertion is made on a run whose
    // container kept running.
    // conmon writes a file `oom` into its working directory on an OOM kill: the harness runs
    // podman in its own scratch dir, so nothing appears in ours
    let stray = std::env::current_dir().expect("cwd").join("oom");
    let stray_before = stray.exists();
    for attempt in 1..=5 {
        let name = format!("lpstest-oom-child-{attempt}");
        match oom_child_run(&h, &name) {
            Ok(()) => {
                assert!(
                    stray_before || !stray.exists(),
                    "{stray:?} appeared: a podman helper wrote into the test's working directory"
                );
                return;
            }
            Err(why) => eprintln!("note: attempt {attempt}: {why}; trying again"),
        }
        h.rm(&name);
    }
    panic!("in five runs the kernel's OOM killer never left the container running");
}

/// One run: `Err` when the container did not survive its child's OOM kill, else the
/// assertions.
fn oom_child_run(h: &PodmanHarness, name: &str) -> Result<(), String> {
    // `tail` keeps the last "line" of a stream without newlines whole: 64 MiB in a 16 MiB
    // cgroup, so the OOM killer picks it (it also raises its own score; raising needs no
    // privilege) and `sh` waits on `sleep`.
    h.run_detached(
        name,
        &["--memory", "16m"],
        &[
            "sh",
            "-c",
            "sleep 1000 & head -c 67108864 /dev/zero | \
             sh -c 'echo 1000 > /proc/self/oom_score_adj && exec tail' > /dev/null; wait",
        ],
    );
    let cgroup = h.cgroup_path(name);
    let mem = memory_dir(&cgroup);
    let (events, kill_key) = if unified_only() {
        (mem.join("memory.events"), "oom_kill")
    } else {
        (mem.join("memory.oom_control"), "oom_kill")
    };
    let running = || h.inspect(name, "{{.State.Status}}") == "running" && events.exists();
    let gone = || {
        format!(
            "the container ended: podman says {}",
            h.inspect(
                name,
                "{{.State.Status}} oom={{.State.OOMKilled}} exit={{.State.ExitCode}}"
            )
        )
    };
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if !running() {
            return Err(gone());
        }
        if keyed(&events, kill_key) > 0 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "no OOM kill in {events:?} within 30 s"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    // Let the kernel finish with the victim before reading.
    std::thread::sleep(Duration::from_millis(300));
    if !running() {
        return Err(gone());
    }
    let kernel_kills = keyed(&events, kill_key);
    let s = sample(h, name);
    assert_eq!(s["state"], "running", "the container keeps running: {s:#}");
    assert_eq!(u(&s, "oom_kills"), kernel_kills, "{s:#}");
    let e = &s["memory_events"];
    assert_eq!(e["oom_kill"].as_u64(), Some(kernel_kills), "{s:#}");
    assert!(kernel_kills >= 1);
    assert!(e["max"].as_u64().is_some_and(|m| m >= 1), "{s:#}");
    let limit = s["memory_limit_bytes"].as_u64();
    assert_eq!(limit, Some(16 << 20), "{s:#}");
    Ok(())
}
