//! What a user of `libpod-stats` writes: here, a "top" view of one read cycle's samples,
//! busiest first.
//!
//! The crate lives outside the libpod-stats workspace and is built against the *packaged*
//! crates (`scripts/downstream.sh` unpacks `cargo package`'s output and `Cargo.toml` patches
//! crates.io with it), so it sees what a crates.io user sees. Its tests are written the way
//! `libpod-stats-testing` means its users to write theirs: over a capture the crate bundles
//! (`tests/captures/`) and over a synthetic host.

use std::cmp::Ordering;
use std::fmt::Write as _;

use libpod_stats::Sample;

/// One container's line of [`top`].
#[derive(Debug, Clone, PartialEq)]
pub struct TopLine {
    /// The container's name.
    pub name: String,
    /// CPU since the previous cycle, percent of one core; `None` before there is a previous
    /// cycle.
    pub cpu_percent: Option<f64>,
    /// Memory in use, bytes.
    pub memory_bytes: Option<u64>,
    /// Processes in the container.
    pub pids: Option<u64>,
}

/// The containers of one cycle, the busiest CPU first; those without a rate yet come last.
/// Ties go by name.
pub fn top(samples: &[Sample]) -> Vec<TopLine> {
    let mut lines: Vec<TopLine> = samples
        .iter()
        .map(|s| TopLine {
            name: s.name.clone(),
            cpu_percent: s.cpu_percent,
            memory_bytes: s.memory_bytes,
            pids: s.pids,
        })
        .collect();
    lines.sort_by(|a, b| by_cpu(a.cpu_percent, b.cpu_percent).then_with(|| a.name.cmp(&b.name)));
    lines
}

/// Higher first, `None` after every number.
fn by_cpu(a: Option<f64>, b: Option<f64>) -> Ordering {
    match (a, b) {
        (Some(a), Some(b)) => b.total_cmp(&a),
        (Some(_), None) => Ordering::Less,
        (None, Some(_)) => Ordering::Greater,
        (None, None) => Ordering::Equal,
    }
}

/// [`top`]'s lines as a text table: name, CPU % with two decimals, memory in bytes, pids;
/// `-` where a value is absent.
pub fn render(lines: &[TopLine]) -> String {
    let mut out = format!(
        "{:<20} {:>8} {:>12} {:>5}\n",
        "NAME", "CPU %", "MEM", "PIDS"
    );
    for l in lines {
        let cpu = l.cpu_percent.map_or("-".to_string(), |p| format!("{p:.2}"));
        let mem = l.memory_bytes.map_or("-".to_string(), |b| b.to_string());
        let pids = l.pids.map_or("-".to_string(), |p| p.to_string());
        // Writing to a String cannot fail.
        let _ = writeln!(out, "{:<20} {cpu:>8} {mem:>12} {pids:>5}", l.name);
    }
    out
}
