//! Golden tests of `libpod-stats stats --no-stream --format json` and `replay --format json`
//! over every fixture and series under `fixtures/cgroupv1`, `fixtures/cgroupv2` and
//! `fixtures/libpod-state`, found automatically.
//!
//! Each golden file holds the command's JSON and its warnings, so a fixture in which no
//! container is found says so in its golden file rather than being skipped. A new fixture
//! gets its golden file with `INSTA_UPDATE=always cargo test -p libpod-stats-cli --test integration stats_golden` (review
//! the `.snap` files it writes).

use crate::support::cli;
/// The table the binary prints, to format expected cells exactly as it does.
#[allow(dead_code)]
#[path = "../../src/table.rs"]
mod table;

use std::path::{Path, PathBuf};

use cli::{cli, stdout_of};
use serde_json::{json, Value};

const FIXTURE_SETS: [&str; 3] = ["cgroupv1", "cgroupv2", "libpod-state"];

#[derive(Debug)]
enum Fixture {
    Snapshot(PathBuf),
    Series(PathBuf),
}

fn fixtures_dir() -> PathBuf {
    libpod_stats_test_support::workspace_root().join("fixtures")
}

fn is_snapshot(dir: &Path) -> bool {
    dir.join("snapshot.json").is_file()
}

fn is_series(dir: &Path) -> bool {
    is_snapshot(&dir.join("000"))
}

fn walk(dir: &Path, out: &mut Vec<Fixture>) {
    if is_snapshot(dir) {
        out.push(Fixture::Snapshot(dir.to_path_buf()));
        return;
    }
    if is_series(dir) {
        out.push(Fixture::Series(dir.to_path_buf()));
        return;
    }
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let mut subdirs: Vec<PathBuf> = entries
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.is_dir() && !p.symlink_metadata().is_ok_and(|m| m.is_symlink()))
        .collect();
    subdirs.sort();
    for d in subdirs {
        walk(&d, out);
    }
}

fn all_fixtures() -> Vec<Fixture> {
    let mut out = Vec::new();
    for set in FIXTURE_SETS {
        walk(&fixtures_dir().join(set), &mut out);
    }
    out
}

fn snapshot_name(prefix: &str, dir: &Path) -> String {
    let rel = dir.strip_prefix(fixtures_dir()).unwrap_or(dir);
    let rel = rel.to_string_lossy().replace('/', "__");
    format!("{prefix}__{rel}")
}

/// Runs the binary and returns its JSON output and warning lines (fixture paths made
/// relative so the golden files do not depend on the checkout's location).
fn run(args: &[&str]) -> Value {
    let out = cli().args(args).output().expect("run libpod-stats");
    let fixtures = fixtures_dir().to_string_lossy().into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr).replace(&fixtures, "<fixtures>");
    assert!(
        out.status.success(),
        "libpod-stats {args:?} failed: {stderr}"
    );
    let value: Value = serde_json::from_slice(&out.stdout).expect("JSON output");
    json!({
        "output": value,
        "warnings": stderr.lines().collect::<Vec<_>>(),
    })
}

#[test]
fn stats_no_stream_json_over_every_fixture() {
    let fixtures = all_fixtures();
    let mut seen = 0;
    for f in &fixtures {
        let snapshots: Vec<PathBuf> = match f {
            Fixture::Snapshot(dir) => vec![dir.clone()],
            Fixture::Series(dir) => libpod_stats::internals::snapshot::series_steps(dir).unwrap(),
        };
        for dir in snapshots {
            let dir_text = dir.to_string_lossy().into_owned();
            let value = run(&[
                "--root",
                &dir_text,
                "stats",
                "--no-stream",
                "--format",
                "json",
            ]);
            insta::assert_json_snapshot!(snapshot_name("stats", &dir), value);
            seen += 1;
        }
    }
    assert!(seen > 0, "no fixtures found under {:?}", fixtures_dir());
}

#[test]
fn replay_json_over_every_series() {
    for f in all_fixtures() {
        if let Fixture::Series(dir) = f {
            let dir_text = dir.to_string_lossy().into_owned();
            let value = run(&["replay", &dir_text, "--format", "json"]);
            insta::assert_json_snapshot!(snapshot_name("replay", &dir), value);
        }
    }
}

/// The pod totals of every single-snapshot fixture with a pod (series have theirs in the
/// replay goldens): counters summed over the members, limits and pressure from the pod's own
/// cgroup, which the podman 4.3 captures hold.
#[test]
fn pod_totals_of_every_snapshot_with_a_pod() {
    let mut seen = 0;
    for f in all_fixtures() {
        let Fixture::Snapshot(dir) = f else {
            continue;
        };
        let dir_text = dir.to_string_lossy().into_owned();
        let value = run(&["replay", &dir_text, "--format", "json"]);
        let pods = &value["output"][0]["pods"];
        if pods.as_array().is_none_or(Vec::is_empty) {
            continue;
        }
        insta::assert_json_snapshot!(snapshot_name("pods", &dir), pods);
        seen += 1;
    }
    assert!(
        seen >= 3,
        "the podman-pod, -mixed and -net fixtures have pods"
    );
}

#[test]
fn stats_table_renders_every_fixture() {
    for f in all_fixtures() {
        let dir = match f {
            Fixture::Snapshot(dir) => dir,
            Fixture::Series(dir) => dir.join("000"),
        };
        let out = stdout_of(
            cli()
                .args(["--root"])
                .arg(&dir)
                .args(["stats", "--no-stream"]),
        );
        let text = String::from_utf8(out).unwrap();
        assert!(text.starts_with("ID "), "{dir:?}: {text}");
    }
}

