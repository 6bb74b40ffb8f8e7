//! The command's integration tests, one binary: end-to-end runs of `libpod-stats` (its
//! path from cargo, `support::cli`), the goldens over every fixture, redaction and the
//! tests against real podman; one module per area.

mod support;

mod capture_redaction;
mod capture_stores;
mod e2e_cli;
mod filter_cli;
mod fixtures_discovery;
mod live_capture;
mod podman_health;
mod podman_pod_cgroup;
mod podman_ps;
mod podman_redaction;
mod podman_rootless;
mod podman_stats;
mod podman_throttle_oom;
mod ps_cli;
mod redaction_allow_list;
mod stats_golden;
