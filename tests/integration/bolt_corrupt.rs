//! Bad BoltDB files: each kind of damage gives a clear error naming the file, and random
//! mutations of real-looking files never panic and never hang.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::time::Duration;

use libpod_stats::internals::libpod::bolt::format::{self, FLAG_BRANCH, PAGE_HEADER_SIZE};
use libpod_stats::internals::libpod::bolt::writer::{BoltTree, Node, Writer};
use libpod_stats::internals::libpod::bolt::{BoltDb, BoltError, Corruption, Entry};
use libpod_stats::internals::libpod::bolt_state::{state_from_db, write_bolt_state};
use libpod_stats::{HostRoot, RawContainer, RawPod, RawState, RuntimeConfig};
use proptest::prelude::*;

const SHOWN: &str = "/var/lib/containers/storage/libpod/bolt_state.db";

/// A state like podman's: a few containers with realistic config sizes, one pod.
fn podman_like_state() -> RawState {
    let id = |n: u32| format!("{n:064x}");
    let config = |n: u32| {
        format!(
            r#"{{"spec":{{"ociVersion":"1.0.2-dev","process":{{"args":["sleep","1000"],"env":[{}]}}}},"id":"{}","name":"lpstest-{n}","cgroupManager":"cgroupfs","cgroupParent":"/libpod_parent"}}"#,
            (0..120)
                .map(|i| format!("\"VAR{i}=value-{i}\""))
                .collect::<Vec<_>>()
                .join(","),
            id(n)
        )
        .into_bytes()
    };
    RawState {
        containers: (1..=6)
            .map(|n| RawContainer {
                id: id(n),
                name: Some(format!("lpstest-{n}")),
                pod_id: (n > 4).then(|| id(100)),
                config_json: config(n),
                state_json: format!(r#"{{"state":{},"pid":{}}}"#, n % 7, 1000 + n).into_bytes(),
            })
            .collect(),
        pods: vec![RawPod {
            id: id(100),
            name: Some("lpstest-pod".into()),
            config_json: br#"{"id":"pod"}"#.to_vec(),
            state_json: br#"{"cgroupPath":"/libpod_parent/pod"}"#.to_vec(),
        }],
        runtime: RuntimeConfig {
            graph_root: Some("/var/lib/containers/storage".into()),
            ..RuntimeConfig::default()
        },
    }
}

fn podman_like_file(page_size: u32) -> Vec<u8> {
    write_bolt_state(&podman_like_state(), &Writer::new().page_size(page_size)).unwrap()
}

/// A bucket with enough keys for a three-level tree at a 512-byte page size.
fn deep_file() -> Vec<u8> {
    let mut items = BoltTree::new();
    for i in 0..3000u32 {
        items.insert(
            format!("key-{i:06}").into_bytes(),
            Node::value(vec![b'v'; 24]),
        );
    }
    let mut tree = BoltTree::new();
    tree.insert(b"b".to_vec(), Node::Bucket(items));
    Writer::new().page_size(512).write(&tree).unwrap()
}

fn parse(bytes: Vec<u8>) -> Result<BoltDb, BoltError> {
    BoltDb::from_bytes(bytes, PathBuf::from(SHOWN))
}

/// Asserts `bytes` are rejected with a message naming the file and containing `what`.
#[track_caller]
fn rejected(bytes: Vec<u8>, what: &str) -> BoltError {
    let err = parse(bytes).expect_err("a damaged file was accepted");
    let msg = err.to_string();
    assert!(msg.contains(SHOWN), "message does not name the file: {msg}");
    assert!(msg.contains(what), "expected {what:?} in: {msg}");
    err
}

/// Every page id whose header names it and has the branch flag, with its children.
fn branches(bytes: &[u8], page_size: usize) -> BTreeMap<u64, Vec<u64>> {
    let mut out = BTreeMap::new();
    for (n, page) in bytes.chunks(page_size).enumerate() {
        let Ok((_, h)) = format::page_header(page) else {
            continue;
        };
        if h.id != n as u64 || h.flags != FLAG_BRANCH {
            continue;
        }
        let children = (0..usize::from(h.count))
            .filter_map(|i| {
                let at = PAGE_HEADER_SIZE + i * 16;
                format::branch_element(page.get(at..at + 16)?)
                    .ok()
                    .map(|(_, e)| e.pgid)
            })
            .collect();
        out.insert(n as u64, children);
    }
    out
}

/// Overwrites the pgid of child `index` of branch page `branch`.
fn set_child(bytes: &mut [u8], page_size: usize, branch: u64, index: usize, pgid: u64) {
    let at = branch as usize * page_size + PAGE_HEADER_SIZE + index * 16 + 8;
    bytes[at..at + 8].copy_from_slice(&pgid.to_le_bytes());
}

fn edit_meta(bytes: &mut [u8], page_size: usize, edit: impl Fn(&mut format::Meta)) {
    for page in 0..2 {
        let at = page * page_size + PAGE_HEADER_SIZE;
        let (_, mut m) = format::meta(&bytes[at..at + 64]).unwrap();
        edit(&mut m);
        bytes[at..at + 64].copy_from_slice(&m.to_bytes());
    }
}

#[test]
fn empty_and_truncated_files() {
    let good = podman_like_file(4096);
    rejected(Vec::new(), "no valid meta page");
    rejected(good[..10].to_vec(), "no valid meta page");
    // Meta 0 alone survives: it is used, and its root lies past the end.
    rejected(good[..4096].to_vec(), "runs past the end of the file");
    // Both metas intact but the data pages cut off.
    let err = rejected(
        good[..3 * 4096 + 100].to_vec(),
        "runs past the end of the file",
    );
    assert!(matches!(
        err.corruption(),
        Some(Corruption::PageBeyondEof { .. })
    ));
    // Every cut is rejected or, if it only drops unused bytes, still reads.
    for len in (0..good.len()).step_by(509) {
        match parse(good[..len].to_vec()) {
            Ok(db) => {
                state_from_db(&db).unwrap();
            }
            Err(e) => assert!(e.to_string().contains(SHOWN), "{e}"),
        }
    }
}

#[test]
fn zero_filled_random_and_wrong_magic_files() {
    let err = rejected(vec![0; 4 * 4096], "no valid meta page");
    assert!(err.to_string().contains("magic 0x00000000"), "{err}");

    let mut state = 0x2545_f491_4f6c_dd1du64;
    let random: Vec<u8> = (0..5 * 4096)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state as u8
        })
        .collect();
    rejected(random, "no valid meta page");

    let mut wrong = podman_like_file(4096);
    for page in 0..2 {
        wrong[page * 4096 + PAGE_HEADER_SIZE..page * 4096 + PAGE_HEADER_SIZE + 4]
            .copy_from_slice(&0xDEAD_BEEFu32.to_le_bytes());
    }
    let err = rejected(wrong, "magic 0xdeadbeef, expected 0xed0cdaed");
    assert!(!err.is_retryable());

    let mut version = podman_like_file(4096);
    edit_meta(&mut version, 4096, |m| m.version = 1);
    rejected(version, "version 1, expected 2");

    // A SQLite file given to the BoltDB reader.
    let mut sqlite = b"SQLite format 3\0".to_vec();
    sqlite.resize(8192, 0);
    rejected(sqlite, "no valid meta page");
}

