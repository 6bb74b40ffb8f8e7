//! Discovery: every container of every store of a host, each store read on its own.
//!
//! For each store: its libpod database (SQLite or BoltDB) when one exists and reads; else,
//! or when it does not read (the error is still reported), containers/storage's lists.
//! Every running or paused container is then checked against /proc and cgroupfs. One store
//! that fails is reported and skipped; the others are still listed.

use std::collections::HashSet;
use std::path::PathBuf;
use std::sync::Arc;

use serde::Serialize;

use super::cgroup_path::{self, settle};
use super::health;
use super::interpret::{interpret, RecordError};
use super::model::{Container, ContainerId, Source};
use super::raw::RawState;
use super::state_error::StateError;
use super::storage::{self, StorageError};
use super::stores::{
    clean_abs, find_stores, is_driver_name, FoundStores, StateFile, StateFormat, Store,
    StoreConfigError,
};
use crate::host::{FileStamp, HostRoot};

/// What to discover.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DiscoveryOptions {
    /// Also read every user's rootless store.
    pub rootless_stores: bool,
    /// Graph roots to read besides the root and rootless stores.
    pub extra_stores: Vec<PathBuf>,
    /// Also list containers podman does not own (Buildah, CRI-O), as `podman ps --external`.
    pub external: bool,
}

impl Default for DiscoveryOptions {
    fn default() -> Self {
        DiscoveryOptions {
            rootless_stores: true,
            extra_stores: Vec::new(),
            external: false,
        }
    }
}

/// A problem met during discovery. Cheap to clone, so a cached report can be handed out
/// every cycle.
#[derive(Debug, Clone, thiserror::Error)]
pub enum DiscoveryError {
    /// A configuration file (`storage.conf`, `/etc/passwd`) could not be used, or an
    /// explicit store does not exist.
    #[error(transparent)]
    Config(Arc<StoreConfigError>),
    /// A store's libpod database could not be read; its containers/storage lists are used.
    #[error("store {graph_root}: {source}")]
    State {
        /// The store's graph root.
        graph_root: PathBuf,
        /// Why the database could not be read.
        #[source]
        source: Arc<StateError>,
    },
    /// A store's containers/storage list could not be read.
    #[error("store {graph_root}: {source}")]
    Storage {
        /// The store's graph root.
        graph_root: PathBuf,
        /// Why.
        #[source]
        source: Arc<StorageError>,
    },
    /// One record of a database made no sense and was skipped.
    #[error("{path}: {source}")]
    Record {
        /// The database file.
        path: PathBuf,
        /// The record and what is wrong with it.
        #[source]
        source: RecordError,
    },
}

/// What discovery learned about one store.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StoreReport {
    /// The store.
    pub store: Store,
    /// The libpod database read, if one exists.
    pub state_file: Option<StateFile>,
    /// Where its containers came from (`None` when nothing could be read).
    pub source: Option<Source>,
    /// How many containers it contributed (after de-duplication and filtering).
    pub containers: usize,
}

/// The result of [`discover`].
#[derive(Debug, Clone, Default)]
pub struct DiscoveryReport {
    /// Every container, sorted by name (then id), each id at most once.
    pub containers: Vec<Container>,
    /// The problems met; discovery went on past each.
    pub errors: Vec<DiscoveryError>,
    /// The stores read, in order.
    pub stores: Vec<StoreReport>,
}

