//! Discovery over hosts synthesized with the test-support `HostBuilder`: every layout, both
//! databases and the storage fallback, both cgroup managers, pods, rootless stores, crun
//! sub-cgroups, stale and reused pids, snapshots without /proc, and a thousand containers.

use std::path::Path;

use libpod_stats::{
    discover, CgroupManager, ContainerState, DiscoveryOptions, DiscoveryReport, HostRoot, Source,
};
use libpod_stats_testing::{
    Backend, Built, ContainerSpec, HostBuilder, Layout, PodSpec, ProcEntry, StoreSpec,
};

/// Builds the host and discovers it; also through the userland walk that kernels without
/// `openat2` use, which must find exactly the same.
fn build(builder: &HostBuilder, dir: &Path) -> (Built, DiscoveryReport) {
    let built = builder.build(dir).unwrap();
    let opts = DiscoveryOptions::default();
    let report = discover(&HostRoot::new(dir).unwrap(), &opts);
    let walked = discover(&HostRoot::new_walking(dir).unwrap(), &opts);
    assert_eq!(report.containers, walked.containers, "kernel vs walk");
    assert_eq!(report.stores, walked.stores, "kernel vs walk");
    assert_eq!(
        format!("{:?}", report.errors),
        format!("{:?}", walked.errors),
        "kernel vs walk"
    );
    (built, report)
}

/// Every state podman has, in every layout, manager and backend: states as recorded, and
/// each running or paused container's cgroup exactly where the builder put it.
#[test]
fn states_and_cgroups_in_every_layout_manager_and_backend() {
    use ContainerState::*;
    let states = ContainerState::ALL;
    for layout in [Layout::V1, Layout::V1CoMounted, Layout::V2, Layout::Hybrid] {
        for manager in [CgroupManager::Cgroupfs, CgroupManager::Systemd] {
            for backend in [Backend::Bolt, Backend::Sqlite] {
                let mut store = StoreSpec::root()
                    .backend(backend)
                    .pod(PodSpec::new("lpstest-pod").with_infra());
                for s in states {
                    store = store.container(
                        ContainerSpec::new(&format!("c-{s}"))
                            .state(s)
                            .cgroup_manager(manager),
                    );
                }
                store = store.container(
                    ContainerSpec::new("member")
                        .pod("lpstest-pod")
                        .cgroup_manager(manager),
                );
                let what = format!("{layout:?}/{manager:?}/{backend:?}");
                let dir = fast_tempdir();
                let (built, report) =
                    build(&HostBuilder::new().layout(layout).store(store), dir.path());
                assert!(report.errors.is_empty(), "{what}: {:?}", report.errors);
                assert_eq!(report.containers.len(), states.len() + 2, "{what}");
                let mut names: Vec<&str> =
                    report.containers.iter().map(|c| c.name.as_str()).collect();
                let listed = names.clone();
                names.sort();
                assert_eq!(listed, names, "{what}: sorted by name");
                for c in &report.containers {
                    let b = built.container(&c.name).unwrap();
                    assert_eq!(c.id, b.id, "{what}");
                    assert_eq!(
                        c.cgroup.as_deref(),
                        b.cgroup.as_deref(),
                        "{what}: cgroup of {}",
                        c.name
                    );
                    assert_eq!(c.pid, b.pid.filter(|_| c.state.has_cgroup()).or(c.pid));
                    assert_eq!(
                        c.pod_id.as_deref(),
                        b.pod_id.as_deref(),
                        "{what}: pod of {}",
                        c.name
                    );
                    if let Some(s) = c.name.strip_prefix("c-") {
                        assert_eq!(c.state.as_str(), s, "{what}");
                    } else {
                        assert_eq!(c.state, Running, "{what}: {}", c.name);
                        assert_eq!(c.pod_name.as_deref(), Some("lpstest-pod"));
                    }
                    let source = match backend {
                        Backend::Sqlite => Source::Sqlite,
                        _ => Source::Bolt,
                    };
                    assert_eq!(c.source, source);
                }
                let infra = report.containers.iter().filter(|c| c.is_infra).count();
                assert_eq!(infra, 1, "{what}");
            }
        }
    }
}

#[test]
fn rootless_stores_and_crun_sub_cgroups() {
    let dir = fast_tempdir();
    let builder = HostBuilder::new()
        .layout(Layout::V2)
        .store(StoreSpec::root().container(ContainerSpec::new("rootful")))
        .store(
            StoreSpec::rootless("alice", 1000)
                .backend(Backend::Sqlite)
                .pod(PodSpec::new("alices-pod").with_infra())
                .container(
                    ContainerSpec::new("alices")
                        .cgroup_manager(CgroupManager::Systemd)
                        .subgroup("container"),
                )
                .container(
                    ContainerSpec::new("alices-member")
                        .pod("alices-pod")
                        .cgroup_manager(CgroupManager::Systemd),
                ),
        );
    let (built, report) = build(&builder, dir.path());
    assert!(report.errors.is_empty(), "{:?}", report.errors);
    for c in &report.containers {
        let b = built.container(&c.name).unwrap();
        assert_eq!(c.cgroup.as_deref(), b.cgroup.as_deref(), "{}", c.name);
        assert_eq!(c.state, ContainerState::Running, "{}", c.name);
        let want_uid = if c.name == "rootful" { 0 } else { 1000 };
        assert_eq!(c.uid, Some(want_uid), "{}", c.name);
    }
    let alices = report
        .containers
        .iter()
        .find(|c| c.name == "alices")
        .unwrap();
    let cg = alices.cgroup.as_deref().unwrap();
    assert!(
        cg.starts_with("/user.slice/user-1000.slice/user@1000.service/user.slice/libpod-")
            && cg.ends_with(".scope"),
        "{cg}"
    );
    let no_rootless = discover(
        &HostRoot::new(dir.path()).unwrap(),
        &DiscoveryOptions {
            rootless_stores: false,
            ..Default::default()
        },
    );
    assert_eq!(no_rootless.containers.len(), 1);
}

