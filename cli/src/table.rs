//! The human-readable table of samples, laid out like `podman stats`.
//!
//! Sizes use decimal units with three significant digits (`1.04MB`, `512kB`), as podman
//! prints them; an absent figure shows as `--`, never as a made-up `0`.
//!
//! MEM USAGE follows current podman (5.6 and later): the working set, with MEM % the working
//! set over the limit. Podman's own definition changed twice (v1 usage in 4.3, v2 `anon` in
//! 4.x-5.5, the working set since 5.6), so [`MemoryColumn`] picks another. The wide table
//! ([`TableOptions::wide`]) adds what podman does not show: CFS throttling, pressure,
//! OOM kills and the health check's status.

use std::fmt::Write as _;

use libpod_stats::{memory_percent, Sample};

/// Which memory figure the MEM USAGE and MEM % columns show.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum MemoryColumn {
    /// The kernel's usage, `memory_bytes` (podman 4.3 on cgroup v1).
    Raw,
    /// Usage minus inactive file cache, `memory_working_set_bytes` (podman 5.6 and later).
    #[default]
    WorkingSet,
    /// Anonymous memory, `memory_anon_bytes` (podman 4.x to 5.5 on cgroup v2).
    Anon,
}

impl MemoryColumn {
    /// The sample's figure this column shows.
    pub fn of(self, sample: &Sample) -> Option<u64> {
        match self {
            MemoryColumn::Raw => sample.memory_bytes,
            MemoryColumn::WorkingSet => sample.memory_working_set_bytes,
            MemoryColumn::Anon => sample.memory_anon_bytes,
        }
    }
}

/// How the table is laid out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct TableOptions {
    /// The memory figure of MEM USAGE and MEM %.
    pub memory: MemoryColumn,
    /// Add throttling, pressure (`some avg10`), OOM kills and health after podman's columns.
    pub wide: bool,
}

/// The header cells, in podman's order.
const HEADER: [&str; 8] = [
    "ID",
    "NAME",
    "CPU %",
    "MEM USAGE / LIMIT",
    "MEM %",
    "NET IO",
    "BLOCK IO",
    "PIDS",
];

/// The wide table's extra header cells: CFS throttling (throttled periods / periods), the
/// `some avg10` pressure of cpu, memory and io, OOM kills and the health check's status.
const WIDE_HEADER: [&str; 6] = ["THROTTLED", "CPU PSI", "MEM PSI", "IO PSI", "OOM", "HEALTH"];

/// How an absent figure is shown.
const ABSENT: &str = "--";

/// A byte count in decimal units with three significant digits (`0B`, `999B`, `1.5kB`,
/// `4.12GB`); `--` when absent.
pub fn human_size(bytes: Option<u64>) -> String {
    let Some(bytes) = bytes else {
        return ABSENT.to_string();
    };
    const UNITS: [&str; 7] = ["B", "kB", "MB", "GB", "TB", "PB", "EB"];
    let mut value = bytes as f64;
    let mut unit = 0;
    loop {
        let decimals = if value < 10.0 {
            2
        } else if value < 100.0 {
            1
        } else {
            0
        };
        let text = format!("{value:.decimals$}");
        // Rounding can carry into the next unit (999.6 -> "1000"): go up one more.
        let rounded: f64 = text.parse().unwrap_or(value);
        if rounded >= 1000.0 && unit + 1 < UNITS.len() {
            value /= 1000.0;
            unit += 1;
            continue;
        }
        let text = if text.contains('.') {
            text.trim_end_matches('0').trim_end_matches('.').to_string()
        } else {
            text
        };
        return format!("{text}{}", UNITS[unit]);
    }
}

/// A percentage with two decimals (`12.34%`); `--` when absent.
pub fn human_percent(percent: Option<f64>) -> String {
    match percent {
        Some(p) if p.is_finite() => format!("{p:.2}%"),
        _ => ABSENT.to_string(),
    }
}

