//! Golden tests: every snapshot under `fixtures/cgroupv1/`, `fixtures/cgroupv2/` and
//! `tests/data/` (series steps `NNN/` included), every container cgroup in it
//! (`libpod-<64 hex>`, `libpod-<64 hex>.scope`, and crun's `container` child), read with
//! `CgroupReader` and compared with a reviewed YAML snapshot named after the fixture's path.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use libpod_stats::internals::cgroup::layout::Hierarchy;
use libpod_stats::internals::cgroup::layout::LayoutKind;
use libpod_stats::{CgroupReader, CgroupStats, HostRoot};
use serde::Serialize;

/// Where snapshots are looked for, relative to the crate root.
const FIXTURE_DIRS: &[&str] = &["fixtures/cgroupv1", "fixtures/cgroupv2", "tests/data"];

/// Deepest cgroup nesting walked (rootless v2 paths are about 6 deep).
const MAX_DEPTH: usize = 12;

#[derive(Serialize)]
struct Golden {
    layout: LayoutKind,
    cgroups: BTreeMap<String, Outcome>,
}

#[derive(Serialize)]
#[serde(rename_all = "lowercase")]
enum Outcome {
    Stats(Box<CgroupStats>),
    Error(String),
}

/// Every snapshot directory (one holding `snapshot.json`) below `dir`, series steps too.
fn snapshots(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let mut subdirs: Vec<PathBuf> = entries
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.is_dir())
        .collect();
    subdirs.sort();
    if dir.join("snapshot.json").is_file() {
        out.push(dir.to_path_buf());
        // Only series steps can hold further snapshots; the rest is the host's tree.
        subdirs.retain(|p| is_series_step(p));
    }
    for sub in subdirs {
        snapshots(&sub, out);
    }
}

fn is_series_step(p: &Path) -> bool {
    p.file_name()
        .and_then(|n| n.to_str())
        .is_some_and(|n| n.len() == 3 && n.bytes().all(|b| b.is_ascii_digit()))
}

/// True for `libpod-<64 hex>` and `libpod-<64 hex>.scope`.
fn is_container_dir(name: &str) -> bool {
    let Some(rest) = name.strip_prefix("libpod-") else {
        return false;
    };
    let id = rest.strip_suffix(".scope").unwrap_or(rest);
    id.len() == 64 && id.bytes().all(|b| b.is_ascii_hexdigit())
}

/// Container cgroups (paths relative to the hierarchy root, `/`-prefixed) found by walking
/// each hierarchy of the snapshot.
fn container_cgroups(reader: &CgroupReader) -> BTreeSet<String> {
    let mut found = BTreeSet::new();
    let layout = reader.layout();
    let hierarchies: Vec<Hierarchy> = layout.hierarchies().collect();
    for h in hierarchies {
        if let Some(mount) = layout.mount(h) {
            walk(reader.root(), mount, "", 0, &mut found);
        }
    }
    found
}

fn walk(root: &HostRoot, mount: &Path, rel: &str, depth: usize, found: &mut BTreeSet<String>) {
    if depth > MAX_DEPTH {
        return;
    }
    let dir = mount.join(rel.trim_start_matches('/'));
    let Ok(names) = root.read_dir_names(&dir) else {
        return;
    };
    for name in names {
        let Some(name) = name.to_str() else { continue };
        let child = format!("{rel}/{name}");
        if !root.metadata(dir.join(name)).is_ok_and(|m| m.is_dir()) {
            continue;
        }
        if is_container_dir(name) {
            found.insert(child.clone());
            if root
                .metadata(dir.join(name).join("container"))
                .is_ok_and(|m| m.is_dir())
            {
                found.insert(format!("{child}/container"));
            }
        } else {
            walk(root, mount, &child, depth + 1, found);
        }
    }
}

fn golden(snapshot: &Path) -> Golden {
    let root = HostRoot::new(snapshot).unwrap();
    let reader = CgroupReader::new(root.clone())
        .unwrap_or_else(|e| panic!("{}: layout: {e}", snapshot.display()));
    let root_text = root.dir().display().to_string();
    let cgroups = container_cgroups(&reader)
        .into_iter()
        .map(|cg| {
            let outcome = match reader.read(&cg) {
                Ok(stats) => Outcome::Stats(Box::new(stats)),
                Err(e) => Outcome::Error(e.to_string().replace(&root_text, "<root>")),
            };
            (cg, outcome)
        })
        .collect();
    Golden {
        layout: reader.layout().kind(),
        cgroups,
    }
}

#[test]
fn every_fixture_matches_its_golden_snapshot() {
    let crate_root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut found = Vec::new();
    for dir in FIXTURE_DIRS {
        snapshots(&crate_root.join(dir), &mut found);
    }
    assert!(found.len() >= 3, "too few snapshots found: {found:?}");
    for snapshot in &found {
        let name = snapshot
            .strip_prefix(crate_root)
            .unwrap()
            .to_string_lossy()
            .replace('/', "__");
        let golden = golden(snapshot);
        assert!(
            !golden.cgroups.is_empty(),
            "{}: no container cgroup found",
            snapshot.display()
        );
        insta::assert_yaml_snapshot!(name, golden);
    }
}

#[test]
fn container_dir_names() {
    let id = "a".repeat(64);
    assert!(is_container_dir(&format!("libpod-{id}")));
    assert!(is_container_dir(&format!("libpod-{id}.scope")));
    assert!(!is_container_dir(&format!("libpod-conmon-{id}.scope")));
    assert!(!is_container_dir("libpod-abc"));
    assert!(!is_container_dir("libpod_parent"));
}
