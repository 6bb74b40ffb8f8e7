//! Raw records as libpod's databases hold them, before any JSON is interpreted.
//!
//! Both backends (BoltDB and SQLite) produce a [`RawState`]; one interpreter turns it into
//! [`Container`](super::Container)s, so the two can never disagree on meaning.

use std::path::{Path, PathBuf};

use super::stores::{DEFAULT_GRAPH_ROOT, DEFAULT_RUN_ROOT};

/// One container's records: its config and state JSON, byte for byte as stored.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct RawContainer {
    /// The container id (the key it is stored under).
    pub id: String,
    /// The name from the registry (`all-ctrs` / `ContainerConfig.Name`), when stored.
    pub name: Option<String>,
    /// The pod id recorded beside the container (`ctr/<id>/pod-id` / `ContainerConfig.PodID`).
    pub pod_id: Option<String>,
    /// The ContainerConfig JSON.
    pub config_json: Vec<u8>,
    /// The ContainerState JSON (SQLite: the `JSON` column, never the stale `State` column).
    pub state_json: Vec<u8>,
}

/// One pod's records.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct RawPod {
    /// The pod id.
    pub id: String,
    /// The name from the registry, when stored.
    pub name: Option<String>,
    /// The PodConfig JSON.
    pub config_json: Vec<u8>,
    /// The pod state JSON.
    pub state_json: Vec<u8>,
}

/// The paths podman recorded for its runtime (BoltDB `runtime-config`, SQLite `DBConfig`).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct RuntimeConfig {
    /// `graph-root` / `GraphRoot`.
    pub graph_root: Option<PathBuf>,
    /// `run-root` / `RunRoot`.
    pub run_root: Option<PathBuf>,
    /// `static-dir` / `StaticDir`.
    pub static_dir: Option<PathBuf>,
    /// `tmp-dir` / `TmpDir`.
    pub tmp_dir: Option<PathBuf>,
    /// `graph-driver-name` / `GraphDriver`.
    pub graph_driver: Option<String>,
}

impl RuntimeConfig {
    /// What rootful podman records when no configuration moves anything: the root store's
    /// default paths, overlay; what a database made for a test usually says.
    pub fn root_defaults() -> RuntimeConfig {
        RuntimeConfig {
            graph_root: Some(DEFAULT_GRAPH_ROOT.into()),
            run_root: Some(DEFAULT_RUN_ROOT.into()),
            static_dir: Some(Path::new(DEFAULT_GRAPH_ROOT).join("libpod")),
            tmp_dir: Some("/run/libpod".into()),
            graph_driver: Some("overlay".into()),
        }
    }
}

/// Everything discovery needs from one libpod database.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct RawState {
    /// Containers, in the database's key order.
    pub containers: Vec<RawContainer>,
    /// Pods, in the database's key order.
    pub pods: Vec<RawPod>,
    /// The runtime's recorded paths.
    pub runtime: RuntimeConfig,
}