#[test]
fn a_branch_pointing_at_itself_or_its_parent_is_a_cycle() {
    let good = deep_file();
    parse(good.clone()).unwrap();
    let tree = branches(&good, 512);
    // A branch whose children include another branch: the parent of a lower level.
    let (&parent, children) = tree
        .iter()
        .find(|(_, kids)| kids.iter().any(|k| tree.contains_key(k)))
        .expect("a three-level tree");
    let child = children
        .iter()
        .copied()
        .find(|k| tree.contains_key(k))
        .unwrap();

    let mut to_self = good.clone();
    set_child(&mut to_self, 512, child, 1, child);
    let err = rejected(to_self, "reached twice");
    assert_eq!(
        err.corruption(),
        Some(&Corruption::PageReachedTwice { pgid: child })
    );

    let mut to_parent = good.clone();
    set_child(&mut to_parent, 512, child, 0, parent);
    let err = rejected(to_parent, "reached twice");
    assert!(err.to_string().contains("in bucket b"), "{err}");

    // A lookup in a bucket whose branch loops (bypassing the check at open) ends too: the
    // lookup path is tracked on its own.
    let mut sibling = good;
    let other = tree[&parent][0];
    set_child(&mut sibling, 512, parent, 1, other);
    rejected(sibling, "reached twice");
}

