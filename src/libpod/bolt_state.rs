//! Podman's layout inside `bolt_state.db`, read into a [`RawState`] and written back.
//!
//! Reading follows podman: the containers are the keys of `all-ctrs`, each with its bucket
//! `ctr/<id>` holding `config`, `state` and (in a pod) `pod-id`; the pods are the keys of
//! `allPods`, each with `pod/<id>/{config,state}`; the runtime's paths are in
//! `runtime-config`. Nothing is interpreted here: the JSON goes on as bytes.
//!
//! Writing builds the whole layout podman 4.x/5.x expects to find (registries, the
//! always-present `dependencies` sub-bucket, pod member lists, and the empty volume, exec
//! and exit-code buckets), so that podman itself can open and keep using the file.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use super::bolt::writer::{BoltTree, Node, WriteError, Writer};
use super::bolt::{BoltDb, Bucket};
use super::raw::{RawContainer, RawPod, RawState, RuntimeConfig};
use super::state_error::StateError;
use crate::host::HostRoot;

/// Top-level bucket: container id -> name (containers only).
pub const ALL_CTRS: &[u8] = b"all-ctrs";
/// Top-level bucket: one sub-bucket per container.
pub const CTR: &[u8] = b"ctr";
/// Top-level bucket: pod id -> name.
pub const ALL_PODS: &[u8] = b"allPods";
/// Top-level bucket: one sub-bucket per pod.
pub const POD: &[u8] = b"pod";
/// Top-level bucket: id -> name for containers and pods.
pub const ID_REGISTRY: &[u8] = b"id-registry";
/// Top-level bucket: name -> id for containers and pods.
pub const NAME_REGISTRY: &[u8] = b"name-registry";
/// Top-level bucket: the runtime's recorded paths.
pub const RUNTIME_CONFIG: &[u8] = b"runtime-config";

/// Top-level buckets podman creates when it initializes a database and that this crate
/// writes empty: volumes, exec sessions, exit codes, and 4.x's namespace registry.
pub const EMPTY_BUCKETS: &[&[u8]] = &[
    b"vol",
    b"allVolumes",
    b"volume-ctrs",
    b"exec",
    b"exit-code",
    b"exit-code-time-stamp",
    b"ns-registry",
];

/// Reads the BoltDB at `host_path` (under `root`) as podman's state.
pub fn read_bolt_state(root: &HostRoot, host_path: &Path) -> Result<RawState, StateError> {
    let db = BoltDb::read(root, host_path)?;
    state_from_db(&db)
}

/// Podman's state from an already read BoltDB.
pub fn state_from_db(db: &BoltDb) -> Result<RawState, StateError> {
    let path = db.path().to_path_buf();
    let top = db.root();
    let invalid = |reason: String| StateError::Invalid {
        path: path.clone(),
        reason,
    };
    let required = |name: &[u8]| -> Result<Bucket<'_>, StateError> {
        top.bucket(name)?.ok_or_else(|| {
            invalid(format!(
                "no `{}` bucket: not a podman state database",
                String::from_utf8_lossy(name)
            ))
        })
    };

    let mut containers = Vec::new();
    for r in records(&required(ALL_CTRS)?, &required(CTR)?, "container", &path)? {
        containers.push(RawContainer {
            config_json: r.config.to_vec(),
            state_json: r.state.to_vec(),
            pod_id: r
                .bucket
                .get(b"pod-id")?
                .map(|v| text(v, &format!("{}/pod-id", r.bucket.name()), &path))
                .transpose()?,
            id: r.id,
            name: r.name,
        });
    }
    let mut pods = Vec::new();
    for r in records(&required(ALL_PODS)?, &required(POD)?, "pod", &path)? {
        pods.push(RawPod {
            config_json: r.config.to_vec(),
            state_json: r.state.to_vec(),
            id: r.id,
            name: r.name,
        });
    }

    let runtime = match top.bucket(RUNTIME_CONFIG)? {
        Some(rc) => {
            let get = |key: &str| -> Result<Option<String>, StateError> {
                match rc.get(key.as_bytes())? {
                    Some(v) => Ok(Some(text(v, &format!("runtime-config/{key}"), &path)?)
                        .filter(|s| !s.is_empty())),
                    None => Ok(None),
                }
            };
            RuntimeConfig {
                graph_root: get("graph-root")?.map(PathBuf::from),
                run_root: get("run-root")?.map(PathBuf::from),
                static_dir: get("static-dir")?.map(PathBuf::from),
                tmp_dir: get("tmp-dir")?.map(PathBuf::from),
                graph_driver: get("graph-driver-name")?,
            }
        }
        None => RuntimeConfig::default(),
    };

    Ok(RawState {
        containers,
        pods,
        runtime,
    })
}

