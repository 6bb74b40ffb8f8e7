//! Reader and writer together: files written from trees read back as the same trees, and
//! each structural check rejects the file it should.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use proptest::prelude::*;

use super::format::{self, FLAG_BRANCH, PAGE_HEADER_SIZE};
use super::writer::{self, BoltTree, Node, Writer};
use super::*;

fn key(s: &str) -> Vec<u8> {
    s.as_bytes().to_vec()
}

fn bucket(items: Vec<(&str, Node)>) -> Node {
    Node::Bucket(items.into_iter().map(|(k, v)| (key(k), v)).collect())
}

fn db(bytes: Vec<u8>) -> Result<BoltDb, BoltError> {
    BoltDb::from_bytes(bytes, PathBuf::from("/test/bolt_state.db"))
}

fn sample_tree() -> BoltTree {
    let mut top = BoltTree::new();
    top.insert(
        key("all-ctrs"),
        bucket(vec![
            ("aaa", Node::value("one")),
            ("bbb", Node::value("two")),
        ]),
    );
    top.insert(
        key("ctr"),
        bucket(vec![(
            "aaa",
            bucket(vec![
                ("config", Node::value(vec![b'x'; 10_000])),
                ("dependencies", Node::empty_bucket()),
                ("state", Node::value("{\"state\":3}")),
            ]),
        )]),
    );
    top.insert(key("empty"), Node::empty_bucket());
    top
}

/// Page ids of the tree's top-level bucket roots (non-inline ones), from the raw bytes.
fn pages_of(db: &BoltDb) -> Vec<(u64, u16)> {
    let ps = db.page_size();
    (2..db.meta().pgid)
        .filter_map(|id| {
            let start = id as usize * ps;
            let (_, h) = format::page_header(db.data.get(start..start + 16)?).ok()?;
            (h.id == id).then_some((id, h.flags))
        })
        .collect()
}

#[test]
fn a_written_tree_reads_back() {
    let tree = sample_tree();
    let db = db(writer::write(&tree).unwrap()).unwrap();
    assert_eq!(db.page_size(), 4096);
    assert_eq!(db.meta().txid, 1);
    assert_eq!(db.to_tree().unwrap(), tree);

    let root = db.root();
    let all = root.bucket(b"all-ctrs").unwrap().unwrap();
    assert_eq!(all.get(b"bbb").unwrap(), Some(&b"two"[..]));
    assert_eq!(all.get(b"ccc").unwrap(), None);
    // A key that names a bucket is not a value, and a value is not a bucket.
    assert_eq!(root.get(b"all-ctrs").unwrap(), None);
    assert!(all.bucket(b"aaa").unwrap().is_none());

    let ctr = root.bucket(b"ctr").unwrap().unwrap();
    let aaa = ctr.bucket(b"aaa").unwrap().unwrap();
    assert_eq!(aaa.name(), "ctr/aaa");
    assert_eq!(aaa.get(b"config").unwrap().unwrap().len(), 10_000);
    let deps = aaa.bucket(b"dependencies").unwrap().unwrap();
    assert!(deps.entries().unwrap().is_empty());
}

#[test]
fn small_buckets_are_inline_and_large_values_overflow() {
    let tree = sample_tree();
    let bytes = writer::write(&tree).unwrap();
    let db = db(bytes).unwrap();
    // Pages: the freelist (2); ctr/aaa's tree: its 10 KB config alone on a leaf with two
    // overflow pages (3-5), the other two keys on a leaf (6), a branch over both (7); the
    // ctr bucket's leaf (8); the root leaf (9). all-ctrs, empty and dependencies are inline.
    let pages = pages_of(&db);
    assert_eq!(
        pages,
        [(2, 0x10), (3, 2), (6, 2), (7, 1), (8, 2), (9, 2)],
        "{pages:?}"
    );
    let start = 3 * db.page_size();
    let (_, h) = format::page_header(&db.data[start..start + 16]).unwrap();
    assert_eq!(h.overflow, 2);
}

#[test]
fn many_keys_make_branch_pages() {
    let mut items = BoltTree::new();
    for i in 0..2000u32 {
        items.insert(
            format!("{i:08}").into_bytes(),
            Node::value(format!("v{i}").repeat(3)),
        );
    }
    let mut tree = BoltTree::new();
    tree.insert(key("b"), Node::Bucket(items));
    for page_size in [512u32, 1024, 4096, 16384] {
        let bytes = Writer::new().page_size(page_size).write(&tree).unwrap();
        let db = db(bytes).unwrap();
        assert_eq!(db.page_size(), page_size as usize);
        if page_size <= 4096 {
            assert!(pages_of(&db).iter().any(|(_, f)| *f == FLAG_BRANCH));
        }
        let b = db.root().bucket(b"b").unwrap().unwrap();
        assert_eq!(b.get(b"00001234").unwrap(), Some(&b"v1234v1234v1234"[..]));
        assert_eq!(b.get(b"00000000").unwrap(), Some(&b"v0v0v0"[..]));
        assert_eq!(b.get(b"0000123").unwrap(), None);
        assert_eq!(b.get(b"99999999").unwrap(), None);
        assert_eq!(b.get(b"").unwrap(), None);
        assert_eq!(b.entries().unwrap().len(), 2000);
        assert_eq!(db.to_tree().unwrap(), tree);
    }
}