#[test]
fn page_ids_out_of_range() {
    let good = deep_file();
    let tree = branches(&good, 512);
    let (&branch, _) = tree.iter().next().unwrap();
    let (_, meta) = format::meta(&good[512 + 16..512 + 80]).unwrap();

    for bad in [0u64, 1, meta.pgid, meta.pgid + 5, u64::MAX] {
        let mut bytes = good.clone();
        set_child(&mut bytes, 512, branch, 0, bad);
        let err = rejected(bytes, "out of range");
        assert_eq!(
            err.corruption(),
            Some(&Corruption::PageOutOfRange {
                pgid: bad,
                high_water: meta.pgid
            })
        );
    }

    let mut root = good.clone();
    edit_meta(&mut root, 512, |m| m.root = m.pgid + 1);
    rejected(root, "root page");

    // A page id pointing at a page whose header names another page.
    let mut shifted = good.clone();
    let target = tree[&branch][0];
    let at = target as usize * 512;
    shifted[at..at + 8].copy_from_slice(&(target + 1).to_le_bytes());
    rejected(shifted, &format!("page {target} has id {}", target + 1));

    // A high-water mark past the end of the file.
    let mut hwm = good;
    edit_meta(&mut hwm, 512, |m| m.pgid += 1000);
    // Pages are only read where referenced; the file stays readable.
    parse(hwm).unwrap();
}

#[test]
fn overflow_past_the_end() {
    let good = podman_like_file(1024);
    let db = parse(good.clone()).unwrap();
    let hwm = db.meta().pgid;
    // The last page of the file: give it overflow beyond the high-water mark...
    let last = (good.len() / 1024 - 1) as u64;
    let mut bytes = good.clone();
    let at = last as usize * 1024 + 12;
    bytes[at..at + 4].copy_from_slice(&1000u32.to_le_bytes());
    let err = rejected(bytes, "high-water mark");
    assert_eq!(
        err.corruption(),
        Some(&Corruption::OverflowOutOfRange {
            pgid: last,
            overflow: 1000,
            high_water: hwm
        })
    );
    // ...and with the mark raised to match, past the end of the file.
    let mut bytes = good.clone();
    bytes[at..at + 4].copy_from_slice(&3u32.to_le_bytes());
    edit_meta(&mut bytes, 1024, |m| m.pgid += 3);
    rejected(bytes, "runs past the end of the file");

    // An element whose value length runs outside its page.
    let mut bytes = good;
    let root = db.meta().root as usize * 1024;
    let vsize_at = root + PAGE_HEADER_SIZE + 12;
    bytes[vsize_at..vsize_at + 4].copy_from_slice(&u32::MAX.to_le_bytes());
    rejected(bytes, "points outside the page");
}

#[test]
fn read_names_the_real_file_under_a_snapshot_root() {
    let dir = tempfile::tempdir().unwrap();
    let rel = Path::new("var/lib/containers/storage/libpod");
    std::fs::create_dir_all(dir.path().join(rel)).unwrap();
    std::fs::write(dir.path().join(rel).join("bolt_state.db"), vec![0u8; 8192]).unwrap();
    let root = HostRoot::new(dir.path()).unwrap();
    let err = BoltDb::read(&root, Path::new(SHOWN)).unwrap_err();
    let msg = err.to_string();
    assert!(
        msg.contains(
            &root
                .dir()
                .join(rel)
                .join("bolt_state.db")
                .display()
                .to_string()
        ),
        "{msg}"
    );
}

/// Reads `bytes` and everything in them on another thread; fails if that takes more than a
/// few seconds (a hang) or panics.
fn survives(bytes: Vec<u8>) {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let outcome = parse(bytes).map(|db| {
            // Walk everything a caller could: every bucket, every lookup podman's layout uses.
            fn walk(b: &libpod_stats::internals::libpod::bolt::Bucket<'_>, n: &mut usize) {
                for e in b.entries().unwrap_or_default() {
                    *n += 1;
                    let _ = b.get(e.key());
                    if let Entry::Bucket { bucket, .. } = e {
                        walk(&bucket, n);
                    }
                }
            }
            let mut n = 0;
            walk(&db.root(), &mut n);
            let _ = state_from_db(&db);
            n
        });
        if let Err(e) = &outcome {
            assert!(e.to_string().contains(SHOWN), "{e}");
        }
        let _ = tx.send(());
    });
    match rx.recv_timeout(Duration::from_secs(20)) {
        Ok(()) => {}
        Err(mpsc::RecvTimeoutError::Timeout) => panic!("reading a mutated file hangs"),
        Err(mpsc::RecvTimeoutError::Disconnected) => panic!("reading a mutated file panicked"),
    }
}

