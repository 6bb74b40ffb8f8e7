//! The container stores of a host: where each one's graph root, run root and state live.
//!
//! The root store and every user's rootless store come from `storage.conf` and
//! `containers.conf` as podman reads them (`config_files`: podman 6's
//! main file plus drop-ins, and podman 5's layering), with users taken from `/etc/passwd`;
//! stores named explicitly are added as they are. Where podman 5 and podman 6 would put a
//! store in different places, the one that exists is used, podman 6's first. A store knows
//! which libpod database podman would use: `database_backend` when set, else `db.sql`
//! before `bolt_state.db` (podman 5.8.1 and later, and 6.0, where BoltDB is gone).
//!
//! The keys read are modelled in [`config_keys`](super::config_keys), the users in
//! `users`; reading the files once each is `conf_reader`'s job.

use std::collections::BTreeMap;
use std::path::{Component, Path, PathBuf};

use serde::Serialize;

mod conf_reader;

use super::config_files::ConfUser;
use super::config_keys::{DbBackend, EngineKeys, StorageConf};
use super::users::{home_owner, users_of_passwd, User, PASSWD};
use crate::host::{FileStamp, HostError, HostRoot};
use conf_reader::{ConfRead, ConfReader};

/// The root store's graph root when no configuration names one.
pub const DEFAULT_GRAPH_ROOT: &str = "/var/lib/containers/storage";
/// The root store's run root when no configuration names one.
pub const DEFAULT_RUN_ROOT: &str = "/run/containers/storage";

/// Which kind of store this is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase", tag = "kind")]
pub enum StoreKind {
    /// The system (root) store.
    Root,
    /// A user's rootless store under their home.
    Rootless {
        /// The user's name from `/etc/passwd`.
        user: String,
    },
    /// A store named on the command line or in the plugin's configuration.
    Explicit,
}

/// One container store.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Store {
    /// Root, rootless or explicit.
    #[serde(flatten)]
    pub kind: StoreKind,
    /// The graph root (host path).
    pub graph_root: PathBuf,
    /// The run root, when known (host path).
    pub run_root: Option<PathBuf>,
    /// The storage driver (`overlay`, `vfs`, ...), when configured.
    pub driver: Option<String>,
    /// `transient_store`: state lives in the run root.
    pub transient: bool,
    /// containers.conf `[engine] static_dir`, when set explicitly: the database lives there.
    pub static_dir: Option<PathBuf>,
    /// containers.conf `[engine] tmp_dir`, when set (a transient BoltDB lives there).
    pub tmp_dir: Option<PathBuf>,
    /// containers.conf `[engine] database_backend`.
    #[serde(skip_serializing_if = "DbBackend::is_default")]
    pub db_backend: DbBackend,
    /// The store owner's uid: the directory's owner on a live host, the uid whose home
    /// holds it in a snapshot (0 for the root store).
    pub uid: Option<u32>,
    /// The same store as podman 5 would configure it, when that differs from podman 6's
    /// reading: its state files are the fallbacks when this one's do not exist.
    #[serde(skip)]
    pub podman5: Option<Box<Store>>,
}

/// Which database format a state file is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum StateFormat {
    /// `db.sql`.
    Sqlite,
    /// `bolt_state.db`.
    Bolt,
}

/// A libpod database file a store may have.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StateFile {
    /// Its format.
    pub format: StateFormat,
    /// Its host path.
    pub path: PathBuf,
}

impl Store {
    /// The uid to use for rootless cgroup paths: the owner when it is not root.
    pub fn rootless_uid(&self) -> Option<u32> {
        self.uid.filter(|u| *u != 0)
    }

    /// The database files podman could use for this store, in the order podman prefers
    /// them; the first that exists is the store's state. Never `bolt_state.db-old`, the
    /// file podman's migration to SQLite leaves behind.
    pub fn state_candidates(&self) -> Vec<StateFile> {
        let mut out = self.own_state_candidates();
        if let Some(old) = &self.podman5 {
            for f in old.own_state_candidates() {
                if !out.contains(&f) {
                    out.push(f);
                }
            }
        }
        out
    }

    fn own_state_candidates(&self) -> Vec<StateFile> {
        let sqlite = |dir: &Path| StateFile {
            format: StateFormat::Sqlite,
            path: dir.join("db.sql"),
        };
        let bolt = |dir: &Path| StateFile {
            format: StateFormat::Bolt,
            path: dir.join("bolt_state.db"),
        };
        let mut out = if self.transient {
            let mut out = Vec::new();
            if let Some(run) = &self.run_root {
                out.push(sqlite(run));
                out.push(bolt(&run.join("libpod")));
            }
            let tmp = match (&self.tmp_dir, self.rootless_uid()) {
                (Some(dir), _) => dir.clone(),
                (None, Some(uid)) => PathBuf::from(format!("/run/user/{uid}/libpod/tmp")),
                (None, None) => PathBuf::from("/run/libpod"),
            };
            out.push(bolt(&tmp));
            out
        } else if let Some(dir) = &self.static_dir {
            vec![sqlite(dir), bolt(dir)]
        } else {
            vec![
                sqlite(&self.graph_root),
                bolt(&self.graph_root.join("libpod")),
            ]
        };
        match self.db_backend {
            DbBackend::Default => {}
            DbBackend::Sqlite => out.retain(|f| f.format == StateFormat::Sqlite),
            DbBackend::Boltdb => out.retain(|f| f.format == StateFormat::Bolt),
        }
        out
    }

