//! What podman and containers/storage record about a container, with their key names:
//! ContainerConfig/ContainerState/PodConfig/PodState JSON, `containers.json` entries, the
//! bundle's `config.json`.

use serde_json::{json, Value};

use super::spec::{ContainerSpec, PodSpec, StoreSpec};
use libpod_stats::{CgroupManager, ContainerState};

/// Where a container lives and runs, resolved from its spec and its store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Placement {
    /// The pod's id, when in a pod.
    pub pod_id: Option<String>,
    /// The cgroup parent podman records.
    pub cgroup_parent: String,
    /// The container's cgroup (relative to a controller root), when it gets one.
    pub cgroup: Option<String>,
    /// `linux.cgroupsPath` of the OCI spec.
    pub cgroups_path: String,
    /// The pid, when it runs.
    pub pid: Option<u32>,
    /// Started time, ns since the epoch, when it was started.
    pub started_ns: Option<u64>,
    /// Created time, ns since the epoch.
    pub created_ns: u64,
}

/// RFC 3339 with nanoseconds in UTC, as Go's time.Time marshals; Go's zero time for `None`.
pub fn go_time(ns: Option<u64>) -> String {
    let Some(ns) = ns else {
        return "0001-01-01T00:00:00Z".to_string();
    };
    time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(ns))
        .ok()
        .and_then(|t| {
            t.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .unwrap_or_else(|| "0001-01-01T00:00:00Z".to_string())
}

/// The systemd path of a slice name: `machine-libpod_pod_x.slice` ->
/// `/machine.slice/machine-libpod_pod_x.slice`.
pub fn slice_path(slice: &str) -> String {
    if slice.contains('/') || !slice.ends_with(".slice") {
        return format!("/{}", slice.trim_start_matches('/'));
    }
    let stem = slice.trim_end_matches(".slice");
    let mut path = String::new();
    let mut prefix = String::new();
    for part in stem.split('-') {
        if !prefix.is_empty() {
            prefix.push('-');
        }
        prefix.push_str(part);
        path.push('/');
        path.push_str(&prefix);
        path.push_str(".slice");
    }
    path
}

/// The pod's cgroup parent and cgroup path under `manager`.
pub fn pod_cgroup(pod: &PodSpec, manager: CgroupManager) -> (String, String) {
    match manager {
        CgroupManager::Cgroupfs => {
            let parent = pod
                .cgroup_parent
                .clone()
                .unwrap_or_else(|| "/libpod_parent".into());
            let path = format!("{}/{}", parent.trim_end_matches('/'), pod.id);
            (parent, path)
        }
        CgroupManager::Systemd => {
            let parent = pod
                .cgroup_parent
                .clone()
                .unwrap_or_else(|| "machine.slice".into());
            let stem = parent.trim_end_matches(".slice");
            let path = format!("{parent}/{stem}-libpod_pod_{}.slice", pod.id);
            (parent, path)
        }
    }
}

/// Resolves where `c` lives. `pid` is the one assigned when the spec has none.
pub fn place(
    store: &StoreSpec,
    c: &ContainerSpec,
    pod: Option<&PodSpec>,
    pid: Option<u32>,
    taken_at_ns: u64,
) -> Placement {
    let uid = store.rootless_user.as_ref().map(|(_, uid)| *uid);
    let parent = match (&c.cgroup_parent, pod, c.cgroup_manager) {
        (Some(p), _, _) => p.clone(),
        (None, Some(pod), manager) => pod_cgroup(pod, manager).1,
        (None, None, CgroupManager::Cgroupfs) if uid.is_some() => String::new(),
        (None, None, CgroupManager::Cgroupfs) => "/libpod_parent".into(),
        (None, None, CgroupManager::Systemd) if uid.is_some() => "user.slice".into(),
        (None, None, CgroupManager::Systemd) => "machine.slice".into(),
    };
    let (cgroup, cgroups_path) = match c.cgroup_manager {
        CgroupManager::Cgroupfs if parent.is_empty() => (None, String::new()),
        CgroupManager::Cgroupfs => {
            let path = format!("{}/libpod-{}", parent.trim_end_matches('/'), c.id);
            (Some(path.clone()), path)
        }
        CgroupManager::Systemd => {
            let slice = parent.rsplit('/').next().unwrap_or(&parent).to_string();
            let base = match uid {
                Some(uid) => format!(
                    "/user.slice/user-{uid}.slice/user@{uid}.service{}",
                    slice_path(&parent)
                ),
                None => slice_path(&parent),
            };
            (
                Some(format!("{base}/libpod-{}.scope", c.id)),
                format!("{slice}:libpod:{}", c.id),
            )
        }
    };
    let started = match c.state {
        ContainerState::Created | ContainerState::Initialized | ContainerState::Unknown => None,
        _ => Some(
            c.started_ns
                .unwrap_or(taken_at_ns.saturating_sub(60_000_000_000)),
        ),
    };
    Placement {
        pod_id: pod.map(|p| p.id.clone()),
        cgroup_parent: parent,
        cgroup: if c.has_cgroup() { cgroup } else { None },
        cgroups_path,
        pid: if c.has_cgroup() { c.pid.or(pid) } else { None },
        started_ns: started,
        created_ns: started
            .unwrap_or(taken_at_ns)
            .saturating_sub(60_000_000_000),
    }
}

fn userdata(store: &StoreSpec, root: &std::path::Path, id: &str) -> String {
    format!(
        "{}/{}-containers/{id}/userdata",
        root.display(),
        store.driver
    )
}

/// The image id podman would record for an image name (stable, 64 hex).
pub fn image_id(image: &str) -> String {
    super::spec::id_from_name(&format!("image/{image}"))
}

fn manager_name(m: CgroupManager) -> &'static str {
    match m {
        CgroupManager::Cgroupfs => "cgroupfs",
        CgroupManager::Systemd => "systemd",
    }
}

