//! cgroup files that misbehave: a cgroup removed between discovery and the read (ENOENT by
//! path, ENODEV on a held file, on the live host), files truncated at any byte or empty,
//! `max` in every file, a 1 MiB `memory.stat`, and a controller that is not mounted. The
//! reader answers with values or an error naming what went wrong; it never panics.

use libpod_stats_test_support::files;
use libpod_stats_test_support::skip;

use std::fs;
use std::io::Write;
use std::os::unix::io::AsRawFd;
use std::path::{Path, PathBuf};

use files::copy_tree;
use libpod_stats::internals::cgroup::stats::Limit;
use libpod_stats::{CgroupError, CgroupReader, HostRoot};

const V1_FIXTURE: &str = "fixtures/cgroupv1/podman-idle";
const V1_CGROUP: &str =
    "/libpod_parent/libpod-f04baf43477f75be40ba35af7b0ef61e3ae046b551697d0a2fed1607985346fa";
const V2_FIXTURE: &str = "fixtures/cgroupv2/vm-shapes";
const V2_CGROUP: &str = "/machine.slice/machine-libpod_pod_dda7e8fe709654439eaa85991388fa82ee7316d303e8e51105ad1a235b8f02b8.slice/libpod-4664bf8ec717670d3df528e621c72235288bd816bb0dde15d643e07c3e2041d5.scope";

/// A private copy of a fixture snapshot.
fn snapshot(fixture: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    copy_tree(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join(fixture),
        dir.path(),
    );
    dir
}

/// Every regular file of `cgroup` in every hierarchy of the snapshot.
fn cgroup_files(dir: &Path, cgroup: &str) -> Vec<PathBuf> {
    let base = dir.join("sys/fs/cgroup");
    let rel = cgroup.trim_start_matches('/');
    let mut dirs = vec![base.join(rel)];
    for entry in fs::read_dir(&base).unwrap() {
        let p = entry.unwrap().path().join(rel);
        if p.is_dir() {
            dirs.push(p);
        }
    }
    let mut files = Vec::new();
    for d in dirs {
        if let Ok(rd) = fs::read_dir(&d) {
            for e in rd {
                let p = e.unwrap().path();
                if p.is_file() {
                    files.push(p);
                }
            }
        }
    }
    files.sort();
    assert!(
        !files.is_empty(),
        "no files for {cgroup} under {}",
        dir.display()
    );
    files
}

/// An error from a damaged file must say which file (or that the cgroup is gone).
fn check_error_names_the_file(err: &CgroupError, file: &Path) {
    let msg = err.to_string();
    let name = file.file_name().unwrap().to_string_lossy();
    assert!(
        err.is_not_found() || msg.contains(&*name),
        "an error for a damaged {name} does not name it: {msg}"
    );
}

fn truncations(fixture: &str, cgroup: &str) -> usize {
    let dir = snapshot(fixture);
    let reader = CgroupReader::new(HostRoot::new(dir.path()).unwrap()).unwrap();
    reader
        .read(cgroup)
        .expect("the fixture reads before damage");
    let mut reads = 0;
    for file in cgroup_files(dir.path(), cgroup) {
        let original = fs::read(&file).unwrap();
        let mut cuts = vec![0, 1, original.len() / 2, original.len().saturating_sub(1)];
        cuts.sort();
        cuts.dedup();
        for cut in cuts.into_iter().filter(|c| *c <= original.len()) {
            fs::write(&file, &original[..cut]).unwrap();
            reads += 1;
            if let Err(e) = reader.read(cgroup) {
                check_error_names_the_file(&e, &file);
            }
        }
        fs::write(&file, &original).unwrap();
    }
    reads
}

#[test]
fn truncated_and_empty_v1_files_never_panic() {
    assert!(truncations(V1_FIXTURE, V1_CGROUP) > 50);
}

#[test]
fn truncated_and_empty_v2_files_never_panic() {
    assert!(truncations(V2_FIXTURE, V2_CGROUP) > 50);
}

#[test]
fn max_in_every_file_never_panics() {
    for (fixture, cgroup) in [(V1_FIXTURE, V1_CGROUP), (V2_FIXTURE, V2_CGROUP)] {
        let dir = snapshot(fixture);
        for file in cgroup_files(dir.path(), cgroup) {
            fs::write(&file, "max\n").unwrap();
        }
        let reader = CgroupReader::new(HostRoot::new(dir.path()).unwrap()).unwrap();
        if let Err(e) = reader.read(cgroup) {
            assert!(!e.is_not_found(), "{fixture}: {e}");
        }
    }
}