    /// The database podman uses for this store, if any exists under `root`.
    pub fn state_file(&self, root: &HostRoot) -> Option<StateFile> {
        self.state_candidates()
            .into_iter()
            .find(|f| root.metadata(&f.path).is_ok_and(|m| m.is_file()))
    }

    /// The `<driver>-containers` directories of the graph root: the configured driver's,
    /// or every such directory when no driver is configured.
    pub fn containers_dirs(&self, root: &HostRoot) -> Vec<PathBuf> {
        if let Some(driver) = &self.driver {
            let dir = self.graph_root.join(format!("{driver}-containers"));
            if root.exists(&dir) {
                return vec![dir];
            }
        }
        root.read_dir_names(&self.graph_root)
            .unwrap_or_default()
            .into_iter()
            .filter_map(|n| n.into_string().ok())
            .filter(|n| n.ends_with("-containers") && n.len() > "-containers".len())
            .map(|n| self.graph_root.join(n))
            .filter(|d| root.metadata(d).is_ok_and(|m| m.is_dir()))
            .collect()
    }
}

/// A problem with the stores' configuration; the store is still used with defaults.
#[derive(Debug, thiserror::Error)]
pub enum StoreConfigError {
    /// A configuration file could not be read.
    #[error(transparent)]
    Read(#[from] HostError),
    /// A `storage.conf` is not valid TOML or has a wrong type.
    #[error("{path}: {reason}")]
    Invalid {
        /// The host path of the file.
        path: PathBuf,
        /// The parser's message.
        reason: String,
    },
    /// A store named explicitly does not exist or is not a directory.
    #[error("store {path}: not a directory")]
    NoSuchStore {
        /// The graph root as given.
        path: PathBuf,
    },
}

/// An absolute path without `.`/`..` components, or `None`: a path from a configuration
/// file or a database may only name a place, never climb.
pub fn clean_abs(p: &str) -> Option<PathBuf> {
    let path = Path::new(p);
    (path.is_absolute()
        && path
            .components()
            .all(|c| matches!(c, Component::RootDir | Component::Normal(_))))
    .then(|| path.components().collect())
}

/// What finding the stores produced: the stores, and the configuration problems met.
#[derive(Debug, Default)]
pub struct FoundStores {
    /// The stores, root first, then rootless by user name, then explicit ones.
    pub stores: Vec<Store>,
    /// Configuration files that could not be used.
    pub errors: Vec<StoreConfigError>,
    /// Every configuration file consulted (for change detection).
    pub config_files: Vec<PathBuf>,
    /// The stamp of each of `config_files`, in the same order, taken just before the file
    /// was read (`None`: it did not exist, and was not read). A file changed after its
    /// stamp shows another one on the next check, so a fingerprint made of these stamps
    /// never hides a change the stores found do not reflect.
    pub config_stamps: Vec<Option<FileStamp>>,
    /// Every drop-in directory listed, with the stamp of its listing
    /// ([`HostRoot::listing_stamp`]; `None`: it did not exist): a drop-in added or removed
    /// changes it.
    pub config_dirs: Vec<(PathBuf, Option<FileStamp>)>,
}

impl FoundStores {
    /// Stamps a configuration file, then reads it: its text, or `None` when it does not
    /// exist.
    fn consult(&mut self, root: &HostRoot, path: &Path) -> Result<Option<String>, HostError> {
        let stamp = root.stamp(path);
        self.config_files.push(path.to_path_buf());
        self.config_stamps.push(stamp);
        if stamp.is_none() {
            return Ok(None);
        }
        match root.read_to_string(path) {
            Ok(text) => Ok(Some(text)),
            Err(e) if e.is_not_found() => Ok(None),
            Err(e) => Err(e),
        }
    }
}

/// Finds the stores under `root`. `rootless` adds users' rootless stores; `extra` are graph
/// roots named explicitly, and so are those a snapshot root recorded at capture
/// ([`SnapshotMeta::extra_stores`](crate::snapshot::SnapshotMeta)); an explicit one that is
/// also found otherwise is listed once.
pub fn find_stores(root: &HostRoot, rootless: bool, extra: &[PathBuf]) -> FoundStores {
    // A broken snapshot.json is reported by whoever needs its other facts; here it only
    // means no recorded stores and owners.
    let meta = root.snapshot_meta().ok().flatten();
    let none_recorded = BTreeMap::new();
    let owners = Owners {
        root,
        recorded: meta.as_ref().map_or(&none_recorded, |m| &m.store_owners),
    };
    let mut conf = ConfReader::new(root);
    let users = match conf.found.consult(root, Path::new(PASSWD)) {
        Ok(Some(text)) => users_of_passwd(&text),
        Ok(None) => Vec::new(),
        Err(e) => {
            conf.found.errors.push(e.into());
            Vec::new()
        }
    };
    let system5 = conf.storage5_system();

    // The root store.
    let root_home = users
        .iter()
        .find(|u| u.uid == 0)
        .map_or_else(|| PathBuf::from("/root"), |u| u.home.clone());
    let root_user = ConfUser {
        uid: 0,
        home: &root_home,
    };
    let stores = [
        (conf.storage6(root_user), conf.engine6(root_user)),
        (system5.clone(), conf.engine5(root_user)),
    ]
    .map(|(storage, engine)| root_store(&storage, &engine));
    let [podman6, podman5] = stores;
    if let Some(store) = conf.choose(podman6, podman5) {
        let uid = owners.of(&store.graph_root, &users, Some(0));
        conf.found.stores.push(Store { uid, ..store });
    }

    if rootless {
        let mut users_sorted = users.clone();
        users_sorted.sort_by(|a, b| a.name.cmp(&b.name));
        for user in users_sorted.iter().filter(|u| u.uid != 0) {
            let who = ConfUser {
                uid: user.uid,
                home: &user.home,
            };
            let storage6 = conf.storage6(who);
            let engine6 = conf.engine6(who);
            let podman6 = rootless_store6(user, &storage6, &engine6);
            let user_conf_path = user.home.join(".config/containers/storage.conf");
            let user_conf = match conf.storage_file(&user_conf_path) {
                ConfRead::Keys(c) => Some(c),
                _ => None,
            };
            let engine5 = conf.engine5(who);
            let mut podman5 = rootless_store(user, user_conf.as_ref(), &system5);
            podman5.static_dir = user.expand_path(engine5.static_dir.as_deref());
            podman5.tmp_dir = user.expand_path(engine5.tmp_dir.as_deref());
            podman5.db_backend = engine5.db_backend();
            if let Some(store) = conf.choose(podman6, podman5) {
                let uid = owners.of(&store.graph_root, &users, Some(user.uid));
                conf.found.stores.push(Store { uid, ..store });
            }
        }
    }
    let mut found = conf.found;

    let recorded = meta.iter().flat_map(|m| &m.extra_stores);
    for path in extra.iter().chain(recorded) {
        let graph_root = if path.is_absolute() {
            path.components().collect::<PathBuf>()
        } else {
            Path::new("/").join(path)
        };
        if found.stores.iter().any(|s| s.graph_root == graph_root) {
            continue;
        }
        if !root.metadata(&graph_root).is_ok_and(|m| m.is_dir()) {
            found
                .errors
                .push(StoreConfigError::NoSuchStore { path: graph_root });
            continue;
        }
        let uid = owners.of(&graph_root, &users, None);
        found.stores.push(Store {
            kind: StoreKind::Explicit,
            graph_root,
            run_root: None,
            driver: None,
            transient: false,
            static_dir: None,
            tmp_dir: None,
            db_backend: DbBackend::Default,
            uid,
            podman5: None,
        });
    }
    found
}

/// A storage driver name that can safely become part of a directory name (`overlay`, `vfs`).
pub fn is_driver_name(d: &str) -> bool {
    !d.is_empty() && d.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
}

fn rootless_store(user: &User, user_conf: Option<&StorageConf>, system: &StorageConf) -> Store {
    let default_graph = user.home.join(".local/share/containers/storage");
    let expand_path = |v: &Option<String>| user.expand_path(v.as_deref());
    let (graph_root, run_root, driver, transient) = match user_conf {
        Some(conf) => (
            expand_path(&conf.graphroot)
                .or_else(|| expand_path(&conf.rootless_storage_path))
                .unwrap_or(default_graph),
            expand_path(&conf.runroot),
            conf.driver.clone().or_else(|| system.driver.clone()),
            conf.transient_store.unwrap_or(false),
        ),
        None => (
            expand_path(&system.rootless_storage_path).unwrap_or(default_graph),
            None,
            system.driver.clone(),
            system.transient_store.unwrap_or(false),
        ),
    };
    Store {
        kind: StoreKind::Rootless {
            user: user.name.clone(),
        },
        graph_root,
        run_root: run_root
            .or_else(|| Some(PathBuf::from(format!("/run/user/{}/containers", user.uid)))),
        driver: driver.filter(|d| is_driver_name(d)),
        transient,
        static_dir: None,
        tmp_dir: None,
        db_backend: DbBackend::Default,
        uid: Some(user.uid),
        podman5: None,
    }
}

/// The root store from its `[storage]` and `[engine]` keys (the owner's uid left unset).
fn root_store(storage: &StorageConf, engine: &EngineKeys) -> Store {
    Store {
        kind: StoreKind::Root,
        graph_root: storage
            .graphroot
            .as_deref()
            .and_then(clean_abs)
            .unwrap_or_else(|| PathBuf::from(DEFAULT_GRAPH_ROOT)),
        run_root: Some(
            storage
                .runroot
                .as_deref()
                .and_then(clean_abs)
                .unwrap_or_else(|| PathBuf::from(DEFAULT_RUN_ROOT)),
        ),
        driver: storage.driver.clone().filter(|d| is_driver_name(d)),
        transient: storage.transient_store.unwrap_or(false),
        static_dir: engine.static_dir.as_deref().and_then(clean_abs),
        tmp_dir: engine.tmp_dir.as_deref().and_then(clean_abs),
        db_backend: engine.db_backend(),
        uid: None,
        podman5: None,
    }
}

/// A user's rootless store as podman 6 configures it: every file's keys apply to rootless
/// users too, `graphroot` over the deprecated `rootless_storage_path` over
/// `~/.local/share/containers/storage`, and the run root under `/run/user/<uid>` unless
/// `runroot` is set.
fn rootless_store6(user: &User, storage: &StorageConf, engine: &EngineKeys) -> Store {
    Store {
        kind: StoreKind::Rootless {
            user: user.name.clone(),
        },
        graph_root: user
            .expand_path(storage.graphroot.as_deref())
            .or_else(|| user.expand_path(storage.rootless_storage_path.as_deref()))
            .unwrap_or_else(|| user.home.join(".local/share/containers/storage")),
        run_root: Some(
            user.expand_path(storage.runroot.as_deref())
                .unwrap_or_else(|| PathBuf::from(format!("/run/user/{}/containers", user.uid))),
        ),
        driver: storage.driver.clone().filter(|d| is_driver_name(d)),
        transient: storage.transient_store.unwrap_or(false),
        static_dir: user.expand_path(engine.static_dir.as_deref()),
        tmp_dir: user.expand_path(engine.tmp_dir.as_deref()),
        db_backend: engine.db_backend(),
        uid: Some(user.uid),
        podman5: None,
    }
}

/// Who owns a store.
struct Owners<'a> {
    root: &'a HostRoot,
    /// What a snapshot recorded at capture ([`SnapshotMeta::store_owners`](crate::snapshot::SnapshotMeta)).
    recorded: &'a BTreeMap<PathBuf, u32>,
}

