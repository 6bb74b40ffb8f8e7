//! The host root: the one place where host paths become file-system paths.
//!
//! Everything the library reads (cgroupfs, `/proc`, libpod state, `storage.conf`) is named by
//! its absolute *host* path (`/sys/fs/cgroup/memory/...`) and opened through a [`HostRoot`].
//! On a live host the root is `/`; in tests and replays it is a snapshot directory that
//! mirrors the host's paths. Resolution is confined: `..` stops at the root and symlinks are
//! followed *inside* the root (an absolute link target is re-rooted), so nothing a snapshot
//! or a database holds can make the reader leave its root.
//!
//! Under a snapshot the kernel does the confined resolution when it can (`openat2(2)` with
//! `RESOLVE_IN_ROOT`, against a descriptor of the root held open): one system call per open
//! instead of one `lstat` per path component, and no window between resolving and opening.
//! Where `openat2` is missing or refused (kernels before 5.6, seccomp filters) the same rules
//! run in userland, component by component.

mod dirents;
mod openat2;
mod resolved;
mod shown;
mod stamp;

use std::borrow::Cow;
use std::ffi::{CStr, OsString};
use std::fs::{File, Metadata};
use std::io::{self, Read};
use std::os::fd::{AsFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::path::{Component, Path, PathBuf};
use std::sync::Arc;

use crate::snapshot::SnapshotMeta;

pub(crate) use resolved::ResolvedPath;
pub(crate) use shown::ShownPath;
pub(crate) use stamp::{FileId, FileStamp};

/// Most symlinks followed while resolving one path (the kernel's own limit).
const MAX_SYMLINKS: usize = 40;

/// An I/O error on a host path, carrying the host path and the root it was read under.
#[derive(Debug, thiserror::Error)]
#[error("{}: {source}", ShownPath::new(root, path))]
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

/// The directory all host paths resolve under.
///
/// Every reader of the library takes one, so the code that reads a live host (`/`) is the
/// code tests run over a snapshot:
///
/// ```
/// use libpod_stats::HostRoot;
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
#[derive(Debug, Clone)]
pub struct HostRoot {
    root: PathBuf,
    /// Under a snapshot whose kernel offers `openat2`: the root directory, held open
    /// (`O_PATH`) for the kernel to resolve against. `None` on the live host and where host
    /// paths are resolved by the userland walk.
    fd: Option<Arc<OwnedFd>>,
}

/// Two roots are equal when they name the same directory; how paths are resolved under it
/// does not change what they resolve to.
impl PartialEq for HostRoot {
    fn eq(&self, other: &Self) -> bool {
        self.root == other.root
    }
}

impl Eq for HostRoot {}

impl Default for HostRoot {
    fn default() -> Self {
        Self::live()
    }
}

/// Whether [`resolve_confined`](HostRoot::resolve_confined) may step past a component that
/// is missing or is not a directory.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Walk {
    /// As the kernel resolves for an open: a missing component with more after it is
    /// `ENOENT`, a non-directory with more after it `ENOTDIR`.
    Strict,
    /// A path is produced even for what does not exist (yet), for [`HostRoot::resolve`].
    Lenient,
}

impl HostRoot {
    /// The live host: paths are used as they are.
    pub fn live() -> Self {
        HostRoot {
            root: PathBuf::from("/"),
            fd: None,
        }
    }

    /// A snapshot directory (or `/`). The directory must exist; it is made absolute so the
    /// reader does not depend on the working directory. Paths are resolved by the kernel
    /// (`openat2`) when it offers that, else by the userland walk.
    ///
    /// A snapshot directory is held open from here on, so paths resolve in the mount
    /// namespace this call ran in, below the directory it found: make the root *after*
    /// entering a new mount namespace or mounting over the snapshot directory itself
    /// (mounts made later below it are seen).
    pub fn new(dir: impl AsRef<Path>) -> Result<Self, HostError> {
        let mut root = Self::new_walking(dir)?;
        if !root.is_live() {
            root.fd = open_root_for_kernel(&root.root).map(Arc::new);
        }
        Ok(root)
    }

