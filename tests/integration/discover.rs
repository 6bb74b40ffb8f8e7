//! Discovery over synthesized snapshots: several stores, both fallbacks, bad files.

use std::path::{Path, PathBuf};

use libpod_stats::internals::libpod::discover::{
    discover_stores, fingerprint_of, state_fingerprint,
};
use libpod_stats::internals::libpod::sqlite::write_sqlite_state;
use libpod_stats::internals::libpod::stores::find_stores;
use libpod_stats::{
    discover, ContainerState, DiscoveryOptions, HostRoot, RawContainer, RawPod, RawState,
    RuntimeConfig, Source,
};

fn id(n: u8) -> String {
    format!("{:064x}", u64::from(n) + 0xabc0)
}

fn write(dir: &Path, path: &str, text: impl AsRef<[u8]>) {
    let p = dir.join(path.trim_start_matches('/'));
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(p, text).unwrap();
}

fn ctr(n: u8, name: &str, state: u8, pid: Option<u32>, pod: Option<&str>) -> RawContainer {
    let i = id(n);
    let pod_key = pod.map(|p| format!(r#","pod":"{p}""#)).unwrap_or_default();
    let parent = match pod {
        Some(p) => format!("/libpod_parent/{p}"),
        None => "/libpod_parent".into(),
    };
    RawContainer {
        id: i.clone(),
        name: Some(name.into()),
        pod_id: pod.map(String::from),
        config_json: format!(
            r#"{{"id":"{i}","name":"{name}"{pod_key},"rootfsImageName":"localhost/bb:latest",
            "createdTime":"2026-11-25T02:32:03.5Z","cgroupManager":"cgroupfs",
            "cgroupsMode":"enabled","cgroupParent":"{parent}"}}"#
        )
        .into_bytes(),
        state_json: match pid {
            Some(p) => format!(r#"{{"state":{state},"pid":{p},"conmonPid":{}}}"#, p - 1),
            None => format!(r#"{{"state":{state}}}"#),
        }
        .into_bytes(),
    }
}

struct Host {
    dir: tempfile::TempDir,
    root: HostRoot,
}

fn host() -> Host {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write(
        d,
        "/etc/passwd",
        "root:x:0:0:root:/root:/bin/bash\nalice:x:1000:1000::/home/alice:/bin/sh\n\
         bob:x:1001:1001::/home/bob:/bin/sh\n",
    );
    let pod = id(50);
    let state = RawState {
        containers: vec![
            ctr(1, "web", 3, Some(101), None),
            ctr(2, "stale", 3, Some(102), None),
            ctr(3, "frozen", 5, Some(103), None),
            ctr(4, "fresh", 1, None, None),
            ctr(5, "member", 3, Some(105), Some(&pod)),
            ctr(6, "reused-pid", 3, Some(106), None),
        ],
        pods: vec![RawPod {
            id: pod.clone(),
            name: Some("registry-name".into()),
            config_json: format!(r#"{{"id":"{pod}","name":"lpstest-pod","sharesCgroup":true}}"#)
                .into_bytes(),
            state_json: format!(r#"{{"cgroupPath":"/libpod_parent/{pod}"}}"#).into_bytes(),
        }],
        runtime: RuntimeConfig {
            graph_root: Some("/var/lib/containers/storage".into()),
            run_root: Some("/run/containers/storage".into()),
            graph_driver: Some("overlay".into()),
            ..Default::default()
        },
    };
    std::fs::create_dir_all(d.join("var/lib/containers/storage")).unwrap();
    write_sqlite_state(&state, &d.join("var/lib/containers/storage/db.sql")).unwrap();
    for (pid, cg) in [
        (101, format!("/libpod_parent/libpod-{}", id(1))),
        (103, format!("/libpod_parent/libpod-{}", id(3))),
        (105, format!("/libpod_parent/{pod}/libpod-{}", id(5))),
        (106, "/user.slice/session-1.scope".to_string()),
    ] {
        write(
            d,
            &format!("/proc/{pid}/cgroup"),
            format!("12:name=systemd:/x\n6:memory:{cg}\n0::/\n"),
        );
    }
    // alice: no database, containers/storage only: one podman container, one buildah one.
    let alice = "/home/alice/.local/share/containers/storage";
    write(
        d,
        &format!("{alice}/overlay-containers/containers.json"),
        format!(
            r#"[{{"id":"{}","names":["alices"],"metadata":"{{\"image-name\":\"localhost/bb:latest\",\"name\":\"alices\",\"created-at\":1795573923}}"}},
               {{"id":"{}","names":["bb-working-container"],"metadata":""}}]"#,
            id(7),
            id(8)
        ),
    );
    write(
        d,
        &format!(
            "/run/user/1000/containers/overlay-containers/{}/userdata/pidfile",
            id(7)
        ),
        "107\n",
    );
    write(
        d,
        "/proc/107/cgroup",
        format!("0::/user.slice/user-1000.slice/user@1000.service/user.slice/libpod-{}.scope/container\n", id(7)),
    );
    // bob: a db.sql that is not SQLite, and a containers.json to fall back to.
    let bob = "/home/bob/.local/share/containers/storage";
    write(d, &format!("{bob}/db.sql"), "this is not a database");
    write(
        d,
        &format!("{bob}/vfs-containers/volatile-containers.json"),
        format!(
            r#"[{{"id":"{}","names":["bobs"],"metadata":"{{\"name\":\"bobs\",\"created-at\":1}}"}}]"#,
            id(9)
        ),
    );
    let root = HostRoot::new(d).unwrap();
    Host { dir, root }
}

#[test]
fn every_store_with_real_states() {
    let h = host();
    let report = discover(&h.root, &DiscoveryOptions::default());
    let got: Vec<_> = report
        .containers
        .iter()
        .map(|c| (c.name.as_str(), c.state, c.pid, c.source, c.uid))
        .collect();
    use ContainerState::*;
    assert_eq!(
        got,
        vec![
            ("alices", Running, Some(107), Source::Storage, Some(1000)),
            ("bobs", Unknown, None, Source::Storage, Some(1001)),
            ("fresh", Created, None, Source::Sqlite, Some(0)),
            ("frozen", Paused, Some(103), Source::Sqlite, Some(0)),
            ("member", Running, Some(105), Source::Sqlite, Some(0)),
            ("reused-pid", Exited, None, Source::Sqlite, Some(0)),
            ("stale", Exited, None, Source::Sqlite, Some(0)),
            ("web", Running, Some(101), Source::Sqlite, Some(0)),
        ]
    );
    let member = &report.containers[4];
    assert_eq!(member.pod_name.as_deref(), Some("lpstest-pod"));
    assert_eq!(
        member.cgroup.as_deref(),
        Some(&*format!("/libpod_parent/{}/libpod-{}", id(50), id(5)))
    );
    assert_eq!(
        report.containers[0].cgroup.as_deref(),
        Some(&*format!(
            "/user.slice/user-1000.slice/user@1000.service/user.slice/libpod-{}.scope",
            id(7)
        ))
    );
    assert_eq!(report.errors.len(), 1, "{:?}", report.errors);
    let msg = report.errors[0].to_string();
    assert!(
        msg.contains("home/bob/.local/share/containers/storage/db.sql"),
        "{msg}"
    );
    assert!(msg.contains("not a SQLite database"), "{msg}");
    assert_eq!(report.stores.len(), 3);
}

#[test]
fn external_containers_only_when_asked() {
    let h = host();
    let opts = DiscoveryOptions {
        external: true,
        ..Default::default()
    };
    let report = discover(&h.root, &opts);
    assert!(report
        .containers
        .iter()
        .any(|c| c.name == "bb-working-container" && c.state == ContainerState::Unknown));
}

#[test]
fn explicit_store_is_read_once_and_rootless_can_be_off() {
    let h = host();
    let opts = DiscoveryOptions {
        rootless_stores: false,
        extra_stores: vec![PathBuf::from("/var/lib/containers/storage")],
        external: false,
    };
    let report = discover(&h.root, &opts);
    assert_eq!(report.containers.len(), 6);
    assert!(report.errors.is_empty(), "{:?}", report.errors);
}

#[test]
fn fingerprint_follows_the_state_files() {
    let h = host();
    let opts = DiscoveryOptions::default();
    let a = state_fingerprint(&h.root, &opts);
    assert_eq!(a, state_fingerprint(&h.root, &opts));
    assert!(a
        .files
        .iter()
        .any(|(p, s)| p.ends_with("storage/db.sql") && s.is_some()));
    write(
        h.dir.path(),
        "/home/alice/.local/share/containers/storage/overlay-containers/containers.json",
        "[]",
    );
    assert_ne!(a, state_fingerprint(&h.root, &opts));
}

#[test]
fn stores_found_once_give_the_same_fingerprint_and_discovery() {
    let h = host();
    write(
        h.dir.path(),
        "/etc/containers/containers.conf",
        "# a comment\n[engine]\n# static_dir = \"/nowhere\"\n",
    );
    let opts = DiscoveryOptions::default();
    let found = find_stores(&h.root, opts.rootless_stores, &opts.extra_stores);
    assert_eq!(found.config_files.len(), found.config_stamps.len());
    let fingerprint = fingerprint_of(&h.root, &found);
    assert_eq!(fingerprint, state_fingerprint(&h.root, &opts));
    // The configuration files are in it, stamped (the missing ones as absent).
    for (path, present) in [
        ("/etc/passwd", true),
        ("/etc/containers/containers.conf", true),
        ("/etc/containers/storage.conf", false),
    ] {
        let (_, stamp) = fingerprint
            .files
            .iter()
            .find(|(p, _)| p == Path::new(path))
            .unwrap_or_else(|| panic!("{path} not watched"));
        assert_eq!(stamp.is_some(), present, "{path}");
    }
    let once = discover_stores(&h.root, &opts, found);
    let twice = discover(&h.root, &opts);
    let names = |r: &libpod_stats::DiscoveryReport| {
        r.containers
            .iter()
            .map(|c| (c.id.clone(), c.name.clone(), c.state, c.cgroup.clone()))
            .collect::<Vec<_>>()
    };
    assert_eq!(names(&once), names(&twice));
    assert_eq!(once.stores, twice.stores);
    assert_eq!(once.errors.len(), twice.errors.len());
}

#[test]
fn without_proc_paths_are_derived_and_checked() {
    let h = host();
    std::fs::remove_dir_all(h.dir.path().join("proc")).unwrap();
    std::fs::create_dir_all(h.dir.path().join(format!(
        "sys/fs/cgroup/memory/libpod_parent/libpod-{}",
        id(1)
    )))
    .unwrap();
    let report = discover(&h.root, &DiscoveryOptions::default());
    let running: Vec<_> = report
        .containers
        .iter()
        .filter(|c| c.state.has_cgroup())
        .map(|c| (c.name.as_str(), c.cgroup.clone().map(String::from)))
        .collect();
    assert_eq!(
        running,
        vec![("web", Some(format!("/libpod_parent/libpod-{}", id(1))))]
    );
}
