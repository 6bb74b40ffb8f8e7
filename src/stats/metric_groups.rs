//! Which metric groups a read cycle covers, and the cgroup files each group needs: the
//! collector opens only those, and the plugin's `Metrics` option picks groups by name.

use crate::cgroup::files::{CgroupFile, FileSet};

/// Which metric groups a cycle reads; a group left out is neither read nor reported.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MetricGroups {
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
}

impl MetricGroups {
    /// Every group.
    pub const ALL: MetricGroups = MetricGroups {
        cpu: true,
        memory: true,
        pids: true,
        blkio: true,
        net: true,
        oom: true,
    };

    /// No group: the start of a list that turns groups on one by one (the plugin's `Metrics`).
    pub const NONE: MetricGroups = MetricGroups {
        cpu: false,
        memory: false,
        pids: false,
        blkio: false,
        net: false,
        oom: false,
    };

    /// The cgroup files these groups need, on any layout (a file the layout does not have
    /// is simply not opened). Throttling, pressure, limit hits and I/O operation counts are
    /// not part of a [`Sample`](crate::stats::Sample), so their files are never opened.
    pub fn cgroup_files(self) -> FileSet {
        use CgroupFile::*;
        let mut set = FileSet::EMPTY;
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
            set = set.union(FileSet::of(&[PidsCurrentV2, PidsCurrentV1]));
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
