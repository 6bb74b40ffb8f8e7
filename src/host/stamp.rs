//! File stamps: what tells that a file, or a directory's listing, changed.

use std::os::unix::fs::MetadataExt;

/// The identity and version of one file: enough to tell that it changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct FileStamp {
    /// Device.
    pub dev: u64,
    /// Inode.
    pub ino: u64,
    /// Size in bytes.
    pub size: u64,
    /// Modification time, nanoseconds since the Unix epoch.
    pub mtime_ns: i128,
}

impl FileStamp {
    /// The stamp of a file's metadata (a directory's size and mtime count as 0: listing
    /// changes are not what it watches).
    pub fn of(m: &std::fs::Metadata) -> FileStamp {
        FileStamp {
            dev: m.dev(),
            ino: m.ino(),
            size: if m.is_dir() { 0 } else { m.size() },
            mtime_ns: if m.is_dir() {
                0
            } else {
                i128::from(m.mtime()) * 1_000_000_000 + i128::from(m.mtime_nsec())
            },
        }
    }

    /// The stamp of a directory's listing: its mtime, which moves when an entry is added,
    /// removed or renamed (size 0).
    pub fn of_listing(m: &std::fs::Metadata) -> FileStamp {
        FileStamp {
            dev: m.dev(),
            ino: m.ino(),
            size: 0,
            mtime_ns: i128::from(m.mtime()) * 1_000_000_000 + i128::from(m.mtime_nsec()),
        }
    }
}