    /// Like [`new`](Self::new), but host paths are always resolved by the userland walk
    /// (one `lstat` per component), as on kernels without `openat2`: for tests that prove
    /// both resolvers agree, and for comparing them.
    pub fn new_walking(dir: impl AsRef<Path>) -> Result<Self, HostError> {
        let dir = dir.as_ref();
        let root = std::fs::canonicalize(dir).map_err(|source| HostError {
            root: dir.to_path_buf(),
            path: PathBuf::from("/"),
            source,
        })?;
        Ok(HostRoot { root, fd: None })
    }

    /// `host_path` as messages name it under this root (`ShownPath`).
    pub fn shown<'a>(&'a self, host_path: &'a Path) -> ShownPath<'a> {
        ShownPath::new(&self.root, host_path)
    }

    /// The root directory itself.
    pub fn dir(&self) -> &Path {
        &self.root
    }

    /// True when this is the live host (`/`), false for a snapshot.
    pub fn is_live(&self) -> bool {
        self.root == Path::new("/")
    }

    /// True when opens under this snapshot root are resolved by the kernel (`openat2` with
    /// `RESOLVE_IN_ROOT`), false for the live host and the userland walk.
    pub fn resolves_in_kernel(&self) -> bool {
        self.fd.is_some()
    }

    /// The file-system path of `host_path`, confined to the root.
    ///
    /// On the live host this is the path itself. Under a snapshot every component is
    /// checked: `..` cannot climb above the root and symlinks resolve inside it. A missing
    /// component is not an error here (the caller's own open says so). The path is for
    /// callers that need one (SQLite, capture, `stat` by path); [`open`](Self::open) and
    /// the other readers do not go through it.
    pub fn resolve(&self, host_path: impl AsRef<Path>) -> Result<PathBuf, HostError> {
        let host_path = host_path.as_ref();
        if self.is_live() {
            return Ok(lexical_absolute(host_path));
        }
        self.resolve_confined(host_path, Walk::Lenient)
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

    fn resolve_confined(&self, host_path: &Path, walk: Walk) -> io::Result<PathBuf> {
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
                Ok(meta) if walk == Walk::Strict && !pending.is_empty() && !meta.is_dir() => {
                    return Err(io::Error::from_raw_os_error(libc::ENOTDIR));
                }
                Err(e) if walk == Walk::Strict && !pending.is_empty() => return Err(e),
                // A missing last component is not an error here: the open that follows
                // says so with the right path.
                _ => resolved.push(part),
            }
        }
        let mut out = self.root.clone();
        out.extend(&resolved);
        Ok(out)
    }

    /// The file-system path to open for `host_path` when the kernel does not resolve it:
    /// the path itself on the live host, the strict userland walk under a snapshot.
    fn walked<'p>(&self, host_path: &'p Path) -> Result<Cow<'p, Path>, HostError> {
        if self.is_live() {
            return Ok(if is_plain_absolute(host_path) {
                // Already what the lexical walk would make: no copy, component by component.
                Cow::Borrowed(host_path)
            } else {
                Cow::Owned(lexical_absolute(host_path))
            });
        }
        self.resolve_confined(host_path, Walk::Strict)
            .map(Cow::Owned)
            .map_err(|source| self.error(host_path, source))
    }

    /// Opens `host_path` with `flags` through `openat2` confined to the snapshot root.
    /// `None` when this root does not resolve in the kernel or the kernel refused the call
    /// itself (then the caller walks in userland).
    fn open_in_kernel(&self, host_path: &Path, flags: i32) -> Option<Result<OwnedFd, HostError>> {
        let root_fd = self.fd.as_deref()?;
        let opened = with_c_path(host_path, |path| {
            // EAGAIN: a rename raced with `..` resolution; the kernel asks to retry.
            let mut tries = 0;
            loop {
                match openat2::open_in_root(root_fd.as_fd(), path, flags) {
                    Err(e) if e.raw_os_error() == Some(libc::EAGAIN) && tries < 3 => tries += 1,
                    other => return other,
                }
            }
        });
        match opened {
            Err(e) if openat2::unsupported(&e) || e.raw_os_error() == Some(libc::EAGAIN) => None,
            other => Some(other.map_err(|e| self.error(host_path, e))),
        }
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
        let flags = libc::O_RDONLY | libc::O_NONBLOCK | libc::O_CLOEXEC | libc::O_NOCTTY;
        if let Some(opened) = self.open_in_kernel(host_path, flags) {
            return opened.map(File::from);
        }
        let real = self.walked(host_path)?;
        std::fs::OpenOptions::new()
            .read(true)
            .custom_flags(flags)
            .open(&real)
            .map_err(|e| self.error(host_path, e))
    }

    /// Opens a host directory (`O_PATH`) to open several files in it without resolving the
    /// directory's path again for each ([`HostDir::open`]): one path walk per directory
    /// instead of one per file. The directory is resolved as [`open`](Self::open) resolves,
    /// confined to the root.
    pub(crate) fn open_dir(&self, host_path: &Path) -> Result<HostDir, HostError> {
        use std::os::unix::fs::OpenOptionsExt;
        let flags = libc::O_PATH | libc::O_DIRECTORY | libc::O_CLOEXEC;
        let fd = match self.open_in_kernel(host_path, flags) {
            Some(opened) => opened?,
            None => {
                let real = self.walked(host_path)?;
                OwnedFd::from(
                    std::fs::OpenOptions::new()
                        .read(true)
                        .custom_flags(flags)
                        .open(&real)
                        .map_err(|e| self.error(host_path, e))?,
                )
            }
        };
        Ok(HostDir {
            fd,
            path: host_path.to_path_buf(),
        })
    }

    /// Reads a whole host file.
    pub fn read(&self, host_path: impl AsRef<Path>) -> Result<Vec<u8>, HostError> {
        let mut buf = Vec::new();
        self.read_into(host_path, &mut buf)?;
        Ok(buf)
    }

    /// Reads a whole host file into `buf` (cleared first), reusing its allocation.
    pub fn read_into(
        &self,
        host_path: impl AsRef<Path>,
        buf: &mut Vec<u8>,
    ) -> Result<(), HostError> {
        let host_path = host_path.as_ref();
        let file = self.open(host_path)?;
        buf.clear();
        read_whole(&file, buf).map_err(|e| self.error(host_path, e))
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
        if let Some(opened) = self.open_in_kernel(host_path, libc::O_PATH) {
            // `fstat` of the descriptor the confined resolution produced.
            return opened.and_then(|fd| {
                File::from(fd)
                    .metadata()
                    .map_err(|e| self.error(host_path, e))
            });
        }
        let real = self.walked(host_path)?;
        std::fs::metadata(&real).map_err(|e| self.error(host_path, e))
    }

    /// The stamp of a host path, symlinks followed inside the root: `None` when it cannot
    /// be stat'ed. A directory's size and times count as 0 (its listing is
    /// [`listing_stamp`](Self::listing_stamp)'s).
    pub fn stamp(&self, host_path: impl AsRef<Path>) -> Option<FileStamp> {
        let m = self.metadata(host_path).ok()?;
        FileStamp::of(&m, stamp::Kind::File)
    }

    /// The stamp of a host directory's listing (its times move when an entry is added,
    /// removed or renamed): `None` when it is not a directory.
    pub fn listing_stamp(&self, host_path: impl AsRef<Path>) -> Option<FileStamp> {
        let m = self.metadata(host_path).ok()?;
        FileStamp::of(&m, stamp::Kind::Listing)
    }

    /// `host_path` resolved once, symlinks followed inside the root, for checks repeated
    /// without allocating (`ResolvedPath`); `None` when it cannot be resolved.
    pub fn resolved(&self, host_path: impl AsRef<Path>) -> Option<ResolvedPath> {
        ResolvedPath::new(&self.resolve(host_path).ok()?)
    }

    /// Like [`resolved`](Self::resolved), but a symlink in the last component is kept, for
    /// `ResolvedPath::read_link`.
    pub fn resolved_link(&self, host_path: impl AsRef<Path>) -> Option<ResolvedPath> {
        ResolvedPath::new(&self.resolve_no_follow(host_path).ok()?)
    }

    /// True when the host path exists (after confined symlink resolution).
    pub fn exists(&self, host_path: impl AsRef<Path>) -> bool {
        let host_path = host_path.as_ref();
        match self.open_in_kernel(host_path, libc::O_PATH) {
            Some(opened) => opened.is_ok(),
            None => self.metadata(host_path).is_ok(),
        }
    }

    /// The entry names of a host directory, sorted bytewise so results are deterministic.
    pub fn read_dir_names(&self, host_path: impl AsRef<Path>) -> Result<Vec<OsString>, HostError> {
        let host_path = host_path.as_ref();
        let flags = libc::O_RDONLY | libc::O_DIRECTORY | libc::O_NONBLOCK | libc::O_CLOEXEC;
        let mut names = match self.open_in_kernel(host_path, flags) {
            Some(opened) => dirents::names(&opened?).map_err(|e| self.error(host_path, e))?,
            None => {
                let real = self.walked(host_path)?;
                let entries = std::fs::read_dir(&real).map_err(|e| self.error(host_path, e))?;
                let mut names = Vec::new();
                for entry in entries {
                    let entry = entry.map_err(|e| self.error(host_path, e))?;
                    names.push(entry.file_name());
                }
                names
            }
        };
        names.sort_by(|a, b| a.as_bytes().cmp(b.as_bytes()));
        Ok(names)
    }

    /// True when some entry of a host directory satisfies `pred`, read only as far as the
    /// first that does: cheaper than [`read_dir_names`](Self::read_dir_names) for asking
    /// whether a big directory (a captured `/proc`) holds anything of a kind.
    pub fn any_dir_entry(
        &self,
        host_path: impl AsRef<Path>,
        mut pred: impl FnMut(&std::ffi::OsStr) -> bool,
    ) -> Result<bool, HostError> {
        let host_path = host_path.as_ref();
        let flags = libc::O_RDONLY | libc::O_DIRECTORY | libc::O_NONBLOCK | libc::O_CLOEXEC;
        if let Some(opened) = self.open_in_kernel(host_path, flags) {
            return dirents::any(&opened?, pred).map_err(|e| self.error(host_path, e));
        }
        let real = self.walked(host_path)?;
        for entry in std::fs::read_dir(&real).map_err(|e| self.error(host_path, e))? {
            let entry = entry.map_err(|e| self.error(host_path, e))?;
            if pred(&entry.file_name()) {
                return Ok(true);
            }
        }
        Ok(false)
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
/// True when `path` starts with `/` and has no empty, `.` or `..` component.
fn is_plain_absolute(path: &Path) -> bool {
    let bytes = path.as_os_str().as_bytes();
    bytes.first() == Some(&b'/')
        && bytes[1..]
            .split(|&b| b == b'/')
            .all(|c| !c.is_empty() && c != b"." && c != b"..")
}

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

/// A host directory held open by [`HostRoot::open_dir`]; the files in it are opened relative
/// to the descriptor.
#[derive(Debug)]
pub(crate) struct HostDir {
    fd: OwnedFd,
    /// The host path the directory was opened as (for errors and the confined fallback).
    path: PathBuf,
}

impl HostDir {
    /// Opens the file `name` in this directory for reading, as [`HostRoot::open`] would open
    /// the directory's host path joined with `name`. `name` is one path component (no `/`,
    /// not `.` or `..`), opened with `O_NOFOLLOW`: no path is resolved again and nothing
    /// leaves the directory. A symlink there (possible in a snapshot, never in cgroupfs) is
    /// left to `root`, which follows it confined to the root.
    pub(crate) fn open(&self, root: &HostRoot, name: &str) -> Result<File, HostError> {
        let joined = || self.path.join(name);
        let one_component =
            !name.is_empty() && !name.contains(['/', '\0']) && name != "." && name != "..";
        if !one_component {
            return root.open(joined());
        }
        // rustix makes the C string of a short name on the stack: no allocation per file.
        let flags = rustix::fs::OFlags::RDONLY
            | rustix::fs::OFlags::NONBLOCK
            | rustix::fs::OFlags::CLOEXEC
            | rustix::fs::OFlags::NOCTTY
            | rustix::fs::OFlags::NOFOLLOW;
        match rustix::fs::openat(&self.fd, name, flags, rustix::fs::Mode::empty()) {
            Ok(fd) => Ok(File::from(fd)),
            Err(rustix::io::Errno::LOOP) => root.open(joined()),
            Err(e) => Err(root.error(&joined(), e.into())),
        }
    }
}

/// The root directory held open for `openat2`, when the kernel resolves in it: `None` when
/// it cannot be opened or `openat2` is missing or refused (the walk is used then).
fn open_root_for_kernel(dir: &Path) -> Option<OwnedFd> {
    use std::os::unix::fs::OpenOptionsExt;
    let root = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_PATH | libc::O_DIRECTORY | libc::O_CLOEXEC)
        .open(dir)
        .ok()?;
    let root = OwnedFd::from(root);
    openat2::open_in_root(root.as_fd(), c".", libc::O_PATH).ok()?;
    Some(root)
}

