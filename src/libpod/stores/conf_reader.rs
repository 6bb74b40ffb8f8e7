//! Reading the configuration files for [`find_stores`](super::find_stores): each file and
//! drop-in directory once however many users share it, stamped for change detection, and
//! layered as podman 6 and podman 5 layer them.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use super::{FoundStores, Store, StoreConfigError};
use crate::host::HostRoot;
use crate::libpod::config_files::{self, ConfUser, Layer, SYSTEM_STORAGE_CONF};
use crate::libpod::config_keys::{EngineKeys, StorageConf};

/// What reading one configuration file gave.
#[derive(Debug, Clone)]
pub(super) enum ConfRead<T> {
    /// It does not exist.
    Missing,
    /// It exists but could not be used (the error is recorded).
    Unusable,
    /// Its keys.
    Keys(T),
}

/// Reads configuration files for [`find_stores`](super::find_stores): each file and drop-in directory once,
/// however many users share it, stamped for change detection.
pub(super) struct ConfReader<'r> {
    root: &'r HostRoot,
    pub(super) found: FoundStores,
    engine: HashMap<PathBuf, ConfRead<EngineKeys>>,
    storage: HashMap<PathBuf, ConfRead<StorageConf>>,
    /// Each drop-in directory listed: its `*.conf` names, `None` when it does not exist.
    dirs: HashMap<PathBuf, Option<Vec<String>>>,
}

impl<'r> ConfReader<'r> {
    pub(super) fn new(root: &'r HostRoot) -> Self {
        ConfReader {
            root,
            found: FoundStores::default(),
            engine: HashMap::new(),
            storage: HashMap::new(),
            dirs: HashMap::new(),
        }
    }

    fn parse_file<T: Clone>(
        root: &HostRoot,
        found: &mut FoundStores,
        cache: &mut HashMap<PathBuf, ConfRead<T>>,
        path: &Path,
        parse: fn(&str) -> Result<T, String>,
    ) -> ConfRead<T> {
        if let Some(done) = cache.get(path) {
            return done.clone();
        }
        let read = match found.consult(root, path) {
            Ok(None) => ConfRead::Missing,
            Ok(Some(text)) => match parse(&text) {
                Ok(keys) => ConfRead::Keys(keys),
                Err(reason) => {
                    found.errors.push(StoreConfigError::Invalid {
                        path: path.to_path_buf(),
                        reason,
                    });
                    ConfRead::Unusable
                }
            },
            Err(e) => {
                found.errors.push(e.into());
                ConfRead::Unusable
            }
        };
        cache.insert(path.to_path_buf(), read.clone());
        read
    }

    fn engine_file(&mut self, path: &Path) -> ConfRead<EngineKeys> {
        Self::parse_file(
            self.root,
            &mut self.found,
            &mut self.engine,
            path,
            EngineKeys::parse,
        )
    }

    pub(super) fn storage_file(&mut self, path: &Path) -> ConfRead<StorageConf> {
        Self::parse_file(
            self.root,
            &mut self.found,
            &mut self.storage,
            path,
            StorageConf::parse,
        )
    }

    /// A drop-in directory's `*.conf` names, sorted (none when it does not exist).
    ///
    /// A directory inside a drop-in directory already found absent (a per-uid one) is not
    /// watched: creating it changes its parent's stamp first.
    fn dropin_names(&mut self, dir: &Path) -> Vec<String> {
        if let Some(names) = self.dirs.get(dir) {
            return names.clone().unwrap_or_default();
        }
        if dir
            .parent()
            .is_some_and(|p| matches!(self.dirs.get(p), Some(None)))
        {
            return Vec::new();
        }
        let stamp = self.root.listing_stamp(dir);
        self.found.config_dirs.push((dir.to_path_buf(), stamp));
        let mut names: Vec<String> = match stamp {
            None => {
                self.dirs.insert(dir.to_path_buf(), None);
                return Vec::new();
            }
            Some(_) => self
                .root
                .read_dir_names(dir)
                .unwrap_or_default()
                .into_iter()
                .filter_map(|n| n.into_string().ok())
                .filter(|n| n.ends_with(".conf"))
                .filter(|n| !self.root.metadata(dir.join(n)).is_ok_and(|m| m.is_dir()))
                .collect(),
        };
        names.sort();
        self.dirs.insert(dir.to_path_buf(), Some(names.clone()));
        names
    }

