//! The container stores of a host: where each one's graph root, run root and state live.
//!
//! The root store comes from `/etc/containers/storage.conf` (else
//! `/usr/share/containers/storage.conf`, else the built-in defaults); every user listed in
//! `/etc/passwd` whose rootless store exists adds one (honouring the user's own
//! `~/.config/containers/storage.conf` and the system's `rootless_storage_path`); stores
//! named explicitly are added as they are. A store knows which libpod database podman would
//! use, the way podman 5 chooses it: `db.sql` before `bolt_state.db`.

use std::path::{Component, Path, PathBuf};

use nom::bytes::complete::take_till;
use nom::character::complete::{char, digit1};
use nom::combinator::map_res;
use nom::IResult;
use nom::Parser;
use serde::{Deserialize, Serialize};

use super::discover::FileStamp;
use crate::host::{HostError, HostRoot};

/// The system storage configuration files, in the order containers/storage tries them.
pub const SYSTEM_STORAGE_CONF: [&str; 2] = [
    "/etc/containers/storage.conf",
    "/usr/share/containers/storage.conf",
];
/// The root store's graph root when no configuration names one.
pub const DEFAULT_GRAPH_ROOT: &str = "/var/lib/containers/storage";
/// The root store's run root when no configuration names one.
pub const DEFAULT_RUN_ROOT: &str = "/run/containers/storage";
/// The user database that maps homes to uids.
pub const PASSWD: &str = "/etc/passwd";

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
    /// The store owner's uid: the directory's owner on a live host, the uid whose home
    /// holds it in a snapshot (0 for the root store).
    pub uid: Option<u32>,
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
    /// them; the first that exists is the store's state.
    pub fn state_candidates(&self) -> Vec<StateFile> {
        let sqlite = |dir: &Path| StateFile {
            format: StateFormat::Sqlite,
            path: dir.join("db.sql"),
        };
        let bolt = |dir: &Path| StateFile {
            format: StateFormat::Bolt,
            path: dir.join("bolt_state.db"),
        };
        if self.transient {
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
        }
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

/// `storage.conf`'s `[storage]` keys that matter here.
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(default)]
pub struct StorageConf {
    /// `driver`.
    pub driver: Option<String>,
    /// `graphroot`.
    pub graphroot: Option<String>,
    /// `runroot`.
    pub runroot: Option<String>,
    /// `rootless_storage_path`.
    pub rootless_storage_path: Option<String>,
    /// `transient_store`.
    pub transient_store: Option<bool>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct StorageConfFile {
    storage: StorageConf,
}

impl StorageConf {
    /// Parses a `storage.conf` (unknown keys and tables are ignored).
    pub fn parse(text: &str) -> Result<Self, String> {
        toml::from_str::<StorageConfFile>(&blank_comment_lines(text))
            .map(|f| f.storage)
            .map_err(|e| e.to_string().trim_end().to_string())
    }

    /// Reads and parses a `storage.conf`; `Ok(None)` when it does not exist.
    pub fn read(root: &HostRoot, path: &Path) -> Result<Option<Self>, StoreConfigError> {
        match root.read_to_string(path) {
            Ok(text) => Self::parse(&text)
                .map(Some)
                .map_err(|reason| StoreConfigError::Invalid {
                    path: path.to_path_buf(),
                    reason,
                }),
            Err(e) if e.is_not_found() => Ok(None),
            Err(e) => Err(e.into()),
        }
    }
}

/// `text` with every comment-only line emptied (its line break kept, so the parser's
/// line numbers stay right), when that cannot change what the TOML means.
///
/// The shipped `containers.conf` and `storage.conf` are hundreds of commented-out lines
/// around a few keys; the TOML parser spends most of its time validating those comments
/// (about 0.7 M instructions for the 24 KB `containers.conf`, read on every discovery).
/// A line whose first non-blank character is `#` is wholly a comment unless it sits inside
/// a multi-line string, and such a string opens on a line that is not a comment: so when
/// no other line holds a `"""` or `'''`, there is none, and otherwise nothing is changed.
/// Nor is a text with a control character other than tab and newline (a comment holding
/// one is invalid, and a CR belongs to a line end only when a LF follows): the parser
/// judges those.
fn blank_comment_lines(text: &str) -> std::borrow::Cow<'_, str> {
    let bytes = text.as_bytes();
    if has_control(bytes) {
        return std::borrow::Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len());
    let mut blanked = false;
    let mut start = 0usize;
    while let Some(rest) = text.get(start..).filter(|r| !r.is_empty()) {
        let len = memchr::memchr(b'\n', rest.as_bytes()).map_or(rest.len(), |i| i + 1);
        let line = rest.get(..len).unwrap_or(rest);
        start += len;
        let content = line.strip_suffix('\n').unwrap_or(line);
        if content.trim_start_matches([' ', '\t']).starts_with('#') {
            out.push_str(line.get(content.len()..).unwrap_or_default());
            blanked = true;
        } else if has_triple_quote(content.as_bytes()) {
            return std::borrow::Cow::Borrowed(text);
        } else {
            out.push_str(line);
        }
    }
    if blanked {
        std::borrow::Cow::Owned(out)
    } else {
        std::borrow::Cow::Borrowed(text)
    }
}

