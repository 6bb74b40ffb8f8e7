//! Discovery when stores misbehave: a rootless store the reader may not read (run as an
//! unprivileged uid, since root ignores file modes), a container with thousands of names,
//! and thousands of stale containers whose pids are gone.

use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::CommandExt;
use std::path::Path;

use libpod_stats::internals::libpod::sqlite::write_sqlite_state;
use libpod_stats::{
    discover, ContainerState, DiscoveryOptions, HostRoot, RawContainer, RawState, RuntimeConfig,
};

fn write(dir: &Path, path: &str, bytes: impl AsRef<[u8]>) {
    let p = dir.join(path.trim_start_matches('/'));
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(p, bytes).unwrap();
}

fn id(n: usize) -> String {
    format!("{:064x}", 0x1_0000 + n)
}

fn container(n: usize, name: &str, state: &str) -> RawContainer {
    let i = id(n);
    RawContainer {
        config_json: format!(
            r#"{{"id":"{i}","name":"{name}","cgroupManager":"cgroupfs","cgroupParent":"/libpod_parent"}}"#
        )
        .into_bytes(),
        state_json: state.as_bytes().to_vec(),
        name: Some(name.into()),
        id: i,
        pod_id: None,
    }
}

fn sqlite_store(dir: &Path, graph_root: &str, containers: Vec<RawContainer>) {
    let state = RawState {
        containers,
        pods: Vec::new(),
        runtime: RuntimeConfig {
            graph_root: Some(graph_root.into()),
            graph_driver: Some("overlay".into()),
            ..Default::default()
        },
    };
    let gr = dir.join(graph_root.trim_start_matches('/'));
    std::fs::create_dir_all(&gr).unwrap();
    write_sqlite_state(&state, &gr.join("db.sql")).unwrap();
}

// ---- permission denied on a rootless store ------------------------------------------------

const CHILD_ENV: &str = "LPSTEST_ROBUST_DISCOVER_AS_NOBODY";
const NOBODY: u32 = 65534;

/// Runs in the child (an unprivileged uid): discovery over the snapshot named by the
/// environment, printed one line per container and per error. A no-op in a normal run.
#[test]
fn child_discovers_as_nobody() {
    let Ok(dir) = std::env::var(CHILD_ENV) else {
        return;
    };
    assert_eq!(
        unsafe { libc::geteuid() },
        NOBODY,
        "the child must not be root"
    );
    let root = HostRoot::new(&dir).unwrap();
    let report = discover(&root, &DiscoveryOptions::default());
    for c in &report.containers {
        println!("CONTAINER {} {}", c.name, c.state.as_str());
    }
    for e in &report.errors {
        println!("ERROR {e}");
    }
    for s in &report.stores {
        println!("STORE {}", s.store.graph_root.display());
    }
}

