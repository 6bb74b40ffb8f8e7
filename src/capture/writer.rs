//! Copying host files into a snapshot directory, safely.
//!
//! The source may be a live host with FIFOs and sockets in its run directories, or a
//! snapshot that someone else made; the destination will be shared. So a copy:
//!
//! - opens the source non-blocking and without following a final symlink (`O_NOFOLLOW`),
//!   then checks with `fstat` on the opened descriptor that it is a regular file, so a FIFO
//!   cannot hang the capture and a symlink cannot point the copy elsewhere;
//! - resolves every other component through [`HostRoot`], which keeps a snapshot source
//!   confined to its own directory;
//! - reads at most [`MAX_FILE_BYTES`];
//! - writes owner-only files (0600) in owner-only directories (0700).

use std::ffi::OsStr;
use std::fs::{DirBuilder, File, OpenOptions};
use std::io::{self, Read, Write};
use std::os::unix::fs::{DirBuilderExt, FileTypeExt, OpenOptionsExt, PermissionsExt};
use std::path::{Component, Path, PathBuf};

use crate::host::{HostError, HostRoot};

/// The largest file a capture copies (a state database of a busy host stays well below).
pub(crate) const MAX_FILE_BYTES: u64 = 256 * 1024 * 1024;

/// Writing the snapshot failed (the destination side: always fatal).
#[derive(Debug, thiserror::Error)]
#[error("writing {path}: {source}")]
pub struct WriteError {
    /// The destination path.
    pub path: PathBuf,
    /// The cause.
    #[source]
    pub source: io::Error,
}

/// Why a source file was not copied (the source side: recorded, not fatal).
#[derive(Debug, thiserror::Error)]
pub(crate) enum SkipReason {
    /// The file could not be opened or read.
    #[error(transparent)]
    Unreadable(#[from] HostError),
    /// The path is a symlink, directory, FIFO, socket or device, not a regular file.
    #[error("{path}: not a regular file ({kind})")]
    NotRegular {
        /// The host path.
        path: PathBuf,
        /// What it is instead.
        kind: &'static str,
    },
    /// The file is larger than [`MAX_FILE_BYTES`].
    #[error("{path}: larger than {MAX_FILE_BYTES} bytes")]
    TooLarge {
        /// The host path.
        path: PathBuf,
    },
    /// The file has no read permission bits (a cgroup control file such as
    /// `cgroup.event_control`), so it holds nothing to read.
    #[error("{path}: write-only")]
    WriteOnly {
        /// The host path.
        path: PathBuf,
    },
    /// The content could not be redacted (not valid JSON), so it is withheld.
    #[error("{path}: withheld, cannot be redacted: {reason}")]
    NotRedactable {
        /// The host path.
        path: PathBuf,
        /// Why.
        reason: String,
    },
    /// A symlink's target leaves the directory it lives in.
    #[error("{path}: symlink target {target:?} leaves its directory")]
    LinkOutside {
        /// The host path.
        path: PathBuf,
        /// The link's target.
        target: PathBuf,
    },
}

impl SkipReason {
    /// True when the file simply does not exist (a container that stopped mid-capture).
    pub(crate) fn is_not_found(&self) -> bool {
        matches!(self, SkipReason::Unreadable(e) if e.is_not_found())
    }
}

/// Counts of what a snapshot writer did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WriteCounts {
    /// Regular files written.
    pub files: u64,
    /// Bytes written.
    pub bytes: u64,
    /// Symlinks written.
    pub links: u64,
}

/// Writes host paths into one snapshot directory.
#[derive(Debug)]
pub(crate) struct SnapshotWriter {
    dir: PathBuf,
    counts: WriteCounts,
}

/// `host_path` relative to a snapshot top: normal components only, so nothing can be
/// written outside the snapshot.
fn relative(host_path: &Path) -> PathBuf {
    host_path
        .components()
        .filter_map(|c| match c {
            Component::Normal(c) => Some(c),
            _ => None,
        })
        .collect()
}

fn file_kind(ft: std::fs::FileType) -> &'static str {
    if ft.is_dir() {
        "directory"
    } else if ft.is_symlink() {
        "symlink"
    } else if ft.is_fifo() {
        "fifo"
    } else if ft.is_socket() {
        "socket"
    } else if ft.is_block_device() || ft.is_char_device() {
        "device"
    } else {
        "unknown"
    }
}

