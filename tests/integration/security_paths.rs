//! Nothing a snapshot or a database says can make the reader look outside its host root:
//! symlinks inside a snapshot, `..` in host paths, and the paths a database records
//! (`cgroupParent`, a pod's `cgroupPath`, `staticDir`, `runDir`, a pid's cgroup) stay
//! confined; container ids are checked before any path is built from them.

use std::os::unix::fs::symlink;
use std::path::{Path, PathBuf};

use libpod_stats::internals::libpod::bolt::writer::Writer;
use libpod_stats::internals::libpod::bolt_state::write_bolt_state;
use libpod_stats::internals::libpod::sqlite::write_sqlite_state;
use libpod_stats::{
    discover, ContainerState, DiscoveryOptions, HostRoot, RawContainer, RawState, RuntimeConfig,
};

const SECRET: &[u8] = b"lpstest-OUTSIDE-THE-ROOT";

fn write(dir: &Path, path: &str, bytes: impl AsRef<[u8]>) {
    let p = dir.join(path.trim_start_matches('/'));
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(p, bytes).unwrap();
}

/// A temp dir holding `root/` (the snapshot) and `outside/` (what must never be read).
struct Layout {
    tmp: tempfile::TempDir,
}

impl Layout {
    fn new() -> Self {
        let tmp = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(tmp.path().join("root")).unwrap();
        write(tmp.path(), "outside/secret", SECRET);
        write(tmp.path(), "outside/passwd", SECRET);
        Layout { tmp }
    }
    fn root_dir(&self) -> PathBuf {
        self.tmp.path().join("root")
    }
    fn outside(&self) -> PathBuf {
        self.tmp.path().join("outside")
    }
    fn root(&self) -> HostRoot {
        HostRoot::new(self.root_dir()).unwrap()
    }
    /// The root through the kernel's resolution (`openat2`, where available) and through
    /// the userland walk used where it is not.
    fn roots(&self) -> [HostRoot; 2] {
        [self.root(), HostRoot::new_walking(self.root_dir()).unwrap()]
    }
}

#[test]
fn symlinks_and_dot_dots_in_a_snapshot_stay_inside_it() {
    let l = Layout::new();
    let r = l.root_dir();
    let depth = l.outside().components().count() + 3;
    let climb = "../".repeat(depth);
    // Absolute links to the real outside, relative links that climb far above the root,
    // a link to `/`, a chain of links, a loop.
    symlink(l.outside(), r.join("abs")).unwrap();
    symlink(l.outside().join("secret"), r.join("abs-file")).unwrap();
    symlink(format!("{climb}{}", l.outside().display()), r.join("climb")).unwrap();
    symlink("../outside", r.join("up")).unwrap();
    symlink("/", r.join("slash")).unwrap();
    symlink("up", r.join("chain")).unwrap();
    symlink("loop", r.join("loop")).unwrap();
    std::fs::create_dir_all(r.join("etc")).unwrap();
    symlink(format!("{climb}outside/passwd"), r.join("etc/passwd")).unwrap();
    std::fs::create_dir_all(r.join("sys/fs")).unwrap();
    symlink(l.tmp.path(), r.join("sys/fs/cgroup")).unwrap();

    for root in l.roots() {
        probe_everything(&root, &l, &climb);
    }
}

fn probe_everything(root: &HostRoot, l: &Layout, climb: &str) {
    let probes = [
        "/abs/secret".to_string(),
        "/abs-file".into(),
        "/climb/secret".into(),
        "/up/secret".into(),
        "/chain/secret".into(),
        "/loop/secret".into(),
        "/etc/passwd".into(),
        "/sys/fs/cgroup/outside/secret".into(),
        format!("/slash{}", l.outside().join("secret").display()),
        format!("/../../../../{}", l.outside().join("secret").display()),
        format!("/{climb}outside/secret"),
        "/../outside/secret".into(),
    ];
    for probe in &probes {
        if let Ok(real) = root.resolve(probe) {
            assert!(
                real.starts_with(root.dir()),
                "{probe} resolved outside the root to {}",
                real.display()
            );
        }
        if let Ok(bytes) = root.read(probe) {
            assert_ne!(bytes, SECRET, "{probe} read the file outside the root");
        }
        // Nothing of that name exists inside the root: not even its existence leaks.
        assert!(!root.exists(probe), "{probe}: found outside the root");
        assert!(
            root.metadata(probe).is_err(),
            "{probe}: stat outside the root"
        );
        if let Ok(names) = root.read_dir_names(probe.trim_end_matches("/secret")) {
            assert!(
                !names.iter().any(|n| n == "secret"),
                "{probe}: listed the directory outside the root"
            );
        }
    }
}

const ID: &str = "5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e";

fn container(id: &str, name: &str, config_extra: &str, state: &str) -> RawContainer {
    RawContainer {
        id: id.into(),
        name: Some(name.into()),
        pod_id: None,
        config_json: format!(
            r#"{{"id":"{id}","name":"{name}","cgroupManager":"cgroupfs"{config_extra}}}"#
        )
        .into_bytes(),
        state_json: state.as_bytes().to_vec(),
    }
}

/// Which libpod database a test snapshot holds.
#[derive(Debug, Clone, Copy)]
enum Db {
    Sqlite,
    Bolt,
}

