//! Whole-process wall time: `libpod-stats stats --no-stream --format json` against
//! `podman stats --no-stream --format json`, both over the same 10 running containers of
//! one real podman store (the podman test harness: its own graphroot, runc, cgroupfs
//! manager, BoltDB state; podman tests' lock held throughout).
//!
//! Each side is run as a child process, stdout captured, the exit status checked, and both
//! must list the same 10 containers. Skipped with a note when podman is unusable here (not
//! root, tools missing). Run: `cargo bench --bench cli` (as root, podman installed).
//!
//! Floors, timed the same way in the same run, say what no implementation can go below on
//! this host: exec of `/bin/true` (dynamic C) and of `busybox true` (static), our own
//! start-up (`libpod-stats --version`), and the *files floor*: a static C program
//! (`files_floor.c`, built with `cc -O2 -static`) that opens, reads and closes
//! exactly the files ours reads for these containers and writes as many bytes as ours
//! prints, parsing nothing. A floor that cannot run here is left out with a note.
//!
//! Paired rounds then time ours and the files floor back to back, [`ROUNDS`] times (CPU time
//! of each child), and report the median of the per-round ratios, so a change of the
//! machine's load hits both alike. With `LPSTEST_CLI_OTHER=<path of another libpod-stats>`
//! that binary joins every round: an older build for a before/after in one run, or the
//! .deb's static-pie one (`plugin/packaging/build-deb.sh` leaves it in
//! `target/x86_64-unknown-linux-gnu/release/`) beside cargo's dynamically linked one.

use libpod_stats_test_support::bench;

#[allow(dead_code, unused_imports)]
use libpod_stats_test_support::podman;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use libpod_stats::internals::cgroup::files::CgroupFile;
use libpod_stats::internals::libpod::stores::find_stores;
use libpod_stats::{CgroupReader, HostRoot, MetricGroups};

use bench::{timed, RatioTable};

const CONTAINERS: usize = 10;

/// Rounds of the paired measurement.
const ROUNDS: usize = 40;

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

fn count(json: &[u8]) -> usize {
    serde_json::from_slice::<serde_json::Value>(json)
        .ok()
        .and_then(|v| v.as_array().map(Vec::len))
        .unwrap_or(0)
}

/// The files `libpod-stats stats` reads on the live host for the harness's containers: the
/// configuration and state files of the stores, `mountinfo`, `meminfo`, and per container
/// `/proc/<pid>/cgroup`, `net/dev` and the cgroup files its metric groups need (a fallback
/// file only when its primary is absent, as the collector opens them).
fn files_read(harness: &podman::PodmanHarness, names: &[String]) -> Vec<PathBuf> {
    let root = HostRoot::live();
    let mut files: Vec<PathBuf> = ["/proc/self/mountinfo", "/proc/meminfo"]
        .iter()
        .map(PathBuf::from)
        .collect();
    let found = find_stores(&root, false, &[harness.graphroot().to_path_buf()]);
    files.extend(found.config_files.iter().filter(|p| p.is_file()).cloned());
    files.extend(
        found
            .stores
            .iter()
            .filter_map(|s| s.state_file(&root))
            .map(|f| f.path),
    );
    let Ok(reader) = CgroupReader::new(root) else {
        return files;
    };
    let layout = reader.layout();
    let wanted = MetricGroups::ALL.cgroup_files();
    for name in names {
        if let Some(pid) = harness.pid(name) {
            files.push(PathBuf::from(format!("/proc/{pid}/cgroup")));
            files.push(PathBuf::from(format!("/proc/{pid}/net/dev")));
        }
        let cgroup = harness.cgroup_path(name);
        let rel = Path::new(cgroup.trim_start_matches('/'));
        let mut opened: Vec<CgroupFile> = Vec::new();
        for file in CgroupFile::for_layout(layout.kind()).filter(|f| wanted.contains(*f)) {
            if file.fallback_for().is_some_and(|p| opened.contains(&p)) {
                continue;
            }
            let Some(mount) = layout.mount(file.hierarchy()) else {
                continue;
            };
            let path = mount.join(rel).join(file.name());
            if path.is_file() {
                files.push(path);
                opened.push(file);
            }
        }
    }
    files
}

/// Builds `files_floor.c` statically into `dir`; why not, when it cannot.
fn build_files_floor(dir: &Path) -> Result<PathBuf, String> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("benches/files_floor.c");
    let exe = dir.join("files_floor");
    let out = Command::new("cc")
        .args(["-O2", "-static", "-o"])
        .arg(&exe)
        .arg(&src)
        .output()
        .map_err(|e| format!("cc: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "cc -static failed: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        ));
    }
    Ok(exe)
}

