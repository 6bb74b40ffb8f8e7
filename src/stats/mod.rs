//! Per-container samples: the numbers `podman stats` shows, and more.

pub mod sample;

pub use sample::Sample;
