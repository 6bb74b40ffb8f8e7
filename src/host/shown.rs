//! How a message names a host path: one rule for every error that carries one.

use std::fmt;
use std::path::{Path, PathBuf};

/// A host path as a message names it: on the live host the path itself; under a snapshot
/// root the file that is read (the root joined with the host path, as named: symlinks are
/// not followed), then `(under root <root>)`, so the host path can still be told.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ShownPath<'a> {
    root: &'a Path,
    path: &'a Path,
}

impl<'a> ShownPath<'a> {
    /// `path`, a host path, read under `root` (`/` for the live host).
    pub fn new(root: &'a Path, path: &'a Path) -> Self {
        ShownPath { root, path }
    }

    fn is_live(&self) -> bool {
        self.root == Path::new("/")
    }

    /// The file a message names: the host path on the live host, the file under the
    /// snapshot root otherwise.
    pub fn file(&self) -> PathBuf {
        if self.is_live() {
            self.path.to_path_buf()
        } else {
            self.root
                .join(self.path.strip_prefix("/").unwrap_or(self.path))
        }
    }
}

impl fmt::Display for ShownPath<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_live() {
            write!(f, "{}", self.path.display())
        } else {
            write!(
                f,
                "{} (under root {})",
                self.file().display(),
                self.root.display()
            )
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn live_paths_are_shown_as_they_are_snapshot_files_with_their_root() {
        let live = ShownPath::new(Path::new("/"), Path::new("/proc/1/stat"));
        assert_eq!(live.to_string(), "/proc/1/stat");
        assert_eq!(live.file(), Path::new("/proc/1/stat"));
        let snap = ShownPath::new(Path::new("/snap"), Path::new("/proc/1/stat"));
        assert_eq!(snap.to_string(), "/snap/proc/1/stat (under root /snap)");
        assert_eq!(snap.file(), Path::new("/snap/proc/1/stat"));
    }
}
