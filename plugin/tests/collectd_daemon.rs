//! The plugin inside the real collectd (Debian's 5.12): loading, configuration errors,
//! replayed and live values in the CSV files.

mod support;

use std::time::Duration;

use support::{collectd_available, Daemon};

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