fn main() {
    let mut table = RatioTable::new("CLI: podman stats / libpod-stats stats (whole process)");
    let harness = match podman::PodmanHarness::try_new() {
        Ok(h) => h,
        Err(why) => {
            table.note(&format!("skipped: podman is unusable here: {why}"));
            table.print();
            return;
        }
    };
    let names: Vec<String> = (0..CONTAINERS)
        .map(|i| format!("lpstest-bench-cli-{i}"))
        .collect();
    for name in &names {
        harness.run_detached(name, &[], &["sleep", "1000"]);
    }
    let before = std::env::var_os("LPSTEST_CLI_OTHER").map(PathBuf::from);
    let stats_cmd = |exe: &Path| {
        let mut c = Command::new(exe);
        c.arg("--no-rootless")
            .arg("--store")
            .arg(harness.graphroot())
            .args(["stats", "--no-stream", "--format", "json"]);
        c
    };
    let ours = || {
        let mut c = Command::new(env!("CARGO_BIN_EXE_libpod-stats"));
        c.arg("--no-rootless")
            .arg("--store")
            .arg(harness.graphroot())
            .args(["stats", "--no-stream", "--format", "json"]);
        c
    };
    let theirs = || {
        let mut c = harness.command();
        c.args(["stats", "--no-stream", "--format", "json"]);
        c
    };
    let run = |mut cmd: Command| {
        // As a user's shell runs them: cargo gives a bench its toolchain's and target's
        // library dirs in LD_LIBRARY_PATH, where the loader of every dynamically linked
        // child (ours, podman, /bin/true) would first look for each library in vain
        // (84 failed `openat` for ours, 0.1 ms).
        cmd.env_remove("LD_LIBRARY_PATH");
        let cpu_before = children_cpu_ns();
        let out = cmd.output().expect("spawn");
        let cpu = children_cpu_ns().saturating_sub(cpu_before);
        let program = cmd.get_program().to_string_lossy().into_owned();
        let is_ours = program.ends_with("libpod-stats");
        let which = match (is_ours, cmd.get_args().next().and_then(|a| a.to_str())) {
            (true, Some("--version")) => "cli/version-cpu",
            (true, _) => "cli/libpod-stats-cpu",
            (false, _) if program.ends_with("podman") => "cli/podman-cpu",
            (false, _) if program.ends_with("files_floor") => "cli/files-floor-cpu",
            (false, _) => "cli/exec-floor-cpu",
        };
        bench::record(which, Duration::from_nanos(cpu), 1);
        assert!(
            out.status.success(),
            "{cmd:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        out.stdout
    };
    // Same containers on both sides (ours also lists any other store's, so at least 10).
    assert_eq!(count(&run(theirs())), CONTAINERS);
    let printed = run(ours());
    assert!(count(&printed) >= CONTAINERS);

    // The floors.
    let version = || {
        let mut c = Command::new(env!("CARGO_BIN_EXE_libpod-stats"));
        c.arg("--version");
        c
    };
    fn true_dynamic() -> Command {
        Command::new("/bin/true")
    }
    fn true_static() -> Command {
        let mut c = Command::new("/bin/busybox");
        c.arg("true");
        c
    }
    let true_dynamic = Path::new("/bin/true").is_file().then_some(true_dynamic);
    let true_static = Path::new("/bin/busybox").is_file().then_some(true_static);
    let floor_dir = tempfile::Builder::new()
        .prefix("lpstest-bench-floor-")
        .tempdir()
        .expect("temp dir");
    let files = files_read(&harness, &names);
    let files_floor = match build_files_floor(floor_dir.path()) {
        Ok(exe) => Some(exe),
        Err(why) => {
            table.note(&format!("files floor left out: {why}"));
            None
        }
    };
    let floor_cmd = |exe: &Path| {
        let mut c = Command::new(exe);
        c.arg(printed.len().to_string()).args(&files);
        c.stdin(Stdio::null());
        c
    };
    if let Some(exe) = &files_floor {
        run(floor_cmd(exe));
    }

    let mut c = bench::criterion();
    let mut group = c.benchmark_group("cli stats --no-stream");
    bench::configure(&mut group, Duration::from_secs(5));
    group.bench_function("libpod-stats", |b| {
        b.iter_custom(|iters| {
            timed("cli/libpod-stats", iters, || {
                run(ours());
            })
        })
    });
    group.bench_function("podman", |b| {
        b.iter_custom(|iters| {
            timed("cli/podman", iters, || {
                run(theirs());
            })
        })
    });
    group.bench_function("floor: libpod-stats --version", |b| {
        b.iter_custom(|iters| {
            timed("cli/version", iters, || {
                run(version());
            })
        })
    });
    if let Some(cmd) = true_dynamic {
        group.bench_function("floor: /bin/true", |b| {
            b.iter_custom(|iters| timed("cli/true-dynamic", iters, || drop(run(cmd()))))
        });
    }
    if let Some(cmd) = true_static {
        group.bench_function("floor: busybox true (static)", |b| {
            b.iter_custom(|iters| timed("cli/true-static", iters, || drop(run(cmd()))))
        });
    }
    if let Some(exe) = &files_floor {
        group.bench_function("floor: read the same files (static C)", |b| {
            b.iter_custom(|iters| timed("cli/files-floor", iters, || drop(run(floor_cmd(exe)))))
        });
    }
    group.finish();
    c.final_summary();

    // Paired rounds: CPU time of each child, back to back.
    if let Some(exe) = &files_floor {
        let cpu_of = |cmd: Command| {
            let start = children_cpu_ns();
            drop(run(cmd));
            (children_cpu_ns() - start) as f64
        };
        let ours_exe = Path::new(env!("CARGO_BIN_EXE_libpod-stats"));
        let (mut ours_r, mut before_r, mut ours_t, mut before_t, mut floor_t) =
            (Vec::new(), Vec::new(), Vec::new(), Vec::new(), Vec::new());
        for _ in 0..ROUNDS {
            let f = cpu_of(floor_cmd(exe));
            let o = cpu_of(stats_cmd(ours_exe));
            ours_r.push(o / f);
            ours_t.push(o);
            floor_t.push(f);
            if let Some(b) = &before {
                let b = cpu_of(stats_cmd(b));
                before_r.push(b / f);
                before_t.push(b);
            }
        }
        table.note(&format!(
            "RATIO paired CPU libpod-stats / files floor = {:.3}  (median of {ROUNDS} rounds: ours {}, floor {}; target <= 1.5)",
            median(ours_r),
            bench::human(median(ours_t)),
            bench::human(median(floor_t)),
        ));
        if let Some(b) = &before {
            table.note(&format!(
                "RATIO paired CPU other ({}) / files floor = {:.3}  (same rounds: other {})",
                b.display(),
                median(before_r),
                bench::human(median(before_t)),
            ));
        }
    }
    table.time(
        "libpod-stats stats --no-stream",
        "cli/libpod-stats",
        1.0,
        "report",
    );
    table.time("podman stats --no-stream", "cli/podman", 1.0, "report");
    table.time(
        "floor: libpod-stats --version",
        "cli/version",
        1.0,
        "report",
    );
    table.time("floor: /bin/true", "cli/true-dynamic", 1.0, "report");
    table.time(
        "floor: busybox true (static)",
        "cli/true-static",
        1.0,
        "report",
    );
    table.time(
        &format!("floor: read the same {} files (static C)", files.len()),
        "cli/files-floor",
        1.0,
        "report",
    );
    // On a loaded machine a child waits for a CPU; CPU time is what each one costs.
    for (label, id) in [
        ("libpod-stats CPU time (user+sys)", "cli/libpod-stats-cpu"),
        ("podman CPU time (user+sys)", "cli/podman-cpu"),
        ("libpod-stats --version CPU time", "cli/version-cpu"),
        ("files floor CPU time", "cli/files-floor-cpu"),
    ] {
        if let Some(m) = bench::median_all(id) {
            table.note(&format!(
                "TIME {label}: {} (median of every run)",
                bench::human(m)
            ));
        }
    }
    if let (Some(a), Some(b)) = (
        bench::median_all("cli/podman-cpu"),
        bench::median_all("cli/libpod-stats-cpu"),
    ) {
        table.note(&format!(
            "RATIO CPU time podman / libpod-stats = {:.3}  (target >= 20)",
            a / b
        ));
    }
    if let (Some(a), Some(b)) = (
        bench::median_all("cli/podman-cpu"),
        bench::median_all("cli/files-floor-cpu"),
    ) {
        table.note(&format!(
            "RATIO CPU time podman / files floor = {:.3}  (the most any reader of these files can reach)",
            a / b
        ));
    }
    table.ratio(
        "podman / libpod-stats",
        "cli/podman",
        "cli/libpod-stats",
        ">= 20",
    );
    table.ratio(
        "podman / files floor (static C, no parsing)",
        "cli/podman",
        "cli/files-floor",
        "report",
    );
    table.ratio(
        "libpod-stats / files floor",
        "cli/libpod-stats",
        "cli/files-floor",
        "report",
    );
    table.print();
    drop(harness);
}
