//! Podman 6's state rules on synthesized hosts (no Debian package has podman 6 yet): which
//! database wins, stores placed only by drop-ins, and captures of such hosts. Each test
//! cites the podman commit, file and function it follows.

use std::path::Path;

use libpod_stats::internals::libpod::config_keys::DbBackend;
use libpod_stats::{
    capture_snapshot, discover, CaptureOptions, DiscoveryOptions, DiscoveryReport, HostRoot,
    Source, StateFormat,
};
use libpod_stats_testing::{Backend, ContainerSpec, HostBuilder, StoreSpec};

const GRAPH: &str = "/var/lib/containers/storage";

fn report(root: &Path) -> DiscoveryReport {
    discover(&HostRoot::new(root).unwrap(), &DiscoveryOptions::default())
}

/// The names found, and the format of each store's database.
fn seen(root: &Path) -> (Vec<String>, Vec<Option<StateFormat>>) {
    let r = report(root);
    assert!(r.errors.is_empty(), "{:?}", r.errors);
    (
        r.containers.into_iter().map(|c| c.name).collect(),
        r.stores
            .iter()
            .map(|s| s.state_file.as_ref().map(|f| f.format))
            .collect(),
    )
}

/// Podman 5.8.3 (93dbfd0d86), `libpod/runtime_migrate.go`, `migrateDB`: after migrating,
/// `bolt_state.db` is renamed `bolt_state.db-old` and never used again. Podman commit
/// 13deb46d81 (5.8.1), `libpod/runtime.go`, `getDBState`: an existing `db.sql` wins over
/// `bolt_state.db` when `database_backend` is unset, and `"boltdb"` picks
/// `bolt_state.db` whatever else exists. Podman 6.0.0-rc1 (d0c9bb1b49), same function:
/// only SQLite (a `bolt_state.db` makes podman refuse to run until migrated, so when it is
/// alone it is still the only record of the containers).
#[test]
fn which_database_a_store_uses() {
    let tmp = tempfile::tempdir().unwrap();
    let (host, old) = (tmp.path().join("host"), tmp.path().join("old"));
    HostBuilder::new()
        .store(
            StoreSpec::root()
                .backend(Backend::Bolt)
                .container(ContainerSpec::new("lpstest-before-migration")),
        )
        .build(&old)
        .unwrap();
    HostBuilder::new()
        .store(
            StoreSpec::root()
                .backend(Backend::Sqlite)
                .container(ContainerSpec::new("lpstest-migrated")),
        )
        .build(&host)
        .unwrap();
    let rel = |p: &str| format!("{}{p}", GRAPH.trim_start_matches('/'));
    let bolt = std::fs::read(old.join(rel("/libpod/bolt_state.db"))).unwrap();
    let libpod = host.join(rel("/libpod"));
    std::fs::create_dir_all(&libpod).unwrap();

    // After migration: the old file beside db.sql is never read.
    std::fs::write(libpod.join("bolt_state.db-old"), &bolt).unwrap();
    let sqlite_only = (
        vec!["lpstest-migrated".to_string()],
        vec![Some(StateFormat::Sqlite)],
    );
    assert_eq!(seen(&host), sqlite_only);

    // An interrupted migration leaves both: db.sql wins.
    std::fs::rename(
        libpod.join("bolt_state.db-old"),
        libpod.join("bolt_state.db"),
    )
    .unwrap();
    assert_eq!(seen(&host), sqlite_only);

    // `database_backend = "boltdb"` (a drop-in) picks the BoltDB file.
    let dropin = host.join("etc/containers/containers.conf.d/50-db.conf");
    std::fs::create_dir_all(dropin.parent().unwrap()).unwrap();
    std::fs::write(&dropin, "[engine]\ndatabase_backend = \"boltdb\"\n").unwrap();
    let r = report(&host);
    assert_eq!(r.stores[0].store.db_backend, DbBackend::Boltdb);
    assert_eq!(
        r.containers
            .iter()
            .map(|c| (c.name.as_str(), c.source))
            .collect::<Vec<_>>(),
        [("lpstest-before-migration", Source::Bolt)]
    );
    std::fs::remove_file(&dropin).unwrap();

    // A lone bolt_state.db (podman 5 before migrating) is still read.
    std::fs::remove_file(host.join(rel("/db.sql"))).unwrap();
    assert_eq!(
        seen(&host),
        (
            vec!["lpstest-before-migration".to_string()],
            vec![Some(StateFormat::Bolt)]
        )
    );
}

/// Podman 6.0.0-rc1 (d0c9bb1b49), `vendor/go.podman.io/storage/pkg/configfile/parse.go`,
/// `getDropInPathsUnderMain`: `storage.rootful.conf.d` for root and
/// `storage.rootless.conf.d/<uid>/` for one user; `vendor/go.podman.io/storage/types/
/// options.go`, `LoadStoreOptions`: `$UID` expanded, and a rootless user's `graphroot` may
/// come from a system drop-in. Stores placed only by drop-ins are found, and a capture of
/// the host (redacted) replays to the same discovery: the drop-ins are taken along with
/// the keys discovery reads.
#[test]
fn stores_placed_by_dropins_survive_a_capture() {
    let tmp = tempfile::tempdir().unwrap();
    let (host, out) = (tmp.path().join("host"), tmp.path().join("capture"));
    HostBuilder::new()
        .store(
            StoreSpec::root()
                .graph_root("/srv/root-store")
                .backend(Backend::Sqlite)
                .container(ContainerSpec::new("lpstest-rootful")),
        )
        .store(
            StoreSpec::rootless("alice", 1000)
                .graph_root("/srv/users/1000")
                .backend(Backend::Sqlite)
                .container(ContainerSpec::new("lpstest-alices")),
        )
        .remove("/etc/containers/storage.conf")
        .file(
            "/etc/containers/storage.rootful.conf.d/50-root.conf",
            "[storage]\ngraphroot = \"/srv/root-store\"\ndriver = \"overlay\"\n",
        )
        .file(
            "/etc/containers/storage.rootless.conf.d/1000/50-alice.conf",
            "[storage]\ngraphroot = \"/srv/users/$UID\"\n",
        )
        .file(
            "/usr/share/containers/containers.conf.d/90-db.conf",
            "[engine]\ndatabase_backend = \"sqlite\"\n",
        )
        .build(&host)
        .unwrap();
    let before = report(&host);
    assert!(before.errors.is_empty(), "{:?}", before.errors);
    let stores: Vec<(&str, u32, DbBackend)> = before
        .stores
        .iter()
        .map(|s| {
            (
                s.store.graph_root.to_str().unwrap(),
                s.store.uid.unwrap(),
                s.store.db_backend,
            )
        })
        .collect();
    assert_eq!(
        stores,
        [
            ("/srv/root-store", 0, DbBackend::Sqlite),
            ("/srv/users/1000", 1000, DbBackend::Sqlite)
        ]
    );
    let names: Vec<&str> = before.containers.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(names, ["lpstest-alices", "lpstest-rootful"]);

    capture_snapshot(
        &HostRoot::new(&host).unwrap(),
        &out,
        &CaptureOptions::default(),
    )
    .unwrap();
    let after = report(&out);
    assert!(after.errors.is_empty(), "{:?}", after.errors);
    assert_eq!(after.stores, before.stores);
    let key = |r: &DiscoveryReport| {
        r.containers
            .iter()
            .map(|c| (c.id.clone(), c.name.clone(), c.state, c.cgroup.clone()))
            .collect::<Vec<_>>()
    };
    assert_eq!(key(&after), key(&before));
}
