//! The plugin inside the real collectd (Debian's 5.12): loading, configuration errors,
//! replayed and live values in the CSV files.

use crate::support;

use std::time::Duration;

use support::{collectd_available, epoch_now, Daemon};

#[test]
fn a_bad_option_is_logged_and_collectd_refuses_to_start() {
    if !collectd_available() {
        return;
    }
    for (block, needle) in [
        ("  Bogus \"x\"", "unknown option `Bogus`"),
        (
            "  CpuPercent \"fast\"",
            "option `CpuPercent`: \"fast\" is not one of",
        ),
        (
            "  Include \"(\"",
            "option `Include`: bad regular expression",
        ),
        (
            "  Replay \"/nonexistent/lpstest-series\"",
            "option `Replay`",
        ),
        ("  Pods 1", "option `Pods`: expected true or false"),
    ] {
        let mut d = Daemon::new(Some(block));
        d.start();
        let status = d
            .exit_within(Duration::from_secs(20))
            .expect("collectd kept running with a bad option");
        assert!(!status.success(), "collectd exited 0 with {block:?}");
        let log = d.log();
        assert!(
            log.contains(needle),
            "{block:?}: log lacks {needle:?}:\n{log}"
        );
        assert!(log.contains("libpodstats:"), "{log}");
    }
}

#[test]
fn collectd_loads_the_plugin_with_and_without_a_block() {
    if !collectd_available() {
        return;
    }
    for block in [None, Some("  Pods false\n  Metrics \"cpu\" \"memory\"")] {
        let d = Daemon::new(block);
        let out = std::process::Command::new("collectd")
            .arg("-T")
            .arg("-C")
            .arg(d.conf())
            .output()
            .expect("collectd -T");
        let log = d.log();
        assert!(out.status.success(), "collectd -T failed: {out:?}\n{log}");
        assert!(
            log.contains("plugin \"libpodstats\" successfully loaded"),
            "{log}"
        );
    }
}

#[test]
fn no_profile_aborts_on_panic() {
    // `panic = "abort"` would turn any panic into a SIGABRT of the whole collectd daemon.
    for manifest in ["../Cargo.toml", "Cargo.toml"] {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(manifest);
        let text = std::fs::read_to_string(&path).unwrap();
        let squeezed: String = text.chars().filter(|c| !c.is_whitespace()).collect();
        assert!(
            !squeezed.contains("panic=\"abort\""),
            "{} sets panic = \"abort\"",
            path.display()
        );
    }
}

/// Copies a bundled snapshot into a temp dir the test may change.
fn snapshot_copy(fixture: &str) -> tempfile::TempDir {
    let src = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../fixtures")
        .join(fixture);
    let dst = tempfile::Builder::new()
        .prefix("lpstest-snap-")
        .tempdir()
        .unwrap();
    let status = std::process::Command::new("cp")
        .arg("-a")
        .arg(format!("{}/.", src.display()))
        .arg(dst.path())
        .status()
        .unwrap();
    assert!(status.success(), "cp -a {}", src.display());
    dst
}

#[test]
fn an_unreadable_state_is_logged_once_per_error_and_gone_containers_stop() {
    if !collectd_available() {
        return;
    }
    let snap = snapshot_copy("cgroupv1/series-podman/000");
    let db = snap
        .path()
        .join("var/lib/containers/storage/libpod/bolt_state.db");
    std::fs::write(&db, vec![0x11u8; 8192]).unwrap();
    let block = format!(
        "  HostRoot \"{}\"\n  RootlessStores false",
        snap.path().display()
    );
    let mut d = Daemon::new(Some(&block));
    d.start();
    let idle = "libpodstats-lpstest-idle";
    assert!(
        d.wait_for(Duration::from_secs(20), |d| d.csv(idle, "pod_memory").len()
            >= 3),
        "containers not found through the storage fallback:\n{}",
        d.log()
    );
    // Another corruption: another message, logged once more.
    std::fs::write(&db, vec![0x22u8; 8192]).unwrap();
    assert!(
        d.wait_for(Duration::from_secs(20), |d| d.log().contains("0x22222222")),
        "the second corruption was not logged:\n{}",
        d.log()
    );
    // The idle container goes away: no value of it may be written after the next interval.
    for ctrl in [
        "cpu", "cpuacct", "memory", "pids", "blkio", "unified", "systemd",
    ] {
        let dir = snap.path().join(format!(
            "sys/fs/cgroup/{ctrl}/libpod_parent/libpod-7904ca06230c5bbbadb9d290c62e512f2f50fb42f033101e024da6c8172bed5c"
        ));
        let _ = std::fs::remove_dir_all(dir);
    }
    let removed_at = epoch_now();
    // Wait for two more intervals of the other container.
    let burner_dir = "libpodstats-lpstest-burner";
    assert!(
        d.wait_for(Duration::from_secs(20), |d| {
            d.csv(burner_dir, "pod_memory")
                .iter()
                .filter(|(t, _)| *t > removed_at + 1.5)
                .count()
                >= 2
        }),
        "the other container stopped too:\n{}",
        d.log()
    );
    d.stop();
    let log = d.log();
    let lines: Vec<&str> = log
        .lines()
        .filter(|l| l.contains("libpodstats:") && l.contains("corrupt BoltDB"))
        .collect();
    assert_eq!(lines.len(), 2, "{log}");
    assert!(lines[0].contains("0x11111111"), "{lines:?}");
    assert!(lines[1].contains("0x22222222"), "{lines:?}");
    let late: Vec<f64> = d
        .csv(idle, "pod_memory")
        .into_iter()
        .map(|(t, _)| t)
        .filter(|t| *t > removed_at + 1.5)
        .collect();
    assert!(
        late.is_empty(),
        "stale values of a gone container: {late:?}"
    );
    let burner = d.csv(burner_dir, "pod_memory");
    assert!(
        burner.iter().any(|(t, _)| *t > removed_at + 1.5),
        "the other container must go on: {burner:?}"
    );
}
