//! This workspace's own test and bench harnesses, shared by the integration tests and benches
//! of every crate here (`publish = false`: nothing in it is API).
//!
//! - [`podman`]: real podman on storage of its own, one test at a time across binaries.
//! - [`skip`]: a missing component (podman, collectd, a writable cgroupfs) fails under
//!   `CI=true` and is a note elsewhere.
//! - [`files`]: copying and listing file trees.
//! - [`fuzz_entries`]: the fuzz targets' entry points, replayed by the regression tests.
//! - [`health`]: health checks and podman's health log on synthesized hosts.
//! - [`counting_alloc`]: the per-thread counting allocator of the allocation tests (each such
//!   binary installs it itself).
//! - [`live`]: real cgroups read through a synthesized host, for the cycle bench and tests.
//! - [`bench`](mod@bench): criterion settings and the ratio tables every bench prints.

#[cfg(feature = "bench")]
pub mod bench;
pub mod counting_alloc;
pub mod files;
pub mod fuzz_entries;
pub mod health;
pub mod live;
pub mod podman;
pub mod skip;

use std::path::{Path, PathBuf};

/// The workspace's root directory (where `fixtures/`, `plugin/` and `scripts/` are), whichever
/// crate's test asks.
pub fn workspace_root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("test-support sits in the workspace root")
}

/// `fixtures/<rel>` of the workspace.
pub fn fixture(rel: &str) -> PathBuf {
    workspace_root().join("fixtures").join(rel)
}

/// A test's path as the test harness names it (`--exact`), from its module's
/// `module_path!()` and its function name: the crate name dropped, so a test module moved
/// between binaries keeps working.
pub fn test_path(module_path: &str, test: &str) -> String {
    match module_path.split_once("::") {
        Some((_, module)) => format!("{module}::{test}"),
        None => test.to_string(),
    }
}

/// The running test binary, set to run only the test `test` of module `module_path` (its
/// `module_path!()`), alone and with its output: for a test whose work changes process-wide
/// state (umask, user), done in a child so that no test running beside it sees the change.
pub fn child_test(module_path: &str, test: &str) -> std::process::Command {
    let exe = std::env::current_exe().expect("the test binary's path");
    let mut cmd = std::process::Command::new(exe);
    cmd.args(["--exact", &test_path(module_path, test)])
        .args(["--nocapture", "--test-threads=1"]);
    cmd
}
