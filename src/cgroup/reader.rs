//! Typed reads of one cgroup on any layout, from a live host or a snapshot.
//!
//! [`CgroupReader`] joins the pieces: the [`CgroupLayout`] says where each hierarchy is
//! mounted, [`CgroupFile`] lists the files each layout uses, the `v1`/`v2` modules know what
//! each file means, and the parsers in [`crate::parse`] read the bytes. The interpretation
//! talks to files only through [`CgroupFileSource`], so a reader that keeps descriptors open
//! and re-reads them with `pread` can replace the path-based source without touching it.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};

use super::error::CgroupError;
use super::files::CgroupFile;
use super::handle::HandlePaths;
use super::layout::{CgroupLayout, LayoutKind};
use super::memory_stat::MemoryStatKeys;
use super::path::CgroupPath;
use super::stats::CgroupStats;
use super::{v1, v2};
use crate::host::{HostError, HostRoot};
use crate::parse::ParseError;

/// Gives the cgroup interpretation the contents of one file at a time.
pub(crate) trait CgroupFileSource {
    /// Reads `file` of the cgroup being read and runs `parse` over its bytes. `Ok(None)` when
    /// the file is absent (its controller is not mounted or not enabled, this kernel lacks
    /// it, or the cgroup vanished); a parse failure comes back naming the file.
    fn parse_file<T>(
        &mut self,
        file: CgroupFile,
        parse: impl FnOnce(&[u8]) -> Result<T, ParseError>,
    ) -> Result<Option<T>, CgroupError>;

    /// Which `memory.stat` keys to keep (all, unless the source was told otherwise).
    fn memory_stat_keys(&self) -> MemoryStatKeys {
        MemoryStatKeys::All
    }
}

/// Reads cgroups of one host (live or snapshot) on the layout detected for it.
///
/// A cgroup is named relative to the controller roots, as podman records it; the reader
/// finds its files in each hierarchy (v1), the unified one (v2), or both (hybrid), and
/// gives the numbers in one unit whatever the layout (ns, bytes):
///
/// ```
/// use libpod_stats::{CgroupReader, HostRoot};
/// use libpod_stats_testing::{ContainerSpec, HostBuilder, Layout};
///
/// let dir = tempfile::tempdir()?;
/// for layout in [Layout::V1CoMounted, Layout::V2] {
///     let host = HostBuilder::new().layout(layout).container(
///         ContainerSpec::new("web").with_counters(|c| {
///             c.cpu_ns = 2_500_000_000;
///             c.memory_usage = 64 << 20;
///         }),
///     );
///     let snapshot = dir.path().join(format!("{layout:?}"));
///     let built = host.build(&snapshot)?;
///     let cgroup = built.container("web").unwrap().cgroup.clone().unwrap();
///
///     let reader = CgroupReader::new(HostRoot::new(&snapshot)?)?;
///     let stats = reader.read(&cgroup)?;
///     assert_eq!(stats.cpu.usage_ns, Some(2_500_000_000));
///     assert_eq!(stats.memory.usage_bytes, Some(64 << 20));
///     // A cgroup that is not there is its own error, not a zero.
///     assert!(reader.read("/libpod_parent/gone").unwrap_err().is_not_found());
/// }
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug)]
pub struct CgroupReader {
    root: HostRoot,
    layout: CgroupLayout,
    /// Shared with every handle opened by this reader.
    handle_paths: Arc<HandlePaths>,
    scratch: Mutex<Scratch>,
}

/// The buffers one read reuses, so repeated reads do not grow new ones.
#[derive(Debug, Default)]
struct Scratch {
    buf: Vec<u8>,
    path: PathBuf,
}

impl CgroupReader {
    /// A reader for the host under `root`, with its layout detected from `mountinfo`.
    pub fn new(root: HostRoot) -> Result<CgroupReader, CgroupError> {
        let layout = CgroupLayout::detect(&root)?;
        Ok(Self::with_layout(root, layout))
    }

    /// A reader for a layout already known (detected once and shared, or built by a test).
    pub fn with_layout(root: HostRoot, layout: CgroupLayout) -> CgroupReader {
        CgroupReader {
            handle_paths: HandlePaths::new(root.dir(), &layout),
            root,
            layout,
            scratch: Mutex::new(Scratch {
                buf: Vec::with_capacity(8192),
                path: PathBuf::new(),
            }),
        }
    }

    /// The layout this reader uses.
    pub fn layout(&self) -> &CgroupLayout {
        &self.layout
    }

    /// The host root this reader reads under.
    pub fn root(&self) -> &HostRoot {
        &self.root
    }

