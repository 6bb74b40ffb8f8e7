//! CPU percent from two readings of one container instance, with restart detection.
//!
//! A rate needs a previous reading of the *same* instance. A container that restarts gets a
//! fresh cgroup whose counter starts again from zero; a rate across that boundary would be
//! negative or, with wrapping arithmetic, a huge spike. So a counter that goes backwards
//! (or a clock that does) starts the rate over: that step reports `None`, the next one a
//! real rate again. The caller resets the baseline when the instance itself changes
//! (a different cgroup or start time).

use crate::stats::metrics;

/// The previous reading a rate is computed against.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Baseline {
    cpu_ns: u64,
    at_ns: u64,
}

/// The CPU rate state of one container instance.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct CpuRate {
    baseline: Option<Baseline>,
}

impl CpuRate {
    /// A rate with no reading yet: the first update reports `None`.
    pub(crate) fn new() -> Self {
        CpuRate { baseline: None }
    }

    /// A rate whose first update is measured against an assumed earlier reading, as podman
    /// does for `--no-stream` (zero CPU at the container's start time).
    #[cfg(test)]
    pub(crate) fn starting_at(cpu_ns: u64, at_ns: u64) -> Self {
        CpuRate {
            baseline: Some(Baseline { cpu_ns, at_ns }),
        }
    }

    /// Forgets the previous reading: the next update reports `None`.
    pub(crate) fn reset(&mut self) {
        self.baseline = None;
    }

    /// True when an update would produce a rate (a previous reading exists).
    pub(crate) fn has_baseline(&self) -> bool {
        self.baseline.is_some()
    }

    /// Takes a new reading (`cpu_ns` at time `at_ns`, both on the same clock as before) and
    /// returns the CPU percent since the previous one (100 = one core).
    ///
    /// `None` on the first reading, when the counter is absent, when it went backwards
    /// (a restart: this reading becomes the new baseline), or when no time has passed.
    pub(crate) fn update(&mut self, cpu_ns: Option<u64>, at_ns: u64) -> Option<f64> {
        let Some(cpu_ns) = cpu_ns else {
            self.baseline = None;
            return None;
        };
        let current = Baseline { cpu_ns, at_ns };
        let Some(prev) = self.baseline else {
            self.baseline = Some(current);
            return None;
        };
        if at_ns == prev.at_ns && cpu_ns >= prev.cpu_ns {
            // The same moment read twice: nothing to measure, keep the older baseline.
            return None;
        }
        self.baseline = Some(current);
        if cpu_ns < prev.cpu_ns || at_ns < prev.at_ns {
            return None;
        }
        metrics::cpu_percent(cpu_ns - prev.cpu_ns, at_ns - prev.at_ns)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const S: u64 = 1_000_000_000;

    #[test]
    fn first_reading_has_no_rate_then_rates_follow() {
        let mut rate = CpuRate::new();
        assert_eq!(rate.update(Some(0), 0), None);
        assert_eq!(rate.update(Some(S / 2), S), Some(50.0));
        assert_eq!(rate.update(Some(S / 2 + 2 * S), 2 * S), Some(200.0));
    }

    #[test]
    fn counter_going_backwards_restarts_without_a_spike() {
        let mut rate = CpuRate::new();
        rate.update(Some(10 * S), 0);
        assert_eq!(rate.update(Some(11 * S), S), Some(100.0));
        // The container restarted: a new cgroup counting from zero.
        assert_eq!(rate.update(Some(S / 10), 2 * S), None);
        // And the next step is measured against the restart reading.
        assert_eq!(rate.update(Some(S / 10 + S / 4), 3 * S), Some(25.0));
    }

    #[test]
    fn absent_counter_forgets_the_baseline() {
        let mut rate = CpuRate::new();
        rate.update(Some(S), 0);
        assert_eq!(rate.update(None, S), None);
        assert!(!rate.has_baseline());
        assert_eq!(rate.update(Some(2 * S), 2 * S), None);
        assert_eq!(rate.update(Some(3 * S), 3 * S), Some(100.0));
    }

    #[test]
    fn the_same_moment_twice_is_not_a_rate() {
        let mut rate = CpuRate::new();
        rate.update(Some(S), S);
        assert_eq!(rate.update(Some(S), S), None);
        assert_eq!(rate.update(Some(2 * S), 2 * S), Some(100.0));
    }

    #[test]
    fn clock_going_backwards_restarts() {
        let mut rate = CpuRate::new();
        rate.update(Some(S), 5 * S);
        assert_eq!(rate.update(Some(2 * S), 4 * S), None);
        assert_eq!(rate.update(Some(3 * S), 5 * S), Some(100.0));
    }

    #[test]
    fn starting_at_measures_the_average_since_start() {
        let mut rate = CpuRate::starting_at(0, 10 * S);
        assert_eq!(rate.update(Some(5 * S), 20 * S), Some(50.0));
        rate.reset();
        assert_eq!(rate.update(Some(6 * S), 21 * S), None);
    }
}
