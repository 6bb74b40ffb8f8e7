//! Shared helpers for the integration tests. Each test binary that needs them declares
//! `mod support;`; not every binary uses every helper, hence the `dead_code` allowance.
#![allow(dead_code)]

pub mod podman;
pub mod skip;

use std::process::Command;

use podman::PodmanHarness;

/// `libpod-stats --no-rootless --store <graphroot> ARGS` over the harness's store, its
/// stdout as JSON; panics with the command's stderr when it fails.
pub fn libpod_stats(h: &PodmanHarness, args: &[&str]) -> serde_json::Value {
    let out = Command::new(env!("CARGO_BIN_EXE_libpod-stats"))
        .arg("--no-rootless")
        .arg("--store")
        .arg(h.graphroot())
        .args(args)
        .output()
        .expect("running libpod-stats");
    assert!(
        out.status.success(),
        "libpod-stats {args:?} failed ({}): {}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "libpod-stats {args:?} printed no JSON ({e}):\n{}",
            String::from_utf8_lossy(&out.stdout)
        )
    })
}
