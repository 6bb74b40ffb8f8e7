//! The cgroup reader against the small snapshots in `tests/data/` and temporary trees:
//! per-version rules, absent files, missing cgroups and errors that name their file.

use libpod_stats_test_support::files;

use std::path::Path;

use files::copy_tree;
use libpod_stats::internals::cgroup::layout::Controller;
use libpod_stats::internals::cgroup::layout::{CgroupLayout, LayoutKind};
use libpod_stats::internals::cgroup::stats::Limit;
use libpod_stats::{CgroupError, CgroupReader, CgroupStats, HostRoot};

const V1_ID: &str = "c0ffee0000000000000000000000000000000000000000000000000000000001";
const V2_ID: &str = "c0ffee0000000000000000000000000000000000000000000000000000000002";

fn reader(data: &str) -> CgroupReader {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(data);
    CgroupReader::new(HostRoot::new(dir).unwrap()).unwrap()
}

fn v1_cgroup() -> String {
    format!("/libpod_parent/libpod-{V1_ID}")
}

#[test]
fn hybrid_reads_v1_controllers_and_unified_pressure() {
    let r = reader("v1-hybrid");
    assert_eq!(r.layout().kind(), LayoutKind::Hybrid);
    let s = r.read(&v1_cgroup()).unwrap();
    assert_eq!(s.cpu.usage_ns, Some(1884697549));
    assert_eq!(
        s.cpu.user_ns,
        Some(1967942095),
        "cpuacct.usage_user, not ticks"
    );
    assert_eq!(s.cpu.nr_periods, Some(0));
    assert_eq!(s.memory.usage_bytes, Some(520192));
    assert_eq!(s.memory.limit, Some(Limit::Value(268435456)));
    assert_eq!(s.memory.stat.get("total_inactive_file"), Some(&90112));
    assert_eq!(s.memory.oom_kills, Some(0));
    assert_eq!(s.pids.limit, Some(Limit::Value(64)));
    assert_eq!(s.io.read_bytes, Some(0));
    let cpu = s.pressure.cpu.unwrap();
    assert_eq!(cpu.some.total_us, 263177);
    assert!(s.pressure.io.unwrap().full.is_some());
}

#[test]
fn co_mounted_v1_falls_back_to_ticks_and_plain_blkio() {
    let r = reader("v1-comounted");
    assert_eq!(r.layout().kind(), LayoutKind::V1);
    assert_eq!(
        r.layout().v1_mount(Controller::Cpu),
        r.layout().v1_mount(Controller::Cpuacct)
    );
    let s = r.read(&v1_cgroup()).unwrap();
    // cpuacct.stat: user 187 ticks, system 0, at USER_HZ=100.
    assert_eq!(s.cpu.user_ns, Some(1_870_000_000));
    assert_eq!(s.cpu.system_ns, Some(0));
    assert_eq!(s.cpu.throttled_ns, Some(0));
    assert_eq!(
        s.memory.limit,
        Some(Limit::Max),
        "PAGE_COUNTER_MAX is unlimited"
    );
    assert_eq!(s.pids.limit, Some(Limit::Max));
    assert_eq!(s.io.write_ops, Some(0));
    assert_eq!(s.pressure.cpu, None);
}

#[test]
fn v2_scope_and_container_child() {
    let r = reader("v2-handwritten");
    assert_eq!(r.layout().kind(), LayoutKind::V2);
    let scope = format!("/machine.slice/libpod-{V2_ID}.scope");
    let s = r.read(&scope).unwrap();
    assert_eq!(s.cpu.usage_ns, Some(2_500_000_000));
    assert_eq!(s.cpu.throttled_ns, Some(35_000_000));
    assert_eq!(s.memory.oom_kills, Some(1));
    assert_eq!(s.memory.limit_hits, Some(3));
    assert_eq!(s.memory.working_set_bytes(), Some(8388608 - 2097152));
    assert_eq!((s.io.read_bytes, s.io.write_ops), (Some(1049088), Some(3)));
    assert_eq!(s.pressure.cpu.unwrap().full, None);
    let c = r.read(&format!("{scope}/container")).unwrap();
    assert_eq!(c.cpu.nr_periods, None, "no cpu controller below the scope");
    assert_eq!(c.io.read_bytes, None, "no io.stat: unknown, not zero");
    assert_eq!(c.memory.limit, Some(Limit::Max));
    assert!(r.exists(&scope));
}

