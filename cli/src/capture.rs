//! `libpod-stats capture`: record the live host (or `--root`) as a snapshot or a series.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use libpod_stats::{capture_series, capture_snapshot, CaptureOptions, CaptureSummary};

use crate::error::CliError;
use crate::stats::{discovery_options, host_root};
use crate::Cli;

/// Options of `capture`.
#[derive(Debug, clap::Args)]
pub struct CaptureArgs {
    /// The directory to write (new or empty).
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
    /// Record a series of N snapshots `DIR/000`, `DIR/001`, ... instead of one snapshot.
    #[arg(long, value_name = "N")]
    pub count: Option<usize>,
    /// Seconds between the snapshots of a series (default 1).
    #[arg(long, value_name = "SECS")]
    pub interval: Option<f64>,
    /// Copy podman's records and the host's files whole (by default only what the readers
    /// use is kept: see the README's "Capture and replay").
    #[arg(long)]
    pub no_redact: bool,
    /// Keep the value of label KEY in a redacted capture (repeatable; PODMAN_SYSTEMD_UNIT
    /// is always kept, other label values become REDACTED).
    #[arg(long, value_name = "KEY", conflicts_with = "no_redact")]
    pub keep_label: Vec<String>,
}

fn describe(summary: &CaptureSummary) -> String {
    format!(
        "{} containers ({} with a cgroup), {} files, {} links, {} bytes{}",
        summary.containers,
        summary.with_cgroup,
        summary.counts.files,
        summary.counts.links,
        summary.counts.bytes,
        if summary.skipped.is_empty() {
            String::new()
        } else {
            format!(", {} skipped", summary.skipped.len())
        }
    )
}

/// Runs `capture`.
pub fn run(cli: &Cli, args: &CaptureArgs) -> Result<ExitCode, CliError> {
    let source = host_root(cli)?;
    let opts = CaptureOptions {
        discovery: discovery_options(cli),
        redact: !args.no_redact,
        keep_labels: args.keep_label.clone(),
        taken_at_ns: None,
    };
    let tty = std::io::stderr().is_terminal();
    let interval = match args.interval {
        None => Duration::from_secs(1),
        Some(s) if s.is_finite() && (0.0..=86_400.0).contains(&s) => Duration::from_secs_f64(s),
        Some(s) => return Err(format!("--interval {s}: must be between 0 and 86400").into()),
    };
    if args.interval.is_some() && args.count.is_none() {
        return Err("--interval applies to a series: add --count N".into());
    }
    let summaries = match args.count {
        None => vec![capture_snapshot(&source, &args.out, &opts)?],
        Some(0) => return Err("--count must be at least 1".into()),
        Some(count) => {
            let mut progress = |i: usize, s: &CaptureSummary| {
                if tty {
                    eprintln!("capture: {:03}/{count:03}: {}", i + 1, describe(s));
                }
            };
            capture_series(&source, &args.out, count, interval, &opts, &mut progress)?
        }
    };
    for (i, s) in summaries.iter().enumerate() {
        for d in &s.discovery_errors {
            eprintln!("capture: step {i}: discovery: {d}");
        }
        for skipped in &s.skipped {
            eprintln!("capture: step {i}: skipped {skipped}");
        }
    }
    if tty {
        if let Some(last) = summaries.last() {
            eprintln!("capture: wrote {}: {}", args.out.display(), describe(last));
        }
    }
    Ok(ExitCode::SUCCESS)
}
