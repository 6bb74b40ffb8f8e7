//! The plugin over a real podman 5.4 host (`fixtures/cgroupv2/podman-5.4-mixed/002`, the
//! trixie guest's capture) read through `HostRoot`, as collectd would drive it: the `state`
//! group reports containers that do not run (an exited one keeps saying so), health from
//! podman's health log, `InstanceBy "unit"` names Quadlet's container after its unit,
//! `IncludeLabel` / `ExcludeLabel` reach the collector, and the pod's totals carry the limits
//! of its own slice (`podman pod create --cpus 0.5 --memory 96m`).

use crate::support;

use std::path::Path;

use collectd_plugin::Value;
use podstats::config::{InstanceBy, MetricGroups, PluginConfig};
use podstats::reader::Reader;
use podstats::source::open;

const MIB: u64 = 1024 * 1024;

fn cfg(metrics: MetricGroups) -> PluginConfig {
    PluginConfig {
        host_root: Some(
            Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures/cgroupv2/podman-5.4-mixed/002"),
        ),
        metrics,
        ..PluginConfig::default()
    }
}

/// One read cycle: every dispatched list as `plugin-instance/type[-type instance]: values`,
/// sorted; a logged problem fails the test.
fn one_cycle(cfg: PluginConfig) -> Vec<String> {
    let source = open(&cfg).expect("opening the snapshot");
    let mut reader = Reader::new(cfg, source);
    let mut lines = Vec::new();
    let mut logs = Vec::new();
    let ok = reader.read_catching_panics(
        &mut |d| {
            let (ident, values) = support::render_dispatch(d, |v| match v {
                Value::Gauge(g) => format!("{g}"),
                other => other.to_string(),
            });
            lines.push(format!("{ident}: {}", values.join(" ")));
            Ok(())
        },
        &mut |level, message| logs.push(format!("{level}: {message}")),
    );
    assert!(
        ok && logs.is_empty(),
        "the cycle failed or logged: {logs:?}"
    );
    lines.sort();
    lines
}

fn of<'a>(lines: &'a [String], prefix: &str) -> Vec<&'a str> {
    lines
        .iter()
        .filter(|l| l.starts_with(prefix))
        .map(String::as_str)
        .collect()
}

#[test]
fn state_and_health_lists_cover_containers_that_do_not_run() {
    let lines = one_cycle(PluginConfig {
        instance_by: InstanceBy::Unit,
        ..cfg(MetricGroups {
            state: true,
            ..MetricGroups::NONE
        })
    });
    assert_eq!(
        of(&lines, "libpodstats-lpstest-exited/"),
        [
            "libpodstats-lpstest-exited/pod_exit_code: 0",
            "libpodstats-lpstest-exited/pod_restarts: 0",
            "libpodstats-lpstest-exited/pod_state: 6",
        ],
        "{lines:#?}"
    );
    assert_eq!(
        of(&lines, "libpodstats-lpstest-created/pod_state"),
        ["libpodstats-lpstest-created/pod_state: 1"]
    );
    assert_eq!(
        of(&lines, "libpodstats-lpstest-paused/pod_state"),
        ["libpodstats-lpstest-paused/pod_state: 5"]
    );
    // Quadlet's container under its unit's name, the others under their own.
    assert_eq!(
        of(&lines, "libpodstats-lpstest-quadlet"),
        [
            "libpodstats-lpstest-quadlet.service/pod_restarts: 0",
            "libpodstats-lpstest-quadlet.service/pod_state: 3",
        ],
        "{lines:#?}"
    );
    // The rootless user's containers are read from their store too.
    assert_eq!(
        of(&lines, "libpodstats-lpstest-rl1/pod_state"),
        ["libpodstats-lpstest-rl1/pod_state: 3"]
    );
    // After one `podman healthcheck run` each: passed; failed with one retry allowed.
    let health: Vec<&str> = of(&lines, "libpodstats-")
        .into_iter()
        .filter(|l| l.contains("/pod_health:"))
        .collect();
    assert_eq!(
        health,
        [
            "libpodstats-lpstest-markers/pod_health: 0 0",
            "libpodstats-lpstest-unhealthy/pod_health: 1 1",
        ]
    );
    assert!(
        of(&lines, "libpodstats_pod-").is_empty(),
        "a pod has no state lists"
    );
}

#[test]
fn label_selection_reaches_the_collector() {
    let state = MetricGroups {
        state: true,
        ..MetricGroups::NONE
    };
    let instances = |cfg: PluginConfig| {
        let mut names: Vec<String> = one_cycle(cfg)
            .iter()
            .filter_map(|l| l.split_once('/').map(|(ident, _)| ident.to_string()))
            .collect();
        names.dedup();
        names
    };
    // Quadlet's label survives redaction with its value.
    assert_eq!(
        instances(PluginConfig {
            include_labels: vec!["PODMAN_SYSTEMD_UNIT=lpstest-quadlet.service".into()],
            ..cfg(state)
        }),
        ["libpodstats-lpstest-quadlet"]
    );
    let all = instances(cfg(state));
    let rest = instances(PluginConfig {
        exclude_labels: vec!["PODMAN_SYSTEMD_UNIT".into(), "lpslabel".into()],
        ..cfg(state)
    });
    let mut want = all.clone();
    want.retain(|i| i != "libpodstats-lpstest-quadlet" && i != "libpodstats-lpstest-markers");
    assert_eq!(rest, want);
    assert!(want.len() >= 10, "{all:?}");
}

#[test]
fn pod_totals_carry_the_pod_slices_limits() {
    let lines = one_cycle(cfg(MetricGroups {
        memory: true,
        throttle: true,
        pressure: true,
        ..MetricGroups::NONE
    }));
    assert_eq!(
        of(&lines, "libpodstats_pod-lpstest-pod/pod_cpu_limit"),
        ["libpodstats_pod-lpstest-pod/pod_cpu_limit: 0.5"]
    );
    let detail = of(&lines, "libpodstats_pod-lpstest-pod/pod_memory_detail");
    let limit = detail
        .first()
        .and_then(|l| l.split(' ').nth(3))
        .and_then(|v| v.parse::<f64>().ok());
    assert_eq!(limit, Some((96 * MIB) as f64), "{detail:?}");
    assert_eq!(
        of(&lines, "libpodstats_pod-lpstest-pod/pod_pressure").len(),
        6,
        "{lines:#?}"
    );
}