/// Creates `dir` and its missing parents owner-only.
pub(crate) fn create_private_dir(dir: &Path) -> Result<(), WriteError> {
    DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
        .map_err(|source| WriteError {
            path: dir.to_path_buf(),
            source,
        })
}

impl SnapshotWriter {
    /// A writer into `dir`, created owner-only if missing.
    pub(crate) fn new(dir: &Path) -> Result<Self, WriteError> {
        create_private_dir(dir)?;
        Ok(SnapshotWriter {
            dir: dir.to_path_buf(),
            counts: WriteCounts::default(),
        })
    }

    /// What was written so far.
    pub(crate) fn counts(&self) -> &WriteCounts {
        &self.counts
    }

    /// Where `host_path` lands in the snapshot.
    pub(crate) fn destination(&self, host_path: &Path) -> PathBuf {
        self.dir.join(relative(host_path))
    }

    /// Writes `bytes` as the snapshot's copy of `host_path` (owner-only).
    pub(crate) fn write(&mut self, host_path: &Path, bytes: &[u8]) -> Result<(), WriteError> {
        let dest = self.destination(host_path);
        if let Some(parent) = dest.parent() {
            create_private_dir(parent)?;
        }
        let err = |source| WriteError {
            path: dest.clone(),
            source,
        };
        let mut file = OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(0o600)
            .custom_flags(libc::O_NOFOLLOW | libc::O_CLOEXEC)
            .open(&dest)
            .map_err(err)?;
        // An existing file keeps its old mode through open(): make it owner-only anyway.
        file.set_permissions(std::fs::Permissions::from_mode(0o600))
            .map_err(err)?;
        file.write_all(bytes).map_err(err)?;
        self.counts.files += 1;
        self.counts.bytes += bytes.len() as u64;
        Ok(())
    }

    /// Counts a file another writer put into the snapshot (the state database).
    pub(crate) fn note_external_file(&mut self, dest: &Path) {
        if let Ok(meta) = std::fs::metadata(dest) {
            self.counts.files += 1;
            self.counts.bytes += meta.len();
        }
    }

    /// Writes a symlink at `host_path` with the given target text (`net:[4026531840]`).
    pub(crate) fn write_link(&mut self, host_path: &Path, target: &Path) -> Result<(), WriteError> {
        let dest = self.destination(host_path);
        if let Some(parent) = dest.parent() {
            create_private_dir(parent)?;
        }
        match std::fs::symlink_metadata(&dest) {
            Ok(_) => std::fs::remove_file(&dest).map_err(|source| WriteError {
                path: dest.clone(),
                source,
            })?,
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(source) => return Err(WriteError { path: dest, source }),
        }
        std::os::unix::fs::symlink(target, &dest).map_err(|source| WriteError {
            path: dest.clone(),
            source,
        })?;
        self.counts.links += 1;
        Ok(())
    }

    /// Reads `host_path` from `source` the safe way (see the module docs); the error says
    /// why the file was not read.
    pub(crate) fn read_source(source: &HostRoot, host_path: &Path) -> Result<Vec<u8>, SkipReason> {
        let real = source.resolve_no_follow(host_path)?;
        let host_err = |e: io::Error| {
            SkipReason::Unreadable(HostError {
                root: source.dir().to_path_buf(),
                path: host_path.to_path_buf(),
                source: e,
            })
        };
        let file = OpenOptions::new()
            .read(true)
            .custom_flags(libc::O_NONBLOCK | libc::O_NOFOLLOW | libc::O_CLOEXEC | libc::O_NOCTTY)
            .open(&real);
        let file = match file {
            Ok(f) => f,
            Err(e) if e.raw_os_error() == Some(libc::ELOOP) => {
                return Err(SkipReason::NotRegular {
                    path: host_path.to_path_buf(),
                    kind: "symlink",
                })
            }
            Err(e) => return Err(host_err(e)),
        };
        let meta = file.metadata().map_err(host_err)?;
        if !meta.file_type().is_file() {
            return Err(SkipReason::NotRegular {
                path: host_path.to_path_buf(),
                kind: file_kind(meta.file_type()),
            });
        }
        if meta.permissions().mode() & 0o444 == 0 {
            return Err(SkipReason::WriteOnly {
                path: host_path.to_path_buf(),
            });
        }
        if meta.len() > MAX_FILE_BYTES {
            return Err(SkipReason::TooLarge {
                path: host_path.to_path_buf(),
            });
        }
        read_capped(file, host_path).map_err(|e| match e {
            CappedError::Io(e) => host_err(e),
            CappedError::TooLarge => SkipReason::TooLarge {
                path: host_path.to_path_buf(),
            },
        })
    }