#[test]
fn max_in_every_v2_limit_is_unlimited() {
    let dir = snapshot(V2_FIXTURE);
    let base = dir
        .path()
        .join("sys/fs/cgroup")
        .join(V2_CGROUP.trim_start_matches('/'));
    for (file, text) in [
        ("memory.max", "max\n"),
        ("memory.high", "max\n"),
        ("memory.swap.max", "max\n"),
        ("pids.max", "max\n"),
        ("cpu.max", "max 100000\n"),
        ("io.max", ""),
    ] {
        fs::write(base.join(file), text).unwrap();
    }
    let reader = CgroupReader::new(HostRoot::new(dir.path()).unwrap()).unwrap();
    let stats = reader.read(V2_CGROUP).unwrap();
    assert_eq!(stats.memory.limit, Some(Limit::Max));
    assert_eq!(stats.pids.limit, Some(Limit::Max));
}

#[test]
fn a_one_mebibyte_memory_stat_reads() {
    let dir = snapshot(V2_FIXTURE);
    let file = dir
        .path()
        .join("sys/fs/cgroup")
        .join(V2_CGROUP.trim_start_matches('/'))
        .join("memory.stat");
    let mut text = fs::read(&file).unwrap();
    let mut i = 0;
    while text.len() < (1 << 20) {
        writeln!(text, "lpstest_unknown_key_{i:08} {i}").unwrap();
        i += 1;
    }
    fs::write(&file, &text).unwrap();
    let reader = CgroupReader::new(HostRoot::new(dir.path()).unwrap()).unwrap();
    let stats = reader.read(V2_CGROUP).unwrap();
    assert!(
        stats.memory.stat.contains_key("anon"),
        "{:?}",
        stats.memory.stat.len()
    );
    // A second read into the same value (the collector's path) copes as well.
    let mut again = stats.clone();
    reader.read_into(V2_CGROUP, &mut again).unwrap();
    assert_eq!(again.memory.stat.get("anon"), stats.memory.stat.get("anon"));
}

#[test]
fn a_controller_that_is_not_mounted_gives_none_not_an_error() {
    let dir = snapshot(V1_FIXTURE);
    let mountinfo = dir.path().join("proc/self/mountinfo");
    let text = fs::read_to_string(&mountinfo).unwrap();
    let kept: String = text
        .lines()
        .filter(|l| !l.contains("/sys/fs/cgroup/memory "))
        .map(|l| format!("{l}\n"))
        .collect();
    assert_ne!(kept.len(), text.len(), "the fixture mounts memory");
    fs::write(&mountinfo, kept).unwrap();
    fs::remove_dir_all(dir.path().join("sys/fs/cgroup/memory")).unwrap();
    let reader = CgroupReader::new(HostRoot::new(dir.path()).unwrap()).unwrap();
    let stats = reader.read(V1_CGROUP).unwrap();
    assert_eq!(stats.memory.usage_bytes, None);
    assert_eq!(stats.memory.limit, None);
    assert!(stats.cpu.usage_ns.is_some(), "cpu still read: {stats:?}");
}

#[test]
fn a_cgroup_gone_from_a_snapshot_is_not_found() {
    let dir = snapshot(V1_FIXTURE);
    let reader = CgroupReader::new(HostRoot::new(dir.path()).unwrap()).unwrap();
    let mut held = reader.open(V1_CGROUP).unwrap();
    for entry in fs::read_dir(dir.path().join("sys/fs/cgroup")).unwrap() {
        let p = entry
            .unwrap()
            .path()
            .join(V1_CGROUP.trim_start_matches('/'));
        if p.exists() {
            fs::remove_dir_all(p).unwrap();
        }
    }
    let err = reader.read(V1_CGROUP).unwrap_err();
    assert!(err.is_not_found(), "{err}");
    // Files held open in a snapshot still read (regular files outlive their names); what
    // matters is no panic.
    let _ = held.read();
}

// ---- the live host: a real cgroup removed under the reader -------------------------------

/// The v1 controllers the reader uses on this project's hybrid hosts, plus `unified`.
const LIVE_HIERARCHIES: &[&str] = &["memory", "cpu", "cpuacct", "pids", "blkio", "unified"];