    /// What the handles this reader opens share.
    pub(crate) fn handle_paths(&self) -> Arc<HandlePaths> {
        Arc::clone(&self.handle_paths)
    }

    /// Reads everything this library knows about `cgroup` (a path such as
    /// `/libpod_parent/libpod-<id>` or `/machine.slice/libpod-<id>.scope`).
    /// The path is checked here (a leading `/` may be left out); see [`CgroupPath`].
    pub fn read(&self, cgroup: &str) -> Result<CgroupStats, CgroupError> {
        let mut out = CgroupStats::default();
        self.read_into(cgroup, &mut out)?;
        Ok(out)
    }

    /// Like [`read`](Self::read), into a caller-owned value whose `memory.stat` map is
    /// updated in place, so steady-state reads do not reallocate its keys.
    pub fn read_into(&self, cgroup: &str, out: &mut CgroupStats) -> Result<(), CgroupError> {
        self.read_path_into(&CgroupPath::lenient(cgroup)?, out)
    }

    /// Like [`read_into`](Self::read_into) for a path checked already.
    pub fn read_path_into(
        &self,
        cgroup: &CgroupPath,
        out: &mut CgroupStats,
    ) -> Result<(), CgroupError> {
        let rel = cgroup.relative();
        let mut scratch = self.scratch.lock().unwrap_or_else(PoisonError::into_inner);
        let Scratch { buf, path } = &mut *scratch;
        let mut src = PathSource {
            root: &self.root,
            layout: &self.layout,
            rel,
            buf,
            path,
            present: 0,
        };
        match self.layout.kind() {
            LayoutKind::V2 => v2::read(&mut src, out)?,
            LayoutKind::V1 => {
                v1::read(&mut src, out)?;
                out.pressure = Default::default();
            }
            LayoutKind::Hybrid => {
                v1::read(&mut src, out)?;
                v2::read_pressure(&mut src, &mut out.pressure)?;
            }
        }
        if src.present == 0 && !self.exists_rel(rel) {
            return Err(CgroupError::NotFound {
                cgroup: cgroup.clone(),
            });
        }
        Ok(())
    }

    /// True when `cgroup` exists in any hierarchy this reader uses (`false` for text that
    /// is no [`CgroupPath`]).
    pub fn exists(&self, cgroup: &str) -> bool {
        CgroupPath::lenient(cgroup).is_ok_and(|p| self.exists_path(&p))
    }

    /// Like [`exists`](Self::exists) for a path checked already.
    pub fn exists_path(&self, cgroup: &CgroupPath) -> bool {
        self.exists_rel(cgroup.relative())
    }

    fn exists_rel(&self, rel: &Path) -> bool {
        self.layout.hierarchies().any(|h| {
            self.layout.mount(h).is_some_and(|mount| {
                self.root
                    .metadata(mount.join(rel))
                    .is_ok_and(|m| m.is_dir())
            })
        })
    }
}

/// Reads cgroup files by path through the host root.
struct PathSource<'a> {
    root: &'a HostRoot,
    layout: &'a CgroupLayout,
    rel: &'a Path,
    buf: &'a mut Vec<u8>,
    path: &'a mut PathBuf,
    /// How many files were found, to tell "no such cgroup" from "no such files".
    present: usize,
}

impl CgroupFileSource for PathSource<'_> {
    fn parse_file<T>(
        &mut self,
        file: CgroupFile,
        parse: impl FnOnce(&[u8]) -> Result<T, ParseError>,
    ) -> Result<Option<T>, CgroupError> {
        let Some(mount) = self.layout.mount(file.hierarchy()) else {
            return Ok(None);
        };
        self.path.as_mut_os_string().clear();
        self.path.push(mount);
        self.path.push(self.rel);
        self.path.push(file.name());
        match self.root.read_into(&*self.path, self.buf) {
            Ok(()) => {
                self.present += 1;
                parse(self.buf)
                    .map(Some)
                    .map_err(|e| CgroupError::parse(self.root.dir(), self.path, e))
            }
            Err(e) if is_absent(&e) => Ok(None),
            Err(e) => Err(e.into()),
        }
    }
}

/// Errors that mean "this file is not there" rather than "reading failed": missing file or
/// directory, a cgroup removed under a held file (ENODEV), or a pressure file on a kernel
/// booted with PSI disabled (EOPNOTSUPP).
pub(crate) fn is_absent(e: &HostError) -> bool {
    e.is_not_found() || e.source.raw_os_error() == Some(libc::EOPNOTSUPP)
}
