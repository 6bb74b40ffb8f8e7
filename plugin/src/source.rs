//! Where samples come from: the live host (or a snapshot under `HostRoot`) or a replayed series.

use libpod_stats::stats::Sample;

use crate::config::PluginConfig;
use crate::reader::{Source, Step};

/// The source the plugin reads, chosen by the configuration.
pub type BoxedSource = Box<dyn Source>;

impl Source for BoxedSource {
    fn cycle(&mut self, out: &mut Vec<Sample>) -> Result<Step, String> {
        (**self).cycle(out)
    }

    fn reset(&mut self) {
        (**self).reset()
    }
}

/// Opens the source `cfg` asks for. An error here stops collectd at start.
pub fn open(_cfg: &PluginConfig) -> Result<BoxedSource, String> {
    Ok(Box::new(Pending))
}

/// Until the collector is part of the library, every cycle says so (logged once).
struct Pending;

impl Source for Pending {
    fn cycle(&mut self, _out: &mut Vec<Sample>) -> Result<Step, String> {
        Err("the libpod-stats collector is not available in this build".to_string())
    }

    fn reset(&mut self) {}
}
