//! Reading a cgroup on cgroup v2: one hierarchy, a file per controller interface.
//!
//! `cpu.stat` counts in microseconds (converted to ns); `nr_periods`/`nr_throttled`/
//! `throttled_usec` appear only when the cpu controller is enabled for the cgroup.
//! `memory.max`/`pids.max` say `max` for no limit. `io.stat` is summed over devices.

use super::files::CgroupFile::{self, *};
use super::reader::CgroupFileSource;
use super::stats::{CgroupStats, CpuStats, IoStats, MemoryStats, PidsStats, PressureStats};
use super::{error::CgroupError, memory_stat};
use crate::parse::{flat_keyed, nested_keyed, psi, single};

const NS_PER_US: u64 = 1000;

/// Fills `out` from the v2 files of the cgroup `src` reads.
pub(crate) fn read<S: CgroupFileSource>(
    src: &mut S,
    out: &mut CgroupStats,
) -> Result<(), CgroupError> {
    out.cpu = read_cpu(src)?;
    read_memory(src, &mut out.memory)?;
    out.pids = PidsStats {
        current: src.parse_file(PidsCurrentV2, single::u64)?,
        limit: src.parse_file(PidsMaxV2, single::limit)?,
    };
    out.io = read_io(src)?;
    read_pressure(src, &mut out.pressure)
}

/// Fills `pressure` from the unified hierarchy (on hybrid hosts, the one thing v1 lacks).
pub(crate) fn read_pressure<S: CgroupFileSource>(
    src: &mut S,
    pressure: &mut PressureStats,
) -> Result<(), CgroupError> {
    let mut one = |file: CgroupFile| src.parse_file(file, psi::parse);
    *pressure = PressureStats {
        cpu: one(CpuPressure)?,
        memory: one(MemoryPressure)?,
        io: one(IoPressure)?,
    };
    Ok(())
}

fn read_cpu<S: CgroupFileSource>(src: &mut S) -> Result<CpuStats, CgroupError> {
    let cpu = src.parse_file(CpuStatV2, |d| {
        let us = |v: u64| Some(v.saturating_mul(NS_PER_US));
        let mut cpu = CpuStats::default();
        flat_keyed::for_each(d, |k, v| match k {
            b"usage_usec" => cpu.usage_ns = us(v),
            b"user_usec" => cpu.user_ns = us(v),
            b"system_usec" => cpu.system_ns = us(v),
            b"nr_periods" => cpu.nr_periods = Some(v),
            b"nr_throttled" => cpu.nr_throttled = Some(v),
            b"throttled_usec" => cpu.throttled_ns = us(v),
            _ => {}
        })?;
        Ok(cpu)
    })?;
    let mut cpu = cpu.unwrap_or_default();
    if let Some((quota, period)) = src.parse_file(CpuMax, single::cpu_max)? {
        cpu.quota_us = Some(quota);
        cpu.period_us = Some(period);
    }
    Ok(cpu)
}

fn read_memory<S: CgroupFileSource>(
    src: &mut S,
    memory: &mut MemoryStats,
) -> Result<(), CgroupError> {
    memory.usage_bytes = src.parse_file(MemoryCurrent, single::u64)?;
    memory.limit = src.parse_file(MemoryMax, single::limit)?;
    memory_stat::fill(src, MemoryStatV2, &mut memory.stat)?;
    let events = src
        .parse_file(MemoryEvents, |d| {
            let mut e = [None; 5];
            flat_keyed::for_each(d, |k, v| {
                let slot = match k {
                    b"low" => 0,
                    b"high" => 1,
                    b"max" => 2,
                    b"oom" => 3,
                    b"oom_kill" => 4,
                    _ => return,
                };
                e[slot] = Some(v);
            })?;
            Ok(e)
        })?
        .unwrap_or([None; 5]);
    [
        memory.low_events,
        memory.high_events,
        memory.limit_hits,
        memory.oom_events,
        memory.oom_kills,
    ] = events;
    memory.swap_bytes = src.parse_file(MemorySwapCurrent, single::u64)?;
    Ok(())
}

fn read_io<S: CgroupFileSource>(src: &mut S) -> Result<IoStats, CgroupError> {
    let sums = src.parse_file(IoStat, |d| {
        nested_keyed::sum_keys(d, [b"rbytes", b"wbytes", b"rios", b"wios"])
    })?;
    // A present io.stat with no device lines means no I/O yet: zero, not unknown.
    let field = |i: usize| sums.map(|s| s[i].unwrap_or(0));
    Ok(IoStats {
        read_bytes: field(0),
        write_bytes: field(1),
        read_ops: field(2),
        write_ops: field(3),
    })
}
