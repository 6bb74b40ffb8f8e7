//! The subcommands of the `libpod-stats` binary, one module each.

pub mod capture;
pub mod ps;
pub mod replay;
pub mod stats;

/// What a subcommand returns on failure: any error with its chain of causes.
pub type CliError = Box<dyn std::error::Error + Send + Sync>;