/// True when `bytes` holds a control character other than tab and newline (DEL counts).
fn has_control(bytes: &[u8]) -> bool {
    // Branch-free over fixed chunks, so that it runs in wide steps.
    bytes.chunks(64).any(|chunk| {
        chunk.iter().fold(false, |seen, &b| {
            seen | ((b < 0x20) & (b != b'\t') & (b != b'\n')) | (b == 0x7f)
        })
    })
}

/// True when `line` holds `"""` or `'''` (a multi-line string's delimiter).
fn has_triple_quote(line: &[u8]) -> bool {
    line.windows(3).any(|w| w == b"\"\"\"" || w == b"'''")
}

/// containers.conf `[engine]` keys that move libpod's database.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct EngineDirs {
    /// `static_dir`.
    pub static_dir: Option<String>,
    /// `tmp_dir`.
    pub tmp_dir: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct EngineSection {
    static_dir: Option<String>,
    tmp_dir: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct ContainersConfFile {
    engine: EngineSection,
}

/// The system containers.conf files in the order podman layers them (later keys win).
pub const SYSTEM_CONTAINERS_CONF: [&str; 2] = [
    "/usr/share/containers/containers.conf",
    "/etc/containers/containers.conf",
];

impl EngineDirs {
    /// Layers the `[engine]` keys of `files` (missing ones skipped; each later key wins);
    /// `dropin_dirs` add their `*.conf` files, in name order, after the files.
    fn layered(root: &HostRoot, files: &[PathBuf], found: &mut FoundStores) -> Self {
        let mut out = EngineDirs::default();
        for file in files {
            let text = match found.consult(root, file) {
                Ok(Some(t)) => t,
                Ok(None) => continue,
                Err(e) => {
                    found.errors.push(e.into());
                    continue;
                }
            };
            match toml::from_str::<ContainersConfFile>(&blank_comment_lines(&text)) {
                Ok(conf) => {
                    if conf.engine.static_dir.is_some() {
                        out.static_dir = conf.engine.static_dir;
                    }
                    if conf.engine.tmp_dir.is_some() {
                        out.tmp_dir = conf.engine.tmp_dir;
                    }
                }
                Err(e) => found.errors.push(StoreConfigError::Invalid {
                    path: file.clone(),
                    reason: e.to_string().trim_end().to_string(),
                }),
            }
        }
        out
    }
}

/// A directory's `*.conf` files in name order (drop-ins).
fn dropins(root: &HostRoot, dir: &Path) -> Vec<PathBuf> {
    root.read_dir_names(dir)
        .unwrap_or_default()
        .into_iter()
        .filter_map(|n| n.into_string().ok())
        .filter(|n| n.ends_with(".conf"))
        .map(|n| dir.join(n))
        .collect()
}

fn system_containers_confs(root: &HostRoot) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = SYSTEM_CONTAINERS_CONF.iter().map(PathBuf::from).collect();
    files.extend(dropins(
        root,
        Path::new("/etc/containers/containers.conf.d"),
    ));
    files
}

/// One `/etc/passwd` entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PasswdEntry {
    /// The user name.
    pub name: String,
    /// The uid.
    pub uid: u32,
    /// The home directory.
    pub home: PathBuf,
}

fn field(input: &str) -> IResult<&str, &str> {
    take_till(|c| c == ':').parse(input)
}

fn passwd_line(input: &str) -> IResult<&str, PasswdEntry> {
    let (input, (name, _, _pw, _, uid, _, _gid, _, _gecos, _, home)) = (
        field,
        char(':'),
        field,
        char(':'),
        map_res(digit1, str::parse::<u32>),
        char(':'),
        field,
        char(':'),
        field,
        char(':'),
        field,
    )
        .parse(input)?;
    Ok((
        input,
        PasswdEntry {
            name: name.to_string(),
            uid,
            home: PathBuf::from(home),
        },
    ))
}