#[test]
fn interval_on_a_snapshot_points_to_replay() {
    let Some(dir) = all_fixtures().into_iter().next().map(|f| match f {
        Fixture::Snapshot(d) => d,
        Fixture::Series(d) => d.join("000"),
    }) else {
        return;
    };
    let out = cli()
        .arg("--root")
        .arg(&dir)
        .args(["stats", "--no-stream", "--interval", "1"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("replay"), "{stderr}");
}

#[test]
fn the_restart_series_gives_null_at_the_restart_then_a_rate() {
    let dir = fixtures_dir().join("cgroupv1/series-podman-restart");
    if !dir.is_dir() {
        return;
    }
    let dir_text = dir.to_string_lossy().into_owned();
    let value = run(&["replay", &dir_text, "--format", "json"]);
    let rate = |step: usize, name: &str| -> Option<Value> {
        value["output"][step]["samples"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["name"] == name)
            .map(|s| s["cpu_percent"].clone())
    };
    assert_eq!(rate(0, "lpstest-burner"), Some(Value::Null));
    assert_eq!(
        rate(1, "lpstest-burner"),
        Some(Value::Null),
        "restarted: no rate"
    );
    assert!(
        rate(2, "lpstest-burner")
            .and_then(|v| v.as_f64())
            .is_some_and(|p| p > 0.0),
        "a rate again after the restart"
    );
    assert!(rate(1, "lpstest-idle").and_then(|v| v.as_f64()).is_some());
    assert_eq!(rate(2, "lpstest-idle"), None, "removed");
}

/// Recapturing a fixture (`--root FIXTURE capture`, redacted: the state database rewritten,
/// config JSON redacted) changes none of the numbers: `stats` over the capture prints exactly
/// what it prints over the fixture.
#[test]
fn a_recaptured_fixture_gives_the_same_stats() {
    let mut checked = 0;
    for f in all_fixtures() {
        let dir = match f {
            Fixture::Snapshot(d) => d,
            Fixture::Series(d) => d.join("000"),
        };
        let tmp = tempfile::tempdir().unwrap();
        let out_dir = tmp.path().join("recaptured");
        stdout_of(
            cli()
                .arg("--root")
                .arg(&dir)
                .args(["capture", "--out"])
                .arg(&out_dir),
        );
        let stats = |root: &Path| {
            let root = root.to_string_lossy().into_owned();
            run(&["--root", &root, "stats", "--no-stream", "--format", "json"])["output"].clone()
        };
        let original = stats(&dir);
        assert_eq!(stats(&out_dir), original, "{dir:?}");
        checked += original.as_array().map_or(0, Vec::len);
    }
    assert!(checked > 0, "no fixture had a container to compare");
}

/// A one-shot `stats` that met a problem prints what it could read, warns, and exits 1, as
/// `ps` does; a clean one exits 0.
#[test]
fn a_problem_makes_the_one_shot_exit_status_1() {
    use libpod_stats_testing::{ContainerSpec, HostBuilder};

    let tmp = tempfile::tempdir().unwrap();
    HostBuilder::new()
        .container(ContainerSpec::new("web"))
        .build(tmp.path())
        .unwrap();
    let run = || {
        cli()
            .arg("--root")
            .arg(tmp.path())
            .args(["--no-rootless", "stats", "--no-stream", "--format", "json"])
            .output()
            .unwrap()
    };
    let clean = run();
    assert!(clean.status.success(), "{clean:?}");
    assert!(clean.stderr.is_empty(), "{clean:?}");

    let stat = std::fs::read_dir(tmp.path().join("sys/fs/cgroup/memory/libpod_parent"))
        .unwrap()
        .map(|e| e.unwrap().path().join("memory.stat"))
        .find(|p| p.is_file())
        .unwrap();
    std::fs::write(&stat, "cache 1\nnot a line\n").unwrap();
    let broken = run();
    assert_eq!(broken.status.code(), Some(1), "{broken:?}");
    let stderr = String::from_utf8_lossy(&broken.stderr);
    assert!(
        stderr.contains("web") && stderr.contains("memory.stat"),
        "{stderr}"
    );
    let samples: Value = serde_json::from_slice(&broken.stdout).unwrap();
    assert!(samples.is_array(), "{samples}");
}

/// The table's MEM USAGE is the working set by default (podman 5.6 and later); `--memory`
/// picks the raw usage or anonymous memory instead, each the JSON's own figure.
#[test]
fn the_table_memory_column_follows_memory() {
    use table::human_size;

    let dir = fixtures_dir().join("cgroupv1/podman-mixed");
    let root = dir.to_string_lossy().into_owned();
    let json = run(&["--root", &root, "stats", "--no-stream", "--format", "json"]);
    let samples = json["output"].as_array().unwrap();
    let sample = samples
        .iter()
        .find(|s| s["memory_bytes"] != s["memory_anon_bytes"] && s["memory_bytes"].is_u64())
        .expect("a sample whose raw and anon figures differ");
    let name = sample["name"].as_str().unwrap();
    for (option, field) in [
        (None, "memory_working_set_bytes"),
        (Some("working-set"), "memory_working_set_bytes"),
        (Some("raw"), "memory_bytes"),
        (Some("anon"), "memory_anon_bytes"),
    ] {
        let mut cmd = cli();
        cmd.args(["--root", &root, "stats", "--no-stream"]);
        if let Some(o) = option {
            cmd.args(["--memory", o]);
        }
        let text = String::from_utf8(stdout_of(&mut cmd)).unwrap();
        let line = text
            .lines()
            .find(|l| l.split_whitespace().nth(1) == Some(name))
            .unwrap();
        let usage = human_size(sample[field].as_u64());
        let limit = human_size(sample["memory_limit_bytes"].as_u64());
        assert!(
            line.contains(&format!("{usage} / {limit}")),
            "{option:?}: {line}"
        );
    }
}
