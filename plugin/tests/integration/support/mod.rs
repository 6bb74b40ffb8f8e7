//! Running the real collectd with the plugin: build the .so, write a config in a temp dir,
//! start the daemon, stop it, read what its csv plugin wrote.
//!
//! When collectd is missing the tests print a note and pass, except under `CI=true`, where
//! they fail: CI must run them for real.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The workspace's one rule for a missing component (fail under `CI=true`, else a note).
use libpod_stats_test_support::skip;
#[allow(unused_imports)]
pub use skip::{in_ci, skip_or_fail};

pub mod daemon_files;
// Each test binary uses its own subset, as with `dead_code` above.
#[allow(unused_imports)]
pub use daemon_files::{epoch_now, plugin_so, COLLECTD_PLUGINS, STOCK_TYPES_DB};

/// The host name every test daemon uses.
pub const HOST: &str = "lpstest-host";

/// True when collectd can be run; panics under `CI=true` when it cannot.
pub fn collectd_available() -> bool {
    match daemon_files::collectd_missing(&["csv"]) {
        None => true,
        Some(why) => {
            skip_or_fail(&why);
            false
        }
    }
}

/// The types.db the plugin ships.
pub fn plugin_types_db() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("types.db.libpodstats")
}

/// A temp dir with a plugin dir (our .so + csv, logfile, unixsock), a config and, once
/// started, a running daemon (stopped with SIGTERM on drop, also when a test fails).
pub struct Daemon {
    pub dir: tempfile::TempDir,
    /// The `Hostname` the daemon runs as (the first directory level of its CSV files).
    pub host: String,
    child: Option<Child>,
}

impl Daemon {
    /// Writes the config: global settings, logfile, csv, then `LoadPlugin libpodstats` with
    /// `plugin_block` (the body of `<Plugin libpodstats>`, or `None` for no block).
    pub fn new(plugin_block: Option<&str>) -> Daemon {
        let block = match plugin_block {
            Some(body) => format!("<Plugin libpodstats>\n{body}\n</Plugin>\n"),
            None => String::new(),
        };
        Daemon::with_config(HOST, &format!("LoadPlugin libpodstats\n{block}"))
    }

    /// Writes a config with global settings, logfile and csv for host `host`, then `body`
    /// (plugins to load and their blocks).
    pub fn with_config(host: &str, body: &str) -> Daemon {
        let dir = tempfile::Builder::new()
            .prefix("lpstest-collectd-")
            .tempdir()
            .expect("temp dir");
        daemon_files::plugin_dir(dir.path(), &["csv", "logfile", "unixsock", "network"]);
        let conf = daemon_files::base_conf(host, dir.path(), &plugin_types_db(), body);
        std::fs::write(dir.path().join("collectd.conf"), conf).unwrap();
        Daemon {
            dir,
            host: host.to_string(),
            child: None,
        }
    }

    /// A daemon whose whole config is `make(temp dir)` (nothing copied, collectd's own
    /// `PluginDir` unless the text sets one); `host` names its CSV directory.
    pub fn from_conf(host: &str, make: impl FnOnce(&Path) -> String) -> Daemon {
        let dir = tempfile::Builder::new()
            .prefix("lpstest-collectd-")
            .tempdir()
            .expect("temp dir");
        let conf = make(dir.path());
        std::fs::write(dir.path().join("collectd.conf"), conf).unwrap();
        Daemon {
            dir,
            host: host.to_string(),
            child: None,
        }
    }

    /// The config file.
    pub fn conf(&self) -> PathBuf {
        self.dir.path().join("collectd.conf")
    }

