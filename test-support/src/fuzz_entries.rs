//! The fuzz entry points over `libpod_stats`, one per target.
//!
//! Each takes the raw bytes libFuzzer (or a regression file) gives and drives one reader
//! through everything it offers: every iterator to its end, every lookup, every accessor
//! of what it returned. None of them may panic; where a reader promises more than "no
//! panic" (a BoltDB written by our writer reads back the same tree, redaction is
//! idempotent, a cgroup path from /proc never escapes its controller root) the entry point
//! asserts it, so a broken promise is a crash too.
//!
//! Shared: the fuzz crate re-exports it as `libpod_stats_fuzz::entries`, and the core's
//! `fuzz_regressions` tests call it, so every saved crash input is replayed through exactly
//! the code the fuzzer ran.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use libpod_stats::internals::libpod::bolt::format::{
    fnv1a64, META_CHECKSUM_COVERS, META_SIZE, PAGE_HEADER_SIZE,
};
use libpod_stats::internals::libpod::bolt::writer::{BoltTree, Node, Writer};
use libpod_stats::internals::libpod::bolt::{BoltDb, Bucket, Entry};
use libpod_stats::internals::parse;
use libpod_stats::{RawContainer, RawPod, RawState, Source};

/// One fuzz entry point: bytes in, a panic on a defect.
pub type EntryPoint = fn(&[u8]);

/// Every library target, by the name its corpus and regression directories have.
pub const TARGETS: &[(&str, EntryPoint)] = &[
    ("single", single),
    ("flat_keyed", flat_keyed),
    ("nested_keyed", nested_keyed),
    ("blkio", blkio),
    ("percpu", percpu),
    ("usage_all", usage_all),
    ("psi", psi),
    ("proc_cgroup", proc_cgroup),
    ("mountinfo", mountinfo),
    ("meminfo", meminfo),
    ("net_dev", net_dev),
    ("bolt_reader", bolt_reader),
    ("bolt_structured", bolt_structured),
    ("bolt_state", bolt_state),
    ("sqlite_state", sqlite_state),
    ("state_json", state_json),
    ("containers_json", containers_json),
    ("redact_json", redact_json),
];

/// A single-value file: a counter, a v2 limit (`max`), a v1 limit with a threshold.
pub fn single(data: &[u8]) {
    let _ = parse::single::u64(data);
    let _ = parse::single::limit(data);
    let threshold = data.first().map_or(0, |&b| u64::from(b) << 56);
    let _ = parse::single::limit_v1(data, threshold);
    let _ = parse::single::limit_v1(data, u64::MAX);
}

/// `memory.stat`, `cpu.stat` and friends.
pub fn flat_keyed(data: &[u8]) {
    for line in parse::flat_keyed::iter(data) {
        let _ = line;
    }
    for key in [&b"total_cache"[..], b"anon", b"usage_usec", b"", b" "] {
        let _ = parse::flat_keyed::get(data, key);
    }
    let mut seen = 0usize;
    let _ = parse::flat_keyed::for_each(data, |_, _| seen += 1);
}

/// `io.stat`: device lines of `key=value` pairs.
pub fn nested_keyed(data: &[u8]) {
    for line in parse::nested_keyed::iter(data) {
        let Ok(line) = line else { continue };
        for pair in line.pairs() {
            let _ = pair;
        }
        let _ = line.get_u64(b"rbytes");
        let _ = line.get_u64(b"");
    }
    let _ = parse::nested_keyed::sum_keys(data, [b"rbytes", b"wbytes", b"rios", b"wios"]);
}

/// v1 `blkio.*` files.
pub fn blkio(data: &[u8]) {
    for line in parse::blkio::iter(data) {
        let _ = line;
    }
    let _ = parse::blkio::sum_read_write(data);
}

/// `cpuacct.usage_percpu`.
pub fn percpu(data: &[u8]) {
    for value in parse::percpu::iter(data) {
        let _ = value;
    }
}

