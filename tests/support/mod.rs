//! Shared helpers for the integration tests. Each test binary that needs them declares
//! `mod support;`; not every binary uses every helper, hence the `dead_code` allowance.
#![allow(dead_code)]

pub mod podman;
