//! `top` over replayed hosts, through `libpod-stats-testing`'s public API only: a capture
//! bundled with this crate (`tests/captures/series-podman`, see its README) and a synthetic
//! host. The goldens are in `tests/snapshots/`.

use std::error::Error;
use std::path::PathBuf;

use libpod_stats_downstream::{render, top, TopLine};
use libpod_stats_testing::{
    volatile_redactions, Capture, ContainerSpec, HostBuilder, Layout, Series,
};

/// Two steps one second apart of real podman 4.3.1: an idle container and a cpu burner.
const CAPTURE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/captures/series-podman");

#[test]
fn the_bundled_capture_replays_to_the_reviewed_top() -> Result<(), Box<dyn Error>> {
    let replay = Capture::open(CAPTURE)?.replay()?;
    assert_eq!(replay.steps.len(), 2);

    // No rate at the first step; at the second the burner leads (38 % of a core) and the
    // idle one is near 0.
    let first = top(&replay.steps[0].samples);
    assert_eq!(first.len(), 2);
    assert!(first.iter().all(|l| l.cpu_percent.is_none()));
    let second = top(&replay.steps[1].samples);
    assert_eq!(second[0].name, "lpstest-burner");
    assert!(
        second[0].cpu_percent.is_some_and(|p| p > 20.0),
        "{second:?}"
    );
    assert!(second[1].cpu_percent.is_some_and(|p| p < 5.0), "{second:?}");

    let text: String = replay
        .steps
        .iter()
        .map(|s| {
            format!(
                "step {} ({})\n{}",
                s.step,
                s.snapshot,
                render(&top(&s.samples))
            )
        })
        .collect();
    insta::assert_snapshot!("series_podman_top", text);
    Ok(())
}

#[test]
fn the_last_step_whole_with_the_volatile_fields_redacted() -> Result<(), Box<dyn Error>> {
    let replay = Capture::open(CAPTURE)?.replay()?;
    let last = replay.last().ok_or("the replay has no step")?;
    assert!(
        last.errors.is_empty() && last.discovery_errors.is_empty(),
        "{last:?}"
    );

    // What a recapture of the same containers changes (ids, cgroups, times) is redacted;
    // a null stays null. Every counter is kept.
    volatile_redactions().bind(|| insta::assert_yaml_snapshot!("series_podman_last_step", last));
    Ok(())
}

#[test]
fn a_synthetic_host_gives_exact_lines() -> Result<(), Box<dyn Error>> {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("synthetic-top");
    match std::fs::remove_dir_all(&dir) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(e.into()),
        _ => {}
    }
    let mut host = HostBuilder::new()
        .layout(Layout::V2)
        .container(ContainerSpec::new("web").with_counters(|c| {
            c.cpu_ns = 5_000_000_000;
            c.memory_usage = 64 << 20;
            c.pids = 3;
        }))
        .container(ContainerSpec::new("batch").with_counters(|c| {
            c.cpu_ns = 1_000_000_000;
            c.memory_usage = 256 << 20;
            c.pids = 9;
        }));
    let mut series = Series::new(&dir);
    series.push(&host)?;
    // One second later: web used half a core, batch one and a half.
    host.advance(1_000_000_000, |c| {
        let cpu = if c.name == "batch" {
            1_500_000_000
        } else {
            500_000_000
        };
        c.counters.advance(cpu, 0, 0);
    });
    series.push(&host)?;

    let replay = series.capture()?.replay()?;
    let line = |name: &str, cpu: Option<f64>, mib: u64, pids: u64| TopLine {
        name: name.to_string(),
        cpu_percent: cpu,
        memory_bytes: Some(mib << 20),
        pids: Some(pids),
    };
    assert_eq!(
        top(&replay.steps[0].samples),
        [line("batch", None, 256, 9), line("web", None, 64, 3)]
    );
    assert_eq!(
        top(&replay.steps[1].samples),
        [
            line("batch", Some(150.0), 256, 9),
            line("web", Some(50.0), 64, 3)
        ]
    );
    Ok(())
}