/// The entries of an `/etc/passwd` text; comments, NIS `+`/`-` lines and malformed lines
/// are skipped (a user we cannot parse simply has no store found).
pub fn parse_passwd(text: &str) -> Vec<PasswdEntry> {
    text.lines()
        .filter(|l| !l.starts_with('#') && !l.starts_with('+') && !l.starts_with('-'))
        .filter_map(|l| passwd_line(l).ok().map(|(_, e)| e))
        .filter(|e| !e.name.is_empty() && e.home.is_absolute())
        .collect()
}

/// Expands `$HOME`, `${HOME}`, `$UID` and `${UID}` as containers/storage does.
pub fn expand(value: &str, home: &Path, uid: u32) -> String {
    let home = home.to_string_lossy();
    let uid = uid.to_string();
    value
        .replace("${HOME}", &home)
        .replace("$HOME", &home)
        .replace("${UID}", &uid)
        .replace("$UID", &uid)
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
}

impl FoundStores {
    /// Stamps a configuration file, then reads it: its text, or `None` when it does not
    /// exist.
    fn consult(&mut self, root: &HostRoot, path: &Path) -> Result<Option<String>, HostError> {
        let stamp = root.metadata(path).ok().map(|m| FileStamp::of(&m));
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

    /// Like [`consult`](Self::consult), parsing a `storage.conf`.
    fn consult_storage_conf(
        &mut self,
        root: &HostRoot,
        path: &Path,
    ) -> Result<Option<StorageConf>, StoreConfigError> {
        match self.consult(root, path)? {
            Some(text) => {
                StorageConf::parse(&text)
                    .map(Some)
                    .map_err(|reason| StoreConfigError::Invalid {
                        path: path.to_path_buf(),
                        reason,
                    })
            }
            None => Ok(None),
        }
    }
}

/// Finds the stores under `root`. `rootless` adds users' rootless stores; `extra` are graph
/// roots named explicitly, and so are those a snapshot root recorded at capture
/// ([`SnapshotMeta::extra_stores`](crate::snapshot::SnapshotMeta)); an explicit one that is
/// also found otherwise is listed once.
pub fn find_stores(root: &HostRoot, rootless: bool, extra: &[PathBuf]) -> FoundStores {
    let mut found = FoundStores::default();
    let mut system = StorageConf::default();
    for path in SYSTEM_STORAGE_CONF {
        match found.consult_storage_conf(root, Path::new(path)) {
            Ok(Some(conf)) => {
                system = conf;
                break;
            }
            Ok(None) => {}
            Err(e) => {
                found.errors.push(e);
                break;
            }
        }
    }
    let users = match found.consult(root, Path::new(PASSWD)) {
        Ok(Some(text)) => parse_passwd(&text),
        Ok(None) => Vec::new(),
        Err(e) => {
            found.errors.push(e.into());
            Vec::new()
        }
    };

    let system_confs = system_containers_confs(root);
    let engine = EngineDirs::layered(root, &system_confs, &mut found);
    let graph_root = system
        .graphroot
        .as_deref()
        .and_then(clean_abs)
        .unwrap_or_else(|| PathBuf::from(DEFAULT_GRAPH_ROOT));
    let run_root = system
        .runroot
        .as_deref()
        .and_then(clean_abs)
        .unwrap_or_else(|| PathBuf::from(DEFAULT_RUN_ROOT));
    if root.metadata(&graph_root).is_ok_and(|m| m.is_dir()) {
        let uid = owner_uid(root, &graph_root, &users, Some(0));
        found.stores.push(Store {
            kind: StoreKind::Root,
            graph_root,
            run_root: Some(run_root),
            driver: system.driver.clone().filter(|d| is_driver_name(d)),
            transient: system.transient_store.unwrap_or(false),
            static_dir: engine.static_dir.as_deref().and_then(clean_abs),
            tmp_dir: engine.tmp_dir.as_deref().and_then(clean_abs),
            uid,
        });
    }

    if rootless {
        let mut users_sorted = users.clone();
        users_sorted.sort_by(|a, b| a.name.cmp(&b.name));
        for user in users_sorted.iter().filter(|u| u.uid != 0) {
            let user_conf_path = user.home.join(".config/containers/storage.conf");
            let user_conf = match found.consult_storage_conf(root, &user_conf_path) {
                Ok(c) => c,
                Err(e) => {
                    found.errors.push(e);
                    None
                }
            };
            let mut confs = system_confs.clone();
            let user_dir = user.home.join(".config/containers");
            confs.push(user_dir.join("containers.conf"));
            confs.extend(dropins(root, &user_dir.join("containers.conf.d")));
            let engine = EngineDirs::layered(root, &confs, &mut found);
            let mut store = rootless_store(user, user_conf.as_ref(), &system);
            let expand_dir = |v: &Option<String>| {
                v.as_deref()
                    .map(|s| expand(s, &user.home, user.uid))
                    .as_deref()
                    .and_then(clean_abs)
            };
            store.static_dir = expand_dir(&engine.static_dir);
            store.tmp_dir = expand_dir(&engine.tmp_dir);
            if root.metadata(&store.graph_root).is_ok_and(|m| m.is_dir())
                && !found
                    .stores
                    .iter()
                    .any(|s| s.graph_root == store.graph_root)
            {
                let uid = owner_uid(root, &store.graph_root, &users, Some(user.uid));
                found.stores.push(Store { uid, ..store });
            }
        }
    }

    // A broken snapshot.json is reported by whoever needs its other facts; here it only
    // means no recorded stores.
    let recorded = root
        .snapshot_meta()
        .ok()
        .flatten()
        .map(|meta| meta.extra_stores)
        .unwrap_or_default();
    for path in extra.iter().chain(&recorded) {
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
        let uid = owner_uid(root, &graph_root, &users, None);
        found.stores.push(Store {
            kind: StoreKind::Explicit,
            graph_root,
            run_root: None,
            driver: None,
            transient: false,
            static_dir: None,
            tmp_dir: None,
            uid,
        });
    }
    found
}

/// A storage driver name that can safely become part of a directory name (`overlay`, `vfs`).
pub fn is_driver_name(d: &str) -> bool {
    !d.is_empty() && d.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
}

fn rootless_store(
    user: &PasswdEntry,
    user_conf: Option<&StorageConf>,
    system: &StorageConf,
) -> Store {
    let default_graph = user.home.join(".local/share/containers/storage");
    let expand_path = |v: &Option<String>| {
        v.as_deref()
            .map(|s| expand(s, &user.home, user.uid))
            .as_deref()
            .and_then(clean_abs)
    };
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
        uid: Some(user.uid),
    }
}