/// Discovers the containers under `root`.
///
/// Never fails as a whole: a store that cannot be read is reported in
/// [`DiscoveryReport::errors`] and the others are still listed.
///
/// ```
/// use libpod_stats::{discover, ContainerState, DiscoveryOptions, HostRoot};
/// use libpod_stats_testing::{ContainerSpec, HostBuilder, PodSpec};
///
/// let dir = tempfile::tempdir()?;
/// HostBuilder::new()
///     .pod(PodSpec::new("shop").with_infra())
///     .container(ContainerSpec::new("web").pod("shop"))
///     .container(ContainerSpec::new("batch").state(ContainerState::Exited))
///     .build(dir.path())?;
///
/// let report = discover(&HostRoot::new(dir.path())?, &DiscoveryOptions::default());
/// assert!(report.errors.is_empty(), "{:?}", report.errors);
/// let found: Vec<(&str, ContainerState, bool)> = report
///     .containers
///     .iter()
///     .map(|c| (c.name.as_str(), c.state, c.cgroup.is_some()))
///     .collect();
/// // Sorted by name; the pod's infra container is listed too; only running (or paused)
/// // containers have a cgroup to read.
/// assert_eq!(found[0], ("batch", ContainerState::Exited, false));
/// assert!(found.contains(&("web", ContainerState::Running, true)));
/// assert_eq!(report.containers.iter().filter(|c| c.is_infra).count(), 1);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn discover(root: &HostRoot, opts: &DiscoveryOptions) -> DiscoveryReport {
    discover_stores(
        root,
        opts,
        find_stores(root, opts.rootless_stores, &opts.extra_stores),
    )
}

/// [`discover`] over stores already found (by [`find_stores`] with the same options, e.g.
/// for [`fingerprint_of`] first).
pub fn discover_stores(
    root: &HostRoot,
    opts: &DiscoveryOptions,
    found: FoundStores,
) -> DiscoveryReport {
    let mut report = DiscoveryReport {
        errors: found
            .errors
            .into_iter()
            .map(|e| DiscoveryError::Config(Arc::new(e)))
            .collect(),
        ..Default::default()
    };
    let proc_captured = cgroup_path::proc_captured(root);
    let mut seen: HashSet<ContainerId> = HashSet::new();
    for store in found.stores {
        let (containers, source, state_file) = discover_store(
            root,
            &store,
            opts.external,
            proc_captured,
            &mut report.errors,
        );
        let mut count = 0;
        for c in containers {
            if seen.insert(c.id.clone()) {
                report.containers.push(c);
                count += 1;
            }
        }
        report.stores.push(StoreReport {
            store,
            state_file,
            source,
            containers: count,
        });
    }
    report
        .containers
        .sort_by(|a, b| a.name.cmp(&b.name).then_with(|| a.id.cmp(&b.id)));
    report
}

fn discover_store(
    root: &HostRoot,
    store: &Store,
    external: bool,
    proc_captured: bool,
    errors: &mut Vec<DiscoveryError>,
) -> (Vec<Container>, Option<Source>, Option<StateFile>) {
    // A store this process may not enter (a user's private directory when not run as
    // root) would otherwise look empty: say so instead.
    if let Err(e) = root.read_dir_names(&store.graph_root) {
        if !e.is_not_found() {
            errors.push(DiscoveryError::Storage {
                graph_root: store.graph_root.clone(),
                source: Arc::new(StorageError::Read(e)),
            });
            return (Vec::new(), None, None);
        }
    }
    let state_file = store.state_file(root);
    let mut libpod: Option<(Vec<Container>, Source)> = None;
    let mut store = store.clone();
    if let Some(file) = &state_file {
        match read_state(root, file) {
            Ok(raw) => {
                // The database records the paths podman really used.
                if store.run_root.is_none() {
                    store.run_root = raw
                        .runtime
                        .run_root
                        .as_deref()
                        .and_then(|p| p.to_str())
                        .and_then(clean_abs);
                }
                if store.driver.is_none() {
                    store.driver = raw
                        .runtime
                        .graph_driver
                        .clone()
                        .filter(|d| is_driver_name(d));
                }
                let source = match file.format {
                    StateFormat::Sqlite => Source::Sqlite,
                    StateFormat::Bolt => Source::Bolt,
                };
                let interpretation =
                    interpret(&raw, source, store.uid, Some(store.graph_root.as_path()));
                errors.extend(interpretation.errors.into_iter().map(|source| {
                    DiscoveryError::Record {
                        path: file.path.clone(),
                        source,
                    }
                }));
                // Health logs live in the run root's `<driver>-containers`, named like the
                // graph root's.
                let run_containers = store.run_root.as_ref().and_then(|run| {
                    let dirs = store.containers_dirs(root);
                    Some(run.join(dirs.first()?.file_name()?))
                });
                let containers = interpretation
                    .records
                    .into_iter()
                    .map(|mut rec| {
                        settle(
                            root,
                            proc_captured,
                            &mut rec.container,
                            &rec.hints,
                            store.rootless_uid(),
                        );
                        if let Some(destination) = &rec.health_check {
                            rec.container.health_log = health::log_path(
                                run_containers.as_deref(),
                                &rec.container.id,
                                destination.as_deref(),
                            );
                        }
                        rec.container
                    })
                    .collect();
                libpod = Some((containers, source));
            }
            Err(e) => errors.push(DiscoveryError::State {
                graph_root: store.graph_root.clone(),
                source: Arc::new(e),
            }),
        }
    }

    // containers/storage: the whole listing without a database, external ones with one.
    let need_storage = libpod.is_none() || external;
    let (mut containers, mut source) = match libpod {
        Some((c, s)) => (c, Some(s)),
        None => (Vec::new(), None),
    };
    if need_storage {
        let have_db = source.is_some();
        let known: HashSet<ContainerId> = containers.iter().map(|c| c.id.clone()).collect();
        let (entries, storage_errors) = storage::read_store_entries(root, &store);
        errors.extend(storage_errors.into_iter().map(|e| DiscoveryError::Storage {
            graph_root: store.graph_root.clone(),
            source: Arc::new(e),
        }));
        for (dir, entry) in entries {
            if known.contains(entry.id.as_str()) {
                continue;
            }
            // With a database, anything it does not list is external; without one, only
            // podman's metadata marks a container as podman's.
            let podmans = !have_db && entry.podman_metadata().is_some();
            if !podmans && !external {
                continue;
            }
            if let Some(c) = storage::storage_container(root, &store, &dir, &entry, proc_captured) {
                containers.push(c);
                source.get_or_insert(Source::Storage);
            }
        }
    }
    (containers, source, state_file)
}

