//! The `db.sql` fixture: podman's SQLite state made from the real podman BoltDB fixture.
//!
//! Podman 4.3 (the one on the project's machines) has no SQLite backend, so
//! `fixtures/libpod-state/sqlite-podman-bolt` is `podman-bolt` with its `bolt_state.db`
//! converted: the same records (config and state JSON byte for byte, pods, runtime paths)
//! in podman's exact SQLite schema. A test checks that the committed fixture is exactly what
//! the conversion makes now; `LPSTEST_REGENERATE=1 cargo test --test integration sqlite_fixture`
//! rewrites it instead.
//! The `State` column of one row is deliberately stale (as podman leaves it after the first
//! state change) to prove that the reader takes the state from the JSON.

use std::os::unix::fs::symlink;
use std::path::{Path, PathBuf};

use libpod_stats::internals::libpod::bolt_state::read_bolt_state;
use libpod_stats::internals::libpod::sqlite::{read_sqlite_state, write_sqlite_state};
use libpod_stats::HostRoot;

const SOURCE: &str = "fixtures/libpod-state/podman-bolt";
const TARGET: &str = "fixtures/libpod-state/sqlite-podman-bolt";
const BOLT: &str = "/var/lib/containers/storage/libpod/bolt_state.db";
const DB: &str = "/var/lib/containers/storage/db.sql";
/// The container whose `State` column is left at "configured" (1) while it runs.
const STALE_NAME: &str = "lpstest-idle";

fn manifest(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(rel)
}

fn copy_tree(from: &Path, to: &Path, skip: &Path) {
    std::fs::create_dir_all(to).unwrap();
    let mut entries: Vec<_> = std::fs::read_dir(from)
        .unwrap()
        .map(|e| e.unwrap())
        .collect();
    entries.sort_by_key(|e| e.file_name());
    for entry in entries {
        let src = entry.path();
        let dst = to.join(entry.file_name());
        if src == skip {
            continue;
        }
        let kind = entry.file_type().unwrap();
        if kind.is_symlink() {
            symlink(std::fs::read_link(&src).unwrap(), &dst).unwrap();
        } else if kind.is_dir() {
            copy_tree(&src, &dst, skip);
        } else {
            std::fs::copy(&src, &dst).unwrap();
        }
    }
}

/// Writes the fixture into `target` (made afresh) from the BoltDB fixture.
fn generate_sqlite_fixture(target: &Path) {
    let source = manifest(SOURCE);
    let raw = read_bolt_state(&HostRoot::new(&source).unwrap(), Path::new(BOLT)).unwrap();
    if target.exists() {
        std::fs::remove_dir_all(target).unwrap();
    }
    copy_tree(&source, target, &source.join(&BOLT[1..]));
    let _ = std::fs::remove_dir(target.join("var/lib/containers/storage/libpod"));
    let db = target.join(&DB[1..]);
    write_sqlite_state(&raw, &db).unwrap();
    let conn = rusqlite::Connection::open(&db).unwrap();
    let changed = conn
        .execute(
            "UPDATE ContainerState SET State = 1 \
             WHERE ID = (SELECT ID FROM ContainerConfig WHERE Name = ?1)",
            [STALE_NAME],
        )
        .unwrap();
    assert_eq!(changed, 1, "no container named {STALE_NAME} in {SOURCE}");
    drop(conn);
    std::fs::write(target.join("README.md"), readme()).unwrap();
}

/// Every file under `dir` (symlinks as their target text), by relative path.
fn tree(dir: &Path) -> std::collections::BTreeMap<PathBuf, Vec<u8>> {
    let mut out = std::collections::BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).unwrap() {
            let path = entry.unwrap().path();
            let rel = path.strip_prefix(dir).unwrap().to_path_buf();
            let meta = path.symlink_metadata().unwrap();
            if meta.file_type().is_symlink() {
                let target = std::fs::read_link(&path).unwrap();
                out.insert(rel, target.into_os_string().into_encoded_bytes());
            } else if meta.is_dir() {
                stack.push(path);
            } else {
                out.insert(rel, std::fs::read(&path).unwrap());
            }
        }
    }
    out
}

