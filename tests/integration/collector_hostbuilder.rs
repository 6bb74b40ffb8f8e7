//! The collector and replay over `testing::HostBuilder` snapshots in each cgroup layout:
//! first sample null, rates between steps, a restart (counters from zero) giving null and
//! then a rate again, the working-set floor, the limit clamp, and pods. `HostBuilder` writes
//! no `ns/net` links, so its containers' network numbers are null (whose counters they are
//! cannot be told): `tests/integration/collector.rs` covers the network cases with links.

use libpod_stats_test_support::health;

use health::{give_health_check, health_log, write_health_log};
use libpod_stats::{replay, CollectorOptions, ContainerState, DiscoveryOptions, Sample};
use libpod_stats_testing::{ContainerSpec, HostBuilder, Layout, PodSpec, Series};

const S: u64 = 1_000_000_000;
/// A fixed start (2026-11-24T23:00:00Z): without one, `HostBuilder` starts each container a
/// minute before each step, which is a new instance every step.
const STARTED: u64 = 1_795_561_200 * S;

fn ctr(name: &str) -> ContainerSpec {
    ContainerSpec::new(name).started_ns(STARTED)
}

fn options() -> CollectorOptions {
    CollectorOptions {
        discovery: DiscoveryOptions {
            rootless_stores: false,
            ..DiscoveryOptions::default()
        },
        ..CollectorOptions::default()
    }
}

fn sample<'a>(samples: &'a [Sample], name: &str) -> &'a Sample {
    samples
        .iter()
        .find(|s| s.name == name)
        .unwrap_or_else(|| panic!("{name} not in {samples:#?}"))
}

#[test]
fn rates_restarts_and_memory_in_every_layout() {
    for layout in [Layout::V1, Layout::Hybrid, Layout::V2] {
        let tmp = tempfile::tempdir().unwrap();
        let mut host = HostBuilder::new()
            .layout(layout)
            .online_cpus(4)
            .mem_total(1 << 30)
            .container(ctr("burner").with_counters(|c| {
                c.cpu_ns = 10 * S;
                c.memory_usage = 1000;
                c.memory_stat.insert("inactive_file".into(), 5000);
            }))
            .container(ctr("limited").with_counters(|c| {
                c.memory_usage = 256 << 20;
                c.memory_limit = Some(512 << 20);
            }))
            .container(ctr("over-limit").with_counters(|c| {
                c.memory_limit = Some(8 << 30);
            }))
            .container(ctr("stopped").state(ContainerState::Exited));
        let mut series = Series::new(tmp.path());
        series.push(&host).unwrap();
        // One second: the burner uses two cores.
        host.advance(S, |c| c.counters.advance(2 * S, 0, 0));
        series.push(&host).unwrap();
        // It restarts: a fresh cgroup counting from zero.
        host.advance(S, |_| {});
        host.container_mut("burner").unwrap().counters.cpu_ns = S / 10;
        series.push(&host).unwrap();
        host.advance(S, |c| {
            if c.name == "burner" {
                c.counters.advance(S / 2, 0, 0)
            }
        });
        series.push(&host).unwrap();

        let steps = replay(tmp.path(), options()).unwrap();
        let what = format!("{layout:?}");
        let rates: Vec<Option<f64>> = steps
            .iter()
            .map(|s| sample(&s.samples, "burner").cpu_percent)
            .collect();
        assert_eq!(rates, [None, Some(200.0), None, Some(50.0)], "{what}");
        let normalized = sample(&steps[1].samples, "burner").cpu_percent_normalized;
        assert_eq!(normalized, Some(50.0), "{what}");
        for step in &steps {
            assert!(
                step.errors.is_empty() && step.discovery_errors.is_empty(),
                "{what}: {step:?}"
            );
            let names: Vec<&str> = step.samples.iter().map(|s| s.name.as_str()).collect();
            assert_eq!(names, ["burner", "limited", "over-limit"], "{what}");
        }
        let s = &steps[0].samples;
        let burner = sample(s, "burner");
        assert_eq!(burner.cpu_ns, Some(10 * S), "{what}");
        assert_eq!(burner.memory_bytes, Some(1000), "{what}");
        assert_eq!(burner.memory_working_set_bytes, Some(0), "{what}: floored");
        assert_eq!(
            burner.memory_limit_bytes,
            Some(1 << 30),
            "{what}: unlimited is MemTotal"
        );
        let limited = sample(s, "limited");
        assert_eq!(limited.memory_limit_bytes, Some(512 << 20), "{what}");
        assert_eq!(limited.memory_percent, Some(50.0), "{what}");
        assert_eq!(
            sample(s, "over-limit").memory_limit_bytes,
            Some(1 << 30),
            "{what}: clamped to MemTotal"
        );
        assert_eq!(burner.net.rx_bytes, None, "{what}: no ns/net link");
    }
}

