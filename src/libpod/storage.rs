//! containers/storage's own records: the fallback when a store has no libpod database.
//!
//! `<graphroot>/<driver>-containers/containers.json` (and `volatile-containers.json`, which
//! holds `--rm` containers) list every container in the store with no state at all. Podman's
//! containers are told apart by the metadata podman writes (`name`, `created-at`, no CRI-O
//! pod keys); Buildah's and CRI-O's are *external*, listed only when asked for, as
//! `podman ps --external` does. Whether a container runs comes from its pidfile in the run
//! root and the cgroup of that pid (or the bundle's `linux.cgroupsPath` without a /proc).

use std::path::{Path, PathBuf};

use serde::Deserialize;

use super::cgroup_path::{self, PidCgroup};
use super::interpret::unix_ns;
use super::model::{Container, ContainerId, ContainerState, Source};
use super::stores::Store;
use crate::cgroup::CgroupPath;
use crate::host::{HostError, HostRoot};

/// The two container lists of a `<driver>-containers` directory.
pub const CONTAINER_LISTS: [&str; 2] = ["containers.json", "volatile-containers.json"];

/// A containers/storage file could not be used.
#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    /// The file could not be read.
    #[error(transparent)]
    Read(#[from] HostError),
    /// The file is not the JSON containers/storage writes.
    #[error("{path}: not a containers/storage container list: {reason}")]
    Invalid {
        /// The host path of the file.
        path: PathBuf,
        /// The JSON parser's message.
        reason: String,
    },
}

/// One entry of `containers.json` as stored.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct StorageEntry {
    /// `id`.
    pub id: String,
    /// `names`.
    pub names: Vec<String>,
    /// `image`: the image id.
    pub image: Option<String>,
    /// `metadata`: a string holding the owner's JSON.
    pub metadata: Option<String>,
    /// `created`, RFC 3339.
    pub created: Option<String>,
}

/// The metadata podman writes into a storage container (`RuntimeContainerMetadata`).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct PodmanMetadata {
    /// `image-name`.
    #[serde(rename = "image-name")]
    pub image_name: Option<String>,
    /// `name`.
    pub name: Option<String>,
    /// `created-at`, Unix seconds.
    #[serde(rename = "created-at")]
    pub created_at: Option<i64>,
    /// `pod-name`: CRI-O's key; podman never writes it.
    #[serde(rename = "pod-name")]
    pub pod_name: Option<String>,
    /// `pod-id`: CRI-O's key; podman never writes it.
    #[serde(rename = "pod-id")]
    pub pod_id: Option<String>,
}

impl StorageEntry {
    /// The metadata when it is podman's: it has `name` and `created-at` and none of
    /// CRI-O's pod keys.
    pub fn podman_metadata(&self) -> Option<PodmanMetadata> {
        let meta: PodmanMetadata = serde_json::from_str(self.metadata.as_deref()?).ok()?;
        (meta.name.is_some()
            && meta.created_at.is_some()
            && meta.pod_name.is_none()
            && meta.pod_id.is_none())
        .then_some(meta)
    }
}

/// Reads one container list; a missing file is an empty list.
pub fn read_container_list(
    root: &HostRoot,
    path: &Path,
) -> Result<Vec<StorageEntry>, StorageError> {
    let bytes = match root.read(path) {
        Ok(b) => b,
        Err(e) if e.is_not_found() => return Ok(Vec::new()),
        Err(e) => return Err(e.into()),
    };
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Ok(Vec::new());
    }
    serde_json::from_slice(&bytes).map_err(|e| StorageError::Invalid {
        path: path.to_path_buf(),
        reason: e.to_string(),
    })
}

/// Every storage container of a store (both lists of every `<driver>-containers`
/// directory; with `transient_store` the volatile list lives in the run root), paired
/// with the directory it was found in.
pub fn read_store_entries(
    root: &HostRoot,
    store: &Store,
) -> (Vec<(PathBuf, StorageEntry)>, Vec<StorageError>) {
    let mut out = Vec::new();
    let mut errors = Vec::new();
    for dir in store.containers_dirs(root) {
        let mut lists = vec![dir.join(CONTAINER_LISTS[0])];
        match (&store.run_root, store.transient, dir.file_name()) {
            (Some(run), true, Some(name)) => lists.push(run.join(name).join(CONTAINER_LISTS[1])),
            _ => lists.push(dir.join(CONTAINER_LISTS[1])),
        }
        for list in lists {
            match read_container_list(root, &list) {
                Ok(entries) => out.extend(entries.into_iter().map(|e| (dir.clone(), e))),
                Err(e) => errors.push(e),
            }
        }
    }
    (out, errors)
}

