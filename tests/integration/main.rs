//! The core library's integration tests, one binary (ripgrep's layout): one module per area,
//! each a former `tests/<name>.rs`. The allocation-counting tests (`tests/alloc_cycle.rs`,
//! `tests/no_alloc.rs`) stay binaries of their own: they install a counting global
//! allocator. A test that changes process-wide state (umask, user) does it in a child
//! process (`libpod_stats_test_support::child`).

mod bolt_corrupt;
mod bolt_fixtures;
mod bolt_podman;
mod cgroup_reader;
mod collector;
mod collector_hostbuilder;
mod discover;
mod discover_builder;
mod discover_podman6;
mod downstream_insta;
mod fault_bolt_rewrite;
mod fault_cgroup;
mod fault_collector;
mod fault_discovery;
mod fuzz_regressions;
mod golden_cgroup;
mod live_cgroup;
mod parse_proptest;
mod podman_fixture_numbers;
mod podman_harness;
mod security_capture;
mod security_paths;
mod security_state_readonly;
mod sqlite_fixture;
