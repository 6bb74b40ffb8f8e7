//! The BoltDB reader and writer against real podman 4.3.1: podman's own `bolt_state.db` is
//! read into a `RawState`, written again by our writer, put in place of podman's file, and
//! podman must list exactly the same containers and pods from it. Podman then writes into
//! our file (a new container) and our reader must see that too.
//!
//! Needs root, podman, runc, conmon and busybox-static (see test-support/src/podman.rs); with
//! `CI=true` it fails when they are missing instead of skipping.

use std::fs;
use std::path::{Path, PathBuf};

use libpod_stats::internals::libpod::bolt::writer::Writer;
use libpod_stats::internals::libpod::bolt::BoltDb;
use libpod_stats::internals::libpod::bolt_state::{read_bolt_state, write_bolt_state};
use libpod_stats::HostRoot;
use libpod_stats_test_support::podman::PodmanHarness;
use serde_json::Value;

/// Puts podman's original state file back when dropped, so the harness's clean-up runs
/// against podman's complete records (netns paths, dependencies, networks) even when an
/// assertion failed half-way.
struct RestoreOnDrop {
    path: PathBuf,
    original: Vec<u8>,
}

impl Drop for RestoreOnDrop {
    fn drop(&mut self) {
        if let Err(e) = replace_file(&self.path, &self.original) {
            eprintln!("warning: restoring {}: {e}", self.path.display());
        }
    }
}

/// Replaces `path` atomically (podman opens the file per operation, never mid-rename).
fn replace_file(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let tmp = path.with_extension("lpstest-new");
    fs::write(&tmp, bytes)?;
    fs::rename(&tmp, path)
}

/// What `podman ps --all` says that must not change: id, names, state, pod, infra.
fn ps_summary(ps: &Value) -> Vec<String> {
    let mut rows: Vec<String> = ps
        .as_array()
        .into_iter()
        .flatten()
        .map(|c| {
            format!(
                "{} {} {} pod={} podname={} infra={}",
                c["Id"].as_str().unwrap_or("?"),
                c["Names"],
                c["State"].as_str().unwrap_or("?"),
                c["Pod"].as_str().unwrap_or(""),
                c["PodName"].as_str().unwrap_or(""),
                c["IsInfra"],
            )
        })
        .collect();
    rows.sort();
    rows
}

/// What `podman pod ps` says: id, name, status, infra id and member count.
fn pod_summary(pods: &Value) -> Vec<String> {
    let mut rows: Vec<String> = pods
        .as_array()
        .into_iter()
        .flatten()
        .map(|p| {
            format!(
                "{} {} {} infra={} members={}",
                p["Id"].as_str().unwrap_or("?"),
                p["Name"].as_str().unwrap_or("?"),
                p["Status"].as_str().unwrap_or("?"),
                p["InfraId"].as_str().unwrap_or(""),
                p["Containers"].as_array().map_or(0, Vec::len),
            )
        })
        .collect();
    rows.sort();
    rows
}

fn ids(ps: &Value) -> Vec<String> {
    let mut ids: Vec<String> = ps
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|c| c["Id"].as_str().map(str::to_string))
        .collect();
    ids.sort();
    ids
}

