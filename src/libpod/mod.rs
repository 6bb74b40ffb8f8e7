//! Container discovery from what podman itself records.

pub mod model;

pub use model::{Container, ContainerState, Source};