/// The owner of a store: on a live host the directory's owner; in a snapshot (which keeps
/// no owners) the uid whose home holds it, else `fallback`.
fn owner_uid(
    root: &HostRoot,
    graph_root: &Path,
    users: &[PasswdEntry],
    fallback: Option<u32>,
) -> Option<u32> {
    use std::os::unix::fs::MetadataExt;
    if root.is_live() {
        return root.metadata(graph_root).ok().map(|m| m.uid()).or(fallback);
    }
    users
        .iter()
        .filter(|u| u.home != Path::new("/") && graph_root.starts_with(&u.home))
        .max_by_key(|u| u.home.components().count())
        .map(|u| u.uid)
        .or(fallback)
        .or_else(|| graph_root.starts_with(DEFAULT_GRAPH_ROOT).then_some(0))
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

    const PASSWD_TEXT: &str = "root:x:0:0:root:/root:/bin/bash\n\
        # comment\n\
        alice:x:1000:1000:Alice,,,:/home/alice:/bin/bash\n\
        bob:x:1001:1001::/home/bob:/bin/sh\n\
        broken line\n\
        carol:x:notanumber:1:c:/home/carol:/bin/sh\n";

    #[test]
    fn passwd_entries() {
        let users = parse_passwd(PASSWD_TEXT);
        let names: Vec<_> = users.iter().map(|u| (u.name.as_str(), u.uid)).collect();
        assert_eq!(names, [("root", 0), ("alice", 1000), ("bob", 1001)]);
        assert_eq!(users[1].home, Path::new("/home/alice"));
    }

    #[test]
    fn storage_conf_keys() {
        let conf = StorageConf::parse(
            "[storage]\ndriver = \"vfs\"\ngraphroot = \"/srv/g\"\ntransient_store = true\n\
             [storage.options]\nmount_program = \"/x\"\n",
        )
        .unwrap();
        assert_eq!(conf.driver.as_deref(), Some("vfs"));
        assert_eq!(conf.graphroot.as_deref(), Some("/srv/g"));
        assert_eq!(conf.transient_store, Some(true));
        assert!(StorageConf::parse("[storage\n").is_err());
    }

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
            uid: Some(0),
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

    #[test]
    fn expansion() {
        assert_eq!(
            expand("$HOME/x/${UID}/$UID", Path::new("/home/a"), 7),
            "/home/a/x/7/7"
        );
        assert_eq!(clean_abs("/a/../b"), None);
        assert_eq!(clean_abs("rel"), None);
    }

    /// What a TOML text means to us, parsed as it is, not through `blank_comment_lines`.
    fn engine_as_is(text: &str) -> Result<(Option<String>, Option<String>), String> {
        toml::from_str::<ContainersConfFile>(text)
            .map(|c| (c.engine.static_dir, c.engine.tmp_dir))
            .map_err(|e| e.to_string())
    }

    fn engine_blanked(text: &str) -> Result<(Option<String>, Option<String>), String> {
        toml::from_str::<ContainersConfFile>(&blank_comment_lines(text))
            .map(|c| (c.engine.static_dir, c.engine.tmp_dir))
            .map_err(|e| e.to_string())
    }

    #[test]
    fn comment_lines_are_blanked_only_when_that_changes_nothing() {
        let text = "# head\n[engine]\n  # indented\n\tstatic_dir = \"/s\" # tail\n#";
        assert_eq!(
            blank_comment_lines(text),
            "\n[engine]\n\n\tstatic_dir = \"/s\" # tail\n"
        );
        // CRLF line ends are left to the parser.
        let crlf = "# head\r\n[engine]\r\n";
        assert_eq!(blank_comment_lines(crlf), crlf);
        // Inside a multi-line string a `#` line is text: nothing is touched.
        let multi = "[engine]\nstatic_dir = \"\"\"\n# not a comment\"\"\"\n";
        assert_eq!(blank_comment_lines(multi), multi);
        assert_eq!(
            engine_blanked(multi).unwrap().0.as_deref(),
            Some("# not a comment")
        );
        // A comment with a control character stays, for the parser to refuse.
        let bad = "# bell \u{7}\n[engine]\n";
        assert_eq!(blank_comment_lines(bad), bad);
        assert!(engine_blanked(bad).is_err());
        // An error after blanked lines names the same line.
        let late = "# a\n# b\n[engine]\nstatic_dir = \n";
        assert_eq!(engine_blanked(late), engine_as_is(late));
        // The shipped containers.conf reads the same both ways.
        if let Ok(shipped) = std::fs::read_to_string("/usr/share/containers/containers.conf") {
            assert_eq!(engine_blanked(&shipped), engine_as_is(&shipped));
        }
    }

    proptest::proptest! {
        /// Blanking comment lines never changes what a configuration means: the same keys,
        /// or the same error, for texts made of comments, keys, arrays, multi-line strings
        /// and broken lines.
        #[test]
        fn blanking_comments_keeps_the_meaning(
            lines in proptest::collection::vec(
                proptest::sample::select(vec![
                    "# comment", "  # indented comment", "#", "# \"\"\" in a comment",
                    "[engine]", "[containers]", "static_dir = \"/a\"", "tmp_dir = '/t'",
                    "static_dir = \"\"\"", "# inside?", "\"\"\"", "x = [", "  1, # one",
                    "]", "broken =", "# tab\there", "# ctrl \u{1}", "engine.tmp_dir = \"/d\"",
                    "",
                ]),
                0..12,
            ),
            crlf in proptest::bool::ANY,
        ) {
            let text = lines.join(if crlf { "\r\n" } else { "\n" });
            proptest::prop_assert_eq!(engine_blanked(&text), engine_as_is(&text));
        }

        /// Any text as /etc/passwd or storage.conf is parsed or refused, never a panic, and
        /// every entry found has an absolute home.
        #[test]
        fn odd_config_text_never_panics(text in "\\PC{0,300}") {
            for e in parse_passwd(&text) {
                proptest::prop_assert!(e.home.is_absolute());
            }
            let _ = StorageConf::parse(&text);
            let _ = expand(&text, Path::new("/home/x"), 7);
            if let Some(p) = clean_abs(&text) {
                proptest::prop_assert!(p.is_absolute());
                proptest::prop_assert!(!p.components().any(|c| c == Component::ParentDir));
            }
        }
    }
}
