//! `libpod-stats ps` against real podman: a store with containers in every state podman
//! makes (running, paused, created, exited, stopped, a `--rm` one, a pod with its infra and
//! a member), then `libpod-stats --store <graphroot> ps --all --format json` must list the
//! same ids, names, states, pids and pods as `podman ps --all --format json`, and the same
//! cgroup as `podman inspect`. Runs under the podman lock; with `CI=true` it fails when
//! podman cannot be used.

use std::collections::BTreeMap;
use std::process::Command;

use libpod_stats_test_support::podman::PodmanHarness;
use serde_json::Value;

/// Our listing of one store (other stores of the host are left out).
fn our_ps(h: &PodmanHarness) -> BTreeMap<String, Value> {
    let graphroot = h.graphroot().to_string_lossy().into_owned();
    let out = Command::new(env!("CARGO_BIN_EXE_libpod-stats"))
        .args(["--no-rootless", "--store", &graphroot])
        .args(["ps", "--all", "--format", "json"])
        .output()
        .expect("running libpod-stats");
    let listing: Vec<Value> = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "libpod-stats printed no JSON ({e}); stderr: {}",
            String::from_utf8_lossy(&out.stderr)
        )
    });
    let names: Vec<&str> = listing.iter().filter_map(|c| c["name"].as_str()).collect();
    let mut sorted = names.clone();
    sorted.sort();
    assert_eq!(names, sorted, "ps --format json is sorted by name");
    listing
        .into_iter()
        .filter(|c| c["graph_root"] == graphroot.as_str())
        .map(|c| (c["id"].as_str().unwrap().to_string(), c))
        .collect()
}

