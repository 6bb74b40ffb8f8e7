//! Live cgroups made by the test, read live, captured, and replayed from the capture: the
//! numbers must be exactly the ones the live read gave at capture time.
//!
//! Needs root and a writable cgroup v1 hierarchy (this project's machines: v1 hybrid). The
//! cgroups are `lpstest-<pid>-<n>/libpod-<id>` in the cpu, cpuacct, memory, pids and blkio
//! hierarchies, removed by a Drop guard even when the test fails. Without them the test
//! fails under `CI=true` and prints a note otherwise.

use crate::support::cli;
use libpod_stats_test_support::files;
use libpod_stats_test_support::skip;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use cli::{cli, stdout_of};
use files::all_files;
use libpod_stats::internals::libpod::bolt::writer::Writer;
use libpod_stats::internals::libpod::bolt_state::write_bolt_state;
use libpod_stats::{
    capture_series, capture_snapshot, replay, CaptureOptions, Collector, CollectorOptions,
    DiscoveryOptions, FirstCpuPercent, HostRoot, MetricGroups, RawContainer, RawState,
    RuntimeConfig, Sample, Timestamp,
};

const CONTROLLERS: [&str; 5] = ["cpu", "cpuacct", "memory", "pids", "blkio"];
const PLANTED: &str = "lpstest-planted-env-value-5b1e";

/// A process in its own live cgroups; everything is undone on drop.
struct LiveContainer {
    child: Child,
    cgroup_dirs: Vec<PathBuf>,
    parent_dirs: Vec<PathBuf>,
}

impl Drop for LiveContainer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        for dir in self.cgroup_dirs.iter().chain(self.parent_dirs.iter()) {
            // The process is gone; the kernel may take a moment to drop it from the group.
            for _ in 0..50 {
                if std::fs::remove_dir(dir).is_ok() || !dir.exists() {
                    break;
                }
                std::thread::sleep(Duration::from_millis(20));
            }
        }
    }
}

fn hex_id(seed: &str) -> String {
    use std::hash::{BuildHasher, Hasher};
    let state = std::collections::hash_map::RandomState::new();
    (0..4)
        .map(|i| {
            let mut h = state.build_hasher();
            h.write(seed.as_bytes());
            h.write_u32(i);
            format!("{:016x}", h.finish())
        })
        .collect()
}

fn rfc3339_now() -> String {
    time::OffsetDateTime::now_utc()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap()
}

