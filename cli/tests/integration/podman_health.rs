//! Health checks against real podman (4.3 here): a container whose `--health-cmd` succeeds,
//! one whose check fails (`--health-retries 2`), one without a check and one with
//! `--no-healthcheck`. After each `podman healthcheck run` (no timer runs the checks on a host
//! without systemd) the health status and failing streak of `ps`, `stats` and a collector
//! that stays up (the health log changes, podman's state does not) equal
//! `podman inspect`'s `.State.Health`; the containers without a check have none.
//!
//! Runs under the podman lock; the harness removes its containers, also on failure; with
//! `CI=true` it fails when podman cannot be used.

use crate::support;

use libpod_stats::{Collector, CollectorOptions, DiscoveryOptions, HostRoot, Sample, Timestamp};
use libpod_stats_test_support::podman::PodmanHarness;
use serde_json::Value;
use support::libpod_stats;

const OK: &str = "lpstest-hc-ok";
const BAD: &str = "lpstest-hc-bad";
const NONE: &str = "lpstest-hc-none";
const OFF: &str = "lpstest-hc-off";

/// podman's view: `(Status, FailingStreak)` of `.State.Health`, `None` without a check.
fn podmans(h: &PodmanHarness, name: &str) -> Option<(String, u64)> {
    let text = h.inspect(
        name,
        "{{.Config.Healthcheck}}|{{.State.Health.Status}}|{{.State.Health.FailingStreak}}",
    );
    let mut parts = text.split('|');
    let (config, status, streak) = (parts.next()?, parts.next()?, parts.next()?);
    if config == "<nil>" || config.contains("NONE") {
        return None;
    }
    Some((status.to_string(), streak.parse().unwrap()))
}

/// Our view in one JSON listing: `(health, failing streak)`, checking `health_code` too.
fn ours(list: &Value, name: &str) -> Option<(String, u64)> {
    let c = list
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == name)
        .unwrap_or_else(|| panic!("{name} not listed: {list:#}"));
    let health = c["health"].as_str()?;
    let code = c["health_code"].as_u64().unwrap();
    let expected_code = ["healthy", "unhealthy", "starting", "stopped", "reset"]
        .iter()
        .position(|s| *s == health)
        .unwrap_or(5);
    assert_eq!(code as usize, expected_code, "{c:#}");
    Some((
        health.to_string(),
        c["health_failing_streak"].as_u64().unwrap(),
    ))
}

fn of_sample(samples: &[Sample], name: &str) -> Option<(String, u64)> {
    let s = samples.iter().find(|s| s.name == name).unwrap();
    Some((s.health?.as_str().to_string(), s.health_failing_streak?))
}

#[test]
fn health_equals_podman_inspect() {
    let Some(h) = PodmanHarness::new() else {
        return;
    };
    let check = |cmd: &str| {
        vec![
            "--health-cmd".to_string(),
            cmd.to_string(),
            "--health-retries".into(),
            "2".into(),
            "--health-interval".into(),
            "disable".into(),
        ]
    };
    let run = |name: &str, opts: Vec<String>| {
        let opts: Vec<&str> = opts.iter().map(String::as_str).collect();
        h.run_detached(name, &opts, &["sleep", "1000"]);
    };
    run(OK, check("true"));
    run(BAD, check("false"));
    run(NONE, Vec::new());
    run(OFF, vec!["--no-healthcheck".into()]);

    let mut collector = Collector::new(
        HostRoot::live(),
        CollectorOptions {
            discovery: DiscoveryOptions {
                rootless_stores: false,
                extra_stores: vec![h.graphroot().to_path_buf()],
                ..DiscoveryOptions::default()
            },
            ..CollectorOptions::default()
        },
    )
    .unwrap();
    let mut samples = Vec::new();
    let mut seen = Vec::new();
    // Starting; then the good check passes and the bad one fails, twice.
    for round in 0..3 {
        if round > 0 {
            let ok = h.try_run(["healthcheck", "run", OK]);
            assert!(ok.status.success(), "{ok:?}");
            let bad = h.try_run(["healthcheck", "run", BAD]);
            assert_eq!(bad.status.code(), Some(1), "{bad:?}");
        }
        let ps = libpod_stats(&h, &["ps", "--all", "--format", "json"]);
        let stats = libpod_stats(&h, &["stats", "--no-stream", "--format", "json"]);
        let report = collector.collect(Timestamp::now(), &mut samples).unwrap();
        assert!(report.errors.is_empty(), "{report:?}");
        for name in [OK, BAD, NONE, OFF] {
            let podman = podmans(&h, name);
            assert_eq!(ours(&ps, name), podman, "ps, round {round}, {name}");
            assert_eq!(ours(&stats, name), podman, "stats, round {round}, {name}");
            assert_eq!(
                of_sample(&samples, name),
                podman,
                "collector, round {round}, {name}"
            );
        }
        seen.push((podmans(&h, OK), podmans(&h, BAD)));
    }
    // The test covered what it claims: podman went from starting to healthy, and from
    // starting (one failure below the retries) to unhealthy.
    let pair = |s: &str, n: u64| Some((s.to_string(), n));
    assert_eq!(
        seen,
        [
            (pair("starting", 0), pair("starting", 0)),
            (pair("healthy", 0), pair("starting", 1)),
            (pair("healthy", 0), pair("unhealthy", 2)),
        ]
    );
}
