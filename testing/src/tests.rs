//! The synthetic host read back by the library's own readers: layout detection, cgroup
//! counters, discovery from BoltDB and SQLite, /proc entries, series.

use std::path::Path;

use super::*;
use libpod_stats::internals::cgroup::layout::{CgroupLayout, Controller, LayoutKind};
use libpod_stats::internals::libpod::bolt_state::read_bolt_state;
use libpod_stats::{
    discover, CgroupManager, CgroupReader, ContainerState, DiscoveryOptions, HostRoot, Source,
};

fn mixed() -> HostBuilder {
    HostBuilder::new()
        .pod(PodSpec::new("lpstest-pod").with_infra())
        .container(ContainerSpec::new("web").with_counters(|c| {
            *c = Counters::default().cpu(3_000_000_000).memory(64 << 20);
            c.memory_limit = Some(256 << 20);
            c.oom_kills = 2;
            c.pids = 4;
            c.io_read_bytes = 1 << 20;
            c.io_write_bytes = 2 << 20;
            c.rx_bytes = 12345;
            c.tx_bytes = 678;
        }))
        .container(ContainerSpec::new("frozen").state(ContainerState::Paused))
        .container(ContainerSpec::new("fresh").state(ContainerState::Created))
        .container(ContainerSpec::new("done").state(ContainerState::Exited))
        .container(ContainerSpec::new("halted").state(ContainerState::Stopped))
        .container(ContainerSpec::new("member").pod("lpstest-pod"))
        .container(
            ContainerSpec::new("stale")
                .pid(4242)
                .proc_entry(ProcEntry::Missing)
                .without_cgroup_files(),
        )
}

fn build(h: &HostBuilder) -> (tempfile::TempDir, Built, HostRoot) {
    let dir = tempfile::tempdir().unwrap();
    let built = h.build(dir.path()).unwrap();
    let root = HostRoot::new(dir.path()).unwrap();
    (dir, built, root)
}

#[test]
fn every_layout_is_detected_as_written() {
    for (layout, kind) in [
        (Layout::V1, LayoutKind::V1),
        (Layout::V1CoMounted, LayoutKind::V1),
        (Layout::V2, LayoutKind::V2),
        (Layout::Hybrid, LayoutKind::Hybrid),
    ] {
        let (_d, _b, root) = build(&mixed().layout(layout));
        let detected = CgroupLayout::detect(&root).unwrap();
        assert_eq!(detected.kind(), kind, "{layout:?}");
        if layout == Layout::V1CoMounted {
            assert_eq!(
                detected.v1_mount(Controller::Cpu),
                detected.v1_mount(Controller::Cpuacct)
            );
        }
    }
}

#[test]
fn counters_read_back_in_every_layout() {
    for layout in [Layout::V1, Layout::V1CoMounted, Layout::V2, Layout::Hybrid] {
        let (_d, built, root) = build(&mixed().layout(layout));
        let web = built.container("web").unwrap();
        let cgroup = web.cgroup.clone().unwrap();
        let reader = CgroupReader::new(root.clone()).unwrap();
        let s = reader.read(&cgroup).unwrap();
        let ctx = format!("{layout:?}: {s:#?}");
        assert_eq!(s.cpu.usage_ns, Some(3_000_000_000), "{ctx}");
        assert_eq!(s.cpu.user_ns, Some(2_000_000_000), "{ctx}");
        assert_eq!(s.cpu.system_ns, Some(1_000_000_000), "{ctx}");
        assert_eq!(s.memory.usage_bytes, Some(64 << 20), "{ctx}");
        assert_eq!(
            s.memory.limit.and_then(|l| l.value()),
            Some(256 << 20),
            "{ctx}"
        );
        assert_eq!(s.memory.oom_kills, Some(2), "{ctx}");
        assert_eq!(s.memory.inactive_file(), Some((16 << 20) / 2), "{ctx}");
        assert_eq!(s.pids.current, Some(4), "{ctx}");
        assert_eq!(s.io.read_bytes, Some(1 << 20), "{ctx}");
        assert_eq!(s.io.write_bytes, Some(2 << 20), "{ctx}");
        // Unlimited memory on the others.
        let frozen = built.container("frozen").unwrap().cgroup.clone().unwrap();
        let f = reader.read(&frozen).unwrap();
        assert_eq!(f.memory.limit.and_then(|l| l.value()), None, "{layout:?}");
        // Containers without a live cgroup get none.
        for name in ["fresh", "done", "halted"] {
            assert_eq!(built.container(name).unwrap().cgroup, None, "{name}");
            assert_eq!(built.container(name).unwrap().pid, None, "{name}");
        }
        assert!(!reader.exists(&built.container("stale").unwrap().cgroup.clone().unwrap()));
    }
}