/// The bundle's OCI `config.json` (what the runtime was given).
pub fn oci_spec(c: &ContainerSpec, p: &Placement) -> Value {
    json!({
        "ociVersion": "1.0.2-dev",
        "process": {"args": ["sleep", "1000"], "cwd": "/"},
        "root": {"path": "rootfs"},
        "hostname": &c.id[..12.min(c.id.len())],
        "linux": {"cgroupsPath": p.cgroups_path, "namespaces": [{"type": "pid"}, {"type": "mount"}]},
    })
}

/// ContainerConfig JSON with podman's (flattened) keys.
pub fn config_json(store: &StoreSpec, c: &ContainerSpec, p: &Placement) -> Value {
    let mut v = json!({
        "spec": oci_spec(c, p),
        "id": c.id,
        "name": c.name,
        "rootfsImageID": image_id(&c.image),
        "rootfsImageName": c.image,
        "RawImageName": c.image,
        "labels": {},
        "createdTime": go_time(Some(p.created_ns)),
        "cgroupManager": manager_name(c.cgroup_manager),
        "cgroupParent": p.cgroup_parent,
        "cgroupsMode": "enabled",
        "staticDir": userdata(store, &store.graph_root, &c.id),
        "conmonPidFile": format!("{}/conmon.pid", userdata(store, &store.run_root, &c.id)),
        "networkMode": "none",
        "stopTimeout": 0,
        "createCommand": ["podman", "run", "-d", "--name", c.name, c.image, "sleep", "1000"],
    });
    if let Some(pod) = &p.pod_id {
        v["pod"] = json!(pod);
    }
    if c.infra {
        v["pause"] = json!(true);
    }
    v
}

/// ContainerState JSON: `state` is podman's integer; `pid` is omitted when there is none.
pub fn state_json(store: &StoreSpec, c: &ContainerSpec, p: &Placement) -> Value {
    let finished = matches!(c.state, ContainerState::Exited | ContainerState::Stopped);
    let mut v = json!({
        "state": c.state.podman_number(),
        "runDir": userdata(store, &store.run_root, &c.id),
        "startedTime": go_time(p.started_ns),
        "finishedTime": go_time(if finished { p.started_ns.map(|s| s + 10_000_000_000) } else { None }),
        "exitCode": 0,
        "exited": finished,
        "oomKilled": false,
        "checkpointed": false,
        "restartCount": 0,
    });
    if let Some(pid) = p.pid {
        v["pid"] = json!(pid);
        v["conmonPid"] = json!(pid.saturating_sub(1));
    }
    v
}

/// PodConfig JSON.
pub fn pod_config_json(pod: &PodSpec, parent: &str, created_ns: u64) -> Value {
    json!({
        "id": pod.id,
        "name": pod.name,
        "namespace": "",
        "labels": {},
        "cgroupParent": parent,
        "sharesCgroup": true,
        "created": go_time(Some(created_ns)),
    })
}

/// Pod state JSON.
pub fn pod_state_json(cgroup_path: &str, infra_id: Option<&str>) -> Value {
    json!({
        "cgroupPath": cgroup_path,
        "InfraContainerID": infra_id.unwrap_or(""),
    })
}

/// One `containers.json` entry as containers/storage writes it for podman.
pub fn storage_entry(c: &ContainerSpec, p: &Placement) -> Value {
    let metadata = json!({
        "image-name": c.image,
        "image-id": image_id(&c.image),
        "name": c.name,
        "created-at": p.created_ns / 1_000_000_000,
    });
    json!({
        "id": c.id,
        "names": [c.name],
        "image": image_id(&c.image),
        "layer": super::spec::id_from_name(&format!("layer/{}", c.id)),
        "metadata": metadata.to_string(),
        "created": go_time(Some(p.created_ns)),
        "flags": {"MountLabel": "", "ProcessLabel": ""},
    })
}

/// FNV-1a (64 bit) of `bytes`: stable made-up ids and namespace numbers from names.
pub(crate) fn fnv1a64(bytes: &[u8]) -> u64 {
    const OFFSET_BASIS: u64 = 0xcbf2_9ce4_8422_2325;
    const PRIME: u64 = 0x0000_0100_0000_01b3;
    bytes.iter().fold(OFFSET_BASIS, |hash, &b| {
        (hash ^ u64::from(b)).wrapping_mul(PRIME)
    })
}
