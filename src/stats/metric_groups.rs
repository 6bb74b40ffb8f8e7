//! Which metric groups a read cycle covers, and the cgroup files each group needs: the
//! collector opens only those, and the plugin's `Metrics` option picks groups by name.

use crate::cgroup::files::{CgroupFile, FileSet};

/// Which metric groups a cycle reads; a group left out is neither read nor reported.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MetricGroups {
    /// The seed plugin's two numbers alone: CPU time (and its percent) and the kernel's
    /// memory usage, one file each (`cpuacct.usage` or `cpu.stat`, `memory.usage_in_bytes`
    /// or `memory.current`). `cpu` and `memory` read them too, with more.
    pub seed: bool,
    /// CPU time and percent.
    pub cpu: bool,
    /// Memory usage, working set, limit, percent.
    pub memory: bool,
    /// Process count.
    pub pids: bool,
    /// Block I/O bytes.
    pub blkio: bool,
    /// Network bytes from `/proc/<pid>/net/dev`.
    pub net: bool,
    /// OOM kills.
    pub oom: bool,
    /// CPU periods, throttling and the CPU quota (`cpu.stat`, `cpu.max` / `cpu.cfs_*`).
    pub throttle: bool,
    /// Pressure stall information (`cpu.pressure`, `memory.pressure`, `io.pressure`).
    pub pressure: bool,
    /// Memory events (`memory.events`, v1 `memory.failcnt` and `oom_control`) and swap.
    pub memevents: bool,
    /// Network packets, errors and drops (`/proc/<pid>/net/dev`, read with `net`).
    pub netdetail: bool,
    /// State numbers (state, exit code, restarts) and health: the state needs no file
    /// (every sample carries it); the health status is read from podman's health log, for
    /// containers with a health check (a `stat` a cycle, a read when it changed). A reader
    /// that reports them wants stopped containers listed too.
    pub state: bool,
}

impl MetricGroups {
    /// Every group: what the CLI's JSON carries.
    pub const ALL: MetricGroups = MetricGroups {
        seed: true,
        cpu: true,
        memory: true,
        pids: true,
        blkio: true,
        net: true,
        oom: true,
        throttle: true,
        pressure: true,
        memevents: true,
        netdetail: true,
        state: true,
    };

    /// The seed plugin's groups (cpu, memory, pids, blkio, net, oom): the plugin's default,
    /// whose cost per cycle the newer groups leave unchanged.
    pub const BASIC: MetricGroups = MetricGroups {
        cpu: true,
        memory: true,
        pids: true,
        blkio: true,
        net: true,
        oom: true,
        ..MetricGroups::NONE
    };

    /// No group: the start of a list that turns groups on one by one (the plugin's `Metrics`).
    pub const NONE: MetricGroups = MetricGroups {
        seed: false,
        cpu: false,
        memory: false,
        pids: false,
        blkio: false,
        net: false,
        oom: false,
        throttle: false,
        pressure: false,
        memevents: false,
        netdetail: false,
        state: false,
    };

    /// True when a cycle reads the container's cgroup at all.
    pub fn reads_cgroup(self) -> bool {
        !self.cgroup_files().is_empty()
    }

    /// True when a cycle reads the CPU time (and so computes a CPU percent).
    pub fn reads_cpu_time(self) -> bool {
        self.cpu || self.seed
    }

    /// True when a cycle reads `/proc/<pid>/net/dev`.
    pub fn reads_net(self) -> bool {
        self.net || self.netdetail
    }

    /// The cgroup files these groups need, on any layout (a file the layout does not have
    /// is simply not opened). Limit hits of v1 and I/O operation counts are not part of a
    /// [`Sample`](crate::stats::Sample) unless `memevents` asks, so their files are not opened.
    pub fn cgroup_files(self) -> FileSet {
        use CgroupFile::*;
        let mut set = FileSet::EMPTY;
        if self.seed {
            set = set.union(FileSet::of(&[
                CpuStatV2,
                CpuacctUsage,
                MemoryCurrent,
                MemoryUsageInBytes,
            ]));
        }
        if self.cpu {
            set = set.union(FileSet::of(&[
                CpuStatV2,
                CpuacctUsage,
                CpuacctUsageUser,
                CpuacctUsageSys,
                CpuacctStat,
            ]));
        }
        if self.memory {
            set = set.union(FileSet::of(&[
                MemoryCurrent,
                MemoryMax,
                MemoryStatV2,
                MemoryUsageInBytes,
                MemoryLimitInBytes,
                MemoryStatV1,
            ]));
        }
        if self.oom {
            set = set.union(FileSet::of(&[MemoryEvents, MemoryOomControl]));
        }
        if self.pids {
            set = set.union(FileSet::of(&[
                PidsCurrentV2,
                PidsCurrentV1,
                PidsMaxV2,
                PidsMaxV1,
            ]));
        }
        if self.throttle {
            set = set.union(FileSet::of(&[
                CpuStatV2,
                CpuMax,
                CpuStatV1,
                CpuCfsQuotaUs,
                CpuCfsPeriodUs,
            ]));
        }
        if self.pressure {
            set = set.union(FileSet::of(&[CpuPressure, MemoryPressure, IoPressure]));
        }
        if self.memevents {
            // v1's swap is a key of memory.stat.
            set = set.union(FileSet::of(&[
                MemoryEvents,
                MemorySwapCurrent,
                MemoryOomControl,
                MemoryFailcnt,
                MemoryStatV1,
            ]));
        }
        if self.blkio {
            set = set.union(FileSet::of(&[
                IoStat,
                BlkioServiceBytesRecursive,
                BlkioServiceBytes,
            ]));
        }
        set
    }
}

impl Default for MetricGroups {
    fn default() -> Self {
        Self::ALL
    }
}