/// The committed fixture is what the conversion makes from the BoltDB fixture today (the
/// conversion is deterministic), so neither can drift from the other unnoticed.
#[test]
fn the_committed_fixture_is_what_the_conversion_makes() {
    let target = manifest(TARGET);
    if std::env::var("LPSTEST_REGENERATE").as_deref() == Ok("1") {
        generate_sqlite_fixture(&target);
        return;
    }
    let fresh = tempfile::tempdir().unwrap();
    let made = fresh.path().join("fixture");
    generate_sqlite_fixture(&made);
    let (want, got) = (tree(&made), tree(&target));
    let differ: Vec<&PathBuf> = want
        .keys()
        .chain(got.keys())
        .filter(|k| want.get(*k) != got.get(*k))
        .collect();
    assert!(
        differ.is_empty(),
        "{TARGET} is not what the conversion makes now; differing: {differ:?}. \
         Regenerate with LPSTEST_REGENERATE=1 cargo test --test integration sqlite_fixture"
    );
}

fn readme() -> String {
    format!(
        "# sqlite-podman-bolt: podman's SQLite state (`db.sql`) with the real podman records\n\
         \n\
         Podman 4.3.1 (the one on the project's machines) has no SQLite backend. This is\n\
         `podman-bolt` with `var/lib/containers/storage/libpod/bolt_state.db` replaced by\n\
         `var/lib/containers/storage/db.sql`, where podman 5 keeps it: every container's and\n\
         pod's config and state JSON byte for byte as the real podman wrote them, and the\n\
         runtime paths in `DBConfig`, in podman's exact schema (version 1: `DBConfig`,\n\
         `IDNamespace`, `ContainerConfig`, `ContainerState`, `PodConfig`, `PodState`, ...).\n\
         JSON columns are stored as BLOBs, as podman's driver binds them.\n\
         \n\
         The `ContainerState.State` column of `{STALE_NAME}` is deliberately stale (1,\n\
         \"configured\", while its JSON says running), as podman leaves it: podman writes the\n\
         column only when a container is added. Readers must take the state from the JSON.\n\
         \n\
         Everything else (containers/storage files, /proc entries, `expected/` = podman's own\n\
         view) is copied from `podman-bolt`, so `expected/ps.json` still describes it.\n\
         \n\
         Made by `LPSTEST_REGENERATE=1 cargo test --test integration sqlite_fixture`\n\
         (tests/integration/sqlite_fixture.rs, which also checks that it is up to date).\n"
    )
}

#[test]
fn sqlite_fixture_holds_the_bolt_fixtures_records() {
    let source = manifest(SOURCE);
    let target = manifest(TARGET);
    if !source.exists() {
        eprintln!("note: {SOURCE} is not there yet");
        return;
    }
    assert!(
        target.join(&DB[1..]).is_file(),
        "{TARGET} is missing: run the ignored generator"
    );
    let bolt = read_bolt_state(&HostRoot::new(&source).unwrap(), Path::new(BOLT)).unwrap();
    let sqlite = read_sqlite_state(&HostRoot::new(&target).unwrap(), Path::new(DB)).unwrap();
    let sorted = |mut v: Vec<libpod_stats::RawContainer>| {
        v.sort_by(|a, b| a.id.cmp(&b.id));
        v
    };
    assert_eq!(sorted(sqlite.containers), sorted(bolt.containers));
    let mut pods = bolt.pods.clone();
    pods.sort_by(|a, b| a.id.cmp(&b.id));
    assert_eq!(sqlite.pods, pods);
    assert_eq!(sqlite.runtime.graph_root, bolt.runtime.graph_root);
    assert_eq!(sqlite.runtime.run_root, bolt.runtime.run_root);
    assert_eq!(sqlite.runtime.graph_driver, bolt.runtime.graph_driver);

    // The stale row: its State column disagrees with its JSON.
    let conn = rusqlite::Connection::open_with_flags(
        target.join(&DB[1..]),
        rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY,
    )
    .unwrap();
    let (column, json): (i64, Vec<u8>) = conn
        .query_row(
            "SELECT s.State, s.JSON FROM ContainerState s JOIN ContainerConfig c ON c.ID = s.ID \
             WHERE c.Name = ?1",
            [STALE_NAME],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    let state: serde_json::Value = serde_json::from_slice(&json).unwrap();
    assert_eq!(column, 1);
    assert_eq!(state["state"], 3, "the JSON says running");
}
