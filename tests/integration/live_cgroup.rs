//! Live tests on this machine's real cgroupfs: create `lpstest-<pid>-<n>` cgroups in every
//! hierarchy the reader uses (v1 controllers and `unified` on a hybrid host, the one tree on
//! v2), move a busy child in, and check the reader sees its cpu time grow and its memory.
//! A guard kills the child and removes the cgroups even when an assertion fails.
//!
//! They need root and a writable cgroupfs. With `CI=true` the absence of either is a
//! failure; elsewhere the tests print a note and pass.

use libpod_stats_test_support::skip;

use std::io::Write;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use libpod_stats::internals::cgroup::layout::LayoutKind;
use libpod_stats::internals::cgroup::layout::{Controller, Hierarchy};
use libpod_stats::{CgroupReader, HostRoot};

static NEXT: AtomicUsize = AtomicUsize::new(0);

/// Created cgroups and the child in them; dropping kills the child and removes the cgroups.
struct LiveCgroup {
    /// The cgroup path as the reader takes it (`/lpstest-<pid>-<n>`).
    name: String,
    dirs: Vec<PathBuf>,
    child: Option<Child>,
}

impl Drop for LiveCgroup {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
        for dir in self.dirs.iter().rev() {
            // A cgroup can be removed only once empty; the reaped child may take a moment to
            // leave it.
            for _ in 0..100 {
                match std::fs::remove_dir(dir) {
                    Ok(()) => break,
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => break,
                    Err(_) => std::thread::sleep(Duration::from_millis(10)),
                }
            }
            if dir.exists() {
                eprintln!("warning: could not remove {}", dir.display());
            }
        }
    }
}

/// The mount point of every hierarchy the reader uses, once each (co-mounted controllers
/// share one).
fn hierarchy_mounts(reader: &CgroupReader) -> Vec<PathBuf> {
    let layout = reader.layout();
    let mut mounts: Vec<PathBuf> = layout
        .hierarchies()
        .filter_map(|h| layout.mount(h))
        .filter_map(|m| std::fs::canonicalize(m).ok())
        .collect();
    mounts.sort();
    mounts.dedup();
    mounts
}

/// Creates the cgroups and starts a busy child that enters them before it `exec`s, so the
/// memory of the new image is charged to the new cgroup. `None` when this host cannot.
fn start() -> Option<(CgroupReader, LiveCgroup)> {
    let reader = match CgroupReader::new(HostRoot::live()) {
        Ok(r) => r,
        Err(e) => {
            skip::skip_or_fail(&format!(
                "live cgroups need root and a writable cgroupfs: no cgroup layout: {e}"
            ));
            return None;
        }
    };
    let name = format!(
        "lpstest-{}-{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::SeqCst)
    );
    let mut guard = LiveCgroup {
        name: format!("/{name}"),
        dirs: Vec::new(),
        child: None,
    };
    for mount in hierarchy_mounts(&reader) {
        let dir = mount.join(&name);
        if let Err(e) = std::fs::create_dir(&dir) {
            skip::skip_or_fail(&format!(
                "live cgroups need root and a writable cgroupfs: cannot create {}: {e}",
                dir.display()
            ));
            return None;
        }
        guard.dirs.push(dir);
    }
    let mut command = Command::new("sh");
    command
        .args(["-c", "read go; exec sh -c 'while :; do :; done'"])
        .stdin(Stdio::piped());
    // SAFETY: the closure only calls prctl, which is async-signal-safe. It makes the busy
    // child die with the thread that started it, so a killed test run leaves no cpu burner.
    unsafe {
        command.pre_exec(|| {
            if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    let mut child = command.spawn().expect("spawn sh");
    let pid = child.id().to_string();
    let mut stdin = child.stdin.take().expect("child stdin");
    guard.child = Some(child);
    for dir in &guard.dirs {
        std::fs::write(dir.join("cgroup.procs"), &pid)
            .unwrap_or_else(|e| panic!("moving {pid} into {}: {e}", dir.display()));
    }
    stdin.write_all(b"go\n").expect("release the child");
    drop(stdin);
    Some((reader, guard))
}

/// Reads until `cpu.usage_ns` passes `above` or a few seconds have gone by.
fn cpu_after(reader: &CgroupReader, cgroup: &str, above: u64) -> u64 {
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let usage = reader.read(cgroup).unwrap().cpu.usage_ns.unwrap_or(0);
        if usage > above || Instant::now() > deadline {
            return usage;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn busy_child_cpu_grows_and_memory_is_charged() {
    let Some((reader, guard)) = start() else {
        return;
    };
    let cg = guard.name.clone();
    assert!(reader.exists(&cg));
    let first = cpu_after(&reader, &cg, 0);
    assert!(first > 0, "no cpu time seen for {cg}");
    let second = cpu_after(&reader, &cg, first);
    assert!(
        second > first,
        "cpu time did not grow: {first} then {second}"
    );

    let stats = reader.read(&cg).unwrap();
    let usage = stats.memory.usage_bytes;
    let has_memory = reader
        .layout()
        .hierarchies()
        .any(|h| h == Hierarchy::V1(Controller::Memory))
        || Path::new("/sys/fs/cgroup")
            .join(cg.trim_start_matches('/'))
            .join("memory.current")
            .exists();
    if has_memory {
        assert!(usage.is_some_and(|u| u > 0), "memory usage {usage:?}");
        assert!(!stats.memory.stat.is_empty());
    }
    assert!(stats.pids.current.is_none_or(|n| n >= 1));
    if reader.layout().kind() == LayoutKind::Hybrid {
        let unified = reader.layout().unified_mount().unwrap().join(&cg[1..]);
        if unified.join("cpu.pressure").exists() {
            assert!(stats.pressure.cpu.is_some(), "PSI from unified");
        }
    }
}

#[test]
fn a_removed_cgroup_reads_as_not_found() {
    let Some((reader, guard)) = start() else {
        return;
    };
    let cg = guard.name.clone();
    assert!(reader.read(&cg).is_ok());
    drop(guard);
    assert!(!reader.exists(&cg));
    let err = reader.read(&cg).unwrap_err();
    assert!(err.is_not_found(), "{err}");
}

#[test]
fn held_files_follow_a_live_cgroup_until_it_is_removed() {
    let Some((reader, guard)) = start() else {
        return;
    };
    let cg = guard.name.clone();
    let mut handle = reader.open(&cg).unwrap();
    let first = cpu_after(&reader, &cg, 0);
    let deadline = Instant::now() + Duration::from_secs(5);
    let mut held = handle.read().unwrap().cpu.usage_ns.unwrap_or(0);
    while held <= first && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
        held = handle.read().unwrap().cpu.usage_ns.unwrap_or(0);
    }
    assert!(
        held > first,
        "held files did not see cpu time grow: {first} then {held}"
    );
    drop(guard);
    let err = handle.read().unwrap_err();
    assert!(err.is_not_found(), "{err}");
}
