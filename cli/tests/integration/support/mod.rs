//! Shared helpers for the integration tests. Each test binary that needs them declares
//! `mod support;`; not every binary uses every helper, hence the `dead_code` allowance.
#![allow(dead_code)]

pub mod cli;
use libpod_stats_test_support::podman;

use podman::PodmanHarness;

/// `libpod-stats --no-rootless --store <graphroot>` over the harness's store only, to add
/// arguments to.
pub fn cli_over(h: &PodmanHarness) -> std::process::Command {
    let mut cmd = cli::cli();
    cmd.arg("--no-rootless").arg("--store").arg(h.graphroot());
    cmd
}

/// `libpod-stats --no-rootless --store <graphroot> ARGS` over the harness's store, its
/// stdout as JSON; panics with the command's stderr when it fails.
pub fn libpod_stats(h: &PodmanHarness, args: &[&str]) -> serde_json::Value {
    let out = cli::stdout_of(cli_over(h).args(args));
    serde_json::from_slice(&out).unwrap_or_else(|e| {
        panic!(
            "libpod-stats {args:?} printed no JSON ({e}):\n{}",
            String::from_utf8_lossy(&out)
        )
    })
}