#[test]
fn pod_totals_over_members() {
    let tmp = tempfile::tempdir().unwrap();
    let mut host = HostBuilder::new()
        .pod(PodSpec::new("lpstest-pod"))
        .container(ctr("a").pod("lpstest-pod").with_counters(|c| c.cpu_ns = S))
        .container(
            ctr("b")
                .pod("lpstest-pod")
                .with_counters(|c| c.cpu_ns = 2 * S),
        )
        .container(ctr("alone"));
    let mut series = Series::new(tmp.path());
    series.push(&host).unwrap();
    host.advance(S, |c| c.counters.advance(S / 4, 0, 0));
    series.push(&host).unwrap();
    let steps = replay(tmp.path(), options()).unwrap();
    let pods = &steps[1].pods;
    assert_eq!(pods.len(), 1, "{pods:#?}");
    let pod = &pods[0];
    assert_eq!(pod.pod_name.as_deref(), Some("lpstest-pod"));
    // a + b, each a quarter core over the second.
    assert_eq!(pod.containers, 2);
    assert_eq!(pod.cpu_percent, Some(50.0));
    let members: u64 = steps[1]
        .samples
        .iter()
        .filter(|s| s.pod_id.is_some())
        .map(|s| s.cpu_ns.unwrap())
        .sum();
    assert_eq!(pod.cpu_ns, Some(members));
    assert_eq!(steps[0].pods[0].cpu_percent, None);
}

/// Podman 6.0.0-rc1 (d0c9bb1b49), `libpod/sqlite_state_internal.go`, `createSQLiteTables`:
/// `ContainerConfig.Name` and `PodConfig.Name` are each UNIQUE in their own table, and
/// `libpod/sqlite_state.go`, `AddPod`, checks only pod names (BoltDB, whose one name bucket
/// kept them apart, is gone), so a pod and a container may share a name. Pods are keyed by
/// id: the container of that name is not a member and not in the pod's total.
#[test]
fn a_pod_and_a_container_may_share_a_name() {
    let tmp = tempfile::tempdir().unwrap();
    let mut host = HostBuilder::new()
        .pod(PodSpec::new("lpstest-shop"))
        .container(
            ctr("lpstest-web")
                .pod("lpstest-shop")
                .with_counters(|c| c.cpu_ns = S),
        )
        .container(ctr("lpstest-shop").with_counters(|c| c.cpu_ns = 3 * S));
    let mut series = Series::new(tmp.path());
    series.push(&host).unwrap();
    host.advance(S, |c| c.counters.advance(S / 4, 0, 0));
    series.push(&host).unwrap();
    let steps = replay(tmp.path(), options()).unwrap();
    let shop = sample(&steps[1].samples, "lpstest-shop");
    assert_eq!(
        (shop.pod_id.as_deref(), shop.pod_name.as_deref()),
        (None, None)
    );
    let web = sample(&steps[1].samples, "lpstest-web");
    assert_eq!(web.pod_name.as_deref(), Some("lpstest-shop"));
    let pods = &steps[1].pods;
    assert_eq!(pods.len(), 1, "{pods:#?}");
    assert_eq!(pods[0].pod_name.as_deref(), Some("lpstest-shop"));
    assert_eq!(pods[0].pod_id.as_str(), web.pod_id.as_deref().unwrap());
    assert_eq!((pods[0].containers, pods[0].cpu_ns), (1, web.cpu_ns));
}

/// A capture of a synthesized host in every layout (the co-mounted one has `cpu` and
/// `cpuacct` symlinks beside `cpu,cpuacct`) reads back to exactly the same samples.
#[test]
fn captures_read_back_the_same_in_every_layout() {
    use libpod_stats::{
        capture_snapshot, CaptureOptions, Collector, FirstCpuPercent, HostRoot, Timestamp,
    };

    for layout in [Layout::V1, Layout::V1CoMounted, Layout::Hybrid, Layout::V2] {
        let tmp = tempfile::tempdir().unwrap();
        let source = tmp.path().join("source");
        let host = HostBuilder::new()
            .layout(layout)
            .pod(PodSpec::new("lpstest-pod"))
            .container(ctr("a").with_counters(|c| c.cpu_ns = 7 * S))
            .container(ctr("b").pod("lpstest-pod"))
            .container(ctr("c").state(ContainerState::Paused))
            .container(ctr("d").state(ContainerState::Exited));
        host.build(&source).unwrap();
        let captured = tmp.path().join("captured");
        let opts = options();
        let summary = capture_snapshot(
            &HostRoot::new(&source).unwrap(),
            &captured,
            &CaptureOptions {
                discovery: opts.discovery.clone(),
                ..CaptureOptions::default()
            },
        )
        .unwrap();
        assert_eq!(summary.with_cgroup, 3, "{layout:?}: {summary:?}");
        let read = |dir: &std::path::Path| {
            let mut o = options();
            o.first_cpu_percent = FirstCpuPercent::SinceStart;
            o.all = true;
            let mut c = Collector::new(HostRoot::new(dir).unwrap(), o).unwrap();
            let mut out = Vec::new();
            let report = c
                .collect(Timestamp::at(host.meta.taken_at_ns), &mut out)
                .unwrap();
            assert!(report.errors.is_empty(), "{layout:?}: {report:?}");
            out
        };
        let original = read(&source);
        assert_eq!(original.len(), 4, "{layout:?}");
        assert_eq!(read(&captured), original, "{layout:?}");
    }
}

