//! `libpod-stats stats`: container resource usage like `podman stats`, without podman.

use std::io::{IsTerminal, Write};
use std::process::ExitCode;
use std::time::Duration;

use crate::table::{self, MemoryColumn, TableOptions};
use libpod_stats::{
    Collector, CollectorOptions, ContainerFilter, CycleReport, DiscoveryOptions, FirstCpuPercent,
    HostRoot, MetricGroups, Sample, Timestamp,
};

use crate::error::CliError;
use crate::Cli;

/// Output format of `stats`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, Default)]
pub enum StatsFormat {
    /// Aligned columns with podman's header.
    #[default]
    Table,
    /// The table plus throttling (throttled / all CFS periods), pressure (`some avg10` of
    /// cpu, memory, io) and OOM kills.
    Wide,
    /// A JSON array of samples sorted by name (one array per refresh when streaming).
    Json,
}

/// What the table's MEM USAGE and MEM % show (`--memory`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, Default)]
pub enum MemoryArg {
    /// The kernel's usage (`memory.usage_in_bytes` / `memory.current`), as podman 4.3 on v1.
    Raw,
    /// Usage minus inactive file cache, as podman 5.6 and later.
    #[default]
    WorkingSet,
    /// Anonymous memory (`memory.stat` `anon` / `total_rss`), as podman 4.x to 5.5 on v2.
    Anon,
}

impl From<MemoryArg> for MemoryColumn {
    fn from(m: MemoryArg) -> Self {
        match m {
            MemoryArg::Raw => MemoryColumn::Raw,
            MemoryArg::WorkingSet => MemoryColumn::WorkingSet,
            MemoryArg::Anon => MemoryColumn::Anon,
        }
    }
}

/// Options of `stats`.
#[derive(Debug, clap::Args)]
pub struct StatsArgs {
    /// Take one sample and exit; CPU % is the average since each container started.
    #[arg(long)]
    pub no_stream: bool,
    /// Seconds between refreshes (default 1); with --no-stream, live only: take two samples
    /// this far apart and report the CPU % between them.
    #[arg(long, value_name = "SECS")]
    pub interval: Option<f64>,
    /// Also show containers that are not running (their numbers are empty).
    #[arg(short, long)]
    pub all: bool,
    /// Output format.
    #[arg(long, value_enum, default_value_t)]
    pub format: StatsFormat,
    /// The table's memory figure (JSON carries all three).
    #[arg(long, value_enum, default_value_t, value_name = "WHICH")]
    pub memory: MemoryArg,
    /// Only containers matching KEY=VALUE (name, id, label, pod, status), as podman's
    /// --filter; repeatable.
    #[arg(short, long = "filter", value_name = "KEY=VALUE")]
    pub filters: Vec<String>,
    /// Only these containers (names, ids or id prefixes), as `podman stats NAME...`.
    #[arg(value_name = "CONTAINER")]
    pub containers: Vec<String>,
}

/// The discovery options the global flags ask for.
pub fn discovery_options(cli: &Cli) -> DiscoveryOptions {
    DiscoveryOptions {
        rootless_stores: !cli.no_rootless,
        extra_stores: cli.stores.clone(),
        external: false,
    }
}

/// The root the global `--root` names, or the live host.
pub fn host_root(cli: &Cli) -> Result<HostRoot, CliError> {
    match &cli.root {
        Some(dir) => Ok(HostRoot::new(dir)?),
        None => Ok(HostRoot::live()),
    }
}

fn interval(args: &StatsArgs) -> Result<Option<Duration>, CliError> {
    match args.interval {
        None => Ok(None),
        Some(secs) if secs.is_finite() && secs > 0.0 && secs <= 86_400.0 => {
            Ok(Some(Duration::from_secs_f64(secs)))
        }
        Some(secs) => Err(format!("--interval {secs}: must be between 0 and 86400 seconds").into()),
    }
}

/// Writes one refresh with a single `write`: stdout is line-buffered, so writing the JSON
/// straight to it costs a system call per line (about 25 per container), each waking the
/// reader of a pipe.
fn print(format: StatsFormat, table: TableOptions, samples: &[Sample]) -> Result<(), CliError> {
    let text = match format {
        StatsFormat::Json => {
            let mut json = serde_json::to_vec_pretty(samples)?;
            json.push(b'\n');
            json
        }
        StatsFormat::Table => table::render(samples, table).into_bytes(),
        StatsFormat::Wide => table::render(
            samples,
            TableOptions {
                wide: true,
                ..table
            },
        )
        .into_bytes(),
    };
    let mut stdout = std::io::stdout().lock();
    stdout.write_all(&text)?;
    stdout.flush()?;
    Ok(())
}

