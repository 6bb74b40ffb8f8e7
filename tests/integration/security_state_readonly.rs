//! Reading podman's state never writes to it and never holds a lock podman would wait on:
//! after any number of reads the database files have the same bytes, mtime and ctime, no
//! journal appears beside them, and podman's `flock(LOCK_EX)` on `bolt_state.db` succeeds
//! at every moment of a read.

use std::os::unix::fs::MetadataExt;
use std::os::unix::io::AsRawFd;
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;

use libpod_stats::internals::libpod::bolt::writer::{BoltTree, Node, Writer};
use libpod_stats::internals::libpod::bolt::BoltDb;
use libpod_stats::internals::libpod::bolt_state::{read_bolt_state, write_bolt_state};
use libpod_stats::internals::libpod::sqlite::{read_sqlite_state, write_sqlite_state};
use libpod_stats::{HostRoot, RawContainer, RawState};

fn state(n: usize) -> RawState {
    RawState {
        containers: (0..n)
            .map(|i| {
                let id = format!("{i:064x}");
                RawContainer {
                    config_json: format!(r#"{{"id":"{id}","name":"c{i}"}}"#).into_bytes(),
                    state_json: br#"{"state":6}"#.to_vec(),
                    name: Some(format!("c{i}")),
                    id,
                    pod_id: None,
                }
            })
            .collect(),
        ..Default::default()
    }
}

/// What must not change: content, modification and change times, and the directory.
fn stamp(file: &Path) -> (Vec<u8>, i64, i64, i64, i64, Vec<String>) {
    let m = std::fs::metadata(file).unwrap();
    let mut names: Vec<String> = std::fs::read_dir(file.parent().unwrap())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    (
        std::fs::read(file).unwrap(),
        m.mtime(),
        m.mtime_nsec(),
        m.ctime(),
        m.ctime_nsec(),
        names,
    )
}

#[test]
fn bolt_state_reads_change_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir
        .path()
        .join("var/lib/containers/storage/libpod/bolt_state.db");
    std::fs::create_dir_all(db.parent().unwrap()).unwrap();
    std::fs::write(&db, write_bolt_state(&state(20), &Writer::new()).unwrap()).unwrap();
    let before = stamp(&db);
    let root = HostRoot::new(dir.path()).unwrap();
    for _ in 0..50 {
        let raw = read_bolt_state(
            &root,
            Path::new("/var/lib/containers/storage/libpod/bolt_state.db"),
        )
        .unwrap();
        assert_eq!(raw.containers.len(), 20);
    }
    assert_eq!(stamp(&db), before, "reading the BoltDB changed it");
}

#[test]
fn sqlite_state_reads_change_nothing_and_leave_no_journal() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("var/lib/containers/storage/db.sql");
    std::fs::create_dir_all(db.parent().unwrap()).unwrap();
    write_sqlite_state(&state(20), &db).unwrap();
    let before = stamp(&db);
    let root = HostRoot::new(dir.path()).unwrap();
    for _ in 0..20 {
        let raw =
            read_sqlite_state(&root, Path::new("/var/lib/containers/storage/db.sql")).unwrap();
        assert_eq!(raw.containers.len(), 20);
    }
    assert_eq!(stamp(&db), before, "reading the SQLite state changed it");
}

/// A BoltDB big enough that one read takes a while (many MiB of values), so lock attempts
/// land in the middle of reads.
fn big_bolt() -> Vec<u8> {
    let mut tree = BoltTree::new();
    let mut ctr = BoltTree::new();
    for i in 0..16u32 {
        ctr.insert(
            format!("value-{i:04}").into_bytes(),
            Node::Value(vec![i as u8; 256 * 1024]),
        );
    }
    tree.insert(b"ctr".to_vec(), Node::Bucket(ctr));
    Writer::new().write(&tree).unwrap()
}

#[test]
fn podmans_exclusive_flock_never_waits_on_a_reader() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("bolt_state.db");
    std::fs::write(&db, big_bolt()).unwrap();
    let root = HostRoot::new(dir.path()).unwrap();
    let done = Arc::new(AtomicBool::new(false));
    let reads = Arc::new(AtomicUsize::new(0));
    let reader = {
        let (done, reads) = (done.clone(), reads.clone());
        std::thread::spawn(move || {
            while !done.load(Ordering::Relaxed) {
                let db = BoltDb::read(&root, Path::new("/bolt_state.db")).unwrap();
                let _ = db.root().entries().unwrap();
                reads.fetch_add(1, Ordering::Relaxed);
            }
        })
    };
    // Podman opens the file read-write and takes flock(LOCK_EX); with LOCK_NB any lock we
    // held would make that fail with EWOULDBLOCK. (flock locks belong to open files, so a
    // second open in this process conflicts with the reader's just as podman's would.)
    let file = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open(&db)
        .unwrap();
    let mut attempts = 0u32;
    let start = std::time::Instant::now();
    while reads.load(Ordering::Relaxed) < 5 || attempts < 2000 {
        let rc = unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) };
        assert_eq!(
            rc,
            0,
            "flock(LOCK_EX|LOCK_NB) failed during a read: {}",
            std::io::Error::last_os_error()
        );
        unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_UN) };
        attempts += 1;
        if start.elapsed() > std::time::Duration::from_secs(60) {
            break;
        }
    }
    done.store(true, Ordering::Relaxed);
    reader.join().unwrap();
    assert!(
        reads.load(Ordering::Relaxed) >= 5,
        "the reader did not get going"
    );
}