/// Bytes of a host path up to which [`with_c_path`] needs no heap.
const STACK_PATH: usize = 256;

/// Calls `f` with `host_path` as a C string, its `..` kept (the kernel clamps them at the
/// root) and `.`, repeated and trailing slashes dropped, as the userland walk reads it.
/// Short paths are built on the stack. A path with a NUL byte is `EINVAL`.
fn with_c_path<T>(host_path: &Path, f: impl FnOnce(&CStr) -> io::Result<T>) -> io::Result<T> {
    let parts = || {
        host_path.components().filter_map(|c| match c {
            Component::Normal(name) => Some(name.as_bytes()),
            Component::ParentDir => Some(&b".."[..]),
            _ => None,
        })
    };
    let len = parts().map(|p| p.len() + 1).sum::<usize>().max(1) + 1;
    let mut stack = [0u8; STACK_PATH];
    let mut heap = Vec::new();
    let buf: &mut [u8] = if len <= STACK_PATH {
        &mut stack[..len]
    } else {
        heap.resize(len, 0);
        &mut heap
    };
    buf[0] = b'/';
    let mut at = 0;
    for part in parts() {
        buf[at] = b'/';
        buf[at + 1..at + 1 + part.len()].copy_from_slice(part);
        at += 1 + part.len();
    }
    let end = at.max(1);
    buf[end] = 0;
    let path = CStr::from_bytes_with_nul(&buf[..=end])
        .map_err(|_| io::Error::from_raw_os_error(libc::EINVAL))?;
    f(path)
}

