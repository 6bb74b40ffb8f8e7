//! The arithmetic behind each derived number, apart from any file reading.
//!
//! Every function takes what was read (possibly absent) and returns `None` when a number
//! cannot be derived honestly: a missing input, a zero interval, or a counter that went
//! backwards. None of them can produce a negative value or divide by zero.

use crate::cgroup::stats::Limit;

/// CPU use over an interval in percent of one core: `delta_cpu_ns / delta_wall_ns x 100`.
///
/// This is podman's (and the Go plugin's) definition: two busy cores read 200. `None` when
/// the interval is empty, since a rate over no time is undefined.
pub(crate) fn cpu_percent(delta_cpu_ns: u64, delta_wall_ns: u64) -> Option<f64> {
    if delta_wall_ns == 0 {
        return None;
    }
    Some(delta_cpu_ns as f64 / delta_wall_ns as f64 * 100.0)
}

/// `cpu_percent` divided by the online CPUs, so 100 means the whole host is busy.
pub(crate) fn cpu_percent_normalized(
    cpu_percent: Option<f64>,
    online_cpus: Option<u32>,
) -> Option<f64> {
    match (cpu_percent, online_cpus) {
        (Some(p), Some(n)) if n > 0 => Some(p / f64::from(n)),
        _ => None,
    }
}

/// The average CPU use since the container started, as `podman stats --no-stream` shows it:
/// total CPU time over the wall time since start.
///
/// `None` when the start time is unknown or not before `now_ns`.
pub(crate) fn cpu_percent_since_start(
    cpu_ns: Option<u64>,
    started_at_ns: Option<u64>,
    now_ns: u64,
) -> Option<f64> {
    let cpu = cpu_ns?;
    let started = started_at_ns?;
    let elapsed = now_ns.checked_sub(started)?;
    cpu_percent(cpu, elapsed)
}

/// The memory limit podman reports: the cgroup's limit, with "no limit", `0` or anything
/// above the host's MemTotal replaced by MemTotal (podman's `getMemLimit`).
///
/// `None` when the limit was not read, or when it is unlimited and MemTotal is unknown.
pub(crate) fn memory_limit_bytes(
    limit: Option<Limit>,
    mem_total_bytes: Option<u64>,
) -> Option<u64> {
    match (limit?, mem_total_bytes) {
        (Limit::Value(v), Some(total)) if v == 0 || v > total => Some(total),
        (Limit::Value(0), None) => None,
        (Limit::Value(v), _) => Some(v),
        (Limit::Max, total) => total,
    }
}

/// `usage / limit x 100`; `None` when either is absent or the limit is 0.
pub fn memory_percent(usage_bytes: Option<u64>, limit_bytes: Option<u64>) -> Option<f64> {
    let usage = usage_bytes?;
    let limit = limit_bytes?;
    if limit == 0 {
        return None;
    }
    Some(usage as f64 / limit as f64 * 100.0)
}

/// Usage minus the inactive file cache, floored at 0 (the kernel's two counters are read at
/// slightly different moments, so the difference can dip below zero).
///
/// With no inactive-file figure the usage itself is the working set: nothing is known to be
/// reclaimable.
pub(crate) fn working_set_bytes(
    usage_bytes: Option<u64>,
    inactive_file_bytes: Option<u64>,
) -> Option<u64> {
    let usage = usage_bytes?;
    Some(usage.saturating_sub(inactive_file_bytes.unwrap_or(0)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_busy_core_is_100_percent() {
        assert_eq!(cpu_percent(1_000_000_000, 1_000_000_000), Some(100.0));
        assert_eq!(cpu_percent(2_000_000_000, 1_000_000_000), Some(200.0));
        assert_eq!(cpu_percent(5, 0), None);
    }

    #[test]
    fn normalized_divides_by_online_cpus() {
        assert_eq!(cpu_percent_normalized(Some(200.0), Some(4)), Some(50.0));
        assert_eq!(cpu_percent_normalized(Some(200.0), Some(0)), None);
        assert_eq!(cpu_percent_normalized(None, Some(4)), None);
        assert_eq!(cpu_percent_normalized(Some(1.0), None), None);
    }

    #[test]
    fn average_since_start_needs_a_start_before_now() {
        assert_eq!(
            cpu_percent_since_start(Some(500), Some(1000), 2000),
            Some(50.0)
        );
        assert_eq!(cpu_percent_since_start(Some(500), Some(2000), 2000), None);
        assert_eq!(cpu_percent_since_start(Some(500), Some(3000), 2000), None);
        assert_eq!(cpu_percent_since_start(Some(500), None, 2000), None);
        assert_eq!(cpu_percent_since_start(None, Some(1), 2000), None);
    }

    #[test]
    fn limit_is_clamped_to_mem_total() {
        let total = Some(8_000);
        assert_eq!(memory_limit_bytes(Some(Limit::Max), total), Some(8_000));
        assert_eq!(
            memory_limit_bytes(Some(Limit::Value(0)), total),
            Some(8_000)
        );
        assert_eq!(
            memory_limit_bytes(Some(Limit::Value(9_223_372_036_854_771_712)), total),
            Some(8_000)
        );
        assert_eq!(
            memory_limit_bytes(Some(Limit::Value(4_000)), total),
            Some(4_000)
        );
        assert_eq!(
            memory_limit_bytes(Some(Limit::Value(8_000)), total),
            Some(8_000)
        );
        assert_eq!(
            memory_limit_bytes(Some(Limit::Value(4_000)), None),
            Some(4_000)
        );
        assert_eq!(memory_limit_bytes(Some(Limit::Max), None), None);
        assert_eq!(memory_limit_bytes(Some(Limit::Value(0)), None), None);
        assert_eq!(memory_limit_bytes(None, total), None);
    }

    #[test]
    fn memory_percent_of_limit() {
        assert_eq!(memory_percent(Some(25), Some(100)), Some(25.0));
        assert_eq!(memory_percent(Some(25), Some(0)), None);
        assert_eq!(memory_percent(None, Some(100)), None);
    }

    #[test]
    fn working_set_is_floored_at_zero() {
        assert_eq!(working_set_bytes(Some(100), Some(30)), Some(70));
        assert_eq!(working_set_bytes(Some(100), Some(300)), Some(0));
        assert_eq!(working_set_bytes(Some(100), None), Some(100));
        assert_eq!(working_set_bytes(None, Some(1)), None);
    }
}