/// The `id -> name` values of a list bucket (`all-ctrs`, `allPods`), in key order.
fn listed(bucket: &Bucket<'_>, path: &Path) -> Result<Vec<(String, Option<String>)>, StateError> {
    let mut out = Vec::new();
    for entry in bucket.entries()? {
        if let super::bolt::Entry::Value { key, value } = entry {
            let id = text(key, &format!("{} key", bucket.name()), path)?;
            let name = text(value, &format!("{}/{id}", bucket.name()), path)?;
            out.push((id, Some(name).filter(|n| !n.is_empty())));
        }
    }
    Ok(out)
}

/// One record a list bucket names: its id and registry name, its own bucket (`ctr/<id>`,
/// `pod/<id>`) and the config and state JSON every record has.
struct Record<'a> {
    id: String,
    name: Option<String>,
    bucket: Bucket<'a>,
    config: &'a [u8],
    state: &'a [u8],
}

/// The records `list` (`all-ctrs`, `allPods`) names, each from its bucket in `records` (`ctr`,
/// `pod`); a named record without its bucket, config or state makes the database invalid.
fn records<'a>(
    list: &Bucket<'_>,
    records: &Bucket<'a>,
    kind: &str,
    path: &Path,
) -> Result<Vec<Record<'a>>, StateError> {
    let mut out = Vec::new();
    for (id, name) in listed(list, path)? {
        let bucket = records
            .bucket(id.as_bytes())?
            .ok_or_else(|| StateError::Invalid {
                path: path.to_path_buf(),
                reason: format!(
                    "{kind} {id} is in {} but not in {}",
                    list.name(),
                    records.name()
                ),
            })?;
        let config = need(&bucket, b"config", bucket.name(), path)?;
        let state = need(&bucket, b"state", bucket.name(), path)?;
        out.push(Record {
            id,
            name,
            bucket,
            config,
            state,
        });
    }
    Ok(out)
}

fn need<'a>(
    bucket: &Bucket<'a>,
    key: &[u8],
    at: &str,
    path: &Path,
) -> Result<&'a [u8], StateError> {
    bucket.get(key)?.ok_or_else(|| StateError::Invalid {
        path: path.to_path_buf(),
        reason: format!("{at} has no `{}` key", String::from_utf8_lossy(key)),
    })
}

fn text(bytes: &[u8], what: &str, path: &Path) -> Result<String, StateError> {
    String::from_utf8(bytes.to_vec()).map_err(|_| StateError::Invalid {
        path: path.to_path_buf(),
        reason: format!("{what} is not UTF-8"),
    })
}

/// Writes `state` as a whole `bolt_state.db` in podman's layout (with `writer`'s page
/// size), returning the file's bytes.
pub fn write_bolt_state(state: &RawState, writer: &Writer) -> Result<Vec<u8>, WriteError> {
    writer.write(&bolt_state_tree(state))
}

