//! The plugin inside the real collectd reading a live, podman-shaped container: a test cgroup
//! `/lpstest-plugin-<pid>/libpod-<id>` with a busy process in it, and a BoltDB state in a
//! temp store (passed with `Store`) that says the container runs with that pid. collectd's
//! CSV must show the container's cpu time growing.
//!
//! Needs root and writable cgroup v1 hierarchies (this project's machines); otherwise a note,
//! or a failure under `CI=true`.

use crate::support;

use std::path::{Path, PathBuf};
use std::process::{Child, Command};
use std::time::Duration;

use libpod_stats::internals::libpod::bolt::writer::Writer;
use libpod_stats::internals::libpod::bolt_state::write_bolt_state;
use libpod_stats::{
    discover, ContainerState, DiscoveryOptions, HostRoot, RawContainer, RawState, RuntimeConfig,
};
use support::{collectd_available, skip_or_fail, Daemon};

/// The v1 controllers the busy process is moved into. Not `memory`: the test's own process
/// may sit in a memory cgroup that limits it, and the test must not move anything out of it;
/// an empty memory cgroup is created so the container has memory files to read.
const MOVE_INTO: [&str; 4] = ["cpu", "cpuacct", "pids", "blkio"];
const CREATE_ONLY: [&str; 1] = ["memory"];

/// The test cgroups and the busy process, removed on drop (also when the test fails).
struct LiveContainer {
    parent: String,
    id: String,
    busy: Option<Child>,
}

impl LiveContainer {
    fn dirs(&self, controllers: &[&str]) -> Vec<(PathBuf, PathBuf)> {
        controllers
            .iter()
            .map(|c| {
                let parent = Path::new("/sys/fs/cgroup").join(c).join(&self.parent);
                let leaf = parent.join(format!("libpod-{}", self.id));
                (parent, leaf)
            })
            .collect()
    }

    fn start(tag: &str) -> Result<LiveContainer, String> {
        let parent = format!("lpstest-plugin-{}-{tag}", std::process::id());
        let id = fake_id(&parent);
        let mut lc = LiveContainer {
            parent,
            id,
            busy: None,
        };
        for (parent, leaf) in lc.dirs(&MOVE_INTO).into_iter().chain(lc.dirs(&CREATE_ONLY)) {
            std::fs::create_dir_all(&leaf).map_err(|e| format!("mkdir {}: {e}", leaf.display()))?;
            let _ = parent;
        }
        let child = Command::new("sh")
            .arg("-c")
            .arg("while :; do :; done")
            .spawn()
            .map_err(|e| format!("spawn: {e}"))?;
        let pid = child.id();
        lc.busy = Some(child);
        for (_, leaf) in lc.dirs(&MOVE_INTO) {
            std::fs::write(leaf.join("cgroup.procs"), pid.to_string())
                .map_err(|e| format!("moving {pid} into {}: {e}", leaf.display()))?;
        }
        Ok(lc)
    }

    fn pid(&self) -> u32 {
        self.busy.as_ref().map(Child::id).unwrap_or(0)
    }
}

impl Drop for LiveContainer {
    fn drop(&mut self) {
        if let Some(mut child) = self.busy.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
        for (parent, leaf) in self
            .dirs(&MOVE_INTO)
            .into_iter()
            .chain(self.dirs(&CREATE_ONLY))
        {
            // The cgroup empties once the reaped process is gone; retry briefly.
            for _ in 0..50 {
                if std::fs::remove_dir(&leaf).is_ok() || !leaf.exists() {
                    break;
                }
                std::thread::sleep(Duration::from_millis(20));
            }
            let _ = std::fs::remove_dir(&parent);
        }
    }
}

/// 64 hex characters derived from `seed` (FNV-1a, repeated): a fixed-looking container id.
fn fake_id(seed: &str) -> String {
    let mut out = String::new();
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    while out.len() < 64 {
        for b in seed.bytes().chain(out.clone().into_bytes()) {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0000_0100_0000_01b3);
        }
        out.push_str(&format!("{h:016x}"));
    }
    out.truncate(64);
    out
}

