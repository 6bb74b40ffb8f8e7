//! The host root: the one place where host paths become file-system paths.
//!
//! Everything the library reads (cgroupfs, `/proc`, libpod state, `storage.conf`) is named by
//! its absolute *host* path (`/sys/fs/cgroup/memory/...`) and opened through a [`HostRoot`].
//! On a live host the root is `/`; in tests and replays it is a snapshot directory that
//! mirrors the host's paths. Resolution is confined: `..` stops at the root and symlinks are
//! followed *inside* the root (an absolute link target is re-rooted), so nothing a snapshot
//! or a database holds can make the reader leave its root.

use std::ffi::OsString;
use std::fs::{File, Metadata};
use std::io::{self, Read};
use std::os::unix::ffi::OsStrExt;
use std::path::{Component, Path, PathBuf};

use crate::snapshot::SnapshotMeta;

/// Most symlinks followed while resolving one path (the kernel's own limit).
const MAX_SYMLINKS: usize = 40;

/// An I/O error on a host path, carrying the host path and the root it was read under.
#[derive(Debug, thiserror::Error)]
#[error("{}: {source}", display_path(root, path))]
pub struct HostError {
    /// The root the path was resolved under (`/` on a live host).
    pub root: PathBuf,
    /// The host path that failed, as the caller named it.
    pub path: PathBuf,
    /// What the operating system said.
    #[source]
    pub source: io::Error,
}

impl HostError {
    /// The `io::ErrorKind` of the cause, for callers that treat "not found" specially.
    pub fn kind(&self) -> io::ErrorKind {
        self.source.kind()
    }

    /// True when the file or a directory above it does not exist (ENOENT, ENOTDIR), or the
    /// cgroup behind a held file was removed (ENODEV).
    pub fn is_not_found(&self) -> bool {
        matches!(
            self.source.raw_os_error(),
            Some(libc::ENOENT) | Some(libc::ENOTDIR) | Some(libc::ENODEV)
        ) || self.source.kind() == io::ErrorKind::NotFound
    }
}

fn display_path(root: &Path, path: &Path) -> String {
    if root == Path::new("/") {
        path.display().to_string()
    } else {
        let rel = path.strip_prefix("/").unwrap_or(path);
        format!(
            "{} (under root {})",
            root.join(rel).display(),
            root.display()
        )
    }
}

/// The directory all host paths resolve under.
///
/// Every reader of the library takes one, so the code that reads a live host (`/`) is the
/// code tests run over a snapshot:
///
/// ```
/// use libpod_stats::host::HostRoot;
///
/// // A snapshot captured from real podman; `HostRoot::live()` would read this machine.
/// let snapshot = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/cgroupv1/series-podman/000");
/// let root = HostRoot::new(snapshot)?;
/// let meminfo = root.read_to_string("/proc/meminfo")?;
/// assert!(meminfo.starts_with("MemTotal:"));
/// // `..` stops at the root: this is the snapshot's /proc/meminfo too.
/// assert_eq!(root.read_to_string("/proc/../../proc/meminfo")?, meminfo);
/// assert_eq!(root.snapshot_meta()?.map(|m| m.online_cpus), Some(2));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostRoot {
    root: PathBuf,
}

impl Default for HostRoot {
    fn default() -> Self {
        Self::live()
    }
}

impl HostRoot {
    /// The live host: paths are used as they are.
    pub fn live() -> Self {
        HostRoot {
            root: PathBuf::from("/"),
        }
    }

    /// A snapshot directory (or `/`). The directory must exist; it is made absolute so the
    /// reader does not depend on the working directory.
    pub fn new(dir: impl AsRef<Path>) -> Result<Self, HostError> {
        let dir = dir.as_ref();
        let root = std::fs::canonicalize(dir).map_err(|source| HostError {
            root: dir.to_path_buf(),
            path: PathBuf::from("/"),
            source,
        })?;
        Ok(HostRoot { root })
    }

    /// The root directory itself.
    pub fn dir(&self) -> &Path {
        &self.root
    }

    /// True when this is the live host (`/`), false for a snapshot.
    pub fn is_live(&self) -> bool {
        self.root == Path::new("/")
    }

    /// The file-system path of `host_path`, confined to the root.
    ///
    /// On the live host this is the path itself. Under a snapshot every component is
    /// checked: `..` cannot climb above the root and symlinks resolve inside it.
    pub fn resolve(&self, host_path: impl AsRef<Path>) -> Result<PathBuf, HostError> {
        let host_path = host_path.as_ref();
        if self.is_live() {
            return Ok(lexical_absolute(host_path));
        }
        self.resolve_confined(host_path)
            .map_err(|source| self.error(host_path, source))
    }

