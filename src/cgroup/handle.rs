//! A cgroup with its files held open: the collector's hot path.
//!
//! [`OpenCgroup`] opens the files its layout reads once (resolving paths, allocating the
//! error paths) and afterwards re-reads each with `pread` at offset 0 into one reused buffer,
//! which cgroupfs answers with fresh values. A steady-state [`OpenCgroup::read_into`] makes
//! no heap allocation. When the cgroup is removed, `pread` on a held file fails with ENODEV
//! and the read reports [`CgroupError::NotFound`]; a container restarted under the same path
//! needs a fresh handle (its cgroup is a new directory).

use std::fs::File;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::error::CgroupError;
use super::files::{CgroupFile, FileSet};
use super::layout::{CgroupLayout, Controller, Hierarchy, LayoutKind};
use super::memory_stat::MemoryStatKeys;
use super::path::CgroupPath;
use super::reader::{is_absent, CgroupFileSource, CgroupReader};
use super::stats::CgroupStats;
use super::{v1, v2};
use crate::host::{HostDir, HostError};
use crate::parse::ParseError;

/// Initial size of the read buffer; grown (once) when a file is larger. A v2 `memory.stat`
/// is about 1.5 KiB.
const INITIAL_BUF: usize = 16 * 1024;

/// What every handle of one reader shares, to name a file in an error without each handle
/// keeping a path per file (at 1000 containers those paths were 2 MiB of a collectd's memory).
#[derive(Debug)]
pub(crate) struct HandlePaths {
    /// The host root's directory.
    root_dir: PathBuf,
    /// Each mounted hierarchy's mount point (a host path).
    mounts: Vec<(Hierarchy, PathBuf)>,
}

impl HandlePaths {
    /// The paths of `root_dir` and `layout`'s mounts.
    pub(crate) fn new(root_dir: &Path, layout: &CgroupLayout) -> Arc<HandlePaths> {
        let hierarchies = std::iter::once(Hierarchy::Unified)
            .chain(Controller::ALL.into_iter().map(Hierarchy::V1));
        let mounts = hierarchies
            .filter_map(|h| layout.mount(h).map(|m| (h, m.to_path_buf())))
            .collect();
        Arc::new(HandlePaths {
            root_dir: root_dir.to_path_buf(),
            mounts,
        })
    }

    /// The host path of `file` of `cgroup` (only built for an error message).
    fn file_path(&self, cgroup: &CgroupPath, file: CgroupFile) -> PathBuf {
        let mount = self
            .mounts
            .iter()
            .find(|(h, _)| *h == file.hierarchy())
            .map_or(Path::new("/"), |(_, m)| m.as_path());
        mount.join(cgroup.relative()).join(file.name())
    }
}

/// A container cgroup's files, held open and re-read in place.
#[derive(Debug)]
pub struct OpenCgroup {
    cgroup: CgroupPath,
    kind: LayoutKind,
    paths: Arc<HandlePaths>,
    /// The held files, in the layout's order (a handful: a short list beats a table).
    files: Vec<(CgroupFile, File)>,
    /// Which `memory.stat` keys a read keeps.
    memory_stat_keys: MemoryStatKeys,
    /// Initialized bytes to read into; only `..len` of a read is meaningful.
    buf: Vec<u8>,
}

impl CgroupReader {
    /// Opens the files of `cgroup` that this layout reads, to re-read them cheaply with
    /// [`OpenCgroup::read_into`]. Files the kernel does not have are remembered as absent (a
    /// fallback file is opened only when the file it stands in for is absent).
    /// [`CgroupError::NotFound`] when the cgroup exists in no hierarchy.
    pub fn open(&self, cgroup: &str) -> Result<OpenCgroup, CgroupError> {
        self.open_only(cgroup, FileSet::ALL)
    }

    /// Like [`open_path`](Self::open_path), checking the path first (a leading `/` may be
    /// left out).
    pub fn open_only(&self, cgroup: &str, wanted: FileSet) -> Result<OpenCgroup, CgroupError> {
        self.open_path(&CgroupPath::lenient(cgroup)?, wanted)
    }

