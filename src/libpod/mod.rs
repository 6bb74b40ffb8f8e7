//! Container discovery from what podman itself records.
//!
//! - [`stores`] finds the container stores of a host (root, rootless, explicit), from the
//!   configuration files [`config_files`] names (their keys: [`config_keys`]) and the
//!   [`users`] of `/etc/passwd`.
//! - [`sqlite`] (and the BoltDB reader) read a store's libpod database into a
//!   [`raw::RawState`]; [`interpret`] gives its JSON a meaning.
//! - [`storage`] reads containers/storage's `containers.json` when there is no database.
//! - [`cgroup_path`] finds each container's real cgroup and whether it really runs.
//! - [`discover`] puts it together, one store at a time.
//! - [`filter`] selects containers as podman's `--filter` does.
//! - [`health`] reads a container's health check status from podman's health log.
//! - [`state_file`] writes a database as podman does (synthetic hosts, tests).

#[cfg_attr(not(feature = "internals"), allow(unreachable_pub, dead_code))]
pub mod bolt;
#[cfg_attr(not(feature = "internals"), allow(unreachable_pub, dead_code))]
pub mod bolt_state;
#[cfg_attr(not(feature = "internals"), allow(unreachable_pub, dead_code))]
pub mod cgroup_path;
pub(crate) mod config_files;
#[cfg_attr(not(feature = "internals"), allow(unreachable_pub, dead_code))]
pub mod config_keys;
#[cfg_attr(not(feature = "internals"), allow(unreachable_pub, dead_code))]
pub mod discover;
pub(crate) mod filter;
#[cfg_attr(not(feature = "internals"), allow(unreachable_pub, dead_code))]
pub mod health;
pub(crate) mod id;
#[cfg_attr(not(feature = "internals"), allow(unreachable_pub, dead_code))]
pub mod interpret;
pub(crate) mod model;
pub(crate) mod raw;
#[cfg_attr(not(feature = "internals"), allow(unreachable_pub, dead_code))]
pub mod sqlite;
pub(crate) mod state_error;
pub(crate) mod state_file;
#[cfg_attr(not(feature = "internals"), allow(unreachable_pub, dead_code))]
pub mod storage;
#[cfg_attr(not(feature = "internals"), allow(unreachable_pub, dead_code))]
pub mod stores;
pub(crate) mod users;

pub use id::{ContainerId, InvalidId};
pub use model::{Container, ContainerState, Source};
pub use state_error::StateError;