fn snapshot_with(l: &Layout, containers: Vec<RawContainer>, db: Db) -> HostRoot {
    let d = l.root_dir();
    write(&d, "/etc/passwd", "root:x:0:0:root:/root:/bin/sh\n");
    std::fs::create_dir_all(d.join("var/lib/containers/storage")).unwrap();
    std::fs::create_dir_all(d.join("sys/fs/cgroup/memory/libpod_parent")).unwrap();
    let state = RawState {
        containers,
        pods: Vec::new(),
        runtime: RuntimeConfig {
            graph_root: Some("/var/lib/containers/storage".into()),
            // Paths in the runtime record that climb out: never to be used as given.
            run_root: Some("/../../../outside".into()),
            static_dir: Some("/../../../outside".into()),
            ..Default::default()
        },
    };
    match db {
        Db::Sqlite => {
            write_sqlite_state(&state, &d.join("var/lib/containers/storage/db.sql")).unwrap()
        }
        Db::Bolt => write(
            &d,
            "/var/lib/containers/storage/libpod/bolt_state.db",
            write_bolt_state(&state, &Writer::new()).unwrap(),
        ),
    }
    l.root()
}

#[test]
fn cgroup_parent_from_a_database_cannot_climb_out() {
    cgroup_parent_from_a_database_cannot_climb_out_in(Db::Sqlite);
    cgroup_parent_from_a_database_cannot_climb_out_in(Db::Bolt);
}

fn cgroup_parent_from_a_database_cannot_climb_out_in(db: Db) {
    let l = Layout::new();
    let d = l.root_dir();
    // What `/sys/fs/cgroup/memory/<parent>/libpod-<id>` would reach if `..` were honoured,
    // both inside the root (clamped at the root) and outside it.
    std::fs::create_dir_all(d.join(format!("escape/libpod-{ID}"))).unwrap();
    std::fs::create_dir_all(l.outside().join(format!("libpod-{ID}"))).unwrap();
    let root = snapshot_with(
        &l,
        vec![container(
            ID,
            "climber",
            r#","cgroupParent":"/../../../../escape","staticDir":"/../../../outside","cgroupsMode":"enabled""#,
            r#"{"state":3,"pid":4242,"runDir":"/../../../outside"}"#,
        )],
        db,
    );
    let report = discover(&root, &DiscoveryOptions::default());
    let c = report
        .containers
        .iter()
        .find(|c| c.name == "climber")
        .expect("the container is still listed");
    assert_eq!(c.state, ContainerState::Exited, "{c:?}");
    assert_eq!(c.cgroup, None);
}

#[test]
fn a_pids_cgroup_with_dot_dots_is_not_taken() {
    a_pids_cgroup_with_dot_dots_is_not_taken_in(Db::Sqlite);
    a_pids_cgroup_with_dot_dots_is_not_taken_in(Db::Bolt);
}

fn a_pids_cgroup_with_dot_dots_is_not_taken_in(db: Db) {
    let l = Layout::new();
    let d = l.root_dir();
    std::fs::create_dir_all(d.join(format!("escape/libpod-{ID}"))).unwrap();
    let root = snapshot_with(
        &l,
        vec![container(
            ID,
            "proc-climber",
            r#","cgroupParent":"/libpod_parent""#,
            r#"{"state":3,"pid":4243}"#,
        )],
        db,
    );
    write(
        &d,
        "/proc/4243/cgroup",
        format!("6:memory:/../../../../escape/libpod-{ID}\n0::/\n"),
    );
    let report = discover(&root, &DiscoveryOptions::default());
    for c in &report.containers {
        if let Some(cg) = &c.cgroup {
            // The type promises it; std's own path parser checks the promise.
            let below = cg
                .relative()
                .components()
                .all(|c| matches!(c, std::path::Component::Normal(_)));
            assert!(below, "{} got cgroup {cg:?}", c.name);
        }
    }
}

#[test]
fn bad_ids_are_skipped_with_an_error_before_any_path_use() {
    bad_ids_are_skipped_with_an_error_before_any_path_use_in(Db::Sqlite);
    bad_ids_are_skipped_with_an_error_before_any_path_use_in(Db::Bolt);
}

fn bad_ids_are_skipped_with_an_error_before_any_path_use_in(db: Db) {
    let l = Layout::new();
    let d = l.root_dir();
    // If an id were used in a path, these would be found.
    std::fs::create_dir_all(d.join("sys/fs/cgroup/memory/libpod_parent/libpod-../../etc")).unwrap();
    let bad = [
        "../../etc",
        "../../../../outside",
        "ABCDEF0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF0123456789",
        "0123",
        "5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5/",
        "",
    ];
    // bbolt (and our writer) cannot store an empty key.
    let bad: Vec<&str> = bad
        .into_iter()
        .filter(|id| !(id.is_empty() && matches!(db, Db::Bolt)))
        .collect();
    let mut containers: Vec<RawContainer> = bad
        .iter()
        .enumerate()
        .map(|(i, id)| container(id, &format!("bad{i}"), "", r#"{"state":3,"pid":77}"#))
        .collect();
    containers.push(container(ID, "good", "", r#"{"state":6}"#));
    let root = snapshot_with(&l, containers, db);
    write(
        &d,
        "/proc/77/cgroup",
        "6:memory:/libpod_parent/libpod-../../etc\n",
    );
    let report = discover(&root, &DiscoveryOptions::default());
    let names: Vec<_> = report.containers.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(names, ["good"], "{db:?}: {:?}", report.containers);
    let messages: Vec<String> = report.errors.iter().map(|e| e.to_string()).collect();
    assert_eq!(
        messages
            .iter()
            .filter(|m| m.contains("not 64 lowercase hex"))
            .count(),
        bad.len(),
        "{db:?}: {messages:#?}"
    );
}