#[test]
fn discovery_sees_every_container_from_bolt_and_sqlite() {
    for backend in [Backend::Bolt, Backend::Sqlite] {
        let mut h = mixed();
        h.stores[0].backend = backend;
        let (_d, built, root) = build(&h);
        let report = discover(&root, &DiscoveryOptions::default());
        assert!(report.errors.is_empty(), "{:?}", report.errors);
        let source = match backend {
            Backend::Bolt => Source::Bolt,
            _ => Source::Sqlite,
        };
        let states: Vec<(String, ContainerState, Option<u32>, Option<String>)> = report
            .containers
            .iter()
            .map(|c| {
                assert_eq!(c.source, source);
                (
                    c.name.clone(),
                    c.state,
                    c.pid,
                    c.cgroup.clone().map(String::from),
                )
            })
            .collect();
        let infra = format!("{}-infra", &PodSpec::new("lpstest-pod").id[..12]);
        let expect = |name: &str, state| {
            let b = built.container(name).unwrap();
            (name.to_string(), state, b.pid, b.cgroup.clone())
        };
        let mut want = vec![
            expect(&infra, ContainerState::Running),
            expect("done", ContainerState::Exited),
            expect("fresh", ContainerState::Created),
            expect("frozen", ContainerState::Paused),
            expect("halted", ContainerState::Stopped),
            expect("member", ContainerState::Running),
            // Its pid is gone: listed as exited, never as running.
            ("stale".to_string(), ContainerState::Exited, None, None),
            expect("web", ContainerState::Running),
        ];
        want.sort();
        let mut got = states;
        got.sort();
        assert_eq!(got, want, "{backend:?}");
        let member = report
            .containers
            .iter()
            .find(|c| c.name == "member")
            .unwrap();
        assert_eq!(member.pod_name.as_deref(), Some("lpstest-pod"));
        assert!(member.cgroup.as_deref().unwrap().starts_with(&format!(
            "/libpod_parent/{}/libpod-",
            member.pod_id.clone().unwrap()
        )));
        assert_eq!(member.image.as_deref(), Some("localhost/bb:latest"));
    }
}

#[test]
fn the_bolt_state_has_podmans_records() {
    let (_d, built, root) = build(&mixed());
    let state = read_bolt_state(
        &root,
        Path::new("/var/lib/containers/storage/libpod/bolt_state.db"),
    )
    .unwrap();
    assert_eq!(state.containers.len(), built.containers.len());
    assert_eq!(state.pods.len(), 1);
    assert_eq!(state.runtime.graph_driver.as_deref(), Some("overlay"));
    let web = state
        .containers
        .iter()
        .find(|c| c.name.as_deref() == Some("web"))
        .unwrap();
    let config: serde_json::Value = serde_json::from_slice(&web.config_json).unwrap();
    let st: serde_json::Value = serde_json::from_slice(&web.state_json).unwrap();
    assert_eq!(config["cgroupManager"], "cgroupfs");
    assert_eq!(config["cgroupParent"], "/libpod_parent");
    assert_eq!(config["rootfsImageName"], "localhost/bb:latest");
    assert_eq!(st["state"], 3);
    assert_eq!(st["pid"], built.container("web").unwrap().pid.unwrap());
    let fresh = state
        .containers
        .iter()
        .find(|c| c.name.as_deref() == Some("fresh"))
        .unwrap();
    let st: serde_json::Value = serde_json::from_slice(&fresh.state_json).unwrap();
    assert_eq!(st["state"], 1);
    assert!(st.get("pid").is_none(), "{st}");
    assert_eq!(st["startedTime"], "0001-01-01T00:00:00Z");
}

