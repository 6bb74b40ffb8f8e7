//! Scale-out through collectd itself: a node daemon runs libpodstats (replaying the bundled
//! podman series) and sends with collectd's `network` plugin to a central daemon on loopback,
//! which only receives and writes CSV. The central CSV must hold exactly the node's values,
//! under the node's host name.

use crate::support;

use std::net::UdpSocket;
use std::path::Path;
use std::time::Duration;

use support::{collectd_available, skip_or_fail, Daemon, COLLECTD_PLUGINS};

const NODE: &str = "lpstest-node";
const CENTRAL: &str = "lpstest-central";

/// A UDP port on 127.0.0.1 that was free a moment ago.
fn free_udp_port() -> u16 {
    let sock = UdpSocket::bind("127.0.0.1:0").expect("binding a UDP port");
    sock.local_addr().expect("local addr").port()
}

#[test]
fn a_central_collectd_receives_exactly_the_node_values() {
    if !collectd_available() {
        return;
    }
    if !Path::new(COLLECTD_PLUGINS).join("network.so").exists() {
        skip_or_fail("collectd's network plugin is missing");
        return;
    }
    let series = Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures/cgroupv1/series-podman");
    let port = free_udp_port();

    let mut central = Daemon::with_config(
        CENTRAL,
        &format!(
            "LoadPlugin network\n<Plugin network>\n  Listen \"127.0.0.1\" \"{port}\"\n</Plugin>\n"
        ),
    );
    central.start();
    assert!(
        central.wait_for(Duration::from_secs(10), |d| d
            .log()
            .contains("Initialization complete")),
        "central did not start:\n{}",
        central.log()
    );

    let mut node = Daemon::with_config(
        NODE,
        &format!(
            "<LoadPlugin network>\n  FlushInterval 1\n</LoadPlugin>\n<Plugin network>\n  Server \"127.0.0.1\" \"{port}\"\n</Plugin>\nLoadPlugin libpodstats\n<Plugin libpodstats>\n  Replay \"{}\"\n</Plugin>\n",
            series.display()
        ),
    );
    node.start();
    let ended = node.wait_for(Duration::from_secs(30), |d| {
        d.log().contains("last snapshot of the series was served")
    });
    std::thread::sleep(Duration::from_millis(1500));
    node.stop();
    assert!(ended, "node replay did not end:\n{}", node.log());
    let sent = node.all_series(NODE);
    assert!(!sent.is_empty(), "node wrote nothing:\n{}", node.log());
    let rows_sent: usize = sent.values().map(Vec::len).sum();

    // Wait until the central has as many rows as the node wrote (UDP on loopback, flushed on
    // the node's shutdown at the latest).
    central.wait_for(Duration::from_secs(15), |d| {
        d.all_series(NODE).values().map(Vec::len).sum::<usize>() >= rows_sent
    });
    central.stop();
    let received = central.all_series(NODE);
    assert_eq!(
        received.keys().collect::<Vec<_>>(),
        sent.keys().collect::<Vec<_>>(),
        "central log:\n{}",
        central.log()
    );
    for (key, rows) in &sent {
        assert_eq!(&received[key], rows, "{key}");
    }
    assert!(
        central.csv_dirs().is_empty(),
        "the central wrote values of its own: {:?}",
        central.csv_dirs()
    );
}
