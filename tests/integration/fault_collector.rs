//! The collector over counters that misbehave and cgroups that vanish: a CPU counter that
//! goes backwards or wraps gives `null`, never a negative or infinite percent; a cgroup
//! removed after discovery is reported as vanished, never as a panic or a made-up zero.

use libpod_stats::{Collector, CollectorOptions, HostRoot, Sample, Timestamp};
use libpod_stats_testing::{ContainerSpec, HostBuilder, Layout, Series};

const SECOND: u64 = 1_000_000_000;

fn at(ns: u64) -> Timestamp {
    Timestamp {
        wall_ns: ns,
        mono_ns: ns,
    }
}

fn percent_ok(p: Option<f64>) -> bool {
    p.is_none_or(|p| p.is_finite() && p >= 0.0)
}

fn check_sample(s: &Sample, step: usize) {
    assert!(
        percent_ok(s.cpu_percent)
            && percent_ok(s.cpu_percent_normalized)
            && percent_ok(s.memory_percent),
        "step {step}: {s:?}"
    );
}

fn counters_that_misbehave(layout: Layout) {
    // cpu ns per step: normal, backwards, near the top, wrapped, normal again.
    // (Multiples of 1000: cgroup v2 counts microseconds.)
    let top = u64::MAX / 1000 * 1000 - 1000;
    let steps: [u64; 6] = [10 * SECOND, 11 * SECOND, 5 * SECOND, top, 1000, SECOND];
    // The percent each step may give: None where the counter did not move forward.
    let expect_null = [true, false, true, false, true, false];
    let tmp = tempfile::tempdir().unwrap();
    let mut series = Series::new(tmp.path());
    let mut host = HostBuilder::new().layout(layout).container(
        ContainerSpec::new("lpstest-wobbly").with_counters(|c| {
            c.cpu_ns = steps[0];
            c.user_ns = steps[0] / 2;
            c.system_ns = steps[0] / 2;
        }),
    );
    let mut times = Vec::new();
    for (i, cpu) in steps.iter().enumerate() {
        if i > 0 {
            host.advance(SECOND, |c| {
                c.counters.cpu_ns = *cpu;
                c.counters.user_ns = cpu / 2;
                c.counters.system_ns = cpu / 2;
                // Other counters go backwards too.
                c.counters.io_read_bytes = c.counters.io_read_bytes.saturating_sub(1 << 20);
                c.counters.oom_kills = c.counters.oom_kills.saturating_sub(1);
            });
        }
        let built = series.push(&host).unwrap();
        let meta = HostRoot::new(&built.dir)
            .unwrap()
            .snapshot_meta()
            .unwrap()
            .unwrap();
        times.push((built.dir, meta.taken_at_ns));
    }
    let mut collector = Collector::new(
        HostRoot::new(&times[0].0).unwrap(),
        CollectorOptions::default(),
    )
    .unwrap();
    let mut out = Vec::new();
    for (i, (dir, taken)) in times.iter().enumerate() {
        if i > 0 {
            collector.retarget(HostRoot::new(dir).unwrap()).unwrap();
        }
        let report = collector.collect(at(*taken), &mut out).unwrap();
        assert!(report.errors.is_empty(), "step {i}: {:?}", report.errors);
        assert_eq!(out.len(), 1, "step {i}");
        let s = &out[0];
        check_sample(s, i);
        assert_eq!(s.cpu_ns, Some(steps[i]), "step {i}");
        if expect_null[i] {
            assert_eq!(s.cpu_percent, None, "step {i}: {s:?}");
        }
    }
}

#[test]
fn cpu_counters_backwards_or_wrapping_give_null_v1() {
    counters_that_misbehave(Layout::Hybrid);
}

#[test]
fn cpu_counters_backwards_or_wrapping_give_null_v2() {
    counters_that_misbehave(Layout::V2);
}