impl Owners<'_> {
    /// The owner of the store at `graph_root`: on a live host the directory's owner; in a
    /// snapshot (which keeps no file owners) the uid recorded at capture, else the uid whose
    /// home holds it, else `fallback`.
    fn of(&self, graph_root: &Path, users: &[User], fallback: Option<u32>) -> Option<u32> {
        use std::os::unix::fs::MetadataExt;
        if self.root.is_live() {
            return self
                .root
                .metadata(graph_root)
                .ok()
                .map(|m| m.uid())
                .or(fallback);
        }
        self.recorded
            .get(graph_root)
            .copied()
            .or_else(|| home_owner(users, graph_root))
            .or(fallback)
            .or_else(|| graph_root.starts_with(DEFAULT_GRAPH_ROOT).then_some(0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn snapshot(files: &[(&str, &str)], dirs: &[&str]) -> (tempfile::TempDir, HostRoot) {
        let dir = tempfile::tempdir().unwrap();
        for (path, text) in files {
            let p = dir.path().join(path);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(p, text).unwrap();
        }
        for d in dirs {
            std::fs::create_dir_all(dir.path().join(d)).unwrap();
        }
        let root = HostRoot::new(dir.path()).unwrap();
        (dir, root)
    }

    use crate::parse::passwd::tests::PASSWD_TEXT;

    #[test]
    fn default_root_store_and_rootless_users() {
        let (_d, root) = snapshot(
            &[
                ("etc/passwd", PASSWD_TEXT),
                (
                    "home/bob/.config/containers/storage.conf",
                    "[storage]\ngraphroot = \"$HOME/containers\"\ndriver = \"vfs\"\n",
                ),
            ],
            &[
                "var/lib/containers/storage/libpod",
                "home/alice/.local/share/containers/storage",
                "home/bob/containers",
            ],
        );
        let found = find_stores(&root, true, &[]);
        assert!(found.errors.is_empty(), "{:?}", found.errors);
        let got: Vec<_> = found
            .stores
            .iter()
            .map(|s| {
                (
                    s.kind.clone(),
                    s.graph_root.clone(),
                    s.uid,
                    s.driver.clone(),
                )
            })
            .collect();
        assert_eq!(
            got,
            vec![
                (
                    StoreKind::Root,
                    PathBuf::from(DEFAULT_GRAPH_ROOT),
                    Some(0),
                    None
                ),
                (
                    StoreKind::Rootless {
                        user: "alice".into()
                    },
                    PathBuf::from("/home/alice/.local/share/containers/storage"),
                    Some(1000),
                    None
                ),
                (
                    StoreKind::Rootless { user: "bob".into() },
                    PathBuf::from("/home/bob/containers"),
                    Some(1001),
                    Some("vfs".into())
                ),
            ]
        );
        assert_eq!(
            found.stores[1].run_root.as_deref(),
            Some(Path::new("/run/user/1000/containers"))
        );
        let none = find_stores(&root, false, &[]);
        assert_eq!(none.stores.len(), 1);
    }

    #[test]
    fn system_conf_and_rootless_storage_path() {
        let (_d, root) = snapshot(
            &[
                ("etc/passwd", PASSWD_TEXT),
                (
                    "usr/share/containers/storage.conf",
                    "[storage]\ngraphroot = \"/srv/c\"\nrunroot = \"/run/c\"\n\
                     rootless_storage_path = \"/srv/rootless/$UID\"\n",
                ),
            ],
            &["srv/c", "srv/rootless/1000"],
        );
        let found = find_stores(&root, true, &[]);
        assert!(found.errors.is_empty(), "{:?}", found.errors);
        assert_eq!(found.stores.len(), 2);
        assert_eq!(found.stores[0].graph_root, Path::new("/srv/c"));
        assert_eq!(
            found.stores[0].run_root.as_deref(),
            Some(Path::new("/run/c"))
        );
        assert_eq!(found.stores[1].graph_root, Path::new("/srv/rootless/1000"));
        assert_eq!(found.stores[1].uid, Some(1000));
    }

    #[test]
    fn explicit_stores_and_bad_config() {
        let (_d, root) = snapshot(
            &[
                ("etc/passwd", PASSWD_TEXT),
                ("etc/containers/storage.conf", "this is not toml ["),
            ],
            &[
                "var/lib/containers/storage",
                "home/alice/other/store",
                "tmp/s",
            ],
        );
        let found = find_stores(
            &root,
            false,
            &[
                PathBuf::from("/home/alice/other/store"),
                PathBuf::from("/tmp/s"),
                PathBuf::from("/var/lib/containers/storage"),
                PathBuf::from("/nope"),
            ],
        );
        assert_eq!(found.errors.len(), 2, "{:?}", found.errors);
        assert!(found.errors[0]
            .to_string()
            .contains("etc/containers/storage.conf"));
        assert!(found.errors[1].to_string().contains("/nope"));
        let uids: Vec<_> = found
            .stores
            .iter()
            .map(|s| (s.kind.clone(), s.uid))
            .collect();
        assert_eq!(
            uids,
            [
                (StoreKind::Root, Some(0)),
                (StoreKind::Explicit, Some(1000)),
                (StoreKind::Explicit, None)
            ]
        );
    }

    #[test]
    fn state_file_choice() {
        let (dir, root) = snapshot(&[], &["g/libpod"]);
        let store = Store {
            kind: StoreKind::Explicit,
            graph_root: PathBuf::from("/g"),
            run_root: Some(PathBuf::from("/r")),
            driver: None,
            transient: false,
            static_dir: None,
            tmp_dir: None,
            db_backend: DbBackend::Default,
            uid: Some(0),
            podman5: None,
        };
        assert_eq!(store.state_file(&root), None);
        std::fs::write(dir.path().join("g/libpod/bolt_state.db"), b"x").unwrap();
        assert_eq!(store.state_file(&root).unwrap().format, StateFormat::Bolt);
        std::fs::write(dir.path().join("g/db.sql"), b"x").unwrap();
        let f = store.state_file(&root).unwrap();
        assert_eq!(
            (f.format, f.path),
            (StateFormat::Sqlite, PathBuf::from("/g/db.sql"))
        );
        let transient = Store {
            transient: true,
            ..store
        };
        assert_eq!(transient.state_file(&root), None);
        assert_eq!(transient.state_candidates()[0].path, Path::new("/r/db.sql"));
    }

    #[test]
    fn containers_conf_moves_the_database() {
        let (dir, root) = snapshot(
            &[
                ("etc/passwd", PASSWD_TEXT),
                (
                    "usr/share/containers/containers.conf",
                    "[engine]\nstatic_dir = \"/ignored\"\n",
                ),
                (
                    "etc/containers/containers.conf",
                    "[containers]\nx = 1\n[engine]\nstatic_dir = \"/srv/libpod\"\n",
                ),
                (
                    "home/alice/.config/containers/containers.conf.d/10-my.conf",
                    "[engine]\nstatic_dir = \"$HOME/state\"\n",
                ),
            ],
            &[
                "var/lib/containers/storage",
                "home/alice/.local/share/containers/storage",
                "srv/libpod",
            ],
        );
        let found = find_stores(&root, true, &[]);
        assert!(found.errors.is_empty(), "{:?}", found.errors);
        assert_eq!(
            found.stores[0].static_dir.as_deref(),
            Some(Path::new("/srv/libpod"))
        );
        assert_eq!(
            found.stores[1].static_dir.as_deref(),
            Some(Path::new("/home/alice/state"))
        );
        std::fs::write(dir.path().join("srv/libpod/bolt_state.db"), b"x").unwrap();
        std::fs::write(dir.path().join("var/lib/containers/storage/db.sql"), b"x").unwrap();
        let f = found.stores[0].state_file(&root).unwrap();
        assert_eq!(f.path, Path::new("/srv/libpod/bolt_state.db"));
    }

    fn store_of<'a>(found: &'a FoundStores, kind: &StoreKind) -> &'a Store {
        found
            .stores
            .iter()
            .find(|s| &s.kind == kind)
            .unwrap_or_else(|| panic!("no {kind:?} store in {:?}", found.stores))
    }

    fn alice() -> StoreKind {
        StoreKind::Rootless {
            user: "alice".into(),
        }
    }

    /// Podman 5.8.3 (93dbfd0d86), `libpod/runtime_migrate.go`, `migrateDB`: a migrated
    /// `bolt_state.db` is renamed `bolt_state.db-old` "so it is not reused"; `getDBState`
    /// (`libpod/runtime.go`) only ever opens `bolt_state.db` and `db.sql`.
    #[test]
    fn bolt_state_db_old_is_never_read() {
        let (dir, root) = snapshot(
            &[(
                "var/lib/containers/storage/libpod/bolt_state.db-old",
                "stale",
            )],
            &[],
        );
        let found = find_stores(&root, false, &[]);
        let store = &found.stores[0];
        assert_eq!(store.state_file(&root), None);
        assert!(store
            .state_candidates()
            .iter()
            .all(|f| !f.path.to_string_lossy().ends_with("-old")));
        std::fs::write(dir.path().join("var/lib/containers/storage/db.sql"), b"x").unwrap();
        let f = store.state_file(&root).unwrap();
        assert_eq!(f.path, Path::new("/var/lib/containers/storage/db.sql"));
    }

    /// Podman commit 13deb46d81 ("libpod: prefer sqlite in getDBState()", in 5.8.1 and
    /// later), `libpod/runtime.go`, `getDBState`: with `database_backend` unset an existing
    /// `db.sql` is used even when `bolt_state.db` exists too. Podman 6.0.0-rc1
    /// (d0c9bb1b49), same function: SQLite always; a `bolt_state.db` only makes podman
    /// refuse to run until it is migrated, so a lone one is still the only record.
    #[test]
    fn db_sql_wins_over_a_bolt_database_beside_it() {
        let (dir, root) = snapshot(
            &[("var/lib/containers/storage/libpod/bolt_state.db", "bolt")],
            &[],
        );
        let store = find_stores(&root, false, &[]).stores.remove(0);
        assert_eq!(store.state_file(&root).unwrap().format, StateFormat::Bolt);
        std::fs::write(dir.path().join("var/lib/containers/storage/db.sql"), b"x").unwrap();
        assert_eq!(store.state_file(&root).unwrap().format, StateFormat::Sqlite);
    }

    /// Podman 5.8.3 (93dbfd0d86), `libpod/runtime.go`, `getDBState`: `database_backend =
    /// "boltdb"` opens `bolt_state.db` whatever else exists, `"sqlite"` opens `db.sql`;
    /// `vendor/go.podman.io/common/pkg/config/db_backend.go`, `ParseDBBackend`: any other
    /// non-empty value is refused.
    #[test]
    fn database_backend_picks_the_database() {
        let conf = |backend: &str| {
            (
                "etc/containers/containers.conf",
                format!("[engine]\ndatabase_backend = \"{backend}\"\n"),
            )
        };
        let files = [
            ("var/lib/containers/storage/db.sql", "x".to_string()),
            (
                "var/lib/containers/storage/libpod/bolt_state.db",
                "x".into(),
            ),
        ];
        let found_with = |backend: &str| {
            let mut all: Vec<(&str, &str)> = files.iter().map(|(p, t)| (*p, t.as_str())).collect();
            let c = conf(backend);
            all.push((c.0, &c.1));
            let (dir, root) = snapshot(&all, &[]);
            let found = find_stores(&root, false, &[]);
            let file = found.stores[0].state_file(&root).map(|f| f.format);
            let errors: Vec<String> = found.errors.iter().map(|e| e.to_string()).collect();
            drop(dir);
            (found.stores[0].db_backend, file, errors)
        };
        assert_eq!(
            found_with("boltdb"),
            (DbBackend::Boltdb, Some(StateFormat::Bolt), vec![])
        );
        assert_eq!(
            found_with("sqlite"),
            (DbBackend::Sqlite, Some(StateFormat::Sqlite), vec![])
        );
        let (backend, file, errors) = found_with("mysql");
        assert_eq!(
            (backend, file),
            (DbBackend::Default, Some(StateFormat::Sqlite))
        );
        assert!(
            errors.len() == 1
                && errors[0].contains("containers.conf")
                && errors[0].contains("mysql"),
            "{errors:?}"
        );
        // `sqlite` never falls back to a BoltDB file.
        let (_d, root) = snapshot(
            &[
                ("var/lib/containers/storage/libpod/bolt_state.db", "x"),
                (
                    "etc/containers/containers.conf",
                    "[engine]\ndatabase_backend = \"sqlite\"\n",
                ),
            ],
            &[],
        );
        assert_eq!(
            find_stores(&root, false, &[]).stores[0].state_file(&root),
            None
        );
    }

    /// Podman 6.0.0-rc1 (d0c9bb1b49), `libpod/sqlite_state_internal.go`,
    /// `sqliteStatePath`: `db.sql` in the graph root, in `static_dir` only when
    /// containers.conf sets it (`makeRuntime` in `libpod/runtime.go` marks a defaulted one),
    /// in the run root with `transient_store`; `libpod/runtime_migrate.go`,
    /// `getBoltDBPath`: `bolt_state.db` in `static_dir` (default `<graphroot>/libpod`), in
    /// `tmp_dir` with `transient_store`.
    #[test]
    fn where_the_database_lives() {
        let first = |files: &[(&str, &str)]| {
            let (_d, root) = snapshot(files, &["var/lib/containers/storage"]);
            let found = find_stores(&root, false, &[]);
            assert!(found.errors.is_empty(), "{:?}", found.errors);
            let paths: Vec<PathBuf> = found.stores[0]
                .state_candidates()
                .into_iter()
                .map(|f| f.path)
                .collect();
            paths
        };
        assert_eq!(
            first(&[]),
            [
                PathBuf::from("/var/lib/containers/storage/db.sql"),
                PathBuf::from("/var/lib/containers/storage/libpod/bolt_state.db"),
            ]
        );
        assert_eq!(
            first(&[(
                "etc/containers/containers.conf",
                "[engine]\nstatic_dir = \"/srv/static\"\n"
            )]),
            [
                PathBuf::from("/srv/static/db.sql"),
                PathBuf::from("/srv/static/bolt_state.db"),
            ]
        );
        let transient = first(&[
            (
                "etc/containers/storage.conf",
                "[storage]\nrunroot = \"/run/rr\"\ntransient_store = true\n",
            ),
            (
                "etc/containers/containers.conf",
                "[engine]\nstatic_dir = \"/srv/static\"\ntmp_dir = \"/run/tmp\"\n",
            ),
        ]);
        assert_eq!(transient[0], Path::new("/run/rr/db.sql"));
        assert_eq!(
            transient.last().map(PathBuf::as_path),
            Some(Path::new("/run/tmp/bolt_state.db"))
        );
    }

    /// Podman 6.0.0-rc1 (d0c9bb1b49), `vendor/go.podman.io/storage/pkg/configfile/parse.go`,
    /// `Read` (the first main file only, then the drop-ins), `getDropInPathsUnderMain`
    /// (`<name>.rootful.conf.d` for uid 0, `<name>.rootless.conf.d` and its `<uid>/` for
    /// others), `readDropInsFromPaths` (a name in a later directory replaces the earlier
    /// file, which is then not read at all); `vendor/go.podman.io/storage/types/options.go`,
    /// `LoadStoreOptions` (a rootless user's `graphroot`, `runroot` and `transient_store`
    /// come from every file); `vendor/go.podman.io/storage/containers.go`,
    /// `newContainerStore` (the volatile list in the run root when transient).
    #[test]
    fn podman6_dropins_rootful_rootless_and_per_uid() {
        let (_d, root) = snapshot(
            &[
                ("etc/passwd", PASSWD_TEXT),
                // The vendor's main file is not read: /etc has one.
                (
                    "usr/share/containers/storage.conf",
                    "[storage]\ngraphroot = \"/srv/ignored\"\n",
                ),
                (
                    "etc/containers/storage.conf",
                    "[storage]\ndriver = \"vfs\"\n",
                ),
                (
                    "etc/containers/storage.rootful.conf.d/50-root.conf",
                    "[storage]\ngraphroot = \"/srv/root-store\"\n",
                ),
                (
                    "etc/containers/storage.rootless.conf.d/1000/50-alice.conf",
                    "[storage]\ngraphroot = \"/srv/users/$UID\"\n",
                ),
                (
                    "usr/share/containers/storage.rootless.conf.d/10-all.conf",
                    "[storage]\ntransient_store = true\n",
                ),
                (
                    "etc/containers/containers.rootful.conf.d/db.conf",
                    "[engine]\nstatic_dir = \"/srv/static\"\n",
                ),
                (
                    "usr/share/containers/containers.conf.d/20-x.conf",
                    "[engine]\ntmp_dir = \"/vendor-tmp\"\ndatabase_backend = \"boltdb\"\n",
                ),
                (
                    "etc/containers/containers.conf.d/20-x.conf",
                    "[engine]\ntmp_dir = \"/admin-tmp\"\n",
                ),
                (
                    "run/user/1001/containers/vfs-containers/volatile-containers.json",
                    "[]",
                ),
            ],
            &[
                "srv/root-store",
                "srv/users/1000",
                "home/bob/.local/share/containers/storage/vfs-containers",
            ],
        );
        let found = find_stores(&root, true, &[]);
        assert!(found.errors.is_empty(), "{:?}", found.errors);
        let r = store_of(&found, &StoreKind::Root);
        assert_eq!(
            (
                r.graph_root.as_path(),
                r.driver.as_deref(),
                r.transient,
                r.static_dir.as_deref(),
                r.tmp_dir.as_deref(),
                r.db_backend,
            ),
            (
                Path::new("/srv/root-store"),
                Some("vfs"),
                false,
                Some(Path::new("/srv/static")),
                Some(Path::new("/admin-tmp")),
                DbBackend::Default,
            )
        );
        let a = store_of(&found, &alice());
        assert_eq!(
            (a.graph_root.as_path(), a.transient, a.static_dir.as_deref()),
            (Path::new("/srv/users/1000"), true, None)
        );
        let b = store_of(&found, &StoreKind::Rootless { user: "bob".into() });
        assert_eq!(
            (b.graph_root.as_path(), b.transient, b.run_root.as_deref()),
            (
                Path::new("/home/bob/.local/share/containers/storage"),
                true,
                Some(Path::new("/run/user/1001/containers"))
            )
        );
        assert_eq!(
            b.state_candidates()[0].path,
            Path::new("/run/user/1001/containers/db.sql")
        );
        assert!(
            crate::libpod::storage::list_files(&root, b).contains(&PathBuf::from(
                "/run/user/1001/containers/vfs-containers/volatile-containers.json"
            ))
        );
        // Every drop-in directory podman 6 searches is watched, present or not.
        assert!(found.config_dirs.iter().any(|(d, st)| d
            == Path::new("/etc/containers/storage.rootless.conf.d/1001")
            && st.is_none()));
    }

    /// Podman 5.8.3 (93dbfd0d86), `vendor/go.podman.io/storage/types/options.go`,
    /// `loadStoreOptionsFromConfFile`: a rootless user without a `storage.conf` of their own
    /// ignores the system file's `graphroot` and `runroot`; podman 6.0.0-rc1 (d0c9bb1b49),
    /// same package, `LoadStoreOptions`, would take them. Podman 5's distribution files set
    /// them, so where podman 6's reading names the root store, podman 5's is used.
    #[test]
    fn podman5_system_storage_conf_does_not_move_rootless_stores() {
        let (_d, root) = snapshot(
            &[
                ("etc/passwd", PASSWD_TEXT),
                (
                    "usr/share/containers/storage.conf",
                    "[storage]\ndriver = \"overlay\"\nrunroot = \"/run/containers/storage\"\n\
                     graphroot = \"/var/lib/containers/storage\"\n",
                ),
            ],
            &[
                "var/lib/containers/storage",
                "home/alice/.local/share/containers/storage",
            ],
        );
        let found = find_stores(&root, true, &[]);
        assert!(found.errors.is_empty(), "{:?}", found.errors);
        assert_eq!(found.stores.len(), 2);
        let a = store_of(&found, &alice());
        assert_eq!(
            (
                a.graph_root.as_path(),
                a.run_root.as_deref(),
                a.driver.as_deref()
            ),
            (
                Path::new("/home/alice/.local/share/containers/storage"),
                Some(Path::new("/run/user/1000/containers")),
                Some("overlay")
            )
        );
    }

    /// Podman 5.8.3 (93dbfd0d86), `vendor/go.podman.io/common/pkg/config/new.go`,
    /// `systemConfigs`: rootless users also read `/etc/containers/containers.rootless.conf`
    /// and every main file is layered; podman 6.0.0-rc1 (d0c9bb1b49),
    /// `contrib/design-docs/config-file-parsing.md` and `configfile.Read`: that file is no
    /// longer read, and only the first main file is. Podman 5's database is the fallback
    /// when podman 6's does not exist.
    #[test]
    fn podman5_containers_conf_gives_the_fallback_database() {
        let (dir, root) = snapshot(
            &[
                ("etc/passwd", PASSWD_TEXT),
                (
                    "etc/containers/containers.rootless.conf",
                    "[engine]\nstatic_dir = \"/srv/p5/$UID\"\n",
                ),
            ],
            &["home/alice/.local/share/containers/storage", "srv/p5/1000"],
        );
        let found = find_stores(&root, true, &[]);
        assert!(found.errors.is_empty(), "{:?}", found.errors);
        let a = store_of(&found, &alice());
        assert_eq!(a.static_dir, None);
        assert_eq!(
            a.podman5.as_ref().and_then(|p| p.static_dir.as_deref()),
            Some(Path::new("/srv/p5/1000"))
        );
        std::fs::write(dir.path().join("srv/p5/1000/db.sql"), b"x").unwrap();
        assert_eq!(
            a.state_file(&root).unwrap().path,
            Path::new("/srv/p5/1000/db.sql")
        );
        let podman6_db = dir
            .path()
            .join("home/alice/.local/share/containers/storage/db.sql");
        std::fs::write(podman6_db, b"x").unwrap();
        assert_eq!(
            a.state_file(&root).unwrap().path,
            Path::new("/home/alice/.local/share/containers/storage/db.sql")
        );
    }

    #[test]
    fn clean_absolute_paths() {
        assert_eq!(clean_abs("/a/./b/"), Some(PathBuf::from("/a/b")));
        assert_eq!(clean_abs("/a/../b"), None);
        assert_eq!(clean_abs("rel"), None);
    }

    proptest::proptest! {
        /// Any text is a clean absolute path or refused, never a panic.
        #[test]
        fn odd_paths_never_panic(text in "\\PC{0,300}") {
            if let Some(p) = clean_abs(&text) {
                proptest::prop_assert!(p.is_absolute());
                proptest::prop_assert!(!p.components().any(|c| c == Component::ParentDir));
            }
        }
    }
}