    /// Like [`open`](Self::open), holding only the files in `wanted` (those a collector's
    /// selected metrics need: fewer descriptors, fewer reads). The fields of files left out
    /// read as absent (`None`).
    pub fn open_path(
        &self,
        cgroup: &CgroupPath,
        wanted: FileSet,
    ) -> Result<OpenCgroup, CgroupError> {
        let rel = cgroup.relative();
        let kind = self.layout().kind();
        let mut files: Vec<(CgroupFile, File)> = Vec::new();
        // The cgroup's directory in each hierarchy is resolved once and its files opened
        // relative to it (a dozen or more files per cgroup, thousands of cgroups for a
        // one-shot command): one path walk per directory, not one per file. A directory
        // that cannot be opened is left to the per-file open, which says why (or finds
        // each file absent) as it did before.
        let mut dirs: Vec<(&Path, Option<HostDir>)> = Vec::new();
        let mut path = PathBuf::new();
        for file in CgroupFile::for_layout(kind).filter(|f| wanted.contains(*f)) {
            if file
                .fallback_for()
                .is_some_and(|primary| files.iter().any(|(f, _)| *f == primary))
            {
                continue;
            }
            let Some(mount) = self.layout().mount(file.hierarchy()) else {
                continue;
            };
            // Mount paths compared as bytes (a `Path` comparison walks components).
            let at = match dirs
                .iter()
                .position(|(m, _)| m.as_os_str() == mount.as_os_str())
            {
                Some(at) => at,
                None => {
                    path.as_mut_os_string().clear();
                    path.push(mount);
                    path.push(rel);
                    dirs.push((mount, self.root().open_dir(&path).ok()));
                    dirs.len() - 1
                }
            };
            let opened = match &dirs[at].1 {
                Some(dir) => dir.open(self.root(), file.name()),
                None => {
                    path.as_mut_os_string().clear();
                    path.push(mount);
                    path.push(rel);
                    path.push(file.name());
                    self.root().open(&path)
                }
            };
            match opened {
                Ok(f) => files.push((file, f)),
                Err(e) if is_absent(&e) => {}
                Err(e) => return Err(e.into()),
            }
        }
        if files.is_empty() && !self.exists_path(cgroup) {
            return Err(CgroupError::NotFound {
                cgroup: cgroup.clone(),
            });
        }
        files.shrink_to_fit();
        Ok(OpenCgroup {
            cgroup: cgroup.clone(),
            kind,
            paths: self.handle_paths(),
            files,
            memory_stat_keys: MemoryStatKeys::All,
            // Allocated on the first read that needs it: a collector of many cgroups lends
            // one shared buffer instead (`read_into_with`).
            buf: Vec::new(),
        })
    }
}

impl OpenCgroup {
    /// The cgroup path this handle was opened for.
    pub fn cgroup(&self) -> &CgroupPath {
        &self.cgroup
    }

    /// How many file descriptors this handle holds (they count against `RLIMIT_NOFILE`).
    pub fn open_files(&self) -> usize {
        self.files.len()
    }

    /// Keeps only `keys` of `memory.stat` from now on (the file is still read and checked
    /// whole): a collector that needs two of its forty keys neither stores nor looks up the
    /// others.
    pub fn keep_memory_stat(mut self, keys: MemoryStatKeys) -> OpenCgroup {
        self.memory_stat_keys = keys;
        self
    }

    /// Reads everything again into `out` (see [`CgroupReader::read_into`]); no allocation
    /// once the buffer and the `memory.stat` keys have settled.
    pub fn read_into(&mut self, out: &mut CgroupStats) -> Result<(), CgroupError> {
        self.read_into_skipping(out, FileSet::EMPTY)
    }

    /// Like [`read_into`](Self::read_into), but the files in `skip` are not read this time
    /// and their fields read as absent: a collector re-reads slow-moving files (limits)
    /// less often and keeps their last values itself.
    pub fn read_into_skipping(
        &mut self,
        out: &mut CgroupStats,
        skip: FileSet,
    ) -> Result<(), CgroupError> {
        let mut buf = std::mem::take(&mut self.buf);
        let result = self.read_into_with(out, skip, &mut buf);
        self.buf = buf;
        result
    }

