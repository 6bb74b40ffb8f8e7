//! The plugin in the real collectd against live podman 4.3 containers, end to end (issue 6):
//!
//! - Interval 1, the plugin pointed at the test's own store (`Store "<graphroot>"`): every
//!   running and paused container appears with plugin instance = its name (created and
//!   stopped ones do not), with the numbers `libpod-stats stats` gives at a moment between two
//!   of collectd's reads (cpu time between the two rows around it, memory between them, the
//!   same pids);
//! - after `podman rm -f` a container is no longer dispatched within two intervals while the
//!   others still are (no CSV row later than that), and collectd's cache lets it go
//!   (`collectdctl listval` over unixsock);
//! - `podman restart` (a new cgroup, its counters from zero) never yields a negative or
//!   spiking cpu percent: every percent written lies in [0, 100 x cpus + 10].
//!
//! - Concurrency: collectd reading every 0.1 s while podman runs, stops and removes 30
//!   containers, against the same loop without collectd (ABBA: 15 without, 30 with, 15
//!   without). No podman command may fail or hang; both wall times are printed (BENCHMARKS.md
//!   keeps the figures); the plugin must log nothing (a vanished container is no error).
//!
//! Podman tests run under the podman lock; with `CI=true` they fail when podman or collectd
//! cannot be used.

use crate::support;

use libpod_stats_test_support::podman;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use podman::PodmanHarness;
use serde_json::Value;
use support::{collectd_available, epoch_now, Daemon};

/// The workspace's build of the `libpod-stats` CLI, built on demand (like the plugin), so
/// building never falls inside a timed window.
fn cli_exe() -> PathBuf {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_string());
    let status = Command::new(cargo)
        .args(["build", "-p", "libpod-stats-cli", "--bin", "libpod-stats"])
        .status()
        .expect("running cargo build");
    assert!(status.success(), "cargo build of libpod-stats failed");
    support::plugin_so()
        .parent()
        .expect("target/debug")
        .join("libpod-stats")
}

/// `libpod-stats stats --no-stream --format json` over the harness's store.
fn cli_stats(exe: &Path, h: &PodmanHarness) -> Vec<Value> {
    let out = Command::new(exe)
        .arg("--no-rootless")
        .arg("--store")
        .arg(h.graphroot())
        .args(["stats", "--no-stream", "--format", "json"])
        .output()
        .unwrap_or_else(|e| panic!("running {}: {e}", exe.display()));
    assert!(
        out.status.success(),
        "libpod-stats stats: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    match serde_json::from_slice::<Value>(&out.stdout) {
        Ok(Value::Array(samples)) => samples,
        other => panic!("libpod-stats stats printed no JSON array: {other:?}"),
    }
}

/// A CSV value as a number; `nan` (no rate yet) is NaN.
fn number(text: &str) -> f64 {
    text.parse()
        .unwrap_or_else(|e| panic!("a CSV value that is no number: {text:?}: {e}"))
}

/// The first value of the last row written before `t` and of the first row written after
/// `t_after` (collectd stamps a value list when it is dispatched, just after the read).
fn around(rows: &[(f64, Vec<String>)], t: f64, t_after: f64, col: usize) -> (f64, f64) {
    let before = rows
        .iter()
        .rev()
        .find(|(e, _)| *e < t)
        .unwrap_or_else(|| panic!("no row before {t}: {rows:?}"));
    let after = rows
        .iter()
        .find(|(e, _)| *e > t_after)
        .unwrap_or_else(|| panic!("no row after {t_after}: {rows:?}"));
    (number(&before.1[col]), number(&after.1[col]))
}