#[test]
fn an_unreadable_rootless_store_is_reported_and_the_others_still_listed() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    write(
        d,
        "/etc/passwd",
        "root:x:0:0:root:/root:/bin/sh\nalice:x:1000:1000::/home/alice:/bin/sh\n\
         bob:x:1001:1001::/home/bob:/bin/sh\n",
    );
    sqlite_store(
        d,
        "/var/lib/containers/storage",
        vec![container(1, "roots", r#"{"state":6}"#)],
    );
    let alice = "/home/alice/.local/share/containers/storage";
    sqlite_store(d, alice, vec![container(2, "alices", r#"{"state":6}"#)]);
    let bob = "/home/bob/.local/share/containers/storage";
    sqlite_store(d, bob, vec![container(3, "bobs", r#"{"state":6}"#)]);
    // Everything readable by anyone, except alice's store: a private directory of hers.
    for entry in walk(d) {
        let mode = if entry.is_dir() { 0o755 } else { 0o644 };
        std::fs::set_permissions(&entry, std::fs::Permissions::from_mode(mode)).unwrap();
    }
    let private = d.join(alice.trim_start_matches('/'));
    std::os::unix::fs::chown(&private, Some(1000), Some(1000)).unwrap();
    std::fs::set_permissions(&private, std::fs::Permissions::from_mode(0o700)).unwrap();

    // The test binary itself, run as nobody, runs only the child test above.
    let out = libpod_stats_test_support::child_test(module_path!(), "child_discovers_as_nobody")
        .env(CHILD_ENV, d)
        .uid(NOBODY)
        .gid(NOBODY)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "child failed: {stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let containers: Vec<&str> = stdout
        .lines()
        .filter_map(|l| l.split_once("CONTAINER ").map(|(_, c)| c))
        .collect();
    let errors: Vec<&str> = stdout
        .lines()
        .filter_map(|l| l.split_once("ERROR ").map(|(_, e)| e))
        .collect();
    assert_eq!(containers, ["bobs exited", "roots exited"], "{stdout}");
    assert!(
        errors
            .iter()
            .any(|e| e.contains("home/alice") && e.to_lowercase().contains("permission denied")),
        "alice's store is not reported: {stdout}"
    );
}

fn walk(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = vec![dir.to_path_buf()];
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p);
        }
    }
    out
}

// ---- sizes: thousands of names, thousands of stale containers ----------------------------

#[test]
fn a_container_with_thousands_of_names_is_listed_once() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    write(d, "/etc/passwd", "root:x:0:0:root:/root:/bin/sh\n");
    let names: Vec<String> = (0..5000)
        .map(|i| format!("\"lpstest-name-{i:05}\""))
        .collect();
    let list = format!(
        r#"[{{"id":"{}","names":[{}],"metadata":"{{\"name\":\"lpstest-name-00000\",\"created-at\":1700000000}}"}}]"#,
        id(1),
        names.join(",")
    );
    write(
        d,
        "/var/lib/containers/storage/overlay-containers/containers.json",
        list,
    );
    let report = discover(&HostRoot::new(d).unwrap(), &DiscoveryOptions::default());
    assert!(report.errors.is_empty(), "{:?}", report.errors);
    assert_eq!(report.containers.len(), 1);
    assert_eq!(report.containers[0].name, "lpstest-name-00000");
}

#[test]
fn thousands_of_stale_containers_are_all_exited() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    write(d, "/etc/passwd", "root:x:0:0:root:/root:/bin/sh\n");
    let n = 3000;
    let containers = (0..n)
        .map(|i| {
            let state = if i % 3 == 0 { 5 } else { 3 }; // running or paused
            container(
                i,
                &format!("lpstest-stale-{i:05}"),
                &format!(
                    r#"{{"state":{state},"pid":{},"conmonPid":{}}}"#,
                    100_000 + i,
                    50_000 + i
                ),
            )
        })
        .collect();
    sqlite_store(d, "/var/lib/containers/storage", containers);
    // /proc was captured (one unrelated process), the containers' pids are not in it.
    write(d, "/proc/1/cgroup", "0::/init.scope\n");
    std::fs::create_dir_all(d.join("sys/fs/cgroup/memory/libpod_parent")).unwrap();
    let report = discover(&HostRoot::new(d).unwrap(), &DiscoveryOptions::default());
    assert!(
        report.errors.is_empty(),
        "{:?}",
        &report.errors[..3.min(report.errors.len())]
    );
    assert_eq!(report.containers.len(), n);
    for c in &report.containers {
        assert_eq!(c.state, ContainerState::Exited, "{c:?}");
        assert_eq!((c.pid, c.cgroup.as_deref()), (None, None));
    }
}

// ---- truncated and empty state files -----------------------------------------------------

/// Every state file of a store cut at several lengths (empty included): discovery reports
/// the store's problem or falls back, lists what it can, and never panics.
#[test]
fn truncated_and_empty_state_files_are_reported() {
    use libpod_stats_testing::{Backend, ContainerSpec, HostBuilder, StoreSpec};
    for (backend, file) in [
        (
            Backend::Bolt,
            "var/lib/containers/storage/libpod/bolt_state.db",
        ),
        (Backend::Sqlite, "var/lib/containers/storage/db.sql"),
        (
            Backend::None,
            "var/lib/containers/storage/overlay-containers/containers.json",
        ),
    ] {
        let tmp = tempfile::tempdir().unwrap();
        HostBuilder::new()
            .store(
                StoreSpec::root()
                    .backend(backend)
                    .container(ContainerSpec::new("lpstest-a"))
                    .container(ContainerSpec::new("lpstest-b").state(ContainerState::Exited)),
            )
            .build(tmp.path())
            .unwrap();
        let path = tmp.path().join(file);
        let whole = std::fs::read(&path).unwrap();
        let root = HostRoot::new(tmp.path()).unwrap();
        let full = discover(&root, &DiscoveryOptions::default());
        assert_eq!(full.containers.len(), 2, "{backend:?}: {:?}", full.errors);
        let len = whole.len();
        let mut cuts = vec![0, 1, 15, 100, len / 3, len / 2, len - 1];
        cuts.extend([4095, 4096, 4097, 8192].into_iter().filter(|c| *c < len));
        for cut in cuts {
            std::fs::write(&path, &whole[..cut]).unwrap();
            let report = discover(&root, &DiscoveryOptions::default());
            assert!(
                // An empty containers.json is containers/storage's "no containers".
                report.containers.len() == 2
                    || !report.errors.is_empty()
                    || (cut == 0 && matches!(backend, Backend::None)),
                "{backend:?} cut at {cut}: containers lost without an error: {:?}",
                report.containers
            );
        }
    }
}
