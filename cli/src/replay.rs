//! `libpod-stats replay DIR`: what the plugin would dispatch at each step of a series.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use crate::table::{self, TableOptions};
use libpod_stats::{replay, CollectorOptions, FirstCpuPercent, MetricGroups};

use crate::error::CliError;
use crate::stats::{discovery_options, MemoryArg};
use crate::Cli;

/// Output format of `replay`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, Default)]
pub enum ReplayFormat {
    /// One JSON array of steps, each with its samples and pod totals.
    #[default]
    Json,
    /// One table per step under a `step NNN` heading.
    Table,
}

/// Options of `replay`.
#[derive(Debug, clap::Args)]
pub struct ReplayArgs {
    /// A series directory (`000/`, `001/`, ...) or a single snapshot.
    pub dir: PathBuf,
    /// Also show containers that are not running.
    #[arg(short, long)]
    pub all: bool,
    /// Output format.
    #[arg(long, value_enum, default_value_t)]
    pub format: ReplayFormat,
    /// The table's memory figure (JSON carries all three).
    #[arg(long, value_enum, default_value_t, value_name = "WHICH")]
    pub memory: MemoryArg,
}

/// Runs `replay`.
pub fn run(cli: &Cli, args: &ReplayArgs) -> Result<ExitCode, CliError> {
    if cli.root.is_some() {
        return Err("replay reads the series named by DIR; --root does not apply".into());
    }
    let opts = CollectorOptions {
        discovery: discovery_options(cli),
        all: args.all,
        metrics: MetricGroups::ALL,
        first_cpu_percent: FirstCpuPercent::Null,
        max_open_files: None,
        filter: Default::default(),
    };
    let steps = replay(&args.dir, opts)?;
    // Buffered: stdout alone is line-buffered, a system call per line.
    let mut stdout = std::io::BufWriter::with_capacity(64 * 1024, std::io::stdout().lock());
    match args.format {
        ReplayFormat::Json => {
            serde_json::to_writer_pretty(&mut stdout, &steps)?;
            writeln!(stdout)?;
        }
        ReplayFormat::Table => {
            for (i, step) in steps.iter().enumerate() {
                if i > 0 {
                    writeln!(stdout)?;
                }
                writeln!(stdout, "step {} ({})", step.snapshot, step.taken_at_ns)?;
                stdout.write_all(
                    table::render(
                        &step.samples,
                        TableOptions {
                            memory: args.memory.into(),
                            wide: false,
                        },
                    )
                    .as_bytes(),
                )?;
                for e in step.errors.iter().chain(&step.discovery_errors) {
                    writeln!(stdout, "! {e}")?;
                }
            }
        }
    }
    stdout.flush()?;
    Ok(ExitCode::SUCCESS)
}