/// Reads `file` to its end into `buf`. Small files (all of `/proc`, cgroupfs and most
/// configuration) take one `read` plus the one that says end of file; only a file that
/// fills the first read pays std's `fstat` and `lseek` for a size hint.
fn read_whole(mut file: &File, buf: &mut Vec<u8>) -> io::Result<()> {
    const FIRST: usize = 4096;
    let start = buf.len();
    buf.resize(start + FIRST, 0);
    let first = retry_interrupted(|| file.read(&mut buf[start..]));
    buf.truncate(start + *first.as_ref().unwrap_or(&0));
    let n = first?;
    if n == 0 {
        return Ok(());
    }
    if n < FIRST {
        let mut probe = [0u8; 64];
        let more = retry_interrupted(|| file.read(&mut probe))?;
        if more == 0 {
            return Ok(());
        }
        buf.extend_from_slice(&probe[..more]);
    }
    file.read_to_end(buf).map(drop)
}

fn retry_interrupted(mut f: impl FnMut() -> io::Result<usize>) -> io::Result<usize> {
    loop {
        match f() {
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            other => return other,
        }
    }
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

    /// Files opened relative to a held directory read what the root's own open reads, and
    /// a symlink in the directory is followed confined to the root, never out of it.
    #[test]
    fn files_in_a_held_directory_stay_under_the_root() {
        let outside = tempfile::tempdir().unwrap();
        std::fs::write(outside.path().join("secret"), b"outside").unwrap();
        let dir = tempfile::tempdir().unwrap();
        let cg = dir.path().join("sys/fs/cgroup/memory/ctr");
        std::fs::create_dir_all(&cg).unwrap();
        std::fs::create_dir_all(dir.path().join("etc")).unwrap();
        std::fs::write(cg.join("memory.stat"), b"cache 1\n").unwrap();
        std::fs::write(dir.path().join("etc/inside"), b"inside").unwrap();
        symlink("/etc/inside", cg.join("absolute")).unwrap();
        symlink("../../../../../etc/inside", cg.join("relative")).unwrap();
        symlink(outside.path().join("secret"), cg.join("escape")).unwrap();
        symlink("../../../../../../../../../..", cg.join("up")).unwrap();
        for root in both(dir.path()) {
            let held = root
                .open_dir(Path::new("/sys/fs/cgroup/memory/ctr"))
                .unwrap();
            let read = |name: &str| {
                let f = held.open(&root, name)?;
                let mut text = String::new();
                (&f).read_to_string(&mut text).unwrap();
                Ok::<_, HostError>(text)
            };
            assert_eq!(read("memory.stat").unwrap(), "cache 1\n");
            assert_eq!(read("absolute").unwrap(), "inside");
            assert_eq!(read("relative").unwrap(), "inside");
            // Re-rooted: the link's target is looked up under the snapshot, where it is not.
            let err = read("escape").unwrap_err();
            assert!(err.is_not_found(), "{err}");
            assert!(err.to_string().contains("memory/ctr/escape"), "{err}");
            // More than one component: resolved from the root, as `HostRoot::open` does.
            assert_eq!(read("up/etc/inside").unwrap(), "inside");
            let err = read("memory.max").unwrap_err();
            assert!(err.is_not_found());
            assert!(err.to_string().contains("memory/ctr/memory.max"), "{err}");
            let err = root
                .open_dir(Path::new("/sys/fs/cgroup/pids/ctr"))
                .unwrap_err();
            assert!(err.is_not_found());
        }
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

    /// The same snapshot through the kernel's resolution and through the userland walk.
    fn both(dir: &Path) -> [HostRoot; 2] {
        let kernel = HostRoot::new(dir).unwrap();
        let walk = HostRoot::new_walking(dir).unwrap();
        assert!(!walk.resolves_in_kernel());
        [kernel, walk]
    }

    /// What every reader of `root` says about `path`: bytes read, metadata kind, existence
    /// and directory listing, or the errno of each.
    fn outcome(root: &HostRoot, path: &str) -> String {
        let errno = |e: &HostError| format!("errno {:?}", e.source.raw_os_error());
        let read = match root.read(path) {
            Ok(bytes) => String::from_utf8_lossy(&bytes).into_owned(),
            Err(e) => errno(&e),
        };
        let meta = match root.metadata(path) {
            Ok(m) => format!("dir {} file {} len {}", m.is_dir(), m.is_file(), m.len()),
            Err(e) => errno(&e),
        };
        let list = match root.read_dir_names(path) {
            Ok(names) => format!("{names:?}"),
            Err(e) => errno(&e),
        };
        let any = match root.any_dir_entry(path, |n| n.as_encoded_bytes().starts_with(b"s")) {
            Ok(found) => found.to_string(),
            Err(e) => errno(&e),
        };
        format!(
            "read {read} | meta {meta} | exists {} | list {list} | any s* {any}",
            root.exists(path)
        )
    }

    /// A tree with every kind of link: `(tmp, root dir, outside dir)`. The outside holds
    /// `secret`; the root holds its own `etc/passwd` and `outside/secret`.
    fn tricky_tree() -> (tempfile::TempDir, PathBuf, PathBuf) {
        let tmp = tempfile::tempdir().unwrap();
        let r = tmp.path().join("root");
        let out = tmp.path().join("outside");
        for (path, text) in [
            ("root/etc/passwd", "inside passwd"),
            ("root/proc/meminfo", "MemTotal: 1 kB\n"),
            ("root/sys/fs/cgroup/cpu,cpuacct/x", "1"),
            ("root/outside/secret", "inside secret"),
            ("root/file", "plain"),
            ("outside/secret", "OUTSIDE"),
            ("outside/passwd", "OUTSIDE"),
        ] {
            let p = tmp.path().join(path);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(p, text).unwrap();
        }
        let climb = "../".repeat(out.components().count() + 3);
        symlink(
            "/sys/fs/cgroup/cpu,cpuacct",
            r.join("sys/fs/cgroup/cpuacct"),
        )
        .unwrap();
        symlink("cpu,cpuacct", r.join("sys/fs/cgroup/cpuacct-rel")).unwrap();
        symlink(&out, r.join("abs-out")).unwrap();
        symlink(out.join("secret"), r.join("abs-out-file")).unwrap();
        symlink("../outside", r.join("up")).unwrap();
        symlink(format!("{climb}etc"), r.join("climb")).unwrap();
        symlink("/", r.join("slash")).unwrap();
        symlink("/b", r.join("a")).unwrap();
        symlink("/a", r.join("b")).unwrap();
        symlink("self", r.join("self")).unwrap();
        symlink("/etc/passwd", r.join("etc/link-to-passwd")).unwrap();
        symlink("../../../../..", r.join("proc/parent")).unwrap();
        (tmp, r, out)
    }

    const PROBES: &[&str] = &[
        "/proc/meminfo",
        "proc/meminfo",
        "/proc/../../proc/meminfo",
        "/../../../../proc/./meminfo",
        "/proc//meminfo/",
        "/",
        "",
        "/..",
        "/proc",
        "/sys/fs/cgroup/cpuacct/x",
        "/sys/fs/cgroup/cpuacct-rel/x",
        "/sys/fs/cgroup/cpuacct",
        "/sys/fs/cgroup/cpuacct/../cpuacct/x",
        "/abs-out/secret",
        "/abs-out",
        "/abs-out-file",
        "/up/secret",
        "/up",
        "/climb/passwd",
        "/slash/etc/passwd",
        "/slash/../../etc/passwd",
        "/etc/link-to-passwd",
        "/proc/parent/etc/passwd",
        "/proc/parent",
        "/a/x",
        "/a",
        "/self",
        "/missing/../etc/passwd",
        "/missing",
        "/file/../etc/passwd",
        "/file/x",
        "/etc/passwd/",
    ];

    #[test]
    fn kernel_and_walk_agree_on_every_kind_of_path() {
        let (_tmp, r, _out) = tricky_tree();
        let [kernel, walk] = both(&r);
        for probe in PROBES {
            assert_eq!(
                outcome(&kernel, probe),
                outcome(&walk, probe),
                "{probe}: kernel (left) and walk (right) differ"
            );
        }
    }

    #[test]
    fn both_resolvers_clamp_dot_dot_and_re_root_links() {
        let (_tmp, r, _out) = tricky_tree();
        for root in both(&r) {
            let mem = b"MemTotal: 1 kB\n".to_vec();
            for p in ["/proc/../../proc/meminfo", "/../../../../proc/meminfo"] {
                assert_eq!(root.read(p).unwrap(), mem, "{p}");
            }
            assert_eq!(root.read("/sys/fs/cgroup/cpuacct/x").unwrap(), b"1");
            assert_eq!(root.read("/sys/fs/cgroup/cpuacct-rel/x").unwrap(), b"1");
            assert_eq!(root.read("/etc/link-to-passwd").unwrap(), b"inside passwd");
            assert_eq!(
                root.read("/proc/parent/etc/passwd").unwrap(),
                b"inside passwd"
            );
            assert_eq!(
                root.read("/slash/../../etc/passwd").unwrap(),
                b"inside passwd"
            );
            assert_eq!(root.read("/climb/passwd").unwrap(), b"inside passwd");
            assert!(root.metadata("/sys/fs/cgroup/cpuacct").unwrap().is_dir());
            assert!(root.exists("/proc/parent/proc/meminfo"));
        }
    }

    #[test]
    fn links_pointing_outside_stay_confined() {
        let (_tmp, r, out) = tricky_tree();
        for root in both(&r) {
            // A relative link climbing out is clamped at the root: the root's own `outside`.
            assert_eq!(root.read("/up/secret").unwrap(), b"inside secret");
            assert_eq!(root.read_dir_names("/up").unwrap(), ["secret"]);
            // The outside's absolute path is re-rooted, where the snapshot has nothing.
            for p in ["/abs-out/secret", "/abs-out-file"] {
                let err = root.read(p).unwrap_err();
                assert!(err.is_not_found(), "{p}: {err}");
                assert!(!root.exists(p), "{p}");
            }
            assert!(root.read_dir_names("/abs-out").unwrap_err().is_not_found());
            assert!(root.read(out.join("passwd")).unwrap_err().is_not_found());
        }
        // With a copy at that path inside the root, the copy is what is read.
        let copy = r.join(out.strip_prefix("/").unwrap());
        std::fs::create_dir_all(&copy).unwrap();
        std::fs::write(copy.join("secret"), b"re-rooted").unwrap();
        for root in both(&r) {
            assert_eq!(root.read("/abs-out/secret").unwrap(), b"re-rooted");
            assert_eq!(root.read("/abs-out-file").unwrap(), b"re-rooted");
            assert_eq!(root.read_dir_names("/abs-out").unwrap(), ["secret"]);
            assert!(root.metadata("/abs-out").unwrap().is_dir());
        }
    }

    #[test]
    fn both_resolvers_answer_loops_with_eloop() {
        let (_tmp, r, _out) = tricky_tree();
        for root in both(&r) {
            for p in ["/a/x", "/a", "/self", "/b/c/d"] {
                let err = root.read(p).unwrap_err();
                assert_eq!(err.source.raw_os_error(), Some(libc::ELOOP), "{p}");
                assert!(!root.exists(p), "{p}");
                let err = root.metadata(p).unwrap_err();
                assert_eq!(err.source.raw_os_error(), Some(libc::ELOOP), "{p}");
            }
        }
    }

    #[test]
    fn forty_links_are_followed_and_the_forty_first_is_eloop() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("target"), b"end").unwrap();
        // l0 -> target, l1 -> l0, ... : reading `lN` follows N + 1 links.
        symlink("target", dir.path().join("l0")).unwrap();
        for i in 1..=40 {
            symlink(format!("/l{}", i - 1), dir.path().join(format!("l{i}"))).unwrap();
        }
        for root in both(dir.path()) {
            assert_eq!(root.read("/l39").unwrap(), b"end", "40 links");
            let err = root.read("/l40").unwrap_err();
            assert_eq!(err.source.raw_os_error(), Some(libc::ELOOP), "41 links");
        }
    }

    #[test]
    fn missing_and_non_directory_components_fail_as_the_kernel_says() {
        let (_tmp, r, _out) = tricky_tree();
        for root in both(&r) {
            let err = root.read("/missing/../etc/passwd").unwrap_err();
            assert_eq!(err.source.raw_os_error(), Some(libc::ENOENT));
            let err = root.read("/file/../etc/passwd").unwrap_err();
            assert_eq!(err.source.raw_os_error(), Some(libc::ENOTDIR));
            assert!(root.read("/file/x").unwrap_err().is_not_found());
            let err = root.read("/proc/bad\0name").unwrap_err();
            assert_eq!(err.kind(), io::ErrorKind::InvalidInput, "{err}");
        }
    }

    #[test]
    fn the_kernel_resolves_where_openat2_works() {
        let dir = tempfile::tempdir().unwrap();
        let fd = OwnedFd::from(File::open(dir.path()).unwrap());
        match openat2::open_in_root(fd.as_fd(), c".", libc::O_PATH) {
            Ok(_) => assert!(HostRoot::new(dir.path()).unwrap().resolves_in_kernel()),
            Err(e) if openat2::unsupported(&e) => {
                eprintln!("note: openat2 unavailable here ({e}); the userland walk is used");
                assert!(!HostRoot::new(dir.path()).unwrap().resolves_in_kernel());
            }
            Err(e) => panic!("openat2 probe: {e}"),
        }
        assert!(!HostRoot::live().resolves_in_kernel());
        assert_eq!(
            HostRoot::new(dir.path()).unwrap(),
            HostRoot::new_walking(dir.path()).unwrap()
        );
    }

    #[test]
    fn large_and_empty_files_read_whole() {
        let dir = tempfile::tempdir().unwrap();
        let big: Vec<u8> = (0..100_000u32).map(|i| (i % 251) as u8).collect();
        for len in [0, 1, 4095, 4096, 4097, 4096 + 64, 4096 + 65, 100_000] {
            std::fs::write(dir.path().join("f"), &big[..len]).unwrap();
            for root in both(dir.path()) {
                assert_eq!(root.read("/f").unwrap(), &big[..len], "{len}");
                let mut buf = b"old".to_vec();
                root.read_into("/f", &mut buf).unwrap();
                assert_eq!(buf, &big[..len], "{len}");
            }
        }
    }
}