/// Reads a libpod database of either format.
fn read_state(root: &HostRoot, file: &StateFile) -> Result<RawState, StateError> {
    match file.format {
        StateFormat::Sqlite => super::sqlite::read_sqlite_state(root, &file.path),
        StateFormat::Bolt => super::bolt_state::read_bolt_state(root, &file.path),
    }
}

/// The stamps of every file discovery's answer depends on (state databases, container
/// lists, configuration files and drop-in directories, /etc/passwd): while it is equal, a cached
/// [`DiscoveryReport`] is still what [`discover`] would find, except for processes that
/// exited since.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StateFingerprint {
    /// Each file with its stamp, `None` when it does not exist.
    pub files: Vec<(PathBuf, Option<FileStamp>)>,
    /// Each configuration drop-in directory with its listing's stamp
    /// ([`HostRoot::listing_stamp`]), `None` when it is not a directory.
    pub listings: Vec<(PathBuf, Option<FileStamp>)>,
}

/// Stamps the files [`discover`] would read with these options. Much cheaper than
/// discovery: only `stat` calls plus the small configuration files.
pub fn state_fingerprint(root: &HostRoot, opts: &DiscoveryOptions) -> StateFingerprint {
    fingerprint_of(
        root,
        &find_stores(root, opts.rootless_stores, &opts.extra_stores),
    )
}

/// The fingerprint of stores already found: the configuration files with the stamps taken
/// when they were read, then each store's files stamped now, before [`discover_stores`]
/// reads them. With [`discover_stores`] it finds the stores once where
/// [`state_fingerprint`] then [`discover`] would read the configuration twice.
pub fn fingerprint_of(root: &HostRoot, found: &FoundStores) -> StateFingerprint {
    let mut files: Vec<(PathBuf, Option<FileStamp>)> = found
        .config_files
        .iter()
        .cloned()
        .zip(found.config_stamps.iter().copied())
        .collect();
    let mut paths: Vec<PathBuf> = Vec::new();
    for store in &found.stores {
        paths.push(store.graph_root.clone());
        paths.extend(store.state_candidates().into_iter().map(|f| f.path));
        paths.extend(storage::list_files(root, store));
    }
    files.extend(paths.into_iter().map(|p| {
        let stamp = root.stamp(&p);
        (p, stamp)
    }));
    StateFingerprint {
        files,
        listings: found.config_dirs.clone(),
    }
}