/// `cpuacct.usage_all`.
pub fn usage_all(data: &[u8]) {
    for row in parse::usage_all::iter(data) {
        let _ = row;
    }
    let _ = parse::usage_all::totals(data);
}

/// `cpu.pressure`, `memory.pressure`, `io.pressure`.
pub fn psi(data: &[u8]) {
    let _ = parse::psi::parse(data);
}

/// `/proc/<pid>/cgroup`, and the container cgroup discovery derives from it: whatever the
/// file says, that cgroup must be a safe path below a controller root.
/// `id` as a container id (a constant of this file).
fn id(text: &str) -> libpod_stats::ContainerId {
    text.parse().expect("a valid id constant")
}

/// True when `cgroup` joined onto a mount point stays below it, by std's own path parser.
fn below_root(cgroup: &libpod_stats::CgroupPath) -> bool {
    cgroup
        .relative()
        .components()
        .all(|c| matches!(c, std::path::Component::Normal(_)))
}

pub fn proc_cgroup(data: &[u8]) {
    use libpod_stats::internals::libpod::cgroup_path;
    for line in parse::proc_cgroup::iter(data) {
        let Ok(line) = line else { continue };
        let _ = line.controller_names().count();
        let _ = (
            line.is_named(),
            line.is_unified(),
            line.has_controller(b"memory"),
        );
    }
    const ID: &str = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
    if let Some(cgroup) =
        cgroup_path::container_cgroup_from_lines(cgroup_path::proc_cgroup_pairs(data), &id(ID))
    {
        assert!(
            below_root(&cgroup),
            "a container cgroup from /proc/<pid>/cgroup escapes its controller root: {cgroup:?}"
        );
    }
}

/// `/proc/self/mountinfo`, and the cgroup layout found in it.
pub fn mountinfo(data: &[u8]) {
    if let Ok(Some(layout)) =
        libpod_stats::internals::cgroup::layout::CgroupLayout::from_mountinfo(data)
    {
        let _ = layout.kind();
        for h in layout.hierarchies() {
            let _ = layout.mount(h);
        }
    }
    let mut buf = Vec::new();
    for mount in parse::mountinfo::iter(data) {
        let Ok(m) = mount else { continue };
        let _ = m.root.to_path_buf();
        let _ = m.mount_point.eq_unescaped(b"/sys/fs/cgroup");
        let _ = m.mount_point.starts_with_unescaped(b"/sys/fs/cgroup/");
        buf.clear();
        m.source.unescape_into(&mut buf);
        let _ = m.super_option_names().count();
        let _ = m.has_super_option(b"memory");
    }
}

/// `/proc/meminfo`.
pub fn meminfo(data: &[u8]) {
    for line in parse::meminfo::iter(data) {
        let _ = line;
    }
    let _ = parse::meminfo::get(data, b"MemAvailable");
    let _ = parse::meminfo::mem_total_bytes(data);
}

/// `/proc/<pid>/net/dev`.
pub fn net_dev(data: &[u8]) {
    for line in parse::net_dev::iter(data).flatten() {
        let _ = line.is_loopback();
    }
}

/// Visits every entry of `bucket` and of every bucket below it, and looks every key up
/// again through `get`/`bucket`, which descend the tree instead of walking it.
fn walk(bucket: &Bucket<'_>, budget: &mut usize) {
    let Ok(entries) = bucket.entries() else {
        return;
    };
    for entry in entries {
        if *budget == 0 {
            return;
        }
        *budget -= 1;
        let _ = bucket.get(entry.key());
        let _ = bucket.bucket(entry.key());
        if let Entry::Bucket { bucket: child, .. } = entry {
            let _ = child.name();
            walk(&child, budget);
        }
    }
    let _ = bucket.get(b"");
    let _ = bucket.get(b"\xff\xff\xff\xff");
}

