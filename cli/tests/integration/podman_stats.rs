//! `libpod-stats stats`, `capture` and `replay` against real podman containers (the issue's
//! "done when"): every running container is listed, with `cpu_ns` and `memory_bytes` equal to
//! the cgroup files read at the same moment and the limit podman reports; a 3-step capture,
//! moved elsewhere, replays to exactly the counters it captured, with CPU % from the deltas.
//! Runs under the podman lock; with `CI=true` it fails when podman cannot be used.

use crate::support;

use std::path::{Path, PathBuf};

use libpod_stats_test_support::podman::PodmanHarness;
use serde_json::Value;
use support::cli::{cli, stdout_of};
use support::{cli_over, libpod_stats};

fn cgroup_file(root: &Path, ctrl: &str, cgroup: &str, file: &str) -> u64 {
    let path = root
        .join("sys/fs/cgroup")
        .join(ctrl)
        .join(cgroup.trim_start_matches('/'))
        .join(file);
    std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{path:?}: {e}"))
        .trim()
        .parse()
        .unwrap()
}

fn ours<'a>(samples: &'a Value, id: &str) -> &'a Value {
    samples
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["id"] == id)
        .unwrap_or_else(|| panic!("{id} not in {samples:#}"))
}

#[test]
fn stats_capture_and_replay_match_real_podman() {
    let Some(h) = PodmanHarness::new() else {
        return;
    };
    let idle = h.run_detached("lpstest-st-idle", &[], &["sleep", "1000"]);
    let burner = h.run_detached("lpstest-st-burner", &[], &["sh", "-c", "yes > /dev/null"]);
    let memhold = h.run_detached(
        "lpstest-st-memhold",
        &["--tmpfs", "/mem:size=64m"],
        &[
            "sh",
            "-c",
            "dd if=/dev/zero of=/mem/blob bs=1M count=20 && exec sleep 1000",
        ],
    );
    h.pod_create("lpstest-st-pod");
    let member = h.run_detached(
        "lpstest-st-member",
        &["--pod", "lpstest-st-pod"],
        &["sleep", "1000"],
    );
    h.create("lpstest-st-created", &[], &["sleep", "1"]);
    // Let the memory holder finish its dd.
    std::thread::sleep(std::time::Duration::from_millis(500));
    let running = [&idle, &burner, &memhold, &member];

    // stats --no-stream: the files read just before and after bracket our numbers (the
    // burner's counter moves; the others' hold still).
    let root = Path::new("/");
    let before: Vec<(u64, u64)> = running
        .iter()
        .map(|id| {
            let cg = h.cgroup_path(&h.inspect(id, "{{.Name}}"));
            (
                cgroup_file(root, "cpuacct", &cg, "cpuacct.usage"),
                cgroup_file(root, "memory", &cg, "memory.usage_in_bytes"),
            )
        })
        .collect();
    let samples = libpod_stats(&h, &["stats", "--no-stream", "--format", "json"]);
    let podman = h.stats_raw();
    for (i, id) in running.iter().enumerate() {
        let name = h.inspect(id, "{{.Name}}");
        let cg = h.cgroup_path(&name);
        let s = ours(&samples, id);
        assert_eq!(s["name"], name.as_str());
        assert_eq!(s["cgroup"], cg.as_str(), "{name}");
        let cpu_after = cgroup_file(root, "cpuacct", &cg, "cpuacct.usage");
        let cpu = s["cpu_ns"].as_u64().unwrap();
        assert!(
            before[i].0 <= cpu && cpu <= cpu_after,
            "{name}: cpu_ns {cpu} not within [{}, {cpu_after}]",
            before[i].0
        );
        if *id != &burner {
            assert_eq!(
                cpu, cpu_after,
                "{name}: an idle container's cpu_ns is the file's"
            );
            let mem = cgroup_file(root, "memory", &cg, "memory.usage_in_bytes");
            if mem == before[i].1 {
                assert_eq!(s["memory_bytes"], mem, "{name}");
            }
        }
        let p = podman
            .iter()
            .find(|p| p["ContainerID"] == id.as_str())
            .unwrap_or_else(|| panic!("podman stats lacks {name}"));
        assert_eq!(s["memory_limit_bytes"], p["MemLimit"], "{name}");
        assert_eq!(s["pids"], p["PIDs"], "{name}");
        assert_eq!(s["block_read_bytes"], p["BlockInput"], "{name}");
        assert_eq!(s["block_write_bytes"], p["BlockOutput"], "{name}");
        let pct = s["cpu_percent"].as_f64().unwrap();
        assert!(pct >= 0.0, "{name}: {pct}");
    }
    let mem = ours(&samples, &memhold)["memory_bytes"].as_u64().unwrap();
    assert!(
        mem > 20 * 1024 * 1024,
        "the memory holder holds 20 MiB: {mem}"
    );
    let burner_pct = ours(&samples, &burner)["cpu_percent"].as_f64().unwrap();
    assert!(
        burner_pct > 5.0,
        "the burner burns (a busy machine shares it): {burner_pct}"
    );
    assert!(
        samples
            .as_array()
            .unwrap()
            .iter()
            .all(|s| s["name"] != "lpstest-st-created"),
        "a created container has no cgroup and is not listed without --all"
    );

    // A 3-step capture of the live host, moved to another place, replays to the counters
    // it captured, with CPU % from the deltas between steps.
    let tmp = tempfile::tempdir().unwrap();
    let captured = tmp.path().join("capture");
    stdout_of(
        cli_over(&h)
            .args(["capture", "--out"])
            .arg(&captured)
            .args(["--count", "3", "--interval", "0.5"]),
    );
    let elsewhere: PathBuf = tmp.path().join("another-machine/series");
    std::fs::create_dir_all(elsewhere.parent().unwrap()).unwrap();
    std::fs::rename(&captured, &elsewhere).unwrap();
    let graphroot = h.graphroot().to_path_buf();
    drop(h);
    // The containers are gone; the capture alone answers now (the store is named as it was
    // on the captured host).
    let out = stdout_of(
        cli()
            .args(["--no-rootless", "--store"])
            .arg(&graphroot)
            .args(["replay"])
            .arg(&elsewhere)
            .args(["--format", "json"]),
    );
    let steps: Value = serde_json::from_slice(&out).unwrap();
    let steps = steps.as_array().unwrap();
    assert_eq!(steps.len(), 3);
    let mut prev: Option<(u64, u64)> = None;
    for (i, step) in steps.iter().enumerate() {
        let dir = elsewhere.join(format!("{i:03}"));
        let taken = step["taken_at_ns"].as_u64().unwrap();
        for id in running {
            let s = ours(&step["samples"], id);
            let cg = s["cgroup"].as_str().unwrap();
            assert_eq!(
                s["cpu_ns"].as_u64(),
                Some(cgroup_file(&dir, "cpuacct", cg, "cpuacct.usage")),
                "step {i}"
            );
            assert_eq!(
                s["memory_bytes"].as_u64(),
                Some(cgroup_file(&dir, "memory", cg, "memory.usage_in_bytes")),
                "step {i}"
            );
        }
        let b = ours(&step["samples"], &burner);
        let cpu = b["cpu_ns"].as_u64().unwrap();
        match prev {
            None => assert!(b["cpu_percent"].is_null(), "step 0 has no rate"),
            Some((prev_cpu, prev_at)) => {
                let expected = (cpu - prev_cpu) as f64 / (taken - prev_at) as f64 * 100.0;
                // JSON text parsed back into f64 may differ in the last bit.
                let got = b["cpu_percent"].as_f64().unwrap();
                assert!(
                    (got - expected).abs() <= expected * 1e-12,
                    "step {i}: {got} vs {expected}"
                );
                assert!(expected > 5.0, "step {i}: the burner burns: {expected}");
            }
        }
        prev = Some((cpu, taken));
        // The pod's totals cover its infra container and the member.
        let pods = step["pods"].as_array().unwrap();
        assert_eq!(pods.len(), 1, "step {i}: {pods:?}");
        assert_eq!(pods[0]["containers"], 2, "step {i}");
    }
}