    /// Podman 6's layers of `name`.conf for `user`: the first main file that exists, then
    /// the merged drop-ins.
    fn podman6_layers<T>(
        &mut self,
        name: &str,
        user: ConfUser<'_>,
        read: fn(&mut Self, &Path) -> ConfRead<T>,
    ) -> Vec<T> {
        let mut out = Vec::new();
        for main in config_files::podman6_main_files(name, user) {
            match read(self, &main) {
                ConfRead::Missing => continue,
                ConfRead::Unusable => break,
                ConfRead::Keys(keys) => {
                    out.push(keys);
                    break;
                }
            }
        }
        let listings: Vec<(PathBuf, Vec<String>)> = config_files::podman6_dropin_dirs(name, user)
            .into_iter()
            .map(|dir| {
                let names = self.dropin_names(&dir);
                (dir, names)
            })
            .collect();
        for file in config_files::podman6_merge_dropins(&listings) {
            if let ConfRead::Keys(keys) = read(self, &file) {
                out.push(keys);
            }
        }
        out
    }

    /// `[engine]` keys as podman 6 reads them for `user`.
    pub(super) fn engine6(&mut self, user: ConfUser<'_>) -> EngineKeys {
        let mut keys = EngineKeys::default();
        for layer in self.podman6_layers("containers", user, Self::engine_file) {
            keys.apply(&layer);
        }
        keys
    }

    /// `[engine]` keys as podman 5 reads them for `user`.
    pub(super) fn engine5(&mut self, user: ConfUser<'_>) -> EngineKeys {
        let mut keys = EngineKeys::default();
        for layer in config_files::podman5_containers_conf(user) {
            let files = match layer {
                Layer::File(f) => vec![f],
                Layer::Dir(d) => self
                    .dropin_names(&d)
                    .into_iter()
                    .map(|n| d.join(n))
                    .collect(),
            };
            for f in files {
                if let ConfRead::Keys(k) = self.engine_file(&f) {
                    keys.apply(&k);
                }
            }
        }
        keys
    }

    /// `[storage]` keys as podman 6 reads them for `user`.
    pub(super) fn storage6(&mut self, user: ConfUser<'_>) -> StorageConf {
        let mut keys = StorageConf::default();
        for layer in self.podman6_layers("storage", user, Self::storage_file) {
            keys.apply(&layer);
        }
        keys
    }

    /// `[storage]` keys of the system file podman 5 reads: `/etc`'s, else `/usr/share`'s.
    pub(super) fn storage5_system(&mut self) -> StorageConf {
        for path in SYSTEM_STORAGE_CONF {
            match self.storage_file(Path::new(path)) {
                ConfRead::Missing => continue,
                ConfRead::Unusable => break,
                ConfRead::Keys(keys) => return keys,
            }
        }
        StorageConf::default()
    }

    /// Of the store podman 6 would use and podman 5's, the first whose graph root exists
    /// and is not already listed; podman 5's is kept inside podman 6's when both name the
    /// same graph root but differ otherwise.
    pub(super) fn choose(&self, podman6: Store, podman5: Store) -> Option<Store> {
        let usable = |s: &Store| {
            self.root.metadata(&s.graph_root).is_ok_and(|m| m.is_dir())
                && !self
                    .found
                    .stores
                    .iter()
                    .any(|f| f.graph_root == s.graph_root)
        };
        if usable(&podman6) {
            let podman5 = (podman5.graph_root == podman6.graph_root && podman5 != podman6)
                .then(|| Box::new(podman5));
            Some(Store { podman5, ..podman6 })
        } else if usable(&podman5) {
            Some(podman5)
        } else {
            None
        }
    }
}
