//! The CLI end to end against live podman 4.3 containers (issue 6): one store holding an idle
//! container, a cpu burner, a memory holder (100 MiB in a tmpfs), a pod with a member, a
//! paused container, one created and never started, a stopped one and a `--rm` one that ran
//! to its end. Then:
//!
//! - `libpod-stats ps --all --format json` lists what `podman ps --all --format json` lists:
//!   ids, names, states (the stopped one as podman says it) and pods; the `--rm` one is gone;
//! - `libpod-stats stats --no-stream --format json` has every running and paused container
//!   and nothing else of the store; each `cpu_ns` lies between `cpuacct.usage` read just
//!   before and just after; the idle container's `memory_bytes` lies between
//!   `memory.usage_in_bytes` read around it, and podman's MemUsage differs from it by no more
//!   than the file drifted; the memory holder holds at least 100 MiB; the paused one is
//!   `paused`;
//! - `stats --no-stream --interval 1`: the burner's `cpu_percent` is 100 +- 10.
//!
//! Runs under the podman lock; with `CI=true` it fails when podman cannot be used.

use crate::support;

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::time::{Duration, Instant};

use libpod_stats_test_support::podman::PodmanHarness;
use serde_json::Value;
use support::libpod_stats;

const MIB: u64 = 1024 * 1024;

/// A v1 cgroup counter of the live host (`/sys/fs/cgroup/<ctrl><cgroup>/<file>`).
fn cgroup_counter(ctrl: &str, cgroup: &str, file: &str) -> u64 {
    let path = Path::new("/sys/fs/cgroup")
        .join(ctrl)
        .join(cgroup.trim_start_matches('/'))
        .join(file);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path:?}: {e}"));
    text.trim()
        .parse()
        .unwrap_or_else(|e| panic!("{path:?}: {text:?}: {e}"))
}

/// The JSON array's objects keyed by their `id` field (`Id` for podman's).
fn by_id<'a>(list: &'a Value, key: &str) -> BTreeMap<String, &'a Value> {
    list.as_array()
        .unwrap_or_else(|| panic!("not an array: {list:#}"))
        .iter()
        .map(|v| {
            let id = v[key].as_str().unwrap_or_else(|| panic!("no {key}: {v:#}"));
            (id.to_string(), v)
        })
        .collect()
}

