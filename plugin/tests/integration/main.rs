//! The collectd plugin's integration tests, one binary: goldens of the dispatched value
//! lists, real collectd daemons loading the plugin (`support`), the Debian package and the
//! podman 5 VM guests; one module per area.

mod support;

mod collectd_daemon;
mod collectd_live;
mod collectd_network;
mod collectd_podman;
mod collectd_prometheus;
mod collectd_replay;
mod collectd_rss;
mod deb_package;
mod dispatch_golden;
mod e2e_podman;
mod fault_collectd;
mod podman5_snapshot;
mod vm_podman5;
