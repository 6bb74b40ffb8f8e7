//! Discovery and `ps` over every captured fixture (`fixtures/libpod-state/*`,
//! `fixtures/cgroupv1/*`, `fixtures/cgroupv2/podman-*`, series steps included): insta goldens
//! of both, and, where the fixture holds podman's own view (`expected/ps.json`,
//! `expected/inspect.json`), a check that we list exactly what podman listed.

use libpod_stats_test_support::files;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use files::copy_tree;
use libpod_stats::internals::libpod::discover::StoreReport;
use libpod_stats::internals::snapshot::series_steps;
use libpod_stats::{discover, Container, ContainerState, DiscoveryOptions, HostRoot, Source};
use serde::Serialize;

/// Every snapshot under the fixture families discovery is tested on, named for insta.
fn fixture_snapshots() -> Vec<(String, PathBuf)> {
    let base = libpod_stats_test_support::workspace_root().join("fixtures");
    let mut out = Vec::new();
    for family in ["libpod-state", "cgroupv1", "cgroupv2"] {
        let Ok(entries) = std::fs::read_dir(base.join(family)) else {
            continue;
        };
        let mut dirs: Vec<PathBuf> = entries
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.is_dir())
            // cgroupv2's other fixtures hold cgroups without podman: nothing to discover
            .filter(|p| {
                family != "cgroupv2"
                    || p.file_name()
                        .is_some_and(|n| n.to_string_lossy().starts_with("podman-"))
            })
            .collect();
        dirs.sort();
        for dir in dirs {
            let name = format!("{family}__{}", dir.file_name().unwrap().to_string_lossy());
            if dir.join("snapshot.json").is_file() {
                out.push((name, dir));
            } else if let Ok(steps) = series_steps(&dir) {
                for step in steps {
                    let step_name = step.file_name().unwrap().to_string_lossy().into_owned();
                    out.push((format!("{name}__{step_name}"), step));
                }
            }
        }
    }
    out
}

#[derive(Serialize)]
struct DiscoveryView {
    containers: Vec<Container>,
    errors: Vec<String>,
    stores: Vec<StoreReport>,
}

fn redact(text: &str, dir: &Path) -> String {
    let canon = dir.canonicalize().unwrap_or_else(|_| dir.to_path_buf());
    text.replace(&canon.to_string_lossy().into_owned(), "<root>")
        .replace(&dir.to_string_lossy().into_owned(), "<root>")
}

#[test]
fn discover_golden() {
    for (name, dir) in fixture_snapshots() {
        let root = HostRoot::new(&dir).unwrap();
        let report = discover(&root, &DiscoveryOptions::default());
        let view = DiscoveryView {
            containers: report.containers,
            errors: report
                .errors
                .iter()
                .map(|e| redact(&e.to_string(), &dir))
                .collect(),
            stores: report.stores,
        };
        insta::assert_yaml_snapshot!(format!("discover__{name}"), view);
    }
}

#[derive(Serialize)]
struct PsView {
    exit_code: Option<i32>,
    stdout: serde_json::Value,
    stderr: Vec<String>,
}

fn ps_json(dir: &Path, extra: &[&str]) -> PsView {
    let out = Command::new(env!("CARGO_BIN_EXE_libpod-stats"))
        .arg("--root")
        .arg(dir)
        .args(["ps", "--all", "--format", "json"])
        .args(extra)
        .output()
        .unwrap();
    let stdout = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "{}: ps printed no JSON ({e}): {}",
            dir.display(),
            String::from_utf8_lossy(&out.stdout)
        )
    });
    PsView {
        exit_code: out.status.code(),
        stdout,
        stderr: String::from_utf8_lossy(&out.stderr)
            .lines()
            .map(|l| redact(l, dir))
            .collect(),
    }
}

#[test]
fn ps_all_json_golden() {
    for (name, dir) in fixture_snapshots() {
        insta::assert_json_snapshot!(format!("ps_all__{name}"), ps_json(&dir, &[]));
    }
}

/// One container as podman's `ps --all --format json` shows it.
#[derive(Debug, serde::Deserialize)]
#[serde(rename_all = "PascalCase")]
struct PodmanPs {
    id: String,
    names: Vec<String>,
    state: String,
    pod: String,
    pid: i64,
}

#[derive(Debug, serde::Deserialize)]
#[serde(rename_all = "PascalCase")]
struct PodmanInspect {
    id: String,
    state: PodmanInspectState,
}

#[derive(Debug, serde::Deserialize)]
struct PodmanInspectState {
    #[serde(rename = "CgroupPath", default)]
    cgroup_path: String,
}