    /// collectd's log so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("collectd.log")).unwrap_or_default()
    }

    /// Starts `collectd -f`.
    pub fn start(&mut self) {
        let child = Command::new("collectd")
            .arg("-f")
            .arg("-C")
            .arg(self.conf())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("starting collectd");
        self.child = Some(child);
    }

    /// Waits until `done` holds (checked every 100 ms) or `timeout` passes; true if it held.
    pub fn wait_for(&mut self, timeout: Duration, mut done: impl FnMut(&Daemon) -> bool) -> bool {
        let start = Instant::now();
        while start.elapsed() < timeout {
            if done(self) {
                return true;
            }
            if let Some(child) = self.child.as_mut() {
                if let Ok(Some(_)) = child.try_wait() {
                    return done(self);
                }
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        done(self)
    }

    /// The exit status once collectd exits on its own within `timeout`, `None` if it is still
    /// running.
    pub fn exit_within(&mut self, timeout: Duration) -> Option<std::process::ExitStatus> {
        let child = self.child.as_mut()?;
        let start = Instant::now();
        while start.elapsed() < timeout {
            if let Ok(Some(status)) = child.try_wait() {
                return Some(status);
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        None
    }

    /// Stops collectd with SIGTERM (SIGKILL after 10 s) and waits for it.
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            daemon_files::stop(&mut child);
        }
    }

    /// The rows of one CSV series (`<plugin>[-<instance>]/<type>[-<type instance>]`), every
    /// day file concatenated: `(epoch, values as written)`.
    pub fn csv(&self, plugin_dir: &str, type_name: &str) -> Vec<(f64, Vec<String>)> {
        self.csv_of(&self.host, plugin_dir, type_name)
    }

    /// Like [`csv`](Self::csv) for values of another host (received over the network).
    pub fn csv_of(&self, host: &str, plugin_dir: &str, type_name: &str) -> Vec<(f64, Vec<String>)> {
        let dir = self.dir.path().join("csv").join(host).join(plugin_dir);
        let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
            .map(|rd| {
                rd.filter_map(|e| e.ok().map(|e| e.path()))
                    .filter(|p| {
                        p.file_name()
                            .and_then(|n| n.to_str())
                            .and_then(|n| n.strip_prefix(type_name))
                            .is_some_and(|rest| rest.starts_with("-20"))
                    })
                    .collect()
            })
            .unwrap_or_default();
        files.sort();
        let mut rows = Vec::new();
        for f in files {
            let text = std::fs::read_to_string(&f).unwrap_or_default();
            for line in text.lines().skip(1) {
                let mut cols = line.split(',');
                let Some(epoch) = cols.next().and_then(|e| e.parse::<f64>().ok()) else {
                    continue;
                };
                rows.push((epoch, cols.map(str::to_string).collect()));
            }
        }
        rows
    }

    /// Every series the csv plugin wrote for `host`: `<plugin>[-<instance>]/<type>[-<ti>]` ->
    /// rows `(epoch, values as written)`.
    pub fn all_series(&self, host: &str) -> BTreeMap<String, Vec<(f64, Vec<String>)>> {
        let mut out = BTreeMap::new();
        let host_dir = self.dir.path().join("csv").join(host);
        for dir in list_names(&host_dir) {
            let mut types: Vec<String> = list_names(&host_dir.join(&dir))
                .into_iter()
                // `<type>[-<type instance>]-YYYY-MM-DD`
                .filter_map(|n| n.get(..n.len().checked_sub(11)?).map(str::to_string))
                .collect();
            types.dedup();
            for t in types {
                let rows = self.csv_of(host, &dir, &t);
                out.insert(format!("{dir}/{t}"), rows);
            }
        }
        out
    }

    /// The `<plugin>[-<instance>]` directories the csv plugin created.
    pub fn csv_dirs(&self) -> Vec<String> {
        list_names(&self.dir.path().join("csv").join(&self.host))
    }
}

/// The entry names of a directory, sorted; empty when it cannot be read.
fn list_names(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .map(|rd| {
            rd.filter_map(|e| e.ok()?.file_name().into_string().ok())
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    names
}

impl Drop for Daemon {
    fn drop(&mut self) {
        self.stop();
    }
}

/// One dispatched value list as text: `plugin-instance/type[-type_instance]`, and its values
/// each rendered by `value` (the golden and the exec feeder write numbers differently).
pub fn render_dispatch(
    d: &podstats::reader::Dispatch<'_>,
    value: impl Fn(&collectd_plugin::Value) -> String,
) -> (String, Vec<String>) {
    let ti = d
        .list
        .type_instance
        .map(|t| format!("-{t}"))
        .unwrap_or_default();
    let ident = format!("{}-{}/{}{ti}", d.plugin, d.plugin_instance, d.list.type_);
    (ident, d.list.values.iter().map(value).collect())
}