#[test]
fn a_missing_cgroup_is_not_found_everywhere() {
    for data in ["v1-hybrid", "v1-comounted", "v2-handwritten"] {
        let r = reader(data);
        let err = r.read("/libpod_parent/libpod-gone").unwrap_err();
        assert!(err.is_not_found(), "{data}: {err}");
        assert!(!r.exists("/libpod_parent/libpod-gone"));
    }
    let err = reader("v1-hybrid").read("/a/../../etc").unwrap_err();
    assert!(matches!(err, CgroupError::InvalidPath { .. }), "{err}");
}

#[test]
fn an_existing_cgroup_without_files_reads_as_all_none() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("sys/fs/cgroup/empty")).unwrap();
    let r = CgroupReader::with_layout(
        HostRoot::new(dir.path()).unwrap(),
        CgroupLayout::v2("/sys/fs/cgroup"),
    );
    assert_eq!(r.read("/empty").unwrap(), CgroupStats::default());
}

#[test]
fn parse_errors_name_the_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    let cg = dir.path().join("sys/fs/cgroup/x");
    std::fs::create_dir_all(&cg).unwrap();
    std::fs::write(cg.join("memory.stat"), "anon 1\nfile 2\ntotal_cache\n").unwrap();
    let r = CgroupReader::with_layout(
        HostRoot::new(dir.path()).unwrap(),
        CgroupLayout::v2("/sys/fs/cgroup"),
    );
    let err = r.read("/x").unwrap_err().to_string();
    assert!(
        err.contains("/sys/fs/cgroup/x/memory.stat")
            && err.contains("line 3: expected `key value`, found `total_cache`"),
        "{err}"
    );
}

#[test]
fn read_into_keeps_memory_stat_current() {
    let dir = tempfile::tempdir().unwrap();
    let cg = dir.path().join("sys/fs/cgroup/x");
    std::fs::create_dir_all(&cg).unwrap();
    let r = CgroupReader::with_layout(
        HostRoot::new(dir.path()).unwrap(),
        CgroupLayout::v2("/sys/fs/cgroup"),
    );
    let mut out = CgroupStats::default();
    std::fs::write(cg.join("memory.stat"), "anon 1\nfile 2\n").unwrap();
    r.read_into("/x", &mut out).unwrap();
    std::fs::write(cg.join("memory.stat"), "anon 3\nfile 4\n").unwrap();
    r.read_into("/x", &mut out).unwrap();
    assert_eq!(out.memory.stat.get("anon"), Some(&3));
    std::fs::write(cg.join("memory.stat"), "anon 5\nshmem 6\n").unwrap();
    r.read_into("/x", &mut out).unwrap();
    assert_eq!(out.memory.stat.len(), 2);
    assert_eq!(out.memory.stat.get("file"), None);
    std::fs::write(cg.join("memory.stat"), "anon 5\n").unwrap();
    r.read_into("/x", &mut out).unwrap();
    assert_eq!(out.memory.stat.len(), 1);
    std::fs::remove_file(cg.join("memory.stat")).unwrap();
    std::fs::write(cg.join("memory.current"), "1\n").unwrap();
    r.read_into("/x", &mut out).unwrap();
    assert!(out.memory.stat.is_empty());
}

#[test]
fn held_files_read_the_same_as_paths() {
    for (data, cgroups) in [
        ("v1-hybrid", vec![v1_cgroup()]),
        ("v1-comounted", vec![v1_cgroup()]),
        (
            "v2-handwritten",
            vec![
                format!("/machine.slice/libpod-{V2_ID}.scope"),
                format!("/machine.slice/libpod-{V2_ID}.scope/container"),
            ],
        ),
    ] {
        let r = reader(data);
        for cg in cgroups {
            let mut handle = r.open(&cg).unwrap();
            assert_eq!(handle.cgroup().as_str(), cg);
            assert_eq!(handle.read().unwrap(), r.read(&cg).unwrap(), "{data} {cg}");
            // Twice: the second read re-reads the held files from offset 0.
            assert_eq!(handle.read().unwrap(), r.read(&cg).unwrap(), "{data} {cg}");
        }
        assert!(r
            .open("/libpod_parent/libpod-gone")
            .unwrap_err()
            .is_not_found());
    }
}