    /// Like [`resolve`](Self::resolve) but without following a symlink in the last
    /// component, for callers that need to see the link itself (capture).
    pub fn resolve_no_follow(&self, host_path: impl AsRef<Path>) -> Result<PathBuf, HostError> {
        let host_path = lexical_absolute(host_path.as_ref());
        let (Some(parent), Some(name)) = (host_path.parent(), host_path.file_name()) else {
            return Ok(self.root.clone());
        };
        Ok(self.resolve(parent)?.join(name))
    }

    fn resolve_confined(&self, host_path: &Path) -> io::Result<PathBuf> {
        let mut pending: Vec<OsString> = components_reversed(host_path);
        let mut resolved: Vec<OsString> = Vec::new();
        let mut links = 0usize;
        while let Some(part) = pending.pop() {
            if part == ".." {
                resolved.pop();
                continue;
            }
            let mut candidate = self.root.clone();
            candidate.extend(&resolved);
            candidate.push(&part);
            match std::fs::symlink_metadata(&candidate) {
                Ok(meta) if meta.file_type().is_symlink() => {
                    links += 1;
                    if links > MAX_SYMLINKS {
                        return Err(io::Error::from_raw_os_error(libc::ELOOP));
                    }
                    let target = std::fs::read_link(&candidate)?;
                    if target.is_absolute() {
                        resolved.clear();
                    }
                    pending.extend(components_reversed(&target));
                }
                // A missing component is not an error here: the open that follows says so
                // with the right path.
                _ => resolved.push(part),
            }
        }
        let mut out = self.root.clone();
        out.extend(&resolved);
        Ok(out)
    }

    fn error(&self, host_path: &Path, source: io::Error) -> HostError {
        HostError {
            root: self.root.clone(),
            path: host_path.to_path_buf(),
            source,
        }
    }

    /// Opens a host file for reading (non-blocking, so a FIFO cannot hang the reader).
    pub fn open(&self, host_path: impl AsRef<Path>) -> Result<File, HostError> {
        use std::os::unix::fs::OpenOptionsExt;
        let host_path = host_path.as_ref();
        let real = self.resolve(host_path)?;
        std::fs::OpenOptions::new()
            .read(true)
            .custom_flags(libc::O_NONBLOCK | libc::O_CLOEXEC | libc::O_NOCTTY)
            .open(&real)
            .map_err(|e| self.error(host_path, e))
    }

    /// Reads a whole host file.
    pub fn read(&self, host_path: impl AsRef<Path>) -> Result<Vec<u8>, HostError> {
        let host_path = host_path.as_ref();
        let mut file = self.open(host_path)?;
        let mut buf = Vec::with_capacity(4096);
        file.read_to_end(&mut buf)
            .map_err(|e| self.error(host_path, e))?;
        Ok(buf)
    }

    /// Reads a whole host file into `buf` (cleared first), reusing its allocation.
    pub fn read_into(
        &self,
        host_path: impl AsRef<Path>,
        buf: &mut Vec<u8>,
    ) -> Result<(), HostError> {
        let host_path = host_path.as_ref();
        let mut file = self.open(host_path)?;
        buf.clear();
        file.read_to_end(buf)
            .map_err(|e| self.error(host_path, e))?;
        Ok(())
    }

    /// Reads a whole host file as UTF-8 text.
    pub fn read_to_string(&self, host_path: impl AsRef<Path>) -> Result<String, HostError> {
        let host_path = host_path.as_ref();
        let bytes = self.read(host_path)?;
        String::from_utf8(bytes)
            .map_err(|e| self.error(host_path, io::Error::new(io::ErrorKind::InvalidData, e)))
    }

    /// Metadata of a host path, following symlinks inside the root.
    pub fn metadata(&self, host_path: impl AsRef<Path>) -> Result<Metadata, HostError> {
        let host_path = host_path.as_ref();
        let real = self.resolve(host_path)?;
        std::fs::metadata(&real).map_err(|e| self.error(host_path, e))
    }

    /// True when the host path exists (after confined symlink resolution).
    pub fn exists(&self, host_path: impl AsRef<Path>) -> bool {
        self.metadata(host_path).is_ok()
    }