#[test]
fn an_unpersisted_freelist_is_fine() {
    let tree = sample_tree();
    let bytes = Writer::new().persist_freelist(false).write(&tree).unwrap();
    let db = db(bytes).unwrap();
    assert_eq!(db.meta().freelist, format::NO_FREELIST);
    assert_eq!(db.to_tree().unwrap(), tree);
}

fn set_meta(bytes: &mut [u8], page: usize, page_size: usize, edit: impl Fn(&mut format::Meta)) {
    let at = page * page_size + PAGE_HEADER_SIZE;
    let (_, mut m) = format::meta(&bytes[at..at + 64]).unwrap();
    edit(&mut m);
    bytes[at..at + 64].copy_from_slice(&m.to_bytes());
}

#[test]
fn the_higher_valid_txid_wins_and_a_broken_meta_falls_back() {
    let mut tree = BoltTree::new();
    tree.insert(key("new"), Node::empty_bucket());
    let new = writer::write(&tree).unwrap();
    let mut old_tree = BoltTree::new();
    old_tree.insert(key("old"), Node::empty_bucket());
    let old = writer::write(&old_tree).unwrap();
    // A file whose meta 1 (txid 1) points at the new tree and meta 0 (txid 0) at the old
    // one: only possible when both trees' pages coexist, so splice the old root page in.
    let mut bytes = new.clone();
    let ps = 4096;
    let old_root = {
        let db = db(old.clone()).unwrap();
        db.meta().root as usize
    };
    let spare = bytes.len() / ps;
    bytes.extend_from_slice(&old[old_root * ps..(old_root + 1) * ps]);
    bytes[spare * ps..spare * ps + 8].copy_from_slice(&(spare as u64).to_le_bytes());
    for page in 0..2 {
        set_meta(&mut bytes, page, ps, |m| m.pgid = spare as u64 + 1);
    }
    set_meta(&mut bytes, 0, ps, |m| m.root = spare as u64);
    let chosen = db(bytes.clone()).unwrap();
    assert_eq!(chosen.meta().txid, 1);
    assert!(chosen.root().bucket(b"new").unwrap().is_some());

    // Break meta 1's checksum: meta 0 (the old tree) is used.
    bytes[ps + PAGE_HEADER_SIZE + 56] ^= 0xff;
    let fallback = db(bytes.clone()).unwrap();
    assert_eq!(fallback.meta().txid, 0);
    assert!(fallback.root().bucket(b"old").unwrap().is_some());

    // Break meta 0 too: no valid meta.
    bytes[PAGE_HEADER_SIZE] ^= 0xff;
    let err = db(bytes).unwrap_err();
    let msg = err.to_string();
    assert!(msg.contains("/test/bolt_state.db"), "{msg}");
    assert!(msg.contains("no valid meta page"), "{msg}");
    assert!(msg.contains("magic"), "{msg}");
    assert!(msg.contains("checksum"), "{msg}");
    assert!(!msg.contains("missing"), "{msg}");
}

#[test]
fn the_page_size_is_probed_from_meta_1_when_meta_0_is_broken() {
    let tree = sample_tree();
    for page_size in [1024u32, 16384, 65536] {
        let mut bytes = Writer::new().page_size(page_size).write(&tree).unwrap();
        bytes[PAGE_HEADER_SIZE..PAGE_HEADER_SIZE + 4].copy_from_slice(&[0; 4]);
        let db = db(bytes).unwrap();
        assert_eq!(db.page_size(), page_size as usize);
        assert_eq!(db.meta().txid, 1);
        assert_eq!(db.to_tree().unwrap(), tree);
    }
}

