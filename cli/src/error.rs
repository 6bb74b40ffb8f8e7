//! How the command reports errors: a fatal error with its chain of causes, and a warning
//! (a store or record that could not be read) on one line.

use std::error::Error;

/// What a subcommand returns on failure: any error with its chain of causes.
pub type CliError = Box<dyn Error + Send + Sync>;

/// Prints a fatal error on stderr: `libpod-stats: <error>`, then one `caused by:` line per
/// cause.
pub fn print_fatal(err: &(dyn Error + 'static)) {
    eprintln!("libpod-stats: {err}");
    let mut source = err.source();
    while let Some(cause) = source {
        eprintln!("  caused by: {cause}");
        source = cause.source();
    }
}

/// An error and its causes on one line, `error: cause: cause`; a cause whose message the
/// line already ends with (a transparent wrapper's) is not repeated.
pub fn one_line(err: &(dyn Error + 'static)) -> String {
    let mut line = err.to_string();
    let mut source = err.source();
    while let Some(cause) = source {
        let text = cause.to_string();
        if !line.ends_with(&text) {
            line.push_str(": ");
            line.push_str(&text);
        }
        source = cause.source();
    }
    line
}
