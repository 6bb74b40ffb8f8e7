//! Discovery of 1000 containers from BoltDB and from SQLite state: cold (a full
//! [`discover`]) and cached (what a collector cycle pays while the state is unchanged: one
//! `stat` per watched file through [`StateWatch`]). A full [`state_fingerprint`] (what
//! re-validating costs when a watched file changed) is measured for reference.
//!
//! The hosts are synthesized with `HostBuilder` on tmpfs (`/dev/shm`): 1000 running
//! containers with `/proc/<pid>/cgroup` and cgroup directories, so discovery also settles
//! every container against /proc and cgroupfs as it does live. Paths under a snapshot root
//! are resolved component by component (confined symlinks), which a live root skips, so
//! these are upper bounds for a live host.
//!
//! Run: `cargo bench --bench discovery`.

mod support;

use std::hint::black_box;
use std::time::Duration;

use libpod_stats::host::HostRoot;
use libpod_stats::libpod::discover::{discover, state_fingerprint, DiscoveryOptions};
use libpod_stats::stats::state_watch::StateWatch;
use libpod_stats::testing::{Backend, ContainerSpec, HostBuilder, StoreSpec};
use support::live::shm_or_tmp;
use support::{timed, RatioTable};

const N: usize = 1000;

fn host(backend: Backend) -> (tempfile::TempDir, HostRoot) {
    let mut store = StoreSpec::root().backend(backend);
    for i in 0..N {
        store = store.container(ContainerSpec::new(&format!("disc-{i:05}")));
    }
    let dir = tempfile::Builder::new()
        .prefix("lpstest-bench-disc-")
        .tempdir_in(shm_or_tmp())
        .expect("tempdir");
    HostBuilder::new()
        .store(store)
        .build(dir.path())
        .expect("snapshot");
    let root = HostRoot::new(dir.path()).expect("root");
    (dir, root)
}

fn main() {
    let mut c = support::criterion();
    let opts = DiscoveryOptions {
        rootless_stores: false,
        ..DiscoveryOptions::default()
    };
    let mut table = RatioTable::new("discovery of 1000 containers");
    for (name, backend) in [("bolt", Backend::Bolt), ("sqlite", Backend::Sqlite)] {
        let (_dir, root) = host(backend);
        let found = discover(&root, &opts);
        assert_eq!(found.containers.len(), N, "{:?}", found.errors.first());
        assert!(
            found.containers.iter().all(|c| c.cgroup.is_some()),
            "every container settled as running"
        );
        let fingerprint = state_fingerprint(&root, &opts);
        let watch = StateWatch::new(&root, &fingerprint);
        assert!(watch.unchanged());

        let group_name = format!("discovery {name}");
        let mut group = c.benchmark_group(&group_name);
        support::configure(&mut group, Duration::from_secs(3));
        let cold = format!("{group_name}/cold");
        group.bench_function("cold", |b| {
            b.iter_custom(|iters| {
                timed(&cold, iters, || {
                    black_box(discover(&root, &opts));
                })
            })
        });
        let cached = format!("{group_name}/cached");
        group.bench_function("cached", |b| {
            b.iter_custom(|iters| {
                timed(&cached, iters, || {
                    black_box(watch.unchanged());
                })
            })
        });
        let fp = format!("{group_name}/fingerprint");
        group.bench_function("fingerprint", |b| {
            b.iter_custom(|iters| {
                timed(&fp, iters, || {
                    black_box(state_fingerprint(&root, &opts));
                })
            })
        });
        group.finish();
        table.time(&format!("{name} cold"), &cold, 1.0, "< 30 ms");
        table.time(&format!("{name} cached"), &cached, 1.0, "< 50 us");
        table.time(
            &format!("{name} full fingerprint"),
            &fp,
            1.0,
            "report (only when a watched file changed)",
        );
    }
    c.final_summary();
    table.print();
}