#[test]
fn read_goes_through_the_host_root() {
    let dir = tempfile::tempdir().unwrap();
    let rel = "var/lib/containers/storage/libpod";
    std::fs::create_dir_all(dir.path().join(rel)).unwrap();
    let tree = sample_tree();
    std::fs::write(
        dir.path().join(rel).join("bolt_state.db"),
        writer::write(&tree).unwrap(),
    )
    .unwrap();
    let root = crate::host::HostRoot::new(dir.path()).unwrap();
    let host_path = Path::new("/var/lib/containers/storage/libpod/bolt_state.db");
    let db = BoltDb::read(&root, host_path).unwrap();
    assert_eq!(db.to_tree().unwrap(), tree);
    assert!(db.path().starts_with(root.dir()));

    let missing = BoltDb::read(&root, Path::new("/nope.db")).unwrap_err();
    assert!(missing.is_not_found(), "{missing}");
    assert!(!missing.is_retryable());
}

#[test]
fn a_commit_during_the_copy_makes_the_reader_copy_again() {
    let tree = sample_tree();
    let first = writer::write(&tree).unwrap();
    let mut second = first.clone();
    set_meta(&mut second, 1, 4096, |m| m.txid = 3);
    // The copy shows txid 1, then the meta says txid 3: copy again, and this time it holds.
    let mut copies = vec![second.clone(), first.clone()];
    let mut prefixes = vec![second.clone(), second.clone()];
    let db = super::read_consistent(
        PathBuf::from("/x.db"),
        || Ok(Some(copies.pop().unwrap())),
        |len| Ok(prefixes.pop().unwrap()[..len].to_vec()),
    )
    .unwrap();
    assert_eq!(db.meta().txid, 3);
    assert!(copies.is_empty() && prefixes.is_empty());

    // A file that changes on every attempt: a retryable error after a bounded number.
    let mut attempts = 0;
    let err = super::read_consistent(
        PathBuf::from("/x.db"),
        || {
            attempts += 1;
            Ok(Some(first.clone()))
        },
        |_| Ok(second.clone()),
    )
    .unwrap_err();
    assert!(err.is_retryable(), "{err}");
    assert_eq!(attempts, MAX_READ_ATTEMPTS);
    assert!(err.to_string().contains("/x.db"), "{err}");
}

#[test]
fn a_self_referencing_branch_is_a_cycle_error() {
    let mut items = BoltTree::new();
    for i in 0..200u32 {
        items.insert(format!("{i:05}").into_bytes(), Node::value("x".repeat(40)));
    }
    let mut tree = BoltTree::new();
    tree.insert(key("b"), Node::Bucket(items));
    let mut bytes = Writer::new().page_size(1024).write(&tree).unwrap();
    let good = db(bytes.clone()).unwrap();
    let branch = pages_of(&good)
        .into_iter()
        .find(|(_, f)| *f == FLAG_BRANCH)
        .map(|(id, _)| id)
        .unwrap();
    // Point the branch's second child at the branch itself.
    let at = branch as usize * 1024 + PAGE_HEADER_SIZE + 16 + 8;
    bytes[at..at + 8].copy_from_slice(&branch.to_le_bytes());
    let err = db(bytes).unwrap_err();
    assert_eq!(
        err.corruption(),
        Some(&Corruption::PageReachedTwice { pgid: branch }),
        "{err}"
    );
    assert!(err.to_string().contains("in bucket b"), "{err}");
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn random_trees_round_trip(
        tree in arb_tree(),
        page_size in prop::sample::select(vec![512u32, 1024, 4096]),
        persist in any::<bool>(),
    ) {
        let bytes = Writer::new().page_size(page_size).persist_freelist(persist).write(&tree).unwrap();
        let db = db(bytes).unwrap();
        prop_assert_eq!(db.to_tree().unwrap(), tree.clone());
        // Every key is found by lookup too, not only by listing.
        for (k, node) in &tree {
            match node {
                Node::Value(v) => prop_assert_eq!(db.root().get(k).unwrap(), Some(&v[..])),
                Node::Bucket(_) => prop_assert!(db.root().bucket(k).unwrap().is_some()),
            }
        }
    }
}

fn arb_key() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        prop::collection::vec(any::<u8>(), 1..12),
        prop::collection::vec(any::<u8>(), 1..600),
    ]
}

fn arb_value() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        4 => prop::collection::vec(any::<u8>(), 0..64),
        1 => prop::collection::vec(any::<u8>(), 0..5000),
    ]
}

fn arb_tree() -> impl Strategy<Value = BoltTree> {
    let leaf = prop_oneof![
        arb_value().prop_map(Node::Value),
        Just(Node::empty_bucket()),
    ];
    let node = leaf.prop_recursive(4, 120, 40, |inner| {
        prop_oneof![
            arb_value().prop_map(Node::Value),
            prop::collection::btree_map(arb_key(), inner, 0..40).prop_map(Node::Bucket),
        ]
    });
    prop::collection::btree_map(arb_key(), node, 0..12).prop_map(|m: BTreeMap<_, _>| m)
}
