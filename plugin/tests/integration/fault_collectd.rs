//! No harm to collectd: the real daemon loads the plugin beside two stock read plugins
//! (`load`, `memory`) over a host whose state database is corrupt, whose cgroup files are
//! truncated and where one container's cgroup vanishes and comes back every interval.
//! collectd keeps running, the other plugins keep dispatching every interval, the plugin is
//! never suspended, and each problem is named in the log once.

use crate::support::daemon_files;
use libpod_stats_test_support::skip;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

const HOST: &str = "lpstest-noharm";
const IDLE: &str = "7904ca06230c5bbbadb9d290c62e512f2f50fb42f033101e024da6c8172bed5c";

/// The stock plugins the test runs beside ours.
const STOCK: [&str; 4] = ["csv", "logfile", "load", "memory"];

fn available() -> bool {
    match daemon_files::collectd_missing(&STOCK) {
        None => true,
        Some(why) => {
            skip::skip_or_fail(&format!("the no-harm test: {why}"));
            false
        }
    }
}

/// The daemon, stopped (SIGTERM, then SIGKILL) on drop.
struct Daemon {
    child: Child,
}

impl Drop for Daemon {
    fn drop(&mut self) {
        daemon_files::stop(&mut self.child);
    }
}

/// Times (epoch seconds) of the rows of every CSV file of `plugin_dir` whose name starts
/// with `type_prefix`.
fn csv_times(dir: &Path, plugin_dir: &str, type_prefix: &str) -> Vec<f64> {
    let base = dir.join("csv").join(HOST).join(plugin_dir);
    let mut out = Vec::new();
    let Ok(rd) = std::fs::read_dir(&base) else {
        return out;
    };
    for e in rd.flatten() {
        if !e.file_name().to_string_lossy().starts_with(type_prefix) {
            continue;
        }
        let text = std::fs::read_to_string(e.path()).unwrap_or_default();
        out.extend(
            text.lines()
                .skip(1)
                .filter_map(|l| l.split(',').next()?.parse::<f64>().ok()),
        );
    }
    out.sort_by(f64::total_cmp);
    out
}

/// The cgroup directories of the idle container in every hierarchy of the snapshot.
fn idle_dirs(snap: &Path) -> Vec<PathBuf> {
    std::fs::read_dir(snap.join("sys/fs/cgroup"))
        .unwrap()
        .flatten()
        .map(|e| e.path().join(format!("libpod_parent/libpod-{IDLE}")))
        .filter(|p| p.is_dir())
        .collect()
}