#[test]
fn proc_entries_and_meminfo() {
    let (_d, built, root) = build(&mixed().mem_total(8 << 30));
    let web = built.container("web").unwrap();
    let pid = web.pid.unwrap();
    let net = root.read(format!("/proc/{pid}/net/dev")).unwrap();
    let eth0 = libpod_stats::internals::parse::net_dev::iter(&net)
        .filter_map(Result::ok)
        .find(|l| !l.is_loopback())
        .unwrap();
    assert_eq!((eth0.rx_bytes, eth0.tx_bytes), (12345, 678));
    let cg = root.read_to_string(format!("/proc/{pid}/cgroup")).unwrap();
    assert!(
        cg.contains(&format!("6:memory:{}\n", web.cgroup.clone().unwrap())),
        "{cg}"
    );
    assert!(
        cg.contains(&format!("0::{}\n", web.cgroup.clone().unwrap())),
        "{cg}"
    );
    let meminfo = root.read("/proc/meminfo").unwrap();
    assert_eq!(
        libpod_stats::internals::parse::meminfo::mem_total_bytes(&meminfo).unwrap(),
        Some(8 << 30)
    );
    assert_eq!(root.snapshot_meta().unwrap().unwrap().online_cpus, 2);
    // The storage fallback files are there too.
    let list = root
        .read_to_string("/var/lib/containers/storage/overlay-containers/containers.json")
        .unwrap();
    assert!(list.contains("\"names\":[\"web\"]"), "{list}");
}

#[test]
fn systemd_rootless_and_subgroups() {
    let h = HostBuilder::new()
        .layout(Layout::V2)
        .container(
            ContainerSpec::new("sd")
                .cgroup_manager(CgroupManager::Systemd)
                .subgroup("container"),
        )
        .store(
            StoreSpec::rootless("alice", 1000)
                .container(ContainerSpec::new("mine").cgroup_manager(CgroupManager::Systemd)),
        );
    let (_d, built, root) = build(&h);
    let sd = built.container("sd").unwrap();
    assert_eq!(
        sd.cgroup.as_deref(),
        Some(format!("/machine.slice/libpod-{}.scope", sd.id).as_str())
    );
    let cg = root
        .read_to_string(format!("/proc/{}/cgroup", sd.pid.unwrap()))
        .unwrap();
    assert!(cg.ends_with(".scope/container\n"), "{cg}");
    let mine = built.container("mine").unwrap();
    assert_eq!(
        mine.cgroup.as_deref(),
        Some(
            format!(
                "/user.slice/user-1000.slice/user@1000.service/user.slice/libpod-{}.scope",
                mine.id
            )
            .as_str()
        )
    );
    let report = discover(&root, &DiscoveryOptions::default());
    assert!(report.errors.is_empty(), "{:?}", report.errors);
    let found = report.containers.iter().find(|c| c.name == "mine").unwrap();
    assert_eq!(found.uid, Some(1000));
    assert_eq!(found.cgroup.as_deref(), mine.cgroup.as_deref());
    let found = report.containers.iter().find(|c| c.name == "sd").unwrap();
    assert_eq!(found.cgroup.as_deref(), sd.cgroup.as_deref());
    assert_eq!(
        slice_path("machine-libpod_pod_x.slice"),
        "/machine.slice/machine-libpod_pod_x.slice"
    );
}

#[test]
fn a_series_advances_counters_and_time() {
    let dir = tempfile::tempdir().unwrap();
    let mut h = HostBuilder::new().container(ContainerSpec::new("busy"));
    let mut series = Series::new(dir.path());
    let first = series.push(&h).unwrap();
    h.advance(1_000_000_000, |c| {
        c.counters.advance(500_000_000, 4096, 100)
    });
    if let Some(c) = h.container_mut("busy") {
        c.counters.memory_usage += 1 << 20;
    }
    let second = series.push(&h).unwrap();
    assert_eq!(series.len(), 2);
    let steps = libpod_stats::internals::snapshot::series_steps(dir.path()).unwrap();
    assert_eq!(steps.len(), 2);
    let cg = first.container("busy").unwrap().cgroup.clone().unwrap();
    assert_eq!(
        second.container("busy").unwrap().cgroup.as_deref(),
        Some(cg.as_str())
    );
    let read = |step: &Path| {
        let root = HostRoot::new(step).unwrap();
        let meta = root.snapshot_meta().unwrap().unwrap();
        let s = CgroupReader::new(root).unwrap().read(&cg).unwrap();
        (
            meta.taken_at_ns,
            s.cpu.usage_ns.unwrap(),
            s.memory.usage_bytes.unwrap(),
        )
    };
    let (t0, cpu0, mem0) = read(&steps[0]);
    let (t1, cpu1, mem1) = read(&steps[1]);
    assert_eq!(t1 - t0, 1_000_000_000);
    assert_eq!(cpu1 - cpu0, 500_000_000);
    assert_eq!(mem1 - mem0, 1 << 20);
}