    /// Copies one regular file. The outer `Result` is the destination side (fatal), the
    /// inner one says why the source was skipped.
    pub(crate) fn copy_file(
        &mut self,
        source: &HostRoot,
        host_path: &Path,
    ) -> Result<Result<(), SkipReason>, WriteError> {
        self.copy_file_with(source, host_path, Ok)
    }

    /// Copies one regular file through `transform` (redaction); a transform error withholds
    /// the file.
    pub(crate) fn copy_file_with(
        &mut self,
        source: &HostRoot,
        host_path: &Path,
        transform: impl FnOnce(Vec<u8>) -> Result<Vec<u8>, String>,
    ) -> Result<Result<(), SkipReason>, WriteError> {
        let bytes = match Self::read_source(source, host_path) {
            Ok(b) => b,
            Err(reason) => return Ok(Err(reason)),
        };
        let bytes = match transform(bytes) {
            Ok(b) => b,
            Err(reason) => {
                return Ok(Err(SkipReason::NotRedactable {
                    path: host_path.to_path_buf(),
                    reason,
                }))
            }
        };
        self.write(host_path, &bytes)?;
        Ok(Ok(()))
    }

    /// Copies a symlink as a symlink with the same target text, without following it.
    ///
    /// Targets that are absolute or climb with `..` are refused unless they are kernel
    /// object names such as `net:[4026531840]` (no `/` at all), so a copied link can never
    /// lead a later reader of the snapshot out of the directory it lives in.
    pub(crate) fn copy_link(
        &mut self,
        source: &HostRoot,
        host_path: &Path,
    ) -> Result<Result<(), SkipReason>, WriteError> {
        let real = match source.resolve_no_follow(host_path) {
            Ok(r) => r,
            Err(e) => return Ok(Err(e.into())),
        };
        let target = match std::fs::read_link(&real) {
            Ok(t) => t,
            Err(e) => {
                return Ok(Err(SkipReason::Unreadable(HostError {
                    root: source.dir().to_path_buf(),
                    path: host_path.to_path_buf(),
                    source: e,
                })))
            }
        };
        let escapes = target.is_absolute()
            || target
                .components()
                .any(|c| matches!(c, Component::ParentDir));
        if escapes {
            return Ok(Err(SkipReason::LinkOutside {
                path: host_path.to_path_buf(),
                target,
            }));
        }
        self.write_link(host_path, &target)?;
        Ok(Ok(()))
    }

    /// The names of the regular, readable files directly in a host directory (no
    /// recursion, no symlinks), sorted.
    pub(crate) fn regular_files_in(
        source: &HostRoot,
        host_dir: &Path,
    ) -> Result<Vec<PathBuf>, HostError> {
        let names = source.read_dir_names(host_dir)?;
        let real_dir = source.resolve(host_dir)?;
        let mut out = Vec::with_capacity(names.len());
        for name in names {
            let Ok(meta) = std::fs::symlink_metadata(real_dir.join(&name)) else {
                continue;
            };
            if meta.file_type().is_file() && meta.permissions().mode() & 0o444 != 0 {
                out.push(host_dir.join(OsStr::new(&name)));
            }
        }
        Ok(out)
    }
}

enum CappedError {
    Io(io::Error),
    TooLarge,
}