/// Writes `<graph>/libpod/bolt_state.db` saying container `name` runs as `pid` in the test
/// cgroup, the way podman 4.3 with the cgroupfs manager records it.
fn write_state(graph: &Path, lc: &LiveContainer, name: &str) {
    let started = time_rfc3339_now();
    let config = format!(
        r#"{{"id":"{id}","name":"{name}","rootfsImageName":"localhost/bb:latest","cgroupManager":"cgroupfs","cgroupsMode":"enabled","cgroupParent":"/{parent}","staticDir":"{graph}/overlay-containers/{id}/userdata"}}"#,
        id = lc.id,
        parent = lc.parent,
        graph = graph.display(),
    );
    let state = format!(
        r#"{{"state":3,"startedTime":"{started}","finishedTime":"0001-01-01T00:00:00Z","pid":{pid}}}"#,
        pid = lc.pid()
    );
    let raw = RawState {
        containers: vec![RawContainer {
            id: lc.id.clone(),
            name: Some(name.to_string()),
            pod_id: None,
            config_json: config.into_bytes(),
            state_json: state.into_bytes(),
        }],
        pods: vec![],
        runtime: RuntimeConfig {
            graph_root: Some(graph.to_path_buf()),
            static_dir: Some(graph.join("libpod")),
            graph_driver: Some("overlay".into()),
            ..RuntimeConfig::default()
        },
    };
    let bytes = write_bolt_state(&raw, &Writer::new()).expect("writing bolt state");
    std::fs::create_dir_all(graph.join("libpod")).unwrap();
    std::fs::write(graph.join("libpod/bolt_state.db"), bytes).unwrap();
}

fn time_rfc3339_now() -> String {
    let now = time::OffsetDateTime::now_utc();
    now.format(&time::format_description::well_known::Rfc3339)
        .unwrap()
}

/// True when this process may create v1 cgroups (root on a v1 or hybrid host).
fn cgroups_writable() -> bool {
    let ok = MOVE_INTO
        .iter()
        .chain(CREATE_ONLY.iter())
        .all(|c| Path::new("/sys/fs/cgroup").join(c).join("cgroup.procs").exists())
        // SAFETY: geteuid has no preconditions.
        && unsafe { libc::geteuid() } == 0;
    if !ok {
        skip_or_fail(
            "the live plugin test needs root and cgroup v1 hierarchies under /sys/fs/cgroup",
        );
    }
    ok
}

#[test]
fn a_busy_live_container_shows_growing_cpu_time_in_collectd() {
    if !collectd_available() || !cgroups_writable() {
        return;
    }
    let lc = LiveContainer::start("busy").expect("creating the test container");
    let name = format!("lpstest-live-{}", std::process::id());
    let store = tempfile::Builder::new()
        .prefix("lpstest-store-")
        .tempdir()
        .unwrap();
    let graph = store.path().join("graph");
    write_state(&graph, &lc, &name);

    // The library itself must see the synthesized container running in the test cgroup;
    // otherwise the collectd half below cannot pass and this says why.
    let report = discover(
        &HostRoot::live(),
        &DiscoveryOptions {
            rootless_stores: false,
            extra_stores: vec![graph.clone()],
            external: false,
        },
    );
    let found = report.containers.iter().find(|c| c.name == name);
    let found = found.unwrap_or_else(|| panic!("not discovered: {report:#?}"));
    assert_eq!(found.state, ContainerState::Running, "{found:#?}");
    assert_eq!(
        found.cgroup.as_deref(),
        Some(format!("/{}/libpod-{}", lc.parent, lc.id).as_str()),
        "{found:#?}"
    );

    let block = format!(
        "  Store \"{}\"\n  RootlessStores false\n  Include \"^{name}$\"\n  Pods false",
        graph.display()
    );
    let mut d = Daemon::new(Some(&block));
    d.start();
    let plugin_dir = format!("libpodstats-{name}");
    let enough = d.wait_for(Duration::from_secs(30), |d| {
        d.csv(&plugin_dir, "pod_cpu").len() >= 4
    });
    d.stop();
    let log = d.log();
    assert!(
        enough,
        "fewer than 4 pod_cpu rows; dirs {:?}\n{log}",
        d.csv_dirs()
    );
    let rows = d.csv(&plugin_dir, "pod_cpu");
    let times: Vec<f64> = rows
        .iter()
        .map(|(_, v)| v[1].parse::<f64>().expect("time column"))
        .collect();
    assert!(
        times.windows(2).all(|w| w[1] > w[0]),
        "cpu time not growing: {times:?}"
    );
    // A busy loop wants a whole core: even on a loaded machine every percent after the first is well above zero.
    let percents: Vec<f64> = rows
        .iter()
        .map(|(_, v)| v[0].parse::<f64>().unwrap_or(f64::NAN))
        .collect();
    assert!(
        percents[0].is_nan(),
        "first percent has no rate: {percents:?}"
    );
    assert!(
        percents[1..].iter().all(|p| *p > 5.0),
        "busy container below 5 % (a loaded machine still gives it more): {percents:?}"
    );
    let mem = d.csv(&plugin_dir, "pod_memory_detail");
    assert!(
        !mem.is_empty(),
        "no pod_memory_detail rows; dirs {:?}",
        d.csv_dirs()
    );
    assert!(!log.contains("libpodstats: read failed"), "{log}");
}
