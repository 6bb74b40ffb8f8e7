//! Time and CPU count as the live host gives them.

/// A moment, on two clocks: wall time for "since start" arithmetic and output, monotonic
/// time for rates between cycles.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timestamp {
    /// Nanoseconds since the Unix epoch.
    pub wall_ns: u64,
    /// Nanoseconds on a clock that never jumps (live: `CLOCK_MONOTONIC`; replay: the
    /// snapshot's `taken_at_ns` again).
    pub mono_ns: u64,
}

impl Timestamp {
    /// The current time on both clocks.
    pub fn now() -> Self {
        Timestamp {
            wall_ns: clock_ns(libc::CLOCK_REALTIME),
            mono_ns: clock_ns(libc::CLOCK_MONOTONIC),
        }
    }

    /// A snapshot's time: both clocks read `taken_at_ns`.
    pub fn at(taken_at_ns: u64) -> Self {
        Timestamp {
            wall_ns: taken_at_ns,
            mono_ns: taken_at_ns,
        }
    }
}

fn clock_ns(clock: libc::clockid_t) -> u64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid, writable timespec and the clock ids are constants.
    let rc = unsafe { libc::clock_gettime(clock, &mut ts) };
    if rc != 0 {
        return 0;
    }
    u64::try_from(ts.tv_sec)
        .unwrap_or(0)
        .saturating_mul(1_000_000_000)
        .saturating_add(u64::try_from(ts.tv_nsec).unwrap_or(0))
}

/// Online CPUs this process may run on (`sched_getaffinity`), as podman's compat API counts.
pub(crate) fn online_cpus_live() -> Option<u32> {
    // SAFETY: a zeroed cpu_set_t is a valid empty set; the size passed is its own.
    let mut set: libc::cpu_set_t = unsafe { std::mem::zeroed() };
    let rc =
        unsafe { libc::sched_getaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &mut set) };
    if rc != 0 {
        return None;
    }
    // SAFETY: `set` was filled by the kernel above.
    let n = unsafe { libc::CPU_COUNT(&set) };
    u32::try_from(n).ok().filter(|&n| n > 0)
}