/// The list files whose changes change what [`read_store_entries`] returns.
pub fn list_files(root: &HostRoot, store: &Store) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for dir in store.containers_dirs(root) {
        out.push(dir.join(CONTAINER_LISTS[0]));
        match (&store.run_root, store.transient, dir.file_name()) {
            (Some(run), true, Some(name)) => out.push(run.join(name).join(CONTAINER_LISTS[1])),
            _ => out.push(dir.join(CONTAINER_LISTS[1])),
        }
    }
    out
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct OciSpec {
    linux: Option<OciLinux>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct OciLinux {
    #[serde(rename = "cgroupsPath")]
    cgroups_path: Option<String>,
}

/// A storage container as a [`Container`] of source `storage`: `running` when the pid in
/// its pidfile lives in its own cgroup (or, without a captured /proc, when the bundle's
/// cgroup exists), `unknown` otherwise. `None` for an entry with an invalid id.
pub fn storage_container(
    root: &HostRoot,
    store: &Store,
    containers_dir: &Path,
    entry: &StorageEntry,
    proc_captured: bool,
) -> Option<Container> {
    let id = ContainerId::new(entry.id.as_str()).ok()?;
    let meta = entry.podman_metadata();
    let name = meta
        .as_ref()
        .and_then(|m| m.name.clone())
        .or_else(|| entry.names.first().cloned())
        .filter(|n| !n.is_empty())
        .unwrap_or_else(|| entry.id.clone());
    let created_at_ns = meta
        .as_ref()
        .and_then(|m| m.created_at)
        .and_then(|s| u64::try_from(s).ok())
        .and_then(|s| s.checked_mul(1_000_000_000))
        .filter(|n| *n > 0)
        .or_else(|| entry.created.as_deref().and_then(unix_ns));
    let mut c = Container {
        id,
        name,
        pod_id: None,
        pod_name: None,
        image: meta.as_ref().and_then(|m| m.image_name.clone()),
        state: ContainerState::Unknown,
        pid: None,
        conmon_pid: None,
        cgroup: None,
        created_at_ns,
        started_at_ns: None,
        source: Source::Storage,
        uid: store.uid,
        graph_root: Some(store.graph_root.clone()),
        is_infra: false,
        netns: None,
        cgroup_manager: None,
        cgroup_parent: None,
        labels: Default::default(),
        systemd_unit: None,
        exit_code: None,
        restart_count: None,
        health_log: None,
        health: None,
        health_code: None,
        health_failing_streak: None,
    };
    let pid = run_dir(store, containers_dir, &c.id).and_then(|d| read_pid(root, &d));
    if proc_captured {
        match pid {
            Some(pid) => {
                if let PidCgroup::Container(cgroup) = cgroup_path::pid_cgroup(root, pid, &c.id) {
                    c.state = ContainerState::Running;
                    c.pid = Some(pid);
                    c.cgroup = Some(cgroup);
                }
            }
            // No pidfile (the run root of a store named explicitly is not known): the
            // cgroup the bundle asked for, when processes live in it.
            None => {
                if let Some(cgroup) =
                    bundle_cgroup(root, containers_dir, &c.id, store.rootless_uid())
                        .filter(|p| cgroup_has_processes(root, p))
                {
                    c.state = ContainerState::Running;
                    c.cgroup = Some(cgroup);
                }
            }
        }
    } else if let Some(cgroup) = bundle_cgroup(root, containers_dir, &c.id, store.rootless_uid())
        .filter(|p| cgroup_path::cgroup_exists(root, p))
    {
        c.state = ContainerState::Running;
        c.pid = pid;
        c.cgroup = Some(cgroup);
    }
    Some(c)
}

/// True when some hierarchy's `cgroup.procs` of `cgroup` lists a process.
fn cgroup_has_processes(root: &HostRoot, cgroup: &CgroupPath) -> bool {
    ["memory/", "pids/", "cpuacct/", "unified/", ""]
        .iter()
        .any(|h| {
            root.read(format!(
                "/sys/fs/cgroup/{h}{}/cgroup.procs",
                cgroup.relative().display()
            ))
            .is_ok_and(|procs| procs.iter().any(u8::is_ascii_digit))
        })
}

/// `<runroot>/<driver>-containers/<id>/userdata`, when the run root is known.
fn run_dir(store: &Store, containers_dir: &Path, id: &str) -> Option<PathBuf> {
    let run = store.run_root.as_ref()?;
    Some(
        run.join(containers_dir.file_name()?)
            .join(id)
            .join("userdata"),
    )
}

fn read_pid(root: &HostRoot, run_dir: &Path) -> Option<u32> {
    let text = root.read_to_string(run_dir.join("pidfile")).ok()?;
    text.trim().parse::<u32>().ok().filter(|p| *p > 0)
}

/// The cgroup the OCI bundle asked for (`linux.cgroupsPath` of `userdata/config.json`).
fn bundle_cgroup(
    root: &HostRoot,
    containers_dir: &Path,
    id: &ContainerId,
    rootless_uid: Option<u32>,
) -> Option<CgroupPath> {
    let bytes = root
        .read(containers_dir.join(id).join("userdata/config.json"))
        .ok()?;
    let spec: OciSpec = serde_json::from_slice(&bytes).ok()?;
    let path = spec.linux?.cgroups_path?;
    let cgroup = cgroup_path::oci_cgroups_path(&path, rootless_uid)?;
    // The bundle must be this container's: its cgroup names it.
    cgroup_path::cut_after_container(&cgroup, id).filter(|c| *c == cgroup)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::libpod::stores::StoreKind;

    const ID: &str = "37fb6904b64d4d14e59f3ba577a0344e655eaf6da198033ae8fa686ccc0f4220";
    const ID2: &str = "1e774b1a66ce8a0c9d93f2e67b69171c5a59cfb4b21b8c23cd672bff4c86f049";

    fn store() -> Store {
        Store {
            kind: StoreKind::Root,
            graph_root: PathBuf::from("/var/lib/containers/storage"),
            run_root: Some(PathBuf::from("/run/containers/storage")),
            driver: Some("overlay".into()),
            transient: false,
            static_dir: None,
            tmp_dir: None,
            db_backend: Default::default(),
            podman5: None,
            uid: Some(0),
        }
    }

    fn write(dir: &Path, path: &str, text: &str) {
        let p = dir.join(path);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    }

    fn list_json() -> String {
        format!(
            r#"[{{"id":"{ID}","names":["web"],"image":"2d92","layer":"95",
            "metadata":"{{\"image-name\":\"localhost/bb:latest\",\"image-id\":\"2d92\",\"name\":\"web\",\"created-at\":1795573923}}",
            "created":"2026-11-25T02:32:03.108058803Z","flags":{{"MountLabel":""}}}},
            {{"id":"{ID2}","names":["buildah-working-container"],"image":"2d92","metadata":""}},
            {{"id":"../evil","names":["x"]}}]"#
        )
    }

    /// A host dir whose store lists the containers of [`list_json`].
    fn with_list() -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        write(
            dir.path(),
            "var/lib/containers/storage/overlay-containers/containers.json",
            &list_json(),
        );
        dir
    }

    /// The bundle `config.json` of [`ID`], naming its cgroup.
    fn write_bundle_cgroup(d: &Path) {
        write(
            d,
            &format!("var/lib/containers/storage/overlay-containers/{ID}/userdata/config.json"),
            &format!(
                r#"{{"ociVersion":"1.0.2","linux":{{"cgroupsPath":"/libpod_parent/libpod-{ID}"}}}}"#
            ),
        );
    }

    #[test]
    fn reads_lists_and_tells_podman_from_others() {
        let dir = with_list();
        let d = dir.path();
        let root = HostRoot::new(d).unwrap();
        let (entries, errors) = read_store_entries(&root, &store());
        assert!(errors.is_empty(), "{errors:?}");
        assert_eq!(entries.len(), 3);
        assert!(entries[0].1.podman_metadata().is_some());
        assert!(entries[1].1.podman_metadata().is_none());
        let (dir0, e0) = &entries[0];
        let c = storage_container(&root, &store(), dir0, e0, false).unwrap();
        assert_eq!(c.name, "web");
        assert_eq!(c.image.as_deref(), Some("localhost/bb:latest"));
        assert_eq!(c.state, ContainerState::Unknown);
        assert_eq!(c.created_at_ns, Some(1_795_573_923_000_000_000));
        assert!(storage_container(&root, &store(), dir0, &entries[2].1, false).is_none());
    }

    #[test]
    fn running_when_the_pid_lives_in_its_cgroup() {
        let dir = with_list();
        let d = dir.path();
        write(
            d,
            &format!("run/containers/storage/overlay-containers/{ID}/userdata/pidfile"),
            "4242",
        );
        write(
            d,
            "proc/4242/cgroup",
            &format!("4:memory:/libpod_parent/libpod-{ID}\n"),
        );
        let root = HostRoot::new(d).unwrap();
        let (entries, _) = read_store_entries(&root, &store());
        let (dir0, e0) = &entries[0];
        let c = storage_container(&root, &store(), dir0, e0, true).unwrap();
        assert_eq!(c.state, ContainerState::Running);
        assert_eq!(c.pid, Some(4242));
        assert_eq!(
            c.cgroup.as_deref(),
            Some(&*format!("/libpod_parent/libpod-{ID}"))
        );
        write(d, "proc/4242/cgroup", "4:memory:/other\n");
        let c = storage_container(&root, &store(), dir0, e0, true).unwrap();
        assert_eq!((c.state, c.pid), (ContainerState::Unknown, None));
    }

    #[test]
    fn without_proc_the_bundle_cgroup_decides() {
        let dir = with_list();
        let d = dir.path();
        write_bundle_cgroup(d);
        let root = HostRoot::new(d).unwrap();
        let (entries, _) = read_store_entries(&root, &store());
        let (dir0, e0) = &entries[0];
        let c = storage_container(&root, &store(), dir0, e0, false).unwrap();
        assert_eq!(c.state, ContainerState::Unknown);
        std::fs::create_dir_all(d.join(format!("sys/fs/cgroup/memory/libpod_parent/libpod-{ID}")))
            .unwrap();
        let c = storage_container(&root, &store(), dir0, e0, false).unwrap();
        assert_eq!(c.state, ContainerState::Running);
        assert_eq!(
            c.cgroup.as_deref(),
            Some(&*format!("/libpod_parent/libpod-{ID}"))
        );
    }

    #[test]
    fn without_a_pidfile_the_bundle_cgroup_with_processes_decides() {
        let dir = with_list();
        let d = dir.path();
        write_bundle_cgroup(d);
        write(d, "proc/1/cgroup", "0::/init.scope\n");
        let procs = format!("sys/fs/cgroup/memory/libpod_parent/libpod-{ID}/cgroup.procs");
        write(d, &procs, "");
        let root = HostRoot::new(d).unwrap();
        let explicit = Store {
            run_root: None,
            ..store()
        };
        let (entries, _) = read_store_entries(&root, &explicit);
        let (dir0, e0) = &entries[0];
        let c = storage_container(&root, &explicit, dir0, e0, true).unwrap();
        assert_eq!(c.state, ContainerState::Unknown);
        write(d, &procs, "4242\n");
        let c = storage_container(&root, &explicit, dir0, e0, true).unwrap();
        assert_eq!((c.state, c.pid), (ContainerState::Running, None));
        assert_eq!(
            c.cgroup.as_deref(),
            Some(&*format!("/libpod_parent/libpod-{ID}"))
        );
    }

    #[test]
    fn a_bad_list_is_an_error_naming_it() {
        let dir = tempfile::tempdir().unwrap();
        write(
            dir.path(),
            "var/lib/containers/storage/overlay-containers/containers.json",
            "{oops",
        );
        let root = HostRoot::new(dir.path()).unwrap();
        let (_, errors) = read_store_entries(&root, &store());
        assert_eq!(errors.len(), 1);
        assert!(errors[0]
            .to_string()
            .contains("overlay-containers/containers.json"));
    }
}
