//! Reading a cgroup on cgroup v1: each controller in its own hierarchy.
//!
//! cpu time from `cpuacct` (`cpuacct.usage`, `usage_user`/`usage_sys`, else `cpuacct.stat`
//! ticks), throttling from the `cpu` controller's `cpu.stat` and its quota from
//! `cpu.cfs_quota_us`/`cpu.cfs_period_us`, memory from `memory.*`
//! (unlimited is PAGE_COUNTER_MAX, a number near 2^63), pids from `pids.*`, block I/O from the
//! throttle policy's `blkio.throttle.*` files (the `_recursive` ones when the kernel has them).

use super::files::CgroupFile::*;
use super::reader::CgroupFileSource;
use super::stats::{CgroupStats, CpuStats, IoStats, MemoryStats, PidsStats};
use super::{error::CgroupError, memory_stat};
use crate::parse::{blkio, flat_keyed, single};

/// Nanoseconds per USER_HZ tick in `cpuacct.stat`; USER_HZ is 100 on every Linux ABI.
pub(super) const NS_PER_USER_HZ_TICK: u64 = 10_000_000;

/// Limits at or above this are "unlimited": the kernel writes PAGE_COUNTER_MAX
/// (`LONG_MAX / PAGE_SIZE`) in bytes, i.e. 9223372036854771712 with 4 KiB pages and a little
/// less with larger pages, and no real limit comes near 2^62 bytes.
pub(super) const UNLIMITED_FROM: u64 = 1 << 62;

/// Fills `out` (all but `pressure`) from the v1 files of the cgroup `src` reads.
pub(crate) fn read<S: CgroupFileSource>(
    src: &mut S,
    out: &mut CgroupStats,
) -> Result<(), CgroupError> {
    out.cpu = read_cpu(src)?;
    read_memory(src, &mut out.memory)?;
    out.pids = PidsStats {
        current: src.parse_file(PidsCurrentV1, single::u64)?,
        limit: src.parse_file(PidsMaxV1, single::limit)?,
    };
    out.io = read_io(src)?;
    Ok(())
}

fn read_cpu<S: CgroupFileSource>(src: &mut S) -> Result<CpuStats, CgroupError> {
    let mut cpu = CpuStats {
        usage_ns: src.parse_file(CpuacctUsage, single::u64)?,
        user_ns: src.parse_file(CpuacctUsageUser, single::u64)?,
        system_ns: src.parse_file(CpuacctUsageSys, single::u64)?,
        ..CpuStats::default()
    };
    if cpu.user_ns.is_none() || cpu.system_ns.is_none() {
        // Kernels before 4.7 have only the tick counts.
        if let Some((user, system)) = src.parse_file(CpuacctStat, |d| {
            let (mut user, mut system) = (None, None);
            flat_keyed::for_each(d, |k, v| match k {
                b"user" => user = Some(v.saturating_mul(NS_PER_USER_HZ_TICK)),
                b"system" => system = Some(v.saturating_mul(NS_PER_USER_HZ_TICK)),
                _ => {}
            })?;
            Ok((user, system))
        })? {
            cpu.user_ns = cpu.user_ns.or(user);
            cpu.system_ns = cpu.system_ns.or(system);
        }
    }
    if let Some((periods, throttled, time)) = src.parse_file(CpuStatV1, |d| {
        let (mut p, mut t, mut ns) = (None, None, None);
        flat_keyed::for_each(d, |k, v| match k {
            b"nr_periods" => p = Some(v),
            b"nr_throttled" => t = Some(v),
            b"throttled_time" => ns = Some(v),
            _ => {}
        })?;
        Ok((p, t, ns))
    })? {
        cpu.nr_periods = periods;
        cpu.nr_throttled = throttled;
        cpu.throttled_ns = time;
    }
    cpu.quota_us = src.parse_file(CpuCfsQuotaUs, single::cfs_quota)?;
    cpu.period_us = src.parse_file(CpuCfsPeriodUs, single::u64)?;
    Ok(cpu)
}

fn read_memory<S: CgroupFileSource>(
    src: &mut S,
    memory: &mut MemoryStats,
) -> Result<(), CgroupError> {
    memory.usage_bytes = src.parse_file(MemoryUsageInBytes, single::u64)?;
    memory.limit = src.parse_file(MemoryLimitInBytes, |d| single::limit_v1(d, UNLIMITED_FROM))?;
    memory_stat::fill(src, MemoryStatV1, &mut memory.stat)?;
    memory.oom_kills = src
        .parse_file(MemoryOomControl, |d| flat_keyed::get(d, b"oom_kill"))?
        .flatten();
    memory.limit_hits = src.parse_file(MemoryFailcnt, single::u64)?;
    // v1 has no counters of its own for these.
    memory.low_events = None;
    memory.high_events = None;
    memory.oom_events = None;
    memory.swap_bytes = memory.stat.get("total_swap").copied();
    Ok(())
}

fn read_io<S: CgroupFileSource>(src: &mut S) -> Result<IoStats, CgroupError> {
    let bytes = match src.parse_file(BlkioServiceBytesRecursive, blkio::sum_read_write)? {
        Some(b) => Some(b),
        None => src.parse_file(BlkioServiceBytes, blkio::sum_read_write)?,
    };
    let ops = match src.parse_file(BlkioServicedRecursive, blkio::sum_read_write)? {
        Some(o) => Some(o),
        None => src.parse_file(BlkioServiced, blkio::sum_read_write)?,
    };
    Ok(IoStats {
        read_bytes: bytes.map(|b| b.0),
        write_bytes: bytes.map(|b| b.1),
        read_ops: ops.map(|o| o.0),
        write_ops: ops.map(|o| o.1),
    })
}