#[test]
fn an_unknown_pod_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let err = HostBuilder::new()
        .container(ContainerSpec::new("x").pod("nope"))
        .build(dir.path())
        .unwrap_err();
    assert!(err.to_string().contains("no pod named nope"), "{err}");
}

/// Every file of a small host and the content of the small ones, for review: what the
/// builder writes, where, in which format.
fn listing(dir: &Path) -> Vec<String> {
    fn walk(base: &Path, dir: &Path, out: &mut Vec<String>) {
        let mut entries: Vec<_> = std::fs::read_dir(dir).unwrap().flatten().collect();
        entries.sort_by_key(|e| e.file_name());
        for e in entries {
            let path = e.path();
            let rel = path.strip_prefix(base).unwrap().display().to_string();
            let meta = std::fs::symlink_metadata(&path).unwrap();
            if meta.file_type().is_symlink() {
                out.push(format!(
                    "{rel} -> {}",
                    std::fs::read_link(&path).unwrap().display()
                ));
            } else if meta.is_dir() {
                walk(base, &path, out);
            } else if rel.ends_with(".db") || rel.ends_with(".json") {
                out.push(format!("{rel} ({} bytes)", meta.len()));
            } else {
                let text = std::fs::read_to_string(&path).unwrap();
                out.push(format!("{rel}: {}", text.trim_end().replace('\n', " | ")));
            }
        }
    }
    let mut out = Vec::new();
    walk(dir, dir, &mut out);
    out
}

#[test]
fn golden_file_listing() {
    for (name, layout) in [("v2", Layout::V2), ("v1_comounted", Layout::V1CoMounted)] {
        let h = HostBuilder::new()
            .layout(layout)
            .online_cpus(2)
            .container(ContainerSpec::new("web").counters(Counters::default().cpu(3_000_000_000)))
            .container(ContainerSpec::new("done").state(ContainerState::Exited));
        let (dir, built, _root) = build(&h);
        let id = &built.container("web").unwrap().id;
        let done = &built.container("done").unwrap().id;
        let lines: Vec<String> = listing(dir.path())
            .into_iter()
            .map(|l| {
                l.replace(id.as_str(), "<web>")
                    .replace(done.as_str(), "<done>")
            })
            .collect();
        insta::assert_yaml_snapshot!(format!("host_listing_{name}"), lines);
    }
}

#[test]
fn extra_and_removed_files_and_pressure() {
    let h = HostBuilder::new()
        .container(ContainerSpec::new("web").with_counters(|c| c.pressure_us = [10, 20, 30]))
        .file(
            "/var/lib/containers/storage/libpod/bolt_state.db",
            "garbage",
        )
        .remove("/proc/meminfo");
    let (_d, built, root) = build(&h);
    assert_eq!(
        root.read("/var/lib/containers/storage/libpod/bolt_state.db")
            .unwrap(),
        b"garbage"
    );
    assert!(!root.exists("/proc/meminfo"));
    let cg = built.container("web").unwrap().cgroup.clone().unwrap();
    let psi = root
        .read_to_string(format!("/sys/fs/cgroup/unified{cg}/memory.pressure"))
        .unwrap();
    assert!(
        psi.starts_with("some avg10=0.00 avg60=0.00 avg300=0.00 total=20\n"),
        "{psi}"
    );
    let s = CgroupReader::new(root).unwrap().read(&cg).unwrap();
    assert_eq!(s.pressure.io.map(|p| p.some.total_us), Some(30), "{s:#?}");
}
