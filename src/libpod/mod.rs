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

pub mod bolt;
pub mod bolt_state;
pub mod cgroup_path;
pub mod config_files;
pub mod config_keys;
pub mod discover;
pub mod filter;
pub mod health;
pub mod id;
pub mod interpret;
pub mod model;
pub mod raw;
pub mod sqlite;
pub mod state_error;
pub mod storage;
pub mod stores;
pub mod users;

pub use id::{ContainerId, InvalidId};
pub use model::{Container, ContainerState, Source};
pub use state_error::StateError;
