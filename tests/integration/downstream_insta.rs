//! A snapshot test written the way a user of the crate would write it: only the public
//! `libpod_stats_testing` API, over a capture bundled with the repository. The module docs
//! of `libpod_stats_testing` show the same code.

use libpod_stats_testing::{volatile_redactions, Capture, ContainerSpec, HostBuilder, Series};

#[test]
fn bundled_podman_series_replays_to_the_reviewed_snapshot() -> Result<(), Box<dyn std::error::Error>>
{
    let series = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/fixtures/cgroupv1/series-podman"
    );
    let replay = Capture::open(series)?.replay()?;

    // Plain assertions: the burner uses about one core between steps, never at the first.
    let burner = replay.of("lpstest-burner");
    assert_eq!(burner.len(), 3);
    assert_eq!(burner[0].cpu_percent, None);
    assert!(burner[2].cpu_percent.is_some_and(|p| p > 20.0));

    // The whole replay as a reviewed golden file. The redactions are only needed when the
    // capture is remade now and then (new ids, times); they are shown here for that case.
    volatile_redactions().bind(|| insta::assert_yaml_snapshot!("series_podman", replay));
    Ok(())
}

#[test]
fn unredacted_replay_is_stable_and_redact_volatile_hides_what_a_recapture_changes(
) -> Result<(), Box<dyn std::error::Error>> {
    let series = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/fixtures/cgroupv1/series-podman"
    );
    let capture = Capture::open(series)?;
    assert_eq!(capture.len(), 3);
    let first = capture.replay()?;
    let second = capture.replay()?;
    assert_eq!(first, second, "a replay is deterministic");

    let mut redacted = first.clone();
    redacted.redact_volatile();
    let text = serde_json::to_string(&redacted)?;
    for sample in first.steps.iter().flat_map(|s| s.samples.iter()) {
        assert!(!text.contains(&sample.id), "{} left in", sample.id);
    }
    // Names and numbers stay.
    assert_eq!(redacted.of("lpstest-idle").len(), 3);
    assert_eq!(
        redacted.of("lpstest-idle")[0].cpu_ns,
        first.of("lpstest-idle")[0].cpu_ns
    );
    Ok(())
}

#[test]
fn a_built_series_replays_like_a_capture() -> Result<(), Box<dyn std::error::Error>> {
    let dir = tempfile::tempdir()?;
    let mut host = HostBuilder::new()
        .with_netns_links()
        .container(ContainerSpec::new("b-second").with_counters(|c| c.memory_usage = 64 << 20))
        .container(ContainerSpec::new("a-first"));
    let mut series = Series::new(dir.path());
    series.push(&host)?;
    host.advance(2_000_000_000, |c| {
        c.counters.advance(1_000_000_000, 0, 4096)
    });
    series.push(&host)?;

    let replay = series.capture()?.replay()?;
    let last = replay.last().ok_or("no step")?;
    assert_eq!(last.samples.names(), ["a-first", "b-second"]);
    let b = last.samples.get("b-second").ok_or("no b-second")?;
    assert_eq!(b.memory_bytes, Some(64 << 20));
    assert_eq!(b.cpu_percent, Some(50.0));
    assert_eq!(b.net.rx_bytes, Some(1000 + 4096));
    Ok(())
}

#[test]
fn a_built_v2_host_with_a_pod_snapshots_well() -> Result<(), Box<dyn std::error::Error>> {
    use libpod_stats::ContainerState;
    use libpod_stats_testing::{Layout, PodSpec};

    let dir = tempfile::tempdir()?;
    let mut host = HostBuilder::new()
        .layout(Layout::V2)
        .online_cpus(4)
        .with_netns_links()
        .pod(PodSpec::new("shop").with_infra())
        .container(ContainerSpec::new("shop-web").pod("shop"))
        .container(
            ContainerSpec::new("shop-db")
                .pod("shop")
                .with_counters(|c| {
                    c.memory_usage = 256 << 20;
                    c.memory_limit = Some(1 << 30);
                }),
        )
        .container(ContainerSpec::new("paused").state(ContainerState::Paused))
        .container(ContainerSpec::new("exited").state(ContainerState::Exited))
        .container(ContainerSpec::new("created").state(ContainerState::Created));
    let mut series = Series::new(dir.path());
    series.push(&host)?;
    // Two seconds later: everyone but the paused container used one cpu for one second,
    // and the pod's shared namespace moved 1 MiB each way.
    host.advance(2_000_000_000, |c| {
        if c.name != "paused" {
            c.counters.advance(1_000_000_000, 4096, 1 << 20)
        }
    });
    series.push(&host)?;

    let replay = series.capture()?.replay()?;
    let last = replay.last().ok_or("no step")?;
    // Running and paused containers are sampled, the pod's infra container too; every one
    // is the same instance at both steps: a rate (0 for the idle ones), not a restart.
    let rates: Vec<(&str, Option<f64>)> = last
        .samples
        .iter()
        .map(|s| (s.name.as_str(), s.cpu_percent))
        .collect();
    let infra = last.samples.names()[0].to_string();
    assert!(infra.ends_with("-infra"), "{infra}");
    assert_eq!(
        rates,
        [
            (infra.as_str(), Some(0.0)),
            ("paused", Some(0.0)),
            ("shop-db", Some(50.0)),
            ("shop-web", Some(50.0)),
        ]
    );
    assert_eq!(last.pods.len(), 1);
    insta::assert_yaml_snapshot!("built_v2_pod_last_step", last);
    Ok(())
}
