//! A steady-state collector cycle does not allocate: the state is watched with `stat(2)`,
//! cgroup files and `net/dev` are held open and re-read with `pread`, `ns/net` is read with
//! `readlink` into a stack buffer, and the caller's samples are overwritten in place.
//! Counted with a per-thread counting allocator, over a synthesized host in each layout.

use std::os::unix::fs::symlink;

use libpod_stats::host::HostRoot;
use libpod_stats::libpod::discover::DiscoveryOptions;
use libpod_stats::stats::collector::{Collector, CollectorOptions, Timestamp};
use libpod_stats::testing::{ContainerSpec, HostBuilder, Layout, PodSpec};

#[path = "support/counting_alloc.rs"]
mod counting_alloc;

use counting_alloc::{allocations, Counting};

#[global_allocator]
static GLOBAL: Counting = Counting;

#[test]
fn steady_state_cycles_do_not_allocate() {
    for layout in [Layout::V1, Layout::Hybrid, Layout::V2] {
        let tmp = tempfile::tempdir().unwrap();
        let built = HostBuilder::new()
            .layout(layout)
            .pod(PodSpec::new("lpstest-pod"))
            .container(ContainerSpec::new("a").started_ns(1))
            .container(ContainerSpec::new("b").pod("lpstest-pod").started_ns(1))
            .container(ContainerSpec::new("c").pod("lpstest-pod").started_ns(1))
            .build(tmp.path())
            .unwrap();
        // Network namespaces of their own, so the net/dev path is taken too.
        std::fs::create_dir_all(tmp.path().join("proc/1/ns")).unwrap();
        symlink("net:[4026531840]", tmp.path().join("proc/1/ns/net")).unwrap();
        for (i, c) in built.containers.iter().enumerate() {
            let ns = tmp.path().join(format!("proc/{}/ns", c.pid.unwrap()));
            std::fs::create_dir_all(&ns).unwrap();
            symlink(format!("net:[40265320{i:02}]"), ns.join("net")).unwrap();
        }
        let mut collector = Collector::new(
            HostRoot::new(tmp.path()).unwrap(),
            CollectorOptions {
                discovery: DiscoveryOptions {
                    rootless_stores: false,
                    ..DiscoveryOptions::default()
                },
                ..CollectorOptions::default()
            },
        )
        .unwrap();
        let mut samples = Vec::new();
        let t0 = built.containers.len() as u64;
        // Warm-up: discovery, opening handles, growing buffers.
        for step in 0..2 {
            collector
                .collect(Timestamp::at(1_000_000_000 * (t0 + step)), &mut samples)
                .unwrap();
        }
        let n = allocations(|| {
            for step in 2..5 {
                let report = collector
                    .collect(Timestamp::at(1_000_000_000 * (t0 + step)), &mut samples)
                    .unwrap();
                assert!(!report.rediscovered);
            }
        });
        assert_eq!(n, 0, "{layout:?}: a steady-state cycle allocated {n} times");
        assert_eq!(samples.len(), 3);
        assert!(
            samples.iter().all(|s| s.cpu_percent.is_some()),
            "{samples:#?}"
        );
        assert!(
            samples.iter().all(|s| s.net_rx_bytes.is_some()),
            "{samples:#?}"
        );
    }
}