#[test]
fn collectd_and_its_other_plugins_are_unharmed_by_a_broken_host() {
    if !available() {
        return;
    }
    let tmp = tempfile::Builder::new()
        .prefix("lpstest-noharm-")
        .tempdir()
        .unwrap();
    let snap = tmp.path().join("snap");
    let fixture = libpod_stats_test_support::fixture("cgroupv1/series-podman/000");
    let status = Command::new("cp")
        .arg("-a")
        .arg(&fixture)
        .arg(&snap)
        .status()
        .unwrap();
    assert!(status.success());

    // A corrupt state database: discovery falls back to containers/storage.
    std::fs::write(
        snap.join("var/lib/containers/storage/libpod/bolt_state.db"),
        vec![0x5au8; 16384],
    )
    .unwrap();
    // Truncated cgroup files of the burner (mid-line), and an empty one.
    let burner_stat = std::fs::read_dir(snap.join("sys/fs/cgroup/memory/libpod_parent"))
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .find(|p| {
            p.file_name().is_some_and(|n| {
                n.to_string_lossy().starts_with("libpod-") && !p.ends_with(format!("libpod-{IDLE}"))
            })
        })
        .expect("the burner's memory cgroup")
        .join("memory.stat");
    let text = std::fs::read(&burner_stat).unwrap();
    std::fs::write(
        &burner_stat,
        format!(
            "{}\ntotal_cac",
            String::from_utf8_lossy(&text[..40.min(text.len())])
                .lines()
                .next()
                .unwrap_or("")
        ),
    )
    .unwrap();

    daemon_files::plugin_dir(tmp.path(), &STOCK);
    let conf = daemon_files::base_conf(
        HOST,
        tmp.path(),
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("types.db.libpodstats"),
        &format!(
            r#"LoadPlugin load
LoadPlugin memory
LoadPlugin libpodstats
<Plugin libpodstats>
  HostRoot "{snap}"
  RootlessStores false
</Plugin>
"#,
            snap = snap.display(),
        ),
    );
    let conf_path = tmp.path().join("collectd.conf");
    std::fs::write(&conf_path, conf).unwrap();
    let child = Command::new("collectd")
        .arg("-f")
        .arg("-C")
        .arg(&conf_path)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut daemon = Daemon { child };
    let log = || std::fs::read_to_string(tmp.path().join("collectd.log")).unwrap_or_default();

    // The idle container vanishes and comes back, out of step with collectd's interval.
    let stop = Arc::new(AtomicBool::new(false));
    let toggles = Arc::new(AtomicUsize::new(0));
    let toggler = {
        let (stop, toggles) = (stop.clone(), toggles.clone());
        let dirs = idle_dirs(&snap);
        assert!(dirs.len() >= 5, "{dirs:?}");
        let parked = tmp.path().join("parked");
        std::fs::create_dir(&parked).unwrap();
        std::thread::spawn(move || {
            let away: Vec<PathBuf> = (0..dirs.len())
                .map(|i| parked.join(i.to_string()))
                .collect();
            let mut gone = false;
            while !stop.load(Ordering::Relaxed) {
                std::thread::sleep(Duration::from_millis(700));
                for (dir, park) in dirs.iter().zip(&away) {
                    let (from, to) = if gone { (park, dir) } else { (dir, park) };
                    std::fs::rename(from, to).unwrap();
                }
                gone = !gone;
                toggles.fetch_add(1, Ordering::Relaxed);
            }
            if gone {
                for (dir, park) in dirs.iter().zip(&away) {
                    let _ = std::fs::rename(park, dir);
                }
            }
        })
    };

    let start = daemon_files::epoch_now();
    let run_for = Duration::from_secs(10);
    let t0 = Instant::now();
    while t0.elapsed() < run_for {
        std::thread::sleep(Duration::from_millis(200));
        if let Ok(Some(status)) = daemon.child.try_wait() {
            panic!("collectd exited ({status}) during the run:\n{}", log());
        }
    }
    stop.store(true, Ordering::Relaxed);
    toggler.join().unwrap();
    assert!(
        daemon.child.try_wait().unwrap().is_none(),
        "collectd is not running:\n{}",
        log()
    );
    let end = daemon_files::epoch_now();
    let log = log();

    // The stock plugins dispatched all along.
    for (plugin, prefix) in [("load", "load"), ("memory", "memory-")] {
        let times = csv_times(tmp.path(), plugin, prefix);
        let in_run: Vec<f64> = times.iter().copied().filter(|t| *t > start + 2.0).collect();
        assert!(
            in_run.len() >= 6,
            "{plugin} dispatched {} times during the run: {times:?}\n{log}",
            in_run.len()
        );
        assert!(
            in_run.iter().any(|t| *t > end - 3.0),
            "{plugin} stopped dispatching: {in_run:?}\n{log}"
        );
    }
    // The plugin kept going: the containers it can read were dispatched to the end, and
    // collectd never suspended it.
    let idle_times = csv_times(tmp.path(), "libpodstats-lpstest-idle", "pod_memory");
    assert!(
        !idle_times.is_empty(),
        "the vanishing container was never dispatched:\n{log}"
    );
    assert!(
        !log.contains("Will suspend it") && !log.contains("panicked"),
        "{log}"
    );
    eprintln!(
        "{} toggles; plugin log lines: {:#?}",
        toggles.load(Ordering::Relaxed),
        log.lines()
            .filter(|l| l.contains("libpodstats"))
            .collect::<Vec<_>>()
    );
    // Each problem is named once: no line of the plugin repeats.
    let mut seen: BTreeMap<String, usize> = BTreeMap::new();
    for line in log.lines() {
        // `[time] libpodstats: message` (collectd's logfile prints no level).
        let Some((_, message)) = line.split_once("] libpodstats: ") else {
            continue;
        };
        *seen.entry(message.to_string()).or_default() += 1;
    }
    let repeated: Vec<_> = seen.iter().filter(|(_, n)| **n > 1).collect();
    assert!(
        repeated.is_empty(),
        "problems logged more than once: {repeated:#?}\n{log}"
    );
    assert_eq!(
        seen.keys().filter(|m| m.contains("corrupt BoltDB")).count(),
        1,
        "the corrupt database is named once: {seen:#?}"
    );
    assert_eq!(
        seen.keys().filter(|m| m.contains("memory.stat")).count(),
        1,
        "the truncated memory.stat is named once: {seen:#?}"
    );
}