/// Podman's whole layout for `state` as a tree, for callers that want to add to it (extra
/// buckets, a `networks` sub-bucket) before writing.
pub fn bolt_state_tree(state: &RawState) -> BoltTree {
    let mut ids = BTreeMap::new();
    let mut names = BTreeMap::new();
    let mut all_ctrs = BTreeMap::new();
    let mut ctrs = BTreeMap::new();
    let mut all_pods = BTreeMap::new();
    let mut pods = BTreeMap::new();
    let mut members: BTreeMap<&str, BoltTree> = BTreeMap::new();

    for c in &state.containers {
        let name = container_name(c);
        ids.insert(bytes(&c.id), Node::value(name.clone()));
        names.insert(bytes(&name), Node::value(c.id.clone()));
        all_ctrs.insert(bytes(&c.id), Node::value(name.clone()));
        let mut bucket = BoltTree::new();
        bucket.insert(bytes("config"), Node::value(c.config_json.clone()));
        bucket.insert(bytes("state"), Node::value(c.state_json.clone()));
        bucket.insert(bytes("dependencies"), Node::empty_bucket());
        if let Some(pod) = &c.pod_id {
            bucket.insert(bytes("pod-id"), Node::value(pod.clone()));
            members
                .entry(pod.as_str())
                .or_default()
                .insert(bytes(&c.id), Node::value(name.clone()));
        }
        ctrs.insert(bytes(&c.id), Node::Bucket(bucket));
    }

    for p in &state.pods {
        let name = p.name.clone().unwrap_or_else(|| p.id.clone());
        ids.insert(bytes(&p.id), Node::value(name.clone()));
        names.insert(bytes(&name), Node::value(p.id.clone()));
        all_pods.insert(bytes(&p.id), Node::value(name));
        let mut bucket = BoltTree::new();
        bucket.insert(bytes("config"), Node::value(p.config_json.clone()));
        bucket.insert(bytes("state"), Node::value(p.state_json.clone()));
        bucket.insert(
            bytes("containers"),
            Node::Bucket(members.remove(p.id.as_str()).unwrap_or_default()),
        );
        pods.insert(bytes(&p.id), Node::Bucket(bucket));
    }

    let mut tree = BoltTree::new();
    tree.insert(bytes(ID_REGISTRY), Node::Bucket(ids));
    tree.insert(bytes(NAME_REGISTRY), Node::Bucket(names));
    tree.insert(bytes(CTR), Node::Bucket(ctrs));
    tree.insert(bytes(ALL_CTRS), Node::Bucket(all_ctrs));
    tree.insert(bytes(POD), Node::Bucket(pods));
    tree.insert(bytes(ALL_PODS), Node::Bucket(all_pods));
    tree.insert(
        bytes(RUNTIME_CONFIG),
        Node::Bucket(runtime_tree(&state.runtime)),
    );
    for name in EMPTY_BUCKETS {
        tree.insert(name.to_vec(), Node::empty_bucket());
    }
    tree
}

/// `runtime-config` as podman records it; `os` and `volume-path` (which [`RuntimeConfig`]
/// does not keep) are podman's defaults for Linux.
fn runtime_tree(rc: &RuntimeConfig) -> BoltTree {
    let mut t = BoltTree::new();
    let path = |p: &Option<PathBuf>| p.as_ref().map(|p| p.to_string_lossy().into_owned());
    let entries = [
        ("graph-root", path(&rc.graph_root)),
        ("run-root", path(&rc.run_root)),
        ("static-dir", path(&rc.static_dir)),
        ("tmp-dir", path(&rc.tmp_dir)),
        ("graph-driver-name", rc.graph_driver.clone()),
        (
            "volume-path",
            path(&rc.graph_root).map(|g| format!("{}/volumes", g.trim_end_matches('/'))),
        ),
        ("os", Some("linux".to_string())),
    ];
    for (key, value) in entries {
        if let Some(value) = value {
            t.insert(bytes(key), Node::value(value));
        }
    }
    t
}

/// The name a container is registered under: the registry's, else the config's `name`,
/// else its id.
fn container_name(c: &RawContainer) -> String {
    c.name
        .clone()
        .or_else(|| {
            serde_json::from_slice::<serde_json::Value>(&c.config_json)
                .ok()?
                .get("name")?
                .as_str()
                .map(str::to_string)
        })
        .unwrap_or_else(|| c.id.clone())
}