    /// Like [`read_into_skipping`](Self::read_into_skipping), reading through `buf` (grown
    /// when a file does not fit, then kept): one buffer for all the handles of a collector
    /// instead of one per cgroup.
    pub fn read_into_with(
        &mut self,
        out: &mut CgroupStats,
        skip: FileSet,
        buf: &mut Vec<u8>,
    ) -> Result<(), CgroupError> {
        let mut src = HeldSource {
            files: &self.files,
            buf,
            cgroup: &self.cgroup,
            paths: &self.paths,
            memory_stat_keys: self.memory_stat_keys,
            skip,
            removed: false,
        };
        let result = match self.kind {
            LayoutKind::V2 => v2::read(&mut src, out),
            LayoutKind::V1 => {
                out.pressure = Default::default();
                v1::read(&mut src, out)
            }
            LayoutKind::Hybrid => v1::read(&mut src, out)
                .and_then(|()| v2::read_pressure(&mut src, &mut out.pressure)),
        };
        // A removed cgroup can make a half-read file look malformed; gone wins.
        if src.removed {
            return Err(CgroupError::NotFound {
                cgroup: self.cgroup.clone(),
            });
        }
        result
    }

    /// Like [`read_into`](Self::read_into) into a new value.
    pub fn read(&mut self) -> Result<CgroupStats, CgroupError> {
        let mut out = CgroupStats::default();
        self.read_into(&mut out)?;
        Ok(out)
    }
}

/// Serves held files to the v1/v2 interpretation.
struct HeldSource<'a> {
    files: &'a [(CgroupFile, File)],
    buf: &'a mut Vec<u8>,
    cgroup: &'a CgroupPath,
    paths: &'a HandlePaths,
    memory_stat_keys: MemoryStatKeys,
    /// Files not read this time.
    skip: FileSet,
    /// A held file answered ENODEV: the cgroup was removed.
    removed: bool,
}

impl HeldSource<'_> {
    /// The whole file from offset 0; the length read.
    fn pread_all(&mut self, file: &File) -> std::io::Result<usize> {
        let mut len = 0;
        loop {
            if len == self.buf.len() {
                let grown = (self.buf.len() * 2).max(INITIAL_BUF);
                self.buf.resize(grown, 0);
            }
            let want = self.buf.len() - len;
            match file.read_at(&mut self.buf[len..], len as u64) {
                Ok(0) => return Ok(len),
                // A short read is the end: every file held here is either a regular file
                // (snapshots) or a cgroupfs file, which the kernel renders as one seq_file
                // record and hands over whole when it fits. Not asking again halves the
                // syscalls: a second `pread` past the end makes cgroupfs render it again.
                Ok(n) if n < want => return Ok(len + n),
                Ok(n) => len += n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
    }
}

impl CgroupFileSource for HeldSource<'_> {
    fn parse_file<T>(
        &mut self,
        file: CgroupFile,
        parse: impl FnOnce(&[u8]) -> Result<T, ParseError>,
    ) -> Result<Option<T>, CgroupError> {
        if self.skip.contains(file) {
            return Ok(None);
        }
        let files = self.files;
        let Some((_, held)) = files.iter().find(|(f, _)| *f == file) else {
            return Ok(None);
        };
        match self.pread_all(held) {
            Ok(len) => parse(&self.buf[..len]).map(Some).map_err(|e| {
                CgroupError::parse(
                    &self.paths.root_dir,
                    &self.paths.file_path(self.cgroup, file),
                    e,
                )
            }),
            Err(e) if e.raw_os_error() == Some(libc::ENODEV) => {
                self.removed = true;
                Ok(None)
            }
            Err(source) => {
                let e = HostError {
                    root: self.paths.root_dir.clone(),
                    path: self.paths.file_path(self.cgroup, file),
                    source,
                };
                if is_absent(&e) {
                    Ok(None)
                } else {
                    Err(e.into())
                }
            }
        }
    }

    fn memory_stat_keys(&self) -> MemoryStatKeys {
        self.memory_stat_keys
    }
}
