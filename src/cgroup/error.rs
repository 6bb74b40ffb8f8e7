//! What can go wrong finding the cgroup layout or reading a cgroup.

use std::path::{Path, PathBuf};

use super::path::{CgroupPath, InvalidCgroupPath};
use crate::host::{HostError, ShownPath};
use crate::parse::ParseError;

/// Detecting the layout or reading a cgroup failed.
#[derive(Debug, thiserror::Error)]
pub enum CgroupError {
    /// A file could not be read for a reason other than its absence.
    #[error(transparent)]
    Host(#[from] HostError),
    /// A file did not have its family's format.
    #[error("reading {}: {source}", ShownPath::new(root, path))]
    Parse {
        /// The root the host path was read under.
        root: PathBuf,
        /// The host path of the file.
        path: PathBuf,
        /// What was wrong, and on which line.
        #[source]
        source: ParseError,
    },
    /// Neither `mountinfo` nor `/sys/fs/cgroup` shows a cgroup file system.
    #[error("no cgroup file system found under root {}", root.display())]
    NoCgroupMounts {
        /// The root that was searched.
        root: PathBuf,
    },
    /// The cgroup does not exist in any mounted hierarchy (the container is gone, or the
    /// path is wrong).
    #[error("cgroup {cgroup} does not exist in any mounted hierarchy")]
    NotFound {
        /// The cgroup path as asked for.
        cgroup: CgroupPath,
    },
    /// The cgroup path is not a [`CgroupPath`] (`..`, NUL bytes).
    #[error("invalid cgroup path {cgroup:?}: {reason}")]
    InvalidPath {
        /// The cgroup path as asked for.
        cgroup: String,
        /// Why it was refused.
        reason: &'static str,
    },
}

impl From<InvalidCgroupPath> for CgroupError {
    fn from(e: InvalidCgroupPath) -> Self {
        CgroupError::InvalidPath {
            cgroup: e.shown,
            reason: e.reason,
        }
    }
}

impl CgroupError {
    /// True when the cgroup does not exist: a container that stopped between discovery and
    /// the read, which callers usually report once and otherwise ignore.
    pub fn is_not_found(&self) -> bool {
        matches!(self, CgroupError::NotFound { .. })
    }

    pub(crate) fn parse(root: &Path, path: &Path, source: ParseError) -> Self {
        CgroupError::Parse {
            root: root.to_path_buf(),
            path: path.to_path_buf(),
            source,
        }
    }
}