/// Real podman state files shipped as fixtures (fixtures/**/bolt_state.db), when present.
fn fixture_files() -> &'static [Vec<u8>] {
    static FILES: std::sync::OnceLock<Vec<Vec<u8>>> = std::sync::OnceLock::new();
    FILES.get_or_init(load_fixture_files)
}

fn load_fixture_files() -> Vec<Vec<u8>> {
    fn find(dir: &Path, out: &mut Vec<PathBuf>) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                find(&p, out);
            } else if p.extension().is_some_and(|x| x == "db") {
                out.push(p);
            }
        }
    }
    let mut paths = Vec::new();
    find(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures"),
        &mut paths,
    );
    paths.sort();
    paths
        .iter()
        .filter_map(|p| std::fs::read(p).ok())
        .filter(|b| parse(b.clone()).is_ok())
        .collect()
}

#[derive(Debug, Clone)]
enum Mutation {
    Flip { at: usize, bit: u8 },
    Overwrite { at: usize, bytes: Vec<u8> },
    Truncate { len: usize },
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        4 => (any::<usize>(), 0u8..8).prop_map(|(at, bit)| Mutation::Flip { at, bit }),
        3 => (any::<usize>(), prop::collection::vec(any::<u8>(), 1..9))
            .prop_map(|(at, bytes)| Mutation::Overwrite { at, bytes }),
        1 => any::<usize>().prop_map(|len| Mutation::Truncate { len }),
    ]
}

/// Mutations land mostly where they matter: page headers, elements, metas.
fn apply(mut bytes: Vec<u8>, mutations: &[Mutation], page_size: usize) -> Vec<u8> {
    for m in mutations {
        if bytes.is_empty() {
            break;
        }
        let near_header = |at: usize| {
            let page = (at / 97) % (bytes.len() / page_size).max(1);
            (page * page_size + at % 96).min(bytes.len() - 1)
        };
        match m {
            Mutation::Flip { at, bit } => {
                let at = if at % 2 == 0 {
                    near_header(*at)
                } else {
                    at % bytes.len()
                };
                bytes[at] ^= 1 << bit;
            }
            Mutation::Overwrite { at, bytes: new } => {
                let at = near_header(*at);
                for (i, b) in new.iter().enumerate() {
                    if let Some(slot) = bytes.get_mut(at + i) {
                        *slot = *b;
                    }
                }
            }
            Mutation::Truncate { len } => {
                let len = len % bytes.len();
                bytes.truncate(len);
            }
        }
    }
    bytes
}

/// Re-seals the metas after a mutation so the damage reaches the pages behind them too
/// (a mutation of a meta is otherwise almost always caught by its checksum).
fn reseal(mut bytes: Vec<u8>, page_size: usize) -> Vec<u8> {
    for page in 0..2 {
        let at = page * page_size + PAGE_HEADER_SIZE;
        if let Some(slice) = bytes.get_mut(at..at + 64) {
            if let Ok((_, m)) = format::meta(slice) {
                slice.copy_from_slice(&m.to_bytes());
            }
        }
    }
    bytes
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn mutated_writer_files_never_panic_or_hang(
        mutations in prop::collection::vec(mutation(), 1..6),
        page_size in prop::sample::select(vec![1024u32, 4096]),
        sealed in any::<bool>(),
    ) {
        let bytes = apply(podman_like_file(page_size), &mutations, page_size as usize);
        survives(if sealed { reseal(bytes, page_size as usize) } else { bytes });
    }

    #[test]
    fn mutated_deep_trees_never_panic_or_hang(
        mutations in prop::collection::vec(mutation(), 1..6),
    ) {
        survives(reseal(apply(deep_file(), &mutations, 512), 512));
    }

    #[test]
    fn mutated_fixture_files_never_panic_or_hang(
        mutations in prop::collection::vec(mutation(), 1..6),
        which in any::<usize>(),
    ) {
        let files = fixture_files();
        if !files.is_empty() {
            let file = files[which % files.len()].clone();
            let page_size = parse(file.clone()).map(|db| db.page_size()).unwrap_or(4096);
            survives(reseal(apply(file, &mutations, page_size), page_size));
        }
    }
}