/// Sets both meta pages' checksums to what their records hash to, so that mutations of the
/// meta fields (root, high-water mark, page size) get past the checksum and reach the walk.
fn fix_meta_checksums(data: &mut [u8]) {
    let mut offsets = vec![0usize];
    if let Some(size) = data.get(PAGE_HEADER_SIZE + 8..PAGE_HEADER_SIZE + 12) {
        let size = u32::from_le_bytes([size[0], size[1], size[2], size[3]]) as usize;
        if size > 0 {
            offsets.push(size);
        }
    }
    for at in offsets {
        let body = at + PAGE_HEADER_SIZE;
        let Some(record) = data.get(body..body + META_SIZE) else {
            continue;
        };
        let sum = fnv1a64(&record[..META_CHECKSUM_COVERS]).to_le_bytes();
        data[body + META_CHECKSUM_COVERS..body + META_SIZE].copy_from_slice(&sum);
    }
}

fn read_and_walk(data: Vec<u8>) -> Option<BoltDb> {
    let db = BoltDb::from_bytes(data, PathBuf::from("fuzz.db")).ok()?;
    let _ = db.meta();
    let mut budget = 100_000;
    walk(&db.root(), &mut budget);
    Some(db)
}

/// A whole BoltDB file from bytes: checked, then every bucket walked and looked up. A file
/// that reads can be written again by our writer, and that copy reads as the same tree.
pub fn bolt_reader(data: &[u8]) {
    for fixed in [false, true] {
        let mut bytes = data.to_vec();
        if fixed {
            fix_meta_checksums(&mut bytes);
        }
        let Some(db) = read_and_walk(bytes) else {
            continue;
        };
        let Ok(tree) = db.to_tree() else { continue };
        let Ok(again) = Writer::new().page_size(512).write(&tree) else {
            continue;
        };
        let copy = BoltDb::from_bytes(again, PathBuf::from("copy.db"))
            .expect("a file our writer wrote from a valid file must read");
        assert_eq!(
            copy.to_tree().expect("the copy walks"),
            tree,
            "the copy reads as a different tree"
        );
    }
}

/// A cursor over fuzz bytes for building structured inputs.
struct Bytes<'a>(&'a [u8]);

impl<'a> Bytes<'a> {
    fn byte(&mut self) -> Option<u8> {
        let (&b, rest) = self.0.split_first()?;
        self.0 = rest;
        Some(b)
    }

    fn take(&mut self, n: usize) -> &'a [u8] {
        let n = n.min(self.0.len());
        let (head, rest) = self.0.split_at(n);
        self.0 = rest;
        head
    }
}

/// A tree of buckets and values built from fuzz bytes (bounded in depth and size).
fn tree_from(input: &mut Bytes<'_>, depth: usize, budget: &mut usize) -> BoltTree {
    let mut tree = BTreeMap::new();
    while *budget > 0 {
        let Some(op) = input.byte() else { break };
        *budget -= 1;
        match op % 4 {
            0 => break,
            1 if depth < 4 => {
                let key = input.take(usize::from(op >> 2) % 9 + 1).to_vec();
                let child = tree_from(input, depth + 1, budget);
                tree.insert(key, Node::Bucket(child));
            }
            _ => {
                let klen = usize::from(input.byte().unwrap_or(1) % 16) + 1;
                let key = input.take(klen).to_vec();
                // Values sometimes span pages, to exercise overflow.
                let vlen = usize::from(input.byte().unwrap_or(0)) * usize::from(op >> 5 | 1);
                let value = input.take(vlen.min(64)).repeat(vlen / 64 + 1);
                tree.insert(key, Node::Value(value));
            }
        }
    }
    tree
}