#[test]
fn podman_lists_the_same_from_a_state_file_our_writer_rewrote() {
    let Some(h) = PodmanHarness::new() else {
        return;
    };
    h.create("lpstest-bolt-created", &[], &["sleep", "100"]);
    h.run_detached("lpstest-bolt-running", &[], &["sleep", "1000"]);
    h.run_to_exit("lpstest-bolt-exited", &[], &["true"]);
    h.run_detached("lpstest-bolt-paused", &[], &["sleep", "1000"]);
    h.pause("lpstest-bolt-paused");
    h.pod_create("lpstest-bolt-pod");
    h.run_detached(
        "lpstest-bolt-member",
        &["--pod", "lpstest-bolt-pod"],
        &["sleep", "1000"],
    );

    let ps_before = h.ps_all();
    let pods_before = h.run_json(["pod", "ps", "--format", "json"]);
    let before = ps_summary(&ps_before);
    assert_eq!(before.len(), 6, "{before:#?}");
    for state in ["created", "running", "exited", "paused"] {
        assert!(
            before.iter().any(|r| r.contains(&format!(" {state} "))),
            "no {state} container in {before:#?}"
        );
    }

    let db_path = h.graphroot().join("libpod/bolt_state.db");
    let live = HostRoot::live();
    let state = read_bolt_state(&live, &db_path).unwrap();
    let mut ours: Vec<String> = state.containers.iter().map(|c| c.id.clone()).collect();
    ours.sort();
    assert_eq!(ours, ids(&ps_before), "our reader and podman disagree");
    assert_eq!(state.pods.len(), 1);
    assert_eq!(
        state.runtime.graph_root.as_deref(),
        Some(h.graphroot()),
        "{:?}",
        state.runtime
    );

    let original = fs::read(&db_path).unwrap();
    let _restore = RestoreOnDrop {
        path: db_path.clone(),
        original,
    };

    // The default page size, a small one that forces branch and overflow pages, and a
    // freelist that is not persisted (bbolt rebuilds it from the tree).
    for (page_size, freelist) in [(4096u32, true), (1024, true), (4096, false)] {
        let writer = Writer::new()
            .page_size(page_size)
            .persist_freelist(freelist);
        let rewritten = write_bolt_state(&state, &writer).unwrap();
        replace_file(&db_path, &rewritten).unwrap();
        assert_eq!(
            ps_summary(&h.ps_all()),
            before,
            "podman lists something else from our file (page size {page_size}, freelist {freelist})"
        );
        assert_eq!(
            pod_summary(&h.run_json(["pod", "ps", "--format", "json"])),
            pod_summary(&pods_before),
            "podman's pods differ on our file (page size {page_size}, freelist {freelist})"
        );
    }

    // Podman writes into our file: a new container, then its removal. Our reader follows.
    let late = h.create("lpstest-bolt-late", &[], &["true"]);
    let after_create = read_bolt_state(&live, &db_path).unwrap();
    assert!(after_create.containers.iter().any(|c| c.id == late));
    assert_eq!(after_create.containers.len(), 7);
    let db = BoltDb::read(&live, &db_path).unwrap();
    assert!(db.meta().txid > 1, "podman did not commit to our file");
    h.rm("lpstest-bolt-late");
    let after_rm = read_bolt_state(&live, &db_path).unwrap();
    assert_eq!(after_rm.containers, state.containers);
    assert_eq!(ps_summary(&h.ps_all()), before);
}

/// Reading while podman commits: every read either succeeds with a consistent state (one of
/// the states podman went through) or says the file kept changing; never a corrupt file,
/// and podman is never held up (the reader takes no lock).
#[test]
fn reads_during_podman_commits_are_consistent_or_retryable() {
    let Some(h) = PodmanHarness::new() else {
        return;
    };
    h.run_detached("lpstest-bolt-steady", &[], &["sleep", "1000"]);
    let db_path = h.graphroot().join("libpod/bolt_state.db");
    let done = std::sync::atomic::AtomicBool::new(false);
    let (reads, unstable) = std::thread::scope(|s| {
        let reader = s.spawn(|| {
            let live = HostRoot::live();
            let (mut reads, mut unstable) = (0u32, 0u32);
            while !done.load(std::sync::atomic::Ordering::Relaxed) {
                match read_bolt_state(&live, &db_path) {
                    Ok(state) => {
                        assert!(state
                            .containers
                            .iter()
                            .any(|c| c.name.as_deref() == Some("lpstest-bolt-steady")));
                        for c in &state.containers {
                            serde_json::from_slice::<Value>(&c.config_json).unwrap();
                            serde_json::from_slice::<Value>(&c.state_json).unwrap();
                        }
                        reads += 1;
                    }
                    Err(libpod_stats::StateError::Bolt(e)) if e.is_retryable() => unstable += 1,
                    Err(e) => panic!("read during podman commits failed: {e}"),
                }
            }
            (reads, unstable)
        });
        for i in 0..4 {
            let name = format!("lpstest-bolt-churn{i}");
            h.create(&name, &[], &["true"]);
            h.rm(&name);
        }
        done.store(true, std::sync::atomic::Ordering::Relaxed);
        reader.join().unwrap()
    });
    eprintln!("{reads} consistent reads, {unstable} retryable during podman's commits");
    assert!(reads > 0);
}