#[test]
fn plugin_dispatches_live_containers_like_the_cli() {
    if !collectd_available() {
        return;
    }
    let exe = cli_exe();
    let Some(h) = PodmanHarness::new() else {
        return;
    };
    h.run_detached("lpstest-e2p-idle", &[], &["sleep", "1000"]);
    h.run_detached("lpstest-e2p-burner", &[], &["sh", "-c", "yes > /dev/null"]);
    h.run_detached(
        "lpstest-e2p-memhold",
        &["--tmpfs", "/mem:size=256m"],
        &[
            "sh",
            "-c",
            "dd if=/dev/zero of=/mem/blob bs=1M count=100 2>/dev/null && exec sleep 1000",
        ],
    );
    let pod = h.pod_create("lpstest-e2p-pod");
    h.run_detached(
        "lpstest-e2p-member",
        &["--pod", "lpstest-e2p-pod"],
        &["sleep", "1000"],
    );
    h.run_detached("lpstest-e2p-paused", &[], &["sleep", "1000"]);
    h.pause("lpstest-e2p-paused");
    h.create("lpstest-e2p-created", &[], &["sleep", "1000"]);
    h.run_detached("lpstest-e2p-stopped", &[], &["sleep", "1000"]);
    h.stop("lpstest-e2p-stopped");
    let infra = format!("{}-infra", &pod[..12]);
    let live: BTreeSet<String> = [
        "lpstest-e2p-idle",
        "lpstest-e2p-burner",
        "lpstest-e2p-memhold",
        "lpstest-e2p-member",
        "lpstest-e2p-paused",
        infra.as_str(),
    ]
    .iter()
    .map(|n| n.to_string())
    .collect();

    // Only this store's containers: the host's other stores may hold others.
    let block = format!(
        "  Store \"{}\"\n  RootlessStores false\n  Include \"^lpstest-e2p-\" \"^{infra}$\"",
        h.graphroot().display()
    );
    // unixsock too: its cache is what `collectdctl listval` shows (collectd runs in BaseDir,
    // so the socket's relative path lands in the daemon's temp dir).
    let mut d = Daemon::with_config(
        support::HOST,
        &format!(
            "LoadPlugin unixsock\n<Plugin unixsock>\n  SocketFile \"collectd.sock\"\n\
             </Plugin>\nLoadPlugin libpodstats\n<Plugin libpodstats>\n{block}\n</Plugin>\n"
        ),
    );
    d.start();
    let ready = d.wait_for(Duration::from_secs(30), |d| {
        live.iter()
            .all(|n| d.csv(&format!("libpodstats-{n}"), "pod_cpu").len() >= 2)
    });
    assert!(
        ready,
        "not every container reached the CSV; dirs {:?}\n{}",
        d.csv_dirs(),
        d.log()
    );

    // The CLI at a moment between two reads of collectd.
    let t0 = epoch_now();
    let cli = cli_stats(&exe, &h);
    let t1 = epoch_now();
    let after = t1 + 0.2;
    let caught_up = d.wait_for(Duration::from_secs(10), |d| {
        live.iter().all(|n| {
            d.csv(&format!("libpodstats-{n}"), "pod_memory")
                .iter()
                .any(|(e, _)| *e > after)
        })
    });
    assert!(caught_up, "collectd stopped writing\n{}", d.log());

    let instances: BTreeSet<String> = d
        .csv_dirs()
        .into_iter()
        .filter_map(|dir| dir.strip_prefix("libpodstats-").map(str::to_string))
        .collect();
    assert_eq!(
        instances, live,
        "plugin instances: the running and paused containers, by name"
    );
    for name in &live {
        let dir = format!("libpodstats-{name}");
        let s = cli
            .iter()
            .find(|s| s["name"] == name.as_str())
            .unwrap_or_else(|| panic!("the CLI lacks {name}"));
        let cpu = s["cpu_ns"].as_u64().expect("cpu_ns") as f64;
        let (lo, hi) = around(&d.csv(&dir, "pod_cpu"), t0, after, 1);
        assert!(
            lo <= cpu && cpu <= hi,
            "{name}: the CLI's cpu_ns {cpu} is not between collectd's {lo} and {hi}"
        );
        let mem = s["memory_bytes"].as_u64().expect("memory_bytes") as f64;
        let (a, b) = around(&d.csv(&dir, "pod_memory"), t0, after, 0);
        assert!(
            a.min(b) <= mem && mem <= a.max(b),
            "{name}: the CLI's memory_bytes {mem} is not between collectd's {a} and {b}"
        );
        let pids = s["pids"].as_u64().expect("pids") as f64;
        let (a, b) = around(&d.csv(&dir, "pod_pids"), t0, after, 0);
        assert!(
            a.min(b) <= pids && pids <= a.max(b),
            "{name}: pids {pids} vs collectd's {a}, {b}"
        );
        eprintln!("{name}: cpu {lo} <= {cpu} <= {hi}; memory {mem}; pids {pids}");
    }

    // Removed: not dispatched within two intervals, while the others still are.
    let idle_id = format!("{}/libpodstats-lpstest-e2p-idle/pod_cpu", support::HOST);
    let member_id = format!("{}/libpodstats-lpstest-e2p-member/pod_cpu", support::HOST);
    let listed = listval(&d);
    assert!(
        listed.contains(&idle_id) && listed.contains(&member_id),
        "collectdctl listval: {listed:?}"
    );
    h.rm("lpstest-e2p-idle");
    let removed = Instant::now();
    let removed_at = epoch_now();
    let later = removed_at + 2.0;
    let others_go_on = d.wait_for(Duration::from_secs(10), |d| {
        d.csv("libpodstats-lpstest-e2p-member", "pod_cpu")
            .iter()
            .any(|(e, _)| *e > later + 1.0)
    });
    assert!(others_go_on, "collectd stopped writing\n{}", d.log());
    let idle_rows = d.csv("libpodstats-lpstest-e2p-idle", "pod_cpu");
    let late: Vec<_> = idle_rows.iter().filter(|(e, _)| *e > later).collect();
    assert!(
        late.is_empty(),
        "the removed container was dispatched more than two intervals after `rm -f` \
         returned at {removed_at}: {late:?}"
    );
    let last = idle_rows.last().map(|(e, _)| *e).unwrap_or(0.0);
    eprintln!(
        "removed: last row {:.3} s after `podman rm -f` returned",
        last - removed_at
    );
    // collectd's cache forgets a value list 2 intervals (its `Timeout`) after the last
    // dispatch, checked once per interval.
    let dropped = d.wait_for(Duration::from_secs(10), |d| {
        let listed = listval(d);
        !listed.contains(&idle_id) && listed.contains(&member_id)
    });
    assert!(
        dropped,
        "collectdctl listval still has {idle_id}: {:?}",
        listval(&d)
    );
    eprintln!(
        "removed: gone from collectdctl listval {:.3} s after `podman rm -f` returned",
        removed.elapsed().as_secs_f64()
    );

    // Restarted: counters from zero in a new cgroup; never a negative or spiking percent.
    let before_restart = epoch_now();
    h.restart("lpstest-e2p-burner");
    let restarted = epoch_now();
    let burning_again = d.wait_for(Duration::from_secs(15), |d| {
        d.csv("libpodstats-lpstest-e2p-burner", "pod_cpu")
            .iter()
            .filter(|(e, v)| *e > restarted && !number(&v[0]).is_nan())
            .count()
            >= 2
    });
    d.stop();
    assert!(
        burning_again,
        "no rate for the restarted burner: {:?}\n{}",
        d.csv("libpodstats-lpstest-e2p-burner", "pod_cpu"),
        d.log()
    );
    let burner = d.csv("libpodstats-lpstest-e2p-burner", "pod_cpu");
    eprintln!("burner pod_cpu (epoch, [percent, time]) around the restart at {before_restart:.3}..{restarted:.3}:");
    for (e, v) in burner.iter().filter(|(e, _)| *e > before_restart - 3.0) {
        eprintln!("  {e:.3} {v:?}");
    }
    let times: Vec<f64> = burner.iter().map(|(_, v)| number(&v[1])).collect();
    assert!(
        times.windows(2).any(|w| w[1] < w[0]),
        "the restart's new cgroup counts from zero: the cpu time drops once: {times:?}"
    );
    let cpus = std::thread::available_parallelism().map_or(1, |n| n.get()) as f64;
    let ceiling = 100.0 * cpus + 10.0;
    for (series, rows) in d.all_series(&d.host) {
        if !series.ends_with("/pod_cpu") {
            continue;
        }
        for (e, v) in &rows {
            let pct = number(&v[0]);
            assert!(
                pct.is_nan() || (0.0..=ceiling).contains(&pct),
                "{series} at {e}: cpu percent {pct} outside [0, {ceiling}]"
            );
        }
    }
    let log = d.log();
    let ours: Vec<&str> = log.lines().filter(|l| l.contains("libpodstats:")).collect();
    assert!(ours.is_empty(), "the plugin logged: {ours:#?}");
}

