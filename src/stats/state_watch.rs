//! Has libpod's state changed since discovery? Answered every cycle without allocating.
//!
//! Discovery's [`StateFingerprint`] stamps every file its answer depends on, but computing
//! it re-reads `storage.conf` and `/etc/passwd` to find those files. The set of files only
//! changes when one of those files changes, and they are stamped too; so between
//! discoveries the collector re-stamps the known files through paths resolved once
//! (`ResolvedPath`: one `stat(2)` each, no allocation), and asks for a full fingerprint
//! only when a stamp moved.

use std::path::PathBuf;

use crate::host::{FileStamp, HostRoot, ResolvedPath};
use crate::libpod::discover::StateFingerprint;

/// The files of one fingerprint, resolved, with the stamps the fingerprint recorded.
#[derive(Debug, Default)]
pub struct StateWatch {
    files: Vec<(Option<ResolvedPath>, Option<FileStamp>)>,
    listings: Vec<(Option<ResolvedPath>, Option<FileStamp>)>,
}

impl StateWatch {
    /// Watches the files of `fingerprint` under `root`.
    pub fn new(root: &HostRoot, fingerprint: &StateFingerprint) -> Self {
        let resolve = |entries: &[(PathBuf, Option<FileStamp>)]| {
            entries
                .iter()
                .map(|(path, st)| (root.resolved(path), *st))
                .collect()
        };
        StateWatch {
            files: resolve(&fingerprint.files),
            listings: resolve(&fingerprint.listings),
        }
    }

    /// True when every watched file still has the stamp the fingerprint recorded. A path
    /// that could not be resolved counts as changed, so discovery decides.
    pub fn unchanged(&self) -> bool {
        let files = self
            .files
            .iter()
            .all(|(path, recorded)| path.as_ref().is_some_and(|p| p.stamp() == *recorded));
        files
            && self.listings.iter().all(|(path, recorded)| {
                path.as_ref()
                    .is_some_and(|p| p.listing_stamp() == *recorded)
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::libpod::discover::{state_fingerprint, DiscoveryOptions};
    use std::path::Path;

    /// The fingerprint of `root`'s stores as they are now (rootless ones when asked) and a
    /// watch over it, checked to see no change yet.
    fn watched(root: &HostRoot, rootless_stores: bool) -> (StateFingerprint, StateWatch) {
        let opts = DiscoveryOptions {
            rootless_stores,
            ..DiscoveryOptions::default()
        };
        let fp = state_fingerprint(root, &opts);
        let watch = StateWatch::new(root, &fp);
        assert!(watch.unchanged(), "a fresh watch sees no change");
        (fp, watch)
    }

    #[test]
    fn a_changed_state_file_is_noticed() {
        let dir = tempfile::tempdir().unwrap();
        let store = dir.path().join("var/lib/containers/storage");
        std::fs::create_dir_all(store.join("libpod")).unwrap();
        std::fs::write(store.join("libpod/bolt_state.db"), b"one").unwrap();
        let root = HostRoot::new(dir.path()).unwrap();
        let (fp, watch) = watched(&root, false);
        std::fs::write(store.join("libpod/bolt_state.db"), b"two!").unwrap();
        assert!(!watch.unchanged());
        let (fp2, _) = watched(&root, false);
        assert_ne!(fp, fp2);
    }

    /// A drop-in added to a `containers.conf.d` directory podman 6 reads
    /// (`vendor/go.podman.io/storage/pkg/configfile/parse.go`, `getDropInPaths`, podman
    /// 6.0.0-rc1 d0c9bb1b49) can move the database: the watch notices it, whether the
    /// directory existed before or not.
    #[test]
    fn a_new_dropin_is_noticed() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("var/lib/containers/storage")).unwrap();
        let root = HostRoot::new(dir.path()).unwrap();
        let (_, watch) = watched(&root, false);
        let d = dir.path().join("etc/containers/containers.conf.d");
        std::fs::create_dir_all(&d).unwrap();
        assert!(!watch.unchanged());
        let (_, watch2) = watched(&root, false);
        std::fs::write(
            d.join("50-static.conf"),
            "[engine]\nstatic_dir = \"/srv/s\"\n",
        )
        .unwrap();
        assert!(!watch2.unchanged());
        let (fp3, _) = watched(&root, false);
        assert!(fp3
            .files
            .iter()
            .any(|(p, st)| p.ends_with("containers.conf.d/50-static.conf") && st.is_some()));
    }

    /// A per-uid drop-in directory (`containers.rootless.conf.d/<uid>/`, podman 6.0.0-rc1
    /// d0c9bb1b49, `configfile/parse.go`, `getDropInPathsUnderMain`) is not watched while its
    /// parent is absent; creating it is still noticed, through the parent.
    #[test]
    fn a_new_per_uid_dropin_is_noticed_through_its_parent() {
        let dir = tempfile::tempdir().unwrap();
        let graph = dir
            .path()
            .join("home/alice/.local/share/containers/storage");
        std::fs::create_dir_all(&graph).unwrap();
        std::fs::create_dir_all(dir.path().join("etc")).unwrap();
        std::fs::write(
            dir.path().join("etc/passwd"),
            "root:x:0:0::/root:/bin/sh\nalice:x:1000:1000::/home/alice:/bin/sh\n",
        )
        .unwrap();
        let root = HostRoot::new(dir.path()).unwrap();
        let (fp, watch) = watched(&root, true);
        let parent = Path::new("/etc/containers/containers.rootless.conf.d");
        assert!(fp
            .listings
            .iter()
            .any(|(d, st)| d == parent && st.is_none()));
        assert!(!fp.listings.iter().any(|(d, _)| d == &parent.join("1000")));
        let per_uid = dir
            .path()
            .join("etc/containers/containers.rootless.conf.d/1000");
        std::fs::create_dir_all(&per_uid).unwrap();
        std::fs::write(
            per_uid.join("50-db.conf"),
            "[engine]\ndatabase_backend = \"sqlite\"\n",
        )
        .unwrap();
        assert!(!watch.unchanged());
        let (fp2, _) = watched(&root, true);
        assert!(fp2
            .files
            .iter()
            .any(|(p, st)| p == &parent.join("1000/50-db.conf") && st.is_some()));
    }
}