/// A BoltDB our writer produced from a fuzz-built tree, then damaged at fuzz-chosen bytes
/// (meta checksums fixed up). Undamaged it must read back as the same tree; damaged it
/// must read as a tree or fail with an error, never panic or hang.
pub fn bolt_structured(data: &[u8]) {
    let mut input = Bytes(data);
    let page_size = [256u32, 512, 1024, 4096][usize::from(input.byte().unwrap_or(0) % 4)];
    let mut budget = 400;
    let tree = tree_from(&mut input, 0, &mut budget);
    let Ok(mut file) = Writer::new().page_size(page_size).write(&tree) else {
        return;
    };
    let first = BoltDb::from_bytes(file.clone(), PathBuf::from("fuzz.db"))
        .expect("a file our writer wrote must read");
    assert_eq!(
        first.to_tree().expect("walks"),
        tree,
        "round trip changed the tree"
    );
    // The rest of the input: (offset u16, xor byte) pairs.
    let mut damaged = false;
    while input.0.len() >= 3 {
        let at = usize::from(u16::from_le_bytes([input.0[0], input.0[1]]));
        let xor = input.0[2];
        input.take(3);
        if !file.is_empty() {
            let len = file.len();
            file[at % len] ^= xor;
            damaged |= xor != 0;
        }
    }
    if damaged {
        fix_meta_checksums(&mut file);
        let _ = read_and_walk(file);
    }
}

/// Podman's state from a BoltDB, then interpreted: no panic whatever the file holds.
pub fn bolt_state(data: &[u8]) {
    use libpod_stats::internals::libpod::bolt_state::state_from_db;
    for fixed in [false, true] {
        let mut bytes = data.to_vec();
        if fixed {
            fix_meta_checksums(&mut bytes);
        }
        let Ok(db) = BoltDb::from_bytes(bytes, PathBuf::from("bolt_state.db")) else {
            continue;
        };
        if let Ok(raw) = state_from_db(&db) {
            interpret_all(&raw);
        }
    }
}

/// Podman's state from a SQLite `db.sql` holding these bytes, then interpreted: a state or an
/// error naming the file, never a panic (SQLite itself checks its pages; what it hands back
/// is podman's JSON, which must not panic the reader either).
pub fn sqlite_state(data: &[u8]) {
    use libpod_stats::internals::libpod::sqlite::read_sqlite_state;
    use libpod_stats::HostRoot;

    thread_local! {
        /// One host root for every input: a fresh directory per input would cost more than
        /// the read.
        static ROOT: Option<(tempfile::TempDir, PathBuf)> = tempfile::tempdir().ok().map(|dir| {
            let storage = dir.path().join("var/lib/containers/storage");
            let _ = std::fs::create_dir_all(&storage);
            (dir, storage)
        });
    }
    ROOT.with(|root| {
        let Some((dir, storage)) = root else { return };
        // What an earlier input may have left beside the database (a WAL index) goes first.
        for side in ["db.sql-wal", "db.sql-shm", "db.sql-journal"] {
            let _ = std::fs::remove_file(storage.join(side));
        }
        if std::fs::write(storage.join("db.sql"), data).is_err() {
            return;
        }
        let Ok(host) = HostRoot::new(dir.path()) else {
            return;
        };
        if let Ok(raw) = read_sqlite_state(&host, Path::new("/var/lib/containers/storage/db.sql")) {
            interpret_all(&raw);
        }
    });
}

const CTR_ID: &str = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
const POD_ID: &str = "fedcba9876543210fedcba9876543210fedcba9876543210fedcba9876543210";

/// Interprets a state and derives every container's cgroups; each derived cgroup must be a
/// safe path whatever `cgroupParent` and the pod's `cgroupPath` said.
fn interpret_all(raw: &RawState) {
    use libpod_stats::internals::libpod::{cgroup_path, interpret};
    for uid in [None, Some(1000)] {
        let out = interpret::interpret(raw, Source::Bolt, uid, Some(Path::new("/g")));
        for rec in &out.records {
            for cgroup in cgroup_path::derived_cgroups(&rec.container, &rec.hints, uid) {
                assert!(
                    below_root(&cgroup),
                    "a derived cgroup escapes its controller root: {cgroup:?}"
                );
            }
        }
        for err in &out.errors {
            let _ = err.to_string();
        }
    }
}

