//! A store named explicitly at capture time is recorded in `snapshot.json`, so discovery
//! under the capture (a replay, the CLI, the plugin) finds it without being told again.

use crate::support::cli;

use std::path::{Path, PathBuf};

use cli::{cli, stdout_of};
use libpod_stats::{
    capture_snapshot, discover, CaptureOptions, DiscoveryOptions, HostRoot, SnapshotMeta,
};
use libpod_stats_testing::{ContainerSpec, HostBuilder, StoreSpec};

fn names(root: &Path, extra_stores: Vec<PathBuf>) -> Vec<String> {
    let opts = DiscoveryOptions {
        rootless_stores: false,
        extra_stores,
        external: false,
    };
    let report = discover(&HostRoot::new(root).unwrap(), &opts);
    assert!(report.errors.is_empty(), "{:?}", report.errors);
    report.containers.into_iter().map(|c| c.name).collect()
}

#[test]
fn a_store_named_at_capture_is_found_in_the_capture() {
    let tmp = tempfile::tempdir().unwrap();
    let (source, out) = (tmp.path().join("source"), tmp.path().join("capture"));
    // Alice's store is found only when named: rootless stores are not searched here.
    let alice = StoreSpec::rootless("alice", 1000).container(ContainerSpec::new("alices"));
    let store = alice.graph_root.clone();
    HostBuilder::new()
        .store(StoreSpec::root().container(ContainerSpec::new("rootful")))
        .store(alice)
        .build(&source)
        .unwrap();
    assert_eq!(names(&source, Vec::new()), ["rootful"]);
    assert_eq!(names(&source, vec![store.clone()]), ["alices", "rootful"]);

    let opts = CaptureOptions {
        discovery: DiscoveryOptions {
            rootless_stores: false,
            extra_stores: vec![store.clone()],
            external: false,
        },
        redact: true,
        taken_at_ns: None,
        ..CaptureOptions::default()
    };
    capture_snapshot(&HostRoot::new(&source).unwrap(), &out, &opts).unwrap();
    assert_eq!(
        SnapshotMeta::read(&out).unwrap().extra_stores,
        vec![store.clone()]
    );

    // No flag: the capture says which store it was given. Naming it again lists it once.
    assert_eq!(names(&out, Vec::new()), ["alices", "rootful"]);
    assert_eq!(names(&out, vec![store]), ["alices", "rootful"]);

    // The CLI alike (`--all`: a rootless container on this v1 layout has no cgroup).
    let printed = stdout_of(cli().arg("--root").arg(&out).args([
        "--no-rootless",
        "ps",
        "--all",
        "--format",
        "json",
    ]));
    let listed: serde_json::Value = serde_json::from_slice(&printed).unwrap();
    let mut listed: Vec<&str> = listed
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    listed.sort();
    assert_eq!(listed, ["alices", "rootful"]);
}

/// A snapshot without the key (every fixture taken before it existed) still reads, and
/// writing one with no extra store leaves the key out.
#[test]
fn snapshot_json_without_stores_is_unchanged() {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(
        tmp.path().join("snapshot.json"),
        r#"{"taken_at_ns": 1, "online_cpus": 2, "hostname": "h", "kernel": "k"}"#,
    )
    .unwrap();
    let meta = SnapshotMeta::read(tmp.path()).unwrap();
    assert!(meta.extra_stores.is_empty());
    meta.write(tmp.path()).unwrap();
    let text = std::fs::read_to_string(tmp.path().join("snapshot.json")).unwrap();
    assert!(!text.contains("extra_stores"), "{text}");
}