/// Creates the cgroups, starts a shell in them that burns a little CPU and memory, then
/// sleeps; returns once it sleeps (so its counters are still from then on).
fn start(parent: &str, id: &str) -> Result<LiveContainer, String> {
    let base = Path::new("/sys/fs/cgroup");
    for c in CONTROLLERS {
        if !base.join(c).join("cgroup.procs").exists() {
            return Err(format!("no v1 {c} hierarchy"));
        }
    }
    let child = Command::new("sh")
        .arg("-c")
        .arg("read go; i=0; while [ $i -lt 30000 ]; do i=$((i+1)); done; x=$(head -c 2000000 /dev/zero | tr '\\0' a); exec sleep 600")
        .stdin(Stdio::piped())
        .spawn()
        .map_err(|e| format!("spawn sh: {e}"))?;
    let mut guard = LiveContainer {
        child,
        cgroup_dirs: Vec::new(),
        parent_dirs: Vec::new(),
    };
    let pid = guard.child.id();
    for c in CONTROLLERS {
        let parent_dir = base.join(c).join(parent);
        let dir = parent_dir.join(format!("libpod-{id}"));
        std::fs::create_dir(&parent_dir).map_err(|e| format!("{parent_dir:?}: {e}"))?;
        guard.parent_dirs.push(parent_dir);
        std::fs::create_dir(&dir).map_err(|e| format!("{dir:?}: {e}"))?;
        guard.cgroup_dirs.push(dir.clone());
        std::fs::write(dir.join("cgroup.procs"), pid.to_string())
            .map_err(|e| format!("{dir:?}/cgroup.procs: {e}"))?;
    }
    guard
        .child
        .stdin
        .take()
        .ok_or("no stdin")?
        .write_all(b"go\n")
        .map_err(|e| e.to_string())?;
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let comm = std::fs::read_to_string(format!("/proc/{pid}/comm")).unwrap_or_default();
        if comm.trim() == "sleep" {
            break;
        }
        if Instant::now() > deadline {
            return Err("the workload did not finish".into());
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    Ok(guard)
}

/// A graph root with a BoltDB state holding one running container.
fn store(graph_root: &Path, id: &str, name: &str, parent: &str, pid: u32) {
    let config = serde_json::json!({
        "id": id,
        "name": name,
        "rootfsImageName": "localhost/bb:latest",
        "createdTime": rfc3339_now(),
        "cgroupManager": "cgroupfs",
        "cgroupParent": format!("/{parent}"),
        "labels": {"owner": PLANTED},
        "spec": {"process": {"env": [format!("TOKEN={PLANTED}")]}},
    });
    let state = serde_json::json!({
        "state": 3,
        "pid": pid,
        "startedTime": rfc3339_now(),
    });
    let raw = RawState {
        containers: vec![RawContainer {
            id: id.to_string(),
            name: Some(name.to_string()),
            pod_id: None,
            config_json: serde_json::to_vec(&config).unwrap(),
            state_json: serde_json::to_vec(&state).unwrap(),
        }],
        pods: Vec::new(),
        runtime: RuntimeConfig {
            graph_root: Some(graph_root.to_path_buf()),
            run_root: Some(graph_root.join("run")),
            static_dir: Some(graph_root.join("libpod")),
            tmp_dir: Some(graph_root.join("tmp")),
            graph_driver: Some("overlay".into()),
        },
    };
    std::fs::create_dir_all(graph_root.join("libpod")).unwrap();
    std::fs::write(
        graph_root.join("libpod/bolt_state.db"),
        write_bolt_state(&raw, &Writer::new()).unwrap(),
    )
    .unwrap();
}

/// A live container under the parent cgroup `tag`, recorded in a fresh store.
struct Stored {
    tag: String,
    id: String,
    container: LiveContainer,
    /// Holds the store at `graph_root`.
    tmp: tempfile::TempDir,
    graph_root: PathBuf,
}

/// Starts a container tagged `what` and records it; `None` (after a note, or a failure
/// under `CI=true`) when this host cannot run one.
fn stored(what: &str) -> Option<Stored> {
    if unsafe { libc::geteuid() } != 0 {
        skip::skip_or_fail("live cgroups need root");
        return None;
    }
    let tag = format!("lpstest-{}-{what}", std::process::id());
    let id = hex_id(&tag);
    let container = match start(&tag, &id) {
        Ok(c) => c,
        Err(why) => {
            skip::skip_or_fail(&why);
            return None;
        }
    };
    let tmp = tempfile::tempdir().unwrap();
    let graph_root = tmp.path().join("storage");
    store(&graph_root, &id, &tag, &tag, container.child.id());
    Some(Stored {
        tag,
        id,
        container,
        tmp,
        graph_root,
    })
}

fn options(graph_root: &Path) -> CollectorOptions {
    CollectorOptions {
        discovery: DiscoveryOptions {
            rootless_stores: false,
            extra_stores: vec![graph_root.to_path_buf()],
            external: false,
        },
        all: false,
        metrics: MetricGroups::ALL,
        first_cpu_percent: FirstCpuPercent::SinceStart,
        max_open_files: None,
        filter: Default::default(),
    }
}

fn sample_of(samples: &[Sample], id: &str) -> Sample {
    samples
        .iter()
        .find(|s| s.id == id)
        .cloned()
        .unwrap_or_else(|| panic!("container {id} not in {samples:#?}"))
}

#[test]
fn capture_of_live_cgroups_replays_to_the_live_numbers() {
    let Some(Stored {
        tag,
        id,
        container,
        tmp,
        graph_root,
    }) = stored("live")
    else {
        return;
    };

    // A live read, the cgroup files read directly, a capture recording the same time, and
    // a second live read. The kernel may still settle memory (per-cpu charge caches drain
    // at any time), so the attempt counts only when both live reads agree: then the host
    // did not change while it was captured, and the capture must replay to exactly that.
    let mut samples = Vec::new();
    let mut attempt = 0;
    let (at_ns, live_sample, snap, capture_opts) = loop {
        attempt += 1;
        // A fresh collector: its first reading is the average since start, as --no-stream.
        let mut live = Collector::new(HostRoot::live(), options(&graph_root)).unwrap();
        assert!(attempt <= 20, "the live cgroup never held still");
        let at_ns = Timestamp::now().wall_ns;
        let at = Timestamp {
            wall_ns: at_ns,
            mono_ns: 1,
        };
        let report = live.collect(at, &mut samples).unwrap();
        assert!(report.errors.iter().all(|e| e.id != id), "{report:?}");
        assert!(report.discovery_errors.is_empty(), "{report:?}");
        let before = sample_of(&samples, &id);
        let read = |file: &str| -> u64 {
            std::fs::read_to_string(format!("/sys/fs/cgroup/{file}"))
                .unwrap()
                .trim()
                .parse()
                .unwrap()
        };
        let usage = read(&format!("cpuacct/{tag}/libpod-{id}/cpuacct.usage"));
        let mem = read(&format!("memory/{tag}/libpod-{id}/memory.usage_in_bytes"));
        let snap = tmp.path().join(format!("snap-{attempt}"));
        let capture_opts = CaptureOptions {
            discovery: options(&graph_root).discovery,
            redact: true,
            taken_at_ns: Some(at_ns),
            ..CaptureOptions::default()
        };
        let summary = capture_snapshot(&HostRoot::live(), &snap, &capture_opts).unwrap();
        assert!(summary.with_cgroup >= 1, "{summary:?}");
        live.collect(at, &mut samples).unwrap();
        let after = sample_of(&samples, &id);
        // The same instance read twice at the same moment: the rate of the second read is
        // undefined, so compare everything else.
        let same = Sample {
            cpu_percent: before.cpu_percent,
            cpu_percent_normalized: before.cpu_percent_normalized,
            ..after
        } == before;
        if same && before.cpu_ns == Some(usage) && before.memory_bytes == Some(mem) {
            break (at_ns, before, snap, capture_opts);
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    assert_eq!(
        live_sample.cgroup.as_deref(),
        Some(&*format!("/{tag}/libpod-{id}"))
    );
    assert!(live_sample.cpu_ns.is_some_and(|n| n > 0), "{live_sample:?}");
    assert!(
        live_sample.memory_bytes.is_some_and(|n| n > 0),
        "{live_sample:?}"
    );
    assert!(live_sample.cpu_percent.is_some(), "{live_sample:?}");

    // Replayed from the capture (through the library and through the CLI).
    let mut replayed = Collector::new(HostRoot::new(&snap).unwrap(), options(&graph_root)).unwrap();
    replayed
        .collect(Timestamp::at(at_ns), &mut samples)
        .unwrap();
    assert_eq!(sample_of(&samples, &id), live_sample);
    let out = stdout_of(
        cli()
            .arg("--root")
            .arg(&snap)
            .arg("--store")
            .arg(&graph_root)
            .args(["--no-rootless", "stats", "--no-stream", "--format", "json"]),
    );
    // Compared as JSON: the CLI's floats are printed shortest-exact, and parsing them back
    // into f64 may differ in the last bit; the printed text may not.
    let printed: serde_json::Value = serde_json::from_slice(&out).unwrap();
    let cli_sample = printed
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["id"] == *id)
        .cloned()
        .unwrap();
    let expected: serde_json::Value =
        serde_json::from_str(&serde_json::to_string(&live_sample).unwrap()).unwrap();
    assert_eq!(cli_sample, expected);

    // Live `--no-stream --interval`: two samples that far apart, the rate between them (the
    // process sleeps: exactly 0).
    let out = stdout_of(cli().arg("--store").arg(&graph_root).args([
        "--no-rootless",
        "stats",
        "--no-stream",
        "--interval",
        "0.3",
        "--format",
        "json",
    ]));
    let live_delta: Vec<Sample> = serde_json::from_slice(&out).unwrap();
    let s = sample_of(&live_delta, &id);
    assert_eq!(s.cpu_percent, Some(0.0), "{s:?}");
    assert_eq!(s.cpu_ns, live_sample.cpu_ns);

    // Files are owner-only and the planted value is nowhere.
    let mut files = Vec::new();
    all_files(&snap, &mut files);
    for f in &files {
        use std::os::unix::fs::PermissionsExt;
        let meta = f.symlink_metadata().unwrap();
        if meta.file_type().is_symlink() {
            continue;
        }
        assert_eq!(meta.permissions().mode() & 0o777, 0o600, "{f:?}");
        let bytes = std::fs::read(f).unwrap();
        assert!(
            !bytes
                .windows(PLANTED.len())
                .any(|w| w == PLANTED.as_bytes()),
            "{f:?} holds the planted value"
        );
    }

    // A 3-step series replays to the live counters, with rates from step 1 on.
    let series = tmp.path().join("series");
    capture_series(
        &HostRoot::live(),
        &series,
        3,
        Duration::from_millis(200),
        &CaptureOptions {
            taken_at_ns: None,
            ..capture_opts
        },
        &mut |_, _| {},
    )
    .unwrap();
    let steps = replay(&series, options(&graph_root)).unwrap();
    assert_eq!(steps.len(), 3);
    for (i, step) in steps.iter().enumerate() {
        let s = sample_of(&step.samples, &id);
        assert_eq!(s.cpu_ns, live_sample.cpu_ns, "step {i}");
        // Memory may settle between steps (per-cpu charge caches): only its presence is fixed.
        assert!(s.memory_bytes.is_some_and(|m| m > 0), "step {i}");
        assert_eq!(s.pids, live_sample.pids, "step {i}");
        // The process sleeps: no CPU between steps.
        let expected = if i == 0 { None } else { Some(0.0) };
        assert_eq!(s.cpu_percent, expected, "step {i}");
    }
    drop(container);
}

/// A cgroup removed and recreated under the same path while the collector holds its files
/// (a restart podman has not recorded yet): the next cycle reads the new cgroup at once, its
/// counter from zero gives a null rate (not a vanished container, not a negative number),
/// and the cycle after that a rate again.
#[test]
fn a_cgroup_recreated_under_the_same_path_restarts_the_rate() {
    let Some(Stored {
        id,
        container,
        tmp: _store,
        graph_root,
        ..
    }) = stored("recreate")
    else {
        return;
    };
    let mut opts = options(&graph_root);
    opts.first_cpu_percent = FirstCpuPercent::Null;
    let mut collector = Collector::new(HostRoot::live(), opts).unwrap();
    let mut samples = Vec::new();
    let at = |s: u64| Timestamp {
        wall_ns: s * 1_000_000_000,
        mono_ns: s * 1_000_000_000,
    };
    collector.collect(at(1), &mut samples).unwrap();
    collector.collect(at(2), &mut samples).unwrap();
    let before = sample_of(&samples, &id);
    assert_eq!(before.cpu_percent, Some(0.0), "{before:?}");
    assert!(before.cpu_ns.is_some_and(|n| n > 0));

    // Out, remove, recreate, back in.
    let pid = container.child.id().to_string();
    for dir in &container.cgroup_dirs {
        let parent = dir.parent().unwrap();
        std::fs::write(parent.join("cgroup.procs"), &pid).unwrap();
        std::fs::remove_dir(dir).unwrap();
        std::fs::create_dir(dir).unwrap();
        std::fs::write(dir.join("cgroup.procs"), &pid).unwrap();
    }
    let report = collector.collect(at(3), &mut samples).unwrap();
    assert!(
        report.vanished.is_empty() && report.errors.is_empty(),
        "{report:?}"
    );
    let after = sample_of(&samples, &id);
    assert!(after.cpu_ns < before.cpu_ns, "{after:?}");
    assert_eq!(
        after.cpu_percent, None,
        "counters from zero: no rate, no spike"
    );
    collector.collect(at(4), &mut samples).unwrap();
    assert_eq!(sample_of(&samples, &id).cpu_percent, Some(0.0));
    drop(container);
}