/// A cgroup `lpstest-robust-<pid>-<tag>` in every hierarchy, removed on drop.
struct LiveCgroup {
    name: String,
    dirs: Vec<PathBuf>,
}

impl LiveCgroup {
    fn create(tag: &str) -> Option<LiveCgroup> {
        let name = format!("lpstest-robust-{}-{tag}", std::process::id());
        let mut cg = LiveCgroup {
            name: format!("/{name}"),
            dirs: Vec::new(),
        };
        for h in LIVE_HIERARCHIES {
            let base = Path::new("/sys/fs/cgroup").join(h);
            if !base.is_dir() {
                continue;
            }
            let dir = base.join(&name);
            match fs::create_dir(&dir) {
                Ok(()) => cg.dirs.push(dir),
                Err(e) => {
                    skip::skip_or_fail(&format!(
                        "live cgroup: cannot create {}: {e}",
                        dir.display()
                    ));
                    return None;
                }
            }
        }
        if cg.dirs.is_empty() {
            skip::skip_or_fail("live cgroup: no cgroup hierarchy under /sys/fs/cgroup");
            return None;
        }
        Some(cg)
    }

    fn remove(&mut self) {
        for d in self.dirs.drain(..) {
            let _ = fs::remove_dir(&d);
        }
    }
}

impl Drop for LiveCgroup {
    fn drop(&mut self) {
        self.remove();
    }
}

#[test]
fn live_cgroup_removed_before_the_read_is_not_found() {
    let Some(mut cg) = LiveCgroup::create("enoent") else {
        return;
    };
    let reader = CgroupReader::new(HostRoot::live()).unwrap();
    reader.read(&cg.name).expect("a fresh cgroup reads");
    assert!(reader.exists(&cg.name));
    cg.remove();
    let err = reader.read(&cg.name).unwrap_err();
    assert!(err.is_not_found(), "{err}");
    assert!(!reader.exists(&cg.name));
    assert!(reader.open(&cg.name).unwrap_err().is_not_found());
}

#[test]
fn live_cgroup_removed_under_held_files_is_not_found() {
    let Some(mut cg) = LiveCgroup::create("enodev") else {
        return;
    };
    let reader = CgroupReader::new(HostRoot::live()).unwrap();
    let mut held = reader.open(&cg.name).unwrap();
    assert!(held.open_files() > 0);
    held.read()
        .expect("held files read while the cgroup exists");

    // The kernel fact the reader relies on: pread on a held file of a removed cgroup fails
    // with ENODEV.
    let probe_path = cg.dirs[0].join("cgroup.procs");
    let probe = fs::File::open(&probe_path).unwrap();
    cg.remove();
    let mut buf = [0u8; 64];
    let rc = unsafe { libc::pread(probe.as_raw_fd(), buf.as_mut_ptr().cast(), buf.len(), 0) };
    assert_eq!(rc, -1);
    assert_eq!(
        std::io::Error::last_os_error().raw_os_error(),
        Some(libc::ENODEV)
    );

    for _ in 0..3 {
        let err = held.read().unwrap_err();
        assert!(err.is_not_found(), "{err}");
    }
}

/// Every number of every file replaced by `with` (structure kept).
fn replace_numbers(text: &[u8], with: &str) -> Vec<u8> {
    let mut out = Vec::with_capacity(text.len());
    let mut in_number = false;
    for &b in text {
        if b.is_ascii_digit() {
            if !in_number {
                out.extend_from_slice(with.as_bytes());
            }
            in_number = true;
        } else {
            in_number = false;
            out.push(b);
        }
    }
    out
}

#[test]
fn the_largest_and_overlong_numbers_never_panic() {
    for with in ["18446744073709551615", "99999999999999999999999"] {
        for (fixture, cgroup) in [(V1_FIXTURE, V1_CGROUP), (V2_FIXTURE, V2_CGROUP)] {
            let dir = snapshot(fixture);
            for file in cgroup_files(dir.path(), cgroup) {
                let text = fs::read(&file).unwrap();
                fs::write(&file, replace_numbers(&text, with)).unwrap();
            }
            let reader = CgroupReader::new(HostRoot::new(dir.path()).unwrap()).unwrap();
            match reader.read(cgroup) {
                Ok(stats) => assert!(with.len() == 20, "{fixture}: {with} parsed: {stats:?}"),
                Err(e) => assert!(!e.is_not_found(), "{fixture}: {e}"),
            }
        }
    }
}
