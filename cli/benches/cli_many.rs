//! `libpod-stats stats --no-stream --format json` over 1000 containers whose cgroups are real
//! (the cycle bench's live host: `lpstest-cli-<pid>/libpod-<id>` cgroups in this machine's
//! v1 hierarchies and `unified`, read through a synthesized snapshot with the real
//! `/sys/fs/cgroup` bound in, in a private mount namespace the children inherit), against the
//! files floor: `files_floor.c` opening, reading and closing exactly the files ours reads
//! there (their names read from a list file) and writing as many bytes as ours prints.
//!
//! Paired rounds time the floor and ours back to back (CPU time of each child) and report the
//! median of the per-round ratios; `LPSTEST_CLI_OTHER=<another libpod-stats>` joins every
//! round (an older build for a before/after in one run, or the .deb's static-pie one). Root
//! only; skipped with a note where cgroups cannot be made. Run: `cargo bench -p
//! libpod-stats-cli --bench cli_many` (`LPSTEST_CLI_N` to change the 1000). The soft
//! `RLIMIT_NOFILE` is raised up to the hard limit, for builds that hold every descriptor
//! until they exit (before `845bb80`, ten or more per container).

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use libpod_stats::internals::cgroup::files::CgroupFile;
use libpod_stats::internals::libpod::stores::find_stores;
use libpod_stats::{CgroupReader, MetricGroups};
use libpod_stats_test_support::bench::{human, RatioTable};
use libpod_stats_test_support::live::LiveHost;

const ROUNDS: usize = 10;

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v.get(v.len() / 2).copied().unwrap_or(f64::NAN)
}

/// User + system CPU time of this process's waited-for children so far, in ns.
fn children_cpu_ns() -> u64 {
    // SAFETY: a zeroed rusage is valid storage for getrusage to fill.
    let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: valid pointer to writable rusage storage.
    if unsafe { libc::getrusage(libc::RUSAGE_CHILDREN, &mut ru) } != 0 {
        return 0;
    }
    let ns = |tv: libc::timeval| tv.tv_sec as u64 * 1_000_000_000 + tv.tv_usec as u64 * 1000;
    ns(ru.ru_utime) + ns(ru.ru_stime)
}

/// Raises the soft descriptor limit to the hard one (the children inherit it).
fn raise_nofile() {
    let mut lim = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: valid rlimit storage; setrlimit only raises the soft limit to the hard one.
    unsafe {
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) == 0 {
            lim.rlim_cur = lim.rlim_max;
            libc::setrlimit(libc::RLIMIT_NOFILE, &lim);
        }
    }
}

/// The real paths of the files ours reads under the live host's snapshot root: mountinfo,
/// meminfo, the store's configuration and state files, and per container
/// `/proc/<pid>/cgroup`, `net/dev` and the cgroup files of every metric group (a fallback
/// only when its primary is absent, as the collector opens them).
fn files_read(live: &LiveHost) -> Vec<PathBuf> {
    let root = live.root();
    let real = |p: &Path| root.resolve(p).ok().filter(|r| r.is_file());
    let mut files: Vec<PathBuf> = ["/proc/self/mountinfo", "/proc/meminfo"]
        .iter()
        .filter_map(|p| real(Path::new(p)))
        .collect();
    let found = find_stores(root, false, &[]);
    files.extend(found.config_files.iter().filter_map(|p| real(p)));
    files.extend(
        found
            .stores
            .iter()
            .filter_map(|s| s.state_file(root))
            .filter_map(|f| real(&f.path)),
    );
    let Ok(reader) = CgroupReader::new(root.clone()) else {
        return files;
    };
    let layout = reader.layout();
    let wanted = MetricGroups::ALL.cgroup_files();
    for c in &live.built().containers {
        if let Some(pid) = c.pid {
            for f in ["cgroup", "net/dev"] {
                files.extend(real(&PathBuf::from(format!("/proc/{pid}/{f}"))));
            }
        }
        let Some(cgroup) = c.cgroup.as_deref() else {
            continue;
        };
        let rel = Path::new(cgroup.trim_start_matches('/'));
        let mut opened: Vec<CgroupFile> = Vec::new();
        for file in CgroupFile::for_layout(layout.kind()).filter(|f| wanted.contains(*f)) {
            if file.fallback_for().is_some_and(|p| opened.contains(&p)) {
                continue;
            }
            let Some(mount) = layout.mount(file.hierarchy()) else {
                continue;
            };
            if let Some(path) = real(&mount.join(rel).join(file.name())) {
                files.push(path);
                opened.push(file);
            }
        }
    }
    files
}

