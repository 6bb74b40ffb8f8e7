//! How much memory the plugin adds to collectd with 1000 containers: the resident set of a
//! real collectd running the plugin over a synthesized 1000-container host (`HostRoot`),
//! against the same collectd with only its logfile and csv plugins. The numbers are printed
//! (`BENCHMARKS.md` records them; issue 7 asks for less than 10 MiB more); the test itself
//! only checks that every container was read.
//!
//! Run: `cargo test -p libpodstats-plugin --test collectd_rss -- --nocapture`. The
//! write-plugin-less pair loads `$LPSTEST_RSS_SO` instead of the debug build when set (e.g.
//! `target/release/libpodstats.so` after `cargo build -p libpodstats-plugin --release`).

mod support;

use std::time::Duration;

use libpod_stats::testing::{ContainerSpec, HostBuilder};
use support::{collectd_available, plugin_so, Daemon, COLLECTD_PLUGINS, HOST};

const N: usize = 1000;

/// The pid of the collectd running `d`'s config (found by its command line).
fn pid_of(d: &Daemon) -> Option<String> {
    let conf = d.conf();
    let conf = conf.to_string_lossy();
    std::fs::read_dir("/proc").ok()?.flatten().find_map(|e| {
        let name = e.file_name().into_string().ok()?;
        let cmdline = std::fs::read(e.path().join("cmdline")).ok()?;
        let cmdline = String::from_utf8_lossy(&cmdline).replace('\0', " ");
        (cmdline.starts_with("collectd") && cmdline.contains(conf.as_ref())).then_some(name)
    })
}

/// A status field of collectd (`VmRSS`, `VmHWM`), in KiB.
fn status_kib(d: &Daemon, field: &str) -> Option<u64> {
    let pid = pid_of(d)?;
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find(|l| l.starts_with(field))?
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()
}

/// Starts `d`, waits until `ready`, lets it run a few more intervals, and returns its
/// resident and peak resident sizes (KiB).
fn measure(mut d: Daemon, ready: impl Fn(&Daemon) -> bool) -> (u64, u64) {
    d.start();
    assert!(
        d.wait_for(Duration::from_secs(120), |d| ready(d)),
        "collectd never got ready:\n{}",
        d.log()
    );
    std::thread::sleep(Duration::from_secs(4));
    let rss = status_kib(&d, "VmRSS:").expect("VmRSS");
    let hwm = status_kib(&d, "VmHWM:").expect("VmHWM");
    d.stop();
    (rss, hwm)
}

#[test]
fn resident_memory_with_1000_containers() {
    if !collectd_available() {
        return;
    }
    let snap = tempfile::Builder::new()
        .prefix("lpstest-rss-")
        .tempdir_in("/dev/shm")
        .or_else(|_| tempfile::tempdir())
        .unwrap();
    let mut host = HostBuilder::new();
    for i in 0..N {
        host = host.container(ContainerSpec::new(&format!("lpstest-rss-{i:04}")));
    }
    host.build(snap.path()).unwrap();

    let base = Daemon::with_config(HOST, "");
    let (base_rss, base_hwm) = measure(base, |d| d.log().contains("entering read-loop"));

    let block = format!(
        "  HostRoot \"{}\"\n  RootlessStores false",
        snap.path().display()
    );
    let with = Daemon::new(Some(&block));
    let (rss, hwm) = measure(with, |d| {
        d.csv_dirs()
            .iter()
            .filter(|n| n.starts_with("libpodstats-lpstest-rss-"))
            .count()
            >= N
    });
    // The same without a write plugin: what the plugin itself and collectd's value cache
    // hold, without the csv writer's queue (1000 containers write ~15000 files a second).
    let bare = |with_plugin: bool| {
        let root = snap.path().display().to_string();
        Daemon::from_conf(HOST, |dir| {
            let plugins = dir.join("plugins");
            std::fs::create_dir(&plugins).unwrap();
            let so = std::env::var_os("LPSTEST_RSS_SO")
                .map(std::path::PathBuf::from)
                .unwrap_or_else(plugin_so);
            std::fs::copy(so, plugins.join("libpodstats.so")).unwrap();
            std::fs::copy(
                std::path::Path::new(COLLECTD_PLUGINS).join("logfile.so"),
                plugins.join("logfile.so"),
            )
            .unwrap();
            let d = dir.display();
            let plugin = if with_plugin {
                format!(
                    "TypesDB \"{}\"\nLoadPlugin libpodstats\n<Plugin libpodstats>\n                       HostRoot \"{root}\"\n  RootlessStores false\n</Plugin>\n",
                    support::plugin_types_db().display()
                )
            } else {
                String::new()
            };
            format!(
                "Hostname \"{HOST}\"\nFQDNLookup false\nBaseDir \"{d}\"\nPluginDir \"{d}/plugins\"\n\
                 TypesDB \"{}\"\nInterval 1\nLoadPlugin logfile\n<Plugin logfile>\n  LogLevel info\n  \
                 File \"{d}/collectd.log\"\n</Plugin>\n{plugin}",
                support::STOCK_TYPES_DB
            )
        })
    };
    let (bare_base, _) = measure(bare(false), |d| d.log().contains("entering read-loop"));
    let (bare_rss, bare_hwm) = measure(bare(true), |d| d.log().contains("entering read-loop"));
    eprintln!(
        "collectd RSS without a write plugin: {bare_base} KiB alone, {bare_rss} KiB (peak \
         {bare_hwm}) with the plugin over {N} containers: the plugin adds {} KiB ({:.2} MiB)",
        bare_rss.saturating_sub(bare_base),
        bare_rss.saturating_sub(bare_base) as f64 / 1024.0
    );
    eprintln!(
        "collectd RSS: without the plugin {base_rss} KiB (peak {base_hwm}), with the plugin \
         over {N} containers {rss} KiB (peak {hwm}); the plugin adds {} KiB ({:.2} MiB), \
         peak {} KiB",
        rss.saturating_sub(base_rss),
        rss.saturating_sub(base_rss) as f64 / 1024.0,
        hwm.saturating_sub(base_hwm)
    );
}
