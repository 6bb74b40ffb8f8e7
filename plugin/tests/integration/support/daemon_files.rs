//! What a test collectd needs before it starts: the plugin built, a plugin dir, the common
//! part of its config; and how it is stopped.
//!
//! `support/mod.rs` builds its `Daemon` on it; `fault_collectd` runs its own daemon with
//! stock plugins beside ours from these parts.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// Where Debian's collectd keeps its plugins.
pub const COLLECTD_PLUGINS: &str = "/usr/lib/collectd";
/// collectd's own types.
pub const STOCK_TYPES_DB: &str = "/usr/share/collectd/types.db";

/// Why collectd cannot run here with the stock `plugins`, `None` when it can.
pub fn collectd_missing(plugins: &[&str]) -> Option<String> {
    let runs = Command::new("collectd")
        .arg("-h")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok();
    let missing: Vec<&str> = plugins
        .iter()
        .copied()
        .filter(|p| !Path::new(COLLECTD_PLUGINS).join(format!("{p}.so")).exists())
        .collect();
    if runs && missing.is_empty() {
        return None;
    }
    Some(format!(
        "collectd (collectd-core) is not installed{}: run scripts/install-deps.sh",
        if runs {
            format!(" (no {})", missing.join(", "))
        } else {
            String::new()
        }
    ))
}

/// The freshly built `libpodstats.so` (built once per test process, debug profile).
pub fn plugin_so() -> PathBuf {
    static SO: OnceLock<PathBuf> = OnceLock::new();
    SO.get_or_init(|| {
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_string());
        let status = Command::new(cargo)
            .args(["build", "-p", "libpodstats-plugin"])
            .status()
            .expect("running cargo build");
        assert!(status.success(), "cargo build -p libpodstats-plugin failed");
        // The test binary is target/debug/deps/<name>: the .so is in target/debug.
        let exe = std::env::current_exe().expect("current exe");
        let profile_dir = exe
            .parent()
            .and_then(Path::parent)
            .expect("target/debug")
            .to_path_buf();
        let so = profile_dir.join("libpodstats.so");
        assert!(so.exists(), "{} not built", so.display());
        so
    })
    .clone()
}

/// Makes `dir/plugins` with our .so and those of collectd's `stock` plugins that are
/// installed, so the daemon loads exactly this build.
pub fn plugin_dir(dir: &Path, stock: &[&str]) {
    let plugins = dir.join("plugins");
    std::fs::create_dir(&plugins).unwrap();
    std::fs::copy(plugin_so(), plugins.join("libpodstats.so")).unwrap();
    for p in stock {
        let src = Path::new(COLLECTD_PLUGINS).join(format!("{p}.so"));
        if src.exists() {
            std::fs::copy(&src, plugins.join(format!("{p}.so"))).unwrap();
        }
    }
}

/// The config of a daemon living in `dir` as `host`: its files and [`plugin_dir`] there, both
/// types.db (collectd's and `types_db`), a 1 s interval, logfile and csv; then `body`.
pub fn base_conf(host: &str, dir: &Path, types_db: &Path, body: &str) -> String {
    let d = dir.display();
    format!(
        r#"Hostname "{host}"
FQDNLookup false
BaseDir "{d}"
PIDFile "{d}/collectd.pid"
PluginDir "{d}/plugins"
TypesDB "{STOCK_TYPES_DB}" "{types}"
Interval 1
LoadPlugin logfile
<Plugin logfile>
  LogLevel info
  File "{d}/collectd.log"
  Timestamp true
</Plugin>
LoadPlugin csv
<Plugin csv>
  DataDir "{d}/csv"
  StoreRates false
</Plugin>
{body}"#,
        types = types_db.display(),
    )
}

/// Seconds since the epoch, the clock collectd's CSV rows are stamped with.
pub fn epoch_now() -> f64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs_f64())
        .unwrap_or(0.0)
}

/// Stops a daemon with SIGTERM (SIGKILL after 10 s) and reaps it.
pub fn stop(child: &mut Child) {
    if let Ok(None) = child.try_wait() {
        // SAFETY: kill(2) on the pid of our own child, which has not been reaped yet.
        unsafe {
            libc::kill(child.id() as libc::pid_t, libc::SIGTERM);
        }
        let start = Instant::now();
        while start.elapsed() < Duration::from_secs(10) {
            if let Ok(Some(_)) = child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = child.kill();
    }
    let _ = child.wait();
}
