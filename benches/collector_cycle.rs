//! What one collector cycle costs in the steady state (state watched, files held), over
//! synthesized hosts with 10 and 100 running containers in each cgroup layout; and a cycle
//! that has to re-discover (the state changed), for comparison.

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion};
use libpod_stats::{Collector, CollectorOptions, DiscoveryOptions, HostRoot, Timestamp};
use libpod_stats_testing::{ContainerSpec, HostBuilder, Layout};

fn options() -> CollectorOptions {
    CollectorOptions {
        discovery: DiscoveryOptions {
            rootless_stores: false,
            ..DiscoveryOptions::default()
        },
        ..CollectorOptions::default()
    }
}

fn host(layout: Layout, containers: usize) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut b = HostBuilder::new().layout(layout);
    for i in 0..containers {
        b = b.container(ContainerSpec::new(&format!("lpstest-bench-{i:03}")).started_ns(1));
    }
    b.build(dir.path()).expect("build host");
    dir
}

fn cycles(c: &mut Criterion) {
    for layout in [Layout::V1, Layout::V2] {
        for n in [10usize, 100] {
            let dir = host(layout, n);
            let root = HostRoot::new(dir.path()).expect("root");
            let mut collector = Collector::new(root.clone(), options()).expect("collector");
            let mut samples = Vec::new();
            let mut t = 1_000_000_000u64;
            collector
                .collect(Timestamp::at(t), &mut samples)
                .expect("first cycle");
            c.bench_function(&format!("steady cycle {layout:?} {n} containers"), |b| {
                b.iter(|| {
                    t += 1_000_000_000;
                    collector
                        .collect(Timestamp::at(black_box(t)), &mut samples)
                        .expect("cycle");
                })
            });
            c.bench_function(
                &format!("rediscovering cycle {layout:?} {n} containers"),
                |b| {
                    b.iter(|| {
                        t += 1_000_000_000;
                        // A new collector each time: discovery, layout detection, opening files.
                        let mut fresh = Collector::new(root.clone(), options()).expect("collector");
                        fresh
                            .collect(Timestamp::at(black_box(t)), &mut samples)
                            .expect("cycle");
                    })
                },
            );
        }
    }
}

criterion_group!(benches, cycles);
criterion_main!(benches);
