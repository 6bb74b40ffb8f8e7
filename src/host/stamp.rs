//! File stamps: what tells that a file, or a directory's listing, changed.

use std::os::unix::fs::MetadataExt;

/// The identity and version of one file, or of one directory's listing: enough to tell that
/// it changed. [`HostRoot::stamp`](super::HostRoot::stamp),
/// [`HostRoot::listing_stamp`](super::HostRoot::listing_stamp) and
/// [`ResolvedPath`](super::ResolvedPath) hand them out, all by the same rules.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct FileStamp {
    /// Device.
    pub dev: u64,
    /// Inode.
    pub ino: u64,
    /// Size in bytes (0 for a directory).
    pub size: u64,
    /// Modification time, nanoseconds since the Unix epoch (0 for a directory, except in a
    /// listing's stamp).
    pub mtime_ns: i128,
    /// Status change time, nanoseconds since the Unix epoch (0 where `mtime_ns` is): it also
    /// moves when a file is written with its mtime put back.
    pub ctime_ns: i128,
}

/// A file's device and inode: what changes when it is removed and made again.
pub(crate) type FileId = (u64, u64);

/// Which stamp: of a file (a directory's contents are not watched), or of a directory's
/// listing (its times move when an entry is added, removed or renamed).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Kind {
    File,
    Listing,
}

/// What a stamp is made of, as `stat(2)` and `statx(2)` report it.
pub(super) struct Raw {
    pub(super) dev: u64,
    pub(super) ino: u64,
    pub(super) is_dir: bool,
    pub(super) size: u64,
    pub(super) mtime: (i64, i64),
    pub(super) ctime: (i64, i64),
}

impl FileStamp {
    /// The stamp of `raw`, `None` for a listing's stamp of what is not a directory.
    pub(super) fn new(raw: Raw, kind: Kind) -> Option<FileStamp> {
        let times_count = match (kind, raw.is_dir) {
            (Kind::Listing, false) => return None,
            (Kind::Listing, true) => true,
            (Kind::File, is_dir) => !is_dir,
        };
        let ns = |(s, ns): (i64, i64)| i128::from(s) * 1_000_000_000 + i128::from(ns);
        Some(FileStamp {
            dev: raw.dev,
            ino: raw.ino,
            size: if raw.is_dir { 0 } else { raw.size },
            mtime_ns: if times_count { ns(raw.mtime) } else { 0 },
            ctime_ns: if times_count { ns(raw.ctime) } else { 0 },
        })
    }

    /// The stamp of a file's metadata (`std` reads it with `statx(2)`).
    pub(super) fn of(m: &std::fs::Metadata, kind: Kind) -> Option<FileStamp> {
        let raw = Raw {
            dev: m.dev(),
            ino: m.ino(),
            is_dir: m.is_dir(),
            size: m.size(),
            mtime: (m.mtime(), m.mtime_nsec()),
            ctime: (m.ctime(), m.ctime_nsec()),
        };
        FileStamp::new(raw, kind)
    }

    /// The file's identity, without its version.
    pub fn file_id(&self) -> FileId {
        (self.dev, self.ino)
    }
}