#[test]
fn a_cgroup_that_vanishes_after_discovery_is_reported_not_sampled() {
    let tmp = tempfile::tempdir().unwrap();
    let built = HostBuilder::new()
        .layout(Layout::Hybrid)
        .container(ContainerSpec::new("lpstest-stays"))
        .container(ContainerSpec::new("lpstest-goes"))
        .build(tmp.path())
        .unwrap();
    let root = HostRoot::new(tmp.path()).unwrap();
    let taken = root.snapshot_meta().unwrap().unwrap().taken_at_ns;
    let mut collector = Collector::new(root, CollectorOptions::default()).unwrap();
    let mut out = Vec::new();
    collector.collect(at(taken), &mut out).unwrap();
    assert_eq!(out.len(), 2);

    // The cgroup goes while /proc still says the process is in it: discovery keeps the
    // container, the read finds nothing. (Held files of a snapshot would still read, as
    // unlinked regular files do; a fresh root drops them. Live, held files give ENODEV:
    // tests/integration/fault_cgroup.rs.)
    let gone = built
        .container("lpstest-goes")
        .unwrap()
        .cgroup
        .clone()
        .unwrap();
    for hierarchy in std::fs::read_dir(tmp.path().join("sys/fs/cgroup")).unwrap() {
        let dir = hierarchy.unwrap().path().join(gone.trim_start_matches('/'));
        if dir.is_dir() {
            std::fs::remove_dir_all(dir).unwrap();
        }
    }
    collector
        .retarget(HostRoot::new(tmp.path()).unwrap())
        .unwrap();
    for step in 1..4u64 {
        let report = collector
            .collect(at(taken + step * SECOND), &mut out)
            .unwrap();
        let names: Vec<_> = out.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(names, ["lpstest-stays"], "{report:?}");
        assert!(report.errors.is_empty(), "{:?}", report.errors);
        assert_eq!(report.vanished.len(), 1, "{report:?}");
        for s in &out {
            check_sample(s, step as usize);
        }
    }
}

/// Every number of every cgroup file at its largest: no overflow anywhere in the math.
#[test]
fn the_largest_numbers_everywhere_never_overflow() {
    for layout in [Layout::Hybrid, Layout::V2] {
        let tmp = tempfile::tempdir().unwrap();
        HostBuilder::new()
            .layout(layout)
            .container(ContainerSpec::new("lpstest-huge"))
            .build(tmp.path())
            .unwrap();
        let mut files = Vec::new();
        let mut dirs = vec![tmp.path().join("sys/fs/cgroup")];
        while let Some(d) = dirs.pop() {
            for e in std::fs::read_dir(&d).unwrap() {
                let p = e.unwrap().path();
                let meta = std::fs::symlink_metadata(&p).unwrap();
                if meta.is_dir() {
                    dirs.push(p);
                } else if meta.is_file() {
                    files.push(p);
                }
            }
        }
        for f in files {
            // Counters (4 digits or more) at the top; device numbers and small
            // values (which must fit their own types) stay.
            let text = String::from_utf8(std::fs::read(&f).unwrap()).unwrap();
            let mut out = String::new();
            let mut digits = String::new();
            for ch in text.chars().chain(std::iter::once('\n')) {
                if ch.is_ascii_digit() {
                    digits.push(ch);
                    continue;
                }
                if digits.len() >= 4 {
                    out.push_str("18446744073709551615");
                } else {
                    out.push_str(&digits);
                }
                digits.clear();
                out.push(ch);
            }
            out.pop();
            std::fs::write(&f, out).unwrap();
        }
        let root = HostRoot::new(tmp.path()).unwrap();
        let taken = root.snapshot_meta().unwrap().unwrap().taken_at_ns;
        let mut collector = Collector::new(root, CollectorOptions::default()).unwrap();
        let mut out = Vec::new();
        for step in 0..3u64 {
            let report = collector
                .collect(at(taken + step * SECOND), &mut out)
                .unwrap();
            assert!(report.errors.is_empty(), "{layout:?}: {:?}", report.errors);
            assert_eq!(out.len(), 1, "{layout:?}: the container is still sampled");
            for s in &out {
                check_sample(s, step as usize);
            }
        }
    }
}
