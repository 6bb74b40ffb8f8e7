//! The real podman 4.3.1 state files in fixtures/ through our reader and writer: the whole
//! tree (every bucket, `networks` and `dependencies` included) and podman's layout survive a
//! rewrite unchanged.

use std::path::{Path, PathBuf};

use libpod_stats::internals::libpod::bolt::writer::{self, Writer};
use libpod_stats::internals::libpod::bolt::BoltDb;
use libpod_stats::internals::libpod::bolt_state::{
    read_bolt_state, state_from_db, write_bolt_state,
};
use libpod_stats::HostRoot;

const STATE: &str = "/var/lib/containers/storage/libpod/bolt_state.db";

/// Snapshot directories under fixtures/libpod-state that hold a BoltDB.
fn fixtures() -> Vec<PathBuf> {
    let base = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/libpod-state");
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(&base)
        .map(|rd| rd.flatten().map(|e| e.path()).collect())
        .unwrap_or_default();
    dirs.retain(|d| d.join(STATE.trim_start_matches('/')).is_file());
    dirs.sort();
    dirs
}

#[test]
fn real_podman_files_round_trip() {
    let dirs = fixtures();
    assert!(
        !dirs.is_empty(),
        "no BoltDB fixtures in fixtures/libpod-state"
    );
    for dir in dirs {
        let root = HostRoot::new(&dir).unwrap();
        let db = BoltDb::read(&root, Path::new(STATE)).unwrap();
        assert_eq!(db.page_size(), 4096, "{}", dir.display());

        // The whole tree, byte for byte.
        let tree = db.to_tree().unwrap();
        let again = BoltDb::from_bytes(writer::write(&tree).unwrap(), dir.join("rewritten"))
            .unwrap()
            .to_tree()
            .unwrap();
        assert_eq!(again, tree, "{}", dir.display());

        // Podman's layout: the RawState survives a rewrite at any page size.
        let state = read_bolt_state(&root, Path::new(STATE)).unwrap();
        assert!(!state.containers.is_empty(), "{}", dir.display());
        for page_size in [1024u32, 4096, 16384] {
            let bytes = write_bolt_state(&state, &Writer::new().page_size(page_size)).unwrap();
            let db = BoltDb::from_bytes(bytes, dir.join("rewritten")).unwrap();
            assert_eq!(state_from_db(&db).unwrap(), state, "{}", dir.display());
        }
    }
}