fn compare(h: &PodmanHarness, what: &str) -> usize {
    let podman = h.ps_all();
    let podman = podman.as_array().expect("podman ps prints an array");
    let ours = our_ps(h);
    let pods = h.run_json(["pod", "ps", "--format", "json"]);
    let pod_names: BTreeMap<String, String> = pods
        .as_array()
        .expect("podman pod ps prints an array")
        .iter()
        .map(|p| {
            (
                p["Id"].as_str().unwrap().to_string(),
                p["Name"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let mut podman_ids: Vec<&str> = podman.iter().map(|c| c["Id"].as_str().unwrap()).collect();
    podman_ids.sort();
    let our_ids: Vec<&str> = ours.keys().map(String::as_str).collect();
    assert_eq!(our_ids, podman_ids, "{what}: ids differ");
    for p in podman {
        let id = p["Id"].as_str().unwrap();
        let c = &ours[id];
        let name = p["Names"][0].as_str().unwrap();
        assert_eq!(c["name"], name, "{what}: name of {id}");
        assert_eq!(c["state"], p["State"], "{what}: state of {name}");
        let pid = p["Pid"].as_i64().unwrap_or(0);
        assert_eq!(c["pid"].as_i64().unwrap_or(0), pid, "{what}: pid of {name}");
        assert_eq!(c["is_infra"], p["IsInfra"], "{what}: infra flag of {name}");
        let pod = p["Pod"].as_str().unwrap_or("");
        match c["pod_id"].as_str() {
            None => assert_eq!(pod, "", "{what}: pod of {name}"),
            Some(ours) => assert!(
                !pod.is_empty() && ours.starts_with(pod),
                "{what}: pod of {name}: {ours} vs {pod}"
            ),
        }
        // `podman ps` fills PodName only with `--pod`; the pod's name comes from `pod ps`.
        let pod_name = c["pod_id"].as_str().and_then(|id| pod_names.get(id));
        assert_eq!(
            c["pod_name"].as_str(),
            pod_name.map(String::as_str),
            "{what}: pod name of {name}"
        );
        assert_eq!(c["image"], p["Image"], "{what}: image of {name}");
        assert_eq!(c["source"], "bolt", "{what}: source of {name}");
        if matches!(p["State"].as_str(), Some("running" | "paused")) {
            assert_eq!(
                c["cgroup"].as_str().unwrap_or(""),
                h.cgroup_path(name),
                "{what}: cgroup of {name}"
            );
        } else {
            assert!(c["cgroup"].is_null(), "{what}: {name} has no cgroup");
        }
    }
    podman.len()
}

#[test]
fn ps_lists_what_podman_lists() {
    let Some(h) = PodmanHarness::new() else {
        return;
    };
    h.run_detached("lpstest-ps-running", &[], &["sleep", "1000"]);
    h.run_detached("lpstest-ps-paused", &[], &["sleep", "1000"]);
    h.pause("lpstest-ps-paused");
    h.create("lpstest-ps-created", &[], &["sleep", "1000"]);
    h.run_to_exit("lpstest-ps-exited", &[], &["true"]);
    h.run_detached("lpstest-ps-stopped", &[], &["sleep", "1000"]);
    h.stop("lpstest-ps-stopped");
    h.run_detached("lpstest-ps-rm", &["--rm"], &["sleep", "1000"]);
    h.pod_create("lpstest-ps-pod");
    h.run_detached(
        "lpstest-ps-member",
        &["--pod", "lpstest-ps-pod"],
        &["sleep", "1000"],
    );
    let n = compare(&h, "initial");
    assert!(n >= 8, "expected every container made, podman lists {n}");

    // State changes are followed: unpause, stop, start again.
    h.unpause("lpstest-ps-paused");
    h.stop("lpstest-ps-running");
    h.start("lpstest-ps-created");
    let n = compare(&h, "after changes");
    eprintln!("libpod-stats ps matched podman ps on {n} containers, twice");
}

#[test]
fn ps_without_all_lists_running_and_paused_only() {
    let Some(h) = PodmanHarness::new() else {
        return;
    };
    h.run_detached("lpstest-ps2-running", &[], &["sleep", "1000"]);
    h.run_detached("lpstest-ps2-paused", &[], &["sleep", "1000"]);
    h.pause("lpstest-ps2-paused");
    h.create("lpstest-ps2-created", &[], &["sleep", "1000"]);
    let graphroot = h.graphroot().to_string_lossy().into_owned();
    let out = Command::new(env!("CARGO_BIN_EXE_libpod-stats"))
        .args([
            "ps",
            "--format",
            "json",
            "--no-rootless",
            "--store",
            &graphroot,
        ])
        .output()
        .unwrap();
    let listing: Vec<Value> = serde_json::from_slice(&out.stdout).unwrap();
    let mut names: Vec<&str> = listing
        .iter()
        .filter(|c| c["graph_root"] == graphroot.as_str())
        .filter_map(|c| c["name"].as_str())
        .collect();
    names.sort();
    assert_eq!(names, ["lpstest-ps2-paused", "lpstest-ps2-running"]);
}

/// The containers/storage fallback on a live host: a copy of the store's
/// `containers.json` and bundles without libpod's database lists the same containers, the
/// running ones `running` in podman's cgroup (found from the bundle, as the run root of a
/// store named on the command line is not known), the others `unknown`.
#[test]
fn storage_fallback_lists_podmans_containers() {
    let Some(h) = PodmanHarness::new() else {
        return;
    };
    h.run_detached("lpstest-fb-running", &[], &["sleep", "1000"]);
    h.create("lpstest-fb-created", &[], &["sleep", "1000"]);
    h.run_to_exit("lpstest-fb-exited", &[], &["true"]);

    let copy = tempfile::Builder::new()
        .prefix("lpstest-fallback-")
        .tempdir()
        .unwrap();
    let from = h.graphroot().join("overlay-containers");
    let to = copy.path().join("overlay-containers");
    std::fs::create_dir_all(&to).unwrap();
    std::fs::copy(from.join("containers.json"), to.join("containers.json")).unwrap();
    for entry in std::fs::read_dir(&from).unwrap() {
        let bundle = entry.unwrap().path().join("userdata/config.json");
        if bundle.is_file() {
            let id = bundle
                .parent()
                .unwrap()
                .parent()
                .unwrap()
                .file_name()
                .unwrap();
            let dst = to.join(id).join("userdata");
            std::fs::create_dir_all(&dst).unwrap();
            std::fs::copy(&bundle, dst.join("config.json")).unwrap();
        }
    }
    let store = copy.path().to_string_lossy().into_owned();
    let out = Command::new(env!("CARGO_BIN_EXE_libpod-stats"))
        .args([
            "--no-rootless",
            "--store",
            &store,
            "ps",
            "--all",
            "--format",
            "json",
        ])
        .output()
        .unwrap();
    let listing: Vec<Value> = serde_json::from_slice(&out.stdout).unwrap();
    let ours: BTreeMap<&str, &Value> = listing
        .iter()
        .filter(|c| c["graph_root"] == store.as_str())
        .map(|c| (c["name"].as_str().unwrap(), c))
        .collect();
    let podman = h.ps_all();
    let podman = podman.as_array().unwrap();
    assert_eq!(ours.len(), podman.len(), "{listing:#?}");
    for p in podman {
        let name = p["Names"][0].as_str().unwrap();
        let c = ours[name];
        assert_eq!(c["id"], p["Id"], "{name}");
        assert_eq!(c["source"], "storage", "{name}");
        assert_eq!(c["image"], p["Image"], "{name}");
        if p["State"] == "running" {
            assert_eq!(c["state"], "running", "{name}");
            assert_eq!(c["cgroup"].as_str().unwrap(), h.cgroup_path(name), "{name}");
        } else {
            assert_eq!(c["state"], "unknown", "{name}");
            assert!(c["cgroup"].is_null(), "{name}");
        }
    }
}