#[test]
fn held_files_skip_fallbacks_when_the_primary_exists() {
    // Hybrid: 16 v1 files, minus cpuacct.stat and the two non-recursive blkio files, plus
    // three pressure files.
    let handle = reader("v1-hybrid").open(&v1_cgroup()).unwrap();
    assert_eq!(handle.open_files(), 16);
    // Co-mounted: no usage_user/_sys and no recursive blkio, so the fallbacks are held.
    let handle = reader("v1-comounted").open(&v1_cgroup()).unwrap();
    assert_eq!(handle.open_files(), 12);
}

#[test]
fn held_files_see_new_contents_and_larger_files() {
    let dir = tempfile::tempdir().unwrap();
    let cg = dir.path().join("sys/fs/cgroup/x");
    std::fs::create_dir_all(&cg).unwrap();
    std::fs::write(cg.join("memory.current"), "1\n").unwrap();
    std::fs::write(cg.join("memory.stat"), "anon 1\n").unwrap();
    let r = CgroupReader::with_layout(
        HostRoot::new(dir.path()).unwrap(),
        CgroupLayout::v2("/sys/fs/cgroup"),
    );
    let mut handle = r.open("/x").unwrap();
    assert_eq!(handle.read().unwrap().memory.usage_bytes, Some(1));
    // Rewrite in place (same inode) the way cgroupfs changes under a held fd.
    let mut big = String::new();
    for i in 0..3000 {
        big.push_str(&format!("key_{i} {i}\n"));
    }
    std::fs::OpenOptions::new()
        .write(true)
        .truncate(true)
        .open(cg.join("memory.stat"))
        .and_then(|mut f| std::io::Write::write_all(&mut f, big.as_bytes()))
        .unwrap();
    let s = handle.read().unwrap();
    assert_eq!(s.memory.stat.len(), 3000);
    assert_eq!(s.memory.stat.get("key_2999"), Some(&2999));
}

/// A handle told to keep only the samples' `memory.stat` keys stores just those, gives the
/// same numbers as a full read, and still refuses a malformed file.
#[test]
fn a_handle_can_keep_only_the_sample_keys() {
    use libpod_stats::internals::cgroup::memory_stat::SAMPLE_KEYS;

    for (data, cgroup, kept) in [
        (
            "v1-hybrid",
            v1_cgroup(),
            &[
                "inactive_file",
                "total_inactive_file",
                "total_rss",
                "total_swap",
            ][..],
        ),
        (
            "v2-handwritten",
            format!("/machine.slice/libpod-{V2_ID}.scope"),
            &["anon", "inactive_file"][..],
        ),
    ] {
        let r = reader(data);
        let full = r.read(&cgroup).unwrap();
        assert!(full.memory.stat.len() > kept.len(), "{data}");
        let mut handle = r.open(&cgroup).unwrap().keep_memory_stat(SAMPLE_KEYS);
        for _ in 0..2 {
            let s = handle.read().unwrap();
            let keys: Vec<&str> = s.memory.stat.keys().map(String::as_str).collect();
            assert_eq!(keys, kept, "{data}");
            assert_eq!(
                s.memory.working_set_bytes(),
                full.memory.working_set_bytes()
            );
            assert!(s.memory.anon_bytes().is_some(), "{data}");
            assert_eq!(s.memory.anon_bytes(), full.memory.anon_bytes());
            assert_eq!(s.cpu, full.cpu);
            assert_eq!(s.memory.usage_bytes, full.memory.usage_bytes);
        }
    }

    let dir = tempfile::tempdir().unwrap();
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/v1-hybrid");
    copy_tree(&src, dir.path());
    let r = CgroupReader::new(HostRoot::new(dir.path()).unwrap()).unwrap();
    let stat = dir
        .path()
        .join("sys/fs/cgroup/memory/libpod_parent")
        .join(format!("libpod-{V1_ID}/memory.stat"));
    std::fs::write(&stat, "cache 1\nnot a line\ninactive_file 2\n").unwrap();
    let err = r
        .open(&v1_cgroup())
        .unwrap()
        .keep_memory_stat(SAMPLE_KEYS)
        .read()
        .unwrap_err();
    assert!(err.to_string().contains("memory.stat"), "{err}");
}
