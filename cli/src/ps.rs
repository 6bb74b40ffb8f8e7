//! `libpod-stats ps`: list containers like `podman ps`.

use std::io::Write;
use std::process::ExitCode;

use libpod_stats::{discover, fill_health, Container, ContainerFilter, DiscoveryOptions, HostRoot};

use crate::error::{self, CliError};
use crate::table;
use crate::Cli;

/// Output format of listings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, Default)]
pub enum Format {
    /// Aligned columns for a person.
    #[default]
    Table,
    /// A JSON array sorted by name.
    Json,
}

/// Options of `ps`.
#[derive(Debug, clap::Args)]
pub struct PsArgs {
    /// Show all containers, not only running and paused ones.
    #[arg(short, long)]
    pub all: bool,
    /// Output format.
    #[arg(long, value_enum, default_value_t)]
    pub format: Format,
    /// Also list containers podman does not own (buildah), as `podman ps --external`.
    #[arg(long)]
    pub external: bool,
    /// Only containers matching KEY=VALUE (name, id, label, pod, status), as podman's
    /// --filter; repeatable. A status filter lists stopped containers too.
    #[arg(short, long = "filter", value_name = "KEY=VALUE")]
    pub filters: Vec<String>,
}

/// Runs `ps`. Problems with single stores or records are printed as warnings and make the
/// exit status 1, but everything that could be read is still listed.
pub fn run(cli: &Cli, args: &PsArgs) -> Result<ExitCode, CliError> {
    let root = match &cli.root {
        Some(dir) => HostRoot::new(dir)?,
        None => HostRoot::live(),
    };
    let opts = DiscoveryOptions {
        rootless_stores: !cli.no_rootless,
        extra_stores: cli.stores.clone(),
        external: args.external,
    };
    let filter = ContainerFilter::parse(&args.filters)?;
    let all = args.all || filter.has_status();
    let mut report = discover(&root, &opts);
    report
        .containers
        .retain(|c| (all || c.state.has_cgroup()) && filter.matches(c));
    let health_errors = fill_health(&root, &mut report.containers);
    let shown: Vec<&Container> = report.containers.iter().collect();
    match write_listing(args.format, &shown) {
        // A reader that stopped early (`| head`) is not an error.
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => {}
        other => other?,
    }
    for err in &report.errors {
        eprintln!("libpod-stats: warning: {}", error::one_line(err));
    }
    for err in &health_errors {
        eprintln!("libpod-stats: warning: {err}");
    }
    Ok(if report.errors.is_empty() && health_errors.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

fn write_listing(format: Format, shown: &[&Container]) -> std::io::Result<()> {
    // Buffered: stdout alone is line-buffered, a system call per line.
    let mut out = std::io::BufWriter::with_capacity(64 * 1024, std::io::stdout().lock());
    match format {
        Format::Json => {
            serde_json::to_writer_pretty(&mut out, shown)?;
            writeln!(out)?;
        }
        Format::Table => write_table(&mut out, shown)?,
    }
    out.flush()
}

fn write_table(out: &mut impl Write, containers: &[&Container]) -> std::io::Result<()> {
    let header = [
        "CONTAINER ID",
        "NAME",
        "POD",
        "IMAGE",
        "STATE",
        "PID",
        "SOURCE",
        "UID",
        "CGROUP",
    ];
    let dash = || "-".to_string();
    let rows: Vec<Vec<String>> = containers
        .iter()
        .map(|c| {
            vec![
                c.id.short().to_string(),
                c.name.clone(),
                c.pod_name
                    .clone()
                    .or_else(|| c.pod_id.as_ref().map(|p| p.short().to_string()))
                    .unwrap_or_else(dash),
                c.image.clone().unwrap_or_else(dash),
                c.state.to_string(),
                c.pid.map_or_else(dash, |p| p.to_string()),
                format!("{:?}", c.source).to_lowercase(),
                c.uid.map_or_else(dash, |u| u.to_string()),
                c.cgroup.as_ref().map_or_else(dash, |c| c.to_string()),
            ]
        })
        .collect();
    out.write_all(table::aligned(&header, &rows).as_bytes())
}
