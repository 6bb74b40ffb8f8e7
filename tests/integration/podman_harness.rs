//! The podman test harness itself: it runs real containers on its own storage, holds the
//! cross-binary podman lock while alive, and leaves nothing behind when dropped.

use libpod_stats::HostRoot;
use libpod_stats_test_support::podman::{lock_is_held, PodmanHarness};

/// Every cgroup hierarchy mounted under /sys/fs/cgroup (v1 controllers and `unified`).
fn hierarchies(host: &HostRoot) -> Vec<String> {
    let names = host
        .read_dir_names("/sys/fs/cgroup")
        .expect("listing /sys/fs/cgroup");
    let mut out: Vec<String> = names
        .into_iter()
        .filter_map(|n| n.into_string().ok())
        .collect();
    out.sort();
    out
}

fn state_of<'a>(ps: &'a serde_json::Value, name: &str) -> &'a serde_json::Value {
    ps.as_array()
        .expect("ps output is an array")
        .iter()
        .find(|c| c["Names"][0] == name)
        .unwrap_or_else(|| panic!("{name} missing from podman ps: {ps:#}"))
}

#[test]
fn harness_runs_containers_and_removes_everything_it_made() {
    let Some(h) = PodmanHarness::new() else {
        return;
    };
    assert!(
        lock_is_held(),
        "the harness must hold {}",
        libpod_stats_test_support::podman::LOCK_PATH
    );

    let idle = h.run_detached("lpstest-harness-idle", &[], &["sleep", "1000"]);
    h.run_detached("lpstest-harness-paused", &[], &["sleep", "1000"]);
    h.pause("lpstest-harness-paused");
    let pod = h.pod_create("lpstest-harness-pod");
    h.run_detached(
        "lpstest-harness-member",
        &["--pod", "lpstest-harness-pod"],
        &["sleep", "1000"],
    );
    h.create("lpstest-harness-created", &[], &["sleep", "1000"]);
    h.run_to_exit("lpstest-harness-exited", &[], &["true"]);

    let ps = h.ps_all();
    for (name, state) in [
        ("lpstest-harness-idle", "running"),
        ("lpstest-harness-paused", "paused"),
        ("lpstest-harness-member", "running"),
        ("lpstest-harness-created", "created"),
        ("lpstest-harness-exited", "exited"),
    ] {
        assert_eq!(state_of(&ps, name)["State"], state, "{name}");
    }
    assert_eq!(state_of(&ps, "lpstest-harness-idle")["Id"], idle.as_str());
    assert_eq!(state_of(&ps, "lpstest-harness-member")["Pod"], pod.as_str());
    assert_eq!(h.made_ids().len(), 5);

    // The cgroups podman made, as podman reports them; they exist while the harness lives.
    let host = HostRoot::live();
    let mut cgroups: Vec<String> = ["idle", "paused", "member"]
        .iter()
        .map(|n| h.cgroup_path(&format!("lpstest-harness-{n}")))
        .collect();
    cgroups.push(format!("/libpod_parent/{pod}"));
    assert_eq!(cgroups[0], format!("/libpod_parent/libpod-{idle}"));
    for cg in &cgroups {
        let memory = format!("/sys/fs/cgroup/memory{cg}");
        assert!(host.exists(&memory), "{memory} should exist");
    }
    assert!(h.pid("lpstest-harness-idle").is_some());
    assert_eq!(h.pid("lpstest-harness-created"), None);

    let dir = h.dir().to_path_buf();
    let graphroot = h.graphroot().to_path_buf();
    assert!(graphroot.join("libpod/bolt_state.db").is_file());
    drop(h);

    assert!(!dir.exists(), "{} should be gone", dir.display());
    let mounts = host
        .read_to_string("/proc/self/mountinfo")
        .expect("reading mountinfo");
    let dir_text = dir.to_string_lossy();
    assert!(
        !mounts.contains(dir_text.as_ref()),
        "a mount under {dir_text} is left:\n{mounts}"
    );
    for hierarchy in hierarchies(&host) {
        for cg in &cgroups {
            let path = format!("/sys/fs/cgroup/{hierarchy}{cg}");
            assert!(!host.exists(&path), "{path} left behind");
        }
    }
}

#[test]
fn harness_cleans_up_when_the_test_panics() {
    let mut seen: Option<(std::path::PathBuf, String)> = None;
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        let Some(h) = PodmanHarness::new() else {
            return;
        };
        h.run_detached("lpstest-harness-doomed", &[], &["sleep", "1000"]);
        h.pause("lpstest-harness-doomed");
        let stats = h.stats_raw();
        assert_eq!(stats.len(), 1, "{stats:?}");
        assert!(stats[0]["MemUsage"].as_u64().is_some_and(|m| m > 0));
        seen = Some((
            h.dir().to_path_buf(),
            h.cgroup_path("lpstest-harness-doomed"),
        ));
        panic!("a failing podman test");
    }));
    let Some((dir, cgroup)) = seen else {
        return; // podman unusable here: the harness said so
    };
    assert!(result.is_err(), "the closure panicked on purpose");
    assert!(!dir.exists(), "{} should be gone", dir.display());
    let host = HostRoot::live();
    for hierarchy in hierarchies(&host) {
        let path = format!("/sys/fs/cgroup/{hierarchy}{cgroup}");
        assert!(!host.exists(&path), "{path} left behind");
    }
}
