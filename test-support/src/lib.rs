//! This workspace's own test and bench harnesses, shared by the integration tests and benches
//! of every crate here (`publish = false`: nothing in it is API).
//!
//! - [`podman`]: real podman on storage of its own, one test at a time across binaries.
//! - [`skip`]: a missing component (podman, collectd, a writable cgroupfs) fails under
//!   `CI=true` and is a note elsewhere.
//! - [`files`]: copying and listing file trees.
//! - [`health`]: health checks and podman's health log on synthesized hosts.
//! - [`counting_alloc`]: the per-thread counting allocator of the allocation tests (each such
//!   binary installs it itself).
//! - [`live`]: real cgroups read through a synthesized host, for the cycle bench and tests.
//! - [`bench`](mod@bench): criterion settings and the ratio tables every bench prints.

pub mod bench;
pub mod counting_alloc;
pub mod files;
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
