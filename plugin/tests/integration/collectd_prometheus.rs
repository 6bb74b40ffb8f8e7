//! Prometheus through collectd's own `write_prometheus`: collectd runs libpodstats replaying
//! the bundled series and serves `/metrics`; the page must carry the plugin's values under
//! the names the README documents.

use crate::support;

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::time::{Duration, Instant};

use support::{collectd_available, skip_or_fail, Daemon, COLLECTD_PLUGINS, HOST};

/// A TCP port on 127.0.0.1 that was free a moment ago.
fn free_tcp_port() -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").expect("binding a TCP port");
    l.local_addr().expect("local addr").port()
}

/// `GET /metrics`, the body (empty when the server is not up yet).
fn scrape(port: u16) -> String {
    let Ok(mut s) = TcpStream::connect(("127.0.0.1", port)) else {
        return String::new();
    };
    let _ = s.set_read_timeout(Some(Duration::from_secs(2)));
    let req = "GET /metrics HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n";
    if s.write_all(req.as_bytes()).is_err() {
        return String::new();
    }
    let mut body = String::new();
    let _ = s.read_to_string(&mut body);
    body
}

/// True when collectd's write_prometheus plugin can be loaded (its libraries are installed).
fn write_prometheus_usable() -> bool {
    let so = Path::new(COLLECTD_PLUGINS).join("write_prometheus.so");
    let ok = so.exists()
        && std::process::Command::new("ldd")
            .arg(&so)
            .output()
            .map(|o| {
                o.status.success() && !String::from_utf8_lossy(&o.stdout).contains("not found")
            })
            .unwrap_or(false);
    if !ok {
        skip_or_fail(
            "write_prometheus.so or its libraries are missing: run scripts/install-deps.sh",
        );
    }
    ok
}

#[test]
fn write_prometheus_serves_the_plugin_values() {
    if !collectd_available() || !write_prometheus_usable() {
        return;
    }
    let plugins = Path::new(COLLECTD_PLUGINS);
    let series = Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures/cgroupv1/series-podman");
    let port = free_tcp_port();
    let mut d = Daemon::new(Some(&format!("  Replay \"{}\"", series.display())));
    std::fs::copy(
        plugins.join("write_prometheus.so"),
        d.dir.path().join("plugins/write_prometheus.so"),
    )
    .unwrap();
    let conf = std::fs::read_to_string(d.conf()).unwrap();
    std::fs::write(
        d.conf(),
        format!("{conf}\nLoadPlugin write_prometheus\n<Plugin write_prometheus>\n  Port \"{port}\"\n</Plugin>\n"),
    )
    .unwrap();
    d.start();

    // The last step's values; collectd drops them from /metrics two intervals after the end,
    // so look while the replay runs.
    let want = [
        format!("collectd_libpodstats_pod_cpu_time_total{{libpodstats=\"lpstest-burner\",instance=\"{HOST}\"}} 2350559100"),
        format!("collectd_libpodstats_pod_cpu_split_user_total{{libpodstats=\"lpstest-burner\",instance=\"{HOST}\"}} 2697998492"),
        format!("collectd_libpodstats_pod_memory{{libpodstats=\"lpstest-idle\",instance=\"{HOST}\"}} 339968"),
        format!("collectd_libpodstats_pod_memory_detail_limit{{libpodstats=\"lpstest-burner\",instance=\"{HOST}\"}} 25276514304"),
    ];
    let start = Instant::now();
    let mut page = String::new();
    while start.elapsed() < Duration::from_secs(30) {
        page = scrape(port);
        if want.iter().all(|w| page.contains(w.as_str())) {
            break;
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    d.stop();
    for w in &want {
        assert!(
            page.contains(w.as_str()),
            "missing {w}\n{page}\n{}",
            d.log()
        );
    }
    assert!(
        page.contains("collectd_libpodstats_pod_cpu_percent{libpodstats=\"lpstest-burner\""),
        "{page}"
    );
}
