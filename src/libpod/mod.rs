//! Container discovery from what podman itself records.

pub mod model;
pub mod raw;

pub use model::{Container, ContainerState, Source};
