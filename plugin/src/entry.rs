//! collectd's entry points: configuration, the read callback, logging and panics.
//!
//! The `collectd-plugin` crate supplies `module_register` and the C callbacks; this module
//! supplies what they call. Every read runs inside `catch_unwind`, so a bug in the library can
//! cost one interval but never unwinds into collectd (and the release profile never sets
//! `panic = "abort"`, which would kill the daemon). After a panic the reader's state is
//! dropped, so nothing read before it is dispatched again.

use std::collections::HashSet;
use std::error::Error;
use std::sync::{Mutex, OnceLock};

use collectd_plugin::{
    CollectdLoggerBuilder, ConfigItem, Plugin, PluginCapabilities, PluginManager,
    PluginRegistration,
};
use log::LevelFilter;

use crate::config;
use crate::dispatch::dispatch;
use crate::reader::{Dispatch, Reader};
use crate::source::{self, BoxedSource};

/// The plugin as collectd knows it: `LoadPlugin libpodstats`, `<Plugin libpodstats>`.
pub struct LibpodStats;

impl PluginManager for LibpodStats {
    fn name() -> &'static str {
        crate::metrics::CONTAINER_PLUGIN
    }

    fn plugins(items: Option<&[ConfigItem<'_>]>) -> Result<PluginRegistration, Box<dyn Error>> {
        init_logging();
        let cfg = config::parse(items)?;
        let source = source::open(&cfg)?;
        Ok(PluginRegistration::Single(Box::new(ReadPlugin {
            reader: Mutex::new(Reader::new(cfg, source)),
        })))
    }
}

/// The registered read callback's state.
struct ReadPlugin {
    reader: Mutex<Reader<BoxedSource>>,
}

impl Plugin for ReadPlugin {
    fn capabilities(&self) -> PluginCapabilities {
        PluginCapabilities::READ
    }

    fn read_values(&self) -> Result<(), Box<dyn Error>> {
        let mut reader = match self.reader.lock() {
            Ok(guard) => guard,
            Err(poisoned) => {
                // Only reachable if a panic escaped catch_unwind below; start over.
                let mut guard = poisoned.into_inner();
                guard.reset();
                self.reader.clear_poison();
                guard
            }
        };
        // A panic is logged by the hook below (once per distinct panic) and resets the state.
        reader.read_catching_panics(&mut submit, &mut |level, message| {
            log::log!(level, "{message}")
        });
        // A failed interval is already logged; returning an error would only make collectd
        // suspend the plugin with a growing back-off.
        Ok(())
    }
}

/// Hands one value list to collectd. Time and host are left to collectd (its current time and
/// `Hostname`), also in a replay.
fn submit(d: &Dispatch<'_>) -> Result<(), String> {
    dispatch(d).map_err(|e| e.to_string())
}

/// Routes the `log` crate to collectd's log (`libpodstats: ...`) and panics to the same place,
/// each distinct panic once.
fn init_logging() {
    // A second call (collectd never makes one) finds the logger set: nothing to do.
    let _ = CollectdLoggerBuilder::new()
        .prefix_plugin::<LibpodStats>()
        .filter_level(LevelFilter::Info)
        .format(|buf, record| write!(buf, "{}", record.args()))
        .try_init();
    std::panic::set_hook(Box::new(|info| {
        static SEEN: OnceLock<Mutex<HashSet<String>>> = OnceLock::new();
        let text = info.to_string();
        let first = SEEN
            .get_or_init(|| Mutex::new(HashSet::new()))
            .try_lock()
            .map(|mut seen| seen.len() < 1000 && seen.insert(text.clone()))
            .unwrap_or(false);
        if first {
            log::error!("internal error, this interval is skipped and the state reset: {text}");
        }
    }));
}
