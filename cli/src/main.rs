//! `libpod-stats`: podman container stats straight from cgroupfs.
//!
//! The command of the `libpod-stats-cli` package, a front end over the `libpod_stats`
//! library's root names only: clap's arguments here, one module per subcommand (`ps`,
//! `stats`, `capture`, `replay`), the one table writer of `ps` and `stats` (`table`) and how
//! errors are printed (`error`).

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

mod capture;
mod error;
mod ps;
mod replay;
mod stats;
mod table;

/// Resource usage of podman containers, read straight from cgroupfs.
#[derive(Debug, Parser)]
#[command(name = "libpod-stats", version, about)]
pub struct Cli {
    /// Read a captured snapshot directory instead of the live host (`/`).
    #[arg(long, global = true, value_name = "DIR")]
    pub root: Option<PathBuf>,
    /// An extra container store (a graph root) to read; repeatable.
    #[arg(long = "store", global = true, value_name = "GRAPHROOT")]
    pub stores: Vec<PathBuf>,
    /// Do not look for rootless stores under users' homes.
    #[arg(long, global = true)]
    pub no_rootless: bool,
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// List containers, like `podman ps`.
    Ps(ps::PsArgs),
    /// Resource usage per container, like `podman stats`.
    Stats(stats::StatsArgs),
    /// Record the host (or --root) as a snapshot or a series, for replay anywhere.
    Capture(capture::CaptureArgs),
    /// Run the collector over a captured series, step by step.
    Replay(replay::ReplayArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match &cli.command {
        Command::Ps(args) => ps::run(&cli, args),
        Command::Stats(args) => stats::run(&cli, args),
        Command::Capture(args) => capture::run(&cli, args),
        Command::Replay(args) => replay::run(&cli, args),
    };
    match result {
        Ok(code) => code,
        Err(err) => {
            error::print_fatal(err.as_ref());
            ExitCode::FAILURE
        }
    }
}
