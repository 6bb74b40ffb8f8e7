//! The plugin inside the real collectd replaying the bundled podman series
//! (`fixtures/cgroupv1/series-podman`, captured from real podman 4.3.1, and the podman 5.4 and
//! 5.8 series from the VM guests): every value list in collectd's CSV files is exactly what
//! the library computes for that step (what `libpod-stats replay` prints), with collectd's own
//! time and host name, and nothing comes after the last step.

use crate::support;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use collectd_plugin::Value;
use libpod_stats::{pod_samples, replay};
use podstats::config::PluginConfig;
use podstats::identifier::{instance_text, InstanceCache};
use podstats::metrics::{container_lists, pod_lists, CONTAINER_PLUGIN, POD_PLUGIN};
use podstats::source::collector_options;
use support::{collectd_available, epoch_now, Daemon};

fn series() -> PathBuf {
    fixture("cgroupv1/series-podman")
}

fn fixture(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../fixtures")
        .join(rel)
}

/// `plugin-instance/type[-type instance]` -> the values of each step, as numbers.
type Expected = BTreeMap<String, Vec<Vec<f64>>>;

fn number(v: &Value) -> f64 {
    match *v {
        Value::Gauge(g) => g,
        Value::Derive(d) => d as f64,
        Value::Counter(c) | Value::Absolute(c) => c as f64,
    }
}

/// What the plugin must dispatch for each step, computed with the library's own replay and
/// the plugin's own list mapping (the mapping itself is unit-tested in the crate).
fn expected(cfg: &PluginConfig) -> Expected {
    expected_of(&series(), cfg)
}

fn expected_of(series: &Path, cfg: &PluginConfig) -> Expected {
    let steps = replay(series, collector_options(cfg)).expect("library replay");
    let mut out = Expected::new();
    let mut containers = InstanceCache::new();
    let mut pods = InstanceCache::new();
    for step in &steps {
        let selected: Vec<_> = step
            .samples
            .iter()
            .filter(|s| cfg.selects(&s.name))
            .cloned()
            .collect();
        let instances = containers.instances(
            selected.iter().map(|s| (s.id.as_str(), s.name.as_str())),
            |id, name| instance_text(cfg.instance_by, name, id),
        );
        for (s, inst) in selected.iter().zip(instances) {
            container_lists(s, cfg, |l| {
                let key = series_key(CONTAINER_PLUGIN, inst, l.type_, l.type_instance);
                out.entry(key)
                    .or_default()
                    .push(l.values.iter().map(number).collect());
            });
        }
        // Sums over the selected members; limits and pressure from the pod's own cgroup, as
        // the library's replay read them (never summed).
        let mut totals = pod_samples(&selected);
        for t in &mut totals {
            if let Some(own) = step.pods.iter().find(|p| p.pod_id == t.pod_id) {
                t.cpu_limit_cores = own.cpu_limit_cores;
                t.memory_limit_bytes = own.memory_limit_bytes;
                t.pids_limit = own.pids_limit;
                t.pressure = own.pressure;
            }
        }
        let instances = pods.instances(
            totals.iter().map(|p| {
                let id = p.pod_id.as_str();
                (id, p.pod_name.as_deref().unwrap_or(id))
            }),
            |_, name| name.to_string(),
        );
        for (p, inst) in totals.iter().zip(instances) {
            pod_lists(p, cfg, |l| {
                let key = series_key(POD_PLUGIN, inst, l.type_, l.type_instance);
                out.entry(key)
                    .or_default()
                    .push(l.values.iter().map(number).collect());
            });
        }
    }
    out
}

fn series_key(plugin: &str, instance: &str, type_: &str, ti: Option<&str>) -> String {
    match ti {
        Some(ti) => format!("{plugin}-{instance}/{type_}-{ti}"),
        None => format!("{plugin}-{instance}/{type_}"),
    }
}

fn same(a: f64, b: f64) -> bool {
    (a.is_nan() && b.is_nan()) || (a - b).abs() <= 1e-6 * a.abs().max(1.0)
}

