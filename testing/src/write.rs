//! Writing files into a snapshot directory by their host paths.

use std::cell::RefCell;
use std::collections::HashSet;
use std::path::{Path, PathBuf};

/// Writing the synthetic host failed.
#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    /// A file or directory could not be written.
    #[error("writing {}: {source}", path.display())]
    Io {
        /// The real path in the snapshot.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// The description cannot be turned into files (an unknown pod, a bad key).
    #[error("{0}")]
    Spec(String),
}

/// A snapshot directory that files are written into by their host paths.
#[derive(Debug, Clone)]
pub struct Out {
    dir: PathBuf,
    /// Directories already created, so that writing thousands of cgroup files does not
    /// ask the file system again for each one.
    made: RefCell<HashSet<PathBuf>>,
}

impl Out {
    /// Writes into `dir`.
    pub fn new(dir: &Path) -> Self {
        Out {
            dir: dir.to_path_buf(),
            made: RefCell::new(HashSet::new()),
        }
    }

    /// The real path of a host path in the snapshot.
    pub fn path(&self, host_path: impl AsRef<Path>) -> PathBuf {
        let p = host_path.as_ref();
        self.dir.join(p.strip_prefix("/").unwrap_or(p))
    }

    fn io(path: &Path) -> impl FnOnce(std::io::Error) -> BuildError + '_ {
        move |source| BuildError::Io {
            path: path.to_path_buf(),
            source,
        }
    }

    /// Writes a whole file, creating its directories.
    pub fn write(
        &self,
        host_path: impl AsRef<Path>,
        content: impl AsRef<[u8]>,
    ) -> Result<(), BuildError> {
        let path = self.path(host_path);
        if let Some(parent) = path.parent() {
            self.make_dir(parent)?;
        }
        std::fs::write(&path, content).map_err(Self::io(&path))
    }

    /// Creates a directory and its parents.
    pub fn dir(&self, host_path: impl AsRef<Path>) -> Result<(), BuildError> {
        self.make_dir(&self.path(host_path))
    }

    fn make_dir(&self, real: &Path) -> Result<(), BuildError> {
        if self.made.borrow().contains(real) {
            return Ok(());
        }
        std::fs::create_dir_all(real).map_err(Self::io(real))?;
        self.made.borrow_mut().insert(real.to_path_buf());
        Ok(())
    }

    /// Removes a file, a symlink or a whole directory; absent is fine.
    pub fn remove(&self, host_path: impl AsRef<Path>) -> Result<(), BuildError> {
        let path = self.path(host_path);
        let result = match path.symlink_metadata() {
            Ok(m) if m.is_dir() => std::fs::remove_dir_all(&path),
            Ok(_) => std::fs::remove_file(&path),
            Err(_) => return Ok(()),
        };
        result.map_err(Self::io(&path))
    }

    /// Creates a symlink at `host_path` pointing at `target` (kept as given), replacing an
    /// old one.
    pub fn symlink(&self, target: &str, host_path: impl AsRef<Path>) -> Result<(), BuildError> {
        let path = self.path(host_path);
        if let Some(parent) = path.parent() {
            self.make_dir(parent)?;
        }
        if path.symlink_metadata().is_ok() {
            std::fs::remove_file(&path).map_err(Self::io(&path))?;
        }
        std::os::unix::fs::symlink(target, &path).map_err(Self::io(&path))
    }
}
