//! Whole-process wall time: `libpod-stats stats --no-stream --format json` against
//! `podman stats --no-stream --format json`, both over the same 10 running containers of
//! one real podman store (the podman test harness: its own graphroot, runc, cgroupfs
//! manager, BoltDB state; podman tests' lock held throughout).
//!
//! Each side is run as a child process, stdout captured, the exit status checked, and both
//! must list the same 10 containers. Skipped with a note when podman is unusable here (not
//! root, tools missing). Run: `cargo bench --bench cli` (as root, podman installed).

mod support;

#[allow(dead_code, unused_imports)]
#[path = "../tests/support/podman.rs"]
mod podman;

use std::process::Command;
use std::time::Duration;

use support::{timed, RatioTable};

const CONTAINERS: usize = 10;

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
    for i in 0..CONTAINERS {
        harness.run_detached(&format!("lpstest-bench-cli-{i}"), &[], &["sleep", "1000"]);
    }
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
        let cpu_before = children_cpu_ns();
        let out = cmd.output().expect("spawn");
        let cpu = children_cpu_ns().saturating_sub(cpu_before);
        let program = cmd.get_program().to_string_lossy().into_owned();
        let which = if program.ends_with("libpod-stats") {
            "cli/libpod-stats-cpu"
        } else {
            "cli/podman-cpu"
        };
        support::record(which, Duration::from_nanos(cpu), 1);
        assert!(
            out.status.success(),
            "{cmd:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        out.stdout
    };
    // Same containers on both sides (ours also lists any other store's, so at least 10).
    assert_eq!(count(&run(theirs())), CONTAINERS);
    assert!(count(&run(ours())) >= CONTAINERS);

    let mut c = support::criterion();
    let mut group = c.benchmark_group("cli stats --no-stream");
    support::configure(&mut group, Duration::from_secs(5));
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
    group.finish();
    c.final_summary();
    table.time(
        "libpod-stats stats --no-stream",
        "cli/libpod-stats",
        1.0,
        "report",
    );
    table.time("podman stats --no-stream", "cli/podman", 1.0, "report");
    // On a loaded machine a child waits for a CPU; CPU time is what each one costs.
    for (label, id) in [
        ("libpod-stats CPU time (user+sys)", "cli/libpod-stats-cpu"),
        ("podman CPU time (user+sys)", "cli/podman-cpu"),
    ] {
        if let Some(m) = support::median_all(id) {
            table.note(&format!(
                "TIME {label}: {} (median of every run)",
                support::human(m)
            ));
        }
    }
    if let (Some(a), Some(b)) = (
        support::median_all("cli/podman-cpu"),
        support::median_all("cli/libpod-stats-cpu"),
    ) {
        table.note(&format!(
            "RATIO CPU time podman / libpod-stats = {:.3}  (target >= 20)",
            a / b
        ));
    }
    table.ratio(
        "podman / libpod-stats",
        "cli/podman",
        "cli/libpod-stats",
        ">= 20",
    );
    table.print();
    drop(harness);
}