/// Waits until `done` holds, checking every 200 ms; panics with `what` after `limit`.
fn wait_until(limit: Duration, what: &str, mut done: impl FnMut() -> bool) {
    let start = Instant::now();
    while !done() {
        assert!(start.elapsed() < limit, "{what}: not within {limit:?}");
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// The store's containers for the e2e checks, made once; see the module docs.
struct Containers {
    idle: String,
    burner: String,
    memhold: String,
    member: String,
    paused: String,
    created: String,
    stopped: String,
    removed: String,
    pod: String,
}

fn make_containers(h: &PodmanHarness) -> Containers {
    // First, so its dd runs while the others are made.
    let memhold = h.run_detached(
        "lpstest-e2e-memhold",
        &["--tmpfs", "/mem:size=256m"],
        &[
            "sh",
            "-c",
            "dd if=/dev/zero of=/mem/blob bs=1M count=100 2>/dev/null && echo filled && exec sleep 1000",
        ],
    );
    let idle = h.run_detached("lpstest-e2e-idle", &[], &["sleep", "1000"]);
    let burner = h.run_detached("lpstest-e2e-burner", &[], &["sh", "-c", "yes > /dev/null"]);
    let pod = h.pod_create("lpstest-e2e-pod");
    let member = h.run_detached(
        "lpstest-e2e-member",
        &["--pod", "lpstest-e2e-pod"],
        &["sleep", "1000"],
    );
    let paused = h.run_detached("lpstest-e2e-paused", &[], &["sleep", "1000"]);
    h.pause("lpstest-e2e-paused");
    let created = h.create("lpstest-e2e-created", &[], &["sleep", "1000"]);
    let stopped = h.run_detached("lpstest-e2e-stopped", &[], &["sleep", "1000"]);
    h.stop("lpstest-e2e-stopped");

    // `--rm` to its end: podman removes it, so its id comes from --cidfile.
    let cidfile = h.dir().join("rm.cid");
    let out = h
        .command()
        .args(["run", "--rm", "--cidfile"])
        .arg(&cidfile)
        .args(["--name", "lpstest-e2e-rm", "--stop-timeout", "0"])
        .args(["--network", "none", h.image(), "true"])
        .output()
        .expect("running podman run --rm");
    assert!(
        out.status.success(),
        "podman run --rm: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let removed = std::fs::read_to_string(&cidfile)
        .expect("podman wrote the --cidfile")
        .trim()
        .to_string();
    assert_eq!(removed.len(), 64, "cidfile holds an id: {removed:?}");

    wait_until(Duration::from_secs(60), "the memory holder's dd", || {
        h.run(["logs", "lpstest-e2e-memhold"]).contains("filled")
    });
    Containers {
        idle,
        burner,
        memhold,
        member,
        paused,
        created,
        stopped,
        removed,
        pod,
    }
}

/// `ps --all`: the same ids, names, states and pods as podman; returns the ids podman says
/// run or are paused, with their names.
fn check_ps(h: &PodmanHarness, c: &Containers) -> BTreeMap<String, String> {
    let podman = h.ps_all();
    let podman = by_id(&podman, "Id");
    let all = libpod_stats(h, &["ps", "--all", "--format", "json"]);
    let graphroot = h.graphroot().to_string_lossy().into_owned();
    let ours: BTreeMap<String, &Value> = by_id(&all, "id")
        .into_iter()
        .filter(|(_, v)| v["graph_root"] == graphroot.as_str())
        .collect();
    assert_eq!(
        ours.keys().collect::<Vec<_>>(),
        podman.keys().collect::<Vec<_>>(),
        "ps --all: ids differ from podman's"
    );
    // The idle, burner, memory holder, member, infra, paused, created and stopped ones.
    assert_eq!(podman.len(), 8, "podman ps --all: {podman:#?}");
    for (id, p) in &podman {
        let o = ours[id];
        let name = p["Names"][0].as_str().expect("podman names the container");
        assert_eq!(o["name"], name, "name of {id}");
        assert_eq!(o["state"], p["State"], "state of {name}");
        let pod = p["Pod"].as_str().unwrap_or("");
        match o["pod_id"].as_str() {
            None => assert_eq!(pod, "", "{name}: podman puts it in a pod"),
            Some(ours) => assert!(
                !pod.is_empty() && ours.starts_with(pod),
                "{name}: pod {ours} vs podman's {pod:?}"
            ),
        }
    }
    for (id, state) in [
        (&c.idle, "running"),
        (&c.burner, "running"),
        (&c.memhold, "running"),
        (&c.member, "running"),
        (&c.paused, "paused"),
        (&c.created, "created"),
    ] {
        assert_eq!(podman[id]["State"], state, "podman's state of {id}");
    }
    // podman 4.3 shows a stopped container as `exited`; whatever it says, we say it too.
    let stopped_state = podman[&c.stopped]["State"].as_str().unwrap_or("");
    assert!(
        matches!(stopped_state, "exited" | "stopped"),
        "podman's state of the stopped container: {stopped_state:?}"
    );
    eprintln!("podman calls a stopped container {stopped_state:?}; so does ps");
    assert_eq!(ours[&c.member]["pod_id"], c.pod.as_str());
    assert_eq!(ours[&c.member]["pod_name"], "lpstest-e2e-pod");
    assert!(
        !ours.contains_key(&c.removed) && !podman.contains_key(&c.removed),
        "the --rm container is gone"
    );
    podman
        .iter()
        .filter(|(_, p)| matches!(p["State"].as_str(), Some("running" | "paused")))
        .map(|(id, p)| (id.clone(), p["Names"][0].as_str().unwrap_or("").to_string()))
        .collect()
}

/// Counters of one container read straight from its cgroup.
#[derive(Debug, Clone, Copy)]
struct Reading {
    cpu_ns: u64,
    memory: u64,
}

fn read_all(cgroups: &BTreeMap<String, String>) -> BTreeMap<String, Reading> {
    cgroups
        .iter()
        .map(|(id, cg)| {
            (
                id.clone(),
                Reading {
                    cpu_ns: cgroup_counter("cpuacct", cg, "cpuacct.usage"),
                    memory: cgroup_counter("memory", cg, "memory.usage_in_bytes"),
                },
            )
        })
        .collect()
}

/// `stats --no-stream`: exactly the running and paused ones, numbers bracketed by the files.
fn check_stats(h: &PodmanHarness, c: &Containers, live: &BTreeMap<String, String>) {
    let cgroups: BTreeMap<String, String> = live
        .iter()
        .map(|(id, name)| (id.clone(), h.cgroup_path(name)))
        .collect();
    let store_ids: BTreeSet<String> = by_id(&h.ps_all(), "Id").into_keys().collect();

    let before = read_all(&cgroups);
    let samples = libpod_stats(h, &["stats", "--no-stream", "--format", "json"]);
    let after = read_all(&cgroups);
    let podman = h.stats_raw();
    let last = read_all(&cgroups);

    let samples = by_id(&samples, "id");
    let ours: BTreeSet<&String> = samples
        .keys()
        .filter(|id| store_ids.contains(*id) || **id == c.removed)
        .collect();
    assert_eq!(
        ours,
        live.keys().collect::<BTreeSet<_>>(),
        "stats lists exactly the running and paused containers of the store"
    );
    let podman: BTreeMap<String, &Value> = podman
        .iter()
        .map(|p| (p["ContainerID"].as_str().unwrap_or("").to_string(), p))
        .collect();
    // podman 4.3's `stats` also lists created and exited containers (all zeros): only the
    // live ones are compared.
    for (id, name) in live {
        assert!(podman.contains_key(id), "podman stats lacks {name}");
    }

    for (id, name) in live {
        let s = samples[id];
        assert_eq!(s["name"], name.as_str(), "{id}");
        assert_eq!(s["cgroup"], cgroups[id].as_str(), "{name}");
        let cpu = s["cpu_ns"]
            .as_u64()
            .unwrap_or_else(|| panic!("{name}: {s:#}"));
        let (lo, hi) = (before[id].cpu_ns, after[id].cpu_ns);
        assert!(
            lo <= cpu && cpu <= hi,
            "{name}: cpu_ns {cpu} not within the readings [{lo}, {hi}]"
        );
        let state = if *id == c.paused { "paused" } else { "running" };
        assert_eq!(s["state"], state, "{name}");
    }

    let idle = samples[&c.idle];
    let mem = idle["memory_bytes"].as_u64().expect("idle memory_bytes");
    let reads = [
        before[&c.idle].memory,
        after[&c.idle].memory,
        last[&c.idle].memory,
    ];
    let (lo, hi) = (reads[0].min(reads[1]), reads[0].max(reads[1]));
    assert!(
        lo <= mem && mem <= hi,
        "idle memory_bytes {mem} not within the readings [{lo}, {hi}]"
    );
    let drift = reads.iter().max().unwrap_or(&0) - reads.iter().min().unwrap_or(&0);
    let podman_mem = podman[&c.idle]["MemUsage"]
        .as_u64()
        .expect("podman's MemUsage");
    assert!(
        podman_mem.abs_diff(mem) <= drift,
        "idle: podman's MemUsage {podman_mem} vs ours {mem}, the file drifted by {drift} \
         (readings {reads:?})"
    );
    eprintln!("idle memory: ours {mem}, podman {podman_mem}, readings {reads:?}");

    let held = samples[&c.memhold]["memory_bytes"]
        .as_u64()
        .expect("memory holder's memory_bytes");
    assert!(
        held >= 100 * MIB,
        "the memory holder holds 100 MiB in its tmpfs: {held}"
    );
    eprintln!("memory holder: {held} bytes ({} MiB)", held / MIB);
}

/// `stats --no-stream --interval 1`: the burner's cpu_percent is its real rate.
///
/// The burner would burn one core, but how much it gets depends on what else the machine runs
/// (CI runs VM guests and compilers on the same two cores), so the expectation is not a fixed
/// 100 %: each measurement is bracketed by the burner's own `cpuacct.usage`, read just before
/// and after the CLI (a window a little longer than the CLI's second), and the CLI's figure
/// must be within 10 points of that real rate, and above 5 % (the burner does burn). Up to
/// three measurements are taken, since the window and the CLI's second are not the same.
fn check_burner_percent(h: &PodmanHarness, c: &Containers) {
    let cgroup = h.cgroup_path("lpstest-e2e-burner");
    let mut seen = Vec::new();
    for _ in 0..3 {
        let t0 = Instant::now();
        let c0 = cgroup_counter("cpuacct", &cgroup, "cpuacct.usage");
        let samples = libpod_stats(
            h,
            &[
                "stats",
                "--no-stream",
                "--interval",
                "1",
                "--format",
                "json",
            ],
        );
        let c1 = cgroup_counter("cpuacct", &cgroup, "cpuacct.usage");
        let own = (c1 - c0) as f64 / t0.elapsed().as_nanos() as f64 * 100.0;
        let samples = by_id(&samples, "id");
        let pct = samples[&c.burner]["cpu_percent"]
            .as_f64()
            .expect("a rate after two samples");
        let idle = samples[&c.idle]["cpu_percent"]
            .as_f64()
            .expect("a rate after two samples");
        assert!(
            (0.0..1.0).contains(&idle),
            "the idle container's cpu_percent: {idle}"
        );
        seen.push((pct, own));
        eprintln!("burner cpu_percent over 1 s: {pct:.2}; its cgroup around the call: {own:.2}");
        if pct > 5.0 && (pct - own).abs() <= 10.0 {
            return;
        }
    }
    panic!(
        "the burner's cpu_percent with --interval 1 is not within 10 points of its cgroup's \
         own rate around the call (or not above 5 %): (ours, its cgroup's) {seen:?}"
    );
}

#[test]
fn cli_matches_podman_on_live_containers() {
    let Some(h) = PodmanHarness::new() else {
        return;
    };
    let started = Instant::now();
    let c = make_containers(&h);
    eprintln!("containers made in {:?}", started.elapsed());
    let live = check_ps(&h, &c);
    assert_eq!(live.len(), 6, "running and paused: {live:?}");
    check_stats(&h, &c, &live);
    check_burner_percent(&h, &c);
    eprintln!("checks done after {:?}", started.elapsed());
}
