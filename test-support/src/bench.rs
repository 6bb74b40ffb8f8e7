//! What every bench shares: criterion settings small enough for a loaded 2-core machine, a
//! recorder of each benchmark's own per-iteration times, and the ratio table printed at the
//! end of the run from those times (so every ratio compares numbers of the same run).

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use criterion::measurement::WallTime;
use criterion::{BenchmarkGroup, Criterion};

/// Samples per benchmark: few, so the whole `cargo bench` stays at a few minutes.
pub const SAMPLES: usize = 10;

/// Per-iteration times (ns) of each benchmark's measured samples, by benchmark id.
static TIMES: Mutex<BTreeMap<String, Vec<f64>>> = Mutex::new(BTreeMap::new());

/// Criterion with this project's small sample sizes and short times, overridable from the
/// command line as usual (`cargo bench -- --sample-size 50`).
pub fn criterion() -> Criterion {
    Criterion::default()
        .sample_size(SAMPLES)
        .warm_up_time(Duration::from_millis(300))
        .measurement_time(Duration::from_secs(1))
        .without_plots()
        .configure_from_args()
}

/// Sets a group's sample count and times (a group may need longer than the defaults).
pub fn configure(group: &mut BenchmarkGroup<'_, WallTime>, measurement: Duration) {
    group
        .sample_size(SAMPLES)
        .warm_up_time(Duration::from_millis(300))
        .measurement_time(measurement);
}

/// Runs `routine` `iters` times for criterion and records the per-iteration time under `id`
/// (`group/function`), for the ratio table.
pub fn timed(id: &str, iters: u64, mut routine: impl FnMut()) -> Duration {
    let start = Instant::now();
    for _ in 0..iters {
        routine();
    }
    let elapsed = start.elapsed();
    record(id, elapsed, iters);
    elapsed
}

/// Records one sample of `iters` iterations that took `elapsed`.
pub fn record(id: &str, elapsed: Duration, iters: u64) {
    let per_iter = elapsed.as_nanos() as f64 / iters.max(1) as f64;
    let mut times = TIMES.lock().unwrap_or_else(|e| e.into_inner());
    times.entry(id.to_string()).or_default().push(per_iter);
}

/// The median per-iteration time of `id`'s measured samples (the last [`SAMPLES`]
/// recorded: criterion's warm-up calls come first), in ns.
pub fn median_ns(id: &str) -> Option<f64> {
    let times = TIMES.lock().unwrap_or_else(|e| e.into_inner());
    let all = times.get(id)?;
    let mut last: Vec<f64> = all[all.len().saturating_sub(SAMPLES)..].to_vec();
    if last.is_empty() {
        return None;
    }
    last.sort_by(|a, b| a.total_cmp(b));
    Some(last[last.len() / 2])
}

/// The median of every sample recorded under `id` (for per-run records, not criterion's
/// samples), in ns.
pub fn median_all(id: &str) -> Option<f64> {
    let times = TIMES.lock().unwrap_or_else(|e| e.into_inner());
    let mut all = times.get(id)?.clone();
    if all.is_empty() {
        return None;
    }
    all.sort_by(|a, b| a.total_cmp(b));
    Some(all[all.len() / 2])
}

/// A human-readable duration from ns.
pub fn human(ns: f64) -> String {
    if ns >= 1e9 {
        format!("{:.3} s", ns / 1e9)
    } else if ns >= 1e6 {
        format!("{:.3} ms", ns / 1e6)
    } else if ns >= 1e3 {
        format!("{:.2} us", ns / 1e3)
    } else {
        format!("{ns:.1} ns")
    }
}

/// The ratio table: one line per `(label, ours, baseline)` whose both sides were measured
/// in this run (a filtered `cargo bench -- name` leaves the others out).
pub struct RatioTable {
    title: String,
    lines: String,
}

impl RatioTable {
    /// An empty table.
    pub fn new(title: &str) -> Self {
        RatioTable {
            title: title.to_string(),
            lines: String::new(),
        }
    }

    /// Adds `ours / baseline`; `target` is printed beside it (e.g. "<= 1.20").
    pub fn ratio(&mut self, label: &str, ours: &str, baseline: &str, target: &str) {
        let (Some(a), Some(b)) = (median_ns(ours), median_ns(baseline)) else {
            return;
        };
        let _ = writeln!(
            self.lines,
            "RATIO {label}: {} / {} = {:.3}  (target {target})",
            human(a),
            human(b),
            a / b
        );
    }

    /// Adds one absolute time, with an optional divisor (per-container cost).
    pub fn time(&mut self, label: &str, id: &str, per: f64, target: &str) {
        let Some(a) = median_ns(id) else {
            return;
        };
        let _ = writeln!(
            self.lines,
            "TIME {label}: {}  (target {target})",
            human(a / per)
        );
    }

    /// A free-form line.
    pub fn note(&mut self, line: &str) {
        let _ = writeln!(self.lines, "NOTE {line}");
    }

    /// Prints the table to stdout.
    pub fn print(&self) {
        println!("\n==== {} ====", self.title);
        print!("{}", self.lines);
        println!("==== end ====");
    }
}

/// The median of `id` divided by the median of `other` (for computed lines).
pub fn ratio_of(id: &str, other: &str) -> Option<f64> {
    Some(median_ns(id)? / median_ns(other)?)
}
