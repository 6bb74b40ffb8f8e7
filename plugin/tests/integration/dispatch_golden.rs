//! Golden: every value list the plugin dispatches, step by step, when it replays the bundled
//! podman series (`fixtures/cgroupv1/series-podman`, and the podman 5.4 guest's on cgroup
//! v2). The same reader collectd drives, with a recording closure in place of collectd; the
//! real-collectd tests check that collectd's CSV holds exactly these values.

use crate::support;

use std::path::Path;

use collectd_plugin::Value;
use podstats::config::PluginConfig;
use podstats::reader::Reader;
use podstats::source::open;

fn render(cfg: PluginConfig) -> Vec<Vec<String>> {
    let source = open(&cfg).expect("opening the replay");
    let mut reader = Reader::new(cfg, source);
    let mut steps = Vec::new();
    while !reader.ended() {
        let mut lines = Vec::new();
        let mut logs = Vec::new();
        reader.read_catching_panics(
            &mut |d| {
                let (ident, values) = support::render_dispatch(d, |v| match v {
                    Value::Gauge(g) if g.is_nan() => "nan".to_string(),
                    Value::Gauge(g) => format!("{g:.6}"),
                    other => other.to_string(),
                });
                lines.push(format!("{ident}: {}", values.join(" ")));
                Ok(())
            },
            &mut |level, message| logs.push(format!("log {level}: {message}")),
        );
        lines.extend(logs);
        steps.push(lines);
        assert!(steps.len() < 100, "the replay never ends");
    }
    steps
}

fn series_cfg() -> PluginConfig {
    PluginConfig {
        replay: Some(
            Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures/cgroupv1/series-podman"),
        ),
        ..PluginConfig::default()
    }
}

#[test]
fn bundled_series_default_options() {
    insta::assert_yaml_snapshot!(render(series_cfg()));
}

#[test]
fn bundled_series_normalized_working_set_by_name_id() {
    let cfg = PluginConfig {
        cpu_percent: podstats::config::CpuPercent::Normalized,
        memory_usage: podstats::config::MemoryUsage::WorkingSet,
        instance_by: podstats::config::InstanceBy::NameId,
        metrics: podstats::config::MetricGroups {
            cpu: true,
            memory: true,
            ..podstats::config::MetricGroups::NONE
        },
        ..series_cfg()
    };
    insta::assert_yaml_snapshot!(render(cfg));
}

/// Every group on, the newer ones included (throttle, pressure, memevents, netdetail,
/// state): their lists beside the default ones, and pod totals over running members only.
#[test]
fn bundled_series_every_group() {
    let cfg = PluginConfig {
        metrics: podstats::config::MetricGroups::ALL,
        ..series_cfg()
    };
    insta::assert_yaml_snapshot!(render(cfg));
}

/// `Metrics "seed"`: the seed plugin's two lists per container, nothing else (no pod totals).
#[test]
fn bundled_series_seed_group() {
    let cfg = PluginConfig {
        metrics: podstats::config::MetricGroups {
            seed: true,
            ..podstats::config::MetricGroups::NONE
        },
        ..series_cfg()
    };
    insta::assert_yaml_snapshot!(render(cfg));
}

/// cgroup v2 with systemd (podman 5.4 in the trixie guest: root and rootless stores, a Quadlet
/// unit, a pod with its own limits, throttled and OOM-killed containers, health checks), every
/// group on and instances named by unit: what a podman 5 host dispatches.
#[test]
fn podman5_series_every_group_by_unit() {
    let cfg = PluginConfig {
        replay: Some(
            Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures/cgroupv2/podman-5.4-mixed"),
        ),
        metrics: podstats::config::MetricGroups::ALL,
        instance_by: podstats::config::InstanceBy::Unit,
        ..PluginConfig::default()
    };
    insta::assert_yaml_snapshot!(render(cfg));
}