/// The health fields come from podman's health log (`<runroot>/overlay-containers/<id>/
/// healthcheck.log`) of a container whose config has a health check, follow each rewrite of
/// the log with no state change, are null without a log, and never come from a log of a
/// container without a health check (podman 5 writes `reset` into every restarted
/// container's log). A redacted capture keeps the status and the streak, never the outputs.
#[test]
fn health_follows_podmans_health_log() {
    use libpod_stats::{
        capture_snapshot, CaptureOptions, Collector, HealthStatus, HostRoot, Timestamp,
    };

    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("source");
    let built = HostBuilder::new()
        .layout(Layout::V2)
        .container(ctr("hc"))
        .container(ctr("none"))
        .container(ctr("plain"))
        .build(&dir)
        .unwrap();
    let id = |name: &str| built.container(name).unwrap().id.clone();
    give_health_check(&dir, &[&id("hc")], serde_json::json!(["CMD-SHELL", "true"]));
    give_health_check(&dir, &[&id("none")], serde_json::json!(["NONE"]));
    let log = |name: &str| health_log(&dir, &id(name));
    for name in ["hc", "none", "plain"] {
        write_health_log(
            &dir,
            &id(name),
            r#"{"Status":"reset","FailingStreak":0,"Log":null}"#,
        );
    }
    std::fs::write(
        log("hc"),
        br#"{"Status":"starting","FailingStreak":0,"Log":null}"#,
    )
    .unwrap();

    let mut collector = Collector::new(HostRoot::new(&dir).unwrap(), options()).unwrap();
    let mut out = Vec::new();
    let mut cycle = |at: u64| {
        let report = collector.collect(Timestamp::at(at * S), &mut out).unwrap();
        let fields = |name: &str| {
            let s = sample(&out, name);
            (s.health, s.health_code, s.health_failing_streak)
        };
        (
            [fields("hc"), fields("none"), fields("plain")],
            report.errors,
        )
    };
    let (health, errors) = cycle(1);
    assert!(errors.is_empty(), "{errors:?}");
    assert_eq!(
        health,
        [
            (Some(HealthStatus::Starting), Some(2), Some(0)),
            (None, None, None),
            (None, None, None)
        ]
    );
    let failing = r#"{"Status":"unhealthy","FailingStreak":2,"Log":[{"ExitCode":1,"Output":"lpstest-secret-output\n"}]}"#;
    std::fs::write(log("hc"), failing).unwrap();
    assert_eq!(
        cycle(2).0[0],
        (Some(HealthStatus::Unhealthy), Some(1), Some(2))
    );
    assert_eq!(
        cycle(3).0[0],
        (Some(HealthStatus::Unhealthy), Some(1), Some(2))
    );

    // A redacted capture reads back the same, without the check's output.
    let captured = tmp.path().join("captured");
    capture_snapshot(
        &HostRoot::new(&dir).unwrap(),
        &captured,
        &CaptureOptions {
            discovery: options().discovery,
            ..CaptureOptions::default()
        },
    )
    .unwrap();
    let kept =
        std::fs::read_to_string(captured.join(log("hc").strip_prefix(&dir).unwrap())).unwrap();
    assert_eq!(kept, r#"{"FailingStreak":2,"Status":"unhealthy"}"#);
    let mut replayed = Collector::new(HostRoot::new(&captured).unwrap(), options()).unwrap();
    let mut again = Vec::new();
    replayed.collect(Timestamp::at(4 * S), &mut again).unwrap();
    assert_eq!(
        (
            sample(&again, "hc").health,
            sample(&again, "hc").health_failing_streak
        ),
        (Some(HealthStatus::Unhealthy), Some(2))
    );
    assert_eq!(sample(&again, "plain").health, None);

    // A log that does not parse is reported, naming it; a removed log is no health.
    std::fs::write(log("hc"), b"{\"Status\":").unwrap();
    let (health, errors) = cycle(5);
    assert_eq!(health[0], (None, None, None));
    assert!(
        errors.len() == 1 && errors[0].to_string().contains("healthcheck.log"),
        "{errors:?}"
    );
    std::fs::remove_file(log("hc")).unwrap();
    let (health, errors) = cycle(6);
    assert_eq!((health[0], errors.len()), ((None, None, None), 0));
    std::fs::write(
        log("hc"),
        br#"{"Status":"healthy","FailingStreak":0,"Log":[]}"#,
    )
    .unwrap();
    assert_eq!(
        cycle(7).0[0],
        (Some(HealthStatus::Healthy), Some(0), Some(0))
    );
}