#[test]
fn fixtures_match_podmans_own_view() {
    let mut checked = 0;
    for (name, dir) in fixture_snapshots() {
        let Ok(text) = std::fs::read(dir.join("expected/ps.json")) else {
            continue;
        };
        let podman: Vec<PodmanPs> = serde_json::from_slice(&text).unwrap();
        let cgroups: BTreeMap<String, String> = std::fs::read(dir.join("expected/inspect.json"))
            .ok()
            .map(|t| serde_json::from_slice::<Vec<PodmanInspect>>(&t).unwrap())
            .unwrap_or_default()
            .into_iter()
            .map(|i| (i.id, i.state.cgroup_path))
            .collect();
        let root = HostRoot::new(&dir).unwrap();
        let ours: BTreeMap<String, Container> = discover(&root, &DiscoveryOptions::default())
            .containers
            .into_iter()
            .map(|c| (c.id.to_string(), c))
            .collect();
        let podman_ids: Vec<&str> = podman.iter().map(|p| p.id.as_str()).collect();
        let our_ids: Vec<&str> = ours.keys().map(String::as_str).collect();
        let mut sorted = podman_ids.clone();
        sorted.sort();
        assert_eq!(
            our_ids, sorted,
            "{name}: container ids differ from podman ps"
        );
        for p in &podman {
            let c = &ours[&p.id];
            assert_eq!(Some(&c.name), p.names.first(), "{name}: name of {}", p.id);
            let running = p.state == "running" || p.state == "paused";
            if c.source == Source::Storage {
                // No database: only whether it runs can be known.
                let want = if running {
                    ContainerState::Running
                } else {
                    ContainerState::Unknown
                };
                assert_eq!(c.state, want, "{name}: state of {}", c.name);
                continue;
            }
            assert_eq!(c.state.as_str(), p.state, "{name}: state of {}", c.name);
            assert_eq!(
                c.pid.map_or(0, i64::from),
                p.pid,
                "{name}: pid of {}",
                c.name
            );
            // podman prints the pod id in full or cut to 12 characters
            match &c.pod_id {
                None => assert_eq!(p.pod, "", "{name}: pod of {}", c.name),
                Some(pod) => assert!(
                    !p.pod.is_empty() && pod.starts_with(&p.pod),
                    "{name}: pod of {}: {pod} vs {}",
                    c.name,
                    p.pod
                ),
            }
            if running {
                if let Some(cg) = cgroups.get(&p.id) {
                    assert_eq!(
                        c.cgroup.as_deref(),
                        Some(cg.as_str()),
                        "{name}: cgroup of {}",
                        c.name
                    );
                }
            }
        }
        checked += 1;
    }
    eprintln!("checked {checked} fixtures against podman's own view");
}

/// The real podman state after a "reboot": the database still says running and paused,
/// but the pids are gone or belong to other processes now. Nothing may be listed as
/// running; those containers are `exited` with no pid and no cgroup.
#[test]
fn real_state_after_a_reboot_is_not_running() {
    let base = libpod_stats_test_support::fixture("libpod-state");
    for fixture in ["podman-bolt", "sqlite-podman-bolt"] {
        let source = base.join(fixture);
        if !source.exists() {
            continue;
        }
        let before = discover(
            &HostRoot::new(&source).unwrap(),
            &DiscoveryOptions::default(),
        );
        let was_running: Vec<&Container> = before
            .containers
            .iter()
            .filter(|c| c.state.has_cgroup())
            .collect();
        assert!(!was_running.is_empty(), "{fixture} has running containers");

        let dir = tempfile::tempdir().unwrap();
        copy_tree(&source, dir.path());
        std::fs::remove_dir_all(dir.path().join("proc")).unwrap();
        // One reused pid (now a shell in a session), the others gone; pid 1 is systemd.
        let reused = was_running[0].pid.unwrap();
        for (pid, cgroup) in [(1, "/init.scope"), (reused, "/user.slice/session-2.scope")] {
            let p = dir.path().join(format!("proc/{pid}"));
            std::fs::create_dir_all(&p).unwrap();
            std::fs::write(p.join("cgroup"), format!("0::{cgroup}\n")).unwrap();
        }
        let after = discover(
            &HostRoot::new(dir.path()).unwrap(),
            &DiscoveryOptions::default(),
        );
        assert!(after.errors.is_empty(), "{fixture}: {:?}", after.errors);
        assert_eq!(after.containers.len(), before.containers.len());
        for c in &after.containers {
            let old = before.containers.iter().find(|o| o.id == c.id).unwrap();
            if old.state.has_cgroup() {
                assert_eq!(c.state, ContainerState::Exited, "{fixture}: {}", c.name);
                assert_eq!((c.pid, c.conmon_pid, &c.cgroup), (None, None, &None));
            } else {
                assert_eq!(c, old, "{fixture}: {} must not change", c.name);
            }
        }
    }
}

/// The table a person reads, for the fixture with every state and a pod.
#[test]
fn ps_table_golden() {
    let dir = libpod_stats_test_support::fixture("libpod-state/podman-bolt");
    if !dir.exists() {
        return;
    }
    let out = Command::new(env!("CARGO_BIN_EXE_libpod-stats"))
        .arg("--root")
        .arg(&dir)
        .args(["ps", "--all"])
        .output()
        .unwrap();
    assert!(out.status.success());
    insta::assert_snapshot!(String::from_utf8(out.stdout).unwrap());
}
