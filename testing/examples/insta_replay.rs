//! A snapshot test over a capture: replay it with [`Capture`] and keep the whole replay as a
//! reviewed insta golden file (`examples/snapshots/`).
//!
//! ```text
//! cargo test -p libpod-stats-testing --example insta_replay   # the test
//! cargo run -p libpod-stats-testing --example insta_replay -- DIR
//! ```
//!
//! Run as a program it prints a capture's replay as JSON with the volatile fields (ids,
//! cgroup paths, times) redacted: what a golden file of that capture holds. In your own
//! crate the test goes in `tests/`, with `libpod-stats-testing` and `insta` (features
//! `yaml`, `redactions`) as dev-dependencies.

use std::error::Error;
use std::path::PathBuf;
use std::process::ExitCode;

use libpod_stats_testing::Capture;

/// The podman series bundled with the repository (not with the published package).
const BUNDLED: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../fixtures/cgroupv1/series-podman"
);

fn main() -> ExitCode {
    let dir = std::env::args_os()
        .nth(1)
        .map_or_else(|| PathBuf::from(BUNDLED), PathBuf::from);
    match print_replay(&dir) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("insta_replay: {}: {e}", dir.display());
            ExitCode::FAILURE
        }
    }
}

fn print_replay(dir: &std::path::Path) -> Result<(), Box<dyn Error>> {
    let mut replay = Capture::open(dir)?.replay()?;
    replay.redact_volatile();
    println!("{}", serde_json::to_string_pretty(&replay)?);
    Ok(())
}

#[cfg(test)]
mod tests {
    use libpod_stats_testing::{volatile_redactions, Capture};

    #[test]
    fn bundled_series_replays_to_the_reviewed_snapshot() -> Result<(), Box<dyn std::error::Error>> {
        let replay = Capture::open(super::BUNDLED)?.replay()?;

        // Plain assertions first: they say what matters when the golden file changes.
        let idle = replay.of("lpstest-idle");
        assert_eq!(idle.len(), 3, "the idle container is read at every step");
        assert!(idle[1..]
            .iter()
            .all(|s| s.cpu_percent.is_some_and(|p| p < 5.0)));

        // The golden file, with what a re-capture changes redacted (a null stays null).
        volatile_redactions().bind(|| insta::assert_yaml_snapshot!("series_podman", replay));
        Ok(())
    }
}