/// The container config/state and pod config/state JSON interpreter. The input is up to
/// five documents separated by `\n\x00\n`: container config, container state, pod config,
/// pod state (the container is in the pod), and a health check log. The health log's
/// reduction (what a capture keeps) must read back as the log itself.
pub fn state_json(data: &[u8]) {
    let mut parts = data.split(|&b| b == 0);
    let mut next = || parts.next().unwrap_or_default().to_vec();
    let (config, state, pod_config, pod_state) = (next(), next(), next(), next());
    let health_log = next();
    let health = libpod_stats::internals::libpod::health::parse(&health_log).ok();
    if let Some(reduced) = libpod_stats::internals::capture::reduce::health_log(&health_log) {
        assert_eq!(
            libpod_stats::internals::libpod::health::parse(&reduced).ok(),
            health,
            "a reduced health log reads differently"
        );
    }
    let raw = RawState {
        containers: vec![RawContainer {
            id: CTR_ID.into(),
            name: Some("fuzz".into()),
            pod_id: Some(POD_ID.into()),
            config_json: config,
            state_json: state,
        }],
        pods: vec![RawPod {
            id: POD_ID.into(),
            name: Some("pod".into()),
            config_json: pod_config,
            state_json: pod_state,
        }],
        runtime: Default::default(),
    };
    interpret_all(&raw);
    let _ = libpod_stats::internals::libpod::interpret::unix_ns(&String::from_utf8_lossy(data));
}

/// A containers/storage `containers.json`, read from a file as discovery reads it, and each
/// entry turned into a container.
pub fn containers_json(data: &[u8]) {
    use libpod_stats::internals::libpod::storage;
    use libpod_stats::internals::libpod::stores::{Store, StoreKind};
    use libpod_stats::HostRoot;
    use std::sync::OnceLock;

    static ROOT: OnceLock<(tempfile::TempDir, HostRoot)> = OnceLock::new();
    let (dir, root) = ROOT.get_or_init(|| {
        let dir = tempfile::tempdir().expect("a temp dir");
        std::fs::create_dir_all(dir.path().join("g/overlay-containers")).expect("mkdir");
        let root = HostRoot::new(dir.path()).expect("a root");
        (dir, root)
    });
    let list = Path::new("/g/overlay-containers/containers.json");
    if std::fs::write(
        dir.path().join("g/overlay-containers/containers.json"),
        data,
    )
    .is_err()
    {
        return;
    }
    let Ok(entries) = storage::read_container_list(root, list) else {
        return;
    };
    let store = Store {
        kind: StoreKind::Root,
        graph_root: PathBuf::from("/g"),
        run_root: None,
        driver: Some("overlay".into()),
        transient: false,
        static_dir: None,
        tmp_dir: None,
        db_backend: Default::default(),
        uid: Some(0),
        podman5: None,
    };
    for entry in entries.iter().take(64) {
        let _ = entry.podman_metadata();
        let _ = storage::storage_container(
            root,
            &store,
            Path::new("/g/overlay-containers"),
            entry,
            false,
        );
    }
}

/// Redaction of captured JSON, as every kind of record: no panic, redacting twice changes
/// nothing more, and the output is no longer than the input's parsed form allows (nothing
/// is added but the `REDACTED` of a label value).
pub fn redact_json(data: &[u8]) {
    use libpod_stats::internals::capture::redact::{RecordKind, Redactor};
    let redactor = Redactor::new(["keep"]);
    for kind in RecordKind::ALL {
        if let Ok(once) = redactor.redact_bytes(kind, data) {
            let twice = redactor
                .redact_bytes(kind, &once)
                .expect("redacted output is redactable");
            assert_eq!(once, twice, "{kind:?}: redaction is not idempotent");
        }
    }
}
