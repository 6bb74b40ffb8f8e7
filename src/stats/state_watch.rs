//! Has libpod's state changed since discovery? Answered every cycle without allocating.
//!
//! Discovery's [`StateFingerprint`] stamps every file its answer depends on, but computing
//! it re-reads `storage.conf` and `/etc/passwd` to find those files. The set of files only
//! changes when one of those files changes, and they are stamped too; so between
//! discoveries the collector re-stats the known files through paths resolved once, with
//! `stat(2)` into a stack buffer, and asks for a full fingerprint only when a stamp moved.

use std::ffi::CString;
use std::os::unix::ffi::OsStrExt;

use crate::host::HostRoot;
use crate::libpod::discover::{FileStamp, StateFingerprint};

/// The files of one fingerprint, resolved, with the stamps the fingerprint recorded.
#[derive(Debug, Default)]
pub struct StateWatch {
    files: Vec<(Option<CString>, Option<FileStamp>)>,
}

/// The stamp of a resolved path, as discovery computes it (directories: size and mtime 0).
fn stamp(path: &CString) -> Option<FileStamp> {
    // SAFETY: a zeroed `stat` is valid storage for stat(2) to fill; the path is
    // NUL-terminated.
    let mut st: libc::stat = unsafe { std::mem::zeroed() };
    if unsafe { libc::stat(path.as_ptr(), &mut st) } != 0 {
        return None;
    }
    let is_dir = st.st_mode & libc::S_IFMT == libc::S_IFDIR;
    Some(FileStamp {
        #[allow(clippy::unnecessary_cast)]
        dev: st.st_dev as u64,
        #[allow(clippy::unnecessary_cast)]
        ino: st.st_ino as u64,
        size: if is_dir {
            0
        } else {
            u64::try_from(st.st_size).unwrap_or(0)
        },
        mtime_ns: if is_dir {
            0
        } else {
            i128::from(st.st_mtime) * 1_000_000_000 + i128::from(st.st_mtime_nsec)
        },
    })
}

impl StateWatch {
    /// Watches the files of `fingerprint` under `root`.
    pub fn new(root: &HostRoot, fingerprint: &StateFingerprint) -> Self {
        let files = fingerprint
            .files
            .iter()
            .map(|(path, st)| {
                let resolved = root
                    .resolve(path)
                    .ok()
                    .and_then(|real| CString::new(real.as_os_str().as_bytes()).ok());
                (resolved, *st)
            })
            .collect();
        StateWatch { files }
    }

    /// True when every watched file still has the stamp the fingerprint recorded. A path
    /// that could not be resolved counts as changed, so discovery decides.
    pub fn unchanged(&self) -> bool {
        self.files.iter().all(|(path, recorded)| match path {
            Some(p) => stamp(p) == *recorded,
            None => false,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::libpod::discover::{state_fingerprint, DiscoveryOptions};

    #[test]
    fn a_changed_state_file_is_noticed() {
        let dir = tempfile::tempdir().unwrap();
        let store = dir.path().join("var/lib/containers/storage");
        std::fs::create_dir_all(store.join("libpod")).unwrap();
        std::fs::write(store.join("libpod/bolt_state.db"), b"one").unwrap();
        let root = HostRoot::new(dir.path()).unwrap();
        let opts = DiscoveryOptions {
            rootless_stores: false,
            ..DiscoveryOptions::default()
        };
        let fp = state_fingerprint(&root, &opts);
        let watch = StateWatch::new(&root, &fp);
        assert!(watch.unchanged());
        std::fs::write(store.join("libpod/bolt_state.db"), b"two!").unwrap();
        assert!(!watch.unchanged());
        let fp2 = state_fingerprint(&root, &opts);
        assert_ne!(fp, fp2);
        assert!(StateWatch::new(&root, &fp2).unchanged());
    }
}