    /// The entry names of a host directory, sorted bytewise so results are deterministic.
    pub fn read_dir_names(&self, host_path: impl AsRef<Path>) -> Result<Vec<OsString>, HostError> {
        let host_path = host_path.as_ref();
        let real = self.resolve(host_path)?;
        let entries = std::fs::read_dir(&real).map_err(|e| self.error(host_path, e))?;
        let mut names = Vec::new();
        for entry in entries {
            let entry = entry.map_err(|e| self.error(host_path, e))?;
            names.push(entry.file_name());
        }
        names.sort_by(|a, b| a.as_bytes().cmp(b.as_bytes()));
        Ok(names)
    }

    /// The snapshot's `snapshot.json`, when this root is a snapshot that has one.
    pub fn snapshot_meta(&self) -> Result<Option<SnapshotMeta>, crate::snapshot::SnapshotError> {
        if self.is_live() {
            return Ok(None);
        }
        SnapshotMeta::read(&self.root).map(Some).or_else(|e| {
            if e.is_not_found() {
                Ok(None)
            } else {
                Err(e)
            }
        })
    }
}

/// `host_path` as an absolute path with `.` and `..` folded lexically (never above `/`).
fn lexical_absolute(host_path: &Path) -> PathBuf {
    let mut out = PathBuf::from("/");
    for comp in host_path.components() {
        match comp {
            Component::Normal(c) => out.push(c),
            Component::ParentDir => {
                out.pop();
            }
            _ => {}
        }
    }
    out
}

/// The normal and `..` components of `path`, last first (a stack to pop from).
fn components_reversed(path: &Path) -> Vec<OsString> {
    let mut parts: Vec<OsString> = path
        .components()
        .filter_map(|c| match c {
            Component::Normal(c) => Some(c.to_os_string()),
            Component::ParentDir => Some(OsString::from("..")),
            _ => None,
        })
        .collect();
    parts.reverse();
    parts
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::symlink;

    fn snapshot() -> (tempfile::TempDir, HostRoot) {
        let dir = tempfile::tempdir().unwrap();
        let root = HostRoot::new(dir.path()).unwrap();
        (dir, root)
    }

    #[test]
    fn reads_a_file_by_its_host_path() {
        let (dir, root) = snapshot();
        std::fs::create_dir_all(dir.path().join("proc")).unwrap();
        std::fs::write(dir.path().join("proc/meminfo"), b"MemTotal: 1 kB\n").unwrap();
        assert_eq!(root.read("/proc/meminfo").unwrap(), b"MemTotal: 1 kB\n");
        assert!(!root.is_live());
    }

    #[test]
    fn dot_dot_cannot_climb_above_the_root() {
        let (dir, root) = snapshot();
        let real = root.resolve("/../../etc/passwd").unwrap();
        assert_eq!(real, dir.path().canonicalize().unwrap().join("etc/passwd"));
    }

    #[test]
    fn absolute_symlinks_are_re_rooted() {
        let (dir, root) = snapshot();
        std::fs::create_dir_all(dir.path().join("sys/fs/cgroup/cpu,cpuacct")).unwrap();
        std::fs::write(dir.path().join("sys/fs/cgroup/cpu,cpuacct/x"), b"1").unwrap();
        symlink(
            "/sys/fs/cgroup/cpu,cpuacct",
            dir.path().join("sys/fs/cgroup/cpuacct"),
        )
        .unwrap();
        assert_eq!(root.read("/sys/fs/cgroup/cpuacct/x").unwrap(), b"1");
        symlink("/etc", dir.path().join("escape")).unwrap();
        let real = root.resolve("/escape/shadow").unwrap();
        assert!(real.starts_with(root.dir()), "{real:?}");
    }

    #[test]
    fn relative_symlinks_cannot_escape() {
        let (dir, root) = snapshot();
        symlink("../../../../../../etc", dir.path().join("up")).unwrap();
        let real = root.resolve("/up/passwd").unwrap();
        assert_eq!(real, root.dir().join("etc/passwd"));
    }

    #[test]
    fn symlink_loops_are_an_error() {
        let (dir, root) = snapshot();
        symlink("/b", dir.path().join("a")).unwrap();
        symlink("/a", dir.path().join("b")).unwrap();
        let err = root.read("/a/x").unwrap_err();
        assert_eq!(err.source.raw_os_error(), Some(libc::ELOOP));
    }

    #[test]
    fn errors_name_the_path() {
        let (_dir, root) = snapshot();
        let err = root.read("/proc/1/cgroup").unwrap_err();
        assert!(err.is_not_found());
        assert!(err.to_string().contains("proc/1/cgroup"), "{err}");
    }

    #[test]
    fn live_root_uses_paths_as_they_are() {
        let root = HostRoot::live();
        assert_eq!(
            root.resolve("/proc/../proc/self").unwrap(),
            Path::new("/proc/self")
        );
    }
}