/// The identifiers in collectd's cache (`collectdctl listval` over the daemon's unixsock).
fn listval(d: &Daemon) -> Vec<String> {
    let out = Command::new("collectdctl")
        .arg("-s")
        .arg(d.dir.path().join("collectd.sock"))
        .arg("listval")
        .output()
        .expect("running collectdctl (collectd-utils)");
    assert!(
        out.status.success(),
        "collectdctl listval: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| l.split_whitespace().last().map(str::to_string))
        .collect()
}

/// What became of one podman command.
#[derive(Debug)]
enum Outcome {
    Done,
    Failed(String),
    Hung,
}

/// Runs one podman command of the harness with a time limit; kills it when it hangs.
fn timed(h: &PodmanHarness, args: &[&str], limit: Duration) -> Outcome {
    let err_path = h.dir().join("churn.stderr");
    let err = match std::fs::File::create(&err_path) {
        Ok(f) => f,
        Err(e) => return Outcome::Failed(format!("creating {}: {e}", err_path.display())),
    };
    let mut cmd = h.command();
    cmd.args(args).stdout(Stdio::null()).stderr(err);
    let start = Instant::now();
    let mut child = match cmd.spawn() {
        Ok(c) => c,
        Err(e) => return Outcome::Failed(format!("spawn: {e}")),
    };
    loop {
        match child.try_wait() {
            Ok(Some(status)) if status.success() => return Outcome::Done,
            Ok(Some(status)) => {
                let text = std::fs::read_to_string(&err_path).unwrap_or_default();
                return Outcome::Failed(format!("{status}: {}", text.trim()));
            }
            Ok(None) if start.elapsed() > limit => {
                let _ = child.kill();
                let _ = child.wait();
                return Outcome::Hung;
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(5)),
            Err(e) => return Outcome::Failed(format!("waiting: {e}")),
        }
    }
}

/// Runs, stops and removes containers `range` (named `lpstest-e2c-<i>`); returns the wall
/// time and every command that failed or hung.
fn churn(h: &PodmanHarness, range: std::ops::Range<usize>) -> (Duration, Vec<String>) {
    const LIMIT: Duration = Duration::from_secs(60);
    let mut problems = Vec::new();
    let start = Instant::now();
    for i in range {
        let name = format!("lpstest-e2c-{i}");
        let image = h.image();
        let steps: [Vec<&str>; 3] = [
            vec![
                "run",
                "-d",
                "--name",
                &name,
                "--stop-timeout",
                "0",
                "--network",
                "none",
                image,
                "sleep",
                "1000",
            ],
            vec!["stop", "-t", "0", &name],
            vec!["rm", &name],
        ];
        for args in steps {
            match timed(h, &args, LIMIT) {
                Outcome::Done => {}
                Outcome::Failed(why) => problems.push(format!("podman {args:?} failed: {why}")),
                Outcome::Hung => problems.push(format!("podman {args:?} hung over {LIMIT:?}")),
            }
        }
    }
    (start.elapsed(), problems)
}

#[test]
fn podman_churn_with_the_plugin_reading_every_tenth_of_a_second() {
    if !collectd_available() {
        return;
    }
    let Some(h) = PodmanHarness::new() else {
        return;
    };
    // Steady neighbours, so every read has work besides the churn.
    h.run_detached("lpstest-e2c-steady", &[], &["sleep", "1000"]);
    h.run_detached("lpstest-e2c-burner", &[], &["sh", "-c", "yes > /dev/null"]);

    let block = format!(
        "<LoadPlugin libpodstats>\n  Interval 0.1\n</LoadPlugin>\n<Plugin libpodstats>\n  \
         Store \"{}\"\n  RootlessStores false\n  Include \"^lpstest-e2c-\"\n</Plugin>\n",
        h.graphroot().display()
    );
    let mut d = Daemon::with_config(support::HOST, &block);

    // A warm-up container (first-run costs), then ABBA: 15 without, 30 with, 15 without.
    let (_, mut problems) = churn(&h, 100..101);
    let (without_a, p) = churn(&h, 0..15);
    problems.extend(p);
    d.start();
    let reading = d.wait_for(Duration::from_secs(20), |d| {
        d.csv("libpodstats-lpstest-e2c-steady", "pod_cpu").len() >= 3
    });
    assert!(reading, "collectd is not reading\n{}", d.log());
    let rows_at_start = d.csv("libpodstats-lpstest-e2c-steady", "pod_cpu").len();
    let (with, p) = churn(&h, 15..45);
    problems.extend(p);
    let rows = d.csv("libpodstats-lpstest-e2c-steady", "pod_cpu").len() - rows_at_start;
    let churned = d
        .csv_dirs()
        .iter()
        .filter(|n| {
            n.strip_prefix("libpodstats-lpstest-e2c-")
                .is_some_and(|rest| rest.parse::<usize>().is_ok())
        })
        .count();
    d.stop();
    let (without_b, p) = churn(&h, 45..60);
    problems.extend(p);

    let without = without_a + without_b;
    let ratio = with.as_secs_f64() / without.as_secs_f64();
    eprintln!(
        "podman run -d / stop -t 0 / rm of 30 containers: without collectd {:.2} s \
         ({:.2} + {:.2}), with the plugin at Interval 0.1 {:.2} s; with/without = {ratio:.3}; \
         collectd wrote {rows} reads of the steady container during the loop and saw {churned} \
         of the 30 churned containers",
        without.as_secs_f64(),
        without_a.as_secs_f64(),
        without_b.as_secs_f64(),
        with.as_secs_f64(),
    );
    assert!(problems.is_empty(), "podman commands failed: {problems:#?}");
    let log = d.log();
    let ours: Vec<&str> = log.lines().filter(|l| l.contains("libpodstats:")).collect();
    assert!(
        ours.is_empty(),
        "the plugin logged (a vanished container is no error): {ours:#?}"
    );
    for line in log.lines().filter(|l| l.contains("libpodstats")) {
        eprintln!("note: collectd: {line}");
    }
}
