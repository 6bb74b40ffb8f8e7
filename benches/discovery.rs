//! Discovery of 1000 containers from BoltDB and from SQLite state: cold (a full
//! [`discover`]) and cached (what a collector cycle pays while the state is unchanged: one
//! `stat` per watched file through [`StateWatch`]). A full [`state_fingerprint`] (what
//! re-validating costs when a watched file changed) is measured for reference.
//!
//! The hosts are synthesized with `HostBuilder` on tmpfs (`/dev/shm`): 1000 running
//! containers with `/proc/<pid>/cgroup` and cgroup directories, so discovery also settles
//! every container against /proc and cgroupfs as it does live. Paths under a snapshot root
//! are resolved confined to it: by the kernel (`openat2` with `RESOLVE_IN_ROOT`), and, in
//! the `*-walk` rows, by the userland walk (one `lstat` per component) that kernels or
//! seccomp filters without `openat2` get. A live root resolves nothing.
//!
//! The BoltDB host is also read through the *live* root `/` (`bolt-live`): in a private
//! mount namespace of this thread, the snapshot's store and `/proc` are bind-mounted over
//! `/var/lib/containers/storage` and `/proc`, so discovery resolves paths as it does on a
//! real host (lexically) and reads the same files. Skipped with a note when the mounts are
//! not possible (not root).
//!
//! Run: `cargo bench --bench discovery`.

use libpod_stats_test_support::bench;

use std::hint::black_box;
use std::time::Duration;

use bench::{timed, RatioTable};
use libpod_stats::internals::libpod::discover::state_fingerprint;
use libpod_stats::internals::stats::state_watch::StateWatch;
use libpod_stats::{discover, DiscoveryOptions, HostRoot};
use libpod_stats_test_support::live::{bind_mount, enter_private_mount_namespace, shm_or_tmp};
use libpod_stats_testing::{Backend, ContainerSpec, HostBuilder, StoreSpec};

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

/// A private mount namespace for this thread, with the snapshot under `dir` standing in
/// for the host's container store and `/proc`.
fn live_view(dir: &std::path::Path) -> Result<(), String> {
    let store = std::path::Path::new("/var/lib/containers/storage");
    if !store.is_dir() {
        return Err("/var/lib/containers/storage does not exist".into());
    }
    enter_private_mount_namespace()?;
    bind_mount(&dir.join("var/lib/containers/storage"), store)?;
    bind_mount(&dir.join("proc"), std::path::Path::new("/proc"))
}

fn main() {
    let mut c = bench::criterion();
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
        bench::configure(&mut group, Duration::from_secs(3));
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
        // The same host through the userland walk (kernels or seccomp without openat2). The
        // cached check is the same for both: `stat` of paths resolved once.
        let walking = HostRoot::new_walking(root.dir()).expect("root");
        let cold_walk = format!("{group_name}/cold-walk");
        group.bench_function("cold-walk", |b| {
            b.iter_custom(|iters| {
                timed(&cold_walk, iters, || {
                    black_box(discover(&walking, &opts));
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
        table.time(&format!("{name} cold, walk"), &cold_walk, 1.0, "< 30 ms");
        table.ratio(
            &format!("{name} cold: walk / kernel"),
            &cold_walk,
            &cold,
            "report",
        );
        table.time(
            &format!("{name} full fingerprint"),
            &fp,
            1.0,
            "report (only when a watched file changed)",
        );
    }
    // The live root over the same BoltDB host (last: /proc stays replaced in this thread).
    let (dir, _) = host(Backend::Bolt);
    match live_view(dir.path()) {
        Ok(()) => {
            let root = HostRoot::live();
            let found = discover(&root, &opts);
            assert_eq!(found.containers.len(), N, "{:?}", found.errors.first());
            let watch = StateWatch::new(&root, &state_fingerprint(&root, &opts));
            assert!(watch.unchanged());
            let mut group = c.benchmark_group("discovery bolt-live");
            bench::configure(&mut group, Duration::from_secs(3));
            group.bench_function("cold", |b| {
                b.iter_custom(|iters| {
                    timed("discovery bolt-live/cold", iters, || {
                        black_box(discover(&root, &opts));
                    })
                })
            });
            group.bench_function("cached", |b| {
                b.iter_custom(|iters| {
                    timed("discovery bolt-live/cached", iters, || {
                        black_box(watch.unchanged());
                    })
                })
            });
            group.finish();
            table.time("bolt-live cold", "discovery bolt-live/cold", 1.0, "< 30 ms");
            table.time(
                "bolt-live cached",
                "discovery bolt-live/cached",
                1.0,
                "< 50 us",
            );
        }
        Err(note) => table.note(&format!("bolt-live skipped: {note}")),
    }
    c.final_summary();
    table.print();
}