/// Prints the report's problems as warnings; true when there were any.
fn warn(report: &CycleReport) -> bool {
    for e in &report.discovery_errors {
        eprintln!("libpod-stats: discovery: {e}");
    }
    for p in &report.errors {
        // `<name>: <path>: <cause>`
        eprintln!("libpod-stats: {p}");
    }
    !report.discovery_errors.is_empty() || !report.errors.is_empty()
}

/// A one-shot run's status: 1 when something could not be read, as `ps` (everything that
/// could be read is still printed). A vanished container is not a problem.
fn one_shot_status(had_problems: bool) -> ExitCode {
    if had_problems {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}

/// With `--interval`, `--no-stream` reports the CPU % between its two samples, so the
/// first one has none.
fn opts_for_no_stream(mut opts: CollectorOptions, interval: Option<Duration>) -> CollectorOptions {
    if interval.is_some() {
        opts.first_cpu_percent = FirstCpuPercent::Null;
    }
    opts
}

/// The process ends right after a one-shot `stats`: its descriptors (about ten per
/// container) and memory go with it, so closing and freeing them one by one first would
/// only add system calls and time to every invocation.
fn leave_for_exit(collector: Collector, samples: Vec<Sample>) {
    std::mem::forget(collector);
    std::mem::forget(samples);
}

/// Container arguments that named no listed container are an error, as in `podman stats`.
fn check_containers(args: &StatsArgs, samples: &[Sample]) -> Result<(), CliError> {
    let listed: Vec<(&str, &str)> = samples
        .iter()
        .map(|s| (s.name.as_str(), s.id.as_str()))
        .collect();
    let refs = ContainerFilter::default().with_refs(&args.containers);
    let missing = refs.unmatched_refs(&listed);
    if missing.is_empty() {
        return Ok(());
    }
    let what = if args.all {
        "container"
    } else {
        "running container (see --all)"
    };
    Err(format!("no {what} matches {}", missing.join(", ")).into())
}

/// Runs `stats`.
pub fn run(cli: &Cli, args: &StatsArgs) -> Result<ExitCode, CliError> {
    let root = host_root(cli)?;
    let interval = interval(args)?;
    let table = TableOptions {
        memory: args.memory.into(),
        wide: false,
    };
    let filter = ContainerFilter::parse(&args.filters)?.with_refs(&args.containers);
    let opts = CollectorOptions {
        discovery: discovery_options(cli),
        all: args.all || filter.has_status(),
        filter,
        metrics: MetricGroups::ALL,
        first_cpu_percent: FirstCpuPercent::SinceStart,
        max_open_files: None,
    };
    let mut samples = Vec::new();
    if !root.is_live() {
        if interval.is_some() {
            return Err(
                "--interval needs a live host: a snapshot is one moment; to see CPU % \
                        between moments, capture a series (`capture --count N`) and use \
                        `libpod-stats replay DIR`"
                    .into(),
            );
        }
        if !args.no_stream {
            return Err(
                "a snapshot cannot be streamed: use --no-stream, or `libpod-stats \
                        replay DIR` for a series"
                    .into(),
            );
        }
        let meta = root
            .snapshot_meta()?
            .ok_or("the snapshot has no snapshot.json, so its time is unknown")?;
        let mut collector = Collector::new(root, opts)?;
        let report = collector.collect_once(Timestamp::at(meta.taken_at_ns), &mut samples)?;
        check_containers(args, &samples)?;
        let had_problems = warn(&report);
        print(args.format, table, &samples)?;
        leave_for_exit(collector, samples);
        return Ok(one_shot_status(had_problems));
    }
    if args.no_stream {
        let mut collector = Collector::new(root, opts_for_no_stream(opts, interval))?;
        if let Some(interval) = interval {
            collector.collect(Timestamp::now(), &mut samples)?;
            std::thread::sleep(interval);
        }
        let report = match interval {
            // The first cycle's state watch tells the second whether to discover again.
            Some(_) => collector.collect(Timestamp::now(), &mut samples)?,
            None => collector.collect_once(Timestamp::now(), &mut samples)?,
        };
        check_containers(args, &samples)?;
        let had_problems = warn(&report);
        print(args.format, table, &samples)?;
        leave_for_exit(collector, samples);
        return Ok(one_shot_status(had_problems));
    }
    // Streaming: the first refresh shows the average since start, like podman stats.
    let interval = interval.unwrap_or(Duration::from_secs(1));
    let clear = args.format != StatsFormat::Json && std::io::stdout().is_terminal();
    let mut collector = Collector::new(root, opts)?;
    let mut first = true;
    loop {
        let report = collector.collect(Timestamp::now(), &mut samples)?;
        if std::mem::take(&mut first) {
            check_containers(args, &samples)?;
        }
        warn(&report);
        if clear {
            print!("\x1b[2J\x1b[H");
        }
        print(args.format, table, &samples)?;
        std::thread::sleep(interval);
    }
}
