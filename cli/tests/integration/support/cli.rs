//! Running the `libpod-stats` binary under test to its end.
//!
//! `support/mod.rs` declares it; binaries that need only this include it with
//! `#[path = "support/cli.rs"] mod cli;`.
#![allow(dead_code)]

use std::process::Command;

/// `libpod-stats`, to add arguments to.
pub fn cli() -> Command {
    Command::new(env!("CARGO_BIN_EXE_libpod-stats"))
}

/// Runs `cmd`: its stdout, or a panic with the command and its stderr when it fails.
pub fn stdout_of(cmd: &mut Command) -> Vec<u8> {
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("running {cmd:?}: {e}"));
    assert!(
        out.status.success(),
        "{cmd:?} failed ({}): {}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}