fn pair(a: Option<u64>, b: Option<u64>) -> String {
    format!("{} / {}", human_size(a), human_size(b))
}

/// A count, or `--`.
fn count(n: Option<u64>) -> String {
    n.map_or_else(|| ABSENT.to_string(), |n| n.to_string())
}

/// The table's cells for one sample, in header order.
fn row(sample: &Sample, opts: TableOptions) -> Vec<String> {
    let short_id: String = sample.id.chars().take(12).collect();
    let memory = opts.memory.of(sample);
    let mut cells = vec![
        short_id,
        sample.name.clone(),
        human_percent(sample.cpu_percent),
        pair(memory, sample.memory_limit_bytes),
        human_percent(memory_percent(memory, sample.memory_limit_bytes)),
        pair(sample.net.rx_bytes, sample.net.tx_bytes),
        pair(sample.block_read_bytes, sample.block_write_bytes),
        count(sample.pids),
    ];
    if opts.wide {
        let pressure = sample.pressure.unwrap_or_default();
        let some_avg10 = |psi: Option<libpod_stats::Psi>| human_percent(psi.map(|p| p.some.avg10));
        cells.extend([
            format!(
                "{} / {}",
                count(sample.cpu_throttled_periods),
                count(sample.cpu_periods)
            ),
            some_avg10(pressure.cpu),
            some_avg10(pressure.memory),
            some_avg10(pressure.io),
            count(sample.oom_kills),
            sample
                .health
                .map_or_else(|| ABSENT.to_string(), |h| h.as_str().to_string()),
        ]);
    }
    cells
}

/// Renders `samples` as an aligned table with podman's header (and the wide columns when
/// asked), one line per sample, each line ending in a newline.
pub fn render(samples: &[Sample], opts: TableOptions) -> String {
    let mut header: Vec<&str> = HEADER.to_vec();
    if opts.wide {
        header.extend(WIDE_HEADER);
    }
    let rows: Vec<Vec<String>> = samples.iter().map(|s| row(s, opts)).collect();
    aligned(&header, &rows)
}

/// The one table writer of every listing (`ps`, `stats`, `replay`): each column as wide as
/// its widest cell plus two spaces, the last one unpadded, trailing blanks trimmed, each
/// line ending in a newline.
pub fn aligned(header: &[&str], rows: &[Vec<String>]) -> String {
    let mut widths: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
    for row in rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let mut out = String::new();
    push_line(&mut out, header.iter().copied(), &widths);
    for row in rows {
        push_line(&mut out, row.iter().map(String::as_str), &widths);
    }
    out
}

fn push_line<'a>(
    out: &mut String,
    cells: impl ExactSizeIterator<Item = &'a str>,
    widths: &[usize],
) {
    let start = out.len();
    let last = cells.len().saturating_sub(1);
    for (i, (cell, width)) in cells.zip(widths).enumerate() {
        if i == last {
            out.push_str(cell);
        } else {
            let _ = write!(out, "{cell:<width$}  ");
        }
    }
    let kept = out[start..].trim_end().len();
    out.truncate(start + kept);
    out.push('\n');
}

#[cfg(test)]
mod tests {
    use super::*;
    use libpod_stats::NetCounters;

    #[test]
    fn sizes_have_three_significant_digits() {
        assert_eq!(human_size(Some(0)), "0B");
        assert_eq!(human_size(Some(999)), "999B");
        assert_eq!(human_size(Some(1000)), "1kB");
        assert_eq!(human_size(Some(1536)), "1.54kB");
        assert_eq!(human_size(Some(12_345_678)), "12.3MB");
        assert_eq!(human_size(Some(999_600)), "1MB");
        assert_eq!(human_size(Some(4_123_456_789)), "4.12GB");
        assert_eq!(human_size(Some(u64::MAX)), "18.4EB");
        assert_eq!(human_size(None), "--");
    }