fn main() {
    let n: usize = std::env::var("LPSTEST_CLI_N")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1000);
    let mut table = RatioTable::new(&format!(
        "CLI at N={n}: libpod-stats stats --no-stream / files floor (live cgroups)"
    ));
    raise_nofile();
    let live = match LiveHost::create("cli", n) {
        Ok(l) => l,
        Err(why) => {
            table.note(&format!("skipped: {why}"));
            table.print();
            return;
        }
    };
    let dir = live.root().dir().to_path_buf();
    let stats = |exe: &Path| {
        let mut c = Command::new(exe);
        c.arg("--no-rootless").arg("--root").arg(&dir).args([
            "stats",
            "--no-stream",
            "--format",
            "json",
        ]);
        c
    };
    let run = |mut cmd: Command| -> (f64, Vec<u8>) {
        // As a user's shell runs them: cargo gives a bench its toolchain's and target's
        // library dirs in LD_LIBRARY_PATH, where the loader of every dynamically linked
        // child (ours, podman, /bin/true) would first look for each library in vain
        // (84 failed `openat` for ours, 0.1 ms).
        cmd.env_remove("LD_LIBRARY_PATH");
        let start = children_cpu_ns();
        let out = cmd.output().expect("spawn");
        let cpu = children_cpu_ns().saturating_sub(start) as f64;
        assert!(
            out.status.success(),
            "{cmd:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        (cpu, out.stdout)
    };
    let ours_exe = PathBuf::from(env!("CARGO_BIN_EXE_libpod-stats"));
    let (_, printed) = run(stats(&ours_exe));
    let listed = serde_json::from_slice::<serde_json::Value>(&printed)
        .ok()
        .and_then(|v| v.as_array().map(Vec::len))
        .unwrap_or(0);
    assert_eq!(listed, n, "ours lists every container");

    let floor_dir = tempfile::Builder::new()
        .prefix("lpstest-bench-floor-")
        .tempdir()
        .expect("temp dir");
    let floor_exe = floor_dir.path().join("files_floor");
    let built = Command::new("cc")
        .args(["-O2", "-static", "-o"])
        .arg(&floor_exe)
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("benches/files_floor.c"))
        .status()
        .is_ok_and(|s| s.success());
    if !built {
        table.note("skipped: cc -static cannot build the files floor here");
        table.print();
        return;
    }
    let files = files_read(&live);
    // Too many for the command line: the floor reads their names from a list.
    let list = floor_dir.path().join("files");
    let mut names = Vec::new();
    for f in &files {
        names.extend_from_slice(f.as_os_str().as_encoded_bytes());
        names.push(b'\n');
    }
    std::fs::write(&list, names).expect("writing the file list");
    let mut list_arg = std::ffi::OsString::from("@");
    list_arg.push(&list);
    let floor = || {
        let mut c = Command::new(&floor_exe);
        c.arg(printed.len().to_string()).arg(&list_arg);
        c.stdin(Stdio::null());
        c
    };
    let before = std::env::var_os("LPSTEST_CLI_OTHER").map(PathBuf::from);
    let (mut ratio, mut before_ratio) = (Vec::new(), Vec::new());
    let (mut ours_t, mut floor_t, mut before_t) = (Vec::new(), Vec::new(), Vec::new());
    for _ in 0..ROUNDS {
        let f = run(floor()).0;
        let o = run(stats(&ours_exe)).0;
        ratio.push(o / f);
        ours_t.push(o);
        floor_t.push(f);
        if let Some(b) = &before {
            let b = run(stats(b)).0;
            before_ratio.push(b / f);
            before_t.push(b);
        }
    }
    table.note(&format!(
        "RATIO N={n} paired CPU libpod-stats / files floor = {:.3}  (median of {ROUNDS} rounds: ours {}, floor {} for {} files; target <= 1.5)",
        median(ratio),
        human(median(ours_t)),
        human(median(floor_t)),
        files.len(),
    ));
    if let Some(b) = &before {
        table.note(&format!(
            "RATIO N={n} paired CPU other ({}) / files floor = {:.3}  (same rounds: other {})",
            b.display(),
            median(before_ratio),
            human(median(before_t)),
        ));
    }
    table.print();
    drop(live);
}
