//! Reads this machine's podman containers twice, one second apart, and prints one line per
//! container: the second cycle has CPU percent (a rate needs two readings).
//!
//! ```text
//! cargo run --example live_host            # two cycles
//! cargo run --example live_host -- 5       # five cycles
//! ```
//!
//! On a host without podman (or without containers) it says so and exits 0; a host whose
//! cgroupfs cannot be read at all is an error with the cause (exit status 1).

use std::error::Error;
use std::process::ExitCode;
use std::thread::sleep;
use std::time::Duration;

use libpod_stats::{Collector, CollectorOptions, HostRoot, Sample, Timestamp};

fn main() -> ExitCode {
    let cycles = match std::env::args().nth(1).map(|a| a.parse::<u32>()) {
        None => 2,
        Some(Ok(n)) if n > 0 => n,
        Some(_) => {
            eprintln!("usage: live_host [CYCLES] (a number above 0)");
            return ExitCode::from(2);
        }
    };
    match run(cycles) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            // the library's errors name the file and carry their cause in the message
            eprintln!("live_host: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run(cycles: u32) -> Result<(), Box<dyn Error>> {
    // One collector for the whole watch: it keeps the previous reading for CPU percent and
    // re-discovers only when podman's state files change.
    let mut collector = Collector::new(HostRoot::live(), CollectorOptions::default())?;
    let mut samples = Vec::new();
    for cycle in 0..cycles {
        if cycle > 0 {
            sleep(Duration::from_secs(1));
        }
        let report = collector.collect(Timestamp::now(), &mut samples)?;
        for problem in report.discovery_errors.iter().map(ToString::to_string) {
            eprintln!("discovery: {problem}");
        }
        for problem in &report.errors {
            eprintln!("not read: {problem}");
        }
        println!("cycle {cycle}: {} container(s)", samples.len());
        for s in &samples {
            println!("  {}", line(s));
        }
    }
    if samples.is_empty() {
        println!("no running podman containers found on this host");
    }
    Ok(())
}

/// Absent numbers are `-`, never 0: the library reports what it could not read as `None`.
fn line(s: &Sample) -> String {
    let short_id = s.id.get(..12).unwrap_or(&s.id);
    format!(
        "{short_id} {:<24} cpu {:>7} mem {:>12} / {:>12} pids {:>5}",
        s.name,
        s.cpu_percent.map_or("-".into(), |p| format!("{p:.2}%")),
        opt(s.memory_bytes),
        opt(s.memory_limit_bytes),
        opt(s.pids),
    )
}

fn opt(v: Option<u64>) -> String {
    v.map_or_else(|| "-".into(), |v| v.to_string())
}
