//! Replays a capture (a snapshot directory, or a series `000/`, `001/`, ...) through the
//! same collector a live host gets, and prints each step's containers and pod totals.
//!
//! ```text
//! cargo run --example replay_capture                        # the bundled podman series
//! cargo run --example replay_capture -- fixtures/cgroupv1/podman-pod
//! libpod-stats capture --out /tmp/my-host --count 3 --interval 1 \
//!     && cargo run --example replay_capture -- /tmp/my-host  # your own host
//! ```
//!
//! The default capture is in the repository (`fixtures/`), not in the published package:
//! from the package, pass a capture's directory.

use std::error::Error;
use std::path::PathBuf;
use std::process::ExitCode;

use libpod_stats::{replay, CollectorOptions};

fn main() -> ExitCode {
    let dir = std::env::args_os()
        .nth(1)
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/fixtures/cgroupv1/series-podman"
            ))
        });
    match run(&dir) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            // the library's errors name the file and carry their cause in the message
            eprintln!("replay_capture: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run(dir: &std::path::Path) -> Result<(), Box<dyn Error>> {
    // A replay shows rates between steps: the first step has no CPU percent.
    let steps = replay(dir, CollectorOptions::default())?;
    for step in &steps {
        println!(
            "step {} ({}): {} container(s), {} pod(s)",
            step.step,
            step.snapshot,
            step.samples.len(),
            step.pods.len()
        );
        for s in &step.samples {
            println!(
                "  {:<24} cpu {:>8} mem {:>12} bytes",
                s.name,
                s.cpu_percent.map_or("-".into(), |p| format!("{p:.2}%")),
                s.memory_bytes.map_or("-".into(), |m| m.to_string()),
            );
        }
        for p in &step.pods {
            println!(
                "  pod {:<20} {} container(s), cpu {:>8}",
                p.pod_name.as_deref().unwrap_or(&p.pod_id),
                p.containers,
                p.cpu_percent.map_or("-".into(), |c| format!("{c:.2}%")),
            );
        }
        for e in step.errors.iter().chain(&step.discovery_errors) {
            println!("  problem: {e}");
        }
    }
    Ok(())
}