/// Every series the csv plugin wrote, values as numbers.
fn written(d: &Daemon) -> BTreeMap<String, Vec<(f64, Vec<f64>)>> {
    d.all_series(&d.host)
        .into_iter()
        .map(|(key, rows)| {
            let rows = rows
                .into_iter()
                .map(|(epoch, vals)| {
                    let nums = vals
                        .iter()
                        .map(|v| v.parse::<f64>().unwrap_or(f64::NAN))
                        .collect();
                    (epoch, nums)
                })
                .collect();
            (key, rows)
        })
        .collect()
}

fn run_replay(block: &str, cfg: &PluginConfig) {
    run_replay_of(&series(), block, cfg);
}

fn run_replay_of(series: &Path, block: &str, cfg: &PluginConfig) {
    run_replay_typed(series, block, cfg, None);
}

/// [`run_replay_of`] with `types_db` (its text) in place of our `types.db.libpodstats`.
fn run_replay_typed(series: &Path, block: &str, cfg: &PluginConfig, types_db: Option<&str>) {
    if !collectd_available() {
        return;
    }
    assert!(
        series.is_dir(),
        "bundled series missing: {}",
        series.display()
    );
    let want = expected_of(series, cfg);
    assert!(!want.is_empty(), "the library found nothing to dispatch");

    let mut d = Daemon::new(Some(&format!("  Replay \"{}\"\n{block}", series.display())));
    if let Some(text) = types_db {
        let file = d.dir.path().join("types.db.other");
        std::fs::write(&file, text).unwrap();
        let ours = support::plugin_types_db().display().to_string();
        let conf = std::fs::read_to_string(d.conf()).unwrap();
        assert!(conf.contains(&ours), "{conf}");
        let conf = conf.replace(&ours, &file.display().to_string());
        std::fs::write(d.conf(), conf).unwrap();
    }
    let started = epoch_now();
    d.start();
    let done = d.wait_for(Duration::from_secs(30), |d| {
        d.log().contains("last snapshot of the series was served")
    });
    // One more interval: nothing may be dispatched after the end.
    std::thread::sleep(Duration::from_millis(1500));
    d.stop();
    let stopped = epoch_now();
    let log = d.log();
    assert!(done, "replay never ended:\n{log}");
    assert_eq!(
        log.matches("last snapshot of the series was served")
            .count(),
        1,
        "{log}"
    );
    assert!(!log.contains("read failed"), "{log}");

    let got = written(&d);
    let got_keys: Vec<&String> = got.keys().collect();
    let want_keys: Vec<&String> = want.keys().collect();
    assert_eq!(got_keys, want_keys, "series written vs expected");
    for (key, steps) in &want {
        let rows = &got[key];
        assert_eq!(rows.len(), steps.len(), "{key}: rows {rows:?} vs {steps:?}");
        for (i, ((epoch, vals), exp)) in rows.iter().zip(steps).enumerate() {
            // collectd's time, not the snapshot's (which is from the capture day).
            assert!(
                *epoch >= started - 1.0 && *epoch <= stopped + 1.0,
                "{key} step {i}: time {epoch} outside the run"
            );
            assert_eq!(vals.len(), exp.len(), "{key} step {i}");
            for (g, e) in vals.iter().zip(exp) {
                assert!(
                    same(*g, *e),
                    "{key} step {i}: wrote {vals:?}, expected {exp:?}"
                );
            }
        }
        assert!(
            rows.windows(2).all(|w| w[1].0 > w[0].0),
            "{key}: times not increasing"
        );
    }
}

#[test]
fn replay_of_the_bundled_series_gives_exactly_the_expected_values() {
    let cfg = PluginConfig::default();
    run_replay("", &cfg);
    if !collectd_available() {
        return;
    }
    // Hand-checked against the fixture files: the burner's cpuacct.usage at each step, the
    // idle container's flat counter, and NaN percent on the first step only.
    let want = expected(&cfg);
    let burner = &want["libpodstats-lpstest-burner/pod_cpu"];
    let times: Vec<f64> = burner.iter().map(|v| v[1]).collect();
    assert_eq!(times, vec![1644194238.0, 2030123130.0, 2350559100.0]);
    assert!(burner[0][0].is_nan());
    assert!(burner[1][0] > 20.0 && burner[2][0] > 20.0, "{burner:?}");
    let idle = &want["libpodstats-lpstest-idle/pod_cpu"];
    assert!(idle.iter().all(|v| v[1] == 25986138.0), "{idle:?}");
}