fn bytes(s: impl AsRef<[u8]>) -> Vec<u8> {
    s.as_ref().to_vec()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::libpod::bolt::BoltDb;

    fn id(n: u8) -> String {
        format!("{n:02x}").repeat(32)
    }

    fn sample() -> RawState {
        RawState {
            containers: vec![
                RawContainer {
                    id: id(1),
                    name: Some("lpstest-a".into()),
                    pod_id: None,
                    config_json: br#"{"id":"x","name":"lpstest-a"}"#.to_vec(),
                    state_json: br#"{"state":3,"pid":42}"#.to_vec(),
                },
                RawContainer {
                    id: id(2),
                    name: Some("lpstest-b".into()),
                    pod_id: Some(id(9)),
                    config_json: vec![b' '; 20_000],
                    state_json: br#"{"state":6}"#.to_vec(),
                },
            ],
            pods: vec![RawPod {
                id: id(9),
                name: Some("lpstest-pod".into()),
                config_json: br#"{"id":"p"}"#.to_vec(),
                state_json: br#"{"cgroupPath":"/libpod_parent/p"}"#.to_vec(),
            }],
            runtime: RuntimeConfig::root_defaults(),
        }
    }

    fn round_trip(state: &RawState) -> (BoltDb, RawState) {
        let bytes = write_bolt_state(state, &Writer::new()).unwrap();
        let db = BoltDb::from_bytes(bytes, PathBuf::from("/t/bolt_state.db")).unwrap();
        let back = state_from_db(&db).unwrap();
        (db, back)
    }

    #[test]
    fn a_state_round_trips() {
        let state = sample();
        let (_, back) = round_trip(&state);
        assert_eq!(back, state);
    }

    #[test]
    fn the_layout_is_podmans() {
        let (db, _) = round_trip(&sample());
        let top = db.root();
        let names: Vec<_> = top
            .entries()
            .unwrap()
            .iter()
            .map(|e| String::from_utf8_lossy(e.key()).into_owned())
            .collect();
        insta::assert_yaml_snapshot!(names);
        let b = top.bucket(CTR).unwrap().unwrap();
        let b = b.bucket(id(2).as_bytes()).unwrap().unwrap();
        assert!(b.bucket(b"dependencies").unwrap().is_some());
        assert_eq!(b.get(b"pod-id").unwrap(), Some(id(9).as_bytes()));
        let members = top
            .bucket(POD)
            .unwrap()
            .unwrap()
            .bucket(id(9).as_bytes())
            .unwrap()
            .unwrap()
            .bucket(b"containers")
            .unwrap()
            .unwrap();
        assert_eq!(
            members.get(id(2).as_bytes()).unwrap(),
            Some(&b"lpstest-b"[..])
        );
        let reg = top.bucket(NAME_REGISTRY).unwrap().unwrap();
        assert_eq!(reg.get(b"lpstest-pod").unwrap(), Some(id(9).as_bytes()));
        let rc = top.bucket(RUNTIME_CONFIG).unwrap().unwrap();
        assert_eq!(
            rc.get(b"volume-path").unwrap(),
            Some(&b"/var/lib/containers/storage/volumes"[..])
        );
    }

    #[test]
    fn a_missing_name_comes_from_the_config() {
        let mut state = sample();
        state.containers[0].name = None;
        let (_, back) = round_trip(&state);
        assert_eq!(back.containers[0].name.as_deref(), Some("lpstest-a"));
    }

    #[test]
    fn missing_records_are_errors_naming_the_file() {
        // The error reading `tree` written as /t/bolt_state.db.
        let error_of = |tree: &BoltTree| {
            let bytes = crate::libpod::bolt::writer::write(tree).unwrap();
            let db = BoltDb::from_bytes(bytes, PathBuf::from("/t/bolt_state.db")).unwrap();
            state_from_db(&db).unwrap_err().to_string()
        };
        let state = sample();
        let mut tree = bolt_state_tree(&state);
        if let Some(Node::Bucket(ctr)) = tree.get_mut(CTR) {
            ctr.remove(id(1).as_bytes());
        }
        let err = error_of(&tree);
        assert!(err.contains("/t/bolt_state.db"), "{err}");
        let want = format!("container {} is in all-ctrs but not in ctr", id(1));
        assert!(err.contains(&want), "{err}");

        let mut tree = bolt_state_tree(&state);
        if let Some(Node::Bucket(pod)) = tree.get_mut(POD) {
            pod.remove(id(9).as_bytes());
        }
        let err = error_of(&tree);
        let want = format!("pod {} is in allPods but not in pod", id(9));
        assert!(err.contains(&want), "{err}");

        let mut tree = bolt_state_tree(&state);
        if let Some(Node::Bucket(ctr)) = tree.get_mut(CTR) {
            if let Some(Node::Bucket(one)) = ctr.get_mut(id(2).as_bytes()) {
                one.remove(b"state".as_slice());
            }
        }
        let err = error_of(&tree);
        let want = format!("ctr/{} has no `state` key", id(2));
        assert!(err.contains(&want), "{err}");

        let mut tree = BoltTree::new();
        tree.insert(b"something".to_vec(), Node::empty_bucket());
        let err = error_of(&tree);
        assert!(err.contains("no `all-ctrs` bucket"), "{err}");
    }

    #[test]
    fn read_goes_through_the_host_root() {
        let dir = tempfile::tempdir().unwrap();
        let rel = "var/lib/containers/storage/libpod";
        std::fs::create_dir_all(dir.path().join(rel)).unwrap();
        let state = sample();
        std::fs::write(
            dir.path().join(rel).join("bolt_state.db"),
            write_bolt_state(&state, &Writer::new()).unwrap(),
        )
        .unwrap();
        let root = HostRoot::new(dir.path()).unwrap();
        let path = Path::new("/var/lib/containers/storage/libpod/bolt_state.db");
        assert_eq!(read_bolt_state(&root, path).unwrap(), state);
        let err = read_bolt_state(&root, Path::new("/nope/bolt_state.db")).unwrap_err();
        assert!(err.is_not_found(), "{err}");
    }
}