/// Reads to the end, failing past [`MAX_FILE_BYTES`] (a file can grow after `fstat`, and
/// cgroupfs and procfs report sizes that mean nothing).
fn read_capped(file: File, _host_path: &Path) -> Result<Vec<u8>, CappedError> {
    let mut buf = Vec::with_capacity(4096);
    let mut limited = file.take(MAX_FILE_BYTES + 1);
    loop {
        match limited.read_to_end(&mut buf) {
            Ok(_) => break,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(CappedError::Io(e)),
        }
    }
    if buf.len() as u64 > MAX_FILE_BYTES {
        return Err(CappedError::TooLarge);
    }
    Ok(buf)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::symlink;

    fn source() -> (tempfile::TempDir, HostRoot) {
        let dir = tempfile::tempdir().unwrap();
        let root = HostRoot::new(dir.path()).unwrap();
        (dir, root)
    }

    #[test]
    fn copies_regular_files_owner_only() {
        let (src, root) = source();
        std::fs::create_dir_all(src.path().join("proc")).unwrap();
        std::fs::write(src.path().join("proc/meminfo"), b"MemTotal: 1 kB\n").unwrap();
        let out = tempfile::tempdir().unwrap();
        let mut w = SnapshotWriter::new(&out.path().join("snap")).unwrap();
        w.copy_file(&root, Path::new("/proc/meminfo"))
            .unwrap()
            .unwrap();
        let dest = out.path().join("snap/proc/meminfo");
        assert_eq!(std::fs::read(&dest).unwrap(), b"MemTotal: 1 kB\n");
        let mode = std::fs::metadata(&dest).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        for dir in ["snap", "snap/proc"] {
            let mode = std::fs::metadata(out.path().join(dir))
                .unwrap()
                .permissions()
                .mode()
                & 0o777;
            assert_eq!(mode, 0o700, "{dir}");
        }
        assert_eq!(w.counts().files, 1);
    }

    #[test]
    fn fifos_and_symlinks_are_skipped_without_blocking() {
        let (src, root) = source();
        let run = src.path().join("run");
        std::fs::create_dir_all(&run).unwrap();
        let fifo = run.join("ctl");
        let c = std::ffi::CString::new(fifo.as_os_str().as_encoded_bytes()).unwrap();
        assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
        std::fs::write(src.path().join("secret"), b"x").unwrap();
        symlink("/secret", run.join("link")).unwrap();
        let out = tempfile::tempdir().unwrap();
        let mut w = SnapshotWriter::new(out.path()).unwrap();
        let r = w.copy_file(&root, Path::new("/run/ctl")).unwrap();
        assert!(
            matches!(r, Err(SkipReason::NotRegular { kind: "fifo", .. })),
            "{r:?}"
        );
        let r = w.copy_file(&root, Path::new("/run/link")).unwrap();
        assert!(
            matches!(
                r,
                Err(SkipReason::NotRegular {
                    kind: "symlink",
                    ..
                })
            ),
            "{r:?}"
        );
        assert_eq!(w.counts().files, 0);
        assert_eq!(
            SnapshotWriter::regular_files_in(&root, Path::new("/run")).unwrap(),
            Vec::<PathBuf>::new()
        );
    }

    #[test]
    fn links_keep_their_text_and_escaping_links_are_refused() {
        let (src, root) = source();
        let ns = src.path().join("proc/1/ns");
        std::fs::create_dir_all(&ns).unwrap();
        symlink("net:[4026531840]", ns.join("net")).unwrap();
        symlink("../../etc/shadow", ns.join("bad")).unwrap();
        let out = tempfile::tempdir().unwrap();
        let mut w = SnapshotWriter::new(out.path()).unwrap();
        w.copy_link(&root, Path::new("/proc/1/ns/net"))
            .unwrap()
            .unwrap();
        assert_eq!(
            std::fs::read_link(out.path().join("proc/1/ns/net")).unwrap(),
            Path::new("net:[4026531840]")
        );
        let r = w.copy_link(&root, Path::new("/proc/1/ns/bad")).unwrap();
        assert!(matches!(r, Err(SkipReason::LinkOutside { .. })), "{r:?}");
    }

    #[test]
    fn transform_errors_withhold_the_file() {
        let (src, root) = source();
        std::fs::write(src.path().join("c.json"), b"{broken").unwrap();
        let out = tempfile::tempdir().unwrap();
        let mut w = SnapshotWriter::new(out.path()).unwrap();
        let r = w
            .copy_file_with(&root, Path::new("/c.json"), |_| Err("bad json".into()))
            .unwrap();
        assert!(matches!(r, Err(SkipReason::NotRedactable { .. })));
        assert!(!out.path().join("c.json").exists());
    }

    #[test]
    fn missing_files_are_reported_as_not_found() {
        let (_src, root) = source();
        let out = tempfile::tempdir().unwrap();
        let mut w = SnapshotWriter::new(out.path()).unwrap();
        let r = w.copy_file(&root, Path::new("/proc/9/cgroup")).unwrap();
        assert!(r.unwrap_err().is_not_found());
    }
}