    #[test]
    fn percents_have_two_decimals() {
        assert_eq!(human_percent(Some(3.14659)), "3.15%");
        assert_eq!(human_percent(Some(0.0)), "0.00%");
        assert_eq!(human_percent(None), "--");
        assert_eq!(human_percent(Some(f64::NAN)), "--");
    }

    #[test]
    fn table_is_aligned_under_podmans_header() {
        let samples = vec![
            Sample {
                id: "0123456789abcdef".repeat(4),
                name: "web".to_string(),
                cpu_percent: Some(1.5),
                memory_bytes: Some(2_000_000),
                memory_working_set_bytes: Some(1_048_576),
                memory_anon_bytes: Some(500_000),
                memory_limit_bytes: Some(2_000_000_000),
                memory_percent: Some(0.1),
                net: NetCounters {
                    rx_bytes: Some(100),
                    tx_bytes: Some(2_000),
                    ..NetCounters::default()
                },
                block_read_bytes: Some(0),
                block_write_bytes: Some(4096),
                pids: Some(3),
                ..Sample::default()
            },
            Sample {
                id: "fedcba9876543210".repeat(4),
                name: "a-much-longer-name".to_string(),
                ..Sample::default()
            },
        ];
        let text = render(&samples, TableOptions::default());
        let expected = "\
ID            NAME                CPU %  MEM USAGE / LIMIT  MEM %  NET IO      BLOCK IO    PIDS
0123456789ab  web                 1.50%  1.05MB / 2GB       0.05%  100B / 2kB  0B / 4.1kB  3
fedcba987654  a-much-longer-name  --     -- / --            --     -- / --     -- / --     --
";
        assert_eq!(text, expected);
    }

    #[test]
    fn the_memory_column_is_the_chosen_figure_over_the_limit() {
        let sample = Sample {
            memory_bytes: Some(2_000_000),
            memory_working_set_bytes: Some(1_000_000),
            memory_anon_bytes: Some(500_000),
            memory_limit_bytes: Some(10_000_000),
            memory_percent: Some(20.0),
            ..Sample::default()
        };
        for (memory, usage, percent) in [
            (MemoryColumn::WorkingSet, "1MB / 10MB", "10.00%"),
            (MemoryColumn::Raw, "2MB / 10MB", "20.00%"),
            (MemoryColumn::Anon, "500kB / 10MB", "5.00%"),
        ] {
            let cells = row(
                &sample,
                TableOptions {
                    memory,
                    ..TableOptions::default()
                },
            );
            assert_eq!((cells[3].as_str(), cells[4].as_str()), (usage, percent));
        }
        assert_eq!(TableOptions::default().memory, MemoryColumn::WorkingSet);
    }

    #[test]
    fn the_wide_table_adds_throttling_pressure_oom_kills_and_health() {
        use libpod_stats::{PressureStats, Psi, PsiLine};
        let psi = |avg10| Psi {
            some: PsiLine {
                avg10,
                ..PsiLine::default()
            },
            full: None,
        };
        let sample = Sample {
            id: "ab".repeat(32),
            name: "busy".into(),
            cpu_periods: Some(400),
            cpu_throttled_periods: Some(320),
            oom_kills: Some(2),
            health: Some(libpod_stats::HealthStatus::Unhealthy),
            pressure: Some(PressureStats {
                cpu: Some(psi(61.5)),
                memory: Some(psi(0.0)),
                io: None,
            }),
            ..Sample::default()
        };
        let wide = TableOptions {
            wide: true,
            ..TableOptions::default()
        };
        let text = render(std::slice::from_ref(&sample), wide);
        let mut lines = text.lines();
        assert!(lines
            .next()
            .unwrap()
            .ends_with("PIDS  THROTTLED  CPU PSI  MEM PSI  IO PSI  OOM  HEALTH"));
        assert!(
            lines
                .next()
                .unwrap()
                .ends_with("--    320 / 400  61.50%   0.00%    --      2    unhealthy"),
            "{text}"
        );
        assert!(!render(&[sample], TableOptions::default()).contains("THROTTLED"));
    }
}