#[test]
fn gone_and_reused_pids_are_not_running() {
    let dir = fast_tempdir();
    let builder = HostBuilder::new()
        .container(ContainerSpec::new("alive"))
        .container(ContainerSpec::new("gone").proc_entry(ProcEntry::Missing))
        .container(
            ContainerSpec::new("reused")
                .state(ContainerState::Paused)
                .proc_entry(ProcEntry::Foreign("/user.slice/session-3.scope".into())),
        );
    let (_, report) = build(&builder, dir.path());
    let got: Vec<_> = report
        .containers
        .iter()
        .map(|c| {
            (
                c.name.as_str(),
                c.state,
                c.pid.is_some(),
                c.cgroup.is_some(),
            )
        })
        .collect();
    assert_eq!(
        got,
        [
            ("alive", ContainerState::Running, true, true),
            ("gone", ContainerState::Exited, false, false),
            ("reused", ContainerState::Exited, false, false),
        ]
    );
}

#[test]
fn without_proc_the_cgroup_podman_asked_for_decides() {
    for manager in [CgroupManager::Cgroupfs, CgroupManager::Systemd] {
        for layout in [Layout::V1, Layout::V2, Layout::Hybrid] {
            let dir = fast_tempdir();
            let builder = HostBuilder::new()
                .layout(layout)
                .pod(PodSpec::new("p").with_infra())
                .container(ContainerSpec::new("with-cgroup").cgroup_manager(manager))
                .container(
                    ContainerSpec::new("member")
                        .pod("p")
                        .cgroup_manager(manager),
                )
                .container(
                    ContainerSpec::new("without-cgroup")
                        .cgroup_manager(manager)
                        .without_cgroup_files(),
                );
            let built = builder.build(dir.path()).unwrap();
            // Keep /proc/self/mountinfo (the layout), drop every pid.
            for name in std::fs::read_dir(dir.path().join("proc")).unwrap() {
                let name = name.unwrap();
                if name.file_name().to_string_lossy().parse::<u32>().is_ok() {
                    std::fs::remove_dir_all(name.path()).unwrap();
                }
            }
            let report = discover(&HostRoot::new(dir.path()).unwrap(), &Default::default());
            let what = format!("{manager:?}/{layout:?}");
            for c in &report.containers {
                if c.name == "without-cgroup" {
                    assert_eq!(c.state, ContainerState::Exited, "{what}");
                } else {
                    assert_eq!(c.state, ContainerState::Running, "{what}: {}", c.name);
                    let want = built.container(&c.name).unwrap().cgroup.as_deref();
                    assert_eq!(c.cgroup.as_deref(), want, "{what}");
                }
            }
        }
    }
}

#[test]
fn storage_fallback_from_a_built_host() {
    let dir = fast_tempdir();
    let builder = HostBuilder::new().store(
        StoreSpec::root()
            .backend(Backend::None)
            .container(ContainerSpec::new("up"))
            .container(ContainerSpec::new("rm-me").auto_remove())
            .container(ContainerSpec::new("down").state(ContainerState::Exited)),
    );
    let (built, report) = build(&builder, dir.path());
    assert!(report.errors.is_empty(), "{:?}", report.errors);
    let got: Vec<_> = report
        .containers
        .iter()
        .map(|c| (c.name.as_str(), c.state, c.source))
        .collect();
    use ContainerState::*;
    assert_eq!(
        got,
        [
            ("down", Unknown, Source::Storage),
            ("rm-me", Running, Source::Storage),
            ("up", Running, Source::Storage),
        ]
    );
    for c in report.containers.iter().filter(|c| c.state == Running) {
        assert_eq!(
            c.cgroup.as_deref(),
            built.container(&c.name).unwrap().cgroup.as_deref()
        );
    }
}

#[test]
fn a_thousand_containers() {
    let dir = fast_tempdir();
    let mut builder = HostBuilder::new().layout(Layout::V2);
    for i in 0..1000 {
        let state = if i % 3 == 0 {
            ContainerState::Exited
        } else {
            ContainerState::Running
        };
        builder = builder.container(
            ContainerSpec::new(&format!("lpstest-{i:04}"))
                .state(state)
                .without_cgroup_files(),
        );
    }
    let (_, report) = build(&builder, dir.path());
    assert!(report.errors.is_empty(), "{:?}", report.errors);
    assert_eq!(report.containers.len(), 1000);
    assert_eq!(report.containers[0].name, "lpstest-0000");
    assert_eq!(report.containers[999].name, "lpstest-0999");
    let running = report
        .containers
        .iter()
        .filter(|c| c.state == ContainerState::Running)
        .count();
    assert_eq!(running, 666);
}

/// A temp dir on tmpfs when there is one: thousands of small files are written and removed
/// much faster there than on a VM's disk.
fn fast_tempdir() -> tempfile::TempDir {
    let shm = Path::new("/dev/shm");
    if shm.is_dir() {
        if let Ok(dir) = tempfile::Builder::new().prefix("lpstest-").tempdir_in(shm) {
            return dir;
        }
    }
    tempfile::tempdir().unwrap()
}