/// The podman 5 series from the VM guests (systemd scopes, a Quadlet payload cgroup, rootless
/// and cgroupfs containers, a pod): the plugin dispatches exactly what `libpod-stats replay`
/// computes from the same capture.
#[test]
fn replay_of_the_podman_5_series_gives_exactly_the_expected_values() {
    for rel in ["cgroupv2/podman-5.4-mixed", "cgroupv2/podman-5.8-mixed"] {
        run_replay_of(&fixture(rel), "", &PluginConfig::default());
    }
}

#[test]
fn replay_honours_the_options() {
    let cfg = PluginConfig {
        metrics: podstats::config::MetricGroups {
            cpu: true,
            memory: true,
            ..podstats::config::MetricGroups::NONE
        },
        instance_by: podstats::config::InstanceBy::NameId,
        cpu_percent: podstats::config::CpuPercent::Normalized,
        memory_usage: podstats::config::MemoryUsage::WorkingSet,
        exclude: vec![regex::Regex::new("idle").unwrap()],
        ..PluginConfig::default()
    };
    run_replay(
        "  Metrics \"cpu\" \"memory\"\n  InstanceBy \"name-id\"\n  CpuPercent \"normalized\"\n  MemoryUsage \"working_set\"\n  Exclude \"idle\"",
        &cfg,
    );
}

/// The groups off by default, through a real collectd: every list they give is written, so
/// collectd accepts their types from `types.db.libpodstats` (an unknown or malformed type is
/// refused at dispatch) and stock `if_packets`/`if_errors`/`if_dropped`.
#[test]
fn replay_of_the_newer_groups() {
    let cfg = PluginConfig {
        metrics: podstats::config::MetricGroups {
            throttle: true,
            pressure: true,
            memevents: true,
            netdetail: true,
            state: true,
            ..podstats::config::MetricGroups::NONE
        },
        ..PluginConfig::default()
    };
    run_replay(
        "  Metrics \"throttle\" \"pressure\" \"memevents\" \"netdetail\" \"state\"",
        &cfg,
    );
}

/// The seed plugin's own types.db (infrawatch/collectd-libpod-stats): its two types, their
/// data sources and ranges.
const SEED_TYPES_DB: &str = "pod_cpu    percent:GAUGE:0:100.1, time:DERIVE:0:U
pod_memory value:GAUGE:0:281474976710656
";

/// A drop-in for the seed plugin: a collectd set up for the seed (its types.db, no other)
/// takes `Metrics "seed"` and writes exactly the seed's two lists per container, under the
/// seed's identifiers (`libpodstats-<name>/pod_cpu`, `.../pod_memory`), and nothing else (no
/// pod totals).
#[test]
fn the_seed_group_is_a_drop_in_for_the_seed_plugin() {
    let cfg = PluginConfig {
        metrics: podstats::config::MetricGroups {
            seed: true,
            ..podstats::config::MetricGroups::NONE
        },
        ..PluginConfig::default()
    };
    let want = expected(&cfg);
    let keys: Vec<&str> = want.keys().map(String::as_str).collect();
    assert!(!keys.is_empty());
    assert!(
        keys.iter().all(|k| k.starts_with("libpodstats-lpstest-")
            && (k.ends_with("/pod_cpu") || k.ends_with("/pod_memory"))),
        "{keys:?}"
    );
    assert_eq!(
        keys.iter().filter(|k| k.ends_with("/pod_cpu")).count(),
        keys.len() / 2,
        "{keys:?}"
    );
    run_replay_typed(&series(), "  Metrics \"seed\"", &cfg, Some(SEED_TYPES_DB));
}
